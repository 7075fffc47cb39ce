//! Channel dropout: Dropout1d and Dropout2d zero whole channels.

use super::{Forward, LayerConfig, Module};
use crate::{Error, Result, Tensor};

/// The mode, probability and masking shared by both layers; `spatial` is the
/// number of trailing dims that share one channel's mask.
fn channel_dropout(x: &Tensor, p: f64, training: bool, spatial: usize, op: &'static str) -> Result<Tensor> {
    check_p(p, op)?;
    let ranks = [spatial + 1, spatial + 2];
    if !ranks.contains(&x.rank()) {
        return Err(Error::invalid(
            op,
            format!(
                "expected an input of rank {} (C, ...) or {} (N, C, ...), got shape {}",
                ranks[0],
                ranks[1],
                x.shape()
            ),
        ));
    }
    if !training || p == 0.0 {
        return Ok(x.clone());
    }
    if p == 1.0 {
        return x.mul_scalar(0.0);
    }
    let mut mask_dims = x.dims().to_vec();
    let r = mask_dims.len();
    mask_dims[r - spatial..].iter_mut().for_each(|d| *d = 1);
    // Kept with probability 1 - p and scaled so that the expectation is unchanged.
    let mask = Tensor::rand(mask_dims, x.dtype(), &x.device())?
        .ge_scalar(p)?
        .to_dtype(x.dtype())?
        .affine(1.0 / (1.0 - p), 0.0)?;
    x.mul(&mask)
}

fn check_p(p: f64, op: &'static str) -> Result<()> {
    if !(0.0..=1.0).contains(&p) {
        return Err(Error::invalid(
            op,
            format!("drop probability must be in [0, 1], got {p}"),
        ));
    }
    Ok(())
}

macro_rules! channel_dropout_layer {
    ($ty:ident, $spatial:expr, $variant:ident) => {
        impl $ty {
            /// Dropout of whole channels with probability `p`, in training mode.
            pub fn new(p: f64) -> $ty {
                $ty { p, training: true }
            }

            /// Like `new`, checking `p` now.
            pub fn try_new(p: f64) -> Result<$ty> {
                check_p(p, stringify!($ty))?;
                Ok($ty::new(p))
            }

            /// The drop probability.
            pub fn p(&self) -> f64 {
                self.p
            }

            /// Checks that `p` lies in `[0, 1]`.
            pub fn validate(&self) -> Result<()> {
                check_p(self.p, stringify!($ty))
            }
        }

        impl Module for $ty {
            fn set_training(&mut self, training: bool) {
                self.training = training;
            }

            fn is_training(&self) -> bool {
                self.training
            }

            fn config(&self) -> Result<LayerConfig> {
                Ok(LayerConfig::$variant { p: self.p })
            }
        }

        impl Forward for $ty {
            fn forward(&self, x: &Tensor) -> Result<Tensor> {
                channel_dropout(x, self.p, self.training, $spatial, stringify!($ty))
            }
        }
    };
}

/// Zeroes each channel of a `(N, C, H, W)` input with probability `p` and
/// scales the kept channels by `1 / (1 - p)`, PyTorch's `nn.Dropout2d`, in
/// training mode only; in evaluation mode it is the identity. One random
/// draw per `(sample, channel)`, so neighbouring pixels (which convolutions
/// correlate) are dropped together. Invalid `p` is reported by `forward`,
/// `validate` and `try_new`.
///
/// # Shapes
/// - input: `(N, C, H, W)` or unbatched `(C, H, W)`
/// - output: same as the input
///
/// ```
/// use neurite::nn::{Dropout2d, Forward, Module};
/// use neurite::{DType, Device, Tensor};
/// # fn main() -> neurite::Result<()> {
/// let mut drop = Dropout2d::new(0.5);
/// let y = drop.forward(&Tensor::ones((4, 8, 3, 3), DType::F32, &Device::cpu())?)?;
/// for channel in y.reshape((32, 9))?.to_vec2::<f32>()? {
///     assert!(channel.iter().all(|&v| v == 0.0) || channel.iter().all(|&v| v == 2.0));
/// }
/// drop.eval();
/// # Ok(()) }
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Dropout2d {
    p: f64,
    training: bool,
}

channel_dropout_layer!(Dropout2d, 2, Dropout2d);

/// Zeroes each channel of a `(N, C, L)` input with probability `p` and
/// scales the kept channels by `1 / (1 - p)`, PyTorch's `nn.Dropout1d`, in
/// training mode only; the identity in evaluation mode.
///
/// # Shapes
/// - input: `(N, C, L)` or unbatched `(C, L)`
/// - output: same as the input
///
/// ```
/// use neurite::nn::{Dropout1d, Forward};
/// use neurite::{DType, Device, Tensor};
/// let y = Dropout1d::new(0.5).forward(&Tensor::ones((2, 3, 5), DType::F32, &Device::cpu()).unwrap()).unwrap();
/// assert_eq!(y.dims(), &[2, 3, 5]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Dropout1d {
    p: f64,
    training: bool,
}

channel_dropout_layer!(Dropout1d, 1, Dropout1d);
