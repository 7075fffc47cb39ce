//! [`ReduceLrOnPlateauCallback`]: cut the learning rate when a validation
//! value stops improving.

use super::{Callback, CallbackContext, Logs};
use crate::Result;
use crate::optim::lr_scheduler::{LrScheduler, PlateauConfig, ReduceLrOnPlateau};

/// Steps an [`optim::lr_scheduler::ReduceLrOnPlateau`](ReduceLrOnPlateau)
/// with a monitored value at the end of every epoch (Keras's
/// `ReduceLROnPlateau` callback, with PyTorch's rules and numbers: the lr is
/// multiplied by `factor` once the value has not improved for more than
/// `patience` epochs).
///
/// The scheduler is created when training begins, over the trainer's
/// optimizer. Its state is not part of training checkpoints; for a plateau
/// schedule that resumes exactly, give the scheduler to
/// [`super::Trainer::scheduler`] with [`super::Trainer::scheduler_monitor`].
///
/// ```
/// use neurite::optim::lr_scheduler::PlateauConfig;
/// use neurite::train::ReduceLrOnPlateauCallback;
/// let cb = ReduceLrOnPlateauCallback::new("val_loss", PlateauConfig { patience: 2, factor: 0.5, ..Default::default() });
/// # let _ = cb;
/// ```
pub struct ReduceLrOnPlateauCallback {
    monitor: String,
    config: PlateauConfig,
    scheduler: Option<ReduceLrOnPlateau>,
}

impl ReduceLrOnPlateauCallback {
    /// Monitors `monitor` with the scheduler configuration `config` (its
    /// `mode` must match the value: `Min` for losses, `Max` for accuracies).
    pub fn new(monitor: impl Into<String>, config: PlateauConfig) -> ReduceLrOnPlateauCallback {
        ReduceLrOnPlateauCallback {
            monitor: monitor.into(),
            config,
            scheduler: None,
        }
    }

    /// The scheduler of the current or last run.
    pub fn scheduler(&self) -> Option<&ReduceLrOnPlateau> {
        self.scheduler.as_ref()
    }
}

impl Callback for ReduceLrOnPlateauCallback {
    fn name(&self) -> String {
        "ReduceLROnPlateau".into()
    }

    fn on_train_begin(&mut self, ctx: &mut CallbackContext<'_>) -> Result<()> {
        self.scheduler = Some(ReduceLrOnPlateau::new(&*ctx.optimizer, self.config.clone())?);
        Ok(())
    }

    fn on_epoch_end(&mut self, _epoch: usize, logs: &mut Logs, ctx: &mut CallbackContext<'_>) -> Result<()> {
        let value = logs.require(&self.monitor, "ReduceLROnPlateau")?;
        let sched = match &mut self.scheduler {
            Some(s) => s,
            None => self
                .scheduler
                .insert(ReduceLrOnPlateau::new(&*ctx.optimizer, self.config.clone())?),
        };
        sched.step_with_metric(value, ctx.optimizer)
    }
}
