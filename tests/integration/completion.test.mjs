// The router's completion (seed 004) through nginx, the chat program and
// the fake upstream: POST /completion plain and streamed with every
// metadata field checked against the database's prices, settings and
// energy table, the ledger and the balance; agents; models; bad requests;
// project documents chosen by full-text search, observed through the
// input tokens the fake counts (docs/internals/fake-openai.md: ceil of
// the code points of every message content / 4).
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { BASE, STATE, admin, auth, getJSON, newUser, parseSSE, postJSON, psql, sentence, uniq } from './lib.mjs';

// A fresh user with `credits` dollars and a token.
const user = (credits = '5.00') => newUser({ prefix: 'rt', credits });

const complete = (u, body) => postJSON('/completion', body, auth(u.token));

async function stream(u, body) {
	const r = await fetch(BASE + '/completion', {
		method: 'POST',
		headers: { 'Content-Type': 'application/json', ...auth(u.token) },
		body: JSON.stringify({ ...body, stream: true }),
	});
	const text = await r.text();
	return { status: r.status, headers: r.headers, text,
	    frames: parseSSE(text).filter((f) => f.data !== '').map((f) => JSON.parse(f.data)) };
}

// The fake's answer and its counts.
const cp = (s) => [...s].length;
const tokens = (texts) => Math.ceil(texts.reduce((n, t) => n + cp(t), 0) / 4);

const prompt = (agent) => psql(`SELECT system_prompt FROM router_agents WHERE type = '${agent}'`);

const micro = (s) => {
	const m = /^(\d+)\.(\d{6})$/.exec(s);
	assert.ok(m, `not a 6-decimal amount: ${s}`);
	return BigInt(m[1]) * 1000000n + BigInt(m[2]);
};
const usd = (m) => `${m / 1000000n}.${(m % 1000000n).toString().padStart(6, '0')}`;
const balance = (id) => micro(psql(`SELECT credits FROM users WHERE id = ${id}`));

// Exact cost in micro-USD at the database's prices, rounded up.
function costMicro(model, input, output) {
	const [pin, pout] = psql(`SELECT input_price, output_price FROM openai_models WHERE name = '${model}'`)
	    .split('|').map(micro);
	return (BigInt(input) * pin + BigInt(output) * pout + 999999n) / 1000000n;
}

function settings() {
	const [currency, rate, grid, water, car, tgv, phone] = psql('SELECT currency, usd_rate, ' +
	    'grid_kgco2_per_kwh, water_l_per_kwh, car_kgco2_per_km, tgv_kgco2_per_km, ' +
	    'smartphone_kwh_per_charge FROM router_settings').split('|');
	return { currency, rate: micro(rate), grid: Number(grid), water: Number(water),
	    car: Number(car), tgv: Number(tgv), phone: Number(phone) };
}

const kwhPer1k = (model) => Number(psql('SELECT kwh_per_1k_output FROM router_energy ' +
    `WHERE left('${model}', length(prefix)) = prefix ORDER BY length(prefix) DESC LIMIT 1`));

// Micro-USD to micro-units of the currency, half up (docs/completion.md).
const convert = (m, rate) => (m * rate + 500000n) / 1000000n;
const asMicro = (x) => BigInt(Math.round(x * 1e6));
const close = (a, b, what) => assert.ok(Math.abs(a - b) <= 1e-12 + Math.abs(b) * 1e-9,
    `${what}: ${a} != ${b}`);

// Price, emissions and equivalences of a call, checked from first principles.
function checkImpact(meta, model, input, output) {
	const s = settings();
	const cost = costMicro(model, input, output);
	const total = convert(cost, s.rate);
	const inPart = convert(costMicro(model, input, 0), s.rate);
	assert.equal(meta.pricing.currency, s.currency);
	assert.deepEqual(Object.keys(meta.pricing).sort(), ['by_model', 'currency', 'total_cost']);
	assert.equal(asMicro(meta.pricing.total_cost), total, 'total = tokens x prices, converted');
	assert.deepEqual(Object.keys(meta.pricing.by_model), [model]);
	const bm = meta.pricing.by_model[model];
	assert.deepEqual(Object.keys(bm).sort(), ['input', 'output', 'total']);
	assert.equal(asMicro(bm.input), inPart);
	assert.equal(asMicro(bm.total), total);
	assert.equal(asMicro(bm.input) + asMicro(bm.output), total, 'input + output = total');
	const kwh = output / 1000 * kwhPer1k(model);
	const kg = kwh * s.grid;
	assert.ok(kg > 0, 'a call that wrote tokens has emissions');
	close(meta.emissions_kgCO2eq, kg, 'kg');
	close(meta.emissions_gCO2eq, kg * 1000, 'g');
	assert.deepEqual(Object.keys(meta.equivalences).sort(),
	    ['car_km', 'smartphone_charges', 'tgv_km', 'water_liters']);
	close(meta.equivalences.water_liters, kwh * s.water, 'water');
	close(meta.equivalences.car_km, kg / s.car, 'car');
	close(meta.equivalences.tgv_km, kg / s.tgv, 'tgv');
	close(meta.equivalences.smartphone_charges, kwh / s.phone, 'phone');
	assert.equal(typeof meta.latency_s, 'number');
	assert.ok(meta.latency_s >= 0 && meta.latency_s < 60, String(meta.latency_s));
	return cost;
}

