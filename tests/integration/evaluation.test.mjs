// EDxo's six-level evaluation grids (issue 7, contract 4.3) through nginx,
// the evaluation program and the fake upstream: the generated grid, the
// wizard's lookups and save_grid, each on a cours created here with psql.
import test from 'node:test';
import assert from 'node:assert/strict';
import { auth, demoProgramme, getJSON, newUser, postJSON, psql, q, raw, recorder, uniq } from './lib.mjs';

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
	r = await postJSON('/evaluation/get_plans', {}, auth(u.token));
	assert.equal(r.status, 400);
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
