// The admin page in a real browser: Debian's Chromium, headless, driven by
// playwright-core.  scripts/test starts the stack and exports where it is;
// without it (or without Chromium) these tests fail loudly, never skip.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { newPage as browserPage, useBrowser } from './lib.mjs';

function need(name) {
	const v = process.env[name];
	if (!v)
		throw new Error(`${name} is not set: run these tests through scripts/test`);
	return v;
}

const BASE = need('RELAIS_TEST_BASE');
const STATE = need('RELAIS_TEST_STATE');
const PASSWORD = 'relais-demo';
const KEY = 'sk-test-1234567890abcd';

useBrowser();

// Uncaught exceptions of every page, asserted empty by each test.
const pageErrors = [];
async function newPage() {
	const page = await browserPage();
	page.on('pageerror', (e) => pageErrors.push(String(e)));
	return page;
}

// Open /admin/ and wait until the page decided whether a session exists.
async function open(page, hash = '') {
	await page.goto(`/admin/${hash}`);
	await page.waitForSelector('body[data-pret="1"]');
}

async function signIn(page, account) {
	await open(page);
	await page.getByLabel("Nom d'utilisateur ou courriel").fill(account);
	await page.getByLabel('Mot de passe').fill(PASSWORD);
	await page.getByRole('button', { name: 'Se connecter' }).click();
	await page.locator('#session').waitFor({ state: 'visible' });
}

// Go to a view through the menu, as a keyboard or mouse user would.
async function go(page, linkName) {
	await page.getByRole('navigation').getByRole('link', { name: linkName }).click();
	await page.waitForFunction(() => !document.querySelector('#vue[aria-busy]'));
}

test('admin: sign in, edit a prompt, reload, set a key, field error, screenshot, sign out', async () => {
	const page = await newPage();
	await signIn(page, 'admin@demo.relais');
	assert.equal(await page.locator('#qui').textContent(), 'admin');
	assert.equal(await page.locator('#role').textContent(), 'Administrateur');

	// A prompt: change, save, "Enregistré", reload, still there.
	await go(page, 'Importation du plan-cadre');
	const prompt = page.getByLabel('Gabarit du prompt');
	const original = await prompt.inputValue();
	assert.match(original, /\{doc_text\}/);
	const changed = `Test navigateur ${Date.now()} : extrais le plan-cadre.\n\n{doc_text}`;
	await prompt.fill(changed);
	await page.getByRole('button', { name: 'Enregistrer', exact: true }).click();
	await page.locator('#f-import-etat', { hasText: 'Enregistré' }).waitFor();

	await page.reload();
	await page.waitForSelector('body[data-pret="1"]');
	await page.locator('#f-import').waitFor();
	assert.equal(await page.getByLabel('Gabarit du prompt').inputValue(), changed);

	// A validation error is shown next to its field.
	await page.getByLabel('Gabarit du prompt').fill('Sans la variable du document.');
	await page.getByRole('button', { name: 'Enregistrer', exact: true }).click();
	const fieldErr = page.locator('#f-import-prompt_template-err');
	await fieldErr.waitFor({ state: 'visible' });
	assert.notEqual((await fieldErr.textContent()).trim(), '');
	assert.equal(await page.getByLabel('Gabarit du prompt').getAttribute('aria-invalid'), 'true');
	assert.equal(await page.locator('#f-import-etat').textContent(), '');
	// The top-of-form line stays empty: the error has a field.
	assert.equal(await page.locator('#f-import-erreur').textContent(), '');

	// Put the original prompt back (other suites may read it).
	await page.getByLabel('Gabarit du prompt').fill(original);
	await page.getByRole('button', { name: 'Enregistrer', exact: true }).click();
	await page.locator('#f-import-etat', { hasText: 'Enregistré' }).waitFor();

	// A user's OpenAI key: set it, see it masked, never in clear.
	await go(page, 'Utilisateurs');
	const row = page.locator('tr[data-email="prof@demo.relais"]');
	await row.getByRole('button', { name: /^Modifier / }).click();
	await page.locator('#edition-titre', { hasText: 'Modifier' }).waitFor();
	await page.getByLabel('Nouvelle clé OpenAI').fill(KEY);
	await page.getByRole('button', { name: 'Enregistrer la clé' }).click();
	await page.locator('#f-cle-etat', { hasText: 'Enregistré' }).waitFor();
	await row.locator('td.cle', { hasText: 'sk-…abcd' }).waitFor();
	assert.equal(await row.locator('td.cle').textContent(), 'sk-…abcd');
	assert.equal(await page.getByLabel('Nouvelle clé OpenAI').inputValue(), '');
	const html = await page.content();
	assert.ok(!html.includes(KEY), 'the clear key is in the page');
	assert.ok(!html.includes('1234567890abcd'), 'the clear key is in the page');

	// Screenshot of the users view with the masked key.
	const png = path.join(STATE, 'admin.png');
	await page.screenshot({ path: png, fullPage: true });
	const bytes = fs.readFileSync(png);
	assert.ok(bytes.length > 1000, `screenshot is ${bytes.length} bytes`);
	assert.equal(bytes.subarray(0, 8).toString('hex'), '89504e470d0a1a0a');

	// Sign out: back to the sign-in form, and the session is gone.
	await page.getByRole('button', { name: 'Se déconnecter' }).click();
	await page.locator('#connexion').waitFor({ state: 'visible' });
	const me = await page.evaluate(async () =>
	    (await fetch('/me', { credentials: 'same-origin' })).status);
	assert.equal(me, 401);

	await page.context().close();
	assert.deepEqual(pageErrors, []);
});

