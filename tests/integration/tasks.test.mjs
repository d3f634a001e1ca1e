// The task-progress contract (EDxo §2) through nginx and the tasks program,
// with lib/gen.c end to end: relais.generate tasks are queued with psql (as
// a program would insert them), run by the stack's relais-worker against the
// fake upstream, and read back through /tasks/status, /tasks/events and
// /tasks/cancel.  The fake is driven by "[[X-Fake-...]]" directives in the
// prompt (docs/internals/fake-openai.md): relais forwards the prompt, not
// the test's headers.
import test from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import { spawn } from 'node:child_process';
import { BASE, BUILD, FINAL, STATE, admin, auth, getJSON, newUser, parseSSE, postJSON, psql, q, sleep, taskRow, uniq, until, waitTask } from './lib.mjs';

const STATES = ['PENDING', 'STARTED', 'PROGRESS', ...FINAL];
// A fresh user with credits and a token.
const user = () => newUser({ prefix: 'tk' });

// Queue one task as a program would (one INSERT); its id.
function enqueue(u, name, payload, extra = {}) {
	const cols = Object.keys(extra);
	return psql(`INSERT INTO tasks (name, user_id, payload${cols.map((c) => ', ' + c).join('')}) ` +
	    `VALUES (${q(name)}, ${u.id}, ${q(JSON.stringify(payload))}::jsonb` +
	    `${cols.map((c) => ', ' + extra[c]).join('')}) RETURNING id`);
}

// A relais.generate task; fake knobs go into the prompt.
function generate(u, { knobs = {}, schema, model = 'gpt-4o-mini', extra = {} } = {}) {
	const dir = Object.entries(knobs).map(([k, v]) => `X-Fake-${k}: ${v}`).join('; ');
	const payload = { model, prompt: `Rédige une phrase.${dir ? ` [[${dir}]]` : ''}`, feature: 'test.tasks' };
	if (schema !== undefined)
		payload.schema = schema;
	return enqueue(u, 'relais.generate', payload, extra);
}

// USD text or number -> integer micro-dollars, for exact comparisons.
const micro = (x) => Math.round(Number(x) * 1e6);

const ledger = (id) => JSON.parse(psql('SELECT coalesce(json_agg(json_build_object(\'status\', status, ' +
    '\'cost\', cost, \'input_tokens\', input_tokens, \'output_tokens\', output_tokens, \'model\', model) ORDER BY id), \'[]\') ' +
    `FROM usage_ledger WHERE task_id = '${id}'`));
const openHolds = (id) => psql(`SELECT count(*) FROM credit_reservations WHERE task_id = '${id}' AND state = 'reserved'`);

const finished = (id, ms) => waitTask(id, { ms });

const status = (u, id) => getJSON(`/tasks/status/${id}`, { headers: auth(u.token) });

function checkStatusShape(body, id) {
	assert.deepEqual(Object.keys(body).sort(), ['message', 'meta', 'result', 'state', 'task_id']);
	assert.equal(body.task_id, id);
	assert.ok(STATES.includes(body.state), body.state);
	assert.equal(typeof body.message, 'string');
	assert.equal(typeof body.meta, 'object');
	assert.notEqual(body.meta, null);
}

// Read an event stream until it ends, or until stop(frames) says so (the
// connection is then cut, as a browser tab closing would).
function events(u, id, { lastEventId, stop } = {}) {
	return new Promise((resolve, reject) => {
		const url = new URL(`${BASE}/tasks/events/${id}`);
		const headers = { ...auth(u.token), Accept: 'text/event-stream' };
		if (lastEventId !== undefined)
			headers['Last-Event-ID'] = lastEventId;
		const req = http.get({ host: url.hostname, port: url.port, path: url.pathname, headers }, (res) => {
			let text = '';
			const finish = () => resolve({ status: res.statusCode, headers: res.headers, frames: parseSSE(text) });
			res.setEncoding('utf8');
			res.on('data', (c) => {
				text += c;
				// Only whole frames count.
				const whole = text.slice(0, text.lastIndexOf('\n\n') + 2);
				if (stop !== undefined && stop(parseSSE(whole))) {
					text = whole;
					req.destroy();
					finish();
				}
			});
			res.on('end', finish);
		});
		req.on('error', (e) => (e.code === 'ECONNRESET' ? null : reject(e)));
	});
}

