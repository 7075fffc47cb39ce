//! Discovery: which CUDA libraries load, whether the driver initialises, how many
//! devices answer. cudarc panics when a library it needs cannot be loaded, so every
//! path into it starts here, and each answer is computed once per process.

use crate::{Error, Result};
use std::sync::OnceLock;

/// What a missing library is, and where it usually comes from.
struct Lib {
    what: &'static str,
    file: &'static str,
    hint: &'static str,
}

const DRIVER: Lib = Lib {
    what: "the CUDA driver",
    file: "libcuda.so",
    hint: "install the NVIDIA driver, or add the folder holding libcuda.so.1 to LD_LIBRARY_PATH",
};
const NVRTC: Lib = Lib {
    what: "NVRTC, the CUDA runtime compiler neurite builds its kernels with",
    file: "libnvrtc.so",
    hint: "install the CUDA toolkit or `pip install nvidia-cuda-nvrtc`, and add the folder holding \
           libnvrtc.so.13 (or .12) to LD_LIBRARY_PATH",
};
const CUBLAS: Lib = Lib {
    what: "cuBLAS",
    file: "libcublas.so",
    hint: "install the CUDA toolkit or `pip install nvidia-cublas`, and add the folder holding \
           libcublas.so.13 (or .12) to LD_LIBRARY_PATH",
};

fn missing(lib: &Lib) -> String {
    format!("{} ({}) could not be loaded: {}", lib.what, lib.file, lib.hint)
}

/// Whether NVRTC can be loaded (checked once).
pub(crate) fn nvrtc_present() -> Result<()> {
    static PRESENT: OnceLock<bool> = OnceLock::new();
    // SAFETY: only tries to dlopen the library by its usual names.
    if *PRESENT.get_or_init(|| unsafe { cudarc::nvrtc::sys::is_culib_present() }) {
        Ok(())
    } else {
        Err(Error::CudaUnavailable(missing(&NVRTC)))
    }
}

/// Whether cuBLAS can be loaded (checked once).
pub(crate) fn cublas_present() -> Result<()> {
    static PRESENT: OnceLock<bool> = OnceLock::new();
    // SAFETY: only tries to dlopen the library by its usual names.
    if *PRESENT.get_or_init(|| unsafe { cudarc::cublas::sys::is_culib_present() }) {
        Ok(())
    } else {
        Err(Error::CudaUnavailable(missing(&CUBLAS)))
    }
}

/// Loads the driver, initialises it and counts devices, once.
fn driver_devices() -> std::result::Result<usize, String> {
    static COUNT: OnceLock<std::result::Result<usize, String>> = OnceLock::new();
    COUNT
        .get_or_init(|| {
            // SAFETY: only tries to dlopen the library by its usual names.
            if !unsafe { cudarc::driver::sys::is_culib_present() } {
                return Err(missing(&DRIVER));
            }
            // cuInit is the first driver call, so that a driver without devices answers
            // here (CUDA_ERROR_NO_DEVICE) before any other symbol is looked up.
            if let Err(e) = cudarc::driver::result::init() {
                use cudarc::driver::sys::CUresult;
                return Err(match e.0 {
                    CUresult::CUDA_ERROR_NO_DEVICE => {
                        "the CUDA driver loaded but found no CUDA-capable device (cuInit: CUDA_ERROR_NO_DEVICE)"
                            .to_string()
                    }
                    CUresult::CUDA_ERROR_STUB_LIBRARY => {
                        "the libcuda.so found is the CUDA toolkit's stub, not the NVIDIA driver's library \
                         (cuInit: CUDA_ERROR_STUB_LIBRARY); remove the stubs folder from LD_LIBRARY_PATH"
                            .to_string()
                    }
                    other => format!("the CUDA driver failed to initialise (cuInit: {other:?})"),
                });
            }
            match cudarc::driver::result::device::get_count() {
                Ok(0) => Err("the CUDA driver reports no devices".to_string()),
                Ok(n) => Ok(n as usize),
                Err(e) => Err(format!("could not count CUDA devices (cuDeviceGetCount: {:?})", e.0)),
            }
        })
        .clone()
}

/// Number of CUDA devices the driver reports, or why there are none usable.
pub fn device_count() -> Result<usize> {
    driver_devices().map_err(Error::CudaUnavailable)
}

