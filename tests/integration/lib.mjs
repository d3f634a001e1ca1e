// Shared helpers for the integration tests.  scripts/test starts the stack
// and exports where it is; a test run without it fails loudly instead of
// skipping.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import { execFileSync } from 'node:child_process';

function need(name) {
	const v = process.env[name];
	if (!v)
		throw new Error(`${name} is not set: run these tests through scripts/test`);
	return v;
}

export const BASE = need('RELAIS_TEST_BASE');
export const STATE = need('RELAIS_TEST_STATE');
export const BUILD = need('RELAIS_TEST_BUILD');
export const TOP = need('RELAIS_TEST_TOP');
export const PGHOST = need('RELAIS_TEST_PGHOST');

// Every JSON answer a test receives from the stack has been validated by the
// program itself against its route's response schema (RELAIS_CHECK_RESPONSES,
// lib/schemas/responses/routes.json) and says so in X-Relais-Response-Check.
// Anything but "valid" fails the request that got it, whichever helper or
// plain fetch made it: no route's JSON goes unchecked.
export const CHECK_RESPONSES = process.env.RELAIS_CHECK_RESPONSES === '1';

export function checkResponse(method, url, status, headers) {
	if (!CHECK_RESPONSES || !String(url).startsWith(BASE))
		return;
	const get = (n) => typeof headers.get === 'function' ? headers.get(n) : headers[n];
	const ctype = get('content-type') || '';
	if (!ctype.startsWith('application/json'))
		return;
	const check = get('x-relais-response-check');
	if (check !== 'valid')
		throw new Error(`${method} ${String(url).slice(BASE.length)} -> ${status}: ` +
		    `answer not valid against its response schema (${check ?? 'no check header'})`);
}

const plainFetch = globalThis.fetch;
globalThis.fetch = async (input, init = {}) => {
	const r = await plainFetch(input, init);
	const url = typeof input === 'string' ? input : input.url ?? String(input);
	checkResponse(init.method ?? 'GET', url, r.status, r.headers);
	return r;
};

export async function getJSON(path, opts = {}) {
	const r = await fetch(BASE + path, opts);
	const text = await r.text();
	let body = null;
	try { body = JSON.parse(text); } catch { body = text; }
	return { status: r.status, headers: r.headers, body };
}

export function postJSON(path, value, headers = {}) {
	return getJSON(path, {
		method: 'POST',
		headers: { 'Content-Type': 'application/json', ...headers },
		body: typeof value === 'string' ? value : JSON.stringify(value),
	});
}

// Raw request with full control over headers and body (fetch refuses some).
export function raw(method, path, headers, body) {
	return new Promise((resolve, reject) => {
		const u = new URL(BASE + path);
		const req = http.request({ host: u.hostname, port: u.port,
		    path: u.pathname + u.search, method, headers }, (res) => {
			const chunks = [];
			res.on('data', (c) => chunks.push(c));
			res.on('end', () => {
				const text = Buffer.concat(chunks).toString();
				let json = null;
				try { json = JSON.parse(text); } catch { /* not JSON */ }
				try {
					checkResponse(method, BASE + path, res.statusCode, res.headers);
				} catch (e) {
					reject(e);
					return;
				}
				resolve({ status: res.statusCode, headers: res.headers, text, json });
			});
		});
		req.on('error', reject);
		if (body !== undefined)
			req.write(body);
		req.end();
	});
}

// Parse an SSE byte stream into frames {event, id, data, comment}.
export function parseSSE(text) {
	const frames = [];
	for (const block of text.split('\n\n')) {
		if (block === '')
			continue;
		const f = { event: null, id: null, data: [], comments: [] };
		for (const line of block.split('\n')) {
			if (line.startsWith(':')) f.comments.push(line.slice(1).trim());
			else if (line.startsWith('event: ')) f.event = line.slice(7);
			else if (line.startsWith('id: ')) f.id = line.slice(4);
			else if (line.startsWith('data: ')) f.data.push(line.slice(6));
		}
		f.data = f.data.join('\n');
		frames.push(f);
	}
	return frames;
}