// Data frames (no comments), parsed, each checked for its shape.
function dataFrames(frames) {
	const out = [];
	let call;
	for (const f of frames.filter((x) => x.event !== null)) {
		assert.ok(['open', 'progress', 'ping', 'done', 'error'].includes(f.event), f.event);
		assert.match(f.id, /^\d+\.\d+\.\d+\.\d+$/, `every frame has an id: ${JSON.stringify(f)}`);
		const d = JSON.parse(f.data);
		if (f.event === 'progress') {
			assert.deepEqual(Object.keys(d).sort(), ['meta', 'state']);
			assert.ok(STATES.includes(d.state));
			// stream_buffer is stripped, except when a new upstream
			// call replaces the text the client already has.
			if (d.meta.stream_buffer !== undefined)
				assert.ok(call !== undefined && d.meta.stream_call !== call,
				    `stream_buffer only on a new call: ${JSON.stringify(d)}`);
			call = d.meta.stream_call;
		} else if (f.event === 'done') {
			assert.deepEqual(Object.keys(d).sort(), ['meta', 'result', 'state']);
			assert.ok(FINAL.includes(d.state));
		} else if (f.event === 'error')
			assert.equal(typeof d.error, 'string');
		else
			assert.deepEqual(d, {});
		out.push({ event: f.event, id: f.id, data: d });
	}
	return out;
}

const chunks = (fs_) => fs_.filter((f) => f.event === 'progress')
    .map((f) => f.data.meta.stream_chunk ?? '').join('');

// The schema the fake synthesises for, and that the answer must match.
const SCHEMA = 'SingleFieldResponse';

test('status: 404 for a bad id, an unknown task and someone else\'s; 401 without login', async () => {
	const a = await user();
	const b = await user();
	const id = enqueue(a, 'relais.noop', {});
	await finished(id);
	assert.equal((await getJSON(`/tasks/status/${id}`)).status, 401);
	for (const bad of ['nope', '00000000-0000-0000-0000-00000000000g', crypto.randomUUID()]) {
		const r = await status(a, bad);
		assert.equal(r.status, 404, `${bad}: ${JSON.stringify(r.body)}`);
	}
	let r = await status(b, id);
	assert.equal(r.status, 404, 'another user\'s task is not found');
	r = await getJSON(`/tasks/events/${id}`, { headers: auth(b.token) });
	assert.equal(r.status, 404);
	r = await postJSON(`/tasks/cancel/${id}`, {}, auth(b.token));
	assert.equal(r.status, 404);
	assert.equal(taskRow(id).cancel_requested, false, 'nothing written for a foreign cancel');
	r = await status(a, id);
	assert.equal(r.status, 200);
	checkStatusShape(r.body, id);
	r = await getJSON(`/tasks/status/${id}`, { headers: auth(await admin()) });
	assert.equal(r.status, 200, 'an admin sees every task');
	assert.equal(r.body.state, 'SUCCESS');
});

