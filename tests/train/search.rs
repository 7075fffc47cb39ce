//! Hyper-parameter search: spaces, samplers, pruners on scripted curves,
//! failed trials, parallel trials, CSV and plots, pruning inside `fit`.

use crate::common::{serial, temp_dir, xor_data};
use neurite::nn::{Linear, Module, ReLU, Sequential};
use neurite::optim::{Sgd, SgdConfig};
use neurite::search::{Direction, ParamValue, Pruner, Sampler, SearchSpace, Study, TrialState};
use neurite::train::Trainer;
use neurite::{DType, Device, Error, Tensor};
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};

fn quadratic_space() -> SearchSpace {
    SearchSpace::new().uniform("x", -5.0, 5.0).uniform("y", -5.0, 5.0)
}

#[test]
fn an_invalid_space_is_an_error_before_any_trial() {
    let bad = [
        SearchSpace::new().categorical::<&str>("act", []),
        SearchSpace::new().uniform("x", 2.0, 1.0),
        SearchSpace::new().log_uniform("lr", 0.0, 1.0),
        SearchSpace::new().log_uniform("lr", -1.0, 1.0),
        SearchSpace::new().int("n", 5, 4),
        SearchSpace::new().int_log("n", 0, 4),
        SearchSpace::new().uniform("x", 0.0, f64::INFINITY),
        SearchSpace::new().categorical("act", ["relu", "relu"]),
    ];
    for space in bad {
        let err = match Study::new(space.clone(), Direction::Minimize) {
            Err(e) => e,
            Ok(_) => panic!("{space:?} was accepted"),
        };
        let msg = err.to_string();
        let name = &space.params()[0].0;
        assert!(msg.contains(name.as_str()), "{msg}");
    }
    let calls = AtomicUsize::new(0);
    let mut study = Study::new(quadratic_space(), Direction::Minimize)
        .unwrap()
        .sampler(Sampler::grid(0))
        .quiet();
    let r = study.optimize(3, |_| {
        calls.fetch_add(1, Ordering::SeqCst);
        Ok(0.0)
    });
    assert!(r.is_err());
    assert_eq!(calls.load(Ordering::SeqCst), 0);
    let mut study = Study::new(quadratic_space(), Direction::Minimize)
        .unwrap()
        .pruner(Pruner::SuccessiveHalving {
            min_resource: 1,
            reduction_factor: 1,
        })
        .quiet();
    assert!(study.optimize(3, |_| Ok(0.0)).is_err());
    assert!(study.trials().is_empty());
}

#[test]
fn random_search_is_seeded_and_stays_in_its_space() {
    let space = SearchSpace::new()
        .log_uniform("lr", 1e-4, 1e-1)
        .int("width", 8, 64)
        .int_log("depth", 1, 8)
        .categorical("act", ["relu", "tanh", "gelu"]);
    let run = |seed: u64| {
        let mut study = Study::new(space.clone(), Direction::Minimize)
            .unwrap()
            .sampler(Sampler::Random)
            .seed(seed)
            .quiet();
        study.optimize(200, |t| t.f64("lr")).unwrap();
        study.trials()
    };
    let (a, b, c) = (run(3), run(3), run(4));
    let key = |t: &neurite::search::TrialRecord| (t.number, t.seed, t.params.clone(), t.value);
    assert_eq!(
        a.iter().map(key).collect::<Vec<_>>(),
        b.iter().map(key).collect::<Vec<_>>()
    );
    assert_ne!(a[0].params, c[0].params);
    let mut log_lr = Vec::new();
    let mut acts = BTreeSet::new();
    for t in &a {
        let lr = t.params.f64("lr").unwrap();
        assert!((1e-4..=1e-1).contains(&lr));
        log_lr.push(lr.log10());
        assert!((8..=64).contains(&t.params.i64("width").unwrap()));
        assert!((1..=8).contains(&t.params.i64("depth").unwrap()));
        acts.insert(t.params.str("act").unwrap().to_string());
        assert_eq!(t.state, TrialState::Complete);
    }
    assert_eq!(acts.len(), 3);
    // Log-uniform: the mean of log10(lr) is the middle of [-4, -1].
    let mean = log_lr.iter().sum::<f64>() / log_lr.len() as f64;
    assert!((mean + 2.5).abs() < 0.2, "mean log10(lr) {mean}");
    // The trial numbered k always gets the same seed and parameters.
    assert_eq!(a[17].seed, b[17].seed);
    assert_ne!(a[17].seed, a[18].seed);
}

