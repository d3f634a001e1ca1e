// Compatibility of tests/fake-openai with the official `openai` npm SDK.
//
// The fake is the only stand-in for OpenAI in this project, so the SDK
// itself must accept what it sends.  Run:
//
//   npm ci --prefix tests/compat
//   FAKE_OPENAI_BIN=/path/to/fake-openai node --test tests/compat/
//
// or point FAKE_OPENAI_BASE_URL at a running fake (http://127.0.0.1:PORT/v1).

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI, { toFile } from 'openai';
import { zodResponseFormat, zodTextFormat } from 'openai/helpers/zod';
import { z } from 'zod';

import { startFake } from './fake.mjs';

const fake = await startFake();
after(async () => { await fake.stop(); });

const baseURL = fake.baseURL;
const client = new OpenAI({ apiKey: 'sk-test', baseURL, maxRetries: 0 });
const GREETING = 'Bonjour! Ceci est une réponse simulée de gpt-4o-mini.';

const weatherParams = {
	type: 'object',
	properties: {
		city: { type: 'string' },
		unit: { type: 'string', enum: ['celsius', 'fahrenheit'] },
		days: { type: 'integer', minimum: 1, maximum: 7 },
	},
	required: ['city', 'unit', 'days'],
	additionalProperties: false,
};

function checkChatUsage(u) {
	for (const k of ['prompt_tokens', 'completion_tokens', 'total_tokens'])
		assert.equal(typeof u[k], 'number', k);
	assert.equal(u.total_tokens, u.prompt_tokens + u.completion_tokens);
	assert.equal(typeof u.prompt_tokens_details.cached_tokens, 'number');
	assert.equal(typeof u.completion_tokens_details.reasoning_tokens, 'number');
}

test('models.list and models.retrieve', async () => {
	const ids = [];
	for await (const m of client.models.list())
		ids.push(m.id);
	assert.ok(ids.includes('gpt-4o-mini'), ids.join(','));
	const m = await client.models.retrieve('gpt-4o');
	assert.equal(m.id, 'gpt-4o');
	assert.equal(m.object, 'model');
	await assert.rejects(client.models.retrieve('no-such-model'),
	    (e) => e instanceof OpenAI.NotFoundError && e.status === 404);
});

test('chat.completions.create plain', async () => {
	const { data: c, response, request_id } = await client.chat.completions.create({
		model: 'gpt-4o-mini',
		messages: [{ role: 'user', content: 'Dis bonjour' }],
	}).withResponse();
	assert.equal(response.status, 200);
	assert.match(request_id, /^req_/);
	assert.match(c.id, /^chatcmpl-/);
	assert.equal(c.object, 'chat.completion');
	assert.equal(c.choices.length, 1);
	assert.equal(c.choices[0].message.role, 'assistant');
	assert.equal(c.choices[0].message.content, GREETING);
	assert.equal(c.choices[0].finish_reason, 'stop');
	checkChatUsage(c.usage);
	// ceil(len("Dis bonjour") / 4) = 3; one token per delta (8 by default).
	assert.equal(c.usage.prompt_tokens, 3);
	assert.equal(c.usage.completion_tokens, 8);
});

test('chat.completions.create with n=2 and unique ids', async () => {
	const a = await client.chat.completions.create({
		model: 'gpt-4o-mini', n: 2,
		messages: [{ role: 'user', content: 'Deux réponses' }],
	});
	assert.equal(a.choices.length, 2);
	assert.deepEqual(a.choices.map((c) => c.index), [0, 1]);
	for (const c of a.choices)
		assert.equal(c.message.content, GREETING);
	assert.equal(a.usage.completion_tokens, 16);
	const b = await client.chat.completions.create({
		model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }],
	});
	assert.notEqual(a.id, b.id);
});

