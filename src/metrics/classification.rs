//! Precision, recall, F1 and the confusion matrix from class indices.

use super::same_len;
use crate::{Error, Result};

/// How per-class scores are combined, scikit-learn's `average`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Average {
    /// The score of class 1 alone (two classes only).
    Binary,
    /// The unweighted mean over the classes present in the targets or the
    /// predictions.
    Macro,
    /// From the counts summed over classes (equals accuracy for single-label data).
    Micro,
    /// The mean over classes weighted by each class's number of targets.
    Weighted,
}

/// Precision, recall and F1 of one averaging.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ClassScores {
    /// True positives over predicted positives (0 where nothing was predicted).
    pub precision: f64,
    /// True positives over actual positives (0 where a class has no target).
    pub recall: f64,
    /// `2 tp / (2 tp + fp + fn)` (0 where both are empty).
    pub f1: f64,
}

/// The `num_classes x num_classes` counts: row = target class, column =
/// predicted class, scikit-learn's `confusion_matrix(labels=range(C))`.
/// A class index at or past `num_classes` is an error naming it.
///
/// ```
/// let m = neurite::metrics::confusion_matrix(&[0, 1, 1], &[0, 0, 1], 2).unwrap();
/// assert_eq!(m, vec![vec![1, 0], vec![1, 1]]);
/// ```
pub fn confusion_matrix(targets: &[usize], predictions: &[usize], num_classes: usize) -> Result<Vec<Vec<u64>>> {
    const OP: &str = "confusion_matrix";
    same_len(OP, targets.len(), predictions.len(), "class indices")?;
    let mut m = vec![vec![0u64; num_classes]; num_classes];
    for (i, (&t, &p)) in targets.iter().zip(predictions).enumerate() {
        if t >= num_classes || p >= num_classes {
            return Err(Error::invalid(
                OP,
                format!("sample {i}: target {t}, prediction {p}; expected class indices below {num_classes}"),
            ));
        }
        m[t][p] += 1;
    }
    Ok(m)
}

/// Precision, recall and F1 of class-index predictions, as scikit-learn's
/// `precision_recall_fscore_support(..., average, zero_division=0)`: classes
/// that appear in neither the targets nor the predictions take no part in a
/// macro mean. [`Average::Binary`] needs two classes (indices 0 and 1).
///
/// ```
/// use neurite::metrics::{precision_recall_f1, Average};
/// let s = precision_recall_f1(&[0, 1, 1, 1], &[0, 1, 0, 1], Average::Binary).unwrap();
/// assert_eq!((s.precision, s.recall), (1.0, 2.0 / 3.0));
/// ```
pub fn precision_recall_f1(targets: &[usize], predictions: &[usize], average: Average) -> Result<ClassScores> {
    const OP: &str = "precision_recall_f1";
    same_len(OP, targets.len(), predictions.len(), "class indices")?;
    let classes = targets.iter().chain(predictions).max().map_or(0, |m| m + 1);
    if average == Average::Binary && classes > 2 {
        return Err(Error::invalid(
            OP,
            format!("Average::Binary needs class indices 0 and 1, got index {}", classes - 1),
        ));
    }
    let m = confusion_matrix(targets, predictions, classes.max(2))?;
    Ok(from_confusion(&m, average))
}

/// The scores of a confusion matrix under `average`.
pub(crate) fn from_confusion(m: &[Vec<u64>], average: Average) -> ClassScores {
    let c = m.len();
    let tp: Vec<f64> = (0..c).map(|k| m[k][k] as f64).collect();
    let predicted: Vec<f64> = (0..c).map(|k| m.iter().map(|row| row[k]).sum::<u64>() as f64).collect();
    let actual: Vec<f64> = m.iter().map(|row| row.iter().sum::<u64>() as f64).collect();
    from_counts(&tp, &predicted, &actual, average)
}

/// The scores from per-class true positives, predicted counts and target
/// counts (what `fit` accumulates over batches).
pub(crate) fn from_counts(tp: &[f64], predicted: &[f64], actual: &[f64], average: Average) -> ClassScores {
    let c = tp.len();
    let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { 0.0 };
    let per_class = |k: usize| ClassScores {
        precision: ratio(tp[k], predicted[k]),
        recall: ratio(tp[k], actual[k]),
        f1: ratio(2.0 * tp[k], predicted[k] + actual[k]),
    };
    match average {
        Average::Binary if c > 1 => per_class(1),
        Average::Binary => ClassScores {
            precision: 0.0,
            recall: 0.0,
            f1: 0.0,
        },
        Average::Micro => {
            let (t, p, a) = (tp.iter().sum(), predicted.iter().sum(), actual.iter().sum());
            ClassScores {
                precision: ratio(t, p),
                recall: ratio(t, a),
                f1: ratio(2.0 * t, p + a),
            }
        }
        Average::Macro | Average::Weighted => {
            let weight = |k: usize| match average {
                Average::Weighted => actual[k],
                _ if predicted[k] + actual[k] > 0.0 => 1.0,
                _ => 0.0,
            };
            let total: f64 = (0..c).map(weight).sum();
            let mean = |f: &dyn Fn(ClassScores) -> f64| ratio((0..c).map(|k| weight(k) * f(per_class(k))).sum(), total);
            ClassScores {
                precision: mean(&|s| s.precision),
                recall: mean(&|s| s.recall),
                f1: mean(&|s| s.f1),
            }
        }
    }
}
