// node-wasm.mjs: imported first by every test script that compiles WebAssembly.  Node 20
// ships tail calls; Debian 12's node 18 keeps them behind a V8 flag, set here before any
// module is compiled (newer nodes are left alone: the flag may be gone there).
import v8 from 'node:v8';

if (Number(process.versions.node.split('.')[0]) < 20) v8.setFlagsFromString('--experimental-wasm-return_call');
