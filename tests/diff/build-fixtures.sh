#!/usr/bin/env bash
# build-fixtures.sh - compile the C fixtures to WASI modules and record their output.
#
# Usage: tests/diff/build-fixtures.sh OUTDIR
#
# Fixtures: every fixtures/c/NAME.c is fixture NAME; every directory
# fixtures/c/NAME/ is a multi-file fixture NAME made of all its *.c files
# (headers in that directory are dependencies).
#
# Each fixture is built in six variants, VARIANT in O0 O0g O2 O2g Oz Ozg
# (optimisation level -O0/-O2/-Oz, trailing "g" = built with -g):
#   OUTDIR/NAME.VARIANT.wasm        the linked WASI command module
#   OUTDIR/NAME.VARIANT.o           the object it was linked from (single-file)
#   OUTDIR/NAME.FILE.VARIANT.o      one object per FILE.c (multi-file fixtures,
#                                   e.g. OUTDIR/multi.a.O0g.o)
#   OUTDIR/NAME.VARIANT.expected    what that module printed: stdout, then a
#                                   last line "exit=N" (see lib.sh: observe)
#   OUTDIR/NAME.expected            the reference output: the same, from the
#                                   NAME.O0 module
# All six modules of a fixture must print exactly the same; if not, the script
# fails loudly (that is a fixture bug, e.g. undefined behaviour). A -O0 module
# that traps (exit 134) or that the runner cannot start (exit 2) fails too.
#
# How modules are built:
#   compile: clang --target=wasm32-wasi -std=c11 -OLEVEL [-g] -c FILE.c
#   link:    clang --target=wasm32-wasi OBJECTS... [-Wl,--strip-debug]
# Compile and link are separate steps on purpose: given -O, clang 14's link
# step runs wasm-opt on the result when wasm-opt is on PATH, which would make
# the modules depend on whether binaryen is installed and drops the name
# section. The link step gets no -O, so wasm-ld's output is used as is.
# Variants without g are linked with --strip-debug: wasi-libc's own DWARF is
# dropped but the "name" section stays. Variants with g keep DWARF and the
# name section (checked with wasm-objdump -h after linking).
#
# Per-fixture flags: a comment line near the top of a source file
#   // wasmslim-cflags: FLAGS     added when compiling that file
#   // wasmslim-ldflags: FLAGS    added when linking the fixture
# (simd.c uses -msimd128, recursion.c a bigger stack, floatfmt.c the libc
# with long double printf.)
#
# Make-like: an output is rebuilt only when it is missing or older than one of
# its inputs (sources, headers of a multi-file fixture, this script, lib.sh and
# wasi-run.mjs for outputs). Builds run in parallel ($JOBS, default nproc).
# Environment: WASM_CC (default clang), JOBS, WASMSLIM_NO_DEPS=1 (skip
# tests/deps.sh), DIFF_RUN_TIMEOUT (see lib.sh).
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

FIXTURES=$REPO_ROOT/fixtures/c
VARIANTS=(O0 O0g O2 O2g Oz Ozg)
SELF=$DIFF_DIR/build-fixtures.sh
CC=${WASM_CC:-clang}

die() {
    echo "build-fixtures: $*" >&2
    exit 1
}

# True when $1 is missing or older than any of the remaining files.
stale() {
    local target=$1 dep
    shift
    [[ -e $target ]] || return 0
    for dep in "$@"; do
        [[ $dep -nt $target ]] && return 0
    done
    return 1
}

# Flags from "// wasmslim-KIND: FLAGS" lines in the first 10 lines of files.
marker_flags() {
    local kind=$1
    shift
    local f
    for f in "$@"; do
        head -n 10 "$f" | sed -n "s|^// wasmslim-$kind:[[:space:]]*||p"
    done | tr '\n' ' '
}

