#!/usr/bin/env bash
# run-gen.sh - generated modules: binaryen turns deterministic random bytes into
# valid modules; every pipeline must keep them valid and keep their behaviour.
#
# Usage: tests/gen/run-gen.sh WASMSLIM COUNT PIPELINE...
#
#   WASMSLIM  the wasmslim binary (e.g. build/wasmslim)
#   COUNT     seeds 1..COUNT
#   PIPELINE  one string of wasmslim flags, split on spaces ("-O0",
#             "--strip-debug -O2"; "" = no flags). At least one.
#
# Module for seed N (made once, kept in the cache directory $GEN_DIR, default
# build/gen, and reused while the generator and wasm-opt's version are the same):
#   N.dat   4096 bytes of a splitmix64 stream seeded with N (inline node script:
#           the same bytes on every machine)
#   N.wasm  wasm-opt N.dat -ttf FEATURES -o N.wasm
#   N.log   the reference behaviour: wasm-opt N.wasm FEATURES --fuzz-exec-before,
#           filtered (see below), then a last line "exit=N"
# FEATURES = --enable-sign-ext --enable-nontrapping-float-to-int
# --enable-bulk-memory --enable-multivalue --enable-simd --enable-mutable-globals
# (wider feature sets make modules wabt 1.0.32 cannot validate).
#
# For every seed N and pipeline P (a "case"):
#   1. WASMSLIM N.wasm P -o TMP.wasm            must exit 0 and write TMP.wasm
#   2. wasm-validate --enable-all TMP.wasm      must succeed
#   3. WASMSLIM TMP.wasm -q                     must succeed (reads the output
#                                               back; runs our validator)
#   4. the filtered --fuzz-exec-before log of TMP.wasm must equal N.log; when
#      wasm-opt 108 cannot read TMP.wasm at all (its reader rejects some valid
#      branch patterns), the logs of tests/gen/v8-exec.mjs (the same calls under
#      V8) of N.wasm and TMP.wasm must be equal instead (counted in a note)
# The log filter keeps what the program did: the lines binaryen's interpreter
# prints for export calls and results ("[fuzz-exec] ..."), logged values
# ("[LoggingExternalInterface ...]"), traps, host limits and exceptions; the
# rest (warnings, progress) is dropped, and NaN payloads and signs are
# written as "nan" (the spec lets them differ).
# Cases run in parallel ($JOBS, default nproc). One line per failed case with
# the stage, why and a command that reproduces it; the last line is exactly
# "gen: N passed, N failed"; exit status 1 if any case failed, 2 on usage error.
# Environment: JOBS, GEN_DIR, GEN_TIMEOUT (seconds per tool run, default 60).
set -euo pipefail

SELF=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")
REPO_ROOT=$(cd "$(dirname "$SELF")/../.." && pwd)
FEATURES=(--enable-sign-ext --enable-nontrapping-float-to-int --enable-bulk-memory
    --enable-multivalue --enable-simd --enable-mutable-globals)
GEN_VERSION=1 # bump when the bytes, the generation or the log filter change
TIMEOUT=${GEN_TIMEOUT:-60}

# shellcheck source=../lib/cases.sh
. "$REPO_ROOT/tests/lib/cases.sh"

# Writes SEED.dat files for the seeds given on the command line into DIR.
write_bytes() {
    node --input-type=module -e '
import fs from "node:fs";
const [dir, ...seeds] = process.argv.slice(1);
const M = (1n << 64n) - 1n;
for (const seed of seeds) {
  let s = (BigInt(seed) * 0x9E3779B97F4A7C15n) & M;
  const buf = Buffer.alloc(4096);
  for (let i = 0; i < buf.length; i += 8) {
    s = (s + 0x9E3779B97F4A7C15n) & M;
    let z = s;
    z = ((z ^ (z >> 30n)) * 0xBF58476D1CE4E5B9n) & M;
    z = ((z ^ (z >> 27n)) * 0x94D049BB133111EBn) & M;
    buf.writeBigUInt64LE(z ^ (z >> 31n), i);
  }
  fs.writeFileSync(`${dir}/${seed}.dat`, buf);
}' "$@"
}

# observe MODULE LOG: the filtered --fuzz-exec-before log, then "exit=N".
observe() {
    local rc=0
    timeout -k 5 "$TIMEOUT" wasm-opt "$1" "${FEATURES[@]}" --fuzz-exec-before -q \
        </dev/null >"$2.raw" 2>/dev/null || rc=$?
    grep -a -E '^\[(fuzz-exec|LoggingExternalInterface|trap|host limit|exception)' "$2.raw" |
        sed -E 's/-?nan(:0x[0-9a-f]+)?/nan/g' >"$2" || true
    echo "exit=$rc" >>"$2"
    rm -f "$2.raw"
}

