#!/usr/bin/env bash
# Times the README's two commands as a new user meets them: a fresh clone, empty Go module and
# build caches and no cached digit classifier, so the module download, the build and the
# classifier's one-time training are all counted. Writes log.txt and times.json to
# scripts/results/fresh-clone/ (RESULTS_DIR to change it).
# usage: scripts/fresh-clone-time.sh [REPO]     (default: this checkout's HEAD)
set -euo pipefail
cd "$(dirname "$0")/.."
repo=${1:-$PWD}
results=${RESULTS_DIR:-$PWD/scripts/results/fresh-clone}
work=$(mktemp -d)
mkdir -p "$results"
exec > >(tee "$results/log.txt") 2>&1
git clone -q "$repo" "$work/aelab"
export GOMODCACHE=$work/gomodcache GOCACHE=$work/gocache XDG_CACHE_HOME=$work/usercache GOFLAGS=-modcacherw
echo "# fresh clone of $(git -C "$work/aelab" rev-parse --short HEAD), $(nproc) cores, $(go version | cut -d' ' -f3), empty caches"
cd "$work/aelab"
t0=$(date +%s.%N)
go run ./cmd/aelab experiment --preset quick
t1=$(date +%s.%N)
go test ./...
t2=$(date +%s.%N)
quick=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", b - a }')
tests=$(awk -v a="$t1" -v b="$t2" 'BEGIN { printf "%.0f", b - a }')
echo "quick preset from a fresh clone: ${quick} s; then go test ./...: ${tests} s"
printf '{"commit": "%s", "cores": %d, "quick_preset_seconds": %s, "go_test_seconds": %s}\n' \
  "$(git rev-parse --short HEAD)" "$(nproc)" "$quick" "$tests" > "$results/times.json"
chmod -R u+w "$work" && rm -rf "$work"
