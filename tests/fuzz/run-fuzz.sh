#!/usr/bin/env bash
# run-fuzz.sh - run the libFuzzer targets (tests/fuzz/fuzz_*.c) for a while.
#
# Usage: tests/fuzz/run-fuzz.sh SECONDS [TARGET...]     (from `make fuzz`)
#
#   SECONDS  how long each target runs (libFuzzer -max_total_time); the targets run
#            at the same time, one process each, so the wall time is about SECONDS
#   TARGET   read, pipeline (default: both); the binaries are $BUILD/fuzz_TARGET
#            (make $BUILD/fuzz_TARGET builds them)
#
# Seed corpus, rebuilt on every run in $BUILD/fuzz-corpus/seed, with FUZZ_SEEDS=full
# (the default): fixtures/demo/hello.wasm, a fixed sample of about 500 small spec modules
# (every 12th .wasm under 4 KiB of $SPEC_DIR/json, valid, malformed and invalid ones
# alike), $BUILD/fixtures/*.wasm and *.o (the C fixtures: linked modules and relocatable
# objects), the first 50 $BUILD/gen/*.wasm, the Emscripten builds under 100 KiB
# ($BUILD/emscripten/*.wasm: legacy exceptions, invoke_*, threads, SIMD, a side
# module; make corpus builds them), when present, and every
# tests/fuzz/regressions/* input.  libFuzzer reads at most -max_len bytes of a seed (the
# larger fixtures are cut short).  FUZZ_SEEDS=small (make check's smoke run) leaves out
# the inputs over 8 KiB (hello.wasm, the linked fixtures, the larger objects): a 64 KiB
# module takes fuzz_pipeline about a second under ASan, so a short run would spend all
# its time on them.  What a target finds is kept in $BUILD/fuzz-corpus/TARGET (the corpus
# grows from run to run), or in a temporary directory with FUZZ_FRESH=1 (the smoke run).
#
# Options passed to every target: -max_len=65536 -timeout=10 -rss_limit_mb=2048
# -max_total_time=SECONDS -print_final_stats=1; crashes, leaks, timeouts and OOMs are
# written as $BUILD/fuzz-artifacts/TARGET-KIND-SHA1 and the log is
# $BUILD/fuzz-logs/TARGET.log.  Per target one line: executions, coverage (cov: edges,
# ft: features), corpus size, slowest input, and the artifact if any.  A target passes
# when it ran for the whole time and left no artifact other than slow-unit-* (inputs
# that took as long as -report_slow_units, 10 s: listed as notes, as wall time depends
# on the machine's load; an input over -timeout is a failure).  The last line is exactly
# "fuzz: N passed, N failed"; exit status 1 if a target failed.
# Environment: BUILD (default build), SPEC_DIR (default ../shared/spec),
# FUZZ_SEEDS=full|small, FUZZ_FRESH=1, FUZZ_ARGS (more libFuzzer options).
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
SPEC_DIR=${SPEC_DIR:-../shared/spec}
MAX_LEN=65536

