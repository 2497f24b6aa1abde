#!/usr/bin/env bash
# Run HERE (the build machine), before bench/gpu/run-serve.sh on the GPU machine, which has CUDA,
# PyTorch and Python but no Node, no compiler and no downloads. Fills native/build-gpu-serve/ (the
# carry, checked <= 64 MiB) with:
#   selectn.node          the addon built by native/scripts/build.sh with the CUDA backend (sm_80, sm_90)
#   selectn-engine-bench  the engine benchmark from the same build
#   lib.tar.xz            OpenBLAS and its Fortran runtime (the engine's CPU BLAS), xz-compressed
#   selectn.mjs           the `selectn` CLI as one ES module (esbuild), run with the carried Node
#   node.xz               the project's Node binary (node_modules/node), xz-compressed
#   trace.json            the serving bench's seeded trace (bench/serve/trace.ts), from dump-trace.ts
# Options (environment): SEED (42), DURATION (60 s), BASE_RATE (2/s), BURST_RATE (8/s).
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
carry="$repo/native/build-gpu-serve"
node="$repo/node_modules/node/bin/node"
limit=$((64 * 1024 * 1024))
"$repo/native/scripts/install-cuda.sh" >/dev/null
flock /tmp/native-build.lock env SELECTN_CUDA=ON bash "$repo/native/scripts/build.sh"
rm -rf "$carry"
mkdir -p "$carry/lib"
cp "$repo/native/build/selectn.node" "$repo/native/build/engine/selectn-engine-bench" "$carry/"
for l in libopenblas.so.0 libgfortran.so.5 libquadmath.so.0; do
  cp -L "$(ldconfig -p | awk -v l="$l" '$1 == l { print $NF; exit }')" "$carry/lib/"
done
strip "$carry/selectn.node" "$carry/selectn-engine-bench" "$carry"/lib/*.so*
# Some dependencies are CommonJS and call require(), which an ES module does not have.
"$repo/node_modules/.bin/esbuild" "$repo/src/cli/selectn.ts" --bundle --platform=node --format=esm \
  --target=node24 --log-level=warning --outfile="$carry/selectn.mjs" \
  --banner:js="import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);"
"$node" "$repo/bench/gpu/dump-trace.ts" --out "$carry/trace.json" --seed "${SEED:-42}" \
  --duration "${DURATION:-60}" --base-rate "${BASE_RATE:-2}" --burst-rate "${BURST_RATE:-8}"
nice xz -T2 -6 -c "$node" > "$carry/node.xz"
# OpenBLAS alone is ~36 MB: compressed, the carry fits its 64 MiB.
nice tar -C "$carry" -cJf "$carry/lib.tar.xz" lib
rm -rf "$carry/lib"
total=$(du -sb "$carry" | cut -f1)
du -sh "$carry"/*
echo "carry native/build-gpu-serve: $total bytes (limit $limit)"
if ((total > limit)); then
  echo "prepare-serve.sh: the carry is over 64 MiB" >&2
  exit 1
fi
