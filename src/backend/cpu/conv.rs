//! Patch extraction (im2col) and its adjoint, the basis of conv2d and pooling.

use super::float::CpuFloat;
use crate::backend::Im2ColSpec;
use rayon::prelude::*;

/// Input `(n, c, h, w)` to columns `(n, c*kh*kw, oh*ow)`; out-of-image taps read `pad_value`.
pub(super) fn im2col<T: CpuFloat>(x: &[T], s: &Im2ColSpec, pad_value: f64) -> Vec<T> {
    let (oh, ow) = (s.out_h(), s.out_w());
    let rows = s.c * s.kh * s.kw;
    let pad = T::from_f64(pad_value);
    let mut out = vec![pad; s.n * rows * oh * ow];
    if out.is_empty() {
        return out;
    }
    // One task per (image, column row): rows are independent and long enough.
    out.par_chunks_mut(oh * ow).enumerate().for_each(|(r, dst)| {
        let (img, row) = (r / rows, r % rows);
        let (ch, ki, kj) = (row / (s.kh * s.kw), (row / s.kw) % s.kh, row % s.kw);
        let plane = &x[(img * s.c + ch) * s.h * s.w..][..s.h * s.w];
        for oy in 0..oh {
            let y = (oy * s.stride.0 + ki) as isize - s.padding.0 as isize;
            if y < 0 || y >= s.h as isize {
                continue;
            }
            let src_row = &plane[y as usize * s.w..][..s.w];
            let dst_row = &mut dst[oy * ow..][..ow];
            for (ox, d) in dst_row.iter_mut().enumerate() {
                let xx = (ox * s.stride.1 + kj) as isize - s.padding.1 as isize;
                if xx >= 0 && xx < s.w as isize {
                    *d = src_row[xx as usize];
                }
            }
        }
    });
    out
}

/// Columns `(n, c*kh*kw, oh*ow)` summed back into an image `(n, c, h, w)`.
pub(super) fn col2im<T: CpuFloat>(cols: &[T], s: &Im2ColSpec) -> Vec<T> {
    let (oh, ow) = (s.out_h(), s.out_w());
    let mut out = vec![T::zero(); s.n * s.c * s.h * s.w];
    if out.is_empty() {
        return out;
    }
    // One task per (image, channel) plane: no two tasks write the same pixel.
    out.par_chunks_mut(s.h * s.w).enumerate().for_each(|(p, plane)| {
        let (img, ch) = (p / s.c, p % s.c);
        for ki in 0..s.kh {
            for kj in 0..s.kw {
                let row = (ch * s.kh + ki) * s.kw + kj;
                let src = &cols[((img * s.c * s.kh * s.kw) + row) * oh * ow..][..oh * ow];
                for oy in 0..oh {
                    let y = (oy * s.stride.0 + ki) as isize - s.padding.0 as isize;
                    if y < 0 || y >= s.h as isize {
                        continue;
                    }
                    for ox in 0..ow {
                        let xx = (ox * s.stride.1 + kj) as isize - s.padding.1 as isize;
                        if xx >= 0 && xx < s.w as isize {
                            plane[y as usize * s.w + xx as usize] += src[oy * ow + ox];
                        }
                    }
                }
            }
        }
    });
    out
}
