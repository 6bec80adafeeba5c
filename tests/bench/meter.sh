#!/usr/bin/env bash
# meter.sh: what metering costs (issue 9), part of `make bench`.
#
# Usage: tests/bench/meter.sh
#
# Programs: the C fixtures (fixtures/c, built by tests/diff/build-fixtures.sh at -O2)
# and the two kernels in tests/bench/kernels (fib.c: recursion, a call per node;
# loop.c: a tight loop), compiled the same way (compile and link apart, so that clang
# never runs wasm-opt; linked with --strip-debug, as the fixtures are). Each is instrumented three ways:
#   lazy        --fuel                                (the default mode)
#   exact       --fuel --fuel-mode=exact
#   lazy+stack  --fuel --stack-limit=100000
# and, when npm's wasm-metering@0.2.1 installs (into $BENCH_CACHE/npm) and accepts the
# program, with it too (variant wasm-metering: a call to the host's metering.usegas per
# block, which bench.mjs provides as an empty function);
# then tests/meter/bench.mjs runs all of them under node in one process (RUNS samples
# per variant, rotating order, CPU time) and prints each one's time ratio against the
# plain module and their geometric means. Sizes (module bytes, instrumented / plain)
# are printed per program with their geometric means. The per-run data goes to
# $BUILD/meter-bench.json.
#
# Environment: RUNS=7, BUILD=build, WASMSLIM=$BUILD/wasmslim, ONLY=REGEX (programs),
#   BENCH_CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/wasmslim-bench.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
RUNS=${RUNS:-7}
BUILD=$(realpath -m "${BUILD:-$ROOT/build}")
WASMSLIM=$(realpath -m "${WASMSLIM:-$BUILD/wasmslim}")
ONLY=${ONLY:-}
CACHE=${BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/wasmslim-bench}
NPM=$CACHE/npm
FIX=$BUILD/fixtures
OUT=$BUILD/meter-bench
mkdir -p "$OUT"

log() { echo "meter-bench: $*" >&2; }

[[ -x $WASMSLIM ]] || { echo "meter.sh: $WASMSLIM not built" >&2; exit 2; }
if ! ls "$FIX"/*.O2.wasm >/dev/null 2>&1; then
  log "building the C fixtures into $FIX"
  bash "$ROOT/tests/diff/build-fixtures.sh" "$FIX" >&2
fi

# kernel NAME: compile and link tests/bench/kernels/NAME.c at -O2 into $OUT/NAME.plain.wasm
kernel() {
  local src=$ROOT/tests/bench/kernels/$1.c
  [[ $OUT/$1.plain.wasm -nt $src ]] && return
  clang --target=wasm32-wasi -std=c11 -O2 -c "$src" -o "$OUT/$1.o"
  clang --target=wasm32-wasi "$OUT/$1.o" -Wl,--strip-debug -o "$OUT/$1.plain.wasm"
}

# The reference meter, installed once; absent (no registry) means no reference column.
if [[ ! -d $NPM/node_modules/wasm-metering ]]; then
  mkdir -p "$NPM"
  npm install --silent --prefix "$NPM" wasm-metering@0.2.1 >/dev/null 2>&1 || log "npm wasm-metering not installed: no reference"
fi
REF=
[[ -d $NPM/node_modules/wasm-metering ]] && REF=$NPM/node_modules

programs=()
for k in fib loop; do kernel "$k"; programs+=("$k=$OUT/$k.plain.wasm"); done
for m in "$FIX"/*.O2.wasm; do
  name=$(basename "$m" .O2.wasm)
  cp "$m" "$OUT/$name.plain.wasm"
  programs+=("$name=$OUT/$name.plain.wasm")
done

VARIANTS=("lazy|--fuel" "exact|--fuel --fuel-mode=exact" "lazy+stack|--fuel --stack-limit=100000")
args=()
sizes=$OUT/sizes.txt
: >"$sizes"
for p in "${programs[@]}"; do
  name=${p%%=*} plain=${p#*=}
  [[ -z $ONLY || $name =~ $ONLY ]] || continue
  arg="$name=$plain"
  line="$name $(stat -c %s "$plain")"
  for v in "${VARIANTS[@]}"; do
    label=${v%%|*} flags=${v#*|}
    out=$OUT/$name.$label.wasm
    # shellcheck disable=SC2086
    "$WASMSLIM" "$plain" $flags -q -o "$out"
    arg+=",$label=$out"
    line+=" $(stat -c %s "$out")"
  done
  if [[ -n $REF ]] && node "$ROOT/tests/bench/wasm-metering.cjs" "$REF" "$plain" "$OUT/$name.ref.wasm" 2>/dev/null; then
    arg+=",wasm-metering=$OUT/$name.ref.wasm"
    line+=" $(stat -c %s "$OUT/$name.ref.wasm")"
  else
    line+=" -"
  fi
  args+=("$arg")
  echo "$line" >>"$sizes"
done

echo
echo "## Metering: module size (instrumented / plain)"
echo
echo "| program | plain | lazy | exact | lazy+stack | wasm-metering |"
echo "| --- | ---: | ---: | ---: | ---: | ---: |"
awk '{ r = $6 == "-" ? "-" : sprintf("%.3f", $6 / $2)
       printf "| %s | %d B | %.3f | %.3f | %.3f | %s |\n", $1, $2, $3 / $2, $4 / $2, $5 / $2, r
       l += log($3 / $2); e += log($4 / $2); s += log($5 / $2); n++
       if ($6 != "-") { w += log($6 / $2); nw++ } }
     END { printf "| geo-mean (%d) | | %.3f | %.3f | %.3f | %s |\n", n, exp(l / n), exp(e / n), exp(s / n),
                  nw ? sprintf("%.3f (%d)", exp(w / nw), nw) : "-" }' "$sizes"

echo
echo "## Metering: run time under node (instrumented / plain, median of $RUNS samples)"
echo
node --no-warnings "$ROOT/tests/meter/bench.mjs" --runs "$RUNS" --json "$BUILD/meter-bench.json" "${args[@]}"
