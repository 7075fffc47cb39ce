//! Fully connected layer.

use super::init::{Init, default_bias};
use super::params::{Unbuilt, check_size, placeholder};
use super::{Forward, LayerConfig, Module};
use crate::{DType, Device, Result, Tensor};

/// `y = x @ W^T + b`, PyTorch's `nn.Linear`.
///
/// The weight is stored `[out_features, in_features]`, as in PyTorch, so
/// weights move between the frameworks unchanged. Initialisation equals
/// PyTorch's: weight and bias from `U(-1/sqrt(in), 1/sqrt(in))`. Created on the
/// CPU in `f32`; move it with [`Module::to_device`]. Zero sizes give an empty
/// layer, as in PyTorch. Sizes whose parameters cannot be allocated are an
/// error from [`Linear::try_new`]; [`Linear::new`] never fails and reports
/// them from [`Linear::validate`], `forward` and `config`.
///
/// # Shapes
/// - input: `(*, in_features)`
/// - output: `(*, out_features)`
///
/// # Parameters
/// `weight` `[out_features, in_features]`, `bias` `[out_features]`.
///
/// ```
/// use neurite::nn::{Forward, Linear, Module};
/// use neurite::{DType, Device, Tensor};
/// # fn main() -> neurite::Result<()> {
/// let fc = Linear::new(3, 2);
/// let y = fc.forward(&Tensor::ones((5, 3), DType::F32, &Device::cpu())?)?;
/// assert_eq!(y.dims(), &[5, 2]);
/// assert_eq!(fc.num_parameters(), 8);
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Linear {
    weight: Tensor,
    bias: Option<Tensor>,
    unbuilt: Unbuilt,
}

impl Linear {
    /// A layer with a bias. Never fails: sizes whose parameters cannot be
    /// created give a layer that holds empty placeholders and reports the
    /// failure from [`Linear::validate`] and `forward` (use
    /// [`Linear::try_new`] for the error at once).
    pub fn new(in_features: usize, out_features: usize) -> Linear {
        Linear::try_new(in_features, out_features, true).unwrap_or_else(|e| Linear {
            weight: placeholder(2),
            bias: None,
            unbuilt: Unbuilt::because(&e),
        })
    }

    /// A layer with or without a bias; an error when the parameters cannot be
    /// created (sizes whose product overflows, or more memory than there is).
    /// The bias is drawn even when it is dropped, so that a seed gives the
    /// same weight as `Linear::new(..).with_bias(false)`.
    ///
    /// ```
    /// use neurite::nn::Linear;
    /// assert!(Linear::try_new(3, 2, false).unwrap().bias().is_none());
    /// assert!(Linear::try_new(usize::MAX, 2, true).is_err());
    /// ```
    pub fn try_new(in_features: usize, out_features: usize, bias: bool) -> Result<Linear> {
        let (dtype, dev) = (DType::F32, Device::cpu());
        check_size("Linear", "weight", &[out_features, in_features])?;
        let weight = Init::pytorch_default_weight().tensor((out_features, in_features), dtype, &dev)?;
        let b = default_bias(in_features, out_features, dtype, &dev)?;
        Ok(Linear {
            weight: weight.requires_grad(),
            bias: bias.then(|| b.requires_grad()),
            unbuilt: Unbuilt::none(),
        })
    }

    /// Keeps (`true`) or removes (`false`) the bias (builder style); adding one
    /// back initialises it as PyTorch does. A bias that cannot be created
    /// (`out_features` beyond memory, with no input features) leaves a layer
    /// that reports the failure, as [`Linear::new`] does.
    pub fn with_bias(mut self, bias: bool) -> Linear {
        match (bias, self.bias.is_some()) {
            (false, _) => self.bias = None,
            (true, true) => {}
            (true, false) => {
                if self.unbuilt.check("Linear").is_err() {
                    return self;
                }
                let w = &self.weight;
                match default_bias(self.in_features(), self.out_features(), w.dtype(), &w.device()) {
                    Ok(b) => self.bias = Some(b.requires_grad()),
                    Err(e) => self.unbuilt = Unbuilt::because(&e),
                }
            }
        }
        self
    }

    /// Checks that the parameters were created (see [`Linear::new`]).
    pub fn validate(&self) -> Result<()> {
        self.unbuilt.check("Linear")
    }

    /// A layer holding `weight` `[out_features, in_features]` and an optional
    /// `bias` `[out_features]` (same dtype and device), for weights computed
    /// elsewhere. Both become trainable and share storage with the given
    /// tensors, as `nn.Parameter` does. Errors name the wrong shape or dtype.
    ///
    /// ```
    /// use neurite::nn::{Forward, Linear};
    /// use neurite::{Device, Tensor};
    /// # fn main() -> neurite::Result<()> {
    /// let dev = Device::cpu();
    /// let w = Tensor::from_vec(vec![1f32, 2., 3., 4., 5., 6.], (2, 3), &dev)?;
    /// let b = Tensor::from_vec(vec![0.5f32, -0.5], 2, &dev)?;
    /// let fc = Linear::from_tensors(w, Some(b))?;
    /// let y = fc.forward(&Tensor::ones((1, 3), neurite::DType::F32, &dev)?)?;
    /// assert_eq!(y.to_vec::<f32>()?, vec![6.5, 14.5]);
    /// assert!(Linear::from_tensors(Tensor::ones(3, neurite::DType::F32, &dev)?, None).is_err());
    /// # Ok(()) }
    /// ```
    pub fn from_tensors(weight: Tensor, bias: Option<Tensor>) -> Result<Linear> {
        const OP: &str = "Linear::from_tensors";
        let weight = super::given::parameter(OP, "weight", &weight, 2)?;
        let bias = super::given::bias(OP, bias.as_ref(), &weight, weight.dims()[0])?;
        Ok(Linear {
            weight,
            bias,
            unbuilt: Unbuilt::none(),
        })
    }

    /// Input features (0 for a layer whose parameters could not be created).
    pub fn in_features(&self) -> usize {
        self.weight.dims()[1]
    }

    /// Output features (0 for a layer whose parameters could not be created).
    pub fn out_features(&self) -> usize {
        self.weight.dims()[0]
    }

    /// The weight, `[out_features, in_features]`.
    pub fn weight(&self) -> &Tensor {
        &self.weight
    }

    /// The bias, `[out_features]`, if the layer has one.
    pub fn bias(&self) -> Option<&Tensor> {
        self.bias.as_ref()
    }
}

impl Module for Linear {
    fn own_parameters(&self) -> Vec<(String, Tensor)> {
        super::module::weight_and_bias(&self.weight, self.bias.as_ref())
    }

    fn map_own_tensors(&mut self, f: &mut dyn FnMut(&Tensor) -> Result<Tensor>) -> Result<()> {
        super::module::map_weight_and_bias(&mut self.weight, &mut self.bias, f)
    }

    fn config(&self) -> Result<LayerConfig> {
        self.validate()?;
        Ok(LayerConfig::Linear {
            in_features: self.in_features(),
            out_features: self.out_features(),
            bias: self.bias.is_some(),
        })
    }
}

impl Forward for Linear {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.validate()?;
        super::functional::linear(x, &self.weight, self.bias.as_ref())
    }
}
