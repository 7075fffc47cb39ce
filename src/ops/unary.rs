//! Element-wise maps of one tensor, and arithmetic with scalars.

use crate::autograd::Node;
use crate::backend::{CmpOp, Storage, UnaryOp};
use crate::{Error, Result, Tensor};

/// GELU's `approximate` option, as in `torch.nn.GELU(approximate=...)`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum GeluApproximate {
    /// The exact form `x * Phi(x)` with the erf normal CDF (`"none"`, the default).
    #[default]
    None,
    /// The tanh approximation (`"tanh"`).
    Tanh,
}

impl GeluApproximate {
    /// Parses PyTorch's spelling, `"none"` or `"tanh"`; anything else is an error.
    pub fn parse(approximate: &str) -> Result<GeluApproximate> {
        match approximate {
            "none" => Ok(GeluApproximate::None),
            "tanh" => Ok(GeluApproximate::Tanh),
            other => Err(Error::invalid(
                "gelu",
                format!("approximate must be \"none\" or \"tanh\", got {other:?}"),
            )),
        }
    }

    /// PyTorch's spelling: `"none"` or `"tanh"`.
    pub fn as_str(self) -> &'static str {
        match self {
            GeluApproximate::None => "none",
            GeluApproximate::Tanh => "tanh",
        }
    }
}

impl Tensor {
    /// Applies a primitive map and records `backward(grad, output, input)`.
    fn unary_op(
        &self,
        op: UnaryOp,
        name: &'static str,
        backward: impl Fn(&Tensor, &Tensor, &Tensor) -> Result<Tensor> + Send + Sync + 'static,
    ) -> Result<Tensor> {
        // The maps with an integer meaning run on integer tensors too (no graph
        // is recorded for them: `from_op` skips non-float results).
        let int_ok = matches!(
            op,
            UnaryOp::Neg | UnaryOp::Abs | UnaryOp::Sqr | UnaryOp::Relu | UnaryOp::Clamp { .. }
        );
        if !(int_ok && self.dtype().is_int()) {
            self.require_float(name)?;
        }
        let s = self.storage().unary(op)?;
        Ok(Tensor::from_op(s, self.shape().clone(), || {
            let x = self.clone();
            Node::new(name, vec![self.clone()], move |g, y| {
                Ok(vec![Some(backward(g, y, &x)?)])
            })
        }))
    }

    /// Applies a primitive map that has no useful gradient (masks, signs).
    fn unary_no_grad(&self, op: UnaryOp, name: &'static str) -> Result<Tensor> {
        let int_ok = matches!(op, UnaryOp::Sign) && self.dtype().is_int();
        if !matches!(op, UnaryOp::CmpScalar(..)) && !int_ok {
            self.require_float(name)?;
        }
        Ok(Tensor::from_storage(self.storage().unary(op)?, self.shape().clone()))
    }

    /// `-self`.
    pub fn neg(&self) -> Result<Tensor> {
        self.unary_op(UnaryOp::Neg, "neg", |g, _, _| g.neg())
    }

    /// `e^self`.
    pub fn exp(&self) -> Result<Tensor> {
        self.unary_op(UnaryOp::Exp, "exp", |g, y, _| g.mul(y))
    }

    /// Natural logarithm.
    pub fn log(&self) -> Result<Tensor> {
        self.unary_op(UnaryOp::Log, "log", |g, _, x| g.div(x))
    }

    /// Square root.
    pub fn sqrt(&self) -> Result<Tensor> {
        self.unary_op(UnaryOp::Sqrt, "sqrt", |g, y, _| g.div(&y.affine(2.0, 0.0)?))
    }

    /// Absolute value (gradient 0 at 0, as in PyTorch).
    pub fn abs(&self) -> Result<Tensor> {
        self.unary_op(UnaryOp::Abs, "abs", |g, _, x| g.mul(&x.sign()?))
    }

    /// -1, 0 or 1 (no gradient).
    pub fn sign(&self) -> Result<Tensor> {
        self.unary_no_grad(UnaryOp::Sign, "sign")
    }

    /// `1 / self`.
    pub fn recip(&self) -> Result<Tensor> {
        self.unary_op(UnaryOp::Recip, "recip", |g, y, _| g.mul(&y.sqr()?)?.neg())
    }

    /// `self * self`.
    pub fn sqr(&self) -> Result<Tensor> {
        self.unary_op(UnaryOp::Sqr, "sqr", |g, _, x| g.mul(&x.affine(2.0, 0.0)?))
    }

    /// `max(self, 0)`.
    pub fn relu(&self) -> Result<Tensor> {
        self.unary_op(UnaryOp::Relu, "relu", |g, y, x| {
            // A plain backward (no graph of the gradient itself) takes one host
            // pass instead of a mask, a cast and a product.
            if let Some(grad) = relu_grad_on_host(g, y)? {
                return Ok(grad);
            }
            g.mul(&x.gt_scalar(0.0)?.to_dtype(g.dtype())?)
        })
    }

