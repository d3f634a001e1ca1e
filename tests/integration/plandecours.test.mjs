// EDxo's plan-de-cours AI features (issue 7, contract 4.2 and 4.5-4.8)
// through nginx, the plandecours program, relais-worker and the fake
// upstream (which synthesises schema-valid answers; "[[X-Fake-...]]" in a
// prompt drives its faults).  Each test works on its own cours, plan-cadre
// and plan de cours created here with psql, so runs never share rows.
import test from 'node:test';
import assert from 'node:assert/strict';
import { admin, auth, getJSON, newUser, pdcContent, pdcFixture, postJSON, psql, q, recorder, uniq, waitTask } from './lib.mjs';

const FIELDS = ['presentation_du_cours', 'objectif_terminal_du_cours', 'organisation_et_methodes',
    'accomodement', 'evaluation_formative_apprentissages', 'evaluation_expression_francais',
    'materiel', 'seuil_reussite'];
// A fresh user of the demo programme (member = false: of none).
const user = ({ credits = '5.00', role = 'professeur', member = true } = {}) => newUser({ prefix: 'pdc', credits, role, member });

// Everything a plan de cours holds, as one JSON text: two dumps are equal
// exactly when nothing was written.
function dump(plan) {
	return psql(`SELECT json_build_object('plan', (SELECT row_to_json(d) FROM plan_de_cours d WHERE d.id = ${plan}), ` +
	    `'cal', (SELECT json_agg(row_to_json(k) ORDER BY k.id) FROM plan_de_cours_calendrier k WHERE k.plan_de_cours_id = ${plan}), ` +
	    `'med', (SELECT json_agg(row_to_json(m) ORDER BY m.id) FROM plan_de_cours_mediagraphie m WHERE m.plan_de_cours_id = ${plan}), ` +
	    `'dis', (SELECT json_agg(row_to_json(a) ORDER BY a.id) FROM plan_de_cours_disponibilite_enseignant a WHERE a.plan_de_cours_id = ${plan}), ` +
	    `'ev', (SELECT json_agg(json_build_object('e', row_to_json(v), 'c', (SELECT json_agg(row_to_json(c) ORDER BY c.id) ` +
	    `FROM plan_de_cours_evaluations_capacites c WHERE c.evaluation_id = v.id)) ORDER BY v.id) ` +
	    `FROM plan_de_cours_evaluations v WHERE v.plan_de_cours_id = ${plan}))`);
}

const ledger = (u) => Number(psql(`SELECT count(*) FROM usage_ledger WHERE user_id = ${u.id} AND kind <> 'admin_credit'`));
const taskCount = (u) => Number(psql(`SELECT count(*) FROM tasks WHERE user_id = ${u.id}`));
const post = (u, path, body) => postJSON(path, body, auth(u.token));

// Wait for a task to finish; its row {state, result}.
const finished = (id, ms = 20000) => waitTask(id, { ms, every: 100, columns: ['state', 'result'] });

// Start a task route; the task id (202 {task_id}).
async function startTask(u, path, body = {}) {
	const r = await post(u, path, body);
	assert.equal(r.status, 202, JSON.stringify(r.body));
	assert.deepEqual(Object.keys(r.body), ['task_id']);
	assert.match(r.body.task_id, /^[0-9a-f-]{36}$/);
	return r.body.task_id;
}

// The keys every preview carries, and the old values they must show.
function checkPreview(res, f, id) {
	assert.equal(res.status, 'success');
	assert.equal(res.plan_id, f.plan);
	assert.equal(res.cours_id, f.cours);
	assert.equal(res.session, 'A25');
	assert.equal(res.plan_de_cours_url, `/cours/${f.cours}/plan_de_cours/A25/`);
	assert.equal(res.validation_url, `/plan_de_cours/review/${f.plan}?task_id=${id}`);
	assert.equal(typeof res.reasoning_summary, 'string');
	assert.deepEqual(Object.keys(res.old_fields).sort(), [...FIELDS].sort());
	assert.equal(res.old_fields.presentation_du_cours, 'Ancienne présentation');
	assert.equal(res.old_fields.materiel, 'Multimètre');
	assert.deepEqual(res.old_calendriers.map((c) => [c.semaine, c.sujet]), [[1, 'Ancien sujet']]);
	assert.deepEqual(res.old_mediagraphies, [{ reference_bibliographique: 'Ancien livre' }]);
	assert.deepEqual(res.old_disponibilites, [{ jour_semaine: 'Lundi', plage_horaire: '13 h à 15 h', lieu: 'B-101' }]);
	assert.equal(res.old_evaluations.length, 1);
	assert.equal(res.old_evaluations[0].titre_evaluation, 'Ancien examen');
	assert.deepEqual(res.old_evaluations[0].capacites,
	    [{ capacite_id: f.cap1, capacite: 'Analyser des circuits simples', ponderation: '30 %' }]);
	assert.equal(typeof res.usage.input_tokens, 'number');
	assert.equal(typeof res.usage.cost, 'number');
}

const apply = (u, f, body) => post(u, `/plan_de_cours/review/${f.plan}/apply`, body);

