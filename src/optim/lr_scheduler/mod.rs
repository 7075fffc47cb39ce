//! Learning-rate schedulers with PyTorch's semantics and numbers.
//!
//! A scheduler adjusts an [`Optimizer`]'s learning rate once per epoch (or per
//! batch, for [`OneCycleLr`]) through [`LrScheduler::step`]. As in PyTorch:
//!
//! - every parameter group is scheduled: each has its own base lr (its
//!   [`Optimizer::group_initial_lr`]) and its lr is computed from its own base
//!   and current lr, so groups built with different lrs keep their ratio;
//!   [`LrScheduler::get_last_lrs`] returns every group's lr, and
//!   [`LrScheduler::get_last_lr`] group 0's;
//! - constructing a scheduler already sets the optimizer's lrs to the values of
//!   epoch 0 (a warm-up's first, small lr, for instance);
//! - the first scheduler attached records each group's lr as its
//!   `initial_lr`, which later schedulers on the same optimizer start from (so
//!   [`SequentialLr`] and [`ChainedScheduler`] compose as in PyTorch);
//! - the chainable schedules update each group's *current* lr recursively,
//!   so that they compose with changes made by others.
//!
//! A scheduler is built for the optimizer's number of groups; stepping it
//! with an optimizer that has another number is an error.
//!
//! [`ReduceLrOnPlateau`] is stepped with a metric
//! ([`LrScheduler::step_with_metric`]). Every scheduler's state serializes with
//! serde ([`SchedulerState`]) so that training can resume where it stopped.
//!
//! ```
//! use neurite::optim::lr_scheduler::{CosineAnnealingLr, LinearLr, LrScheduler, SequentialLr};
//! use neurite::optim::{Optimizer, Sgd, SgdConfig};
//! use neurite::{DType, Device, Tensor};
//! # fn main() -> neurite::Result<()> {
//! let w = Tensor::zeros(4, DType::F32, &Device::cpu())?.requires_grad();
//! let mut opt = Sgd::new(vec![w], SgdConfig::new(0.1))?;
//! // Five epochs of linear warm-up from 0.01, then cosine annealing to 0 over 15.
//! let warmup = LinearLr::new(&mut opt, 0.1, 1.0, 5)?;
//! let cosine = CosineAnnealingLr::new(&mut opt, 15, 0.0)?;
//! let mut sched = SequentialLr::new(&mut opt, vec![Box::new(warmup), Box::new(cosine)], vec![5])?;
//! assert!((opt.lr() - 0.01).abs() < 1e-12);
//! for _epoch in 0..5 {
//!     // ... train one epoch with opt ...
//!     sched.step(&mut opt)?;
//! }
//! assert!((opt.lr() - 0.1).abs() < 1e-12);
//! # Ok(()) }
//! ```

mod base;
mod chained;
mod constant_lr;
mod cosine_annealing_lr;
mod cosine_warm_restarts;
mod exponential_lr;
mod linear_lr;
mod multi_step_lr;
mod one_cycle_lr;
mod reduce_on_plateau;
mod sequential_lr;
mod state;
mod step_lr;

pub use chained::ChainedScheduler;
pub use constant_lr::ConstantLr;
pub use cosine_annealing_lr::CosineAnnealingLr;
pub use cosine_warm_restarts::CosineAnnealingWarmRestarts;
pub use exponential_lr::ExponentialLr;
pub use linear_lr::LinearLr;
pub use multi_step_lr::MultiStepLr;
pub use one_cycle_lr::{AnnealStrategy, OneCycleConfig, OneCycleLr};
pub use reduce_on_plateau::{PlateauConfig, PlateauMode, ReduceLrOnPlateau, ThresholdMode};
pub use sequential_lr::SequentialLr;
pub use state::SchedulerState;
pub use step_lr::StepLr;

use super::Optimizer;
use crate::{Error, Result};

/// A learning-rate schedule driving an [`Optimizer`].
///
/// The scheduler does not hold the optimizer: each call receives it, so the
/// training loop keeps ownership of both.
pub trait LrScheduler: Send {
    /// The PyTorch class name (`"StepLR"`, `"OneCycleLR"`, ...).
    fn name(&self) -> &'static str;

