// Seed 004's transcription routes and /health through nginx, the
// transcription program and the fake upstream: every route, the duration
// of each container (built here, byte by byte, with a known length), the
// refusals (extension or magic bytes: 415; unreadable duration: 422; too
// big: 413 and nothing kept in RELAIS_TMPDIR; too long for the meeting:
// 422 with nothing sent upstream), the money (one ledger row, the amount
// from what the upstream reported) and /health up and down.  The seed's
// own Python and TypeScript clients run in seed-clients.test.mjs.
import test from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { auth, getJSON, newUser, psql, STATE, until } from './lib.mjs';

const FAKE = process.env.FAKE_OPENAI_BASE_URL.replace(/\/v1$/, '');
const TMP = process.env.RELAIS_TMPDIR ?? `${STATE}/tmp`;
const MiB = 1024 * 1024;

// ---- containers ---------------------------------------------------------

const u16 = (v) => { const b = Buffer.alloc(2); b.writeUInt16LE(v); return b; };
const u32 = (v) => { const b = Buffer.alloc(4); b.writeUInt32LE(v); return b; };
const b32 = (v) => { const b = Buffer.alloc(4); b.writeUInt32BE(v); return b; };

// 16-bit mono PCM silence of `ms` milliseconds at `rate` Hz.
function wav(ms, rate = 16000) {
	const data = rate * 2 * ms / 1000;
	return Buffer.concat([Buffer.from('RIFF'), u32(36 + data), Buffer.from('WAVEfmt '),
	    u32(16), u16(1), u16(1), u32(rate), u32(rate * 2), u16(2), u16(16),
	    Buffer.from('data'), u32(data), Buffer.alloc(data)]);
}

// `n` MPEG-1 layer III frames, 128 kbit/s, 44.1 kHz: 417 bytes, 1152
// samples each; after an ID3v2 tag.
function mp3(n) {
	const id3 = Buffer.concat([Buffer.from('ID3'), Buffer.from([3, 0, 0, 0, 0, 1, 0]), Buffer.alloc(128)]);
	const frame = Buffer.alloc(417);
	frame.set([0xff, 0xfb, 0x90, 0x00]);
	return Buffer.concat([id3, ...Array(n).fill(frame)]);
}

// ftyp, moov/mvhd (version 0: timescale, duration) and an mdat.
function m4a(scale, dur) {
	const mvhd = Buffer.concat([b32(108), Buffer.from('mvhd'), Buffer.alloc(4), b32(0), b32(0),
	    b32(scale), b32(dur), Buffer.alloc(80)]);
	return Buffer.concat([b32(20), Buffer.from('ftypM4A '), b32(0), Buffer.from('M4A '),
	    b32(8 + mvhd.length), Buffer.from('moov'), mvhd, b32(8 + 2000), Buffer.from('mdat'),
	    Buffer.alloc(2000)]);
}

// EBML header, Segment, Info {TimestampScale 1 ms, Duration `ms` as a
// double}; no Duration at all when ms is null (a live recording).
function webm(ms) {
	const scale = Buffer.from([0x2a, 0xd7, 0xb1, 0x83, 0x0f, 0x42, 0x40]);
	const d = Buffer.alloc(8);
	d.writeDoubleBE(ms ?? 0);
	const info = Buffer.concat([scale, ms === null ? Buffer.alloc(0)
	    : Buffer.concat([Buffer.from([0x44, 0x89, 0x88]), d])]);
	const seg = Buffer.concat([Buffer.from([0x15, 0x49, 0xa9, 0x66, 0x80 | info.length]), info,
	    Buffer.from([0x1f, 0x43, 0xb6, 0x75, 0x80])]);
	return Buffer.concat([Buffer.from([0x1a, 0x45, 0xdf, 0xa3, 0x87, 0x42, 0x82, 0x84]),
	    Buffer.from('webm'), Buffer.from([0x18, 0x53, 0x80, 0x67, 0x80 | seg.length]), seg]);
}

// What lib/audio.c must read from each, in seconds (100 frames of 1152
// samples at 44.1 kHz: 2.6122 s, rounded up to the millisecond).
const FILES = [
	{ name: 'note.wav', data: wav(2500), secs: 2.5 },
	{ name: 'note.mp3', data: mp3(100), secs: 2.613 },
	{ name: 'note.m4a', data: m4a(44100, 44100 * 3.5), secs: 3.5 },
	{ name: 'note.webm', data: webm(4250), secs: 4.25 },
];

