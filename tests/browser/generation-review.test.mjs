// The review pages of the generation program in a real browser (issue 16
// point 1): Debian's Chromium, headless, driven by playwright-core through
// the stack's nginx.  Each test starts a generation with the request
// EDxo's page makes, in the browser's session (FormData or JSON, the
// X-CSRFToken header, the session cookie; EDxo's own page is not part of
// the stack), polls /tasks/status every 1.5 s as EDxo's task client does
// until SUCCESS, opens the validation_url the task returns, reads the
// proposed content on the page, confirms there, and finds it written in
// the database.  Any console error or uncaught exception fails the test.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { newPage, useBrowser, watched } from './lib.mjs';
import { PASSWORD, admin, auth, postJSON, psql, uniq } from '../integration/lib.mjs';

useBrowser();

const json = (sql) => JSON.parse(psql(sql));

// A coordo with credits, signed in: {id, username}.
async function coordo() {
	const username = `genrev-${uniq()}`;
	const a = await admin();
	let r = await postJSON('/manage_users', { username, password: PASSWORD, role: 'coordo' }, auth(a));
	assert.equal(r.status, 201, JSON.stringify(r.body));
	const id = r.body.id;
	r = await postJSON(`/edit_user/${id}/credits`, { amount: '5.00', operation: 'add' }, auth(a));
	assert.equal(r.status, 200, JSON.stringify(r.body));
	return { id, username };
}

// A programme of the user with two courses, two compétences of two
// elements each, and a plan-cadre for the first course.
function programme(user) {
	const u = uniq();
	const pid = Number(psql(`INSERT INTO programmes (nom, department_id) SELECT 'Revue ${u}', min(id) FROM departments RETURNING id`));
	const c1 = Number(psql(`INSERT INTO cours (code, nom, heures_theorie, heures_laboratoire, heures_travail_maison) VALUES ('R${u}-1', 'Réseaux ${u}', 2, 3, 2) RETURNING id`));
	const c2 = Number(psql(`INSERT INTO cours (code, nom) VALUES ('R${u}-2', 'Sécurité ${u}') RETURNING id`));
	psql(`INSERT INTO cours_programme (cours_id, programme_id, session) VALUES (${c1}, ${pid}, 1), (${c2}, ${pid}, 2)`);
	const k1 = Number(psql(`INSERT INTO competences (programme_id, code, nom) VALUES (${pid}, 'K${u}A', 'Installer') RETURNING id`));
	const k2 = Number(psql(`INSERT INTO competences (programme_id, code, nom) VALUES (${pid}, 'K${u}B', 'Diagnostiquer') RETURNING id`));
	psql(`INSERT INTO element_competence (competence_id, nom) VALUES (${k1}, 'e1'), (${k1}, 'e2'), (${k2}, 'e3'), (${k2}, 'e4')`);
	const plan = Number(psql(`INSERT INTO plan_cadre (cours_id, place_intro, objectif_terminal) VALUES (${c1}, 'intro avant', 'objectif avant') RETURNING id`));
	psql(`INSERT INTO plan_cadre_objets_cibles (plan_cadre_id, texte, description) VALUES (${plan}, 'objet avant', 'desc')`);
	psql(`INSERT INTO user_programme (user_id, programme_id) VALUES (${user.id}, ${pid})`);
	return { u, pid, c1, c2, k1, k2, plan };
}

// A browser context signed in as user (POST /login sets the session
// cookie and the csrf_token cookie EDxo's pages read), and its page, with
// every console error, uncaught exception and failed answer collected in
// page.errors.  The pages declare their icon: a browser asking for
// /favicon.ico would log its 404 here.
async function signedIn(user) {
	const page = await newPage({ failed: true });
	const r = await page.context().request.post('/login', { form: { username: user.username, password: PASSWORD } });
	assert.equal(r.status(), 200, await r.text());
	return page;
}

