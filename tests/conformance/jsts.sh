#!/bin/sh
# JSON-Schema-Test-Suite (draft2020-12) against the schema module.  The
# suite lives in ../shared beside the source tree and is read in place,
# never copied; RELAIS_SHARED overrides the location.  A missing suite is
# a failure, not a skip.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
shared=${RELAIS_SHARED:-$top_srcdir/../shared}
suite="$shared/conformance/json-schema-test-suite/tests/draft2020-12"
if [ ! -d "$suite" ]; then
	echo "not ok 1 - JSON-Schema-Test-Suite not found at $suite"
	echo "# it is expected in ../shared beside the source tree" \
	    "(or set RELAIS_SHARED)"
	echo "1..1"
	exit 1
fi
exec "$top_builddir/tests/conformance/run-jsts" \
    -o "$top_builddir/tests/conformance.md" "$suite"
