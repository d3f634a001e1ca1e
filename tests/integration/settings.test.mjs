// Settings pages, model prices, users, keys, credits, usage and the audit
// log: through nginx against the settings program and the demo data.
import test from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import { STATE, PGHOST, getJSON, postJSON, psql } from './lib.mjs';

const PASSWORD = 'relais-demo';
const tokens = {};

async function token(who) {
	if (tokens[who] === undefined) {
		const r = await postJSON('/auth/token',
		    { username: `${who}@demo.relais`, password: PASSWORD });
		assert.equal(r.status, 200, JSON.stringify(r.body));
		tokens[who] = r.body.access_token;
	}
	return tokens[who];
}

async function get(path, who = 'admin') {
	return getJSON(path, { headers: { Authorization: `Bearer ${await token(who)}` } });
}

async function post(path, body, who = 'admin') {
	return postJSON(path, body, { Authorization: `Bearer ${await token(who)}` });
}

// The same fields as EDxo's pages send them: a urlencoded form.
async function postForm(path, fields, who = 'admin') {
	return getJSON(path, { method: 'POST', headers: {
	    'Content-Type': 'application/x-www-form-urlencoded',
	    Authorization: `Bearer ${await token(who)}` },
	    body: new URLSearchParams(fields).toString() });
}

// A refusal of the handler's own: the admin page shows it beside the field.
function bad(r, field, status = 400) {
	assert.equal(r.status, status, JSON.stringify(r.body));
	assert.equal(r.body.error.field, field, JSON.stringify(r.body));
}

// A refusal of the route's request schema (lib/schemas/requests/settings.*):
// FastAPI's 422, the first error at loc (from the body, or the query).
function invalid(r, loc, type) {
	assert.equal(r.status, 422, JSON.stringify(r.body));
	assert.ok(Array.isArray(r.body.detail) && r.body.detail.length >= 1, JSON.stringify(r.body));
	assert.deepEqual(r.body.detail[0].loc, loc, JSON.stringify(r.body));
	if (type !== undefined)
		assert.equal(r.body.detail[0].type, type, JSON.stringify(r.body));
}

function audits(where) {
	return Number(psql(`SELECT count(*) FROM audit_log WHERE ${where}`));
}

const uniq = () => crypto.randomBytes(4).toString('hex');

test.before(() => psql('DELETE FROM login_attempts'));

// Each singleton page: a field to change and a valid value for it.
const PAGES = [
	['/settings/chat_models', ['chat_model', 'tool_model', 'reasoning_effort', 'verbosity'],
	    { verbosity: 'high' }],
	['/settings/generation', ['chat_model', 'tool_model', 'reasoning_effort', 'verbosity'],
	    { reasoning_effort: 'low' }],
	['/settings/analyse_prompt', ['prompt_template', 'ai_model'],
	    { prompt_template: 'Compare {plan_cours_json} et {plan_cadre_json}.' }],
	['/settings/prompt-settings', ['prompt_template', 'level1_description',
	    'level2_description', 'level3_description', 'level4_description',
	    'level5_description', 'level6_description'],
	    { level3_description: 'Niveau 3 — modifié' }],
	['/settings/ocr_prompts', ['extraction_prompt', 'model_extraction',
	    'segmentation_prompt', 'model_section'],
	    { segmentation_prompt: 'Découpe le devis.', model_section: 'gpt-5-mini' }],
	['/settings/plan-cadre/import_prompt', ['prompt_template', 'ai_model'],
	    { prompt_template: 'Importe :\n{doc_text}', ai_model: 'gpt-4.1' }],
];

test('every settings page: GET the seeded values, POST saves, GET sees it, audited', async () => {
	for (const [path, keys, change] of PAGES) {
		const before = await get(path);
		assert.equal(before.status, 200, path);
		assert.deepEqual(Object.keys(before.body).sort(), [...keys].sort(), path);
		const r = await post(path, change);
		assert.equal(r.status, 200, `${path} ${JSON.stringify(r.body)}`);
		assert.deepEqual(r.body, { ...before.body, ...change }, path);
		const after = await get(path);
		assert.deepEqual(after.body, r.body, path);
		for (const [k, v] of Object.entries(change))
			assert.ok(audits(`field = '${k}' AND new_value = '${JSON.stringify(v).replace(/'/g, "''")}'::jsonb`) >= 1,
			    `${path} ${k} audited`);
		// Restore, so other suites see the seeded values.
		const restore = {};
		for (const k of Object.keys(change))
			restore[k] = before.body[k];
		assert.equal((await post(path, restore)).status, 200, path);
		assert.deepEqual((await get(path)).body, before.body, path);
	}
	// The seeds of 0001 are the EDxo ones.
	const chat = await get('/settings/chat_models');
	assert.equal(chat.body.chat_model, 'gpt-4.1-mini');
	const imp = await get('/settings/plan-cadre/import_prompt');
	assert.match(imp.body.prompt_template, /\{doc_text\}/);
	assert.equal(imp.body.ai_model, 'gpt-5');
});

