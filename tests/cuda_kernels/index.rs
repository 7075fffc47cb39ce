//! kernels/index.cu against the CPU backend, bit-exact: index_select and gather
//! (bit moves, every width), index_add and scatter_add (atomic adds into an f32
//! or f64 accumulator, narrowed to 16 bits by the cast kernel as index.rs does)
//! on integer-valued data, so that every sum is exact whatever the order. An
//! out-of-range index writes the error record {op code, index, size, 0} of
//! prelude.cuh's `report_bad_index`, yields 0 (or adds nothing) at its
//! positions, and a record already set is kept.

use crate::{Rng, assert_bits_eq, bytes_sfx, grid_for, launch, sentinel, sfx, sptr, sptr_mut};
use half::{bf16, f16};
use neurite::backend::{BackendStorage, CpuStorage};
use neurite::{DType, Error};

const ALL: [DType; 9] = DType::ALL;
const FLOATS: [DType; 4] = [DType::F32, DType::F64, DType::F16, DType::BF16];

const I_SELECT: u64 = 1;
const I_ADD: u64 = 2;
const I_GATHER: u64 = 3;
const I_SCATTER: u64 = 4;

fn ints(dtype: DType, n: usize, rng: &mut Rng) -> CpuStorage {
    let v: Vec<i64> = (0..n).map(|_| rng.below(17) as i64 - 8).collect();
    match dtype {
        DType::F32 => CpuStorage::F32(v.iter().map(|&x| x as f32).collect()),
        DType::F64 => CpuStorage::F64(v.iter().map(|&x| x as f64).collect()),
        DType::F16 => CpuStorage::F16(v.iter().map(|&x| f16::from_f64(x as f64)).collect()),
        DType::BF16 => CpuStorage::BF16(v.iter().map(|&x| bf16::from_f64(x as f64)).collect()),
        DType::I64 => CpuStorage::I64(v.iter().map(|&x| x * 1_000_000_007).collect()),
        other => CpuStorage::I64(v.iter().map(|&x| x * 13).collect())
            .to_dtype(other)
            .unwrap(),
    }
}

type View = (usize, usize, usize); // (outer, dim, inner)

/// Runs index_select_<b> or gather_<b>; `nout` elements out; returns (out, err record).
fn move_kernel(
    kernel: &str,
    x: &CpuStorage,
    ids: &[i64],
    (outer, dim, inner): View,
    nk: usize,
) -> (CpuStorage, [u64; 4]) {
    assert_eq!(outer * dim * inner, x.len());
    let n = outer * nk * inner;
    if kernel == "gather" {
        assert_eq!(ids.len(), n);
    } else {
        assert_eq!(ids.len(), nk);
    }
    let mut out = sentinel(x.dtype(), n);
    let mut err = [0u64; 4];
    let name = format!("{kernel}_{}", bytes_sfx(x.dtype()));
    let (o, xp, ip, ep) = (sptr_mut(&mut out), sptr(x), crate::dptr(ids), crate::dptr_mut(&mut err));
    let (ou, k, d, i) = (outer as u64, nk as u64, dim as u64, inner as u64);
    // SAFETY: (V* out, const V* x, const i64* ids, u64 outer, u64 n, u64 dim, u64 inner, u64* err): out holds
    // outer*nk*inner, x outer*dim*inner (read only at an index below dim), ids as asserted, err 4 words, all live;
    // every access is below the counts passed, so an empty buffer is never dereferenced.
    unsafe { launch(&name, grid_for(n, 3), &[&o, &xp, &ip, &ou, &k, &d, &i, &ep], false) };
    (out, err)
}

