#!/usr/bin/env bash
# determinism.sh - the same input and flags give the same bytes whatever the thread
# count (-j1, -j2, -j4) and from run to run (optimising, stripping, metering); checked
# on the C fixtures and, when it has been fetched by `make bench`, on the public corpus.
# Usage: bash tests/cli/determinism.sh path/to/wasmslim
set -uo pipefail
WS=$1
. "$(dirname "$0")/lib.sh"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/wasmslim-bench
modules=$(ls build/fixtures/*.O0g.wasm build/fixtures/*.O2.wasm 2>/dev/null | head -n 10)
corpus=$(ls "$CACHE"/*.wasm 2>/dev/null | tr '\n' ' ')
for m in $modules $corpus; do
    flag_list=("-O0" "-O2" "--dce" "--strip-debug" "--fuel" "-O3 --fuel --fuel-mode=exact --stack-limit=1000")
    case " $corpus " in *" $m "*) flag_list=("-O0" "-O1" "--strip-debug" "--fuel");; esac  # keep check fast
    for flags in "${flag_list[@]}"; do
        # shellcheck disable=SC2086
        "$WS" "$m" $flags -j1 -q -o "$T/a.wasm" 2>/dev/null || { fail "$m $flags -j1 failed"; continue; }
        for j in 2 4; do
            # shellcheck disable=SC2086
            "$WS" "$m" $flags -j$j -q -o "$T/b.wasm" 2>/dev/null
            check "$(basename "$m") $flags -j1 = -j$j" cmp "$T/a.wasm" "$T/b.wasm"
        done
    done
done
finish determinism