// One ledger row for the call, the balance down by exactly its cost.
function checkMoney(u, before, model, input, output, cost) {
	assert.equal(psql(`SELECT count(*) || '|' || min(model) || '|' || min(feature) || '|' || min(status) ` +
	    `|| '|' || sum(input_tokens) || '|' || sum(output_tokens) || '|' || sum(cost) || '|' || sum(delta) ` +
	    `FROM usage_ledger WHERE user_id = ${u.id} AND kind = 'openai_call'`),
	    `1|${model}|completion|ok|${input}|${output}|${usd(cost)}|-${usd(cost)}`);
	assert.equal(balance(u.id), before - cost);
	assert.equal(psql(`SELECT count(*) FROM credit_reservations WHERE user_id = ${u.id} ` +
	    'AND state = \'reserved\''), '0');
}

test('plain completion: the seed\'s answer, usage, price, estimates, ledger', async () => {
	const u = await user('2.00');
	const message = 'Explique-moi la théorie de la relativité en 2 phrases';
	const r = await complete(u, { message, model: 'gpt-4o', agent: 'V2', stream: false, temperature: 0.7 });
	assert.equal(r.status, 200, JSON.stringify(r.body));
	assert.match(r.headers.get('content-type'), /^application\/json/);
	const a = r.body;
	assert.deepEqual(Object.keys(a), ['response', 'model', 'agent', 'usage', 'metadata']);
	assert.equal(a.response, sentence('gpt-4o'));
	assert.equal(a.model, 'gpt-4o');
	assert.equal(a.agent, 'V2');
	const input = tokens([prompt('V2'), message]);
	assert.deepEqual(a.usage, { prompt_tokens: input, completion_tokens: 8, total_tokens: input + 8 });
	assert.deepEqual(Object.keys(a.metadata), ['message_count', 'latency_s', 'emissions_kgCO2eq',
	    'emissions_gCO2eq', 'pricing', 'equivalences']);
	assert.equal(a.metadata.message_count, 2);
	const cost = checkImpact(a.metadata, 'gpt-4o', input, 8);
	checkMoney(u, 2000000n, 'gpt-4o', input, 8, cost);
});

test('streamed completion: delta frames, then done with usage, price and estimates', async () => {
	const u = await user('2.00');
	const message = 'Raconte-moi une courte histoire';
	const r = await stream(u, { message, model: 'gpt-4o-mini' });
	assert.equal(r.status, 200, r.text);
	assert.match(r.headers.get('content-type'), /^text\/event-stream/);
	assert.equal(r.headers.get('cache-control'), 'no-cache');
	const deltas = r.frames.slice(0, -1);
	const last = r.frames[r.frames.length - 1];
	assert.equal(deltas.length, 8, r.text);
	for (const f of deltas) {
		assert.deepEqual(Object.keys(f), ['content', 'done', 'metadata']);
		assert.deepEqual({ done: f.done, metadata: f.metadata, t: typeof f.content },
		    { done: false, metadata: { model: 'gpt-4o-mini', agent: 'V2' }, t: 'string' });
		assert.ok(f.content.length > 0);
	}
	assert.equal(deltas.map((f) => f.content).join(''), sentence('gpt-4o-mini'));
	assert.deepEqual(Object.keys(last), ['content', 'done', 'metadata']);
	assert.equal(last.content, '');
	assert.equal(last.done, true);
	const m = last.metadata;
	assert.deepEqual(Object.keys(m), ['model', 'agent', 'usage', 'usage_by_model', 'latency_s',
	    'emissions_kgCO2eq', 'emissions_gCO2eq', 'pricing', 'equivalences']);
	assert.equal(m.model, 'gpt-4o-mini');
	assert.equal(m.agent, 'V2', 'the default agent');
	const input = tokens([prompt('V2'), message]);
	const usage = { input_tokens: input, output_tokens: 8, total_tokens: input + 8 };
	assert.deepEqual(m.usage, usage);
	assert.deepEqual(m.usage_by_model, { 'gpt-4o-mini': usage });
	const cost = checkImpact(m, 'gpt-4o-mini', input, 8);
	checkMoney(u, 2000000n, 'gpt-4o-mini', input, 8, cost);
});

