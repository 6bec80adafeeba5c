// as-run.mjs MODULE GLUE [--fuel=INIT]: runs an AssemblyScript program (asc's raw
// bindings GLUE, an ES module) on MODULE and prints run(n) for a few n.  With
// --fuel=INIT (the --fuel-init it was metered with) it also prints "fuel spent N" to
// stderr: INIT less the wasmslim_fuel export at the end.
import fs from 'node:fs';
import path from 'node:path';
const [wasm, glue, flag] = process.argv.slice(2);
const { instantiate } = await import(path.resolve(glue));
const ex = await instantiate(new WebAssembly.Module(fs.readFileSync(wasm)), {});
for (const n of [10, 200, 2000]) console.log(ex.run(n));
if (flag && flag.startsWith('--fuel=')) {
  const g = ex.wasmslim_fuel; // the raw exports are the glue's prototype
  process.stderr.write(g ? `fuel spent ${BigInt(flag.slice(7)) - g.value}\n` : 'as-run: no wasmslim_fuel export\n');
}
