// Batch generation at half price (issue 21): cgi-bin/batch through nginx,
// relais-worker's poll and the fake upstream's batches.  Directives in a
// prompt ("[[X-Fake-Batch-...]]", put there through additional_info)
// drive the fake: Step-Ms (time per status), Fail (lines whose custom_id
// holds the text fail, once), Invalid (schema-invalid answers), Expire.
// Each test has its own user, cours, plan-cadre and plan de cours.
import test from 'node:test';
import assert from 'node:assert/strict';
import { auth, demoProgramme, getJSON, newUser, postJSON, psql, q, sleep, uniq, until } from './lib.mjs';

const PDC_SECTIONS = ['presentation_du_cours', 'objectif_terminal_du_cours', 'organisation_et_methodes',
    'accomodement', 'evaluation_formative_apprentissages', 'evaluation_expression_francais',
    'materiel', 'seuil_reussite', 'calendriers', 'evaluations'];
const UPSTREAM = process.env.RELAIS_OPENAI_BASE_URL;

const user = ({ credits = '5.00', member = true, role = 'professeur' } = {}) => newUser({ prefix: 'batch', credits, member, role });
const post = (u, path, body = {}) => postJSON(path, body, auth(u.token));
const get = (u, path) => getJSON(path, { headers: auth(u.token) });
const del = (u, path) => getJSON(path, { method: 'DELETE', headers: auth(u.token) });
const json = (sql) => JSON.parse(psql(sql));

// A cours of the demo programme (session 1) with a plan-cadre (two
// capacités) and an A25 plan de cours.
function fixture() {
	const code = `BAT-${uniq()}`;
	const cours = psql(`INSERT INTO cours (code, nom) VALUES (${q(code)}, 'Cours de lot') RETURNING id`);
	psql(`INSERT INTO cours_programme (cours_id, programme_id, session) VALUES (${cours}, ${demoProgramme()}, 1)`);
	const pc = psql(`INSERT INTO plan_cadre (cours_id, place_intro, objectif_terminal) VALUES (${cours}, ` +
	    `'Cours de base', 'Analyser des circuits') RETURNING id`);
	const cap = psql(`INSERT INTO plan_cadre_capacites (plan_cadre_id, capacite, description_capacite, ` +
	    `ponderation_min, ponderation_max) VALUES (${pc}, 'Analyser des circuits simples', 'Mesures', 40, 60) RETURNING id`);
	psql(`INSERT INTO plan_cadre_capacites (plan_cadre_id, capacite, description_capacite, ` +
	    `ponderation_min, ponderation_max) VALUES (${pc}, 'Concevoir un montage', 'Choix', 40, 60)`);
	const plan = psql(`INSERT INTO plan_de_cours (cours_id, session, presentation_du_cours, materiel) ` +
	    `VALUES (${cours}, 'A25', 'Ancienne présentation', 'Multimètre') RETURNING id`);
	return { cours: Number(cours), pc: Number(pc), cap: Number(cap), plan: Number(plan) };
}

// Everything the plan de cours holds, as one text.
const dump = (plan) => psql(`SELECT json_build_object('p', (SELECT row_to_json(d) FROM plan_de_cours d WHERE d.id = ${plan}), ` +
    `'c', (SELECT json_agg(row_to_json(k) ORDER BY k.id) FROM plan_de_cours_calendrier k WHERE k.plan_de_cours_id = ${plan}), ` +
    `'e', (SELECT json_agg(row_to_json(v) ORDER BY v.id) FROM plan_de_cours_evaluations v WHERE v.plan_de_cours_id = ${plan}))`);

const items = (id) => json(`SELECT coalesce(json_agg(json_build_object('custom_id', custom_id, 'section', section, ` +
    `'status', status, 'task_id', task_id, 'hold_id', hold_id, 'cost', cost_micro) ORDER BY section), '[]') ` +
    `FROM gen_batch_items WHERE batch_id = ${id}`);
