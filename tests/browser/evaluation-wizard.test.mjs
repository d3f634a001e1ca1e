// The evaluation wizard (/evaluation/evaluation-wizard, issue 16 point 2)
// in Debian's Chromium, headless, against the whole stack and the fake
// upstream: a user signed in with relais' session picks a cours, a plan
// and an evaluation, loads the grid, checks a savoir-faire, has its six
// levels generated, edits, saves, and the rows are found written.  The
// page posts FormData with the X-CSRFToken header as EDxo's wizard does.
// Any console error or page error fails the test.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { newPage, useBrowser } from './lib.mjs';
import { STATE, admin, auth, demoProgramme, postJSON, psql, q, uniq } from '../integration/lib.mjs';

const PASSWORD = 'correct horse';

useBrowser();

// A professeur of the demo programme with credits; its username.
async function professeur() {
	const name = `wiz-${uniq()}`;
	const a = await admin();
	let r = await postJSON('/manage_users', { username: name, password: PASSWORD, role: 'professeur' }, auth(a));
	assert.equal(r.status, 201, JSON.stringify(r.body));
	const id = r.body.id;
	r = await postJSON(`/edit_user/${id}/credits`, { amount: '5.00', operation: 'add' }, auth(a));
	assert.equal(r.status, 200, JSON.stringify(r.body));
	psql(`INSERT INTO user_programme (user_id, programme_id) VALUES (${id}, ${demoProgramme()})`);
	return { id, name };
}

// A cours of the demo programme: a plan-cadre with one capacité and two
// savoirs-faire (the second named like an attack), a plan de cours with
// an evaluation measuring that capacité, and a saved row for the first.
const HOSTILE = '<script>window.pwned = 1</script> Souder & « vérifier »';
function fixture() {
	const code = `WIZ-${uniq()}`;
	const cours = psql(`INSERT INTO cours (code, nom) VALUES (${q(code)}, 'Grilles du navigateur') RETURNING id`);
	psql(`INSERT INTO cours_programme (cours_id, programme_id) VALUES (${cours}, ${demoProgramme()})`);
	const pc = psql(`INSERT INTO plan_cadre (cours_id) VALUES (${cours}) RETURNING id`);
	const cap = psql(`INSERT INTO plan_cadre_capacites (plan_cadre_id, capacite) VALUES (${pc}, 'Mesurer') RETURNING id`);
	const sf1 = psql(`INSERT INTO plan_cadre_capacite_savoirs_faire (capacite_id, texte, cible, seuil_reussite) ` +
	    `VALUES (${cap}, 'Lire un multimètre', 'Lecture exacte', 'Lecture approximative') RETURNING id`);
	const sf2 = psql(`INSERT INTO plan_cadre_capacite_savoirs_faire (capacite_id, texte) VALUES (${cap}, ${q(HOSTILE)}) RETURNING id`);
	const plan = psql(`INSERT INTO plan_de_cours (cours_id, session) VALUES (${cours}, 'H26') RETURNING id`);
	const ev = psql(`INSERT INTO plan_de_cours_evaluations (plan_de_cours_id, titre_evaluation, description) ` +
	    `VALUES (${plan}, 'Laboratoire 1', 'Mesures de base') RETURNING id`);
	psql(`INSERT INTO plan_de_cours_evaluations_capacites (evaluation_id, capacite_id, ponderation) VALUES (${ev}, ${cap}, '40 %')`);
	psql(`INSERT INTO evaluation_savoirfaire (evaluation_id, savoir_faire_id, capacite_id, level1_description, level4_description) ` +
	    `VALUES (${ev}, ${sf1}, ${cap}, 'Rien', 'Lecture à 10 % près')`);
	return { code, cours, cap: Number(cap), sf1: Number(sf1), sf2: Number(sf2), plan, ev: Number(ev) };
}

