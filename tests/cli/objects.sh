#!/usr/bin/env bash
# objects.sh - stripping relocatable objects (clang -c -g) keeps them linkable: after
# --strip-debug/--strip-dwarf/--strip-all no DWARF is left, linking and reloc.* are kept,
# code and data bytes are unchanged, wasm-ld -r accepts the object, and a program linked
# from stripped objects prints what the one linked from the originals prints.  Removals
# that would break the object are refused with an error; malformed linking data makes
# wasmslim leave the object as it was, with a warning.
# Usage: bash tests/cli/objects.sh path/to/wasmslim
set -uo pipefail
WS=$1
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/tests/cli/lib.sh"
SECTIONS="$ROOT/tests/cli/sections.mjs"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

for tool in clang wasm-ld node; do
    command -v $tool >/dev/null || { echo "note: $tool missing; object checks skipped"; finish objects; exit; }
done

# run MODULE: its stdout and exit code, under node's WASI
if [ -f "$ROOT/tests/diff/wasi-run.mjs" ]; then
    run() { node --no-warnings "$ROOT/tests/diff/wasi-run.mjs" "$1"; echo "exit $?"; }
else
    cat >"$T/run.mjs" <<'EOF'
import { readFileSync } from 'node:fs';
import { WASI } from 'node:wasi';
const wasi = new WASI({ version: 'preview1', args: ['p'], env: {}, returnOnExit: true });
const m = await WebAssembly.compile(readFileSync(process.argv[2]));
const inst = await WebAssembly.instantiate(m, wasi.getImportObject());
process.exitCode = wasi.start(inst) ?? 0;
EOF
    run() { node --no-warnings "$T/run.mjs" "$1"; echo "exit $?"; }
fi

# section names and payload hashes, cached per file (node starts slowly)
names() {
    [ "$1.names" -nt "$1" ] || node "$SECTIONS" list "$1" | awk '{print $2}' >"$1.names"
    cat "$1.names"
}
has() { names "$1" | grep -qx -- "$2"; }
bytes_hash() {   # the code and data payloads' sha256
    [ "$1.sha" -nt "$1" ] || node "$SECTIONS" hash "$1" code data >"$1.sha"
    cat "$1.sha"
}

# check_stripped IN OUT OPTION: what every strip of an object must guarantee
check_stripped() {
    local in=$1 out=$2 opt=$3 d="$(basename "$1") $3"
    if names "$out" | grep -Eq '^(\.debug_|reloc\.\.debug_)'; then fail "$d: DWARF left"; else ok; fi
    check "$d: linking kept" has "$out" linking
    check "$d: reloc.CODE kept" has "$out" reloc.CODE
    if has "$in" reloc.DATA; then check "$d: reloc.DATA kept" has "$out" reloc.DATA; fi
    [ "$(bytes_hash "$in")" = "$(bytes_hash "$out")" ] && ok || fail "$d: code or data bytes changed"
    check "$d: wasm-ld -r accepts it" wasm-ld -r "$out" -o "$out.r.o"
}

