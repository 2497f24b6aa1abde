#!/usr/bin/env bash
# CPU engine benchmark: our engine vs PyTorch (transformers) on the same ~336M-parameter random
# Llama, same machine, same thread count, one run each; then decode with every N-th layer
# offloaded through the runtime's copy engine with copy pacing, against the planner's prediction.
# Writes bench/results/engine-cpu.json. Needs the Python venv of test/fixtures/requirements.txt.
#   bash bench/engine/run.sh            (env: THREADS=2 PROMPT=128 DECODE=32 BANDWIDTH_GBPS=4)
# ENGINE_BENCH=path skips the build and uses that selectn-engine-bench binary.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
cache="${SELECTN_CACHE:-$HOME/.cache/selectn}"
py="${PYTHON:-$cache/py-venv/bin/python}"
threads="${THREADS:-2}" prompt="${PROMPT:-128}" decode="${DECODE:-32}" bw="${BANDWIDTH_GBPS:-4}"
model="$cache/bench-model/llama-336m"
out="$repo/bench/results/engine-cpu.json"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

if [[ ! -x "$py" ]]; then
  python3 -m venv "$cache/py-venv"
  "$cache/py-venv/bin/pip" install -q -r "$repo/test/fixtures/requirements.txt"
fi
bench="${ENGINE_BENCH:-$repo/native/build/engine/selectn-engine-bench}"
[[ -n "${ENGINE_BENCH:-}" ]] || bash "$repo/native/scripts/build.sh"
"$py" "$repo/bench/engine/make_model.py" "$model"

load_before="$(cut -d' ' -f1 /proc/loadavg)"
"$bench" --model "$model" --threads "$threads" --prompt "$prompt" --decode "$decode" > "$work/engine-n0.json"
OMP_NUM_THREADS="$threads" "$py" "$repo/bench/engine/torch_bench.py" "$model" "$threads" "$prompt" "$decode" \
  2>/dev/null | tail -n 1 > "$work/torch.json"
# Offloading: one GEMM thread, so the copy engine's thread has a core of its own (as a GPU's copy
# engine does); baseline N=0 at the same thread count feeds the planner's per-layer compute times.
for n in 0 1 2 4 8; do
  "$bench" --model "$model" --threads 1 --prompt "$prompt" --decode "$decode" --interval "$n" \
    --bandwidth-gbps "$bw" > "$work/offload-n$n.json"
done
load_after="$(cut -d' ' -f1 /proc/loadavg)"
"$repo/node_modules/.bin/node" "$repo/bench/engine/report.ts" "$work" "$out" \
  "{\"threads\":$threads,\"bandwidthGbps\":$bw,\"loadAvgBefore\":$load_before,\"loadAvgAfter\":$load_after}"
cat "$out"
