//! sort, argsort, topk, kthvalue, cumsum and cumprod against PyTorch
//! (tests/fixtures/sort_torch.json, written by tests/fixtures/sort_torch.py):
//! values and indices exactly (the fixtures sort with `stable=True`), values and
//! gradients within 1e-5 (f32: PyTorch's CPU running sums accumulate in f64) or
//! 1e-12 (f64).

use crate::fixture_json::{assert_close_tol, floats, load, shape};
use neurite::{DType, Device, Result, Tensor};
use serde_json::Value;

fn dim(args: &Value) -> i64 {
    args["dim"].as_i64().unwrap()
}

/// `(values, indices)` of the case's op; either may be absent.
fn run_op(op: &str, args: &Value, x: &Tensor) -> Result<(Option<Tensor>, Option<Tensor>)> {
    let flag = |k: &str| args[k].as_bool().unwrap();
    let k = || args["k"].as_u64().unwrap() as usize;
    Ok(match op {
        "sort" => {
            let (v, i) = x.sort(dim(args), flag("descending"))?;
            (Some(v), Some(i))
        }
        "argsort" => (None, Some(x.argsort(dim(args), flag("descending"))?)),
        "topk" => {
            let (v, i) = x.topk(k(), dim(args), flag("largest"), true)?;
            (Some(v), Some(i))
        }
        "kthvalue" => {
            let (v, i) = x.kthvalue(k(), dim(args), flag("keepdim"))?;
            (Some(v), Some(i))
        }
        "cumsum" => (Some(x.cumsum(dim(args))?), None),
        "cumprod" => (Some(x.cumprod(dim(args))?), None),
        other => panic!("unknown fixture op {other}"),
    })
}

#[test]
fn every_case_matches_pytorch() {
    let fixtures = load("sort_torch.json");
    let cases = fixtures["cases"].as_array().expect("cases");
    assert!(cases.len() >= 40, "only {} cases", cases.len());
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let (dtype, tol) = match case["dtype"].as_str().unwrap() {
            "float32" => (DType::F32, 1e-5),
            "float64" => (DType::F64, 1e-12),
            other => panic!("{name}: dtype {other}"),
        };
        let input = &case["input"];
        let x = Tensor::from_vec(floats(&input["data"]), shape(input), &Device::cpu())
            .and_then(|t| t.to_dtype(dtype))
            .unwrap()
            .requires_grad();
        let (values, indices) = run_op(case["op"].as_str().unwrap(), &case["args"], &x).unwrap();
        if let Some(i) = &indices {
            let want = &case["indices"];
            assert_eq!(i.dims(), shape(want).as_slice(), "{name}: indices shape");
            let want: Vec<i64> = floats(&want["data"]).iter().map(|&v| v as i64).collect();
            assert_eq!(i.to_vec::<i64>().unwrap(), want, "{name}: indices");
        }
        if let Some(v) = values {
            let want = &case["values"];
            assert_eq!(v.dims(), shape(want).as_slice(), "{name}: values shape");
            assert_close_tol(name, "values", &v.to_vec::<f64>().unwrap(), &floats(&want["data"]), tol);
            let n = v.elem_count();
            let step = if n > 1 { 2.0 / (n - 1) as f64 } else { 0.0 };
            let w: Vec<f64> = (0..n).map(|j| -1.0 + step * j as f64).collect();
            let w = Tensor::from_vec(w, v.dims(), &Device::cpu())
                .and_then(|t| t.to_dtype(dtype))
                .unwrap();
            let grads = v.mul(&w).unwrap().sum_all().unwrap().backward().unwrap();
            let g = grads.get(&x).expect("a gradient").to_vec::<f64>().unwrap();
            assert_close_tol(name, "grad", &g, &floats(&case["grad"]["data"]), tol);
        }
    }
}
