/*
 * db.c: PostgreSQL through libpq, and the only file that includes
 * <libpq-fe.h>.
 *
 * Each thread owns one connection (a thread-local pointer), so no locking
 * is needed and a slow query never blocks another request.  When PostgreSQL
 * goes away the statement in flight fails with RL_EDBDOWN (503
 * db_unavailable) and the connection is dropped; the next statement on that
 * thread connects again, so the service recovers by itself after a restart.
 * PGresult never leaves this file: callers get a struct rl_dbres.
 */
#include "config.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "conf.h"
#include "db.h"
#include "bounds.h"
#include "log.h"

#define STR1(x)	#x
#define STR(x)	STR1(x)

struct rl_dbres {
	PGresult	*res;
};

static __thread PGconn	*conn;

void
rl_db_disconnect(void)
{

	if (conn != NULL) {
		PQfinish(conn);
		conn = NULL;
	}
}

/* Copy libpq's message without its trailing newline. */
static enum rl_err
pqerr(struct rl_error *e, enum rl_err code, const char *what,
    const char *msg)
{
	size_t	 len = strlen(msg);

	while (len > 0 && (msg[len - 1] == '\n' || msg[len - 1] == ' '))
		len--;
	return rl_error_set(e, code, "%s: %.*s", what, (int)len, msg);
}

/*
 * Is the idle connection still there?  When PostgreSQL restarts, the old
 * backend closes its socket (often after a FATAL message); looking before
 * sending means a statement is never sent on a dead connection, so the
 * first request after a restart works instead of failing once per
 * thread.  One poll(2), no round trip.
 */
static int
alive(void)
{
	struct pollfd	 pfd;

	pfd.fd = PQsocket(conn);
	pfd.events = POLLIN | POLLRDHUP;
	pfd.revents = 0;
	if (pfd.fd < 0)
		return 0;
	if (poll(&pfd, 1, 0) <= 0)
		return 1;
	if (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL))
		return 0;
	/* Readable while idle: a notice, a notification or a FATAL. */
	return PQconsumeInput(conn) && PQstatus(conn) == CONNECTION_OK;
}

static enum rl_err
connect_db(struct rl_error *e)
{
	char		 opts[128];
	const char	*keys[4], *vals[4];

	if (conn != NULL && PQstatus(conn) == CONNECTION_OK && alive())
		return RL_OK;
	rl_db_disconnect();
	(void)snprintf(opts, sizeof(opts), "-c statement_timeout=%d",
	    RL_DB_STATEMENT_TIMEOUT_MS);
	keys[0] = "dbname";
	vals[0] = rl_conf->database_url;
	keys[1] = "connect_timeout";
	vals[1] = STR(RL_DB_CONNECT_TIMEOUT_SEC);
	keys[2] = "options";
	vals[2] = opts;
	keys[3] = NULL;
	vals[3] = NULL;
	/* expand_dbname=1: dbname may be a full URL or key=value string. */
	conn = PQconnectdbParams(keys, vals, 1);
	if (conn == NULL)
		return rl_error_set(e, RL_ENOMEM, NULL);
	if (PQstatus(conn) != CONNECTION_OK) {
		pqerr(e, RL_EDBDOWN, "database unavailable",
		    PQerrorMessage(conn));
		rl_db_disconnect();
		return RL_EDBDOWN;
	}
	return RL_OK;
}

/*
 * Run one parameterised statement.  On success *out (when not NULL) holds
 * the result, to be freed with rl_dbres_free().
 */
enum rl_err
rl_db_exec(const char *sql, int nparams, const char *const *params,
    struct rl_dbres **out, struct rl_error *e)
{
	PGresult	*res;
	ExecStatusType	 st;
	const char	*state;
	enum rl_err	 err;

