//! kernels/binary.cu against `CpuStorage::binary` and `where_cond`: every op
//! code (elementwise.rs `binary_code`) over broadcasting layouts of rank 0 to
//! MAX_DIMS, contiguous, broadcast along rows or columns, and permuted. IEEE
//! add, subtract, multiply and divide are correctly rounded on both sides and
//! the 16-bit types compute in f32 on both, so the results are bit-exact; a
//! NaN result matches any NaN (payload propagation is the hardware's).
//! Comparisons (every dtype) write bool masks; the integer kernels wrap, floor
//! divide and take remainders exactly as the CPU does.

use crate::{MAX_DIMS, Rng, assert_bits_eq, bits, bytes_sfx, grid_for, launch, sentinel, sfx, sptr, sptr_mut};
use half::{bf16, f16};
use neurite::DType;
use neurite::backend::{BackendStorage, BinaryLayout, BinaryOp, CmpOp, CpuStorage, UnaryOp};

/// binary.cu's `BinaryLayout` (launch.rs `BinaryArg`).
#[repr(C)]
#[derive(Clone, Copy, Default)]
struct BinaryArg {
    dims: [u64; MAX_DIMS],
    lhs: [u64; MAX_DIMS],
    rhs: [u64; MAX_DIMS],
    rank: u32,
}

const OPS: [BinaryOp; 14] = [
    BinaryOp::Add,
    BinaryOp::Sub,
    BinaryOp::Mul,
    BinaryOp::Div,
    BinaryOp::Maximum,
    BinaryOp::Minimum,
    BinaryOp::Cmp(CmpOp::Eq),
    BinaryOp::Cmp(CmpOp::Ne),
    BinaryOp::Cmp(CmpOp::Lt),
    BinaryOp::Cmp(CmpOp::Le),
    BinaryOp::Cmp(CmpOp::Gt),
    BinaryOp::Cmp(CmpOp::Ge),
    BinaryOp::FloorDivide,
    BinaryOp::Remainder,
];

fn binary_code(op: BinaryOp) -> i32 {
    // Codes added after the comparisons start at 32 (binary.cu).
    if op == BinaryOp::Pow {
        return 32;
    }
    OPS.iter().position(|&o| o == op).unwrap() as i32
}

fn contiguous(dims: &[usize]) -> Vec<usize> {
    let mut s = vec![1; dims.len()];
    for d in (0..dims.len().saturating_sub(1)).rev() {
        s[d] = s[d + 1] * dims[d + 1];
    }
    s
}

/// The number of elements a layout reaches in an operand.
fn reach(dims: &[usize], strides: &[usize]) -> usize {
    dims.iter().zip(strides).map(|(&d, &s)| (d - 1) * s).sum::<usize>() + 1
}

fn layouts() -> Vec<BinaryLayout> {
    let l = |dims: Vec<usize>, lhs: Vec<usize>, rhs: Vec<usize>| BinaryLayout {
        dims,
        lhs_strides: lhs,
        rhs_strides: rhs,
    };
    let d6 = vec![2, 3, 2, 3, 2, 5];
    let mut r6 = contiguous(&[2, 1, 2, 3, 1, 5]);
    r6[1] = 0;
    r6[4] = 0;
    vec![
        l(vec![], vec![], vec![]),
        l(vec![1003], vec![1], vec![1]),
        l(vec![1003], vec![1], vec![0]),
        l(vec![13, 77], vec![77, 1], vec![0, 1]),
        l(vec![13, 77], vec![1, 0], vec![77, 1]),
        l(vec![5, 7, 9], vec![1, 5, 35], vec![63, 9, 1]),
        l(d6.clone(), contiguous(&d6), r6),
    ]
}

