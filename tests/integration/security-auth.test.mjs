// Issue 14, items 3 and 4: what an account may hold (RL_ACCOUNT_* in
// lib/bounds.h), checked before anything is hashed, and the login limiter
// under concurrency (one allowance per account id, whichever name is typed).
//
// Every request comes from 127.0.0.1, so every failure here also counts
// against the address limit that the other suites' logins share: each test
// uses its own fresh user, and login_attempts is emptied before and after
// each test (as auth.test.mjs and settings.test.mjs do).
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { TOP, PASSWORD, admin, auth, postJSON, psql, q, uniq } from './lib.mjs';

// The limits, read from the one place that defines them.
const bounds = fs.readFileSync(`${TOP}/lib/bounds.h`, 'utf8');
function bound(name) {
	const m = bounds.match(new RegExp(`^#define ${name}\\s+(\\d+)\\s*$`, 'm'));
	assert.ok(m, `${name} in lib/bounds.h`);
	return Number(m[1]);
}
const MAX_ACCOUNT = bound('RL_LOGIN_MAX_ACCOUNT');
const MAX_ADDRESS = bound('RL_LOGIN_MAX_ADDRESS');
const USERNAME_CHARS = bound('RL_ACCOUNT_USERNAME_MAX_CHARS');
const EMAIL_CHARS = bound('RL_ACCOUNT_EMAIL_MAX_CHARS');
const EMAIL_BYTES = bound('RL_ACCOUNT_EMAIL_MAX_BYTES');
const NAME_CHARS = bound('RL_ACCOUNT_NAME_MAX_CHARS');
const PASSWORD_CHARS = bound('RL_ACCOUNT_PASSWORD_MAX_CHARS');
const PASSWORD_BYTES = bound('RL_ACCOUNT_PASSWORD_MAX_BYTES');

const MB = 1000 * 1000;

test.beforeEach(() => psql('DELETE FROM login_attempts'));
test.afterEach(() => psql('DELETE FROM login_attempts'));

// A 400 naming the field, with the stable code.
function refused(r, field) {
	assert.equal(r.status, 400, JSON.stringify(r.body).slice(0, 300));
	assert.equal(r.body.error.code, 'bad_request');
	assert.equal(r.body.error.field, field);
	assert.ok(r.body.error.message.length < 300, 'the message does not echo the value');
}

async function create(fields) {
	return postJSON('/manage_users', fields, auth(await admin()));
}

// A fresh account with an e-mail address: {id, username, email}.
async function account(prefix) {
	const username = `${prefix}-${uniq()}`;
	const email = `${username}@example.org`;
	const r = await create({ username, email, password: PASSWORD });
	assert.equal(r.status, 201, JSON.stringify(r.body));
	return { id: r.body.id, username, email };
}

const users = (where) => Number(psql(`SELECT count(*) FROM users WHERE ${where}`));
const attempts = (where) => Number(psql(`SELECT count(*) FROM login_attempts WHERE ${where}`));

test('a 10 KB username is refused at creation and at login (400 bad_request, field username)', async () => {
	const big = `big-${uniq()}-`.padEnd(10 * 1024, 'u');
	refused(await create({ username: big, password: PASSWORD }), 'username');
	assert.equal(users(`username = ${q(big)}`), 0, 'nothing stored');
	refused(await postJSON('/login', { username: big, password: PASSWORD }), 'username');
	refused(await postJSON('/auth/token', { username: big, password: PASSWORD }), 'username');
	assert.equal(attempts('NOT success'), 0, 'refused before the limiter: nothing recorded');
});

test('usernames: the character limit counts characters, not bytes', async () => {
	const tag = uniq();
	// 'é' is two bytes: at the limit in characters, twice that in bytes.
	const name = `${tag}-`.padEnd(USERNAME_CHARS, 'é');
	let r = await create({ username: name, password: PASSWORD });
	assert.equal(r.status, 201, JSON.stringify(r.body));
	refused(await create({ username: `${name}é`, password: PASSWORD }), 'username');
	refused(await create({ username: `ctl-${tag}\n`, password: PASSWORD }), 'username');
	refused(await create({ username: '   ', password: PASSWORD }), 'username');
	r = await postJSON('/login', { username: name, password: PASSWORD });
	assert.equal(r.status, 200, 'an account at the limit logs in');
});

