#!/usr/bin/env bash
# The deep autoencoder of Hinton & Salakhutdinov (Science, 2006): 784-1000-500-250-30 with
# logistic hidden units and a linear 30-unit code, pretrained layer by layer, then fine-tuned
# end to end; prints the test set's squared error per image (their Fig. 2: 3.00).
# usage: scripts/hinton.sh [OUT_DIR] [FINETUNE_EPOCHS]     (defaults: runs/hinton, 60)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-runs/hinton}
epochs=${2:-60}
mkdir -p "$out"
go build -o "$out/aelab" ./cmd/aelab
start=$(date +%s)
"$out/aelab" pretrain --kind ae --hidden 1000,500,250,30 --activation sigmoid --code-activation linear \
  --epochs-per-layer 10 --batch 128 --lr 0.001 --out "$out/hinton-pretrained.safetensors"
"$out/aelab" eval --model "$out/hinton-pretrained.safetensors" --no-probe --json | tee "$out/hinton-pretrained.json"
"$out/aelab" finetune --model "$out/hinton-pretrained.safetensors" --epochs "$epochs" --lr 0.0003 \
  --out "$out/hinton.safetensors"
"$out/aelab" eval --model "$out/hinton.safetensors" --json | tee "$out/hinton.json"
"$out/aelab" reconstruct --model "$out/hinton.safetensors" --noise none --out "$out/hinton.png"
echo "wall time: $(( $(date +%s) - start )) s"
