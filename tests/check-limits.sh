#!/bin/sh
# The body size and timeout nginx enforces must match lib/bounds.h, or one
# side refuses what the other accepts.  scripts/mknginx writes them from
# lib/bounds.h into nginx/relais.conf; this checks the committed file.
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
h="$top_srcdir/lib/bounds.h"
c="$top_srcdir/nginx/relais.conf"
fail=0
mb=$(sed -n 's/^#define RL_NGINX_BODY_MAX_MB[[:space:]]*\([0-9]*\).*/\1/p' "$h")
up=$(sed -n 's/^#define RL_UPLOAD_MAX[[:space:]]*(\([0-9]*\) \* 1024 \* 1024).*/\1/p' "$h")
to=$(sed -n 's/^#define RL_REQUEST_TIMEOUT_SEC[[:space:]]*\([0-9]*\).*/\1/p' "$h")
if grep -q "^client_max_body_size ${mb}m;" "$c"; then
	echo "ok 1 - client_max_body_size is RL_NGINX_BODY_MAX_MB (${mb}m)"
else
	echo "not ok 1 - client_max_body_size differs from RL_NGINX_BODY_MAX_MB=${mb}"; fail=1
fi
if [ -n "$up" ] && [ "$mb" -ge "$up" ]; then
	echo "ok 2 - nginx limit covers RL_UPLOAD_MAX (${up} MiB)"
else
	echo "not ok 2 - RL_NGINX_BODY_MAX_MB=${mb} < RL_UPLOAD_MAX=${up}"; fail=1
fi
if grep -q "^fastcgi_read_timeout ${to}s;" "$c"; then
	echo "ok 3 - fastcgi_read_timeout is RL_REQUEST_TIMEOUT_SEC (${to}s)"
else
	echo "not ok 3 - fastcgi_read_timeout differs from RL_REQUEST_TIMEOUT_SEC=${to}"; fail=1
fi
if grep -q "^fastcgi_keep_conn off;" "$c"; then
	echo "ok 4 - fastcgi_keep_conn off"
else
	echo "not ok 4 - fastcgi_keep_conn must be off"; fail=1
fi
# The queue's and the statement registry's bounds live in bounds.h (issue
# 17), with what db.c's bitmaps and credits.c's queue assume of them.
prep=$(sed -n 's/^#define RL_DB_PREP_MAX[[:space:]]*\([0-9]*\).*/\1/p' "$h")
group=$(sed -n 's/^#define RL_CREDITS_GROUP_MAX[[:space:]]*\([0-9]*\).*/\1/p' "$h")
literal=$(grep -nE '^#define[[:space:]]+(GROUP_MAX|LATER_MAX|PREP_MAX)[[:space:]]+[(0-9]' \
    "$top_srcdir/lib/credits.c" "$top_srcdir/lib/db.c" || true)
if [ -n "$prep" ] && [ $((prep % 64)) -eq 0 ] && [ -n "$group" ] &&
    [ "$group" -ge 1 ] && grep -q '^#define RL_CREDITS_LATER_MAX[[:space:]]*([0-9]* \* RL_CREDITS_GROUP_MAX)' "$h" &&
    [ -z "$literal" ]; then
	echo "ok 5 - RL_DB_PREP_MAX ($prep) a multiple of 64, the queue's bounds in bounds.h"
else
	echo "not ok 5 - RL_DB_PREP_MAX/RL_CREDITS_GROUP_MAX/LATER_MAX: $prep $group $literal"; fail=1
fi
echo "1..5"
exit $fail
