// EDxo's read API (the api program): every route's shape against the demo
// data, 401 without credentials, 404 for unknown ids, and visibility
// limited to the user's programmes (admins see everything).
import test from 'node:test';
import assert from 'node:assert/strict';
import { getJSON, postJSON, psql } from './lib.mjs';

const SECTIONS = ['place_intro', 'objectif_terminal', 'structure_intro',
    'structure_activites_theoriques', 'structure_activites_pratiques',
    'structure_activites_prevues', 'eval_evaluation_sommative',
    'eval_nature_evaluations_sommatives', 'eval_evaluation_de_la_langue',
    'eval_evaluation_sommatives_apprentissages', 'additional_info', 'ai_model',
    'capacites', 'savoirs_etre', 'objets_cibles', 'cours_relies',
    'cours_prealables', 'cours_corequis', 'competences_certifiees',
    'competences_developpees'];

const tokens = {};

async function token(username) {
	if (!tokens[username]) {
		const r = await postJSON('/auth/token', { username, password: 'relais-demo' });
		assert.equal(r.status, 200, JSON.stringify(r.body));
		tokens[username] = r.body.access_token;
	}
	return tokens[username];
}

async function api(path, who = 'admin@demo.relais') {
	return getJSON(path, { headers: { Authorization: `Bearer ${await token(who)}` } });
}

const one = (sql) => Number(psql(sql));
const demo = () => ({
	programme: one("SELECT id FROM programmes WHERE nom LIKE 'Technologie du génie électrique%'"),
	c1: one("SELECT id FROM cours WHERE code = '243-1N5-LI'"),
	c2: one("SELECT id FROM cours WHERE code = '243-2N5-LI'"),
	k1: one("SELECT id FROM competences WHERE code = '0Y01'"),
	pc: one("SELECT pc.id FROM plan_cadre pc JOIN cours c ON c.id = pc.cours_id WHERE c.code = '243-1N5-LI'"),
});

function keys(o, want, what) {
	assert.ok(o && typeof o === 'object' && !Array.isArray(o), `${what}: an object`);
	assert.deepEqual(Object.keys(o).sort(), [...want].sort(), what);
}

function types(o, spec, what) {
	for (const [k, t] of Object.entries(spec)) {
		const v = o[k];
		const ok = t === 'array' ? Array.isArray(v)
		    : t === 'string?' ? v === null || typeof v === 'string'
		    : t === 'number?' ? v === null || typeof v === 'number'
		    : typeof v === t;
		assert.ok(ok, `${what}.${k}: want ${t}, got ${JSON.stringify(v)}`);
	}
}

const ID_CODE_NOM = ['id', 'code', 'nom'];
const PLAN_CADRE_COLUMNS = SECTIONS.slice(0, 12);
const PLAN_CADRE_KEYS = ['id', 'cours_id', ...PLAN_CADRE_COLUMNS, 'cours_info',
    ...SECTIONS.slice(12)];
const PDC_KEYS = ['id', 'cours_id', 'session', 'campus', 'nom_enseignant',
    'telephone_enseignant', 'courriel_enseignant', 'bureau_enseignant',
    'presentation_du_cours', 'objectif_terminal_du_cours',
    'organisation_et_methodes', 'accomodement',
    'evaluation_formative_apprentissages', 'evaluation_expression_francais',
    'seuil_reussite', 'place_et_role_du_cours', 'materiel',
    'compatibility_percentage', 'recommendation_ameliore',
    'recommendation_plan_cadre', 'modified_by', 'modified_at', 'cours_info',
    'calendriers', 'mediagraphies', 'disponibilites', 'evaluations'];

