//! Reductions over the middle axis of an `(outer, len, inner)` view (kernels/reduce.cu):
//! one thread per output, one block per output, or, for a few long rows, two passes
//! (per-chunk partials over many blocks, then one block per output).

use super::launch::{Arg, BLOCK, launch, launch_grid, sfx};
use super::storage::CudaStorage;
use crate::backend::{BackendStorage, ReduceOp};
use crate::{DType, Error, Result};

/// One thread per output when rows are short or outputs plentiful and contiguous;
/// otherwise one block per output, which splits a long row across 256 threads.
fn thread_per_output(sm_count: u32, outputs: usize, len: usize, inner: usize) -> bool {
    len <= 32 || (inner >= 32 && outputs >= sm_count as usize * BLOCK as usize * 4)
}

/// Fewest elements a chunk of the two-pass shape gets: 16 per thread, so that a
/// block's fixed cost (its tree reduction, its partial) stays small beside its loads.
const MIN_CHUNK: usize = BLOCK as usize * 16;

/// Blocks per SM the two-pass shape aims for: 8 blocks of 256 threads fill an SM's
/// 2048 thread slots, which a memory-bound loop needs to hide latency.
const BLOCKS_PER_SM: usize = 8;

/// The two-pass shape for few long rows, as `(chunk, chunks)`: each row is split
/// into `chunks` chunks of `chunk` elements (the last may be shorter, none is
/// empty). `None` when one block per output already fills the GPU or the rows are
/// too short to be worth splitting. A full reduction (`sum_all`, `max_all`, a loss)
/// has one output and would otherwise run on a single SM.
fn split_rows(sm_count: u32, outputs: usize, len: usize) -> Option<(usize, usize)> {
    let target = (sm_count as usize).max(1) * BLOCKS_PER_SM;
    if outputs == 0 || outputs >= target {
        return None;
    }
    let chunks = target.div_ceil(outputs).min(len / MIN_CHUNK);
    if chunks < 2 {
        return None;
    }
    let chunk = len.div_ceil(chunks);
    // Rounding `chunk` up can leave fewer chunks; recount so that none is empty.
    Some((chunk, len.div_ceil(chunk)))
}

/// Grid size for `work` blocks of a grid-stride kernel, within gridDim.x's limit.
fn grid_of(work: usize) -> u32 {
    work.min(i32::MAX as usize) as u32
}

pub(crate) fn reduce(x: &CudaStorage, op: ReduceOp, outer: usize, len: usize, inner: usize) -> Result<CudaStorage> {
    let name = "reduce";
    let total = outer.checked_mul(len).and_then(|v| v.checked_mul(inner));
    if total != Some(x.len()) {
        return Err(Error::invalid(
            name,
            format!("cannot view {} elements as ({outer}, {len}, {inner})", x.len()),
        ));
    }
    let dev = x.dev();
    let outputs = outer * inner;
    let arg = matches!(op, ReduceOp::ArgMax | ReduceOp::ArgMin);
    if !arg && x.dtype().is_int() {
        return reduce_int(x, op, outer, len, inner);
    }
    if !arg {
        x.require_float(name)?;
    }
    if len == 0 {
        if arg {
            return Err(Error::invalid(name, "argmax/argmin over an empty dimension"));
        }
        // The CPU's values for an empty reduction.
        let fill = match op {
            ReduceOp::Sum => 0.0,
            ReduceOp::Max => f64::NEG_INFINITY,
            _ => f64::INFINITY,
        };
        return super::copy::full(dev, fill, outputs, x.dtype());
    }
    let out = CudaStorage::uninit(dev, outputs, if arg { DType::I64 } else { x.dtype() })?;
    let code: i32 = match op {
        ReduceOp::Sum | ReduceOp::ArgMax => 0,
        ReduceOp::Max | ReduceOp::ArgMin => 1,
        ReduceOp::Min => 2,
    };
    let prefix = if arg { "argreduce" } else { "reduce" };
    let (o, l, i) = (outer as u64, len as u64, inner as u64);
    let args: [&dyn Arg; 6] = [&out.ptr(), &x.ptr(), &o, &l, &i, &code];
    let per_thread = thread_per_output(dev.sm_count, outputs, len, inner);
    let split = if per_thread {
        None
    } else {
        split_rows(dev.sm_count, outputs, len)
    };
    if let Some((chunk, chunks)) = split {
        // Partials in the compute type (f32 for 16-bit inputs, f64 for f64), so that
        // only the final value rounds; i64 labels are compared as i64 (reduce.cu ArgTy).
        let part_dtype = match x.dtype() {
            DType::F64 => DType::F64,
            DType::I64 => DType::I64,
            _ => DType::F32,
        };
        let blocks = outputs * chunks;
        // Returned to the allocator's cache when dropped below, while the kernels
        // may still run: safe because any later user is queued on the same stream.
        let part = CudaStorage::uninit(dev, blocks, part_dtype)?;
        let (c, n, outs) = (chunk as u64, chunks as u64, outputs as u64);
        let ty = sfx(x.dtype());
        if arg {
            let part_i = CudaStorage::uninit(dev, blocks, DType::I64)?;
            let pass1: [&dyn Arg; 9] = [&part.ptr(), &part_i.ptr(), &x.ptr(), &o, &l, &i, &c, &n, &code];
            launch_grid(
                dev,
                "reduce",
                &format!("argreduce_partial_{ty}"),
                grid_of(blocks),
                &pass1,
            )?;
            let pass2: [&dyn Arg; 6] = [&out.ptr(), &part.ptr(), &part_i.ptr(), &outs, &n, &code];
            launch_grid(
                dev,
                "reduce",
                &format!("argreduce_finish_{ty}"),
                grid_of(outputs),
                &pass2,
            )?;
        } else {
            let pass1: [&dyn Arg; 8] = [&part.ptr(), &x.ptr(), &o, &l, &i, &c, &n, &code];
            launch_grid(dev, "reduce", &format!("reduce_partial_{ty}"), grid_of(blocks), &pass1)?;
            let pass2: [&dyn Arg; 5] = [&out.ptr(), &part.ptr(), &outs, &n, &code];
            launch_grid(dev, "reduce", &format!("reduce_finish_{ty}"), grid_of(outputs), &pass2)?;
        }
    } else if per_thread {
        let kernel = format!("{prefix}_thread_{}", sfx(x.dtype()));
        launch(dev, "reduce", &kernel, outputs, &args)?;
    } else if outputs > 0 {
        let kernel = format!("{prefix}_block_{}", sfx(x.dtype()));
        let grid = outputs.min(dev.sm_count as usize * 32) as u32;
        launch_grid(dev, "reduce", &kernel, grid, &args)?;
    }
    Ok(out)
}

