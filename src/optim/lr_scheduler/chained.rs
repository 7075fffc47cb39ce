//! ChainedScheduler: step several schedules together, each scaling the lr.

use super::base::check_lrs;
use super::{LrScheduler, SchedulerState};
use crate::optim::Optimizer;
use crate::{Error, Result};

/// Steps every schedule on each step, in order, so that their effects compose
/// (PyTorch's `ChainedScheduler`): for instance a linear warm-up chained with
/// an exponential decay.
///
/// ```
/// use neurite::optim::lr_scheduler::{ChainedScheduler, ExponentialLr, LrScheduler, StepLr};
/// use neurite::optim::{Optimizer, Sgd, SgdConfig};
/// # fn main() -> neurite::Result<()> {
/// # let w = neurite::Tensor::zeros(1, neurite::DType::F32, &neurite::Device::cpu())?;
/// let mut opt = Sgd::new(vec![w], SgdConfig::new(1.0))?;
/// let a = ExponentialLr::new(&mut opt, 0.5)?;
/// let b = StepLr::new(&mut opt, 2, 0.1)?;
/// let mut sched = ChainedScheduler::new(&opt, vec![Box::new(a), Box::new(b)])?;
/// sched.step(&mut opt)?;
/// sched.step(&mut opt)?;
/// assert!((opt.lr() - 0.25 * 0.1).abs() < 1e-15);
/// # Ok(()) }
/// ```
pub struct ChainedScheduler {
    schedulers: Vec<Box<dyn LrScheduler>>,
    last_lrs: Vec<f64>,
}

impl ChainedScheduler {
    /// Chains `schedulers`, all built on `opt`. Errors on an empty list or a
    /// [`super::ReduceLrOnPlateau`] (which needs a metric).
    pub fn new(opt: &dyn Optimizer, schedulers: Vec<Box<dyn LrScheduler>>) -> Result<ChainedScheduler> {
        Self::from_parts(schedulers, opt.group_lrs())
    }

    /// Reassembles a saved ChainedScheduler (see [`SchedulerState::into_scheduler`]).
    pub(crate) fn from_parts(schedulers: Vec<Box<dyn LrScheduler>>, last_lrs: Vec<f64>) -> Result<ChainedScheduler> {
        const OP: &str = "ChainedScheduler";
        if schedulers.is_empty() {
            return Err(Error::invalid(OP, "expects at least one scheduler, got none"));
        }
        if let Some(i) = schedulers.iter().position(|s| s.needs_metric()) {
            return Err(Error::invalid(
                OP,
                format!(
                    "scheduler {i} ({}) needs a metric and cannot be chained",
                    schedulers[i].name()
                ),
            ));
        }
        check_lrs(OP, "last lrs", &last_lrs)?;
        Ok(ChainedScheduler { schedulers, last_lrs })
    }

    /// The schedules, in order.
    pub fn schedulers(&self) -> &[Box<dyn LrScheduler>] {
        &self.schedulers
    }
}

impl LrScheduler for ChainedScheduler {
    fn name(&self) -> &'static str {
        "ChainedScheduler"
    }

    fn step(&mut self, opt: &mut dyn Optimizer) -> Result<()> {
        for s in self.schedulers.iter_mut() {
            s.step(opt)?;
        }
        self.last_lrs = opt.group_lrs();
        Ok(())
    }

    fn get_last_lr(&self) -> f64 {
        self.last_lrs.first().copied().unwrap_or(f64::NAN)
    }

    fn get_last_lrs(&self) -> Vec<f64> {
        self.last_lrs.clone()
    }

    fn last_epoch(&self) -> i64 {
        self.schedulers.last().map_or(0, |s| s.last_epoch())
    }

    fn state(&self) -> SchedulerState {
        SchedulerState::ChainedScheduler {
            last_lrs: self.last_lrs.clone(),
            schedulers: self.schedulers.iter().map(|s| s.state()).collect(),
        }
    }

    fn load_state(&mut self, state: &SchedulerState) -> Result<()> {
        let SchedulerState::ChainedScheduler { last_lrs, schedulers } = state else {
            return Err(state.mismatch("ChainedScheduler"));
        };
        let names: Vec<&str> = self.schedulers.iter().map(|s| s.name()).collect();
        let saved: Vec<&str> = schedulers.iter().map(|s| s.name()).collect();
        if names != saved {
            return Err(Error::invalid(
                "load_state",
                format!("ChainedScheduler holds {names:?}, the state is for {saved:?}"),
            ));
        }
        // Validate everything before changing anything.
        state.clone().into_scheduler()?;
        for (child, s) in self.schedulers.iter_mut().zip(schedulers) {
            child.load_state(s)?;
        }
        self.last_lrs = last_lrs.clone();
        Ok(())
    }

    fn step_to_epoch(&mut self, epoch: i64, opt: &mut dyn Optimizer) -> Result<()> {
        for s in self.schedulers.iter_mut() {
            s.step_to_epoch(epoch, opt)?;
        }
        self.last_lrs = opt.group_lrs();
        Ok(())
    }

    fn undo_step(&mut self) {
        for s in self.schedulers.iter_mut() {
            s.undo_step();
        }
    }
}
