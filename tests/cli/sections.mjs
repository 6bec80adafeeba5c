// sections.mjs - lists or removes sections of a wasm module, independently of wasmslim.
// Usage: node sections.mjs list FILE            -> one line per section: "ID NAME SIZE"
//        node sections.mjs drop FILE OUT GLOB... -> OUT = FILE without custom sections
//                                                   whose name matches a glob (* and ?)
//        node sections.mjs hash FILE NAME...    -> per NAME, sha256 of the payload of the
//                                                   first section so named ("code", "linking"),
//                                                   or "-" if there is none
import crypto from 'node:crypto';
import fs from 'node:fs';

function uleb(buf, pos) {
  let result = 0, shift = 0, b;
  do { b = buf[pos++]; result += (b & 0x7f) * 2 ** shift; shift += 7; } while (b & 0x80);
  return [result, pos];
}

function sections(buf) {
  const out = [];
  let pos = 8;
  while (pos < buf.length) {
    const start = pos, id = buf[pos++];
    let size; [size, pos] = uleb(buf, pos);
    const payload = pos;
    let name = ['custom', 'type', 'import', 'function', 'table', 'memory', 'global', 'export',
                'start', 'elem', 'code', 'data', 'datacount', 'tag'][id] ?? `id${id}`;
    let body = payload;
    if (id === 0) {
      let n, p; [n, p] = uleb(buf, payload);
      name = buf.subarray(p, p + n).toString('utf8');
      body = p + n;
    }
    pos = payload + size;
    out.push({ id, name, start, body, end: pos });
  }
  return out;
}

const glob = (g) => new RegExp('^' + g.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$', 's');

const [cmd, file, ...rest] = process.argv.slice(2);
const buf = fs.readFileSync(file);
if (cmd === 'list') {
  for (const s of sections(buf)) console.log(`${s.id} ${s.name} ${s.end - s.start}`);
} else if (cmd === 'drop') {
  const [outFile, ...globs] = rest;
  const res = globs.map(glob);
  const parts = [buf.subarray(0, 8)];
  for (const s of sections(buf))
    if (!(s.id === 0 && res.some((r) => r.test(s.name)))) parts.push(buf.subarray(s.start, s.end));
  fs.writeFileSync(outFile, Buffer.concat(parts));
} else if (cmd === 'hash') {
  const all = sections(buf);
  for (const name of rest) {
    const s = all.find((x) => x.name === name);
    console.log(s ? crypto.createHash('sha256').update(buf.subarray(s.body, s.end)).digest('hex') : '-');
  }
} else {
  console.error('usage: node sections.mjs list FILE | drop FILE OUT GLOB... | hash FILE NAME...');
  process.exit(2);
}
