#!/usr/bin/env bash
# CUDA checks for a machine without a GPU (called by .ci/run):
#   1. build and clippy with --features cuda (no CUDA needed to build);
#   2. NVRTC 12.9 and 13.0, the CUDA runtime headers and ptxas from PyPI into cached
#      venvs, then compile every kernel in kernels/ with each NVRTC for sm_80, 86, 89,
#      90, 100 and 120 (failing if an NVRTC cannot be loaded or lacks one of them)
#      and run `ptxas -v` on all the PTX: registers per kernel, no spills;
#   3. scripts/test-gpu-run: the docs/GPU.md recording of scripts/gpu-run, on fake results;
#   4. the emulated CUDA suite (.ci/emulated-cuda.sh): the suites whose code depends on
#      --features cuda, with every CUDA variant run on the emulated device.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never

# The architectures every kernel is compiled and assembled for (the same list
# as CI_ARCHS in tests/cuda/nvrtc.rs, which compiles for them).
CI_ARCHS="80 86 89 90 100 120"
step() { printf '\n=== cuda: %s (%ss) ===\n' "$*" "$SECONDS"; }

step "build --features cuda"
cargo build --features cuda

step "clippy --all-targets --features cuda"
cargo clippy --all-targets --features cuda -- -D warnings

step "scripts/gpu-run records runs correctly and refuses without a GPU"
bash scripts/test-gpu-run

source .ci/cuda-wheels.sh

step "NVRTC $CUDA_PIP_VERSION and $NVRTC12_PIP_VERSION from PyPI (cached venvs)"
cuda_wheels
"$cu/bin/ptxas" --version | tail -1

step "every kernel compiles with NVRTC 12.9 and 13.0 for sm_${CI_ARCHS// /, sm_}"
ptxdir=target/cuda-ptx
rm -rf "$ptxdir"
# One run per NVRTC. cudarc dlopens libnvrtc.so, .so.13, .so.12, ... by name,
# so LD_LIBRARY_PATH holding only one wheel's folder selects that NVRTC, and
# NEURITE_EXPECT_NVRTC makes the test fail if another one was loaded anyway.
for run in "12.9 $lib12" "13.0 $cu/lib"; do
  read -r version lib <<<"$run"
  echo "--- NVRTC $version from $lib"
  LD_LIBRARY_PATH="$lib" NEURITE_EXPECT_NVRTC="$version" NEURITE_REQUIRE_NVRTC=1 NEURITE_PTX_DUMP="$ptxdir" \
    cargo test --features cuda --test cuda nvrtc::
