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

/// A one-row product (batch-1 inference) is split over threads only from
/// this many multiply-adds: below it, waking the pool's threads costs more
/// than the halved pass over the matrix saves. On the 2-core AVX-512 Xeon the
/// batch-1 784-512-256-10 forward took 57-61 us with every product on one
/// thread against 75 us split two ways (docs/BENCHMARKS.md).
const ONE_ROW_PAR_MIN_FLOPS: usize = 1 << 22;

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

/// What the output holds before the products are added to it.
#[derive(Clone, Copy)]
pub(crate) enum Start<'a, T> {
    /// Nothing: the products are the output.
    Empty,
    /// `bias[j]` in column `j` of every row (a linear layer's bias), length `n`.
    ColumnBias(&'a [T]),
    /// `bias[i]` in row `i` of every batch item (a convolution's per-channel
    /// bias over an `(channels, pixels)` item), length `m`.
    RowBias(&'a [T]),
}

impl<'a, T> Start<'a, T> {
    fn bias(b: &'a [T], rows: bool) -> Self {
        if rows { Start::RowBias(b) } else { Start::ColumnBias(b) }
    }
}

pub(super) fn matmul<T: CpuFloat>(a: &[T], b: &[T], s: &MatmulSpec) -> Result<Vec<T>> {
    matmul_from(a, b, s, Start::Empty)
}

/// `start + a @ b` per batch item, the start written into the output once and
/// the GEMMs accumulating onto it: a bias costs no pass or buffer of its own.
pub(super) fn matmul_from<T: CpuFloat>(a: &[T], b: &[T], s: &MatmulSpec, start: Start<'_, T>) -> Result<Vec<T>> {
    let (m, n, k) = (s.m, s.n, s.k);
    let len = checked_numel(&[s.batch, m, n], "matmul")?;
    match start {
        Start::Empty => {}
        Start::ColumnBias(bias) => check_bias(bias.len(), n)?,
        Start::RowBias(bias) => check_bias(bias.len(), m)?,
    }
    // An empty output needs no product; with `k == 0` every product is an
    // empty sum and the output is its start, the operands never touched.
    if len == 0 || k == 0 {
        return start_only(start, s.batch, m, n, len);
    }
    // Every element is written once below: the start (if any) by the task
    // that then accumulates its block, so the start is still in cache when the
    // GEMM reads it back, and the products by exactly one GEMM each.
    let mut out = buffer::with_capacity::<T>(len)?;
    let accumulate = !matches!(start, Start::Empty);
    s.check_operands(a.len(), b.len())?;
    let dst = OutPtr(out.as_mut_ptr());
    let strides = operand_strides(s);
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
            // SAFETY: check_operands verified each operand covers every batch item its strides address; item `bi`
            // writes only its own `m * n` slice of the `batch * m * n` output buffer, disjoint from the other tasks'.
            // Empty products returned above, so the buffer is non-empty and m, n, k are non-zero.
            unsafe {
                write_start(dst, s, bi, whole, start);
                gemm_block(a, b, dst, s, (bi, bi), strides, whole, Parallelism::None, accumulate)
            }
        });
    } else if threads > 1
        && (PAR_MIN_FLOPS..PAR_SPLIT_MAX_FLOPS).contains(&flops)
        && (m > 1 || flops >= ONE_ROW_PAR_MIN_FLOPS)
    {
        let blocks = split_blocks(m, n, threads);
        for bi in 0..s.batch {
            blocks.par_iter().for_each(|&blk| {
                // SAFETY: operands checked as above; `split_blocks` tiles item `bi`'s `m x n`
                // output without overlap, each task writing its own elements; empty products
                // returned before, so every block is non-empty.
                unsafe {
                    write_start(dst, s, bi, blk, start);
                    gemm_block(a, b, dst, s, (bi, bi), strides, blk, Parallelism::None, accumulate)
                }
            });
        }
    } else {
        let par = if flops >= PAR_MIN_FLOPS.max(if m == 1 { ONE_ROW_PAR_MIN_FLOPS } else { 0 }) && threads > 1 {
            Parallelism::Rayon(threads)
        } else {
            Parallelism::None
        };
        for bi in 0..s.batch {
            // SAFETY: operands checked as above; one GEMM at a time writes all of item `bi`;
            // empty products returned before, so the buffer and m, n, k are non-zero.
            unsafe {
                write_start(dst, s, bi, whole, start);
                gemm_block(a, b, dst, s, (bi, bi), strides, whole, par, accumulate)
            }
        }
    }
    // SAFETY: the capacity is `len`, and the tasks above wrote all `batch * m * n`
    // elements (every item, every block: the start first when there is one, then
    // the GEMM, which with k > 0 writes each element); empty outputs returned before.
    unsafe { out.set_len(len) };
    Ok(out)
}