/// Sum (wrapping), max or min of an integer buffer: one thread per output
/// (reduce.cu `reduce_int_*`), with the CPU's answers for an empty axis.
fn reduce_int(x: &CudaStorage, op: ReduceOp, outer: usize, len: usize, inner: usize) -> Result<CudaStorage> {
    let dev = x.dev();
    let outputs = outer * inner;
    if len == 0 {
        if op == ReduceOp::Sum || outputs == 0 {
            return CudaStorage::zeroed(dev, outputs, x.dtype());
        }
        return Err(Error::invalid(
            "max/min",
            format!(
                "cannot reduce an integer tensor ({}) over a dimension of size 0",
                x.dtype()
            ),
        ));
    }
    let out = CudaStorage::uninit(dev, outputs, x.dtype())?;
    let code: i32 = match op {
        ReduceOp::Sum => 0,
        ReduceOp::Max => 1,
        _ => 2,
    };
    let (o, l, i) = (outer as u64, len as u64, inner as u64);
    let args: [&dyn Arg; 6] = [&out.ptr(), &x.ptr(), &o, &l, &i, &code];
    launch(dev, "reduce", &format!("reduce_int_{}", sfx(x.dtype())), outputs, &args)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::{MIN_CHUNK, split_rows, thread_per_output};

    /// Chunks cover the row exactly, none empty, and the grid stays small.
    fn check(sm: u32, outputs: usize, len: usize) -> Option<(usize, usize)> {
        let split = split_rows(sm, outputs, len);
        if let Some((chunk, chunks)) = split {
            assert!(chunks >= 2, "{split:?}");
            assert!(chunk >= MIN_CHUNK, "{split:?}");
            assert!(chunk * chunks >= len, "{split:?} misses elements of {len}");
            assert!(
                (chunks - 1) * chunk < len,
                "{split:?}: the last chunk of {len} is empty"
            );
            let blocks = outputs * chunks;
            assert!(
                blocks <= 2 * sm.max(1) as usize * super::BLOCKS_PER_SM,
                "{blocks} blocks"
            );
            assert!(blocks <= i32::MAX as usize);
        }
        split
    }

    #[test]
    fn a_full_reduction_spreads_over_the_gpu() {
        // sum_all of 2^24 elements on a 132-SM H100: 1056 chunks.
        let (chunk, chunks) = check(132, 1, 1 << 24).expect("one long row splits");
        assert_eq!(chunks, 1056);
        assert_eq!(chunk, (1usize << 24).div_ceil(1056));
        // A row just long enough for two chunks.
        assert_eq!(check(108, 1, 2 * MIN_CHUNK), Some((MIN_CHUNK, 2)));
        // A few long rows, each split less.
        let (_, chunks) = check(108, 3, 1 << 22).expect("three long rows split");
        assert_eq!(chunks, (108 * 8usize).div_ceil(3));
    }

    #[test]
    fn short_rows_or_many_outputs_keep_one_pass() {
        assert_eq!(check(108, 1, 2 * MIN_CHUNK - 1), None);
        assert_eq!(check(108, 108 * 8, 1 << 20), None);
        assert_eq!(check(108, 0, 1 << 20), None);
        assert!(thread_per_output(108, 4, 16, 1));
    }

    #[test]
    fn huge_rows_stay_within_hardware_limits() {
        for len in [usize::MAX / 2, (1usize << 40) + 12345, (1 << 31) + 1] {
            for outputs in [1, 2, 7, 863] {
                for sm in [1, 2, 132, 1000] {
                    check(sm, outputs, len);
                }
            }
        }
        // A reported SM count of 0 still splits sensibly.
        check(0, 1, 1 << 24).expect("sm_count 0 is treated as 1");
    }
}
