//! The pure-Rust CPU backend: contiguous `Vec` buffers, the `gemm` crate for
//! matrix products and rayon for large element-wise work.

pub(crate) mod allocator;
pub(crate) mod buffer;
mod conv;
mod copy;
mod elementwise;
mod float;
pub(crate) mod fused_update;
mod index;
pub(crate) mod int;
mod matmul;
mod parallel;
pub(crate) mod pool;
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
    Bool(Vec<bool>),
    U8(Vec<u8>),
    I8(Vec<i8>),
    I32(Vec<i32>),
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
            other => return Err(not_float($op, other.dtype())),
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
            (a, _) => return Err(not_float($op, a.dtype())),
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
            CpuStorage::Bool($v) => CpuStorage::Bool($body?),
            CpuStorage::U8($v) => CpuStorage::U8($body?),
            CpuStorage::I8($v) => CpuStorage::I8($body?),
            CpuStorage::I32($v) => CpuStorage::I32($body?),
        }
    };
}

/// Runs `$body` for any dtype with `$v` bound to the raw slice, returning
/// what the body returns (not re-wrapped into storage).
macro_rules! any_ref {
    ($s:expr, |$v:ident| $body:expr) => {
        match $s {
            CpuStorage::F32($v) => $body,
            CpuStorage::F64($v) => $body,
            CpuStorage::F16($v) => $body,
            CpuStorage::BF16($v) => $body,
            CpuStorage::I64($v) => $body,
            CpuStorage::Bool($v) => $body,
            CpuStorage::U8($v) => $body,
            CpuStorage::I8($v) => $body,
            CpuStorage::I32($v) => $body,
        }
    };
}

/// Like `any_map!` for two buffers that must share a dtype.
macro_rules! any_map2 {
    ($a:expr, $b:expr, $op:expr, |$x:ident, $y:ident| $body:expr) => {
        match ($a, $b) {
            (CpuStorage::F32($x), CpuStorage::F32($y)) => CpuStorage::F32($body?),
            (CpuStorage::F64($x), CpuStorage::F64($y)) => CpuStorage::F64($body?),
            (CpuStorage::F16($x), CpuStorage::F16($y)) => CpuStorage::F16($body?),
            (CpuStorage::BF16($x), CpuStorage::BF16($y)) => CpuStorage::BF16($body?),
            (CpuStorage::I64($x), CpuStorage::I64($y)) => CpuStorage::I64($body?),
            (CpuStorage::Bool($x), CpuStorage::Bool($y)) => CpuStorage::Bool($body?),
            (CpuStorage::U8($x), CpuStorage::U8($y)) => CpuStorage::U8($body?),
            (CpuStorage::I8($x), CpuStorage::I8($y)) => CpuStorage::I8($body?),
            (CpuStorage::I32($x), CpuStorage::I32($y)) => CpuStorage::I32($body?),
            (a, b) => {
                return Err(Error::DTypeMismatch {
                    op: $op,
                    lhs: a.dtype(),
                    rhs: b.dtype(),
                });
            }
        }
    };
}

/// Like `any_ref!` for two buffers that must share a dtype.
macro_rules! any_ref2 {
    ($a:expr, $b:expr, $op:expr, |$x:ident, $y:ident| $body:expr) => {
        match ($a, $b) {
            (CpuStorage::F32($x), CpuStorage::F32($y)) => $body,
            (CpuStorage::F64($x), CpuStorage::F64($y)) => $body,
            (CpuStorage::F16($x), CpuStorage::F16($y)) => $body,
            (CpuStorage::BF16($x), CpuStorage::BF16($y)) => $body,
            (CpuStorage::I64($x), CpuStorage::I64($y)) => $body,
            (CpuStorage::Bool($x), CpuStorage::Bool($y)) => $body,
            (CpuStorage::U8($x), CpuStorage::U8($y)) => $body,
            (CpuStorage::I8($x), CpuStorage::I8($y)) => $body,
            (CpuStorage::I32($x), CpuStorage::I32($y)) => $body,
            (a, b) => {
                return Err(Error::DTypeMismatch {
                    op: $op,
                    lhs: a.dtype(),
                    rhs: b.dtype(),
                });
            }
        }
    };
}

/// Runs `$body` for the integer dtypes with `$v` bound to the slice, wrapping
/// the result back into storage of the same dtype; `$other` for the rest.
macro_rules! int_map {
    ($s:expr, |$v:ident| $body:expr, $other:ident => $fallback:expr) => {
        match $s {
            CpuStorage::I64($v) => CpuStorage::I64($body?),
            CpuStorage::U8($v) => CpuStorage::U8($body?),
            CpuStorage::I8($v) => CpuStorage::I8($body?),
            CpuStorage::I32($v) => CpuStorage::I32($body?),
            $other => $fallback,
        }
    };
}

