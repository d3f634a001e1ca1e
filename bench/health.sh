#!/usr/bin/env bash
# bench/health.sh [seconds]: wrk against /api/health through nginx, on a
# private stack (its own state directory and port).
set -euo pipefail
. "$(dirname "$0")/../scripts/lib.sh"
secs=${1:-10}
rl_deps wrk
BUILD=${RELAIS_BUILD:-$RL_TOP/build}
rl_build "$BUILD"
STATE=$(mktemp -d "${TMPDIR:-/tmp}/relais-bench.XXXXXX"); chmod 755 "$STATE"
PORT=$(rl_free_port)
trap 'rl_stop; [ "${RELAIS_BENCH_KEEP:-0}" = 1 ] && echo "kept $STATE" || rm -rf "$STATE"' EXIT
RL_PG_FSYNC=off rl_base "$BUILD"
export RELAIS_OPENAI_BASE_URL=http://127.0.0.1:9/v1
RELAIS_LOG_LEVEL=warn rl_programs "$BUILD"
rl_nginx
rl_wait_ready
sed -i 's#access_log .*;#access_log off;#' "$STATE/nginx/nginx.conf"
kill -HUP "$(cat "$STATE/nginx/nginx.pid")"; sleep 0.5
for path in ${RELAIS_BENCH_PATHS:-/api/health}; do
	echo "== $path"
	wrk -t2 -c64 -d"${secs}s" --latency "http://127.0.0.1:$PORT$path"
done
