// EDxo's streaming chat (issue 6, contract 4.1) through nginx, the chat
// program and the fake upstream: the frames the page reads, the request
// sent upstream, tool rounds, the thread, persistence, interruptions and
// money.
//
// The chat model of these tests belongs to a provider "chattest" whose base
// URL is a small proxy started here in front of the fake upstream (a
// loopback provider needs no key).  The proxy records every request the
// program sends, when the program closes each upstream connection, and can
// add the fake's X-Fake-* knobs or force a tool_choice, which the fake reads
// to decide whether to call a tool: relais itself gets no test-only
// mechanism.
import test from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { BASE, auth, checkResponse, getJSON, newUser, postJSON, psql, sentence, sleep, uniq } from './lib.mjs';

const FAKE = process.env.FAKE_OPENAI_BASE_URL;
const PLAIN = 'gpt-4.1-chattest';
const REASONING = 'gpt-5-chattest';
const SUMMARY = 'Je réfléchis à la question avant de répondre.';
const TOOLS = ['get_plan_de_cours', 'get_plan_cadre', 'get_multiple_plan_cadre',
    'list_all_plan_cadre', 'list_all_plan_de_cours'];

// The proxy: mode is what the next requests get.
const proxy = { mode: {}, requests: [], closes: [], server: null, port: 0 };

function startProxy() {
	return new Promise((resolve) => {
		proxy.server = http.createServer((req, res) => {
			const chunks = [];
			req.on('data', (c) => chunks.push(c));
			req.on('end', () => {
				let body = Buffer.concat(chunks).toString();
				const rec = { path: req.url, at: Date.now(), closedAt: null, ended: false };
				try {
					const j = JSON.parse(body);
					if (proxy.mode.toolChoice !== undefined)
						j.tool_choice = proxy.mode.toolChoice;
					// A model that asks for a tool again after each
					// result: the fake calls one only when the input
					// holds no tool output and ends with the user.
					if (proxy.mode.again && j.tool_choice !== 'none' &&
					    Array.isArray(j.input) && j.input.at(-1)?.type === 'function_call_output')
						j.input = [{ role: 'user', content: 'Encore un outil.' }];
					rec.body = JSON.parse(body);
					body = JSON.stringify(j);
				} catch { rec.body = body; }
				proxy.requests.push(rec);
				const u = new URL(FAKE.replace(/\/v1$/, '') + req.url);
				const headers = { 'content-type': 'application/json',
				    'content-length': Buffer.byteLength(body), ...(proxy.mode.headers || {}) };
				const up = http.request({ host: u.hostname, port: u.port, path: u.pathname,
				    method: req.method, headers }, (ur) => {
					res.writeHead(ur.statusCode, ur.headers);
					ur.pipe(res);
					ur.on('end', () => { rec.ended = true; });
					// The fake cut its answer: cut ours the same way.
					ur.on('aborted', () => res.destroy());
					ur.on('error', () => res.destroy());
				});
				up.on('error', () => res.destroy());
				// The program hung up on us before the answer was complete.
				res.on('close', () => {
					rec.closedAt = Date.now();
					if (!res.writableFinished)
						up.destroy();
				});
				up.end(body);
			});
		});
		proxy.server.listen(0, '127.0.0.1', () => {
			proxy.port = proxy.server.address().port;
			resolve();
		});
	});
}

const user = (credits = '5.00') => newUser({ prefix: 'chat', credits });

function settings(model, effort = null, verbosity = null) {
	const q = (v) => (v === null ? 'NULL' : `'${v}'`);
	psql(`UPDATE section_ai_settings SET ai_model = ${q(model)}, reasoning_effort = ${q(effort)}, ` +
	    `verbosity = ${q(verbosity)} WHERE section = 'chat'`);
}

// The body of POST /chat/send as JSON (the page's fetch), a urlencoded
// form or multipart FormData, each with the page's csrf_token beside the
// message; [content type, body].
function encode(message, as) {
	const fields = message === undefined ? {} : { message };
	if (as === 'form')
		return ['application/x-www-form-urlencoded',
		    new URLSearchParams({ ...fields, csrf_token: 'x' }).toString()];
	if (as === 'multipart') {
		const b = `----relais${uniq()}`;
		const part = (k, v) => `--${b}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`;
		return [`multipart/form-data; boundary=${b}`, Object.entries({ ...fields, csrf_token: 'x' })
		    .map(([k, v]) => part(k, v)).join('') + `--${b}--\r\n`];
	}
	return ['application/json', JSON.stringify(fields)];
}

