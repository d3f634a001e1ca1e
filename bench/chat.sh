#!/usr/bin/env bash
# bench/chat.sh [N] [TTFT_MS]: the chat program (issue 6) against the fake
# upstream set to a time-to-first-token of TTFT_MS (200 by default), the
# chat model a reasoning one (gpt-5-mini, effort low) so that the first
# token is a reasoning-summary delta sent after the TTFT.
#
#  1. Time to first token, one request at a time (40 interleaved samples):
#     the first reasoning_summary frame through nginx and the chat program
#     against the same delta read directly from the fake, for the same
#     first call; the difference is what relais adds.  Also the first byte
#     (the processing frame).
#  2. N (1000 by default) concurrent chat streams (each a tool round: two
#     upstream calls, about 22 s of answer): how many the program holds at
#     once and completes, its threads and RSS at the peak, errors logged.
#
# RELAIS_BUILD picks the build (./build by default; a sanitizer build
# measures the sanitizers: use an optimised one for figures).
# RELAIS_DB_POOL, if set, sizes the program's database pool.
# Figures: docs/chat.md.
set -euo pipefail
. "$(dirname "$0")/../scripts/lib.sh"
n=${1:-1000}
ttft=${2:-200}
BUILD=${RELAIS_BUILD:-$RL_TOP/build}
rl_build "$BUILD"
STATE=$(mktemp -d "${TMPDIR:-/tmp}/relais-bench.XXXXXX"); chmod 755 "$STATE"
PORT=$(rl_free_port)
FPORT=$(rl_free_port)
trap 'rl_stop; rm -rf "$STATE"' EXIT
RL_PG_FSYNC=off rl_base "$BUILD"
rl_demo
unset RELAIS_OPENAI_API_KEY
# 100 deltas 100 ms apart after the TTFT: each stream lasts about 10 s, so
# that N of them are open at the same time.
rl_spawn fake-openai "$BUILD/tests/fake-openai/fake-openai" \
	--listen "127.0.0.1:$FPORT" --ttft-ms "$ttft" --chunk-ms 100 --chunks 100
rl_wait_tcp "$FPORT" || rl_die "fake upstream did not start"
export RELAIS_OPENAI_BASE_URL="http://127.0.0.1:$FPORT/v1"
# One thread per open stream (lib/fcgi.c): N plus room for the rest.
RL_PROGRAMS="settings api" rl_programs "$BUILD"
RELAIS_LOG_LEVEL=warn RELAIS_THREADS=$((n + 64)) RL_PROGRAMS="chat" \
	rl_programs "$BUILD"
rl_nginx
rl_wait_ready
sed -i 's#access_log .*;#access_log off;#' "$STATE/nginx/nginx.conf"
kill -HUP "$(cat "$STATE/nginx/nginx.pid")"; sleep 0.5

q() { psql -h "$RL_PGHOST" -U relais -d relais -Atqc "$1"; }
q "UPDATE users SET credits = 1000000 WHERE email = 'admin@demo.relais'"
# A reasoning model: its first token (a summary delta) comes after the TTFT.
q "UPDATE section_ai_settings SET ai_model = 'gpt-5-mini', reasoning_effort = 'low', verbosity = NULL WHERE section = 'chat'"
pid=$(cat "$STATE/pids/chat.child")
printf 'chat program before: threads=%s rss_kib=%s\n' \
	"$(ls /proc/"$pid"/task | wc -l)" "$(awk '/VmRSS/ { print $2 }' /proc/"$pid"/status)"
node "$RL_TOP/bench/chat-load.mjs" "http://127.0.0.1:$PORT" \
	"$RELAIS_OPENAI_BASE_URL" "$n" "$pid" "$ttft"
# Why streams failed, if any did: the program's and nginx's errors, counted.
printf 'errors logged (count, message):\n'
{ grep -ho '"msg":"[^"]*"\|"error":"[^"]*"' "$STATE/log/chat.log" || true; } |
	sed 's/user [0-9]*/user N/; s/hold [0-9]*/hold N/' | sort | uniq -c |
	sort -rn | sed 10q || true
{ grep -o '\] [0-9#]*: \*[0-9]* [^,]*' "$STATE/log/nginx-error.log" || true; } |
	sed 's/.*\*[0-9]* //' | sort | uniq -c | sort -rn | sed 5q || true
