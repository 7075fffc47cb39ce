//! What the pooling layers share: the window hyperparameters, their checks,
//! unbatched inputs, and the common builders ([`window_methods!`]).

use crate::{Error, Result, Tensor};

/// Kernel, stride, padding and rounding of a pooling window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Window {
    pub kernel: [usize; 2],
    pub stride: [usize; 2],
    pub padding: [usize; 2],
    pub ceil_mode: bool,
}

impl Window {
    /// A `kernel` window with stride `kernel`, no padding, floor rounding.
    pub fn new(kernel: [usize; 2]) -> Window {
        Window {
            kernel,
            stride: kernel,
            padding: [0, 0],
            ceil_mode: false,
        }
    }

    /// Positive kernel and stride, and padding at most half the kernel (PyTorch's rule).
    pub fn validate(&self, op: &'static str) -> Result<()> {
        let Window {
            kernel,
            stride,
            padding,
            ..
        } = *self;
        if kernel.contains(&0) || stride.contains(&0) {
            return Err(Error::invalid(
                op,
                format!("kernel {kernel:?} and stride {stride:?} must be positive"),
            ));
        }
        if padding[0] > kernel[0] / 2 || padding[1] > kernel[1] / 2 {
            return Err(Error::invalid(
                op,
                format!("padding {padding:?} must be at most half the kernel {kernel:?}"),
            ));
        }
        Ok(())
    }
}

/// Applies `pool` to `(N, C, H, W)`, or to `(C, H, W)` as a batch of one.
pub(crate) fn batched<T>(
    x: &Tensor,
    op: &'static str,
    pool: impl Fn(&Tensor) -> Result<T>,
    unbatch: impl Fn(T) -> Result<T>,
) -> Result<T> {
    match x.rank() {
        3 => unbatch(pool(&x.unsqueeze(0)?)?),
        4 => pool(x),
        _ => Err(Error::invalid(
            op,
            format!("expected an (N, C, H, W) or (C, H, W) input, got shape {}", x.shape()),
        )),
    }
}

/// The builders and getters every pooling layer `$name` (with a `window: Window` field) has.
macro_rules! window_methods {
    ($name:ident) => {
        impl $name {
            /// Sets the stride.
            pub fn with_stride(mut self, stride: impl $crate::nn::IntoSize2) -> $name {
                self.window.stride = stride.into_size2();
                self
            }

            /// Sets the padding added on every side.
            pub fn with_padding(mut self, padding: impl $crate::nn::IntoSize2) -> $name {
                self.window.padding = padding.into_size2();
                self
            }

            /// Rounds the output size up (PyTorch's `ceil_mode`): a last, partial
            /// window when it starts inside the input or the left padding.
            pub fn with_ceil_mode(mut self, ceil_mode: bool) -> $name {
                self.window.ceil_mode = ceil_mode;
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

            /// Whether the output size is rounded up.
            pub fn ceil_mode(&self) -> bool {
                self.window.ceil_mode
            }
        }
    };
}

pub(crate) use window_methods;
