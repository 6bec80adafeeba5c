// wasi-run.mjs - run a WASI command module under node and mirror its result.
//
// Usage: node --no-warnings tests/diff/wasi-run.mjs [OPTIONS] MODULE.wasm [ARGS...]
//
// Instantiates MODULE with node:wasi (version 'preview1', no preopens, empty
// environment, argv[0] = the module's file name), calls its _start export,
// lets the program write straight to this process's stdout/stderr, and exits
// with the program's exit code.
//
// Exit codes:
//   N    the program's exit code (0 when _start returns normally)
//   134  the program trapped (WebAssembly.RuntimeError, or call stack
//        exhaustion); "trap: MESSAGE" is printed on stderr
//   2    the runner itself failed: unreadable file, module that does not
//        compile or link, no _start export ("wasi-run: MESSAGE" on stderr)
//
// The module runs in a worker thread with a large stack (WASI_RUN_STACK_MB,
// default 32): node's main thread only allows ~5k wasm frames at -O0, and the
// fixtures recurse ~10k deep. The program's output does not go through node's
// streams: WASI writes synchronously to file descriptors 1 and 2.
// Needs node >= 18.17 (WASI without a flag, the `version` option).
//
// Options (before MODULE), for modules instrumented by wasmslim's meter pass:
//   --fuel[=N]            set the exported fuel global to N (default 2^62) before
//                         _start; print "wasi-run: fuel-left=V" on stderr at the end
//                         (also after a trap)
//   --fuel-export=NAME    the fuel global's export name (default wasmslim_fuel)
//   --refill=MODULE.NAME  provide that import (--fuel-import): it grants the deficit
//                         it is asked for; prints "wasi-run: refilled=N calls=K"
//   --print-global=NAME   print "wasi-run: NAME=V" for an exported global at the end
//
// Batch mode, for the test runners (one node process for many modules; node's own
// start costs about 0.15 s a process here):
//   node --no-warnings wasi-run.mjs --batch=LIST
// LIST has one line per module, "MODULE<TAB>OUTFILE<TAB>ERRFILE[<TAB>OPTIONS]" (OPTIONS:
// the options above, space-separated, for that module).  Each module runs in a worker
// of its own, in turn, as above; OUTFILE gets what it printed on stdout and a
// last line "exit=N" (N: the exit code above, 124 when it ran longer than
// $DIFF_RUN_TIMEOUT seconds, default 30), in the format of tests/diff/lib.sh's observe;
// ERRFILE its stderr and the runner's messages.
import '../lib/node-wasm.mjs';
import { Worker, isMainThread, workerData } from 'node:worker_threads';
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { basename } from 'node:path';

const TRAP_EXIT = 134;
const RUNNER_EXIT = 2;
const TIMEOUT_EXIT = 124;
const errFd = !isMainThread && workerData.errFd !== undefined ? workerData.errFd : 2;

function say(msg) {
  writeSync(errFd, msg.endsWith('\n') ? msg : msg + '\n');
}

function isTrap(e) {
  return e instanceof WebAssembly.RuntimeError ||
    (e instanceof RangeError && /call stack/i.test(e.message));
}

// Contract: splits the runner's options from MODULE and its arguments.
function parseOptions(argv) {
  const opts = { fuel: null, fuelExport: 'wasmslim_fuel', refill: null, globals: [], batch: null };
  let i = 0;
  for (; i < argv.length && argv[i].startsWith('--'); i++) {
    const a = argv[i];
    if (a === '--fuel') opts.fuel = (1n << 62n).toString();
    else if (a.startsWith('--fuel=')) opts.fuel = a.slice(7);
    else if (a.startsWith('--fuel-export=')) opts.fuelExport = a.slice(14);
    else if (a.startsWith('--refill=')) opts.refill = a.slice(9);
    else if (a.startsWith('--print-global=')) opts.globals.push(a.slice(15));
    else if (a.startsWith('--batch=')) opts.batch = a.slice(8);
    else if (a === '--help') return null;
    else { say(`wasi-run: unknown option ${a}`); process.exit(RUNNER_EXIT); }
  }
  return { opts, rest: argv.slice(i) };
}

// Contract: runs `file` in a worker with the large stack; resolves to its exit code
// (TIMEOUT_EXIT when it ran longer than timeoutMs, if given).  outFd/errFd: where the
// program's stdout and stderr (and the runner's messages) go.
function runInWorker(file, args, opts, outFd, errFd, timeoutMs) {
  const stackMb = Number(process.env.WASI_RUN_STACK_MB || 32);
  return new Promise((resolve) => {
    const worker = new Worker(new URL(import.meta.url), {
      workerData: { file, args, opts, outFd, errFd },
      resourceLimits: { stackSizeMb: stackMb },
      stdin: false,
    });
    let timer = null, timedOut = false, failed = false;
    if (timeoutMs) timer = setTimeout(() => { timedOut = true; worker.terminate(); }, timeoutMs);
    worker.on('error', (e) => {
      // Errors the worker did not classify itself (should not happen).
      writeSync(errFd, `wasi-run: ${e && e.stack ? e.stack : e}\n`);
      failed = true;
    });
    worker.on('exit', (code) => {
      if (timer) clearTimeout(timer);
      resolve(timedOut ? TIMEOUT_EXIT : failed ? RUNNER_EXIT : code);
    });
  });
}