test('agents: listed from the database; V1 sends its own prompt; unknown or withdrawn refused', async () => {
	const u = await user('2.00');
	assert.equal((await getJSON('/agents')).status, 401);
	const r = await getJSON('/agents', { headers: auth(u.token) });
	assert.equal(r.status, 200, JSON.stringify(r.body));
	assert.deepEqual(Object.keys(r.body), ['agents', 'total']);
	const rows = psql('SELECT type, name, description, available FROM router_agents ORDER BY position, type')
	    .split('\n').map((l) => l.split('|'));
	assert.deepEqual(r.body.agents, rows.map(([type, name, description, av]) =>
	    ({ type, name, description, available: av === 't' })));
	assert.equal(r.body.total, rows.length);
	assert.deepEqual(r.body.agents.map((x) => x.type), ['V1', 'V2']);
	assert.equal(r.body.agents[1].description, 'Isolated V2 workflow (default)');

	const message = 'Bonjour';
	const v1 = await complete(u, { message, model: 'gpt-4o-mini', agent: 'V1' });
	assert.equal(v1.status, 200, JSON.stringify(v1.body));
	assert.equal(v1.body.agent, 'V1');
	assert.notEqual(prompt('V1').length, prompt('V2').length);
	assert.equal(v1.body.usage.prompt_tokens, tokens([prompt('V1'), message]));

	let x = await complete(u, { message, model: 'gpt-4o-mini', agent: 'V9' });
	assert.equal(x.status, 400, JSON.stringify(x.body));
	assert.equal(x.body.error.field, 'agent');
	assert.match(x.body.error.message, /V9/);
	psql('UPDATE router_agents SET available = false WHERE type = \'V1\'');
	try {
		x = await complete(u, { message, model: 'gpt-4o-mini', agent: 'V1' });
		assert.equal(x.status, 400, JSON.stringify(x.body));
		assert.equal(x.body.error.field, 'agent');
		const l = await getJSON('/agents', { headers: auth(u.token) });
		assert.equal(l.body.agents.find((a) => a.type === 'V1').available, false);
	} finally {
		psql('UPDATE router_agents SET available = true WHERE type = \'V1\'');
	}
	assert.equal(psql(`SELECT count(*) FROM usage_ledger WHERE user_id = ${u.id} AND kind = 'openai_call'`), '1');
});

test('models: the enabled catalogue with provider, streaming and context window', async () => {
	const u = await user('1.00');
	assert.equal((await getJSON('/models')).status, 401);
	let r = await getJSON('/models', { headers: auth(u.token) });
	assert.equal(r.status, 200, JSON.stringify(r.body));
	assert.deepEqual(Object.keys(r.body), ['models', 'total']);
	const names = psql('SELECT string_agg(name, \',\' ORDER BY name) FROM openai_models WHERE router_enabled ' +
	    'AND provider IN (SELECT name FROM providers WHERE enabled)').split(',');
	assert.deepEqual(r.body.models.map((m) => m.name).sort(), names.sort());
	assert.equal(r.body.total, names.length);
	for (const m of r.body.models) {
		assert.deepEqual(Object.keys(m), ['name', 'provider', 'description', 'supports_streaming',
		    'context_window']);
		assert.equal(typeof m.provider, 'string');
		assert.equal(typeof m.description, 'string');
		assert.equal(m.supports_streaming, true);
		assert.ok(Number.isInteger(m.context_window) && m.context_window > 0, JSON.stringify(m));
	}
	const g = r.body.models.find((m) => m.name === 'gpt-4o');
	assert.deepEqual(g, { name: 'gpt-4o', provider: 'openai', description: 'Modèle multimodal équilibré',
	    supports_streaming: true, context_window: 128000 });
	// A disabled model is neither listed nor callable.
	psql('UPDATE openai_models SET router_enabled = false WHERE name = \'gpt-4-turbo\'');
	try {
		r = await getJSON('/models', { headers: auth(u.token) });
		assert.ok(!r.body.models.some((m) => m.name === 'gpt-4-turbo'));
		assert.equal(r.body.total, names.length - 1);
		const x = await complete(u, { message: 'Bonjour', model: 'gpt-4-turbo' });
		assert.equal(x.status, 400, JSON.stringify(x.body));
		assert.equal(x.body.error.field, 'model');
	} finally {
		psql('UPDATE openai_models SET router_enabled = true WHERE name = \'gpt-4-turbo\'');
	}
	assert.equal(psql(`SELECT count(*) FROM credit_reservations WHERE user_id = ${u.id}`), '0');
});

