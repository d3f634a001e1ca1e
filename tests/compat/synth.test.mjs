// The fake's JSON Schema instance synthesis (tests/fake-openai/synth.c):
// every instance it writes for a structured-output request must validate
// against the request's schema, checked here with ajv.  Run like
// sdk.test.mjs (FAKE_OPENAI_BIN or FAKE_OPENAI_BASE_URL).

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import Ajv from 'ajv';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

import { startFake } from './fake.mjs';

const fake = await startFake();
after(async () => { await fake.stop(); });

const ajv7 = addFormats(new Ajv({ strict: false, allErrors: true }));
const ajv2020 = addFormats(new Ajv2020({ strict: false, allErrors: true }));

// Ask for a structured output through both APIs; return the two texts.
async function instances(schema) {
	const post = async (path, body) => {
		const r = await fetch(`${fake.baseURL}${path}`, { method: 'POST',
		    headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
		assert.equal(r.status, 200, await r.clone().text());
		return r.json();
	};
	const c = await post('/chat/completions', { model: 'gpt-4o-mini',
	    messages: [{ role: 'user', content: 'x' }],
	    response_format: { type: 'json_schema', json_schema: { name: 's', schema, strict: true } } });
	const r = await post('/responses', { model: 'gpt-4o-mini', input: 'x',
	    text: { format: { type: 'json_schema', name: 's', schema, strict: true } } });
	return [c.choices[0].message.content, r.output[0].content[0].text];
}

const cases = {
	'type arrays and nullables': {
		type: 'object',
		properties: {
			a: { type: ['string', 'null'] },
			b: { type: ['null', 'integer'] },
			c: { type: ['number', 'string'], minimum: 3 },
		},
		required: ['a', 'b', 'c'], additionalProperties: false,
	},
	'const, enum, anyOf, oneOf': {
		type: 'object',
		properties: {
			k: { const: 'fixe' },
			e: { enum: [3, 'x', null] },
			u: { anyOf: [{ type: 'integer', minimum: 5 }, { type: 'string' }] },
			o: { oneOf: [{ type: 'null' }, { type: 'boolean' }] },
		},
		required: ['k', 'e', 'u', 'o'], additionalProperties: false,
	},
	'allOf with $ref': {
		$defs: { base: { type: 'object', properties: { id: { type: 'string', format: 'uuid' } },
		    required: ['id'] } },
		allOf: [{ $ref: '#/$defs/base' },
		    { properties: { extra: { type: 'integer', maximum: -3 } }, required: ['extra'] }],
	},
	'recursion: list, tree, mutual': {
		type: 'object',
		properties: {
			list: { $ref: '#/$defs/node' },
			tree: { $ref: '#/$defs/tree' },
			a: { $ref: '#/$defs/A' },
		},
		required: ['list', 'tree', 'a'], additionalProperties: false,
		$defs: {
			node: { type: 'object', properties: { v: { type: 'integer' },
			    next: { anyOf: [{ $ref: '#/$defs/node' }, { type: 'null' }] } },
			    required: ['v', 'next'], additionalProperties: false },
			tree: { type: 'object', properties: { name: { type: 'string' },
			    kids: { type: 'array', items: { $ref: '#/$defs/tree' } } },
			    required: ['name', 'kids'], additionalProperties: false },
			A: { type: 'object', properties: { b: { anyOf: [{ $ref: '#/$defs/B' }, { type: 'null' }] } },
			    required: ['b'] },
			B: { type: 'object', properties: { a: { type: ['object', 'null'], $ref: '#/$defs/A' } } },
		},
	},
	'root recursion via #': {
		type: 'object',
		properties: { label: { type: 'string' }, children: { type: 'array', items: { $ref: '#' } } },
		required: ['label', 'children'], additionalProperties: false,
	},
	'string formats': {
		type: 'object',
		properties: Object.fromEntries(['date-time', 'date', 'time', 'email', 'uuid',
		    'ipv4', 'ipv6', 'hostname', 'duration', 'uri'].map((f) => [f, { type: 'string', format: f }])),
		required: ['date-time', 'date', 'time', 'email', 'uuid', 'ipv4', 'ipv6',
		    'hostname', 'duration', 'uri'],
		additionalProperties: false,
	},
	'numeric bounds': {
		type: 'object',
		properties: {
			i1: { type: 'integer', minimum: 10, maximum: 20 },
			i2: { type: 'integer', exclusiveMinimum: 100 },
			i3: { type: 'integer', exclusiveMaximum: -7 },
			i4: { type: 'integer', minimum: 7, multipleOf: 5 },
			n1: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1 },
			n2: { type: 'number', minimum: 2.25, maximum: 2.25 },
			n3: { type: 'number', maximum: -100.5 },
		},
		required: ['i1', 'i2', 'i3', 'i4', 'n1', 'n2', 'n3'], additionalProperties: false,
	},
	'string lengths': {
		type: 'object',
		properties: {
			long: { type: 'string', minLength: 40 },
			short: { type: 'string', maxLength: 2 },
			empty: { type: 'string', maxLength: 0 },
			exact: { type: 'string', minLength: 5, maxLength: 5 },
		},
		required: ['long', 'short', 'empty', 'exact'], additionalProperties: false,
	},
	'arrays: bounds, unique, tuples': {
		type: 'object',
		properties: {
			few: { type: 'array', items: { type: 'string' }, minItems: 3, maxItems: 5,
			    uniqueItems: true },
			none: { type: 'array', items: { type: 'integer' }, maxItems: 0 },
			uniq: { type: 'array', items: { enum: ['a', 'b', 'c'] }, minItems: 3,
			    uniqueItems: true },
			tuple: { type: 'array', prefixItems: [{ type: 'integer' }, { type: 'string',
			    format: 'email' }], items: false },
			objs: { type: 'array', minItems: 2, uniqueItems: true, items: { type: 'object',
			    properties: { n: { type: 'integer' } }, required: ['n'] } },
		},
		required: ['few', 'none', 'uniq', 'tuple', 'objs'], additionalProperties: false,
	},
	'objects: additionalProperties, minProperties, required-only': {
		type: 'object',
		properties: {
			closed: { type: 'object', properties: { x: { type: 'boolean' } },
			    additionalProperties: false },
			map: { type: 'object', additionalProperties: { type: 'integer', minimum: 1 },
			    minProperties: 3 },
			bare: { type: 'object', required: ['who', 'what'] },
			any: {},
		},
		required: ['closed', 'map', 'bare', 'any'], additionalProperties: false,
	},
	'deep nesting': (() => {
		let s = { type: 'string', minLength: 1 };
		for (let i = 0; i < 14; i++)
			s = { type: 'object', properties: { d: s }, required: ['d'],
			    additionalProperties: false };
		return s;
	})(),
};

for (const [name, schema] of Object.entries(cases)) {
	test(`synthesised instance validates: ${name}`, async () => {
		const [chat, resp] = await instances(schema);
		const v = JSON.parse(chat);
		const validate = ajv2020.compile(schema);
		assert.ok(validate(v), `${chat}\n${JSON.stringify(validate.errors, null, 1)}`);
		// Deterministic: same schema, same instance, whichever API.
		assert.deepEqual(JSON.parse(resp), v);
	});
}

test('draft-07 schema with definitions and tuple items', async () => {
	const schema = {
		$schema: 'http://json-schema.org/draft-07/schema#',
		definitions: { pt: { type: 'array', items: [{ type: 'number' }, { type: 'number' }],
		    additionalItems: false, minItems: 2 } },
		type: 'object',
		properties: { p: { $ref: '#/definitions/pt' },
		    q: { type: 'integer', minimum: 0, exclusiveMaximum: 1 } },
		required: ['p', 'q'], additionalProperties: false,
	};
	const [chat] = await instances(schema);
	const validate = ajv7.compile(schema);
	const v = JSON.parse(chat);
	assert.ok(validate(v), `${chat}\n${JSON.stringify(validate.errors)}`);
});
