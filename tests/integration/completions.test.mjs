// Seed 003's Chat Completions API (/api/ai/chat/completions) through nginx,
// the completions program and the fake upstream: the create with the seed's
// parameters and the registry's refusals, HTTP Basic (cached, dropped on a
// password change, counted by the login limits) beside the other
// credentials, streams (a cut one billed for what it used), stored
// completions (pages, filters, limits, another user's id), errors and
// money, and a Python client written as the seed's examples are.
import test from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { execFileSync } from 'node:child_process';
import { admin, auth, BASE, getJSON, login, parseSSE, PASSWORD, postJSON,
    psql, q, sentence, TOP, uniq, until } from './lib.mjs';

const API = '/api/ai/chat/completions';

// A fresh user with an e-mail address, `credits` dollars, a JWT and the
// Basic header of its e-mail and password.
async function user(credits = '5.00') {
	const name = `cc-${uniq()}`;
	const email = `${name}@example.com`;
	const a = await admin();
	let r = await postJSON('/manage_users', { username: name, email, password: PASSWORD,
	    role: 'professeur' }, auth(a));
	assert.equal(r.status, 201, JSON.stringify(r.body));
	const id = r.body.id;
	if (credits !== '0.00') {
		r = await postJSON(`/edit_user/${id}/credits`, { amount: credits, operation: 'add' }, auth(a));
		assert.equal(r.status, 200, JSON.stringify(r.body));
	}
	return { id, name, email, token: await login(name, PASSWORD),
	    basic: basicOf(email, PASSWORD) };
}

const basicOf = (login, password) => ({ Authorization:
    `Basic ${Buffer.from(`${login}:${password}`).toString('base64')}` });

const create = (u, body, headers = u.basic) => postJSON(API, body, headers);
const get = (path, headers) => getJSON(path, { headers });
const del = (path, headers) => getJSON(path, { method: 'DELETE', headers });

const hello = [{ role: 'user', content: 'Bonjour' }];
const ledger = (id) => psql(`SELECT count(*) FROM usage_ledger WHERE user_id = ${id} AND kind = 'openai_call'`);
const balance = (id) => psql(`SELECT credits FROM users WHERE id = ${id}`);
const micro = (s) => BigInt(s.replace('.', ''));
const attempts = (id) => Number(psql(`SELECT count(*) FROM login_attempts WHERE user_id = ${id}`));

test.beforeEach(() => psql('DELETE FROM login_attempts'));
test.after(() => psql('DELETE FROM login_attempts'));

test('create: the seed\'s example, answered and stored, one ledger row', async () => {
	const u = await user();
	const before = balance(u.id);
	const r = await create(u, {
		messages: [
			{ role: 'system', content: 'Tu es un assistant email.' },
			{ role: 'user', content: 'Écris une réponse professionnelle.' },
		],
		model: 'gpt-4o-mini', temperature: 0.7, max_tokens: 200, store: true,
		metadata: { user_id: '123', category: 'email_response' },
	});
	assert.equal(r.status, 200, JSON.stringify(r.body));
	const b = r.body;
	assert.equal(b.success, true);
	assert.match(b.id, /^chatcmpl-[0-9a-f]{24}$/);
	assert.equal(b.model, 'gpt-4o-mini');
	assert.equal(b.choices[0].message.role, 'assistant');
	assert.equal(b.choices[0].message.content, sentence('gpt-4o-mini'));
	assert.equal(b.choices[0].finish_reason, 'stop');
	assert.equal(b.usage.total_tokens, b.usage.prompt_tokens + b.usage.completion_tokens);
	assert.ok(b.usage.prompt_tokens > 0 && b.usage.completion_tokens > 0);
	assert.ok(Math.abs(b.created - Date.now() / 1000) < 60);
	const row = JSON.parse(psql(`SELECT row_to_json(s) FROM stored_completions s WHERE id = ${q(b.id)}`));
	assert.equal(row.user_id, u.id);
	assert.equal(row.model, 'gpt-4o-mini');
	assert.deepEqual(row.metadata, { user_id: '123', category: 'email_response' });
	assert.equal(row.messages.length, 2);
	assert.deepEqual(row.choices, b.choices);
	assert.equal(row.request.max_tokens, 200);
	assert.equal(row.request.temperature, 0.7);
	// Billed once, after the answer.
	await until('ledger row', () => ledger(u.id) === '1');
	const cost = psql(`SELECT cost FROM usage_ledger WHERE user_id = ${u.id} AND kind = 'openai_call'`);
	assert.ok(Number(cost) > 0);
	assert.equal(micro(before) - micro(balance(u.id)), micro(cost));
	assert.equal(psql(`SELECT feature FROM usage_ledger WHERE user_id = ${u.id}`), 'api.chat.completions');
	// Without store: answered, not kept.
	const r2 = await create(u, { messages: hello, model: 'gpt-4o-mini' });
	assert.equal(r2.status, 200);
	assert.equal(psql(`SELECT count(*) FROM stored_completions WHERE id = ${q(r2.body.id)}`), '0');
});

