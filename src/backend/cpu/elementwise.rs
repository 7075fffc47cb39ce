//! Element-wise kernels: maps, broadcasting binary ops and selection.

use super::buffer;
use super::float::CpuFloat;
use super::parallel::{PAR_CHUNK, PAR_MIN_ELEMS};
use crate::backend::{BinaryLayout, BinaryOp, CmpOp, UnaryOp};
use crate::{Result, WithDType};
use rayon::prelude::*;
use std::mem::MaybeUninit;

fn map<T: Copy + Send + Sync, U: Send, F: Fn(T) -> U + Sync + Send>(x: &[T], f: F) -> Result<Vec<U>> {
    let mut out = buffer::with_capacity(x.len())?;
    // Plain loops over matching chunks (not an iterator chain through rayon's
    // collect): the compiler vectorises them and turns comparisons into
    // selects, where a per-item chain left unpredictable branches.
    let fill = |src: &[T], dst: &mut [MaybeUninit<U>]| {
        for (o, &v) in dst.iter_mut().zip(src) {
            o.write(f(v));
        }
    };
    let spare = &mut out.spare_capacity_mut()[..x.len()];
    if x.len() >= PAR_MIN_ELEMS {
        spare
            .par_chunks_mut(PAR_CHUNK)
            .zip(x.par_chunks(PAR_CHUNK))
            .for_each(|(dst, src)| fill(src, dst));
    } else {
        fill(x, spare);
    }
    // SAFETY: `out` has capacity `x.len()` and every one of the first `x.len()`
    // slots was written above (none for an empty input, where the length stays 0).
    unsafe { out.set_len(x.len()) };
    Ok(out)
}

#[inline]
fn bool_to<T: CpuFloat>(b: bool) -> T {
    if b { T::one() } else { T::zero() }
}

/// `sqrt(2 / pi)`, the scale inside the tanh GELU.
const GELU_TANH_BETA: f64 = 0.797_884_560_802_865_4;
/// The cubic coefficient of the tanh GELU.
const GELU_TANH_KAPPA: f64 = 0.044715;

/// The logistic function, in two branches so that `exp` never overflows.
#[inline]
fn sigmoid<T: CpuFloat>(v: T) -> T {
    if v >= T::zero() {
        T::one() / (T::one() + (-v).exp())
    } else {
        let e = v.exp();
        e / (T::one() + e)
    }
}

pub(super) fn unary<T: CpuFloat>(x: &[T], op: UnaryOp) -> Result<Vec<T>> {
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
        // `v < 0` rather than `v > 0`: NaN stays NaN, as in PyTorch, so a NaN
        // input is not laundered into a finite loss.
        UnaryOp::Relu => map(x, |v| if v < T::zero() { T::zero() } else { v }),
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
            // `min(max(v, lo), hi)` in that order: when `lo > hi` every element
            // becomes `hi`, as in PyTorch; NaN fails both tests and stays NaN.
            map(x, move |v| {
                let v = if v < lo { lo } else { v };
                if v > hi { hi } else { v }
            })
        }
        UnaryOp::CmpScalar(cmp, s) => compare_scalar(x, cmp, s).map(|m| m.into_iter().map(bool_to).collect()),
        UnaryOp::Erf => map(x, |v| v.erf()),
        UnaryOp::Sin => map(x, |v| v.sin()),
        UnaryOp::Cos => map(x, |v| v.cos()),
        UnaryOp::Silu => map(x, |v| v * sigmoid(v)),
        UnaryOp::SiluGrad => map(x, |v| {
            let s = sigmoid(v);
            s * (T::one() + v * (T::one() - s))
        }),
        UnaryOp::GeluTanh => {
            let (half, beta, kappa) = (c(0.5), c(GELU_TANH_BETA), c(GELU_TANH_KAPPA));
            map(x, move |v| {
                half * v * (T::one() + (beta * (v + kappa * v * v * v)).tanh())
            })
        }
        UnaryOp::GeluTanhGrad => {
            let (half, beta, kappa, three) = (c(0.5), c(GELU_TANH_BETA), c(GELU_TANH_KAPPA), c(3.0));
            // The same factoring as PyTorch's GeluBackward (tanh), so that both
            // round alike.
            map(x, move |v| {
                let x_sq = v * v;
                let t = (beta * (v + kappa * x_sq * v)).tanh();
                let left = half * v;
                let right = T::one() + t;
                let right_derivative = left * (T::one() - t * t) * beta * (T::one() + three * kappa * x_sq);
                half * right + right_derivative
            })
        }
    }
}

