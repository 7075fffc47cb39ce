//! The embedded kernel sources, their compilation by NVRTC, and the on-disk PTX
//! cache that makes a second start compile nothing.
//!
//! Cache location: `$NEURITE_PTX_CACHE`, else `$XDG_CACHE_HOME/neurite/ptx`, else
//! `$HOME/.cache/neurite/ptx`. A file's name carries the kernel family, the source
//! hash, the target architecture and the NVRTC version, so a changed kernel, GPU or
//! compiler never reads a stale entry. A cached file is trusted only once the driver
//! has loaded it; one it rejects is replaced. An unwritable cache only costs
//! recompilation.

use super::probe::nvrtc_present;
use crate::{Error, Result};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// One kernel program: a `kernels/*.cu` file with the prelude in front.
pub(crate) struct KernelSource {
    pub(crate) family: &'static str,
    pub(crate) source: &'static str,
    pub(crate) hash: u64,
}

include!(concat!(env!("OUT_DIR"), "/kernels.rs"));

/// 64-bit FNV-1a, the hash build.rs keys the embedded programs with.
const fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < bytes.len() {
        h ^= bytes[i] as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
        i += 1;
    }
    h
}

const PROBE_CU: &str = "extern \"C\" __global__ void neurite_probe(unsigned long long* p) {\n\
    if (p != 0 && threadIdx.x == 0) p[blockIdx.x] = 1ull;\n\
}\n";

/// The trivial kernel `Device::cuda` compiles and loads once, so that a driver
/// that cannot JIT NVRTC's PTX fails there rather than at the first op.
pub(crate) const PROBE_SOURCE: KernelSource = KernelSource {
    family: "probe",
    source: PROBE_CU,
    hash: fnv1a(PROBE_CU.as_bytes()),
};

/// The kernel families compiled into this build (one per `kernels/*.cu` file).
pub fn kernel_families() -> Vec<&'static str> {
    KERNEL_SOURCES.iter().map(|k| k.family).collect()
}

pub(crate) fn source(family: &str) -> Result<&'static KernelSource> {
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

/// The cache file of program `k` compiled for `compute_{arch}` by NVRTC `nvrtc`.
fn cache_file(dir: &Path, k: &KernelSource, arch: u32, (major, minor): (i32, i32)) -> PathBuf {
    dir.join(format!(
        "{}-{:016x}-compute_{arch}-nvrtc{major}.{minor}.ptx",
        k.family, k.hash
    ))
}

/// Loads program `k` for a device of compute capability `cc`: PTX from the disk
/// cache when the driver accepts it, else freshly compiled. `load` is the
/// driver's `cuModuleLoadData`; only PTX it accepted is stored in the cache.
pub(crate) fn load_program<M>(k: &KernelSource, cc: u32, load: impl FnMut(&str) -> Result<M>) -> Result<M> {
    let arch = arch_for(cc)?;
    let version = nvrtc_version()?;
    let file = cache_dir().map(|d| cache_file(&d, k, arch, version));
    load_through_cache(file.as_deref(), || compile_source_ptx(k.family, k.source, arch), load)
}

/// What a cache file holds.
#[derive(Debug, PartialEq)]
enum Cached {
    /// No file, or one that cannot be read (it may appear later; nothing to repair).
    Absent,
    /// Not PTX the driver could be handed: torn, truncated to nothing, binary.
    Corrupt,
    /// Text that looks like PTX; only the driver can say whether it is whole.
    Candidate(String),
}

fn read_cached(path: &Path) -> Cached {
    let Ok(bytes) = std::fs::read(path) else {
        return Cached::Absent;
    };
    // A NUL would also make cudarc's CString conversion panic, so it must not
    // reach the driver.
    match String::from_utf8(bytes) {
        Ok(text) if !text.contains('\0') && text.contains(".entry") => Cached::Candidate(text),
        _ => Cached::Corrupt,
    }
}

