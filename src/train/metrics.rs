//! Metrics computed during `fit`, `evaluate` and validation.

use crate::{DType, Error, Result, Tensor};
use std::sync::Arc;

/// A user metric: the mean value over a batch, from `(outputs, targets)`, as a
/// one-element tensor.
pub type MetricFn = Arc<dyn Fn(&Tensor, &Tensor) -> Result<Tensor> + Send + Sync>;

/// A metric reported per epoch next to the loss (and as `val_<name>` on
/// validation data).
///
/// Metrics are computed on the model's device without reading values back;
/// their per-batch sums are read together with the loss once per logging
/// interval. An epoch's value is the sample-weighted mean over its batches.
///
/// Accuracy targets are class indices (`I64`, shape `(N,)`) or one-hot rows
/// `(N, C)` for multi-class outputs, and `0`/`1` values of the outputs' element
/// count for single-output models.
#[derive(Clone)]
pub enum Metric {
    /// `"accuracy"`: for outputs `(N, C)` with `C > 1`, the fraction of rows
    /// whose argmax is the target class; for a single output per sample
    /// (`(N,)` or `(N, 1)`), [`Metric::BinaryAccuracy`] with threshold 0.5,
    /// which fits a sigmoid output (use `BinaryAccuracy { threshold: 0.0 }`
    /// for logits).
    Accuracy,
    /// `"binary_accuracy"`: the fraction of outputs on the same side of
    /// `threshold` as their target is of 0.5 (Keras's `BinaryAccuracy`).
    BinaryAccuracy {
        /// Outputs above this count as class 1 (0.5 for probabilities, 0 for logits).
        threshold: f64,
    },
    /// A named metric from a closure returning the batch mean.
    Custom {
        /// The log name (`"mae"`).
        name: String,
        /// The batch-mean function.
        f: MetricFn,
    },
}

impl std::fmt::Debug for Metric {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Metric::Accuracy => write!(f, "Accuracy"),
            Metric::BinaryAccuracy { threshold } => write!(f, "BinaryAccuracy {{ threshold: {threshold} }}"),
            Metric::Custom { name, .. } => write!(f, "Custom({name:?})"),
        }
    }
}

impl Metric {
    /// [`Metric::BinaryAccuracy`] with threshold 0.5 (sigmoid outputs).
    pub fn binary_accuracy() -> Metric {
        Metric::BinaryAccuracy { threshold: 0.5 }
    }

    /// A custom metric from a batch-mean function.
    ///
    /// ```
    /// use neurite::train::Metric;
    /// let mae = Metric::custom("mae", |out, target| out.sub(target)?.abs()?.mean_all());
    /// assert_eq!(mae.name(), "mae");
    /// ```
    pub fn custom(
        name: impl Into<String>,
        f: impl Fn(&Tensor, &Tensor) -> Result<Tensor> + Send + Sync + 'static,
    ) -> Metric {
        Metric::Custom {
            name: name.into(),
            f: Arc::new(f),
        }
    }

    /// The log name.
    pub fn name(&self) -> &str {
        match self {
            Metric::Accuracy => "accuracy",
            Metric::BinaryAccuracy { .. } => "binary_accuracy",
            Metric::Custom { name, .. } => name,
        }
    }

    /// The sum of the metric over the batch's samples, as a one-element tensor
    /// on the outputs' device (dtype `F32`, or `F64` for `F64` outputs).
    /// Call under [`crate::no_grad`].
    pub fn batch_sum(&self, outputs: &Tensor, targets: &Tensor) -> Result<Tensor> {
        let n = batch_len(outputs)?;
        let dtype = sum_dtype(outputs.dtype());
        match self {
            Metric::Accuracy => {
                if samples_are_scalars(outputs) {
                    binary_correct(outputs, targets, 0.5, dtype)
                } else {
                    categorical_correct(outputs, targets, dtype)
                }
            }
            Metric::BinaryAccuracy { threshold } => {
                // A NaN threshold would silently count every output as class 0.
                if threshold.is_nan() {
                    return Err(Error::invalid(
                        "Metric::BinaryAccuracy",
                        "threshold must be a number, got NaN",
                    ));
                }
                binary_correct(outputs, targets, *threshold, dtype)
            }
            Metric::Custom { name, f } => {
                let v = f(outputs, targets)?;
                if v.elem_count() != 1 {
                    return Err(Error::invalid(
                        "Metric::Custom",
                        format!(
                            "metric {name:?} must return one value (the batch mean), got shape {}",
                            v.shape()
                        ),
                    ));
                }
                v.reshape(())?.to_dtype(dtype)?.mul_scalar(n as f64)
            }
        }
    }

