//! Tests of the CUDA backend that need no GPU: every kernel compiles under NVRTC,
//! and discovery reports a missing library or device instead of panicking.
//! Built only with `--features cuda`; without it this binary holds no tests.
#![cfg(feature = "cuda")]

mod discovery;
mod nvrtc;
mod philox;

use std::io::Write;

/// Prints a line that the test harness does not capture (so a skip is visible).
pub fn note(msg: &str) {
    let _ = writeln!(std::io::stderr(), "{msg}");
}
