#!/usr/bin/env node
// v8-exec.mjs: run a module made by `wasm-opt -ttf` under V8 the way binaryen's
// --fuzz-exec-before runs it, and print what it did: for every exported function, in
// export order, a call with zero arguments, its results (or the trap), and every value
// the module logs through its fuzzing-support imports.  NaNs print as "nan" (their
// payloads may differ).  run-gen.sh compares this log of a module and of wasmslim's
// output when binaryen 108 cannot read the output back (its reader rejects some valid
// branch patterns: "all break targets must be valid"), so the case is still checked.
//
// Usage: node tests/gen/v8-exec.mjs MODULE.wasm
// Node 18+, no npm dependencies.

import '../lib/node-wasm.mjs';
import fs from 'node:fs';

// ---- just enough of the binary format: function types, imports, functions, exports ----

function reader(bytes) {
  let p = 8;
  const u32 = () => {
    let r = 0, shift = 0, b;
    do { b = bytes[p++]; r |= (b & 0x7f) << shift; shift += 7; } while (b & 0x80);
    return r >>> 0;
  };
  const skipLimits = () => { const f = u32(); u32(); if (f & 1) u32(); };
  return { u32, skipLimits, byte: () => bytes[p++], at: () => p, seek: (q) => { p = q; }, size: bytes.length };
}

const VAL = { 0x7f: 'i32', 0x7e: 'i64', 0x7d: 'f32', 0x7c: 'f64', 0x7b: 'v128' };

// Signatures of every function index: [{params, results}].
function signatures(bytes) {
  const r = reader(bytes);
  const types = [], funcs = [];
  while (r.at() < r.size) {
    const id = r.byte(), size = r.u32(), end = r.at() + size;
    if (id === 1) {
      for (let n = r.u32(); n > 0; n--) {
        r.byte(); // 0x60: ttf makes function types only
        const params = []; for (let k = r.u32(); k > 0; k--) params.push(VAL[r.byte()] || 'ref');
        const results = []; for (let k = r.u32(); k > 0; k--) results.push(VAL[r.byte()] || 'ref');
        types.push({ params, results });
      }
    } else if (id === 2) {
      for (let n = r.u32(); n > 0; n--) {
        for (let k = 0; k < 2; k++) { const len = r.u32(); r.seek(r.at() + len); } // module, field
        const kind = r.byte();
        if (kind === 0) funcs.push(types[r.u32()]);
        else if (kind === 1) { r.byte(); r.skipLimits(); }
        else if (kind === 2) r.skipLimits();
        else if (kind === 3) { r.byte(); r.byte(); }
        else { r.byte(); r.u32(); } // tag: attribute, type
      }
    } else if (id === 3) {
      for (let n = r.u32(); n > 0; n--) funcs.push(types[r.u32()]);
    }
    r.seek(end);
  }
  return funcs;
}

// Export names of functions, in export order, with their function index.
function funcExports(bytes) {
  const r = reader(bytes), out = [];
  while (r.at() < r.size) {
    const id = r.byte(), size = r.u32(), end = r.at() + size;
    if (id === 7) {
      for (let n = r.u32(); n > 0; n--) {
        const len = r.u32(), name = Buffer.from(bytes.subarray(r.at(), r.at() + len)).toString();
        r.seek(r.at() + len);
        const kind = r.byte(), index = r.u32();
        if (kind === 0) out.push({ name, index });
      }
    }
    r.seek(end);
  }
  return out;
}

// ---- running ----

function show(v) {
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') return Number.isNaN(v) ? 'nan' : Object.is(v, -0) ? '-0' : String(v);
  if (Array.isArray(v)) return v.map(show).join(' ');
  return String(v);
}

const zero = (t) => (t === 'i64' ? 0n : t === 'ref' ? null : 0);

async function main() {
  const bytes = new Uint8Array(fs.readFileSync(process.argv[2]));
  const sigs = signatures(bytes), log = [];
  // Every import is a function that logs its name and arguments (log-i32, log-f64, ...;
  // one taking a v128 traps when called, alike for both modules compared).
  const fields = (mod) => new Proxy({}, { get: (_, field) => (...args) => {
    log.push(`${mod}.${String(field)} ${args.map(show).join(' ')}`);
  } });
  const imports = new Proxy({}, { get: (_, mod) => fields(String(mod)) });
  let instance;
  try {
    ({ instance } = await WebAssembly.instantiate(bytes, imports));
  } catch (e) {
    console.log(`instantiate: ${e.constructor.name}: ${e.message}`);
    return;
  }
  for (const { name, index } of funcExports(bytes)) {
    const sig = sigs[index];
    if (sig.params.includes('v128') || sig.results.includes('v128')) {
      log.push(`call ${name}: v128 in the signature, not callable from JS`);
      continue;
    }
    try {
      const result = instance.exports[name](...sig.params.map(zero));
      log.push(`call ${name} -> ${sig.results.length ? show(result) : '(none)'}`);
    } catch (e) {
      log.push(`call ${name}: trap ${e.constructor.name}: ${e.message}`);
    }
  }
  console.log(log.join('\n'));
}

main().catch((e) => { console.error(e && e.stack || e); process.exit(2); });
