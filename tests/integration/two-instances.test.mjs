// Two instances of a program on one database (issue 17): what one
// process caches (model prices, a user's role) must follow a change made
// anywhere, as it would across hosts.  The stack's chat program is
// instance A; the test starts instance B of the same binary on a socket
// of its own and talks FastCGI to it directly (tests/integration/fcgi.mjs, as
// nginx would).  B is warmed first, so that it holds the old values; then
// a price, a role and a balance change through A's stack, and B's very
// next request must see each.
import test from 'node:test';
import assert from 'node:assert/strict';
import { chatInstance } from './fcgi.mjs';
import { admin, auth, newUser, postJSON, psql, q, sleep, uniq, until } from './lib.mjs';

let inst;

const fcgi = (...a) => inst.call(...a);

const metricsB = async () => {
	const r = await fcgi('GET', '/metrics/chat', { remote: null });
	assert.equal(r.status, 200, 'B\'s /metrics on its own socket, without nginx, needs no account');
	return r.body;
};

test.before(async () => {
	inst = await chatInstance('two');
});

test.after(async () => {
	if (inst !== undefined)
		await inst.stop();
});

const completeB = (u, model, text) => fcgi('POST', '/completion', { headers: auth(u.token),
    body: { message: text, model, agent: 'V2' } });

// The ledger row of a call B answered: its cost in micro-USD.
const lastCost = (u) => Math.round(Number(psql(`SELECT cost FROM usage_ledger WHERE user_id = ${u.id} ` +
    'AND kind = \'openai_call\' ORDER BY id DESC LIMIT 1')) * 1e6);

test('a price changed through one instance bills at the new price in the other from the next call', async () => {
	const u = await newUser({ prefix: 'two', credits: '50.00' });
	const model = `gpt-4o-mini-two${uniq()}`;
	psql(`INSERT INTO openai_models (name, input_price, output_price) VALUES (${q(model)}, 0, 0)`);
	// Twice: the second comes from B's cache, at the old price (free).
	for (let i = 0; i < 2; i++) {
		const r = await completeB(u, model, 'Prix');
		assert.equal(r.status, 200, JSON.stringify(r.body));
		assert.equal(r.headers['server-timing'].match(/db-before-upstream;desc="(\d+)"/)?.[1] !== undefined, true);
	}
	await until('settled', () => psql(`SELECT count(*) FROM credit_reservations WHERE user_id = ${u.id} ` +
	    'AND state = \'reserved\'') === '0', 10000, 50);
	assert.equal(lastCost(u), 0);
	// The settings program has no price edit: an admin deletes the
	// model and enters it again with its new prices, through nginx.
	const id = psql(`SELECT id FROM openai_models WHERE name = ${q(model)}`);
	const d = await postJSON(`/settings/openai_models/delete/${id}`, {}, auth(await admin()));
	assert.equal(d.status, 200, JSON.stringify(d.body));
	const r0 = await postJSON('/settings/openai_models', { name: model, input_price: '100', output_price: '200' },
	    auth(await admin()));
	assert.ok(r0.status === 200 || r0.status === 201, JSON.stringify(r0.body));
	const r = await completeB(u, model, 'Prix');
	assert.equal(r.status, 200, JSON.stringify(r.body));
	await until('settled', () => psql(`SELECT count(*) FROM credit_reservations WHERE user_id = ${u.id} ` +
	    'AND state = \'reserved\'') === '0', 10000, 50);
	const u2 = JSON.parse(psql(`SELECT row_to_json(l) FROM (SELECT input_tokens, output_tokens FROM usage_ledger ` +
	    `WHERE user_id = ${u.id} ORDER BY id DESC LIMIT 1) l`));
	assert.equal(lastCost(u), Math.ceil(u2.input_tokens * 100 + u2.output_tokens * 200),
	    'the call B made after the change paid the new price');
});

test('a role taken away through one instance is refused by the other from the next request', async () => {
	// No credits: no ledger row keeps the account from being deleted.
	const a = await newUser({ prefix: 'twoa', role: 'admin', credits: '0.00' });
	let r = await fcgi('GET', '/metrics/chat', { headers: auth(a.token) });
	assert.equal(r.status, 200);
	r = await fcgi('GET', '/metrics/chat', { headers: auth(a.token) });
	assert.equal(r.status, 200, 'B has the admin cached');
	const res = await postJSON(`/edit_user/${a.id}`, { role: 'professeur' }, auth(await admin()));
	assert.equal(res.status, 200, JSON.stringify(res.body));
	r = await fcgi('GET', '/metrics/chat', { headers: auth(a.token) });
	assert.equal(r.status, 403, 'B refuses the demoted admin at once');
	// And the account deleted: its token is refused.
	psql(`DELETE FROM users WHERE id = ${a.id}`);
	r = await fcgi('GET', '/metrics/chat', { headers: auth(a.token) });
	assert.equal(r.status, 401, JSON.stringify(r.body));
});

test('a balance emptied through one instance is refused by the other from the next call', async () => {
	const u = await newUser({ prefix: 'twoc', credits: '1.00' });
	let r = await completeB(u, 'gpt-4o-mini', 'Solde');
	assert.equal(r.status, 200, JSON.stringify(r.body));
	await until('settled', () => psql(`SELECT count(*) FROM credit_reservations WHERE user_id = ${u.id} ` +
	    'AND state = \'reserved\'') === '0', 10000, 50);
	const left = psql(`SELECT credits FROM users WHERE id = ${u.id}`);
	const res = await postJSON(`/edit_user/${u.id}/credits`, { amount: left, operation: 'remove' },
	    auth(await admin()));
	assert.equal(res.status, 200, JSON.stringify(res.body));
	r = await completeB(u, 'gpt-4o-mini', 'Solde');
	assert.equal(r.status, 402, JSON.stringify(r.body));
	// Topped up again: served again, at once.
	const res2 = await postJSON(`/edit_user/${u.id}/credits`, { amount: '1.00', operation: 'add' },
	    auth(await admin()));
	assert.equal(res2.status, 200);
	r = await completeB(u, 'gpt-4o-mini', 'Solde');
	assert.equal(r.status, 200, JSON.stringify(r.body));
	await sleep(0);
});
