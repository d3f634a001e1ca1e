// bench/ttff.mjs URL PATH BODY TOKENS C SECONDS MATCH: streams under load
// for bench/gateway.sh.  C loops post BODY to URL+PATH for SECONDS, each
// with a Bearer token taken in turn from the file TOKENS (empty file: no
// Authorization); a request's time is to the first chunk whose text so far
// matches the regular expression MATCH (the first token), then the stream
// is read to its end (so the call finishes and is billed).  Prints one
// line: streams/s, p50 and p99 of the time to first token in ms, errors.
// Keep-alive connections, as wrk's.  With an eighth argument "chain"
// each loop is a conversation of the Responses API: BODY's
// previous_response_id is, from its second request on, the id of the
// response that loop got last (as a chat thread goes on), so that the
// upstream's own work is what it is for a thread's turn.
import http from 'node:http';
import fs from 'node:fs';

const [url, path, body, tokfile, c, secs, match, mode] = process.argv.slice(2);
const chain = mode === 'chain';
const template = chain ? JSON.parse(body) : null;
const re = new RegExp(match);
const tokens = fs.readFileSync(tokfile, 'utf8').split('\n').filter((t) => t !== '');
const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
const u = new URL(url);
const now = () => Number(process.hrtime.bigint()) / 1e6;
const times = [];
let n = 0, errors = 0;

function one(loop) {
	const b = chain && loop.prev ?
	    JSON.stringify({ ...template, previous_response_id: loop.prev }) : body;
	return new Promise((resolve) => {
		const h = { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(b) };
		if (tokens.length > 0)
			h.Authorization = `Bearer ${tokens[n++ % tokens.length]}`;
		const t0 = now();
		let t = null, text = '';
		const req = http.request({ host: u.hostname, port: u.port, path, method: 'POST', agent,
		    headers: h }, (res) => {
			res.setEncoding('utf8');
			res.on('data', (d) => {
				if (t === null) {
					text += d;
					if (re.test(text))
						t = now() - t0;
				}
			});
			if (chain)
				res.on('data', (d) => {
					const m = /"response":\{"id":"(resp_[^"]+)"/.exec(d);
					if (m !== null)
						loop.prev = m[1];
				});
			res.on('end', () => {
				if (res.statusCode !== 200 || t === null)
					errors++;
				else
					times.push(t);
				resolve();
			});
		});
		req.on('error', () => {
			errors++;
			resolve();
		});
		req.end(b);
	});
}

const until = now() + Number(secs) * 1000;
const t0 = now();
await Promise.all(Array.from({ length: Number(c) }, async () => {
	const loop = { prev: null };
	while (now() < until)
		await one(loop);
}));
const el = (now() - t0) / 1000;
times.sort((a, b) => a - b);
const at = (p) => times.length ? times[Math.min(times.length - 1, Math.floor(p * times.length))] : NaN;
console.log(`${(times.length / el).toFixed(0)} ${at(0.5).toFixed(3)} ${at(0.99).toFixed(3)} ${errors}`);
agent.destroy();
