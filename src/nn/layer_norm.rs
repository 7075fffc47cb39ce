//! Layer normalisation.

use super::params::{Unbuilt, check_size, placeholder};
use super::{Forward, LayerConfig, Module};
use crate::{DType, Device, Error, Result, Shape, Tensor};

/// Normalises over the trailing `normalized_shape` dims of each sample (mean 0,
/// biased variance 1), then applies a learnable element-wise scale and shift,
/// PyTorch's `nn.LayerNorm`. It behaves the same in both modes.
///
/// # Shapes
/// - input: `(*, normalized_shape...)`
/// - output: same as the input
///
/// # Parameters
/// `weight` (ones) and `bias` (zeros) of shape `normalized_shape`, when
/// `elementwise_affine` (the default).
///
/// ```
/// use neurite::nn::{Forward, LayerNorm, Module};
/// use neurite::{Device, Tensor};
/// # fn main() -> neurite::Result<()> {
/// let ln = LayerNorm::new(4);
/// let x = Tensor::from_vec(vec![1f32, 2., 3., 4.], (1, 4), &Device::cpu())?;
/// let y = ln.forward(&x)?.to_vec::<f32>()?;
/// assert!((y.iter().sum::<f32>()).abs() < 1e-5);
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct LayerNorm {
    normalized_shape: Shape,
    eps: f64,
    weight: Option<Tensor>,
    bias: Option<Tensor>,
    unbuilt: Unbuilt,
}

/// Ones and zeros of `shape`: the affine parameters.
fn affine_parameters(shape: &Shape) -> Result<(Tensor, Tensor)> {
    let (dtype, dev) = (DType::F32, Device::cpu());
    check_size("LayerNorm", "weight", shape.dims())?;
    Ok((
        Tensor::ones(shape, dtype, &dev)?.requires_grad(),
        Tensor::zeros(shape, dtype, &dev)?.requires_grad(),
    ))
}

impl LayerNorm {
    /// A layer over the trailing `normalized_shape` dims, eps 1e-5, affine.
    /// Never fails: a shape whose parameters cannot be created is reported by
    /// [`LayerNorm::validate`], `forward` and [`LayerNorm::try_new`].
    pub fn new(normalized_shape: impl Into<Shape>) -> LayerNorm {
        let shape = normalized_shape.into();
        let (weight, bias, unbuilt) = match affine_parameters(&shape) {
            Ok((w, b)) => (Some(w), Some(b), Unbuilt::none()),
            Err(e) => (Some(placeholder(1)), Some(placeholder(1)), Unbuilt::because(&e)),
        };
        LayerNorm {
            normalized_shape: shape,
            eps: 1e-5,
            weight,
            bias,
            unbuilt,
        }
    }

    /// A layer with every hyperparameter, validated now.
    pub fn try_new(normalized_shape: impl Into<Shape>, eps: f64, elementwise_affine: bool) -> Result<LayerNorm> {
        let ln = LayerNorm::new(normalized_shape)
            .with_eps(eps)
            .with_elementwise_affine(elementwise_affine);
        ln.validate()?;
        Ok(ln)
    }

    /// Sets the value added to the variance before the square root.
    pub fn with_eps(mut self, eps: f64) -> LayerNorm {
        self.eps = eps;
        self
    }

    /// With (the default) or without the learnable scale and shift.
    pub fn with_elementwise_affine(mut self, affine: bool) -> LayerNorm {
        if !affine {
            self.weight = None;
            self.bias = None;
        } else if self.weight.is_none() {
            match affine_parameters(&self.normalized_shape) {
                Ok((w, b)) => {
                    self.weight = Some(w);
                    self.bias = Some(b);
                }
                Err(e) => self.unbuilt = Unbuilt::because(&e),
            }
        }
        self
    }

    /// Keeps (`true`, the default) or removes (`false`) the learnable shift,
    /// PyTorch's `LayerNorm(..., bias=False)`; the scale stays. Only an affine
    /// layer has a shift to keep.
    pub fn with_bias(mut self, bias: bool) -> LayerNorm {
        if !bias {
            self.bias = None;
        } else if self.bias.is_none() && self.weight.is_some() {
            match affine_parameters(&self.normalized_shape) {
                Ok((_, b)) => self.bias = Some(b),
                Err(e) => self.unbuilt = Unbuilt::because(&e),
            }
        }
        self
    }

    /// Checks that the normalised shape is non-empty, eps finite and >= 0,
    /// and that the parameters could be created.
    pub fn validate(&self) -> Result<()> {
        self.unbuilt.check("LayerNorm")?;
        if self.normalized_shape.rank() == 0 {
            return Err(Error::invalid(
                "LayerNorm",
                "normalized_shape must have at least one dim",
            ));
        }
        if !(self.eps.is_finite() && self.eps >= 0.0) {
            return Err(Error::invalid(
                "LayerNorm",
                format!("eps must be finite and >= 0, got {}", self.eps),
            ));
        }
        Ok(())
    }

    /// The normalised trailing shape.
    pub fn normalized_shape(&self) -> &Shape {
        &self.normalized_shape
    }

    /// eps.
    pub fn eps(&self) -> f64 {
        self.eps
    }

    /// The scale, when affine.
    pub fn weight(&self) -> Option<&Tensor> {
        self.weight.as_ref()
    }

    /// The shift, when affine.
    pub fn bias(&self) -> Option<&Tensor> {
        self.bias.as_ref()
    }
}

impl Module for LayerNorm {
    fn own_parameters(&self) -> Vec<(String, Tensor)> {
        let w = self.weight.iter().map(|w| ("weight".to_string(), w.clone()));
        w.chain(self.bias.iter().map(|b| ("bias".to_string(), b.clone())))
            .collect()
    }

    fn map_own_tensors(&mut self, f: &mut dyn FnMut(&Tensor) -> Result<Tensor>) -> Result<()> {
        if let Some(w) = &mut self.weight {
            *w = f(w)?;
        }
        if let Some(b) = &mut self.bias {
            *b = f(b)?;
        }
        Ok(())
    }

    fn config(&self) -> Result<LayerConfig> {
        self.unbuilt.check("LayerNorm")?;
        if self.weight.is_some() && self.bias.is_none() {
            return Err(Error::invalid(
                "LayerNorm",
                "LayerConfig::LayerNorm cannot describe a scale without a shift (bias = false); \
                 the module that holds it describes it",
            ));
        }
        Ok(LayerConfig::LayerNorm {
            normalized_shape: self.normalized_shape.dims().to_vec(),
            eps: self.eps,
            elementwise_affine: self.weight.is_some(),
        })
    }
}

impl Forward for LayerNorm {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.validate()?;
        let k = self.normalized_shape.rank();
        if x.rank() < k || x.dims()[x.rank() - k..] != *self.normalized_shape.dims() {
            return Err(Error::invalid(
                "LayerNorm",
                format!(
                    "input of shape {} does not end with the normalized shape {}",
                    x.shape(),
                    self.normalized_shape
                ),
            ));
        }
        let dims: Vec<usize> = (x.rank() - k..x.rank()).collect();
        let centred = x.sub(&x.mean_dims(&dims, true)?)?;
        let var = centred.sqr()?.mean_dims(&dims, true)?;
        let y = centred.mul(&var.add_scalar(self.eps)?.sqrt()?.recip()?)?;
        let y = match &self.weight {
            Some(w) => y.mul(w)?,
            None => y,
        };
        match &self.bias {
            Some(b) => y.add(b),
            None => Ok(y),
        }
    }
}
