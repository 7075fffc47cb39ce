//! Integer kernels: PyTorch's integer semantics, wrapping on overflow, with
//! floor division and remainder that round toward negative infinity and a
//! zero divisor reported as an error rather than a trap.

use super::buffer;
use super::elementwise::binary_map;
use crate::backend::{BinaryLayout, BinaryOp, ReduceOp, UnaryOp};
use crate::shape::checked_numel;
use crate::{DType, Error, Result, WithDType};

/// The integer element types (`u8`, `i8`, `i32`, `i64`).
pub(crate) trait CpuInt: WithDType + Ord + Default + Send + Sync {
    const ZERO: Self;
    const ONE: Self;
    fn wrapping_add(self, o: Self) -> Self;
    fn wrapping_sub(self, o: Self) -> Self;
    fn wrapping_mul(self, o: Self) -> Self;
    fn wrapping_neg(self) -> Self;
    /// `|x|`, wrapping (`abs(i8::MIN)` is `i8::MIN`, as in PyTorch).
    fn wrapping_abs(self) -> Self;
    /// Floor division; `o` is nonzero. Wraps for `MIN / -1`.
    fn floor_div(self, o: Self) -> Self;
    /// Remainder with the sign of `o`; `o` is nonzero.
    fn floor_rem(self, o: Self) -> Self;
}

/// `CpuInt` for `$t`: the wrapping arithmetic is the primitive's own; `abs`,
/// floor division and the floor remainder differ between signed and unsigned
/// types and are given as bodies.
macro_rules! cpu_int {
    ($t:ty, abs($a:ident) $abs:block, floor_div($x:ident, $y:ident) $div:block, floor_rem($p:ident, $q:ident) $rem:block) => {
        impl CpuInt for $t {
            const ZERO: Self = 0;
            const ONE: Self = 1;
            #[inline]
            fn wrapping_add(self, o: Self) -> Self {
                <$t>::wrapping_add(self, o)
            }
            #[inline]
            fn wrapping_sub(self, o: Self) -> Self {
                <$t>::wrapping_sub(self, o)
            }
            #[inline]
            fn wrapping_mul(self, o: Self) -> Self {
                <$t>::wrapping_mul(self, o)
            }
            #[inline]
            fn wrapping_neg(self) -> Self {
                <$t>::wrapping_neg(self)
            }
            #[inline]
            fn wrapping_abs(self) -> Self {
                let $a = self;
                $abs
            }
            #[inline]
            fn floor_div(self, o: Self) -> Self {
                let ($x, $y) = (self, o);
                $div
            }
            #[inline]
            fn floor_rem(self, o: Self) -> Self {
                let ($p, $q) = (self, o);
                $rem
            }
        }
    };
}

macro_rules! signed_int {
    ($($t:ty),*) => {$(
        cpu_int!(
            $t,
            abs(x) { x.wrapping_abs() },
            floor_div(x, o) {
                let q = x.wrapping_div(o);
                // Truncation rounded toward zero; step down when inexact and negative.
                if x.wrapping_rem(o) != 0 && ((x < 0) != (o < 0)) { q - 1 } else { q }
            },
            floor_rem(x, o) {
                let r = x.wrapping_rem(o);
                if r != 0 && ((r < 0) != (o < 0)) { r + o } else { r }
            }
        );
    )*};
}
signed_int!(i64, i32, i8);
cpu_int!(u8, abs(x) { x }, floor_div(x, o) { x / o }, floor_rem(x, o) { x % o });

/// The clamp bounds of an integer `dtype` for bounds given as `f64`: a bound
/// between two integers clamps to the integers inside it (so `clamp(x, 0.5,
/// 2.5)` keeps 1 and 2), and bounds beyond the type's range stop at its ends.
/// Shared with the CUDA backend, whose kernel receives the result.
pub(crate) fn clamp_bounds(dtype: DType, min: f64, max: f64) -> (i64, i64) {
    let (lo, hi) = match dtype {
        DType::U8 => (0, u8::MAX as i64),
        DType::I8 => (i8::MIN as i64, i8::MAX as i64),
        DType::I32 => (i32::MIN as i64, i32::MAX as i64),
        _ => (i64::MIN, i64::MAX),
    };
    let bound = |v: f64| {
        if v.is_nan() || v <= lo as f64 {
            lo
        } else if v >= hi as f64 {
            hi
        } else {
            v as i64
        }
    };
    (bound(min.ceil()), bound(max.floor()))
}

