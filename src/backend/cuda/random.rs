//! Random numbers made on the GPU with a counter-based generator (Philox4x32-10),
//! and its host mirror, which yields the same values bit for bit.
//!
//! A call with `(seed, offset)` uses Philox blocks `offset, offset + 1, ...`; each
//! block gives four 32-bit words. f32, f16 and bf16 take one word per element, f64
//! two. To draw fresh numbers, advance `offset` by [`philox_blocks`] of the previous
//! call: no state lives on the device, so a (seed, offset) pair in a checkpoint
//! reproduces a dropout mask exactly.

use super::device::device;
use super::launch::{Arg, launch, sfx};
use super::storage::CudaStorage;
use crate::backend::CpuStorage;
use crate::{DType, Error, Result};
use half::{bf16, f16};

/// One Philox4x32-10 block: 10 rounds of the counter `ctr` under the key `key`.
///
/// ```
/// use neurite::backend::cuda::philox4x32_10;
/// // The Random123 known-answer vector for a zero counter and key.
/// assert_eq!(philox4x32_10([0; 4], [0; 2]), [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]);
/// ```
pub fn philox4x32_10(ctr: [u32; 4], key: [u32; 2]) -> [u32; 4] {
    let (mut c, mut k) = (ctr, key);
    for round in 0..10 {
        if round > 0 {
            k[0] = k[0].wrapping_add(0x9E37_79B9);
            k[1] = k[1].wrapping_add(0xBB67_AE85);
        }
        let p0 = u64::from(0xD251_1F53u32) * u64::from(c[0]);
        let p1 = u64::from(0xCD9E_8D57u32) * u64::from(c[2]);
        let (hi0, lo0) = ((p0 >> 32) as u32, p0 as u32);
        let (hi1, lo1) = ((p1 >> 32) as u32, p1 as u32);
        c = [hi1 ^ c[1] ^ k[0], lo1, hi0 ^ c[3] ^ k[1], lo0];
    }
    c
}

fn block(seed: u64, counter: u64) -> [u32; 4] {
    philox4x32_10(
        [counter as u32, (counter >> 32) as u32, 0, 0],
        [seed as u32, (seed >> 32) as u32],
    )
}

/// Philox blocks consumed by `len` uniform values of `dtype`.
pub fn philox_blocks(len: usize, dtype: DType) -> u64 {
    let per_block = if dtype == DType::F64 { 2 } else { 4 };
    len.div_ceil(per_block) as u64
}

fn unit_f32(w: u32) -> f32 {
    (w >> 8) as f32 * (1.0 / 16_777_216.0)
}

fn unit_f64(hi: u32, lo: u32) -> f64 {
    ((hi >> 5) as f64 * 67_108_864.0 + (lo >> 6) as f64) * (1.0 / 9_007_199_254_740_992.0)
}

/// The values [`CudaStorage::rand_uniform`] produces, computed on the host.
pub fn rand_uniform_host(len: usize, dtype: DType, seed: u64, offset: u64) -> Result<CpuStorage> {
    let words = |len: usize| -> Vec<u32> {
        (0..len)
            .map(|i| block(seed, offset.wrapping_add((i / 4) as u64))[i % 4])
            .collect()
    };
    Ok(match dtype {
        DType::F32 => CpuStorage::F32(words(len).into_iter().map(unit_f32).collect()),
        DType::F16 => CpuStorage::F16(
            words(len)
                .into_iter()
                .map(|w| f16::from_f32((w >> 21) as f32 / 2048.0))
                .collect(),
        ),
        DType::BF16 => CpuStorage::BF16(
            words(len)
                .into_iter()
                .map(|w| bf16::from_f32((w >> 24) as f32 / 256.0))
                .collect(),
        ),
        DType::F64 => CpuStorage::F64(
            (0..len)
                .map(|i| {
                    let r = block(seed, offset.wrapping_add((i / 2) as u64));
                    let j = (i % 2) * 2;
                    unit_f64(r[j], r[j + 1])
                })
                .collect(),
        ),
        DType::I64 | DType::Bool | DType::U8 | DType::I8 | DType::I32 => return Err(integer_dtype("rand_uniform")),
    })
}

fn integer_dtype(op: &'static str) -> Error {
    Error::UnsupportedDType {
        op,
        dtype: DType::I64,
        hint: " (random values are floats)",
    }
}

impl CudaStorage {
    /// `len` uniform values in `[0, 1)` made on CUDA device `ordinal` from Philox
    /// blocks `offset, offset + 1, ...` under `seed`. Each value carries as many
    /// random bits as the dtype holds exactly (24 for f32, 53 for f64, 11 for f16,
    /// 8 for bf16), so rounding never yields 1.0.
    pub fn rand_uniform(len: usize, dtype: DType, seed: u64, offset: u64, ordinal: usize) -> Result<CudaStorage> {
        if dtype == DType::I64 {
            return Err(integer_dtype("rand_uniform"));
        }
        let dev = device(ordinal)?;
        let out = CudaStorage::uninit(&dev, len, dtype)?;
        let n = len as u64;
        let args: [&dyn Arg; 4] = [&out.ptr(), &n, &seed, &offset];
        launch(
            &dev,
            "random",
            &format!("rand_uniform_{}", sfx(dtype)),
            philox_blocks(len, dtype) as usize,
            &args,
        )?;
        Ok(out)
    }

    /// A dropout mask: element `i` is 0 when the f32 uniform of word `i` (as in
    /// [`CudaStorage::rand_uniform`] for f32) is below `p`, else `1 / (1 - p)`.
    /// Consumes `philox_blocks(len, DType::F32)` blocks whatever the dtype.
    pub fn dropout_mask(
        len: usize,
        dtype: DType,
        p: f64,
        seed: u64,
        offset: u64,
        ordinal: usize,
    ) -> Result<CudaStorage> {
        if dtype == DType::I64 {
            return Err(integer_dtype("dropout_mask"));
        }
        if !(0.0..1.0).contains(&p) {
            return Err(Error::invalid("dropout_mask", format!("need 0 <= p < 1, got {p}")));
        }
        let dev = device(ordinal)?;
        let out = CudaStorage::uninit(&dev, len, dtype)?;
        let (n, pf, scale) = (len as u64, p as f32, 1.0 / (1.0 - p));
        let args: [&dyn Arg; 6] = [&out.ptr(), &n, &seed, &offset, &pf, &scale];
        launch(
            &dev,
            "random",
            &format!("dropout_mask_{}", sfx(dtype)),
            philox_blocks(len, DType::F32) as usize,
            &args,
        )?;
        Ok(out)
    }
}

/// The mask [`CudaStorage::dropout_mask`] makes for f32, computed on the host.
pub fn dropout_mask_host(len: usize, p: f64, seed: u64, offset: u64) -> Vec<f32> {
    let scale = (1.0 / (1.0 - p)) as f32;
    (0..len)
        .map(|i| {
            let w = block(seed, offset.wrapping_add((i / 4) as u64))[i % 4];
            if unit_f32(w) < p as f32 { 0.0 } else { scale }
        })
        .collect()
}