test('chat tools: tool_calls then text after the tool result', async () => {
	const tools = [{ type: 'function', function: { name: 'get_weather',
	    description: 'Weather for a city', parameters: weatherParams, strict: true } }];
	const messages = [{ role: 'user', content: 'Quel temps à Paris ?' }];
	const c1 = await client.chat.completions.create({ model: 'gpt-4o-mini', messages, tools });
	const msg = c1.choices[0].message;
	assert.equal(c1.choices[0].finish_reason, 'tool_calls');
	assert.equal(msg.content, null);
	assert.equal(msg.tool_calls.length, 1);
	const call = msg.tool_calls[0];
	assert.equal(call.type, 'function');
	assert.match(call.id, /^call_/);
	assert.equal(call.function.name, 'get_weather');
	const args = JSON.parse(call.function.arguments);
	assert.deepEqual(Object.keys(args).sort(), ['city', 'days', 'unit']);
	assert.equal(typeof args.city, 'string');
	assert.ok(['celsius', 'fahrenheit'].includes(args.unit));
	assert.ok(Number.isInteger(args.days) && args.days >= 1 && args.days <= 7);

	const c2 = await client.chat.completions.create({
		model: 'gpt-4o-mini', tools,
		messages: [...messages, msg,
		    { role: 'tool', tool_call_id: call.id, content: '{"temp":21}' }],
	});
	assert.equal(c2.choices[0].finish_reason, 'stop');
	assert.equal(typeof c2.choices[0].message.content, 'string');
	assert.match(c2.choices[0].message.content, /outil/);
	assert.equal(c2.choices[0].message.tool_calls, undefined);
});

test('chat stream with include_usage', async () => {
	const stream = await client.chat.completions.create({
		model: 'gpt-4o-mini', stream: true,
		stream_options: { include_usage: true },
		messages: [{ role: 'user', content: 'Raconte' }],
	}, { headers: { 'X-Fake-Chunks': '5' } });
	const chunks = [];
	for await (const ch of stream)
		chunks.push(ch);
	const deltas = chunks.flatMap((ch) => ch.choices)
	    .map((c) => c.delta.content).filter((d) => d);
	assert.equal(deltas.length, 5);
	assert.equal(deltas.join(''), 'Bonjour! Ceci est une réponse');
	assert.ok(chunks.every((ch) => ch.object === 'chat.completion.chunk'));
	assert.equal(new Set(chunks.map((ch) => ch.id)).size, 1);
	const last = chunks.at(-1);
	assert.deepEqual(last.choices, []);
	checkChatUsage(last.usage);
	assert.equal(last.usage.completion_tokens, 5);
	const fin = chunks.at(-2).choices[0];
	assert.equal(fin.finish_reason, 'stop');
});

test('chat.completions.stream helper and streamed tool calls', async () => {
	const runner = client.chat.completions.stream({
		model: 'gpt-4o-mini',
		messages: [{ role: 'user', content: 'Météo ?' }],
		tools: [{ type: 'function', function: { name: 'get_weather',
		    parameters: weatherParams, strict: true } }],
	});
	const final = await runner.finalChatCompletion();
	const call = final.choices[0].message.tool_calls[0];
	assert.equal(call.function.name, 'get_weather');
	assert.equal(typeof call.function.parsed_arguments.city, 'string');
	assert.equal(final.choices[0].finish_reason, 'tool_calls');
});

const Person = z.object({
	name: z.string(),
	age: z.number().int().min(18).max(99),
	email: z.string().email(),
	id: z.string().uuid(),
	born: z.string().datetime(),
	tags: z.array(z.string()).min(2),
	kind: z.enum(['cat', 'dog']),
	address: z.object({ city: z.string(), zip: z.string().nullable() }),
	nickname: z.string().nullable(),
	score: z.number(),
	active: z.boolean(),
});

