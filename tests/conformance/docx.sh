#!/bin/sh
# DOCX reader conformance: every pandoc fixture in ../shared is read and
# its words agree with pandoc's plain-text reference (the method and the
# thresholds are in tests/conformance/docx-text.c and docs/conformance.md),
# and every hostile document tests/docx/mkhostile writes is refused with
# its expected code when read from a file.  The fixtures are read in
# place, never copied; RELAIS_SHARED overrides ../shared.  A missing
# fixture directory is a failure, not a skip.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
shared=${RELAIS_SHARED:-$top_srcdir/../shared}
dir="$shared/conformance/docx/pandoc"
bin="$top_builddir/tests/conformance/docx-text"
mk="$top_builddir/tests/docx/mkhostile"
if [ ! -d "$dir" ]; then
	echo "not ok 1 - DOCX fixtures not found at $dir"
	echo "# they are expected in ../shared beside the source tree" \
	    "(or set RELAIS_SHARED)"
	echo "1..1"
	exit 1
fi
fail=0
out=$("$bin" -c "$dir" -o "$top_builddir/tests/conformance-docx.md") ||
	fail=1
echo "$out" | grep -v '^1\.\.'
i=$(echo "$out" | grep -c '^\(not \)\{0,1\}ok ')
# 85 reader fixtures and 38 writer goldens (../shared's README).
if [ "$i" -lt 123 ]; then
	i=$((i + 1))
	echo "not ok $i - pandoc fixtures: $((i - 1)) documents, want 123"
	fail=1
fi
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
if ! "$mk" "$tmp"; then
	i=$((i + 1)); echo "not ok $i - mkhostile failed"; fail=1
fi
while IFS='	' read -r file want why; do
	i=$((i + 1))
	got=$("$bin" -e "$tmp/$file" | cut -f1)
	if [ "$got" = "$want" ]; then
		echo "ok $i - hostile: $file refused with $want ($why)"
	else
		echo "not ok $i - hostile: $file gave $got, want $want ($why)"
		fail=1
	fi
done < "$tmp/expected.tsv"
echo "1..$i"
exit $fail
