// Standing holds (RELAIS_CREDITS_SPARES, lib/credits.c "spares"): for a
// user calling again, the queue's thread takes a few holds ahead and the
// next call draws one in memory, with no round trip to PostgreSQL before
// its upstream request.  On by default; this suite starts an instance of
// the chat program of its own with a known count (as two-instances does) and
// talks FastCGI to it, then checks what the money rules demand of them:
// one ledger row per call, every drawn spare settled once, the others
// given back when the user goes idle, none for a user near the end of a
// balance; after a SIGKILL the next start gives back the spares nobody
// drew (their table is a file that outlives the process), and a clean stop
// gives back all of them.
import fs from 'node:fs';
import test from 'node:test';
import assert from 'node:assert/strict';
import { chatInstance } from './fcgi.mjs';
import { STATE, auth, newUser, psql, sleep, sweep, uniq, until } from './lib.mjs';

const SPARES = 4;
let inst;

const fcgi = (...a) => inst.call(...a);

test.before(async () => {
	inst = await chatInstance('spares', { RELAIS_CREDITS_SPARES: String(SPARES) });
});

test.after(async () => {
	if (inst !== undefined)
		await inst.stop();
});

// One /completion; its round trips before the upstream call.
async function call(u, i) {
	const r = await fcgi('POST', '/completion', { headers: auth(u.token),
	    body: { message: `Encore ${i} ${uniq()}`, model: 'gpt-4o-mini', agent: 'V2' } });
	assert.equal(r.status, 200, JSON.stringify(r.body));
	const m = /db-before-upstream;desc="(\d+)"/.exec(r.headers['server-timing']);
	assert.ok(m, r.headers['server-timing']);
	return Number(m[1]);
}

const count = (u, where) => Number(psql(`SELECT count(*) FROM credit_reservations WHERE user_id = ${u.id} ` +
    `AND ${where}`));
const ledgerRows = (u) => Number(psql(`SELECT count(*) FROM usage_ledger WHERE user_id = ${u.id} ` +
    'AND kind = \'openai_call\''));

// The balance is what was put in plus the ledger, held is 0.
function exact(u, credits) {
	assert.equal(psql(`SELECT credits = ${credits} + coalesce((SELECT sum(delta) FROM usage_ledger WHERE ` +
	    `user_id = ${u.id} AND kind = 'openai_call'), 0) AND held = 0 FROM users WHERE id = ${u.id}`), 't');
}

test('a user calling again draws standing holds: no round trip before the call, one ledger row each, the rest given back', async () => {
	const u = await newUser({ prefix: 'sp', credits: '5.00' });
	const before = [];
	for (let i = 0; i < 12; i++)
		before.push(await call(u, i));
	assert.ok(before[0] >= 1, `the first call reserves: ${before}`);
	const drawn = before.filter((n) => n === 0).length;
	assert.ok(drawn >= 1, `no call drew a spare: ${before}`);
	const r = await fcgi('GET', '/metrics/chat', { remote: null });
	const spare = /relais_credits_reservations_total\{[^}]*how="spare"\} (\d+)/.exec(r.body);
	assert.ok(spare && Number(spare[1]) >= drawn, r.body);

	// Each drawn spare is the hold of one call, settled with its row.
	await until('every call settled', () => ledgerRows(u) === 12, 15000, 50);
	assert.equal(count(u, 'state = \'settled\' AND request_id = \'spare\''), drawn);
	assert.equal(count(u, 'state = \'settled\''), 12);
	assert.equal(psql(`SELECT count(*) FROM credit_reservations c JOIN usage_ledger l ON ` +
	    `l.reservation_id = c.id WHERE c.user_id = ${u.id} AND c.state = 'settled'`), '12');

	// Idle: the spares nobody drew go back, without a ledger row.
	await until('spares given back', () => count(u, 'state = \'reserved\'') === 0, 10000, 100);
	assert.equal(psql(`SELECT count(*) FROM credit_reservations c LEFT JOIN usage_ledger l ON ` +
	    `l.reservation_id = c.id WHERE c.user_id = ${u.id} AND c.state = 'released' AND ` +
	    '(c.request_id IS DISTINCT FROM \'spare\' OR l.id IS NOT NULL)'), '0');
	exact(u, '5.00');
});

