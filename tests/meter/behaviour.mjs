#!/usr/bin/env node
// behaviour.mjs - what the metering pass promises, on small modules (cases.wat,
// memory.wat, memory64.wat): counts a host can rely on, no unpaid path, traps that
// come at the same point every time, lazy overrun within the recorded bound, the stack
// limit (also across exceptions and tail calls) and the memory cap.
//
// Usage: node tests/meter/behaviour.mjs WASMSLIM NAIVE
// Last line: "behaviour: N passed, N failed".
import '../lib/node-wasm.mjs';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import { fileURLToPath } from 'node:url';

v8.setFlagsFromString('--experimental-wasm-memory64'); /* node 20; ignored once shipped */
const HERE = path.dirname(fileURLToPath(import.meta.url));
const [WS, NAIVE] = process.argv.slice(2);
if (!WS || !NAIVE) { console.error('usage: node tests/meter/behaviour.mjs WASMSLIM NAIVE'); process.exit(2); }
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'meter-behaviour-'));
let passed = 0, failed = 0;

function check(name, ok, detail = '') {
  if (ok) passed++;
  else { failed++; console.log(`FAIL ${name}${detail ? `: ${detail}` : ''}`); }
}

function sh(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r;
}

function wat(name) {
  const out = path.join(tmp, `${name}.wasm`);
  sh('wat2wasm', ['--enable-all', path.join(HERE, `${name}.wat`), '-o', out]);
  return out;
}

let serial = 0;
function meter(file, flags) {
  const out = path.join(tmp, `m${serial++}.wasm`);
  sh(WS, [file, ...flags, '-q', '-o', out]);
  return fs.readFileSync(out);
}

function naive(file) {
  const out = path.join(tmp, `n${serial++}.wasm`);
  sh(NAIVE, [file, out]);
  return fs.readFileSync(out);
}

// The "key value" lines of the wasmslim.metering custom section.
function record(bytes) {
  const secs = WebAssembly.Module.customSections(new WebAssembly.Module(bytes), 'wasmslim.metering');
  const map = {};
  for (const line of Buffer.from(secs[0]).toString('utf8').split('\n')) {
    const k = line.indexOf(' ');
    if (k > 0) map[line.slice(0, k)] = line.slice(k + 1);
  }
  return map;
}

function instance(bytes, imports = {}) {
  return new WebAssembly.Instance(new WebAssembly.Module(bytes), imports);
}

const casesImports = (log = () => {}) => ({ env: { log } });

// Contract: calls export name with fuel set first; returns {trap, value, left}.
function run(inst, name, fuel, ...args) {
  const ex = inst.exports;
  if (ex.wasmslim_fuel) ex.wasmslim_fuel.value = BigInt(fuel);
  if (ex.wasmslim_stack) ex.wasmslim_stack.value = 0;
  let trap = null, value;
  try { value = ex[name](...args); } catch (e) { trap = e; }
  return { trap, value, left: ex.wasmslim_fuel ? ex.wasmslim_fuel.value : 0n };
}

const isTrap = (e) => e instanceof WebAssembly.RuntimeError;
const cases = wat('cases');
const naiveCases = instance(naive(cases), casesImports());
const BIG = 1n << 62n;

function spentNaive(name, ...args) { return BIG - run(naiveCases, name, BIG, ...args).left; }

