//! Input standardisation with statistics that travel with the model.

use super::params::{Unbuilt, check_size, placeholder};
use super::{Forward, LayerConfig, Module};
use crate::data::StandardScaler;
use crate::{DType, Device, Error, Result, Tensor};

/// Smallest divisor: Keras's `backend.epsilon()`, so a constant feature maps
/// to zero instead of dividing by zero.
const MIN_STD: f64 = 1e-7;

/// `(x - mean) / sqrt(variance)` with fixed statistics, Keras's
/// `layers.Normalization` (torchvision's `Normalize` as a layer).
///
/// The statistics are computed once from training data with
/// [`Normalization::adapt`] (or given with [`Normalization::with_stats`]) and
/// are buffers, not parameters: the optimizer never changes them, and they are
/// saved in checkpoints and restored by `Sequential::load`, so a reloaded model
/// preprocesses its input exactly as it did in training with no code of its own.
///
/// `axis` picks which statistics are kept: `None` keeps one mean and variance
/// for every element (MNIST's `Normalize((0.1307,), (0.3081,))`); `Some(a)`
/// keeps one per index of input dim `a` (negative counts from the end; it may
/// not be the batch dim 0), so `Some(1)` on images `(N, C, H, W)` is per
/// channel and `Some(-1)` on tables `(N, F)` is per column.
///
/// # Shapes
/// - input: `(N, *)`, with `F` entries on `axis` when one is set
/// - output: same as the input
///
/// ```
/// use neurite::nn::{Forward, Module, Normalization};
/// use neurite::{Device, Tensor};
/// # fn main() -> neurite::Result<()> {
/// let train = Tensor::from_vec(vec![1f32, 3., 5., 7.], (4, 1), &Device::cpu())?;
/// let norm = Normalization::adapt(&train, None)?; // mean 4, variance 5
/// let y = norm.forward(&Tensor::from_vec(vec![4f32, 9.], (2, 1), &Device::cpu())?)?;
/// assert_eq!(y.to_vec2::<f32>()?, vec![vec![0.0], vec![5f32.sqrt()]]);
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Normalization {
    axis: Option<i64>,
    mean: Tensor,
    variance: Tensor,
    unbuilt: Unbuilt,
}

impl Normalization {
    /// The identity (mean 0, variance 1) with `num_features` statistics on
    /// `axis` (1 when `axis` is `None`), to be filled by loading a checkpoint.
    /// An invalid axis (0, the batch dim) is reported by the first `forward`
    /// (or at once by [`Normalization::try_new`]), and so is a feature count
    /// whose statistics cannot be created.
    pub fn new(axis: Option<i64>, num_features: usize) -> Normalization {
        let n = if axis.is_some() { num_features } else { 1 };
        let full = |v: f64| Tensor::full(v, n, DType::F32, &Device::cpu());
        let made = check_size("Normalization", "statistics", &[n]).and_then(|()| Ok((full(0.0)?, full(1.0)?)));
        let (mean, variance, unbuilt) = match made {
            Ok((m, v)) => (m, v, Unbuilt::none()),
            Err(e) => (placeholder(1), placeholder(1), Unbuilt::because(&e)),
        };
        Normalization {
            axis,
            mean,
            variance,
            unbuilt,
        }
    }

    /// [`Normalization::new`], validated now.
    pub fn try_new(axis: Option<i64>, num_features: usize) -> Result<Normalization> {
        let layer = Normalization::new(axis, num_features);
        layer.validate()?;
        Ok(layer)
    }

    /// Checks the axis (statistics cannot be kept per sample, axis 0) and
    /// that the statistics could be created.
    pub fn validate(&self) -> Result<()> {
        self.unbuilt.check("Normalization")?;
        if self.axis == Some(0) {
            return Err(Error::invalid(
                "Normalization",
                "axis 0 is the batch dim; statistics are kept per feature (use 1.., a negative axis or None)",
            ));
        }
        Ok(())
    }

    /// Fixed statistics: one mean and one variance per index of `axis` (exactly
    /// one of each when `axis` is `None`). Variances must be finite and not negative.
    pub fn with_stats(axis: Option<i64>, mean: &[f64], variance: &[f64]) -> Result<Normalization> {
        let op = "Normalization";
        Normalization::new(axis, 1).validate()?;
        if mean.len() != variance.len() || mean.is_empty() || (axis.is_none() && mean.len() != 1) {
            return Err(Error::invalid(
                op,
                format!(
                    "expected as many means as variances (one each when axis is None), got {} means and {} variances",
                    mean.len(),
                    variance.len()
                ),
            ));
        }
        if let Some(i) = mean.iter().position(|m| !m.is_finite()) {
            return Err(Error::invalid(op, format!("mean {i} is {}", mean[i])));
        }
        if let Some(i) = variance.iter().position(|v| !v.is_finite() || *v < 0.0) {
            return Err(Error::invalid(
                op,
                format!("variance {i} is {} (expected finite and >= 0)", variance[i]),
            ));
        }
        let buffer = |v: &[f64]| Tensor::from_vec(v.to_vec(), v.len(), &Device::cpu())?.to_dtype(DType::F32);
        Ok(Normalization {
            axis,
            mean: buffer(mean)?,
            variance: buffer(variance)?,
            unbuilt: Unbuilt::none(),
        })
    }

