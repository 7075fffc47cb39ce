//! Average pooling layer.

use super::pool::{Window, batched, window_methods};
use super::{Forward, IntoSize2, LayerConfig, Module};
use crate::{AvgPool2dArgs, Error, Result, Tensor};

/// Average pooling over 2-D windows, PyTorch's `nn.AvgPool2d` (with
/// `ceil_mode`, `count_include_pad` and `divisor_override`).
///
/// By default padded positions count as zeros in the average
/// (`count_include_pad=True`); the ceil-mode overhang never counts.
///
/// The stride defaults to the kernel size and the padding to 0. [`AvgPool2d::new`]
/// and the builders never fail; invalid values (a zero kernel, stride or divisor,
/// padding over half the kernel) are reported by [`AvgPool2d::validate`], by
/// `forward` and by [`AvgPool2d::try_new`].
///
/// # Shapes
/// - input: `(N, C, H, W)` or `(C, H, W)`
/// - output: `(N, C, H_out, W_out)` or `(C, H_out, W_out)` with
///   `H_out = (H + 2 * padding - kernel) / stride + 1`, rounded up in ceil mode
///   (likewise for `W`).
///
/// ```
/// use neurite::nn::{AvgPool2d, Forward, Module};
/// use neurite::{DType, Device, Tensor};
/// # fn main() -> neurite::Result<()> {
/// let x = Tensor::arange(0., 16., 1., DType::F32, &Device::cpu())?.reshape((1, 1, 4, 4))?;
/// let y = AvgPool2d::new(2).forward(&x)?;
/// assert_eq!(y.to_vec::<f32>()?, vec![2.5, 4.5, 10.5, 12.5]);
/// let y = AvgPool2d::new(3).with_stride(2).with_ceil_mode(true).forward(&x)?;
/// assert_eq!(y.to_vec::<f32>()?, vec![5., 6.5, 11., 12.5]);
/// # Ok(()) }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AvgPool2d {
    window: Window,
    count_include_pad: bool,
    divisor_override: Option<usize>,
}

window_methods!(AvgPool2d);

impl AvgPool2d {
    /// A pool with stride equal to the kernel and no padding.
    pub fn new(kernel_size: impl IntoSize2) -> AvgPool2d {
        AvgPool2d {
            window: Window::new(kernel_size.into_size2()),
            count_include_pad: true,
            divisor_override: None,
        }
    }

    /// A pool with kernel, stride and padding, validated now.
    pub fn try_new(kernel_size: impl IntoSize2, stride: impl IntoSize2, padding: impl IntoSize2) -> Result<AvgPool2d> {
        let p = AvgPool2d::new(kernel_size).with_stride(stride).with_padding(padding);
        p.validate()?;
        Ok(p)
    }

    /// Whether padded positions count in the divisor (default true).
    pub fn with_count_include_pad(mut self, count_include_pad: bool) -> AvgPool2d {
        self.count_include_pad = count_include_pad;
        self
    }

    /// Divides every window's sum by `divisor` instead of its size.
    pub fn with_divisor_override(mut self, divisor: Option<usize>) -> AvgPool2d {
        self.divisor_override = divisor;
        self
    }

    /// Whether padded positions count in the divisor.
    pub fn count_include_pad(&self) -> bool {
        self.count_include_pad
    }

    /// The fixed divisor, if any.
    pub fn divisor_override(&self) -> Option<usize> {
        self.divisor_override
    }

    /// Checks the hyperparameters.
    pub fn validate(&self) -> Result<()> {
        self.window.validate("AvgPool2d")?;
        if self.divisor_override == Some(0) {
            return Err(Error::invalid("AvgPool2d", "divisor_override must be positive, got 0"));
        }
        Ok(())
    }
}

impl Module for AvgPool2d {
    fn config(&self) -> Result<LayerConfig> {
        let w = self.window;
        // The original variant while it can say everything: what older builds read.
        if !w.ceil_mode && self.count_include_pad && self.divisor_override.is_none() {
            return Ok(LayerConfig::AvgPool2d {
                kernel_size: w.kernel,
                stride: w.stride,
                padding: w.padding,
            });
        }
        Ok(LayerConfig::AvgPool2dFull {
            kernel_size: w.kernel,
            stride: w.stride,
            padding: w.padding,
            ceil_mode: w.ceil_mode,
            count_include_pad: self.count_include_pad,
            divisor_override: self.divisor_override,
        })
    }
}

impl Forward for AvgPool2d {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.validate()?;
        let w = self.window;
        let args = AvgPool2dArgs {
            kernel_size: w.kernel,
            stride: w.stride,
            padding: w.padding,
            ceil_mode: w.ceil_mode,
            count_include_pad: self.count_include_pad,
            divisor_override: self.divisor_override,
        };
        batched(x, "AvgPool2d", |x| x.avg_pool2d_with(&args), |y| y.squeeze(0usize))
    }
}
