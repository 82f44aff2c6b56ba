#!/usr/bin/env bash
# PyTorch reads aelab's checkpoints: trains the seed preset's single-layer DAE (128 ReLU units,
# gaussian:0.4, 10 epochs, batch 32), loads it into an nn.Sequential with PyTorch's strict
# load_state_dict and compares its test MSE with aelab's eval. Writes log.txt and metrics.json
# to scripts/results/torch-load/. Needs python3-torch (/usr/bin/python3 on Debian).
# usage: scripts/torch-load.sh [OUT_DIR] [DATA_DIR]     (defaults: runs/torch-load, the default MNIST)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/recipe-lib.sh
out=${1:-runs/torch-load}
data=${2:-$(ls -d "$(go env GOMODCACHE)"/github.com/petar/\!go\!m\!n\!i\!s\!t@*/data | head -1)}
recipe_start torch-load "$@"
ckpt=$out/dae.safetensors
"$out/aelab" train --kind dae --hidden 128 --noise gaussian:0.4 --epochs 10 --batch 32 --lr 0.001 --seed 1 --out "$ckpt"
aelab_eval=$("$out/aelab" eval --model "$ckpt" --no-probe --json --data-dir "$data")
echo "$aelab_eval"
torch_eval=$(${PYTHON:-/usr/bin/python3} scripts/torch_load.py "$ckpt" --data "$data")
echo "$torch_eval"
recipe_metrics aelab_test_mse="$(json_field test_mse <<<"$aelab_eval")" torch_test_mse="$(json_field test_mse <<<"$torch_eval")" \
  aelab="$aelab_eval" torch="$torch_eval"
