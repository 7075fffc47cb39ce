//! Reading the PyTorch fixture files (`tests/fixtures/*.json`): tensors as
//! `{"shape": [...], "data": [...]}` with non-finite values written as the
//! strings `"nan"`, `"inf"` and `"-inf"`, and the comparison the fixture tests share.

use neurite::{Device, Tensor};
use serde_json::Value;

/// The JSON of `tests/fixtures/<file>`.
pub fn load(file: &str) -> Value {
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let path = std::path::Path::new(&dir).join("tests/fixtures").join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A number, or one of the strings `"nan"`, `"inf"`, `"-inf"`.
pub fn number(v: &Value) -> f64 {
    match v.as_str() {
        Some("nan") => f64::NAN,
        Some("inf") => f64::INFINITY,
        Some("-inf") => f64::NEG_INFINITY,
        _ => v
            .as_f64()
            .unwrap_or_else(|| panic!("{v} is not a number or nan/inf/-inf")),
    }
}

/// An array of numbers.
pub fn floats(v: &Value) -> Vec<f64> {
    v.as_array().expect("an array of numbers").iter().map(number).collect()
}

/// A tensor's `shape`.
pub fn shape(v: &Value) -> Vec<usize> {
    v["shape"]
        .as_array()
        .expect("a shape array")
        .iter()
        .map(|d| d.as_u64().expect("a dim") as usize)
        .collect()
}

/// An f64 CPU tensor.
pub fn tensor(v: &Value) -> Tensor {
    Tensor::from_vec(floats(&v["data"]), shape(v), &Device::cpu()).unwrap()
}

/// An array of integers.
pub fn ints(v: &Value) -> Vec<i64> {
    v.as_array()
        .expect("an array of integers")
        .iter()
        .map(|x| x.as_i64().expect("an integer"))
        .collect()
}

/// An array of booleans.
pub fn bools(v: &Value) -> Vec<bool> {
    v.as_array()
        .expect("an array of booleans")
        .iter()
        .map(|x| x.as_bool().expect("a boolean"))
        .collect()
}

/// An i64 CPU tensor (indices).
pub fn indices(v: &Value) -> Tensor {
    Tensor::from_vec(ints(&v["data"]), shape(v), &Device::cpu()).unwrap()
}

/// `got` against PyTorch's `want` within `1e-9` (absolute plus relative).
pub fn assert_close(name: &str, what: &str, got: &[f64], want: &[f64]) {
    assert_close_tol(name, what, got, want, 1e-9);
}

/// `got` against `want` within `tol * (1 + |want|)`; NaN matches NaN and an
/// infinity must match exactly.
pub fn assert_close_tol(name: &str, what: &str, got: &[f64], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len(), "{name} {what}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let ok = if w.is_finite() {
            (g - w).abs() <= tol * (1.0 + w.abs())
        } else {
            (w.is_nan() && g.is_nan()) || g == w
        };
        assert!(ok, "{name} {what}[{i}]: {g} vs PyTorch {w}");
    }
}
