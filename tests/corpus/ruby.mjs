// ruby.mjs WASM [FUEL]: runs a Ruby script (recursion, hashes, blocks, bignums,
// exceptions, structs, fibers, the GC, the json library when the module packs the
// standard library) in ruby.wasm, a WASI reactor with a
// canonical-ABI interface (ruby-init, rb-eval-string-protect, rstring-ptr); prints
// what the script prints, then its result.  The run is made deterministic (fixed random
// bytes, a clock that advances 1 ms per reading, fixed times for the standard streams)
// so that every variant of the module executes the same code.  For a metered module
// (an exported wasmslim_fuel) the fuel is set to FUEL (default 2^62) first, and stderr
// gets "fuel spent N", or "out of fuel, N left" when the run traps with the fuel below
// zero.  Run by tests/corpus/run.sh.
import fs from 'node:fs';
import { WASI } from 'node:wasi';
const script = `$stdout.sync = true
def fib(n) = n < 2 ? n : fib(n - 1) + fib(n - 2)
puts fib(22)
h = Hash.new(0); "the quick brown fox jumps over the lazy dog".each_char { |c| h[c] += 1 }
p h.sort_by { |k, v| [-v, k] }.first(5)
puts (1..20).map { |i| i * i }.select(&:even?).sum
puts [3, 1, 2].sort.inspect, "%.5f" % Math.sqrt(2), 2**100, "abc".succ
begin; raise ArgumentError, "boom"; rescue => e; puts e.class, e.message; end
S = Struct.new(:a, :b); puts S.new(1, "two").inspect
puts [1, [2, [3, nil]]].flatten.compact.inspect
a = (1..2000).map { |i| (i * 7919) % 1009 }; puts a.sort.uniq.size, a.max, a.sum
fib = Fiber.new { x = 0; loop { Fiber.yield x; x += 1 } }; puts 3.times.map { fib.resume }.inspect
GC.start; puts ObjectSpace.count_objects.key?(:TOTAL)
begin; require "json"; puts JSON.generate({ "a" => [1, 2.5, nil], "b" => JSON.parse('{"x": "y"}') }); rescue LoadError; puts "no json"; end
"done"
`;
const wasi = new WASI({ version: 'preview1', args: ['ruby'], env: {}, preopens: {}, returnOnExit: true });
const mod = new WebAssembly.Module(fs.readFileSync(process.argv[2]));
const imports = wasi.getImportObject();
/* a deterministic run (so that every variant executes the same instructions): fixed
 * random bytes, a clock that advances 1 ms per reading */
const w = imports.wasi_snapshot_preview1;
let memRef = null, clock = 1700000000000000000n;
w.random_get = (p, n) => { new Uint8Array(memRef.buffer, p, n).fill(7); return 0; };
w.clock_time_get = (id, prec, p) => { clock += 1000000n; new DataView(memRef.buffer).setBigUint64(p, clock, true); return 0; };
const filestat = w.fd_filestat_get; /* the standard streams' times vary from run to run */
w.fd_filestat_get = (fd, p) => {
  if (fd > 2) return filestat(fd, p);
  new Uint8Array(memRef.buffer, p, 64).fill(0);
  new DataView(memRef.buffer).setUint8(p + 16, 2); /* character device */
  return 0;
};
const handles = [null];
imports.canonical_abi = {
  'resource_new_rb-abi-value': (p) => handles.push(p) - 1,
  'resource_get_rb-abi-value': (h) => handles[h],
  'resource_drop_js-abi-value': () => {},
};
for (const i of WebAssembly.Module.imports(mod)) {
  imports[i.module] ||= {};
  if (i.kind === 'function' && !(i.name in imports[i.module]))
    imports[i.module][i.name] = () => { throw new Error('stub ' + i.name); };
}
const inst = new WebAssembly.Instance(mod, imports);
const ex = inst.exports;
memRef = ex.memory;
const BIG = process.argv[3] ? BigInt(process.argv[3]) : 1n << 62n;
if (ex.wasmslim_fuel) ex.wasmslim_fuel.value = BIG;
process.on('uncaughtException', (e) => {
  const left = ex.wasmslim_fuel ? ex.wasmslim_fuel.value : 0n;
  if (e instanceof WebAssembly.RuntimeError && left < 0n) console.error(`out of fuel, ${left} left`);
  else console.error(`failed: ${e}`);
  process.exit(1);
});
wasi.initialize(inst);
const find = (prefix) => ex[Object.keys(ex).find((k) => k.startsWith(prefix))];
const mem = () => new DataView(ex.memory.buffer);
const enc = new TextEncoder();
function str(s) {
  const b = enc.encode(s), p = ex.cabi_realloc(0, 0, 1, b.length + 1); /* NUL-terminated: ruby keeps argv */
  new Uint8Array(ex.memory.buffer, p, b.length + 1).set([...b, 0]);
  return [p, b.length];
}
const args = ['ruby', '--disable-gems', '-e', '0'].map(str);
const list = ex.cabi_realloc(0, 0, 4, 8 * args.length);
args.forEach(([p, n], i) => { mem().setInt32(list + 8 * i, p, true); mem().setInt32(list + 8 * i + 4, n, true); });
find('ruby-init:')(list, args.length);
find('ruby-init-loadpath:')(); /* the standard library, when the module packs one */
const ret = find('rb-eval-string-protect:')(...str(script));
const state = mem().getInt32(ret + 4, true), value = mem().getInt32(ret, true);
const sret = find('rstring-ptr:')(value);
const text = new TextDecoder().decode(new Uint8Array(ex.memory.buffer, mem().getInt32(sret, true), mem().getInt32(sret + 4, true)));
console.log(`state ${state} result ${text}`);
if (ex.wasmslim_fuel) console.error(`fuel spent ${BIG - ex.wasmslim_fuel.value}`);
