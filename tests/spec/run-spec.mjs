#!/usr/bin/env node
// run-spec.mjs: run wasmslim over the WebAssembly spec testsuite (binary form).
//
// Usage: node tests/spec/run-spec.mjs [--wasmslim PATH] [--pipeline "FLAGS"]
//          [--jobs N] [--only NAME]... [--list-failures FILE] [--timeout SECS]
//
// Reads SPEC_DIR/json/*/*.json (SPEC_DIR defaults to ../shared/spec from the
// repo root; see its README.md for the layout). If SPEC_DIR is absent it
// prints a SKIP line and exits 0. Checks, with `wasmslim IN FLAGS -o OUT`:
//   - every module (`module`, `assert_unlinkable`, `assert_uninstantiable`):
//     wasmslim succeeds; with the pipeline -O0, OUT equals IN byte for byte,
//     or else is strictly smaller and a fixpoint (wasmslim OUT gives OUT
//     again: a non-canonical input shrinks once); OUT passes
//     `wasm-validate --enable-all` whenever IN does (wabt 1.0.32 cannot
//     check GC and the like: those are counted as not checkable; an OUT
//     byte-identical to IN is not validated again);
//   - every binary `assert_malformed`: exit status 1 and a stderr message
//     matching /:0x[0-9a-f]+: error: / (a crash, or status > 1, fails);
//   - every binary `assert_invalid`: only counted, unless CHECK_INVALID=1, in
//     which case it is checked like assert_malformed, except the 8 threads
//     modules that are valid Wasm 3.0 (README), which must be accepted.
// Text (.wat) modules are skipped. Failures are printed per script with a
// command to reproduce them, then a summary table, then the closing line
// `spec: N passed, N failed`; the exit status is 1 if anything failed.
//
// Options:
//   --wasmslim PATH      binary under test (default: $WASMSLIM or build/wasmslim)
//   --pipeline "FLAGS"   wasmslim options (default "-O0")
//   --jobs N             concurrent child processes (default 2)
//   --only NAME          run one script (json/NAME); may be repeated
//   --list-failures FILE write every failure, one per line (tab-separated:
//                        script, line, command type, input, reason)
//   --timeout SECS       kill a child after SECS seconds (default 60)
//   --verbose            print every failure, not just the first few per script
//   --malformed-only     only the assert_malformed (and, with CHECK_INVALID=1,
//                        assert_invalid) binaries: for runs under sanitizers
//   --invalid-unchecked  only the binary assert_invalid modules, through a pipeline
//                        that skips validation (--no-validate in FLAGS): every pass
//                        must still end in exit 0 or a FILE:0xOFFSET: error with
//                        status 1, never a crash, a hang or another status
//   --every N            only every Nth of the selected binaries (the first, then
//                        every Nth after it): a deterministic sample for slow
//                        (sanitizer) builds
// Node 18+, no npm dependencies.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SPEC_DIR = path.resolve(ROOT, process.env.SPEC_DIR || '../shared/spec');
const OFFSET_MSG = /:0x[0-9a-f]+: error: /;
const MODULE_TYPES = new Set(['module', 'assert_unlinkable', 'assert_uninstantiable']);
// proposals/threads predates multi-memory: these assert_invalid modules are
// valid Wasm 3.0 (SPEC_DIR/README.md, "Known oddities").
const VALID_IN_3_0 = new Set([
  'proposals__threads__imports.47.wasm', 'proposals__threads__imports.48.wasm',
  'proposals__threads__imports.49.wasm', 'proposals__threads__imports.73.wasm',
  'proposals__threads__imports.74.wasm', 'proposals__threads__imports.75.wasm',
  'proposals__threads__memory.9.wasm', 'proposals__threads__memory.10.wasm',
]);
const DETAILS_PER_SCRIPT = 10;

function usage(msg) {
  if (msg) console.error(`run-spec: ${msg}`);
  console.error('usage: node tests/spec/run-spec.mjs [--wasmslim PATH] [--pipeline "FLAGS"] ' +
    '[--jobs N] [--only NAME]... [--list-failures FILE] [--timeout SECS] [--verbose]');
  process.exit(2);
}

