// The upstream client (lib/openai.c) against the fake upstream, through
// tests/oaprobe/oaprobe: one call per run, one JSON line out.  One test per
// call type the issue names, then each fault the fake can inject.  Expected
// texts and token counts are the ones docs/internals/fake-openai.md
// documents.
import test from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { BUILD, TOP } from './lib.mjs';

const UPSTREAM = process.env.FAKE_OPENAI_BASE_URL;
if (!UPSTREAM)
	throw new Error('FAKE_OPENAI_BASE_URL is not set: run through scripts/test');
const PROBE = path.join(BUILD, 'tests/oaprobe/oaprobe');
const bound = (name) => {
	const m = fs.readFileSync(path.join(TOP, 'lib/bounds.h'), 'utf8')
	    .match(new RegExp(`#define ${name}\\s+(\\d+)`));
	assert.ok(m, `${name} in lib/bounds.h`);
	return Number(m[1]);
};
const MAX_ATTEMPTS = bound('RL_OA_MAX_ATTEMPTS');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'oaprobe-'));
test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));

// Run oaprobe; resolves { out: parsed line, code, signal, ms }.
function probe(args, { base = UPSTREAM } = {}) {
	return new Promise((resolve, reject) => {
		const t0 = Date.now();
		const p = spawn(PROBE, ['--base', base, ...args]);
		let stdout = '';
		let stderr = '';
		p.stdout.on('data', (d) => { stdout += d; });
		p.stderr.on('data', (d) => { stderr += d; });
		p.on('error', reject);
		p.on('close', (code, signal) => {
			if (/Sanitizer|runtime error:/.test(stderr)) {
				reject(new Error(`oaprobe ${args.join(' ')}: ${stderr}`));
				return;
			}
			const lines = stdout.split('\n').filter((l) => l !== '');
			if (lines.length !== 1) {
				reject(new Error(`oaprobe printed ${lines.length} lines ` +
				    `(exit ${code}, signal ${signal}): ${stdout}${stderr}`));
				return;
			}
			resolve({ out: JSON.parse(lines[0]), code, signal, ms: Date.now() - t0 });
		});
	});
}

const call = async (args) => (await probe(args)).out;
const body = (v) => ['--body', JSON.stringify(v)];
const hdr = (...hs) => hs.flatMap((h) => ['--header', h]);
const key = () => `oaprobe-${crypto.randomBytes(6).toString('hex')}`;

// What the fake says and counts (docs/internals/fake-openai.md).
const sentence = (model) => `Bonjour! Ceci est une réponse simulée de ${model}.`;
const REASONING = 'Je réfléchis à la question avant de répondre.';
const COUNTED = new Set(['content', 'text', 'output', 'arguments', 'input', 'instructions']);
function codepoints(v, counted) {
	if (typeof v === 'string')
		return counted ? [...v].length : 0;
	if (Array.isArray(v))
		return v.reduce((n, c) => n + codepoints(c, counted), 0);
	if (v !== null && typeof v === 'object')
		return Object.entries(v).reduce((n, [k, c]) => n + codepoints(c, COUNTED.has(k)), 0);
	return 0;
}
const tokens = (v) => Math.ceil(codepoints(v, false) / 4);
const chatIn = (b) => tokens(b.messages);
const respIn = (b) => tokens({ instructions: b.instructions, input: b.input });

function assertOk(o) {
	assert.equal(o.rc, 'ok', JSON.stringify({ ...o, answer: undefined }));
	assert.equal(o.status, 200);
	assert.match(o.request_id, /^req_/);
}

const messageText = (answer) => answer.output.filter((i) => i.type === 'message')
    .flatMap((i) => i.content).map((c) => c.text).join('');

test('responses create', async () => {
	const b = { model: 'gpt-4.1', input: 'Quelle est la capitale du Québec?', instructions: 'Réponds brièvement.', store: true };
	const o = await call(['--path', '/responses', ...body(b)]);
	assertOk(o);
	assert.equal(o.attempts, 1);
	assert.match(o.response_id, /^resp_/);
	assert.equal(o.answer.id, o.response_id);
	assert.equal(o.finish, 'completed');
	assert.equal(messageText(o.answer), sentence('gpt-4.1'));
	assert.deepEqual(o.usage, { input_tokens: respIn(b), cached_tokens: 0, output_tokens: 8, reasoning_tokens: 0, reported: 1 });
	assert.equal(o.started, 0);
	assert.equal(o.raw, null);
});

