//! [`CsvLogger`]: one CSV row per epoch.

use super::{Callback, CallbackContext, Logs};
use crate::{Error, Result};
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// Writes `epoch,<log names...>` and one row per epoch (Keras's `CSVLogger`).
/// The columns are those of the first epoch; rows are flushed as written, so
/// the file can be followed during training. Epochs are 0-based, as in Keras.
///
/// ```no_run
/// use neurite::train::CsvLogger;
/// let log = CsvLogger::new("training.csv").append(true);
/// # let _ = log;
/// ```
pub struct CsvLogger {
    path: PathBuf,
    append: bool,
    file: Option<BufWriter<File>>,
    columns: Vec<String>,
}

impl CsvLogger {
    /// Writes to `path`, replacing it when training begins.
    pub fn new(path: impl AsRef<Path>) -> CsvLogger {
        CsvLogger {
            path: path.as_ref().to_path_buf(),
            append: false,
            file: None,
            columns: Vec::new(),
        }
    }

    /// Appends to an existing file (resumed training) instead of replacing it;
    /// the header is written only to an empty file.
    pub fn append(mut self, on: bool) -> Self {
        self.append = on;
        self
    }

    fn io(&self, e: std::io::Error) -> Error {
        Error::io(format!("CsvLogger: writing {}", self.path.display()), e)
    }
}

impl Callback for CsvLogger {
    fn on_train_begin(&mut self, _ctx: &mut CallbackContext<'_>) -> Result<()> {
        let file = OpenOptions::new()
            .create(true)
            .write(true)
            .append(self.append)
            .truncate(!self.append)
            .open(&self.path)
            .map_err(|e| self.io(e))?;
        let empty = file.metadata().map(|m| m.len() == 0).unwrap_or(true);
        self.file = Some(BufWriter::new(file));
        self.columns.clear();
        if !empty {
            // Appending: keep the existing header's columns.
            let text = std::fs::read_to_string(&self.path).map_err(|e| self.io(e))?;
            if let Some(header) = text.lines().next() {
                self.columns = header.split(',').skip(1).map(String::from).collect();
            }
        }
        Ok(())
    }

    fn on_epoch_end(&mut self, epoch: usize, logs: &mut Logs, _ctx: &mut CallbackContext<'_>) -> Result<()> {
        let mut out = String::new();
        if self.columns.is_empty() {
            self.columns = logs.names().map(String::from).collect();
            out.push_str("epoch");
            for c in &self.columns {
                out.push(',');
                out.push_str(c);
            }
            out.push('\n');
        }
        out.push_str(&epoch.to_string());
        for c in &self.columns {
            out.push(',');
            if let Some(v) = logs.get(c) {
                out.push_str(&v.to_string());
            }
        }
        out.push('\n');
        let Some(file) = self.file.as_mut() else {
            return Ok(());
        };
        let written = file.write_all(out.as_bytes()).and_then(|_| file.flush());
        written.map_err(|e| self.io(e))
    }

    fn on_train_end(&mut self, _ctx: &mut CallbackContext<'_>) -> Result<()> {
        if let Some(mut f) = self.file.take() {
            f.flush().map_err(|e| self.io(e))?;
        }
        Ok(())
    }
}
