// The admin page's "Limites de requêtes" (issue 20) in a real browser:
// the table of roles, a role's limits set through the form, a refused
// value shown beside its field, the defaults given back by the button.
import test from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { newPage as browserPage, useBrowser } from './lib.mjs';

const PGHOST = process.env.RELAIS_TEST_PGHOST;
const psql = (sql) => execFileSync('psql', ['-h', PGHOST, '-U', 'relais', '-d', 'relais',
    '-Atqc', sql], { encoding: 'utf8' }).trim();

useBrowser();

test('admin: request limits of a role, set, refused, back to the defaults', async () => {
	assert.ok(PGHOST, 'RELAIS_TEST_PGHOST is set by scripts/test');
	const errors = [];
	const page = await browserPage();
	page.on('pageerror', (e) => errors.push(String(e)));
	await page.goto('/admin/');
	await page.waitForSelector('body[data-pret="1"]');
	await page.getByLabel("Nom d'utilisateur ou courriel").fill('admin@demo.relais');
	await page.getByLabel('Mot de passe').fill('relais-demo');
	await page.getByRole('button', { name: 'Se connecter' }).click();
	await page.locator('#session').waitFor({ state: 'visible' });
	await page.getByRole('navigation').getByRole('link', { name: 'Limites de requêtes' }).click();
	await page.locator('#table-limites').waitFor();
	assert.equal(await page.locator('#table-limites tbody tr').count(), 5);

	const row = page.locator('#table-limites tbody tr', { hasText: 'Invité' });
	await page.getByLabel('Rôle', { exact: true }).selectOption('invite');
	await page.getByLabel('Requêtes par utilisateur').fill('7');
	await page.getByLabel('Période (secondes)').fill('30');
	await page.locator('#f-limites').getByRole('button', { name: 'Enregistrer' }).click();
	await page.locator('#f-limites-etat', { hasText: 'Enregistré' }).waitFor();
	assert.deepEqual(await row.locator('td').allTextContents(), ['7', '7', '30', 'personnalisée']);
	assert.equal(psql("SELECT requests || '/' || period_sec FROM rate_limits WHERE role = 'invite'"),
	    '7/30');

	// A value the route refuses: said beside the field, nothing saved.
	await page.getByLabel('Requêtes par utilisateur').fill('-3');
	await page.locator('#f-limites').getByRole('button', { name: 'Enregistrer' }).click();
	await page.waitForFunction(() => document.querySelector('#f-limites-erreur').textContent !== '' ||
	    document.querySelector('#f-limites-requests-err').textContent !== '');
	assert.equal(psql("SELECT requests FROM rate_limits WHERE role = 'invite'"), '7');

	await page.getByRole('button', { name: 'Rétablir les valeurs par défaut' }).click();
	await page.locator('#f-limites-etat', { hasText: 'Valeurs par défaut rétablies' }).waitFor();
	assert.equal(await row.locator('td').last().textContent(), 'par défaut');
	assert.equal(psql("SELECT count(*) FROM rate_limits WHERE role = 'invite'"), '0');
	await page.context().close();
	assert.deepEqual(errors, []);
});
