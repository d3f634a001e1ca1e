// The task runner (lib/worker.c) through tests/worker/testworker, a worker
// whose kinds are test.echo, test.sleep, test.fail and test.crash.  Tasks
// are queued with psql, as a program would insert them, and every check
// reads the tasks table: states, results, attempts, leases, seq.  Each test
// starts its own workers (lease 2 s) and stops them; the stack's
// relais-worker runs too but knows none of the test kinds.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { spawn } from 'node:child_process';
import { BUILD, STATE, psql, sleep } from './lib.mjs';

const BIN = `${BUILD}/tests/worker/testworker`;
const FINAL = ['SUCCESS', 'FAILURE', 'REVOKED'];
const workers = [];

function need(name) {
	const v = process.env[name];
	if (!v)
		throw new Error(`${name} is not set: scripts/lib.sh exports it`);
	return v;
}

// Start a test worker; its log goes next to the stack's, where
// scripts/test looks for sanitizer reports.
function startWorker(args = []) {
	const log = `${STATE}/log/testworker-${workers.length + 1}.log`;
	const fd = fs.openSync(log, 'w');
	const proc = spawn(BIN, args, {
		stdio: ['ignore', fd, fd],
		env: {
			...process.env,
			RELAIS_DATABASE_URL: need('RELAIS_DATABASE_URL'),
			RELAIS_SECRET_KEY_FILE: need('RELAIS_SECRET_KEY_FILE'),
			RELAIS_TASK_LEASE_SEC: '2',
		},
	});
	fs.closeSync(fd);
	const w = { proc, log, exit: null };
	w.exited = new Promise((resolve) => proc.on('exit', (code, signal) => {
		w.exit = { code, signal };
		resolve(w.exit);
	}));
	workers.push(w);
	return w;
}

