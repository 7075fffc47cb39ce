//! Matrix products through the `gemm` crate.

use super::buffer;
use super::float::CpuFloat;
use super::parallel::num_threads;
use crate::Result;
use crate::backend::MatmulSpec;
use crate::shape::checked_numel;
use gemm::Parallelism;
use rayon::prelude::*;

/// Below this many multiply-adds a product runs on one thread: spreading a
/// tiny GEMM over the pool costs more than it saves.
const PAR_MIN_FLOPS: usize = 1 << 17;

/// Batched products smaller than this (multiply-adds each) are spread over
/// the pool a whole product at a time rather than split one by one.
const PAR_BATCH_MAX_FLOPS: usize = 1 << 22;

pub(super) fn matmul<T: CpuFloat>(a: &[T], b: &[T], s: &MatmulSpec) -> Result<Vec<T>> {
    let (m, n, k) = (s.m, s.n, s.k);
    let mut out = buffer::zeroed(checked_numel(&[s.batch, m, n], "matmul")?)?;
    // An empty output needs no product; with `k == 0` every output is an
    // empty sum, zero, and the operands (empty) are never touched.
    if out.is_empty() || k == 0 {
        return Ok(out);
    }
    s.check_operands(a.len(), b.len())?;
    // Row and column strides of each operand as stored.
    let (a_rs, a_cs) = if s.lhs_transposed { (1, m) } else { (k, 1) };
    let (b_rs, b_cs) = if s.rhs_transposed { (1, k) } else { (n, 1) };
    let threads = num_threads();
    // Many small products (a convolution's per-image GEMMs) run one per task;
    // a few large ones are each spread over the pool instead.
    if s.batch >= threads && threads > 1 && m * n * k < PAR_BATCH_MAX_FLOPS {
        out.par_chunks_mut(m * n).enumerate().for_each(|(bi, dst)| {
            // SAFETY: check_operands verified each operand covers every batch item its strides
            // address (`m * k` / `k * n` from `bi * stride`); `dst` is one `m * n` chunk, disjoint
            // from the other tasks'. Empty products returned above, so m, n, k and the batch are
            // non-zero and no pointer into an empty buffer reaches gemm.
            unsafe { gemm_one(a, b, dst, s, bi, (a_rs, a_cs), (b_rs, b_cs), Parallelism::None) }
        });
        return Ok(out);
    }
    let par = if m * n * k >= PAR_MIN_FLOPS && threads > 1 {
        Parallelism::Rayon(threads)
    } else {
        Parallelism::None
    };
    for (bi, dst) in out.chunks_mut(m * n).enumerate() {
        // SAFETY: `check_operands` verified that each operand holds
        // `batch_stride * (batch - 1) + m * k` (resp. `k * n`) elements and the
        // strides address exactly that matrix; `dst` is one `m * n` output.
        // `m`, `n`, `k` and the batch are non-zero here (empty cases returned above).
        unsafe { gemm_one(a, b, dst, s, bi, (a_rs, a_cs), (b_rs, b_cs), par) }
    }
    Ok(out)
}

/// One `m x n` product of batch item `bi` into `dst`.
///
/// # Safety
/// `a` and `b` must hold batch item `bi` as `s` and the (row, column) strides describe it.
#[allow(clippy::too_many_arguments)]
unsafe fn gemm_one<T: CpuFloat>(
    a: &[T],
    b: &[T],
    dst: &mut [T],
    s: &MatmulSpec,
    bi: usize,
    (a_rs, a_cs): (usize, usize),
    (b_rs, b_cs): (usize, usize),
    par: Parallelism,
) {
    let (m, n, k) = (s.m, s.n, s.k);
    debug_assert_eq!(dst.len(), m * n);
    let a_ptr = a[bi * s.lhs_batch_stride..].as_ptr();
    let b_ptr = b[bi * s.rhs_batch_stride..].as_ptr();
    // SAFETY: the caller guarantees both operands cover item `bi` with these strides (the
    // slicing above is bounds-checked, so a short or empty operand panics there, never read
    // past its end); `dst` holds the `m * n` outputs at row stride `n`; `read_dst` is false,
    // so its old values are never read.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            n as isize,
            false,
            a_ptr,
            a_cs as isize,
            a_rs as isize,
            b_ptr,
            b_cs as isize,
            b_rs as isize,
            T::zero(),
            T::one(),
            false,
            false,
            false,
            par,
        );
    }
}
