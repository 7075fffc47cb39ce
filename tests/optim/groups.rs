//! Optimizers over two parameter groups and schedulers scaling each group's
//! lr, against PyTorch (optim_groups.json, made by optim_groups.py), and
//! group states saved mid-run that resume bit for bit.

use super::fixtures::{f64s, grouped_optimizer, load, scheduler, usizes, with_options};
use neurite::optim::lr_scheduler::{LrScheduler, StepLr};
use neurite::optim::{Optimizer, OptimizerState, ParamGroup, SchedulerState, Sgd, SgdConfig};
use neurite::{DType, Device, GradStore, Result, Tensor};
use serde_json::Value;

fn t(data: &[f64], shape: &[usize]) -> Tensor {
    Tensor::from_slice(data, shape.to_vec(), &Device::cpu()).unwrap()
}

/// `|got - want| <= tol * (|want| + 0.1 * scale)` element-wise, where `scale`
/// is the largest magnitude of `want` (at least 1): relative, with an
/// absolute floor for values near 0 that arose by cancellation.
fn assert_close(got: &[f64], want: &[f64], tol: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    let scale = want.iter().fold(1.0f64, |m, w| m.max(w.abs()));
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let err = (g - w).abs() / (w.abs() + 0.1 * scale);
        assert!(err <= tol, "{what}[{i}]: {g} vs PyTorch {w} (rel {err:e})");
    }
}

/// The problem of a trajectory case: data, parameters, names and groups.
struct Problem {
    x: Tensor,
    y: Tensor,
    batch: usize,
    params: Vec<Tensor>,
}

const NAMES: [&str; 3] = ["w1", "b1", "w2"];

impl Problem {
    fn new(case: &Value) -> Problem {
        let shapes: Vec<Vec<usize>> = case["shapes"].as_array().unwrap().iter().map(usizes).collect();
        let params = case["initial"]
            .as_array()
            .unwrap()
            .iter()
            .zip(&shapes)
            .map(|(v, s)| t(&f64s(v), s).requires_grad())
            .collect();
        let x = f64s(&case["x"]);
        let y = f64s(&case["y"]);
        Problem {
            x: t(&x, &[x.len() / 3, 3]),
            y: t(&y, &[y.len() / 2, 2]),
            batch: case["batch"].as_u64().unwrap() as usize,
            params,
        }
    }

    /// Fresh leaves holding the current values (a model reloaded from a checkpoint).
    fn reloaded(&self) -> Problem {
        Problem {
            x: self.x.clone(),
            y: self.y.clone(),
            batch: self.batch,
            params: self
                .params
                .iter()
                .map(|p| t(&p.to_vec::<f64>().unwrap(), p.dims()).requires_grad())
                .collect(),
        }
    }

    /// The fixture's loss on batch `k`: mean((x @ w1 + b1) @ w2 - y)^2).
    fn grads(&self, k: usize) -> Result<GradStore> {
        let (w1, b1, w2) = (&self.params[0], &self.params[1], &self.params[2]);
        let x = self.x.narrow(0, k * self.batch, self.batch)?;
        let y = self.y.narrow(0, k * self.batch, self.batch)?;
        let pred = x.matmul(w1)?.add(b1)?.matmul(w2)?;
        pred.sub(&y)?.sqr()?.mean_all()?.backward()
    }

    /// The case's groups over these parameters, named or not.
    fn groups(&self, case: &Value, named: bool) -> Vec<ParamGroup> {
        case["groups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| {
                let members = usizes(&g["params"]);
                let group = if named {
                    ParamGroup::named(
                        members
                            .iter()
                            .map(|&i| (NAMES[i].to_string(), self.params[i].clone()))
                            .collect(),
                    )
                } else {
                    ParamGroup::new(members.iter().map(|&i| self.params[i].clone()).collect())
                };
                with_options(group, &g["options"])
            })
            .collect()
    }

    fn named(&self) -> Vec<(String, Tensor)> {
        NAMES
            .iter()
            .map(|n| n.to_string())
            .zip(self.params.iter().cloned())
            .collect()
    }

    fn bits(&self) -> Vec<Vec<u64>> {
        self.params
            .iter()
            .map(|p| p.to_vec::<f64>().unwrap().iter().map(|v| v.to_bits()).collect())
            .collect()
    }
}

