# shellcheck shell=bash
# built.sh - shared by the corpus scripts (run.sh; emscripten.sh and rust.sh, which
# build programs with a compiler from Debian), which check that programs still work
# after wasmslim rewrote their modules.  Sourced right after the caller set HERE (its
# directory; the caller's $1 is WASMSLIM, default build/wasmslim); sets ROOT, WS, SAN
# (WASMSLIM_SAN, default wasmslim-san beside WS) and T (a temporary directory removed
# at exit) and defines the counters, the variants, the naive meter and the checks that
# do not depend on how a program runs.  For check_fuel the caller defines spent NAME
# FLAGS... (the fuel one run spends, "" on failure).

ROOT=$(cd "$HERE/../.." && pwd)
WS=$(realpath "${1:-$ROOT/build/wasmslim}")
SAN=${WASMSLIM_SAN:-$(dirname "$WS")/wasmslim-san}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
LABEL=${LABEL:-$(basename "$0" .sh)}
PASS=0
FAIL=0
ok() { PASS=$((PASS + 1)); }
fail() { FAIL=$((FAIL + 1)); echo "FAIL $*"; }
BIG=4611686018427387904

# Every -O level, the trap assumption, stripping, and metering with fuel to spare.
# shellcheck disable=SC2034 # used by the scripts that source this one
VARIANTS=("-O0" "-O1" "-O2" "-O3" "-Oz" "-O1 -tnh" "--strip-all" "--strip-debug" "--fuel --fuel-init=$BIG"
    "--fuel --fuel-mode=exact --stack-limit=100000000 --fuel-init=$BIG")
SAN_PIPELINES=("-O3" "-Oz" "--fuel --fuel-mode=exact --stack-limit=1000 --stack-cost=frame"
    "--fuel --fuel-import=env.refill --max-memory-pages=20000")

# check_variants_of LABEL IN RUNNER VARIANT...: RUNNER MODULE runs the program with
# MODULE in place of IN, printing what it observes (a non-zero status when it could
# not run; its stderr in $T/err); the program must observe the same with IN rewritten
# by each variant as with IN.
check_variants_of() {
    local label=$1 in=$2 runner=$3 v
    shift 3
    if ! "$runner" "$in" >"$T/ref.out"; then
        fail "$label: the module as built does not run: $(tail -c 300 "$T/err")"
        return
    fi
    for v in "$@"; do
        # shellcheck disable=SC2086 # a variant is several flags
        if ! "$WS" "$in" $v -q -o "$T/v.wasm" 2>"$T/ws.err"; then
            fail "$label $v: wasmslim failed: $(head -c 300 "$T/ws.err")"
        elif ! "$runner" "$T/v.wasm" >"$T/v.out"; then
            fail "$label $v: the program failed: $(tail -c 300 "$T/err")"
        elif ! cmp -s "$T/ref.out" "$T/v.out"; then
            fail "$label $v: prints something else: $(diff "$T/ref.out" "$T/v.out" | head -c 300)"
        else
            ok
        fi
    done
}

# need PACKAGE:COMMAND...: installs what is missing (tests/deps.sh), or fails the run.
need() {
    if ! bash "$ROOT/tests/deps.sh" "$@" >"$T/deps.log" 2>&1; then
        cat "$T/deps.log"
        echo "$LABEL: 0 passed, 1 failed (could not install $*)"
        exit 1
    fi
}

# The test-only naive meter (tests/meter/naive.c), the reference for the fuel counts.
build_naive() {
    local lib
    lib=$(dirname "$WS")/libwasmslim.a
    [[ -f $lib ]] || lib=$ROOT/build/libwasmslim.a
    [[ -f $lib ]] || make -s -C "$ROOT" build/libwasmslim.a >/dev/null
    NAIVE=$T/naive
    cc -std=c11 -D_POSIX_C_SOURCE=200809L -O2 -I"$ROOT/ir" "$ROOT/tests/meter/naive.c" "$lib" -pthread -o "$NAIVE" ||
        fail "tests/meter/naive.c does not build"
}

# naive_meter IN OUT: IN metered by the naive meter, the fuel starting at BIG.
naive_meter() { "$NAIVE" "$1" "$2" --init $BIG; }

# check_fuel NAME: the fuel NAME spends is the same under the naive meter and in lazy
# and exact mode, with and without a stack limit.
check_fuel() {
    local name=$1 naive lazy exact ls es
    naive=$(spent "$name" naive)
    lazy=$(spent "$name" --fuel)
    exact=$(spent "$name" --fuel --fuel-mode=exact)
    ls=$(spent "$name" --fuel --stack-limit=100000000 --stack-cost=frame)
    es=$(spent "$name" --fuel --fuel-mode=exact --stack-limit=100000000)
    if [[ -n $naive && $naive -gt 0 && $lazy == "$naive" && $exact == "$naive" && $ls == "$naive" && $es == "$naive" ]]; then
        ok
        echo "$LABEL: $name spends $lazy units of fuel in every mode, as under the naive meter"
    else
        fail "$name: fuel spent: naive $naive, lazy $lazy, exact $exact, lazy+stack $ls, exact+stack $es"
    fi
}

# check_debug_build MODULE: the debug build (ASan+UBSan, the IR verifier and the
# validator after every pass) takes MODULE through SAN_PIPELINES with no report.
check_debug_build() {
    local v
    [[ -x $SAN ]] || return 0
    for v in "${SAN_PIPELINES[@]}"; do
        # shellcheck disable=SC2086 # a pipeline is several flags
        if ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 "$SAN" "$1" $v -q \
            -o "$T/s.wasm" >"$T/san.log" 2>&1 && ! grep -q -i -E 'runtime error|Sanitizer' "$T/san.log"; then
            ok
        else
            fail "$(basename "$1") $v under the debug build: $(head -c 400 "$T/san.log")"
        fi
    done
}

# summary: the last line ("LABEL: N passed, N failed"), and the exit status.
summary() {
    [[ -x $SAN ]] || echo "$LABEL: SKIPPED the debug build's runs: no $SAN (make build/wasmslim-san)"
    echo "$LABEL: $PASS passed, $FAIL failed"
    [ "$FAIL" -eq 0 ]
}