/// Runs index_add_<T> or scatter_add_<T> into a zeroed accumulator, then narrows
/// 16-bit results with cast_f32_<T> (index.rs `accumulate`).
fn add_kernel(
    kernel: &str,
    g: &CpuStorage,
    ids: &[i64],
    (outer, dim, inner): View,
    nk: usize,
    err: &mut [u64; 4],
) -> CpuStorage {
    assert_eq!(g.len(), outer * nk * inner);
    let acc_dtype = if g.dtype() == DType::F64 {
        DType::F64
    } else {
        DType::F32
    };
    let mut acc = CpuStorage::full(0.0, outer * dim * inner, acc_dtype).unwrap();
    let name = format!("{kernel}_{}", sfx(g.dtype()));
    let (a, gp, ip, ep) = (sptr_mut(&mut acc), sptr(g), crate::dptr(ids), crate::dptr_mut(err));
    let (ou, k, d, i) = (outer as u64, nk as u64, dim as u64, inner as u64);
    // SAFETY: (C* acc, const T* g, const i64* ids, u64 outer, u64 n, u64 dim, u64 inner, u64* err): acc holds
    // outer*dim*inner (used only at an index below dim), g outer*nk*inner, ids nk or g.len() as the callers pass, err 4
    // words, all live; every access is below the counts passed, so an empty buffer is never dereferenced.
    unsafe {
        launch(
            &name,
            grid_for(g.len(), 3),
            &[&a, &gp, &ip, &ou, &k, &d, &i, &ep],
            false,
        )
    };
    if acc_dtype == g.dtype() {
        return acc;
    }
    let mut out = sentinel(g.dtype(), acc.len());
    let (o, ap, n) = (sptr_mut(&mut out), sptr(&acc), acc.len() as u64);
    let cast = format!("cast_f32_{}", sfx(g.dtype()));
    // SAFETY: cast_f32_<T>(T* out, const float* x, u64 n): both hold n elements.
    // an empty buffer is never dereferenced: every access is at an index below the element count passed with
    // it (none when that count is 0).
    unsafe { launch(&cast, grid_for(acc.len(), 3), &[&o, &ap, &n], false) };
    out
}

const VIEWS: [View; 3] = [(3, 10, 7), (1, 300, 1), (4, 5, 33)];

#[test]
fn index_select_matches_cpu() {
    if !crate::ready() {
        return;
    }
    let mut rng = Rng(0x15);
    for dtype in ALL {
        for view in VIEWS {
            let x = ints(dtype, view.0 * view.1 * view.2, &mut rng);
            let ids: Vec<i64> = (0..23).map(|_| rng.below(view.1 as u64) as i64).collect();
            let (got, err) = move_kernel("index_select", &x, &ids, view, ids.len());
            assert_eq!(err, [0; 4], "index_select {dtype} {view:?}: error record");
            let want = x
                .index_select(&CpuStorage::I64(ids.clone()), view.0, view.1, view.2)
                .unwrap();
            assert_bits_eq(&got, &want, &format!("index_select {dtype} {view:?}"));
            // i32 indices select the same elements on the CPU (the CUDA backend
            // widens them with cast_i32_i64 before this kernel).
            let ids32 = CpuStorage::I32(ids.iter().map(|&i| i as i32).collect());
            assert_eq!(x.index_select(&ids32, view.0, view.1, view.2).unwrap(), want);
        }
    }
}

#[test]
fn gather_matches_cpu() {
    if !crate::ready() {
        return;
    }
    let mut rng = Rng(0x16);
    for dtype in ALL {
        for view in VIEWS {
            let x = ints(dtype, view.0 * view.1 * view.2, &mut rng);
            let nk = 9;
            let ids: Vec<i64> = (0..view.0 * nk * view.2)
                .map(|_| rng.below(view.1 as u64) as i64)
                .collect();
            let (got, err) = move_kernel("gather", &x, &ids, view, nk);
            assert_eq!(err, [0; 4], "gather {dtype} {view:?}: error record");
            let want = x.gather(&CpuStorage::I64(ids), view.0, view.1, view.2).unwrap();
            assert_bits_eq(&got, &want, &format!("gather {dtype} {view:?}"));
        }
    }
}