test('a missing singleton reads as its defaults; chat_models and generation share a row', async () => {
	psql('DELETE FROM chat_model_config');
	let r = await get('/settings/generation');
	assert.equal(r.status, 200);
	assert.deepEqual(r.body, { chat_model: 'gpt-4.1-mini', tool_model: 'gpt-4.1-mini',
	    reasoning_effort: null, verbosity: null });
	// tool_model follows chat_model when not given (EDxo forces them equal).
	r = await post('/settings/chat_models', { chat_model: 'gpt-5-mini', reasoning_effort: 'minimal' });
	assert.equal(r.status, 200, JSON.stringify(r.body));
	assert.equal(r.body.tool_model, 'gpt-5-mini');
	r = await get('/settings/generation');
	assert.equal(r.body.chat_model, 'gpt-5-mini');
	assert.equal(r.body.reasoning_effort, 'minimal');
	r = await post('/settings/generation', { chat_model: 'gpt-4.1-mini', reasoning_effort: null });
	assert.equal(r.status, 200);
	assert.deepEqual(r.body, { chat_model: 'gpt-4.1-mini', tool_model: 'gpt-4.1-mini',
	    reasoning_effort: null, verbosity: null });
	// An empty object changes nothing and answers the values.
	r = await post('/settings/generation', {});
	assert.equal(r.status, 200);
	assert.equal(r.body.chat_model, 'gpt-4.1-mini');
});

test('validation errors name the field and change nothing', async () => {
	const before = await get('/settings/chat_models');
	// Types, enumerations and unknown fields: the request schema's 422.
	invalid(await post('/settings/chat_models', { colour: 'blue' }), ['body', 'colour'],
	    'extra_forbidden');
	invalid(await post('/settings/chat_models', { reasoning_effort: 'extreme' }),
	    ['body', 'reasoning_effort'], 'literal_error');
	invalid(await post('/settings/chat_models', { verbosity: 3 }), ['body', 'verbosity']);
	invalid(await post('/settings/chat_models', ['verbosity']), ['body'], 'model_type');
	// What a person types and the model table: the handler's 400.
	bad(await post('/settings/chat_models', { chat_model: 'gpt-99' }), 'chat_model');
	bad(await post('/settings/chat_models', { verbosity: 'low', chat_model: 'nope' }), 'chat_model');
	assert.deepEqual((await get('/settings/chat_models')).body, before.body);
	bad(await post('/settings/plan-cadre/import_prompt', { prompt_template: 'Pas de document' }),
	    'prompt_template');
	bad(await post('/settings/analyse_prompt', { prompt_template: '' }), 'prompt_template');
	invalid(await post('/settings/analyse_prompt', { prompt_template: null }),
	    ['body', 'prompt_template'], 'string_type');
	bad(await post('/settings/analyse_prompt', { ai_model: 'not-a-model' }), 'ai_model');
	invalid(await post('/settings/prompt-settings', { level7_description: 'x' }),
	    ['body', 'level7_description'], 'extra_forbidden');
	bad(await post('/settings/ocr_prompts', { model_extraction: 'x' }), 'model_extraction');
	const nj = await post('/settings/ocr_prompts', 'not json');
	assert.equal(nj.status, 422, JSON.stringify(nj.body));
	assert.deepEqual([nj.body.detail[0].type, nj.body.detail[0].loc[0]], ['json_invalid', 'body']);
	// The same refusal whichever way the field came.
	invalid(await postForm('/settings/chat_models', { reasoning_effort: 'extreme' }),
	    ['body', 'reasoning_effort'], 'literal_error');
	assert.deepEqual((await get('/settings/chat_models')).body, before.body);
});