// ---- helpers ------------------------------------------------------------

async function upload(path, token, file, fields = {}) {
	const form = new FormData();
	for (const [k, v] of Object.entries(fields))
		form.append(k, String(v));
	if (file !== undefined)
		form.append('file', new Blob([file.data]), file.name);
	return getJSON(path, { method: 'POST', headers: token ? auth(token) : {}, body: form });
}

const fakeAudio = async () => (await (await fetch(`${FAKE}/_fake/audio`)).json());
const rows = (u) => Number(psql(`SELECT count(*) FROM usage_ledger WHERE user_id = ${u.id} AND kind = 'openai_call'`));
const openHolds = (u) => Number(psql(`SELECT count(*) FROM credit_reservations WHERE user_id = ${u.id} AND state = 'reserved'`));
const bigTmp = () => readdirSync(TMP).filter((f) => {
	try { return statSync(join(TMP, f)).size >= 25 * MiB; } catch { return false; }
});

// The ledger row of the user's only call, once the queue wrote it.
async function ledger(u) {
	await until('ledger row', () => rows(u) === 1 && openHolds(u) === 0);
	return JSON.parse(psql(`SELECT json_build_object('model', model, 'cost', cost::text, 'status', status, ` +
	    `'feature', feature, 'in', input_tokens, 'out', output_tokens, 'delta', delta::text) ` +
	    `FROM usage_ledger WHERE user_id = ${u.id} AND kind = 'openai_call'`));
}

// ---- tests --------------------------------------------------------------

test('supported-formats: the seed\'s body, authenticated like /completion', async () => {
	assert.equal((await getJSON('/transcription/supported-formats')).status, 401);
	const u = await newUser({ prefix: 'tr' });
	const r = await getJSON('/transcription/supported-formats', { headers: auth(u.token) });
	assert.equal(r.status, 200, JSON.stringify(r.body));
	assert.deepEqual(r.body, {
		supported_formats: ['mp3', 'mp4', 'mpeg', 'mpga', 'm4a', 'wav', 'webm'],
		max_file_size_mb: 25,
		model: 'whisper-1',
		languages: 'Auto-detection or specify ISO-639-1 code',
	});
});

test('POST /transcription: each format through whisper-1, verbose_json, its language as a code', async () => {
	const u = await newUser({ prefix: 'tr' });
	assert.equal((await upload('/transcription', null, FILES[0])).status, 401);
	for (const f of FILES) {
		const before = (await fakeAudio()).requests;
		const r = await upload('/transcription', u.token, f);
		assert.equal(r.status, 200, `${f.name}: ${JSON.stringify(r.body)}`);
		assert.deepEqual(Object.keys(r.body).sort(), ['duration', 'language', 'model', 'text']);
		assert.equal(r.body.model, 'whisper-1');
		assert.equal(r.body.language, 'fr', 'the fake says "french"');
		assert.match(r.body.text, new RegExp(`transcription simulée de ${f.name.replace('.', '\\.')} \\(${f.data.length} octets\\)`));
		assert.ok(r.body.duration > 0);
		const a = await fakeAudio();
		assert.equal(a.requests, before + 1);
		assert.equal(a.model, 'whisper-1');
		assert.equal(a.filename, f.name);
		assert.equal(a.bytes, f.data.length, 'the file is sent as uploaded');
	}
	// The fake reads a WAV's header as the service would: its duration.
	const r = await upload('/transcription', u.token, FILES[0]);
	assert.equal(r.body.duration, 2.5);
});

test('POST /transcription/meeting: gpt-4o-transcribe, and the duration each container declares', async () => {
	const u = await newUser({ prefix: 'tr' });
	for (const f of FILES) {
		const r = await upload('/transcription/meeting', u.token, f,
		    { project_id: 'proj-abc123', max_duration_seconds: 3600 });
		assert.equal(r.status, 200, `${f.name}: ${JSON.stringify(r.body)}`);
		assert.equal(r.body.model, 'gpt-4o-transcribe');
		// json (the family has no verbose_json): no duration upstream,
		// so the answer's is what lib/audio.c read.
		assert.equal(r.body.duration, f.secs, f.name);
		assert.equal(r.body.language, null);
		assert.equal((await fakeAudio()).model, 'gpt-4o-transcribe');
	}
	// max_duration_seconds is a bound on that same duration.
	const webmFile = FILES[3];
	let r = await upload('/transcription/meeting', u.token, webmFile, { max_duration_seconds: 5 });
	assert.equal(r.status, 200);
	r = await upload('/transcription/meeting', u.token, webmFile, { max_duration_seconds: 'x' });
	assert.equal(r.status, 422);
});

