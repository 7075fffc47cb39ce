//! The identity layer.

use super::{Forward, LayerConfig, Module};
use crate::{Result, Tensor};

/// Returns its input unchanged, PyTorch's `nn.Identity`: a placeholder where a
/// model's structure wants a layer (a removed head, an optional block).
///
/// # Shapes
/// Any input shape; the output is the input.
///
/// ```
/// use neurite::nn::{Forward, Identity};
/// use neurite::{DType, Device, Tensor};
/// let x = Tensor::ones((2, 3), DType::F32, &Device::cpu()).unwrap();
/// assert_eq!(Identity.forward(&x).unwrap().dims(), &[2, 3]);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Identity;

impl Module for Identity {
    fn config(&self) -> Result<LayerConfig> {
        Ok(LayerConfig::Identity)
    }
}

impl Forward for Identity {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        Ok(x.clone())
    }
}
