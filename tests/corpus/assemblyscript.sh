#!/usr/bin/env bash
# assemblyscript.sh: AssemblyScript programs still work after wasmslim rewrote them.
#
# Usage: bash tests/corpus/assemblyscript.sh [WASMSLIM]       (make corpus runs it)
#
# Installs assemblyscript@0.27.37 with npm into the bench cache (BENCH_CACHE, as
# tests/bench/fetch.sh does) and builds fixtures/assemblyscript/collections.ts into
# $BUILD/assemblyscript three ways (asc's code is Binaryen's: blocks with results,
# branches carrying values, a collector in linear memory):
#   as-O3     -O3 --runtime incremental
#   as-debug  --optimizeLevel 0 --debug --sourceMap (a name section, sourceMappingURL)
#   as-stub   -Oz --runtime stub
# Runs each under node through asc's raw bindings (as-run.mjs) on the module asc wrote
# and on the output of every variant of built.sh, comparing what it prints; metered,
# each spends the same fuel in lazy and exact mode, with and without a stack limit, as
# under the naive meter; the debug build takes each through its pipelines (built.sh).
# Last line: "assemblyscript: N passed, N failed"; exit status 1 when one failed.
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=built.sh
. "$HERE/built.sh"
OUT=$(realpath -m "${BUILD:-$ROOT/build}")/assemblyscript
NPM=${BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/wasmslim-bench}/npm

ASC=$NPM/node_modules/.bin/asc
if [[ ! -x $ASC ]]; then
    mkdir -p "$NPM"
    npm install --silent --prefix "$NPM" assemblyscript@0.27.37 >"$T/npm.log" 2>&1 ||
        { cat "$T/npm.log"; echo "assemblyscript: 0 passed, 1 failed (npm could not install it)"; exit 1; }
fi
mkdir -p "$OUT"
build_naive

# name|asc flags
PROGRAMS=(
    "as-O3|-O3 --runtime incremental"
    "as-debug|--optimizeLevel 0 --debug --sourceMap --runtime incremental"
    "as-stub|-Oz --runtime stub"
)
SRC=$ROOT/fixtures/assemblyscript/collections.ts

# build NAME FLAGS: $OUT/NAME.wasm and its glue $OUT/NAME.mjs (again when the source is
# newer)
build() {
    [[ -f $OUT/$1.wasm && $OUT/$1.wasm -nt $SRC ]] && return 0
    # shellcheck disable=SC2086 # flags are several words
    "$ASC" "$SRC" $2 --bindings raw -o "$OUT/$1.wasm" >"$T/asc.log" 2>&1 && mv "$OUT/$1.js" "$OUT/$1.mjs"
}

# as_run MODULE [--fuel=N]: what program $NAME prints with MODULE
as_run() { node --no-warnings "$HERE/as-run.mjs" "$1" "$OUT/$NAME.mjs" "${@:2}" 2>"$T/err"; }

# spent NAME FLAGS...: the fuel NAME's run spends metered by wasmslim with FLAGS, or
# by the naive meter with FLAGS "naive" ("" if it failed)
spent() {
    if [[ $2 == naive ]]; then
        naive_meter "$OUT/$1.wasm" "$T/m.wasm" 2>"$T/ws.err" || return
    else
        "$WS" "$OUT/$1.wasm" "${@:2}" --fuel-init=$BIG -q -o "$T/m.wasm" 2>"$T/ws.err" || return
    fi
    as_run "$T/m.wasm" --fuel=$BIG >/dev/null && sed -n 's/^fuel spent //p' "$T/err"
}

for p in "${PROGRAMS[@]}"; do
    IFS='|' read -r NAME flags <<<"$p"
    if ! build "$NAME" "$flags"; then
        fail "$NAME: asc failed: $(tail -c 400 "$T/asc.log")"
        continue
    fi
    check_variants_of "$NAME" "$OUT/$NAME.wasm" as_run "${VARIANTS[@]}"
    check_fuel "$NAME"
    check_debug_build "$OUT/$NAME.wasm"
done
summary
