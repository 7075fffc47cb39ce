//! Weight initialisers with PyTorch's formulas (`torch.nn.init`).
//!
//! An [`Init`] either creates a tensor ([`Init::tensor`]) or refills an
//! existing one in place ([`Init::fill`], like PyTorch's `init.xavier_uniform_(w)`),
//! drawing from the global generator seeded by [`crate::manual_seed`].
//!
//! ```
//! use neurite::nn::{init::{Init, Nonlinearity}, Linear, Module};
//! # fn main() -> neurite::Result<()> {
//! let layer = Linear::new(4, 3);
//! Init::XavierUniform { gain: 1.0 }.fill(layer.weight())?;
//! Init::Zeros.fill(layer.bias().unwrap())?;
//! let he = Init::kaiming_normal(Nonlinearity::Relu);
//! let w = he.tensor((16, 8), neurite::DType::F32, &neurite::Device::cpu())?;
//! assert_eq!(w.dims(), &[16, 8]);
//! # Ok(()) }
//! ```

use crate::{DType, Device, Error, Result, Shape, Tensor};
use serde::{Deserialize, Serialize};

/// The activation that follows a layer, which sets the gain of Xavier and Kaiming schemes.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum Nonlinearity {
    /// No activation (gain 1); also PyTorch's `conv*d` entries.
    Linear,
    /// Gain 1.
    Sigmoid,
    /// Gain 5/3.
    Tanh,
    /// Gain sqrt(2).
    Relu,
    /// Gain sqrt(2 / (1 + slope^2)) for the given negative slope.
    LeakyRelu(f64),
    /// Gain 3/4.
    Selu,
}

impl Nonlinearity {
    /// PyTorch's `calculate_gain`.
    pub fn gain(self) -> f64 {
        match self {
            Nonlinearity::Linear | Nonlinearity::Sigmoid => 1.0,
            Nonlinearity::Tanh => 5.0 / 3.0,
            Nonlinearity::Relu => 2f64.sqrt(),
            Nonlinearity::LeakyRelu(a) => (2.0 / (1.0 + a * a)).sqrt(),
            Nonlinearity::Selu => 0.75,
        }
    }
}

/// Which fan Kaiming schemes preserve: `FanIn` keeps forward activations'
/// variance, `FanOut` keeps backward gradients'.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum FanMode {
    #[default]
    FanIn,
    FanOut,
}

/// `(fan_in, fan_out)` of a weight of `shape`, as PyTorch computes them:
/// dims 1 and 0 times the product of the remaining (receptive-field) dims.
/// Linear weights are `[out, in]`, convolution weights `[out, in, kh, kw]`.
pub fn fan_in_and_fan_out(shape: &Shape) -> Result<(usize, usize)> {
    let d = shape.dims();
    if d.len() < 2 {
        return Err(Error::invalid(
            "init",
            format!("fan in and fan out need a tensor of rank 2 or more, got shape {shape}"),
        ));
    }
    let receptive: usize = d[2..].iter().product();
    Ok((d[1] * receptive, d[0] * receptive))
}

/// An initialisation scheme.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum Init {
    /// All zeros.
    Zeros,
    /// All ones.
    Ones,
    /// A constant.
    Constant(f64),
    /// `U(low, high)`.
    Uniform { low: f64, high: f64 },
    /// `N(mean, std^2)`.
    Normal { mean: f64, std: f64 },
    /// Glorot: `U(-b, b)` with `b = gain * sqrt(6 / (fan_in + fan_out))`.
    XavierUniform { gain: f64 },
    /// Glorot: `N(0, s^2)` with `s = gain * sqrt(2 / (fan_in + fan_out))`.
    XavierNormal { gain: f64 },
    /// He: `U(-b, b)` with `b = gain * sqrt(3 / fan)`.
    KaimingUniform { nonlinearity: Nonlinearity, mode: FanMode },
    /// He: `N(0, s^2)` with `s = gain / sqrt(fan)`.
    KaimingNormal { nonlinearity: Nonlinearity, mode: FanMode },
}

impl Init {
    /// He uniform on `fan_in` for the given activation.
    pub fn kaiming_uniform(nonlinearity: Nonlinearity) -> Init {
        Init::KaimingUniform {
            nonlinearity,
            mode: FanMode::FanIn,
        }
    }

