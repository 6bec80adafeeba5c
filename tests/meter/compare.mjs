#!/usr/bin/env node
// compare.mjs - differential check of the metering pass on modules with exported
// functions: the naive instrumentation (naive.c) and wasmslim's lazy, exact and
// refill (--fuel-import) modes must spend exactly the same fuel on every call that
// does not trap, and every instrumented module must behave like the original.
//
// Usage: node [V8 FLAGS] tests/meter/compare.mjs --wasmslim WS --naive NAIVE SOURCE
//   SOURCE is one of
//     --spec DIR [--only NAME]...  every module of DIR/json/*/*.json that imports only
//       [--shard K/N]              from "spectest", with the script's invokes on it
//                                  (with --shard, only the scripts K, K+N, K+2N, ...
//                                  of the sorted list: N processes share the work)
//     --gen N [--seed S]           N modules from `wasm-opt -ttf` (binaryen), each
//                                  export called with zero arguments
//     --wat FILE...                modules from text; every export called with zeros
//     --wasm FILE...               binary modules (imports only from "spectest"); the
//                                  same (for features wabt cannot assemble: exnref,
//                                  GC; node 20 cannot run them, a later node can)
// Calls: before each one every fuel global is set to 2^62; spent = 2^62 - left
// (+ what the refill import granted).  A call whose original traps must trap in every
// variant; one that returns or throws must do the same with equal values.  Modules
// node cannot compile (features V8 11 lacks) are counted as skipped.  Last line:
// "compare: N passed, N failed, N skipped (modules), N calls checked".
import '../lib/node-wasm.mjs';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const BIG = 1n << 62n;
const VARIANTS = {
  lazy: ['--fuel', `--fuel-init=${BIG}`],
  exact: ['--fuel', '--fuel-mode=exact', `--fuel-init=${BIG}`],
  refill: ['--fuel', '--fuel-import=meter.refill', '--fuel-mode=exact', '--stack-limit=100000000'],
  lazystack: ['--fuel', `--fuel-init=${BIG}`, '--stack-limit=100000000', '--stack-cost=frame'],
};

function usage(msg) {
  console.error(`compare: ${msg}`);
  console.error('usage: node tests/meter/compare.mjs --wasmslim WS --naive NAIVE (--spec DIR | --gen N | --wat FILE...)');
  process.exit(2);
}

function parseArgs(argv) {
  const o = { wasmslim: 'build/wasmslim', naive: 'build/meter-naive', only: [], wat: [], seed: 1, verbose: false,
    shard: 0, shards: 1 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i], v = () => (i + 1 < argv.length ? argv[++i] : usage(`${a} needs a value`));
    if (a === '--wasmslim') o.wasmslim = v();
    else if (a === '--naive') o.naive = v();
    else if (a === '--spec') o.spec = v();
    else if (a === '--only') o.only.push(v());
    else if (a === '--gen') o.gen = Number(v());
    else if (a === '--seed') o.seed = Number(v());
    else if (a === '--wat') { while (i + 1 < argv.length && !argv[i + 1].startsWith('--')) o.wat.push(argv[++i]); }
    else if (a === '--wasm') { o.wasm = []; while (i + 1 < argv.length && !argv[i + 1].startsWith('--')) o.wasm.push(argv[++i]); }
    else if (a === '--verbose') o.verbose = true;
    else if (a === '--shard') {
      const m = /^(\d+)\/(\d+)$/.exec(v());
      if (!m || Number(m[1]) >= Number(m[2])) usage('--shard wants K/N with K < N');
      o.shard = Number(m[1]);
      o.shards = Number(m[2]);
    }
    else usage(`unknown option ${a}`);
  }
  if (!o.spec && !o.gen && !o.wat.length && !o.wasm) usage('no source');
  return o;
}

const opts = parseArgs(process.argv.slice(2));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'meter-compare-'));
const stats = { passed: 0, failed: 0, skipped: 0, calls: 0 };

function run(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return { ok: r.status === 0, err: (r.stderr || '') + (r.error ? String(r.error) : '') };
}