// ---- exact counts, both modes ----
for (const mode of ['lazy', 'exact']) {
  const bytes = meter(cases, ['--fuel', `--fuel-mode=${mode}`]);
  const inst = instance(bytes, casesImports());
  const rec = record(bytes);
  check(`${mode}: record`, rec.version === '1' && rec['fuel.mode'] === mode && rec['fuel.export'] === 'wasmslim_fuel');
  check(`${mode}: add3 costs 3`, BIG - run(inst, 'add3', BIG).left === 3n);
  for (const name of ['mixed', 'fill_page', 'copy_some']) {
    const r = run(inst, name, BIG), n = spentNaive(name);
    check(`${mode}: ${name} spends as the naive count`, !r.trap && BIG - r.left === n, `${BIG - r.left} vs ${n}`);
  }
  check(`${mode}: fill_page pays per byte`, BIG - run(inst, 'fill_page', BIG).left === 4n + 65536n);
  const t = run(inst, 'throw_out', BIG);
  check(`${mode}: an exception to the host is exact`, t.trap instanceof WebAssembly.Exception &&
    BIG - t.left === spentNaive('throw_out'));
  // a run that needs F units completes with F and ends with 0; with F - 1 it traps,
  // except that in lazy mode a function without loops or calls checks nothing: it
  // returns, with the fuel below zero (the host reads that as exhausted)
  const bound = BigInt(rec['fuel.lazy-bound']);
  for (const name of ['add3', 'mixed', 'fill_page']) {
    const need = spentNaive(name);
    const ok = run(inst, name, need), short = run(inst, name, need - 1n);
    check(`${mode}: ${name} completes with exactly its cost`, !ok.trap && ok.left === 0n, `${ok.trap} ${ok.left}`);
    const leaf = mode === 'lazy' && name === 'add3';
    check(`${mode}: ${name} runs out with one unit less`, leaf ? !short.trap && short.left === -1n && -short.left <= bound
      : isTrap(short.trap));
    check(`${mode}: ${name} shows the fuel below zero when out`, short.left < 0n, `${short.left}`);
  }
  // functions with calls check at their exit when a charge may have followed the last
  // check (the dearer arm after the call), and need not when a checking callee ends them: with
  // one unit less either traps
  for (const name of ['ends_in_checked_call', 'charges_after_call']) {
    const need = spentNaive(name, 1);
    const ok = run(inst, name, need, 1), short = run(inst, name, need - 1n, 1);
    check(`${mode}: ${name} completes with exactly its cost`, !ok.trap && ok.left === 0n, `${ok.trap} ${ok.left}`);
    check(`${mode}: ${name} runs out with one unit less`, isTrap(short.trap) && short.left < 0n, `${short.trap} ${short.left}`);
  }
  // cold loop exits (lazy: refunded), and branches whose cheapest way is paid before
  // them: each way spends as the naive count, completes with exactly its cost and runs
  // out with one unit less
  for (const [name, ks] of [['cold_exits', [5, 103, 201, 307, 1000]], ['cold_exit_call', [0, 4, 99]],
    ['cold_exit_after_call', [0, 3]], ['diamonds', [0, 1, 2, 3, 4, 5]]]) {
    for (const k of ks) {
      const need = spentNaive(name, k);
      const full = run(inst, name, BIG, k), ok = run(inst, name, need, k), short = run(inst, name, need - 1n, k);
      check(`${mode}: ${name}(${k}) spends as the naive count`, !full.trap && BIG - full.left === need, `${BIG - full.left} vs ${need}`);
      check(`${mode}: ${name}(${k}) completes with exactly its cost`, !ok.trap && ok.left === 0n, `${ok.trap} ${ok.left}`);
      const leaf = mode === 'lazy' && name === 'diamonds'; /* no loops or calls: no checks */
      check(`${mode}: ${name}(${k}) runs out with one unit less`, leaf ? !short.trap && short.left === -1n
        : isTrap(short.trap) && short.left < 0n && (mode === 'exact' || -short.left <= bound),
        `${short.trap} ${short.left}`);
    }
  }
  // a bulk operation with a huge length traps for fuel before it runs (it would be out
  // of bounds): the fuel shows what was missing
  const huge = run(inst, 'fill_huge', 1000000);
  check(`${mode}: fill_huge stops on fuel`, isTrap(huge.trap) && huge.left === 1000000n - 4n - 0xffffffffn, `${huge.left}`);
  const oob = run(inst, 'fill_huge', BIG);
  check(`${mode}: fill_huge with fuel traps out of bounds`, isTrap(oob.trap) && BIG - oob.left === 4n + 0xffffffffn);
}

// ---- exact: a class that cannot be paid does not start ----
{
  const logs = [];
  const inst = instance(meter(cases, ['--fuel', '--fuel-mode=exact']), casesImports((v) => logs.push(v)));
  const r = run(inst, 'log3', 3);
  check('exact: no instruction of an unpaid class runs', isTrap(r.trap) && JSON.stringify(logs) === '[1]' && r.left === -1n,
    `${logs} ${r.left}`);
}

