//! [`History`]: per-epoch training and validation values, serializable.

use super::Logs;
use super::series_serde::{series, series_map};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Why and where training stopped before its last epoch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StopInfo {
    /// The (0-based) epoch during or after which training stopped.
    pub epoch: usize,
    /// The (0-based) batch of that epoch, when the stop was requested from a
    /// batch (a NaN loss), `None` when it came at the end of the epoch.
    pub batch: Option<usize>,
    /// The callback that asked for the stop (`"EarlyStopping"`, `"TerminateOnNaN"`).
    pub by: String,
    /// A human-readable reason.
    pub reason: String,
}

impl std::fmt::Display for StopInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} stopped training at epoch {}", self.by, self.epoch + 1)?;
        if let Some(b) = self.batch {
            write!(f, ", batch {}", b + 1)?;
        }
        write!(f, ": {}", self.reason)
    }
}

/// The values of every epoch, as Keras's `History`: the training loss, the
/// validation loss, the learning rate and every metric, one value per epoch.
///
/// Typed fields hold the common series; [`History::get`] reads any series by
/// its log name (`"loss"`, `"val_loss"`, `"lr"`, `"accuracy"`,
/// `"val_accuracy"`, ...). All series have one value per recorded epoch; a
/// value missing in some epoch's logs is stored as NaN. Serializable with serde
/// (NaN and infinities survive JSON as strings), and stored in training
/// checkpoints.
///
/// Epochs are 0-based, as in Keras's `history.epoch`; printed output is 1-based.
///
/// ```
/// use neurite::train::{History, Logs};
/// let mut h = History::default();
/// for (epoch, loss) in [0.9, 0.5].into_iter().enumerate() {
///     let mut logs = Logs::new();
///     logs.insert("loss", loss);
///     logs.insert("val_accuracy", 0.5 + epoch as f64 / 4.0);
///     h.record(epoch, &logs);
/// }
/// assert_eq!(h.loss, [0.9, 0.5]);
/// assert_eq!(h.get("val_accuracy"), Some(&[0.5, 0.75][..]));
/// assert_eq!(h.get("val_loss"), None);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct History {
    /// The epoch index of each entry (0-based).
    pub epochs: Vec<usize>,
    /// Training loss: the sample-weighted mean of the batch losses of the epoch.
    #[serde(with = "series")]
    pub loss: Vec<f64>,
    /// Validation loss (empty without validation data).
    #[serde(with = "series")]
    pub val_loss: Vec<f64>,
    /// The learning rate at the start of each epoch.
    #[serde(with = "series")]
    pub lr: Vec<f64>,
    /// Every other series by its log name (`"accuracy"`, `"val_accuracy"`, ...).
    #[serde(with = "series_map")]
    pub metrics: BTreeMap<String, Vec<f64>>,
    /// Set when a callback stopped training early.
    pub stop: Option<StopInfo>,
}

impl History {
    /// An empty history.
    pub fn new() -> History {
        History::default()
    }

    /// Number of recorded epochs.
    pub fn len(&self) -> usize {
        self.epochs.len()
    }

    /// True when no epoch was recorded.
    pub fn is_empty(&self) -> bool {
        self.epochs.is_empty()
    }

    /// The series called `name`, or `None` when it holds no value.
    pub fn get(&self, name: &str) -> Option<&[f64]> {
        let s: &[f64] = match name {
            "loss" => &self.loss,
            "val_loss" => &self.val_loss,
            "lr" => &self.lr,
            other => self.metrics.get(other)?,
        };
        (!s.is_empty()).then_some(s)
    }

    /// The last value of `name`.
    pub fn last(&self, name: &str) -> Option<f64> {
        self.get(name).and_then(|s| s.last().copied())
    }

    /// The names of the series that hold values: `loss`, `val_loss`, `lr`
    /// (when present), then the metrics in alphabetical order.
    pub fn keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = ["loss", "val_loss", "lr"]
            .into_iter()
            .filter(|k| self.get(k).is_some())
            .map(String::from)
            .collect();
        keys.extend(
            self.metrics
                .iter()
                .filter(|(_, v)| !v.is_empty())
                .map(|(k, _)| k.clone()),
        );
        keys
    }

    /// Appends one epoch's logs. Values absent from `logs` are stored as NaN in
    /// series that already exist, so that every series stays aligned with
    /// [`History::epochs`].
    pub fn record(&mut self, epoch: usize, logs: &Logs) {
        let n = self.epochs.len();
        self.epochs.push(epoch);
        for (name, value) in logs.iter() {
            let s = self.series_mut(name);
            s.resize(n, f64::NAN);
            s.push(value);
        }
        let pad = |s: &mut Vec<f64>| {
            if !s.is_empty() {
                s.resize(n + 1, f64::NAN);
            }
        };
        pad(&mut self.loss);
        pad(&mut self.val_loss);
        pad(&mut self.lr);
        self.metrics.values_mut().for_each(pad);
    }

    fn series_mut(&mut self, name: &str) -> &mut Vec<f64> {
        match name {
            "loss" => &mut self.loss,
            "val_loss" => &mut self.val_loss,
            "lr" => &mut self.lr,
            other => self.metrics.entry(other.to_string()).or_default(),
        }
    }

    /// The logs of the entry at `index` (not the epoch number), as recorded.
    pub fn logs_at(&self, index: usize) -> Option<Logs> {
        if index >= self.len() {
            return None;
        }
        let mut logs = Logs::new();
        for key in self.keys() {
            if let Some(v) = self.get(&key).and_then(|s| s.get(index)) {
                logs.insert(key, *v);
            }
        }
        Some(logs)
    }
}