test('authentication: no token, a bad token, a forged token: 401', async () => {
	const body = { message: 'Bonjour', model: 'gpt-4o' };
	let r = await postJSON('/completion', body);
	assert.equal(r.status, 401);
	assert.equal(r.body.error.code, 'unauthorized');
	assert.equal(r.headers.get('www-authenticate'), 'Bearer');
	r = await postJSON('/completion', body, { Authorization: 'Bearer not.a.jwt' });
	assert.equal(r.status, 401);
	const u = await user('1.00');
	const [h, p] = u.token.split('.');
	r = await postJSON('/completion', body, { Authorization: `Bearer ${h}.${p}.${'A'.repeat(43)}` });
	assert.equal(r.status, 401);
	r = await getJSON('/agents', { headers: { Authorization: 'Bearer nope' } });
	assert.equal(r.status, 401);
	assert.equal(psql(`SELECT count(*) FROM credit_reservations WHERE user_id = ${u.id}`), '0');
});

test('bad bodies: FastAPI 422 naming the field, 400 for unknown values; nothing reserved', async () => {
	const u = await user('1.00');
	const ok = { message: 'Bonjour', model: 'gpt-4o' };
	// What the request schema (chat.completion) refuses: FastAPI's 422,
	// the first error's loc the field's path in the body, its type
	// Pydantic's.
	const refused = [
		[{ model: 'gpt-4o' }, 'message', 'missing'],
		[{ ...ok, message: '   ' }, 'message', 'string_pattern_mismatch'],
		[{ ...ok, message: 42 }, 'message', 'string_type'],
		[{ message: 'Bonjour' }, 'model', 'missing'],
		[{ ...ok, model: 7 }, 'model', 'string_type'],
		[{ ...ok, model: '' }, 'model', 'string_too_short'],
		[{ ...ok, agent: 2 }, 'agent', 'string_type'],
		[{ ...ok, stream: 'maybe' }, 'stream', 'bool_parsing'],
		[{ ...ok, temperature: 5 }, 'temperature', 'less_than_equal'],
		[{ ...ok, temperature: 'hot' }, 'temperature', 'float_parsing'],
		[{ ...ok, conversation_history: {} }, 'conversation_history', 'list_type'],
		[{ ...ok, conversation_history: [{ role: 'wizard', content: 'x' }] }, 'conversation_history.0.role',
		    'literal_error'],
		[{ ...ok, conversation_history: [{ role: 'user', content: 'a' }, { role: 'user' }] },
		    'conversation_history.1.content', 'missing'],
		[{ ...ok, conversation_history: Array(201).fill({ role: 'user', content: 'a' }) },
		    'conversation_history', 'too_long'],
		[{ ...ok, project_id: 'bad id!' }, 'project_id', 'string_pattern_mismatch'],
		[{ ...ok, project_id: 'p'.repeat(129) }, 'project_id', 'string_too_long'],
		[{ ...ok, project_id: 'p', sources: ['not-a-uuid'] }, 'sources.0', 'uuid_parsing'],
		[{ ...ok, project_id: 'p', sources: 'x' }, 'sources', 'list_type'],
	];
	for (const [body, field, type] of refused) {
		for (const s of [false, true]) {
			const r = await complete(u, { ...body, stream: body.stream ?? s });
			assert.equal(r.status, 422, `${JSON.stringify(body)} -> ${JSON.stringify(r.body)}`);
			assert.match(r.headers.get('content-type'), /^application\/json/);
			const d = r.body.detail[0];
			assert.deepEqual([d.loc[0], d.loc.slice(1).join('.'), d.type], ['body', field, type],
			    JSON.stringify(r.body));
			assert.ok(d.msg.length > 0);
		}
	}
	// Lax like Pydantic: "no" is a boolean, "0.5" a number.
	let r = await complete(await user('1.00'), { ...ok, stream: 'no', temperature: '0.5' });
	assert.equal(r.status, 200, JSON.stringify(r.body));
	assert.equal(r.body.response, sentence('gpt-4o'));
	// The handler's own refusals: a rule across two fields (422), and
	// values that name nothing in the database (400), in relais's body.
	const named = [
		[{ ...ok, sources: ['8a5b1de7-4ac3-4f45-b0f9-2e9571f6f3d1'] }, 422, 'sources'],
		[{ ...ok, model: 'llama-unknown' }, 400, 'model'],
		[{ ...ok, agent: 'V3' }, 400, 'agent'],
		[{ ...ok, model: 'o3', temperature: 0.5 }, 400, 'temperature'],
		[{ ...ok, project_id: 'proj-none', sources: ['8a5b1de7-4ac3-4f45-b0f9-2e9571f6f3d1'] }, 400,
		    'sources'],
	];
	for (const [body, status, field] of named) {
		for (const s of [false, true]) {
			const r = await complete(u, { ...body, stream: body.stream ?? s });
			assert.equal(r.status, status, `${JSON.stringify(body)} -> ${JSON.stringify(r.body)}`);
			assert.match(r.headers.get('content-type'), /^application\/json/);
			assert.equal(r.body.error.field, field, JSON.stringify(r.body));
			assert.equal(r.body.error.code, status === 422 ? 'validation_error' : 'bad_request');
			assert.ok(r.body.error.message.length > 0);
		}
	}
	// Not JSON, or not an object: FastAPI's 422 too.
	r = await postJSON('/completion', '{"message": ', auth(u.token));
	assert.equal(r.status, 422, JSON.stringify(r.body));
	assert.equal(r.body.detail[0].type, 'json_invalid');
	r = await postJSON('/completion', '[1, 2]', auth(u.token));
	assert.equal(r.status, 422, JSON.stringify(r.body));
	assert.equal(r.body.detail[0].type, 'model_type');
	assert.equal(psql(`SELECT count(*) FROM credit_reservations WHERE user_id = ${u.id}`), '0');
	assert.equal(balance(u.id), 1000000n);
});