test('responses stream: reasoning summary and a strict json_schema', async () => {
	const schema = {
		type: 'object',
		properties: { titre: { type: 'string' }, heures: { type: 'integer', minimum: 3 } },
		required: ['titre', 'heures'],
		additionalProperties: false,
	};
	const b = {
		model: 'o3',
		input: [{ role: 'user', content: [{ type: 'input_text', text: 'Propose un cours.' }] }],
		reasoning: { effort: 'low', summary: 'auto' },
		text: { format: { type: 'json_schema', name: 'cours', schema, strict: true }, verbosity: 'low' },
		store: false,
	};
	const o = await call(['--path', '/responses', '--stream', ...body(b)]);
	assertOk(o);
	assert.equal(o.started, 1);
	assert.equal(o.stopped, 0);
	assert.equal(o.events.reasoning, 8);
	assert.equal(o.reasoning, REASONING);
	const v = JSON.parse(o.text);
	assert.deepEqual(Object.keys(v).sort(), ['heures', 'titre']);
	assert.equal(typeof v.titre, 'string');
	assert.ok(Number.isInteger(v.heures) && v.heures >= 3);
	assert.equal(o.events.item_done, 2, 'reasoning item and message item');
	assert.equal(o.events.done, 1);
	assert.equal(o.events.error, 0);
	assert.equal(o.finish, 'completed');
	// The answer is the final response object, echoing what was asked.
	assert.equal(o.answer.object, 'response');
	assert.equal(o.answer.id, o.response_id);
	assert.equal(o.answer.store, false);
	assert.equal(o.answer.text.format.type, 'json_schema');
	assert.equal(o.answer.text.verbosity, 'low');
	assert.deepEqual(o.answer.reasoning, { effort: 'low', summary: 'auto' });
	assert.equal(messageText(o.answer), o.text);
	// One token per delta plus 8 reasoning tokens, as reported.
	assert.equal(o.usage.reported, 1);
	assert.equal(o.usage.input_tokens, respIn(b));
	assert.equal(o.usage.reasoning_tokens, 8);
	assert.equal(o.usage.output_tokens, o.events.text + 8);
	assert.ok(o.ttft_ms <= o.latency_ms);
});

test('responses with previous_response_id', async () => {
	const first = { model: 'gpt-4o', input: 'Premier message.', store: true };
	const a = await call(['--path', '/responses', ...body(first)]);
	assertOk(a);
	const total = a.answer.usage.total_tokens;
	assert.equal(total, a.usage.input_tokens + a.usage.output_tokens);
	const second = { model: 'gpt-4o', input: 'Et ensuite?', previous_response_id: a.response_id };
	const b = await call(['--path', '/responses', ...body(second)]);
	assertOk(b);
	assert.equal(b.answer.previous_response_id, a.response_id);
	assert.notEqual(b.response_id, a.response_id);
	assert.equal(b.usage.input_tokens, respIn(second) + total);
	// The stored response reads back with a GET, and deletes.
	const g = await call(['--path', `/responses/${a.response_id}`]);
	assertOk(g);
	assert.equal(g.answer.id, a.response_id);
	assert.equal(g.finish, 'completed');
	const d = await call(['--path', `/responses/${a.response_id}`, '--method', 'DELETE']);
	assertOk(d);
	assert.equal(d.answer.deleted, true);
});

test('chat create, cached tokens reported', async () => {
	const b = { model: 'gpt-4o-mini', messages: [{ role: 'system', content: 'Tu es bref.' }, { role: 'user', content: 'Bonjour à toi' }] };
	const o = await call(['--path', '/chat/completions', ...body(b), ...hdr('X-Fake-Cached-Tokens: 2')]);
	assertOk(o);
	assert.match(o.response_id, /^chatcmpl-/);
	assert.equal(o.finish, 'stop');
	assert.equal(o.answer.choices[0].message.content, sentence('gpt-4o-mini'));
	assert.deepEqual(o.usage, { input_tokens: chatIn(b), cached_tokens: 2, output_tokens: 8, reasoning_tokens: 0, reported: 1 });
});