fn values(dtype: DType, n: usize, rng: &mut Rng) -> CpuStorage {
    let special = [
        0.0,
        -0.0,
        1.0,
        -1.0,
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        3.0,
        1e-3,
    ];
    let v: Vec<f64> = (0..n)
        .map(|i| {
            if i % 7 == 3 {
                special[rng.below(special.len() as u64) as usize]
            } else if i % 3 == 0 {
                (rng.below(5) as f64) - 2.0 // ties for the comparisons and max/min
            } else {
                rng.uniform(-50.0, 50.0)
            }
        })
        .collect();
    match dtype {
        DType::F32 => CpuStorage::F32(v.iter().map(|&x| x as f32).collect()),
        DType::F64 => CpuStorage::F64(v),
        DType::F16 => CpuStorage::F16(v.iter().map(|&x| f16::from_f64(x)).collect()),
        DType::BF16 => CpuStorage::BF16(v.iter().map(|&x| bf16::from_f64(x)).collect()),
        DType::I64 => CpuStorage::I64(
            v.iter()
                .enumerate()
                .map(|(i, &x)| if i % 11 == 5 { i64::MAX - (i as i64) } else { x as i64 })
                .collect(),
        ),
        DType::I32 => CpuStorage::I32(
            v.iter()
                .enumerate()
                .map(|(i, &x)| if i % 11 == 5 { i32::MIN + (i as i32) } else { x as i32 })
                .collect(),
        ),
        DType::I8 => CpuStorage::I8(v.iter().map(|&x| (x as i64).wrapping_mul(3) as i8).collect()),
        DType::U8 => CpuStorage::U8(v.iter().map(|&x| (x as i64).wrapping_mul(5) as u8).collect()),
        DType::Bool => CpuStorage::Bool(v.iter().map(|&x| x > 0.0).collect()),
    }
}

/// `v` with every zero replaced by `-1`, as a divisor the CPU accepts (and
/// whose `MIN / -1` wraps).
fn nonzero(v: CpuStorage) -> CpuStorage {
    let zero = v.unary(UnaryOp::CmpScalar(CmpOp::Eq, 0.0)).unwrap();
    let minus_one = CpuStorage::full(-1.0, v.len(), v.dtype()).unwrap();
    zero.where_cond(&minus_one, &v).unwrap()
}

/// Runs the binary kernel for `l` as elementwise.rs does (rank 0 as one element).
fn binary_kernel(a: &CpuStorage, b: &CpuStorage, op: BinaryOp, l: &BinaryLayout, cap: u32) -> CpuStorage {
    let (dims, lhs, rhs) = if l.dims.is_empty() {
        (vec![1], vec![0], vec![0])
    } else {
        (l.dims.clone(), l.lhs_strides.clone(), l.rhs_strides.clone())
    };
    assert!(dims.len() <= MAX_DIMS);
    assert!(reach(&dims, &lhs) <= a.len() && reach(&dims, &rhs) <= b.len());
    let n: usize = dims.iter().product();
    let mut arg = BinaryArg {
        rank: dims.len() as u32,
        ..Default::default()
    };
    for d in 0..dims.len() {
        arg.dims[d] = dims[d] as u64;
        arg.lhs[d] = lhs[d] as u64;
        arg.rhs[d] = rhs[d] as u64;
    }
    let cmp = matches!(op, BinaryOp::Cmp(_));
    let kernel = if cmp {
        format!("cmp_{}", sfx(a.dtype()))
    } else {
        format!("binary_{}", sfx(a.dtype()))
    };
    let mut out = sentinel(if cmp { DType::Bool } else { a.dtype() }, n);
    let (o, ap, bp, n64, code) = (sptr_mut(&mut out), sptr(a), sptr(b), n as u64, binary_code(op));
    // SAFETY: binary_<T>(T* out, const T* a, const T* b, u64 n, BinaryLayout l, int code): `out` holds n elements, a
    // and b are read only below `reach` (checked above against their lengths), `arg` has BinaryLayout's C layout, all
    // live; every access is below the count passed, so an empty buffer (n = 0) is never dereferenced.
    unsafe { launch(&kernel, grid_for(n, cap), &[&o, &ap, &bp, &n64, &arg, &code], false) };
    out
}

/// Compares bits, a NaN matching any NaN.
fn assert_same(got: &CpuStorage, want: &CpuStorage, what: &str) {
    let nan = |s: &CpuStorage| -> Vec<bool> {
        match s {
            CpuStorage::F32(v) => v.iter().map(|x| x.is_nan()).collect(),
            CpuStorage::F64(v) => v.iter().map(|x| x.is_nan()).collect(),
            CpuStorage::F16(v) => v.iter().map(|x| x.is_nan()).collect(),
            CpuStorage::BF16(v) => v.iter().map(|x| x.is_nan()).collect(),
            other => vec![false; other.len()],
        }
    };
    let (gb, wb, gn, wn) = (bits(got), bits(want), nan(got), nan(want));
    assert_eq!(gb.len(), wb.len(), "{what}: length");
    for i in 0..gb.len() {
        assert!(
            gb[i] == wb[i] || (gn[i] && wn[i]),
            "{what}: element {i}: kernel bits {:#x}, CPU bits {:#x}",
            gb[i],
            wb[i]
        );
    }
}