#[test]
fn index_add_and_scatter_add_match_cpu_on_integer_data() {
    if !crate::ready() {
        return;
    }
    let mut rng = Rng(0x17);
    for dtype in FLOATS {
        for view in VIEWS {
            // Few distinct targets: many adds land on each accumulator.
            let nk = 40;
            let ids: Vec<i64> = (0..nk).map(|_| rng.below(view.1.min(4) as u64) as i64).collect();
            let g = ints(dtype, view.0 * nk * view.2, &mut rng);
            let mut err = [0u64; 4];
            let got = add_kernel("index_add", &g, &ids, view, nk, &mut err);
            assert_eq!(err, [0; 4]);
            let want = g.index_add(&CpuStorage::I64(ids), view.0, view.1, view.2).unwrap();
            assert_bits_eq(&got, &want, &format!("index_add {dtype} {view:?}"));

            let ids: Vec<i64> = (0..g.len()).map(|_| rng.below(view.1.min(3) as u64) as i64).collect();
            let got = add_kernel("scatter_add", &g, &ids, view, nk, &mut err);
            assert_eq!(err, [0; 4]);
            let want = g.scatter_add(&CpuStorage::I64(ids), view.0, view.1, view.2).unwrap();
            assert_bits_eq(&got, &want, &format!("scatter_add {dtype} {view:?}"));
        }
    }
}

fn is_out_of_range<T>(r: neurite::Result<T>, index: i64) -> bool {
    matches!(r, Err(Error::IndexOutOfRange { index: i, .. }) if i == index)
}

#[test]
fn out_of_range_indices_write_the_error_record() {
    if !crate::ready() {
        return;
    }
    let mut rng = Rng(0x18);
    let view = (3, 5, 4);
    for dtype in [DType::F32, DType::F16, DType::F64] {
        let x = ints(dtype, 60, &mut rng);
        for bad in [5i64, -1, i64::MAX] {
            // index_select: the bad id twice among good ones.
            let ids = vec![0, bad, 2, 4, bad, 1];
            let (got, err) = move_kernel("index_select", &x, &ids, view, ids.len());
            assert_eq!(err, [I_SELECT, bad as u64, 5, 0], "index_select {dtype} bad {bad}");
            assert!(is_out_of_range(
                x.index_select(&CpuStorage::I64(ids.clone()), 3, 5, 4),
                bad
            ));
            // Good positions as with the bad ids replaced; zeros at the bad ones.
            let fixed: Vec<i64> = ids.iter().map(|&i| if i == bad { 0 } else { i }).collect();
            let mut want = crate::bits(&x.index_select(&CpuStorage::I64(fixed), 3, 5, 4).unwrap());
            for (t, w) in want.iter_mut().enumerate() {
                if ids[(t / 4) % ids.len()] == bad {
                    *w = 0;
                }
            }
            assert_eq!(crate::bits(&got), want, "index_select {dtype} bad {bad}: values");

            // gather
            let mut gids: Vec<i64> = (0..3 * 2 * 4).map(|_| rng.below(5) as i64).collect();
            gids[7] = bad;
            gids[19] = bad;
            let (got, err) = move_kernel("gather", &x, &gids, view, 2);
            assert_eq!(err, [I_GATHER, bad as u64, 5, 0], "gather {dtype} bad {bad}");
            assert!(is_out_of_range(x.gather(&CpuStorage::I64(gids.clone()), 3, 5, 4), bad));
            let fixed: Vec<i64> = gids.iter().map(|&i| if i == bad { 0 } else { i }).collect();
            let mut want = crate::bits(&x.gather(&CpuStorage::I64(fixed), 3, 5, 4).unwrap());
            want[7] = 0;
            want[19] = 0;
            assert_eq!(crate::bits(&got), want, "gather {dtype} bad {bad}: values");

            // index_add: nothing added for the bad id (as if its gradient were 0).
            let g = ints(dtype, 3 * ids.len() * 4, &mut rng);
            let mut err = [0u64; 4];
            let got = add_kernel("index_add", &g, &ids, view, ids.len(), &mut err);
            assert_eq!(err, [I_ADD, bad as u64, 5, 0], "index_add {dtype} bad {bad}");
            assert!(is_out_of_range(
                g.index_add(&CpuStorage::I64(ids.clone()), 3, 5, 4),
                bad
            ));
            let fixed: Vec<i64> = ids.iter().map(|&i| if i == bad { 0 } else { i }).collect();
            let g0 = zero_where(&g, |t| ids[(t / 4) % ids.len()] == bad);
            assert_bits_eq(
                &got,
                &g0.index_add(&CpuStorage::I64(fixed), 3, 5, 4).unwrap(),
                "index_add values",
            );

            // scatter_add
            let g = ints(dtype, 3 * 2 * 4, &mut rng);
            let mut err = [0u64; 4];
            let got = add_kernel("scatter_add", &g, &gids, view, 2, &mut err);
            assert_eq!(err, [I_SCATTER, bad as u64, 5, 0], "scatter_add {dtype} bad {bad}");
            assert!(is_out_of_range(
                g.scatter_add(&CpuStorage::I64(gids.clone()), 3, 5, 4),
                bad
            ));
            let fixed: Vec<i64> = gids.iter().map(|&i| if i == bad { 0 } else { i }).collect();
            let g0 = zero_where(&g, |t| gids[t] == bad);
            assert_bits_eq(
                &got,
                &g0.scatter_add(&CpuStorage::I64(fixed), 3, 5, 4).unwrap(),
                "scatter_add values",
            );
        }
    }
}