const openHolds = (u) => Number(psql(`SELECT count(*) FROM credit_reservations WHERE user_id = ${u.id} AND state = 'reserved'`));
const ledger = (id) => json(`SELECT coalesce(json_agg(json_build_object('task_id', l.task_id, 'cost', ` +
    `(l.cost * 1000000)::bigint, 'in', l.input_tokens, 'out', l.output_tokens, 'cached', l.cached_input_tokens, ` +
    `'full', ceil((l.input_tokens * m.input_price + l.output_tokens * m.output_price))::bigint, 'res', l.reservation_id)), '[]') ` +
    `FROM usage_ledger l JOIN openai_models m ON m.name = l.model ` +
    `WHERE l.task_id IN (SELECT task_id FROM gen_batch_items WHERE batch_id = ${id})`);

// Launch; the 202 {batch}.
async function launch(u, body, status = 202) {
	const r = await post(u, '/batch', body);
	assert.equal(r.status, status, JSON.stringify(r.body));
	return r.body;
}

// Wait for the batch to be collected (by the worker's poll).
const collected = (u, id, ms = 30000) => until(`batch ${id} collected`, () =>
    psql(`SELECT status FROM gen_batches WHERE id = ${id}`) === 'collected', ms, 200);

// The JSONL relais uploaded, read back from the fake upstream.
async function inputLines(id) {
	const fid = psql(`SELECT input_file_id FROM gen_batches WHERE id = ${id}`);
	const r = await fetch(`${UPSTREAM}/files/${fid}/content`, { headers: { Authorization: 'Bearer sk-fake' } });
	assert.equal(r.status, 200);
	return (await r.text()).split('\n').filter((l) => l !== '').map((l) => JSON.parse(l));
}

