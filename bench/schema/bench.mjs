// bench/schema.sh helper: ns per ajv 8 validation (compiled schema,
// allErrors, document parsed once).  usage: node bench.mjs schema doc n
// Times are the process's CPU time (process.cpuUsage), as bench.c and
// bench.py measure theirs; the best of five rounds.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const Ajv2020 = require('ajv/dist/2020').default;
const [schemaPath, docPath, nStr] = process.argv.slice(2);
const ajv = new Ajv2020({ allErrors: true, strict: false });
const validate = ajv.compile(JSON.parse(readFileSync(schemaPath, 'utf8')));
const doc = JSON.parse(readFileSync(docPath, 'utf8'));
const n = Number(nStr);
if (!validate(doc)) throw new Error(JSON.stringify(validate.errors));
let best = Infinity;
for (let r = 0; r < 5; r++) {
  const t0 = process.cpuUsage();
  for (let i = 0; i < n; i++) validate(doc);
  const u = process.cpuUsage(t0);
  const dt = ((u.user + u.system) * 1000) / n;
  if (dt < best) best = dt;
}
console.log(best.toFixed(0));