#[test]
fn grid_search_visits_every_combination_once() {
    let space = SearchSpace::new()
        .categorical("act", ["relu", "tanh"])
        .int("n", 1, 3)
        .log_uniform("lr", 1e-3, 1e-1);
    let mut study = Study::new(space, Direction::Minimize)
        .unwrap()
        .sampler(Sampler::grid(3))
        .quiet();
    study.optimize(100, |t| t.f64("lr")).unwrap();
    let trials = study.trials();
    assert_eq!(trials.len(), 2 * 3 * 3, "the grid ends the search");
    let combos: BTreeSet<String> = trials.iter().map(|t| t.params.to_string()).collect();
    assert_eq!(combos.len(), 18);
    let lrs: BTreeSet<String> = trials
        .iter()
        .map(|t| format!("{:.6}", t.params.f64("lr").unwrap()))
        .collect();
    assert_eq!(
        lrs.into_iter().collect::<Vec<_>>(),
        ["0.001000", "0.010000", "0.100000"]
    );
    assert!((study.best_trial().unwrap().value.unwrap() - 1e-3).abs() < 1e-12);
}

#[test]
fn tpe_finds_a_minimum_faster_than_random_search() {
    let objective = |t: &mut neurite::search::Trial| -> neurite::Result<f64> {
        let (x, y) = (t.f64("x")?, t.f64("y")?);
        Ok((x - 1.5).powi(2) + (y + 2.0).powi(2))
    };
    let best = |sampler: Sampler, seed: u64| {
        let mut study = Study::new(quadratic_space(), Direction::Minimize)
            .unwrap()
            .sampler(sampler)
            .seed(seed)
            .quiet();
        study.optimize(60, objective).unwrap();
        study.best_trial().unwrap().value.unwrap()
    };
    let seeds = 0..6u64;
    let tpe: f64 = seeds.clone().map(|s| best(Sampler::tpe(), s)).sum::<f64>() / 6.0;
    let random: f64 = seeds.map(|s| best(Sampler::Random, s)).sum::<f64>() / 6.0;
    assert!(tpe < 0.5 * random, "mean best: TPE {tpe}, random {random}");
    assert!(tpe < 0.1, "TPE's mean best {tpe}");
}

#[test]
fn tpe_on_categorical_and_integer_parameters_prefers_the_good_values() {
    let space = SearchSpace::new()
        .categorical("opt", ["sgd", "adam", "rmsprop"])
        .int("k", 0, 20);
    let mut study = Study::new(space, Direction::Maximize).unwrap().seed(5).quiet();
    study
        .optimize(60, |t| {
            let bonus = if t.str("opt")? == "adam" { 1.0 } else { 0.0 };
            Ok(bonus - (t.f64("k")? - 13.0).abs() / 10.0)
        })
        .unwrap();
    let late = &study.trials()[30..];
    let adam = late.iter().filter(|t| t.params.str("opt").unwrap() == "adam").count();
    assert!(adam > late.len() / 2, "{adam} of {} late trials chose adam", late.len());
    let best = study.best_trial().unwrap();
    assert_eq!(best.params.get("opt"), Some(&ParamValue::Str("adam".into())));
    assert!((best.params.i64("k").unwrap() - 13).abs() <= 1, "{}", best.params);
}

/// Scripted curves: trial `k` reports `curve(k, step)` for 4 steps and
/// returns its last value; the pruned set is known in advance.
fn scripted(pruner: Pruner, curves: &[[f64; 4]]) -> Vec<(TrialState, usize)> {
    let curves = curves.to_vec();
    let mut study = Study::new(SearchSpace::new().uniform("x", 0.0, 1.0), Direction::Minimize)
        .unwrap()
        .sampler(Sampler::Random)
        .pruner(pruner)
        .quiet();
    study
        .optimize(curves.len(), |t| {
            let c = curves[t.number()];
            for (step, v) in c.iter().enumerate() {
                t.report(step, *v)?;
                if t.should_prune() {
                    return Ok(*v);
                }
            }
            Ok(c[3])
        })
        .unwrap();
    study.trials().iter().map(|t| (t.state, t.intermediate.len())).collect()
}

