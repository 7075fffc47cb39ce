//! Batch normalisation: BatchNorm1d and BatchNorm2d share one implementation
//! and differ only in the input ranks they accept.

use super::load::assign_by_name;
use super::params::{Unbuilt, check_size, placeholder};
use super::{Forward, LayerConfig, Module};
use crate::{DType, Device, Error, Result, Tensor};
use std::sync::atomic::{AtomicU64, Ordering};

/// The state and arithmetic shared by both batch-norm layers.
#[derive(Debug)]
struct Core {
    eps: f64,
    momentum: Option<f64>,
    weight: Option<Tensor>,
    bias: Option<Tensor>,
    running_mean: Tensor,
    running_var: Tensor,
    /// Host-side, so that the update factor never needs a device read; exposed
    /// as an `I64` buffer for checkpoints.
    num_batches_tracked: AtomicU64,
    training: bool,
    unbuilt: Unbuilt,
}

impl Core {
    /// PyTorch's defaults; a channel count whose buffers cannot be created
    /// gives empty placeholders and a failure reported by `validate`.
    fn new(num_features: usize, op: &'static str) -> Core {
        let (dtype, dev) = (DType::F32, Device::cpu());
        let full = |v: f64| Tensor::full(v, num_features, dtype, &dev);
        let made = check_size(op, "running statistics", &[num_features])
            .and_then(|()| Ok((full(1.0)?, full(0.0)?, full(0.0)?, full(1.0)?)));
        let (weight, bias, running_mean, running_var, unbuilt) = match made {
            Ok((w, b, m, v)) => (w, b, m, v, Unbuilt::none()),
            Err(e) => (
                placeholder(1),
                placeholder(1),
                placeholder(1),
                placeholder(1),
                Unbuilt::because(&e),
            ),
        };
        Core {
            eps: 1e-5,
            momentum: Some(0.1),
            weight: Some(weight.requires_grad()),
            bias: Some(bias.requires_grad()),
            running_mean,
            running_var,
            num_batches_tracked: AtomicU64::new(0),
            training: true,
            unbuilt,
        }
    }

    fn num_features(&self) -> usize {
        self.running_mean.dims()[0]
    }

    fn set_affine(&mut self, affine: bool) {
        if !affine {
            self.weight = None;
            self.bias = None;
        } else if self.weight.is_none() {
            let rm = &self.running_mean;
            // Same-shape fills on the buffers' own device: only a failed allocation can fail.
            match (rm.ones_like(), rm.zeros_like()) {
                (Ok(w), Ok(b)) => {
                    self.weight = Some(w.requires_grad());
                    self.bias = Some(b.requires_grad());
                }
                (Err(e), _) | (_, Err(e)) => self.unbuilt = Unbuilt::because(&e),
            }
        }
    }

    fn validate(&self, op: &'static str) -> Result<()> {
        self.unbuilt.check(op)?;
        if !(self.eps.is_finite() && self.eps >= 0.0) {
            return Err(Error::invalid(
                op,
                format!("eps must be finite and >= 0, got {}", self.eps),
            ));
        }
        if let Some(m) = self.momentum
            && !(0.0..=1.0).contains(&m)
        {
            return Err(Error::invalid(op, format!("momentum must be in [0, 1], got {m}")));
        }
        Ok(())
    }

    fn forward(&self, x: &Tensor, ranks: &[usize], op: &'static str) -> Result<Tensor> {
        self.validate(op)?;
        let c = self.num_features();
        if !ranks.contains(&x.rank()) || x.dims()[1] != c {
            return Err(Error::invalid(
                op,
                format!(
                    "expected an input of rank {ranks:?} with {c} channels in dim 1, got shape {}",
                    x.shape()
                ),
            ));
        }
        let mut bshape = vec![1usize; x.rank()];
        bshape[1] = c;
        if self.training {
            self.forward_train(x, &bshape, op)
        } else {
            self.forward_eval(x, &bshape)
        }
    }