test('EDxo\'s urlencoded forms: every settings write takes one, with the JSON answer', async () => {
	// The singleton pages: the same change as a form and as JSON.
	for (const [path, , change] of PAGES) {
		const before = await get(path);
		// A page's csrf_token and submit button are not fields: dropped.
		const r = await postForm(path, { ...change, csrf_token: 'x', submit: 'Enregistrer' });
		assert.equal(r.status, 200, `${path} ${JSON.stringify(r.body)}`);
		assert.deepEqual(r.body, { ...before.body, ...change }, path);
		const restore = {};
		for (const k of Object.keys(change))
			restore[k] = before.body[k];
		const j = await post(path, change);
		assert.deepEqual(j.body, r.body, `${path}: the JSON answer is the form's`);
		assert.equal((await post(path, restore)).status, 200, path);
	}
	bad(await postForm('/settings/plan-cadre/import_prompt', { prompt_template: 'Pas de document' }),
	    'prompt_template');

	// A model, a user, an edit and credits.
	const name = `form-model-${uniq()}`;
	let r = await postForm('/settings/openai_models', { name, input_price: '0.25',
	    output_price: '2' });
	assert.equal(r.status, 201, JSON.stringify(r.body));
	assert.deepEqual(r.body, { id: r.body.id, name, input_price: '0.25',
	    cached_input_price: null, output_price: '2' });
	assert.equal((await post(`/settings/openai_models/delete/${r.body.id}`, {})).status, 200);
	invalid(await postForm('/settings/openai_models', { name: `m-${uniq()}`, input_price: '1' }),
	    ['body', 'output_price'], 'missing');

	const user = `form-user-${uniq()}`;
	r = await postForm('/manage_users', { username: user, password: 'correct horse',
	    role: 'professeur', csrf_token: 'x' });
	assert.equal(r.status, 201, JSON.stringify(r.body));
	assert.equal(r.body.role, 'professeur');
	const id = r.body.id;
	r = await postForm(`/edit_user/${id}`, { nom: 'Côté', prenom: 'Élise' });
	assert.equal(r.status, 200, JSON.stringify(r.body));
	assert.deepEqual([r.body.nom, r.body.prenom], ['Côté', 'Élise']);
	invalid(await postForm(`/edit_user/${id}`, { role: 'roi' }), ['body', 'role'], 'literal_error');
	r = await postForm(`/edit_user/${id}/credits`, { amount: '1.50', operation: 'add' });
	assert.equal(r.status, 200, JSON.stringify(r.body));
	assert.equal(r.body.credits, '1.50');
	const j = await post(`/edit_user/${id}/credits`, { amount: '1.50', operation: 'remove' });
	assert.equal(j.body.credits, '0.00');
	bad(await postForm(`/edit_user/${id}/credits`, { amount: 'cinq', operation: 'add' }), 'amount');
	invalid(await postForm(`/edit_user/${id}/credits`, { amount: '1' }), ['body', 'operation'],
	    'missing');
});

test('plan-de-cours prompts: list, update one, 404, required template', async () => {
	let r = await get('/settings/plan-de-cours/prompts');
	assert.equal(r.status, 200);
	assert.ok(r.body.prompts.length >= 8);
	const p = r.body.prompts.find((x) => x.field_name === 'calendrier');
	assert.deepEqual(Object.keys(p).sort(),
	    ['ai_model', 'context_variables', 'field_name', 'id', 'prompt_template']);
	assert.deepEqual(p.context_variables, ['session', 'sections']);
	r = await post(`/settings/plan-de-cours/prompts/${p.id}`,
	    { prompt_template: 'Calendrier {session}', ai_model: 'gpt-5-mini' });
	assert.equal(r.status, 200, JSON.stringify(r.body));
	assert.deepEqual(r.body, { ...p, prompt_template: 'Calendrier {session}', ai_model: 'gpt-5-mini' });
	invalid(await post(`/settings/plan-de-cours/prompts/${p.id}`, { ai_model: 'gpt-5' }),
	    ['body', 'prompt_template'], 'missing');
	bad(await post(`/settings/plan-de-cours/prompts/${p.id}`, { prompt_template: '' }),
	    'prompt_template');
	r = await post('/settings/plan-de-cours/prompts/999999', { prompt_template: 'x' });
	assert.equal(r.status, 404);
	r = await post(`/settings/plan-de-cours/prompts/${p.id}`,
	    { prompt_template: p.prompt_template, ai_model: p.ai_model });
	assert.equal(r.status, 200);
	assert.equal(audits(`table_name = 'plan_de_cours_prompt_settings' AND row_id = '${p.id}'`), 4);
});