test('a 1 MB password is refused at creation and at login before argon2id (400, field password)', async () => {
	const huge = 'p'.repeat(MB);
	const name = `huge-${uniq()}`;
	refused(await create({ username: name, password: huge }), 'password');
	assert.equal(users(`username = ${q(name)}`), 0, 'nothing stored');
	// At login: refused before the limiter takes a slot and so before
	// argon2id runs (the slot is taken first); nothing recorded, and the
	// right password still works afterwards.
	const u = await account('pw');
	for (const route of ['/login', '/auth/token']) {
		refused(await postJSON(route, { username: u.username, password: huge }), 'password');
		refused(await postJSON(route, { username: u.email, password: huge }), 'password');
	}
	const basic = Buffer.from(`${u.username}:${'p'.repeat(PASSWORD_BYTES + 1)}`).toString('base64');
	refused(await postJSON('/auth/token', {}, { Authorization: `Basic ${basic}` }), 'password');
	assert.equal(attempts('NOT success'), 0, 'nothing recorded: no slot, no hash');
	assert.equal((await postJSON('/login', { username: u.username, password: PASSWORD })).status, 200);
});

test('passwords: limits in characters and bytes, a minimum length at creation only', async () => {
	const tag = uniq();
	// At the limit in characters (twice that in bytes, under the byte limit).
	const long = 'é'.repeat(PASSWORD_CHARS);
	assert.ok(Buffer.byteLength(long) <= PASSWORD_BYTES);
	let r = await create({ username: `long-${tag}`, password: long });
	assert.equal(r.status, 201, JSON.stringify(r.body));
	r = await postJSON('/auth/token', { username: `long-${tag}`, password: long });
	assert.equal(r.status, 200, 'a password at the limit logs in');
	refused(await create({ username: `long2-${tag}`, password: `${long}é` }), 'password');
	// Four-byte characters: at the limit in characters is at the limit
	// in bytes, and both are allowed.
	const wide = '😀'.repeat(PASSWORD_CHARS);
	assert.equal(Buffer.byteLength(wide), PASSWORD_BYTES);
	r = await create({ username: `wide-${tag}`, password: wide });
	assert.equal(r.status, 201, JSON.stringify(r.body));
	refused(await create({ username: `wide2-${tag}`, password: `${wide}😀` }), 'password');
	refused(await create({ username: `short-${tag}`, password: 'short' }), 'password');
	// The minimum is a creation rule: a short wrong password at login is
	// an ordinary 401, not a 400 that would tell it from a right one.
	r = await postJSON('/login', { username: `long-${tag}`, password: 'short' });
	assert.equal(r.status, 401);
});

test('e-mail and names: refused past their limits, on creation and on edit', async () => {
	const tag = uniq();
	const email = `${tag}@`.padEnd(EMAIL_BYTES + 1, 'e');
	refused(await create({ username: `mail-${tag}`, email, password: PASSWORD }), 'email');
	// SMTP counts octets: under the character limit, over the byte one.
	const accented = `${tag}@`.padEnd(Math.ceil(EMAIL_BYTES / 2) + 5, 'é');
	assert.ok(accented.length < EMAIL_CHARS && Buffer.byteLength(accented) > EMAIL_BYTES);
	refused(await create({ username: `mail2-${tag}`, email: accented, password: PASSWORD }), 'email');
	refused(await create({ username: `nom-${tag}`, nom: 'n'.repeat(NAME_CHARS + 1), password: PASSWORD }), 'nom');
	const u = await account('edit');
	const a = auth(await admin());
	refused(await postJSON(`/edit_user/${u.id}`, { email }, a), 'email');
	refused(await postJSON(`/edit_user/${u.id}`, { prenom: 'p'.repeat(NAME_CHARS + 1) }, a), 'prenom');
	refused(await postJSON(`/edit_user/${u.id}`, { nom: 'Tab\there' }, a), 'nom');
	const r = await postJSON(`/edit_user/${u.id}`, { nom: 'n'.repeat(NAME_CHARS), prenom: null }, a);
	assert.equal(r.status, 200, JSON.stringify(r.body));
	assert.equal(psql(`SELECT email FROM users WHERE id = ${u.id}`), u.email, 'refused edits changed nothing');
});

