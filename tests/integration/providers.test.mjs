// Several upstream providers at once (issue 20, "Providers"): two fake
// upstreams on two loopback ports, each checking its own API key and
// tagging its answers ("[name] ..."), as two providers made through the
// admin routes.  A model's request goes to its provider with that
// provider's key; /completion's usage and pricing.by_model name the model
// at its provider's prices; the admin's test reports latency or the
// upstream's refusal; a disabled provider's models are neither listed nor
// served, from the next request on (the cache hears the change); keys
// never come back; plain users are refused the admin routes.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { BASE, BUILD, admin, auth, getJSON, newUser, parseSSE, postJSON, psql, uniq } from './lib.mjs';

const fakes = [];

// A fake upstream on a free loopback port; {pid, port, name, key}.
function startFake(name, key) {
	return new Promise((resolve, reject) => {
		const p = spawn(`${BUILD}/tests/fake-openai/fake-openai`, ['--listen', '127.0.0.1:0',
		    '--api-key', key, '--name', name], { stdio: ['ignore', 'ignore', 'pipe'] });
		let err = '';
		const timer = setTimeout(() => reject(new Error(`fake ${name} did not start: ${err}`)), 10000);
		p.on('error', reject);
		p.stderr.on('data', (d) => {
			err += d;
			const m = /listening on 127\.0\.0\.1:(\d+)/.exec(err);
			if (m) {
				clearTimeout(timer);
				const f = { pid: p.pid, port: Number(m[1]), name, key, proc: p };
				fakes.push(f);
				resolve(f);
			}
		});
	});
}

test.after(() => {
	for (const f of fakes) {
		try { process.kill(f.pid, 'SIGTERM'); } catch { /* gone */ }
	}
});

const id = uniq();
const A = { name: `pa${id}`, key: `key-alpha-${id}-WXYZ`, model: `gpt-4o-pa${id}`, price: ['1.5', '2.25'] };
const B = { name: `pb${id}`, key: `key-beta-${id}-QRST`, model: `gpt-4o-pb${id}`, price: ['3', '4.5'] };

const as = async (method, path, body, token) => (method === 'GET' ?
    getJSON(path, { headers: auth(token ?? await admin()) }) :
    postJSON(path, body ?? {}, auth(token ?? await admin())));

const ledger = (model) => psql(`SELECT count(*) || ':' || coalesce(string_agg(DISTINCT provider, ','), '') ` +
    `FROM usage_ledger WHERE model = '${model}'`);

// micro-units of a price per 1M tokens, for the expected amounts.
const micro = (s) => {
	const [i, f = ''] = s.split('.');
	return BigInt(i) * 1000000n + BigInt(f.padEnd(6, '0'));
};

let user;

test('setup: two fakes, two providers with their keys and models, through the admin routes', { timeout: 30000 }, async () => {
	const [fa, fb] = await Promise.all([startFake(A.name, A.key), startFake(B.name, B.key)]);
	for (const [P, f] of [[A, fa], [B, fb]]) {
		let r = await as('POST', '/settings/providers', { name: P.name, kind: 'openai_compatible',
		    base_url: `http://127.0.0.1:${f.port}/v1`, api_key: P.key, enabled: true });
		assert.equal(r.status, 201, JSON.stringify(r.body));
		assert.equal(r.body.name, P.name);
		assert.deepEqual(r.body.api_key, { set: true, last4: P.key.slice(-4) });
		assert.ok(!JSON.stringify(r.body).includes(P.key), 'the key came back');
		P.id = r.body.id;
		r = await as('POST', `/settings/providers/${P.id}/models`, { name: P.model,
		    input_price: P.price[0], output_price: P.price[1] });
		assert.equal(r.status, 200, JSON.stringify(r.body));
		assert.deepEqual(r.body.models.map((m) => [m.name, m.input_price, m.output_price, m.router_enabled]),
		    [[P.model, P.price[0], P.price[1], true]]);
	}
	// Sealed in the database, not in clear.
	const enc = psql(`SELECT encode(api_key_enc, 'escape') FROM providers WHERE name = '${A.name}'`);
	assert.ok(enc.length > 0 && !enc.includes(A.key));
	user = await newUser({ prefix: 'prov', credits: '5.00' });
});