test('create: every parameter of the seed reaches the provider, auto-configured', async () => {
	const u = await user();
	const tools = [{ type: 'function', function: { name: 'send_email', description: 'Envoie un email',
	    parameters: { type: 'object', properties: { to: { type: 'string' } }, required: ['to'] } } }];
	let r = await create(u, { messages: hello, model: 'gpt-4o', temperature: 0.2, top_p: 0.9,
	    frequency_penalty: 0.5, presence_penalty: 0.3, stop: ['\n\n'], n: 3, logprobs: false,
	    seed: 42, response_format: { type: 'json_object' }, store: true });
	assert.equal(r.status, 200, JSON.stringify(r.body));
	assert.equal(r.body.choices.length, 3, 'n: 3 suggestions');
	const req = JSON.parse(psql(`SELECT request FROM stored_completions WHERE id = ${q(r.body.id)}`));
	assert.deepEqual([req.top_p, req.frequency_penalty, req.presence_penalty, req.seed, req.n],
	    [0.9, 0.5, 0.3, 42, 3]);
	assert.deepEqual(req.stop, ['\n\n']);
	assert.equal(req.max_tokens, 1000, 'the registry\'s default cap');
	r = await create(u, { messages: [{ role: 'user', content: 'Envoie un email à john@example.com' }],
	    model: 'gpt-4o', tools, tool_choice: 'required' });
	assert.equal(r.status, 200, JSON.stringify(r.body));
	const call = r.body.choices[0].message.tool_calls[0];
	assert.equal(call.function.name, 'send_email');
	assert.equal(typeof JSON.parse(call.function.arguments).to, 'string');
	// A reasoning model: reasoning_effort taken, max_tokens renamed.
	r = await create(u, { messages: hello, model: 'o3', reasoning_effort: 'low', max_tokens: 50, store: true });
	assert.equal(r.status, 200, JSON.stringify(r.body));
	const o3 = JSON.parse(psql(`SELECT request FROM stored_completions WHERE id = ${q(r.body.id)}`));
	assert.equal(o3.reasoning_effort, 'low');
	assert.equal(o3.max_completion_tokens, 50);
	assert.equal(o3.max_tokens, undefined);
	// The default model is the seed's.
	r = await create(u, { messages: hello });
	assert.equal(r.body.model, 'gpt-4o');
});