	if (out != NULL)
		*out = NULL;
	if ((err = connect_db(e)) != RL_OK)
		return err;
	res = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
	st = res != NULL ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
		if (out == NULL) {
			PQclear(res);
			return RL_OK;
		}
		if ((*out = malloc(sizeof(**out))) == NULL) {
			PQclear(res);
			return rl_error_set(e, RL_ENOMEM, NULL);
		}
		(*out)->res = res;
		return RL_OK;
	}
	if (PQstatus(conn) != CONNECTION_OK) {
		/* The server went away: drop the connection so the next
		 * statement reconnects. */
		err = pqerr(e, RL_EDBDOWN, "database unavailable",
		    PQerrorMessage(conn));
		PQclear(res);
		rl_db_disconnect();
		return err;
	}
	state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	/* Class 23 is integrity violations (unique, foreign key, check):
	 * a conflict with existing data, not a server fault. */
	err = pqerr(e, state != NULL && strncmp(state, "23", 2) == 0 ?
	    RL_ECONFLICT : RL_EDB, "database", res != NULL ?
	    PQresultErrorMessage(res) : PQerrorMessage(conn));
	if (state != NULL)
		rl_error_where(e, state);
	PQclear(res);
	return err;
}

int
rl_dbres_rows(const struct rl_dbres *r)
{

	return PQntuples(r->res);
}

int
rl_dbres_cols(const struct rl_dbres *r)
{

	return PQnfields(r->res);
}

/* Borrowed from the result; "" for NULL (use rl_dbres_isnull). */
const char *
rl_dbres_get(const struct rl_dbres *r, int row, int col)
{

	return PQgetvalue(r->res, row, col);
}

int
rl_dbres_isnull(const struct rl_dbres *r, int row, int col)
{

	return PQgetisnull(r->res, row, col);
}

long long
rl_dbres_affected(const struct rl_dbres *r)
{
	const char	*s = PQcmdTuples(r->res);

	return *s != '\0' ? strtoll(s, NULL, 10) : 0;
}

void
rl_dbres_free(struct rl_dbres *r)
{

	if (r == NULL)
		return;
	PQclear(r->res);
	free(r);
}

/*
 * Run a statement whose first column of its first row is JSON text
 * (json_build_object, json_agg...) and return it parsed: the database
 * shapes the answer, C only passes it on.  No row gives JSON null.
 */
enum rl_err
rl_db_json(const char *sql, int nparams, const char *const *params,
    json_t **out, struct rl_error *e)
{
	struct rl_dbres	*r;
	json_error_t	 je;
	enum rl_err	 err;

	*out = NULL;
	if ((err = rl_db_exec(sql, nparams, params, &r, e)) != RL_OK)
		return err;
	if (rl_dbres_rows(r) == 0 || rl_dbres_isnull(r, 0, 0))
		*out = json_null();
	else if ((*out = json_loads(rl_dbres_get(r, 0, 0), JSON_DECODE_ANY,
	    &je)) == NULL)
		err = rl_error_set(e, RL_EDB, "database returned bad JSON: %s",
		    je.text);
	rl_dbres_free(r);
	return err;
}

enum rl_err
rl_db_begin(struct rl_error *e)
{

	return rl_db_exec("BEGIN", 0, NULL, NULL, e);
}

enum rl_err
rl_db_commit(struct rl_error *e)
{

	return rl_db_exec("COMMIT", 0, NULL, NULL, e);
}

/* Best effort: a rollback on a dead connection has nothing to undo. */
void
rl_db_rollback(void)
{

	if (conn != NULL && PQstatus(conn) == CONNECTION_OK)
		PQclear(PQexec(conn, "ROLLBACK"));
}

enum rl_err
rl_db_ping(struct rl_error *e)
{

	return rl_db_exec("SELECT 1", 0, NULL, NULL, e);
}

/* Highest applied migration; 0 on a database never migrated. */
enum rl_err
rl_db_schema_version(int *version, struct rl_error *e)
{
	struct rl_dbres	*r;
	struct rl_error	 le;
	enum rl_err	 err;

	*version = 0;
	rl_error_clear(&le);
	err = rl_db_exec("SELECT coalesce(max(version), 0) FROM "
	    "schema_migrations", 0, NULL, &r, &le);
	if (err == RL_EDB && strcmp(le.where, "42P01") == 0)
		return RL_OK;	/* undefined_table: nothing applied yet */
	if (err != RL_OK) {
		if (e != NULL)
			*e = le;
		return err;
	}
	*version = (int)strtol(rl_dbres_get(r, 0, 0), NULL, 10);
	rl_dbres_free(r);
	return RL_OK;
}