function die(msg) {
  console.error(`run-spec: ${msg}`);
  process.exit(2);
}

function parseArgs(argv) {
  const opts = {
    wasmslim: process.env.WASMSLIM || path.join(ROOT, 'build/wasmslim'),
    pipeline: '-O0', jobs: 2, only: [], listFailures: null, timeout: 60, verbose: false,
    malformedOnly: false, invalidUnchecked: false, every: 1,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => (i + 1 < argv.length ? argv[++i] : usage(`${a} needs a value`));
    if (a === '--wasmslim') opts.wasmslim = value();
    else if (a === '--pipeline') opts.pipeline = value();
    else if (a === '--jobs') opts.jobs = Number(value());
    else if (a === '--only') opts.only.push(value());
    else if (a === '--list-failures') opts.listFailures = value();
    else if (a === '--timeout') opts.timeout = Number(value());
    else if (a === '--verbose') opts.verbose = true;
    else if (a === '--malformed-only') opts.malformedOnly = true;
    else if (a === '--invalid-unchecked') opts.invalidUnchecked = true;
    else if (a === '--every') opts.every = Number(value());
    else if (a === '-h' || a === '--help') usage();
    else usage(`unknown argument ${a}`);
  }
  if (!(Number.isInteger(opts.jobs) && opts.jobs > 0)) usage('--jobs needs a positive integer');
  if (!(opts.timeout > 0)) usage('--timeout needs a positive number');
  if (!(Number.isInteger(opts.every) && opts.every > 0)) usage('--every needs a positive integer');
  opts.wasmslim = path.resolve(opts.wasmslim);
  opts.flags = opts.pipeline.split(/\s+/).filter(Boolean);
  opts.identity = opts.flags.length === 1 && opts.flags[0] === '-O0';
  opts.checkInvalid = process.env.CHECK_INVALID === '1' || opts.invalidUnchecked;
  if (opts.invalidUnchecked && !opts.flags.includes('--no-validate')) usage('--invalid-unchecked needs --no-validate in --pipeline');
  return opts;
}

// ---- child processes -------------------------------------------------------

let TIMEOUT_MS = 60000;
const live = new Set(); // children running, each the leader of its own process group

function killGroup(child) {
  try { process.kill(-child.pid, 'SIGKILL'); } catch { /* already gone */ }
}

// run(cmd, args): spawn without a shell, in a new process group (so that a
// timeout also kills what a wrapper script started); resolves
// {code, signal, stderr, timedOut}.
function run(cmd, args) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    const chunks = [];
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; killGroup(child); }, TIMEOUT_MS);
    const done = (r) => { clearTimeout(timer); live.delete(child); resolve({ ...r, timedOut }); };
    live.add(child);
    child.stderr.on('data', (c) => chunks.push(c));
    child.on('error', (err) => done({ code: 127, signal: null, stderr: String(err) }));
    child.on('close', (code, signal) => done({ code, signal, stderr: Buffer.concat(chunks).toString() }));
  });
}

