//! Element-wise activation layers: ReLU, LeakyReLU, Sigmoid, Tanh, GELU.
//!
//! They hold no parameters and have no mode. Grouped in one file because each
//! is a one-line forward over a tensor op.
//!
//! # Shapes
//! Any input shape; the output has the same shape.

use super::{Forward, LayerConfig, Module};
use crate::{Result, Tensor};

/// Implements `Module` for a parameterless activation.
macro_rules! activation {
    ($ty:ident, $cfg:expr, |$s:ident, $x:ident| $body:expr) => {
        impl Module for $ty {
            fn config(&self) -> Result<LayerConfig> {
                let $s = self;
                let _ = $s;
                Ok($cfg)
            }
        }

        impl Forward for $ty {
            fn forward(&self, $x: &Tensor) -> Result<Tensor> {
                let $s = self;
                let _ = $s;
                $body
            }
        }
    };
}

/// `max(x, 0)`, PyTorch's `nn.ReLU`. Any shape.
///
/// ```
/// use neurite::nn::{Forward, Module, ReLU};
/// use neurite::{Device, Tensor};
/// let x = Tensor::from_vec(vec![-1f32, 2.], 2, &Device::cpu()).unwrap();
/// assert_eq!(ReLU.forward(&x).unwrap().to_vec::<f32>().unwrap(), vec![0., 2.]);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReLU;
activation!(ReLU, LayerConfig::ReLU, |s, x| x.relu());

/// `x` for `x > 0`, `negative_slope * x` otherwise, PyTorch's `nn.LeakyReLU`
/// (default slope 0.01). Any shape.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LeakyReLU {
    /// Slope for negative inputs.
    pub negative_slope: f64,
}

impl LeakyReLU {
    /// A leaky ReLU with the given negative slope.
    pub fn new(negative_slope: f64) -> LeakyReLU {
        LeakyReLU { negative_slope }
    }
}

impl Default for LeakyReLU {
    fn default() -> Self {
        LeakyReLU::new(0.01)
    }
}
activation!(
    LeakyReLU,
    LayerConfig::LeakyReLU {
        negative_slope: s.negative_slope
    },
    |s, x| x.leaky_relu(s.negative_slope)
);

/// `1 / (1 + exp(-x))`, PyTorch's `nn.Sigmoid`. Any shape.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sigmoid;
activation!(Sigmoid, LayerConfig::Sigmoid, |s, x| x.sigmoid());

/// Hyperbolic tangent, PyTorch's `nn.Tanh`. Any shape.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tanh;
activation!(Tanh, LayerConfig::Tanh, |s, x| x.tanh());

/// `x * Phi(x)` with the exact (erf) normal CDF, PyTorch's `nn.GELU()` default. Any shape.
#[allow(clippy::upper_case_acronyms)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GELU;
activation!(GELU, LayerConfig::GELU, |s, x| x.gelu());
