// GET /openapi.json: the document scripts/mkopenapi generates at build
// time, served by the api program.  Redocly's linter (tests/openapi,
// recommended rules) finds nothing wrong with it; it is what the generator
// writes from the route tables as the programs print them now; and every
// route of every program (each binary's -r dump, never a list kept here)
// is in it with its method, auth, body types and request schema.
import test from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUILD, TOP, getJSON } from './lib.mjs';

// The FastCGI programs: echo is the test responder, not part of relais.
const programs = (process.env.RELAIS_TEST_PROGRAMS || '').split(/\s+/).filter(Boolean)
    .map((s) => { const i = s.indexOf(':'); return { name: s.slice(0, i), bin: s.slice(i + 1) }; })
    .filter((p) => p.name !== 'echo');

const template = (pattern) => pattern.replace(/<(?:[a-z]+:)?([^>]+)>/g, '{$1}');
const MEDIA = { JSON: 'application/json', FORM: 'application/x-www-form-urlencoded',
	MULTIPART: 'multipart/form-data' };

let served;
async function doc() {
	if (served === undefined) {
		const r = await getJSON('/openapi.json');
		assert.equal(r.status, 200, JSON.stringify(r.body).slice(0, 300));
		assert.match(r.headers.get('content-type'), /^application\/json/);
		assert.match(r.headers.get('x-request-id') ?? '', /^[0-9a-f]{32}$/);
		served = r.body;
	}
	return served;
}

