//! kernels/unary.cu against `CpuStorage::unary`, op codes as in
//! src/backend/cuda/elementwise.rs.
//!
//! Tolerance: bit-exact (NaN matching any NaN) for the ops whose result is
//! correctly rounded or exact in IEEE arithmetic (neg, abs, sign, recip, sqr,
//! sqrt, relu, affine, leaky relu, clamp, the comparisons). The transcendental
//! ops (exp, log, tanh, sigmoid, gelu, gelu', powf, erf, sin, cos, silu,
//! silu', tanh gelu and its derivative) call the C library on the
//! host kernel side and Rust's std / the `libm` crate (erf) on the CPU side, so
//! they may differ by a few ulp: at most 2 ulp of f32/f64 (1 ulp of f16/bf16,
//! where a 1-ulp f32 difference can move the final rounding), or an absolute
//! error of 2 eps * max(1, |x|) where gelu's `1 + erf(x)` cancels.

use crate::{
    Rng, assert_bits_eq, grid_for, launch, note, sentinel, sfx, sptr, sptr_mut, storage, ulps_f32, ulps_f64, ulps_u16,
};
use half::{bf16, f16};
use neurite::DType;
use neurite::backend::{BackendStorage, CmpOp, CpuStorage, UnaryOp};

const CMPS: [CmpOp; 6] = [CmpOp::Eq, CmpOp::Ne, CmpOp::Lt, CmpOp::Le, CmpOp::Gt, CmpOp::Ge];

fn cmp_index(c: CmpOp) -> i32 {
    match c {
        CmpOp::Eq => 0,
        CmpOp::Ne => 1,
        CmpOp::Lt => 2,
        CmpOp::Le => 3,
        CmpOp::Gt => 4,
        CmpOp::Ge => 5,
    }
}

/// `unary_code` of src/backend/cuda/elementwise.rs.
fn unary_code(op: UnaryOp) -> (i32, f64, f64) {
    match op {
        UnaryOp::Neg => (0, 0.0, 0.0),
        UnaryOp::Exp => (1, 0.0, 0.0),
        UnaryOp::Log => (2, 0.0, 0.0),
        UnaryOp::Sqrt => (3, 0.0, 0.0),
        UnaryOp::Abs => (4, 0.0, 0.0),
        UnaryOp::Sign => (5, 0.0, 0.0),
        UnaryOp::Recip => (6, 0.0, 0.0),
        UnaryOp::Sqr => (7, 0.0, 0.0),
        UnaryOp::Relu => (8, 0.0, 0.0),
        UnaryOp::Sigmoid => (9, 0.0, 0.0),
        UnaryOp::Tanh => (10, 0.0, 0.0),
        UnaryOp::Gelu => (11, 0.0, 0.0),
        UnaryOp::GeluGrad => (12, 0.0, 0.0),
        UnaryOp::Affine { mul, add } => (13, mul, add),
        UnaryOp::Powf(p) => (14, p, 0.0),
        UnaryOp::LeakyRelu(s) => (15, s, 0.0),
        UnaryOp::Clamp { min, max } => (16, min, max),
        UnaryOp::CmpScalar(c, s) => (17 + cmp_index(c), s, 0.0),
        UnaryOp::Erf => (32, 0.0, 0.0),
        UnaryOp::Sin => (33, 0.0, 0.0),
        UnaryOp::Cos => (34, 0.0, 0.0),
        UnaryOp::Silu => (35, 0.0, 0.0),
        UnaryOp::SiluGrad => (36, 0.0, 0.0),
        UnaryOp::GeluTanh => (37, 0.0, 0.0),
        UnaryOp::GeluTanhGrad => (38, 0.0, 0.0),
    }
}

