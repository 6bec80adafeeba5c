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
RUN=$HERE/../diff/wasi-run.mjs
BIG=4611686018427387904

# one MODULE: prints one line per check, "ok ..." or "FAIL ..."
one() {
    local mod=$1 t
    t=$(mktemp -d)
    local b expected
    b=$(basename "$mod" .wasm)
    expected=${mod%.wasm}.expected
    [ -f "$expected" ] || { echo "FAIL $b: no $expected"; rm -rf "$t"; return; }
    # spent NAME WASM [RUNNER OPTIONS...]: sets SPENT, checks the output
    spent() {
        local name=$1 wasm=$2
        shift 2
        node --no-warnings "$RUN" "$@" "$wasm" </dev/null >"$t/$name.out" 2>"$t/$name.err"
        printf 'exit=%d\n' $? >>"$t/$name.out"
        local left refilled
        left=$(sed -n 's/^wasi-run: fuel-left=//p' "$t/$name.err")
        refilled=$(sed -n 's/^wasi-run: refilled=\([0-9]*\).*/\1/p' "$t/$name.err")
        if ! cmp -s "$t/$name.out" "$expected"; then echo "FAIL $b $name: output differs"; SPENT=x; return; fi
        local start=$BIG
        [ -n "$refilled" ] && start=0
        SPENT=$((start - ${left:-0} + ${refilled:-0}))
    }
    "$NAIVE" "$mod" "$t/naive.wasm" --init $BIG
    spent naive "$t/naive.wasm" --fuel=$BIG
    local ref=$SPENT
    check_mode() { # NAME RUNNER-OPTIONS -- WASMSLIM-FLAGS
        local name=$1 ropt=$2
        shift 2
        if ! "$WS" "$mod" "$@" -q -o "$t/$name.wasm" 2>"$t/ws.err"; then echo "FAIL $b $name: $(head -n 2 "$t/ws.err")"; return; fi
        # shellcheck disable=SC2086
        spent "$name" "$t/$name.wasm" $ropt
        if [ "$SPENT" = "$ref" ]; then echo "ok $b $name"; else echo "FAIL $b $name: spent $SPENT, naive $ref"; fi
    }
    check_mode lazy "--fuel=$BIG" --fuel
    check_mode exact "--fuel=$BIG" --fuel --fuel-mode=exact
    if [[ $b == *.O2 ]]; then
        check_mode refill "--fuel=0 --refill=env.gas" --fuel --fuel-import=env.gas
        check_mode stack "--fuel=$BIG" --fuel --stack-limit=1000000 --stack-cost=frame
        "$NAIVE" "$mod" "$t/naive3.wasm" --init $BIG --per-byte 3
        spent naive3 "$t/naive3.wasm" --fuel=$BIG
        ref=$SPENT
        check_mode perbyte3 "--fuel=$BIG" --fuel --fuel-per-byte=3
        low_fuel
    fi
    rm -rf "$t"
}

# With a tenth of the fuel it needs, the program traps at the same point twice, the
# fuel below zero by at most the recorded lazy bound (exact: by the cost of the class
# it could not pay).
low_fuel() {
    local need=$ref mode left1 left2 bound
    local fuel=$((need / 10))
    for mode in lazy exact; do
        "$WS" "$mod" --fuel --fuel-mode=$mode -q -o "$t/low.wasm" 2>/dev/null
        node --no-warnings "$RUN" --fuel=$fuel "$t/low.wasm" </dev/null >/dev/null 2>"$t/low1.err"
        local rc=$?
        node --no-warnings "$RUN" --fuel=$fuel "$t/low.wasm" </dev/null >/dev/null 2>"$t/low2.err"
        left1=$(sed -n 's/^wasi-run: fuel-left=//p' "$t/low1.err")
        left2=$(sed -n 's/^wasi-run: fuel-left=//p' "$t/low2.err")
        bound=$(node --experimental-wasm-return_call -e "const fs=require('fs');const s=WebAssembly.Module.customSections(new WebAssembly.Module(fs.readFileSync('$t/low.wasm')),'wasmslim.metering')[0];const m=/fuel.lazy-bound (\d+)/.exec(Buffer.from(s).toString());console.log(m?m[1]:'')")
        if [ $rc -ne 134 ] || [ "$left1" != "$left2" ]; then
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

export WS NAIVE RUN BIG
export -f one low_fuel
ls "$DIR"/*.wasm >/dev/null 2>&1 || { echo "fixtures: no modules in $DIR"; echo "fixtures: 0 passed, 1 failed"; exit 1; }
# (the -O0 -g and -Oz -g modules are left out: their code is their plain twin's, and
# O2g keeps the padded LEB128s of a -g link in the set)
mods=()
for m in "$DIR"/*.wasm; do [[ $m == *.O0g.wasm || $m == *.Ozg.wasm ]] || mods+=("$m"); done
out=$(printf '%s\0' "${mods[@]}" | xargs -0 -n 1 -P "${JOBS:-$(nproc)}" bash -c 'one "$0"')
grep '^FAIL' <<<"$out"
pass=$(grep -c '^ok' <<<"$out")
fail=$(grep -c '^FAIL' <<<"$out")
echo "fixtures: $pass passed, $fail failed"
[ "$fail" = 0 ]
