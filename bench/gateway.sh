#!/usr/bin/env bash
# bench/gateway.sh [SECONDS]: what relais adds to a billed call (issue 17),
# on a private stack, the fake upstream with every delay at 0.  In one run,
# with wrk (bench/gateway.lua) for SECONDS (10) each:
#
#   direct       POST /v1/chat/completions on the fake itself
#   completion   POST /completion through nginx (non-streamed)
#   openai-chat  POST /ai/openai/chat/ through nginx (a synchronous job)
#
# at c=1 (one user) and c=64 (one user, then 50 users), printing req/s,
# p50, p99 and relais' added latency (relais minus direct at the same
# concurrency).  Then streams, timed to their first token by
# bench/ttff.mjs (node, keep-alive, the same tokens):
#
#   direct-stream      the fake's streamed /v1/chat/completions
#   completion-stream  POST /completion with stream: true
#   direct-responses   the fake's streamed /v1/responses, sent the very
#                      request relais makes for a chat turn (its tools,
#                      the thread's previous_response_id)
#   chat-send          POST /chat/send (EDxo's chat turn, Responses API),
#                      a turn the model answers without a tool (the
#                      message carries the fake's [[X-Fake-Tools: off]])
#   chat-send-tools    the same, the fake calling a tool first: two
#                      upstream calls and the tool's read before the
#                      first token (no added column: no direct match)
#  Every relais call is billed: a hold before it, a ledger
# row after; the script checks the ledger has one row per call and no
# hold is left open.  Then the statement log of 20 sequential /completion
# calls (log_min_duration_statement = 0): statements and database time
# per call, as PostgreSQL reports them.  Each request row also says how
# much CPU PostgreSQL, relais and nginx spent per request (/proc).
#
# RELAIS_BUILD picks the build (./build by default, optimised; a
# sanitizer build measures the sanitizers).  GW_ONLY=REGEX keeps the rows
# whose name matches.  GW_STREAM_SECS (SECONDS) times each stream row.
# Portkey's gateway side by side (npm @portkey-ai/gateway 1.15.2 with
# @hono/node-server 1.14.1, installed once in GW_PORTKEY_DIR, bound to
# 127.0.0.1 by bench/portkey-loopback.mjs) in front of the same fake:
# portkey-c1, portkey-c64.  GW_PORTKEY=0 leaves it out; a failed install
# is said and the rest goes on.
# RELAIS_CREDITS_SPARES=N (8 by default, 0 off) sets the standing holds:
# no reservation round trip before a call of a user calling again
# (docs/internals/credits.md); the first line says which.
set -euo pipefail
. "$(dirname "$0")/../scripts/lib.sh"
secs=${1:-10}
rl_deps wrk
BUILD=${RELAIS_BUILD:-$RL_TOP/build}
rl_build "$BUILD"
STATE=$(mktemp -d "${TMPDIR:-/tmp}/relais-bench.XXXXXX"); chmod 755 "$STATE"
PORT=$(rl_free_port)
PK_PID=
trap '[ -z "$PK_PID" ] || kill "$PK_PID"; rl_stop; [ "${RELAIS_BENCH_KEEP:-0}" = 1 ] && echo "kept $STATE" || rm -rf "$STATE"' EXIT
# The per-user request limiter (ratelimit.md, 120 a minute) would answer
# most of a bench's calls 429: unlimited here.
export RELAIS_RATELIMIT_USER=0
RL_PG_FSYNC=off rl_base "$BUILD"
rl_demo
unset RELAIS_OPENAI_API_KEY
rl_upstream "$BUILD"
RELAIS_LOG_LEVEL=warn rl_programs "$BUILD"
rl_nginx
rl_wait_ready
sed -i 's#access_log .*;#access_log off;#' "$STATE/nginx/nginx.conf"
kill -HUP "$(cat "$STATE/nginx/nginx.pid")"; sleep 0.5

q() { psql -h "$RL_PGHOST" -U relais -d relais -Atqc "$1"; }
FAKE=${RELAIS_OPENAI_BASE_URL%/v1}
BASE="http://127.0.0.1:$PORT"

# 50 users with the demo password and ample credits; a token each.
q "INSERT INTO users (username, password_hash, role, credits)
   SELECT 'gw-' || i, password_hash, 'professeur', 1000000
   FROM users, generate_series(1, 50) i WHERE email = 'prof@demo.relais'" >/dev/null