/// Compares against an `f64` scalar exactly (the value widened, never the
/// scalar narrowed), with the comparison chosen once rather than per element
/// so that each loop vectorises. Works on every dtype (`true` is 1).
pub(super) fn compare_scalar<T: WithDType>(x: &[T], cmp: CmpOp, s: f64) -> Result<Vec<bool>> {
    match cmp {
        CmpOp::Eq => map(x, move |v| v.to_f64() == s),
        CmpOp::Ne => map(x, move |v| v.to_f64() != s),
        CmpOp::Lt => map(x, move |v| v.to_f64() < s),
        CmpOp::Le => map(x, move |v| v.to_f64() <= s),
        CmpOp::Gt => map(x, move |v| v.to_f64() > s),
        CmpOp::Ge => map(x, move |v| v.to_f64() >= s),
    }
}

/// Element-wise comparison of two buffers of one dtype, as a `bool` mask.
/// `PartialOrd` on the stored type is exact (integers are never widened,
/// and the 16-bit floats order as their values).
pub(super) fn compare<T: PartialOrd + Copy + Send + Sync>(
    a: &[T],
    b: &[T],
    cmp: CmpOp,
    layout: &BinaryLayout,
) -> Result<Vec<bool>> {
    match cmp {
        CmpOp::Eq => binary_map(a, b, layout, |x, y| x == y),
        CmpOp::Ne => binary_map(a, b, layout, |x, y| x != y),
        CmpOp::Lt => binary_map(a, b, layout, |x, y| x < y),
        CmpOp::Le => binary_map(a, b, layout, |x, y| x <= y),
        CmpOp::Gt => binary_map(a, b, layout, |x, y| x > y),
        CmpOp::Ge => binary_map(a, b, layout, |x, y| x >= y),
    }
}

pub(super) fn binary<T: CpuFloat>(a: &[T], b: &[T], op: BinaryOp, layout: &BinaryLayout) -> Result<Vec<T>> {
    match op {
        BinaryOp::Add => binary_map(a, b, layout, |x, y| x + y),
        BinaryOp::Sub => binary_map(a, b, layout, |x, y| x - y),
        BinaryOp::Mul => binary_map(a, b, layout, |x, y| x * y),
        BinaryOp::Div => binary_map(a, b, layout, |x, y| x / y),
        BinaryOp::Maximum => binary_map(a, b, layout, |x, y| if x >= y || x.is_nan() { x } else { y }),
        BinaryOp::Minimum => binary_map(a, b, layout, |x, y| if x <= y || x.is_nan() { x } else { y }),
        BinaryOp::Pow => binary_map(a, b, layout, |x, y| x.powf(y)),
        BinaryOp::FloorDivide => binary_map(a, b, layout, |x, y| (x / y).floor()),
        BinaryOp::Remainder => binary_map(a, b, layout, float_remainder),
        // Comparisons produce `bool` (see `compare`); the storage layer routes them there.
        BinaryOp::Cmp(c) => compare(a, b, c, layout).map(|m| m.into_iter().map(bool_to).collect()),
    }
}

/// PyTorch's `remainder` for floats: the result has the sign of the divisor
/// (`fmod`, then shifted by `y` when the signs differ).
#[inline]
fn float_remainder<T: CpuFloat>(x: T, y: T) -> T {
    let r = x % y;
    if r != T::zero() && ((r < T::zero()) != (y < T::zero())) {
        r + y
    } else {
        r
    }
}

