//! Discovery never panics: a missing driver, a driver without devices and an
//! ordinal out of range are each a `CudaUnavailable` error naming the cause, and
//! `Device::best()` falls back to the CPU. The "driver present, no device" case
//! uses a fake `libcuda.so.1` built here with `cc`, loaded by a child process
//! (this test binary, re-run with `LD_LIBRARY_PATH` pointing at it). With the
//! real NVRTC and a fake `libcublas.so.13`, the same fake driver checks the
//! driver-version rule: a driver older than NVRTC's CUDA version is refused with
//! a message naming both versions and the fixes.

use neurite::{Device, Error};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The fake driver: `cuInit` fails with CUDA_ERROR_NO_DEVICE (100), or with
/// `ONE_DEVICE` succeeds and reports a single device, of a driver for CUDA
/// `DRIVER_VERSION` (cuDriverGetVersion's encoding). Creating a context fails:
/// `cuDeviceGet`, its first call, answers CUDA_ERROR_INVALID_DEVICE (101).
const FAKE_LIBCUDA: &str = r#"
#ifndef DRIVER_VERSION
#define DRIVER_VERSION 13000
#endif
int cuInit(unsigned int flags) {
    (void)flags;
#ifdef ONE_DEVICE
    return 0;
#else
    return 100;
#endif
}
int cuDeviceGetCount(int *count) { *count = 1; return 0; }
int cuDriverGetVersion(int *version) { *version = DRIVER_VERSION; return 0; }
int cuDeviceGet(int *device, int ordinal) { (void)device; (void)ordinal; return 101; }
int cuGetErrorName(int error, const char **name) { (void)error; *name = "CUDA_ERROR_NO_DEVICE"; return 0; }
int cuGetErrorString(int error, const char **text) { (void)error; *text = "no CUDA-capable device is detected"; return 0; }
"#;

/// A fake cuBLAS that only answers `cublasGetProperty` (version `CUBLAS_MAJOR.0`).
const FAKE_LIBCUBLAS: &str = r#"
int cublasGetProperty(int type, int *value) { *value = type == 0 ? CUBLAS_MAJOR : 0; return 0; }
"#;

const CHILD_ENV: &str = "NEURITE_FAKE_DRIVER_CHILD";
/// The driver version the child's fake driver reports.
const VERSION_ENV: &str = "NEURITE_FAKE_DRIVER_VERSION";

#[test]
fn without_a_usable_gpu_best_is_the_cpu() {
    match Device::cuda(0) {
        Ok(d) => crate::note(&format!(
            "without_a_usable_gpu_best_is_the_cpu: a GPU answered ({d}); nothing to check"
        )),
        Err(Error::CudaUnavailable(msg)) => {
            assert_eq!(Device::best(), Device::Cpu);
            let (dev, reason) = Device::best_with_reason();
            assert_eq!(dev, Device::Cpu);
            assert!(
                reason.as_deref().is_some_and(|r| r.contains(&msg)),
                "{reason:?} vs {msg}"
            );
            // Every entry point fails the same way, without panicking.
            let cpu = neurite::backend::CpuStorage::F32(vec![1.0, 2.0]);
            assert!(matches!(
                neurite::backend::cuda::CudaStorage::from_cpu(&cpu, 0),
                Err(Error::CudaUnavailable(_))
            ));
            assert!(neurite::backend::cuda::memory_stats(0).is_err());
            assert!(neurite::backend::cuda::synchronize(0).is_err());
            assert!(Device::parse("cuda:0").is_err());
        }
        Err(other) => panic!("Device::cuda(0) failed with the wrong error kind: {other}"),
    }
}

/// What the child process runs against.
struct Fake {
    mode: &'static str,
    one_device: bool,
    /// The version the fake driver reports (cuDriverGetVersion's encoding).
    driver_version: i32,
    /// Also a fake cuBLAS of this major version.
    cublas_major: Option<i32>,
}

