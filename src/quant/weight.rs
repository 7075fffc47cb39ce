//! Symmetric int8 quantization of a weight matrix, one scale per output row.

use crate::backend::cpu::buffer;
use crate::{Error, Result};

/// The largest magnitude a quantized weight takes. `-128` is left out so the
/// grid is symmetric (`-w` quantizes to `-q`), as TensorRT and PyTorch's
/// `per_channel_symmetric` with a restricted range do.
pub(crate) const WEIGHT_QMAX: f32 = 127.0;

/// `w` `[n, k]` as int8 values `q` and per-row scales `s` with
/// `w[j, i] ≈ s[j] * q[j, i]`: `s[j] = max_i |w[j, i]| / 127`, rounded to
/// nearest (ties to even). An all-zero row gets scale 1 so that the scale
/// stays a valid divisor. Non-finite weights are an error naming the row.
pub(crate) fn quantize_rows(op: &'static str, w: &[f32], n: usize, k: usize) -> Result<(Vec<i8>, Vec<f32>)> {
    let mut q = buffer::zeroed::<i8>(w.len())?;
    let mut scales = buffer::with_capacity::<f32>(n)?;
    if k == 0 {
        scales.resize(n, 1.0);
        return Ok((q, scales));
    }
    for (j, (row, qrow)) in w.chunks_exact(k).zip(q.chunks_exact_mut(k)).enumerate() {
        if let Some(bad) = row.iter().find(|v| !v.is_finite()) {
            return Err(Error::invalid(
                op,
                format!("weight row {j} holds {bad}; only finite weights can be quantized"),
            ));
        }
        let amax = row.iter().fold(0f32, |m, v| m.max(v.abs()));
        let scale = if amax > 0.0 { amax / WEIGHT_QMAX } else { 1.0 };
        let inv = 1.0 / scale;
        for (d, &v) in qrow.iter_mut().zip(row) {
            *d = (v * inv).round_ties_even().clamp(-WEIGHT_QMAX, WEIGHT_QMAX) as i8;
        }
        scales.push(scale);
    }
    Ok((q, scales))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_scale_to_their_largest_magnitude() {
        let w = [0.5f32, -1.0, 0.25, 0.0, 0.0, 0.0, 2.54, 1.27, -0.02];
        let (q, s) = quantize_rows("t", &w, 3, 3).unwrap();
        assert_eq!(s, vec![1.0 / 127.0, 1.0, 2.54 / 127.0]);
        // 0.5 * 127 = 63.5 rounds to even 64; 0.25 * 127 = 31.75 -> 32.
        assert_eq!(q, vec![64, -127, 32, 0, 0, 0, 127, 64, -1]);
        let e = quantize_rows("t", &[1.0, f32::NAN], 1, 2).unwrap_err().to_string();
        assert!(e.contains("row 0") && e.contains("NaN"), "{e}");
        assert_eq!(quantize_rows("t", &[], 2, 0).unwrap(), (vec![], vec![1.0, 1.0]));
    }
}
