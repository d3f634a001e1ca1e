// Walk every route of every program (from each binary's own "-r" dump)
// without credentials and as each role, and check that the runtime
// answers 401 and 403 exactly where the route flags say, EDxo's rules:
// AUTH = any signed-in user, COORDO = admin or coordo, ADMIN = admin.
import test from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TOP, getJSON, postJSON, psql } from './lib.mjs';

const programs = (process.env.RELAIS_TEST_PROGRAMS || '').split(/\s+/).filter(Boolean)
    .map((s) => { const i = s.indexOf(':'); return { name: s.slice(0, i), bin: s.slice(i + 1) }; });

// The echo responder's routes are not behind nginx under their own names
// for every program; all programs are reachable through nginx's config.
function concrete(pattern) {
	return pattern.replace(/<int:[^>]+>/g, '999999').replace(/<path:[^>]+>/g, 'x/y')
	    .replace(/<uuid:[^>]+>/g, '00000000-0000-4000-8000-000000000000')
	    .replace(/<[^>]+>/g, 'x');
}

// A public route of the test responder that answers against its own
// response schema on purpose (response-check.test.mjs calls it without
// the checking fetch): the walk would fail on its answer, not its flags.
const DELIBERATELY_INVALID = new Set(['GET /_test/badshape']);

function allowed(flags, role) {
	if (flags.includes('ADMIN')) return role === 'admin';
	if (flags.includes('COORDO')) return role === 'admin' || role === 'coordo';
	return true;
}

async function token(username) {
	const r = await postJSON('/auth/token', { username, password: 'relais-demo' });
	assert.equal(r.status, 200, `token for ${username}: ${JSON.stringify(r.body)}`);
	return r.body.access_token;
}

