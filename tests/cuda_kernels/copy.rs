//! kernels/copy.cu against the CPU backend, bit-exact (the kernels only move
//! bits): copy_strided against `copy_strided` (transposes, narrows with an
//! offset, broadcasts, permutations up to MAX_DIMS, and a rank-7 view split into
//! launches as `for_each_leading` does), cat_part against `cat`, fill against
//! `CpuStorage::full` (the host's rounding of the value to each dtype).

use crate::{MAX_DIMS, Rng, assert_bits_eq, bytes_sfx, grid_for, launch, sentinel, sptr, sptr_mut};
use half::{bf16, f16};
use neurite::backend::{BackendStorage, CpuStorage};
use neurite::{DType, WithDType};

const ALL: [DType; 9] = [
    DType::F16,
    DType::BF16,
    DType::F32,
    DType::F64,
    DType::I64,
    DType::I32,
    DType::I8,
    DType::U8,
    DType::Bool,
];

/// prelude.cuh's `Strided` (launch.rs `Strided`).
#[repr(C)]
#[derive(Clone, Copy, Default)]
struct Strided {
    dims: [u64; MAX_DIMS],
    strides: [u64; MAX_DIMS],
    rank: u32,
}

impl Strided {
    fn new(dims: &[usize], strides: &[usize]) -> Strided {
        assert!(dims.len() <= MAX_DIMS);
        let mut s = Strided {
            rank: dims.len() as u32,
            ..Default::default()
        };
        for (i, (&d, &st)) in dims.iter().zip(strides).enumerate() {
            s.dims[i] = d as u64;
            s.strides[i] = st as u64;
        }
        s
    }
}

/// Random bit patterns of `dtype` (NaNs with payloads included: only bits move).
fn random_bits(dtype: DType, n: usize, rng: &mut Rng) -> CpuStorage {
    match dtype {
        DType::F16 => CpuStorage::F16((0..n).map(|_| f16::from_bits(rng.next_u64() as u16)).collect()),
        DType::BF16 => CpuStorage::BF16((0..n).map(|_| bf16::from_bits(rng.next_u64() as u16)).collect()),
        DType::F32 => CpuStorage::F32((0..n).map(|_| f32::from_bits(rng.next_u64() as u32)).collect()),
        DType::F64 => CpuStorage::F64((0..n).map(|_| f64::from_bits(rng.next_u64())).collect()),
        DType::I64 => CpuStorage::I64((0..n).map(|_| rng.next_u64() as i64).collect()),
        DType::I32 => CpuStorage::I32((0..n).map(|_| rng.next_u64() as i32).collect()),
        DType::I8 => CpuStorage::I8((0..n).map(|_| rng.next_u64() as i8).collect()),
        DType::U8 => CpuStorage::U8((0..n).map(|_| rng.next_u64() as u8).collect()),
        DType::Bool => CpuStorage::Bool((0..n).map(|_| rng.next_u64() & 1 == 1).collect()),
    }
}

/// Runs copy_strided as copy.rs does: launches over the trailing MAX_DIMS dims,
/// one per index of the leading ones, on offset pointers.
fn copy_strided_kernel(x: &CpuStorage, offset: usize, strides: &[usize], shape: &[usize]) -> CpuStorage {
    let n: usize = shape.iter().product();
    let last = offset + shape.iter().zip(strides).map(|(&d, &s)| (d - 1) * s).sum::<usize>();
    assert!(last < x.len());
    let size = x.dtype().size_in_bytes();
    let mut out = sentinel(x.dtype(), n);
    let tail = shape.len().saturating_sub(MAX_DIMS);
    let per_launch: usize = shape[tail..].iter().product();
    let layout = Strided::new(&shape[tail..], &strides[tail..]);
    let lead = &shape[..tail];
    let count: usize = lead.iter().product();
    let name = format!("copy_strided_{}", bytes_sfx(x.dtype()));
    for i in 0..count {
        let (mut rem, mut src) = (i, offset);
        for d in (0..lead.len()).rev() {
            src += (rem % lead[d]) * strides[d];
            rem /= lead[d];
        }
        let o = sptr_mut(&mut out) + (i * per_launch * size) as u64;
        let xp = sptr(x) + (src * size) as u64;
        let n64 = per_launch as u64;
        // SAFETY: copy_strided_<b>(V* out, const V* x, u64 n, Strided l) writes out[i*per_launch..][..per_launch],
        // inside `out`, and reads x at src + offsets of `layout`, all at most `last` (checked above); both live; every
        // access is below the count passed, so an empty buffer is never dereferenced.
        unsafe { launch(&name, grid_for(per_launch, 3), &[&o, &xp, &n64, &layout], false) };
    }
    out
}

#[test]
fn copy_strided_matches_cpu_for_every_width() {
    if !crate::ready() {
        return;
    }
    let mut rng = Rng(0xc0);
    let cases: Vec<(usize, Vec<usize>, Vec<usize>)> = vec![
        // transpose of a (37, 41) matrix
        (0, vec![1, 41], vec![41, 37]),
        // narrow with an offset
        (5, vec![41, 1], vec![10, 20]),
        // every third element
        (2, vec![3], vec![300]),
        // broadcast a row
        (0, vec![0, 1], vec![7, 300]),
        // a permuted rank-6 view of a (2, 3, 4, 2, 3, 5) buffer
        (0, vec![5, 1, 30, 120, 15, 60], vec![3, 5, 2, 2, 2, 4]),
        // rank 7, split into launches over the last 6 dims
        (1, vec![700, 1, 350, 2, 70, 5, 14], vec![2, 2, 2, 5, 3, 2, 5]),
        // one element
        (1400, vec![1], vec![1]),
    ];
    for dtype in ALL {
        let x = random_bits(dtype, 37 * 41 + 100, &mut rng);
        for (offset, strides, shape) in &cases {
            let got = copy_strided_kernel(&x, *offset, strides, shape);
            let want = x.copy_strided(*offset, strides, shape).unwrap();
            assert_bits_eq(
                &got,
                &want,
                &format!("copy_strided {dtype} offset {offset} strides {strides:?} shape {shape:?}"),
            );
        }
    }
}

