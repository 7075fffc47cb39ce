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

/// From this many multiply-adds on, `gemm`'s own threading (which shares
/// packed panels between threads) is used; below it, a product is cut into
/// one block of rows or columns per thread, each a single-threaded GEMM. On
/// the training-step shapes (`32..128` rows against layers of 256-784) the cut
/// measured 1.1-2.5x faster than `gemm`'s threading on two AVX2 cores
/// (docs/BENCHMARKS.md), and the same at 1024^3.
const PAR_SPLIT_MAX_FLOPS: usize = 1 << 28;

/// Blocks are cut at multiples of this many rows or columns: the `gemm`
/// micro-kernels' tile (16 f32 lanes on AVX2, 32 on AVX-512 is a multiple).
const SPLIT_ALIGN: usize = 16;

/// A rectangle of the output: rows `r0..r0 + rows`, columns `c0..c0 + cols`.
#[derive(Clone, Copy)]
struct Block {
    r0: usize,
    rows: usize,
    c0: usize,
    cols: usize,
}

/// The output pointer, shared by the tasks that write disjoint blocks of it.
#[derive(Clone, Copy)]
struct OutPtr<T>(*mut T);
// SAFETY: only `gemm_block` dereferences the pointer, each task writing a block no other
// task touches (see `split_blocks`); an empty output never makes one (matmul returns first).
unsafe impl<T: Send> Send for OutPtr<T> {}
// SAFETY: as for `Send`: shared between tasks, no element written twice, none for empty outputs.
unsafe impl<T: Send> Sync for OutPtr<T> {}

/// Cuts an `m x n` output into at most `parts` blocks along its longer side,
/// at multiples of [`SPLIT_ALIGN`]; one block when that side is too short.
fn split_blocks(m: usize, n: usize, parts: usize) -> Vec<Block> {
    let (len, along_cols) = if n >= m { (n, true) } else { (m, false) };
    let step = len.div_ceil(parts).div_ceil(SPLIT_ALIGN) * SPLIT_ALIGN;
    (0..len)
        .step_by(step.max(1))
        .map(|start| {
            let size = step.min(len - start);
            if along_cols {
                Block {
                    r0: 0,
                    rows: m,
                    c0: start,
                    cols: size,
                }
            } else {
                Block {
                    r0: start,
                    rows: size,
                    c0: 0,
                    cols: n,
                }
            }
        })
        .collect()
}

