#!/usr/bin/env bash
# run.sh - expected-output tests of passes: every tests/passes/DIR/NAME.wat is assembled
# with wat2wasm, run through wasmslim with the flags on its first line
# (";; wasmslim: FLAGS", default "-p DIR"), printed with --print, validated, and compared
# with NAME.expected.  --rebase rewrites the expected files from the current output.
# Usage: bash tests/passes/run.sh path/to/wasmslim [--rebase]
set -uo pipefail
WS=$1
REBASE=${2:-}
HERE=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
passed=0 failed=0
for wat in "$HERE"/*/*.wat; do
    dir=$(basename "$(dirname "$wat")")
    name=${wat%.wat}
    flags=$(sed -n '1s/^;; wasmslim: //p' "$wat")
    [ -n "$flags" ] || flags="-p $dir"
    rel=${wat#"$HERE"/}
    if ! wat2wasm --enable-all "$wat" -o "$T/in.wasm" 2>"$T/err"; then
        echo "FAIL $rel: wat2wasm: $(head -n 3 "$T/err")"; failed=$((failed + 1)); continue
    fi
    # shellcheck disable=SC2086
    if ! "$WS" "$T/in.wasm" $flags -q -o "$T/out.wasm" 2>"$T/err"; then
        echo "FAIL $rel: wasmslim $flags: $(head -n 3 "$T/err")"; failed=$((failed + 1)); continue
    fi
    if ! wasm-validate --enable-all "$T/out.wasm" 2>"$T/err"; then
        echo "FAIL $rel: output invalid: $(head -n 3 "$T/err")"; failed=$((failed + 1)); continue
    fi
    "$WS" "$T/out.wasm" --print -q >"$T/got" 2>&1
    if [ "$REBASE" = "--rebase" ]; then cp "$T/got" "$name.expected"; fi
    if [ -f "$name.expected" ] && cmp -s "$T/got" "$name.expected"; then
        passed=$((passed + 1))
    else
        echo "FAIL $rel: output differs from ${name#"$HERE"/}.expected (rebase: bash tests/passes/run.sh WASMSLIM --rebase)"
        diff -u "$name.expected" "$T/got" 2>/dev/null | head -n 20
        failed=$((failed + 1))
    fi
done
echo "passes: $passed passed, $failed failed"
[ "$failed" = 0 ]
