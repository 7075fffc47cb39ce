//! Metrics as vectors of sums: each batch contributes its sums (counts per
//! class, squared errors per column, ...) computed on the device, `fit` adds
//! them over the epoch, and [`Metric::finish`] turns the totals into the value.
//! Ratios such as F1, R² or AUC are not means of per-sample values, so they
//! cannot be averaged over batches; their sums can.

use super::metrics::{Metric, batch_len, samples_are_scalars, sum_dtype};
use crate::metrics::from_counts;
use crate::{DType, Error, Result, Tensor};

impl Metric {
    /// The class count of a classification metric: the outputs' second
    /// dimension, or 2 for one output per sample.
    fn classes(outputs: &Tensor, op: &'static str) -> Result<usize> {
        if samples_are_scalars(outputs) {
            return Ok(2);
        }
        match outputs.dims() {
            [_, c] if *c > 1 => Ok(*c),
            _ => Err(Error::invalid(
                op,
                format!(
                    "expected outputs (N, C) or one output per sample, got shape {}",
                    outputs.shape()
                ),
            )),
        }
    }

    /// How many sums one batch contributes (fixed by the first batch).
    pub(crate) fn stats_width(&self, outputs: &Tensor) -> Result<usize> {
        let n = batch_len(outputs)?;
        Ok(match self {
            Metric::Precision(_) | Metric::Recall(_) | Metric::F1(_) => {
                3 * Metric::classes(outputs, "precision/recall/f1")?
            }
            Metric::R2Score => 3 * outputs.elem_count().checked_div(n).unwrap_or(0).max(1),
            Metric::Auc { num_thresholds, .. } => 2 * num_thresholds,
            _ => 1,
        })
    }

    /// The batch's sums, a 1-D tensor of [`Metric::stats_width`] values on the
    /// outputs' device. Call under [`crate::no_grad`].
    pub(crate) fn batch_stats(&self, outputs: &Tensor, targets: &Tensor) -> Result<Tensor> {
        let n = batch_len(outputs)?;
        let dtype = sum_dtype(outputs.dtype());
        let dev = outputs.device();
        match self {
            Metric::Precision(_) | Metric::Recall(_) | Metric::F1(_) => {
                let op = "precision/recall/f1";
                let c = Metric::classes(outputs, op)?;
                let (pred, truth) = if samples_are_scalars(outputs) {
                    check_count(op, outputs, targets, n)?;
                    (
                        outputs
                            .flatten_all()?
                            .to_dtype(dtype)?
                            .gt_scalar(0.5)?
                            .to_dtype(dtype)?,
                        targets
                            .flatten_all()?
                            .to_dtype(dtype)?
                            .gt_scalar(0.5)?
                            .to_dtype(dtype)?,
                    )
                } else {
                    (
                        outputs.argmax(1usize, false)?.to_dtype(dtype)?,
                        class_targets(op, outputs, targets)?.to_dtype(dtype)?,
                    )
                };
                let classes = Tensor::arange(0.0, c as f64, 1.0, dtype, &dev)?.reshape([1, c])?;
                let pred = pred.reshape([n, 1])?.eq(&classes)?.to_dtype(dtype)?;
                let truth = truth.reshape([n, 1])?.eq(&classes)?.to_dtype(dtype)?;
                let tp = pred.mul(&truth)?.sum_dim(0usize, false)?;
                Tensor::cat(
                    &[tp, pred.sum_dim(0usize, false)?, truth.sum_dim(0usize, false)?],
                    0usize,
                )
            }
            Metric::TopKAccuracy(k) => {
                let op = "top_k_accuracy";
                if *k == 0 || outputs.rank() != 2 {
                    return Err(Error::invalid(
                        op,
                        format!(
                            "need k >= 1 and outputs (N, C), got k = {k} and shape {}",
                            outputs.shape()
                        ),
                    ));
                }
                let truth = class_targets(op, outputs, targets)?
                    .to_dtype(DType::I64)?
                    .reshape([n, 1])?;
                let scores = outputs.to_dtype(dtype)?;
                let own = scores.gather(1usize, &truth)?;
                let above = scores.gt(&own)?.to_dtype(dtype)?.sum_dim(1usize, false)?;
                above.lt_scalar(*k as f64)?.to_dtype(dtype)?.sum_all()?.reshape(1)
            }
            Metric::MeanAbsoluteError | Metric::RootMeanSquaredError => {
                let op = self.name();
                if outputs.elem_count() != targets.elem_count() {
                    return Err(Error::invalid(
                        "mae/rmse",
                        format!(
                            "{op}: outputs {} and targets {} differ in size",
                            outputs.shape(),
                            targets.shape()
                        ),
                    ));
                }
                let cols = (outputs.elem_count() / n.max(1)).max(1) as f64;
                let d = outputs
                    .to_dtype(dtype)?
                    .sub(&targets.to_dtype(dtype)?.reshape(outputs.shape().clone())?)?;
                let e = if matches!(self, Metric::MeanAbsoluteError) {
                    d.abs()?
                } else {
                    d.sqr()?
                };
                e.sum_all()?.mul_scalar(1.0 / cols)?.reshape(1)
            }
            Metric::R2Score => {
                if outputs.elem_count() != targets.elem_count() {
                    return Err(Error::invalid(
                        "r2",
                        format!(
                            "outputs {} and targets {} differ in size",
                            outputs.shape(),
                            targets.shape()
                        ),
                    ));
                }
                let cols = (outputs.elem_count() / n.max(1)).max(1);
                let o = outputs.to_dtype(dtype)?.reshape([n, cols])?;
                let t = targets.to_dtype(dtype)?.reshape([n, cols])?;
                let sse = o.sub(&t)?.sqr()?.sum_dim(0usize, false)?;
                Tensor::cat(
                    &[t.sum_dim(0usize, false)?, t.sqr()?.sum_dim(0usize, false)?, sse],
                    0usize,
                )
            }
            Metric::Auc {
                num_thresholds,
                from_logits,
            } => {
                let op = "auc";
                if *num_thresholds < 2 {
                    return Err(Error::invalid(
                        op,
                        format!("need at least 2 thresholds, got {num_thresholds}"),
                    ));
                }
                if !samples_are_scalars(outputs) {
                    return Err(Error::invalid(
                        op,
                        format!(
                            "needs one output per sample (a binary classifier), got shape {}",
                            outputs.shape()
                        ),
                    ));
                }
                check_count(op, outputs, targets, n)?;
                let mut p = outputs.flatten_all()?.to_dtype(dtype)?;
                if *from_logits {
                    p = p.sigmoid()?;
                }
                let y = targets
                    .flatten_all()?
                    .to_dtype(dtype)?
                    .gt_scalar(0.5)?
                    .to_dtype(dtype)?
                    .reshape([n, 1])?;
                let t = thresholds(*num_thresholds);
                let thr = Tensor::from_vec(t, (1, *num_thresholds), &dev)?.to_dtype(dtype)?;
                let pos = p.reshape([n, 1])?.gt(&thr)?.to_dtype(dtype)?;
                let tp = pos.mul(&y)?.sum_dim(0usize, false)?;
                let fp = pos.mul(&y.affine(-1.0, 1.0)?)?.sum_dim(0usize, false)?;
                Tensor::cat(&[tp, fp], 0usize)
            }
            _ => self.batch_sum(outputs, targets)?.reshape(1),
        }
    }

