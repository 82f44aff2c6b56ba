#!/usr/bin/env bash
# Builds the CUDA-enabled aelab: OUTPUT, which is aelab itself (pure Go, it starts anywhere),
# and aelab-cuda-runner beside it, aelab built with its CUDA executor (go build -tags
# aelabcuda, with the cgo flags of scripts/cuda-env.sh). Start OUTPUT: a command that asks for
# --device auto or cuda is handed to the runner when a GPU answers, and stays on the CPU,
# saying why in one line, when none does or the runner cannot start (no NVIDIA driver).
# The tag is aelabcuda, not cuda: gorgonia's own files use the cuda tag to switch on its
# CUDA machinery, which aelab does not use (README, GPU).
#
# usage: scripts/build-cuda.sh [OUTPUT]        (default ./aelab)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-aelab}
runner=$(dirname "$out")/aelab-cuda-runner
source scripts/cuda-env.sh
go build -tags aelabcuda -o "$runner" ./cmd/aelab
CGO_ENABLED=0 go build -o "$out" ./cmd/aelab
echo "built $out and $runner (CUDA at $CUDA_HOME)"
