//! `std::ops` operators for tensors: `&a + &b`, `&x * 2.0`, `1.0 - &x`, `-&x`.
//!
//! A broadcast can fail (shapes `[2, 3]` and `[4]`), and so can an operand on
//! another device or of another dtype, so every operator returns
//! `neurite::Result<Tensor>`, as candle's do, instead of panicking as burn's
//! do: the crate's rule is errors, not panics. So that tensor expressions
//! chain, a `Result<Tensor>` is also accepted on either side of a tensor (the
//! first error is passed along and one `?` ends the chain: `(&a * &b + &c)?`);
//! Rust's orphan rule forbids `Result<Tensor> (op) scalar`, so a scalar applies
//! to a tensor (`(&a + &b)? * 2.0`):
//!
//! ```
//! use neurite::{DType, Device, Tensor};
//! # fn main() -> neurite::Result<()> {
//! let dev = Device::cpu();
//! let a = Tensor::from_vec(vec![1f32, 2., 3.], 3, &dev)?;
//! let b = Tensor::from_vec(vec![10f32, 20., 30.], 3, &dev)?;
//! let y = (((&a + &b)? * 2.0)? - &a)?;
//! assert_eq!(y.to_vec::<f32>()?, vec![21., 42., 63.]);
//! let z = ((1.0 / &a)? + -&b)?;
//! assert_eq!(z.to_vec::<f32>()?, vec![-9., -19.5, 1. / 3. - 30.]);
//! let bad = Tensor::zeros(2, DType::F32, &dev)?;
//! assert!((&a + &bad).is_err()); // shapes [3] and [2] do not broadcast
//! # Ok(()) }
//! ```
//!
//! The operators call the named methods (`add`, `mul_scalar`, ...), so they
//! record the same autograd graph.

use crate::{Result, Tensor};
use std::ops::{Add, Div, Mul, Neg, Sub};

/// Tensor (op) tensor for every owned / borrowed / `Result` combination.
macro_rules! tensor_tensor {
    ($trait:ident, $method:ident, $call:ident) => {
        impl $trait<&Tensor> for &Tensor {
            type Output = Result<Tensor>;
            fn $method(self, rhs: &Tensor) -> Result<Tensor> {
                self.$call(rhs)
            }
        }
        impl $trait<Tensor> for &Tensor {
            type Output = Result<Tensor>;
            fn $method(self, rhs: Tensor) -> Result<Tensor> {
                self.$call(&rhs)
            }
        }
        impl $trait<&Tensor> for Tensor {
            type Output = Result<Tensor>;
            fn $method(self, rhs: &Tensor) -> Result<Tensor> {
                Tensor::$call(&self, rhs)
            }
        }
        impl $trait<Tensor> for Tensor {
            type Output = Result<Tensor>;
            fn $method(self, rhs: Tensor) -> Result<Tensor> {
                Tensor::$call(&self, &rhs)
            }
        }
        impl $trait<Result<Tensor>> for &Tensor {
            type Output = Result<Tensor>;
            fn $method(self, rhs: Result<Tensor>) -> Result<Tensor> {
                self.$call(&rhs?)
            }
        }
        impl $trait<Result<Tensor>> for Tensor {
            type Output = Result<Tensor>;
            fn $method(self, rhs: Result<Tensor>) -> Result<Tensor> {
                Tensor::$call(&self, &rhs?)
            }
        }
        impl $trait<&Tensor> for Result<Tensor> {
            type Output = Result<Tensor>;
            fn $method(self, rhs: &Tensor) -> Result<Tensor> {
                self?.$call(rhs)
            }
        }
        impl $trait<Tensor> for Result<Tensor> {
            type Output = Result<Tensor>;
            fn $method(self, rhs: Tensor) -> Result<Tensor> {
                self?.$call(&rhs)
            }
        }
    };
}

tensor_tensor!(Add, add, add);
tensor_tensor!(Sub, sub, sub);
tensor_tensor!(Mul, mul, mul);
tensor_tensor!(Div, div, div);

/// `x (op) scalar` and `scalar (op) x` for `f64` scalars.
macro_rules! tensor_scalar {
    ($scalar:ty) => {
        tensor_scalar!(@one $scalar, Add, add, |t: &Tensor, s: f64| t.add_scalar(s), |s: f64, t: &Tensor| t.add_scalar(s));
        tensor_scalar!(@one $scalar, Sub, sub, |t: &Tensor, s: f64| t.sub_scalar(s), |s: f64, t: &Tensor| t.affine(-1.0, s));
        tensor_scalar!(@one $scalar, Mul, mul, |t: &Tensor, s: f64| t.mul_scalar(s), |s: f64, t: &Tensor| t.mul_scalar(s));
        tensor_scalar!(@one $scalar, Div, div, |t: &Tensor, s: f64| t.div_scalar(s), |s: f64, t: &Tensor| t.recip()?.mul_scalar(s));
    };
    (@one $scalar:ty, $trait:ident, $method:ident, $right:expr, $left:expr) => {
        impl $trait<$scalar> for &Tensor {
            type Output = Result<Tensor>;
            fn $method(self, rhs: $scalar) -> Result<Tensor> {
                ($right)(self, rhs)
            }
        }
        impl $trait<$scalar> for Tensor {
            type Output = Result<Tensor>;
            fn $method(self, rhs: $scalar) -> Result<Tensor> {
                ($right)(&self, rhs)
            }
        }
        impl $trait<&Tensor> for $scalar {
            type Output = Result<Tensor>;
            fn $method(self, rhs: &Tensor) -> Result<Tensor> {
                ($left)(self, rhs)
            }
        }
        impl $trait<Tensor> for $scalar {
            type Output = Result<Tensor>;
            fn $method(self, rhs: Tensor) -> Result<Tensor> {
                ($left)(self, &rhs)
            }
        }
    };
}

// Only `f64`: a second float type would leave literals such as `2.0` ambiguous.
tensor_scalar!(f64);

impl Neg for &Tensor {
    type Output = Result<Tensor>;
    fn neg(self) -> Result<Tensor> {
        Tensor::neg(self)
    }
}

impl Neg for Tensor {
    type Output = Result<Tensor>;
    fn neg(self) -> Result<Tensor> {
        Tensor::neg(&self)
    }
}
