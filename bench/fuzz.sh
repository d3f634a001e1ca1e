#!/usr/bin/env bash
# bench/fuzz.sh [MINUTES] [HARNESS...]: build every libFuzzer harness of
# tests/fuzz with the clang command its header gives, and run each for
# MINUTES (10 by default) on a copy of its seed corpus, one after the
# other.  Prints executions per harness; exits non-zero when a harness
# found something (the crash file is kept under the work directory).
# Not part of CI: fuzzing is a bench, like the soak.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
minutes=${1:-10}
shift || true
work=$(mktemp -d "${TMPDIR:-/tmp}/relais-fuzz.XXXXXX")
: >"$work/config.h"
cd "$top" || exit 1
harnesses=("$@")
[ ${#harnesses[@]} -eq 0 ] && harnesses=($(ls tests/fuzz/fuzz_*.c | sed 's#.*/fuzz_\(.*\)\.c#\1#'))
found=0
for h in "${harnesses[@]}"; do
	src=tests/fuzz/fuzz_$h.c
	# The header's build command: the " *   clang" line and its
	# continuation lines, with DIR the directory of an empty config.h.
	cmd=$(awk '/^ \*   clang/ { on = 1 } on { l = $0; sub(/^ \* +/, "", l); more = l ~ /\\[[:space:]]*$/; sub(/\\[[:space:]]*$/, "", l); printf "%s ", l; if (!more) on = 0 }' "$src" | sed "s#-IDIR#-I$work#")
	if [ -z "$cmd" ]; then
		echo "fuzz_$h: no build command in its header"; found=1; continue
	fi
	if ! eval "$cmd -g -O1 -o $work/fuzz_$h" >"$work/build-$h.log" 2>&1; then
		echo "fuzz_$h: build failed:"; tail -5 "$work/build-$h.log"; found=1; continue
	fi
	mkdir -p "$work/corpus-$h"
	[ -d "tests/fuzz/corpus/$h" ] && cp -r "tests/fuzz/corpus/$h/." "$work/corpus-$h/"
	(cd "$work" && "./fuzz_$h" -max_total_time=$((minutes * 60)) \
	    -rss_limit_mb=4096 -max_len=65536 "corpus-$h" >"run-$h.log" 2>&1)
	rc=$?
	runs=$(sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\1 runs in \2 s/p' "$work/run-$h.log")
	if [ $rc -ne 0 ]; then
		found=1
		echo "fuzz_$h: FOUND something (exit $rc), see $work/run-$h.log and $work/crash-*"
	else
		echo "fuzz_$h: ${runs:-?}, nothing found"
	fi
done
[ $found -eq 0 ] && rm -rf "$work"
exit $found
