#!/usr/bin/env bash
# Builds aelab with its CUDA executor: finds CUDA and sets the cgo flags (scripts/cuda-env.sh),
# then runs go build -tags aelabcuda. The tag is aelabcuda, not cuda: gorgonia's own files
# use the cuda tag to switch on its CUDA machinery, which aelab does not use (README, GPU).
#
# usage: scripts/build-cuda.sh [OUTPUT]        (default ./aelab-cuda)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-aelab-cuda}
source scripts/cuda-env.sh
go build -tags aelabcuda -o "$out" ./cmd/aelab
echo "built $out against $CUDA_HOME"