/// The cache protocol, apart from NVRTC and the driver (so that it is testable
/// without either): a cached file is used only if `load` accepts it; one that it
/// rejects is deleted and replaced by freshly compiled PTX, which is stored only
/// after `load` accepted it too. Without this a single torn file would break
/// every later start, since nothing else ever removes it.
fn load_through_cache<M>(
    file: Option<&Path>,
    compile: impl FnOnce() -> Result<String>,
    mut load: impl FnMut(&str) -> Result<M>,
) -> Result<M> {
    if let Some(path) = file {
        match read_cached(path) {
            Cached::Candidate(ptx) => {
                if let Ok(m) = load(&ptx) {
                    return Ok(m);
                }
                // Possibly another process's whole file written since the read;
                // deleting it then costs that process one recompilation, nothing more.
                let _ = std::fs::remove_file(path);
            }
            Cached::Corrupt => {
                let _ = std::fs::remove_file(path);
            }
            Cached::Absent => {}
        }
    }
    let ptx = compile()?;
    let m = load(&ptx)?;
    if let Some(path) = file {
        store(path, &ptx);
    }
    Ok(m)
}

/// A temporary name beside `path` that no other writer uses: the process id tells
/// processes apart, the counter the writers within one process (two devices
/// compiling the same family at once), and the clock a reused process id.
fn temp_name(path: &Path) -> PathBuf {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let name = path
        .file_name()
        .map_or_else(Default::default, |f| f.to_string_lossy().into_owned());
    path.with_file_name(format!("{name}.{}-{n}-{nanos}.tmp", std::process::id()))
}

