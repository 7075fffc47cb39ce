//! Per-tensor asymmetric int8 quantization of activations, computed per call
//! (PyTorch's dynamic quantization: the range of the batch at hand).

#[cfg(test)]
use crate::backend::cpu::buffer;
use crate::{Error, Result};
use rayon::prelude::*;

/// Elements from which the range is split across threads: below it one
/// thread finishes before a hand-off to the pool would have.
const PAR_MIN_LEN: usize = 1 << 18;

/// Lanes of the min/max accumulators: four 512-bit registers of independent
/// chains, so that the adds' latency does not bound the loop.
const LANES: usize = 64;

/// The affine map of a quantized tensor: `x ≈ scale * (q - zero_point)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct AffineQuant {
    pub(crate) scale: f32,
    pub(crate) zero_point: i32,
}

impl AffineQuant {
    /// The map that sends `[min(lo, 0), max(hi, 0)]` onto `[-128, 127]`; zero
    /// is kept exact (a zero-padded input quantizes to the zero point).
    pub(crate) fn for_range(lo: f32, hi: f32) -> AffineQuant {
        let (lo, hi) = (lo.min(0.0), hi.max(0.0));
        let span = hi - lo;
        if span <= 0.0 || !span.is_finite() {
            return AffineQuant {
                scale: 1.0,
                zero_point: 0,
            };
        }
        // A span so small that its step is subnormal gets the smallest normal
        // step, so that `1 / scale` stays finite.
        let scale = (span / 255.0).max(f32::MIN_POSITIVE);
        let zero_point = (-128.0 - lo / scale).round_ties_even().clamp(-128.0, 127.0) as i32;
        AffineQuant { scale, zero_point }
    }
}

super::simd::simd_dispatch! {
    /// The smallest and largest value of `x` and 0, and whether every value
    /// is finite, on the calling thread.
    fn range_serial(x: &[f32]) -> (f32, f32, bool) {
        let (mut lo, mut hi, mut poison) = ([0f32; LANES], [0f32; LANES], [0f32; LANES]);
        let chunks = x.chunks_exact(LANES);
        let tail = chunks.remainder();
        for c in chunks {
            for l in 0..LANES {
                lo[l] = if c[l] < lo[l] { c[l] } else { lo[l] };
                hi[l] = if c[l] > hi[l] { c[l] } else { hi[l] };
                // NaN and infinities make the product NaN, and NaN sticks.
                poison[l] += c[l] * 0.0;
            }
        }
        for (l, &v) in tail.iter().enumerate() {
            lo[l] = lo[l].min(v);
            hi[l] = hi[l].max(v);
            poison[l] += v * 0.0;
        }
        let fold = |a: [f32; LANES], f: fn(f32, f32) -> f32| a.into_iter().fold(0f32, f);
        (fold(lo, f32::min), fold(hi, f32::max), poison.iter().all(|p| *p == 0.0))
    }
}

/// [`range_serial`] of `x`, split across threads when long.
fn range(x: &[f32]) -> (f32, f32, bool) {
    if x.len() < PAR_MIN_LEN {
        return range_serial(x);
    }
    x.par_chunks(PAR_MIN_LEN / 4)
        .map(range_serial)
        .reduce(|| (0.0, 0.0, true), |a, b| (a.0.min(b.0), a.1.max(b.1), a.2 && b.2))
}

/// Rounds `v` (already within `[-128, 127]`) to the nearest integer, ties to
/// even, with the float trick that vectorises: adding `1.5 * 2^23` pushes the
/// fraction bits out of the mantissa in the current (nearest-even) mode.
#[inline(always)]
fn round_in_range(v: f32) -> f32 {
    const MAGIC: f32 = 12_582_912.0;
    (v + MAGIC) - MAGIC
}

