//! ReduceLROnPlateau: cut the lr when a monitored metric stops improving.

use super::base::{check_groups, check_lrs};
use super::{LrScheduler, SchedulerState};
use crate::optim::Optimizer;
use crate::{Error, Result};
use serde::{Deserialize, Serialize};

/// Whether the monitored metric should go down (a loss) or up (an accuracy).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PlateauMode {
    /// Lower is better.
    Min,
    /// Higher is better.
    Max,
}

/// How `threshold` defines a significant improvement.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ThresholdMode {
    /// Better than `best * (1 - threshold)` (min) or `best * (1 + threshold)` (max).
    Rel,
    /// Better than `best - threshold` (min) or `best + threshold` (max).
    Abs,
}

/// Configuration of [`ReduceLrOnPlateau`]; the defaults are PyTorch's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlateauConfig {
    /// Min (default) or max.
    pub mode: PlateauMode,
    /// The lr is multiplied by this on a plateau (default 0.1).
    pub factor: f64,
    /// Epochs without improvement tolerated before cutting (default 10).
    pub patience: usize,
    /// Size of a significant improvement (default `1e-4`).
    pub threshold: f64,
    /// Relative (default) or absolute threshold.
    pub threshold_mode: ThresholdMode,
    /// Epochs to wait after a cut before counting again (default 0).
    pub cooldown: usize,
    /// The lr never goes below this (default 0).
    pub min_lr: f64,
    /// Cuts smaller than this are skipped (default `1e-8`).
    pub eps: f64,
}

impl Default for PlateauConfig {
    fn default() -> Self {
        PlateauConfig {
            mode: PlateauMode::Min,
            factor: 0.1,
            patience: 10,
            threshold: 1e-4,
            threshold_mode: ThresholdMode::Rel,
            cooldown: 0,
            min_lr: 0.0,
            eps: 1e-8,
        }
    }
}

impl PlateauConfig {
    fn validate(&self) -> Result<()> {
        const OP: &str = "ReduceLROnPlateau";
        if !(0.0..1.0).contains(&self.factor) {
            return Err(Error::invalid(
                OP,
                format!("factor must be in [0, 1), got {}", self.factor),
            ));
        }
        for (name, v) in [
            ("threshold", self.threshold),
            ("min_lr", self.min_lr),
            ("eps", self.eps),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(Error::invalid(OP, format!("{name} must be finite and >= 0, got {v}")));
            }
        }
        Ok(())
    }
}

/// Multiplies every group's lr by `factor` once the metric has not improved for more
/// than `patience` epochs (PyTorch's `ReduceLROnPlateau`). Stepped with
/// [`LrScheduler::step_with_metric`]; plain [`LrScheduler::step`] is an error.
/// It does not change the lr at construction.
///
/// ```
/// use neurite::optim::lr_scheduler::{LrScheduler, PlateauConfig, ReduceLrOnPlateau};
/// use neurite::optim::{Optimizer, Sgd, SgdConfig};
/// # fn main() -> neurite::Result<()> {
/// # let w = neurite::Tensor::zeros(1, neurite::DType::F32, &neurite::Device::cpu())?;
/// let mut opt = Sgd::new(vec![w], SgdConfig::new(0.1))?;
/// let mut sched = ReduceLrOnPlateau::new(&opt, PlateauConfig { patience: 1, factor: 0.5, ..Default::default() })?;
/// for val_loss in [1.0, 0.8, 0.9, 0.85] {
///     sched.step_with_metric(val_loss, &mut opt)?;
/// }
/// assert_eq!(opt.lr(), 0.05); // two epochs without improving on 0.8
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReduceLrOnPlateau {
    config: PlateauConfig,
    /// The lowest lr of each parameter group.
    min_lrs: Vec<f64>,
    /// The best metric so far; `None` before the first finite improvement
    /// (PyTorch's `mode_worse`, kept out of the state because JSON has no infinity).
    best: Option<f64>,
    num_bad_epochs: usize,
    cooldown_counter: usize,
    last_epoch: i64,
    /// Every group's lr after the last step.
    last_lrs: Vec<f64>,
}

