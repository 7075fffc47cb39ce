//! Devices: where a tensor's storage lives and where its ops run.

use crate::{Error, Result};
use serde::{Deserialize, Serialize};

/// A compute device.
///
/// The CPU backend is always built. The CUDA variant exists when the crate is
/// built with the `cuda` feature; even then, [`Device::cuda`] checks at run time
/// that the driver, the libraries and the GPU answer, and returns an error
/// naming what is missing instead of panicking.
///
/// ```
/// use neurite::Device;
/// let dev = Device::best();
/// println!("training on {dev}");
/// assert!(Device::cpu().is_cpu());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Device {
    /// The host CPU (multithreaded with rayon).
    Cpu,
    /// The CUDA device with this ordinal.
    #[cfg(feature = "cuda")]
    Cuda(usize),
}

impl Device {
    /// The CPU. The first call (or the first CPU kernel) also sets glibc's
    /// malloc thresholds so that tensor-sized buffers are reused rather than
    /// returned to the OS after every step (see `backend::cpu::allocator`;
    /// `NEURITE_MALLOC_TUNING=0` opts out).
    pub fn cpu() -> Device {
        crate::backend::cpu::allocator::tune_once();
        Device::Cpu
    }

    /// CUDA device `ordinal`, after checking that the driver, NVRTC, cuBLAS and
    /// the device itself are present.
    pub fn cuda(ordinal: usize) -> Result<Device> {
        #[cfg(feature = "cuda")]
        {
            crate::backend::cuda::probe(ordinal)?;
            Ok(Device::Cuda(ordinal))
        }
        #[cfg(not(feature = "cuda"))]
        {
            let _ = ordinal;
            Err(Error::CudaUnavailable(
                "neurite was built without the `cuda` feature (rebuild with `--features cuda`)".into(),
            ))
        }
    }

    /// CUDA device 0 when it answers, the CPU otherwise.
    pub fn best() -> Device {
        Self::best_with_reason().0
    }

    /// Like [`Device::best`], with the reason the GPU was not taken (if it was not).
    pub fn best_with_reason() -> (Device, Option<String>) {
        match Device::cuda(0) {
            Ok(d) => (d, None),
            Err(e) => (Device::cpu(), Some(e.to_string())),
        }
    }

    /// Parses `"cpu"`, `"cuda"`, `"cuda:N"` or `"best"` (command-line options).
    pub fn parse(s: &str) -> Result<Device> {
        match s {
            "cpu" => Ok(Device::cpu()),
            "best" => Ok(Device::best()),
            "cuda" | "gpu" => Device::cuda(0),
            other => {
                if let Some(n) = other.strip_prefix("cuda:") {
                    let i = n
                        .parse::<usize>()
                        .map_err(|_| Error::invalid("Device::parse", format!("bad CUDA ordinal in {other:?}")))?;
                    Device::cuda(i)
                } else {
                    Err(Error::invalid(
                        "Device::parse",
                        format!("unknown device {other:?}; expected cpu, cuda, cuda:N or best"),
                    ))
                }
            }
        }
    }

    /// True for the CPU.
    pub fn is_cpu(&self) -> bool {
        matches!(self, Device::Cpu)
    }

    /// True for a CUDA device.
    pub fn is_cuda(&self) -> bool {
        !self.is_cpu()
    }
}

impl std::fmt::Display for Device {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Device::Cpu => write!(f, "cpu"),
            #[cfg(feature = "cuda")]
            Device::Cuda(i) => write!(f, "cuda:{i}"),
        }
    }
}
