//! Learning-rate sequences compared with PyTorch's (sched_fixtures.json): the
//! lr after construction and after each of 20 steps, to 1e-9 relative.

use super::fixtures::{f64s, load, sched_optimizer, scheduler};
use serde_json::Value;

fn close(got: f64, want: f64) -> bool {
    (got - want).abs() <= 1e-9 * want.abs() + 1e-15
}

fn check_case(case: &Value) {
    let name = case["name"].as_str().unwrap();
    let mut opt = sched_optimizer(case["optimizer"].as_str().unwrap(), case["lr"].as_f64().unwrap());
    let mut s = scheduler(&case["scheduler"], opt.as_mut());
    let want = f64s(&case["lrs"]);
    let want_last = f64s(&case["last_lr"]);
    let want_momentum = case.get("momentum").map(f64s);
    let metrics = case.get("metrics").map(f64s);
    let spec = &case["scheduler"];
    let linear_cycle = spec["type"] == "OneCycleLR" && spec["args"]["anneal_strategy"] == "linear";
    let total_steps = spec["args"]["total_steps"].as_u64();
    for (k, (&w, &wl)) in want.iter().zip(&want_last).enumerate() {
        // The step == total_steps lies past the end of a one-cycle schedule:
        // PyTorch extrapolates the linear ramp there (to an lr below 0 in
        // one_cycle_linear), neurite holds the cycle's final lr and momentum.
        let (w, wl, k_momentum) = if linear_cycle && total_steps == Some(k as u64) {
            (want[k - 1], want_last[k - 1], k - 1)
        } else {
            (w, wl, k)
        };
        if k > 0 {
            match &metrics {
                Some(m) => s.step_with_metric(m[k - 1], opt.as_mut()).unwrap(),
                None => s.step(opt.as_mut()).unwrap(),
            }
        }
        assert!(close(opt.lr(), w), "{name} epoch {k}: lr {} vs PyTorch {w}", opt.lr());
        assert!(
            close(s.get_last_lr(), wl),
            "{name} epoch {k}: get_last_lr {} vs PyTorch {wl}",
            s.get_last_lr()
        );
        if let Some(m) = &want_momentum {
            let got = opt.momentum().unwrap();
            let want_m = m[k_momentum];
            assert!(
                close(got, want_m),
                "{name} epoch {k}: momentum {got} vs PyTorch {want_m}"
            );
        }
    }
}

fn run(prefix: &str) {
    let fixtures = load("sched_fixtures.json");
    let cases: Vec<&Value> = fixtures["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["name"].as_str().unwrap().starts_with(prefix))
        .collect();
    assert!(!cases.is_empty(), "no fixture case starts with {prefix}");
    for case in cases {
        assert_eq!(f64s(&case["lrs"]).len(), 21, "20 steps after construction");
        check_case(case);
    }
}

#[test]
fn step_lr() {
    run("step_lr");
}

#[test]
fn multistep_lr() {
    run("multistep_lr");
}

#[test]
fn exponential_lr() {
    run("exponential_lr");
}

#[test]
fn cosine_annealing_lr() {
    run("cosine_");
}

#[test]
fn cosine_annealing_warm_restarts() {
    run("warm_restarts");
}

#[test]
fn one_cycle_lr() {
    run("one_cycle");
}

#[test]
fn linear_lr() {
    run("linear_");
}

#[test]
fn constant_lr() {
    run("constant_lr");
}

#[test]
fn reduce_lr_on_plateau() {
    run("plateau_");
}

#[test]
fn sequential_lr() {
    run("sequential_");
}

#[test]
fn chained_scheduler() {
    run("chained_");
}

#[test]
fn every_fixture_case_is_covered() {
    let fixtures = load("sched_fixtures.json");
    let prefixes = [
        "step_lr",
        "multistep_lr",
        "exponential_lr",
        "cosine_",
        "warm_restarts",
        "one_cycle",
        "linear_",
        "constant_lr",
        "plateau_",
        "sequential_",
        "chained_",
    ];
    for c in fixtures["cases"].as_array().unwrap() {
        let name = c["name"].as_str().unwrap();
        assert!(
            prefixes.iter().any(|p| name.starts_with(p)),
            "case {name} is not run by any test"
        );
    }
}
