#!/bin/sh
# DOCX to text benchmark (not a test): every pandoc fixture in
# ../shared/conformance/docx/pandoc (123 documents) through relais
# (tests/conformance/docx-text, built here with -O2 and no sanitizers) and
# through `pandoc -f docx -t plain --wrap=none`.  pandoc runs one process
# per document, as a program would have to call it.  relais runs the way
# an import route calls it, in the running program (one process reads the
# whole set), and also one process per document for comparison.  Prints
# the totals and both ratios (goal: the first at least 50x), and the peak
# RSS of both on the largest document.  Then it opens the writer's sample
# document with pandoc.
#
# pandoc is installed with apt-get when missing (Debian's 2.17); without
# it the pandoc figures are skipped and said so.
#
# usage: bench/docx.sh [ROUNDS]   (ROUNDS of the whole set, default 5)
set -e
# libzip turns every entry's DOS time into a time_t with mktime(), and
# glibc then stats /etc/localtime each time unless TZ is set: 5% of the
# reader's time.  A set TZ is what a deployed program should have anyway;
# pandoc runs with it too.
TZ=${TZ:-UTC}
export TZ
top=$(cd "$(dirname "$0")/.." && pwd)
shared=${RELAIS_SHARED:-$top/../shared}
dir="$shared/conformance/docx/pandoc"
rounds=${1:-5}
[ -d "$dir" ] || { echo "bench/docx.sh: no fixtures at $dir" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
touch "$tmp/config.h"
cc -O2 -D_GNU_SOURCE -I"$tmp" -I"$top/lib" -o "$tmp/docx-text" \
    "$top/tests/conformance/docx-text.c" "$top/lib/docx.c" \
    "$top/lib/docxw.c" "$top/lib/buf.c" "$top/lib/zipio.c" \
    "$top/lib/err.c" \
    $(pkg-config --cflags --libs libzip expat)
if ! command -v pandoc >/dev/null 2>&1; then
	echo "installing pandoc (apt-get)..."
	(apt-get install -y pandoc >/dev/null 2>&1 ||
	    sudo apt-get install -y pandoc >/dev/null 2>&1) || true
fi
files=$(cd "$dir" && ls *.docx golden/*.docx)
n=$(echo "$files" | wc -l)

# Seconds (3 decimals) to run "$@" once per file, ROUNDS times.
per_file() {
	start=$(date +%s.%N)
	r=0
	while [ "$r" -lt "$rounds" ]; do
		for f in $files; do
			"$@" "$dir/$f" >/dev/null 2>&1 || true
		done
		r=$((r + 1))
	done
	end=$(date +%s.%N)
	echo "scale=3; ($end - $start) / $rounds" | bc
}

rl=$(per_file "$tmp/docx-text")
# In the program: rl_docx_text calls only, timed inside (-t).
inproc=$(cd "$dir" && "$tmp/docx-text" -t "$((rounds * 4))" $files)
printf 'documents: %d, rounds: %d\n' "$n" "$rounds"
printf 'relais, in the program:            %8.4f s per set\n' "$inproc"
printf 'relais, one process per document: %8.3f s per set\n' "$rl"
largest=$(cd "$dir" && ls -S $files | head -1)
rss() {
	/usr/bin/time -v "$@" "$dir/$largest" 2>&1 >/dev/null |
	    sed -n 's/.*Maximum resident set size (kbytes): //p'
}
if command -v pandoc >/dev/null 2>&1; then
	pd=$(per_file pandoc -f docx -t plain --wrap=none)
	printf 'pandoc %s, one process per document: %8.3f s per set\n' \
	    "$(pandoc --version | sed -n '1s/pandoc //p')" "$pd"
	printf 'ratio pandoc / relais in the program: %sx (goal >= 50x)\n' \
	    "$(echo "scale=1; $pd / $inproc" | bc)"
	printf 'ratio pandoc / relais, both one process per document: %sx\n' \
	    "$(echo "scale=1; $pd / $rl" | bc)"
	printf 'peak RSS on %s: relais %s KiB, pandoc %s KiB\n' "$largest" \
	    "$(rss "$tmp/docx-text")" "$(rss pandoc -f docx -t plain)"
	"$tmp/docx-text" -w "$tmp/sample.docx"
	if pandoc -f docx -t markdown "$tmp/sample.docx" > "$tmp/sample.md" \
	    2>"$tmp/sample.err"; then
		echo "writer: pandoc opens the sample document:"
		sed 's/^/    /' "$tmp/sample.md"
	else
		echo "writer: pandoc FAILED on the sample document:"
		sed 's/^/    /' "$tmp/sample.err"
	fi
else
	echo "pandoc unavailable: no pandoc figures"
	printf 'peak RSS on %s: relais %s KiB\n' "$largest" \
	    "$(rss "$tmp/docx-text")"
fi
