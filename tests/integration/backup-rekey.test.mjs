// Backups and key rotation, as docs/operations.md tells an operator to do
// them.  A backup is a pg_dump of the relais database plus the master key
// file: restored into a fresh PostgreSQL cluster, with the settings and
// api programs and nginx started on it (backup-stack.sh, scripts/lib.sh's
// functions), it serves the same data, a stored API key included.  Then
// relais-rekey re-seals that copy's keys under a new master key: the key
// still opens with the new file, the old file opens nothing any more, and
// relais-rekey itself refuses to run with it.
import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { BUILD, PGHOST, STATE, TOP, admin, auth, getJSON, postJSON, uniq } from './lib.mjs';

const STACK = join(TOP, 'tests', 'integration', 'backup-stack.sh');
const COPY = join(STATE, 'restored');
const KEY = process.env.RELAIS_SECRET_KEY_FILE ?? join(STATE, 'secret.key');
let port;

const sh = (...args) => execFileSync('bash', [STACK, ...args], { encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'] }).trim();
// A request to the restored copy, through its own nginx.
async function there(path, opts = {}) {
	const r = await fetch(`http://127.0.0.1:${port}${path}`, opts);
	const text = await r.text();
	let body = text;
	try { body = JSON.parse(text); } catch { /* not JSON */ }
	return { status: r.status, headers: r.headers, body };
}
const copyURL = () => `host=${join(COPY, 'pg', 'run')} port=5432 user=relais dbname=relais`;
const copySQL = (sql) => execFileSync('psql', ['-h', join(COPY, 'pg', 'run'), '-U', 'relais',
    '-d', 'relais', '-Atqc', sql], { encoding: 'utf8' }).trim();
const rekey = (args, key) => spawnSync(join(BUILD, 'bin', 'relais-rekey'), args, { encoding: 'utf8',
    env: { ...process.env, RELAIS_DATABASE_URL: copyURL(), RELAIS_SECRET_KEY_FILE: key } });

after(() => {
	if (existsSync(COPY))
		spawnSync('bash', [STACK, 'stop', COPY], { stdio: 'ignore' });
	// The copy's programs ran under the sanitizers too.
	for (const f of existsSync(join(COPY, 'log')) ? readdirSync(join(COPY, 'log')) : []) {
		const text = readFileSync(join(COPY, 'log', f), 'utf8');
		assert.doesNotMatch(text, /ERROR: AddressSanitizer|runtime error:/, `${f} of the restored stack`);
	}
});

// What an admin reads, from either stack (the same master key signs both
// stacks' tokens until the rotation).
async function snapshot(get, token) {
	const out = {};
	for (const path of ['/api/programmes', '/api/cours', '/manage_users', '/get_credit_balance', '/me']) {
		const r = await get(path, { headers: auth(token) });
		assert.equal(r.status, 200, `${path}: ${JSON.stringify(r.body).slice(0, 300)}`);
		out[path] = r.body;
	}
	return out;
}

const key = `sk-proj-${crypto.randomBytes(20).toString('hex')}`;
let userId;

test('a pg_dump and the key file, restored into a fresh cluster, serve the same data', async () => {
	const token = await admin();
	// A stored API key, sealed under the master key, goes into the backup.
	let r = await postJSON('/manage_users', { username: `backup-${uniq()}`, password: 'correct horse' },
	    auth(token));
	assert.equal(r.status, 201, JSON.stringify(r.body));
	userId = r.body.id;
	r = await postJSON(`/edit_user/${userId}`, { openai_key: key }, auth(token));
	assert.equal(r.status, 200, JSON.stringify(r.body));

	// The backup: pg_dump's custom format, and a copy of the key file.
	const dump = join(STATE, 'relais.dump');
	execFileSync('pg_dump', ['-h', PGHOST, '-U', 'relais', '-Fc', '-f', dump, 'relais']);
	assert.ok(statSync(dump).size > 10000);
	const before = await snapshot(getJSON, token);

	port = sh('restore', COPY, BUILD, dump, KEY);
	assert.match(port, /^\d+$/);
	const health = await there('/api/health');
	assert.equal(health.status, 200, JSON.stringify(health.body));
	assert.equal(health.body.database, 'ok');
	const restored = await snapshot(there, token);
	assert.deepEqual(restored, before);
	// The stored key opens under the restored key file.
	const u = restored['/manage_users'].users.find((x) => x.id === userId);
	assert.equal(u.openai_key, `sk-…${key.slice(-4)}`);
	// The same rows, not only the same answers.
	for (const table of ['users', 'programmes', 'cours', 'usage_ledger', 'schema_migrations'])
		assert.equal(copySQL(`SELECT count(*) FROM ${table}`),
		    execFileSync('psql', ['-h', PGHOST, '-U', 'relais', '-d', 'relais', '-Atqc',
		    `SELECT count(*) FROM ${table}`], { encoding: 'utf8' }).trim(), table);
});

test('relais-rekey: stored keys re-sealed under a new master key, the old key refused', async () => {
	assert.ok(port, 'the restored stack is up');
	const copyKey = join(COPY, 'secret.key');
	const oldKey = join(COPY, 'old.key');
	copyFileSync(copyKey, oldKey);
	const boxBefore = copySQL(`SELECT encode(openai_key_enc, 'hex') FROM users WHERE id = ${userId}`);
	const sealed = Number(copySQL('SELECT (SELECT count(*) FROM users WHERE openai_key_enc IS NOT NULL) + ' +
	    '(SELECT count(*) FROM providers WHERE api_key_enc IS NOT NULL)'));
	assert.ok(sealed >= 1);

	// -n: every box opens under the current key, nothing written.
	let r = rekey(['-n'], copyKey);
	assert.equal(r.status, 0, r.stderr);
	assert.match(r.stdout, new RegExp(`^${sealed} stored keys open under `));
	assert.equal(copySQL(`SELECT encode(openai_key_enc, 'hex') FROM users WHERE id = ${userId}`), boxBefore);
	r = rekey(['extra'], copyKey);
	assert.equal(r.status, 2, 'a usage error');

	// The rotation, with the copy's programs stopped as the manual says.
	sh('stop-programs', COPY);
	r = rekey([], copyKey);
	assert.equal(r.status, 0, r.stderr);
	assert.match(r.stdout, new RegExp(`re-sealed ${sealed} stored keys`));
	assert.ok(!existsSync(`${copyKey}.new`), 'the new key took the old one\'s place');
	assert.equal(statSync(copyKey).mode & 0o777, 0o600);
	assert.notDeepEqual(readFileSync(copyKey), readFileSync(oldKey));
	const boxAfter = copySQL(`SELECT encode(openai_key_enc, 'hex') FROM users WHERE id = ${userId}`);
	assert.notEqual(boxAfter, boxBefore);
	assert.equal(boxAfter.length, boxBefore.length);

	// The old key opens nothing now: relais-rekey refuses it, changing nothing.
	r = rekey(['-n'], oldKey);
	assert.equal(r.status, 1);
	assert.match(r.stderr, /does not open under the current key.*Nothing changed/);
	r = rekey([], oldKey);
	assert.equal(r.status, 1);
	assert.equal(copySQL(`SELECT encode(openai_key_enc, 'hex') FROM users WHERE id = ${userId}`), boxAfter);
	assert.ok(!existsSync(`${oldKey}.new`), 'a refused run leaves no new key behind');

	// The programs with the new key: the stored key is still usable.
	sh('programs', COPY, BUILD, copyKey);
	const login = await there('/auth/token', { method: 'POST', headers: { 'Content-Type': 'application/json' },
	    body: JSON.stringify({ username: 'admin@demo.relais', password: 'relais-demo' }) });
	assert.equal(login.status, 200, JSON.stringify(login.body));
	const fresh = login.body.access_token;
	let u = await there(`/edit_user/${userId}`, { headers: auth(fresh) });
	assert.equal(u.status, 200, JSON.stringify(u.body));
	assert.equal(u.body.openai_key, `sk-…${key.slice(-4)}`);
	// Tokens signed under the old key are refused: users sign in again.
	assert.equal((await there('/me', { headers: auth(await admin()) })).status, 401);

	// The programs with the old key: the box no longer opens.
	sh('programs', COPY, BUILD, oldKey);
	const oldLogin = await there('/auth/token', { method: 'POST', headers: { 'Content-Type': 'application/json' },
	    body: JSON.stringify({ username: 'admin@demo.relais', password: 'relais-demo' }) });
	assert.equal(oldLogin.status, 200);
	u = await there(`/edit_user/${userId}`, { headers: auth(oldLogin.body.access_token) });
	assert.equal(u.status, 200, JSON.stringify(u.body));
	assert.equal(u.body.openai_key, 'sk-…????');
});
