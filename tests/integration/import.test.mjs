// The import program (issue 8) through nginx, the worker and the fake
// upstream: DOCX imports of a plan de cours (sync and task) and of a
// plan-cadre, PDF imports of a grille and of a devis's compétences through
// the Files API, their confirm routes, and every refusal (hostile DOCX,
// non-PDF, too many pages, too big) with nothing stored.  Each test makes
// its own programme, course and users, so confirms never touch another
// test's rows.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { BASE, BUILD, STATE, TOP, auth, getJSON, newUser, postJSON, psql, q, raw, recorder, uniq, waitTask } from './lib.mjs';

const FAKE = process.env.RELAIS_OPENAI_BASE_URL;
const PANDOC = path.join(TOP, '..', 'shared', 'conformance', 'docx', 'pandoc');
// A fresh user with credits (dollars, a string) and a token.
const user = (role = 'professeur', credits = '5.00') => newUser({ prefix: 'imp', role, credits });

// A programme with one course, its plan de cours (A25) and plan-cadre
// (two capacités, the second named as the fake names things), and the
// given users as members.
function world(...members) {
	const tag = uniq();
	const dep = psql('SELECT id FROM departments ORDER BY id LIMIT 1');
	const prog = psql(`INSERT INTO programmes (nom, department_id) VALUES (${q('Prog ' + tag)}, ${dep}) RETURNING id`);
	const cours = psql(`INSERT INTO cours (code, nom) VALUES (${q('IMP-' + tag)}, 'Cours importé') RETURNING id`);
	psql(`INSERT INTO cours_programme (cours_id, programme_id, session) VALUES (${cours}, ${prog}, 1)`);
	const plan = psql(`INSERT INTO plan_de_cours (cours_id, session, presentation_du_cours, nom_enseignant) ` +
	    `VALUES (${cours}, 'A25', 'Ancienne présentation', 'Ancien nom') RETURNING id`);
	psql(`INSERT INTO plan_de_cours_calendrier (plan_de_cours_id, semaine, sujet) VALUES (${plan}, 1, 'Ancien sujet')`);
	const pc = psql(`INSERT INTO plan_cadre (cours_id, place_intro) VALUES (${cours}, 'Ancienne place') RETURNING id`);
	const cap1 = psql(`INSERT INTO plan_cadre_capacites (plan_cadre_id, capacite) VALUES (${pc}, 'Analyser un circuit') RETURNING id`);
	const cap2 = psql(`INSERT INTO plan_cadre_capacites (plan_cadre_id, capacite) VALUES (${pc}, 'Exemple') RETURNING id`);
	for (const m of members)
		psql(`INSERT INTO user_programme (user_id, programme_id) VALUES (${m.id}, ${prog})`);
	return { prog: Number(prog), cours: Number(cours), plan: Number(plan), pc: Number(pc), cap1: Number(cap1), cap2: Number(cap2) };
}

function form(fields, file) {
	const fd = new FormData();
	for (const [k, v] of Object.entries(fields))
		fd.append(k, String(v));
	if (file)
		fd.append('file', new Blob([file.data], { type: file.type }), file.name);
	return fd;
}

const upload = (u, url, fields, file) => getJSON(url, { method: 'POST', headers: auth(u.token), body: form(fields, file) });

const docx = (name = 'tables.docx') => ({ name, type: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
	data: fs.readFileSync(path.join(PANDOC, name)) });

// A PDF with n page objects, written the ways writers write them (spaces,
// none, a comment between /Type and /Page), beside a /Pages node and a
// /Count that must not be counted.
function pdf(n, name = `doc-${uniq()}.pdf`) {
	const page = ['/Type /Page', '/Type/Page', '/Type % page\n/Page'];
	const objs = ['<< /Type /Catalog /Pages 2 0 R >>',
		`<< /Type /Pages /Kids [${Array.from({ length: n }, (_, i) => `${i + 3} 0 R`).join(' ')}] /Count ${n} >>`];
	for (let i = 0; i < n; i++)
		objs.push(`<< ${page[i % 3]} /Parent 2 0 R /MediaBox [0 0 612 792] >>`);
	let s = '%PDF-1.4\n';
	objs.forEach((o, i) => { s += `${i + 1} 0 obj\n${o}\nendobj\n`; });
	s += 'trailer\n<< /Root 1 0 R >>\n%%EOF\n';
	return { name, type: 'application/pdf', data: Buffer.from(s) };
}

const finished = (id) => waitTask(id, { ms: 60000, every: 100, columns: ['state', 'result', 'meta'] });

const fakeFile = (id) => fetch(`${FAKE}/files/${id}`).then((r) => r.status);
const tasksOf = (u) => Number(psql(`SELECT count(*) FROM tasks WHERE user_id = ${u.id}`));
const uploadsOf = (u) => Number(psql(`SELECT count(*) FROM import_uploads i JOIN tasks t ON t.id = i.task_id WHERE t.user_id = ${u.id}`));

// The money of one task: a ledger row per call and no hold left open.
function paid(taskId, u) {
	assert.ok(Number(psql(`SELECT count(*) FROM usage_ledger WHERE task_id = ${q(taskId)} AND user_id = ${u.id} AND kind = 'openai_call'`)) >= 1);
	assert.equal(psql(`SELECT count(*) FROM credit_reservations WHERE task_id = ${q(taskId)} AND state = 'reserved'`), '0');
}

// EDxo's error body (RL_ROUTE_EDXO): {error: message, code, field?}.
function edxoError(body, code, field) {
	assert.equal(typeof body.error, 'string', JSON.stringify(body));
	assert.ok(body.error.length > 0);
	assert.equal(body.code, code, JSON.stringify(body));
	assert.equal(body.field, field, JSON.stringify(body));
}

const PDC_FIELDS = ['presentation_du_cours', 'objectif_terminal_du_cours', 'organisation_et_methodes', 'accomodement',
	'evaluation_formative_apprentissages', 'evaluation_expression_francais', 'materiel', 'nom_enseignant',
	'telephone_enseignant', 'courriel_enseignant', 'bureau_enseignant'];

