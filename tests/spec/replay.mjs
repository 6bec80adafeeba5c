#!/usr/bin/env node
// replay.mjs: replay the spec testsuite's actions on modules rewritten by wasmslim.
//
// Usage: node tests/spec/replay.mjs [--wasmslim PATH] [--pipeline "FLAGS"]...
//          [--only NAME]... [--jobs N] [--timeout SECS] [--keep DIR] [--verbose]
//
// For every script of SPEC_DIR/json (default ../shared/spec from the repo root;
// see its README.md) whose JSON says "actions": true:
//   - copies of json/NAME are made in a temp directory, "orig" and one "slim"
//     per pipeline, each with line 2 of NAME.json dropped (spectest-interp's
//     JSON reader refuses the converter/actions/skipped keys; the spec's
//     replay.sh does the same);
//   - in a "slim" copy, every module the actions run (`module` commands, which
//     includes the ones later `register`ed, and `assert_uninstantiable`, whose
//     start function or segments must still trap) is replaced by
//     `wasmslim IN FLAGS -o OUT` under the same file name; the other files
//     (assert_malformed, assert_invalid, assert_unlinkable) stay as they are;
//   - `spectest-interp --enable-all NAME.json` runs on every copy, as tasks of
//     one pool of --jobs child processes (wasmslim runs share that pool too;
//     the untouched run is made once for all pipelines);
//   - a script passes for a pipeline when both runs complete ("N/M tests
//     passed.") with the same N and M, or with more passing and no assertion line
//     the untouched run did not print (a dropped unused import lets a module
//     instantiate under the interpreter's host); when spectest-interp itself
//     aborts on the rewritten module (an assertion in its interpreter) while the
//     untouched run completes, both copies are replayed under V8 instead
//     (tests/spec/v8-replay.mjs) and must pass the same. A failure prints both counts, the
//     assertion lines only the rewritten run printed, and a command that
//     reproduces it.
// Scripts the untouched copy cannot complete (spectest-interp 1.0.32 aborts on
// return_call) are skipped and counted. The scripts the README lists as failing
// under wabt 1.0.32 itself are still compared by count when the untouched run
// completes (its N is then below M, and the rewritten run must reach the same N).
// If SPEC_DIR is absent it prints a SKIP line and exits 0. One line per
// pipeline, `replay [FLAGS]: N passed, N failed`, then the last line, exactly
// `replay: N passed, N failed` (N = scripts times pipelines); exit status 1 if
// any script failed, 2 on a usage error.
//
// Options:
//   --wasmslim PATH      binary under test (default: $WASMSLIM or build/wasmslim)
//   --pipeline "FLAGS"   wasmslim options, split on spaces (default "-O0");
//                        repeat it to replay several pipelines in one run
//   --only NAME          one script (json/NAME); may be repeated
//   --jobs N             concurrent child processes (default 2)
//   --timeout SECS       kill a child after SECS seconds (default 20; a whole
//                        script takes about a second: a hang is a failure)
//   --keep DIR           keep the copies as DIR/NAME/orig and DIR/NAME/slim
//                        (DIR/NAME/slim1, slim2, ... with several pipelines)
//   --verbose            print every differing line, not just the first few
// Node 18+, no npm dependencies.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SPEC_DIR = path.resolve(ROOT, process.env.SPEC_DIR || '../shared/spec');
const SELF = path.relative(process.cwd(), fileURLToPath(import.meta.url)) || 'replay.mjs';
// Modules the actions execute, replaced by wasmslim's output.
const REWRITTEN_TYPES = new Set(['module', 'assert_uninstantiable']);
// Scripts that fail under spectest-interp 1.0.32 itself (SPEC_DIR/README.md).
const KNOWN_WABT_FAILURES = new Set([
  'binary', 'binary-leb128', 'binary_leb128_64', 'call_indirect', 'data', 'func', 'imports',
  'ref_func', 'return_call', 'return_call_indirect', 'proposals__threads__atomic',
  'proposals__threads__imports', 'proposals__threads__memory',
]);
const COUNT_LINE = /^(\d+)\/(\d+) tests passed\.$/m;
const V8_REPLAY = path.join(path.dirname(fileURLToPath(import.meta.url)), 'v8-replay.mjs');
const DETAIL_LINES = 8;

