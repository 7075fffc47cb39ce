//! `+ - * /` and unary `-` on tensors, so that research code reads like the math.
//!
//! Every operator returns [`Result<Tensor>`](crate::Result), never a bare
//! [`Tensor`]: a broadcast between incompatible shapes, a dtype or device
//! mismatch, or arithmetic on an integer tensor is an error in neurite, not a
//! panic (the same choice as candle). An expression therefore ends in one `?`.
//!
//! The operators are implemented for every pairing of `Tensor` and `&Tensor`;
//! of either with a scalar on the right (`f64`, `f32`, or any other element type:
//! `&x * 2.0`, `&x / lr`, `&x + 1`) or an `f64` on the left (`2.0 * &x`,
//! `1.0 - &x`, `1.0 / &x`); and of a tensor with a `Result<Tensor>` on either
//! side, so that the result of one operator can feed the next and the first
//! error propagates to the final `?`:
//!
//! ```
//! use neurite::{Device, Tensor};
//! # fn main() -> neurite::Result<()> {
//! let dev = Device::cpu();
//! let a = Tensor::from_vec(vec![1f32, 2., 3.], 3, &dev)?;
//! let b = Tensor::from_vec(vec![10f32, 20., 30.], 3, &dev)?;
//! let c = (&a * &b + &a)?; // Result<Tensor> + &Tensor
//! assert_eq!(c.to_vec::<f32>()?, vec![11., 42., 93.]);
//! let d = ((&a - &b)? * 0.5)?; // `?` before the scalar: see below
//! assert_eq!(d.to_vec::<f32>()?, vec![-4.5, -9., -13.5]);
//! let e = (-&a)?;
//! assert_eq!(e.to_vec::<f32>()?, vec![-1., -2., -3.]);
//! // A failed broadcast travels through the chain to the `?`.
//! let bad = Tensor::from_vec(vec![1f32, 2.], 2, &dev)?;
//! assert!((&a + &bad + &a).is_err());
//! # Ok(()) }
//! ```
//!
//! Rust's orphan rule forbids implementing a std trait when neither side is a
//! type of this crate, so `Result<Tensor> * 2.0`, `-(Result<Tensor>)` and
//! `Result<Tensor> + Result<Tensor>` cannot exist: apply `?` to the inner
//! result first, as in `((&a + &b)? * 2.0)?`. An `f32` on the left is left out
//! on purpose: a second left-hand impl would make the literal in every
//! `2.0 * &x` ambiguous, and its result unusable without a type annotation;
//! write `&x * lr` or `f64::from(lr) * &x`.
//!
//! Each operator calls the named method ([`Tensor::add`], [`Tensor::mul_scalar`],
//! ...), so autograd records exactly the same graph as the method form. A scalar
//! on the left follows PyTorch: `s - x` is `x.affine(-1, s)` and `s / x` is
//! `x.recip() * s`, as in `Tensor.__rsub__` and `Tensor.__rtruediv__`.

use crate::{Result, Tensor, WithDType};
use std::ops::{Add, Div, Mul, Neg, Sub};

/// Tensor (owned or borrowed) with tensor (owned, borrowed or a `Result`).
macro_rules! tensor_ops {
    ($trait:ident, $fn:ident) => {
        tensor_ops!(@pair $trait, $fn, Tensor, Tensor, |l, r| Tensor::$fn(&l, &r));
        tensor_ops!(@pair $trait, $fn, Tensor, &Tensor, |l, r| Tensor::$fn(&l, r));
        tensor_ops!(@pair $trait, $fn, &Tensor, Tensor, |l, r| Tensor::$fn(l, &r));
        tensor_ops!(@pair $trait, $fn, &Tensor, &Tensor, |l, r| Tensor::$fn(l, r));
        tensor_ops!(@pair $trait, $fn, Result<Tensor>, Tensor, |l, r| Tensor::$fn(&l?, &r));
        tensor_ops!(@pair $trait, $fn, Result<Tensor>, &Tensor, |l, r| Tensor::$fn(&l?, r));
        tensor_ops!(@pair $trait, $fn, Tensor, Result<Tensor>, |l, r| Tensor::$fn(&l, &r?));
        tensor_ops!(@pair $trait, $fn, &Tensor, Result<Tensor>, |l, r| Tensor::$fn(l, &r?));
    };
    (@pair $trait:ident, $fn:ident, $lhs:ty, $rhs:ty, |$l:ident, $r:ident| $body:expr) => {
        impl $trait<$rhs> for $lhs {
            type Output = Result<Tensor>;
            fn $fn(self, rhs: $rhs) -> Result<Tensor> {
                let ($l, $r) = (self, rhs);
                $body
            }
        }
    };
}

tensor_ops!(Add, add);
tensor_ops!(Sub, sub);
tensor_ops!(Mul, mul);
tensor_ops!(Div, div);

/// Tensor (owned or borrowed) with a scalar: `$right(t, s)` is `t op s` and
/// `$left(t, s)` is `s op t`.
///
/// On the right, one impl generic over [`WithDType`] takes every scalar type
/// (`f64`, `f32`, `i64`, `half::f16`, ...); being the only impl that can match a
/// number, it keeps `&x * 2.0` and `&x * 2` fully inferred. On the left only `f64`
/// is implemented (the orphan rule forbids a generic impl there): a second
/// concrete impl for `f32` would make every `2.0 * &x` ambiguous, and the
/// result could then not be used without a type annotation.
macro_rules! scalar_ops {
    ($trait:ident, $fn:ident, $right:expr, $left:expr) => {
        impl<S: WithDType> $trait<S> for Tensor {
            type Output = Result<Tensor>;
            fn $fn(self, rhs: S) -> Result<Tensor> {
                ($right)(&self, rhs.to_f64())
            }
        }
        impl<S: WithDType> $trait<S> for &Tensor {
            type Output = Result<Tensor>;
            fn $fn(self, rhs: S) -> Result<Tensor> {
                ($right)(self, rhs.to_f64())
            }
        }
        impl $trait<Tensor> for f64 {
            type Output = Result<Tensor>;
            fn $fn(self, rhs: Tensor) -> Result<Tensor> {
                ($left)(&rhs, self)
            }
        }
        impl $trait<&Tensor> for f64 {
            type Output = Result<Tensor>;
            fn $fn(self, rhs: &Tensor) -> Result<Tensor> {
                ($left)(rhs, self)
            }
        }
    };
}

scalar_ops!(Add, add, |t: &Tensor, s| t.add_scalar(s), |t: &Tensor, s| t
    .add_scalar(s));
scalar_ops!(Sub, sub, |t: &Tensor, s| t.sub_scalar(s), |t: &Tensor, s| t
    .affine(-1.0, s));
scalar_ops!(Mul, mul, |t: &Tensor, s| t.mul_scalar(s), |t: &Tensor, s| t
    .mul_scalar(s));
scalar_ops!(Div, div, |t: &Tensor, s| t.div_scalar(s), |t: &Tensor, s| t
    .recip()?
    .mul_scalar(s));

impl Neg for Tensor {
    type Output = Result<Tensor>;
    fn neg(self) -> Result<Tensor> {
        Tensor::neg(&self)
    }
}

impl Neg for &Tensor {
    type Output = Result<Tensor>;
    fn neg(self) -> Result<Tensor> {
        Tensor::neg(self)
    }
}
