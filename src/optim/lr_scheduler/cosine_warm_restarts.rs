//! CosineAnnealingWarmRestarts (SGDR): cosine decay restarted every `t_i` epochs.

use super::base::{Base, Chainable, check_eta_min, check_groups, set_lrs};
use super::check_target_epoch;
use super::{LrScheduler, SchedulerState};
use crate::optim::Optimizer;
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::f64::consts::PI;

/// Cosine annealing with warm restarts (PyTorch's
/// `CosineAnnealingWarmRestarts`): within a cycle of `t_i` epochs,
///
/// ```text
/// lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * t_cur / t_i)) / 2
/// ```
///
/// and at the end of a cycle the lr jumps back to the base lr while the next
/// cycle is `t_mult` times longer (`t_0`, `t_0 * t_mult`, ...).
///
/// ```
/// use neurite::optim::lr_scheduler::{CosineAnnealingWarmRestarts, LrScheduler};
/// use neurite::optim::{Optimizer, Sgd, SgdConfig};
/// # fn main() -> neurite::Result<()> {
/// # let w = neurite::Tensor::zeros(1, neurite::DType::F32, &neurite::Device::cpu())?;
/// let mut opt = Sgd::new(vec![w], SgdConfig::new(0.1))?;
/// let mut sched = CosineAnnealingWarmRestarts::new(&mut opt, 2, 2, 0.0)?;
/// let mut lrs = vec![opt.lr()];
/// for _ in 0..3 {
///     sched.step(&mut opt)?;
///     lrs.push(opt.lr());
/// }
/// // A 2-epoch cycle, then a restart into a 4-epoch one.
/// assert!((lrs[1] - 0.05).abs() < 1e-12 && lrs[2] == 0.1);
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CosineAnnealingWarmRestarts {
    base: Base,
    t_0: u64,
    t_mult: u64,
    eta_min: f64,
    /// Length of the current cycle.
    t_i: u64,
    /// Epochs since the last restart (fractional after an explicit epoch jump).
    t_cur: f64,
}

impl CosineAnnealingWarmRestarts {
    /// Attaches to `opt` (its lr is unchanged at epoch 0). Errors unless
    /// `t_0 >= 1`, `t_mult >= 1` and `eta_min` is finite and `>= 0`.
    pub fn new(opt: &mut dyn Optimizer, t_0: u64, t_mult: u64, eta_min: f64) -> Result<CosineAnnealingWarmRestarts> {
        let mut s = CosineAnnealingWarmRestarts {
            base: Base::attach(opt)?,
            t_0,
            t_mult,
            eta_min,
            t_i: t_0,
            t_cur: -1.0,
        };
        s.validate()?;
        s.step_impl(opt, None)?;
        Ok(s)
    }

    pub(crate) fn validate(&self) -> Result<()> {
        const OP: &str = "CosineAnnealingWarmRestarts";
        if self.t_0 == 0 {
            return Err(Error::invalid(OP, "t_0 must be a positive integer, got 0"));
        }
        if self.t_mult == 0 {
            return Err(Error::invalid(OP, "t_mult must be an integer >= 1, got 0"));
        }
        if self.t_i == 0 || !self.t_cur.is_finite() {
            return Err(Error::invalid(
                OP,
                format!("invalid saved cycle state: t_i {} and t_cur {}", self.t_i, self.t_cur),
            ));
        }
        check_eta_min(OP, self.eta_min)?;
        self.base.validate(OP)
    }

    /// Length of the current cycle and epochs into it.
    pub fn cycle(&self) -> (u64, f64) {
        (self.t_i, self.t_cur)
    }

