#!/usr/bin/env bash
# Release build of native/ in native/build: runtime, engine (when present), tests, selectn-bench
# and the Node addon native/build/selectn.node. Incremental; at most 2 jobs, niced.
#   SELECTN_ENGINE=OFF  skip engine/        SELECTN_JOBS=N  parallel jobs (default 2)
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
repo="$(cd "$here/.." && pwd)"
jobs="${SELECTN_JOBS:-2}"
engine="${SELECTN_ENGINE:-ON}"
if [[ "$engine" == ON && -x "$here/scripts/install-engine-deps.sh" ]]; then
  "$here/scripts/install-engine-deps.sh"
fi
gen=(); command -v ninja >/dev/null && gen=(-G Ninja)
nice cmake -S "$here" -B "$here/build" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release -DSELECTN_WERROR=ON \
  -DSELECTN_BINDING=ON -DSELECTN_NODE_ROOT="$repo" -DSELECTN_ENGINE="$engine" >/dev/null
nice cmake --build "$here/build" -j "$jobs"
