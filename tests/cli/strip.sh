#!/usr/bin/env bash
# strip.sh - each strip flag removes exactly what it says and nothing else; stripped
# linked -g builds carry no padded LEB128 (the output is a fixpoint of -O0) and are no
# larger than wasm-opt --strip-debug; spec modules with custom sections are byte-identical
# after stripping except for the removed sections; globs, --keep-custom, empty names.
# Usage: bash tests/cli/strip.sh path/to/wasmslim   (uses build/fixtures if built)
set -uo pipefail
WS=$1
. "$(dirname "$0")/lib.sh"
SECTIONS="node $(dirname "$0")/sections.mjs"
SPEC=${SPEC_DIR:-../shared/spec}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

customs() { $SECTIONS list "$1" | awk '$1 == 0 {print (NF == 2 ? "<empty>" : $2)}' | sort | tr '\n' ' '; }
# expect_customs FILE "NAMES" DESCRIPTION
expect_customs() {
    local got; got=$(customs "$1")
    if [ "$got" = "$2" ]; then ok; else fail "$3: custom sections [$got], expected [$2]"; fi
}
# without "LIST" NAME...: LIST minus the names (space separated, sorted)
without() { local l=" $1"; shift; for n in "$@"; do l=${l// $n / }; done; echo "${l# }"; }

fixtures=$(ls build/fixtures/*.O0g.wasm build/fixtures/*.O2g.wasm build/fixtures/*.Ozg.wasm 2>/dev/null | head -n 12)
[ -n "$fixtures" ] || echo "note: build/fixtures not built; fixture checks skipped"
for m in $fixtures; do
    b=$(basename "$m" .wasm)
    all=$(customs "$m")
    debug=$(echo "$all" | tr ' ' '\n' | grep -E '^(\.debug_|name$|sourceMappingURL$|external_debug_info$)' | tr '\n' ' ')
    "$WS" "$m" --strip-debug -q -o "$T/d.wasm" || fail "$b --strip-debug failed"
    # shellcheck disable=SC2086
    expect_customs "$T/d.wasm" "$(without "$all" $debug)" "$b --strip-debug"
    check "$b --strip-debug validates" wasm-validate --enable-all "$T/d.wasm"
    "$WS" "$T/d.wasm" -O0 -q -o "$T/d2.wasm"
    check "$b --strip-debug leaves no padded LEB (fixpoint of -O0)" cmp "$T/d.wasm" "$T/d2.wasm"
    if wasm-opt --all-features --strip-debug "$m" -o "$T/ref.wasm" 2>/dev/null; then
        ours=$(stat -c %s "$T/d.wasm"); ref=$(stat -c %s "$T/ref.wasm")
        if [ "$ours" -le "$ref" ]; then ok; else fail "$b: --strip-debug $ours bytes > wasm-opt's $ref"; fi
    fi
    "$WS" "$m" --strip-dwarf -q -o "$T/w.wasm"
    dwarf=$(echo "$all" | tr ' ' '\n' | grep -E '^\.debug_' | tr '\n' ' ')
    # shellcheck disable=SC2086
    expect_customs "$T/w.wasm" "$(without "$all" $dwarf)" "$b --strip-dwarf"
    "$WS" "$m" --strip-producers -q -o "$T/p.wasm"
    expect_customs "$T/p.wasm" "$(without "$all" producers)" "$b --strip-producers"
    "$WS" "$m" --strip-all -q -o "$T/a.wasm"
    expect_customs "$T/a.wasm" "" "$b --strip-all"
    "$WS" "$m" --strip-names=local,label -q -o "$T/n.wasm"
    expect_customs "$T/n.wasm" "$all" "$b --strip-names=local keeps the section"
    "$WS" "$m" --strip-all --keep-custom='.debug_*' -q -o "$T/k.wasm"
    expect_customs "$T/k.wasm" "$dwarf" "$b --strip-all --keep-custom=.debug_*"
    # -O0 checks the round trip but keeps the bytes the DWARF describes; a pass that
    # changes code drops it, saying so
    msg=$("$WS" "$m" -O0 -o "$T/z.wasm" 2>&1)
    check "$b -O0 keeps the module, DWARF and all" cmp "$m" "$T/z.wasm"
    if grep -q stale <<<"$msg"; then fail "$b -O0: $msg"; else ok; fi
    "$WS" "$m" -O0 --strip-debug -q -o "$T/z.wasm"
    check "$b -O0 --strip-debug = --strip-debug" cmp "$T/d.wasm" "$T/z.wasm"
    msg=$("$WS" "$m" -O1 -o "$T/z.wasm" 2>&1)
    if [[ -n $dwarf ]] && ! grep -q "notice: code changed, dropped [0-9]* stale debug sections" <<<"$msg"; then
        fail "$b -O1: no notice of the DWARF dropped: $msg"
    else ok; fi
    # shellcheck disable=SC2086
    expect_customs "$T/z.wasm" "$(without "$all" $dwarf)" "$b -O1 drops the stale DWARF"
done

# spec modules: stripping = the input without those sections, byte for byte
n=0
for m in "$SPEC"/json/custom/*.wasm "$SPEC"/json/names/*.wasm "$SPEC"/json/utf8-custom-section-id/*.wasm \
         "$SPEC"/json/custom__branch_hint/*.wasm; do
    [ -f "$m" ] || continue
    "$WS" "$m" -q -o "$T/o.wasm" 2>/dev/null || continue  # malformed ones are rejected elsewhere
    cmp -s "$m" "$T/o.wasm" || continue                     # only canonical inputs
    "$WS" "$m" --strip-all -q -o "$T/s.wasm"
    $SECTIONS drop "$m" "$T/ref.wasm" '*'
    check "$(basename "$m") --strip-all = input minus custom sections" cmp "$T/s.wasm" "$T/ref.wasm"
    "$WS" "$m" --strip-custom='*a*' -q -o "$T/s.wasm"
    $SECTIONS drop "$m" "$T/ref.wasm" '*a*'
    check "$(basename "$m") --strip-custom='*a*'" cmp "$T/s.wasm" "$T/ref.wasm"
    n=$((n + 1))
done
echo "note: $n spec modules with custom sections checked"

# globs: dots, empty names, ?, keep wins
printf '\0asm\1\0\0\0' >"$T/g.wasm"
for name in "" ".debug_info" "a.b" "abc" "x"; do
    len=${#name}
    printf "\\0\\x$(printf %02x $((len + 2)))\\x$(printf %02x "$len")%s\\x42" "$name" >>"$T/g.wasm"
done
"$WS" "$T/g.wasm" --strip-custom='' -q -o "$T/g1.wasm"
expect_customs "$T/g1.wasm" ".debug_info a.b abc x " "--strip-custom='' removes only the empty name"
"$WS" "$T/g.wasm" --strip-custom='?.?' -q -o "$T/g2.wasm"
expect_customs "$T/g2.wasm" "$(printf '%s\n' '<empty>' .debug_info abc x | sort | tr '\n' ' ')" "--strip-custom='?.?'"
"$WS" "$T/g.wasm" --strip-custom='*' --keep-custom='a*' -q -o "$T/g3.wasm"
expect_customs "$T/g3.wasm" "a.b abc " "--keep-custom wins over --strip-custom"
"$WS" "$T/g.wasm" --strip-custom='.debug*' --strip-custom='x' -q -o "$T/g4.wasm"
expect_customs "$T/g4.wasm" "$(printf '%s\n' '<empty>' a.b abc | sort | tr '\n' ' ')" "repeated --strip-custom"
finish strip
