//! kernels/cast.cu against `CpuStorage::to_dtype`: every (source, destination)
//! pair, bit-exact (narrowing to f16/bf16 against a once-rounded reference
//! where the CPU misrounds, see `expected`; NaN results as NaN of the same sign). The 16-bit sources are exhaustive;
//! f32, f64 and i64 sources are edge cases (halfway points of each narrower
//! type, where a double rounding would show; overflow to infinity; subnormals;
//! NaN with sign and payload; i64 saturation) plus random bit patterns. The
//! bool, u8, i8 sources are exhaustive; i32 gets its edge cases and random values.

use crate::{BLOCK, Rng, grid_for, launch, sentinel, sfx, sptr, sptr_mut};
use half::{bf16, f16};
use neurite::DType;
use neurite::backend::{BackendStorage, CpuStorage};

const DTYPES: [DType; 9] = DType::ALL;

/// Runs `cast_<src>_<dst>` over `x` as copy.rs's `to_dtype` launches it.
fn cast_kernel(x: &CpuStorage, dst: DType, cap: u32) -> CpuStorage {
    let n = x.len();
    let mut out = sentinel(dst, n);
    let name = format!("cast_{}_{}", sfx(x.dtype()), sfx(dst));
    let (o, xp, n64) = (sptr_mut(&mut out), sptr(x), n as u64);
    // SAFETY: cast_* takes (D* out, const S* x, u64 n); `out` and `x` hold `n` elements of D and S, live for the call,
    // and the kernel touches indices below n only. an empty buffer is never dereferenced: every access is at an index
    // below the element count passed with it (none when that count is 0).
    unsafe { launch(&name, grid_for(n, cap), &[&o, &xp, &n64], false) };
    out
}

/// Correct rounding (once, to nearest even) of a finite or infinite `d` to a
/// 16-bit float given by its decoder and infinity bits, found by exact f64
/// arithmetic among the neighbours of `guess` (a candidate at most one ulp off):
/// independent of the conversions under test.
fn round_once(d: f64, guess: u16, dec: impl Fn(u16) -> f64, inf: u16) -> u16 {
    let sign = if d.is_sign_negative() { 0x8000 } else { 0 };
    let ad = d.abs();
    let max = dec(inf - 1);
    // Overflow: at or beyond the max plus half its ulp.
    if ad >= max + (max - dec(inf - 2)) / 2.0 {
        return sign | inf;
    }
    let g = (guess & 0x7fff).min(inf - 1);
    let mut best = (f64::INFINITY, 0u16);
    for m in [g.saturating_sub(1), g, g + 1] {
        if m >= inf {
            continue;
        }
        // Exact: the candidates lie within a factor of two of `ad` (or are 0).
        let dist = (ad - dec(m)).abs();
        if dist < best.0 || (dist == best.0 && m & 1 == 0) {
            best = (dist, m);
        }
    }
    sign | best.1
}

fn round_f16(d: f64) -> u16 {
    round_once(d, f16::from_f64(d).to_bits(), |b| f16::from_bits(b).to_f64(), 0x7c00)
}

fn round_bf16(d: f64) -> u16 {
    round_once(d, bf16::from_f64(d).to_bits(), |b| bf16::from_bits(b).to_f64(), 0x7f80)
}

/// The expected bits of `cast_<src>_<dst>`: the CPU backend's `to_dtype`, except
/// that f32, f64 and i64 sources narrowed to f16/bf16 use [`round_once`] of the
/// (exact, or for i64 once-rounded) f64 value: `CpuStorage::to_dtype` converts
/// with `half`'s `from_f64`, which drops the low 32 bits of the f64 significand
/// before rounding and so misrounds values just above a halfway point (see
/// `cpu_casts_to_16_bit_round_once`).
fn expected(x: &CpuStorage, dst: DType) -> Vec<u64> {
    let cpu = crate::bits(&x.to_dtype(dst).unwrap());
    let narrow = matches!(dst, DType::F16 | DType::BF16) && matches!(x.dtype(), DType::F32 | DType::F64 | DType::I64);
    if !narrow {
        return cpu;
    }
    let wide = x.to_vec::<f64>().unwrap();
    wide.iter()
        .zip(cpu)
        .map(|(&d, c)| {
            if d.is_nan() {
                c
            } else if dst == DType::F16 {
                round_f16(d) as u64
            } else {
                round_bf16(d) as u64
            }
        })
        .collect()
}

