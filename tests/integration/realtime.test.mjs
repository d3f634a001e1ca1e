// The realtime WebSocket (seed 004's /realtime/ws, issue 20) through nginx
// and bin/relais-realtime, with Node's own WebSocket client (undici; node
// runs with --experimental-websocket, scripts/test): credentials on the
// upgrade and as the first message, ping/pong, a streamed message billed
// as /completion bills it (one ledger row, the balance down by its cost),
// the WebRTC offer/answer exchanged with the fake upstream, bad frames
// answered without a disconnect, unauthenticated attempts closed with
// 1008, 200 connections held, and the idle and auth timeouts
// (scripts/test starts the program with RELAIS_REALTIME_IDLE_SEC=4 and
// RELAIS_REALTIME_AUTH_SEC=2).
import test from 'node:test';
import assert from 'node:assert/strict';
import { BASE, admin, auth, getJSON, newUser, postJSON, psql, sentence, until } from './lib.mjs';

const URL_WS = BASE.replace(/^http/, 'ws') + '/realtime/ws';
const IDLE_SEC = 4;

// A connection with its received events queued, and its close.
function connect(token, { header = true } = {}) {
	const opts = header && token ? { headers: { Authorization: `Bearer ${token}` } } : undefined;
	const ws = new WebSocket(URL_WS, opts);
	const c = { ws, events: [], waiters: [], closed: null };
	c.opened = new Promise((resolve, reject) => {
		ws.onopen = () => resolve();
		ws.onerror = (e) => reject(new Error(`websocket error: ${e.message ?? e.type}`));
	});
	c.closing = new Promise((resolve) => {
		ws.onclose = (e) => {
			c.closed = { code: e.code, reason: e.reason };
			resolve(c.closed);
			for (const w of c.waiters.splice(0)) w();
		};
	});
	ws.onmessage = (e) => {
		c.events.push(JSON.parse(e.data));
		for (const w of c.waiters.splice(0)) w();
	};
	// The next event of type (any if null), within ms.
	c.next = async (type = null, ms = 10000) => {
		const t0 = Date.now();
		for (;;) {
			const i = c.events.findIndex((v) => type === null || v.type === type);
			if (i >= 0) return c.events.splice(i, 1)[0];
			if (c.closed) throw new Error(`closed ${c.closed.code} ${c.closed.reason} waiting for ${type}`);
			if (Date.now() - t0 > ms) throw new Error(`no ${type} event in ${ms} ms: ${JSON.stringify(c.events)}`);
			await new Promise((r) => { c.waiters.push(r); setTimeout(r, 100); });
		}
	};
	c.send = (v) => ws.send(typeof v === 'string' ? v : JSON.stringify(v));
	return c;
}

async function ready(token, opts) {
	const c = connect(token, opts);
	await c.opened;
	if (opts?.header === false)
		c.send({ type: 'auth', payload: { token } });
	const r = await c.next('ready');
	assert.equal(typeof r.payload.user_id, 'number');
	return c;
}

const micro = (s) => {
	const m = /^(\d+)\.(\d{6})$/.exec(s);
	assert.ok(m, `not a 6-decimal amount: ${s}`);
	return BigInt(m[1]) * 1000000n + BigInt(m[2]);
};
const balance = (id) => micro(psql(`SELECT credits FROM users WHERE id = ${id}`));

test('ping/pong, with the token on the upgrade and as the first message', async () => {
	const u = await newUser({ prefix: 'ws' });
	for (const header of [true, false]) {
		const c = await ready(u.token, { header });
		c.send({ type: 'ping', payload: {} });
		const p = await c.next('pong');
		assert.equal(typeof p.payload.ts, 'number');
		c.ws.close(1000);
		assert.equal((await c.closing).code, 1000);
	}
});

