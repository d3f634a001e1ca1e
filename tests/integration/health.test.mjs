// /api/health and /version through nginx, and the database going away
// and coming back under load.
import test from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { BASE, BUILD, STATE, getJSON, psql, sleep } from './lib.mjs';

test('health answers ok through nginx', async () => {
	const r = await getJSON('/api/health');
	assert.equal(r.status, 200);
	assert.equal(r.headers.get('content-type'), 'application/json');
	assert.deepEqual(Object.keys(r.body).sort(),
	    ['database', 'status', 'upstream', 'version']);
	assert.equal(r.body.status, 'ok');
	assert.equal(r.body.database, 'ok');
	assert.equal(r.body.upstream, 'fake');
	assert.match(r.body.version, /^\d+\.\d+\.\d+$/);
});

test('version is public and matches health', async () => {
	const v = await getJSON('/version');
	const h = await getJSON('/api/health');
	assert.equal(v.status, 200);
	assert.equal(v.body.version, h.body.version);
});

test('unknown path gets the relais error shape', async () => {
	const r = await getJSON('/no/such/thing');
	assert.equal(r.status, 404);
	assert.equal(r.body.error.code, 'not_found');
});

test('health is 503 while PostgreSQL is down under load, then recovers by itself', async () => {
	let stop = false;
	const seen = { 200: 0, 503: 0, other: [] };
	// Eight clients hammering health while the database is killed.
	const loops = Array.from({ length: 8 }, async () => {
		while (!stop) {
			const r = await getJSON('/api/health');
			if (r.status === 200) seen[200]++;
			else if (r.status === 503) {
				seen[503]++;
				assert.equal(r.body.database, 'down');
				assert.equal(r.body.status, 'degraded');
			} else seen.other.push(r.status);
		}
	});
	await sleep(300);
	execFileSync(`${STATE}/pg-stop`, { stdio: 'ignore' });
	await sleep(1500);
	const down = await getJSON('/api/health');
	assert.equal(down.status, 503, 'health must say 503 while the database is down');
	execFileSync(`${STATE}/pg-start`, { stdio: 'ignore' });
	// Every thread's connection must come back without a restart.
	let okRun = 0;
	for (let i = 0; i < 100 && okRun < 64; i++) {
		const r = await getJSON('/api/health');
		okRun = r.status === 200 ? okRun + 1 : 0;
		if (r.status !== 200) await sleep(100);
	}
	stop = true;
	await Promise.all(loops);
	assert.equal(okRun, 64, 'health did not recover after PostgreSQL restarted');
	assert.ok(seen[503] > 0, 'no 503 seen while the database was down');
	assert.deepEqual(seen.other, [], 'statuses other than 200/503 (a crash?)');
});

test('relais-migrate is idempotent and records every file', () => {
	const out = execFileSync(`${BUILD}/bin/relais-migrate`, ['-d', `${process.env.RELAIS_TEST_TOP}/sql`],
	    { encoding: 'utf8' });
	assert.match(out, /\(0 applied now\)/);
	assert.equal(psql('SELECT min(version) FROM schema_migrations'), '1');
	assert.match(psql('SELECT checksum FROM schema_migrations WHERE version = 1'), /^[0-9a-f]{64}$/);
});

test('a program refuses to start on a database older than it needs', () => {
	psql('DROP DATABASE IF EXISTS relais_empty', 'postgres');
	psql('CREATE DATABASE relais_empty', 'postgres');
	const r = spawnSync(`${BUILD}/cgi-bin/settings`, ['-s', `${STATE}/tmp/refuse.sock`], {
		env: { ...process.env, RELAIS_DATABASE_URL: `host=${process.env.RELAIS_TEST_PGHOST} user=relais dbname=relais_empty` },
		encoding: 'utf8', timeout: 10000,
	});
	assert.equal(r.status, 1);
	assert.match(r.stderr, /schema is version 0, this build needs [1-9][0-9]*: run relais-migrate/);
	psql('DROP DATABASE relais_empty', 'postgres');
});

test('a program refuses a bad RELAIS_SSE_HEARTBEAT_SEC instead of guessing', () => {
	for (const bad of ['abc', '0', '99999']) {
		const r = spawnSync(`${BUILD}/tests/echo/echo`, ['-s', `${STATE}/tmp/refuse-hb.sock`], {
			env: { ...process.env, RELAIS_SSE_HEARTBEAT_SEC: bad },
			encoding: 'utf8', timeout: 10000,
		});
		assert.equal(r.status, 1, `${bad}: ${r.stderr}`);
		assert.match(r.stderr, /RELAIS_SSE_HEARTBEAT_SEC: want 1 to 3600/);
	}
});