test('plan_cadre sections: 21 in order, update some, unknown section is 400', async () => {
	let r = await get('/settings/plan_cadre', 'coordo');
	assert.equal(r.status, 200);
	assert.equal(r.body.sections.length, 21);
	assert.equal(r.body.sections[0].section, 'Intro et place du cours');
	const s = r.body.sections[1];
	r = await post('/settings/plan_cadre', { sections: [
	    { section: s.section, use_ai: false, text_content: 'Texte fixe {{ cours.nom }}' },
	    { section: 'Savoir-être', use_ai: true }] }, 'coordo');
	assert.equal(r.status, 200, JSON.stringify(r.body));
	assert.deepEqual(r.body.sections[1], { section: s.section, use_ai: false,
	    text_content: 'Texte fixe {{ cours.nom }}' });
	// All or nothing: one bad section and nothing is saved.
	bad(await post('/settings/plan_cadre', { sections: [
	    { section: s.section, use_ai: true }, { section: 'Pas une section' }] }),
	    'sections[1].section');
	invalid(await post('/settings/plan_cadre', { sections: [{ section: s.section, use_ai: 'oui' }] }),
	    ['body', 'sections', 0, 'use_ai'], 'bool_parsing');
	invalid(await post('/settings/plan_cadre', { sections: [{ section: s.section, colour: 1 }] }),
	    ['body', 'sections', 0, 'colour'], 'extra_forbidden');
	invalid(await post('/settings/plan_cadre', { sections: [{ use_ai: true }] }),
	    ['body', 'sections', 0, 'section'], 'missing');
	r = await post('/settings/plan_cadre', { section: s.section });
	assert.equal(r.status, 422, JSON.stringify(r.body));
	assert.ok(r.body.detail.some((d) => d.loc.join('.') === 'body.sections' && d.type === 'missing'),
	    JSON.stringify(r.body));
	// A template that could never render: the handler's 400, naming the section.
	bad(await post('/settings/plan_cadre', { sections: [{ section: s.section,
	    text_content: '{% if %}' }] }), 'sections[0].text_content');
	assert.equal((await get('/settings/plan_cadre')).body.sections[1].use_ai, false);
	r = await post('/settings/plan_cadre', { sections: [s] });
	assert.equal(r.status, 200);
	assert.deepEqual(r.body.sections[1], s);
	assert.ok(audits("table_name = 'global_generation_settings' AND field = 'text_content'") >= 2);
});

const ADMIN_ONLY = [
	['GET', '/settings/chat_models'], ['POST', '/settings/chat_models'],
	['GET', '/settings/generation'], ['POST', '/settings/generation'],
	['GET', '/settings/analyse_prompt'], ['POST', '/settings/analyse_prompt'],
	['GET', '/settings/plan-de-cours/prompts'], ['POST', '/settings/plan-de-cours/prompts/1'],
	['GET', '/settings/ocr_prompts'], ['POST', '/settings/ocr_prompts'],
	['GET', '/settings/plan-cadre/import_prompt'], ['POST', '/settings/plan-cadre/import_prompt'],
	['GET', '/settings/openai_models'], ['POST', '/settings/openai_models'],
	['POST', '/settings/openai_models/delete/1'], ['GET', '/settings/usage'],
	['GET', '/manage_users'], ['POST', '/manage_users'], ['GET', '/edit_user/1'],
	['POST', '/edit_user/1'], ['POST', '/edit_user/1/credits'],
];
const COORDO_OK = [
	['GET', '/settings/prompt-settings'], ['POST', '/settings/prompt-settings'],
	['GET', '/settings/plan_cadre'], ['POST', '/settings/plan_cadre'],
];

async function call(method, path, who) {
	const headers = who ? { Authorization: `Bearer ${await token(who)}` } : {};
	if (method === 'GET')
		return getJSON(path, { headers });
	return postJSON(path, {}, headers);
}

