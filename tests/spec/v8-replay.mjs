#!/usr/bin/env node
// v8-replay.mjs: run the commands of a spec script (wast2json's NAME.json) under V8,
// as spectest-interp does: modules, register, and the assertions on actions
// (assert_return, assert_trap, assert_exhaustion, assert_exception,
// assert_uninstantiable, assert_unlinkable; the malformed/invalid ones are not
// actions and are skipped).  Prints one line per failed assertion ("NAME.json:LINE:
// ...") and then "N/M tests passed.".  replay.mjs uses it when spectest-interp 1.0.32
// itself crashes on a rewritten module (an assertion inside its interpreter) while the
// untouched run completes: then the untouched and the rewritten copies are both run
// here, and must pass the same assertions.  Actions with v128 arguments or results
// cannot cross into JavaScript: they are counted apart ("not run"), alike on both sides.
//
// Usage: node tests/spec/v8-replay.mjs DIR NAME.json
// Node 18+, no npm dependencies.

import '../lib/node-wasm.mjs';
import fs from 'node:fs';
import path from 'node:path';

const [dir, jsonName] = process.argv.slice(2);
const script = JSON.parse(fs.readFileSync(path.join(dir, jsonName), 'utf8'));

const spectest = {
  print: () => {}, print_i32: () => {}, print_i64: () => {}, print_f32: () => {}, print_f64: () => {},
  print_i32_f32: () => {}, print_f64_f64: () => {},
  global_i32: 666, global_i64: 666n, global_f32: 666.6, global_f64: 666.6,
  table: new WebAssembly.Table({ initial: 10, maximum: 20, element: 'anyfunc' }),
  memory: new WebAssembly.Memory({ initial: 1, maximum: 2 }),
};
const registry = { spectest };
const named = {};
let current = null;

// ---- values ----

const bits32 = new DataView(new ArrayBuffer(8));
function toJs(arg) {
  const v = arg.value;
  switch (arg.type) {
    case 'i32': return Number(BigInt.asIntN(32, BigInt(v)));
    case 'i64': return BigInt.asIntN(64, BigInt(v));
    case 'f32': bits32.setUint32(0, Number(v)); return bits32.getFloat32(0);
    case 'f64': bits32.setBigUint64(0, BigInt(v)); return bits32.getFloat64(0);
    case 'externref': return v === 'null' ? null : { externref: Number(v) };
    case 'funcref': return null;
    default: throw new Unrunnable(arg.type);
  }
}

class Unrunnable extends Error {}

// Contract: true when the JS value r is what the expected value e describes.
function matches(r, e) {
  switch (e.type) {
    case 'i32': return typeof r === 'number' && (r >>> 0) === Number(BigInt(e.value));
    case 'i64': return typeof r === 'bigint' && BigInt.asUintN(64, r) === BigInt(e.value);
    case 'f32': case 'f64': {
      if (typeof r !== 'number') return false;
      if (String(e.value).startsWith('nan')) return Number.isNaN(r);
      if (e.type === 'f32') { bits32.setFloat32(0, r); return bits32.getUint32(0) === Number(e.value); }
      bits32.setFloat64(0, r); return bits32.getBigUint64(0) === BigInt(e.value);
    }
    case 'externref': return e.value === 'null' ? r === null : (r && r.externref === Number(e.value));
    case 'funcref': case 'anyref': case 'nullref': case 'nullfuncref': case 'nullexternref': case 'eqref':
    case 'structref': case 'arrayref': case 'i31ref': case 'exnref': case 'nullexnref':
      return e.value === 'null' ? r === null : r !== null && r !== undefined;
    default: throw new Unrunnable(e.type);
  }
}

// ---- modules and actions ----

function imports() {
  return new Proxy({}, { get: (_, mod) => registry[mod] || {} });
}

function instantiate(file) {
  const bytes = fs.readFileSync(path.join(dir, file));
  return new WebAssembly.Instance(new WebAssembly.Module(bytes), imports());
}

function run(action) {
  const inst = action.module ? named[action.module] : current;
  if (!inst) throw new Error('no module');
  const target = inst.exports[action.field];
  if (action.type === 'get') return [target instanceof WebAssembly.Global ? target.value : target];
  for (const a of action.args) if (a.type === 'v128') throw new Unrunnable('v128');
  const r = target(...action.args.map(toJs));
  return Array.isArray(r) ? r : r === undefined ? [] : [r];
}

// Contract: one command: returns true (passed), false (failed: *why set) or null (not an
// assertion on an action, or not runnable from JS).
function command(c, why) {
  switch (c.type) {
    case 'module': {
      try { current = instantiate(c.filename); } catch (e) { current = null; why.msg = `module: ${e.message}`; }
      if (c.name) named[c.name] = current;
      return null;
    }
    case 'register': registry[c.as] = (c.name ? named[c.name] : current)?.exports || {}; return null;
    case 'action': try { run(c.action); } catch (e) { /* spectest-interp reports, not counts */ } return null;
    case 'assert_return': {
      if (c.expected.some((e) => e.type === 'v128')) throw new Unrunnable('v128');
      const r = run(c.action);
      const ok = r.length === c.expected.length && c.expected.every((e, i) => matches(r[i], e));
      if (!ok) why.msg = `assert_return: got ${r.map(String).join(' ')}`;
      return ok;
    }
    case 'assert_trap': case 'assert_exhaustion': case 'assert_exception': {
      try { run(c.action); why.msg = `${c.type}: returned`; return false; } catch (e) {
        if (e instanceof Unrunnable) throw e;
        const want = c.type === 'assert_trap' ? e instanceof WebAssembly.RuntimeError
          : c.type === 'assert_exhaustion' ? e instanceof RangeError
            : !(e instanceof WebAssembly.RuntimeError) && !(e instanceof RangeError);
        if (!want) why.msg = `${c.type}: threw ${e.constructor.name}: ${e.message}`;
        return want;
      }
    }
    case 'assert_uninstantiable': case 'assert_unlinkable': {
      try { instantiate(c.filename); why.msg = `${c.type}: instantiated`; return false; } catch (e) {
        const want = c.type === 'assert_unlinkable' ? e instanceof WebAssembly.LinkError
          : e instanceof WebAssembly.RuntimeError;
        if (!want) why.msg = `${c.type}: ${e.constructor.name}: ${e.message}`;
        return want;
      }
    }
    default: return null;
  }
}

let passed = 0, total = 0, skipped = 0;
for (const c of script.commands) {
  const why = {};
  let ok;
  try { ok = command(c, why); } catch (e) {
    if (e instanceof Unrunnable) { skipped++; continue; }
    ok = false;
    why.msg = `${c.type}: ${e.constructor.name}: ${e.message}`;
  }
  if (ok === null) continue;
  total++;
  if (ok) passed++;
  else console.log(`${jsonName}:${c.line}: ${why.msg}`);
}
if (skipped) console.log(`${skipped} assertion(s) not run (v128 values cannot cross into JavaScript)`);
console.log(`${passed}/${total} tests passed.`);
