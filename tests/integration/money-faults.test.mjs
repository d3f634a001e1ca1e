// Money under faults (issue 14 item 6): billable calls from three users
// with mixed upstream faults, PostgreSQL stopped while calls are in
// flight, and the worker SIGKILLed mid-task.  Whatever happens, every
// answer the upstream delivered whole has exactly one ledger row, no hold
// stays open, no job or task stays running, and the ledger adds up.
//
// The fake upstream counts what it answered per X-Fake-Tag (GET
// /_fake/stats, docs/internals/fake-openai.md): every call of this file
// carries the file's tag in its prompt, so the count is this file's own.
// A settlement that fails while PostgreSQL is down is queued and retried
// by the program that made the call (lib/credits.c); the test checks it
// landed, once.  For the kill the stack's (supervised) worker is replaced
// by the test's own with a 2 s lease, so that the rerun comes within
// seconds; the stack's is started again at the end as rl_worker does.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { execFileSync, spawn } from 'node:child_process';
import { BASE, BUILD, FINAL, STATE, auth, newUser, postJSON, psql, q, sleep, sweep, taskRow, uniq, until } from './lib.mjs';

const TAG = `mf${uniq()}`;
const FAKE = process.env.FAKE_OPENAI_BASE_URL.replace(/\/v1$/, '');
const users = [];
const ids = () => users.map((u) => u.id).join(',');

// The fake's knobs for one call, with this file's tag.
let nkey = 0;
function dir(knobs = {}) {
	const k = { Tag: TAG, ...knobs };
	if (k.Fault !== undefined && k['Fault-Count'] === undefined) {
		k['Fault-Count'] = 1;
		k['Fault-Key'] = `${TAG}k${nkey++}`;
	}
	return `[[${Object.entries(k).filter(([, v]) => v !== undefined)
	    .map(([n, v]) => `X-Fake-${n}: ${v}`).join('; ')}]]`;
}

// A fault for call i: none, a retried 429/500, a cut stream, garbage.
const FAULTS = [{}, { Fault: '429' }, { Fault: '500' }, { Fault: 'reset-mid-stream' },
    { Fault: 'garbage' }, {}, { Fault: '500', 'Fault-Count': 5 }];
const fault = (i, extra = {}) => ({ ...FAULTS[i % FAULTS.length], ...extra });

async function completion(u, i, extra) {
	const body = { message: `Calcule ${i}. ${dir(fault(i, extra))}`, model: 'gpt-4o-mini',
	    agent: 'V2', stream: i % 2 === 1 };
	const r = await fetch(`${BASE}/completion`, { method: 'POST',
	    headers: { 'Content-Type': 'application/json', ...auth(u.token) }, body: JSON.stringify(body) });
	await r.text();
	return r.status;
}

async function job(u, i, extra, async) {
	const r = await postJSON('/ai/openai/chat/', { model: 'gpt-4o-mini', async,
	    messages: [{ role: 'user', content: `Résume ${i}. ${dir(fault(i, extra))}` }] }, auth(u.token));
	return r;
}

function generate(u, i, knobs, extra = '') {
	const payload = { model: 'gpt-4o-mini', prompt: `Rédige ${i}. ${dir(knobs)}`, feature: 'test.money-faults' };
	return psql(`INSERT INTO tasks (name, user_id, payload${extra ? ', max_attempts' : ''}) VALUES ` +
	    `('relais.generate', ${u.id}, ${q(JSON.stringify(payload))}::jsonb${extra ? `, ${extra}` : ''}) RETURNING id`);
}

const openHolds = () => Number(psql(`SELECT count(*) FROM credit_reservations WHERE user_id IN (${ids()}) ` +
    'AND state = \'reserved\''));
const openJobs = () => Number(psql(`SELECT count(*) FROM openai_jobs WHERE user_id IN (${ids()}) ` +
    'AND status NOT IN (\'completed\', \'failed\')'));
const openTasks = () => Number(psql(`SELECT count(*) FROM tasks WHERE user_id IN (${ids()}) ` +
    `AND state NOT IN (${FINAL.map(q).join(', ')})`));

// Every server log line that says a money write was queued or landed.
function logCount(re) {
	let n = 0;
	for (const f of fs.readdirSync(`${STATE}/log`).filter((f) => f.endsWith('.log')))
		n += (fs.readFileSync(`${STATE}/log/${f}`, 'utf8').match(re) || []).length;
	return n;
}

async function stats() {
	const r = await fetch(`${FAKE}/_fake/stats?tag=${TAG}`);
	assert.equal(r.status, 200);
	return r.json();
}

