// Shared by the compat tests: find or start the fake OpenAI upstream.
//
// FAKE_OPENAI_BASE_URL: use a fake that is already running.
// FAKE_OPENAI_BIN: start this binary on a free loopback port; stop() sends
// SIGTERM and checks that it exits 0 (so ASan builds report leaks/errors).

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';

// Fail loudly, never skip: a missing fake must not look like a pass.
export async function startFake() {
	if (process.env.FAKE_OPENAI_BASE_URL)
		return { baseURL: process.env.FAKE_OPENAI_BASE_URL, stop: async () => {} };
	const bin = process.env.FAKE_OPENAI_BIN;
	if (!bin)
		throw new Error('tests/compat: set FAKE_OPENAI_BASE_URL to a running ' +
		    'fake-openai (http://127.0.0.1:PORT/v1) or FAKE_OPENAI_BIN to ' +
		    'the fake-openai binary; refusing to skip.');
	const child = spawn(bin, ['--listen', '127.0.0.1:0'],
	    { stdio: ['ignore', 'ignore', 'pipe'] });
	let stderr = '';
	const port = await new Promise((resolve, reject) => {
		const timer = setTimeout(() => reject(new Error(
		    `fake-openai did not start within 10 s: ${stderr}`)), 10000);
		child.on('error', (e) => { clearTimeout(timer); reject(e); });
		child.on('exit', (code) => {
			clearTimeout(timer);
			reject(new Error(`fake-openai exited (${code}): ${stderr}`));
		});
		child.stderr.on('data', (d) => {
			stderr += d;
			const m = /fake-openai listening on 127\.0\.0\.1:(\d+)/.exec(stderr);
			if (m) { clearTimeout(timer); resolve(Number(m[1])); }
		});
	});
	child.removeAllListeners('exit');
	return {
		baseURL: `http://127.0.0.1:${port}/v1`,
		stop: async () => {
			let code = child.exitCode, signal = child.signalCode;
			if (code === null && signal === null) {
				const exited = once(child, 'exit');
				child.kill('SIGTERM');
				[code, signal] = await exited;
			}
			assert.equal(signal, null, 'fake-openai died from a signal');
			assert.equal(code, 0, `fake-openai exit status ${code}: ${stderr}`);
		},
	};
}

