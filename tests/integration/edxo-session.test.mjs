// EDxo's browser session and EDxo's passwords, through nginx (issue 18):
// every vector of ../shared/edxo/session-vectors.json accepted or refused
// as it says on a reading route (GET /me) and a writing route (POST
// /evaluation/get_plans, a form as EDxo's wizard posts it), and every user
// of users.tsv logging in with the EDxo password, then holding argon2id.
// scripts/test gives the programs the vectors' SECRET_KEY in a 0600 file
// (RELAIS_EDXO_SECRET_FILE) and their clock (RELAIS_EDXO_NOW); the echo
// program runs without the key, so /_test/private shows the bridge off.
import test from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { spawnSync, execFileSync } from 'node:child_process';
import { BASE, BUILD, STATE, TOP, getJSON, psql, q, uniq } from './lib.mjs';

const EDXO = `${TOP}/../shared/edxo`;
const V = JSON.parse(fs.readFileSync(`${EDXO}/session-vectors.json`, 'utf8'));
const READ = '/me';
const WRITE = '/evaluation/get_plans';

// The error's code, whether the route answers EDxo's flat shape or ours.
const code = (r) => r.body?.code ?? r.body?.error?.code;

// A Set-Cookie line's value.
const cookieOf = (lines, name) => {
	const l = lines.find((s) => s.startsWith(`${name}=`));
	return l === undefined ? undefined : l.slice(name.length + 1).split(';')[0];
};

// Each vector user's raw CSRF token and the signed csrf_token cookie EDxo
// set on the first page (its timestamp is within 3600 s of the clock).
const USERS = V.users.map((u) => ({ id: Number(u.user_id), raw: u.csrf_token_raw,
    token: cookieOf(u.set_cookie_headers_first_page, 'csrf_token'),
    remember: cookieOf(u.set_cookie_headers_login_response, 'remember_token') }));

function read(cookie) {
	return getJSON(READ, { headers: { Cookie: cookie } });
}

// The writing route with a form body; token in the field or a header.
function write(cookie, { token, as = 'header' } = {}) {
	const form = new URLSearchParams({ course_id: '' });
	const headers = { Cookie: cookie, 'Content-Type': 'application/x-www-form-urlencoded' };
	if (token !== undefined && as === 'form')
		form.set('csrf_token', token);
	else if (token !== undefined)
		headers['X-CSRFToken'] = token;
	return getJSON(WRITE, { method: 'POST', headers, body: form.toString() });
}

test('the test stack has the vectors\' users 1, 2 and 3', () => {
	assert.equal(psql('SELECT count(*) FROM users WHERE id IN (1, 2, 3)'), '3');
	assert.equal(USERS.length, 3);
	for (const u of USERS)
		assert.ok(u.token && u.remember && /^[0-9a-f]{40}$/.test(u.raw), JSON.stringify(u));
});

test('every session cookie vector, on a reading and a writing route', async () => {
	for (const v of V.session_cookie_vectors) {
		const cookie = `${v.cookie_name}=${v.value}`;
		let r = await read(cookie);
		// Python's base64 ignores the unused bits of the last character;
		// relais' decoder does not: the vector allows both (README).
		const want = v.strict_decoder_may_reject ? r.status === 401 ? 401 : 200
		    : v.valid ? 200 : 401;
		assert.equal(r.status, want, `${v.name}: ${JSON.stringify(r.body)}`);
		if (want === 200)
			assert.equal(r.body.user.id, Number(v.expect_user_id), v.name);
		else
			assert.equal(code(r), 'unauthorized', v.name);
		// The write carries the token of the raw one the session holds.
		const raw = v.payload_json ? JSON.parse(v.payload_json).csrf_token : undefined;
		const u = USERS.find((x) => x.raw === raw) ?? USERS[0];
		r = await write(cookie, { token: u.token });
		assert.equal(r.status, want, `${v.name} (write): ${JSON.stringify(r.body)}`);
		if (want === 200)
			assert.deepEqual(r.body, { plans: [] }, v.name);
		else
			assert.equal(code(r), 'unauthorized', v.name);
	}
});

test('every CSRF vector, on a writing route; reads need no token', async () => {
	for (const v of V.csrf_vectors) {
		const cookie = `session=${v.session_cookie}`;
		let r = await read(cookie);
		assert.equal(r.status, 200, `${v.name} (read): ${JSON.stringify(r.body)}`);
		assert.equal(r.body.user.id, Number(v.user_id));
		r = await write(cookie, { token: v.token,
		    as: v.sent_as.startsWith('form') ? 'form' : 'header' });
		const err = v.flask_wtf_error ?? '';
		const want = v.valid ? 200 : /missing|do not match/.test(err) ? 403 : 401;
		assert.equal(r.status, want, `${v.name} (${err}): ${JSON.stringify(r.body)}`);
		if (want === 403)
			assert.equal(code(r), 'csrf_failed', v.name);
		if (want === 401)
			assert.equal(code(r), 'unauthorized', v.name);
	}
});