// The session's CSRF token, from the cookie EDxo's scripts read.
async function csrf(page) {
	const c = (await page.context().cookies()).find((x) => x.name === 'csrf_token');
	assert.ok(c, 'a csrf_token cookie');
	return decodeURIComponent(c.value);
}

// The POST EDxo's page makes, in the browser's session: its cookies, the
// token in X-CSRFToken, the body as FormData (multipart, the form's
// fields and its csrf_token) or JSON.  {status, body}.
async function edxoPost(page, path, { form, json: body }) {
	const token = await csrf(page);
	const opts = { headers: { 'X-CSRFToken': token } };
	if (form)
		opts.multipart = { ...Object.fromEntries(form), csrf_token: token };
	else
		opts.data = body;
	const r = await page.context().request.post(path, opts);
	return { status: r.status(), body: await r.json() };
}

// EDxo's task client: /tasks/status/<id> every 1.5 s until the task ends.
async function follow(page, id) {
	for (;;) {
		const r = await page.context().request.get(`/tasks/status/${encodeURIComponent(id)}`);
		assert.equal(r.status(), 200, await r.text());
		const s = await r.json();
		if (['SUCCESS', 'FAILURE', 'REVOKED'].includes(s.state))
			return s;
		await new Promise((ok) => setTimeout(ok, 1500));
	}
}

async function status(page, text) {
	await page.locator('#status', { hasText: text }).waitFor();
	return page.locator('#status').textContent();
}

test('plan-cadre: generate as EDxo\'s form does, review the changes, keep some, apply, find them written', { timeout: 120000 }, async () => {
	const user = await coordo();
	const p = programme(user);
	const page = await signedIn(user);
	const start = await edxoPost(page, `/plan_cadre/${p.plan}/generate_content`, { form: [
		['additional_info', 'Insister sur la sécurité.'], ['ai_model', ''], ['reasoning_effort', 'medium'],
		['verbosity', 'medium'], ['mode', ''], ['stream', '1'], ['wand_instruction', '']] });
	assert.equal(start.status, 200, JSON.stringify(start.body));
	assert.equal(start.body.success, true, JSON.stringify(start.body));
	const done = await follow(page, start.body.task_id);
	assert.equal(done.state, 'SUCCESS', JSON.stringify(done));
	const res = done.result;
	assert.equal(res.validation_url, `/plan_cadre/${p.plan}/review?task_id=${start.body.task_id}`);
	const pr = res.proposed;

	// The page: only what changes, the current text beside the proposed.
	await page.goto(res.validation_url);
	await status(page, 'Proposition chargée');
	assert.equal(await page.title(), 'Révision du plan-cadre — relais');
	const intro = page.locator('[data-field="place_intro"]');
	await intro.waitFor();
	assert.equal(await intro.locator('.old pre').textContent(), 'intro avant');
	assert.equal(await intro.locator('.new pre').textContent(), pr.fields.place_intro);
	const oc = page.locator('[data-list="objets_cibles"]');
	for (const it of pr.fields_with_description['Objets cibles'])
		await oc.getByLabel(it.texte, { exact: true }).waitFor();
	await oc.getByText('absent de la proposition').waitFor();
	assert.ok(pr.capacites.length >= 1);
	await page.getByLabel(`Retenir la capacité « ${pr.capacites[0].capacite} »`).waitFor();

	// Keep the rest, but not the new objectif terminal (keyboard: Space),
	// and add the objets cibles to the current one instead of replacing.
	const objectif = page.getByLabel('Appliquer « Objectif terminal »');
	await objectif.focus();
	await page.keyboard.press('Space');
	assert.equal(await objectif.isChecked(), false);
	await oc.getByLabel('Ajouter les éléments retenus à la liste actuelle').check();
	await page.getByRole('button', { name: 'Appliquer la sélection' }).click();
	const said = await status(page, 'Modifications appliquées');
	assert.match(said, /Objets cibles \(complétée\)/);

	// Written: the chosen parts only.
	const plan = json(`SELECT json_build_object('intro', place_intro, 'objectif', objectif_terminal,
	    'oc', (SELECT json_agg(texte ORDER BY id) FROM plan_cadre_objets_cibles WHERE plan_cadre_id = ${p.plan}),
	    'se', (SELECT coalesce(json_agg(texte ORDER BY id), '[]') FROM plan_cadre_savoir_etre WHERE plan_cadre_id = ${p.plan}),
	    'caps', (SELECT coalesce(json_agg(capacite ORDER BY id), '[]') FROM plan_cadre_capacites WHERE plan_cadre_id = ${p.plan}),
	    'by', modified_by_id) FROM plan_cadre WHERE id = ${p.plan}`);
	assert.equal(plan.intro, pr.fields.place_intro);
	assert.equal(plan.objectif, 'objectif avant', 'the unchecked section is not written');
	assert.deepEqual(plan.oc, ['objet avant', ...pr.fields_with_description['Objets cibles'].map((x) => x.texte)]);
	assert.deepEqual(plan.se, pr.savoir_etre);
	assert.deepEqual(plan.caps, pr.capacites.map((c) => c.capacite));
	assert.equal(plan.by, user.id);
	// The page compared again: what was written is no longer a change,
	// what was left out still is.
	await page.locator('[data-field="place_intro"]').waitFor({ state: 'detached' });
	await page.locator('[data-field="objectif_terminal"]').waitFor();
	await page.context().close();
	assert.deepEqual(page.errors, []);
});