    /// The metric's value from sums added over `n` samples.
    pub(crate) fn finish(&self, stats: &[f64], n: f64) -> f64 {
        let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { 0.0 };
        let split3 = |s: &[f64]| -> (Vec<f64>, Vec<f64>, Vec<f64>) {
            let c = s.len() / 3;
            (s[..c].to_vec(), s[c..2 * c].to_vec(), s[2 * c..3 * c].to_vec())
        };
        match self {
            Metric::Precision(a) | Metric::Recall(a) | Metric::F1(a) => {
                let (tp, pred, truth) = split3(stats);
                let scores = from_counts(&tp, &pred, &truth, *a);
                match self {
                    Metric::Precision(_) => scores.precision,
                    Metric::Recall(_) => scores.recall,
                    _ => scores.f1,
                }
            }
            Metric::RootMeanSquaredError => ratio(stats.first().copied().unwrap_or(0.0), n).sqrt(),
            Metric::R2Score => {
                let (sum, sum_sq, sse) = split3(stats);
                let per_col: Vec<f64> = (0..sum.len())
                    .map(|j| {
                        let ss_tot = sum_sq[j] - sum[j] * sum[j] / n;
                        // scikit-learn: a constant target scores 1 when predicted exactly, else 0.
                        if ss_tot > 0.0 {
                            1.0 - sse[j] / ss_tot
                        } else if sse[j] == 0.0 {
                            1.0
                        } else {
                            0.0
                        }
                    })
                    .collect();
                per_col.iter().sum::<f64>() / per_col.len().max(1) as f64
            }
            Metric::Auc { num_thresholds, .. } => {
                let t = *num_thresholds;
                let (tp, fp) = (&stats[..t], &stats[t..2 * t]);
                // The first threshold lies below 0: every sample is predicted positive.
                let (pos, neg) = (tp[0], fp[0]);
                if pos <= 0.0 || neg <= 0.0 {
                    return f64::NAN;
                }
                (0..t - 1)
                    .map(|j| {
                        let (f0, f1) = (fp[j] / neg, fp[j + 1] / neg);
                        let (r0, r1) = (tp[j] / pos, tp[j + 1] / pos);
                        (f0 - f1) * 0.5 * (r0 + r1)
                    })
                    .sum::<f64>()
                    + (fp[t - 1] / neg) * 0.5 * (tp[t - 1] / pos)
            }
            _ => ratio(stats.first().copied().unwrap_or(0.0), n),
        }
    }
}

/// Keras's thresholds: just below 0, `i / (t - 1)` inside, just above 1.
fn thresholds(t: usize) -> Vec<f32> {
    let eps = 1e-7f32;
    (0..t)
        .map(|i| match i {
            0 => -eps,
            _ if i + 1 == t => 1.0 + eps,
            _ => i as f32 / (t - 1) as f32,
        })
        .collect()
}

fn check_count(op: &'static str, outputs: &Tensor, targets: &Tensor, n: usize) -> Result<()> {
    if targets.elem_count() != n {
        return Err(Error::invalid(
            op,
            format!(
                "outputs {} and targets {} must hold one value per sample each",
                outputs.shape(),
                targets.shape()
            ),
        ));
    }
    Ok(())
}

/// Class indices `(N,)` from index targets or one-hot rows.
fn class_targets(op: &'static str, outputs: &Tensor, targets: &Tensor) -> Result<Tensor> {
    let n = outputs.dims()[0];
    if targets.dims() == outputs.dims() {
        targets.argmax(1usize, false)
    } else if targets.elem_count() == n && targets.dims().first() == Some(&n) {
        targets.flatten_all()
    } else {
        Err(Error::invalid(
            op,
            format!(
                "targets {} must be class indices (N,) or one-hot (N, C) for outputs {}",
                targets.shape(),
                outputs.shape()
            ),
        ))
    }
}