fn all_ops() -> Vec<UnaryOp> {
    let mut v = vec![
        UnaryOp::Neg,
        UnaryOp::Exp,
        UnaryOp::Log,
        UnaryOp::Sqrt,
        UnaryOp::Abs,
        UnaryOp::Sign,
        UnaryOp::Recip,
        UnaryOp::Sqr,
        UnaryOp::Relu,
        UnaryOp::Sigmoid,
        UnaryOp::Tanh,
        UnaryOp::Gelu,
        UnaryOp::GeluGrad,
        UnaryOp::Affine { mul: 0.3, add: -1.7 },
        UnaryOp::Powf(2.5),
        UnaryOp::Powf(-1.5),
        UnaryOp::Powf(2.0),
        UnaryOp::LeakyRelu(0.01),
        UnaryOp::Clamp { min: -0.7, max: 2.25 },
        // min > max: every element becomes max, as in PyTorch.
        UnaryOp::Clamp { min: 2.25, max: -0.7 },
        UnaryOp::Clamp {
            min: f64::NEG_INFINITY,
            max: 0.5,
        },
        UnaryOp::Erf,
        UnaryOp::Sin,
        UnaryOp::Cos,
        UnaryOp::Silu,
        UnaryOp::SiluGrad,
        UnaryOp::GeluTanh,
        UnaryOp::GeluTanhGrad,
    ];
    // 0.1 is not representable: the comparison runs in f64 against the exact scalar.
    for c in CMPS {
        v.push(UnaryOp::CmpScalar(c, 0.1));
        v.push(UnaryOp::CmpScalar(c, 2.0));
    }
    v
}

fn exact(op: UnaryOp) -> bool {
    !matches!(
        op,
        UnaryOp::Exp
            | UnaryOp::Log
            | UnaryOp::Tanh
            | UnaryOp::Sigmoid
            | UnaryOp::Gelu
            | UnaryOp::GeluGrad
            | UnaryOp::Powf(_)
            | UnaryOp::Erf
            | UnaryOp::Sin
            | UnaryOp::Cos
            | UnaryOp::Silu
            | UnaryOp::SiluGrad
            | UnaryOp::GeluTanh
            | UnaryOp::GeluTanhGrad
    )
}

fn inputs(n: usize) -> Vec<f64> {
    let mut v = vec![
        0.0,
        -0.0,
        1.0,
        -1.0,
        2.0,
        0.1,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        0.5,
        -0.5,
        1e-30,
        -1e-30,
        88.7,
        -88.7,
        100.0,
        -100.0,
        1e30,
        -5.0,
        -9.0,
        -0.7,
        2.25,
    ];
    let mut rng = Rng(0x0a1);
    while v.len() < n {
        let x = if v.len() % 5 == 0 {
            rng.uniform(-100.0, 100.0)
        } else {
            rng.uniform(-12.0, 12.0)
        };
        v.push(x);
    }
    v
}

fn unary_kernel(x: &CpuStorage, op: UnaryOp, cap: u32) -> CpuStorage {
    let n = x.len();
    let (code, p0, p1) = unary_code(op);
    let cmp = matches!(op, UnaryOp::CmpScalar(..));
    let mut out = sentinel(if cmp { DType::Bool } else { x.dtype() }, n);
    let (o, xp, n64) = (sptr_mut(&mut out), sptr(x), n as u64);
    if cmp {
        let name = format!("cmp_scalar_{}", sfx(x.dtype()));
        // SAFETY: cmp_scalar_<T>(bool* out, const T* x, u64 n, int code, double s): out holds
        // n bools and x n elements of T, both outlive the call; only indices below n are
        // touched, so an empty buffer (n = 0) is never dereferenced.
        unsafe { launch(&name, grid_for(n, cap), &[&o, &xp, &n64, &code, &p0], false) };
    } else if x.dtype().is_int() {
        let (lo, hi) = match op {
            UnaryOp::Clamp { min, max } => int_bounds(x.dtype(), min, max),
            _ => (0i64, 0i64),
        };
        let name = format!("unary_{}", sfx(x.dtype()));
        // SAFETY: unary_<int>(T* out, const T* x, u64 n, int code, i64 lo, i64 hi): both buffers hold n elements of T
        // and outlive the call; only indices below n are touched. an empty buffer is never dereferenced: every access
        // is at an index below the element count passed with it (none when that count is 0).
        unsafe { launch(&name, grid_for(n, cap), &[&o, &xp, &n64, &code, &lo, &hi], false) };
    } else {
        let name = format!("unary_{}", sfx(x.dtype()));
        // SAFETY: unary_<T>(T* out, const T* x, u64 n, int code, double p0, double p1): both buffers hold n elements of
        // T and outlive the call; only indices below n are touched. an empty buffer is never dereferenced: every access
        // is at an index below the element count passed with it (none when that count is 0).
        unsafe { launch(&name, grid_for(n, cap), &[&o, &xp, &n64, &code, &p0, &p1], false) };
    }
    out
}

