// The runtime through real nginx, using the echo test responder: route
// lookup, parameters, bodies and their limits, uploads, errors, auth flags,
// SSE and client-gone detection, CGI mode.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import { spawnSync } from 'node:child_process';
import { BASE, BUILD, STATE, TOP, getJSON, postJSON, raw, parseSSE, sleep } from './lib.mjs';

const uploadsLeft = () => fs.readdirSync(`${STATE}/tmp`).filter((f) => f.startsWith('relais-upload-'));

test('query string, cookies and headers reach the handler', async () => {
	const r = await getJSON('/_test/echo?a=1&b=deux+mots&c=%C3%A9t%C3%A9', {
		headers: { Cookie: 'session=abc; csrf_token="x y"', 'X-Test': 'yes' },
	});
	assert.equal(r.status, 200);
	assert.deepEqual(r.body.query, { a: '1', b: 'deux mots', c: 'été' });
	assert.deepEqual(r.body.cookies, { session: 'abc', csrf_token: 'x y' });
	assert.equal(r.body.x_test, 'yes');
	assert.match(r.body.id, /^[0-9a-f]{32}$/, 'nginx request id');
});

test('an answer of known length carries Content-Length: one piece, no chunks', async () => {
	// A JSON answer (é: the length counts bytes, not characters) and an
	// error; nginx passes the length on instead of re-framing in chunks.
	for (const [path, status] of [['/_test/echo?c=%C3%A9t%C3%A9', 200],
	    ['/_test/no-such-route', 404]]) {
		const r = await raw('GET', path, {});
		assert.equal(r.status, status, path);
		assert.equal(r.headers['transfer-encoding'], undefined, path);
		assert.equal(r.headers['content-length'],
		    String(Buffer.byteLength(r.text)), path);
		assert.ok(r.text.length > 0 && r.json !== null, path);
	}
	// A stream's length is not known: it stays without one.
	const s = await raw('GET', '/_test/sse?n=1&ms=1', {});
	assert.equal(s.headers['content-length'], undefined);
});

test('JSON body parsed; duplicate keys, bad JSON and deep nesting refused', async () => {
	let r = await postJSON('/_test/json', { message: 'Bonjour', n: [1, { a: null }] });
	assert.equal(r.status, 200);
	assert.deepEqual(r.body.json, { message: 'Bonjour', n: [1, { a: null }] });
	r = await postJSON('/_test/json', '{"role":"invite","role":"admin"}');
	assert.equal(r.status, 400);
	assert.equal(r.body.error.code, 'invalid_json');
	assert.match(r.body.error.message, /duplicate/);
	r = await postJSON('/_test/json', '{"a": [1, 2');
	assert.equal(r.status, 400);
	assert.equal(r.body.error.code, 'invalid_json');
	r = await postJSON('/_test/json', '['.repeat(10000) + ']'.repeat(10000));
	assert.equal(r.status, 400);
	assert.match(r.body.error.message, /deeper than 64/);
});

test('a route with a schema: FastAPI 422, lax coercion, validated value for the handler', async () => {
	let r = await postJSON('/_test/validated', { compatibility_percentage: '85.5',
	    recommendation_ameliore: 'Ajouter des exemples', recommendation_plan_cadre: null });
	assert.equal(r.status, 200);
	assert.deepEqual(r.body.json, { compatibility_percentage: 85.5,
	    recommendation_ameliore: 'Ajouter des exemples', recommendation_plan_cadre: null },
	    'the handler sees the coerced value');
	r = await postJSON('/_test/validated', { compatibility_percentage: 'beaucoup',
	    recommendation_ameliore: 3, extra: 1 });
	assert.equal(r.status, 422);
	assert.ok(Array.isArray(r.body.detail));
	const byLoc = Object.fromEntries(r.body.detail.map((d) => [d.loc.join('.'), d.type]));
	assert.equal(byLoc['body.extra'], 'extra_forbidden');
	assert.equal(byLoc['body.recommendation_plan_cadre'], 'missing');
	assert.ok(r.body.detail.every((d) => d.loc[0] === 'body' && typeof d.msg === 'string'));
	assert.ok(!('url' in r.body.detail[0]), 'FastAPI sends no url');
	r = await postJSON('/_test/validated', '{"compatibility_percentage": 1,');
	assert.equal(r.status, 422);
	assert.equal(r.body.detail[0].type, 'json_invalid');
	assert.deepEqual(r.body.detail[0].loc, ['body', 31]);
	r = await postJSON('/_test/validated', '');
	assert.equal(r.status, 422, 'no body at all fails the schema too');
});