/// Applies `f` over the broadcast layout, one innermost row at a time, with
/// the row loop specialised for the contiguous and broadcast cases so that it
/// vectorises.
pub(super) fn binary_map<T, U, F>(a: &[T], b: &[T], layout: &BinaryLayout, f: F) -> Result<Vec<U>>
where
    T: Copy + Send + Sync,
    U: Copy + Send + Sync + Default,
    F: Fn(T, T) -> U + Sync + Send,
{
    let n = layout.elem_count();
    let rank = layout.dims.len();
    if rank == 0 {
        return buffer::collect(1, std::iter::once(f(a[0], b[0])));
    }
    let inner = layout.dims[rank - 1];
    let (ls, rs) = (layout.lhs_strides[rank - 1], layout.rhs_strides[rank - 1]);
    let mut out = buffer::with_capacity(n)?;
    if n == 0 {
        return Ok(out);
    }
    let row_start = |r: usize| {
        let (mut lo, mut ro, mut rem) = (0, 0, r);
        for d in (0..rank - 1).rev() {
            let i = rem % layout.dims[d];
            rem /= layout.dims[d];
            lo += i * layout.lhs_strides[d];
            ro += i * layout.rhs_strides[d];
        }
        (lo, ro)
    };
    // Fills `dst`, the output from flat index `start` on, one row piece at a time.
    let fill = |start: usize, dst: &mut [MaybeUninit<U>]| {
        let mut done = 0;
        while done < dst.len() {
            let (r, c) = ((start + done) / inner, (start + done) % inner);
            let len = (inner - c).min(dst.len() - done);
            let (lo, ro) = row_start(r);
            let (lo, ro) = (lo + c * ls, ro + c * rs);
            let piece = &mut dst[done..done + len];
            match (ls, rs) {
                (1, 1) => {
                    for ((o, &x), &y) in piece.iter_mut().zip(&a[lo..lo + len]).zip(&b[ro..ro + len]) {
                        o.write(f(x, y));
                    }
                }
                (1, 0) => {
                    let y = b[ro];
                    for (o, &x) in piece.iter_mut().zip(&a[lo..lo + len]) {
                        o.write(f(x, y));
                    }
                }
                (0, 1) => {
                    let x = a[lo];
                    for (o, &y) in piece.iter_mut().zip(&b[ro..ro + len]) {
                        o.write(f(x, y));
                    }
                }
                _ => {
                    for (j, o) in piece.iter_mut().enumerate() {
                        o.write(f(a[lo + j * ls], b[ro + j * rs]));
                    }
                }
            }
            done += len;
        }
    };
    let spare = &mut out.spare_capacity_mut()[..n];
    if n >= PAR_MIN_ELEMS {
        // Whole short rows per task, or long rows cut into pieces, so that a
        // single coalesced row still spreads over the pool.
        let chunk = if inner >= PAR_CHUNK {
            PAR_CHUNK
        } else {
            inner * PAR_CHUNK.div_ceil(inner)
        };
        spare
            .par_chunks_mut(chunk)
            .enumerate()
            .for_each(|(i, dst)| fill(i * chunk, dst));
    } else {
        fill(0, spare);
    }
    // SAFETY: `out` has capacity `n` and the pieces above cover all `n` slots,
    // each written once (an empty buffer has none, and its length stays 0).
    unsafe { out.set_len(n) };
    Ok(out)
}

pub(super) fn select<T: Copy + Send + Sync>(mask: &[bool], t: &[T], f: &[T]) -> Result<Vec<T>> {
    buffer::collect(
        mask.len(),
        mask.iter()
            .zip(t.iter().zip(f))
            .map(|(&m, (&x, &y))| if m { x } else { y }),
    )
}

/// `f(a[i], b[i])` over two buffers of one length, in parallel when large.
fn zip_map<T: Copy + Send + Sync>(a: &[T], b: &[T], f: impl Fn(T, T) -> T + Sync + Send) -> Result<Vec<T>> {
    let mut out = buffer::with_capacity(a.len())?;
    let fill = |a: &[T], b: &[T], dst: &mut [MaybeUninit<T>]| {
        for ((o, &x), &y) in dst.iter_mut().zip(a).zip(b) {
            o.write(f(x, y));
        }
    };
    let n = a.len().min(b.len());
    let spare = &mut out.spare_capacity_mut()[..n];
    if n >= PAR_MIN_ELEMS {
        spare
            .par_chunks_mut(PAR_CHUNK)
            .zip(a.par_chunks(PAR_CHUNK).zip(b.par_chunks(PAR_CHUNK)))
            .for_each(|(dst, (a, b))| fill(a, b, dst));
    } else {
        fill(a, b, spare);
    }
    // SAFETY: `out` has capacity `a.len() >= n` and its first `n` slots were
    // all written above (none when empty, where the length stays 0).
    unsafe { out.set_len(n) };
    Ok(out)
}

