// The batch program's exports and clean-up (cgi-bin/batch_export.c, issue
// 21) through nginx: the history as CSV and JSON downloads, a collected
// batch's sections as Markdown and Word, the clean-up of old finished
// batches with their files deleted on the (fake) OpenAI; a bad format is
// a 400, another user's batch a 404, a batch not yet collected a 409.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { BASE, STATE, admin, auth, getJSON, newUser, pdcFixture, postJSON,
    psql, sleep } from './lib.mjs';

const FAKE = process.env.FAKE_OPENAI_BASE_URL;
const SECTIONS = ['presentation_du_cours', 'materiel', 'calendriers'];
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

// RFC 4180: fields quoted or not, quotes doubled, CRLF between records.
function parseCSV(text) {
	const rows = [];
	let row = [], field = '', i = 0, quoted = false;
	while (i < text.length) {
		const c = text[i];
		if (quoted) {
			if (c === '"' && text[i + 1] === '"') { field += '"'; i += 2; continue; }
			if (c === '"') { quoted = false; i++; continue; }
			field += c; i++; continue;
		}
		if (c === '"' && field === '') { quoted = true; i++; continue; }
		if (c === ',') { row.push(field); field = ''; i++; continue; }
		if (c === '\r' && text[i + 1] === '\n') {
			row.push(field); rows.push(row); row = []; field = ''; i += 2; continue;
		}
		assert.ok(c !== '\n' && c !== '\r' && c !== '"', `bare ${JSON.stringify(c)} at ${i}`);
		field += c; i++;
	}
	assert.equal(field, '', 'the last record ends with CRLF');
	assert.equal(row.length, 0, 'the last record ends with CRLF');
	const [head, ...body] = rows;
	for (const r of body)
		assert.equal(r.length, head.length, `record ${JSON.stringify(r)}`);
	return body.map((r) => Object.fromEntries(head.map((k, j) => [k, r[j]])));
}

async function download(p, token) {
	const r = await fetch(BASE + p, { headers: auth(token) });
	const buf = Buffer.from(await r.arrayBuffer());
	return { status: r.status, type: r.headers.get('content-type') || '',
	    disposition: r.headers.get('content-disposition') || '', buf,
	    text: buf.toString('utf8') };
}

// The launch's batch, once the worker (or a refresh) collected it.
async function collected(id, token) {
	for (const end = Date.now() + 60000; Date.now() < end; await sleep(500)) {
		const r = await getJSON(`/batch/${id}`, { headers: auth(token) });
		assert.equal(r.status, 200, JSON.stringify(r.body));
		if (r.body.batch.status === 'collected')
			return r.body;
	}
	assert.fail(`batch ${id} not collected after 60 s`);
}

const ctx = {};

test.before(async () => {
	ctx.a = await newUser({ prefix: 'bexp-a', member: true, credits: '20.00' });
	ctx.b = await newUser({ prefix: 'bexp-b', member: true, credits: '20.00' });
	ctx.aName = psql(`SELECT username FROM users WHERE id = ${ctx.a.id}`);
	ctx.fix = pdcFixture({ prefix: 'BEXP', nom: 'Lots, "exports"; et virgules' });
	const r = await postJSON('/batch', { kind: 'plan_de_cours', plan_ids: [ctx.fix.plan],
	    sections: SECTIONS }, auth(ctx.a.token));
	assert.equal(r.status, 202, JSON.stringify(r.body));
	ctx.id = r.body.batch.id;
	ctx.show = await collected(ctx.id, ctx.a.token);
	// A batch OpenAI still works on, for the 409 and the clean-up: a row
	// without an OpenAI id, which the worker's poll leaves alone.
	ctx.running = Number(psql(`INSERT INTO gen_batches (user_id, kind, model, status, total, ` +
	    `created_at) VALUES (${ctx.a.id}, 'plan_de_cours', 'gpt-5', 'in_progress', 3, ` +
	    `now() - interval '90 days') RETURNING id`));
});

