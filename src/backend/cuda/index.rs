//! Index-driven ops: index_select, gather and their adjoints (kernels/index.cu).
//!
//! Indices live on the GPU, so checking them on the host would cost a copy and a
//! synchronisation per op. Instead the kernels skip an out-of-range index and
//! record it in the device's error record; the next synchronisation (reading any
//! value back, or [`super::synchronize`]) returns [`crate::Error::IndexOutOfRange`]
//! naming the op, the index and the size. The op's output holds zeros (or nothing
//! added) at the bad positions until then.

use super::launch::{Arg, bytes_sfx, launch, sfx};
use super::storage::CudaStorage;
use crate::backend::BackendStorage;
use crate::{DType, Error, Result};

/// Checks the indices' device and dtype. For i32 indices, returns a copy
/// widened to i64 on the device by the cast kernel (the index kernels read i64);
/// for i64 indices, `None`: use them as they are.
fn check_ids(x: &CudaStorage, ids: &CudaStorage, op: &'static str) -> Result<Option<CudaStorage>> {
    x.same_device(ids, op)?;
    match ids.dtype() {
        DType::I64 => Ok(None),
        DType::I32 => Ok(Some(super::copy::to_dtype(ids, DType::I64)?)),
        other => Err(Error::invalid(
            op,
            format!("indices must have dtype i64 or i32, got {other}"),
        )),
    }
}

fn view_error(op: &'static str, len: usize, outer: usize, dim: usize, inner: usize) -> Error {
    Error::invalid(op, format!("cannot view {len} elements as ({outer}, {dim}, {inner})"))
}

/// The accumulator dtype of the adjoints: f64 for f64, f32 otherwise.
fn acc_dtype(dtype: DType) -> DType {
    if dtype == DType::F64 { DType::F64 } else { DType::F32 }
}

pub(crate) fn index_select(
    x: &CudaStorage,
    ids: &CudaStorage,
    outer: usize,
    dim: usize,
    inner: usize,
) -> Result<CudaStorage> {
    let op = "index_select";
    let widened = check_ids(x, ids, op)?;
    let ids = widened.as_ref().unwrap_or(ids);
    if outer * dim * inner != x.len() {
        return Err(view_error(op, x.len(), outer, dim, inner));
    }
    let dev = x.dev();
    let n = outer * ids.len() * inner;
    let out = CudaStorage::uninit(dev, n, x.dtype())?;
    let (o, k, d, i) = (outer as u64, ids.len() as u64, dim as u64, inner as u64);
    let kernel = format!("index_select_{}", bytes_sfx(x.dtype()));
    // Held until the launch is queued (see DeviceState::error_record_for_launch).
    let rec = dev.error_record_for_launch();
    let args: [&dyn Arg; 8] = [&out.ptr(), &x.ptr(), &ids.ptr(), &o, &k, &d, &i, &rec.ptr];
    launch(dev, "index", &kernel, n, &args)?;
    drop(rec);
    Ok(out)
}

pub(crate) fn gather(
    x: &CudaStorage,
    ids: &CudaStorage,
    outer: usize,
    dim: usize,
    inner: usize,
) -> Result<CudaStorage> {
    let op = "gather";
    let widened = check_ids(x, ids, op)?;
    let ids = widened.as_ref().unwrap_or(ids);
    if outer * dim * inner != x.len() || !ids.len().is_multiple_of((outer * inner).max(1)) {
        return Err(view_error(op, x.len(), outer, dim, inner));
    }
    let dev = x.dev();
    let out = CudaStorage::uninit(dev, ids.len(), x.dtype())?;
    let nidx = ids.len() / (outer * inner).max(1);
    let (o, k, d, i) = (outer as u64, nidx as u64, dim as u64, inner as u64);
    let kernel = format!("gather_{}", bytes_sfx(x.dtype()));
    let rec = dev.error_record_for_launch();
    let args: [&dyn Arg; 8] = [&out.ptr(), &x.ptr(), &ids.ptr(), &o, &k, &d, &i, &rec.ptr];
    launch(dev, "index", &kernel, ids.len(), &args)?;
    drop(rec);
    Ok(out)
}

/// Shared by index_add and scatter_add: zeroed accumulator, atomic adds, narrowing.
fn accumulate(
    g: &CudaStorage,
    ids: &CudaStorage,
    (outer, nidx, dim, inner): (usize, usize, usize, usize),
    kernel: &str,
) -> Result<CudaStorage> {
    let dev = g.dev();
    let acc = CudaStorage::zeroed(dev, outer * dim * inner, acc_dtype(g.dtype()))?;
    let (o, k, d, i) = (outer as u64, nidx as u64, dim as u64, inner as u64);
    let rec = dev.error_record_for_launch();
    let args: [&dyn Arg; 8] = [&acc.ptr(), &g.ptr(), &ids.ptr(), &o, &k, &d, &i, &rec.ptr];
    launch(dev, "index", &format!("{kernel}_{}", sfx(g.dtype())), g.len(), &args)?;
    drop(rec);
    if acc.dtype() == g.dtype() {
        Ok(acc)
    } else {
        super::copy::to_dtype(&acc, g.dtype())
    }
}

pub(crate) fn index_add(
    g: &CudaStorage,
    ids: &CudaStorage,
    outer: usize,
    dim: usize,
    inner: usize,
) -> Result<CudaStorage> {
    let op = "index_add";
    let widened = check_ids(g, ids, op)?;
    let ids = widened.as_ref().unwrap_or(ids);
    g.require_float(op)?;
    if outer * ids.len() * inner != g.len() {
        return Err(view_error(op, g.len(), outer, ids.len(), inner));
    }
    accumulate(g, ids, (outer, ids.len(), dim, inner), "index_add")
}

pub(crate) fn scatter_add(
    g: &CudaStorage,
    ids: &CudaStorage,
    outer: usize,
    dim: usize,
    inner: usize,
) -> Result<CudaStorage> {
    let op = "scatter_add";
    let widened = check_ids(g, ids, op)?;
    let ids = widened.as_ref().unwrap_or(ids);
    g.require_float(op)?;
    let nidx = ids.len() / (outer * inner).max(1);
    if ids.len() != g.len() || outer * nidx * inner != g.len() {
        return Err(view_error(op, g.len(), outer, nidx, inner));
    }
    accumulate(g, ids, (outer, nidx, dim, inner), "scatter_add")
}
