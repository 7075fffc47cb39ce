//! The pure-Rust CPU backend: contiguous `Vec` buffers, the `gemm` crate for
//! matrix products and rayon for large element-wise work.

pub(crate) mod allocator;
pub(crate) mod buffer;
mod conv;
mod copy;
mod elementwise;
mod float;
mod index;
mod matmul;
mod parallel;
mod reduce;
mod scan;
mod sort;

pub use parallel::set_num_threads;

use super::ScanOp;
use super::{BackendStorage, BinaryLayout, BinaryOp, Im2ColSpec, MatmulSpec, ReduceOp, UnaryOp};
use crate::{DType, Device, Error, Result, WithDType};
use half::{bf16, f16};

/// A host buffer, one variant per dtype.
#[derive(Clone, Debug, PartialEq)]
pub enum CpuStorage {
    F32(Vec<f32>),
    F64(Vec<f64>),
    F16(Vec<f16>),
    BF16(Vec<bf16>),
    I64(Vec<i64>),
}

/// Runs `$body` with `$v` bound to the buffer as `&[f32]` or `&[f64]` (the
/// 16-bit types are widened to `f32` and the `Vec` result narrowed back).
macro_rules! float_map {
    ($s:expr, $op:expr, |$v:ident| $body:expr) => {
        match $s {
            CpuStorage::F32($v) => {
                let $v: &[f32] = $v;
                CpuStorage::F32($body?)
            }
            CpuStorage::F64($v) => {
                let $v: &[f64] = $v;
                CpuStorage::F64($body?)
            }
            CpuStorage::F16(h) => {
                let wide = float::widen_f16(h)?;
                let $v: &[f32] = &wide;
                CpuStorage::F16(float::narrow_f16(&$body?)?)
            }
            CpuStorage::BF16(h) => {
                let wide = float::widen_bf16(h)?;
                let $v: &[f32] = &wide;
                CpuStorage::BF16(float::narrow_bf16(&$body?)?)
            }
            CpuStorage::I64(_) => {
                return Err(Error::UnsupportedDType {
                    op: $op,
                    dtype: DType::I64,
                    hint: " (cast to a float dtype first)",
                });
            }
        }
    };
}

/// Like `float_map!` for two buffers of the same dtype.
macro_rules! float_map2 {
    ($a:expr, $b:expr, $op:expr, |$x:ident, $y:ident| $body:expr) => {
        match ($a, $b) {
            (CpuStorage::F32($x), CpuStorage::F32($y)) => {
                let ($x, $y): (&[f32], &[f32]) = ($x, $y);
                CpuStorage::F32($body?)
            }
            (CpuStorage::F64($x), CpuStorage::F64($y)) => {
                let ($x, $y): (&[f64], &[f64]) = ($x, $y);
                CpuStorage::F64($body?)
            }
            (CpuStorage::F16(a), CpuStorage::F16(b)) => {
                let (wa, wb) = (float::widen_f16(a)?, float::widen_f16(b)?);
                let ($x, $y): (&[f32], &[f32]) = (&wa, &wb);
                CpuStorage::F16(float::narrow_f16(&$body?)?)
            }
            (CpuStorage::BF16(a), CpuStorage::BF16(b)) => {
                let (wa, wb) = (float::widen_bf16(a)?, float::widen_bf16(b)?);
                let ($x, $y): (&[f32], &[f32]) = (&wa, &wb);
                CpuStorage::BF16(float::narrow_bf16(&$body?)?)
            }
            (a, b) if a.dtype() != b.dtype() => {
                return Err(Error::DTypeMismatch {
                    op: $op,
                    lhs: a.dtype(),
                    rhs: b.dtype(),
                });
            }
            (a, _) => {
                return Err(Error::UnsupportedDType {
                    op: $op,
                    dtype: a.dtype(),
                    hint: " (cast to a float dtype first)",
                });
            }
        }
    };
}

