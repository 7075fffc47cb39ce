//! The float types the CPU kernels are written for, and the 16-bit widening.

use crate::WithDType;
use half::{bf16, f16};
use rayon::prelude::*;

/// `f32` or `f64`: what the generic CPU kernels compute in.
pub(crate) trait CpuFloat:
    num_traits::Float + WithDType + std::iter::Sum + std::ops::AddAssign + Default + Send + Sync
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

pub(super) fn widen_f16(v: &[f16]) -> Vec<f32> {
    v.par_iter().with_min_len(4096).map(|x| x.to_f32()).collect()
}
pub(super) fn narrow_f16(v: &[f32]) -> Vec<f16> {
    v.par_iter().with_min_len(4096).map(|&x| f16::from_f32(x)).collect()
}
pub(super) fn widen_bf16(v: &[bf16]) -> Vec<f32> {
    v.par_iter().with_min_len(4096).map(|x| x.to_f32()).collect()
}
pub(super) fn narrow_bf16(v: &[f32]) -> Vec<bf16> {
    v.par_iter().with_min_len(4096).map(|&x| bf16::from_f32(x)).collect()
}
