#!/usr/bin/env bash
# check.sh - everything `make check` runs, in order: install missing test dependencies,
# build warnings-clean (-Werror), unit tests (plain and under ASan+UBSan), the spec
# testsuite, differential execution of the C fixtures, spec replay on rewritten modules,
# generated modules, a fuzz smoke run, the CLI tests, and the closing total.
# Usage: bash tests/check.sh        (from the repository root; BUILD=dir to relocate)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
JOBS=${JOBS:-2}
RESULTS=$(mktemp)
trap 'rm -f "$RESULTS"' EXIT
failed_steps=()

# record NAME PASSED FAILED
record() { echo "$1 $2 $3" >>"$RESULTS"; [ "$3" = 0 ] || failed_steps+=("$1"); }

# criterion_counts LOG -> "passed failed" from Criterion's Synthesis line
criterion_counts() {
    local line
    line=$(grep -a 'Synthesis: Tested:' "$1" | tail -n 1 | sed 's/\x1b\[[0-9;]*m//g')
    [ -n "$line" ] || { echo "0 1"; return; }
    local passing failing crashing
    passing=$(sed -n 's/.*Passing: \([0-9]*\).*/\1/p' <<<"$line")
    failing=$(sed -n 's/.*Failing: \([0-9]*\).*/\1/p' <<<"$line")
    crashing=$(sed -n 's/.*Crashing: \([0-9]*\).*/\1/p' <<<"$line")
    echo "$passing $((failing + crashing))"
}

# plain_counts LOG PREFIX -> "passed failed" from a "PREFIX: N passed, N failed" line
plain_counts() {
    local line
    line=$(grep -a "^$2: [0-9]* passed, [0-9]* failed" "$1" | tail -n 1)
    [ -n "$line" ] || { echo "0 1"; return; }
    sed 's/^[^:]*: \([0-9]*\) passed, \([0-9]*\) failed.*/\1 \2/' <<<"$line"
}

step() { echo; echo "=== $* [at ${SECONDS}s]"; }

# show_failures LOG: the first FAIL lines of a log (with their indented details)
show_failures() { grep -a -E '^(FAIL|  )' "$1" | head -n 30 || true; }

step "dependencies"
bash tests/deps.sh

step "build (-Werror)"
make -s -j"$JOBS" BUILD="$BUILD" CFLAGS="-O3 -g -Werror" "$BUILD/wasmslim" "$BUILD/test_unit"
make -s -j"$JOBS" BUILD="$BUILD" "$BUILD/wasmslim-san" "$BUILD/test_unit-san"
record build 1 0

step "unit tests"
log=$(mktemp)
"$BUILD/test_unit" -j"$JOBS" 2>&1 | tee "$log" | tail -n 3 || true
read -r p f < <(criterion_counts "$log"); record unit "$p" "$f"

step "unit tests under ASan+UBSan"
ASAN_OPTIONS=detect_leaks=1 "$BUILD/test_unit-san" -j"$JOBS" 2>&1 | tee "$log" | tail -n 3 || true
read -r p f < <(criterion_counts "$log"); record unit-san "$p" "$f"

step "spec testsuite (-O0 round trip, malformed and invalid modules)"
CHECK_INVALID=1 node tests/spec/run-spec.mjs --wasmslim "$BUILD/wasmslim" --jobs "$JOBS" 2>&1 | tee "$log" | tail -n 15 || true
if grep -q '^SKIP:' "$log"; then echo "spec testsuite absent: SKIPPED (loudly)"; else
    read -r p f < <(plain_counts "$log" spec); record spec "$p" "$f"; fi

step "spec malformed modules under ASan+UBSan"
# (leak checking is left to the unit and pass tests under the sanitizers: at exit it
# costs 35 ms a process, here thousands of them)
ASAN_OPTIONS=detect_leaks=0 node tests/spec/run-spec.mjs --wasmslim "$BUILD/wasmslim-san" --jobs "$JOBS" --malformed-only 2>&1 | tee "$log" | tail -n 4 || true
if ! grep -q '^SKIP:' "$log"; then read -r p f < <(plain_counts "$log" spec); record spec-san "$p" "$f"; fi