test('chat.completions.parse with zodResponseFormat', async () => {
	const c = await client.chat.completions.parse({
		model: 'gpt-4o-mini',
		messages: [{ role: 'user', content: 'Invente une personne' }],
		response_format: zodResponseFormat(Person, 'person'),
	});
	const p = c.choices[0].message.parsed;
	assert.ok(p, 'parsed is set');
	// The SDK already ran Person.parse(); check it again explicitly.
	assert.deepEqual(Person.parse(p), p);
	assert.ok(p.age >= 18 && p.age <= 99);
	assert.ok(p.tags.length >= 2);
	assert.deepEqual(JSON.parse(c.choices[0].message.content), p);
});

test('chat json_object and raw json_schema response formats', async () => {
	const a = await client.chat.completions.create({
		model: 'gpt-4o-mini',
		messages: [{ role: 'user', content: 'JSON please' }],
		response_format: { type: 'json_object' },
	});
	const o = JSON.parse(a.choices[0].message.content);
	assert.equal(typeof o, 'object');
	const schema = {
		type: 'object',
		properties: { when: { type: 'string', format: 'date' },
		    ip: { type: 'string', format: 'ipv4' },
		    list: { type: 'array', items: { type: 'number', minimum: 10 },
		    minItems: 3, maxItems: 3 } },
		required: ['when', 'ip', 'list'], additionalProperties: false,
	};
	const b = await client.chat.completions.create({
		model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }],
		response_format: { type: 'json_schema',
		    json_schema: { name: 'thing', schema, strict: true } },
	});
	const v = JSON.parse(b.choices[0].message.content);
	assert.match(v.when, /^\d{4}-\d{2}-\d{2}$/);
	assert.match(v.ip, /^\d+\.\d+\.\d+\.\d+$/);
	assert.equal(v.list.length, 3);
	assert.ok(v.list.every((n) => n >= 10));
});

test('responses.create plain', async () => {
	const r = await client.responses.create({
		model: 'gpt-4o-mini', input: 'Bonjour toi', instructions: 'Sois bref',
		store: true, metadata: { t: '1' },
	});
	assert.match(r.id, /^resp_/);
	assert.equal(r.object, 'response');
	assert.equal(r.status, 'completed');
	assert.equal(r.output_text, GREETING);
	assert.equal(r.output[0].type, 'message');
	assert.match(r.output[0].id, /^msg_/);
	assert.equal(r.output[0].content[0].type, 'output_text');
	assert.equal(r.instructions, 'Sois bref');
	assert.equal(r.store, true);
	assert.equal(r.previous_response_id, null);
	assert.deepEqual(r.metadata, { t: '1' });
	const u = r.usage;
	// ceil((len("Sois bref") + len("Bonjour toi")) / 4) = ceil(20 / 4) = 5
	assert.equal(u.input_tokens, 5);
	assert.equal(u.output_tokens, 8);
	assert.equal(u.total_tokens, 13);
	assert.equal(u.input_tokens_details.cached_tokens, 0);
	assert.equal(u.output_tokens_details.reasoning_tokens, 0);
	const again = await client.responses.retrieve(r.id);
	assert.equal(again.id, r.id);
	assert.equal(again.output_text, GREETING);
});

test('responses stream: event order, sequence numbers, deltas', async () => {
	const stream = await client.responses.create({
		model: 'gpt-4o-mini', input: 'Bonjour', stream: true,
	}, { headers: { 'X-Fake-Chunks': '6', 'X-Fake-Chunk-Ms': '5' } });
	const events = [];
	for await (const ev of stream)
		events.push(ev);
	assert.equal(events[0].type, 'response.created');
	assert.equal(events[1].type, 'response.in_progress');
	assert.equal(events.at(-1).type, 'response.completed');
	assert.deepEqual(events.map((e) => e.sequence_number),
	    events.map((_, i) => i));
	const deltas = events.filter((e) => e.type === 'response.output_text.delta');
	assert.equal(deltas.length, 6);
	const text = deltas.map((e) => e.delta).join('');
	const done = events.find((e) => e.type === 'response.output_text.done');
	assert.equal(done.text, text);
	const completed = events.at(-1).response;
	assert.equal(completed.status, 'completed');
	assert.equal(completed.output[0].content[0].text, text);
	assert.equal(completed.usage.output_tokens, 6);
	assert.deepEqual(events.map((e) => e.type).filter((t) => !t.endsWith('.delta')), [
		'response.created', 'response.in_progress',
		'response.output_item.added', 'response.content_part.added',
		'response.output_text.done', 'response.content_part.done',
		'response.output_item.done', 'response.completed']);
});

