// Programme-level and plan-cadre generation (issue 9) through nginx, the
// generation program, the stack's relais-worker and the fake upstream:
// logigramme, grille de cours, plan-cadre generate/improve/review/apply.
// Each test builds its own programme, courses and plan-cadre with psql so
// that the demo data other suites read stays as it is.  The fake is driven
// by "[[X-Fake-...]]" directives in additional_info, which relais forwards
// in the prompt (docs/internals/fake-openai.md).
import test from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { BUILD, TOP, admin, auth, getJSON, newUser, postJSON, psql, q, raw, taskRow, until, uniq, waitTask } from './lib.mjs';

const user = (role = 'coordo', credits = '5.00') => newUser({ prefix: 'gen', role, credits });

const one = (sql) => psql(sql);

// A body against its response schema (lib/schemas/responses), with the
// project's validator in JSON Schema mode.
function conforms(name, body) {
	try {
		execFileSync(`${BUILD}/bin/relais-schema`, ['validate', '-j',
		    `${TOP}/lib/schemas/responses/${name}.json`, '-'], { input: JSON.stringify(body), stdio: 'pipe' });
	} catch (e) {
		assert.fail(`${name}: ${JSON.stringify(body).slice(0, 300)}: ${e.stdout}${e.stderr}`);
	}
}
const json = (sql) => JSON.parse(psql(sql));

// A programme with two courses, two compétences of two elements each, a
// plan-cadre for the first course (some content, one capacité, one objet
// cible), and member a coordo.
function programme(member) {
	const u = uniq();
	const pid = one(`INSERT INTO programmes (nom, department_id) SELECT 'Gen ${u}', min(id) FROM departments RETURNING id`);
	const c1 = one(`INSERT INTO cours (code, nom, heures_theorie, heures_laboratoire, heures_travail_maison) VALUES ('G${u}-1', 'Réseaux ${u}', 2, 3, 2) RETURNING id`);
	const c2 = one(`INSERT INTO cours (code, nom) VALUES ('G${u}-2', 'Sécurité ${u}') RETURNING id`);
	psql(`INSERT INTO cours_programme (cours_id, programme_id, session) VALUES (${c1}, ${pid}, 1), (${c2}, ${pid}, 2)`);
	const k1 = one(`INSERT INTO competences (programme_id, code, nom) VALUES (${pid}, 'K${u}A', 'Installer') RETURNING id`);
	const k2 = one(`INSERT INTO competences (programme_id, code, nom) VALUES (${pid}, 'K${u}B', 'Diagnostiquer') RETURNING id`);
	psql(`INSERT INTO element_competence (competence_id, nom) VALUES (${k1}, 'e1'), (${k1}, 'e2'), (${k2}, 'e3'), (${k2}, 'e4')`);
	const plan = one(`INSERT INTO plan_cadre (cours_id, place_intro, objectif_terminal) VALUES (${c1}, 'intro avant', 'objectif avant') RETURNING id`);
	const cap = one(`INSERT INTO plan_cadre_capacites (plan_cadre_id, capacite, ponderation_min, ponderation_max) VALUES (${plan}, 'capacité avant', 40, 60) RETURNING id`);
	psql(`INSERT INTO plan_cadre_capacite_savoirs_necessaires (capacite_id, texte) VALUES (${cap}, 'savoir avant')`);
	psql(`INSERT INTO plan_cadre_objets_cibles (plan_cadre_id, texte, description) VALUES (${plan}, 'objet avant', 'desc')`);
	psql(`INSERT INTO plan_cadre_savoir_etre (plan_cadre_id, texte) VALUES (${plan}, 'rigueur')`);
	// c2 is a préalable of c1 with a plan-cadre: improve mode shows it.
	psql(`INSERT INTO cours_prealable (cours_id, cours_prealable_id) VALUES (${c1}, ${c2})`);
	const plan2 = one(`INSERT INTO plan_cadre (cours_id, objectif_terminal) VALUES (${c2}, 'objectif préalable') RETURNING id`);
	psql(`INSERT INTO plan_cadre_capacites (plan_cadre_id, capacite) VALUES (${plan2}, 'capacité préalable')`);
	if (member)
		psql(`INSERT INTO user_programme (user_id, programme_id) VALUES (${member.id}, ${pid})`);
	return { u, pid: Number(pid), c1: Number(c1), c2: Number(c2), k1: Number(k1), k2: Number(k2), plan: Number(plan) };
}

const task = (id) => taskRow(id, ['state', 'result', 'meta', 'name', 'payload']);

const finished = (id, ms = 30000) => waitTask(id, { ms, columns: ['state', 'result', 'meta', 'name', 'payload'] });

// The plan-cadre as stored: columns and every list, for "nothing written".
const planSnapshot = (plan) => json(`SELECT json_build_object(
	'cols', (SELECT row_to_json(x) FROM (SELECT place_intro, objectif_terminal, structure_intro,
	    structure_activites_theoriques, structure_activites_pratiques, structure_activites_prevues,
	    eval_evaluation_sommative, eval_nature_evaluations_sommatives, eval_evaluation_de_la_langue,
	    eval_evaluation_sommatives_apprentissages FROM plan_cadre WHERE id = ${plan}) x),
	'caps', (SELECT coalesce(json_agg(json_build_object('c', capacite, 'min', ponderation_min,
	    'sn', (SELECT json_agg(texte ORDER BY id) FROM plan_cadre_capacite_savoirs_necessaires s WHERE s.capacite_id = k.id),
	    'sf', (SELECT json_agg(json_build_object('t', texte, 'c', cible, 's', seuil_reussite) ORDER BY id) FROM plan_cadre_capacite_savoirs_faire f WHERE f.capacite_id = k.id),
	    'me', (SELECT json_agg(texte ORDER BY id) FROM plan_cadre_capacite_moyens_evaluation m WHERE m.capacite_id = k.id)) ORDER BY id), '[]') FROM plan_cadre_capacites k WHERE plan_cadre_id = ${plan}),
	'se', (SELECT coalesce(json_agg(texte ORDER BY id), '[]') FROM plan_cadre_savoir_etre WHERE plan_cadre_id = ${plan}),
	'oc', (SELECT coalesce(json_agg(json_build_object('t', texte, 'd', description) ORDER BY id), '[]') FROM plan_cadre_objets_cibles WHERE plan_cadre_id = ${plan}),
	'cd', (SELECT coalesce(json_agg(texte ORDER BY id), '[]') FROM plan_cadre_competences_developpees WHERE plan_cadre_id = ${plan}),
	'cr', (SELECT coalesce(json_agg(texte ORDER BY id), '[]') FROM plan_cadre_cours_relies WHERE plan_cadre_id = ${plan}))`);