test('the served document passes Redocly\'s recommended rules', async (t) => {
	const d = await doc();
	assert.match(d.openapi, /^3\.1\./);
	const redocly = join(TOP, 'tests', 'openapi', 'node_modules', '.bin', 'redocly');
	assert.ok(existsSync(redocly), `${redocly} missing: npm ci --prefix tests/openapi`);
	const dir = mkdtempSync(join(tmpdir(), 'relais-openapi-'));
	try {
		const file = join(dir, 'openapi.json');
		writeFileSync(file, JSON.stringify(d));
		const r = spawnSync(redocly, ['lint', '--config', join(TOP, 'tests', 'openapi', 'redocly.yaml'),
		    '--format=json', file], { encoding: 'utf8', maxBuffer: 64 << 20, env: { ...process.env,
		    NO_COLOR: '1', REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' } });
		let report;
		try { report = JSON.parse(r.stdout); } catch { assert.fail(`no JSON report: ${r.stdout}${r.stderr}`.slice(-3000)); }
		const where = (p) => `${p.ruleId} at ${p.location?.[0]?.pointer}: ${p.message}`;
		// What the generator writes (paths, operations, security, the
		// components it makes) must be clean.  A warning inside a schema
		// of lib/schemas is that schema's own, said here for its author.
		const fromSchemas = (p) => p.severity !== 'error' && (p.location ?? []).every((l) =>
		    /^#\/components\/schemas\/(resp-|[a-z_]+\.)[^/]*\//.test(l.pointer ?? ''));
		const mine = report.problems.filter((p) => !fromSchemas(p));
		for (const p of report.problems.filter(fromSchemas))
			t.diagnostic(`lib/schemas: ${where(p)}`);
		assert.deepEqual(mine.map(where), []);
		assert.equal(report.totals.errors, 0);
		assert.equal(r.status, 0, r.stderr.slice(-2000));
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
});

test('the served document is what scripts/mkopenapi writes from the programs now', async () => {
	const d = await doc();
	const fresh = JSON.parse(execFileSync('python3', [join(TOP, 'scripts', 'mkopenapi'), BUILD],
	    { encoding: 'utf8', maxBuffer: 64 << 20 }));
	assert.deepEqual(d, fresh);
});

test('every route of every program is in it: method, auth, body types, schemas, errors', async () => {
	const d = await doc();
	assert.ok(programs.length >= 2, 'RELAIS_TEST_PROGRAMS lists the programs');
	const problems = [];
	const seen = new Set();
	let n = 0;
	for (const p of programs) {
		const routes = JSON.parse(execFileSync(p.bin, ['-r'], { encoding: 'utf8' }));
		assert.ok(routes.length > 0, p.name);
		for (const r of routes) {
			n++;
			const path = template(r.pattern);
			const what = `${p.name} ${r.method} ${r.pattern}`;
			const op = d.paths[path]?.[r.method.toLowerCase()];
			seen.add(`${r.method.toLowerCase()} ${path}`);
			if (op === undefined) {
				problems.push(`${what}: not in the document`);
				continue;
			}
			if (op['x-relais-program'] !== p.name)
				problems.push(`${what}: program ${op['x-relais-program']}`);
			if (op['x-relais-undocumented'])
				problems.push(`${what}: ${op['x-relais-undocumented']}`);
			assert.deepEqual([...op['x-relais-flags']].sort(), [...r.flags].sort(), what);
			const auth = r.flags.some((f) => ['AUTH', 'ADMIN', 'COORDO'].includes(f));
			const schemes = op.security.flatMap((s) => Object.keys(s));
			if (auth && !(schemes.includes('bearer') && schemes.includes('session')))
				problems.push(`${what}: signed-in route without its security`);
			if (!auth && JSON.stringify(op.security) !== '[{}]')
				problems.push(`${what}: public route with security ${JSON.stringify(op.security)}`);
			if (auth && !op.responses['401'])
				problems.push(`${what}: no 401`);
			if (r.flags.includes('ADMIN') !== (op['x-relais-roles']?.join() === 'admin'))
				problems.push(`${what}: roles ${op['x-relais-roles']}`);
			const want = Object.entries(MEDIA).filter(([f]) => r.flags.includes(f)).map(([, m]) => m);
			const got = Object.keys(op.requestBody?.content ?? {});
			if (want.join() !== got.join())
				problems.push(`${what}: body types ${got} (want ${want})`);
			const ref = `#/components/schemas/${r.schema}`;
			if (r.schema && want.length && !got.every((m) => op.requestBody.content[m].schema.$ref === ref))
				problems.push(`${what}: body not ${ref}`);
			if (r.schema && !want.length && !(op.parameters ?? []).some((q) => q.in === 'query' && q.schema.$ref === ref))
				problems.push(`${what}: query not ${ref}`);
			if (r.schema && !d.components.schemas[r.schema])
				problems.push(`${what}: no component ${r.schema}`);
			for (const status of ['2XX', '4XX', '5XX'])
				if (!op.responses[status])
					problems.push(`${what}: no ${status} answer`);
			// The error body the flags choose: EDxo's, its legacy one, or ours.
			const err = JSON.stringify(op.responses['4XX']?.content?.['application/json']?.schema);
			const kind = r.flags.includes('LEGACY') ? 'ErrorLegacy' : r.flags.includes('EDXO') ? 'ErrorEdxo' : null;
			if (kind && !err.includes(`/${kind}"`))
				problems.push(`${what}: errors ${err} (want ${kind})`);
			if (!r.flags.some((f) => ['EDXO', 'SUCCESS', 'OPENAI'].includes(f)) && !err.includes('/ErrorRelais"'))
				problems.push(`${what}: errors ${err} (want ErrorRelais)`);
			if (r.schema && !kind && !r.flags.some((f) => ['SUCCESS', 'OPENAI'].includes(f)) &&
			    !JSON.stringify(op.responses['422'] ?? {}).includes('ErrorFastAPI422'))
				problems.push(`${what}: no FastAPI 422`);
		}
	}
	// Nothing in the document that no program serves.
	for (const [path, item] of Object.entries(d.paths))
		for (const m of Object.keys(item))
			if (!seen.has(`${m} ${path}`))
				problems.push(`${m.toUpperCase()} ${path}: in the document, served by no program`);
	assert.deepEqual(problems, []);
	assert.ok(n > 50, `only ${n} routes`);
	// The document describes itself.
	assert.equal(d.paths['/openapi.json'].get['x-relais-program'], 'api');
});

test('the schemas it names are the ones in lib/schemas, and error bodies resolve', async () => {
	const d = await doc();
	const refs = new Set();
	(function walk(v) {
		if (Array.isArray(v))
			v.forEach(walk);
		else if (v && typeof v === 'object')
			for (const [k, x] of Object.entries(v))
				k === '$ref' ? refs.add(x) : walk(x);
	})(d);
	for (const r of refs) {
		assert.match(r, /^#\/components\/schemas\//, r);
		let at = d;
		for (const part of r.slice(2).split('/'))
			at = at?.[part.replace(/~1/g, '/').replace(/~0/g, '~')];
		assert.ok(at !== undefined, `${r} resolves`);
	}
	const relais = d.components.schemas.ErrorRelais;
	assert.deepEqual(relais.required, ['error']);
	assert.ok(relais.properties.error.properties.code.$ref.endsWith('resp-error.token'));
	assert.ok(d.components.schemas['resp-error.token'].enum.includes('insufficient_credits'));
	assert.ok(d.components.schemas.ErrorFastAPI422.properties.detail);
});
