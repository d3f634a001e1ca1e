// Sign-in, sessions and CSRF, API tokens, HS256 access tokens, rate
// limiting: through nginx against the settings program and the demo data.
import test from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { BASE, STATE, TOP, getJSON, postJSON, psql, raw } from './lib.mjs';

const ADMIN = { username: 'admin@demo.relais', password: 'relais-demo' };

function cookies(res) {
	const out = {};
	for (const c of res.headers.getSetCookie()) {
		const [kv, ...attrs] = c.split(';').map((s) => s.trim());
		const i = kv.indexOf('=');
		out[kv.slice(0, i)] = { value: kv.slice(i + 1), attrs };
	}
	return out;
}

async function login(creds = ADMIN) {
	const r = await fetch(BASE + '/login', { method: 'POST',
	    headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(creds) });
	const body = await r.json();
	const c = cookies(r);
	return { status: r.status, body, c,
	    cookie: c.session ? `session=${c.session.value}; csrf_token=${c.csrf_token.value}` : null };
}

async function bearer(creds = ADMIN) {
	const r = await postJSON('/auth/token', creds);
	assert.equal(r.status, 200, JSON.stringify(r.body));
	return r.body.access_token;
}

// The JWT key, derived as lib/crypto.c does: HMAC(master, context) then HMAC.
function sign(headerObj, payloadObj) {
	const master = fs.readFileSync(`${STATE}/secret.key`);
	const sub = crypto.createHmac('sha256', master).update('relais jwt hs256 v1').digest();
	const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
	const data = `${b64(headerObj)}.${b64(payloadObj)}`;
	return `${data}.${crypto.createHmac('sha256', sub).update(data).digest('base64url')}`;
}

function adminId() {
	return Number(psql("SELECT id FROM users WHERE username = 'admin'"));
}

test('login (JSON) sets an HttpOnly SameSite=Lax session cookie and a CSRF token', async () => {
	const r = await login();
	assert.equal(r.status, 200);
	assert.equal(r.body.success, true);
	assert.equal(r.body.user.role, 'admin');
	assert.equal(r.body.user.email, 'admin@demo.relais');
	assert.ok(r.c.session.attrs.includes('HttpOnly'));
	assert.ok(r.c.session.attrs.includes('SameSite=Lax'));
	assert.ok(!r.c.session.attrs.includes('Secure'), 'plain http: no Secure');
	assert.ok(!r.c.csrf_token.attrs.includes('HttpOnly'), 'scripts must read the CSRF cookie');
	assert.equal(r.body.csrf_token, r.c.csrf_token.value);
	const me = await getJSON('/me', { headers: { Cookie: r.cookie } });
	assert.equal(me.status, 200);
	assert.equal(me.body.user.username, 'admin');
	// Only the token's hash is stored.
	const stored = psql(`SELECT count(*) FROM sessions WHERE id = decode('${r.c.session.value}', 'escape')`);
	assert.equal(stored, '0');
});

test('login behind https marks cookies Secure', async () => {
	const r = await fetch(BASE + '/login', { method: 'POST',
	    headers: { 'Content-Type': 'application/json', 'X-Forwarded-Proto': 'https' },
	    body: JSON.stringify(ADMIN) });
	assert.equal(r.status, 200);
	assert.ok(cookies(r).session.attrs.includes('Secure'));
});

test('login with a form and a user name, case-insensitive e-mail', async () => {
	let r = await getJSON('/login', { method: 'POST',
	    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
	    body: 'username=coordo&password=relais-demo' });
	assert.equal(r.status, 200);
	assert.equal(r.body.user.role, 'coordo');
	r = await postJSON('/login', { username: 'PROF@Demo.Relais', password: 'relais-demo' });
	assert.equal(r.status, 200);
	assert.equal(r.body.user.role, 'professeur');
});

test('wrong password or unknown account: the same 401, with WWW-Authenticate', async () => {
	const a = await postJSON('/login', { username: 'admin', password: 'nope' });
	const b = await postJSON('/login', { username: 'nobody@demo.relais', password: 'nope' });
	for (const r of [a, b]) {
		assert.equal(r.status, 401);
		assert.equal(r.body.error.code, 'unauthorized');
		assert.equal(r.body.error.message, 'wrong user name or password');
		assert.equal(r.headers.get('www-authenticate'), 'Bearer');
	}
	const m = await postJSON('/login', { username: 'admin' });
	assert.equal(m.status, 400);
	assert.equal(m.body.error.field, 'password');
});

