//! Element types.

use half::{bf16, f16};
use serde::{Deserialize, Serialize};

/// The element type of a tensor.
///
/// `F16` and `BF16` are stored as 16-bit [`half`] values; the CPU backend computes
/// them in `f32` and rounds the results. `F64` exists mostly for gradient checks.
/// `I64` (and `I32`) hold class labels and indices (`argmax`, `index_select`,
/// `gather`, `one_hot`). `Bool` is what comparisons return (PyTorch's
/// `torch.bool`); `U8`, `I8` and `I32` are the other integer types PyTorch
/// stores. Integer arithmetic wraps on overflow, as in PyTorch; autograd only
/// flows through the float types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DType {
    F32,
    F64,
    F16,
    BF16,
    I64,
    Bool,
    U8,
    I8,
    I32,
}

impl DType {
    /// Bytes per element.
    pub fn size_in_bytes(self) -> usize {
        match self {
            DType::Bool | DType::U8 | DType::I8 => 1,
            DType::F16 | DType::BF16 => 2,
            DType::F32 | DType::I32 => 4,
            DType::F64 | DType::I64 => 8,
        }
    }

    /// True for the floating-point types, on which every op and autograd work
    /// (PyTorch's `is_floating_point`).
    pub fn is_float(self) -> bool {
        matches!(self, DType::F32 | DType::F64 | DType::F16 | DType::BF16)
    }

    /// True for the integer types `U8`, `I8`, `I32` and `I64` (not `Bool`).
    pub fn is_int(self) -> bool {
        matches!(self, DType::U8 | DType::I8 | DType::I32 | DType::I64)
    }

    /// True for the dtypes an index tensor may have (`I32` and `I64`).
    pub fn is_index(self) -> bool {
        matches!(self, DType::I32 | DType::I64)
    }

    /// Every dtype, in declaration order (for tests and exhaustive checks).
    pub const ALL: [DType; 9] = [
        DType::F32,
        DType::F64,
        DType::F16,
        DType::BF16,
        DType::I64,
        DType::Bool,
        DType::U8,
        DType::I8,
        DType::I32,
    ];

    /// The lower-case name used in messages and checkpoints (`"f32"`).
    pub fn as_str(self) -> &'static str {
        match self {
            DType::F32 => "f32",
            DType::F64 => "f64",
            DType::F16 => "f16",
            DType::BF16 => "bf16",
            DType::I64 => "i64",
            DType::Bool => "bool",
            DType::U8 => "u8",
            DType::I8 => "i8",
            DType::I32 => "i32",
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
    /// Converts from `f64` (rounding for the narrow float types; truncating
    /// toward zero and then wrapping for the integers, NaN giving 0; nonzero
    /// (NaN included) is `true` for `bool`), PyTorch's cast rules.
    fn from_f64(v: f64) -> Self;
    /// Converts to `f64` (`true` is 1).
    fn to_f64(self) -> f64;
    /// Converts from `i64`: wrapping for the narrower integers, nonzero is
    /// `true`, rounding to nearest for the floats.
    fn from_i64(v: i64) -> Self;
    /// Converts to `i64`: exact for the integers, `true` is 1, floats truncate
    /// toward zero (saturating at the range ends, NaN giving 0).
    fn to_i64(self) -> i64;
    /// `src` converted to `Self` by PyTorch's rules: through `i64` when `Self`
    /// is an integer type (so large `i64` values stay exact), through `f64`
    /// otherwise.
    #[inline]
    fn cast_from<S: WithDType>(src: S) -> Self {
        if Self::DTYPE.is_int() {
            Self::from_i64(src.to_i64())
        } else {
            Self::from_f64(src.to_f64())
        }
    }
    /// Wraps a vector into CPU storage.
    fn to_cpu_storage(v: Vec<Self>) -> crate::backend::cpu::CpuStorage;
    /// Borrows the matching vector out of CPU storage, if the dtype agrees.
    fn from_cpu_storage(s: &crate::backend::cpu::CpuStorage) -> Option<&[Self]>;
}

macro_rules! with_dtype {
    ($t:ty, $variant:ident, $from:expr, $to:expr) => {
        with_dtype!(
            $t,
            $variant,
            $from,
            $to,
            |v: i64| $from(v as f64),
            |v: $t| ($to(v) as i64)
        );
    };
    ($t:ty, $variant:ident, $from:expr, $to:expr, $from_i:expr, $to_i:expr) => {
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
            #[inline]
            fn from_i64(v: i64) -> Self {
                $from_i(v)
            }
            #[inline]
            fn to_i64(self) -> i64 {
                $to_i(self)
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
// Float to integer: truncate toward zero into i64 (Rust's `as` saturates and
// sends NaN to 0), then wrap into the narrower type, as PyTorch's CPU casts do.
with_dtype!(i64, I64, |v: f64| v as i64, |v: i64| v as f64, |v: i64| v, |v: i64| v);
with_dtype!(
    i32,
    I32,
    |v: f64| v as i64 as i32,
    |v: i32| v as f64,
    |v: i64| v as i32,
    |v: i32| v as i64
);
with_dtype!(
    i8,
    I8,
    |v: f64| v as i64 as i8,
    |v: i8| v as f64,
    |v: i64| v as i8,
    |v: i8| v as i64
);
with_dtype!(
    u8,
    U8,
    |v: f64| v as i64 as u8,
    |v: u8| v as f64,
    |v: i64| v as u8,
    |v: u8| v as i64
);
with_dtype!(
    bool,
    Bool,
    |v: f64| v != 0.0,
    |v: bool| if v { 1.0 } else { 0.0 },
    |v: i64| v != 0,
    |v: bool| v as i64
);
