#!/bin/sh
# Schema validation benchmark (not a test): ns per validation of a parsed
# ~10 KB BulkPlanDeCoursResponse and a ~1.4 KB CalendarOnlyResponse for
# relais (fast path and full validate with coercion output), ajv 8
# (compiled, allErrors) and pydantic model_validate_json (which parses
# too: it has no pre-parsed path from JSON).  Prints the ratios.
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
b="$top/bench/schema"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
[ -d "$b/node_modules/ajv" ] || (cd "$b" && npm ci --no-audit --no-fund >/dev/null)
cc -O2 -I"$top/lib" -I"$top/build" -o "$tmp/bench" "$b/bench.c" \
    "$top"/lib/schema.c "$top"/lib/schema_re.c "$top"/lib/schema_fmt.c \
    "$top"/lib/schema_lint.c "$top"/lib/err.c -ljansson -lm
python3 "$b/bench.py" --docs "$tmp"
printf '%-28s %8s %10s %10s %9s %10s %8s %8s\n' document bytes relais_ns \
    full_ns ajv_ns pydantic_ns ajv/rl py/rl
for pair in BulkPlanDeCoursResponse:bulk CalendarOnlyResponse:small; do
	id=${pair%%:*}; doc="$tmp/${pair#*:}.json"
	schema="$top/lib/schemas/$id.json"
	set -- $("$tmp/bench" "$schema" "$doc" 20000)
	rl=$1; full=$2
	ajv=$(node "$b/bench.mjs" "$schema" "$doc" 20000)
	py=$(python3 "$b/bench.py" --time "$schema" "$doc" 2000)
	printf '%-28s %8s %10s %10s %9s %10s %8s %8s\n' "$id" \
	    "$(wc -c < "$doc")" "$rl" "$full" "$ajv" "$py" \
	    "$(echo "scale=2; $ajv / $rl" | bc)" \
	    "$(echo "scale=1; $py / $rl" | bc)"
done