    fn forward_train(&self, x: &Tensor, bshape: &[usize], op: &'static str) -> Result<Tensor> {
        let c = self.num_features();
        let dims: Vec<usize> = (0..x.rank()).filter(|&d| d != 1).collect();
        let n = x.elem_count() / c.max(1);
        if n <= 1 {
            return Err(Error::invalid(
                op,
                format!(
                    "expected more than 1 value per channel when training, got input shape {}",
                    x.shape()
                ),
            ));
        }
        let mean = x.mean_dims(&dims, true)?;
        let centred = x.sub(&mean)?;
        let var = centred.sqr()?.mean_dims(&dims, true)?;
        let inv_std = var.add_scalar(self.eps)?.sqrt()?.recip()?;
        let y = match (&self.weight, &self.bias) {
            (Some(w), Some(b)) => centred
                .mul(&inv_std.mul(&w.reshape(bshape)?)?)?
                .add(&b.reshape(bshape)?)?,
            _ => centred.mul(&inv_std)?,
        };
        crate::no_grad(|| -> Result<()> {
            let count = self.num_batches_tracked.fetch_add(1, Ordering::Relaxed) + 1;
            let f = self.momentum.unwrap_or(1.0 / count as f64);
            // PyTorch keeps the unbiased variance in its running estimate.
            let unbias = n as f64 / (n - 1) as f64;
            let bm = mean.reshape(c)?;
            let bv = var.reshape(c)?;
            let rm = self.running_mean.affine(1.0 - f, 0.0)?.add(&bm.affine(f, 0.0)?)?;
            let rv = self
                .running_var
                .affine(1.0 - f, 0.0)?
                .add(&bv.affine(f * unbias, 0.0)?)?;
            self.running_mean.set_data(&rm)?;
            self.running_var.set_data(&rv)
        })?;
        Ok(y)
    }

    fn forward_eval(&self, x: &Tensor, bshape: &[usize]) -> Result<Tensor> {
        // y = x * scale + shift with per-channel scale and shift: two passes over x.
        let inv_std = self.running_var.add_scalar(self.eps)?.sqrt()?.recip()?;
        let (scale, shift) = match (&self.weight, &self.bias) {
            (Some(w), Some(b)) => {
                let scale = w.mul(&inv_std)?;
                let shift = b.sub(&self.running_mean.mul(&scale)?)?;
                (scale, shift)
            }
            _ => (inv_std.clone(), self.running_mean.mul(&inv_std)?.neg()?),
        };
        // Inference (no graph to record): one host pass instead of a product and a sum.
        let graph = crate::autograd::is_grad_enabled()
            && (x.tracks_grad() || self.weight.iter().chain(&self.bias).any(Tensor::tracks_grad));
        if !graph && let Some(y) = channel_affine_on_host(x, &scale, &shift)? {
            return Ok(y);
        }
        x.mul(&scale.reshape(bshape)?)?.add(&shift.reshape(bshape)?)
    }

    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        let mut p = Vec::new();
        if let (Some(w), Some(b)) = (&self.weight, &self.bias) {
            p.push(("weight".to_string(), w.clone()));
            p.push(("bias".to_string(), b.clone()));
        }
        p
    }

    fn named_buffers(&self) -> Vec<(String, Tensor)> {
        let count = self.num_batches_tracked.load(Ordering::Relaxed) as i64;
        let mut b = vec![
            ("running_mean".to_string(), self.running_mean.clone()),
            ("running_var".to_string(), self.running_var.clone()),
        ];
        // A host scalar copied to the buffers' device; only a failed allocation could fail.
        if let Ok(t) = Tensor::from_vec(vec![count], (), &self.running_mean.device()) {
            b.push(("num_batches_tracked".to_string(), t));
        }
        b
    }

    fn map_tensors(&mut self, f: &mut dyn FnMut(&Tensor) -> Result<Tensor>) -> Result<()> {
        if let (Some(w), Some(b)) = (&self.weight, &self.bias) {
            let (w, b) = (f(w)?, f(b)?);
            self.weight = Some(w);
            self.bias = Some(b);
        }
        self.running_mean = f(&self.running_mean)?;
        self.running_var = f(&self.running_var)?;
        Ok(())
    }

    fn assign_named(&mut self, name: &str, value: &Tensor, owner: &str) -> Result<()> {
        if name == "num_batches_tracked" {
            if value.dtype() != DType::I64 || value.elem_count() != 1 {
                return Err(Error::invalid(
                    "assign_named",
                    format!(
                        "{owner}.num_batches_tracked must be one i64, got {} {}",
                        value.dtype(),
                        value.shape()
                    ),
                ));
            }
            let v = value.to_scalar::<i64>()?;
            self.num_batches_tracked.store(v.max(0) as u64, Ordering::Relaxed);
            return Ok(());
        }
        let mut all = self.named_parameters();
        all.extend(self.named_buffers());
        assign_by_name(&all, name, value, owner)
    }
}

