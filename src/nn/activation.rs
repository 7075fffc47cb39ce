//! Element-wise activation layers: ReLU, LeakyReLU, Sigmoid, Tanh, GELU, SiLU.
//!
//! They hold no parameters and have no mode. Grouped in one file because each
//! is a one-line forward over a tensor op.
//!
//! # Shapes
//! Any input shape; the output has the same shape.

use super::{Forward, LayerConfig, Module};
use crate::{GeluApproximate, Result, Tensor};

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

/// GELU, PyTorch's `nn.GELU(approximate=...)`: `x * Phi(x)` with the exact
/// (erf) normal CDF by default, or its tanh approximation
/// `0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))`.
///
/// The constant [`GELU`](const@GELU) is the exact form, `nn.GELU()`.
///
/// # Shapes
/// Any input shape; the output has the same shape.
///
/// ```
/// use neurite::nn::{Forward, GELU};
/// use neurite::{Device, Tensor};
/// let x = Tensor::from_vec(vec![1f64], 1, &Device::cpu()).unwrap();
/// let exact = GELU.forward(&x).unwrap().to_vec::<f64>().unwrap()[0];
/// let tanh = GELU::new("tanh").unwrap().forward(&x).unwrap().to_vec::<f64>().unwrap()[0];
/// assert!((exact - 0.8413447460685429).abs() < 1e-12);
/// assert!((tanh - 0.8411919906082768).abs() < 1e-12);
/// assert!(GELU::new("erf").is_err());
/// ```
#[allow(clippy::upper_case_acronyms)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GELU {
    /// Exact (`"none"`) or tanh-approximated (`"tanh"`).
    pub approximate: GeluApproximate,
}

/// The exact (erf) GELU, `nn.GELU()`, usable as a value like the unit-struct
/// activations (`Sequential::new().add(GELU)`).
pub const GELU: GELU = GELU {
    approximate: GeluApproximate::None,
};

impl GELU {
    /// A GELU with PyTorch's `approximate` string, `"none"` or `"tanh"`;
    /// anything else is an error.
    pub fn new(approximate: &str) -> Result<GELU> {
        Ok(GELU {
            approximate: GeluApproximate::parse(approximate)?,
        })
    }
}

activation!(
    GELU,
    match s.approximate {
        GeluApproximate::None => LayerConfig::GELU,
        GeluApproximate::Tanh => LayerConfig::GELUApproximate {
            approximate: s.approximate.as_str().to_string(),
        },
    },
    |s, x| match s.approximate {
        GeluApproximate::None => x.gelu(),
        GeluApproximate::Tanh => x.gelu_tanh(),
    }
);

/// `x * sigmoid(x)`, PyTorch's `nn.SiLU`. Any shape.
///
/// ```
/// use neurite::nn::{Forward, SiLU};
/// use neurite::{Device, Tensor};
/// let x = Tensor::from_vec(vec![0f32, 1.], 2, &Device::cpu()).unwrap();
/// let y = SiLU.forward(&x).unwrap().to_vec::<f32>().unwrap();
/// assert!(y[0] == 0.0 && (y[1] - 0.7310586).abs() < 1e-6);
/// ```
#[allow(clippy::upper_case_acronyms)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SiLU;
activation!(SiLU, LayerConfig::SiLU, |s, x| x.silu());
