//! Stable sort along the middle axis of an `(outer, len, inner)` view (kernels/sort.cu):
//! one thread per row (insertion sort) for short rows, one block per row (a merge
//! sort in global memory with a scratch copy of the outputs) otherwise.

use super::launch::{Arg, launch, launch_grid, sfx};
use super::storage::CudaStorage;
use crate::backend::BackendStorage;
use crate::{DType, Error, Result};

/// Longest row sorted by one thread: insertion sort costs `len^2 / 4` moves,
/// which for 32 elements is less than the block kernel's passes and barriers.
pub(crate) const THREAD_MAX_LEN: usize = 32;

pub(crate) fn sort(
    x: &CudaStorage,
    outer: usize,
    len: usize,
    inner: usize,
    descending: bool,
) -> Result<(CudaStorage, CudaStorage)> {
    let name = "sort";
    let total = outer.checked_mul(len).and_then(|v| v.checked_mul(inner));
    if total != Some(x.len()) {
        return Err(Error::invalid(
            name,
            format!("cannot view {} elements as ({outer}, {len}, {inner})", x.len()),
        ));
    }
    let dev = x.dev();
    let vals = CudaStorage::uninit(dev, x.len(), x.dtype())?;
    let ids = CudaStorage::uninit(dev, x.len(), DType::I64)?;
    let rows = outer * inner;
    if x.is_empty() {
        return Ok((vals, ids));
    }
    let (o, l, i, d) = (outer as u64, len as u64, inner as u64, i32::from(descending));
    let ty = sfx(x.dtype());
    if len <= THREAD_MAX_LEN {
        let args: [&dyn Arg; 7] = [&vals.ptr(), &ids.ptr(), &x.ptr(), &o, &l, &i, &d];
        launch(dev, "sort", &format!("sort_thread_{ty}"), rows, &args)?;
    } else {
        // Returned to the allocator's cache when dropped below, while the kernel may
        // still run: safe because any later user is queued on the same stream.
        let tmp_vals = CudaStorage::uninit(dev, x.len(), x.dtype())?;
        let tmp_ids = CudaStorage::uninit(dev, x.len(), DType::I64)?;
        let args: [&dyn Arg; 9] = [
            &vals.ptr(),
            &ids.ptr(),
            &tmp_vals.ptr(),
            &tmp_ids.ptr(),
            &x.ptr(),
            &o,
            &l,
            &i,
            &d,
        ];
        let grid = rows.min(dev.sm_count as usize * 32) as u32;
        launch_grid(dev, "sort", &format!("sort_block_{ty}"), grid, &args)?;
    }
    Ok((vals, ids))
}
