#!/usr/bin/env bash
# errors.sh - bad input gets "FILE:0xOFFSET: error: ..." and exit 1, never a crash, and
# nothing is lost: no partial output, the input is never truncated, counts are checked
# before allocation; plus stdin/stdout, in-place writes and deterministic output.
# Usage: bash tests/cli/errors.sh path/to/wasmslim
set -uo pipefail
WS=$1
. "$(dirname "$0")/lib.sh"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

# expect_error FILE PATTERN: exit 1 and a message matching PATTERN
expect_error() {
    local out rc
    out=$("$WS" "$1" -o "$T/out.wasm" 2>&1); rc=$?
    if [ $rc -eq 1 ] && grep -Eq "$2" <<<"$out"; then ok; else fail "$1: rc=$rc msg=$out"; fi
    if [ -e "$T/out.wasm" ]; then fail "$1: left an output file"; rm -f "$T/out.wasm"; else ok; fi
}

printf '\0asm\1\0\0\0' >"$T/empty.wasm"
printf '\0asm\1\0\0' >"$T/short.wasm"
printf 'hello world!' >"$T/text.wasm"
# a 16-byte file whose function section claims 2^32-1 functions
printf '\0asm\1\0\0\0\3\6\xff\xff\xff\xff\x0f\0' >"$T/huge.wasm"
printf '\0asm\1\0\0\0\1\x05\x01\x60\x00\x00' >"$T/trunc.wasm"
printf '\0asm\1\0\0\0\x0e\x00' >"$T/badid.wasm"

check "empty module accepted" "$WS" "$T/empty.wasm" -o "$T/e2.wasm"
check "empty module round-trips" cmp "$T/empty.wasm" "$T/e2.wasm"
expect_error "$T/short.wasm" "short.wasm:0x4: error: "
expect_error "$T/text.wasm" "text.wasm:0x0: error: magic header"
expect_error "$T/trunc.wasm" "trunc.wasm:0x[0-9a-f]+: error: "
expect_error "$T/badid.wasm" "badid.wasm:0x8: error: malformed section id"
# must fail without allocating: run under a 64 MB address-space limit
out=$( (ulimit -v 65536; "$WS" "$T/huge.wasm" -o "$T/out.wasm") 2>&1 ); rc=$?
if [ $rc -eq 1 ] && grep -q "huge.wasm:0xa: error: .*exceeds" <<<"$out"; then ok; else fail "huge count: rc=$rc $out"; fi
# a module of 4 GiB or more is refused before any of it is read (offsets are 32-bit):
# a sparse file, under the same 64 MB limit
if truncate -s 4294967304 "$T/big.wasm" 2>/dev/null; then
    out=$( (ulimit -v 65536; "$WS" "$T/big.wasm" -o "$T/out.wasm") 2>&1 ); rc=$?
    if [ $rc -eq 1 ] && grep -q "big.wasm:0x0: error: module too large: 4294967304 bytes" <<<"$out"; then ok; else fail "4 GiB module: rc=$rc $out"; fi
    if [ -e "$T/out.wasm" ]; then fail "4 GiB module: left an output"; rm -f "$T/out.wasm"; else ok; fi
    rm -f "$T/big.wasm"
else
    echo "SKIP: 4 GiB module (no sparse files here)" >&2
fi

# a failing run leaves an existing output untouched
cp "$T/empty.wasm" "$T/keep.wasm"
"$WS" "$T/trunc.wasm" -o "$T/keep.wasm" 2>/dev/null
check "existing output kept on failure" cmp "$T/empty.wasm" "$T/keep.wasm"
check "no temp files left" test -z "$(ls "$T" | grep '\.tmp\.')"

# invalid bodies: the same first error (the lowest function's) and exit 1 whether the
# bodies are checked before the passes (-p dce) or, when remove-unused comes first, by
# its scan; an unreachable invalid body is reported all the same
cat >"$T/bad.wat" <<'WAT'
(module
  (func (export "a") (result i32) i32.const 1)
  (func $b (result i32) i64.const 1)
  (func $c (export "c") (result i32) f32.const 1))
