// EDxo's six-level evaluation grids (issue 7, contract 4.3) through nginx,
// the evaluation program and the fake upstream: the generated grid, the
// wizard's lookups and save_grid, each on a cours created here with psql.
import test from 'node:test';
import assert from 'node:assert/strict';
import { BASE, auth, demoProgramme, getJSON, newUser, postJSON, psql, q, raw, recorder, uniq } from './lib.mjs';

const LEVELS = [1, 2, 3, 4, 5, 6].map((i) => `level${i}_description`);
const user = ({ credits = '5.00', member = true } = {}) => newUser({ prefix: 'ev', credits, member });

// A cours with a plan-cadre (one capacité, two savoirs-faire) and a plan
// de cours with one evaluation.
function fixture() {
	const cours = psql(`INSERT INTO cours (code, nom) VALUES (${q(`EV-${uniq()}`)}, 'Grilles de test') RETURNING id`);
	psql(`INSERT INTO cours_programme (cours_id, programme_id) VALUES (${cours}, ${demoProgramme()})`);
	const pc = psql(`INSERT INTO plan_cadre (cours_id) VALUES (${cours}) RETURNING id`);
	const cap = psql(`INSERT INTO plan_cadre_capacites (plan_cadre_id, capacite) VALUES (${pc}, 'Mesurer') RETURNING id`);
	const sf1 = psql(`INSERT INTO plan_cadre_capacite_savoirs_faire (capacite_id, texte, cible, seuil_reussite) ` +
	    `VALUES (${cap}, 'Lire un multimètre', 'Lecture exacte', 'Lecture approximative') RETURNING id`);
	const sf2 = psql(`INSERT INTO plan_cadre_capacite_savoirs_faire (capacite_id, texte) VALUES (${cap}, 'Noter') RETURNING id`);
	const plan = psql(`INSERT INTO plan_de_cours (cours_id, session) VALUES (${cours}, 'H26') RETURNING id`);
	const ev = psql(`INSERT INTO plan_de_cours_evaluations (plan_de_cours_id, titre_evaluation, description) ` +
	    `VALUES (${plan}, 'Laboratoire 1', 'Mesures de base') RETURNING id`);
	return { cours: Number(cours), cap: Number(cap), sf1: Number(sf1), sf2: Number(sf2), plan: Number(plan), ev: Number(ev) };
}

const grid = (ev) => psql(`SELECT coalesce(json_agg(row_to_json(g) ORDER BY g.savoir_faire_id), '[]') ` +
    `FROM evaluation_savoirfaire g WHERE g.evaluation_id = ${ev}`);
const ledger = (u) => Number(psql(`SELECT count(*) FROM usage_ledger WHERE user_id = ${u.id} AND kind <> 'admin_credit'`));