function shellQuote(s) {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

function commandLine(cmd, args) {
  return [cmd, ...args].map(shellQuote).join(' ');
}

function describeExit(r) {
  if (r.timedOut) return `timed out after ${TIMEOUT_MS / 1000} s`;
  if (r.signal) return `killed by ${r.signal}`;
  return `exit ${r.code}`;
}

// "exit 3: first line of stderr" (or just "exit 3").
function describe(r) {
  const line = firstLine(r.stderr);
  return line ? `${describeExit(r)}: ${line}` : describeExit(r);
}

function firstLine(s) {
  const line = s.split('\n').find((l) => l.trim() !== '') || '';
  return line.length > 200 ? `${line.slice(0, 200)}...` : line;
}

// ---- the checks ------------------------------------------------------------

// Each check returns {status: 'pass'|'fail'|'skip', kind, reason?, repro?}.

function slim(ctx, input, output) {
  const args = [input, ...ctx.flags, '-o', output];
  return { args, repro: commandLine(ctx.wasmslim, [input, ...ctx.flags, '-o', 'out.wasm']) };
}

async function validates(file) {
  const r = await run('wasm-validate', ['--enable-all', file]);
  return r.code === 0;
}

// Byte identity for -O0: identical, or smaller and a fixpoint.
async function checkIdentity(ctx, input, output, repro) {
  const [a, b] = await Promise.all([fs.promises.readFile(input), fs.promises.readFile(output)]);
  if (a.equals(b)) return { kind: 'identical' };
  if (b.length >= a.length) {
    return { fail: `output differs from input (${b.length} bytes vs ${a.length})`,
      repro: `${repro} && cmp ${shellQuote(input)} out.wasm` };
  }
  const again = `${output}.2`;
  const r = await run(ctx.wasmslim, [output, ...ctx.flags, '-o', again]);
  const c = r.code === 0 ? await fs.promises.readFile(again) : null;
  await fs.promises.rm(again, { force: true });
  if (c && c.equals(b)) return { kind: 'shrunk-fixpoint' };
  const how = c ? `second pass changed it again (${b.length} -> ${c.length} bytes)`
    : `second pass failed (${describeExit(r)})`;
  return { fail: `output shrank (${a.length} -> ${b.length} bytes) but is not a fixpoint: ${how}`,
    repro: `${repro} && ${commandLine(ctx.wasmslim, ['out.wasm', ...ctx.flags, '-o', 'out2.wasm'])} && cmp out.wasm out2.wasm` };
}

async function checkModule(ctx, input, output) {
  const { args, repro } = slim(ctx, input, output);
  const r = await run(ctx.wasmslim, args);
  if (r.code !== 0 || r.timedOut) {
    return { status: 'fail', kind: 'rejected', reason: describe(r), repro };
  }
  let kind = 'ok';
  if (ctx.identity) {
    const id = await checkIdentity(ctx, input, output, repro);
    if (id.fail) return { status: 'fail', kind: 'changed', reason: id.fail, repro: id.repro };
    kind = id.kind;
    // the input's own bytes: as valid as the input (wasm-validate would say the same)
    if (kind === 'identical') return { status: 'pass', kind, validation: 'same bytes as the input' };
  }
  if (await validates(output)) return { status: 'pass', kind, validation: 'ok' };
  if (!(await validates(input))) return { status: 'pass', kind, validation: 'not checkable' };
  return { status: 'fail', kind: 'output invalid', validation: 'fail',
    reason: 'output fails wasm-validate --enable-all (input passes)',
    repro: `${repro} && wasm-validate --enable-all out.wasm` };
}

// The input must be rejected with status 1 and an offset message.
async function checkRejected(ctx, input, output) {
  const { args, repro } = slim(ctx, input, output);
  const r = await run(ctx.wasmslim, args);
  if (r.timedOut || r.signal || r.code > 1) {
    return { status: 'fail', kind: 'crashed', reason: describe(r), repro };
  }
  if (r.code === 0) return { status: 'fail', kind: 'accepted', reason: 'accepted (exit 0)', repro };
  if (!OFFSET_MSG.test(r.stderr)) {
    return { status: 'fail', kind: 'bad message',
      reason: `no FILE:0xOFFSET: error: message: ${firstLine(r.stderr) || '(empty stderr)'}`, repro };
  }
  return { status: 'pass', kind: 'rejected' };
}

// Valid Wasm 3.0 module listed as assert_invalid in old proposal tests.
async function checkAccepted(ctx, input, output) {
  const { args, repro } = slim(ctx, input, output);
  const r = await run(ctx.wasmslim, args);
  if (r.code === 0) return { status: 'pass', kind: 'accepted (valid in 3.0)' };
  return { status: 'fail', kind: 'rejected (valid in 3.0)',
    reason: `valid Wasm 3.0 module rejected: ${describe(r)}`, repro };
}

// An invalid module through passes that were told not to validate: any outcome but a
// crash is acceptable (the passes assume validity; they may reject or transform).
async function checkSurvived(ctx, input, output) {
  const { args, repro } = slim(ctx, input, output);
  const r = await run(ctx.wasmslim, args);
  if (r.timedOut || r.signal || r.code > 1) {
    return { status: 'fail', kind: 'crashed', reason: describe(r), repro };
  }
  if (r.code === 1 && !OFFSET_MSG.test(r.stderr)) {
    return { status: 'fail', kind: 'bad message',
      reason: `no FILE:0xOFFSET: error: message: ${firstLine(r.stderr) || '(empty stderr)'}`, repro };
  }
  return { status: 'pass', kind: r.code === 0 ? 'transformed' : 'rejected' };
}

// ---- collecting the work ---------------------------------------------------

function category(cmd) {
  if (cmd.module_type === 'text' || /\.wat$/.test(cmd.filename)) return 'text (skipped)';
  if (MODULE_TYPES.has(cmd.type)) return 'module';
  if (cmd.type === 'assert_malformed') return 'assert_malformed';
  if (cmd.type === 'assert_invalid') return 'assert_invalid';
  return null;
}

function loadScripts(only) {
  const jsonDir = path.join(SPEC_DIR, 'json');
  const names = fs.readdirSync(jsonDir).filter((n) => fs.existsSync(path.join(jsonDir, n, `${n}.json`))).sort();
  for (const n of only) if (!names.includes(n)) usage(`no script ${n} in ${jsonDir}`);
  return (only.length ? names.filter((n) => only.includes(n)) : names).map((name) => {
    const dir = path.join(jsonDir, name);
    const json = JSON.parse(fs.readFileSync(path.join(dir, `${name}.json`), 'utf8'));
    return { name, dir, source: json.source_filename, commands: json.commands.filter((c) => c.filename) };
  });
}

function makeTasks(scripts, ctx) {
  const tasks = [];
  for (const s of scripts) {
    for (const cmd of s.commands) {
      const cat = category(cmd);
      if (!cat) continue;
      const input = path.join(s.dir, cmd.filename);
      const output = path.join(ctx.tmp, `${cmd.filename}.out.wasm`);
      const base = { script: s.name, source: s.source, line: cmd.line, type: cmd.type, input, category: cat };
      let check = null;
      if (cat === 'module' && ctx.malformedOnly) continue;
      if (ctx.invalidUnchecked && cat !== 'assert_invalid') continue;
      if (ctx.invalidUnchecked) check = checkSurvived;
      else if (cat === 'module') check = checkModule;
      else if (cat === 'assert_malformed') check = checkRejected;
      else if (cat === 'assert_invalid' && ctx.checkInvalid) {
        check = VALID_IN_3_0.has(cmd.filename) ? checkAccepted : checkRejected;
      }
      tasks.push({ ...base, run: check && (() => check(ctx, input, output)), output });
    }
  }
  return tasks;
}

function skipResult(task) {
  if (task.category === 'assert_invalid') return { status: 'skip', kind: 'not checked yet' };
  return { status: 'skip', kind: 'skipped' };
}

// Run the tasks with `jobs` workers; each worker runs one task at a time.
async function runPool(tasks, jobs) {
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const t = tasks[next++];
      if (!t.run) { t.result = skipResult(t); continue; }
      try {
        t.result = await t.run();
      } catch (err) {
        t.result = { status: 'fail', kind: 'harness error', reason: String(err && err.stack || err) };
      }
      await fs.promises.rm(t.output, { force: true });
    }
  };
  await Promise.all(Array.from({ length: jobs }, worker));
}

