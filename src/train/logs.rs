//! [`Logs`]: the named values of one batch or one epoch, as callbacks see them.

/// Named scalar values in insertion order: `"loss"`, `"accuracy"`,
/// `"val_loss"`, `"lr"`, ... (Keras's `logs` dictionary).
///
/// An epoch's logs are handed to [`super::Callback::on_epoch_end`] mutably, so a
/// callback may add values (a custom validation metric, say) that later callbacks
/// (an [`super::EarlyStopping`] monitoring it) and the [`super::History`] see.
///
/// ```
/// use neurite::train::Logs;
/// let mut logs = Logs::new();
/// logs.insert("loss", 0.5);
/// logs.insert("loss", 0.25); // replaces, keeping the position
/// logs.insert("accuracy", 0.75);
/// assert_eq!(logs.get("loss"), Some(0.25));
/// assert_eq!(logs.names().collect::<Vec<_>>(), ["loss", "accuracy"]);
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Logs {
    entries: Vec<(String, f64)>,
}

impl Logs {
    /// Empty logs.
    pub fn new() -> Logs {
        Logs::default()
    }

    /// The value called `name`, if present.
    pub fn get(&self, name: &str) -> Option<f64> {
        self.entries.iter().find(|(n, _)| n == name).map(|(_, v)| *v)
    }

    /// Sets `name` to `value`, replacing an existing value in place.
    pub fn insert(&mut self, name: impl Into<String>, value: f64) {
        let name = name.into();
        match self.entries.iter_mut().find(|(n, _)| *n == name) {
            Some(entry) => entry.1 = value,
            None => self.entries.push((name, value)),
        }
    }

    /// `(name, value)` pairs in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, f64)> {
        self.entries.iter().map(|(n, v)| (n.as_str(), *v))
    }

    /// The names in insertion order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(n, _)| n.as_str())
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when there is no value.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The value of `monitor` or an error naming what is available, for
    /// callbacks that cannot work without their monitored value.
    pub(crate) fn require(&self, monitor: &str, op: &'static str) -> crate::Result<f64> {
        self.get(monitor).ok_or_else(|| {
            let names: Vec<&str> = self.names().collect();
            crate::Error::invalid(
                op,
                format!(
                    "the monitored value {monitor:?} is not in the epoch logs (available: {names:?}); \
                     `val_*` values need validation data or a validation split"
                ),
            )
        })
    }
}

impl std::fmt::Display for Logs {
    /// `loss: 0.1234 - accuracy: 0.9500`, Keras's epoch-line style.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, (name, value)) in self.iter().enumerate() {
            if i > 0 {
                write!(f, " - ")?;
            }
            if name == "lr" {
                write!(f, "{name}: {value:.3e}")?;
            } else {
                write!(f, "{name}: {value:.4}")?;
            }
        }
        Ok(())
    }
}