/// Whether `got` is within the stated tolerance of `want` for input `x`.
fn close(dtype: DType, x: f64, got: u64, want: u64) -> bool {
    let abs_ok = |g: f64, w: f64, eps: f64| (g - w).abs() <= 2.0 * eps * x.abs().max(1.0);
    match dtype {
        DType::F32 => {
            let (g, w) = (f32::from_bits(got as u32), f32::from_bits(want as u32));
            ulps_f32(g, w) <= 2 || abs_ok(g as f64, w as f64, f32::EPSILON as f64)
        }
        DType::F64 => {
            let (g, w) = (f64::from_bits(got), f64::from_bits(want));
            ulps_f64(g, w) <= 2 || abs_ok(g, w, f64::EPSILON)
        }
        DType::F16 => {
            let (g, w) = (f16::from_bits(got as u16), f16::from_bits(want as u16));
            ulps_u16(got as u16, want as u16, 0x7c00) <= 1 || abs_ok(g.to_f64(), w.to_f64(), f32::EPSILON as f64)
        }
        DType::BF16 => {
            let (g, w) = (bf16::from_bits(got as u16), bf16::from_bits(want as u16));
            ulps_u16(got as u16, want as u16, 0x7f80) <= 1 || abs_ok(g.to_f64(), w.to_f64(), f32::EPSILON as f64)
        }
        _ => got == want,
    }
}

fn is_nan_bits(dtype: DType, b: u64) -> bool {
    match dtype {
        DType::F32 => f32::from_bits(b as u32).is_nan(),
        DType::F64 => f64::from_bits(b).is_nan(),
        DType::F16 => f16::from_bits(b as u16).is_nan(),
        DType::BF16 => bf16::from_bits(b as u16).is_nan(),
        _ => false,
    }
}

fn check_dtype(dtype: DType) {
    let v = inputs(3001);
    let x = storage(dtype, &v);
    let xs = x.to_vec::<f64>().unwrap();
    let mut report = Vec::new();
    for op in all_ops() {
        let got = unary_kernel(&x, op, 5);
        let want = x.unary(op).unwrap();
        let (gb, wb) = (crate::bits(&got), crate::bits(&want));
        let mut inexact = 0;
        for (i, (&g, &w)) in gb.iter().zip(&wb).enumerate() {
            if g == w || (is_nan_bits(dtype, g) && is_nan_bits(dtype, w)) {
                continue;
            }
            assert!(
                !exact(op) && close(dtype, xs[i], g, w),
                "unary {op:?} {dtype} at x = {}: kernel bits {g:#x}, CPU bits {w:#x}",
                xs[i]
            );
            inexact += 1;
        }
        if inexact > 0 {
            report.push(format!("{op:?}: {inexact}"));
        }
    }
    if !report.is_empty() {
        note(&format!(
            "unary {dtype}: elements (of {}) within tolerance but not bit-exact: {}",
            v.len(),
            report.join(", ")
        ));
    }
}

#[test]
fn unary_f32_matches_cpu() {
    if !crate::ready() {
        return;
    }
    check_dtype(DType::F32);
}

#[test]
fn unary_f64_matches_cpu() {
    if !crate::ready() {
        return;
    }
    check_dtype(DType::F64);
}