/// NaN bits of a `dtype` value: (is NaN, sign bit).
fn nan_sign(dtype: DType, b: u64) -> Option<bool> {
    let (nan, sign) = match dtype {
        DType::F32 => (f32::from_bits(b as u32).is_nan(), b >> 31 & 1),
        DType::F64 => (f64::from_bits(b).is_nan(), b >> 63),
        DType::F16 => (f16::from_bits(b as u16).is_nan(), b >> 15 & 1),
        DType::BF16 => (bf16::from_bits(b as u16).is_nan(), b >> 15 & 1),
        _ => (false, 0),
    };
    nan.then_some(sign == 1)
}

/// Bit-exact against [`expected`]; where the CPU gives a NaN, the kernel must give
/// a NaN of the same sign (payload and quiet bit are counted and printed, not
/// asserted: the backends differ there, see the report in the commit).
fn check_all_destinations(x: &CpuStorage, cap: u32) {
    let xb = crate::bits(x);
    for dst in DTYPES {
        if dst == x.dtype() {
            continue;
        }
        let got = crate::bits(&cast_kernel(x, dst, cap));
        let want = expected(x, dst);
        let mut payload = 0;
        for i in 0..got.len() {
            if got[i] == want[i] {
                continue;
            }
            let (g, w) = (nan_sign(dst, got[i]), nan_sign(dst, want[i]));
            assert!(
                w.is_some() && g == w,
                "cast {} -> {dst}: input bits {:#x}: kernel bits {:#x}, expected {:#x}",
                x.dtype(),
                xb[i],
                got[i],
                want[i]
            );
            payload += 1;
        }
        if payload > 0 {
            crate::note(&format!(
                "cast {} -> {dst}: {payload} NaN results differ from the CPU's in payload or quiet bit only",
                x.dtype()
            ));
        }
    }
}

/// The CPU backend's narrowing casts round once (they did not while they went
/// through `half`'s `from_f64`, which misrounds just above halfway points).
#[test]
fn cpu_casts_to_16_bit_round_once() {
    let x = CpuStorage::F64(vec![
        f32::from_bits(0x3080_8001) as f64,    // f32 just above a bf16 halfway point
        f64::from_bits(0x3ee0_1000_0000_0001), // just above an f16 halfway point
        f64::from_bits(0x40ef_fdff_ffff_ffff), // 65519.99999999999: below the f16 overflow threshold
    ]);
    assert_eq!(crate::bits(&x.to_dtype(DType::BF16).unwrap())[0], 0x3081);
    assert_eq!(crate::bits(&x.to_dtype(DType::F16).unwrap())[1..], [0x81, 0x7bff]);
}

fn f32_inputs() -> Vec<f32> {
    let mut v = vec![
        0.0,
        -0.0,
        1.0,
        -1.0,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::NAN,
        -f32::NAN,
        f32::from_bits(0x7f80_0001), // signalling NaN
        f32::from_bits(0xffc1_2345), // negative NaN with a payload
        f32::MAX,
        f32::MIN,
        f32::MIN_POSITIVE,
        f32::from_bits(1), // smallest subnormal
        65504.0,           // f16 max
        65519.996,         // just below the f16 overflow threshold
        65520.0,           // rounds to f16 infinity
        -65520.0,
        6.103_515_6e-5, // f16 min normal
        5.960_464_5e-8, // f16 min subnormal
        2.980_232_2e-8, // half of it: ties to even, to zero
        2.980_232_5e-8, // just above half: rounds up to the min subnormal
        9.223_372e18,   // 2^63: saturates to i64::MAX
        -9.223_372e18,  // -2^63: exactly i64::MIN
        1.0e19,
        -1.0e19,
        16_777_217.0,
        -2.5,
        2.5,
        0.999_999_94,
        3.389_531_4e38, // bf16 max
        3.402_823_5e38,
    ];
    // Halfway points of f16 (11-bit significand) and bf16 (8-bit), and one ulp on
    // each side, over many binades.
    for e in -30..=30 {
        let base = 2f32.powi(e);
        for frac in [1.0f32, 1.5, 1.25, 1.75] {
            for (shift, _) in [(11, "f16"), (8, "bf16")] {
                let half_ulp = base * 2f32.powi(-shift);
                let h = base * frac + half_ulp;
                for x in [h, f32::from_bits(h.to_bits() + 1), f32::from_bits(h.to_bits() - 1)] {
                    v.push(x);
                    v.push(-x);
                }
            }
        }
    }
    let mut rng = Rng(0xca57);
    v.extend((0..40_000).map(|_| f32::from_bits(rng.next_u64() as u32)));
    v
}

