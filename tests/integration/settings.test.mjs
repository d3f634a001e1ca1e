// Settings pages, model prices, users, keys, credits, usage and the audit
// log: through nginx against the settings program and the demo data.
import test from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import { STATE, PGHOST, getJSON, postJSON, psql, newUser, recorder, auth, BASE } from './lib.mjs';

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

// A refusal on an EDxo route (its page's fetch() reads data.error): the
// flat {error: message, code, field}.
function flat(r, field, status = 400) {
	assert.equal(r.status, status, JSON.stringify(r.body));
	assert.equal(typeof r.body.error, 'string', JSON.stringify(r.body));
	assert.equal(r.body.field, field, JSON.stringify(r.body));
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
	// EDxo's page reads data.error: the flat body, the schema's refusal a 400.
	flat(await post(`/settings/plan-de-cours/prompts/${p.id}`, { ai_model: 'gpt-5' }),
	    'prompt_template');
	flat(await post(`/settings/plan-de-cours/prompts/${p.id}`, { prompt_template: '' }),
	    'prompt_template');
	// The page's older script sends context_variables: [] beside it, ignored.
	r = await post(`/settings/plan-de-cours/prompts/${p.id}`,
	    { prompt_template: 'Calendrier {session}', context_variables: [] });
	assert.equal(r.status, 200, JSON.stringify(r.body));
	assert.deepEqual(r.body.context_variables, ['session', 'sections']);
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
	invalid(await post('/settings/plan_cadre', { section: s.section }), ['body', 'section'],
	    'extra_forbidden');
	// Neither the JSON's list nor the form's sections-N keys: nothing to save.
	bad(await post('/settings/plan_cadre', {}), 'sections');
	// A template that could never render: the handler's 400, naming the section.
	bad(await post('/settings/plan_cadre', { sections: [{ section: s.section,
	    text_content: '{% if %}' }] }), 'sections[0].text_content');
	assert.equal((await get('/settings/plan_cadre')).body.sections[1].use_ai, false);
	r = await post('/settings/plan_cadre', { sections: [s] });
	assert.equal(r.status, 200);
	assert.deepEqual(r.body.sections[1], s);
	assert.ok(audits("table_name = 'global_generation_settings' AND field = 'text_content'") >= 2);
});

