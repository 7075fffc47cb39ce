#!/usr/bin/env bash
# CUDA checks for a machine without a GPU (called by .ci/run):
#   1. build and clippy with --features cuda (no CUDA needed to build);
#   2. NVRTC, the CUDA runtime headers and ptxas from PyPI into a cached venv, then
#      compile every kernel in kernels/ for sm_80 and sm_90 (failing if NVRTC cannot
#      be loaded) and run `ptxas -v` on the PTX: registers per kernel, no spills;
#   3. the whole test suite with --features cuda (GPU parity tests skip, saying why).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never

# One CUDA 13 release for all three wheels (they must match).
CUDA_PIP_VERSION=13.0.88
step() { printf '\n=== cuda: %s (%ss) ===\n' "$*" "$SECONDS"; }

step "build --features cuda"
cargo build --features cuda

step "clippy --all-targets --features cuda"
cargo clippy --all-targets --features cuda -- -D warnings

step "NVRTC $CUDA_PIP_VERSION from PyPI (cached venv)"
venv="${XDG_CACHE_HOME:-$HOME/.cache}/neurite-ci/cuda-venv"
stamp="$venv/.installed-$CUDA_PIP_VERSION"
if [[ ! -f $stamp ]]; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    "nvidia-cuda-nvrtc==$CUDA_PIP_VERSION" \
    "nvidia-cuda-runtime==$CUDA_PIP_VERSION" \
    "nvidia-cuda-nvcc==$CUDA_PIP_VERSION"
  touch "$stamp"
else
  echo "reusing $venv"
fi
cu=$("$venv/bin/python" -c 'import nvidia, os; print(os.path.join(list(nvidia.__path__)[0], "cu13"))')
# The layout the rest relies on (CUDA 13 wheels put everything under nvidia/cu13).
for want in lib/libnvrtc.so.13 include/cuda_fp16.h bin/ptxas; do
  [[ -e $cu/$want ]] || { echo "cuda.sh: $cu/$want missing; the wheel layout changed" >&2; exit 1; }
done
compgen -G "$cu/lib/libnvrtc-builtins.so.*" >/dev/null || { echo "cuda.sh: libnvrtc-builtins missing" >&2; exit 1; }
export LD_LIBRARY_PATH="$cu/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export CUDA_INCLUDE_DIRS="$cu/include"
"$cu/bin/ptxas" --version | tail -1

step "every kernel compiles with NVRTC for sm_80 and sm_90"
ptxdir=target/cuda-ptx
rm -rf "$ptxdir"
NEURITE_REQUIRE_NVRTC=1 NEURITE_PTX_DUMP="$ptxdir" cargo test --features cuda --test cuda nvrtc::
compgen -G "$ptxdir/*.ptx" >/dev/null || { echo "cuda.sh: no PTX was written to $ptxdir" >&2; exit 1; }

step "ptxas -v: registers and spills per kernel"
report="$ptxdir/ptxas-report.tsv"
: >"$report"
for ptx in "$ptxdir"/*.ptx; do
  arch=${ptx%.ptx}
  arch=${arch##*.}
  "$cu/bin/ptxas" -v --gpu-name "$arch" "$ptx" -o /dev/null 2>&1 |
    awk -v arch="$arch" '
      /Compiling entry function/ { name = $7; gsub(/\047/, "", name) }
      /spill stores/ { stack = $1; stores = $5; loads = $9 }
      /Used [0-9]+ registers/ { print name "\t" arch "\t" $5 "\t" stores "\t" loads "\t" stack }
    ' >>"$report"
done
sort -o "$report" "$report"
kernels=$(wc -l <"$report")
spilling=$(awk -F'\t' '$4 != 0 || $5 != 0' "$report")
awk -F'\t' '$3 > max[$2] { max[$2] = $3; k[$2] = $1 }
  END { for (a in max) printf "%s: at most %d registers per thread (%s)\n", a, max[a], k[a] }' "$report"
# The table docs/GPU.md carries: registers per architecture, spill and stack bytes.
awk -F'\t' '{ regs[$1, $2] = $3; spill[$1] += $4 + $5; stack[$1] += $6; names[$1] = 1 }
  END { print "| kernel | sm_80 registers | sm_90 registers | spill bytes | stack bytes |";
        print "|---|---|---|---|---|";
        for (n in names) printf "| `%s` | %s | %s | %d | %d |\n", n, regs[n, "sm_80"], regs[n, "sm_90"], spill[n], stack[n] }' "$report" |
  { read -r h1; read -r h2; printf '%s\n%s\n' "$h1" "$h2"; sort; } >"$ptxdir/ptxas-report.md"
echo "$kernels kernel builds assembled; tables in $report and $ptxdir/ptxas-report.md"
stacked=$(awk -F'\t' '$6 != 0 { print $1 " (" $2 "): " $6 " bytes" }' "$report")
[[ -z $stacked ]] || printf 'cuda.sh: note: kernels with a stack frame (local memory):\n%s\n' "$stacked"
if [[ -n $spilling ]]; then
  printf 'cuda.sh: kernels spill registers:\n%s\n' "$spilling" >&2
  exit 1
fi

# The test crates whose code differs with the feature (CUDA variants, device
# discovery, device moves); the others build the same code as the CPU run
# below and are not built a second time. On a GPU machine the bundle of
# ../shared/gpu runs every suite with the feature.
step "tests whose code depends on --features cuda"
cargo test --features cuda --lib --test cuda --test parity --test core --test data --test checkpoint

step "done"
echo "cuda.sh: all CUDA checks passed in ${SECONDS}s"
