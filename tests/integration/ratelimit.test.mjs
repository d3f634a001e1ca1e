// Request limits (issue 20, lib/ratelimit.c): an admin sets a low limit
// for the role cp through POST /settings/rate_limits; a cp user's
// requests count down in X-RateLimit-* on two programs (settings' /me,
// chat's /completion), which share one bucket because they share the
// host's table; the next is 429 with Retry-After in each program's error
// shape; one is allowed again after Retry-After, the bucket is full again
// after X-RateLimit-Reset; an API token has its own bucket besides its
// user's; a change applies from the next request.  scripts/test runs the
// stack with RELAIS_RATELIMIT_USER/_ADMIN at 100000 so the other suites
// never meet a 429; the role's row is removed at the end.
import test from 'node:test';
import assert from 'node:assert/strict';
import { admin, auth, getJSON, newUser, postJSON, psql, sleep } from './lib.mjs';

const ROLE = 'cp';
// 3 requests per 9 s: one every 3 s, so the few requests of a step
// (well under 3 s) count down exactly.
const LIMIT = 3, TOKEN_LIMIT = 2, PERIOD = 9;

const setLimits = async (body) => {
	const r = await postJSON('/settings/rate_limits', { role: ROLE, ...body }, auth(await admin()));
	assert.equal(r.status, 200, JSON.stringify(r.body));
	return r.body;
};

const hdr = (r) => ({
	limit: Number(r.headers.get('x-ratelimit-limit')),
	remaining: Number(r.headers.get('x-ratelimit-remaining')),
	reset: Number(r.headers.get('x-ratelimit-reset')),
	retry: r.headers.get('retry-after'),
});

const me = (headers) => getJSON('/me', { headers });
const complete = (token) => postJSON('/completion', { message: 'Bonjour', model: 'gpt-4o-mini',
    agent: 'V1', stream: false }, auth(token));

test.after(async () => {
	await setLimits({ requests: null });
});

test('GET /settings/rate_limits: every role, defaults from the environment', async () => {
	const r = await getJSON('/settings/rate_limits', { headers: auth(await admin()) });
	assert.equal(r.status, 200, JSON.stringify(r.body));
	assert.deepEqual(r.body.roles.map((x) => x.role).sort(),
	    ['admin', 'coordo', 'cp', 'invite', 'professeur']);
	// scripts/test's RELAIS_RATELIMIT_USER and _ADMIN.
	assert.deepEqual(r.body.defaults, { requests: 100000, admin_requests: 100000, period_sec: 60 });
	const cp = r.body.roles.find((x) => x.role === ROLE);
	assert.deepEqual(cp, { role: ROLE, requests: 100000, token_requests: 100000, period_sec: 60,
	    custom: false });
	// An admin's own request is counted and says so.
	assert.equal(r.headers.get('x-ratelimit-limit'), '100000');
});

test('POST /settings/rate_limits: bounds, roles and who may', async () => {
	const a = auth(await admin());
	for (const bad of [{ role: ROLE, requests: -1 }, { role: ROLE, requests: 100001 },
	    { role: 'root', requests: 5 }, { role: ROLE, requests: 5, period_sec: 0 },
	    { role: ROLE, requests: 5, period_sec: 86401 }, { role: ROLE }, { role: ROLE, requests: 5, x: 1 }]) {
		const r = await postJSON('/settings/rate_limits', bad, a);
		assert.equal(r.status, 422, `${JSON.stringify(bad)}: ${JSON.stringify(r.body)}`);
	}
	assert.equal(psql(`SELECT count(*) FROM rate_limits WHERE role = '${ROLE}'`), '0');
	const u = await newUser({ prefix: 'rl-prof' });
	let r = await postJSON('/settings/rate_limits', { role: 'professeur', requests: 1 }, auth(u.token));
	assert.equal(r.status, 403);
	r = await getJSON('/settings/rate_limits', { headers: auth(u.token) });
	assert.equal(r.status, 403);
	r = await getJSON('/settings/rate_limits');
	assert.equal(r.status, 401);
});