const statuses = (p) => json(`SELECT coalesce(json_agg(json_build_object('c', e.cours_id, 'k', el.competence_id, 's', e.status)
	ORDER BY e.cours_id, el.id), '[]') FROM element_competence_par_cours e JOIN element_competence el ON el.id = e.element_competence_id
	WHERE e.cours_id IN (${p.c1}, ${p.c2})`);

// fields: an object, or [name, value] pairs for repeated names.
const form = (path, fields, token) => {
	const body = new URLSearchParams(fields).toString();
	return getJSON(path, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...auth(token) }, body });
};

// The same fields as FormData, as EDxo's pages post them (multipart).
const multipart = (path, fields, token) => {
	const fd = new FormData();
	for (const [k, v] of Array.isArray(fields) ? fields : Object.entries(fields))
		fd.append(k, v);
	return getJSON(path, { method: 'POST', headers: auth(token), body: fd });
};

// A browser's navigation to a review route: its page, not the JSON
// (scripts, EDxo's fetch() included, send */* or application/json).
const NAVIGATE = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';
// negotiated: the route answers JSON too, so the answer varies on Accept.
async function reviewPage(path, token, name, negotiated = true) {
	const r = await raw('GET', path, { Accept: NAVIGATE, ...auth(token) });
	assert.equal(r.status, 200, `${path}: ${r.text.slice(0, 200)}`);
	assert.match(r.headers['content-type'], /^text\/html/);
	assert.match(r.headers['content-security-policy'], /default-src 'self'/);
	assert.ok(r.text.includes(`<script src="/relais-pages/${name}.js"></script>`), `${path} is ${name}`);
	assert.ok(r.text.includes('role="status"'), 'an aria-live status line');
	if (negotiated)
		assert.match(r.headers.vary ?? '', /Accept/, 'a cache keeps page and JSON apart');
	return r;
}

test('roles and visibility: professeur 403, coordo outside the programme 404, admin allowed', async () => {
	const c = await user('coordo');
	const outsider = await user('coordo');
	const prof = await user('professeur');
	const p = programme(c);
	let r = await postJSON(`/programme/${p.pid}/logigramme/generate`, {}, auth(prof.token));
	assert.equal(r.status, 403, JSON.stringify(r.body));
	assert.equal(typeof r.body.error, 'string', 'EDxo\'s flat error body');
	assert.equal(r.body.code, 'forbidden');
	conforms('resp-error', r.body);
	r = await postJSON(`/programme/${p.pid}/logigramme/generate`, {}, auth(outsider.token));
	assert.equal(r.status, 404, JSON.stringify(r.body));
	r = await postJSON(`/programme/${p.pid}/links`, [], auth(outsider.token));
	assert.equal(r.status, 404);
	r = await form(`/plan_cadre/${p.plan}/generate_content`, { additional_info: 'x' }, prof.token);
	assert.equal(r.status, 403);
	r = await postJSON(`/api/plan_cadre/${p.plan}/improve`, {}, auth(outsider.token));
	assert.equal(r.status, 404, JSON.stringify(r.body));
	assert.equal((await getJSON(`/programme/${p.pid}/grille/review/00000000-0000-0000-0000-000000000000`, { headers: auth(c.token) })).status, 404);
	// The review pages keep the routes' roles: a professeur gets no page.
	for (const path of [`/programme/${p.pid}/logigramme/review/00000000-0000-0000-0000-000000000000`,
	    `/programme/${p.pid}/grille/review/00000000-0000-0000-0000-000000000000`,
	    `/plan_cadre/${p.plan}/review?task_id=00000000-0000-0000-0000-000000000000`])
		assert.equal((await raw('GET', path, { Accept: NAVIGATE, ...auth(prof.token) })).status, 403, path);
	assert.equal(one(`SELECT count(*) FROM tasks WHERE user_id IN (${prof.id}, ${outsider.id})`), '0', 'nothing queued');
});

test('no credits: EDxo\'s message and status, nothing queued', async () => {
	const c = await user('coordo', '0.00');
	const p = programme(c);
	const r = await postJSON(`/programme/${p.pid}/logigramme/generate`, {}, auth(c.token));
	assert.equal(r.status, 403, JSON.stringify(r.body));
	assert.deepEqual(Object.keys(r.body).sort(), ['code', 'error']);
	assert.equal(r.body.code, 'insufficient_credits');
	assert.match(r.body.error, /Crédits insuffisants/);
	conforms('resp-error', r.body);
	const f = await form(`/plan_cadre/${p.plan}/generate_content`, { additional_info: 'x' }, c.token);
	assert.equal(f.status, 200);
	assert.deepEqual(Object.keys(f.body).sort(), ['message', 'success']);
	assert.equal(f.body.success, false);
	assert.match(f.body.message, /Crédits insuffisants/);
	conforms('resp-generation-pc-content', f.body);
	assert.equal(one(`SELECT count(*) FROM tasks WHERE user_id = ${c.id}`), '0');
});