function usage(msg) {
  if (msg) console.error(`replay: ${msg}`);
  console.error('usage: node tests/spec/replay.mjs [--wasmslim PATH] [--pipeline "FLAGS"]... ' +
    '[--only NAME]... [--jobs N] [--timeout SECS] [--keep DIR] [--verbose]');
  process.exit(2);
}

function parseArgs(argv) {
  const opts = {
    wasmslim: process.env.WASMSLIM || path.join(ROOT, 'build/wasmslim'),
    pipelines: [], jobs: 2, only: [], timeout: 20, keep: null, verbose: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => (i + 1 < argv.length ? argv[++i] : usage(`${a} needs a value`));
    if (a === '--wasmslim') opts.wasmslim = value();
    else if (a === '--pipeline') opts.pipelines.push(value());
    else if (a === '--jobs') opts.jobs = Number(value());
    else if (a === '--only') opts.only.push(value());
    else if (a === '--timeout') opts.timeout = Number(value());
    else if (a === '--keep') opts.keep = value();
    else if (a === '--verbose') opts.verbose = true;
    else if (a === '-h' || a === '--help') usage();
    else usage(`unknown argument ${a}`);
  }
  if (!(Number.isInteger(opts.jobs) && opts.jobs > 0)) usage('--jobs needs a positive integer');
  if (!(opts.timeout > 0)) usage('--timeout needs a positive number');
  opts.wasmslim = path.resolve(opts.wasmslim);
  if (!opts.pipelines.length) opts.pipelines.push('-O0');
  opts.pipelines = opts.pipelines.map((pipeline, i) => ({
    pipeline, flags: pipeline.split(/\s+/).filter(Boolean),
    dir: opts.pipelines.length === 1 ? 'slim' : `slim${i + 1}`,
  }));
  if (opts.keep) opts.keep = path.resolve(opts.keep);
  return opts;
}

// ---- child processes: one pool for every spawn ------------------------------

let TIMEOUT_MS = 20000;
let slots = 2;
const waiting = [];
const live = new Set();

async function acquire() {
  if (slots > 0) { slots--; return; }
  await new Promise((resolve) => waiting.push(resolve));
}

function release() {
  const next = waiting.shift();
  if (next) next(); else slots++;
}

function killGroup(child) {
  try { process.kill(-child.pid, 'SIGKILL'); } catch { /* already gone */ }
}

// run(cmd, args, cwd): spawn in its own process group once a pool slot is free;
// resolves {code, signal, out (stdout + stderr), timedOut}.
async function run(cmd, args, cwd) {
  await acquire();
  try {
    return await new Promise((resolve) => {
      const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      const chunks = [];
      let timedOut = false;
      const timer = setTimeout(() => { timedOut = true; killGroup(child); }, TIMEOUT_MS);
      const done = (r) => { clearTimeout(timer); live.delete(child); resolve({ ...r, timedOut }); };
      live.add(child);
      child.stdout.on('data', (c) => chunks.push(c));
      child.stderr.on('data', (c) => chunks.push(c));
      child.on('error', (err) => done({ code: 127, signal: null, out: String(err) }));
      child.on('close', (code, signal) => done({ code, signal, out: Buffer.concat(chunks).toString() }));
    });
  } finally {
    release();
  }
}