/// The output of products with `k == 0` (or no elements): every product is
/// an empty sum, so the output is its start.
fn start_only<T: CpuFloat>(start: Start<'_, T>, batch: usize, m: usize, n: usize, len: usize) -> Result<Vec<T>> {
    let mut out = match start {
        Start::Empty => return buffer::zeroed(len),
        _ => buffer::with_capacity::<T>(len)?,
    };
    if len == 0 {
        return Ok(out);
    }
    for _ in 0..batch {
        for r in 0..m {
            match start {
                Start::Empty => {}
                Start::ColumnBias(bias) => out.extend_from_slice(bias),
                Start::RowBias(bias) => out.resize(out.len() + n, bias[r]),
            }
        }
    }
    Ok(out)
}

/// Writes the start of `blk` of output item `oi` (nothing for [`Start::Empty`]).
///
/// # Safety
/// `dst` must point to at least `(oi + 1) * m * n` writable elements, `blk`
/// must lie inside the `m x n` item, the bias must have the length its kind
/// needs (checked by the caller), and no other thread may touch `blk` meanwhile.
// SAFETY: unsafe to call; callers meet the `# Safety` contract above (never an empty output).
unsafe fn write_start<T: Copy>(dst: OutPtr<T>, s: &MatmulSpec, oi: usize, blk: Block, start: Start<'_, T>) {
    if matches!(start, Start::Empty) {
        return;
    }
    for r in blk.r0..blk.r0 + blk.rows {
        // SAFETY: row `r` of `blk` lies inside item `oi`, so the `blk.cols` elements from
        // here are inside the output the caller vouches for, written by this task alone;
        // `blk` is never empty (callers return on empty outputs before making blocks).
        let row = unsafe {
            std::slice::from_raw_parts_mut(
                dst.0
                    .add(oi * s.m * s.n + r * s.n + blk.c0)
                    .cast::<std::mem::MaybeUninit<T>>(),
                blk.cols,
            )
        };
        match start {
            Start::Empty => {}
            Start::RowBias(bias) => row.fill(std::mem::MaybeUninit::new(bias[r])),
            Start::ColumnBias(bias) => {
                for (d, &v) in row.iter_mut().zip(&bias[blk.c0..blk.c0 + blk.cols]) {
                    d.write(v);
                }
            }
        }
    }
}

/// `sum over batch items of a_i @ b_i`, one `m x n` matrix: a convolution's
/// weight gradient (one product per image against the shared weight) without
/// a `batch x m x n` buffer of per-image products and a reduction over it.
/// Each thread owns a block of the output and adds every item's product onto it.
pub(super) fn matmul_batch_sum<T: CpuFloat>(a: &[T], b: &[T], s: &MatmulSpec) -> Result<Vec<T>> {
    let (m, n, k) = (s.m, s.n, s.k);
    let len = checked_numel(&[m, n], "matmul")?;
    if len == 0 || k == 0 || s.batch == 0 {
        return buffer::zeroed(len);
    }
    s.check_operands(a.len(), b.len())?;
    let mut out = buffer::with_capacity::<T>(len)?;
    let dst = OutPtr(out.as_mut_ptr());
    let strides = operand_strides(s);
    let threads = num_threads();
    let total = (m * n * k).saturating_mul(s.batch);
    let parts = if threads > 1 && total >= PAR_MIN_FLOPS {
        threads
    } else {
        1
    };
    split_blocks(m, n, parts).par_iter().for_each(|&blk| {
        for bi in 0..s.batch {
            // SAFETY: operands checked above for every item; the blocks tile the one `m x n` output without overlap,
            // and each task writes its block item after item on one thread; the first GEMM (accumulate false)
            // initialises it, so no uninitialised element is read; the output is non-empty (empty returned above).
            unsafe { gemm_block(a, b, dst, s, (bi, 0), strides, blk, Parallelism::None, bi > 0) }
        }
    });
    // SAFETY: capacity `len`; the blocks cover the output and batch >= 1, so every
    // element was written by the first GEMM of its block; empty outputs returned above.
    unsafe { out.set_len(len) };
    Ok(out)
}

fn check_bias(len: usize, want: usize) -> Result<()> {
    if len == want {
        Ok(())
    } else {
        Err(crate::Error::invalid(
            "matmul",
            format!("internal: a bias of {len} elements for {want} output rows or columns"),
        ))
    }
}