test('create: a parameter the model refuses is /ai/openai/chat/\'s 400, nothing reserved', async () => {
	const u = await user('1.00');
	let r = await create(u, { model: 'o3', messages: hello, temperature: 0.5 });
	assert.equal(r.status, 400);
	assert.deepEqual(r.body, {
		success: false,
		error: 'O3 models don\'t support temperature parameter',
		error_code: 'INVALID_PARAMETER_FOR_MODEL', model: 'o3',
		invalid_params: ['temperature'],
		suggested_params: ['reasoning_effort', 'max_completion_tokens'],
	});
	r = await create(u, { model: 'gpt-4o', messages: hello, reasoning_effort: 'high' });
	assert.equal(r.status, 400);
	assert.equal(r.body.error_code, 'INVALID_PARAMETER_FOR_MODEL');
	assert.deepEqual(r.body.invalid_params, ['reasoning_effort']);
	// Bad values: {success: false, error} naming the field.
	for (const [body, field] of [
		[{ model: 'gpt-4o' }, 'messages'],
		[{ messages: [] }, 'messages'],
		[{ messages: hello, temperature: 7 }, 'temperature'],
		[{ messages: hello, temperature: 'hot' }, 'temperature'],
		[{ messages: hello, model: 'llama-unknown' }, 'model'],
		[{ messages: hello, n: 17 }, 'n'],
		[{ messages: [{ role: 'wizard', content: 'x' }] }, 'messages.0.role'],
	]) {
		r = await create(u, body);
		assert.equal(r.status, 400, `${JSON.stringify(body)} -> ${JSON.stringify(r.body)}`);
		assert.equal(r.body.success, false);
		assert.equal(typeof r.body.error, 'string');
		assert.equal(r.body.field, field, JSON.stringify(r.body));
	}
	r = await postJSON(API, '{"messages": [', u.basic);
	assert.equal(r.status, 400);
	assert.equal(r.body.success, false);
	assert.equal(psql(`SELECT count(*) FROM credit_reservations WHERE user_id = ${u.id}`), '0');
	assert.equal(balance(u.id), '1.000000');
});

test('auth: Basic, Bearer JWT, Bearer API token and X-API-Token; 401 otherwise', async () => {
	const u = await user();
	let r = await create(u, { messages: hello }, {});
	assert.equal(r.status, 401);
	assert.equal(r.body.success, false);
	assert.match(r.headers.get('www-authenticate'), /Basic/);
	r = await create(u, { messages: hello }, basicOf(u.email, 'wrong password'));
	assert.equal(r.status, 401);
	assert.equal(r.body.success, false);
	r = await create(u, { messages: hello }, { Authorization: 'Basic !!!' });
	assert.equal(r.status, 401);
	assert.equal((await create(u, { messages: hello }, auth(u.token))).status, 200);
	const t = await postJSON('/api/token', {}, auth(u.token));
	assert.equal(t.status, 201, JSON.stringify(t.body));
	assert.equal((await create(u, { messages: hello }, auth(t.body.token))).status, 200);
	assert.equal((await create(u, { messages: hello }, { 'X-API-Token': t.body.token })).status, 200);
	assert.equal((await create(u, { messages: hello }, auth('not-a-token'))).status, 401);
	// The name works as the e-mail does (either logs in).
	assert.equal((await get(API, basicOf(u.name, PASSWORD))).status, 200);
});

test('Basic: verified once, then cached; a password change drops it at once', async () => {
	const u = await user();
	const a0 = attempts(u.id);	// the JWT's login
	for (let i = 0; i < 5; i++) {
		const r = await get(API, u.basic);
		assert.equal(r.status, 200, JSON.stringify(r.body));
	}
	// One argon2id check (one login attempt) for five requests.
	assert.equal(attempts(u.id), a0 + 1);
	assert.equal(psql(`SELECT bool_and(success) FROM login_attempts WHERE user_id = ${u.id}`), 't');
	// The password changes (another account's hash: "other password").
	const other = await postJSON('/manage_users', { username: `cc-pw-${uniq()}`,
	    password: 'other password' }, auth(await admin()));
	assert.equal(other.status, 201);
	psql(`UPDATE users SET password_hash = (SELECT password_hash FROM users WHERE id = ${other.body.id}) WHERE id = ${u.id}`);
	let r = await get(API, u.basic);
	assert.equal(r.status, 401, 'the old password is refused at once');
	r = await get(API, basicOf(u.email, 'other password'));
	assert.equal(r.status, 200, JSON.stringify(r.body));
});