// POST /chat/send, read to the end (or abort after `abortAfter` content
// frames, or when `hold`, given the abort once the answer began, calls
// it); frames are the parsed JSON of each data: line.
function send(u, message, { abortAfter = 0, hold, as = 'json' } = {}) {
	return new Promise((resolve, reject) => {
		const url = new URL(BASE + '/chat/send');
		const [ctype, body] = encode(message, as);
		const req = http.request({ host: url.hostname, port: url.port, path: url.pathname,
		    method: 'POST', headers: { 'Content-Type': ctype,
		    'Content-Length': Buffer.byteLength(body), ...(u ? auth(u.token) : {}) } }, (res) => {
			let text = '';
			let contents = 0;
			const out = { status: res.statusCode, headers: res.headers, frames: [], text: '', abortedAt: null };
			res.setEncoding('utf8');
			if (hold)
				hold(() => {
					out.abortedAt = Date.now();
					req.destroy();
					out.text = text;
					resolve(out);
				});
			res.on('data', (c) => {
				text += c;
				if (abortAfter > 0 && out.abortedAt === null) {
					contents = (text.match(/"type":"content"/g) || []).length;
					if (contents >= abortAfter) {
						out.abortedAt = Date.now();
						req.destroy();
						out.text = text;
						resolve(out);
					}
				}
			});
			res.on('end', () => {
				out.text = text;
				if ((res.headers['content-type'] || '').startsWith('text/event-stream')) {
					for (const block of text.split('\n\n')) {
						const data = block.split('\n').filter((l) => l.startsWith('data: '))
						    .map((l) => l.slice(6)).join('\n');
						if (data !== '')
							out.frames.push(JSON.parse(data));
					}
				} else {
					try { out.json = JSON.parse(text); } catch { out.json = null; }
					try {
						checkResponse('POST', url.href, res.statusCode, res.headers);
					} catch (e) {
						reject(e);
						return;
					}
				}
				resolve(out);
			});
			res.on('error', () => {});
		});
		req.on('error', (e) => { if (abortAfter === 0 && !hold) reject(e); });
		req.end(body);
	});
}

const types = (frames) => frames.map((f) => f.type);
const prevId = (id) => psql(`SELECT coalesce(last_openai_response_id, 'NULL') FROM users WHERE id = ${id}`);
const rows = (id) => psql(`SELECT role || '|' || coalesce(content, '') || '|' || coalesce(name, '') || '|' || ` +
    `coalesce(function_call_name, '') || '|' || coalesce(function_call_args, '') || '|' || interrupted ` +
    `FROM chat_history WHERE user_id = ${id} ORDER BY timestamp, id`).split('\n').filter((l) => l !== '');
const balance = (id) => BigInt(psql(`SELECT credits FROM users WHERE id = ${id}`).replace('.', ''));
const ledger = (id) => psql(`SELECT model || '|' || feature || '|' || status || '|' || input_tokens || '|' || ` +
    `output_tokens || '|' || reasoning_tokens || '|' || cost || '|' || delta || '|' || coalesce(upstream_response_id, '') ` +
    `FROM usage_ledger WHERE user_id = ${id} AND kind = 'openai_call' ORDER BY id`)
    .split('\n').filter((l) => l !== '').map((l) => {
	const [model, feature, status, input, output, reasoning, cost, delta, resp] = l.split('|');
	return { model, feature, status, input: Number(input), output: Number(output),
	    reasoning: Number(reasoning), cost, delta, resp };
});
const openHolds = (id) => psql(`SELECT count(*) FROM credit_reservations WHERE user_id = ${id} AND state = 'reserved'`);

// Exact cost in micro-dollars at the database's prices, rounded up.
function costMicro(model, input, output) {
	const [pin, pout] = psql(`SELECT input_price, output_price FROM openai_models WHERE name = '${model}'`)
	    .split('|').map((p) => BigInt(p.replace('.', '')));
	return (BigInt(input) * pin + BigInt(output) * pout + 999999n) / 1000000n;
}
const micro = (s) => BigInt(s.replace('.', ''));

// Every ledger row costs exactly its tokens; the balance lost the sum.
function checkMoney(u, start, n) {
	const l = ledger(u.id);
	assert.equal(l.length, n, JSON.stringify(l));
	let sum = 0n;
	for (const r of l) {
		assert.equal(r.feature, 'chat');
		assert.equal(micro(r.cost), costMicro(r.model, r.input, r.output), JSON.stringify(r));
		assert.equal(micro(r.delta), -micro(r.cost));
		sum += micro(r.cost);
	}
	assert.ok(sum > 0n);
	assert.equal(balance(u.id), start - sum);
	assert.equal(openHolds(u.id), '0');
	return l;
}

const SYSTEM = psql("SELECT system_prompt FROM section_ai_settings WHERE section = 'chat'");
const tokens = (...texts) => Math.ceil(texts.reduce((n, t) => n + [...t].length, 0) / 4);

function checkHeaders(r) {
	assert.equal(r.status, 200, r.text);
	assert.match(r.headers['content-type'], /^text\/event-stream/);
	assert.equal(r.headers['cache-control'], 'no-cache');
	// X-Accel-Buffering: no is for nginx, which acts on it and drops it.
	assert.equal(r.headers['x-accel-buffering'], undefined);
}

