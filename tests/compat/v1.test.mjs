// The official `openai` npm SDK pointed at relais' own /v1 (cgi-bin/
// completions.c), not at the fake: baseURL http://host/v1 and a relais API
// token as the key, every method the OpenAI-compatible surface offers,
// streaming included, and the SDK's typed errors for 400, 401, 402, 404
// and 429.  Needs the stack scripts/test starts (RELAIS_TEST_BASE...): run
// it through scripts/test; without it the import below fails loudly.
import test from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';

import { admin, auth, BASE, newUser, postJSON, psql, q, sentence, uniq, until }
    from '../integration/lib.mjs';

// A fresh user with `credits` dollars and a client keyed by its API token.
async function client(credits = '5.00') {
	const u = await newUser({ prefix: `v1-${uniq()}`, credits });
	const r = await postJSON('/api/token', {}, auth(u.token));
	assert.equal(r.status, 201, JSON.stringify(r.body));
	return { ...u, key: r.body.token,
	    openai: new OpenAI({ apiKey: r.body.token, baseURL: `${BASE}/v1`, maxRetries: 0 }) };
}

const hello = [{ role: 'user', content: 'Bonjour' }];

test('chat.completions.create: plain, billed once', async () => {
	const u = await client();
	const c = await u.openai.chat.completions.create({ model: 'gpt-4o-mini', messages: hello });
	assert.match(c.id, /^chatcmpl-[0-9a-f]{24}$/);
	assert.equal(c.object, 'chat.completion');
	assert.equal(c.model, 'gpt-4o-mini');
	assert.equal(c.choices[0].message.content, sentence('gpt-4o-mini'));
	assert.equal(c.usage.total_tokens, c.usage.prompt_tokens + c.usage.completion_tokens);
	assert.equal(c.success, undefined, 'OpenAI\'s object, not the seed\'s');
	await until('ledger row', () => psql(`SELECT count(*) FROM usage_ledger WHERE user_id = ${u.id} AND kind = 'openai_call'`) === '1');
});

test('chat.completions.create: stream with include_usage', async () => {
	const u = await client();
	const s = await u.openai.chat.completions.create({ model: 'gpt-4o-mini', messages: hello,
	    stream: true, stream_options: { include_usage: true } });
	let text = '', last, ids = new Set();
	for await (const chunk of s) {
		ids.add(chunk.id);
		text += chunk.choices[0]?.delta?.content ?? '';
		last = chunk;
	}
	assert.equal(text, sentence('gpt-4o-mini'));
	assert.equal(ids.size, 1);
	assert.match([...ids][0], /^chatcmpl-[0-9a-f]{24}$/);
	assert.deepEqual(last.choices, []);
	assert.ok(last.usage.completion_tokens > 0);
});

test('chat.completions.create: tools and response_format json_schema', async () => {
	const u = await client();
	const c = await u.openai.chat.completions.create({ model: 'gpt-4o', messages: hello,
	    tools: [{ type: 'function', function: { name: 'get_weather', parameters: {
		type: 'object', properties: { city: { type: 'string' } }, required: ['city'],
		additionalProperties: false } } }], tool_choice: 'required' });
	const call = c.choices[0].message.tool_calls[0];
	assert.equal(call.type, 'function');
	assert.equal(call.function.name, 'get_weather');
	assert.equal(typeof JSON.parse(call.function.arguments).city, 'string');
	const j = await u.openai.chat.completions.create({ model: 'gpt-4o', messages: hello,
	    response_format: { type: 'json_schema', json_schema: { name: 'answer', strict: true, schema: {
		type: 'object', properties: { title: { type: 'string' }, score: { type: 'integer' } },
		required: ['title', 'score'], additionalProperties: false } } } });
	const v = JSON.parse(j.choices[0].message.content);
	assert.equal(typeof v.title, 'string');
	assert.equal(Number.isInteger(v.score), true);
});