test('every remember cookie vector; its writes double-submit the csrf_token cookie', async () => {
	for (const v of V.remember_cookie_vectors) {
		const cookie = `${v.cookie_name}=${v.value}`;
		let r = await read(cookie);
		assert.equal(r.status, v.valid ? 200 : 401, `${v.name}: ${JSON.stringify(r.body)}`);
		if (v.valid)
			assert.equal(r.body.user.id, Number(v.expect_user_id));
		const u = USERS.find((x) => String(x.id) === v.expect_user_id) ?? USERS[0];
		r = await write(`${cookie}; csrf_token=${u.token}`, { token: u.token });
		assert.equal(r.status, v.valid ? 200 : 401, `${v.name} (write): ${JSON.stringify(r.body)}`);
	}
	const [u1, u2] = USERS;
	// The token as a form field (EDxo's FormData) works the same way.
	let r = await write(`remember_token=${u1.remember}; csrf_token=${u1.token}`,
	    { token: u1.token, as: 'form' });
	assert.equal(r.status, 200, JSON.stringify(r.body));
	// Another session's token, or no cookie to compare with: 403.
	r = await write(`remember_token=${u1.remember}; csrf_token=${u1.token}`, { token: u2.token });
	assert.equal(r.status, 403);
	assert.equal(code(r), 'csrf_failed');
	r = await write(`remember_token=${u1.remember}`, { token: u1.token });
	assert.equal(r.status, 403);
	assert.equal(code(r), 'csrf_failed');
	r = await write(`remember_token=${u1.remember}; csrf_token=${u1.token}`);
	assert.equal(r.status, 403);
	assert.equal(code(r), 'csrf_failed');
	// A forged csrf_token cookie is refused as a credential.
	r = await write(`remember_token=${u1.remember}; csrf_token=${u1.token.slice(0, -2)}xx`,
	    { token: u1.token });
	assert.equal(r.status, 401);
});

test('Flask-Session\'s opaque id names nobody; the remember cookie does', async () => {
	const sid = V.flask_session_server_side.session_cookie_value;
	let r = await read(`session=${sid}`);
	assert.equal(r.status, 401);
	r = await read(`session=${sid}; remember_token=${USERS[1].remember}`);
	assert.equal(r.status, 200);
	assert.equal(r.body.user.id, USERS[1].id);
	// A session cookie Flask cannot read counts as none, as in Flask-Login.
	const expired = V.session_cookie_vectors.find((v) => v.name === 'neg-expired-by-1s');
	r = await read(`session=${expired.value}; remember_token=${USERS[2].remember}`);
	assert.equal(r.status, 200);
	assert.equal(r.body.user.id, USERS[2].id);
});

test('an EDxo account unknown to relais is 401', async () => {
	const id = psql('SELECT coalesce(max(id), 0) + 1000 FROM users');
	const mac = crypto.createHmac('sha512', V.secret_key).update(id).digest('hex');
	const r = await read(`remember_token=${id}|${mac}`);
	assert.equal(r.status, 401);
	assert.equal(code(r), 'unauthorized');
});

test('relais\' own session: CSRF in a header or a csrf_token form field', async () => {
	const lr = await fetch(BASE + '/login', { method: 'POST',
	    headers: { 'Content-Type': 'application/json' },
	    body: JSON.stringify({ username: 'prof@demo.relais', password: 'relais-demo' }) });
	assert.equal(lr.status, 200);
	const body = await lr.json();
	const session = cookieOf(lr.headers.getSetCookie(), 'session');
	const cookie = `session=${session}`;
	let r = await write(cookie, { token: body.csrf_token, as: 'form' });
	assert.equal(r.status, 200, JSON.stringify(r.body));
	r = await write(cookie, { token: body.csrf_token });
	assert.equal(r.status, 200, JSON.stringify(r.body));
	r = await write(cookie, { token: 'x'.repeat(43), as: 'form' });
	assert.equal(r.status, 403);
	assert.equal(code(r), 'csrf_failed');
	r = await write(cookie);
	assert.equal(r.status, 403);
	// The bridge is off in the echo program (no key file): its own session
	// still works there, EDxo's cookies do not.
	r = await getJSON('/_test/private', { headers: { Cookie: cookie } });
	assert.equal(r.status, 200);
	r = await getJSON('/_test/private', { headers: { Cookie: `remember_token=${USERS[0].remember}` } });
	assert.equal(r.status, 401);
	r = await read(`remember_token=${USERS[0].remember}`);
	assert.equal(r.status, 200, 'the same cookie is recognised where the key is configured');
});