test('?language= is an ISO-639-1 code, forwarded upstream and answered as asked', async () => {
	const u = await newUser({ prefix: 'tr' });
	let r = await upload('/transcription?language=en', u.token, FILES[0]);
	assert.equal(r.status, 200, JSON.stringify(r.body));
	assert.equal(r.body.language, 'en');
	assert.equal((await fakeAudio()).language, 'en');
	const before = (await fakeAudio()).requests;
	for (const bad of ['english', 'EN', 'e1', 'f'])
		assert.equal((await upload(`/transcription?language=${bad}`, u.token, FILES[0])).status, 422, bad);
	assert.equal((await fakeAudio()).requests, before);
});

test('refusals before anything is sent or paid: extension, magic bytes, duration, no file', async () => {
	const u = await newUser({ prefix: 'tr' });
	const before = (await fakeAudio()).requests;
	const cases = [
		// Wrong extension: 415.
		[{ name: 'note.ogg', data: wav(1000) }, 415, 'unsupported_media_type'],
		[{ name: 'note', data: wav(1000) }, 415, 'unsupported_media_type'],
		// Magic bytes that are not the extension's format: 415.
		[{ name: 'note.mp3', data: wav(1000) }, 415, 'unsupported_media_type'],
		[{ name: 'note.wav', data: Buffer.from('%PDF-1.4 not audio at all '.repeat(40)) }, 415, 'unsupported_media_type'],
		// The right format, but its header says no duration: 422.
		[{ name: 'live.webm', data: webm(null) }, 422, 'validation_error'],
		[{ name: 'cut.m4a', data: m4a(44100, 44100).subarray(0, 60) }, 422, 'validation_error'],
		[{ name: 'empty.wav', data: wav(0) }, 422, 'validation_error'],
		[{ name: 'zero.mp3', data: Buffer.alloc(0) }, 422, 'validation_error'],
	];
	for (const [f, status, code] of cases) {
		const r = await upload('/transcription', u.token, f);
		assert.equal(r.status, status, `${f.name}: ${JSON.stringify(r.body)}`);
		assert.equal(r.body.error.code, code, f.name);
		assert.equal(r.body.error.field, 'file', f.name);
	}
	const r = await upload('/transcription', u.token, undefined, { note: 'no file' });
	assert.equal(r.status, 422);
	assert.equal(r.body.error.field, 'file');
	assert.equal((await fakeAudio()).requests, before, 'nothing was sent upstream');
	assert.equal(rows(u), 0);
	assert.equal(openHolds(u), 0);
});

test('past 25 MB: 413 and nothing kept in RELAIS_TMPDIR', async () => {
	const u = await newUser({ prefix: 'tr' });
	const before = (await fakeAudio()).requests;
	// 26 MiB: the body is over the route's cap, refused from its length.
	let r = await upload('/transcription', u.token, { name: 'big.wav', data: wav(26 * MiB / 32) });
	assert.equal(r.status, 413, JSON.stringify(r.body));
	assert.equal(r.body.error.code, 'payload_too_large');
	// 25 MiB + 1 byte: the body fits the cap (with the form's slack), the
	// file does not; it was stored while parsed, and must be gone.
	const f = wav(1000);
	r = await upload('/transcription/meeting', u.token, { name: 'big.wav',
	    data: Buffer.concat([f, Buffer.alloc(25 * MiB + 1 - f.length)]) });
	assert.equal(r.status, 413, JSON.stringify(r.body));
	assert.equal(r.body.error.field, 'file');
	assert.deepEqual(bigTmp(), [], `uploads left in ${TMP}`);
	assert.equal((await fakeAudio()).requests, before);
	assert.equal(rows(u), 0);
});