test('a message streams deltas then done, billed once like /completion', async () => {
	const u = await newUser({ prefix: 'ws' });
	const before = balance(u.id);
	const c = await ready(u.token);
	c.send({ type: 'message', payload: { text: 'Hello from client!', model: 'gpt-4o-mini', agent: 'V2' } });
	let text = '';
	let done;
	for (;;) {
		const ev = await c.next();
		if (ev.type === 'delta') { text += ev.payload.content; continue; }
		assert.equal(ev.type, 'done', JSON.stringify(ev));
		done = ev.payload;
		break;
	}
	assert.equal(text, sentence('gpt-4o-mini'));
	assert.equal(done.model, 'gpt-4o-mini');
	assert.equal(done.agent, 'V2');
	assert.equal(done.error, undefined);
	const usage = done.usage;
	assert.ok(usage.input_tokens > 0 && usage.output_tokens > 0);
	assert.equal(usage.total_tokens, usage.input_tokens + usage.output_tokens);
	assert.deepEqual(done.usage_by_model, { 'gpt-4o-mini': usage });
	assert.equal(typeof done.pricing.total_cost, 'number');
	assert.ok(done.pricing.by_model['gpt-4o-mini']);
	for (const k of ['latency_s', 'emissions_kgCO2eq', 'emissions_gCO2eq'])
		assert.equal(typeof done[k], 'number', k);
	assert.deepEqual(Object.keys(done.equivalences).sort(),
	    ['car_km', 'smartphone_charges', 'tgv_km', 'water_liters']);
	// One ledger row (settled after the answer, so waited for), the
	// balance down by exactly its cost, no hold left open.
	const row = await until('ledger row', () => {
		const r = psql(`SELECT count(*) || '|' || min(model) || '|' || min(feature) || '|' || ` +
		    `min(status) || '|' || sum(input_tokens) || '|' || sum(output_tokens) || '|' || ` +
		    `coalesce(sum(cost), 0) FROM usage_ledger WHERE user_id = ${u.id} AND kind = 'openai_call'`);
		return r.startsWith('1|') ? r : null;
	});
	const [, model, feature, status, input, output, cost] = row.split('|');
	assert.deepEqual([model, feature, status, Number(input), Number(output)],
	    ['gpt-4o-mini', 'completion', 'ok', usage.input_tokens, usage.output_tokens]);
	assert.equal(balance(u.id), before - micro(cost));
	assert.ok(micro(cost) > 0n);
	assert.equal(psql(`SELECT count(*) FROM credit_reservations WHERE user_id = ${u.id} ` +
	    'AND state = \'reserved\''), '0');
	c.ws.close();
});

test('a message without credits is an error event, nothing billed, connection kept', async () => {
	const u = await newUser({ prefix: 'ws', credits: '0.00' });
	const c = await ready(u.token);
	c.send({ type: 'message', payload: { text: 'Bonjour', model: 'gpt-4o-mini' } });
	const e = await c.next('error');
	assert.equal(e.payload.code, 'insufficient_credits');
	assert.equal(e.payload.status, 402);
	c.send({ type: 'message', payload: { text: 'Bonjour', model: 'no-such-model' } });
	assert.equal((await c.next('error')).payload.status, 400);
	c.send({ type: 'ping', payload: {} });
	await c.next('pong');
	assert.equal(psql(`SELECT count(*) FROM usage_ledger WHERE user_id = ${u.id} AND kind = 'openai_call'`), '0');
	c.ws.close();
});

