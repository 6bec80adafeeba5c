#!/usr/bin/env bash
# rust.sh: Rust programs still work after wasmslim rewrote them.
#
# Usage: bash tests/corpus/rust.sh [WASMSLIM]       (make corpus runs it)
#
# Builds fixtures/rust for wasm32-wasi with Debian's rustc (1.63, and its
# libstd-rust-dev-wasm32; tests/deps.sh installs both when missing: rustup's rustc,
# if any, has no wasm standard library here) into $BUILD/rust:
#   collections     collections.rs -C opt-level=3 (collections, iterators, closures,
#                   trait objects, formatting: many small monomorphised functions)
#   collections-g   collections.rs -C opt-level=0 -g (DWARF, padded LEBs)
#   collections-s   collections.rs -C opt-level=s
#   numeric         numeric.rs -C opt-level=3 (i128/u64 arithmetic, floats)
#   panics          panics.rs -C opt-level=2 -C overflow-checks=on (RefCell, bounds
#                   checks; ends with a panic: message on stderr, then a trap)
# and runs each under node's WASI (tests/diff/wasi-run.mjs) on the module rustc wrote
# and on the output of every variant of built.sh, comparing what it prints, its exit
# status and the panic message.  Metered, each that ends normally spends the same fuel
# in lazy and exact mode, with and without a stack limit, as under the naive meter;
# panics, which ends in a trap, at least as much (a charge may pay for code that would
# have run with the instruction that trapped: passes/meter.c).  Then the debug build
# takes every module through its pipelines with no report (built.sh).
# Last line: "rust: N passed, N failed"; exit status 1 when one failed.
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=built.sh
. "$HERE/built.sh"
OUT=$(realpath -m "${BUILD:-$ROOT/build}")/rust
SRC=$ROOT/fixtures/rust
RUSTC=/usr/bin/rustc
RUN=$ROOT/tests/diff/wasi-run.mjs

need rustc: libstd-rust-dev-wasm32:
mkdir -p "$OUT"
build_naive

# name|source|rustc flags
PROGRAMS=(
    "collections|collections.rs|-C opt-level=3"
    "collections-g|collections.rs|-C opt-level=0 -g"
    "collections-s|collections.rs|-C opt-level=s"
    "numeric|numeric.rs|-C opt-level=3"
    "panics|panics.rs|-C opt-level=2 -C overflow-checks=on"
)

# build NAME SOURCE FLAGS: $OUT/NAME.wasm (again when the source is newer)
build() {
    local name=$1 src=$SRC/$2
    [[ -f $OUT/$name.wasm && $OUT/$name.wasm -nt $src ]] && return 0
    # shellcheck disable=SC2086 # flags are several words
    "$RUSTC" --edition 2021 --target wasm32-wasi $3 "$src" -o "$OUT/$name.wasm" >"$T/rustc.log" 2>&1
}

# run MODULE [--fuel=N]: what the program prints on stdout, then "exit=N" and its
# panic message (the stderr line that says "panicked"); the rest of stderr in $T/err.
# Fails when the runner could not run MODULE at all (exit 2).
run() {
    local rc
    node --no-warnings "$RUN" "${@:2}" "$1" 2>"$T/err"
    rc=$?
    echo "exit=$rc"
    grep -m1 panicked "$T/err"
    [[ $rc != 2 ]]
}

# spent NAME FLAGS...: the fuel NAME's run spends metered by wasmslim with FLAGS, or
# by the naive meter with FLAGS "naive" ("" if it failed)
spent() {
    local left
    if [[ $2 == naive ]]; then
        naive_meter "$OUT/$1.wasm" "$T/m.wasm" 2>"$T/ws.err" || return
    else
        "$WS" "$OUT/$1.wasm" "${@:2}" --fuel-init=$BIG -q -o "$T/m.wasm" 2>"$T/ws.err" || return
    fi
    run "$T/m.wasm" --fuel=$BIG >/dev/null
    left=$(sed -n 's/^wasi-run: fuel-left=//p' "$T/err")
    [[ -n $left ]] && echo $((BIG - left))
}

# check_fuel_after_trap NAME: a run that traps spends no less than the naive count in
# any mode.
check_fuel_after_trap() {
    local name=$1 naive v n all=""
    naive=$(spent "$name" naive)
    for v in "--fuel" "--fuel --fuel-mode=exact" "--fuel --stack-limit=100000000 --stack-cost=frame"; do
        # shellcheck disable=SC2086 # several flags
        n=$(spent "$name" $v)
        all="$all $n"
        [[ -n $n && -n $naive && $n -ge $naive ]] || { fail "$name $v: spent $n before its trap, naive $naive"; return; }
    done
    ok
    echo "rust: $name spends$all units before its trap (naive $naive)"
}

for p in "${PROGRAMS[@]}"; do
    IFS='|' read -r name src flags <<<"$p"
    if ! build "$name" "$src" "$flags"; then
        fail "$name: rustc failed: $(tail -c 400 "$T/rustc.log")"
        continue
    fi
    check_variants_of "$name" "$OUT/$name.wasm" run "${VARIANTS[@]}"
    if [[ $name == panics ]]; then check_fuel_after_trap "$name"; else check_fuel "$name"; fi
    check_debug_build "$OUT/$name.wasm"
done
summary