// The wizard posts FormData (multipart); a urlencoded form and JSON carry
// the same fields.  pairs: [[key, text], ...], keys may repeat.
function formData(pairs) {
	const fd = new FormData();
	for (const [k, v] of pairs)
		fd.append(k, v);
	return fd;
}
const postMultipart = (u, path, pairs) => getJSON(path, { method: 'POST', headers: auth(u.token), body: formData(pairs) });
const postUrlenc = (u, path, pairs) => getJSON(path, { method: 'POST',
    headers: { ...auth(u.token), 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(pairs).toString() });

test('generate_six_level_grid: six strings for a savoir-faire and an evaluation, billed once, nothing written', async () => {
	const u = await user();
	const f = fixture();
	const r = await postJSON('/evaluation/generate_six_level_grid', { savoir_faire: 'Lire un multimètre',
	    capacite: 'Mesurer', savoir_faire_id: f.sf1, evaluation_id: f.ev }, auth(u.token));
	assert.equal(r.status, 200, JSON.stringify(r.body));
	assert.deepEqual(Object.keys(r.body).sort(), LEVELS);
	for (const k of LEVELS)
		assert.equal(typeof r.body[k], 'string');
	assert.equal(ledger(u), 1);
	assert.equal(grid(f.ev), '[]', 'generating writes nothing');
	const n = psql(`SELECT count(*) FROM usage_ledger WHERE user_id = ${u.id} AND feature = 'evaluation.grid'`);
	assert.equal(n, '1');
});

test('generate_six_level_grid: EDxo\'s errors, nothing paid', async () => {
	const u = await user();
	const f = fixture();
	let r = await postJSON('/evaluation/generate_six_level_grid', { savoir_faire: 'x' }, auth(u.token));
	assert.equal(r.status, 400);
	assert.equal(r.body.error, 'Savoir-faire et capacité requis');
	r = await postJSON('/evaluation/generate_six_level_grid', { savoir_faire: 'x', capacite: 'y',
	    savoir_faire_id: 'abc' }, auth(u.token));
	assert.equal(r.status, 400);
	const out = await user({ member: false });
	r = await postJSON('/evaluation/generate_six_level_grid', { savoir_faire: 'x', capacite: 'y',
	    savoir_faire_id: f.sf1 }, auth(out.token));
	assert.equal(r.status, 404, 'a savoir-faire of a cours the user does not see');
	const broke = await user({ credits: '0.00' });
	r = await postJSON('/evaluation/generate_six_level_grid', { savoir_faire: 'x', capacite: 'y' }, auth(broke.token));
	assert.equal(r.status, 403, JSON.stringify(r.body));
	assert.match(r.body.error, /^Crédits insuffisants/);
	const saved = psql('SELECT prompt_template FROM grille_prompt_settings WHERE id = 1');
	psql("UPDATE grille_prompt_settings SET prompt_template = prompt_template || ' {niveau_inconnu}' WHERE id = 1");
	try {
		r = await postJSON('/evaluation/generate_six_level_grid', { savoir_faire: 'x', capacite: 'y' }, auth(u.token));
		assert.equal(r.status, 400, JSON.stringify(r.body));
		assert.equal(r.body.error, 'Variable manquante dans le template: niveau_inconnu');
	} finally {
		psql(`UPDATE grille_prompt_settings SET prompt_template = ${q(saved)} WHERE id = 1`);
	}
	r = await postJSON('/evaluation/generate_six_level_grid', { savoir_faire: 'x', capacite: 'y',
	    schema: 1 }, {});
	assert.equal(r.status, 401);
	assert.equal(ledger(u) + ledger(out) + ledger(broke), 0);
});

test('save_grid (form): description and rows replaced; a foreign savoir-faire changes nothing', async () => {
	const u = await user();
	const f = fixture();
	const form = (fields) => raw('POST', '/evaluation/save_grid', {
	    Authorization: `Bearer ${u.token}`, 'Content-Type': 'application/x-www-form-urlencoded' },
	    new URLSearchParams(fields).toString());
	const fields = [['evaluation_id', String(f.ev)], ['description', 'Nouvelle description'],
	    ['savoirs_faire', String(f.sf1)], ['savoirs_faire', String(f.sf2)]];
	for (const sf of [f.sf1, f.sf2])
		for (let i = 1; i <= 6; i++)
			fields.push([`level${i}_${sf}`, `Niveau ${i} de ${sf}`]);
	let r = await form(fields);
	assert.equal(r.status, 200, r.text);
	assert.deepEqual(r.json, { success: true });
	let g = JSON.parse(grid(f.ev));
	assert.deepEqual(g.map((x) => [x.savoir_faire_id, x.capacite_id, x.selected, x.level1_description, x.level6_description]),
	    [[f.sf1, f.cap, true, `Niveau 1 de ${f.sf1}`, `Niveau 6 de ${f.sf1}`],
	     [f.sf2, f.cap, true, `Niveau 1 de ${f.sf2}`, `Niveau 6 de ${f.sf2}`]]);
	assert.equal(psql(`SELECT description FROM plan_de_cours_evaluations WHERE id = ${f.ev}`), 'Nouvelle description');
	const before = grid(f.ev);
	const other = fixture();
	r = await form([['evaluation_id', String(f.ev)], ['description', 'Pas écrit'],
	    ['savoirs_faire', String(f.sf1)], ['savoirs_faire', String(other.sf1)]]);
	assert.equal(r.status, 400, r.text);
	assert.equal(r.json.success, false);
	assert.equal(typeof r.json.message, 'string');
	assert.equal(grid(f.ev), before);
	assert.equal(psql(`SELECT description FROM plan_de_cours_evaluations WHERE id = ${f.ev}`), 'Nouvelle description');
	// JSON works too; an evaluation the user does not see is a 404.
	r = await postJSON('/evaluation/save_grid', { evaluation_id: f.ev, savoirs_faire: [f.sf2, f.sf2],
	    [`level4_${f.sf2}`]: 'Seuil' }, auth(u.token));
	assert.equal(r.status, 200, JSON.stringify(r.body));
	g = JSON.parse(grid(f.ev));
	assert.deepEqual(g.map((x) => [x.savoir_faire_id, x.level4_description, x.level1_description]), [[f.sf2, 'Seuil', null]]);
	const out = await user({ member: false });
	r = await postJSON('/evaluation/save_grid', { evaluation_id: f.ev, savoirs_faire: [] }, auth(out.token));
	assert.equal(r.status, 404);
	assert.equal(r.body.success, false);
	r = await postJSON('/evaluation/save_grid', { savoirs_faire: [] }, auth(u.token));
	assert.equal(r.status, 400);
});

test('get_plans, get_evaluations, get_description: EDxo\'s JSON, limited to visible cours', async () => {
	const u = await user();
	const f = fixture();
	let r = await postJSON('/evaluation/get_plans', { course_id: f.cours }, auth(u.token));
	assert.equal(r.status, 200, JSON.stringify(r.body));
	assert.deepEqual(r.body, { plans: [{ id: f.plan, name: 'H26' }] });
	r = await postJSON('/evaluation/get_evaluations', { plan_id: f.plan }, auth(u.token));
	assert.equal(r.status, 200);
	assert.deepEqual(r.body, { evaluations: [{ id: f.ev, title: 'Laboratoire 1' }] });
	r = await getJSON(`/evaluation/get_description/${f.ev}`, { headers: auth(u.token) });
	assert.equal(r.status, 200);
	assert.deepEqual(r.body, { success: true, description: 'Mesures de base' });
	const out = await user({ member: false });
	r = await postJSON('/evaluation/get_plans', { course_id: f.cours }, auth(out.token));
	assert.deepEqual(r.body, { plans: [] });
	r = await postJSON('/evaluation/get_evaluations', { plan_id: f.plan }, auth(out.token));
	assert.deepEqual(r.body, { evaluations: [] });
	r = await getJSON(`/evaluation/get_description/${f.ev}`, { headers: auth(out.token) });
	assert.equal(r.status, 404);
	assert.equal(r.body.success, false);
	// No id, or the wizard's empty choice (""): EDxo's empty list.
	r = await postJSON('/evaluation/get_plans', {}, auth(u.token));
	assert.equal(r.status, 200, JSON.stringify(r.body));
	assert.deepEqual(r.body, { plans: [] });
	r = await postMultipart(u, '/evaluation/get_plans', [['course_id', ''], ['csrf_token', 'x']]);
	assert.deepEqual([r.status, r.body], [200, { plans: [] }]);
	r = await postMultipart(u, '/evaluation/get_evaluations', [['plan_id', ''], ['csrf_token', 'x']]);
	assert.deepEqual([r.status, r.body], [200, { evaluations: [] }]);
	r = await postJSON('/evaluation/get_evaluations', { plan_id: null }, auth(u.token));
	assert.deepEqual([r.status, r.body], [200, { evaluations: [] }]);
	r = await postJSON('/evaluation/get_plans', { course_id: 0 }, auth(u.token));
	assert.equal(r.status, 400, 'an id is positive');
});

test('the grid prompt: cible, seuil and the evaluation\'s description; the settings\' level texts in the schema', async () => {
	const rec = await recorder('ev');
	const saved = psql("SELECT coalesce(ai_model, '') FROM section_ai_settings WHERE section = 'evaluation'");
	psql(`UPDATE section_ai_settings SET ai_model = '${rec.model}' WHERE section = 'evaluation'`);
	try {
		const u = await user();
		const f = fixture();
		let r = await postJSON('/evaluation/generate_six_level_grid', { savoir_faire: 'Lire un multimètre',
		    capacite: 'Mesurer', savoir_faire_id: f.sf1, evaluation_id: f.ev }, auth(u.token));
		assert.equal(r.status, 200, JSON.stringify(r.body));
		assert.equal(rec.bodies.length, 1);
		const b = rec.bodies[0];
		assert.equal(b.model, rec.model);
		assert.equal(b.text.format.name, 'AISixLevelGridResponse');
		assert.equal(b.text.format.strict, true);
		const levels = psql('SELECT json_build_array(level1_description, level6_description) FROM grille_prompt_settings');
		const [l1, l6] = JSON.parse(levels);
		assert.equal(b.text.format.schema.properties.level1_description.description, l1);
		assert.equal(b.text.format.schema.properties.level6_description.description, l6);
		const input = JSON.stringify(b.input);
		for (const want of ['Lire un multimètre', 'Mesurer', 'Lecture exacte', 'Lecture approximative', 'Mesures de base'])
			assert.ok(input.includes(want), `the prompt has ${want}`);
		// Without a savoir-faire: EDxo's default cible and seuil.
		r = await postJSON('/evaluation/generate_six_level_grid', { savoir_faire: 'Noter', capacite: 'Mesurer' },
		    auth(u.token));
		assert.equal(r.status, 200, JSON.stringify(r.body));
		const input2 = JSON.stringify(rec.bodies[1].input);
		assert.ok(input2.includes('Tâche complète réalisée de façon autonome'));
		assert.ok(input2.includes('Tâche minimale acceptable'));
		assert.ok(!input2.includes('Lecture exacte'));
	} finally {
		psql(`UPDATE section_ai_settings SET ai_model = nullif(${q(saved)}, '') WHERE section = 'evaluation'`);
		rec.server.close();
	}
});

test('get_plans, get_evaluations: the wizard\'s FormData, a urlencoded form and JSON give the same answer', async () => {
	const u = await user();
	const f = fixture();
	for (const [path, k, v, want] of [
	    ['/evaluation/get_plans', 'course_id', f.cours, { plans: [{ id: f.plan, name: 'H26' }] }],
	    ['/evaluation/get_evaluations', 'plan_id', f.plan, { evaluations: [{ id: f.ev, title: 'Laboratoire 1' }] }]]) {
		// fetchData() in the wizard appends csrf_token to the FormData.
		const pairs = [[k, String(v)], ['csrf_token', 'ignored']];
		const answers = {
			json: await postJSON(path, { [k]: v }, auth(u.token)),
			urlencoded: await postUrlenc(u, path, pairs),
			multipart: await postMultipart(u, path, pairs),
		};
		for (const [how, r] of Object.entries(answers)) {
			assert.equal(r.status, 200, `${path} ${how}: ${JSON.stringify(r.body)}`);
			assert.deepEqual(r.body, want, `${path} ${how}`);
		}
	}
});

test('save_grid: the wizard\'s whole form as FormData writes what the urlencoded one does', async () => {
	const u = await user();
	const f = fixture();
	// new FormData(evaluationForm): the selects, the token, the grid.
	const pairs = (tag) => {
		const p = [['csrf_token', 'ignored'], ['course', String(f.cours)], ['plan', String(f.plan)],
		    ['evaluation', String(f.ev)], ['evaluation_description', `Description ${tag}`],
		    ['savoirs_faire', String(f.sf1)], ['savoirs_faire', String(f.sf2)]];
		for (const sf of [f.sf1, f.sf2]) {
			p.push([`capacite_${sf}`, String(f.cap)]);
			for (let i = 1; i <= 6; i++)
				p.push([`level${i}_${sf}`, `Niveau ${i} de ${sf}`]);
		}
		return p;
	};
	const rows = () => JSON.parse(grid(f.ev)).map((x) => [x.savoir_faire_id, x.capacite_id, x.selected,
	    ...[1, 2, 3, 4, 5, 6].map((i) => x[`level${i}_description`])]);
	let r = await postMultipart(u, '/evaluation/save_grid', pairs('multipart'));
	assert.equal(r.status, 200, JSON.stringify(r.body));
	assert.deepEqual(r.body, { success: true });
	const saved = rows();
	assert.equal(saved.length, 2);
	assert.deepEqual(saved[0], [f.sf1, f.cap, true, ...[1, 2, 3, 4, 5, 6].map((i) => `Niveau ${i} de ${f.sf1}`)]);
	assert.equal(psql(`SELECT description FROM plan_de_cours_evaluations WHERE id = ${f.ev}`), 'Description multipart');
	psql(`DELETE FROM evaluation_savoirfaire WHERE evaluation_id = ${f.ev}`);
	r = await postUrlenc(u, '/evaluation/save_grid', pairs('urlencoded'));
	assert.equal(r.status, 200, JSON.stringify(r.body));
	assert.deepEqual(r.body, { success: true });
	assert.deepEqual(rows(), saved);
	assert.equal(psql(`SELECT description FROM plan_de_cours_evaluations WHERE id = ${f.ev}`), 'Description urlencoded');
});

test('a bad field: EDxo\'s 400 naming it whichever way it came; {success: false} on save_grid; the grid\'s set wording', async () => {
	const u = await user();
	const f = fixture();
	const pairs = [['course_id', 'abc']];
	const answers = [await postJSON('/evaluation/get_plans', { course_id: 'abc' }, auth(u.token)),
	    await postUrlenc(u, '/evaluation/get_plans', pairs), await postMultipart(u, '/evaluation/get_plans', pairs)];
	for (const r of answers) {
		assert.equal(r.status, 400, JSON.stringify(r.body));
		assert.equal(r.body.code, 'validation_error');
		assert.equal(r.body.field, 'course_id');
		assert.match(r.body.error, /^course_id : /);
		assert.deepEqual(r.body, answers[0].body);
	}
	let r = await postMultipart(u, '/evaluation/save_grid', [['evaluation_id', String(f.ev)], ['savoirs_faire', 'abc']]);
	assert.equal(r.status, 400, JSON.stringify(r.body));
	assert.deepEqual([r.body.success, r.body.code], [false, 'validation_error']);
	assert.match(r.body.message, /^savoirs_faire\.0 : /);
	assert.equal(grid(f.ev), '[]');
	r = await postMultipart(u, '/evaluation/save_grid', [['savoirs_faire', String(f.sf1)]]);
	assert.equal(r.status, 400, JSON.stringify(r.body));
	assert.deepEqual([r.body.success, r.body.message], [false, 'evaluation_id est requis']);
	// "Savoir-faire et capacité requis", word for word, from a form too.
	for (const body of [[['savoir_faire', 'Lire']], [['savoir_faire', 'Lire'], ['capacite', '']]]) {
		r = await postMultipart(u, '/evaluation/generate_six_level_grid', body);
		assert.equal(r.status, 400, JSON.stringify(r.body));
		assert.deepEqual([r.body.error, r.body.code, r.body.field],
		    ['Savoir-faire et capacité requis', 'validation_error', 'capacite']);
	}
	assert.equal(ledger(u), 0);
});

// The wizard's grid: a cours whose plan-cadre has two capacités, the first
// measured by evaluation ev (two savoirs-faire), the second by ev2 only;
// names as given (hostile ones for the escaping test).
function gridFixture({ cap = 'Mesurer', sf1 = 'Lire un multimètre', sf2 = 'Noter', title = 'Laboratoire 1' } = {}) {
	const f = fixture();
	psql(`UPDATE plan_cadre_capacites SET capacite = ${q(cap)} WHERE id = ${f.cap}`);
	psql(`UPDATE plan_cadre_capacite_savoirs_faire SET texte = ${q(sf1)} WHERE id = ${f.sf1}`);
	psql(`UPDATE plan_cadre_capacite_savoirs_faire SET texte = ${q(sf2)} WHERE id = ${f.sf2}`);
	psql(`UPDATE plan_de_cours_evaluations SET titre_evaluation = ${q(title)} WHERE id = ${f.ev}`);
	psql(`INSERT INTO plan_de_cours_evaluations_capacites (evaluation_id, capacite_id, ponderation) VALUES (${f.ev}, ${f.cap}, '40 %')`);
	const pc = psql(`SELECT plan_cadre_id FROM plan_cadre_capacites WHERE id = ${f.cap}`);
	f.cap2 = Number(psql(`INSERT INTO plan_cadre_capacites (plan_cadre_id, capacite) VALUES (${pc}, 'Réparer') RETURNING id`));
	f.sf3 = Number(psql(`INSERT INTO plan_cadre_capacite_savoirs_faire (capacite_id, texte) VALUES (${f.cap2}, 'Souder') RETURNING id`));
	f.ev2 = Number(psql(`INSERT INTO plan_de_cours_evaluations (plan_de_cours_id, titre_evaluation) VALUES (${f.plan}, 'Examen') RETURNING id`));
	psql(`INSERT INTO plan_de_cours_evaluations_capacites (evaluation_id, capacite_id) VALUES (${f.ev2}, ${f.cap2})`);
	return f;
}

// get_grid three ways: JSON, urlencoded, FormData; {status, ctype, text}.
async function gridText(u, how, pairs) {
	const headers = auth(u.token);
	let body;
	if (how === 'json') {
		headers['Content-Type'] = 'application/json';
		body = JSON.stringify(Object.fromEntries(pairs.map(([k, v]) => [k, k === 'csrf_token' || v === '' ||
		    !/^[0-9]+$/.test(v) ? v : Number(v)])));
	} else if (how === 'urlencoded') {
		headers['Content-Type'] = 'application/x-www-form-urlencoded';
		body = new URLSearchParams(pairs).toString();
	} else {
		body = formData(pairs);
	}
	const r = await fetch(`${BASE}/evaluation/get_grid`, { method: 'POST', headers, body });
	return { status: r.status, ctype: r.headers.get('content-type'), text: await r.text() };
}
const HOW = ['json', 'urlencoded', 'multipart'];

test('get_courses: the cours the user sees, EDxo\'s list with string ids; nothing for an outsider; 401 without a session', async () => {
	const u = await user();
	const f = fixture();
	const code = psql(`SELECT code FROM cours WHERE id = ${f.cours}`);
	let r = await getJSON('/evaluation/get_courses', { headers: auth(u.token) });
	assert.equal(r.status, 200, JSON.stringify(r.body));
	assert.ok(Array.isArray(r.body));
	const mine = r.body.find((c) => c.id === String(f.cours));
	assert.deepEqual(mine, { id: String(f.cours), code, nom: 'Grilles de test' });
	const codes = r.body.map((c) => c.code);
	assert.deepEqual(codes, [...codes].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)), 'by code');
	const n = Number(psql(`SELECT count(DISTINCT cp.cours_id) FROM cours_programme cp JOIN user_programme up ` +
	    `ON up.programme_id = cp.programme_id WHERE up.user_id = ${u.id}`));
	assert.equal(r.body.length, n, 'every cours of the user\'s programmes, once');
	// A query string (a cache-buster) changes nothing.
	const again = await getJSON('/evaluation/get_courses?_=123&course_id=abc', { headers: auth(u.token) });
	assert.deepEqual(again.body, r.body);
	const out = await user({ member: false });
	r = await getJSON('/evaluation/get_courses', { headers: auth(out.token) });
	assert.deepEqual([r.status, r.body], [200, []]);
	r = await getJSON('/evaluation/get_courses');
	assert.equal(r.status, 401);
});

