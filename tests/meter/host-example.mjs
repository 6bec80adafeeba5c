#!/usr/bin/env node
// host-example.mjs - the host example of the README, run by tests/cli/meter.sh:
// meter a module with wasmslim, then set the fuel, call, read what is left, catch the
// trap.  Usage: node tests/meter/host-example.mjs WASMSLIM
// Prints what it sees and ends with "host-example: N passed, N failed".
import '../lib/node-wasm.mjs';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const wasmslim = process.argv[2] || 'build/wasmslim';
const file = path.join(os.tmpdir(), `plugin.metered.${process.pid}.wasm`);
execFileSync('wat2wasm', [path.join(here, 'plugin.wat'), '-o', file]);
execFileSync(wasmslim, [file, '--fuel', '-q', '-o', file]);

// ---- README: begin ----
// The module was metered with: wasmslim plugin.wasm --fuel -o plugin.metered.wasm
const { instance } = await WebAssembly.instantiate(fs.readFileSync(file));
const { wasmslim_fuel: fuel, sum } = instance.exports;

// Runs fn(...args) with a budget of fuel units; tells what it used.
function metered(budget, fn, ...args) {
  fuel.value = budget;                      // an i64 global: a BigInt
  try {
    const result = fn(...args);
    if (fuel.value < 0n) return { exhausted: true, used: budget - fuel.value };
    return { result, used: budget - fuel.value };
  } catch (e) {
    // out of fuel: a trap (unreachable) with the fuel below zero; any other trap
    // leaves it at or above zero
    if (e instanceof WebAssembly.RuntimeError && fuel.value < 0n)
      return { exhausted: true, used: budget - fuel.value };
    throw e;
  }
}

const ok = metered(10_000n, sum, 100);      // enough: 100 iterations
const out = metered(10_000n, sum, 1_000_000); // not enough: stops early
console.log(ok);   // { result: 4950n, used: 1405n }
console.log(out);  // { exhausted: true, used: 10011n } (lazy mode overruns a little)
// ---- README: end ----

let passed = 0, failed = 0;
const expect = (what, cond) => { if (cond) passed++; else { failed++; console.log(`FAIL ${what}`); } };
expect('the result', ok.result === 4950n);
expect('fuel used for 100 iterations', ok.used === 1405n);
expect('a long run stops', out.exhausted === true && out.used > 10_000n);
expect('the same again', JSON.stringify(metered(10_000n, sum, 1_000_000), (k, v) => (typeof v === 'bigint' ? String(v) : v)) ===
  JSON.stringify(out, (k, v) => (typeof v === 'bigint' ? String(v) : v)));
fs.rmSync(file, { force: true });
console.log(`host-example: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
