//! What the two pooling layers share: hyperparameters, checks, unbatched
//! inputs, and the layer type itself ([`pool_layer!`]).

use crate::{Error, Result, Tensor};

/// Kernel, stride and padding of a pooling window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Window {
    pub kernel: [usize; 2],
    pub stride: [usize; 2],
    pub padding: [usize; 2],
}

impl Window {
    /// Positive kernel and stride, and padding at most half the kernel (PyTorch's rule).
    pub fn validate(&self, op: &'static str) -> Result<()> {
        let Window {
            kernel,
            stride,
            padding,
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

    /// Applies `pool` to `(N, C, H, W)`, or to `(C, H, W)` as a batch of one.
    pub fn apply(
        &self,
        x: &Tensor,
        op: &'static str,
        pool: impl Fn(&Tensor, (usize, usize), (usize, usize), (usize, usize)) -> Result<Tensor>,
    ) -> Result<Tensor> {
        self.validate(op)?;
        let k = (self.kernel[0], self.kernel[1]);
        let s = (self.stride[0], self.stride[1]);
        let p = (self.padding[0], self.padding[1]);
        match x.rank() {
            3 => pool(&x.unsqueeze(0)?, k, s, p)?.squeeze(0usize),
            4 => pool(x, k, s, p),
            _ => Err(Error::invalid(
                op,
                format!("expected an (N, C, H, W) or (C, H, W) input, got shape {}", x.shape()),
            )),
        }
    }
}

/// Defines a pooling layer `$name` (doc attributes first) whose `forward` is
/// `Tensor::$method` and whose configuration is `LayerConfig::$name`: the two
/// pooling layers differ in nothing else.
macro_rules! pool_layer {
    ($(#[$doc:meta])* $name:ident, $method:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub struct $name {
            window: $crate::nn::pool::Window,
        }

        impl $name {
            /// A pool with stride equal to the kernel and no padding.
            pub fn new(kernel_size: impl $crate::nn::IntoSize2) -> $name {
                let kernel = kernel_size.into_size2();
                $name {
                    window: $crate::nn::pool::Window {
                        kernel,
                        stride: kernel,
                        padding: [0, 0],
                    },
                }
            }

            /// A pool with every hyperparameter, validated now.
            pub fn try_new(
                kernel_size: impl $crate::nn::IntoSize2,
                stride: impl $crate::nn::IntoSize2,
                padding: impl $crate::nn::IntoSize2,
            ) -> $crate::Result<$name> {
                let p = $name::new(kernel_size).with_stride(stride).with_padding(padding);
                p.validate()?;
                Ok(p)
            }

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

            /// Checks the hyperparameters.
            pub fn validate(&self) -> $crate::Result<()> {
                self.window.validate(stringify!($name))
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

        impl $crate::nn::Module for $name {
            fn config(&self) -> $crate::Result<$crate::nn::LayerConfig> {
                Ok($crate::nn::LayerConfig::$name {
                    kernel_size: self.window.kernel,
                    stride: self.window.stride,
                    padding: self.window.padding,
                })
            }
        }

        impl $crate::nn::Forward for $name {
            fn forward(&self, x: &$crate::Tensor) -> $crate::Result<$crate::Tensor> {
                self.window.apply(x, stringify!($name), |x, k, s, p| x.$method(k, s, p))
            }
        }
    };
}

pub(crate) use pool_layer;