fn step_lr(case: &Value, opt: &mut dyn Optimizer) -> StepLr {
    let a = &case["step_lr"];
    StepLr::new(
        opt,
        a["step_size"].as_u64().unwrap() as usize,
        a["gamma"].as_f64().unwrap(),
    )
    .unwrap()
}

fn trajectory_cases() -> Vec<Value> {
    let cases = load("optim_groups.json")["trajectories"].as_array().unwrap().clone();
    assert_eq!(cases.len(), 4, "SGD, AdamW, Adam and RMSprop");
    cases
}

#[test]
fn two_group_trajectories_match_pytorch() {
    for case in trajectory_cases() {
        let name = case["name"].as_str().unwrap();
        let prob = Problem::new(&case);
        let mut opt = grouped_optimizer(
            case["optimizer"].as_str().unwrap(),
            &case["defaults"],
            prob.groups(&case, false),
        )
        .unwrap();
        assert_eq!(opt.num_groups(), 2);
        let mut sched = step_lr(&case, opt.as_mut());
        let per_epoch = case["steps_per_epoch"].as_u64().unwrap() as usize;
        for (n, s) in case["steps"].as_array().unwrap().iter().enumerate() {
            let k = s["batch"].as_u64().unwrap() as usize;
            let want_lrs = f64s(&s["lrs"]);
            assert_close(
                &opt.group_lrs(),
                &want_lrs,
                1e-15,
                &format!("{name} step {n}: group lrs"),
            );
            let grads = prob.grads(k).unwrap();
            // Parameters 0 and 2 are group 0, parameter 1 is group 1.
            for (i, (p, w)) in prob.params.iter().zip(s["grads"].as_array().unwrap()).enumerate() {
                let g = grads.get(p).unwrap().to_vec::<f64>().unwrap();
                assert_close(&g, &f64s(w), 1e-10, &format!("{name} step {n}: gradient {i}"));
            }
            opt.step(&grads).unwrap();
            for (i, (p, w)) in prob.params.iter().zip(s["params"].as_array().unwrap()).enumerate() {
                let got = p.to_vec::<f64>().unwrap();
                assert_close(&got, &f64s(w), 1e-10, &format!("{name} step {n}: parameter {i}"));
            }
            if k + 1 == per_epoch {
                sched.step(opt.as_mut()).unwrap();
            }
        }
        assert_close(&opt.group_lrs(), &f64s(&case["final_lrs"]), 1e-15, name);
        assert_close(&sched.get_last_lrs(), &f64s(&case["final_last_lr"]), 1e-15, name);
        assert_eq!(sched.get_last_lr(), sched.get_last_lrs()[0]);
    }
}

fn json<T: serde::Serialize + serde::de::DeserializeOwned>(v: &T) -> T {
    serde_json::from_str(&serde_json::to_string(v).unwrap()).unwrap()
}

fn bincode<T: serde::Serialize + serde::de::DeserializeOwned>(v: &T) -> T {
    let bytes = bincode::serde::encode_to_vec(v, bincode::config::standard()).unwrap();
    bincode::serde::decode_from_slice(&bytes, bincode::config::standard())
        .unwrap()
        .0
}

/// Runs steps `from..to` of a case (an epoch is `per_epoch` steps; StepLR
/// steps after each), recording every parameter's bits after each step.
fn run(
    prob: &Problem,
    opt: &mut dyn Optimizer,
    sched: &mut dyn LrScheduler,
    per_epoch: usize,
    range: std::ops::Range<usize>,
) -> Vec<Vec<Vec<u64>>> {
    let mut out = Vec::new();
    for n in range {
        let k = n % per_epoch;
        opt.step(&prob.grads(k).unwrap()).unwrap();
        if k + 1 == per_epoch {
            sched.step(opt).unwrap();
        }
        out.push(prob.bits());
    }
    out
}

