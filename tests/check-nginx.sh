#!/bin/sh
# nginx/relais.conf is what scripts/mknginx writes from the route tables of
# the programs just built and lib/bounds.h: a route added, moved or removed
# in a program, or a limit changed, without regenerating the file would
# leave nginx sending that path to the wrong place.
# (tests/integration/nginx-routes.test.mjs checks the routing itself.)
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir/build}"
c="$top_srcdir/nginx/relais.conf"
gen=$(mktemp "${TMPDIR:-/tmp}/check-nginx.XXXXXX")
trap 'rm -f "$gen"' EXIT
fail=0
if sh "$top_srcdir/scripts/mknginx" -o "$gen" "$top_builddir"; then
	echo "ok 1 - scripts/mknginx reads every program's route table"
else
	echo "not ok 1 - scripts/mknginx failed on $top_builddir"; fail=1
fi
if [ "$fail" = 1 ]; then
	echo "not ok 2 - nginx/relais.conf not compared (no generated file)"
elif diff -u "$c" "$gen"; then
	echo "ok 2 - nginx/relais.conf is up to date with the route tables"
else
	echo "not ok 2 - nginx/relais.conf is stale: run" \
	    "scripts/mknginx -o nginx/relais.conf $top_builddir"; fail=1
fi
echo "1..2"
exit $fail