test('stored completions: list (auto-paging, filters), retrieve, update, messages, delete', async () => {
	const u = await client();
	const ids = [];
	for (let i = 0; i < 5; i++) {
		const c = await u.openai.chat.completions.create({ model: i < 4 ? 'gpt-4o-mini' : 'gpt-4o',
		    messages: [{ role: 'system', content: 'Sois bref.' }, { role: 'user', content: `q${i}` }],
		    store: true, metadata: { parity: i % 2 ? 'odd' : 'even' } });
		ids.push(c.id);
	}
	// Every page, two at a time, through the SDK's own cursor (after).
	const seen = [];
	for await (const c of u.openai.chat.completions.list({ limit: 2 }))
		seen.push(c.id);
	assert.deepEqual(seen, ids);
	let page = await u.openai.chat.completions.list({ limit: 2, order: 'desc' });
	assert.deepEqual(page.data.map((c) => c.id), [ids[4], ids[3]]);
	assert.equal(page.hasNextPage(), true);
	page = await page.getNextPage();
	assert.deepEqual(page.data.map((c) => c.id), [ids[2], ids[1]]);
	page = await u.openai.chat.completions.list({ model: 'gpt-4o' });
	assert.deepEqual(page.data.map((c) => c.id), [ids[4]]);
	page = await u.openai.chat.completions.list({ metadata: { parity: 'odd' } });
	assert.deepEqual(page.data.map((c) => c.id), [ids[1], ids[3]]);
	page = await u.openai.chat.completions.list({ after: ids[1], limit: 2 });
	assert.deepEqual(page.data.map((c) => c.id), [ids[2], ids[3]]);

	const c = await u.openai.chat.completions.retrieve(ids[0]);
	assert.equal(c.id, ids[0]);
	assert.equal(c.choices[0].message.content, sentence('gpt-4o-mini'));
	assert.deepEqual(c.metadata, { parity: 'even' });
	const up = await u.openai.chat.completions.update(ids[0], { metadata: { reviewed: 'yes' } });
	assert.deepEqual(up.metadata, { reviewed: 'yes' });
	const msgs = [];
	for await (const m of u.openai.chat.completions.messages.list(ids[0], { limit: 1 }))
		msgs.push([m.id, m.role, m.content]);
	assert.deepEqual(msgs, [[`${ids[0]}-0`, 'system', 'Sois bref.'], [`${ids[0]}-1`, 'user', 'q0']]);
	const d = await u.openai.chat.completions.delete(ids[0]);
	assert.deepEqual([d.id, d.deleted, d.object], [ids[0], true, 'chat.completion.deleted']);
	await assert.rejects(u.openai.chat.completions.retrieve(ids[0]), OpenAI.NotFoundError);
	// Another user's completion is not found either.
	const other = await client();
	await assert.rejects(other.openai.chat.completions.retrieve(ids[1]), OpenAI.NotFoundError);
	await assert.rejects(other.openai.chat.completions.delete(ids[1]), OpenAI.NotFoundError);
	assert.equal(psql(`SELECT count(*) FROM stored_completions WHERE id = ${q(ids[1])}`), '1');
});

test('models.list and models.retrieve: the registry\'s models', async () => {
	const u = await client();
	const names = psql('SELECT string_agg(name, \',\' ORDER BY name) FROM openai_models').split(',');
	const got = [];
	for await (const m of u.openai.models.list())
		got.push(m.id);
	assert.deepEqual(got, names);
	const m = await u.openai.models.retrieve('gpt-4o');
	assert.deepEqual([m.id, m.object, typeof m.created, m.owned_by], ['gpt-4o', 'model', 'number', 'openai']);
	await assert.rejects(u.openai.models.retrieve('no-such-model'), OpenAI.NotFoundError);
});