// Each frame has exactly the keys of its type.
function checkShapes(frames) {
	for (const f of frames) {
		const keys = Object.keys(f).sort().join(',');
		if (f.type === 'processing')
			assert.equal(keys, 'type');
		else if (f.type === 'done') {
			assert.equal(keys, 'model,prev_id,type');
			assert.equal(typeof f.model, 'string');
			assert.equal(typeof f.prev_id, 'string');
		} else {
			assert.ok(['function_call', 'reasoning_summary', 'content', 'error'].includes(f.type), f.type);
			assert.equal(keys, 'content,type');
			assert.equal(typeof f.content, 'string');
		}
	}
}

let saved;
test.before(async () => {
	assert.ok(FAKE, 'FAKE_OPENAI_BASE_URL is not set');
	await startProxy();
	saved = psql("SELECT coalesce(ai_model, '') || '|' || coalesce(reasoning_effort, '') || '|' || " +
	    "coalesce(verbosity, '') FROM section_ai_settings WHERE section = 'chat'");
	psql(`INSERT INTO providers (name, base_url) VALUES ('chattest', 'http://127.0.0.1:${proxy.port}/v1') ` +
	    'ON CONFLICT (name) DO UPDATE SET base_url = excluded.base_url');
	psql(`INSERT INTO openai_models (name, input_price, output_price, provider) VALUES ` +
	    `('${PLAIN}', 2, 8, 'chattest'), ('${REASONING}', 1.25, 10, 'chattest') ` +
	    'ON CONFLICT (name) DO NOTHING');
});

test.after(() => {
	const [m, e, v] = saved.split('|');
	settings(m === '' ? null : m, e === '' ? null : e, v === '' ? null : v);
	proxy.server.close();
});

test.beforeEach(() => {
	proxy.mode = {};
	proxy.requests = [];
	settings(PLAIN);
});

test('plain answer: frames, request, rows, thread and exact billing', async () => {
	const u = await user('2.00');
	const start = balance(u.id);
	proxy.mode = { toolChoice: 'none' };	// the fake calls a tool whenever it may
	const msg = 'Bonjour, qui es-tu ?';
	const r = await send(u, msg);
	checkHeaders(r);
	checkShapes(r.frames);
	assert.deepEqual(types(r.frames), ['processing', ...Array(8).fill('content'), 'done']);
	assert.equal(r.frames.filter((f) => f.type === 'content').map((f) => f.content).join(''), sentence(PLAIN));
	const done = r.frames.at(-1);
	assert.equal(done.model, PLAIN);
	assert.match(done.prev_id, /^resp_/);
	// What went upstream: EDxo's request, a new thread with the system prompt.
	assert.equal(proxy.requests.length, 1);
	const b = proxy.requests[0].body;
	assert.equal(proxy.requests[0].path, '/v1/responses');
	assert.equal(b.model, PLAIN);
	assert.equal(b.stream, true);
	assert.equal(b.max_output_tokens, 2048);
	assert.equal(b.temperature, 1);
	assert.equal(b.tool_choice, 'auto');
	assert.deepEqual(b.text, { format: { type: 'text' } });
	assert.equal(b.previous_response_id, undefined);
	assert.equal(b.reasoning, undefined);
	assert.deepEqual(b.tools.map((t) => t.name), TOOLS);
	for (const t of b.tools) {
		assert.equal(t.type, 'function');
		assert.equal(t.strict, true);
		assert.equal(t.parameters.additionalProperties, false);
		assert.deepEqual(t.parameters.required.sort(), Object.keys(t.parameters.properties).sort());
	}
	assert.deepEqual(b.input, [
		{ role: 'system', content: [{ type: 'input_text', text: SYSTEM }] },
		{ role: 'user', content: [{ type: 'input_text', text: msg }] }]);
	// Persistence and thread.
	assert.deepEqual(rows(u.id), [`user|${msg}||||false`, `assistant|${sentence(PLAIN)}||||false`]);
	assert.equal(prevId(u.id), done.prev_id);
	// Money: one ledger row, the fake's exact counts.
	const l = checkMoney(u, start, 1);
	assert.equal(l[0].status, 'ok');
	assert.equal(l[0].model, PLAIN);
	assert.equal(l[0].input, tokens(SYSTEM, msg));
	assert.equal(l[0].output, 8);
	assert.equal(l[0].resp, done.prev_id);
});