test('credentials of the wrong type: the request schema\'s 422, before the limiter', async () => {
	psql('DELETE FROM login_attempts');
	for (const route of ['/login', '/auth/token']) {
		let r = await postJSON(route, { username: 42, password: 'relais-demo' });
		assert.equal(r.status, 422, `${route} ${JSON.stringify(r.body)}`);
		assert.deepEqual(r.body.detail[0].loc, ['body', 'username'], route);
		assert.equal(r.body.detail[0].type, 'string_type', route);
		r = await postJSON(route, { username: 'admin', password: ['relais-demo'] });
		assert.equal(r.status, 422, route);
		assert.deepEqual(r.body.detail[0].loc, ['body', 'password'], route);
		// The same from a form: an empty password is the handler's 400.
		r = await getJSON(route, { method: 'POST',
		    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
		    body: 'username=admin&password=&csrf_token=x' });
		assert.equal(r.status, 400, route);
		assert.equal(r.body.error.field, 'password', route);
	}
	assert.equal(psql('SELECT count(*) FROM login_attempts'), '0', 'nothing recorded');
	// /auth/token from a form, as /login.
	const r = await getJSON('/auth/token', { method: 'POST',
	    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
	    body: 'username=coordo&password=relais-demo' });
	assert.equal(r.status, 200, JSON.stringify(r.body));
	assert.equal(r.body.token_type, 'bearer');
});

test('a cookie-authenticated write needs the CSRF token', async () => {
	const s = await login();
	let r = await getJSON('/logout', { method: 'POST', headers: { Cookie: s.cookie } });
	assert.equal(r.status, 403);
	assert.equal(r.body.error.code, 'csrf_failed');
	r = await getJSON('/logout', { method: 'POST', headers: { Cookie: s.cookie, 'X-CSRFToken': 'x'.repeat(43) } });
	assert.equal(r.status, 403);
	r = await getJSON('/logout', { method: 'POST', headers: { Cookie: s.cookie, 'X-CSRF-Token': s.body.csrf_token } });
	assert.equal(r.status, 200);
	r = await getJSON('/me', { headers: { Cookie: s.cookie } });
	assert.equal(r.status, 401, 'the session is gone after logout');
});

test('a session idle for more than 30 days is logged out', async () => {
	const s = await login();
	let r = await getJSON('/me', { headers: { Cookie: s.cookie } });
	assert.equal(r.status, 200);
	psql("UPDATE sessions SET last_seen_at = now() - interval '31 days', created_at = now() - interval '32 days' WHERE last_seen_at > now() - interval '1 minute'");
	r = await getJSON('/me', { headers: { Cookie: s.cookie } });
	assert.equal(r.status, 401);
	assert.match(r.body.error.message, /expired/);
});

test('/auth/token with JSON or HTTP Basic, /auth/verify', async () => {
	const t1 = await bearer();
	const basic = Buffer.from('admin@demo.relais:relais-demo').toString('base64');
	const r = await getJSON('/auth/token', { method: 'POST', headers: { Authorization: `Basic ${basic}` } });
	assert.equal(r.status, 200);
	assert.equal(r.body.token_type, 'bearer');
	assert.equal(r.body.expires_in, 3600);
	const v = await getJSON('/auth/verify', { headers: { Authorization: `Bearer ${t1}` } });
	assert.equal(v.status, 200);
	assert.equal(v.body.valid, true);
	assert.equal(v.body.user.sub, 'admin@demo.relais');
	assert.equal(v.body.user.type, 'access');
	assert.ok(v.body.user.exp > Date.now() / 1000 + 3500);
	const [h] = t1.split('.');
	assert.deepEqual(JSON.parse(Buffer.from(h, 'base64url')), { alg: 'HS256', typ: 'JWT' });
});

test('tampered, unsigned, re-keyed and expired tokens are 401', async () => {
	const t = await bearer();
	const [h, p, s] = t.split('.');
	const payload = JSON.parse(Buffer.from(p, 'base64url'));
	const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
	const now = Math.floor(Date.now() / 1000);
	const bad = {
		'changed payload': `${h}.${b64({ ...payload, role: 'admin', uid: payload.uid + 1 })}.${s}`,
		'changed header': `${b64({ alg: 'HS256', typ: 'JWT', kid: 'x' })}.${p}.${s}`,
		'alg none': `${b64({ alg: 'none', typ: 'JWT' })}.${p}.`,
		'HS512 header': sign({ alg: 'HS512', typ: 'JWT' }, payload),
		'expired': sign({ alg: 'HS256', typ: 'JWT' }, { ...payload, exp: now - 10 }),
		'wrong type': sign({ alg: 'HS256', typ: 'JWT' }, { ...payload, type: 'refresh' }),
		'garbage': 'abc.def',
		'truncated signature': `${h}.${p}.${s.slice(0, 20)}`,
	};
	for (const [what, tok] of Object.entries(bad)) {
		const r = await getJSON('/me', { headers: { Authorization: `Bearer ${tok}` } });
		assert.equal(r.status, 401, what);
		assert.equal(r.body.error.code, 'unauthorized', what);
	}
	// The derivation above is right: a well-formed token we sign is accepted.
	const good = sign({ alg: 'HS256', typ: 'JWT' }, { ...payload, exp: now + 60 });
	const ok = await getJSON('/me', { headers: { Authorization: `Bearer ${good}` } });
	assert.equal(ok.status, 200);
	assert.equal(ok.body.user.id, adminId());
});

