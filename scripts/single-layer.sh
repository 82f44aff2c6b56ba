#!/usr/bin/env bash
# Trains and evaluates the single-layer autoencoders whose figures the README reports:
# AE (5 epochs), DAE (gaussian 0.4, 10 epochs), CAE (5 epochs), hidden 128, batch 32, full MNIST.
# usage: scripts/single-layer.sh [OUT_DIR]   (default runs/single-layer)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-runs/single-layer}
mkdir -p "$out"
go build -o "$out/aelab" ./cmd/aelab
run() { # name, then train flags
  local name=$1; shift
  "$out/aelab" train --hidden 128 --batch 32 --seed 1 --out "$out/$name.safetensors" "$@" 2>&1 | tee "$out/$name.log"
  "$out/aelab" eval --model "$out/$name.safetensors" --json > "$out/$name.json"
  "$out/aelab" reconstruct --model "$out/$name.safetensors" --out "$out/$name.png" > /dev/null
  echo "$name $(cat "$out/$name.json")"
}
run ae --kind ae --epochs 5
run dae --kind dae --noise gaussian:0.4 --epochs 10
run cae --kind cae --epochs 5
