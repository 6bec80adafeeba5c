#!/usr/bin/env bash
# deps.sh - install every test dependency that is missing (Debian 12, as root).
#
# Usage: tests/deps.sh [PACKAGE:COMMAND ...]
#
# Extra PACKAGE:COMMAND arguments are checked (and installed) too: make corpus
# asks for emscripten:emcc this way, which make check does not need.
# Checks each package below and installs only the missing ones with a single
# `apt-get update` (run only when something is missing) and a single
# `apt-get install -y`. Tool packages count as present when their command is
# on PATH (so a node from another source, e.g. nodesource, is accepted), the
# others when `dpkg-query` says they are installed. Prints nothing when all
# is present (that check takes a few milliseconds); prints what it installs
# otherwise, and the apt log on failure. Uses sudo when not run as root.
set -euo pipefail

# package:command   (empty command = check with dpkg only)
deps=(
    libcriterion-dev:
    pkg-config:pkg-config
    wabt:wasm-validate
    binaryen:wasm-opt
    clang:clang
    lld:wasm-ld
    llvm:llvm-mc
    wasi-libc:
    libclang-rt-14-dev-wasm32:
    libclang-rt-14-dev:
    nodejs:node
    npm:npm
    "$@"
)

# One dpkg-query call for all packages: "name status" lines for installed ones.
installed=$(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' "${deps[@]%%:*}" 2>/dev/null |
    awk '$2 ~ /^ii/ {print $1}' || true)

missing=()
for dep in "${deps[@]}"; do
    pkg=${dep%%:*}
    cmd=${dep#*:}
    if [[ -n $cmd ]] && command -v "$cmd" >/dev/null 2>&1; then
        continue
    fi
    if grep -qx -- "$pkg" <<<"$installed"; then
        continue
    fi
    missing+=("$pkg")
done

((${#missing[@]} == 0)) && exit 0

echo "deps.sh: installing ${missing[*]}" >&2
sudo=()
if [[ $(id -u) != 0 ]]; then
    command -v sudo >/dev/null 2>&1 || {
        echo "deps.sh: need root (or sudo) to install: ${missing[*]}" >&2
        exit 1
    }
    sudo=(sudo)
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
export DEBIAN_FRONTEND=noninteractive
if ! { "${sudo[@]}" apt-get update -q &&
    "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
    cat "$log" >&2
    echo "deps.sh: apt-get failed for: ${missing[*]}" >&2
    exit 1
fi
