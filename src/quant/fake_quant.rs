//! Fake quantization for quantization-aware training: values rounded to the
//! int8 grid and back in f32 in the forward pass, with the straight-through
//! estimator in the backward pass (gradient 1 where the value is inside the
//! grid's range, 0 where it was clamped), as PyTorch's `fake_quantize_*`.

use super::activation::AffineQuant;
use super::weight::WEIGHT_QMAX;
use crate::{DType, Result, Tensor};

/// Rounds to the nearest integer, ties to even, for values within ±2^22:
/// adding and removing `1.5 * 2^k` pushes the fraction out of the mantissa.
fn round_ties_even(t: &Tensor) -> Result<Tensor> {
    match t.dtype() {
        DType::F64 => {
            const M: f64 = 6_755_399_441_055_744.0;
            t.add_scalar(M)?.sub_scalar(M)
        }
        DType::F32 => {
            const M: f64 = 12_582_912.0;
            t.add_scalar(M)?.sub_scalar(M)
        }
        other => round_ties_even(&t.to_dtype(DType::F32)?)?.to_dtype(other),
    }
}

/// `x` on the grid of `map` (`scale * (clamp(round(x / scale) + zp) - zp)`),
/// differentiable by the straight-through estimator.
pub fn fake_quantize_activation(x: &Tensor, scale: f32, zero_point: i32) -> Result<Tensor> {
    let (s, zp) = (scale as f64, zero_point as f64);
    let (lo, hi) = ((-128.0 - zp) * s, (127.0 - zp) * s);
    // The clamp carries the gradient: 1 inside the range, 0 outside.
    let inside = x.clamp(lo, hi)?;
    let snapped = crate::no_grad(|| -> Result<Tensor> {
        // The reciprocal in f32, as the int8 layers compute it, so that both round alike.
        let q = round_ties_even(&inside.detach().affine((1.0f32 / scale) as f64, zp)?)?.clamp(-128.0, 127.0)?;
        q.affine(s, -zp * s)
    })?;
    inside.add(&snapped.sub(&inside.detach())?)
}

/// `w` `[out, ...]` on the symmetric per-output-channel int8 grid that
/// [`super::QuantizedLinear`] and [`super::QuantizedConv2d`] store (scale
/// `max |w[j]| / 127`), differentiable by the straight-through estimator
/// (the grid spans every weight, so nothing is clamped).
pub fn fake_quantize_weight(w: &Tensor) -> Result<Tensor> {
    let out = w.dims().first().copied().unwrap_or(0);
    let snapped = crate::no_grad(|| -> Result<Tensor> {
        let flat = w.detach().reshape((out, w.elem_count() / out.max(1)))?;
        let amax = flat.abs()?.max_dim(1, true)?;
        // An all-zero row keeps scale 1, as the quantizer does.
        let zero = amax.eq_scalar(0.0)?;
        let scale = zero
            .where_cond(&amax.ones_like()?, &amax)?
            .div_scalar(WEIGHT_QMAX as f64)?;
        let q = round_ties_even(&flat.div(&scale)?)?.clamp(-(WEIGHT_QMAX as f64), WEIGHT_QMAX as f64)?;
        q.mul(&scale)?.reshape(w.dims())
    })?;
    w.add(&snapped.sub(&w.detach())?)
}

/// The map of a range as the quantized layers compute it.
pub(crate) fn map_of(lo: f32, hi: f32) -> AffineQuant {
    AffineQuant::for_range(lo, hi)
}
