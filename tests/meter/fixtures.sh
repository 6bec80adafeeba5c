#!/usr/bin/env bash
# fixtures.sh - exactness of the metering pass on the C fixtures (WASI programs): the
# fuel a program spends must be the same under the naive instrumentation
# (tests/meter/naive.c) and under every wasmslim mode, and the program must print
# the same as without metering.  Then, per program, a run with too little fuel must
# trap, at the same point twice, within the lazy bound.
#
# Usage: bash tests/meter/fixtures.sh WASMSLIM NAIVE FIXTURES_DIR
#   FIXTURES_DIR as made by tests/diff/build-fixtures.sh (NAME.VARIANT.wasm and
#   NAME.VARIANT.expected), less the O0g and Ozg variants (below).  Modes checked on
#   every module: --fuel (lazy) and
#   --fuel-mode=exact; on the -O2 ones also --fuel-import (refill from 0 fuel, the
#   host granting what is asked), --stack-limit with --stack-cost=frame, and
#   --fuel-per-byte=3 (against the naive tool with the same K).
# Runs in parallel ($JOBS, default nproc).  Last line: "fixtures: N passed, N failed".
set -uo pipefail
WS=$(realpath "$1")
NAIVE=$(realpath "$2")
DIR=$(realpath "$3")
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib/cases.sh
. "$HERE/../lib/cases.sh"
RUN=$HERE/../diff/wasi-run.mjs
BIG=4611686018427387904
JOBS=${JOBS:-$(nproc)}
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT

# The programs run in batches (wasi-run.mjs --batch: $JOBS node processes, a worker per
# run) in two rounds: every instrumented variant with enough fuel, then, once the fuel
# each program needs is known, the low-fuel runs of the -O2 ones.

# prepare MODULE: instruments its variants into $W/NAME/ (naive, lazy, exact; on -O2
# ones also refill, stack, naive3 with K=3 and perbyte3) and lists their runs in
# $W/NAME/runs; a variant wasmslim refuses gets a FAIL line in $W/NAME/fail.
prepare() {
    local mod=$1 b t
    b=$(basename "$mod" .wasm)
    t=$W/$b
    mkdir -p "$t"
    run_line() { printf '%s\t%s\t%s\t%s\n' "$t/$1.wasm" "$t/$1.out" "$t/$1.err" "$2" >>"$t/runs"; }
    variant() { # NAME RUNNER-OPTIONS -- WASMSLIM-FLAGS
        local name=$1 ropt=$2
        shift 2
        if "$WS" "$mod" "$@" -q -o "$t/$name.wasm" 2>"$t/ws.err"; then run_line "$name" "$ropt"
        else echo "FAIL $b $name: $(head -n 2 "$t/ws.err")" >>"$t/fail"; fi
    }
    "$NAIVE" "$mod" "$t/naive.wasm" --init $BIG && run_line naive "--fuel=$BIG"
    variant lazy "--fuel=$BIG" --fuel
    variant exact "--fuel=$BIG" --fuel --fuel-mode=exact
    if [[ $b == *.O2 ]]; then
        variant refill "--fuel=0 --refill=env.gas" --fuel --fuel-import=env.gas
        variant stack "--fuel=$BIG" --fuel --stack-limit=1000000 --stack-cost=frame
        "$NAIVE" "$mod" "$t/naive3.wasm" --init $BIG --per-byte 3 && run_line naive3 "--fuel=$BIG"
        variant perbyte3 "--fuel=$BIG" --fuel --fuel-per-byte=3
        "$WS" "$mod" --fuel -q -o "$t/low-lazy.wasm" 2>/dev/null
        "$WS" "$mod" --fuel --fuel-mode=exact -q -o "$t/low-exact.wasm" 2>/dev/null
    fi
}

# spent T NAME EXPECTED: sets SPENT to the fuel run NAME spent (x when its output differs)
spent() {
    local t=$1 name=$2 expected=$3 left refilled
    if [ ! -f "$t/$name.out" ] || ! cmp -s "$t/$name.out" "$expected"; then SPENT=x; return; fi
    left=$(sed -n 's/^wasi-run: fuel-left=//p' "$t/$name.err")
    refilled=$(sed -n 's/^wasi-run: refilled=\([0-9]*\).*/\1/p' "$t/$name.err")
    local start=$BIG
    [ -n "$refilled" ] && start=0
    SPENT=$((start - ${left:-0} + ${refilled:-0}))
}