test('a request for a model goes to its provider with its key; usage and pricing name the model', async () => {
	for (const P of [A, B]) {
		const r = await postJSON('/completion', { message: 'Bonjour', model: P.model, stream: false },
		    auth(user.token));
		assert.equal(r.status, 200, JSON.stringify(r.body));
		assert.ok(r.body.response.startsWith(`[${P.name}] `), `answered by the wrong fake: ${r.body.response}`);
		assert.equal(r.body.model, P.model);
		const u = r.body.usage;
		assert.ok(u.prompt_tokens > 0 && u.completion_tokens > 0);
		const pr = r.body.metadata.pricing;
		assert.deepEqual(Object.keys(pr.by_model), [P.model]);
		// Input and output at this provider's prices (USD), in the
		// router's currency at its rate.
		const rate = micro(psql('SELECT usd_rate FROM router_settings WHERE id = 1'));
		const cost = (tokens, price) => Number((((BigInt(tokens) * micro(price) + 999999n) / 1000000n) *
		    rate + 999999n) / 1000000n) / 1e6;
		const m = pr.by_model[P.model];
		assert.ok(Math.abs(m.input - cost(u.prompt_tokens, P.price[0])) <= 0.000002,
		    `input ${m.input} for ${u.prompt_tokens} tokens at ${P.price[0]}`);
		assert.ok(Math.abs(m.output - cost(u.completion_tokens, P.price[1])) <= 0.000002,
		    `output ${m.output} for ${u.completion_tokens} tokens at ${P.price[1]}`);
	}
	// The ledger names each model's provider (written after the answer).
	for (const P of [A, B]) {
		let row = '';
		for (let i = 0; i < 100 && !row.startsWith('1:'); i++) {
			row = ledger(P.model);
			await new Promise((r) => setTimeout(r, 50));
		}
		assert.equal(row, `1:${P.name}`);
	}
});

test('a streamed completion: usage_by_model and pricing name the model of the provider that answered', async () => {
	const r = await fetch(`${BASE}/completion`, { method: 'POST',
	    headers: { 'Content-Type': 'application/json', ...auth(user.token) },
	    body: JSON.stringify({ message: 'Salut', model: B.model, stream: true }) });
	assert.equal(r.status, 200);
	const frames = parseSSE(await r.text()).filter((f) => f.data !== '').map((f) => JSON.parse(f.data));
	const text = frames.filter((f) => !f.done).map((f) => f.content).join('');
	assert.ok(text.startsWith(`[${B.name}] `), text);
	const last = frames.at(-1);
	assert.equal(last.done, true);
	assert.deepEqual(Object.keys(last.metadata.usage_by_model), [B.model]);
	assert.deepEqual(Object.keys(last.metadata.pricing.by_model), [B.model]);
});

test('/models lists each model with its provider; the shipped Mistral entry is there but disabled', async () => {
	let r = await getJSON('/models', { headers: auth(user.token) });
	assert.equal(r.status, 200);
	const by = Object.fromEntries(r.body.models.map((m) => [m.name, m.provider]));
	assert.equal(by[A.model], A.name);
	assert.equal(by[B.model], B.name);
	assert.equal(by['gpt-4o'], 'openai');
	assert.ok(!('mistral-large-latest' in by), 'a disabled provider\'s model is listed');

	r = await as('GET', '/settings/providers');
	assert.equal(r.status, 200);
	const mistral = r.body.providers.find((p) => p.name === 'mistralai');
	assert.ok(mistral, 'no mistralai provider');
	assert.equal(mistral.enabled, false);
	assert.equal(mistral.base_url, 'https://api.mistral.ai/v1');
	const large = mistral.models.find((m) => m.name === 'mistral-large-latest');
	assert.ok(large && Number(large.input_price) > 0 && Number(large.output_price) > 0);
	const openai = r.body.providers.find((p) => p.name === 'openai');
	assert.equal(openai.kind, 'openai');
	// No key anywhere in the list.
	const all = JSON.stringify(r.body);
	assert.ok(!all.includes(A.key) && !all.includes(B.key));
	assert.deepEqual(r.body.providers.find((p) => p.name === B.name).api_key,
	    { set: true, last4: 'QRST' });

	r = await postJSON('/completion', { message: 'Bonjour', model: 'mistral-large-latest' }, auth(user.token));
	assert.equal(r.status, 400, JSON.stringify(r.body));
	assert.match(r.body.error.message, /provider mistralai is disabled/);
});