test('roles: admin pages 403 for coordo, coordo pages open to coordo, professeur 403, anonymous 401', async () => {
	for (const [m, p] of ADMIN_ONLY) {
		assert.equal((await call(m, p, null)).status, 401, `${m} ${p} anonymous`);
		assert.equal((await call(m, p, 'prof')).status, 403, `${m} ${p} prof`);
		assert.equal((await call(m, p, 'coordo')).status, 403, `${m} ${p} coordo`);
	}
	for (const [m, p] of COORDO_OK) {
		assert.equal((await call(m, p, null)).status, 401, `${m} ${p} anonymous`);
		assert.equal((await call(m, p, 'prof')).status, 403, `${m} ${p} prof`);
		const r = await call(m, p, 'coordo');
		// POST {} is valid for the grid page, and 422 (no sections) for plan_cadre.
		assert.ok(r.status === 200 || (p === '/settings/plan_cadre' && r.status === 422),
		    `${m} ${p} coordo: ${r.status}`);
	}
	const r = await post('/settings/prompt-settings', { level2_description: 'Niveau 2 — coordo' }, 'coordo');
	assert.equal(r.status, 200);
	const coordo = psql("SELECT id FROM users WHERE username = 'coordo'");
	assert.equal(audits(`actor_id = ${coordo} AND field = 'level2_description'`), 1);
});

test('openai_models: exact prices, add, duplicate 409, delete, 404', async () => {
	let r = await get('/settings/openai_models');
	assert.equal(r.status, 200);
	const g5 = r.body.models.find((m) => m.name === 'gpt-5');
	assert.deepEqual(g5, { id: g5.id, name: 'gpt-5', input_price: '1.25',
	    cached_input_price: '0.125', output_price: '10' });
	const name = `test-model-${uniq()}`;
	r = await post('/settings/openai_models', { name, input_price: '0.100001',
	    output_price: 0.3, cached_input_price: '0.05' });
	assert.equal(r.status, 201, JSON.stringify(r.body));
	assert.deepEqual(r.body, { id: r.body.id, name, input_price: '0.100001',
	    cached_input_price: '0.05', output_price: '0.3' });
	const id = r.body.id;
	assert.equal(psql(`SELECT input_price FROM openai_models WHERE id = ${id}`), '0.100001');
	bad(await post('/settings/openai_models', { name, input_price: '1', output_price: '1' }),
	    'name', 409);
	bad(await post('/settings/openai_models', { name: 'x y', input_price: '1', output_price: '1' }), 'name');
	bad(await post('/settings/openai_models', { name: `m-${uniq()}`, input_price: '-1', output_price: '1' }),
	    'input_price');
	bad(await post('/settings/openai_models', { name: `m-${uniq()}`, input_price: '1.1234567',
	    output_price: '1' }), 'input_price');
	invalid(await post('/settings/openai_models', { name: `m-${uniq()}`, input_price: '1' }),
	    ['body', 'output_price'], 'missing');
	// Prices are money: taken as they came, never coerced (true is not 1).
	for (const v of [[], true, null, ''])
		bad(await post('/settings/openai_models', { name: `m-${uniq()}`, input_price: v,
		    output_price: '1' }), 'input_price');
	bad(await post('/settings/openai_models', { name: `m-${uniq()}`, input_price: '1', output_price: '1',
	    cached_input_price: '2' }), 'cached_input_price');
	invalid(await post('/settings/openai_models', { name: `m-${uniq()}`, input_price: '1',
	    output_price: '1', family: 'x' }), ['body', 'family'], 'extra_forbidden');
	// A new model is usable in the pages at once.
	r = await post('/settings/analyse_prompt', { ai_model: name });
	assert.equal(r.status, 200);
	r = await post('/settings/analyse_prompt', { ai_model: 'gpt-5' });
	assert.equal(r.status, 200);
	r = await post(`/settings/openai_models/delete/${id}`, {});
	assert.equal(r.status, 200);
	assert.deepEqual(r.body, { success: true });
	r = await post(`/settings/openai_models/delete/${id}`, {});
	assert.equal(r.status, 404);
	assert.ok(!(await get('/settings/openai_models')).body.models.some((m) => m.name === name));
	assert.equal(audits(`table_name = 'openai_models' AND row_id = '${name}'`), 2);
});