test('a urlencoded form or the page\'s FormData: the same turn as JSON', async () => {
	proxy.mode = { toolChoice: 'none' };
	const msg = 'Bonjour, où en est le plan de cours ?';
	for (const as of ['form', 'multipart']) {
		const u = await user('1.00');
		proxy.requests = [];
		const r = await send(u, msg, { as });
		checkHeaders(r);
		checkShapes(r.frames);
		assert.deepEqual(types(r.frames), ['processing', ...Array(8).fill('content'), 'done'], as);
		// The message reached upstream as sent; csrf_token did not.
		assert.deepEqual(proxy.requests[0].body.input.at(-1),
		    { role: 'user', content: [{ type: 'input_text', text: msg }] }, as);
		assert.deepEqual(rows(u.id), [`user|${msg}||||false`, `assistant|${sentence(PLAIN)}||||false`], as);
	}
});

test('thread: previous id continues, POST /chat/reset or the application resets, history is replayed', async () => {
	const u = await user('2.00');
	proxy.mode = { toolChoice: 'none' };
	const r1 = await send(u, 'Premier message');
	const id1 = r1.frames.at(-1).prev_id;
	const r2 = await send(u, 'Deuxième message');
	checkHeaders(r2);
	assert.deepEqual(proxy.requests[1].body.input,
	    [{ role: 'user', content: [{ type: 'input_text', text: 'Deuxième message' }] }]);
	assert.equal(proxy.requests[1].body.previous_response_id, id1);
	const id2 = r2.frames.at(-1).prev_id;
	assert.notEqual(id2, id1);
	assert.equal(prevId(u.id), id2);
	// relais' reset route: a fresh thread.
	const g = await postJSON('/chat/reset', {}, auth(u.token));
	assert.equal(g.status, 200);
	assert.deepEqual(g.body, { chat_model_name: PLAIN, previous_response_id: null });
	assert.equal(prevId(u.id), 'NULL');
	// No previous id: system prompt + the history + the new message.
	await send(u, 'Troisième message');
	const b = proxy.requests[2].body;
	assert.equal(b.previous_response_id, undefined);
	const said = sentence(PLAIN);
	assert.deepEqual(b.input.map((i) => `${i.role}:${i.content[0].type}:${i.content[0].text}`), [
		`system:input_text:${SYSTEM}`,
		'user:input_text:Premier message', `assistant:output_text:${said}`,
		'user:input_text:Deuxième message', `assistant:output_text:${said}`,
		'user:input_text:Troisième message']);
	assert.equal(rows(u.id).length, 6);
	// EDxo's own page load clears the stored id in the shared database:
	// the next message starts a fresh thread without any relais route.
	assert.notEqual(prevId(u.id), 'NULL');
	psql(`UPDATE users SET last_openai_response_id = NULL WHERE id = ${u.id}`);
	await send(u, 'Quatrième message');
	assert.equal(proxy.requests[3].body.previous_response_id, undefined,
	    'a reset written by the application is honoured');
});

test('history replay is bounded to the last 10 rows', async () => {
	const u = await user('1.00');
	const values = [];
	for (let i = 0; i < 14; i++)
		values.push(`(${u.id}, '${i % 2 ? 'assistant' : 'user'}', 'ligne ${i}', now() + interval '${i} ms')`);
	psql(`INSERT INTO chat_history (user_id, role, content, timestamp) VALUES ${values.join(', ')}`);
	proxy.mode = { toolChoice: 'none' };
	const r = await send(u, 'Et maintenant ?');
	checkHeaders(r);
	const inp = proxy.requests[0].body.input;
	assert.equal(inp.length, 1 + 10 + 1);
	assert.deepEqual(inp.slice(1, 11).map((i) => i.content[0].text),
	    [4, 5, 6, 7, 8, 9, 10, 11, 12, 13].map((i) => `ligne ${i}`));
});

test('a replayed history is paid for before the stream: too long for the credits, a plain refusal', async () => {
	// Credits for 200,000 input tokens: far more than the turn's own body
	// (system prompt, message, tools, 2,048 output tokens), far less
	// than the 400,000 bytes of history it must replay.
	const credits = costMicro(PLAIN, 200000, 0);
	const u = await user((Number(credits) / 1e6).toFixed(6));
	const values = [];
	for (let i = 0; i < 10; i++)
		values.push(`(${u.id}, '${i % 2 ? 'assistant' : 'user'}', repeat('x', 40000), now() + interval '${i} ms')`);
	psql(`INSERT INTO chat_history (user_id, role, content, timestamp) VALUES ${values.join(', ')}`);
	proxy.mode = { toolChoice: 'none' };
	const r = await send(u, 'Et maintenant ?');
	// EDxo's answer for a chat without credits (RL_ROUTE_EDXO): 403.
	assert.equal(r.status, 403, r.text);
	assert.equal(r.json.code, 'insufficient_credits');
	assert.equal(proxy.requests.length, 0);
	assert.equal(openHolds(u.id), '0');
	assert.equal(balance(u.id), credits);
	assert.equal(rows(u.id).length, 10);
	// Without that history the same credits pay for the turn.
	psql(`DELETE FROM chat_history WHERE user_id = ${u.id}`);
	const ok = await send(u, 'Et maintenant ?');
	assert.equal(ok.status, 200, ok.text);
	assert.equal(proxy.requests.length, 1);
});