if (($# < 1)) || [[ ! $1 =~ ^[0-9]+$ ]]; then
    sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
    exit 2
fi
seconds=$1
shift
targets=("$@")
((${#targets[@]})) || targets=(read pipeline)
for t in "${targets[@]}"; do
    [[ -x $BUILD/fuzz_$t ]] || { echo "run-fuzz: no $BUILD/fuzz_$t (make $BUILD/fuzz_$t)" >&2; exit 2; }
done

# ---- seed corpus ---------------------------------------------------------------
seed=$BUILD/fuzz-corpus/seed
rm -rf "$seed"
mkdir -p "$seed" "$BUILD/fuzz-artifacts" "$BUILD/fuzz-logs"
case ${FUZZ_SEEDS:=full} in full) max_seed=$MAX_LEN ;; small) max_seed=8192 ;; *)
    echo "run-fuzz: FUZZ_SEEDS must be full or small" >&2; exit 2 ;; esac
add() { # FILE PREFIX
    if [[ $FUZZ_SEEDS == full ]] || (($(stat -c %s "$1") <= max_seed)); then cp "$1" "$seed/$2$(basename "$1")"; fi
}
add fixtures/demo/hello.wasm demo-
nspec=0
if [[ -d $SPEC_DIR/json ]]; then
    while IFS= read -r f; do add "$f" spec-; nspec=$((nspec + 1)); done < <(
        find "$SPEC_DIR/json" -name '*.wasm' -size -4k | LC_ALL=C sort | awk 'NR % 12 == 0')
fi
for f in "$BUILD"/fixtures/*.wasm "$BUILD"/fixtures/*.o; do
    if [[ -e $f ]]; then add "$f" fixture-; fi
done
while IFS= read -r f; do add "$f" gen-; done < <(
    find "$BUILD/gen" -maxdepth 1 -name '*.wasm' 2>/dev/null | LC_ALL=C sort -V | head -n 50)
while IFS= read -r f; do add "$f" emscripten-; done < <(
    find "$BUILD/emscripten" -maxdepth 1 -name '*.wasm' -size -100k 2>/dev/null | LC_ALL=C sort)
for f in tests/fuzz/regressions/*; do
    if [[ -f $f && $f != *.md ]]; then add "$f" regression-; fi
done
echo "seed corpus ($FUZZ_SEEDS): $(find "$seed" -type f | wc -l) files ($nspec spec modules) in $seed"

# ---- run ---------------------------------------------------------------------------
work=()
tmp=""
if [[ ${FUZZ_FRESH:-0} == 1 ]]; then
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/wasmslim-fuzz.XXXXXX")
    trap 'rm -rf "$tmp"' EXIT
fi
pids=()
for t in "${targets[@]}"; do
    dir=${tmp:-$BUILD/fuzz-corpus}/$t
    mkdir -p "$dir"
    work+=("$dir")
    rm -f "$BUILD/fuzz-artifacts/$t-"*
    # shellcheck disable=SC2086 # FUZZ_ARGS: deliberate word splitting
    UBSAN_OPTIONS=print_stacktrace=1 "$BUILD/fuzz_$t" "$dir" "$seed" -max_len=$MAX_LEN -timeout=10 \
        -rss_limit_mb=2048 -max_total_time="$seconds" -print_final_stats=1 \
        -artifact_prefix="$BUILD/fuzz-artifacts/$t-" ${FUZZ_ARGS:-} >"$BUILD/fuzz-logs/$t.log" 2>&1 &
    pids+=($!)
done
passed=0 failed=0
for i in "${!targets[@]}"; do
    t=${targets[$i]}
    rc=0
    wait "${pids[$i]}" || rc=$?
    log=$BUILD/fuzz-logs/$t.log
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    cov=$(grep -a -o 'cov: [0-9]* ft: [0-9]* corp: [0-9]*/[0-9a-zA-Z]*' "$log" | tail -n 1 || true)
    artifacts=$(find "$BUILD/fuzz-artifacts" -name "$t-*" ! -name "$t-slow-unit-*" -type f | LC_ALL=C sort)
    slow=$(find "$BUILD/fuzz-artifacts" -name "$t-slow-unit-*" -type f | LC_ALL=C sort)
    slowest=$(sed -n 's/^stat::slowest_unit_time_sec: *//p' "$log" | tail -n 1)
    if ((rc == 0)) && [[ -z $artifacts ]]; then
        passed=$((passed + 1))
        echo "$t: ${execs:-?} execs in ${seconds}s, ${cov:-no coverage line}, slowest input ${slowest:-?}s"
        for a in $slow; do echo "  note: slow input (not a failure; -timeout=10 makes a hang one): $a"; done
    else
        failed=$((failed + 1))
        echo "FAIL $t: stopped after ${execs:-?} execs (exit $rc), ${cov:-no coverage line}"
        grep -a -m 1 -E 'ERROR: |runtime error|fuzz_[a-z]+: ' "$log" | sed 's/^/  /' || true
        grep -a -m 1 '^SUMMARY: ' "$log" | sed 's/^/  /' || true
        for a in $artifacts; do echo "  artifact: $a (repro: $BUILD/fuzz_$t $a)"; done
        echo "  log: $log"
    fi
done
echo "fuzz: $passed passed, $failed failed"
((failed == 0))