test('evaluation wizard: course → plan → evaluation → grid → six levels generated → edit → save → rows written', async () => {
	const u = await professeur();
	const f = fixture();
	const page = await newPage();
	const ctx = page.context();
	const errors = page.errors;
	// The wizard's POSTs, to check they are EDxo's: FormData + CSRF header.
	const posts = [];
	page.on('request', (r) => {
		if (r.method() === 'POST')
			posts.push({ path: new URL(r.url()).pathname, headers: r.headers() });
	});

	// relais' session: the cookie and the CSRF cookie the page echoes.
	const login = await ctx.request.post('/login', { data: { username: u.name, password: PASSWORD } });
	assert.equal(login.status(), 200, await login.text());
	const csrf = (await ctx.cookies()).find((c) => c.name === 'csrf_token').value;

	await page.goto('/evaluation/evaluation-wizard');
	const status = page.locator('#status');
	await status.filter({ hasText: 'Choisissez un cours.' }).waitFor();
	assert.equal(await page.locator('#plan-section').isVisible(), false);

	// 1. The course, by its label.
	await page.getByLabel('Cours', { exact: true }).selectOption({ label: `${f.code} - Grilles du navigateur` });
	await page.locator('#plan-section').waitFor({ state: 'visible' });
	await status.filter({ hasText: '1 plan de cours : choisissez-en un.' }).waitFor();
	// 2. The plan.
	await page.getByLabel('Plan de cours').selectOption({ label: 'H26' });
	await page.locator('#evaluation-section').waitFor({ state: 'visible' });
	// 3. The evaluation: the grid and the description load.
	await page.getByLabel('Évaluation', { exact: true }).selectOption({ label: 'Laboratoire 1' });
	await page.locator('#grid-section').waitFor();
	await status.filter({ hasText: 'Grille chargée : 2 savoirs-faire.' }).waitFor();
	assert.equal(await page.getByLabel("Description de l'évaluation").inputValue(), 'Mesures de base');

	// The saved row: checked, its texts shown; the other closed.
	const sf1 = page.locator(`#sf_${f.sf1}`);
	const sf2 = page.locator(`#sf_${f.sf2}`);
	assert.equal(await sf1.isChecked(), true);
	assert.equal(await page.locator(`#level1_${f.sf1}`).inputValue(), 'Rien');
	assert.equal(await page.locator(`#level4_${f.sf1}`).inputValue(), 'Lecture à 10 % près');
	assert.equal(await page.getByLabel('Niveau 4 (Seuil de réussite: 60%)').first().inputValue(), 'Lecture à 10 % près');
	assert.equal(await sf2.isChecked(), false);
	assert.equal(await page.locator(`#desc_${f.sf2}`).isVisible(), false);
	assert.equal(await page.locator(`#ai_button_${f.sf2}`).isVisible(), false);
	// The hostile name is text: shown as written, never run.
	assert.equal(await page.locator(`label[for="sf_${f.sf2}"]`).textContent(), HOSTILE);
	assert.equal(await page.evaluate(() => window.pwned), undefined);

	// Check the second savoir-faire with the keyboard: its levels and
	// its generation button appear.
	await sf2.focus();
	await page.keyboard.press('Space');
	assert.equal(await sf2.isChecked(), true);
	await page.locator(`#desc_${f.sf2}`).waitFor({ state: 'visible' });
	const ai = page.locator(`#ai_button_${f.sf2}`);
	await ai.waitFor({ state: 'visible' });
	assert.equal(await ai.getAttribute('aria-describedby'), `sf_label_${f.sf2}`);

	// Generate its six levels (Enter on the focused button).
	await ai.focus();
	await page.keyboard.press('Enter');
	await status.filter({ hasText: 'Niveaux générés pour' }).waitFor();
	assert.equal(await status.getAttribute('class'), 'alert alert-success');
	const generated = [];
	for (let i = 1; i <= 6; i++)
		generated.push(await page.locator(`#level${i}_${f.sf2}`).inputValue());
	assert.ok(generated.some((t) => t.length > 0), `generated: ${JSON.stringify(generated)}`);
	assert.equal(await page.locator('#dirty').isVisible(), true);
	assert.equal(Number(psql(`SELECT count(*) FROM usage_ledger WHERE user_id = ${u.id} AND feature = 'evaluation.grid'`)), 1);
	assert.equal(psql(`SELECT count(*) FROM evaluation_savoirfaire WHERE evaluation_id = ${f.ev}`), '1',
	    'generating writes nothing');

	// Edit a level of the first and the description, then save.
	await page.locator(`#level2_${f.sf1}`).fill('Lecture très approximative');
	await page.getByLabel("Description de l'évaluation").fill('Mesures de base, révisées');
	const png = path.join(STATE, 'evaluation-wizard.png');
	await page.screenshot({ path: png, fullPage: true });
	await page.getByRole('button', { name: 'Enregistrer les modifications' }).click();
	await status.filter({ hasText: 'La grille a été sauvegardée avec succès.' }).waitFor();
	assert.equal(await page.locator('#dirty').isVisible(), false);

	// The rows written: both savoirs-faire, the edit, the generated texts.
	const rows = JSON.parse(psql(`SELECT json_agg(json_build_array(savoir_faire_id, capacite_id, selected, ` +
	    `level1_description, level2_description, level3_description, level4_description, level5_description, ` +
	    `level6_description) ORDER BY savoir_faire_id) FROM evaluation_savoirfaire WHERE evaluation_id = ${f.ev}`));
	assert.deepEqual(rows, [
		[f.sf1, f.cap, true, 'Rien', 'Lecture très approximative', '', 'Lecture à 10 % près', '', ''],
		[f.sf2, f.cap, true, ...generated],
	]);
	assert.equal(psql(`SELECT description FROM plan_de_cours_evaluations WHERE id = ${f.ev}`), 'Mesures de base, révisées');

	// Reload the grid (back to the empty choice and again): what was saved.
	await page.getByLabel('Évaluation', { exact: true }).selectOption('');
	assert.equal(await page.locator('#grid-section').count(), 0);
	await page.getByLabel('Évaluation', { exact: true }).selectOption({ label: 'Laboratoire 1' });
	await page.locator('#grid-section').waitFor();
	assert.equal(await page.locator(`#sf_${f.sf2}`).isChecked(), true);
	assert.equal(await page.locator(`#level2_${f.sf1}`).inputValue(), 'Lecture très approximative');

	// Every POST of the wizard was EDxo's: FormData with the token header
	// (the generation is JSON, as EDxo's generateGridFromData sends it).
	const seen = new Set(posts.map((p) => p.path));
	for (const p of ['/evaluation/get_plans', '/evaluation/get_evaluations', '/evaluation/get_grid',
	    '/evaluation/save_grid', '/evaluation/generate_six_level_grid'])
		assert.ok(seen.has(p), `${p} was posted`);
	for (const p of posts) {
		assert.equal(p.headers['x-csrftoken'], csrf, `${p.path} carries X-CSRFToken`);
		if (p.path === '/evaluation/generate_six_level_grid')
			assert.match(p.headers['content-type'], /^application\/json/);
		else
			assert.match(p.headers['content-type'], /^multipart\/form-data; boundary=/, p.path);
	}

	const bytes = fs.readFileSync(png);
	assert.equal(bytes.subarray(0, 8).toString('hex'), '89504e470d0a1a0a');
	await ctx.close();
	assert.deepEqual(errors, []);
});

test('evaluation wizard without a session: the page says so in French, no grid', async () => {
	// The 401 itself is the one expected console line.
	const page = await newPage({ ignore: /status of 401/ });
	const errors = page.errors;
	await page.goto('/evaluation/evaluation-wizard');
	await page.locator('#status', { hasText: 'Session expirée : reconnectez-vous.' }).waitFor();
	assert.equal(await page.locator('#status').getAttribute('class'), 'alert alert-danger');
	assert.equal(await page.locator('#courseSelect option').count(), 1);
	await page.context().close();
	assert.deepEqual(errors, []);
});