/// Defines a batch-norm layer over `Core` accepting inputs of the given ranks.
macro_rules! batch_norm {
    ($(#[$doc:meta])* $ty:ident, $ranks:expr, $cfg:ident) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $ty {
            core: Core,
        }

        impl $ty {
            /// A layer over `num_features` channels with PyTorch's defaults:
            /// eps 1e-5, momentum 0.1, affine, training mode. Never fails: a
            /// channel count whose buffers cannot be created is reported by
            /// `validate`, `forward` and `try_new`.
            pub fn new(num_features: usize) -> $ty {
                $ty { core: Core::new(num_features, stringify!($ty)) }
            }

            /// A layer with every hyperparameter, validated now.
            pub fn try_new(num_features: usize, eps: f64, momentum: Option<f64>, affine: bool) -> Result<$ty> {
                let layer = $ty::new(num_features).with_eps(eps).with_momentum(momentum).with_affine(affine);
                layer.validate()?;
                Ok(layer)
            }

            /// Sets the value added to the variance before the square root.
            pub fn with_eps(mut self, eps: f64) -> $ty {
                self.core.eps = eps;
                self
            }

            /// Sets the running-statistics momentum; `None` gives a cumulative
            /// average (factor `1 / num_batches_tracked`), as PyTorch's `momentum=None`.
            pub fn with_momentum(mut self, momentum: impl Into<Option<f64>>) -> $ty {
                self.core.momentum = momentum.into();
                self
            }

            /// With (`true`, the default) or without a learnable per-channel scale and shift.
            pub fn with_affine(mut self, affine: bool) -> $ty {
                self.core.set_affine(affine);
                self
            }

            /// Checks eps (finite, >= 0), momentum (in `[0, 1]`) and that the
            /// parameters and buffers could be created.
            pub fn validate(&self) -> Result<()> {
                self.core.validate(stringify!($ty))
            }

            /// Number of channels.
            pub fn num_features(&self) -> usize {
                self.core.num_features()
            }

            /// eps.
            pub fn eps(&self) -> f64 {
                self.core.eps
            }

            /// Momentum (`None`: cumulative average).
            pub fn momentum(&self) -> Option<f64> {
                self.core.momentum
            }

            /// The scale `gamma`, `[C]`, when affine.
            pub fn weight(&self) -> Option<&Tensor> {
                self.core.weight.as_ref()
            }

            /// The shift `beta`, `[C]`, when affine.
            pub fn bias(&self) -> Option<&Tensor> {
                self.core.bias.as_ref()
            }

            /// Running mean, `[C]`.
            pub fn running_mean(&self) -> &Tensor {
                &self.core.running_mean
            }

            /// Running (unbiased) variance, `[C]`.
            pub fn running_var(&self) -> &Tensor {
                &self.core.running_var
            }

            /// Training-mode forward passes seen so far.
            pub fn num_batches_tracked(&self) -> u64 {
                self.core.num_batches_tracked.load(Ordering::Relaxed)
            }
        }

        impl Module for $ty {
            fn set_training(&mut self, training: bool) {
                self.core.training = training;
            }

            fn is_training(&self) -> bool {
                self.core.training
            }

            fn own_parameters(&self) -> Vec<(String, Tensor)> {
                self.core.named_parameters()
            }

            fn own_buffers(&self) -> Vec<(String, Tensor)> {
                self.core.named_buffers()
            }

            fn map_own_tensors(&mut self, f: &mut dyn FnMut(&Tensor) -> Result<Tensor>) -> Result<()> {
                self.core.map_tensors(f)
            }

            fn assign_named(&mut self, name: &str, value: &Tensor) -> Result<()> {
                self.core.assign_named(name, value, stringify!($ty))
            }

            fn config(&self) -> Result<LayerConfig> {
                self.core.unbuilt.check(stringify!($ty))?;
                Ok(LayerConfig::$cfg {
                    num_features: self.core.num_features(),
                    eps: self.core.eps,
                    momentum: self.core.momentum,
                    affine: self.core.weight.is_some(),
                })
            }
        }

        impl Forward for $ty {
            fn forward(&self, x: &Tensor) -> Result<Tensor> {
                self.core.forward(x, &$ranks, stringify!($ty))
            }
        }
    };
}

