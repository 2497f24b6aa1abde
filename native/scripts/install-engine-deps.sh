#!/usr/bin/env bash
# Installs the engine's build dependencies from Debian if they are missing: OpenBLAS (CPU GEMMs),
# nlohmann-json (headers), and clang-14 with libFuzzer (the header fuzzer). Idempotent: a no-op
# when everything is present. Needs root (apt-get) only when something is missing.
set -euo pipefail
need=()
[[ -f /usr/include/nlohmann/json.hpp ]] || need+=(nlohmann-json3-dev)
ls /usr/lib/x86_64-linux-gnu/libopenblas.so >/dev/null 2>&1 || ls /usr/lib/*/libopenblas.so >/dev/null 2>&1 || need+=(libopenblas-dev)
if [[ "${SELECTN_FUZZ_DEPS:-1}" != 0 ]]; then
  command -v clang++-14 >/dev/null || need+=(clang-14)
  ls /usr/lib/llvm-14/lib/clang/14*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1 || need+=(libclang-rt-14-dev)
fi
if ((${#need[@]} == 0)); then
  exit 0
fi
if [[ $(id -u) != 0 ]]; then
  echo "install-engine-deps: missing ${need[*]}; install them with: sudo apt-get install ${need[*]}" >&2
  exit 1
fi
echo "install-engine-deps: installing ${need[*]}" >&2
# Several builds may race here: apt's own lock makes the second wait.
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -q -o DPkg::Lock::Timeout=300 "${need[@]}" >&2; then
  apt-get update -q -o DPkg::Lock::Timeout=300 >&2
  apt-get install -y -q -o DPkg::Lock::Timeout=300 "${need[@]}" >&2 || {
    echo "install-engine-deps: apt-get install ${need[*]} failed; install them by hand" >&2
    exit 1
  }
fi
