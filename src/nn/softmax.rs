//! Softmax and log-softmax layers.

use super::{Forward, LayerConfig, Module};
use crate::{Result, Tensor};

/// `exp(x) / sum(exp(x))` along `dim`, PyTorch's `nn.Softmax(dim)`.
///
/// A `dim` outside the input's rank is reported by `forward`.
///
/// # Shapes
/// Any input shape; the output has the same shape and sums to 1 along `dim`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Softmax {
    /// The normalised dimension (negative counts from the end).
    pub dim: i64,
}

impl Softmax {
    /// Softmax over `dim`.
    pub fn new(dim: i64) -> Softmax {
        Softmax { dim }
    }
}

impl Module for Softmax {
    fn config(&self) -> Result<LayerConfig> {
        Ok(LayerConfig::Softmax { dim: self.dim })
    }
}

impl Forward for Softmax {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        x.softmax(self.dim)
    }
}

/// `x - log(sum(exp(x)))` along `dim`, PyTorch's `nn.LogSoftmax(dim)`; pair it
/// with [`crate::loss::nll_loss`].
///
/// # Shapes
/// Any input shape; the output has the same shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LogSoftmax {
    /// The normalised dimension (negative counts from the end).
    pub dim: i64,
}

impl LogSoftmax {
    /// Log-softmax over `dim`.
    pub fn new(dim: i64) -> LogSoftmax {
        LogSoftmax { dim }
    }
}

impl Module for LogSoftmax {
    fn config(&self) -> Result<LayerConfig> {
        Ok(LayerConfig::LogSoftmax { dim: self.dim })
    }
}

impl Forward for LogSoftmax {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        x.log_softmax(self.dim)
    }
}
