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
# meter (tests/meter/naive.c: a charge before every instruction).  Not --fuel on
# dylink: Emscripten's dynamic linker reads every exported global as an i32 address
# and refuses the i64 fuel ("bad export type for `wasmslim_fuel`: bigint");
# --stack-limit and --max-memory-pages instead.  Then, when the debug build is there
# (WASMSLIM_SAN), the modules go through its -O3, -Oz and metering pipelines with no
# report (built.sh, shared with rust.sh).
# Last line: "emscripten: N passed, N failed"; exit status 1 when one failed.
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=built.sh
. "$HERE/built.sh"
OUT=$(realpath -m "${BUILD:-$ROOT/build}")/emscripten
SRC=$ROOT/fixtures/emscripten

need emscripten:emcc
# Debian's emcc runs its JavaScript optimiser with node, which finds acorn here.
export NODE_PATH=${NODE_PATH:+$NODE_PATH:}/usr/share/nodejs
mkdir -p "$OUT"
build_naive

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

DYLINK_VARIANTS=("-O0" "-O1" "-O2" "-O3" "-Oz" "-O1 -tnh" "--strip-all" "--stack-limit=100000000"
    "--stack-limit=100000000 --stack-cost=frame" "--max-memory-pages=300")

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

# em_run MODULE: program $NAME with MODULE as its module $SLOT (NAME's own, or
# dylink's side module libdyside), the others as emcc wrote them.
em_run() {
    stage "$NAME" "$OUT/$NAME.wasm"
    cp "$1" "$T/$SLOT.wasm"
    run "$NAME"
}

# check_variants NAME [SLOT]: program NAME prints the same with its module SLOT
# (default: its own) rewritten by each variant.
check_variants() {
    NAME=$1 SLOT=${2:-$1}
    local variants=("${VARIANTS[@]}")
    [[ $NAME == dylink ]] && variants=("${DYLINK_VARIANTS[@]}")
    check_variants_of "$SLOT" "$OUT/$SLOT.wasm" em_run "${variants[@]}"
}

# spent NAME FLAGS...: the fuel NAME's run spends metered by wasmslim with FLAGS, or
# by the naive meter with FLAGS "naive" ("" if it failed)
spent() {
    if [[ $2 == naive ]]; then
        naive_meter "$OUT/$1.wasm" "$T/m.wasm" 2>"$T/ws.err" || return
    else
        "$WS" "$OUT/$1.wasm" "${@:2}" --fuel-init=$BIG -q -o "$T/m.wasm" 2>"$T/ws.err" || return
    fi
    stage "$1" "$T/m.wasm"
    run "$1" --fuel=$BIG >/dev/null && sed -n 's/^fuel spent //p' "$T/err"
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
    check_debug_build "$OUT/$name.wasm"
done
summary