test('chat create with a reasoning model: 8 reasoning tokens', async () => {
	const b = { model: 'o4-mini', messages: [{ role: 'user', content: 'Réfléchis.' }], reasoning_effort: 'low' };
	const o = await call(['--path', '/chat/completions', ...body(b)]);
	assertOk(o);
	assert.equal(o.usage.reasoning_tokens, 8);
	assert.equal(o.usage.output_tokens, 16);
	assert.equal(o.answer.usage.completion_tokens_details.reasoning_tokens, 8);
});

test('chat stream with usage', async () => {
	const b = { model: 'gpt-4o', messages: [{ role: 'user', content: 'Dis bonjour.' }] };
	const o = await call(['--path', '/chat/completions', '--stream', ...body(b)]);
	assertOk(o);
	assert.equal(o.text, sentence('gpt-4o'));
	assert.equal(o.events.text, 8);
	assert.equal(o.events.done, 1);
	assert.equal(o.finish, 'stop');
	assert.match(o.response_id, /^chatcmpl-/);
	// The last chunk, which carries the usage the client asked for.
	assert.equal(o.answer.object, 'chat.completion.chunk');
	assert.deepEqual(o.answer.choices, []);
	assert.deepEqual(o.usage, { input_tokens: chatIn(b), cached_tokens: 0, output_tokens: 8, reasoning_tokens: 0, reported: 1 });
});

test('chat n=2, created and streamed', async () => {
	const b = { model: 'gpt-4o', n: 2, messages: [{ role: 'user', content: 'Deux fois.' }] };
	const o = await call(['--path', '/chat/completions', ...body(b)]);
	assertOk(o);
	assert.equal(o.answer.choices.length, 2);
	for (const c of o.answer.choices)
		assert.equal(c.message.content, sentence('gpt-4o'));
	assert.equal(o.usage.output_tokens, 16);
	const s = await call(['--path', '/chat/completions', '--stream', ...body(b)]);
	assertOk(s);
	assert.equal(s.events.text, 16);
	assert.equal(s.usage.output_tokens, 16);
	assert.equal(s.usage.reported, 1);
});

const meteo = {
	name: 'meteo',
	description: 'La météo d\'une ville',
	parameters: { type: 'object', properties: { ville: { type: 'string' } }, required: ['ville'], additionalProperties: false },
	strict: true,
};

test('tools: chat and responses stream the tool arguments', async () => {
	const cb = { model: 'gpt-4o', messages: [{ role: 'user', content: 'Météo à Québec?' }], tools: [{ type: 'function', function: meteo }] };
	const c = await call(['--path', '/chat/completions', '--stream', ...body(cb)]);
	assertOk(c);
	assert.ok(c.events.tool_args > 0);
	assert.equal(c.events.text, 0);
	assert.equal(typeof JSON.parse(c.args).ville, 'string');
	assert.equal(c.finish, 'tool_calls');
	assert.equal(c.usage.output_tokens, c.events.tool_args);

	const rb = { model: 'gpt-4.1', input: 'Météo à Québec?', tools: [{ type: 'function', ...meteo }] };
	const r = await call(['--path', '/responses', '--stream', ...body(rb)]);
	assertOk(r);
	assert.ok(r.events.tool_args > 0);
	assert.equal(typeof JSON.parse(r.args).ville, 'string');
	assert.equal(r.events.item_done, 1);
	const fc = r.answer.output.find((i) => i.type === 'function_call');
	assert.equal(fc.name, 'meteo');
	assert.equal(fc.arguments, r.args);
	assert.equal(r.usage.output_tokens, r.events.tool_args);
});

