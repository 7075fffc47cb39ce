//! Flatten layer.

use super::{Forward, LayerConfig, Module};
use crate::{Result, Tensor};

/// Merges dims `start_dim..=end_dim` into one, PyTorch's `nn.Flatten`
/// (defaults 1 and -1: everything but the batch dim).
///
/// Dims outside the input's rank are reported by `forward`.
///
/// # Shapes
/// - input: `(N, *)`
/// - output: `(N, product of *)` with the default dims.
///
/// ```
/// use neurite::nn::{Flatten, Forward, Module};
/// use neurite::{DType, Device, Tensor};
/// let x = Tensor::zeros((2, 3, 4, 5), DType::F32, &Device::cpu()).unwrap();
/// assert_eq!(Flatten::new().forward(&x).unwrap().dims(), &[2, 60]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Flatten {
    /// First merged dim.
    pub start_dim: i64,
    /// Last merged dim (inclusive).
    pub end_dim: i64,
}

impl Flatten {
    /// Flattens every dim after the first.
    pub fn new() -> Flatten {
        Flatten {
            start_dim: 1,
            end_dim: -1,
        }
    }

    /// Flattens `start_dim..=end_dim`.
    pub fn with_dims(start_dim: i64, end_dim: i64) -> Flatten {
        Flatten { start_dim, end_dim }
    }
}

impl Default for Flatten {
    fn default() -> Self {
        Flatten::new()
    }
}

impl Module for Flatten {
    fn config(&self) -> Result<LayerConfig> {
        Ok(LayerConfig::Flatten {
            start_dim: self.start_dim,
            end_dim: self.end_dim,
        })
    }
}

impl Forward for Flatten {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        x.flatten(self.start_dim, self.end_dim)
    }
}