test('professeur: "Accès refusé" on admin-only views', async () => {
	const page = await newPage();
	await signIn(page, 'prof@demo.relais');
	assert.equal(await page.locator('#role').textContent(), 'Professeur');
	for (const view of ["Prompt d'analyse", 'Importation du plan-cadre',
	    'Modèles et prix', 'Utilisateurs', 'Consommation']) {
		await go(page, view);
		await page.locator('#vue .refus').waitFor();
		assert.equal(await page.locator('#vue .refus').textContent(), 'Accès refusé',
		    view);
		assert.equal(await page.locator('#vue form').count(), 0, view);
	}
	await page.context().close();
	assert.deepEqual(pageErrors, []);
});

test('sign-in errors are shown and the form stays usable', async () => {
	const page = await newPage();
	await open(page);
	await page.getByLabel("Nom d'utilisateur ou courriel").fill('coordo@demo.relais');
	await page.getByLabel('Mot de passe').fill('pas le bon mot de passe');
	await page.getByRole('button', { name: 'Se connecter' }).click();
	await page.locator('#form-connexion-erreur:not(:empty)').waitFor();
	assert.equal(await page.locator('#session').isVisible(), false);
	// An empty password is refused with the error next to the field.
	await page.getByLabel('Mot de passe').fill('');
	await page.getByRole('button', { name: 'Se connecter' }).click();
	await page.locator('#connexion-password-err:not(:empty)').waitFor();
	await page.context().close();
});

test('admin: the "Fournisseurs" section adds, masks, tests and switches a provider', async () => {
	const page = await newPage();
	await signIn(page, 'admin@demo.relais');
	await go(page, 'Fournisseurs');
	// The shipped Mistral entry, disabled.
	const mistral = page.locator('#table-fournisseurs tr[data-fournisseur="mistralai"]');
	await mistral.waitFor();
	assert.equal(await mistral.locator('td.etat-fournisseur').textContent(), 'désactivé');
	assert.match(await mistral.textContent(), /mistral-large-latest/);

	const name = `nav${Date.now().toString(36)}`;
	const key = `key-navigateur-${name}-LMNO`;
	await page.getByLabel('Nom (minuscules, chiffres, - et _)').fill(name);
	await page.getByLabel('URL de base (https://…/v1)').fill('http://127.0.0.1:9/v1');
	await page.getByLabel('Clé d\'API', { exact: true }).fill(key);
	await page.getByRole('button', { name: 'Ajouter', exact: true }).click();
	await page.locator('#f-fournisseur-etat', { hasText: 'Fournisseur ajouté' }).waitFor();
	const row = page.locator(`#table-fournisseurs tr[data-fournisseur="${name}"]`);
	await row.waitFor();
	assert.equal(await row.locator('td.cle').textContent(), '…LMNO');
	assert.equal(await row.locator('td.etat-fournisseur').textContent(), 'activé');
	assert.ok(!(await page.content()).includes(key), 'the clear key is in the page');

	// Its test: no model yet, said in the status line.
	await row.getByRole('button', { name: `Tester ${name}` }).click();
	await page.locator('#fournisseurs-etat', { hasText: 'Erreur' }).waitFor();
	assert.match(await page.locator('#fournisseurs-etat').textContent(), /has no model/);

	// Switched off, then on again.
	await row.getByRole('button', { name: `Désactiver ${name}` }).click();
	await page.locator('#fournisseurs-etat', { hasText: `Fournisseur ${name} désactivé.` }).waitFor();
	assert.equal(await page.locator(`#table-fournisseurs tr[data-fournisseur="${name}"] td.etat-fournisseur`)
	    .textContent(), 'désactivé');
	await page.locator(`#table-fournisseurs tr[data-fournisseur="${name}"]`)
	    .getByRole('button', { name: `Activer ${name}` }).click();
	await page.locator('#fournisseurs-etat', { hasText: `Fournisseur ${name} activé.` }).waitFor();
	await page.context().close();
	assert.deepEqual(pageErrors, []);
});

test('professeur: "Accès refusé" on the "Fournisseurs" section', async () => {
	const page = await newPage();
	await signIn(page, 'prof@demo.relais');
	await go(page, 'Fournisseurs');
	await page.locator('#vue .refus').waitFor();
	assert.equal(await page.locator('#vue .refus').textContent(), 'Accès refusé');
	assert.equal(await page.locator('#vue form').count(), 0);
	await page.context().close();
	assert.deepEqual(pageErrors, []);
});
