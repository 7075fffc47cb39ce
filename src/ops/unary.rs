//! Element-wise maps of one tensor, and arithmetic with scalars.

use crate::autograd::Node;
use crate::backend::{CmpOp, UnaryOp};
use crate::{Error, Result, Tensor};

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
        self.unary_op(UnaryOp::Relu, "relu", |g, _, x| {
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

    /// `self ^ exponent`.
    pub fn powf(&self, exponent: f64) -> Result<Tensor> {
        self.unary_op(UnaryOp::Powf(exponent), "powf", move |g, _, x| {
            g.mul(&x.powf(exponent - 1.0)?.affine(exponent, 0.0)?)
        })
    }

    /// Limits values to `[min, max]`; the gradient is zero outside.
    pub fn clamp(&self, min: f64, max: f64) -> Result<Tensor> {
        if min > max || min.is_nan() || max.is_nan() {
            return Err(Error::invalid("clamp", format!("min {min} must not exceed max {max}")));
        }
        self.unary_op(UnaryOp::Clamp { min, max }, "clamp", move |g, _, x| {
            let inside = x.ge_scalar(min)?.logical_and(&x.le_scalar(max)?)?;
            g.mul(&inside.to_dtype(g.dtype())?)
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
