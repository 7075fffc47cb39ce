//! Element types.

use half::{bf16, f16};
use serde::{Deserialize, Serialize};

/// The element type of a tensor.
///
/// `F16` and `BF16` are stored as 16-bit [`half`] values; the CPU backend computes
/// them in `f32` and rounds the results. `F64` exists mostly for gradient checks.
/// `I64` holds class labels and indices (`argmax`, `index_select`, `gather`,
/// `one_hot`); arithmetic on it is not supported.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DType {
    F32,
    F64,
    F16,
    BF16,
    I64,
}

impl DType {
    /// Bytes per element.
    pub fn size_in_bytes(self) -> usize {
        match self {
            DType::F16 | DType::BF16 => 2,
            DType::F32 => 4,
            DType::F64 | DType::I64 => 8,
        }
    }

    /// True for the floating-point types, on which arithmetic and autograd work.
    pub fn is_float(self) -> bool {
        !matches!(self, DType::I64)
    }

    /// The lower-case name used in messages and checkpoints (`"f32"`).
    pub fn as_str(self) -> &'static str {
        match self {
            DType::F32 => "f32",
            DType::F64 => "f64",
            DType::F16 => "f16",
            DType::BF16 => "bf16",
            DType::I64 => "i64",
        }
    }
}

impl std::fmt::Display for DType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A Rust type that can be the element of a tensor.
pub trait WithDType: Copy + Send + Sync + 'static + std::fmt::Debug + PartialOrd {
    /// The matching [`DType`].
    const DTYPE: DType;
    /// Converts from `f64` (rounding for the narrow types).
    fn from_f64(v: f64) -> Self;
    /// Converts to `f64`.
    fn to_f64(self) -> f64;
    /// Wraps a vector into CPU storage.
    fn to_cpu_storage(v: Vec<Self>) -> crate::backend::cpu::CpuStorage;
    /// Borrows the matching vector out of CPU storage, if the dtype agrees.
    fn from_cpu_storage(s: &crate::backend::cpu::CpuStorage) -> Option<&[Self]>;
}

macro_rules! with_dtype {
    ($t:ty, $variant:ident, $from:expr, $to:expr) => {
        impl WithDType for $t {
            const DTYPE: DType = DType::$variant;
            #[inline]
            fn from_f64(v: f64) -> Self {
                $from(v)
            }
            #[inline]
            fn to_f64(self) -> f64 {
                $to(self)
            }
            fn to_cpu_storage(v: Vec<Self>) -> crate::backend::cpu::CpuStorage {
                crate::backend::cpu::CpuStorage::$variant(v)
            }
            fn from_cpu_storage(s: &crate::backend::cpu::CpuStorage) -> Option<&[Self]> {
                match s {
                    crate::backend::cpu::CpuStorage::$variant(v) => Some(v),
                    _ => None,
                }
            }
        }
    };
}

with_dtype!(f32, F32, |v: f64| v as f32, |v: f32| v as f64);
with_dtype!(f64, F64, |v: f64| v, |v: f64| v);
with_dtype!(f16, F16, |v: f64| f16::from_f32(f64_to_f32_round_odd(v)), |v: f16| v
    .to_f64());
with_dtype!(
    bf16,
    BF16,
    |v: f64| bf16::from_f32(f64_to_f32_round_odd(v)),
    |v: bf16| v.to_f64()
);

/// `v` rounded to f32 toward zero, with the last bit set when inexact ("round to
/// odd"). Rounding that to a 16-bit float to nearest even gives the correctly
/// rounded f64 -> f16/bf16 result: f32 keeps at least 2 more bits than either
/// (the kernels' `f64_to_bf16` in kernels/prelude.cuh does the same). The `half`
/// crate's `from_f64` drops low significand bits first and rounds some values
/// just above a halfway point down (65519.99999999999 to infinity as f16).
fn f64_to_f32_round_odd(v: f64) -> f32 {
    let r = v as f32;
    if !v.is_finite() || r as f64 == v {
        return r;
    }
    // One step toward zero when nearest rounding went away from it (this also
    // brings an overflow to infinity back to f32::MAX).
    let toward_zero = if (r as f64).abs() > v.abs() {
        f32::from_bits(r.to_bits() - 1)
    } else {
        r
    };
    f32::from_bits(toward_zero.to_bits() | 1)
}
with_dtype!(i64, I64, |v: f64| v as i64, |v: i64| v as f64);
