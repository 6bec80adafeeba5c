#!/usr/bin/env bash
# remove_unused.sh - the remove-unused pass (--remove-unused, -p remove-unused, wasm-opt's
# --remove-unused-module-elements) on real modules:
#   - every C fixture (tests/diff/build-fixtures.sh), with all exports as roots and with
#     --export-only=_start,memory: the output validates (wasm-validate --enable-all),
#     prints what the original printed under node, and is no larger than what
#     wasm-opt --remove-unused-module-elements makes (-g for both, so names stay);
#   - deadcode.c shrinks to what its exports reach: with --export-only=_start,memory
#     the never-called exports and their helpers go, the table's handlers stay
#     (function counts are printed);
#   - --why-kept chains and unreachable verdicts, with and without -o; unknown names
#     in --export-only / --keep-export / --why-kept are errors that write nothing;
#   - the alias and -p spellings give the same bytes; -j1 and -j2 give the same bytes;
#     a second run changes nothing;
#   - spec testsuite modules ("module" commands of $SPEC_DIR/json, default
#     ../shared/spec beside the repository): every one wasmslim accepts stays valid (wasmslim validates
#     its output), and those wasm-validate accepted before it accepts after.
# REMOVE_UNUSED_BENCH=1 also prints size, time and peak RSS against wasm-opt for
# ~/.cache/wasmslim-bench/*.wasm (informative, not checked).
# Usage: bash tests/cli/remove_unused.sh path/to/wasmslim
set -uo pipefail
WS=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/tests/cli/lib.sh"
. "$ROOT/tests/diff/lib.sh"
JOBS=${JOBS:-$(nproc)}
SPEC_DIR=${SPEC_DIR:-$ROOT/../shared/spec}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

for tool in wasm-validate wasm-opt node; do
    command -v $tool >/dev/null || { echo "note: $tool missing; remove-unused checks skipped"; finish remove_unused; exit; }
done

FIX=${FIXTURES:-$(dirname "$WS")/fixtures}
[ -d "$FIX" ] || FIX=$ROOT/build/fixtures
WASMSLIM_NO_DEPS=1 bash "$ROOT/tests/diff/build-fixtures.sh" "$FIX" >"$T/build.log" 2>&1 ||
    { tail -n 5 "$T/build.log"; fail "fixtures did not build"; }

nfuncs() { wasm-objdump -h "$1" | sed -n 's/^ *Function .*count: \([0-9]*\)$/\1/p'; }

# fixture_case MODULE TAG FLAGS...: optimise, validate, run, compare size; prints a
# FAIL line (or nothing) so that parallel cases can be collected.
fixture_case() {
    local m=$1 tag=$2; shift 2
    local b out
    b=$(basename "$m" .wasm)
    out=$T/$b.$tag
    if ! "$WS" -q "$m" "$@" -o "$out.wasm" 2>"$out.err"; then echo "FAIL $b $tag: wasmslim: $(head -c 300 "$out.err")"; return; fi
    if ! wasm-validate --enable-all "$out.wasm" 2>"$out.err"; then echo "FAIL $b $tag: invalid: $(head -c 300 "$out.err")"; return; fi
    observe "$out.wasm" "$out.run"
    if ! cmp -s "$out.run" "${m%.wasm}.expected"; then echo "FAIL $b $tag: output differs from ${m%.wasm}.expected"; return; fi
    if [ "$tag" = all ]; then
        wasm-opt -all -g --remove-unused-module-elements "$m" -o "$out.wo.wasm" 2>/dev/null
        local ours theirs
        ours=$(stat -c %s "$out.wasm"); theirs=$(stat -c %s "$out.wo.wasm")
        [ "$ours" -le "$theirs" ] || echo "FAIL $b $tag: $ours bytes, wasm-opt $theirs"
    fi
    echo "OK $b $tag"
}
export -f fixture_case observe
export WS T WASI_RUN