#[test]
fn cat_parts_match_cpu() {
    if !crate::ready() {
        return;
    }
    let mut rng = Rng(0xca7);
    let outer = 11;
    for dtype in ALL {
        let widths = [3usize, 0, 250, 17, 1];
        let parts: Vec<CpuStorage> = widths.iter().map(|w| random_bits(dtype, outer * w, &mut rng)).collect();
        let total: usize = parts.iter().map(|p| p.len()).sum();
        let out_width = (total / outer) as u64;
        let mut out = sentinel(dtype, total);
        let name = format!("cat_part_{}", bytes_sfx(dtype));
        let mut column = 0u64;
        for p in &parts {
            let width = (p.len() / outer) as u64;
            if p.is_empty() {
                continue; // the host launches nothing for an empty part
            }
            let (o, pp, ou) = (sptr_mut(&mut out), sptr(p), outer as u64);
            // SAFETY: cat_part_<b>(V* out, const V* part, u64 outer, u64 width, u64 out_width, u64 column): part holds
            // outer*width elements, writes land in rows of out_width at columns column..column+width <= out_width,
            // inside `out`; every access is below the counts passed, so an empty buffer is never dereferenced.
            unsafe {
                launch(
                    &name,
                    grid_for(p.len(), 2),
                    &[&o, &pp, &ou, &width, &out_width, &column],
                    false,
                )
            };
            column += width;
        }
        let refs: Vec<&CpuStorage> = parts.iter().collect();
        assert_bits_eq(&out, &CpuStorage::cat(&refs, outer).unwrap(), &format!("cat {dtype}"));
    }
}

/// Runs fill_<bytes> with the bits copy.rs's `full` passes for `value`.
pub fn fill_kernel(dtype: DType, value: f64, n: usize, cap: u32) -> CpuStorage {
    let mut out = sentinel(dtype, n);
    let (o, n64) = (sptr_mut(&mut out), n as u64);
    let name = format!("fill_{}", bytes_sfx(dtype));
    let grid = grid_for(n, cap);
    // SAFETY: fill_<b>(V* out, u64 n, V bits) with a value argument of V's width; `out` holds n elements and is live.
    // an empty buffer is never dereferenced: every access is at an index below the element count passed with it (none
    // when that count is 0).
    unsafe {
        match dtype {
            DType::F16 => launch(&name, grid, &[&o, &n64, &f16::from_f64(value).to_bits()], false),
            DType::BF16 => launch(&name, grid, &[&o, &n64, &bf16::from_f64(value).to_bits()], false),
            DType::F32 => launch(&name, grid, &[&o, &n64, &(value as f32).to_bits()], false),
            DType::F64 => launch(&name, grid, &[&o, &n64, &value.to_bits()], false),
            DType::I64 => launch(&name, grid, &[&o, &n64, &((value as i64) as u64)], false),
            DType::I32 => launch(&name, grid, &[&o, &n64, &(i32::from_f64(value) as u32)], false),
            DType::I8 => launch(&name, grid, &[&o, &n64, &(i8::from_f64(value) as u8)], false),
            DType::U8 => launch(&name, grid, &[&o, &n64, &u8::from_f64(value)], false),
            DType::Bool => launch(&name, grid, &[&o, &n64, &u8::from(value != 0.0)], false),
        }
    }
    out
}

#[test]
fn fill_matches_cpu_full() {
    if !crate::ready() {
        return;
    }
    let values = [
        0.0,
        -0.0,
        1.1,
        f64::NAN,
        f64::NEG_INFINITY,
        65520.0,
        1e10,
        -3.7,
        1e300,
        2.0f64.powi(-25),
    ];
    for dtype in ALL {
        for &v in &values {
            // A float out of an integer type's range has no defined integer
            // value (PyTorch's casts there are C's undefined behaviour).
            if !(dtype.is_float() || v.is_finite() && v.abs() < 128.0) {
                continue;
            }
            for (n, cap) in [(1, 1), (1000, 2), (513, 4)] {
                let got = fill_kernel(dtype, v, n, cap);
                assert_bits_eq(
                    &got,
                    &CpuStorage::full(v, n, dtype).unwrap(),
                    &format!("fill {dtype} {v} n={n}"),
                );
            }
        }
    }
}

/// Launches over zero elements (which the host skips) touch nothing.
#[test]
fn zero_element_copies_write_nothing() {
    if !crate::ready() {
        return;
    }
    let x = CpuStorage::F32(vec![1.0; 8]);
    let mut out = sentinel(DType::F32, 8);
    let (o, xp, zero) = (sptr_mut(&mut out), sptr(&x), 0u64);
    let layout = Strided::new(&[0], &[1]);
    // SAFETY: with n = 0 (and outer = 0) the kernels touch no element; both buffers are live.
    unsafe {
        launch("copy_strided_b4", 1, &[&o, &xp, &zero, &layout], false);
        launch("cat_part_b4", 1, &[&o, &xp, &zero, &4u64, &4u64, &0u64], false);
        launch("fill_b4", 1, &[&o, &zero, &7u32], false);
    }
    assert_bits_eq(&out, &sentinel(DType::F32, 8), "zero-element copies");
}