// The worker id it writes in tasks.worker, from its start-up line.
const workerId = (w) => (fs.readFileSync(w.log, 'utf8').match(/worker (testworker@\S+?)[,"]/) || [])[1];

async function listening(w) {
	for (let i = 0; i < 200; i++) {
		assert.equal(w.exit, null, `worker exited early: ${fs.readFileSync(w.log, 'utf8')}`);
		if (fs.readFileSync(w.log, 'utf8').includes('listening on relais_tasks'))
			return;
		await sleep(50);
	}
	assert.fail('the worker never listened on relais_tasks');
}

async function stop(w) {
	if (w.exit === null)
		w.proc.kill('SIGTERM');
	const t = setTimeout(() => w.proc.kill('SIGKILL'), 15000);
	const r = await w.exited;
	clearTimeout(t);
	return r;
}

const userId = () => psql("SELECT id FROM users WHERE email = 'prof@demo.relais'");
const q = (s) => `'${s.replace(/'/g, "''")}'`;

// Queue tasks with one INSERT (one transaction, as a program would).
function enqueue(name, payloads, extra = {}) {
	const cols = Object.keys(extra);
	const rows = payloads.map((p) => `(${q(name)}, ${userId()}, ${q(JSON.stringify(p))}::jsonb` +
	    cols.map((c) => `, ${extra[c]}`).join('') + ')');
	const out = psql(`INSERT INTO tasks (name, user_id, payload${cols.map((c) => ', ' + c).join('')}) ` +
	    `VALUES ${rows.join(', ')} RETURNING id`);
	return out.split('\n');
}

// The worker's line for task id (lib/log.c, rl_log_task).
const taskLines = (w, id) => fs.readFileSync(w.log, 'utf8').split('\n').filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l)).filter((o) => o.req === id && 'task' in o);

function rows(ids) {
	const out = psql(`SELECT coalesce(json_agg(json_build_object('id', id, 'state', state, ` +
	    `'result', result, 'meta', meta, 'attempts', attempts, 'worker', worker, 'seq', seq, ` +
	    `'lease_until', lease_until, 'created', extract(epoch FROM created_at), ` +
	    `'started', extract(epoch FROM started_at), 'finished', extract(epoch FROM finished_at)) ` +
	    `ORDER BY created_at, payload::text), '[]') FROM tasks WHERE id = ANY('{${ids.join(',')}}'::uuid[])`);
	return JSON.parse(out);
}

async function settled(ids, ms = 10000) {
	let r;
	for (const end = Date.now() + ms; Date.now() < end; await sleep(50)) {
		r = rows(ids);
		if (r.length === ids.length && r.every((t) => FINAL.includes(t.state)))
			return r;
	}
	assert.fail(`tasks not finished after ${ms} ms: ${JSON.stringify(r)}`);
}

test.beforeEach(async () => {
	// A failed test must leave neither workers nor work for the next one.
	for (const w of workers)
		if (w.exit === null) {
			w.proc.kill('SIGKILL');
			await w.exited;
		}
	psql("UPDATE tasks SET state = 'REVOKED' WHERE name LIKE 'test.%' " +
	    "AND state IN ('PENDING', 'STARTED', 'PROGRESS')");
});

test.after(() => {
	for (const w of workers)
		if (w.exit === null)
			w.proc.kill('SIGKILL');
});

test('a task runs and its result is stored; SIGTERM exits 0', { timeout: 30000 }, async () => {
	const w = startWorker(['-n', '2']);
	await listening(w);
	const payload = { texte: 'été à Québec', n: [1, 2, { x: null }] };
	const [id] = enqueue('test.echo', [payload]);
	const [t] = await settled([id]);
	assert.equal(t.state, 'SUCCESS');
	assert.deepEqual(t.result, payload, 'the result is what the function returned');
	assert.equal(t.attempts, 1);
	assert.equal(t.worker, workerId(w));
	assert.equal(t.lease_until, null, 'no lease once finished');
	assert.ok(t.started >= t.created && t.finished >= t.started, 'timestamps set in order');
	assert.deepEqual(await stop(w), { code: 0, signal: null });
	const lines = taskLines(w, id);
	assert.equal(lines.length, 1, 'one JSON log line per task');
	const [o] = lines;
	assert.deepEqual([o.level, o.task, o.attempt, o.state, o.user, o.error, o.upstream_calls],
	    ['info', 'test.echo', 1, 'SUCCESS', Number(userId()), undefined, undefined]);
	assert.ok(Number.isInteger(o.us) && o.us > 0, `us ${o.us}`);
});

test('a failing task ends FAILURE with {status, message, error, code}: a French message EDxo shows', { timeout: 30000 }, async () => {
	const w = startWorker(['-n', '1']);
	await listening(w);
	const [id] = enqueue('test.fail', [{ message: 'le modèle a refusé' }]);
	const [t] = await settled([id]);
	assert.equal(t.state, 'FAILURE');
	assert.deepEqual(t.result, { status: 'error',
	    message: "La tâche a échoué : Le service d'IA a renvoyé une erreur. (le modèle a refusé)",
	    error: 'le modèle a refusé', code: 'upstream_error' });
	assert.equal(t.attempts, 1);
	await stop(w);
	const [o] = taskLines(w, id);
	assert.deepEqual([o.state, o.error], ['FAILURE', 'upstream_error: le modèle a refusé']);
});

test('a task queued while the worker is idle starts within a second (LISTEN, not the 5 s poll)', { timeout: 30000 }, async () => {
	const w = startWorker(['-n', '1']);
	await listening(w);
	for (let round = 0; round < 2; round++) {
		// Well inside the runner's 5 s poll: only a notification wakes it.
		await sleep(1500);
		const [id] = enqueue('test.echo', [{ round }]);
		const [t] = await settled([id]);
		assert.equal(t.state, 'SUCCESS');
		assert.ok(t.started - t.created < 1.0,
		    `round ${round}: started ${(t.started - t.created).toFixed(3)} s after it was queued`);
	}
	await stop(w);
});

test('-n 4 runs four tasks at once', { timeout: 30000 }, async () => {
	const w = startWorker(['-n', '4']);
	await listening(w);
	const ids = enqueue('test.sleep', [{ ms: 1000 }, { ms: 1000 }, { ms: 1000 }, { ms: 1000 }]);
	const ts = await settled(ids);
	assert.ok(ts.every((t) => t.state === 'SUCCESS' && t.result.slept === 1000), JSON.stringify(ts));
	const lastStart = Math.max(...ts.map((t) => t.started));
	const firstEnd = Math.min(...ts.map((t) => t.finished));
	assert.ok(lastStart < firstEnd, 'every task started before any finished');
	const span = Math.max(...ts.map((t) => t.finished)) - Math.min(...ts.map((t) => t.created));
	assert.ok(span < 3.0, `4 x 1 s took ${span.toFixed(3)} s`);
	await stop(w);
});

test('progress meta is visible while the task runs, and seq only grows', { timeout: 30000 }, async () => {
	const w = startWorker(['-n', '1']);
	await listening(w);
	const [id] = enqueue('test.sleep', [{ ms: 1500 }]);
	const seen = [];
	for (const end = Date.now() + 10000; Date.now() < end; await sleep(20)) {
		const [t] = rows([id]);
		seen.push(t);
		if (FINAL.includes(t.state))
			break;
	}
	const last = seen[seen.length - 1];
	assert.equal(last.state, 'SUCCESS');
	const mid = seen.filter((t) => t.state === 'PROGRESS');
	assert.ok(mid.some((t) => t.meta.progress > 0 && t.meta.progress < 100 &&
	    t.meta.message === 'dormi un peu'), `no progress seen mid-way: ${JSON.stringify(mid.map((t) => t.meta))}`);
	for (let i = 1; i < seen.length; i++)
		assert.ok(seen[i].seq >= seen[i - 1].seq, `seq went back: ${seen[i - 1].seq} then ${seen[i].seq}`);
	const seqs = new Set(mid.map((t) => t.seq));
	assert.ok(seqs.size >= 3, `seq changed ${seqs.size} times while running`);
	assert.ok(last.seq > Math.max(...mid.map((t) => t.seq)), 'the outcome bumps seq');
	assert.deepEqual(last.meta, { progress: 100, message: "dormi jusqu'au bout" }, 'meta merged key by key');
	await stop(w);
});

test('cancel_requested stops a running task, which ends REVOKED', { timeout: 30000 }, async () => {
	const w = startWorker(['-n', '1']);
	await listening(w);
	const [id] = enqueue('test.sleep', [{ ms: 20000 }]);
	for (let i = 0; i < 200 && rows([id])[0].state !== 'PROGRESS'; i++)
		await sleep(25);
	assert.equal(rows([id])[0].state, 'PROGRESS');
	psql(`UPDATE tasks SET cancel_requested = true WHERE id = '${id}'`);
	const [t] = await settled([id], 5000);
	assert.equal(t.state, 'REVOKED');
	assert.equal(t.result.cancelled, true, 'the function saw rl_task_cancelled()');
	assert.ok(t.result.slept < 20000);
	assert.ok(t.finished - t.started < 10, 'stopped early');
	await stop(w);
});

test('a task cancelled while queued never runs', { timeout: 30000 }, async () => {
	const w = startWorker(['-n', '1']);
	await listening(w);
	// Were it run, test.crash would kill the worker.
	const [id] = enqueue('test.crash', [{ crash: true }], { cancel_requested: 'true' });
	const [t] = await settled([id]);
	assert.equal(t.state, 'REVOKED');
	// Cancelled before it ran: the result still says so, in French.
	assert.deepEqual(t.result, { status: 'cancelled', code: 'cancelled', message: 'Tâche annulée.' });
	await sleep(200);
	assert.equal(w.exit, null, 'the worker is still alive');
	await stop(w);
});

test('a worker that dies mid-task: the reaper requeues the task and it completes on attempt 2', { timeout: 30000 }, async () => {
	const w1 = startWorker(['-n', '1']);
	await listening(w1);
	const [id] = enqueue('test.crash', [{ crash: true }], { max_attempts: 2 });
	const exit = await w1.exited;
	assert.equal(exit.signal, 'SIGABRT', `the worker aborted: ${JSON.stringify(exit)}`);
	let [t] = rows([id]);
	assert.equal(t.state, 'STARTED', 'left running by the dead worker');
	assert.equal(t.attempts, 1);
	assert.equal(t.worker, workerId(w1));
	const w2 = startWorker(['-n', '1']);
	[t] = await settled([id], 15000);
	assert.equal(t.state, 'SUCCESS');
	assert.equal(t.attempts, 2);
	assert.deepEqual(t.result, { attempt: 2 });
	assert.equal(t.worker, workerId(w2));
	await stop(w2);
});

test('with max_attempts 1 the lost task fails with worker_lost', { timeout: 30000 }, async () => {
	const w1 = startWorker(['-n', '1']);
	await listening(w1);
	const [id] = enqueue('test.crash', [{ crash: true }], { max_attempts: 1 });
	assert.equal((await w1.exited).signal, 'SIGABRT');
	const w2 = startWorker(['-n', '1']);
	const [t] = await settled([id], 15000);
	assert.equal(t.state, 'FAILURE');
	assert.deepEqual(t.result, { status: 'error', message: 'Le traitement a été interrompu.',
	    error: 'Le traitement a été interrompu.', code: 'worker_lost' });
	assert.equal(t.attempts, 1, 'not run again');
	await stop(w2);
});

test('two workers at once never run the same task twice', { timeout: 60000 }, async () => {
	const a = startWorker(['-n', '4']);
	const b = startWorker(['-n', '4']);
	await listening(a);
	await listening(b);
	const payloads = Array.from({ length: 40 }, (_, i) => ({ ms: 50, i }));
	const ids = enqueue('test.sleep', payloads);
	const ts = await settled(ids, 30000);
	assert.equal(ts.length, 40);
	for (const t of ts) {
		assert.equal(t.state, 'SUCCESS', JSON.stringify(t));
		assert.equal(t.attempts, 1, `task ${t.id} claimed ${t.attempts} times`);
		assert.equal(t.result.attempt, 1);
	}
	const by = new Set(ts.map((t) => t.worker));
	assert.deepEqual([...by].sort(), [workerId(a), workerId(b)].sort(), 'both workers took part');
	assert.deepEqual(await stop(a), { code: 0, signal: null });
	assert.deepEqual(await stop(b), { code: 0, signal: null });
});
