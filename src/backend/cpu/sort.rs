//! Stable sorting along the middle axis of an `(outer, len, inner)` view.

use super::buffer;
use super::parallel::PAR_MIN_ELEMS;
use crate::shape::checked_numel;
use crate::{Error, Result};
use rayon::prelude::*;
use std::cmp::Ordering;

/// A value with PyTorch's sort order: NaN above everything, `-0.0 == 0.0`.
pub(super) trait SortKey: Copy + Send + Sync {
    /// Ascending order of `self` against `other`.
    fn sort_cmp(&self, other: &Self) -> Ordering;
}

macro_rules! float_key {
    ($($t:ty),*) => {$(
        impl SortKey for $t {
            #[inline]
            fn sort_cmp(&self, other: &Self) -> Ordering {
                match (self.is_nan(), other.is_nan()) {
                    (true, true) => Ordering::Equal,
                    (true, false) => Ordering::Greater,
                    (false, true) => Ordering::Less,
                    // Neither is NaN, so `partial_cmp` answers.
                    (false, false) => self.partial_cmp(other).unwrap_or(Ordering::Equal),
                }
            }
        }
    )*};
}
float_key!(f32, f64, half::f16, half::bf16);

macro_rules! ord_key {
    ($($t:ty),*) => {$(
        impl SortKey for $t {
            #[inline]
            fn sort_cmp(&self, other: &Self) -> Ordering {
                self.cmp(other)
            }
        }
    )*};
}
ord_key!(i64, i32, i8, u8, bool);

/// Sorts one row (`column`, gathered from the input) into `vals`/`ids`.
fn sort_row<T: SortKey>(column: &[T], descending: bool, vals: &mut [T], ids: &mut [i64]) -> Result<()> {
    let mut order: Vec<usize> = buffer::collect(column.len(), 0..column.len())?;
    // `sort_by` is a stable merge sort; reversing the comparison (not the
    // result) keeps equal elements in input order when descending too.
    if descending {
        order.sort_by(|&a, &b| column[b].sort_cmp(&column[a]));
    } else {
        order.sort_by(|&a, &b| column[a].sort_cmp(&column[b]));
    }
    for ((v, i), &k) in vals.iter_mut().zip(ids.iter_mut()).zip(&order) {
        *v = column[k];
        *i = k as i64;
    }
    Ok(())
}

/// Runs `f(row, vals, ids)` for each row of `len` elements of the two buffers,
/// on the rayon pool when the buffers are large.
fn for_rows<T: SortKey>(
    vals: &mut [T],
    ids: &mut [i64],
    len: usize,
    f: impl Fn(usize, &mut [T], &mut [i64]) -> Result<()> + Sync + Send,
) -> Result<()> {
    if vals.len() >= PAR_MIN_ELEMS {
        vals.par_chunks_mut(len)
            .zip(ids.par_chunks_mut(len))
            .enumerate()
            .try_for_each(|(r, (v, i))| f(r, v, i))
    } else {
        vals.chunks_mut(len)
            .zip(ids.chunks_mut(len))
            .enumerate()
            .try_for_each(|(r, (v, i))| f(r, v, i))
    }
}

/// Values and `I64` source positions of each row sorted along the middle axis.
pub(super) fn sort<T: SortKey + Default>(
    x: &[T],
    outer: usize,
    len: usize,
    inner: usize,
    descending: bool,
) -> Result<(Vec<T>, Vec<i64>)> {
    let n = checked_numel(&[outer, len, inner], "sort")?;
    if n != x.len() {
        return Err(Error::invalid(
            "sort",
            format!("cannot view {} elements as ({outer}, {len}, {inner})", x.len()),
        ));
    }
    let mut vals = buffer::filled(T::default(), n)?;
    let mut ids: Vec<i64> = buffer::zeroed(n)?;
    if n == 0 {
        return Ok((vals, ids));
    }
    if inner == 1 {
        for_rows(&mut vals, &mut ids, len, |r, v, i| {
            sort_row(&x[r * len..(r + 1) * len], descending, v, i)
        })?;
        return Ok((vals, ids));
    }
    // Strided rows: sorted in parallel into `(outer, inner, len)` buffers, whose
    // rows are contiguous, then transposed back; parallel over every row, not
    // only over `outer` (which is 1 when sorting along dim 0).
    let mut tv = buffer::filled(T::default(), n)?;
    let mut ti: Vec<i64> = buffer::zeroed(n)?;
    for_rows(&mut tv, &mut ti, len, |r, v, i| {
        let (o, c) = (r / inner, r % inner);
        let column = buffer::collect(len, (0..len).map(|l| x[(o * len + l) * inner + c]))?;
        sort_row(&column, descending, v, i)
    })?;
    let slab = len * inner;
    let back = |o: usize, v: &mut [T], i: &mut [i64]| {
        for l in 0..len {
            for c in 0..inner {
                let from = (o * inner + c) * len + l;
                v[l * inner + c] = tv[from];
                i[l * inner + c] = ti[from];
            }
        }
        Ok(())
    };
    for_rows(&mut vals, &mut ids, slab, back)?;
    Ok((vals, ids))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_with_nan_largest() {
        let nan = f32::NAN;
        let x = [3.0, nan, 1.0, 3.0, -0.0, 0.0, nan];
        let (v, i) = sort(&x, 1, 7, 1, false).unwrap();
        assert_eq!(i, vec![4, 5, 2, 0, 3, 1, 6]);
        assert!(v[5].is_nan() && v[6].is_nan());
        let (_, i) = sort(&x, 1, 7, 1, true).unwrap();
        assert_eq!(i, vec![1, 6, 0, 3, 2, 4, 5]);
        // Down a strided axis: columns [2, 1, 2] and [0, 5, -1].
        let (v, i) = sort(&[2i64, 0, 1, 5, 2, -1], 1, 3, 2, false).unwrap();
        assert_eq!(v, vec![1, -1, 2, 0, 2, 5]);
        assert_eq!(i, vec![1, 2, 0, 0, 2, 1]);
    }
}
