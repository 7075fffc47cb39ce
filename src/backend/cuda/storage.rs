//! [`CudaStorage`]: a typed buffer on one GPU, and the `BackendStorage`
//! implementation that routes each primitive to its op family.

use super::alloc::{DeviceBuffer, alloc};
use super::device::{DeviceState, device};
use super::launch::driver_err;
use crate::backend::ScanOp;
use crate::backend::{BackendStorage, BinaryLayout, BinaryOp, CpuStorage, Im2ColSpec, MatmulSpec, ReduceOp, UnaryOp};
use crate::{DType, Device, Error, Result};
use cudarc::driver::result;
use half::{bf16, f16};
use std::sync::Arc;

/// A contiguous buffer of `len` elements of one dtype on a CUDA device.
///
/// Ops queue work on the device's stream and return at once; reading values
/// ([`BackendStorage::to_cpu`]) waits for the queued work and reports any error
/// it raised, including an out-of-range index seen by an index kernel.
pub struct CudaStorage {
    buf: DeviceBuffer,
    len: usize,
    dtype: DType,
}

impl std::fmt::Debug for CudaStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CudaStorage({}, {}, len {})", self.device(), self.dtype, self.len)
    }
}

impl CudaStorage {
    /// An uninitialised buffer (every caller overwrites all of it).
    pub(crate) fn uninit(dev: &Arc<DeviceState>, len: usize, dtype: DType) -> Result<CudaStorage> {
        let bytes = len
            .checked_mul(dtype.size_in_bytes())
            .ok_or_else(|| Error::OutOfMemory {
                device: dev.device(),
                bytes: usize::MAX,
            })?;
        Ok(CudaStorage {
            buf: alloc(dev, bytes)?,
            len,
            dtype,
        })
    }

    /// A zero-filled buffer (all-zero bits are 0 in every dtype).
    pub(crate) fn zeroed(dev: &Arc<DeviceState>, len: usize, dtype: DType) -> Result<CudaStorage> {
        let s = CudaStorage::uninit(dev, len, dtype)?;
        if len > 0 {
            dev.bind()?;
            // SAFETY: the buffer holds `len * size` bytes and is owned by `s`.
            // an empty buffer never reaches this call (`len > 0` above).
            unsafe { result::memset_d8_async(s.ptr(), 0, len * dtype.size_in_bytes(), dev.cu_stream()) }
                .map_err(|e| driver_err("zeros", e))?;
        }
        Ok(s)
    }

    /// The device address of the first element.
    pub(crate) fn ptr(&self) -> u64 {
        self.buf.ptr()
    }

    /// The device address of element `i` (for launches on part of a buffer).
    pub(crate) fn ptr_at(&self, i: usize) -> u64 {
        self.buf.ptr() + (i * self.dtype.size_in_bytes()) as u64
    }

    /// The state of the device holding this buffer.
    pub(crate) fn dev(&self) -> &Arc<DeviceState> {
        self.buf.dev()
    }

    /// The CUDA ordinal of the device holding this buffer.
    pub fn ordinal(&self) -> usize {
        self.dev().ordinal
    }

    /// Errors unless `other` lives on the same GPU.
    pub(crate) fn same_device(&self, other: &CudaStorage, op: &'static str) -> Result<()> {
        if self.ordinal() == other.ordinal() {
            Ok(())
        } else {
            Err(Error::DeviceMismatch {
                op,
                lhs: self.device(),
                rhs: other.device(),
            })
        }
    }

    /// Errors unless `other` has the same dtype.
    pub(crate) fn same_dtype(&self, other: &CudaStorage, op: &'static str) -> Result<()> {
        if self.dtype == other.dtype {
            Ok(())
        } else {
            Err(Error::DTypeMismatch {
                op,
                lhs: self.dtype,
                rhs: other.dtype,
            })
        }
    }

    /// Errors for integer and bool buffers, on which only comparisons, casts
    /// and data movement exist here (the CPU backend's message and hint).
    pub(crate) fn require_float(&self, op: &'static str) -> Result<()> {
        if self.dtype.is_float() {
            Ok(())
        } else {
            Err(crate::backend::cpu::not_float(op, self.dtype))
        }
    }