for i in $(seq 50); do
	curl -sS -H 'Content-Type: application/json' \
	    -d "{\"username\":\"gw-$i\",\"password\":\"relais-demo\"}" \
	    "$BASE/auth/token" >"$STATE/login.out"
	# The answer has no final newline: one token per line all the same.
	printf '%s\n' "$(sed -n 's/.*"access_token" *: *"\([^"]*\)".*/\1/p' \
	    "$STATE/login.out")"
done >"$STATE/tokens50"
head -1 "$STATE/tokens50" >"$STATE/tokens1"
[ "$(grep -c . "$STATE/tokens50")" = 50 ] ||
	rl_die "could not log the bench users in: $(cat "$STATE/login.out")"
: >"$STATE/none"
echo sk-bench >"$STATE/sk"

PK_DIR=${GW_PORTKEY_DIR:-${TMPDIR:-/tmp}/relais-portkey}
PK_JS=$PK_DIR/node_modules/@portkey-ai/gateway/build/start-server.js
PK_URL=
if [ "${GW_PORTKEY:-1}" = 1 ]; then
	if [ ! -f "$PK_JS" ]; then
		mkdir -p "$PK_DIR"
		printf '%s\n' '{"name": "relais-bench-portkey", "private": true,' \
		    '"dependencies": {"@portkey-ai/gateway": "1.15.2"},' \
		    '"overrides": {"@hono/node-server": "1.14.1"}}' \
		    >"$PK_DIR/package.json"
		npm install --prefix "$PK_DIR" --no-audit --no-fund \
		    >"$STATE/portkey-npm.log" 2>&1 ||
			echo "portkey: npm install failed, not measured:" \
			    "$(tail -3 "$STATE/portkey-npm.log")"
	fi
	if [ -f "$PK_JS" ]; then
		pk_port=$(rl_free_port)
		NODE_ENV=production node --import \
		    "$RL_TOP/bench/portkey-loopback.mjs" "$PK_JS" \
		    --port="$pk_port" --headless >"$STATE/portkey.log" 2>&1 &
		PK_PID=$!
		for i in $(seq 100); do
			curl -fsS -o /dev/null "http://127.0.0.1:$pk_port/" \
			    2>/dev/null &&
			    PK_URL=http://127.0.0.1:$pk_port && break
			sleep 0.1
		done
		[ -n "$PK_URL" ] || echo "portkey: did not start, not measured:" \
		    "$(tail -3 "$STATE/portkey.log")"
	fi
fi
PK_HEADERS="x-portkey-provider: openai
x-portkey-custom-host: $RELAIS_OPENAI_BASE_URL"

CHAT='{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Bonjour, quelle heure est-il ?"}]}'
COMPLETION='{"message":"Bonjour, quelle heure est-il ?","model":"gpt-4o-mini","agent":"V2"}'

# wrk's duration ("850.00us", "1.23ms", "2.01s") in ms.
ms() {
	awk -v v="$1" 'BEGIN {
		n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
		if (u == "us") n /= 1000; else if (u == "s") n *= 1000
		else if (u == "m") n *= 60000
		printf "%.3f", n }'
}

# CPU time so far of PostgreSQL, relais' programs (run from the build,
# the fake upstream aside) and nginx, in clock ticks: "pg N", "relais N",
# "nginx N".
cpu_snap() {
	local p exe g
	for p in /proc/[0-9]*; do
		exe=$(readlink "$p/exe" 2>/dev/null) || continue
		case $exe in
		*/postgres) g=pg ;;
		"$BUILD"/tests/*) continue ;;	# the fake upstream
		"$BUILD"/*) g=relais ;;
		*/nginx) g=nginx ;;
		*) continue ;;
		esac
		awk -v g="$g" '{ s = $0; sub(/^.*\) /, "", s); split(s, f, " ");
		    print g, f[12] + f[13] }' "$p/stat" 2>/dev/null
	done | awk '{ t[$1] += $2 } END { for (g in t) print g, t[g] }'
}
TICK_MS=$(awk -v h="$(getconf CLK_TCK)" 'BEGIN { print 1000 / h }')