/// Runs `$body` for any dtype, with `$v` bound to the raw slice, for ops that
/// only move elements.
macro_rules! any_map {
    ($s:expr, |$v:ident| $body:expr) => {
        match $s {
            CpuStorage::F32($v) => CpuStorage::F32($body?),
            CpuStorage::F64($v) => CpuStorage::F64($body?),
            CpuStorage::F16($v) => CpuStorage::F16($body?),
            CpuStorage::BF16($v) => CpuStorage::BF16($body?),
            CpuStorage::I64($v) => CpuStorage::I64($body?),
        }
    };
}

impl CpuStorage {
    /// A buffer of `len` copies of `value`, or `OutOfMemory`.
    pub fn full(value: f64, len: usize, dtype: DType) -> Result<CpuStorage> {
        // Zeros (the common case) come from a zeroed allocation, which stays
        // lazy for large buffers instead of writing every byte.
        let zero = value == 0.0 && value.is_sign_positive();
        macro_rules! make {
            ($variant:ident, $v:expr) => {
                CpuStorage::$variant(if zero {
                    buffer::zeroed(len)?
                } else {
                    buffer::filled($v, len)?
                })
            };
        }
        Ok(match dtype {
            DType::F32 => make!(F32, value as f32),
            DType::F64 => make!(F64, value),
            DType::F16 => make!(F16, <f16 as WithDType>::from_f64(value)),
            DType::BF16 => make!(BF16, <bf16 as WithDType>::from_f64(value)),
            DType::I64 => make!(I64, value as i64),
        })
    }

    /// The elements converted to `T`, or `OutOfMemory`.
    pub fn to_vec<T: WithDType>(&self) -> Result<Vec<T>> {
        if let Some(s) = T::from_cpu_storage(self) {
            return buffer::copy_of(s);
        }
        let n = self.len();
        match self {
            CpuStorage::F32(v) => buffer::collect(n, v.iter().map(|&x| T::from_f64(x as f64))),
            CpuStorage::F64(v) => buffer::collect(n, v.iter().map(|&x| T::from_f64(x))),
            CpuStorage::F16(v) => buffer::collect(n, v.iter().map(|&x| T::from_f64(x.to_f64()))),
            CpuStorage::BF16(v) => buffer::collect(n, v.iter().map(|&x| T::from_f64(x.to_f64()))),
            CpuStorage::I64(v) => buffer::collect(n, v.iter().map(|&x| T::from_f64(x as f64))),
        }
    }

    /// A copy, or `OutOfMemory` (`clone` aborts the process instead).
    pub fn try_clone(&self) -> Result<CpuStorage> {
        Ok(match self {
            CpuStorage::F32(v) => CpuStorage::F32(buffer::copy_of(v)?),
            CpuStorage::F64(v) => CpuStorage::F64(buffer::copy_of(v)?),
            CpuStorage::F16(v) => CpuStorage::F16(buffer::copy_of(v)?),
            CpuStorage::BF16(v) => CpuStorage::BF16(buffer::copy_of(v)?),
            CpuStorage::I64(v) => CpuStorage::I64(buffer::copy_of(v)?),
        })
    }

    fn ids(&self, op: &'static str) -> Result<&[i64]> {
        match self {
            CpuStorage::I64(v) => Ok(v),
            other => Err(Error::invalid(
                op,
                format!("indices must have dtype i64, got {}", other.dtype()),
            )),
        }
    }
}

impl BackendStorage for CpuStorage {
    fn dtype(&self) -> DType {
        match self {
            CpuStorage::F32(_) => DType::F32,
            CpuStorage::F64(_) => DType::F64,
            CpuStorage::F16(_) => DType::F16,
            CpuStorage::BF16(_) => DType::BF16,
            CpuStorage::I64(_) => DType::I64,
        }
    }

    fn device(&self) -> Device {
        Device::Cpu
    }

    fn len(&self) -> usize {
        match self {
            CpuStorage::F32(v) => v.len(),
            CpuStorage::F64(v) => v.len(),
            CpuStorage::F16(v) => v.len(),
            CpuStorage::BF16(v) => v.len(),
            CpuStorage::I64(v) => v.len(),
        }
    }

    fn to_cpu(&self) -> Result<CpuStorage> {
        self.try_clone()
    }