test('every route table is non-empty and well formed', () => {
	assert.ok(programs.length >= 2, 'RELAIS_TEST_PROGRAMS lists the programs');
	for (const p of programs) {
		const routes = JSON.parse(execFileSync(p.bin, ['-r'], { encoding: 'utf8' }));
		assert.ok(routes.length > 0, p.name);
		for (const r of routes) {
			assert.match(r.method, /^(GET|POST|PUT|PATCH|DELETE)$/);
			assert.match(r.pattern, /^\//);
		}
	}
});

test('401 and 403 exactly where the route flags say, for every route and role', async () => {
	// An invite and a cp account, with the demo password, for the walk.
	psql(`INSERT INTO users (username, email, password_hash, role)
	    SELECT r || '-walk', r || '-walk@demo.relais', password_hash, r
	    FROM users, unnest(ARRAY['invite', 'cp']) AS r WHERE username = 'prof'
	    ON CONFLICT DO NOTHING`);
	const ids = {
		admin: await token('admin@demo.relais'),
		coordo: await token('coordo@demo.relais'),
		professeur: await token('prof@demo.relais'),
		cp: await token('cp-walk@demo.relais'),
		invite: await token('invite-walk@demo.relais'),
	};
	const problems = [];
	let checked = 0;
	for (const p of programs) {
		const routes = JSON.parse(execFileSync(p.bin, ['-r'], { encoding: 'utf8' }));
		for (const r of routes) {
			if (DELIBERATELY_INVALID.has(`${r.method} ${r.pattern}`))
				continue;
			const path = concrete(r.pattern);
			const needAuth = r.flags.some((f) => ['AUTH', 'ADMIN', 'COORDO'].includes(f));
			const send = (headers) => getJSON(path, { method: r.method,
			    headers: { 'Content-Type': 'application/json', ...headers },
			    body: r.method === 'GET' ? undefined : '{}' });
			const anon = await send({});
			checked++;
			if (needAuth && anon.status !== 401)
				problems.push(`${p.name} ${r.method} ${r.pattern} anonymous: ${anon.status} (want 401)`);
			if (!needAuth && (anon.status === 401 || anon.status === 403))
				problems.push(`${p.name} ${r.method} ${r.pattern} is public but anonymous got ${anon.status}`);
			if (!needAuth)
				continue;
			for (const [role, tok] of Object.entries(ids)) {
				const res = await send({ Authorization: `Bearer ${tok}` });
				checked++;
				const ok = allowed(r.flags, role);
				if (ok && (res.status === 401 || res.status === 403))
					problems.push(`${p.name} ${r.method} ${r.pattern} as ${role}: ${res.status} (want allowed)`);
				if (!ok && res.status !== 403)
					problems.push(`${p.name} ${r.method} ${r.pattern} as ${role}: ${res.status} (want 403)`);
			}
		}
	}
	psql("DELETE FROM users WHERE username IN ('invite-walk', 'cp-walk')");
	assert.deepEqual(problems, []);
	assert.ok(checked > 20, `only ${checked} requests made`);
});

// lib/schemas/responses/routes.json ("METHOD pattern" -> response schema id,
// or null for a route that answers no JSON) must follow the route tables:
// a route without a key would answer "X-Relais-Response-Check: none" and
// fail the tests only once some test calls it; a key without a route is a
// schema nobody checks any more.
const RESPONSES = join(TOP, 'lib', 'schemas', 'responses');

test('routes.json names a response schema for every route, and only for routes', () => {
	const index = JSON.parse(readFileSync(join(RESPONSES, 'routes.json'), 'utf8'));
	assert.equal(typeof index, 'object');
	assert.ok(!Array.isArray(index) && index !== null);
	const seen = new Set();
	const problems = [];
	for (const p of programs) {
		const routes = JSON.parse(execFileSync(p.bin, ['-r'], { encoding: 'utf8' }));
		for (const r of routes) {
			const key = `${r.method} ${r.pattern}`;
			seen.add(key);
			if (!Object.hasOwn(index, key)) {
				problems.push(`${p.name}: no routes.json key "${key}"`);
				continue;
			}
			const id = index[key];
			if (id === null)
				continue;
			if (typeof id !== 'string' || !/^resp-[a-z0-9-]+$/.test(id))
				problems.push(`"${key}": ${JSON.stringify(id)} is not a response schema id`);
			else if (!existsSync(join(RESPONSES, `${id}.json`)))
				problems.push(`"${key}": no file ${id}.json`);
		}
	}
	for (const key of Object.keys(index))
		if (!seen.has(key))
			problems.push(`routes.json key "${key}" is no route of any program`);
	assert.deepEqual(problems, []);
	// Every program's routes were walked, the test responder's included.
	assert.ok(programs.some((p) => p.name === 'echo'), 'RELAIS_TEST_PROGRAMS lists echo');
	assert.equal(seen.size, Object.keys(index).length);
});

test('every response schema file is used: by a route, or resp-error for every error', () => {
	const index = JSON.parse(readFileSync(join(RESPONSES, 'routes.json'), 'utf8'));
	const used = new Set(Object.values(index).filter((v) => v !== null));
	used.add('resp-error');
	const files = readdirSync(RESPONSES).filter((f) => f.endsWith('.json') && f !== 'routes.json')
	    .map((f) => f.slice(0, -'.json'.length));
	assert.ok(files.includes('resp-error'));
	assert.deepEqual(files.filter((f) => !used.has(f)), [], 'schemas no route names');
	// Installed with the programs: Makefile.am lists each file.
	const am = readFileSync(join(TOP, 'Makefile.am'), 'utf8');
	for (const f of [...files, 'routes'])
		assert.ok(am.includes(`lib/schemas/responses/${f}.json`),
		    `Makefile.am dist_respschema_DATA lists ${f}.json`);
	for (const f of files) {
		const s = JSON.parse(readFileSync(join(RESPONSES, `${f}.json`), 'utf8'));
		assert.equal(typeof s, 'object', `${f}: a schema object`);
		assert.equal(typeof s.$comment, 'string', `${f}: a $comment says which routes answer it`);
	}
});
