//! Reading tests/fixtures/nn_fixtures.json (written by nn_fixtures.py with PyTorch, in f64).

use neurite::{DType, Device, Tensor};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::OnceLock;

/// The fixture case called `name`.
pub fn case(name: &str) -> &'static Value {
    static ALL: OnceLock<Value> = OnceLock::new();
    let all = ALL.get_or_init(|| {
        let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
        let path = std::path::Path::new(&dir).join("tests/fixtures/nn_fixtures.json");
        serde_json::from_str(&std::fs::read_to_string(&path).expect("fixture file")).expect("fixture JSON")
    });
    let c = &all["cases"][name];
    assert!(
        !c.is_null(),
        "fixture case {name} missing: rerun tests/fixtures/nn_fixtures.py"
    );
    c
}

fn shape(v: &Value) -> Vec<usize> {
    v["shape"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_u64().unwrap() as usize)
        .collect()
}

/// An f64 tensor from `{"shape", "data"}` (an `I64` one when `"dtype"` says so).
pub fn tensor(v: &Value) -> Tensor {
    let data = v["data"].as_array().unwrap();
    if v["dtype"] == "i64" {
        let d: Vec<i64> = data.iter().map(|x| x.as_i64().unwrap()).collect();
        return Tensor::from_vec(d, shape(v), &Device::cpu()).unwrap();
    }
    let d: Vec<f64> = data.iter().map(|x| x.as_f64().unwrap()).collect();
    Tensor::from_vec(d, shape(v), &Device::cpu()).unwrap()
}

/// An `I64` tensor from `{"shape", "data"}`.
pub fn ids(v: &Value) -> Tensor {
    let d: Vec<i64> = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_i64().unwrap())
        .collect();
    Tensor::from_vec(d, shape(v), &Device::cpu()).unwrap()
}

/// `{name: tensor}` from a JSON object of tensors.
pub fn tensor_map(v: &Value) -> HashMap<String, Tensor> {
    v.as_object()
        .unwrap()
        .iter()
        .map(|(k, t)| (k.clone(), tensor(t)))
        .collect()
}

/// Asserts `got` equals the fixture tensor `want` in shape and values (relative and absolute `tol`).
pub fn assert_tensor(what: &str, got: &Tensor, want: &Value, tol: f64) {
    let want_t = tensor(want);
    assert_eq!(got.dims(), want_t.dims(), "{what}: shape");
    assert_close(
        what,
        &got.to_vec::<f64>().unwrap(),
        &want_t.to_vec::<f64>().unwrap(),
        tol,
    );
}

/// Element-wise closeness with a mixed absolute/relative tolerance.
pub fn assert_close(what: &str, got: &[f64], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= tol * (1.0 + w.abs()),
            "{what}[{i}]: got {g}, PyTorch {w}"
        );
    }
}

/// `sum(out * linspace(-1, 1))`: the scalar the fixtures back-propagate.
pub fn weighted_sum(out: &Tensor) -> Tensor {
    let n = out.elem_count();
    let w = Tensor::arange(0.0, n as f64, 1.0, DType::F64, &Device::cpu())
        .unwrap()
        .affine(if n > 1 { 2.0 / (n - 1) as f64 } else { 0.0 }, -1.0)
        .unwrap()
        .reshape(out.shape())
        .unwrap()
        .to_dtype(out.dtype())
        .unwrap();
    out.mul(&w).unwrap().sum_all().unwrap()
}
