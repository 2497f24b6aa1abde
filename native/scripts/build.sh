#!/usr/bin/env bash
# Release build of native/ in native/build: runtime, engine (when present), tests, selectn-bench
# and the Node addon native/build/selectn.node. Incremental; at most 2 jobs, niced.
# The CUDA backend (runtime + engine kernels) is compiled and linked in whenever a CUDA toolkit is
# found: SELECTN_CUDA_ROOT, CUDA_HOME, /usr/local/cuda, or the PyPI wheels that
# native/scripts/install-cuda.sh installed. The addon still loads and runs the CPU backend where no
# GPU or driver is present (libcudart opens libcuda only when first asked for a device).
#   SELECTN_ENGINE=OFF  skip engine/        SELECTN_JOBS=N  parallel jobs (default 2)
#   SELECTN_CUDA=OFF    never build CUDA    SELECTN_CUDA=ON  fail unless a toolkit is found
#   SELECTN_CUDA_ARCHS  GPU architectures (default "80;90": A100, H100/H200)
#   SELECTN_BUILD_DIR   build folder (default native/build)
#   SELECTN_TARGET      build only this target (e.g. selectn_node, the addon)
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
repo="$(cd "$here/.." && pwd)"
jobs="${SELECTN_JOBS:-2}"
engine="${SELECTN_ENGINE:-ON}"
build="${SELECTN_BUILD_DIR:-$here/build}"
cuda_mode="${SELECTN_CUDA:-auto}"
if [[ "$engine" == ON && -x "$here/scripts/install-engine-deps.sh" ]]; then
  "$here/scripts/install-engine-deps.sh"
fi

# A toolkit counts when it has the runtime headers, libcudart, libcublas and nvcc.
is_toolkit() {
  [[ -n "$1" && -f "$1/include/cuda_runtime.h" && -x "$1/bin/nvcc" ]] &&
    compgen -G "$1/lib*/libcublas.so*" >/dev/null && compgen -G "$1/lib*/libcudart.so*" >/dev/null
}
find_toolkit() {
  local cand
  for cand in "${SELECTN_CUDA_ROOT:-}" "${CUDA_HOME:-}" /usr/local/cuda; do
    if is_toolkit "$cand"; then echo "$cand"; return; fi
  done
  # The wheels count once installed; installing them is install-cuda.sh's job (test.sh runs it).
  if [[ -f "${SELECTN_CACHE:-$HOME/.cache/selectn}/cuda-venv/.selectn-installed-v1" ]]; then
    cand="$("$here/scripts/install-cuda.sh")"
    if is_toolkit "$cand"; then echo "$cand"; fi
  fi
}
cuda=(-DSELECTN_CUDA=OFF)
if [[ "$cuda_mode" != OFF ]]; then
  root="$(find_toolkit)"
  if [[ -n "$root" ]]; then
    cuda=(-DSELECTN_CUDA=ON -DSELECTN_CUDA_ROOT="$root" -DCMAKE_CUDA_COMPILER="$root/bin/nvcc"
      -DCMAKE_CUDA_ARCHITECTURES="${SELECTN_CUDA_ARCHS:-80;90}")
  elif [[ "$cuda_mode" == ON ]]; then
    echo "build.sh: SELECTN_CUDA=ON but no CUDA toolkit found (run native/scripts/install-cuda.sh)" >&2
    exit 2
  fi
fi

gen=(); command -v ninja >/dev/null && gen=(-G Ninja)
nice cmake -S "$here" -B "$build" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release -DSELECTN_WERROR=ON \
  -DSELECTN_BINDING=ON -DSELECTN_NODE_ROOT="$repo" -DSELECTN_ENGINE="$engine" "${cuda[@]}" >/dev/null
target=(); [[ -n "${SELECTN_TARGET:-}" ]] && target=(--target "$SELECTN_TARGET")
nice cmake --build "$build" -j "$jobs" "${target[@]}"
