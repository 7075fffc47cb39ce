//! Data movement and conversion: strided copies, concatenation, fills and casts
//! (kernels/copy.cu, kernels/cast.cu).

use super::device::DeviceState;
use super::launch::{Arg, MAX_DIMS, Strided, bytes_sfx, for_each_leading, launch, sfx};
use super::storage::CudaStorage;
use crate::backend::BackendStorage;
use crate::backend::layout::coalesce;
use crate::{DType, Error, Result};
use half::{bf16, f16};
use std::sync::Arc;

pub(crate) fn copy_strided(x: &CudaStorage, offset: usize, strides: &[usize], shape: &[usize]) -> Result<CudaStorage> {
    let op = "copy_strided";
    if strides.len() != shape.len() {
        return Err(Error::invalid(
            op,
            format!("{} strides for a shape of rank {}", strides.len(), shape.len()),
        ));
    }
    let n: usize = shape.iter().product();
    let dev = x.dev();
    let out = CudaStorage::uninit(dev, n, x.dtype())?;
    if n == 0 {
        return Ok(out);
    }
    let last = offset + shape.iter().zip(strides).map(|(&d, &s)| (d - 1) * s).sum::<usize>();
    if last >= x.len() {
        return Err(Error::invalid(
            op,
            format!(
                "shape {shape:?} strides {strides:?} from offset {offset} read element {last} of a buffer of {}",
                x.len()
            ),
        ));
    }
    let (dims, strs) = coalesce(shape, strides);
    let tail = dims.len().saturating_sub(MAX_DIMS);
    let per_launch: usize = dims[tail..].iter().product();
    let layout = Strided::new(&dims[tail..], &strs[tail..]);
    let kernel = format!("copy_strided_{}", bytes_sfx(x.dtype()));
    for_each_leading(&dims, |i, lead| {
        let src = offset + lead.iter().zip(&strs).map(|(&k, &s)| k * s).sum::<usize>();
        let args: [&dyn Arg; 4] = [
            &out.ptr_at(i * per_launch),
            &x.ptr_at(src),
            &(per_launch as u64),
            &layout,
        ];
        launch(dev, "copy", &kernel, per_launch, &args)
    })?;
    Ok(out)
}

pub(crate) fn cat(parts: &[&CudaStorage], outer: usize) -> Result<CudaStorage> {
    let op = "cat";
    let Some(first) = parts.first() else {
        return Err(Error::invalid(op, "no tensors given"));
    };
    for p in parts {
        first.same_device(p, op)?;
        first.same_dtype(p, op)?;
    }
    let total: usize = parts.iter().map(|p| p.len()).sum();
    let dev = first.dev();
    let out = CudaStorage::uninit(dev, total, first.dtype())?;
    if outer == 0 || total == 0 {
        return Ok(out);
    }
    if let Some(p) = parts.iter().find(|p| !p.len().is_multiple_of(outer)) {
        return Err(Error::invalid(
            op,
            format!("a part of {} elements does not split into {outer} rows", p.len()),
        ));
    }
    let out_width = (total / outer) as u64;
    let kernel = format!("cat_part_{}", bytes_sfx(first.dtype()));
    let mut column = 0u64;
    for p in parts {
        let width = (p.len() / outer) as u64;
        let args: [&dyn Arg; 6] = [&out.ptr(), &p.ptr(), &(outer as u64), &width, &out_width, &column];
        launch(dev, "copy", &kernel, p.len(), &args)?;
        column += width;
    }
    Ok(out)
}

/// `len` copies of `value` rounded to `dtype` as [`crate::backend::CpuStorage::full`] does.
pub(crate) fn full(dev: &Arc<DeviceState>, value: f64, len: usize, dtype: DType) -> Result<CudaStorage> {
    let out = CudaStorage::uninit(dev, len, dtype)?;
    let n = len as u64;
    let kernel = format!("fill_{}", bytes_sfx(dtype));
    let (b1, b2, b4, b8): (u8, u16, u32, u64);
    let bits: &dyn Arg = match dtype {
        DType::Bool => {
            b1 = (value != 0.0) as u8;
            &b1
        }
        DType::U8 => {
            b1 = <u8 as crate::WithDType>::from_f64(value);
            &b1
        }
        DType::I8 => {
            b1 = <i8 as crate::WithDType>::from_f64(value) as u8;
            &b1
        }
        DType::I32 => {
            b4 = <i32 as crate::WithDType>::from_f64(value) as u32;
            &b4
        }
        DType::F16 => {
            b2 = <f16 as crate::WithDType>::from_f64(value).to_bits();
            &b2
        }
        DType::BF16 => {
            b2 = <bf16 as crate::WithDType>::from_f64(value).to_bits();
            &b2
        }
        DType::F32 => {
            b4 = (value as f32).to_bits();
            &b4
        }
        DType::F64 => {
            b8 = value.to_bits();
            &b8
        }
        DType::I64 => {
            b8 = <i64 as crate::WithDType>::from_f64(value) as u64;
            &b8
        }
    };
    launch(dev, "copy", &kernel, len, &[&out.ptr(), &n, bits])?;
    Ok(out)
}

pub(crate) fn to_dtype(x: &CudaStorage, dtype: DType) -> Result<CudaStorage> {
    if x.dtype() == dtype {
        return x.try_clone();
    }
    let dev = x.dev();
    let out = CudaStorage::uninit(dev, x.len(), dtype)?;
    let kernel = format!("cast_{}_{}", sfx(x.dtype()), sfx(dtype));
    launch(
        dev,
        "cast",
        &kernel,
        x.len(),
        &[&out.ptr(), &x.ptr(), &(x.len() as u64)],
    )?;
    Ok(out)
}
