// Money and the model registry against the stack's PostgreSQL: 64 threads
// reserving, settling and releasing on one balance (tests/money/
// money-stress.c drives lib/credits.c), every refusal and boundary of
// reserve -> settle | release -> sweep once, rl_model_lookup over the
// catalogue and rl_model_upstream's choice of URL and key.  The program
// reports what it did; the tables are checked here with psql.
import test from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { BUILD, STATE, PGHOST, TOP, postJSON, psql, sleep, until } from './lib.mjs';

const PROGRAM = `${BUILD}/tests/money/money-stress`;
const uniq = () => crypto.randomBytes(4).toString('hex');

function run(args, env = {}) {
	const out = execFileSync(PROGRAM, args, {
		encoding: 'utf8', timeout: 300000, maxBuffer: 16 << 20,
		env: {
			...process.env,
			RELAIS_DATABASE_URL: `host=${PGHOST} port=5432 user=relais dbname=relais`,
			RELAIS_SECRET_KEY_FILE: `${STATE}/secret.key`,
			...env,
		},
	});
	return JSON.parse(out);
}

// numeric(…,6) text <-> BigInt micro-dollars, exactly.
function micro(s) {
	const m = /^(-?)(\d+)\.(\d{6})$/.exec(s);
	assert.ok(m, `not a 6-decimal amount: ${s}`);
	const v = BigInt(m[2]) * 1000000n + BigInt(m[3]);
	return m[1] === '-' ? -v : v;
}

// What the tables say about a stress user, whatever the program said.
function checkTables(r) {
	const id = r.user_id;
	// Each settled hold has exactly one ledger row; a released hold none.
	assert.equal(psql(`SELECT count(*) FROM credit_reservations c LEFT JOIN usage_ledger l ` +
	    `ON l.reservation_id = c.id WHERE c.user_id = ${id} ` +
	    `AND (c.state = 'settled') <> (l.id IS NOT NULL)`), '0');
	assert.equal(psql(`SELECT count(*) FROM usage_ledger WHERE user_id = ${id} ` +
	    `AND kind = 'openai_call' AND reservation_id IS NULL`), '0');
	// The ledger replays: every balance_after is the running sum of the
	// deltas (the initial credit included), and the last is the balance.
	assert.equal(psql(`SELECT count(*) FROM (SELECT balance_after, sum(delta) OVER (ORDER BY id) ` +
	    `AS replay FROM usage_ledger WHERE user_id = ${id}) s WHERE balance_after <> replay`), '0');
	assert.equal(psql(`SELECT (SELECT credits FROM users WHERE id = ${id}) = ` +
	    `(SELECT sum(delta) FROM usage_ledger WHERE user_id = ${id})`), 't');
	// A row is charged its cost, or less only when the balance ran out.
	assert.equal(psql(`SELECT count(*) FROM usage_ledger WHERE user_id = ${id} AND kind = 'openai_call' ` +
	    'AND (-delta > cost OR (-delta < cost AND balance_after <> 0))'), '0');
	assert.equal(psql(`SELECT count(*) FROM usage_ledger WHERE user_id = ${id} AND kind = 'openai_call' ` +
	    'AND -delta < cost'), String(r.capped));
	// Every detail the settlement was given is recorded.
	assert.equal(psql(`SELECT count(*) FROM usage_ledger WHERE user_id = ${id} AND kind = 'openai_call' ` +
	    'AND (model <> \'gpt-4o\' OR provider <> \'openai\' OR feature <> \'money-stress\' ' +
	    'OR status IS NULL OR latency_ms IS NULL ' +
	    'OR request_id NOT IN (\'money-stress\', \'money-stress-later\'))'), '0');
	// A deferred settlement's upstream id went through a group's array
	// literal (credits.c) and came out byte for byte.
	assert.equal(psql(`SELECT count(*) FROM usage_ledger WHERE user_id = ${id} ` +
	    'AND request_id = \'money-stress-later\' AND upstream_response_id IS DISTINCT FROM ' +
	    '\'resp_"q\\,{x} NULL\''), '0');
	assert.equal(psql(`SELECT count(*) FROM credit_reservations WHERE user_id = ${id} ` +
	    'AND (state = \'reserved\') <> (settled_at IS NULL)'), '0');
	// held is the sum of the open holds, kept by the statements that
	// open and close them (sql/0010_held.sql).
	assert.equal(psql(`SELECT held = (SELECT coalesce(sum(amount), 0) FROM credit_reservations ` +
	    `WHERE user_id = ${id} AND state = 'reserved') FROM users WHERE id = ${id}`), 't');
}

