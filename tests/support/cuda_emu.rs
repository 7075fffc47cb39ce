//! The emulated CUDA device for tests (docs/GPU.md, "Emulated CUDA device").
//!
//! [`build`] compiles every `kernels/*.cu` family as host C++ through
//! `kernels/emu/shim.h`, together with the emulated driver (`kernels/emu/driver.cpp`,
//! a `libcuda.so`) and cuBLAS (`kernels/emu/cublas.cpp`, a `libcublas.so`), with the
//! `cc` crate, into `target/cuda-emu/<hash of the sources>/`. [`install`] loads them
//! into this process before the crate's first CUDA call: cudarc then finds them by
//! their sonames when it opens `libcuda.so` and `libcublas.so`, so the product code
//! runs unchanged against them. NVRTC stays the real one (from the CI's venv or
//! `LD_LIBRARY_PATH`): the PTX the emulator loads is the PTX a GPU would get.
#![allow(dead_code)]

use std::ffi::{CStr, CString, c_char, c_void};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The repository root, at run time (the GPU bundle runs tests elsewhere).
pub fn repo_root() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target"))
}

/// Whether the tests are asked to use the emulated device (`NEURITE_CUDA_EMULATOR=1`).
pub fn requested() -> bool {
    std::env::var("NEURITE_CUDA_EMULATOR").as_deref() == Ok("1")
}

/// What a build produced.
#[derive(Clone, Debug)]
pub struct EmuLibs {
    pub dir: PathBuf,
    pub libcuda: PathBuf,
    pub libcublas: PathBuf,
    /// Every kernel name found in the families, in file order.
    pub kernels: Vec<String>,
}

fn fnv(h: &mut u64, bytes: &[u8]) {
    for &b in bytes {
        *h ^= b as u64;
        *h = h.wrapping_mul(0x100_0000_01b3);
    }
}

/// The kernel families (`kernels/*.cu`), sorted.
pub fn families(root: &Path) -> Result<Vec<String>, String> {
    let dir = root.join("kernels");
    let mut v: Vec<String> = std::fs::read_dir(&dir)
        .map_err(|e| format!("cannot read {} (the kernel sources): {e}", dir.display()))?
        .filter_map(|e| {
            let p = e.ok()?.path();
            (p.extension()? == "cu").then(|| p.file_stem().unwrap().to_string_lossy().into_owned())
        })
        .collect();
    v.sort();
    Ok(v)
}

/// The names of the `extern "C" __global__` functions in preprocessed source.
pub fn kernel_names(preprocessed: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = preprocessed;
    while let Some(i) = rest.find("__global__") {
        rest = &rest[i + "__global__".len()..];
        let t = rest.trim_start();
        let Some(t) = t.strip_prefix("void") else { continue };
        let t = t.trim_start();
        let name: String = t
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() && t[name.len()..].trim_start().starts_with('(') {
            out.push(name);
        }
    }
    out
}

fn base_build(root: &Path, out: &Path) -> cc::Build {
    let target = format!("{}-unknown-linux-gnu", std::env::consts::ARCH);
    let mut b = cc::Build::new();
    b.cpp(true)
        .std("c++20")
        .opt_level(2)
        .debug(false)
        .pic(true)
        .warnings(false)
        .cargo_metadata(false)
        .cargo_warnings(false)
        .target(&target)
        .host(&target)
        .out_dir(out)
        .include(root.join("kernels").join("emu"))
        .flag("-fno-strict-aliasing")
        .flag("-Wno-unknown-pragmas");
    b
}

