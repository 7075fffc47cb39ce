//! The bookkeeping PyTorch's `LRScheduler` base class does for every chainable
//! schedule: the epoch counter, the base lr, and the update step.

use super::super::Optimizer;
use crate::{Error, Result};
use serde::{Deserialize, Serialize};

/// The epoch counter and learning rates shared by the chainable schedules.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Base {
    /// The optimizer's `initial_lr` when the scheduler was built.
    pub(crate) base_lr: f64,
    /// Index of the last epoch stepped.
    pub(crate) last_epoch: i64,
    /// Number of `step` calls since the construction step (PyTorch's `_step_count`).
    pub(crate) step_count: u64,
    /// The lr set by the last step.
    pub(crate) last_lr: f64,
}

impl Base {
    /// Attaches to `opt` as PyTorch does with `last_epoch = -1`: the optimizer's
    /// `initial_lr` is set to its current lr unless a scheduler already set it,
    /// and becomes this schedule's base lr.
    pub(crate) fn attach(opt: &mut dyn Optimizer) -> Base {
        let base_lr = match opt.initial_lr() {
            Some(lr) => lr,
            None => {
                let lr = opt.lr();
                opt.set_initial_lr(Some(lr));
                lr
            }
        };
        Base {
            base_lr,
            last_epoch: -1,
            step_count: 0,
            last_lr: opt.lr(),
        }
    }

    /// Checks values that may come from a deserialized checkpoint.
    pub(crate) fn validate(&self, op: &'static str) -> Result<()> {
        if !self.base_lr.is_finite() || !self.last_lr.is_finite() {
            return Err(Error::invalid(
                op,
                format!("base lr {} and last lr {} must be finite", self.base_lr, self.last_lr),
            ));
        }
        // Nested SequentialLr construction can leave a schedule a few epochs
        // before -1; the upper bound keeps `last_epoch + 1` from overflowing.
        if !(-64..=(1i64 << 53)).contains(&self.last_epoch) {
            return Err(Error::invalid(
                op,
                format!("last_epoch {} is outside [-64, 2^53]", self.last_epoch),
            ));
        }
        Ok(())
    }
}

/// A schedule written as PyTorch's `get_lr` (and `_get_closed_form_lr`).
pub(crate) trait Chainable {
    fn base(&self) -> &Base;
    fn base_mut(&mut self) -> &mut Base;

    /// The lr for epoch `self.base().last_epoch`, from the optimizer's current
    /// lr `current`; `initial` is true during the construction step.
    fn get_lr(&self, current: f64, initial: bool) -> Result<f64>;

    /// The lr for epoch `self.base().last_epoch` from the base lr alone, where
    /// the schedule has such a formula.
    fn closed_form(&self) -> Option<f64> {
        None
    }

    /// Runs after the lr was set (OneCycleLR sets the momentum here).
    fn after_update(&self, opt: &mut dyn Optimizer) -> Result<()> {
        let _ = opt;
        Ok(())
    }
}

/// PyTorch's `_update_lr`: advances to `epoch` (or the next one) and sets the lr.
/// The epoch counter is left unchanged when the schedule errors.
pub(crate) fn update_lr<S: Chainable>(
    s: &mut S,
    opt: &mut dyn Optimizer,
    epoch: Option<i64>,
    initial: bool,
) -> Result<()> {
    let previous = s.base().last_epoch;
    s.base_mut().last_epoch = epoch.unwrap_or(previous + 1);
    let lr = match epoch.and_then(|_| s.closed_form()) {
        Some(lr) => Ok(lr),
        None => s.get_lr(opt.lr(), initial),
    };
    let lr = match lr {
        Ok(lr) => lr,
        Err(e) => {
            s.base_mut().last_epoch = previous;
            return Err(e);
        }
    };
    opt.set_lr(lr);
    s.after_update(opt)?;
    s.base_mut().last_lr = opt.lr();
    Ok(())
}

/// PyTorch's `step()` without an epoch.
pub(crate) fn step<S: Chainable>(s: &mut S, opt: &mut dyn Optimizer) -> Result<()> {
    s.base_mut().step_count += 1;
    update_lr(s, opt, None, false)
}

/// PyTorch's `_initial_step()`: the step made at construction.
pub(crate) fn initial_step<S: Chainable>(s: &mut S, opt: &mut dyn Optimizer) -> Result<()> {
    s.base_mut().step_count = 1;
    update_lr(s, opt, None, true)
}

/// Implements [`super::LrScheduler`] for a [`Chainable`] schedule stored in
/// the [`super::SchedulerState`] variant of the same name, with a `base`
/// field and a `validate(&self) -> Result<()>` method.
macro_rules! chainable_scheduler {
    ($ty:ident, $name:literal) => {
        impl $crate::optim::lr_scheduler::LrScheduler for $ty {
            fn name(&self) -> &'static str {
                $name
            }
            fn step(&mut self, opt: &mut dyn $crate::optim::Optimizer) -> $crate::Result<()> {
                $crate::optim::lr_scheduler::base::step(self, opt)
            }
            fn get_last_lr(&self) -> f64 {
                self.base.last_lr
            }
            fn last_epoch(&self) -> i64 {
                self.base.last_epoch
            }
            fn state(&self) -> $crate::optim::lr_scheduler::SchedulerState {
                $crate::optim::lr_scheduler::SchedulerState::$ty(self.clone())
            }
            fn load_state(&mut self, state: &$crate::optim::lr_scheduler::SchedulerState) -> $crate::Result<()> {
                match state {
                    $crate::optim::lr_scheduler::SchedulerState::$ty(s) => {
                        s.validate()?;
                        *self = s.clone();
                        Ok(())
                    }
                    other => Err(other.mismatch($name)),
                }
            }
            fn step_to_epoch(&mut self, epoch: i64, opt: &mut dyn $crate::optim::Optimizer) -> $crate::Result<()> {
                if epoch < 0 {
                    return Err($crate::Error::invalid(
                        "step_to_epoch",
                        format!("expected a non-negative epoch, got {epoch}"),
                    ));
                }
                $crate::optim::lr_scheduler::base::update_lr(self, opt, Some(epoch), false)
            }
            fn initial_step(&mut self, opt: &mut dyn $crate::optim::Optimizer) -> $crate::Result<()> {
                $crate::optim::lr_scheduler::base::initial_step(self, opt)
            }
            fn undo_step(&mut self) {
                self.base.last_epoch -= 1;
            }
        }
    };
}

pub(crate) use chainable_scheduler;
