//! The float types the CPU kernels are written for, and the 16-bit widening.

use super::buffer;
use crate::Result;
use crate::WithDType;
use half::{bf16, f16};

/// `f32` or `f64`: what the generic CPU kernels compute in.
pub(crate) trait CpuFloat:
    num_traits::Float + WithDType + std::iter::Sum + std::ops::AddAssign + Default + Send + Sync + buffer::ZeroBits
{
    fn erf(self) -> Self;
}

impl CpuFloat for f32 {
    #[inline]
    fn erf(self) -> Self {
        libm::erff(self)
    }
}

impl CpuFloat for f64 {
    #[inline]
    fn erf(self) -> Self {
        libm::erf(self)
    }
}

pub(super) fn widen_f16(v: &[f16]) -> Result<Vec<f32>> {
    buffer::par_map(v, |x| x.to_f32())
}
pub(super) fn narrow_f16(v: &[f32]) -> Result<Vec<f16>> {
    buffer::par_map(v, |&x| f16::from_f32(x))
}
pub(super) fn widen_bf16(v: &[bf16]) -> Result<Vec<f32>> {
    buffer::par_map(v, |x| x.to_f32())
}
pub(super) fn narrow_bf16(v: &[f32]) -> Result<Vec<bf16>> {
    buffer::par_map(v, |&x| bf16::from_f32(x))
}
