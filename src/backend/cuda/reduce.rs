//! Reductions over the middle axis of an `(outer, len, inner)` view (kernels/reduce.cu).

use super::launch::{Arg, BLOCK, launch, launch_grid, sfx};
use super::storage::CudaStorage;
use crate::backend::{BackendStorage, ReduceOp};
use crate::{DType, Error, Result};

/// One thread per output when rows are short or outputs plentiful and contiguous;
/// otherwise one block per output, which splits a long row across 256 threads.
fn thread_per_output(sm_count: u32, outputs: usize, len: usize, inner: usize) -> bool {
    len <= 32 || (inner >= 32 && outputs >= sm_count as usize * BLOCK as usize * 4)
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
    if thread_per_output(dev.sm_count, outputs, len, inner) {
        let kernel = format!("{prefix}_thread_{}", sfx(x.dtype()));
        launch(dev, "reduce", &kernel, outputs, &args)?;
    } else if outputs > 0 {
        let kernel = format!("{prefix}_block_{}", sfx(x.dtype()));
        let grid = outputs.min(dev.sm_count as usize * 32) as u32;
        launch_grid(dev, "reduce", &kernel, grid, &args)?;
    }
    Ok(out)
}
