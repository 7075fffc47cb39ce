//! [`Mode`]: whether a monitored value should go down or up.

use serde::{Deserialize, Serialize};

/// Direction of improvement of a monitored value, for callbacks such as
/// [`super::EarlyStopping`] and [`super::ModelCheckpoint`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Mode {
    /// Lower is better (losses).
    Min,
    /// Higher is better (accuracies).
    Max,
    /// Decided from the name, as Keras does: `Max` when it contains `acc`,
    /// `auc`, `precision`, `recall` or `f1` or is `r2`, `Min` otherwise.
    Auto,
}

impl Mode {
    /// `Min` or `Max` for the monitored value `monitor`.
    pub fn resolve(self, monitor: &str) -> Mode {
        match self {
            Mode::Auto => {
                let m = monitor.to_ascii_lowercase();
                if ["acc", "auc", "precision", "recall", "f1"]
                    .iter()
                    .any(|k| m.contains(k))
                    || m == "r2"
                    || m.ends_with("_r2")
                {
                    Mode::Max
                } else {
                    Mode::Min
                }
            }
            other => other,
        }
    }

    /// True when `value` is better than `reference` by more than `min_delta`
    /// (`value + min_delta < reference` for `Min`), Keras's `_is_improvement`.
    /// `reference == None` (nothing seen yet) counts any value but NaN as better.
    /// Call on a resolved mode.
    pub(crate) fn improves(self, value: f64, reference: Option<f64>, min_delta: f64) -> bool {
        let Some(r) = reference else {
            return !value.is_nan();
        };
        match self {
            Mode::Max => value - min_delta > r,
            _ => value + min_delta < r,
        }
    }
}
