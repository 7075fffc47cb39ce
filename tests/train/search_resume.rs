//! A search killed mid-trial resumes from its study file: every trial ends
//! once and the result equals an uninterrupted run. Study files from other
//! searches, and damaged ones, are refused.

use crate::common::temp_dir;
use neurite::search::{Direction, Pruner, Sampler, SearchSpace, Study, TpeConfig, Trial, TrialState};
use std::io::Write;
use std::path::Path;
use std::process::Command;

const TRIALS: usize = 12;

fn space() -> SearchSpace {
    SearchSpace::new()
        .log_uniform("lr", 1e-4, 1.0)
        .int("width", 4, 64)
        .categorical("act", ["relu", "tanh"])
}

fn study(path: Option<&Path>) -> Study {
    let s = Study::new(space(), Direction::Minimize)
        .unwrap()
        .sampler(Sampler::Tpe(TpeConfig {
            n_startup_trials: 4,
            ..TpeConfig::default()
        }))
        .pruner(Pruner::Median {
            n_startup_trials: 3,
            n_warmup_steps: 0,
        })
        .seed(11)
        .quiet();
    match path {
        Some(p) => s.storage(p).unwrap(),
        None => s,
    }
}

/// A stand-in for training: a loss curve over 4 epochs whose level depends
/// on the parameters. `log` gets a line when a trial starts and when it ends.
fn objective(trial: &mut Trial, log: Option<&Path>, kill_at: Option<usize>) -> neurite::Result<f64> {
    let note = |what: &str| {
        if let Some(path) = log {
            let mut f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .unwrap();
            writeln!(f, "{what} {}", trial.number()).unwrap();
        }
    };
    note("start");
    let level = (trial.f64("lr")?.log10() + 2.0).powi(2)
        + (trial.f64("width")? - 40.0).abs() / 40.0
        + if trial.str("act")? == "tanh" { 0.3 } else { 0.0 };
    let mut value = f64::NAN;
    for epoch in 0..4 {
        value = level + 1.0 / (epoch as f64 + 1.0);
        trial.report(epoch, value)?;
        if kill_at == Some(trial.number()) && epoch == 0 {
            // Killed mid-trial, as by the OOM killer or Ctrl-C: no unwinding.
            std::process::abort();
        }
        if trial.should_prune() {
            break;
        }
    }
    note("end");
    Ok(value)
}

/// Run by [`a_search_killed_during_a_trial_resumes_without_rerunning_trials`]
/// in a child process; does nothing when run directly.
#[test]
#[ignore = "a child process of a_search_killed_during_a_trial_resumes_without_rerunning_trials"]
fn killable_search_child() {
    let (Ok(file), Ok(log)) = (std::env::var("NEURITE_STUDY_FILE"), std::env::var("NEURITE_STUDY_LOG")) else {
        return;
    };
    let kill_at = std::env::var("NEURITE_KILL_AT").ok().map(|v| v.parse().unwrap());
    let mut s = study(Some(Path::new(&file)));
    s.optimize(TRIALS, |t| objective(t, Some(Path::new(&log)), kill_at))
        .unwrap();
}

fn run_child(file: &Path, log: &Path, kill_at: Option<usize>) -> std::process::ExitStatus {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "search_resume::killable_search_child",
        "--exact",
        "--ignored",
        "--test-threads=1",
        "--quiet",
    ])
    .env("NEURITE_STUDY_FILE", file)
    .env("NEURITE_STUDY_LOG", log)
    .env_remove("NEURITE_KILL_AT");
    if let Some(k) = kill_at {
        cmd.env("NEURITE_KILL_AT", k.to_string());
    }
    cmd.output().unwrap().status
}

#[test]
fn a_search_killed_during_a_trial_resumes_without_rerunning_trials() {
    let dir = temp_dir("search-kill");
    let (file, log) = (dir.join("study.json"), dir.join("trials.log"));
    let killed = run_child(&file, &log, Some(7));
    assert!(!killed.success(), "the first run was to be killed");
    let resumed = run_child(&file, &log, None);
    assert!(resumed.success(), "the resumed run failed: {resumed:?}");

    let text = std::fs::read_to_string(&log).unwrap();
    for k in 0..TRIALS {
        let count = |what: &str| text.lines().filter(|l| *l == format!("{what} {k}")).count();
        assert_eq!(count("end"), 1, "trial {k} ended {} times:\n{text}", count("end"));
        assert_eq!(count("start"), if k == 7 { 2 } else { 1 }, "trial {k}:\n{text}");
    }

    let mut whole = study(None);
    whole.optimize(TRIALS, |t| objective(t, None, None)).unwrap();
    let resumed = study(Some(&file));
    let key = |t: &neurite::search::TrialRecord| {
        (
            t.number,
            t.seed,
            t.params.clone(),
            t.state,
            t.value,
            t.intermediate.clone(),
        )
    };
    assert_eq!(
        resumed.trials().iter().map(key).collect::<Vec<_>>(),
        whole.trials().iter().map(key).collect::<Vec<_>>()
    );
    assert_eq!(resumed.best_trial().unwrap().number, whole.best_trial().unwrap().number);
    assert!(
        whole.trials().iter().any(|t| t.state == TrialState::Pruned),
        "the pruner took part"
    );
}

