//! Instance normalisation of images.

use super::params::{Unbuilt, check_size, placeholder};
use super::{Forward, LayerConfig, Module};
use crate::{DType, Device, Error, Result, Tensor};
use std::sync::atomic::{AtomicU64, Ordering};

/// Normalises each channel of each image over its `H x W` positions (mean 0,
/// biased variance 1), PyTorch's `nn.InstanceNorm2d`, with PyTorch's
/// defaults `affine = false` and `track_running_stats = false` (the layer
/// then behaves the same in both modes and has no state).
///
/// With `affine`, a learnable per-channel scale and shift follow. With
/// `track_running_stats`, training mode also updates `running_mean` /
/// `running_var` (the batch average of the per-instance mean and unbiased
/// variance, with `momentum`; `None` is the cumulative average) and
/// evaluation mode normalises with them instead. [`InstanceNorm2d::new`]
/// never fails; invalid values are reported by `validate`, `forward` and
/// [`InstanceNorm2d::try_new`].
///
/// # Shapes
/// - input: `(N, C, H, W)` or unbatched `(C, H, W)`, `C = num_features`
/// - output: same as the input
///
/// # Parameters and buffers
/// `weight` (ones), `bias` (zeros) `[num_features]` when affine;
/// `running_mean` (zeros), `running_var` (ones) `[num_features]` and
/// `num_batches_tracked` when tracking running statistics.
///
/// ```
/// use neurite::nn::{Forward, InstanceNorm2d, Module};
/// use neurite::{DType, Device, Tensor};
/// # fn main() -> neurite::Result<()> {
/// let norm = InstanceNorm2d::new(3);
/// assert_eq!(norm.num_parameters(), 0);
/// let y = norm.forward(&Tensor::randn((2, 3, 4, 4), DType::F32, &Device::cpu())?)?;
/// let per_channel_mean = y.mean_dims(&[2usize, 3], false)?.to_vec::<f32>()?;
/// assert!(per_channel_mean.iter().all(|m| m.abs() < 1e-5));
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct InstanceNorm2d {
    num_features: usize,
    eps: f64,
    momentum: Option<f64>,
    weight: Option<Tensor>,
    bias: Option<Tensor>,
    running: Option<(Tensor, Tensor)>,
    num_batches_tracked: AtomicU64,
    training: bool,
    unbuilt: Unbuilt,
}

const OP: &str = "InstanceNorm2d";

fn filled(v: f64, n: usize) -> Result<Tensor> {
    check_size(OP, "per-channel tensors", &[n])?;
    Tensor::full(v, n, DType::F32, &Device::cpu())
}

impl InstanceNorm2d {
    /// PyTorch's defaults: eps 1e-5, momentum 0.1, no affine parameters, no
    /// running statistics. Never fails.
    pub fn new(num_features: usize) -> InstanceNorm2d {
        InstanceNorm2d {
            num_features,
            eps: 1e-5,
            momentum: Some(0.1),
            weight: None,
            bias: None,
            running: None,
            num_batches_tracked: AtomicU64::new(0),
            training: true,
            unbuilt: Unbuilt::none(),
        }
    }

    /// A layer with every hyperparameter, validated now.
    pub fn try_new(
        num_features: usize,
        eps: f64,
        momentum: Option<f64>,
        affine: bool,
        track_running_stats: bool,
    ) -> Result<InstanceNorm2d> {
        let mut m = InstanceNorm2d::new(num_features)
            .with_affine(affine)
            .with_track_running_stats(track_running_stats);
        m.eps = eps;
        m.momentum = momentum;
        m.validate()?;
        Ok(m)
    }