#[test]
fn median_pruning_stops_trials_worse_than_the_median() {
    let curves = [
        [1.0, 0.9, 0.8, 0.7],
        [2.0, 1.9, 1.8, 1.7],
        [3.0, 2.9, 2.8, 2.7],
        [1.5, 1.4, 1.3, 1.2],
        [9.0, 8.0, 0.1, 0.0], // starts badly, pruned at its first step
        [1.0, 3.0, 3.0, 3.0], // its best (1.0) stays under the median: never pruned
        [1.9, 1.8, 5.0, 5.0], // median of the completed 0-3 and 5 at step 0 is 1.5: pruned at step 0
    ];
    let got = scripted(
        Pruner::Median {
            n_startup_trials: 4,
            n_warmup_steps: 0,
        },
        &curves,
    );
    use TrialState::*;
    assert_eq!(
        got,
        [
            (Complete, 4),
            (Complete, 4),
            (Complete, 4),
            (Complete, 4),
            (Pruned, 1),
            (Complete, 4),
            (Pruned, 1)
        ]
    );
    // Warm-up: no pruning before step 2; trial 4 is pruned at step 2 only if worse.
    let got = scripted(
        Pruner::Median {
            n_startup_trials: 4,
            n_warmup_steps: 2,
        },
        &curves,
    );
    assert_eq!(got[4], (Complete, 4), "0.1 at step 2 beats the median 1.55");
    assert_eq!(got[6], (Pruned, 3));
}

#[test]
fn successive_halving_keeps_the_best_fraction_at_each_rung() {
    // Rungs at 1, 2 and 4 epochs (steps 0, 1, 3) with reduction factor 2.
    let curves = [
        [5.0, 4.0, 3.0, 2.0], // alone at every rung: promoted
        [6.0, 3.0, 2.0, 1.0], // rung 0: [5, 6] keeps 1 -> 6 is pruned
        [4.0, 3.5, 3.0, 2.5], // rung 0: [5, 6, 4] keeps 1 -> 4 best, goes on; rung 1: [4, 3.5] keeps 1 -> 3.5 goes on; rung 2 (step 3): [2, 2.5] -> pruned
        [4.5, 9.0, 1.0, 1.0], // rung 0: [5, 6, 4, 4.5] keeps 2 -> 4.5 goes on; rung 1: [4, 3.5, 9] keeps 1 -> pruned
    ];
    let got = scripted(
        Pruner::SuccessiveHalving {
            min_resource: 1,
            reduction_factor: 2,
        },
        &curves,
    );
    use TrialState::*;
    assert_eq!(got, [(Complete, 4), (Pruned, 1), (Pruned, 4), (Pruned, 2)]);
}

#[test]
fn failed_and_nan_trials_are_recorded_and_the_search_goes_on() {
    let mut study = Study::new(quadratic_space(), Direction::Minimize)
        .unwrap()
        .sampler(Sampler::Random)
        .quiet();
    study
        .optimize(6, |t| match t.number() {
            1 => Err(Error::invalid("objective", "out of data")),
            3 => Ok(f64::NAN),
            4 => {
                // An error from the crate itself, as a shape mismatch in a model would give.
                let a = Tensor::zeros((2, 3), DType::F32, &Device::cpu())?;
                let b = Tensor::zeros((4, 5), DType::F32, &Device::cpu())?;
                a.matmul(&b)?;
                Ok(0.0)
            }
            _ => t.f64("x"),
        })
        .unwrap();
    let trials = study.trials();
    assert_eq!(trials.len(), 6);
    let states: Vec<TrialState> = trials.iter().map(|t| t.state).collect();
    use TrialState::*;
    assert_eq!(states, [Complete, Failed, Complete, Failed, Failed, Complete]);
    assert!(trials[1].message.as_deref().unwrap().contains("out of data"));
    assert!(trials[3].message.as_deref().unwrap().contains("NaN"));
    assert!(
        trials[4].message.as_deref().unwrap().contains("matmul"),
        "{:?}",
        trials[4].message
    );
    assert!(trials[1].value.is_none());
    let best = study.best_trial().unwrap();
    assert!([0, 2, 5].contains(&best.number));
}

#[test]
fn parallel_trials_run_once_each_with_their_own_seeds() {
    // Each trial's value depends on random numbers drawn inside it, so equal
    // values mean each trial had its own generator, whatever the threads did.
    let objective = |t: &mut neurite::search::Trial| -> neurite::Result<f64> {
        let noise = Tensor::randn(16, DType::F64, &Device::cpu())?
            .sum_all()?
            .to_scalar::<f64>()?;
        Ok(t.f64("x")? + noise)
    };
    let mut sequential = Study::new(quadratic_space(), Direction::Minimize)
        .unwrap()
        .sampler(Sampler::Random)
        .seed(9)
        .quiet();
    sequential.optimize(12, objective).unwrap();
    let mut parallel = Study::new(quadratic_space(), Direction::Minimize)
        .unwrap()
        .sampler(Sampler::Random)
        .seed(9)
        .devices(vec![Device::cpu(), Device::cpu()])
        .quiet();
    parallel.optimize_parallel(12, 3, objective).unwrap();
    let (s, p) = (sequential.trials(), parallel.trials());
    assert_eq!(p.len(), 12);
    for (a, b) in s.iter().zip(&p) {
        assert_eq!((a.number, &a.params, a.value), (b.number, &b.params, b.value));
    }
    assert!(parallel.optimize_parallel(12, 0, objective).is_err());
}

