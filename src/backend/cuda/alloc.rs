//! The one allocator every device buffer comes from: a cache of freed blocks keyed
//! by rounded size, so a training loop that allocates the same shapes every step
//! stops calling `cuMemAlloc` after its first step.
//!
//! Reuse is safe without events because each device has a single stream: a block
//! released while a queued kernel still reads it can only be handed to work queued
//! later on the same stream, which runs after that kernel.

use super::device::{DeviceState, lock};
use super::launch::driver_err;
use crate::{Error, Result};
use cudarc::driver::{result, sys};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// Blocks below this size are rounded to 512 bytes, larger ones to 128 KiB.
const SMALL_LIMIT: usize = 1 << 20;

/// The size class a request of `bytes` is served from.
pub(crate) fn size_class(bytes: usize) -> usize {
    let unit = if bytes < SMALL_LIMIT { 512 } else { 128 << 10 };
    bytes.div_ceil(unit) * unit
}

/// Free blocks by size class, and counters.
#[derive(Default)]
pub(crate) struct Allocator {
    free: Mutex<HashMap<usize, Vec<sys::CUdeviceptr>>>,
    cached: AtomicUsize,
    in_use: AtomicUsize,
    device_allocs: AtomicUsize,
}

/// Memory held by the allocator of one device, in bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryStats {
    /// Bytes in live buffers (rounded to size classes).
    pub in_use: usize,
    /// Bytes in freed blocks kept for reuse.
    pub cached: usize,
    /// Number of `cuMemAlloc` calls so far (a steady training loop stops adding to it).
    pub device_allocations: usize,
}

/// A device allocation; going out of scope returns it to the cache.
pub(crate) struct DeviceBuffer {
    ptr: sys::CUdeviceptr,
    class: usize,
    dev: Arc<DeviceState>,
}

impl DeviceBuffer {
    /// The device address (0 for an empty buffer).
    pub(crate) fn ptr(&self) -> u64 {
        self.ptr
    }

    /// The device this buffer lives on.
    pub(crate) fn dev(&self) -> &Arc<DeviceState> {
        &self.dev
    }
}

impl Drop for DeviceBuffer {
    fn drop(&mut self) {
        if self.class == 0 {
            return;
        }
        let a = &self.dev.alloc;
        a.in_use.fetch_sub(self.class, Ordering::Relaxed);
        a.cached.fetch_add(self.class, Ordering::Relaxed);
        lock(&a.free).entry(self.class).or_default().push(self.ptr);
    }
}

/// Allocates `bytes` on `dev`, from the cache when a block of the same class is free.
pub(crate) fn alloc(dev: &Arc<DeviceState>, bytes: usize) -> Result<DeviceBuffer> {
    let class = size_class(bytes);
    let a = &dev.alloc;
    let buffer = |ptr| DeviceBuffer {
        ptr,
        class,
        dev: dev.clone(),
    };
    if class == 0 {
        return Ok(buffer(0));
    }
    if let Some(ptr) = lock(&a.free).get_mut(&class).and_then(|v| v.pop()) {
        a.cached.fetch_sub(class, Ordering::Relaxed);
        a.in_use.fetch_add(class, Ordering::Relaxed);
        return Ok(buffer(ptr));
    }
    dev.bind()?;
    // SAFETY: the context is current (bound just above); `class` is non-zero
    // (empty buffers returned early with a null pointer the driver never
    // sees), and the block is owned only by the returned buffer.
    let first = unsafe { result::malloc_sync(class) };
    let ptr = match first {
        Ok(p) => p,
        Err(e) if e.0 == sys::CUresult::CUDA_ERROR_OUT_OF_MEMORY => {
            // Give the cached blocks back to the driver and try once more.
            release_cache(dev)?;
            // SAFETY: the context is still current (bound above; release_cache binds it again); `class` is non-zero (a
            // zero class returned early without touching the driver), and the new block is owned only by the buffer
            // returned below, so nothing else can free it.
            unsafe { result::malloc_sync(class) }.map_err(|e| {
                if e.0 == sys::CUresult::CUDA_ERROR_OUT_OF_MEMORY {
                    Error::OutOfMemory {
                        device: dev.device(),
                        bytes,
                    }
                } else {
                    driver_err("alloc", e)
                }
            })?
        }
        Err(e) => return Err(driver_err("alloc", e)),
    };
    a.device_allocs.fetch_add(1, Ordering::Relaxed);
    a.in_use.fetch_add(class, Ordering::Relaxed);
    Ok(buffer(ptr))
}

/// Frees every cached block of `dev` (after the stream has finished with them).
fn release_cache(dev: &Arc<DeviceState>) -> Result<()> {
    dev.bind()?;
    dev.stream.synchronize().map_err(|e| driver_err("empty_cache", e))?;
    let blocks: Vec<(usize, Vec<sys::CUdeviceptr>)> = lock(&dev.alloc.free).drain().collect();
    for (class, ptrs) in blocks {
        for p in ptrs {
            dev.alloc.cached.fetch_sub(class, Ordering::Relaxed);
            // SAFETY: cached blocks are owned by no buffer and the stream is idle.
            unsafe { result::free_sync(p) }.map_err(|e| driver_err("empty_cache", e))?;
        }
    }
    Ok(())
}

/// Returns the cached free blocks of CUDA device `ordinal` to the driver, like
/// `torch.cuda.empty_cache()`.
pub fn empty_cache(ordinal: usize) -> Result<()> {
    release_cache(&super::device::device(ordinal)?)
}

/// What the allocator of CUDA device `ordinal` holds.
pub fn memory_stats(ordinal: usize) -> Result<MemoryStats> {
    let dev = super::device::device(ordinal)?;
    let a = &dev.alloc;
    Ok(MemoryStats {
        in_use: a.in_use.load(Ordering::Relaxed),
        cached: a.cached.load(Ordering::Relaxed),
        device_allocations: a.device_allocs.load(Ordering::Relaxed),
    })
}

#[cfg(test)]
mod tests {
    use super::size_class;

    #[test]
    fn size_classes_round_up() {
        assert_eq!(size_class(0), 0);
        assert_eq!(size_class(1), 512);
        assert_eq!(size_class(512), 512);
        assert_eq!(size_class(513), 1024);
        assert_eq!(size_class((1 << 20) - 1), 1 << 20);
        assert_eq!(size_class(1 << 20), 1 << 20);
        assert_eq!(size_class((1 << 20) + 1), (1 << 20) + (128 << 10));
    }
}
