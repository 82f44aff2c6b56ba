#!/usr/bin/env bash
# The deep autoencoder of Hinton & Salakhutdinov (Science, 2006): 784-1000-500-250-30 with
# logistic hidden units and a linear 30-unit code, pretrained layer by layer, then fine-tuned
# end to end with a cosine learning-rate schedule (2 warm-up epochs) and AdamW's weight decay,
# which keeps 150 epochs from overfitting; prints the test set's squared error per image
# (their Fig. 2: 3.00).
# Writes log.txt, metrics.json (per_image_sse) and reconstructions.png to scripts/results/hinton/.
# usage: scripts/hinton.sh [OUT_DIR] [FINETUNE_EPOCHS]     (defaults: runs/hinton, 150)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/recipe-lib.sh
out=${1:-runs/hinton}
epochs=${2:-150}
recipe_start hinton "$@"
"$out/aelab" pretrain --kind ae --hidden 1000,500,250,30 --activation sigmoid --code-activation linear \
  --epochs-per-layer 10 --batch 128 --lr 0.001 --out "$out/hinton-pretrained.safetensors"
pretrained=$("$out/aelab" eval --model "$out/hinton-pretrained.safetensors" --no-probe --json)
echo "$pretrained"
"$out/aelab" finetune --model "$out/hinton-pretrained.safetensors" --epochs "$epochs" --lr 0.001 \
  --lr-schedule cosine --warmup 2 --weight-decay 0.05 \
  --out "$out/hinton.safetensors"
finetuned=$("$out/aelab" eval --model "$out/hinton.safetensors" --no-probe --json)
echo "$finetuned"
"$out/aelab" reconstruct --model "$out/hinton.safetensors" --noise none --out "$results/reconstructions.png"
recipe_metrics per_image_sse="$(json_field per_image_sse <<<"$finetuned")" \
  pretrained_per_image_sse="$(json_field per_image_sse <<<"$pretrained")" \
  finetune_epochs="$epochs" pretrained="$pretrained" finetuned="$finetuned"
