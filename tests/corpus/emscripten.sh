#!/usr/bin/env bash
# emscripten.sh: programs Emscripten builds still work after wasmslim rewrote them.
#
# Usage: bash tests/corpus/emscripten.sh [WASMSLIM]       (make corpus runs it)
#
# Builds fixtures/emscripten with Debian's emscripten (3.1.6; tests/deps.sh installs it
# when emcc is missing) into $BUILD/emscripten, each the way its users build it:
#   eh-wasm   exceptions.cpp -O2 -fwasm-exceptions  (try/catch/rethrow/delegate, a tag)
#   eh-js     exceptions.cpp -O2 -fexceptions       (invoke_* imports, setThrew)
#   eh-debug  exceptions.cpp -O0 -g -fwasm-exceptions (DWARF, 1.2 MB)
#   threads   threads.c -O2 -pthread (imported shared memory, atomics, wait/notify, a
#             worker per thread, thread-local storage)
#   simd      simd.c -O3 -msimd128 (intrinsics and vectorised loops)
#   sjlj      sjlj.c -O2 (setjmp/longjmp through invoke_*)
#   dylink    dylink_main.c -O2 -sMAIN_MODULE=2, linked against libdyside.wasm,
#             dylink_side.c -O2 -sSIDE_MODULE=1 (position-independent code, dylink.0,
#             __memory_base/__table_base and GOT.mem imports), loaded at startup
# and runs each under node (emrun.cjs, its own glue) on the module emcc wrote and on
# the output of every variant below, comparing what it prints (dylink: each of its two
# modules rewritten in turn).  The single-threaded ones, metered, spend the same fuel
# in lazy and exact mode, with and without a stack limit, as under the test-only naive
# meter (tests/meter/naive.c: a charge before every instruction).  Not --fuel on dylink: Emscripten's dynamic linker reads
# every exported global as an i32 address and refuses the i64 fuel ("bad export type
# for `wasmslim_fuel`: bigint"); --stack-limit and --max-memory-pages instead.  Then, when the debug build is there (WASMSLIM_SAN), the
# modules go through its -O3, -Oz and metering pipelines with no report.
# Last line: "emscripten: N passed, N failed"; exit status 1 when one failed.
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
WS=$(realpath "${1:-$ROOT/build/wasmslim}")
SAN=${WASMSLIM_SAN:-$(dirname "$WS")/wasmslim-san}
OUT=$(realpath -m "${BUILD:-$ROOT/build}")/emscripten
SRC=$ROOT/fixtures/emscripten
BIG=4611686018427387904
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
PASS=0
FAIL=0
ok() { PASS=$((PASS + 1)); }
fail() { FAIL=$((FAIL + 1)); echo "FAIL $*"; }

if ! bash "$ROOT/tests/deps.sh" emscripten:emcc >"$T/deps.log" 2>&1; then
    cat "$T/deps.log"
    echo "emscripten: 0 passed, 1 failed (emscripten could not be installed)"
    exit 1
fi
# Debian's emcc runs its JavaScript optimiser with node, which finds acorn here.
export NODE_PATH=${NODE_PATH:+$NODE_PATH:}/usr/share/nodejs
mkdir -p "$OUT"
LIB=$(dirname "$WS")/libwasmslim.a
[[ -f $LIB ]] || LIB=$ROOT/build/libwasmslim.a
[[ -f $LIB ]] || make -s -C "$ROOT" build/libwasmslim.a >/dev/null
NAIVE=$T/naive
cc -std=c11 -D_POSIX_C_SOURCE=200809L -O2 -I"$ROOT/ir" "$ROOT/tests/meter/naive.c" "$LIB" -pthread -o "$NAIVE" ||
    fail "tests/meter/naive.c does not build"

# name|source|emcc flags
PROGRAMS=(
    "eh-wasm|exceptions.cpp|-O2 -fwasm-exceptions"
    "eh-js|exceptions.cpp|-O2 -fexceptions"
    "eh-debug|exceptions.cpp|-O0 -g -fwasm-exceptions"
    "threads|threads.c|-O2 -pthread -sPTHREAD_POOL_SIZE=4 -sEXIT_RUNTIME=1"
    "simd|simd.c|-O3 -msimd128"
    "sjlj|sjlj.c|-O2"
    "libdyside|dylink_side.c|-O2 -sSIDE_MODULE=1"
    "dylink|dylink_main.c|-O2 -sMAIN_MODULE=2 libdyside.wasm"
)
SINGLE_THREADED=(eh-wasm eh-js eh-debug simd sjlj)

VARIANTS=("-O0" "-O1" "-O2" "-O3" "-Oz" "-O1 -tnh" "--strip-all" "--strip-debug" "--fuel --fuel-init=$BIG"
    "--fuel --fuel-mode=exact --stack-limit=100000000 --fuel-init=$BIG")
DYLINK_VARIANTS=("-O0" "-O1" "-O2" "-O3" "-Oz" "-O1 -tnh" "--strip-all" "--stack-limit=100000000"
    "--stack-limit=100000000 --stack-cost=frame" "--max-memory-pages=300")
SAN_PIPELINES=("-O3" "-Oz" "--fuel --fuel-mode=exact --stack-limit=1000 --stack-cost=frame"
    "--fuel --fuel-import=env.refill --max-memory-pages=20000")

