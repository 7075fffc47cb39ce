//! Group normalisation.

use super::params::{Unbuilt, check_size, placeholder};
use super::{Forward, LayerConfig, Module};
use crate::{DType, Device, Error, Result, Tensor};

/// Normalises each sample over groups of channels (mean 0, biased variance 1
/// within each of `num_groups` groups of `num_channels / num_groups`
/// channels and all their positions), then applies a learnable per-channel
/// scale and shift, PyTorch's `nn.GroupNorm`. It behaves the same in both
/// modes and does not depend on the batch size. `num_groups` must divide
/// `num_channels`: [`GroupNorm::new`] never fails and reports a bad pair from
/// `validate`, `forward` and [`GroupNorm::try_new`].
///
/// # Shapes
/// - input: `(N, C, *)` with `C = num_channels`
/// - output: same as the input
///
/// # Parameters
/// `weight` (ones) and `bias` (zeros), `[num_channels]`, when `affine` (the default).
///
/// ```
/// use neurite::nn::{Forward, GroupNorm};
/// use neurite::{DType, Device, Tensor};
/// # fn main() -> neurite::Result<()> {
/// let gn = GroupNorm::new(2, 4);
/// let y = gn.forward(&Tensor::randn((3, 4, 5, 5), DType::F32, &Device::cpu())?)?;
/// assert_eq!(y.dims(), &[3, 4, 5, 5]);
/// assert!(GroupNorm::try_new(3, 4, 1e-5, true).is_err());
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct GroupNorm {
    num_groups: usize,
    num_channels: usize,
    eps: f64,
    weight: Option<Tensor>,
    bias: Option<Tensor>,
    unbuilt: Unbuilt,
}

impl GroupNorm {
    /// `num_groups` groups over `num_channels` channels, eps 1e-5, affine;
    /// never fails (see the type's docs).
    pub fn new(num_groups: usize, num_channels: usize) -> GroupNorm {
        let made = check_size("GroupNorm", "weight", &[num_channels]).and_then(|()| {
            let (dtype, dev) = (DType::F32, Device::cpu());
            Ok((
                Tensor::ones(num_channels, dtype, &dev)?.requires_grad(),
                Tensor::zeros(num_channels, dtype, &dev)?.requires_grad(),
            ))
        });
        let (weight, bias, unbuilt) = match made {
            Ok((w, b)) => (w, b, Unbuilt::none()),
            Err(e) => (placeholder(1), placeholder(1), Unbuilt::because(&e)),
        };
        GroupNorm {
            num_groups,
            num_channels,
            eps: 1e-5,
            weight: Some(weight),
            bias: Some(bias),
            unbuilt,
        }
    }

    /// A layer with every hyperparameter, validated now.
    pub fn try_new(num_groups: usize, num_channels: usize, eps: f64, affine: bool) -> Result<GroupNorm> {
        let mut gn = GroupNorm::new(num_groups, num_channels).with_eps(eps);
        if !affine {
            gn.weight = None;
            gn.bias = None;
        }
        gn.validate()?;
        Ok(gn)
    }

    /// Sets the value added to the variance before the square root.
    pub fn with_eps(mut self, eps: f64) -> GroupNorm {
        self.eps = eps;
        self
    }

    /// Checks that `num_groups` is positive and divides `num_channels`, that
    /// eps is finite and >= 0, and that the parameters were created.
    pub fn validate(&self) -> Result<()> {
        self.unbuilt.check("GroupNorm")?;
        if self.num_groups == 0 || !self.num_channels.is_multiple_of(self.num_groups) {
            return Err(Error::invalid(
                "GroupNorm",
                format!(
                    "num_groups {} must be positive and divide num_channels {}",
                    self.num_groups, self.num_channels
                ),
            ));
        }
        if !(self.eps.is_finite() && self.eps >= 0.0) {
            return Err(Error::invalid(
                "GroupNorm",
                format!("eps must be finite and >= 0, got {}", self.eps),
            ));
        }
        Ok(())
    }

    /// Groups.
    pub fn num_groups(&self) -> usize {
        self.num_groups
    }

    /// Channels.
    pub fn num_channels(&self) -> usize {
        self.num_channels
    }

    /// eps.
    pub fn eps(&self) -> f64 {
        self.eps
    }

    /// The per-channel scale, when affine.
    pub fn weight(&self) -> Option<&Tensor> {
        self.weight.as_ref()
    }

    /// The per-channel shift, when affine.
    pub fn bias(&self) -> Option<&Tensor> {
        self.bias.as_ref()
    }
}

impl Module for GroupNorm {
    fn own_parameters(&self) -> Vec<(String, Tensor)> {
        match (&self.weight, &self.bias) {
            (Some(w), Some(b)) => vec![("weight".to_string(), w.clone()), ("bias".to_string(), b.clone())],
            _ => Vec::new(),
        }
    }

    fn map_own_tensors(&mut self, f: &mut dyn FnMut(&Tensor) -> Result<Tensor>) -> Result<()> {
        if let (Some(w), Some(b)) = (&self.weight, &self.bias) {
            let (w, b) = (f(w)?, f(b)?);
            self.weight = Some(w);
            self.bias = Some(b);
        }
        Ok(())
    }

    fn config(&self) -> Result<LayerConfig> {
        self.validate()?;
        Ok(LayerConfig::GroupNorm {
            num_groups: self.num_groups,
            num_channels: self.num_channels,
            eps: self.eps,
            affine: self.weight.is_some(),
        })
    }
}

impl Forward for GroupNorm {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.validate()?;
        let c = self.num_channels;
        if x.rank() < 2 || x.dims()[1] != c {
            return Err(Error::invalid(
                "GroupNorm",
                format!(
                    "expected an input (N, {c}, *) with num_channels {c} in dim 1, got shape {}",
                    x.shape()
                ),
            ));
        }
        let n = x.dims()[0];
        let grouped = x.reshape((n, self.num_groups, x.elem_count() / (n * self.num_groups).max(1)))?;
        let centred = grouped.sub(&grouped.mean_dim(2usize, true)?)?;
        let var = centred.sqr()?.mean_dim(2usize, true)?;
        let y = centred
            .mul(&var.add_scalar(self.eps)?.sqrt()?.recip()?)?
            .reshape(x.shape())?;
        match (&self.weight, &self.bias) {
            (Some(w), Some(b)) => {
                let mut bshape = vec![1usize; x.rank()];
                bshape[1] = c;
                y.mul(&w.reshape(bshape.clone())?)?.add(&b.reshape(bshape)?)
            }
            _ => Ok(y),
        }
    }
}
