//! Unflatten layer.

use super::{Forward, LayerConfig, Module};
use crate::{Dim, Error, Result, Tensor};

/// Splits dim `dim` into `sizes`, PyTorch's `nn.Unflatten(dim, unflattened_size)`;
/// the inverse of [`super::Flatten`]. The product of `sizes` must equal the
/// size of `dim` (checked by `forward`, whose error names both).
///
/// # Shapes
/// - input: `(*, S, *)` with `S` at `dim` (negative counts from the end)
/// - output: `(*, sizes..., *)`
///
/// ```
/// use neurite::nn::{Forward, Unflatten};
/// use neurite::{DType, Device, Tensor};
/// let x = Tensor::zeros((5, 784), DType::F32, &Device::cpu()).unwrap();
/// assert_eq!(Unflatten::new(1, vec![28, 28]).forward(&x).unwrap().dims(), &[5, 28, 28]);
/// assert!(Unflatten::new(1, vec![28, 27]).forward(&x).is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unflatten {
    dim: i64,
    sizes: Vec<usize>,
}

impl Unflatten {
    /// Splits `dim` into `sizes`.
    pub fn new(dim: i64, sizes: Vec<usize>) -> Unflatten {
        Unflatten { dim, sizes }
    }

    /// The dim that is split.
    pub fn dim(&self) -> i64 {
        self.dim
    }

    /// The sizes it is split into.
    pub fn sizes(&self) -> &[usize] {
        &self.sizes
    }
}

impl Module for Unflatten {
    fn config(&self) -> Result<LayerConfig> {
        Ok(LayerConfig::Unflatten {
            dim: self.dim,
            sizes: self.sizes.clone(),
        })
    }
}

impl Forward for Unflatten {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        const OP: &str = "Unflatten";
        let d = self.dim.to_index(x.shape(), OP)?;
        let product = self.sizes.iter().try_fold(1usize, |acc, &s| acc.checked_mul(s));
        if self.sizes.is_empty() || product != Some(x.dims()[d]) {
            return Err(Error::invalid(
                OP,
                format!(
                    "sizes {:?} must multiply to the size {} of dim {} of the input of shape {}",
                    self.sizes,
                    x.dims()[d],
                    self.dim,
                    x.shape()
                ),
            ));
        }
        let mut dims = x.dims()[..d].to_vec();
        dims.extend_from_slice(&self.sizes);
        dims.extend_from_slice(&x.dims()[d + 1..]);
        x.reshape(dims)
    }
}