    /// Advances one epoch (one batch for [`OneCycleLr`]) and sets the
    /// optimizer's lr. Errors for [`ReduceLrOnPlateau`], which needs a metric,
    /// and when a [`OneCycleLr`] is stepped past its total number of steps.
    fn step(&mut self, opt: &mut dyn Optimizer) -> Result<()>;

    /// Steps with the monitored metric (a validation loss, an accuracy). Only
    /// [`ReduceLrOnPlateau`] reads it; the others ignore it and [`step`](Self::step).
    fn step_with_metric(&mut self, metric: f64, opt: &mut dyn Optimizer) -> Result<()> {
        let _ = metric;
        self.step(opt)
    }

    /// True when [`LrScheduler::step_with_metric`] must be used.
    fn needs_metric(&self) -> bool {
        false
    }

    /// Group 0's learning rate set by the last step (or by construction).
    fn get_last_lr(&self) -> f64;

    /// Every group's learning rate set by the last step (or by
    /// construction), in group order: PyTorch's `get_last_lr()` list.
    fn get_last_lrs(&self) -> Vec<f64> {
        vec![self.get_last_lr()]
    }

    /// The index of the last epoch stepped (0 right after construction).
    fn last_epoch(&self) -> i64;

    /// The schedule's configuration and progress, for checkpoints.
    fn state(&self) -> SchedulerState;

    /// Restores a state produced by [`LrScheduler::state`] of the same kind of
    /// scheduler. The optimizer's lr is not touched (restore it with
    /// [`Optimizer::load_state`]). Errors, changing nothing, on a mismatch or
    /// invalid values.
    fn load_state(&mut self, state: &SchedulerState) -> Result<()>;

    /// Jumps to `epoch`, using the schedule's closed form where it has one
    /// (PyTorch's deprecated `step(epoch)`); [`SequentialLr`] calls it with 0
    /// when it hands over to the next schedule. Errors, changing nothing, for
    /// an epoch outside `0..=2^53` (the range every epoch counter stays in)
    /// or when the lr it computes is not a valid learning rate.
    fn step_to_epoch(&mut self, epoch: i64, opt: &mut dyn Optimizer) -> Result<()> {
        let _ = (epoch, opt);
        Err(Error::invalid(
            "step_to_epoch",
            format!("{} cannot jump to an epoch", self.name()),
        ))
    }

    /// Re-runs the step done at construction (PyTorch's `_initial_step`);
    /// [`SequentialLr`] calls it on the schedule that runs first.
    fn initial_step(&mut self, opt: &mut dyn Optimizer) -> Result<()> {
        self.step(opt)
    }

    /// Moves the epoch counter back by one without touching any lr (PyTorch's
    /// `recursive_undo`), undoing the step made at construction.
    fn undo_step(&mut self) {}
}

/// The largest epoch (or step) index a schedule reaches: epochs are kept
/// exactly representable as `f64`, which the closed forms compute with, and
/// far from `i64::MAX`, so that counting on from any valid epoch cannot overflow.
pub(crate) const MAX_EPOCH: i64 = 1 << 53;

/// A count of epochs as an epoch index: a count beyond `i64::MAX` is never
/// reached by an epoch index (at most [`MAX_EPOCH`]), so saturating keeps
/// every comparison with an epoch exact.
pub(crate) fn epoch_index(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// The epoch after `epoch`; errors past [`MAX_EPOCH`] instead of overflowing.
pub(crate) fn next_epoch(op: &'static str, epoch: i64) -> Result<i64> {
    match epoch.checked_add(1) {
        Some(e) if e <= MAX_EPOCH => Ok(e),
        _ => Err(Error::invalid(
            op,
            format!("cannot step past epoch {epoch}: epochs are limited to 2^53"),
        )),
    }
}

/// Errors unless `epoch` (a target of [`LrScheduler::step_to_epoch`]) lies in `0..=2^53`.
pub(crate) fn check_target_epoch(op: &'static str, epoch: i64) -> Result<()> {
    if (0..=MAX_EPOCH).contains(&epoch) {
        Ok(())
    } else {
        Err(Error::invalid(
            op,
            format!("expected an epoch in [0, 2^53], got {epoch}"),
        ))
    }
}

/// Index of the first milestone greater than `epoch` (Python's `bisect_right`).
pub(crate) fn bisect_right(milestones: &[usize], epoch: i64) -> usize {
    milestones.partition_point(|&m| epoch_index(m) <= epoch)
}