test('users: create, duplicate 409, role change, validation', async () => {
	const name = `user-${uniq()}`;
	let r = await post('/manage_users', { username: name, email: `${name}@example.org`,
	    password: 'correct horse', role: 'professeur' });
	assert.equal(r.status, 201, JSON.stringify(r.body));
	assert.deepEqual(r.body, { id: r.body.id, username: name, email: `${name}@example.org`,
	    nom: null, prenom: null, role: 'professeur', credits: '0.00', openai_key: null });
	const id = r.body.id;
	assert.match(psql(`SELECT password_hash FROM users WHERE id = ${id}`), /^\$argon2id\$/);
	bad(await post('/manage_users', { username: name, password: 'correct horse' }), 'username', 409);
	bad(await post('/manage_users', { username: `${name}-2`, email: `${name.toUpperCase()}@EXAMPLE.org`,
	    password: 'correct horse' }), 'email', 409);
	bad(await post('/manage_users', { username: `${name}-3`, password: 'short' }), 'password');
	bad(await post('/manage_users', { username: `${name}-3`, password: '' }), 'password');
	invalid(await post('/manage_users', { username: `${name}-3` }), ['body', 'password'], 'missing');
	invalid(await post('/manage_users', { username: `${name}-3`, password: 'correct horse',
	    role: 'boss' }), ['body', 'role'], 'literal_error');
	invalid(await post('/manage_users', { username: `${name}-3`, password: 'correct horse',
	    admin: true }), ['body', 'admin'], 'extra_forbidden');
	// The new account signs in.
	const t = await postJSON('/auth/token', { username: name, password: 'correct horse' });
	assert.equal(t.status, 200);

	r = await post(`/edit_user/${id}`, { role: 'coordo', nom: 'Tremblay', prenom: 'Anne' });
	assert.equal(r.status, 200, JSON.stringify(r.body));
	assert.equal(r.body.role, 'coordo');
	assert.equal(r.body.nom, 'Tremblay');
	r = await get(`/edit_user/${id}`);
	assert.equal(r.status, 200);
	assert.equal(r.body.role, 'coordo');
	assert.equal(r.body.prenom, 'Anne');
	invalid(await post(`/edit_user/${id}`, { role: 'roi' }), ['body', 'role'], 'literal_error');
	bad(await post(`/edit_user/${id}`, { email: 'nope' }), 'email');
	bad(await post(`/edit_user/${id}`, { email: 'admin@demo.relais' }), 'email', 409);
	invalid(await post(`/edit_user/${id}`, { password_hash: 'x' }), ['body', 'password_hash'],
	    'extra_forbidden');
	assert.equal((await get('/edit_user/999999')).status, 404);
	assert.equal((await post('/edit_user/999999', { role: 'cp' })).status, 404);
	r = await get('/manage_users');
	assert.equal(r.status, 200);
	const listed = r.body.users.find((u) => u.id === id);
	assert.equal(listed.role, 'coordo');
	assert.equal(audits(`table_name = 'users' AND row_id = '${id}' AND field = 'role' ` +
	    `AND old_value = '"professeur"' AND new_value = '"coordo"'`), 1);
	assert.equal(audits(`table_name = 'users' AND row_id = '${id}' AND field IS NULL`), 1);
});