test('get_grid: the same HTML fragment from JSON, a form and FormData; only the evaluation\'s capacités; saved rows shown', async () => {
	const u = await user();
	const f = gridFixture();
	psql(`INSERT INTO evaluation_savoirfaire (evaluation_id, savoir_faire_id, capacite_id, level1_description, level4_description) ` +
	    `VALUES (${f.ev}, ${f.sf1}, ${f.cap}, 'Rien', 'Lecture à 10 % près')`);
	const texts = {};
	for (const how of HOW) {
		const r = await gridText(u, how, [['evaluation_id', String(f.ev)], ['csrf_token', 'ignored']]);
		assert.equal(r.status, 200, `${how}: ${r.text}`);
		assert.equal(r.ctype, 'text/html; charset=utf-8');
		texts[how] = r.text;
	}
	assert.equal(texts.urlencoded, texts.json);
	assert.equal(texts.multipart, texts.json);
	const h = texts.json;
	// EDxo's partial: the card, the evaluation, the capacité, each savoir-faire.
	assert.match(h, /<div class="card mb-4" id="grid-section">/);
	assert.match(h, /<h4 class="text-muted">Laboratoire 1<\/h4>/);
	assert.ok(h.includes(`<input type="hidden" name="evaluation_id" value="${f.ev}">`));
	assert.match(h, /<h4>Mesurer<\/h4>/);
	for (const sf of [f.sf1, f.sf2]) {
		assert.ok(h.includes(`name="savoirs_faire" value="${sf}"`), `checkbox of ${sf}`);
		assert.ok(h.includes(`id="sf_${sf}" data-target="desc_${sf}"`));
		assert.ok(h.includes(`<input type="hidden" name="capacite_${sf}" value="${f.cap}">`));
		assert.ok(h.includes(`id="ai_button_${sf}"`));
		assert.ok(h.includes(`data-sf-id="${sf}"`));
		for (let i = 1; i <= 6; i++) {
			assert.ok(h.includes(`<label for="level${i}_${sf}">Niveau ${i} (`), `label ${i} of ${sf}`);
			assert.ok(h.includes(`<textarea name="level${i}_${sf}" class="form-control change-detector" rows="2" id="level${i}_${sf}">`));
		}
	}
	assert.ok(h.includes('Niveau 4 (Seuil de réussite: 60%)'));
	assert.ok(h.includes('Niveau 6 (Cible: 100%)'));
	// The saved row: checked, its texts; the other unchecked and hidden.
	assert.ok(h.includes(`id="sf_${f.sf1}" data-target="desc_${f.sf1}" onclick="toggleAIButton('${f.sf1}')" checked>`));
	assert.ok(h.includes(`id="sf_${f.sf2}" data-target="desc_${f.sf2}" onclick="toggleAIButton('${f.sf2}')">`));
	assert.ok(h.includes(`id="level1_${f.sf1}">\nRien</textarea>`));
	assert.ok(h.includes(`id="level4_${f.sf1}">\nLecture à 10 % près</textarea>`));
	assert.ok(h.includes(`id="level2_${f.sf1}">\n</textarea>`));
	assert.ok(h.includes(`<div id="desc_${f.sf1}" class="descriptions ml-4">`));
	assert.ok(h.includes(`<div id="desc_${f.sf2}" class="descriptions ml-4" style="display: none;">`));
	assert.ok(h.includes('onclick="generateGridFromData(this)"'));
	assert.ok(h.includes(`href="/evaluation/export_docx/${f.ev}"`));
	assert.match(h, /<div id="floating-save-button" class="position-fixed" style="display: none;/);
	// Not the other evaluation's capacité.
	assert.ok(!h.includes('Réparer') && !h.includes('Souder') && !h.includes(`value="${f.sf3}"`));
	const h2 = (await gridText(u, 'multipart', [['evaluation_id', String(f.ev2)]])).text;
	assert.ok(h2.includes('<h4>Réparer</h4>') && h2.includes(`value="${f.sf3}"`));
	assert.ok(!h2.includes('Mesurer'));
	// What save_grid writes, get_grid shows.
	const pairs = [['evaluation', String(f.ev)], ['savoirs_faire', String(f.sf2)], [`capacite_${f.sf2}`, String(f.cap)]];
	for (let i = 1; i <= 6; i++)
		pairs.push([`level${i}_${f.sf2}`, `N${i}`]);
	const s = await postMultipart(u, '/evaluation/save_grid', pairs);
	assert.deepEqual(s.body, { success: true });
	const h3 = (await gridText(u, 'urlencoded', [['evaluation_id', String(f.ev)]])).text;
	assert.ok(h3.includes(`id="sf_${f.sf2}" data-target="desc_${f.sf2}" onclick="toggleAIButton('${f.sf2}')" checked>`));
	assert.ok(h3.includes(`id="sf_${f.sf1}" data-target="desc_${f.sf1}" onclick="toggleAIButton('${f.sf1}')">`));
	assert.ok(h3.includes(`id="level6_${f.sf2}">\nN6</textarea>`));
	assert.ok(h3.includes(`id="level1_${f.sf1}">\n</textarea>`));
});

test('get_grid: strict_csp markup has no inline style or handler, the same fields, hidden instead', async () => {
	const u = await user();
	const f = gridFixture();
	psql(`INSERT INTO evaluation_savoirfaire (evaluation_id, savoir_faire_id, capacite_id) VALUES (${f.ev}, ${f.sf1}, ${f.cap})`);
	for (const how of HOW) {
		const r = await gridText(u, how, [['evaluation_id', String(f.ev)], ['strict_csp', 'true']]);
		assert.equal(r.status, 200, r.text);
		const h = r.text;
		assert.ok(!/\sstyle=/.test(h), `${how}: no style attribute`);
		assert.ok(!/\son[a-z]+=/.test(h), `${how}: no event handler attribute`);
		assert.ok(!h.includes('export_docx'), 'no link to a route relais does not serve');
		assert.ok(h.includes(`id="sf_${f.sf1}" data-target="desc_${f.sf1}" checked>`));
		assert.ok(h.includes(`<div id="desc_${f.sf2}" class="descriptions ml-4" hidden>`));
		assert.ok(h.includes(`<div id="desc_${f.sf1}" class="descriptions ml-4">`));
		assert.match(h, new RegExp(`id="ai_button_${f.sf2}" hidden data-action="generate"`));
		assert.match(h, new RegExp(`id="ai_button_${f.sf1}" data-action="generate"`));
		assert.match(h, /<div id="floating-save-button" class="floating-save">/);
		for (let i = 1; i <= 6; i++)
			assert.ok(h.includes(`name="level${i}_${f.sf2}"`));
	}
	// JSON's boolean too; false is EDxo's markup.
	let r = await postJSON('/evaluation/get_grid', { evaluation_id: f.ev, strict_csp: true }, auth(u.token));
	assert.ok(!String(r.body).includes('onclick'));
	r = await postJSON('/evaluation/get_grid', { evaluation_id: f.ev, strict_csp: false }, auth(u.token));
	assert.ok(String(r.body).includes('onclick'));
});

test('get_grid: hostile names and texts are escaped in content and attributes', async () => {
	const u = await user();
	const hostile = `<script>alert("sf")</script> & 'co'`;
	const f = gridFixture({ cap: `<b onmouseover="alert(1)">Cap</b> "x"`, sf1: hostile,
	    title: `"><img src=x onerror=alert(2)>` });
	psql(`INSERT INTO evaluation_savoirfaire (evaluation_id, savoir_faire_id, capacite_id, level3_description) ` +
	    `VALUES (${f.ev}, ${f.sf1}, ${f.cap}, ${q('</textarea><script>alert(3)</script>')})`);
	for (const strict of ['false', 'true']) {
		const { status, text: h } = await gridText(u, 'multipart', [['evaluation_id', String(f.ev)], ['strict_csp', strict]]);
		assert.equal(status, 200, h);
		for (const bad of ['<script', '<img', '<b ', '</textarea><', '"x"', '"alert(1)"'])
			assert.ok(!h.includes(bad), `${strict}: ${bad} is not in the fragment`);
		const esc = '&lt;script&gt;alert(&quot;sf&quot;)&lt;/script&gt; &amp; &#39;co&#39;';
		assert.ok(h.includes(`id="sf_label_${f.sf1}">${esc}</label>`), 'the label\'s text');
		assert.ok(h.includes(`data-savoir-faire="${esc}"`), 'the button\'s attribute');
		assert.ok(h.includes('data-capacite="&lt;b onmouseover=&quot;alert(1)&quot;&gt;Cap&lt;/b&gt; &quot;x&quot;"'));
		assert.ok(h.includes('<h4>&lt;b onmouseover=&quot;alert(1)&quot;&gt;Cap&lt;/b&gt; &quot;x&quot;</h4>'));
		assert.ok(h.includes('<h4 class="text-muted">&quot;&gt;&lt;img src=x onerror=alert(2)&gt;</h4>'));
		assert.ok(h.includes(`id="level3_${f.sf1}">\n&lt;/textarea&gt;&lt;script&gt;alert(3)&lt;/script&gt;</textarea>`));
	}
	// The escaped text goes back unchanged: the browser gives the wizard
	// the raw text, which save_grid stores as it came.
	const pairs = [['evaluation_id', String(f.ev)], ['savoirs_faire', String(f.sf1)], [`level1_${f.sf1}`, hostile]];
	assert.deepEqual((await postMultipart(u, '/evaluation/save_grid', pairs)).body, { success: true });
	assert.equal(psql(`SELECT level1_description FROM evaluation_savoirfaire WHERE evaluation_id = ${f.ev}`), hostile);
});

test('get_grid: bad fields are EDxo\'s 400 naming them whichever way they came; empty id is EDxo\'s empty answer; 404, 401', async () => {
	const u = await user();
	const f = gridFixture();
	for (const [pairs, field] of [[[['evaluation_id', 'abc']], 'evaluation_id'], [[['evaluation_id', '0']], 'evaluation_id'],
	    [[['evaluation_id', String(f.ev)], ['strict_csp', 'peut-être']], 'strict_csp']]) {
		const bodies = [];
		for (const how of HOW) {
			const r = await gridText(u, how, pairs);
			assert.equal(r.status, 400, `${how} ${JSON.stringify(pairs)}: ${r.text}`);
			assert.match(r.ctype, /^application\/json/);
			const b = JSON.parse(r.text);
			assert.equal(b.code, 'validation_error');
			assert.equal(b.field, field);
			assert.match(b.error, new RegExp(`^${field} : `));
			bodies.push(b);
		}
		assert.deepEqual(bodies[1], bodies[2], 'form and FormData refuse alike');
	}
	// The wizard's empty choice posts evaluation_id="": an empty 200.
	for (const how of ['urlencoded', 'multipart']) {
		const r = await gridText(u, how, [['evaluation_id', ''], ['csrf_token', 'x']]);
		assert.deepEqual([r.status, r.ctype, r.text], [200, 'text/html; charset=utf-8', ''], how);
	}
	let r = await gridText(u, 'json', []);
	assert.deepEqual([r.status, r.text], [200, '']);
	// An evaluation the user does not see, or that does not exist.
	const out = await user({ member: false });
	r = await gridText(out, 'multipart', [['evaluation_id', String(f.ev)]]);
	assert.equal(r.status, 404, r.text);
	assert.equal(JSON.parse(r.text).error, 'Évaluation introuvable.');
	r = await gridText(u, 'multipart', [['evaluation_id', '999999999']]);
	assert.equal(r.status, 404);
	const anon = await fetch(`${BASE}/evaluation/get_grid`, { method: 'POST', body: formData([['evaluation_id', String(f.ev)]]) });
	assert.equal(anon.status, 401);
	// A GET is not the route.
	const get = await fetch(`${BASE}/evaluation/get_grid?evaluation_id=${f.ev}`, { headers: auth(u.token) });
	assert.notEqual(get.status, 200);
});

test('the wizard page: a shell with a strict CSP, its script served, no session needed to load it', async () => {
	const r = await raw('GET', '/evaluation/evaluation-wizard', {});
	assert.equal(r.status, 200, r.text);
	assert.equal(r.headers['content-type'], 'text/html; charset=utf-8');
	assert.match(r.headers['content-security-policy'], /default-src 'self'/);
	assert.ok(r.text.includes('<script src="/relais-pages/evaluation-wizard.js"></script>'));
	assert.ok(!/<script>|<style|\sstyle=|\son[a-z]+=/.test(r.text), 'nothing inline');
	for (const id of ['courseSelect', 'planSelect', 'evaluationSelect', 'grid-content', 'status'])
		assert.ok(r.text.includes(`id="${id}"`), id);
	for (const [id, label] of [['courseSelect', 'Cours'], ['planSelect', 'Plan de cours'], ['evaluationSelect', 'Évaluation']])
		assert.ok(r.text.includes(`<label class="form-label" for="${id}">${label}</label>`), `${id} is labelled`);
	const js = await raw('GET', '/relais-pages/evaluation-wizard.js', {});
	assert.equal(js.status, 200);
	assert.match(js.headers['content-type'], /javascript/);
	assert.ok(js.text.includes('/evaluation/get_grid'));
});
