//! Max unpooling layer, the partial inverse of [`super::MaxPool2d`].

use super::pool::{Window, batched};
use super::{Forward, IntoSize2, LayerConfig, Module};
use crate::{Error, Result, Tensor};

/// PyTorch's `nn.MaxUnpool2d`: puts each pooled value back where
/// [`super::MaxPool2d::forward_with_indices`] found it, zeros elsewhere.
///
/// It needs the indices, so it is applied with [`MaxUnpool2d::unpool`];
/// `forward` (one input) is an error that says so. Values sharing an index
/// (overlapping pooling windows) are averaged (see [`Tensor::max_unpool2d`]).
///
/// # Shapes
/// - input and indices: `(N, C, H, W)` or `(C, H, W)`
/// - output: `(N, C, H_out, W_out)` or `(C, H_out, W_out)` with
///   `H_out = (H - 1) * stride - 2 * padding + kernel`, or `output_size`.
///
/// ```
/// use neurite::nn::{MaxPool2d, MaxUnpool2d};
/// use neurite::{DType, Device, Tensor};
/// # fn main() -> neurite::Result<()> {
/// let x = Tensor::arange(0., 16., 1., DType::F32, &Device::cpu())?.reshape((1, 1, 4, 4))?;
/// let (y, idx) = MaxPool2d::new(2).forward_with_indices(&x)?;
/// let back = MaxUnpool2d::new(2).unpool(&y, &idx, None)?;
/// assert_eq!(back.to_vec::<f32>()?[5], 5.);
/// assert_eq!(back.to_vec::<f32>()?[4], 0.);
/// # Ok(()) }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MaxUnpool2d {
    window: Window,
}

impl MaxUnpool2d {
    /// Undoes a pool with this kernel, stride equal to the kernel and no padding.
    pub fn new(kernel_size: impl IntoSize2) -> MaxUnpool2d {
        MaxUnpool2d {
            window: Window::new(kernel_size.into_size2()),
        }
    }

    /// Every hyperparameter, validated now.
    pub fn try_new(
        kernel_size: impl IntoSize2,
        stride: impl IntoSize2,
        padding: impl IntoSize2,
    ) -> Result<MaxUnpool2d> {
        let u = MaxUnpool2d::new(kernel_size).with_stride(stride).with_padding(padding);
        u.validate()?;
        Ok(u)
    }

    /// Sets the stride.
    pub fn with_stride(mut self, stride: impl IntoSize2) -> MaxUnpool2d {
        self.window.stride = stride.into_size2();
        self
    }

    /// Sets the padding.
    pub fn with_padding(mut self, padding: impl IntoSize2) -> MaxUnpool2d {
        self.window.padding = padding.into_size2();
        self
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

    /// Checks the hyperparameters (positive kernel and stride).
    pub fn validate(&self) -> Result<()> {
        let w = self.window;
        if w.kernel.contains(&0) || w.stride.contains(&0) {
            return Err(Error::invalid(
                "MaxUnpool2d",
                format!("kernel {:?} and stride {:?} must be positive", w.kernel, w.stride),
            ));
        }
        Ok(())
    }

    /// Unpools `x` by `indices` (as [`Tensor::max_unpool2d`]); `output_size`
    /// is `[H_out, W_out]` when the default is not the pooled input's size.
    pub fn unpool(&self, x: &Tensor, indices: &Tensor, output_size: Option<[usize; 2]>) -> Result<Tensor> {
        self.validate()?;
        let w = self.window;
        if x.rank() == 3 {
            let (x, i) = (x.unsqueeze(0)?, indices.unsqueeze(0)?);
            return x
                .max_unpool2d(&i, w.kernel, w.stride, w.padding, output_size)?
                .squeeze(0usize);
        }
        batched(
            x,
            "MaxUnpool2d",
            |x| x.max_unpool2d(indices, w.kernel, w.stride, w.padding, output_size),
            Ok,
        )
    }
}

impl Module for MaxUnpool2d {
    fn config(&self) -> Result<LayerConfig> {
        Ok(LayerConfig::MaxUnpool2d {
            kernel_size: self.window.kernel,
            stride: self.window.stride,
            padding: self.window.padding,
        })
    }
}

impl Forward for MaxUnpool2d {
    /// Always an error: unpooling needs the indices of the pool, see [`MaxUnpool2d::unpool`].
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        Err(Error::invalid(
            "MaxUnpool2d",
            format!(
                "forward got only the input {}; unpooling needs the pooling indices too: call MaxUnpool2d::unpool(x, indices, output_size)",
                x.shape()
            ),
        ))
    }
}