test(`30 concurrent wrong passwords: at most RL_LOGIN_MAX_ACCOUNT are checked, the rest 429; the lock is the account's, by name or e-mail`, async () => {
	const u = await account('race');
	const rs = await Promise.all(Array.from({ length: 30 }, (_, i) =>
	    postJSON(i % 2 ? '/login' : '/auth/token',
	    { username: i % 3 ? u.username : u.email.toUpperCase(), password: `wrong-${i}` })));
	const by = (s) => rs.filter((r) => r.status === s).length;
	assert.equal(by(401) + by(429), 30, `only 401 and 429: ${rs.map((r) => r.status)}`);
	assert.ok(by(401) <= MAX_ACCOUNT, `${by(401)} passwords checked, at most ${MAX_ACCOUNT}`);
	assert.equal(by(401), MAX_ACCOUNT, 'the first ones do get checked');
	for (const r of rs.filter((x) => x.status === 429))
		assert.equal(r.body.error.code, 'rate_limited');
	assert.equal(attempts(`user_id = ${u.id}`), MAX_ACCOUNT, 'one row per checked attempt, keyed by id');
	// Locked by id: the right password waits, by either name.
	for (const name of [u.username, u.email, u.email.toUpperCase()]) {
		let r = await postJSON('/login', { username: name, password: PASSWORD });
		assert.equal(r.status, 429, `${name}: ${JSON.stringify(r.body)}`);
		assert.equal(r.body.error.code, 'rate_limited');
		r = await postJSON('/auth/token', { username: name, password: PASSWORD });
		assert.equal(r.status, 429, `/auth/token ${name}`);
	}
	assert.equal(attempts(`user_id = ${u.id}`), MAX_ACCOUNT, 'refused attempts take no slot');
	// Another account from the same address is not locked.
	const other = await account('bystander');
	assert.equal((await postJSON('/login', { username: other.email, password: PASSWORD })).status, 200);
	psql(`DELETE FROM login_attempts WHERE user_id = ${u.id}`);
	assert.equal((await postJSON('/login', { username: u.email, password: PASSWORD })).status, 200,
	    'the window over, the account works again');
	assert.equal(attempts(`user_id = ${u.id} AND success`), 1);
});

test('username and e-mail share one allowance (sequential)', async () => {
	const u = await account('share');
	for (let i = 0; i < MAX_ACCOUNT; i++) {
		const r = await postJSON('/login', { username: i % 2 ? u.username : u.email, password: `no-${i}` });
		assert.equal(r.status, 401);
	}
	assert.equal((await postJSON('/login', { username: u.username, password: PASSWORD })).status, 429);
	assert.equal((await postJSON('/login', { username: u.email, password: PASSWORD })).status, 429);
});

test('an unknown name counts against the name typed; a real account is not locked by it', async () => {
	const ghost = `ghost-${uniq()}`;
	for (let i = 0; i < MAX_ACCOUNT; i++)
		assert.equal((await postJSON('/login', { username: ghost, password: `x${i}` })).status, 401);
	const r = await postJSON('/login', { username: ghost.toUpperCase(), password: 'x' });
	assert.equal(r.status, 429, 'guessing names costs what guessing passwords does');
	assert.equal(attempts(`account = ${q(ghost)} AND user_id IS NULL`), MAX_ACCOUNT);
	const u = await account('real');
	assert.equal((await postJSON('/login', { username: u.username, password: PASSWORD })).status, 200);
});

test('the address limit holds under concurrency too', async () => {
	// Fill the address's allowance to three short of the limit (the rows
	// carry the address nginx passes, learnt from a first failure), so
	// that only three argon2id runs happen at once, not 20 (64 MiB each).
	const tag = uniq();
	assert.equal((await postJSON('/login', { username: `nobody-${tag}`, password: 'x' })).status, 401);
	const addr = psql('SELECT address FROM login_attempts LIMIT 1');
	psql(`INSERT INTO login_attempts (account, address) SELECT 'filler-' || i, ${q(addr)} FROM generate_series(1, ${MAX_ADDRESS - 4}) i`);
	const rs = await Promise.all(Array.from({ length: 13 }, (_, i) =>
	    postJSON('/login', { username: `nobody-${tag}-${i}`, password: 'x' })));
	const by = (s) => rs.filter((r) => r.status === s).length;
	assert.equal(by(401) + by(429), 13, `${rs.map((r) => r.status)}`);
	assert.equal(by(401), 3, `at most ${MAX_ADDRESS} failures from one address are checked`);
	assert.equal(attempts(`address = ${q(addr)} AND NOT success`), MAX_ADDRESS);
	const u = await account('addr');
	assert.equal((await postJSON('/login', { username: u.username, password: PASSWORD })).status, 429,
	    'the address is locked for every account');
});
