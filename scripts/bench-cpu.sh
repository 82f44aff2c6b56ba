#!/usr/bin/env bash
# Times aelab against PyTorch on this machine, in one run: the same architectures, batch and
# epochs over the 60,000 MNIST training images, PyTorch with its best thread setting (1 or
# 2 threads, whichever is faster), median epoch time of each. Prints a Markdown table, with
# the pure-Go build's GFLOP/s (the matrix products' work over the epoch's time) and their
# share of the processor's FMA peak as aelab bench measures it, and which kernel ran.
# Each is run RUNS times (default 3), taking turns, and keeps its fastest run: on a shared
# virtual machine the neighbours' memory traffic moves an epoch's time by up to a third
# between minutes, and the fastest run is the one they disturbed least.
#
# usage: [RUNS=N] scripts/bench-cpu.sh [EPOCHS]        (default 3)
# needs: python3 with torch (Debian: apt-get install -y python3-torch libopenblas0-pthread);
#        for the OpenBLAS column, libopenblas-dev (apt-get install -y libopenblas-dev).
set -euo pipefail
cd "$(dirname "$0")/.."
epochs=${1:-3}
runs=${RUNS:-3}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
python=${PYTHON:-/usr/bin/python3}
go build -o "$out/aelab" ./cmd/aelab
builds=("$out/aelab")
if CGO_ENABLED=1 go build -tags openblas -o "$out/aelab-openblas" ./cmd/aelab 2>/dev/null; then
  builds+=("$out/aelab-openblas")
fi
data=$("$out/aelab" data info | awk '$1 == "source" {print $2}')

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
field() { grep -o "\"$1\": *[0-9.e+-]*" | sed 's/.*: *//'; }
seconds() { field epoch_seconds | median; }

echo "| architecture | batch | PyTorch $("$python" -c 'import torch; print(torch.__version__)') (s/epoch) | aelab pure Go (s/epoch) | ratio | GFLOP/s | share of peak | aelab OpenBLAS (s/epoch) | ratio |"
echo "|---|---|---|---|---|---|---|---|---|"
faster() { awk "BEGIN {exit !($1 < $2)}"; }
for cfg in "784-128 ae128 256" "784-128 ae128 32" "784-512-128 deep512 256" "hinton hinton 256"; do
  set -- $cfg
  best=""
  declare -A fastest=() json=()
  for run in $(seq "$runs"); do
    for threads in 1 2; do
      t=$("$python" scripts/torch_ref.py --data "$data" --arch "$2" --batch "$3" --epochs "$epochs" --threads "$threads" | seconds)
      if [[ -z "$best" ]] || faster "$t" "$best"; then best=$t; fi
    done
    for b in "${builds[@]}"; do
      "$b" bench --arch "$1" --batch "$3" --epochs "$epochs" --device cpu --json 2>/dev/null > "$out/bench.json"
      a=$(seconds < "$out/bench.json")
      if [[ -z "${fastest[$b]:-}" ]] || faster "$a" "${fastest[$b]}"; then fastest[$b]=$a json[$b]=$(cat "$out/bench.json"); fi
    done
  done
  row="| $1 | $3 | $best"
  for b in "${builds[@]}"; do
    a=${fastest[$b]}
    row="$row | $a | $(awk "BEGIN {printf \"%.2f\", $a / $best}")"
    if [[ $b == "$out/aelab" ]]; then
      g=$(field gflops <<<"${json[$b]}" | median) peak=$(field peak_gflops <<<"${json[$b]}" | head -1)
      kernel=$(grep -o '"kernel": *"[^"]*"' <<<"${json[$b]}" | head -1 | sed 's/.*: *"//; s/"$//')
      row="$row | $(awk "BEGIN {printf \"%.0f\", $g}") | $(awk "BEGIN {printf \"%.0f%% of %.0f\", 100 * $g / $peak, $peak}")"
    fi
  done
  [[ ${#builds[@]} -eq 1 ]] && row="$row | – | –"
  echo "$row |"
done
echo
echo "pure Go: ${kernel:-unknown kernel}; the peak is the FMA peak aelab bench measures on this processor. Each column: the fastest of $runs runs (median epoch of each)."