test('grille de cours: generate as EDxo\'s page does, preview the grid, overwrite, find the courses created', { timeout: 120000 }, async () => {
	const user = await coordo();
	const p = programme(user);
	const page = await signedIn(user);
	const start = await edxoPost(page, `/programme/${p.pid}/grille/generate`, { json: {
		total_hours: 60, nb_sessions: 1, total_units: 2, additional_info: 'Grille de test.' } });
	assert.equal(start.status, 202, JSON.stringify(start.body));
	const done = await follow(page, start.body.task_id);
	assert.equal(done.state, 'SUCCESS', JSON.stringify(done));
	const grid = done.result.result;
	assert.equal(done.result.validation_url, `/programme/${p.pid}/grille/review/${start.body.task_id}`);

	await page.goto(done.result.validation_url);
	await status(page, 'Grille proposée chargée');
	const courses = grid.sessions.flatMap((s) => s.courses.map((k) => ({ ...k, session: s.session })));
	assert.ok(courses.length >= 1);
	for (const s of grid.sessions) {
		const table = page.getByRole('table', { name: `Cours proposés pour la session ${s.session}` });
		for (const k of s.courses) {
			const row = table.getByRole('row', { name: new RegExp(k.nom.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) });
			await row.waitFor();
			const cells = await row.locator('td').allTextContents();
			assert.equal(cells[0], String(k.heures_theorie));
			assert.equal(cells[1], String(k.heures_laboratoire));
		}
	}
	for (const f of grid.fils_conducteurs)
		await page.getByRole('table', { name: 'Fils conducteurs proposés' }).getByText(f.couleur).waitFor();
	await page.locator('#checks li').first().waitFor();
	await page.getByText('Le programme compte actuellement 2 cours').waitFor();

	await page.getByLabel(/^Remplacer la grille actuelle/).check();
	await page.getByRole('button', { name: 'Appliquer la grille' }).click();
	await status(page, 'Grille appliquée (remplacement)');
	const created = page.getByRole('table', { name: 'Cours créés par l\'application de la grille' });
	assert.equal(await created.locator('tbody tr').count(), courses.length);
	assert.equal(await page.getByRole('button', { name: 'Appliquer la grille' }).isVisible(), false, 'applied once');

	// Written: the programme now holds exactly the generated courses.
	const rows = json(`SELECT coalesce(json_agg(json_build_object('nom', c.nom, 'session', cp.session, 'code', c.code)
	    ORDER BY c.id), '[]') FROM cours_programme cp JOIN cours c ON c.id = cp.cours_id WHERE cp.programme_id = ${p.pid}`);
	assert.deepEqual(rows.map((r) => [r.nom, r.session]).sort(), courses.map((k) => [k.nom, k.session]).sort());
	for (const r of rows) {
		assert.match(r.code, new RegExp(`^P${p.pid}-\\d{3}$`));
		await created.getByRole('row', { name: new RegExp(r.code) }).waitFor();
	}
	await page.context().close();
	assert.deepEqual(page.errors, []);
});