test('responses.stream helper with reasoning summary', async () => {
	const seen = [];
	const stream = client.responses.stream({
		model: 'o4-mini', input: 'Réfléchis', reasoning: { effort: 'low', summary: 'auto' },
	});
	stream.on('event', (e) => seen.push(e.type));
	const final = await stream.finalResponse();
	assert.equal(final.output[0].type, 'reasoning');
	assert.match(final.output[0].id, /^rs_/);
	assert.match(final.output[0].summary[0].text, /réfléchis/);
	// finalResponse() only adds output_text when it parses; read the item.
	assert.equal(final.output[1].type, 'message');
	assert.equal(final.output[1].content[0].text,
	    'Bonjour! Ceci est une réponse simulée de o4-mini.');
	assert.ok(final.usage.output_tokens_details.reasoning_tokens > 0);
	const i = (t) => seen.indexOf(t);
	assert.ok(i('response.reasoning_summary_part.added') > i('response.output_item.added'));
	assert.ok(i('response.reasoning_summary_text.delta') > 0);
	assert.ok(i('response.reasoning_summary_text.done') < i('response.content_part.added'));
	assert.equal(seen.at(-1), 'response.completed');
});

test('responses.parse with zodTextFormat and a recursive json_schema', async () => {
	const r = await client.responses.parse({
		model: 'gpt-4o-mini', input: 'Invente une personne',
		text: { format: zodTextFormat(Person, 'person') },
	});
	assert.ok(r.output_parsed);
	assert.deepEqual(Person.parse(r.output_parsed), r.output_parsed);

	const tree = {
		type: 'object',
		properties: {
			name: { type: 'string', minLength: 12 },
			children: { type: 'array', items: { $ref: '#/$defs/node' } },
		},
		required: ['name', 'children'], additionalProperties: false,
		$defs: { node: { type: 'object', properties: {
			label: { type: 'string', maxLength: 3 },
			next: { anyOf: [{ $ref: '#/$defs/node' }, { type: 'null' }] },
			kind: { type: ['string', 'null'], enum: ['leaf', null] },
		}, required: ['label', 'next', 'kind'], additionalProperties: false } },
	};
	const r2 = await client.responses.parse({
		model: 'gpt-4o-mini', input: 'Arbre',
		text: { format: { type: 'json_schema', name: 'tree', schema: tree, strict: true } },
	});
	const t = r2.output_parsed;
	assert.ok(t.name.length >= 12);
	assert.ok(Array.isArray(t.children) && t.children.length >= 1);
	assert.ok(t.children[0].label.length <= 3);
	assert.equal(t.children[0].next, null);
	assert.equal(t.children[0].kind, 'leaf');
});

