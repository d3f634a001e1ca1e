// EDxo's tables as views (sql/0012_edxo_views.sql), checked with
// SQLAlchemy, the library EDxo reads them with: views.py does the work in
// Debian's python3 (python3-sqlalchemy, python3-psycopg2) and prints one
// "ok - NAME" / "not ok - NAME" line per check; each becomes a test here,
// so that scripts/test counts and names them like any other.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { PGHOST, BASE, TOP } from '../integration/lib.mjs';

const script = fileURLToPath(new URL('views.py', import.meta.url));
// Debian's interpreter, not whichever python3 comes first in PATH: the
// packages of scripts/lib.sh's RL_DEBS are installed for it.
const run = spawnSync('/usr/bin/python3', [script], {
	encoding: 'utf8', timeout: 240000,
	env: { ...process.env, RELAIS_TEST_PGHOST: PGHOST, RELAIS_TEST_BASE: BASE,
	    RELAIS_TEST_TOP: TOP },
});
const lines = (run.stdout ?? '').split('\n');
const checks = [];
for (const line of lines) {
	const m = /^(not )?ok - (.*)$/.exec(line);
	if (m)
		checks.push({ name: m[2], ok: !m[1], detail: [] });
	else if (line.startsWith('# ') && checks.length > 0)
		checks[checks.length - 1].detail.push(line.slice(2));
}

test('edxo-views: views.py ran to the end with every check reported', () => {
	assert.equal(run.error, undefined, String(run.error));
	assert.equal(run.status, 0, run.stderr);
	const done = lines.find((l) => l.startsWith('done '));
	assert.ok(done, `no "done" line:\n${run.stdout}\n${run.stderr}`);
	assert.equal(Number(done.slice(5)), checks.length);
	// 1 + 54 tables + 12 writes + 1 role + 2 through nginx.
	assert.ok(checks.length >= 70, `only ${checks.length} checks`);
});

for (const c of checks) {
	test(`edxo-views: ${c.name}`, () => {
		assert.ok(c.ok, c.detail.join('\n'));
	});
}