/// Compiles `source` into the shared library `dir/names[0]` and copies it to the
/// other names. None when `cc` cannot run.
fn build_lib(dir: &Path, source: &str, defines: &[String], names: &[&str]) -> Option<()> {
    std::fs::create_dir_all(dir).expect("create temp dir");
    let src = dir.join(format!("{}.c", names[0]));
    std::fs::write(&src, source).expect("write fake library source");
    let lib = dir.join(names[0]);
    let mut cmd = Command::new("cc");
    cmd.args(["-shared", "-fPIC", "-o"]).arg(&lib).arg(&src).args(defines);
    match cmd.output() {
        Ok(out) if out.status.success() => {
            for name in &names[1..] {
                std::fs::copy(&lib, dir.join(name)).expect("copy fake library");
            }
            Some(())
        }
        Ok(out) => panic!(
            "cc failed to build {}: {}",
            names[0],
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(e) => {
            crate::note(&format!("fake driver test skipped: cannot run cc ({e})"));
            None
        }
    }
}

/// Builds the fake driver (both `libcuda.so` and `libcuda.so.1`: cudarc tries the
/// unversioned name first) and, if asked, the fake cuBLAS into `dir`.
fn build_fakes(dir: &Path, fake: &Fake) -> Option<()> {
    let mut defines = vec![format!("-DDRIVER_VERSION={}", fake.driver_version)];
    if fake.one_device {
        defines.push("-DONE_DEVICE".into());
    }
    build_lib(dir, FAKE_LIBCUDA, &defines, &["libcuda.so.1", "libcuda.so"])?;
    if let Some(major) = fake.cublas_major {
        let cublas_names = ["libcublas.so.13", "libcublas.so", "libcublas.so.12"];
        build_lib(dir, FAKE_LIBCUBLAS, &[format!("-DCUBLAS_MAJOR={major}")], &cublas_names)?;
    }
    Some(())
}

/// Runs `discovery::fake_driver_child` in a child process against the fakes.
fn run_child(fake: Fake) -> Option<String> {
    let mode = fake.mode;
    let dir: PathBuf = std::env::temp_dir().join(format!("neurite-fake-cuda-{mode}-{}", std::process::id()));
    build_fakes(&dir, &fake)?;
    let ld = match std::env::var("LD_LIBRARY_PATH") {
        Ok(old) if !old.is_empty() => format!("{}:{old}", dir.display()),
        _ => dir.display().to_string(),
    };
    let out = Command::new(std::env::current_exe().expect("test binary path"))
        .args([
            "discovery::fake_driver_child",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, mode)
        .env(VERSION_ENV, fake.driver_version.to_string())
        .env("LD_LIBRARY_PATH", ld)
        // Whatever the probe would cache stays out of the user's cache.
        .env("NEURITE_PTX_CACHE", dir.join("ptx"))
        .output()
        .expect("run the test binary as a child");
    let _ = std::fs::remove_dir_all(&dir);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "child failed:\n{text}");
    assert!(
        text.contains(&format!("FAKE-DRIVER-CHILD-OK {mode}")),
        "child did not run its checks:\n{text}"
    );
    Some(text)
}

/// The real NVRTC's version, or None after a note (a failure under
/// `NEURITE_REQUIRE_NVRTC=1`, as in the NVRTC tests).
fn nvrtc_or_skip(test: &str) -> Option<(i32, i32)> {
    match neurite::backend::cuda::nvrtc_version() {
        Ok(v) => Some(v),
        Err(e) => {
            if std::env::var("NEURITE_REQUIRE_NVRTC").as_deref() == Ok("1") {
                panic!("NEURITE_REQUIRE_NVRTC=1 but NVRTC is unavailable: {e}");
            }
            crate::note(&format!("{test}: skipped: {e}"));
            None
        }
    }
}

/// The driver version an NVRTC of version `(major, minor)` needs at least.
fn needed_by((major, minor): (i32, i32)) -> i32 {
    major * 1000 + minor * 10
}

#[test]
fn a_driver_older_than_nvrtc_is_refused_and_best_is_the_cpu() {
    let Some(nvrtc) = nvrtc_or_skip("a_driver_older_than_nvrtc_is_refused_and_best_is_the_cpu") else {
        return;
    };
    // One minor version short (12.8 for NVRTC 13.0: the 570 driver's case).
    let driver_version = if nvrtc.1 > 0 {
        needed_by(nvrtc) - 10
    } else {
        needed_by((nvrtc.0 - 1, 8))
    };
    run_child(Fake {
        mode: "old_driver",
        one_device: true,
        driver_version,
        cublas_major: Some(nvrtc.0),
    });
}

#[test]
fn a_driver_as_new_as_nvrtc_passes_the_version_check() {
    let Some(nvrtc) = nvrtc_or_skip("a_driver_as_new_as_nvrtc_passes_the_version_check") else {
        return;
    };
    run_child(Fake {
        mode: "new_driver",
        one_device: true,
        driver_version: needed_by(nvrtc),
        cublas_major: Some(nvrtc.0),
    });
}

#[test]
fn driver_without_devices_is_reported() {
    run_child(Fake {
        mode: "no_device",
        one_device: false,
        driver_version: 13000,
        cublas_major: None,
    });
}

#[test]
fn ordinal_out_of_range_is_reported() {
    run_child(Fake {
        mode: "one_device",
        one_device: true,
        driver_version: 13000,
        cublas_major: None,
    });
}

/// The child's half: does nothing unless started by `run_child`.
#[test]
fn fake_driver_child() {
    let Ok(mode) = std::env::var(CHILD_ENV) else { return };
    match mode.as_str() {
        "no_device" => {
            let err = Device::cuda(0).expect_err("a driver without devices cannot give a device");
            let msg = err.to_string();
            assert!(matches!(err, Error::CudaUnavailable(_)), "{msg}");
            assert!(msg.contains("no CUDA-capable device"), "{msg}");
            assert!(msg.contains("CUDA_ERROR_NO_DEVICE"), "{msg}");
            let (dev, reason) = Device::best_with_reason();
            assert_eq!(dev, Device::Cpu);
            assert!(reason.is_some_and(|r| r.contains("no CUDA-capable device")));
            assert_eq!(Device::best(), Device::Cpu);
            assert!(neurite::backend::cuda::device_count().is_err());
        }
        "one_device" => {
            assert_eq!(neurite::backend::cuda::device_count().expect("one fake device"), 1);
            let msg = Device::cuda(5).expect_err("ordinal 5 of 1").to_string();
            assert!(msg.contains("CUDA device 5 does not exist"), "{msg}");
            assert!(msg.contains("1 device"), "{msg}");
        }
        "old_driver" => {
            let v: i32 = std::env::var(VERSION_ENV)
                .expect("the parent sets the driver version")
                .parse()
                .expect("a number");
            let (major, minor) = neurite::backend::cuda::nvrtc_version().expect("the parent checked NVRTC");
            let err = Device::cuda(0).expect_err("a driver older than NVRTC cannot give a device");
            let msg = err.to_string();
            assert!(matches!(err, Error::CudaUnavailable(_)), "{msg}");
            let driver = format!("CUDA {}.{} (cuDriverGetVersion {v})", v / 1000, (v % 1000) / 10);
            assert!(msg.contains(&driver), "{msg}");
            assert!(msg.contains(&format!("NVRTC {major}.{minor}")), "{msg}");
            assert!(msg.contains(&format!(">= {}", needed_by((major, minor)))), "{msg}");
            assert!(msg.contains(&format!("cuBLAS {major}.0")), "{msg}");
            assert!(msg.contains("update the NVIDIA driver"), "{msg}");
            if v / 1000 == 12 {
                assert!(msg.contains("nvidia-cuda-nvrtc-cu12"), "{msg}");
                assert!(msg.contains("nvidia-cublas-cu12"), "{msg}");
                assert!(msg.contains("LD_LIBRARY_PATH"), "{msg}");
            }
            let (dev, reason) = Device::best_with_reason();
            assert_eq!(dev, Device::Cpu);
            assert!(reason.as_deref().is_some_and(|r| r.contains(&driver)), "{reason:?}");
            assert_eq!(Device::best(), Device::Cpu);
            println!("version message: {msg}");
        }
        "new_driver" => {
            // The fake driver cannot create a context, so this still fails, but
            // later than the version check.
            let err = Device::cuda(0).expect_err("the fake driver has no context to give");
            let msg = err.to_string();
            assert!(matches!(err, Error::CudaUnavailable(_)), "{msg}");
            assert!(
                !msg.contains("cuDriverGetVersion"),
                "the version check refused a new enough driver: {msg}"
            );
            assert!(msg.contains("creating its context"), "{msg}");
            assert_eq!(Device::best(), Device::Cpu);
        }
        other => panic!("unknown child mode {other}"),
    }
    println!("FAKE-DRIVER-CHILD-OK {mode}");
}
