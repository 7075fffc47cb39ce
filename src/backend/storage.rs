//! The enum in front of the backends.

use super::ScanOp;
use super::{BackendStorage, BinaryLayout, BinaryOp, CpuStorage, Im2ColSpec, MatmulSpec, ReduceOp, UnaryOp};
use crate::{DType, Device, Error, Result};

/// A buffer on some device. Every tensor op routes through here.
#[derive(Debug)]
pub enum Storage {
    Cpu(CpuStorage),
    #[cfg(feature = "cuda")]
    Cuda(super::cuda::CudaStorage),
}

/// Calls the same method on whichever backend holds `self`.
macro_rules! dispatch {
    ($self:expr, $s:ident => $body:expr) => {
        match $self {
            Storage::Cpu($s) => $body.map(Storage::Cpu),
            #[cfg(feature = "cuda")]
            Storage::Cuda($s) => $body.map(Storage::Cuda),
        }
    };
}

/// Calls a two-operand method when both operands live on the same backend.
macro_rules! dispatch2 {
    ($op:expr, $a:expr, $b:expr, ($x:ident, $y:ident) => $body:expr) => {
        match ($a, $b) {
            (Storage::Cpu($x), Storage::Cpu($y)) => $body.map(Storage::Cpu),
            #[cfg(feature = "cuda")]
            (Storage::Cuda($x), Storage::Cuda($y)) => $body.map(Storage::Cuda),
            #[cfg(feature = "cuda")]
            (a, b) => Err(Error::DeviceMismatch {
                op: $op,
                lhs: a.device(),
                rhs: b.device(),
            }),
        }
    };
}

impl Storage {
    /// A zero-filled buffer.
    pub fn zeros(len: usize, dtype: DType, device: &Device) -> Result<Storage> {
        Storage::full(0.0, len, dtype, device)
    }

    /// A buffer filled with `value`.
    pub fn full(value: f64, len: usize, dtype: DType, device: &Device) -> Result<Storage> {
        match device {
            Device::Cpu => Ok(Storage::Cpu(CpuStorage::full(value, len, dtype)?)),
            // Filled on the device: no host buffer of the full size, and an
            // allocation that does not fit is reported against the GPU.
            #[cfg(feature = "cuda")]
            Device::Cuda(i) => Ok(Storage::Cuda(super::cuda::CudaStorage::full(value, len, dtype, *i)?)),
        }
    }

    /// Moves host data onto `device`.
    pub fn from_cpu(cpu: CpuStorage, device: &Device) -> Result<Storage> {
        match device {
            Device::Cpu => Ok(Storage::Cpu(cpu)),
            #[cfg(feature = "cuda")]
            Device::Cuda(i) => Ok(Storage::Cuda(super::cuda::CudaStorage::from_cpu(&cpu, *i)?)),
        }
    }

    /// Copies to `device` (a no-op copy when it is already there).
    pub fn to_device(&self, device: &Device) -> Result<Storage> {
        match (self, device) {
            (Storage::Cpu(c), Device::Cpu) => Ok(Storage::Cpu(c.try_clone()?)),
            #[cfg(feature = "cuda")]
            _ => Storage::from_cpu(self.to_cpu()?, device),
        }
    }

    pub fn dtype(&self) -> DType {
        match self {
            Storage::Cpu(s) => s.dtype(),
            #[cfg(feature = "cuda")]
            Storage::Cuda(s) => s.dtype(),
        }
    }