# --gen SEED: make SEED.wasm and SEED.log in the cache (if missing).
gen_one() {
    local n=$1
    [[ -f $GEN_DIR/$n.log ]] && return 0
    if ! timeout -k 5 "$TIMEOUT" wasm-opt "$GEN_DIR/$n.dat" -ttf "${FEATURES[@]}" -o "$GEN_DIR/$n.tmp.wasm" \
        >"$GEN_DIR/$n.gen.txt" 2>&1; then
        echo "run-gen: wasm-opt -ttf failed for seed $n: $(first_line "$GEN_DIR/$n.gen.txt")" >&2
        rm -f "$GEN_DIR/$n.tmp.wasm"
        return 0
    fi
    rm -f "$GEN_DIR/$n.gen.txt"
    mv "$GEN_DIR/$n.tmp.wasm" "$GEN_DIR/$n.wasm"
    observe "$GEN_DIR/$n.wasm" "$GEN_DIR/$n.log.tmp"
    mv "$GEN_DIR/$n.log.tmp" "$GEN_DIR/$n.log"
}

# binaryen_refuses OUT LOG: true when wasm-opt 108 could not even read OUT (LOG is only
# "exit=N") of a module wasm-validate and wasmslim accepted: its reader rejects some
# valid branch patterns ("error validating input": "all break targets must be valid")
# and blocks with parameters ("parse exception: block cannot pop from outside", "Block
# requires more values than are available").  Such a case is checked under V8 instead.
binaryen_refuses() {
    [[ $(<"$2") =~ ^exit=[1-9][0-9]*$ ]] || return 1
    local msg
    msg=$(timeout -k 5 "$TIMEOUT" wasm-opt "$1" "${FEATURES[@]}" -q </dev/null 2>&1 >/dev/null || true)
    [[ $msg == *"error validating input"* || $msg == *"parse exception"* ]]
}

# v8_check MODULE OUT: the V8 logs (tests/gen/v8-exec.mjs) of the module and of its
# rewritten form must be equal; writes the result (PASS-V8 or a FAIL line).
v8_check() {
    local a=$WORK/$idx.v8a.txt b=$WORK/$idx.v8b.txt
    timeout -k 5 "$TIMEOUT" node "$REPO_ROOT/tests/gen/v8-exec.mjs" "$1" >"$a" 2>&1
    timeout -k 5 "$TIMEOUT" node "$REPO_ROOT/tests/gen/v8-exec.mjs" "$2" >"$b" 2>&1
    if cmp -s "$a" "$b"; then
        echo PASS-V8 >"$res"
        rm -f "$out" "$WORK/$idx".*.txt
        return 0
    fi
    local line
    line=$(cmp "$a" "$b" 2>/dev/null | sed -n 's/.* line \([0-9]*\).*/\1/p' || true)
    fail exec-v8 "binaryen cannot read the output; under V8 the logs differ at line ${line:-?}: got '$(sed -n "${line:-1}p" "$b")', want '$(sed -n "${line:-1}p" "$a")'"
    return 0
}