test('responses function-call flow with previous_response_id', async () => {
	const tools = [{ type: 'function', name: 'get_weather', parameters: weatherParams,
	    strict: true }];
	const r1 = await client.responses.create({
		model: 'gpt-4o-mini', tools, input: [{ role: 'user', content: 'Météo à Lyon ?' }],
	});
	const call = r1.output.find((o) => o.type === 'function_call');
	assert.ok(call, 'function_call item');
	assert.equal(call.name, 'get_weather');
	assert.match(call.call_id, /^call_/);
	const args = JSON.parse(call.arguments);
	assert.equal(typeof args.city, 'string');

	const r2 = await client.responses.create({
		model: 'gpt-4o-mini', tools, previous_response_id: r1.id,
		input: [{ type: 'function_call_output', call_id: call.call_id,
		    output: '{"temp":18}' }],
	});
	assert.equal(r2.previous_response_id, r1.id);
	assert.match(r2.output_text, /outil/);
	// The previous response's tokens are billed again as input.
	assert.ok(r2.usage.input_tokens > r1.usage.total_tokens);

	const s = await client.responses.create({
		model: 'gpt-4o-mini', tools, input: 'Météo ?', stream: true,
	});
	const types = [];
	let argText = '';
	for await (const ev of s) {
		types.push(ev.type);
		if (ev.type === 'response.function_call_arguments.delta')
			argText += ev.delta;
	}
	assert.ok(types.includes('response.function_call_arguments.done'));
	assert.deepEqual(Object.keys(JSON.parse(argText)).sort(), ['city', 'days', 'unit']);

	await assert.rejects(client.responses.create({
		model: 'gpt-4o-mini', input: 'x', previous_response_id: 'resp_nope',
	}), (e) => e instanceof OpenAI.BadRequestError && e.status === 400 &&
	    e.param === 'previous_response_id' && e.code === 'previous_response_not_found');
});

// X-Fake-Tools: off, a model that needs none of the tools it is offered;
// GET /_fake/last, the body of the last generation request (the
// benchmark sends relais' own upstream request directly with it).
test('X-Fake-Tools: off answers text; /_fake/last gives the last request', async () => {
	const tools = [{ type: 'function', name: 'get_weather', parameters: weatherParams,
	    strict: true }];
	const r = await client.responses.create({
		model: 'gpt-4o-mini', tools, input: 'Météo à Lyon ?',
	}, { headers: { 'X-Fake-Tools': 'off' } });
	assert.equal(r.output.find((o) => o.type === 'function_call'), undefined);
	assert.equal(r.output_text, GREETING);
	// The same knob as an in-body directive, in a chat completion.
	const c = await client.chat.completions.create({
		model: 'gpt-4o-mini', tools: [{ type: 'function', function: { name: 'get_weather',
		    parameters: weatherParams } }],
		messages: [{ role: 'user', content: 'Météo ? [[X-Fake-Tools: off]]' }],
	});
	assert.equal(c.choices[0].finish_reason, 'stop');
	assert.equal(c.choices[0].message.tool_calls, undefined);
	const last = await (await fetch(baseURL.replace(/\/v1$/, '') + '/_fake/last')).json();
	assert.equal(last.model, 'gpt-4o-mini');
	assert.equal(last.messages[0].content, 'Météo ? [[X-Fake-Tools: off]]');
	assert.equal(last.tools[0].function.name, 'get_weather');
	// Without the knob, the first tool is called, as before.
	const t = await client.responses.create({ model: 'gpt-4o-mini', tools, input: 'Météo ?' });
	assert.ok(t.output.find((o) => o.type === 'function_call'));
});

test('files: upload, retrieve, content, list, delete', async () => {
	const body = Buffer.from('première ligne\nseconde ligne\n');
	const f = await client.files.create({
		file: await toFile(body, 'notes.txt'), purpose: 'user_data',
	});
	assert.match(f.id, /^file-/);
	assert.equal(f.object, 'file');
	assert.equal(f.bytes, body.length);
	assert.equal(f.filename, 'notes.txt');
	assert.equal(f.purpose, 'user_data');
	const g = await client.files.retrieve(f.id);
	assert.equal(g.id, f.id);
	const content = Buffer.from(await (await client.files.content(f.id)).arrayBuffer());
	assert.ok(content.equals(body));
	const ids = [];
	for await (const x of client.files.list({ purpose: 'user_data' }))
		ids.push(x.id);
	assert.ok(ids.includes(f.id));
	const d = await client.files.delete(f.id);
	assert.deepEqual(d, { id: f.id, object: 'file', deleted: true });
	await assert.rejects(client.files.retrieve(f.id),
	    (e) => e instanceof OpenAI.NotFoundError);
});