test('a body over the route limit is 413 before it is read', async () => {
	const r = await postJSON('/_test/small', { s: 'x'.repeat(2000) });
	assert.equal(r.status, 413);
	assert.equal(r.body.error.code, 'payload_too_large');
	assert.match(r.body.error.message, /1024 byte limit/);
});

test('a route open to uploads still caps a JSON or form body at RL_BODY_MAX', async () => {
	// /_test/echo takes JSON, forms and multipart: 2 MiB of JSON is refused
	// (1 MiB limit) where 2 MiB of multipart would be an upload.
	const big = JSON.stringify({ s: 'x'.repeat(2 * 1024 * 1024) });
	let r = await raw('POST', '/_test/echo', { 'Content-Type': 'application/json' }, big);
	assert.equal(r.status, 413, r.text.slice(0, 200));
	assert.match(r.json.error.message, /1048576 byte limit/);
	r = await raw('POST', '/_test/echo', { 'Content-Type': 'application/x-www-form-urlencoded' },
	    `s=${'x'.repeat(2 * 1024 * 1024)}`);
	assert.equal(r.status, 413);
	const fd = new FormData();
	fd.append('f', new Blob(['x'.repeat(2 * 1024 * 1024)]), 'big.txt');
	const m = await fetch(`${BASE}/_test/echo`, { method: 'POST', body: fd });
	assert.equal(m.status, 200, 'the same size as an upload is accepted');
});

test('a body over the nginx limit is 413 with the same error shape', async () => {
	// One MiB past RL_NGINX_BODY_MAX_MB (nginx/relais.conf's
	// client_max_body_size, generated from lib/bounds.h).
	const mb = Number(/^#define RL_NGINX_BODY_MAX_MB\s+(\d+)/m.exec(
	    fs.readFileSync(`${TOP}/lib/bounds.h`, 'utf8'))[1]);
	assert.ok(mb >= 20, `RL_NGINX_BODY_MAX_MB ${mb}`);
	const r = await raw('POST', '/_test/json', { 'Content-Type': 'application/json',
	    'Content-Length': String((mb + 1) * 1024 * 1024) }, '');
	assert.equal(r.status, 413);
	assert.equal(r.json.error.code, 'payload_too_large');
});

test('wrong Content-Type is 415 and says what is accepted', async () => {
	const r = await getJSON('/_test/json', { method: 'POST',
	    headers: { 'Content-Type': 'text/plain' }, body: 'hello' });
	assert.equal(r.status, 415);
	assert.equal(r.body.error.code, 'unsupported_media_type');
	assert.match(r.body.error.message, /application\/json/);
});

test('a form value that is not UTF-8 is 400 invalid_form', async () => {
	const r = await getJSON('/_test/echo?name=%FF%FE');
	assert.equal(r.status, 400);
	assert.equal(r.body.error.code, 'invalid_form');
	assert.match(r.body.error.message, /UTF-8/);
});

test('urlencoded form', async () => {
	const r = await getJSON('/_test/echo', { method: 'POST',
	    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
	    body: 'username=admin%40demo.relais&password=a+b&next=%2F' });
	assert.equal(r.status, 200);
	assert.deepEqual(r.body.form, { username: 'admin@demo.relais', password: 'a b', next: '/' });
});