#[test]
fn csv_and_plot_of_a_study() {
    let dir = temp_dir("search-report");
    let space = quadratic_space()
        .categorical("act", ["relu", "tanh"])
        .log_uniform("lr", 1e-3, 1.0);
    let mut study = Study::new(space, Direction::Minimize).unwrap().seed(2).quiet();
    study
        .optimize(12, |t| {
            if t.number() == 2 {
                return Err(Error::invalid("objective", "boom, with \"quotes\", and commas"));
            }
            t.report(0, 10.0)?;
            Ok(t.f64("x")?.powi(2) + t.f64("lr")?)
        })
        .unwrap();
    let csv_path = dir.join("trials.csv");
    study.write_csv(&csv_path).unwrap();
    let mut reader = csv::Reader::from_path(&csv_path).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(
        header,
        [
            "number",
            "state",
            "value",
            "duration_s",
            "seed",
            "x",
            "y",
            "act",
            "lr",
            "message"
        ]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 12);
    assert_eq!(&rows[2][1], "failed");
    assert!(rows[2][9].contains("\"quotes\", and commas"));
    let t5 = &study.trials()[5];
    assert_eq!(rows[5][2].parse::<f64>().unwrap(), t5.value.unwrap());
    assert_eq!(rows[5][7], *t5.params.str("act").unwrap());
    let png = dir.join("study.png");
    study.plot(&png).unwrap();
    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    let empty = Study::new(quadratic_space(), Direction::Minimize).unwrap();
    assert!(empty.plot(dir.join("none.png")).is_err());
}

fn xor_model(width: usize) -> Sequential {
    Sequential::new()
        .add(Linear::new(2, width))
        .add(ReLU)
        .add(Linear::new(width, 2))
}

#[test]
fn a_reporter_in_fit_stops_pruned_trials_early() {
    let _g = serial();
    neurite::manual_seed(0);
    let data = xor_data(16, 0.1).unwrap();
    // Trials 0-1 learn; trial 2 has a learning rate of 0 and cannot, so after
    // the warm-up its validation loss is above the median and fit stops.
    let lrs = [0.5, 0.3, 0.0];
    let mut study = Study::new(SearchSpace::new().uniform("unused", 0.0, 1.0), Direction::Minimize)
        .unwrap()
        .sampler(Sampler::Random)
        .pruner(Pruner::Median {
            n_startup_trials: 2,
            n_warmup_steps: 3,
        })
        .quiet();
    let epochs_run = std::sync::Mutex::new(Vec::new());
    study
        .optimize(3, |trial| {
            let mut model = xor_model(8);
            let mut opt = Sgd::new(model.parameters(), SgdConfig::new(lrs[trial.number()]))?;
            let history = Trainer::new(neurite::loss::cross_entropy)
                .epochs(8)
                .batch_size(16)
                .seed(trial.seed())
                .validation_data(data.clone())
                .callback(trial.reporter("val_loss"))
                .quiet()
                .fit(&mut model, &mut opt, &data)?;
            epochs_run.lock().unwrap().push(history.loss.len());
            Ok(*history.val_loss.last().unwrap())
        })
        .unwrap();
    let trials = study.trials();
    assert_eq!(trials[0].state, TrialState::Complete);
    assert_eq!(trials[1].state, TrialState::Complete);
    assert_eq!(trials[2].state, TrialState::Pruned);
    assert_eq!(
        *epochs_run.lock().unwrap(),
        [8, 8, 4],
        "pruned at the first step after the warm-up"
    );
    assert_eq!(trials[2].intermediate.len(), 4);
    assert_eq!(trials[0].intermediate.len(), 8);
    let mut study = Study::new(SearchSpace::new().uniform("u", 0.0, 1.0), Direction::Minimize)
        .unwrap()
        .quiet();
    study
        .optimize(1, |trial| {
            let mut model = xor_model(4);
            let mut opt = Sgd::new(model.parameters(), SgdConfig::new(0.1))?;
            Trainer::new(neurite::loss::cross_entropy)
                .epochs(1)
                .callback(trial.reporter("val_accuracy"))
                .quiet()
                .fit(&mut model, &mut opt, &data)?;
            Ok(0.0)
        })
        .unwrap();
    let failed = &study.trials()[0];
    assert_eq!(failed.state, TrialState::Failed);
    assert!(
        failed.message.as_deref().unwrap().contains("val_accuracy"),
        "{:?}",
        failed.message
    );
}
