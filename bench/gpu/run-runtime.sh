#!/usr/bin/env bash
# GPU run of the runtime benchmark (no Node, no network): builds selectn-bench and the runtime
# tests with the CUDA backend, runs the CUDA tests and the benchmark, writes JSON to $OUT.
#   OUT=/some/dir bash bench/gpu/run-runtime.sh        (OUT defaults to ./gpu-out)
# Finds CUDA: $SELECTN_CUDA_ROOT, $CUDA_HOME, /usr/local/cuda, or NVIDIA wheels importable by
# python (site-packages/nvidia/cu13 or cu12: include/cuda_runtime.h + lib/libcudart.so.*).
# Needs cmake and a C++17 compiler; uses ninja when present. Aims for < 5 minutes.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
out="${OUT:-$repo/gpu-out}"
mkdir -p "$out"
log="$out/run-runtime.log"
exec > >(tee -a "$log") 2>&1
echo "== run-runtime.sh $(date -u +%FT%TZ) on $(hostname)"
nvidia-smi --query-gpu=name,memory.total,driver_version,pcie.link.gen.current,pcie.link.width.current \
  --format=csv 2>/dev/null | tee "$out/nvidia-smi.csv" || echo "nvidia-smi not available"

find_root() {
  for cand in "${SELECTN_CUDA_ROOT:-}" "${CUDA_HOME:-}" /usr/local/cuda; do
    if [[ -n "$cand" && -f "$cand/include/cuda_runtime.h" ]] && ls "$cand"/lib*/libcudart.so* >/dev/null 2>&1; then
      echo "$cand"; return 0
    fi
  done
  for py in python3 python; do
    command -v "$py" >/dev/null || continue
    "$py" - <<'PY' 2>/dev/null && return 0
import glob, os, sys
try:
    import nvidia
    paths = list(nvidia.__path__)
except Exception:
    import site
    paths = [os.path.join(p, "nvidia") for p in site.getsitepackages()]
for base in paths:
    for cand in sorted(glob.glob(os.path.join(base, "cu1*")), reverse=True):
        if os.path.exists(os.path.join(cand, "include", "cuda_runtime.h")) and glob.glob(os.path.join(cand, "lib", "libcudart.so*")):
            print(cand); sys.exit(0)
    # CUDA 12 wheels: nvidia/cuda_runtime/{include,lib} and nvidia/cublas/{include,lib}
    rt = os.path.join(base, "cuda_runtime")
    if os.path.exists(os.path.join(rt, "include", "cuda_runtime.h")):
        print(rt); sys.exit(0)
sys.exit(1)
PY
  done
  return 1
}
root="$(find_root)" || { echo "no CUDA toolkit found (set SELECTN_CUDA_ROOT)"; exit 3; }
echo "CUDA root: $root"

# CUDA 12 wheel layout keeps cuBLAS in a sibling package: assemble a merged root if needed.
if [[ ! -f "$root/include/cublas_v2.h" ]]; then
  merged="$out/cuda-root"
  mkdir -p "$merged/include" "$merged/lib"
  for pkg in "$root" "$(dirname "$root")"/cublas "$(dirname "$root")"/cuda_nvrtc; do
    [[ -d "$pkg" ]] || continue
    cp -rs "$pkg"/include/. "$merged/include/" 2>/dev/null || true
    cp -rs "$pkg"/lib/. "$merged/lib/" 2>/dev/null || true
  done
  root="$merged"
  echo "merged CUDA root: $root"
fi
# Unversioned names for the linker where only lib*.so.N exists.
for lib in cudart cublas cublasLt; do
  f="$(ls "$root"/lib/lib$lib.so.* 2>/dev/null | head -1 || true)"
  if [[ -n "$f" && ! -e "$root/lib/lib$lib.so" && -w "$root/lib" ]]; then ln -s "$(basename "$f")" "$root/lib/lib$lib.so"; fi
done
export LD_LIBRARY_PATH="$root/lib:$root/lib64:${LD_LIBRARY_PATH:-}"

build="$out/build-cuda"
gen=(); command -v ninja >/dev/null && gen=(-G Ninja)
cmake -S "$repo/native" -B "$build" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release -DSELECTN_CUDA=ON \
  -DSELECTN_CUDA_ROOT="$root" -DSELECTN_ENGINE=OFF -DSELECTN_BINDING=OFF -DSELECTN_TESTS=ON \
  -DSELECTN_BENCH=ON -DGTest_DIR="${GTest_DIR:-}" >/dev/null \
  || cmake -S "$repo/native" -B "$build" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release -DSELECTN_CUDA=ON \
       -DSELECTN_CUDA_ROOT="$root" -DSELECTN_ENGINE=OFF -DSELECTN_BINDING=OFF -DSELECTN_TESTS=OFF -DSELECTN_BENCH=ON
cmake --build "$build" -j "$(nproc)" --target selectn-bench
if cmake --build "$build" -j "$(nproc)" --target selectn_runtime_tests 2>/dev/null; then
  timeout 120 "$build/tests/selectn_runtime_tests" --gtest_filter='Cuda.*:Runtime.*:Switching.*' \
    --gtest_output="json:$out/runtime-tests-cuda.json" || echo "runtime tests FAILED (see log)"
else
  echo "GoogleTest not available: skipping the C++ tests"
fi

bench="$build/bench/selectn-bench"
# Layers of 64 MiB (about a 7B model's decoder layer in fp16 is ~400 MiB; 64 MiB keeps the run short).
timeout 240 "$bench" --backend cuda --layers 24 --layer-mib 64 --slots 2 --batches 1,16,64 \
  --intervals 0,8,4,3,2,1 --budget-fractions 1,0.5 --iterations 5 --warmup 2 --overlap-rounds 3 \
  --out "$out/runtime-cuda.json"
timeout 60 "$bench" --backend cpu --quick --out "$out/runtime-cpu-on-gpu-host.json" || true
echo "== done: $(ls "$out")"
