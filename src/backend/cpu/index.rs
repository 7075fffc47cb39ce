//! Index-driven kernels: index_select, gather and their adjoints.

use super::buffer;
use super::float::CpuFloat;
use super::parallel::PAR_MIN_ELEMS;
use crate::shape::checked_numel;
use crate::{Error, Result};
use rayon::prelude::*;

pub(super) fn check_ids(ids: &[i64], dim: usize, op: &'static str) -> Result<()> {
    match ids.iter().find(|&&i| i < 0 || i as usize >= dim) {
        Some(&bad) => Err(Error::IndexOutOfRange {
            op,
            index: bad,
            dim: 0,
            size: dim,
        }),
        None => Ok(()),
    }
}

pub(super) fn index_select<T: Copy>(x: &[T], ids: &[i64], outer: usize, dim: usize, inner: usize) -> Result<Vec<T>> {
    let mut out = buffer::with_capacity(checked_numel(&[outer, ids.len(), inner], "index_select")?)?;
    // With nothing to move, return before looping over `outer`, which can be
    // huge for a zero-element tensor (a shape like `[2^59, 0]`).
    if ids.is_empty() || inner == 0 {
        return Ok(out);
    }
    for o in 0..outer {
        for &i in ids {
            let start = (o * dim + i as usize) * inner;
            out.extend_from_slice(&x[start..start + inner]);
        }
    }
    Ok(out)
}

pub(super) fn index_add<T: CpuFloat>(g: &[T], ids: &[i64], outer: usize, dim: usize, inner: usize) -> Result<Vec<T>> {
    let mut out = buffer::zeroed(checked_numel(&[outer, dim, inner], "index_add")?)?;
    if ids.is_empty() || inner == 0 {
        return Ok(out);
    }
    for o in 0..outer {
        for (j, &i) in ids.iter().enumerate() {
            let dst = (o * dim + i as usize) * inner;
            let src = (o * ids.len() + j) * inner;
            out[dst..dst + inner]
                .iter_mut()
                .zip(&g[src..src + inner])
                .for_each(|(d, &v)| *d += v);
        }
    }
    Ok(out)
}

pub(super) fn gather<T: Copy>(x: &[T], ids: &[i64], outer: usize, dim: usize, inner: usize) -> Result<Vec<T>> {
    let n_ids = ids.len() / (outer * inner).max(1);
    let mut out = buffer::with_capacity(ids.len())?;
    if ids.is_empty() || inner == 0 {
        return Ok(out);
    }
    for o in 0..outer {
        for j in 0..n_ids {
            for i in 0..inner {
                let idx = ids[(o * n_ids + j) * inner + i] as usize;
                out.push(x[(o * dim + idx) * inner + i]);
            }
        }
    }
    Ok(out)
}

pub(super) fn scatter_add<T: CpuFloat>(g: &[T], ids: &[i64], outer: usize, dim: usize, inner: usize) -> Result<Vec<T>> {
    let n_ids = ids.len() / (outer * inner).max(1);
    let mut out = buffer::zeroed(checked_numel(&[outer, dim, inner], "scatter_add")?)?;
    // `dim > 0` below: every index was checked to lie in `0..dim`, so ids exist only then.
    if ids.is_empty() || inner == 0 || dim == 0 {
        return Ok(out);
    }
    let (row, src_row) = (dim * inner, n_ids * inner);
    // Outer slice `o` of the output receives only outer slice `o` of the
    // gradient, so the slices are independent tasks (max pooling's backward
    // scatters one row per image plane).
    let one_slice = |o: usize, dst: &mut [T]| {
        let (gs, is) = (&g[o * src_row..][..src_row], &ids[o * src_row..][..src_row]);
        for (gj, ij) in gs.chunks_exact(inner).zip(is.chunks_exact(inner)) {
            for (i, (&v, &at)) in gj.iter().zip(ij).enumerate() {
                dst[at as usize * inner + i] += v;
            }
        }
    };
    if outer > 1 && ids.len() >= PAR_MIN_ELEMS {
        out.par_chunks_mut(row)
            .enumerate()
            .for_each(|(o, dst)| one_slice(o, dst));
    } else {
        out.chunks_mut(row).enumerate().for_each(|(o, dst)| one_slice(o, dst));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::scatter_add;

    /// The definition, one element at a time.
    fn scatter_add_reference(g: &[f64], ids: &[i64], outer: usize, dim: usize, inner: usize) -> Vec<f64> {
        let n_ids = ids.len() / (outer * inner);
        let mut out = vec![0.0; outer * dim * inner];
        for o in 0..outer {
            for j in 0..n_ids {
                for i in 0..inner {
                    let pos = (o * n_ids + j) * inner + i;
                    out[(o * dim + ids[pos] as usize) * inner + i] += g[pos];
                }
            }
        }
        out
    }

    /// Serial and parallel (from 2^15 indices on) paths, with repeated
    /// indices, against the definition; exact, since every slot's additions
    /// happen in the same order in both.
    #[test]
    fn scatter_add_equals_the_definition() {
        for (outer, n_ids, dim, inner) in [
            (1, 7, 5, 1),
            (3, 4, 6, 2),
            (8, 4096, 300, 1),
            (5, 2000, 40, 4),
            (1, 40_000, 9, 1),
        ] {
            let len = outer * n_ids * inner;
            let g: Vec<f64> = (0..len).map(|i| ((i * 37) % 101) as f64 * 0.25 - 12.0).collect();
            let ids: Vec<i64> = (0..len).map(|i| ((i * 7919 + i / 3) % dim) as i64).collect();
            let got = scatter_add(&g, &ids, outer, dim, inner).unwrap();
            assert_eq!(
                got,
                scatter_add_reference(&g, &ids, outer, dim, inner),
                "{outer}x{n_ids}x{inner} into {dim}"
            );
        }
        assert_eq!(scatter_add::<f64>(&[], &[], 4, 0, 3).unwrap(), Vec::<f64>::new());
        assert_eq!(scatter_add::<f64>(&[], &[], 2, 3, 1).unwrap(), vec![0.0; 6]);
    }
}
