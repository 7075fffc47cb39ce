//! Discovery never panics: a missing driver, a driver without devices and an
//! ordinal out of range are each a `CudaUnavailable` error naming the cause, and
//! `Device::best()` falls back to the CPU. The "driver present, no device" case
//! uses a fake `libcuda.so.1` built here with `cc`, loaded by a child process
//! (this test binary, re-run with `LD_LIBRARY_PATH` pointing at it).

use neurite::{Device, Error};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The fake driver: `cuInit` fails with CUDA_ERROR_NO_DEVICE (100), or with
/// `ONE_DEVICE` succeeds and reports a single device.
const FAKE_LIBCUDA: &str = r#"
int cuInit(unsigned int flags) {
    (void)flags;
#ifdef ONE_DEVICE
    return 0;
#else
    return 100;
#endif
}
int cuDeviceGetCount(int *count) { *count = 1; return 0; }
int cuDriverGetVersion(int *version) { *version = 13000; return 0; }
int cuGetErrorName(int error, const char **name) { (void)error; *name = "CUDA_ERROR_NO_DEVICE"; return 0; }
int cuGetErrorString(int error, const char **text) { (void)error; *text = "no CUDA-capable device is detected"; return 0; }
"#;

const CHILD_ENV: &str = "NEURITE_FAKE_DRIVER_CHILD";

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

/// Builds the fake driver into `dir` as both `libcuda.so` and `libcuda.so.1`
/// (cudarc tries the unversioned name first). None when `cc` cannot run.
fn build_fake_driver(dir: &Path, one_device: bool) -> Option<()> {
    std::fs::create_dir_all(dir).expect("create temp dir");
    let src = dir.join("fake_libcuda.c");
    std::fs::write(&src, FAKE_LIBCUDA).expect("write fake driver source");
    let lib = dir.join("libcuda.so.1");
    let mut cmd = Command::new("cc");
    cmd.args(["-shared", "-fPIC", "-o"]).arg(&lib).arg(&src);
    if one_device {
        cmd.arg("-DONE_DEVICE");
    }
    match cmd.output() {
        Ok(out) if out.status.success() => {
            std::fs::copy(&lib, dir.join("libcuda.so")).expect("copy fake driver");
            Some(())
        }
        Ok(out) => panic!(
            "cc failed to build the fake driver: {}",
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(e) => {
            crate::note(&format!("fake driver test skipped: cannot run cc ({e})"));
            None
        }
    }
}

/// Runs `discovery::fake_driver_child` in a child process against the fake driver.
fn run_child(mode: &str) -> Option<String> {
    let dir: PathBuf = std::env::temp_dir().join(format!("neurite-fake-cuda-{mode}-{}", std::process::id()));
    build_fake_driver(&dir, mode == "one_device")?;
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
        .env("LD_LIBRARY_PATH", ld)
        .output()
        .expect("run the test binary as a child");
    let _ = std::fs::remove_dir_all(&dir);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "child failed:\n{text}");
    Some(text)
}

#[test]
fn driver_without_devices_is_reported() {
    if let Some(out) = run_child("no_device") {
        assert!(
            out.contains("FAKE-DRIVER-CHILD-OK no_device"),
            "child did not run its checks:\n{out}"
        );
    }
}

#[test]
fn ordinal_out_of_range_is_reported() {
    if let Some(out) = run_child("one_device") {
        assert!(
            out.contains("FAKE-DRIVER-CHILD-OK one_device"),
            "child did not run its checks:\n{out}"
        );
    }
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
        other => panic!("unknown child mode {other}"),
    }
    println!("FAKE-DRIVER-CHILD-OK {mode}");
}