// ---- reporting -------------------------------------------------------------

function printFailures(tasks, verbose) {
  const byScript = new Map();
  for (const t of tasks) {
    if (t.result.status !== 'fail') continue;
    if (!byScript.has(t.script)) byScript.set(t.script, []);
    byScript.get(t.script).push(t);
  }
  for (const [script, fails] of byScript) {
    const total = tasks.filter((t) => t.script === script && t.result.status !== 'skip').length;
    console.log(`FAIL ${script}: ${fails.length} of ${total} failed`);
    const shown = verbose ? fails : fails.slice(0, DETAILS_PER_SCRIPT);
    for (const t of shown) {
      console.log(`  ${t.source}:${t.line} ${t.type} ${path.basename(t.input)}: ${t.result.reason}`);
      if (t.result.repro) console.log(`    $ ${t.result.repro}`);
    }
    if (shown.length < fails.length) {
      console.log(`  ... and ${fails.length - shown.length} more (--verbose or --list-failures FILE)`);
    }
  }
  return byScript.size;
}

function countBy(list, key) {
  const m = new Map();
  for (const x of list) m.set(key(x), (m.get(key(x)) || 0) + 1);
  return [...m].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ');
}

function summaryRow(name, tasks) {
  const res = tasks.map((t) => t.result);
  const n = (s) => res.filter((r) => r.status === s).length;
  return `| ${name} | ${tasks.length} | ${n('pass')} | ${n('fail')} | ${n('skip')} | ${countBy(res, (r) => r.kind) || '-'} |`;
}

