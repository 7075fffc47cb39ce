//! Average pooling layer.

use super::pool::Window;
use super::size2::IntoSize2;
use super::{LayerConfig, Module};
use crate::{Result, Tensor};

/// Average pooling over 2-D windows, PyTorch's `nn.AvgPool2d` (floor mode,
/// `count_include_pad=True`: padded positions count as zeros).
///
/// The stride defaults to the kernel size and the padding to 0. [`AvgPool2d::new`]
/// and the builders never fail; invalid values (a zero kernel or stride, padding
/// over half the kernel) are reported by [`AvgPool2d::validate`], by `forward` and by
/// [`AvgPool2d::try_new`].
///
/// # Shapes
/// - input: `(N, C, H, W)` or `(C, H, W)`
/// - output: `(N, C, H_out, W_out)` or `(C, H_out, W_out)` with
///   `H_out = (H + 2 * padding - kernel) / stride + 1` (likewise for `W`).
///
/// ```
/// use neurite::nn::{AvgPool2d, Module};
/// use neurite::{DType, Device, Tensor};
/// # fn main() -> neurite::Result<()> {
/// let x = Tensor::arange(0., 16., 1., DType::F32, &Device::cpu())?.reshape((1, 1, 4, 4))?;
/// let y = AvgPool2d::new(2).forward(&x)?;
/// assert_eq!(y.to_vec::<f32>()?, vec![2.5, 4.5, 10.5, 12.5]);
/// # Ok(()) }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AvgPool2d {
    window: Window,
}

impl AvgPool2d {
    /// A pool with stride equal to the kernel and no padding.
    pub fn new(kernel_size: impl IntoSize2) -> AvgPool2d {
        let kernel = kernel_size.into_size2();
        AvgPool2d {
            window: Window {
                kernel,
                stride: kernel,
                padding: [0, 0],
            },
        }
    }

    /// A pool with every hyperparameter, validated now.
    pub fn try_new(kernel_size: impl IntoSize2, stride: impl IntoSize2, padding: impl IntoSize2) -> Result<AvgPool2d> {
        let p = AvgPool2d::new(kernel_size).with_stride(stride).with_padding(padding);
        p.validate()?;
        Ok(p)
    }

    /// Sets the stride.
    pub fn with_stride(mut self, stride: impl IntoSize2) -> AvgPool2d {
        self.window.stride = stride.into_size2();
        self
    }

    /// Sets the padding added on every side.
    pub fn with_padding(mut self, padding: impl IntoSize2) -> AvgPool2d {
        self.window.padding = padding.into_size2();
        self
    }

    /// Checks the hyperparameters.
    pub fn validate(&self) -> Result<()> {
        self.window.validate("AvgPool2d")
    }

    /// `[kh, kw]`.
    pub fn kernel_size(&self) -> [usize; 2] {
        self.window.kernel
    }

    /// `[sh, sw]`.
    pub fn stride(&self) -> [usize; 2] {
        self.window.stride
    }

    /// `[ph, pw]`.
    pub fn padding(&self) -> [usize; 2] {
        self.window.padding
    }
}

impl Module for AvgPool2d {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.window.apply(x, "AvgPool2d", |x, k, s, p| x.avg_pool2d(k, s, p))
    }

    fn config(&self) -> Result<LayerConfig> {
        Ok(LayerConfig::AvgPool2d {
            kernel_size: self.window.kernel,
            stride: self.window.stride,
            padding: self.window.padding,
        })
    }
}