async function waitBatch(id) {
	const deadline = Date.now() + 15000;
	for (;;) {
		const b = await client.batches.retrieve(id);
		if (['completed', 'failed', 'cancelled', 'expired'].includes(b.status))
			return b;
		assert.ok(Date.now() < deadline, `batch ${id} stuck in ${b.status}`);
		await new Promise((r) => setTimeout(r, 50));
	}
}

test('batches: chat completions batch to completion', async () => {
	const lines = ['a', 'b', 'c'].map((id) => JSON.stringify({
		custom_id: `req-${id}`, method: 'POST', url: '/v1/chat/completions',
		body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: `q ${id}` }] },
	}));
	const input = await client.files.create({
		file: await toFile(Buffer.from(lines.join('\n') + '\n'), 'in.jsonl'),
		purpose: 'batch',
	});
	const opts = { headers: { 'X-Fake-Batch-Step-Ms': '60' } };
	const created = await client.batches.create({
		input_file_id: input.id, endpoint: '/v1/chat/completions',
		completion_window: '24h', metadata: { job: 'compat' },
	}, opts);
	assert.match(created.id, /^batch_/);
	assert.equal(created.object, 'batch');
	assert.equal(created.status, 'validating');
	const statuses = new Set();
	const deadline = Date.now() + 15000;
	let b;
	do {
		b = await client.batches.retrieve(created.id);
		statuses.add(b.status);
		await new Promise((r) => setTimeout(r, 20));
		assert.ok(Date.now() < deadline);
	} while (b.status !== 'completed');
	assert.ok(statuses.has('in_progress') || statuses.has('finalizing'),
	    [...statuses].join(','));
	assert.deepEqual(b.request_counts, { total: 3, completed: 3, failed: 0 });
	assert.deepEqual(b.metadata, { job: 'compat' });
	assert.equal(b.error_file_id, null);
	const out = await (await client.files.content(b.output_file_id)).text();
	const rows = out.trim().split('\n').map((l) => JSON.parse(l));
	assert.equal(rows.length, 3);
	assert.deepEqual(rows.map((r) => r.custom_id).sort(), ['req-a', 'req-b', 'req-c']);
	for (const r of rows) {
		assert.match(r.id, /^batch_req_/);
		assert.equal(r.error, null);
		assert.equal(r.response.status_code, 200);
		assert.match(r.response.request_id, /^req_/);
		assert.equal(r.response.body.object, 'chat.completion');
		assert.equal(r.response.body.choices[0].message.content, GREETING);
	}
	const listed = [];
	for await (const x of client.batches.list({ limit: 2 }))
		listed.push(x.id);
	assert.ok(listed.includes(created.id));
});

test('batches: responses endpoint, invalid lines go to the error file', async () => {
	const lines = [
		JSON.stringify({ custom_id: 'ok-1', method: 'POST', url: '/v1/responses',
		    body: { model: 'gpt-4o-mini', input: 'un' } }),
		'{ this is not json',
		JSON.stringify({ custom_id: 'ok-2', method: 'POST', url: '/v1/responses',
		    body: { model: 'gpt-4o-mini', input: 'deux' } }),
	];
	const input = await client.files.create({
		file: await toFile(Buffer.from(lines.join('\n')), 'in2.jsonl'), purpose: 'batch',
	});
	const created = await client.batches.create({
		input_file_id: input.id, endpoint: '/v1/responses', completion_window: '24h',
	}, { headers: { 'X-Fake-Batch-Step-Ms': '20' } });
	const b = await waitBatch(created.id);
	assert.equal(b.status, 'completed');
	assert.deepEqual(b.request_counts, { total: 3, completed: 2, failed: 1 });
	const out = (await (await client.files.content(b.output_file_id)).text())
	    .trim().split('\n').map((l) => JSON.parse(l));
	assert.deepEqual(out.map((r) => r.custom_id), ['ok-1', 'ok-2']);
	assert.equal(out[0].response.body.object, 'response');
	const err = (await (await client.files.content(b.error_file_id)).text())
	    .trim().split('\n').map((l) => JSON.parse(l));
	assert.equal(err.length, 1);
	assert.equal(typeof err[0].error.message, 'string');

	const slow = await client.batches.create({
		input_file_id: input.id, endpoint: '/v1/responses', completion_window: '24h',
	}, { headers: { 'X-Fake-Batch-Step-Ms': '60000' } });
	const c = await client.batches.cancel(slow.id);
	assert.equal(c.status, 'cancelling');
	assert.equal(typeof c.cancelling_at, 'number');
});