function printSummary(tasks, ctx) {
  const of = (cat) => tasks.filter((t) => t.category === cat);
  const modules = of('module');
  const checked = modules.filter((t) => t.result.validation);
  console.log('');
  console.log(`| category | total | passed | failed | skipped | detail |`);
  console.log(`| --- | ---: | ---: | ---: | ---: | --- |`);
  console.log(summaryRow(`module (${ctx.identity ? '-O0 round trip' : ctx.pipeline})`, modules));
  console.log(`| ... output validation (wabt) | ${checked.length} | | | | ${countBy(checked, (t) => t.result.validation) || '-'} |`);
  console.log(summaryRow('assert_malformed (binary)', of('assert_malformed')));
  const invalid = of('assert_invalid');
  console.log(summaryRow(ctx.checkInvalid ? 'assert_invalid (binary)'
    : 'assert_invalid (binary; CHECK_INVALID=1 to check)', invalid));
  console.log(summaryRow('text modules', of('text (skipped)')));
  if (!ctx.checkInvalid) console.log(`\ninvalid: ${invalid.length} not checked yet`);
  console.log(`wasmslim: ${ctx.wasmslim} ${ctx.pipeline}`);
}

function writeFailureList(file, tasks) {
  const lines = tasks.filter((t) => t.result.status === 'fail').map((t) =>
    [t.script, t.line, t.type, t.input, t.result.reason.replace(/[\t\n]/g, ' ')].join('\t'));
  fs.writeFileSync(file, lines.map((l) => `${l}\n`).join(''));
}

// ---- main ------------------------------------------------------------------

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (!fs.existsSync(path.join(SPEC_DIR, 'json'))) {
    console.log(`SKIP: spec testsuite not found at ${SPEC_DIR}`);
    return 0;
  }
  if (!fs.existsSync(opts.wasmslim)) die(`no wasmslim at ${opts.wasmslim} (run make, or pass --wasmslim)`);
  TIMEOUT_MS = opts.timeout * 1000;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wasmslim-spec-'));
  const cleanup = () => fs.rmSync(tmp, { recursive: true, force: true });
  const stop = (code) => () => { live.forEach(killGroup); cleanup(); process.exit(code); };
  process.on('SIGINT', stop(130));
  process.on('SIGTERM', stop(143));
  const ctx = { ...opts, tmp };
  const started = Date.now();
  let tasks;
  try {
    tasks = makeTasks(loadScripts(opts.only), ctx).filter((t, i) => i % opts.every === 0);
    await runPool(tasks, opts.jobs);
  } finally {
    cleanup();
  }
  printFailures(tasks, opts.verbose);
  printSummary(tasks, ctx);
  if (opts.listFailures) writeFailureList(opts.listFailures, tasks);
  const passed = tasks.filter((t) => t.result.status === 'pass').length;
  const failed = tasks.filter((t) => t.result.status === 'fail').length;
  console.log(`time: ${((Date.now() - started) / 1000).toFixed(1)} s, ${opts.jobs} jobs`);
  console.log(`spec: ${passed} passed, ${failed} failed`);
  return failed ? 1 : 0;
}

main().then((code) => process.exit(code), (err) => {
  console.error(err && err.stack || err);
  process.exit(2);
});