// A course the user may see, with a plan de cours and a plan-cadre whose code
// contains "exemple", the string the fake puts in synthesised arguments.
function course(u) {
	const code = `EXEMPLE-${uniq()}`;
	const dep = psql(`INSERT INTO departments (nom) VALUES ('Dép chat ${uniq()}') RETURNING id`);
	const prog = psql(`INSERT INTO programmes (nom, department_id) VALUES ('Prog chat', ${dep}) RETURNING id`);
	psql(`INSERT INTO user_programme (user_id, programme_id) VALUES (${u.id}, ${prog})`);
	const cours = psql(`INSERT INTO cours (code, nom) VALUES ('${code}', 'Cours exemple') RETURNING id`);
	psql(`INSERT INTO cours_programme (cours_id, programme_id) VALUES (${cours}, ${prog})`);
	const old = psql(`INSERT INTO plan_de_cours (cours_id, session) VALUES (${cours}, 'A24') RETURNING id`);
	const pdc = psql(`INSERT INTO plan_de_cours (cours_id, session, campus) VALUES (${cours}, 'H26', 'Garneau') RETURNING id`);
	const pc = psql(`INSERT INTO plan_cadre (cours_id, place_intro, structure_intro) VALUES (${cours}, 'Intro', 'Structure') RETURNING id`);
	const cap = psql(`INSERT INTO plan_cadre_capacites (plan_cadre_id, capacite, description_capacite, ponderation_min, ponderation_max) ` +
	    `VALUES (${pc}, 'Analyser', 'Desc', 10, 30) RETURNING id`);
	psql(`INSERT INTO plan_cadre_capacite_savoirs_faire (capacite_id, texte, cible, seuil_reussite) VALUES (${cap}, 'SF', 'C', 'S')`);
	psql(`INSERT INTO plan_cadre_capacite_savoirs_necessaires (capacite_id, texte) VALUES (${cap}, 'SN')`);
	psql(`INSERT INTO plan_cadre_savoir_etre (plan_cadre_id, texte) VALUES (${pc}, 'Rigueur')`);
	psql(`INSERT INTO plan_cadre_objets_cibles (plan_cadre_id, texte, description) VALUES (${pc}, 'OC', 'D')`);
	return { code, cours: Number(cours), pdc: Number(pdc), old: Number(old), pc: Number(pc) };
}

test('tool call: function_call frame, tool run on PostgreSQL, follow-up stream, rows, two ledger rows', async () => {
	const u = await user('2.00');
	const c = course(u);
	const start = balance(u.id);
	const r = await send(u, 'Montre-moi le plan de cours de EXEMPLE');
	checkHeaders(r);
	checkShapes(r.frames);
	assert.deepEqual(types(r.frames), ['processing', 'function_call', ...Array(8).fill('content'), 'done']);
	assert.equal(r.frames[1].content, 'get_plan_de_cours');
	const text = r.frames.filter((f) => f.type === 'content').map((f) => f.content).join('');
	assert.match(text, /^D'après l'outil/);
	// The follow-up carries the tool's output on top of the first response.
	assert.equal(proxy.requests.length, 2);
	const [first, follow] = proxy.requests.map((q) => q.body);
	const l = checkMoney(u, start, 2);
	assert.equal(follow.previous_response_id, l[0].resp);
	assert.equal(follow.tool_choice, 'auto');
	assert.equal(follow.input.length, 1);
	assert.equal(follow.input[0].type, 'function_call_output');
	assert.match(follow.input[0].call_id, /^call_/);
	const out = JSON.parse(follow.input[0].output);
	// PlanDeCours.to_dict() of the latest session of the visible course.
	assert.equal(out.id, c.pdc);
	assert.equal(out.session, 'H26');
	assert.equal(out.campus, 'Garneau');
	assert.equal(out.cours_info.code, c.code);
	for (const k of ['calendriers', 'mediagraphies', 'disponibilites', 'evaluations'])
		assert.ok(Array.isArray(out[k]), k);
	assert.equal(first.tools.length, 5);
	// Rows: user, the call, its result, the answer; thread = follow-up id.
	const rs = rows(u.id);
	assert.equal(rs.length, 4);
	assert.match(rs[0], /^user\|Montre-moi/);
	const args = JSON.parse(rs[1].split('|')[4]);
	assert.deepEqual(Object.keys(args), ['code']);
	assert.match(rs[1], /^assistant\|\|\|get_plan_de_cours\|/);
	assert.equal(rs[2], `function|${follow.input[0].output}|get_plan_de_cours|||false`);
	assert.equal(rs[3], `assistant|${text}||||false`);
	assert.equal(r.frames.at(-1).prev_id, l[1].resp);
	assert.equal(prevId(u.id), l[1].resp);
	assert.deepEqual(l.map((x) => x.status), ['ok', 'ok']);
});

