// Seed 004's own example clients (tests/integration/seed004/), as the
// seed writes them, against the stack through nginx: the Python one
// (requests) run by python3, the TypeScript one (fetch) transpiled by the
// typescript package (Debian's node-typescript) and run by node.  Each
// follows the seed's "Utilisation" steps: a plain completion, a streamed
// one, a transcription and a meeting transcription; every answer is
// checked (text, model, agent, the stream's chunks and its done event),
// and so is the money behind them: one ledger row per call, no hold left.
import test from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BASE, newUser, PASSWORD, psql, sentence, TOP, until } from './lib.mjs';

const SEED = `${TOP}/tests/integration/seed004`;

// `n` MPEG-1 layer III frames, 128 kbit/s, 44.1 kHz (417 bytes, 1152
// samples each) after an ID3v2 tag: n * 1152 / 44100 s, which relais
// reads from the frames (lib/audio.c) and rounds up to the millisecond.
function mp3(n) {
	const id3 = Buffer.concat([Buffer.from('ID3'), Buffer.from([3, 0, 0, 0, 0, 1, 0]), Buffer.alloc(128)]);
	const frame = Buffer.alloc(417);
	frame.set([0xff, 0xfb, 0x90, 0x00]);
	return Buffer.concat([id3, ...Array(n).fill(frame)]);
}
const secs = (n) => Math.ceil(n * 1152 / 44100 * 1000) / 1000;
const bytes = (n) => mp3(n).length;

// The seed names two recordings; the TypeScript usage sends audio.mp3 to
// both routes.
const AUDIO = 100, MEETING = 200;

// The typescript package: npm's when installed, else Debian's.
function typescript() {
	const require = createRequire(import.meta.url);
	try {
		return require('typescript');
	} catch {
		return require('/usr/share/nodejs/typescript');
	}
}

// The seed's TypeScript as ES modules in `dir`, types erased by the
// compiler (no hand edit); a syntax error fails the test.
function transpile(dir) {
	const ts = typescript();
	for (const name of ['router_ia_client', 'usage']) {
		const out = ts.transpileModule(readFileSync(`${SEED}/${name}.ts`, 'utf8'), {
			compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 },
			fileName: `${name}.ts`, reportDiagnostics: true,
		});
		assert.deepEqual(out.diagnostics.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n')), [],
		    `${name}.ts`);
		writeFileSync(join(dir, `${name}.mjs`), out.outputText);
	}
	return ts.version;
}

