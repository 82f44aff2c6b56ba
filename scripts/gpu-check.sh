#!/usr/bin/env bash
# Checks aelab's CUDA executor on a machine with an NVIDIA GPU, and measures it:
#   1. the aelabcuda tests (go test -v): every program aelab builds, on the GPU against the
#      CPU plan (losses, gradients, weights after 20 steps, two epochs of device-side
#      batches), with steps replayed as CUDA graphs and queued one by one; sums, batch
#      gathering and corruption, the step counters;
#   2. a DAE (784-128, gaussian:0.4, 10 epochs, batch 32) trained on the GPU and on the CPU
#      from the same seed: both corrupt each batch with the same counter-based noise, so
#      their test_mse_noisy must agree within 2%;
#   2b. a deep CAE pretrained twice on the GPU from the same seed: the same test_mse exactly;
#   3. seconds per epoch against PyTorch (scripts/torch_ref.py) and JAX with the whole epoch
#      compiled (scripts/jax_ref.py) on the same card, in the same run: medians of the epochs
#      after the first; aelab as it runs by default (steps replayed as CUDA graphs, chains of
#      elementwise kernels fused into generated kernels), with --tf32 (as JAX's default
#      precision) and with --no-replay; JAX at its default and at float32 precision;
#   3b. the GEMM paths (--gemm cublas, lt, tuned) against each other: 784-128 at batch 256 and
#      32, float32 and TF32, seconds per epoch as in 3;
#   4. each operation of aelab's training step timed alone (bench --profile), against the
#      step's time; where Nsight Systems is installed, the GPU kernels of two epochs, aelab's
#      and JAX's;
#   5. the seed preset on the GPU, timed.
# GPU_CHECK_DAE=0, GPU_CHECK_SPEED=0 and GPU_CHECK_PRESET=0 leave sections 2, 3-4 and 5 out;
# GPU_CHECK_SEEDS=3 runs the preset with seeds 1-3, to set the GPU's spread beside the CPU's.
# It writes OUT_DIR/gpu-check.md (the report), OUT_DIR/gpu-check.json (the figures),
# OUT_DIR/cuda-test.log, OUT_DIR/bench.jsonl (every epoch of every run), OUT_DIR/profiles.txt
# and OUT_DIR/metrics.md (the seed preset's table).
#
# usage: scripts/gpu-check.sh DATA_DIR [OUT_DIR]   (DATA_DIR holds the four MNIST .gz files)
# Go and CUDA must be on the machine (on the project's GPU machine: source .gpu/env.sh). The
# CUDA-enabled aelab is built into $AELAB_BUILD (default: a temporary folder).
set -uo pipefail
cd "$(dirname "$0")/.."
data=${1:?usage: scripts/gpu-check.sh DATA_DIR [OUT_DIR]}
out=${2:-.}
mkdir -p "$out"
report=$out/gpu-check.md
work=$(mktemp -d)
build=${AELAB_BUILD:-$work}
mkdir -p "$build"
python=${PYTHON:-python3}
status=0
say() { echo "$*" | tee -a "$report"; }
: > "$report"
device=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1)
date=$(date -u +%Y-%m-%d)
say "# aelab GPU check, $date"
say ""
say "device: ${device:-unknown}, driver $(nvidia-smi --query-gpu=driver_version --format=csv,noheader 2>/dev/null | head -1)"

# One set of cgo flags for the binary and the tests, so gorgonia.org/cu compiles once.
source scripts/cuda-env.sh
scripts/build-cuda.sh "$build/aelab" > "$work/build.log" 2>&1 || { cat "$work/build.log"; say "FAIL: build"; exit 1; }
go test -c -tags aelabcuda -o "$work/cuda.test" ./cuda/ > "$work/build-test.log" 2>&1 || { cat "$work/build-test.log"; say "FAIL: test build"; exit 1; }
aelab=$build/aelab