// Nothing open, then the books: the fake's answers against the ledger.
async function checkBooks(what) {
	await until(`${what}: holds, jobs and tasks closed`, () => openHolds() === 0 && openJobs() === 0 &&
	    openTasks() === 0, 40000, 250);
	const s = await stats();
	assert.ok(s.answered > 0, `${what}: the fake answered nothing`);
	const list = `ARRAY[${s.ids.map(q).join(', ')}]::text[]`;
	// Every answer delivered whole: one ledger row, no more, no less.
	assert.equal(psql(`SELECT count(*) FROM unnest(${list}) a(id) WHERE ` +
	    '(SELECT count(*) FROM usage_ledger l WHERE l.upstream_response_id = a.id) <> 1'), '0',
	    `${what}: an answered call without exactly one ledger row`);
	// An "ok" row is an answer the fake delivered whole.
	assert.equal(psql(`SELECT count(*) FROM usage_ledger WHERE user_id IN (${ids()}) AND status = 'ok' ` +
	    `AND NOT (upstream_response_id = ANY(${list}))`), '0', `${what}: an ok row the fake never finished`);
	// Each settled hold has one row, a released one none.
	assert.equal(psql(`SELECT count(*) FROM credit_reservations c LEFT JOIN usage_ledger l ON ` +
	    `l.reservation_id = c.id WHERE c.user_id IN (${ids()}) AND (c.state = 'settled') <> (l.id IS NOT NULL)`), '0');
	assert.equal(psql(`SELECT count(*) FROM usage_ledger WHERE user_id IN (${ids()}) ` +
	    'AND kind = \'openai_call\' AND reservation_id IS NULL'), '0');
	// Balances: never negative, equal to the ledger, replayable.
	for (const u of users) {
		assert.equal(psql(`SELECT credits >= 0 AND credits = (SELECT sum(delta) FROM usage_ledger ` +
		    `WHERE user_id = ${u.id}) FROM users WHERE id = ${u.id}`), 't', `${what}: user ${u.id}`);
		assert.equal(psql(`SELECT count(*) FROM (SELECT balance_after, sum(delta) OVER (ORDER BY id) r ` +
		    `FROM usage_ledger WHERE user_id = ${u.id}) s WHERE balance_after <> r`), '0');
		// Nothing open, so nothing held (users.held, sql/0010_held.sql).
		assert.equal(psql(`SELECT held FROM users WHERE id = ${u.id}`), '0.000000', `${what}: user ${u.id} held`);
	}
	return s;
}

test.before(async () => {
	for (let i = 0; i < 3; i++)
		users.push(await newUser({ prefix: 'mf', credits: '5.00' }));
});

test('mixed faults and a PostgreSQL restart mid-call: every answer billed once, nothing left open', { timeout: 120000 }, async () => {
	const queued0 = logCount(/settlement of hold \d+[^\n]*queued for retry/g);
	const landed0 = logCount(/settlement of hold \d+[^\n]*landed at retry/g);
	const refused0 = logCount(/settlement of hold \d+[^\n]*refused for good/g);
	// 1. Faults with the database up: completions (plain and streamed),
	// synchronous and queued jobs, generations.
	const calls = [];
	for (let i = 0; i < 21; i++)
		calls.push(completion(users[i % 3], i));
	for (let i = 0; i < 6; i++)
		calls.push(job(users[i % 3], i, {}, i % 2 === 0));
	await Promise.all(calls);
	for (let i = 0; i < 3; i++)
		generate(users[i], i, fault(i + 1));

	// 2. Calls that are upstream when PostgreSQL goes away: the answer
	// comes back (3 s later) with no database to settle in.
	const slow = [];
	const n0 = Number(psql(`SELECT count(*) FROM credit_reservations WHERE user_id IN (${ids()})`));
	for (let i = 0; i < 12; i++)
		slow.push(completion(users[i % 3], 100 + i, { 'TTFT-Ms': 3000 }).catch(() => 0));
	for (let i = 0; i < 4; i++)
		slow.push(job(users[i % 3], 100 + i, { 'TTFT-Ms': 3000 }, i % 2 === 0).catch(() => 0));
	// Every slow call holds its credits (so it is upstream) before the stop.
	await until('slow calls reserved', () => Number(psql('SELECT count(*) FROM credit_reservations ' +
	    `WHERE user_id IN (${ids()})`)) >= n0 + 16, 15000, 50);
	execFileSync(`${STATE}/pg-stop`, { stdio: 'ignore' });
	try {
		await sleep(4500);
	} finally {
		execFileSync(`${STATE}/pg-start`, { stdio: 'ignore' });
	}
	await Promise.all(slow);

	const s = await checkBooks('after the restart');
	assert.ok(s.cut > 0, 'no answer was cut: the reset fault did not run');
	const queued = logCount(/settlement of hold \d+[^\n]*queued for retry/g) - queued0;
	assert.ok(queued > 0, 'no settlement failed while PostgreSQL was down: the test missed its window');
	// The hold closes with the commit; the log line follows it.
	await until('every queued settlement landed', () =>
	    logCount(/settlement of hold \d+[^\n]*landed at retry/g) - landed0 === queued, 10000, 200);
	assert.equal(logCount(/settlement of hold \d+[^\n]*refused for good/g), refused0);
});