    /// Adds (or removes) the learnable per-channel scale (ones) and shift (zeros).
    pub fn with_affine(mut self, affine: bool) -> InstanceNorm2d {
        if !affine {
            self.weight = None;
            self.bias = None;
        } else if self.weight.is_none() {
            match (filled(1.0, self.num_features), filled(0.0, self.num_features)) {
                (Ok(w), Ok(b)) => {
                    self.weight = Some(w.requires_grad());
                    self.bias = Some(b.requires_grad());
                }
                (Err(e), _) | (_, Err(e)) => self.unbuilt = Unbuilt::because(&e),
            }
        }
        self
    }

    /// Keeps (or drops) running statistics, used in evaluation mode.
    pub fn with_track_running_stats(mut self, track: bool) -> InstanceNorm2d {
        if !track {
            self.running = None;
        } else if self.running.is_none() {
            match (filled(0.0, self.num_features), filled(1.0, self.num_features)) {
                (Ok(m), Ok(v)) => self.running = Some((m, v)),
                (Err(e), _) | (_, Err(e)) => {
                    self.running = Some((placeholder(1), placeholder(1)));
                    self.unbuilt = Unbuilt::because(&e);
                }
            }
        }
        self
    }

    /// Sets eps.
    pub fn with_eps(mut self, eps: f64) -> InstanceNorm2d {
        self.eps = eps;
        self
    }

    /// Sets the running-statistics momentum (`None`: cumulative average).
    pub fn with_momentum(mut self, momentum: Option<f64>) -> InstanceNorm2d {
        self.momentum = momentum;
        self
    }

    /// Checks eps, momentum and that the tensors were created.
    pub fn validate(&self) -> Result<()> {
        self.unbuilt.check(OP)?;
        if !(self.eps.is_finite() && self.eps >= 0.0) {
            return Err(Error::invalid(
                OP,
                format!("eps must be finite and >= 0, got {}", self.eps),
            ));
        }
        if let Some(m) = self.momentum
            && !(0.0..=1.0).contains(&m)
        {
            return Err(Error::invalid(OP, format!("momentum must be in [0, 1], got {m}")));
        }
        Ok(())
    }

    /// Channels.
    pub fn num_features(&self) -> usize {
        self.num_features
    }

    /// The running mean and variance, when tracked.
    pub fn running_stats(&self) -> Option<(&Tensor, &Tensor)> {
        self.running.as_ref().map(|(m, v)| (m, v))
    }
}

impl Module for InstanceNorm2d {
    fn own_parameters(&self) -> Vec<(String, Tensor)> {
        match (&self.weight, &self.bias) {
            (Some(w), Some(b)) => vec![("weight".to_string(), w.clone()), ("bias".to_string(), b.clone())],
            _ => Vec::new(),
        }
    }

    fn own_buffers(&self) -> Vec<(String, Tensor)> {
        let Some((m, v)) = &self.running else { return Vec::new() };
        let mut out = vec![
            ("running_mean".to_string(), m.clone()),
            ("running_var".to_string(), v.clone()),
        ];
        let count = self.num_batches_tracked.load(Ordering::Relaxed) as i64;
        // A host scalar copied to the buffers' device; only a failed allocation could fail.
        if let Ok(t) = Tensor::from_vec(vec![count], (), &m.device()) {
            out.push(("num_batches_tracked".to_string(), t));
        }
        out
    }

    fn map_own_tensors(&mut self, f: &mut dyn FnMut(&Tensor) -> Result<Tensor>) -> Result<()> {
        if let (Some(w), Some(b)) = (&self.weight, &self.bias) {
            let (w, b) = (f(w)?, f(b)?);
            self.weight = Some(w);
            self.bias = Some(b);
        }
        if let Some((m, v)) = &self.running {
            let (m, v) = (f(m)?, f(v)?);
            self.running = Some((m, v));
        }
        Ok(())
    }

