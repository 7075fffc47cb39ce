//! Max pooling read straight from the image: one pass that keeps each
//! window's maximum and where it was, with the bounds of every window worked
//! out once per row and column instead of per tap. The im2col form it replaces
//! (unfold every window, then an arg-reduction across the strided tap axis)
//! wrote and read `kh * kw` times the input and was 12% of a CNN training step.

use super::CpuStorage;
use super::buffer;
use super::float::CpuFloat;
use crate::Result;
use crate::backend::Im2ColSpec;
use crate::shape::checked_numel;
use rayon::prelude::*;

/// For each output position along one axis: the taps `lo..hi` that land
/// inside the input (taps in the padding never win), and the input position
/// of tap 0.
fn tap_ranges(
    out: usize,
    len: usize,
    k: usize,
    stride: usize,
    dilation: usize,
    pad: usize,
) -> Vec<(usize, usize, isize)> {
    (0..out)
        .map(|o| {
            let start = (o * stride) as isize - pad as isize;
            let inside = |t: &usize| {
                let p = start + (t * dilation) as isize;
                p >= 0 && (p as usize) < len
            };
            let lo = (0..k).find(inside).unwrap_or(k);
            let hi = (lo..k).rev().find(inside).map_or(lo, |t| t + 1);
            (lo, hi, start)
        })
        .collect()
}

/// Max pooling of `x`, `spec.n` planes of `h x w` (`spec.c` is 1): the
/// maxima and, for each, its index into the flattened plane (the first
/// maximum; a NaN wins, as in PyTorch). `None` for dtypes this path does not
/// cover (the caller unfolds instead).
pub(crate) fn max_pool2d(x: &CpuStorage, spec: &Im2ColSpec) -> Result<Option<(CpuStorage, Vec<i64>)>> {
    Ok(match x {
        CpuStorage::F32(v) => {
            let (m, i) = pool(v, spec)?;
            Some((CpuStorage::F32(m), i))
        }
        CpuStorage::F64(v) => {
            let (m, i) = pool(v, spec)?;
            Some((CpuStorage::F64(m), i))
        }
        _ => None,
    })
}

/// The larger of two values, NaN if either is.
#[inline]
fn nan_max<T: CpuFloat>(a: T, b: T) -> T {
    if a > b || a.is_nan() { a } else { b }
}

