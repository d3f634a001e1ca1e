// Shared helpers for the integration tests.  scripts/test starts the stack
// and exports where it is; a test run without it fails loudly instead of
// skipping.
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
