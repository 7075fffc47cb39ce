//! Reductions over the middle axis of an `(outer, len, inner)` view.

use super::buffer;
use super::float::CpuFloat;
use super::parallel::PAR_MIN_ELEMS;
use crate::Result;
use crate::backend::ReduceOp;
use crate::shape::checked_numel;
use rayon::prelude::*;

/// Eight independent accumulators: faster (vectorised) and more accurate than
/// one running sum over a long row.
fn sum_contiguous<T: CpuFloat>(x: &[T]) -> T {
    let mut acc = [T::zero(); 8];
    let chunks = x.chunks_exact(8);
    let rest = chunks.remainder();
    for c in chunks {
        for i in 0..8 {
            acc[i] += c[i];
        }
    }
    let mut s = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
    for &v in rest {
        s += v;
    }
    s
}

#[inline]
fn pick<T: CpuFloat>(op: ReduceOp, acc: T, v: T) -> T {
    let take = match op {
        ReduceOp::Max => v > acc || v.is_nan(),
        ReduceOp::Min => v < acc || v.is_nan(),
        _ => false,
    };
    if take && !acc.is_nan() { v } else { acc }
}

/// Reduces one output row `out[o, :]` (length `inner`).
fn reduce_row<T: CpuFloat>(x: &[T], op: ReduceOp, o: usize, len: usize, inner: usize, dst: &mut [T]) {
    let base = o * len * inner;
    if inner == 1 {
        let row = &x[base..base + len];
        dst[0] = match op {
            ReduceOp::Sum => sum_contiguous(row),
            _ => row.iter().skip(1).fold(row[0], |a, &v| pick(op, a, v)),
        };
        return;
    }
    dst.copy_from_slice(&x[base..base + inner]);
    for l in 1..len {
        let src = &x[base + l * inner..base + (l + 1) * inner];
        match op {
            ReduceOp::Sum => dst.iter_mut().zip(src).for_each(|(d, &v)| *d += v),
            _ => dst.iter_mut().zip(src).for_each(|(d, &v)| *d = pick(op, *d, v)),
        }
    }
}

pub(super) fn reduce<T: CpuFloat>(x: &[T], op: ReduceOp, outer: usize, len: usize, inner: usize) -> Result<Vec<T>> {
    let mut out = buffer::zeroed(checked_numel(&[outer, inner], "reduce")?)?;
    if len == 0 || out.is_empty() {
        let fill = match op {
            ReduceOp::Sum => T::zero(),
            ReduceOp::Max => T::neg_infinity(),
            _ => T::infinity(),
        };
        out.iter_mut().for_each(|o| *o = fill);
        return Ok(out);
    }
    if x.len() < PAR_MIN_ELEMS {
        out.chunks_mut(inner)
            .enumerate()
            .for_each(|(o, dst)| reduce_row(x, op, o, len, inner, dst));
    } else if outer >= 2 * super::parallel::num_threads() || inner == 1 {
        out.par_chunks_mut(inner)
            .enumerate()
            .for_each(|(o, dst)| reduce_row(x, op, o, len, inner, dst));
    } else {
        // Few, wide rows (a bias gradient summed over the batch): split the columns.
        let cols = inner.div_ceil(super::parallel::num_threads() * 4).max(256);
        for o in 0..outer {
            let base = o * len * inner;
            out[o * inner..(o + 1) * inner]
                .par_chunks_mut(cols)
                .enumerate()
                .for_each(|(c, dst)| {
                    let start = c * cols;
                    for l in 0..len {
                        let src = &x[base + l * inner + start..base + l * inner + start + dst.len()];
                        if l == 0 {
                            dst.copy_from_slice(src);
                        } else if op == ReduceOp::Sum {
                            dst.iter_mut().zip(src).for_each(|(d, &v)| *d += v);
                        } else {
                            dst.iter_mut().zip(src).for_each(|(d, &v)| *d = pick(op, *d, v));
                        }
                    }
                });
        }
    }
    Ok(out)
}

