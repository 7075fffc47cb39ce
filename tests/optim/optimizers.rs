//! Parameter trajectories compared with PyTorch's (optim_fixtures.json), in
//! f32 and f64, for every optimizer configuration of the fixture file.

use super::fixtures::{f64s, load, optimizer, tensor, usizes};
use neurite::{DType, GradStore, Result, Tensor};
use serde_json::Value;

/// The fixture's "quadratic" loss, whose gradient depends on the parameters.
fn quadratic_loss(p: &[Tensor]) -> Result<Tensor> {
    let (a, b) = (&p[0], &p[1]);
    let target = Tensor::from_slice(&[0.5, -1.0, 2.0], 3, &a.device())?.to_dtype(a.dtype())?;
    let fit = a.mul_scalar(1.5)?.sub(&target)?.sqr()?.sum_all()?;
    let shaped = b.tanh()?.mul(b)?.sum_all()?;
    let b01 = b.flatten_all()?.narrow(0, 1, 1)?;
    let coupling = a.sum_all()?.mul(&b01)?.sqr()?.sum_all()?;
    fit.add(&shaped)?.add(&coupling)
}

/// Largest `|got - want| / (|want| + 0.1 * scale)` over the values, where
/// `scale` is the tensor's largest magnitude (at least 1): an error `e` means
/// `|got - want| <= e * |want| + e / 10 * scale`. The scale term covers values
/// that arose by cancellation from larger ones; PyTorch's CPU kernels use fused
/// multiply-adds in places, so f32 results agree to an ulp or so, not bitwise.
fn rel_err(got: &[f64], want: &[f64]) -> f64 {
    assert_eq!(got.len(), want.len());
    let scale = want.iter().fold(1.0f64, |m, w| m.max(w.abs()));
    got.iter()
        .zip(want)
        .map(|(g, w)| (g - w).abs() / (w.abs() + 0.1 * scale))
        .fold(0.0, f64::max)
}

/// Replays one case in `dtype`; returns the largest relative error seen.
fn replay(case: &Value, dtype: DType, key: &str) -> f64 {
    let name = case["name"].as_str().unwrap();
    let shapes: Vec<Vec<usize>> = case["shapes"].as_array().unwrap().iter().map(usizes).collect();
    let params: Vec<Tensor> = case["initial"]
        .as_array()
        .unwrap()
        .iter()
        .zip(&shapes)
        .map(|(v, s)| tensor(&f64s(v), s, dtype).requires_grad())
        .collect();
    let mut opt = optimizer(case["optimizer"].as_str().unwrap(), &case["hyper"], params.clone());
    let data = &case[key];
    let mut worst: f64 = 0.0;
    for (k, (grads_want, traj)) in data["grads"]
        .as_array()
        .unwrap()
        .iter()
        .zip(data["trajectory"].as_array().unwrap())
        .enumerate()
    {
        let grads = if case["source"] == "quadratic" {
            let g = quadratic_loss(&params).unwrap().backward().unwrap();
            for (i, (p, w)) in params.iter().zip(grads_want.as_array().unwrap()).enumerate() {
                let got = g.get(p).expect("gradient").to_vec::<f64>().unwrap();
                let e = rel_err(&got, &f64s(w));
                assert!(
                    e < 1e-5,
                    "{name} {key} step {k}: gradient {i} differs from PyTorch's (rel {e:e})"
                );
            }
            g
        } else {
            let mut g = GradStore::new();
            for ((p, w), s) in params.iter().zip(grads_want.as_array().unwrap()).zip(&shapes) {
                if !w.is_null() {
                    g.insert(p, tensor(&f64s(w), s, dtype));
                }
            }
            g
        };
        opt.step(&grads).unwrap();
        for (i, (p, w)) in params.iter().zip(traj.as_array().unwrap()).enumerate() {
            let got = p.to_vec::<f64>().unwrap();
            let e = rel_err(&got, &f64s(w));
            worst = worst.max(e);
            let tol = if dtype == DType::F64 { 1e-12 } else { 1e-6 };
            assert!(
                e <= tol,
                "{name} {key} step {k} param {i}: {got:?} vs PyTorch {:?} (rel {e:e})",
                f64s(w)
            );
        }
    }
    worst
}