/// Checks everything [`crate::Device::cuda`] needs short of creating a context:
/// the driver and its devices, the ordinal, NVRTC, cuBLAS, and a driver new
/// enough for both.
pub(crate) fn check_available(ordinal: usize) -> Result<()> {
    let count = device_count()?;
    if ordinal >= count {
        return Err(Error::CudaUnavailable(format!(
            "CUDA device {ordinal} does not exist: the driver reports {count} device{} (ordinals 0..={})",
            if count == 1 { "" } else { "s" },
            count - 1
        )));
    }
    nvrtc_present()?;
    cublas_present()?;
    let driver = driver_version()?;
    let nvrtc = super::nvrtc::nvrtc_version()?;
    let cublas = cublas_version()?;
    match version_mismatch(ordinal, driver, nvrtc, cublas) {
        Some(msg) => Err(Error::CudaUnavailable(msg)),
        None => Ok(()),
    }
}

/// The CUDA version the driver supports, as `cuDriverGetVersion` reports it
/// (`major * 1000 + minor * 10`), once. The driver is initialised (by
/// [`device_count`]) before this is called.
fn driver_version() -> Result<i32> {
    static VERSION: OnceLock<std::result::Result<i32, String>> = OnceLock::new();
    VERSION
        .get_or_init(|| {
            let mut v = 0;
            // SAFETY: the driver library is loaded (device_count succeeded, and
            // cudarc resolves the symbol from that library); the pointer is valid
            // for the call.
            let rc = unsafe { cudarc::driver::sys::cuDriverGetVersion(&mut v) };
            if rc == cudarc::driver::sys::CUresult::CUDA_SUCCESS {
                Ok(v)
            } else {
                Err(format!(
                    "the CUDA driver did not say which CUDA version it supports (cuDriverGetVersion: {rc:?})"
                ))
            }
        })
        .clone()
        .map_err(Error::CudaUnavailable)
}

/// cuBLAS's version as `(major, minor)`, once. `cublasGetProperty` needs no
/// handle, so this works before any context exists.
fn cublas_version() -> Result<(i32, i32)> {
    cublas_present()?;
    static VERSION: OnceLock<std::result::Result<(i32, i32), String>> = OnceLock::new();
    VERSION
        .get_or_init(|| {
            use cudarc::cublas::sys::{cublasGetProperty, cublasStatus_t, libraryPropertyType};
            let (mut major, mut minor) = (0, 0);
            // SAFETY: cuBLAS is loaded (checked above); the pointers are valid for
            // each call and the property values are the enum's own.
            let rc = unsafe {
                match cublasGetProperty(libraryPropertyType::MAJOR_VERSION, &mut major) {
                    cublasStatus_t::CUBLAS_STATUS_SUCCESS => {
                        cublasGetProperty(libraryPropertyType::MINOR_VERSION, &mut minor)
                    }
                    err => err,
                }
            };
            if rc == cublasStatus_t::CUBLAS_STATUS_SUCCESS {
                Ok((major, minor))
            } else {
                Err(format!("cuBLAS did not report its version (cublasGetProperty: {rc:?})"))
            }
        })
        .clone()
        .map_err(Error::CudaUnavailable)
}

/// `12080` as `"12.8"`.
fn cuda_version(v: i32) -> String {
    format!("{}.{}", v / 1000, (v % 1000) / 10)
}

