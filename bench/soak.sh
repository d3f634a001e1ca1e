#!/usr/bin/env bash
# bench/soak.sh [MINUTES]: money under faults, for MINUTES (5 by default).
#
# Starts its own stack (PostgreSQL, the fake upstream, every program, the
# worker, nginx) and runs mixed billable traffic from four users for
# MINUTES: completions (plain and streamed), synchronous and queued
# /ai/openai/ jobs and relais.generate tasks, each with an upstream fault
# drawn at random (none, 429, 500, 500 five times, reset mid-stream,
# garbage, now and then a timeout).  At 40 % of the run the worker is
# SIGKILLed while it runs tasks and started again; at 70 % PostgreSQL is
# stopped (immediate) for 5 s and started again.  Programs run under
# scripts/supervise, as scripts/run and scripts/test run them.  Then it waits for the
# stack to settle (at most 4 minutes: a task of the killed worker is taken
# back after its 60 s lease) and checks, printing the figures:
#
#  - every answer the fake delivered whole (its own count, GET
#    /_fake/stats) has exactly one usage_ledger row, and every "ok" row is
#    one of them;
#  - no hold open, no job or task not finished, no balance negative or
#    different from the sum of its ledger deltas;
#  - money writes queued while the database was away, landed, refused;
#  - fds and RSS of every program at the start and the end (/proc).
#
# Exit 1 on any discrepancy.  RELAIS_BUILD names an existing build to use
# as it is (default: ./build, built first); a sanitizer build measures the
# sanitizers too.  Figures: bench/README.md.
set -euo pipefail
. "$(dirname "$0")/../scripts/lib.sh"
minutes=${1:-5}
BUILD=${RELAIS_BUILD:-$RL_TOP/build}
if [ -z "${RELAIS_BUILD:-}" ] || [ ! -x "$BUILD/bin/relais-worker" ]; then
	rl_build "$BUILD"
fi
STATE=$(mktemp -d "${TMPDIR:-/tmp}/relais-soak.XXXXXX"); chmod 755 "$STATE"
PORT=$(rl_free_port)
trap 'rl_stop; [ "${RELAIS_SOAK_KEEP:-0}" = 1 ] || rm -rf "$STATE"' EXIT
RL_PG_FSYNC=off rl_base "$BUILD"
rl_demo
unset RELAIS_OPENAI_API_KEY
rl_upstream "$BUILD"
rl_programs "$BUILD"
rl_worker "$BUILD"
rl_nginx
rl_wait_ready
FAKE=${RELAIS_OPENAI_BASE_URL%/v1}
TAG="soak$(head -c 4 /dev/urandom | od -An -tx1 | tr -d ' \n')"

q() { psql -h "$RL_PGHOST" -U relais -d relais -Atqc "$1"; }

# The program behind a pid file: a supervised one's own pid is in
# NAME.child (scripts/supervise), the supervisor's in NAME.pid.
prog_pid() {
	local c=${1%.pid}.child
	if [ -f "$c" ]; then cat "$c"; else cat "$1"; fi
}

