// What every browser suite shares: Debian's Chromium, headless, driven by
// playwright-core, launched once per suite file, and pages that collect
// every console error and uncaught exception (a suite asserts the list is
// empty).  scripts/test starts the stack and exports where it is; without
// it, or without Chromium, the suites fail loudly, never skip.
import { after, before } from 'node:test';
import fs from 'node:fs';
import { chromium } from 'playwright-core';
import { BASE } from '../integration/lib.mjs';

const CHROMIUM = process.env.RELAIS_CHROMIUM || '/usr/bin/chromium';
export const TIMEOUT = 15000;

let browser;

// Register the suite's launch and close; call once at the top of a file.
export function useBrowser() {
	before(async () => {
		if (!fs.existsSync(CHROMIUM))
			throw new Error(`${CHROMIUM} is missing: apt-get install chromium`);
		// launch() gives the browser a fresh temporary user-data
		// directory (removed when it closes): no profile, cookie or
		// cache is shared between runs.
		browser = await chromium.launch({
			executablePath: CHROMIUM,
			timeout: 60000,
			args: ['--headless', '--no-sandbox', '--disable-gpu',
			    '--disable-quic', '--no-first-run',
			    '--disable-background-networking',
			    '--disable-component-update', '--disable-sync'],
		});
	});
	after(async () => {
		if (browser)
			await browser.close();
	});
}

// Collect a page's console errors and uncaught exceptions in page.errors;
// with failed: true, answers of 400 and above too; console lines matching
// ignore are the ones a test expects.
export function watched(page, { failed = false, ignore = null } = {}) {
	page.errors = [];
	page.on('pageerror', (e) => page.errors.push(`exception: ${e}`));
	page.on('console', (m) => {
		if (m.type() === 'error' && !(ignore && ignore.test(m.text())))
			page.errors.push(`console: ${m.text()} (${m.location().url})`);
	});
	if (failed)
		page.on('response', (x) => {
			if (x.status() >= 400)
				page.errors.push(`response: ${x.status()} ` +
				    `${x.request().method()} ${x.url()}`);
		});
	return page;
}

// A watched page in a fresh context (its own cookies), French, on the
// stack's nginx.
export async function newPage(opts = {}) {
	const ctx = await browser.newContext({ baseURL: BASE, locale: 'fr-CA',
	    viewport: { width: 1280, height: 900 } });
	ctx.setDefaultTimeout(TIMEOUT);
	return watched(await ctx.newPage(), opts);
}
