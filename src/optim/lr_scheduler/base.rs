//! The bookkeeping PyTorch's `LRScheduler` base class does for every chainable
//! schedule: the epoch counter, the base lr, and the update step.

use super::super::Optimizer;
use super::{MAX_EPOCH, check_target_epoch, next_epoch};
use crate::{Error, Result};
use serde::{Deserialize, Serialize};

/// The epoch counter and learning rates shared by the chainable schedules,
/// one lr per parameter group.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Base {
    /// Each group's `initial_lr` when the scheduler was built.
    pub(crate) base_lrs: Vec<f64>,
    /// Index of the last epoch stepped.
    pub(crate) last_epoch: i64,
    /// Number of `step` calls since the construction step (PyTorch's `_step_count`).
    pub(crate) step_count: u64,
    /// The lr of each group set by the last step.
    pub(crate) last_lrs: Vec<f64>,
}

impl Base {
    /// Attaches to `opt` as PyTorch does with `last_epoch = -1`: each group's
    /// `initial_lr` is set to its current lr unless a scheduler already set
    /// it, and becomes this schedule's base lr for the group.
    pub(crate) fn attach(opt: &mut dyn Optimizer) -> Result<Base> {
        let n = opt.num_groups();
        if n == 0 {
            return Err(Error::invalid(
                "lr_scheduler",
                format!("{} reports no parameter groups to schedule", opt.name()),
            ));
        }
        let mut base_lrs = Vec::with_capacity(n);
        for g in 0..n {
            let lr = match opt.group_initial_lr(g)? {
                Some(lr) => lr,
                None => {
                    let lr = opt.group_lr(g)?;
                    opt.set_group_initial_lr(g, Some(lr))?;
                    lr
                }
            };
            base_lrs.push(lr);
        }
        Ok(Base {
            base_lrs,
            last_epoch: -1,
            step_count: 0,
            last_lrs: opt.group_lrs(),
        })
    }

    /// Checks values that may come from a deserialized checkpoint.
    pub(crate) fn validate(&self, op: &'static str) -> Result<()> {
        check_lrs(op, "base lrs", &self.base_lrs)?;
        check_lrs(op, "last lrs", &self.last_lrs)?;
        if self.base_lrs.len() != self.last_lrs.len() {
            return Err(Error::invalid(
                op,
                format!(
                    "{} base lrs but {} last lrs: one of each per parameter group",
                    self.base_lrs.len(),
                    self.last_lrs.len()
                ),
            ));
        }
        // Nested SequentialLr construction can leave a schedule a few epochs
        // before -1; the upper bound keeps `last_epoch + 1` from overflowing.
        if !(-64..=MAX_EPOCH).contains(&self.last_epoch) {
            return Err(Error::invalid(
                op,
                format!("last_epoch {} is outside [-64, 2^53]", self.last_epoch),
            ));
        }
        Ok(())
    }

    /// The lr of group 0 set by the last step.
    pub(crate) fn last_lr(&self) -> f64 {
        self.last_lrs.first().copied().unwrap_or(f64::NAN)
    }
}

/// Errors unless `lrs` holds at least one value, all finite.
pub(crate) fn check_lrs(op: &'static str, what: &str, lrs: &[f64]) -> Result<()> {
    if lrs.is_empty() {
        return Err(Error::invalid(
            op,
            format!("no {what}: expected one per parameter group"),
        ));
    }
    if let Some(lr) = lrs.iter().find(|lr| !lr.is_finite()) {
        return Err(Error::invalid(
            op,
            format!("{what} must be finite, got {lr} in {lrs:?}"),
        ));
    }
    Ok(())
}

/// Sets every group's lr to `lrs` after checking them all, so that a
/// schedule that computed an invalid lr for one group (NaN from a corrupt
/// state, a value below 0) changes no group.
pub(crate) fn set_lrs(op: &'static str, opt: &mut dyn Optimizer, lrs: &[f64]) -> Result<()> {
    if let Some((g, lr)) = lrs.iter().enumerate().find(|(_, lr)| !(lr.is_finite() && **lr >= 0.0)) {
        return Err(Error::invalid(
            op,
            format!(
                "the schedule computed an invalid learning rate {lr} for parameter group {g}: expected a finite value >= 0"
            ),
        ));
    }
    for (g, &lr) in lrs.iter().enumerate() {
        opt.set_group_lr(g, lr)?;
    }
    Ok(())
}