// Contract: the original and its instrumented variants as bytes, or a reason.
function instrument(bytes) {
  const inp = path.join(tmp, 'in.wasm');
  fs.writeFileSync(inp, bytes);
  const out = { original: bytes };
  const n = path.join(tmp, 'naive.wasm');
  const r = run(opts.naive, [inp, n, '--init', String(BIG)]);
  if (!r.ok) return { error: `naive: ${r.err}` };
  out.naive = fs.readFileSync(n);
  for (const [name, flags] of Object.entries(VARIANTS)) {
    const o = path.join(tmp, `${name}.wasm`);
    const w = run(opts.wasmslim, [inp, ...flags, '-q', '-o', o]);
    if (!w.ok) return { error: `wasmslim ${flags.join(' ')}: ${w.err}` };
    out[name] = fs.readFileSync(o);
  }
  return out;
}

function isExhaustion(e) { return e instanceof RangeError && /call stack/i.test(e.message); }

// Contract: one call on one instance: its outcome and the fuel it spent.  The refill
// variant starts from 0 fuel, so that its import is asked for every unit.
function callOnce(inst, name, args, refill, start) {
  const ex = inst.exports;
  if (ex.wasmslim_fuel) ex.wasmslim_fuel.value = start;
  if (ex.wasmslim_stack) ex.wasmslim_stack.value = 0;
  refill.amount = 0n;
  let outcome;
  try {
    outcome = { kind: 'ok', value: ex[name](...args) };
  } catch (e) {
    if (isExhaustion(e)) outcome = { kind: 'exhaustion' };
    else if (e instanceof WebAssembly.RuntimeError) outcome = { kind: 'trap', msg: e.message };
    else outcome = { kind: 'exception', value: e };
  }
  const left = ex.wasmslim_fuel ? ex.wasmslim_fuel.value : start;
  outcome.spent = start - left + refill.amount;
  return outcome;
}

function same(a, b) {
  if (typeof a !== typeof b) return false;
  if (Array.isArray(a)) return a.length === b.length && a.every((x, i) => same(x, b[i]));
  if (typeof a === 'number') return Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b));
  if (typeof a === 'function' || (a && typeof a === 'object' && b && !a.ref)) return true; /* references of
    each instance: exceptions, functions, GC objects; their identity differs */
  if (a && typeof a === 'object' && a.ref) return b && a.ref === b.ref;
  return a === b;
}

function show(v) { try { return String(v); } catch { return typeof v; } }

// Contract: compares one call across the variants; returns a failure message or null.
function compareCall(outs, label) {
  const o = outs.original;
  for (const [name, r] of Object.entries(outs)) {
    if (name === 'original') continue;
    if (r.kind !== o.kind) return `${label}: ${name} ${r.kind} (${r.msg || ''}), original ${o.kind} (${o.msg || ''})`;
    if (r.kind === 'ok' && !same(r.value, o.value)) return `${label}: ${name} returned ${show(r.value)}, original ${show(o.value)}`;
  }
  if (o.kind === 'trap' || o.kind === 'exhaustion') return null;
  for (const [name, r] of Object.entries(outs)) {
    if (name === 'original' || name === 'naive') continue;
    if (r.spent !== outs.naive.spent) return `${label}: ${name} spent ${r.spent}, naive ${outs.naive.spent}`;
  }
  stats.calls++;
  return null;
}

// Contract: instantiates every variant with fresh imports; null when node cannot.
async function instantiateAll(mods, makeImports) {
  const insts = {};
  for (const [name, bytes] of Object.entries(mods)) {
    const refill = { amount: 0n };
    const imports = makeImports();
    imports.meter = { refill: (d) => { refill.amount += d; return d; } };
    try {
      const module = await WebAssembly.compile(bytes);
      insts[name] = { instance: await WebAssembly.instantiate(module, imports), refill };
    } catch (e) {
      if (name === 'original') return null;
      throw new Error(`${name} does not instantiate: ${e.message}`);
    }
  }
  return insts;
}

