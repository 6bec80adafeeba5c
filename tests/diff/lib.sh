# shellcheck shell=bash
# lib.sh - helpers shared by the differential-execution scripts (sourced).
#
# Usage: . tests/diff/lib.sh   (from bash, after set -euo pipefail)
#
# Defines DIFF_DIR, REPO_ROOT, WASI_RUN and:
#   observe MODULE OUTFILE [ERRFILE]
#       Runs MODULE under node (wasi-run.mjs, stdin from /dev/null, killed after
#       $DIFF_RUN_TIMEOUT seconds, default 30) and writes what the program
#       printed on stdout followed by a last line "exit=N" to OUTFILE; the
#       program's stderr goes to ERRFILE (default /dev/null). Output that does
#       not end in a newline gets "\n\\ no newline at end of output\n" first
#       (as diff(1) marks it), so "exit=N" is always a line of its own. This
#       is the format of the .expected files, so outputs compare with cmp.
#   ensure_deps
#       Runs tests/deps.sh unless WASMSLIM_NO_DEPS=1.

DIFF_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$DIFF_DIR/../.." && pwd)
WASI_RUN=$DIFF_DIR/wasi-run.mjs

observe() {
    local module=$1 out=$2 err=${3:-/dev/null} rc=0
    timeout -k 5 "${DIFF_RUN_TIMEOUT:-30}" \
        node --no-warnings "$WASI_RUN" "$module" </dev/null >"$out" 2>"$err" || rc=$?
    if [[ -s $out && $(tail -c 1 "$out" | od -An -tx1 | tr -d ' ') != 0a ]]; then
        printf '\n\\ no newline at end of output\n' >>"$out"
    fi
    printf 'exit=%d\n' "$rc" >>"$out"
}

ensure_deps() {
    if [[ ${WASMSLIM_NO_DEPS:-0} != 1 ]]; then
        "$REPO_ROOT/tests/deps.sh"
    fi
}
