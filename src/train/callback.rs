//! The [`Callback`] trait and the [`CallbackContext`] callbacks act through.

use super::{History, Logs, StopInfo};
use crate::Result;
use crate::nn::Module;
use crate::optim::Optimizer;

/// What a callback may see and change while `fit` runs: the model, the
/// optimizer, the history so far, and whether training should stop.
pub struct CallbackContext<'a> {
    /// The model being trained.
    pub model: &'a mut dyn Module,
    /// Its optimizer (a callback may change the learning rate).
    pub optimizer: &'a mut dyn Optimizer,
    /// The epochs recorded so far (the current epoch is recorded after every
    /// callback's `on_epoch_end`).
    pub history: &'a History,
    /// The last epoch index `fit` will run is `epochs - 1`.
    pub epochs: usize,
    /// Batches per training epoch.
    pub steps_per_epoch: usize,
    pub(crate) stop: &'a mut Option<StopInfo>,
}

impl<'a> CallbackContext<'a> {
    /// A context for driving callbacks outside `fit` (tests, custom loops).
    /// A stop requested through it is written to `stop`; `epochs` and
    /// `steps_per_epoch` start at 0 (set the public fields if a callback reads them).
    pub fn new(
        model: &'a mut dyn Module,
        optimizer: &'a mut dyn Optimizer,
        history: &'a History,
        stop: &'a mut Option<StopInfo>,
    ) -> CallbackContext<'a> {
        CallbackContext {
            model,
            optimizer,
            history,
            epochs: 0,
            steps_per_epoch: 0,
            stop,
        }
    }

    /// Asks `fit` to stop: after the current epoch when called from
    /// `on_epoch_end`, or after the current logging interval from `on_batch_end`
    /// (the epoch is then finished with the batches run so far). The first
    /// request wins; the reason ends up in [`History::stop`].
    pub fn request_stop(&mut self, info: StopInfo) {
        if self.stop.is_none() {
            *self.stop = Some(info);
        }
    }

    /// True once a stop was requested.
    pub fn stop_requested(&self) -> bool {
        self.stop.is_some()
    }
}

/// Hooks into `fit`, Keras's `Callback`. Every method has a default that does
/// nothing; errors abort `fit` and are returned from it.
///
/// Epoch and batch indices are 0-based. Batch-level hooks run once per logging
/// interval for each batch of the interval, in order, because the losses are
/// read back from the device once per interval, not once per batch
/// (see [`super::Trainer::log_every`]).
///
/// A `&mut` reference to a callback is itself a callback, so a callback can be
/// lent to a trainer and inspected after `fit`:
///
/// ```
/// use neurite::train::{Callback, CallbackContext, Logs};
///
/// /// Counts epochs.
/// #[derive(Default)]
/// struct Counter(usize);
///
/// impl Callback for Counter {
///     fn on_epoch_end(&mut self, _epoch: usize, _logs: &mut Logs, _ctx: &mut CallbackContext<'_>) -> neurite::Result<()> {
///         self.0 += 1;
///         Ok(())
///     }
/// }
/// let mut counter = Counter::default();
/// let _trainer = neurite::train::Trainer::new(neurite::loss::mse_loss).callback(&mut counter);
/// ```
pub trait Callback {
    /// The name used in messages and [`StopInfo::by`] (the type name by default).
    fn name(&self) -> String {
        let full = std::any::type_name::<Self>();
        let base = full.split('<').next().unwrap_or(full);
        base.rsplit("::").next().unwrap_or(base).to_string()
    }

    /// Before the first epoch.
    fn on_train_begin(&mut self, ctx: &mut CallbackContext<'_>) -> Result<()> {
        let _ = ctx;
        Ok(())
    }

    /// After the last epoch (also after an early stop).
    fn on_train_end(&mut self, ctx: &mut CallbackContext<'_>) -> Result<()> {
        let _ = ctx;
        Ok(())
    }

    /// Before epoch `epoch`.
    fn on_epoch_begin(&mut self, epoch: usize, ctx: &mut CallbackContext<'_>) -> Result<()> {
        let _ = (epoch, ctx);
        Ok(())
    }

    /// After epoch `epoch`, with its training and validation values. Values
    /// inserted into `logs` are seen by the callbacks that follow and recorded
    /// in the history.
    fn on_epoch_end(&mut self, epoch: usize, logs: &mut Logs, ctx: &mut CallbackContext<'_>) -> Result<()> {
        let _ = (epoch, logs, ctx);
        Ok(())
    }

    /// After batch `batch` of epoch `epoch`, with its `"loss"`, its metrics and
    /// `"size"` (its number of samples).
    fn on_batch_end(&mut self, epoch: usize, batch: usize, logs: &Logs, ctx: &mut CallbackContext<'_>) -> Result<()> {
        let _ = (epoch, batch, logs, ctx);
        Ok(())
    }
}

impl<C: Callback + ?Sized> Callback for &mut C {
    fn name(&self) -> String {
        (**self).name()
    }
    fn on_train_begin(&mut self, ctx: &mut CallbackContext<'_>) -> Result<()> {
        (**self).on_train_begin(ctx)
    }
    fn on_train_end(&mut self, ctx: &mut CallbackContext<'_>) -> Result<()> {
        (**self).on_train_end(ctx)
    }
    fn on_epoch_begin(&mut self, epoch: usize, ctx: &mut CallbackContext<'_>) -> Result<()> {
        (**self).on_epoch_begin(epoch, ctx)
    }
    fn on_epoch_end(&mut self, epoch: usize, logs: &mut Logs, ctx: &mut CallbackContext<'_>) -> Result<()> {
        (**self).on_epoch_end(epoch, logs, ctx)
    }
    fn on_batch_end(&mut self, epoch: usize, batch: usize, logs: &Logs, ctx: &mut CallbackContext<'_>) -> Result<()> {
        (**self).on_batch_end(epoch, batch, logs, ctx)
    }
}

impl<C: Callback + ?Sized> Callback for Box<C> {
    fn name(&self) -> String {
        (**self).name()
    }
    fn on_train_begin(&mut self, ctx: &mut CallbackContext<'_>) -> Result<()> {
        (**self).on_train_begin(ctx)
    }
    fn on_train_end(&mut self, ctx: &mut CallbackContext<'_>) -> Result<()> {
        (**self).on_train_end(ctx)
    }
    fn on_epoch_begin(&mut self, epoch: usize, ctx: &mut CallbackContext<'_>) -> Result<()> {
        (**self).on_epoch_begin(epoch, ctx)
    }
    fn on_epoch_end(&mut self, epoch: usize, logs: &mut Logs, ctx: &mut CallbackContext<'_>) -> Result<()> {
        (**self).on_epoch_end(epoch, logs, ctx)
    }
    fn on_batch_end(&mut self, epoch: usize, batch: usize, logs: &Logs, ctx: &mut CallbackContext<'_>) -> Result<()> {
        (**self).on_batch_end(epoch, batch, logs, ctx)
    }
}
