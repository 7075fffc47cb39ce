//! [`TerminateOnNaN`]: stop as soon as a batch loss is NaN or infinite.

use super::{Callback, CallbackContext, Logs, StopInfo};
use crate::{Error, Result};

/// Stops training when a batch's loss is NaN or infinite, and reports where.
///
/// By default the stop is recorded in [`super::History::stop`] (`by:
/// "TerminateOnNaN"`, with the 0-based epoch and batch of the first bad loss)
/// and `fit` returns normally with the history so far; the epoch in progress is
/// closed with the batches run. With [`TerminateOnNaN::as_error`], `fit`
/// returns an error naming the epoch and batch instead.
///
/// Losses are read back once per logging interval, so up to
/// [`super::Trainer::log_every`]` - 1` further batches may run before the stop;
/// the reported batch is still the first one whose loss was not finite.
///
/// ```
/// use neurite::train::TerminateOnNaN;
/// let flag = TerminateOnNaN::new();
/// let strict = TerminateOnNaN::new().as_error(true);
/// # let _ = (flag, strict);
/// ```
#[derive(Default)]
pub struct TerminateOnNaN {
    error: bool,
    found: Option<(usize, usize, f64)>,
}

impl TerminateOnNaN {
    /// Records the stop in the history.
    pub fn new() -> TerminateOnNaN {
        TerminateOnNaN::default()
    }

    /// Makes `fit` fail instead of returning the history.
    pub fn as_error(mut self, on: bool) -> Self {
        self.error = on;
        self
    }

    /// `(epoch, batch, loss)` of the first non-finite loss of the last run.
    pub fn found(&self) -> Option<(usize, usize, f64)> {
        self.found
    }
}

impl Callback for TerminateOnNaN {
    fn on_train_begin(&mut self, _ctx: &mut CallbackContext<'_>) -> Result<()> {
        self.found = None;
        Ok(())
    }

    fn on_batch_end(&mut self, epoch: usize, batch: usize, logs: &Logs, ctx: &mut CallbackContext<'_>) -> Result<()> {
        let Some(loss) = logs.get("loss") else {
            return Ok(());
        };
        if loss.is_finite() || self.found.is_some() {
            return Ok(());
        }
        self.found = Some((epoch, batch, loss));
        let reason = format!("the loss is {loss} at epoch {}, batch {}", epoch + 1, batch + 1);
        if self.error {
            return Err(Error::invalid("TerminateOnNaN", reason));
        }
        ctx.request_stop(StopInfo {
            epoch,
            batch: Some(batch),
            by: "TerminateOnNaN".into(),
            reason,
        });
        Ok(())
    }
}
