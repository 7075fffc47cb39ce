//! Patch extraction (im2col) and its adjoint, the basis of conv2d and pooling.

use super::buffer;
use super::float::CpuFloat;
use crate::Result;
use crate::backend::Im2ColSpec;
use crate::shape::checked_numel;
use rayon::prelude::*;
use std::mem::MaybeUninit;

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

/// One output row of one kernel tap that reads inside the image.
struct TapRow {
    /// Output row.
    oy: usize,
    /// The input row it reads.
    y: usize,
    /// Output columns `x_lo..x_hi` read inside the image (never empty).
    x_lo: usize,
    x_hi: usize,
    /// The input column read by output column `x_lo`.
    first: usize,
}

/// The rows of kernel tap `tap` (`ki * kw + kj`) that touch the image; rows
/// and taps lying wholly in the padding yield nothing. The spec was validated,
/// so every position computed here is below the padded input size.
fn tap_rows(s: &Im2ColSpec, tap: usize) -> impl Iterator<Item = TapRow> + '_ {
    let (ki, kj) = (tap / s.kw * s.dilation.0, tap % s.kw * s.dilation.1);
    let (y_lo, y_hi) = valid_outputs(s.out_h(), s.stride.0, ki, s.pad_top, s.h);
    let (x_lo, x_hi) = valid_outputs(s.out_w(), s.stride.1, kj, s.pad_left, s.w);
    // An empty column range would make `first` meaningless (even negative).
    let rows = if x_lo < x_hi { y_lo..y_hi } else { 0..0 };
    rows.map(move |oy| TapRow {
        oy,
        y: oy * s.stride.0 + ki - s.pad_top,
        x_lo,
        x_hi,
        first: x_lo * s.stride.1 + kj - s.pad_left,
    })
}

/// Rejects a buffer whose length is not what the spec describes (internal misuse).
fn expect_len(len: usize, want: usize, op: &'static str) -> Result<()> {
    if len != want {
        return Err(crate::Error::invalid(
            op,
            format!("internal: the buffer holds {len} elements, the patch geometry needs {want}"),
        ));
    }
    Ok(())
}

/// Input `(n, c, h, w)` to columns `(n, c*kh*kw, oh*ow)`; out-of-image taps read `pad_value`.
pub(super) fn im2col<T: CpuFloat>(x: &[T], s: &Im2ColSpec, pad_value: f64) -> Result<Vec<T>> {
    s.validate("im2col")?;
    expect_len(x.len(), s.n * s.c * s.h * s.w, "im2col")?;
    let (oh, ow) = (s.out_h(), s.out_w());
    let taps = s.kh * s.kw;
    let pad = T::from_f64(pad_value);
    let len = checked_numel(&[s.n, s.c, s.kh, s.kw, oh, ow], "im2col")?;
    let mut out = buffer::with_capacity::<T>(len)?;
    if len == 0 {
        return Ok(out);
    }
    // One task per (image, channel) plane: its kh*kw column rows are contiguous.
    // Each element is written once, padding or pixel (no fill beforehand).
    out.spare_capacity_mut()[..len]
        .par_chunks_mut(taps * oh * ow)
        .enumerate()
        .for_each(|(p, rows)| {
            let plane = &x[p * s.h * s.w..][..s.h * s.w];
            for (tap, dst) in rows.chunks_mut(oh * ow).enumerate() {
                // Output rows before `next` are written.
                let mut next = 0;
                for r in tap_rows(s, tap) {
                    write_fill(&mut dst[next * ow..r.oy * ow], pad);
                    let src_row = &plane[r.y * s.w..][..s.w];
                    let dst_row = &mut dst[r.oy * ow..][..ow];
                    write_fill(&mut dst_row[..r.x_lo], pad);
                    let inside = &mut dst_row[r.x_lo..r.x_hi];
                    let copied = if s.stride.1 == 1 {
                        write_from(inside, src_row[r.first..].iter().copied())
                    } else {
                        write_from(inside, src_row[r.first..].iter().step_by(s.stride.1).copied())
                    };
                    // The tap geometry keeps every read inside the row, so `copied`
                    // covers `inside`; padding the rest keeps every slot written regardless.
                    write_fill(&mut inside[copied..], pad);
                    write_fill(&mut dst_row[r.x_hi..], pad);
                    next = r.oy + 1;
                }
                write_fill(&mut dst[next * ow..], pad);
            }
        });
    // SAFETY: the capacity is `len` and the tasks above wrote every one of its slots:
    // each plane's rows are split into tap blocks whose rows are written in order,
    // padding where no pixel is read; `len > 0` here (empty returned above).
    unsafe { out.set_len(len) };
    Ok(out)
}

/// Writes `v` into every slot of `dst`.
fn write_fill<T: Copy>(dst: &mut [MaybeUninit<T>], v: T) {
    dst.fill(MaybeUninit::new(v));
}

/// Writes `src` into the first slots of `dst`; returns how many were written.
fn write_from<T: Copy>(dst: &mut [MaybeUninit<T>], src: impl Iterator<Item = T>) -> usize {
    let mut written = 0;
    for (d, v) in dst.iter_mut().zip(src) {
        d.write(v);
        written += 1;
    }
    written
}

