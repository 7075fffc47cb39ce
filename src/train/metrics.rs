//! Metrics computed during `fit`, `evaluate` and validation.

use crate::metrics::Average;
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
    /// Precision with the given averaging (`"precision"` for
    /// [`Average::Binary`], `"precision_macro"`, `"precision_micro"`,
    /// `"precision_weighted"`), scikit-learn's `precision_score`. Outputs
    /// `(N, C)` predict their argmax; one output per sample predicts class 1
    /// above 0.5 (probabilities). Accumulated over the epoch from per-class
    /// counts, so the epoch value is the score of all its samples, not a mean
    /// of batch scores.
    Precision(Average),
    /// Recall (`"recall"`, `"recall_macro"`, ...), like [`Metric::Precision`].
    Recall(Average),
    /// F1 (`"f1"`, `"f1_macro"`, ...), like [`Metric::Precision`].
    F1(Average),
    /// `"top_k_accuracy"` (with `k` written out: `"top_5_accuracy"`): the
    /// fraction of samples whose target class scores among the `k` highest
    /// (ties count for the target), for outputs `(N, C)` and class-index targets.
    TopKAccuracy(usize),
    /// `"mae"`: the mean absolute error over all outputs (the mean over the
    /// outputs of each column's MAE, scikit-learn's uniform average).
    MeanAbsoluteError,
    /// `"rmse"`: the square root of the mean squared error over every output
    /// element (Keras's `RootMeanSquaredError`; for one output column it is
    /// scikit-learn's `root_mean_squared_error`).
    RootMeanSquaredError,
    /// `"r2"`: the coefficient of determination of each output column,
    /// averaged over the columns (scikit-learn's `r2_score`, uniform average),
    /// from sums accumulated over the epoch.
    R2Score,
    /// `"auc"`: the area under the ROC curve of a binary classifier with one
    /// output per sample, from true and false positive counts at
    /// `num_thresholds` thresholds evenly spaced in `[0, 1]` (Keras's `AUC`;
    /// within about `1 / num_thresholds` of the exact `roc_auc_score`).
    Auc {
        /// Thresholds (Keras: 200), at least 2.
        num_thresholds: usize,
        /// Outputs are logits: a sigmoid makes them probabilities first.
        from_logits: bool,
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
            other => write!(f, "{}", other.name()),
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
    pub fn name(&self) -> std::borrow::Cow<'_, str> {
        let averaged = |base: &str, a: &Average| -> String {
            match a {
                Average::Binary => base.to_string(),
                Average::Macro => format!("{base}_macro"),
                Average::Micro => format!("{base}_micro"),
                Average::Weighted => format!("{base}_weighted"),
            }
        };
        match self {
            Metric::Accuracy => "accuracy".into(),
            Metric::BinaryAccuracy { .. } => "binary_accuracy".into(),
            Metric::Precision(a) => averaged("precision", a).into(),
            Metric::Recall(a) => averaged("recall", a).into(),
            Metric::F1(a) => averaged("f1", a).into(),
            Metric::TopKAccuracy(k) => format!("top_{k}_accuracy").into(),
            Metric::MeanAbsoluteError => "mae".into(),
            Metric::RootMeanSquaredError => "rmse".into(),
            Metric::R2Score => "r2".into(),
            Metric::Auc { .. } => "auc".into(),
            Metric::Custom { name, .. } => name.as_str().into(),
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
            Metric::TopKAccuracy(_) | Metric::MeanAbsoluteError => self.batch_stats(outputs, targets)?.reshape(()),
            other => Err(Error::invalid(
                "Metric::batch_sum",
                format!("{} is not a sum over samples; use Metric::compute", other.name()),
            )),
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
        let stats = crate::no_grad(|| self.batch_stats(outputs, targets))?;
        Ok(self.finish(&stats.to_vec::<f64>()?, n as f64))
    }
}

pub(super) fn sum_dtype(d: DType) -> DType {
    if d == DType::F64 { DType::F64 } else { DType::F32 }
}

pub(super) fn batch_len(outputs: &Tensor) -> Result<usize> {
    outputs.dims().first().copied().ok_or_else(|| {
        Error::invalid(
            "Metric",
            format!("outputs need a batch dimension, got shape {}", outputs.shape()),
        )
    })
}

/// `(N,)` or `(N, 1)`: one output per sample.
pub(super) fn samples_are_scalars(outputs: &Tensor) -> bool {
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

pub(super) fn categorical_correct(outputs: &Tensor, targets: &Tensor, dtype: DType) -> Result<Tensor> {
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
