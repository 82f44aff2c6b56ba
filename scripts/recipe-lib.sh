# Shared by the recipe scripts (sourced): where results go and how they are recorded.
# A recipe keeps its checkpoints in its OUT_DIR and writes log.txt and metrics.json to
# scripts/results/NAME/ (RESULTS_DIR to change it); metrics.json holds the recipe's figure,
# the wall time, the command and each evaluation's JSON line.

# recipe_start NAME ARGS...: builds aelab into $out and sends everything printed to the log.
recipe_start() {
  recipe=$1; shift
  results=${RESULTS_DIR:-scripts/results/$recipe}
  mkdir -p "$out" "$results"
  command="scripts/$recipe.sh $*"
  start=$(date +%s)
  exec > >(tee "$results/log.txt") 2>&1
  echo "# $command  ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(go version | cut -d' ' -f3), aelab $(git rev-parse --short HEAD 2>/dev/null || echo unknown))"
  go build -o "$out/aelab" ./cmd/aelab
}

# json_field FIELD: the number FIELD holds in the one-line JSON read from stdin.
json_field() { sed -n "s/.*\"$1\":\([-0-9.eE+]*\).*/\1/p"; }

# recipe_metrics KEY=VALUE...: writes metrics.json; a VALUE starting with { or [ is JSON.
recipe_metrics() {
  {
    printf '{"recipe": "%s", "command": "%s", "wall_seconds": %d' "$recipe" "$command" $(( $(date +%s) - start ))
    for kv in "$@"; do
      local k=${kv%%=*} v=${kv#*=}
      case $v in
        \{*|\[*|[0-9]*|-[0-9]*) printf ', "%s": %s' "$k" "$v" ;;
        *) printf ', "%s": "%s"' "$k" "$v" ;;
      esac
    done
    printf '}\n'
  } > "$results/metrics.json"
  echo "wrote $results/metrics.json"
}

# judge_walk NAME MODEL METHOD STEPS SNAPSHOTS [WALK FLAGS...]: walks $chains chains of MODEL
# from uniform noise, judges their last images with aelab samples score, prints the figures
# with the times, and adds NAME=JSON to the array fields.
judge_walk() {
  local name=$1 model=$2 method=$3 steps=$4 snapshots=$5
  shift 5
  local t0=$(date +%s)
  "$out/aelab" walk --model "$model" --method "$method" --steps "$steps" --chains "$chains" \
    --snapshots "$snapshots" --out "$out/$name.png" --samples-idx "$out/$name-idx3-ubyte" "$@" > /dev/null
  local t1=$(date +%s)
  local score=$("$out/aelab" samples score --idx "$out/$name-idx3-ubyte" --json)
  echo "$name: $score (walk $(( t1 - t0 )) s, judge $(( $(date +%s) - t1 )) s)"
  fields+=("$name=$score")
}
