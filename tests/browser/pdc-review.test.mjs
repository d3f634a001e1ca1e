// The plan-de-cours review page (GET /plan_de_cours/review/<id>?task_id=)
// in a real browser: Debian's Chromium, headless, driven by
// playwright-core.  A generation is started the way EDxo's plan-de-cours
// page starts it, the page its validation_url names shows the proposal
// beside the plan's content, Confirm writes it and Revert puts the old
// content back, each checked in the database.  Any console error fails.
// scripts/test starts the stack and exports where it is; without it (or
// without Chromium) these tests fail loudly, never skip.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { newPage as browserPage, useBrowser } from './lib.mjs';
import { BASE, PASSWORD, STATE, auth, getJSON, newUser, pdcContent, pdcFixture, psql, q } from '../integration/lib.mjs';

useBrowser();

// A page in a fresh context, and the console errors and uncaught
// exceptions it collects.
async function newPage() {
	const page = await browserPage();
	return { page, errors: page.errors };
}

// A fresh member of the demo programme, signed in in the page's context
// through POST /login (the session cookie and the csrf_token cookie);
// {user, csrf}.
async function signIn(page) {
	const user = await newUser({ prefix: 'pdcrev', member: true, credits: '5.00' });
	const username = psql(`SELECT username FROM users WHERE id = ${user.id}`);
	const r = await page.request.post('/login', { data: { username, password: PASSWORD } });
	assert.equal(r.status(), 200, await r.text());
	return { user, csrf: (await r.json()).csrf_token };
}

// A cours of the demo programme with its plan-cadre and an A25 plan de
// cours with one row in every list, the teacher and the calendar's
// activity filled: the page shows them as the current side.
const fixture = () => pdcFixture({ prefix: 'REV', nom: 'Circuits de révision', teacher: 'Ancien nom',
    activity: 'Ancienne activité' });

// EDxo's plan-de-cours page (view_plan_de_cours.html) reduced to what
// starts a generation, served in place of EDxo's Flask: its "Générer le
// plan de cours" quick task posts JSON {stream: true, additional_info}
// with X-CSRFToken from the page's csrf-token meta tag to
// /api/plan_de_cours/<id>/generate, keeps the task id in sessionStorage,
// polls /tasks/status/<id> every 1.5 s as EDxo's task client does, and
// then offers "Aller à la validation" with the result's validation_url.
function edxoPage(plan, csrf) {
	return `<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><meta name="csrf-token" content="${csrf}">
<link rel="icon" href="data:,"><title>Plan de cours</title></head><body>
<label for="additional_info">Informations complémentaires</label>
<textarea id="additional_info"></textarea>
<button id="gen" type="button">Générer le plan de cours</button>
<p id="etat" role="status"></p>
<a id="valider" hidden>Aller à la validation</a>
<script>
document.getElementById('gen').addEventListener('click', async () => {
	const csrf = document.querySelector('meta[name="csrf-token"]').getAttribute('content');
	const r = await fetch('/api/plan_de_cours/${plan}/generate', { method: 'POST',
	    credentials: 'same-origin',
	    headers: { 'Content-Type': 'application/json', 'X-CSRFToken': csrf },
	    body: JSON.stringify({ stream: true,
		additional_info: document.getElementById('additional_info').value }) });
	const data = await r.json();
	if (!data.task_id)
		throw new Error(data.error || data.message || 'no task_id');
	sessionStorage.setItem('currentTaskId', data.task_id);
	for (;;) {
		const s = await (await fetch('/tasks/status/' + data.task_id,
		    { credentials: 'same-origin' })).json();
		document.getElementById('etat').textContent = s.state;
		if (['SUCCESS', 'FAILURE', 'REVOKED'].includes(s.state)) {
			const a = document.getElementById('valider');
			a.href = (s.result && s.result.validation_url) || '#';
			a.hidden = false;
			return;
		}
		await new Promise((ok) => setTimeout(ok, 1500));
	}
});
</script></body></html>`;
}

const side = (part, which) => part.locator(`[data-side="${which}"]`);

