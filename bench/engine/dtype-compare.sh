#!/usr/bin/env bash
# CPU engine speed by stored weight dtype, before and after: a selectn-engine-bench built from an
# older commit (BASE_BENCH; weights always widened to fp32 at load) against this tree's, on the
# benchmark model of run.sh (fp32 checkpoint; --dtype bfloat16/float16 stores it at half width).
# Rounds alternate the binaries so that machine load hits both alike; medians are reported.
# Writes bench/results/engine-cpu-dtype.json.
#   BASE_BENCH=/path/to/old/selectn-engine-bench bash bench/engine/dtype-compare.sh
#   (env: THREADS=2 PROMPT=128 DECODE=32 ROUNDS=3)
# Build the old binary with: git archive <commit> native | tar -x -C /tmp/base && cmake -S
# /tmp/base/native -B /tmp/base/native/build -DCMAKE_BUILD_TYPE=Release && cmake --build
# /tmp/base/native/build --target selectn-engine-bench
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
cache="${SELECTN_CACHE:-$HOME/.cache/selectn}"
py="${PYTHON:-$cache/py-venv/bin/python}"
threads="${THREADS:-2}" prompt="${PROMPT:-128}" decode="${DECODE:-32}" rounds="${ROUNDS:-3}"
base="${BASE_BENCH:?set BASE_BENCH to a selectn-engine-bench built from the older commit}"
new="${ENGINE_BENCH:-$repo/native/build/engine/selectn-engine-bench}"
model="$cache/bench-model/llama-336m"
out="$repo/bench/results/engine-cpu-dtype.json"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$py" "$repo/bench/engine/make_model.py" "$model"
load_before="$(cut -d' ' -f1 /proc/loadavg)"
for r in $(seq 1 "$rounds"); do
  "$base" --model "$model" --threads "$threads" --prompt "$prompt" --decode "$decode" > "$work/base-float32-$r.json"
  for d in float32 bfloat16 float16; do
    "$new" --model "$model" --threads "$threads" --prompt "$prompt" --decode "$decode" --dtype "$d" > "$work/new-$d-$r.json"
  done
done
load_after="$(cut -d' ' -f1 /proc/loadavg)"
python3 - "$work" "$out" "$threads" "$prompt" "$decode" "$rounds" "$load_before" "$load_after" <<'PY'
import glob, json, os, platform, statistics, sys
work, out, threads, prompt, decode, rounds, lb, la = sys.argv[1:]
def runs(prefix):
    return [json.load(open(p)) for p in sorted(glob.glob(os.path.join(work, prefix + "-*.json")))]
def summary(rs):
    return {
        "dtype": rs[0].get("dtype", "float32"),
        "layerBytes": rs[0]["layerBytes"],
        "prefillTokensPerSecond": round(statistics.median(r["prefillTokensPerSecond"] for r in rs), 3),
        "decodeTokensPerSecond": round(statistics.median(r["decodeTokensPerSecond"] for r in rs), 3),
        "decodeRuns": [r["decodeTokensPerSecond"] for r in rs],
        "prefillRuns": [r["prefillTokensPerSecond"] for r in rs],
    }
base = summary(runs("base-float32"))
new = {d: summary(runs("new-" + d)) for d in ("float32", "bfloat16", "float16")}
result = {
    "benchmark": "engine-cpu-dtype",
    "command": "BASE_BENCH=<selectn-engine-bench of the previous commit> bash bench/engine/dtype-compare.sh",
    "model": "random Llama of bench/engine/make_model.py (336M params, fp32 checkpoint)",
    "machine": {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
                "threads": int(threads), "loadAvgBefore": float(lb), "loadAvgAfter": float(la)},
    "promptTokens": int(prompt), "decodeSteps": int(decode), "batch": 1, "rounds": int(rounds),
    "before": base,
    "after": new,
    "decodeRatioVsBefore": {d: round(new[d]["decodeTokensPerSecond"] / base["decodeTokensPerSecond"], 3) for d in new},
    "prefillRatioVsBefore": {d: round(new[d]["prefillTokensPerSecond"] / base["prefillTokensPerSecond"], 3) for d in new},
}
json.dump(result, open(out, "w"), indent=2)
print(json.dumps(result, indent=2))
PY
