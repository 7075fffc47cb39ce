//! Inclusive scans along the middle axis of an `(outer, len, inner)` view
//! (kernels/scan.cu): one thread per `(outer, inner)` column.

use super::launch::{Arg, launch, sfx};
use super::storage::CudaStorage;
use crate::backend::{BackendStorage, ScanOp};
use crate::{Error, Result};

pub(crate) fn scan(
    x: &CudaStorage,
    op: ScanOp,
    outer: usize,
    len: usize,
    inner: usize,
    reverse: bool,
) -> Result<CudaStorage> {
    let name = "scan";
    x.require_float(name)?;
    let total = outer.checked_mul(len).and_then(|v| v.checked_mul(inner));
    if total != Some(x.len()) {
        return Err(Error::invalid(
            name,
            format!("cannot view {} elements as ({outer}, {len}, {inner})", x.len()),
        ));
    }
    let dev = x.dev();
    let out = CudaStorage::uninit(dev, x.len(), x.dtype())?;
    if x.is_empty() {
        return Ok(out);
    }
    let code: i32 = match op {
        ScanOp::Sum => 0,
        ScanOp::Prod => 1,
    };
    let (o, l, i, rev) = (outer as u64, len as u64, inner as u64, i32::from(reverse));
    let args: [&dyn Arg; 7] = [&out.ptr(), &x.ptr(), &o, &l, &i, &code, &rev];
    launch(
        dev,
        "scan",
        &format!("scan_thread_{}", sfx(x.dtype())),
        outer * inner,
        &args,
    )?;
    Ok(out)
}