fn check_float(dtype: DType) {
    let mut rng = Rng(0xb1 + dtype.size_in_bytes() as u64);
    for (k, l) in layouts().iter().enumerate() {
        let dims = if l.dims.is_empty() { vec![1] } else { l.dims.clone() };
        let (la, lb) = if l.dims.is_empty() {
            (1, 1)
        } else {
            (reach(&dims, &l.lhs_strides), reach(&dims, &l.rhs_strides))
        };
        let (a, b) = (values(dtype, la, &mut rng), values(dtype, lb, &mut rng));
        for op in OPS {
            let got = binary_kernel(&a, &b, op, l, 3);
            let want = a.binary(&b, op, l).unwrap();
            assert_same(&got, &want, &format!("binary {op:?} {dtype} layout #{k} {l:?}"));
        }
    }
}

/// `pow` calls the C library's pow/powf on the kernel side and Rust's (the
/// same libm functions) on the CPU side, and 16-bit types compute in f32 on
/// both, so here too the results are bit-exact. Negative bases, zeros,
/// infinities and NaN come from `values`.
fn check_pow(dtype: DType) {
    let mut rng = Rng(0x90 + dtype.size_in_bytes() as u64);
    for (k, l) in layouts().iter().enumerate() {
        let dims = if l.dims.is_empty() { vec![1] } else { l.dims.clone() };
        let (la, lb) = if l.dims.is_empty() {
            (1, 1)
        } else {
            (reach(&dims, &l.lhs_strides), reach(&dims, &l.rhs_strides))
        };
        let a = values(dtype, la, &mut rng);
        // Small exponents keep most results finite.
        let b = CpuStorage::F64(
            (0..lb)
                .map(|i| {
                    if i % 4 == 0 {
                        (i % 5) as f64 - 2.0
                    } else {
                        rng.uniform(-3.0, 3.0)
                    }
                })
                .collect(),
        )
        .to_dtype(dtype)
        .unwrap();
        let got = binary_kernel(&a, &b, BinaryOp::Pow, l, 3);
        let want = a.binary(&b, BinaryOp::Pow, l).unwrap();
        assert_same(&got, &want, &format!("binary Pow {dtype} layout #{k} {l:?}"));
    }
}

#[test]
fn binary_pow_matches_cpu() {
    if !crate::ready() {
        return;
    }
    for dtype in [DType::F32, DType::F64, DType::F16, DType::BF16] {
        check_pow(dtype);
    }
}

#[test]
fn binary_f32_matches_cpu() {
    if !crate::ready() {
        return;
    }
    check_float(DType::F32);
}

#[test]
fn binary_f64_matches_cpu() {
    if !crate::ready() {
        return;
    }
    check_float(DType::F64);
}

#[test]
fn binary_f16_matches_cpu() {
    if !crate::ready() {
        return;
    }
    check_float(DType::F16);
}

#[test]
fn binary_bf16_matches_cpu() {
    if !crate::ready() {
        return;
    }
    check_float(DType::BF16);
}

#[test]
fn binary_integers_and_bool_match_cpu() {
    if !crate::ready() {
        return;
    }
    let mut rng = Rng(0x1b);
    for dtype in [DType::I64, DType::I32, DType::I8, DType::U8, DType::Bool] {
        for (k, l) in layouts().iter().enumerate().skip(1) {
            let (a, b) = (
                values(dtype, reach(&l.dims, &l.lhs_strides), &mut rng),
                values(dtype, reach(&l.dims, &l.rhs_strides), &mut rng),
            );
            let b = if dtype == DType::Bool { b } else { nonzero(b) };
            for op in OPS {
                let arithmetic = !matches!(op, BinaryOp::Cmp(_));
                if (dtype == DType::Bool && arithmetic) || op == BinaryOp::Div {
                    continue;
                }
                let got = binary_kernel(&a, &b, op, l, 2);
                assert_bits_eq(
                    &got,
                    &a.binary(&b, op, l).unwrap(),
                    &format!("binary {op:?} {dtype} layout #{k}"),
                );
            }
        }
    }
}

/// Known answers of the integer kernels, independent of the CPU backend.
#[test]
fn integer_kernels_known_answers() {
    if !crate::ready() {
        return;
    }
    let l = BinaryLayout {
        dims: vec![5],
        lhs_strides: vec![1],
        rhs_strides: vec![1],
    };
    let a = CpuStorage::I8(vec![-128, 127, -7, 7, 100]);
    let b = CpuStorage::I8(vec![-1, 2, 2, -2, 100]);
    let run = |op| binary_kernel(&a, &b, op, &l, 1);
    assert_eq!(run(BinaryOp::FloorDivide), CpuStorage::I8(vec![-128, 63, -4, -4, 1]));
    assert_eq!(run(BinaryOp::Remainder), CpuStorage::I8(vec![0, 1, 1, -1, 0]));
    assert_eq!(run(BinaryOp::Mul), CpuStorage::I8(vec![-128, -2, -14, -14, 16]));
    assert_eq!(run(BinaryOp::Add), CpuStorage::I8(vec![127, -127, -5, 5, -56]));
    assert_eq!(
        run(BinaryOp::Cmp(CmpOp::Lt)),
        CpuStorage::Bool(vec![true, false, true, false, false])
    );
}