#[test]
fn unary_f16_matches_cpu() {
    if !crate::ready() {
        return;
    }
    check_dtype(DType::F16);
}

#[test]
fn unary_bf16_matches_cpu() {
    if !crate::ready() {
        return;
    }
    check_dtype(DType::BF16);
}

#[test]
fn cmp_scalar_i64_matches_cpu() {
    if !crate::ready() {
        return;
    }
    let mut rng = Rng(0x164);
    let mut v: Vec<i64> = vec![0, 1, -1, 2, 3, i64::MAX, i64::MIN, (1 << 53) + 1, 1 << 53];
    v.extend((0..700).map(|_| rng.below(7) as i64 - 3));
    let x = CpuStorage::I64(v);
    // 2^53 + 1 widens to 2^53 in f64, so it compares equal to that scalar (as on the CPU).
    for s in [0.0, 0.5, 2.0, -3.0, 9_007_199_254_740_992.0, f64::NAN] {
        for c in CMPS {
            let op = UnaryOp::CmpScalar(c, s);
            assert_bits_eq(
                &unary_kernel(&x, op, 2),
                &x.unary(op).unwrap(),
                &format!("cmp_scalar_i64 {c:?} {s}"),
            );
        }
    }
}

/// The clamp bounds elementwise.rs passes for an integer dtype (`clamp_bounds`
/// of the CPU backend), restated: ceil of the lower bound and floor of the upper
/// one, within the type's range.
fn int_bounds(dtype: DType, min: f64, max: f64) -> (i64, i64) {
    let (lo, hi) = match dtype {
        DType::U8 => (0, 255),
        DType::I8 => (-128, 127),
        DType::I32 => (i32::MIN as i64, i32::MAX as i64),
        _ => (i64::MIN, i64::MAX),
    };
    let b = |v: f64| (v as i64).clamp(lo, hi);
    (b(min.ceil()), b(max.floor()))
}

/// Comparisons of every dtype and the integer maps, bit-exact against the CPU.
#[test]
fn integer_and_bool_maps_match_cpu() {
    if !crate::ready() {
        return;
    }
    let v = inputs(1501);
    for dtype in [DType::I64, DType::I32, DType::I8, DType::U8, DType::Bool] {
        let x = storage(dtype, &v);
        let mut ops: Vec<UnaryOp> = CMPS
            .iter()
            .flat_map(|&c| {
                [
                    UnaryOp::CmpScalar(c, 0.1),
                    UnaryOp::CmpScalar(c, 2.0),
                    UnaryOp::CmpScalar(c, -3.0),
                ]
            })
            .collect();
        if dtype != DType::Bool {
            ops.extend([
                UnaryOp::Neg,
                UnaryOp::Abs,
                UnaryOp::Sign,
                UnaryOp::Sqr,
                UnaryOp::Relu,
                UnaryOp::Clamp { min: -7.5, max: 100.2 },
                UnaryOp::Clamp { min: -1e30, max: 3.0 },
            ]);
        }
        for op in ops {
            assert_bits_eq(
                &unary_kernel(&x, op, 3),
                &x.unary(op).unwrap(),
                &format!("unary {op:?} {dtype}"),
            );
        }
    }
}

/// A launch over zero elements (which the host skips) writes nothing: the grid
/// loop's bound holds.
#[test]
fn zero_elements_write_nothing() {
    if !crate::ready() {
        return;
    }
    let x = CpuStorage::F32(vec![1.0; 4]);
    let mut out = sentinel(DType::F32, 4);
    let (o, xp, n, code, p) = (sptr_mut(&mut out), sptr(&x), 0u64, 0i32, 0.0f64);
    // SAFETY: unary_f32 with n = 0 touches no element; both buffers are live.
    unsafe { launch("unary_f32", 1, &[&o, &xp, &n, &code, &p, &p], false) };
    assert_bits_eq(&out, &sentinel(DType::F32, 4), "unary_f32 over 0 elements");
}