/// Index of the first maximum (or minimum) along the middle axis; NaN wins, as in PyTorch.
pub(super) fn arg_reduce<T: PartialOrd + Copy + Sync + IsNan>(
    x: &[T],
    op: ReduceOp,
    outer: usize,
    len: usize,
    inner: usize,
) -> Result<Vec<i64>> {
    let mut out = buffer::zeroed(checked_numel(&[outer, inner], "arg_reduce")?)?;
    if out.is_empty() {
        return Ok(out);
    }
    if len == 0 {
        return Err(crate::Error::invalid(
            "argmax/argmin",
            "cannot reduce over a dimension of size 0 (the result has no defined index)",
        ));
    }
    let max = op == ReduceOp::ArgMax;
    // The slices run along `inner` (the contiguous axis) for each step `l`, so
    // the compare-and-select vectorises instead of branching on random data.
    // A NaN once taken is kept: it is the first NaN, PyTorch's answer.
    let row = |o: usize, dst: &mut [i64]| {
        if inner == 1 {
            let src = &x[o * len..][..len];
            let (mut b, mut at) = (src[0], 0);
            for (l, &v) in src.iter().enumerate().skip(1) {
                if b.is_nan_value() {
                    break;
                }
                if (if max { v > b } else { v < b }) || v.is_nan_value() {
                    (b, at) = (v, l);
                }
            }
            dst[0] = at as i64;
            return;
        }
        let mut best: Vec<T> = x[o * len * inner..][..inner].to_vec();
        for l in 1..len {
            let src = &x[(o * len + l) * inner..][..inner];
            for ((b, d), &v) in best.iter_mut().zip(dst.iter_mut()).zip(src) {
                let wins = if max { v > *b } else { v < *b };
                if !b.is_nan_value() && (wins || v.is_nan_value()) {
                    *b = v;
                    *d = l as i64;
                }
            }
        }
    };
    if x.len() >= PAR_MIN_ELEMS {
        out.par_chunks_mut(inner).enumerate().for_each(|(o, dst)| row(o, dst));
    } else {
        out.chunks_mut(inner).enumerate().for_each(|(o, dst)| row(o, dst));
    }
    Ok(out)
}

/// NaN detection for the arg-reductions, which also run on integers.
pub(super) trait IsNan {
    /// Whether this is a NaN (never, for integers).
    fn is_nan_value(&self) -> bool;
}

impl IsNan for f32 {
    fn is_nan_value(&self) -> bool {
        self.is_nan()
    }
}

impl IsNan for f64 {
    fn is_nan_value(&self) -> bool {
        self.is_nan()
    }
}

impl IsNan for i64 {
    fn is_nan_value(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// First extremum on ties, first NaN over everything, along a strided
    /// (inner > 1) and a contiguous (inner == 1) axis alike.
    #[test]
    fn arg_reduce_ties_and_nan() {
        let nan = f32::NAN;
        let cols = [
            vec![1.0, 3.0, 3.0, 0.0],
            vec![2.0, nan, 5.0, nan],
            vec![-1.0, -1.0, -4.0, -4.0],
        ];
        let want_max = [1i64, 1, 0];
        let want_min = [3i64, 1, 2];
        for (c, v) in cols.iter().enumerate() {
            for (op, want) in [(ReduceOp::ArgMax, want_max[c]), (ReduceOp::ArgMin, want_min[c])] {
                assert_eq!(arg_reduce(v, op, 1, 4, 1).unwrap(), vec![want], "{v:?} {op:?}");
                // The same values down a strided axis, beside a constant column.
                let strided: Vec<f32> = v.iter().flat_map(|&a| [a, 7.0]).collect();
                assert_eq!(
                    arg_reduce(&strided, op, 1, 4, 2).unwrap(),
                    vec![want, 0],
                    "{v:?} {op:?} strided"
                );
            }
        }
    }
}
