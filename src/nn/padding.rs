//! Padding layers, PyTorch's `nn.{Zero,Constant,Reflection,Replication,Circular}Pad{1,2}d`.

use crate::{PadMode, Result, Tensor};

/// A padding size: one number for every side, or `N` values in
/// [`Tensor::pad`]'s order (`[left, right]` or `[left, right, top, bottom]`).
pub trait IntoPadding<const N: usize>: Copy {
    /// The `N` pads, last dim first.
    fn into_padding(self) -> [i64; N];
}

impl<const N: usize> IntoPadding<N> for i64 {
    fn into_padding(self) -> [i64; N] {
        [self; N]
    }
}

impl<const N: usize> IntoPadding<N> for i32 {
    fn into_padding(self) -> [i64; N] {
        [i64::from(self); N]
    }
}

impl<const N: usize> IntoPadding<N> for [i64; N] {
    fn into_padding(self) -> [i64; N] {
        self
    }
}

impl<const N: usize> IntoPadding<N> for [i32; N] {
    fn into_padding(self) -> [i64; N] {
        self.map(i64::from)
    }
}

/// Defines a padding layer: `$name` pads `$n` values (`$n / 2` dims) in
/// `$mode`; `$value` is true for the layers that take a fill value.
macro_rules! pad_layer {
    ($(#[$doc:meta])* $name:ident, $n:literal, $mode:expr, value) => {
        pad_layer!(@def $(#[$doc])* $name, $n, $mode);
        impl $name {
            /// Pads by `padding` with `value`.
            pub fn new(padding: impl IntoPadding<$n>, value: f64) -> $name {
                $name { padding: padding.into_padding(), value }
            }
        }
    };
    ($(#[$doc:meta])* $name:ident, $n:literal, $mode:expr) => {
        pad_layer!(@def $(#[$doc])* $name, $n, $mode);
        impl $name {
            /// Pads by `padding` (one number for every side, or one per side).
            pub fn new(padding: impl IntoPadding<$n>) -> $name {
                $name { padding: padding.into_padding(), value: 0.0 }
            }
        }
    };
    (@def $(#[$doc:meta])* $name:ident, $n:literal, $mode:expr) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq)]
        pub struct $name {
            padding: [i64; $n],
            value: f64,
        }

        impl $name {
            /// The pads, last dim first (`[left, right, top, bottom]` for 2-D).
            pub fn padding(&self) -> [i64; $n] {
                self.padding
            }

            /// The fill value (0 for the modes that copy entries).
            pub fn value(&self) -> f64 {
                self.value
            }

            /// Rebuilds the layer from a [`super::LayerConfig::Padding`]'s values.
            pub(crate) fn from_parts(padding: &[i64], value: f64) -> Result<$name> {
                let padding: [i64; $n] = padding.try_into().map_err(|_| {
                    crate::Error::invalid(
                        stringify!($name),
                        format!("expected {} pads, got {padding:?}", $n),
                    )
                })?;
                Ok($name { padding, value })
            }
        }

        impl super::Module for $name {
            fn config(&self) -> Result<super::LayerConfig> {
                Ok(super::LayerConfig::Padding {
                    layer: stringify!($name).to_string(),
                    padding: self.padding.to_vec(),
                    value: self.value,
                })
            }
        }

        impl super::Forward for $name {
            fn forward(&self, x: &Tensor) -> Result<Tensor> {
                x.pad_with(&self.padding, $mode, self.value)
            }
        }
    };
}

pad_layer! {
    /// Pads the last dim with zeros, PyTorch's `nn.ZeroPad1d`; negative pads crop.
    ///
    /// # Shapes
    /// - input: `(*, W)`
    /// - output: `(*, W + left + right)`
    ZeroPad1d, 2, PadMode::Constant
}

pad_layer! {
    /// Pads the last two dims with zeros, PyTorch's `nn.ZeroPad2d`; negative pads crop.
    ///
    /// # Shapes
    /// - input: `(*, H, W)`
    /// - output: `(*, H + top + bottom, W + left + right)`
    ///
    /// ```
    /// use neurite::nn::{Forward, ZeroPad2d};
    /// use neurite::{DType, Device, Tensor};
    /// let x = Tensor::ones((1, 1, 2, 2), DType::F32, &Device::cpu()).unwrap();
    /// assert_eq!(ZeroPad2d::new([1, 0, 0, 1]).forward(&x).unwrap().dims(), &[1, 1, 3, 3]);
    /// ```
    ZeroPad2d, 4, PadMode::Constant
}

pad_layer! {
    /// Pads the last dim with a constant, PyTorch's `nn.ConstantPad1d`.
    ///
    /// # Shapes
    /// - input: `(*, W)`
    /// - output: `(*, W + left + right)`
    ConstantPad1d, 2, PadMode::Constant, value
}

pad_layer! {
    /// Pads the last two dims with a constant, PyTorch's `nn.ConstantPad2d`.
    ///
    /// # Shapes
    /// - input: `(*, H, W)`
    /// - output: `(*, H + top + bottom, W + left + right)`
    ConstantPad2d, 4, PadMode::Constant, value
}

pad_layer! {
    /// Pads the last dim with its mirror image (edge not repeated), PyTorch's
    /// `nn.ReflectionPad1d`; each pad must be smaller than the dim.
    ///
    /// # Shapes
    /// - input: `(N, C, W)` or `(C, W)`
    /// - output: `(N, C, W + left + right)` or `(C, W + left + right)`
    ReflectionPad1d, 2, PadMode::Reflect
}

pad_layer! {
    /// Pads the last two dims with their mirror image, PyTorch's
    /// `nn.ReflectionPad2d`; each pad must be smaller than its dim.
    ///
    /// # Shapes
    /// - input: `(N, C, H, W)` or `(C, H, W)`
    /// - output: `(N, C, H + top + bottom, W + left + right)` or the unbatched form.
    ReflectionPad2d, 4, PadMode::Reflect
}

pad_layer! {
    /// Pads the last dim by repeating its edge entries, PyTorch's `nn.ReplicationPad1d`.
    ///
    /// # Shapes
    /// - input: `(N, C, W)` or `(C, W)`
    /// - output: `(N, C, W + left + right)` or `(C, W + left + right)`
    ReplicationPad1d, 2, PadMode::Replicate
}

pad_layer! {
    /// Pads the last two dims by repeating their edges, PyTorch's `nn.ReplicationPad2d`.
    ///
    /// # Shapes
    /// - input: `(N, C, H, W)` or `(C, H, W)`
    /// - output: `(N, C, H + top + bottom, W + left + right)` or the unbatched form.
    ReplicationPad2d, 4, PadMode::Replicate
}

pad_layer! {
    /// Pads the last dim by wrapping around, PyTorch's `nn.CircularPad1d`.
    ///
    /// # Shapes
    /// - input: `(N, C, W)` or `(C, W)`
    /// - output: `(N, C, W + left + right)` or `(C, W + left + right)`
    CircularPad1d, 2, PadMode::Circular
}

pad_layer! {
    /// Pads the last two dims by wrapping around, PyTorch's `nn.CircularPad2d`.
    ///
    /// # Shapes
    /// - input: `(N, C, H, W)` or `(C, H, W)`
    /// - output: `(N, C, H + top + bottom, W + left + right)` or the unbatched form.
    CircularPad2d, 4, PadMode::Circular
}

/// Builds the padding layer named `layer` (a [`super::LayerConfig::Padding`]).
pub(crate) fn build(layer: &str, padding: &[i64], value: f64) -> Result<Box<dyn super::Forward>> {
    Ok(match layer {
        "ZeroPad1d" => Box::new(ZeroPad1d::from_parts(padding, 0.0)?),
        "ZeroPad2d" => Box::new(ZeroPad2d::from_parts(padding, 0.0)?),
        "ConstantPad1d" => Box::new(ConstantPad1d::from_parts(padding, value)?),
        "ConstantPad2d" => Box::new(ConstantPad2d::from_parts(padding, value)?),
        "ReflectionPad1d" => Box::new(ReflectionPad1d::from_parts(padding, 0.0)?),
        "ReflectionPad2d" => Box::new(ReflectionPad2d::from_parts(padding, 0.0)?),
        "ReplicationPad1d" => Box::new(ReplicationPad1d::from_parts(padding, 0.0)?),
        "ReplicationPad2d" => Box::new(ReplicationPad2d::from_parts(padding, 0.0)?),
        "CircularPad1d" => Box::new(CircularPad1d::from_parts(padding, 0.0)?),
        "CircularPad2d" => Box::new(CircularPad2d::from_parts(padding, 0.0)?),
        other => {
            return Err(crate::Error::invalid(
                "LayerConfig::build",
                format!("unknown padding layer {other:?}"),
            ));
        }
    })
}
