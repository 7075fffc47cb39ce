//! `Display` for tensors against PyTorch's `str(t)` (tests/fixtures/display_torch.py).

use neurite::{DType, Device, Tensor};

fn dtype(name: &str) -> DType {
    match name {
        "float32" => DType::F32,
        "float64" => DType::F64,
        "float16" => DType::F16,
        "bfloat16" => DType::BF16,
        "int64" => DType::I64,
        other => panic!("fixture dtype {other}"),
    }
}

fn value(v: &serde_json::Value) -> f64 {
    match v.as_str() {
        Some("nan") => f64::NAN,
        Some("inf") => f64::INFINITY,
        Some("-inf") => f64::NEG_INFINITY,
        Some(other) => panic!("fixture value {other}"),
        None => v.as_f64().expect("a number"),
    }
}

fn build(case: &serde_json::Value) -> Tensor {
    let shape: Vec<usize> = case["shape"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_u64().unwrap() as usize)
        .collect();
    let values: Vec<f64> = case["values"].as_array().unwrap().iter().map(value).collect();
    let t = Tensor::from_vec(values, shape, &Device::cpu()).unwrap();
    let t = t.to_dtype(dtype(case["dtype"].as_str().unwrap())).unwrap();
    if case["requires_grad"].as_bool().unwrap() {
        t.requires_grad()
    } else {
        t
    }
}

#[test]
fn every_fixture_prints_as_pytorch_prints_it() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/display_torch.json");
    let fx: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let cases = fx["cases"].as_object().unwrap();
    assert!(cases.len() >= 25);
    let mut failures = Vec::new();
    for (name, case) in cases {
        let got = format!("{}", build(case));
        let want = case["text"].as_str().unwrap();
        if got != want {
            failures.push(format!("{name}:\n--- PyTorch\n{want}\n--- neurite\n{got}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} case(s) differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn the_formatter_precision_sets_the_digits() {
    let t = Tensor::from_vec(vec![1.23456f32, -2.5], 2, &Device::cpu()).unwrap();
    assert_eq!(format!("{t:.2}"), "tensor([ 1.23, -2.50])");
    assert_eq!(format!("{t}"), "tensor([ 1.2346, -2.5000])");
    assert_eq!(format!("{t:.6}"), "tensor([ 1.234560, -2.500000])");
}
