#!/usr/bin/env node
// bench.mjs - run time of metered WASI modules against the plain ones, in one process.
//
// Usage: node --no-warnings tests/meter/bench.mjs [--runs N] [--json FILE] NAME=PLAIN.wasm[,VARIANT=FILE...]...
//   Each argument names one program: its plain module and its instrumented variants,
//   e.g. sort=build/m/sort.plain.wasm,lazy=build/m/sort.lazy.wasm,exact=...
// Every module is compiled once and warmed up (runs until its code is hot); each
// sample is K back-to-back runs (K such that the plain module takes >= 100 ms), each
// run a fresh WASI instance (output to /dev/null, fuel 2^62) timed around _start, in
// CPU time of the process (its main thread waits meanwhile): less disturbed by other
// load on the machine than wall time.
// The variants of a program take N samples (default 7) in turn, in rotating order.
// Prints, per program, the median time of one run of each variant and its ratio to
// the plain one, then the geometric mean of the ratios per variant.
import '../lib/node-wasm.mjs';
import fs from 'node:fs';
import { WASI } from 'node:wasi';
import { Worker, isMainThread, workerData } from 'node:worker_threads';
import v8 from 'node:v8';
import vm from 'node:vm';

process.removeAllListeners('warning');
if (isMainThread) { /* the fixtures recurse deeper than the main thread's stack allows */
  const w = new Worker(new URL(import.meta.url), {
    workerData: process.argv.slice(2), resourceLimits: { stackSizeMb: 32 }
  });
  w.on('exit', (code) => process.exit(code));
  w.on('error', (e) => { console.error(e); process.exit(1); });
}
const args = isMainThread ? [] : workerData;
let runs = 7, jsonOut = null;
const programs = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--runs') runs = Number(args[++i]);
  else if (args[i] === '--json') jsonOut = args[++i];
  else {
    const [name, rest] = args[i].split('=', 2).length === 2 ? [args[i].slice(0, args[i].indexOf('=')), args[i].slice(args[i].indexOf('=') + 1)] : [null, null];
    if (!name) { console.error(`bench: bad argument ${args[i]}`); process.exit(2); }
    const parts = rest.split(',');
    const variants = { plain: parts[0] };
    for (const p of parts.slice(1)) { const k = p.indexOf('='); variants[p.slice(0, k)] = p.slice(k + 1); }
    programs.push({ name, variants });
  }
}

const devnull = fs.openSync('/dev/null', 'w');

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');
let instances = 0;

// Contract: one timed run of a compiled module; ms.  Every 16 instances the garbage
// collector runs (untimed): each holds a linear memory reservation.
function runOnce(module) {
  if (++instances % 8 === 0) gc();
  const wasi = new WASI({ version: 'preview1', args: ['bench'], env: {}, preopens: {}, returnOnExit: true, stdout: devnull, stderr: devnull });
  const imports = wasi.getImportObject();
  if (needsGas(module)) imports.metering = { usegas: () => {} }; /* npm wasm-metering's host counter */
  const instance = new WebAssembly.Instance(module, imports);
  if (instance.exports.wasmslim_fuel) instance.exports.wasmslim_fuel.value = 1n << 62n;
  const t = process.cpuUsage();
  try { wasi.start(instance); } catch (e) { throw new Error(`trapped: ${e.message}`); }
  const d = process.cpuUsage(t);
  const ms = (d.user + d.system) / 1e3;
  const mem = instance.exports.memory;
  if (mem && mem.buffer.byteLength > (4 << 20)) gc(); /* big memories: free them now */
  return ms;
}

// True when module imports metering.usegas (modules instrumented by npm's wasm-metering).
function needsGas(module) {
  return WebAssembly.Module.imports(module).some((i) => i.module === 'metering' && i.name === 'usegas');
}

function say(line) { fs.writeSync(1, `${line}\n`); } /* a worker's console.log may be lost at exit */

function median(a) {
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

if (isMainThread) await new Promise(() => {});
const ratios = {};
const report = [];
for (const p of programs) {
  const mods = {}, times = {};
  for (const [v, file] of Object.entries(p.variants)) {
    mods[v] = new WebAssembly.Module(fs.readFileSync(file));
    for (let w = 0, t = 0; w < 30 && t < 300; w++) t += runOnce(mods[v]);
    times[v] = [];
  }
  const one = median([0, 1, 2].map(() => runOnce(mods.plain)));
  const k = Math.max(1, Math.ceil(100 / Math.max(one, 0.01)));
  const names = Object.keys(mods);
  for (let r = 0; r < runs; r++)
    for (let j = 0; j < names.length; j++) {
      const v = names[(j + r) % names.length];
      let t = 0;
      for (let i = 0; i < k; i++) t += runOnce(mods[v]);
      times[v].push(t / k);
    }
  const base = median(times.plain);
  const row = { program: p.name, plain_ms: base };
  let line = `${p.name.padEnd(14)} plain ${base.toFixed(2).padStart(8)} ms x${String(k).padEnd(4)}`;
  for (const v of names.slice(1)) {
    const m = median(times[v]), ratio = m / base;
    (ratios[v] ||= []).push(ratio);
    row[v] = ratio;
    line += `  ${v} ${ratio.toFixed(3)}x`;
  }
  report.push(row);
  say(line);
}
const geo = {};
for (const [v, rs] of Object.entries(ratios)) {
  geo[v] = Math.exp(rs.reduce((s, r) => s + Math.log(r), 0) / rs.length);
  say(`geo-mean ${v}: ${geo[v].toFixed(3)}x over ${rs.length} programs`);
}
if (jsonOut) fs.writeFileSync(jsonOut, JSON.stringify({ runs, programs: report, geomean: geo }, null, 1));
