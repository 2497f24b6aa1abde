#!/usr/bin/env bash
# Installs the CUDA 13 toolkit pieces Select-N builds against (nvcc, cudart, cuBLAS and their
# dependencies) from PyPI's NVIDIA wheels into a cache outside git, and prints the toolkit root.
#   native/scripts/install-cuda.sh            -> prints e.g. ~/.cache/selectn/cuda-venv/.../nvidia/cu13
# Idempotent: a second run reuses the venv. Needs only python3 and the PyPI registry.
set -euo pipefail
cache="${SELECTN_CACHE:-$HOME/.cache/selectn}"
venv="$cache/cuda-venv"
pkgs=(nvidia-cuda-nvcc nvidia-cuda-runtime nvidia-cublas nvidia-cuda-crt nvidia-cuda-cccl nvidia-nvvm)
stamp="$venv/.selectn-installed-v1"
if [[ ! -f "$stamp" ]]; then
  mkdir -p "$cache"
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check "${pkgs[@]}" >&2
  touch "$stamp"
fi
# The CUDA 13 wheels share one prefix: site-packages/nvidia/cu13/{bin,include,lib}.
root=$("$venv/bin/python" - <<'PY'
import glob, os, sys
import nvidia
for base in nvidia.__path__:
    for cand in sorted(glob.glob(os.path.join(base, "cu1*"))):
        if os.path.exists(os.path.join(cand, "include", "cuda_runtime.h")):
            print(cand); sys.exit(0)
sys.exit("cuda_runtime.h not found under " + ",".join(nvidia.__path__))
PY
)
echo "$root"
