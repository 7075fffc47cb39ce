//! `GradScaler` against PyTorch's `torch.amp.GradScaler` on the scripted run of
//! tests/fixtures/grad_scaler_torch.json (written by grad_scaler_torch.py):
//! the scale of every step, which steps are skipped, the scale after each
//! update and the weights, for PyTorch's defaults and a short growth interval.

use neurite::optim::{GradScaler, Sgd, SgdConfig};
use neurite::{Device, Tensor};
use serde_json::Value;

fn value(v: &Value) -> f32 {
    match v.as_str() {
        Some("inf") => f32::INFINITY,
        Some("-inf") => f32::NEG_INFINITY,
        Some("nan") => f32::NAN,
        Some(other) => panic!("unexpected gradient {other}"),
        None => v.as_f64().unwrap() as f32,
    }
}

#[test]
fn the_scale_sequence_and_weights_match_pytorch() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/grad_scaler_torch.json");
    let f: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let dev = Device::cpu();
    for run in f["runs"].as_array().unwrap() {
        let w0: Vec<f32> = f["w0"].as_array().unwrap().iter().map(value).collect();
        let w = Tensor::from_vec(w0, 3, &dev).unwrap().requires_grad();
        let mut sgd = Sgd::new(vec![w.clone()], SgdConfig::new(f["lr"].as_f64().unwrap())).unwrap();
        let mut scaler = GradScaler::with(
            run["init_scale"].as_f64().unwrap(),
            run["growth_factor"].as_f64().unwrap(),
            run["backoff_factor"].as_f64().unwrap(),
            run["growth_interval"].as_u64().unwrap(),
        )
        .unwrap();
        for (i, s) in run["steps"].as_array().unwrap().iter().enumerate() {
            assert_eq!(scaler.get_scale(), s["scale"].as_f64().unwrap(), "scale at step {i}");
            let g: Vec<f32> = s["grad"].as_array().unwrap().iter().map(value).collect();
            let loss = Tensor::from_vec(g, 3, &dev)
                .unwrap()
                .mul(&w)
                .unwrap()
                .sum_all()
                .unwrap();
            let grads = scaler.scale(&loss).unwrap().backward().unwrap();
            let stepped = scaler.step(&mut sgd, grads).unwrap();
            assert_eq!(!stepped, s["skipped"].as_bool().unwrap(), "skipped at step {i}");
            scaler.update();
            assert_eq!(
                scaler.get_scale(),
                s["scale_after"].as_f64().unwrap(),
                "scale after step {i}"
            );
            let want: Vec<f32> = s["w"].as_array().unwrap().iter().map(value).collect();
            for (a, b) in w.to_vec1::<f32>().unwrap().iter().zip(&want) {
                assert!((a - b).abs() < 1e-6, "w at step {i}: {a} vs PyTorch {b}");
            }
        }
        let state = &run["state_dict"];
        assert_eq!(scaler.get_scale(), state["scale"].as_f64().unwrap());
        assert_eq!(scaler.growth_tracker(), state["_growth_tracker"].as_u64().unwrap());
        let saved = serde_json::to_string(&scaler).unwrap();
        let back: GradScaler = serde_json::from_str(&saved).unwrap();
        assert_eq!(back, scaler, "the scaler's state survives serialisation");
    }
}

#[test]
fn bad_settings_and_a_step_without_gradients_are_errors() {
    assert!(GradScaler::with(0.0, 2.0, 0.5, 10).is_err());
    assert!(GradScaler::with(8.0, 1.0, 0.5, 10).is_err());
    assert!(GradScaler::with(8.0, 2.0, 1.0, 10).is_err());
    assert!(GradScaler::with(8.0, 2.0, 0.5, 0).is_err());
    let dev = Device::cpu();
    let w = Tensor::from_vec(vec![1f32], 1, &dev).unwrap().requires_grad();
    let mut sgd = Sgd::new(vec![w.clone()], SgdConfig::new(0.1)).unwrap();
    let mut scaler = GradScaler::new();
    let err = scaler
        .step(&mut sgd, neurite::GradStore::new())
        .unwrap_err()
        .to_string();
    assert!(err.contains("no gradients"), "{err}");
}
