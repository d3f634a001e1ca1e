#!/bin/sh
# Differential test against pydantic 2 (pydantic-diff.py).  Without
# python3 or pydantic it says so and exits 77 (automake's "skipped"),
# which CI counts as a failure.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
py=${PYTHON:-python3}
if ! command -v "$py" >/dev/null 2>&1; then
	echo "# $py not found: pydantic differential test NOT run"
	echo "1..0 # SKIP no python3"
	exit 77
fi
if ! "$py" -c 'import pydantic, sys; sys.exit(pydantic.VERSION[0] != "2")' \
    2>/dev/null; then
	echo "# pydantic 2 is not installed for $py: differential test NOT run"
	echo "1..0 # SKIP no pydantic 2"
	exit 77
fi
exec "$py" "$top_srcdir/tests/conformance/pydantic-diff.py" \
    "$top_srcdir" "$top_builddir/bin/relais-schema"