function shellQuote(s) {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

function describeExit(r) {
  if (r.timedOut) return `timed out after ${TIMEOUT_MS / 1000} s`;
  if (r.signal) return `killed by ${r.signal}`;
  return `exit ${r.code}`;
}

function lastLines(s, n) {
  return s.split('\n').filter((l) => l.trim() !== '').slice(-n);
}

// ---- one script -------------------------------------------------------------

function loadScripts(only) {
  const jsonDir = path.join(SPEC_DIR, 'json');
  const names = fs.readdirSync(jsonDir).filter((n) => fs.existsSync(path.join(jsonDir, n, `${n}.json`))).sort();
  for (const n of only) if (!names.includes(n)) usage(`no script ${n} in ${jsonDir}`);
  const scripts = [];
  for (const name of only.length ? names.filter((n) => only.includes(n)) : names) {
    const dir = path.join(jsonDir, name);
    const text = fs.readFileSync(path.join(dir, `${name}.json`), 'utf8');
    const json = JSON.parse(text);
    if (json.actions !== true) {
      if (only.length) usage(`${name} has no actions to replay`);
      continue;
    }
    const lines = text.split('\n');
    if (!/"actions"/.test(lines[1] || '')) throw new Error(`${name}.json: line 2 is not the converter line`);
    lines.splice(1, 1);
    const rewrite = json.commands.filter((c) => REWRITTEN_TYPES.has(c.type) && c.filename
      && /\.wasm$/.test(c.filename) && c.module_type !== 'text').map((c) => c.filename);
    scripts.push({ name, dir, json: lines.join('\n'), rewrite: [...new Set(rewrite)] });
  }
  return scripts;
}

// Hard links where the file system allows (nothing writes into a copied file: the
// rewritten modules replace theirs), else copies.
let canLink = true;
async function linkOrCopy(from, to) {
  if (canLink) {
    try { await fs.promises.link(from, to); return; } catch { canLink = false; }
  }
  await fs.promises.copyFile(from, to);
}

async function copyScript(s, to) {
  await fs.promises.mkdir(to, { recursive: true });
  for (const f of await fs.promises.readdir(s.dir)) {
    if (f === `${s.name}.json`) continue;
    await linkOrCopy(path.join(s.dir, f), path.join(to, f));
  }
  await fs.promises.writeFile(path.join(to, `${s.name}.json`), s.json);
}

// Runs spectest-interp on DIR/NAME.json: {complete, passed, total, out, exit}.
async function interp(s, dir) {
  const r = await run('spectest-interp', ['--enable-all', `${s.name}.json`], dir);
  const m = COUNT_LINE.exec(r.out);
  const out = r.out.split(dir + path.sep).join('');
  if (!m || r.signal || r.timedOut) return { complete: false, out, exit: describeExit(r) };
  return { complete: true, passed: Number(m[1]), total: Number(m[2]), out, exit: describeExit(r) };
}

// Rewrites the modules of the slim copy; returns null or a failure description.
async function rewrite(ctx, p, s, dir) {
  const results = await Promise.all(s.rewrite.map(async (file) => {
    const out = path.join(dir, file);
    await fs.promises.rm(out, { force: true });
    const r = await run(ctx.wasmslim, [path.join(s.dir, file), ...p.flags, '-o', out]);
    if (r.code === 0 && !r.timedOut && fs.existsSync(out)) return null;
    const msg = r.out.split('\n').find((l) => l.trim() !== '') || '';
    return `wasmslim ${describeExit(r)} on ${file}${msg ? `: ${msg}` : ''}`;
  }));
  return results.find((x) => x) || null;
}

function reproCommand(ctx, p, s) {
  const keep = path.join(os.tmpdir(), `replay-${s.name}`);
  const cmd = ['node', SELF, '--wasmslim', ctx.wasmslim, '--pipeline', p.pipeline, '--only', s.name,
    '--keep', keep, '--verbose'].map(shellQuote).join(' ');
  return `${cmd}; (cd ${shellQuote(path.join(keep, s.name, 'slim'))} && spectest-interp --enable-all ${s.name}.json)`;
}

// True when the rewritten run passes more assertions of the same total and prints no
// line the untouched run did not: nothing that passed fails now.  That happens when a
// pass drops an unused import the interpreter's host lacks (wasm-opt does the same), so
// the module instantiates where the untouched one could not.
function morePassOnly(orig, slim) {
  if (slim.total !== orig.total || slim.passed <= orig.passed) return false;
  const lines = (out) => out.split('\n').map(withoutOffsets);
  const seen = new Set(lines(orig.out));
  return lines(slim.out).every((l) => l.trim() === '' || seen.has(l) || COUNT_LINE.test(l));
}

// A line of interpreter output without the byte offsets of its messages ("0000039:"),
// which move when a module shrinks.
function withoutOffsets(line) { return line.replace(/\b[0-9a-f]{7}: /g, ''); }

// Compares one pipeline's run with the untouched one: {status, reason, details, repro}.
function judge(ctx, p, s, orig, slim) {
  const res = { name: s.name, pipeline: p.pipeline, modules: s.rewrite.length, orig,
    known: KNOWN_WABT_FAILURES.has(s.name) };
  if (!orig.complete) {
    res.status = 'skip';
    res.reason = `untouched run does not complete under spectest-interp (${orig.exit}: ` +
      `${lastLines(orig.out, 1)[0] || 'no output'})${res.known ? '' : ' [not in the README list]'}`;
    return res;
  }
  if (slim.error) {
    res.status = 'fail';
    res.reason = slim.error;
  } else if (slim.v8) {
    const { orig: o, slim: v } = slim.v8;
    const same = o.total !== undefined && o.total === v.total && o.passed === v.passed && o.out === v.out;
    res.status = same ? 'pass' : 'fail';
    res.v8 = `spectest-interp crashed on the rewritten module; under V8 ${v.passed}/${v.total} passed, ` +
      `untouched ${o.passed}/${o.total}`;
    if (!same) { res.reason = res.v8; res.details = v.out.split('\n').filter((l) => l.trim() !== ''); }
  } else if (!slim.complete) {
    res.status = 'fail';
    res.reason = `rewritten run does not complete (${slim.exit}); untouched: ${orig.passed}/${orig.total}`;
    res.details = lastLines(slim.out, DETAIL_LINES);
  } else if (morePassOnly(orig, slim)) {
    res.status = 'pass';
    res.more = slim.passed - orig.passed;
  } else if (slim.passed !== orig.passed || slim.total !== orig.total) {
    res.status = 'fail';
    res.reason = `${slim.passed}/${slim.total} passed, untouched ${orig.passed}/${orig.total}`;
    const seen = new Set(orig.out.split('\n'));
    res.details = slim.out.split('\n').filter((l) => l.trim() !== '' && !seen.has(l) && !COUNT_LINE.test(l));
  } else {
    res.status = 'pass';
  }
  if (res.status === 'fail') res.repro = reproCommand(ctx, p, s);
  return res;
}

// One script: the untouched run and one rewritten run per pipeline; a result per pipeline.
async function replayScript(ctx, s) {
  const base = ctx.keep ? path.join(ctx.keep, s.name) : path.join(ctx.tmp, s.name);
  await fs.promises.rm(base, { recursive: true, force: true });
  const origDir = path.join(base, 'orig');
  await Promise.all([origDir, ...ctx.pipelines.map((p) => path.join(base, p.dir))].map((d) => copyScript(s, d)));
  const [orig, ...slims] = await Promise.all([
    interp(s, origDir),
    ...ctx.pipelines.map((p) => {
      const dir = path.join(base, p.dir);
      return rewrite(ctx, p, s, dir).then((err) => (err ? { error: err } : interp(s, dir)));
    }),
  ]);
  await Promise.all(slims.map(async (slim, i) => {
    if (orig.complete && wabtCrashed(slim)) slim.v8 = await v8Pair(s, origDir, path.join(base, ctx.pipelines[i].dir));
  }));
  if (!ctx.keep) await fs.promises.rm(base, { recursive: true, force: true });
  return ctx.pipelines.map((p, i) => judge(ctx, p, s, orig, slims[i]));
}

// True when spectest-interp 1.0.32 died on an assertion of its own interpreter (it
// aborts on some valid code, e.g. a legacy catch in a function with declared locals).
function wabtCrashed(r) {
  return !r.error && !r.complete && /interp\.cc:\d+: .*Assertion/.test(r.out || '');
}

// The untouched and the rewritten copy both replayed under V8 (tests/spec/v8-replay.mjs).
async function v8Pair(s, origDir, slimDir) {
  const once = async (dir) => {
    const r = await run(process.execPath, [V8_REPLAY, dir, `${s.name}.json`]);
    const m = COUNT_LINE.exec(r.out);
    return m ? { passed: Number(m[1]), total: Number(m[2]), out: r.out } : { out: r.out };
  };
  const [orig, slim] = await Promise.all([once(origDir), once(slimDir)]);
  return { orig, slim };
}

// ---- main -------------------------------------------------------------------

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (!fs.existsSync(path.join(SPEC_DIR, 'json'))) {
    console.log(`SKIP: spec testsuite not found at ${SPEC_DIR}`);
    return 0;
  }
  if (!fs.existsSync(opts.wasmslim)) usage(`no wasmslim at ${opts.wasmslim} (run make, or pass --wasmslim)`);
  TIMEOUT_MS = opts.timeout * 1000;
  slots = opts.jobs;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wasmslim-replay-'));
  const cleanup = () => fs.rmSync(tmp, { recursive: true, force: true });
  const stop = (code) => () => { live.forEach(killGroup); cleanup(); process.exit(code); };
  process.on('SIGINT', stop(130));
  process.on('SIGTERM', stop(143));
  const ctx = { ...opts, tmp };
  const started = Date.now();
  const scripts = loadScripts(opts.only);
  const results = new Array(scripts.length);
  // A few more scripts in flight than slots, so the pool never idles on file copies.
  let next = 0;
  const worker = async () => {
    while (next < scripts.length) {
      const i = next++;
      try {
        results[i] = await replayScript(ctx, scripts[i]);
      } catch (err) {
        results[i] = ctx.pipelines.map((p) => ({ name: scripts[i].name, pipeline: p.pipeline, status: 'fail',
          reason: `harness error: ${err && err.stack || err}` }));
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: opts.jobs + 2 }, worker));
  } finally {
    cleanup();
  }

  const all = results.flat();
  for (const r of all.filter((x) => x.status === 'fail')) {
    console.log(`FAIL ${r.name} [${r.pipeline}]: ${r.reason}`);
    const details = r.details || [];
    const shown = opts.verbose ? details : details.slice(0, DETAIL_LINES);
    for (const l of shown) console.log(`    ${l}`);
    if (shown.length < details.length) console.log(`    ... and ${details.length - shown.length} more lines (--verbose)`);
    if (r.repro) console.log(`  repro: ${r.repro}`);
  }
  const first = results.map((r) => r[0]); // per script: the untouched run is the same for all
  const skippedScripts = first.filter((r) => r.status === 'skip');
  for (const r of skippedScripts) console.log(`SKIP ${r.name}: ${r.reason}`);
  const compared = first.filter((r) => r.orig && r.orig.complete);
  const known = compared.filter((r) => r.known).map((r) => r.name);
  const assertions = compared.reduce((n, r) => n + r.orig.passed, 0);
  const modules = first.reduce((n, r) => n + (r.modules || 0), 0);
  console.log(`scripts: ${scripts.length} with actions, ${compared.length} compared, ${modules} modules ` +
    `rewritten per pipeline; ${assertions} assertions pass in the untouched runs`);
  if (known.length) console.log(`compared by count although wabt 1.0.32 fails some of their assertions: ${known.join(', ')}`);
  console.log(`wasmslim: ${opts.wasmslim}`);
  console.log(`time: ${((Date.now() - started) / 1000).toFixed(1)} s, ${opts.jobs} jobs; ` +
    `skipped ${skippedScripts.length} script(s) per pipeline`);
  for (const p of opts.pipelines) {
    const mine = all.filter((r) => r.pipeline === p.pipeline);
    console.log(`replay [${p.pipeline}]: ${mine.filter((r) => r.status === 'pass').length} passed, ` +
      `${mine.filter((r) => r.status === 'fail').length} failed`);
  }
  for (const r of all.filter((x) => x.v8 && x.status === 'pass')) console.log(`note: ${r.name} [${r.pipeline}]: ${r.v8}`);
  for (const r of all.filter((x) => x.more))
    console.log(`note: ${r.name} [${r.pipeline}]: ${r.more} more assertion(s) pass than untouched, none fewer`);
  const passed = all.filter((r) => r.status === 'pass');
  const failed = all.filter((r) => r.status === 'fail');
  console.log(`replay: ${passed.length} passed, ${failed.length} failed`);
  return failed.length ? 1 : 0;
}

main().then((code) => process.exit(code), (err) => {
  console.error(err && err.stack || err);
  process.exit(2);
});
