//! Dropout layer.

use super::{Forward, LayerConfig, Module};
use crate::{Error, Result, Tensor};

/// Zeroes each element with probability `p` and scales the survivors by
/// `1 / (1 - p)` ("inverted" dropout, PyTorch's `nn.Dropout`), in training
/// mode only; in evaluation mode it is the identity.
///
/// The mask comes from [`Tensor::rand`], so it is reproducible with
/// [`crate::manual_seed`]. `p` must lie in `[0, 1]`: [`Dropout::new`] never
/// fails and an invalid `p` is reported by `forward`, by [`Dropout::validate`]
/// and by [`Dropout::try_new`].
///
/// # Shapes
/// Any input shape; the output has the same shape.
///
/// ```
/// use neurite::nn::{Dropout, Forward, Module};
/// use neurite::{DType, Device, Tensor};
/// # fn main() -> neurite::Result<()> {
/// let mut drop = Dropout::new(0.5);
/// let x = Tensor::ones(1000, DType::F32, &Device::cpu())?;
/// let y = drop.forward(&x)?.to_vec::<f32>()?;
/// assert!(y.iter().all(|&v| v == 0.0 || v == 2.0));
/// drop.eval();
/// assert_eq!(drop.forward(&x)?.to_vec::<f32>()?, x.to_vec::<f32>()?);
/// # Ok(()) }
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Dropout {
    p: f64,
    training: bool,
}

impl Dropout {
    /// Dropout with drop probability `p`, in training mode.
    pub fn new(p: f64) -> Dropout {
        Dropout { p, training: true }
    }

    /// Like [`Dropout::new`], checking `p` now.
    pub fn try_new(p: f64) -> Result<Dropout> {
        let d = Dropout::new(p);
        d.validate()?;
        Ok(d)
    }

    /// The drop probability.
    pub fn p(&self) -> f64 {
        self.p
    }

    /// Checks that `p` lies in `[0, 1]`.
    pub fn validate(&self) -> Result<()> {
        if !(0.0..=1.0).contains(&self.p) {
            return Err(Error::invalid(
                "Dropout",
                format!("drop probability must be in [0, 1], got {}", self.p),
            ));
        }
        Ok(())
    }
}

impl Module for Dropout {
    fn set_training(&mut self, training: bool) {
        self.training = training;
    }

    fn is_training(&self) -> bool {
        self.training
    }

    fn config(&self) -> Result<LayerConfig> {
        Ok(LayerConfig::Dropout { p: self.p })
    }
}

impl Forward for Dropout {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.validate()?;
        if !self.training || self.p == 0.0 {
            return Ok(x.clone());
        }
        if self.p == 1.0 {
            // Every element dropped; multiplying keeps the graph (zero gradients).
            return x.mul_scalar(0.0);
        }
        // keep with probability 1 - p, scaled so the expectation is unchanged.
        let mask = Tensor::rand(x.shape(), x.dtype(), &x.device())?
            .ge_scalar(self.p)?
            .to_dtype(x.dtype())?
            .affine(1.0 / (1.0 - self.p), 0.0)?;
        x.mul(&mask)
    }
}