test('files: upload, get, content, delete', async () => {
	const file = path.join(tmp, 'notes.jsonl');
	const bytes = '{"ligne":1,"texte":"é"}\n{"ligne":2}\n';
	fs.writeFileSync(file, bytes);
	const up = await call(['--path', '/files', '--upload', file, '--form', 'purpose=user_data']);
	assertOk(up);
	assert.match(up.response_id, /^file-/);
	assert.equal(up.answer.filename, 'notes.jsonl');
	assert.equal(up.answer.purpose, 'user_data');
	assert.equal(up.answer.bytes, Buffer.byteLength(bytes));
	const id = up.response_id;
	const g = await call(['--path', `/files/${id}`]);
	assertOk(g);
	assert.equal(g.answer.id, id);
	const named = await call(['--path', '/files', '--upload', file, '--upload-name', 'autre.jsonl', '--form', 'purpose=user_data']);
	assertOk(named);
	assert.equal(named.answer.filename, 'autre.jsonl');
	const content = await call(['--path', `/files/${id}/content`]);
	assertOk(content);
	assert.equal(content.answer, null);
	assert.equal(content.raw, bytes);
	assert.equal(content.raw_len, Buffer.byteLength(bytes));
	const d = await call(['--path', `/files/${id}`, '--method', 'DELETE']);
	assertOk(d);
	assert.deepEqual(d.answer, { id, object: 'file', deleted: true });
	const gone = await call(['--path', `/files/${id}`]);
	assert.equal(gone.rc, 'upstream_error');
	assert.equal(gone.status, 404);
	assert.equal(gone.attempts, 1);
	assert.ok(gone.answer.error.message);
	assert.equal(gone.error, gone.answer.error.message);
});

test('batches: create, get, list, cancel, download the output', async () => {
	const lines = ['Un', 'Deux'].map((w, i) => JSON.stringify({
		custom_id: `req-${i}`, method: 'POST', url: '/v1/chat/completions',
		body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: w }] },
	}));
	const file = path.join(tmp, 'batch.jsonl');
	fs.writeFileSync(file, lines.join('\n') + '\n');
	const up = await call(['--path', '/files', '--upload', file, '--form', 'purpose=batch']);
	assertOk(up);
	const req = { input_file_id: up.response_id, endpoint: '/v1/chat/completions', completion_window: '24h' };

	const b = await call(['--path', '/batches', ...body(req), ...hdr('X-Fake-Batch-Step-Ms: 0')]);
	assertOk(b);
	assert.match(b.response_id, /^batch_/);
	const g = await call(['--path', `/batches/${b.response_id}`]);
	assertOk(g);
	assert.equal(g.answer.status, 'completed');
	assert.deepEqual(g.answer.request_counts, { total: 2, completed: 2, failed: 0 });
	const out = await call(['--path', `/files/${g.answer.output_file_id}/content`]);
	assertOk(out);
	const results = out.raw.trim().split('\n').map((l) => JSON.parse(l));
	assert.deepEqual(results.map((r) => r.custom_id), ['req-0', 'req-1']);
	for (const r of results) {
		assert.equal(r.response.status_code, 200);
		assert.equal(r.response.body.choices[0].message.content, sentence('gpt-4o-mini'));
	}

	const slow = await call(['--path', '/batches', ...body(req), ...hdr('X-Fake-Batch-Step-Ms: 60000')]);
	assertOk(slow);
	const list = await call(['--path', '/batches?limit=100']);
	assertOk(list);
	assert.equal(list.answer.object, 'list');
	const ids = list.answer.data.map((x) => x.id);
	assert.ok(ids.includes(b.response_id) && ids.includes(slow.response_id));
	// A cancel is a POST without a body.
	const c = await call(['--path', `/batches/${slow.response_id}/cancel`, '--method', 'POST']);
	assertOk(c);
	assert.equal(c.answer.status, 'cancelling');
	const again = await call(['--path', `/batches/${b.response_id}/cancel`, '--method', 'POST']);
	assert.equal(again.rc, 'upstream_error');
	assert.equal(again.status, 409);
});

test('audio transcription: JSON and plain text answers', async () => {
	const file = path.join(tmp, 'voix.mp3');
	fs.writeFileSync(file, crypto.randomBytes(3000));
	const j = await call(['--path', '/audio/transcriptions', '--upload', file, '--form', 'model=gpt-4o-transcribe']);
	assertOk(j);
	assert.match(j.answer.text, /^Bonjour! Ceci est une transcription simulée de voix\.mp3 \(3000 octets\)\.$/);
	assert.equal(j.raw, null);
	const t = await call(['--path', '/audio/transcriptions', '--upload', file, '--form', 'model=whisper-1', '--form', 'response_format=text']);
	assertOk(t);
	assert.equal(t.answer, null);
	assert.equal(t.raw.trim(), j.answer.text);
});

// Faults.

const small = { model: 'gpt-4o', input: 'Bonjour' };

