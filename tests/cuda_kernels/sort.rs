//! kernels/sort.cu against `CpuStorage::sort` for (outer, len, inner) views, with
//! the launch shapes of src/backend/cuda/sort.rs: the thread kernel (one thread per
//! row, rows up to 32 long) and the block kernel (one block per row, merge passes
//! separated by `__syncthreads`, so run with one host thread per CUDA thread) on rows
//! shorter and longer than the block, strided (inner > 1) and contiguous.
//!
//! Tolerance: none. Both values and indices are bit-exact: the sort is stable, so
//! ties (many here), NaN (sorted last ascending, first descending), infinities
//! and signed zeros (equal, so kept in input order) have exactly one answer.

use crate::{Rng, assert_bits_eq, grid_for, launch, sentinel, sfx, sptr, sptr_mut, storage};
use neurite::DType;
use neurite::backend::{BackendStorage, CpuStorage};

const DTYPES: [DType; 5] = [DType::F32, DType::F64, DType::F16, DType::BF16, DType::I64];

/// Runs `sort_{thread,block}_<T>` over `x` viewed as (outer, len, inner).
fn sort_kernel(
    x: &CpuStorage,
    (outer, len, inner): (usize, usize, usize),
    descending: bool,
    block: bool,
) -> (CpuStorage, CpuStorage) {
    let n = outer * len * inner;
    assert_eq!(n, x.len());
    assert!(n > 0, "the host launches no kernel for an empty buffer");
    let rows = outer * inner;
    let mut vals = sentinel(x.dtype(), n);
    let mut ids = sentinel(DType::I64, n);
    let mut tmp_vals = sentinel(x.dtype(), n);
    let mut tmp_ids = sentinel(DType::I64, n);
    let (vp, ip, tvp, tip, xp) = (
        sptr_mut(&mut vals),
        sptr_mut(&mut ids),
        sptr_mut(&mut tmp_vals),
        sptr_mut(&mut tmp_ids),
        sptr(x),
    );
    let (o, l, i, d) = (outer as u64, len as u64, inner as u64, i32::from(descending));
    let ty = sfx(x.dtype());
    if block {
        // Grid capped at 2 blocks (sm_count * 32 stands in): blocks loop over rows.
        let grid = rows.min(2) as u32;
        // SAFETY: (T* vals, i64* ids, T* tmp_vals, i64* tmp_ids, const T* x, u64 outer, u64 len, u64 inner, int
        // descending): all five buffers hold n elements and live for the call; threaded, as the barriers need; every
        // access is below the counts passed, so an empty buffer is never dereferenced.
        unsafe {
            launch(
                &format!("sort_block_{ty}"),
                grid,
                &[&vp, &ip, &tvp, &tip, &xp, &o, &l, &i, &d],
                true,
            )
        };
    } else {
        // SAFETY: (T* vals, i64* ids, const T* x, u64 outer, u64 len, u64 inner, int descending): the three buffers
        // hold n elements and live for the call. an empty buffer is never dereferenced: every access is at an index
        // below the element count passed with it (none when that count is 0).
        unsafe {
            launch(
                &format!("sort_thread_{ty}"),
                grid_for(rows, 3),
                &[&vp, &ip, &xp, &o, &l, &i, &d],
                false,
            )
        };
    }
    (vals, ids)
}

/// Few distinct values (ties everywhere), NaN every `nan_every`-th element, some
/// infinities and zeros of both signs. Integers for `I64`.
fn data(dtype: DType, n: usize, rng: &mut Rng, nan_every: usize) -> CpuStorage {
    if dtype == DType::I64 {
        return CpuStorage::I64(
            (0..n)
                .map(|k| rng.below(30) as i64 - 15 + ((k % 211 == 5) as i64) * i64::MAX / 2)
                .collect(),
        );
    }
    let v: Vec<f64> = (0..n)
        .map(|k| {
            if nan_every > 0 && k % nan_every == nan_every / 2 {
                f64::NAN
            } else if k % 89 == 17 {
                if k % 2 == 0 { f64::INFINITY } else { f64::NEG_INFINITY }
            } else if k % 31 == 3 {
                -0.0
            } else {
                rng.below(25) as f64 * 0.5 - 6.0
            }
        })
        .collect();
    storage(dtype, &v)
}

fn check(dtype: DType, shape: (usize, usize, usize), block: bool, rng: &mut Rng) {
    let n = shape.0 * shape.1 * shape.2;
    for nan_every in [0, 7] {
        let x = data(dtype, n, rng, nan_every);
        for descending in [false, true] {
            let (v, i) = sort_kernel(&x, shape, descending, block);
            let (wv, wi) = x.sort(shape.0, shape.1, shape.2, descending).unwrap();
            let what = format!("{dtype} {shape:?} block={block} descending={descending} nan_every={nan_every}");
            assert_bits_eq(&i, &wi, &format!("indices of {what}"));
            assert_bits_eq(&v, &wv, &format!("values of {what}"));
        }
    }
}

#[test]
fn thread_kernel_matches_the_cpu() {
    if !crate::ready() {
        return;
    }
    let mut rng = Rng(0x50);
    for dtype in DTYPES {
        for shape in [(7, 32, 1), (3, 5, 4), (2, 1, 9), (40, 17, 3)] {
            check(dtype, shape, false, &mut rng);
        }
    }
}

#[test]
fn block_kernel_matches_the_cpu() {
    if !crate::ready() {
        return;
    }
    let mut rng = Rng(0x51);
    for dtype in DTYPES {
        // Rows shorter than the block, a power of two, longer than the block (each
        // thread places several elements), several thousand long, and strided.
        for shape in [(3, 33, 1), (2, 256, 1), (1, 1000, 1), (1, 5000, 1), (2, 300, 3)] {
            check(dtype, shape, true, &mut rng);
        }
    }
}