function pdcPreview(body, w) {
	assert.equal(body.status, 'success');
	assert.equal(body.preview, true);
	assert.equal(body.plan_id, w.plan);
	assert.equal(body.cours_id, w.cours);
	assert.equal(body.session, 'A25');
	assert.equal(body.plan_de_cours_url, `/cours/${w.cours}/plan_de_cours/A25/`);
	assert.deepEqual(Object.keys(body.fields).sort(), [...PDC_FIELDS].sort());
	assert.deepEqual(Object.keys(body.old_fields).sort(), [...PDC_FIELDS].sort());
	for (const f of PDC_FIELDS)
		assert.equal(typeof body.fields[f], 'string', f);
	assert.equal(body.old_fields.presentation_du_cours, 'Ancienne présentation');
	assert.equal(body.old_fields.nom_enseignant, 'Ancien nom');
	assert.equal(body.old_fields.materiel, '');
	for (const k of ['calendriers', 'mediagraphies', 'disponibilites', 'evaluations']) {
		assert.ok(Array.isArray(body[k]) && body[k].length >= 1, k);
		assert.ok(Array.isArray(body[`old_${k}`]), `old_${k}`);
	}
	assert.deepEqual(body.old_calendriers, [{ semaine: 1, sujet: 'Ancien sujet', activites: null, travaux_hors_classe: null, evaluations: null }]);
	assert.deepEqual(Object.keys(body.calendriers[0]).sort(), ['activites', 'evaluations', 'semaine', 'sujet', 'travaux_hors_classe']);
	const ev = body.evaluations[0];
	assert.deepEqual(Object.keys(ev).sort(), ['capacites', 'description', 'semaine', 'titre_evaluation']);
	// The fake names the capacité "exemple": resolved to "Exemple".
	assert.deepEqual(ev.capacites[0], { capacite_id: w.cap2, capacite_nom: 'Exemple', ponderation: ev.capacites[0].ponderation });
	assert.equal(typeof body.usage.input_tokens, 'number');
	assert.ok(body.usage.input_tokens > 0);
}

test('POST /import_docx: a preview beside the old values, paid, nothing written', async () => {
	const u = await user();
	const w = world(u);
	const before = psql(`SELECT credits FROM users WHERE id = ${u.id}`);
	const r = await upload(u, '/import_docx', { cours_id: w.cours, session: 'A25' }, docx());
	assert.equal(r.status, 200, JSON.stringify(r.body));
	assert.equal(r.body.success, true);
	pdcPreview(r.body, w);
	assert.match(r.body.task_id, /^[0-9a-f-]{36}$/);
	assert.equal(r.body.validation_url, `/plan_de_cours/review/${w.plan}?task_id=${r.body.task_id}`);
	// Kept as a finished task for the review page, with the same preview.
	const t = await finished(r.body.task_id);
	assert.equal(t.state, 'SUCCESS');
	assert.deepEqual(t.result.fields, r.body.fields);
	assert.deepEqual(t.result.old_fields, r.body.old_fields);
	// Paid (one ledger row at least), nothing written to the plan.
	assert.ok(Number(psql(`SELECT count(*) FROM usage_ledger WHERE user_id = ${u.id} AND kind = 'openai_call'`)) >= 1);
	assert.ok(Number(psql(`SELECT credits FROM users WHERE id = ${u.id}`)) < Number(before));
	assert.equal(psql(`SELECT presentation_du_cours FROM plan_de_cours WHERE id = ${w.plan}`), 'Ancienne présentation');
	assert.equal(psql(`SELECT count(*) FROM plan_de_cours_calendrier WHERE plan_de_cours_id = ${w.plan}`), '1');
	assert.equal(psql(`SELECT count(*) FROM plan_de_cours_evaluations WHERE plan_de_cours_id = ${w.plan}`), '0');
});

test('POST /import_docx_start: the same preview from the worker', async () => {
	const u = await user();
	const w = world(u);
	const r = await upload(u, '/import_docx_start', { cours_id: w.cours, session: 'A25' }, docx('lists.docx'));
	assert.equal(r.status, 200, JSON.stringify(r.body));
	assert.deepEqual(Object.keys(r.body).sort(), ['success', 'task_id']);
	assert.equal(r.body.success, true);
	const t = await finished(r.body.task_id);
	assert.equal(t.state, 'SUCCESS', JSON.stringify(t));
	pdcPreview(t.result, w);
	assert.equal(t.result.validation_url, `/plan_de_cours/review/${w.plan}?task_id=${r.body.task_id}`);
	// The document's text went in the payload, cut at 120,000 characters.
	const doc = psql(`SELECT payload->>'doc_text' FROM tasks WHERE id = ${q(r.body.task_id)}`);
	assert.ok(doc.length > 0 && doc.length <= 120000);
	paid(r.body.task_id, u);
	assert.equal(psql(`SELECT presentation_du_cours FROM plan_de_cours WHERE id = ${w.plan}`), 'Ancienne présentation');

	// The plan de cours program's review applies it: exactly the preview.
	const a = await postJSON(`/plan_de_cours/review/${w.plan}/apply`, { action: 'confirm', task_id: r.body.task_id }, auth(u.token));
	assert.equal(a.status, 200, JSON.stringify(a.body));
	assert.equal(a.body.success, true);
	const f = t.result.fields;
	assert.equal(psql(`SELECT presentation_du_cours || '|' || nom_enseignant || '|' || materiel FROM plan_de_cours WHERE id = ${w.plan}`),
	    `${f.presentation_du_cours}|${f.nom_enseignant}|${f.materiel}`);
	assert.deepEqual(JSON.parse(psql(`SELECT json_agg(json_build_object('semaine', semaine, 'sujet', sujet, 'activites', activites, ` +
	    `'travaux_hors_classe', travaux_hors_classe, 'evaluations', evaluations) ORDER BY id) FROM plan_de_cours_calendrier ` +
	    `WHERE plan_de_cours_id = ${w.plan}`)), t.result.calendriers);
	assert.equal(psql(`SELECT count(*) FROM plan_de_cours_evaluations WHERE plan_de_cours_id = ${w.plan}`), String(t.result.evaluations.length));
	assert.equal(psql(`SELECT string_agg(x.capacite_id::text, ',') FROM plan_de_cours_evaluations_capacites x ` +
	    `JOIN plan_de_cours_evaluations v ON v.id = x.evaluation_id WHERE v.plan_de_cours_id = ${w.plan}`),
	    t.result.evaluations.flatMap((e) => e.capacites.map((c) => String(c.capacite_id))).join(','));
	// Once only.
	const again = await postJSON(`/plan_de_cours/review/${w.plan}/apply`, { action: 'confirm', task_id: r.body.task_id }, auth(u.token));
	assert.equal(again.status, 409, JSON.stringify(again.body));
});

test('plan de cours import: bad inputs named, nothing queued', async () => {
	const u = await user();
	const w = world(u);
	const other = world();
	const n = tasksOf(u);
	// Declared fields (import.import_docx) are refused by the runtime,
	// the upload and the plan by the handler.
	const cases = [
		[{ session: 'A25' }, docx(), 400, 'validation_error', 'cours_id'],
		[{ cours_id: w.cours }, docx(), 400, 'validation_error', 'session'],
		[{ cours_id: w.cours, session: '' }, docx(), 400, 'validation_error', 'session'],
		[{ cours_id: w.cours, session: 'A25' }, null, 400, 'bad_request', 'file'],
		[{ cours_id: 'abc', session: 'A25' }, docx(), 400, 'validation_error', 'cours_id'],
		[{ cours_id: 0, session: 'A25' }, docx(), 400, 'validation_error', 'cours_id'],
		[{ cours_id: w.cours, session: 'H99' }, docx(), 404, 'not_found', undefined],
		// A course of a programme the user is not in: as if absent.
		[{ cours_id: other.cours, session: 'A25' }, docx(), 404, 'not_found', undefined],
	];
	for (const [fields, file, status, code, field] of cases)
		for (const url of ['/import_docx', '/import_docx_start']) {
			const r = await upload(u, url, fields, file);
			assert.equal(r.status, status, `${url} ${JSON.stringify(fields)}: ${JSON.stringify(r.body)}`);
			edxoError(r.body, code, field);
			if (code === 'validation_error')
				assert.match(r.body.error, new RegExp(`^${field} : `));
		}
	assert.equal(tasksOf(u), n);
	const r = await getJSON('/import_docx_start', { method: 'POST', body: form({ cours_id: w.cours, session: 'A25' }, docx()) });
	assert.equal(r.status, 401);
});