// Contract: checks one module with a list of calls {name, args}; counts the result.
async function checkModule(label, bytes, calls, makeImports, probeCalls = false) {
  try {
    await WebAssembly.compile(bytes);
  } catch (e) { skip(label, e.message); return; }
  const mods = instrument(bytes);
  if (mods.error) { fail(`${label}: ${mods.error}`); return; }
  let insts;
  try {
    insts = await instantiateAll(mods, makeImports);
  } catch (e) { fail(`${label}: ${e.message}`); return; }
  if (!insts) { skip(label, 'the original does not instantiate'); return; }
  const probe = probeCalls ? await instantiateAll({ lazy: mods.lazy, original: mods.lazy }, makeImports) : null;
  for (const c of calls) {
    if (probe) { /* exports called blindly may not end: skip those the metered copy stops */
      const p = callOnce(probe.lazy.instance, c.name, c.args, probe.lazy.refill, 100000000n);
      if (p.kind === 'trap' && p.spent > 100000000n) continue;
    }
    if (typeof c.before === 'string')
      for (const v of Object.values(insts)) try { v.instance.exports[c.before](); } catch { /* as the original */ }
    const outs = {};
    for (const [name, v] of Object.entries(insts))
      outs[name] = callOnce(v.instance, c.name, c.args, v.refill, name === 'refill' ? 0n : BIG);
    const msg = compareCall(outs, `${label} ${c.name}`);
    if (msg) { fail(msg); return; }
  }
  stats.passed++;
}

function skip(label, why) {
  stats.skipped++;
  if (opts.verbose) console.log(`skip ${label}: ${why}`);
}

function fail(msg) {
  stats.failed++;
  console.log(`FAIL ${msg}`);
}

// ---- spec scripts ----

function specValue(v) {
  switch (v.type) {
  case 'i32': return Number(BigInt.asIntN(32, BigInt(v.value)));
  case 'i64': return BigInt.asIntN(64, BigInt(v.value));
  case 'f32': return new Float32Array(new Uint32Array([Number(v.value)]).buffer)[0];
  case 'f64': return new Float64Array(new BigUint64Array([BigInt(v.value)]).buffer)[0];
  case 'externref': return v.value === 'null' ? null : { ref: v.value };
  case 'funcref': if (v.value === 'null') return null; throw new Error('funcref');
  default: throw new Error(v.type);
  }
}

function spectest() {
  const print = () => {};
  return { spectest: {
    print, print_i32: print, print_i64: print, print_f32: print, print_f64: print,
    print_i32_f32: print, print_f64_f64: print,
    global_i32: new WebAssembly.Global({ value: 'i32' }, 666),
    global_i64: new WebAssembly.Global({ value: 'i64' }, 666n),
    global_f32: new WebAssembly.Global({ value: 'f32' }, 666.6),
    global_f64: new WebAssembly.Global({ value: 'f64' }, 666.6),
    table: new WebAssembly.Table({ initial: 10, maximum: 20, element: 'anyfunc' }),
    memory: new WebAssembly.Memory({ initial: 1, maximum: 2 }),
  } };
}

function onlySpectest(bytes) {
  try {
    return WebAssembly.Module.imports(new WebAssembly.Module(bytes)).every((i) => i.module === 'spectest');
  } catch { return true; } /* checkModule reports why it does not compile */
}

// Contract: the invokes of a script grouped by the module they run on.
function specModules(dir, json) {
  const script = JSON.parse(fs.readFileSync(path.join(dir, json), 'utf8'));
  const mods = [];
  let cur = null;
  for (const c of script.commands) {
    if (c.type === 'module') {
      cur = { file: path.join(dir, c.filename), name: c.name, line: c.line, calls: [] };
      mods.push(cur);
      continue;
    }
    const act = c.action;
    if (!cur || !act || act.type !== 'invoke' || (act.module && act.module !== cur.name)) continue;
    try {
      cur.calls.push({ name: act.field, args: act.args.map(specValue) });
    } catch { /* v128 and other values JS cannot pass */ }
  }
  return mods;
}

async function runSpec() {
  const root = path.join(opts.spec, 'json');
  if (!fs.existsSync(root)) { console.log(`SKIP: no spec testsuite at ${opts.spec}`); return; }
  let index = 0;
  for (const name of fs.readdirSync(root).sort()) {
    if (opts.only.length && !opts.only.includes(name)) continue;
    if (index++ % opts.shards !== opts.shard) continue; /* --shard K/N: every Nth script */
    const json = path.join(root, name, `${name}.json`);
    if (!fs.existsSync(json)) continue;
    for (const m of specModules(path.join(root, name), `${name}.json`)) {
      if (!m.calls.length || !fs.existsSync(m.file)) continue;
      const bytes = fs.readFileSync(m.file);
      if (!onlySpectest(bytes)) { skip(`${name}:${m.line}`, 'imports from other modules'); continue; }
      await checkModule(`${name}:${m.line}`, bytes, m.calls, spectest);
    }
  }
}