// The per-feature AI settings pages and their section_ai_settings rows.
const AI_PAGES = [
	['/settings/plan-de-cours/ai', 'plan_de_cours'],
	['/settings/plan-de-cours/ai-improve', 'plan_de_cours_improve'],
	['/settings/plan-de-cours/ai-import', 'plan_de_cours_import'],
	['/settings/plan-cadre/ai', 'plan_cadre'],
	['/settings/plan-cadre/ai-improve', 'plan_cadre_improve'],
	['/settings/plan-cadre/ai-import', 'plan_cadre_import'],
	['/settings/logigramme/ai', 'logigramme'],
	['/settings/grille/ai', 'grille'],
	['/settings/grille/ai-import', 'grille_import'],
	['/settings/ocr/ai', 'ocr'],
	['/settings/chat/ai', 'chat'],
	['/settings/evaluation/ai', 'evaluation'],
	['/settings/analyse/ai', 'analyse_plan_cours'],
];

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
	['POST', '/settings/plan-de-cours/prompts/test'],
	['GET', '/settings/plan-de-cours/prompt/1/edit'], ['POST', '/settings/plan-de-cours/prompt/1/edit'],
	['GET', '/settings/plan-cadre/prompts'], ['GET', '/settings/grille'], ['POST', '/settings/grille'],
	...AI_PAGES.flatMap(([path]) => [['GET', path], ['POST', path]]),
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
		// POST {} is valid for the grid page, and 400 (no sections) for plan_cadre.
		assert.ok(r.status === 200 || (p === '/settings/plan_cadre' && r.status === 400),
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

// ---------------------------------------------------------------------
// Per-feature AI settings, the prompt test and edit routes, templates
// refused at save (issue 16, point 6).

// A section's row as the database has it.
const aiRow = (section) => JSON.parse(psql('SELECT json_build_object(\'section\', section, ' +
    '\'system_prompt\', system_prompt, \'ai_model\', ai_model, \'reasoning_effort\', reasoning_effort, ' +
    `'verbosity', verbosity) FROM section_ai_settings WHERE section = '${section}'`));

// Put a section back as it was (JSON, nulls included).
async function restoreAi(path, before) {
	const { section, ...rest } = before;
	const r = await post(path, rest);
	assert.equal(r.status, 200, `${path} ${JSON.stringify(r.body)}`);
	assert.deepEqual(r.body, before, path);
	assert.equal(section, r.body.section);
}

test('per-feature AI settings: every page reads and saves its section, as JSON and as EDxo\'s form', async () => {
	for (const [path, section] of AI_PAGES) {
		const before = await get(path);
		assert.equal(before.status, 200, path);
		assert.deepEqual(before.body, aiRow(section), path);
		const change = { system_prompt: `Consigne ${section} ${uniq()}`, ai_model: 'gpt-5-mini',
		    reasoning_effort: 'high', verbosity: 'low' };
		// EDxo's page: a urlencoded form with its csrf_token and submit.
		let r = await postForm(path, { ...change, csrf_token: 'x', submit: 'Enregistrer' });
		assert.equal(r.status, 200, `${path} ${JSON.stringify(r.body)}`);
		assert.deepEqual(r.body, { section, ...change }, path);
		assert.deepEqual(aiRow(section), r.body, `${path}: stored`);
		assert.deepEqual((await get(path)).body, r.body, path);
		assert.ok(audits(`table_name = 'section_ai_settings' AND row_id = '${section}' AND ` +
		    `field = 'system_prompt' AND new_value = '${JSON.stringify(change.system_prompt)}'::jsonb`) === 1,
		    `${path} audited`);
		// "— par défaut —" is "": the feature's default, null; the rest kept.
		r = await postForm(path, { ai_model: '', reasoning_effort: '', verbosity: '' });
		assert.equal(r.status, 200, JSON.stringify(r.body));
		assert.deepEqual(r.body, { section, system_prompt: change.system_prompt, ai_model: null,
		    reasoning_effort: null, verbosity: null }, path);
		// The same through JSON: the same answer.
		const j = await post(path, change);
		assert.deepEqual(j.body, { section, ...change }, `${path}: JSON as the form`);
		await restoreAi(path, before.body);
	}
	const path = '/settings/chat/ai';
	const before = (await get(path)).body;
	// The schema's refusals, and the handler's, as on the other pages.
	invalid(await post(path, { reasoning_effort: 'extreme' }), ['body', 'reasoning_effort'], 'literal_error');
	invalid(await postForm(path, { verbosity: 'bavard' }), ['body', 'verbosity'], 'literal_error');
	invalid(await post(path, { temperature: 1 }), ['body', 'temperature'], 'extra_forbidden');
	bad(await post(path, { ai_model: 'gpt-99' }), 'ai_model');
	bad(await postForm(path, { ai_model: 'gpt-99', verbosity: 'high' }), 'ai_model');
	// Blank system prompt: null, as EDxo's "data or None".
	let r = await post(path, { system_prompt: '  \n ' });
	assert.equal(r.body.system_prompt, null);
	r = await post(path, {});
	assert.deepEqual(r.body.system_prompt, null, 'an empty body changes nothing');
	await restoreAi(path, before);
	// A deleted row reads as the defaults (nulls) and is made again.
	const saved = aiRow('logigramme');
	psql("DELETE FROM section_ai_settings WHERE section = 'logigramme'");
	r = await get('/settings/logigramme/ai');
	assert.deepEqual(r.body, { section: 'logigramme', system_prompt: null, ai_model: null,
	    reasoning_effort: null, verbosity: null });
	await restoreAi('/settings/logigramme/ai', saved);
});

test('grouped pages: plan-cadre/prompts shows three sections, grille saves two from one form', async () => {
	let r = await get('/settings/plan-cadre/prompts');
	assert.equal(r.status, 200, JSON.stringify(r.body));
	assert.deepEqual(r.body, { gen: aiRow('plan_cadre'), impv: aiRow('plan_cadre_improve'),
	    impt: aiRow('plan_cadre_import') });
	const before = (await get('/settings/grille')).body;
	assert.deepEqual(before, { gen: aiRow('grille'), imp: aiRow('grille_import') });
	// EDxo's form: both sections under their WTForms prefixes.
	const form = { 'gen-csrf_token': 'x', 'gen-system_prompt': 'Génère la grille.', 'gen-ai_model': 'gpt-5',
	    'gen-reasoning_effort': 'medium', 'gen-verbosity': '', 'imp-system_prompt': 'Importe la grille.',
	    'imp-ai_model': '', 'imp-reasoning_effort': 'low', 'imp-verbosity': 'high' };
	r = await postForm('/settings/grille', form);
	assert.equal(r.status, 200, JSON.stringify(r.body));
	const want = {
		gen: { section: 'grille', system_prompt: 'Génère la grille.', ai_model: 'gpt-5',
		    reasoning_effort: 'medium', verbosity: null },
		imp: { section: 'grille_import', system_prompt: 'Importe la grille.', ai_model: null,
		    reasoning_effort: 'low', verbosity: 'high' },
	};
	assert.deepEqual(r.body, want);
	assert.deepEqual((await get('/settings/grille/ai')).body, want.gen, 'the same row as grille/ai');
	// JSON: nested or prefixed, the same answer.
	const { section: _g, ...gen } = want.gen;
	const { section: _i, ...imp } = want.imp;
	r = await post('/settings/grille', { gen, imp });
	assert.deepEqual(r.body, want);
	// One bad section: neither is written.
	bad(await post('/settings/grille', { gen: { verbosity: 'low' }, 'imp-ai_model': 'gpt-99' }), 'imp-ai_model');
	assert.deepEqual((await get('/settings/grille')).body, want);
	invalid(await post('/settings/grille', { gen: { colour: 'x' } }), ['body', 'gen', 'colour'], 'extra_forbidden');
	const strip = ({ section, ...rest }) => rest;
	r = await post('/settings/grille', { gen: strip(before.gen), imp: strip(before.imp) });
	assert.deepEqual(r.body, before);
});

test('prompt test route: EDxo\'s {template, context} -> {result}, a missing variable names it and its line', async () => {
	const path = '/settings/plan-de-cours/prompts/test';
	let r = await post(path, { template: 'Session {session} du cours {cours_id} {{ok}}',
	    context: { session: 'H2024', cours_id: '123' } });
	assert.equal(r.status, 200, JSON.stringify(r.body));
	assert.deepEqual(r.body, { result: 'Session H2024 du cours 123 {ok}' });
	// A form: the context as its JSON text.
	r = await postForm(path, { template: 'Bonjour {nom}', context: '{"nom": "Élise"}', csrf_token: 'x' });
	assert.equal(r.status, 200, JSON.stringify(r.body));
	assert.deepEqual(r.body, { result: 'Bonjour Élise' });
	r = await post(path, { template: 'Sans variable' });
	assert.deepEqual(r.body, { result: 'Sans variable' });
	// EDxo's wording, with the line.
	r = await post(path, { template: 'Ligne un\nLigne {deux}', context: {} });
	flat(r, 'template');
	assert.equal(r.body.error, "Variable manquante: 'deux' (ligne 2)");
	r = await postForm(path, { template: 'a\nb\nc {x!r}', context: '{"x": 1}' });
	flat(r, 'template');
	assert.match(r.body.error, /ligne 3/);
	r = await post(path, { template: 'x', context: [1] });
	assert.equal(r.status, 400, JSON.stringify(r.body));
	assert.match(r.body.field, /^context/);
	flat(await postForm(path, { template: 'x', context: '{pas du json' }), 'context');
	flat(await post(path, { context: {} }), 'template');
	assert.equal((await post(path, { template: 'x' }, 'coordo')).status, 403);
});

test('prompt edit route: GET the row, POST EDxo\'s form or JSON, the same answer', async () => {
	const list = (await get('/settings/plan-de-cours/prompts')).body.prompts;
	const p = list.find((x) => x.field_name === 'organisation_et_methodes');
	let r = await get(`/settings/plan-de-cours/prompt/${p.id}/edit`);
	assert.equal(r.status, 200);
	assert.deepEqual(r.body, p);
	const tmpl = `Organisation du cours {cours_code} ({field_name}) pour {session} ${uniq()}`;
	r = await postForm(`/settings/plan-de-cours/prompt/${p.id}/edit`,
	    { prompt_template: tmpl, ai_model: 'gpt-5-mini', csrf_token: 'x', submit: 'Sauvegarder' });
	assert.equal(r.status, 200, JSON.stringify(r.body));
	assert.deepEqual(r.body, { ...p, prompt_template: tmpl, ai_model: 'gpt-5-mini' });
	assert.equal(psql(`SELECT prompt_template FROM plan_de_cours_prompt_settings WHERE id = ${p.id}`), tmpl);
	const j = await post(`/settings/plan-de-cours/prompt/${p.id}/edit`, { prompt_template: tmpl,
	    ai_model: 'gpt-5-mini' });
	assert.deepEqual(j.body, r.body, 'JSON as the form');
	bad(await postForm(`/settings/plan-de-cours/prompt/${p.id}/edit`, { prompt_template: tmpl,
	    ai_model: 'gpt-99' }), 'ai_model');
	invalid(await postForm(`/settings/plan-de-cours/prompt/${p.id}/edit`, { ai_model: 'gpt-5' }),
	    ['body', 'prompt_template'], 'missing');
	assert.equal((await get('/settings/plan-de-cours/prompt/999999/edit')).status, 404);
	assert.equal((await postForm('/settings/plan-de-cours/prompt/999999/edit',
	    { prompt_template: 'x' })).status, 404);
	r = await post(`/settings/plan-de-cours/prompt/${p.id}/edit`, { prompt_template: p.prompt_template,
	    ai_model: p.ai_model });
	assert.deepEqual(r.body, p);
});

// A message naming the field and the line.
function refusedAt(r, field, line, flatBody = false) {
	if (flatBody) {
		flat(r, field);
		assert.ok(r.body.error.includes(field), r.body.error);
		assert.match(r.body.error, new RegExp(`\\(ligne ${line}\\)`), r.body.error);
	} else {
		bad(r, field);
		assert.ok(r.body.error.message.includes(field), r.body.error.message);
		assert.match(r.body.error.message, new RegExp(`\\(ligne ${line}\\)`), r.body.error.message);
	}
}

test('a template that cannot render is refused when it is saved, naming the field and the line', async () => {
	// str.format() prompts: an unknown name, a brace left open or alone,
	// a conversion; each against the names its renderer supplies.
	const FORMAT = [
		['/settings/analyse_prompt', 'Compare {plan_cours_json}\net {plan_cadre}.', 2],
		['/settings/prompt-settings', 'Grille pour {savoir_faire}\n\n{seuil!r}', 3],
		['/settings/plan-cadre/import_prompt', 'Importe :\n{doc_text}\nfin }', 3],
		['/settings/analyse_prompt', 'Le plan {plan_cours_id', 1],
	];
	for (const [path, tmpl, line] of FORMAT) {
		const before = (await get(path)).body;
		refusedAt(await post(path, { prompt_template: tmpl }), 'prompt_template', line);
		refusedAt(await postForm(path, { prompt_template: tmpl }), 'prompt_template', line);
		assert.deepEqual((await get(path)).body, before, `${path}: nothing written`);
	}
	// The placeholders each page documents are all accepted.
	for (const [path, tmpl] of [
		['/settings/analyse_prompt', '{plan_cours_id} {plan_cours_json} {plan_cadre_id} {plan_cadre_json} {schema_json}'],
		['/settings/prompt-settings', '{savoir_faire} {capacite} {seuil} {cible} {description_eval} {schema}'],
	]) {
		const before = (await get(path)).body;
		const r = await post(path, { prompt_template: tmpl });
		assert.equal(r.status, 200, `${path} ${JSON.stringify(r.body)}`);
		assert.equal((await post(path, { prompt_template: before.prompt_template })).status, 200);
	}
	// Plan-de-cours prompts: field_name on a field's row, not on calendrier.
	const list = (await get('/settings/plan-de-cours/prompts')).body.prompts;
	const field = list.find((x) => x.field_name === 'accomodement');
	const cal = list.find((x) => x.field_name === 'calendrier');
	refusedAt(await post(`/settings/plan-de-cours/prompts/${field.id}`,
	    { prompt_template: 'Accommodements\npour {cours_nom}\n{cours_titre}' }), 'prompt_template', 3, true);
	refusedAt(await postForm(`/settings/plan-de-cours/prompt/${field.id}/edit`,
	    { prompt_template: '{field_name} {cours_nom}\n{current_value', ai_model: 'gpt-5' }), 'prompt_template', 2);
	refusedAt(await post(`/settings/plan-de-cours/prompts/${cal.id}`,
	    { prompt_template: 'Calendrier {session}\n{field_name}' }), 'prompt_template', 2, true);
	let r = await post(`/settings/plan-de-cours/prompts/${field.id}`, { prompt_template:
	    '{field_name} {current_value} {cours_id} {session} {cours_nom} {cours_code} {capacites} ' +
	    '{savoirs_etre} {competences_developpees} {additional_info} {sections} {place_intro}' });
	assert.equal(r.status, 200, JSON.stringify(r.body));
	assert.equal((await post(`/settings/plan-de-cours/prompts/${field.id}`,
	    { prompt_template: field.prompt_template })).status, 200);
	assert.equal(psql(`SELECT prompt_template FROM plan_de_cours_prompt_settings WHERE id = ${cal.id}`),
	    cal.prompt_template, 'the refused calendrier template was not written');

	// Plan-cadre sections are Jinja: an unknown tag or filter, an unclosed
	// block, nesting too deep; JSON and EDxo's form alike.
	const sections = (await get('/settings/plan_cadre')).body.sections;
	const deep = '{% if a %}'.repeat(40) + '{% endif %}'.repeat(40);
	const JINJA = [
		['Intro\n{% set x = 1 %}', 2],
		['{{ cours.nom }}\n\n{{ cours.nom | rot13 }}', 3],
		['Texte\n{% for c in cours.liste %}\n{{ c }}\n', 2],
		[`Texte\n${deep}`, 2],
		['Texte\n{{ (((((((((((((((((((((((((((((((((((a))))))))))))))))))))))))))))))))) }}', 2],
	];
	for (const [tmpl, line] of JINJA) {
		r = await post('/settings/plan_cadre', { sections: [{ section: sections[3].section, text_content: tmpl }] });
		refusedAt(r, 'sections[0].text_content', line);
		assert.ok(r.body.error.message.includes(sections[3].section), r.body.error.message);
		r = await postForm('/settings/plan_cadre', { 'sections-3-use_ai': 'y', 'sections-3-text_content': tmpl });
		refusedAt(r, 'sections[0].text_content', line);
	}
	assert.deepEqual((await get('/settings/plan_cadre')).body.sections, sections, 'nothing written');
});

test('plan_cadre: EDxo\'s sections-N form saves as the JSON list does', async () => {
	const sections = (await get('/settings/plan_cadre')).body.sections;
	const form = { csrf_token: 'x', openai_key: 'sk-pas-enregistre', submit: 'Enregistrer les Paramètres' };
	// Section 5 unticked (absent, as a browser sends it), section 6 ticked.
	form['sections-4-text_content'] = '  Texte fixe pour {{ cours.nom }}  \n';
	form['sections-5-use_ai'] = 'y';
	form['sections-5-text_content'] = sections[5].text_content;
	let r = await postForm('/settings/plan_cadre', form, 'coordo');
	assert.equal(r.status, 200, JSON.stringify(r.body));
	const want = sections.map((x) => ({ ...x }));
	want[4] = { section: sections[4].section, use_ai: false, text_content: 'Texte fixe pour {{ cours.nom }}' };
	want[5] = { ...sections[5], use_ai: true };
	assert.deepEqual(r.body.sections, want);
	const j = await post('/settings/plan_cadre', { sections: [want[4], want[5]] }, 'coordo');
	assert.deepEqual(j.body, r.body, 'the JSON list gives the same');
	assert.equal(psql("SELECT count(*) FROM audit_log WHERE new_value::text LIKE '%sk-pas-enregistre%'"), '0');
	r = await post('/settings/plan_cadre', { sections: [sections[4], sections[5]] });
	assert.deepEqual(r.body.sections, sections);
});

test('an admin\'s change is what the next generation sends', { timeout: 30000 }, async () => {
	const rec = await recorder('settings');
	const pdcAi = (await get('/settings/plan-de-cours/ai')).body;
	const chatAi = (await get('/settings/chat/ai')).body;
	const row = (await get('/settings/plan-de-cours/prompts')).body.prompts
	    .find((x) => x.field_name === 'presentation_du_cours');
	const mark = uniq();
	try {
		// The settings pages, as EDxo's forms post them.
		let r = await postForm('/settings/plan-de-cours/ai', { system_prompt: `Consigne plan ${mark}`,
		    ai_model: '', reasoning_effort: 'high', verbosity: 'low' });
		assert.equal(r.status, 200, JSON.stringify(r.body));
		r = await postForm(`/settings/plan-de-cours/prompt/${row.id}/edit`,
		    { prompt_template: `Présente {cours_code} pour {session} (${mark})`, ai_model: rec.model });
		assert.equal(r.status, 200, JSON.stringify(r.body));
		r = await postForm('/settings/chat/ai', { system_prompt: `Consigne clavardage ${mark}`,
		    ai_model: rec.model, reasoning_effort: 'minimal', verbosity: 'high' });
		assert.equal(r.status, 200, JSON.stringify(r.body));

		// A plan-de-cours section: the row's template and model, the
		// section's system prompt, effort and verbosity.
		const u = await newUser({ prefix: 'settings-gen', member: true });
		const code = `SET-${mark}`;
		const cours = psql(`INSERT INTO cours (code, nom) VALUES ('${code}', 'Cours des réglages') RETURNING id`);
		psql(`INSERT INTO cours_programme (cours_id, programme_id, session) VALUES (${cours}, ` +
		    "(SELECT id FROM programmes WHERE nom LIKE 'Technologie du génie électrique%' ORDER BY id LIMIT 1), 1)");
		psql(`INSERT INTO plan_cadre (cours_id, place_intro) VALUES (${cours}, 'Intro')`);
		r = await postJSON('/generate_content', { field_name: 'presentation_du_cours', current_value: '',
		    cours_id: Number(cours), session: 'A25' }, auth(u.token));
		assert.equal(r.status, 200, JSON.stringify(r.body));
		assert.equal(rec.bodies.length, 1);
		let b = rec.bodies[0];
		assert.equal(b.model, rec.model);
		assert.equal(b.instructions, `Consigne plan ${mark}`);
		assert.equal(b.reasoning.effort, 'high');
		assert.equal(b.text.verbosity, 'low');
		assert.ok(JSON.stringify(b.input).includes(`Présente ${code} pour A25 (${mark})`), JSON.stringify(b.input));

		// A chat turn: the chat section's model, system prompt, effort.
		const res = await fetch(`${BASE}/chat/send`, { method: 'POST',
		    headers: { 'Content-Type': 'application/json', ...auth(u.token) },
		    body: JSON.stringify({ message: 'Bonjour' }) });
		assert.equal(res.status, 200);
		await res.text();
		assert.ok(rec.bodies.length >= 2);
		b = rec.bodies[1];
		assert.equal(b.model, rec.model);
		assert.equal(b.input[0].role, 'system');
		assert.equal(b.input[0].content[0].text, `Consigne clavardage ${mark}`);
		assert.equal(b.reasoning.effort, 'minimal');
		assert.equal(b.text.verbosity, 'high');
	} finally {
		await restoreAi('/settings/plan-de-cours/ai', pdcAi);
		await restoreAi('/settings/chat/ai', chatAi);
		const r = await post(`/settings/plan-de-cours/prompt/${row.id}/edit`,
		    { prompt_template: row.prompt_template, ai_model: row.ai_model });
		assert.equal(r.status, 200);
		rec.server.close();
	}
});

test('an administrator sets a new password: the way out for an account whose hash cannot be verified', async () => {
	const u = await newUser({ prefix: 'pwreset', credits: '0.00' });
	const name = psql(`SELECT username FROM users WHERE id = ${u.id}`);
	// The importer's marker for "no usable hash" (sql/0014): refused as a
	// wrong password, never a 500.
	psql(`UPDATE users SET password_hash = '!' WHERE id = ${u.id}`);
	let r = await postJSON('/auth/token', { username: name, password: 'correct horse' });
	assert.equal(r.status, 401, JSON.stringify(r.body));
	r = await post(`/edit_user/${u.id}`, { password: 'un nouveau départ' });
	assert.equal(r.status, 200, JSON.stringify(r.body));
	assert.equal(r.body.password_hash, undefined);
	assert.match(psql(`SELECT password_hash FROM users WHERE id = ${u.id}`), /^\$argon2id\$/);
	r = await postJSON('/auth/token', { username: name, password: 'un nouveau départ' });
	assert.equal(r.status, 200, JSON.stringify(r.body));
	// The audit row says it changed, never what it is.
	const audit = psql(`SELECT coalesce(old_value::text, '') || '|' || new_value::text FROM audit_log ` +
	    `WHERE table_name = 'users' AND row_id = '${u.id}' AND field = 'password'`);
	assert.equal(audit, '|"set"');
	// Too short is refused with the field named, nothing written.
	const before = psql(`SELECT password_hash FROM users WHERE id = ${u.id}`);
	r = await post(`/edit_user/${u.id}`, { password: 'court' });
	assert.equal(r.status, 400, JSON.stringify(r.body));
	assert.equal(psql(`SELECT password_hash FROM users WHERE id = ${u.id}`), before);
});
