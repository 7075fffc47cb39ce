//! What the int8 layers share: their weights in the layout the product reads,
//! the forward pass over rows of a host input, and the input's quantization
//! map (fixed by calibration, or found per call).

use super::activation::{AffineQuant, dynamic_map, quantize_into};
use super::int8_gemm::{MR, PAR_MIN_MACS, PackedInt8Matrix};
use crate::backend::Storage;
use crate::backend::cpu::{CpuStorage, buffer};
use crate::{DType, Error, Result, Tensor};
use rayon::prelude::*;
use std::sync::{Arc, OnceLock};

/// Inner dimensions up to which `acc - zero_point * row_sum` is exact in
/// wrapping `i32` arithmetic: the true value is a sum of `k` terms
/// `(q - zp) * w` with `|q - zp| <= 255` and `|w| <= 128`, which fits when
/// `k * 255 * 128 < 2^31`. Deeper products take the `i64` path.
const I32_EPILOGUE_MAX_K: usize = 65_000;

/// A layer's int8 weight `[n, k]` packed for the CPU's kernel, with host
/// copies of its per-row scales and f32 bias.
pub(crate) struct Int8Weights {
    packed: PackedInt8Matrix,
    scales: Vec<f32>,
    bias: Vec<f32>,
}

/// The packed weights of a layer, built at its first call and dropped (by
/// replacing the cell) whenever one of its buffers is assigned or mapped.
pub(crate) type PackedCache = OnceLock<Arc<Int8Weights>>;

/// The cached weights, or weights packed from the layer's buffers: `weight`
/// I8 holding `n * k` values, `scale` `[n]`, `bias` `[n]` when present.
pub(crate) fn packed(
    cache: &PackedCache,
    weight: &Tensor,
    n: usize,
    k: usize,
    scale: &Tensor,
    bias: Option<&Tensor>,
) -> Result<Arc<Int8Weights>> {
    if let Some(p) = cache.get() {
        return Ok(p.clone());
    }
    let packed = PackedInt8Matrix::new(&weight.to_vec::<i8>()?, n, k)?;
    let scales = host_f32(scale)?;
    let bias = match bias {
        Some(b) => host_f32(b)?,
        None => buffer::zeroed::<f32>(n)?,
    };
    let p = Arc::new(Int8Weights { packed, scales, bias });
    // Another thread may have won the race; both built the same values.
    Ok(cache.get_or_init(|| p).clone())
}

/// The input's map: the calibrated one held in `qparams` (`[scale,
/// zero_point]`), or the range of `xs` itself when there is none.
pub(crate) fn input_map(op: &'static str, qparams: Option<&Tensor>, xs: &[f32]) -> Result<AffineQuant> {
    let Some(q) = qparams else {
        return dynamic_map(op, xs);
    };
    let v = host_f32(q)?;
    let (scale, zp) = (v[0], v[1]);
    let valid = scale.is_finite() && scale >= f32::MIN_POSITIVE && (-128.0..=127.0).contains(&zp) && zp.fract() == 0.0;
    if !valid {
        return Err(Error::invalid(
            op,
            format!(
                "input_qparams [{scale}, {zp}] are not a quantization map: expected a positive finite scale and an integer zero point in [-128, 127]"
            ),
        ));
    }
    if let Some(bad) = xs.iter().find(|v| v.is_nan()) {
        return Err(Error::invalid(
            op,
            format!("the input holds {bad}; int8 quantization needs finite inputs"),
        ));
    }
    Ok(AffineQuant {
        scale,
        zero_point: zp as i32,
    })
}