test('every api route answers 401 without credentials', async () => {
	const d = demo();
	for (const p of ['/api/programmes', `/api/programmes/${d.programme}/cours`,
	    `/api/programmes/${d.programme}/competences`, `/api/competences/${d.k1}`,
	    '/api/cours', `/api/cours/${d.c1}`, `/api/cours/${d.c1}/plan_cadre`,
	    `/api/cours/${d.c1}/plans_de_cours`, `/api/cours/${d.c1}/plans`,
	    `/api/plan_cadre/${d.pc}/section/place_intro`]) {
		const r = await getJSON(p);
		assert.equal(r.status, 401, p);
		assert.equal(r.headers.get('www-authenticate'), 'Bearer', p);
	}
});

test('GET /api/programmes lists [{id, nom}]', async () => {
	const d = demo();
	const r = await api('/api/programmes', 'prof@demo.relais');
	assert.equal(r.status, 200);
	assert.ok(Array.isArray(r.body));
	for (const p of r.body) {
		keys(p, ['id', 'nom'], 'programme');
		types(p, { id: 'number', nom: 'string' }, 'programme');
	}
	assert.ok(r.body.some((p) => p.id === d.programme));
});

test('GET /api/programmes/<id>/cours and /competences list [{id, code, nom}]', async () => {
	const d = demo();
	let r = await api(`/api/programmes/${d.programme}/cours`, 'prof@demo.relais');
	assert.equal(r.status, 200);
	for (const c of r.body) {
		keys(c, ID_CODE_NOM, 'cours');
		types(c, { id: 'number', code: 'string', nom: 'string' }, 'cours');
	}
	// Exactly the programme's courses as the database has them (other
	// suites, the browser ones, add courses to the demo programme), the
	// three demo ones among them.
	const inDb = psql('SELECT c.code FROM cours c JOIN cours_programme cp ON cp.cours_id = c.id ' +
	    `WHERE cp.programme_id = ${d.programme}`).split('\n').filter(Boolean).sort();
	const got = r.body.map((c) => c.code).sort();
	assert.deepEqual(got, inDb);
	for (const code of ['243-1N5-LI', '243-1P4-LI', '243-2N5-LI'])
		assert.ok(got.includes(code), code);
	r = await api(`/api/programmes/${d.programme}/competences`, 'prof@demo.relais');
	assert.equal(r.status, 200);
	for (const k of r.body)
		keys(k, ID_CODE_NOM, 'competence');
	// Ordered by code, as EDxo lists them.
	assert.deepEqual(r.body.map((k) => k.code), ['0Y01', '0Y02', '0Y03']);
});

test('GET /api/competences/<id>: elements with their criteria', async () => {
	const d = demo();
	const r = await api(`/api/competences/${d.k1}`, 'prof@demo.relais');
	assert.equal(r.status, 200);
	keys(r.body, ['id', 'programme_id', 'code', 'nom', 'criteria_de_performance',
	    'contexte_de_realisation', 'elements'], 'competence');
	types(r.body, { id: 'number', programme_id: 'number', code: 'string',
	    nom: 'string', criteria_de_performance: 'string',
	    contexte_de_realisation: 'string', elements: 'array' }, 'competence');
	assert.equal(r.body.id, d.k1);
	assert.equal(r.body.code, '0Y01');
	assert.equal(r.body.programme_id, d.programme);
	assert.equal(r.body.elements.length, 3);
	for (const e of r.body.elements) {
		keys(e, ['id', 'nom', 'criteres'], 'element');
		assert.ok(e.criteres.every((c) => typeof c === 'string'));
	}
	const dc = r.body.elements.find((e) => e.nom.startsWith('Analyser des circuits résistifs'));
	assert.equal(dc.criteres.length, 2);
});

test('GET /api/cours and /api/cours/<id>', async () => {
	const d = demo();
	let r = await api('/api/cours', 'prof@demo.relais');
	assert.equal(r.status, 200);
	for (const c of r.body)
		keys(c, ID_CODE_NOM, 'cours');
	assert.ok(r.body.some((c) => c.id === d.c1));
	r = await api(`/api/cours/${d.c1}`, 'prof@demo.relais');
	assert.equal(r.status, 200);
	assert.deepEqual(r.body, { id: d.c1, code: '243-1N5-LI', nom: 'Circuits électriques I' });
});

