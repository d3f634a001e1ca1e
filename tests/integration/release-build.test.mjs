// The build users run is not the suite's: scripts/run and the Debian
// package build with configure's defaults (jemalloc as the allocator, no
// sanitizers), the suite with the sanitizers.  scripts/test builds both;
// here the default build's chat program runs on the suite's database,
// on a socket of its own (tests/integration/fcgi.mjs, as nginx would talk
// to it), with every setting at its default (standing holds on), and
// answers concurrent billed calls that land in the ledger.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { chatInstance } from './fcgi.mjs';
import { auth, newUser, psql, until } from './lib.mjs';

const RELEASE = process.env.RELAIS_TEST_RELEASE_BUILD;
let inst;

test.before(async () => {
	assert.ok(RELEASE, 'RELAIS_TEST_RELEASE_BUILD is not set: run these tests through scripts/test');
	// Every setting at its default: the suite's stack turns spares off.
	inst = await chatInstance('release', { RELAIS_CREDITS_SPARES: '' }, RELEASE);
});

test.after(async () => {
	if (inst !== undefined)
		await inst.stop();
});

test('the default build runs on jemalloc, without the sanitizers', () => {
	const maps = fs.readFileSync(`/proc/${inst.child.pid}/maps`, 'utf8');
	assert.match(maps, /libjemalloc\.so/, 'jemalloc mapped');
	assert.doesNotMatch(maps, /libasan|libubsan/, 'no sanitizer runtime');
});

test('its chat program answers 48 concurrent billed calls, then 12 in a row drawing standing holds, each in the ledger once', async () => {
	const u = await newUser({ prefix: 'release', credits: '50.00' });
	const before = Number(psql(`SELECT credits FROM users WHERE id = ${u.id}`));
	const n = 48;
	const rs = await Promise.all(Array.from({ length: n }, (_, i) => inst.call('POST', '/completion', {
		headers: auth(u.token), body: { message: `Bonjour ${i}`, model: 'gpt-4o-mini', agent: 'V2' } })));
	for (const r of rs) {
		assert.equal(r.status, 200, JSON.stringify(r.body));
		assert.equal(typeof r.body.response, 'string');
		assert.ok(r.body.response.length > 0);
		assert.match(r.headers['content-length'], /^[1-9][0-9]*$/);
	}
	// A user calling again: spares are on by default, so most of these
	// make no round trip before the upstream call.
	const before0 = [];
	for (let i = 0; i < 12; i++) {
		const r = await inst.call('POST', '/completion', { headers: auth(u.token),
		    body: { message: `Encore ${i}`, model: 'gpt-4o-mini', agent: 'V2' } });
		assert.equal(r.status, 200, JSON.stringify(r.body));
		before0.push(Number(/db-before-upstream;desc="(\d+)"/.exec(r.headers['server-timing'])[1]));
	}
	assert.ok(before0.filter((x) => x === 0).length >= 6, `round trips before upstream: ${before0}`);
	await until('every hold settled', () => psql(`SELECT count(*) FROM credit_reservations WHERE user_id = ${u.id} ` +
	    'AND state = \'reserved\'') === '0', 20000, 50);
	const rows = psql(`SELECT count(*), count(DISTINCT reservation_id), coalesce(sum(cost), 0) FROM usage_ledger ` +
	    `WHERE user_id = ${u.id} AND kind = 'openai_call'`).split('|');
	assert.equal(Number(rows[0]), n + 12, 'one ledger row per call');
	assert.equal(Number(rows[1]), n + 12, 'each on its own hold');
	const after = psql(`SELECT credits, held FROM users WHERE id = ${u.id}`).split('|');
	assert.equal(Math.round((before - Number(after[0])) * 1e6), Math.round(Number(rows[2]) * 1e6),
	    'the balance fell by the sum of the costs');
	assert.equal(Number(after[1]), 0, 'nothing left held');
});