test('personal API token: created once, usable, expiring, only its hash stored', async () => {
	const t = await bearer();
	const auth = { Authorization: `Bearer ${t}` };
	// ttl comes from the query string (request schema settings.api_token).
	let r = await getJSON('/api/token?ttl=10', { method: 'POST', headers: auth });
	assert.equal(r.status, 422);
	assert.deepEqual(r.body.detail[0].loc, ['query', 'ttl']);
	assert.equal(r.body.detail[0].type, 'greater_than_equal');
	r = await getJSON('/api/token?ttl=soon', { method: 'POST', headers: auth });
	assert.equal(r.status, 422);
	assert.equal(r.body.detail[0].type, 'int_parsing');
	// The schema's maximum is RL_API_TOKEN_TTL_MAX_SEC of lib/bounds.h.
	const m = fs.readFileSync(`${TOP}/lib/bounds.h`, 'utf8')
	    .match(/^#define RL_API_TOKEN_TTL_MAX_SEC\s+\((\d+) \* (\d+) \* (\d+)\)\s*$/m);
	assert.ok(m, 'RL_API_TOKEN_TTL_MAX_SEC in lib/bounds.h');
	const max = Number(m[1]) * Number(m[2]) * Number(m[3]);
	const schema = JSON.parse(fs.readFileSync(
	    `${TOP}/lib/schemas/requests/settings.api_token.json`, 'utf8'));
	assert.equal(schema.properties.ttl.maximum, max);
	r = await getJSON(`/api/token?ttl=${max + 1}`, { method: 'POST', headers: auth });
	assert.equal(r.status, 422);
	assert.equal(r.body.detail[0].type, 'less_than_equal');
	r = await getJSON('/api/token?ttl=3600', { method: 'POST', headers: auth });
	assert.equal(r.status, 201);
	assert.match(r.body.token, /^[A-Za-z0-9_-]{43}$/);
	assert.ok(Date.parse(r.body.expires_at) > Date.now() + 3500e3);
	const token = r.body.token;
	r = await getJSON('/me', { headers: { 'X-API-Token': token } });
	assert.equal(r.status, 200);
	assert.equal(r.body.user.role, 'admin');
	r = await getJSON('/api/token', { headers: { 'X-API-Token': token } });
	assert.equal(r.body.active, true);
	assert.equal(r.body.token, null);
	assert.equal(psql(`SELECT count(*) FROM users WHERE api_token::text LIKE '%${Buffer.from(token).toString('hex')}%'`), '0');
	psql("UPDATE users SET api_token_expires_at = now() - interval '1 second' WHERE username = 'admin'");
	r = await getJSON('/me', { headers: { 'X-API-Token': token } });
	assert.equal(r.status, 401);
	r = await getJSON('/me', { headers: { 'X-API-Token': 'made-up' } });
	assert.equal(r.status, 401);
});

test('credit balance in EDxo shape', async () => {
	const t = await bearer({ username: 'prof@demo.relais', password: 'relais-demo' });
	const r = await getJSON('/get_credit_balance', { headers: { Authorization: `Bearer ${t}` } });
	assert.equal(r.status, 200);
	assert.deepEqual(r.body, { success: true, credit: '10.00' });
	const anon = await getJSON('/get_credit_balance');
	assert.equal(anon.status, 401);
});

test('failed logins are rate-limited per account, then per address', async () => {
	psql('DELETE FROM login_attempts');
	for (let i = 0; i < 5; i++) {
		const r = await postJSON('/login', { username: 'coordo', password: `wrong${i}` });
		assert.equal(r.status, 401);
	}
	let r = await postJSON('/login', { username: 'coordo', password: 'relais-demo' });
	assert.equal(r.status, 429, 'even the right password waits out the window');
	assert.equal(r.body.error.code, 'rate_limited');
	r = await postJSON('/auth/token', { username: 'coordo', password: 'relais-demo' });
	assert.equal(r.status, 429, '/auth/token shares the limit');
	r = await postJSON('/login', { username: 'prof', password: 'relais-demo' });
	assert.equal(r.status, 200, 'another account is not blocked');
	for (let i = 0; i < 15; i++)
		await postJSON('/login', { username: `ghost${i}`, password: 'x' });
	r = await postJSON('/login', { username: 'prof', password: 'relais-demo' });
	assert.equal(r.status, 429, '20 failures from one address block it');
	psql('DELETE FROM login_attempts');
	r = await postJSON('/login', { username: 'prof', password: 'relais-demo' });
	assert.equal(r.status, 200);
});