// Run `argv` in a directory holding the seed's recordings as a fresh
// user; its stdout's last line is the JSON of every answer.
async function run(argv, prepare) {
	const u = await newUser({ prefix: 'sc' });
	const name = psql(`SELECT username FROM users WHERE id = ${u.id}`);
	const dir = mkdtempSync(join(tmpdir(), 'sc-'));
	try {
		writeFileSync(join(dir, 'audio.mp3'), mp3(AUDIO));
		writeFileSync(join(dir, 'meeting_audio.mp3'), mp3(MEETING));
		prepare?.(dir);
		const out = execFileSync(argv[0], argv.slice(1), { cwd: dir, encoding: 'utf8', timeout: 60000,
		    env: { ...process.env, RELAIS_BASE: BASE, RELAIS_USERNAME: name, RELAIS_PASSWORD: PASSWORD,
		    PYTHONDONTWRITEBYTECODE: '1' } });
		const lines = out.trimEnd().split('\n');
		return { u, out, lines, seen: JSON.parse(lines.at(-1)) };
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
}

// The plain completion: the seed's body for the default model and agent.
function plain(r) {
	const p = r.seen.plain;
	assert.equal(p.response, sentence('gpt-4o'), r.out);
	assert.equal(p.model, 'gpt-4o');
	assert.equal(p.agent, 'V2', 'the default agent');
	assert.ok(p.usage.prompt_tokens > 0 && p.usage.completion_tokens > 0, JSON.stringify(p.usage));
	assert.equal(p.usage.total_tokens, p.usage.prompt_tokens + p.usage.completion_tokens);
	assert.equal(r.lines[0], sentence('gpt-4o'), 'print(result["response"]) / console.log');
}

// The streamed one: deltas that make the sentence, then one done event.
function stream(frames, out) {
	assert.ok(frames.length >= 2, out);
	const deltas = frames.slice(0, -1), last = frames.at(-1);
	for (const f of deltas) {
		assert.equal(f.done, false, JSON.stringify(f));
		assert.deepEqual(f.metadata, { model: 'gpt-4o', agent: 'V2' });
		assert.ok(typeof f.content === 'string' && f.content.length > 0, JSON.stringify(f));
	}
	assert.equal(deltas.map((f) => f.content).join(''), sentence('gpt-4o'));
	assert.equal(last.done, true, JSON.stringify(last));
	assert.equal(last.content, '');
	assert.equal(last.metadata.model, 'gpt-4o');
	assert.equal(last.metadata.usage.output_tokens, deltas.length, JSON.stringify(last.metadata));
}

// A transcription: the fake's text for that file as sent, model,
// language, and the duration: whisper-1's verbose_json one (the fake
// guesses a non-WAV's from its size: a second per 32000 bytes, at least
// one), else the one relais read from the MP3 frames.
function transcription(t, file, frames, model) {
	assert.match(t.text ?? '', new RegExp(`transcription simulée de ${file.replace('.', '\\.')} ` +
	    `\\(${bytes(frames)} octets\\)`), JSON.stringify(t));
	assert.equal(t.model, model);
	// whisper-1's verbose_json names the language ("french"); the
	// meeting model's json does not, and none was asked.
	assert.equal(t.language, model === 'whisper-1' ? 'fr' : null);
	const want = model === 'whisper-1' ? Math.max(1, Math.floor(bytes(frames) / 32000)) : secs(frames);
	assert.ok(Math.abs(t.duration - want) < 0.001, `${model}: ${t.duration} s, not ${want}`);
}

// The four calls' money: one ok ledger row each, no hold left open.
async function ledger(u) {
	const q = `FROM usage_ledger WHERE user_id = ${u.id} AND kind = 'openai_call'`;
	await until('four ledger rows', () => Number(psql(`SELECT count(*) ${q}`)) === 4 &&
	    Number(psql(`SELECT count(*) FROM credit_reservations WHERE user_id = ${u.id} ` +
	    `AND state = 'reserved'`)) === 0);
	assert.deepEqual(psql(`SELECT string_agg(model || ':' || status, ' ') ${q}`).split(' ').sort(),
	    ['gpt-4o-transcribe:ok', 'gpt-4o:ok', 'gpt-4o:ok', 'whisper-1:ok']);
	assert.equal(psql(`SELECT count(*) ${q} AND cost > 0`), '4');
}

test('the seed\'s Python client (requests): completion plain and streamed, transcriptions', async () => {
	const r = await run(['python3', `${SEED}/usage.py`]);
	// The seed's complete() holds a yield: its plain call is a
	// generator (usage.py says how the answer is taken from it).
	assert.equal(r.seen.plain_type, 'generator');
	plain(r);
	for (const l of r.seen.stream)
		assert.match(l, /^data: /);
	stream(r.seen.stream.map((l) => JSON.parse(l.slice(6))), r.out);
	transcription(r.seen.transcription, 'audio.mp3', AUDIO, 'whisper-1');
	transcription(r.seen.meeting, 'meeting_audio.mp3', MEETING, 'gpt-4o-transcribe');
	await ledger(r.u);
});

test('the seed\'s TypeScript client (fetch), transpiled by typescript, run by node', async () => {
	let version;
	const r = await run([process.execPath, 'usage.mjs'], (dir) => { version = transpile(dir); });
	assert.match(version, /^\d+\.\d+/);
	plain(r);
	stream(r.seen.stream, r.out);
	transcription(r.seen.transcription, 'audio.mp3', AUDIO, 'whisper-1');
	transcription(r.seen.meeting, 'audio.mp3', AUDIO, 'gpt-4o-transcribe');
	await ledger(r.u);
});
