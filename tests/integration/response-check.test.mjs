// The response check itself (RELAIS_CHECK_RESPONSES=1, lib/resp.c
// check_response): an answer that breaks its route's schema says so in
// X-Relais-Response-Check and in the program's log, a conforming one says
// "valid", an error body is checked against resp-error, and a route that
// answers no JSON gets no verdict.  Requests here use node:http directly:
// the checking wrapper of lib.mjs would throw on the deliberate violation.
import test from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { BASE, BUILD, STATE, TOP, CHECK_RESPONSES, sleep } from './lib.mjs';

function plain(path, headers = {}) {
	return new Promise((resolve, reject) => {
		http.get(BASE + path, { headers }, (res) => {
			const chunks = [];
			res.on('data', (c) => chunks.push(c));
			res.on('end', () => resolve({ status: res.statusCode,
			    headers: res.headers, text: Buffer.concat(chunks).toString() }));
		}).on('error', reject);
	});
}

function violations() {
	const dir = join(STATE, 'log');
	return readdirSync(dir).filter((f) => f.endsWith('.log'))
	    .flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n'))
	    .filter((l) => l.includes('response schema violation'));
}

test('the suite runs with the response check on', () => {
	assert.equal(CHECK_RESPONSES, true, 'scripts/test exports RELAIS_CHECK_RESPONSES=1');
});

test('an answer that breaks its schema is flagged in the header and the log', async () => {
	const before = violations().filter((l) => l.includes(' /_test/badshape -> ')).length;
	const r = await plain('/_test/badshape');
	assert.equal(r.status, 200, 'the check reports, it does not change the answer');
	assert.match(r.headers['content-type'], /^application\/json/);
	assert.deepEqual(JSON.parse(r.text), { bad: true });
	const h = r.headers['x-relais-response-check'];
	assert.match(h, /^invalid: /);
	assert.match(h, /\(resp-echo-badshape\)$/, 'the header names the schema');
	// The log line is written before the answer is sent; allow the file a
	// moment to be read back complete.
	let lines = [];
	for (let i = 0; i < 50; i++) {
		lines = violations().filter((l) => l.includes(' /_test/badshape -> '));
		if (lines.length > before)
			break;
		await sleep(100);
	}
	assert.equal(lines.length, before + 1, 'one log line per violation');
	assert.match(lines.at(-1), /response schema violation: GET \/_test\/badshape -> 200: invalid: .*resp-echo-badshape/);
});

test('a conforming answer is "valid", errors are checked against resp-error', async () => {
	let r = await plain('/_test/item/42');
	assert.equal(r.status, 200);
	assert.deepEqual(JSON.parse(r.text), { id: 42 });
	assert.equal(r.headers['x-relais-response-check'], 'valid');
	r = await plain('/api/health');
	assert.equal(r.status, 200);
	assert.equal(r.headers['x-relais-response-check'], 'valid');
	for (const [path, status] of [['/_test/error/conflict', 409],
	    ['/_test/edxo/error/insufficient_credits', 403], ['/_test/no/such/route', 404],
	    ['/_test/private', 401]]) {
		r = await plain(path);
		assert.equal(r.status, status, path);
		assert.equal(r.headers['x-relais-response-check'], 'valid', `${path}: ${r.text}`);
	}
});

test('an answer that is not JSON gets no verdict', async () => {
	const r = await plain('/_test/sse?n=1&ms=1');
	assert.equal(r.status, 200);
	assert.match(r.headers['content-type'], /^text\/event-stream/);
	assert.equal(r.headers['x-relais-response-check'], undefined);
});

// nginx answers two JSON errors itself (nginx/dev.conf: no route, body over
// the limit), with a constant body and the header "valid": no program
// checks them, so this test does, with relais's validator.
test('the error bodies nginx answers itself match resp-error', async () => {
	const conf = readFileSync(join(TOP, 'nginx', 'dev.conf'), 'utf8');
	const bodies = [...conf.matchAll(/return (\d{3}) '(\{.*\})';/g)]
	    .map((m) => ({ status: Number(m[1]), body: m[2] }));
	assert.deepEqual(bodies.map((b) => b.status).sort(), [404, 413]);
	const schema = join(TOP, 'lib', 'schemas', 'responses', 'resp-error.json');
	for (const b of bodies) {
		const file = join(STATE, `nginx-body-${b.status}.json`);
		writeFileSync(file, b.body);
		const v = spawnSync(join(BUILD, 'bin', 'relais-schema'), ['validate', schema, file],
		    { encoding: 'utf8' });
		assert.equal(v.status, 0, `nginx's ${b.status} body: ${v.stdout}${v.stderr}`);
	}
	// The same command refuses a body of another shape.
	const bad = join(STATE, 'nginx-body-bad.json');
	writeFileSync(bad, '{"error":{"code":"no_such_code","message":"m"}}');
	assert.notEqual(spawnSync(join(BUILD, 'bin', 'relais-schema'), ['validate', schema, bad]).status, 0);
	const r = await plain('/no/program/here');
	assert.equal(r.status, 404);
	assert.equal(r.text, bodies.find((b) => b.status === 404).body, 'the body checked above');
	assert.equal(r.headers['x-relais-response-check'], 'valid');
});
