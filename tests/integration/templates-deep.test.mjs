// Deeply nested section templates (issue 14, item 5): a plan-cadre section
// text like "{{ cours.a.a.a... }}" 17,000 times used to be saved, then
// kill relais-worker when a task rendered it.  POST /settings/plan_cadre
// now parses every text_content with the renderer's parser and refuses
// one nested past RL_TMPL_EXPR_DEPTH / RL_TMPL_BLOCK_DEPTH (lib/bounds.h)
// with a 400 naming the section, writing nothing; and a deep text that got
// into the table some other way fails its task cleanly, the worker alive.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { TOP, auth, demoProgramme, getJSON, login, newUser, postJSON, psql, q, waitTask } from './lib.mjs';

// The limits, read from the header the programs were built with.
const bound = (name) => {
	const m = fs.readFileSync(`${TOP}/lib/bounds.h`, 'utf8')
	    .match(new RegExp(`^#define ${name}\\s+(\\d+)`, 'm'));
	assert.ok(m, `${name} in lib/bounds.h`);
	return Number(m[1]);
};
const EXPR = bound('RL_TMPL_EXPR_DEPTH');
const BLOCK = bound('RL_TMPL_BLOCK_DEPTH');

const SECTION = 'Objectif terminal';
const OTHER = 'Savoir-être';

// Everything a refused POST must leave alone: the 21 rows and the audit.
const state = () => psql(`SELECT json_agg(json_build_object('s', section, 'u', use_ai,
    't', md5(coalesce(text_content, '-'))) ORDER BY position) FROM global_generation_settings`);
const audits = () => psql(`SELECT count(*) FROM audit_log WHERE table_name = 'global_generation_settings'`);

// The shapes of the report, and the other ways a template nests.
const DEEP = [
	['17,000 attribute hops', `{{ cours${'.a'.repeat(17000)} }}`, 'expression'],
	['20,000 index operations', `{{ x${'[0]'.repeat(20000)} }}`, 'expression'],
	['20,000 parentheses', `{{ ${'('.repeat(20000)}x${')'.repeat(20000)} }}`, 'expression'],
	['15,000 not', `{% if ${'not '.repeat(15000)}x %}{% endif %}`, 'expression'],
	['10,000 filters', `{{ cours.nom${'|upper'.repeat(10000)} }}`, 'expression'],
	['10,000 and', `{{ x${' and x'.repeat(10000)} }}`, 'expression'],
	['1,500 nested for', `${'{%for c in x%}'.repeat(1500)}c${'{%endfor%}'.repeat(1500)}`, 'blocks'],
	['3,000 nested if', `${'{%if 1%}'.repeat(3000)}x${'{%endif%}'.repeat(3000)}`, 'blocks'],
	['one level past the expression limit', `{{ cours${'.a'.repeat(EXPR)} }}`, 'expression'],
	['one block past the block limit', `${'{% if 1 %}'.repeat(BLOCK + 1)}x${'{% endif %}'.repeat(BLOCK + 1)}`, 'blocks'],
];

function refused(r, index, section, kind) {
	assert.equal(r.status, 400, JSON.stringify(r.body).slice(0, 300));
	assert.equal(r.body.error.code, 'bad_request');
	assert.equal(r.body.error.field, `sections[${index}].text_content`);
	const m = r.body.error.message;
	assert.ok(m.startsWith(`Section « ${section} » : template: `), m);
	if (kind === 'expression')
		assert.match(m, new RegExp(`expression trop imbriquée \\(au plus ${EXPR} niveaux\\)`));
	else
		assert.match(m, new RegExp(`trop imbriqués \\(au plus ${BLOCK} `));
}

