//! Score-based metrics: ROC-AUC, average precision and top-k accuracy.

use super::{Average, same_len};
use crate::{Error, Result};

/// Cumulative (false positives, true positives) after each group of tied
/// scores, scores taken from the highest down; the thresholds of scikit-learn's
/// `roc_curve` and `precision_recall_curve`.
fn curve(op: &'static str, positive: &[bool], scores: &[f64]) -> Result<Vec<(f64, f64)>> {
    same_len(op, positive.len(), scores.len(), "scores")?;
    if let Some(i) = scores.iter().position(|s| s.is_nan()) {
        return Err(Error::invalid(op, format!("score {i} is NaN")));
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let mut points = Vec::new();
    let (mut fp, mut tp) = (0.0, 0.0);
    for (j, &i) in order.iter().enumerate() {
        if positive[i] {
            tp += 1.0;
        } else {
            fp += 1.0;
        }
        let last_of_group = order.get(j + 1).is_none_or(|&next| scores[next] != scores[i]);
        if last_of_group {
            points.push((fp, tp));
        }
    }
    Ok(points)
}

fn both_classes(op: &'static str, positive: &[bool]) -> Result<(f64, f64)> {
    let p = positive.iter().filter(|&&b| b).count() as f64;
    let n = positive.len() as f64 - p;
    if p == 0.0 || n == 0.0 {
        return Err(Error::invalid(
            op,
            format!("needs both classes among the targets, got {p} positive and {n} negative"),
        ));
    }
    Ok((p, n))
}

/// The area under the ROC curve of binary targets (`true` = positive) and
/// scores, scikit-learn's `roc_auc_score`: tied scores form one point of the
/// curve (a tie between a positive and a negative counts one half).
///
/// ```
/// let auc = neurite::metrics::roc_auc_score(&[false, false, true, true], &[0.1, 0.4, 0.35, 0.8]).unwrap();
/// assert_eq!(auc, 0.75);
/// ```
pub fn roc_auc_score(positive: &[bool], scores: &[f64]) -> Result<f64> {
    const OP: &str = "roc_auc_score";
    let points = curve(OP, positive, scores)?;
    let (p, n) = both_classes(OP, positive)?;
    let mut area = 0.0;
    let (mut fp0, mut tp0) = (0.0, 0.0);
    for (fp, tp) in points {
        area += (fp - fp0) * (tp + tp0) / 2.0;
        (fp0, tp0) = (fp, tp);
    }
    Ok(area / (p * n))
}

/// Average precision, scikit-learn's `average_precision_score`: the sum over
/// thresholds of the gain in recall times the precision there (the step
/// area under the precision-recall curve, no interpolation).
pub fn average_precision_score(positive: &[bool], scores: &[f64]) -> Result<f64> {
    const OP: &str = "average_precision_score";
    let points = curve(OP, positive, scores)?;
    let p = positive.iter().filter(|&&b| b).count() as f64;
    if p == 0.0 {
        return Err(Error::invalid(OP, "needs at least one positive target"));
    }
    let mut ap = 0.0;
    let mut recall0 = 0.0;
    for (fp, tp) in points {
        let recall = tp / p;
        ap += (recall - recall0) * tp / (tp + fp);
        recall0 = recall;
    }
    Ok(ap)
}

/// One-vs-rest ROC-AUC of `num_classes` class scores per sample (`scores`
/// row-major, `targets.len() x num_classes`), scikit-learn's
/// `roc_auc_score(multi_class="ovr")` with [`Average::Macro`] or
/// [`Average::Weighted`] (by class frequency). Every class must occur among
/// the targets and be absent from some.
pub fn roc_auc_ovr(targets: &[usize], scores: &[f64], num_classes: usize, average: Average) -> Result<f64> {
    const OP: &str = "roc_auc_ovr";
    let rows = rows(OP, targets, scores, num_classes)?;
    let mut total = 0.0;
    let mut weights = 0.0;
    for k in 0..num_classes {
        let positive: Vec<bool> = targets.iter().map(|&t| t == k).collect();
        let class: Vec<f64> = rows.iter().map(|r| r[k]).collect();
        let auc = roc_auc_score(&positive, &class).map_err(|e| Error::invalid(OP, format!("class {k}: {e}")))?;
        let w = match average {
            Average::Macro => 1.0,
            Average::Weighted => positive.iter().filter(|&&b| b).count() as f64,
            other => {
                return Err(Error::invalid(
                    OP,
                    format!("{other:?} averaging is not defined here; use Macro or Weighted"),
                ));
            }
        };
        total += w * auc;
        weights += w;
    }
    Ok(total / weights)
}

/// The fraction of samples whose target is among the `k` highest of its
/// `num_classes` scores (`scores` row-major), scikit-learn's
/// `top_k_accuracy_score`: among tied scores the higher class index ranks
/// first, as there; `k >= num_classes` counts every sample.
pub fn top_k_accuracy(targets: &[usize], scores: &[f64], num_classes: usize, k: usize) -> Result<f64> {
    const OP: &str = "top_k_accuracy";
    if k == 0 {
        return Err(Error::invalid(OP, "k must be at least 1"));
    }
    let rows = rows(OP, targets, scores, num_classes)?;
    let mut hits = 0usize;
    for (row, &t) in rows.iter().zip(targets) {
        // The classes scoring above the target's, and those tied with it
        // that rank first (a higher index), come before it.
        let ahead = (0..num_classes)
            .filter(|&j| row[j] > row[t] || (row[j] == row[t] && j > t))
            .count();
        if ahead < k {
            hits += 1;
        }
    }
    Ok(hits as f64 / targets.len() as f64)
}

fn rows<'s>(op: &'static str, targets: &[usize], scores: &'s [f64], num_classes: usize) -> Result<Vec<&'s [f64]>> {
    if num_classes == 0 || targets.len().checked_mul(num_classes) != Some(scores.len()) {
        return Err(Error::invalid(
            op,
            format!(
                "{} scores for {} samples of {num_classes} classes; expected samples x classes",
                scores.len(),
                targets.len()
            ),
        ));
    }
    same_len(op, targets.len(), scores.len() / num_classes, "score rows")?;
    if let Some((i, &t)) = targets.iter().enumerate().find(|(_, t)| **t >= num_classes) {
        return Err(Error::invalid(
            op,
            format!("target {i} is class {t}; expected below {num_classes}"),
        ));
    }
    Ok(scores.chunks(num_classes).collect())
}
