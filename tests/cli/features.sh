#!/usr/bin/env bash
# features.sh - wasm-opt's feature flags (--mvp-features, -mvp, --disable-X, --enable-X,
# --all-features): a module that uses a feature the flags leave out is refused with
# its offset and exit 1, in command-line order; the passes never make a module use a
# feature it did not (the inliner's blocks take no parameters then); metering, which
# exports a mutable global, is refused without mutable-globals; --emit-target-features
# writes the section from what the output uses.
# Usage: bash tests/cli/features.sh path/to/wasmslim [FIXTURES_DIR]
set -uo pipefail
WS=$(realpath "$1")
FIX=${2:-build/fixtures}
. "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

# One module per feature: NAME|WAT (a module that uses it and nothing else beyond MVP).
CASES=(
  'sign-ext|(func (param i32) (result i32) (i32.extend8_s (local.get 0)))'
  'mutable-globals|(global (export "g") (mut i32) (i32.const 0))'
  'nontrapping-float-to-int|(func (param f32) (result i32) (i32.trunc_sat_f32_s (local.get 0)))'
  'simd|(func (result i32) (i32x4.extract_lane 0 (v128.const i32x4 1 2 3 4)))'
  'bulk-memory|(memory 1) (func (memory.fill (i32.const 0) (i32.const 0) (i32.const 1)))'
  'threads|(memory 1 1 shared)'
  'exception-handling|(tag $t) (func (throw $t))'
  'tail-call|(func $f (return_call $f))'
  'reference-types|(func (result externref) (ref.null extern))'
  'multivalue|(func (result i32 i32) (i32.const 1) (i32.const 2))'
  'gc|(type (struct (field i32)))'
  'memory64|(memory i64 1)'
  'relaxed-simd|(func (param v128) (result v128) (i32x4.relaxed_trunc_f32x4_s (local.get 0)))'
  'extended-const|(global i32 (i32.add (i32.const 1) (i32.const 2)))'
  'multimemory|(memory 1) (memory 1)'
)

# expect CODE PATTERN WHAT -- ARGS...: wasmslim exits CODE and says PATTERN (if any)
expect() {
    local code=$1 pattern=$2 what=$3 out rc
    shift 4
    out=$("$WS" "$@" 2>&1); rc=$?
    if [ "$rc" -eq "$code" ] && { [ -z "$pattern" ] || grep -Eq -- "$pattern" <<<"$out"; }; then ok; else
        fail "$what: rc=$rc $out"
    fi
}

# typed-function-references, which this wabt cannot assemble: (type $t (func))
# (func (param (ref null $t)) (call_ref $t (local.get 0)))
printf '\0asm\1\0\0\0\1\11\2\x60\0\0\x60\1\x63\0\0\3\2\1\1\12\10\1\6\0\x20\0\x14\0\13' \
    >"$T/typed-function-references.wasm"
CASES+=('typed-function-references|')

