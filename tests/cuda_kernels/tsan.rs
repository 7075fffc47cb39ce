//! The kernels that use `__shared__` memory, `__syncthreads` and warp shuffles
//! (the block reductions of kernels/reduce.cu), and the atomic adds of
//! kernels/index.cu, run under ThreadSanitizer with one host thread per CUDA
//! thread: tests/cuda_kernels/tsan_main.cpp, built with `-fsanitize=thread -O1 -g`
//! together with kernels/emu/executor.cpp, checks every value against a known
//! answer (exit 1) and ThreadSanitizer stops it at the first race (exit 66).
//!
//! Skipped, with a note, only when the C++ compiler cannot build a
//! `-fsanitize=thread` program at all. `NEURITE_TSAN_KERNELS_DIR` builds the driver
//! against another copy of kernels/ (to check that a removed barrier is caught).

use crate::cuda_emu::repo_root;
use crate::note;
use std::path::{Path, PathBuf};
use std::process::Command;

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target"))
}

/// The C++ compiler the `cc` crate finds for the host.
fn compiler(out: &Path) -> cc::Tool {
    let target = format!("{}-unknown-linux-gnu", std::env::consts::ARCH);
    cc::Build::new()
        .cpp(true)
        .opt_level(1)
        .debug(true)
        .warnings(false)
        .cargo_metadata(false)
        .cargo_warnings(false)
        .target(&target)
        .host(&target)
        .out_dir(out)
        .get_compiler()
}

fn fnv(h: &mut u64, bytes: &[u8]) {
    for &b in bytes {
        *h ^= b as u64;
        *h = h.wrapping_mul(0x100_0000_01b3);
    }
}

fn output_text(o: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Builds the driver (cached by a hash of its sources) or says why TSan is unavailable.
fn build_driver() -> Result<PathBuf, String> {
    let root = repo_root();
    let kdir = std::env::var_os("NEURITE_TSAN_KERNELS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("kernels"));
    let edir = root.join("kernels").join("emu");
    let main = root.join("tests").join("cuda_kernels").join("tsan_main.cpp");
    let mut inputs = vec![main.clone()];
    for f in ["prelude.cuh", "reduce.cu", "index.cu"] {
        inputs.push(kdir.join(f));
    }
    for f in ["shim.h", "registry.h", "executor.h", "executor.cpp"] {
        inputs.push(edir.join(f));
    }
    let mut hash = 0xcbf2_9ce4_8422_2325u64;
    for p in &inputs {
        fnv(&mut hash, p.to_string_lossy().as_bytes());
        fnv(
            &mut hash,
            &std::fs::read(p).unwrap_or_else(|e| panic!("read {}: {e}", p.display())),
        );
    }
    let dir = target_dir().join("cuda-kernels-tsan").join(format!("{hash:016x}"));
    let exe = dir.join("tsan_driver");
    if exe.is_file() {
        return Ok(exe);
    }
    std::fs::create_dir_all(&dir).unwrap();
    let cxx = compiler(&dir);

    // Does this compiler build and run a ThreadSanitizer program at all?
    let probe = dir.join("probe.cpp");
    std::fs::write(&probe, "int main() { return 0; }\n").unwrap();
    let probe_exe = dir.join(format!("probe-{}", std::process::id()));
    let o = cxx
        .to_command()
        .args(["-fsanitize=thread", "-o"])
        .arg(&probe_exe)
        .arg(&probe)
        .output()
        .map_err(|e| format!("cannot run the C++ compiler {:?}: {e}", cxx.path()))?;
    if !o.status.success() {
        return Err(format!(
            "{:?} cannot build with -fsanitize=thread:\n{}",
            cxx.path(),
            output_text(&o)
        ));
    }
    let _ = std::fs::remove_file(&probe_exe);

    let tmp = dir.join(format!("tsan_driver.tmp-{}", std::process::id()));
    let o = cxx
        .to_command()
        .args(["-std=c++20", "-fsanitize=thread", "-O1", "-g", "-DNEURITE_HOST_KERNELS"])
        .args(["-fno-strict-aliasing", "-Wno-unknown-pragmas", "-I"])
        .arg(&edir)
        .arg("-I")
        .arg(&kdir)
        .arg(&main)
        .arg(edir.join("executor.cpp"))
        .arg("-o")
        .arg(&tmp)
        .arg("-lpthread")
        .output()
        .expect("run the C++ compiler");
    assert!(
        o.status.success(),
        "building the ThreadSanitizer driver failed:\n{}",
        output_text(&o)
    );
    std::fs::rename(&tmp, &exe).unwrap();
    Ok(exe)
}

fn run_driver(exe: &Path, no_aslr: bool) -> std::process::Output {
    let mut cmd = if no_aslr {
        let mut c = Command::new("setarch");
        c.arg(std::env::consts::ARCH).arg("-R").arg(exe);
        c
    } else {
        Command::new(exe)
    };
    cmd.env("TSAN_OPTIONS", "halt_on_error=1 exitcode=66")
        .output()
        .expect("run the ThreadSanitizer driver")
}

#[test]
fn block_reductions_and_atomics_are_race_free_under_tsan() {
    if !crate::ready() {
        return;
    }
    let exe = match build_driver() {
        Ok(exe) => exe,
        Err(why) => {
            note(&format!("SKIP tsan: {why}"));
            return;
        }
    };
    let mut o = run_driver(&exe, false);
    let text = output_text(&o);
    // Kernels with a large mmap randomisation reject TSan's fixed layout; without
    // address randomisation it runs.
    if !o.status.success() && text.contains("unexpected memory mapping") {
        note("tsan: unexpected memory mapping; rerunning under setarch -R");
        o = run_driver(&exe, true);
    }
    let text = output_text(&o);
    match o.status.code() {
        Some(0) => assert!(text.contains("all block reductions and atomic adds correct"), "{text}"),
        Some(66) => panic!("ThreadSanitizer found a data race:\n{text}"),
        Some(1) => panic!("wrong values under ThreadSanitizer:\n{text}"),
        other => panic!("ThreadSanitizer driver exited with {other:?}:\n{text}"),
    }
}
