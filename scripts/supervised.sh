#!/usr/bin/env bash
# Supervised fine-tuning against the literature: a stacked denoising autoencoder of three
# 1000-unit layers (Vincent et al. 2010: 1.28-1.30% test error) and a one-layer 1000-unit
# contractive autoencoder (Rifai et al. 2011: 1.14%), each pretrained without labels, then
# fine-tuned with a softmax on the top code — Adam with a warm-up then a cosine schedule,
# dropout on the hidden units and noise on the input (the stacked DAE: dropout 0.5 and
# masking noise 0.2; the CAE: dropout 0.2 and Gaussian noise 0.3). Each model is
# fine-tuned twice from the same pretrained stack: first on the 50,000 training images with
# the 10,000 validation images held out (the run the settings were chosen on: its
# validation figures, the weights of its best epoch by validation loss), then, with the same
# settings and number of epochs, on all 60,000 (--refit), the model whose test error counts.
# The test set is read only by the evaluations.
# Writes log.txt and metrics.json (each model's test_error, its selection run's) to
# scripts/results/supervised/.
# usage: scripts/supervised.sh [OUT_DIR]     (default: runs/supervised)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/recipe-lib.sh
out=${1:-runs/supervised}
recipe_start supervised "$@"
fields=()
error() { awk -v a="$(json_field test_accuracy)" 'BEGIN { printf "%.4f", 1 - a }'; }
run() { # name, classify epochs, batch, learning rate, warm-up epochs, dropout, input noise, pretrain flags...
  local name=$1 epochs=$2 batch=$3 lr=$4 warmup=$5 dropout=$6 noise=$7; shift 7
  local t0=$(date +%s)
  "$out/aelab" pretrain --batch 32 --out "$out/$name.safetensors" "$@"
  local classify=(--objective classify --epochs "$epochs" --batch "$batch" --lr "$lr" --lr-schedule cosine
    --warmup "$warmup" --dropout "$dropout" --noise "$noise")
  "$out/aelab" finetune --model "$out/$name.safetensors" "${classify[@]}" --keep best --out "$out/$name-select.safetensors"
  local sel=$("$out/aelab" eval --model "$out/$name-select.safetensors" --no-probe --json)
  "$out/aelab" finetune --model "$out/$name.safetensors" "${classify[@]}" --refit --out "$out/$name-classify.safetensors"
  local ev=$("$out/aelab" eval --model "$out/$name-classify.safetensors" --no-probe --json)
  echo "$ev"
  local err=$(error <<<"$ev") selErr=$(error <<<"$sel") secs=$(( $(date +%s) - t0 ))
  echo "$name: test error $(awk -v e="$err" 'BEGIN { printf "%.2f%%", 100 * e }') (refit on 60,000), $(awk -v e="$selErr" 'BEGIN { printf "%.2f%%", 100 * e }') for the selection run on 50,000; wall time $secs s"
  fields+=("$name=$(printf '{"test_error": %s, "selection_test_error": %s, "wall_seconds": %d, "eval": %s, "selection_eval": %s}' "$err" "$selErr" "$secs" "$ev" "$sel")")
}
run sda 100 128 0.001 2 0.5 mask:0.2 --kind dae --hidden 1000,1000,1000 --activation sigmoid --noise mask:0.25 --level-noise mask:0.25 --epochs-per-layer 20 --lr-schedule cosine
run cae 50 32 0.001 1 0.2 gaussian:0.3 --kind cae --hidden 1000 --activation sigmoid --cae-lambda 0.0001 --epochs-per-layer 10
recipe_metrics "${fields[@]}"
