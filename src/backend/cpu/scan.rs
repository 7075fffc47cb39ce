//! Inclusive scans (running sums and products) along the middle axis of an
//! `(outer, len, inner)` view. Each column is accumulated strictly in order,
//! in the compute type, so that the CUDA kernel (kernels/scan.cu) gives the
//! same bits.

use super::buffer;
use super::float::CpuFloat;
use super::parallel::PAR_MIN_ELEMS;
use crate::backend::ScanOp;
use crate::shape::checked_numel;
use crate::{Error, Result};
use rayon::prelude::*;

/// Scans one `(o, ·)` slab of `len * inner` elements into `dst`.
fn scan_slab<T: CpuFloat>(src: &[T], op: ScanOp, len: usize, inner: usize, reverse: bool, dst: &mut [T]) {
    let combine = |a: T, b: T| match op {
        ScanOp::Sum => a + b,
        ScanOp::Prod => a * b,
    };
    let mut prev: Option<usize> = None;
    for s in 0..len {
        let l = if reverse { len - 1 - s } else { s };
        let (at, src_row) = (l * inner, &src[l * inner..(l + 1) * inner]);
        match prev {
            None => dst[at..at + inner].copy_from_slice(src_row),
            Some(p) => {
                // Rows `p` and `l` are disjoint: split so that both can be borrowed.
                let (a, b) = if p < l {
                    let (lo, hi) = dst.split_at_mut(at);
                    (&lo[p * inner..(p + 1) * inner], &mut hi[..inner])
                } else {
                    let (lo, hi) = dst.split_at_mut(p * inner);
                    (&hi[..inner], &mut lo[at..at + inner])
                };
                for ((d, &acc), &v) in b.iter_mut().zip(a).zip(src_row) {
                    *d = combine(acc, v);
                }
            }
        }
        prev = Some(l);
    }
}

/// The inclusive scan of each row along the middle axis.
pub(super) fn scan<T: CpuFloat>(
    x: &[T],
    op: ScanOp,
    outer: usize,
    len: usize,
    inner: usize,
    reverse: bool,
) -> Result<Vec<T>> {
    let n = checked_numel(&[outer, len, inner], "scan")?;
    if n != x.len() {
        return Err(Error::invalid(
            "scan",
            format!("cannot view {} elements as ({outer}, {len}, {inner})", x.len()),
        ));
    }
    let mut out: Vec<T> = buffer::zeroed(n)?;
    if n == 0 {
        return Ok(out);
    }
    let slab = len * inner;
    let work = |(src, dst): (&[T], &mut [T])| scan_slab(src, op, len, inner, reverse, dst);
    if n >= PAR_MIN_ELEMS && outer > 1 {
        x.par_chunks(slab).zip(out.par_chunks_mut(slab)).for_each(work);
    } else {
        x.chunks(slab).zip(out.chunks_mut(slab)).for_each(work);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forward_and_reverse_along_both_layouts() {
        let x = [1.0f64, 2.0, 3.0, 4.0, 5.0, 6.0];
        assert_eq!(
            scan(&x, ScanOp::Sum, 2, 3, 1, false).unwrap(),
            vec![1., 3., 6., 4., 9., 15.]
        );
        assert_eq!(
            scan(&x, ScanOp::Sum, 2, 3, 1, true).unwrap(),
            vec![6., 5., 3., 15., 11., 6.]
        );
        // (1, 3, 2): columns [1, 3, 5] and [2, 4, 6].
        assert_eq!(
            scan(&x, ScanOp::Prod, 1, 3, 2, false).unwrap(),
            vec![1., 2., 3., 8., 15., 48.]
        );
        assert_eq!(
            scan(&x, ScanOp::Sum, 1, 3, 2, true).unwrap(),
            vec![9., 12., 8., 10., 5., 6.]
        );
    }
}
