// emrun.cjs GLUE [--fuel=INIT]: runs an Emscripten program under node through its own
// JavaScript glue (GLUE.js beside GLUE.wasm).  With --fuel=INIT (the --fuel-init the
// module was metered with) it also prints "fuel spent N" to stderr when the process
// exits: INIT less the main thread's wasmslim_fuel.
// Node's fetch is turned off by the caller (--no-experimental-fetch): the glue of
// emscripten 3.1.6 would try to fetch the .wasm by path.
'use strict';
const path = require('path');
const glue = path.resolve(process.argv[2]);
const flag = process.argv.find((a) => a.startsWith('--fuel='));
const init = flag ? BigInt(flag.slice(7)) : null;
// The glue exports its Module object (module.exports) and sets Module.asm to the
// instance's exports; it runs main() on its own.
process.argv.length = 2; // main() gets no arguments of ours
const mod = require(glue);
process.on('exit', () => {
  if (init === null) return;
  const g = mod.asm && mod.asm.wasmslim_fuel;
  process.stderr.write(g ? `fuel spent ${init - g.value}\n` : 'emrun: no wasmslim_fuel export\n');
});