// The same fields as EDxo's pages also send them: FormData (multipart)
// and a urlencoded form, every value as text.
function formData(fields) {
	const fd = new FormData();
	for (const [k, v] of Object.entries(fields))
		fd.append(k, String(v));
	return fd;
}
const postForm = (u, path, fields) => getJSON(path, { method: 'POST', headers: auth(u.token), body: formData(fields) });
const postUrlenc = (u, path, fields) => getJSON(path, { method: 'POST',
    headers: { ...auth(u.token), 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(Object.entries(fields).map(([k, v]) => [k, String(v)])).toString() });

test('generate_content: a section from the stored template, nothing written, billed once', async () => {
	const u = await user();
	const f = pdcFixture();
	const before = dump(f.plan);
	const r = await post(u, '/generate_content', { field_name: 'presentation_du_cours',
	    current_value: 'Texte actuel', cours_id: f.cours, session: 'A25' });
	assert.equal(r.status, 200, JSON.stringify(r.body));
	assert.deepEqual(Object.keys(r.body), ['champ_description']);
	assert.equal(typeof r.body.champ_description, 'string');
	assert.ok(r.body.champ_description.length > 0);
	assert.equal(dump(f.plan), before);
	assert.equal(ledger(u), 1);
	// A field without a prompt row, a cours the user does not see.
	let x = await post(u, '/generate_content', { field_name: 'materiel', cours_id: f.cours, session: 'A25' });
	assert.equal(x.status, 400, JSON.stringify(x.body));
	assert.match(x.body.error, /materiel/);
	const out = await user({ member: false });
	x = await post(out, '/generate_content', { field_name: 'presentation_du_cours', cours_id: f.cours, session: 'A25' });
	assert.equal(x.status, 404, JSON.stringify(x.body));
	assert.equal(typeof x.body.error, 'string');
	x = await post(u, '/generate_content', { field_name: 'presentation_du_cours', cours_id: f.cours });
	assert.equal(x.status, 400);
	assert.equal(x.body.field, 'session');
	assert.equal(ledger(u), 1);
	assert.equal(ledger(out), 0);
});

test('a missing template variable: 400 naming it, nothing queued, paid or written', async () => {
	const u = await user();
	const f = pdcFixture();
	const before = dump(f.plan);
	const saved = psql("SELECT prompt_template FROM plan_de_cours_prompt_settings WHERE field_name = 'presentation_du_cours'");
	psql("UPDATE plan_de_cours_prompt_settings SET prompt_template = prompt_template || ' {variable_inconnue}' " +
	    "WHERE field_name = 'presentation_du_cours'");
	try {
		let r = await post(u, '/generate_content', { field_name: 'presentation_du_cours', cours_id: f.cours, session: 'A25' });
		assert.equal(r.status, 400, JSON.stringify(r.body));
		assert.equal(r.body.error, 'Variable manquante dans le template: variable_inconnue');
		assert.equal(r.body.field, 'variable_inconnue');
		r = await post(u, `/api/plan_de_cours/${f.plan}/improve/presentation_du_cours`, {});
		assert.equal(r.status, 400, JSON.stringify(r.body));
		assert.match(r.body.error, /variable_inconnue/);
	} finally {
		psql(`UPDATE plan_de_cours_prompt_settings SET prompt_template = ${q(saved)} WHERE field_name = 'presentation_du_cours'`);
	}
	assert.equal(taskCount(u), 0);
	assert.equal(ledger(u), 0);
	assert.equal(dump(f.plan), before);
});

test('improve a field: a preview with the old values; confirm writes that field only, once', { timeout: 30000 }, async () => {
	const u = await user();
	const f = pdcFixture();
	const before = JSON.parse(dump(f.plan));
	const id = await startTask(u, `/api/plan_de_cours/${f.plan}/improve/presentation_du_cours`,
	    { additional_info: 'Ton chaleureux' });
	const t = await finished(id);
	assert.equal(t.state, 'SUCCESS', JSON.stringify(t.result));
	checkPreview(t.result, f, id);
	assert.equal(t.result.field_name, 'presentation_du_cours');
	assert.equal(typeof t.result.value, 'string');
	assert.deepEqual(t.result.fields, { presentation_du_cours: t.result.value });
	assert.ok(!('calendriers' in t.result) && !('evaluations' in t.result));
	assert.deepEqual(JSON.parse(dump(f.plan)), before, 'a task writes nothing');
	const s = await getJSON(`/tasks/status/${id}`, { headers: auth(u.token) });
	assert.equal(s.status, 200, JSON.stringify(s.body));
	assert.equal(s.body.state, 'SUCCESS');
	assert.deepEqual(s.body.result, t.result);

	let r = await apply(u, f, { action: 'confirm', task_id: id });
	assert.equal(r.status, 200, JSON.stringify(r.body));
	assert.deepEqual(r.body, { success: true, redirect_url: `/cours/${f.cours}/plan_de_cours/A25/` });
	const after = JSON.parse(dump(f.plan));
	assert.equal(after.plan.presentation_du_cours, t.result.value);
	assert.equal(after.plan.modified_by_id, u.id);
	for (const k of ['cal', 'med', 'dis', 'ev'])
		assert.deepEqual(after[k], before[k], `${k} untouched`);
	for (const k of FIELDS.filter((x) => x !== 'presentation_du_cours'))
		assert.equal(after.plan[k], before.plan[k]);
	r = await apply(u, f, { action: 'confirm', task_id: id });
	assert.equal(r.status, 409, JSON.stringify(r.body));
	// Unsupported field, bad action, someone else's task.
	r = await post(u, `/api/plan_de_cours/${f.plan}/improve/campus`, {});
	assert.equal(r.status, 400);
	assert.match(r.body.error, /Champ non supporté/);
	r = await apply(u, f, { action: 'maybe', task_id: id });
	assert.equal(r.status, 400);
	const other = await user();
	r = await apply(other, f, { action: 'confirm', task_id: id });
	assert.equal(r.status, 404);
});

test('calendar task: revert leaves the database as it was, then the task cannot be confirmed', { timeout: 30000 }, async () => {
	const u = await user();
	const f = pdcFixture();
	const before = dump(f.plan);
	const id = await startTask(u, `/api/plan_de_cours/${f.plan}/generate_calendar`, { additional_info: 'Semaine 8 : relâche' });
	const t = await finished(id);
	assert.equal(t.state, 'SUCCESS', JSON.stringify(t.result));
	checkPreview(t.result, f, id);
	assert.ok(Array.isArray(t.result.calendriers) && t.result.calendriers.length > 0);
	for (const c of t.result.calendriers)
		assert.deepEqual(Object.keys(c).sort(), ['activites', 'evaluations', 'semaine', 'sujet', 'travaux_hors_classe']);
	let r = await apply(u, f, { action: 'revert', task_id: id });
	assert.equal(r.status, 200, JSON.stringify(r.body));
	assert.equal(r.body.success, true);
	assert.equal(dump(f.plan), before);
	r = await apply(u, f, { action: 'confirm', task_id: id });
	assert.equal(r.status, 409);
	assert.equal(dump(f.plan), before);
});

test('calendar task confirmed: the calendar is exactly the preview, the rest untouched', { timeout: 30000 }, async () => {
	const u = await user();
	const f = pdcFixture();
	const before = JSON.parse(dump(f.plan));
	const id = await startTask(u, `/api/plan_de_cours/${f.plan}/generate_calendar`, {
	    existing_calendriers: [{ semaine: 1, sujet: 'Intro' }] });
	const t = await finished(id);
	assert.equal(t.state, 'SUCCESS', JSON.stringify(t.result));
	const r = await apply(u, f, { action: 'confirm', task_id: id });
	assert.equal(r.status, 200, JSON.stringify(r.body));
	const after = JSON.parse(dump(f.plan));
	assert.deepEqual(after.cal.map((c) => [c.semaine, c.sujet, c.activites, c.travaux_hors_classe, c.evaluations]),
	    t.result.calendriers.map((c) => [c.semaine, c.sujet, c.activites, c.travaux_hors_classe, c.evaluations]));
	assert.deepEqual(after.ev, before.ev);
	assert.deepEqual(after.med, before.med);
	assert.equal(after.plan.presentation_du_cours, before.plan.presentation_du_cours);
	const bad = await post(u, `/api/plan_de_cours/${f.plan}/generate_calendar`, { existing_calendriers: 'non' });
	assert.equal(bad.status, 400);
});

test('evaluations task: capacités resolved against the plan-cadre, confirm writes them', { timeout: 30000 }, async () => {
	const u = await user();
	const f = pdcFixture();
	const id = await startTask(u, `/api/plan_de_cours/${f.plan}/generate_evaluations`, {});
	const t = await finished(id);
	assert.equal(t.state, 'SUCCESS', JSON.stringify(t.result));
	checkPreview(t.result, f, id);
	assert.ok(t.result.evaluations.length > 0);
	for (const e of t.result.evaluations) {
		assert.deepEqual(Object.keys(e).sort(), ['capacites', 'description', 'semaine', 'titre', 'titre_evaluation']);
		for (const c of e.capacites) {
			assert.deepEqual(Object.keys(c).sort(), ['capacite', 'capacite_id', 'ponderation']);
			// The fake's labels name no capacité of this plan-cadre.
			assert.equal(c.capacite_id, null);
		}
	}
	const r = await apply(u, f, { action: 'confirm', task_id: id });
	assert.equal(r.status, 200, JSON.stringify(r.body));
	const after = JSON.parse(dump(f.plan));
	assert.deepEqual(after.ev.map((x) => [x.e.titre_evaluation, x.e.description, x.e.semaine,
	    (x.c || []).map((c) => [c.capacite_id, c.ponderation])]),
	    t.result.evaluations.map((e) => [e.titre, e.description, e.semaine,
	    e.capacites.map((c) => [c.capacite_id, c.ponderation])]));
});

test('whole plan task: fields, calendar and evaluations; confirm writes exactly the preview', { timeout: 30000 }, async () => {
	const u = await user();
	const f = pdcFixture();
	const before = JSON.parse(dump(f.plan));
	const id = await startTask(u, `/api/plan_de_cours/${f.plan}/generate`, { additional_info: 'Deux laboratoires' });
	const t = await finished(id);
	assert.equal(t.state, 'SUCCESS', JSON.stringify(t.result));
	checkPreview(t.result, f, id);
	assert.ok(Object.keys(t.result.fields).length >= 7);
	assert.ok(t.result.calendriers.length > 0);
	assert.ok(t.result.evaluations.length > 0);
	assert.deepEqual(JSON.parse(dump(f.plan)), before);
	const r = await apply(u, f, { action: 'confirm', task_id: id });
	assert.equal(r.status, 200, JSON.stringify(r.body));
	const after = JSON.parse(dump(f.plan));
	for (const [k, v] of Object.entries(t.result.fields))
		assert.equal(after.plan[k], v, k);
	assert.equal(after.cal.length, t.result.calendriers.length);
	assert.deepEqual(after.ev.map((x) => x.e.titre_evaluation), t.result.evaluations.map((e) => e.titre_evaluation));
	assert.deepEqual(after.med, before.med, 'lists the preview does not carry stay');
	assert.deepEqual(after.dis, before.dis);
});

test('generate_all_start and generate_all_status: EDxo\'s legacy shapes', { timeout: 30000 }, async () => {
	const u = await user();
	const f = pdcFixture();
	let r = await post(u, '/generate_all_start', { cours_id: f.cours, session: 'A25' });
	assert.equal(r.status, 200, JSON.stringify(r.body));
	assert.deepEqual(Object.keys(r.body).sort(), ['success', 'task_id']);
	assert.equal(r.body.success, true);
	const id = r.body.task_id;
	await finished(id);
	r = await getJSON(`/generate_all_status?task_id=${id}`, { headers: auth(u.token) });
	assert.equal(r.status, 200, JSON.stringify(r.body));
	assert.deepEqual(Object.keys(r.body).sort(), ['result', 'state', 'success']);
	assert.equal(r.body.state, 'SUCCESS');
	assert.equal(r.body.result.plan_id, f.plan);
	r = await post(u, '/generate_all_start', { cours_id: f.cours, session: 'H26' });
	assert.equal(r.status, 404);
	assert.equal(r.body.success, false);
	assert.equal(typeof r.body.message, 'string');
	r = await getJSON('/generate_all_status?task_id=nope', { headers: auth(u.token) });
	assert.equal(r.status, 400);
	const other = await user();
	r = await getJSON(`/generate_all_status?task_id=${id}`, { headers: auth(other.token) });
	assert.equal(r.status, 404);
});

test('generate_all and generate_calendar (sync): written at once, EDxo\'s answers', { timeout: 30000 }, async () => {
	const u = await user();
	const f = pdcFixture();
	let r = await post(u, '/generate_all', { cours_id: f.cours, session: 'A25' });
	assert.equal(r.status, 200, JSON.stringify(r.body));
	assert.deepEqual(Object.keys(r.body).sort(), ['calendriers', 'evaluations', 'fields']);
	assert.equal(Object.keys(r.body.fields).length, 7);
	for (const e of r.body.evaluations) {
		assert.deepEqual(Object.keys(e).sort(), ['capacites', 'description', 'semaine', 'titre_evaluation']);
		for (const c of e.capacites)
			assert.deepEqual(Object.keys(c).sort(), ['capacite_id', 'capacite_nom', 'ponderation']);
	}
	let d = JSON.parse(dump(f.plan));
	assert.equal(d.plan.presentation_du_cours, r.body.fields.presentation_du_cours);
	assert.equal(d.cal.length, r.body.calendriers.length);
	assert.deepEqual(d.ev.map((x) => x.e.titre_evaluation), r.body.evaluations.map((e) => e.titre_evaluation));
	r = await post(u, '/generate_calendar', { cours_id: f.cours, session: 'A25' });
	assert.equal(r.status, 200, JSON.stringify(r.body));
	assert.deepEqual(Object.keys(r.body), ['entries']);
	d = JSON.parse(dump(f.plan));
	assert.deepEqual(d.cal.map((c) => [c.semaine, c.sujet]), r.body.entries.map((c) => [c.semaine, c.sujet]));
	assert.equal(ledger(u), 2);
});

test('schema-invalid and invalid-json answers: a clean failure, nothing written', { timeout: 60000 }, async () => {
	const u = await user();
	const f = pdcFixture();
	const before = dump(f.plan);
	let r = await post(u, '/generate_all', { cours_id: f.cours, session: 'A25',
	    additional_info: '[[X-Fake-Fault: schema-invalid]]' });
	assert.equal(r.status, 502, JSON.stringify(r.body));
	assert.equal(typeof r.body.error, 'string');
	assert.equal(dump(f.plan), before);
	r = await post(u, '/generate_all', { cours_id: f.cours, session: 'A25',
	    additional_info: '[[X-Fake-Fault: invalid-json]]' });
	assert.equal(r.status, 502, JSON.stringify(r.body));
	assert.equal(dump(f.plan), before);
	const id = await startTask(u, `/api/plan_de_cours/${f.plan}/generate`,
	    { additional_info: '[[X-Fake-Fault: schema-invalid]]' });
	const t = await finished(id, 30000);
	assert.equal(t.state, 'FAILURE');
	assert.equal(typeof t.result.error, 'string');
	assert.equal(dump(f.plan), before);
	r = await apply(u, f, { action: 'confirm', task_id: id });
	assert.equal(r.status, 409, 'a failed task has nothing to confirm');
	assert.equal(dump(f.plan), before);
});

test('credits and key: EDxo\'s French errors and statuses, nothing written', async () => {
	const broke = await user({ credits: '0.00' });
	const f = pdcFixture();
	const before = dump(f.plan);
	let r = await post(broke, '/generate_content', { field_name: 'presentation_du_cours', cours_id: f.cours, session: 'A25' });
	assert.equal(r.status, 403, JSON.stringify(r.body));
	assert.match(r.body.error, /^Crédits insuffisants/);
	r = await post(broke, '/generate_all', { cours_id: f.cours, session: 'A25' });
	assert.equal(r.status, 403);
	const coordo = await user({ credits: '0.00', role: 'coordo' });
	r = await post(coordo, `/gestion_programme/update_verifier_plan_cours/${f.plan}`, {});
	assert.equal(r.status, 400, JSON.stringify(r.body));
	assert.equal(r.body.error, 'Crédits insuffisants pour cet appel.');
	// A model whose provider has no key.
	const prov = `nokey${uniq()}`;
	const model = `gpt-4o-${prov}`;
	psql(`INSERT INTO providers (name, base_url) VALUES ('${prov}', 'https://nokey.invalid/v1')`);
	psql(`INSERT INTO openai_models (name, input_price, output_price, provider) VALUES ('${model}', 1, 1, '${prov}')`);
	const u = await user();
	r = await post(u, '/generate_all', { cours_id: f.cours, session: 'A25', ai_model: model });
	assert.equal(r.status, 400, JSON.stringify(r.body));
	assert.match(r.body.error, /Clé OpenAI/);
	assert.equal(dump(f.plan), before);
	assert.equal(ledger(broke) + ledger(coordo) + ledger(u), 0);
});

test('verifier: admin|coordo only, two passes billed, three columns written', { timeout: 30000 }, async () => {
	const f = pdcFixture();
	const prof = await user();
	let r = await post(prof, `/gestion_programme/update_verifier_plan_cours/${f.plan}`, {});
	assert.equal(r.status, 403);
	assert.equal(typeof r.body.error, 'string', 'EDxo\'s flat JSON 403');
	assert.equal(r.body.code, 'forbidden');
	r = await getJSON(`/gestion_programme/get_verifier_plan_cours/${f.plan}`, { headers: auth(prof.token) });
	assert.equal(r.status, 403);
	const c = await user({ role: 'coordo' });
	r = await getJSON(`/gestion_programme/get_verifier_plan_cours/${f.plan}`, { headers: auth(c.token) });
	assert.equal(r.status, 200);
	assert.deepEqual(r.body, { compatibility_percentage: 'N/A', recommendation_ameliore: 'N/A', recommendation_plan_cadre: 'N/A' });
	r = await post(c, `/gestion_programme/update_verifier_plan_cours/${f.plan}`, {});
	assert.equal(r.status, 200, JSON.stringify(r.body));
	assert.deepEqual(Object.keys(r.body).sort(), ['compatibility_percentage', 'recommendation_ameliore', 'recommendation_plan_cadre']);
	assert.equal(ledger(c), 2, 'two passes, two ledger rows');
	const row = psql(`SELECT recommendation_ameliore FROM plan_de_cours WHERE id = ${f.plan}`);
	assert.equal(row, r.body.recommendation_ameliore);
	r = await getJSON(`/gestion_programme/get_verifier_plan_cours/${f.plan}`, { headers: auth(c.token) });
	assert.equal(r.body.recommendation_ameliore, row);
	// The async version.
	const id = await startTask(c, `/gestion_programme/analyse_plan_de_cours/${f.plan}/start`, {});
	const t = await finished(id);
	assert.equal(t.state, 'SUCCESS', JSON.stringify(t.result));
	for (const k of ['status', 'plan_id', 'cours_id', 'session', 'compatibility_percentage',
	    'recommendation_ameliore', 'recommendation_plan_cadre', 'usage', 'validation_url'])
		assert.ok(k in t.result, k);
	assert.equal(t.result.validation_url, `/gestion_programme/?open=verify&plan_id=${f.plan}`);
	r = await post(prof, `/gestion_programme/analyse_plan_de_cours/${f.plan}/start`, {});
	assert.equal(r.status, 403);
	r = await post(c, '/gestion_programme/update_verifier_plan_cours/999999999', {});
	assert.equal(r.status, 404);
});

test('what is sent upstream: the rendered template, the section\'s system prompt, the strict schema', { timeout: 30000 }, async () => {
	const rec = await recorder('pdc');
	try {
		const u = await user();
		const f = pdcFixture();
		const code = psql(`SELECT code FROM cours WHERE id = ${f.cours}`);
		const system = psql("SELECT system_prompt FROM section_ai_settings WHERE section = 'plan_de_cours'");
		let r = await post(u, '/generate_all', { cours_id: f.cours, session: 'A25', ai_model: rec.model,
		    additional_info: 'Précision unique 7781' });
		assert.equal(r.status, 200, JSON.stringify(r.body));
		assert.equal(rec.bodies.length, 1);
		let b = rec.bodies[0];
		assert.equal(b.model, rec.model);
		assert.equal(b.instructions, system);
		assert.equal(b.text.format.type, 'json_schema');
		assert.equal(b.text.format.name, 'BulkPlanDeCoursResponse');
		assert.equal(b.text.format.strict, true);
		let input = JSON.stringify(b.input);
		for (const want of ['Précision unique 7781', code, 'A25', 'Analyser des circuits simples',
		    'Pondération : 40 % à 60 %', 'Analyser des circuits'])
			assert.ok(input.includes(want), `the prompt has ${want}`);
		assert.equal(psql(`SELECT model FROM usage_ledger WHERE user_id = ${u.id} AND kind = 'openai_call'`), rec.model);
		assert.equal(psql(`SELECT feature FROM usage_ledger WHERE user_id = ${u.id} AND kind = 'openai_call'`),
		    'plan_de_cours.all');

		// The improve task: the field's row, its current value, the
		// additional information, the improve section's system prompt;
		// the answer streamed into the task's meta.
		const saved = psql("SELECT ai_model FROM plan_de_cours_prompt_settings WHERE field_name = 'presentation_du_cours'");
		psql(`UPDATE plan_de_cours_prompt_settings SET ai_model = '${rec.model}' WHERE field_name = 'presentation_du_cours'`);
		// A plan /generate_all has not rewritten.
		const g = pdcFixture();
		let id;
		try {
			id = await startTask(u, `/api/plan_de_cours/${g.plan}/improve/presentation_du_cours`,
			    { additional_info: 'Ton chaleureux 5512' });
		} finally {
			psql(`UPDATE plan_de_cours_prompt_settings SET ai_model = ${q(saved)} WHERE field_name = 'presentation_du_cours'`);
		}
		const t = await finished(id);
		assert.equal(t.state, 'SUCCESS', JSON.stringify(t.result));
		assert.equal(rec.bodies.length, 2);
		b = rec.bodies[1];
		assert.equal(b.instructions, psql("SELECT system_prompt FROM section_ai_settings WHERE section = 'plan_de_cours_improve'"));
		assert.equal(b.text.format.name, 'SingleFieldResponse');
		input = JSON.stringify(b.input);
		for (const want of ['Ancienne présentation', 'A25', 'Ton chaleureux 5512'])
			assert.ok(input.includes(want), `the prompt has ${want}`);
		const meta = JSON.parse(psql(`SELECT meta FROM tasks WHERE id = '${id}'`));
		assert.equal(typeof meta.stream_buffer, 'string');
		assert.equal(JSON.parse(meta.stream_buffer).champ_description, t.result.value);

		// The Générer form's effort and verbosity reach the request.
		const all = await startTask(u, `/api/plan_de_cours/${g.plan}/generate`,
		    { ai_model: rec.model, reasoning_effort: 'high', verbosity: 'low' });
		assert.equal((await finished(all)).state, 'SUCCESS');
		b = rec.bodies[2];
		assert.equal(b.model, rec.model);
		assert.equal(b.reasoning.effort, 'high');
		assert.equal(b.text.verbosity, 'low');
		r = await post(u, `/api/plan_de_cours/${g.plan}/generate`, { reasoning_effort: 'extreme' });
		assert.equal(r.status, 400);
		assert.equal(r.body.field, 'reasoning_effort');
		assert.equal(rec.bodies.length, 3);

		// The verifier's first pass: the analyse section's model, EDxo's
		// {"instruction": ...} with both plans' JSON; the second pass
		// goes to the prompt row's model (gpt-5, not recorded).
		const c = await user({ role: 'coordo' });
		const sec = psql("SELECT coalesce(ai_model, '') FROM section_ai_settings WHERE section = 'analyse_plan_cours'");
		psql(`UPDATE section_ai_settings SET ai_model = '${rec.model}' WHERE section = 'analyse_plan_cours'`);
		try {
			r = await post(c, `/gestion_programme/update_verifier_plan_cours/${g.plan}`, {});
		} finally {
			psql(`UPDATE section_ai_settings SET ai_model = nullif(${q(sec)}, '') WHERE section = 'analyse_plan_cours'`);
		}
		assert.equal(r.status, 200, JSON.stringify(r.body));
		assert.equal(rec.bodies.length, 4);
		b = rec.bodies[3];
		assert.equal(b.model, rec.model);
		assert.equal(b.text?.format, undefined, 'the first pass is free text');
		input = JSON.stringify(b.input);
		for (const want of ['instruction', 'Ancienne présentation', 'Analyser des circuits simples', 'compatibility_percentage'])
			assert.ok(input.includes(want), `the first pass has ${want}`);
		assert.deepEqual(JSON.parse(psql(`SELECT json_agg(model ORDER BY id) FROM usage_ledger WHERE user_id = ${c.id} ` +
		    "AND kind = 'openai_call'")), [rec.model, 'gpt-5']);
	} finally {
		rec.server.close();
	}
});

test('apply is generic over the preview keys: an import preview (teacher, lists, labels) in one transaction', async () => {
	const u = await user();
	const f = pdcFixture();
	const other = pdcFixture();
	const before = JSON.parse(dump(f.plan));
	// A DOCX import preview as the import task returns it.
	const preview = {
		status: 'success', preview: true, plan_id: f.plan, cours_id: f.cours, session: 'A25',
		fields: { presentation_du_cours: 'Présentation importée', objectif_terminal_du_cours: '',
		    accomodement: null, nom_enseignant: 'Marie Curie', courriel_enseignant: 'mc@example.org' },
		calendriers: [{ semaine: '2', sujet: 'Lois de Kirchhoff', activites: null }, { semaine: -1, sujet: 'Sans semaine' }],
		mediagraphies: [{ reference_bibliographique: 'Floyd, Électronique' }],
		disponibilites: [],
		evaluations: [{ titre_evaluation: 'Examen 1', description: 'Théorie', semaine: 5, capacites: [
		    { capacite_id: null, capacite_nom: 'Capacité 2', ponderation: '20 %' },
		    { capacite_id: other.cap1, capacite_nom: 'ailleurs', ponderation: '5 %' },
		    { capacite_id: f.cap1, capacite_nom: 'x', ponderation: '10 %' }] }],
	};
	const id = psql(`INSERT INTO tasks (name, user_id, state, result) VALUES ('import.plan_de_cours', ${u.id}, 'SUCCESS', ` +
	    `${q(JSON.stringify(preview))}::jsonb) RETURNING id`);
	const r = await apply(u, f, { action: 'confirm', task_id: id });
	assert.equal(r.status, 200, JSON.stringify(r.body));
	const after = JSON.parse(dump(f.plan));
	assert.equal(after.plan.presentation_du_cours, 'Présentation importée');
	assert.equal(after.plan.objectif_terminal_du_cours, before.plan.objectif_terminal_du_cours, 'empty: unchanged');
	assert.equal(after.plan.nom_enseignant, 'Marie Curie');
	assert.equal(after.plan.courriel_enseignant, 'mc@example.org');
	assert.equal(after.plan.materiel, 'Multimètre');
	assert.deepEqual(after.cal.map((c) => [c.semaine, c.sujet, c.activites]),
	    [[2, 'Lois de Kirchhoff', null], [null, 'Sans semaine', null]]);
	assert.deepEqual(after.med.map((m) => m.reference_bibliographique), ['Floyd, Électronique']);
	assert.equal(after.dis, null, 'an empty list replaces with nothing');
	assert.equal(after.ev.length, 1);
	assert.deepEqual([after.ev[0].e.titre_evaluation, after.ev[0].e.description, after.ev[0].e.semaine],
	    ['Examen 1', 'Théorie', 5]);
	// "Capacité 2" resolves by position; another plan-cadre's id is dropped.
	assert.deepEqual(after.ev[0].c.map((c) => [c.capacite_id, c.ponderation]),
	    [[f.cap2, '20 %'], [null, '5 %'], [f.cap1, '10 %']]);
	assert.equal(JSON.parse(psql(`SELECT meta FROM tasks WHERE id = '${id}'`)).review, 'confirm');
	// A preview of another plan is refused and writes nothing.
	const before2 = dump(other.plan);
	const id2 = psql(`INSERT INTO tasks (name, user_id, state, result) VALUES ('import.plan_de_cours', ${u.id}, 'SUCCESS', ` +
	    `${q(JSON.stringify({ ...preview, plan_id: f.plan }))}::jsonb) RETURNING id`);
	const x = await apply(u, other, { action: 'confirm', task_id: id2 });
	assert.equal(x.status, 400, JSON.stringify(x.body));
	assert.equal(dump(other.plan), before2);
});

test('a missing prompt row: EDxo\'s 500 for the calendar and the verifier, nothing paid', async () => {
	const u = await user({ role: 'coordo' });
	const f = pdcFixture();
	const before = dump(f.plan);
	const cal = psql("SELECT json_build_object('t', prompt_template, 'm', ai_model, 'v', context_variables) " +
	    "FROM plan_de_cours_prompt_settings WHERE field_name = 'calendrier'");
	const ana = psql('SELECT json_build_object(\'t\', prompt_template, \'m\', ai_model) FROM analyse_plan_cours_prompt');
	psql("DELETE FROM plan_de_cours_prompt_settings WHERE field_name = 'calendrier'");
	psql('DELETE FROM analyse_plan_cours_prompt');
	try {
		let r = await post(u, '/generate_calendar', { cours_id: f.cours, session: 'A25' });
		assert.equal(r.status, 500, JSON.stringify(r.body));
		assert.equal(r.body.error, 'Aucun prompt configuré pour le calendrier.');
		r = await post(u, `/api/plan_de_cours/${f.plan}/generate_calendar`, {});
		assert.equal(r.status, 500);
		r = await post(u, `/gestion_programme/update_verifier_plan_cours/${f.plan}`, {});
		assert.equal(r.status, 500, JSON.stringify(r.body));
		assert.equal(r.body.error, 'Le template de prompt n\'est pas configuré.');
	} finally {
		const c = JSON.parse(cal);
		const a = JSON.parse(ana);
		psql(`INSERT INTO plan_de_cours_prompt_settings (field_name, prompt_template, ai_model, context_variables) ` +
		    `VALUES ('calendrier', ${q(c.t)}, ${q(c.m)}, ${q(JSON.stringify(c.v))}::jsonb)`);
		psql(`INSERT INTO analyse_plan_cours_prompt (id, prompt_template, ai_model) VALUES (1, ${q(a.t)}, ${q(a.m)})`);
	}
	assert.equal(ledger(u), 0);
	assert.equal(taskCount(u), 0);
	assert.equal(dump(f.plan), before);
});

test('FormData and urlencoded bodies: every POST route answers as it does to JSON', { timeout: 60000 }, async () => {
	const u = await user({ credits: '20.00' });
	const f = pdcFixture();
	// A page's form carries its CSRF token: a field no schema lists.
	const csrf = { csrf_token: 'ignored' };
	const content = { field_name: 'presentation_du_cours', current_value: 'Texte actuel', cours_id: f.cours,
	    session: 'A25', ...csrf };
	for (const how of [postForm, postUrlenc]) {
		const r = await how(u, '/generate_content', content);
		assert.equal(r.status, 200, JSON.stringify(r.body));
		assert.deepEqual(Object.keys(r.body), ['champ_description']);
	}
	let r = await postForm(u, '/generate_calendar', { cours_id: f.cours, session: 'A25', ...csrf });
	assert.equal(r.status, 200, JSON.stringify(r.body));
	assert.deepEqual(Object.keys(r.body), ['entries']);
	r = await postForm(u, '/generate_all', { cours_id: f.cours, session: 'A25', additional_info: 'Par FormData', ...csrf });
	assert.equal(r.status, 200, JSON.stringify(r.body));
	assert.deepEqual(Object.keys(r.body).sort(), ['calendriers', 'evaluations', 'fields']);
	assert.equal(ledger(u), 4);

	const ids = [];
	r = await postForm(u, '/generate_all_start', { cours_id: f.cours, session: 'A25', improve_only: 'on', ...csrf });
	assert.equal(r.status, 200, JSON.stringify(r.body));
	assert.deepEqual(Object.keys(r.body).sort(), ['success', 'task_id']);
	ids.push(r.body.task_id);
	// The Générer form's blank effort is the section's.
	for (const path of [`/api/plan_de_cours/${f.plan}/improve/presentation_du_cours`,
	    `/api/plan_de_cours/${f.plan}/generate_calendar`, `/api/plan_de_cours/${f.plan}/generate_evaluations`,
	    `/api/plan_de_cours/${f.plan}/generate`]) {
		r = await postForm(u, path, { additional_info: 'Par FormData', reasoning_effort: '', verbosity: 'low', ...csrf });
		assert.equal(r.status, 202, `${path}: ${JSON.stringify(r.body)}`);
		assert.deepEqual(Object.keys(r.body), ['task_id']);
		ids.push(r.body.task_id);
	}
	for (const id of ids)
		assert.equal((await finished(id)).state, 'SUCCESS', id);
	const before = dump(f.plan);
	r = await postForm(u, `/plan_de_cours/review/${f.plan}/apply`, { action: 'revert', task_id: ids[1], ...csrf });
	assert.equal(r.status, 200, JSON.stringify(r.body));
	assert.deepEqual(r.body, { success: true, redirect_url: `/cours/${f.cours}/plan_de_cours/A25/` });
	assert.equal(dump(f.plan), before);

	const c = await user({ role: 'coordo' });
	r = await postForm(c, `/gestion_programme/update_verifier_plan_cours/${f.plan}`, csrf);
	assert.equal(r.status, 200, JSON.stringify(r.body));
	assert.deepEqual(Object.keys(r.body).sort(), ['compatibility_percentage', 'recommendation_ameliore',
	    'recommendation_plan_cadre']);
	r = await postForm(c, `/gestion_programme/analyse_plan_de_cours/${f.plan}/start`, csrf);
	assert.equal(r.status, 202, JSON.stringify(r.body));
	assert.equal((await finished(r.body.task_id)).state, 'SUCCESS');
});

test('a bad field: the same 400 naming it from JSON and FormData, EDxo\'s wording for session', async () => {
	const u = await user();
	const f = pdcFixture();
	const bad = { field_name: 'presentation_du_cours', cours_id: 'douze', session: 'A25' };
	const j = await post(u, '/generate_content', bad);
	assert.equal(j.status, 400, JSON.stringify(j.body));
	assert.equal(j.body.code, 'validation_error');
	assert.equal(j.body.field, 'cours_id');
	assert.match(j.body.error, /^cours_id : /);
	const m = await postForm(u, '/generate_content', bad);
	assert.equal(m.status, 400);
	assert.deepEqual(m.body, j.body);
	let r = await postForm(u, '/generate_calendar', { cours_id: f.cours, session: 'Z9' });
	assert.equal(r.status, 400);
	assert.deepEqual([r.body.error, r.body.code, r.body.field], ['session est requise (ex. A25)', 'validation_error', 'session']);
	// generate_all_start answers every failure as {success: false, message}.
	r = await postForm(u, '/generate_all_start', { cours_id: f.cours });
	assert.equal(r.status, 400, JSON.stringify(r.body));
	assert.deepEqual([r.body.success, r.body.message, r.body.code], [false, 'session est requise (ex. A25)', 'validation_error']);
	// A GET route's query string is validated the same way.
	r = await getJSON('/generate_all_status?task_id=nope', { headers: auth(u.token) });
	assert.equal(r.status, 400);
	assert.deepEqual([r.body.code, r.body.field], ['validation_error', 'task_id']);
	r = await apply(u, f, { action: 'maybe', task_id: '00000000-0000-0000-0000-000000000000' });
	assert.equal(r.status, 400);
	assert.deepEqual([r.body.code, r.body.field], ['validation_error', 'action']);
	r = await post(u, `/api/plan_de_cours/${f.plan}/generate`, { verbosity: 'bavard' });
	assert.equal(r.status, 400);
	assert.equal(r.body.field, 'verbosity');
	assert.equal(ledger(u), 0);
	assert.equal(taskCount(u), 0);
});

test('the review page: text/html with the strict CSP, for the validation_url a task returns', { timeout: 30000 }, async () => {
	const u = await user();
	const f = pdcFixture();
	const id = await startTask(u, `/api/plan_de_cours/${f.plan}/improve/materiel`, {});
	const t = await finished(id);
	assert.equal(t.state, 'SUCCESS', JSON.stringify(t.result));
	// The page is a shell: the same answer with or without a session (its
	// script reads the JSON routes with the browser's).
	for (const headers of [auth(u.token), {}]) {
		const r = await getJSON(t.result.validation_url, { headers });
		assert.equal(r.status, 200);
		assert.match(r.headers.get('content-type'), /^text\/html; charset=utf-8/);
		const csp = r.headers.get('content-security-policy');
		assert.match(csp, /default-src 'self'/);
		assert.ok(!/unsafe-inline/.test(csp), csp);
		assert.equal(r.headers.get('cache-control'), 'no-store');
		assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
		assert.match(r.body, /<html lang="fr">/);
		assert.match(r.body, /<script src="\/relais-pages\/pdc-review\.js"><\/script>/);
		assert.ok(!/<script>|\sstyle=|\son[a-z]+=/.test(r.body), 'no inline script, style or handler');
	}
	// The script and the stylesheet it names are served.
	for (const [path, type] of [['/relais-pages/pdc-review.js', /javascript/], ['/relais-pages/relais-pages.css', /css/]]) {
		const r = await getJSON(path);
		assert.equal(r.status, 200, path);
		assert.match(r.headers.get('content-type'), type);
	}
	// A non-numeric plan is no route.
	assert.equal((await getJSON('/plan_de_cours/review/abc')).status, 404);
});

test('current: what the plan holds now, 404 for a plan the user does not see or that does not exist', async () => {
	const u = await user();
	const f = pdcFixture();
	const r = await getJSON(`/plan_de_cours/review/${f.plan}/current`, { headers: auth(u.token) });
	assert.equal(r.status, 200, JSON.stringify(r.body));
	assert.equal(r.body.plan_id, f.plan);
	assert.equal(r.body.cours_id, f.cours);
	assert.equal(r.body.session, 'A25');
	assert.equal(r.body.cours.nom, 'Électronique de test');
	assert.equal(r.body.fields.presentation_du_cours, 'Ancienne présentation');
	assert.equal(r.body.fields.materiel, 'Multimètre');
	assert.equal(r.body.fields.nom_enseignant, null);
	assert.deepEqual(r.body.calendriers.map((c) => [c.semaine, c.sujet]), [[1, 'Ancien sujet']]);
	assert.deepEqual(r.body.mediagraphies, [{ reference_bibliographique: 'Ancien livre' }]);
	assert.deepEqual(r.body.disponibilites, [{ jour_semaine: 'Lundi', plage_horaire: '13 h à 15 h', lieu: 'B-101' }]);
	assert.deepEqual(r.body.evaluations.map((e) => [e.titre_evaluation, e.semaine, e.capacites]),
	    [['Ancien examen', 7, [{ capacite_id: f.cap1, capacite: 'Analyser des circuits simples', ponderation: '30 %' }]]]);
	const out = await user({ member: false });
	assert.equal((await getJSON(`/plan_de_cours/review/${f.plan}/current`, { headers: auth(out.token) })).status, 404);
	assert.equal((await getJSON('/plan_de_cours/review/999999999/current', { headers: auth(u.token) })).status, 404);
	assert.equal((await getJSON(`/plan_de_cours/review/${f.plan}/current`)).status, 401);
});

test('apply: an unknown plan or one the user does not see is refused, nothing written, the task stays open', { timeout: 30000 }, async () => {
	const u = await user();
	const f = pdcFixture();
	const id = await startTask(u, `/api/plan_de_cours/${f.plan}/generate_calendar`, {});
	assert.equal((await finished(id)).state, 'SUCCESS');
	const before = dump(f.plan);
	for (const action of ['confirm', 'revert']) {
		const r = await post(u, '/plan_de_cours/review/999999999/apply', { action, task_id: id });
		assert.equal(r.status, 404, JSON.stringify(r.body));
		assert.equal(typeof r.body.error, 'string');
	}
	const out = await user({ member: false });
	const r = await apply(out, f, { action: 'confirm', task_id: id });
	assert.equal(r.status, 404, JSON.stringify(r.body));
	assert.equal(dump(f.plan), before);
	assert.equal(JSON.parse(psql(`SELECT meta FROM tasks WHERE id = '${id}'`)).review, undefined);
	// The task can still be confirmed on its own plan.
	assert.equal((await apply(u, f, { action: 'confirm', task_id: id })).status, 200);
});

test('confirm then revert: the plan is written, then exactly its old content is back; each once', { timeout: 30000 }, async () => {
	const u = await user();
	const f = pdcFixture();
	const before = pdcContent(f.plan);
	const id = await startTask(u, `/api/plan_de_cours/${f.plan}/generate`, {});
	const t = await finished(id);
	assert.equal(t.state, 'SUCCESS', JSON.stringify(t.result));
	let r = await apply(u, f, { action: 'confirm', task_id: id });
	assert.equal(r.status, 200, JSON.stringify(r.body));
	const written = pdcContent(f.plan);
	assert.equal(written.plan.presentation_du_cours, t.result.fields.presentation_du_cours);
	assert.notDeepEqual(written, before);
	assert.equal(JSON.parse(psql(`SELECT meta FROM tasks WHERE id = '${id}'`)).review, 'confirm');
	r = await apply(u, f, { action: 'revert', task_id: id });
	assert.equal(r.status, 200, JSON.stringify(r.body));
	assert.deepEqual(r.body, { success: true, redirect_url: `/cours/${f.cours}/plan_de_cours/A25/` });
	assert.deepEqual(pdcContent(f.plan), before);
	assert.equal(JSON.parse(psql(`SELECT meta FROM tasks WHERE id = '${id}'`)).review, 'revert');
	assert.equal(JSON.parse(psql(`SELECT modified_by_id FROM plan_de_cours WHERE id = ${f.plan}`)), u.id);
	// Neither can happen twice, nor a confirm after the revert.
	for (const action of ['revert', 'confirm']) {
		r = await apply(u, f, { action, task_id: id });
		assert.equal(r.status, 409, JSON.stringify(r.body));
		assert.equal(typeof r.body.error, 'string');
	}
	assert.deepEqual(pdcContent(f.plan), before);
});

test('revert of an import preview: teacher columns, empty values and every list come back as they were', async () => {
	const u = await user();
	const f = pdcFixture();
	psql(`UPDATE plan_de_cours SET nom_enseignant = 'Ancien nom', bureau_enseignant = '', accomodement = NULL WHERE id = ${f.plan}`);
	const before = pdcContent(f.plan);
	const cur = (await getJSON(`/plan_de_cours/review/${f.plan}/current`, { headers: auth(u.token) })).body;
	const preview = {
		status: 'success', preview: true, plan_id: f.plan, cours_id: f.cours, session: 'A25',
		fields: { presentation_du_cours: 'Présentation importée', accomodement: 'Mesures importées',
		    nom_enseignant: 'Marie Curie', bureau_enseignant: 'C-204', materiel: '' },
		old_fields: cur.fields,
		calendriers: [{ semaine: 3, sujet: 'Importé' }], old_calendriers: cur.calendriers,
		mediagraphies: [{ reference_bibliographique: 'Nouveau livre' }], old_mediagraphies: cur.mediagraphies,
		disponibilites: [], old_disponibilites: cur.disponibilites,
		evaluations: [{ titre_evaluation: 'Projet', semaine: 12, capacites: [{ capacite_id: f.cap2, ponderation: '50 %' }] }],
		old_evaluations: cur.evaluations,
	};
	const id = psql(`INSERT INTO tasks (name, user_id, state, result) VALUES ('import.plan_de_cours', ${u.id}, 'SUCCESS', ` +
	    `${q(JSON.stringify(preview))}::jsonb) RETURNING id`);
	let r = await apply(u, f, { action: 'confirm', task_id: id });
	assert.equal(r.status, 200, JSON.stringify(r.body));
	const written = pdcContent(f.plan);
	assert.deepEqual([written.plan.nom_enseignant, written.plan.bureau_enseignant, written.plan.accomodement,
	    written.plan.materiel], ['Marie Curie', 'C-204', 'Mesures importées', 'Multimètre']);
	assert.deepEqual(written.med, ['Nouveau livre']);
	assert.equal(written.dis, null);
	r = await apply(u, f, { action: 'revert', task_id: id });
	assert.equal(r.status, 200, JSON.stringify(r.body));
	const back = pdcContent(f.plan);
	assert.deepEqual(back, before);
	// '' and NULL come back as they were, not as each other.
	assert.equal(back.plan.bureau_enseignant, '');
	assert.equal(back.plan.accomodement, null);
});