    /// PyTorch's `step(epoch=None)`; `Some(epoch)` jumps there. The cycle,
    /// the epoch counter and the lrs change only when every group's new lr
    /// is valid.
    fn step_impl(&mut self, opt: &mut dyn Optimizer, epoch: Option<i64>) -> Result<()> {
        const OP: &str = "CosineAnnealingWarmRestarts.step";
        check_groups(opt, self.base.base_lrs.len())?;
        let epoch = match epoch {
            None if self.base.last_epoch < 0 => Some(0),
            e => e,
        };
        let (mut t_i, mut t_cur) = (self.t_i, self.t_cur);
        let next_epoch = match epoch {
            None => {
                t_cur += 1.0;
                if t_cur >= t_i as f64 {
                    t_cur %= t_i as f64;
                    // A cycle longer than u64::MAX epochs never ends anyway.
                    t_i = t_i.saturating_mul(self.t_mult);
                }
                super::next_epoch(OP, self.base.last_epoch)?
            }
            Some(epoch) => {
                check_target_epoch(OP, epoch)?;
                let (t_0, t_mult) = (self.t_0 as f64, self.t_mult as f64);
                // In 0..=2^53, so the cast to u64 and to f64 are exact.
                let e = epoch as u64;
                if e >= self.t_0 {
                    if self.t_mult == 1 {
                        t_cur = (e % self.t_0) as f64;
                    } else {
                        let n = ((epoch as f64 / t_0 * (t_mult - 1.0) + 1.0).ln() / t_mult.ln()) as i32;
                        t_cur = epoch as f64 - t_0 * (t_mult.powi(n) - 1.0) / (t_mult - 1.0);
                        // Saturating float-to-int cast; the clamp keeps a cycle
                        // length of at least one epoch.
                        t_i = ((t_0 * t_mult.powi(n)) as u64).max(1);
                    }
                } else {
                    t_i = self.t_0;
                    t_cur = epoch as f64;
                }
                epoch
            }
        };
        if !t_cur.is_finite() {
            return Err(Error::invalid(
                OP,
                format!(
                    "epoch {next_epoch} is too far into the cycles of t_0 {} and t_mult {}",
                    self.t_0, self.t_mult
                ),
            ));
        }
        let lrs: Vec<f64> = (0..self.base.base_lrs.len())
            .map(|g| self.lr_at(g, t_cur, t_i))
            .collect();
        set_lrs("CosineAnnealingWarmRestarts", opt, &lrs)?;
        (self.t_i, self.t_cur, self.base.last_epoch) = (t_i, t_cur, next_epoch);
        self.base.last_lrs = opt.group_lrs();
        Ok(())
    }

    /// The lr of `group` at `t_cur` epochs into a cycle of `t_i`.
    fn lr_at(&self, group: usize, t_cur: f64, t_i: u64) -> f64 {
        let (eta_min, base_lr) = (self.eta_min, self.base.base_lrs[group]);
        eta_min + (base_lr - eta_min) * (1.0 + (PI * t_cur / t_i as f64).cos()) / 2.0
    }
}

impl Chainable for CosineAnnealingWarmRestarts {
    fn base(&self) -> &Base {
        &self.base
    }
    fn base_mut(&mut self) -> &mut Base {
        &mut self.base
    }
    fn get_lr(&self, group: usize, _current: f64, _initial: bool) -> Result<f64> {
        Ok(self.lr_at(group, self.t_cur, self.t_i))
    }
}

impl LrScheduler for CosineAnnealingWarmRestarts {
    fn name(&self) -> &'static str {
        "CosineAnnealingWarmRestarts"
    }
    fn step(&mut self, opt: &mut dyn Optimizer) -> Result<()> {
        self.step_impl(opt, None)
    }
    fn get_last_lr(&self) -> f64 {
        self.base.last_lr()
    }
    fn get_last_lrs(&self) -> Vec<f64> {
        self.base.last_lrs.clone()
    }
    fn last_epoch(&self) -> i64 {
        self.base.last_epoch
    }
    fn state(&self) -> SchedulerState {
        SchedulerState::CosineAnnealingWarmRestarts(self.clone())
    }
    fn load_state(&mut self, state: &SchedulerState) -> Result<()> {
        match state {
            SchedulerState::CosineAnnealingWarmRestarts(s) => {
                s.validate()?;
                *self = s.clone();
                Ok(())
            }
            other => Err(other.mismatch("CosineAnnealingWarmRestarts")),
        }
    }
    fn step_to_epoch(&mut self, epoch: i64, opt: &mut dyn Optimizer) -> Result<()> {
        self.step_impl(opt, Some(epoch))
    }
    fn initial_step(&mut self, opt: &mut dyn Optimizer) -> Result<()> {
        self.step_impl(opt, None)
    }
    fn undo_step(&mut self) {
        self.base.last_epoch = self.base.last_epoch.saturating_sub(1);
    }
}