# fds and RSS of every process with a pid file, one line each.
procs() {
	local f pid name
	for f in "$STATE"/pids/*.pid; do
		name=$(basename "$f" .pid)
		pid=$(prog_pid "$f")
		[ -d "/proc/$pid" ] || { printf '  %-12s gone\n' "$name"; continue; }
		printf '  %-12s pid %-7s fds %-4s rss_kib %s\n' "$name" "$pid" \
			"$(ls "/proc/$pid/fd" 2>/dev/null | wc -l)" \
			"$(awk '/VmRSS/ { print $2 }' "/proc/$pid/status")"
	done
}
echo "processes at the start:"
procs >"$STATE/procs-start"
cat "$STATE/procs-start"

secs=$((minutes * 60))
node --input-type=module - "http://127.0.0.1:$PORT" "$FAKE" "$TAG" "$secs" \
	"$RL_PGHOST" >"$STATE/driver.json" 2>"$STATE/log/driver.log" <<'EOF' &
// The traffic: 8 loops, each a random billable call with a random fault.
import { execFileSync } from 'node:child_process';
const [base, fake, tag, secs, pghost] = process.argv.slice(2);
const psql = (sql) => execFileSync('psql', ['-h', pghost, '-U', 'relais', '-d', 'relais', '-Atqc', sql],
    { encoding: 'utf8' }).trim();
const post = async (path, body, token) => {
	const r = await fetch(base + path, { method: 'POST', headers: { 'Content-Type': 'application/json',
	    ...(token ? { Authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body) });
	const text = await r.text();
	let json = null;
	try { json = JSON.parse(text); } catch { /* a stream */ }
	return { status: r.status, json };
};
const login = async (username, password) => (await post('/auth/token', { username, password })).json.access_token;
const admin = await login('admin@demo.relais', 'relais-demo');
const users = [];
for (let i = 0; i < 4; i++) {
	const name = `${tag}-u${i}`;
	const r = await post('/manage_users', { username: name, password: 'soak soak soak', role: 'professeur' }, admin);
	await post(`/edit_user/${r.json.id}/credits`, { amount: '50.00', operation: 'add' }, admin);
	users.push({ id: r.json.id, token: await login(name, 'soak soak soak') });
}
const FAULTS = ['', '', '', '429', '500', '500x5', 'reset-mid-stream', 'garbage', ''];
let key = 0;
function dir() {
	let f = FAULTS[Math.floor(Math.random() * FAULTS.length)];
	if (Math.random() < 0.02)
		f = 'timeout';
	// A quarter of the calls take 2-4 s upstream, so that some are in
	// flight whenever PostgreSQL goes away.
	const ttft = Math.random() < 0.25 ? 2000 + Math.random() * 2000 : Math.random() * 400;
	const k = [`X-Fake-Tag: ${tag}`, `X-Fake-TTFT-Ms: ${Math.floor(ttft)}`];
	if (f !== '')
		k.push(`X-Fake-Fault: ${f.replace('x5', '')}`, `X-Fake-Fault-Count: ${f.endsWith('x5') ? 5 : 1}`,
		    `X-Fake-Fault-Key: ${tag}-${key++}`);
	return `[[${k.join('; ')}]]`;
}
const counts = {};
const count = (op, status) => { const k = `${op} ${status}`; counts[k] = (counts[k] || 0) + 1; };
const ops = [
	async (u) => count('completion', (await post('/completion', { message: `Bonjour ${dir()}`,
	    model: 'gpt-4o-mini', agent: 'V2', stream: false }, u.token)).status),
	async (u) => count('completion-stream', (await post('/completion', { message: `Bonjour ${dir()}`,
	    model: 'gpt-4o-mini', agent: 'V2', stream: true }, u.token)).status),
	async (u) => count('job', (await post('/ai/openai/chat/', { model: 'gpt-4o-mini',
	    messages: [{ role: 'user', content: `Résume ${dir()}` }] }, u.token)).status),
	async (u) => count('job-async', (await post('/ai/openai/chat/', { model: 'gpt-4o-mini', async: true,
	    messages: [{ role: 'user', content: `Résume ${dir()}` }] }, u.token)).status),
	async (u) => {
		const p = JSON.stringify({ model: 'gpt-4o-mini', prompt: `Rédige. ${dir()}`, feature: 'soak' });
		try {
			psql(`INSERT INTO tasks (name, user_id, payload, max_attempts) VALUES ('relais.generate', ` +
			    `${u.id}, '${p.replace(/'/g, "''")}'::jsonb, 2)`);
			count('generate', 'queued');
		} catch {
			count('generate', 'db_down');
		}
	},
];
const end = Date.now() + Number(secs) * 1000;
await Promise.all(Array.from({ length: 8 }, async (_, i) => {
	while (Date.now() < end) {
		try {
			await ops[Math.floor(Math.random() * ops.length)](users[i % users.length]);
		} catch (e) {
			count('error', e.cause?.code ?? e.message);
			await new Promise((r) => setTimeout(r, 200));
		}
	}
}));
console.log(JSON.stringify({ users: users.map((u) => u.id), counts }));
EOF
driver=$!

# The faults: the worker SIGKILLed mid-task at 40 %, PostgreSQL restarted
# at 70 %.
sleep $((secs * 40 / 100))
for i in $(seq 50); do
	[ "$(q "SELECT count(*) FROM tasks WHERE state IN ('STARTED', 'PROGRESS')")" -gt 0 ] && break
	sleep 0.2
done
wpid=$(cat "$STATE/pids/worker.child")
echo "SIGKILL worker $wpid with $(q "SELECT count(*) FROM tasks WHERE state IN ('STARTED', 'PROGRESS')") tasks running"
kill -KILL "$wpid"
# scripts/supervise starts it again (its lease lapses, the reaper of the
# new one takes its tasks back).
for i in $(seq 100); do
	[ "$(cat "$STATE/pids/worker.child" 2>/dev/null)" != "$wpid" ] && break
	sleep 0.1
done
[ "$(cat "$STATE/pids/worker.child" 2>/dev/null)" != "$wpid" ] ||
	rl_die "the worker was not started again"
echo "worker started again as $(cat "$STATE/pids/worker.child")"
sleep $((secs * 30 / 100))
echo "PostgreSQL stopped (immediate) for 5 s"
rl_pg pg_ctl -D "$STATE/pg/data" -m immediate -w stop >/dev/null
sleep 5
RL_PG_FSYNC=off rl_pg_start
wait "$driver" || rl_die "the traffic driver failed (see $STATE/log/driver.log)"

users=$(node -e 'const d = JSON.parse(require("fs").readFileSync(process.argv[1])); console.log(d.users.join(","))' "$STATE/driver.json")
echo "calls made (op status count):"
node -e 'const d = JSON.parse(require("fs").readFileSync(process.argv[1])); for (const [k, v] of Object.entries(d.counts).sort()) console.log(`  ${k} ${v}`)' "$STATE/driver.json"

