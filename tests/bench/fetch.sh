#!/usr/bin/env bash
# fetch.sh: download the pinned public benchmark corpus (real-world .wasm
# modules shipped in npm packages) into a cache directory outside the repo.
#
# Usage: tests/bench/fetch.sh [CACHE]
#   CACHE defaults to ${XDG_CACHE_HOME:-$HOME/.cache}/wasmslim-bench.
#
# Each module lands as CACHE/NAME.wasm and is fetched only once: a module
# already present is skipped. Every pinned version is checked with
# `npm view` before anything is downloaded; a missing version is an error
# (the pins are never changed silently). CACHE/MANIFEST lists
# NAME, package@version, path in the package, size and sha256. What runs
# the modules (sql.js's glue, esbuild-wasm's package: tests/corpus/run.sh)
# lands in CACHE/js, also once.
set -euo pipefail

# NAME|PACKAGE@VERSION|PATH IN THE PACKAGE TARBALL
CORPUS=(
  "esbuild|esbuild-wasm@0.28.2|package/esbuild.wasm"
  "ruby|@ruby/3.3-wasm-wasi@2.10.1|package/dist/ruby.wasm"
  "ruby.debug+stdlib|@ruby/3.3-wasm-wasi@2.10.1|package/dist/ruby.debug+stdlib.wasm"
  "sql-wasm|sql.js@1.16.0|package/dist/sql-wasm.wasm"
)

# What runs the modules (tests/corpus/run.sh): NAME|PACKAGE@VERSION|FILE OR DIRECTORY
# IN THE TARBALL, extracted to CACHE/js/NAME
GLUE=(
  "sql-wasm.js|sql.js@1.16.0|package/dist/sql-wasm.js"
  "esbuild-wasm|esbuild-wasm@0.28.2|package"
)

CACHE=${1:-${XDG_CACHE_HOME:-$HOME/.cache}/wasmslim-bench}
TMP=

die() { echo "fetch.sh: $*" >&2; exit 1; }

# check_version PKG@VER: fail loudly if the registry does not have it.
check_version() {
  local spec=$1 got
  got=$(npm view "$spec" version 2>/dev/null | tail -n 1) || true
  [[ -n $got ]] || die "pinned version $spec not found in the npm registry"
}

# pack PKG@VER DIR: download the package tarball into DIR, print its path.
pack() {
  local spec=$1 dir=$2 name
  name=$(cd "$dir" && npm pack --silent "$spec" 2>/dev/null | tail -n 1)
  [[ -f $dir/$name ]] || die "npm pack $spec failed"
  echo "$dir/$name"
}

# tarball PKG@VER: TARBALLS[PKG@VER] is its tarball in $TMP (checked and packed once).
declare -A TARBALLS=()
tarball() {
  local spec=$1
  [[ -z ${TARBALLS[$spec]:-} ]] || return 0
  check_version "$spec"
  echo "pack  $spec"
  TARBALLS[$spec]=$(pack "$spec" "$TMP")
}

# extract TARBALL MEMBER DEST: copy one member of the tarball to DEST.
extract() {
  local tgz=$1 member=$2 dest=$3
  tar -xzOf "$tgz" "$member" >"$dest.part" || die "$member not in $tgz"
  mv "$dest.part" "$dest"
}

# extract_glue TARBALL MEMBER DEST: a file or a whole directory of the tarball to DEST.
extract_glue() {
  local tgz=$1 member=$2 dest=$3 dir
  dir=$(mktemp -d "$TMP/glue.XXXXXX")
  tar -xzf "$tgz" -C "$dir" "$member" || die "$member not in $tgz"
  mv "$dir/$member" "$dest"
}

write_manifest() {
  local entry name spec member f
  : >"$CACHE/MANIFEST"
  for entry in "${CORPUS[@]}"; do
    IFS='|' read -r name spec member <<<"$entry"
    f=$CACHE/$name.wasm
    printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$spec" "${member#package/}" \
      "$(stat -c %s "$f")" "$(sha256sum "$f" | cut -d' ' -f1)" >>"$CACHE/MANIFEST"
  done
}

main() {
  local entry name spec member
  mkdir -p "$CACHE"
  TMP=$(mktemp -d)
  trap 'rm -rf "$TMP"' EXIT
  for entry in "${CORPUS[@]}"; do
    IFS='|' read -r name spec member <<<"$entry"
    if [[ -s $CACHE/$name.wasm ]]; then
      echo "have  $name.wasm"
      continue
    fi
    tarball "$spec"
    extract "${TARBALLS[$spec]}" "$member" "$CACHE/$name.wasm"
    echo "got   $name.wasm"
  done
  mkdir -p "$CACHE/js"
  for entry in "${GLUE[@]}"; do
    IFS='|' read -r name spec member <<<"$entry"
    if [[ -e $CACHE/js/$name ]]; then
      echo "have  js/$name"
      continue
    fi
    tarball "$spec"
    extract_glue "${TARBALLS[$spec]}" "$member" "$CACHE/js/$name"
    echo "got   js/$name"
  done
  write_manifest
  echo "corpus in $CACHE:"
  awk -F'\t' '{ printf "  %-24s %-28s %10d bytes\n", $1".wasm", $2, $4 }' \
    "$CACHE/MANIFEST"
}

main