test('logigramme: preview with the programme\'s codes, nothing written; links apply overwrites in one go', { timeout: 60000 }, async () => {
	const c = await user();
	const p = programme(c);
	// A status the overwrite must remove: (c2, k2) is not in the new links.
	psql(`INSERT INTO element_competence_par_cours (cours_id, element_competence_id, status)
	    SELECT ${p.c2}, id, 'Atteint' FROM element_competence WHERE competence_id = ${p.k2}`);
	const before = statuses(p);
	let r = await postJSON(`/programme/${p.pid}/logigramme/generate`, { additional_info: 'Priorité au réseau.', reasoning_effort: 'low' }, auth(c.token));
	assert.equal(r.status, 202, JSON.stringify(r.body));
	assert.deepEqual(Object.keys(r.body), ['task_id']);
	conforms('resp-generation-queued', r.body);
	const t = await finished(r.body.task_id);
	assert.equal(t.state, 'SUCCESS', JSON.stringify(t.result));
	assert.equal(t.name, 'programme.logigramme');
	const res = t.result;
	assert.equal(res.status, 'success');
	assert.equal(res.preview, true);
	// The preview page that confirms the links; the logigramme comes after.
	assert.equal(res.validation_url, `/programme/${p.pid}/logigramme/review/${r.body.task_id}`);
	assert.equal(res.result.logigramme_url, `/programme/${p.pid}/competences/logigramme`);
	await reviewPage(res.validation_url, c.token, 'logigramme-review', false);
	for (const k of ['applied_pairs', 'links', 'logigramme_url', 'message', 'unknown'])
		assert.ok(k in res.result, k);
	assert.ok(res.result.links.length >= 1);
	for (const l of res.result.links) {
		assert.deepEqual(Object.keys(l).sort(), ['competence_code', 'competence_id', 'cours_code', 'cours_id', 'type']);
		assert.ok([p.c1, p.c2].includes(l.cours_id), 'a course of the programme (the schema enum)');
		assert.ok([p.k1, p.k2].includes(l.competence_id));
		assert.ok(['developpe', 'atteint', 'reinvesti'].includes(l.type));
	}
	assert.deepEqual(res.result.unknown, []);
	for (const k of ['input_tokens', 'output_tokens', 'prompt_tokens', 'completion_tokens', 'cost', 'model'])
		assert.ok(k in res.usage, k);
	assert.equal(t.payload.additional_info, 'Priorité au réseau.');
	assert.deepEqual(statuses(p), before, 'generation writes nothing');
	assert.equal(one(`SELECT count(*) FROM usage_ledger WHERE task_id = '${r.body.task_id}'`), '1', 'one paid call');

	// Bad links: 400 naming the link, nothing changed.
	r = await postJSON(`/programme/${p.pid}/links`, [{ cours_id: p.c1, competence_id: p.k1, type: 'developpe' }, { cours_id: 999999999, competence_id: p.k1, type: 'atteint' }], auth(c.token));
	assert.equal(r.status, 400, JSON.stringify(r.body));
	assert.equal(r.body.field, 'links[1]');
	conforms('resp-error', r.body);
	r = await postJSON(`/programme/${p.pid}/links`, [{ cours_id: p.c1, competence_id: p.k1, type: 'maitrise' }], auth(c.token));
	assert.equal(r.status, 400);
	assert.equal(r.body.field, 'links[0].type');
	assert.deepEqual(statuses(p), before);

	// Apply: (c1, k1) developpe and (c2, k1) atteint; (c2, k2) goes.
	r = await postJSON(`/programme/${p.pid}/links`, [{ cours_id: p.c1, competence_id: p.k1, type: 'developpe' },
	    { cours_id: String(p.c2), competence_id: p.k1, type: 'atteint' }], auth(c.token));
	assert.equal(r.status, 200, JSON.stringify(r.body));
	assert.deepEqual(Object.keys(r.body).sort(), ['message', 'ok', 'pairs', 'updated']);
	conforms('resp-generation-links', r.body);
	assert.equal(r.body.ok, true);
	assert.equal(r.body.updated, 4, 'two elements for each of two pairs');
	const after = statuses(p);
	assert.deepEqual(after.map((x) => [x.c, x.k, x.s]), [
		[p.c1, p.k1, 'Développé significativement'], [p.c1, p.k1, 'Développé significativement'],
		[p.c2, p.k1, 'Atteint'], [p.c2, p.k1, 'Atteint']]);
	// The preview's own links apply as they are ({links: [...]} form too).
	r = await postJSON(`/programme/${p.pid}/links`, { links: res.result.links }, auth(c.token));
	assert.equal(r.status, 200, JSON.stringify(r.body));
	assert.equal(r.body.pairs, res.result.links.length);
});

test('logigramme: a programme without compétences fails the task with a clear message', { timeout: 30000 }, async () => {
	const c = await user();
	const pid = one(`INSERT INTO programmes (nom, department_id) SELECT 'Vide ${uniq()}', min(id) FROM departments RETURNING id`);
	psql(`INSERT INTO user_programme (user_id, programme_id) VALUES (${c.id}, ${pid})`);
	const r = await postJSON(`/programme/${pid}/logigramme/generate`, {}, auth(c.token));
	assert.equal(r.status, 202);
	const t = await finished(r.body.task_id);
	assert.equal(t.state, 'FAILURE');
	assert.match(t.result.error, /au moins un cours et une compétence/);
	assert.equal(one(`SELECT count(*) FROM usage_ledger WHERE task_id = '${r.body.task_id}'`), '0', 'nothing paid');
});

