#!/usr/bin/env bash
# Builds aelab with its CUDA executor: finds CUDA, sets the cgo flags (with cuda/compat first
# on the include path, which lets gorgonia.org/cu build against CUDA 13), and runs
# go build -tags aelabcuda. The tag is aelabcuda, not cuda: gorgonia's own files use the
# cuda tag to switch on its CUDA machinery, which aelab does not use (README, GPU).
#
# usage: scripts/build-cuda.sh [OUTPUT]        (default ./aelab-cuda)
# CUDA_HOME overrides where CUDA is (default: /usr/local/cuda, else the folder above nvcc).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-aelab-cuda}
cuda=${CUDA_HOME:-}
if [[ -z "$cuda" ]]; then
  if [[ -d /usr/local/cuda/include ]]; then
    cuda=/usr/local/cuda
  elif command -v nvcc >/dev/null 2>&1; then
    cuda=$(dirname "$(dirname "$(readlink -f "$(command -v nvcc)")")")
  fi
fi
if [[ -z "$cuda" || ! -f "$cuda/include/cuda.h" ]]; then
  echo "build-cuda: no CUDA toolkit found (set CUDA_HOME to the folder with include/cuda.h)" >&2
  exit 1
fi
lib=$cuda/lib64
[[ -d $lib ]] || lib=$cuda/lib
export CGO_ENABLED=1
export CGO_CFLAGS="-I$PWD/cuda/compat -I$cuda/include ${CGO_CFLAGS:-}"
export CGO_LDFLAGS="-L$lib -L$lib/stubs -Wl,-rpath,$lib ${CGO_LDFLAGS:-}"
go build -tags aelabcuda -o "$out" ./cmd/aelab
echo "built $out against $cuda"