test('OpenAI key: stored sealed, shown masked, never in a body, a log line or a dump', async () => {
	const name = `keyed-${uniq()}`;
	let r = await post('/manage_users', { username: name, password: 'correct horse' });
	assert.equal(r.status, 201);
	const id = r.body.id;
	const key = `sk-proj-${crypto.randomBytes(24).toString('hex')}`;
	const bodies = [];
	r = await post(`/edit_user/${id}`, { openai_key: key });
	bodies.push(JSON.stringify(r.body));
	assert.equal(r.status, 200, JSON.stringify(r.body));
	assert.equal(r.body.openai_key, `sk-…${key.slice(-4)}`);
	r = await get(`/edit_user/${id}`);
	bodies.push(JSON.stringify(r.body));
	assert.equal(r.body.openai_key, `sk-…${key.slice(-4)}`);
	r = await get('/manage_users');
	bodies.push(JSON.stringify(r.body));
	assert.equal(r.body.users.find((u) => u.id === id).openai_key, `sk-…${key.slice(-4)}`);
	bad(await post(`/edit_user/${id}`, { openai_key: 'sk bad key' }), 'openai_key');
	for (const b of bodies)
		assert.ok(!b.includes(key), 'the clear key in a response body');

	// Sealed: nonce (24) + MAC (16) + key, and not the key's bytes.
	assert.equal(psql(`SELECT octet_length(openai_key_enc) FROM users WHERE id = ${id}`),
	    String(40 + key.length));
	assert.equal(psql(`SELECT position(convert_to('${key}', 'UTF8') IN openai_key_enc) ` +
	    `FROM users WHERE id = ${id}`), '0');
	const dump = execFileSync('pg_dump', ['-h', PGHOST, '-U', 'relais', '--data-only', 'relais'],
	    { encoding: 'utf8', maxBuffer: 256 << 20 });
	assert.ok(dump.includes(name), 'the dump has the user');
	assert.ok(!dump.includes(key), 'the clear key in pg_dump');
	assert.ok(!dump.includes(key.slice(8)), 'part of the key in pg_dump');
	for (const f of fs.readdirSync(`${STATE}/log`).filter((x) => x.endsWith('.log')))
		assert.ok(!fs.readFileSync(`${STATE}/log/${f}`, 'utf8').includes(key.slice(8)),
		    `the key in log/${f}`);
	assert.equal(audits(`row_id = '${id}' AND field = 'openai_key' AND old_value IS NULL ` +
	    `AND new_value = '"set"'`), 1);

	// A new key replaces it; "" clears it.
	const key2 = `sk-${crypto.randomBytes(20).toString('hex')}`;
	r = await post(`/edit_user/${id}`, { openai_key: key2 });
	assert.equal(r.body.openai_key, `sk-…${key2.slice(-4)}`);
	r = await post(`/edit_user/${id}`, { openai_key: '' });
	assert.equal(r.status, 200);
	assert.equal(r.body.openai_key, null);
	assert.equal(psql(`SELECT openai_key_enc IS NULL FROM users WHERE id = ${id}`), 't');
	assert.equal(audits(`row_id = '${id}' AND field = 'openai_key' AND old_value = '"set"' ` +
	    `AND new_value = '"cleared"'`), 1);
	r = await post(`/edit_user/${id}`, { openai_key: key });
	r = await post(`/edit_user/${id}`, { openai_key: null });
	assert.equal(r.body.openai_key, null);
	assert.equal(psql(`SELECT count(*) FROM audit_log WHERE old_value::text LIKE '%${key.slice(8)}%' ` +
	    `OR new_value::text LIKE '%${key.slice(8)}%'`), '0');
});

test('credits: exact decimals, ledger rows, no negative balance', async () => {
	const name = `credits-${uniq()}`;
	let r = await post('/manage_users', { username: name, password: 'correct horse' });
	const id = r.body.id;
	r = await post(`/edit_user/${id}/credits`, { amount: '10.00', operation: 'add' });
	assert.equal(r.status, 200, JSON.stringify(r.body));
	assert.equal(r.body.credits, '10.00');
	for (let i = 0; i < 3; i++) {
		r = await post(`/edit_user/${id}/credits`, { amount: '0.10', operation: 'add' });
		assert.equal(r.status, 200);
	}
	assert.equal(r.body.credits, '10.30');
	r = await post(`/edit_user/${id}/credits`, { amount: '0.30', operation: 'remove' });
	assert.equal(r.body.credits, '10.00');
	assert.equal(psql(`SELECT credits FROM users WHERE id = ${id}`), '10.000000');
	r = await post(`/edit_user/${id}/credits`, { amount: 0.1, operation: 'add' });
	assert.equal(r.body.credits, '10.10');
	r = await post(`/edit_user/${id}/credits`, { amount: '10.11', operation: 'remove' });
	assert.equal(r.status, 409);
	assert.match(r.body.error.message, /Solde insuffisant/);
	assert.equal((await get(`/edit_user/${id}`)).body.credits, '10.10');
	r = await post(`/edit_user/${id}/credits`, { amount: '10.10', operation: 'remove' });
	assert.equal(r.body.credits, '0.00');
	bad(await post(`/edit_user/${id}/credits`, { amount: '0.001', operation: 'add' }), 'amount');
	bad(await post(`/edit_user/${id}/credits`, { amount: '-5', operation: 'add' }), 'amount');
	bad(await post(`/edit_user/${id}/credits`, { amount: 'cinq', operation: 'add' }), 'amount');
	bad(await post(`/edit_user/${id}/credits`, { amount: true, operation: 'add' }), 'amount');
	bad(await post(`/edit_user/${id}/credits`, { amount: null, operation: 'add' }), 'amount');
	invalid(await post(`/edit_user/${id}/credits`, { amount: '5', operation: 'steal' }),
	    ['body', 'operation'], 'literal_error');
	invalid(await post(`/edit_user/${id}/credits`, { amount: '5', operation: 'add', note: 'x' }),
	    ['body', 'note'], 'extra_forbidden');
	assert.equal((await post('/edit_user/999999/credits', { amount: '1', operation: 'add' })).status, 404);
	// One ledger row per change, replayable: deltas sum to the balance.
	assert.equal(psql(`SELECT count(*) || ' ' || sum(delta) || ' ' || ` +
	    `bool_and(kind IN ('admin_credit', 'admin_debit')) FROM usage_ledger WHERE user_id = ${id}`),
	    '7 0.000000 true');
	assert.equal(psql(`SELECT string_agg(balance_after::text, ',' ORDER BY id) FROM usage_ledger ` +
	    `WHERE user_id = ${id}`),
	    '10.000000,10.100000,10.200000,10.300000,10.000000,10.100000,0.000000');
	assert.equal(audits(`table_name = 'users' AND row_id = '${id}' AND field = 'credits'`), 7);
	assert.equal(psql(`SELECT old_value::text || ' ' || new_value::text FROM audit_log WHERE row_id = '${id}' ` +
	    `AND field = 'credits' ORDER BY id LIMIT 1`), '"0.000000" "10.000000"');
});