test('logigramme: generate as EDxo\'s page does, review the links, change one, confirm, find them written', { timeout: 120000 }, async () => {
	const user = await coordo();
	const p = programme(user);
	const page = await signedIn(user);
	// A slow answer (the fake's directive), to open the page early too.
	const start = await edxoPost(page, `/programme/${p.pid}/logigramme/generate`, { json: {
		additional_info: 'Logigramme de test. [[X-Fake-Chunk-Ms: 100; X-Fake-Chunks: 40]]' } });
	assert.equal(start.status, 202, JSON.stringify(start.body));
	// Opened while the task runs (a second tab), the page says so and
	// shows the links once it ends, with no error on the way.
	const early = watched(await page.context().newPage(), { failed: true });
	await early.goto(`/programme/${p.pid}/logigramme/review/${start.body.task_id}`);
	await status(early, 'n\'est pas terminée');
	const done = await follow(page, start.body.task_id);
	assert.equal(done.state, 'SUCCESS', JSON.stringify(done));
	const links = done.result.result.links;
	assert.ok(links.length >= 1);
	assert.equal(done.result.validation_url, `/programme/${p.pid}/logigramme/review/${start.body.task_id}`);
	assert.equal(psql(`SELECT count(*) FROM element_competence_par_cours WHERE cours_id IN (${p.c1}, ${p.c2})`), '0', 'nothing written yet');

	await status(early, 'lien(s) proposé(s)');
	assert.equal(await early.locator('#links tr').count(), links.length);
	await early.close();
	assert.deepEqual(early.errors, []);

	await page.goto(done.result.validation_url);
	await status(page, 'lien(s) proposé(s)');
	const rows = page.locator('#links tr');
	assert.equal(await rows.count(), links.length);
	const name = (id) => (id === p.c1 ? `Réseaux ${p.u}` : `Sécurité ${p.u}`);
	const first = links[0];
	const row = page.locator(`#links tr[data-cours="${first.cours_code}"][data-competence="${first.competence_code}"]`);
	assert.equal(await row.locator('td').nth(1).textContent(), `${first.cours_code} — ${name(first.cours_id)}`);
	assert.equal(await row.getByRole('checkbox').isChecked(), true);
	// Change the first link's type with its labelled select.
	const other = { developpe: 'atteint', atteint: 'reinvesti', reinvesti: 'developpe' }[first.type];
	await row.getByLabel(/^Type du lien entre /).selectOption(other);
	await page.getByRole('button', { name: 'Confirmer les liens' }).click();
	await status(page, 'Logigramme enregistré');

	const written = json(`SELECT coalesce(json_agg(DISTINCT jsonb_build_object('c', e.cours_id, 'k', el.competence_id, 's', e.status)), '[]')
	    FROM element_competence_par_cours e JOIN element_competence el ON el.id = e.element_competence_id
	    WHERE e.cours_id IN (${p.c1}, ${p.c2})`);
	const STATUS = { developpe: 'Développé significativement', atteint: 'Atteint', reinvesti: 'Réinvesti' };
	const want = links.map((l, i) => ({ c: l.cours_id, k: l.competence_id, s: STATUS[i === 0 ? other : l.type] }));
	const key = (x) => `${x.c}/${x.k}/${x.s}`;
	assert.deepEqual(written.map(key).sort(), want.map(key).sort());
	await page.context().close();
	assert.deepEqual(page.errors, []);
});