test('status: EDxo\'s state mapping', async () => {
	const u = await user();
	// Rows in each state, written directly: the mapping is the route's.
	const mk = (state, meta, result, cancel = false) => psql('INSERT INTO tasks (name, user_id, state, meta, ' +
	    `result, cancel_requested) VALUES ('test.mapping', ${u.id}, '${state}', ${q(JSON.stringify(meta))}::jsonb, ` +
	    `${result === null ? 'NULL' : q(JSON.stringify(result)) + '::jsonb'}, ${cancel}) RETURNING id`);
	const cases = [
		[mk('SUCCESS', { message: 'fini' }, { status: 'success', x: 1 }),
		    { state: 'SUCCESS', message: 'fini', result: { status: 'success', x: 1 } }],
		[mk('SUCCESS', { message: 'fini', step: 3 }, {}),
		    { state: 'SUCCESS', message: 'fini', result: { message: 'fini', step: 3 } }],
		[mk('SUCCESS', { message: 'm' }, { status: 'error', message: 'Plan introuvable' }),
		    { state: 'FAILURE', message: 'Plan introuvable', result: { status: 'error', message: 'Plan introuvable' } }],
		[mk('FAILURE', {}, { error: 'Crédits insuffisants pour cette opération.', code: 'insufficient_credits' }),
		    { state: 'FAILURE', message: 'Crédits insuffisants pour cette opération.', result: null }],
		[mk('PROGRESS', { message: 'Génération...', stream_buffer: '{"a"' }, null),
		    { state: 'PROGRESS', message: 'Génération...', result: null }],
		[mk('PENDING', {}, null, true), { state: 'REVOKED', message: '', result: null }],
		[mk('PENDING', {}, null), { state: 'PENDING', message: '', result: null }],
	];
	for (const [id, want] of cases) {
		const r = await status(u, id);
		assert.equal(r.status, 200);
		checkStatusShape(r.body, id);
		assert.deepEqual({ state: r.body.state, message: r.body.message, result: r.body.result }, want, id);
	}
	psql(`DELETE FROM tasks WHERE user_id = ${u.id} AND name = 'test.mapping'`);
});

test('generate: a structured answer streamed, status and events agree, billed once', { timeout: 30000 }, async () => {
	const u = await user();
	const id = generate(u, { schema: SCHEMA, knobs: { 'Chunk-Ms': 40, Chunks: 12 } });
	const ev = await events(u, id);
	assert.equal(ev.status, 200);
	assert.match(ev.headers['content-type'], /^text\/event-stream/);
	// X-Accel-Buffering: no is for nginx, which does not pass it on.
	assert.match(ev.headers['cache-control'], /no-cache/);
	assert.match(ev.headers['cache-control'], /no-transform/);
	const fr = dataFrames(ev.frames);
	assert.equal(fr[0].event, 'open');
	assert.equal(fr.at(-1).event, 'done');
	assert.equal(fr.filter((f) => f.event === 'done').length, 1);
	const done = fr.at(-1).data;
	assert.equal(done.state, 'SUCCESS', JSON.stringify(done));
	assert.equal(done.result.status, 'success');
	assert.deepEqual(Object.keys(done.result.result), ['champ_description']);
	assert.equal(typeof done.result.result.champ_description, 'string');
	assert.deepEqual(Object.keys(done.result.usage).sort(), ['cost', 'input_tokens', 'model', 'output_tokens']);
	assert.equal(done.result.usage.model, 'gpt-4o-mini');
	assert.equal(done.result.calls, 1);
	// The deltas add up to the answer, and several progress frames carried them.
	assert.ok(fr.filter((f) => f.event === 'progress' && f.data.meta.stream_chunk).length >= 2,
	    'the text arrived in several progress frames');
	assert.equal(chunks(fr), done.meta.stream_buffer, 'stream_chunk deltas concatenate to the final text');
	assert.deepEqual(JSON.parse(done.meta.stream_buffer), done.result.result);
	const r = await status(u, id);
	checkStatusShape(r.body, id);
	assert.equal(r.body.state, 'SUCCESS');
	assert.deepEqual(r.body.result, done.result);
	const l = ledger(id);
	assert.equal(l.length, 1, JSON.stringify(l));
	assert.equal(l[0].status, 'ok');
	assert.equal(Number(l[0].cost), done.result.usage.cost);
	assert.equal(openHolds(id), '0');
});

