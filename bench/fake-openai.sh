#!/bin/sh
# Micro benchmark of the fake OpenAI upstream (tests/fake-openai): wrk
# sends small non-streaming POST /v1/chat/completions for DURATION
# seconds and the script prints the requests per second.  The fake is
# pinned to one core and wrk to another when taskset is available, so
# the figure is "answers per second on one core".
#
#	bench/fake-openai.sh [DURATION_S] [CONNECTIONS]
#
# FAKE_OPENAI_BIN selects the binary; otherwise the in-tree build
# (tests/fake-openai/fake-openai) is used, or the sources are compiled
# into a temporary directory.
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
duration=${1:-10}
conns=${2:-64}
tmp=$(mktemp -d)
fake_pid=

cleanup() {
	if [ -n "$fake_pid" ]; then
		kill -TERM "$fake_pid" 2>/dev/null || :
		wait "$fake_pid" 2>/dev/null || :
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

if ! command -v wrk >/dev/null 2>&1; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		apt-get install -y -q wrk >/dev/null || {
			apt-get update -q >/dev/null && apt-get install -y -q wrk >/dev/null; }
	fi
	command -v wrk >/dev/null 2>&1 || {
		echo "fake-openai.sh: wrk is missing (apt-get install -y wrk)" >&2
		exit 1
	}
fi

bin=${FAKE_OPENAI_BIN:-}
if [ -z "$bin" ] && [ -x "$here/tests/fake-openai/fake-openai" ]; then
	bin=$here/tests/fake-openai/fake-openai
fi
if [ -z "$bin" ]; then
	bin=$tmp/fake-openai
	# shellcheck disable=SC2046
	${CC:-cc} -std=c11 -O2 -D_GNU_SOURCE "$here"/tests/fake-openai/*.c \
	    $(pkg-config --cflags --libs libmicrohttpd jansson) \
	    -lpthread -lm -o "$bin"
fi

pin_fake=
pin_wrk=
if command -v taskset >/dev/null 2>&1 && [ "$(nproc)" -ge 2 ]; then
	pin_fake="taskset -c 0"
	pin_wrk="taskset -c 1"
fi

$pin_fake "$bin" --listen 127.0.0.1:0 2>"$tmp/fake.err" &
fake_pid=$!
port=
i=0
while [ -z "$port" ] && [ $i -lt 100 ]; do
	port=$(sed -n 's/^fake-openai listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' \
	    "$tmp/fake.err")
	[ -n "$port" ] || sleep 0.05
	i=$((i + 1))
done
if [ -z "$port" ]; then
	echo "fake-openai.sh: the fake did not start:" >&2
	cat "$tmp/fake.err" >&2
	exit 1
fi

$pin_wrk wrk -t1 -c"$conns" -d"${duration}s" --latency \
    -s "$here/bench/fake-openai.lua" "http://127.0.0.1:$port" | tee "$tmp/wrk.out"
rps=$(sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$tmp/wrk.out")
if grep -q 'Non-2xx or 3xx responses' "$tmp/wrk.out"; then
	echo "fake-openai.sh: the fake answered errors" >&2
	exit 1
fi
echo "fake-openai: ${rps} requests/s (non-streaming chat completion," \
    "${conns} connections, ${duration} s, fake on one core)"