test('audio.transcriptions.create json and text', async () => {
	const audio = Buffer.alloc(64000, 1);
	const t = await client.audio.transcriptions.create({
		file: await toFile(audio, 'voix.wav'), model: 'whisper-1',
	});
	assert.match(t.text, /transcription simulée de voix\.wav/);
	const txt = await client.audio.transcriptions.create({
		file: await toFile(audio, 'voix.wav'), model: 'whisper-1',
		response_format: 'text',
	});
	assert.equal(typeof txt, 'string');
	assert.match(txt, /64000 octets/);
});

test('fault 429 without retries is a RateLimitError', async () => {
	await assert.rejects(client.chat.completions.create({
		model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }],
	}, { headers: { 'X-Fake-Fault': '429' } }), (e) => {
		assert.ok(e instanceof OpenAI.RateLimitError, e.constructor.name);
		assert.equal(e.status, 429);
		assert.equal(e.code, 'rate_limit_exceeded');
		assert.equal(e.headers.get('retry-after'), '1');
		return true;
	});
});

test('fault 429 once, then the SDK retry succeeds', async () => {
	const retrying = new OpenAI({ apiKey: 'sk-test', baseURL, maxRetries: 2 });
	const key = `retry-${process.pid}-${Date.now()}`;
	const t0 = Date.now();
	const c = await retrying.chat.completions.create({
		model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }],
	}, { headers: { 'X-Fake-Fault': '429', 'X-Fake-Fault-Count': '1',
	    'X-Fake-Fault-Key': key } });
	assert.equal(c.choices[0].message.content, GREETING);
	// Retry-After: 1 made the SDK wait about a second before retrying.
	assert.ok(Date.now() - t0 >= 900, `took ${Date.now() - t0} ms`);
});

test('fault 500 and 503 are InternalServerError', async () => {
	for (const code of ['500', '503']) {
		await assert.rejects(client.responses.create({ model: 'gpt-4o-mini', input: 'x' },
		    { headers: { 'X-Fake-Fault': code } }),
		    (e) => e instanceof OpenAI.InternalServerError && e.status === Number(code));
	}
});

test('fault invalid-json makes a parse call reject', async () => {
	await assert.rejects(client.chat.completions.parse({
		model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }],
		response_format: zodResponseFormat(Person, 'person'),
	}, { headers: { 'X-Fake-Fault': 'invalid-json' } }), SyntaxError);
	await assert.rejects(client.responses.parse({
		model: 'gpt-4o-mini', input: 'x', text: { format: zodTextFormat(Person, 'person') },
	}, { headers: { 'X-Fake-Fault': 'invalid-json' } }), SyntaxError);
	// Streamed: the deltas concatenate to the same invalid text.
	const s = await client.chat.completions.create({
		model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'x' }],
		response_format: zodResponseFormat(Person, 'person'),
	}, { headers: { 'X-Fake-Fault': 'invalid-json' } });
	let text = '';
	for await (const ch of s)
		text += ch.choices[0]?.delta?.content ?? '';
	assert.ok(text.startsWith('{'));
	assert.throws(() => JSON.parse(text), SyntaxError);
});