test('reasoning model: the summary arrives as reasoning_chunk deltas and in the result', { timeout: 30000 }, async () => {
	const u = await user();
	// A task that already ran a generation (its meta has stream_call 5):
	// this one is call 6, so readers see a new text.
	const id = generate(u, { model: 'gpt-5-mini', knobs: { 'Chunk-Ms': 30 },
	    extra: { meta: '\'{"stream_call": 5}\'::jsonb' } });
	const fr = dataFrames((await events(u, id)).frames);
	const done = fr.at(-1).data;
	assert.equal(done.state, 'SUCCESS', JSON.stringify(done));
	assert.equal(done.result.text, 'Bonjour! Ceci est une réponse simulée de gpt-5-mini.');
	const summary = fr.filter((f) => f.event === 'progress').map((f) => f.data.meta.reasoning_chunk ?? '').join('');
	assert.equal(summary, 'Je réfléchis à la question avant de répondre.');
	assert.equal(done.meta.reasoning_summary, summary);
	assert.equal(done.result.reasoning_summary, summary);
	assert.equal(chunks(fr), done.result.text);
	assert.equal(done.meta.stream_call, 6);
	const l = ledger(id);
	assert.equal(l.length, 1);
	assert.equal(l[0].model, 'gpt-5-mini');
});

test('events: Last-Event-ID resumes mid-stream without loss or repeat', { timeout: 30000 }, async () => {
	const u = await user();
	const id = generate(u, { schema: SCHEMA, knobs: { 'Chunk-Ms': 60, Chunks: 30 } });
	// First connection: cut after two frames that carried text.
	const first = await events(u, id, {
	    stop: (f) => f.filter((x) => x.event === 'progress' && JSON.parse(x.data).meta.stream_chunk).length >= 2 });
	const a = dataFrames(first.frames);
	assert.ok(a.every((f) => f.event !== 'done'), 'cut before the end');
	const last = a.at(-1).id;
	const got = chunks(a);
	assert.ok(got.length > 0);
	assert.equal(Number(last.split('.')[2]), Buffer.byteLength(got), 'the id counts the bytes the client has');
	// Second connection resumes.
	const second = await events(u, id, { lastEventId: last });
	const b = dataFrames(second.frames);
	assert.equal(b.at(-1).event, 'done');
	const done = b.at(-1).data;
	assert.equal(done.state, 'SUCCESS');
	assert.equal(got + chunks(b), done.meta.stream_buffer, 'first part + resumed part = the whole text, once');
	// A resume at the end has nothing to resend: open, then done.
	const third = await events(u, id, { lastEventId: b.at(-1).id });
	const c = dataFrames(third.frames);
	assert.deepEqual(c.map((f) => f.event), ['open', 'done']);
	// A malformed Last-Event-ID starts from the beginning.
	const fourth = dataFrames((await events(u, id, { lastEventId: 'garbage' })).frames);
	assert.equal(chunks(fourth), done.meta.stream_buffer);
});

test('cancel: a running task stops its upstream call, ends REVOKED, one partial ledger row', { timeout: 30000 }, async () => {
	const u = await user();
	const before = psql(`SELECT credits FROM users WHERE id = ${u.id}`);
	const id = generate(u, { knobs: { 'Chunk-Ms': 100, Chunks: 200 } });
	await until('streaming', () => (taskRow(id).meta.stream_buffer || '').length > 0);
	const r = await postJSON(`/tasks/cancel/${id}`, {}, auth(u.token));
	assert.equal(r.status, 202, JSON.stringify(r.body));
	assert.deepEqual(Object.keys(r.body).sort(), ['message', 'ok', 'state', 'task_id']);
	assert.equal(r.body.ok, true);
	assert.equal(r.body.task_id, id);
	assert.equal(r.body.message, 'Annulation demandée.');
	assert.ok(['STARTED', 'PROGRESS'].includes(r.body.state), r.body.state);
	const t0 = Date.now();
	const t = await finished(id, 10000);
	// 200 chunks 100 ms apart would take 20 s: the transfer was cut.
	assert.ok(Date.now() - t0 < 5000, 'stopped promptly');
	assert.equal(t.state, 'REVOKED');
	const s = await status(u, id);
	checkStatusShape(s.body, id);
	assert.equal(s.body.state, 'REVOKED');
	const l = ledger(id);
	assert.equal(l.length, 1, JSON.stringify(l));
	assert.equal(l[0].status, 'partial');
	assert.ok(l[0].output_tokens > 0 && l[0].output_tokens < 200, `billed for what was streamed: ${l[0].output_tokens}`);
	assert.equal(openHolds(id), '0', 'the hold was settled, not left open');
	const after = psql(`SELECT credits FROM users WHERE id = ${u.id}`);
	assert.equal(micro(before) - micro(after), micro(l[0].cost), 'charged exactly the partial call');
	// Events on a cancelled task: done REVOKED at once.
	const ev = dataFrames((await events(u, id)).frames);
	assert.equal(ev.at(-1).event, 'done');
	assert.equal(ev.at(-1).data.state, 'REVOKED');
});