/// The (row, column) strides of each operand as stored.
fn operand_strides(s: &MatmulSpec) -> ((usize, usize), (usize, usize)) {
    (
        if s.lhs_transposed { (1, s.m) } else { (s.k, 1) },
        if s.rhs_transposed { (1, s.k) } else { (s.n, 1) },
    )
}

/// The `blk` rectangle of batch item `bi`'s product, written into output item
/// `oi` (`bi` itself, or 0 when summing over the batch) of `dst`; added onto
/// what the rectangle holds when `accumulate`, else written over it.
///
/// # Safety
/// `a` and `b` must hold batch item `bi` as `s` and the (row, column) strides
/// describe it; `dst` must point to at least `(oi + 1) * m * n` writable
/// elements, initialised inside `blk` when `accumulate`, and no other thread
/// may write the same block at the same time.
#[allow(clippy::too_many_arguments)]
// SAFETY: unsafe to call; callers meet the `# Safety` contract above (never an empty output).
unsafe fn gemm_block<T: CpuFloat>(
    a: &[T],
    b: &[T],
    dst: OutPtr<T>,
    s: &MatmulSpec,
    (bi, oi): (usize, usize),
    ((a_rs, a_cs), (b_rs, b_cs)): ((usize, usize), (usize, usize)),
    blk: Block,
    par: Parallelism,
    accumulate: bool,
) {
    let n = s.n;
    // Bounds-checked slicing: a short or empty operand panics here, never read past its end.
    let a_ptr = a[bi * s.lhs_batch_stride + blk.r0 * a_rs..].as_ptr();
    let b_ptr = b[bi * s.rhs_batch_stride + blk.c0 * b_cs..].as_ptr();
    let alpha = if accumulate { T::one() } else { T::zero() };
    // SAFETY: the caller guarantees operands covering item `bi` and a non-empty output; `blk` lies inside the `m x n`
    // item, so every element gemm writes at row stride `n` is inside the output (never an empty buffer); `read_dst` is
    // only set when the caller initialised the block, so uninitialised memory is never read.
    unsafe {
        let out = dst.0.add(oi * s.m * n + blk.r0 * n + blk.c0);
        gemm::gemm(
            blk.rows,
            blk.cols,
            s.k,
            out,
            1,
            n as isize,
            accumulate,
            a_ptr,
            a_cs as isize,
            a_rs as isize,
            b_ptr,
            b_cs as isize,
            b_rs as isize,
            alpha,
            T::one(),
            false,
            false,
            false,
            par,
        );
    }
}

/// The host products that only f32 and f64 buffers take; `None` for other
/// dtype pairs, whose callers compose the result from plain products.
impl super::CpuStorage {
    /// `bias + self @ rhs` with the bias along rows (`rows`, length `m`) or
    /// columns (length `n`) of every batch item.
    pub(crate) fn matmul_with_bias(
        &self,
        rhs: &Self,
        bias: &Self,
        spec: &MatmulSpec,
        rows: bool,
    ) -> Result<Option<Self>> {
        use super::CpuStorage::{F32, F64};
        Ok(match (self, rhs, bias) {
            (F32(a), F32(b), F32(c)) => Some(F32(matmul_from(a, b, spec, Start::bias(c, rows))?)),
            (F64(a), F64(b), F64(c)) => Some(F64(matmul_from(a, b, spec, Start::bias(c, rows))?)),
            _ => None,
        })
    }