test('Basic: failed logins count toward the login limits (429)', async () => {
	const u = await user();
	const a0 = attempts(u.id);	// the JWT's login, a success
	const bad = basicOf(u.email, 'not the password');
	for (let i = 0; i < 5; i++)
		assert.equal((await get(API, bad)).status, 401);
	const r = await get(API, bad);
	assert.equal(r.status, 429);
	assert.equal(r.body.success, false);
	assert.equal(r.body.code, 'rate_limited');
	assert.equal((await get(API, u.basic)).status, 429, 'even the right password waits');
	assert.equal(attempts(u.id), a0 + 5);
});

// A raw streamed request; resolves {status, headers, text}.
function stream(u, body, { cutAfter } = {}) {
	return new Promise((resolve, reject) => {
		const url = new URL(BASE + API);
		const req = http.request({ host: url.hostname, port: url.port, path: url.pathname,
		    method: 'POST', headers: { 'Content-Type': 'application/json', ...u.basic } }, (res) => {
			let text = '';
			res.setEncoding('utf8');
			res.on('data', (c) => {
				text += c;
				if (cutAfter !== undefined && parseSSE(text).filter((f) => f.data !== '').length >= cutAfter) {
					req.destroy();
					resolve({ status: res.statusCode, headers: res.headers, text, cut: true });
				}
			});
			res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text }));
			res.on('error', () => {});
		});
		req.on('error', (e) => { if (cutAfter === undefined) reject(e); });
		req.end(JSON.stringify(body));
	});
}

test('stream: OpenAI\'s chunks under our id, [DONE] last, stored whole', async () => {
	const u = await user();
	const r = await stream(u, { messages: hello, model: 'gpt-4o-mini', stream: true, store: true,
	    metadata: { kind: 'stream' } });
	assert.equal(r.status, 200);
	assert.match(r.headers['content-type'], /^text\/event-stream/);
	const frames = parseSSE(r.text).filter((f) => f.data !== '');
	assert.equal(frames.at(-1).data, '[DONE]');
	const chunks = frames.slice(0, -1).map((f) => JSON.parse(f.data));
	assert.ok(chunks.length >= 2);
	const id = chunks[0].id;
	assert.match(id, /^chatcmpl-[0-9a-f]{24}$/);
	for (const c of chunks) {
		assert.equal(c.object, 'chat.completion.chunk');
		assert.equal(c.id, id);
		assert.equal(c.usage, undefined, 'no usage chunk unless asked');
	}
	const text = chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');
	assert.equal(text, sentence('gpt-4o-mini'));
	assert.equal(chunks.at(-1).choices[0].finish_reason, 'stop');
	const row = JSON.parse(psql(`SELECT row_to_json(s) FROM stored_completions s WHERE id = ${q(id)}`));
	assert.equal(row.choices[0].message.content, text);
	assert.deepEqual(row.metadata, { kind: 'stream' });
	assert.ok(row.usage.completion_tokens > 0);
	await until('ledger row', () => ledger(u.id) === '1');
	// With stream_options.include_usage the usage chunk comes before [DONE].
	const r2 = await stream(u, { messages: hello, model: 'gpt-4o-mini', stream: true,
	    stream_options: { include_usage: true } });
	const c2 = parseSSE(r2.text).filter((f) => f.data !== '' && f.data !== '[DONE]').map((f) => JSON.parse(f.data));
	assert.equal(c2.at(-1).choices.length, 0);
	assert.ok(c2.at(-1).usage.total_tokens > 0);
});