test('fault 429 once, Retry-After 1: succeeds on attempt 2 after the wait', async () => {
	const o = await call(['--path', '/responses', ...body(small), ...hdr('X-Fake-Fault: 429',
	    'X-Fake-Fault-Count: 1', `X-Fake-Fault-Key: ${key()}`, 'X-Fake-Retry-After: 1')]);
	assertOk(o);
	assert.equal(o.attempts, 2);
	assert.ok(o.latency_ms >= 1000, `latency ${o.latency_ms} ms`);
	assert.equal(o.usage.reported, 1);
});

for (const code of ['500', '503']) {
	test(`fault ${code} once: retried, succeeds`, async () => {
		const o = await call(['--path', '/chat/completions', ...body({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] }),
		    ...hdr(`X-Fake-Fault: ${code}`, 'X-Fake-Fault-Count: 1', `X-Fake-Fault-Key: ${key()}`)]);
		assertOk(o);
		assert.equal(o.attempts, 2);
	});
}

test('fault 500 every time: fails after RL_OA_MAX_ATTEMPTS attempts', async () => {
	const o = await call(['--path', '/responses', ...body(small), ...hdr('X-Fake-Fault: 500')]);
	assert.equal(o.rc, 'upstream_error');
	assert.equal(o.status, 500);
	assert.equal(o.attempts, MAX_ATTEMPTS);
	assert.equal(o.answer.error.type, 'server_error');
	assert.equal(o.error, o.answer.error.message);
	assert.equal(o.usage.reported, 0);
	assert.equal(o.usage.output_tokens, 0);
});

test('fault 429 every time: unavailable after the retries', async () => {
	const o = await call(['--path', '/responses', ...body(small), ...hdr('X-Fake-Fault: 429', 'X-Fake-Retry-After: 0'),
	    '--attempts', '2']);
	assert.equal(o.rc, 'unavailable');
	assert.equal(o.status, 429);
	assert.equal(o.attempts, 2);
	assert.equal(o.answer.error.code, 'rate_limit_exceeded');
});

test('fault timeout: idle and total limits end the call', async () => {
	const idle = await probe(['--path', '/responses', ...body(small), ...hdr('X-Fake-Fault: timeout'), '--idle-ms', '300']);
	assert.equal(idle.out.rc, 'timeout');
	assert.equal(idle.out.attempts, 1, 'a timeout is not retried');
	assert.equal(idle.out.status, 0);
	// The fake holds the request for 300 s; the client gave up long before.
	assert.ok(idle.ms < 30000, `took ${idle.ms} ms`);
	const total = await probe(['--path', '/chat/completions', '--stream',
	    ...body({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] }),
	    ...hdr('X-Fake-Fault: timeout'), '--total-ms', '500']);
	assert.equal(total.out.rc, 'timeout');
	// It waited for the limit (curl's clock starts a little after ours).
	assert.ok(total.out.latency_ms >= 400, `latency ${total.out.latency_ms}`);
	assert.ok(total.ms < 30000, `took ${total.ms} ms`);
	assert.equal(total.out.started, 0);
});

test('fault timeout after the stream started: usage counted', async () => {
	// The first deltas come, then a 60 s gap the idle limit cuts.
	const o = await call(['--path', '/responses', '--stream', ...body(small),
	    ...hdr('X-Fake-Chunk-Ms: 60000'), '--idle-ms', '300']);
	assert.equal(o.rc, 'timeout');
	assert.equal(o.started, 1);
	assert.equal(o.events.text, 1);
	assert.deepEqual(o.usage, { input_tokens: respIn(small), cached_tokens: 0, output_tokens: 1, reasoning_tokens: 0, reported: 0 });
});