function checkStress(r) {
	assert.equal(r.errors, 0, r.first_error);
	assert.equal(r.reserved + r.refused, r.threads * r.iterations);
	assert.equal(r.reserved, r.settled + r.released);
	const initial = micro(r.initial), final = micro(r.final);
	const sumCost = micro(r.sum_cost), sumDelta = micro(r.sum_delta);
	assert.ok(final >= 0n, `final ${r.final}`);
	assert.equal(initial - final, -sumDelta, 'what the balance lost is what the ledger says');
	assert.equal(micro(r.cost), sumCost, 'the costs the program settled are the ledger costs');
	assert.equal(micro(r.charged), -sumDelta, 'what settle reported charging is the ledger delta');
	if (r.capped === 0)
		assert.equal(sumCost, -sumDelta);
	else
		assert.equal(sumCost + sumDelta, micro(r.cap_loss));
	assert.equal(r.ledger_rows, r.settled);
	assert.equal(r.db_settled, r.settled);
	assert.equal(r.db_released, r.released);
	assert.equal(r.open_holds, 0);
	// The duplicate paths really ran, and were refused each time.
	assert.ok(r.double_settle_refused > 0, 'no second settlement was tried');
	assert.ok(r.double_release_refused > 0, 'no second release was tried');
	assert.ok(r.over_hold > 0, 'no cost above its hold was tried');
	checkTables(r);
}

test('money: 64 threads on a small balance, refusals and caps included', () => {
	// 0.2 USD against 64 x 30 holds of up to 0.002 USD: the balance runs
	// out, so some reservations must be refused and late costs above
	// their hold may be capped at what is left.
	const r = run(['stress', '-t', '64', '-n', '30', '-b', '0.2', '-m', '0.002']);
	checkStress(r);
	assert.ok(r.refused > 0, 'a balance this small must refuse some holds');
	assert.ok(r.settled > 0);
	// 64 threads on one row: reservations met in flight and were
	// written in groups (credits.c), refusals among them included.
	assert.ok(r.reserve_grouped > 0, 'no reservation was written in a group');
});

test('money: 64 threads on an ample balance, every cost charged in full', () => {
	const r = run(['stress', '-t', '64', '-n', '20', '-b', '100', '-m', '0.002']);
	checkStress(r);
	assert.equal(r.refused, 0);
	assert.equal(r.capped, 0);
	assert.equal(micro(r.sum_cost), -micro(r.sum_delta));
	assert.equal(micro(r.final), 100000000n - micro(r.sum_cost));
});

test('money: 64 threads, half the settlements deferred to the queue\'s group commits', () => {
	// rl_credits_settle_later: the background thread writes them, many
	// per transaction, while the other threads reserve and settle on the
	// same user row; the balance is small enough for refusals and caps.
	const r = run(['stress', '-t', '64', '-n', '30', '-b', '0.5', '-m', '0.002', '-l', '50']);
	checkStress(r);
	assert.ok(r.later_charged > 0, 'no deferred settlement charged anything');
	// Most went through the queue (the rest were settled at once while
	// it was behind: 64 threads outrun its one thread).
	assert.ok(r.later_queued > 0, 'no settlement was queued');
	assert.ok(r.settle_grouped > 0, 'no settlement was written in a group');
	assert.ok(Number(psql(`SELECT count(*) FROM usage_ledger WHERE user_id = ${r.user_id} ` +
	    'AND request_id = \'money-stress-later\'')) > 0, 'no deferred settlement was written');
});