# ---- every fixture, two root sets, in parallel
ls "$FIX"/*.wasm >"$T/mods"
{
    sed 's/$/ all --remove-unused/' "$T/mods"
    sed 's/$/ only --export-only=_start,memory/' "$T/mods"
} | xargs -P "$JOBS" -L 1 bash -c 'fixture_case "$@"' _ >"$T/fixture.log" 2>"$T/fixture.stderr"
while read -r status rest; do
    if [ "$status" = OK ]; then ok; else fail "$status $rest"; fi
done <"$T/fixture.log"
echo "note: $(grep -c '^OK' "$T/fixture.log") fixture cases (validate, run, size <= wasm-opt -g)"

# ---- deadcode.c: only what its exports reach
for v in O0 O2 Oz; do
    m=$FIX/deadcode.$v.wasm
    [ -f "$m" ] || { fail "no $m"; continue; }
    "$WS" -q "$m" --remove-unused -o "$T/dc.all.wasm"
    "$WS" -q "$m" --export-only=_start,memory -o "$T/dc.start.wasm"
    before=$(nfuncs "$m"); all=$(nfuncs "$T/dc.all.wasm"); start=$(nfuncs "$T/dc.start.wasm")
    wasm-opt -all --remove-unused-module-elements "$m" -o "$T/dc.wo.wasm"
    echo "note: deadcode.$v functions: $before before; $all with every export a root (wasm-opt: $(nfuncs "$T/dc.wo.wasm")); $start with --export-only=_start,memory"
    [ "$all" -le "$before" ] && ok || fail "deadcode.$v: grew"
    # the 8 never-called exports (and their command-export wrappers) and 2 helpers go
    [ "$start" -le $((before - 10)) ] && ok || fail "deadcode.$v: $before -> $start with --export-only"
    "$WS" "$m" --export-only=_start,memory --why-kept=crc_like --why-kept=twice \
        --why-kept=handler_40 --why-kept=handler_00 >"$T/why" 2>&1
    grep -q '^\$crc_like (func [0-9]*): unreachable' "$T/why" && ok || fail "deadcode.$v: crc_like not unreachable: $(cat "$T/why")"
    grep -q '^\$twice (func [0-9]*): unreachable' "$T/why" && ok || fail "deadcode.$v: twice kept"
    grep -q '^\$handler_40 (func [0-9]*) <- element of elem segment 0 .* <- export "_start"$' "$T/why" && ok ||
        fail "deadcode.$v: handler_40 chain: $(grep handler_40 "$T/why")"
    grep -q '^\$handler_00 .* <- export "_start"$' "$T/why" && ok || fail "deadcode.$v: handler_00 chain"
    # bodies are scanned in parallel: the chains are those of a sequential walk
    for j in 1 4; do
        "$WS" "$m" -j$j --why-kept=handler_40 --why-kept=handler_00 --why-kept=crc_like >"$T/why.j$j" 2>&1
    done
    cmp -s "$T/why.j1" "$T/why.j4" && ok || fail "deadcode.$v: --why-kept differs between -j1 and -j4"
done

# ---- --why-kept with and without -o, error cases
m=$FIX/deadcode.O2.wasm
"$WS" -q "$m" --why-kept=crc_like >"$T/why1" 2>&1 && ok || fail "--why-kept without -o failed"
grep -q '^\$crc_like (func [0-9]*) <- .*export "crc_like"$' "$T/why1" && ok || fail "--why-kept: $(cat "$T/why1")"
"$WS" -q "$m" --why-kept=crc_like -o "$T/w.wasm" >"$T/why2" 2>&1 && ok || fail "--why-kept with -o failed"
cmp -s "$T/why1" "$T/why2" && ok || fail "--why-kept output depends on -o"
"$WS" -q "$m" --remove-unused -o "$T/r.wasm"
cmp -s "$T/w.wasm" "$T/r.wasm" && ok || fail "--why-kept changed the output"
for flag in --export-only=nosuch --keep-export=nosuch --why-kept=nosuch --why-kept=999999; do
    rm -f "$T/err.wasm"
    "$WS" "$m" --remove-unused "$flag" -o "$T/err.wasm" >"$T/err" 2>&1; rc=$?
    if [ $rc -eq 1 ] && grep -q "error: .*no" "$T/err" && [ ! -e "$T/err.wasm" ]; then ok; else fail "$flag: rc=$rc $(cat "$T/err")"; fi
done
"$WS" "$m" --keep-export= -o "$T/err.wasm" >/dev/null 2>&1; [ $? -eq 2 ] && ok || fail "--keep-export= accepted"

# ---- spellings, threads, fixed point
for spelling in "--remove-unused-module-elements" "-p remove-unused" "-p remove-unused-module-elements"; do
    # shellcheck disable=SC2086
    "$WS" -q "$m" $spelling -o "$T/s.wasm"
    cmp -s "$T/s.wasm" "$T/r.wasm" && ok || fail "$spelling differs from --remove-unused"
done
big=$(ls -S "$FIX"/*.O0.wasm | head -n 1)
"$WS" -q "$big" --export-only=_start,memory -j1 -o "$T/j1.wasm"
"$WS" -q "$big" --export-only=_start,memory -j2 -o "$T/j2.wasm"
cmp -s "$T/j1.wasm" "$T/j2.wasm" && ok || fail "-j1 and -j2 differ on $big"
"$WS" -q "$T/j1.wasm" --remove-unused -o "$T/again.wasm"
cmp -s "$T/j1.wasm" "$T/again.wasm" && ok || fail "a second run changed $big"

# ---- spec testsuite modules
if [ -d "$SPEC_DIR/json" ]; then
    # the binary modules of every script's "module" commands, one path a line
    node -e '
        const fs = require("fs"), path = require("path");
        for (const d of fs.readdirSync(process.argv[1]).sort()) {
            const j = path.join(process.argv[1], d, d + ".json");
            if (!fs.existsSync(j)) continue;
            for (const c of JSON.parse(fs.readFileSync(j, "utf8")).commands)
                if (c.type === "module" && c.filename.endsWith(".wasm")) console.log(path.join(process.argv[1], d, c.filename));
        }' "$SPEC_DIR/json" >"$T/spec.list"
    # spec_case MODULE: SKIP (wasmslim refuses the input), OK, or FAIL with the reason
    # (three processes for the usual case: the input is checked only when the run or the
    # output's validation fails)
    spec_case() {
        local m=$1 o
        o=$T/spec.${m//\//_}
        if ! "$WS" -q "$m" --remove-unused -o "$o.wasm" >"$o.err" 2>&1; then
            "$WS" -q "$m" >/dev/null 2>&1 || { echo "SKIP $m"; return; }
            echo "FAIL $m: $(head -c 300 "$o.err")"; return
        fi
        # (wabt 1.0.32 aborts on a few inputs: in a subshell, so bash's report stays quiet)
        if ! (wasm-validate --enable-all "$o.wasm") >"$o.err" 2>&1 && (wasm-validate --enable-all "$m") >/dev/null 2>&1; then
            echo "FAIL $m: invalid after: $(head -c 300 "$o.err")"; return
        fi
        echo "OK $m"
    }
    export -f spec_case
    xargs -P "$JOBS" -L 1 bash -c 'spec_case "$@"' _ <"$T/spec.list" >"$T/spec.log" 2>"$T/spec.stderr"
    while read -r status rest; do
        case $status in OK) ok ;; SKIP) ;; *) fail "spec $status $rest" ;; esac
    done <"$T/spec.log"
    echo "note: spec modules: $(grep -c '^OK' "$T/spec.log") valid after --remove-unused, $(grep -c '^SKIP' "$T/spec.log") refused as input"
else
    echo "note: $SPEC_DIR/json missing: spec modules skipped"
fi

# ---- informative: against wasm-opt on the benchmark corpus
if [ "${REMOVE_UNUSED_BENCH:-0}" = 1 ]; then
    printf '%-24s %12s %12s %12s %18s %18s\n' module input wasmslim wasm-opt "wasmslim s/KB" "wasm-opt s/KB"
    for b in "$HOME"/.cache/wasmslim-bench/*.wasm; do
        case $b in *debug*) continue ;; esac
        /usr/bin/time -f "%e %M" -o "$T/t1" "$WS" -q "$b" --remove-unused -o "$T/b1.wasm"
        /usr/bin/time -f "%e %M" -o "$T/t2" wasm-opt -all --remove-unused-module-elements "$b" -o "$T/b2.wasm"
        printf '%-24s %12d %12d %12d %18s %18s\n' "$(basename "$b")" "$(stat -c %s "$b")" "$(stat -c %s "$T/b1.wasm")" \
            "$(stat -c %s "$T/b2.wasm")" "$(tr ' ' / <"$T/t1")" "$(tr ' ' / <"$T/t2")"
    done
fi
finish remove_unused