test('hostile and non-DOCX documents: 400 with the reader\'s reason, nothing stored', async () => {
	const dir = path.join(STATE, `hostile-${uniq()}`);
	const mk = path.join(BUILD, 'tests', 'docx', 'mkhostile');
	if (!fs.existsSync(mk))
		execFileSync('make', ['-C', path.join(BUILD, 'tests'), 'docx/mkhostile'], { stdio: 'ignore' });
	fs.mkdirSync(dir);
	execFileSync(mk, [dir]);
	const files = fs.readFileSync(path.join(dir, 'expected.tsv'), 'utf8').trim().split('\n').map((l) => l.split('\t')[0]);
	assert.ok(files.length >= 10, `mkhostile wrote ${files.length} files`);
	const u = await user('coordo');
	const w = world(u);
	const n = tasksOf(u);
	const ledger = psql(`SELECT count(*) FROM usage_ledger WHERE user_id = ${u.id}`);
	for (const f of files) {
		const file = { name: f, type: 'application/octet-stream', data: fs.readFileSync(path.join(dir, f)) };
		const seen = new Set();
		for (const [url, fields] of [['/import_docx', { cours_id: w.cours, session: 'A25' }],
			['/import_docx_start', { cours_id: w.cours, session: 'A25' }],
			[`/plan_cadre/${w.pc}/import_docx_start`, {}]]) {
			const r = await upload(u, url, fields, file);
			assert.equal(r.status, 400, `${f} on ${url}: ${JSON.stringify(r.body)}`);
			edxoError(r.body, 'validation_error', 'file');
			assert.match(r.body.error, /^Document \.docx refusé : [A-Za-zÀ-ÿ0-9]/);
			// The message once, whole: it was formatted into itself.
			assert.doesNotMatch(r.body.error, /refusé : .*refusé/);
			seen.add(r.body.error);
		}
		assert.equal(seen.size, 1, `${f}: one reason whatever the route, nothing from an earlier request: ${[...seen]}`);
	}
	// A PDF is not a .docx either.
	const r = await upload(u, '/import_docx', { cours_id: w.cours, session: 'A25' }, pdf(1));
	assert.equal(r.status, 400);
	edxoError(r.body, 'validation_error', 'file');
	assert.equal(tasksOf(u), n);
	assert.equal(psql(`SELECT count(*) FROM usage_ledger WHERE user_id = ${u.id}`), ledger);
	fs.rmSync(dir, { recursive: true });
});