test('a meeting longer than max_duration_seconds is refused with nothing sent upstream', async () => {
	const u = await newUser({ prefix: 'tr' });
	const before = await fakeAudio();
	const r = await upload('/transcription/meeting', u.token, FILES[0],
	    { project_id: 'proj-abc123', max_duration_seconds: 2 });
	assert.equal(r.status, 422, JSON.stringify(r.body));
	assert.equal(r.body.error.code, 'validation_error');
	assert.equal(r.body.error.field, 'max_duration_seconds');
	assert.match(r.body.error.message, /2\.5 s/);
	assert.equal((await fakeAudio()).requests, before.requests, 'sent upstream');
	assert.equal(rows(u), 0);
	assert.equal(openHolds(u), 0);
	assert.equal(Number(psql(`SELECT count(*) FROM credit_reservations WHERE user_id = ${u.id}`)), 0,
	    'not even reserved');
});

test('money: whisper-1 per reported second, one ledger row', async () => {
	const u = await newUser({ prefix: 'tr', credits: '1.00' });
	const r = await upload('/transcription', u.token, { name: 'm.wav', data: wav(2500) });
	assert.equal(r.status, 200, JSON.stringify(r.body));
	const l = await ledger(u);
	// The fake reports {type: duration, seconds: 3} (whole seconds, as
	// OpenAI): 3 s at $0.006 a minute.
	assert.deepEqual(l, { model: 'whisper-1', cost: '0.000300', status: 'ok', feature: 'transcription',
	    in: 0, out: 0, delta: '-0.000300' });
	assert.equal(psql(`SELECT credits::text FROM users WHERE id = ${u.id}`), '0.999700');
});

test('money: gpt-4o-transcribe per reported token, audio tokens at the audio price', async () => {
	const u = await newUser({ prefix: 'tr', credits: '1.00' });
	const r = await upload('/transcription/meeting', u.token, { name: 'm.wav', data: wav(2500) },
	    { project_id: 'proj-abc123', max_duration_seconds: 60 });
	assert.equal(r.status, 200, JSON.stringify(r.body));
	const l = await ledger(u);
	// The fake: audio tokens 2.5 s * 1000 / 60 + 1 = 42, output one per
	// 4 bytes of text; $6 per 1M audio tokens, $10 per 1M output tokens.
	const out = Math.floor((Buffer.byteLength(r.body.text) + 3) / 4);
	const micro = 42 * 6 + out * 10;
	assert.equal(l.model, 'gpt-4o-transcribe');
	assert.equal(l.feature, 'transcription.meeting');
	assert.equal(l.in, 42);
	assert.equal(l.out, out);
	assert.equal(l.cost, (micro / 1e6).toFixed(6));
});

test('no credits: 402 and nothing sent', async () => {
	const u = await newUser({ prefix: 'tr', credits: '0.00' });
	const before = (await fakeAudio()).requests;
	const r = await upload('/transcription', u.token, FILES[0]);
	assert.equal(r.status, 402, JSON.stringify(r.body));
	assert.equal(r.body.error.code, 'insufficient_credits');
	assert.equal((await fakeAudio()).requests, before);
});

test('GET /health: the seed\'s shape, 503 unhealthy while PostgreSQL is down', async () => {
	let r = await getJSON('/health');
	assert.equal(r.status, 200);
	assert.deepEqual(Object.keys(r.body).sort(), ['environment', 'status', 'timestamp', 'title', 'version']);
	assert.equal(r.body.status, 'healthy');
	assert.match(r.body.version, /^\d+\.\d+\.\d+$/);
	assert.match(r.body.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);
	assert.ok(Math.abs(Date.parse(`${r.body.timestamp}Z`) - Date.now()) < 60000, 'UTC, now');
	// /api/health keeps its own body.
	assert.equal((await getJSON('/api/health')).body.status, 'ok');
	execFileSync(`${STATE}/pg-stop`, { stdio: 'ignore' });
	try {
		r = await getJSON('/health');
		assert.equal(r.status, 503);
		assert.equal(r.body.status, 'unhealthy');
		assert.equal(r.body.title, 'relais');
	} finally {
		execFileSync(`${STATE}/pg-start`, { stdio: 'ignore' });
	}
	let back = 0;
	for (let i = 0; i < 100 && back < 8; i++) {
		r = await getJSON('/health');
		back = r.status === 200 ? back + 1 : 0;
		if (r.status !== 200) await new Promise((ok) => setTimeout(ok, 100));
	}
	assert.equal(back, 8, 'health did not recover after PostgreSQL restarted');
});