test('near the end of a balance no spare is taken: each call reserves for itself', async () => {
	// A call holds about 0.0008 USD here: 0.006 is less than the margin
	// of RL_CREDITS_SPARE_MARGIN (8) calls that a spare must leave free.
	// (Below what an admin may grant: set in the table.)
	const u = await newUser({ prefix: 'spp', credits: '0.00' });
	psql(`UPDATE users SET credits = 0.006 WHERE id = ${u.id}`);
	for (let i = 0; i < 5; i++)
		assert.ok(await call(u, i) >= 1, 'a call drew a spare near the end of its balance');
	await sleep(300);
	assert.equal(count(u, 'request_id = \'spare\''), 0);
	await until('every call settled', () => ledgerRows(u) === 5, 15000, 50);
	await until('no hold open', () => count(u, 'state = \'reserved\'') === 0, 10000, 100);
	exact(u, '0.006');
});

test('/chat/send draws them too: its thread read alone, each turn billed once, the thread goes on', async () => {
	const u = await newUser({ prefix: 'spc', credits: '5.00' });
	const draws = async () => {
		const r = await fcgi('GET', '/metrics/chat', { remote: null });
		const m = /relais_credits_reservations_total\{[^}]*how="spare"\} (\d+)/.exec(r.body);
		return m ? Number(m[1]) : 0;
	};
	const d0 = await draws();
	const ids = [];
	for (let i = 0; i < 8; i++) {
		const r = await fcgi('POST', '/chat/send', { headers: auth(u.token),
		    body: { message: `Tour ${i} ${uniq()}` } });
		assert.equal(r.status, 200, String(r.body));
		assert.match(String(r.body), /"type":"done"/, String(r.body));
		ids.push(psql(`SELECT coalesce(last_openai_response_id, '') FROM users WHERE id = ${u.id}`));
	}
	assert.ok(await draws() - d0 >= 1, 'no turn drew a spare');
	// Each turn went on from the one before (a new response id each).
	assert.equal(new Set(ids.filter(Boolean)).size, 8, ids.join(' '));
	// A turn may take more than one call (a tool round): one row each,
	// each on a hold of its own, none left open.
	await until('turns settled, spares given back', () => count(u, 'state = \'reserved\'') === 0, 15000, 100);
	const rows = ledgerRows(u);
	assert.ok(rows >= 8, `${rows} ledger rows for 8 turns`);
	assert.equal(psql(`SELECT count(DISTINCT c.id) FROM credit_reservations c JOIN usage_ledger l ON ` +
	    `l.reservation_id = c.id WHERE c.user_id = ${u.id} AND c.state = 'settled'`), String(rows));
	assert.equal(count(u, 'state = \'settled\''), rows);
	exact(u, '5.00');
});

// This instance's table of spares (lib/sparefile.c): one file per
// process, named by program and pid.
const TMPDIR = process.env.RELAIS_TMPDIR ?? `${STATE}/tmp`;
const tables = (pid) => {
	try {
		return fs.readdirSync(`${TMPDIR}/spares`).filter((f) => f.startsWith(`chat.${pid}.`));
	} catch {
		return [];
	}
};