// The fake upstream's counters for one tag (docs/internals/fake-openai.md).
const FAKE = process.env.FAKE_OPENAI_BASE_URL.replace(/\/v1$/, '');
async function fakeStats(tag) {
	const r = await fetch(`${FAKE}/_fake/stats?tag=${tag}`);
	assert.equal(r.status, 200);
	return r.json();
}
// until() for an async condition.
async function untilAsync(what, fn, ms, every = 20) {
	for (const end = Date.now() + ms; Date.now() < end; await sleep(every))
		if (await fn())
			return;
	assert.fail(`${what}: not after ${ms} ms`);
}

// Issue 16: a reasoning model may say nothing for a minute before its
// first token; a cancel must not wait for it.
test('cancel: a task whose upstream is silent is REVOKED within a second, the upstream hung up on, billed once', { timeout: 30000 }, async (t) => {
	const u = await user();
	const before = psql(`SELECT credits FROM users WHERE id = ${u.id}`);
	const tag = `silent-${uniq()}`;
	const id = generate(u, { knobs: { 'TTFT-Ms': 60000, Tag: tag } });
	// The call starts once the task says so; give the request time to
	// reach the fake, which then "thinks" (it counts a request when it
	// ends, so it cannot tell us).
	await until('calling', () => taskRow(id).meta.stream_call === 1);
	await sleep(500);
	const t0 = Date.now();
	const r = await postJSON(`/tasks/cancel/${id}`, {}, auth(u.token));
	assert.equal(r.status, 202, JSON.stringify(r.body));
	const done = await waitTask(id, { ms: 10000, every: 10 });
	const lag = Date.now() - t0;
	t.diagnostic(`cancel -> REVOKED in ${lag} ms`);
	assert.equal(done.state, 'REVOKED');
	assert.ok(lag < 1000, `cancel -> REVOKED took ${lag} ms`);
	// The fake saw its connection closed before its answer (cut), at once
	// (it watches a long silence for the client's hang-up).
	await untilAsync('upstream cut', async () => (await fakeStats(tag)).cut === 1, 1000);
	const st = await fakeStats(tag);
	assert.equal(st.requests, 1, JSON.stringify(st));
	assert.equal(st.answered, 0, JSON.stringify(st));
	// Billed once for what was used: the input sent, no output seen.
	const l = ledger(id);
	assert.equal(l.length, 1, JSON.stringify(l));
	assert.equal(l[0].status, 'partial');
	assert.ok(l[0].input_tokens > 0, JSON.stringify(l));
	assert.equal(l[0].output_tokens, 0);
	assert.equal(openHolds(id), '0', 'the hold was settled, not left open');
	const after = psql(`SELECT credits FROM users WHERE id = ${u.id}`);
	assert.equal(micro(before) - micro(after), micro(l[0].cost), 'charged exactly the stopped call');
	assert.ok(micro(l[0].cost) > 0, 'the input sent is paid for');
});