done
nptx=$(compgen -G "$ptxdir/*.ptx" | wc -l)
nfam=$(ls kernels/*.cu | wc -l)
want=$((nfam * 2 * $(wc -w <<<"$CI_ARCHS")))
((nptx == want)) || { echo "cuda.sh: $nptx PTX files in $ptxdir, expected $want ($nfam families x 2 NVRTCs x 6 archs)" >&2; exit 1; }

step "ptxas -v: registers and spills per kernel, NVRTC and architecture"
report="$ptxdir/ptxas-report.tsv"
# One ptxas per PTX file, as many at once as there are cores; each writes
# `kernel nvrtc arch registers spill-stores spill-loads stack` rows and fails
# unless it reports as many kernels as the PTX has entries (so a change in
# ptxas's wording cannot make the table, and the spill check, silently short).
assemble() {
  local ptx=$1 base arch nvrtc out
  base=${ptx##*/}
  arch=${base%.ptx}
  arch=${arch##*.}
  nvrtc=${base#*.nvrtc}
  nvrtc=${nvrtc%%.sm_*}
  out=$("$PTXAS" -v --gpu-name "$arch" "$ptx" -o /dev/null 2>&1) || { printf 'ptxas failed on %s:\n%s\n' "$ptx" "$out" >&2; return 1; }
  awk -v arch="$arch" -v nvrtc="$nvrtc" '
      /Compiling entry function/ { name = $7; gsub(/\047/, "", name) }
      /spill stores/ { stack = $1; stores = $5; loads = $9 }
      /Used [0-9]+ registers/ { print name "\t" nvrtc "\t" arch "\t" $5 "\t" stores "\t" loads "\t" stack }
    ' <<<"$out" >"$ptx.tsv"
  local entries rows
  entries=$(grep -c '^\.\(visible \)\?\.entry ' "$ptx")
  rows=$(wc -l <"$ptx.tsv")
  ((entries == rows)) || { echo "cuda.sh: $ptx has $entries kernels but ptxas -v reported $rows" >&2; return 1; }
}
export -f assemble
export PTXAS="$cu/bin/ptxas"
printf '%s\n' "$ptxdir"/*.ptx | xargs -P "$(nproc)" -I{} bash -c 'assemble "$1"' _ {}
sort "$ptxdir"/*.ptx.tsv >"$report"
rm -f "$ptxdir"/*.ptx.tsv
spilling=$(awk -F'\t' '$5 != 0 || $6 != 0' "$report")
awk -F'\t' '$4 > max[$2 " " $3] { max[$2 " " $3] = $4; k[$2 " " $3] = $1 }
  END { for (a in max) printf "NVRTC %s: at most %d registers per thread (%s)\n", a, max[a], k[a] }' "$report" | sort -V
# The table docs/GPU.md carries: a column per architecture; a cell is the
# register count, or "NVRTC 12.9's / NVRTC 13.0's" where the two differ.
awk -F'\t' -v archs="$CI_ARCHS" '
  { regs[$1, $2, $3] = $4; spill[$1] += $5 + $6; stack[$1] += $7; names[$1] = 1; nv[$2] = 1 }
  END {
    n = split(archs, a, " "); m = 0
    for (v in nv) vs[++m] = v
    if (m == 2 && vs[1] + 0 > vs[2] + 0) { t = vs[1]; vs[1] = vs[2]; vs[2] = t }
    printf "| kernel |"; for (i = 1; i <= n; i++) printf " sm_%s |", a[i]; print " spill bytes | stack bytes |"
    printf "|---|"; for (i = 1; i <= n; i++) printf "---|"; print "---|---|"
    for (k in names) {
      printf "| `%s` |", k
      for (i = 1; i <= n; i++) {
        cell = regs[k, vs[1], "sm_" a[i]]
        for (j = 2; j <= m; j++) if (regs[k, vs[j], "sm_" a[i]] != regs[k, vs[1], "sm_" a[i]]) cell = cell " / " regs[k, vs[j], "sm_" a[i]]
        printf " %s |", cell
      }
      printf " %d | %d |\n", spill[k], stack[k]
    }
  }' "$report" |
  { read -r h1; read -r h2; printf '%s\n%s\n' "$h1" "$h2"; sort; } >"$ptxdir/ptxas-report.md"
echo "$(wc -l <"$report") kernel builds assembled from $nptx PTX files; tables in $report and $ptxdir/ptxas-report.md"
stacked=$(awk -F'\t' '$7 != 0 { print $1 " (NVRTC " $2 ", " $3 "): " $7 " bytes" }' "$report")
[[ -z $stacked ]] || printf 'cuda.sh: note: kernels with a stack frame (local memory):\n%s\n' "$stacked"
if [[ -n $spilling ]]; then
  printf 'cuda.sh: kernels spill registers:\n%s\n' "$spilling" >&2
  exit 1
fi

# The suites whose code differs with the feature (CUDA variants, device
# discovery, device moves), with every CUDA variant on the emulated device; the
# others build the same code as the CPU run of .ci/run and are not built again.
step "the emulated CUDA suite (.ci/emulated-cuda.sh)"
bash .ci/emulated-cuda.sh

step "done"
echo "cuda.sh: all CUDA checks passed in ${SECONDS}s"