test('stream: a client that cuts the stream is billed for what was used', async () => {
	const u = await user();
	const before = micro(balance(u.id));
	const r = await stream(u, { messages: [{ role: 'user',
	    content: 'Long [[X-Fake-Chunks: 400; X-Fake-Chunk-Ms: 25]]' }], model: 'gpt-4o-mini',
	    stream: true, store: true }, { cutAfter: 3 });
	assert.equal(r.cut, true);
	const rid = r.headers['x-request-id'];
	assert.ok(rid);
	const row = await until('partial ledger row', () => {
		const s = psql(`SELECT json_build_object('status', status, 'cost', cost, 'out', output_tokens) ` +
		    `FROM usage_ledger WHERE request_id = ${q(rid)}`);
		return s === '' ? null : JSON.parse(s);
	}, 20000);
	assert.equal(row.status, 'partial');
	assert.ok(row.out > 0 && row.out < 400, JSON.stringify(row));
	assert.ok(row.cost > 0);
	await until('hold settled', () => psql(`SELECT count(*) FROM credit_reservations WHERE user_id = ${u.id} AND state = 'reserved'`) === '0');
	const cost = psql(`SELECT cost FROM usage_ledger WHERE request_id = ${q(rid)}`);
	assert.equal(before - micro(balance(u.id)), micro(cost));
	assert.equal(psql(`SELECT count(*) FROM stored_completions WHERE user_id = ${u.id}`), '0', 'a cut stream is not stored');
});

test('errors: 402 when credits are short, 502 when the provider fails, 429 on its rate limit', async () => {
	const poor = await user('0.00');
	let r = await create(poor, { messages: hello });
	assert.equal(r.status, 402);
	assert.equal(r.body.success, false);
	assert.equal(r.body.code, 'insufficient_credits');
	r = await stream(poor, { messages: hello, stream: true });
	assert.equal(r.status, 402, 'a stream refused before it opens');
	const u = await user();
	r = await create(u, { messages: [{ role: 'user', content: 'x [[X-Fake-Fault: garbage]]' }] });
	assert.equal(r.status, 502, JSON.stringify(r.body));
	assert.equal(r.body.success, false);
	r = await create(u, { messages: [{ role: 'user', content: 'y [[X-Fake-Fault: 429; X-Fake-Retry-After: 0]]' }] });
	assert.equal(r.status, 429, JSON.stringify(r.body));
	assert.equal(r.body.success, false);
});

// n stored completions for u, oldest first: ids.
async function stored(u, n, { model = 'gpt-4o-mini', metadata = (i) => ({ i: String(i) }) } = {}) {
	const ids = [];
	for (let i = 0; i < n; i++) {
		const r = await create(u, { messages: [{ role: 'user', content: `Message ${i}` }], model,
		    store: true, metadata: metadata(i) });
		assert.equal(r.status, 200, JSON.stringify(r.body));
		ids.push(r.body.id);
	}
	return ids;
}

