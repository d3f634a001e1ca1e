#!/usr/bin/env bash
# tests/integration/backup-stack.sh: a second relais for backup-rekey.test.mjs,
# built from a backup as docs/operations.md says to restore one, with the
# functions of scripts/lib.sh:
#
#   backup-stack.sh restore STATE BUILD DUMP KEY
#	a fresh PostgreSQL cluster under STATE, the pg_dump custom-format
#	DUMP restored into its relais database, KEY as the master key file,
#	the settings and api programs and nginx; prints the port
#   backup-stack.sh programs STATE BUILD [KEYFILE]
#	start the programs again (after relais-rekey), with KEYFILE as the
#	master key if given
#   backup-stack.sh stop-programs STATE
#	stop the programs only (before relais-rekey)
#   backup-stack.sh stop STATE
#	stop everything started under STATE
set -euo pipefail
RL_PROGRAMS="settings api"
. "$(dirname "$0")/../../scripts/lib.sh"

cmd=$1
STATE=$2

# Stop the programs (their supervisors first), leave PostgreSQL and nginx.
stop_programs() {
	local name pid i
	for name in $RL_PROGRAMS; do
		for f in "$STATE/pids/$name.pid" "$STATE/pids/$name.child"; do
			[ -f "$f" ] || continue
			pid=$(cat "$f")
			rl_ours "$pid" && kill -TERM "$pid" 2>/dev/null || true
			for i in $(seq 100); do
				rl_ours "$pid" || break
				sleep 0.1
			done
			rl_ours "$pid" && kill -KILL "$pid" 2>/dev/null || true
			rm -f "$f"
		done
	done
}

case $cmd in
restore)
	BUILD=$3 DUMP=$4 KEY=$5
	mkdir -p "$STATE"
	chmod 755 "$STATE"
	PORT=$(rl_free_port)
	rl_state_init
	# The backup's key file, as an operator copies it back: 0600.
	install -m 600 "$KEY" "$RELAIS_SECRET_KEY_FILE"
	RL_PG_FSYNC=off rl_pg_start >/dev/null
	pg_restore -h "$RL_PGHOST" -U relais -d relais --exit-on-error \
		--no-owner "$DUMP" >"$STATE/log/restore.log" 2>&1 ||
		{ cat "$STATE/log/restore.log" >&2; rl_die "pg_restore failed"; }
	# The programs refuse a schema older than theirs: migrations first,
	# as after any upgrade (nothing to apply for a dump of this build).
	rl_migrate "$BUILD"
	rl_programs "$BUILD"
	rl_nginx
	rl_wait_ready
	echo "$PORT" >"$STATE/port"
	echo "$PORT"
	;;
programs)
	BUILD=$3
	rl_state_init
	[ $# -ge 4 ] && export RELAIS_SECRET_KEY_FILE=$4
	stop_programs
	rl_programs "$BUILD"
	PORT=$(cat "$STATE/port")
	rl_wait_ready
	;;
stop-programs)
	stop_programs
	;;
stop)
	rl_state_init
	rl_stop
	;;
*)
	rl_die "usage: $0 restore|programs|stop STATE ..."
	;;
esac
