#!/usr/bin/env bash
# The 13B-class run on a GPU machine (issue 12 part 5): CUDA, PyTorch and Python there, no Node,
# no compiler, no downloads. First, HERE: `bash bench/gpu/prepare-serve.sh`. Then on the device:
#   run(command="OUT=$OUT bash bench/gpu/run-serve.sh", carry=["native/build-gpu-serve"])
# Carry (native/build-gpu-serve, <= 64 MiB, checked by prepare-serve.sh): selectn.node (addon with
# the CUDA backend), selectn-engine-bench, lib.tar.xz (OpenBLAS), selectn.mjs (the CLI bundled),
# node.xz (Node, compressed), trace.json (the serving bench's seeded trace).
# Steps, each bounded by `timeout`; PARTS picks them (default "checkpoint engine serve"; a run is
# limited to 10 minutes, so on a cold machine run "checkpoint engine" and "serve" as two calls):
#   checkpoint  seeded random LLaMA-13B-shaped fp16 checkpoint (40 x 5120, 26 GB) with PyTorch
#   engine      selectn-engine-bench on the CUDA backend (decode at batch 1, 8, 32; prefill at 512
#               and 2,048 tokens) and transformers' LlamaForCausalLM (fp16, sdpa, KV cache) alike
#   serve       `selectn serve --device cuda --device-memory 40GiB` under each policy, the trace
#               replayed over HTTP (bench/gpu/replay_trace.py)
# Writes $OUT/engine-cuda-h200.json and $OUT/serve-cuda-h200.json (copy them to bench/results/).
set -uo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
carry="$repo/native/build-gpu-serve"
out="${OUT:-$repo/bench/results/gpu-serve}"
work="${WORK:-/tmp/selectn-gpu-serve}"
model="${MODEL:-$work/llama-13b-fp16}"
# DEVICE=cpu MODEL=<a tiny checkpoint> DEVICE_MEMORY=8MiB checks this script without a GPU.
device="${DEVICE:-cuda}"
py="${PYTHON:-python3}"
parts="${PARTS:-checkpoint engine serve}"
policies="${POLICIES:-select-n no-offload fixed-n-4 full-streaming}"
slo_ttft="${SLO_TTFT_MS:-2000}" slo_tpot="${SLO_TPOT_MS:-100}"
device_memory="${DEVICE_MEMORY:-40GiB}" # the H200 standing in for an A100-40GB
mkdir -p "$out" "$work"
for f in selectn.node selectn-engine-bench lib.tar.xz selectn.mjs node.xz trace.json; do
  if [[ ! -f "$carry/$f" ]]; then
    echo "run-serve.sh: missing $carry/$f: run bench/gpu/prepare-serve.sh here and carry native/build-gpu-serve" | tee "$out/error.txt"
    exit 1
  fi
done
[[ -x "$work/node" ]] || { xz -dc "$carry/node.xz" > "$work/node" && chmod +x "$work/node"; }
[[ -d "$work/lib" ]] || tar -C "$work" -xJf "$carry/lib.tar.xz"
# cuBLAS and the CUDA runtime come from the NVIDIA wheels PyTorch brought.
nv="$("$py" - <<'PY'
import glob, os
import nvidia
for base in nvidia.__path__:
    for lib in sorted(glob.glob(os.path.join(base, "cu1*", "lib"))) + sorted(glob.glob(os.path.join(base, "*", "lib"))):
        if glob.glob(os.path.join(lib, "libcublas.so*")) or glob.glob(os.path.join(lib, "libcudart.so*")):
            print(lib)
PY
)"
export LD_LIBRARY_PATH="$work/lib:$(echo "$nv" | paste -sd:):${LD_LIBRARY_PATH:-}"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader > "$out/gpu.txt" 2>&1
echo "gpu: $(cat "$out/gpu.txt")"

if [[ " $parts " == *" checkpoint "* && ! -f "$model/config.json" ]]; then
  echo "== checkpoint"
  timeout 400 "$py" "$repo/bench/gpu/make_checkpoint.py" --out "$model.tmp" > "$out/checkpoint.json" &&
    mv "$model.tmp" "$model"
  cat "$out/checkpoint.json"
fi
[[ -f "$model/config.json" ]] || { echo "no checkpoint at $model (PARTS needs checkpoint)" | tee "$out/error.txt"; exit 1; }

if [[ " $parts " == *" engine "* ]]; then
  echo "== engine vs PyTorch"
  bench="$carry/selectn-engine-bench"
  for b in 1 8 32; do
    timeout 150 "$bench" --backend "$device" --model "$model" --prompt 128 --decode 64 --batch "$b" \
      --interval 0 --budget-mib 120000 > "$out/engine-decode-b$b.json" 2> "$out/engine-decode-b$b.err"
  done
  for p in 512 2048; do
    timeout 150 "$bench" --backend "$device" --model "$model" --prompt "$p" --decode 1 --batch 1 \
      --interval 0 --budget-mib 120000 > "$out/engine-prefill-p$p.json" 2> "$out/engine-prefill-p$p.err"
  done
  timeout 300 "$py" "$repo/bench/gpu/torch_hf_bench.py" "$model" --prefill 512,2048 --batch 1,8,32 \
    --decode-prompt 128 --decode 64 --device "$device" > "$out/torch.json" 2> "$out/torch.err"
  "$py" "$repo/bench/gpu/collect_results.py" engine "$out" "$model"
fi

if [[ " $parts " == *" serve "* ]]; then
  echo "== serve"
  http_ok() { "$py" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' "$1" 2> /dev/null; }
  port=18000
  for policy in $policies; do
    log="$out/serve-$policy.log"
    SELECTN_NATIVE_ADDON="$carry/selectn.node" "$work/node" "$carry/selectn.mjs" serve \
      --model "$model" --model-name llama-13b --device "$device" --device-memory "$device_memory" --policy "$policy" \
      --port "$port" --slo-ttft-ms "$slo_ttft" --slo-tpot-ms "$slo_tpot" --max-num-seqs 64 \
      --log-level info > "$log" 2>&1 &
    pid=$!
    ready=0
    for _ in $(seq 240); do
      if http_ok "http://127.0.0.1:$port/ready"; then ready=1; break; fi
      kill -0 "$pid" 2> /dev/null || break
      sleep 1
    done
    if ((ready)); then
      timeout 300 "$py" "$repo/bench/gpu/replay_trace.py" --url "http://127.0.0.1:$port" \
        --model llama-13b --trace "$carry/trace.json" --policy "$policy" \
        --slo-ttft-ms "$slo_ttft" --slo-tpot-ms "$slo_tpot" > "$out/replay-$policy.json"
      "$py" -c 'import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1]).read().decode())' \
        "http://127.0.0.1:$port/metrics" > "$out/metrics-$policy.txt"
    elif kill -0 "$pid" 2> /dev/null; then
      echo "{\"policy\": \"$policy\", \"error\": \"not ready within 240 s\"}" > "$out/replay-$policy.json"
    else
      echo "{\"policy\": \"$policy\", \"error\": \"start-up failed (serve-$policy.log)\"}" > "$out/replay-$policy.json"
    fi
    kill -TERM "$pid" 2> /dev/null
    wait "$pid"
    tail -n 2 "$log"
    port=$((port + 1))
  done
  "$py" "$repo/bench/gpu/collect_results.py" serve "$out" "$model" "$carry/trace.json" $policies
fi
ls -la "$out"
