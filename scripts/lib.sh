# scripts/lib.sh: shared by scripts/run and scripts/test.  Sourced, not run.
#
# The stack: a PostgreSQL cluster under $STATE/pg (unix socket only), the
# fake OpenAI upstream on a loopback port unless RELAIS_OPENAI_API_KEY is
# set, every program on a unix socket under $STATE/run, and nginx on
# 127.0.0.1:$PORT.  Every process started here has a pid file under
# $STATE/pids and is stopped by pid.

RL_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RL_PGBIN=${RL_PGBIN:-/usr/lib/postgresql/15/bin}
# FastCGI programs started by the stack (socket $STATE/run/<name>.sock):
# every program cgi-bin/Makefile.am builds, so that adding a program there
# is all it takes to run it.
RL_PROGRAMS=${RL_PROGRAMS:-$(sed -n 's/^cgibin_PROGRAMS[ +]*= *//p' \
	"$RL_TOP/cgi-bin/Makefile.am" | tr '\n' ' ')}
RL_DEBS="build-essential autoconf automake libtool pkg-config nginx \
postgresql-15 libpq-dev libjansson-dev libsodium-dev libfcgi-dev \
libcurl4-openssl-dev libzip-dev libexpat1-dev libmicrohttpd-dev curl \
nettle-dev zlib1g-dev libsqlite3-dev sqlite3 libwebsockets-dev libjemalloc-dev \
python3 python3-sqlalchemy python3-psycopg2 python3-requests"

rl_log() { printf '%s\n' "relais: $*" >&2; }
rl_die() { rl_log "$*"; exit 1; }

rl_as_root() {
	if [ "$(id -u)" -eq 0 ]; then "$@"
	elif command -v sudo >/dev/null 2>&1; then sudo "$@"
	else rl_die "need root for: $*"
	fi
}

# Install the Debian packages that are missing (apt-get update once).
# An argument "cmd:package" is satisfied by the command being on PATH
# already (node and npm often come from elsewhere than Debian).
rl_deps() {
	local missing="" p
	for p in $RL_DEBS "$@"; do
		case $p in
		*:*)	command -v "${p%%:*}" >/dev/null 2>&1 && continue
			p=${p#*:} ;;
		esac
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q "install ok installed" || missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	rl_log "installing:$missing"
	rl_as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq ||
		rl_die "apt-get update failed"
	# shellcheck disable=SC2086
	rl_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends $missing >/dev/null ||
		rl_die "apt-get install failed:$missing"
}

# rl_build DIR [configure args...]: out-of-tree build, reconfigured when
# configure.ac or a Makefile.am changed.
rl_build() {
	local dir=$1; shift
	cd "$RL_TOP" || rl_die "no $RL_TOP"
	if [ ! -x configure ] || [ configure.ac -nt configure ] ||
	    [ -n "$(find . -name Makefile.am -newer configure -not -path './build*' | head -1)" ]; then
		autoreconf -fi >/dev/null 2>&1 || { autoreconf -fi; rl_die "autoreconf failed"; }
	fi
	mkdir -p "$dir"
	if [ ! -f "$dir/Makefile" ] || [ configure -nt "$dir/Makefile" ] ||
	    [ "$(cat "$dir/.rl-configure-args" 2>/dev/null)" != "$*" ]; then
		(cd "$dir" && "$RL_TOP/configure" "$@" >configure.out 2>&1) ||
			{ tail -30 "$dir/configure.out"; rl_die "configure failed"; }
		printf '%s' "$*" >"$dir/.rl-configure-args"
	fi
	make -C "$dir" -j"$(nproc)" >"$dir/make.out" 2>&1 ||
		{ grep -E 'error|Error' "$dir/make.out" | head -40; rl_die "build failed (see $dir/make.out)"; }
}

# Run a PostgreSQL server binary as the cluster owner: initdb and pg_ctl
# refuse to run as root.
rl_pg() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$RL_PGBIN/$1" "${@:2}"
	else
		"$RL_PGBIN/$1" "${@:2}"
	fi
}

rl_state_init() {
	mkdir -p "$STATE"/{run,log,pids,tmp,nginx/tmp,nginx/extra,pg}
	chmod 755 "$STATE" "$STATE/run"
	chmod 1777 "$STATE/tmp"
	if [ "$(id -u)" -eq 0 ]; then
		chown postgres: "$STATE/pg"
		id www-data >/dev/null 2>&1 && chown www-data: "$STATE/nginx/tmp"
	fi
	RL_PGHOST="$STATE/pg/run"
	export RELAIS_DATABASE_URL="host=$RL_PGHOST port=5432 user=relais dbname=relais"
	export RELAIS_SECRET_KEY_FILE="$STATE/secret.key"
	export RELAIS_TMPDIR="$STATE/tmp"
	export RELAIS_SCHEMA_DIR="$RL_TOP/lib/schemas"
	export RELAIS_PAGE_DIR="$RL_TOP/pages"
}

