//! The embedded kernel sources, their compilation by NVRTC, and the on-disk PTX
//! cache that makes a second start compile nothing.
//!
//! Cache location: `$NEURITE_PTX_CACHE`, else `$XDG_CACHE_HOME/neurite/ptx`, else
//! `$HOME/.cache/neurite/ptx`. A file's name carries the kernel family, the source
//! hash, the target architecture and the NVRTC version, so a changed kernel, GPU or
//! compiler never reads a stale entry. An unwritable cache only costs recompilation.

use super::probe::nvrtc_present;
use crate::{Error, Result};
use std::path::PathBuf;
use std::sync::OnceLock;

/// One kernel program: a `kernels/*.cu` file with the prelude in front.
pub(crate) struct KernelSource {
    pub(crate) family: &'static str,
    pub(crate) source: &'static str,
    pub(crate) hash: u64,
}

include!(concat!(env!("OUT_DIR"), "/kernels.rs"));

/// The kernel families compiled into this build (one per `kernels/*.cu` file).
pub fn kernel_families() -> Vec<&'static str> {
    KERNEL_SOURCES.iter().map(|k| k.family).collect()
}

fn source(family: &str) -> Result<&'static KernelSource> {
    KERNEL_SOURCES
        .iter()
        .find(|k| k.family == family)
        .ok_or_else(|| Error::invalid("compile_kernel_ptx", format!("no kernel family {family:?}")))
}

/// The NVRTC version as `(major, minor)`.
pub fn nvrtc_version() -> Result<(i32, i32)> {
    nvrtc_present()?;
    static VERSION: OnceLock<(i32, i32)> = OnceLock::new();
    if let Some(v) = VERSION.get() {
        return Ok(*v);
    }
    let (mut major, mut minor) = (0, 0);
    // SAFETY: NVRTC is loaded (checked above); the pointers are valid for the call.
    let rc = unsafe { cudarc::nvrtc::sys::nvrtcVersion(&mut major, &mut minor) };
    if rc != cudarc::nvrtc::sys::nvrtcResult::NVRTC_SUCCESS {
        return Err(Error::Cuda {
            op: "nvrtc",
            msg: format!("nvrtcVersion failed: {rc:?}"),
        });
    }
    Ok(*VERSION.get_or_init(|| (major, minor)))
}

/// The architectures this NVRTC can target, as `major * 10 + minor`.
fn supported_archs() -> Result<Vec<u32>> {
    nvrtc_present()?;
    let fail = |e: cudarc::nvrtc::result::NvrtcError| Error::Cuda {
        op: "nvrtc",
        msg: format!("listing the supported architectures failed: {:?}", e.0),
    };
    let mut n = 0;
    // SAFETY: NVRTC is loaded; the buffer holds exactly the count NVRTC reported.
    unsafe {
        cudarc::nvrtc::sys::nvrtcGetNumSupportedArchs(&mut n)
            .result()
            .map_err(fail)?;
        let mut archs = vec![0i32; n.max(0) as usize];
        cudarc::nvrtc::sys::nvrtcGetSupportedArchs(archs.as_mut_ptr())
            .result()
            .map_err(fail)?;
        Ok(archs.into_iter().map(|a| a as u32).collect())
    }
}

/// The newest architecture NVRTC supports that a device of compute capability `cc`
/// can run: `cc` itself unless the GPU is newer than the compiler.
fn arch_for(cc: u32) -> Result<u32> {
    let archs = supported_archs()?;
    archs.iter().copied().filter(|&a| a <= cc).max().ok_or_else(|| {
        Error::CudaUnavailable(format!(
            "NVRTC supports architectures {archs:?}, none of which runs on a device of compute capability {}.{}",
            cc / 10,
            cc % 10
        ))
    })
}

/// Compiles CUDA C `source` to PTX for `compute_{arch}` (e.g. 80 for sm_80). A
/// compile failure is [`Error::Cuda`] carrying NVRTC's log. Exposed for tests.
pub fn compile_source_ptx(name: &str, source: &str, arch: u32) -> Result<String> {
    nvrtc_present()?;
    if source.contains('\0') || name.contains('\0') {
        return Err(Error::invalid(
            "compile_source_ptx",
            "name or source contains a NUL byte",
        ));
    }
    let opts = cudarc::nvrtc::CompileOptions {
        name: Some(format!("{name}.cu")),
        options: vec![format!("--gpu-architecture=compute_{arch}")],
        ..Default::default()
    };
    match cudarc::nvrtc::compile_ptx_with_opts(source, opts) {
        Ok(ptx) => Ok(ptx.to_src()),
        Err(cudarc::nvrtc::CompileError::CompileError { nvrtc, log, .. }) => Err(Error::Cuda {
            op: "nvrtc",
            msg: format!(
                "compiling kernels/{name}.cu for compute_{arch} failed ({:?}):\n{}",
                nvrtc.0,
                log.to_string_lossy()
            ),
        }),
        Err(e) => Err(Error::Cuda {
            op: "nvrtc",
            msg: format!("compiling kernels/{name}.cu for compute_{arch} failed: {e:?}"),
        }),
    }
}

/// Compiles the embedded kernel family (`"unary"`, `"reduce"`, ... see
/// [`kernel_families`]) to PTX for `compute_{arch}`, bypassing the cache.
pub fn compile_kernel_ptx(family: &str, arch: u32) -> Result<String> {
    let k = source(family)?;
    compile_source_ptx(k.family, k.source, arch)
}

fn cache_dir() -> Option<PathBuf> {
    let var = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    var("NEURITE_PTX_CACHE")
        .or_else(|| var("XDG_CACHE_HOME").map(|d| d.join("neurite").join("ptx")))
        .or_else(|| var("HOME").map(|d| d.join(".cache").join("neurite").join("ptx")))
}

/// The PTX of `family` for a device of compute capability `cc`, from the disk
/// cache when present, else compiled and stored there.
pub(crate) fn ptx_for_device(family: &'static str, cc: u32) -> Result<String> {
    let k = source(family)?;
    let arch = arch_for(cc)?;
    let (major, minor) = nvrtc_version()?;
    let file = cache_dir().map(|d| {
        d.join(format!(
            "{family}-{:016x}-compute_{arch}-nvrtc{major}.{minor}.ptx",
            k.hash
        ))
    });
    if let Some(path) = &file
        && let Ok(ptx) = std::fs::read_to_string(path)
        && ptx.contains(".entry")
    {
        return Ok(ptx);
    }
    let ptx = compile_source_ptx(k.family, k.source, arch)?;
    if let Some(path) = &file {
        store(path, &ptx);
    }
    Ok(ptx)
}

/// Writes atomically (temporary file, then rename); failures are ignored on purpose.
fn store(path: &std::path::Path, ptx: &str) {
    let Some(dir) = path.parent() else { return };
    if std::fs::create_dir_all(dir).is_err() {
        return;
    }
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    if std::fs::write(&tmp, ptx).is_ok() && std::fs::rename(&tmp, path).is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
}
