#!/usr/bin/env bash
# duplicates.sh - duplicate-function-elimination outside the code (the code itself:
# tests/passes/duplicate-function-elimination): element segments, exports, start and
# the name section point at the function kept, the twins' names go, the module
# behaves the same under node, the -O levels from -O2 run it and -O1 does not, and
# relocatable objects are refused.
# Usage: bash tests/cli/duplicates.sh path/to/wasmslim
set -uo pipefail
WS=$1
. "$(dirname "$0")/lib.sh"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

cat >"$T/m.wat" <<'EOF'
(module
  (type $t (func (param i32) (result i32)))
  (import "env" "log" (func $log (param i32)))
  (table 3 funcref)
  (global $g (mut i32) (i32.const 0))
  (func $double (type $t) (i32.shl (local.get 0) (i32.const 1)))
  (func $twice (type $t) (i32.shl (local.get 0) (i32.const 1)))
  (func $plus1 (type $t) (i32.add (local.get 0) (i32.const 1)))
  (func $init1 (global.set $g (i32.const 5)))
  (func $init2 (global.set $g (i32.const 5)))
  (func $via (param i32 i32) (result i32) (call_indirect (type $t) (local.get 1) (local.get 0)))
  (func $run (export "run") (param i32) (result i32)
    (call $init2)
    (call $log (call $via (i32.const 0) (local.get 0)))
    (call $log (call $via (i32.const 1) (local.get 0)))
    (call $log (call $via (i32.const 2) (local.get 0)))
    (i32.add (global.get $g) (call $twice (local.get 0))))
  (export "double" (func $double))
  (export "twice" (func $twice))
  (elem (i32.const 0) func $twice $plus1 $double)
  (start $init2)
)
EOF
wat2wasm --debug-names "$T/m.wat" -o "$T/m.wasm" || { echo "duplicates: wat2wasm failed"; exit 1; }
"$WS" "$T/m.wasm" --duplicate-function-elimination -o "$T/d.wasm" 2>"$T/err"
check "merges: runs" test -s "$T/d.wasm"
check "merges: valid" wasm-validate "$T/d.wasm"
check "merges: counted" grep -q "functions merged 2" "$T/err"
wasm-objdump -x "$T/d.wasm" >"$T/d.txt" 2>&1
check "five functions stay" grep -q "Function\[5\]" "$T/d.txt"
check "element segment: the kept one" grep -q "elem\[0\] = func\[1\] <double>" "$T/d.txt"
check "element segment: the kept one (2)" grep -q "elem\[2\] = func\[1\] <double>" "$T/d.txt"
check "exports: both to the kept one" sh -c "grep -q 'func\[1\] <double> -> \"double\"' '$T/d.txt' && grep -q 'func\[1\] <double> -> \"twice\"' '$T/d.txt'"
check "start: the kept init" grep -q "start function: 3" "$T/d.txt"
check "names: the twins' are gone" sh -c "! grep -q '<twice>\|<init2>' '$T/d.txt'"

# the same results and log under node, before and after (and after -O3, which runs it)
"$WS" "$T/m.wasm" -O3 -q -o "$T/o3.wasm"
cat >"$T/run.cjs" <<'EOF'
const fs = require('fs');
const out = [];
const inst = new WebAssembly.Instance(new WebAssembly.Module(fs.readFileSync(process.argv[2])),
                                      {env: {log: (x) => out.push(x)}});
for (const x of [0, 3, 1000]) out.push(inst.exports.run(x), inst.exports.double(x), inst.exports.twice(x));
console.log(out.join(' '));
EOF
node "$T/run.cjs" "$T/m.wasm" >"$T/before" 2>&1
check "runs before" grep -qx "0 1 0 5 0 0 6 4 6 11 6 6 2000 1001 2000 2005 2000 2000" "$T/before"
for v in d o3; do
    node "$T/run.cjs" "$T/$v.wasm" >"$T/after" 2>&1
    check "$v: the same under node" cmp "$T/before" "$T/after"
done

# -O1 does not merge, -O2 and the size levels do; -O2 -s 1 is -Os here too
"$WS" "$T/m.wasm" -O1 -o "$T/o1.wasm" 2>"$T/err1"
check "-O1: no merging" sh -c "! grep -q 'functions merged' '$T/err1'"
for lv in -O2 -O3 -Os -Oz; do
    "$WS" "$T/m.wasm" "$lv" -o "$T/lv.wasm" 2>"$T/errl"
    check "$lv merges" grep -q "functions merged" "$T/errl"
done
# --stats=json counts it
"$WS" "$T/m.wasm" --duplicate-function-elimination --stats=json -q -o "$T/s.wasm" >"$T/stats.json" 2>&1
check "--stats=json: functions merged" grep -q '"functions merged": 2' "$T/stats.json"
# the pass is listed, and -p takes its name
check "--list-passes" sh -c "'$WS' --list-passes | grep -q '^  *duplicate-function-elimination'"
"$WS" "$T/m.wasm" -p duplicate-function-elimination -q -o "$T/p.wasm"
check "-p duplicate-function-elimination" cmp "$T/p.wasm" "$T/d.wasm"
# a relocatable object is refused (relocations name the functions by index)
if command -v clang >/dev/null 2>&1; then
    printf 'int a(int x){return x+1;}\nint b(int x){return x+1;}\n' >"$T/o.c"
    if clang --target=wasm32 -O2 -c "$T/o.c" -o "$T/o.o" 2>/dev/null; then
        "$WS" "$T/o.o" --duplicate-function-elimination -o "$T/o2.o" 2>"$T/erro"; rc=$?
        if [ $rc -eq 1 ] && grep -q "relocatable object" "$T/erro" && [ ! -e "$T/o2.o" ]; then ok
        else fail "object: rc=$rc"; fi
    fi
fi
finish duplicates