fn run_optimizer(kind: &str) {
    let fixtures = load("optim_fixtures.json");
    let cases: Vec<&Value> = fixtures["optimizers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["optimizer"] == kind)
        .collect();
    assert!(cases.len() >= 4, "{kind}: expected several fixture configurations");
    for case in cases {
        let e32 = replay(case, DType::F32, "f32");
        let e64 = replay(case, DType::F64, "f64");
        println!("{}: worst relative error f32 {e32:.2e}, f64 {e64:.2e}", case["name"]);
    }
}

#[test]
fn sgd_matches_pytorch() {
    run_optimizer("sgd");
}

#[test]
fn adam_matches_pytorch() {
    run_optimizer("adam");
}

#[test]
fn adamw_matches_pytorch() {
    run_optimizer("adamw");
}

#[test]
fn rmsprop_matches_pytorch() {
    run_optimizer("rmsprop");
}

#[test]
fn skipped_parameters_keep_their_values_and_state() {
    use neurite::optim::{Adam, AdamConfig, Optimizer};
    let dev = neurite::Device::cpu();
    let a = Tensor::from_slice(&[1f32, 2.0], 2, &dev).unwrap().requires_grad();
    let b = Tensor::from_slice(&[3f32], 1, &dev).unwrap().requires_grad();
    let mut opt = Adam::new(vec![a.clone(), b.clone()], AdamConfig::new(0.1)).unwrap();
    let mut g = GradStore::new();
    g.insert(&a, Tensor::from_slice(&[1f32, -1.0], 2, &dev).unwrap());
    opt.step(&g).unwrap();
    assert_eq!(b.to_vec::<f32>().unwrap(), vec![3.0]);
    let state = opt.state().unwrap();
    assert_eq!(
        state.params.keys().copied().collect::<Vec<_>>(),
        vec![0],
        "only parameter 0 has state"
    );
    assert_eq!(state.params[&0].step, 1);
    assert_eq!(opt.step_count(), 1);
}

#[test]
fn gradient_shape_mismatch_is_an_error_and_changes_nothing() {
    use neurite::optim::{Optimizer, Sgd, SgdConfig};
    let dev = neurite::Device::cpu();
    let a = Tensor::from_slice(&[1f32, 2.0], 2, &dev).unwrap().requires_grad();
    let b = Tensor::from_slice(&[3f32], 1, &dev).unwrap().requires_grad();
    let mut opt = Sgd::new(vec![a.clone(), b.clone()], SgdConfig::new(0.1)).unwrap();
    let mut g = GradStore::new();
    g.insert(&a, Tensor::from_slice(&[1f32, 1.0], 2, &dev).unwrap());
    g.insert(&b, Tensor::from_slice(&[1f32, 1.0], 2, &dev).unwrap());
    let err = opt.step(&g).unwrap_err().to_string();
    assert!(err.contains("SGD.step") && err.contains("shape"), "{err}");
    assert_eq!(a.to_vec::<f32>().unwrap(), vec![1.0, 2.0]);
    let g64 = {
        let mut g = GradStore::new();
        g.insert(&a, Tensor::from_slice(&[1f64, 1.0], 2, &dev).unwrap());
        g
    };
    assert!(opt.step(&g64).unwrap_err().to_string().contains("dtype"));
}

#[test]
fn updates_are_visible_through_every_clone_and_record_no_graph() {
    use neurite::optim::{Optimizer, RmsProp, RmsPropConfig};
    let dev = neurite::Device::cpu();
    let w = Tensor::from_slice(&[0.5f64, -0.5], 2, &dev).unwrap().requires_grad();
    let model_view = w.clone();
    let mut opt = RmsProp::new(vec![w.clone()], RmsPropConfig::new(0.01)).unwrap();
    let grads = w.sqr().unwrap().sum_all().unwrap().backward().unwrap();
    opt.step(&grads).unwrap();
    let v = model_view.to_vec::<f64>().unwrap();
    // First RMSprop step: g / sqrt(0.01 g^2) = 10 sign(g), times lr 0.01.
    assert!((v[0] - 0.4).abs() < 1e-6 && (v[1] + 0.4).abs() < 1e-6, "{v:?}");
    assert!(w.is_requires_grad() && w.tracks_grad());
    // The parameter is still a leaf: a new backward pass works as before.
    let again = w.sqr().unwrap().sum_all().unwrap().backward().unwrap();
    assert!(again.get(&w).is_some());
}

#[test]
fn trait_objects_are_send() {
    fn is_send<T: Send>() {}
    is_send::<Box<dyn neurite::optim::Optimizer>>();
    is_send::<Box<dyn neurite::optim::LrScheduler>>();
}

/// Half-precision parameters: the buffers keep the parameter's dtype, the
/// update follows the f32 computation rounded to f16, and the state (saved
/// as f32) restores exactly.
#[test]
fn half_precision_parameters() {
    use neurite::optim::{Adam, AdamConfig, Optimizer, Sgd, SgdConfig};
    let dev = neurite::Device::cpu();
    for dtype in [DType::F16, DType::BF16] {
        let make = || {
            Tensor::from_slice(&[0.5f32, -1.0, 2.0], 3, &dev)
                .unwrap()
                .to_dtype(dtype)
                .unwrap()
                .requires_grad()
        };
        let (w_sgd, w_adam) = (make(), make());
        let mut sgd = Sgd::new(
            vec![w_sgd.clone()],
            SgdConfig {
                lr: 0.125,
                momentum: 0.5,
                ..Default::default()
            },
        )
        .unwrap();
        let mut adam = Adam::new(vec![w_adam.clone()], AdamConfig::new(0.25)).unwrap();
        for _ in 0..2 {
            let g = w_sgd.sqr().unwrap().sum_all().unwrap().backward().unwrap();
            assert_eq!(g.get(&w_sgd).unwrap().dtype(), dtype);
            sgd.step(&g).unwrap();
            let g = w_adam.sqr().unwrap().sum_all().unwrap().backward().unwrap();
            adam.step(&g).unwrap();
        }
        assert_eq!(w_sgd.dtype(), dtype);
        // SGD with momentum 0.5, lr 1/8 on w^2: w1 = w0 (1 - 2/8) = 0.75 w0;
        // buf2 = 0.5 * 2 w0 + 2 w1 = 2.5 w0; w2 = w1 - 2.5/8 w0 = 0.4375 w0 (exact in f16 and bf16).
        assert_eq!(w_sgd.to_vec::<f32>().unwrap(), vec![0.21875, -0.4375, 0.875]);
        // Two Adam steps move each weight by about 2 * lr against its sign.
        let v = w_adam.to_vec::<f32>().unwrap();
        assert!(
            (v[0] - 0.0).abs() < 0.02 && (v[1] + 0.5).abs() < 0.02 && (v[2] - 1.5).abs() < 0.02,
            "{v:?}"
        );
        let state = adam.state().unwrap();
        assert!(matches!(
            state.params[&0].buffers["exp_avg"].data,
            neurite::optim::HostData::F32(_)
        ));
        let mut again = Adam::new(vec![w_adam.clone()], AdamConfig::new(0.25)).unwrap();
        again.load_state(&state).unwrap();
        assert_eq!(
            again.state().unwrap(),
            state,
            "f16/bf16 buffers survive the f32 round trip exactly"
        );
    }
}