/// `xs` `[m, k]` (host f32) times the weights: `[m, n]` f32, in one parallel
/// region whose threads each take whole rows through quantization, product
/// and dequantization (hand-offs to the pool cost more than the work at small
/// batches).
pub(crate) fn forward_rows(p: &Int8Weights, xs: &[f32], m: usize, map: AffineQuant) -> Result<Vec<f32>> {
    let (n, k) = (p.packed.n(), p.packed.k());
    let mut y = buffer::zeroed::<f32>(crate::shape::checked_numel(&[m, n], "int8 layer")?)?;
    if k == 0 {
        // No inputs: every output is its bias.
        for row in y.chunks_exact_mut(n.max(1)) {
            row.copy_from_slice(&p.bias);
        }
    } else if m > 0 && n > 0 {
        let threads = rayon::current_num_threads();
        let macs = m.saturating_mul(n).saturating_mul(k);
        if threads > 1 && m > 1 && macs >= PAR_MIN_MACS {
            // Two tasks per thread, so that a core slowed by other work does
            // not leave the other waiting on its half.
            let rows = m.div_ceil(2 * threads).div_ceil(MR) * MR;
            y.par_chunks_mut(rows * n)
                .zip(xs.par_chunks(rows * k))
                .try_for_each(|(y, x)| layer_rows(p, x, y, map))?;
        } else {
            layer_rows(p, xs, &mut y, map)?;
        }
    }
    Ok(y)
}

/// Whole rows `x` (`[rows, k]`, `k > 0`) of the output into `y` (`[rows, n]`,
/// `n > 0`), on the calling thread: quantize with `map`, multiply exactly, and
/// dequantize:
/// `y[i, j] = x_scale * w_scale[j] * (acc[i, j] - zero_point * row_sum[j]) + bias[j]`.
fn layer_rows(p: &Int8Weights, x: &[f32], y: &mut [f32], map: AffineQuant) -> Result<()> {
    let (n, k) = (p.packed.n(), p.packed.k());
    let mut q = buffer::zeroed::<i8>(x.len())?;
    quantize_into(x, &mut q, map);
    let mut acc = buffer::zeroed::<i32>(y.len())?;
    p.packed.rows(&q, &mut acc)?;
    let mult = buffer::collect(n, p.scales.iter().map(|s| s * map.scale))?;
    let zp = map.zero_point as i64;
    if k <= I32_EPILOGUE_MAX_K {
        // Exact: the true difference fits i32, so wrapping arithmetic yields
        // it, and the i32 -> f32 conversion vectorises.
        let corr = buffer::collect(n, p.packed.row_sums().iter().map(|&r| (zp * r as i64) as i32))?;
        dequantize_i32(&acc, y, &corr, &mult, &p.bias);
    } else {
        let corr = buffer::collect(n, p.packed.row_sums().iter().map(|&r| zp * r as i64))?;
        for (yr, ar) in y.chunks_exact_mut(n).zip(acc.chunks_exact(n)) {
            for j in 0..n {
                yr[j] = (ar[j] as i64 - corr[j]) as f32 * mult[j] + p.bias[j];
            }
        }
    }
    Ok(())
}

super::simd::simd_dispatch! {
    /// The epilogue of [`layer_rows`] in wrapping `i32` (rows of `corr.len()`).
    fn dequantize_i32(acc: &[i32], y: &mut [f32], corr: &[i32], mult: &[f32], bias: &[f32]) {
        let n = corr.len();
        for (yr, ar) in y.chunks_exact_mut(n).zip(acc.chunks_exact(n)) {
            for ((((y, &a), &c), &m), &b) in yr.iter_mut().zip(ar).zip(corr).zip(mult).zip(bias) {
                *y = a.wrapping_sub(c) as f32 * m + b;
            }
        }
    }
}

/// Runs `f` on a tensor's values as host f32: borrowed when the tensor is an
/// f32 CPU tensor (no copy), copied otherwise.
pub(crate) fn with_host_f32<R>(t: &Tensor, f: impl FnOnce(&[f32]) -> Result<R>) -> Result<R> {
    {
        let storage = t.storage();
        if let Storage::Cpu(CpuStorage::F32(v)) = &*storage {
            return f(v);
        }
    }
    f(&host_f32(t)?)
}

/// A tensor's values as host f32, outside any graph.
pub(crate) fn host_f32(t: &Tensor) -> Result<Vec<f32>> {
    crate::no_grad(|| t.detach().to_dtype(DType::F32)?.to_vec::<f32>())
}
