//! Max pooling layer.

use super::pool::{Window, batched, window_methods};
use super::{Forward, IntoSize2, LayerConfig, Module};
use crate::{Error, MaxPool2dArgs, Result, Tensor};

/// Max pooling over 2-D windows, PyTorch's `nn.MaxPool2d` (with `dilation`,
/// `ceil_mode`, and `return_indices` as [`MaxPool2d::forward_with_indices`]).
///
/// Padded positions never win; the gradient goes to the first maximum of each window.
///
/// The stride defaults to the kernel size, the padding to 0, the dilation to 1.
/// [`MaxPool2d::new`] and the builders never fail; invalid values (a zero kernel,
/// stride or dilation, padding over half the kernel) are reported by
/// [`MaxPool2d::validate`], by `forward` and by [`MaxPool2d::try_new`].
///
/// # Shapes
/// - input: `(N, C, H, W)` or `(C, H, W)`
/// - output: `(N, C, H_out, W_out)` or `(C, H_out, W_out)` with
///   `H_out = (H + 2 * padding - dilation * (kernel - 1) - 1) / stride + 1`, rounded
///   up in ceil mode (likewise for `W`).
///
/// ```
/// use neurite::nn::{Forward, MaxPool2d, Module};
/// use neurite::{DType, Device, Tensor};
/// # fn main() -> neurite::Result<()> {
/// let x = Tensor::arange(0., 16., 1., DType::F32, &Device::cpu())?.reshape((1, 1, 4, 4))?;
/// let y = MaxPool2d::new(2).forward(&x)?;
/// assert_eq!(y.to_vec::<f32>()?, vec![5., 7., 13., 15.]);
/// let (_, indices) = MaxPool2d::new(3).with_stride(2).with_ceil_mode(true).forward_with_indices(&x)?;
/// assert_eq!(indices.to_vec::<i64>()?, vec![10, 11, 14, 15]);
/// # Ok(()) }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MaxPool2d {
    window: Window,
    dilation: [usize; 2],
}

window_methods!(MaxPool2d);

impl MaxPool2d {
    /// A pool with stride equal to the kernel, no padding and no dilation.
    pub fn new(kernel_size: impl IntoSize2) -> MaxPool2d {
        MaxPool2d {
            window: Window::new(kernel_size.into_size2()),
            dilation: [1, 1],
        }
    }

    /// A pool with kernel, stride and padding, validated now.
    pub fn try_new(kernel_size: impl IntoSize2, stride: impl IntoSize2, padding: impl IntoSize2) -> Result<MaxPool2d> {
        let p = MaxPool2d::new(kernel_size).with_stride(stride).with_padding(padding);
        p.validate()?;
        Ok(p)
    }

    /// Sets the spacing between window taps.
    pub fn with_dilation(mut self, dilation: impl IntoSize2) -> MaxPool2d {
        self.dilation = dilation.into_size2();
        self
    }

    /// `[dh, dw]`.
    pub fn dilation(&self) -> [usize; 2] {
        self.dilation
    }

    /// Checks the hyperparameters.
    pub fn validate(&self) -> Result<()> {
        self.window.validate("MaxPool2d")?;
        if self.dilation.contains(&0) {
            return Err(Error::invalid(
                "MaxPool2d",
                format!("dilation {:?} must be positive", self.dilation),
            ));
        }
        Ok(())
    }

    fn args(&self) -> MaxPool2dArgs {
        MaxPool2dArgs {
            kernel_size: self.window.kernel,
            stride: self.window.stride,
            padding: self.window.padding,
            dilation: self.dilation,
            ceil_mode: self.window.ceil_mode,
        }
    }

    /// The pooled values and, as PyTorch's `return_indices=True` gives, the
    /// `I64` index of each maximum in its flattened `H * W` input plane
    /// (what [`super::MaxUnpool2d`] takes).
    pub fn forward_with_indices(&self, x: &Tensor) -> Result<(Tensor, Tensor)> {
        self.validate()?;
        let args = self.args();
        batched(
            x,
            "MaxPool2d",
            |x| x.max_pool2d_with_indices(&args),
            |(v, i)| Ok((v.squeeze(0usize)?, i.squeeze(0usize)?)),
        )
    }
}

impl Module for MaxPool2d {
    fn config(&self) -> Result<LayerConfig> {
        let w = self.window;
        // The original variant while it can say everything: what older builds read.
        if self.dilation == [1, 1] && !w.ceil_mode {
            return Ok(LayerConfig::MaxPool2d {
                kernel_size: w.kernel,
                stride: w.stride,
                padding: w.padding,
            });
        }
        Ok(LayerConfig::MaxPool2dFull {
            kernel_size: w.kernel,
            stride: w.stride,
            padding: w.padding,
            dilation: self.dilation,
            ceil_mode: w.ceil_mode,
        })
    }
}

impl Forward for MaxPool2d {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.validate()?;
        let args = self.args();
        batched(x, "MaxPool2d", |x| x.max_pool2d_with(&args), |y| y.squeeze(0usize))
    }
}