declare -A P50 P99 CPU
# run NAME URL PATH BODY TOKENS CONNECTIONS
run() {
	local name=$1 url=$2 path=$3 body=$4 tokens=$5 c=$6 out t
	[[ $name =~ ${GW_ONLY:-.} ]] || return 0
	out=$STATE/wrk-$name.out
	t=$(( c < 2 ? 1 : 2 ))
	cpu_snap >"$STATE/cpu-before"
	GW_PATH=$path GW_BODY=$body GW_TOKENS=$tokens \
	    GW_HEADERS=${GW_HDRS:-} wrk -t"$t" -c"$c" \
	    -d"${secs}s" --latency -s "$RL_TOP/bench/gateway.lua" "$url" >"$out"
	cpu_snap >"$STATE/cpu-after"
	# Milliseconds of CPU per answered request, per group.
	CPU[$name]=$(awk -v n="$(awk '/requests in/ { print $1 }' "$out")" \
	    -v ms="$TICK_MS" 'NR == FNR { b[$1] = $2; next }
	    { d[$1] = $2 - b[$1] }
	    END { if (n == 0) n = 1
	        printf "%.3f %.3f %.3f", d["pg"] * ms / n,
	        d["relais"] * ms / n, d["nginx"] * ms / n }' \
	    "$STATE/cpu-before" "$STATE/cpu-after")
	grep -q '^non-2xx responses: 0$' "$out" ||
		{ cat "$out"; rl_die "$name: error answers"; }
	P50[$name]=$(ms "$(awk '$1 == "50%" { print $2 }' "$out")")
	P99[$name]=$(ms "$(awk '$1 == "99%" { print $2 }' "$out")")
	printf '%-24s %10s %10s %10s' "$name" \
	    "$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$out")" \
	    "${P50[$name]}" "${P99[$name]}"
	case $name in
	direct*) printf ' %10s %10s' '' '' ;;
	*)	awk -v a="${P50[$name]}" -v b="${P99[$name]}" \
		    -v da="${P50[direct-c$c]:-0}" -v db="${P99[direct-c$c]:-0}" \
		    'BEGIN { printf " %+10.3f %+10.3f", a - da, b - db }' ;;
	esac
	printf ' %7s %7s %7s\n' ${CPU[$name]}
}

before=$(q "SELECT count(*) FROM usage_ledger WHERE kind = 'openai_call'")
# cpu_*: milliseconds of CPU per answered request of PostgreSQL, relais'
# programs and nginx during the row (from /proc; the fake and wrk not
# counted).
echo "standing holds per user (RELAIS_CREDITS_SPARES): ${RELAIS_CREDITS_SPARES:-8, the default}"
printf '%-24s %10s %10s %10s %10s %10s %7s %7s %7s\n' target req/s p50_ms \
    p99_ms +p50_ms +p99_ms cpu_pg cpu_rl cpu_ngx
for c in 1 64; do
	run "direct-c$c" "$FAKE" /v1/chat/completions "$CHAT" "$STATE/none" "$c"
	[ -z "$PK_URL" ] || GW_HDRS=$PK_HEADERS run "portkey-c$c" "$PK_URL" \
	    /v1/chat/completions "$CHAT" "$STATE/sk" "$c"
	run "completion-c$c" "$BASE" /completion "$COMPLETION" "$STATE/tokens1" "$c"
	run "openai-chat-c$c" "$BASE" /ai/openai/chat/ "$CHAT" "$STATE/tokens1" "$c"
done
run completion-c64-50u "$BASE" /completion "$COMPLETION" "$STATE/tokens50" 64
run openai-chat-c64-50u "$BASE" /ai/openai/chat/ "$CHAT" "$STATE/tokens50" 64


# The books: one ledger row per call answered, nothing left open once the
# settlements still queued after the last run landed (how long that took
# is the backlog the load left).  wrk does not count the calls in flight
# when it stops: a few more rows than answers.
for i in $(seq 300); do
	[ "$(q "SELECT count(*) FROM credit_reservations WHERE state = 'reserved'")" = 0 ] && break
	sleep 0.1
done
awk -v i="$i" 'BEGIN { printf "holds all closed %.1f s after the last run\n", i / 10 }'
calls=0
for f in "$STATE"/wrk-completion-* "$STATE"/wrk-openai-chat-*; do
	[ -f "$f" ] || continue
	calls=$((calls + $(awk '/requests in/ { print $1 }' "$f")))
done
rows=$(( $(q "SELECT count(*) FROM usage_ledger WHERE kind = 'openai_call'") - before ))
open=$(q "SELECT count(*) FROM credit_reservations WHERE state = 'reserved'")
printf 'billed calls: %d answered, %d ledger rows, %d holds open\n' \
    "$calls" "$rows" "$open"

# Statements per /completion, as the server logs them (when GW_ONLY
# keeps /completion).
statements() {
log=$STATE/pg/server.log
q "ALTER SYSTEM SET log_min_duration_statement = 0" >/dev/null
q "SELECT pg_reload_conf()" >/dev/null
sleep 0.5
from=$(stat -c %s "$log")
tok=$(head -1 "$STATE/tokens1")
for i in $(seq 20); do
	curl -fsS -o /dev/null -H 'Content-Type: application/json' \
	    -H "Authorization: Bearer $tok" -d "$COMPLETION" "$BASE/completion"
done
sleep 1
q "ALTER SYSTEM RESET log_min_duration_statement" >/dev/null
q "SELECT pg_reload_conf()" >/dev/null
tail -c +"$((from + 1))" "$log" | awk '
	/duration: [0-9.]+ ms/ {
		match($0, /duration: [0-9.]+ ms/)
		d = substr($0, RSTART + 10, RLENGTH - 13) + 0
		if ($0 ~ /log_min_duration_statement|pg_reload_conf/) next
		t += d
		if ($0 ~ / (execute [^:]*|statement): /) n++
		if ($0 ~ /usage_ledger/) {
			st += d
			if ($0 ~ / execute [^:]*: /) sn++
		}
	}
	END {
		printf "per /completion (20 calls): %.1f statements, %.3f ms of database time; ", n / 20, t / 20
		printf "of which the settlement (after the answer): %.1f, %.3f ms\n", sn / 20, st / 20
	}'
}
[[ completion =~ ${GW_ONLY:-.} ]] && statements

