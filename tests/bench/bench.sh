#!/usr/bin/env bash
# bench.sh: time wasmslim against reference tools on real-world modules.
#
# Usage: tests/bench/bench.sh [CASES_FILE]        (what `make bench` runs)
#
# Reads the cases (default tests/bench/cases.txt, format described there),
# fetches the public corpus once with tests/bench/fetch.sh, builds the
# rusage helper, then for each case runs wasmslim and the reference command
# RUNS times, alternately (and in alternating order) so that machine noise
# hits both. Prints a markdown table of medians (time, peak RSS) and output
# sizes, with ratios: time ref/ours (>1: wasmslim is faster), RSS ours/ref
# and size ours/ref (<1: wasmslim is smaller). The same data, with every
# run, goes to $BUILD/bench.json. A command that fails on any run shows as
# FAIL (its later runs are skipped) and the script exits 1 at the end.
#
# Environment:
#   RUNS=5               runs per command
#   BUILD=build          build directory (rusage, bench.json), relative to cwd
#   WASMSLIM=$BUILD/wasmslim
#   BENCH_CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/wasmslim-bench   corpus dir
#   ONLY=REGEX           run only the cases whose label matches (grep -E)
#   CC=cc
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
RUNS=${RUNS:-5}
BUILD=$(realpath -m "${BUILD:-$ROOT/build}")
WASMSLIM=$(realpath -m "${WASMSLIM:-$BUILD/wasmslim}")
CACHE=${BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/wasmslim-bench}
CASES=$(realpath -m "${1:-$ROOT/tests/bench/cases.txt}")
ONLY=${ONLY:-}
RUSAGE=$BUILD/rusage
WORK=
FAILED=0
ROWS=()
JSON_CASES=()

die() { echo "bench.sh: $*" >&2; exit 2; }
log() { echo "bench: $*" >&2; }

cleanup() { [[ -z $WORK ]] || rm -rf "$WORK"; }

build_rusage() {
  local src=$ROOT/tests/bench/rusage.c
  mkdir -p "$BUILD"
  if [[ ! -x $RUSAGE || $src -nt $RUSAGE ]]; then
    "${CC:-cc}" -O2 -Wall -Wextra -o "$RUSAGE" "$src"
  fi
}

