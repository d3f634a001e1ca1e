// Each request's log line (lib/log.c, one JSON object a line on the
// program's stderr, which scripts/test keeps in $STATE/log/<program>.log):
// nginx's request id, also answered as X-Request-Id; the user; route,
// status and duration; and, for a call that reached the upstream, its time,
// tokens and cost, the figures the ledger has.
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { STATE, auth, newUser, postJSON, psql, until } from './lib.mjs';

// The request line of request id in program's log, once it is written
// (after the answer has gone); with key 'task', the worker's line of a task.
function line(program, id, key = 'status') {
	return until(`log line of ${id}`, () => {
		for (const l of readFileSync(join(STATE, 'log', `${program}.log`), 'utf8').split('\n')) {
			if (!l.startsWith('{'))
				continue;
			const o = JSON.parse(l);
			if (o.req === id && key in o)
				return o;
		}
		return null;
	});
}

const messages = [{ role: 'user', content: 'Analyse ce plan de cours, s\'il te plaît.' }];

test('a billed call: request id, user, route, status, duration, upstream time, tokens and cost', async () => {
	const u = await newUser({ prefix: 'log', credits: '2.00' });
	// A client's own X-Request-Id does not replace nginx's.
	const r = await postJSON('/ai/openai/chat/', { model: 'gpt-4o', messages },
	    { ...auth(u.token), 'X-Request-Id': 'client-chosen' });
	assert.equal(r.status, 200, JSON.stringify(r.body));
	const id = r.headers.get('x-request-id');
	assert.match(id, /^[0-9a-f]{32}$/, 'nginx\'s $request_id');
	const o = await line('openai', id);
	assert.equal(o.level, 'info');
	assert.match(o.ts, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
	assert.equal(o.method, 'POST');
	assert.equal(o.path, '/ai/openai/chat/');
	assert.equal(o.route, '/ai/openai/chat/');
	assert.equal(o.status, 200);
	assert.equal(o.user, u.id);
	assert.ok(Number.isInteger(o.us) && o.us > 0, `us ${o.us}`);
	assert.equal(o.upstream_calls, 1);
	assert.equal(o.upstream_failed, 0);
	assert.equal(o.upstream_status, 200);
	assert.equal(o.model, 'gpt-4o');
	assert.ok(o.upstream_us > 0 && o.upstream_us <= o.us, `upstream ${o.upstream_us} of ${o.us}`);
	assert.equal(o.error, undefined);
	// The same figures as the ledger row of the call.
	// (A settlement may be queued: the row lands after the answer.)
	const row = await until('ledger row', () => psql(`SELECT input_tokens,
	    output_tokens, (cost * 1000000)::bigint FROM usage_ledger
	    WHERE request_id = '${id}' AND kind = 'openai_call'`));
	const [tin, tout, cost] = row.split('|').map(Number);
	assert.ok(tin > 0 && tout > 0, `ledger tokens ${tin}/${tout}`);
	assert.deepEqual([o.tokens_in, o.tokens_out, o.cost_micro], [tin, tout, cost]);
	assert.ok(o.cost_micro > 0);
});

test('a refused call: the user and the error, no upstream figures', async () => {
	const u = await newUser({ prefix: 'log-broke', credits: '0.00' });
	const r = await postJSON('/ai/openai/chat/', { model: 'gpt-4o', messages }, auth(u.token));
	assert.ok(r.status === 402 || r.status === 403, `${r.status} ${JSON.stringify(r.body)}`);
	const o = await line('openai', r.headers.get('x-request-id'));
	assert.equal(o.status, r.status);
	assert.equal(o.user, u.id);
	assert.equal(o.route, '/ai/openai/chat/');
	assert.match(o.error, /cr[ée]dit/i);
	for (const k of ['upstream_calls', 'upstream_us', 'tokens_in', 'tokens_out', 'cost_micro', 'model'])
		assert.equal(o[k], undefined, k);
	// Nobody signed in: user null, the refusal logged.
	const anon = await postJSON('/ai/openai/chat/', { model: 'gpt-4o', messages });
	assert.equal(anon.status, 401);
	const a = await line('openai', anon.headers.get('x-request-id'));
	assert.equal(a.user, null);
	assert.equal(a.status, 401);
	assert.ok(a.error);
});

test('a task the worker billed: its line has the user, the kind and the same figures as the ledger', async () => {
	const u = await newUser({ prefix: 'log-task', credits: '2.00' });
	const r = await postJSON('/ai/openai/chat/', { model: 'gpt-4o-mini', messages, async: true }, auth(u.token));
	assert.equal(r.status, 202, JSON.stringify(r.body));
	const id = r.body.task_id;
	const o = await line('worker', id, 'task');
	assert.equal(o.level, 'info');
	assert.equal(o.task, 'openai.chat');
	assert.equal(o.attempt, 1);
	assert.equal(o.state, 'SUCCESS');
	assert.equal(o.user, u.id);
	assert.ok(Number.isInteger(o.us) && o.us > 0, `us ${o.us}`);
	assert.equal(o.upstream_calls, 1);
	assert.equal(o.upstream_failed, 0);
	assert.equal(o.upstream_status, 200);
	assert.equal(o.model, 'gpt-4o-mini');
	assert.ok(o.upstream_us > 0 && o.upstream_us <= o.us, `upstream ${o.upstream_us} of ${o.us}`);
	assert.equal(o.error, undefined);
	assert.equal(o.method, undefined, 'a task line, not a request line');
	const row = await until('ledger row', () => psql(`SELECT input_tokens,
	    output_tokens, (cost * 1000000)::bigint FROM usage_ledger
	    WHERE task_id = '${id}' AND kind = 'openai_call'`));
	const [tin, tout, cost] = row.split('|').map(Number);
	assert.ok(tin > 0 && tout > 0, `ledger tokens ${tin}/${tout}`);
	assert.deepEqual([o.tokens_in, o.tokens_out, o.cost_micro], [tin, tout, cost]);
	assert.ok(o.cost_micro > 0);
});
