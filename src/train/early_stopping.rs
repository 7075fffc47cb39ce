//! [`EarlyStopping`]: stop when a monitored value stops improving.

use super::weights::WeightSnapshot;
use super::{Callback, CallbackContext, Logs, Mode, StopInfo};
use crate::{Error, Result};

/// Stops training once the monitored value has not improved for `patience`
/// epochs, with Keras's exact rules (`keras.callbacks.EarlyStopping`, Keras 3):
///
/// - an epoch improves when `value + min_delta < best` (mode `Min`) or
///   `value - min_delta > best` (mode `Max`); the first epoch always does
///   (unless its value is NaN, which never improves);
/// - every epoch increments a wait counter; an improvement resets it (when a
///   `baseline` is set, only an improvement on the baseline too);
/// - training stops after an epoch `e > 0` that did not improve and brought
///   the counter to `patience`: with the best value at epoch `b` and no later
///   improvement, at epoch `b + patience` (0-based);
/// - epochs before `start_from_epoch` are ignored;
/// - with `restore_best_weights`, the parameters and buffers of the best epoch
///   are copied back into the model when training ends, whether it stopped
///   early or not (Keras 3 behaviour).
///
/// A monitored value missing from the epoch's logs is an error (Keras only
/// warns), naming the values that exist.
///
/// ```
/// use neurite::train::{EarlyStopping, Mode};
/// let es = EarlyStopping::new("val_loss").patience(3).min_delta(1e-4).restore_best_weights(true);
/// let acc = EarlyStopping::new("val_accuracy").mode(Mode::Max);
/// # let _ = (es, acc);
/// ```
pub struct EarlyStopping {
    monitor: String,
    mode: Mode,
    patience: usize,
    min_delta: f64,
    baseline: Option<f64>,
    restore_best_weights: bool,
    start_from_epoch: usize,
    wait: usize,
    best: Option<f64>,
    best_epoch: Option<usize>,
    stopped_epoch: Option<usize>,
    best_weights: Option<WeightSnapshot>,
    restored: bool,
}

impl EarlyStopping {
    /// Monitors `monitor` (`"val_loss"`, `"val_accuracy"`, ...) with patience 0,
    /// `min_delta` 0, mode `Auto` and no weight restoring: Keras's defaults.
    pub fn new(monitor: impl Into<String>) -> EarlyStopping {
        EarlyStopping {
            monitor: monitor.into(),
            mode: Mode::Auto,
            patience: 0,
            min_delta: 0.0,
            baseline: None,
            restore_best_weights: false,
            start_from_epoch: 0,
            wait: 0,
            best: None,
            best_epoch: None,
            stopped_epoch: None,
            best_weights: None,
            restored: false,
        }
    }

    /// Epochs without improvement tolerated before stopping.
    pub fn patience(mut self, patience: usize) -> Self {
        self.patience = patience;
        self
    }

    /// The smallest change that counts as an improvement (its sign is
    /// ignored). Must be finite: a NaN would make every comparison false, so
    /// nothing would ever improve (checked when training begins).
    pub fn min_delta(mut self, min_delta: f64) -> Self {
        self.min_delta = min_delta.abs();
        self
    }

    /// Whether the value should go down (`Min`), up (`Max`) or be decided from its name.
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }

    /// A value the monitored value must beat for the wait counter to reset.
    /// Must not be NaN, which no value beats (checked when training begins).
    pub fn baseline(mut self, baseline: f64) -> Self {
        self.baseline = Some(baseline);
        self
    }

    /// Copies the best epoch's weights back into the model when training ends.
    pub fn restore_best_weights(mut self, on: bool) -> Self {
        self.restore_best_weights = on;
        self
    }

    /// Ignores the epochs before this one (a warm-up).
    pub fn start_from_epoch(mut self, epoch: usize) -> Self {
        self.start_from_epoch = epoch;
        self
    }

    /// The monitored value's name.
    pub fn monitor(&self) -> &str {
        &self.monitor
    }

    /// The best value seen in the last run.
    pub fn best(&self) -> Option<f64> {
        self.best
    }

    /// The (0-based) epoch of the best value.
    pub fn best_epoch(&self) -> Option<usize> {
        self.best_epoch
    }

    /// The (0-based) epoch after which training was stopped, if it was.
    pub fn stopped_epoch(&self) -> Option<usize> {
        self.stopped_epoch
    }

    /// Epochs since the last improvement.
    pub fn wait(&self) -> usize {
        self.wait
    }

    /// True when the best weights were copied back at the end of the last run.
    pub fn restored_best_weights(&self) -> bool {
        self.restored
    }
}

impl Callback for EarlyStopping {
    fn on_train_begin(&mut self, _ctx: &mut CallbackContext<'_>) -> Result<()> {
        // The builder methods return Self for chaining, so their values are
        // checked here, before the first epoch.
        if !self.min_delta.is_finite() {
            return Err(Error::invalid(
                "EarlyStopping",
                format!("min_delta must be a finite number, got {}", self.min_delta),
            ));
        }
        if let Some(b) = self.baseline
            && b.is_nan()
        {
            return Err(Error::invalid("EarlyStopping", "baseline must be a number, got NaN"));
        }
        // Reusable across fits, as in Keras.
        self.wait = 0;
        self.best = None;
        self.best_epoch = None;
        self.stopped_epoch = None;
        self.best_weights = None;
        self.restored = false;
        Ok(())
    }

    fn on_epoch_end(&mut self, epoch: usize, logs: &mut Logs, ctx: &mut CallbackContext<'_>) -> Result<()> {
        let current = logs.require(&self.monitor, "EarlyStopping")?;
        if epoch < self.start_from_epoch {
            return Ok(());
        }
        let mode = self.mode.resolve(&self.monitor);
        if self.restore_best_weights && self.best_weights.is_none() {
            // Until something improves, the current weights are the best.
            self.best_weights = Some(WeightSnapshot::take(ctx.model)?);
            self.best_epoch = Some(epoch);
        }
        self.wait += 1;
        if mode.improves(current, self.best, self.min_delta) {
            self.best = Some(current);
            self.best_epoch = Some(epoch);
            if self.restore_best_weights {
                self.best_weights = Some(WeightSnapshot::take(ctx.model)?);
            }
            if self.baseline.is_none() || mode.improves(current, self.baseline, self.min_delta) {
                self.wait = 0;
            }
            return Ok(());
        }
        if self.wait >= self.patience && epoch > 0 {
            self.stopped_epoch = Some(epoch);
            let best = match (self.best, self.best_epoch) {
                (Some(v), Some(e)) => format!("best {} = {v:.6} at epoch {}", self.monitor, e + 1),
                _ => format!("no finite {} so far", self.monitor),
            };
            ctx.request_stop(StopInfo {
                epoch,
                batch: None,
                by: "EarlyStopping".into(),
                reason: format!("{} did not improve for {} epoch(s) ({best})", self.monitor, self.wait),
            });
        }
        Ok(())
    }

    fn on_train_end(&mut self, ctx: &mut CallbackContext<'_>) -> Result<()> {
        if self.restore_best_weights
            && let Some(w) = &self.best_weights
        {
            w.restore(ctx.model)?;
            self.restored = true;
        }
        Ok(())
    }
}