test('SIGKILL with spares out: the next start gives back the spares nobody drew; the call in flight is billed by the sweep', async () => {
	const u = await newUser({ prefix: 'spk', credits: '5.00' });
	for (let i = 0; i < 8; i++)
		await call(u, i);
	await until('spares out', () => count(u, 'state = \'reserved\' AND request_id = \'spare\'') > 0, 5000, 20);
	await until('the calls settled', () => ledgerRows(u) === 8, 15000, 20);
	// A call waiting upstream at the kill: its hold (a spare it drew, or
	// its own) is open, and the call may have been made.
	// (Its answer never comes: fcgi.mjs does not settle a call whose
	// program died, so it is not awaited.)
	fcgi('POST', '/completion', { headers: auth(u.token), body: { model: 'gpt-4o-mini',
	    agent: 'V2', message: `Lent ${uniq()} [[X-Fake-TTFT-Ms: 5000]]` } }).catch(() => null);
	await sleep(300);
	const pid = inst.child.pid;
	assert.equal(tables(pid).length, 1, `no table file for ${pid} in ${TMPDIR}/spares`);
	inst.child.kill('SIGKILL');
	await new Promise((r) => inst.child.once('exit', r));

	const open = psql(`SELECT string_agg(id::text, ' ' ORDER BY id) FROM credit_reservations ` +
	    `WHERE user_id = ${u.id} AND state = 'reserved'`).split(' ').filter(Boolean);
	assert.ok(open.length >= 2, `the kill left ${open.length} holds open: no spare to give back`);
	assert.equal(tables(pid).length, 1, 'the dead process\'s table is gone before any start');

	// The next start on this host gives back what the table listed.
	inst = await chatInstance('spares-after', { RELAIS_CREDITS_SPARES: String(SPARES) });
	assert.deepEqual(tables(pid), [], 'the dead process\'s table is still there');
	const left = psql(`SELECT string_agg(id::text, ' ' ORDER BY id) FROM credit_reservations ` +
	    `WHERE user_id = ${u.id} AND state = 'reserved'`).split(' ').filter(Boolean);
	assert.equal(left.length, 1, `open after the start: ${left} (before: ${open})`);
	assert.ok(open.includes(left[0]));
	// Given back: spares only, each without a ledger row.
	assert.equal(psql(`SELECT count(*) FROM credit_reservations c LEFT JOIN usage_ledger l ON ` +
	    `l.reservation_id = c.id WHERE c.id IN (${open.join(',')}) AND c.state = 'released' AND ` +
	    '(c.request_id IS DISTINCT FROM \'spare\' OR l.id IS NOT NULL)'), '0');
	assert.equal(count(u, `state = 'released' AND id IN (${open.join(',')})`), open.length - 1);

	// The call in flight: billed by the sweep at its amount.
	psql(`UPDATE credit_reservations SET created_at = now() - interval '2 hours' WHERE user_id = ${u.id} ` +
	    'AND state = \'reserved\'');
	const sw = sweep();
	assert.equal(sw.err, 'ok', JSON.stringify(sw));
	assert.equal(count(u, 'state = \'reserved\''), 0);
	assert.equal(psql('SELECT string_agg(c.id::text, \' \') FROM credit_reservations c JOIN usage_ledger l ON ' +
	    `l.reservation_id = c.id WHERE c.user_id = ${u.id} AND l.status = 'lost' AND l.cost = c.amount ` +
	    'AND -l.delta = c.amount'), left[0]);
	exact(u, '5.00');
});

test('a clean stop gives every spare back and removes its table', async () => {
	const u = await newUser({ prefix: 'sps', credits: '5.00' });
	for (let i = 0; i < 8; i++)
		await call(u, i);
	await until('spares out', () => count(u, 'state = \'reserved\' AND request_id = \'spare\'') > 0, 5000, 20);
	const pid = inst.child.pid;
	assert.equal(tables(pid).length, 1);
	await inst.stop();
	assert.deepEqual(tables(pid), []);
	await until('every call settled', () => ledgerRows(u) === 8, 15000, 50);
	assert.equal(count(u, 'state = \'reserved\''), 0);
	exact(u, '5.00');
	inst = await chatInstance('spares-again', { RELAIS_CREDITS_SPARES: String(SPARES) });
});