say ""
say "## 1. the CUDA executor against the CPU"
if (cd cuda && AELAB_REQUIRE_GPU=1 "$work/cuda.test" -test.v -test.count=1) > "$out/cuda-test.log" 2>&1; then
  parity=pass
  say "PASS: $(grep -c -- '--- PASS' "$out/cuda-test.log") tests and subtests, $(grep -c -- '--- SKIP' "$out/cuda-test.log") skipped (cuda-test.log)"
else
  parity=fail status=1
  say "FAIL:"; grep -B2 -A12 -- '--- FAIL' "$out/cuda-test.log" | head -60 | sed 's/^/    /' | tee -a "$report"
fi

if [[ ${GPU_CHECK_DAE:-1} == 1 ]]; then
say ""
say "## 2. a DAE trained on the GPU and on the CPU"
noisy=()
for dev in cuda cpu; do
  "$aelab" train --kind dae --hidden 128 --noise gaussian:0.4 --epochs 10 --batch 32 --device "$dev" \
    --data-dir "$data" --out "$work/dae-$dev.safetensors" > "$work/train-$dev.log" 2>&1 || { status=1; tail -5 "$work/train-$dev.log"; }
  "$aelab" eval --model "$work/dae-$dev.safetensors" --no-probe --device "$dev" --data-dir "$data" --json > "$work/eval-$dev.json" 2>"$work/eval-$dev.err" || status=1
  noisy+=("$(grep -o '"test_mse_noisy": *[0-9.e-]*' "$work/eval-$dev.json" | sed 's/.*: *//')")
  say "$dev: $(grep -o '[0-9.]*s of training' "$work/train-$dev.log" | head -1), test_mse_noisy ${noisy[-1]:-missing}"
done
gpu=${noisy[0]:-0} cpu=${noisy[1]:-0}
if awk "BEGIN {d = ($gpu - $cpu) / $cpu; exit !($cpu > 0 && d < 0.02 && d > -0.02)}"; then dae=PASS; else dae=FAIL status=1; fi
say "$dae: GPU $gpu against CPU $cpu (within 2%)"
fi

say ""
say "## 2b. the same deep CAE pretrained twice on the GPU"
again=()
for run in 1 2; do
  "$aelab" pretrain --kind cae --hidden 512,128 --epochs-per-layer 2 --device cuda --data-dir "$data" \
    --out "$work/cae-$run.safetensors" > "$work/cae-$run.log" 2>&1 || { status=1; tail -3 "$work/cae-$run.log"; }
  again+=("$("$aelab" eval --model "$work/cae-$run.safetensors" --no-probe --device cuda --data-dir "$data" --json 2>/dev/null | grep -o '"test_mse": *[0-9.e-]*' | sed 's/.*: *//')")
done
if [[ -n "${again[0]}" && "${again[0]}" == "${again[1]}" ]]; then repeat=PASS; else repeat=FAIL status=1; fi
say "$repeat: test_mse ${again[0]:-missing} and ${again[1]:-missing} (the GPU repeats a run exactly)"

