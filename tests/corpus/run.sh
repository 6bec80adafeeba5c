#!/usr/bin/env bash
# run.sh: the public corpus's programs still work after wasmslim rewrote them.
#
# Usage: bash tests/corpus/run.sh [WASMSLIM]     (make corpus; make bench runs it too)
#
# Fetches the corpus and what runs it (tests/bench/fetch.sh: npm, cached), then runs
# each program on its original module and on the output of every variant below, and
# compares what it prints:
#   sql-wasm  sql.js's Emscripten glue, a SQL workload (sql.cjs)
#   esbuild   esbuild-wasm's command line (Go), minifying JS and compiling TS (esbuild.sh)
#   ruby      ruby.wasm (WASI, canonical ABI), a Ruby script (ruby.mjs)
# Variants (built.sh's): -O0, -O1, -O2, -O3, -Oz, -O1 -tnh, --strip-all, --strip-debug,
# and metering (lazy; exact with a stack limit) with fuel to spare; and
# ruby.debug+stdlib.wasm (DWARF, the standard library packed in: the script also uses
# json) after --strip-debug, --strip-all, -O1 and -Oz.  On ruby also, under metering:
# the fuel a run spends is the same in lazy and exact mode, with and without a stack limit (the count is exact on a
# 16 MB program), and half of it makes the run trap out of fuel in both modes.
# Then, when the debug build is there (WASMSLIM_SAN, default wasmslim-san beside
# WASMSLIM: ASan+UBSan, the IR verifier and the validator after every pass), the
# three modules through -O3, -Oz and metering pipelines must pass with no report.
# Last line: "corpus: N passed, N failed"; exit status 1 when one failed.
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LABEL=corpus
# shellcheck source=built.sh
. "$HERE/built.sh"
CACHE=${BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/wasmslim-bench}

if ! bash "$ROOT/tests/bench/fetch.sh" "$CACHE" >"$T/fetch.log" 2>&1; then
    cat "$T/fetch.log"
    echo "corpus: 0 passed, 1 failed (the corpus could not be fetched)"
    exit 1
fi

# run_program NAME MODULE [FUEL]: what program NAME prints with MODULE (stdout; stderr
# to $T/err); fails when the program does.
run_program() {
    case $1 in
    sql-wasm) node "$HERE/sql.cjs" "$CACHE/js/sql-wasm.js" "$2" 2>"$T/err" ;;
    esbuild) bash "$HERE/esbuild.sh" "$CACHE/js/esbuild-wasm" "$2" 2>"$T/err" ;;
    ruby | ruby.debug+stdlib) node --no-warnings "$HERE/ruby.mjs" "$2" ${3:+"$3"} 2>"$T/err" ;;
    esac
}

# VARIANTS: built.sh's (every -O level, -O1 -tnh, stripping, metering with fuel to spare).

# The module with DWARF and the standard library packed in (53 MB): what users shrink.
DEBUG_VARIANTS=("--strip-debug" "--strip-all" "-O1" "-Oz")

# check_variants NAME VARIANT...: every variant of NAME's module prints what the
# original does.
check_variants() {
    NAME=$1
    check_variants_of "$NAME" "$CACHE/$1.wasm" corpus_run "${@:2}"
}
corpus_run() { run_program "$NAME" "$1"; }

# spent FLAGS...: the fuel ruby's run spends metered with FLAGS ("" if it failed)
spent() {
    "$WS" "$CACHE/ruby.wasm" "$@" -q -o "$T/m.wasm" 2>"$T/ws.err" || return
    run_program ruby "$T/m.wasm" >/dev/null && sed -n 's/^fuel spent //p' "$T/err"
}

# check_ruby_fuel: the same count in every mode; half of it runs out in lazy and exact.
check_ruby_fuel() {
    local lazy exact ls es mode half
    lazy=$(spent --fuel)
    exact=$(spent --fuel --fuel-mode=exact)
    ls=$(spent --fuel --stack-limit=100000000 --stack-cost=frame)
    es=$(spent --fuel --fuel-mode=exact --stack-limit=100000000)
    if [[ -n $lazy && $lazy == "$exact" && $lazy == "$ls" && $lazy == "$es" ]]; then
        ok
        echo "corpus: ruby spends $lazy units of fuel in every mode"
    else
        fail "ruby: fuel spent differs between modes: lazy $lazy, exact $exact, lazy+stack $ls, exact+stack $es"
    fi
    [[ -n $lazy ]] || return
    half=$((lazy / 2))
    for mode in lazy exact; do
        "$WS" "$CACHE/ruby.wasm" --fuel --fuel-mode=$mode -q -o "$T/m.wasm"
        if ! run_program ruby "$T/m.wasm" "$half" >/dev/null && grep -q '^out of fuel, -[0-9]* left' "$T/err"; then ok; else
            fail "ruby $mode with half the fuel ($half): $(head -c 300 "$T/err")"
        fi
    done
}

SAN_PIPELINES=("-O3" "-Oz" "--fuel --fuel-mode=exact --stack-limit=1000 --stack-cost=frame"
    "--fuel --fuel-import=env.refill --max-memory-pages=20000" "-O2 --fuel")

for name in sql-wasm esbuild ruby; do check_variants "$name" "${VARIANTS[@]}"; done
check_variants ruby.debug+stdlib "${DEBUG_VARIANTS[@]}"
check_ruby_fuel
for name in sql-wasm esbuild ruby; do check_debug_build "$CACHE/$name.wasm"; done
summary