WAT
if wat2wasm --no-check "$T/bad.wat" -o "$T/bad.wasm" 2>/dev/null; then
    want=$("$WS" "$T/bad.wasm" -p dce -o "$T/out.wasm" 2>&1)
    if grep -Eq "bad.wasm:0x2c: error: type mismatch" <<<"$want"; then ok; else fail "invalid body: $want"; fi
    for flags in "-O1" "--remove-unused" "-O2" "-Oz" "-p remove-unused,dce" "--strip-debug -O1" "-O1 -j1"; do
        # shellcheck disable=SC2086
        got=$("$WS" "$T/bad.wasm" $flags -o "$T/out.wasm" 2>&1); rc=$?
        if [ $rc -eq 1 ] && [ "$got" = "$want" ]; then ok; else fail "invalid body with $flags: rc=$rc $got"; fi
        if [ -e "$T/out.wasm" ]; then fail "invalid body with $flags: left an output"; rm -f "$T/out.wasm"; else ok; fi
    done
    # without -o the run only validates, bodies included (with or without passes)
    for flags in "" "--strip-debug" "--stats"; do
        # shellcheck disable=SC2086
        got=$("$WS" "$T/bad.wasm" $flags 2>&1 >/dev/null); rc=$?
        if [ $rc -eq 1 ] && [ "$got" = "$want" ]; then ok; else fail "validation only ($flags): rc=$rc $got"; fi
    done
else
    fail "wat2wasm --no-check bad.wat"
fi

# missing input, unknown option
"$WS" "$T/nope.wasm" -o "$T/x.wasm" 2>/dev/null; rc=$?
if [ $rc -eq 1 ]; then ok; else fail "missing input: rc=$rc"; fi
"$WS" --no-such-flag "$T/empty.wasm" 2>/dev/null; rc=$?
if [ $rc -eq 2 ]; then ok; else fail "unknown option: rc=$rc"; fi