impl ReduceLrOnPlateau {
    /// Watches `opt` (read only: the lr is not changed until a plateau); every
    /// group's lr stays at or above `config.min_lr`. Errors unless
    /// `0 <= factor < 1` and threshold, min_lr and eps are finite and `>= 0`.
    pub fn new(opt: &dyn Optimizer, config: PlateauConfig) -> Result<ReduceLrOnPlateau> {
        let min_lrs = vec![config.min_lr; opt.num_groups()];
        Self::with_min_lrs(opt, config, min_lrs)
    }

    /// [`ReduceLrOnPlateau::new`] with one lower bound per parameter group
    /// (PyTorch's list `min_lr`), which replaces `config.min_lr`. Errors, too,
    /// unless there is one finite value `>= 0` per group.
    ///
    /// ```
    /// use neurite::optim::lr_scheduler::{LrScheduler, PlateauConfig, ReduceLrOnPlateau};
    /// use neurite::optim::{Optimizer, ParamGroup, Sgd, SgdConfig};
    /// # fn main() -> neurite::Result<()> {
    /// # let t = || neurite::Tensor::zeros(1, neurite::DType::F32, &neurite::Device::cpu()).map(|t| t.requires_grad());
    /// let groups = vec![ParamGroup::new(vec![t()?]), ParamGroup::new(vec![t()?]).lr(0.01)];
    /// let mut opt = Sgd::with_groups(groups, SgdConfig::new(0.1))?;
    /// let config = PlateauConfig { patience: 0, factor: 0.5, ..Default::default() };
    /// let mut sched = ReduceLrOnPlateau::with_min_lrs(&opt, config, vec![0.0, 0.008])?;
    /// for loss in [1.0, 1.0, 1.0] {
    ///     sched.step_with_metric(loss, &mut opt)?;
    /// }
    /// assert_eq!(sched.get_last_lrs(), vec![0.025, 0.008]);
    /// # Ok(()) }
    /// ```
    pub fn with_min_lrs(opt: &dyn Optimizer, config: PlateauConfig, min_lrs: Vec<f64>) -> Result<ReduceLrOnPlateau> {
        let s = ReduceLrOnPlateau {
            config,
            min_lrs,
            best: None,
            num_bad_epochs: 0,
            cooldown_counter: 0,
            last_epoch: 0,
            last_lrs: opt.group_lrs(),
        };
        s.validate()?;
        Ok(s)
    }

    pub(crate) fn validate(&self) -> Result<()> {
        const OP: &str = "ReduceLROnPlateau";
        self.config.validate()?;
        check_lrs(OP, "last lrs", &self.last_lrs)?;
        if self.min_lrs.len() != self.last_lrs.len() {
            return Err(Error::invalid(
                OP,
                format!(
                    "expected one min_lr per parameter group ({}), got {}",
                    self.last_lrs.len(),
                    self.min_lrs.len()
                ),
            ));
        }
        if let Some(v) = self.min_lrs.iter().find(|v| !(v.is_finite() && **v >= 0.0)) {
            return Err(Error::invalid(OP, format!("min_lr must be finite and >= 0, got {v}")));
        }
        if !(0..=super::MAX_EPOCH).contains(&self.last_epoch) {
            return Err(Error::invalid(
                OP,
                format!("invalid saved counter: last_epoch {}", self.last_epoch),
            ));
        }
        Ok(())
    }

    /// The configuration.
    pub fn config(&self) -> &PlateauConfig {
        &self.config
    }

    /// The best metric seen so far, if any.
    pub fn best(&self) -> Option<f64> {
        self.best
    }

    /// Consecutive epochs without a significant improvement.
    pub fn num_bad_epochs(&self) -> usize {
        self.num_bad_epochs
    }