export function psql(sql, db = 'relais') {
	return execFileSync('psql', ['-h', PGHOST, '-U', 'relais', '-d', db,
	    '-Atqc', sql], { encoding: 'utf8' }).trim();
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// The password of every user the tests create.
export const PASSWORD = 'correct horse';

// A short random hex tag, for names that must not collide between runs.
export const uniq = () => crypto.randomBytes(4).toString('hex');

// A value as a quoted SQL string literal.
export const q = (s) => `'${String(s).replace(/'/g, "''")}'`;

// The states a task ends in.
export const FINAL = ['SUCCESS', 'FAILURE', 'REVOKED'];

// The Authorization header for a bearer token.
export const auth = (t) => ({ Authorization: `Bearer ${t}` });

// Log in through /auth/token; the access token (any answer but 200 fails).
export async function login(username, password) {
	const r = await postJSON('/auth/token', { username, password });
	assert.equal(r.status, 200, JSON.stringify(r.body));
	return r.body.access_token;
}

// The demo admin's token, logged in once per test file.
let adminToken;
export async function admin() {
	if (adminToken === undefined)
		adminToken = await login('admin@demo.relais', 'relais-demo');
	return adminToken;
}

// The demo programme ("Technologie du génie électrique") id.
export const demoProgramme = () => psql("SELECT id FROM programmes WHERE nom LIKE 'Technologie du génie électrique%' ORDER BY id LIMIT 1");

// A fresh user named `${prefix}-<uniq>` with `role`, `credits` dollars (a
// string; '0.00' adds none) and, when member, of the demo programme, made
// through /manage_users and /edit_user/<id>/credits; {id, token}.
export async function newUser({ prefix, role = 'professeur', credits = '5.00', member = false } = {}) {
	const name = `${prefix}-${uniq()}`;
	const a = await admin();
	let r = await postJSON('/manage_users', { username: name, password: PASSWORD, role }, auth(a));
	assert.equal(r.status, 201, JSON.stringify(r.body));
	const id = r.body.id;
	if (credits !== '0.00') {
		r = await postJSON(`/edit_user/${id}/credits`, { amount: credits, operation: 'add' }, auth(a));
		assert.equal(r.status, 200, JSON.stringify(r.body));
	}
	if (member)
		psql(`INSERT INTO user_programme (user_id, programme_id) VALUES (${id}, ${demoProgramme()})`);
	return { id, token: await login(name, PASSWORD) };
}

// The keeper's sweep of holds nobody will close (rl_credits_sweep), run
// once now by tests/money/money-stress: {err, closed}.
export function sweep() {
	return JSON.parse(execFileSync(`${BUILD}/tests/money/money-stress`, ['sweep'], {
		encoding: 'utf8', timeout: 60000,
		env: { ...process.env, RELAIS_DATABASE_URL: `host=${PGHOST} port=5432 user=relais dbname=relais`,
		    RELAIS_SECRET_KEY_FILE: `${STATE}/secret.key` } }));
}

// The fake upstream's answer to a prompt sent to `model`.
export const sentence = (model) => `Bonjour! Ceci est une réponse simulée de ${model}.`;

// Call fn (which may be async) every `every` ms until it returns something
// truthy; that value (fails after `ms` ms).
export async function until(what, fn, ms = 15000, every = 50) {
	let v;
	for (const end = Date.now() + ms; Date.now() < end; await sleep(every))
		if ((v = await fn()))
			return v;
	assert.fail(`${what}: not after ${ms} ms`);
}

// A task's row from the tasks table as an object: the given columns, or
// the whole row.
export const taskRow = (id, columns) => JSON.parse(psql(columns === undefined
    ? `SELECT row_to_json(t) FROM tasks t WHERE id = ${q(id)}`
    : `SELECT json_build_object(${columns.map((c) => `'${c}', ${c}`).join(', ')}) FROM tasks WHERE id = ${q(id)}`));

// Wait (polling the tasks table every `every` ms, at most `ms`) for a task
// to reach a final state; its row (taskRow with `columns`).
export const waitTask = (id, { ms = 15000, every = 50, columns } = {}) => until(`task ${id} finished`, () => {
	const r = taskRow(id, columns);
	return FINAL.includes(r.state) ? r : null;
}, ms, every);

// A recording proxy in front of the fake upstream, as the provider of a
// model made for the test (a loopback provider needs no key): what the
// program really sends upstream.  {bodies, server, model}; `tag` prefixes
// the provider's name and the model's suffix.
export async function recorder(tag) {
	const rec = { bodies: [] };
	rec.server = http.createServer((req, res) => {
		const chunks = [];
		req.on('data', (c) => chunks.push(c));
		req.on('end', () => {
			const body = Buffer.concat(chunks).toString();
			try { rec.bodies.push(JSON.parse(body)); } catch { rec.bodies.push(body); }
			const u = new URL(process.env.FAKE_OPENAI_BASE_URL.replace(/\/v1$/, '') + req.url);
			const up = http.request({ host: u.hostname, port: u.port, path: u.pathname, method: req.method,
			    headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (ur) => {
				res.writeHead(ur.statusCode, ur.headers);
				ur.pipe(res);
			});
			up.on('error', () => res.destroy());
			up.end(body);
		});
	});
	await new Promise((r) => rec.server.listen(0, '127.0.0.1', r));
	const name = `${tag}${uniq()}`;
	rec.model = `gpt-5-${name}`;
	psql(`INSERT INTO providers (name, base_url) VALUES ('${name}', 'http://127.0.0.1:${rec.server.address().port}/v1')`);
	psql(`INSERT INTO openai_models (name, input_price, output_price, provider) VALUES ('${rec.model}', 1, 2, '${name}')`);
	return rec;
}

// A cours of the demo programme with a plan-cadre (two capacités, a
// savoir-faire under the first) and an A25 plan de cours with one row in
// every list, for the plan-de-cours suites (plandecours, browser
// pdc-review).  prefix and nom name the cours; teacher and activity fill
// nom_enseignant and the calendar's activites (NULL when not given).
// {cours, pc, cap1, cap2, sf1, plan, ev}, as numbers.
export function pdcFixture({ prefix = 'PDC', nom = 'Électronique de test', teacher = null, activity = null } = {}) {
	const cours = psql(`INSERT INTO cours (code, nom) VALUES (${q(`${prefix}-${uniq()}`)}, ${q(nom)}) RETURNING id`);
	psql(`INSERT INTO cours_programme (cours_id, programme_id, session) VALUES (${cours}, ${demoProgramme()}, 1)`);
	const pc = psql(`INSERT INTO plan_cadre (cours_id, place_intro, objectif_terminal) VALUES (${cours}, ` +
	    `'Cours de base', 'Analyser des circuits') RETURNING id`);
	const cap1 = psql(`INSERT INTO plan_cadre_capacites (plan_cadre_id, capacite, description_capacite, ` +
	    `ponderation_min, ponderation_max) VALUES (${pc}, 'Analyser des circuits simples', 'Mesures', 40, 60) RETURNING id`);
	const cap2 = psql(`INSERT INTO plan_cadre_capacites (plan_cadre_id, capacite, description_capacite, ` +
	    `ponderation_min, ponderation_max) VALUES (${pc}, 'Concevoir un montage', 'Choix des composants', 40, 60) RETURNING id`);
	const sf1 = psql(`INSERT INTO plan_cadre_capacite_savoirs_faire (capacite_id, texte, cible, seuil_reussite) ` +
	    `VALUES (${cap1}, 'Mesurer une tension', 'Mesure exacte et autonome', 'Mesure avec aide') RETURNING id`);
	const opt = (v) => (v === null ? 'NULL' : q(v));
	const plan = psql(`INSERT INTO plan_de_cours (cours_id, session, presentation_du_cours, materiel, nom_enseignant) ` +
	    `VALUES (${cours}, 'A25', 'Ancienne présentation', 'Multimètre', ${opt(teacher)}) RETURNING id`);
	psql(`INSERT INTO plan_de_cours_calendrier (plan_de_cours_id, semaine, sujet, activites) ` +
	    `VALUES (${plan}, 1, 'Ancien sujet', ${opt(activity)})`);
	psql(`INSERT INTO plan_de_cours_mediagraphie (plan_de_cours_id, reference_bibliographique) VALUES (${plan}, 'Ancien livre')`);
	psql(`INSERT INTO plan_de_cours_disponibilite_enseignant (plan_de_cours_id, jour_semaine, plage_horaire, lieu) ` +
	    `VALUES (${plan}, 'Lundi', '13 h à 15 h', 'B-101')`);
	const ev = psql(`INSERT INTO plan_de_cours_evaluations (plan_de_cours_id, titre_evaluation, semaine) ` +
	    `VALUES (${plan}, 'Ancien examen', 7) RETURNING id`);
	psql(`INSERT INTO plan_de_cours_evaluations_capacites (evaluation_id, capacite_id, ponderation) VALUES (${ev}, ${cap1}, '30 %')`);
	return { cours: Number(cours), pc: Number(pc), cap1: Number(cap1), cap2: Number(cap2), sf1: Number(sf1),
	    plan: Number(plan), ev: Number(ev) };
}

// What a plan de cours holds, without row ids and the modified_* stamps:
// a revert must bring back exactly this.
export function pdcContent(plan) {
	return JSON.parse(psql(`SELECT json_build_object(` +
	    `'plan', (SELECT to_jsonb(d) - 'modified_at' - 'modified_by_id' FROM plan_de_cours d WHERE d.id = ${plan}), ` +
	    `'cal', (SELECT json_agg(json_build_object('semaine', k.semaine, 'sujet', k.sujet, 'activites', k.activites, ` +
	    `'travaux_hors_classe', k.travaux_hors_classe, 'evaluations', k.evaluations) ORDER BY k.id) ` +
	    `FROM plan_de_cours_calendrier k WHERE k.plan_de_cours_id = ${plan}), ` +
	    `'med', (SELECT json_agg(m.reference_bibliographique ORDER BY m.id) FROM plan_de_cours_mediagraphie m ` +
	    `WHERE m.plan_de_cours_id = ${plan}), ` +
	    `'dis', (SELECT json_agg(json_build_array(a.jour_semaine, a.plage_horaire, a.lieu) ORDER BY a.id) ` +
	    `FROM plan_de_cours_disponibilite_enseignant a WHERE a.plan_de_cours_id = ${plan}), ` +
	    `'ev', (SELECT json_agg(json_build_object('t', v.titre_evaluation, 'd', v.description, 's', v.semaine, ` +
	    `'c', (SELECT json_agg(json_build_array(c.capacite_id, c.ponderation) ORDER BY c.id) ` +
	    `FROM plan_de_cours_evaluations_capacites c WHERE c.evaluation_id = v.id)) ORDER BY v.id) ` +
	    `FROM plan_de_cours_evaluations v WHERE v.plan_de_cours_id = ${plan}))`));
}
