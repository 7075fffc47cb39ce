//! Adaptive pooling layers: `AdaptiveAvgPool{1,2}d`, `AdaptiveMaxPool{1,2}d`.

use super::{Forward, LayerConfig, Module};
use crate::{IntoOutputSize2, Result, Tensor};

/// Adaptive average pooling to a fixed output size, PyTorch's `nn.AdaptiveAvgPool2d`.
///
/// Output entry `i` of a dim averages input entries
/// `floor(i * in / out) .. ceil((i + 1) * in / out)`; `None` keeps that dim's size.
///
/// # Shapes
/// - input: `(N, C, H, W)` or `(C, H, W)`
/// - output: `(N, C, H_out, W_out)` or `(C, H_out, W_out)`
///
/// ```
/// use neurite::nn::{AdaptiveAvgPool2d, Forward};
/// use neurite::{DType, Device, Tensor};
/// let x = Tensor::ones((2, 3, 7, 5), DType::F32, &Device::cpu()).unwrap();
/// assert_eq!(AdaptiveAvgPool2d::new(1).forward(&x).unwrap().dims(), &[2, 3, 1, 1]);
/// assert_eq!(AdaptiveAvgPool2d::new((Some(3), None)).forward(&x).unwrap().dims(), &[2, 3, 3, 5]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AdaptiveAvgPool2d {
    output_size: [Option<usize>; 2],
}

impl AdaptiveAvgPool2d {
    /// Pools to `output_size` (`7`, `(7, 5)` or `(Some(7), None)`); a zero size
    /// is reported by `forward`.
    pub fn new(output_size: impl IntoOutputSize2) -> AdaptiveAvgPool2d {
        AdaptiveAvgPool2d {
            output_size: output_size.into_output_size2(),
        }
    }

    /// `[H_out, W_out]`, `None` keeping the input's size.
    pub fn output_size(&self) -> [Option<usize>; 2] {
        self.output_size
    }
}

impl Module for AdaptiveAvgPool2d {
    fn config(&self) -> Result<LayerConfig> {
        Ok(LayerConfig::AdaptiveAvgPool2d {
            output_size: self.output_size,
        })
    }
}

impl Forward for AdaptiveAvgPool2d {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        x.adaptive_avg_pool2d(self.output_size)
    }
}

/// Adaptive max pooling to a fixed output size, PyTorch's `nn.AdaptiveMaxPool2d`
/// (windows as in [`AdaptiveAvgPool2d`]). `forward` returns the maxima;
/// [`AdaptiveMaxPool2d::forward_with_indices`] also returns their positions,
/// as PyTorch's `return_indices=True`.
///
/// # Shapes
/// - input: `(N, C, H, W)` or `(C, H, W)`
/// - output (and indices): `(N, C, H_out, W_out)` or `(C, H_out, W_out)`
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AdaptiveMaxPool2d {
    output_size: [Option<usize>; 2],
}

impl AdaptiveMaxPool2d {
    /// Pools to `output_size` (`7`, `(7, 5)` or `(Some(7), None)`).
    pub fn new(output_size: impl IntoOutputSize2) -> AdaptiveMaxPool2d {
        AdaptiveMaxPool2d {
            output_size: output_size.into_output_size2(),
        }
    }

    /// `[H_out, W_out]`, `None` keeping the input's size.
    pub fn output_size(&self) -> [Option<usize>; 2] {
        self.output_size
    }

    /// The maxima and the `I64` position `h * W + w` of each in its input plane.
    pub fn forward_with_indices(&self, x: &Tensor) -> Result<(Tensor, Tensor)> {
        x.adaptive_max_pool2d_with_indices(self.output_size)
    }
}

impl Module for AdaptiveMaxPool2d {
    fn config(&self) -> Result<LayerConfig> {
        Ok(LayerConfig::AdaptiveMaxPool2d {
            output_size: self.output_size,
        })
    }
}

impl Forward for AdaptiveMaxPool2d {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        x.adaptive_max_pool2d(self.output_size)
    }
}

/// Adaptive average pooling of sequences, PyTorch's `nn.AdaptiveAvgPool1d`.
///
/// # Shapes
/// - input: `(N, C, L)` or `(C, L)`
/// - output: `(N, C, output_size)` or `(C, output_size)`
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AdaptiveAvgPool1d {
    output_size: usize,
}

impl AdaptiveAvgPool1d {
    /// Pools to `output_size` entries.
    pub fn new(output_size: usize) -> AdaptiveAvgPool1d {
        AdaptiveAvgPool1d { output_size }
    }

    /// The output length.
    pub fn output_size(&self) -> usize {
        self.output_size
    }
}

impl Module for AdaptiveAvgPool1d {
    fn config(&self) -> Result<LayerConfig> {
        Ok(LayerConfig::AdaptiveAvgPool1d {
            output_size: self.output_size,
        })
    }
}

impl Forward for AdaptiveAvgPool1d {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        x.adaptive_avg_pool1d(self.output_size)
    }
}

/// Adaptive max pooling of sequences, PyTorch's `nn.AdaptiveMaxPool1d`.
///
/// # Shapes
/// - input: `(N, C, L)` or `(C, L)`
/// - output (and indices): `(N, C, output_size)` or `(C, output_size)`
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AdaptiveMaxPool1d {
    output_size: usize,
}

impl AdaptiveMaxPool1d {
    /// Pools to `output_size` entries.
    pub fn new(output_size: usize) -> AdaptiveMaxPool1d {
        AdaptiveMaxPool1d { output_size }
    }

    /// The output length.
    pub fn output_size(&self) -> usize {
        self.output_size
    }

    /// The maxima and the `I64` position of each in its input sequence.
    pub fn forward_with_indices(&self, x: &Tensor) -> Result<(Tensor, Tensor)> {
        x.adaptive_max_pool1d_with_indices(self.output_size)
    }
}

impl Module for AdaptiveMaxPool1d {
    fn config(&self) -> Result<LayerConfig> {
        Ok(LayerConfig::AdaptiveMaxPool1d {
            output_size: self.output_size,
        })
    }
}

impl Forward for AdaptiveMaxPool1d {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        x.adaptive_max_pool1d(self.output_size)
    }
}
