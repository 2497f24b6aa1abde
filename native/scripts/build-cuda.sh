#!/usr/bin/env bash
# Builds the runtime, tests and selectn-bench with the CUDA backend in native/build-cuda, against
# the CUDA 13 wheels installed by install-cuda.sh (or SELECTN_CUDA_ROOT / CUDA_HOME if set).
# Compiles and links without a GPU; the CUDA tests skip with a message where none is present.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
root="${SELECTN_CUDA_ROOT:-}"
if [[ -z "$root" ]]; then root="$("$here/scripts/install-cuda.sh")"; fi
jobs="${SELECTN_JOBS:-2}"
gen=(); command -v ninja >/dev/null && gen=(-G Ninja)
nice cmake -S "$here" -B "$here/build-cuda" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release \
  -DSELECTN_CUDA=ON -DSELECTN_CUDA_ROOT="$root" -DSELECTN_WERROR=ON \
  -DCMAKE_CUDA_ARCHITECTURES="${SELECTN_CUDA_ARCHS:-80;90}" \
  -DSELECTN_ENGINE="${SELECTN_ENGINE:-ON}" >/dev/null
nice cmake --build "$here/build-cuda" -j "$jobs" --target selectn_runtime selectn_runtime_tests selectn-bench \
  $([[ "${SELECTN_ENGINE:-ON}" == ON ]] && echo selectn_engine_tests)
echo "cuda build: $here/build-cuda (toolkit $root)"