test('tools: nested plan-cadre dict, lists, visibility', async () => {
	const u = await user('2.00');
	const c = course(u);
	const other = await user('2.00');	// sees no programme
	const outputOf = async (who, tool) => {
		proxy.requests = [];
		proxy.mode = { toolChoice: { type: 'function', name: tool } };
		const r = await send(who, `outil ${tool}`);
		checkHeaders(r);
		assert.equal(r.frames[1].type, 'function_call');
		assert.equal(r.frames[1].content, tool);
		assert.equal(r.frames.at(-1).type, 'done');
		return JSON.parse(proxy.requests[1].body.input[0].output);
	};
	const pc = await outputOf(u, 'get_plan_cadre');
	assert.deepEqual(Object.keys(pc).sort(), ['additional_info', 'ai_model', 'contenu', 'cours', 'id', 'relations']);
	assert.equal(pc.id, c.pc);
	assert.deepEqual(pc.cours, { id: c.cours, nom: 'Cours exemple', code: c.code });
	assert.deepEqual(pc.contenu.structure, { introduction: 'Structure', activites_theoriques: null,
	    activites_pratiques: null, activites_prevues: null });
	assert.deepEqual(Object.keys(pc.contenu.evaluation).sort(),
	    ['evaluation_apprentissages', 'evaluation_langue', 'nature_evaluations', 'sommative']);
	assert.equal(pc.contenu.place_intro, 'Intro');
	assert.deepEqual(pc.relations.capacites, [{ id: pc.relations.capacites[0].id, capacite: 'Analyser',
	    description: 'Desc', ponderation: { min: 10, max: 30 }, savoirs_necessaires: ['SN'],
	    savoirs_faire: [{ texte: 'SF', cible: 'C', seuil_reussite: 'S' }], moyens_evaluation: [] }]);
	assert.deepEqual(pc.relations.savoirs_etre.map((s) => s.texte), ['Rigueur']);
	assert.deepEqual(pc.relations.objets_cibles.map((s) => [s.texte, s.description]), [['OC', 'D']]);
	for (const k of ['cours_relies', 'cours_prealables', 'competences_certifiees', 'competences_developpees'])
		assert.deepEqual(pc.relations[k], [], k);
	const lpc = await outputOf(u, 'list_all_plan_cadre');
	assert.deepEqual(lpc, [{ id: c.pc, cours_id: c.cours, cours_code: c.code, cours_nom: 'Cours exemple' }]);
	const lpd = await outputOf(u, 'list_all_plan_de_cours');
	assert.deepEqual(lpd, [{ id: c.old, session: 'A24', cours: c.code }, { id: c.pdc, session: 'H26', cours: c.code }]);
	const multi = await outputOf(u, 'get_multiple_plan_cadre');
	assert.ok(Array.isArray(multi) && multi.length >= 1);
	for (const m of multi)
		assert.ok(m.id === c.pc || (typeof m.code === 'string' && typeof m.error === 'string'), JSON.stringify(m));
	// Someone outside the programme sees none of it.
	assert.deepEqual(await outputOf(other, 'list_all_plan_cadre'), []);
	assert.equal(await outputOf(other, 'get_plan_cadre'), null);
	assert.equal(await outputOf(other, 'get_plan_de_cours'), null);
});

test('a failing tool answers {"error"} to the model and the stream goes on', async () => {
	const u = await user('2.00');
	// The fake's invalid-json fault: the tool's arguments are not JSON.
	proxy.mode = { headers: { 'X-Fake-Fault': 'invalid-json' } };
	const r = await send(u, 'Liste les plans');
	checkHeaders(r);
	checkShapes(r.frames);
	assert.deepEqual(types(r.frames), ['processing', 'function_call', ...Array(8).fill('content'), 'done']);
	const out = JSON.parse(proxy.requests[1].body.input[0].output);
	assert.deepEqual(Object.keys(out), ['error']);
	assert.equal(typeof out.error, 'string');
	assert.equal(rows(u.id).length, 4);
});