#[test]
fn a_study_file_from_another_search_is_refused() {
    let dir = temp_dir("search-foreign");
    let file = dir.join("study.json");
    let mut s = study(Some(&file));
    s.optimize(3, |t| objective(t, None, None)).unwrap();
    let other_space = Study::new(space().int("depth", 1, 3), Direction::Minimize)
        .unwrap()
        .seed(11)
        .storage(&file);
    let msg = other_space.err().expect("another space must be refused").to_string();
    assert!(msg.contains("another search") && msg.contains("depth"), "{msg}");
    let other_direction = Study::new(space(), Direction::Maximize).unwrap().storage(&file);
    assert!(other_direction.err().unwrap().to_string().contains("direction"));
    let other_seed = study(None).seed(12).storage(&file);
    assert!(other_seed.err().unwrap().to_string().contains("seed"));
    // The same settings resume and add only the missing trials.
    let mut again = study(Some(&file));
    assert_eq!(again.trials().len(), 3);
    again.optimize(5, |t| objective(t, None, None)).unwrap();
    assert_eq!(again.trials().len(), 5);
}

#[test]
fn damaged_study_files_are_errors() {
    let dir = temp_dir("search-damaged");
    let file = dir.join("study.json");
    let mut s = study(Some(&file));
    s.optimize(4, |t| objective(t, None, None)).unwrap();
    let good = std::fs::read(&file).unwrap();
    let text = String::from_utf8(good.clone()).unwrap();
    let cases: Vec<Vec<u8>> = vec![
        Vec::new(),
        b"not json".to_vec(),
        good[..good.len() / 2].to_vec(),
        text.replace("neurite-study", "other-tool").into_bytes(),
        text.replacen("\"number\": 1", "\"number\": 0", 1).into_bytes(),
        text.replacen("\"Int\": ", "\"Int\": 9999", 1).into_bytes(),
        vec![0xff; 64],
    ];
    for (i, bytes) in cases.into_iter().enumerate() {
        std::fs::write(&file, &bytes).unwrap();
        let r = study(None).storage(&file);
        assert!(r.is_err(), "case {i} was accepted");
    }
    // Every single-byte truncation is an error or a study, never a panic.
    for cut in (0..good.len()).step_by(7) {
        std::fs::write(&file, &good[..cut]).unwrap();
        let _ = study(None).storage(&file);
    }
}

#[test]
fn infinite_and_nan_reports_survive_the_study_file() {
    let dir = temp_dir("search-inf");
    let file = dir.join("study.json");
    let mut s = Study::new(SearchSpace::new().uniform("x", 0.0, 1.0), Direction::Minimize)
        .unwrap()
        .sampler(Sampler::Random)
        .pruner(Pruner::None)
        .quiet()
        .storage(&file)
        .unwrap();
    s.optimize(2, |t| {
        t.report(0, f64::INFINITY)?;
        t.report(1, f64::NAN)?;
        t.report(2, f64::NEG_INFINITY)?;
        Ok(if t.number() == 0 { f64::INFINITY } else { 1.0 })
    })
    .unwrap();
    let back = Study::new(SearchSpace::new().uniform("x", 0.0, 1.0), Direction::Minimize)
        .unwrap()
        .sampler(Sampler::Random)
        .pruner(Pruner::None)
        .quiet()
        .storage(&file)
        .unwrap();
    let t = back.trials();
    assert_eq!(t[0].value, Some(f64::INFINITY));
    assert_eq!(t[0].intermediate[0], (0, f64::INFINITY));
    assert!(t[0].intermediate[1].1.is_nan());
    assert_eq!(t[0].intermediate[2], (2, f64::NEG_INFINITY));
    assert_eq!(back.best_trial().unwrap().number, 1);
}