test('responses.create: plain and streamed', async () => {
	const u = await client();
	const r = await u.openai.responses.create({ model: 'gpt-4o-mini', input: 'Bonjour' });
	assert.equal(r.object, 'response');
	assert.equal(r.status, 'completed');
	assert.equal(r.output_text, sentence('gpt-4o-mini'));
	const s = await u.openai.responses.create({ model: 'gpt-4o-mini', input: 'Bonjour', stream: true });
	const types = [];
	const ids = {};
	let text = '';
	for await (const ev of s) {
		types.push(ev.type);
		if (ev.response !== undefined)
			ids[ev.type] = ev.response.id;
		if (ev.type === 'response.output_text.delta')
			text += ev.delta;
	}
	assert.deepEqual(types.slice(0, 2), ['response.created', 'response.in_progress']);
	assert.equal(types.at(-1), 'response.completed');
	// The copies go through unparsed (lib/openai.h): still the same response.
	assert.match(ids['response.created'], /^resp_/);
	assert.equal(ids['response.in_progress'], ids['response.created']);
	assert.equal(ids['response.completed'], ids['response.created']);
	assert.equal(text, sentence('gpt-4o-mini'));
	await until('two ledger rows', () => psql(`SELECT count(*) FROM usage_ledger WHERE user_id = ${u.id} AND feature = 'api.responses'`) === '2');
});

test('typed errors: 400, 401, 402 (APIError, documented), 404, 429', async () => {
	const u = await client();
	// 400: a parameter the model refuses, OpenAI's body.
	let e = await u.openai.chat.completions.create({ model: 'o3', messages: hello, temperature: 0.5 })
	    .catch((x) => x);
	assert.ok(e instanceof OpenAI.BadRequestError, String(e));
	assert.equal(e.status, 400);
	assert.equal(e.code, 'INVALID_PARAMETER_FOR_MODEL');
	assert.equal(e.param, 'temperature');
	assert.equal(e.type, 'invalid_request_error');
	// 401: a bad key.
	const bad = new OpenAI({ apiKey: 'not-a-relais-token', baseURL: `${BASE}/v1`, maxRetries: 0 });
	e = await bad.chat.completions.create({ model: 'gpt-4o', messages: hello }).catch((x) => x);
	assert.ok(e instanceof OpenAI.AuthenticationError, String(e));
	assert.equal(e.type, 'authentication_error');
	// 402: credits short; no typed class in the SDK, and no retry.
	const poor = await client('0.00');
	e = await poor.openai.chat.completions.create({ model: 'gpt-4o', messages: hello }).catch((x) => x);
	assert.ok(e instanceof OpenAI.APIError, String(e));
	assert.equal(e.status, 402);
	assert.equal(e.type, 'insufficient_quota');
	assert.equal(e.code, 'insufficient_credits');
	// 404
	e = await u.openai.chat.completions.retrieve('chatcmpl-000000000000000000000000').catch((x) => x);
	assert.ok(e instanceof OpenAI.NotFoundError, String(e));
	// 429: the provider's rate limit.
	e = await u.openai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user',
	    content: 'x [[X-Fake-Fault: 429; X-Fake-Retry-After: 0]]' }] }).catch((x) => x);
	assert.ok(e instanceof OpenAI.RateLimitError, String(e));
	assert.equal(e.type, 'rate_limit_error');
	// 429: too many failed Basic logins (the login limits).
	psql('DELETE FROM login_attempts');
	const name = `v1-basic-${uniq()}`;
	const made = await postJSON('/manage_users', { username: name, password: 'correct horse' }, auth(await admin()));
	assert.equal(made.status, 201);
	const basic = new OpenAI({ apiKey: 'unused', baseURL: `${BASE}/v1`, maxRetries: 0,
	    defaultHeaders: { Authorization: `Basic ${Buffer.from(`${name}:wrong`).toString('base64')}` } });
	for (let i = 0; i < 5; i++)
		assert.ok(await basic.models.list().catch((x) => x) instanceof OpenAI.AuthenticationError);
	e = await basic.models.list().catch((x) => x);
	assert.ok(e instanceof OpenAI.RateLimitError, String(e));
	psql('DELETE FROM login_attempts');
});
