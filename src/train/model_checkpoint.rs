//! [`ModelCheckpoint`]: save the model when a monitored value improves.

use super::{Callback, CallbackContext, Logs, Mode};
use crate::Result;
use std::path::{Path, PathBuf};

/// Saves the model (any module) with [`crate::checkpoint::save_model`]
/// (architecture, weights, buffers; written atomically) at the end of an
/// epoch, Keras's `ModelCheckpoint`.
///
/// With `save_best_only` (the default here) the model is saved only when the
/// monitored value is strictly better than every earlier one, so the file
/// always holds the best model so far; otherwise it is saved every epoch.
/// `{epoch}` in the path is replaced by the 1-based epoch number, as Keras
/// formats it (`"ckpt-{epoch}.neurite"`).
///
/// ```no_run
/// use neurite::train::{Mode, ModelCheckpoint};
/// let best = ModelCheckpoint::new("best.neurite", "val_accuracy").mode(Mode::Max);
/// # let _ = best;
/// ```
pub struct ModelCheckpoint {
    path: PathBuf,
    monitor: String,
    mode: Mode,
    save_best_only: bool,
    best: Option<f64>,
    best_epoch: Option<usize>,
    saved: Vec<PathBuf>,
}

impl ModelCheckpoint {
    /// Saves to `path` whenever `monitor` improves (mode `Auto`).
    pub fn new(path: impl AsRef<Path>, monitor: impl Into<String>) -> ModelCheckpoint {
        ModelCheckpoint {
            path: path.as_ref().to_path_buf(),
            monitor: monitor.into(),
            mode: Mode::Auto,
            save_best_only: true,
            best: None,
            best_epoch: None,
            saved: Vec::new(),
        }
    }

    /// Whether the value should go down, up, or be decided from its name.
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }

    /// `false` saves after every epoch.
    pub fn save_best_only(mut self, on: bool) -> Self {
        self.save_best_only = on;
        self
    }

    /// The best monitored value saved so far.
    pub fn best(&self) -> Option<f64> {
        self.best
    }

    /// The (0-based) epoch of the last save in best-only mode.
    pub fn best_epoch(&self) -> Option<usize> {
        self.best_epoch
    }

    /// Every file written in the last run, in order.
    pub fn saved(&self) -> &[PathBuf] {
        &self.saved
    }

    fn path_for(&self, epoch: usize) -> PathBuf {
        let s = self.path.to_string_lossy();
        if s.contains("{epoch}") {
            PathBuf::from(s.replace("{epoch}", &(epoch + 1).to_string()))
        } else {
            self.path.clone()
        }
    }
}

impl Callback for ModelCheckpoint {
    fn on_train_begin(&mut self, _ctx: &mut CallbackContext<'_>) -> Result<()> {
        self.best = None;
        self.best_epoch = None;
        self.saved.clear();
        Ok(())
    }

    fn on_epoch_end(&mut self, epoch: usize, logs: &mut Logs, ctx: &mut CallbackContext<'_>) -> Result<()> {
        if self.save_best_only {
            let current = logs.require(&self.monitor, "ModelCheckpoint")?;
            let mode = self.mode.resolve(&self.monitor);
            if !mode.improves(current, self.best, 0.0) {
                return Ok(());
            }
            self.best = Some(current);
            self.best_epoch = Some(epoch);
        }
        let path = self.path_for(epoch);
        crate::checkpoint::save_model(&*ctx.model, &path, &crate::checkpoint::SaveOptions::default())?;
        self.saved.push(path);
        Ok(())
    }
}