# build NAME SOURCE FLAGS: $OUT/NAME.{js,wasm} (again when the source is newer)
build() {
    local name=$1 src=$SRC/$2 cc=emcc
    [[ $2 == *.cpp ]] && cc=em++
    local out=$name.js # a side module is only a .wasm
    [[ $3 == *SIDE_MODULE* ]] && out=$name.wasm
    [[ -f $OUT/$name.wasm && $OUT/$name.wasm -nt $src && $OUT/$out -nt $src ]] && return 0
    # shellcheck disable=SC2086 # flags are several words
    (cd "$OUT" && $cc $3 "$src" -o "$out") >"$T/emcc.log" 2>&1
}

# run NAME [--fuel=INIT]: what program NAME prints with the module now in $T/NAME.wasm
# (in $T, where the dynamic linker looks for the side module)
run() {
    (cd "$T" && timeout 120 node --no-experimental-fetch "$HERE/emrun.cjs" "$T/$1.js" "${@:2}") 2>"$T/err"
}

# stage NAME MODULE: the glue and MODULE as $T/NAME.{js,wasm} (threads: the worker
# too; dylink: the side module as emcc wrote it)
stage() {
    cp "$OUT/$1.js" "$T/$1.js"
    [[ -f $OUT/$1.worker.js ]] && cp "$OUT/$1.worker.js" "$T/$1.worker.js"
    [[ $1 == dylink ]] && cp "$OUT/libdyside.wasm" "$T/libdyside.wasm"
    cp "$2" "$T/$1.wasm"
}

# check_variants NAME [MODULE]: program NAME prints the same with MODULE (default: its
# own) rewritten by each variant; MODULE libdyside is dylink's side module.
check_variants() {
    local name=$1 mod=${2:-$1} v variants=("${VARIANTS[@]}")
    [[ $name == dylink ]] && variants=("${DYLINK_VARIANTS[@]}")
    stage "$name" "$OUT/$name.wasm"
    if ! run "$name" >"$T/ref.out"; then
        fail "$name: the module emcc wrote does not run: $(head -c 300 "$T/err")"
        return
    fi
    for v in "${variants[@]}"; do
        # shellcheck disable=SC2086 # a variant is several flags
        if ! "$WS" "$OUT/$mod.wasm" $v -q -o "$T/v.wasm" 2>"$T/ws.err"; then
            fail "$mod $v: wasmslim failed: $(head -c 300 "$T/ws.err")"
            continue
        fi
        stage "$name" "$OUT/$name.wasm"
        cp "$T/v.wasm" "$T/$mod.wasm"
        if ! run "$name" >"$T/v.out"; then
            fail "$mod $v: the program failed: $(tail -c 300 "$T/err")"
        elif ! cmp -s "$T/ref.out" "$T/v.out"; then
            fail "$mod $v: prints something else: $(diff "$T/ref.out" "$T/v.out" | head -c 300)"
        else
            ok
        fi
    done
}

# spent NAME FLAGS...: the fuel NAME's run spends metered by wasmslim with FLAGS, or
# by the naive meter with FLAGS "naive" ("" if it failed)
spent() {
    if [[ $2 == naive ]]; then
        "$NAIVE" "$OUT/$1.wasm" "$T/m.wasm" --init $BIG 2>"$T/ws.err" || return
    else
        "$WS" "$OUT/$1.wasm" "${@:2}" --fuel-init=$BIG -q -o "$T/m.wasm" 2>"$T/ws.err" || return
    fi
    stage "$1" "$T/m.wasm"
    run "$1" --fuel=$BIG >/dev/null && sed -n 's/^fuel spent //p' "$T/err"
}

check_fuel() {
    local name=$1 naive lazy exact ls es
    naive=$(spent "$name" naive)
    lazy=$(spent "$name" --fuel)
    exact=$(spent "$name" --fuel --fuel-mode=exact)
    ls=$(spent "$name" --fuel --stack-limit=100000000 --stack-cost=frame)
    es=$(spent "$name" --fuel --fuel-mode=exact --stack-limit=100000000)
    if [[ -n $naive && $naive -gt 0 && $lazy == "$naive" && $exact == "$naive" && $ls == "$naive" && $es == "$naive" ]]; then
        ok
        echo "emscripten: $name spends $lazy units of fuel in every mode, as under the naive meter"
    else
        fail "$name: fuel spent: naive $naive, lazy $lazy, exact $exact, lazy+stack $ls, exact+stack $es"
    fi
}

check_debug_build() {
    local name=$1 v
    for v in "${SAN_PIPELINES[@]}"; do
        # shellcheck disable=SC2086 # a pipeline is several flags
        if ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 "$SAN" "$OUT/$name.wasm" $v -q \
            -o "$T/s.wasm" >"$T/san.log" 2>&1 && ! grep -q -i -E 'runtime error|Sanitizer' "$T/san.log"; then
            ok
        else
            fail "$name $v under the debug build: $(head -c 400 "$T/san.log")"
        fi
    done
}

for p in "${PROGRAMS[@]}"; do
    IFS='|' read -r name src flags <<<"$p"
    if ! build "$name" "$src" "$flags"; then
        fail "$name: emcc failed: $(tail -c 400 "$T/emcc.log")"
        continue
    fi
    if [[ $name == dylink ]]; then
        check_variants dylink
        check_variants dylink libdyside
    elif [[ $name != libdyside ]]; then # that one runs with dylink, which loads it
        check_variants "$name"
    fi
    [[ " ${SINGLE_THREADED[*]} " == *" $name "* ]] && check_fuel "$name"
    if [[ -x $SAN ]]; then check_debug_build "$name"; fi
done
[[ -x $SAN ]] || echo "emscripten: SKIPPED the debug build's runs: no $SAN (make build/wasmslim-san)"
echo "emscripten: $PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
