// The model-aware chat endpoint (seed 001) through nginx, the openai
// program, the worker and the fake upstream: auto-configuration, the seed's
// error bodies, answers, jobs read back, and money (reserve -> settle ->
// ledger) including 64 concurrent callers.
import test from 'node:test';
import assert from 'node:assert/strict';
import { admin, auth, getJSON, newUser, postJSON, psql, sentence, sleep } from './lib.mjs';

// A fresh user with `credits` dollars (a string with 2 decimals) and a token.
const user = (credits = '5.00', role = 'professeur') => newUser({ prefix: 'oa', credits, role });

const chat = (u, body) => postJSON('/ai/openai/chat/', body, auth(u.token));

// What the fake answers and counts (docs/internals/fake-openai.md).
const tokensOf = (messages) => Math.ceil(messages.reduce((n, m) => n + [...m.content].length, 0) / 4);

// Exact cost in micro-dollars at the database's prices, rounded up.
function costMicro(model, input, output) {
	const [pin, pout] = psql(`SELECT input_price, output_price FROM openai_models WHERE name = '${model}'`)
	    .split('|').map((p) => BigInt(p.replace('.', '')));
	const n = BigInt(input) * pin + BigInt(output) * pout;
	return (n + 999999n) / 1000000n;
}

const usd = (micro) => {
	const m = BigInt(micro);
	return `${m / 1000000n}.${(m % 1000000n).toString().padStart(6, '0')}`;
};

const balance = (id) => psql(`SELECT credits FROM users WHERE id = ${id}`);
const micro = (s) => BigInt(s.replace('.', ''));

test('catalogue: capabilities, prices and defaults from the registry', async () => {
	const u = await user('0.00');
	assert.equal((await getJSON('/ai/openai/chat/')).status, 401);
	const r = await getJSON('/ai/openai/chat/', { headers: auth(u.token) });
	assert.equal(r.status, 200, JSON.stringify(r.body));
	const by = Object.fromEntries(r.body.models.map((m) => [m.id, m]));
	const names = psql('SELECT string_agg(name, \',\' ORDER BY name) FROM openai_models').split(',');
	assert.deepEqual(Object.keys(by).sort(), names.sort());
	assert.equal(by.o3.generation, 'new');
	assert.equal(by.o3.supports_reasoning, true);
	assert.equal(by.o3.supports_temperature, false);
	assert.deepEqual(by.o3.default_params, { reasoning_effort: 'medium', max_completion_tokens: 1000 });
	assert.equal(by['gpt-4.1'].generation, 'new');
	assert.deepEqual(by['gpt-4.1'].default_params, { temperature: 1, max_completion_tokens: 10000 });
	assert.equal(by['gpt-4o'].generation, 'legacy');
	assert.equal(by['gpt-4o'].supports_temperature, true);
	assert.deepEqual(by['gpt-4o'].default_params, { temperature: 0.7, max_tokens: 1000 });
	const [pin, pout] = psql('SELECT input_price, output_price FROM openai_models WHERE name = \'gpt-4o\'').split('|');
	assert.equal(by['gpt-4o'].input_price_per_1m, pin);
	assert.equal(by['gpt-4o'].output_price_per_1m, pout);
	assert.ok(Math.abs(by['gpt-4o'].input_cost_per_token - Number(pin) / 1e6) < 1e-15);
	assert.ok(by.o3.context_window > 0);
	assert.ok(Array.isArray(by.o3.recommended_for));
	assert.ok(r.body.generation_info.new.models.includes('o3'));
	assert.ok(r.body.generation_info.legacy.models.includes('gpt-4o'));
	assert.ok(!r.body.generation_info.new.models.includes('gpt-4o'));
});

