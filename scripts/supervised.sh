#!/usr/bin/env bash
# Supervised fine-tuning against the literature: a stacked denoising autoencoder of three
# 1000-unit layers (Vincent et al. 2010: 1.28-1.30% test error) and a one-layer 1000-unit
# contractive autoencoder (Rifai et al. 2011: 1.14%), each pretrained without labels, then
# fine-tuned with a softmax on the top code — Adam with 1 warm-up epoch then a cosine schedule,
# dropout 0.5 on the hidden units and masking noise 0.2 on the input, the weights of the epoch
# with the best validation loss kept —; prints each test error.
# Writes log.txt and metrics.json (test_error of each model) to scripts/results/supervised/.
# usage: scripts/supervised.sh [OUT_DIR] [CLASSIFY_EPOCHS]     (defaults: runs/supervised, 50)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/recipe-lib.sh
out=${1:-runs/supervised}
epochs=${2:-50}
recipe_start supervised "$@"
fields=()
run() { # name, classify learning rate, pretrain flags...
  local name=$1 lr=$2; shift 2
  local t0=$(date +%s)
  "$out/aelab" pretrain --batch 32 --out "$out/$name.safetensors" "$@"
  "$out/aelab" finetune --model "$out/$name.safetensors" --objective classify --epochs "$epochs" --batch 32 --lr "$lr" \
    --lr-schedule cosine --warmup 1 --dropout 0.5 --noise mask:0.2 --keep best --out "$out/$name-classify.safetensors"
  local ev=$("$out/aelab" eval --model "$out/$name-classify.safetensors" --no-probe --json)
  echo "$ev"
  local acc=$(json_field test_accuracy <<<"$ev") secs=$(( $(date +%s) - t0 ))
  echo "$name: test error $(awk -v a="$acc" 'BEGIN { printf "%.2f%%", 100 * (1 - a) }'), wall time $secs s"
  fields+=("$name=$(printf '{"test_error": %s, "wall_seconds": %d, "eval": %s}' "$(awk -v a="$acc" 'BEGIN { printf "%.4f", 1 - a }')" "$secs" "$ev")")
}
run sda 0.0003 --kind dae --hidden 1000,1000,1000 --activation sigmoid --noise mask:0.25 --level-noise mask:0.25 --epochs-per-layer 20 --lr-schedule cosine
run cae 0.001 --kind cae --hidden 1000 --activation sigmoid --cae-lambda 0.0001 --epochs-per-layer 10
recipe_metrics classify_epochs="$epochs" "${fields[@]}"
