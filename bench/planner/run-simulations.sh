#!/usr/bin/env bash
# Regenerates the policy comparisons in bench/results/ (JSON + SVG) and prints the README table.
# Usage (from the repository root): bench/planner/run-simulations.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
out=bench/results
run() {
  local name=$1
  shift
  npx selectn simulate "$@" --include-smallest-rule --json --plot "$out/simulate-$name.svg" >"$out/simulate-$name.json"
  echo "wrote $out/simulate-$name.json"
}
run llama-13b-a100-40gb --model llama-13b --gpu a100-40gb --slo-ttft-ms 2000 --slo-tpot-ms 100 \
  --trace poisson --rate 4 --requests 600 --seed 1
run opt-13b-a100-40gb --model opt-13b --gpu a100-40gb --slo-ttft-ms 2000 --slo-tpot-ms 100 \
  --trace poisson --rate 4 --requests 600 --seed 1
run llama-13b-l4 --model llama-13b --gpu l4 --slo-ttft-ms 10000 --slo-tpot-ms 600 \
  --trace poisson --rate 0.1 --requests 200 --seed 1
run llama-13b-l4-bandwidth-drop --model llama-13b --gpu l4 --slo-ttft-ms 10000 --slo-tpot-ms 600 \
  --trace poisson --rate 0.05 --requests 150 --seed 1 --bandwidth-drop-at-s 1000 --bandwidth-drop-to 18e9
node_modules/.bin/node bench/planner/summarize-simulations.ts "$out"/simulate-*.json
