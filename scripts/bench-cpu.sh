#!/usr/bin/env bash
# Times aelab against PyTorch on this machine, in one run: the same architectures, batch and
# epochs over the 60,000 MNIST training images, PyTorch with its best thread setting (1 or
# 2 threads, whichever is faster), median epoch time of each. Prints a Markdown table.
#
# usage: scripts/bench-cpu.sh [EPOCHS]        (default 3)
# needs: python3 with torch (Debian: apt-get install -y python3-torch libopenblas0-pthread);
#        for the OpenBLAS column, libopenblas-dev (apt-get install -y libopenblas-dev).
set -euo pipefail
cd "$(dirname "$0")/.."
epochs=${1:-3}
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
seconds() { grep -o '"epoch_seconds": *[0-9.e+-]*' | sed 's/.*: *//' | median; }

echo "| architecture | batch | PyTorch $("$python" -c 'import torch; print(torch.__version__)') (s/epoch) | aelab pure Go (s/epoch) | ratio | aelab OpenBLAS (s/epoch) | ratio |"
echo "|---|---|---|---|---|---|---|"
for cfg in "784-128 ae128 256" "784-128 ae128 32" "784-512-128 deep512 256" "hinton hinton 256"; do
  set -- $cfg
  best=""
  for threads in 1 2; do
    t=$("$python" scripts/torch_ref.py --data "$data" --arch "$2" --batch "$3" --epochs "$epochs" --threads "$threads" | seconds)
    if [[ -z "$best" ]] || awk "BEGIN {exit !($t < $best)}"; then best=$t; fi
  done
  row="| $1 | $3 | $best"
  for b in "${builds[@]}"; do
    a=$("$b" bench --arch "$1" --batch "$3" --epochs "$epochs" --device cpu --json 2>/dev/null | seconds)
    row="$row | $a | $(awk "BEGIN {printf \"%.2f\", $a / $best}")"
  done
  [[ ${#builds[@]} -eq 1 ]] && row="$row | – | –"
  echo "$row |"
done