test('plan-cadre import: the improvement preview shape, coordinators only', async () => {
	const co = await user('coordo');
	const prof = await user();
	const w = world(co, prof);
	let r = await upload(prof, `/plan_cadre/${w.pc}/import_docx_start`, {}, docx());
	assert.equal(r.status, 403, JSON.stringify(r.body));
	r = await upload(co, `/plan_cadre/${w.pc + 1000000}/import_docx_start`, {}, docx());
	assert.equal(r.status, 404, JSON.stringify(r.body));
	r = await upload(co, `/plan_cadre/${w.pc}/import_docx_start`, { ai_model: 'gpt-4.1-mini' }, docx('headers.docx'));
	assert.equal(r.status, 200, JSON.stringify(r.body));
	assert.deepEqual(Object.keys(r.body).sort(), ['success', 'task_id']);
	const t = await finished(r.body.task_id);
	assert.equal(t.state, 'SUCCESS', JSON.stringify(t));
	const res = t.result;
	assert.equal(res.status, 'success');
	assert.equal(res.preview, true);
	assert.equal(res.plan_id, w.pc);
	assert.equal(res.cours_id, w.cours);
	assert.equal(res.validation_url, `/plan_cadre/${w.pc}/review?task_id=${r.body.task_id}`);
	assert.match(res.message, /^Aperçu de l'import prêt\. Coût: [0-9.]+ crédits\.$/);
	assert.equal(res.usage.model, 'gpt-4.1-mini');
	assert.deepEqual(Object.keys(res.proposed).sort(), ['capacites', 'fields', 'fields_with_description', 'savoir_etre']);
	assert.deepEqual(Object.keys(res.proposed.fields).sort(), ['eval_evaluation_de_la_langue', 'eval_evaluation_sommatives_apprentissages',
		'eval_evaluation_sommative', 'eval_nature_evaluations_sommatives', 'objectif_terminal', 'place_intro',
		'structure_activites_pratiques', 'structure_activites_prevues', 'structure_activites_theoriques', 'structure_intro'].sort());
	assert.deepEqual(Object.keys(res.proposed.fields_with_description).sort(), ['Description des Compétences certifiées',
		'Description des compétences développées', 'Description des cours corequis', 'Description des cours préalables',
		'Description des cours reliés', 'Objets cibles'].sort());
	for (const v of Object.values(res.proposed.fields_with_description))
		assert.deepEqual(Object.keys(v[0]).sort(), ['description', 'texte']);
	assert.ok(res.proposed.savoir_etre.every((s) => typeof s === 'string'));
	assert.deepEqual(Object.keys(res.proposed.capacites[0]).sort(), ['capacite', 'description_capacite', 'moyens_evaluation',
		'ponderation_max', 'ponderation_min', 'savoirs_faire', 'savoirs_necessaires']);
	paid(r.body.task_id, co);
	// A preview: the plan-cadre is untouched.
	assert.equal(psql(`SELECT place_intro FROM plan_cadre WHERE id = ${w.pc}`), 'Ancienne place');
	assert.equal(psql(`SELECT count(*) FROM plan_cadre_capacites WHERE plan_cadre_id = ${w.pc}`), '2');

	// The generation program's apply route takes it as an improvement.
	const a = await postJSON(`/plan_cadre/${w.pc}/apply_improvement`, { task_id: r.body.task_id, accept_all: true }, auth(co.token));
	assert.equal(a.status, 200, JSON.stringify(a.body));
	assert.equal(a.body.success, true);
	const p = res.proposed;
	assert.equal(psql(`SELECT place_intro || '|' || objectif_terminal FROM plan_cadre WHERE id = ${w.pc}`),
	    `${p.fields.place_intro}|${p.fields.objectif_terminal}`);
	assert.deepEqual(psql(`SELECT texte FROM plan_cadre_savoir_etre WHERE plan_cadre_id = ${w.pc} ORDER BY id`).split('\n'), p.savoir_etre);
	assert.deepEqual(psql(`SELECT capacite FROM plan_cadre_capacites WHERE plan_cadre_id = ${w.pc} ORDER BY id`).split('\n'),
	    p.capacites.map((k) => k.capacite));
	assert.deepEqual(psql(`SELECT texte FROM plan_cadre_objets_cibles WHERE plan_cadre_id = ${w.pc} ORDER BY id`).split('\n'),
	    p.fields_with_description['Objets cibles'].map((k) => k.texte));
});

test('grille from a PDF: Files API upload, deleted after use, confirm writes the preview', async () => {
	const co = await user('coordo');
	const w = world(co);
	const file = pdf(3);
	const r = await upload(co, '/grille/import', { programme_id: w.prog }, file);
	assert.equal(r.status, 202, JSON.stringify(r.body));
	assert.deepEqual(Object.keys(r.body), ['task_id']);
	const t = await finished(r.body.task_id);
	assert.equal(t.state, 'SUCCESS', JSON.stringify(t));
	const res = t.result;
	assert.equal(res.status, 'success');
	assert.equal(res.validation_url, `/confirm_grille_import/${r.body.task_id}?programme_id=${w.prog}`);
	assert.equal(res.filename, file.name);
	assert.equal(typeof res.result.programme, 'string');
	assert.ok(res.result.sessions.length >= 1);
	const c0 = res.result.sessions[0].cours[0];
	assert.deepEqual(Object.keys(c0).sort(), ['code_cours', 'corequis', 'heures_labo', 'heures_maison', 'heures_theorie', 'prerequis', 'titre_cours']);
	// The upload happened (its id is in the task's meta) and is gone now.
	assert.match(t.meta.file_id, /^file-/);
	assert.equal(await fakeFile(t.meta.file_id), 404);
	assert.equal(uploadsOf(co), 0);
	paid(r.body.task_id, co);

	let g = await getJSON(`/confirm_grille_import/${r.body.task_id}`, { headers: auth(co.token) });
	assert.equal(g.status, 200, JSON.stringify(g.body));
	assert.deepEqual(g.body.grille, res.result);
	assert.equal(g.body.programme_id, w.prog);
	assert.deepEqual(g.body.import_modes, ['append', 'overwrite']);
	// Another user cannot read it.
	const other = await user('coordo');
	g = await getJSON(`/confirm_grille_import/${r.body.task_id}`, { headers: auth(other.token) });
	assert.equal(g.status, 404);
	g = await getJSON('/confirm_grille_import/not-a-uuid', { headers: auth(co.token) });
	assert.equal(g.status, 404);

	// Declared fields (import.confirm_grille_get, _post): a bad one is
	// EDxo's 400 naming it, and nothing is written.
	g = await getJSON(`/confirm_grille_import/${r.body.task_id}?programme_id=abc`, { headers: auth(co.token) });
	assert.equal(g.status, 400, JSON.stringify(g.body));
	edxoError(g.body, 'validation_error', 'programme_id');
	g = await getJSON(`/confirm_grille_import/${r.body.task_id}?programme_id=`, { headers: auth(co.token) });
	assert.equal(g.status, 200, 'a blank programme_id is not given');
	assert.equal(g.body.programme_id, w.prog);
	for (const [body, field] of [[{ programme_id: w.prog, import_mode: 'remplacer' }, 'import_mode'],
		[{ programme_id: 'abc' }, 'programme_id'], [{ programme_id: -1 }, 'programme_id']]) {
		const b = await postJSON(`/confirm_grille_import/${r.body.task_id}`, body, auth(co.token));
		assert.equal(b.status, 400, JSON.stringify(b.body));
		edxoError(b.body, 'validation_error', field);
		if (field === 'import_mode')
			assert.equal(b.body.error, 'import_mode : append ou overwrite.');
	}
	assert.equal(psql(`SELECT count(*) FROM cours_programme WHERE programme_id = ${w.prog}`), '1');

	const c = await postJSON(`/confirm_grille_import/${r.body.task_id}`, { programme_id: w.prog, import_mode: 'overwrite' }, auth(co.token));
	assert.equal(c.status, 200, JSON.stringify(c.body));
	assert.equal(c.body.success, true);
	assert.equal(c.body.import_mode, 'overwrite');
	// Exactly the preview: every course of the grille in its session, and
	// the programme's other course detached (overwrite).
	const want = [];
	for (const s of res.result.sessions)
		for (const k of s.cours)
			want.push(`${k.code_cours}|${k.titre_cours}|${s.numero_session}|${Math.round(k.heures_theorie)}|${Math.round(k.heures_labo)}|${Math.round(k.heures_maison)}`);
	const got = psql(`SELECT c.code || '|' || c.nom || '|' || cp.session || '|' || c.heures_theorie || '|' || c.heures_laboratoire || '|' || c.heures_travail_maison ` +
	    `FROM cours c JOIN cours_programme cp ON cp.cours_id = c.id WHERE cp.programme_id = ${w.prog} ORDER BY c.id`).split('\n');
	assert.deepEqual(got.sort(), [...new Set(want)].sort());
	assert.deepEqual(c.body.cours.map((k) => k.code).sort(), want.map((s) => s.split('|')[0]).sort());
	assert.ok(c.body.cours.every((k) => k.created), 'the grille\'s codes were not the programme\'s');
	// Préalables and corequis between courses of the grille, as the
	// document gives them, with the minimum grade when there is one.
	const ids = Object.fromEntries(c.body.cours.map((k) => [k.code, k.id]));
	const pre = [], cor = [];
	for (const s of res.result.sessions)
		for (const k of s.cours) {
			for (const x of k.prerequis)
				if (ids[x.code_cours] && x.code_cours !== k.code_cours)
					pre.push(`${ids[k.code_cours]}>${ids[x.code_cours]}:${x.pourcentage_minimum > 0 && x.pourcentage_minimum <= 100 ? Math.round(x.pourcentage_minimum) : ''}`);
			for (const x of k.corequis)
				if (ids[x] && x !== k.code_cours)
					cor.push(`${ids[k.code_cours]}=${ids[x]}`);
		}
	const inGrille = Object.values(ids).join(',');
	assert.deepEqual(psql(`SELECT cours_id || '>' || cours_prealable_id || ':' || coalesce(note_necessaire::text, '') FROM cours_prealable ` +
	    `WHERE cours_id IN (${inGrille})`).split('\n').filter(Boolean).sort(), [...new Set(pre)].sort());
	assert.deepEqual(psql(`SELECT cours_id || '=' || cours_corequis_id FROM cours_corequis WHERE cours_id IN (${inGrille})`)
	    .split('\n').filter(Boolean).sort(), [...new Set(cor)].sort());
	assert.equal(c.body.prealables, pre.length);
	assert.equal(c.body.corequis, cor.length);
	// The page's FormData gets the JSON's answer: the same courses, now
	// found by code and updated (append keeps them, adds nothing).
	const f = await upload(co, `/confirm_grille_import/${r.body.task_id}`, { programme_id: w.prog, import_mode: 'append', confirmer: 'Confirmer' });
	assert.equal(f.status, 200, JSON.stringify(f.body));
	assert.deepEqual(f.body, { ...c.body, import_mode: 'append', cours: c.body.cours.map((k) => ({ ...k, created: false })) });
	assert.deepEqual(psql(`SELECT c.code || '|' || c.nom || '|' || cp.session || '|' || c.heures_theorie || '|' || c.heures_laboratoire || '|' || c.heures_travail_maison ` +
	    `FROM cours c JOIN cours_programme cp ON cp.cours_id = c.id WHERE cp.programme_id = ${w.prog} ORDER BY c.id`).split('\n').sort(), got.sort());
	// Cancelling writes nothing.
	const n = psql('SELECT count(*) FROM cours');
	const x = await postJSON(`/confirm_grille_import/${r.body.task_id}`, { programme_id: w.prog, annuler: '1' }, auth(co.token));
	assert.equal(x.status, 200);
	assert.equal(x.body.cancelled, true);
	// The form's cancel button, whatever its value, as FormData.
	const xf = await upload(co, `/confirm_grille_import/${r.body.task_id}`, { programme_id: w.prog, annuler: 'Annuler' });
	assert.equal(xf.status, 200, JSON.stringify(xf.body));
	assert.deepEqual(xf.body, x.body);
	assert.equal(psql('SELECT count(*) FROM cours'), n);
	// A professor may import but not write courses.
	const prof = await user();
	psql(`INSERT INTO user_programme (user_id, programme_id) VALUES (${prof.id}, ${w.prog})`);
	const pr = await upload(prof, '/grille/import', { programme_id: w.prog }, pdf(1));
	assert.equal(pr.status, 202);
	assert.equal((await finished(pr.body.task_id)).state, 'SUCCESS');
	const pw = await postJSON(`/confirm_grille_import/${pr.body.task_id}`, { programme_id: w.prog }, auth(prof.token));
	assert.equal(pw.status, 403, JSON.stringify(pw.body));
});

// A finished import.grille task with the given grille, as the worker
// leaves one (the fake's grille has one course, linked to itself).
function grilleTask(u, prog, grille) {
	return psql(`INSERT INTO tasks (name, user_id, state, payload, result) VALUES ('import.grille', ${u.id}, 'SUCCESS', ` +
	    `${q(JSON.stringify({ programme_id: prog }))}, ${q(JSON.stringify({ status: 'success', result: grille }))}) RETURNING id`);
}

test('grille confirm: a document\'s grille as written, courses by code, préalables with their grade', async () => {
	const co = await user('coordo');
	const w = world(co);
	const code = psql(`SELECT code FROM cours WHERE id = ${w.cours}`);
	const other = psql(`INSERT INTO cours (code, nom) VALUES (${q('AUT-' + uniq())}, 'Autre') RETURNING id`);
	psql(`INSERT INTO cours_programme (cours_id, programme_id, session) VALUES (${other}, ${w.prog}, 3)`);
	const [b, c] = [`B-${uniq()}`, `C-${uniq()}`];
	const k = (code_cours, titre_cours, h, prerequis, corequis) => ({ code_cours, titre_cours, heures_theorie: h[0], heures_labo: h[1],
		heures_maison: h[2], prerequis, corequis });
	const grille = { programme: 'Prog', sessions: [
		{ numero_session: 1, cours: [
			k(code, 'Titre du document', [2.6, 1, 3], [{ code_cours: b, pourcentage_minimum: 0 }, { code_cours: 'ZZZ-999', pourcentage_minimum: 50 }], [b]),
			k(b, 'Cours B', [3, 0, 3], [{ code_cours: c, pourcentage_minimum: 60.4 }, { code_cours: b, pourcentage_minimum: 60 }], [])] },
		{ numero_session: 2, cours: [k(c, 'Cours C', [1, 2, 0], [], [code, 'ZZZ-999'])] }] };
	const tid = grilleTask(co, w.prog, grille);
	const r = await postJSON(`/confirm_grille_import/${tid}`, {}, auth(co.token));
	assert.equal(r.status, 200, JSON.stringify(r.body));
	assert.equal(r.body.import_mode, 'append');
	assert.equal(r.body.programme_id, w.prog);
	const ids = Object.fromEntries(r.body.cours.map((x) => [x.code, x.id]));
	// The programme's course of that code is updated, not duplicated.
	assert.deepEqual(r.body.cours.map((x) => [x.code, x.session, x.created]), [[code, 1, false], [b, 1, true], [c, 2, true]]);
	assert.equal(ids[code], w.cours);
	assert.equal(psql(`SELECT nom || '|' || heures_theorie || '|' || heures_laboratoire || '|' || heures_travail_maison || '|' || nombre_unites ` +
	    `FROM cours WHERE id = ${w.cours}`), 'Titre du document|3|1|3|2.33');
	// Taken as written: a préalable from a later session is kept, the
	// grade only when it is one, unknown codes and the course itself not.
	const rows = (sql) => psql(sql).split('\n').filter(Boolean).sort();
	assert.deepEqual(rows(`SELECT cours_id || '>' || cours_prealable_id || ':' || coalesce(note_necessaire::text, '-') ` +
	    `FROM cours_prealable WHERE cours_id IN (${Object.values(ids)})`), [`${w.cours}>${ids[b]}:-`, `${ids[b]}>${ids[c]}:60`].sort());
	assert.deepEqual(rows(`SELECT cours_id || '=' || cours_corequis_id FROM cours_corequis WHERE cours_id IN (${Object.values(ids)})`),
	    [`${w.cours}=${ids[b]}`, `${ids[c]}=${w.cours}`].sort());
	assert.equal(r.body.prealables, 2);
	assert.equal(r.body.corequis, 2);
	assert.equal(psql(`SELECT session FROM cours_programme WHERE cours_id = ${other} AND programme_id = ${w.prog}`), '3', 'append keeps the others');
	// Overwrite as FormData: the same courses, found by code; the others
	// detached (not deleted).
	const o = await upload(co, `/confirm_grille_import/${tid}`, { programme_id: w.prog, import_mode: 'overwrite' });
	assert.equal(o.status, 200, JSON.stringify(o.body));
	assert.deepEqual(o.body.cours.map((x) => [x.id, x.created]), r.body.cours.map((x) => [x.id, false]));
	assert.equal(psql(`SELECT string_agg(cours_id::text, ',' ORDER BY cours_id) FROM cours_programme WHERE programme_id = ${w.prog}`),
	    Object.values(ids).sort((x, y) => x - y).join(','));
	assert.equal(psql(`SELECT count(*) FROM cours WHERE id = ${other}`), '1');

	// A course the tables cannot hold: refused, nothing written.
	const first = [];
	for (const [bad, field] of [[k(`D-${uniq()}`, 'D', [1, 101, 0], [], []), 'heures_labo'], [k(' ', 'Sans code', [1, 1, 1], [], []), 'code_cours']]) {
		first.push(`E-${uniq()}`);
		const t2 = grilleTask(co, w.prog, { programme: 'Prog', sessions: [{ numero_session: 1, cours: [k(first.at(-1), 'E', [1, 1, 1], [], []), bad] }] });
		const x = await postJSON(`/confirm_grille_import/${t2}`, { import_mode: 'overwrite' }, auth(co.token));
		assert.equal(x.status, 400, JSON.stringify(x.body));
		edxoError(x.body, 'validation_error', field);
	}
	assert.equal(psql(`SELECT count(*) FROM cours WHERE code IN (${first.map(q)})`), '0');
	assert.equal(psql(`SELECT count(*) FROM cours_programme WHERE programme_id = ${w.prog}`), '3');
});

test('a failed PDF task leaves nothing: no credits, file deleted upstream, no rows', async () => {
	const u = await user('coordo', '0.00');
	const w = world(u);
	const r = await upload(u, '/grille/import', { programme_id: w.prog }, pdf(2));
	assert.equal(r.status, 202, JSON.stringify(r.body));
	const t = await finished(r.body.task_id);
	assert.equal(t.state, 'FAILURE', JSON.stringify(t));
	assert.equal(t.result.code, 'insufficient_credits');
	assert.match(t.meta.file_id, /^file-/);
	assert.equal(await fakeFile(t.meta.file_id), 404);
	assert.equal(uploadsOf(u), 0);
	assert.equal(psql(`SELECT count(*) FROM credit_reservations WHERE user_id = ${u.id} AND state = 'reserved'`), '0');
	const c = await postJSON(`/confirm_grille_import/${r.body.task_id}`, { programme_id: w.prog }, auth(u.token));
	assert.equal(c.status, 409, JSON.stringify(c.body));
	assert.equal(psql(`SELECT count(*) FROM cours_programme WHERE programme_id = ${w.prog}`), '1');
});

test('PDF refusals: not a PDF, too many pages, no pages, too big; nothing stored', async () => {
	const u = await user('coordo');
	const w = world(u);
	const n = tasksOf(u);
	const bad = [
		[{ name: 'x.pdf', type: 'application/pdf', data: Buffer.from('PK\x03\x04 not a pdf at all') }, 400, /pas un PDF/],
		[pdf(101), 400, /101 pages ; la limite est de 100/],
		[{ name: 'y.pdf', type: 'application/pdf', data: Buffer.from('%PDF-1.4\n%%EOF\n') }, 400, /aucune page/],
	];
	for (const [file, status, msg] of bad)
		for (const url of ['/grille/import', `/programme/${w.prog}/competences/import_pdf/start`]) {
			const r = await upload(u, url, {}, file);
			assert.equal(r.status, status, `${file.name} ${url}: ${JSON.stringify(r.body)}`);
			edxoError(r.body, 'validation_error', 'file');
			assert.match(r.body.error, msg);
		}
	// 100 pages is the limit, not over it.
	const ok = await upload(u, '/grille/import', {}, pdf(100));
	assert.equal(ok.status, 202, JSON.stringify(ok.body));
	assert.equal(psql(`SELECT payload->>'pages' FROM tasks WHERE id = ${q(ok.body.task_id)}`), '100');
	assert.equal((await finished(ok.body.task_id)).state, 'SUCCESS');
	// Pages inside a compressed object stream cannot be counted: the file
	// goes on with an unknown count (-1) and the upstream's own limit.
	const objstm = { name: 'objstm.pdf', type: 'application/pdf', data: Buffer.from('%PDF-1.5\n1 0 obj\n' +
	    '<< /Type /ObjStm /N 2 /First 8 /Filter /FlateDecode /Length 4 >>\nstream\nxxxx\nendstream\nendobj\n%%EOF\n') };
	const os = await upload(u, `/programme/${w.prog}/competences/import_pdf/start`, {}, objstm);
	assert.equal(os.status, 202, JSON.stringify(os.body));
	assert.equal(psql(`SELECT payload->>'pages' FROM tasks WHERE id = ${q(os.body.task_id)}`), '-1');
	assert.equal((await finished(os.body.task_id)).state, 'SUCCESS');
	// Over the upload cap (RL_UPLOAD_MAX = nginx client_max_body_size).
	const big = { name: 'big.pdf', type: 'application/pdf', data: Buffer.concat([Buffer.from('%PDF-1.4\n'), Buffer.alloc(20 * 1024 * 1024 + 1, 0x20)]) };
	const r = await upload(u, '/grille/import', {}, big);
	assert.equal(r.status, 413);
	const m = await upload(u, '/grille/import', {}, null);
	assert.equal(m.status, 400);
	edxoError(m.body, 'bad_request', 'file');
	assert.equal(tasksOf(u), n + 2);
	assert.equal(uploadsOf(u), 0);
});

test('devis PDF: compétences extracted, file deleted, confirm upserts them', async () => {
	const prof = await user();
	const outsider = await user();
	const w = world(prof);
	let r = await upload(outsider, `/programme/${w.prog}/competences/import_pdf/start`, {}, pdf(2));
	assert.equal(r.status, 404, JSON.stringify(r.body));
	const file = pdf(2, `devis-${uniq()}.pdf`);
	r = await upload(prof, `/programme/${w.prog}/competences/import_pdf/start`, {}, file);
	assert.equal(r.status, 202, JSON.stringify(r.body));
	const t = await finished(r.body.task_id);
	assert.equal(t.state, 'SUCCESS', JSON.stringify(t));
	const res = t.result;
	assert.equal(res.status, 'success');
	assert.equal(res.validation_url, `/programme/${w.prog}/competences/import/review?task_id=${r.body.task_id}`);
	assert.equal(res.result.base_filename, file.name.replace(/\.pdf$/, ''));
	assert.equal(typeof res.usage.prompt_tokens, 'number');
	assert.equal(typeof res.usage.completion_tokens, 'number');
	const comps = res.result.competences;
	assert.ok(comps.length >= 1);
	assert.deepEqual(Object.keys(comps[0]).sort(), ['Code', 'Contexte de réalisation',
		'Critères de performance pour l’ensemble de la compétence', 'Nom de la compétence', 'Éléments'].sort());
	assert.equal(await fakeFile(t.meta.file_id), 404);
	assert.equal(uploadsOf(prof), 0);
	paid(r.body.task_id, prof);

	// Wrong programme, missing task: refused, nothing written.
	let c = await postJSON('/programme/confirm_import', { programme_id: w.prog }, auth(prof.token));
	assert.equal(c.status, 400);
	edxoError(c.body, 'validation_error', 'base_filename');
	assert.equal(c.body.error, "Champ base_filename (ou task_id) requis : l'extraction à confirmer.");
	c = await postJSON('/programme/confirm_import', { programme_id: 'abc', task_id: r.body.task_id }, auth(prof.token));
	assert.equal(c.status, 400);
	edxoError(c.body, 'validation_error', 'programme_id');
	const w2 = world(prof);
	c = await postJSON('/programme/confirm_import', { programme_id: w2.prog, task_id: r.body.task_id }, auth(prof.token));
	assert.equal(c.status, 409, JSON.stringify(c.body));
	assert.equal(psql(`SELECT count(*) FROM competences WHERE programme_id = ${w.prog}`), '0');

	// Twice: the second is an update of the same rows (upsert by code).
	// The page's FormData and a urlencoded form get the JSON's answer.
	const confirm = { programme_id: w.prog, task_id: r.body.task_id };
	const again = [];
	for (const created of [true, false]) {
		c = await postJSON('/programme/confirm_import', confirm, auth(prof.token));
		assert.equal(c.status, 200, JSON.stringify(c.body));
		assert.equal(c.body.success, true);
		assert.deepEqual(c.body.competences.map((k) => [k.code, k.created]), [...new Set(comps.map((k) => k.Code))].map((k) => [k, created]));
		again.push(c.body);
	}
	c = await upload(prof, '/programme/confirm_import', { ...confirm, base_filename: 'ignoré' });
	assert.equal(c.status, 200, JSON.stringify(c.body));
	assert.deepEqual(c.body, again[1]);
	const ue = await raw('POST', '/programme/confirm_import', { 'Content-Type': 'application/x-www-form-urlencoded', ...auth(prof.token) },
	    new URLSearchParams(confirm).toString());
	assert.equal(ue.status, 200, ue.text);
	assert.deepEqual(ue.json, again[1]);
	for (const k of comps) {
		const row = psql(`SELECT nom || '|' || coalesce(criteria_de_performance, '') FROM competences WHERE programme_id = ${w.prog} AND code = ${q(k.Code)}`);
		const crit = (k['Critères de performance pour l’ensemble de la compétence'] || []);
		assert.equal(row, `${k['Nom de la compétence']}|${crit.length ? '<ul>' + crit.map((s) => `<li>${s}</li>`).join('') + '</ul>' : ''}`);
		for (const el of k['Éléments'] || []) {
			const ids = psql(`SELECT e.id FROM element_competence e JOIN competences c ON c.id = e.competence_id ` +
			    `WHERE c.programme_id = ${w.prog} AND c.code = ${q(k.Code)} AND e.nom = ${q(el.element)}`).split('\n');
			assert.equal(ids.length, 1);
			assert.deepEqual(psql(`SELECT criteria FROM element_competence_criteria WHERE element_competence_id = ${ids[0]} ORDER BY id`).split('\n').filter(Boolean),
			    el.criteres || []);
		}
	}
	assert.equal(psql(`SELECT count(*) FROM competence_programme cp JOIN competences c ON c.id = cp.competence_id WHERE c.programme_id = ${w.prog}`),
	    String(new Set(comps.map((k) => k.Code)).size));
});

// What a browser sends when it navigates (Chromium's Accept).
const NAVIGATION = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';
const urlencoded = (fields) => new URLSearchParams(fields).toString();

test('devis on the ministry\'s site: POST /ocr/start, read by its address, confirmed by base_filename', async () => {
	const prof = await user('coordo');
	const outsider = await user('coordo');
	const w = world(prof);
	const rec = await recorder('ocr');
	const tag = uniq();
	const url = `https://www.quebec.ca/fileadmin/documents/devis-${tag}.pdf`;
	const before = tasksOf(prof);
	try {
		// Refusals, nothing queued: no address, not the ministry's.
		let r = await postJSON('/ocr/start', { secteur_url: 'https://www.quebec.ca/x' }, auth(prof.token));
		assert.equal(r.status, 400, JSON.stringify(r.body));
		edxoError(r.body, 'validation_error', 'programme_url');
		assert.equal(r.body.error, 'Erreur de validation. Veuillez sélectionner un secteur et un programme.');
		for (const bad of ['http://www.quebec.ca/d.pdf', 'https://evil.example/d.pdf', 'https://quebec.ca.evil.example/d.pdf',
		    'https://user@www.quebec.ca/d.pdf', 'https://www.quebec.ca:8443/d.pdf', 'ftp://www.quebec.ca/d.pdf']) {
			r = await postJSON('/ocr/start', { programme_url: bad }, auth(prof.token));
			assert.equal(r.status, 400, bad);
			edxoError(r.body, 'validation_error', 'programme_url');
		}
		assert.equal(tasksOf(prof), before);

		// EDxo's form, posted by the browser: to the task's page.
		const nav = await raw('POST', '/ocr/start', { 'Content-Type': 'application/x-www-form-urlencoded',
		    Accept: NAVIGATION, ...auth(prof.token) }, urlencoded({ csrf_token: 'x', secteur_url: 'https://www.quebec.ca/s',
		    programme_url: url, pdf_title: 'Techniques de génie électrique', ai_model: rec.model, submit: 'Lancer' }));
		assert.equal(nav.status, 303, nav.text);
		const m = /^\/tasks\/track\/([0-9a-f-]{36})$/.exec(nav.headers.location);
		assert.ok(m, nav.headers.location);
		// A script gets the task id.
		r = await postJSON('/ocr/start', { programme_url: url, ai_model: rec.model }, auth(prof.token));
		assert.equal(r.status, 202, JSON.stringify(r.body));
		assert.match(r.body.task_id, /^[0-9a-f-]{36}$/);
		await finished(r.body.task_id);

		const t = await finished(m[1]);
		assert.equal(t.state, 'SUCCESS', JSON.stringify(t));
		const res = t.result;
		assert.equal(res.status, 'success');
		assert.equal(res.final_status, 'SUCCESS');
		assert.equal(res.pdf_source, url);
		assert.equal(res.pdf_title, 'Techniques de génie électrique');
		assert.equal(res.base_filename, `devis-${tag}`);
		assert.equal(res.result.base_filename, `devis-${tag}`);
		assert.equal(res.programme_id, null);
		assert.equal(res.validation_url, undefined, 'no programme yet: nothing to review');
		const comps = res.result.competences;
		assert.ok(comps.length >= 1);
		assert.equal(res.competences_count, comps.length);
		assert.equal(t.meta.pdf_source, url);
		paid(m[1], prof);
		// The provider read the file by its address: no upload, one call
		// per task, each with the devis as an input_file.file_url.
		const calls = rec.bodies.filter((b) => typeof b === 'object' && b.input);
		assert.equal(rec.bodies.length, calls.length, 'only Responses calls, no file upload');
		assert.equal(calls.length, 2);
		for (const b of calls)
			assert.deepEqual(b.input[0].content[0], { type: 'input_file', file_url: url });

		// Confirm: EDxo's review form names the extraction by its
		// base_filename; a stranger's name is not found.
		let c = await postJSON('/programme/confirm_import', { programme_id: w.prog, base_filename: 'inconnu' }, auth(prof.token));
		assert.equal(c.status, 404, JSON.stringify(c.body));
		edxoError(c.body, 'not_found', 'base_filename');
		const w2 = world(outsider);
		c = await postJSON('/programme/confirm_import', { programme_id: w2.prog, base_filename: `devis-${tag}` }, auth(outsider.token));
		assert.equal(c.status, 404, JSON.stringify(c.body));
		assert.equal(psql(`SELECT count(*) FROM competences WHERE programme_id = ${w2.prog}`), '0');
		// import_structured=false: the text confirmed, nothing written.
		c = await postJSON('/programme/confirm_import', { programme_id: w.prog, base_filename: `devis-${tag}`,
		    import_structured: 'false' }, auth(prof.token));
		assert.equal(c.status, 200, JSON.stringify(c.body));
		assert.deepEqual(c.body.competences, []);
		assert.equal(psql(`SELECT count(*) FROM competences WHERE programme_id = ${w.prog}`), '0');
		c = await postJSON('/programme/confirm_import', { programme_id: w.prog, base_filename: `devis-${tag}`,
		    import_structured: 'peut-être' }, auth(prof.token));
		assert.equal(c.status, 400, JSON.stringify(c.body));
		edxoError(c.body, 'validation_error', 'import_structured');
		// The browser's form: written, then to the programme's page.
		const f = await raw('POST', '/programme/confirm_import', { 'Content-Type': 'application/x-www-form-urlencoded',
		    Accept: NAVIGATION, ...auth(prof.token) }, urlencoded({ csrf_token: 'x', programme_id: w.prog,
		    base_filename: `devis-${tag}`, import_structured: 'true' }));
		assert.equal(f.status, 303, f.text);
		assert.equal(f.headers.location, `/programme/${w.prog}`);
		assert.equal(psql(`SELECT count(*) FROM competences WHERE programme_id = ${w.prog}`),
		    String(new Set(comps.map((k) => k.Code)).size));
	} finally {
		rec.server.close();
	}
});

test('POST /import_grille: EDxo\'s older upload form, to the task\'s page', async () => {
	const prof = await user();
	// The browser's form post: 303 to the task, which is a grille import.
	const nav = await fetch(BASE + '/import_grille', { method: 'POST', redirect: 'manual',
	    headers: { Accept: NAVIGATION, ...auth(prof.token) }, body: form({ csrf_token: 'x' }, pdf(1)) });
	assert.equal(nav.status, 303, await nav.text());
	const m = /^\/tasks\/track\/([0-9a-f-]{36})$/.exec(nav.headers.get('location'));
	assert.ok(m, nav.headers.get('location'));
	const t = await finished(m[1]);
	assert.equal(t.state, 'SUCCESS', JSON.stringify(t));
	assert.equal(t.result.validation_url, `/confirm_grille_import/${m[1]}`);
	assert.equal(psql(`SELECT name FROM tasks WHERE id = ${q(m[1])}`), 'import.grille');
	paid(m[1], prof);
	// A script's FormData: 202 {task_id}, as /grille/import; refusals alike.
	let r = await upload(prof, '/import_grille', {}, pdf(1));
	assert.equal(r.status, 202, JSON.stringify(r.body));
	await finished(r.body.task_id);
	r = await upload(prof, '/import_grille', {});
	assert.equal(r.status, 400, JSON.stringify(r.body));
	edxoError(r.body, 'bad_request', 'file');
	// The form page itself is the application's.
	const g = await raw('GET', '/import_grille', { Accept: NAVIGATION, ...auth(prof.token) });
	assert.equal(g.headers['x-relais-fallback'], 'application');
});

test('GET /confirm_grille_import/<id>: the browser gets EDxo\'s page, a script the JSON', async () => {
	const prof = await user();
	const id = '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
	const nav = await raw('GET', `/confirm_grille_import/${id}`, { Accept: NAVIGATION, ...auth(prof.token) });
	assert.equal(nav.headers['x-relais-fallback'], 'application');
	const js = await raw('GET', `/confirm_grille_import/${id}`, auth(prof.token));
	assert.equal(js.headers['x-relais-fallback'], undefined);
	assert.equal(js.status, 404, js.text);
	assert.match(js.headers.vary, /Accept/);
});

test('import routes: method and content type', async () => {
	const u = await user();
	// GET is not relais' on this path: nginx hands its 405 to the
	// application (the dev stack's stand-in says so in a header).
	const g = await raw('GET', '/import_docx', auth(u.token));
	assert.equal(g.status, 404);
	assert.equal(g.headers['x-relais-fallback'], 'application');
	let r = await postJSON('/import_docx', { cours_id: 1 }, auth(u.token));
	assert.equal(r.status, 415);
	edxoError(r.body, 'unsupported_media_type', undefined);
	assert.ok(BASE.startsWith('http'));
});

test('a task that ends without running (cancelled while queued) drops its file', () => {
	const uid = psql("SELECT id FROM users WHERE email = 'prof@demo.relais'");
	// Not PENDING and leased, so no worker or reaper touches it while the
	// test ends it the way the cancel route does.
	const id = psql(`INSERT INTO tasks (name, user_id, state, lease_until) VALUES ('import.grille', ${uid}, 'STARTED', ` +
	    `now() + interval '1 hour') RETURNING id`);
	psql(`INSERT INTO import_uploads (task_id, filename, data) VALUES (${q(id)}, 'x.pdf', '\\x255044462d')`);
	assert.equal(psql(`SELECT octet_length(data) FROM import_uploads WHERE task_id = ${q(id)}`), '5');
	psql(`UPDATE tasks SET meta = '{"message": "x"}' WHERE id = ${q(id)}`);
	assert.equal(psql(`SELECT count(*) FROM import_uploads WHERE task_id = ${q(id)}`), '1');
	psql(`UPDATE tasks SET state = 'REVOKED' WHERE id = ${q(id)}`);
	assert.equal(psql(`SELECT count(*) FROM import_uploads WHERE task_id = ${q(id)}`), '0');
	// Nothing bigger than the upload cap is ever stored.
	assert.throws(() => psql(`INSERT INTO import_uploads (task_id, filename, data) VALUES (${q(id)}, 'x.pdf', ` +
	    `decode(repeat('00', 20971521), 'hex'))`));
	psql(`DELETE FROM tasks WHERE id = ${q(id)}`);
});
