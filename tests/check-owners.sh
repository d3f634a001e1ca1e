#!/bin/sh
# One owner per table: money moves only in lib/credits.c (usage_ledger,
# credit_reservations, users.credits); a task's row is written only by
# lib/worker.c (inserted, deleted, or any column but meta changed: meta is
# where programs publish progress and notes).  Reads stay anywhere.
#
# SQL is read from the program's strings, not its lines: the C string
# literals of each file are joined as the compiler joins them (adjacent
# literals, across lines, comments and backslash-newlines), so a
# statement split as "UPDATE " "tasks SET ..." is still seen and a comment
# that names a statement is not.  An UPDATE's SET list is cut into the
# columns it assigns, so "SET meta = ... WHERE state = ..." assigns meta.
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
cd "$top_srcdir" || exit 1
n=0; fail=0
tmp=${TMPDIR:-/tmp}/check-owners.$$
trap 'rm -f "$tmp" "$tmp.c"' EXIT
trap 'exit 1' INT TERM

# Prints "L file:line:literal" for each joined literal (lowercased) and
# "S table column file:line" for each column an UPDATE in it assigns.
scan() {
	awk '
	function flush() {
		if (have) {
			print "L " FILENAME ":" at ":" lit;
			sets(lit);
		}
		have = 0; lit = "";
	}
	function ends(t, i) {
		return substr(t, i, 7) == " where " || \
		    substr(t, i, 6) == " from " || \
		    substr(t, i, 11) == " returning " || substr(t, i, 1) == ";";
	}
	function column(item,    lhs, k, cols, nc) {
		if ((k = index(item, "=")) == 0)
			return;
		lhs = substr(item, 1, k - 1);
		gsub(/[() \t]/, "", lhs);
		nc = split(lhs, cols, ",");
		for (k = 1; k <= nc; k++)
			if (cols[k] != "")
				print "S " tbl " " cols[k] " " FILENAME ":" at;
	}
	function sets(t,    re, i, c, d, q, item, w) {
		re = "update[ \t]+[a-z_]+([ \t]+[a-z_]+)?[ \t]+set[ \t(]";
		while (match(t, re)) {
			w = substr(t, RSTART + 6);
			sub(/^[ \t]+/, "", w);
			tbl = w;
			sub(/[^a-z_].*/, "", tbl);
			i = RSTART + RLENGTH - 1;
			if (substr(t, i, 1) != "(")
				i++;
			d = 0; q = 0; item = "";
			for (; i <= length(t); i++) {
				c = substr(t, i, 1);
				if (c == "'\''")
					q = !q;
				else if (!q && c == "(")
					d++;
				else if (!q && c == ")" && --d < 0)
					break;
				if (!q && d == 0 && ends(t, i))
					break;
				if (!q && d == 0 && c == ",") {
					column(item); item = "";
				} else
					item = item c;
			}
			column(item);
			t = substr(t, i);
		}
	}
	FNR == 1 { flush(); st = "code"; }
	{
		line = $0; len = length(line);
		for (i = 1; i <= len; i++) {
			c = substr(line, i, 1);
			if (st == "str") {
				if (c == "\\") {
					lit = lit c substr(line, i + 1, 1); i++;
				} else if (c == "\"")
					st = "code";
				else
					lit = lit tolower(c);
			} else if (st == "chr") {
				if (c == "\\")
					i++;
				else if (c == "'\''")
					st = "code";
			} else if (st == "cmt") {
				if (c == "*" && substr(line, i + 1, 1) == "/") {
					st = "code"; i++;
				}
			} else if (c == "/" && substr(line, i + 1, 1) == "*") {
				st = "cmt"; i++;
			} else if (c == "/" && substr(line, i + 1, 1) == "/")
				break;
			else if (c == "\"") {
				if (!have) {
					have = 1; at = FNR;
				}
				st = "str";
			} else if (c == "'\''") {
				flush(); st = "chr";
			} else if (c != " " && c != "\t" && c != "\\" && c != "\r")
				flush();
		}
		if (st == "str")	# unterminated: not C, drop the state
			st = "code";
	}
	END { flush(); }
	' "$@"
}

report() {	# what, owner file, the offending records
	n=$((n + 1))
	if [ -z "$3" ]; then
		echo "ok $n - $1 only in $2"
	else
		echo "not ok $n - $1 outside $2:"
		echo "$3" | cut -c1-150 | sed 's/^/#   /'
		fail=1
	fi
}

s='[[:space:]]'
w='([^a-z0-9_]|$)'
write() {	# table: its INSERT/DELETE/UPDATE statements, from scan's L lines
	grep -E "^L .*(insert$s+into|update|delete$s+from)$s+$1$w"
}

# shellcheck disable=SC2046
scan $(find lib cgi-bin bin -name '*.c' 2>/dev/null | sort) >"$tmp" ||
    exit 1
if ! grep -q '^L ' "$tmp"; then
	echo "not ok 1 - no C strings under $top_srcdir"; echo "1..1"; exit 1
fi
report "writes to usage_ledger" lib/credits.c \
    "$(write usage_ledger <"$tmp" | grep -v '^L lib/credits\.c:')"
report "writes to credit_reservations" lib/credits.c \
    "$(write credit_reservations <"$tmp" | grep -v '^L lib/credits\.c:')"
report "UPDATE users SET credits" lib/credits.c \
    "$(grep '^S users credits ' "$tmp" | grep -v ' lib/credits\.c:')"
report "INSERT INTO / DELETE FROM tasks" lib/worker.c \
    "$(grep -E "^L .*(insert$s+into|delete$s+from)$s+tasks$w" "$tmp" |
    grep -v '^L lib/worker\.c:')"
report "UPDATE tasks SET (any column but meta)" lib/worker.c \
    "$(grep '^S tasks ' "$tmp" | grep -v '^S tasks meta ' |
    grep -v ' lib/worker\.c:')"

# The scanner itself: a statement split across literals, lines and a
# comment is seen; a SET of meta alone is not a state change.
n=$((n + 1))
cat >"$tmp.c" <<'EOF'
/* UPDATE users SET credits = 0 (a comment: not SQL) */
static const char a[] = "WITH u AS (UPDATE "
    "users u SET (nom, " /* why */ "credits) = ($1, $2), x = "
    "'a, b' WHERE credits = 0)";
#define B "UPDATE tasks SET meta = meta || $1 WHERE state = " \
    "'PENDING' AND worker = $2"
char c = '"';
static const char d[] = "INSERT INTO "
    "tasks (id) VALUES ($1)";
EOF
got=$(scan "$tmp.c" | grep '^S ' | cut -d' ' -f1-3 | tr '\n' ' ')
want='S users nom S users credits S users x S tasks meta '
if [ "$got" = "$want" ] &&
    [ "$(scan "$tmp.c" | grep -cE "insert$s+into$s+tasks$w")" -eq 1 ]
then
	echo "ok $n - the scanner joins split statements, reads SET lists"
else
	echo "not ok $n - the scanner: got '$got'"; fail=1
fi
echo "1..$n"
exit $fail