if [[ ${GPU_CHECK_SPEED:-1} == 1 ]]; then
say ""
say "## 3. seconds per epoch on this card (60,000 images; median of the epochs after the first)"
say ""
say "JAX computes float32 products on tensor cores with TF32 inputs by default; aelab with --tf32"
say "does the same, and both can be asked for full float32 products (JAX --precision float32)."
say ""
median() { tail -n +2 | sort -g | awk '{a[NR]=$1} END {if (NR == 0) print "null"; else print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
field() { grep -o "\"$1\": *[0-9.e+-]*" | sed 's/.*: *//'; }
ratio() { awk "BEGIN {if ($2 > 0) printf \"%.2f\", $1 / $2; else print \"null\"}"; }
say "| architecture | batch | PyTorch | JAX (TF32) | aelab --tf32 | JAX float32 | aelab (float32) | aelab --no-replay | JAX / aelab, TF32 | JAX / aelab, float32 | PyTorch / aelab, float32 |"
say "|---|---|---|---|---|---|---|---|---|---|---|"
speed=""
: > "$out/bench.jsonl"
for cfg in "784-128 ae128 256" "784-128 ae128 32" "784-512-128 deep512 256" "hinton hinton 256"; do
  set -- $cfg
  timeout 300 "$python" scripts/torch_ref.py --data "$data" --device cuda --arch "$2" --batch "$3" --epochs 4 2>>"$work/ref.err" > "$work/torch.json"
  for p in default float32; do
    timeout 300 "$python" scripts/jax_ref.py --data "$data" --arch "$2" --batch "$3" --epochs 4 --precision $p 2>>"$work/ref.err" > "$work/jax-$p.json"
  done
  for v in float32 tf32 no-replay; do
    flag=()
    [[ $v == tf32 ]] && flag+=(--tf32)
    [[ $v == no-replay ]] && flag+=(--no-replay)
    timeout 300 "$aelab" bench --arch "$1" --batch "$3" --epochs 4 --device cuda "${flag[@]}" --data-dir "$data" --json \
      2>>"$work/bench.err" > "$work/aelab-$v.json"
  done
  cat "$work/torch.json" "$work"/jax-*.json "$work"/aelab-*.json >> "$out/bench.jsonl"
  t=$(field epoch_seconds < "$work/torch.json" | median)
  j=$(field epoch_seconds < "$work/jax-default.json" | median) j32=$(field epoch_seconds < "$work/jax-float32.json" | median)
  a=$(field epoch_seconds < "$work/aelab-float32.json" | median) a16=$(field epoch_seconds < "$work/aelab-tf32.json" | median)
  q=$(field epoch_seconds < "$work/aelab-no-replay.json" | median)
  mse=$(field test_mse < "$work/aelab-float32.json" | tail -1) mseq=$(field test_mse < "$work/aelab-no-replay.json" | tail -1)
  mset=$(field test_mse < "$work/aelab-tf32.json" | tail -1)
  name=$1; [[ $1 == hinton ]] && name=784-1000-500-250-30
  say "| $name | $3 | $t | $j | $a16 | $j32 | $a | $q | $(ratio "$j" "$a16") | $(ratio "$j32" "$a") | $(ratio "$t" "$a") |"
  speed+="${speed:+,
  }{\"arch\": \"$name\", \"batch\": $3, \"aelab_s\": $a, \"aelab_tf32_s\": $a16, \"aelab_no_replay_s\": $q, \"torch_s\": $t, \"jax_s\": $j, \"jax_float32_s\": $j32, \"test_mse_after_4\": ${mse:-null}, \"test_mse_after_4_tf32\": ${mset:-null}, \"test_mse_after_4_no_replay\": ${mseq:-null}}"
done
tail -3 "$work/ref.err" "$work/bench.err" 2>/dev/null | sed 's/^/    /' >> "$report"

say ""
say "## 3b. what computes the products (--gemm): 784-128, seconds per epoch (median of the epochs after the first)"
say ""
say "cublas: cublasSgemm; lt: cublasLtMatmul with the first algorithm of cuBLASLt's heuristic;"
say "tuned: the fastest of cublasSgemm and up to 8 heuristic algorithms, timed when the plan is prepared."
say ""
say "| batch | products | cublas | lt | tuned | cublas / lt | cublas / tuned |"
say "|---|---|---|---|---|---|---|"
gemms=""
: > "$work/gemm.err"
for batch in 256 32; do
  for prec in float32 tf32; do
    flag=()
    [[ $prec == tf32 ]] && flag+=(--tf32)
    secs=() mses=()
    for g in cublas lt tuned; do
      timeout 60 "$aelab" bench --arch 784-128 --batch "$batch" --epochs 4 --device cuda "${flag[@]}" --gemm "$g" --data-dir "$data" --json \
        2>>"$work/gemm.err" > "$work/gemm-$g.json" || status=1
      cat "$work/gemm-$g.json" >> "$out/bench.jsonl"
      secs+=("$(field epoch_seconds < "$work/gemm-$g.json" | median)")
      m=$(field test_mse < "$work/gemm-$g.json" | tail -1)
      mses+=("${m:-null}")
    done
    say "| $batch | $prec | ${secs[0]} | ${secs[1]} | ${secs[2]} | $(ratio "${secs[0]}" "${secs[1]}") | $(ratio "${secs[0]}" "${secs[2]}") |"
    gemms+="${gemms:+,
  }{\"arch\": \"784-128\", \"batch\": $batch, \"tf32\": $([[ $prec == tf32 ]] && echo true || echo false), \"cublas_s\": ${secs[0]}, \"lt_s\": ${secs[1]}, \"tuned_s\": ${secs[2]}, \"test_mse_after_4\": {\"cublas\": ${mses[0]}, \"lt\": ${mses[1]}, \"tuned\": ${mses[2]}}}"
  done
done
tail -3 "$work/gemm.err" | sed 's/^/    /' >> "$report"

say ""
say "## 4. where a step's time goes: each operation of the step timed alone (bench --profile)"
for cfg in "256" "256 --tf32" "32 --tf32" "32 --tf32 --gemm lt" "32 --tf32 --gemm tuned"; do
  set -- $cfg
  say ""
  say "784-128, batch $*:"
  timeout 120 "$aelab" bench --arch 784-128 --batch "$@" --epochs 2 --device cuda --profile --data-dir "$data" 2>&1 \
    | sed -n '/operations, each run/,$p' | sed 's/^/    /' | tee -a "$report"
done

# Where a step's time goes, when Nsight Systems is on the machine: every GPU kernel of two
# epochs of 784-128 at batch 256, aelab (float32 and TF32) and JAX, summed by kernel.
nsys=$(command -v nsys || ls /usr/local/cuda/bin/nsys /opt/nvidia/nsight-systems/*/bin/nsys /usr/local/cuda/nsight-systems-*/bin/nsys 2>/dev/null | head -1)
if [[ -n "$nsys" ]]; then
  say ""
  say "## 4b. kernels of two epochs of 784-128, batch 256 (Nsight Systems; profiles.txt)"
  : > "$out/profiles.txt"
  prof() {
    local name=$1; shift
    timeout 120 "$nsys" profile -o "$work/$name" --force-overwrite true "$@" > "$work/$name.log" 2>&1
    { echo "### $name: $*"; "$nsys" stats --report cuda_gpu_kern_sum --format csv "$work/$name.nsys-rep" 2>&1 | tail -n +1; echo; } >> "$out/profiles.txt"
  }
  prof aelab "$build/aelab-cuda-runner" bench --arch 784-128 --batch 256 --epochs 2 --device cuda --data-dir "$data" --json
  prof aelab-tf32 "$build/aelab-cuda-runner" bench --arch 784-128 --batch 256 --epochs 2 --device cuda --tf32 --data-dir "$data" --json
  prof jax "$python" scripts/jax_ref.py --data "$data" --arch ae128 --batch 256 --epochs 2
  say "$(grep -c . "$out/profiles.txt") lines in profiles.txt"
fi
fi # GPU_CHECK_SPEED

if [[ ${GPU_CHECK_PRESET:-1} == 1 ]]; then
  say ""
  say "## 5. the seed preset on the GPU (seeds: ${GPU_CHECK_SEEDS:-1})"
  begin=$(date +%s.%N)
  if "$aelab" experiment --preset seed --seeds "${GPU_CHECK_SEEDS:-1}" --device cuda --data-dir "$data" --out "$work/seed" > "$work/seed.log" 2>&1; then
    say "$(awk "BEGIN {printf \"%.1f\", $(date +%s.%N) - $begin}") s wall (metrics.md)"
    cp "$work/seed/metrics.md" "$out/metrics.md"
  else
    status=1; say "FAIL:"; tail -5 "$work/seed.log" | tee -a "$report"
  fi
fi

cat > "$out/gpu-check.json" <<EOF
{"device": "${device:-unknown}", "date": "$date", "parity": "$parity", "dae_noisy_gpu": ${gpu:-null}, "dae_noisy_cpu": ${cpu:-null}, "repeat": "${repeat:-}",
 "speed": [$speed],
 "gemm": [${gemms:-}]}
EOF
exit $status