// ---- no unpaid path: every endless program stops, at the same point every time ----
const SPINNERS = ['spin', 'spin_if', 'spin_table', 'rec', 'spin_indirect', 'tail', 'tail_indirect', 'spin_catch',
  'spin_host', 'grow_loop'];
for (const mode of ['lazy', 'exact']) {
  const bytes = meter(cases, ['--fuel', `--fuel-mode=${mode}`]);
  const bound = BigInt(record(meter(cases, ['--fuel']))['fuel.lazy-bound']);
  for (const name of SPINNERS) {
    let logs = 0;
    const inst = instance(bytes, casesImports(() => { logs++; }));
    const a = run(inst, name, 3000), b = run(inst, name, 3000);
    check(`${mode}: ${name} stops`, isTrap(a.trap) && isTrap(b.trap), `${a.trap}`);
    check(`${mode}: ${name} stops at the same point`, a.left === b.left, `${a.left} ${b.left}`);
    check(`${mode}: ${name} overrun within the bound ${bound}`, a.left < 0n && -a.left <= bound, `${a.left}`);
    if (name === 'spin_host') check(`${mode}: spin_host stops calling the host`, logs > 100 && logs < 3000, `${logs}`);
  }
}

// ---- --fuel-import: the host refills ----
{
  const bytes = meter(cases, ['--fuel', '--fuel-import=env.refill']);
  const asked = [];
  let grants = 10;
  const inst = instance(bytes, { env: { log: () => {}, refill: (d) => { asked.push(d); return grants-- > 0 ? 100n : 0n; } } });
  const r = run(inst, 'spin', 0);
  check('refill: spin stops when the host stops granting', isTrap(r.trap) && asked.length === 11, `${asked.length}`);
  check('refill: asked for positive deficits', asked.every((d) => d > 0n));
  grants = 1e9;
  const m = run(inst, 'mixed', 0);
  check('refill: mixed completes on granted fuel', !m.trap && m.value === run(naiveCases, 'mixed', BIG).value);
  check('refill: record names the import', record(bytes)['fuel.import'] === 'env.refill');
}

// ---- the stack limit ----
{
  const bytes = meter(cases, ['--stack-limit=100']);
  const inst = instance(bytes, casesImports());
  const ok = run(inst, 'down', 0, 99), after = inst.exports.wasmslim_stack.value;
  check('stack: 100 frames fit in 100', !ok.trap && ok.value === 99 && after === 0, `${ok.trap} ${after}`);
  const deep = run(inst, 'down', 0, 100);
  check('stack: 101 frames trap', isTrap(deep.trap) && inst.exports.wasmslim_stack.value === 100);
  let fine = true;
  for (let i = 0; i < 10 && fine; i++) {
    const c = run(inst, 'catch_deep', 0, 60);
    fine = !c.trap && c.value === 1 && inst.exports.wasmslim_stack.value === 0;
  }
  check('stack: given back when an exception unwinds (10 times 61 frames)', fine);
  const rec = record(bytes);
  check('stack: record', rec['stack.limit'] === '100' && rec['stack.cost'] === '1' && rec['stack.export'] === 'wasmslim_stack');
  const both = instance(meter(cases, ['--fuel', '--stack-limit=5']), casesImports());
  const t = run(both, 'tail', 100000);
  check('stack: tail calls give back (only fuel stops them)', isTrap(t.trap) && t.left < 0n &&
    both.exports.wasmslim_stack.value <= 1);
  const framed = instance(meter(cases, ['--stack-limit=100', '--stack-cost=frame']), casesImports());
  const f1 = run(framed, 'down', 0, 20), f2 = run(framed, 'down', 0, 60);
  check('stack: frame cost counts params and operands', !f1.trap && isTrap(f2.trap));
}