# Master key for stored API keys, created 0600 on first run.
rl_secret_key() {
	[ -f "$RELAIS_SECRET_KEY_FILE" ] && return 0
	(umask 077 && head -c 32 /dev/urandom >"$RELAIS_SECRET_KEY_FILE")
	rl_log "created $RELAIS_SECRET_KEY_FILE"
}

rl_pg_start() {
	local data="$STATE/pg/data"
	if [ ! -f "$data/PG_VERSION" ]; then
		rl_pg initdb -D "$data" -U relais --auth=trust -E UTF8 \
			--locale=C.UTF-8 >"$STATE/log/initdb.log" 2>&1 ||
			{ cat "$STATE/log/initdb.log"; rl_die "initdb failed"; }
	fi
	if [ "$(id -u)" -eq 0 ]; then
		install -d -o postgres -m 755 "$RL_PGHOST"
	else
		mkdir -p "$RL_PGHOST"
	fi
	if ! rl_pg pg_ctl -D "$data" status >/dev/null 2>&1; then
		rl_pg pg_ctl -D "$data" -w -t 60 -l "$STATE/pg/server.log" \
			-o "-c listen_addresses='' -c unix_socket_directories='$RL_PGHOST' -c max_connections=300 -c fsync=${RL_PG_FSYNC:-on}" \
			start >/dev/null || { tail -20 "$STATE/pg/server.log"; rl_die "PostgreSQL did not start"; }
	fi
	psql -h "$RL_PGHOST" -U relais -d postgres -Atqc \
		"SELECT 1 FROM pg_database WHERE datname = 'relais'" | grep -q 1 ||
		psql -h "$RL_PGHOST" -U relais -d postgres -qc "CREATE DATABASE relais" ||
		rl_die "createdb failed"
}

rl_pg_stop() {
	[ -f "$STATE/pg/data/PG_VERSION" ] || return 0
	rl_pg pg_ctl -D "$STATE/pg/data" -m fast -w stop >/dev/null 2>&1 || true
}

# rl_migrate BUILDDIR
rl_migrate() {
	"$1/bin/relais-migrate" -d "$RL_TOP/sql" >"$STATE/log/migrate.log" 2>&1 ||
		{ cat "$STATE/log/migrate.log"; rl_die "migration failed"; }
}

# The demo institution goes into an empty database only.
rl_demo() {
	local n
	n=$(psql -h "$RL_PGHOST" -U relais -d relais -Atqc "SELECT count(*) FROM users")
	[ "$n" = 0 ] || return 0
	psql -h "$RL_PGHOST" -U relais -d relais -v ON_ERROR_STOP=1 -q \
		--single-transaction -f "$RL_TOP/sql/demo/demo.sql" >/dev/null ||
		rl_die "loading the demo failed"
	rl_log "demo data loaded"
}

# rl_edxo BUILDDIR FILE: an EDxo database instead of the demo, imported
# into an empty database only (the report is $STATE/log/import-edxo.log).
rl_edxo() {
	local n
	n=$(psql -h "$RL_PGHOST" -U relais -d relais -Atqc "SELECT count(*) FROM users")
	if [ "$n" != 0 ]; then
		rl_log "database not empty: $2 not imported (a new RELAIS_STATE imports it; relais-import-edxo re-syncs)"
		return 0
	fi
	"$1/bin/relais-import-edxo" "$2" >"$STATE/log/import-edxo.log" 2>&1 ||
		{ tail -20 "$STATE/log/import-edxo.log"; rl_die "importing $2 failed"; }
	rl_log "EDxo database $2 imported (report: $STATE/log/import-edxo.log)"
}

# rl_spawn NAME CMD...: start in the background, logs and pid under $STATE.
rl_spawn() {
	local name=$1; shift
	"$@" >>"$STATE/log/$name.log" 2>&1 &
	echo $! >"$STATE/pids/$name.pid"
}

# rl_supervised NAME CMD...: rl_spawn under scripts/supervise, which starts
# the program again when it dies (logged, counted in
# $STATE/run/NAME.restarts); the program's own pid is in
# $STATE/pids/NAME.child.
rl_supervised() {
	local name=$1; shift
	rm -f "$STATE/pids/$name.child"
	rl_spawn "$name" "$RL_TOP/scripts/supervise" "$name" "$STATE" "$@"
}

