//! The emulated CUDA device itself (tests/support/cuda_emu.rs, docs/GPU.md): that
//! it catches what compute-sanitizer and the driver would (out-of-bounds kernel
//! accesses, launch limits, cuBLAS argument rules, host/device signature
//! mismatches), that the backend's host code does what the issue fixes promise
//! (error-record work on the crate's stream, multi-block full reductions, the
//! driver-version gate), and that the MNIST examples train a few steps on it.
//!
//! Runs when the emulator can be built and NVRTC loaded; otherwise each test
//! prints why it skipped, or fails under `NEURITE_CUDA_EMULATOR=1`.
#![cfg(feature = "cuda")]

#[path = "../support/cuda_emu.rs"]
mod cuda_emu;

mod checks;
mod examples;
mod host_code;

use std::io::Write;

/// Prints a line that the test harness does not capture.
pub fn note(msg: &str) {
    let _ = writeln!(std::io::stderr(), "{msg}");
}

/// Installs the emulator and returns true, or prints why not and returns false
/// (panicking instead when `NEURITE_CUDA_EMULATOR=1` asks for it).
pub fn emulator(test: &str) -> bool {
    let why = match cuda_emu::install() {
        Ok(_) => match neurite::Device::cuda(0) {
            Ok(_) => return true,
            Err(e) => format!("the emulated device did not answer: {e}"),
        },
        Err(e) => format!("the emulator could not be built or loaded: {e}"),
    };
    if cuda_emu::requested() {
        panic!("{test}: NEURITE_CUDA_EMULATOR=1 but {why}");
    }
    note(&format!("{test}: skipped: {why}"));
    false
}

/// Runs test `name` of this binary in a child process with `env` set, and returns
/// its status and output. For checks that abort the process or poison the
/// emulated context (as a fault does on a GPU).
pub fn child(name: &str, env: &[(&str, &str)]) -> (bool, String) {
    let exe = std::env::current_exe().expect("test binary path");
    let mut cmd = std::process::Command::new(exe);
    cmd.args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, name);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run the child test");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// Set in a child started by [`child`] to the test it runs.
pub const CHILD: &str = "NEURITE_EMU_CHILD";

/// Whether this process is the child running `name`.
pub fn is_child(name: &str) -> bool {
    std::env::var(CHILD).as_deref() == Ok(name)
}