test('fault reset-mid-stream: upstream error, partial usage counted', async () => {
	const b = { model: 'gpt-4o', input: 'Coupe-moi au milieu, veux-tu?' };
	const o = await call(['--path', '/responses', '--stream', ...body(b), ...hdr('X-Fake-Fault: reset-mid-stream')]);
	assert.equal(o.rc, 'upstream_error');
	assert.equal(o.started, 1);
	assert.equal(o.attempts, 1);
	assert.equal(o.events.done, 0);
	assert.equal(o.events.text, 2);
	assert.equal(o.text, 'Bonjour! Ceci');
	assert.deepEqual(o.usage, { input_tokens: respIn(b), cached_tokens: 0, output_tokens: 2, reasoning_tokens: 0, reported: 0 });
	const cb = { model: 'gpt-4o', messages: [{ role: 'user', content: 'Coupe!' }] };
	const c = await call(['--path', '/chat/completions', '--stream', ...body(cb), ...hdr('X-Fake-Fault: reset-mid-stream')]);
	assert.equal(c.rc, 'upstream_error');
	assert.equal(c.started, 1);
	assert.deepEqual(c.usage, { input_tokens: chatIn(cb), cached_tokens: 0, output_tokens: c.events.text, reasoning_tokens: 0, reported: 0 });
	// A body cut in half without a stream is an error too.
	const n = await call(['--path', '/responses', ...body(b), ...hdr('X-Fake-Fault: reset-mid-stream')]);
	assert.equal(n.rc, 'upstream_error');
	assert.equal(n.answer, null);
});

test('fault garbage: upstream error, no crash', async () => {
	for (const stream of [[], ['--stream']]) {
		const r = await probe(['--path', '/chat/completions', ...stream,
		    ...body({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] }), ...hdr('X-Fake-Fault: garbage')]);
		assert.equal(r.signal, null);
		assert.equal(r.code, 1);
		assert.equal(r.out.rc, 'upstream_error');
		assert.equal(r.out.status, 200);
		assert.equal(r.out.attempts, 1);
		assert.match(r.out.error, /JSON/);
	}
});

test('fault invalid-json: the call succeeds, validation is the caller\'s job', async () => {
	const b = {
		model: 'gpt-4o',
		input: 'JSON?',
		text: { format: { type: 'json_schema', name: 'x', strict: true,
		    schema: { type: 'object', properties: { a: { type: 'string' } }, required: ['a'], additionalProperties: false } } },
	};
	const o = await call(['--path', '/responses', '--stream', ...body(b), ...hdr('X-Fake-Fault: invalid-json')]);
	assertOk(o);
	assert.ok(o.text.length > 0);
	assert.throws(() => JSON.parse(o.text));
	assert.equal(o.usage.reported, 1);
});

test('stop after 2 events: stopped at once, the stream is closed', async () => {
	const r = await probe(['--path', '/responses', '--stream', ...body(small), '--stop-after', '2',
	    ...hdr('X-Fake-TTFT-Ms: 20000', 'X-Fake-Chunk-Ms: 20000')]);
	const o = r.out;
	assert.equal(o.rc, 'client_gone');
	assert.equal(o.stopped, 1);
	assert.equal(o.started, 1);
	assert.equal(o.events.other, 2);
	assert.equal(o.usage.reported, 0);
	assert.equal(o.usage.input_tokens, respIn(small));
	assert.equal(o.usage.output_tokens, 0);
	// The next delta is 20 s away: returning now means the client hung up.
	assert.ok(r.ms < 10000, `took ${r.ms} ms`);
	const c = await probe(['--path', '/chat/completions', '--stream', '--stop-after', '2',
	    ...body({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] }), ...hdr('X-Fake-Chunk-Ms: 20000')]);
	assert.equal(c.out.rc, 'client_gone');
	assert.equal(c.out.events.text, 1);
	assert.equal(c.out.usage.output_tokens, 1);
	assert.ok(c.ms < 10000, `took ${c.ms} ms`);
});

test('401 with a rejected key: not retried', async () => {
	const o = await call(['--path', '/responses', ...body(small), '--key', 'reject-me']);
	assert.equal(o.rc, 'upstream_error');
	assert.equal(o.status, 401);
	assert.equal(o.attempts, 1);
	assert.equal(o.answer.error.code, 'invalid_api_key');
	assert.match(o.error, /^Incorrect API key provided/);
	const ok = await call(['--path', '/responses', ...body(small), '--key', 'sk-anything']);
	assertOk(ok);
});

test('plain http to a non-loopback host is refused before connecting', async () => {
	const r = await probe(['--path', '/responses', ...body(small)], { base: 'http://192.0.2.1/v1' });
	assert.equal(r.out.rc, 'bad_request');
	assert.equal(r.out.attempts, 0);
	assert.equal(r.out.status, 0);
});

test('answer cap: a bigger answer is payload_too_large', async () => {
	const o = await call(['--path', '/responses', ...body(small), '--answer-max', '100']);
	assert.equal(o.rc, 'payload_too_large');
	assert.equal(o.answer, null);
});