open() {
	q "SELECT (SELECT count(*) FROM credit_reservations WHERE user_id IN ($users) AND state = 'reserved') + (SELECT count(*) FROM openai_jobs WHERE user_id IN ($users) AND status NOT IN ('completed', 'failed')) + (SELECT count(*) FROM tasks WHERE user_id IN ($users) AND state NOT IN ('SUCCESS', 'FAILURE', 'REVOKED'))"
}
t0=$(date +%s)
while [ "$(open)" != 0 ] && [ $(($(date +%s) - t0)) -lt 240 ]; do
	sleep 2
done
echo "settled $(($(date +%s) - t0)) s after the traffic stopped"

curl -fsS "$FAKE/_fake/stats?tag=$TAG" >"$STATE/fake-stats.json"
read -r requests answered cut < <(node -e 'const s = JSON.parse(require("fs").readFileSync(process.argv[1])); console.log(s.requests, s.answered, s.cut)' "$STATE/fake-stats.json")
node -e 'const s = JSON.parse(require("fs").readFileSync(process.argv[1])); console.log(s.ids.join("\n"))' "$STATE/fake-stats.json" >"$STATE/answered-ids"
# The answered ids in a table of this throwaway stack (too many for argv).
q "CREATE TABLE soak_answered (id text PRIMARY KEY)" >/dev/null
psql -h "$RL_PGHOST" -U relais -d relais -qc "\\copy soak_answered FROM '$STATE/answered-ids'"
ids_sql="SELECT id FROM soak_answered"
rows=$(q "SELECT count(*) FROM usage_ledger WHERE user_id IN ($users)")
ok_rows=$(q "SELECT count(*) FROM usage_ledger WHERE user_id IN ($users) AND status = 'ok'")
not_one=$(q "SELECT count(*) FROM ($ids_sql) a(id) WHERE (SELECT count(*) FROM usage_ledger l WHERE l.upstream_response_id = a.id) <> 1")
ok_unanswered=$(q "SELECT count(*) FROM usage_ledger WHERE user_id IN ($users) AND status = 'ok' AND upstream_response_id NOT IN ($ids_sql)")
holds=$(q "SELECT count(*) FROM credit_reservations WHERE user_id IN ($users) AND state = 'reserved'")
jobs=$(q "SELECT count(*) FROM openai_jobs WHERE user_id IN ($users) AND status NOT IN ('completed', 'failed')")
tasks=$(q "SELECT count(*) FROM tasks WHERE user_id IN ($users) AND state NOT IN ('SUCCESS', 'FAILURE', 'REVOKED')")
badbal=$(q "SELECT count(*) FROM users u WHERE u.id IN ($users) AND (u.credits < 0 OR u.credits <> (SELECT sum(delta) FROM usage_ledger l WHERE l.user_id = u.id))")
settled_norow=$(q "SELECT count(*) FROM credit_reservations c LEFT JOIN usage_ledger l ON l.reservation_id = c.id WHERE c.user_id IN ($users) AND (c.state = 'settled') <> (l.id IS NOT NULL)")
lost_jobs=$(q "SELECT count(*) FROM openai_jobs WHERE user_id IN ($users) AND error_code = 'worker_lost'")
logs() { cat "$STATE"/log/*.log | grep -c "$1" || true; }

echo "upstream (the fake's own count): requests $requests, answered whole $answered, cut $cut"
echo "ledger rows $rows (ok $ok_rows); answered without exactly one row: $not_one; ok rows the fake never finished: $ok_unanswered"
echo "settled holds without one row (or released with one): $settled_norow"
echo "open holds $holds, jobs not finished $jobs, tasks not finished $tasks, bad balances $badbal"
echo "jobs failed with their worker: $lost_jobs"
echo "money writes queued for retry: settlements $(logs 'settlement of hold [0-9]*[^"]*queued for retry'), releases $(logs 'release of hold [0-9]*[^"]*queued for retry'), job outcomes $(logs 'outcome of job [^"]*queued for retry')"
echo "landed $(logs 'landed at retry'), refused for good $(logs 'refused for good'); task outcomes retried: $(logs 'outcome written at try')"
echo "processes at the end:"
procs | tee "$STATE/procs-end"
rc=0
for v in "$not_one" "$ok_unanswered" "$settled_norow" "$holds" "$jobs" "$tasks" "$badbal"; do
	[ "$v" = 0 ] || rc=1
done
[ "$answered" -gt 0 ] || rc=1
[ "$(logs 'refused for good')" = 0 ] || rc=1
if [ $rc = 0 ]; then echo "soak: OK"; else echo "soak: DISCREPANCY"; RELAIS_SOAK_KEEP=1; echo "kept $STATE"; fi
exit $rc
