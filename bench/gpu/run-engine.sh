#!/usr/bin/env bash
# GPU engine benchmark (run on the GPU machine; no Node, no downloads; PyTorch present).
# Uses the build carried from bench/gpu/prepare-engine.sh (native/build-gpu). Writes to $OUT:
#   cuda-golden.txt    the CUDA golden test (tiny fixtures vs PyTorch logits, every N)
#   torch.json         self-contained PyTorch Llama (fp32, TF32 off) prefill/decode + per-layer ms
#   engine-n*.json     our engine on the CUDA backend, N = 0 (resident), 4, 2 (every N-th offloaded)
#   engine-gpu.json    everything above in one object, GPU named
set -uo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
out="${OUT:-$repo/bench/results/gpu}"
mkdir -p "$out"
build="$repo/native/build-gpu"
py="${PYTHON:-python3}"
nv="$("$py" - <<'PY'
import glob, os
import nvidia
for base in nvidia.__path__:
    for lib in sorted(glob.glob(os.path.join(base, "cu1*", "lib"))) + sorted(glob.glob(os.path.join(base, "*", "lib"))):
        if glob.glob(os.path.join(lib, "libcublas.so*")):
            print(lib)
PY
)"
export LD_LIBRARY_PATH="$build/lib:$(echo "$nv" | paste -sd:):${LD_LIBRARY_PATH:-}"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > "$out/gpu.txt" 2>&1
if [[ ! -x "$build/engine/selectn-engine-bench" ]]; then
  echo "missing $build/engine/selectn-engine-bench: run bench/gpu/prepare-engine.sh and carry native/build-gpu" | tee "$out/error.txt"
  exit 1
fi
(cd "$repo/native/build-gpu" && timeout 120 ./engine/selectn_engine_tests --gtest_filter='CudaGolden.*:Golden.Single*') \
  > "$out/cuda-golden.txt" 2>&1
echo "golden rc=$?" >> "$out/cuda-golden.txt"
model="/tmp/selectn-gpu-bench-model"
timeout 240 "$py" "$repo/bench/gpu/torch_llama.py" make "$model" || { echo "model generation failed" > "$out/error.txt"; exit 1; }
P=512 D=64
timeout 120 "$py" "$repo/bench/gpu/torch_llama.py" bench "$model" $P $D 1 > "$out/torch.json" 2> "$out/torch.err"
for n in 0 4 2; do
  timeout 120 "$build/engine/selectn-engine-bench" --backend cuda --model "$model" --prompt $P --decode $D \
    --interval $n --budget-mib 20000 > "$out/engine-n$n.json" 2> "$out/engine-n$n.err"
done
"$py" - "$out" <<'PY'
import json, os, sys
d = sys.argv[1]
def rd(f):
    try:
        return json.load(open(os.path.join(d, f)))
    except Exception as e:
        return {"error": str(e)}
t = rd("torch.json")
runs = [rd(f"engine-n{n}.json") for n in (0, 4, 2)]
e0 = runs[0]
res = {"benchmark": "engine-gpu", "command": "bash bench/gpu/run-engine.sh",
       "gpu": open(os.path.join(d, "gpu.txt")).read().strip(),
       "model": "random Llama 855M params fp32 (hidden 2048, 16 layers, GQA 32/8, ffn 5632)",
       "torch": t, "engine": runs}
if "decodeTokensPerSecond" in t and "decodeTokensPerSecond" in e0:
    res["decodeRatioVsTorch"] = e0["decodeTokensPerSecond"] / t["decodeTokensPerSecond"]
    res["prefillRatioVsTorch"] = e0["prefillTokensPerSecond"] / t["prefillTokensPerSecond"]
json.dump(res, open(os.path.join(d, "engine-gpu.json"), "w"), indent=2)
print(json.dumps({k: res.get(k) for k in ("gpu", "decodeRatioVsTorch", "prefillRatioVsTorch")}))
PY
tail -n 3 "$out/cuda-golden.txt"
