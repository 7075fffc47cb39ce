//! [`Trial`]: what an objective sees of the search (its parameters, seed and
//! device, and `report` for pruning); [`TrialRecord`]: a finished trial.

use super::shared::Shared;
use super::space::{ParamValue, Params};
use crate::train::{Callback, CallbackContext, Logs, StopInfo};
use crate::{Device, Error, Result};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// How a trial ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TrialState {
    /// The objective returned a number.
    Complete,
    /// The pruner stopped it early; its value is its last reported one.
    Pruned,
    /// The objective returned an error or a NaN; see [`TrialRecord::message`].
    Failed,
}

impl std::fmt::Display for TrialState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TrialState::Complete => "complete",
            TrialState::Pruned => "pruned",
            TrialState::Failed => "failed",
        })
    }
}

/// A finished trial, as the study file keeps it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrialRecord {
    /// Its number: trial `k` is the `k`-th the sampler proposed (from 0).
    pub number: usize,
    /// The seed its random ops ran with.
    pub seed: u64,
    /// Its hyper-parameters.
    pub params: Params,
    /// How it ended.
    pub state: TrialState,
    /// The objective's value (complete), the last reported value (pruned),
    /// `None` when failed.
    #[serde(with = "super::json_f64::option")]
    pub value: Option<f64>,
    /// The values it reported, as `(step, value)`.
    #[serde(with = "super::json_f64::steps")]
    pub intermediate: Vec<(usize, f64)>,
    /// The error of a failed trial.
    pub message: Option<String>,
    /// Seconds it ran.
    pub duration_s: f64,
}

impl TrialRecord {
    /// The value reported at `step`, if any.
    pub fn value_at(&self, step: usize) -> Option<f64> {
        self.intermediate
            .iter()
            .rev()
            .find(|(s, _)| *s == step)
            .map(|(_, v)| *v)
    }
}

/// One run of the objective: its hyper-parameters, a seed, a device, and
/// [`Trial::report`] to hand per-epoch values to the pruner.
///
/// Random ops inside the objective (initialisation, dropout) already draw from
/// a generator seeded with [`Trial::seed`] (see [`crate::fork_rng`]); pass
/// the seed to a [`crate::train::Trainer::seed`] too for a reproducible
/// shuffle.
pub struct Trial {
    pub(crate) number: usize,
    pub(crate) seed: u64,
    pub(crate) params: Params,
    pub(crate) device: Device,
    pub(crate) shared: Arc<Shared>,
}

impl Trial {
    /// Its number (0-based, in the order the sampler proposed trials).
    pub fn number(&self) -> usize {
        self.number
    }

    /// A seed of its own, derived from the study's seed and its number.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// All its hyper-parameters.
    pub fn params(&self) -> &Params {
        &self.params
    }

    /// The device this trial should train on (the study's devices are dealt
    /// round-robin to its parallel workers).
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// Parameter `name` as a float.
    pub fn f64(&self, name: &str) -> Result<f64> {
        self.params.f64(name)
    }

    /// Parameter `name` as an integer.
    pub fn i64(&self, name: &str) -> Result<i64> {
        self.params.i64(name)
    }

    /// Parameter `name` as a size.
    pub fn usize(&self, name: &str) -> Result<usize> {
        self.params.usize(name)
    }

    /// Parameter `name` as a string choice.
    pub fn str(&self, name: &str) -> Result<&str> {
        self.params.str(name)
    }

    /// Parameter `name`.
    pub fn get(&self, name: &str) -> Option<&ParamValue> {
        self.params.get(name)
    }

    /// Records the value at `step` (an epoch index, from 0) and asks the
    /// study's pruner whether the trial should stop; read the answer with
    /// [`Trial::should_prune`]. A NaN value counts as the worst possible.
    pub fn report(&self, step: usize, value: f64) -> Result<()> {
        self.shared.report(self.number, step, value)
    }

    /// True once the pruner decided, at a [`Trial::report`], that this trial
    /// should stop. The objective should then return (its value is ignored;
    /// the trial is recorded as pruned with its last reported value).
    pub fn should_prune(&self) -> bool {
        self.shared.is_pruned(self.number)
    }

    /// A [`Callback`] for `fit` that reports the epoch value `monitor`
    /// (`"val_loss"`, `"val_accuracy"`) every epoch and stops training when
    /// the pruner says so.
    pub fn reporter(&self, monitor: impl Into<String>) -> TrialReporter<'_> {
        TrialReporter {
            trial: self,
            monitor: monitor.into(),
        }
    }
}

/// Reports a monitored epoch value of `fit` to its [`Trial`] and stops
/// training when the trial is pruned (Optuna's `KerasPruningCallback`).
pub struct TrialReporter<'t> {
    trial: &'t Trial,
    monitor: String,
}

impl Callback for TrialReporter<'_> {
    fn on_epoch_end(&mut self, epoch: usize, logs: &mut Logs, ctx: &mut CallbackContext<'_>) -> Result<()> {
        let value = logs.get(&self.monitor).ok_or_else(|| {
            let names: Vec<&str> = logs.names().collect();
            Error::invalid(
                "TrialReporter",
                format!(
                    "the monitored value {:?} is not in the epoch logs (available: {names:?})",
                    self.monitor
                ),
            )
        })?;
        self.trial.report(epoch, value)?;
        if self.trial.should_prune() {
            ctx.request_stop(StopInfo {
                epoch,
                batch: None,
                by: "TrialReporter".into(),
                reason: format!(
                    "trial {} pruned at epoch {} ({} = {value})",
                    self.trial.number,
                    epoch + 1,
                    self.monitor
                ),
            });
        }
        Ok(())
    }
}