// A sequential scan of credit_reservations, which gains a row per call,
// by any statement of the test's database so far (pg_stat counters,
// flushed when a backend goes idle or exits: read until two agree).
async function holdScans(db) {
	const read = () => Number(psql('SELECT seq_scan FROM pg_stat_user_tables ' +
	    'WHERE relname = \'credit_reservations\'', db));
	let a = read();
	for (;;) {
		await sleep(300);
		const b = read();
		if (a === b)
			return b;
		a = b;
	}
}

test('money: on a new database the group statements find holds by key, never by scanning every hold', async () => {
	// Planned while the table looked small (a new database before its
	// first autoanalyze), "id IN (SELECT hold FROM g)" became a hash
	// join over a sequential scan of every hold, and each connection
	// kept that plan as the table grew.  A database of the test's own,
	// its tables as new as an installation's first minute.
	const db = `relais_plans_${uniq()}`;
	psql(`CREATE DATABASE ${db}`, 'postgres');
	try {
		const url = `host=${PGHOST} port=5432 user=relais dbname=${db}`;
		execFileSync(`${BUILD}/bin/relais-migrate`, ['-d', `${TOP}/sql`], {
			encoding: 'utf8', timeout: 120000, env: { ...process.env, RELAIS_DATABASE_URL: url } });
		assert.equal(psql('SELECT reltuples FROM pg_class WHERE relname = \'credit_reservations\'', db), '-1');
		const before = await holdScans(db);
		const r = run(['stress', '-t', '64', '-n', '20', '-b', '100', '-l', '100'], { RELAIS_DATABASE_URL: url });
		assert.ok(r.settle_grouped > 0, 'no settlement was written in a group');
		// Every hold's insert counted: the stress's statistics are in.
		const holds = Number(psql('SELECT count(*) FROM credit_reservations', db));
		assert.ok(holds >= 64 * 20 / 2, `only ${holds} holds`);
		await until('the stress\'s statistics', () => Number(psql('SELECT n_tup_ins FROM pg_stat_user_tables ' +
		    'WHERE relname = \'credit_reservations\'', db)) >= holds);
		// The program's closing report counts the user's holds three
		// times (any plan will do there); the group statements, run a
		// hundred times and more, add nothing.
		const scans = await holdScans(db) - before;
		assert.ok(scans <= 3, `credit_reservations was scanned ${scans} times`);
	} finally {
		psql(`DROP DATABASE ${db} WITH (FORCE)`, 'postgres');
	}
});

