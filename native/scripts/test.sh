#!/usr/bin/env bash
# Native test suite: the Release build's ctest, the whole suite again under AddressSanitizer +
# UndefinedBehaviorSanitizer (native/build-asan), and the copy-engine/threading tests under
# ThreadSanitizer (native/build-tsan). Build dirs are cached (gitignored). Prints ctest summaries.
#   SELECTN_SANITIZERS=0 skips the sanitizer builds; SELECTN_ENGINE=OFF skips engine/.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
jobs="${SELECTN_JOBS:-2}"
engine="${SELECTN_ENGINE:-ON}"
gen=(); command -v ninja >/dev/null && gen=(-G Ninja)

# The CUDA backend (runtime, engine kernels and the addon) is compiled and linked into native/build
# against the CUDA 13 wheels, installed here first; without a GPU its tests skip with a message and
# the addon runs the CPU backend. SELECTN_CUDA_BUILD=0 builds native/build without CUDA.
if [[ "${SELECTN_CUDA_BUILD:-1}" != 0 ]]; then
  "$here/scripts/install-cuda.sh" >/dev/null
  SELECTN_CUDA=ON "$here/scripts/build.sh"
else
  SELECTN_CUDA=OFF "$here/scripts/build.sh"
fi
(cd "$here/build" && ctest --output-on-failure --timeout 600)

if [[ "${SELECTN_SANITIZERS:-1}" != 0 ]]; then
  nice cmake -S "$here" -B "$here/build-asan" "${gen[@]}" -DCMAKE_BUILD_TYPE=Debug -DSELECTN_WERROR=ON \
    -DSELECTN_SANITIZE=address,undefined -DSELECTN_BENCH=OFF -DSELECTN_ENGINE="$engine" >/dev/null
  nice cmake --build "$here/build-asan" -j "$jobs"
  (cd "$here/build-asan" && ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
     UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure --timeout 900)

  nice cmake -S "$here" -B "$here/build-tsan" "${gen[@]}" -DCMAKE_BUILD_TYPE=Debug -DSELECTN_WERROR=ON \
    -DSELECTN_SANITIZE=thread -DSELECTN_BENCH=OFF -DSELECTN_ENGINE=OFF >/dev/null
  nice cmake --build "$here/build-tsan" -j "$jobs" --target selectn_copy_engine_tests
  # TSan needs the narrower mmap layout of older kernels; setarch -R disables ASLR for it.
  (cd "$here/build-tsan" && TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
     setarch "$(uname -m)" -R ctest --output-on-failure --timeout 600 -R selectn_copy_engine_tests)
fi