test('GET /api/cours/<id>/plan_cadre: PlanCadre.to_dict(), 404 {} when none', async () => {
	const d = demo();
	const r = await api(`/api/cours/${d.c1}/plan_cadre`, 'prof@demo.relais');
	assert.equal(r.status, 200);
	const p = r.body;
	keys(p, PLAN_CADRE_KEYS, 'plan_cadre');
	assert.equal(p.id, d.pc);
	assert.equal(p.cours_id, d.c1);
	for (const c of PLAN_CADRE_COLUMNS)
		assert.equal(typeof p[c], 'string', c);
	assert.equal(p.ai_model, 'gpt-5');
	assert.deepEqual(p.cours_info, { id: d.c1, code: '243-1N5-LI',
	    nom: 'Circuits électriques I', programme_id: d.programme });
	assert.equal(p.capacites.length, 3);
	for (const c of p.capacites) {
		keys(c, ['id', 'capacite', 'description_capacite', 'ponderation_min',
		    'ponderation_max', 'savoirs_necessaires', 'savoirs_faire',
		    'moyens_evaluation'], 'capacite');
		types(c, { id: 'number', capacite: 'string', ponderation_min: 'number',
		    ponderation_max: 'number' }, 'capacite');
		for (const s of c.savoirs_necessaires)
			keys(s, ['id', 'texte'], 'savoir nécessaire');
		for (const s of c.savoirs_faire)
			keys(s, ['id', 'texte', 'cible', 'seuil_reussite'], 'savoir-faire');
		for (const m of c.moyens_evaluation)
			keys(m, ['id', 'texte'], 'moyen d\'évaluation');
	}
	const c1 = p.capacites[0];
	assert.equal(c1.capacite, 'Analyser des circuits résistifs en courant continu');
	assert.deepEqual([c1.ponderation_min, c1.ponderation_max], [35, 45]);
	assert.equal(c1.savoirs_necessaires.length, 4);
	assert.equal(c1.savoirs_faire.length, 3);
	assert.equal(c1.moyens_evaluation.length, 2);
	assert.equal(p.savoirs_etre.length, 4);
	for (const s of p.savoirs_etre)
		keys(s, ['id', 'texte'], 'savoir-être');
	for (const l of SECTIONS.slice(14)) {
		assert.ok(p[l].length >= 1, l);
		for (const x of p[l])
			keys(x, ['id', 'texte', 'description'], l);
	}
	assert.equal(p.objets_cibles.length, 2);

	// Circuits II has no plan-cadre: EDxo's 404 with an empty object.
	const none = await api(`/api/cours/${d.c2}/plan_cadre`, 'prof@demo.relais');
	assert.equal(none.status, 404);
	assert.deepEqual(none.body, {});
});

