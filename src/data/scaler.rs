//! Per-feature scaling fitted on training data: standardisation and min-max.
//!
//! Both scalers treat a tensor `(N, ...)` as `N` samples of `F` features (the
//! product of the other dimensions; a 1-D tensor is one feature), keep their
//! statistics in `f64` and serialize with serde so that they can be saved
//! beside a model and applied again at inference time.

use crate::{Device, Error, Result, Tensor};
use serde::{Deserialize, Serialize};

/// Below this a column's spread counts as zero and its scale becomes 1, as
/// scikit-learn does (`_handle_zeros_in_scale`), so constant columns map to 0
/// instead of dividing by zero.
const ZERO_SCALE: f64 = 10.0 * f64::EPSILON;

/// The columns of `x` as `(rows, cols, values)` in `f64`, with every value checked finite.
fn columns(x: &Tensor, op: &'static str) -> Result<(usize, usize, Vec<f64>)> {
    x.require_float(op)?;
    if x.rank() == 0 {
        return Err(Error::invalid(op, "expected samples (N, ...), got a 0-D tensor"));
    }
    let n = x.dims()[0];
    let f: usize = x.dims()[1..].iter().product();
    if f == 0 {
        return Err(Error::invalid(
            op,
            format!("samples of shape {} have no features", x.shape()),
        ));
    }
    let v = x.to_vec::<f64>()?;
    if let Some(i) = v.iter().position(|a| !a.is_finite()) {
        return Err(Error::invalid(
            op,
            format!(
                "sample {} feature {} is {} (scalers need finite data)",
                i / f,
                i % f,
                v[i]
            ),
        ));
    }
    Ok((n, f, v))
}

/// The per-column arithmetic of the scalers, in the order scikit-learn does it.
#[derive(Clone, Copy)]
enum Affine {
    /// `(x - a) / b`
    SubDiv,
    /// `x * a + b`
    MulAdd,
}

/// Applies `kind` with per-feature rows `a` and `b`, in `x`'s dtype and on its device.
fn per_column(x: &Tensor, kind: Affine, a: &[f64], b: &[f64], op: &'static str) -> Result<Tensor> {
    x.require_float(op)?;
    let f = a.len();
    let xf: usize = x.dims().get(1..).map(|d| d.iter().product()).unwrap_or(0);
    if x.rank() == 0 || xf != f {
        return Err(Error::invalid(
            op,
            format!(
                "the scaler was fitted on {f} features per sample, got a tensor of shape {}",
                x.shape()
            ),
        ));
    }
    let n = x.dims()[0];
    let row = |v: &[f64]| -> Result<Tensor> {
        Tensor::from_vec(v.to_vec(), (1, f), &Device::cpu())?
            .to_dtype(x.dtype())?
            .to_device(&x.device())
    };
    let x2 = x.reshape((n, f))?;
    let y = match kind {
        Affine::SubDiv => x2.sub(&row(a)?)?.div(&row(b)?)?,
        Affine::MulAdd => x2.mul(&row(a)?)?.add(&row(b)?)?,
    };
    y.reshape(x.shape())
}

/// Standardises each feature to zero mean and unit variance, like
/// scikit-learn's `StandardScaler`: `(x - mean) / std`, with the population
/// standard deviation and a scale of 1 for constant columns.
///
/// ```
/// use neurite::{data::StandardScaler, Device, Tensor};
/// # fn main() -> neurite::Result<()> {
/// let train = Tensor::from_vec(vec![1f32, 10., 3., 10.], (2, 2), &Device::cpu())?;
/// let scaler = StandardScaler::fit(&train)?;
/// assert_eq!(scaler.transform(&train)?.to_vec2::<f32>()?, vec![vec![-1., 0.], vec![1., 0.]]);
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StandardScaler {
    /// Per-feature mean.
    pub mean: Vec<f64>,
    /// Per-feature population variance.
    pub var: Vec<f64>,
    /// Per-feature divisor: the standard deviation, or 1 where it is zero.
    pub scale: Vec<f64>,
}

impl StandardScaler {
    /// Fits on training samples `(N, ...)`, N >= 1.
    pub fn fit(x: &Tensor) -> Result<StandardScaler> {
        let op = "StandardScaler::fit";
        let (n, f, v) = columns(x, op)?;
        if n == 0 {
            return Err(Error::invalid(op, "cannot fit on 0 samples"));
        }
        let mut mean = vec![0.0; f];
        for r in v.chunks(f) {
            mean.iter_mut().zip(r).for_each(|(m, a)| *m += a);
        }
        mean.iter_mut().for_each(|m| *m /= n as f64);
        // Two passes: the sum of squared deviations is exact to rounding,
        // where E[x^2] - E[x]^2 cancels catastrophically for large offsets.
        let mut var = vec![0.0; f];
        for r in v.chunks(f) {
            var.iter_mut()
                .zip(r.iter().zip(&mean))
                .for_each(|(s, (a, m))| *s += (a - m) * (a - m));
        }
        var.iter_mut().for_each(|s| *s /= n as f64);
        let scale = var
            .iter()
            .map(|s| {
                let sd = s.sqrt();
                if sd < ZERO_SCALE { 1.0 } else { sd }
            })
            .collect();
        Ok(StandardScaler { mean, var, scale })
    }