test('money: each refusal and boundary once', () => {
	const r = run(['edges']);
	const is = (name, err, extra = {}) => {
		assert.equal(r[name].err, err, `${name}: ${JSON.stringify(r[name])}`);
		for (const [k, v] of Object.entries(extra))
			assert.equal(r[name][k], v, `${name}.${k}`);
	};
	const NO = 'Crédits insuffisants pour cette opération.';
	is('reserve_missing_user', 'not_found', { msg: 'Utilisateur introuvable' });
	is('reserve_zero', 'bad_request');
	is('reserve_600', 'ok');
	is('reserve_500_over', 'insufficient_credits', { msg: NO });
	is('reserve_400_exact', 'ok');
	is('reserve_1_none_left', 'insufficient_credits', { msg: NO });
	is('release_400', 'ok');
	is('release_400_again', 'conflict');
	is('settle_250', 'ok', { charged: '0.000250' });
	is('settle_250_again', 'conflict', { charged: '0.000000' });
	is('release_settled', 'conflict');
	is('reserve_750_rest', 'ok');
	is('settle_5000_capped', 'ok', { charged: '0.000750' });
	is('reserve_after_empty', 'insufficient_credits', { msg: NO });
	is('reserve_u2_100', 'ok');
	is('settle_wrong_user', 'not_found');
	is('settle_bad_status', 'bad_request');
	is('settle_negative_cost', 'bad_request');
	is('settle_failed_zero', 'ok', { charged: '0.000000' });
	is('settle_missing_hold', 'not_found');
	is('release_missing_hold', 'not_found');
	is('reserve_old', 'ok');
	is('reserve_fresh', 'ok');
	is('sweep', 'ok');
	is('sweep_negative', 'bad_request');
	is('release_fresh', 'ok');
	is('reserve_task', 'ok');
	is('settle_task_of_hold', 'ok', { charged: '0.000005' });
	is('reserve_task_gone', 'ok');
	is('settle_task_gone', 'ok', { charged: '0.000005' });
	assert.ok(r.swept >= 1);
	const [h1, h2, h3, h4, h5, h6, h7, h8] = r.holds;

	// Nothing was written by a refusal: three holds for u, three for u2.
	assert.equal(psql(`SELECT string_agg(id || ':' || state || ':' || amount, ' ' ORDER BY id) ` +
	    `FROM credit_reservations WHERE user_id = ${r.user}`),
	    `${h1}:settled:0.000600 ${h2}:released:0.000400 ${h3}:settled:0.000750`);
	// The two-hour-old hold h5 (a process that died mid-call) was
	// settled by the sweep at its reserved amount, not given back.
	assert.equal(psql(`SELECT string_agg(id || ':' || state, ' ' ORDER BY id) ` +
	    `FROM credit_reservations WHERE user_id = ${r.user2}`),
	    `${h4}:settled ${h5}:settled ${h6}:released ${h7}:settled ${h8}:settled`);
	assert.equal(psql(`SELECT request_id FROM credit_reservations WHERE id = ${h1}`), 'req-1');
	// u: 0.001 credited, 0.00025 charged, then 0.005 capped at 0.00075.
	assert.equal(psql(`SELECT credits FROM users WHERE id = ${r.user}`), '0.000000');
	assert.equal(psql('SELECT string_agg(concat_ws(\'|\', kind, reservation_id, cost, delta, ' +
	    'balance_after, status, model, provider, feature, input_tokens, cached_input_tokens, ' +
	    'output_tokens, reasoning_tokens, latency_ms, upstream_request_id, upstream_response_id), ' +
	    `' ' ORDER BY id) FROM usage_ledger WHERE user_id = ${r.user}`),
	    'admin_credit|0.001000|0.001000|0|0|0|0 ' +
	    `openai_call|${h1}|0.000250|-0.000250|0.000750|ok|gpt-4o-mini|openai|money-edges|100|20|50|10|42|` +
	    'req_edges|chatcmpl-edges ' +
	    `openai_call|${h3}|0.005000|-0.000750|0.000000|partial|gpt-4o-mini|openai|money-edges|100|20|50|10|42|` +
	    'req_edges|chatcmpl-edges');
	// u2: the failed call has its row at cost 0, with the hold's model;
	// the swept hold's row says 'lost' at the amount held; the hold's
	// task when the charge names none; a purged task is none.
	assert.equal(psql(`SELECT credits || '|' || held FROM users WHERE id = ${r.user2}`), '0.000890|0.000000');
	assert.equal(psql(`SELECT held FROM users WHERE id = ${r.user}`), '0.000000');
	assert.equal(psql('SELECT string_agg(concat_ws(\'|\', reservation_id, cost, delta, status, model, ' +
	    `coalesce(task_id::text, 'none')), ' ' ORDER BY id) ` +
	    `FROM usage_ledger WHERE user_id = ${r.user2} AND kind = 'openai_call'`),
	    `${h4}|0.000000|0.000000|failed|o3|none ${h5}|0.000100|-0.000100|lost|gpt-4o|none ` +
	    `${h7}|0.000005|-0.000005|ok|gpt-4o-mini|${r.task} ${h8}|0.000005|-0.000005|ok|gpt-4o-mini|none`);
	assert.equal(psql(`SELECT task_id FROM credit_reservations WHERE id = ${h7}`), r.task);
});

