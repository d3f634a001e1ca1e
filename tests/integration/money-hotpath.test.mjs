// The hot path of /ai/openai/chat/ and /chat/send (issue 17): one round
// trip to PostgreSQL before the upstream call, the reservation, and every
// contract that used to need more kept.  A synchronous job's row is
// written whole after its call, before its answer, so reading it back at
// once gives the answer; a chat turn reads its thread (previous response,
// history) in the reservation's own statement, and a thread with a past
// to replay is reserved again at the size of what is sent.
import test from 'node:test';
import assert from 'node:assert/strict';
import { auth, getJSON, newUser, parseSSE, postJSON, psql, until, uniq } from './lib.mjs';

// Server-Timing's db-before-upstream (lib/metrics.c).
function before(h) {
	const m = /db-before-upstream;desc="(\d+)"/.exec(h || '');
	assert.ok(m, `no db-before-upstream in ${h}`);
	return Number(m[1]);
}

const openHolds = (id) => psql(`SELECT count(*) FROM credit_reservations WHERE user_id = ${id} ` +
    'AND state = \'reserved\'');

test('a synchronous job: one round trip before the call, read back at once, one ledger row each', async () => {
	const u = await newUser({ prefix: 'hp-job' });
	const seen = [];
	const ids = [];
	for (let i = 0; i < 5; i++) {
		const r = await postJSON('/ai/openai/chat/', { model: 'gpt-4o-mini', description: `hp ${i}`,
		    messages: [{ role: 'user', content: `Bonjour ${uniq()}` }] }, auth(u.token));
		assert.equal(r.status, 200, JSON.stringify(r.body));
		assert.equal(r.body.status, 'completed');
		seen.push(before(r.headers.get('server-timing')));
		// The row is there before the answer left: the same bytes back.
		const back = await getJSON(`/ai/openai/jobs/${r.body.job_id}`, { headers: auth(u.token) });
		assert.equal(back.status, 200);
		assert.deepEqual(back.body, r.body);
		ids.push(r.body.job_id);
	}
	// The first call may fill the cache (the user, the model, the key).
	assert.equal(Math.min(...seen), 1, `round trips before upstream: ${seen}`);
	assert.ok(seen.slice(1).every((n) => n === 1), `warm calls: ${seen}`);
	const row = psql(`SELECT status || '|' || is_async || '|' || description || '|' || ` +
	    '(created_at = started_at) || \'|\' || (started_at <= finished_at) || \'|\' || ' +
	    `(cost IS NOT NULL) || '|' || total_tokens FROM openai_jobs WHERE id = '${ids[4]}'`);
	assert.match(row, /^completed\|false\|hp 4\|true\|true\|true\|\d+$/);
	await until('settlements landed', () => openHolds(u.id) === '0');
	assert.equal(psql(`SELECT count(*) FROM usage_ledger WHERE user_id = ${u.id} AND kind = 'openai_call'`),
	    '5');
	assert.equal(psql(`SELECT count(*) FROM openai_jobs WHERE user_id = ${u.id}`), '5');
	// The job's cost is its ledger row's.
	assert.equal(psql(`SELECT sum(cost) FROM openai_jobs WHERE user_id = ${u.id}`),
	    psql(`SELECT sum(cost) FROM usage_ledger WHERE user_id = ${u.id} AND kind = 'openai_call'`));
});

test('a synchronous job refused for credits: 402, recorded failed, nothing held or billed', async () => {
	const u = await newUser({ prefix: 'hp-poor', credits: '0.00' });
	const r = await postJSON('/ai/openai/chat/', { model: 'gpt-4o-mini',
	    messages: [{ role: 'user', content: 'Bonjour' }] }, auth(u.token));
	assert.equal(r.status, 402, JSON.stringify(r.body));
	assert.equal(psql(`SELECT status || '|' || error_code FROM openai_jobs WHERE user_id = ${u.id}`),
	    'failed|insufficient_credits');
	assert.equal(psql(`SELECT count(*) FROM credit_reservations WHERE user_id = ${u.id}`), '0');
	assert.equal(psql(`SELECT count(*) FROM usage_ledger WHERE user_id = ${u.id}`), '0');
});

// One chat turn: its Server-Timing and frames.
async function turn(u, message) {
	const r = await fetch(`${process.env.RELAIS_TEST_BASE}/chat/send`, { method: 'POST',
	    headers: { 'Content-Type': 'application/json', ...auth(u.token) },
	    body: JSON.stringify({ message }) });
	const text = await r.text();
	assert.equal(r.status, 200, text);
	const frames = parseSSE(text).filter((f) => f.data !== '').map((f) => JSON.parse(f.data));
	assert.equal(frames.at(-1).type, 'done', text);
	return { before: before(r.headers.get('server-timing')), frames };
}

test('/chat/send: the thread read by the reservation; a past to replay reserved again at its size', async () => {
	const u = await newUser({ prefix: 'hp-chat' });
	const long = (w) => `${w} `.repeat(120);
	// A new thread without history, then one that goes on: one round trip
	// each (the best of the first two: the cache may be cold).
	const a = await turn(u, long('premier'));
	const b = await turn(u, long('second'));
	assert.equal(Math.min(a.before, b.before), 1, `${a.before} ${b.before}`);
	assert.equal(b.before, 1);
	assert.ok(psql(`SELECT last_openai_response_id FROM users WHERE id = ${u.id}`) !== '');
	await until('two turns settled', () => openHolds(u.id) === '0');
	// A turn is one call, or two when the model asks for a tool first.
	const states = () => psql(`SELECT string_agg(state || ':' || amount || ':' || id, ',' ORDER BY id) ` +
	    `FROM credit_reservations WHERE user_id = ${u.id}`).split(',').map((x) => x.split(':'));
	const two = states();
	assert.ok(two.length >= 2 && two.every((h) => h[0] === 'settled'), JSON.stringify(two));
	// The thread forgotten (EDxo's page does this): the history of the
	// two turns is replayed, larger than the first hold's estimate, so
	// that hold goes back and one of the body's size pays the call.
	psql(`UPDATE users SET last_openai_response_id = NULL WHERE id = ${u.id}`);
	const c = await turn(u, 'troisième');
	// Three when the history is replayed (reserve and read, release,
	// reserve), four when the UPDATE above emptied the cached user.
	assert.ok(c.before >= 1 && c.before <= 4, `${c.before}`);
	await until('the third turn settled', () => openHolds(u.id) === '0');
	const holds = states().slice(two.length);
	assert.equal(holds[0][0], 'released', JSON.stringify(holds));
	assert.ok(holds.length >= 2 && holds.slice(1).every((h) => h[0] === 'settled'), JSON.stringify(holds));
	assert.ok(Number(holds[1][1]) > Number(holds[0][1]), JSON.stringify(holds));
	const calls = two.length + holds.length - 1;
	// One ledger row per call; the balance is its ledger's sum.
	assert.equal(psql(`SELECT count(*) FROM usage_ledger WHERE user_id = ${u.id} AND kind = 'openai_call'`),
	    String(calls));
	assert.equal(psql(`SELECT credits = (SELECT sum(delta) FROM usage_ledger WHERE user_id = ${u.id}) ` +
	    `FROM users WHERE id = ${u.id}`), 't');
	// Three turns saved, the thread going on again.
	assert.equal(psql(`SELECT count(*) FROM chat_history WHERE user_id = ${u.id} AND role = 'user'`), '3');
	assert.ok(psql(`SELECT last_openai_response_id FROM users WHERE id = ${u.id}`) !== '');
});