test('list: pages across the whole set, both orders, model and metadata filters', async () => {
	const u = await user();
	const ids = await stored(u, 5, { metadata: (i) => ({ parity: i % 2 ? 'odd' : 'even', i: String(i) }) });
	const more = await stored(u, 2, { model: 'gpt-4o', metadata: () => ({ parity: 'odd' }) });
	const all = [...ids, ...more];
	// Pages of 2, oldest first (the default order).
	const seen = [];
	let after, page;
	do {
		const r = await get(`${API}?limit=2${after ? `&after=${after}` : ''}`, u.basic);
		assert.equal(r.status, 200, JSON.stringify(r.body));
		page = r.body;
		assert.equal(page.success, true);
		assert.ok(page.completions.length <= 2);
		for (const c of page.completions) {
			assert.deepEqual(Object.keys(c).sort(), ['created', 'id', 'model', 'usage']);
			assert.ok(c.usage.total_tokens > 0);
		}
		seen.push(...page.completions.map((c) => c.id));
		assert.equal(page.last_id, page.completions.at(-1).id);
		after = page.last_id;
	} while (page.has_more);
	assert.deepEqual(seen, all);
	// Newest first.
	let r = await get(`${API}?limit=10&order=desc`, u.basic);
	assert.deepEqual(r.body.completions.map((c) => c.id), [...all].reverse());
	assert.equal(r.body.has_more, false);
	r = await get(`${API}?limit=3&order=desc&after=${all[4]}`, u.basic);
	assert.deepEqual(r.body.completions.map((c) => c.id), [all[3], all[2], all[1]]);
	assert.equal(r.body.has_more, true);
	// Filters.
	r = await get(`${API}?model=gpt-4o`, u.basic);
	assert.deepEqual(r.body.completions.map((c) => c.id), more);
	r = await get(`${API}?metadata[parity]=odd`, u.basic);
	assert.deepEqual(r.body.completions.map((c) => c.id), [ids[1], ids[3], ...more]);
	r = await get(`${API}?metadata[parity]=odd&metadata[i]=3`, u.basic);
	assert.deepEqual(r.body.completions.map((c) => c.id), [ids[3]]);
	r = await get(`${API}?metadata[parity]=odd&model=gpt-4o-mini&limit=1`, u.basic);
	assert.deepEqual(r.body.completions.map((c) => c.id), [ids[1]]);
	assert.equal(r.body.has_more, true);
	r = await get(`${API}?metadata[nothing]=here`, u.basic);
	assert.deepEqual(r.body, { success: true, completions: [], has_more: false, first_id: null, last_id: null });
	// The limits and a bad cursor.
	for (const qs of ['limit=0', 'limit=101', 'limit=x', 'order=sideways']) {
		r = await get(`${API}?${qs}`, u.basic);
		assert.equal(r.status, 400, `${qs}: ${JSON.stringify(r.body)}`);
		assert.equal(r.body.success, false);
	}
	r = await get(`${API}?limit=100`, u.basic);
	assert.equal(r.status, 200);
	r = await get(`${API}?after=chatcmpl-000000000000000000000000`, u.basic);
	assert.equal(r.status, 404);
	assert.equal(r.body.field, 'after');
	// Someone else sees none of them, and cannot page from them.
	const other = await user();
	r = await get(API, other.basic);
	assert.deepEqual(r.body.completions, []);
	assert.equal((await get(`${API}?after=${all[0]}`, other.basic)).status, 404);
});

test('one completion: read, metadata replaced (OpenAI\'s limits), deleted; another user\'s is 404', async () => {
	const u = await user();
	const other = await user();
	const [id] = await stored(u, 1, { metadata: () => ({ status: 'draft' }) });
	let r = await get(`${API}/${id}`, u.basic);
	assert.equal(r.status, 200, JSON.stringify(r.body));
	assert.equal(r.body.success, true);
	assert.equal(r.body.id, id);
	assert.equal(r.body.choices[0].message.content, sentence('gpt-4o-mini'));
	assert.deepEqual(r.body.metadata, { status: 'draft' });
	// The seed's update.
	r = await postJSON(`${API}/${id}`, { metadata: { status: 'approved', rating: '5' } }, u.basic);
	assert.equal(r.status, 200, JSON.stringify(r.body));
	assert.deepEqual(r.body.metadata, { status: 'approved', rating: '5' });
	assert.deepEqual((await get(`${API}/${id}`, u.basic)).body.metadata, { status: 'approved', rating: '5' });
	// 16 keys, key <= 64, value <= 512: a 400 naming the key.
	const keys = (n) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, 'v']));
	assert.equal((await postJSON(`${API}/${id}`, { metadata: keys(16) }, u.basic)).status, 200);
	r = await postJSON(`${API}/${id}`, { metadata: keys(17) }, u.basic);
	assert.equal(r.status, 400);
	assert.match(r.body.error, /16/);
	const long = 'k'.repeat(65);
	r = await postJSON(`${API}/${id}`, { metadata: { [long]: 'v' } }, u.basic);
	assert.equal(r.status, 400);
	assert.equal(r.body.field, `metadata.${long.slice(0, 64)}`);
	assert.ok(r.body.error.includes('k'.repeat(64)));
	assert.equal((await postJSON(`${API}/${id}`, { metadata: { ['é'.repeat(64)]: 'x'.repeat(512) } }, u.basic)).status, 200);
	r = await postJSON(`${API}/${id}`, { metadata: { note: 'x'.repeat(513) } }, u.basic);
	assert.equal(r.status, 400);
	assert.equal(r.body.field, 'metadata.note');
	assert.match(r.body.error, /note/);
	r = await postJSON(`${API}/${id}`, { metadata: { n: 5 } }, u.basic);
	assert.equal(r.status, 400);
	assert.equal(r.body.field, 'metadata.n');
	r = await create(u, { messages: hello, store: true, metadata: keys(17) });
	assert.equal(r.status, 400, 'the create checks them too');
	// Another user's id: 404 on every route, nothing changed.
	for (const [m, path, body] of [['GET', `${API}/${id}`], ['POST', `${API}/${id}`, { metadata: {} }],
	    ['DELETE', `${API}/${id}`], ['GET', `${API}/${id}/messages`]]) {
		r = body ? await postJSON(path, body, other.basic) : await getJSON(path, { method: m, headers: other.basic });
		assert.equal(r.status, 404, `${m} ${path}`);
		assert.equal(r.body.success, false);
	}
	assert.equal(psql(`SELECT count(*) FROM stored_completions WHERE id = ${q(id)}`), '1');
	// Deleted.
	r = await del(`${API}/${id}`, u.basic);
	assert.equal(r.status, 200);
	assert.deepEqual(r.body, { success: true, object: 'chat.completion.deleted', id, deleted: true });
	assert.equal((await get(`${API}/${id}`, u.basic)).status, 404);
	assert.equal((await del(`${API}/${id}`, u.basic)).status, 404);
});

