//! Element-wise kernels: maps, broadcasting binary ops and selection.

use super::float::CpuFloat;
use super::parallel::{PAR_CHUNK, PAR_MIN_ELEMS};
use crate::backend::{BinaryLayout, BinaryOp, UnaryOp};
use rayon::prelude::*;

fn map<T: Copy + Send + Sync, U: Send, F: Fn(T) -> U + Sync + Send>(x: &[T], f: F) -> Vec<U> {
    if x.len() >= PAR_MIN_ELEMS {
        x.par_iter().with_min_len(PAR_CHUNK).map(|&v| f(v)).collect()
    } else {
        x.iter().map(|&v| f(v)).collect()
    }
}

#[inline]
fn bool_to<T: CpuFloat>(b: bool) -> T {
    if b { T::one() } else { T::zero() }
}

pub(super) fn unary<T: CpuFloat>(x: &[T], op: UnaryOp) -> Vec<T> {
    let c = |v: f64| T::from_f64(v);
    match op {
        UnaryOp::Neg => map(x, |v| -v),
        UnaryOp::Exp => map(x, |v| v.exp()),
        UnaryOp::Log => map(x, |v| v.ln()),
        UnaryOp::Sqrt => map(x, |v| v.sqrt()),
        UnaryOp::Abs => map(x, |v| v.abs()),
        UnaryOp::Sign => map(x, |v| {
            if v > T::zero() {
                T::one()
            } else if v < T::zero() {
                -T::one()
            } else {
                T::zero()
            }
        }),
        UnaryOp::Recip => map(x, |v| v.recip()),
        UnaryOp::Sqr => map(x, |v| v * v),
        UnaryOp::Relu => map(x, |v| if v > T::zero() { v } else { T::zero() }),
        UnaryOp::Sigmoid => map(x, |v| {
            // Two branches keep exp() from overflowing for large |v|.
            if v >= T::zero() {
                T::one() / (T::one() + (-v).exp())
            } else {
                let e = v.exp();
                e / (T::one() + e)
            }
        }),
        UnaryOp::Tanh => map(x, |v| v.tanh()),
        UnaryOp::Gelu => {
            let (half, inv_sqrt2) = (c(0.5), c(std::f64::consts::FRAC_1_SQRT_2));
            map(x, move |v| half * v * (T::one() + (v * inv_sqrt2).erf()))
        }
        UnaryOp::GeluGrad => {
            let (half, inv_sqrt2) = (c(0.5), c(std::f64::consts::FRAC_1_SQRT_2));
            let inv_sqrt_2pi = c(1.0 / (2.0 * std::f64::consts::PI).sqrt());
            map(x, move |v| {
                let cdf = half * (T::one() + (v * inv_sqrt2).erf());
                let pdf = (-half * v * v).exp() * inv_sqrt_2pi;
                cdf + v * pdf
            })
        }
        UnaryOp::Affine { mul, add } => {
            let (m, a) = (c(mul), c(add));
            map(x, move |v| v * m + a)
        }
        UnaryOp::Powf(p) => {
            let p = c(p);
            map(x, move |v| v.powf(p))
        }
        UnaryOp::LeakyRelu(s) => {
            let s = c(s);
            map(x, move |v| if v > T::zero() { v } else { v * s })
        }
        UnaryOp::Clamp { min, max } => {
            let (lo, hi) = (c(min), c(max));
            map(x, move |v| {
                if v < lo {
                    lo
                } else if v > hi {
                    hi
                } else {
                    v
                }
            })
        }
        UnaryOp::CmpScalar(cmp, s) => map(x, move |v| bool_to(cmp.eval(v.to_f64(), s))),
    }
}

pub(super) fn binary<T: CpuFloat>(a: &[T], b: &[T], op: BinaryOp, layout: &BinaryLayout) -> Vec<T> {
    match op {
        BinaryOp::Add => binary_map(a, b, layout, |x, y| x + y),
        BinaryOp::Sub => binary_map(a, b, layout, |x, y| x - y),
        BinaryOp::Mul => binary_map(a, b, layout, |x, y| x * y),
        BinaryOp::Div => binary_map(a, b, layout, |x, y| x / y),
        BinaryOp::Maximum => binary_map(a, b, layout, |x, y| if x >= y || x.is_nan() { x } else { y }),
        BinaryOp::Minimum => binary_map(a, b, layout, |x, y| if x <= y || x.is_nan() { x } else { y }),
        BinaryOp::Cmp(c) => binary_map(a, b, layout, move |x, y| bool_to(c.eval(x.to_f64(), y.to_f64()))),
    }
}

/// Applies `f` over the broadcast layout, one innermost row at a time, with
/// the row loop specialised for the contiguous and broadcast cases so that it
/// vectorises.
pub(super) fn binary_map<T, U, F>(a: &[T], b: &[T], layout: &BinaryLayout, f: F) -> Vec<U>
where
    T: Copy + Send + Sync,
    U: Copy + Send + Sync + Default,
    F: Fn(T, T) -> U + Sync + Send,
{
    let n = layout.elem_count();
    let rank = layout.dims.len();
    if rank == 0 {
        return vec![f(a[0], b[0])];
    }
    let inner = layout.dims[rank - 1];
    let (ls, rs) = (layout.lhs_strides[rank - 1], layout.rhs_strides[rank - 1]);
    let mut out = vec![U::default(); n];
    if inner == 0 {
        return out;
    }
    let row = |r: usize, dst: &mut [U]| {
        let (mut lo, mut ro, mut rem) = (0, 0, r);
        for d in (0..rank - 1).rev() {
            let i = rem % layout.dims[d];
            rem /= layout.dims[d];
            lo += i * layout.lhs_strides[d];
            ro += i * layout.rhs_strides[d];
        }
        match (ls, rs) {
            (1, 1) => {
                for ((o, &x), &y) in dst.iter_mut().zip(&a[lo..lo + inner]).zip(&b[ro..ro + inner]) {
                    *o = f(x, y);
                }
            }
            (1, 0) => {
                let y = b[ro];
                for (o, &x) in dst.iter_mut().zip(&a[lo..lo + inner]) {
                    *o = f(x, y);
                }
            }
            (0, 1) => {
                let x = a[lo];
                for (o, &y) in dst.iter_mut().zip(&b[ro..ro + inner]) {
                    *o = f(x, y);
                }
            }
            _ => {
                for (j, o) in dst.iter_mut().enumerate() {
                    *o = f(a[lo + j * ls], b[ro + j * rs]);
                }
            }
        }
    };
    if n >= PAR_MIN_ELEMS {
        let rows_per_task = PAR_CHUNK.div_ceil(inner).max(1);
        out.par_chunks_mut(inner)
            .enumerate()
            .with_min_len(rows_per_task)
            .for_each(|(r, dst)| row(r, dst));
    } else {
        out.chunks_mut(inner).enumerate().for_each(|(r, dst)| row(r, dst));
    }
    out
}

pub(super) fn select<T: Copy + Send + Sync>(mask: &[bool], t: &[T], f: &[T]) -> Vec<T> {
    mask.iter()
        .zip(t.iter().zip(f))
        .map(|(&m, (&x, &y))| if m { x } else { y })
        .collect()
}