test('test action: latency when the key is right, the upstream\'s refusal when it is wrong', async () => {
	let r = await as('POST', `/settings/providers/${A.id}/test`, {});
	assert.equal(r.status, 200, JSON.stringify(r.body));
	assert.equal(r.body.ok, true, JSON.stringify(r.body));
	assert.equal(r.body.provider, A.name);
	assert.equal(r.body.model, A.model);
	assert.equal(r.body.status, 200);
	assert.ok(Number.isInteger(r.body.latency_ms) && r.body.latency_ms >= 0);
	assert.equal(r.body.error, null);

	// A wrong key: the fake refuses it, the test says so, and so does a
	// user's request from the next call on.
	r = await as('POST', `/settings/providers/${B.id}`, { api_key: 'wrong-key-0000' });
	assert.equal(r.status, 200, JSON.stringify(r.body));
	assert.deepEqual(r.body.api_key, { set: true, last4: '0000' });
	r = await as('POST', `/settings/providers/${B.id}/test`, { model: B.model });
	assert.equal(r.status, 200, JSON.stringify(r.body));
	assert.equal(r.body.ok, false);
	assert.equal(r.body.status, 401);
	assert.equal(r.body.error.code, 'upstream_error');
	assert.match(r.body.error.message, /Incorrect API key/);
	r = await postJSON('/completion', { message: 'Bonjour', model: B.model }, auth(user.token));
	assert.equal(r.status, 502, JSON.stringify(r.body));

	// Nothing listening: no status, the error said.
	r = await as('POST', '/settings/providers', { name: `pz${id}`,
	    base_url: 'http://127.0.0.1:9/v1', api_key: 'some-key-1234' });
	assert.equal(r.status, 201, JSON.stringify(r.body));
	const z = r.body.id;
	r = await as('POST', `/settings/providers/${z}/test`, { model: A.model });
	assert.equal(r.status, 200, JSON.stringify(r.body));
	assert.equal(r.body.ok, false);
	assert.equal(r.body.status, 0);
	assert.ok(r.body.error.message.length > 0);
	// A provider without a model and none named: said on the field.
	r = await as('POST', `/settings/providers/${z}/test`, {});
	assert.equal(r.status, 400);
	assert.equal(r.body.error.field, 'model');

	r = await as('POST', `/settings/providers/${B.id}`, { api_key: B.key });
	assert.equal(r.status, 200);
	r = await postJSON('/completion', { message: 'Bonjour', model: B.model }, auth(user.token));
	assert.equal(r.status, 200, JSON.stringify(r.body));
	assert.ok(r.body.response.startsWith(`[${B.name}] `));
});

test('a disabled provider refuses its models from the next request on, and is still testable', async () => {
	let r = await as('POST', `/settings/providers/${A.id}`, { enabled: false });
	assert.equal(r.status, 200, JSON.stringify(r.body));
	assert.equal(r.body.enabled, false);
	const before = ledger(A.model);
	r = await postJSON('/completion', { message: 'Bonjour', model: A.model }, auth(user.token));
	assert.equal(r.status, 400, JSON.stringify(r.body));
	assert.equal(r.body.error.field, 'model');
	assert.match(r.body.error.message, new RegExp(`provider ${A.name} is disabled`));
	r = await getJSON('/models', { headers: auth(user.token) });
	assert.ok(!r.body.models.some((m) => m.name === A.model));
	assert.equal(ledger(A.model), before, 'a refused call was billed');
	// The admin tests it before switching it back on.
	r = await as('POST', `/settings/providers/${A.id}/test`, {});
	assert.equal(r.body.ok, true, JSON.stringify(r.body));

	r = await as('POST', `/settings/providers/${A.id}`, { enabled: true });
	assert.equal(r.status, 200);
	r = await postJSON('/completion', { message: 'Bonjour', model: A.model }, auth(user.token));
	assert.equal(r.status, 200, JSON.stringify(r.body));
	assert.ok(r.body.response.startsWith(`[${A.name}] `));
});

