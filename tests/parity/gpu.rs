//! Behaviour only the GPU has: Philox on the device against its host mirror, the
//! caching allocator, out-of-memory, device fills and the on-disk PTX cache. Each
//! test skips (printing why) without a GPU, or fails with NEURITE_REQUIRE_GPU=1.

use crate::common::cuda_device;
use neurite::backend::cuda::{CudaStorage, dropout_mask_host, empty_cache, memory_stats, rand_uniform_host};
use neurite::backend::{BackendStorage, CpuStorage};
use neurite::{DType, Device, Error, Tensor};

fn gpu(test: &str) -> Option<usize> {
    match cuda_device(test)? {
        Device::Cuda(i) => Some(i),
        Device::Cpu => None,
    }
}

#[test]
fn rand_uniform_matches_host_mirror() {
    let Some(o) = gpu("gpu::rand_uniform_matches_host_mirror") else {
        return;
    };
    for dt in [DType::F32, DType::F64, DType::F16, DType::BF16] {
        for (len, seed, offset) in [(1, 7, 0), (1003, 0xdead_beef_cafe, 12345), (4096, 1, u64::MAX - 3)] {
            let got = CudaStorage::rand_uniform(len, dt, seed, offset, o)
                .unwrap()
                .to_cpu()
                .unwrap();
            let want = rand_uniform_host(len, dt, seed, offset).unwrap();
            assert_eq!(got, want, "{dt} len {len} seed {seed} offset {offset}");
        }
    }
}

#[test]
fn dropout_mask_matches_host_mirror() {
    let Some(o) = gpu("gpu::dropout_mask_matches_host_mirror") else {
        return;
    };
    let want = dropout_mask_host(5000, 0.3, 11, 40);
    for dt in [DType::F32, DType::F64, DType::F16, DType::BF16] {
        let got: Vec<f64> = CudaStorage::dropout_mask(5000, dt, 0.3, 11, 40, o)
            .unwrap()
            .to_cpu()
            .unwrap()
            .to_vec()
            .unwrap();
        let want_dt: Vec<f64> = CpuStorage::F64(want.iter().map(|&x| if x == 0.0 { 0.0 } else { 1.0 / 0.7 }).collect())
            .to_dtype(dt)
            .unwrap()
            .to_vec()
            .unwrap();
        assert_eq!(got, want_dt, "{dt}");
    }
}

/// Runs the calling test again in a child process of this binary with one test
/// thread, and returns true there: for tests that read per-device counters which
/// the other tests, running in parallel on the same device, would move.
fn alone(test: &str) -> bool {
    const CHILD: &str = "NEURITE_PARITY_ALONE";
    if std::env::var(CHILD).as_deref() == Ok(test) {
        return true;
    }
    let exe = std::env::current_exe().expect("test binary path");
    let out = std::process::Command::new(exe)
        .args([test, "--exact", "--test-threads=1", "--nocapture"])
        .env(CHILD, test)
        .output()
        .expect("re-run the test alone");
    assert!(
        out.status.success(),
        "{test} (run alone) failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    false
}

#[test]
fn allocator_reuses_freed_blocks() {
    if !alone("gpu::allocator_reuses_freed_blocks") {
        return;
    }
    let Some(o) = gpu("gpu::allocator_reuses_freed_blocks") else {
        return;
    };
    let dev = Device::Cuda(o);
    // Warm up: the shapes of one "training step".
    for _ in 0..2 {
        let a = Tensor::ones((512, 513), DType::F32, &dev).unwrap();
        let _ = a.mul(&a).unwrap().sum_all().unwrap().to_scalar::<f32>().unwrap();
    }
    let before = memory_stats(o).unwrap();
    for _ in 0..5 {
        let a = Tensor::ones((512, 513), DType::F32, &dev).unwrap();
        let _ = a.mul(&a).unwrap().sum_all().unwrap().to_scalar::<f32>().unwrap();
    }
    let after = memory_stats(o).unwrap();
    assert_eq!(
        after.device_allocations, before.device_allocations,
        "steady state must not call cuMemAlloc"
    );
    assert!(after.cached > 0);
    empty_cache(o).unwrap();
    assert_eq!(memory_stats(o).unwrap().cached, 0);
}

#[test]
fn out_of_memory_is_an_error() {
    let Some(o) = gpu("gpu::out_of_memory_is_an_error") else {
        return;
    };
    match CudaStorage::full(0.0, 1 << 46, DType::F32, o) {
        Err(Error::OutOfMemory { device, bytes }) => {
            assert_eq!(device, Device::Cuda(o));
            assert_eq!(bytes, 4 << 46);
        }
        other => panic!("expected OutOfMemory, got {other:?}"),
    }
    // Still usable afterwards.
    assert_eq!(
        CudaStorage::full(1.5, 3, DType::F32, o).unwrap().to_cpu().unwrap(),
        CpuStorage::F32(vec![1.5; 3])
    );
}

#[test]
fn full_matches_cpu_rounding() {
    let Some(o) = gpu("gpu::full_matches_cpu_rounding") else {
        return;
    };
    for dt in [DType::F32, DType::F64, DType::F16, DType::BF16, DType::I64] {
        for v in [0.1, -7.9, 1e10, f64::NEG_INFINITY] {
            let got = CudaStorage::full(v, 5, dt, o).unwrap().to_cpu().unwrap();
            let (g, w): (Vec<f64>, Vec<f64>) = (
                got.to_vec().unwrap(),
                CpuStorage::full(v, 5, dt).unwrap().to_vec().unwrap(),
            );
            assert!(
                g.iter().zip(&w).all(|(a, b)| a.to_bits() == b.to_bits()),
                "{dt} {v}: {g:?} vs {w:?}"
            );
        }
    }
}

#[test]
fn kernels_are_cached_on_disk() {
    let Some(o) = gpu("gpu::kernels_are_cached_on_disk") else {
        return;
    };
    let x = Tensor::ones(4, DType::F32, &Device::Cuda(o)).unwrap();
    let _ = x.exp().unwrap().to_vec::<f32>().unwrap();
    let var = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(std::path::PathBuf::from)
    };
    let dir = var("NEURITE_PTX_CACHE")
        .or_else(|| var("XDG_CACHE_HOME").map(|d| d.join("neurite/ptx")))
        .or_else(|| var("HOME").map(|d| d.join(".cache/neurite/ptx")))
        .expect("a cache location");
    let found = std::fs::read_dir(&dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .any(|e| e.file_name().to_string_lossy().starts_with("unary-"))
        })
        .unwrap_or(false);
    assert!(found, "no cached PTX for kernels/unary.cu under {}", dir.display());
}
