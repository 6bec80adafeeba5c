#!/usr/bin/env bash
# check.sh - everything `make check` runs, in order: install missing test dependencies,
# build warnings-clean (-Werror), unit tests (plain and under ASan+UBSan), the spec
# testsuite, differential execution of the C fixtures, and the closing total.
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

step() { echo; echo "=== $*"; }

step "dependencies"
bash tests/deps.sh

step "build (-Werror)"
make -s -j"$JOBS" BUILD="$BUILD" CFLAGS="-O2 -g -Werror" "$BUILD/wasmslim" "$BUILD/test_unit"
make -s -j"$JOBS" BUILD="$BUILD" "$BUILD/wasmslim-san" "$BUILD/test_unit-san"
record build 1 0

step "unit tests"
log=$(mktemp)
"$BUILD/test_unit" -j"$JOBS" 2>&1 | tee "$log" | tail -n 3 || true
read -r p f < <(criterion_counts "$log"); record unit "$p" "$f"

step "unit tests under ASan+UBSan"
ASAN_OPTIONS=detect_leaks=1 "$BUILD/test_unit-san" -j"$JOBS" 2>&1 | tee "$log" | tail -n 3 || true
read -r p f < <(criterion_counts "$log"); record unit-san "$p" "$f"

step "spec testsuite (-O0 round trip, malformed modules)"
node tests/spec/run-spec.mjs --wasmslim "$BUILD/wasmslim" --jobs "$JOBS" 2>&1 | tee "$log" | tail -n 15 || true
if grep -q '^SKIP:' "$log"; then echo "spec testsuite absent: SKIPPED (loudly)"; else
    read -r p f < <(plain_counts "$log" spec); record spec "$p" "$f"; fi

step "spec malformed modules under ASan+UBSan"
node tests/spec/run-spec.mjs --wasmslim "$BUILD/wasmslim-san" --jobs "$JOBS" --malformed-only 2>&1 | tee "$log" | tail -n 4 || true
if ! grep -q '^SKIP:' "$log"; then read -r p f < <(plain_counts "$log" spec); record spec-san "$p" "$f"; fi

step "C fixtures: differential execution"
bash tests/diff/build-fixtures.sh "$BUILD/fixtures" 2>&1 | tail -n 3
bash tests/diff/run-diff.sh "$BUILD/wasmslim" "$BUILD/fixtures" \
    "-O0" "--strip-debug" "--strip-dwarf" "--strip-all" "--strip-names=local" "-O0 --strip-producers" \
    2>&1 | tee "$log" | tail -n 8 || true
read -r p f < <(plain_counts "$log" diff); record diff "$p" "$f"

for t in tests/cli/*.sh; do
    [ -e "$t" ] || continue
    step "$t"
    bash "$t" "$BUILD/wasmslim" 2>&1 | tee "$log" | tail -n 5 || true
    name=$(basename "$t" .sh)
    read -r p f < <(plain_counts "$log" "$name"); record "$name" "$p" "$f"
done
rm -f "$log"

step "summary"
total_p=0; total_f=0
while read -r name p f; do
    printf '  %-14s %6s passed %4s failed\n' "$name" "$p" "$f"
    total_p=$((total_p + p)); total_f=$((total_f + f))
done <"$RESULTS"
[ ${#failed_steps[@]} -eq 0 ] || echo "failing steps: ${failed_steps[*]}"
echo "check: $total_p passed, $total_f failed"
[ "$total_f" = 0 ]