/// `x * scale[c] + shift[c]` for `(outer, channels, inner)` data, `c` each
/// element's channel: BatchNorm's inference form in one pass. Chunks hold
/// whole `inner` planes, so each plane reads its channel's pair once.
fn channel_affine<T: CpuFloat>(x: &[T], scale: &[T], shift: &[T], channels: usize, inner: usize) -> Result<Vec<T>> {
    let plane_elems = channels.saturating_mul(inner);
    if scale.len() != channels || shift.len() != channels || (plane_elems > 0 && !x.len().is_multiple_of(plane_elems)) {
        return Err(crate::Error::invalid(
            "batch_norm",
            format!(
                "internal: {} values are not (outer, {channels}, {inner}) with {} scales and {} shifts",
                x.len(),
                scale.len(),
                shift.len()
            ),
        ));
    }
    let mut out = buffer::with_capacity(x.len())?;
    if x.is_empty() {
        return Ok(out);
    }
    let fill = |first_plane: usize, src: &[T], dst: &mut [MaybeUninit<T>]| {
        for (p, (d, s)) in dst.chunks_mut(inner).zip(src.chunks(inner)).enumerate() {
            let c = (first_plane + p) % channels;
            let (a, b) = (scale[c], shift[c]);
            for (o, &v) in d.iter_mut().zip(s) {
                o.write(v * a + b);
            }
        }
    };
    let spare = &mut out.spare_capacity_mut()[..x.len()];
    if x.len() >= PAR_MIN_ELEMS {
        let chunk = if inner >= PAR_CHUNK {
            inner
        } else {
            inner * (PAR_CHUNK / inner)
        };
        spare
            .par_chunks_mut(chunk)
            .zip(x.par_chunks(chunk))
            .enumerate()
            .for_each(|(i, (dst, src))| fill(i * (chunk / inner), src, dst));
    } else {
        fill(0, x, spare);
    }
    // SAFETY: capacity is `x.len()`; the chunks above cover all of it (whole
    // planes, x.len() a multiple of the plane size), each slot written once;
    // an empty `x` returned before.
    unsafe { out.set_len(x.len()) };
    Ok(out)
}

impl super::CpuStorage {
    /// `self * scale[c] + shift[c]` per channel `c` of `(outer, channels,
    /// inner)` data in one pass; `None` unless all three are f32 or all f64.
    pub(crate) fn channel_affine(
        &self,
        scale: &super::CpuStorage,
        shift: &super::CpuStorage,
        channels: usize,
        inner: usize,
    ) -> Result<Option<super::CpuStorage>> {
        use super::CpuStorage::{F32, F64};
        Ok(match (self, scale, shift) {
            (F32(x), F32(a), F32(b)) => Some(F32(channel_affine(x, a, b, channels, inner)?)),
            (F64(x), F64(a), F64(b)) => Some(F64(channel_affine(x, a, b, channels, inner)?)),
            _ => None,
        })
    }

    /// ReLU's backward in one pass: `grad` where `out > 0`, else zero (`out`
    /// is the forward output; positive exactly where the input was). `None`
    /// unless both are f32 or both f64 buffers of one length; the caller then
    /// composes it from a mask and a product.
    pub(crate) fn relu_backward(&self, out: &super::CpuStorage) -> Result<Option<super::CpuStorage>> {
        use super::CpuStorage::{F32, F64};
        Ok(match (self, out) {
            (F32(g), F32(y)) if g.len() == y.len() => Some(F32(zip_map(g, y, |g, y| if y > 0.0 { g } else { 0.0 })?)),
            (F64(g), F64(y)) if g.len() == y.len() => Some(F64(zip_map(g, y, |g, y| if y > 0.0 { g } else { 0.0 })?)),
            _ => None,
        })
    }
}
