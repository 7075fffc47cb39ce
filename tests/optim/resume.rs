//! Saving and restoring optimizer and scheduler state: a run interrupted,
//! serialized (JSON and bincode) and resumed continues exactly as an
//! uninterrupted run.

use super::fixtures::{f64s, load, optimizer, sched_optimizer, scheduler, tensor, usizes};
use neurite::optim::{OptimizerState, SchedulerState};
use neurite::{DType, GradStore, Tensor};
use serde_json::Value;

fn json_round_trip<T: serde::Serialize + serde::de::DeserializeOwned>(v: &T) -> T {
    serde_json::from_str(&serde_json::to_string(v).unwrap()).unwrap()
}

fn bincode_round_trip<T: serde::Serialize + serde::de::DeserializeOwned>(v: &T) -> T {
    let bytes = bincode::serde::encode_to_vec(v, bincode::config::standard()).unwrap();
    bincode::serde::decode_from_slice(&bytes, bincode::config::standard())
        .unwrap()
        .0
}

/// The fixed gradients of a fixture case for step `k` (None where skipped).
fn grads_for(case: &Value, key: &str, k: usize, params: &[Tensor], dtype: DType) -> GradStore {
    let shapes: Vec<Vec<usize>> = case["shapes"].as_array().unwrap().iter().map(usizes).collect();
    let mut g = GradStore::new();
    for ((p, w), s) in params
        .iter()
        .zip(case[key]["grads"][k].as_array().unwrap())
        .zip(&shapes)
    {
        if !w.is_null() {
            g.insert(p, tensor(&f64s(w), s, dtype));
        }
    }
    g
}

fn fresh_params(case: &Value, dtype: DType) -> Vec<Tensor> {
    let shapes: Vec<Vec<usize>> = case["shapes"].as_array().unwrap().iter().map(usizes).collect();
    case["initial"]
        .as_array()
        .unwrap()
        .iter()
        .zip(&shapes)
        .map(|(v, s)| tensor(&f64s(v), s, dtype).requires_grad())
        .collect()
}

fn values(params: &[Tensor]) -> Vec<Vec<f64>> {
    params.iter().map(|p| p.to_vec::<f64>().unwrap()).collect()
}

fn check_optimizer_resume(case: &Value, dtype: DType, codec: fn(&OptimizerState) -> OptimizerState) {
    let name = case["name"].as_str().unwrap();
    let (kind, hyper) = (case["optimizer"].as_str().unwrap(), &case["hyper"]);
    let key = if dtype == DType::F64 { "f64" } else { "f32" };
    let steps = case[key]["grads"].as_array().unwrap().len();

    let full = fresh_params(case, dtype);
    let mut opt = optimizer(kind, hyper, full.clone());
    for k in 0..steps {
        opt.step(&grads_for(case, key, k, &full, dtype)).unwrap();
    }

    let first = fresh_params(case, dtype);
    let mut opt = optimizer(kind, hyper, first.clone());
    let split = steps / 2;
    for k in 0..split {
        opt.step(&grads_for(case, key, k, &first, dtype)).unwrap();
    }
    let saved = codec(&opt.state().unwrap());
    assert_eq!(
        saved,
        opt.state().unwrap(),
        "{name}: the state survives serialization unchanged"
    );

    // A new process: parameters restored from the checkpoint, a new optimizer.
    let resumed: Vec<Tensor> = first
        .iter()
        .map(|p| tensor(&p.to_vec::<f64>().unwrap(), p.dims(), dtype).requires_grad())
        .collect();
    let mut opt2 = optimizer(kind, hyper, resumed.clone());
    opt2.load_state(&saved).unwrap();
    assert_eq!(opt2.step_count(), split as u64);
    for k in split..steps {
        opt2.step(&grads_for(case, key, k, &resumed, dtype)).unwrap();
    }
    assert_eq!(values(&resumed), values(&full), "{name} {key}: resumed run differs");
}

#[test]
fn optimizer_state_resumes_exactly() {
    let fixtures = load("optim_fixtures.json");
    let mut n = 0;
    for case in fixtures["optimizers"].as_array().unwrap() {
        if case["source"] == "quadratic" {
            continue;
        }
        for dtype in [DType::F32, DType::F64] {
            check_optimizer_resume(case, dtype, json_round_trip);
            check_optimizer_resume(case, dtype, bincode_round_trip);
        }
        n += 1;
    }
    assert!(n >= 20);
}

