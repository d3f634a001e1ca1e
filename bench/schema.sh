#!/bin/sh
# Schema validation benchmark (not a test): ns per validation of a parsed
# ~10 KB BulkPlanDeCoursResponse and a ~1.4 KB CalendarOnlyResponse for
# relais (rl_schema_valid, and rl_schema_validate with the validated value
# and an error list), ajv 8 (compiled, allErrors) and pydantic
# model_validate_json (which parses too: it has no pre-parsed path from
# JSON).  Each tool runs RUNS times (5), interleaved, each run the best of
# five rounds; the medians are printed with the ratios.  Every process is
# pinned to CPU BENCH_CPU (the last one) with taskset when it exists, so
# the three share one core the same way on a busy machine.
#
# usage: bench/schema.sh [RUNS]; RELAIS_BUILD: a configured build
# directory for config.h (./build, else the first build-*).
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
b="$top/bench/schema"
runs=${1:-5}
build=${RELAIS_BUILD:-$top/build}
[ -f "$build/config.h" ] || build=$(ls -d "$top"/build*/ 2>/dev/null |
    while read -r d; do [ -f "$d/config.h" ] && echo "$d" && break; done)
if [ ! -f "$build/config.h" ]; then
	echo "bench/schema.sh: no configured build (set RELAIS_BUILD)" >&2
	exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
[ -d "$b/node_modules/ajv" ] ||
    (cd "$b" && npm ci --no-audit --no-fund >/dev/null)
cc -O2 -I"$top/lib" -I"$build" -o "$tmp/bench" "$b/bench.c" \
    "$top"/lib/schema.c "$top"/lib/schema_re.c "$top"/lib/schema_fmt.c \
    "$top"/lib/schema_lint.c "$top"/lib/buf.c "$top"/lib/err.c \
    -ljansson -lm
python3 "$b/bench.py" --docs "$tmp"
pin=
if command -v taskset >/dev/null 2>&1; then
	cpu=${BENCH_CPU:-$(($(getconf _NPROCESSORS_ONLN) - 1))}
	pin="taskset -c $cpu"
fi

median() {
	tr ' ' '\n' | grep . | sort -n | awk '{ v[NR] = $1 } END {
	    if (NR % 2) print v[(NR + 1) / 2]
	    else print int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}

echo "# $runs runs each, medians of best-of-5 rounds of CPU time," \
    "ns per validation${pin:+, $pin}"
printf '%-24s %6s %9s %9s %9s %11s %7s %7s\n' document bytes relais_ns \
    full_ns ajv_ns pydantic_ns ajv/rl py/rl
for pair in BulkPlanDeCoursResponse:bulk CalendarOnlyResponse:small; do
	id=${pair%%:*}; doc="$tmp/${pair#*:}.json"
	schema="$top/lib/schemas/$id.json"
	rl= full= ajv= py=
	i=0
	while [ "$i" -lt "$runs" ]; do
		set -- $($pin "$tmp/bench" "$schema" "$doc" 20000)
		rl="$rl $1"; full="$full $2"
		ajv="$ajv $($pin node "$b/bench.mjs" "$schema" "$doc" 20000)"
		py="$py $($pin python3 "$b/bench.py" --time "$schema" "$doc" \
		    2000)"
		i=$((i + 1))
	done
	echo "# $id relais:$rl | full:$full | ajv:$ajv | pydantic:$py"
	rl=$(echo "$rl" | median); full=$(echo "$full" | median)
	ajv=$(echo "$ajv" | median); py=$(echo "$py" | median)
	printf '%-24s %6s %9s %9s %9s %11s %7s %7s\n' "$id" \
	    "$(wc -c < "$doc")" "$rl" "$full" "$ajv" "$py" \
	    "$(echo "scale=2; $ajv / $rl" | bc)" \
	    "$(echo "scale=1; $py / $rl" | bc)"
done