/// Why a driver reporting `driver` (from `cuDriverGetVersion`) cannot run what the
/// loaded NVRTC and cuBLAS produce, or `None` when it can. PTX JIT has no
/// minor-version compatibility: PTX from NVRTC X.Y carries an ISA only a driver
/// for CUDA X.Y or newer loads. cuBLAS ships compiled kernels and keeps CUDA's
/// minor-version compatibility, so it needs only the same major version.
pub(crate) fn version_mismatch(ordinal: usize, driver: i32, nvrtc: (i32, i32), cublas: (i32, i32)) -> Option<String> {
    let nvrtc_needs = nvrtc.0 * 1000 + nvrtc.1 * 10;
    let cublas_needs = cublas.0 * 1000;
    if driver >= nvrtc_needs && driver >= cublas_needs {
        return None;
    }
    let met = |ok: bool| if ok { "met" } else { "not met" };
    let needed = nvrtc_needs.max(cublas_needs);
    let mut fixes = Vec::new();
    let driver_major = driver / 1000;
    if driver_major >= 12 {
        // Libraries of the driver's own CUDA release; NVRTC pinned to the driver's
        // minor version, since a newer 12.x NVRTC writes PTX this driver rejects.
        let pin = cuda_version(driver);
        fixes.push(if driver_major == 12 {
            format!(
                "install the CUDA 12 wheels (`pip install \"nvidia-cuda-nvrtc-cu12=={pin}.*\" nvidia-cublas-cu12`), \
                 put their lib folders (site-packages/nvidia/cuda_nvrtc/lib and site-packages/nvidia/cublas/lib) \
                 first on LD_LIBRARY_PATH and remove the CUDA 13 folder (nvidia/cu13/lib) from it \
                 (libnvrtc.so.13 is loaded before libnvrtc.so.12 when both are found)"
            )
        } else {
            format!(
                "install the NVRTC of the driver's CUDA version (`pip install \"nvidia-cuda-nvrtc=={pin}.*\"`, \
                 lib folder site-packages/nvidia/cu{driver_major}/lib first on LD_LIBRARY_PATH)"
            )
        });
    }
    fixes.push(if needed <= 13000 {
        "update the NVIDIA driver to 580 or newer (CUDA 13.0)".to_string()
    } else {
        format!(
            "update the NVIDIA driver to one for CUDA {} or newer",
            cuda_version(needed)
        )
    });
    Some(format!(
        "CUDA device {ordinal} cannot run neurite's kernels: the NVIDIA driver supports CUDA {} \
         (cuDriverGetVersion {driver}), but NVRTC {}.{} writes PTX that needs a driver for CUDA {} or newer \
         (cuDriverGetVersion >= {nvrtc_needs}, PTX has no minor-version compatibility; {}) and cuBLAS {}.{} \
         needs a driver for CUDA {}.x (cuDriverGetVersion >= {cublas_needs}; {}). Fix: {}.",
        cuda_version(driver),
        nvrtc.0,
        nvrtc.1,
        cuda_version(nvrtc_needs),
        met(driver >= nvrtc_needs),
        cublas.0,
        cublas.1,
        cublas.0,
        met(driver >= cublas_needs),
        fixes.join(", or ")
    ))
}

/// Makes sure CUDA device `ordinal` can be used: the libraries load, the device
/// exists, and its context and stream can be created (they are kept for later use).
/// Returns [`Error::CudaUnavailable`] naming what is missing.
pub fn probe(ordinal: usize) -> Result<()> {
    super::device::device(ordinal).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::version_mismatch;

    #[test]
    fn a_cuda_12_driver_cannot_run_cuda_13_libraries() {
        let msg = version_mismatch(0, 12080, (13, 0), (13, 0)).expect("12.8 < 13.0");
        assert!(msg.contains("12.8 (cuDriverGetVersion 12080)"), "{msg}");
        assert!(msg.contains("NVRTC 13.0"), "{msg}");
        assert!(msg.contains(">= 13000"), "{msg}");
        assert!(msg.contains("cuBLAS 13.0"), "{msg}");
        assert!(msg.contains("nvidia-cuda-nvrtc-cu12==12.8.*"), "{msg}");
        assert!(msg.contains("nvidia-cublas-cu12"), "{msg}");
        assert!(msg.contains("580 or newer"), "{msg}");
    }

    #[test]
    fn ptx_needs_the_minor_version_and_cublas_only_the_major() {
        assert_eq!(version_mismatch(0, 13000, (13, 0), (13, 0)), None);
        assert_eq!(version_mismatch(0, 12080, (12, 8), (12, 9)), None);
        assert_eq!(version_mismatch(0, 13010, (12, 4), (12, 1)), None);
        let newer_nvrtc = version_mismatch(1, 12040, (12, 8), (12, 1)).expect("12.4 < 12.8");
        assert!(newer_nvrtc.starts_with("CUDA device 1 "), "{newer_nvrtc}");
        assert!(newer_nvrtc.contains(">= 12080, PTX has no minor-version compatibility; not met"));
        assert!(newer_nvrtc.contains(">= 12000; met"), "{newer_nvrtc}");
        let newer_minor = version_mismatch(0, 13000, (13, 1), (13, 0)).expect("13.0 < 13.1");
        assert!(newer_minor.contains("for CUDA 13.1 or newer"), "{newer_minor}");
        assert!(newer_minor.contains("nvidia-cuda-nvrtc==13.0.*"), "{newer_minor}");
    }

    #[test]
    fn a_driver_older_than_cuda_12_is_told_to_update() {
        let msg = version_mismatch(0, 11080, (12, 0), (12, 0)).expect("11.8 < 12.0");
        assert!(!msg.contains("pip install"), "{msg}");
        assert!(msg.contains("update the NVIDIA driver"), "{msg}");
    }
}