# judge MODULE: one line per check, "ok ..." or "FAIL ..."; on -O2 modules lists the
# low-fuel runs (a tenth of the fuel needed, twice per mode) in $W/NAME/low.
judge() {
    local mod=$1 b t expected ref name need
    b=$(basename "$mod" .wasm)
    t=$W/$b
    expected=${mod%.wasm}.expected
    [ -f "$expected" ] || { echo "FAIL $b: no $expected"; return; }
    [ -f "$t/fail" ] && cat "$t/fail"
    spent "$t" naive "$expected"
    need=$SPENT
    ref=$need
    [ "$ref" = x ] && echo "FAIL $b naive: output differs"
    for name in lazy exact refill stack naive3 perbyte3; do
        [ -f "$t/$name.wasm" ] || continue
        spent "$t" "$name" "$expected"
        if [ "$name" = naive3 ]; then ref=$SPENT; continue; fi
        if [ "$SPENT" = x ]; then echo "FAIL $b $name: output differs"
        elif [ "$SPENT" = "$ref" ]; then echo "ok $b $name"
        else echo "FAIL $b $name: spent $SPENT, naive $ref"; fi
    done
    [[ $b == *.O2 ]] || return 0
    [ "$need" = x ] && return 0
    echo "$need" >"$t/need"
    local mode i
    for mode in lazy exact; do
        for i in 1 2; do
            printf '%s\t%s\t%s\t%s\n' "$t/low-$mode.wasm" "$t/low-$mode$i.out" "$t/low-$mode$i.err" \
                "--fuel=$((need / 10))" >>"$t/low"
        done
    done
}

# With a tenth of the fuel it needs, the program traps at the same point twice, the
# fuel below zero by at most the recorded lazy bound (exact: by the cost of the class
# it could not pay).
judge_low() {
    local mod=$1 b t mode rc left1 left2 bound
    b=$(basename "$mod" .wasm)
    t=$W/$b
    [ -f "$t/low" ] || return 0
    for mode in lazy exact; do
        rc=$(sed -n 's/^exit=//p' "$t/low-${mode}1.out")
        left1=$(sed -n 's/^wasi-run: fuel-left=//p' "$t/low-${mode}1.err")
        left2=$(sed -n 's/^wasi-run: fuel-left=//p' "$t/low-${mode}2.err")
        # the metering record is a custom section of text lines: read from the bytes
        bound=$(grep -a -o 'fuel.lazy-bound [0-9]*' "$t/low-$mode.wasm" | head -n 1 | sed 's/.* //')
        if [ "$rc" != 134 ] || [ "$left1" != "$left2" ]; then
            echo "FAIL $b low-fuel $mode: rc=$rc left $left1 / $left2"
        elif [ $mode = lazy ] && { [ "$left1" -ge 0 ] || [ $((-left1)) -gt "$bound" ]; }; then
            echo "FAIL $b low-fuel lazy: left $left1, bound $bound"
        elif [ $mode = exact ] && [ "$left1" -ge 0 ]; then
            echo "FAIL $b low-fuel exact: left $left1"
        else
            echo "ok $b low-fuel $mode"
        fi
    done
}

export WS NAIVE BIG W
export -f prepare
ls "$DIR"/*.wasm >/dev/null 2>&1 || { echo "fixtures: no modules in $DIR"; echo "fixtures: 0 passed, 1 failed"; exit 1; }
# (the -O0 -g and -Oz -g modules are left out: their code is their plain twin's, and
# O2g keeps the padded LEB128s of a -g link in the set)
mods=()
for m in "$DIR"/*.wasm; do [[ $m == *.O0g.wasm || $m == *.Ozg.wasm ]] || mods+=("$m"); done
printf '%s\0' "${mods[@]}" | xargs -0 -n 1 -P "$JOBS" bash -c 'prepare "$0"'
run_batches "$W" "$JOBS" "$RUN" "$W"/*/runs
out=$(for m in "${mods[@]}"; do judge "$m"; done)
run_batches "$W" "$JOBS" "$RUN" "$W"/*/low
out+=$'\n'$(for m in "${mods[@]}"; do judge_low "$m"; done)
grep '^FAIL' <<<"$out"
pass=$(grep -c '^ok' <<<"$out")
fail=$(grep -c '^FAIL' <<<"$out")
echo "fixtures: $pass passed, $fail failed"
[ "$fail" = 0 ]