// Contract: --batch: every module of the list, in turn, each with its own files.
async function runBatch(list, opts) {
  const timeoutMs = Number(process.env.DIFF_RUN_TIMEOUT || 30) * 1000;
  for (const line of readFileSync(list, 'utf8').split('\n')) {
    if (!line) continue;
    const [file, outFile, errFile, options] = line.split('\t');
    const outFd = openSync(outFile, 'w'), errFd = openSync(errFile, 'w');
    const own = options ? parseOptions(options.split(' ').filter((o) => o)) : { opts };
    const code = own ? await runInWorker(file, [], own.opts, outFd, errFd, timeoutMs) : RUNNER_EXIT;
    closeSync(outFd);
    closeSync(errFd);
    const out = readFileSync(outFile);
    let tail = '';
    if (out.length && out[out.length - 1] !== 0x0a) tail += '\n\\ no newline at end of output\n';
    const fd = openSync(outFile, 'a');
    writeSync(fd, `${tail}exit=${code}\n`);
    closeSync(fd);
  }
}

if (isMainThread) {
  const parsed = parseOptions(process.argv.slice(2));
  const argv = parsed ? parsed.rest : [];
  if (parsed && parsed.opts.batch) {
    await runBatch(parsed.opts.batch, parsed.opts);
    process.exit(0);
  }
  if (argv.length < 1 || argv[0] === '-h' || argv[0] === '--help') {
    say('usage: node --no-warnings wasi-run.mjs [--fuel[=N]] [--fuel-export=NAME] [--refill=MODULE.NAME] ' +
      '[--print-global=NAME] MODULE.wasm [ARGS...] | --batch=LIST');
    process.exit(RUNNER_EXIT);
  }
  process.exit(await runInWorker(argv[0], argv.slice(1), parsed.opts, 1, 2, 0));
} else {
  // Silence the ExperimentalWarning for WASI in case --no-warnings was not
  // given; it would go to stderr anyway, never to stdout.
  process.removeAllListeners('warning');
  const { WASI } = await import('node:wasi');
  const { file, args, opts } = workerData;
  const refilled = { amount: 0n, calls: 0 };

  // Contract: the metering globals after the run, on stderr.
  function report() {
    const ex = instance ? instance.exports : {};
    if (opts.fuel !== null && ex[opts.fuelExport]) say(`wasi-run: fuel-left=${ex[opts.fuelExport].value}`);
    if (opts.refill) say(`wasi-run: refilled=${refilled.amount} calls=${refilled.calls}`);
    for (const g of opts.globals) if (ex[g]) say(`wasi-run: ${g}=${ex[g].value}`);
  }

  let instance, wasi;
  try {
    const bytes = readFileSync(file);
    wasi = new WASI({
      version: 'preview1',
      args: [basename(file), ...args],
      env: {},
      preopens: {},
      returnOnExit: true,
      stdout: workerData.outFd,
      stderr: workerData.errFd,
    });
    const module = await WebAssembly.compile(bytes);
    const imports = typeof wasi.getImportObject === 'function'
      ? wasi.getImportObject()
      : { wasi_snapshot_preview1: wasi.wasiImport };
    if (opts.refill) {
      const dot = opts.refill.indexOf('.');
      const mod = opts.refill.slice(0, dot), name = opts.refill.slice(dot + 1);
      imports[mod] = Object.assign(imports[mod] || {}, {
        [name]: (deficit) => { refilled.amount += deficit; refilled.calls++; return deficit; },
      });
    }
    instance = await WebAssembly.instantiate(module, imports);
    if (opts.fuel !== null && instance.exports[opts.fuelExport])
      instance.exports[opts.fuelExport].value = BigInt(opts.fuel);
  } catch (e) {
    // A trap in a start function surfaces here too.
    if (isTrap(e)) {
      say(`trap: ${e.message}`);
      process.exit(TRAP_EXIT);
    }
    say(`wasi-run: ${file}: ${e && e.message ? e.message : e}`);
    process.exit(RUNNER_EXIT);
  }

  if (typeof instance.exports._start !== 'function') {
    say(`wasi-run: ${file}: no _start export`);
    process.exit(RUNNER_EXIT);
  }
  let code;
  try {
    code = wasi.start(instance);
  } catch (e) {
    if (isTrap(e)) {
      say(`trap: ${e.message}`);
      report();
      process.exit(TRAP_EXIT);
    }
    say(`wasi-run: ${file}: ${e && e.stack ? e.stack : e}`);
    process.exit(RUNNER_EXIT);
  }
  report();
  process.exit(typeof code === 'number' ? code : 0);
}