/// `magnitude_mask` of elementwise.rs.
fn magnitude_mask(dtype: DType) -> u64 {
    match dtype {
        DType::F16 | DType::BF16 => 0x7fff,
        DType::F32 => 0x7fff_ffff,
        DType::F64 => 0x7fff_ffff_ffff_ffff,
        DType::Bool | DType::U8 | DType::I8 => 0xff,
        DType::I32 => 0xffff_ffff,
        DType::I64 => u64::MAX,
    }
}

fn mask(dtype: DType, n: usize, rng: &mut Rng) -> CpuStorage {
    // Zero, negative zero (false), NaN and the smallest subnormal (true), ...
    let v: Vec<f64> = (0..n)
        .map(|_| [0.0, -0.0, 1.0, f64::NAN, -f64::NAN, -2.0, f64::INFINITY, 1e-300][rng.below(8) as usize])
        .collect();
    match dtype {
        DType::F32 => CpuStorage::F32(
            v.iter()
                .map(|&x| if x == 1e-300 { f32::from_bits(1) } else { x as f32 })
                .collect(),
        ),
        DType::F64 => CpuStorage::F64(
            v.iter()
                .map(|&x| if x == 1e-300 { f64::from_bits(1) } else { x })
                .collect(),
        ),
        DType::F16 => CpuStorage::F16(
            v.iter()
                .map(|&x| {
                    if x == 1e-300 {
                        f16::from_bits(1)
                    } else {
                        f16::from_f64(x)
                    }
                })
                .collect(),
        ),
        DType::BF16 => CpuStorage::BF16(
            v.iter()
                .map(|&x| {
                    if x == 1e-300 {
                        bf16::from_bits(1)
                    } else {
                        bf16::from_f64(x)
                    }
                })
                .collect(),
        ),
        DType::I64 => CpuStorage::I64((0..n).map(|_| [0, 1, -1, i64::MIN, 0][rng.below(5) as usize]).collect()),
        DType::I32 => CpuStorage::I32((0..n).map(|_| [0, 1, -1, i32::MIN, 0][rng.below(5) as usize]).collect()),
        DType::I8 => CpuStorage::I8((0..n).map(|_| [0, 1, -1, i8::MIN, 0][rng.below(5) as usize]).collect()),
        DType::U8 => CpuStorage::U8((0..n).map(|_| [0, 1, 255, 128, 0][rng.below(5) as usize]).collect()),
        DType::Bool => CpuStorage::Bool((0..n).map(|_| rng.below(2) == 1).collect()),
    }
}

#[test]
fn where_cond_every_mask_and_value_width_matches_cpu() {
    if !crate::ready() {
        return;
    }
    let all = DType::ALL;
    let mut rng = Rng(0x3e);
    let n = 777;
    for md in all {
        let m = mask(md, n, &mut rng);
        for vd in all {
            let (t, f) = (values(vd, n, &mut rng), values(vd, n, &mut rng));
            let msfx = match md.size_in_bytes() {
                1 => "m1",
                2 => "m2",
                4 => "m4",
                _ => "m8",
            };
            let name = format!("where_{msfx}_{}", bytes_sfx(vd));
            let mut out = sentinel(vd, n);
            let (o, mp, tp, fp, n64, mag) = (
                sptr_mut(&mut out),
                sptr(&m),
                sptr(&t),
                sptr(&f),
                n as u64,
                magnitude_mask(md),
            );
            // SAFETY: where_<m>_<v>(V* out, const M* mask, const V* t, const V* f, u64 n, u64 magnitude): all four
            // buffers hold n elements of their widths and are live. an empty buffer is never dereferenced: every access
            // is at an index below the element count passed with it (none when that count is 0).
            unsafe { launch(&name, grid_for(n, 2), &[&o, &mp, &tp, &fp, &n64, &mag], false) };
            assert_bits_eq(
                &out,
                &m.where_cond(&t, &f).unwrap(),
                &format!("{name} (mask {md}, values {vd})"),
            );
        }
    }
}
