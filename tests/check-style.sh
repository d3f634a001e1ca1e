#!/bin/sh
# A small checksrc: banned functions (unbounded or locale-surprising), no
# trailing white space, lines of at most 80 columns (tabs at 8) in lib/,
# cgi-bin/ and bin/.
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
cd "$top_srcdir" || exit 1
files=$(ls lib/*.c lib/*.h lib/edxo/*.c lib/edxo/*.h cgi-bin/*.c bin/*.c \
	2>/dev/null)
fail=0
bad=$(grep -nE '(^|[^_a-z])(sprintf|vsprintf|strcpy|strcat|strncpy|atoi|atol|gets|strtok|system|popen|alloca)\(' $files |
	grep -v 'snprintf\|vsnprintf' || true)
if [ -z "$bad" ]; then
	echo "ok 1 - no banned functions"
else
	echo "not ok 1 - banned functions:"; echo "$bad" | sed 's/^/#   /'; fail=1
fi
bad=$(grep -nE '[[:space:]]+$' $files || true)
if [ -z "$bad" ]; then
	echo "ok 2 - no trailing white space"
else
	echo "not ok 2 - trailing white space:"; echo "$bad" | sed 's/^/#   /'; fail=1
fi
bad=$(expand -t 8 $files /dev/null 2>/dev/null | awk 'length > 80 { n++ } END { print n + 0 }')
if [ "$bad" -eq 0 ]; then
	echo "ok 3 - lines fit in 80 columns"
else
	echo "not ok 3 - $bad lines over 80 columns:"
	for f in $files; do
		expand -t 8 "$f" | awk -v f="$f" 'length > 80 { print "#   " f ":" NR }'
	done
	fail=1
fi
# An error is told apart by its code, never by its message text
# (docs/internals/err.md): a reworded message must not change behaviour.
bad=$(grep -nE '(strstr|strcmp|strncmp|strcasecmp)\([^;]*(->|\.)msg([^a-z_]|$)|strstr\([^;]*msg' \
	$(ls lib/*.c lib/*.h lib/edxo/*.c lib/edxo/*.h cgi-bin/*.c 2>/dev/null) || true)
if [ -z "$bad" ]; then
	echo "ok 4 - no error classified by its message text"
else
	echo "not ok 4 - error classified by its message text:"
	echo "$bad" | sed 's/^/#   /'; fail=1
fi
echo "1..4"
exit $fail
