#!/usr/bin/env bash
# run-diff.sh - differential execution: optimise every fixture module, check it
# still validates and still prints the same.
#
# Usage: tests/diff/run-diff.sh WASMSLIM OUTDIR PIPELINE...
#
#   WASMSLIM  the wasmslim binary (e.g. build/wasmslim)
#   OUTDIR    a directory made by build-fixtures.sh: every OUTDIR/*.wasm is a
#             module to test, with its expected output in the .expected file
#             of the same name (MODULE%.wasm + .expected)
#   PIPELINE  one string of wasmslim flags, split on spaces, e.g. "-O0" or
#             "--strip-debug -O2"; "" means no flags. At least one.
#
# For every module M and pipeline P (a "case"):
#   1. WASMSLIM M P -o TMP.wasm                must exit 0 and write TMP.wasm
#   2. wasm-validate --enable-all TMP.wasm     must succeed
#   3. node --no-warnings wasi-run.mjs TMP.wasm
#                                              stdout + "exit=N" must equal
#                                              the expected file
# Steps 1-2 run in parallel ($JOBS, default nproc); step 3 runs in $JOBS node
# processes (wasi-run.mjs --batch: one process for many modules, each in a worker of
# its own, as the single runs); the report is in case order
# (modules sorted by name, then pipelines in the order given): one line per
# failed case, with the stage that failed, why, and a command that reproduces
# it. The last line is exactly "diff: N passed, N failed"; the exit status
# is 1 if any case failed (2 for a usage error).
# Environment: JOBS, DIFF_OPT_TIMEOUT (seconds per wasmslim run, default 60),
# DIFF_RUN_TIMEOUT (seconds per program run, default 30), WASMSLIM_NO_DEPS=1,
# DIFF_MODULES (a name pattern, default '*.wasm': e.g. '*g.wasm' for the -g builds).
# Temporary files live in a mktemp -d directory that is removed at the end.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SELF=$DIFF_DIR/run-diff.sh

# shellcheck source=../lib/cases.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/cases.sh"

# --case IDX MODULE PIPELINE: run one case, write WORK/IDX.res (PASS or a FAIL line).
# case_vars IDX MODULE PIPELINE: sets the case's files, flags, label and repro command.
case_vars() {
    idx=$1 module=$2 pipeline=$3
    out=$WORK/$idx.wasm res=$WORK/$idx.res expected=${module%.wasm}.expected
    flags=()
    set -f
    # shellcheck disable=SC2206 # deliberate word splitting of the pipeline
    flags=($pipeline)
    set +f
    local repro_out=/tmp/wasmslim-repro.wasm
    repro="$(quote "$WASMSLIM" "$module" ${flags[@]+"${flags[@]}"} -o "$repro_out")"
    repro+=" && wasm-validate --enable-all $repro_out"
    repro+=" && { node --no-warnings $(quote "$WASI_RUN" "$repro_out"); echo exit=\$?; }"
    repro+=" | diff $(quote "$expected") -"
    label="$(basename "$module") [$pipeline]"
}

fail() { # STAGE REASON
    printf 'FAIL %s %s: %s | repro: %s\n' "$1" "$label" "$2" "$repro" >"$res"
    rm -f "$out" "$WORK/$idx".*.txt
}

# Steps 1 and 2 of a case; RUN in its result file when its module is to be run.
optimize_one() {
    case_vars "$@"
    if [[ ! -f $expected ]]; then
        fail setup "no expected output $(basename "$expected")"
        return 0
    fi
    optimize_case "${DIFF_OPT_TIMEOUT:-60}" "$module" "$out" "$WORK/$idx" ${flags[@]+"${flags[@]}"} || return 0
    echo RUN >"$res"
}

# Step 3's verdict, once the batch wrote the run's output to IDX.run.txt.
judge_one() {
    case_vars "$@"
    if ! cmp -s "$WORK/$idx.run.txt" "$expected"; then
        local got want why
        got=$(tail -n 1 "$WORK/$idx.run.txt")
        want=$(tail -n 1 "$expected")
        if [[ $got != "$want" ]]; then
            why="$got, want $want"
            local msg
            msg=$(first_line "$WORK/$idx.err.txt")
            [[ -n $msg ]] && why+=" ($msg)"
        else
            local line
            line=$(cmp "$WORK/$idx.run.txt" "$expected" 2>/dev/null | sed -n 's/.* line \([0-9]*\).*/\1/p' || true)
            why="stdout differs from $(basename "$expected") at line ${line:-?}"
        fi
        fail run "$why"
        return 0
    fi
    echo PASS >"$res"
    rm -f "$out" "$WORK/$idx".*.txt
}

if [[ ${1:-} == --case ]]; then
    optimize_one "$2" "$3" "$4"
    exit 0
fi

if (($# < 3)); then
    sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
    exit 2
fi
WASMSLIM=$1
OUTDIR=$2
shift 2
if [[ $WASMSLIM != */* ]]; then
    WASMSLIM=$(command -v "$WASMSLIM" || true)
fi
if [[ -z $WASMSLIM || ! -x $WASMSLIM ]]; then
    echo "run-diff: wasmslim binary not found or not executable: ${1}" >&2
    exit 2
fi
WASMSLIM=$(cd "$(dirname "$WASMSLIM")" && pwd)/$(basename "$WASMSLIM")
if [[ ! -d $OUTDIR ]]; then
    echo "run-diff: no such directory: $OUTDIR (run build-fixtures.sh first)" >&2
    exit 2
fi
OUTDIR=$(cd "$OUTDIR" && pwd)

ensure_deps

modules=()
while IFS= read -r m; do modules+=("$m"); done < <(find "$OUTDIR" -maxdepth 1 -name "${DIFF_MODULES:-*.wasm}" -type f | LC_ALL=C sort)
if ((${#modules[@]} == 0)); then
    echo "run-diff: no .wasm modules in $OUTDIR (run build-fixtures.sh first)" >&2
    exit 2
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/wasmslim-diff.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM
export WASMSLIM WORK

n=0
for m in "${modules[@]}"; do
    for p in "$@"; do
        printf '%s\0%s\0%s\0' "$n" "$m" "$p"
        n=$((n + 1))
    done
done >"$WORK/cases"

jobs=${JOBS:-$(nproc)}
xargs -0 -n 3 -P "$jobs" "$SELF" --case <"$WORK/cases" || true

# step 3: the modules to run, in $jobs batch runners
mapfile -d '' -t fields <"$WORK/cases"
for ((i = 0; i < n; i++)); do
    [[ $(cat "$WORK/$i.res" 2>/dev/null) == RUN ]] || continue
    printf '%s\t%s\t%s\n' "$WORK/$i.wasm" "$WORK/$i.run.txt" "$WORK/$i.err.txt"
done >"$WORK/runs"
run_batches "$WORK" "$jobs" "$WASI_RUN" "$WORK/runs"
for ((i = 0; i < n; i++)); do
    [[ $(cat "$WORK/$i.res" 2>/dev/null) == RUN ]] || continue
    judge_one "${fields[3 * i]}" "${fields[3 * i + 1]}" "${fields[3 * i + 2]}"
done

tally "$WORK" "$n"
echo "diff: $PASSED passed, $FAILED failed"
((FAILED == 0))