test('ten plan-de-cours sections end to end: launch, progress, collected, previews, apply; money at half price', { timeout: 90000 }, async () => {
	const u = await user();
	const f = fixture();
	const before = dump(f.plan);
	const b = (await launch(u, { kind: 'plan_de_cours', plan_ids: [f.plan],
	    additional_info: '[[X-Fake-Batch-Step-Ms: 4000]]' })).batch;
	assert.equal(b.kind, 'plan_de_cours');
	assert.equal(b.total, 10);
	assert.equal(b.parent_id, null);
	assert.match(b.openai_batch_id, /^batch_/);
	assert.ok(['validating', 'in_progress'].includes(b.status), b.status);
	assert.deepEqual([...b.sections].sort(), [...PDC_SECTIONS].sort());
	// One hold per line, each on its preview task, summing to the reserve.
	const its = items(b.id);
	assert.equal(its.length, 10);
	const holds = json(`SELECT json_agg(json_build_object('amount', (amount * 1000000)::bigint, 'task', task_id::text, ` +
	    `'state', state)) FROM credit_reservations WHERE id IN (SELECT hold_id FROM gen_batch_items WHERE batch_id = ${b.id})`);
	assert.equal(holds.length, 10);
	assert.ok(holds.every((h) => h.state === 'reserved'));
	assert.equal(holds.reduce((s, h) => s + h.amount, 0), b.reserved_micro);
	assert.deepEqual(holds.map((h) => h.task).sort(), its.map((i) => i.task_id).sort());

	// The lines: one per section, custom_id -> (plan, section), the
	// synchronous request without stream.
	const lines = await inputLines(b.id);
	assert.deepEqual(lines.map((l) => l.custom_id).sort(), PDC_SECTIONS.map((s) => `pdc-${f.plan}-${s}`).sort());
	for (const l of lines) {
		assert.equal(l.method, 'POST');
		assert.equal(l.url, '/v1/responses');
		assert.equal(l.body.stream, undefined);
		assert.equal(l.body.text.format.type, 'json_schema');
		assert.equal(l.body.text.format.strict, true);
	}
	// The prompt of a field is exactly what the synchronous task sends.
	const sync = await post(u, `/api/plan_de_cours/${f.plan}/improve/materiel`, { additional_info: '[[X-Fake-Batch-Step-Ms: 4000]]' });
	assert.equal(sync.status, 202, JSON.stringify(sync.body));
	const payload = json(`SELECT payload FROM tasks WHERE id = ${q(sync.body.task_id)}`);
	const mat = lines.find((l) => l.custom_id === `pdc-${f.plan}-materiel`);
	assert.deepEqual(mat.body.input, [{ role: 'user', content: payload.prompt.prompt }]);
	assert.equal(mat.body.instructions, payload.prompt.system ?? undefined);
	assert.equal(mat.body.model, payload.prompt.model);
	assert.equal(mat.body.text.format.name, 'SingleFieldResponse');

	// Progress as the worker polls: in_progress, then collected.
	const seen = [];
	await until('in progress', () => {
		const st = psql(`SELECT status FROM gen_batches WHERE id = ${b.id}`);
		if (seen[seen.length - 1] !== st)
			seen.push(st);
		return st === 'in_progress' ? st : (st === 'collected' ? assert.fail(JSON.stringify(seen)) : null);
	}, 20000, 100);
	let r = await get(u, `/batch/${b.id}`);
	assert.equal(r.status, 200);
	assert.equal(typeof r.body.batch.progress_pct, 'number');
	// Running counts (the fake finishes lines through its 4 s step): a
	// part done gives a percentage between 0 and 100 and a time left.
	const part = await until('running counts', async () => {
		const x = await post(u, `/batch/${b.id}/refresh`);
		assert.equal(x.status, 200, JSON.stringify(x.body));
		const xb = x.body.batch;
		assert.notEqual(xb.status, 'collected', JSON.stringify(xb));
		return xb.status === 'in_progress' && xb.completed > 0 &&
		    xb.completed < xb.total ? xb : null;
	}, 20000, 150);
	assert.ok(part.progress_pct > 0 && part.progress_pct < 100, JSON.stringify(part));
	assert.ok(Number.isInteger(part.eta_seconds) && part.eta_seconds > 0, JSON.stringify(part));
	assert.equal(r.body.raw.id, b.openai_batch_id);
	// The button and the poller at once: collected exactly once.
	await until('completed upstream', () => ['completed', 'collected'].includes(psql(`SELECT status FROM gen_batches WHERE id = ${b.id}`)), 20000, 100);
	const racers = await Promise.all([post(u, `/batch/${b.id}/refresh`), post(u, '/batch/process'), post(u, `/batch/${b.id}/refresh`)]);
	for (const x of racers)
		assert.equal(x.status, 200, JSON.stringify(x.body));
	await collected(u, b.id);
	r = await get(u, `/batch/${b.id}`);
	assert.equal(r.body.batch.status, 'collected');
	assert.equal(r.body.batch.progress_pct, 100);
	assert.equal(r.body.batch.completed, 10);
	assert.equal(r.body.batch.failed, 0);
	assert.equal(r.body.items.length, 10);
	assert.ok(r.body.items.every((i) => i.status === 'ok' && i.error === null), JSON.stringify(r.body.items));

	// Money: one ledger row per line, at half the price, holds closed.
	const rows = ledger(b.id);
	assert.equal(rows.length, 10);
	for (const row of rows) {
		assert.ok(row.out > 0);
		assert.ok(Math.abs(2 * row.cost - row.full) <= 2, JSON.stringify(row));
	}
	assert.deepEqual(rows.map((x) => x.task_id).sort(), its.map((i) => i.task_id).sort());
	assert.equal(openHolds(u), 0);
	assert.equal(r.body.batch.settled_micro, rows.reduce((s, x) => s + x.cost, 0));
	assert.ok(r.body.batch.settled_micro < r.body.batch.reserved_micro);

	// Previews only: the plan is as it was; each task is a preview of it.
	assert.equal(dump(f.plan), before);
	const tasks = json(`SELECT json_agg(json_build_object('state', state, 'result', result, 'name', name)) FROM tasks ` +
	    `WHERE id IN (SELECT task_id FROM gen_batch_items WHERE batch_id = ${b.id})`);
	assert.ok(tasks.every((t) => t.state === 'SUCCESS' && t.result.plan_id === f.plan && t.result.status === 'success'));
	const matTask = its.find((i) => i.section === 'materiel').task_id;
	const matRes = tasks.find((t) => t.result.validation_url.endsWith(matTask)).result;
	assert.equal(matRes.old_fields.materiel, 'Multimètre');
	assert.equal(typeof matRes.fields.materiel, 'string');
	// Apply through the synchronous review route: that field only, once.
	r = await post(u, `/plan_de_cours/review/${f.plan}/apply`, { action: 'confirm', task_id: matTask });
	assert.equal(r.status, 200, JSON.stringify(r.body));
	assert.equal(psql(`SELECT materiel FROM plan_de_cours WHERE id = ${f.plan}`), matRes.fields.materiel);
	assert.equal(psql(`SELECT presentation_du_cours FROM plan_de_cours WHERE id = ${f.plan}`), 'Ancienne présentation');
	r = await post(u, `/plan_de_cours/review/${f.plan}/apply`, { action: 'confirm', task_id: matTask });
	assert.equal(r.status, 409);
	// The history lists it, newest first.
	r = await get(u, '/batch');
	assert.equal(r.status, 200);
	assert.equal(r.body.batches[0].id, b.id);
	r = await post(u, `/batch/${b.id}/resume`);
	assert.equal(r.status, 409);
	assert.equal(r.body.error.code, 'nothing_to_resume');
});

