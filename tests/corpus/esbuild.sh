#!/usr/bin/env bash
# esbuild.sh PACKAGE WASM: esbuild-wasm's command line (the npm package's files in
# PACKAGE) with WASM as its esbuild.wasm: minifies a 2,000-line JavaScript file (the
# package's own lib/main.js) and compiles a TypeScript one (enum, class with parameter
# properties and a getter, async arrow, ??) to ES2015; prints the outputs' digests and
# the TypeScript one.  Run by tests/corpus/run.sh.
set -euo pipefail
PKG=$1 WASM=$2
D=$(mktemp -d)
trap 'rm -rf "$D"' EXIT
cp -r "$PKG" "$D/p"
cp "$WASM" "$D/p/esbuild.wasm"
cp "$PKG/lib/main.js" "$D/m.js"
printf '%s\n' 'enum E { A = 1, B = A << 3 }' \
  'export class C<T> { constructor(private x: T, readonly y = E.B) {} get z(): T { return this.x } }' \
  'const f = async (a?: number) => a ?? (await Promise.resolve(7));' 'export default f;' >"$D/a.ts"
node "$D/p/bin/esbuild" "$D/m.js" "$D/a.ts" --minify --target=es2015 --outdir="$D/out" --log-level=warning
(cd "$D/out" && sha256sum m.js a.js)
cat "$D/out/a.js"