/* Refuse to run against a schema older than the code needs. */
enum rl_err
rl_db_check_schema(int need, struct rl_error *e)
{
	enum rl_err	 err;
	int		 have;

	err = rl_db_schema_version(&have, e);
	rl_db_disconnect();
	if (err != RL_OK)
		return err;
	if (have < need)
		return rl_error_set(e, RL_EDB, "database schema is version %d, "
		    "this build needs %d: run relais-migrate", have, need);
	return RL_OK;
}

/*
 * LISTEN on a channel; the identifier is quoted by libpq, since LISTEN
 * takes no parameters.
 */
enum rl_err
rl_db_listen(const char *channel, struct rl_error *e)
{
	char		 sql[256];
	char		*q;
	enum rl_err	 err;

	if ((err = connect_db(e)) != RL_OK)
		return err;
	if ((q = PQescapeIdentifier(conn, channel, strlen(channel))) == NULL)
		return pqerr(e, RL_EDB, "listen", PQerrorMessage(conn));
	(void)snprintf(sql, sizeof(sql), "LISTEN %s", q);
	PQfreemem(q);
	return rl_db_exec(sql, 0, NULL, NULL, e);
}

/*
 * Wait up to ms milliseconds for a notification on this thread's
 * connection.  RL_OK with *channel NULL means the time ran out.  Returned
 * strings are malloc'd.
 */
enum rl_err
rl_db_wait_notify(int ms, char **channel, char **payload, struct rl_error *e)
{
	PGnotify	*n;
	struct pollfd	 pfd;

	*channel = *payload = NULL;
	if (conn == NULL || PQstatus(conn) != CONNECTION_OK)
		return rl_error_set(e, RL_EDBDOWN, "not connected");
	if ((n = PQnotifies(conn)) == NULL) {
		pfd.fd = PQsocket(conn);
		pfd.events = POLLIN;
		if (pfd.fd < 0)
			return rl_error_set(e, RL_EDBDOWN, "no socket");
		if (poll(&pfd, 1, ms) < 0)
			return rl_error_set(e, RL_EIO, "poll failed");
		if (!PQconsumeInput(conn)) {
			pqerr(e, RL_EDBDOWN, "database unavailable",
			    PQerrorMessage(conn));
			rl_db_disconnect();
			return RL_EDBDOWN;
		}
		if ((n = PQnotifies(conn)) == NULL)
			return RL_OK;
	}
	*channel = strdup(n->relname);
	*payload = strdup(n->extra);
	PQfreemem(n);
	if (*channel == NULL || *payload == NULL) {
		free(*channel);
		free(*payload);
		*channel = *payload = NULL;
		return rl_error_set(e, RL_ENOMEM, NULL);
	}
	return RL_OK;
}

/*
 * Run a trusted multi-statement script (a migration file shipped with
 * relais) with the simple query protocol.  Never pass text that came from a
 * request: this is the one call that takes SQL without parameters.
 */
enum rl_err
rl_db_exec_script(const char *sql, struct rl_error *e)
{
	PGresult	*res;
	enum rl_err	 err;
	const char	*state;

	if ((err = connect_db(e)) != RL_OK)
		return err;
	res = PQexec(conn, sql);
	if (res != NULL && (PQresultStatus(res) == PGRES_COMMAND_OK ||
	    PQresultStatus(res) == PGRES_TUPLES_OK)) {
		PQclear(res);
		return RL_OK;
	}
	if (PQstatus(conn) != CONNECTION_OK) {
		err = pqerr(e, RL_EDBDOWN, "database unavailable",
		    PQerrorMessage(conn));
		PQclear(res);
		rl_db_disconnect();
		return err;
	}
	state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	err = pqerr(e, RL_EDB, "database", res != NULL ?
	    PQresultErrorMessage(res) : PQerrorMessage(conn));
	if (state != NULL)
		rl_error_where(e, state);
	PQclear(res);
	return err;
}