test('partial failure: failed and invalid lines, resume sends exactly those', { timeout: 90000 }, async () => {
	const u = await user();
	const f = fixture();
	const b = (await launch(u, { kind: 'plan_de_cours', plan_ids: [f.plan],
	    sections: ['materiel', 'accomodement', 'calendriers'],
	    additional_info: `[[X-Fake-Batch-Fail: ${f.plan}-materiel; X-Fake-Batch-Invalid: ${f.plan}-accomodement]]` })).batch;
	assert.equal(b.total, 3);
	await collected(u, b.id);
	const its = items(b.id);
	assert.deepEqual(its.map((i) => [i.section, i.status]), [['accomodement', 'invalid'], ['calendriers', 'ok'], ['materiel', 'failed']]);
	// Billed: the two answered lines (the invalid one was produced);
	// the failed line's hold is released, no row.
	const rows = ledger(b.id);
	assert.deepEqual(rows.map((x) => x.task_id).sort(), its.filter((i) => i.section !== 'materiel').map((i) => i.task_id).sort());
	assert.equal(psql(`SELECT state FROM credit_reservations WHERE id = ${its.find((i) => i.section === 'materiel').hold_id}`), 'released');
	assert.equal(openHolds(u), 0);
	const failedTask = json(`SELECT json_build_object('state', state, 'result', result) FROM tasks WHERE id = ${q(its.find((i) => i.section === 'accomodement').task_id)}`);
	assert.equal(failedTask.state, 'FAILURE');
	assert.equal(failedTask.result.status, 'error');

	const r = await post(u, `/batch/${b.id}/resume`);
	assert.equal(r.status, 202, JSON.stringify(r.body));
	const nb = r.body.batch;
	assert.equal(nb.parent_id, b.id);
	assert.equal(nb.total, 2);
	const lines = await inputLines(nb.id);
	assert.deepEqual(lines.map((l) => l.custom_id).sort(), [`pdc-${f.plan}-accomodement`, `pdc-${f.plan}-materiel`]);
	await collected(u, nb.id);
	// The fake fails a line once: materiel comes back this time.
	assert.deepEqual(items(nb.id).map((i) => [i.section, i.status]), [['accomodement', 'invalid'], ['materiel', 'ok']]);
});

test('an expired batch: every line expired, nothing billed, resumable', { timeout: 60000 }, async () => {
	const u = await user();
	const f = fixture();
	const b = (await launch(u, { kind: 'plan_de_cours', plan_ids: [f.plan], sections: ['materiel', 'calendriers'],
	    additional_info: '[[X-Fake-Batch-Expire: 1]]' })).batch;
	await collected(u, b.id);
	assert.deepEqual(items(b.id).map((i) => i.status), ['expired', 'expired']);
	assert.equal(ledger(b.id).length, 0);
	assert.equal(openHolds(u), 0);
	const r = await get(u, `/batch/${b.id}`);
	assert.equal(r.body.raw.status, 'expired');
	assert.equal(r.body.batch.failed, 2);
	const again = await post(u, `/batch/${b.id}/resume`, {});
	assert.equal(again.status, 202, JSON.stringify(again.body));
	assert.equal(again.body.batch.total, 2);
	await collected(u, again.body.batch.id);
});