/// Columns `(n, c*kh*kw, oh*ow)` summed back into an image `(n, c, h, w)`.
pub(super) fn col2im<T: CpuFloat>(cols: &[T], s: &Im2ColSpec) -> Result<Vec<T>> {
    s.validate("col2im")?;
    let (oh, ow) = (s.out_h(), s.out_w());
    // validate checked this product.
    expect_len(cols.len(), s.n * s.c * s.kh * s.kw * oh * ow, "col2im")?;
    let taps = s.kh * s.kw;
    let mut out = buffer::zeroed(checked_numel(&[s.n, s.c, s.h, s.w], "col2im")?)?;
    if out.is_empty() {
        return Ok(out);
    }
    // One task per (image, channel) plane: no two tasks write the same pixel.
    out.par_chunks_mut(s.h * s.w).enumerate().for_each(|(p, plane)| {
        let rows = &cols[p * taps * oh * ow..][..taps * oh * ow];
        for (tap, src) in rows.chunks(oh * ow).enumerate() {
            for r in tap_rows(s, tap) {
                let dst_row = &mut plane[r.y * s.w..][..s.w];
                let src_row = &src[r.oy * ow..][..ow];
                if s.stride.1 == 1 {
                    for (d, &v) in dst_row[r.first..r.first + (r.x_hi - r.x_lo)]
                        .iter_mut()
                        .zip(&src_row[r.x_lo..r.x_hi])
                    {
                        *d += v;
                    }
                } else {
                    for (d, &v) in dst_row[r.first..]
                        .iter_mut()
                        .step_by(s.stride.1)
                        .zip(&src_row[r.x_lo..r.x_hi])
                    {
                        *d += v;
                    }
                }
            }
        }
    });
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::{col2im, im2col, valid_outputs};
    use crate::backend::Im2ColSpec;

    /// im2col by the definition, one element at a time.
    fn im2col_reference(x: &[f64], s: &Im2ColSpec, pad: f64) -> Vec<f64> {
        let (oh, ow) = (s.out_h(), s.out_w());
        let mut out = Vec::new();
        for p in 0..s.n * s.c {
            for ki in 0..s.kh {
                for kj in 0..s.kw {
                    for oy in 0..oh {
                        for ox in 0..ow {
                            let y = (oy * s.stride.0 + ki * s.dilation.0) as isize - s.pad_top as isize;
                            let xx = (ox * s.stride.1 + kj * s.dilation.1) as isize - s.pad_left as isize;
                            let inside = y >= 0 && xx >= 0 && (y as usize) < s.h && (xx as usize) < s.w;
                            out.push(if inside {
                                x[p * s.h * s.w + y as usize * s.w + xx as usize]
                            } else {
                                pad
                            });
                        }
                    }
                }
            }
        }
        out
    }

    /// Against the definition, including paddings wider than the kernel and
    /// strides that leave whole taps in the padding; col2im as its adjoint
    /// (<im2col(x), c> == <x, col2im(c)>).
    #[test]
    fn im2col_and_col2im_match_the_definition() {
        for (h, w, kh, kw, stride, dilation, [pt, pb, pl, pr]) in [
            (5, 4, 3, 3, (1, 1), (1, 1), [1, 1, 1, 1]),
            (6, 6, 2, 2, (2, 2), (1, 1), [0, 0, 0, 0]),
            (1, 1, 1, 1, (5, 5), (1, 1), [3, 3, 3, 3]),
            (3, 2, 1, 2, (2, 3), (1, 1), [4, 4, 2, 2]),
            (4, 5, 3, 2, (3, 1), (1, 1), [2, 2, 0, 0]),
            // dilation, asymmetric padding
            (7, 6, 3, 2, (1, 2), (2, 3), [2, 1, 0, 3]),
            (5, 5, 2, 3, (2, 1), (3, 2), [0, 2, 1, 0]),
            (4, 9, 2, 2, (3, 2), (2, 4), [1, 3, 2, 1]),
        ] {
            let s = Im2ColSpec {
                n: 2,
                c: 3,
                h,
                w,
                kh,
                kw,
                stride,
                dilation,
                pad_top: pt,
                pad_bottom: pb,
                pad_left: pl,
                pad_right: pr,
            };
            let x: Vec<f64> = (0..2 * 3 * h * w).map(|i| (i * 7 % 11) as f64 - 5.0).collect();
            let cols = im2col(&x, &s, -9.0).unwrap();
            assert_eq!(cols, im2col_reference(&x, &s, -9.0), "{s:?}");
            let c: Vec<f64> = (0..cols.len()).map(|i| (i * 5 % 13) as f64 - 6.0).collect();
            let zero_pad = im2col(&x, &s, 0.0).unwrap();
            let lhs: f64 = zero_pad.iter().zip(&c).map(|(a, b)| a * b).sum();
            let rhs: f64 = x.iter().zip(col2im(&c, &s).unwrap()).map(|(a, b)| a * b).sum();
            assert_eq!(lhs, rhs, "{s:?}");
        }
    }

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