// The stack's worker runs under scripts/supervise (pid of the supervisor
// in pids/worker.pid, of the program in pids/worker.child), which would
// start a killed worker again with the stack's 60 s lease: too slow a
// rerun for a test.  So the supervised worker is stopped (SIGTERM to the
// supervisor stops both), this test runs its own with a 2 s lease and
// kills one, and the stack's is started again at the end as rl_worker
// starts it (scripts/lib.sh rl_supervised).
const WORKER_LOG = `${STATE}/log/worker.log`;
const PIDFILE = `${STATE}/pids/worker.pid`;
const TOP = process.env.RELAIS_TEST_TOP;

function alive(pid) {
	try {
		return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
	} catch {
		return false;
	}
}

async function stop(pid, sig) {
	if (alive(pid))
		process.kill(pid, sig);
	await until(`process ${pid} gone`, () => !alive(pid), 40000, 50);
}

// Read a log from an offset (the start of this test's lines).
function since(log, from) {
	const b = Buffer.alloc(Math.max(0, fs.statSync(log).size - from));
	const f = fs.openSync(log, 'r');
	fs.readSync(f, b, 0, b.length, from);
	fs.closeSync(f);
	return b.toString();
}

// Start cmd detached, its output appended to log; its pid once the
// worker it runs listens.
async function spawnWorker(log, cmd, args, extraEnv = {}) {
	fs.appendFileSync(log, '');
	const from = fs.statSync(log).size;
	const fd = fs.openSync(log, 'a');
	const env = { ...process.env, ...extraEnv };
	for (const [k, v] of Object.entries(extraEnv))
		if (v === undefined)
			delete env[k];
	const p = spawn(cmd, args, { detached: true, stdio: ['ignore', fd, fd], env });
	fs.closeSync(fd);
	p.unref();
	await until('worker listening', () => {
		assert.ok(alive(p.pid), `worker exited: ${since(log, from).slice(-400)}`);
		return since(log, from).includes('listening on relais_tasks');
	}, 20000, 100);
	return p.pid;
}

let nworker = 0;
const testWorker = () => spawnWorker(`${STATE}/log/money-faults-worker-${++nworker}.log`,
    `${BUILD}/bin/relais-worker`, [], { RELAIS_TASK_LEASE_SEC: '2' });