# resolve_module MODULE: print the path of a corpus name or repo path.
resolve_module() {
  local m=$1
  if [[ $m == */* ]]; then
    [[ $m == /* ]] && echo "$m" || echo "$ROOT/$m"
  else
    echo "$CACHE/${m%.wasm}.wasm"
  fi
}

# ref_script TEMPLATE: the template with the words IN and OUT replaced by
# references to $BENCH_IN and $BENCH_OUT (set in the command's environment).
ref_script() {
  local s=$1 w='[^[:alnum:]_]'
  for _ in 1 2; do # twice: adjacent matches share a delimiter
    s=$(sed -E "s/(^|$w)IN($w|\$)/\\1\"\$BENCH_IN\"\\2/g; s/(^|$w)OUT($w|\$)/\\1\"\$BENCH_OUT\"\\2/g" <<<"$s")
  done
  echo "$s"
}

# measure SIDE DIR IN OUT CMD...: one timed run of CMD, appended to
# DIR/SIDE.times; stderr kept in DIR/SIDE.err. Fails if CMD failed.
measure() {
  local side=$1 dir=$2 in=$3 out=$4
  shift 4
  rm -f "$out"
  BENCH_IN=$in BENCH_OUT=$out \
    "$RUSAGE" "$dir/$side.times" -- "$@" </dev/null >/dev/null 2>"$dir/$side.err"
}

# median FILE COLUMN FORMAT: median of one column of a times file.
median() {
  awk -v c="$2" '{ print $c }' "$1" | sort -g |
    awk -v f="$3" '{ a[NR] = $1 }
      END { printf f "\n", NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

fmt_bytes() {
  awk -v b="$1" 'BEGIN { if (b >= 1048576) printf "%.2f MiB", b / 1048576;
                         else if (b >= 1024) printf "%.1f KiB", b / 1024;
                         else printf "%d B", b }'
}
fmt_kib() { fmt_bytes "$(awk -v k="$1" 'BEGIN { printf "%.0f", k * 1024 }')"; }
fmt_secs() { awk -v s="$1" 'BEGIN { printf "%.3f s", s }'; }
# ratio A B [DIGITS]: A/B with 2 (or DIGITS) decimals.
ratio() { awk -v a="$1" -v b="$2" -v d="${3:-2}" 'BEGIN { if (b > 0) printf "%.*f", d, a / b; else print "-" }'; }

json_str() {
  local s=${1//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//$'\t'/\\t}
  printf '"%s"' "$s"
}

# runs_json FILE: the runs of a times file as a JSON array.
runs_json() {
  awk 'BEGIN { printf "[" }
       { printf "%s{\"seconds\": %s, \"peak_rss_kib\": %s, \"exit\": %s}", (NR > 1 ? ", " : ""), $1, $2, $3 }
       END { printf "]" }' "$1"
}

# side_result SIDE DIR OK OUT: sets R_TIME R_RSS R_SIZE (empty if failed)
# and R_JSON for one side of a case.
side_result() {
  local side=$1 dir=$2 ok=$3 out=$4
  R_TIME='' R_RSS='' R_SIZE=''
  if ((ok)); then
    R_TIME=$(median "$dir/$side.times" 1 %.6f)
    R_RSS=$(median "$dir/$side.times" 2 %.0f)
    R_SIZE=$(stat -c %s "$out")
    R_JSON="{\"ok\": true, \"median_seconds\": $R_TIME, \"median_peak_rss_kib\": $R_RSS, \"output_bytes\": $R_SIZE, \"runs\": $(runs_json "$dir/$side.times")}"
  else
    R_JSON="{\"ok\": false, \"runs\": $(runs_json "$dir/$side.times"), \"stderr\": $(json_str "$(head -c 2000 "$dir/$side.err")")}"
  fi
}

# report_failure LABEL SIDE DIR CMD: print what failed, to stderr.
report_failure() {
  local code
  code=$(tail -n 1 "$2/$1.times" 2>/dev/null | awk '{ print $3 }')
  {
    echo "FAIL [$3] $1 (exit ${code:-?}): $4"
    head -n 5 "$2/$1.err" | sed 's/^/    /'
  } >&2
}

# run_case LABEL MODULE FLAGS REF: benchmark one case, append its table row.
run_case() {
  local label=$1 module=$2 flags=$3 ref=$4
  local in dir ours_ok=1 ref_ok=1 has_ref=1 run script insize
  local -a ours_cmd flag_words
  in=$(resolve_module "$module")
  [[ -f $in ]] || die "$label: module $module not found ($in)"
  [[ $ref == - || -z $ref ]] && has_ref=0
  dir=$(mktemp -d "$WORK/case.XXXX")
  read -r -a flag_words <<<"$flags"
  ours_cmd=("$WASMSLIM" "$in" "${flag_words[@]}" -o "$dir/ours.wasm")
  script=$(ref_script "$ref")
  : >"$dir/ours.times"
  : >"$dir/ref.times"
  for ((run = 1; run <= RUNS; run++)); do
    log "$label: run $run/$RUNS"
    if ((run % 2 == 0 && has_ref && ref_ok)); then
      measure ref "$dir" "$in" "$dir/ref.wasm" sh -c "$script" || ref_ok=0
    fi
    if ((ours_ok)); then
      measure ours "$dir" "$in" "$dir/ours.wasm" "${ours_cmd[@]}" || ours_ok=0
    fi
    if ((run % 2 == 1 && has_ref && ref_ok)); then
      measure ref "$dir" "$in" "$dir/ref.wasm" sh -c "$script" || ref_ok=0
    fi
  done
  ((ours_ok)) || report_failure ours "$dir" "$label" "${ours_cmd[*]}"
  ((!has_ref || ref_ok)) || report_failure ref "$dir" "$label" "$ref (IN=$in)"
  ((ours_ok && (!has_ref || ref_ok))) || FAILED=1
  insize=$(stat -c %s "$in")
  add_row "$label" "$module" "$flags" "$ref" "$insize" "$dir" "$ours_ok" "$has_ref" "$ref_ok"
  rm -rf "$dir"
}

# add_row LABEL MODULE FLAGS REF INSIZE DIR OURS_OK HAS_REF REF_OK
add_row() {
  local label=$1 module=$2 flags=$3 ref=$4 insize=$5 dir=$6
  local ours_ok=$7 has_ref=$8 ref_ok=$9
  local o_t o_r o_s o_j f_t=- f_r=- f_s=- f_j=null rt=- rr=- rs=- row
  side_result ours "$dir" "$ours_ok" "$dir/ours.wasm"
  o_t=$R_TIME o_r=$R_RSS o_s=$R_SIZE o_j=$R_JSON
  if ((has_ref)); then
    side_result ref "$dir" "$ref_ok" "$dir/ref.wasm"
    f_t=$R_TIME f_r=$R_RSS f_s=$R_SIZE f_j=$R_JSON
    if ((ours_ok && ref_ok)); then
      rt=$(ratio "$f_t" "$o_t") rr=$(ratio "$o_r" "$f_r") rs=$(ratio "$o_s" "$f_s" 3)
    fi
  fi
  row="| $label | $(fmt_bytes "$insize") | $(cells "$ours_ok" 1 "$o_t" "$o_r" "$o_s")"
  row+=" | $(cells "$ref_ok" "$has_ref" "$f_t" "$f_r" "$f_s") | $rt | $rr | $rs |"
  ROWS+=("$row")
  JSON_CASES+=("{\"label\": $(json_str "$label"), \"module\": $(json_str "$module"), \"input_bytes\": $insize, \"flags\": $(json_str "$flags"), \"reference\": $(json_str "$ref"), \"wasmslim\": $o_j, \"ref\": $f_j, \"ratios\": {\"time_ref_over_ours\": $(num "$rt"), \"rss_ours_over_ref\": $(num "$rr"), \"size_ours_over_ref\": $(num "$rs")}}")
}

num() { [[ $1 == - ]] && echo null || echo "$1"; }

# cells OK PRESENT TIME RSS SIZE: three table cells for one side.
cells() {
  if (($2 == 0)); then
    echo "- | - | -"
  elif (($1 == 0)); then
    echo "FAIL | FAIL | FAIL"
  else
    echo "$(fmt_secs "$3") | $(fmt_kib "$4") | $(fmt_bytes "$5")"
  fi
}

print_table() {
  echo "| case | input | wasmslim time | wasmslim RSS | wasmslim size | ref time | ref RSS | ref size | time ref/ours | RSS ours/ref | size ours/ref |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  printf '%s\n' "${ROWS[@]}"
  echo
  echo "Medians of $RUNS runs. wasmslim: $WASMSLIM"
}

write_json() {
  local f=$BUILD/bench.json sep=
  {
    printf '{"runs": %s, "date": %s, "host_cpus": %s, "wasmslim": %s, "wasm_opt_version": %s, "cases": [' \
      "$RUNS" "$(json_str "$(date -u +%Y-%m-%dT%H:%M:%SZ)")" "$(nproc)" "$(json_str "$WASMSLIM")" \
      "$(json_str "$(wasm-opt --version 2>/dev/null || echo none)")"
    for c in "${JSON_CASES[@]}"; do
      printf '%s\n  %s' "$sep" "$c"
      sep=,
    done
    printf '\n]}\n'
  } >"$f"
  log "wrote $f"
}

main() {
  local label module flags ref
  [[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive integer"
  [[ -f $CASES ]] || die "no case list $CASES"
  [[ -x $WASMSLIM ]] || die "no wasmslim at $WASMSLIM (run make, or set WASMSLIM=)"
  "$ROOT/tests/bench/fetch.sh" "$CACHE" >&2
  build_rusage
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/wasmslim-bench.XXXXXX")
  trap cleanup EXIT
  while IFS='|' read -r label module flags ref; do
    [[ -z ${label//[[:space:]]/} || $label == \#* ]] && continue
    [[ -n $ONLY ]] && ! grep -Eq -- "$ONLY" <<<"$label" && continue
    run_case "$label" "$module" "$flags" "$ref"
  done <"$CASES"
  ((${#ROWS[@]})) || die "no case selected"
  print_table
  write_json
  ((FAILED == 0)) || { log "some commands failed"; exit 1; }
}

main
