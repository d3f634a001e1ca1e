// A FastCGI client, as nginx talks to a program's socket, and an instance
// of the chat program of a test's own: for two-instances and spares.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import { spawn } from 'node:child_process';
import { BUILD, STATE, until } from './lib.mjs';

// FastCGI (https://fastcgi-archives.github.io/FastCGI_Specification.html):
// BEGIN_REQUEST as a responder, PARAMS, STDIN, then STDOUT until
// END_REQUEST.  One request per connection, as nginx does here.
function record(type, body) {
	const h = Buffer.alloc(8);
	h.writeUInt8(1, 0);
	h.writeUInt8(type, 1);
	h.writeUInt16BE(1, 2);
	h.writeUInt16BE(body.length, 4);
	return Buffer.concat([h, body]);
}

function pairs(params) {
	const out = [];
	const len = (n) => {
		if (n < 128)
			return Buffer.from([n]);
		const b = Buffer.alloc(4);
		b.writeUInt32BE((n | 0x80000000) >>> 0);
		return b;
	};
	for (const [k, v] of Object.entries(params)) {
		const kb = Buffer.from(k), vb = Buffer.from(String(v));
		out.push(len(kb.length), len(vb.length), kb, vb);
	}
	return Buffer.concat(out);
}

// {status, headers, body} of one request to the program on sock.
export function fcgi(sock, method, path, { headers = {}, body, remote = '127.0.0.1' } = {}) {
	const data = body === undefined ? Buffer.alloc(0) : Buffer.from(JSON.stringify(body));
	const params = { REQUEST_METHOD: method, DOCUMENT_URI: path, REQUEST_URI: path, QUERY_STRING: '',
	    SERVER_PROTOCOL: 'HTTP/1.1', CONTENT_LENGTH: data.length, CONTENT_TYPE: body === undefined ? '' :
	    'application/json' };
	if (remote !== null)
		params.REMOTE_ADDR = remote;
	for (const [k, v] of Object.entries(headers))
		params[`HTTP_${k.toUpperCase().replace(/-/g, '_')}`] = v;
	return new Promise((resolve, reject) => {
		const s = net.createConnection(sock);
		let buf = Buffer.alloc(0), out = Buffer.alloc(0);
		s.on('error', reject);
		s.on('data', (d) => {
			buf = Buffer.concat([buf, d]);
			while (buf.length >= 8) {
				const type = buf.readUInt8(1), n = buf.readUInt16BE(4), pad = buf.readUInt8(6);
				if (buf.length < 8 + n + pad)
					break;
				if (type === 6)
					out = Buffer.concat([out, buf.subarray(8, 8 + n)]);
				buf = buf.subarray(8 + n + pad);
				if (type === 3) {
					s.end();
					const text = out.toString();
					const end = text.indexOf('\r\n\r\n');
					const hs = {};
					for (const line of text.slice(0, end).split('\r\n')) {
						const i = line.indexOf(':');
						hs[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
					}
					const raw = text.slice(end + 4);
					let parsed = raw;
					try {
						parsed = JSON.parse(raw);
					} catch {}
					resolve({ status: Number(hs.status.split(' ')[0]), headers: hs, body: parsed });
				}
			}
		});
		const begin = Buffer.from([0, 1, 0, 0, 0, 0, 0, 0]);
		const chunks = [record(1, begin), record(4, pairs(params)), record(4, Buffer.alloc(0))];
		for (let i = 0; i < data.length; i += 65535)
			chunks.push(record(5, data.subarray(i, i + 65535)));
		chunks.push(record(5, Buffer.alloc(0)));
		s.write(Buffer.concat(chunks));
	});
}

// The chat program (of the suite's build, or of build) started on a
// socket of its own (chat-<name>), its log beside the stack's, with env
// added to the test's; ready once it listens on its cache channel.
// {child, call (fcgi on its socket), stop (SIGTERM, unless it has exited)}.
export async function chatInstance(name, env = {}, build = BUILD) {
	const sock = `${STATE}/run/chat-${name}-${process.pid}.sock`;
	const log = `${STATE}/log/chat-${name}.log`;
	fs.appendFileSync(log, '');
	const fd = fs.openSync(log, 'a');
	const child = spawn(`${build}/cgi-bin/chat`, ['-s', sock], { stdio: ['ignore', fd, fd],
	    env: { ...process.env, ...env } });
	fs.closeSync(fd);
	const call = (...a) => fcgi(sock, ...a);
	await until(`chat-${name} listening on its cache channel`, async () => {
		if (!fs.existsSync(sock))
			return false;
		const r = await call('GET', '/metrics/chat', { remote: null });
		assert.equal(r.status, 200, 'its /metrics on its own socket, without nginx, needs no account');
		return /relais_cache_listening\{[^}]*\} 1/.test(r.body);
	}, 20000, 100);
	const stop = async () => {
		if (child.exitCode === null && child.signalCode === null) {
			child.kill('SIGTERM');
			await new Promise((r) => child.once('exit', r));
		}
	};
	return { child, call, stop };
}
