//! Matrix products through the `gemm` crate.

use super::float::CpuFloat;
use super::parallel::num_threads;
use crate::backend::MatmulSpec;
use gemm::Parallelism;

/// Below this many multiply-adds a product runs on one thread: spreading a
/// tiny GEMM over the pool costs more than it saves.
const PAR_MIN_FLOPS: usize = 1 << 17;

pub(super) fn matmul<T: CpuFloat>(a: &[T], b: &[T], s: &MatmulSpec) -> Vec<T> {
    let (m, n, k) = (s.m, s.n, s.k);
    let mut out = vec![T::zero(); s.batch * m * n];
    if m == 0 || n == 0 {
        return out;
    }
    // Row and column strides of each operand as stored.
    let (a_rs, a_cs) = if s.lhs_transposed { (1, m) } else { (k, 1) };
    let (b_rs, b_cs) = if s.rhs_transposed { (1, k) } else { (n, 1) };
    let par = if m * n * k >= PAR_MIN_FLOPS && num_threads() > 1 {
        Parallelism::Rayon(num_threads())
    } else {
        Parallelism::None
    };
    for bi in 0..s.batch {
        let a_ptr = a[bi * s.lhs_batch_stride..].as_ptr();
        let b_ptr = b[bi * s.rhs_batch_stride..].as_ptr();
        let dst = out[bi * m * n..].as_mut_ptr();
        // SAFETY: the tensor layer checked that each operand holds
        // `batch_stride * (batch - 1) + m * k` (resp. `k * n`) elements and the
        // strides above address exactly that matrix; `out` is `batch * m * n`.
        unsafe {
            gemm::gemm(
                m,
                n,
                k,
                dst,
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
    out
}