test('the seed\'s two error examples, and nothing stored or reserved', async () => {
	const u = await user('1.00');
	const msgs = [{ role: 'user', content: 'Analyse ce contenu SEO...' }];
	let r = await chat(u, { model: 'o3', messages: msgs, temperature: 0.5 });
	assert.equal(r.status, 400);
	assert.deepEqual(r.body, {
		error: 'O3 models don\'t support temperature parameter',
		error_code: 'INVALID_PARAMETER_FOR_MODEL', model: 'o3',
		invalid_params: ['temperature'],
		suggested_params: ['reasoning_effort', 'max_completion_tokens'],
	});
	r = await chat(u, { model: 'gpt-4o', messages: msgs, reasoning_effort: 'high' });
	assert.equal(r.status, 400);
	assert.deepEqual(r.body, {
		error: 'Model gpt-4o doesn\'t support reasoning_effort parameter',
		error_code: 'INVALID_PARAMETER_FOR_MODEL', model: 'gpt-4o',
		invalid_params: ['reasoning_effort'],
		suggested_params: ['temperature', 'max_tokens'],
	});
	assert.equal(psql(`SELECT count(*) FROM openai_jobs WHERE user_id = ${u.id}`), '0');
	assert.equal(psql(`SELECT count(*) FROM credit_reservations WHERE user_id = ${u.id}`), '0');
	assert.equal(balance(u.id), '1.000000');
});

test('bad requests: clear errors naming the field', async () => {
	const u = await user('1.00');
	const x = [{ role: 'user', content: 'x' }];
	// What the request schema (openai.chat) refuses: FastAPI's 422, the
	// first error's loc the field's path in the body.
	const refused = [
		[{ model: 'gpt-4o' }, 'messages', 'missing'],
		[{ messages: [] }, 'messages', 'too_short'],
		[{ messages: [{ role: 'wizard', content: 'x' }] }, 'messages.0.role', 'literal_error'],
		[{ messages: [{ role: 'user' }] }, 'messages.0.content', 'missing'],
		[{ messages: x, model: 42 }, 'model', 'string_type'],
		[{ messages: x, async: 'sometimes' }, 'async', 'bool_parsing'],
		[{ messages: x, temperature: 'hot' }, 'temperature', 'float_parsing'],
		[{ messages: x, max_tokens: 2.5 }, 'max_tokens', 'int_from_float'],
	];
	for (const [body, field, type] of refused) {
		const r = await chat(u, body);
		assert.equal(r.status, 422, `${JSON.stringify(body)} -> ${JSON.stringify(r.body)}`);
		const d = r.body.detail[0];
		assert.deepEqual([d.loc[0], d.loc.slice(1).join('.'), d.type], ['body', field, type],
		    JSON.stringify(r.body));
	}
	let r = await postJSON('/ai/openai/chat/', '{"messages": [', auth(u.token));
	assert.equal(r.status, 422);
	assert.equal(r.body.detail[0].type, 'json_invalid');
	// The job's own rules and the registry's checks: 400 naming the field.
	const named = [
		[{ messages: [{ role: 'user', content: null }] }, 'messages[0]'],
		[{ messages: x, model: 'llama-unknown' }, 'model'],
		[{ messages: x, frobnicate: 1 }, 'frobnicate'],
		[{ messages: x, temperature: 7 }, 'temperature'],
		[{ messages: x, max_tokens: 0 }, 'max_tokens'],
	];
	for (const [body, field] of named) {
		const r = await chat(u, body);
		assert.equal(r.status, 400, `${JSON.stringify(body)} -> ${JSON.stringify(r.body)}`);
		assert.equal(r.body.error.code, 'bad_request', JSON.stringify(r.body));
		assert.equal(r.body.error.field, field, JSON.stringify(r.body));
	}
	assert.equal(psql(`SELECT count(*) FROM openai_jobs WHERE user_id = ${u.id}`), '0');
	assert.equal(balance(u.id), '1.000000');
	// Lax like Pydantic: "300" is a number of tokens, "false" a boolean.
	r = await chat(u, { messages: x, model: 'gpt-4o', max_tokens: '300', async: 'false' });
	assert.equal(r.status, 200, JSON.stringify(r.body));
	assert.equal(psql(`SELECT max_tokens FROM openai_jobs WHERE id = '${r.body.job_id}'`), '300');
});

