#!/bin/sh
# Every data file the programs read at run time is listed in the top
# Makefile.am, so `make install` and the tarball carry it: a request
# schema missing from an install stops its program at start-up ("no
# schema ..."), while the tests, reading the source tree, would not see it.
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
cd "$top_srcdir" || exit 1
missing=""
for f in lib/schemas/*.json lib/schemas/requests/*.json \
    lib/schemas/responses/*.json sql/[0-9]*.sql nginx/*.conf; do
	[ -f "$f" ] || continue
	grep -q "$f" Makefile.am || missing="$missing $f"
done
if [ -z "$missing" ]; then
	echo "ok 1 - every schema, migration and nginx file is in Makefile.am"
else
	echo "not ok 1 - not in Makefile.am (not installed):$missing"
fi
echo "1..1"
[ -z "$missing" ]