test('history: CSV download of the user\'s own batches, RFC 4180 quoting', async () => {
	const r = await download('/batch/export?format=csv', ctx.a.token);
	assert.equal(r.status, 200, r.text);
	assert.match(r.type, /^text\/csv; charset=utf-8/);
	assert.match(r.disposition, /^attachment; filename="lots-historique-\d{8}T\d{6}Z\.csv"$/);
	const rows = parseCSV(r.text);
	assert.deepEqual(rows.map((x) => Number(x.id)), [ctx.running, ctx.id]);
	const row = rows.find((x) => Number(x.id) === ctx.id);
	assert.equal(row.username, ctx.aName);
	assert.equal(row.kind, 'plan_de_cours');
	assert.equal(row.status, 'collected');
	assert.equal(row.total, '3');
	assert.equal(row.progress_pct, '100');
	assert.match(row.created_at, ISO);
	assert.match(row.collected_at, ISO);
	assert.equal(row.openai_batch_id, ctx.show.batch.openai_batch_id);
	assert.deepEqual(row.sections.split(' ').sort(), [...SECTIONS].sort());
	// Not a bare default: the text is what the database holds.
	assert.equal(Number(row.settled_micro), Number(psql(
	    `SELECT settled_micro FROM gen_batches WHERE id = ${ctx.id}`)));
	// The other user sees none of them.
	const other = parseCSV((await download('/batch/export', ctx.b.token)).text);
	assert.ok(!other.some((x) => [ctx.id, ctx.running].includes(Number(x.id))));
});

test('history: a text a spreadsheet would run is quoted and defused', async () => {
	const model = `=HYPERLINK("x",1),${Date.now()}`;
	const id = Number(psql(`INSERT INTO gen_batches (user_id, kind, model, status) VALUES ` +
	    `(${ctx.b.id}, 'plan_cadre', '${model.replace(/'/g, "''")}', 'failed') RETURNING id`));
	const r = await download('/batch/export?format=csv', ctx.b.token);
	assert.equal(r.status, 200);
	assert.ok(r.text.includes(`"'=HYPERLINK(""x"",1),`), r.text);
	const row = parseCSV(r.text).find((x) => Number(x.id) === id);
	assert.equal(row.model, `'${model}`);
	psql(`DELETE FROM gen_batches WHERE id = ${id}`);
});

test('history: JSON download, checked against its response schema; admin sees all', async () => {
	const r = await getJSON('/batch/export?format=json', { headers: auth(ctx.a.token) });
	assert.equal(r.status, 200, JSON.stringify(r.body));
	assert.equal(r.headers.get('x-relais-response-check'), 'valid');
	assert.match(r.headers.get('content-disposition'),
	    /^attachment; filename="lots-historique-\d{8}T\d{6}Z\.json"$/);
	assert.match(r.body.exported_at, ISO);
	const b = r.body.batches.find((x) => x.id === ctx.id);
	assert.equal(b.user_id, ctx.a.id);
	assert.equal(b.status, 'collected');
	assert.equal(b.total, 3);
	assert.deepEqual([...b.sections].sort(), [...SECTIONS].sort());
	const all = await getJSON('/batch/export?format=json', { headers: auth(await admin()) });
	assert.equal(all.status, 200);
	assert.ok(all.body.batches.some((x) => x.id === ctx.id), 'admin export lacks the batch');
});

test('bad format: 400 naming the field, for both exports', async () => {
	for (const p of ['/batch/export?format=xml', `/batch/${ctx.id}/results?format=pdf`]) {
		const r = await getJSON(p, { headers: auth(ctx.a.token) });
		assert.equal(r.status, 400, `${p}: ${JSON.stringify(r.body)}`);
		assert.equal(r.body.error.code, 'bad_request');
		assert.equal(r.body.error.field, 'format');
	}
});