test('client gone mid-answer: the upstream is stopped, what was used is billed once', async () => {
	const u = await newUser({ prefix: 'ws', credits: '2.00' });
	const before = balance(u.id);
	const c = await ready(u.token);
	// 50 deltas 200 ms apart: ten seconds if nobody stopped it.
	c.send({ type: 'message', payload: { text: 'Raconte [[X-Fake-Chunks: 50; X-Fake-Chunk-Ms: 200]]',
	    model: 'gpt-4o' } });
	await c.next('delta');
	// One message at a time on a connection.
	c.send({ type: 'message', payload: { text: 'Et une autre' } });
	const busy = await c.next('error');
	assert.equal(busy.payload.status, 503);
	assert.match(busy.payload.message, /one message at a time/);
	c.ws.close();
	await c.closing;
	const row = await until('ledger row', () => psql(`SELECT status || '|' || output_tokens || '|' || cost ` +
	    `FROM usage_ledger WHERE user_id = ${u.id} AND kind = 'openai_call'`) || null);
	const [status, out, cost] = row.split('|');
	assert.equal(status, 'partial', row);
	assert.ok(Number(out) >= 1 && Number(out) < 50, `stopped early: ${out} of 50 tokens`);
	assert.equal(balance(u.id), before - micro(cost));
	assert.equal(psql(`SELECT count(*) FROM usage_ledger WHERE user_id = ${u.id} AND kind = 'openai_call'`), '1');
	assert.equal(psql(`SELECT count(*) FROM credit_reservations WHERE user_id = ${u.id} ` +
	    'AND state = \'reserved\''), '0');
});

test('an offer gets the provider\'s SDP answer', async () => {
	const u = await newUser({ prefix: 'ws' });
	const c = await ready(u.token);
	const sdp = 'v=0\r\no=- 123456 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n';
	c.send({ type: 'offer', payload: { sdp, type: 'offer' } });
	const a = await c.next('answer');
	assert.equal(a.payload.type, 'answer');
	assert.match(a.payload.sdp, /^v=0\r\n/);
	// The fake names the offer's origin line and the session's model.
	assert.match(a.payload.sdp, /a=x-offer:- 123456 2 IN IP4 127\.0\.0\.1\r\n/);
	assert.match(a.payload.sdp, /s=fake-openai gpt-realtime\r\n/);
	// Not an offer: an error event, no upstream call.
	c.send({ type: 'offer', payload: { sdp: 'hello', type: 'offer' } });
	assert.equal((await c.next('error')).payload.code, 'validation_error');
	c.ws.close();
});

test('bad frames get error events and the connection stays', async () => {
	const u = await newUser({ prefix: 'ws' });
	const c = await ready(u.token);
	c.send('{not json');
	assert.equal((await c.next('error')).payload.code, 'invalid_json');
	c.send({ type: 'dance', payload: {} });
	assert.match((await c.next('error')).payload.message, /unknown message type/);
	c.send({ payload: {} });
	assert.equal((await c.next('error')).payload.code, 'validation_error');
	c.send({ type: 'message', payload: { text: '' } });
	assert.equal((await c.next('error')).payload.code, 'validation_error');
	c.ws.send(new Uint8Array([1, 2, 3]));
	assert.match((await c.next('error')).payload.message, /binary/);
	c.send({ type: 'ping', payload: {} });
	await c.next('pong');
	assert.equal(c.closed, null);
	c.ws.close();
});

test('limits: messages per second get rate_limited, a message too large closes 1009', async () => {
	const u = await newUser({ prefix: 'ws' });
	const c = await ready(u.token);
	// 25 at once: however the burst falls across a second boundary, one
	// second holds more than RL_REALTIME_RATE (10).
	for (let i = 0; i < 25; i++) c.send({ type: 'ping', payload: {} });
	const e = await c.next('error');
	assert.deepEqual([e.payload.code, e.payload.status], ['rate_limited', 429]);
	assert.equal(c.closed, null);
	// RL_REALTIME_MSG_MAX is 64 KiB.
	c.send({ type: 'message', payload: { text: 'x'.repeat(65 * 1024) } });
	const cl = await c.closing;
	assert.deepEqual([cl.code, cl.reason], [1009, 'message too large']);
});