# check_fixture NAME LEVEL SRC...: compile, strip each way, relink, compare the output
check_fixture() {
    local name=$1 level=$2; shift 2
    local objs=() src o opt tag
    for src in "$@"; do
        o="$T/$name.$(basename "$src" .c).$level.o"
        clang --target=wasm32-wasi -std=c11 -"$level" -g -c "$src" -o "$o" || { fail "$name $level: compile"; return; }
        objs+=("$o")
    done
    clang --target=wasm32-wasi "${objs[@]}" -o "$T/$name.$level.wasm" || { fail "$name $level: link"; return; }
    local want; want=$(run "$T/$name.$level.wasm")
    for opt in --strip-debug --strip-dwarf --strip-all; do
        local stripped=() msgs
        tag=${opt#--}
        for o in "${objs[@]}"; do
            msgs=$("$WS" "$o" "$opt" -o "${o%.o}.$tag.o" 2>&1) || { fail "$o $opt: rc=$?: $msgs"; continue; }
            ok
            stripped+=("${o%.o}.$tag.o")
            check_stripped "$o" "${o%.o}.$tag.o" "$opt"
            if [ "$opt" = --strip-all ]; then
                grep -q 'kept custom section "linking"' <<<"$msgs" && grep -q 'kept custom section "reloc.CODE"' <<<"$msgs" \
                    && ok || fail "$o --strip-all: did not say it kept linking/reloc.*: $msgs"
            fi
        done
        [ ${#stripped[@]} = ${#objs[@]} ] || continue
        if clang --target=wasm32-wasi "${stripped[@]}" -o "$T/$name.$level.$tag.wasm"; then
            ok
            [ "$(run "$T/$name.$level.$tag.wasm")" = "$want" ] && ok || fail "$name $level $opt: program output differs"
        else
            fail "$name $level $opt: linking the stripped objects failed"
        fi
    done
}

HELLO="$ROOT/fixtures/demo/hello.c"
MULTI="$ROOT/fixtures/c/multi"
for level in O0 O2; do
    check_fixture hello "$level" "$HELLO"
    if [ -f "$MULTI/a.c" ] && [ -f "$MULTI/b.c" ]; then
        check_fixture multi "$level" "$MULTI/a.c" "$MULTI/b.c"
    fi
done
[ -f "$MULTI/a.c" ] || echo "note: fixtures/c/multi absent; two-file checks skipped"

# --- removals that would break an object are refused, the object stays linkable ---
obj="$T/hello.hello.O0.o"
"$WS" "$obj" -q -o "$T/plain.o" 2>/dev/null

# expect_refused OPTION SECTION: a warning naming SECTION, exit 0, the object written as read
expect_refused() {
    local msgs
    msgs=$("$WS" "$obj" "$1" -q -o "$T/refused.o" 2>&1); local rc=$?
    [ $rc = 0 ] && grep -q "warning: kept custom section \"$2\"" <<<"$msgs" && ok || fail "$1: rc=$rc msgs=$msgs"
    check "$1: $2 kept" has "$T/refused.o" "$2"
    check "$1: object as read" cmp "$T/plain.o" "$T/refused.o"
}
expect_refused --strip-custom=.debug_str .debug_str       # reloc..debug_info uses its symbol
expect_refused --strip-custom='reloc.*' reloc.CODE         # code would lose its relocations
expect_refused --strip-custom=linking linking

# a section removed alone takes its reloc section with it (with a notice)
msgs=$("$WS" "$obj" --strip-custom=.debug_info -o "$T/noinfo.o" 2>&1)
grep -q 'removed custom section "reloc..debug_info"' <<<"$msgs" && ok || fail "--strip-custom=.debug_info: no notice: $msgs"
if has "$T/noinfo.o" reloc..debug_info; then fail "reloc..debug_info left without its section"; else ok; fi
check "--strip-custom=.debug_info: wasm-ld -r accepts it" wasm-ld -r "$T/noinfo.o" -o "$T/noinfo.r.o"

# passes compose: each strip renumbers what the previous one left
check "three strips in a row" "$WS" "$obj" -q -p strip-producers,strip-dwarf,strip-all -o "$T/three.o"
check "three strips: wasm-ld -r accepts it" wasm-ld -r "$T/three.o" -o "$T/three.r.o"
check "three strips: same as --strip-all" cmp "$T/three.o" "$T/hello.hello.O0.strip-all.o"

# objects made by wasm-ld -r (a name section after the relocations) strip too
if wasm-ld -r "$T/multi.a.O2.o" "$T/multi.b.O2.o" -o "$T/merged.o" 2>/dev/null || wasm-ld -r "$obj" -o "$T/merged.o"; then
    check "wasm-ld -r output: --strip-debug" "$WS" "$T/merged.o" -q --strip-debug -o "$T/merged.s.o"
    check "wasm-ld -r output stripped: wasm-ld -r accepts it" wasm-ld -r "$T/merged.s.o" -o "$T/merged.r.o"
fi

# a hand-written object where SECTION symbols come first (LLVM puts them last), with
# an init function and a COMDAT holding a section: every symbol index moves
if command -v llvm-mc >/dev/null && command -v obj2yaml >/dev/null; then
    cat >"$T/syms.s" <<'EOF'
	.section	.debug_abbrev,"",@
.Labbrev:
	.int8	1
	.section	.debug_str,"G",@,grp1,comdat
.Lstr:
	.int8	65
	.int8	0
	.section	.debug_info,"",@
	.int32	.Labbrev
	.int32	.Lstr
	.int32	f
	.section	.text.f,"",@
	.functype	f () -> (i32)
	.globl	f
f:
	.functype	f () -> (i32)
	i32.const	counter
	i32.load	0
	end_function
	.section	.text.g,"",@
	.functype	g () -> (i32)
	.globl	g
g:
	.functype	g () -> (i32)
	call	f
	end_function
	.section	.init_array.100,"",@
	.p2align	2
	.int32	g
	.section	.data.counter,"",@
	.globl	counter
counter:
	.int32	5
	.size	counter, 4
EOF
    # yaml_has FILE PATTERN...: obj2yaml's view of FILE (one line) matches every PATTERN
    yaml_has() {
        local y p; y=$(obj2yaml "$1" | tr -s ' \n' ' '); shift
        for p in "$@"; do grep -Eq -- "$p" <<<"$y" || { echo "missing: $p"; return 1; }; done
    }
    if llvm-mc -triple=wasm32-unknown-unknown -filetype=obj "$T/syms.s" -o "$T/syms.o"; then
        check "hand-written object: as assembled" yaml_has "$T/syms.o" "Index: 0 Kind: SECTION" \
            "InitFunctions: - Priority: 100 Symbol: 4" "Kind: SECTION Index: 7"
        "$WS" "$T/syms.o" -q --strip-dwarf -o "$T/syms.s1.o"
        check "all SECTION symbols dropped: symbols, init function, relocations, COMDAT renumbered" \
            yaml_has "$T/syms.s1.o" "Index: 0 Kind: FUNCTION Name: f" "Index: 2 Kind: FUNCTION Name: g" \
            "Symbol: 2" "R_WASM_MEMORY_ADDR_SLEB Index: 1 Offset: 0x4" \
            "R_WASM_FUNCTION_INDEX_LEB Index: 0 Offset: 0x10" "Name: grp1 Entries: \[\]"
        check "all SECTION symbols dropped: wasm-ld -r accepts it" wasm-ld -r "$T/syms.s1.o" -o "$T/syms.r1.o"
        "$WS" "$T/syms.o" -q --strip-custom=.debug_info --strip-custom=.debug_abbrev -o "$T/syms.s2.o" 2>/dev/null
        check "one SECTION symbol dropped: the other's section index follows" \
            yaml_has "$T/syms.s2.o" "Index: 0 Kind: SECTION Flags: \[ BINDING_LOCAL \] Section: 6" \
            "Index: 3 Kind: FUNCTION Name: g" "Symbol: 3" "Kind: SECTION Index: 6"
        check "one SECTION symbol dropped: wasm-ld -r accepts it" wasm-ld -r "$T/syms.s2.o" -o "$T/syms.r2.o"
    else
        fail "llvm-mc could not assemble the hand-written object"
    fi
else
    echo "note: llvm-mc/obj2yaml missing; hand-written object checks skipped"
fi

# --stats=json: linking and reloc.* (not reloc..debug_*) are the "linking" kind
json=$("$WS" "$obj" --stats=json -q)
want=$(node "$SECTIONS" list "$obj" | awk '$2 == "linking" || ($2 ~ /^reloc\./ && $2 !~ /^reloc\.\.debug_/) {s += $3} END {print s}')
got=$(node -e 'const j = JSON.parse(process.argv[1]); console.log((j.input || j).by_kind.linking)' "$json" 2>/dev/null)
[ "$got" = "$want" ] && ok || fail "--stats=json by_kind.linking: got $got, want $want"

# malformed linking data (unknown version): a warning, nothing removed
node -e '
const fs = require("fs"); const b = fs.readFileSync(process.argv[1]);
const at = b.indexOf(Buffer.from("\x07linking")); b[at + 8] = 3; fs.writeFileSync(process.argv[2], b);' "$obj" "$T/bad.o"
msgs=$("$WS" "$T/bad.o" --strip-debug -q -o "$T/bad.s.o" 2>&1); rc=$?
[ $rc = 0 ] && grep -q "warning: cannot renumber" <<<"$msgs" && ok || fail "malformed linking: rc=$rc msgs=$msgs"
check "malformed linking: DWARF kept" has "$T/bad.s.o" .debug_info
[ "$(names "$T/bad.o")" = "$(names "$T/bad.s.o")" ] && ok || fail "malformed linking: sections changed"

# sizes, for the record
in_size=$(stat -c %s "$T/multi.a.O2.o" 2>/dev/null || stat -c %s "$T/hello.hello.O2.o")
out_size=$(stat -c %s "$T/multi.a.O2.strip-debug.o" 2>/dev/null || stat -c %s "$T/hello.hello.O2.strip-debug.o")
echo "note: object -O2 -g: $in_size bytes, after --strip-debug: $out_size bytes"
finish objects
