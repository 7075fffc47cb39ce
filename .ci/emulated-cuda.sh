#!/usr/bin/env bash
# The emulated CUDA suite (docs/GPU.md, "Emulated CUDA device"): the real CUDA
# backend of neurite, run against an emulated libcuda/libcublas whose kernels are
# kernels/*.cu compiled as host C++, on a machine without a GPU.
#   - the NVRTC 13 wheel (pinned, cached venv: .ci/cuda-wheels.sh): real PTX;
#   - the examples, built so that tests/cuda_emu can train them a few steps;
#   - every suite whose code depends on --features cuda, with NEURITE_CUDA_EMULATOR=1
#     (the CUDA variants run on the emulated device) and NEURITE_REQUIRE_GPU=1
#     (a CUDA variant that cannot reach its device fails instead of skipping).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never
source .ci/cuda-wheels.sh
cuda_wheels
# tests/support/cuda_emu.rs loads NVRTC from here (no LD_LIBRARY_PATH needed in
# the test processes); the example runs it starts get it on LD_LIBRARY_PATH.
export NEURITE_NVRTC_LIB="$cu/lib"
# The discovery tests of tests/cuda start children with a fake driver that load
# the real NVRTC by name.
export LD_LIBRARY_PATH="$cu/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
start=$SECONDS
cargo build --features cuda --examples
NEURITE_CUDA_EMULATOR=1 NEURITE_REQUIRE_GPU=1 cargo test --features cuda \
  --lib --test cuda --test parity --test core --test data --test checkpoint \
  --test cuda_emu --test cuda_kernels
echo "emulated-cuda.sh: the emulated CUDA suite passed in $((SECONDS - start))s"
