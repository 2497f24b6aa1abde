#!/usr/bin/env bash
# One GPU session: the engine benchmark (run-engine.sh) and the runtime benchmark with the binaries
# prebuilt here by bench/gpu/prepare-engine.sh (the GPU machine has no Node and no downloads).
#   run(command="OUT=$OUT bash bench/gpu/run-all.sh", carry=["native/build-gpu"])
set -uo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
out="${OUT:-$repo/bench/results/gpu}"
mkdir -p "$out"
build="$repo/native/build-gpu"
{ nvidia-smi; nvidia-smi topo -m; } > "$out/nvidia-smi.txt" 2>&1
nv="$(python3 - <<'PY'
import glob, os
import nvidia
for base in nvidia.__path__:
    for lib in sorted(glob.glob(os.path.join(base, "cu1*", "lib"))) + sorted(glob.glob(os.path.join(base, "*", "lib"))):
        print(lib)
PY
)"
export LD_LIBRARY_PATH="$build/lib:$(echo "$nv" | paste -sd:):${LD_LIBRARY_PATH:-}"
echo "== runtime tests (CUDA)"
timeout 120 "$build/tests/selectn_runtime_tests" --gtest_output="json:$out/runtime-tests-cuda.json" \
  > "$out/runtime-tests-cuda.txt" 2>&1
echo "runtime tests rc=$?" | tee -a "$out/runtime-tests-cuda.txt"
tail -n 5 "$out/runtime-tests-cuda.txt"
echo "== runtime bench (CUDA)"
timeout 200 "$build/bench/selectn-bench" --backend cuda --layers 24 --layer-mib 64 --slots 2 \
  --batches 1,16,64,256 --intervals 0,8,4,3,2,1 --budget-fractions 1,0.5 --iterations 5 --warmup 2 \
  --overlap-rounds 5 --out "$out/runtime-cuda.json" > "$out/runtime-bench.txt" 2>&1
echo "runtime bench rc=$?"
tail -n 15 "$out/runtime-bench.txt"
echo "== engine"
OUT="$out" bash "$repo/bench/gpu/run-engine.sh" 2>&1 | tail -n 20
ls -la "$out"
