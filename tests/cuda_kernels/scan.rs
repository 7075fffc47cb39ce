//! kernels/scan.cu against `CpuStorage::scan` for (outer, len, inner) views, with
//! the launch shape of src/backend/cuda/scan.rs (one thread per column, grid-stride
//! over a capped grid), forward and reverse, sum and product.
//!
//! Tolerance: none. Both backends add (or multiply) each column strictly in order
//! in the same compute type (f32 for f32/f16/bf16, f64 for f64) and round each
//! output once, so the results are bit-identical, NaN and infinities included.

use crate::{Rng, assert_bits_eq, grid_for, launch, sentinel, sfx, sptr, sptr_mut, storage};
use neurite::DType;
use neurite::backend::{BackendStorage, CpuStorage, ScanOp};

const FLOATS: [DType; 4] = [DType::F32, DType::F64, DType::F16, DType::BF16];

fn scan_kernel(x: &CpuStorage, op: ScanOp, (outer, len, inner): (usize, usize, usize), reverse: bool) -> CpuStorage {
    let n = outer * len * inner;
    assert_eq!(n, x.len());
    let mut out = sentinel(x.dtype(), n);
    let (op_, xp) = (sptr_mut(&mut out), sptr(x));
    let code: i32 = match op {
        ScanOp::Sum => 0,
        ScanOp::Prod => 1,
    };
    let (o, l, i, r) = (outer as u64, len as u64, inner as u64, i32::from(reverse));
    // SAFETY: (T* out, const T* x, u64 outer, u64 len, u64 inner, int op, int reverse): both buffers hold n elements
    // and live for the call. an empty buffer is never dereferenced: every access is at an index below the element count
    // passed with it (none when that count is 0).
    unsafe {
        launch(
            &format!("scan_thread_{}", sfx(x.dtype())),
            grid_for(outer * inner, 3),
            &[&op_, &xp, &o, &l, &i, &code, &r],
            false,
        )
    };
    out
}

#[test]
fn scans_are_bit_exact() {
    if !crate::ready() {
        return;
    }
    let mut rng = Rng(0x5c);
    for dtype in FLOATS {
        for shape in [(3, 1000, 1), (5, 20, 40), (1, 1, 7), (2, 3000, 1), (4, 64, 300)] {
            let n = shape.0 * shape.1 * shape.2;
            for op in [ScanOp::Sum, ScanOp::Prod] {
                // Products of values near 1 stay finite over long rows.
                let v: Vec<f64> = (0..n)
                    .map(|k| match (op, k % 503) {
                        (_, 77) => f64::NAN,
                        (_, 311) => f64::INFINITY,
                        (ScanOp::Sum, _) => rng.uniform(-10.0, 10.0),
                        (ScanOp::Prod, _) => rng.uniform(0.9, 1.1),
                    })
                    .collect();
                let x = storage(dtype, &v);
                for reverse in [false, true] {
                    let got = scan_kernel(&x, op, shape, reverse);
                    let want = x.scan(op, shape.0, shape.1, shape.2, reverse).unwrap();
                    assert_bits_eq(&got, &want, &format!("{op:?} {dtype} {shape:?} reverse={reverse}"));
                }
            }
        }
    }
}
