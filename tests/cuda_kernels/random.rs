//! kernels/random.cu against the host mirror of src/backend/cuda/random.rs,
//! bit-exact: `rand_uniform_host` for every float dtype and `dropout_mask_host`
//! for the f32 mask (the other dtypes drop the same elements and keep
//! `1 / (1 - p)` rounded to the dtype, as the kernel's `Ty<T>::store`). Seeds
//! with high bits set, offsets whose counter carries into the high word or
//! wraps, and lengths that are not multiples of 4 or of the block.

use crate::{assert_bits_eq, grid_for, launch, sentinel, sfx, sptr_mut};
use half::{bf16, f16};
use neurite::DType;
use neurite::backend::CpuStorage;
use neurite::backend::cuda::{dropout_mask_host, philox_blocks, rand_uniform_host};

const SEEDS: [u64; 3] = [0, 42, 0xdead_beef_1234_5678];
const OFFSETS: [u64; 4] = [0, 7, 0xffff_fffe, u64::MAX - 3];
const LENS: [usize; 4] = [1, 3, 1000, 4099];

#[test]
fn rand_uniform_matches_the_host_mirror() {
    if !crate::ready() {
        return;
    }
    for dtype in [DType::F32, DType::F64, DType::F16, DType::BF16] {
        for seed in SEEDS {
            for offset in OFFSETS {
                for len in LENS {
                    let mut out = sentinel(dtype, len);
                    let (o, n) = (sptr_mut(&mut out), len as u64);
                    let work = philox_blocks(len, dtype) as usize;
                    let name = format!("rand_uniform_{}", sfx(dtype));
                    // SAFETY: rand_uniform_<T>(T* out, u64 n, u64 seed, u64 offset) writes out[0..n), which `out`
                    // holds; it is live for the call. an empty buffer is never dereferenced: every access is at an
                    // index below the element count passed with it (none when that count is 0).
                    unsafe { launch(&name, grid_for(work, 3), &[&o, &n, &seed, &offset], false) };
                    let want = rand_uniform_host(len, dtype, seed, offset).unwrap();
                    assert_bits_eq(
                        &out,
                        &want,
                        &format!("{name} seed {seed:#x} offset {offset:#x} len {len}"),
                    );
                }
            }
        }
    }
}

#[test]
fn dropout_mask_matches_the_host_mirror() {
    if !crate::ready() {
        return;
    }
    for dtype in [DType::F32, DType::F64, DType::F16, DType::BF16] {
        for seed in SEEDS {
            for offset in OFFSETS {
                for p in [0.0, 0.1, 0.5, 0.9] {
                    let len = 1001;
                    let mut out = sentinel(dtype, len);
                    let (o, n, pf, scale) = (sptr_mut(&mut out), len as u64, p as f32, 1.0 / (1.0 - p));
                    let work = philox_blocks(len, DType::F32) as usize;
                    let name = format!("dropout_mask_{}", sfx(dtype));
                    // SAFETY: dropout_mask_<T>(T* out, u64 n, u64 seed, u64 offset, float p, double scale) writes
                    // out[0..n), which `out` holds; live for the call. an empty buffer is never dereferenced: every
                    // access is at an index below the element count passed with it (none when that count is 0).
                    unsafe { launch(&name, grid_for(work, 2), &[&o, &n, &seed, &offset, &pf, &scale], false) };
                    let host = dropout_mask_host(len, p, seed, offset);
                    let want = match dtype {
                        DType::F32 => CpuStorage::F32(host),
                        DType::F64 => {
                            CpuStorage::F64(host.iter().map(|&m| if m == 0.0 { 0.0 } else { scale }).collect())
                        }
                        DType::F16 => CpuStorage::F16(
                            host.iter()
                                .map(|&m| f16::from_f32(if m == 0.0 { 0.0 } else { scale as f32 }))
                                .collect(),
                        ),
                        DType::BF16 => CpuStorage::BF16(
                            host.iter()
                                .map(|&m| bf16::from_f32(if m == 0.0 { 0.0 } else { scale as f32 }))
                                .collect(),
                        ),
                        other => unreachable!("dropout masks are float only, not {other}"),
                    };
                    assert_bits_eq(&out, &want, &format!("{name} seed {seed:#x} offset {offset:#x} p {p}"));
                }
            }
        }
    }
}