test('fault reset-mid-stream makes the stream iterator throw', async () => {
	const s = await client.responses.create({ model: 'gpt-4o-mini', input: 'x', stream: true },
	    { headers: { 'X-Fake-Fault': 'reset-mid-stream' } });
	const seen = [];
	await assert.rejects((async () => {
		for await (const ev of s)
			seen.push(ev.type);
	})());
	assert.ok(seen.includes('response.output_text.delta'));
	assert.ok(!seen.includes('response.completed'));

	const c = await client.chat.completions.create({
		model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'x' }],
	}, { headers: { 'X-Fake-Fault': 'reset-mid-stream' } });
	let deltas = 0;
	await assert.rejects((async () => {
		for await (const ch of c)
			if (ch.choices[0]?.delta?.content)
				deltas++;
	})());
	assert.equal(deltas, 2);

	// Without streaming: half a JSON body, then the connection closes.
	await assert.rejects(client.chat.completions.create({
		model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }],
	}, { headers: { 'X-Fake-Fault': 'reset-mid-stream' } }));
});

test('hundreds of slow streams run concurrently', async () => {
	const N = 200;
	const one = async () => {
		const r = await fetch(`${baseURL}/chat/completions`, { method: 'POST',
		    headers: { 'content-type': 'application/json', 'X-Fake-TTFT-Ms': '100',
		    'X-Fake-Chunk-Ms': '100', 'X-Fake-Chunks': '5' },
		    body: JSON.stringify({ model: 'gpt-4o-mini', stream: true,
		    messages: [{ role: 'user', content: 'x' }] }) });
		return (await r.text()).endsWith('data: [DONE]\n\n');
	};
	const t0 = Date.now();
	const ok = await Promise.all(Array.from({ length: N }, one));
	const ms = Date.now() - t0;
	assert.equal(ok.filter(Boolean).length, N);
	// Each stream lasts 0.5 s; run one after another they would take 100 s.
	assert.ok(ms >= 500 && ms < 10000, `${N} streams took ${ms} ms`);
});

test('fault garbage, timeout, bad key, bad JSON, unknown route', async () => {
	await assert.rejects(client.chat.completions.create({
		model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }],
	}, { headers: { 'X-Fake-Fault': 'garbage' } }));
	const gs = await client.chat.completions.create({
		model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'x' }],
	}, { headers: { 'X-Fake-Fault': 'garbage' } });
	await assert.rejects((async () => { for await (const _ of gs); })());

	const t0 = Date.now();
	await assert.rejects(client.chat.completions.create({
		model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }],
	}, { headers: { 'X-Fake-Fault': 'timeout' }, timeout: 300 }),
	    (e) => e instanceof OpenAI.APIConnectionTimeoutError);
	assert.ok(Date.now() - t0 < 5000);

	const bad = new OpenAI({ apiKey: 'reject-me', baseURL, maxRetries: 0 });
	await assert.rejects(bad.models.list(), (e) =>
	    e instanceof OpenAI.AuthenticationError && e.code === 'invalid_api_key');

	const res = await fetch(`${baseURL}/chat/completions`, { method: 'POST',
	    headers: { 'content-type': 'application/json' }, body: '{"model": ' });
	assert.equal(res.status, 400);
	const eb = await res.json();
	assert.equal(eb.error.type, 'invalid_request_error');
	assert.ok('param' in eb.error && 'code' in eb.error && 'message' in eb.error);

	const nf = await fetch(`${baseURL}/no/such/route`);
	assert.equal(nf.status, 404);
	assert.match((await nf.json()).error.message, /Invalid URL/);

	// Requests without any Authorization header are accepted.
	const anon = await fetch(`${baseURL}/models`);
	assert.equal(anon.status, 200);
});
