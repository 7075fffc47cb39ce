//! sort, argsort, topk, kthvalue, cumsum and cumprod against PyTorch
//! (tests/fixtures/sort_torch.json, written by tests/fixtures/sort_torch.py):
//! values and indices exactly (the fixtures sort with `stable=True`), values and
//! gradients within 1e-5 (f32: PyTorch's CPU running sums accumulate in f64) or
//! 1e-12 (f64).

use neurite::{DType, Device, Result, Tensor};
use serde_json::Value;

const FIXTURE: &str = "tests/fixtures/sort_torch.json";

fn load() -> Value {
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let path = std::path::Path::new(&dir).join(FIXTURE);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run tests/fixtures/sort_torch.py)", path.display()));
    serde_json::from_str(&text).expect("fixture JSON")
}

fn num(v: &Value) -> f64 {
    match v {
        Value::String(s) if s == "nan" => f64::NAN,
        Value::String(s) if s == "inf" => f64::INFINITY,
        Value::String(s) if s == "-inf" => f64::NEG_INFINITY,
        other => other.as_f64().expect("a number"),
    }
}

fn shape(v: &Value) -> Vec<usize> {
    v["shape"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_u64().unwrap() as usize)
        .collect()
}

fn data(v: &Value) -> Vec<f64> {
    v["data"].as_array().unwrap().iter().map(num).collect()
}

fn assert_close(name: &str, what: &str, got: &[f64], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len(), "{name} {what}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let ok = if w.is_nan() {
            g.is_nan()
        } else {
            (g - w).abs() <= tol * (1.0 + w.abs())
        };
        assert!(ok, "{name} {what}[{i}]: {g} vs PyTorch {w}");
    }
}

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
    let fixtures = load();
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
        let x = Tensor::from_vec(data(input), shape(input), &Device::cpu())
            .and_then(|t| t.to_dtype(dtype))
            .unwrap()
            .requires_grad();
        let (values, indices) = run_op(case["op"].as_str().unwrap(), &case["args"], &x).unwrap();
        if let Some(i) = &indices {
            let want = &case["indices"];
            assert_eq!(i.dims(), shape(want).as_slice(), "{name}: indices shape");
            let want: Vec<i64> = data(want).iter().map(|&v| v as i64).collect();
            assert_eq!(i.to_vec::<i64>().unwrap(), want, "{name}: indices");
        }
        if let Some(v) = values {
            let want = &case["values"];
            assert_eq!(v.dims(), shape(want).as_slice(), "{name}: values shape");
            assert_close(name, "values", &v.to_vec::<f64>().unwrap(), &data(want), tol);
            let n = v.elem_count();
            let step = if n > 1 { 2.0 / (n - 1) as f64 } else { 0.0 };
            let w: Vec<f64> = (0..n).map(|j| -1.0 + step * j as f64).collect();
            let w = Tensor::from_vec(w, v.dims(), &Device::cpu())
                .and_then(|t| t.to_dtype(dtype))
                .unwrap();
            let grads = v.mul(&w).unwrap().sum_all().unwrap().backward().unwrap();
            let g = grads.get(&x).expect("a gradient").to_vec::<f64>().unwrap();
            assert_close(name, "grad", &g, &data(&case["grad"]), tol);
        }
    }
}