test('history, temperature and a reasoning model: counted and priced', async () => {
	const u = await user('2.00');
	const history = [{ role: 'user', content: 'Comment faire une boucle en JavaScript?' },
	    { role: 'assistant', content: 'En JavaScript : for (let i = 0; i < 10; i++) { console.log(i); }' }];
	const message = 'Et en Python?';
	let r = await complete(u, { message, model: 'gpt-4.1', conversation_history: history, temperature: 0 });
	assert.equal(r.status, 200, JSON.stringify(r.body));
	assert.equal(r.body.metadata.message_count, 4);
	const input = tokens([prompt('V2'), ...history.map((m) => m.content), message]);
	assert.equal(r.body.usage.prompt_tokens, input);
	checkImpact(r.body.metadata, 'gpt-4.1', input, 8);
	// o3: 8 text and 8 reasoning tokens, all output, all billed and
	// counted in the energy; the large class of the energy table.
	r = await complete(u, { message, model: 'o3' });
	assert.equal(r.status, 200, JSON.stringify(r.body));
	assert.equal(r.body.usage.completion_tokens, 16);
	const i2 = tokens([prompt('V2'), message]);
	checkImpact(r.body.metadata, 'o3', i2, 16);
	assert.equal(kwhPer1k('o3'), 0.004);
	assert.equal(kwhPer1k('o3-mini'), 0.001);
	assert.equal(psql(`SELECT count(*) || '|' || sum(reasoning_tokens) FROM usage_ledger ` +
	    `WHERE user_id = ${u.id} AND kind = 'openai_call'`), '2|8');
});

test('pricing follows the configured rate and currency', async () => {
	const u = await user('2.00');
	const [cur, rate, grid] = psql('SELECT currency, usd_rate, grid_kgco2_per_kwh FROM router_settings')
	    .split('|');
	psql('UPDATE router_settings SET currency = \'CAD\', usd_rate = 1.377777, grid_kgco2_per_kwh = 0.03');
	try {
		const r = await complete(u, { message: 'Bonjour', model: 'gpt-4o' });
		assert.equal(r.status, 200, JSON.stringify(r.body));
		assert.equal(r.body.metadata.pricing.currency, 'CAD');
		const input = tokens([prompt('V2'), 'Bonjour']);
		const cost = checkImpact(r.body.metadata, 'gpt-4o', input, 8);
		assert.equal(asMicro(r.body.metadata.pricing.total_cost), (cost * 1377777n + 500000n) / 1000000n);
	} finally {
		psql(`UPDATE router_settings SET currency = '${cur}', usd_rate = ${rate}, grid_kgco2_per_kwh = ${grid}`);
	}
});

test('credits and upstream refusals: JSON errors before any stream', async () => {
	const poor = await user('0.00');
	for (const s of [false, true]) {
		const r = await complete(poor, { message: 'Bonjour', model: 'gpt-4o', stream: s });
		assert.equal(r.status, 402, JSON.stringify(r.body));
		assert.equal(r.body.error.code, 'insufficient_credits');
	}
	assert.equal(psql(`SELECT count(*) FROM credit_reservations WHERE user_id = ${poor.id}`), '0');
	// The upstream refuses the key: 502, a failed zero-cost ledger row each.
	const u = await user('1.00');
	const e = await postJSON(`/edit_user/${u.id}`, { openai_key: 'reject-me' }, auth(await admin()));
	assert.equal(e.status, 200, JSON.stringify(e.body));
	for (const s of [false, true]) {
		const r = await complete(u, { message: 'Bonjour', model: 'gpt-4o-mini', stream: s });
		assert.equal(r.status, 502, JSON.stringify(r.body));
		assert.match(r.headers.get('content-type'), /^application\/json/);
		assert.equal(r.body.error.code, 'upstream_error');
	}
	assert.equal(psql(`SELECT count(*) || '|' || min(status) || '|' || sum(cost) FROM usage_ledger ` +
	    `WHERE user_id = ${u.id} AND kind = 'openai_call'`), '2|failed|0.000000');
	assert.equal(balance(u.id), 1000000n);
	assert.equal(psql(`SELECT count(*) FROM credit_reservations WHERE user_id = ${u.id} AND state = 'reserved'`), '0');
});