# a real module: in place, stdin/stdout, determinism
src=${FIXTURE_WASM:-}
if [ -z "$src" ]; then
    src=$(ls build/fixtures/*.O2g.wasm 2>/dev/null | head -n 1 || true)
fi
if [ -n "$src" ]; then
    cp "$src" "$T/in.wasm"
    "$WS" "$T/in.wasm" -O0 -o "$T/a.wasm" 2>/dev/null
    "$WS" "$T/in.wasm" -O0 -o "$T/b.wasm" 2>/dev/null
    check "deterministic output" cmp "$T/a.wasm" "$T/b.wasm"
    "$WS" - -O0 -o - <"$T/in.wasm" >"$T/c.wasm" 2>/dev/null
    check "stdin/stdout" cmp "$T/a.wasm" "$T/c.wasm"
    check "in place" "$WS" "$T/in.wasm" -O0 -o "$T/in.wasm"
    check "in place result" cmp "$T/a.wasm" "$T/in.wasm"
    # over an existing output (swapped in, the old file unlinked): the new bytes, no
    # temp file, another link to the old file keeps the old bytes; a symlink is
    # replaced, not followed; a directory is refused and kept
    cp "$T/empty.wasm" "$T/over.wasm"
    ln "$T/over.wasm" "$T/over.link"
    check "over an existing output" "$WS" "$T/in.wasm" -O0 -o "$T/over.wasm"
    check "over an existing output: new bytes" cmp "$T/a.wasm" "$T/over.wasm"
    check "over an existing output: old link kept" cmp "$T/empty.wasm" "$T/over.link"
    check "over an existing output: no temp file" test -z "$(ls "$T" | grep '\.tmp\.')"
    ln -s "$T/over.link" "$T/sym.wasm"
    check "over a symlink" "$WS" "$T/in.wasm" -O0 -o "$T/sym.wasm"
    check "over a symlink: replaced" test -f "$T/sym.wasm" -a ! -L "$T/sym.wasm"
    check "over a symlink: target kept" cmp "$T/empty.wasm" "$T/over.link"
    mkdir "$T/dir.wasm"
    "$WS" "$T/in.wasm" -O0 -o "$T/dir.wasm" 2>/dev/null; rc=$?
    if [ $rc -eq 1 ] && [ -d "$T/dir.wasm" ]; then ok; else fail "output over a directory: rc=$rc"; fi
    check "over a directory: no temp file" test -z "$(ls "$T" | grep '\.tmp\.')"
    # wasm-opt's spellings: --output FILE, --output=FILE, -g/--debuginfo (names and
    # debug sections are kept anyway: same bytes)
    "$WS" "$T/in.wasm" -O1 -q -o "$T/o1.wasm" 2>/dev/null
    "$WS" "$T/in.wasm" -O1 -q --output "$T/o2.wasm" 2>/dev/null
    "$WS" "$T/in.wasm" -O1 -q --output="$T/o3.wasm" -g 2>/dev/null
    "$WS" "$T/in.wasm" -O1 -q --debuginfo -o "$T/o4.wasm" 2>/dev/null
    check "--output FILE" cmp "$T/o1.wasm" "$T/o2.wasm"
    check "--output=FILE -g" cmp "$T/o1.wasm" "$T/o3.wasm"
    check "--debuginfo" cmp "$T/o1.wasm" "$T/o4.wasm"
    # -O is -Os, as in wasm-opt (not -O2: they differ on an -O0 build of the fixture)
    o0=${src%.O2g.wasm}.O0.wasm
    if [ -e "$o0" ]; then
        "$WS" "$o0" -O -q -o "$T/oo.wasm" 2>/dev/null
        "$WS" "$o0" -Os -q -o "$T/os.wasm" 2>/dev/null
        check "-O is -Os" cmp "$T/oo.wasm" "$T/os.wasm"
    fi
    # wasm-opt's pass names: each gives its equivalent's bytes, which differ from a run
    # without passes (so an alias taken as a no-op fails)
    if [ -e "$o0" ]; then
        for pair in "$src|--strip|--strip-debug" "$o0|--vacuum|-p dce" "$o0|--dae|-p dead-params" \
                    "$o0|--dae-optimizing|-p dead-params,dce"; do
            IFS='|' read -r file alias same <<<"$pair"
            # shellcheck disable=SC2086
            "$WS" "$file" $alias -q -o "$T/pa.wasm" 2>/dev/null
            # shellcheck disable=SC2086
            "$WS" "$file" $same -q -o "$T/pb.wasm" 2>/dev/null
            "$WS" "$file" -q -o "$T/pc.wasm" 2>/dev/null
            if cmp -s "$T/pa.wasm" "$T/pb.wasm" && ! cmp -s "$T/pa.wasm" "$T/pc.wasm"; then ok
            else fail "$alias: not the bytes of $same"; fi
        done
        "$WS" "$o0" --detect-features -O1 -q -o "$T/pa.wasm" 2>/dev/null
        "$WS" "$o0" -O1 -q -o "$T/pb.wasm" 2>/dev/null
        check "--detect-features" cmp "$T/pa.wasm" "$T/pb.wasm"
        # wasm-opt's levels: -O flags set both, a later flag overrides, --inline follows
        # them (each pair differs from the run without the level flag, so a level flag
        # taken as a no-op fails)
        for pair in "-O2 -s 1|-Os|-O2" "-O2 --shrink-level=2|-Oz|-O2" "-Oz -s 0|-O2|-Oz" \
                    "-ol 3 --inline|--optimize-level=3 --inline|--inline" \
                    "--optimize-level 3 --inline|-ol=3 --inline|--inline" \
                    "-s 2 --inline|--shrink-level 2 --inline|--inline"; do
            IFS='|' read -r given same other <<<"$pair"
            # shellcheck disable=SC2086
            "$WS" "$o0" $given -q -o "$T/pa.wasm" 2>/dev/null
            # shellcheck disable=SC2086
            "$WS" "$o0" $same -q -o "$T/pb.wasm" 2>/dev/null
            # shellcheck disable=SC2086
            "$WS" "$o0" $other -q -o "$T/pc.wasm" 2>/dev/null
            if cmp -s "$T/pa.wasm" "$T/pb.wasm" && ! cmp -s "$T/pa.wasm" "$T/pc.wasm"; then ok
            else fail "$given: not the bytes of $same, or those of $other"; fi
        done
        for bad in "-s 3" "--optimize-level=5" "--optimize-level=x" "--shrink-level=-1"; do
            # shellcheck disable=SC2086
            "$WS" "$o0" $bad -o "$T/pa.wasm" 2>"$T/lv.err"; rc=$?
            if [ $rc -eq 2 ] && grep -q "bad level" "$T/lv.err"; then ok; else fail "$bad: rc=$rc"; fi
        done
        "$WS" "$o0" -o "$T/pa.wasm" -ol 2>"$T/lv.err"; rc=$?
        if [ $rc -eq 2 ] && grep -q "needs a level" "$T/lv.err"; then ok; else fail "-ol without a level: rc=$rc"; fi
        # wasm-opt's assumptions: accepted, the same bytes, and a note naming them
        "$WS" "$o0" -O1 --fast-math -lmu --zero-filled-memory -cw -o "$T/pa.wasm" 2>"$T/lv.err"
        "$WS" "$o0" -O1 -q -o "$T/pb.wasm" 2>/dev/null
        check "assumption flags: the same bytes" cmp "$T/pa.wasm" "$T/pb.wasm"
        check "assumption flags: one note naming them" grep -qx "wasmslim: note: --low-memory-unused, --zero-filled-memory, --fast-math, --closed-world: no pass here makes use of these assumptions; the output is the same without them" "$T/lv.err"
        "$WS" "$o0" -O1 -uim -ffm -q -o "$T/pa.wasm" 2>"$T/lv.err"
        check "assumption flags: -q, no note" test ! -s "$T/lv.err"
    fi
    # wasm-opt's --no-validation and -n are --no-validate: an invalid global initialiser
    # is written out instead of refused
    printf '\0asm\1\0\0\0\6\6\1\x7f\0\x42\0\13' >"$T/badinit.wasm"
    expect_error "$T/badinit.wasm" "badinit.wasm:0xf: error: type mismatch"
    "$WS" "$T/badinit.wasm" --no-validate -q -o "$T/nv.wasm"
    for alias in --no-validation -n; do
        rm -f "$T/nv2.wasm"
        check "$alias writes as --no-validate does" sh -c "'$WS' '$T/badinit.wasm' $alias -q -o '$T/nv2.wasm' && cmp '$T/nv.wasm' '$T/nv2.wasm'"
    done
    # wasm-opt's trap assumptions: -iit, -tnh and their long names let dce drop a load
    # whose value nobody uses (tests/passes/dce/traps_ignored.wat shows what goes)
    printf '(module (memory 1) (func (export "f") (param i32) (drop (i32.load (local.get 0)))))' >"$T/iit.wat"
    if wat2wasm "$T/iit.wat" -o "$T/iit.wasm"; then
        "$WS" "$T/iit.wasm" --dce -q -o "$T/ia.wasm"
        "$WS" "$T/iit.wasm" --dce --ignore-implicit-traps -q -o "$T/ib.wasm"
        check "--ignore-implicit-traps drops the load" sh -c "! wasm-objdump -d '$T/ib.wasm' | grep -q i32.load"
        check "without it the load stays" sh -c "wasm-objdump -d '$T/ia.wasm' | grep -q i32.load"
        for alias in -iit --traps-never-happen -tnh; do
            "$WS" "$T/iit.wasm" --dce "$alias" -q -o "$T/ic.wasm"
            check "$alias drops it as --ignore-implicit-traps does" cmp "$T/ib.wasm" "$T/ic.wasm"
        done
    else
        fail "wat2wasm iit.wat"
    fi
    # -tnh alone also takes an if arm that starts with unreachable as never taken
    # (tests/passes/dce/traps_never_happen.wat)
    printf '(module (func (export "f") (param i32) (if (local.get 0) (then (unreachable)))))' >"$T/tnh.wat"
    if wat2wasm "$T/tnh.wat" -o "$T/tnh.wasm"; then
        "$WS" "$T/tnh.wasm" --dce -tnh -q -o "$T/ta.wasm"
        "$WS" "$T/tnh.wasm" --dce --traps-never-happen -q -o "$T/tb.wasm"
        "$WS" "$T/tnh.wasm" --dce -iit -q -o "$T/tc.wasm"
        check "-tnh removes the trapping arm" sh -c "! wasm-objdump -d '$T/ta.wasm' | grep -q unreachable"
        check "--traps-never-happen is -tnh" cmp "$T/ta.wasm" "$T/tb.wasm"
        check "-iit keeps it" sh -c "wasm-objdump -d '$T/tc.wasm' | grep -q unreachable"
    else
        fail "wat2wasm tnh.wat"
    fi
    # --converge: the passes again while the module shrinks (here: one more round that
    # changes nothing), metering once, after them; no larger than one round, valid
    timing=$("$WS" "$T/in.wasm" -Oz --converge --fuel --time-passes -q -o "$T/cv.wasm" 2>&1)
    phases=$(sed -n 's/^time: \([a-z -]*[a-z]\) *[0-9.]* ms$/\1/p' <<<"$timing" | tr '\n' ,)
    round="remove-unused,dce,dead-params,inline,dce,duplicate-function-elimination,remove-unused,"
    if [[ $phases == "read,validate input,$round$round"*"meter,validate output,write,total," ]] &&
       [ "$(grep -o meter <<<"$phases" | wc -l)" -eq 1 ]; then ok; else fail "--converge phases: $phases"; fi
    "$WS" "$T/in.wasm" -Oz --fuel -q -o "$T/cv1.wasm" 2>/dev/null
    if [ "$(stat -c %s "$T/cv.wasm")" -le "$(stat -c %s "$T/cv1.wasm")" ]; then ok; else fail "--converge grew the module"; fi
    check "--converge output valid" "$WS" "$T/cv.wasm"
    # --time-passes: one line per phase on stderr, same module bytes
    timing=$("$WS" "$T/a.wasm" -O1 --time-passes -q -o "$T/t.wasm" 2>&1)
    "$WS" "$T/a.wasm" -O1 -q -o "$T/t2.wasm" 2>/dev/null
    check "--time-passes keeps the bytes" cmp "$T/t.wasm" "$T/t2.wasm"
    phases=$(sed -n 's/^time: \([a-z -]*[a-z]\) *[0-9.]* ms$/\1/p' <<<"$timing" | tr '\n' ,)
    want="read,validate input,remove-unused,dce,dead-params,dce,remove-unused,validate output,write,total,"
    if [ "$phases" = "$want" ]; then ok; else fail "--time-passes phases: $phases"; fi
    # a write that fails half-way (file size limit: the output is streamed in chunks)
    # is an error naming the file, leaves no partial output and keeps an existing one
    cp "$T/a.wasm" "$T/old.wasm"
    out=$( (ulimit -f 1; trap '' XFSZ; "$WS" "$T/in.wasm" -O0 -o "$T/old.wasm") 2>&1 ); rc=$?
    if [ $rc -eq 1 ] && grep -q "cannot write '$T/old.wasm'" <<<"$out"; then ok; else fail "write failure: rc=$rc $out"; fi
    check "failed write keeps the old output" cmp "$T/a.wasm" "$T/old.wasm"
    check "failed write leaves no temp file" test -z "$(ls "$T" | grep '\.tmp\.')"
    # truncations of a real module never crash
    size=$(stat -c %s "$src")
    crashes=0
    for cut in 9 20 50 100 333 1000 $((size / 2)) $((size - 1)); do
        [ "$cut" -lt "$size" ] || continue
        head -c "$cut" "$src" >"$T/cut.wasm"
        "$WS" "$T/cut.wasm" -O0 -o "$T/cut.out" >/dev/null 2>&1; rc=$?
        [ $rc -le 1 ] || { crashes=$((crashes + 1)); echo "crash on truncation at $cut: rc=$rc"; }
    done
    if [ $crashes -eq 0 ]; then ok; else fail "truncated modules crashed $crashes times"; fi
else
    echo "note: no fixture module built; real-module checks skipped"
fi
finish errors
