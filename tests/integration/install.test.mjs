// The installed tree (issue 22): `make install DESTDIR=…` of the test
// build puts programs, tools, units, the environment file and the data
// where the configured paths say; systemd-analyze verifies the generated
// units in that root; then the installed relais-migrate builds a fresh
// database and the installed settings program, started the way
// relais@.socket starts it (the listening socket on standard input), with
// the installed relais.conf's environment, answers /api/health through
// an nginx that includes the installed nginx/relais.conf.
import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { uniq } from './lib.mjs';

function need(name) {
	const v = process.env[name];
	if (!v)
		throw new Error(`${name} is not set: run these tests through scripts/test`);
	return v;
}

const BUILD = need('RELAIS_TEST_BUILD');
const TOP = need('RELAIS_TEST_TOP');
const PGHOST = need('RELAIS_TEST_PGHOST');
const UPSTREAM = need('FAKE_OPENAI_BASE_URL');
const ROOT = fs.mkdtempSync(path.join(os.tmpdir(), 'relais-install-'));
const RUN = path.join(ROOT, 'run');	// sockets and nginx's files
const DB = `relais_install_${uniq().replace(/[^a-z0-9]/gi, '_').toLowerCase()}`;
const children = [];
let dirs;

// The build's installation directories, as make expands them.
function installDirs() {
	const mk = path.join(ROOT, 'print.mk');
	const names = ['prefix', 'bindir', 'cgibindir', 'pkgdatadir',
	    'sysconfdir', 'systemdunitdir', 'sysusersdir', 'tmpfilesdir',
	    'mandir'];
	fs.writeFileSync(mk, 'include Makefile\nrl-print:\n' +
	    names.map((n) => `\t@echo '${n}=$(${n})'\n`).join(''));
	const out = execFileSync('make', ['-s', '-C', BUILD, '-f', mk, 'rl-print'],
	    { encoding: 'utf8' });
	return Object.fromEntries(out.trim().split('\n').map((l) => {
		const i = l.indexOf('=');
		return [l.slice(0, i), l.slice(i + 1)];
	}));
}

const inRoot = (p) => path.join(ROOT, p);

function psql(db, sql) {
	return execFileSync('psql', ['-h', PGHOST, '-U', 'relais', '-d', db,
	    '-Atqc', sql], { encoding: 'utf8' }).trim();
}

function waitFor(p, ms) {
	const end = Date.now() + ms;
	return new Promise((ok, fail) => {
		const poll = () => {
			if (fs.existsSync(p))
				return ok();
			if (Date.now() > end)
				return fail(new Error(`${p} did not appear`));
			setTimeout(poll, 50);
		};
		poll();
	});
}

before(() => {
	fs.mkdirSync(RUN, { mode: 0o755 });
	fs.chmodSync(ROOT, 0o755);	// nginx's workers reach the sockets
	execFileSync('make', ['-s', '-C', BUILD, 'install', `DESTDIR=${ROOT}`],
	    { stdio: ['ignore', 'ignore', 'pipe'] });
	dirs = installDirs();
});