test('models: lookup reads the catalogue, falls back by name, refuses the unknown', () => {
	const names = ['gpt-4o', 'o1', 'o3', 'gpt-4.1', 'gpt-3.5-turbo', 'gpt-5-nano'];
	const r = run(['lookup', ...names, 'foo-mini', 'gpt-5-pro-x', 'llama-3']);
	for (const n of names) {
		const [pin, pcin, pout, mo, ctx] = psql('SELECT input_price, coalesce(cached_input_price, input_price), ' +
		    `output_price, max_output_tokens, context_window FROM openai_models WHERE name = '${n}'`).split('|');
		assert.equal(r[n].err, 'ok', n);
		assert.equal(r[n].known, true, n);
		assert.deepEqual([r[n].price_in, r[n].price_cached_in, r[n].price_out], [pin, pcin, pout], n);
		assert.equal(r[n].max_output, Number(mo), n);
		assert.equal(r[n].context_window, Number(ctx), n);
		assert.equal(r[n].provider, 'openai');
		assert.equal(r[n].batch_discount_pct, 50);
	}
	assert.equal(r.o1.family, 'reasoning');
	assert.deepEqual(r.o1.default_params, { reasoning_effort: 'medium', max_completion_tokens: 1000 });
	assert.equal(r['gpt-4.1'].family, 'gpt-4.1');
	assert.deepEqual(r['gpt-4.1'].default_params, { temperature: 1, max_completion_tokens: 10000 });
	assert.equal(r['gpt-3.5-turbo'].family, 'legacy');
	assert.deepEqual(r['gpt-3.5-turbo'].default_params, { temperature: 0.7, max_tokens: 1000 });
	assert.equal(r['gpt-5-nano'].developer_role, true);
	// No row: EDxo's fallbacks, marked as not known.
	assert.deepEqual([r['foo-mini'].known, r['foo-mini'].price_in, r['foo-mini'].price_out],
	    [false, '0.150000', '0.600000']);
	assert.deepEqual([r['gpt-5-pro-x'].known, r['gpt-5-pro-x'].price_in, r['gpt-5-pro-x'].price_out,
	    r['gpt-5-pro-x'].family], [false, '1.250000', '10.000000', 'reasoning']);
	assert.deepEqual(r['llama-3'], { err: 'bad_request', msg: 'Modèle inconnu: llama-3' });

	// A row's family and capabilities win over the name.
	const name = `mt-${uniq()}`;
	psql(`INSERT INTO openai_models (name, input_price, output_price, family, supports_temperature, ` +
	    `max_output_tokens, batch_discount_pct) VALUES ('${name}', 1.234567, 2.5, 'gpt-4.1', false, 777, 30)`);
	try {
		const m = run(['lookup', name])[name];
		assert.equal(m.known, true);
		assert.equal(m.family, 'gpt-4.1');
		assert.equal(m.temperature, false);
		assert.deepEqual([m.price_in, m.price_cached_in, m.price_out], ['1.234567', '1.234567', '2.500000']);
		assert.equal(m.max_output, 777);
		assert.equal(m.batch_discount_pct, 30);
		assert.deepEqual(m.default_params, { max_completion_tokens: 777 });
	} finally {
		psql(`DELETE FROM openai_models WHERE name = '${name}'`);
	}
});

async function adminToken() {
	const r = await postJSON('/auth/token', { username: 'admin@demo.relais', password: 'relais-demo' });
	assert.equal(r.status, 200, JSON.stringify(r.body));
	return r.body.access_token;
}

async function newUser(tok, key) {
	const auth = { Authorization: `Bearer ${tok}` };
	let r = await postJSON('/manage_users', { username: `mk-${uniq()}`, password: 'correct horse' }, auth);
	assert.equal(r.status, 201, JSON.stringify(r.body));
	const id = r.body.id;
	if (key !== undefined) {
		r = await postJSON(`/edit_user/${id}`, { openai_key: key }, auth);
		assert.equal(r.status, 200, JSON.stringify(r.body));
	}
	return id;
}

