//! Index-driven kernels: index_select, gather and their adjoints.

use super::buffer;
use super::float::CpuFloat;
use crate::shape::checked_numel;
use crate::{Error, Result};

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
    if ids.is_empty() || inner == 0 {
        return Ok(out);
    }
    for o in 0..outer {
        for j in 0..n_ids {
            for i in 0..inner {
                let pos = (o * n_ids + j) * inner + i;
                out[(o * dim + ids[pos] as usize) * inner + i] += g[pos];
            }
        }
    }
    Ok(out)
}