    /// The `m x n` sum of the batch's products (see [`matmul_batch_sum`]).
    pub(crate) fn matmul_summed(&self, rhs: &Self, spec: &MatmulSpec) -> Result<Option<Self>> {
        use super::CpuStorage::{F32, F64};
        Ok(match (self, rhs) {
            (F32(a), F32(b)) => Some(F32(matmul_batch_sum(a, b, spec)?)),
            (F64(a), F64(b)) => Some(F64(matmul_batch_sum(a, b, spec)?)),
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::{Start, matmul_batch_sum, matmul_from, split_blocks};
    use crate::backend::MatmulSpec;

    /// Item `bi` of the spec's product, entry (i, j), summed in f64 from the stored operands.
    fn naive(a: &[f64], b: &[f64], s: &MatmulSpec, bi: usize, i: usize, j: usize) -> f64 {
        (0..s.k)
            .map(|p| {
                let av = if s.lhs_transposed {
                    a[bi * s.lhs_batch_stride + p * s.m + i]
                } else {
                    a[bi * s.lhs_batch_stride + i * s.k + p]
                };
                let bv = if s.rhs_transposed {
                    b[bi * s.rhs_batch_stride + j * s.k + p]
                } else {
                    b[bi * s.rhs_batch_stride + p * s.n + j]
                };
                av * bv
            })
            .sum()
    }

    fn spec(batch: usize, m: usize, n: usize, k: usize, ta: bool, tb: bool, shared_lhs: bool) -> MatmulSpec {
        MatmulSpec {
            batch,
            m,
            n,
            k,
            lhs_transposed: ta,
            rhs_transposed: tb,
            lhs_batch_stride: if shared_lhs { 0 } else { m * k },
            rhs_batch_stride: k * n,
        }
    }

    fn values(len: usize, seed: usize) -> Vec<f64> {
        (0..len)
            .map(|i| ((i * 7 + seed * 13) % 17) as f64 / 8.0 - 1.0)
            .collect()
    }

    /// Plain products with one output row (the dot-product path) equal the
    /// reference, batched and not, on both layouts of the matrix.
    #[test]
    fn one_row_products_equal_reference() {
        for (batch, n, k, tb) in [
            (1, 512, 784, true),
            (1, 256, 512, false),
            (3, 10, 31, true),
            (5, 1000, 200, false),
            (1, 7, 0, true),
        ] {
            let s = spec(batch, 1, n, k, false, tb, false);
            let (a, b) = (values(batch * k, 6), values(batch * k * n, 7));
            let out = super::matmul(&a, &b, &s).unwrap();
            for bi in 0..batch {
                for j in 0..n {
                    assert!(
                        (out[bi * n + j] - naive(&a, &b, &s, bi, 0, j)).abs() < 1e-9,
                        "{batch}x{n}x{k}"
                    );
                }
            }
        }
    }

    /// A bias along rows or columns is the GEMM's start: output = bias + product,
    /// on sizes that run single-threaded, split into blocks and one item per task;
    /// `k == 0` leaves the bias alone.
    #[test]
    fn bias_start_adds_to_every_item() {
        for (batch, m, n, k, ta, tb) in [
            (1, 3, 5, 4, false, true),
            (1, 128, 512, 784, false, true),
            (6, 32, 196, 288, false, false),
            (2, 4, 3, 0, true, false),
            (3, 7, 9, 300, true, true),
            (1, 1, 512, 784, false, true),
            (1, 1, 300, 257, true, false),
            (4, 1, 10, 33, false, true),
            (1, 1, 1, 1, false, false),
        ] {
            let s = spec(batch, m, n, k, ta, tb, true);
            let (a, b) = (values(m * k, 1), values(batch * k * n, 2));
            for rows in [false, true] {
                let bias = values(if rows { m } else { n }, 3);
                let start = if rows {
                    Start::RowBias(&bias[..])
                } else {
                    Start::ColumnBias(&bias[..])
                };
                let out = matmul_from(&a, &b, &s, start).unwrap();
                assert_eq!(out.len(), batch * m * n);
                for bi in 0..batch {
                    for i in 0..m {
                        for j in 0..n {
                            let want = naive(&a, &b, &s, bi, i, j) + if rows { bias[i] } else { bias[j] };
                            let got = out[(bi * m + i) * n + j];
                            assert!(
                                (got - want).abs() < 1e-9,
                                "{batch}x{m}x{n}x{k} rows={rows}: {got} vs {want}"
                            );
                        }
                    }
                }
            }
            let short = values(1, 0);
            assert!(matmul_from(&a, &b, &s, Start::ColumnBias(&short)).is_err() || n == 1);
        }
    }

    /// The batch sum equals the sum of every item's product, threaded or not.
    #[test]
    fn batch_sum_equals_sum_of_products() {
        for (batch, m, n, k, ta, tb) in [
            (1, 2, 3, 4, false, false),
            (64, 64, 288, 196, false, true),
            (5, 9, 7, 11, true, false),
            (3, 4, 4, 0, false, false),
        ] {
            let s = spec(batch, m, n, k, ta, tb, false);
            let (a, b) = (values(batch * m * k, 4), values(batch * k * n, 5));
            let out = matmul_batch_sum(&a, &b, &s).unwrap();
            assert_eq!(out.len(), m * n);
            for i in 0..m {
                for j in 0..n {
                    let want: f64 = (0..batch).map(|bi| naive(&a, &b, &s, bi, i, j)).sum();
                    assert!((out[i * n + j] - want).abs() < 1e-8, "{batch}x{m}x{n}x{k}");
                }
            }
        }
    }

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