# --case IDX SEED PIPELINE: one case; writes WORK/IDX.res (PASS, PASS-V8 or a FAIL line).
run_case() {
    local idx=$1 n=$2 pipeline=$3
    local module=$GEN_DIR/$n.wasm out=$WORK/$idx.wasm res=$WORK/$idx.res
    local flags=()
    set -f
    # shellcheck disable=SC2206 # deliberate word splitting of the pipeline
    flags=($pipeline)
    set +f
    local ro=/tmp/wasmslim-gen.wasm
    local repro
    repro="$(quote "$WASMSLIM" "$module" ${flags[@]+"${flags[@]}"} -o "$ro")"
    repro+=" && wasm-validate --enable-all $ro && $(quote "$WASMSLIM") $ro -q"
    repro+=" && diff <(wasm-opt $(quote "$module") ${FEATURES[*]} --fuzz-exec-before -q 2>/dev/null)"
    repro+=" <(wasm-opt $ro ${FEATURES[*]} --fuzz-exec-before -q 2>/dev/null)"
    local label="seed $n [$pipeline]"
    fail() {
        printf 'FAIL %s %s: %s | repro: %s\n' "$1" "$label" "$2" "$repro" >"$res"
        rm -f "$out" "$WORK/$idx".*.txt
    }
    if [[ ! -f $module || ! -f $GEN_DIR/$n.log ]]; then
        fail setup "no generated module for seed $n (wasm-opt -ttf failed?)"
        return 0
    fi
    optimize_case "$TIMEOUT" "$module" "$out" "$WORK/$idx" ${flags[@]+"${flags[@]}"} || return 0
    local rc=0
    timeout -k 5 "$TIMEOUT" "$WASMSLIM" "$out" -q </dev/null >"$WORK/$idx.val.txt" 2>&1 || rc=$?
    if ((rc != 0)); then
        fail reread "wasmslim rejects its own output (exit $rc): $(first_line "$WORK/$idx.val.txt")"
        return 0
    fi
    observe "$out" "$WORK/$idx.run.txt"
    if binaryen_refuses "$out" "$WORK/$idx.run.txt"; then
        v8_check "$module" "$out" && return 0
    fi
    if ! cmp -s "$WORK/$idx.run.txt" "$GEN_DIR/$n.log"; then
        local line want got
        line=$(cmp "$WORK/$idx.run.txt" "$GEN_DIR/$n.log" 2>/dev/null | sed -n 's/.* line \([0-9]*\).*/\1/p' || true)
        line=${line:-$(($(wc -l <"$WORK/$idx.run.txt") + 1))}
        want=$(sed -n "${line}p" "$GEN_DIR/$n.log")
        got=$(sed -n "${line}p" "$WORK/$idx.run.txt")
        fail exec "fuzz-exec log differs at line $line: got '${got:-<end>}', want '${want:-<end>}'"
        return 0
    fi
    echo PASS >"$res"
    rm -f "$out" "$WORK/$idx".*.txt
}

case ${1:-} in
--gen) gen_one "$2"; exit 0 ;;
--case) run_case "$2" "$3" "$4"; exit 0 ;;
esac

if (($# < 3)) || [[ ! $2 =~ ^[0-9]+$ ]]; then
    sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
    exit 2
fi
WASMSLIM=$1
COUNT=$2
shift 2
if [[ $WASMSLIM != */* ]]; then
    WASMSLIM=$(command -v "$WASMSLIM" || true)
fi
if [[ -z $WASMSLIM || ! -x $WASMSLIM ]]; then
    echo "run-gen: wasmslim binary not found or not executable: ${WASMSLIM:-?}" >&2
    exit 2
fi
WASMSLIM=$(cd "$(dirname "$WASMSLIM")" && pwd)/$(basename "$WASMSLIM")
for tool in wasm-opt wasm-validate node; do
    command -v "$tool" >/dev/null || { echo "run-gen: $tool not found (run tests/deps.sh)" >&2; exit 2; }
done
JOBS=${JOBS:-$(nproc)}
GEN_DIR=${GEN_DIR:-$REPO_ROOT/build/gen}
mkdir -p "$GEN_DIR"
GEN_DIR=$(cd "$GEN_DIR" && pwd)

# The cache is valid for one generator version and one wasm-opt.
stamp="gen $GEN_VERSION; $(wasm-opt --version); ${FEATURES[*]}"
if [[ ! -f $GEN_DIR/STAMP || $(<"$GEN_DIR/STAMP") != "$stamp" ]]; then
    find "$GEN_DIR" -maxdepth 1 -type f -delete
    echo "$stamp" >"$GEN_DIR/STAMP"
fi
missing=()
for ((n = 1; n <= COUNT; n++)); do
    [[ -f $GEN_DIR/$n.dat ]] || missing+=("$n")
done
if ((${#missing[@]})); then
    write_bytes "$GEN_DIR" "${missing[@]}"
fi
export WASMSLIM GEN_DIR TIMEOUT
made=0
for ((n = 1; n <= COUNT; n++)); do [[ -f $GEN_DIR/$n.log ]] || made=$((made + 1)); done
seq 1 "$COUNT" | xargs -n 1 -P "$JOBS" "$SELF" --gen
echo "generated modules: $COUNT in $GEN_DIR ($made made now, $((COUNT - made)) from the cache)"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/wasmslim-gen.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM
export WORK

idx=0
for ((n = 1; n <= COUNT; n++)); do
    for p in "$@"; do
        printf '%s\0%s\0%s\0' "$idx" "$n" "$p"
        idx=$((idx + 1))
    done
done >"$WORK/cases"
xargs -0 -n 3 -P "$JOBS" "$SELF" --case <"$WORK/cases" || true

tally "$WORK" "$idx"
v8=${PASS_KINDS[V8]:-0}
((v8 == 0)) || echo "note: $v8 case(s) checked under V8 (tests/gen/v8-exec.mjs): binaryen 108 cannot read the output"
echo "gen: $PASSED passed, $FAILED failed"
((FAILED == 0))