    fn assign_named(&mut self, name: &str, value: &Tensor) -> Result<()> {
        if name == "num_batches_tracked" {
            if value.dtype() != DType::I64 || value.elem_count() != 1 {
                return Err(Error::invalid(
                    "assign_named",
                    format!(
                        "{OP}.num_batches_tracked must be one i64, got {} {}",
                        value.dtype(),
                        value.shape()
                    ),
                ));
            }
            let v = value.to_scalar::<i64>()?;
            self.num_batches_tracked.store(v.max(0) as u64, Ordering::Relaxed);
            return Ok(());
        }
        let mut own = self.own_parameters();
        own.extend(self.own_buffers());
        super::assign_by_name(&own, name, value, OP)
    }

    fn set_training(&mut self, training: bool) {
        self.training = training;
    }

    fn is_training(&self) -> bool {
        self.training
    }

    fn config(&self) -> Result<LayerConfig> {
        self.validate()?;
        Ok(LayerConfig::InstanceNorm2d {
            num_features: self.num_features,
            eps: self.eps,
            momentum: self.momentum,
            affine: self.weight.is_some(),
            track_running_stats: self.running.is_some(),
        })
    }
}

impl Forward for InstanceNorm2d {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.validate()?;
        let c = self.num_features;
        let cdim = x.rank().wrapping_sub(3);
        if !(x.rank() == 3 || x.rank() == 4) || x.dims()[cdim] != c {
            return Err(Error::invalid(
                OP,
                format!(
                    "expected an input (N, {c}, H, W) or ({c}, H, W) with num_features {c} channels, got shape {}",
                    x.shape()
                ),
            ));
        }
        let mut bshape = vec![1usize; x.rank()];
        bshape[cdim] = c;
        let spatial = [x.rank() - 2, x.rank() - 1];
        let y = match (&self.running, self.training) {
            (Some((rm, rv)), false) => {
                let inv_std = rv.add_scalar(self.eps)?.sqrt()?.recip()?.reshape(bshape.clone())?;
                x.sub(&rm.reshape(bshape.clone())?)?.mul(&inv_std)?
            }
            (running, _) => {
                let mean = x.mean_dims(&spatial, true)?;
                let centred = x.sub(&mean)?;
                let var = centred.sqr()?.mean_dims(&spatial, true)?;
                if let Some((rm, rv)) = running {
                    self.update_running(rm, rv, &mean, &var, x)?;
                }
                centred.mul(&var.add_scalar(self.eps)?.sqrt()?.recip()?)?
            }
        };
        match (&self.weight, &self.bias) {
            (Some(w), Some(b)) => y.mul(&w.reshape(bshape.clone())?)?.add(&b.reshape(bshape)?),
            _ => Ok(y),
        }
    }
}

impl InstanceNorm2d {
    /// PyTorch's update: the batch average of each instance's mean and
    /// unbiased variance, blended with `momentum`.
    fn update_running(&self, rm: &Tensor, rv: &Tensor, mean: &Tensor, var: &Tensor, x: &Tensor) -> Result<()> {
        let c = self.num_features;
        let hw = x.dims()[x.rank() - 2] * x.dims()[x.rank() - 1];
        if hw <= 1 {
            return Err(Error::invalid(
                OP,
                format!(
                    "expected more than 1 spatial element when training with running statistics, got input shape {}",
                    x.shape()
                ),
            ));
        }
        crate::no_grad(|| -> Result<()> {
            let count = self.num_batches_tracked.fetch_add(1, Ordering::Relaxed) + 1;
            let f = self.momentum.unwrap_or(1.0 / count as f64);
            let unbias = hw as f64 / (hw - 1) as f64;
            let rows = mean.elem_count() / c.max(1);
            let bm = mean.reshape((rows, c))?.mean_dim(0usize, false)?;
            let bv = var.reshape((rows, c))?.mean_dim(0usize, false)?;
            rm.set_data(&rm.affine(1.0 - f, 0.0)?.add(&bm.affine(f, 0.0)?)?)?;
            rv.set_data(&rv.affine(1.0 - f, 0.0)?.add(&bv.affine(f * unbias, 0.0)?)?)
        })
    }
}