/// Writes atomically (unique temporary file, then rename), so that a reader sees
/// either no file or a whole one; failures are ignored on purpose (an unwritable
/// cache only costs recompilation).
fn store(path: &Path, ptx: &str) {
    let Some(dir) = path.parent() else { return };
    if std::fs::create_dir_all(dir).is_err() {
        return;
    }
    let tmp = temp_name(path);
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp)
        .and_then(|mut f| f.write_all(ptx.as_bytes()));
    if written.is_err() || std::fs::rename(&tmp, path).is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    const GOOD: &str = ".version 9.0\n.target sm_80\n.visible .entry k()\n{\n\tret;\n}\n";

    fn scratch(test: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("neurite-ptx-cache-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).expect("create scratch dir");
        d
    }

    /// A stand-in for cuModuleLoadData: accepts only whole PTX (here: GOOD).
    fn driver(loads: &Cell<u32>) -> impl FnMut(&str) -> Result<&'static str> + '_ {
        move |ptx| {
            loads.set(loads.get() + 1);
            if ptx == GOOD {
                Ok("module")
            } else {
                Err(Error::Cuda {
                    op: "load kernels",
                    msg: "CUDA_ERROR_INVALID_PTX".into(),
                })
            }
        }
    }

    #[test]
    fn a_miss_compiles_loads_then_stores() {
        let dir = scratch("miss");
        let file = dir.join("unary.ptx");
        let loads = Cell::new(0);
        let m = load_through_cache(Some(&file), || Ok(GOOD.to_string()), driver(&loads)).expect("loads");
        assert_eq!((m, loads.get()), ("module", 1));
        assert_eq!(std::fs::read_to_string(&file).expect("stored"), GOOD);
        // The second start reads the file and compiles nothing.
        let m = load_through_cache(Some(&file), || panic!("a cache hit must not compile"), driver(&loads));
        assert_eq!(m.expect("hit"), "module");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_torn_file_the_driver_rejects_is_replaced() {
        let dir = scratch("torn");
        let file = dir.join("unary.ptx");
        // Contains ".entry", so the old check trusted it forever.
        std::fs::write(&file, &GOOD[..GOOD.len() - 8]).expect("write torn file");
        let loads = Cell::new(0);
        let compiled = Cell::new(0);
        let m = load_through_cache(
            Some(&file),
            || {
                compiled.set(compiled.get() + 1);
                Ok(GOOD.to_string())
            },
            driver(&loads),
        );
        assert_eq!(m.expect("recompiled"), "module");
        assert_eq!((compiled.get(), loads.get()), (1, 2));
        assert_eq!(std::fs::read_to_string(&file).expect("repaired"), GOOD);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn binary_or_nul_bytes_never_reach_the_driver() {
        let dir = scratch("binary");
        let file = dir.join("unary.ptx");
        for junk in [&b"\xff\xfe.entry"[..], b".entry k\0()", b""] {
            std::fs::write(&file, junk).expect("write junk");
            assert_eq!(read_cached(&file), Cached::Corrupt);
            let loads = Cell::new(0);
            let m = load_through_cache(Some(&file), || Ok(GOOD.to_string()), driver(&loads));
            assert_eq!((m.expect("recompiled"), loads.get()), ("module", 1));
        }
        assert_eq!(read_cached(&dir.join("absent.ptx")), Cached::Absent);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn ptx_the_driver_rejects_is_not_stored() {
        let dir = scratch("rejected");
        let file = dir.join("unary.ptx");
        let loads = Cell::new(0);
        let err = load_through_cache(Some(&file), || Ok("not ptx .entry".to_string()), driver(&loads));
        assert!(matches!(err, Err(Error::Cuda { .. })));
        assert!(!file.exists(), "PTX that failed to load was cached");
        // A compile failure is returned as is, and stores nothing either.
        let err = load_through_cache(
            Some(&file),
            || {
                Err(Error::Cuda {
                    op: "nvrtc",
                    msg: "log".into(),
                })
            },
            driver(&loads),
        );
        assert!(matches!(err, Err(Error::Cuda { op: "nvrtc", .. })));
        assert!(!file.exists());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn without_a_cache_dir_it_compiles_every_time() {
        let loads = Cell::new(0);
        let m = load_through_cache(None, || Ok(GOOD.to_string()), driver(&loads));
        assert_eq!(m.expect("loads"), "module");
    }

    #[test]
    fn temporary_names_differ_across_threads_and_calls() {
        let path = Path::new("/cache/reduce-0123-compute_80-nvrtc13.0.ptx");
        let names: Vec<PathBuf> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|_| s.spawn(|| (0..16).map(|_| temp_name(path)).collect::<Vec<_>>()))
                .collect();
            handles.into_iter().flat_map(|h| h.join().expect("no panic")).collect()
        });
        let unique: std::collections::HashSet<_> = names.iter().collect();
        assert_eq!(unique.len(), names.len());
        for n in &names {
            assert_eq!(n.parent(), path.parent(), "a rename across folders is not atomic");
            let name = n.file_name().and_then(|f| f.to_str()).expect("UTF-8 name");
            assert!(name.starts_with("reduce-0123-compute_80-nvrtc13.0.ptx."), "{name}");
            assert!(name.ends_with(".tmp"), "{name}");
            assert!(name.contains(&std::process::id().to_string()), "{name}");
        }
    }

    #[test]
    fn concurrent_stores_leave_one_whole_file_and_no_temporaries() {
        let dir = scratch("concurrent");
        let file = dir.join("unary.ptx");
        std::thread::scope(|s| {
            for _ in 0..8 {
                s.spawn(|| store(&file, GOOD));
            }
        });
        assert_eq!(std::fs::read_to_string(&file).expect("stored"), GOOD);
        let entries = std::fs::read_dir(&dir).expect("list").count();
        assert_eq!(entries, 1, "temporary files were left behind");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_probe_kernel_hash_matches_build_rs() {
        // build.rs hashes the same way; a mismatch would only rename cache files,
        // but the hash must at least depend on the source.
        assert_ne!(PROBE_SOURCE.hash, fnv1a(b""));
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
