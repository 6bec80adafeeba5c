#!/usr/bin/env bash
# check-fixtures-native.sh - build and run the C fixtures natively under ASan+UBSan.
#
# Usage: tests/diff/check-fixtures-native.sh [OUTDIR]
#
# Compiles every fixture (see build-fixtures.sh for how fixtures are found)
# with the host gcc (or $NATIVE_CC):
#   -std=c11 -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all
# and runs it once. Any sanitizer report (undefined behaviour, out-of-bounds
# access, use after free, leak) fails the fixture. The wasm-only marker flags
# (// wasmslim-cflags / -ldflags) are ignored; tests/diff/native/ is on the
# include path so <wasm_simd128.h> resolves to a scalar emulation.
#
# With OUTDIR (a build-fixtures.sh output directory), the native stdout and
# exit code must also equal OUTDIR/NAME.expected, the wasm -O0 result: the
# fixtures avoid anything whose output may differ between wasm32 and x86-64
# (pointer sizes, long, libm last-ulp differences, NaN signs, unspecified
# evaluation order), so a mismatch points at a fixture bug too.
# Prints one line per fixture and exits non-zero if any failed.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

FIXTURES=$REPO_ROOT/fixtures/c
CC=${NATIVE_CC:-gcc}
OUTDIR=${1:-}
if [[ -n $OUTDIR && ! -d $OUTDIR ]]; then
    echo "check-fixtures-native: no such directory: $OUTDIR" >&2
    exit 2
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Sanitizer failures exit with 86 so they are not confused with a fixture's
# own deliberate exit code.
export ASAN_OPTIONS=detect_leaks=1:exitcode=86:abort_on_error=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=86
export LSAN_OPTIONS=exitcode=86

passed=0 failed=0
for f in "$FIXTURES"/*.c "$FIXTURES"/*/; do
    [[ -e $f ]] || continue
    if [[ -d $f ]]; then
        compgen -G "$f*.c" >/dev/null || continue
        name=$(basename "$f")
        srcs=("$f"*.c)
    else
        name=$(basename "$f" .c)
        srcs=("$f")
    fi
    exe=$work/$name
    if ! "$CC" -std=c11 -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all \
        -fno-omit-frame-pointer -I "$DIFF_DIR/native" "${srcs[@]}" -lm -o "$exe" 2>"$work/$name.cc"; then
        echo "FAIL $name: native compile failed:"
        cat "$work/$name.cc"
        failed=$((failed + 1))
        continue
    fi
    rc=0
    "$exe" </dev/null >"$work/$name.out" 2>"$work/$name.err" || rc=$?
    if [[ $rc == 86 ]] || grep -qE 'Sanitizer|runtime error:' "$work/$name.err"; then
        echo "FAIL $name: sanitizer report (exit $rc):"
        head -n 30 "$work/$name.err"
        failed=$((failed + 1))
        continue
    fi
    if [[ -n $OUTDIR ]]; then
        if [[ ! -f $OUTDIR/$name.expected ]]; then
            echo "FAIL $name: $OUTDIR/$name.expected is missing (run build-fixtures.sh first)"
            failed=$((failed + 1))
            continue
        fi
        printf 'exit=%d\n' "$rc" >>"$work/$name.out"
        if ! cmp -s "$work/$name.out" "$OUTDIR/$name.expected"; then
            echo "FAIL $name: native output differs from $OUTDIR/$name.expected:"
            diff "$OUTDIR/$name.expected" "$work/$name.out" | head -n 20 || true
            failed=$((failed + 1))
            continue
        fi
    fi
    echo "ok   $name (exit $rc)"
    passed=$((passed + 1))
done
echo "native: $passed passed, $failed failed"
((failed == 0))
