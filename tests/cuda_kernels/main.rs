//! Per-family tests of the CUDA kernels (`kernels/*.cu`), run on the CPU: each
//! test launches a host-compiled kernel (kernels/emu/shim.h) through
//! `cuda_emu::run_kernel` on Rust-owned buffers, with the launch shapes the CUDA
//! backend uses (256 threads per block, grid-stride loops over capped grids), and
//! compares the result with the CPU backend (`neurite::backend::CpuStorage`) or
//! the host mirrors of the backend (Philox). Bit-exact where the math is exact;
//! each tolerance is stated at its comparison. `tsan` builds the block
//! reductions under ThreadSanitizer.
//!
//! Built only with `--features cuda`; no GPU is needed.
#![cfg(feature = "cuda")]

#[path = "../support/cuda_emu.rs"]
mod cuda_emu;

mod binary;
mod cast;
mod conv;
mod copy;
mod index;
mod optim;
mod random;
mod reduce;
mod scan;
mod sort;
mod tsan;
mod unary;

use neurite::DType;
use neurite::backend::{BackendStorage, CpuStorage};
use std::ffi::c_void;
use std::io::Write;
use std::sync::Mutex;

/// Threads per block, as `BLOCK` in src/backend/cuda/launch.rs.
pub const BLOCK: u32 = 256;
/// `MAX_DIMS` of prelude.cuh.
pub const MAX_DIMS: usize = 6;

/// Whether the host-compiled kernels can be built here; prints why not and returns
/// false (a skip) otherwise, or panics when `NEURITE_CUDA_EMULATOR=1` asks for them
/// (CI). A GPU machine running a bundle of test binaries has no `kernels/` folder.
pub fn ready() -> bool {
    match cuda_emu::build() {
        Ok(_) => true,
        Err(e) if cuda_emu::requested() => panic!("NEURITE_CUDA_EMULATOR=1 but the host kernels cannot be built: {e}"),
        Err(e) => {
            static SAID: std::sync::Once = std::sync::Once::new();
            SAID.call_once(|| note(&format!("cuda_kernels: skipped: {e}")));
            false
        }
    }
}

/// Prints a line that the test harness does not capture.
pub fn note(msg: &str) {
    let _ = writeln!(std::io::stderr(), "{msg}");
}

/// A kernel argument passed by value (cuLaunchKernel's `kernelParams` entry).
pub trait Arg {
    fn as_param(&self) -> *mut c_void;
}

impl<T: Copy> Arg for T {
    fn as_param(&self) -> *mut c_void {
        self as *const T as *mut c_void
    }
}

/// Blocks for `work` items with a grid-stride loop: as `grid_for` in launch.rs,
/// with `cap` standing in for `sm_count * 32` (small caps make every thread loop).
pub fn grid_for(work: usize, cap: u32) -> u32 {
    work.div_ceil(BLOCK as usize).clamp(1, cap as usize) as u32
}

/// Runs kernel `name` over `grid` blocks of [`BLOCK`] threads, panicking with the
/// emulator's message when it cannot run.
///
/// # Safety
/// `args` must match the kernel's parameters in kernels/<family>.cu in number,
/// order and size, and every pointer argument must address a live buffer that
/// covers every element the kernel reads or writes for these sizes, with no Rust
/// reference to a written buffer used while the kernel runs.
pub unsafe fn launch(name: &str, grid: u32, args: &[&dyn Arg], threaded: bool) {
    // Through `dyn Arg` explicitly: the blanket impl also covers `&dyn Arg` itself,
    // whose `as_param` would pass the address of the reference.
    // Threaded launches one at a time: the shim's `__shared__` arrays are `static`,
    // one instance per kernel for the whole process, so two concurrent launches of
    // the same barrier kernel (the test harness runs tests on several threads)
    // would share them. See the report on kernels/emu/shim.h.
    static THREADED: Mutex<()> = Mutex::new(());
    let _serial = threaded.then(|| THREADED.lock().unwrap_or_else(|e| e.into_inner()));
    let mut params: Vec<*mut c_void> = args.iter().map(|a| <dyn Arg as Arg>::as_param(*a)).collect();
    cuda_emu::run_kernel(name, [grid, 1, 1], [BLOCK, 1, 1], &mut params, threaded)
        .unwrap_or_else(|e| panic!("{name}: {e}"));
}

/// The device-pointer value of a buffer (device pointers are host addresses here).
pub fn dptr<T>(v: &[T]) -> u64 {
    v.as_ptr() as u64
}

/// Same for a buffer the kernel writes.
pub fn dptr_mut<T>(v: &mut [T]) -> u64 {
    v.as_mut_ptr() as u64
}

/// A small deterministic generator (splitmix64) for test data.
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [lo, hi).
    pub fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64)
    }
    /// Uniform integer in [0, n).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}

/// Distance in units in the last place between two finite or infinite f32
/// (0 for equal bits; NaN only matches NaN).
pub fn ulps_f32(a: f32, b: f32) -> u64 {
    if a.is_nan() || b.is_nan() {
        return if a.is_nan() && b.is_nan() { 0 } else { u64::MAX };
    }
    let key = |x: f32| {
        let u = x.to_bits() as i64;
        if u & 0x8000_0000 != 0 { 0x8000_0000 - u } else { u }
    };
    key(a).abs_diff(key(b))
}