test('synchronous legacy job: answer, exact cost, one ledger row, read back', async () => {
	const u = await user('2.00');
	const messages = [{ role: 'system', content: 'Tu es un conseiller pédagogique.' },
	    { role: 'user', content: 'Analyse ce plan de cours, s\'il te plaît.' }];
	const r = await chat(u, { model: 'gpt-4o', messages, description: 'Analyse' });
	assert.equal(r.status, 200, JSON.stringify(r.body));
	const a = r.body;
	assert.match(a.job_id, /^ai_job_[0-9a-f]{16}$/);
	assert.equal(a.status, 'completed');
	assert.deepEqual(a.result, { completion: sentence('gpt-4o'), finish_reason: 'stop' });
	const pin = tokensOf(messages);
	assert.equal(a.usage.prompt_tokens, pin);
	assert.equal(a.usage.completion_tokens, 8);
	assert.equal(a.usage.total_tokens, pin + 8);
	const cost = costMicro('gpt-4o', pin, 8);
	assert.equal(a.usage.cost_usd, usd(cost));
	assert.equal(a.model, 'gpt-4o');
	assert.equal(a.generation, 'legacy');
	assert.equal(a.reasoning_effort, undefined);
	assert.ok(Number.isInteger(a.execution_time_ms) && a.execution_time_ms >= 0);
	// Money: the balance lost exactly the cost; one ledger row; no open hold.
	assert.equal(micro(balance(u.id)), 2000000n - cost);
	assert.equal(psql(`SELECT count(*) || '|' || sum(cost) || '|' || sum(delta) || '|' || ` +
	    `min(model) || '|' || min(feature) || '|' || min(status) || '|' || sum(input_tokens) || '|' || ` +
	    `sum(output_tokens) FROM usage_ledger WHERE user_id = ${u.id} AND kind = 'openai_call'`),
	    `1|${usd(cost)}|-${usd(cost)}|gpt-4o|ai_openai.chat|ok|${pin}|8`);
	assert.equal(psql(`SELECT count(*) FROM credit_reservations WHERE user_id = ${u.id} ` +
	    'AND state = \'reserved\''), '0');
	// The job row, with the auto-configured parameters of a legacy model.
	assert.equal(psql(`SELECT status || '|' || temperature || '|' || max_tokens || '|' || ` +
	    `coalesce(max_completion_tokens::text, 'null') || '|' || messages_format || '|' || description ` +
	    `FROM openai_jobs WHERE id = '${a.job_id}'`), 'completed|0.700|1000|null|legacy|Analyse');
	// Read back: the same answer; someone else's job is not found.
	const back = await getJSON(`/ai/openai/jobs/${a.job_id}`, { headers: auth(u.token) });
	assert.equal(back.status, 200);
	assert.deepEqual(back.body, a);
	const other = await user('0.00');
	assert.equal((await getJSON(`/ai/openai/jobs/${a.job_id}`, { headers: auth(other.token) })).status, 404);
	assert.equal((await getJSON(`/ai/openai/jobs/${a.job_id}`, { headers: auth(await admin()) })).status, 200);
	assert.equal((await getJSON('/ai/openai/jobs/ai_job_0000000000000000', { headers: auth(u.token) })).status, 404);
});

test('reasoning model: defaults, max_tokens converted, reasoning tokens billed', async () => {
	const u = await user('2.00');
	const messages = [{ role: 'system', content: 'Sois bref.' }, { role: 'user', content: 'Pourquoi le ciel est-il bleu ?' }];
	const r = await chat(u, { model: 'o3', messages, max_tokens: 500 });
	assert.equal(r.status, 200, JSON.stringify(r.body));
	assert.equal(r.body.generation, 'new');
	assert.equal(r.body.reasoning_effort, 'medium');
	assert.equal(r.body.result.completion, sentence('o3'));
	// 8 text deltas + 8 reasoning tokens, as the fake counts a reasoning model.
	assert.equal(r.body.usage.completion_tokens, 16);
	const cost = costMicro('o3', tokensOf(messages), 16);
	assert.equal(r.body.usage.cost_usd, usd(cost));
	assert.equal(micro(balance(u.id)), 2000000n - cost);
	assert.equal(psql(`SELECT coalesce(temperature::text, 'null') || '|' || coalesce(max_tokens::text, 'null') ` +
	    `|| '|' || max_completion_tokens || '|' || reasoning_effort || '|' || messages_format || '|' || ` +
	    `reasoning_tokens FROM openai_jobs WHERE id = '${r.body.job_id}'`), 'null|null|500|medium|structured|8');
	assert.equal(psql(`SELECT reasoning_tokens FROM usage_ledger WHERE user_id = ${u.id} AND kind = 'openai_call'`), '8');
	// gpt-4.1: temperature default 1.0, max_completion_tokens 10000; an
	// explicit 0 is kept (the seed's "temperature or 1.0" would lose it).
	const g = await chat(u, { model: 'gpt-4.1', messages, temperature: 0 });
	assert.equal(g.status, 200, JSON.stringify(g.body));
	assert.equal(g.body.generation, 'new');
	assert.equal(psql(`SELECT temperature || '|' || max_completion_tokens FROM openai_jobs ` +
	    `WHERE id = '${g.body.job_id}'`), '0.000|10000');
});