    /// Errors unless the buffer holds exactly `expected` elements (the kernels
    /// trust the sizes they are given, so every primitive checks them first).
    pub(crate) fn expect_len(&self, expected: usize, op: &'static str) -> Result<()> {
        if self.len == expected {
            Ok(())
        } else {
            Err(Error::invalid(
                op,
                format!("buffer of {} elements where {expected} were expected", self.len),
            ))
        }
    }

    /// Copies host data to CUDA device `ordinal` (probing it on first use).
    pub fn from_cpu(cpu: &CpuStorage, ordinal: usize) -> Result<CudaStorage> {
        let dev = device(ordinal)?;
        let s = CudaStorage::uninit(&dev, cpu.len(), cpu.dtype())?;
        fn upload<T>(dev: &DeviceState, dst: u64, src: &[T]) -> Result<()> {
            if src.is_empty() {
                return Ok(());
            }
            dev.bind()?;
            // SAFETY: `dst` holds `src.len()` elements of `T`; for pageable host
            // memory the driver has staged the data when the call returns.
            // an empty `src` never reaches this call (it returns above).
            unsafe { result::memcpy_htod_async(dst, src, dev.cu_stream()) }.map_err(|e| driver_err("to_device", e))
        }
        match cpu {
            CpuStorage::F32(v) => upload(&dev, s.ptr(), v)?,
            CpuStorage::F64(v) => upload(&dev, s.ptr(), v)?,
            CpuStorage::F16(v) => upload(&dev, s.ptr(), v)?,
            CpuStorage::BF16(v) => upload(&dev, s.ptr(), v)?,
            CpuStorage::I64(v) => upload(&dev, s.ptr(), v)?,
            CpuStorage::Bool(v) => upload(&dev, s.ptr(), v)?,
            CpuStorage::U8(v) => upload(&dev, s.ptr(), v)?,
            CpuStorage::I8(v) => upload(&dev, s.ptr(), v)?,
            CpuStorage::I32(v) => upload(&dev, s.ptr(), v)?,
        }
        Ok(s)
    }

    fn download<T: Clone + Default>(&self) -> Result<Vec<T>> {
        let mut v = crate::backend::cpu::buffer::filled(T::default(), self.len)?;
        if self.len > 0 {
            let dev = self.dev();
            dev.bind()?;
            // SAFETY: the buffer holds `len` elements of `T` (the dtype matches `T`
            // at every call site); the stream is synchronised before `v` is read.
            // an empty buffer never reaches this call (`len > 0` above).
            unsafe { result::memcpy_dtoh_async(&mut v, self.ptr(), dev.cu_stream()) }
                .map_err(|e| driver_err("to_cpu", e))?;
        }
        self.dev().synchronize()?;
        Ok(v)
    }

    /// A buffer of `len` copies of `value` on CUDA device `ordinal`, filled on the
    /// device (no host buffer), rounded as [`CpuStorage::full`] rounds.
    pub fn full(value: f64, len: usize, dtype: DType, ordinal: usize) -> Result<CudaStorage> {
        super::copy::full(&device(ordinal)?, value, len, dtype)
    }

    /// A copy on the same device.
    pub fn try_clone(&self) -> Result<CudaStorage> {
        let s = CudaStorage::uninit(self.dev(), self.len, self.dtype)?;
        if self.len > 0 {
            self.dev().bind()?;
            // SAFETY: both buffers hold `len` elements of the same dtype.
            // an empty buffer never reaches this call (`len > 0` above).
            unsafe {
                result::memcpy_dtod_async(
                    s.ptr(),
                    self.ptr(),
                    self.len * self.dtype.size_in_bytes(),
                    self.dev().cu_stream(),
                )
            }
            .map_err(|e| driver_err("clone", e))?;
        }
        Ok(s)
    }

