//! The AVX2 kernel: bytes sign-extended to 16 bits and multiplied in pairs
//! by `vpmaddwd`, whose `i32` pair sums are exact (`2 * 128 * 128` at most).
//! (`vpmaddubsw`, the byte instruction, saturates its 16-bit pair sums and
//! so is not exact for all int8 inputs.)

use super::{MR, PackedInt8Matrix};
use crate::Result;

/// Whether the CPU runs this kernel.
pub(super) fn available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        is_x86_feature_detected!("avx2")
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
                "this CPU cannot run the avx2 int8 kernel",
            ));
        }
        let (k, kp, n) = (p.k, p.k_padded, p.n);
        let m = out.len() / n;
        let mut wide = buffer::zeroed::<i16>(checked_numel(&[m, kp], "int8 matmul")?)?;
        for (dst, src) in wide.chunks_exact_mut(kp).zip(a.chunks_exact(k)) {
            for (d, &s) in dst.iter_mut().zip(src) {
                *d = s as i16;
            }
        }
        // SAFETY: the CPU has AVX2 (checked above); `wide` holds `m` rows of `kp` values, `p.data` `n.div_ceil(8)`
        // panels of `8 * kp` bytes and `out` `m * n`: what `all_rows` reads and writes; `m, n, k > 0` (the caller
        // returns on empty products), so none is empty.
        unsafe { all_rows(&wide, &p.data, m, n, kp, out) };
        Ok(())
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = (p, a, out);
        Err(crate::Error::invalid(
            "int8 matmul",
            "the avx2 int8 kernel exists only on x86-64",
        ))
    }
}

/// Every row block against every panel pair.
///
/// # Safety
/// The CPU must have AVX2; the slices must have the sizes listed in [`rows`].
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn all_rows(a: &[i16], b: &[i8], m: usize, n: usize, kp: usize, out: &mut [i32]) {
    let panels = n.div_ceil(8);
    for r0 in (0..m).step_by(MR) {
        let mut pi = 0;
        while pi < panels {
            let pair = pi + 1 < panels;
            let t = Tile {
                a: &a[r0 * kp..],
                b: &b[pi * 8 * kp..],
                kp,
                n,
                col0: pi * 8,
            };
            let o = &mut out[r0 * n..];
            // SAFETY: the feature is this function's; `t` starts at row `r0` and panel
            // `pi`, and the row count and panel count passed stay inside the slices.
            unsafe {
                match ((m - r0).min(MR), pair) {
                    (4, true) => tile::<4, 2>(&t, o),
                    (4, false) => tile::<4, 1>(&t, o),
                    (3, true) => tile::<3, 2>(&t, o),
                    (3, false) => tile::<3, 1>(&t, o),
                    (2, true) => tile::<2, 2>(&t, o),
                    (2, false) => tile::<2, 1>(&t, o),
                    (_, true) => tile::<1, 2>(&t, o),
                    (_, false) => tile::<1, 1>(&t, o),
                }
            }
            pi += if pair { 2 } else { 1 };
        }
    }
}

/// One micro-tile's operands: rows from `a`, panels from `b`.
#[cfg(target_arch = "x86_64")]
struct Tile<'a> {
    a: &'a [i16],
    b: &'a [i8],
    kp: usize,
    n: usize,
    col0: usize,
}

/// `R` rows times `P` panels of 8 columns, accumulated over all of `k`.
///
/// # Safety
/// The CPU must have AVX2; `t.a` must hold `R` rows of `t.kp` values, `t.b`
/// `P` panels of `8 * t.kp` bytes, and `out` `R` rows of `t.n` from column 0
/// of the tile's first row.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn tile<const R: usize, const P: usize>(t: &Tile<'_>, out: &mut [i32]) {
    use std::arch::x86_64::*;
    debug_assert!(t.a.len() >= R * t.kp && t.b.len() >= P * 8 * t.kp);
    let mut acc = [[_mm256_setzero_si256(); P]; R];
    let (a, b) = (t.a.as_ptr(), t.b.as_ptr());
    for g in 0..t.kp / 2 {
        let mut bv = [_mm256_setzero_si256(); P];
        for (q, v) in bv.iter_mut().enumerate() {
            // SAFETY: panel `q` holds `t.kp / 2` groups of 16 bytes; `g` is one of them.
            let bytes = unsafe { _mm_loadu_si128(b.add(q * 8 * t.kp + g * 16).cast()) };
            *v = _mm256_cvtepi8_epi16(bytes);
        }
        for (r, row) in acc.iter_mut().enumerate() {
            // SAFETY: row `r` holds `t.kp` values and `2 * g + 2 <= t.kp`.
            let pair = unsafe { std::ptr::read_unaligned(a.add(r * t.kp + g * 2).cast::<i32>()) };
            let av = _mm256_set1_epi32(pair);
            for (q, c) in row.iter_mut().enumerate() {
                *c = _mm256_add_epi32(*c, _mm256_madd_epi16(av, bv[q]));
            }
        }
    }
    for (r, row) in acc.iter().enumerate() {
        for (q, c) in row.iter().enumerate() {
            let col = t.col0 + q * 8;
            let dst = &mut out[r * t.n + col..(r + 1) * t.n];
            if dst.len() >= 8 {
                // SAFETY: `dst` has at least 8 writable `i32`s.
                unsafe { _mm256_storeu_si256(dst.as_mut_ptr().cast(), *c) };
            } else {
                let mut lanes = [0i32; 8];
                // SAFETY: `lanes` is 8 writable `i32`s.
                unsafe { _mm256_storeu_si256(lanes.as_mut_ptr().cast(), *c) };
                dst.copy_from_slice(&lanes[..dst.len()]);
            }
        }
    }
}