/// Errors unless `eta_min` (the lowest lr of a cosine schedule) is finite and `>= 0`.
pub(crate) fn check_eta_min(op: &'static str, eta_min: f64) -> Result<()> {
    crate::optim::common::non_negative(op, "eta_min", eta_min)
}

/// Errors unless `opt` has `groups` parameter groups, the number a schedule
/// was built for.
pub(crate) fn check_groups(opt: &dyn Optimizer, groups: usize) -> Result<()> {
    if opt.num_groups() == groups {
        Ok(())
    } else {
        Err(Error::invalid(
            "lr_scheduler",
            format!(
                "the schedule was built for {groups} parameter group(s), {} has {}",
                opt.name(),
                opt.num_groups()
            ),
        ))
    }
}

/// A schedule written as PyTorch's `get_lr` (and `_get_closed_form_lr`), one
/// parameter group at a time.
pub(crate) trait Chainable {
    fn base(&self) -> &Base;
    fn base_mut(&mut self) -> &mut Base;

    /// The lr of `group` for epoch `self.base().last_epoch`, from the group's
    /// current lr `current`; `initial` is true during the construction step.
    fn get_lr(&self, group: usize, current: f64, initial: bool) -> Result<f64>;

    /// The lr of `group` for epoch `self.base().last_epoch` from its base lr
    /// alone, where the schedule has such a formula.
    fn closed_form(&self, group: usize) -> Option<f64> {
        let _ = group;
        None
    }

    /// Runs after the lrs were set (OneCycleLR sets the momentum here).
    fn after_update(&self, opt: &mut dyn Optimizer) -> Result<()> {
        let _ = opt;
        Ok(())
    }
}

/// PyTorch's `_update_lr`: advances to `epoch` (or the next one) and sets
/// every group's lr. The epoch counter and the lrs are left unchanged when
/// the schedule errors.
pub(crate) fn update_lr<S: Chainable>(
    s: &mut S,
    opt: &mut dyn Optimizer,
    epoch: Option<i64>,
    initial: bool,
) -> Result<()> {
    let groups = s.base().base_lrs.len();
    check_groups(opt, groups)?;
    let previous = s.base().last_epoch;
    let target = match epoch {
        Some(e) => {
            check_target_epoch("step_to_epoch", e)?;
            e
        }
        None => next_epoch("lr_scheduler.step", previous)?,
    };
    s.base_mut().last_epoch = target;
    let lrs = (0..groups)
        .map(|g| match epoch.and_then(|_| s.closed_form(g)) {
            Some(lr) => Ok(lr),
            None => s.get_lr(g, opt.group_lr(g)?, initial),
        })
        .collect::<Result<Vec<f64>>>();
    let lrs = match lrs {
        Ok(lrs) => lrs,
        Err(e) => {
            s.base_mut().last_epoch = previous;
            return Err(e);
        }
    };
    let name = std::any::type_name::<S>().rsplit("::").next().unwrap_or("lr_scheduler");
    if let Err(e) = set_lrs(name, opt, &lrs) {
        s.base_mut().last_epoch = previous;
        return Err(e);
    }
    s.after_update(opt)?;
    s.base_mut().last_lrs = opt.group_lrs();
    Ok(())
}

/// PyTorch's `step()` without an epoch.
pub(crate) fn step<S: Chainable>(s: &mut S, opt: &mut dyn Optimizer) -> Result<()> {
    let previous = s.base().step_count;
    // Saturating: a restored state may hold any count, and the count only
    // matters while it is 1.
    s.base_mut().step_count = previous.saturating_add(1);
    let result = update_lr(s, opt, None, false);
    if result.is_err() {
        s.base_mut().step_count = previous;
    }
    result
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
                self.base.last_lr()
            }
            fn get_last_lrs(&self) -> Vec<f64> {
                self.base.last_lrs.clone()
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
                $crate::optim::lr_scheduler::base::update_lr(self, opt, Some(epoch), false)
            }
            fn initial_step(&mut self, opt: &mut dyn $crate::optim::Optimizer) -> $crate::Result<()> {
                $crate::optim::lr_scheduler::base::initial_step(self, opt)
            }
            fn undo_step(&mut self) {
                self.base.last_epoch = self.base.last_epoch.saturating_sub(1);
            }
        }
    };
}

pub(crate) use chainable_scheduler;
