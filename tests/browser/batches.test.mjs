// The batch page (admin/batches.html, issue 21) in a real browser:
// Debian's Chromium, headless, driven by playwright-core through the
// stack's nginx and the fake upstream's batches.  A professeur (not an
// admin: the roles that may generate use the page) signs in, launches a
// batch of two sections of a plan de cours, watches the page's periodic
// refresh take it to "Traité" with a full progress bar, processes the
// finished batches, reads the details, downloads the history and the
// results, is told there is nothing to resume, and deletes the batch.
// Any console error or uncaught exception fails the test.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { newPage, useBrowser } from './lib.mjs';
import { PASSWORD, auth, getJSON, newUser, pdcFixture, psql } from '../integration/lib.mjs';

useBrowser();

// Waits a batch may take: the fake's four steps, the page's refresh.
const SLOW = 60000;

async function signIn(page, username) {
	await page.goto('/admin/batches.html');
	await page.waitForSelector('body[data-pret="1"]');
	await page.getByLabel("Nom d'utilisateur ou courriel").fill(username);
	await page.getByLabel('Mot de passe').fill(PASSWORD);
	await page.getByRole('button', { name: 'Se connecter' }).click();
	await page.locator('#session').waitFor({ state: 'visible' });
}

// The text of the page-wide announcement once it contains `what`.
async function announced(page, what) {
	const a = page.locator('#annonce', { hasText: what });
	await a.waitFor({ timeout: SLOW });
	return a.textContent();
}

async function downloaded(page, click) {
	const [d] = await Promise.all([page.waitForEvent('download'), click()]);
	const file = await d.path();
	return { name: d.suggestedFilename(), text: fs.readFileSync(file, 'utf8') };
}