# Streams: the time to the first token (a frame with text), through
# bench/ttff.mjs; its client costs more than wrk, so direct is measured
# with it too and the difference is relais'.
SCHAT='{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"Bonjour, quelle heure est-il ?"}]}'
SCOMPLETION='{"message":"Bonjour, quelle heure est-il ?","model":"gpt-4o-mini","agent":"V2","stream":true}'
SEND='{"message":"Bonjour, quelle heure est-il ? [[X-Fake-Tools: off]]"}'
SEND_TOOLS='{"message":"Bonjour, quelle heure est-il ?"}'
declare -A T50 T99
# stream NAME URL PATH BODY TOKENS CONNECTIONS MATCH [DIRECT [MODE]]:
# DIRECT is the row the added columns subtract (direct-stream-cC by
# default, "-" for none), MODE ttff.mjs' mode ("chain").
stream() {
	local name=$1 c=$6 out base=${8:-direct-stream-c$6}
	[[ $name =~ ${GW_ONLY:-.} ]] || return 0
	out=$(node "$RL_TOP/bench/ttff.mjs" "$2" "$3" "$4" "$5" "$c" \
	    "${GW_STREAM_SECS:-$secs}" "$7" ${9:-})
	set -- $out
	[ "$4" = 0 ] || rl_die "$name: $4 streams failed"
	T50[$name]=$2
	T99[$name]=$3
	printf '%-24s %10s %10s %10s' "$name" "$1" "$2" "$3"
	case $name in
	direct*) printf '\n' ;;
	*)	[ "$base" = - ] && { printf ' %10s %10s\n' - -; return 0; }
		awk -v a="$2" -v b="$3" -v da="${T50[$base]:-0}" \
		    -v db="${T99[$base]:-0}" \
		    'BEGIN { printf " %+10.3f %+10.3f\n", a - da, b - db }' ;;
	esac
}
# The request relais sends upstream for a chat turn that goes on a
# thread: two turns, then the fake's copy of the last (GET /_fake/last).
# bench/ttff.mjs sends it in "chain" mode: each request goes on from the
# response its loop got last, as relais' turns do.
turn_body() {
	local tok
	tok=$(head -1 "$1")
	for _ in 1 2; do
		curl -sS -N -o /dev/null -H "Authorization: Bearer $tok" \
		    -H 'Content-Type: application/json' -d "$SEND" \
		    "$BASE/chat/send"
	done
	curl -sS "$FAKE/_fake/last" | node -e '
		let s = ""; process.stdin.on("data", (d) => s += d);
		process.stdin.on("end", () => {
			const b = JSON.parse(s);
			if (!b.previous_response_id || !Array.isArray(b.tools))
				process.exit(1);
			process.stdout.write(JSON.stringify(b));
		});' || rl_die "no chat turn request to replay"
}
printf '%-24s %10s %10s %10s %10s %10s\n' 'stream (first token)' \
    streams/s p50_ms p99_ms +p50_ms +p99_ms
TOKEN='"content":"[^"]|"type":"(content|reasoning_summary)"'
for c in 1 64; do
	stream "direct-stream-c$c" "$FAKE" /v1/chat/completions "$SCHAT" \
	    "$STATE/none" "$c" "$TOKEN"
	stream "completion-stream-c$c" "$BASE" /completion "$SCOMPLETION" \
	    "$STATE/tokens1" "$c" "$TOKEN"
	if [[ chat-send-c$c =~ ${GW_ONLY:-.} ]]; then
		GW_ONLY=. stream "direct-responses-c$c" "$FAKE" /v1/responses \
		    "$(turn_body "$STATE/tokens1")" "$STATE/none" "$c" \
		    'response\.output_text\.delta' - chain
		stream "chat-send-c$c" "$BASE" /chat/send "$SEND" \
		    "$STATE/tokens1" "$c" "$TOKEN" "direct-responses-c$c"
	fi
	stream "chat-send-tools-c$c" "$BASE" /chat/send "$SEND_TOOLS" \
	    "$STATE/tokens1" "$c" "$TOKEN" -
done
stream chat-send-c64-50u "$BASE" /chat/send "$SEND" "$STATE/tokens50" 64 \
    "$TOKEN" direct-responses-c64