for c in "${CASES[@]}"; do
    name=${c%%|*} wat=${c#*|}
    if [ -n "$wat" ]; then
        echo "(module $wat)" >"$T/$name.wat"
        if ! wat2wasm --enable-all "$T/$name.wat" -o "$T/$name.wasm" 2>"$T/err"; then
            fail "wat2wasm $name: $(cat "$T/err")"
            continue
        fi
    fi
    m=$T/$name.wasm
    expect 0 "" "$name: accepted by default" -- "$m" -q
    expect 1 "$name.wasm:0x[0-9a-f]+: error: .* needs $name, which the options disable" \
        "$name: refused by --disable-$name" -- "$m" --disable-"$name" -q -o "$T/out.wasm"
    check "$name: nothing written" test ! -e "$T/out.wasm"
    expect 1 "error: .* needs " "$name: refused by --mvp-features" -- "$m" --mvp-features -q
    expect 0 "" "$name: --disable then --enable" -- "$m" --disable-"$name" --enable-"$name" -q
    expect 0 "" "$name: -mvp then --all-features" -- "$m" -mvp --all-features -q
    expect 1 "error: .* needs " "$name: --all-features then -mvp" -- "$m" --all-features -mvp -q
done

# the offset is the instruction's
"$WS" "$T/sign-ext.wasm" --mvp-features -q 2>"$T/err"
off=$(grep -o '0x[0-9a-f]*' "$T/err" | head -1)
check "offset of i32.extend8_s" grep -q "^ $(printf '%06x' "$off"): c0 *| i32.extend8_s" <(wasm-objdump -d "$T/sign-ext.wasm")

expect 2 "unknown feature in '--enable-frobnicate'" "unknown feature" -- "$T/simd.wasm" --enable-frobnicate
expect 2 "unknown feature" "unknown feature (disable)" -- "$T/simd.wasm" --disable-frobnicate
expect 0 "" "binaryen 108's gc-nn-locals" -- "$T/simd.wasm" --enable-gc-nn-locals -q
expect 1 "needs bulk-memory" "--disable-bulk-memory-opt is bulk-memory" -- "$T/bulk-memory.wasm" --disable-bulk-memory-opt -q
expect 1 "needs reference-types" "--disable-call-indirect-overlong is reference-types" -- "$T/reference-types.wasm" --disable-call-indirect-overlong -q
expect 0 "" "--enable-strings (no encoding of it is read)" -- "$T/simd.wasm" --enable-strings --disable-fp16 -q
expect 2 "needs mutable-globals" "--fuel without mutable-globals" -- "$T/simd.wasm" --mvp-features --fuel -o "$T/x.wasm"
expect 2 "needs mutable-globals" "--stack-limit without mutable-globals" -- "$T/simd.wasm" --disable-mutable-globals --stack-limit=9 -o "$T/x.wasm"
expect 0 "" "--fuel with mutable-globals back" -- "$T/sign-ext.wasm" -mvp --enable-mutable-globals --enable-sign-ext --fuel -q -o "$T/x.wasm"

# --emit-target-features: the section lists what the output uses, "+" and LLVM's name
# each, replacing one the input had; after metering; once with --converge; not on objects
tf() { # tf FILE: the target_features sections' payloads, hex, one per line
    node -e "const fs=require('fs');for (const s of WebAssembly.Module.customSections(new WebAssembly.Module(fs.readFileSync('$1')),'target_features')) console.log(Buffer.from(s).toString('hex'))"
}
hex() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n'; }
SE=$(hex "+")08$(hex "sign-ext")
MG=$(hex "+")0f$(hex "mutable-globals")
"$WS" "$T/sign-ext.wasm" --emit-target-features -q -o "$T/tf1.wasm"
check "target_features: +sign-ext" test "$(tf "$T/tf1.wasm")" = "01$SE"
"$WS" "$T/sign-ext.wasm" --emit-target-features --fuel -q -o "$T/tf2.wasm"
check "target_features after metering: +sign-ext +mutable-globals" test "$(tf "$T/tf2.wasm")" = "02$SE$MG"
# the input claims simd128, which it does not use: one section, the true list
{ cat "$T/sign-ext.wasm"; printf '\0\32\17target_features\1+\7simd128'; } >"$T/claims.wasm"
check "the input's claim is read" test "$(tf "$T/claims.wasm")" = "01$(hex "+")07$(hex "simd128")"
"$WS" "$T/claims.wasm" --emit-target-features -q -o "$T/tf3.wasm"
check "target_features replaced" test "$(tf "$T/tf3.wasm")" = "01$SE"
phases=$("$WS" "$T/sign-ext.wasm" -O2 --converge --emit-target-features --fuel --time-passes -q -o "$T/tf4.wasm" 2>&1)
check "emit-target-features once, after meter" sh -c "printf '%s' '$phases' | grep -o 'meter\|emit-target-features' | tr '\n' , | grep -qx 'meter,emit-target-features,'"
printf '(module (func (export "f")))' >"$T/obj.wat"
if wat2wasm --relocatable "$T/obj.wat" -o "$T/obj.o" 2>/dev/null; then
    expect 1 "obj.o:0x0*[1-9a-f][0-9a-f]*: error: --emit-target-features: not on a relocatable object" "--emit-target-features on an object, at its linking section" -- "$T/obj.o" --emit-target-features -o "$T/x.o"
else
    fail "wat2wasm --relocatable"
fi

# The inliner: a callee that needs a block (an early return) with parameters, in a
# module without multi-value: the output must stay free of block parameters.
cat >"$T/inl-mvp.wat" <<'EOF'
(module
  (func $clamp (param i32 i32) (result i32)
    (if (i32.lt_s (local.get 0) (local.get 1)) (then (return (local.get 1))))
    (i32.add (local.get 0) (i32.const 1)))
  (func (export "f") (param i32) (result i32)
    (call $clamp (i32.mul (local.get 0) (i32.const 3)) (i32.const 10))))
EOF
# the same with a function of two results: a module that uses multi-value already
sed 's/^(module$/(module (func (export "g") (result i32 i32) (i32.const 1) (i32.const 2))/' \
    "$T/inl-mvp.wat" >"$T/inl-mv.wat"
wat2wasm "$T/inl-mvp.wat" -o "$T/inl-mvp.wasm"
wat2wasm "$T/inl-mv.wat" -o "$T/inl-mv.wasm"
MVP_WABT=(--disable-mutable-globals --disable-saturating-float-to-int --disable-sign-extension
          --disable-simd --disable-multi-value --disable-bulk-memory --disable-reference-types)
for flags in "-O3" "-O3 --mvp-features" "-O2 --disable-multivalue"; do
    # shellcheck disable=SC2086
    "$WS" "$T/inl-mvp.wasm" $flags -q -o "$T/inl.out.wasm"
    check "inlined ($flags): no block parameters" wasm-validate "${MVP_WABT[@]}" "$T/inl.out.wasm"
    check "inlined ($flags): the call is gone" sh -c "! wasm-objdump -d '$T/inl.out.wasm' | grep -q 'call 0'"
done
node -e "
const fs=require('fs');
const a=new WebAssembly.Instance(new WebAssembly.Module(fs.readFileSync('$T/inl-mvp.wasm'))).exports.f;
const b=new WebAssembly.Instance(new WebAssembly.Module(fs.readFileSync('$T/inl.out.wasm'))).exports.f;
for (const x of [-5,0,3,4,100]) if (a(x)!==b(x)) { console.log('differs at', x); process.exit(1); }" &&
    ok || fail "inlined f computes what it did"
# a module that uses multi-value already keeps the block's parameters
"$WS" "$T/inl-mv.wasm" -O3 -q -o "$T/inl.out.wasm"
check "multi-value module: block parameters" sh -c "wasm2wat '$T/inl.out.wasm' | grep -q 'block (param i32 i32)'"

# A C fixture built for the MVP (clang's default features here) stays MVP through -O3.
if [ -f "$FIX/sort.O2.wasm" ]; then
    expect 0 "" "C fixture: -O3 --mvp-features" -- "$FIX/sort.O2.wasm" -O3 --mvp-features -q -o "$T/c.wasm"
    check "C fixture: MVP for wabt" wasm-validate "${MVP_WABT[@]}" "$T/c.wasm"
    expect 1 "a local of type v128 needs simd" "C fixture with SIMD refused" -- "$FIX/simd.O2.wasm" --disable-simd -q
else
    echo "features: $FIX/sort.O2.wasm absent: C fixture checks skipped"
fi
finish features
