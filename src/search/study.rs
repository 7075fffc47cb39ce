//! [`Study`]: runs trials of an objective over a search space, keeps them in a
//! file, resumes from it.

use super::direction::Direction;
use super::file::StudyFile;
use super::pruner::Pruner;
use super::sampler::{Sampler, trial_seed};
use super::shared::{Running, Shared};
use super::space::SearchSpace;
use super::trial::{Trial, TrialRecord, TrialState};
use crate::{Device, Error, Result};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A hyper-parameter search (Optuna's `Study`): a [`SearchSpace`], a
/// [`Direction`], a [`Sampler`] and a [`Pruner`], and the trials run so far.
///
/// The objective is a function of a [`Trial`] that builds and trains a model
/// and returns its value (say the best validation accuracy); it may report
/// per-epoch values through [`Trial::report`] or [`Trial::reporter`] so the
/// pruner can stop it early. A trial whose objective returns an error or NaN
/// is recorded as failed, with its message, and the search goes on.
///
/// With [`Study::storage`], the study is written (atomically) to a JSON file
/// after every trial; a study created again over the same file continues where
/// it stopped: finished trials are not rerun, and a trial that was cut off
/// (the process was killed) runs again with the same parameters and seed.
///
/// ```
/// use neurite::search::{Direction, Sampler, SearchSpace, Study};
/// # fn main() -> neurite::Result<()> {
/// let space = SearchSpace::new().uniform("x", -3.0, 3.0).int("n", 0, 4);
/// let mut study = Study::new(space, Direction::Minimize)?.sampler(Sampler::tpe()).seed(7).quiet();
/// study.optimize(30, |trial| {
///     let (x, n) = (trial.f64("x")?, trial.f64("n")?);
///     Ok((x - 1.0).powi(2) + (n - 2.0).powi(2))
/// })?;
/// let best = study.best_trial().unwrap();
/// assert!(best.value.unwrap() < 0.5);
/// # Ok(()) }
/// ```
pub struct Study {
    space: SearchSpace,
    direction: Direction,
    sampler: Sampler,
    seed: u64,
    storage: Option<PathBuf>,
    devices: Vec<Device>,
    verbose: bool,
    timeout: Option<Duration>,
    shared: Arc<Shared>,
}

impl Study {
    /// A study over `space`; an error when the space cannot be sampled (an
    /// empty choice list, `low > high`, a log scale over non-positive values),
    /// before any trial runs. Defaults: TPE sampler, median pruner, seed 0,
    /// no file, trials on [`Device::best`], a line per trial on stderr.
    pub fn new(space: SearchSpace, direction: Direction) -> Result<Study> {
        space.validate()?;
        Ok(Study {
            space,
            direction,
            sampler: Sampler::tpe(),
            seed: 0,
            storage: None,
            devices: vec![Device::best()],
            verbose: true,
            timeout: None,
            shared: Arc::new(Shared::new(direction, Pruner::median(), Vec::new())),
        })
    }

    /// The sampler (TPE by default).
    pub fn sampler(mut self, sampler: Sampler) -> Study {
        self.sampler = sampler;
        self
    }

    /// The pruner (median by default; [`Pruner::None`] to run every trial to its end).
    pub fn pruner(self, pruner: Pruner) -> Study {
        self.shared.lock().pruner = pruner;
        self
    }

    /// The seed every trial's parameters and seed derive from.
    pub fn seed(mut self, seed: u64) -> Study {
        self.seed = seed;
        self
    }

    /// The devices trials run on: worker `i` of [`Study::optimize_parallel`]
    /// gets `devices[i % len]` (one worker per GPU, say).
    pub fn devices(mut self, devices: Vec<Device>) -> Study {
        if !devices.is_empty() {
            self.devices = devices;
        }
        self
    }

    /// No line per trial.
    pub fn quiet(mut self) -> Study {
        self.verbose = false;
        self
    }

    /// Starts no new trial once this much time has passed since `optimize`
    /// was called (running trials finish).
    pub fn timeout(mut self, limit: Duration) -> Study {
        self.timeout = Some(limit);
        self
    }

    /// Keeps the study in the JSON file `path`, written after every trial.
    /// When the file exists, its trials are loaded; it must come from a study
    /// with the same space, direction, sampler and seed, or this is an error
    /// (a study file from another search is never mixed in). Call after the
    /// other settings.
    pub fn storage(mut self, path: impl AsRef<Path>) -> Result<Study> {
        let path = path.as_ref().to_path_buf();
        if path.exists() {
            let file = StudyFile::read(&path)?;
            file.check_matches(&path, &self.space, self.direction, &self.sampler, self.seed)?;
            self.shared.lock().finished = file.trials;
        }
        self.storage = Some(path);
        Ok(self)
    }

    /// Runs trials one after another until the study holds `n_trials` trials
    /// in all (those loaded from its file count), the grid is exhausted or the
    /// timeout passes. An objective error does not stop the search (the trial
    /// is recorded as failed); a failure to write the study file does.
    pub fn optimize<F>(&mut self, n_trials: usize, mut objective: F) -> Result<()>
    where
        F: FnMut(&mut Trial) -> Result<f64>,
    {
        self.sampler.validate(&self.space)?;
        self.shared.lock().pruner.validate()?;
        let deadline = self.timeout.map(|t| Instant::now() + t);
        self.worker(0, n_trials, deadline, &mut objective)
    }

    /// [`Study::optimize`] with `n_parallel` trials at a time, each on a
    /// thread of its own with a `1 / n_parallel` share of the CPU threads (so
    /// trials do not oversubscribe the cores) and a device dealt from
    /// [`Study::devices`]. Each trial stays reproducible (its own seed and
    /// generator), but which trials the TPE sampler has seen finished when it
    /// proposes the next depends on timing.
    pub fn optimize_parallel<F>(&mut self, n_trials: usize, n_parallel: usize, objective: F) -> Result<()>
    where
        F: Fn(&mut Trial) -> Result<f64> + Sync,
    {
        if n_parallel == 0 {
            return Err(Error::invalid(
                "Study::optimize_parallel",
                "n_parallel must be at least 1",
            ));
        }
        self.sampler.validate(&self.space)?;
        self.shared.lock().pruner.validate()?;
        let deadline = self.timeout.map(|t| Instant::now() + t);
        let threads = (rayon::current_num_threads() / n_parallel).max(1);
        let this = &*self;
        let objective = &objective;
        let results: Vec<Result<()>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..n_parallel)
                .map(|w| {
                    scope.spawn(move || {
                        let pool = rayon::ThreadPoolBuilder::new()
                            .num_threads(threads)
                            .build()
                            .map_err(|e| Error::invalid("Study::optimize_parallel", format!("thread pool: {e}")))?;
                        pool.install(|| this.worker(w, n_trials, deadline, &mut |t: &mut Trial| objective(t)))
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|_| Err(Error::invalid("Study::optimize_parallel", "a trial panicked")))
                })
                .collect()
        });
        results.into_iter().collect()
    }

    fn worker(
        &self,
        worker: usize,
        n_trials: usize,
        deadline: Option<Instant>,
        objective: &mut dyn FnMut(&mut Trial) -> Result<f64>,
    ) -> Result<()> {
        let limit = match self.sampler.grid_size(&self.space)? {
            Some(g) => n_trials.min(g),
            None => n_trials,
        };
        let device = self.devices[worker % self.devices.len()];
        loop {
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Ok(());
            }
            let (number, params) = {
                let mut state = self.shared.lock();
                let taken = |n: usize| state.running.contains_key(&n) || state.finished.iter().any(|t| t.number == n);
                let Some(number) = (0..limit).find(|&n| !taken(n)) else {
                    return Ok(());
                };
                let params = self
                    .sampler
                    .sample(&self.space, number, self.seed, &state.finished, self.direction)?;
                state.running.insert(number, Running::default());
                (number, params)
            };
            let seed = trial_seed(self.seed, number);
            let mut trial = Trial {
                number,
                seed,
                params: params.clone(),
                device,
                shared: self.shared.clone(),
            };
            let start = Instant::now();
            let result = crate::fork_rng(seed, || objective(&mut trial));
            let duration_s = start.elapsed().as_secs_f64();
            let mut state = self.shared.lock();
            let run = state.running.remove(&number).unwrap_or_default();
            let last = run.intermediate.last().map(|(_, v)| *v);
            let (trial_state, value, message) = match result {
                _ if run.pruned => (TrialState::Pruned, last, None),
                Ok(v) if v.is_nan() => (TrialState::Failed, None, Some("the objective returned NaN".to_string())),
                Ok(v) => (TrialState::Complete, Some(v), None),
                Err(e) => (TrialState::Failed, None, Some(e.to_string())),
            };
            let record = TrialRecord {
                number,
                seed,
                params,
                state: trial_state,
                value,
                intermediate: run.intermediate,
                message,
                duration_s,
            };
            let at = state.finished.partition_point(|t| t.number < number);
            state.finished.insert(at, record.clone());
            if let Some(path) = &self.storage {
                let file = StudyFile::new(&self.space, self.direction, &self.sampler, self.seed, &state.finished);
                file.write(path)?;
            }
            if self.verbose {
                let best = best_of(&state.finished, self.direction);
                eprintln!("{}", describe(&record, best));
            }
        }
    }

    /// The finished trials, by number.
    pub fn trials(&self) -> Vec<TrialRecord> {
        self.shared.lock().finished.clone()
    }

    /// The best completed trial.
    pub fn best_trial(&self) -> Option<TrialRecord> {
        best_of(&self.shared.lock().finished, self.direction).cloned()
    }

    /// The `k` best completed trials, best first (ties by number).
    pub fn top_trials(&self, k: usize) -> Vec<TrialRecord> {
        let state = self.shared.lock();
        let mut done: Vec<&TrialRecord> = state
            .finished
            .iter()
            .filter(|t| t.state == TrialState::Complete)
            .collect();
        done.sort_by(|a, b| {
            self.direction
                .cmp(a.value.unwrap_or(f64::NAN), b.value.unwrap_or(f64::NAN))
                .then(a.number.cmp(&b.number))
        });
        done.into_iter().take(k).cloned().collect()
    }

    /// The search space.
    pub fn space(&self) -> &SearchSpace {
        &self.space
    }

    /// Whether values are minimised or maximised.
    pub fn direction(&self) -> Direction {
        self.direction
    }
}

fn best_of(trials: &[TrialRecord], direction: Direction) -> Option<&TrialRecord> {
    trials
        .iter()
        .filter(|t| t.state == TrialState::Complete)
        .min_by(|a, b| {
            direction
                .cmp(a.value.unwrap_or(f64::NAN), b.value.unwrap_or(f64::NAN))
                .then(a.number.cmp(&b.number))
        })
}

fn describe(t: &TrialRecord, best: Option<&TrialRecord>) -> String {
    let value = match (t.state, t.value) {
        (TrialState::Failed, _) => format!("failed: {}", t.message.as_deref().unwrap_or("")),
        (_, Some(v)) => format!("{} with value {v:.6}", t.state),
        (_, None) => t.state.to_string(),
    };
    let best = best
        .and_then(|b| b.value.map(|v| format!("; best is trial {} with {v:.6}", b.number)))
        .unwrap_or_default();
    format!(
        "[search] trial {} {value} in {:.1} s ({}){best}",
        t.number, t.duration_s, t.params
    )
}