#[test]
fn group_states_saved_mid_run_resume_bit_for_bit() {
    type Codec = fn(&OptimizerState, &SchedulerState) -> (OptimizerState, SchedulerState);
    let codecs: [(&str, Codec); 2] = [
        ("json", |o, s| (json(o), json(s))),
        ("bincode", |o, s| (bincode(o), bincode(s))),
    ];
    for case in trajectory_cases() {
        let name = case["name"].as_str().unwrap();
        let kind = case["optimizer"].as_str().unwrap();
        let per_epoch = case["steps_per_epoch"].as_u64().unwrap() as usize;
        let total = case["steps"].as_array().unwrap().len();

        let prob = Problem::new(&case);
        let mut opt = grouped_optimizer(kind, &case["defaults"], prob.groups(&case, true)).unwrap();
        let mut sched = step_lr(&case, opt.as_mut());
        let straight = run(&prob, opt.as_mut(), &mut sched, per_epoch, 0..total);
        let straight_lrs = opt.group_lrs();

        // Mid-epoch, and right after an epoch's scheduler step.
        for split in [4, 6] {
            for (codec_name, codec) in codecs {
                let what = format!("{name} split {split} {codec_name}");
                let prob = Problem::new(&case);
                let mut opt = grouped_optimizer(kind, &case["defaults"], prob.groups(&case, true)).unwrap();
                let mut sched = step_lr(&case, opt.as_mut());
                run(&prob, opt.as_mut(), &mut sched, per_epoch, 0..split);
                let (opt_state, sched_state) = codec(&opt.state().unwrap(), &sched.state());
                assert_eq!(opt_state, opt.state().unwrap(), "{what}: survives serialization");
                assert_eq!(opt_state.groups.len(), 2);
                assert_eq!(opt_state.groups[0].params, vec![0, 1]);
                assert_eq!(opt_state.groups[1].params, vec![2]);
                let reloaded = prob.reloaded();

                // Rebuilt by hand: the same groups, a new StepLR, both states loaded.
                let again = reloaded.reloaded();
                let mut opt2 = grouped_optimizer(kind, &case["defaults"], again.groups(&case, true)).unwrap();
                let mut sched2 = step_lr(&case, opt2.as_mut());
                opt2.load_state(&opt_state).unwrap();
                sched2.load_state(&sched_state).unwrap();
                assert_eq!(opt2.group_lrs(), opt.group_lrs(), "{what}");
                let resumed = run(&again, opt2.as_mut(), &mut sched2, per_epoch, split..total);
                assert_eq!(resumed, straight[split..], "{what}: resumed by hand");

                // Rebuilt from the states alone, over the named parameters.
                let mut opt3 = opt_state.build_optimizer(reloaded.named()).unwrap();
                let mut sched3 = sched_state.clone().into_scheduler().unwrap();
                assert_eq!(opt3.num_groups(), 2);
                assert_eq!(opt3.group_config(1).unwrap(), opt.group_config(1).unwrap(), "{what}");
                let rebuilt = run(&reloaded, opt3.as_mut(), sched3.as_mut(), per_epoch, split..total);
                assert_eq!(rebuilt, straight[split..], "{what}: rebuilt from the state");
                assert_eq!(opt3.group_lrs(), straight_lrs, "{what}");
            }
        }
    }
}