batch_norm!(
    /// Batch normalisation over the channel dim of `(N, C)` or `(N, C, L)`
    /// inputs, PyTorch's `nn.BatchNorm1d`.
    ///
    /// In training mode it normalises with the batch mean and biased variance
    /// and updates the running statistics as PyTorch does:
    /// `running = (1 - momentum) * running + momentum * batch`, with the
    /// *unbiased* batch variance in `running_var`. In evaluation mode it uses
    /// the running statistics. Buffers: `running_mean`, `running_var`,
    /// `num_batches_tracked`.
    ///
    /// # Shapes
    /// - input: `(N, C)` or `(N, C, L)`
    /// - output: same as the input
    ///
    /// # Parameters
    /// `weight` (gamma) and `bias` (beta), `[C]`, when affine.
    BatchNorm1d,
    [2, 3],
    BatchNorm1d
);

batch_norm!(
    /// Batch normalisation over the channel dim of `(N, C, H, W)` images,
    /// PyTorch's `nn.BatchNorm2d`; statistics are taken over `N`, `H` and `W`.
    ///
    /// Training and evaluation behave as in [`BatchNorm1d`] (unbiased running
    /// variance, momentum 0.1 by default).
    ///
    /// # Shapes
    /// - input: `(N, C, H, W)`
    /// - output: same as the input
    ///
    /// # Parameters
    /// `weight` (gamma) and `bias` (beta), `[C]`, when affine.
    ///
    /// ```
    /// use neurite::nn::{BatchNorm2d, Forward, Module};
    /// use neurite::{DType, Device, Tensor};
    /// # fn main() -> neurite::Result<()> {
    /// let bn = BatchNorm2d::new(3);
    /// neurite::manual_seed(0);
    /// let x = Tensor::randn((4, 3, 5, 5), DType::F32, &Device::cpu())?;
    /// let y = bn.forward(&x)?;
    /// assert_eq!(y.dims(), &[4, 3, 5, 5]);
    /// assert_eq!(bn.num_batches_tracked(), 1);
    /// # Ok(()) }
    /// ```
    BatchNorm2d,
    [4],
    BatchNorm2d
);

/// `x * scale[c] + shift[c]` over dim 1 of `x` in one pass on the host
/// (f32/f64); `None` on other devices and dtypes. Records no gradient.
fn channel_affine_on_host(x: &Tensor, scale: &Tensor, shift: &Tensor) -> Result<Option<Tensor>> {
    use crate::backend::Storage;
    let channels = x.dims()[1];
    let inner: usize = x.dims()[2..].iter().product();
    let (xs, a, b) = (x.storage(), scale.storage(), shift.storage());
    let out = match (&*xs, &*a, &*b) {
        (Storage::Cpu(xs), Storage::Cpu(a), Storage::Cpu(b)) => xs.channel_affine(a, b, channels, inner)?,
        #[cfg(feature = "cuda")]
        _ => None,
    };
    Ok(out.map(|s| Tensor::from_storage(Storage::Cpu(s), x.shape().clone())))
}