// Documents of a project, inserted as an admin would (docs/completion.md).
function addDoc(project, title, content, owner = null) {
	return psql(`INSERT INTO router_documents (project_id, title, content, owner_id) VALUES ` +
	    `('${project}', '${title}', $doc$${content}$doc$, ${owner === null ? 'NULL' : owner}) RETURNING id`);
}

// The context message exactly as docs/completion.md describes it.
function context(project, passages) {
	return `Extraits des documents du projet ${project} :` + passages.map(([id, title, ord, text], i) =>
	    `\n\n[${i + 1}] ${title} (document ${id}, passage ${ord})\n${text}`).join('');
}

test('project documents: full-text search picks the passages of the named documents', async () => {
	const u = await user('3.00');
	const other = await user('1.00');
	const project = `proj-${uniq()}`;
	const aTitle = 'Budget du projet';
	const a1 = 'Le budget total est de 42 000 dollars pour la rénovation du laboratoire.';
	const a2 = 'Les travaux commencent en janvier et durent six semaines.';
	const A = addDoc(project, aTitle, `${a1}\n\n${a2}\n`);
	const bTitle = 'Calendrier';
	const b1 = 'La rentrée a lieu en août.';
	const b2 = 'Les examens finaux sont en décembre.';
	const B = addDoc(project, bTitle, `  ${b1}  \n \n\n${b2}`);
	const C = addDoc(project, 'Note privée', 'Le budget secret est de 1 dollar.', other.id);
	// The trigger split them into passages: the title, then each paragraph.
	assert.equal(psql(`SELECT string_agg(ord || ':' || content, '/' ORDER BY ord) FROM router_passages ` +
	    `WHERE document_id = '${B}'`), `1:${bTitle}/2:${b1}/3:${b2}`);
	const long = addDoc(`${project}-long`, 'Long', 'x'.repeat(3200));
	assert.equal(psql(`SELECT string_agg(length(content)::text, ',' ORDER BY ord) FROM router_passages ` +
	    `WHERE document_id = '${long}'`), '4,1500,1500,200');

	const message = 'Quel est le budget ?';
	const ask = async (extra) => {
		const r = await complete(u, { message, model: 'gpt-4o-mini', project_id: project, ...extra });
		assert.equal(r.status, 200, JSON.stringify(r.body));
		return r.body.usage.prompt_tokens;
	};
	const base = [prompt('V2'), message];
	// Only A: its two passages naming the budget, not its third.
	const onlyA = context(project, [[A, aTitle, 1, aTitle], [A, aTitle, 2, a1]]);
	assert.equal(await ask({ sources: [A] }), tokens([...base, onlyA]));
	// Only B, where nothing matches: B's first passages, never A's.
	const onlyB = context(project, [[B, bTitle, 1, bTitle], [B, bTitle, 2, b1], [B, bTitle, 3, b2]]);
	assert.equal(await ask({ sources: [B] }), tokens([...base, onlyB]));
	// No filter (absent or empty): the whole project the user sees, so the
	// matching passages of A, and not the other user's private note.
	assert.equal(await ask({}), tokens([...base, onlyA]));
	assert.equal(await ask({ sources: [] }), tokens([...base, onlyA]));
	// Stop words only: no query, so the first passages of every document.
	const stop = 'Et le ?';
	const all = context(project, [[A, aTitle, 1, aTitle], [A, aTitle, 2, a1], [A, aTitle, 3, a2],
	    [B, bTitle, 1, bTitle], [B, bTitle, 2, b1], [B, bTitle, 3, b2]]);
	const sw = await complete(u, { message: stop, model: 'gpt-4o-mini', project_id: project });
	assert.equal(sw.status, 200, JSON.stringify(sw.body));
	assert.equal(sw.body.usage.prompt_tokens, tokens([prompt('V2'), stop, all]));
	// Quotes and backslashes in the message reach the query safely.
	const odd = 'L\'enjeu du budget \\ d\'O\'Brien « ok » ?';
	const q = await complete(u, { message: odd, model: 'gpt-4o-mini', project_id: project, sources: [A] });
	assert.equal(q.status, 200, JSON.stringify(q.body));
	assert.equal(q.body.usage.prompt_tokens, tokens([prompt('V2'), odd, onlyA]));
	// PostgreSQL said nothing outside the JSON log lines (an empty text
	// query makes it print a NOTICE on stderr).
	assert.ok(!fs.readFileSync(`${STATE}/log/chat.log`, 'utf8').split('\n').some((l) => l.startsWith('NOTICE')));
	// The same in a stream.
	const s = await stream(u, { message, model: 'gpt-4o-mini', project_id: project, sources: [B] });
	assert.equal(s.status, 200, s.text);
	assert.equal(s.frames.at(-1).metadata.usage.input_tokens, tokens([...base, onlyB]));
	// Someone else's document, or one of another project: refused by name.
	for (const id of [C, long]) {
		const r = await complete(u, { message, model: 'gpt-4o-mini', project_id: project, sources: [A, id] });
		assert.equal(r.status, 400, JSON.stringify(r.body));
		assert.equal(r.body.error.field, 'sources');
		assert.match(r.body.error.message, new RegExp(id));
	}
	// The owner sees their private note.
	const r = await complete(other, { message, model: 'gpt-4o-mini', project_id: project, sources: [C] });
	assert.equal(r.status, 200, JSON.stringify(r.body));
	assert.equal(r.body.usage.prompt_tokens, tokens([...base, context(project,
	    [[C, 'Note privée', 2, 'Le budget secret est de 1 dollar.']])]));
	// A project without documents: no context message at all.
	assert.equal(await (async () => {
		const x = await complete(u, { message, model: 'gpt-4o-mini', project_id: `${project}-empty` });
		assert.equal(x.status, 200, JSON.stringify(x.body));
		return x.body.usage.prompt_tokens;
	})(), tokens(base));
	assert.equal(psql(`SELECT count(*) FROM usage_ledger WHERE user_id = ${u.id} AND kind = 'openai_call'`), '8');
});