/// As [`ulps_f32`] for f64.
pub fn ulps_f64(a: f64, b: f64) -> u64 {
    if a.is_nan() || b.is_nan() {
        return if a.is_nan() && b.is_nan() { 0 } else { u64::MAX };
    }
    let key = |x: f64| {
        let u = x.to_bits() as i128;
        if u & (1 << 63) != 0 { (1i128 << 63) - u } else { u }
    };
    key(a).abs_diff(key(b)) as u64
}

/// As [`ulps_f32`] for the bits of a 16-bit float (sign bit 15, NaN when the
/// magnitude exceeds `inf_bits`).
pub fn ulps_u16(a: u16, b: u16, inf_bits: u16) -> u64 {
    let nan = |x: u16| x & 0x7fff > inf_bits;
    if nan(a) || nan(b) {
        return if nan(a) && nan(b) { 0 } else { u64::MAX };
    }
    let key = |x: u16| {
        let m = (x & 0x7fff) as i64;
        if x & 0x8000 != 0 { -m } else { m }
    };
    key(a).abs_diff(key(b))
}

/// The raw 16-bit (or wider) words of a CPU buffer, for bit comparisons.
pub fn bits(s: &CpuStorage) -> Vec<u64> {
    match s {
        CpuStorage::F32(v) => v.iter().map(|x| x.to_bits() as u64).collect(),
        CpuStorage::F64(v) => v.iter().map(|x| x.to_bits()).collect(),
        CpuStorage::F16(v) => v.iter().map(|x| x.to_bits() as u64).collect(),
        CpuStorage::BF16(v) => v.iter().map(|x| x.to_bits() as u64).collect(),
        CpuStorage::I64(v) => v.iter().map(|&x| x as u64).collect(),
        CpuStorage::Bool(v) => v.iter().map(|&x| x as u64).collect(),
        CpuStorage::U8(v) => v.iter().map(|&x| x as u64).collect(),
        CpuStorage::I8(v) => v.iter().map(|&x| x as u8 as u64).collect(),
        CpuStorage::I32(v) => v.iter().map(|&x| x as u32 as u64).collect(),
    }
}

/// The device-pointer value of a CPU buffer's elements.
pub fn sptr(s: &CpuStorage) -> u64 {
    match s {
        CpuStorage::F32(v) => dptr(v),
        CpuStorage::F64(v) => dptr(v),
        CpuStorage::F16(v) => dptr(v),
        CpuStorage::BF16(v) => dptr(v),
        CpuStorage::I64(v) => dptr(v),
        CpuStorage::Bool(v) => dptr(v),
        CpuStorage::U8(v) => dptr(v),
        CpuStorage::I8(v) => dptr(v),
        CpuStorage::I32(v) => dptr(v),
    }
}

/// Same for a buffer the kernel writes.
pub fn sptr_mut(s: &mut CpuStorage) -> u64 {
    match s {
        CpuStorage::F32(v) => dptr_mut(v),
        CpuStorage::F64(v) => dptr_mut(v),
        CpuStorage::F16(v) => dptr_mut(v),
        CpuStorage::BF16(v) => dptr_mut(v),
        CpuStorage::I64(v) => dptr_mut(v),
        CpuStorage::Bool(v) => dptr_mut(v),
        CpuStorage::U8(v) => dptr_mut(v),
        CpuStorage::I8(v) => dptr_mut(v),
        CpuStorage::I32(v) => dptr_mut(v),
    }
}

/// A buffer of `n` elements of `dtype` holding a value no kernel writes in these
/// tests (so that a missed element shows).
pub fn sentinel(dtype: DType, n: usize) -> CpuStorage {
    CpuStorage::full(-12345.0, n, dtype).unwrap()
}

/// Kernel-name suffix of a dtype (`sfx` in launch.rs).
/// `v` in `dtype` on the CPU, each value rounded once (the CPU backend's cast).
pub fn storage(dtype: DType, v: &[f64]) -> CpuStorage {
    CpuStorage::F64(v.to_vec()).to_dtype(dtype).expect("a small cast")
}

pub fn sfx(dtype: DType) -> &'static str {
    dtype.as_str()
}

/// Suffix of the kernels that only move bits (`bytes_sfx` in launch.rs).
pub fn bytes_sfx(dtype: DType) -> &'static str {
    match dtype.size_in_bytes() {
        1 => "b1",
        2 => "b2",
        4 => "b4",
        _ => "b8",
    }
}

/// The first index where two bit vectors differ, for messages.
pub fn first_diff(a: &[u64], b: &[u64]) -> Option<(usize, u64, u64)> {
    if a.len() != b.len() {
        return Some((usize::MAX, a.len() as u64, b.len() as u64));
    }
    a.iter()
        .zip(b)
        .enumerate()
        .find(|(_, (x, y))| x != y)
        .map(|(i, (x, y))| (i, *x, *y))
}

/// Asserts equal bits, naming the first difference.
#[track_caller]
pub fn assert_bits_eq(kernel: &CpuStorage, cpu: &CpuStorage, what: &str) {
    assert_eq!(kernel.dtype(), cpu.dtype(), "{what}: dtype");
    if let Some((i, k, c)) = first_diff(&bits(kernel), &bits(cpu)) {
        panic!("{what}: element {i}: kernel bits {k:#x}, CPU bits {c:#x}");
    }
}
