//! The AVX-512 VNNI kernel: `vpdpbusd` multiplies unsigned bytes by signed
//! bytes and adds each group of four products into an `i32` lane. The left
//! operand is shifted to unsigned (`a + 128`, a flip of the sign bit) and
//! `128 * sum_k w[j, k]` is subtracted from every sum afterwards, which is
//! exact: the four products of a group are at most `4 * 255 * 128`, far
//! inside `i32`, and the lane sums wrap only where the final result would not
//! fit, which [`super::MAX_INT8_DEPTH`] rules out.

use super::PackedInt8Matrix;
use crate::Result;

/// Whether the CPU runs this kernel.
pub(super) fn available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        is_x86_feature_detected!("avx512f")
            && is_x86_feature_detected!("avx512bw")
            && is_x86_feature_detected!("avx512vnni")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// The product for the rows of `a` into `out` (whole rows of both).
pub(super) fn rows(p: &PackedInt8Matrix, a: &[i8], out: &mut [i32]) -> Result<()> {
    #[cfg(target_arch = "x86_64")]
    {
        use crate::backend::cpu::buffer;
        use crate::shape::checked_numel;
        if !available() {
            return Err(crate::Error::invalid(
                "int8 matmul",
                "this CPU cannot run the avx512vnni kernel",
            ));
        }
        let (k, kp, n) = (p.k, p.k_padded, p.n);
        let m = out.len() / n;
        // Shifted, padded rows; the padding meets zero weights, so its value is moot.
        let mut shifted = buffer::filled(0x80u8, checked_numel(&[m, kp], "int8 matmul")?)?;
        for (dst, src) in shifted.chunks_exact_mut(kp).zip(a.chunks_exact(k)) {
            for (d, &s) in dst.iter_mut().zip(src) {
                *d = s as u8 ^ 0x80;
            }
        }
        let panels = n.div_ceil(16);
        let mut corrections = buffer::zeroed::<i32>(panels * 16)?;
        for (c, &s) in corrections.iter_mut().zip(&p.row_sums) {
            *c = s.wrapping_mul(128);
        }
        // SAFETY: the CPU has AVX512F/BW/VNNI (checked above); `shifted` holds `m` rows of `kp` bytes, `p.data`
        // `panels` panels of `16 * kp` bytes, `corrections` `panels * 16` values and `out` `m * n`: the sizes
        // `all_rows` reads and writes. `m, n, k > 0` here (the caller returns on empty products), so none is empty.
        unsafe { all_rows(&shifted, &p.data, &corrections, m, n, kp, out) };
        Ok(())
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = (p, a, out);
        Err(crate::Error::invalid(
            "int8 matmul",
            "the avx512vnni kernel exists only on x86-64",
        ))
    }
}

/// Every row block against every panel pair.
///
/// # Safety
/// The CPU must have AVX512F, AVX512BW and AVX512VNNI; the slices must have
/// the sizes listed in [`rows`].
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
unsafe fn all_rows(a: &[u8], b: &[i8], corr: &[i32], m: usize, n: usize, kp: usize, out: &mut [i32]) {
    let panels = n.div_ceil(16);
    // Panel pairs outside, rows inside: a pair (32 columns of all of `k`)
    // stays in L1 while every row block passes over it, and the rows'
    // bytes, read as 4-byte broadcasts, stream from L2 at a fraction of
    // the rate the weights would.
    let mut pi = 0;
    while pi < panels {
        let pair = pi + 1 < panels;
        // Blocks of 8 rows (16 accumulators, two weight vectors and a
        // broadcast: 19 of the 32 registers), then 4, 2 and 1 for the rest.
        let mut r0 = 0;
        while r0 < m {
            let rows = match m - r0 {
                8.. => 8,
                4..=7 => 4,
                2 | 3 => 2,
                _ => 1,
            };
            let t = Tile {
                a: &a[r0 * kp..],
                b: &b[pi * 16 * kp..],
                corr: &corr[pi * 16..],
                kp,
                n,
                col0: pi * 16,
            };
            let o = &mut out[r0 * n..];
            // SAFETY: the features are this function's; `t` starts at row `r0` and panel
            // `pi`, and the row count (at most `m - r0`) and panel count passed stay
            // inside the slices.
            unsafe {
                match (rows, pair) {
                    (8, true) => tile::<8, 2>(&t, o),
                    (8, false) => tile::<8, 1>(&t, o),
                    (4, true) => tile::<4, 2>(&t, o),
                    (4, false) => tile::<4, 1>(&t, o),
                    (2, true) => tile::<2, 2>(&t, o),
                    (2, false) => tile::<2, 1>(&t, o),
                    (_, true) => tile::<1, 2>(&t, o),
                    (_, false) => tile::<1, 1>(&t, o),
                }
            }
            r0 += rows;
        }
        pi += if pair { 2 } else { 1 };
    }
}