/// The map for `x`, from the range of its own values. Non-finite values are
/// an error: they have no place on an int8 grid and would poison every output.
pub(crate) fn dynamic_map(op: &'static str, x: &[f32]) -> Result<AffineQuant> {
    let (lo, hi, finite) = range(x);
    if !finite {
        let bad = x.iter().find(|v| !v.is_finite()).copied().unwrap_or(f32::NAN);
        return Err(Error::invalid(
            op,
            format!("the input holds {bad}; int8 quantization needs finite inputs"),
        ));
    }
    Ok(AffineQuant::for_range(lo, hi))
}

/// `x` on the grid of `map`, into `q` (same length), on the calling thread.
pub(crate) fn quantize_into(x: &[f32], q: &mut [i8], map: AffineQuant) {
    quantize_with(x, q, 1.0 / map.scale, map.zero_point as f32);
}

super::simd::simd_dispatch! {
    fn quantize_with(x: &[f32], q: &mut [i8], inv: f32, zp: f32) {
        for (d, &v) in q.iter_mut().zip(x) {
            // `max`/`min` (unlike `clamp`) send NaN to a bound, so the value
            // is always within [-128, 127] and integral after rounding.
            #[allow(clippy::manual_clamp)] // `clamp` keeps NaN, which the conversion below must not see
            let r = round_in_range((v * inv + zp).max(-128.0).min(127.0));
            // SAFETY: `r` is finite and within i32's range (see above), the
            // condition of `to_int_unchecked`; it lets the conversion vectorise
            // without the saturation checks of `as`.
            *d = unsafe { r.to_int_unchecked::<i32>() } as i8;
        }
    }
}

/// `x` quantized with the range of its own values ([`dynamic_map`]).
#[cfg(test)]
fn quantize_dynamic_activations(op: &'static str, x: &[f32]) -> Result<(Vec<i8>, AffineQuant)> {
    let map = dynamic_map(op, x)?;
    let mut q = buffer::zeroed::<i8>(x.len())?;
    quantize_into(x, &mut q, map);
    Ok((q, map))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_maps_onto_the_int8_grid_and_keeps_zero_exact() {
        let x: Vec<f32> = (0..40_000).map(|i| (i as f32 * 0.37).sin() * 3.0 - 0.5).collect();
        let (q, map) = quantize_dynamic_activations("t", &x).unwrap();
        let (lo, hi) = x.iter().fold((0f32, 0f32), |(a, b), &v| (a.min(v), b.max(v)));
        assert!((map.scale - (hi - lo) / 255.0).abs() < 1e-7);
        for (v, q) in x.iter().zip(&q) {
            let back = map.scale * (*q as i32 - map.zero_point) as f32;
            assert!((back - v).abs() <= map.scale * 0.5 + 1e-6, "{v} -> {q} -> {back}");
        }
        let (q0, m0) = quantize_dynamic_activations("t", &[0.0, 1.0, 2.0]).unwrap();
        assert_eq!(m0.zero_point, -128);
        assert_eq!(q0[0] as i32, m0.zero_point);
        assert_eq!(q0[2], 127);
        // All zeros, and the empty input: scale 1, zero point 0.
        assert_eq!(quantize_dynamic_activations("t", &[0.0; 5]).unwrap().0, vec![0; 5]);
        assert_eq!(quantize_dynamic_activations("t", &[]).unwrap().1.scale, 1.0);
    }

    #[test]
    fn rounding_is_to_nearest_even() {
        for (v, r) in [
            (0.5f32, 0.0f32),
            (1.5, 2.0),
            (-2.5, -2.0),
            (126.5, 126.0),
            (-127.6, -128.0),
            (3.2, 3.0),
        ] {
            assert_eq!(round_in_range(v), r, "{v}");
        }
    }

    #[test]
    fn non_finite_inputs_are_refused() {
        for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
            let mut x = vec![1.0f32; 300_000];
            x[41_234] = bad;
            let e = quantize_dynamic_activations("QuantizedLinear", &x)
                .unwrap_err()
                .to_string();
            assert!(e.contains("QuantizedLinear") && e.contains("finite"), "{e}");
            assert!(quantize_dynamic_activations("t", &x[41_230..41_240]).is_err());
        }
    }
}