    fn unary(&self, op: UnaryOp) -> Result<Self> {
        if let (CpuStorage::I64(v), UnaryOp::CmpScalar(c, s)) = (self, op) {
            return Ok(CpuStorage::I64(buffer::collect(
                v.len(),
                v.iter().map(|&x| c.eval(x as f64, s) as i64),
            )?));
        }
        Ok(float_map!(self, "unary", |v| elementwise::unary(v, op)))
    }

    fn binary(&self, rhs: &Self, op: BinaryOp, layout: &BinaryLayout) -> Result<Self> {
        if let (CpuStorage::I64(a), CpuStorage::I64(b), BinaryOp::Cmp(c)) = (self, rhs, op) {
            return Ok(CpuStorage::I64(elementwise::binary_map(a, b, layout, |x, y| {
                c.eval(x as f64, y as f64) as i64
            })?));
        }
        Ok(float_map2!(self, rhs, "binary", |a, b| elementwise::binary(
            a, b, op, layout
        )))
    }

    fn where_cond(&self, on_true: &Self, on_false: &Self) -> Result<Self> {
        let n = self.len();
        let mask: Vec<bool> = match self {
            CpuStorage::I64(v) => buffer::collect(n, v.iter().map(|&x| x != 0))?,
            CpuStorage::F32(v) => buffer::collect(n, v.iter().map(|&x| x != 0.0))?,
            CpuStorage::F64(v) => buffer::collect(n, v.iter().map(|&x| x != 0.0))?,
            CpuStorage::F16(v) => buffer::collect(n, v.iter().map(|&x| x.to_f32() != 0.0))?,
            CpuStorage::BF16(v) => buffer::collect(n, v.iter().map(|&x| x.to_f32() != 0.0))?,
        };
        if on_true.dtype() != on_false.dtype() {
            return Err(Error::DTypeMismatch {
                op: "where_cond",
                lhs: on_true.dtype(),
                rhs: on_false.dtype(),
            });
        }
        Ok(match (on_true, on_false) {
            (CpuStorage::F32(t), CpuStorage::F32(f)) => CpuStorage::F32(elementwise::select(&mask, t, f)?),
            (CpuStorage::F64(t), CpuStorage::F64(f)) => CpuStorage::F64(elementwise::select(&mask, t, f)?),
            (CpuStorage::F16(t), CpuStorage::F16(f)) => CpuStorage::F16(elementwise::select(&mask, t, f)?),
            (CpuStorage::BF16(t), CpuStorage::BF16(f)) => CpuStorage::BF16(elementwise::select(&mask, t, f)?),
            (CpuStorage::I64(t), CpuStorage::I64(f)) => CpuStorage::I64(elementwise::select(&mask, t, f)?),
            _ => unreachable!("dtypes checked equal above"),
        })
    }

    fn reduce(&self, op: ReduceOp, outer: usize, len: usize, inner: usize) -> Result<Self> {
        if matches!(op, ReduceOp::ArgMax | ReduceOp::ArgMin) {
            let idx = match self {
                CpuStorage::F32(v) => reduce::arg_reduce(v, op, outer, len, inner)?,
                CpuStorage::F64(v) => reduce::arg_reduce(v, op, outer, len, inner)?,
                CpuStorage::I64(v) => reduce::arg_reduce(v, op, outer, len, inner)?,
                // Half types order exactly as their f32 widening.
                _ => reduce::arg_reduce(&self.to_vec::<f32>()?, op, outer, len, inner)?,
            };
            return Ok(CpuStorage::I64(idx));
        }
        Ok(float_map!(self, "reduce", |v| reduce::reduce(v, op, outer, len, inner)))
    }

    fn matmul(&self, rhs: &Self, spec: &MatmulSpec) -> Result<Self> {
        Ok(float_map2!(self, rhs, "matmul", |a, b| matmul::matmul(a, b, spec)))
    }

    fn copy_strided(&self, offset: usize, strides: &[usize], shape: &[usize]) -> Result<Self> {
        Ok(any_map!(self, |v| copy::copy_strided(v, offset, strides, shape)))
    }