    /// Computes the statistics of `x` (samples `(N, *)`, e.g. the training
    /// set): the mean and population variance over everything but `axis`, in
    /// `f64`. The layer is made on the CPU in `f32`; move it with the model.
    pub fn adapt(x: &Tensor, axis: Option<i64>) -> Result<Normalization> {
        let op = "Normalization::adapt";
        x.require_float(op)?;
        if x.rank() < 2 || x.dims()[0] == 0 {
            return Err(Error::invalid(
                op,
                format!("expected a non-empty batch of samples (N, *), got shape {}", x.shape()),
            ));
        }
        let x = crate::no_grad(|| x.to_dtype(DType::F64))?;
        let (mean, var) = match axis {
            None => {
                let m = x.mean_all()?;
                let v = x.sub(&m)?.sqr()?.mean_all()?;
                (m.reshape(1)?, v.reshape(1)?)
            }
            Some(a) => {
                let d = feature_dim(a, x.rank(), op)?;
                let others: Vec<usize> = (0..x.rank()).filter(|&i| i != d).collect();
                let m = x.mean_dims(&others, true)?;
                let v = x.sub(&m)?.sqr()?.mean_dims(&others, false)?;
                (m.flatten_all()?, v)
            }
        };
        let (mean, var) = (mean.to_vec::<f64>()?, var.to_vec::<f64>()?);
        if let Some(i) = mean.iter().chain(&var).position(|v| !v.is_finite()) {
            return Err(Error::invalid(
                op,
                format!(
                    "statistic {} of the data is not finite (NaN or infinite inputs?)",
                    i % mean.len()
                ),
            ));
        }
        Normalization::with_stats(axis, &mean, &var)
    }

    /// The standardisation a fitted [`StandardScaler`] applies, as a layer
    /// for inputs `(N, F)` (per column, axis -1), so that it is saved with the
    /// model. Constant columns keep the scaler's divisor of 1.
    pub fn from_scaler(scaler: &StandardScaler) -> Result<Normalization> {
        let variance: Vec<f64> = scaler.scale.iter().map(|s| s * s).collect();
        Normalization::with_stats(Some(-1), &scaler.mean, &variance)
    }

    /// The axis with one statistic per index, or `None` for one over all elements.
    pub fn axis(&self) -> Option<i64> {
        self.axis
    }

    /// The means, in `f64`.
    pub fn mean(&self) -> Result<Vec<f64>> {
        self.mean.to_vec()
    }

    /// The variances, in `f64`.
    pub fn variance(&self) -> Result<Vec<f64>> {
        self.variance.to_vec()
    }

    /// Number of statistics (1 when `axis` is `None`).
    pub fn num_features(&self) -> usize {
        self.mean.elem_count()
    }
}

/// `axis` resolved against `rank`, refusing the batch dim.
fn feature_dim(axis: i64, rank: usize, op: &'static str) -> Result<usize> {
    let d = if axis < 0 { axis + rank as i64 } else { axis };
    if d <= 0 || d >= rank as i64 {
        return Err(Error::invalid(
            op,
            format!("axis {axis} is not a feature dim of an input of rank {rank} (expected 1..{rank} or negative)"),
        ));
    }
    Ok(d as usize)
}

impl Module for Normalization {
    fn own_buffers(&self) -> Vec<(String, Tensor)> {
        vec![
            ("mean".to_string(), self.mean.clone()),
            ("variance".to_string(), self.variance.clone()),
        ]
    }

    fn map_own_tensors(&mut self, f: &mut dyn FnMut(&Tensor) -> Result<Tensor>) -> Result<()> {
        self.mean = f(&self.mean)?;
        self.variance = f(&self.variance)?;
        Ok(())
    }

    fn config(&self) -> Result<LayerConfig> {
        self.unbuilt.check("Normalization")?;
        Ok(LayerConfig::Normalization {
            axis: self.axis,
            num_features: self.num_features(),
        })
    }
}

impl Forward for Normalization {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let op = "Normalization";
        self.validate()?;
        let mut bshape = vec![1; x.rank()];
        if let Some(a) = self.axis {
            let d = feature_dim(a, x.rank(), op)?;
            if x.dims()[d] != self.num_features() {
                return Err(Error::invalid(
                    op,
                    format!(
                        "input of shape {} has {} entries on axis {a}, the statistics have {}",
                        x.shape(),
                        x.dims()[d],
                        self.num_features()
                    ),
                ));
            }
            bshape[d] = self.num_features();
        }
        let std = self.variance.sqrt()?.clamp(MIN_STD, f64::INFINITY)?;
        x.sub(&self.mean.reshape(bshape.as_slice())?)?
            .div(&std.reshape(bshape.as_slice())?)
    }
}
