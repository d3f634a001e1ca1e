#!/usr/bin/env bash
# bench/streams.sh [N]: N concurrent SSE streams (default 1000) through nginx
# to one program (the echo test responder, same runtime as every program),
# each 10 frames one second apart.  Prints completion, the worst gap between
# frames, and the program's threads and memory while they run.
set -euo pipefail
. "$(dirname "$0")/../scripts/lib.sh"
n=${1:-1000}
BUILD=${RELAIS_BUILD:-$RL_TOP/build}
rl_build "$BUILD"
STATE=$(mktemp -d "${TMPDIR:-/tmp}/relais-bench.XXXXXX"); chmod 755 "$STATE"
PORT=$(rl_free_port)
trap 'rl_stop; rm -rf "$STATE"' EXIT
RL_PG_FSYNC=off rl_base "$BUILD"
export RELAIS_OPENAI_BASE_URL=http://127.0.0.1:9/v1
rl_programs "$BUILD"
RELAIS_LOG_LEVEL=warn rl_echo "$BUILD" $((n + 100))
rl_nginx
rl_wait_ready
sed -i 's#access_log .*;#access_log off;#' "$STATE/nginx/nginx.conf"
kill -HUP "$(cat "$STATE/nginx/nginx.pid")"; sleep 0.5
pid=$(cat "$STATE/pids/echo.child")
node "$RL_TOP/bench/streams.mjs" "$n" "http://127.0.0.1:$PORT/_test/sse?n=10&ms=1000" &
client=$!
sleep 5
printf 'echo during the streams: threads=%s rss_kib=%s\n' \
	"$(ls /proc/"$pid"/task | wc -l)" "$(awk '/VmRSS/ { print $2 }' /proc/"$pid"/status)"
wait "$client"