    /// Concatenates buffers viewed as `(outer, inner_i)` along the inner axis.
    pub fn cat(parts: &[&CudaStorage], outer: usize) -> Result<CudaStorage> {
        super::copy::cat(parts, outer)
    }
}

impl BackendStorage for CudaStorage {
    fn dtype(&self) -> DType {
        self.dtype
    }

    fn device(&self) -> Device {
        self.dev().device()
    }

    fn len(&self) -> usize {
        self.len
    }

    fn to_cpu(&self) -> Result<CpuStorage> {
        Ok(match self.dtype {
            DType::F32 => CpuStorage::F32(self.download::<f32>()?),
            DType::F64 => CpuStorage::F64(self.download::<f64>()?),
            DType::F16 => CpuStorage::F16(self.download::<f16>()?),
            DType::BF16 => CpuStorage::BF16(self.download::<bf16>()?),
            DType::I64 => CpuStorage::I64(self.download::<i64>()?),
            // The kernels only ever store 0 or 1 in a bool buffer, but the bytes
            // are read as `u8` and compared so that no invalid `bool` can arise.
            DType::Bool => CpuStorage::Bool(self.download::<u8>()?.into_iter().map(|b| b != 0).collect()),
            DType::U8 => CpuStorage::U8(self.download::<u8>()?),
            DType::I8 => CpuStorage::I8(self.download::<i8>()?),
            DType::I32 => CpuStorage::I32(self.download::<i32>()?),
        })
    }

    fn unary(&self, op: UnaryOp) -> Result<Self> {
        super::elementwise::unary(self, op)
    }

    fn binary(&self, rhs: &Self, op: BinaryOp, layout: &BinaryLayout) -> Result<Self> {
        super::elementwise::binary(self, rhs, op, layout)
    }

    fn where_cond(&self, on_true: &Self, on_false: &Self) -> Result<Self> {
        super::elementwise::where_cond(self, on_true, on_false)
    }

    fn reduce(&self, op: ReduceOp, outer: usize, len: usize, inner: usize) -> Result<Self> {
        super::reduce::reduce(self, op, outer, len, inner)
    }

    fn matmul(&self, rhs: &Self, spec: &MatmulSpec) -> Result<Self> {
        super::matmul::matmul(self, rhs, spec)
    }

    fn copy_strided(&self, offset: usize, strides: &[usize], shape: &[usize]) -> Result<Self> {
        super::copy::copy_strided(self, offset, strides, shape)
    }

    fn cat(parts: &[&Self], outer: usize) -> Result<Self> {
        super::copy::cat(parts, outer)
    }

    fn to_dtype(&self, dtype: DType) -> Result<Self> {
        super::copy::to_dtype(self, dtype)
    }

    fn index_select(&self, ids: &Self, outer: usize, dim: usize, inner: usize) -> Result<Self> {
        super::index::index_select(self, ids, outer, dim, inner)
    }

    fn index_add(&self, ids: &Self, outer: usize, dim: usize, inner: usize) -> Result<Self> {
        super::index::index_add(self, ids, outer, dim, inner)
    }

    fn gather(&self, ids: &Self, outer: usize, dim: usize, inner: usize) -> Result<Self> {
        super::index::gather(self, ids, outer, dim, inner)
    }

    fn scatter_add(&self, ids: &Self, outer: usize, dim: usize, inner: usize) -> Result<Self> {
        super::index::scatter_add(self, ids, outer, dim, inner)
    }

    fn im2col(&self, spec: &Im2ColSpec, pad_value: f64) -> Result<Self> {
        super::conv::im2col(self, spec, pad_value)
    }

    fn col2im(&self, spec: &Im2ColSpec) -> Result<Self> {
        super::conv::col2im(self, spec)
    }

    fn sort(&self, outer: usize, len: usize, inner: usize, descending: bool) -> Result<(Self, Self)> {
        super::sort::sort(self, outer, len, inner, descending)
    }

    fn scan(&self, op: ScanOp, outer: usize, len: usize, inner: usize, reverse: bool) -> Result<Self> {
        super::scan::scan(self, op, outer, len, inner, reverse)
    }
}