test('cancel: the batch ends cancelled, holds released, no ledger row; delete hides it', { timeout: 60000 }, async () => {
	const u = await user();
	const f = fixture();
	const b = (await launch(u, { kind: 'plan_de_cours', plan_ids: [f.plan], sections: ['materiel', 'accomodement'],
	    additional_info: '[[X-Fake-Batch-Step-Ms: 4000]]' })).batch;
	let r = await post(u, `/batch/${b.id}/cancel`);
	assert.equal(r.status, 200, JSON.stringify(r.body));
	assert.equal(r.body.batch.status, 'cancelling');
	await collected(u, b.id);
	assert.deepEqual(items(b.id).map((i) => i.status), ['cancelled', 'cancelled']);
	assert.equal(ledger(b.id).length, 0);
	assert.equal(openHolds(u), 0);
	assert.equal(psql(`SELECT count(*) FROM tasks WHERE id IN (SELECT task_id FROM gen_batch_items WHERE batch_id = ${b.id}) AND state = 'FAILURE'`), '2');
	r = await post(u, `/batch/${b.id}/cancel`);
	assert.equal(r.status, 409);
	r = await del(u, `/batch/${b.id}`);
	assert.equal(r.status, 200);
	assert.deepEqual(r.body, { deleted: b.id });
	r = await get(u, `/batch/${b.id}`);
	assert.equal(r.status, 404);
	r = await get(u, '/batch');
	assert.ok(!r.body.batches.some((x) => x.id === b.id));
});

test('plan-cadre sections as a batch: previews the plan-cadre review takes', { timeout: 60000 }, async () => {
	const u = await user({ role: 'coordo' });
	const f = fixture();
	const secs = json(`SELECT coalesce(json_agg(replace(replace(target, 'plan_cadre.', ''), 'plan_cadre_', '')), '[]') FROM global_generation_settings ` +
	    `WHERE use_ai AND target IN ('plan_cadre.place_intro', 'plan_cadre.objectif_terminal', 'plan_cadre_place_intro', 'plan_cadre_objectif_terminal')`);
	assert.ok(secs.length >= 1, 'the demo settings generate place_intro or objectif_terminal');
	const b = (await launch(u, { kind: 'plan_cadre', plan_ids: [f.pc], sections: secs, additional_info: 'Lot de test' })).batch;
	assert.equal(b.total, secs.length);
	await collected(u, b.id);
	const its = items(b.id);
	assert.ok(its.every((i) => i.status === 'ok'), JSON.stringify(its));
	const r = await get(u, `/plan_cadre/${f.pc}/review?task_id=${its[0].task_id}`);
	assert.equal(r.status, 200, JSON.stringify(r.body));
	assert.equal(r.body.plan_id, f.pc);
	assert.equal(typeof r.body.proposed.fields[its[0].section], 'string');
	assert.equal(ledger(b.id).length, secs.length);
	assert.equal(openHolds(u), 0);
});