    /// True while waiting after a cut.
    pub fn in_cooldown(&self) -> bool {
        self.cooldown_counter > 0
    }

    fn is_better(&self, a: f64) -> bool {
        let c = &self.config;
        let best = self.best.unwrap_or(match c.mode {
            PlateauMode::Min => f64::INFINITY,
            PlateauMode::Max => f64::NEG_INFINITY,
        });
        match (c.mode, c.threshold_mode) {
            (PlateauMode::Min, ThresholdMode::Rel) => a < best * (1.0 - c.threshold),
            (PlateauMode::Min, ThresholdMode::Abs) => a < best - c.threshold,
            (PlateauMode::Max, ThresholdMode::Rel) => a > best * (c.threshold + 1.0),
            (PlateauMode::Max, ThresholdMode::Abs) => a > best + c.threshold,
        }
    }

    /// The lower bound of each group's lr.
    pub fn min_lrs(&self) -> &[f64] {
        &self.min_lrs
    }

    /// PyTorch's `_reduce_lr`: each group's lr times `factor`, not below its
    /// `min_lr`, unless the cut would be smaller than `eps`.
    fn reduce_lr(&self, opt: &mut dyn Optimizer) -> Result<()> {
        for (g, &min_lr) in self.min_lrs.iter().enumerate() {
            let old = opt.group_lr(g)?;
            let new = (old * self.config.factor).max(min_lr);
            if old - new > self.config.eps {
                opt.set_group_lr(g, new)?;
            }
        }
        Ok(())
    }
}

impl LrScheduler for ReduceLrOnPlateau {
    fn name(&self) -> &'static str {
        "ReduceLROnPlateau"
    }

    fn step(&mut self, _opt: &mut dyn Optimizer) -> Result<()> {
        Err(Error::invalid(
            "ReduceLROnPlateau.step",
            "this scheduler needs the monitored metric: call step_with_metric(metric, optimizer)",
        ))
    }

    fn step_with_metric(&mut self, metric: f64, opt: &mut dyn Optimizer) -> Result<()> {
        check_groups(opt, self.min_lrs.len())?;
        let epoch = super::next_epoch("ReduceLROnPlateau.step", self.last_epoch)?;
        self.last_epoch = epoch;
        if self.is_better(metric) {
            self.best = Some(metric);
            self.num_bad_epochs = 0;
        } else {
            // Saturating: a restored state may hold any count.
            self.num_bad_epochs = self.num_bad_epochs.saturating_add(1);
        }
        if self.in_cooldown() {
            self.cooldown_counter -= 1;
            self.num_bad_epochs = 0; // bad epochs during cooldown do not count
        }
        if self.num_bad_epochs > self.config.patience {
            self.reduce_lr(opt)?;
            self.cooldown_counter = self.config.cooldown;
            self.num_bad_epochs = 0;
        }
        self.last_lrs = opt.group_lrs();
        Ok(())
    }

    fn needs_metric(&self) -> bool {
        true
    }

    fn get_last_lr(&self) -> f64 {
        self.last_lrs.first().copied().unwrap_or(f64::NAN)
    }

    fn get_last_lrs(&self) -> Vec<f64> {
        self.last_lrs.clone()
    }

    fn last_epoch(&self) -> i64 {
        self.last_epoch
    }

    fn state(&self) -> SchedulerState {
        SchedulerState::ReduceLrOnPlateau(self.clone())
    }

    fn load_state(&mut self, state: &SchedulerState) -> Result<()> {
        match state {
            SchedulerState::ReduceLrOnPlateau(s) => {
                s.validate()?;
                *self = s.clone();
                Ok(())
            }
            other => Err(other.mismatch("ReduceLROnPlateau")),
        }
    }

    fn initial_step(&mut self, _opt: &mut dyn Optimizer) -> Result<()> {
        Ok(())
    }
}
