//! kernels/conv.cu against `CpuStorage::im2col` / `col2im`. im2col only moves
//! values (and the pad value, rounded to the dtype through f32 on both sides
//! for the 16-bit types), so it is bit-exact. col2im sums the taps that read
//! each pixel; both backends add them in (ki, kj) order starting from zero, in
//! f32 for the 16-bit types, so it is bit-exact too, on random (not only
//! integer) data.

use crate::{Rng, assert_bits_eq, grid_for, launch, sentinel, sfx, sptr, sptr_mut};
use half::{bf16, f16};
use neurite::DType;
use neurite::backend::{BackendStorage, CpuStorage, Im2ColSpec};

/// conv.cu's `ConvGeom` (launch.rs `ConvGeom`).
#[repr(C)]
#[derive(Clone, Copy)]
struct ConvGeom {
    n: u64,
    c: u64,
    h: u64,
    w: u64,
    kh: u64,
    kw: u64,
    sh: u64,
    sw: u64,
    ph: u64,
    pw: u64,
    oh: u64,
    ow: u64,
    dh: u64,
    dw: u64,
}

/// conv.rs `geometry`.
fn geometry(s: &Im2ColSpec) -> ConvGeom {
    ConvGeom {
        n: s.n as u64,
        c: s.c as u64,
        h: s.h as u64,
        w: s.w as u64,
        kh: s.kh as u64,
        kw: s.kw as u64,
        sh: s.stride.0 as u64,
        sw: s.stride.1 as u64,
        ph: s.pad_top as u64,
        pw: s.pad_left as u64,
        oh: s.out_h() as u64,
        ow: s.out_w() as u64,
        dh: s.dilation.0 as u64,
        dw: s.dilation.1 as u64,
    }
}

fn specs() -> Vec<Im2ColSpec> {
    let s = |n, c, h, w, kh, kw, stride, padding: (usize, usize)| {
        Im2ColSpec::symmetric(n, c, (h, w), (kh, kw), stride, padding)
    };
    let full =
        |n, c, (h, w), (kh, kw), stride, dilation, [pad_top, pad_bottom, pad_left, pad_right]: [usize; 4]| Im2ColSpec {
            n,
            c,
            h,
            w,
            kh,
            kw,
            stride,
            dilation,
            pad_top,
            pad_bottom,
            pad_left,
            pad_right,
        };
    vec![
        // dilation and asymmetric padding (conv "same", pooling ceil_mode)
        full(2, 2, (9, 8), (3, 2), (1, 2), (2, 3), [2, 1, 0, 3]),
        full(1, 3, (7, 7), (2, 3), (3, 1), (3, 2), [0, 2, 1, 0]),
        full(1, 1, (5, 11), (2, 2), (2, 3), (2, 4), [1, 3, 2, 1]),
        s(2, 3, 9, 7, 3, 3, (1, 1), (1, 1)),
        s(1, 2, 10, 10, 2, 2, (2, 2), (0, 0)),
        s(2, 1, 5, 4, 3, 2, (2, 3), (2, 1)),
        // padding wider than the kernel: whole taps in the padding
        s(1, 1, 1, 1, 1, 1, (5, 5), (3, 3)),
        s(1, 2, 6, 6, 4, 4, (1, 1), (3, 3)),
        // stride larger than the kernel: pixels no tap reads
        s(1, 2, 11, 13, 2, 3, (3, 4), (1, 2)),
    ]
}

fn random(dtype: DType, n: usize, rng: &mut Rng) -> CpuStorage {
    let v: Vec<f64> = (0..n).map(|_| rng.uniform(-4.0, 4.0)).collect();
    match dtype {
        DType::F32 => CpuStorage::F32(v.iter().map(|&x| x as f32).collect()),
        DType::F64 => CpuStorage::F64(v),
        DType::F16 => CpuStorage::F16(v.iter().map(|&x| f16::from_f64(x)).collect()),
        DType::BF16 => CpuStorage::BF16(v.iter().map(|&x| bf16::from_f64(x)).collect()),
        other => unreachable!("conv kernels are float only, not {other}"),
    }
}

#[test]
fn im2col_matches_cpu() {
    if !crate::ready() {
        return;
    }
    let mut rng = Rng(0xc1);
    for dtype in [DType::F32, DType::F64, DType::F16, DType::BF16] {
        for s in specs() {
            let x = random(dtype, s.n * s.c * s.h * s.w, &mut rng);
            let n = s.n * s.c * s.kh * s.kw * s.out_h() * s.out_w();
            let g = geometry(&s);
            for pad in [0.0, f64::NEG_INFINITY, 1.3] {
                let mut out = sentinel(dtype, n);
                let (o, xp) = (sptr_mut(&mut out), sptr(&x));
                // SAFETY: im2col_<T>(T* out, const T* x, ConvGeom g, double pad): out holds n*c*kh*kw*oh*ow elements, x
                // n*c*h*w (outside taps read `pad`, not x), `g` has ConvGeom's C layout, both live; every access is
                // below the counts passed, so an empty buffer is never dereferenced.
                unsafe {
                    launch(
                        &format!("im2col_{}", sfx(dtype)),
                        grid_for(n, 3),
                        &[&o, &xp, &g, &pad],
                        false,
                    )
                };
                assert_bits_eq(
                    &out,
                    &x.im2col(&s, pad).unwrap(),
                    &format!("im2col {dtype} {s:?} pad {pad}"),
                );
            }
        }
    }
}

#[test]
fn col2im_matches_cpu() {
    if !crate::ready() {
        return;
    }
    let mut rng = Rng(0xc2);
    for dtype in [DType::F32, DType::F64, DType::F16, DType::BF16] {
        for s in specs() {
            let cols = random(dtype, s.n * s.c * s.kh * s.kw * s.out_h() * s.out_w(), &mut rng);
            let n = s.n * s.c * s.h * s.w;
            let g = geometry(&s);
            let mut out = sentinel(dtype, n);
            let (o, cp) = (sptr_mut(&mut out), sptr(&cols));
            // SAFETY: col2im_<T>(T* out, const T* cols, ConvGeom g): out holds n*c*h*w elements, cols n*c*kh*kw*oh*ow
            // (only taps with oy < oh, ox < ow are read). an empty buffer is never dereferenced: every access is at an
            // index below the element count passed with it (none when that count is 0).
            unsafe { launch(&format!("col2im_{}", sfx(dtype)), grid_for(n, 2), &[&o, &cp, &g], false) };
            assert_bits_eq(&out, &cols.col2im(&s).unwrap(), &format!("col2im {dtype} {s:?}"));
        }
    }
}
