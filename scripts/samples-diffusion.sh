#!/usr/bin/env bash
# A DAE as the denoiser of a diffusion model: 784-1000-500 (the decoder mirrored) trained end
# to end for 30 epochs over the noise levels 0.05..1 (each image its own) with 4 rounds of
# walkback, then 10,000 chains from uniform noise by the diffusion walk (30 Langevin steps at
# level 1, then 150 ancestral steps down to 0.05) and, on the same model, by the denoising
# chain and the annealed chain (300 steps each); every walk judged by aelab samples score.
# Writes log.txt, metrics.json (one judge's JSON per walk) and the walks' pictures to
# scripts/results/samples-diffusion/.
# usage: scripts/samples-diffusion.sh [OUT_DIR] [CHAINS]  (defaults: runs/samples-diffusion; 10000)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/recipe-lib.sh
out=${1:-runs/samples-diffusion}
chains=${2:-10000}
recipe_start samples-diffusion "$@"
t0=$(date +%s)
"$out/aelab" train --kind dae --hidden 1000,500 --noise gaussian:0.05..1 --walkback 4 --epochs 30 --batch 64 --out "$out/dae.safetensors"
echo "trained in $(( $(date +%s) - t0 )) s"
fields=()
judge_walk dae-diffusion-180 "$out/dae.safetensors" diffusion 180 "0,10,30,60,100,140,180" --burn-in 30 --eta 0.3
judge_walk dae-chain-300 "$out/dae.safetensors" chain 300 "0,10,100,300"
judge_walk dae-annealed-300 "$out/dae.safetensors" annealed 300 "0,10,100,300"
cp "$out"/dae-*.png "$results/"
recipe_metrics chains="$chains" "${fields[@]}"