test('multipart upload streamed to a temporary file that is removed afterwards', async () => {
	const fd = new FormData();
	fd.append('cours_id', '12');
	fd.append('session', 'A25');
	const bytes = Buffer.alloc(50000, 0x41);
	bytes.write('\r\n--not-the-boundary\r\n', 1000);
	fd.append('file', new Blob([bytes], { type: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document' }), '../../etc/plan.docx');
	const r = await getJSON('/_test/upload', { method: 'POST', body: fd });
	assert.equal(r.status, 200);
	assert.deepEqual(r.body.form, { cours_id: '12', session: 'A25' });
	assert.equal(r.body.uploads.length, 1);
	assert.equal(r.body.uploads[0].field, 'file');
	assert.equal(r.body.uploads[0].filename, 'plan.docx', 'directory part stripped');
	assert.equal(r.body.uploads[0].size, 50000);
	assert.deepEqual(uploadsLeft(), []);
});

test('an upload over the route limit is 413 and leaves no file behind', async () => {
	const fd = new FormData();
	fd.append('file', new Blob([Buffer.alloc(70 * 1024)]), 'big.pdf');
	const r = await getJSON('/_test/upload', { method: 'POST', body: fd });
	assert.equal(r.status, 413);
	assert.equal(r.body.error.code, 'payload_too_large');
	assert.deepEqual(uploadsLeft(), []);
});

test('truncated multipart is 400 invalid_form', async () => {
	const body = '--XyZ\r\nContent-Disposition: form-data; name="a"\r\n\r\nvalue';
	const r = await raw('POST', '/_test/upload', {
	    'Content-Type': 'multipart/form-data; boundary=XyZ',
	    'Content-Length': String(body.length) }, body);
	assert.equal(r.status, 400);
	assert.equal(r.json.error.code, 'invalid_form');
});

test('path parameters: int, path; mismatches are 404', async () => {
	let r = await getJSON('/_test/item/42');
	assert.deepEqual(r.body, { id: 42 });
	r = await getJSON('/_test/item/4x');
	assert.equal(r.status, 404);
	assert.equal(r.body.error.code, 'not_found');
	r = await getJSON('/_test/files/a/b/c.txt');
	assert.deepEqual(r.body.params, { rest: 'a/b/c.txt' });
});

test('wrong method is 405', async () => {
	const r = await getJSON('/_test/item/1', { method: 'DELETE' });
	assert.equal(r.status, 405);
	assert.equal(r.body.error.code, 'method_not_allowed');
});

test('every error token maps to its status in one place', async () => {
	const want = {
		bad_request: 400, invalid_json: 400, invalid_form: 400, unauthorized: 401,
		forbidden: 403, csrf_failed: 403, not_found: 404, method_not_allowed: 405, conflict: 409,
		payload_too_large: 413, unsupported_media_type: 415, validation_error: 422,
		rate_limited: 429, insufficient_credits: 402, no_api_key: 400, db_unavailable: 503,
		db_error: 500, upstream_error: 502, timeout: 504, unavailable: 503,
		io_error: 500, internal_error: 500, out_of_memory: 500,
	};
	// Our own faults say only their kind; the detail is in the log.
	const generic = {
		db_unavailable: 'database unavailable', db_error: 'database error',
		io_error: 'input/output error', internal_error: 'internal error',
		out_of_memory: 'out of memory',
	};
	for (const [code, status] of Object.entries(want)) {
		const r = await getJSON(`/_test/error/${code}`);
		assert.equal(r.status, status, code);
		assert.equal(r.body.error.code, code);
		assert.equal(r.body.error.message, generic[code] ?? `asked for ${code}`);
		assert.match(r.headers.get('x-request-id'), /^[0-9a-f]+$/);
	}
});

test('an EDxo route keeps EDxo\'s error bodies and statuses', async () => {
	let r = await postJSON('/_test/edxo', { compatibility_percentage: 'beaucoup',
	    recommendation_ameliore: null, recommendation_plan_cadre: null });
	assert.equal(r.status, 400, 'Flask answers a bad body with 400, not 422');
	assert.equal(typeof r.body.error, 'string', 'the page reads data.error as the message');
	assert.match(r.body.error, /^compatibility_percentage : .*number/,
	    'the message names the field');
	assert.equal(r.body.code, 'validation_error');
	assert.equal(r.body.field, 'compatibility_percentage');
	assert.ok(!('detail' in r.body));
	r = await postJSON('/_test/edxo', { compatibility_percentage: 12,
	    recommendation_ameliore: null, recommendation_plan_cadre: null });
	assert.equal(r.status, 200, 'a valid body still reaches the handler');
	r = await getJSON('/_test/edxo/error/insufficient_credits');
	assert.equal(r.status, 403, 'EDxo has no 402: credits are refused with 403');
	assert.deepEqual(r.body, { error: 'asked for insufficient_credits',
	    code: 'insufficient_credits' });
	r = await getJSON('/_test/edxo/error/not_found');
	assert.equal(r.status, 404);
	assert.equal(r.body.error, 'asked for not_found');
});

test('a handler that answers nothing becomes a 500, not a hang', async () => {
	const r = await getJSON('/_test/noanswer');
	assert.equal(r.status, 500);
	assert.equal(r.body.error.code, 'internal_error');
});

test('a transaction a handler leaves open is rolled back at the end of the request', async () => {
	for (let i = 0; i < 3; i++) {
		const r = await getJSON('/_test/db/forget');
		assert.equal(r.status, 200);
	}
	const c = await getJSON('/_test/db/check');
	assert.equal(c.status, 200);
	assert.equal(c.body.free, true, 'the advisory lock of an abandoned transaction is still held');
	const log = fs.readFileSync(`${STATE}/log/echo.log`, 'utf8');
	assert.match(log, /request ended inside a transaction: rolled back/);
});

test('AUTH and ADMIN routes refuse anonymous requests with 401 + WWW-Authenticate', async () => {
	for (const p of ['/_test/private', '/_test/admin']) {
		const r = await getJSON(p);
		assert.equal(r.status, 401);
		assert.equal(r.body.error.code, 'unauthorized');
		assert.equal(r.headers.get('www-authenticate'), 'Bearer');
	}
});

test('SSE: headers, event/id fields, multi-line data, frames in order', async () => {
	const r = await fetch(BASE + '/_test/sse?n=5&ms=5');
	assert.equal(r.status, 200);
	assert.match(r.headers.get('content-type'), /^text\/event-stream/);
	assert.equal(r.headers.get('cache-control'), 'no-cache');
	const frames = parseSSE(await r.text()).filter((f) => f.comments.length === 0);
	assert.equal(frames.length, 6);
	assert.equal(frames[0].event, 'open');
	assert.deepEqual(frames.slice(0, 5).map((f) => f.id), ['1', '2', '3', '4', '5']);
	assert.deepEqual(JSON.parse(frames[4].data), { type: 'content', content: 'chunk 5' });
	assert.equal(frames[5].event, 'done');
	assert.equal(frames[5].data, '{"type":"done"}\nsecond line');
});

test('SSE: frames arrive as they are sent, not buffered to the end', async () => {
	const t0 = Date.now();
	const r = await fetch(BASE + '/_test/sse?n=4&ms=400');
	const reader = r.body.getReader();
	const { value } = await reader.read();
	const first = Date.now() - t0;
	assert.match(new TextDecoder().decode(value), /chunk 1/);
	assert.ok(first < 1000, `first frame after ${first} ms`);
	await reader.cancel();
});

test('SSE: heartbeat comments on an idle stream', async () => {
	// echo runs with RELAIS_SSE_HEARTBEAT_SEC=1; frames are 2.5 s apart.
	const r = await fetch(BASE + '/_test/sse?n=2&ms=2500');
	const frames = parseSSE(await r.text());
	assert.ok(frames.some((f) => f.comments.includes('ping')), 'no heartbeat seen');
});

test('SSE: a client that goes away is detected and the handler stops', async () => {
	const mark = `gone${process.pid}`;
	const file = `${STATE}/tmp/relais-echo-gone-${mark}`;
	await new Promise((resolve, reject) => {
		const u = new URL(BASE + `/_test/sse?n=200&ms=50&mark=${mark}`);
		const req = http.get({ host: u.hostname, port: u.port, path: u.pathname + u.search }, (res) => {
			res.once('data', () => { req.destroy(); resolve(); });
		});
		req.on('error', () => {});
		setTimeout(() => reject(new Error('no first frame')), 5000);
	});
	let seen = false;
	for (let i = 0; i < 50 && !seen; i++) {
		await sleep(100);
		seen = fs.existsSync(file);
	}
	assert.ok(seen, 'handler did not notice the client left');
	const at = Number(fs.readFileSync(file, 'utf8'));
	assert.ok(at < 100, `stopped at frame ${at} of 200`);
	fs.unlinkSync(file);
});

test('SSE: 300 concurrent streams all complete', async () => {
	const one = async () => {
		const r = await fetch(BASE + '/_test/sse?n=3&ms=200');
		const frames = parseSSE(await r.text()).filter((f) => f.comments.length === 0);
		return frames.length;
	};
	const counts = await Promise.all(Array.from({ length: 300 }, one));
	assert.deepEqual([...new Set(counts)], [4]);
});

// Only RL_ACCEPTORS threads wait in accept(2), the other idle ones on a
// stack (fcgi.md): each connection taken calls one of them in.  200
// streams opened together must all be served at once, every first frame
// (sent as a stream opens) before any stream ends (3 s later), not a few
// at a time behind two acceptors.
test('SSE: 200 streams opened together are all served at once', async () => {
	const u = new URL(BASE + '/_test/sse?n=2&ms=1500');
	const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
	const one = () => new Promise((resolve, reject) => {
		let first = null;
		const req = http.get({ host: u.hostname, port: u.port, path: u.pathname + u.search,
		    agent }, (res) => {
			res.on('data', () => { first ??= Date.now(); });
			res.on('end', () => resolve({ status: res.statusCode, first, end: Date.now() }));
		});
		req.on('error', reject);
	});
	const r = await Promise.all(Array.from({ length: 200 }, one));
	assert.deepEqual([...new Set(r.map((x) => x.status))], [200]);
	const lastFirst = Math.max(...r.map((x) => x.first));
	const firstEnd = Math.min(...r.map((x) => x.end));
	assert.ok(lastFirst < firstEnd, `a stream opened ${lastFirst - firstEnd} ms after another ended`);
	agent.destroy();
});

test('the same binary answers as plain CGI', () => {
	const body = '{"x":1}';
	const r = spawnSync(`${BUILD}/tests/echo/echo`, [], {
		input: body, encoding: 'utf8',
		env: { ...process.env, GATEWAY_INTERFACE: 'CGI/1.1', REQUEST_METHOD: 'POST',
		    DOCUMENT_URI: '/_test/json', QUERY_STRING: 'q=1',
		    CONTENT_TYPE: 'application/json', CONTENT_LENGTH: String(body.length) },
	});
	assert.equal(r.status, 0, r.stderr);
	// The suite's environment has RELAIS_CHECK_RESPONSES=1: the verdict
	// header comes too.
	// Server-Timing (relais' own time) is sent in CGI too.
	const m = r.stdout.match(/^Status: 200 OK\r\nContent-Type: application\/json\r\nServer-Timing: relais;dur=[0-9.]+, [^\r]*\r\nContent-Length: ([0-9]+)\r\n(X-Relais-Response-Check: valid\r\n)?X-Request-Id: [0-9a-f]+\r\n\r\n/);
	assert.ok(m, r.stdout);
	const text = r.stdout.split('\r\n\r\n')[1];
	assert.equal(Number(m[1]), Buffer.byteLength(text), 'Content-Length');
	const json = JSON.parse(text);
	assert.deepEqual(json.json, { x: 1 });
	assert.deepEqual(json.query, { q: '1' });
});
