//! Regression metrics over one or several outputs per sample.

use crate::{Error, Result};

/// `(targets, predictions)` as columns of `outputs` values per sample.
fn columns(op: &'static str, targets: &[f64], predictions: &[f64], outputs: usize) -> Result<usize> {
    if outputs == 0
        || targets.len() != predictions.len()
        || targets.is_empty()
        || !targets.len().is_multiple_of(outputs)
    {
        return Err(Error::invalid(
            op,
            format!(
                "{} targets and {} predictions with {outputs} outputs per sample; expected equal, \
                 non-zero lengths divisible by the outputs",
                targets.len(),
                predictions.len()
            ),
        ));
    }
    Ok(targets.len() / outputs)
}

/// The mean over outputs of a per-output statistic of the columns.
fn per_output(targets: &[f64], predictions: &[f64], outputs: usize, f: impl Fn(&[f64], &[f64]) -> f64) -> f64 {
    let column = |v: &[f64], j: usize| v.iter().skip(j).step_by(outputs).copied().collect::<Vec<f64>>();
    (0..outputs)
        .map(|j| f(&column(targets, j), &column(predictions, j)))
        .sum::<f64>()
        / outputs as f64
}

/// Mean absolute error, averaged uniformly over the `outputs` values of each
/// sample (row-major), scikit-learn's `mean_absolute_error`.
pub fn mean_absolute_error(targets: &[f64], predictions: &[f64], outputs: usize) -> Result<f64> {
    let n = columns("mean_absolute_error", targets, predictions, outputs)? as f64;
    Ok(per_output(targets, predictions, outputs, |t, p| {
        t.iter().zip(p).map(|(a, b)| (a - b).abs()).sum::<f64>() / n
    }))
}

/// Root mean squared error per output, then averaged over outputs,
/// scikit-learn's `root_mean_squared_error`.
pub fn root_mean_squared_error(targets: &[f64], predictions: &[f64], outputs: usize) -> Result<f64> {
    let n = columns("root_mean_squared_error", targets, predictions, outputs)? as f64;
    Ok(per_output(targets, predictions, outputs, |t, p| {
        (t.iter().zip(p).map(|(a, b)| (a - b) * (a - b)).sum::<f64>() / n).sqrt()
    }))
}

/// The coefficient of determination per output, averaged over outputs,
/// scikit-learn's `r2_score`: a constant target column scores 1 when predicted
/// exactly and 0 otherwise (its `force_finite`).
///
/// ```
/// let r2 = neurite::metrics::r2_score(&[1., 2., 3.], &[1., 2., 4.], 1).unwrap();
/// assert!((r2 - 0.5).abs() < 1e-12);
/// ```
pub fn r2_score(targets: &[f64], predictions: &[f64], outputs: usize) -> Result<f64> {
    let n = columns("r2_score", targets, predictions, outputs)? as f64;
    Ok(per_output(targets, predictions, outputs, |t, p| {
        let mean = t.iter().sum::<f64>() / n;
        let total: f64 = t.iter().map(|a| (a - mean) * (a - mean)).sum();
        let residual: f64 = t.iter().zip(p).map(|(a, b)| (a - b) * (a - b)).sum();
        match (total == 0.0, residual == 0.0) {
            (false, _) => 1.0 - residual / total,
            (true, true) => 1.0,
            (true, false) => 0.0,
        }
    }))
}