test('messages: the request\'s messages, paged with limit, after and order', async () => {
	const u = await user();
	const msgs = Array.from({ length: 5 }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: `m${i}` }));
	const r0 = await create(u, { messages: msgs, store: true });
	assert.equal(r0.status, 200);
	const id = r0.body.id;
	let r = await get(`${API}/${id}/messages`, u.basic);
	assert.equal(r.status, 200, JSON.stringify(r.body));
	assert.equal(r.body.success, true);
	assert.deepEqual(r.body.messages.map((m) => [m.id, m.role, m.content]),
	    msgs.map((m, i) => [`${id}-${i}`, m.role, m.content]));
	assert.equal(r.body.has_more, false);
	r = await get(`${API}/${id}/messages?limit=2`, u.basic);
	assert.deepEqual(r.body.messages.map((m) => m.content), ['m0', 'm1']);
	assert.equal(r.body.has_more, true);
	r = await get(`${API}/${id}/messages?limit=2&after=${r.body.last_id}`, u.basic);
	assert.deepEqual(r.body.messages.map((m) => m.content), ['m2', 'm3']);
	r = await get(`${API}/${id}/messages?order=desc&limit=2&after=${id}-3`, u.basic);
	assert.deepEqual(r.body.messages.map((m) => m.content), ['m2', 'm1']);
	assert.equal(r.body.has_more, true);
	assert.equal((await get(`${API}/${id}/messages?limit=0`, u.basic)).status, 400);
	assert.equal((await get(`${API}/${id}/messages?after=${id}-x`, u.basic)).status, 404);
	assert.equal((await get(`${API}/chatcmpl-000000000000000000000000/messages`, u.basic)).status, 404);
});

test('a Python client written as the seed\'s examples (requests, auth=(email, password))', async () => {
	const u = await user();
	const out = execFileSync('python3', [`${TOP}/tests/integration/completions_client.py`], {
		encoding: 'utf8', timeout: 60000,
		env: { ...process.env, RELAIS_BASE: BASE, RELAIS_EMAIL: u.email, RELAIS_PASSWORD: PASSWORD },
	});
	const res = JSON.parse(out.trim().split('\n').at(-1));
	assert.equal(res.ok, true, out);
	assert.equal(res.content, sentence('gpt-4o-mini'));
	assert.equal(res.deleted, true);
	assert.equal(res.listed, 2);
	assert.equal(psql(`SELECT count(*) FROM stored_completions WHERE user_id = ${u.id}`), '1');
});