    fn cat(parts: &[&Self], outer: usize) -> Result<Self> {
        let dtype = parts[0].dtype();
        if let Some(p) = parts.iter().find(|p| p.dtype() != dtype) {
            return Err(Error::DTypeMismatch {
                op: "cat",
                lhs: dtype,
                rhs: p.dtype(),
            });
        }
        macro_rules! cat_as {
            ($variant:ident) => {{
                let slices: Vec<&[_]> = parts
                    .iter()
                    .map(|p| match p {
                        CpuStorage::$variant(v) => v.as_slice(),
                        _ => unreachable!("dtypes checked equal above"),
                    })
                    .collect();
                CpuStorage::$variant(copy::cat(&slices, outer)?)
            }};
        }
        Ok(match dtype {
            DType::F32 => cat_as!(F32),
            DType::F64 => cat_as!(F64),
            DType::F16 => cat_as!(F16),
            DType::BF16 => cat_as!(BF16),
            DType::I64 => cat_as!(I64),
        })
    }

    fn to_dtype(&self, dtype: DType) -> Result<Self> {
        Ok(match dtype {
            DType::F32 => CpuStorage::F32(self.to_vec()?),
            DType::F64 => CpuStorage::F64(self.to_vec()?),
            DType::F16 => CpuStorage::F16(self.to_vec()?),
            DType::BF16 => CpuStorage::BF16(self.to_vec()?),
            DType::I64 => CpuStorage::I64(self.to_vec()?),
        })
    }

    fn index_select(&self, ids: &Self, outer: usize, dim: usize, inner: usize) -> Result<Self> {
        let ids = ids.ids("index_select")?;
        index::check_ids(ids, dim, "index_select")?;
        Ok(any_map!(self, |v| index::index_select(v, ids, outer, dim, inner)))
    }

    fn index_add(&self, ids: &Self, outer: usize, dim: usize, inner: usize) -> Result<Self> {
        let ids = ids.ids("index_add")?;
        index::check_ids(ids, dim, "index_add")?;
        Ok(float_map!(self, "index_add", |v| index::index_add(
            v, ids, outer, dim, inner
        )))
    }

    fn gather(&self, ids: &Self, outer: usize, dim: usize, inner: usize) -> Result<Self> {
        let ids = ids.ids("gather")?;
        index::check_ids(ids, dim, "gather")?;
        Ok(any_map!(self, |v| index::gather(v, ids, outer, dim, inner)))
    }

    fn scatter_add(&self, ids: &Self, outer: usize, dim: usize, inner: usize) -> Result<Self> {
        let ids = ids.ids("scatter_add")?;
        index::check_ids(ids, dim, "scatter_add")?;
        Ok(float_map!(self, "scatter_add", |v| index::scatter_add(
            v, ids, outer, dim, inner
        )))
    }

    fn im2col(&self, spec: &Im2ColSpec, pad_value: f64) -> Result<Self> {
        Ok(float_map!(self, "im2col", |v| conv::im2col(v, spec, pad_value)))
    }

    fn col2im(&self, spec: &Im2ColSpec) -> Result<Self> {
        Ok(float_map!(self, "col2im", |v| conv::col2im(v, spec)))
    }

    fn sort(&self, outer: usize, len: usize, inner: usize, descending: bool) -> Result<(Self, Self)> {
        // Values are moved, never computed on: 16-bit floats sort as their own type.
        macro_rules! run {
            ($variant:ident, $v:expr) => {{
                let (v, i) = sort::sort($v, outer, len, inner, descending)?;
                (CpuStorage::$variant(v), CpuStorage::I64(i))
            }};
        }
        Ok(match self {
            CpuStorage::F32(v) => run!(F32, v),
            CpuStorage::F64(v) => run!(F64, v),
            CpuStorage::F16(v) => run!(F16, v),
            CpuStorage::BF16(v) => run!(BF16, v),
            CpuStorage::I64(v) => run!(I64, v),
        })
    }

    fn scan(&self, op: ScanOp, outer: usize, len: usize, inner: usize, reverse: bool) -> Result<Self> {
        Ok(float_map!(self, "scan", |v| scan::scan(
            v, op, outer, len, inner, reverse
        )))
    }
}