fn pool<T: CpuFloat>(x: &[T], s: &Im2ColSpec) -> Result<(Vec<T>, Vec<i64>)> {
    s.validate("max_pool2d")?;
    let (oh, ow) = (s.out_h(), s.out_w());
    let plane = s.h * s.w;
    let len = checked_numel(&[s.n, oh, ow], "max_pool2d")?;
    if x.len() != s.n * plane {
        return Err(crate::Error::invalid(
            "max_pool2d",
            format!(
                "internal: the input holds {} elements, the geometry needs {}",
                x.len(),
                s.n * plane
            ),
        ));
    }
    let mut values = buffer::filled(T::neg_infinity(), len)?;
    let mut index = buffer::filled(0i64, len)?;
    if len == 0 {
        return Ok((values, index));
    }
    let dense_2x2 = (s.kh, s.kw, s.stride, s.dilation, s.pad_top, s.pad_left) == (2, 2, (2, 2), (1, 1), 0, 0)
        && 2 * oh <= s.h
        && 2 * ow <= s.w;
    if dense_2x2 {
        // The CNN case: four taps, no padding, rows read as slices.
        values
            .par_chunks_mut(oh * ow)
            .zip(index.par_chunks_mut(oh * ow))
            .enumerate()
            .for_each(|(p, (vals, ids))| {
                let src = &x[p * plane..][..plane];
                for oy in 0..oh {
                    let (top, bottom) = (&src[2 * oy * s.w..][..2 * ow], &src[(2 * oy + 1) * s.w..][..2 * ow]);
                    let base = (2 * oy * s.w) as i64;
                    let out = vals[oy * ow..][..ow].iter_mut().zip(&mut ids[oy * ow..][..ow]);
                    let w = s.w as i64;
                    for (ox, ((v, id), (t, b))) in out.zip(top.chunks_exact(2).zip(bottom.chunks_exact(2))).enumerate()
                    {
                        // Branch-free: on random data each comparison is a coin toss,
                        // and mispredicted branches cost more than the arithmetic.
                        let m = nan_max(nan_max(t[0], t[1]), nan_max(b[0], b[1]));
                        let hit = |x: T| x == m || x.is_nan();
                        let mut k = if hit(b[1]) { w + 1 } else { 0 };
                        k = if hit(b[0]) { w } else { k };
                        k = if hit(t[1]) { 1 } else { k };
                        k = if hit(t[0]) { 0 } else { k };
                        *v = m;
                        *id = base + 2 * ox as i64 + k;
                    }
                }
            });
        return Ok((values, index));
    }
    let rows = tap_ranges(oh, s.h, s.kh, s.stride.0, s.dilation.0, s.pad_top);
    let cols = tap_ranges(ow, s.w, s.kw, s.stride.1, s.dilation.1, s.pad_left);
    let (dh, dw) = (s.dilation.0 as isize, s.dilation.1 as isize);
    values
        .par_chunks_mut(oh * ow)
        .zip(index.par_chunks_mut(oh * ow))
        .enumerate()
        .for_each(|(p, (vals, ids))| {
            let src = &x[p * plane..][..plane];
            for (oy, &(ki_lo, ki_hi, y0)) in rows.iter().enumerate() {
                for (ox, &(kj_lo, kj_hi, x0)) in cols.iter().enumerate() {
                    let (mut best, mut at) = (T::neg_infinity(), -1i64);
                    for ki in ki_lo..ki_hi {
                        // Inside the image by construction of the ranges.
                        let row = (y0 + ki as isize * dh) as usize * s.w;
                        for kj in kj_lo..kj_hi {
                            let i = row + (x0 + kj as isize * dw) as usize;
                            let v = src[i];
                            if at < 0 || v > best || (v.is_nan() && !best.is_nan()) {
                                best = v;
                                at = i as i64;
                            }
                        }
                    }
                    // A window wholly in the padding cannot occur (the padding is at
                    // most half the kernel), but would leave -inf at index 0.
                    vals[oy * ow + ox] = best;
                    ids[oy * ow + ox] = at.max(0);
                }
            }
        });
    Ok((values, index))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Against a by-the-definition pool over every tap, with padding,
    /// stride, dilation and ceil-mode end padding.
    #[test]
    fn matches_the_definition() {
        for (h, w, kh, kw, st, dil, [pt, pb, pl, pr]) in [
            (6, 6, 2, 2, (2, 2), (1, 1), [0, 0, 0, 0]),
            (7, 5, 2, 2, (2, 2), (1, 1), [0, 0, 0, 0]),
            (5, 7, 3, 3, (2, 2), (1, 1), [1, 1, 1, 1]),
            (7, 5, 3, 2, (1, 2), (2, 1), [1, 2, 0, 1]),
            (5, 5, 2, 2, (2, 2), (1, 1), [0, 1, 0, 1]),
        ] {
            let s = Im2ColSpec {
                n: 3,
                c: 1,
                h,
                w,
                kh,
                kw,
                stride: st,
                dilation: dil,
                pad_top: pt,
                pad_bottom: pb,
                pad_left: pl,
                pad_right: pr,
            };
            // Repeated values test the first-maximum rule.
            let x: Vec<f64> = (0..3 * h * w).map(|i| ((i * 7) % 5) as f64).collect();
            let (v, idx) = pool(&x, &s).unwrap();
            let (oh, ow) = (s.out_h(), s.out_w());
            for p in 0..3 {
                for oy in 0..oh {
                    for ox in 0..ow {
                        let mut best = (f64::NEG_INFINITY, -1i64);
                        for ki in 0..kh {
                            for kj in 0..kw {
                                let y = (oy * st.0 + ki * dil.0) as isize - pt as isize;
                                let xx = (ox * st.1 + kj * dil.1) as isize - pl as isize;
                                if y < 0 || xx < 0 || y >= h as isize || xx >= w as isize {
                                    continue;
                                }
                                let i = (y as usize * w + xx as usize) as i64;
                                let val = x[p * h * w + i as usize];
                                if best.1 < 0 || val > best.0 {
                                    best = (val, i);
                                }
                            }
                        }
                        let o = p * oh * ow + oy * ow + ox;
                        assert_eq!((v[o], idx[o]), best, "{s:?} plane {p} at {oy},{ox}");
                    }
                }
            }
        }
    }

    #[test]
    fn nan_wins_its_window() {
        let s = Im2ColSpec::symmetric(1, 1, (2, 2), (2, 2), (2, 2), (0, 0));
        let (v, idx) = pool(&[1.0f32, f32::NAN, 3.0, 2.0], &s).unwrap();
        assert!(v[0].is_nan());
        assert_eq!(idx, vec![1]);
        // The general path: 2x2 windows at stride 1 over a 2x3 plane.
        let s = Im2ColSpec::symmetric(1, 1, (2, 3), (2, 2), (1, 1), (0, 0));
        let (v, idx) = pool(&[1.0f64, 5.0, 2.0, f64::NAN, 0.0, 4.0], &s).unwrap();
        assert!(v[0].is_nan() && v[1] == 5.0);
        assert_eq!(idx, vec![3, 1]);
    }
}
