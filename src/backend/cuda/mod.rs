//! The CUDA backend: cudarc for the driver, cuBLAS for matrix products, and the
//! kernels of `kernels/*.cu` compiled at run time by NVRTC.
//!
//! Nothing here needs a CUDA toolkit at build time. At run time the driver
//! (`libcuda`), NVRTC (`libnvrtc`) and cuBLAS (`libcublas`) are loaded on first use;
//! [`probe`] checks each before anything can panic inside cudarc, and names the
//! one that is missing.
//!
//! The pieces, one file each:
//! - `probe`: library and device discovery ([`probe`], [`device_count`]).
//! - `device`: the per-device state (context, stream, cuBLAS handle, kernel cache).
//! - `alloc`: the caching allocator all device buffers come from ([`memory_stats`], [`empty_cache`]).
//! - `nvrtc`: the embedded kernel sources, NVRTC compilation and the on-disk PTX cache.
//! - `launch`: launch configuration and the argument structs shared with the kernels.
//! - `storage`: [`CudaStorage`] and its `BackendStorage` implementation, with the op
//!   families in `elementwise`, `reduce`, `copy`, `index`, `conv` and `matmul`.
//! - `random`: the Philox generator (on the GPU and its host mirror).
//! - `optim`: fused optimizer updates.
//!
//! Execution model: each device has one stream; ops enqueue work and return without
//! waiting. The host waits only where it reads values (`to_cpu` of
//! `BackendStorage`). Kernel faults and out-of-range indices are therefore reported
//! at that next read; see `docs/GPU.md`.

mod alloc;
mod conv;
mod copy;
mod device;
mod elementwise;
mod index;
mod launch;
mod matmul;
mod nvrtc;
mod optim;
mod probe;
mod random;
mod reduce;
mod scan;
mod sort;
mod storage;

pub use alloc::{MemoryStats, empty_cache, memory_stats};
pub use nvrtc::{compile_kernel_ptx, compile_source_ptx, kernel_families, nvrtc_version};
pub use optim::{AdamParams, RmsPropParams, SgdParams};
pub use probe::{device_count, probe};
pub use random::{dropout_mask_host, philox_blocks, philox4x32_10, rand_uniform_host};
pub use storage::CudaStorage;

/// Waits for all work queued on CUDA device `ordinal` and reports any error it
/// raised (a kernel fault, or an out-of-range index seen by an index kernel).
pub fn synchronize(ordinal: usize) -> crate::Result<()> {
    device::device(ordinal)?.synchronize()
}