test('a model moves to another provider with new prices', async () => {
	const name = `gpt-4o-mv${id}`;
	let r = await as('POST', `/settings/providers/${A.id}/models`, { name, input_price: 1, output_price: 1 });
	assert.equal(r.status, 200, JSON.stringify(r.body));
	r = await as('POST', `/settings/providers/${B.id}/models`, { name, input_price: '2', output_price: '3',
	    cached_input_price: null });
	assert.equal(r.status, 200, JSON.stringify(r.body));
	assert.ok(r.body.models.some((m) => m.name === name && m.input_price === '2'));
	assert.equal(psql(`SELECT provider || ':' || input_price FROM openai_models WHERE name = '${name}'`),
	    `${B.name}:2.000000`);
	r = await postJSON('/completion', { message: 'Bonjour', model: name }, auth(user.token));
	assert.equal(r.status, 200, JSON.stringify(r.body));
	assert.ok(r.body.response.startsWith(`[${B.name}] `));
});

test('bad input gets a clear error on its field', async () => {
	const cases = [
		[{ name: 'Bad Name', base_url: 'https://x.example/v1' }, 400, 'name'],
		[{ name: `px${id}`, base_url: 'http://example.com/v1' }, 400, 'base_url'],
		[{ name: `px${id}`, base_url: 'https://x.example/v1', api_key: 'short' }, 400, 'api_key'],
		[{ name: A.name, base_url: 'https://x.example/v1' }, 409, 'name'],
		[{ name: `px${id}`, base_url: 'https://x.example/v1', kind: 'other' }, 422, null],
	];
	for (const [body, status, field] of cases) {
		const r = await as('POST', '/settings/providers', body);
		assert.equal(r.status, status, `${JSON.stringify(body)}: ${JSON.stringify(r.body)}`);
		if (field)
			assert.equal(r.body.error.field, field, JSON.stringify(r.body));
	}
	let r = await as('POST', `/settings/providers/${A.id}`, { base_url: null });
	assert.equal(r.status, 400);
	assert.equal(r.body.error.field, 'base_url');
	r = await as('POST', `/settings/providers/${A.id}/models`, { name: 'x', input_price: '-1', output_price: 1 });
	assert.equal(r.status, 400);
	assert.equal(r.body.error.field, 'input_price');
	r = await as('POST', `/settings/providers/${A.id}/models`, { name: 'x', input_price: '1', output_price: 1,
	    cached_input_price: '2' });
	assert.equal(r.status, 400, JSON.stringify(r.body));
	r = await as('POST', '/settings/providers/999999999', { enabled: true });
	assert.equal(r.status, 404);
});

test('admin routes refuse a plain user and an anonymous caller', async () => {
	const routes = [['GET', '/settings/providers'], ['POST', '/settings/providers'],
	    ['POST', `/settings/providers/${A.id}`], ['POST', `/settings/providers/${A.id}/models`],
	    ['POST', `/settings/providers/${A.id}/test`]];
	for (const [method, path] of routes) {
		let r = await as(method, path, { enabled: false }, user.token);
		assert.equal(r.status, 403, `${method} ${path}: ${JSON.stringify(r.body)}`);
		r = method === 'GET' ? await getJSON(path) : await postJSON(path, {});
		assert.equal(r.status, 401, `${method} ${path}`);
	}
	assert.equal(psql(`SELECT enabled FROM providers WHERE name = '${A.name}'`), 't');
});
