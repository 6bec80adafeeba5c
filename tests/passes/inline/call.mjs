// call.mjs - calls exports of a module and prints what they return (or throw), one line
// per call, for comparing a module before and after inlining (tests/unit/test_inline.c).
// Usage: node call.mjs MODULE.wasm NAME:ARG,ARG... ...   (ARGs are integers)
import '../../lib/node-wasm.mjs';
import fs from 'node:fs';

const [file, ...calls] = process.argv.slice(2);
const { instance } = await WebAssembly.instantiate(fs.readFileSync(file), {});
for (const call of calls) {
    const [name, list] = call.split(':');
    const args = list ? list.split(',').map(Number) : [];
    let out;
    try {
        const r = instance.exports[name](...args);
        out = JSON.stringify(r, (k, v) => (typeof v === 'bigint' ? `${v}n` : v));
    } catch (e) {
        out = e instanceof WebAssembly.Exception ? 'wasm exception' : `trap ${e.message}`;
    }
    console.log(`${name}(${args.join(',')}) = ${out}`);
}