/// SGD with the fixture's two groups (lr 0.1 and 0.02) and momentum 0.9.
fn two_group_sgd(case: &Value) -> Sgd {
    let lrs = f64s(&case["group_lrs"]);
    let p = |n: usize| Tensor::zeros(n, DType::F32, &Device::cpu()).unwrap().requires_grad();
    let groups = vec![
        ParamGroup::new(vec![p(2)]).lr(lrs[0]),
        ParamGroup::new(vec![p(3)]).lr(lrs[1]),
    ];
    let defaults = SgdConfig {
        lr: 0.5,
        momentum: case["momentum"].as_f64().unwrap(),
        ..Default::default()
    };
    Sgd::with_groups(groups, defaults).unwrap()
}

fn step_schedule(case: &Value, s: &mut dyn LrScheduler, opt: &mut dyn Optimizer, k: usize) {
    match case.get("metrics") {
        Some(m) => s.step_with_metric(f64s(m)[k], opt).unwrap(),
        None => s.step(opt).unwrap(),
    }
}

fn schedule_cases() -> Vec<Value> {
    load("optim_groups.json")["schedules"].as_array().unwrap().clone()
}

#[test]
fn schedulers_scale_each_group_like_pytorch() {
    let cases = schedule_cases();
    assert_eq!(cases.len(), 12);
    for case in &cases {
        let name = case["name"].as_str().unwrap();
        let mut opt = two_group_sgd(case);
        let mut s = scheduler(&case["scheduler"], &mut opt);
        let want: Vec<Vec<f64>> = case["lrs"].as_array().unwrap().iter().map(f64s).collect();
        let want_last: Vec<Vec<f64>> = case["last_lrs"].as_array().unwrap().iter().map(f64s).collect();
        let momentums: Option<Vec<Vec<f64>>> = case
            .get("momentums")
            .map(|m| m.as_array().unwrap().iter().map(f64s).collect());
        for k in 0..want.len() {
            if k > 0 {
                step_schedule(case, s.as_mut(), &mut opt, k - 1);
            }
            assert_close(&opt.group_lrs(), &want[k], 1e-12, &format!("{name} step {k}: lrs"));
            assert_close(
                &s.get_last_lrs(),
                &want_last[k],
                1e-12,
                &format!("{name} step {k}: last lrs"),
            );
            assert_eq!(opt.lr(), opt.group_lrs()[0]);
            if let Some(m) = &momentums {
                let got: Vec<f64> = (0..2).map(|g| opt.group_momentum(g).unwrap().unwrap()).collect();
                assert_close(&got, &m[k], 1e-12, &format!("{name} step {k}: momentum"));
            }
        }
    }
}

#[test]
fn two_group_scheduler_states_resume_exactly() {
    for case in &schedule_cases() {
        let name = case["name"].as_str().unwrap();
        let steps = case["lrs"].as_array().unwrap().len() - 1;
        let mut opt = two_group_sgd(case);
        let mut s = scheduler(&case["scheduler"], &mut opt);
        let mut want = Vec::new();
        for k in 0..steps {
            step_schedule(case, s.as_mut(), &mut opt, k);
            want.push((opt.group_lrs(), opt.group_momentum(1).unwrap()));
        }
        for split in [1, 5] {
            let mut opt = two_group_sgd(case);
            let mut s = scheduler(&case["scheduler"], &mut opt);
            for k in 0..split {
                step_schedule(case, s.as_mut(), &mut opt, k);
            }
            let saved = bincode(&s.state());
            let opt_state = json(&opt.state().unwrap());
            let mut opt2 = two_group_sgd(case);
            let _ = scheduler(&case["scheduler"], &mut opt2);
            opt2.load_state(&opt_state).unwrap();
            let mut s2 = saved.into_scheduler().unwrap();
            assert_eq!(s2.get_last_lrs(), s.get_last_lrs(), "{name}");
            for (k, w) in want.iter().enumerate().skip(split) {
                step_schedule(case, s2.as_mut(), &mut opt2, k);
                assert_eq!(
                    (opt2.group_lrs(), opt2.group_momentum(1).unwrap()),
                    *w,
                    "{name}: split {split}, step {k}"
                );
            }
        }
    }
}
