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
echo "1..4"
exit $fail
