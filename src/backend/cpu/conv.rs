//! Patch extraction (im2col) and its adjoint, the basis of conv2d and pooling.

use super::float::CpuFloat;
use crate::backend::Im2ColSpec;
use rayon::prelude::*;

/// The output positions `o` in `0..out_len` whose input position
/// `o * stride + offset - pad` lies inside `0..in_len`, as a half-open range.
/// Computing it once per row keeps the bounds test out of the inner loops.
fn valid_outputs(out_len: usize, stride: usize, offset: usize, pad: usize, in_len: usize) -> (usize, usize) {
    // First o with o * stride + offset >= pad.
    let lo = pad.saturating_sub(offset).div_ceil(stride);
    // One past the last o with o * stride + offset < in_len + pad.
    let hi = (in_len + pad).saturating_sub(offset).div_ceil(stride);
    (lo.min(out_len), hi.min(out_len).max(lo.min(out_len)))
}

/// Input `(n, c, h, w)` to columns `(n, c*kh*kw, oh*ow)`; out-of-image taps read `pad_value`.
pub(super) fn im2col<T: CpuFloat>(x: &[T], s: &Im2ColSpec, pad_value: f64) -> Vec<T> {
    let (oh, ow) = (s.out_h(), s.out_w());
    let taps = s.kh * s.kw;
    let pad = T::from_f64(pad_value);
    let mut out = vec![pad; s.n * s.c * taps * oh * ow];
    if out.is_empty() {
        return out;
    }
    // One task per (image, channel) plane: its kh*kw column rows are contiguous.
    out.par_chunks_mut(taps * oh * ow).enumerate().for_each(|(p, rows)| {
        let plane = &x[p * s.h * s.w..][..s.h * s.w];
        for (tap, dst) in rows.chunks_mut(oh * ow).enumerate() {
            let (ki, kj) = (tap / s.kw, tap % s.kw);
            let (y_lo, y_hi) = valid_outputs(oh, s.stride.0, ki, s.padding.0, s.h);
            let (x_lo, x_hi) = valid_outputs(ow, s.stride.1, kj, s.padding.1, s.w);
            for oy in y_lo..y_hi {
                let y = oy * s.stride.0 + ki - s.padding.0;
                let src_row = &plane[y * s.w..][..s.w];
                let dst_row = &mut dst[oy * ow..][..ow];
                let first = x_lo * s.stride.1 + kj - s.padding.1;
                if s.stride.1 == 1 {
                    dst_row[x_lo..x_hi].copy_from_slice(&src_row[first..first + (x_hi - x_lo)]);
                } else {
                    for (d, &v) in dst_row[x_lo..x_hi]
                        .iter_mut()
                        .zip(src_row[first..].iter().step_by(s.stride.1))
                    {
                        *d = v;
                    }
                }
            }
        }
    });
    out
}

/// Columns `(n, c*kh*kw, oh*ow)` summed back into an image `(n, c, h, w)`.
pub(super) fn col2im<T: CpuFloat>(cols: &[T], s: &Im2ColSpec) -> Vec<T> {
    let (oh, ow) = (s.out_h(), s.out_w());
    let taps = s.kh * s.kw;
    let mut out = vec![T::zero(); s.n * s.c * s.h * s.w];
    if out.is_empty() {
        return out;
    }
    // One task per (image, channel) plane: no two tasks write the same pixel.
    out.par_chunks_mut(s.h * s.w).enumerate().for_each(|(p, plane)| {
        let rows = &cols[p * taps * oh * ow..][..taps * oh * ow];
        for (tap, src) in rows.chunks(oh * ow).enumerate() {
            let (ki, kj) = (tap / s.kw, tap % s.kw);
            let (y_lo, y_hi) = valid_outputs(oh, s.stride.0, ki, s.padding.0, s.h);
            let (x_lo, x_hi) = valid_outputs(ow, s.stride.1, kj, s.padding.1, s.w);
            for oy in y_lo..y_hi {
                let y = oy * s.stride.0 + ki - s.padding.0;
                let dst_row = &mut plane[y * s.w..][..s.w];
                let src_row = &src[oy * ow..][..ow];
                let first = x_lo * s.stride.1 + kj - s.padding.1;
                if s.stride.1 == 1 {
                    for (d, &v) in dst_row[first..first + (x_hi - x_lo)]
                        .iter_mut()
                        .zip(&src_row[x_lo..x_hi])
                    {
                        *d += v;
                    }
                } else {
                    for (d, &v) in dst_row[first..]
                        .iter_mut()
                        .step_by(s.stride.1)
                        .zip(&src_row[x_lo..x_hi])
                    {
                        *d += v;
                    }
                }
            }
        }
    });
    out
}

#[cfg(test)]
mod tests {
    use super::valid_outputs;

    /// Against the definition, over small sizes, strides, offsets and pads.
    #[test]
    fn valid_outputs_matches_brute_force() {
        for out_len in 0..7 {
            for stride in 1..4 {
                for offset in 0..4 {
                    for pad in 0..4 {
                        for in_len in 0..8 {
                            let inside: Vec<usize> = (0..out_len)
                                .filter(|&o| {
                                    let p = (o * stride + offset) as isize - pad as isize;
                                    p >= 0 && p < in_len as isize
                                })
                                .collect();
                            let (lo, hi) = valid_outputs(out_len, stride, offset, pad, in_len);
                            assert_eq!(
                                (lo..hi).collect::<Vec<_>>(),
                                inside,
                                "{out_len} {stride} {offset} {pad} {in_len}"
                            );
                        }
                    }
                }
            }
        }
    }
}
