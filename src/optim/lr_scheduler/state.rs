//! Serializable scheduler state, and rebuilding a scheduler from it.

use super::{
    ChainedScheduler, ConstantLr, CosineAnnealingLr, CosineAnnealingWarmRestarts, ExponentialLr, LinearLr, LrScheduler,
    MultiStepLr, OneCycleLr, ReduceLrOnPlateau, SequentialLr, StepLr,
};
use crate::{Error, Result};
use serde::{Deserialize, Serialize};

/// A scheduler's full configuration and progress, tagged by its kind.
///
/// Produced by [`LrScheduler::state`], serializable with serde (JSON, bincode),
/// restored with [`LrScheduler::load_state`] or rebuilt without the original
/// code by [`SchedulerState::into_scheduler`]. The optimizer's learning rate is
/// part of the optimizer's state, not of this one.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum SchedulerState {
    /// [`StepLr`].
    StepLr(StepLr),
    /// [`MultiStepLr`].
    MultiStepLr(MultiStepLr),
    /// [`ConstantLr`].
    ConstantLr(ConstantLr),
    /// [`LinearLr`].
    LinearLr(LinearLr),
    /// [`ExponentialLr`].
    ExponentialLr(ExponentialLr),
    /// [`CosineAnnealingLr`].
    CosineAnnealingLr(CosineAnnealingLr),
    /// [`CosineAnnealingWarmRestarts`].
    CosineAnnealingWarmRestarts(CosineAnnealingWarmRestarts),
    /// [`OneCycleLr`].
    OneCycleLr(OneCycleLr),
    /// [`ReduceLrOnPlateau`].
    ReduceLrOnPlateau(ReduceLrOnPlateau),
    /// [`SequentialLr`]: its own counters and its schedules' states.
    SequentialLr {
        /// Epochs at which the next schedule takes over.
        milestones: Vec<usize>,
        /// Index of the last epoch stepped.
        last_epoch: i64,
        /// Every group's lr set by the last step.
        last_lrs: Vec<f64>,
        /// The states of the schedules, in order.
        schedulers: Vec<SchedulerState>,
    },
    /// [`ChainedScheduler`]: the lr it last saw and its schedules' states.
    ChainedScheduler {
        /// Every group's lr after the last step.
        last_lrs: Vec<f64>,
        /// The states of the schedules, in order.
        schedulers: Vec<SchedulerState>,
    },
}

impl SchedulerState {
    /// The PyTorch class name of the scheduler this state belongs to.
    pub fn name(&self) -> &'static str {
        match self {
            SchedulerState::StepLr(_) => "StepLR",
            SchedulerState::MultiStepLr(_) => "MultiStepLR",
            SchedulerState::ConstantLr(_) => "ConstantLR",
            SchedulerState::LinearLr(_) => "LinearLR",
            SchedulerState::ExponentialLr(_) => "ExponentialLR",
            SchedulerState::CosineAnnealingLr(_) => "CosineAnnealingLR",
            SchedulerState::CosineAnnealingWarmRestarts(_) => "CosineAnnealingWarmRestarts",
            SchedulerState::OneCycleLr(_) => "OneCycleLR",
            SchedulerState::ReduceLrOnPlateau(_) => "ReduceLROnPlateau",
            SchedulerState::SequentialLr { .. } => "SequentialLR",
            SchedulerState::ChainedScheduler { .. } => "ChainedScheduler",
        }
    }

    /// Rebuilds the scheduler, in the state it was saved in, without touching
    /// any optimizer. Errors on invalid values (a corrupt checkpoint).
    pub fn into_scheduler(self) -> Result<Box<dyn LrScheduler>> {
        macro_rules! leaf {
            ($s:expr) => {{
                $s.validate()?;
                Ok(Box::new($s))
            }};
        }
        match self {
            SchedulerState::StepLr(s) => leaf!(s),
            SchedulerState::MultiStepLr(s) => leaf!(s),
            SchedulerState::ConstantLr(s) => leaf!(s),
            SchedulerState::LinearLr(s) => leaf!(s),
            SchedulerState::ExponentialLr(s) => leaf!(s),
            SchedulerState::CosineAnnealingLr(s) => leaf!(s),
            SchedulerState::CosineAnnealingWarmRestarts(s) => leaf!(s),
            SchedulerState::OneCycleLr(s) => leaf!(s),
            SchedulerState::ReduceLrOnPlateau(s) => leaf!(s),
            SchedulerState::SequentialLr {
                milestones,
                last_epoch,
                last_lrs,
                schedulers,
            } => {
                let children = schedulers
                    .into_iter()
                    .map(SchedulerState::into_scheduler)
                    .collect::<Result<Vec<_>>>()?;
                Ok(Box::new(SequentialLr::from_parts(
                    children, milestones, last_epoch, last_lrs,
                )?))
            }
            SchedulerState::ChainedScheduler { last_lrs, schedulers } => {
                let children = schedulers
                    .into_iter()
                    .map(SchedulerState::into_scheduler)
                    .collect::<Result<Vec<_>>>()?;
                Ok(Box::new(ChainedScheduler::from_parts(children, last_lrs)?))
            }
        }
    }

    /// The error for loading this state into a scheduler of kind `expected`.
    pub(crate) fn mismatch(&self, expected: &'static str) -> Error {
        Error::invalid(
            "load_state",
            format!("cannot load a {} state into a {expected} scheduler", self.name()),
        )
    }
}