test('usage: totals equal the ledger sums', async () => {
	const name = `usage-${uniq()}`;
	let r = await post('/manage_users', { username: name, password: 'correct horse' });
	const id = r.body.id;
	const model = `usage-model-${uniq()}`;
	const feature = `usage-feature-${uniq()}`;
	psql(`INSERT INTO usage_ledger (user_id, kind, model, input_tokens, output_tokens, cost, delta, ` +
	    `balance_after, route, created_at) VALUES ` +
	    `(${id}, 'openai_call', '${model}', 1000, 200, 0.000123, 0, 0, '${feature}', now()), ` +
	    `(${id}, 'openai_call', '${model}', 3000, 50, 0.010001, 0, 0, '${feature}', now() - interval '2 days'), ` +
	    `(${id}, 'openai_call', '${model}', 5, 5, 1, 0, 0, '${feature}', now() - interval '40 days')`);
	r = await get('/settings/usage');
	assert.equal(r.status, 200, JSON.stringify(r.body));
	assert.deepEqual(r.body.by_user.find((u) => u.user_id === id),
	    { user_id: id, username: name, calls: 2, cost: '0.010124' });
	assert.deepEqual(r.body.by_model.find((m) => m.model === model),
	    { model, calls: 2, input_tokens: 4000, output_tokens: 250, cost: '0.010124' });
	assert.deepEqual(r.body.by_feature.find((f) => f.feature === feature),
	    { feature, calls: 2, cost: '0.010124' });
	const [calls, cost] = psql("SELECT count(*) || ' ' || coalesce(sum(cost), 0)::numeric(20,6) " +
	    "FROM usage_ledger WHERE kind = 'openai_call' AND created_at > now() - interval '30 days'").split(' ');
	assert.deepEqual(r.body.total, { calls: Number(calls), cost });
	r = await get('/settings/usage?days=60');
	assert.deepEqual(r.body.by_user.find((u) => u.user_id === id).cost, '1.010124');
	r = await get('/settings/usage?days=1');
	assert.equal(r.body.by_model.find((m) => m.model === model).calls, 1);
	invalid(await get('/settings/usage?days=zero'), ['query', 'days'], 'int_parsing');
	invalid(await get('/settings/usage?days=0'), ['query', 'days'], 'greater_than_equal');
	invalid(await get('/settings/usage?days=36501'), ['query', 'days'], 'less_than_equal');
	r = await get('/settings/usage?days=');
	assert.equal(r.body.days, 30, 'an empty value is not given: the default');
});

test('a cookie session needs the CSRF token on settings writes', async () => {
	const login = await fetch(`${process.env.RELAIS_TEST_BASE}/login`, { method: 'POST',
	    headers: { 'Content-Type': 'application/json' },
	    body: JSON.stringify({ username: 'admin@demo.relais', password: PASSWORD }) });
	assert.equal(login.status, 200);
	const { csrf_token: csrf } = await login.json();
	const cookie = login.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
	let r = await postJSON('/settings/chat_models', { verbosity: 'low' }, { Cookie: cookie });
	assert.equal(r.status, 403);
	assert.equal(r.body.error.code, 'csrf_failed');
	r = await postJSON('/settings/chat_models', { verbosity: null },
	    { Cookie: cookie, 'X-CSRFToken': csrf });
	assert.equal(r.status, 200, JSON.stringify(r.body));
});
