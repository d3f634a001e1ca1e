#!/bin/sh
# The Debian package builds from what the project's scripts install: every
# development package of RL_DEBS (scripts/lib.sh) is a Build-Depends of
# debian/control, so a library added for the build is not forgotten by
# the package (scripts/deb, docs/deploy.md).  And every unit template the
# top Makefile.am generates has its source.
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
fail=0
n=0
debs=$(sed -n '/^RL_DEBS="/,/"$/p' "$top_srcdir/scripts/lib.sh" |
    sed -e 's/^RL_DEBS="//' -e 's/"$//' | tr ' ' '\n' | grep -- '-dev$')
build=$(sed -n '/^Build-Depends:/,/^[A-Z][a-zA-Z-]*:/p' \
    "$top_srcdir/debian/control" | sed '$d' | sed 's/^Build-Depends://' |
    tr ',' '\n' | sed -e 's/[[:space:]]//g' -e 's/(.*//')
for p in $debs; do
	n=$((n + 1))
	if printf '%s\n' "$build" | grep -qx -- "$p"; then
		echo "ok $n - $p is a Build-Depends of debian/control"
	else
		echo "not ok $n - $p (RL_DEBS) missing from debian/control's Build-Depends"
		fail=1
	fi
done
for u in relais@.service relais@.socket relais-worker.service \
    relais-migrate.service relais-realtime.service relais.conf; do
	n=$((n + 1))
	if [ -f "$top_srcdir/systemd/$u.in" ]; then
		echo "ok $n - systemd/$u.in exists"
	else
		echo "not ok $n - systemd/$u.in is missing"; fail=1
	fi
done
echo "1..$n"
exit $fail