    /// `self` where positive, `slope * self` elsewhere.
    pub fn leaky_relu(&self, slope: f64) -> Result<Tensor> {
        self.unary_op(UnaryOp::LeakyRelu(slope), "leaky_relu", move |g, _, x| {
            g.mul(&x.gt_scalar(0.0)?.to_dtype(g.dtype())?.affine(1.0 - slope, slope)?)
        })
    }

    /// The logistic function, computed without overflow.
    pub fn sigmoid(&self) -> Result<Tensor> {
        self.unary_op(UnaryOp::Sigmoid, "sigmoid", |g, y, _| {
            g.mul(&y.mul(&y.affine(-1.0, 1.0)?)?)
        })
    }

    /// Hyperbolic tangent.
    pub fn tanh(&self) -> Result<Tensor> {
        self.unary_op(UnaryOp::Tanh, "tanh", |g, y, _| g.mul(&y.sqr()?.affine(-1.0, 1.0)?))
    }

    /// GELU with the exact erf form (PyTorch's default).
    pub fn gelu(&self) -> Result<Tensor> {
        self.unary_op(UnaryOp::Gelu, "gelu", |g, _, x| {
            g.mul(&Tensor::from_storage(
                x.storage().unary(UnaryOp::GeluGrad)?,
                x.shape().clone(),
            ))
        })
    }

    /// `self * mul + add`.
    pub fn affine(&self, mul: f64, add: f64) -> Result<Tensor> {
        self.unary_op(UnaryOp::Affine { mul, add }, "affine", move |g, _, _| {
            g.affine(mul, 0.0)
        })
    }

    /// `self ^ exponent` for a scalar exponent, as `torch.pow(x, 2.5)`.
    ///
    /// The gradient is `exponent * self^(exponent - 1)`, and 0 for an
    /// exponent of 0 (as PyTorch, so that `0^-1 * 0` does not make a NaN).
    pub fn powf(&self, exponent: f64) -> Result<Tensor> {
        self.unary_op(UnaryOp::Powf(exponent), "powf", move |g, _, x| {
            if exponent == 0.0 {
                return g.zeros_like();
            }
            g.mul(&x.powf(exponent - 1.0)?.affine(exponent, 0.0)?)
        })
    }

    /// The Gauss error function, as `torch.erf`; d/dx is `2/sqrt(pi) e^(-x^2)`.
    pub fn erf(&self) -> Result<Tensor> {
        self.unary_op(UnaryOp::Erf, "erf", |g, _, x| {
            g.mul(&x.sqr()?.neg()?.exp()?.affine(std::f64::consts::FRAC_2_SQRT_PI, 0.0)?)
        })
    }

    /// Sine (radians), as `torch.sin`.
    pub fn sin(&self) -> Result<Tensor> {
        self.unary_op(UnaryOp::Sin, "sin", |g, _, x| g.mul(&x.cos()?))
    }

    /// Cosine (radians), as `torch.cos`.
    pub fn cos(&self) -> Result<Tensor> {
        self.unary_op(UnaryOp::Cos, "cos", |g, _, x| g.mul(&x.sin()?.neg()?))
    }

    /// `self * sigmoid(self)`, as `torch.nn.functional.silu`.
    pub fn silu(&self) -> Result<Tensor> {
        self.unary_op(UnaryOp::Silu, "silu", |g, _, x| {
            g.mul(&Tensor::from_storage(
                x.storage().unary(UnaryOp::SiluGrad)?,
                x.shape().clone(),
            ))
        })
    }

    /// GELU with PyTorch's tanh approximation,
    /// `0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))`: `gelu(approximate="tanh")`.
    pub fn gelu_tanh(&self) -> Result<Tensor> {
        self.unary_op(UnaryOp::GeluTanh, "gelu_tanh", |g, _, x| {
            g.mul(&Tensor::from_storage(
                x.storage().unary(UnaryOp::GeluTanhGrad)?,
                x.shape().clone(),
            ))
        })
    }

    /// GELU as `torch.nn.functional.gelu(x, approximate=...)`: `"none"` is the
    /// exact erf form ([`Tensor::gelu`]), `"tanh"` the approximation
    /// ([`Tensor::gelu_tanh`]); any other string is an error.
    ///
    /// ```
    /// use neurite::{Device, Tensor};
    /// let x = Tensor::from_vec(vec![1f64], 1, &Device::cpu()).unwrap();
    /// let y = x.gelu_approximate("tanh").unwrap().to_vec::<f64>().unwrap();
    /// assert!((y[0] - 0.8411919906082768).abs() < 1e-12);
    /// assert!(x.gelu_approximate("fast").is_err());
    /// ```
    pub fn gelu_approximate(&self, approximate: &str) -> Result<Tensor> {
        match GeluApproximate::parse(approximate)? {
            GeluApproximate::None => self.gelu(),
            GeluApproximate::Tanh => self.gelu_tanh(),
        }
    }