test('batches page: launch, follow to the end, process, details, exports, resume, delete', async () => {
	const user = await newUser({ prefix: 'bpage', member: true, credits: '20.00' });
	const username = psql(`SELECT username FROM users WHERE id = ${user.id}`);
	const fix = pdcFixture({ prefix: 'BPAGE', nom: 'Page des lots' });
	// Chromium logs every failed load: the sign-in's 401 (no session yet),
	// the refused plan's 404 and the 409 of "Reprendre" are expected.
	const page = await newPage({ ignore: /status of (401|404|409)/ });
	page.on('dialog', (d) => d.accept());

	// The admin page links to it.
	await page.goto('/admin/');
	assert.equal(await page.locator('nav a[href="batches.html"]').textContent(), 'Générations par lot');

	await signIn(page, username);
	assert.equal(await page.locator('#role').textContent(), 'Professeur');
	await page.locator('#lots-vide').waitFor({ state: 'visible' });

	// A client-side refusal first: no section chosen.
	await page.getByLabel('Numéros des plans').fill(String(fix.plan));
	await page.getByRole('button', { name: 'Tout décocher' }).click();
	await page.getByRole('button', { name: /Lancer la génération/ }).click();
	await page.locator('#f-lancer-sections-err', { hasText: 'Cochez au moins une section' }).waitFor();
	// A plan the user may not see: the server's 404 beside the field.
	await page.getByLabel('Présentation du cours').check();
	await page.getByLabel('Numéros des plans').fill('999999999');
	await page.getByRole('button', { name: /Lancer la génération/ }).click();
	await page.locator('#f-lancer-plan_ids-err:not(:empty)').waitFor();
	assert.equal(await page.getByLabel('Numéros des plans').getAttribute('aria-invalid'), 'true');

	// The launch: two sections of the fixture's plan.
	await page.getByLabel('Numéros des plans').fill(String(fix.plan));
	await page.getByLabel('Matériel').check();
	await page.getByRole('button', { name: /Lancer la génération/ }).click();
	const etat = await page.locator('#f-lancer-etat', { hasText: 'lancé' }).textContent();
	const id = Number(etat.match(/Lot (\d+) lancé : 2 section/)[1]);
	assert.deepEqual(JSON.parse(psql(`SELECT json_agg(section ORDER BY section) FROM gen_batch_items ` +
	    `WHERE batch_id = ${id}`)), ['materiel', 'presentation_du_cours']);
	const row = page.locator(`tr[data-lot="${id}"]`);
	await row.waitFor();
	assert.equal(await row.locator('td').nth(0).textContent(), 'Plan de cours');

	// The page's own refresh follows it to the end: no click needed.
	await page.locator(`tr[data-lot="${id}"][data-statut="collected"]`).waitFor({ timeout: SLOW });
	assert.equal(await row.locator('.statut').textContent(), 'Traité');
	assert.equal(await row.locator('progress').getAttribute('value'), '100');
	assert.match(await row.locator('td.nombre').last().textContent(), /^2 \/ 2/);
	assert.equal(psql(`SELECT status FROM gen_batches WHERE id = ${id}`), 'collected');
	await page.locator('#suivi', { hasText: 'Aucun lot en cours' }).waitFor();

	// Process the finished batches: nothing is left open.
	await page.getByRole('button', { name: /Traiter les batches terminés/ }).click();
	assert.match(await announced(page, 'vérifié'), /^0 lot\(s\) vérifié\(s\)/);

	// Details: the lines and OpenAI's batch object.
	await row.getByRole('button', { name: `Détails du lot ${id}` }).click();
	await page.locator('#details').waitFor({ state: 'visible' });
	const raw = JSON.parse(await page.locator('#details-brut').textContent());
	assert.equal(raw.id, psql(`SELECT openai_batch_id FROM gen_batches WHERE id = ${id}`));
	assert.equal(raw.status, 'completed');
	assert.equal(await page.locator('#details-lignes tbody tr').count(), 2);
	await page.getByRole('button', { name: 'Fermer les détails' }).click();
	await page.locator('#details').waitFor({ state: 'hidden' });

	// The history as CSV, then JSON.
	let d = await downloaded(page, () => page.getByRole('button', { name: /Exporter l'historique/ }).click());
	assert.match(d.name, /^lots-historique-\d{8}T\d{6}Z\.csv$/);
	assert.match(d.text, new RegExp(`\r\n${id},${user.id},${username},plan_de_cours,`));
	await page.getByLabel("Format de l'export").selectOption('json');
	d = await downloaded(page, () => page.getByRole('button', { name: /Exporter l'historique/ }).click());
	assert.match(d.name, /\.json$/);
	assert.equal(JSON.parse(d.text).batches[0].id, id);

	// The results, Markdown and Word.
	d = await downloaded(page, () => row.getByRole('button', { name: `Exporter en Markdown les résultats du lot ${id}` }).click());
	assert.match(d.name, new RegExp(`^lot-${id}-resultats-\\d{8}T\\d{6}Z\\.md$`));
	assert.ok(d.text.startsWith(`# Résultats du lot ${id}\n`), d.text.slice(0, 200));
	assert.ok(d.text.includes('### Présentation du cours') && d.text.includes('### Matériel'));
	d = await downloaded(page, () => row.getByRole('button', { name: `Exporter en Word les résultats du lot ${id}` }).click());
	assert.match(d.name, /\.docx$/);

	// Resume: every line came back, so the seed's message.
	await row.getByRole('button', { name: `Reprendre les sections en échec du lot ${id}` }).click();
	await announced(page, 'Aucune section à reprendre');

	// Delete (the confirm is accepted): gone from the page and the API.
	await row.getByRole('button', { name: `Supprimer de l'historique le lot ${id}` }).click();
	await announced(page, `Lot ${id} supprimé`);
	await row.waitFor({ state: 'detached' });
	assert.equal((await getJSON(`/batch/${id}`, { headers: auth(user.token) })).status, 404);

	await page.context().close();
	assert.deepEqual(page.errors, []);
});