test('a user counts down across two programs, 429 with Retry-After, refills', async () => {
	const u = await newUser({ prefix: 'rl', role: ROLE });
	const body = await setLimits({ requests: LIMIT, token_requests: TOKEN_LIMIT, period_sec: PERIOD });
	assert.deepEqual(body.roles.find((x) => x.role === ROLE), { role: ROLE, requests: LIMIT,
	    token_requests: TOKEN_LIMIT, period_sec: PERIOD, custom: true });

	// settings, chat, settings: one bucket, 2, 1, 0 left.
	let r = await me(auth(u.token));
	assert.equal(r.status, 200, JSON.stringify(r.body));
	let h = hdr(r);
	assert.deepEqual([h.limit, h.remaining], [LIMIT, 2]);
	assert.ok(h.reset >= 1 && h.reset <= 3, `reset ${h.reset}`);
	assert.equal(h.retry, null);
	r = await complete(u.token);
	assert.equal(r.status, 200, JSON.stringify(r.body));
	assert.deepEqual([hdr(r).limit, hdr(r).remaining], [LIMIT, 1]);
	r = await me(auth(u.token));
	h = hdr(r);
	assert.deepEqual([r.status, h.limit, h.remaining], [200, LIMIT, 0]);
	assert.ok(h.reset >= 7 && h.reset <= 9, `reset ${h.reset}`);

	// Over: each program answers 429 in its own error shape.
	r = await complete(u.token);
	assert.equal(r.status, 429, JSON.stringify(r.body));
	h = hdr(r);
	assert.equal(h.remaining, 0);
	assert.ok(Number(h.retry) >= 1 && Number(h.retry) <= 3, `Retry-After ${h.retry}`);
	assert.equal(r.body.error.code, 'rate_limited');
	r = await me(auth(u.token));
	assert.equal(r.status, 429);
	assert.equal(r.body.error.code, 'rate_limited');
	assert.match(r.body.error.message, /rate limit/);
	const retry = Number(r.headers.get('retry-after'));
	const reset = hdr(r).reset;
	assert.ok(retry >= 1 && retry <= 3, `Retry-After ${retry}`);
	// A refused request took nothing: the bucket is as it was.
	assert.ok(reset >= 7 && reset <= 9, `reset ${reset}`);

	// After Retry-After, one more.
	await sleep(retry * 1000 + 100);
	r = await me(auth(u.token));
	assert.equal(r.status, 200, JSON.stringify(r.body));
	assert.equal(hdr(r).remaining, 0);

	// After X-RateLimit-Reset, full again.
	await sleep(hdr(r).reset * 1000 + 100);
	r = await me(auth(u.token));
	assert.equal(r.status, 200);
	assert.deepEqual([hdr(r).limit, hdr(r).remaining], [LIMIT, LIMIT - 1]);

	// Unauthenticated routes are nginx's to limit: no headers here.
	r = await getJSON('/api/health');
	assert.equal(r.headers.get('x-ratelimit-limit'), null);
});

test('an API token has its own bucket besides its user\'s', async () => {
	// The token is made at the defaults, then the low limits apply.
	await setLimits({ requests: null });
	const u = await newUser({ prefix: 'rl-tok', role: ROLE });
	let r = await getJSON('/api/token?ttl=3600', { method: 'POST', headers: auth(u.token) });
	assert.equal(r.status, 201, JSON.stringify(r.body));
	const tok = { 'X-API-Token': r.body.token };
	await setLimits({ requests: LIMIT, token_requests: TOKEN_LIMIT, period_sec: PERIOD });
	// The earlier POST /api/token went by at 100000 a minute: gone.
	await sleep(50);

	// The token's bucket (2) binds before the user's (3).
	r = await me(tok);
	assert.equal(r.status, 200, JSON.stringify(r.body));
	assert.deepEqual([hdr(r).limit, hdr(r).remaining], [TOKEN_LIMIT, 1]);
	r = await getJSON('/get_credit_balance', { headers: tok });
	assert.equal(r.status, 200);
	assert.deepEqual([hdr(r).limit, hdr(r).remaining], [TOKEN_LIMIT, 0]);
	r = await me(tok);
	assert.equal(r.status, 429);
	assert.match(r.body.error.message, /API token/);
	assert.ok(Number(r.headers.get('retry-after')) >= 1);

	// The user signed in otherwise still has the one the token left:
	// the refused request was given back to the user's bucket.
	r = await me(auth(u.token));
	assert.equal(r.status, 200, JSON.stringify(r.body));
	assert.deepEqual([hdr(r).limit, hdr(r).remaining], [LIMIT, 0]);
	r = await me(auth(u.token));
	assert.equal(r.status, 429);
});

test('a change applies from the next request, in every program', async () => {
	const u = await newUser({ prefix: 'rl-chg', role: ROLE });
	await setLimits({ requests: LIMIT, period_sec: PERIOD });
	let r = await me(auth(u.token));
	assert.equal(hdr(r).limit, LIMIT);
	assert.equal(psql(`SELECT token_requests FROM rate_limits WHERE role = '${ROLE}'`), String(LIMIT));

	await setLimits({ requests: 50, period_sec: 60 });
	r = await me(auth(u.token));
	assert.equal(r.status, 200);
	assert.equal(hdr(r).limit, 50);
	r = await complete(u.token);
	assert.equal(r.status, 200, JSON.stringify(r.body));
	assert.equal(hdr(r).limit, 50);

	// 0 is unlimited: no headers to count down.
	await setLimits({ requests: 0 });
	r = await me(auth(u.token));
	assert.equal(r.status, 200);
	assert.equal(r.headers.get('x-ratelimit-limit'), null);

	// Back to the defaults.
	const body = await setLimits({ requests: null });
	assert.equal(body.roles.find((x) => x.role === ROLE).custom, false);
	r = await complete(u.token);
	assert.equal(r.status, 200, JSON.stringify(r.body));
	assert.equal(hdr(r).limit, 100000);
});