test('results: Markdown with the batch id, the time and the generated text', async () => {
	const r = await download(`/batch/${ctx.id}/results?format=md`, ctx.a.token);
	assert.equal(r.status, 200, r.text);
	assert.match(r.type, /^text\/markdown; charset=utf-8/);
	const m = r.disposition.match(/^attachment; filename="lot-(\d+)-resultats-(\d{8}T\d{6}Z)\.md"$/);
	assert.ok(m, r.disposition);
	assert.equal(Number(m[1]), ctx.id);
	fs.writeFileSync(path.join(STATE, `batch-${ctx.id}.md`), r.buf);
	assert.match(r.text, new RegExp(`^# Résultats du lot ${ctx.id}\n`));
	assert.ok(r.text.includes(`**Lot** : ${ctx.id}\n`), r.text);
	assert.ok(r.text.includes(`**Lot OpenAI** : ${ctx.show.batch.openai_batch_id}\n`));
	const stamp = r.text.match(/\*\*Exporté le\*\* : (\S+)\n/);
	assert.ok(stamp && ISO.test(stamp[1]), 'no export time');
	assert.equal(stamp[1].replace(/[-:]/g, ''), m[2]);
	assert.ok(r.text.includes(`## Plan de cours ${ctx.fix.plan} — BEXP-`), r.text);
	for (const h of ['### Présentation du cours', '### Matériel', '### Calendrier'])
		assert.ok(r.text.includes(`${h}\n`), `${h} missing`);
	// Every generated text of the batch is in the file.
	const ok = JSON.parse(psql(`SELECT json_agg(result) FROM gen_batch_items ` +
	    `WHERE batch_id = ${ctx.id} AND status = 'ok'`));
	assert.ok(ok.length > 0, 'no line of the batch was generated');
	const texts = [];
	const walk = (v) => {
		if (typeof v === 'string' && v.trim().length > 3)
			texts.push(v.trim().split('\n')[0]);
		else if (v && typeof v === 'object')
			Object.values(v).forEach(walk);
	};
	ok.forEach(walk);
	assert.ok(texts.length > 0);
	for (const t of texts)
		assert.ok(r.text.includes(t.replace(/\|/g, '\\|')), `missing: ${t}`);
	assert.equal(r.text.match(new RegExp(`Sections générées\\*\\* : (\\d+) sur 3`))[1],
	    String(ok.length));
});

test('results: Word document through the DOCX writer, same content', async () => {
	const r = await download(`/batch/${ctx.id}/results?format=docx`, ctx.a.token);
	assert.equal(r.status, 200, r.text);
	assert.equal(r.type, 'application/vnd.openxmlformats-officedocument.wordprocessingml.document');
	assert.match(r.disposition, new RegExp(`^attachment; filename="lot-${ctx.id}-resultats-\\d{8}T\\d{6}Z\\.docx"$`));
	assert.equal(r.buf.subarray(0, 2).toString(), 'PK');
	const file = path.join(STATE, `batch-${ctx.id}.docx`);
	fs.writeFileSync(file, r.buf);
	const xml = execFileSync('python3', ['-c', 'import sys, zipfile; ' +
	    'sys.stdout.write(zipfile.ZipFile(sys.argv[1]).read("word/document.xml").decode())', file],
	    { encoding: 'utf8' });
	const text = xml.replace(/<[^>]+>/g, ' ');
	assert.ok(text.includes(`Résultats du lot ${ctx.id}`), 'no title');
	assert.ok(text.includes(`Lot OpenAI : ${ctx.show.batch.openai_batch_id}`));
	assert.match(text, /Exporté le : \d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z/);
	assert.ok(text.includes('Présentation du cours'));
	assert.ok(xml.includes('w:val="Heading1"'), 'no heading style');
});

