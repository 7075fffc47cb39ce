//! Casts between every dtype pair, integer floor division and remainder with
//! negative operands, wrapping integer arithmetic and masked_fill's gradient,
//! against PyTorch (tests/fixtures/dtypes_torch.json, written by
//! tests/fixtures/dtypes_torch.py).

use crate::fixture_json::{assert_close, bools, floats, ints, load};
use neurite::{DType, Device, Tensor};
use serde_json::Value;

fn dtype(name: &str) -> DType {
    match name {
        "f32" => DType::F32,
        "f64" => DType::F64,
        "i64" => DType::I64,
        "i32" => DType::I32,
        "i8" => DType::I8,
        "u8" => DType::U8,
        "bool" => DType::Bool,
        other => panic!("dtype {other}"),
    }
}

/// The fixture's values (numbers or booleans) as a CPU tensor of `dtype`.
fn source(values: &Value, dtype: DType) -> Tensor {
    let n = values.as_array().expect("an array").len();
    let dev = Device::cpu();
    let t = match dtype {
        DType::Bool => Tensor::from_vec(bools(values), n, &dev),
        DType::F64 => Tensor::from_vec(floats(values), n, &dev),
        _ => Tensor::from_vec(ints(values), n, &dev).and_then(|t| t.to_dtype(dtype)),
    };
    t.unwrap()
}

/// Numbers, with `true`/`false` read as 1/0.
fn numbers(values: &Value) -> Vec<f64> {
    values
        .as_array()
        .expect("an array")
        .iter()
        .map(|v| match v.as_bool() {
            Some(b) => f64::from(u8::from(b)),
            None => v.as_f64().expect("a number or a bool"),
        })
        .collect()
}

#[test]
fn every_cast_matches_pytorch() {
    let fixtures = load("dtypes_torch.json");
    let casts = fixtures["casts"].as_array().expect("casts");
    assert_eq!(casts.len(), 21, "3 sources x 7 targets");
    for case in casts {
        let (from, to) = (case["from"].as_str().unwrap(), case["to"].as_str().unwrap());
        let src = source(&case["input"], dtype(from));
        let out = src.to_dtype(dtype(to)).unwrap();
        assert_eq!(out.dtype(), dtype(to));
        let got = out.to_vec::<f64>().unwrap();
        // Exact: every value is representable in f64 and PyTorch rounds the same way.
        assert_eq!(got, numbers(&case["output"]), "{from} -> {to}");
    }
}

#[test]
fn integer_division_matches_pytorch() {
    let d = &load("dtypes_torch.json")["division"];
    let dev = Device::cpu();
    let a = Tensor::from_vec(ints(&d["a"]), ints(&d["a"]).len(), &dev).unwrap();
    let b = Tensor::from_vec(ints(&d["b"]), ints(&d["b"]).len(), &dev).unwrap();
    for (wide, dt) in [(DType::I64, "i64"), (DType::I32, "i32")] {
        let (a, b) = (a.to_dtype(wide).unwrap(), b.to_dtype(wide).unwrap());
        let fd = a.floor_divide(&b).unwrap();
        assert_eq!(fd.dtype(), wide);
        assert_eq!(
            fd.to_vec::<i64>().unwrap(),
            ints(&d["floor_divide"]),
            "{dt} floor_divide"
        );
        assert_eq!(
            a.remainder(&b).unwrap().to_vec::<i64>().unwrap(),
            ints(&d["remainder"]),
            "{dt} remainder"
        );
        let q = a.div(&b).unwrap();
        assert!(q.dtype().is_float(), "div of integers is true division");
        assert_close("div", dt, &q.to_vec::<f64>().unwrap(), &floats(&d["div"]));
    }
    let i8s = |k: &str| source(&d[k], DType::I8);
    let (a8, b8) = (i8s("i8_a"), i8s("i8_b"));
    assert_eq!(
        a8.floor_divide(&b8).unwrap().to_vec::<i64>().unwrap(),
        ints(&d["i8_floor_divide"])
    );
    assert_eq!(
        a8.remainder(&b8).unwrap().to_vec::<i64>().unwrap(),
        ints(&d["i8_remainder"])
    );
    let (fa, fb) = (source(&d["float_a"], DType::F64), source(&d["float_b"], DType::F64));
    assert_close(
        "floor_divide",
        "f64",
        &fa.floor_divide(&fb).unwrap().to_vec::<f64>().unwrap(),
        &floats(&d["float_floor_divide"]),
    );
    assert_close(
        "remainder",
        "f64",
        &fa.remainder(&fb).unwrap().to_vec::<f64>().unwrap(),
        &floats(&d["float_remainder"]),
    );
}

#[test]
fn integer_arithmetic_wraps_like_pytorch() {
    let w = &load("dtypes_torch.json")["wrapping"];
    let u = |k: &str| source(&w[k], DType::U8);
    let i = |k: &str| source(&w[k], DType::I8);
    let add = u("u8_a").add(&u("u8_b")).unwrap();
    assert_eq!(add.dtype(), DType::U8);
    assert_eq!(add.to_vec::<i64>().unwrap(), ints(&w["u8_add"]));
    assert_eq!(
        u("u8_a").sub(&u("u8_b")).unwrap().to_vec::<i64>().unwrap(),
        ints(&w["u8_sub"])
    );
    assert_eq!(
        i("i8_a").mul(&i("i8_b")).unwrap().to_vec::<i64>().unwrap(),
        ints(&w["i8_mul"])
    );
    let neg_src = Tensor::from_vec(vec![100i8, -100, -128], 3, &Device::cpu()).unwrap();
    assert_eq!(neg_src.neg().unwrap().to_vec::<i64>().unwrap(), ints(&w["i8_neg"]));
    // PyTorch sums small integers into i64, so three 100s are 300, not a wrapped i8.
    let s = Tensor::from_vec(vec![100i8; 3], 3, &Device::cpu())
        .unwrap()
        .sum_all()
        .unwrap();
    assert_eq!(s.dtype(), DType::I64);
    assert_eq!(s.to_vec::<i64>().unwrap(), vec![w["i8_sum"].as_i64().unwrap()]);
}

#[test]
fn masked_fill_forward_and_gradient_match_pytorch() {
    let m = &load("dtypes_torch.json")["masked_fill"];
    let dev = Device::cpu();
    let dims = |k: &str| ints(&m[k]).iter().map(|&d| d as usize).collect::<Vec<_>>();
    let x = Tensor::from_vec(floats(&m["x"]), dims("shape"), &dev)
        .unwrap()
        .requires_grad();
    let mask = Tensor::from_vec(bools(&m["mask"]), dims("mask_shape"), &dev).unwrap();
    let y = x.masked_fill(&mask, m["value"].as_f64().unwrap()).unwrap();
    assert_close(
        "masked_fill",
        "output",
        &y.to_vec::<f64>().unwrap(),
        &floats(&m["output"]),
    );
    let n = y.elem_count();
    // torch.linspace(-1, 1, n), the fixture's weight on the output.
    let w: Vec<f64> = (0..n).map(|i| -1.0 + 2.0 * i as f64 / (n - 1) as f64).collect();
    let weight = Tensor::from_vec(w, y.dims(), &dev).unwrap();
    let grads = y.mul(&weight).unwrap().sum_all().unwrap().backward().unwrap();
    let g = grads.get(&x).unwrap().to_vec::<f64>().unwrap();
    assert_close("masked_fill", "grad", &g, &floats(&m["grad"]));
}