    /// `x.clamp(min, max)`: `min(max(self, min), max)`, as `torch.clamp`.
    ///
    /// When `min > max` every element becomes `max` (PyTorch's rule). The
    /// gradient is 1 where `min <= self <= max` and 0 elsewhere, so it is 0
    /// everywhere when `min > max`. NaN elements stay NaN; a NaN bound is an
    /// error (PyTorch would fill the output with NaN).
    ///
    /// ```
    /// use neurite::{Device, Tensor};
    /// let x = Tensor::from_vec(vec![-2f32, 0.5, 3.], 3, &Device::cpu()).unwrap();
    /// assert_eq!(x.clamp(-1.0, 1.0).unwrap().to_vec::<f32>().unwrap(), vec![-1., 0.5, 1.]);
    /// assert_eq!(x.clamp(2.0, 1.0).unwrap().to_vec::<f32>().unwrap(), vec![1., 1., 1.]);
    /// ```
    pub fn clamp(&self, min: f64, max: f64) -> Result<Tensor> {
        self.clamp_op(min, max, "clamp")
    }

    /// `max(self, min)`, as `torch.clamp_min`; the gradient is 1 where `self >= min`.
    pub fn clamp_min(&self, min: f64) -> Result<Tensor> {
        self.clamp_op(min, f64::INFINITY, "clamp_min")
    }

    /// `min(self, max)`, as `torch.clamp_max`; the gradient is 1 where `self <= max`.
    pub fn clamp_max(&self, max: f64) -> Result<Tensor> {
        self.clamp_op(f64::NEG_INFINITY, max, "clamp_max")
    }

    fn clamp_op(&self, min: f64, max: f64, name: &'static str) -> Result<Tensor> {
        if min.is_nan() || max.is_nan() {
            return Err(Error::invalid(
                name,
                format!("bounds must not be NaN, got min {min} and max {max}"),
            ));
        }
        self.unary_op(UnaryOp::Clamp { min, max }, name, move |g, _, x| {
            let inside = x.ge_scalar(min)?.to_dtype(g.dtype())?;
            let below_max = x.le_scalar(max)?.to_dtype(g.dtype())?;
            g.mul(&inside.mul(&below_max)?)
        })
    }

    /// `self + value`.
    pub fn add_scalar(&self, value: f64) -> Result<Tensor> {
        self.affine(1.0, value)
    }

    /// `self - value`.
    pub fn sub_scalar(&self, value: f64) -> Result<Tensor> {
        self.affine(1.0, -value)
    }

    /// `self * value`.
    pub fn mul_scalar(&self, value: f64) -> Result<Tensor> {
        self.affine(value, 0.0)
    }

    /// `self / value`.
    pub fn div_scalar(&self, value: f64) -> Result<Tensor> {
        self.affine(1.0 / value, 0.0)
    }

    fn cmp_scalar(&self, op: CmpOp, value: f64, name: &'static str) -> Result<Tensor> {
        self.unary_no_grad(UnaryOp::CmpScalar(op, value), name)
    }

    /// `self == value` as a [`DType::Bool`](crate::DType::Bool) mask, for any dtype
    /// (compared in `f64`). Use `.to_dtype(DType::F32)` for a 1.0 / 0.0 mask.
    pub fn eq_scalar(&self, value: f64) -> Result<Tensor> {
        self.cmp_scalar(CmpOp::Eq, value, "eq_scalar")
    }
    /// `self != value` as a `Bool` mask.
    pub fn ne_scalar(&self, value: f64) -> Result<Tensor> {
        self.cmp_scalar(CmpOp::Ne, value, "ne_scalar")
    }
    /// `self < value` as a `Bool` mask.
    pub fn lt_scalar(&self, value: f64) -> Result<Tensor> {
        self.cmp_scalar(CmpOp::Lt, value, "lt_scalar")
    }
    /// `self <= value` as a `Bool` mask.
    pub fn le_scalar(&self, value: f64) -> Result<Tensor> {
        self.cmp_scalar(CmpOp::Le, value, "le_scalar")
    }
    /// `self > value` as a `Bool` mask.
    pub fn gt_scalar(&self, value: f64) -> Result<Tensor> {
        self.cmp_scalar(CmpOp::Gt, value, "gt_scalar")
    }
    /// `self >= value` as a `Bool` mask.
    pub fn ge_scalar(&self, value: f64) -> Result<Tensor> {
        self.cmp_scalar(CmpOp::Ge, value, "ge_scalar")
    }
}

/// ReLU's gradient `g` where the output `y` is positive, in one host pass,
/// when no graph of the gradient is being recorded; `None` otherwise.
// Without the `cuda` feature the host is the only backend and the pattern always matches.
#[allow(irrefutable_let_patterns)]
fn relu_grad_on_host(g: &Tensor, y: &Tensor) -> Result<Option<Tensor>> {
    if crate::autograd::is_grad_enabled() || g.shape() != y.shape() {
        return Ok(None);
    }
    let (gs, ys) = (g.storage(), y.storage());
    let (Storage::Cpu(gc), Storage::Cpu(yc)) = (&*gs, &*ys) else {
        return Ok(None);
    };
    Ok(gc
        .relu_backward(yc)?
        .map(|s| Tensor::from_storage(Storage::Cpu(s), g.shape().clone())))
}
