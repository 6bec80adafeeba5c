# cases.sh - what the case runners share (tests/diff/run-diff.sh, tests/gen/run-gen.sh,
# tests/meter/fixtures.sh; sourced): quoting, first lines of logs, the optimise-and-
# validate stages of a case, batched program runs, and the tally of the WORK/IDX.res
# result files.

# Shell-quotes each argument, space-separated.
quote() {
    local quoted=() a
    for a in "$@"; do quoted+=("$(printf '%q' "$a")"); done
    echo "${quoted[*]}"
}

# First non-empty line of a file, shortened.
first_line() {
    local line
    line=$(grep -m 1 -v '^[[:space:]]*$' "$1" 2>/dev/null || true)
    line=${line//$'\r'/}
    ((${#line} > 160)) && line="${line:0:157}..."
    echo "$line"
}

# optimize_case TIMEOUT MODULE OUT LOGBASE FLAGS...: runs WASMSLIM MODULE FLAGS -o OUT
# (-q), which must exit 0 and write OUT, and wasm-validate --enable-all OUT.  On failure
# calls the caller's `fail STAGE REASON` and returns 1.
optimize_case() {
    local timeout=$1 module=$2 out=$3 log=$4 rc=0
    shift 4
    timeout -k 5 "$timeout" "$WASMSLIM" "$module" "$@" -o "$out" -q </dev/null >"$log.opt.txt" 2>&1 || rc=$?
    if ((rc != 0)); then
        local why="wasmslim exited $rc" msg
        ((rc == 124)) && why="wasmslim timed out after ${timeout}s"
        msg=$(first_line "$log.opt.txt")
        fail optimize "$why${msg:+: $msg}"
        return 1
    fi
    if [[ ! -s $out ]]; then
        fail optimize "wasmslim exited 0 but wrote no output"
        return 1
    fi
    if ! wasm-validate --enable-all "$out" >"$log.val.txt" 2>&1; then
        fail validate "$(first_line "$log.val.txt")"
        return 1
    fi
}

# run_batches DIR JOBS WASI_RUN LIST...: runs every line of the LISTs (MODULE, OUT, ERR
# and optional runner options, tab-separated: wasi-run.mjs --batch) in JOBS node
# processes, the lines dealt round-robin into DIR/batch.K.
run_batches() {
    local dir=$1 jobs=$2 runner=$3 k=0 line list
    shift 3
    rm -f "$dir"/batch.*
    cat "$@" 2>/dev/null | while IFS= read -r line; do
        printf '%s\n' "$line" >>"$dir/batch.$((k++ % jobs))"
    done
    for list in "$dir"/batch.*; do
        [ -f "$list" ] && node --no-warnings "$runner" --batch="$list" </dev/null &
    done
    wait
}

# tally WORK N: prints the FAIL line of every case 0..N-1 that did not pass (PASS or
# PASS-something); sets PASSED, FAILED and, per PASS-X result, counts in PASS_KINDS[X].
declare -A PASS_KINDS=()
tally() {
    local work=$1 n=$2 i r
    PASSED=0 FAILED=0
    for ((i = 0; i < n; i++)); do
        r=$(cat "$work/$i.res" 2>/dev/null || true)
        if [[ $r == PASS* ]]; then
            PASSED=$((PASSED + 1))
            [[ $r == PASS-* ]] && PASS_KINDS[${r#PASS-}]=$((${PASS_KINDS[${r#PASS-}]:-0} + 1))
        else
            FAILED=$((FAILED + 1))
            echo "${r:-FAIL internal case $i: the case runner produced no result}"
        fi
    done
    return 0
}
