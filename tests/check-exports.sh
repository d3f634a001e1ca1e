#!/bin/sh
# Every global symbol the library defines starts with rl_ (jansson's
# check-exports, curl's export regex), and the library never calls exit or
# abort (libpq's libpq_check.pl): a library must not end its host process.
: "${top_builddir:=$(cd "$(dirname "$0")/.." && pwd)}"
lib="$top_builddir/lib/.libs/librelais.a"
if ! command -v nm >/dev/null 2>&1; then
	echo "not ok 1 - nm is missing (binutils)"; echo "1..1"; exit 1
fi
if [ ! -f "$lib" ]; then
	echo "not ok 1 - $lib not built"; echo "1..1"; exit 1
fi
fail=0
bad=$(nm -g --defined-only "$lib" 2>/dev/null | awk 'NF == 3 { print $3 }' |
	grep -v -e '^rl_' -e '^__odr_asan' | sort -u | tr '\n' ' ')
if [ -z "$bad" ]; then
	echo "ok 1 - every exported symbol starts with rl_"
else
	echo "not ok 1 - symbols without rl_: $bad"; fail=1
fi
bad=$(nm -u "$lib" 2>/dev/null | awk '{ print $2 }' |
	grep -E '^(exit|_exit|abort|_Exit)$' | sort -u | tr '\n' ' ')
if [ -z "$bad" ]; then
	echo "ok 2 - the library never calls exit or abort"
else
	echo "not ok 2 - the library references: $bad"; fail=1
fi
echo "1..2"
exit $fail
