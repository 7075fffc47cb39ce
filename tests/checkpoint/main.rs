//! Checkpoint tests: round trips, corruption and hostile input, crash safety,
//! exact resume and safetensors interop with PyTorch.

#[path = "../support/cuda_emu.rs"]
mod cuda_emu;

mod any_module;
mod bounded;
mod common;
mod corruption;
mod crafted;
mod crash;
mod devices;
mod fuzz_seeds;
mod interop;
mod resume;
mod roundtrip;
mod stale_temps;
