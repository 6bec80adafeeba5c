// wasm-metering.cjs - instrument a module with npm's wasm-metering (the reference
// meter of issue 9's bench): node wasm-metering.cjs NODE_MODULES IN OUT.
// Exits 1 (and prints why) when it cannot instrument IN.
const fs = require('fs');
const path = require('path');
const [modules, input, output] = process.argv.slice(2);
const metering = require(path.join(modules, 'wasm-metering'));
try {
  fs.writeFileSync(output, metering.meterWASM(fs.readFileSync(input), { meterType: 'i64' }));
} catch (e) {
  console.error(`wasm-metering: ${input}: ${String(e).slice(0, 200)}`);
  process.exit(1);
}
