// sql.cjs GLUE WASM: a SQL workload on sql.js (its Emscripten glue GLUE, the module WASM):
// tables, an index, inserts, grouping, joins, a recursive CTE, string, JSON and printf
// functions, an update, a delete and an error; prints every result set, one per line.
// Run by tests/corpus/run.sh on the original module and on what wasmslim made of it.
const fs = require('fs');
const initSqlJs = require(process.argv[2]);
const wasmBinary = fs.readFileSync(process.argv[3]);
initSqlJs({ wasmBinary }).then((SQL) => {
  const db = new SQL.Database();
  const out = [];
  const q = (s) => { for (const r of db.exec(s)) out.push(JSON.stringify(r.values)); };
  db.run('CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, v REAL, g INTEGER)');
  db.run('CREATE INDEX tg ON t(g)');
  const ins = db.prepare('INSERT INTO t (name, v, g) VALUES (?, ?, ?)');
  for (let i = 0; i < 5000; i++) ins.run(['n' + ((i * 7919) % 1000), Math.sin(i) * 100, i % 17]);
  ins.free();
  q('SELECT g, count(*), round(sum(v), 6), min(name), max(name) FROM t GROUP BY g ORDER BY g');
  q("SELECT upper(name), length(name), substr(name, 2, 2), replace(name, 'n', 'x') FROM t WHERE id % 997 = 0");
  q('WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 200) SELECT sum(x * x), avg(x) FROM c');
  q('SELECT a.g, b.g, count(*) FROM t a JOIN t b ON a.id = b.id + 1 WHERE a.g < 3 GROUP BY a.g, b.g ORDER BY 1, 2');
  q("SELECT json_object('a', 1, 'b', json_array(1, 2, 'x')), printf('%08.3f|%x|%s', 3.14159, 255, 'hi')");
  q('SELECT name, v FROM t ORDER BY v DESC, id LIMIT 5');
  db.run('UPDATE t SET v = v * 2 WHERE g = 5');
  db.run('DELETE FROM t WHERE g = 7');
  q('SELECT count(*), round(total(v), 6) FROM t');
  try { db.exec('SELECT * FROM missing'); } catch (e) { out.push('error: ' + e.message); }
  q("SELECT quote('it''s'), typeof(1.5), 10 / 3, 10.0 / 3, -7 % 3, cast('12abc' AS INTEGER)");
  db.close();
  console.log(out.join('\n'));
}).catch((e) => { console.log(`failed: ${e}`); process.exit(1); });