test('models: the upstream and key of a call', async () => {
	const tok = await adminToken();
	const plain = await newUser(tok);
	const key = `sk-user-${uniq()}${uniq()}`;
	const keyed = await newUser(tok, key);
	const FAKE = process.env.FAKE_OPENAI_BASE_URL;
	assert.ok(FAKE && FAKE.startsWith('http://127.'), 'the stack exports the fake upstream');

	// A loopback upstream (a local server, the test upstream) works
	// without any key: none is sent.
	let r = run(['upstream', 'gpt-4o', String(plain)], { RELAIS_OPENAI_BASE_URL: FAKE,
	    RELAIS_OPENAI_API_KEY: '' });
	assert.deepEqual(r, { err: 'ok', name: 'openai', base_url: FAKE, model: 'gpt-4o', key_len: 0,
	    key_tail: '', user_key: false });
	// With an institution key, it is sent.
	r = run(['upstream', 'gpt-4o', String(plain)], { RELAIS_OPENAI_BASE_URL: FAKE,
	    RELAIS_OPENAI_API_KEY: 'sk-institution-9876' });
	assert.deepEqual([r.err, r.user_key, r.key_tail], ['ok', false, '9876']);
	// The user's own key comes first (decrypted with the master key).
	r = run(['upstream', 'o3', String(keyed)], { RELAIS_OPENAI_BASE_URL: FAKE,
	    RELAIS_OPENAI_API_KEY: 'sk-institution-9876' });
	assert.deepEqual([r.err, r.user_key, r.key_len, r.key_tail], ['ok', true, key.length, key.slice(-4)]);
	// Then the institution's.
	const REMOTE = 'https://api.example.invalid/v1';
	r = run(['upstream', 'gpt-4o', String(plain)], { RELAIS_OPENAI_BASE_URL: REMOTE,
	    RELAIS_OPENAI_API_KEY: 'sk-institution-9876' });
	assert.deepEqual([r.err, r.base_url, r.user_key, r.key_tail], ['ok', REMOTE, false, '9876']);
	// A remote upstream and no key at all: EDxo's message.
	r = run(['upstream', 'gpt-4o', String(plain)], { RELAIS_OPENAI_BASE_URL: REMOTE,
	    RELAIS_OPENAI_API_KEY: '' });
	assert.deepEqual(r, { err: 'no_api_key', msg: 'Clé OpenAI non configurée.' });

	// Another provider: its own URL; a user's OpenAI key is never sent
	// to it.
	const prov = `mt${uniq()}`;
	const model = `mt-${uniq()}`;
	psql(`INSERT INTO providers (name, base_url) VALUES ('${prov}', 'http://127.0.0.1:9/v1'), ` +
	    `('${prov}s', 'https://llm.example.invalid/v1')`);
	psql(`INSERT INTO openai_models (name, input_price, output_price, provider) VALUES ` +
	    `('${model}', 1, 2, '${prov}'), ('${model}s', 1, 2, '${prov}s')`);
	try {
		r = run(['upstream', model, String(keyed)], { RELAIS_OPENAI_API_KEY: 'sk-institution-9876' });
		assert.deepEqual(r, { err: 'ok', name: prov, base_url: 'http://127.0.0.1:9/v1', model,
		    key_len: 0, key_tail: '', user_key: false });
		r = run(['upstream', `${model}s`, String(keyed)], { RELAIS_OPENAI_API_KEY: 'sk-institution-9876' });
		assert.deepEqual(r, { err: 'no_api_key', msg: 'Clé OpenAI non configurée.' });
	} finally {
		psql(`DELETE FROM openai_models WHERE name IN ('${model}', '${model}s')`);
		psql(`DELETE FROM providers WHERE name IN ('${prov}', '${prov}s')`);
	}
});
