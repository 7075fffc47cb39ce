//! `torch.pow`: a tensor raised to a tensor (broadcasting) or to a scalar.

use crate::backend::BinaryOp;
use crate::{Result, Tensor};

/// What [`Tensor::pow`] accepts as the exponent: a tensor (broadcast against
/// the base) or a number (which routes to [`Tensor::powf`]).
pub trait PowExponent {
    /// Computes `base ^ self`.
    fn pow_of(self, base: &Tensor) -> Result<Tensor>;
}

impl PowExponent for &Tensor {
    fn pow_of(self, base: &Tensor) -> Result<Tensor> {
        base.pow_tensor(self)
    }
}

impl PowExponent for Tensor {
    fn pow_of(self, base: &Tensor) -> Result<Tensor> {
        base.pow_tensor(&self)
    }
}

impl PowExponent for f64 {
    fn pow_of(self, base: &Tensor) -> Result<Tensor> {
        base.powf(self)
    }
}

impl PowExponent for f32 {
    fn pow_of(self, base: &Tensor) -> Result<Tensor> {
        base.powf(f64::from(self))
    }
}

impl PowExponent for i32 {
    fn pow_of(self, base: &Tensor) -> Result<Tensor> {
        base.powf(f64::from(self))
    }
}

impl Tensor {
    /// `self ^ exponent` element-wise, as `torch.pow(self, exponent)`: the
    /// exponent is a tensor (broadcast with `self`) or a number.
    ///
    /// Gradients follow PyTorch: d/d`self` is `exponent * self^(exponent - 1)`,
    /// taken as 0 where the exponent is 0; d/d`exponent` is `self^exponent * ln(self)`,
    /// taken as 0 where `self == 0` and `exponent >= 0` (NaN for a negative base,
    /// whose logarithm is undefined).
    ///
    /// ```
    /// use neurite::{Device, Tensor};
    /// let dev = Device::cpu();
    /// let a = Tensor::from_vec(vec![2f32, 3., -2.], 3, &dev).unwrap();
    /// let b = Tensor::from_vec(vec![3f32, 0.5, 2.], 3, &dev).unwrap();
    /// let y = a.pow(&b).unwrap().to_vec::<f32>().unwrap();
    /// assert_eq!((y[0], y[2]), (8.0, 4.0));
    /// assert_eq!(a.pow(2.0).unwrap().to_vec::<f32>().unwrap(), vec![4., 9., 4.]);
    /// ```
    pub fn pow<E: PowExponent>(&self, exponent: E) -> Result<Tensor> {
        exponent.pow_of(self)
    }

    fn pow_tensor(&self, exponent: &Tensor) -> Result<Tensor> {
        self.require_float("pow")?;
        self.binary_op(exponent, BinaryOp::Pow, "pow", |g, y, a, b| {
            let zeros = g.zeros_like()?;
            let ga = if a.tracks_grad() {
                let exponent_zero = b.eq_scalar(0.0)?;
                let d = b.mul(&a.pow_tensor(&b.add_scalar(-1.0)?)?)?;
                Some(exponent_zero.where_cond(&zeros, &g.mul(&d)?)?)
            } else {
                None
            };
            let gb = if b.tracks_grad() {
                let dtype = g.dtype();
                let base_zero = a.eq_scalar(0.0)?.to_dtype(dtype)?;
                let nonneg = b.ge_scalar(0.0)?.to_dtype(dtype)?;
                let skip = base_zero.mul(&nonneg)?;
                Some(skip.where_cond(&zeros, &g.mul(&y.mul(&a.log()?)?)?)?)
            } else {
                None
            };
            Ok((ga, gb))
        })
    }
}
