//! Gradient clipping compared with PyTorch's `clip_grad_norm_` and
//! `clip_grad_value_` (optim_fixtures.json).

use super::fixtures::{f64s, load, tensor, usizes};
use neurite::optim::{clip_grad_norm, clip_grad_norm_p, clip_grad_value};
use neurite::{DType, Device, GradStore, Tensor};
use serde_json::Value;

fn setup(case: &Value) -> (Vec<Tensor>, GradStore, DType) {
    let dtype = if case["dtype"] == "f64" { DType::F64 } else { DType::F32 };
    let shapes: Vec<Vec<usize>> = case["shapes"].as_array().unwrap().iter().map(usizes).collect();
    let params: Vec<Tensor> = shapes
        .iter()
        .map(|s| Tensor::zeros(s.clone(), dtype, &Device::cpu()).unwrap().requires_grad())
        .collect();
    let mut grads = GradStore::new();
    for ((p, g), s) in params.iter().zip(case["grads"].as_array().unwrap()).zip(&shapes) {
        grads.insert(p, tensor(&f64s(g), s, dtype));
    }
    (params, grads, dtype)
}

fn assert_close(what: &str, got: &[f64], want: &[f64], rel: f64) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= rel * (w.abs() + 1e-3),
            "{what}[{i}]: {g} vs PyTorch {w}"
        );
    }
}

#[test]
fn clip_grad_norm_matches_pytorch() {
    let fixtures = load("optim_fixtures.json");
    let cases: Vec<&Value> = fixtures["clipping"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["kind"] == "norm")
        .collect();
    assert!(cases.len() >= 10);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let (params, mut grads, dtype) = setup(case);
        let norm_type = match &case["norm_type"] {
            Value::String(s) if s == "inf" => f64::INFINITY,
            v => v.as_f64().unwrap(),
        };
        let max_norm = case["max_norm"].as_f64().unwrap();
        let total = if norm_type == 2.0 {
            clip_grad_norm(&mut grads, &params, max_norm).unwrap()
        } else {
            clip_grad_norm_p(&mut grads, &params, max_norm, norm_type).unwrap()
        };
        let rel = if dtype == DType::F64 { 1e-12 } else { 1e-6 };
        assert_close(
            &format!("{name} total norm"),
            &[total],
            &[case["total_norm"].as_f64().unwrap()],
            rel,
        );
        for (i, (p, want)) in params.iter().zip(case["clipped"].as_array().unwrap()).enumerate() {
            let got = grads.get(p).unwrap().to_vec::<f64>().unwrap();
            assert_close(&format!("{name} grad {i}"), &got, &f64s(want), rel);
        }
    }
}

#[test]
fn clip_grad_value_matches_pytorch() {
    let fixtures = load("optim_fixtures.json");
    for case in fixtures["clipping"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["kind"] == "value")
    {
        let (params, mut grads, _) = setup(case);
        clip_grad_value(&mut grads, &params, case["clip"].as_f64().unwrap()).unwrap();
        for (p, want) in params.iter().zip(case["clipped"].as_array().unwrap()) {
            // Clamping is exact.
            assert_eq!(
                grads.get(p).unwrap().to_vec::<f64>().unwrap(),
                f64s(want),
                "{}",
                case["name"]
            );
        }
    }
}

#[test]
fn clipping_ignores_params_without_grads_and_other_grads() {
    let dev = Device::cpu();
    let a = Tensor::zeros(2, DType::F32, &dev).unwrap().requires_grad();
    let b = Tensor::zeros(2, DType::F32, &dev).unwrap().requires_grad();
    let other = Tensor::zeros(1, DType::F32, &dev).unwrap().requires_grad();
    let mut grads = GradStore::new();
    grads.insert(&a, Tensor::from_slice(&[6f32, 8.0], 2, &dev).unwrap());
    grads.insert(&other, Tensor::from_slice(&[100f32], 1, &dev).unwrap());
    let norm = clip_grad_norm(&mut grads, &[a.clone(), b.clone()], 5.0).unwrap();
    assert!((norm - 10.0).abs() < 1e-6);
    let g = grads.get(&a).unwrap().to_vec::<f32>().unwrap();
    let scale = 5.0 / (10.0 + 1e-6);
    assert!((g[0] as f64 - 6.0 * scale).abs() < 1e-6 && (g[1] as f64 - 8.0 * scale).abs() < 1e-6);
    assert!(grads.get(&b).is_none());
    assert_eq!(
        grads.get(&other).unwrap().to_vec::<f32>().unwrap(),
        vec![100.0],
        "not in params: untouched"
    );
    assert_eq!(clip_grad_norm(&mut GradStore::new(), &[a], 1.0).unwrap(), 0.0);
}

#[test]
fn clipping_rejects_bad_arguments() {
    let dev = Device::cpu();
    let a = Tensor::zeros(2, DType::F32, &dev).unwrap().requires_grad();
    let mut grads = GradStore::new();
    grads.insert(&a, Tensor::ones(2, DType::F32, &dev).unwrap());
    let p = [a];
    for e in [
        clip_grad_norm(&mut grads, &p, -1.0).unwrap_err(),
        clip_grad_norm(&mut grads, &p, f64::NAN).unwrap_err(),
        clip_grad_norm_p(&mut grads, &p, 1.0, 0.0).unwrap_err(),
        clip_grad_norm_p(&mut grads, &p, 1.0, -2.0).unwrap_err(),
        clip_grad_value(&mut grads, &p, -0.5).unwrap_err(),
    ] {
        assert!(matches!(e, neurite::Error::InvalidArgument { .. }), "{e}");
    }
    assert_eq!(grads.get(&p[0]).unwrap().to_vec::<f32>().unwrap(), vec![1.0, 1.0]);
}