    /// The value of the metric over all of `outputs` (a whole prediction),
    /// read back to the host.
    ///
    /// ```
    /// use neurite::train::Metric;
    /// use neurite::{Device, Tensor};
    /// # fn main() -> neurite::Result<()> {
    /// let dev = Device::cpu();
    /// let logits = Tensor::from_vec(vec![2f32, 0., 0., 1., 3., 0.], (3, 2), &dev)?;
    /// let labels = Tensor::from_vec(vec![0i64, 1, 1], 3, &dev)?;
    /// assert!((Metric::Accuracy.compute(&logits, &labels)? - 2.0 / 3.0).abs() < 1e-12);
    /// # Ok(()) }
    /// ```
    pub fn compute(&self, outputs: &Tensor, targets: &Tensor) -> Result<f64> {
        let n = batch_len(outputs)?;
        if n == 0 {
            return Err(Error::invalid("Metric::compute", "no samples"));
        }
        let sum = crate::no_grad(|| self.batch_sum(outputs, targets))?;
        Ok(sum.to_scalar::<f64>()? / n as f64)
    }
}

fn sum_dtype(d: DType) -> DType {
    if d == DType::F64 { DType::F64 } else { DType::F32 }
}

fn batch_len(outputs: &Tensor) -> Result<usize> {
    outputs.dims().first().copied().ok_or_else(|| {
        Error::invalid(
            "Metric",
            format!("outputs need a batch dimension, got shape {}", outputs.shape()),
        )
    })
}

/// `(N,)` or `(N, 1)`: one output per sample.
fn samples_are_scalars(outputs: &Tensor) -> bool {
    outputs.rank() == 1 || (outputs.rank() == 2 && outputs.dims()[1] == 1)
}

fn binary_correct(outputs: &Tensor, targets: &Tensor, threshold: f64, dtype: DType) -> Result<Tensor> {
    if outputs.elem_count() != targets.elem_count() {
        return Err(Error::invalid(
            "binary_accuracy",
            format!(
                "outputs {} and targets {} must hold one value per sample each",
                outputs.shape(),
                targets.shape()
            ),
        ));
    }
    let pred = outputs.flatten_all()?.to_dtype(dtype)?.gt_scalar(threshold)?;
    let truth = targets.flatten_all()?.to_dtype(dtype)?.gt_scalar(0.5)?;
    pred.eq(&truth)?.to_dtype(dtype)?.sum_all()
}

fn categorical_correct(outputs: &Tensor, targets: &Tensor, dtype: DType) -> Result<Tensor> {
    if outputs.rank() != 2 {
        return Err(Error::invalid(
            "accuracy",
            format!("expected outputs (N, C), got shape {}", outputs.shape()),
        ));
    }
    let n = outputs.dims()[0];
    // Class indices are exact in f32 up to 2^24, so comparing as floats is exact.
    let pred = outputs.argmax(1usize, false)?.to_dtype(dtype)?;
    let truth = if targets.dims() == outputs.dims() {
        targets.argmax(1usize, false)?
    } else if targets.elem_count() == n && targets.dims().first() == Some(&n) {
        targets.flatten_all()?
    } else {
        return Err(Error::invalid(
            "accuracy",
            format!(
                "targets {} must be class indices (N,) or one-hot (N, C) for outputs {}",
                targets.shape(),
                outputs.shape()
            ),
        ));
    };
    pred.eq(&truth.to_dtype(dtype)?)?.to_dtype(dtype)?.sum_all()
}
