#!/usr/bin/env bash
# A deep DAE trained over a range of noise levels as a sampler: 784-512-128 pretrained with
# gaussian:0.1..1 (each image its own level; the codes at the default gaussian:0.2) for 5
# epochs a level and fine-tuned for 5 with the same range, then 10,000 chains from uniform
# noise by the denoising chain, the annealed chain and annealed Langevin steps (300 steps
# each, the chain noise the model's range), each judged by aelab samples score. Writes
# log.txt and metrics.json (one judge's JSON per walk) to scripts/results/samples-range/.
# With WALKBACK, the DAE is also trained with that many rounds of walkback (--walkback).
# usage: scripts/samples-range.sh [OUT_DIR] [CHAINS] [WALKBACK]  (defaults: runs/samples-range; 10000; 0)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/recipe-lib.sh
out=${1:-runs/samples-range}
chains=${2:-10000}
walkback=${3:-0}
recipe_start samples-range "$@"
t0=$(date +%s)
"$out/aelab" pretrain --kind dae --hidden 512,128 --noise gaussian:0.1..1 --epochs-per-layer 5 --walkback "$walkback" --out "$out/range-dae.safetensors"
"$out/aelab" finetune --model "$out/range-dae.safetensors" --epochs 5 --walkback "$walkback" --out "$out/range-dae-finetuned.safetensors"
echo "trained in $(( $(date +%s) - t0 )) s"
fields=()
for walk in "chain 300" "annealed 300" "langevin 300"; do
  set -- $walk
  judge_walk "range-dae-finetuned-$1-$2" "$out/range-dae-finetuned.safetensors" "$1" "$2" "0,10,100,$2"
done
cp "$out"/range-dae-finetuned-*-300.png "$results/"
recipe_metrics chains="$chains" walkback="$walkback" "${fields[@]}"
