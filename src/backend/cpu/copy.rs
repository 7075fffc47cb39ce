//! Strided gathers and concatenation: the data movement behind shape ops.

use super::buffer;
use super::parallel::{PAR_CHUNK, PAR_MIN_ELEMS};
use crate::Result;
use crate::backend::layout::coalesce;
use rayon::prelude::*;

pub(super) fn copy_strided<T: Copy + Send + Sync + Default>(
    src: &[T],
    offset: usize,
    strides: &[usize],
    shape: &[usize],
) -> Result<Vec<T>> {
    let n = crate::shape::checked_numel(shape, "copy_strided")?;
    let mut out = buffer::filled(T::default(), n)?;
    if n == 0 {
        return Ok(out);
    }
    let (dims, strs) = coalesce(shape, strides);
    let rank = dims.len();
    let inner = dims[rank - 1];
    let is = strs[rank - 1];
    let row = |r: usize, dst: &mut [T]| {
        let (mut off, mut rem) = (offset, r);
        for d in (0..rank - 1).rev() {
            off += (rem % dims[d]) * strs[d];
            rem /= dims[d];
        }
        match is {
            1 => dst.copy_from_slice(&src[off..off + inner]),
            0 => dst.fill(src[off]),
            _ => dst.iter_mut().enumerate().for_each(|(j, o)| *o = src[off + j * is]),
        }
    };
    if n >= PAR_MIN_ELEMS {
        out.par_chunks_mut(inner)
            .enumerate()
            .with_min_len(PAR_CHUNK.div_ceil(inner).max(1))
            .for_each(|(r, d)| row(r, d));
    } else {
        out.chunks_mut(inner).enumerate().for_each(|(r, d)| row(r, d));
    }
    Ok(out)
}

/// Concatenates `(outer, inner_i)` blocks along the inner axis.
pub(super) fn cat<T: Copy>(parts: &[&[T]], outer: usize) -> Result<Vec<T>> {
    let total = parts.iter().try_fold(0usize, |acc, p| {
        crate::shape::checked_add(acc, p.len(), "cat", "total length")
    })?;
    let mut out = buffer::with_capacity(total)?;
    if outer == 0 || total == 0 {
        return Ok(out);
    }
    let inners: Vec<usize> = parts.iter().map(|p| p.len() / outer).collect();
    for o in 0..outer {
        for (p, &w) in parts.iter().zip(&inners) {
            out.extend_from_slice(&p[o * w..(o + 1) * w]);
        }
    }
    Ok(out)
}