test('insufficient credits: 402 before any upstream call', async () => {
	const u = await user('0.00');
	const r = await chat(u, { model: 'gpt-4o', messages: [{ role: 'user', content: 'Bonjour' }] });
	assert.equal(r.status, 402, JSON.stringify(r.body));
	assert.equal(r.body.error.code, 'insufficient_credits');
	assert.match(r.body.error.message, /^Crédits insuffisants/);
	assert.equal(psql(`SELECT count(*) FROM usage_ledger WHERE user_id = ${u.id}`), '0');
	assert.equal(psql(`SELECT count(*) FROM credit_reservations WHERE user_id = ${u.id}`), '0');
	// A balance below the call's highest cost is refused too: the output
	// cap (1000 tokens of gpt-4o) is what a call may cost.
	const v = await user('0.01');
	const w = await chat(v, { model: 'gpt-4o', messages: [{ role: 'user', content: 'Bonjour' }] });
	assert.equal(w.status, 402, JSON.stringify(w.body));
	const x = await chat(v, { model: 'gpt-4o', messages: [{ role: 'user', content: 'Bonjour' }], max_tokens: 50 });
	assert.equal(x.status, 200, JSON.stringify(x.body));
});

test('upstream refuses the key: 502, job failed, a zero-cost ledger row', async () => {
	const u = await user('1.00');
	let r = await postJSON(`/edit_user/${u.id}`, { openai_key: 'reject-me' }, auth(await admin()));
	assert.equal(r.status, 200, JSON.stringify(r.body));
	r = await chat(u, { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Bonjour' }] });
	assert.equal(r.status, 502, JSON.stringify(r.body));
	assert.equal(r.body.error.code, 'upstream_error');
	assert.equal(balance(u.id), '1.000000');
	assert.equal(psql(`SELECT count(*) || '|' || min(status) || '|' || sum(cost) FROM usage_ledger ` +
	    `WHERE user_id = ${u.id} AND kind = 'openai_call'`), '1|failed|0.000000');
	assert.equal(psql(`SELECT status || '|' || error_code FROM openai_jobs WHERE user_id = ${u.id}`),
	    'failed|upstream_error');
	assert.equal(psql(`SELECT count(*) FROM credit_reservations WHERE user_id = ${u.id} AND state = 'reserved'`), '0');
});

test('async job: queued with its hold, run by the worker, read back', async () => {
	const u = await user('2.00');
	const messages = [{ role: 'user', content: 'Résume ce devis ministériel.' }];
	const r = await chat(u, { model: 'gpt-4o-mini', messages, async: true });
	assert.equal(r.status, 202, JSON.stringify(r.body));
	assert.equal(r.body.status, 'async');
	assert.match(r.body.task_id, /^[0-9a-f-]{36}$/);
	assert.equal(r.body.message, 'Job started asynchronously with gpt-4o-mini');
	assert.ok(Date.parse(r.body.estimated_completion) > Date.now());
	let back;
	for (let i = 0; i < 100; i++) {
		back = await getJSON(`/ai/openai/jobs/${r.body.job_id}`, { headers: auth(u.token) });
		if (back.body.status === 'completed' || back.body.status === 'failed')
			break;
		await sleep(100);
	}
	assert.equal(back.body.status, 'completed', JSON.stringify(back.body));
	assert.equal(back.body.result.completion, sentence('gpt-4o-mini'));
	const cost = costMicro('gpt-4o-mini', tokensOf(messages), 8);
	assert.equal(back.body.usage.cost_usd, usd(cost));
	assert.equal(micro(balance(u.id)), 2000000n - cost);
	assert.equal(psql(`SELECT count(*) || '|' || min(task_id::text) FROM usage_ledger WHERE user_id = ${u.id} ` +
	    'AND kind = \'openai_call\''), `1|${r.body.task_id}`);
	assert.equal(psql(`SELECT state FROM tasks WHERE id = '${r.body.task_id}'`), 'SUCCESS');
	assert.equal(psql(`SELECT count(*) FROM credit_reservations WHERE user_id = ${u.id} AND state = 'reserved'`), '0');
	// Without credits, an async job is refused at once, nothing queued.
	const poor = await user('0.00');
	const p = await chat(poor, { model: 'gpt-4o-mini', messages, async: true });
	assert.equal(p.status, 402);
	assert.equal(psql(`SELECT count(*) FROM tasks WHERE user_id = ${poor.id}`), '0');
	assert.equal(psql(`SELECT count(*) FROM openai_jobs WHERE user_id = ${poor.id}`), '0');
});

test('recommendation: the seed\'s rule over the catalogue', async () => {
	const u = await user('0.00');
	const rec = (c, b) => postJSON('/ai/openai/recommend', { task_complexity: c, budget_constraint: b },
	    auth(u.token));
	for (const [c, b, m] of [[0.95, 0.8, 'o3'], [0.95, 0.6, 'o3-mini'], [0.8, 0.6, 'o3-mini'],
	    [0.8, 0.2, 'gpt-4.1'], [0.6, 0.9, 'gpt-4.1'], [0.3, 0.9, 'gpt-4o'], [0, 0, 'gpt-4o']]) {
		const r = await rec(c, b);
		assert.equal(r.status, 200, JSON.stringify(r.body));
		assert.equal(r.body.recommended_model, m, `${c}/${b}`);
		assert.equal(r.body.model.id, m);
		assert.ok(r.body.reason.length > 0);
	}
	// Both numbers are the request schema's (openai.recommend): 422.
	let r = await rec(1.5, 0.5);
	assert.equal(r.status, 422);
	assert.deepEqual(r.body.detail.map((d) => [d.loc.join('.'), d.type]),
	    [['body.task_complexity', 'less_than_equal']]);
	r = await postJSON('/ai/openai/recommend', { task_complexity: 0.5 }, auth(u.token));
	assert.equal(r.status, 422);
	assert.deepEqual(r.body.detail.map((d) => [d.loc.join('.'), d.type]), [['body.budget_constraint', 'missing']]);
	// Lax: a number as a string is a number.
	r = await rec('0.95', '0.8');
	assert.equal(r.status, 200, JSON.stringify(r.body));
	assert.equal(r.body.recommended_model, 'o3');
	assert.equal(r.body.task_complexity, 0.95);
});

test('64 concurrent callers: the ledger accounts for every micro-dollar', async () => {
	// 0.03 USD holds three gpt-4o calls at their highest cost (1000 output
	// tokens at 10 USD per 1M) while each really costs about 0.0001 USD:
	// most of 64 simultaneous calls must be refused, the others billed.
	const u = await user('0.03');
	const messages = [{ role: 'user', content: 'Une question courte, vraiment.' }];
	const rs = await Promise.all(Array.from({ length: 64 },
	    () => chat(u, { model: 'gpt-4o', messages })));
	const ok = rs.filter((r) => r.status === 200);
	const refused = rs.filter((r) => r.status === 402);
	assert.equal(ok.length + refused.length, 64, JSON.stringify(rs.filter((r) =>
	    r.status !== 200 && r.status !== 402).map((r) => r.body)));
	assert.ok(ok.length >= 1);
	assert.ok(refused.length >= 1, 'a 0.03 USD balance cannot hold 64 calls at once');
	const left = micro(balance(u.id));
	assert.ok(left >= 0n);
	const [rows, sumCost, sumDelta] = psql(`SELECT count(*) || '|' || coalesce(sum(cost), 0) || '|' || ` +
	    `coalesce(sum(delta), 0) FROM usage_ledger WHERE user_id = ${u.id} AND kind = 'openai_call'`).split('|');
	assert.equal(Number(rows), ok.length);
	assert.equal(30000n - left, micro(sumCost), 'consumed = sum of ledger costs');
	assert.equal(micro(sumCost), -micro(sumDelta));
	const sumAnswers = ok.reduce((n, r) => n + micro(r.body.usage.cost_usd), 0n);
	assert.equal(sumAnswers, micro(sumCost), 'answers report what the ledger charged');
	assert.equal(psql(`SELECT count(*) FROM credit_reservations WHERE user_id = ${u.id} AND state = 'reserved'`), '0');
	assert.equal(psql(`SELECT count(*) FROM credit_reservations WHERE user_id = ${u.id} AND state = 'settled'`),
	    String(ok.length));
});

test('32 concurrent synchronous jobs of four users: records written in batches, each row whole and read back at once', async () => {
	// While one job's record is being written, the next ones wait and go
	// in together (lib/aijob.c, rl_db_batch_do); rows committed by one
	// statement share their xmin.  Each must still be the row a record
	// written alone would be, and readable as soon as its answer is out.
	// Four users, their calls interleaved: a batch's key checks lock its
	// users' rows while the same calls' reservations and settlements lock
	// them too (in another order, they deadlocked).
	const us = await Promise.all([1, 2, 3, 4].map(() => user('5.00')));
	const rs = await Promise.all(Array.from({ length: 32 }, (_, i) => chat(us[i % 4], {
	    model: 'gpt-4o', description: `Lot ${i}`,
	    messages: [{ role: 'user', content: `Question numéro ${i}, avec "guillemets", {accolades} et \\ barre.` }] })
	    .then(async (r) => ({ r, back: r.status === 200 ? await getJSON(`/ai/openai/jobs/${r.body.job_id}`,
	        { headers: auth(us[i % 4].token) }) : null }))));
	for (const { r, back } of rs) {
		assert.equal(r.status, 200, JSON.stringify(r.body));
		assert.equal(back.status, 200, `job ${r.body.job_id} not readable right after its answer`);
		assert.deepEqual(back.body, r.body);
	}
	const ids = rs.map(({ r }) => `'${r.body.job_id}'`).join(',');
	const [rows, xmins] = psql(`SELECT count(*) || '|' || count(DISTINCT xmin::text) FROM openai_jobs ` +
	    `WHERE id IN (${ids})`).split('|').map(Number);
	assert.equal(rows, 32);
	assert.ok(xmins < 32, 'every record was a statement of its own: no batch');
	// Whole rows: the columns computed from the parameters and the usage.
	assert.equal(psql(`SELECT count(*) FROM openai_jobs WHERE id IN (${ids}) AND NOT (status = 'completed' ` +
	    'AND temperature = 0.7 AND max_tokens = 1000 AND max_completion_tokens IS NULL ' +
	    'AND messages_format = \'legacy\' AND generation = \'legacy\' AND is_async = false ' +
	    'AND total_tokens = prompt_tokens + completion_tokens AND cost > 0 ' +
	    `AND created_at <= finished_at AND user_id IN (${us.map((u) => u.id).join(',')}))`), '0');
	// Each row its own request's text, byte for byte through the arrays.
	const all = psql(`SELECT string_agg(description || '|' || (messages->0->>'content') || '|' || ` +
	    `(result->'result'->>'completion'), E'\\n' ORDER BY description) FROM openai_jobs WHERE id IN (${ids})`);
	assert.equal(all.split('\n').length, 32);
	for (const line of all.split('\n')) {
		const [d, content, completion] = line.split('|');
		const i = Number(/^Lot (\d+)$/.exec(d)[1]);
		assert.equal(psql(`SELECT user_id FROM openai_jobs WHERE id = '${rs[i].r.body.job_id}'`), String(us[i % 4].id));
		assert.equal(content, `Question numéro ${i}, avec "guillemets", {accolades} et \\ barre.`);
		assert.equal(completion, sentence('gpt-4o'));
	}
});
