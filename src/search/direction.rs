//! [`Direction`]: whether a study minimises or maximises its objective.

use serde::{Deserialize, Serialize};
use std::cmp::Ordering;

/// Whether lower (losses) or higher (accuracies) objective values are better.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Direction {
    /// Lower is better.
    Minimize,
    /// Higher is better.
    Maximize,
}

impl Direction {
    /// `value` with NaN mapped to the worst possible value, so that a diverged
    /// trial ranks last instead of poisoning comparisons.
    pub(crate) fn sanitize(self, value: f64) -> f64 {
        match (value.is_nan(), self) {
            (false, _) => value,
            (true, Direction::Minimize) => f64::INFINITY,
            (true, Direction::Maximize) => f64::NEG_INFINITY,
        }
    }

    /// Orders `a` before `b` when `a` is better.
    pub(crate) fn cmp(self, a: f64, b: f64) -> Ordering {
        let (a, b) = (self.sanitize(a), self.sanitize(b));
        match self {
            Direction::Minimize => a.total_cmp(&b),
            Direction::Maximize => b.total_cmp(&a),
        }
    }

    /// True when `a` is strictly better than `b`.
    pub(crate) fn better(self, a: f64, b: f64) -> bool {
        self.cmp(a, b) == Ordering::Less
    }
}