test('bad input: clear 4xx, nothing uploaded, nothing held', { timeout: 60000 }, async () => {
	const u = await user();
	const outsider = await user({ member: false });
	const f = fixture();
	const files = async () => (await (await fetch(`${UPSTREAM}/files`, { headers: { Authorization: 'Bearer sk-fake' } })).json()).data.length;
	const state = (x) => psql(`SELECT json_build_array((SELECT count(*) FROM gen_batches WHERE user_id = ${x.id}), ` +
	    `(SELECT count(*) FROM credit_reservations WHERE user_id = ${x.id}), (SELECT count(*) FROM tasks WHERE user_id = ${x.id}))`);
	const s0 = state(u), o0 = state(outsider), n0 = await files();
	let r = await post(u, '/batch', { kind: 'plan_de_cours', plan_ids: [999999999] });
	assert.equal(r.status, 404);
	assert.equal(r.body.error.code, 'not_found');
	r = await post(outsider, '/batch', { kind: 'plan_de_cours', plan_ids: [f.plan] });
	assert.equal(r.status, 404);
	assert.equal(r.body.error.code, 'not_found');
	r = await post(outsider, '/batch', { kind: 'plan_cadre', plan_ids: [f.pc], sections: ['place_intro'] });
	assert.equal(r.status, 404);
	r = await post(u, '/batch', { kind: 'plan_de_cours', plan_ids: [] });
	assert.equal(r.status, 400);
	assert.equal(r.body.error.code, 'bad_request');
	assert.equal(r.body.error.field, 'plan_ids');
	r = await post(u, '/batch', { kind: 'plan_de_cours', plan_ids: [f.plan], sections: [] });
	assert.equal(r.status, 400);
	r = await post(u, '/batch', { kind: 'plan_de_cours', plan_ids: [f.plan], sections: ['nope'] });
	assert.equal(r.status, 400);
	assert.equal(r.body.error.field, 'sections');
	r = await post(u, '/batch', { kind: 'plan_cadre', plan_ids: [f.pc], sections: ['materiel'] });
	assert.equal(r.status, 400);
	r = await post(u, '/batch', { kind: 'nope', plan_ids: [f.plan] });
	assert.equal(r.status, 422);
	r = await post(outsider, '/batch', { kind: 'plan_de_cours', programme_id: Number(demoProgramme()), session: 1 });
	assert.equal(r.status, 404);
	// Short of credits: 402 before anything is uploaded or held.
	const poor = await user({ credits: '0.00' });
	const p0 = state(poor);
	r = await post(poor, '/batch', { kind: 'plan_de_cours', plan_ids: [f.plan] });
	assert.equal(r.status, 402, JSON.stringify(r.body));
	assert.equal(r.body.error.code, 'insufficient_credits');
	assert.equal(state(poor), p0);
	assert.equal(state(u), s0);
	assert.equal(state(outsider), o0);
	assert.equal(await files(), n0);

	// Sections whose settings name different models: one batch takes one
	// model (400 on model, nothing held); the launch's model makes one.
	const was = psql(`SELECT ai_model FROM plan_de_cours_prompt_settings WHERE field_name = 'presentation_du_cours'`);
	assert.notEqual(was, 'gpt-4o');
	psql(`UPDATE plan_de_cours_prompt_settings SET ai_model = 'gpt-4o' WHERE field_name = 'presentation_du_cours'`);
	try {
		const mixed = { kind: 'plan_de_cours', plan_ids: [f.plan], sections: ['presentation_du_cours', 'objectif_terminal_du_cours'] };
		r = await post(u, '/batch', mixed);
		assert.equal(r.status, 400, JSON.stringify(r.body));
		assert.equal(r.body.error.field, 'model');
		assert.match(r.body.error.message, /gpt-4o/);
		assert.equal(state(u), s0);
		assert.equal(await files(), n0);
		const one = (await launch(u, { ...mixed, model: 'gpt-5' })).batch;
		assert.deepEqual((await inputLines(one.id)).map((l) => l.body.model), ['gpt-5', 'gpt-5']);
		await collected(u, one.id);
	} finally {
		psql(`UPDATE plan_de_cours_prompt_settings SET ai_model = '${was}' WHERE field_name = 'presentation_du_cours'`);
	}

	// Another user's batch is not found, whatever the action.
	const b = (await launch(u, { kind: 'plan_de_cours', plan_ids: [f.plan], sections: ['materiel'] })).batch;
	for (const [m, path] of [['GET', `/batch/${b.id}`], ['POST', `/batch/${b.id}/refresh`], ['POST', `/batch/${b.id}/cancel`],
	    ['POST', `/batch/${b.id}/resume`], ['DELETE', `/batch/${b.id}`]]) {
		r = m === 'GET' ? await get(outsider, path) : m === 'POST' ? await post(outsider, path) : await del(outsider, path);
		assert.equal(r.status, 404, `${m} ${path}`);
	}
	r = await get(outsider, '/batch');
	assert.ok(!r.body.batches.some((x) => x.id === b.id));
	await collected(u, b.id);
	await sleep(10);
});
