#!/bin/sh
# The upstream client's own cost per call (lib/openai.c): oaprobe --repeat
# makes N calls on one thread (one kept-alive connection) against the fake
# upstream with every delay at 0, once without streaming and once
# streamed, and the same N requests go through one curl process (also one
# kept-alive connection) for reference.  The difference is what relais
# adds per call: building the body, the JSON answer parsed into jansson,
# usage, the SSE parser and the event interpretation.
#
#	bench/openai-client.sh [CALLS]
#
# RELAIS_BUILD selects the build (./build by default; a sanitizer build
# measures the sanitizers).  The fake and the client are pinned to
# different cores when taskset is available.
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
calls=${1:-2000}
build=${RELAIS_BUILD:-$here/build}
probe=$build/tests/oaprobe/oaprobe
fake=$build/tests/fake-openai/fake-openai
tmp=$(mktemp -d)
fake_pid=

cleanup() {
	if [ -n "$fake_pid" ]; then
		kill -TERM "$fake_pid" 2>/dev/null || :
		# A TERM that lands before the fake blocks it could be lost.
		n=0
		while kill -0 "$fake_pid" 2>/dev/null && [ $n -lt 50 ]; do
			sleep 0.1
			n=$((n + 1))
		done
		kill -KILL "$fake_pid" 2>/dev/null || :
		wait "$fake_pid" 2>/dev/null || :
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

for b in "$probe" "$fake"; do
	if [ ! -x "$b" ]; then
		echo "openai-client.sh: $b is missing (build first)" >&2
		exit 1
	fi
done
command -v curl >/dev/null 2>&1 || {
	echo "openai-client.sh: curl is missing" >&2
	exit 1
}

pin_fake=
pin_client=
if command -v taskset >/dev/null 2>&1 && [ "$(nproc)" -ge 2 ]; then
	pin_fake="taskset -c 0"
	pin_client="taskset -c 1"
fi

: >"$tmp/fake.err"
$pin_fake "$fake" --listen 127.0.0.1:0 2>"$tmp/fake.err" &
fake_pid=$!
port=
i=0
while [ -z "$port" ] && [ $i -lt 100 ]; do
	port=$(sed -n 's/^fake-openai listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' \
	    "$tmp/fake.err" || :)
	[ -n "$port" ] || sleep 0.05
	i=$((i + 1))
done
if [ -z "$port" ]; then
	echo "openai-client.sh: the fake did not start:" >&2
	cat "$tmp/fake.err" >&2
	exit 1
fi
base=http://127.0.0.1:$port/v1
body='{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Bonjour"}]}'
sbody='{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Bonjour"}],"stream":true,"stream_options":{"include_usage":true}}'

now_us() { echo $(($(date +%s%N) / 1000)); }

# One curl process, CALLS URLs: curl keeps the connection alive.
curl_loop() {	# body
	: >"$tmp/curl.cfg"
	n=0
	while [ $n -lt "$calls" ]; do
		echo "url = \"$base/chat/completions\"" >>"$tmp/curl.cfg"
		n=$((n + 1))
	done
	t0=$(now_us)
	$pin_client curl -s -K "$tmp/curl.cfg" -H 'Content-Type: application/json' \
	    -d "$1" >/dev/null
	t1=$(now_us)
	echo "$(((t1 - t0) / calls))"
}

probe_loop() {	# extra oaprobe flags
	$pin_client "$probe" --base "$base" --path /chat/completions \
	    --body "$body" --repeat "$calls" "$@" |
	    sed -n 's/.*"failed":\([0-9]*\),"us_per_call":\([0-9.]*\).*/\1 \2/p'
}

# Warm up both sides once.
probe_loop >/dev/null
set -- $(probe_loop)
plain_failed=$1 plain_us=$2
set -- $(probe_loop --stream)
stream_failed=$1 stream_us=$2
curl_plain=$(curl_loop "$body")
curl_stream=$(curl_loop "$sbody")
if [ "$plain_failed" != 0 ] || [ "$stream_failed" != 0 ]; then
	echo "openai-client.sh: failed calls ($plain_failed, $stream_failed)" >&2
	exit 1
fi
echo "openai-client: $calls calls each, fake on one core, client on another"
printf '  %-28s %10s %10s\n' "" "relais" "curl"
printf '  %-28s %8s us %7s us\n' "chat completion" "$plain_us" "$curl_plain"
printf '  %-28s %8s us %7s us\n' "chat stream (8 deltas)" "$stream_us" "$curl_stream"