test('worker SIGKILLed mid-call: the job fails once, the task reruns, holds closed, billed once', { timeout: 120000 }, async () => {
	const u = users[0];
	await stop(Number(fs.readFileSync(PIDFILE, 'utf8')), 'SIGTERM');
	let w;
	try {
		w = await testWorker();
		// An async job and a generation, both upstream when the kill comes.
		const r = await job(u, 200, { 'TTFT-Ms': 6000, Fault: undefined, 'Fault-Count': undefined }, true);
		assert.equal(r.status, 202, JSON.stringify(r.body));
		const gen = generate(u, 201, { 'Chunk-Ms': 100, Chunks: 60 }, '2');
		await until('both upstream', () => psql(`SELECT status FROM openai_jobs WHERE id = ${q(r.body.job_id)}`) ===
		    'running' && (taskRow(gen).meta.stream_buffer || '').length > 0, 20000, 50);
		const before = await stats();
		await stop(w, 'SIGKILL');
		w = await testWorker();

		// The job: its run died mid-call, so it fails, never asked twice.
		const t = await until('job task finished', () => {
			const row = taskRow(r.body.task_id);
			return FINAL.includes(row.state) ? row : null;
		}, 30000, 100);
		assert.equal(t.state, 'FAILURE', JSON.stringify(t));
		assert.equal(t.attempts, 2);
		const j = JSON.parse(psql(`SELECT row_to_json(j) FROM openai_jobs j WHERE id = ${q(r.body.job_id)}`));
		assert.equal(j.status, 'failed');
		assert.equal(j.error_code, 'worker_lost');
		assert.equal(psql(`SELECT count(*) FROM credit_reservations WHERE task_id = ${q(r.body.task_id)} ` +
		    'AND state = \'reserved\''), '0', 'the dead run\'s hold is closed');
		// Its cut call is billed at its bound (issue 17: a dead call is
		// never free), one 'lost' row, and the job says what it cost.
		const lost = (task) => psql('SELECT coalesce(string_agg(l.status || \':\' || (l.delta = -c.amount ' +
		    'AND l.cost = c.amount)::text, \',\' ORDER BY l.id), \'\') FROM usage_ledger l JOIN credit_reservations c ' +
		    `ON c.id = l.reservation_id WHERE l.task_id = ${q(task)}`);
		assert.equal(lost(r.body.task_id), 'lost:true', 'the cut job\'s hold settled at its amount');
		assert.equal(psql(`SELECT j.cost = c.amount FROM openai_jobs j JOIN credit_reservations c ON ` +
		    `c.task_id = j.task_id WHERE j.id = ${q(r.body.job_id)}`), 't', 'the job\'s cost is its lost hold');
		// The generation: run again; the dead attempt's hold settled at
		// its amount ('lost'), then the rerun's call (ok).
		const g = await until('generation finished', () => {
			const row = taskRow(gen);
			return FINAL.includes(row.state) ? row : null;
		}, 30000, 100);
		assert.equal(g.state, 'SUCCESS', JSON.stringify(g));
		assert.equal(g.attempts, 2);
		assert.equal(lost(gen).replace(/ok:(true|false)$/, 'ok'), 'lost:true,ok',
		    'the dead attempt billed at its bound, the rerun at its cost');
		let after = await checkBooks('after the kill');
		// The two cut calls were not delivered whole (the fake notices
		// when it next writes: the job's answer is 6 s late); the
		// rerun's was.
		for (let i = 0; i < 100 && after.cut - before.cut < 2; i++) {
			await sleep(100);
			after = await stats();
		}
		assert.equal(after.answered - before.answered, 1, JSON.stringify({ before, after }));
		assert.equal(after.cut - before.cut, 2, JSON.stringify({ before, after }));
	} finally {
		if (w !== undefined)
			await stop(w, 'SIGTERM').catch(() => {});
		// The stack's worker as rl_worker starts it, for the suites after.
		const pid = await spawnWorker(WORKER_LOG, `${TOP}/scripts/supervise`,
		    ['worker', STATE, `${BUILD}/bin/relais-worker`], { RELAIS_TASK_LEASE_SEC: undefined });
		fs.writeFileSync(PIDFILE, `${pid}\n`);
	}
});

// The chat program (it serves /completion) SIGKILLed under load (issue
// 17): the calls it had upstream die with it, and so would settlements
// it had queued to write after their answers.  Their holds stay open
// until the sweep, which the worker's keeper runs on holds older than
// RL_CREDITS_HOLD_MAX_SEC (an hour: the test ages them instead of
// waiting), settles each at its reserved amount: nothing goes back for
// free, every hold ends with exactly one ledger row, and the balances
// are their ledgers' sums.  docs/internals/money.md has the analysis.
const KTAG = `${TAG}kill`;
const CHAT_PID = `${STATE}/pids/chat.child`;

async function killLoad(u, i, slow) {
	const knobs = `X-Fake-Tag: ${KTAG}${slow ? '; X-Fake-TTFT-Ms: 2000' : ''}`;
	try {
		const r = await fetch(`${BASE}/completion`, { method: 'POST',
		    headers: { 'Content-Type': 'application/json', ...auth(u.token) },
		    body: JSON.stringify({ message: `Calcule ${i}. [[${knobs}]]`, model: 'gpt-4o-mini',
		    agent: 'V2', stream: i % 2 === 1 }) });
		await r.text();
		return r.status;
	} catch {
		return 0;	/* cut by the kill */
	}
}