test('deep section templates are refused at save time, nothing written', async () => {
	const coordo = await login('coordo@demo.relais', 'relais-demo');
	const before = state();
	const nAudits = audits();
	for (const [what, t, kind] of DEEP) {
		const r = await postJSON('/settings/plan_cadre',
		    { sections: [{ section: SECTION, use_ai: true, text_content: t }] }, auth(coordo));
		refused(r, 0, SECTION, kind);
		assert.equal(state(), before, `${what}: nothing written`);
	}
	// All or nothing: a good section before a deep one is not saved either.
	const r = await postJSON('/settings/plan_cadre', { sections: [
	    { section: OTHER, use_ai: false, text_content: 'Changé {{ cours.nom }}' },
	    { section: SECTION, text_content: DEEP[0][1] }] }, auth(coordo));
	refused(r, 1, SECTION, 'expression');
	assert.equal(state(), before, 'the good section was not saved');
	assert.equal(audits(), nAudits, 'no audit row');
	// The same refusal whatever use_ai says: the text is still a template.
	refused(await postJSON('/settings/plan_cadre', { sections: [
	    { section: SECTION, use_ai: false, text_content: DEEP[1][1] }] }, auth(coordo)),
	    0, SECTION, 'expression');
	// And a plain syntax error is refused the same way, with its line.
	const bad = await postJSON('/settings/plan_cadre', { sections: [
	    { section: SECTION, text_content: 'a\n{% if %}' }] }, auth(coordo));
	assert.equal(bad.status, 400);
	assert.equal(bad.body.error.field, 'sections[0].text_content');
	assert.match(bad.body.error.message, /ligne 2/);
	assert.equal(state(), before);
	assert.equal(audits(), nAudits);
});

test('templates just within the limits are saved and read back', async () => {
	const coordo = await login('coordo@demo.relais', 'relais-demo');
	const saved = (await getJSON('/settings/plan_cadre', { headers: auth(coordo) }))
	    .body.sections.find((s) => s.section === SECTION);
	const deepest = `{{ cours${'.a'.repeat(EXPR - 1)} }}` +
	    `${'{% if 1 %}'.repeat(BLOCK)}{{ ${'('.repeat(EXPR - 1)}cours.nom${')'.repeat(EXPR - 1)} }}${'{% endif %}'.repeat(BLOCK)}`;
	try {
		const r = await postJSON('/settings/plan_cadre',
		    { sections: [{ section: SECTION, text_content: deepest }] }, auth(coordo));
		assert.equal(r.status, 200, JSON.stringify(r.body).slice(0, 300));
		assert.equal(r.body.sections.find((s) => s.section === SECTION).text_content, deepest);
	} finally {
		const r = await postJSON('/settings/plan_cadre', { sections: [saved] }, auth(coordo));
		assert.equal(r.status, 200, JSON.stringify(r.body));
	}
});

test('a deep template already in the table fails its task; the worker lives on', { timeout: 60000 }, async () => {
	const c = await newUser({ prefix: 'deep', role: 'coordo', member: true });
	const plan = psql(`SELECT pc.id FROM plan_cadre pc JOIN cours_programme cp ON cp.cours_id = pc.cours_id
	    WHERE cp.programme_id = ${demoProgramme()} ORDER BY pc.id LIMIT 1`);
	assert.ok(plan, 'a demo plan-cadre');
	const saved = JSON.parse(psql(`SELECT json_build_object('t', text_content, 'u', use_ai)
	    FROM global_generation_settings WHERE section = ${q(SECTION)}`));
	const setTemplate = (t) => psql(`UPDATE global_generation_settings SET text_content = ${q(t)},
	    use_ai = true WHERE section = ${q(SECTION)}`);
	const run = async () => {
		const r = await postJSON(`/api/plan_cadre/${plan}/improve/objectif_terminal`, {}, auth(c.token));
		assert.equal(r.status, 202, JSON.stringify(r.body));
		return { id: r.body.task_id, t: await waitTask(r.body.task_id,
		    { ms: 30000, columns: ['state', 'result', 'attempts'] }) };
	};
	try {
		// As a row written before the check existed, or by hand.
		setTemplate(DEEP[0][1]);
		let x = await run();
		assert.equal(x.t.state, 'FAILURE', JSON.stringify(x.t).slice(0, 300));
		assert.match(x.t.result.error, new RegExp(`^Section « ${SECTION} » : template: ` +
		    `expression trop imbriquée \\(au plus ${EXPR} niveaux\\)`));
		assert.equal(x.t.attempts, 1, 'run once: no worker died and left it to be taken again');
		assert.equal(psql(`SELECT count(*) FROM usage_ledger WHERE task_id = '${x.id}'`), '0', 'nothing paid');
		// The same worker pool serves the next task.
		setTemplate('Objectif de {{ cours.nom }}.');
		x = await run();
		assert.equal(x.t.state, 'SUCCESS', JSON.stringify(x.t).slice(0, 300));
	} finally {
		psql(`UPDATE global_generation_settings SET text_content = ${saved.t === null ? 'NULL' : q(saved.t)},
		    use_ai = ${saved.u} WHERE section = ${q(SECTION)}`);
	}
});