test('cancel: a queued task is REVOKED at once and never runs', async () => {
	const u = await user();
	// A kind no worker knows stays queued.
	const id = enqueue(u, 'test.never', {});
	// Credits held for it when it was queued (as an async chat job does).
	const hold = psql(`INSERT INTO credit_reservations (user_id, amount, model, task_id) ` +
	    `VALUES (${u.id}, 0.5, 'gpt-4o', '${id}') RETURNING id`);
	// A hold opened outside relais: the trigger keeps held (sql/0019).
	assert.equal(psql(`SELECT held FROM users WHERE id = ${u.id}`), '0.500000');
	const r = await postJSON(`/tasks/cancel/${id}`, {}, auth(u.token));
	assert.equal(r.status, 202);
	assert.equal(r.body.state, 'REVOKED');
	assert.equal(psql(`SELECT state FROM credit_reservations WHERE id = ${hold}`), 'released',
	    'the hold of a task that will never run is given back');
	// ... and relais' release, which keeps held itself, takes it out once.
	assert.equal(psql(`SELECT held FROM users WHERE id = ${u.id}`), '0.000000');
	assert.equal(ledger(id).length, 0, 'nothing charged');
	const t = taskRow(id);
	assert.equal(t.state, 'REVOKED');
	assert.equal(t.cancel_requested, true);
	assert.notEqual(t.finished_at, null);
	// Cancelling a finished task changes nothing.
	const r2 = await postJSON(`/tasks/cancel/${id}`, {}, auth(u.token));
	assert.equal(r2.status, 202);
	assert.equal(r2.body.state, 'REVOKED');
	assert.equal(taskRow(id).seq, t.seq, 'the row was not touched again');
});

test('schema-invalid answer: asked again with the errors, success on the retry, two ledger rows', { timeout: 30000 }, async () => {
	const u = await user();
	const id = generate(u, { schema: SCHEMA, knobs: { Fault: 'schema-invalid', 'Fault-Count': 1, 'Fault-Key': uniq() } });
	const ev = dataFrames((await events(u, id)).frames);
	const done = ev.at(-1).data;
	assert.equal(done.state, 'SUCCESS', JSON.stringify(done));
	assert.equal(done.result.calls, 2);
	assert.equal(typeof done.result.result.champ_description, 'string');
	assert.equal(done.meta.stream_call, 2);
	// The client's text restarted with the second call: what it holds is
	// the second answer, not the first one with the second appended.
	let text = '';
	for (const f of ev.filter((x) => x.event === 'progress')) {
		if (typeof f.data.meta.stream_buffer === 'string')
			text = f.data.meta.stream_buffer;
		text += f.data.meta.stream_chunk ?? '';
	}
	assert.equal(text, done.meta.stream_buffer);
	const l = ledger(id);
	assert.equal(l.length, 2, JSON.stringify(l));
	assert.deepEqual(l.map((x) => x.status), ['ok', 'ok']);
	// The second call carried the first answer and its errors.
	assert.ok(l[1].input_tokens > l[0].input_tokens + 20, JSON.stringify(l));
	const usage = done.result.usage;
	assert.equal(micro(usage.cost), micro(l[0].cost) + micro(l[1].cost), 'usage sums both calls');
});

test('schema-invalid twice: FAILURE with a clear French message, two ledger rows', { timeout: 30000 }, async () => {
	const u = await user();
	const id = generate(u, { schema: SCHEMA, knobs: { Fault: 'schema-invalid', 'Fault-Count': 2, 'Fault-Key': uniq() } });
	const t = await finished(id);
	assert.equal(t.state, 'FAILURE');
	assert.equal(t.result.code, 'upstream_error');
	assert.match(t.result.error, /ne respecte pas le schéma attendu/);
	const s = await status(u, id);
	assert.equal(s.body.state, 'FAILURE');
	assert.equal(s.body.message, t.result.error);
	assert.equal(ledger(id).length, 2);
	assert.equal(openHolds(id), '0');
});