// ---- generated modules ----

function zeroArgs(t) {
  return t.map((p) => (p === 'i64' ? 0n : p === 'externref' || p === 'funcref' || p === 'anyref' ? null : 0));
}

function fuzzImports(log) {
  const rec = (v) => { log.push(v); };
  return () => ({ 'fuzzing-support': { 'log-i32': rec, 'log-i64': rec, 'log-f32': rec, 'log-f64': rec } });
}

// Contract: exports of a module (text from wasm2wat-free introspection) and their
// parameter counts from the type reflection-free path: call with zeros of each type.
function exportCalls(bytes) {
  const calls = [];
  const module = new WebAssembly.Module(bytes);
  const hang = WebAssembly.Module.exports(module).some((e) => e.name === 'hangLimitInitializer');
  for (const e of WebAssembly.Module.exports(module)) {
    if (e.kind !== 'function' || e.name === 'hangLimitInitializer') continue;
    calls.push({ name: e.name, args: [], before: hang ? 'hangLimitInitializer' : null });
  }
  return calls;
}

async function runGen() {
  const features = ['--enable-sign-ext', '--enable-nontrapping-float-to-int', '--enable-bulk-memory',
    '--enable-multivalue', '--enable-exception-handling', '--enable-tail-call'];
  for (let k = 0; k < opts.gen; k++) {
    const seed = opts.seed + k;
    const dat = path.join(tmp, 'seed.dat'), out = path.join(tmp, 'gen.wasm');
    let x = seed * 2654435761 >>> 0;
    const buf = Buffer.alloc(4096 + (seed % 7) * 1024);
    for (let i = 0; i < buf.length; i++) { x = (x * 1103515245 + 12345) >>> 0; buf[i] = x >>> 24; }
    fs.writeFileSync(dat, buf);
    const r = run('wasm-opt', [dat, '-ttf', ...features, '-o', out]);
    if (!r.ok) { stats.skipped++; continue; }
    const bytes = fs.readFileSync(out);
    let calls;
    try { calls = exportCalls(bytes); } catch { stats.skipped++; continue; }
    const log = [];
    await checkModule(`gen seed ${seed}`, bytes, calls, fuzzImports(log));
  }
}

async function runWat() {
  for (const file of opts.wat) {
    const out = path.join(tmp, 'wat.wasm');
    const r = run('wat2wasm', ['--enable-all', file, '-o', out]);
    if (!r.ok) { fail(`${file}: wat2wasm: ${r.err}`); continue; }
    const bytes = fs.readFileSync(out);
    const calls = WebAssembly.Module.exports(new WebAssembly.Module(bytes))
      .filter((e) => e.kind === 'function').map((e) => ({ name: e.name, args: [] }));
    await checkModule(path.basename(file), bytes, calls, () => ({ env: { log: () => {} } }));
  }
}

// Contract: zero arguments of the export's parameter types (type reflection when the
// node has it, else none).
function zeroCall(module, e) {
  const t = e.type || (WebAssembly.Module.exports(module).find((x) => x.name === e.name) || {}).type;
  return { name: e.name, args: t && t.parameters ? zeroArgs(t.parameters) : [] };
}

async function runWasm() {
  for (const file of opts.wasm) {
    const bytes = fs.readFileSync(file);
    let module;
    try { module = new WebAssembly.Module(bytes); } catch (e) { skip(file, e.message); continue; }
    if (!onlySpectest(bytes)) { skip(file, 'imports from other modules'); continue; }
    const calls = WebAssembly.Module.exports(module).filter((e) => e.kind === 'function').map((e) => zeroCall(module, e));
    await checkModule(path.basename(file), bytes, calls, spectest, true);
  }
}

if (opts.wasm) await runWasm();
if (opts.spec) await runSpec();
if (opts.gen) await runGen();
if (opts.wat.length) await runWat();
fs.rmSync(tmp, { recursive: true, force: true });
console.log(`compare: ${stats.passed} passed, ${stats.failed} failed, ${stats.skipped} skipped (modules), ${stats.calls} calls checked`);
process.exit(stats.failed ? 1 : 0);