// ---- the memory cap ----
{
  const inst = instance(meter(cases, ['--max-memory-pages=2']), casesImports());
  const g1 = run(inst, 'grow', 0, 1), g2 = run(inst, 'grow', 0, 1);
  check('memory: defined memory capped at 2 pages', g1.value === 1 && g2.value === -1);
  const mem = new WebAssembly.Memory({ initial: 1 });
  const imp = instance(meter(wat('memory'), ['--max-memory-pages=3']), { env: { mem } });
  const got = [1, 1, 1, 0, 5].map((d) => run(imp, 'grow', 0, d).value);
  check('memory: imported memory.grow returns -1 past the cap', JSON.stringify(got) === '[1,2,-1,3,-1]', `${got}`);
  check('memory: the imported memory stays at the cap', mem.buffer.byteLength === 3 * 65536);
  let m64;
  try { m64 = new WebAssembly.Memory({ initial: 1, index: 'i64' }); } catch { m64 = null; }
  if (m64 && m64.buffer) {
    try {
      const inst64 = instance(meter(wat('memory64'), ['--max-memory-pages=2', '--fuel']), { env: { mem64: m64 } });
      const a = run(inst64, 'grow', BIG, 1n), b = run(inst64, 'grow', BIG, 1n), c = run(inst64, 'grow', BIG, -1n);
      check('memory64: grow capped', a.value === 1n && b.value === -1n, `${a.value} ${b.value}`);
      check('memory64: asking for 2^64-1 pages costs more fuel than there is', isTrap(c.trap) && c.left < 0n);
      const f = run(inst64, 'fill', 1000, 1n << 40n);
      check('memory64: huge fill stops on fuel', isTrap(f.trap) && f.left < 0n && f.left > -(1n << 41n));
    } catch (e) {
      console.log(`note: memory64 not checked (${e.message})`);
    }
  } else {
    console.log('note: this node has no memory64; the memory64 checks are skipped');
  }
}

// ---- calls that may throw (throws.wat): the code after a call is paid before it
// only when the call cannot end in an exception ----
{
  const src = fs.readFileSync(path.join(HERE, 'throws.wat'), 'utf8');
  const exported = path.join(tmp, 'throws-exported.wat');
  fs.writeFileSync(exported, src.replace('(table $t 2 funcref)', '(table $t (export "t") 2 funcref)'));
  const plainFile = wat('throws'), exportedFile = path.join(tmp, 'throws-exported.wasm');
  sh('wat2wasm', ['--enable-all', exported, '-o', exportedFile]);
  const boom = { env: { boom(x) { if (x === 1) throw new Error('boom'); } } };
  const naiveThrows = instance(naive(plainFile), boom);
  const naiveSpent = (name, ...args) => BIG - run(naiveThrows, name, BIG, ...args).left;
  // charges (i64.sub) in one function of a metered module, from the IR printer
  const charges = (bytes, func) => {
    const file = path.join(tmp, `p${serial++}.wasm`);
    fs.writeFileSync(file, bytes);
    const out = sh(WS, [file, `--print-function=${func}`, '-q', '-o', path.join(tmp, 'print-out.wasm')]).stdout;
    return out.split('\n').filter((l) => / i64\.sub /.test(l)).length;
  };
  for (const mode of ['lazy', 'exact']) {
    const bytes = meter(plainFile, ['--fuel', `--fuel-mode=${mode}`]);
    const inst = instance(bytes, boom);
    for (const [name, arg] of [['pure_calls'], ['host_after', 0]]) {
      const r = run(inst, name, BIG, arg);
      check(`${mode}: ${name} spends as the naive count`, !r.trap && BIG - r.left === naiveSpent(name, arg),
        `${BIG - r.left} vs ${naiveSpent(name, arg)}`);
    }
    const t = run(inst, 'host_after', BIG, 1);
    check(`${mode}: an exception from the host after calls is exact`, t.trap && !isTrap(t.trap) &&
      BIG - t.left === naiveSpent('host_after', 1), `${BIG - t.left} vs ${naiveSpent('host_after', 1)}`);
    check(`${mode}: calls that cannot throw do not split the charge`, charges(bytes, 3) === 1, `${charges(bytes, 3)}`);
    check(`${mode}: a call that may throw splits the charge`, charges(bytes, 4) === 2, `${charges(bytes, 4)}`);
    const exp = meter(exportedFile, ['--fuel', `--fuel-mode=${mode}`]);
    check(`${mode}: an exported table makes call_indirect a call that may throw`, charges(exp, 3) === 2,
      `${charges(exp, 3)}`);
    const r = run(instance(exp, boom), 'pure_calls', BIG);
    check(`${mode}: pure_calls with the table exported spends as the naive count`, BIG - r.left === naiveSpent('pure_calls'));
  }
}

fs.rmSync(tmp, { recursive: true, force: true });
console.log(`behaviour: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