/// The record is sticky: a later bad index leaves the first report in place.
#[test]
fn a_set_error_record_is_kept() {
    if !crate::ready() {
        return;
    }
    let x = CpuStorage::F32((0..20).map(|v| v as f32).collect());
    let ids = vec![1i64, 9];
    let mut out = sentinel(DType::F32, 4 * ids.len());
    let mut err = [I_ADD, 77, 3, 0];
    let (o, xp, ip, ep) = (
        sptr_mut(&mut out),
        sptr(&x),
        crate::dptr(&ids),
        crate::dptr_mut(&mut err),
    );
    let (ou, k, d, i) = (1u64, 2u64, 5u64, 4u64);
    // SAFETY: index_select_b4 over (1, 5, 4) with 2 ids: out holds 8 elements, x 20, ids 2, err 4 words; the bad id 9
    // is never dereferenced. an empty buffer is never dereferenced: every access is at an index below the element count
    // passed with it (none when that count is 0).
    unsafe { launch("index_select_b4", 1, &[&o, &xp, &ip, &ou, &k, &d, &i, &ep], false) };
    assert_eq!(err, [I_ADD, 77, 3, 0]);
    assert_eq!(
        crate::bits(&out)[..4],
        crate::bits(&CpuStorage::F32(vec![4.0, 5.0, 6.0, 7.0]))[..]
    );
    assert_eq!(crate::bits(&out)[4..], [0; 4]);
}

fn zero_where(g: &CpuStorage, f: impl Fn(usize) -> bool) -> CpuStorage {
    let mut v = g.to_vec::<f64>().unwrap();
    for (t, x) in v.iter_mut().enumerate() {
        if f(t) {
            *x = 0.0;
        }
    }
    CpuStorage::F64(v).to_dtype(g.dtype()).unwrap()
}

/// The CUDA backend widens i32 indices with cast_i32_i64 before an index kernel.
#[test]
fn i32_indices_widen_exactly() {
    if !crate::ready() {
        return;
    }
    let ids: Vec<i32> = vec![0, 5, i32::MAX, -1, i32::MIN, 7];
    let mut out = sentinel(DType::I64, ids.len());
    let (o, ip, n) = (sptr_mut(&mut out), crate::dptr(&ids), ids.len() as u64);
    // SAFETY: cast_i32_i64(i64* out, const i32* x, u64 n): both hold n elements, live.
    // an empty buffer is never dereferenced: every access is at an index below the element count passed with
    // it (none when that count is 0).
    unsafe { launch("cast_i32_i64", grid_for(ids.len(), 3), &[&o, &ip, &n], false) };
    assert_eq!(out, CpuStorage::I64(ids.iter().map(|&i| i as i64).collect()));
}
