# The CUDA wheels CI uses, pinned, in cached venvs (sourced by .ci/cuda.sh and
# .ci/emulated-cuda.sh). `cuda_wheels` installs them when their stamps are absent
# and sets: cu (the CUDA 13 wheels' nvidia/cu13 folder) and lib12 (the folder of
# NVRTC 12's libnvrtc.so.12).

# Pinned wheels. CUDA 13: NVRTC, the runtime headers and nvcc (for ptxas), one
# release for all three (they must match). CUDA 12: NVRTC only, the newest 12.x
# on PyPI, which (like 12.8) targets sm_100 and sm_120; the kernels include no
# header and ptxas 13.0 assembles PTX from NVRTC 12.9 too (PTX ISA 8.8 is older
# than ptxas 13.0's 9.0), so neither the 12.x runtime nor its nvcc is needed.
CUDA_PIP_VERSION=13.0.88
NVRTC12_PIP_VERSION=12.9.86
cache="${XDG_CACHE_HOME:-$HOME/.cache}/neurite-ci"
# cached_venv DIR STAMP PACKAGE...: a venv holding exactly the pinned PACKAGEs,
# reinstalled from scratch only when its stamp (named after the pins) is absent,
# so changing a pin rebuilds it and an interrupted install is never reused.
cached_venv() {
  local venv=$1 stamp=$1/.installed-$2
  shift 2
  if [[ -f $stamp ]]; then
    echo "reusing $venv"
    return
  fi
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$@"
  touch "$stamp"
}
site_nvidia() { "$1/bin/python" -c 'import nvidia, os; print(list(nvidia.__path__)[0])'; }

cuda_wheels() {
  venv="$cache/cuda-venv"
  cached_venv "$venv" "$CUDA_PIP_VERSION" \
    "nvidia-cuda-nvrtc==$CUDA_PIP_VERSION" \
    "nvidia-cuda-runtime==$CUDA_PIP_VERSION" \
    "nvidia-cuda-nvcc==$CUDA_PIP_VERSION"
  venv12="$cache/nvrtc12-venv"
  cached_venv "$venv12" "$NVRTC12_PIP_VERSION" "nvidia-cuda-nvrtc-cu12==$NVRTC12_PIP_VERSION"
  cu=$(site_nvidia "$venv")/cu13
  lib12=$(site_nvidia "$venv12")/cuda_nvrtc/lib
  # The layouts the rest relies on: CUDA 13 wheels put everything under
  # nvidia/cu13, the CUDA 12 NVRTC wheel under nvidia/cuda_nvrtc.
  for want in "$cu"/lib/libnvrtc.so.13 "$cu"/include/cuda_fp16.h "$cu"/bin/ptxas "$lib12"/libnvrtc.so.12; do
    [[ -e $want ]] || { echo "cuda.sh: $want missing; the wheel layout changed" >&2; exit 1; }
  done
  for lib in "$cu/lib" "$lib12"; do
    compgen -G "$lib/libnvrtc-builtins.so.*" >/dev/null || { echo "cuda.sh: libnvrtc-builtins missing in $lib" >&2; exit 1; }
  done
}
