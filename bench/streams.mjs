// bench/streams.mjs N URL: hold N SSE streams at once and report how many
// completed, the frames seen, and the worst gap between frames.
const [n, url] = [Number(process.argv[2] || 1000), process.argv[3]];
const t0 = Date.now();
let open = 0, maxOpen = 0;
async function one() {
	const r = await fetch(url);
	open++; maxOpen = Math.max(maxOpen, open);
	const reader = r.body.getReader();
	const dec = new TextDecoder();
	let frames = 0, last = Date.now(), worst = 0, text = '';
	for (;;) {
		const { value, done } = await reader.read();
		if (done) break;
		const now = Date.now();
		worst = Math.max(worst, now - last);
		last = now;
		text += dec.decode(value, { stream: true });
		const parts = text.split('\n\n');
		text = parts.pop();
		frames += parts.filter((p) => p.includes('data:')).length;
	}
	open--;
	return { frames, worst };
}
const res = await Promise.allSettled(Array.from({ length: n }, one));
const ok = res.filter((r) => r.status === 'fulfilled').map((r) => r.value);
const frames = ok.reduce((a, r) => a + r.frames, 0);
const worst = ok.reduce((a, r) => Math.max(a, r.worst), 0);
console.log(JSON.stringify({ streams: n, completed: ok.length,
    failed: n - ok.length, max_open_at_once: maxOpen, frames,
    worst_gap_ms: worst, seconds: (Date.now() - t0) / 1000 }));
