#!/usr/bin/env bash
# Run HERE (the build machine), before bench/gpu/run-engine.sh on the GPU machine: builds the engine
# with CUDA kernels into native/build-gpu (toolkit from native/scripts/install-cuda.sh) and copies
# the OpenBLAS runtime libraries beside it, so the GPU machine needs no compiler and no downloads.
# Then: run(command="bash bench/gpu/run-engine.sh", carry=["native/build-gpu"]).
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
root="${SELECTN_CUDA_ROOT:-$("$repo/native/scripts/install-cuda.sh")}"
"$repo/native/scripts/install-engine-deps.sh"
build="$repo/native/build-gpu"
nice cmake -S "$repo/native" -B "$build" -DCMAKE_BUILD_TYPE=Release -DSELECTN_CUDA=ON \
  -DSELECTN_CUDA_ROOT="$root" -DSELECTN_WERROR=ON -DCMAKE_CUDA_ARCHITECTURES="80;90" >/dev/null
nice cmake --build "$build" -j "${SELECTN_JOBS:-2}" --target selectn-engine-bench selectn_engine_tests selectn-bench selectn_runtime_tests
mkdir -p "$build/lib"
for l in libopenblas.so.0 libgfortran.so.5 libquadmath.so.0; do
  cp -L "$(ldconfig -p | awk -v l="$l" '$1 == l { print $NF; exit }')" "$build/lib/"
done
strip "$build/engine/selectn-engine-bench" "$build/engine/selectn_engine_tests" "$build/bench/selectn-bench" "$build/tests/selectn_runtime_tests" "$build"/lib/*.so* 2>/dev/null || true
du -sh "$build/engine/selectn-engine-bench" "$build/engine/selectn_engine_tests" "$build/lib"