after(() => {
	for (const c of children)
		c.kill('SIGTERM');
	try {
		psql('postgres', `DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
	} catch {}
	fs.rmSync(ROOT, { recursive: true, force: true });
});

test('make install: programs, tools, units, environment file, data and man pages in the configured places', () => {
	const programs = fs.readFileSync(path.join(TOP, 'cgi-bin',
	    'Makefile.am'), 'utf8');
	const names = [...programs.matchAll(/^cgibin_PROGRAMS[ +]*= *(.*)$/gm)]
	    .flatMap((m) => m[1].trim().split(/\s+/));
	assert.ok(names.length >= 9, names.join(' '));
	for (const n of names) {
		fs.accessSync(inRoot(path.join(dirs.cgibindir, n)), fs.constants.X_OK);
		assert.ok(fs.existsSync(inRoot(path.join(dirs.mandir, 'man8', `${n}.8`))), `${n}.8`);
	}
	for (const t of ['relais-migrate', 'relais-worker', 'relais-adduser', 'relais-realtime'])
		fs.accessSync(inRoot(path.join(dirs.bindir, t)), fs.constants.X_OK);
	for (const u of ['relais@.service', 'relais@.socket', 'relais-worker.service',
	    'relais-migrate.service', 'relais-realtime.service', 'relais.target'])
		assert.ok(fs.existsSync(inRoot(path.join(dirs.systemdunitdir, u))), u);
	const target = fs.readFileSync(inRoot(path.join(dirs.systemdunitdir, 'relais.target')), 'utf8');
	for (const n of names)
		assert.match(target, new RegExp(`^Wants=relais@${n}\\.socket relais@${n}\\.service$`, 'm'));
	assert.match(target, /^Wants=relais-worker\.service relais-realtime\.service$/m);
	const unit = fs.readFileSync(inRoot(path.join(dirs.systemdunitdir, 'relais@.service')), 'utf8');
	assert.match(unit, new RegExp(`^ExecStart=${dirs.cgibindir}/%i$`, 'm'));
	for (const h of ['ProtectSystem=strict', 'PrivateTmp=yes', 'NoNewPrivileges=yes',
	    'User=relais', 'StandardInput=socket',
	    `EnvironmentFile=${dirs.sysconfdir}/relais/relais.conf`])
		assert.ok(unit.split('\n').includes(h), h);
	assert.match(fs.readFileSync(inRoot(path.join(dirs.sysusersdir, 'relais.conf')), 'utf8'), /^u relais /m);
	assert.match(fs.readFileSync(inRoot(path.join(dirs.tmpfilesdir, 'relais.conf')), 'utf8'), /^d \/var\/lib\/relais /m);
	for (const f of ['sql/0001_init.sql', 'nginx/relais.conf', 'nginx/standalone.conf',
	    'schemas/responses/resp-error.json', 'pages/task-track.html'])
		assert.ok(fs.existsSync(inRoot(path.join(dirs.pkgdatadir, f))), f);
	// The master key is the operator's (or the package's postinst): make
	// install never writes one.
	assert.ok(!fs.existsSync(inRoot(path.join(dirs.sysconfdir, 'relais', 'secret.key'))));
});

test('systemd-analyze verifies every installed unit in the install root', () => {
	// The root needs systemd's own units (sysinit.target …) beside ours.
	const sys = inRoot('usr/lib/systemd/system');
	fs.mkdirSync(sys, { recursive: true });
	execFileSync('cp', ['-a', '-n', '/lib/systemd/system/.', sys]);
	const units = ['relais@settings.service', 'relais@settings.socket',
	    'relais-worker.service', 'relais-migrate.service', 'relais.target'];
	let out;
	try {
		out = execFileSync('systemd-analyze', ['verify', `--root=${ROOT}`,
		    '--man=no', ...units], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
	} catch (e) {
		out = `${e.stdout}${e.stderr}`;
	}
	// Complaints about systemd's own units are not ours; any line
	// naming a relais unit or program is.
	const ours = out.split('\n').filter((l) => /relais/.test(l));
	assert.deepEqual(ours, []);
});

test('installed relais-migrate, relais-adduser and settings program, socket on standard input, installed environment, /api/health through nginx', async () => {
	const share = inRoot(dirs.pkgdatadir);
	// The installed environment file, with what differs in a test:
	// the scratch database, the fake upstream, keys and uploads under
	// the install root, the data files under DESTDIR.
	const env = { PATH: process.env.PATH };
	const conf = fs.readFileSync(inRoot(path.join(dirs.sysconfdir, 'relais', 'relais.conf')), 'utf8');
	for (const l of conf.split('\n')) {
		const m = /^([A-Z_]+)=(.*)$/.exec(l);
		if (m)
			env[m[1]] = m[2];
	}
	assert.equal(env.RELAIS_LOG_LEVEL, 'info');
	assert.match(env.RELAIS_DATABASE_URL, /dbname=relais/);
	Object.assign(env, {
		RELAIS_DATABASE_URL: `host=${PGHOST} user=relais dbname=${DB}`,
		RELAIS_OPENAI_BASE_URL: UPSTREAM,
		RELAIS_SECRET_KEY_FILE: path.join(ROOT, 'secret.key'),
		RELAIS_TMPDIR: path.join(ROOT, 'tmp'),
		RELAIS_SCHEMA_DIR: path.join(share, 'schemas'),
		RELAIS_PAGE_DIR: path.join(share, 'pages'),
	});
	fs.writeFileSync(env.RELAIS_SECRET_KEY_FILE, Buffer.alloc(32, 7), { mode: 0o600 });
	fs.mkdirSync(env.RELAIS_TMPDIR);

	psql('postgres', `CREATE DATABASE ${DB}`);
	execFileSync(inRoot(path.join(dirs.bindir, 'relais-migrate')),
	    ['-d', path.join(share, 'sql')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
	assert.ok(Number(psql(DB, 'SELECT max(version) FROM schema_migrations')) >= 10);

	// The first administrator, with the installed relais-adduser.
	const adduser = inRoot(path.join(dirs.bindir, 'relais-adduser'));
	const id = execFileSync(adduser, ['-e', 'it@example.org', 'premier'],
	    { env, input: 'un mot de passe sûr\n', encoding: 'utf8' }).trim();
	assert.match(id, /^[0-9]+$/);
	assert.equal(psql(DB, `SELECT role || ' ' || email || ' ' || (password_hash LIKE '$argon2id$%') FROM users WHERE id = ${id}`),
	    'admin it@example.org true');
	const again = (args, input) => {
		try {
			execFileSync(adduser, args, { env, input, stdio: ['pipe', 'pipe', 'pipe'] });
			return { status: 0 };
		} catch (e) {
			return { status: e.status, stderr: String(e.stderr) };
		}
	};
	let x = again(['premier'], 'autre mot de passe\n');
	assert.equal(x.status, 1);
	assert.match(x.stderr, /already in use/);
	x = again(['-r', 'roi', 'second'], 'autre mot de passe\n');
	assert.equal(x.status, 2);
	assert.match(x.stderr, /unknown role "roi"/);
	x = again(['second'], '');
	assert.equal(x.status, 2);
	assert.match(x.stderr, /no password/);
	assert.equal(psql(DB, 'SELECT count(*) FROM users'), '1');

	// relais@.socket: systemd binds the socket and hands it to the program
	// as standard input (StandardInput=socket); python does the same here.
	const sock = path.join(RUN, 'settings.sock');
	const launcher = 'import os, socket, sys\n' +
	    's = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)\n' +
	    's.bind(sys.argv[1]); os.chmod(sys.argv[1], 0o666); s.listen(128)\n' +
	    'os.dup2(s.fileno(), 0); os.execv(sys.argv[2], sys.argv[2:])\n';
	const prog = spawn('python3', ['-c', launcher, sock,
	    inRoot(path.join(dirs.cgibindir, 'settings'))], { env, stdio: ['ignore', 'ignore', 'pipe'] });
	children.push(prog);
	let log = '';
	prog.stderr.on('data', (d) => { log += d; });
	await waitFor(sock, 10000);

	// nginx with the installed relais.conf, its socket directory the one
	// systemd would make (/run/relais) moved under the root.
	const nconf = fs.readFileSync(path.join(share, 'nginx', 'relais.conf'), 'utf8')
	    .replaceAll('/run/relais/', `${RUN}/`);
	fs.writeFileSync(path.join(RUN, 'relais.conf'), nconf);
	const port = 20000 + Math.floor(Math.random() * 40000);
	for (const d of ['body', 'fastcgi', 'proxy', 'uwsgi', 'scgi'])
		fs.mkdirSync(path.join(RUN, d), { mode: 0o777 });
	const user = process.getuid() === 0 ? 'user www-data;\n' : '';
	fs.writeFileSync(path.join(RUN, 'nginx.conf'), `${user}daemon off;
pid ${RUN}/nginx.pid;
error_log ${RUN}/nginx-error.log warn;
events { worker_connections 64; }
http {
	access_log off;
	client_body_temp_path ${RUN}/body;
	fastcgi_temp_path ${RUN}/fastcgi;
	proxy_temp_path ${RUN}/proxy;
	uwsgi_temp_path ${RUN}/uwsgi;
	scgi_temp_path ${RUN}/scgi;
	server {
		listen 127.0.0.1:${port};
		include ${RUN}/relais.conf;
		include ${share}/nginx/standalone.conf;
	}
}
`);
	const nginx = spawn('/usr/sbin/nginx', ['-p', RUN, '-c', path.join(RUN, 'nginx.conf'),
	    '-e', path.join(RUN, 'nginx-error.log')], { stdio: 'ignore' });
	children.push(nginx);

	let r, body;
	for (let i = 0; i < 100; i++) {
		try {
			r = await fetch(`http://127.0.0.1:${port}/api/health`);
			body = await r.json();
			break;
		} catch {
			await new Promise((ok) => setTimeout(ok, 100));
		}
	}
	assert.ok(r, `nginx did not answer: ${fs.existsSync(path.join(RUN, 'nginx-error.log')) ?
	    fs.readFileSync(path.join(RUN, 'nginx-error.log'), 'utf8') : ''}`);
	assert.equal(r.status, 200, JSON.stringify(body) + log);
	assert.equal(body.status, 'ok', JSON.stringify(body));
	assert.equal(body.database, 'ok');
	// It serves the socket it was handed on standard input (python
	// exec'd it: same pid), and made none of its own.
	assert.match(fs.readlinkSync(`/proc/${prog.pid}/fd/0`), /^socket:/);
	assert.deepEqual(fs.readdirSync(RUN).filter((f) => f.endsWith('.sock')), ['settings.sock']);
	assert.match(log, /"status":200/);
	// A path no route claims is standalone.conf's 404.
	const miss = await fetch(`http://127.0.0.1:${port}/no/such/path`);
	assert.equal(miss.status, 404);
});