step "spec malformed and invalid modules refused by metering alone (its own check of the input)"
# (metering as the first pass checks the input's bodies as it builds them, against the
# module as it came: every second module, 13 s; all of them take 26 s)
CHECK_INVALID=1 node tests/spec/run-spec.mjs --wasmslim "$BUILD/wasmslim" --jobs "$JOBS" --malformed-only --every 2 \
    --pipeline "--fuel --stack-limit=100" 2>&1 | tee "$log" | tail -n 3 || true
if ! grep -q '^SKIP:' "$log"; then read -r p f < <(plain_counts "$log" spec); record spec-meter "$p" "$f"; fi

step "spec invalid modules through passes told not to validate (no crash)"
# (-O2 runs dce, dead-params, inline and remove-unused, and then the lazy metering)
# (each case EVERY|PIPELINE; the second on every second module: the first one meters
# every module too)
for run in "1|-O2 --fuel --stack-limit=100 --no-validate" \
    "2|--fuel --fuel-mode=exact --stack-limit=100 --stack-cost=frame --max-memory-pages=2 --no-validate"; do
    every=${run%%|*} pipeline=${run#*|}
    node tests/spec/run-spec.mjs --wasmslim "$BUILD/wasmslim" --jobs "$JOBS" --invalid-unchecked --every "$every" \
        --pipeline "$pipeline" 2>&1 | tee "$log" | tail -n 3 || true
    if ! grep -q '^SKIP:' "$log"; then read -r p f < <(plain_counts "$log" spec); record spec-unchecked "$p" "$f"; fi
done
# (under the sanitizers every fifth module: the whole set took 160 s of the check, every
# third 34 s of the 925 the whole check took in a slow hour)
ASAN_OPTIONS=detect_leaks=0 node tests/spec/run-spec.mjs --wasmslim "$BUILD/wasmslim-san" --jobs "$JOBS" --invalid-unchecked --every 5 \
    --pipeline "-O2 --fuel --stack-limit=100 --no-validate" 2>&1 | tee "$log" | tail -n 3 || true
if ! grep -q '^SKIP:' "$log"; then read -r p f < <(plain_counts "$log" spec); record spec-unchecked-san "$p" "$f"; fi

step "C fixtures: differential execution"
bash tests/diff/build-fixtures.sh "$BUILD/fixtures" 2>&1 | tail -n 3
# (the metering modes run on these same programs in tests/meter/fixtures.sh, from
# tests/cli/meter.sh, which also compares their output with the expected one)
bash tests/diff/run-diff.sh "$BUILD/wasmslim" "$BUILD/fixtures" \
    "-O0" "-O2" "-Oz" "-O2 -tnh" \
    2>&1 | tee "$log" | tail -n 8 || true
read -r p f < <(plain_counts "$log" diff); record diff "$p" "$f"
# (--strip-debug on the -g builds only: without DWARF it only drops the name section)
DIFF_MODULES='*g.wasm' bash tests/diff/run-diff.sh "$BUILD/wasmslim" "$BUILD/fixtures" "--strip-debug" \
    2>&1 | tee "$log" | tail -n 8 || true
read -r p f < <(plain_counts "$log" diff); record diff-strip "$p" "$f"

# (dce runs inside each of -O2 and -Oz, so it has no pipeline of its own here; -O3 has
# none either: on the spec modules its output is -O2's for all but 2 of 386 sampled, and
# determinism.sh, duplicates.sh (run under node before and after), features.sh and the
# inline pass tests run it)
step "spec replay: assertions on rewritten modules (-O0, --strip-all, -O2, -Oz)"
node tests/spec/replay.mjs --wasmslim "$BUILD/wasmslim" --pipeline "-O0" --pipeline "--strip-all" \
    --pipeline "-O2" --pipeline "-Oz" \
    --jobs "$JOBS" >"$log" 2>&1 || true
show_failures "$log"; tail -n 4 "$log"
if grep -q '^SKIP:' "$log"; then echo "spec testsuite absent: SKIPPED (loudly)"; else
    read -r p f < <(plain_counts "$log" replay); record replay "$p" "$f"; fi

step "generated modules (wasm-opt -ttf, --fuzz-exec-before as the oracle)"
# (no --strip-debug: binaryen's generated modules carry no custom section to strip)
GEN_DIR="$BUILD/gen" JOBS="$JOBS" bash tests/gen/run-gen.sh "$BUILD/wasmslim" 80 "-O0" "-O1" "-O2" "--fuel --fuel-init=4611686018427387904" >"$log" 2>&1 || true
show_failures "$log"; tail -n 2 "$log"
read -r p f < <(plain_counts "$log" gen); record gen "$p" "$f"

FUZZ_SMOKE_SECONDS=${FUZZ_SMOKE_SECONDS:-20}
step "fuzz smoke: fuzz_read and fuzz_pipeline side by side, ${FUZZ_SMOKE_SECONDS} s, ASan+UBSan"
if make -s -j"$JOBS" BUILD="$BUILD" "$BUILD/fuzz_read" "$BUILD/fuzz_pipeline" >"$log" 2>&1; then
    BUILD="$BUILD" FUZZ_FRESH=1 FUZZ_SEEDS=small bash tests/fuzz/run-fuzz.sh "$FUZZ_SMOKE_SECONDS" 2>&1 | tee "$log" | tail -n 8 || true
    read -r p f < <(plain_counts "$log" fuzz)
else
    tail -n 20 "$log"; f=1
fi
if [ "$f" = 0 ]; then record fuzz-smoke 1 0; else record fuzz-smoke 0 1; fi

step "pass output tests (tests/passes)"
bash tests/passes/run.sh "$BUILD/wasmslim" 2>&1 | tee "$log" | tail -n 5 || true
read -r p f < <(plain_counts "$log" passes); record passes "$p" "$f"

step "pass output tests on the debug build (ASan+UBSan, module validated after every pass)"
bash tests/passes/run.sh "$BUILD/wasmslim-san" 2>&1 | tee "$log" | tail -n 5 || true
read -r p f < <(plain_counts "$log" passes); record passes-debug "$p" "$f"

# The CLI scripts run $JOBS at a time, each into its own log, their steps then shown in
# order.  Most are serial (node and wabt runs one after another); the two longest,
# remove_unused and meter, start first, with JOBS=1 as all of them, so that they share
# the cores with the serial ones instead of splitting their own work.
cli_tests=()
for t in tests/cli/*.sh; do
    [ -e "$t" ] && [ "$(basename "$t")" != lib.sh ] && cli_tests+=("$t")
done
cli_logs=$(mktemp -d)
step "tests/cli: ${#cli_tests[@]} scripts, $JOBS at a time"
for t in tests/cli/remove_unused.sh tests/cli/meter.sh "${cli_tests[@]}"; do
    [ -e "$cli_logs/$(basename "$t" .sh).log" ] && continue
    while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n || true; done
    JOBS=1 bash "$t" "$BUILD/wasmslim" >"$cli_logs/$(basename "$t" .sh).log" 2>&1 &
done
wait || true
for t in "${cli_tests[@]}"; do
    name=$(basename "$t" .sh)
    step "$t"
    show_failures "$cli_logs/$name.log"; tail -n 5 "$cli_logs/$name.log"
    read -r p f < <(plain_counts "$cli_logs/$name.log" "$name"); record "$name" "$p" "$f"
done
rm -rf "$cli_logs" "$log"

step "summary"
total_p=0; total_f=0
while read -r name p f; do
    printf '  %-14s %6s passed %4s failed\n' "$name" "$p" "$f"
    total_p=$((total_p + p)); total_f=$((total_f + f))
done <"$RESULTS"
[ ${#failed_steps[@]} -eq 0 ] || echo "failing steps: ${failed_steps[*]}"
echo "time: ${SECONDS}s"
echo "check: $total_p passed, $total_f failed"
[ "$total_f" = 0 ]
