#!/usr/bin/env bash
# Today's walks as samplers: 10,000 chains from uniform noise by the seed preset's DAE and
# fine-tuned deep DAE, the score walk (100 steps), the denoising chain, the annealed chain and
# annealed Langevin steps (300 steps each), each judged by aelab samples score. Writes log.txt and metrics.json (one judge's JSON per walk)
# to scripts/results/samples/.
# usage: scripts/samples.sh [CHECKPOINTS_DIR] [OUT_DIR] [CHAINS]
#        (defaults: runs/seed/checkpoints, made by aelab experiment; runs/samples; 10000)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/recipe-lib.sh
ckpts=${1:-runs/seed/checkpoints}
out=${2:-runs/samples}
chains=${3:-10000}
recipe_start samples "$@"
fields=()
for model in dae deep-dae-finetuned; do
  for walk in "score 100" "chain 300" "annealed 300" "langevin 300"; do
    set -- $walk
    judge_walk "$model-$1-$2" "$ckpts/$model.safetensors" "$1" "$2" "0,$2"
  done
done
recipe_metrics chains="$chains" "${fields[@]}"
