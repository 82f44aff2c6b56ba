#!/usr/bin/env bash
# A Slurm job array that runs an aelab experiment (a sweep) as N shards, one array task each,
# into one shared output folder; then the report is built once from what they made:
#
#   sbatch --array=0-7 scripts/slurm-sweep.sh sweep.yaml /shared/runs/sweep
#   sbatch --dependency=afterok:JOBID --export=ALL,REPORT=1 scripts/slurm-sweep.sh sweep.yaml /shared/runs/sweep
#
# The shard count is the array's size (SLURM_ARRAY_TASK_COUNT); each task makes its share,
# `aelab experiment --shard K/N`, K its SLURM_ARRAY_TASK_ID. A task that fails or is
# preempted is run again with the same index and goes on where it stopped. AELAB is the aelab
# binary (default: aelab on PATH); DEVICE its --device (default auto).
#SBATCH --job-name=aelab-sweep
#SBATCH --cpus-per-task=2
#SBATCH --time=04:00:00
#SBATCH --output=aelab-sweep-%A_%a.log
set -euo pipefail
config=${1:?usage: sbatch --array=0-N scripts/slurm-sweep.sh CONFIG.yaml OUT_DIR}
out=${2:?usage: sbatch --array=0-N scripts/slurm-sweep.sh CONFIG.yaml OUT_DIR}
aelab=${AELAB:-aelab}
if [ -n "${REPORT:-}" ]; then
  exec "$aelab" experiment --config "$config" --out "$out" --device "${DEVICE:-auto}" --report-only
fi
k=${SLURM_ARRAY_TASK_ID:?run it as a job array: sbatch --array=0-N}
n=${SLURM_ARRAY_TASK_COUNT:?run it as a job array: sbatch --array=0-N}
exec "$aelab" experiment --config "$config" --out "$out" --device "${DEVICE:-auto}" --shard "$k/$n"