fn f64_inputs() -> Vec<f64> {
    let mut v = vec![
        0.0,
        -0.0,
        1.0,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        -f64::NAN,
        f64::from_bits(0x7ff0_0000_0000_0001),
        f64::from_bits(0xfff8_dead_beef_0001),
        f64::MAX,
        f64::MIN,
        f64::MIN_POSITIVE,
        f64::from_bits(1),
        3.402_823_466_385_288_6e38,   // f32 max
        3.402_823_567_797_336_6e38,   // f32 overflow threshold (rounds to inf)
        3.402_823_567_797_336e38,     // just below it
        65_519.999_999_999_99,        // below f16 overflow
        65520.0,                      // f16 inf
        9_223_372_036_854_775_808.0,  // 2^63
        9_223_372_036_854_774_784.0,  // largest f64 below 2^63
        -9_223_372_036_854_775_808.0, // -2^63
        -9_223_372_036_854_777_856.0, // below -2^63
        1e300,
        -1e300,
        4_503_599_627_370_497.5,
        -0.5,
        -0.999_999_999,
        2.980_232_238_769_531_2e-8, // exactly half the min f16 subnormal
        2.980_232_238_769_531_3e-8,
    ];
    // Double-rounding traps: a hair above a halfway point of the narrow type is
    // exactly halfway after rounding to f32, so a cast through f32 would round
    // to even (down) where the direct cast rounds up.
    for e in -20..=20 {
        let base = 2f64.powi(e);
        for frac in [1.0f64, 1.5, 1.25] {
            for shift in [11, 8, 24] {
                let h = base * frac + base * 2f64.powi(-shift);
                for x in [
                    h,
                    h + base * 2f64.powi(-45),
                    h - base * 2f64.powi(-45),
                    f64::from_bits(h.to_bits() + 1),
                ] {
                    v.push(x);
                    v.push(-x);
                }
            }
        }
    }
    let mut rng = Rng(0xf64);
    v.extend((0..20_000).map(|_| f64::from_bits(rng.next_u64())));
    // Values in the i64 range, integer and not.
    v.extend((0..2_000).map(|_| rng.uniform(-1e19, 1e19)));
    v.extend((0..2_000).map(|_| rng.uniform(-1e5, 1e5)));
    v
}

fn i64_inputs() -> Vec<i64> {
    let mut v = vec![
        0,
        1,
        -1,
        i64::MAX,
        i64::MIN,
        i64::MAX - 1,
        (1 << 53) + 1,
        -(1 << 53) - 1,
        (1 << 24) + 1,
        65504,
        65519,
        65520,
        70_000,
        -70_000,
        2049,
        2051,
        257,
        259,
        // Halfway between two f32 after the (exact or not) f64 step.
        (1 << 40) + (1 << 16),
        (1 << 40) + (1 << 16) + 1,
        // Above a halfway point of f32 / bf16 only by bits that the i64 -> f64 step
        // rounds away: both backends round twice here (through f64).
        (1 << 60) + (1 << 36) + 1,
        (1 << 60) + (1 << 52) + 1,
    ];
    let mut rng = Rng(0x164);
    v.extend((0..20_000).map(|_| rng.next_u64() as i64));
    v.extend((0..5_000).map(|_| (rng.next_u64() as i64) >> rng.below(63)));
    v
}