// The fake reads "[[X-Fake-…]]" directives in the text it is sent
// (docs/internals/fake-openai.md), which is how a test reaches it through
// relais.  The directive is part of the message, so its tokens count.

test('upstream cut mid-stream: an error frame with what was billed; ledger partial', async () => {
	const u = await user('2.00');
	const message = 'Bonjour [[X-Fake-Fault: reset-mid-stream]]';
	const r = await stream(u, { message, model: 'gpt-4o' });
	assert.equal(r.status, 200, r.text);
	const last = r.frames.at(-1);
	const deltas = r.frames.slice(0, -1);
	assert.equal(deltas.length, 2, r.text);
	assert.ok(deltas.every((f) => f.done === false && f.content.length > 0));
	assert.deepEqual(Object.keys(last), ['content', 'done', 'metadata', 'error']);
	assert.equal(last.done, true);
	assert.equal(last.error.code, 'upstream_error');
	assert.equal(typeof last.error.message, 'string');
	const usage = last.metadata.usage;
	assert.equal(usage.output_tokens, 2, 'one token per delta received');
	assert.equal(usage.input_tokens, tokens([prompt('V2'), message]), 'input estimated as the fake counts');
	assert.equal(usage.total_tokens, usage.input_tokens + 2);
	const cost = checkImpact(last.metadata, 'gpt-4o', usage.input_tokens, 2);
	assert.equal(psql(`SELECT count(*) || '|' || min(status) || '|' || sum(output_tokens) || '|' || sum(cost) ` +
	    `FROM usage_ledger WHERE user_id = ${u.id} AND kind = 'openai_call'`), `1|partial|2|${usd(cost)}`);
	assert.equal(balance(u.id), 2000000n - cost);
	assert.equal(psql(`SELECT count(*) FROM credit_reservations WHERE user_id = ${u.id} AND state = 'reserved'`), '0');
	// The same cut without streaming: 502, nothing billed.
	const p = await complete(u, { message, model: 'gpt-4o' });
	assert.equal(p.status, 502, JSON.stringify(p.body));
	assert.equal(p.body.error.code, 'upstream_error');
	assert.equal(balance(u.id), 2000000n - cost);
});

