// Where a request's time goes (issue 17): every answer says it in
// Server-Timing (relais' own time, the upstream's, the database's), every
// program keeps it per route as Prometheus histograms on GET
// /metrics/<program> (admin only through nginx), and a billed call makes
// at most one round trip to PostgreSQL before its upstream request: the
// reservation, the rest coming from the in-process cache (lib/cache.c).
import test from 'node:test';
import assert from 'node:assert/strict';
import { BASE, admin, auth, newUser, postJSON, psql, uniq } from './lib.mjs';

// "relais;dur=1.2, upstream;dur=0.5, db;dur=0.3, db-calls;desc="2", …"
export function serverTiming(h) {
	assert.ok(h, 'no Server-Timing header');
	const m = {};
	for (const part of h.split(/,\s*/)) {
		const [name, ...params] = part.split(';');
		const p = {};
		for (const kv of params) {
			const [k, v] = kv.split('=');
			p[k.trim()] = v.replace(/^"|"$/g, '');
		}
		m[name.trim()] = p;
	}
	for (const k of ['relais', 'upstream', 'db']) {
		assert.ok(m[k] && /^\d+\.\d{3}$/.test(m[k].dur), `${k} in ${h}`);
		m[k].dur = Number(m[k].dur);
	}
	m.calls = Number(m['db-calls'].desc);
	m.before = Number(m['db-before-upstream'].desc);
	return m;
}