test('grille: bad requests, then preview, review and apply (append, then overwrite)', { timeout: 60000 }, async () => {
	const c = await user();
	const p = programme(c);
	for (const [body, field] of [[{}, 'total_hours'], [{ total_hours: 0, nb_sessions: 2 }, 'total_hours'],
	    [{ total_hours: 'beaucoup', nb_sessions: 2 }, 'total_hours'], [{ total_hours: 600, nb_sessions: 99 }, 'nb_sessions'],
	    [{ total_hours: 600, nb_sessions: 2, total_units: -1 }, 'total_units'],
	    [{ total_hours: 600, nb_sessions: 2, verbosity: 'bavard' }, 'verbosity']]) {
		const r = await postJSON(`/programme/${p.pid}/grille/generate`, body, auth(c.token));
		assert.equal(r.status, 400, `${JSON.stringify(body)} -> ${JSON.stringify(r.body)}`);
		assert.equal(r.body.field, field);
	}
	assert.equal(one(`SELECT count(*) FROM tasks WHERE user_id = ${c.id}`), '0');
	let r = await postJSON(`/programme/${p.pid}/grille/generate`, { total_hours: 60, nb_sessions: 1, total_units: 2 }, auth(c.token));
	assert.equal(r.status, 202, JSON.stringify(r.body));
	const tid = r.body.task_id;
	const t = await finished(tid);
	assert.equal(t.state, 'SUCCESS', JSON.stringify(t.result));
	const res = t.result;
	assert.equal(res.status, 'success');
	assert.equal(res.validation_url, `/programme/${p.pid}/grille/review/${tid}`);
	const grid = res.result;
	assert.ok(Array.isArray(grid.sessions) && grid.sessions.length >= 1);
	for (const s of grid.sessions) {
		assert.equal(typeof s.session, 'number');
		for (const k of s.courses)
			assert.deepEqual(Object.keys(k).sort(), ['corequis', 'heures_laboratoire', 'heures_theorie', 'heures_travail_maison', 'nom', 'nombre_unites', 'prealables']);
	}
	for (const f of grid.fils_conducteurs) {
		assert.match(f.couleur, /^#[0-9A-Fa-f]{6}$/, 'colours normalised');
		assert.ok(f.cours.length > 0);
	}
	const hours = grid.sessions.flatMap((s) => s.courses).reduce((n, k) => n + 15 * (k.heures_theorie + k.heures_laboratoire), 0);
	assert.equal(grid.checks.total_hours, hours);
	assert.equal(grid.checks.total_hours_expected, 60);
	assert.equal(grid.checks.hours_ok, hours === 60);
	assert.equal(grid.checks.nb_sessions_expected, 1);
	assert.equal(grid.checks.total_units_expected, 2);
	const coursBefore = one(`SELECT count(*) FROM cours_programme WHERE programme_id = ${p.pid}`);
	assert.equal(coursBefore, '2', 'generation writes nothing');

	r = await getJSON(`/programme/${p.pid}/grille/review/${tid}`, { headers: auth(c.token) });
	assert.equal(r.status, 200, JSON.stringify(r.body));
	assert.deepEqual(Object.keys(r.body).sort(), ['apply_url', 'checks', 'grid', 'programme_id', 'state', 'task_id', 'usage']);
	assert.deepEqual(r.body.grid.sessions, grid.sessions);
	conforms('resp-generation-grille-review', r.body);
	// The same route: a browser's navigation gets the page, JSON callers the JSON.
	await reviewPage(res.validation_url, c.token, 'grille-review');
	r = await getJSON(res.validation_url, { headers: { Accept: 'application/json', ...auth(c.token) } });
	assert.equal(r.status, 200);
	assert.match(r.headers.get('vary') ?? '', /Accept/);
	assert.deepEqual(r.body.grid.sessions, grid.sessions);
	// Another programme's review of this task: 404.
	const other = programme(c);
	assert.equal((await getJSON(`/programme/${other.pid}/grille/review/${tid}`, { headers: auth(c.token) })).status, 404);

	// Apply the task's grid: one course per generated course, P<id>-NNN codes.
	r = await postJSON(`/programme/${p.pid}/grille/apply`, { mode: 'append', task_id: tid }, auth(c.token));
	assert.equal(r.status, 200, JSON.stringify(r.body));
	const n = grid.sessions.reduce((a, s) => a + s.courses.length, 0);
	assert.equal(r.body.ok, true);
	conforms('resp-generation-grille-apply', r.body);
	assert.equal(r.body.created.length, n);
	for (const k of r.body.created) {
		assert.deepEqual(Object.keys(k).sort(), ['code', 'id', 'nom', 'session']);
		assert.match(k.code, new RegExp(`^P${p.pid}-\\d{3}$`));
	}
	assert.equal(one(`SELECT count(*) FROM cours_programme WHERE programme_id = ${p.pid}`), String(2 + n), 'appended');
	assert.equal(one(`SELECT count(*) FROM fil_conducteur WHERE programme_id = ${p.pid}`), String(grid.fils_conducteurs.length));

	// A posted grid with préalables across sessions and a bad colour; overwrite.
	const mine = { sessions: [
		{ session: 1, courses: [{ nom: 'Intro', heures_theorie: 2, heures_laboratoire: 2, heures_travail_maison: 2, nombre_unites: 2, prealables: [], corequis: ['Outils'] },
		    { nom: 'Outils', heures_theorie: 1, heures_laboratoire: 2, heures_travail_maison: 1, nombre_unites: 1.33, prealables: [], corequis: [] }] },
		{ session: 2, courses: [{ nom: 'Avancé', heures_theorie: 3, heures_laboratoire: 3, heures_travail_maison: 3, nombre_unites: 3, prealables: ['Intro', 'Inconnu', 'Avancé'], corequis: ['Intro'] }] }],
	fils_conducteurs: [{ description: 'Fil', couleur: 'rouge', cours: ['Intro', 'Avancé'] }] };
	r = await postJSON(`/programme/${p.pid}/grille/apply`, { mode: 'overwrite', grid: { ...mine, sessions: [{ session: 0, courses: [] }] } }, auth(c.token));
	assert.equal(r.status, 400, 'session 0 violates the schema');
	assert.equal(r.body.field, 'grid');
	assert.equal(one(`SELECT count(*) FROM cours_programme WHERE programme_id = ${p.pid}`), String(2 + n), 'nothing written');
	r = await postJSON(`/programme/${p.pid}/grille/apply`, { mode: 'remplacer', grid: mine }, auth(c.token));
	assert.equal(r.status, 400);
	assert.equal(r.body.field, 'mode');
	r = await postJSON(`/programme/${p.pid}/grille/apply`, { mode: 'overwrite', grid: mine }, auth(c.token));
	assert.equal(r.status, 200, JSON.stringify(r.body));
	assert.deepEqual(r.body.created.map((k) => [k.nom, k.session]), [['Intro', 1], ['Outils', 1], ['Avancé', 2]]);
	const ids = Object.fromEntries(r.body.created.map((k) => [k.nom, k.id]));
	assert.equal(one(`SELECT string_agg(cours_id::text, ',' ORDER BY cours_id) FROM cours_programme WHERE programme_id = ${p.pid}`),
	    [ids.Intro, ids.Outils, ids['Avancé']].sort((a, b) => a - b).join(','), 'overwrite detached the others');
	assert.equal(one(`SELECT string_agg(cours_id || '>' || cours_prealable_id, ',') FROM cours_prealable WHERE cours_id IN (${Object.values(ids)})`),
	    `${ids['Avancé']}>${ids.Intro}`, 'only the earlier-session préalable');
	assert.equal(one(`SELECT string_agg(cours_id || '=' || cours_corequis_id, ',') FROM cours_corequis WHERE cours_id IN (${Object.values(ids)})`),
	    `${ids.Intro}=${ids.Outils}`, 'only the same-session corequis');
	const fil = json(`SELECT json_build_object('c', couleur, 'n', (SELECT count(*) FROM cours WHERE fil_conducteur_id = f.id)) FROM fil_conducteur f WHERE programme_id = ${p.pid} AND description = 'Fil'`);
	assert.match(fil.c, /^#[0-9a-f]{6}$/);
	assert.equal(fil.n, 2);
	assert.equal(one(`SELECT nombre_unites FROM cours WHERE id = ${ids.Outils}`), '1.33');
});

test('plan-cadre: form start, preview shape, nothing written, review, partial apply', { timeout: 60000 }, async () => {
	const c = await user();
	const p = programme(c);
	const before = planSnapshot(p.plan);
	let r = await form(`/plan_cadre/${p.plan}/generate_content`, { additional_info: 'Insister sur la sécurité.', ai_model: 'gpt-4o-mini' }, c.token);
	assert.equal(r.status, 200, JSON.stringify(r.body));
	assert.deepEqual(Object.keys(r.body).sort(), ['message', 'success', 'task_id']);
	assert.equal(r.body.success, true);
	conforms('resp-generation-pc-content', r.body);
	const tid = r.body.task_id;
	const t = await finished(tid);
	assert.equal(t.state, 'SUCCESS', JSON.stringify(t.result));
	assert.equal(t.name, 'plan_cadre.generate');
	const res = t.result;
	for (const k of ['status', 'message', 'plan_id', 'cours_id', 'preview', 'proposed', 'validation_url', 'usage'])
		assert.ok(k in res, k);
	assert.equal(res.preview, true);
	assert.equal(res.plan_id, p.plan);
	assert.equal(res.cours_id, p.c1);
	assert.equal(res.validation_url, `/plan_cadre/${p.plan}/review?task_id=${tid}`);
	assert.match(res.message, /Coût: \d+\.\d{6} crédits\./);
	assert.equal(res.usage.model, 'gpt-4o-mini');
	const pr = res.proposed;
	assert.deepEqual(Object.keys(pr).sort(), ['capacites', 'fields', 'fields_with_description', 'savoir_etre']);
	assert.equal(Object.keys(pr.fields).length, 10, 'every seeded section uses the AI');
	assert.deepEqual(Object.keys(pr.fields_with_description).sort(), ['Description des Compétences certifiées',
	    'Description des compétences développées', 'Description des cours corequis', 'Description des cours préalables',
	    'Description des cours reliés', 'Objets cibles']);
	for (const list of Object.values(pr.fields_with_description))
		for (const it of list)
			assert.deepEqual(Object.keys(it).sort(), ['description', 'texte']);
	assert.ok(pr.savoir_etre.length >= 1 && pr.savoir_etre.every((s) => typeof s === 'string'));
	assert.ok(pr.capacites.length >= 1);
	for (const k of pr.capacites) {
		assert.deepEqual(Object.keys(k).sort(), ['capacite', 'description_capacite', 'moyens_evaluation', 'ponderation_max',
		    'ponderation_min', 'savoirs_faire', 'savoirs_necessaires']);
		for (const f of k.savoirs_faire)
			assert.deepEqual(Object.keys(f).sort(), ['cible', 'seuil_reussite', 'texte']);
	}
	// 21 sections: 10 columns, 6 lists, savoir-être, and 4 for capacités.
	assert.equal(res.sections.length, 18);
	assert.deepEqual(planSnapshot(p.plan), before, 'a preview writes nothing');
	assert.equal(one(`SELECT additional_info || '|' || ai_model FROM plan_cadre WHERE id = ${p.plan}`), 'Insister sur la sécurité.|gpt-4o-mini', 'EDxo stores the request');

	r = await getJSON(`/plan_cadre/${p.plan}/review?task_id=${tid}`, { headers: auth(c.token) });
	assert.equal(r.status, 200, JSON.stringify(r.body));
	assert.deepEqual(Object.keys(r.body).sort(), ['apply_url', 'cours_id', 'current', 'plan_id', 'proposed', 'reasoning_summary', 'state', 'task_id', 'usage'].filter((k) => k in r.body).sort());
	assert.deepEqual(r.body.proposed, pr);
	conforms('resp-generation-pc-review', r.body);
	await reviewPage(res.validation_url, c.token, 'pc-review');
	assert.equal((await getJSON(res.validation_url, { headers: { Accept: 'application/json', ...auth(c.token) } })).body.task_id, tid);
	assert.equal(r.body.current.fields.place_intro, 'intro avant');
	assert.deepEqual(r.body.current.savoir_etre, ['rigueur']);
	assert.equal(r.body.current.capacites[0].capacite, 'capacité avant');
	assert.equal((await getJSON(`/plan_cadre/${p.plan}/review`, { headers: auth(c.token) })).status, 400, 'task_id required');
	assert.equal((await getJSON(`/plan_cadre/${p.plan + 1000000}/review?task_id=${tid}`, { headers: auth(c.token) })).status, 404);

	// Bad index: 400, nothing written.
	r = await postJSON(`/plan_cadre/${p.plan}/apply_improvement`, { task_id: tid, action: { capacites: 'replace' }, accept_items: { capacites: [7] } }, auth(c.token));
	assert.equal(r.status, 400, JSON.stringify(r.body));
	assert.deepEqual(planSnapshot(p.plan), before);

	// EDxo's form: take place_intro, replace savoirs-être and capacités, keep the rest.
	const fields = new URLSearchParams();
	fields.append('task_id', tid);
	fields.append('accept_fields_keys', 'place_intro');
	fields.append('action[savoirs_etre]', 'replace');
	fields.append('action[capacites]', 'replace');
	fields.append('accept_items[capacites]', '0');
	fields.append('accept_items[capacites][0][savoirs_necessaires]', '0');
	r = await getJSON(`/plan_cadre/${p.plan}/apply_improvement`, { method: 'POST',
	    headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...auth(c.token) }, body: fields.toString() });
	assert.equal(r.status, 200, JSON.stringify(r.body));
	assert.deepEqual(Object.keys(r.body).sort(), ['applied', 'cours_id', 'message', 'plan_id', 'redirect_url', 'success']);
	assert.equal(r.body.redirect_url, `/cours/${p.c1}/plan_cadre/${p.plan}`);
	conforms('resp-generation-pc-apply', r.body);
	assert.deepEqual(r.body.applied, { fields: ['place_intro'], lists: { savoirs_etre: 'replace', capacites: 'replace' } });
	const after = planSnapshot(p.plan);
	assert.equal(after.cols.place_intro, pr.fields.place_intro);
	assert.deepEqual({ ...after.cols, place_intro: null }, { ...before.cols, place_intro: null }, 'other columns kept');
	assert.deepEqual(after.se, pr.savoir_etre);
	const k0 = pr.capacites[0];
	assert.deepEqual(after.caps, [{ c: k0.capacite, min: Math.min(100, Math.max(0, k0.ponderation_min)), sn: [k0.savoirs_necessaires[0]],
	    sf: k0.savoirs_faire.map((f) => ({ t: f.texte, c: f.cible, s: f.seuil_reussite })), me: k0.moyens_evaluation }]);
	assert.deepEqual(after.oc, before.oc, 'kept list untouched');
	assert.deepEqual(after.cd, before.cd);

	// JSON apply with merge of a (texte, description) list.
	r = await postJSON(`/plan_cadre/${p.plan}/apply_improvement`, { task_id: tid, action: { objets_cibles: 'merge' } }, auth(c.token));
	assert.equal(r.status, 200, JSON.stringify(r.body));
	const oc = planSnapshot(p.plan).oc;
	assert.deepEqual(oc.slice(0, 1), before.oc, 'merge keeps what was there');
	assert.deepEqual(oc.slice(1).map((x) => x.t), pr.fields_with_description['Objets cibles'].map((x) => x.texte));
	// One column given as a string; "keep" is explicit and wins over nothing.
	r = await postJSON(`/plan_cadre/${p.plan}/apply_improvement`, { task_id: tid, accept_fields_keys: 'objectif_terminal', action: { savoirs_etre: 'keep' } }, auth(c.token));
	assert.equal(r.status, 200, JSON.stringify(r.body));
	assert.deepEqual(r.body.applied, { fields: ['objectif_terminal'], lists: {} });
	assert.equal(planSnapshot(p.plan).cols.objectif_terminal, pr.fields.objectif_terminal);
	assert.equal(one(`SELECT modified_by_id FROM plan_cadre WHERE id = ${p.plan}`), String(c.id));

	// EDxo's review form posted by a browser: a 303 to the plan-cadre,
	// as EDxo redirected; the same form from a script keeps the JSON.
	psql(`UPDATE plan_cadre SET structure_intro = 'avant la navigation' WHERE id = ${p.plan}`);
	const nav = new URLSearchParams([['task_id', tid], ['accept_fields_keys', 'structure_intro'], ['csrf_token', 'x']]).toString();
	let h = await raw('POST', `/plan_cadre/${p.plan}/apply_improvement`, { 'Content-Type': 'application/x-www-form-urlencoded',
	    Accept: NAVIGATE, ...auth(c.token) }, nav);
	assert.equal(h.status, 303, h.text);
	assert.equal(h.headers.location, `/cours/${p.c1}/plan_cadre/${p.plan}`);
	assert.equal(planSnapshot(p.plan).cols.structure_intro, pr.fields.structure_intro, 'written before the redirect');
	h = await raw('POST', `/plan_cadre/${p.plan}/apply_improvement`, { 'Content-Type': 'application/json',
	    Accept: NAVIGATE, ...auth(c.token) }, JSON.stringify({ task_id: tid, accept_fields_keys: ['structure_intro'] }));
	assert.equal(h.status, 200, 'a JSON body is a script: JSON');
	assert.equal(h.json.success, true);
	// A refused form is not redirected: the error is the answer.
	h = await raw('POST', `/plan_cadre/${p.plan}/apply_improvement`, { 'Content-Type': 'application/x-www-form-urlencoded',
	    Accept: NAVIGATE, ...auth(c.token) }, new URLSearchParams([['task_id', tid], ['action[capacites]', 'replace'],
	    ['accept_items[capacites]', '99']]).toString());
	assert.equal(h.status, 400, h.text);
	assert.equal(h.headers.location, undefined);
});

test('plan-cadre API: improve one section restricts the schema; unknown section 400', { timeout: 60000 }, async () => {
	const c = await user('professeur');
	const p = programme(c);
	let r = await postJSON(`/api/plan_cadre/${p.plan}/improve/nonsense`, {}, auth(c.token));
	assert.equal(r.status, 400, JSON.stringify(r.body));
	r = await postJSON(`/api/plan_cadre/${p.plan}/generate`, { target_columns: ['place_intro', 'zzz'] }, auth(c.token));
	assert.equal(r.status, 400);
	assert.equal(r.body.field, 'target_columns');
	r = await postJSON(`/api/plan_cadre/${p.plan}/improve/objectif_terminal`, {}, auth(c.token));
	assert.equal(r.status, 202, JSON.stringify(r.body));
	let t = await finished(r.body.task_id);
	assert.equal(t.state, 'SUCCESS', JSON.stringify(t.result));
	assert.deepEqual(Object.keys(t.result.proposed.fields), ['objectif_terminal']);
	assert.deepEqual(t.result.proposed.fields_with_description, {});
	assert.deepEqual(t.result.proposed.capacites, []);
	assert.equal(t.result.mode, 'improve');
	assert.equal(t.payload.mode, 'improve');
	r = await postJSON(`/api/plan_cadre/${p.plan}/improve/capacites`, {}, auth(c.token));
	assert.equal(r.status, 202);
	const capTask = r.body.task_id;
	t = await finished(capTask);
	assert.equal(t.state, 'SUCCESS', JSON.stringify(t.result));
	assert.deepEqual(Object.keys(t.result.proposed.fields), []);
	assert.ok(t.result.proposed.capacites.length >= 1);
	// accept_all applies everything the preview has.
	r = await postJSON(`/plan_cadre/${p.plan}/apply_improvement`, { task_id: capTask, accept_all: true }, auth(c.token));
	assert.equal(r.status, 403, 'apply is admin|coordo, as in EDxo');
	const a = await admin();
	r = await postJSON(`/plan_cadre/${p.plan}/apply_improvement`, { task_id: capTask, accept_all: true }, auth(a));
	assert.equal(r.status, 200, JSON.stringify(r.body));
	assert.deepEqual(r.body.applied, { fields: [], lists: { capacites: 'replace' } });
	const applied = planSnapshot(p.plan);
	assert.equal(applied.caps.length, t.result.proposed.capacites.length);
	// Merging the same capacités again adds nothing: same names, same children.
	r = await postJSON(`/plan_cadre/${p.plan}/apply_improvement`, { task_id: capTask, action: { capacites: 'merge' } }, auth(a));
	assert.equal(r.status, 200, JSON.stringify(r.body));
	assert.deepEqual(r.body.applied, { fields: [], lists: { capacites: 'merge' } });
	assert.deepEqual(planSnapshot(p.plan), applied);
	// EDxo's form posted as FormData: its bracketed field reaches the apply.
	const m = await multipart(`/plan_cadre/${p.plan}/apply_improvement`, [['task_id', capTask],
	    ['action[capacites]', 'merge'], ['csrf_token', 'x']], a);
	assert.equal(m.status, 200, JSON.stringify(m.body));
	assert.deepEqual(m.body, r.body, 'the same answer as the JSON apply');
	assert.deepEqual(planSnapshot(p.plan), applied);
});

test('plan-cadre: invalid model JSON fails the task clearly and writes nothing', { timeout: 60000 }, async () => {
	const c = await user();
	const p = programme(c);
	const before = planSnapshot(p.plan);
	const r = await postJSON(`/api/plan_cadre/${p.plan}/improve/place_intro`, { additional_info: '[[X-Fake-Fault: invalid-json]]' }, auth(c.token));
	assert.equal(r.status, 202, JSON.stringify(r.body));
	const t = await finished(r.body.task_id);
	assert.equal(t.state, 'FAILURE');
	assert.equal(typeof t.result.error, 'string');
	assert.ok(t.result.error.length > 10, t.result.error);
	assert.deepEqual(planSnapshot(p.plan), before);
	assert.equal(one(`SELECT count(*) FROM usage_ledger WHERE task_id = '${r.body.task_id}'`), '2', 'both calls paid (one retry)');
	const ap = await postJSON(`/plan_cadre/${p.plan}/apply_improvement`, { task_id: r.body.task_id, accept_all: true }, auth(c.token));
	assert.equal(ap.status, 409, 'a failed task has nothing to apply');
});

test('plan-cadre: cancel mid-stream stops the upstream transfer, REVOKED, partial usage billed', { timeout: 60000 }, async () => {
	const c = await user();
	const p = programme(c);
	const before = planSnapshot(p.plan);
	const r = await postJSON(`/api/plan_cadre/${p.plan}/generate`, { additional_info: '[[X-Fake-Chunk-Ms: 200; X-Fake-Chunks: 300]]' }, auth(c.token));
	assert.equal(r.status, 202, JSON.stringify(r.body));
	const id = r.body.task_id;
	await until('streaming', () => (task(id).meta.stream_buffer || '').length > 0, 30000);
	const cancel = await postJSON(`/tasks/cancel/${id}`, {}, auth(c.token));
	assert.equal(cancel.status, 202, JSON.stringify(cancel.body));
	const t = await finished(id);
	assert.equal(t.state, 'REVOKED');
	const l = await until('ledger row', () => {
		const v = json(`SELECT coalesce(json_agg(json_build_object('status', status, 'out', output_tokens)), '[]') FROM usage_ledger WHERE task_id = '${id}'`);
		return v.length > 0 ? v : null;
	}, 30000);
	assert.equal(l.length, 1, JSON.stringify(l));
	assert.ok(l[0].out > 0 && l[0].out < 300, `billed for what was streamed only: ${l[0].out}`);
	assert.deepEqual(planSnapshot(p.plan), before);
});

test('bad bodies: clear errors', async () => {
	const c = await user();
	const p = programme(c);
	let r = await form(`/plan_cadre/${p.plan}/generate_content`, { mode: 'wand' }, c.token);
	assert.equal(r.status, 200);
	assert.equal(r.body.success, false);
	assert.match(r.body.message, /wand_instruction/);
	r = await form(`/plan_cadre/${p.plan}/generate_content`, {}, c.token);
	assert.equal(r.body.success, false);
	r = await form(`/plan_cadre/${p.plan}/generate_content`, { additional_info: 'x', ai_model: 'modele-inexistant' }, c.token);
	assert.equal(r.body.success, false);
	assert.match(r.body.message, /modele-inexistant/);
	r = await postJSON(`/programme/${p.pid}/links`, '{"links": [', auth(c.token));
	assert.equal(r.status, 400);
	r = await postJSON(`/programme/${p.pid}/links`, { links: 'tout' }, auth(c.token));
	assert.equal(r.status, 400);
	assert.deepEqual(Object.keys(r.body).sort(), ['code', 'error', 'field']);
	assert.equal(r.body.code, 'validation_error', 'refused by the request schema');
	assert.equal(r.body.field, 'links');
	r = await raw('POST', `/programme/${p.pid}/grille/apply`, { 'Content-Type': 'text/plain', ...auth(c.token) }, 'x');
	assert.equal(r.status, 415);
	r = await postJSON(`/plan_cadre/${p.plan}/apply_improvement`, { task_id: 'pas-un-uuid' }, auth(c.token));
	assert.equal(r.status, 404);
	r = await form(`/plan_cadre/${p.plan}/generate_content`, { additional_info: 'x', target_columns: 'place_intro, zzz' }, c.token);
	assert.equal(r.body.success, false);
	assert.match(r.body.message, /zzz/);
	r = await postJSON(`/api/plan_cadre/${p.plan}/generate`, { target_columns: 3 }, auth(c.token));
	assert.equal(r.status, 400);
	assert.equal(r.body.field, 'target_columns');
	const course = (nom, h) => ({ nom, heures_theorie: h, heures_laboratoire: 0, heures_travail_maison: 0, nombre_unites: 1, prealables: [], corequis: [] });
	for (const k of [course('  ', 1), course('Trop', 1000)]) {
		r = await postJSON(`/programme/${p.pid}/grille/apply`, { mode: 'append', grid: { sessions: [{ session: 1, courses: [k] }], fils_conducteurs: [] } }, auth(c.token));
		assert.equal(r.status, 400, JSON.stringify(r.body));
		assert.equal(r.body.field, 'grid.sessions[0].courses[0]');
	}
	assert.equal(one(`SELECT count(*) FROM cours_programme WHERE programme_id = ${p.pid}`), '2', 'nothing written');
	assert.equal(one(`SELECT count(*) FROM tasks WHERE user_id = ${c.id}`), '0');
});

test('plan-cadre: section templates are rendered with the course context (Jinja)', { timeout: 60000 }, async () => {
	const c = await user('professeur');
	const p = programme(c);
	const other = programme(c);
	const section = 'Objectif terminal';
	const saved = json(`SELECT json_build_object('t', text_content, 'u', use_ai) FROM global_generation_settings WHERE section = ${q(section)}`);
	const setTemplate = (t, ai = true) => psql(`UPDATE global_generation_settings SET text_content = ${q(t)}, use_ai = ${ai} WHERE section = ${q(section)}`);
	const run = async (plan) => {
		const r = await postJSON(`/api/plan_cadre/${plan}/improve/objectif_terminal`, {}, auth(c.token));
		assert.equal(r.status, 202, JSON.stringify(r.body));
		return { id: r.body.task_id, t: await finished(r.body.task_id) };
	};
	try {
		// The fake fails the call only if the rendered text names its fault:
		// that happens for this course's code and no other.
		setTemplate(`Objectif de {{ cours.nom }} ({{ cours.heures_theorie }} h). [[X-Fake-Fault: {% if cours.code == 'G${p.u}-1' and cours.heures_theorie == 2 %}invalid-json{% else %}none{% endif %}]]`);
		let x = await run(p.plan);
		assert.equal(x.t.state, 'FAILURE', 'rendered with this course: the fault was asked');
		x = await run(other.plan);
		assert.equal(x.t.state, 'SUCCESS', `another course renders another text: ${JSON.stringify(x.t.result)}`);
		assert.deepEqual(Object.keys(x.t.result.proposed.fields), ['objectif_terminal']);
		// A template that does not parse fails the task, naming the section, before any call.
		setTemplate('{{ cours.code }} {% if %}');
		x = await run(p.plan);
		assert.equal(x.t.state, 'FAILURE');
		assert.match(x.t.result.error, /Section « Objectif terminal » : template: .*ligne 1/);
		assert.equal(one(`SELECT count(*) FROM usage_ledger WHERE task_id = '${x.id}'`), '0', 'nothing paid');
		// A section without the AI is not generated; alone, there is nothing to do.
		setTemplate('Texte fixe', false);
		x = await run(p.plan);
		assert.equal(x.t.state, 'FAILURE');
		assert.match(x.t.result.error, /Aucune section à générer/);
	} finally {
		setTemplate(saved.t, saved.u);
	}
});

test('a bad field gets the runtime\'s one shape on every route: 400, validation_error, the field', async () => {
	const c = await user();
	const p = programme(c);
	const tid = '00000000-0000-0000-0000-000000000000';
	for (const [path, body, field] of [
		[`/programme/${p.pid}/logigramme/generate`, { reasoning_effort: 'beaucoup' }, 'reasoning_effort'],
		[`/programme/${p.pid}/grille/generate`, { total_hours: 'beaucoup', nb_sessions: 2 }, 'total_hours'],
		[`/programme/${p.pid}/grille/generate`, { total_hours: 60, nb_sessions: 2, total_units: 0 }, 'total_units'],
		[`/programme/${p.pid}/links`, { links: 'tout' }, 'links'],
		[`/programme/${p.pid}/grille/apply`, { mode: 'remplacer', task_id: tid }, 'mode'],
		[`/plan_cadre/${p.plan}/apply_improvement`, { accept_all: true }, 'task_id'],
		[`/plan_cadre/${p.plan}/apply_improvement`, { task_id: tid, accept_all: 'peut-être' }, 'accept_all'],
		[`/api/plan_cadre/${p.plan}/generate`, { verbosity: 'bavard' }, 'verbosity'],
		[`/api/plan_cadre/${p.plan}/improve`, { target_columns: ['place_intro', 4] }, 'target_columns.1'],
		[`/api/plan_cadre/${p.plan}/improve/place_intro`, { reasoning_effort: 'max' }, 'reasoning_effort'],
	]) {
		const r = await postJSON(path, body, auth(c.token));
		const what = `${path} ${JSON.stringify(body)} -> ${JSON.stringify(r.body)}`;
		assert.equal(r.status, 400, what);
		assert.deepEqual(Object.keys(r.body).sort(), ['code', 'error', 'field'], what);
		assert.equal(r.body.code, 'validation_error', what);
		assert.equal(r.body.field, field, what);
		assert.ok(r.body.error.startsWith(`${field} : `), what);
		conforms('resp-error', r.body);
	}
	// The query string of a GET is validated the same way.
	const r = await getJSON(`/plan_cadre/${p.plan}/review`, { headers: auth(c.token) });
	assert.equal(r.status, 400, JSON.stringify(r.body));
	assert.deepEqual([r.body.code, r.body.field], ['validation_error', 'task_id']);
	// A bound the schema leaves to its named constant: the same shape.
	const b = await postJSON(`/programme/${p.pid}/grille/generate`, { total_hours: 600, nb_sessions: 99 }, auth(c.token));
	assert.equal(b.status, 400);
	assert.deepEqual([b.body.code, b.body.field], ['validation_error', 'nb_sessions']);
	// generate_content keeps EDxo's answer to a form that does not validate.
	for (const bad of [{ additional_info: 'x', reasoning_effort: 'beaucoup' }, { additional_info: 'x', verbosity: 'bavard' },
	    { additional_info: 'x', mode: 'autre' }]) {
		const f = await form(`/plan_cadre/${p.plan}/generate_content`, bad, c.token);
		assert.equal(f.status, 200, JSON.stringify(f.body));
		assert.deepEqual(Object.keys(f.body).sort(), ['message', 'success']);
		assert.equal(f.body.success, false);
		assert.match(f.body.message, new RegExp(`^${Object.keys(bad)[1]} : `));
		conforms('resp-generation-pc-content', f.body);
	}
	assert.equal(one(`SELECT count(*) FROM tasks WHERE user_id = ${c.id}`), '0', 'nothing queued');
});

test('the starts and the apply take JSON, a urlencoded form and FormData alike', { timeout: 60000 }, async () => {
	const c = await user();
	const p = programme(c);
	const nil = '00000000-0000-0000-0000-000000000000';
	// [path, JSON body, the same as form fields]: answers reached after
	// the fields were typed (a bound, a model, a section, a task).
	const cases = [
		[`/programme/${p.pid}/logigramme/generate`, { ai_model: 'modele-inexistant', additional_info: 'x' },
		    [['ai_model', 'modele-inexistant'], ['additional_info', 'x'], ['csrf_token', 'ignoré']]],
		[`/programme/${p.pid}/grille/generate`, { total_hours: 600, nb_sessions: 99 },
		    [['total_hours', '600'], ['nb_sessions', '99'], ['total_units', '']]],
		[`/plan_cadre/${p.plan}/generate_content`, { additional_info: 'x', target_columns: ['place_intro', 'zzz'] },
		    [['additional_info', 'x'], ['target_columns', 'place_intro'], ['target_columns', 'zzz'], ['stream', '1']]],
		[`/plan_cadre/${p.plan}/generate_content`, { mode: 'wand', target_columns: ['place_intro'] },
		    [['mode', 'wand'], ['target_columns', 'place_intro']]],
		[`/plan_cadre/${p.plan}/apply_improvement`, { task_id: nil, accept_fields_keys: ['place_intro'] },
		    [['task_id', nil], ['accept_fields_keys', 'place_intro'], ['action[capacites]', 'replace']]],
		[`/api/plan_cadre/${p.plan}/generate`, { target_columns: ['place_intro', 'zzz'] },
		    [['target_columns', 'place_intro'], ['target_columns', 'zzz']]],
		[`/api/plan_cadre/${p.plan}/improve/nonsense`, {}, [['additional_info', 'x']]],
	];
	for (const [path, body, fields] of cases) {
		const j = await postJSON(path, body, auth(c.token));
		assert.ok(![202, 415].includes(j.status), `${path}: ${j.status} ${JSON.stringify(j.body)}`);
		for (const [how, r] of [['urlencoded', await form(path, fields, c.token)], ['multipart', await multipart(path, fields, c.token)]]) {
			assert.equal(r.status, j.status, `${path} ${how}: ${JSON.stringify(r.body)}`);
			assert.deepEqual(r.body, j.body, `${path} ${how}`);
		}
	}
	assert.equal(one(`SELECT count(*) FROM tasks WHERE user_id = ${c.id}`), '0', 'nothing queued');

	// And a start from FormData reaches the task typed.
	const r = await multipart(`/programme/${p.pid}/logigramme/generate`, [['additional_info', 'Par FormData.'],
	    ['reasoning_effort', 'low'], ['verbosity', ''], ['ai_model', '']], c.token);
	assert.equal(r.status, 202, JSON.stringify(r.body));
	const t = await finished(r.body.task_id);
	assert.equal(t.state, 'SUCCESS', JSON.stringify(t.result));
	assert.equal(t.payload.additional_info, 'Par FormData.');
	assert.equal(t.payload.reasoning_effort, 'low');
	assert.ok(!('verbosity' in t.payload), 'a blank field is not given');
});