/// One micro-tile's operands: rows from `a`, panels from `b`.
#[cfg(target_arch = "x86_64")]
struct Tile<'a> {
    a: &'a [u8],
    b: &'a [i8],
    corr: &'a [i32],
    kp: usize,
    n: usize,
    col0: usize,
}

/// `R` rows times `P` panels of 16 columns, accumulated over all of `k`.
///
/// # Safety
/// The CPU must have AVX512F/BW/VNNI; `t.a` must hold `R` rows of `t.kp`
/// bytes, `t.b` `P` panels of `16 * t.kp`, `t.corr` `16 * P` values, and
/// `out` `R` rows of `t.n` from column 0 of the tile's first row.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
unsafe fn tile<const R: usize, const P: usize>(t: &Tile<'_>, out: &mut [i32]) {
    use std::arch::x86_64::*;
    debug_assert!(t.a.len() >= R * t.kp && t.b.len() >= P * 16 * t.kp && t.corr.len() >= 16 * P);
    let mut acc = [[_mm512_setzero_si512(); P]; R];
    let (a, b) = (t.a.as_ptr(), t.b.as_ptr());
    for g in 0..t.kp / 4 {
        let mut bv = [_mm512_setzero_si512(); P];
        for (q, v) in bv.iter_mut().enumerate() {
            // SAFETY: panel `q` holds `t.kp / 4` groups of 64 bytes; `g` is one of them.
            *v = unsafe { _mm512_loadu_si512(b.add(q * 16 * t.kp + g * 64).cast()) };
        }
        for (r, row) in acc.iter_mut().enumerate() {
            // SAFETY: row `r` holds `t.kp` bytes and `4 * g + 4 <= t.kp`.
            let four = unsafe { std::ptr::read_unaligned(a.add(r * t.kp + g * 4).cast::<i32>()) };
            let av = _mm512_set1_epi32(four);
            for (q, c) in row.iter_mut().enumerate() {
                *c = _mm512_dpbusd_epi32(*c, av, bv[q]);
            }
        }
    }
    for (r, row) in acc.iter().enumerate() {
        for (q, c) in row.iter().enumerate() {
            // SAFETY: `t.corr` holds 16 values per panel.
            let corr = unsafe { _mm512_loadu_si512(t.corr.as_ptr().add(q * 16).cast()) };
            let v = _mm512_sub_epi32(*c, corr);
            let col = t.col0 + q * 16;
            let dst = &mut out[r * t.n + col..(r + 1) * t.n];
            if dst.len() >= 16 {
                // SAFETY: `dst` has at least 16 writable `i32`s.
                unsafe { _mm512_storeu_si512(dst.as_mut_ptr().cast(), v) };
            } else {
                let mut lanes = [0i32; 16];
                // SAFETY: `lanes` is 16 writable `i32`s.
                unsafe { _mm512_storeu_si512(lanes.as_mut_ptr().cast(), v) };
                dst.copy_from_slice(&lanes[..dst.len()]);
            }
        }
    }
}