pub(super) fn matmul<T: CpuFloat>(a: &[T], b: &[T], s: &MatmulSpec) -> Result<Vec<T>> {
    let (m, n, k) = (s.m, s.n, s.k);
    let len = checked_numel(&[s.batch, m, n], "matmul")?;
    // An empty output needs no product; with `k == 0` every output is an
    // empty sum, zero, and the operands (empty) are never touched.
    if len == 0 || k == 0 {
        return buffer::zeroed(len);
    }
    s.check_operands(a.len(), b.len())?;
    // Every element is written by exactly one GEMM below, which never reads
    // the old value, so the buffer is not zeroed first.
    let mut out = buffer::with_capacity::<T>(len)?;
    let dst = OutPtr(out.as_mut_ptr());
    // Row and column strides of each operand as stored.
    let strides = (
        if s.lhs_transposed { (1, m) } else { (k, 1) },
        if s.rhs_transposed { (1, k) } else { (n, 1) },
    );
    let threads = num_threads();
    let flops = m * n * k;
    let whole = Block {
        r0: 0,
        rows: m,
        c0: 0,
        cols: n,
    };
    if s.batch >= threads && threads > 1 && flops < PAR_BATCH_MAX_FLOPS {
        // Many small products (a convolution's per-image GEMMs) run one per task.
        (0..s.batch).into_par_iter().for_each(|bi| {
            // SAFETY: check_operands verified each operand covers every batch item its strides
            // address; item `bi` writes only its own `m * n` slice of the `batch * m * n` output
            // buffer, disjoint from the other tasks'. Empty products returned above, so the
            // buffer is non-empty and m, n, k are non-zero.
            unsafe { gemm_block(a, b, dst, s, bi, strides, whole, Parallelism::None) }
        });
    } else if threads > 1 && (PAR_MIN_FLOPS..PAR_SPLIT_MAX_FLOPS).contains(&flops) {
        let blocks = split_blocks(m, n, threads);
        for bi in 0..s.batch {
            blocks.par_iter().for_each(|&blk| {
                // SAFETY: operands checked as above; `split_blocks` tiles item `bi`'s `m x n`
                // output without overlap, each task writing its own elements; empty products
                // returned before, so every block is non-empty.
                unsafe { gemm_block(a, b, dst, s, bi, strides, blk, Parallelism::None) }
            });
        }
    } else {
        let par = if flops >= PAR_MIN_FLOPS && threads > 1 {
            Parallelism::Rayon(threads)
        } else {
            Parallelism::None
        };
        for bi in 0..s.batch {
            // SAFETY: operands checked as above; one GEMM at a time writes all of item `bi`;
            // empty products returned before, so the buffer and m, n, k are non-zero.
            unsafe { gemm_block(a, b, dst, s, bi, strides, whole, par) }
        }
    }
    // SAFETY: the capacity is `len`, and the GEMMs above wrote all `batch * m * n`
    // elements (every item, every block; k > 0, so gemm writes each one); an empty
    // output returned before reaching here.
    unsafe { out.set_len(len) };
    Ok(out)
}

/// The `blk` rectangle of batch item `bi`'s `m x n` product, written into `dst`.
///
/// # Safety
/// `a` and `b` must hold batch item `bi` as `s` and the (row, column) strides
/// describe it; `dst` must point to `s.batch * m * n` writable elements, and no
/// other thread may write the same block at the same time.
#[allow(clippy::too_many_arguments)]
unsafe fn gemm_block<T: CpuFloat>(
    a: &[T],
    b: &[T],
    dst: OutPtr<T>,
    s: &MatmulSpec,
    bi: usize,
    ((a_rs, a_cs), (b_rs, b_cs)): ((usize, usize), (usize, usize)),
    blk: Block,
    par: Parallelism,
) {
    let n = s.n;
    // Bounds-checked slicing: a short or empty operand panics here, never read past its end.
    let a_ptr = a[bi * s.lhs_batch_stride + blk.r0 * a_rs..].as_ptr();
    let b_ptr = b[bi * s.rhs_batch_stride + blk.c0 * b_cs..].as_ptr();
    // SAFETY: the caller guarantees operands covering item `bi` and a non-empty output;
    // `blk` lies inside the `m x n` item, so every element gemm writes at row stride `n`
    // is inside the output (never an empty buffer); `read_dst` is false, so the
    // uninitialised output is never read.
    unsafe {
        let out = dst.0.add(bi * s.m * n + blk.r0 * n + blk.c0);
        gemm::gemm(
            blk.rows,
            blk.cols,
            s.k,
            out,
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

#[cfg(test)]
mod tests {
    use super::split_blocks;

    /// The blocks tile the output exactly, for wide, tall and tiny outputs.
    #[test]
    fn split_blocks_tile_the_output() {
        for (m, n, parts) in [
            (128, 512, 2),
            (512, 128, 2),
            (10, 3, 4),
            (33, 1000, 3),
            (1, 1, 2),
            (300, 300, 7),
        ] {
            let mut hit = vec![0u8; m * n];
            for b in split_blocks(m, n, parts) {
                assert!(b.rows > 0 && b.cols > 0);
                for r in b.r0..b.r0 + b.rows {
                    for c in b.c0..b.c0 + b.cols {
                        hit[r * n + c] += 1;
                    }
                }
            }
            assert!(hit.iter().all(|&h| h == 1), "{m}x{n} in {parts}");
        }
    }
}