# Sets SRCS (the .c files) and DEPS (all inputs) of fixture $1.
fixture_sources() {
    local name=$1
    if [[ -f $FIXTURES/$name.c ]]; then
        SRCS=("$FIXTURES/$name.c")
        DEPS=("$FIXTURES/$name.c")
    else
        SRCS=("$FIXTURES/$name"/*.c)
        DEPS=("$FIXTURES/$name"/*)
    fi
}

# Object path for source $2 of fixture $1 in variant $3.
object_path() {
    local name=$1 src=$2 variant=$3
    if [[ -f $FIXTURES/$name.c ]]; then
        echo "$OUTDIR/$name.$variant.o"
    else
        local base
        base=$(basename "$src" .c)
        echo "$OUTDIR/$name.$base.$variant.o"
    fi
}

# Runs a command; on failure prints its output and the command line.
run_logged() {
    local log
    log=$(mktemp)
    if ! "$@" >"$log" 2>&1; then
        {
            cat "$log"
            printf 'build-fixtures: command failed:'
            printf ' %q' "$@"
            echo
        } >&2
        rm -f "$log"
        return 1
    fi
    rm -f "$log"
}

# --build NAME VARIANT: compile and link one module.
build_one() {
    local name=$1 variant=$2
    local level=-${variant%g} g=()
    [[ $variant == *g ]] && g=(-g)
    fixture_sources "$name"
    local objs=() src obj cflags
    for src in "${SRCS[@]}"; do
        obj=$(object_path "$name" "$src" "$variant")
        objs+=("$obj")
        if stale "$obj" "${DEPS[@]}" "$SELF"; then
            read -r -a cflags <<<"$(marker_flags cflags "$src")"
            run_logged "$CC" --target=wasm32-wasi -std=c11 -Wall -Wextra "$level" "${g[@]}" \
                "${cflags[@]}" -c "$src" -o "$obj.tmp" || return 1
            mv "$obj.tmp" "$obj"
        fi
    done
    local wasm=$OUTDIR/$name.$variant.wasm ldflags strip=()
    if stale "$wasm" "${objs[@]}" "$SELF"; then
        read -r -a ldflags <<<"$(marker_flags ldflags "${SRCS[@]}")"
        [[ $variant == *g ]] || strip=("-Wl,--strip-debug")
        run_logged "$CC" --target=wasm32-wasi "${objs[@]}" "${strip[@]}" "${ldflags[@]}" \
            -o "$wasm.tmp" || return 1
        local sections
        sections=$(wasm-objdump -h "$wasm.tmp") || return 1
        if [[ $variant == *g && $sections != *'"name"'* ]]; then
            echo "build-fixtures: $wasm: no name section in a -g build" >&2
            return 1
        fi
        mv "$wasm.tmp" "$wasm"
    fi
}

# --check NAME: run all variants, write the .expected files, compare.
check_one() {
    local name=$1 v
    local ref=$OUTDIR/$name.expected mods=()
    for v in "${VARIANTS[@]}"; do mods+=("$OUTDIR/$name.$v.wasm"); done
    local need=0
    stale "$ref" "${mods[@]}" "$SELF" "$WASI_RUN" "$DIFF_DIR/lib.sh" && need=1
    for v in "${VARIANTS[@]}"; do
        [[ $OUTDIR/$name.$v.expected -nt $OUTDIR/$name.$v.wasm ]] || need=1
    done
    ((need)) || return 0
    rm -f "$ref"
    local tmp
    tmp=$(mktemp -d)
    observe "$OUTDIR/$name.O0.wasm" "$tmp/O0.out" "$tmp/O0.err"
    local code
    code=$(tail -n 1 "$tmp/O0.out")
    if [[ $code == exit=134 || $code == exit=2 ]]; then
        {
            echo "build-fixtures: FIXTURE BUG: $name.O0.wasm failed to run ($code):"
            cat "$tmp/O0.err"
        } >&2
        rm -rf "$tmp"
        return 1
    fi
    local bad=0
    for v in "${VARIANTS[@]}"; do
        [[ $v == O0 ]] || observe "$OUTDIR/$name.$v.wasm" "$tmp/$v.out" "$tmp/$v.err"
        if ! cmp -s "$tmp/O0.out" "$tmp/$v.out"; then
            {
                echo "build-fixtures: FIXTURE BUG: $name.$v.wasm prints differently from $name.O0.wasm" \
                    "(undefined behaviour?):"
                diff "$tmp/O0.out" "$tmp/$v.out" | head -n 20 || true
                head -n 5 "$tmp/$v.err"
            } >&2
            bad=1
            rm -f "$OUTDIR/$name.$v.expected"
        else
            cp "$tmp/$v.out" "$OUTDIR/$name.$v.expected"
        fi
    done
    if ((bad == 0)); then
        cp "$tmp/O0.out" "$ref"
    fi
    rm -rf "$tmp"
    return "$bad"
}

case ${1:-} in
--build)
    OUTDIR=$2
    build_one "$3" "$4"
    exit
    ;;
--check)
    OUTDIR=$2
    check_one "$3"
    exit
    ;;
"" | -h | --help)
    sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
    exit 2
    ;;
esac

(($# == 1)) || die "usage: build-fixtures.sh OUTDIR"
ensure_deps
mkdir -p "$1"
OUTDIR=$(cd "$1" && pwd)
JOBS=${JOBS:-$(nproc)}

names=()
for f in "$FIXTURES"/*.c "$FIXTURES"/*/; do
    [[ -e $f ]] || continue
    if [[ -d $f ]]; then
        compgen -G "$f*.c" >/dev/null || continue
        names+=("$(basename "$f")")
    else
        names+=("$(basename "$f" .c)")
    fi
done
((${#names[@]})) || die "no fixtures in $FIXTURES"

# Phase 1: compile and link all modules. Phase 2: run and compare.
status=0
for name in "${names[@]}"; do
    for v in "${VARIANTS[@]}"; do printf '%s\0%s\0' "$name" "$v"; done
done | xargs -0 -n 2 -P "$JOBS" "$SELF" --build "$OUTDIR" || status=1
((status == 0)) || die "build failed (see above)"

printf '%s\0' "${names[@]}" | xargs -0 -n 1 -P "$JOBS" "$SELF" --check "$OUTDIR" || status=1
((status == 0)) || die "fixture outputs differ between variants (see above)"

echo "build-fixtures: ${#names[@]} fixtures x ${#VARIANTS[@]} variants up to date in $OUTDIR"