test('chat program SIGKILLed under load: every hold billed once at most its bound, none given back', { timeout: 120000 }, async () => {
	const ku = [await newUser({ prefix: 'mk', credits: '5.00' }), await newUser({ prefix: 'mk', credits: '5.00' })];
	const kids = ku.map((u) => u.id).join(',');
	const reserved = () => psql(`SELECT coalesce(string_agg(id::text, ',' ORDER BY id), '') ` +
	    `FROM credit_reservations WHERE user_id IN (${kids}) AND state = 'reserved'`);
	const pid0 = Number(fs.readFileSync(CHAT_PID, 'utf8'));

	// 12 lanes of calls, one in three slow (2 s upstream), until told.
	let stop = false, killed = false, n = 0;
	const statuses = [];
	const lane = async (k) => {
		while (!stop) {
			const i = n++;
			statuses.push({ status: await killLoad(ku[k % 2], i, i % 3 === 0), after: killed });
		}
	};
	const lanes = [];
	for (let k = 0; k < 12; k++)
		lanes.push(lane(k));
	// Slow calls upstream, then the kill.
	await sleep(1500);
	await until('calls upstream', () => reserved().split(',').filter(Boolean).length >= 4, 20000, 20);
	process.kill(pid0, 'SIGKILL');
	killed = true;
	await until('chat program restarted', () => {
		const p = Number(fs.readFileSync(CHAT_PID, 'utf8'));
		return p !== pid0 && alive(p);
	}, 20000, 50);
	await sleep(3000);
	stop = true;
	await Promise.all(lanes);
	const ok = statuses.filter((s) => s.after && s.status === 200).length;
	assert.ok(ok > 0, `no call answered after the restart: ${JSON.stringify(statuses.slice(-12))}`);

	// The live program settles within moments of each answer; what is
	// still open then was the dead one's.
	await sleep(2000);
	const dead = reserved();
	assert.ok(dead !== '', 'the kill left no hold open: it caught no call upstream');
	const amounts = psql(`SELECT string_agg(id || ':' || amount, ' ' ORDER BY id) FROM credit_reservations ` +
	    `WHERE id IN (${dead})`);
	// An hour later, as the keeper sees them.
	psql(`UPDATE credit_reservations SET created_at = now() - interval '2 hours' WHERE id IN (${dead})`);
	const sw = sweep();
	assert.equal(sw.err, 'ok', JSON.stringify(sw));
	assert.equal(reserved(), '', 'a dead hold is still open after the sweep');

	// Each dead hold: settled at its amount, one 'lost' ledger row.
	assert.equal(psql('SELECT string_agg(c.id || \':\' || l.cost, \' \' ORDER BY c.id) FROM credit_reservations c ' +
	    `JOIN usage_ledger l ON l.reservation_id = c.id WHERE c.id IN (${dead}) AND c.state = 'settled' ` +
	    'AND l.status = \'lost\' AND l.cost = c.amount AND -l.delta = c.amount'), amounts);
	// Nothing given back for free: every hold of these users was billed.
	assert.equal(psql(`SELECT count(*) FROM credit_reservations WHERE user_id IN (${kids}) ` +
	    'AND state <> \'settled\''), '0');
	assert.equal(psql(`SELECT count(*) FROM credit_reservations c LEFT JOIN usage_ledger l ON ` +
	    `l.reservation_id = c.id WHERE c.user_id IN (${kids}) AND l.id IS NULL`), '0');
	assert.equal(psql(`SELECT count(*) FROM usage_ledger WHERE user_id IN (${kids}) ` +
	    'AND kind = \'openai_call\' AND reservation_id IS NULL'), '0');
	for (const u of ku) {
		assert.equal(psql(`SELECT credits >= 0 AND held = 0 AND credits = (SELECT sum(delta) ` +
		    `FROM usage_ledger WHERE user_id = ${u.id}) FROM users WHERE id = ${u.id}`), 't', `user ${u.id}`);
		assert.equal(psql(`SELECT count(*) FROM (SELECT balance_after, sum(delta) OVER (ORDER BY id) r ` +
		    `FROM usage_ledger WHERE user_id = ${u.id}) s WHERE balance_after <> r`), '0');
	}
	// Every answer the fake delivered whole: at most one row, and the
	// answers without their own row are no more than the lost rows
	// that stand for them.
	const r = await fetch(`${FAKE}/_fake/stats?tag=${KTAG}`);
	const s = await r.json();
	const list = `ARRAY[${s.ids.map(q).join(', ')}]::text[]`;
	assert.equal(psql(`SELECT count(*) FROM unnest(${list}) a(id) WHERE ` +
	    '(SELECT count(*) FROM usage_ledger l WHERE l.upstream_response_id = a.id) > 1'), '0');
	const unrowed = Number(psql(`SELECT count(*) FROM unnest(${list}) a(id) WHERE NOT EXISTS ` +
	    '(SELECT 1 FROM usage_ledger l WHERE l.upstream_response_id = a.id)'));
	assert.ok(unrowed <= dead.split(',').length, `${unrowed} answers without a row, ${dead} lost`);
});