test('generate as EDxo does, open the validation_url, see old vs new, confirm (written), revert (old back)', { timeout: 120000 }, async () => {
	const { page, errors } = await newPage();
	const { csrf } = await signIn(page);
	const f = fixture();
	const before = pdcContent(f.plan);

	const edxo = `/cours/${f.cours}/plan_de_cours/A25/`;
	await page.route(`${BASE}${edxo}`, (route) => route.fulfill({ status: 200,
	    contentType: 'text/html; charset=utf-8', body: edxoPage(f.plan, csrf) }));
	await page.goto(edxo);
	await page.getByLabel('Informations complémentaires').fill('Deux laboratoires par semaine');
	await page.getByRole('button', { name: 'Générer le plan de cours' }).click();
	const go = page.getByRole('link', { name: 'Aller à la validation' });
	await go.waitFor({ timeout: 60000 });
	assert.equal(await page.locator('#etat').textContent(), 'SUCCESS');
	const href = await go.getAttribute('href');
	assert.match(href, new RegExp(`^/plan_de_cours/review/${f.plan}\\?task_id=[0-9a-f-]{36}$`));
	const taskId = href.slice(href.indexOf('task_id=') + 'task_id='.length);
	assert.equal(await page.evaluate(() => sessionStorage.getItem('currentTaskId')), taskId);
	const result = JSON.parse(psql(`SELECT result FROM tasks WHERE id = ${q(taskId)}`));
	assert.deepEqual(pdcContent(f.plan), before, 'the task wrote nothing');

	// The review page: every part the task produced, "Actuel" beside
	// "Proposé".
	await go.click();
	await page.waitForURL(`${BASE}${href}`);
	await page.waitForSelector('body[data-pret="1"]');
	assert.equal(await page.title(), 'Révision du plan de cours — relais');
	assert.match(await page.locator('#intro').textContent(), /Circuits de révision — session A25/);
	const pres = page.locator('#champ-presentation_du_cours');
	assert.equal(await pres.getByRole('heading', { level: 3 }).textContent(), 'Présentation du cours');
	assert.equal(await side(pres, 'actuel').locator('pre').textContent(), 'Ancienne présentation');
	assert.equal(await side(pres, 'propose').locator('pre').textContent(), result.fields.presentation_du_cours);
	assert.equal(await pres.locator('.badge').textContent(), 'Changement proposé');
	for (const k of Object.keys(result.fields))
		assert.equal(await page.locator(`#champ-${k}`).count(), 1, k);

	const cal = page.locator('#liste-calendriers');
	assert.equal(await side(cal, 'actuel').locator('caption').textContent(), 'Actuel');
	assert.deepEqual(await side(cal, 'actuel').locator('tbody tr').allTextContents(),
	    ['1Ancien sujetAncienne activité']);
	assert.equal(await side(cal, 'propose').locator('tbody tr').count(), result.calendriers.length);
	assert.equal(await side(cal, 'propose').locator('tbody tr td').first().textContent(),
	    String(result.calendriers[0].semaine ?? ''));

	const evs = page.locator('#liste-evaluations');
	assert.equal(await side(evs, 'actuel').locator('tbody tr').count(), 1);
	assert.match(await side(evs, 'actuel').locator('tbody tr').textContent(),
	    /Ancien examen.*Analyser des circuits simples — 30 %/);
	assert.deepEqual(await side(evs, 'propose').locator('tbody tr td:first-child').allTextContents(),
	    result.evaluations.map((e) => e.titre_evaluation ?? ''));
	// The whole-plan task produces no médiagraphie or disponibilités.
	assert.equal(await page.locator('#liste-mediagraphies, #liste-disponibilites').count(), 0);
	assert.equal(await page.locator('#reasoning').isVisible(), result.reasoning_summary !== '');

	const png = path.join(STATE, 'pdc-review.png');
	await page.screenshot({ path: png, fullPage: true });
	assert.ok(fs.statSync(png).size > 1000);

	// Confirm: the proposal is written.
	assert.equal(await page.getByRole('button', { name: 'Rejeter la proposition' }).count(), 1);
	await page.getByRole('button', { name: 'Confirmer les changements' }).click();
	await page.locator('#status', { hasText: 'Les changements sont enregistrés dans le plan de cours.' }).waitFor();
	const written = pdcContent(f.plan);
	for (const [k, v] of Object.entries(result.fields))
		assert.equal(written.plan[k], v, k);
	assert.deepEqual(written.cal.map((c) => [c.semaine, c.sujet]),
	    result.calendriers.map((c) => [c.semaine, c.sujet]));
	assert.deepEqual(written.ev.map((e) => [e.t, e.s]),
	    result.evaluations.map((e) => [e.titre_evaluation, e.semaine]));
	assert.deepEqual(written.med, before.med, 'lists the task did not produce stay');
	assert.deepEqual(written.dis, before.dis);
	assert.equal(Number(psql(`SELECT modified_by_id FROM plan_de_cours WHERE id = ${f.plan}`)),
	    Number(psql(`SELECT user_id FROM tasks WHERE id = ${q(taskId)}`)));
	// The page reads the plan again: "Actuel" is now the proposal.
	assert.equal(await side(pres, 'actuel').locator('pre').textContent(), result.fields.presentation_du_cours);
	assert.equal(await pres.locator('.badge').textContent(), 'Identique');
	assert.equal(await page.getByRole('button', { name: 'Confirmer les changements' }).count(), 0);

	// Revert, from the keyboard: the old content is back.
	const revert = page.getByRole('button', { name: "Rétablir l'ancien contenu" });
	await revert.focus();
	await page.keyboard.press('Enter');
	await page.locator('#status', { hasText: "L'ancien contenu du plan de cours est rétabli." }).waitFor();
	assert.deepEqual(pdcContent(f.plan), before);
	assert.equal(await side(pres, 'actuel').locator('pre').textContent(), 'Ancienne présentation');
	assert.deepEqual(await side(cal, 'actuel').locator('tbody tr').allTextContents(),
	    ['1Ancien sujetAncienne activité']);
	assert.equal(await page.getByRole('button').count(), 0, 'nothing left to decide');
	assert.equal(await page.evaluate(() => document.activeElement.id), 'review-state');

	// Opened again later, the page says it is done and offers nothing.
	await page.reload();
	await page.waitForSelector('body[data-pret="1"]');
	assert.match(await page.locator('#review-state').textContent(), /Proposition écartée/);
	assert.equal(await page.getByRole('button').count(), 0);

	await page.context().close();
	assert.deepEqual(errors, []);
});