#[test]
fn every_f16_pattern_to_every_dtype() {
    if !crate::ready() {
        return;
    }
    let x = CpuStorage::F16((0..=u16::MAX).map(f16::from_bits).collect());
    check_all_destinations(&x, 8);
}

#[test]
fn every_bf16_pattern_to_every_dtype() {
    if !crate::ready() {
        return;
    }
    let x = CpuStorage::BF16((0..=u16::MAX).map(bf16::from_bits).collect());
    check_all_destinations(&x, 8);
}

#[test]
fn f32_edge_cases_and_random_bits_to_every_dtype() {
    if !crate::ready() {
        return;
    }
    check_all_destinations(&CpuStorage::F32(f32_inputs()), 8);
}

#[test]
fn f64_edge_cases_and_random_bits_to_every_dtype() {
    if !crate::ready() {
        return;
    }
    check_all_destinations(&CpuStorage::F64(f64_inputs()), 8);
}

#[test]
fn i64_edge_cases_and_random_values_to_every_dtype() {
    if !crate::ready() {
        return;
    }
    check_all_destinations(&CpuStorage::I64(i64_inputs()), 8);
}

/// Sizes around the block size, one element, and a single block's grid looping
/// many times: every element written once.
#[test]
fn sizes_around_the_block_and_grid_strides() {
    if !crate::ready() {
        return;
    }
    let mut rng = Rng(7);
    for (n, cap) in [
        (1, 1),
        (255, 4),
        (256, 4),
        (257, 4),
        (1000, 1),
        (4099, 3),
        (BLOCK as usize * 7 + 3, 64),
    ] {
        let x = CpuStorage::F32((0..n).map(|_| rng.uniform(-70_000.0, 70_000.0) as f32).collect());
        for dst in [DType::F16, DType::BF16, DType::I64] {
            let got = crate::bits(&cast_kernel(&x, dst, cap));
            assert_eq!(got, expected(&x, dst), "cast f32 -> {dst}, n = {n}, cap {cap}");
        }
    }
}

#[test]
fn every_bool_u8_i8_value_to_every_dtype() {
    if !crate::ready() {
        return;
    }
    check_all_destinations(&CpuStorage::Bool(vec![false, true, true, false]), 8);
    check_all_destinations(&CpuStorage::U8((0..=u8::MAX).collect()), 8);
    check_all_destinations(&CpuStorage::I8((i8::MIN..=i8::MAX).collect()), 8);
}

#[test]
fn i32_edge_cases_and_random_values_to_every_dtype() {
    if !crate::ready() {
        return;
    }
    let mut rng = Rng(32);
    let mut v = vec![
        0,
        1,
        -1,
        127,
        128,
        -128,
        -129,
        255,
        256,
        i32::MAX,
        i32::MIN,
        1 << 24,
        (1 << 24) + 1,
    ];
    v.extend((0..2000).map(|_| rng.next_u64() as i32));
    check_all_destinations(&CpuStorage::I32(v), 8);
}

/// Known answers of the new casts (PyTorch's rules), independent of the CPU backend.
#[test]
fn new_dtype_casts_known_answers() {
    if !crate::ready() {
        return;
    }
    let x = CpuStorage::F32(vec![2.7, -2.7, 0.0, -0.0, f32::NAN, 300.5, -1.0]);
    assert_eq!(
        cast_kernel(&x, DType::U8, 4),
        CpuStorage::U8(vec![2, 254, 0, 0, 0, 44, 255])
    );
    assert_eq!(
        cast_kernel(&x, DType::Bool, 4),
        CpuStorage::Bool(vec![true, true, false, false, true, true, true])
    );
    assert_eq!(
        cast_kernel(&CpuStorage::I64(vec![300, -129, (1 << 40) + 7]), DType::I8, 4),
        CpuStorage::I8(vec![44, 127, 7])
    );
}