rl_free_port() {
	local p i
	for i in $(seq 100); do
		p=$((20000 + RANDOM % 40000))
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return 0; }
	done
	rl_die "no free port"
}

# rl_upstream BUILDDIR: the fake upstream unless a real key is configured.
# Whether one is configured is decided before anything is exported here.
rl_upstream() {
	if [ -n "${RELAIS_OPENAI_API_KEY:-}" ]; then
		export RELAIS_OPENAI_BASE_URL=${RELAIS_OPENAI_BASE_URL:-https://api.openai.com/v1}
		return 0
	fi
	local port=${RELAIS_FAKE_PORT:-$(rl_free_port)}
	rl_spawn fake-openai "$1/tests/fake-openai/fake-openai" --listen "127.0.0.1:$port"
	export RELAIS_OPENAI_BASE_URL="http://127.0.0.1:$port/v1"
	rl_wait_tcp "$port" || rl_die "fake upstream did not start (see $STATE/log/fake-openai.log)"
	# The fake accepts any key; with one, programs have an institution key.
	export RELAIS_OPENAI_API_KEY=sk-relais-fake-upstream
}

rl_wait_tcp() {
	local i
	for i in $(seq 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# rl_programs BUILDDIR [extra name:path...]
rl_programs() {
	local b=$1 p name path i; shift
	# The build's OpenAPI document (make writes it), for GET /openapi.json.
	export RELAIS_OPENAPI_FILE=${RELAIS_OPENAPI_FILE:-$b/openapi.json}
	for p in $RL_PROGRAMS "$@"; do
		name=${p%%:*}
		path=${p#*:}
		[ "$path" = "$p" ] && path="$b/cgi-bin/$name"
		rm -f "$STATE/run/$name.sock"
		rl_supervised "$name" "$path" -s "$STATE/run/$name.sock"
	done
	for p in $RL_PROGRAMS "$@"; do
		name=${p%%:*}
		for i in $(seq 100); do
			[ -S "$STATE/run/$name.sock" ] && break
			kill -0 "$(cat "$STATE/pids/$name.pid")" 2>/dev/null ||
				{ tail -5 "$STATE/log/$name.log"; rl_die "$name exited"; }
			sleep 0.1
		done
		[ -S "$STATE/run/$name.sock" ] || rl_die "$name: no socket"
	done
}

# rl_worker BUILDDIR [path]: the task runner, log $STATE/log/worker.log.
# It has no socket to wait for: wait until it listens for tasks, or die if
# it exits (bad configuration, old schema).
rl_worker() {
	local path=${2:-$1/bin/relais-worker} log="$STATE/log/worker.log" n=0 i
	[ -f "$log" ] && n=$(wc -l <"$log")
	rl_supervised worker "$path"
	for i in $(seq 100); do
		kill -0 "$(cat "$STATE/pids/worker.pid")" 2>/dev/null ||
			{ tail -5 "$log"; rl_die "worker exited"; }
		# No grep -q: with pipefail, tail's SIGPIPE would fail the test.
		if tail -n +"$((n + 1))" "$log" | grep 'listening on relais_tasks' >/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	rl_log "worker not listening yet (see $log)"
}

# rl_realtime BUILDDIR [path]: the realtime WebSocket (/realtime/ws), on
# the socket nginx/relais.conf names; stopped by its pid file as the rest.
rl_realtime() {
	local path=${2:-$1/bin/relais-realtime} s="$STATE/run/realtime/realtime.sock" i
	mkdir -p "$STATE/run/realtime"
	rm -f "$s"
	rl_supervised realtime "$path" -s "$s"
	for i in $(seq 100); do
		[ -S "$s" ] && return 0
		kill -0 "$(cat "$STATE/pids/realtime.pid")" 2>/dev/null ||
			{ tail -5 "$STATE/log/realtime.log"; rl_die "realtime exited"; }
		sleep 0.1
	done
	rl_die "realtime: no socket"
}

# nginx: the shipped relais.conf and application.conf with this state
# directory's sockets and admin page; every path no program claims goes
# to RELAIS_APPLICATION_URL (a running EDxo, e.g. http://127.0.0.1:5000)
# or, by default, to the stand-in server of dev.conf.
rl_nginx() {
	local userline="" app=${RELAIS_APPLICATION_URL:-http://unix:$STATE/run/application.sock:}
	[ "$(id -u)" -eq 0 ] && userline="user www-data;"
	sed -e "s#/run/relais/#$STATE/run/#g" -e "s#/usr/share/relais/admin/#$RL_TOP/admin/#g" \
	    -e "s#/usr/share/relais/pages/#$RL_TOP/pages/#g" \
		"$RL_TOP/nginx/relais.conf" >"$STATE/nginx/relais.conf"
	sed -e "s#^\([[:space:]]*proxy_pass\) http://127\.0\.0\.1:5000;#\1 $app;#" \
		"$RL_TOP/nginx/application.conf" >"$STATE/nginx/application.conf"
	grep -q "proxy_pass $app;" "$STATE/nginx/application.conf" ||
		rl_die "nginx/application.conf: no proxy_pass line to point at $app"
	# A socket left by an nginx that was killed would fail its bind.
	rm -f "$STATE/run/application.sock"
	sed -e "s#@STATE@#$STATE#g" -e "s#@PORT@#$PORT#g" -e "s#@USERLINE@#$userline#" \
		"$RL_TOP/nginx/dev.conf" >"$STATE/nginx/nginx.conf"
	mkdir -p "$STATE/nginx/tmp"/{body,fastcgi,proxy,uwsgi,scgi}
	[ "$(id -u)" -eq 0 ] && chown -R www-data: "$STATE/nginx/tmp"
	/usr/sbin/nginx -t -q -p "$STATE/nginx" -c "$STATE/nginx/nginx.conf" -e "$STATE/log/nginx-error.log" ||
		rl_die "nginx configuration invalid"
	rl_spawn nginx /usr/sbin/nginx -p "$STATE/nginx" -c "$STATE/nginx/nginx.conf" -e "$STATE/log/nginx-error.log"
	rl_wait_tcp "$PORT" || rl_die "nginx did not start (see $STATE/log/nginx-error.log)"
}

# rl_base BUILD: state directory, secret key, PostgreSQL, migrations.
rl_base() {
	rl_state_init
	rl_secret_key
	rl_pg_start
	rl_migrate "$1"
}

# rl_echo BUILD THREADS: the echo test responder behind /_test/ (tests and
# benchmarks; never part of scripts/run).
rl_echo() {
	RL_PROGRAMS="" RELAIS_THREADS=$2 rl_programs "$1" "echo:$1/tests/echo/echo"
	cat >"$STATE/nginx/extra/echo.conf" <<EOT
location /_test/ {
	fastcgi_buffering off;
	fastcgi_pass unix:$STATE/run/echo.sock;
}
# The runtime's own route (lib/fcgi.c), like every program's.
location = /metrics/echo {
	fastcgi_pass unix:$STATE/run/echo.sock;
}
EOT
}

# Wait until /api/health answers through nginx.
rl_wait_ready() {
	local i
	for i in $(seq 100); do
		curl -fsS -o /dev/null "http://127.0.0.1:$PORT/api/health" 2>/dev/null && return 0
		sleep 0.1
	done
	rl_die "not ready: http://127.0.0.1:$PORT/api/health"
}

# Is pid still the process a pid file of ours recorded (not a reused pid)?
rl_ours() {
	local cmd
	[ -r "/proc/$1/cmdline" ] || return 1
	{ cmd=$(tr '\0' ' ' <"/proc/$1/cmdline"); } 2>/dev/null || return 1
	case $cmd in
	*"$STATE"*|*fake-openai*|*relais-worker*|*/supervise\ *) return 0 ;;
	esac
	return 1
}

# Stop everything started here, programs before the database.  Never
# fails: it runs from traps and on leftovers of a crashed run.
rl_stop() {
	local f pid i
	for f in "$STATE"/pids/*.pid; do
		[ -f "$f" ] || continue
		pid=$(cat "$f")
		rl_ours "$pid" && kill -TERM "$pid" 2>/dev/null || true
	done
	for f in "$STATE"/pids/*.pid; do
		[ -f "$f" ] || continue
		pid=$(cat "$f")
		for i in $(seq 150); do
			rl_ours "$pid" || break
			sleep 0.1
		done
		rl_ours "$pid" && kill -KILL "$pid" 2>/dev/null || true
		rm -f "$f"
	done
	# A supervisor killed before its program leaves the program behind.
	for f in "$STATE"/pids/*.child; do
		[ -f "$f" ] || continue
		pid=$(cat "$f")
		rl_ours "$pid" && kill -KILL "$pid" 2>/dev/null || true
		rm -f "$f"
	done
	rl_pg_stop
	return 0
}