    /// He normal on `fan_in` for the given activation.
    pub fn kaiming_normal(nonlinearity: Nonlinearity) -> Init {
        Init::KaimingNormal {
            nonlinearity,
            mode: FanMode::FanIn,
        }
    }

    /// PyTorch's default for Linear and Conv2d weights: `kaiming_uniform_(w, a=sqrt(5))`,
    /// which is `U(-1/sqrt(fan_in), 1/sqrt(fan_in))`.
    pub fn pytorch_default_weight() -> Init {
        Init::kaiming_uniform(Nonlinearity::LeakyRelu(5f64.sqrt()))
    }

    /// A new tensor of `shape` initialised by this scheme.
    pub fn tensor(&self, shape: impl Into<Shape>, dtype: DType, device: &Device) -> Result<Tensor> {
        let shape = shape.into();
        if !dtype.is_float() {
            return Err(Error::invalid(
                "init",
                format!("initialisers fill float tensors, got dtype {dtype}"),
            ));
        }
        // PyTorch: initialising a zero-element tensor is a no-op (and fans may be 0).
        if shape.elem_count() == 0 {
            return Tensor::zeros(shape, dtype, device);
        }
        let fans = || fan_in_and_fan_out(&shape);
        let uniform = |bound: f64| symmetric_uniform(bound, &shape, dtype, device);
        let normal = |std: f64| Tensor::randn_with_mean_std(0.0, std, &shape, dtype, device);
        match *self {
            Init::Zeros => Tensor::zeros(shape, dtype, device),
            Init::Ones => Tensor::ones(shape, dtype, device),
            Init::Constant(v) => Tensor::full(v, shape, dtype, device),
            Init::Uniform { low, high } if low == high => Tensor::full(low, shape, dtype, device),
            Init::Uniform { low, high } => Tensor::rand_uniform(low, high, shape, dtype, device),
            Init::Normal { mean, std } => Tensor::randn_with_mean_std(mean, std, shape, dtype, device),
            Init::XavierUniform { gain } => {
                let (fi, fo) = fans()?;
                uniform(gain * (6.0 / (fi + fo) as f64).sqrt())
            }
            Init::XavierNormal { gain } => {
                let (fi, fo) = fans()?;
                normal(gain * (2.0 / (fi + fo) as f64).sqrt())
            }
            Init::KaimingUniform { nonlinearity, mode } => {
                let fan = pick_fan(fans()?, mode);
                uniform(nonlinearity.gain() * (3.0 / fan as f64).sqrt())
            }
            Init::KaimingNormal { nonlinearity, mode } => {
                let fan = pick_fan(fans()?, mode);
                normal(nonlinearity.gain() / (fan as f64).sqrt())
            }
        }
    }

    /// Refills `t` in place (shape, dtype and device kept), outside the graph.
    /// Parameters stay trainable leaves and every clone sees the new values.
    pub fn fill(&self, t: &Tensor) -> Result<()> {
        let fresh = self.tensor(t.shape(), t.dtype(), &t.device())?;
        crate::no_grad(|| t.set_data(&fresh))
    }
}

fn pick_fan((fan_in, fan_out): (usize, usize), mode: FanMode) -> usize {
    match mode {
        FanMode::FanIn => fan_in,
        FanMode::FanOut => fan_out,
    }
}

/// `U(-bound, bound)`; zeros when the bound is 0.
fn symmetric_uniform(bound: f64, shape: &Shape, dtype: DType, device: &Device) -> Result<Tensor> {
    if bound == 0.0 {
        return Tensor::zeros(shape, dtype, device);
    }
    if !bound.is_finite() {
        return Err(Error::invalid(
            "init",
            format!("uniform bound {bound} for shape {shape} is not finite (is a fan 0?)"),
        ));
    }
    Tensor::rand_uniform(-bound.abs(), bound.abs(), shape, dtype, device)
}

/// PyTorch's default bias of a layer whose weight has this fan-in:
/// `U(-1/sqrt(fan_in), 1/sqrt(fan_in))`, zeros when `fan_in` is 0.
pub(crate) fn default_bias(fan_in: usize, len: usize, dtype: DType, device: &Device) -> Result<Tensor> {
    let bound = if fan_in > 0 { 1.0 / (fan_in as f64).sqrt() } else { 0.0 };
    symmetric_uniform(bound, &Shape::from(len), dtype, device)
}