test('tool rounds are bounded: four rounds, then tool_choice none forces the answer', async () => {
	const u = await user('2.00');
	const start = balance(u.id);
	proxy.mode = { again: true };
	const r = await send(u, 'Utilise des outils sans fin');
	checkHeaders(r);
	checkShapes(r.frames);
	assert.deepEqual(types(r.frames), ['processing', ...Array(4).fill('function_call'),
	    ...Array(8).fill('content'), 'done']);
	assert.deepEqual(proxy.requests.map((q) => q.body.tool_choice), ['auto', 'auto', 'auto', 'auto', 'none']);
	const l = checkMoney(u, start, 5);
	// Each follow-up continues the response that asked for the tool.
	for (let i = 1; i < 5; i++)
		assert.equal(proxy.requests[i].body.previous_response_id, l[i - 1].resp);
	assert.equal(r.frames.at(-1).prev_id, l[4].resp);
	const rs = rows(u.id);
	assert.equal(rs.length, 1 + 4 * 2 + 1);
	assert.deepEqual(rs.map((x) => x.split('|')[0]), ['user', ...Array(4).fill(['assistant', 'function']).flat(),
	    'assistant']);
});

test('reasoning summary: cumulative frames, reasoning request, tool rounds', async () => {
	const u = await user('2.00');
	settings(REASONING, 'low', 'low');
	const start = balance(u.id);
	const r = await send(u, 'Réfléchis puis réponds.');
	checkHeaders(r);
	checkShapes(r.frames);
	const b = proxy.requests[0].body;
	assert.deepEqual(b.reasoning, { effort: 'low', summary: 'auto' });
	assert.equal(b.temperature, undefined);
	assert.deepEqual(b.text, { format: { type: 'text' }, verbosity: 'low' });
	// Call 1: reasoning then a tool call; call 2: reasoning then the answer.
	assert.deepEqual(types(r.frames), ['processing', ...Array(8).fill('reasoning_summary'), 'function_call',
	    ...Array(8).fill('reasoning_summary'), ...Array(8).fill('content'), 'done']);
	const rs = r.frames.filter((f) => f.type === 'reasoning_summary').map((f) => f.content);
	for (let i = 1; i < rs.length; i++)
		assert.ok(rs[i].startsWith(rs[i - 1]), 'cumulative');
	assert.equal(rs[7], SUMMARY);
	assert.equal(rs.at(-1), `${SUMMARY}\n\n${SUMMARY}`);
	assert.equal(r.frames.at(-1).model, REASONING);
	const l = checkMoney(u, start, 2);
	assert.deepEqual(l.map((x) => x.reasoning), [8, 8]);
});

test('upstream cut mid-stream: error frame, partial answer saved interrupted, partial billing', async () => {
	const u = await user('2.00');
	const start = balance(u.id);
	proxy.mode = { toolChoice: 'none', headers: { 'X-Fake-Fault': 'reset-mid-stream' } };
	const r = await send(u, 'Coupe-toi');
	checkHeaders(r);
	checkShapes(r.frames);
	assert.deepEqual(types(r.frames), ['processing', 'content', 'content', 'error']);
	assert.match(r.frames.at(-1).content, /^Erreur API OpenAI/);
	const partial = r.frames.filter((f) => f.type === 'content').map((f) => f.content).join('');
	assert.deepEqual(rows(u.id), ['user|Coupe-toi||||false', `assistant|${partial}||||true`]);
	// The thread is forgotten: the next message replays the history.
	assert.equal(prevId(u.id), 'NULL');
	const l = checkMoney(u, start, 1);
	assert.equal(l[0].status, 'partial');
	assert.equal(l[0].output, 2);
});

test('client disconnect: upstream closed at once, rows interrupted, what was used is billed', async (t) => {
	const u = await user('2.00');
	const start = balance(u.id);
	// A long, slow answer: 400 deltas 25 ms apart.
	proxy.mode = { toolChoice: 'none', headers: { 'X-Fake-Chunks': '400', 'X-Fake-Chunk-Ms': '25' } };
	const r = await send(u, 'Parle longtemps', { abortAfter: 3 });
	assert.notEqual(r.abortedAt, null);
	// The program hangs up on the upstream within 100 ms of the client.
	for (let i = 0; i < 100 && proxy.requests[0].closedAt === null; i++)
		await sleep(10);
	const rec = proxy.requests[0];
	assert.notEqual(rec.closedAt, null, 'upstream connection never closed');
	assert.equal(rec.ended, false, 'the upstream answer should not have finished');
	const lag = rec.closedAt - r.abortedAt;
	t.diagnostic(`upstream closed ${lag} ms after the client`);
	assert.ok(lag < 100, `upstream closed ${lag} ms after the client`);
	// Saved and billed once the handler finishes.
	let rs = [];
	for (let i = 0; i < 200 && rs.length < 2; i++) {
		await sleep(10);
		rs = rows(u.id);
	}
	assert.equal(rs.length, 2);
	assert.equal(rs[0], 'user|Parle longtemps||||false');
	assert.match(rs[1], /^assistant\|.+\|\|\|\|true$/);
	const l = checkMoney(u, start, 1);
	assert.equal(l[0].status, 'partial');
	assert.ok(l[0].output >= 3 && l[0].output < 400, `output ${l[0].output}`);
	assert.equal(prevId(u.id), 'NULL');
});