test('refusal, cut answer and non-JSON text: FAILURE, French messages, billed once each', { timeout: 30000 }, async () => {
	const u = await user();
	const cases = [
		[{ Fault: 'refusal' }, /refusé de répondre/, 1],
		[{ Fault: 'incomplete' }, /incomplète/, 1],
		// Not JSON: asked again, and the key makes both answers broken.
		[{ Fault: 'invalid-json', 'Fault-Count': 2, 'Fault-Key': uniq() }, /pas un JSON valide/, 2],
	];
	for (const [knobs, msg, calls] of cases) {
		const id = generate(u, { schema: SCHEMA, knobs });
		const t = await finished(id);
		assert.equal(t.state, 'FAILURE', JSON.stringify(t));
		assert.match(t.result.error, msg);
		assert.equal(ledger(id).length, calls, JSON.stringify(knobs));
		assert.equal(openHolds(id), '0');
	}
});

test('a worker killed mid-task: the task is taken again, completes once, each call billed once (the cut one at its bound)', { timeout: 60000 }, async () => {
	const u = await user();
	// Our own workers with a 2 s lease; the stack's worker is paused so
	// that it cannot claim the task first.
	// The program itself, not its supervisor (scripts/supervise).
	const stackPid = Number(fs.readFileSync(`${STATE}/pids/worker.child`, 'utf8'));
	const spawned = [];
	const start = (n) => {
		const log = `${STATE}/log/tasks-worker-${n}.log`;
		const fd = fs.openSync(log, 'w');
		const p = spawn(`${BUILD}/bin/relais-worker`, ['-n', '1'], {
			stdio: ['ignore', fd, fd],
			env: { ...process.env, RELAIS_TASK_LEASE_SEC: '2' },
		});
		fs.closeSync(fd);
		const w = { p, log, exited: new Promise((r) => p.on('exit', r)) };
		spawned.push(w);
		return w;
	};
	process.kill(stackPid, 'SIGSTOP');
	try {
		const a = start(1);
		await until('worker 1 listening', () => fs.readFileSync(a.log, 'utf8').includes('listening on relais_tasks'));
		const id = generate(u, { schema: SCHEMA, knobs: { 'Chunk-Ms': 100, Chunks: 100 }, extra: { max_attempts: 2 } });
		await until('streaming', () => (taskRow(id).meta.stream_buffer || '').length > 0);
		a.p.kill('SIGKILL');
		await a.exited;
		const mid = taskRow(id);
		assert.ok(['STARTED', 'PROGRESS'].includes(mid.state));
		const b = start(2);
		const t = await finished(id, 40000);
		assert.equal(t.state, 'SUCCESS', JSON.stringify(t));
		assert.equal(t.attempts, 2, 'run again once');
		assert.match(fs.readFileSync(b.log, 'utf8'), /lost it at attempt 1 of 2: queued again/);
		const l = ledger(id);
		// One row per upstream call (issue 17): the cut call never
		// settled (its worker died), so the rerun settles its hold at
		// the reserved bound ('lost': the provider bills what it
		// streamed before the cut, never nothing), then its own call
		// is 'ok'.  Nothing is released for free.
		assert.equal(l.length, 2, JSON.stringify(l));
		assert.deepEqual(l.map((x) => x.status), ['lost', 'ok']);
		assert.ok(l[0].cost > l[1].cost, 'the lost row is the reserved bound');
		assert.equal(psql(`SELECT count(*) FROM credit_reservations WHERE task_id = '${id}' AND state = 'settled'`), '2');
		assert.equal(psql(`SELECT count(*) FROM credit_reservations WHERE task_id = '${id}' AND state = 'released'`), '0',
		    'the dead attempt\'s hold was not given back');
		assert.equal(openHolds(id), '0');
		b.p.kill('SIGTERM');
		await b.exited;
	} finally {
		for (const w of spawned)
			try { w.p.kill('SIGKILL'); } catch { /* gone */ }
		process.kill(stackPid, 'SIGCONT');
	}
});
