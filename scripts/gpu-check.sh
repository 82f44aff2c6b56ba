#!/usr/bin/env bash
# Checks aelab's CUDA executor on a machine with an NVIDIA GPU and writes a short report:
#   1. the aelabcuda tests: every program aelab builds, on the GPU against the CPU plan
#      (losses over 20 steps, gradients, updated weights), and the device-side batches;
#   2. a DAE (784-128, gaussian:0.4, 10 epochs, batch 32) trained on the GPU and on the CPU,
#      whose test_mse_noisy must agree within 2%;
#   3. epoch times against PyTorch on the same card (scripts/torch_ref.py), 60,000 images.
#
# usage: scripts/gpu-check.sh DATA_DIR [REPORT]   (DATA_DIR holds the four MNIST .gz files)
# Go and CUDA must be on the machine (on the project's GPU machine: source .gpu/env.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:?usage: scripts/gpu-check.sh DATA_DIR [REPORT]}
report=${2:-gpu-check.md}
work=$(mktemp -d)
python=${PYTHON:-python3}
status=0
say() { echo "$*" | tee -a "$report"; }
: > "$report"
say "# aelab GPU check, $(date -u +%Y-%m-%d)"
say ""
say "device: $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null || echo unknown)"

scripts/build-cuda.sh "$work/aelab-cuda" >/dev/null
go build -o "$work/aelab" ./cmd/aelab

say ""
say "## 1. parity of the CUDA executor with the CPU"
cuda=${CUDA_HOME:-/usr/local/cuda}
if CGO_CFLAGS="-I$PWD/cuda/compat -I$cuda/include" CGO_LDFLAGS="-L$cuda/lib64 -L$cuda/lib64/stubs -Wl,-rpath,$cuda/lib64" \
  go test -tags aelabcuda -count=1 ./cuda/ > "$work/test.log" 2>&1; then
  say "PASS: $(grep -c -- '--- PASS' "$work/test.log" || true) subtests (go test -v for the list)"
else
  status=1
  say "FAIL:"; sed 's/^/    /' "$work/test.log" | tail -40 | tee -a "$report"
fi

say ""
say "## 2. DAE trained on the GPU and on the CPU"
for dev in cuda cpu; do
  bin="$work/aelab-cuda"
  "$bin" train --kind dae --hidden 128 --noise gaussian:0.4 --epochs 10 --batch 32 --device "$dev" \
    --data-dir "$data" --out "$work/dae-$dev.safetensors" > "$work/train-$dev.log" 2>&1
  "$bin" eval --model "$work/dae-$dev.safetensors" --no-probe --device "$dev" --data-dir "$data" --json > "$work/eval-$dev.json"
done
gpu=$(grep -o '"test_mse_noisy":[0-9.e-]*' "$work/eval-cuda.json" | cut -d: -f2)
cpu=$(grep -o '"test_mse_noisy":[0-9.e-]*' "$work/eval-cpu.json" | cut -d: -f2)
gsec=$(grep -o '[0-9.]*s of training' "$work/train-cuda.log" | head -1)
csec=$(grep -o '[0-9.]*s of training' "$work/train-cpu.log" | head -1)
if awk "BEGIN {d = ($gpu - $cpu) / $cpu; exit !(d < 0.02 && d > -0.02)}"; then verdict=PASS; else verdict=FAIL; status=1; fi
say "$verdict: test_mse_noisy GPU $gpu ($gsec), CPU $cpu ($csec)"

say ""
say "## 3. seconds per epoch against PyTorch on this card (60,000 images, median of 3)"
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
seconds() { grep -o '"epoch_seconds": *[0-9.e+-]*' | sed 's/.*: *//' | median; }
say "| architecture | batch | PyTorch | aelab | aelab / PyTorch |"
say "|---|---|---|---|---|"
for cfg in "784-128 ae128 256" "784-128 ae128 32" "784-512-128 deep512 256" "hinton hinton 256"; do
  set -- $cfg
  t=$("$python" scripts/torch_ref.py --data "$data" --device cuda --arch "$2" --batch "$3" --epochs 4 | tail -n 3 | seconds)
  a=$("$work/aelab-cuda" bench --arch "$1" --batch "$3" --epochs 4 --device cuda --data-dir "$data" --json | tail -n 3 | seconds)
  say "| $1 | $3 | $t | $a | $(awk "BEGIN {printf \"%.3f\", $a / $t}") |"
done
exit $status