test('an import preview: teacher, médiagraphie and disponibilités shown, confirmed, reverted; another one rejected', { timeout: 60000 }, async () => {
	const { page, errors } = await newPage();
	const { user } = await signIn(page);
	const f = fixture();
	const before = pdcContent(f.plan);
	const cur = (await getJSON(`/plan_de_cours/review/${f.plan}/current`, { headers: auth(user.token) })).body;
	// The DOCX import task's result (import program), as it records it.
	const preview = (n) => ({
		status: 'success', preview: true, plan_id: f.plan, cours_id: f.cours, session: 'A25',
		validation_url: '', plan_de_cours_url: `/cours/${f.cours}/plan_de_cours/A25/`,
		fields: { presentation_du_cours: `Présentation importée ${n}`, nom_enseignant: 'Marie Curie',
		    courriel_enseignant: 'mc@example.org', materiel: '' },
		old_fields: cur.fields,
		calendriers: [{ semaine: 2, sujet: 'Lois de Kirchhoff', activites: 'Laboratoire' }],
		old_calendriers: cur.calendriers,
		mediagraphies: [{ reference_bibliographique: 'Floyd, Électronique' }],
		old_mediagraphies: cur.mediagraphies,
		disponibilites: [{ jour_semaine: 'Mardi', plage_horaire: '10 h à 12 h', lieu: 'C-204' }],
		old_disponibilites: cur.disponibilites,
		evaluations: [{ titre_evaluation: 'Examen 1', description: 'Théorie', semaine: 5,
		    capacites: [{ capacite_id: f.cap2, capacite_nom: 'Concevoir un montage', ponderation: '20 %' }] }],
		old_evaluations: cur.evaluations,
		reasoning_summary: 'Le document suit le gabarit du département.',
	});
	const task = (n) => psql(`INSERT INTO tasks (name, user_id, state, result) VALUES ('import.plan_de_cours', ` +
	    `${user.id}, 'SUCCESS', ${q(JSON.stringify(preview(n)))}::jsonb) RETURNING id`);

	const id = task(1);
	await page.goto(`/plan_de_cours/review/${f.plan}?task_id=${id}`);
	await page.waitForSelector('body[data-pret="1"]');
	// An empty proposal leaves the text as it is: not shown.
	assert.equal(await page.locator('#champ-materiel').count(), 0);
	const nom = page.locator('#champ-nom_enseignant');
	assert.equal(await nom.getByRole('heading', { level: 3 }).textContent(), "Nom de l'enseignant");
	assert.equal(await side(nom, 'actuel').locator('pre').textContent(), 'Ancien nom');
	assert.equal(await side(nom, 'propose').locator('pre').textContent(), 'Marie Curie');
	const cour = page.locator('#champ-courriel_enseignant');
	assert.equal(await side(cour, 'actuel').textContent(), 'Actuel(vide)');
	const med = page.locator('#liste-mediagraphies');
	assert.deepEqual(await side(med, 'actuel').locator('li').allTextContents(), ['Ancien livre']);
	assert.deepEqual(await side(med, 'propose').locator('li').allTextContents(), ['Floyd, Électronique']);
	const dis = page.locator('#liste-disponibilites');
	assert.deepEqual(await side(dis, 'actuel').locator('tbody tr').allTextContents(), ['Lundi13 h à 15 hB-101']);
	assert.deepEqual(await side(dis, 'propose').locator('tbody tr').allTextContents(), ['Mardi10 h à 12 hC-204']);
	assert.match(await side(page.locator('#liste-evaluations'), 'propose').locator('tbody').textContent(),
	    /Examen 1.*Concevoir un montage — 20 %/);
	await page.locator('#reasoning summary').click();
	assert.equal(await page.locator('#reasoning-text').textContent(), 'Le document suit le gabarit du département.');

	await page.getByRole('button', { name: 'Confirmer les changements' }).click();
	await page.locator('#status', { hasText: 'Les changements sont enregistrés' }).waitFor();
	const written = pdcContent(f.plan);
	assert.deepEqual([written.plan.presentation_du_cours, written.plan.nom_enseignant,
	    written.plan.courriel_enseignant, written.plan.materiel],
	    ['Présentation importée 1', 'Marie Curie', 'mc@example.org', 'Multimètre']);
	assert.deepEqual(written.med, ['Floyd, Électronique']);
	assert.deepEqual(written.dis, [['Mardi', '10 h à 12 h', 'C-204']]);
	assert.deepEqual(written.ev, [{ t: 'Examen 1', d: 'Théorie', s: 5, c: [[f.cap2, '20 %']] }]);
	await page.getByRole('button', { name: "Rétablir l'ancien contenu" }).click();
	await page.locator('#status', { hasText: "L'ancien contenu du plan de cours est rétabli." }).waitFor();
	assert.deepEqual(pdcContent(f.plan), before);

	// A second preview, rejected before anything was written.
	const id2 = task(2);
	await page.goto(`/plan_de_cours/review/${f.plan}?task_id=${id2}`);
	await page.waitForSelector('body[data-pret="1"]');
	await page.getByRole('button', { name: 'Rejeter la proposition' }).click();
	await page.locator('#status', { hasText: "La proposition est rejetée ; le plan de cours n'a pas changé." }).waitFor();
	assert.deepEqual(pdcContent(f.plan), before);
	assert.equal(JSON.parse(psql(`SELECT meta FROM tasks WHERE id = ${q(id2)}`)).review, 'revert');

	await page.context().close();
	assert.deepEqual(errors, []);
});

test('the page says what is wrong: no task, another plan\'s task', async () => {
	const { page, errors } = await newPage();
	const { user } = await signIn(page);
	const f = fixture();
	const g = fixture();
	const id = psql(`INSERT INTO tasks (name, user_id, state, result) VALUES ('plandecours.field', ${user.id}, ` +
	    `'SUCCESS', ${q(JSON.stringify({ status: 'success', plan_id: g.plan, fields: { materiel: 'x' } }))}::jsonb) RETURNING id`);
	await page.goto(`/plan_de_cours/review/${f.plan}`);
	await page.waitForSelector('body[data-pret="erreur"]');
	assert.match(await page.locator('#status').textContent(), /Aucune tâche indiquée/);
	assert.equal(await page.locator('#status').getAttribute('class'), 'alert alert-danger');
	await page.goto(`/plan_de_cours/review/${f.plan}?task_id=${id}`);
	await page.waitForSelector('body[data-pret="erreur"]');
	assert.equal(await page.locator('#status').textContent(), 'Cette tâche ne concerne pas ce plan de cours.');
	assert.equal(await page.getByRole('button').count(), 0);
	await page.context().close();
	assert.deepEqual(errors, []);
});