test('client gone mid-stream: the upstream is stopped, what was used is billed', async () => {
	const u = await user('2.00');
	// 50 deltas 200 ms apart: ten seconds if nobody stopped it.
	const message = 'Raconte [[X-Fake-Chunks: 50; X-Fake-Chunk-Ms: 200]]';
	const ctl = new AbortController();
	const r = await fetch(BASE + '/completion', {
		method: 'POST', signal: ctl.signal,
		headers: { 'Content-Type': 'application/json', ...auth(u.token) },
		body: JSON.stringify({ message, model: 'gpt-4o', stream: true }),
	});
	assert.equal(r.status, 200);
	const reader = r.body.getReader();
	const first = await reader.read();
	assert.match(new TextDecoder().decode(first.value), /^data: \{"content":/);
	ctl.abort();
	await reader.read().catch(() => {});
	// The ledger row appears once the program has noticed and settled.
	let row = '';
	for (let i = 0; i < 100 && row === ''; i++) {
		row = psql(`SELECT status || '|' || output_tokens || '|' || cost FROM usage_ledger ` +
		    `WHERE user_id = ${u.id} AND kind = 'openai_call'`);
		if (row === '')
			await new Promise((res) => setTimeout(res, 100));
	}
	const [status, out, cost] = row.split('|');
	assert.equal(status, 'partial', row);
	assert.ok(Number(out) >= 1 && Number(out) < 50, `stopped early: ${out} of 50 tokens`);
	const input = tokens([prompt('V2'), message]);
	assert.equal(cost, usd(costMicro('gpt-4o', input, Number(out))));
	assert.equal(balance(u.id), 2000000n - micro(cost));
	assert.equal(psql(`SELECT count(*) FROM credit_reservations WHERE user_id = ${u.id} AND state = 'reserved'`), '0');
});

test('cached input tokens are priced at the cached price', async () => {
	const u = await user('2.00');
	const message = `${'Un long contexte partagé. '.repeat(20)}[[X-Fake-Cached-Tokens: 100]]`;
	const r = await complete(u, { message, model: 'gpt-4o' });
	assert.equal(r.status, 200, JSON.stringify(r.body));
	const input = tokens([prompt('V2'), message]);
	assert.equal(r.body.usage.prompt_tokens, input);
	const [pin, pcached, pout] = psql('SELECT input_price, cached_input_price, output_price FROM openai_models ' +
	    'WHERE name = \'gpt-4o\'').split('|').map(micro);
	const cost = (BigInt(input - 100) * pin + 100n * pcached + 8n * pout + 999999n) / 1000000n;
	const inPart = (BigInt(input - 100) * pin + 100n * pcached + 999999n) / 1000000n;
	assert.ok(cost < costMicro('gpt-4o', input, 8), 'the discount shows');
	const s = settings();
	const p = r.body.metadata.pricing;
	assert.equal(asMicro(p.total_cost), convert(cost, s.rate));
	assert.equal(asMicro(p.by_model['gpt-4o'].input), convert(inPart, s.rate));
	assert.equal(psql(`SELECT cached_input_tokens || '|' || cost FROM usage_ledger WHERE user_id = ${u.id} ` +
	    'AND kind = \'openai_call\''), `100|${usd(cost)}`);
	assert.equal(balance(u.id), 2000000n - cost);
});

test('32 concurrent completions, half streamed: every micro-dollar accounted for', async () => {
	// 0.03 USD holds two gpt-4o calls at their highest cost (1000 output
	// tokens at 10 USD per 1M, plus the input bound) while each really
	// costs about 0.0002 USD: most of 32 simultaneous calls are refused.
	const u = await user('0.03');
	const message = 'Une question courte, vraiment.';
	const rs = await Promise.all(Array.from({ length: 32 }, (_, i) => i % 2 === 0 ?
	    complete(u, { message, model: 'gpt-4o' }).then((r) => ({ status: r.status, usage: r.body.usage })) :
	    stream(u, { message, model: 'gpt-4o' }).then((r) => ({ status: r.status,
		usage: r.frames.length > 0 ? r.frames.at(-1).metadata.usage : null }))));
	const ok = rs.filter((r) => r.status === 200);
	const refused = rs.filter((r) => r.status === 402);
	assert.equal(ok.length + refused.length, 32, JSON.stringify(rs.filter((r) =>
	    r.status !== 200 && r.status !== 402)));
	assert.ok(ok.length >= 1);
	assert.ok(refused.length >= 1, 'a 0.03 USD balance cannot hold 32 calls at once');
	const input = tokens([prompt('V2'), message]);
	for (const r of ok) {
		const out = r.usage.completion_tokens ?? r.usage.output_tokens;
		const inp = r.usage.prompt_tokens ?? r.usage.input_tokens;
		assert.equal(inp, input);
		assert.equal(out, 8);
	}
	const each = costMicro('gpt-4o', input, 8);
	const [rows, sumCost, sumDelta] = psql(`SELECT count(*) || '|' || coalesce(sum(cost), 0) || '|' || ` +
	    `coalesce(sum(-delta), 0) FROM usage_ledger WHERE user_id = ${u.id} AND kind = 'openai_call'`).split('|');
	assert.equal(Number(rows), ok.length);
	assert.equal(micro(sumCost), each * BigInt(ok.length));
	assert.equal(micro(sumDelta), micro(sumCost));
	assert.equal(balance(u.id), 30000n - micro(sumCost));
	assert.equal(psql(`SELECT count(*) FROM credit_reservations WHERE user_id = ${u.id} AND state = 'reserved'`), '0');
	assert.equal(psql(`SELECT count(*) FROM credit_reservations WHERE user_id = ${u.id} AND state = 'settled'`),
	    String(ok.length));
});