// Issue 16: a reasoning model may think for a minute before its first
// token; a client that leaves meanwhile must not keep the call running.
test('client disconnect while the upstream is silent: upstream closed within a second, billed once', async (t) => {
	const u = await user('2.00');
	const start = balance(u.id);
	proxy.mode = { toolChoice: 'none', headers: { 'X-Fake-TTFT-Ms': '30000' } };
	// Leave once the request is upstream and the model is "thinking".
	const r = await send(u, 'Réfléchis longuement', { hold: async (abort) => {
		for (let i = 0; i < 500 && proxy.requests.length === 0; i++)
			await sleep(10);
		await sleep(300);
		abort();
	} });
	assert.notEqual(r.abortedAt, null);
	assert.equal(proxy.requests.length, 1);
	for (let i = 0; i < 200 && (proxy.requests.length === 0 || proxy.requests[0].closedAt === null); i++)
		await sleep(10);
	const rec = proxy.requests[0];
	assert.notEqual(rec.closedAt, null, 'upstream connection never closed');
	assert.equal(rec.ended, false, 'the upstream answer should not have finished');
	const lag = rec.closedAt - r.abortedAt;
	t.diagnostic(`silent upstream closed ${lag} ms after the client`);
	assert.ok(lag < 1000, `upstream closed ${lag} ms after the client`);
	// One ledger row: the input sent, no output seen.
	for (let i = 0; i < 200 && (ledger(u.id).length === 0 || openHolds(u.id) !== '0'); i++)
		await sleep(10);
	const l = checkMoney(u, start, 1);
	assert.equal(l[0].status, 'partial');
	assert.ok(l[0].input > 0);
	assert.equal(l[0].output, 0);
});

test('bad requests: empty message 400, unauthenticated 401, no credits before the stream', async () => {
	const u = await user('1.00');
	for (const m of ['', '   \n', undefined, 42]) {
		const r = await send(u, m);
		assert.equal(r.status, 400, r.text);
		// EDxo's flat error body (RL_ROUTE_EDXO) with its wording, the
		// x-message of the request schema chat.send.
		assert.deepEqual(r.json, { error: 'Empty message', code: 'validation_error', field: 'message' });
	}
	// The same refusal whichever way the message came.
	for (const as of ['form', 'multipart'])
		for (const m of ['', ' \t ', undefined]) {
			const r = await send(u, m, { as });
			assert.equal(r.status, 400, `${as}: ${r.text}`);
			assert.deepEqual(r.json, { error: 'Empty message', code: 'validation_error', field: 'message' });
		}
	// The size cap counts bytes, past the schema: 413.
	const big = await send(u, 'é'.repeat(32 * 1024 + 1));
	assert.equal(big.status, 413, big.text);
	assert.equal(big.json.field, 'message');
	assert.equal(proxy.requests.length, 0);
	assert.deepEqual(rows(u.id), []);
	const anon = await send(null, 'Bonjour');
	assert.equal(anon.status, 401);
	assert.equal((await postJSON('/chat/reset', {})).status, 401);
	const bad = await postJSON('/chat/reset', {}, auth('not.a.jwt'));
	assert.equal(bad.status, 401);
	// No credits: a plain error answer, nothing sent upstream, nothing saved.
	const poor = await user('0.00');
	const r = await send(poor, 'Bonjour');
	assert.ok(r.status === 402 || r.status === 403, r.text);
	assert.match(r.headers['content-type'], /json/);
	assert.equal(typeof r.json.error, 'string');
	assert.equal(proxy.requests.length, 0);
	assert.deepEqual(rows(poor.id), []);
	assert.equal(openHolds(poor.id), '0');
});

test('settings: chat_model_config when the section names no model; no key is a plain error', async () => {
	const u = await user('1.00');
	settings(null);
	const model = psql('SELECT chat_model FROM chat_model_config WHERE id = 1');
	const g = await postJSON('/chat/reset', {}, auth(u.token));
	assert.equal(g.status, 200);
	assert.deepEqual(g.body, { chat_model_name: model, previous_response_id: null });
	// A provider that is not on this machine and has no key.
	psql("INSERT INTO providers (name, base_url) VALUES ('chatnokey', 'https://nokey.invalid/v1') " +
	    'ON CONFLICT (name) DO NOTHING');
	psql("INSERT INTO openai_models (name, input_price, output_price, provider) VALUES " +
	    "('gpt-4.1-nokey', 2, 8, 'chatnokey') ON CONFLICT (name) DO NOTHING");
	settings('gpt-4.1-nokey');
	const r = await send(u, 'Bonjour');
	assert.equal(r.status, 400, r.text);
	assert.equal(r.json.error, 'Clé OpenAI non configurée.');
	assert.deepEqual(rows(u.id), []);
	assert.equal(openHolds(u.id), '0');
	assert.equal(proxy.requests.length, 0);
});