// Prometheus' text exposition: # HELP/# TYPE lines and samples
// name{labels} value, each histogram's buckets cumulative up to +Inf.
export function parseMetrics(text) {
	const samples = [];
	const types = {};
	for (const line of text.split('\n')) {
		if (line === '')
			continue;
		let m;
		if ((m = /^# TYPE (\w+) (counter|gauge|histogram)$/.exec(line))) {
			types[m[1]] = m[2];
			continue;
		}
		if (/^# HELP \w+ .+$/.test(line))
			continue;
		m = /^(\w+)\{((?:\w+="(?:[^"\\]|\\.)*",?)*)\} (-?[0-9.e+-]+|\+Inf)$/.exec(line);
		assert.ok(m, `not a sample line: ${line}`);
		const labels = {};
		for (const [, k, v] of m[2].matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g))
			labels[k] = v;
		samples.push({ name: m[1], labels, value: Number(m[3]) });
	}
	for (const s of samples) {
		const base = s.name.replace(/_(bucket|sum|count)$/, '');
		assert.ok(types[s.name] || types[base], `sample ${s.name} without # TYPE`);
	}
	return { samples, types };
}

test('Server-Timing on every answer: errors, pages of JSON, a billed call', async () => {
	const u = await newUser({ prefix: 'st' });
	const bad = { method: 'POST', headers: { 'Content-Type': 'application/json', ...auth(u.token) },
	    body: JSON.stringify({ model: 'gpt-4o-mini' }) };
	for (const [path, opts, status] of [['/api/health', {}, 200], ['/completion', bad, 422],
	    ['/get_credit_balance', { headers: auth(u.token) }, 200], ['/get_credit_balance', {}, 401]]) {
		const r = await fetch(`${BASE}${path}`, opts);
		await r.text();
		assert.equal(r.status, status, path);
		assert.ok(r.headers.get('server-timing'), `${path} ${r.status}: no Server-Timing`);
		const t = serverTiming(r.headers.get('server-timing'));
		assert.ok(t.relais.dur >= 0 && t.relais.dur < 10000, `${path}: ${JSON.stringify(t)}`);
		assert.equal(t.upstream.dur, 0, path);
	}
	const r = await postJSON('/completion', { message: `Bonjour ${uniq()}`, model: 'gpt-4o-mini',
	    agent: 'V2' }, auth(u.token));
	assert.equal(r.status, 200, JSON.stringify(r.body));
	const t = serverTiming(r.headers.get('server-timing'));
	assert.ok(t.upstream.dur > 0, `the call took upstream time: ${JSON.stringify(t)}`);
	assert.ok(t.db.dur > 0 && t.calls >= 1, JSON.stringify(t));
	assert.ok(t.relais.dur + t.upstream.dur < 30000, JSON.stringify(t));
});

test('a warm /completion: one round trip to PostgreSQL before the upstream call (the reservation)', async () => {
	const u = await newUser({ prefix: 'st1' });
	const call = async (stream) => {
		const r = await fetch(`${BASE}/completion`, { method: 'POST',
		    headers: { 'Content-Type': 'application/json', ...auth(u.token) },
		    body: JSON.stringify({ message: `Compte ${uniq()}`, model: 'gpt-4o-mini', agent: 'V2', stream }) });
		await r.text();
		assert.equal(r.status, 200);
		return serverTiming(r.headers.get('server-timing'));
	};
	// The first call fills the cache (model, agent, settings, provider,
	// the user); later ones read it.  A notification from another suite
	// may empty a table's entries between two calls, so the best of a
	// few is taken; the uncached figure is recorded to show the cache
	// made the difference.
	const first = await call(false);
	const seen = [];
	for (let i = 0; i < 6; i++)
		seen.push((await call(i % 2 === 1)).before);
	assert.equal(Math.min(...seen), 1, `round trips before upstream: first ${first.before}, then ${seen}`);
	assert.ok(first.before >= Math.min(...seen));
	// The settlement is not before the answer: it is on the queue's thread.
	const m = await metricsText();
	const s = parseMetrics(m).samples;
	const hits = s.find((x) => x.name === 'relais_cache_hits_total');
	assert.ok(hits && hits.value > 0, 'the cache served reads');
	assert.equal(s.find((x) => x.name === 'relais_cache_listening').value, 1);
});

async function metricsText(path = '/metrics/chat') {
	const r = await fetch(`${BASE}${path}`, { headers: auth(await admin()) });
	const text = await r.text();
	assert.equal(r.status, 200, text);
	assert.match(r.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
	return text;
}

test('/metrics/<program>: Prometheus text, histograms per route, for every program', async () => {
	const u = await newUser({ prefix: 'mt' });
	const r0 = await postJSON('/completion', { message: `Mesure ${uniq()}`, model: 'gpt-4o-mini', agent: 'V2' },
	    auth(u.token));
	assert.equal(r0.status, 200);
	const { samples, types } = parseMetrics(await metricsText());
	for (const k of ['relais_request_relais_seconds', 'relais_request_upstream_seconds', 'relais_request_db_seconds'])
		assert.equal(types[k], 'histogram', k);
	const route = (x) => x.labels.route === '/completion' && x.labels.method === 'POST';
	const buckets = samples.filter((x) => x.name === 'relais_request_upstream_seconds_bucket' && route(x));
	assert.ok(buckets.length >= 2, 'buckets of POST /completion');
	for (let i = 1; i < buckets.length; i++)
		assert.ok(buckets[i].value >= buckets[i - 1].value, 'cumulative buckets');
	assert.equal(buckets.at(-1).labels.le, '+Inf');
	const count = samples.find((x) => x.name === 'relais_request_upstream_seconds_count' && route(x));
	assert.equal(count.value, buckets.at(-1).value);
	const sum = samples.find((x) => x.name === 'relais_request_upstream_seconds_sum' && route(x));
	assert.ok(sum.value > 0 && sum.value < count.value * 60, `upstream seconds ${sum.value} for ${count.value}`);
	const calls = samples.find((x) => x.name === 'relais_upstream_requests_total');
	const pre = samples.find((x) => x.name === 'relais_db_round_trips_before_upstream_total');
	assert.ok(calls.value >= 1 && pre.value >= calls.value, JSON.stringify({ calls, pre }));
	// Money writes by how they were written: the call above took a
	// hold, and its settlement lands on the queue's thread soon after.
	const hows = (list, name) => list.filter((x) => x.name === name)
	    .map((x) => x.labels.how).sort().join(',');
	const total = (list, name) => list.filter((x) => x.name === name)
	    .reduce((a, x) => a + x.value, 0);
	assert.equal(types.relais_credits_reservations_total, 'counter');
	assert.equal(hows(samples, 'relais_credits_reservations_total'), 'alone,group,spare');
	assert.ok(total(samples, 'relais_credits_reservations_total') >= 1, 'a hold counted');
	let settled = 0;
	for (let i = 0; i < 50 && settled === 0; i++) {
		const s = parseMetrics(await metricsText()).samples;
		assert.equal(hows(s, 'relais_credits_settlements_total'), 'group,inline,queue');
		settled = total(s, 'relais_credits_settlements_total');
		if (settled === 0)
			await new Promise((res) => setTimeout(res, 100));
	}
	assert.ok(settled >= 1, 'no settlement counted');
	// Every program answers its own.
	for (const p of ['settings', 'api', 'openai', 'import', 'tasks', 'plandecours', 'evaluation', 'generation'])
		assert.ok(parseMetrics(await metricsText(`/metrics/${p}`)).samples.length > 0, p);
});

test('/metrics refused to anyone but an admin through nginx', async () => {
	const u = await newUser({ prefix: 'mtr' });
	let r = await fetch(`${BASE}/metrics/chat`, { headers: auth(u.token) });
	assert.equal(r.status, 403, await r.text());
	r = await fetch(`${BASE}/metrics/chat`);
	assert.equal(r.status, 401, await r.text());
	// A role taken away counts from the next request (the cache hears it).
	const a = await newUser({ prefix: 'mta', role: 'admin' });
	r = await fetch(`${BASE}/metrics/chat`, { headers: auth(a.token) });
	assert.equal(r.status, 200);
	await r.text();
	const res = await postJSON(`/edit_user/${a.id}`, { role: 'professeur' }, auth(await admin()));
	assert.equal(res.status, 200, JSON.stringify(res.body));
	r = await fetch(`${BASE}/metrics/chat`, { headers: auth(a.token) });
	assert.equal(r.status, 403, 'the demoted admin is refused from the next request');
	assert.equal(psql(`SELECT role FROM users WHERE id = ${a.id}`), 'professeur');
});
