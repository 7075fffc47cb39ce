//! The issue-13 element-wise ops, multi-dim reductions and 1-D matmul cases
//! against PyTorch (tests/fixtures/ops_elementwise.json, written by
//! tests/fixtures/ops_elementwise.py): outputs and the gradients of
//! `sum(out * linspace(-1, 1, n))`, in f64. Non-finite values are the strings
//! "nan", "inf" and "-inf", and must match as such.

use crate::fixture_json::{assert_close, floats, load, tensor};
use neurite::{DType, Device, Result, Tensor};
use serde_json::Value;

/// The neurite form of each fixture case.
fn op(name: &str, x: &[Tensor]) -> Result<Tensor> {
    match name {
        "erf" => x[0].erf(),
        "sin" => x[0].sin(),
        "cos" => x[0].cos(),
        "silu" => x[0].silu(),
        "gelu_none" => x[0].gelu_approximate("none"),
        "gelu_tanh" => x[0].gelu_approximate("tanh"),
        "pow_broadcast" | "pow_negative_and_zero_bases" => x[0].pow(&x[1]),
        "pow_scalar_2_5" => x[0].pow(2.5),
        "pow_scalar_3_negative_bases" => x[0].pow(3),
        "pow_scalar_0" => x[0].pow(0),
        "clamp" => x[0].clamp(-0.5, 0.5),
        "clamp_min_above_max" => x[0].clamp(1.0, -1.0),
        "clamp_min" => x[0].clamp_min(0.2),
        "clamp_max" => x[0].clamp_max(-0.3),
        "amax_0_2" => x[0].max_dims(&[0i64, 2], false),
        "amax_neg1_0_keepdim" => x[0].max_dims(&[-1i64, 0], true),
        "amin_1_2_keepdim" => x[0].min_dims(&[1i64, 2], true),
        "amax_ties_1_2" => x[0].max_dims(&[1i64, 2], false),
        "amin_ties_0_1" => x[0].min_dims(&[0i64, 1], false),
        "sum_0_2_keepdim" => x[0].sum_dims(&[0i64, 2], true),
        "mean_neg1_0" => x[0].mean_dims(&[-1i64, 0], false),
        n if n.starts_with("matmul_") => x[0].matmul(&x[1]),
        other => panic!("fixture case {other} has no neurite form"),
    }
}

fn run_case(case: &Value) {
    let name = case["name"].as_str().unwrap();
    let inputs: Vec<Tensor> = case["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| tensor(v).requires_grad())
        .collect();
    let out = op(name, &inputs).unwrap();
    let want_out = tensor(&case["output"]);
    assert_eq!(out.dims(), want_out.dims(), "{name}: output shape");
    assert_close(
        name,
        "output",
        &out.to_vec::<f64>().unwrap(),
        &want_out.to_vec::<f64>().unwrap(),
    );
    let n = out.elem_count();
    let weight = Tensor::arange(0.0, n as f64, 1.0, DType::F64, &Device::cpu())
        .unwrap()
        .affine(if n > 1 { 2.0 / (n - 1) as f64 } else { 0.0 }, -1.0)
        .unwrap()
        .reshape(out.shape())
        .unwrap();
    let grads = out.mul(&weight).unwrap().sum_all().unwrap().backward().unwrap();
    for (i, (x, want)) in inputs.iter().zip(case["grads"].as_array().unwrap()).enumerate() {
        let g = grads.get(x).expect("gradient").to_vec::<f64>().unwrap();
        assert_close(name, &format!("grad {i}"), &g, &floats(want));
    }
}

fn run_prefix(prefix: &str) {
    let fixtures = load("ops_elementwise.json");
    let cases: Vec<&Value> = fixtures["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["name"].as_str().unwrap().starts_with(prefix))
        .collect();
    assert!(!cases.is_empty(), "no fixture case starts with {prefix}");
    for case in cases {
        run_case(case);
    }
}

#[test]
fn unary_maps() {
    for name in ["erf", "sin", "cos", "silu", "gelu_none", "gelu_tanh"] {
        run_prefix(name);
    }
}

#[test]
fn pow() {
    run_prefix("pow_");
}

#[test]
fn clamp() {
    run_prefix("clamp");
}

#[test]
fn multi_dim_reductions() {
    for prefix in ["amax_", "amin_", "sum_", "mean_"] {
        run_prefix(prefix);
    }
}

#[test]
fn matmul_vector_cases() {
    run_prefix("matmul_");
}

#[test]
fn every_case_is_checked() {
    let fixtures = load("ops_elementwise.json");
    let known = [
        "erf", "sin", "cos", "silu", "gelu_", "pow_", "clamp", "amax_", "amin_", "sum_", "mean_", "matmul_",
    ];
    for c in fixtures["cases"].as_array().unwrap() {
        let name = c["name"].as_str().unwrap();
        assert!(
            known.iter().any(|p| name.starts_with(p)),
            "case {name} is run by no test"
        );
    }
}