fn run(cmd: &mut std::process::Command, what: &str) -> Result<String, String> {
    let o = cmd.output().map_err(|e| format!("{what}: cannot run {cmd:?}: {e}"))?;
    if !o.status.success() {
        return Err(format!(
            "{what} failed:\n{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&o.stdout).into_owned())
}

/// Builds (or finds, when the sources are unchanged) the emulator's libraries.
pub fn build() -> Result<EmuLibs, String> {
    static BUILT: OnceLock<Result<EmuLibs, String>> = OnceLock::new();
    BUILT.get_or_init(build_uncached).clone()
}

fn build_uncached() -> Result<EmuLibs, String> {
    let root = repo_root();
    let kdir = root.join("kernels");
    let edir = kdir.join("emu");
    let fams = families(&root)?;
    let mut hash = 0xcbf2_9ce4_8422_2325u64;
    let mut inputs: Vec<PathBuf> = fams.iter().map(|f| kdir.join(format!("{f}.cu"))).collect();
    inputs.push(kdir.join("prelude.cuh"));
    for f in [
        "shim.h",
        "registry.h",
        "executor.h",
        "executor.cpp",
        "driver.cpp",
        "cublas.cpp",
    ] {
        inputs.push(edir.join(f));
    }
    for p in &inputs {
        fnv(&mut hash, p.to_string_lossy().as_bytes());
        fnv(
            &mut hash,
            &std::fs::read(p).map_err(|e| format!("read {}: {e}", p.display()))?,
        );
    }
    let dir = target_dir().join("cuda-emu").join(format!("{hash:016x}"));
    let libcuda = dir.join("libcuda.so");
    let libcublas = dir.join("libcublas.so");
    let names_file = dir.join("kernels.txt");
    if libcuda.is_file() && libcublas.is_file() && names_file.is_file() {
        let kernels = std::fs::read_to_string(&names_file).map_err(|e| e.to_string())?;
        return Ok(EmuLibs {
            dir,
            libcuda,
            libcublas,
            kernels: kernels.lines().map(String::from).collect(),
        });
    }
    // Built beside the final folder and renamed into place, so that a concurrent or
    // interrupted build never leaves a half-written library under the final name.
    let tmp = dir.with_extension(format!("tmp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).map_err(|e| format!("create {}: {e}", tmp.display()))?;

    let compiler = base_build(&root, &tmp).get_compiler();
    let mut sources = Vec::new();
    let mut all_names = Vec::new();
    let mut registry = String::from("#include \"executor.h\"\n#include <cstring>\n");
    let mut lookups = String::new();
    for fam in &fams {
        let scan = tmp.join(format!("scan_{fam}.cpp"));
        std::fs::write(
            &scan,
            format!(
                "#include \"{}\"\n#include \"{}\"\n",
                kdir.join("prelude.cuh").display(),
                kdir.join(format!("{fam}.cu")).display()
            ),
        )
        .map_err(|e| e.to_string())?;
        let pre = run(
            compiler.to_command().args(["-E", "-P", "-x", "c++"]).arg(&scan),
            "preprocessing a kernel family",
        )?;
        let names = kernel_names(&pre);
        if names.is_empty() {
            return Err(format!("kernels/{fam}.cu: no extern \"C\" __global__ kernel found"));
        }
        let ns = format!("neurite_family_{fam}");
        let mut src = format!(
            "#include \"shim.h\"\n#include \"registry.h\"\nnamespace {ns} {{\n#include \"{}\"\n#include \"{}\"\n}}\n\
             static const neurite_emu::KernelEntry entries[] = {{\n",
            kdir.join("prelude.cuh").display(),
            kdir.join(format!("{fam}.cu")).display()
        );
        for n in &names {
            src.push_str(&format!("    NEURITE_EMU_ENTRY({ns}, {n}),\n"));
        }
        src.push_str(&format!(
            "}};\nextern \"C\" const neurite_emu::KernelEntry* neurite_emu_family_{fam}(std::size_t* n) {{\n    \
             *n = sizeof entries / sizeof entries[0];\n    return entries;\n}}\n"
        ));
        let path = tmp.join(format!("family_{fam}.cpp"));
        std::fs::write(&path, src).map_err(|e| e.to_string())?;
        sources.push(path);
        registry.push_str(&format!(
            "extern \"C\" const neurite_emu::KernelEntry* neurite_emu_family_{fam}(std::size_t* n);\n"
        ));
        lookups.push_str(&format!("neurite_emu_family_{fam}, "));
        all_names.extend(names);
    }
    registry.push_str(&format!(
        "namespace neurite_emu {{\nconst KernelEntry* find_kernel(const char* name) {{\n    \
         const KernelEntry* (*families[])(std::size_t*) = {{{lookups}}};\n    \
         for (auto f : families) {{\n        std::size_t n = 0;\n        const KernelEntry* e = f(&n);\n        \
         for (std::size_t i = 0; i < n; ++i)\n            if (std::strcmp(e[i].name, name) == 0) return &e[i];\n    }}\n    \
         return nullptr;\n}}\n}}\n"
    ));
    let reg = tmp.join("registry.cpp");
    std::fs::write(&reg, registry).map_err(|e| e.to_string())?;
    sources.push(reg);
    sources.push(edir.join("executor.cpp"));
    sources.push(edir.join("driver.cpp"));

    // Two compile jobs at once (the kernel families dominate the time).
    let objects = compile_parallel(&root, &tmp, &sources)?;
    let cublas_obj = compile_parallel(&root, &tmp, &[edir.join("cublas.cpp")])?;

    let mut link = compiler.to_command();
    link.args(["-shared", "-Wl,-soname,libcuda.so", "-o"])
        .arg(tmp.join("libcuda.so"))
        .args(&objects)
        .arg("-lpthread");
    run(&mut link, "linking the emulated libcuda.so")?;
    let mut link = compiler.to_command();
    link.args(["-shared", "-Wl,-soname,libcublas.so", "-o"])
        .arg(tmp.join("libcublas.so"))
        .args(&cublas_obj)
        .arg(tmp.join("libcuda.so"))
        .arg("-Wl,-rpath,$ORIGIN");
    run(&mut link, "linking the emulated libcublas.so")?;
    std::fs::write(tmp.join("kernels.txt"), all_names.join("\n")).map_err(|e| e.to_string())?;
    if std::fs::rename(&tmp, &dir).is_err() {
        // Another process finished first: use its build.
        let _ = std::fs::remove_dir_all(&tmp);
    }
    if !libcuda.is_file() {
        return Err(format!("{} missing after the build", libcuda.display()));
    }
    Ok(EmuLibs {
        dir,
        libcuda,
        libcublas,
        kernels: all_names,
    })
}

fn compile_parallel(root: &Path, out: &Path, sources: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let jobs = std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(1, 4);
    let chunks: Vec<Vec<PathBuf>> = (0..jobs)
        .map(|j| sources.iter().skip(j).step_by(jobs).cloned().collect())
        .collect();
    let results: Vec<Result<Vec<PathBuf>, String>> = std::thread::scope(|s| {
        let handles: Vec<_> = chunks
            .into_iter()
            .filter(|c| !c.is_empty())
            .map(|chunk| {
                s.spawn(move || {
                    let mut b = base_build(root, out);
                    b.define("NEURITE_HOST_KERNELS", None).files(&chunk);
                    b.try_compile_intermediates().map_err(|e| {
                        // cc keeps the compiler's messages to itself: ask again for them.
                        let mut why = format!("compiling {chunk:?}: {e}");
                        for f in &chunk {
                            let mut cmd = b.get_compiler().to_command();
                            cmd.args(["-fsyntax-only", "-DNEURITE_HOST_KERNELS"]).arg(f);
                            if let Ok(o) = cmd.output() {
                                why.push_str(&String::from_utf8_lossy(&o.stderr));
                            }
                        }
                        why
                    })
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err("compile thread panicked".into())))
            .collect()
    });
    let mut objs = Vec::new();
    for r in results {
        objs.extend(r?);
    }
    Ok(objs)
}

/// `dlopen` with the full path; the handle is kept for the life of the process.
fn dlopen_global(path: &Path) -> Result<*mut c_void, String> {
    let c = CString::new(path.as_os_str().as_encoded_bytes()).map_err(|e| e.to_string())?;
    // SAFETY: `c` is a valid NUL-terminated path; dlopen has no other precondition,
    // and the libraries loaded here run no code at load time beyond C++ static
    // initialisers of plain tables.
    let h = unsafe { libc::dlopen(c.as_ptr(), libc::RTLD_NOW | libc::RTLD_GLOBAL) };
    if h.is_null() {
        // SAFETY: dlerror returns a valid C string (or null) describing the last failure.
        let why = unsafe {
            let e = libc::dlerror();
            if e.is_null() {
                "unknown".to_string()
            } else {
                CStr::from_ptr(e).to_string_lossy().into_owned()
            }
        };
        return Err(format!("dlopen {}: {why}", path.display()));
    }
    Ok(h)
}

/// The lib folder of the CI's NVRTC wheel, when present.
pub fn nvrtc_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("NEURITE_NVRTC_LIB") {
        return Some(PathBuf::from(d));
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    let lib = cache.join("neurite-ci").join("cuda-venv").join("lib");
    for e in std::fs::read_dir(&lib).ok()? {
        let d = e
            .ok()?
            .path()
            .join("site-packages")
            .join("nvidia")
            .join("cu13")
            .join("lib");
        if d.join("libnvrtc.so.13").is_file() {
            return Some(d);
        }
    }
    None
}

struct Installed {
    libs: EmuLibs,
    driver: *mut c_void,
}
// SAFETY: the handle is only passed to dlsym, which is thread-safe.
unsafe impl Send for Installed {}
// SAFETY: as above; nothing mutates through the handle.
unsafe impl Sync for Installed {}

/// Builds and loads the emulator into this process (once). Must run before the
/// first CUDA call of the process.
pub fn install() -> Result<EmuLibs, String> {
    installed().map(|i| i.libs.clone())
}

fn installed() -> Result<&'static Installed, String> {
    static INSTALLED: OnceLock<Result<Installed, String>> = OnceLock::new();
    INSTALLED
        .get_or_init(|| {
            let libs = build()?;
            let driver = dlopen_global(&libs.libcuda)?;
            dlopen_global(&libs.libcublas)?;
            // NVRTC by full path too (its builtins first: libnvrtc opens them by soname),
            // so that no LD_LIBRARY_PATH has to be set before the process starts.
            if let Some(d) = nvrtc_dir() {
                if let Some(b) = std::fs::read_dir(&d).ok().and_then(|it| {
                    it.filter_map(|e| e.ok().map(|e| e.path())).find(|p| {
                        p.file_name()
                            .is_some_and(|n| n.to_string_lossy().starts_with("libnvrtc-builtins.so"))
                    })
                }) {
                    dlopen_global(&b)?;
                }
                dlopen_global(&d.join("libnvrtc.so.13"))?;
            }
            Ok(Installed { libs, driver })
        })
        .as_ref()
        .map_err(|e| e.clone())
}

/// One entry of the emulated driver's launch record.
#[derive(Clone, Debug, PartialEq)]
pub struct Launch {
    pub kernel: String,
    pub grid: [u32; 3],
    pub block: [u32; 3],
    pub shared_bytes: u32,
    pub stream: u64,
}

fn sym<T: Copy>(name: &str) -> T {
    let i = installed().expect("emulator installed");
    let c = CString::new(name).unwrap();
    // SAFETY: the handle is live for the process; the symbol is checked for null and
    // `T` is the function-pointer type the emulator declares for it (driver.cpp).
    unsafe {
        let p = libc::dlsym(i.driver, c.as_ptr());
        assert!(!p.is_null(), "emulated driver lacks {name}");
        std::mem::transmute_copy::<*mut c_void, T>(&p)
    }
}

/// Every launch (and, with kernel "memset"/"memcpy...", every copy) since the last [`clear_record`].
pub fn record() -> Vec<Launch> {
    let len: extern "C" fn() -> usize = sym("neurite_emu_record_len");
    let get: extern "C" fn(usize, *mut c_char, usize, *mut u32, *mut u32, *mut u32, *mut u64) -> i32 =
        sym("neurite_emu_record_get");
    let mut out = Vec::new();
    for i in 0..len() {
        let mut name = [0 as c_char; 128];
        let (mut grid, mut block, mut shm, mut stream) = ([0u32; 3], [0u32; 3], 0u32, 0u64);
        if get(
            i,
            name.as_mut_ptr(),
            name.len(),
            grid.as_mut_ptr(),
            block.as_mut_ptr(),
            &mut shm,
            &mut stream,
        ) != 0
        {
            break;
        }
        // SAFETY: the emulator wrote a NUL-terminated name into the buffer.
        let kernel = unsafe { CStr::from_ptr(name.as_ptr()) }.to_string_lossy().into_owned();
        out.push(Launch {
            kernel,
            grid,
            block,
            shared_bytes: shm,
            stream,
        });
    }
    out
}

/// Empties the launch record.
pub fn clear_record() {
    let f: extern "C" fn() = sym("neurite_emu_record_clear");
    f()
}

/// Runs a host-compiled kernel directly on host memory (no driver): for the
/// per-family kernel tests.
pub fn run_kernel(
    name: &str,
    grid: [u32; 3],
    block: [u32; 3],
    args: &mut [*mut c_void],
    threaded: bool,
) -> Result<(), String> {
    let f: extern "C" fn(*const c_char, *const u32, *const u32, *mut *mut c_void, i32, *mut c_char, usize) -> i32 =
        sym("neurite_emu_run_kernel");
    let c = CString::new(name).unwrap();
    let mut err = [0 as c_char; 512];
    if f(
        c.as_ptr(),
        grid.as_ptr(),
        block.as_ptr(),
        args.as_mut_ptr(),
        threaded as i32,
        err.as_mut_ptr(),
        err.len(),
    ) == 0
    {
        Ok(())
    } else {
        // SAFETY: the emulator wrote a NUL-terminated message into the buffer.
        Err(unsafe { CStr::from_ptr(err.as_ptr()) }.to_string_lossy().into_owned())
    }
}

/// With `NEURITE_CUDA_EMULATOR=1`, installs the emulator (once) so that the next
/// `Device::cuda(0)` of this process is the emulated device; panics, naming `test`,
/// when it cannot be set up. Without the variable, does nothing.
pub fn install_if_requested(test: &str) {
    if requested()
        && let Err(e) = install()
    {
        panic!("{test}: NEURITE_CUDA_EMULATOR=1 but the emulated CUDA device could not be set up: {e}");
    }
}

/// With `NEURITE_CUDA_EMULATOR=1`, the emulator is installed before `main`: the
/// crate probes the driver once per process, and any test of the binary may be the
/// first to ask for a device (`Device::best()` in a data-loader test, say). A
/// failure is kept and reported by [`install_if_requested`] at the tests that use
/// the device.
extern "C" fn install_at_start() {
    if requested() {
        let _ = installed();
    }
}
// SAFETY: a function pointer in .init_array is called once by the loader before
// main, with no arguments, as any C constructor; it only builds and dlopens the
// emulator's libraries, which needs nothing main sets up.
#[used]
#[unsafe(link_section = ".init_array")]
static INSTALL_AT_START: extern "C" fn() = install_at_start;