test('results: another user\'s batch is a 404, an unknown one too, a running one a 409', async () => {
	for (const [p, t] of [[`/batch/${ctx.id}/results?format=md`, ctx.b.token],
	    [`/batch/${ctx.id}/results?format=docx`, ctx.b.token],
	    ['/batch/999999999/results', ctx.a.token]]) {
		const r = await getJSON(p, { headers: auth(t) });
		assert.equal(r.status, 404, `${p}: ${JSON.stringify(r.body)}`);
		assert.equal(r.body.error.code, 'not_found');
	}
	const r = await getJSON(`/batch/${ctx.running}/results`, { headers: auth(ctx.a.token) });
	assert.equal(r.status, 409, JSON.stringify(r.body));
	assert.equal(r.body.error.code, 'conflict');
	// Admin may read anyone's.
	const a = await download(`/batch/${ctx.id}/results?format=md`, await admin());
	assert.equal(a.status, 200);
});

test('cleanup: old finished batches leave the history, their OpenAI files are deleted', async () => {
	const files = JSON.parse(psql(`SELECT json_build_array(input_file_id, output_file_id, ` +
	    `error_file_id) FROM gen_batches WHERE id = ${ctx.id}`)).filter(Boolean);
	assert.ok(files.length >= 2, `files: ${files}`);
	for (const f of files)
		assert.equal((await fetch(`${FAKE}/files/${f}`)).status, 200, `${f} not on the fake`);

	// Bad days: the request schema's 422.
	let r = await postJSON('/batch/cleanup', { days: -1 }, auth(ctx.a.token));
	assert.equal(r.status, 422, JSON.stringify(r.body));

	// Another user's clean-up, even of everything, leaves A's batches.
	r = await postJSON('/batch/cleanup', { days: 0 }, auth(ctx.b.token));
	assert.equal(r.status, 200, JSON.stringify(r.body));
	assert.equal((await getJSON(`/batch/${ctx.id}`, { headers: auth(ctx.a.token) })).status, 200);

	// Default (30 days): the batch is recent, it stays.
	r = await postJSON('/batch/cleanup', {}, auth(ctx.a.token));
	assert.equal(r.status, 200, JSON.stringify(r.body));
	assert.deepEqual(r.body, { removed: 0, files_deleted: 0, files_kept: 0 });

	psql(`UPDATE gen_batches SET created_at = now() - interval '31 days' WHERE id = ${ctx.id}`);
	r = await postJSON('/batch/cleanup', {}, auth(ctx.a.token));
	assert.equal(r.status, 200, JSON.stringify(r.body));
	assert.deepEqual(r.body, { removed: 1, files_deleted: files.length, files_kept: 0 });
	for (const f of files)
		assert.equal((await fetch(`${FAKE}/files/${f}`)).status, 404, `${f} still on the fake`);
	assert.equal((await getJSON(`/batch/${ctx.id}`, { headers: auth(ctx.a.token) })).status, 404);
	const row = JSON.parse(psql(`SELECT row_to_json(b) FROM (SELECT deleted_at IS NOT NULL AS gone, ` +
	    `input_file_id, output_file_id, error_file_id FROM gen_batches WHERE id = ${ctx.id}) b`));
	assert.deepEqual(row, { gone: true, input_file_id: null, output_file_id: null, error_file_id: null });
	// Out of the exports; the running one (90 days old) was not taken.
	const rows = parseCSV((await download('/batch/export?format=csv', ctx.a.token)).text);
	assert.deepEqual(rows.map((x) => Number(x.id)), [ctx.running]);
	// Again: nothing left to do.
	r = await postJSON('/batch/cleanup', { days: 0 }, auth(ctx.a.token));
	assert.deepEqual(r.body, { removed: 0, files_deleted: 0, files_kept: 0 });
	psql(`DELETE FROM gen_batches WHERE id = ${ctx.running}`);
});

test('exports need a signed-in user', async () => {
	for (const p of ['/batch/export?format=csv', `/batch/${ctx.id}/results?format=md`]) {
		const r = await getJSON(p);
		assert.equal(r.status, 401, p);
	}
	const r = await postJSON('/batch/cleanup', { days: 1 });
	assert.equal(r.status, 401);
});
