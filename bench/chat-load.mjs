// bench/chat-load.mjs BASE FAKE_BASE N PID TTFT: the figures of
// bench/chat.sh.  BASE is nginx, FAKE_BASE the fake's /v1, PID the chat
// program's.
import http from 'node:http';
import fs from 'node:fs';

const [base, fake, n, pid, ttft] = [process.argv[2], process.argv[3],
    Number(process.argv[4] || 1000), process.argv[5], Number(process.argv[6] || 200)];
const SAMPLES = 40;
const MODEL = 'gpt-5-mini';
const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
const now = () => Number(process.hrtime.bigint()) / 1e6;

function post(url, headers, body, onChunk) {
	return new Promise((resolve, reject) => {
		const u = new URL(url);
		const req = http.request({ host: u.hostname, port: u.port, path: u.pathname,
		    method: 'POST', agent, headers: { 'Content-Type': 'application/json',
		    'Content-Length': Buffer.byteLength(body), ...headers } }, (res) => {
			let text = '';
			res.setEncoding('utf8');
			res.on('data', (c) => {
				text += c;
				if (onChunk(text, res.statusCode) === 'stop') {
					req.destroy();
					resolve(text);
				}
			});
			res.on('end', () => resolve(text));
			res.on('error', () => resolve(text));
		});
		req.on('error', (e) => (e.code === 'ECONNRESET' ? resolve('') : reject(e)));
		req.end(body);
	});
}

function stats(a) {
	const s = [...a].sort((x, y) => x - y);
	const at = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
	return { median: +at(0.5).toFixed(3), p90: +at(0.9).toFixed(3), min: +s[0].toFixed(3) };
}

function mem() {
	const st = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
	return { threads: Number(/Threads:\s+(\d+)/.exec(st)[1]),
	    rss_kib: Number(/VmRSS:\s+(\d+)/.exec(st)[1]) };
}

const login = await new Promise((resolve, reject) => {
	const body = JSON.stringify({ username: 'admin@demo.relais', password: 'relais-demo' });
	post(base + '/auth/token', {}, body, () => {}).then((t) => resolve(JSON.parse(t).access_token), reject);
});
const auth = { Authorization: `Bearer ${login}` };
const message = 'Quel est le plan de cours de 420-1A1 ?';

// The same first call the chat program makes, sent to the fake directly.
const direct = JSON.stringify({ model: MODEL, stream: true, tool_choice: 'auto',
    max_output_tokens: 2048, text: { format: { type: 'text' } },
    reasoning: { effort: 'low', summary: 'auto' },
    input: [{ role: 'user', content: [{ type: 'input_text', text: message }] }],
    tools: [{ type: 'function', name: 'get_plan_de_cours', strict: true,
	parameters: { type: 'object', properties: { code: { type: 'string' } },
	required: ['code'], additionalProperties: false } }] });

async function sampleDirect() {
	const t0 = now();
	let t = null;
	await post(fake + '/responses', {}, direct, (text) => {
		if (t === null && text.includes('response.reasoning_summary_text.delta')) {
			t = now() - t0;
			return 'stop';
		}
		return null;
	});
	return t;
}

async function sampleRelais() {
	const t0 = now();
	let first = null, t = null;
	await post(base + '/chat/send', auth, JSON.stringify({ message }), (text) => {
		if (first === null)
			first = now() - t0;
		if (t === null && text.includes('"type":"reasoning_summary"')) {
			t = now() - t0;
			return 'stop';
		}
		return null;
	});
	return { first, t };
}

// 1. Time to first token, one at a time, interleaved.
const d = [], r = [], f = [];
for (let i = 0; i < SAMPLES + 3; i++) {
	const a = await sampleDirect();
	const b = await sampleRelais();
	if (i < 3 || a === null || b.t === null)
		continue;	// warm-up
	d.push(a);
	r.push(b.t);
	f.push(b.first);
}
const diff = r.map((x, i) => x - d[i]);
console.log(JSON.stringify({ ttft_ms_set: ttft, samples: d.length,
    direct_first_token_ms: stats(d), relais_first_token_ms: stats(r),
    added_by_nginx_and_chat_ms: stats(diff),
    relais_first_byte_processing_frame_ms: stats(f) }));

// 2. N concurrent streams.
await new Promise((res) => setTimeout(res, 1500));
let open = 0, maxOpen = 0, started = 0, firstTokens = 0, completed = 0, failed = 0;
let peak = mem();
const before = peak;
const timer = setInterval(() => {
	const m = mem();
	if (m.rss_kib > peak.rss_kib || m.threads > peak.threads)
		peak = { threads: Math.max(m.threads, peak.threads), rss_kib: Math.max(m.rss_kib, peak.rss_kib) };
}, 200);
const t0 = now();
async function one() {
	let got = false, tok = false;
	const text = await post(base + '/chat/send', auth, JSON.stringify({ message }), (t, status) => {
		if (!got && status === 200) {
			got = true;
			started++;
			open++;
			maxOpen = Math.max(maxOpen, open);
		}
		if (!tok && t.includes('"type":"reasoning_summary"')) {
			tok = true;
			firstTokens++;
		}
		return null;
	});
	if (got)
		open--;
	if (text.includes('"type":"done"'))
		completed++;
	else
		failed++;
}
await Promise.all(Array.from({ length: n }, one));
clearInterval(timer);
console.log(JSON.stringify({ streams: n, started, got_first_token: firstTokens,
    completed, failed, max_open_at_once: maxOpen, seconds: +((now() - t0) / 1000).toFixed(1),
    program_before: before, program_peak: peak,
    rss_mb_peak: +(peak.rss_kib / 1024).toFixed(1) }));
