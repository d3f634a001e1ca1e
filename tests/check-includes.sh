#!/bin/sh
# Each third-party library is included by exactly one .c file, and no
# program includes the lib-internal header.
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
cd "$top_srcdir" || exit 1
n=0; fail=0
check() {	# header, the one file allowed
	n=$((n + 1))
	got=$(grep -l "#include <$1>" lib/*.c lib/*.h cgi-bin/*.c bin/*.c 2>/dev/null | tr '\n' ' ')
	if [ "$got" = "$2 " ]; then
		echo "ok $n - <$1> only in $2"
	elif [ -z "$got" ] && [ ! -f "$2" ]; then
		echo "ok $n - <$1> not used yet ($2 will own it)"
	else
		echo "not ok $n - <$1> in: ${got:-nowhere} (want $2)"; fail=1
	fi
}
check curl/curl.h lib/openai.c
check libpq-fe.h lib/db.c
check sodium.h lib/crypto.c
check fcgiapp.h lib/fcgi.c
check zip.h lib/zipio.c
check expat.h lib/docx.c
n=$((n + 1))
if grep -l '#include "extern.h"' cgi-bin/*.c bin/*.c >/dev/null 2>&1; then
	echo "not ok $n - a program includes extern.h"; fail=1
else
	echo "ok $n - no program includes extern.h"
fi
echo "1..$n"
exit $fail
