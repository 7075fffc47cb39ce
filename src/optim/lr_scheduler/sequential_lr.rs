//! SequentialLR: run schedules one after another, switching at milestones.

use super::base::{check_lrs, set_lrs};
use super::{LrScheduler, SchedulerState, bisect_right};
use crate::optim::Optimizer;
use crate::{Error, Result};

/// Runs `schedulers[0]` until epoch `milestones[0]`, then `schedulers[1]`
/// (restarted at its epoch 0) until `milestones[1]`, and so on (PyTorch's
/// `SequentialLR`). The usual use is a warm-up followed by a decay; see the
/// [module docs](super) for an example.
///
/// Build the schedules on the same optimizer first, then this: as in PyTorch,
/// construction resets the optimizer's lr to its `initial_lr`, undoes the
/// schedules' construction steps and redoes the first schedule's.
pub struct SequentialLr {
    schedulers: Vec<Box<dyn LrScheduler>>,
    milestones: Vec<usize>,
    last_epoch: i64,
    last_lrs: Vec<f64>,
}

impl SequentialLr {
    /// Chains `schedulers` at `milestones` (one fewer than schedulers,
    /// non-decreasing). Errors on a count mismatch, unsorted milestones, an
    /// empty list or a [`super::ReduceLrOnPlateau`] (which needs a metric).
    pub fn new(
        opt: &mut dyn Optimizer,
        mut schedulers: Vec<Box<dyn LrScheduler>>,
        milestones: Vec<usize>,
    ) -> Result<SequentialLr> {
        check("SequentialLR", &schedulers, &milestones)?;
        let initial = (0..opt.num_groups())
            .map(|g| {
                opt.group_initial_lr(g)?.ok_or_else(|| {
                    Error::invalid(
                        "SequentialLR",
                        format!(
                            "group {g} of the optimizer has no initial_lr: build the schedules on it before the SequentialLR"
                        ),
                    )
                })
            })
            .collect::<Result<Vec<f64>>>()?;
        set_lrs("SequentialLR", opt, &initial)?;
        for s in schedulers.iter_mut() {
            s.undo_step();
        }
        let idx = bisect_right(&milestones, 0);
        schedulers[idx].initial_step(opt)?;
        let last_lrs = schedulers[idx].get_last_lrs();
        Ok(SequentialLr {
            schedulers,
            milestones,
            last_epoch: 0,
            last_lrs,
        })
    }

    /// Reassembles a saved SequentialLr (see [`SchedulerState::into_scheduler`]).
    pub(crate) fn from_parts(
        schedulers: Vec<Box<dyn LrScheduler>>,
        milestones: Vec<usize>,
        last_epoch: i64,
        last_lrs: Vec<f64>,
    ) -> Result<SequentialLr> {
        const OP: &str = "SequentialLR.load_state";
        check(OP, &schedulers, &milestones)?;
        check_lrs(OP, "last lrs", &last_lrs)?;
        if !(-64..=super::MAX_EPOCH).contains(&last_epoch) {
            return Err(Error::invalid(
                OP,
                format!("invalid saved counter: last_epoch {last_epoch}"),
            ));
        }
        Ok(SequentialLr {
            schedulers,
            milestones,
            last_epoch,
            last_lrs,
        })
    }

    /// The schedules, in order.
    pub fn schedulers(&self) -> &[Box<dyn LrScheduler>] {
        &self.schedulers
    }

    /// The milestones.
    pub fn milestones(&self) -> &[usize] {
        &self.milestones
    }
}

fn check(op: &'static str, schedulers: &[Box<dyn LrScheduler>], milestones: &[usize]) -> Result<()> {
    if schedulers.is_empty() {
        return Err(Error::invalid(op, "expects at least one scheduler, got none"));
    }
    if let Some(i) = schedulers.iter().position(|s| s.needs_metric()) {
        return Err(Error::invalid(
            op,
            format!(
                "scheduler {i} ({}) needs a metric and cannot be sequenced",
                schedulers[i].name()
            ),
        ));
    }
    if milestones.len() + 1 != schedulers.len() {
        return Err(Error::invalid(
            op,
            format!(
                "expects one milestone fewer than schedulers, got {} schedulers and {} milestones",
                schedulers.len(),
                milestones.len()
            ),
        ));
    }
    if !milestones.is_sorted() {
        return Err(Error::invalid(
            op,
            format!("milestones must be non-decreasing, got {milestones:?}"),
        ));
    }
    Ok(())
}

impl LrScheduler for SequentialLr {
    fn name(&self) -> &'static str {
        "SequentialLR"
    }

    fn step(&mut self, opt: &mut dyn Optimizer) -> Result<()> {
        let epoch = super::next_epoch("SequentialLR.step", self.last_epoch)?;
        let idx = bisect_right(&self.milestones, epoch);
        let s = &mut self.schedulers[idx];
        if idx > 0 && super::epoch_index(self.milestones[idx - 1]) == epoch {
            s.step_to_epoch(0, opt)?;
        } else {
            s.step(opt)?;
        }
        self.last_epoch = epoch;
        self.last_lrs = s.get_last_lrs();
        Ok(())
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
        SchedulerState::SequentialLr {
            milestones: self.milestones.clone(),
            last_epoch: self.last_epoch,
            last_lrs: self.last_lrs.clone(),
            schedulers: self.schedulers.iter().map(|s| s.state()).collect(),
        }
    }

    fn load_state(&mut self, state: &SchedulerState) -> Result<()> {
        let SchedulerState::SequentialLr {
            milestones,
            last_epoch,
            last_lrs,
            schedulers,
        } = state
        else {
            return Err(state.mismatch("SequentialLR"));
        };
        let names: Vec<&str> = self.schedulers.iter().map(|s| s.name()).collect();
        let saved: Vec<&str> = schedulers.iter().map(|s| s.name()).collect();
        if names != saved {
            return Err(Error::invalid(
                "load_state",
                format!("SequentialLR holds {names:?}, the state is for {saved:?}"),
            ));
        }
        // Validate everything before changing anything.
        state.clone().into_scheduler()?;
        for (child, s) in self.schedulers.iter_mut().zip(schedulers) {
            child.load_state(s)?;
        }
        self.milestones = milestones.clone();
        self.last_epoch = *last_epoch;
        self.last_lrs = last_lrs.clone();
        Ok(())
    }

    fn initial_step(&mut self, opt: &mut dyn Optimizer) -> Result<()> {
        self.step(opt)
    }

    fn undo_step(&mut self) {
        for s in self.schedulers.iter_mut() {
            s.undo_step();
        }
    }
}