test('GET /api/cours/<id>/plans_de_cours: PlanDeCours.to_dict() list', async () => {
	const d = demo();
	const r = await api(`/api/cours/${d.c1}/plans_de_cours`, 'prof@demo.relais');
	assert.equal(r.status, 200);
	assert.equal(r.body.length, 1);
	const p = r.body[0];
	keys(p, PDC_KEYS, 'plan de cours');
	assert.equal(p.cours_id, d.c1);
	assert.equal(p.session, 'A25');
	assert.equal(p.courriel_enseignant, 'prof@demo.relais');
	assert.equal(p.compatibility_percentage, null);
	keys(p.modified_by, ['id', 'username'], 'modified_by');
	assert.equal(p.modified_by.username, 'prof');
	assert.match(p.modified_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
	assert.deepEqual(p.cours_info, { code: '243-1N5-LI', nom: 'Circuits électriques I',
	    programme_id: d.programme });
	assert.equal(p.calendriers.length, 15);
	assert.deepEqual(p.calendriers.map((c) => c.semaine), [...Array(15).keys()].map((i) => i + 1));
	for (const c of p.calendriers)
		keys(c, ['semaine', 'sujet', 'activites', 'travaux_hors_classe', 'evaluations'], 'calendrier');
	assert.equal(p.mediagraphies.length, 3);
	for (const m of p.mediagraphies)
		keys(m, ['reference_bibliographique'], 'médiagraphie');
	assert.equal(p.disponibilites.length, 2);
	for (const a of p.disponibilites)
		keys(a, ['jour_semaine', 'plage_horaire', 'lieu'], 'disponibilité');
	assert.equal(p.evaluations.length, 4);
	for (const e of p.evaluations) {
		keys(e, ['titre_evaluation', 'description', 'semaine'], 'évaluation');
		types(e, { titre_evaluation: 'string', semaine: 'number' }, 'évaluation');
	}

	const none = await api(`/api/cours/${d.c2}/plans_de_cours`, 'prof@demo.relais');
	assert.equal(none.status, 200);
	assert.deepEqual(none.body, []);
});

test('GET /api/cours/<id>/plans lists [{id, session}]', async () => {
	const d = demo();
	const r = await api(`/api/cours/${d.c1}/plans`, 'prof@demo.relais');
	assert.equal(r.status, 200);
	assert.equal(r.body.length, 1);
	keys(r.body[0], ['id', 'session'], 'plan');
	assert.equal(r.body[0].session, 'A25');
	assert.equal(r.body[0].id, one(`SELECT id FROM plan_de_cours WHERE cours_id = ${d.c1}`));
	const none = await api(`/api/cours/${d.c2}/plans`, 'prof@demo.relais');
	assert.deepEqual([none.status, none.body], [200, []]);
});

test('GET /api/plan_cadre/<id>/section/<section> for every section', async () => {
	const d = demo();
	const full = (await api(`/api/cours/${d.c1}/plan_cadre`, 'prof@demo.relais')).body;
	for (const s of SECTIONS) {
		const r = await api(`/api/plan_cadre/${d.pc}/section/${s}`, 'prof@demo.relais');
		assert.equal(r.status, 200, s);
		assert.deepEqual(r.body, { [s]: full[s] }, s);
	}
	assert.equal(typeof full.place_intro, 'string');
	assert.ok(Array.isArray(full.capacites));
});

test('an unknown section is a 400 naming the allowed ones', async () => {
	const d = demo();
	for (const s of ['nope', 'id', 'cours_id', 'cours_info', 'modified_by_id']) {
		const r = await api(`/api/plan_cadre/${d.pc}/section/${s}`, 'prof@demo.relais');
		assert.equal(r.status, 400, s);
		assert.equal(r.body.error.code, 'bad_request');
		assert.equal(r.body.error.field, 'section');
		assert.deepEqual(r.body.error.allowed, SECTIONS);
	}
});

test('unknown ids answer 404', async () => {
	const d = demo();
	const no = 987654321;
	for (const p of [`/api/programmes/${no}/cours`, `/api/programmes/${no}/competences`,
	    `/api/competences/${no}`, `/api/cours/${no}`, `/api/cours/${no}/plans_de_cours`,
	    `/api/cours/${no}/plans`, `/api/plan_cadre/${no}/section/place_intro`]) {
		const r = await api(p);
		assert.equal(r.status, 404, p);
		assert.equal(r.body.error.code, 'not_found', p);
	}
	const r = await api(`/api/cours/${no}/plan_cadre`);
	assert.deepEqual([r.status, r.body], [404, {}]);
	// A non-numeric id matches no route.
	assert.equal((await api('/api/cours/abc')).status, 404);
	assert.equal((await api(`/api/plan_cadre/${d.pc}/section/`)).status, 404);
});

test('a programme the user does not belong to is invisible (admins see it)', async (t) => {
	const made = JSON.parse(psql(`
	    WITH p AS (INSERT INTO programmes (nom, department_id)
		SELECT 'Programme caché (api.test)', id FROM departments
		WHERE nom = 'Technologie du génie électrique' RETURNING id),
	    c AS (INSERT INTO cours (code, nom) VALUES ('999-API-TS', 'Cours caché')
		RETURNING id),
	    cp AS (INSERT INTO cours_programme (cours_id, programme_id)
		SELECT c.id, p.id FROM c, p),
	    k AS (INSERT INTO competences (programme_id, code, nom)
		SELECT p.id, 'ZZ99', 'Compétence cachée' FROM p RETURNING id),
	    pc AS (INSERT INTO plan_cadre (cours_id, place_intro)
		SELECT c.id, 'secret' FROM c RETURNING id),
	    pdc AS (INSERT INTO plan_de_cours (cours_id, session)
		SELECT c.id, 'H26' FROM c RETURNING id)
	    SELECT json_build_object('programme', p.id, 'cours', c.id,
		'competence', k.id, 'plan_cadre', pc.id, 'plan', pdc.id)
	    FROM p, c, k, pc, pdc`));
	t.after(() => {
		psql(`DELETE FROM cours WHERE id = ${made.cours}`);
		psql(`DELETE FROM programmes WHERE id = ${made.programme}`);
	});
	const paths = [`/api/programmes/${made.programme}/cours`,
	    `/api/programmes/${made.programme}/competences`,
	    `/api/competences/${made.competence}`, `/api/cours/${made.cours}`,
	    `/api/cours/${made.cours}/plans_de_cours`, `/api/cours/${made.cours}/plans`,
	    `/api/plan_cadre/${made.plan_cadre}/section/place_intro`];

	for (const who of ['prof@demo.relais', 'coordo@demo.relais']) {
		for (const p of paths) {
			const r = await api(p, who);
			assert.equal(r.status, 404, `${who} ${p}`);
			assert.equal(r.body.error.code, 'not_found');
		}
		const pc = await api(`/api/cours/${made.cours}/plan_cadre`, who);
		assert.deepEqual([pc.status, pc.body], [404, {}], who);
		const progs = await api('/api/programmes', who);
		assert.ok(!progs.body.some((p) => p.id === made.programme), who);
		const cours = await api('/api/cours', who);
		assert.ok(!cours.body.some((c) => c.id === made.cours), who);
	}

	for (const p of paths) {
		const r = await api(p);
		assert.equal(r.status, 200, `admin ${p}`);
	}
	assert.equal((await api(`/api/cours/${made.cours}/plan_cadre`)).body.place_intro, 'secret');
	assert.deepEqual((await api(`/api/cours/${made.cours}/plans`)).body,
	    [{ id: made.plan, session: 'H26' }]);
	assert.ok((await api('/api/programmes')).body.some((p) => p.id === made.programme));
	assert.ok((await api('/api/cours')).body.some((c) => c.id === made.cours));

	// Linking the prof to the programme makes it all visible to them.
	psql(`INSERT INTO user_programme (user_id, programme_id)
	    SELECT id, ${made.programme} FROM users WHERE username = 'prof'`);
	for (const p of paths)
		assert.equal((await api(p, 'prof@demo.relais')).status, 200, `linked prof ${p}`);
	// A cours shared with a visible programme is visible through it.
	psql(`DELETE FROM user_programme WHERE programme_id = ${made.programme}`);
	psql(`INSERT INTO cours_programme (cours_id, programme_id)
	    SELECT ${made.cours}, id FROM programmes
	    WHERE nom LIKE 'Technologie du génie électrique%'`);
	assert.equal((await api(`/api/cours/${made.cours}`, 'prof@demo.relais')).status, 200);
	assert.equal((await api(`/api/programmes/${made.programme}/cours`, 'prof@demo.relais')).status, 404);
	// cours_info.programme_id never names a programme the user cannot see.
	const pc = await api(`/api/cours/${made.cours}/plan_cadre`, 'prof@demo.relais');
	assert.equal(pc.body.cours_info.programme_id, demo().programme);
});