/// Like `int_map!` for two buffers of the same integer dtype.
macro_rules! int_map2 {
    ($a:expr, $b:expr, |$x:ident, $y:ident| $body:expr, $other:pat => $fallback:expr) => {
        match ($a, $b) {
            (CpuStorage::I64($x), CpuStorage::I64($y)) => CpuStorage::I64($body?),
            (CpuStorage::U8($x), CpuStorage::U8($y)) => CpuStorage::U8($body?),
            (CpuStorage::I8($x), CpuStorage::I8($y)) => CpuStorage::I8($body?),
            (CpuStorage::I32($x), CpuStorage::I32($y)) => CpuStorage::I32($body?),
            $other => $fallback,
        }
    };
}

/// The error for a float-only op reached with an integer or bool buffer.
pub(crate) fn not_float(op: &'static str, dtype: DType) -> Error {
    Error::UnsupportedDType {
        op,
        dtype,
        hint: " (defined for float dtypes only: cast with to_dtype(DType::F32) first)",
    }
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
            DType::I64 => make!(I64, <i64 as WithDType>::from_f64(value)),
            DType::Bool => make!(Bool, value != 0.0),
            DType::U8 => make!(U8, <u8 as WithDType>::from_f64(value)),
            DType::I8 => make!(I8, <i8 as WithDType>::from_f64(value)),
            DType::I32 => make!(I32, <i32 as WithDType>::from_f64(value)),
        })
    }

    /// The elements converted to `T`, or `OutOfMemory`.
    pub fn to_vec<T: WithDType>(&self) -> Result<Vec<T>> {
        if let Some(s) = T::from_cpu_storage(self) {
            return buffer::copy_of(s);
        }
        // PyTorch's casts: floats truncate toward zero into integers, nonzero
        // is `true`, integers wrap into narrower integers (`WithDType::cast_from`).
        any_ref!(self, |v| buffer::par_map(v, |&x| T::cast_from(x)))
    }

    /// A copy, or `OutOfMemory` (`clone` aborts the process instead).
    pub fn try_clone(&self) -> Result<CpuStorage> {
        Ok(any_map!(self, |v| buffer::copy_of(v)))
    }

    /// The buffer as `i64` indices: borrowed for `I64`, widened for `I32`.
    fn ids(&self, op: &'static str) -> Result<std::borrow::Cow<'_, [i64]>> {
        match self {
            CpuStorage::I64(v) => Ok(std::borrow::Cow::Borrowed(v)),
            CpuStorage::I32(v) => Ok(std::borrow::Cow::Owned(buffer::par_map(v, |&i| i as i64)?)),
            other => Err(Error::invalid(
                op,
                format!("indices must have dtype i64 or i32, got {}", other.dtype()),
            )),
        }
    }

    /// The elements as a `bool` mask (nonzero is `true`, NaN included).
    pub(crate) fn to_mask(&self) -> Result<std::borrow::Cow<'_, [bool]>> {
        match self {
            CpuStorage::Bool(v) => Ok(std::borrow::Cow::Borrowed(v)),
            other => Ok(std::borrow::Cow::Owned(other.to_vec::<bool>()?)),
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
            CpuStorage::Bool(_) => DType::Bool,
            CpuStorage::U8(_) => DType::U8,
            CpuStorage::I8(_) => DType::I8,
            CpuStorage::I32(_) => DType::I32,
        }
    }

    fn device(&self) -> Device {
        Device::Cpu
    }

    fn len(&self) -> usize {
        any_ref!(self, |v| v.len())
    }

    fn to_cpu(&self) -> Result<CpuStorage> {
        self.try_clone()
    }

    fn unary(&self, op: UnaryOp) -> Result<Self> {
        if let UnaryOp::CmpScalar(c, s) = op {
            return Ok(CpuStorage::Bool(any_ref!(self, |v| elementwise::compare_scalar(
                v, c, s
            ))?));
        }
        Ok(int_map!(self, |v| int::unary(v, op), other => {
            float_map!(other, "unary", |v| elementwise::unary(v, op))
        }))
    }

    fn binary(&self, rhs: &Self, op: BinaryOp, layout: &BinaryLayout) -> Result<Self> {
        if let BinaryOp::Cmp(c) = op {
            return Ok(CpuStorage::Bool(any_ref2!(self, rhs, "binary", |a, b| {
                elementwise::compare(a, b, c, layout)
            })?));
        }
        Ok(int_map2!(self, rhs, |a, b| int::binary(a, b, op, layout), (a, b) => {
            float_map2!(a, b, "binary", |a, b| elementwise::binary(a, b, op, layout))
        }))
    }

    fn where_cond(&self, on_true: &Self, on_false: &Self) -> Result<Self> {
        let mask = self.to_mask()?;
        Ok(any_map2!(on_true, on_false, "where_cond", |t, f| elementwise::select(
            &mask, t, f
        )))
    }

    fn reduce(&self, op: ReduceOp, outer: usize, len: usize, inner: usize) -> Result<Self> {
        if matches!(op, ReduceOp::ArgMax | ReduceOp::ArgMin) {
            let idx = match self {
                CpuStorage::F32(v) => reduce::arg_reduce(v, op, outer, len, inner)?,
                CpuStorage::F64(v) => reduce::arg_reduce(v, op, outer, len, inner)?,
                // Half types order exactly as their f32 widening.
                CpuStorage::F16(_) | CpuStorage::BF16(_) => {
                    reduce::arg_reduce(&self.to_vec::<f32>()?, op, outer, len, inner)?
                }
                // Integers and bools order exactly as their i64 widening.
                CpuStorage::I64(v) => reduce::arg_reduce(v, op, outer, len, inner)?,
                other => reduce::arg_reduce(&other.to_vec::<i64>()?, op, outer, len, inner)?,
            };
            return Ok(CpuStorage::I64(idx));
        }
        Ok(int_map!(self, |v| int::reduce(v, op, outer, len, inner), other => {
            float_map!(other, "reduce", |v| reduce::reduce(v, op, outer, len, inner))
        }))
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
            DType::Bool => cat_as!(Bool),
            DType::U8 => cat_as!(U8),
            DType::I8 => cat_as!(I8),
            DType::I32 => cat_as!(I32),
        })
    }

    fn to_dtype(&self, dtype: DType) -> Result<Self> {
        Ok(match dtype {
            DType::F32 => CpuStorage::F32(self.to_vec()?),
            DType::F64 => CpuStorage::F64(self.to_vec()?),
            DType::F16 => CpuStorage::F16(self.to_vec()?),
            DType::BF16 => CpuStorage::BF16(self.to_vec()?),
            DType::I64 => CpuStorage::I64(self.to_vec()?),
            DType::Bool => CpuStorage::Bool(self.to_vec()?),
            DType::U8 => CpuStorage::U8(self.to_vec()?),
            DType::I8 => CpuStorage::I8(self.to_vec()?),
            DType::I32 => CpuStorage::I32(self.to_vec()?),
        })
    }

    fn index_select(&self, ids: &Self, outer: usize, dim: usize, inner: usize) -> Result<Self> {
        let ids = ids.ids("index_select")?;
        index::check_ids(&ids, dim, "index_select")?;
        Ok(any_map!(self, |v| index::index_select(v, &ids, outer, dim, inner)))
    }

    fn index_add(&self, ids: &Self, outer: usize, dim: usize, inner: usize) -> Result<Self> {
        let ids = ids.ids("index_add")?;
        index::check_ids(&ids, dim, "index_add")?;
        Ok(float_map!(self, "index_add", |v| index::index_add(
            v, &ids, outer, dim, inner
        )))
    }

    fn gather(&self, ids: &Self, outer: usize, dim: usize, inner: usize) -> Result<Self> {
        let ids = ids.ids("gather")?;
        index::check_ids(&ids, dim, "gather")?;
        Ok(any_map!(self, |v| index::gather(v, &ids, outer, dim, inner)))
    }

    fn scatter_add(&self, ids: &Self, outer: usize, dim: usize, inner: usize) -> Result<Self> {
        let ids = ids.ids("scatter_add")?;
        index::check_ids(&ids, dim, "scatter_add")?;
        Ok(float_map!(self, "scatter_add", |v| index::scatter_add(
            v, &ids, outer, dim, inner
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
            CpuStorage::I32(v) => run!(I32, v),
            CpuStorage::I8(v) => run!(I8, v),
            CpuStorage::U8(v) => run!(U8, v),
            CpuStorage::Bool(v) => run!(Bool, v),
        })
    }

    fn scan(&self, op: ScanOp, outer: usize, len: usize, inner: usize, reverse: bool) -> Result<Self> {
        Ok(float_map!(self, "scan", |v| scan::scan(
            v, op, outer, len, inner, reverse
        )))
    }
}
