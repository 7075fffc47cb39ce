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
/// the driver and its devices, the ordinal, NVRTC and cuBLAS.
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
    cublas_present()
}

/// Makes sure CUDA device `ordinal` can be used: the libraries load, the device
/// exists, and its context and stream can be created (they are kept for later use).
/// Returns [`Error::CudaUnavailable`] naming what is missing.
pub fn probe(ordinal: usize) -> Result<()> {
    super::device::device(ordinal).map(|_| ())
}
