// Declared inputs (issue 15, change 1): a route names its request schema
// and the runtime turns JSON, urlencoded, multipart bodies and GET query
// strings into one JSON value, validated in lax mode before the handler
// runs.  /_test/fields (tests/echo) takes all four and echoes the value
// the handler saw.
import test from 'node:test';
import assert from 'node:assert/strict';
import { getJSON, postJSON, raw } from './lib.mjs';

const WANT = { cours_id: 12, session: 'A25', tags: ['a', 'b'], urgent: true };

function multipart(fields) {
	const fd = new FormData();
	for (const [k, v] of fields)
		fd.append(k, v);
	return getJSON('/_test/fields', { method: 'POST', body: fd });
}

const FIELDS = [['cours_id', '12'], ['session', 'A25'], ['tags', 'a'], ['tags', 'b'],
    ['urgent', 'on'], ['csrf_token', 'ignored'], ['note', '']];

test('the same fields as JSON, urlencoded, multipart and query give the handler the same value', async () => {
	const urlenc = new URLSearchParams(FIELDS).toString();
	const answers = {
		json: await postJSON('/_test/fields', WANT),
		urlencoded: await raw('POST', '/_test/fields',
		    { 'Content-Type': 'application/x-www-form-urlencoded' }, urlenc),
		multipart: await multipart(FIELDS),
		query: await getJSON(`/_test/fields?${urlenc}`),
	};
	for (const [how, r] of Object.entries(answers)) {
		const status = r.status;
		const body = r.body ?? r.json;
		assert.equal(status, 200, `${how}: ${JSON.stringify(body)}`);
		// A blank note is "not given"; the string-typed note keeps "" for forms.
		const { note, ...rest } = body.json;
		assert.deepEqual(rest, WANT, `${how}: the handler sees typed fields`);
		assert.ok(note === undefined || note === '', `${how}: note ${note}`);
	}
});

test('a bad field gets the same 422 shape whichever way it came', async () => {
	const bad = [['cours_id', 'douze'], ['session', 'A25']];
	const urlenc = new URLSearchParams(bad).toString();
	const answers = {
		json: await postJSON('/_test/fields', { cours_id: 'douze', session: 'A25' }),
		urlencoded: await raw('POST', '/_test/fields',
		    { 'Content-Type': 'application/x-www-form-urlencoded' }, urlenc),
		multipart: await multipart(bad),
		query: await getJSON(`/_test/fields?${urlenc}`),
	};
	for (const [how, r] of Object.entries(answers)) {
		const body = r.body ?? r.json;
		assert.equal(r.status, 422, `${how}: ${JSON.stringify(body)}`);
		assert.equal(body.detail.length, 1, how);
		const d = body.detail[0];
		assert.deepEqual(d.loc, [how === 'query' ? 'query' : 'body', 'cours_id'], how);
		assert.equal(d.type, 'int_parsing', how);
		assert.equal(d.input, 'douze', how);
	}
	// A missing required field, from a form.
	const r = await raw('POST', '/_test/fields',
	    { 'Content-Type': 'application/x-www-form-urlencoded' }, 'cours_id=3');
	assert.equal(r.status, 422);
	assert.deepEqual(r.json.detail.map((d) => [d.loc.join('.'), d.type]), [['body.session', 'missing']]);
});

test('an EDxo route names the refused field in its flat shape, with its set wording where it has one', async () => {
	const form = { 'Content-Type': 'application/x-www-form-urlencoded' };
	// No set wording for cours_id: the field's path and the reason.
	let r = await raw('POST', '/_test/fields_edxo', form, 'cours_id=douze&session=A25');
	assert.equal(r.status, 400, JSON.stringify(r.json));
	assert.equal(r.json.code, 'validation_error');
	assert.equal(r.json.field, 'cours_id');
	assert.match(r.json.error, /^cours_id : .*integer/);
	// session carries x-message in its request schema.
	r = await raw('POST', '/_test/fields_edxo', form, 'cours_id=3&session=Z9');
	assert.equal(r.status, 400);
	assert.deepEqual([r.json.error, r.json.field], ['session est requise (ex. A25)', 'session']);
	// A nested path is dotted.
	const n = await postJSON('/_test/fields_edxo', { cours_id: 3, session: 'A25', tags: ['a', 4] });
	assert.equal(n.status, 400);
	assert.equal(n.body.field, 'tags.1');
	// The legacy shape: the same refusal as {success: false, message}.
	r = await raw('POST', '/_test/fields_legacy', form, 'cours_id=3');
	assert.equal(r.status, 400);
	assert.deepEqual([r.json.success, r.json.message, r.json.code],
	    [false, 'session est requise (ex. A25)', 'validation_error']);
	// Valid input still reaches the handler typed.
	r = await raw('POST', '/_test/fields_legacy', form, 'cours_id=7&session=H26');
	assert.equal(r.status, 200);
	assert.equal(r.json.json.cours_id, 7);
});