    pub fn device(&self) -> Device {
        match self {
            Storage::Cpu(s) => s.device(),
            #[cfg(feature = "cuda")]
            Storage::Cuda(s) => s.device(),
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Storage::Cpu(s) => s.len(),
            #[cfg(feature = "cuda")]
            Storage::Cuda(s) => s.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn to_cpu(&self) -> Result<CpuStorage> {
        match self {
            Storage::Cpu(s) => s.try_clone(),
            #[cfg(feature = "cuda")]
            Storage::Cuda(s) => s.to_cpu(),
        }
    }

    pub fn unary(&self, op: UnaryOp) -> Result<Storage> {
        dispatch!(self, s => s.unary(op))
    }

    pub fn binary(&self, rhs: &Storage, op: BinaryOp, layout: &BinaryLayout) -> Result<Storage> {
        dispatch2!("binary", self, rhs, (a, b) => a.binary(b, op, layout))
    }

    pub fn where_cond(&self, on_true: &Storage, on_false: &Storage) -> Result<Storage> {
        match (self, on_true, on_false) {
            (Storage::Cpu(c), Storage::Cpu(t), Storage::Cpu(f)) => c.where_cond(t, f).map(Storage::Cpu),
            #[cfg(feature = "cuda")]
            (Storage::Cuda(c), Storage::Cuda(t), Storage::Cuda(f)) => c.where_cond(t, f).map(Storage::Cuda),
            #[cfg(feature = "cuda")]
            (c, t, _) => Err(Error::DeviceMismatch {
                op: "where_cond",
                lhs: c.device(),
                rhs: t.device(),
            }),
        }
    }

    pub fn reduce(&self, op: ReduceOp, outer: usize, len: usize, inner: usize) -> Result<Storage> {
        dispatch!(self, s => s.reduce(op, outer, len, inner))
    }

    pub fn matmul(&self, rhs: &Storage, spec: &MatmulSpec) -> Result<Storage> {
        dispatch2!("matmul", self, rhs, (a, b) => a.matmul(b, spec))
    }

    /// `bias + self @ rhs` in one pass on the host (f32/f64), the bias along
    /// the rows (`rows`) or columns of each batch item; `None` on other devices
    /// and dtypes, where the caller adds the bias itself.
    pub(crate) fn matmul_with_bias_on_host(
        &self,
        rhs: &Storage,
        bias: &Storage,
        spec: &MatmulSpec,
        rows: bool,
    ) -> Result<Option<Storage>> {
        match (self, rhs, bias) {
            (Storage::Cpu(a), Storage::Cpu(b), Storage::Cpu(c)) => {
                Ok(a.matmul_with_bias(b, c, spec, rows)?.map(Storage::Cpu))
            }
            #[cfg(feature = "cuda")]
            _ => Ok(None),
        }
    }

    /// The sum over the batch of `self_i @ rhs_i` as one matrix, on the host
    /// (f32/f64); `None` elsewhere, where the caller sums batched products.
    pub(crate) fn matmul_summed_on_host(&self, rhs: &Storage, spec: &MatmulSpec) -> Result<Option<Storage>> {
        match (self, rhs) {
            (Storage::Cpu(a), Storage::Cpu(b)) => Ok(a.matmul_summed(b, spec)?.map(Storage::Cpu)),
            #[cfg(feature = "cuda")]
            _ => Ok(None),
        }
    }

    pub fn copy_strided(&self, offset: usize, strides: &[usize], shape: &[usize]) -> Result<Storage> {
        dispatch!(self, s => s.copy_strided(offset, strides, shape))
    }

    pub fn cat(parts: &[&Storage], outer: usize) -> Result<Storage> {
        match parts.first() {
            None => Err(Error::invalid("cat", "no tensors given")),
            Some(Storage::Cpu(_)) => {
                let cpu: Vec<&CpuStorage> = parts
                    .iter()
                    .map(|p| match p {
                        Storage::Cpu(c) => Ok(c),
                        #[cfg(feature = "cuda")]
                        other => Err(Error::DeviceMismatch {
                            op: "cat",
                            lhs: Device::Cpu,
                            rhs: other.device(),
                        }),
                    })
                    .collect::<Result<_>>()?;
                CpuStorage::cat(&cpu, outer).map(Storage::Cpu)
            }
            #[cfg(feature = "cuda")]
            Some(first @ Storage::Cuda(_)) => {
                let gpu: Vec<&super::cuda::CudaStorage> = parts
                    .iter()
                    .map(|p| match p {
                        Storage::Cuda(c) => Ok(c),
                        other => Err(Error::DeviceMismatch {
                            op: "cat",
                            lhs: first.device(),
                            rhs: other.device(),
                        }),
                    })
                    .collect::<Result<_>>()?;
                super::cuda::CudaStorage::cat(&gpu, outer).map(Storage::Cuda)
            }
        }
    }

    pub fn to_dtype(&self, dtype: DType) -> Result<Storage> {
        dispatch!(self, s => s.to_dtype(dtype))
    }

    pub fn index_select(&self, ids: &Storage, outer: usize, dim: usize, inner: usize) -> Result<Storage> {
        dispatch2!("index_select", self, ids, (a, b) => a.index_select(b, outer, dim, inner))
    }

    pub fn index_add(&self, ids: &Storage, outer: usize, dim: usize, inner: usize) -> Result<Storage> {
        dispatch2!("index_add", self, ids, (a, b) => a.index_add(b, outer, dim, inner))
    }

    pub fn gather(&self, ids: &Storage, outer: usize, dim: usize, inner: usize) -> Result<Storage> {
        dispatch2!("gather", self, ids, (a, b) => a.gather(b, outer, dim, inner))
    }

    pub fn scatter_add(&self, ids: &Storage, outer: usize, dim: usize, inner: usize) -> Result<Storage> {
        dispatch2!("scatter_add", self, ids, (a, b) => a.scatter_add(b, outer, dim, inner))
    }

    pub fn im2col(&self, spec: &Im2ColSpec, pad_value: f64) -> Result<Storage> {
        dispatch!(self, s => s.im2col(spec, pad_value))
    }

    pub fn col2im(&self, spec: &Im2ColSpec) -> Result<Storage> {
        dispatch!(self, s => s.col2im(spec))
    }

    pub fn sort(&self, outer: usize, len: usize, inner: usize, descending: bool) -> Result<(Storage, Storage)> {
        match self {
            Storage::Cpu(s) => s
                .sort(outer, len, inner, descending)
                .map(|(v, i)| (Storage::Cpu(v), Storage::Cpu(i))),
            #[cfg(feature = "cuda")]
            Storage::Cuda(s) => s
                .sort(outer, len, inner, descending)
                .map(|(v, i)| (Storage::Cuda(v), Storage::Cuda(i))),
        }
    }

    pub fn scan(&self, op: ScanOp, outer: usize, len: usize, inner: usize, reverse: bool) -> Result<Storage> {
        dispatch!(self, s => s.scan(op, outer, len, inner, reverse))
    }
}
