//! Heap allocations per training step: how many buffers a step asks the
//! allocator for, how many bytes, and how many of those are tensor-sized
//! (at least 4 KiB, the ones a caching pool would serve). Prints one line per
//! workload; `cargo bench --bench alloc_per_step`.

mod common;

use neurite::Device;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};

/// Counts every allocation (and reallocation) passed through to the system allocator.
struct Counting;

static CALLS: AtomicU64 = AtomicU64::new(0);
static BYTES: AtomicU64 = AtomicU64::new(0);
static LARGE: AtomicU64 = AtomicU64::new(0);

const LARGE_BYTES: usize = 4096;

fn count(size: usize) {
    CALLS.fetch_add(1, Ordering::Relaxed);
    BYTES.fetch_add(size as u64, Ordering::Relaxed);
    if size >= LARGE_BYTES {
        LARGE.fetch_add(1, Ordering::Relaxed);
    }
}

// SAFETY: every method forwards to `System` with the caller's layout and
// pointer unchanged, so System's guarantees (including for zero-sized
// requests, which Rust never passes to a GlobalAlloc) carry over; the counters
// are atomics and allocate nothing.
unsafe impl GlobalAlloc for Counting {
    // SAFETY: forwards the caller's layout to System unchanged; never zero-sized (GlobalAlloc contract).
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        // SAFETY: the caller's non-zero-sized layout, passed on as is; System returns null on failure.
        unsafe { System.alloc(layout) }
    }
    // SAFETY: as `alloc`: the caller's non-zero-sized layout goes to System unchanged.
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        // SAFETY: as in `alloc`; no empty (zero-sized) request reaches a GlobalAlloc.
        unsafe { System.alloc_zeroed(layout) }
    }
    // SAFETY: every pointer this allocator hands out came from System, so System frees it.
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from System with this (non-zero-sized) layout; every alloc goes there.
        unsafe { System.dealloc(ptr, layout) }
    }
    // SAFETY: forwards to System, which allocated `ptr`; the caller keeps `new_size` non-zero.
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size);
        // SAFETY: `ptr`/`layout` came from System; `new_size` is non-zero (no empty buffer) per the caller.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations per call of `step`, averaged over `steps` calls after a warm-up.
fn per_step(name: &str, steps: u64, mut step: impl FnMut()) {
    for _ in 0..3 {
        step();
    }
    let (c0, b0, l0) = (
        CALLS.load(Ordering::Relaxed),
        BYTES.load(Ordering::Relaxed),
        LARGE.load(Ordering::Relaxed),
    );
    for _ in 0..steps {
        step();
    }
    let calls = (CALLS.load(Ordering::Relaxed) - c0) / steps;
    let bytes = (BYTES.load(Ordering::Relaxed) - b0) / steps;
    let large = (LARGE.load(Ordering::Relaxed) - l0) / steps;
    println!(
        "{name:<22} {calls:>6} allocations/step, {large:>4} of >= 4 KiB, {:>9.2} MiB/step",
        bytes as f64 / (1 << 20) as f64
    );
}

fn main() {
    let dev = Device::cpu();
    for batch in [128usize, 32] {
        let mlp = common::Mlp::new(&dev);
        let (x, y) = common::mlp_batch(batch, &dev);
        per_step(&format!("mlp_train_b{batch}"), 20, || {
            mlp.train_step(&x, &y).expect("step")
        });
    }
    let mlp = common::Mlp::new(&dev);
    let (x, _) = common::mlp_batch(1, &dev);
    per_step("mlp_infer_b1", 200, || {
        mlp.infer(&x).expect("infer");
    });
    let cnn = common::Cnn::new(&dev);
    let (x, y) = common::cnn_batch(64, &dev);
    per_step("cnn_train_b64", 5, || cnn.train_step(&x, &y).expect("step"));
}