    /// Number of features it was fitted on.
    pub fn num_features(&self) -> usize {
        self.mean.len()
    }

    /// `(x - mean) / scale`, for any tensor with the fitted number of features per sample.
    pub fn transform(&self, x: &Tensor) -> Result<Tensor> {
        per_column(x, Affine::SubDiv, &self.mean, &self.scale, "StandardScaler::transform")
    }

    /// Fits on `x` and transforms it.
    pub fn fit_transform(x: &Tensor) -> Result<(StandardScaler, Tensor)> {
        let s = StandardScaler::fit(x)?;
        let t = s.transform(x)?;
        Ok((s, t))
    }

    /// `x * scale + mean`, undoing [`StandardScaler::transform`].
    pub fn inverse_transform(&self, x: &Tensor) -> Result<Tensor> {
        per_column(
            x,
            Affine::MulAdd,
            &self.scale,
            &self.mean,
            "StandardScaler::inverse_transform",
        )
    }
}

/// Maps each feature linearly so that the training minimum and maximum land
/// on `feature_range` (`(0, 1)` by default), like scikit-learn's
/// `MinMaxScaler`; constant columns get a scale of 1.
///
/// ```
/// use neurite::{data::MinMaxScaler, Device, Tensor};
/// # fn main() -> neurite::Result<()> {
/// let train = Tensor::from_vec(vec![0f32, 5., 10., 5.], (2, 2), &Device::cpu())?;
/// let scaler = MinMaxScaler::fit(&train)?;
/// assert_eq!(scaler.transform(&train)?.to_vec2::<f32>()?, vec![vec![0., 0.], vec![1., 0.]]);
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MinMaxScaler {
    /// The target interval.
    pub feature_range: (f64, f64),
    /// Per-feature minimum of the training data.
    pub data_min: Vec<f64>,
    /// Per-feature maximum of the training data.
    pub data_max: Vec<f64>,
    /// Per-feature multiplier: `(hi - lo) / (max - min)` (or `hi - lo` for constant columns).
    pub scale: Vec<f64>,
    /// Per-feature offset added after scaling: `lo - min * scale`.
    pub min: Vec<f64>,
}

impl MinMaxScaler {
    /// Fits on training samples `(N, ...)` to the range `(0, 1)`.
    pub fn fit(x: &Tensor) -> Result<MinMaxScaler> {
        MinMaxScaler::fit_range(x, (0.0, 1.0))
    }

    /// Fits on training samples to the range `(lo, hi)`, `lo < hi`.
    pub fn fit_range(x: &Tensor, feature_range: (f64, f64)) -> Result<MinMaxScaler> {
        let op = "MinMaxScaler::fit";
        let (lo, hi) = feature_range;
        if !(lo.is_finite() && hi.is_finite() && lo < hi) {
            return Err(Error::invalid(
                op,
                format!("feature_range must be finite with min < max, got ({lo}, {hi})"),
            ));
        }
        let (n, f, v) = columns(x, op)?;
        if n == 0 {
            return Err(Error::invalid(op, "cannot fit on 0 samples"));
        }
        let mut data_min = vec![f64::INFINITY; f];
        let mut data_max = vec![f64::NEG_INFINITY; f];
        for r in v.chunks(f) {
            for ((a, mn), mx) in r.iter().zip(&mut data_min).zip(&mut data_max) {
                *mn = mn.min(*a);
                *mx = mx.max(*a);
            }
        }
        let scale: Vec<f64> = data_min
            .iter()
            .zip(&data_max)
            .map(|(mn, mx)| {
                let range = mx - mn;
                (hi - lo) / if range < ZERO_SCALE { 1.0 } else { range }
            })
            .collect();
        let min = data_min.iter().zip(&scale).map(|(mn, s)| lo - mn * s).collect();
        Ok(MinMaxScaler {
            feature_range,
            data_min,
            data_max,
            scale,
            min,
        })
    }

    /// Number of features it was fitted on.
    pub fn num_features(&self) -> usize {
        self.scale.len()
    }

    /// `x * scale + min`, for any tensor with the fitted number of features per sample.
    pub fn transform(&self, x: &Tensor) -> Result<Tensor> {
        per_column(x, Affine::MulAdd, &self.scale, &self.min, "MinMaxScaler::transform")
    }

    /// Fits on `x` (to `(0, 1)`) and transforms it.
    pub fn fit_transform(x: &Tensor) -> Result<(MinMaxScaler, Tensor)> {
        let s = MinMaxScaler::fit(x)?;
        let t = s.transform(x)?;
        Ok((s, t))
    }

    /// `(x - min) / scale`, undoing [`MinMaxScaler::transform`].
    pub fn inverse_transform(&self, x: &Tensor) -> Result<Tensor> {
        per_column(
            x,
            Affine::SubDiv,
            &self.min,
            &self.scale,
            "MinMaxScaler::inverse_transform",
        )
    }
}