#[test]
fn optimizer_state_carries_lr_and_initial_lr() {
    use neurite::optim::lr_scheduler::StepLr;
    use neurite::optim::{Optimizer, Sgd, SgdConfig};
    let w = Tensor::zeros(2, DType::F32, &neurite::Device::cpu())
        .unwrap()
        .requires_grad();
    let mut opt = Sgd::new(
        vec![w.clone()],
        SgdConfig {
            lr: 0.3,
            momentum: 0.5,
            ..Default::default()
        },
    )
    .unwrap();
    let _sched = StepLr::new(&mut opt, 1, 0.5).unwrap();
    opt.set_lr(0.075).unwrap();
    let state = json_round_trip(&opt.state().unwrap());
    let mut other = Sgd::new(vec![w], SgdConfig::new(1.0)).unwrap();
    other.load_state(&state).unwrap();
    assert_eq!(other.lr(), 0.075);
    assert_eq!(other.initial_lr(), Some(0.3));
    assert_eq!(other.config().momentum, 0.5);
}

fn run_scheduler(
    case: &Value,
    opt: &mut dyn neurite::optim::Optimizer,
    s: &mut dyn neurite::optim::LrScheduler,
    k: usize,
) {
    match case.get("metrics") {
        Some(m) => s.step_with_metric(f64s(m)[k], opt).unwrap(),
        None => s.step(opt).unwrap(),
    }
}

fn check_scheduler_resume(case: &Value, codec: fn(&SchedulerState) -> SchedulerState) {
    let name = case["name"].as_str().unwrap();
    let (kind, lr, spec) = (
        case["optimizer"].as_str().unwrap(),
        case["lr"].as_f64().unwrap(),
        &case["scheduler"],
    );
    let steps = 20;

    let mut opt = sched_optimizer(kind, lr);
    let mut s = scheduler(spec, opt.as_mut());
    let mut want = Vec::new();
    for k in 0..steps {
        run_scheduler(case, opt.as_mut(), s.as_mut(), k);
        want.push((opt.lr(), opt.momentum()));
    }

    for split in [1, 8, 13] {
        let mut opt = sched_optimizer(kind, lr);
        let mut s = scheduler(spec, opt.as_mut());
        for k in 0..split {
            run_scheduler(case, opt.as_mut(), s.as_mut(), k);
        }
        let saved_sched = codec(&s.state());
        assert_eq!(saved_sched, s.state(), "{name}: state survives serialization unchanged");
        let saved_opt = json_round_trip(&opt.state().unwrap());

        // Resume into a freshly built pair: scheduler first, then the optimizer's
        // state (which restores the lr the construction changed), as in PyTorch.
        let mut opt2 = sched_optimizer(kind, lr);
        let mut s2 = scheduler(spec, opt2.as_mut());
        opt2.load_state(&saved_opt).unwrap();
        s2.load_state(&saved_sched).unwrap();
        // And one rebuilt from the state alone.
        let mut opt3 = sched_optimizer(kind, lr);
        opt3.load_state(&saved_opt).unwrap();
        let mut s3 = saved_sched.clone().into_scheduler().unwrap();
        assert_eq!(s3.name(), s.name());
        assert_eq!(s3.get_last_lr(), s.get_last_lr());
        for (k, w) in want.iter().enumerate().skip(split) {
            run_scheduler(case, opt2.as_mut(), s2.as_mut(), k);
            run_scheduler(case, opt3.as_mut(), s3.as_mut(), k);
            assert_eq!((opt2.lr(), opt2.momentum()), *w, "{name}: resumed at {split}, step {k}");
            assert_eq!((opt3.lr(), opt3.momentum()), *w, "{name}: rebuilt at {split}, step {k}");
        }
    }
}

#[test]
fn scheduler_state_resumes_exactly() {
    let fixtures = load("sched_fixtures.json");
    for case in fixtures["cases"].as_array().unwrap() {
        check_scheduler_resume(case, json_round_trip);
        check_scheduler_resume(case, bincode_round_trip);
    }
}