test('an auth failure is refused before the body is read', async () => {
	// A body larger than the route takes: 401, not 413.
	const big = 'course_id=&pad=' + 'a'.repeat(2 * 1024 * 1024);
	const r = await getJSON(WRITE, { method: 'POST', headers: {
	    Cookie: `remember_token=1|${'0'.repeat(128)}`,
	    'Content-Type': 'application/x-www-form-urlencoded' }, body: big });
	assert.equal(r.status, 401);
});

// users.tsv's users, their rows copied from edxo-sample.sqlite (the
// importer is tested on its own): e-mail and name tagged so that a kept
// stack can run this again.
function copyUsers() {
	const rows = JSON.parse(execFileSync('python3', ['-c', `
import json, sqlite3, sys
c = sqlite3.connect('file:' + sys.argv[1] + '?mode=ro', uri=True)
print(json.dumps([dict(zip(('id', 'username', 'email', 'password', 'role'), r))
    for r in c.execute('SELECT id, username, email, password, role FROM "User" ORDER BY id')]))
`, `${EDXO}/edxo-sample.sqlite`], { encoding: 'utf8' }));
	const tag = uniq();
	for (const u of rows) {
		const [local, domain] = u.email.split('@');
		u.login = `${local}+${tag}@${domain}`;
		u.rid = psql(`INSERT INTO users (username, email, password_hash, role) VALUES (` +
		    `${q(`edxo-${tag}-${u.username}`)}, ${q(u.login)}, ${q(u.password)}, ${q(u.role)}) RETURNING id`);
	}
	return rows;
}

test('users.tsv: each logs in with the EDxo password, then holds argon2id', async () => {
	// Other suites fail logins from this address too: start from none.
	psql('DELETE FROM login_attempts');
	const rows = copyUsers();
	const tsv = fs.readFileSync(`${EDXO}/users.tsv`, 'utf8').trim().split('\n').slice(1)
	    .map((l) => l.split('\t'));
	assert.equal(tsv.length, rows.length);
	const hashOf = (u) => psql(`SELECT password_hash FROM users WHERE id = ${u.rid}`);
	for (const [email, , , format, , password] of tsv) {
		const u = rows.find((x) => x.email === email);
		assert.ok(u, email);
		assert.ok(hashOf(u).startsWith(format === 'sha256' ? 'sha256$' : format), email);
		// A wrong password first: refused, the EDxo hash kept.
		let r = await getJSON('/login', { method: 'POST', headers: { 'Content-Type': 'application/json' },
		    body: JSON.stringify({ username: u.login, password: password + ' ' }) });
		assert.equal(r.status, 401, `${email}: ${JSON.stringify(r.body)}`);
		assert.equal(hashOf(u), u.password);
		r = await getJSON('/login', { method: 'POST', headers: { 'Content-Type': 'application/json' },
		    body: JSON.stringify({ username: u.login, password }) });
		if (format === 'sha256') {
			// werkzeug 3 cannot read it (EDxo answers 500): refused
			// cleanly, the account waits for a new password.
			assert.equal(r.status, 401, `${email}: ${JSON.stringify(r.body)}`);
			assert.equal(code(r), 'unauthorized');
			assert.equal(hashOf(u), u.password);
			continue;
		}
		assert.equal(r.status, 200, `${email} (${format}): ${JSON.stringify(r.body)}`);
		assert.equal(r.body.user.id, Number(u.rid));
		assert.match(hashOf(u), /^\$argon2id\$/, `${email}: re-hashed`);
		// The argon2id hash now answers for the same password.
		r = await getJSON('/login', { method: 'POST', headers: { 'Content-Type': 'application/json' },
		    body: JSON.stringify({ username: u.login, password }) });
		assert.equal(r.status, 200, `${email}, second login`);
	}
});

test('a key file others may read stops the program with a clear message', () => {
	const key = `${STATE}/edxo-loose.key`;
	fs.writeFileSync(key, V.secret_key);
	fs.chmodSync(key, 0o644);
	const sock = `${STATE}/run/edxo-loose-${uniq()}.sock`;
	const r = spawnSync(`${BUILD}/cgi-bin/settings`, ['-s', sock], { encoding: 'utf8',
	    timeout: 30000, env: { ...process.env, RELAIS_EDXO_SECRET_FILE: key } });
	assert.equal(r.status, 1, `exit ${r.status} ${r.signal}: ${r.stderr}`);
	assert.match(r.stderr, /RELAIS_EDXO_SECRET_FILE .*mode 0644, want a regular file of mode 0600/);
	assert.ok(!fs.existsSync(sock), 'no socket was opened');
});