test('unauthenticated attempts are closed with 1008', async () => {
	// No token, a first message that is not auth.
	let c = connect(null);
	await c.opened;
	c.send({ type: 'ping', payload: {} });
	let cl = await c.closing;
	assert.equal(cl.code, 1008);
	assert.equal(cl.reason, 'authentication required');
	// A wrong token in the auth message.
	c = connect(null);
	await c.opened;
	c.send({ type: 'auth', payload: { token: 'a.b.c' } });
	cl = await c.closing;
	assert.deepEqual([cl.code, cl.reason], [1008, 'invalid credentials']);
	// A wrong Bearer token on the upgrade.
	c = connect('not-a-token');
	cl = await c.closing;
	assert.deepEqual([cl.code, cl.reason], [1008, 'invalid credentials']);
	assert.equal(c.events.length, 0);
	// Nothing sent: closed when the auth timeout (2 s here) lapses.
	c = connect(null);
	await c.opened;
	const t0 = Date.now();
	cl = await c.closing;
	assert.deepEqual([cl.code, cl.reason], [1008, 'authentication timeout']);
	assert.ok(Date.now() - t0 >= 1500, `closed after ${Date.now() - t0} ms`);
});

test('200 connections are held at once, then all answer a ping', async () => {
	const u = await newUser({ prefix: 'ws' });
	// Opening 200 takes seconds under the sanitizers, longer than the
	// test stack's idle timeout: the ready ones ping now and then, as
	// the seed's client does, until the last is open.
	const open = [];
	const keep = setInterval(() => { for (const c of open) c.send({ type: 'ping', payload: {} }); }, 1000);
	let cs;
	try {
		cs = await Promise.all(Array.from({ length: 200 }, async () => {
			const c = await ready(u.token);
			open.push(c);
			return c;
		}));
	} finally {
		clearInterval(keep);
	}
	await new Promise((r) => setTimeout(r, 1000));
	for (const c of cs) c.events = c.events.filter((v) => v.type !== 'pong');
	assert.ok(cs.every((c) => c.closed === null), 'a connection was closed while others opened');
	for (const c of cs) c.send({ type: 'ping', payload: {} });
	await Promise.all(cs.map((c) => c.next('pong')));
	assert.ok(cs.every((c) => c.closed === null));
	for (const c of cs) c.ws.close();
	await Promise.all(cs.map((c) => c.closing));
});

test('an idle connection is closed after the idle timeout', async () => {
	const u = await newUser({ prefix: 'ws' });
	const c = await ready(u.token);
	const t0 = Date.now();
	const cl = await c.closing;
	const s = (Date.now() - t0) / 1000;
	assert.deepEqual([cl.code, cl.reason], [1000, 'idle timeout']);
	assert.ok(s >= IDLE_SEC - 1 && s < IDLE_SEC + 5, `closed after ${s} s`);
});

test('a message counts in its user\'s request limit, the bucket the HTTP routes use', async () => {
	// lib/ratelimit.c: one table per host; 3 requests a minute for cp.
	const a = auth(await admin());
	let r = await postJSON('/settings/rate_limits', { role: 'cp', requests: 3, period_sec: 60 }, a);
	assert.equal(r.status, 200, JSON.stringify(r.body));
	try {
		const u = await newUser({ prefix: 'wsrl', role: 'cp' });
		for (const left of ['2', '1']) {
			r = await getJSON('/me', { headers: auth(u.token) });
			assert.equal(r.status, 200);
			assert.equal(r.headers.get('x-ratelimit-remaining'), left);
		}
		const c = await ready(u.token);
		c.send({ type: 'message', payload: { text: 'Bonjour', model: 'gpt-4o-mini' } });
		await c.next('done');
		c.send({ type: 'message', payload: { text: 'Encore', model: 'gpt-4o-mini' } });
		const err = await c.next('error');
		assert.equal(err.payload.code, 'rate_limited', JSON.stringify(err));
		assert.match(err.payload.message, /retry in \d+ s/);
		// Refused, not disconnected; and the HTTP side sees the bucket empty.
		c.send({ type: 'ping', payload: {} });
		await c.next('pong');
		r = await getJSON('/me', { headers: auth(u.token) });
		assert.equal(r.status, 429);
		c.ws.close(1000);
		await c.closing;
	} finally {
		r = await postJSON('/settings/rate_limits', { role: 'cp', requests: null }, a);
		assert.equal(r.status, 200, JSON.stringify(r.body));
	}
});
