#!/usr/bin/env bash
# Bounded libFuzzer run of the safetensors header parser (clang-14, ASan + UBSan), seeded with the
# fixtures' real files and hand-made edge cases. Fails on any crash, leak, UB report or timeout.
#   native/engine/fuzz/run-fuzz.sh [seconds=60]
set -euo pipefail
here="$(cd "$(dirname "$0")/../.." && pwd)"   # native/
repo="$(cd "$here/.." && pwd)"
secs="${1:-60}"
"$here/scripts/install-engine-deps.sh"
build="$here/build-fuzz"
gen=(); command -v ninja >/dev/null && gen=(-G Ninja)
nice cmake -S "$here" -B "$build" "${gen[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang-14 \
  -DCMAKE_CXX_COMPILER=clang++-14 -DSELECTN_FUZZ=ON -DSELECTN_TESTS=OFF -DSELECTN_BENCH=OFF >/dev/null
nice cmake --build "$build" -j "${SELECTN_JOBS:-2}" --target selectn_safetensors_fuzz >/dev/null
corpus="$build/fuzz-corpus"
mkdir -p "$corpus"
# Seeds: the head of each fixture file (header plus some data) and small hand-made files.
for f in "$repo"/test/fixtures/*/*.safetensors; do
  head -c 4096 "$f" > "$corpus/seed-$(basename "$(dirname "$f")")-$(basename "$f")"
done
printf '\x02\x00\x00\x00\x00\x00\x00\x00{}' > "$corpus/seed-empty"
python3 - "$corpus" <<'PY'
import json, struct, sys
h = json.dumps({"__metadata__": {"a": "b"}, "t": {"dtype": "BF16", "shape": [2, 2], "data_offsets": [0, 8]}}).encode()
open(sys.argv[1] + "/seed-small", "wb").write(struct.pack("<Q", len(h)) + h + b"\0" * 8)
PY
cd "$build"
nice ./engine/selectn_safetensors_fuzz -max_total_time="$secs" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
  -print_final_stats=1 "$corpus" 2>&1 | tail -n 12
echo "fuzz: safetensors header parser ran ${secs}s without a finding"