pub(super) fn unary<T: CpuInt>(x: &[T], op: UnaryOp) -> Result<Vec<T>> {
    let unsupported = || Error::UnsupportedDType {
        op: "unary",
        dtype: T::DTYPE,
        hint: " (this map is defined for float dtypes only: cast with to_dtype(DType::F32) first)",
    };
    match op {
        UnaryOp::Neg => buffer::par_map(x, |&v| v.wrapping_neg()),
        UnaryOp::Abs => buffer::par_map(x, |&v| v.wrapping_abs()),
        UnaryOp::Sqr => buffer::par_map(x, |&v| v.wrapping_mul(v)),
        UnaryOp::Relu => buffer::par_map(x, |&v| v.max(T::ZERO)),
        UnaryOp::Sign => buffer::par_map(x, |&v| {
            if v > T::ZERO {
                T::ONE
            } else if v < T::ZERO {
                T::ONE.wrapping_neg()
            } else {
                T::ZERO
            }
        }),
        UnaryOp::Clamp { min, max } => {
            let (lo, hi) = clamp_bounds(T::DTYPE, min, max);
            let (lo, hi) = (T::from_i64(lo), T::from_i64(hi));
            buffer::par_map(x, move |&v| v.max(lo).min(hi))
        }
        _ => Err(unsupported()),
    }
}

pub(super) fn binary<T: CpuInt>(a: &[T], b: &[T], op: BinaryOp, layout: &BinaryLayout) -> Result<Vec<T>> {
    match op {
        BinaryOp::Add => binary_map(a, b, layout, |x, y| x.wrapping_add(y)),
        BinaryOp::Sub => binary_map(a, b, layout, |x, y| x.wrapping_sub(y)),
        BinaryOp::Mul => binary_map(a, b, layout, |x, y| x.wrapping_mul(y)),
        BinaryOp::Maximum => binary_map(a, b, layout, |x, y| x.max(y)),
        BinaryOp::Minimum => binary_map(a, b, layout, |x, y| x.min(y)),
        BinaryOp::FloorDivide | BinaryOp::Remainder => {
            let name = if op == BinaryOp::FloorDivide {
                "floor_divide"
            } else {
                "remainder"
            };
            // Only the divisors the layout reads count: a zero the broadcast
            // never touches is not an error.
            let hit = binary_map(a, b, layout, |_, y| y == T::ZERO)?;
            if hit.contains(&true) {
                return Err(Error::invalid(
                    name,
                    format!("integer division by zero (dtype {})", T::DTYPE),
                ));
            }
            if op == BinaryOp::FloorDivide {
                binary_map(a, b, layout, |x, y| x.floor_div(y))
            } else {
                binary_map(a, b, layout, |x, y| x.floor_rem(y))
            }
        }
        BinaryOp::Pow => Err(Error::UnsupportedDType {
            op: "pow",
            dtype: T::DTYPE,
            hint: " (pow takes floating-point tensors: cast with to_dtype first)",
        }),
        BinaryOp::Div => Err(Error::UnsupportedDType {
            op: "div",
            dtype: T::DTYPE,
            hint: " (true division of integers is computed in float: the tensor op casts first)",
        }),
        BinaryOp::Cmp(_) => Err(Error::invalid("binary", "internal: comparisons return bool buffers")),
    }
}

/// Sum (wrapping), max or min over the middle axis of an `(outer, len, inner)` view.
pub(super) fn reduce<T: CpuInt>(x: &[T], op: ReduceOp, outer: usize, len: usize, inner: usize) -> Result<Vec<T>> {
    let n = checked_numel(&[outer, inner], "reduce")?;
    if len == 0 && n > 0 && op != ReduceOp::Sum {
        return Err(Error::invalid(
            "max/min",
            format!(
                "cannot reduce an integer tensor ({}) over a dimension of size 0",
                T::DTYPE
            ),
        ));
    }
    let mut out = buffer::filled(T::ZERO, n)?;
    if len == 0 || n == 0 {
        return Ok(out);
    }
    for o in 0..outer {
        let dst = &mut out[o * inner..(o + 1) * inner];
        let base = o * len * inner;
        dst.copy_from_slice(&x[base..base + inner]);
        for l in 1..len {
            let src = &x[base + l * inner..base + (l + 1) * inner];
            for (d, &v) in dst.iter_mut().zip(src) {
                *d = match op {
                    ReduceOp::Sum => d.wrapping_add(v),
                    ReduceOp::Max => (*d).max(v),
                    _ => (*d).min(v),
                };
            }
        }
    }
    Ok(out)
}
