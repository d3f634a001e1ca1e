/*
 * db.c: PostgreSQL through libpq, and the only file that includes
 * <libpq-fe.h>.
 *
 * Connections live in a pool shared by the program's threads.  A thread
 * borrows one for a single statement, or keeps it from rl_db_begin() to
 * commit or rollback (and from rl_db_listen() on), so a program with 1,000
 * threads holding streams needs no more connections than statements it
 * runs at once.  When PostgreSQL goes away the statement in flight fails
 * with RL_EDBDOWN (503 db_unavailable) and its connection is dropped; idle
 * connections are checked before use, so after a restart the next request
 * works without restarting anything.  PGresult never leaves this file:
 * callers get a struct rl_dbres.
 *
 * Every statement is a prepared one.  The text of a statement (with its
 * number of parameters) names it in a process-wide registry the first
 * time it runs; each connection then prepares it once, on its first use
 * there, and afterwards sends only Bind and Execute: PostgreSQL parses and
 * plans it once per connection instead of once per call.  A connection
 * that dies takes its prepared statements with it, and the one that
 * replaces it prepares afresh.
 */
#include "config.h"

#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "buf.h"
#include "conf.h"
#include "db.h"
#include "extern.h"
#include "bounds.h"
#include "log.h"

#define STR1(x)	#x
#define STR(x)	STR1(x)

/*
 * A result may be shared (cache.c keeps one and lends it to many
 * requests): PGresult is read-only once made, so threads read it at once
 * safely, and the last reference frees it.
 */
struct rl_dbres {
	PGresult	*res;
	atomic_int	 refs;
};

/*
 * Distinct statement texts a program prepares: RL_DB_PREP_MAX (bounds.h).
 * The table has twice the room, for short probe chains.
 */
#define PREP_MAX	RL_DB_PREP_MAX
#define PREP_SLOTS	(2 * PREP_MAX)

/* One pooled connection and the registry's statements prepared on it. */
struct conn {
	PGconn		*pg;
	uint64_t	 prepared[PREP_MAX / 64];
};

/*
 * The registry: a statement's text and parameter count are its identity,
 * its index its name ("rl_<index>") on every connection.  Entries are
 * never removed, so an index stays valid for the life of the process.
 */
static struct {
	pthread_mutex_t	 mu;
	struct {
		char		*sql;
		size_t		 len;
		uint32_t	 hash;
		int		 nparams;
		int		 id;	/* 1-based; 0: empty slot */
	}		 slot[PREP_SLOTS];
	int		 n;
} reg = { PTHREAD_MUTEX_INITIALIZER, { { NULL, 0, 0, 0, 0 } }, 0 };

/*
 * The pool.  total counts open connections, idle and lent; a thread that
 * finds none idle and the pool full waits up to RL_DB_ACQUIRE_TIMEOUT_MS.
 */
static struct {
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	struct conn	*idle[RL_DB_POOL_MAX];
	int		 nidle;
	int		 total;
	int		 size;
} pool = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER,
    { NULL }, 0, 0, 0 };

/* A connection this thread keeps across statements (transaction, LISTEN). */
static __thread struct conn	*pinned;
static __thread int		 listening;
/* This thread's connection is its own, outside the pool (rl_db_own). */
static __thread int		 own;
/* Round trips and their time on this thread since rl_db_stats_reset. */
static __thread int		 nrt;
static __thread long long	 rt_us;

static long long
mono_us(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/*
 * libpq's message names tables, columns, constraints and the values a
 * client sent: it goes to the log (which carries the request id), and the
 * error says only what: "database unavailable", "database error".  The
 * SQLSTATE stays in e->sqlstate for callers that tell conflicts apart.
 */
static enum rl_err
pqerr(struct rl_error *e, enum rl_err code, const char *what,
    const char *state, const char *msg)
{
	size_t	 len = strlen(msg);

	while (len > 0 && (msg[len - 1] == '\n' || msg[len - 1] == ' '))
		len--;
	rl_log(code == RL_ECONFLICT ? RL_LOG_WARN : RL_LOG_ERROR,
	    "%s (SQLSTATE %s): %.*s", what, state != NULL ? state : "-",
	    (int)len, msg);
	(void)rl_error_set(e, code, "%s", what);
	if (e != NULL && state != NULL)
		(void)snprintf(e->sqlstate, sizeof(e->sqlstate), "%s", state);
	return code;
}

/*
 * The registry index of a statement, registering it on first sight; 0
 * when the registry is full (the statement then runs unnamed).  The text
 * is copied: a caller's SQL need not outlive the call.
 */
static int
prep_id(const char *sql, int nparams)
{
	size_t		 len = strlen(sql), i;
	/* The count is checked on a match: the text tells them apart. */
	uint32_t	 h = rl_fnv1a32(sql, len);
	int		 id = 0;

	pthread_mutex_lock(&reg.mu);
	for (i = h % PREP_SLOTS; reg.slot[i].id != 0; i = (i + 1) % PREP_SLOTS)
		if (reg.slot[i].hash == h && reg.slot[i].len == len &&
		    reg.slot[i].nparams == nparams &&
		    memcmp(reg.slot[i].sql, sql, len) == 0) {
			id = reg.slot[i].id;
			goto out;
		}
	if (reg.n >= PREP_MAX || (reg.slot[i].sql = strdup(sql)) == NULL)
		goto out;
	reg.slot[i].len = len;
	reg.slot[i].hash = h;
	reg.slot[i].nparams = nparams;
	reg.slot[i].id = id = ++reg.n;
out:
	pthread_mutex_unlock(&reg.mu);
	return id;
}

/*
 * Is an idle connection still there?  When PostgreSQL restarts, the old
 * backend closes its socket (often after a FATAL message); looking before
 * sending means a statement is never sent on a dead connection.  One
 * poll(2), no round trip.
 */
static int
alive(PGconn *c)
{
	struct pollfd	 pfd;

	if (PQstatus(c) != CONNECTION_OK || (pfd.fd = PQsocket(c)) < 0)
		return 0;
	pfd.events = POLLIN | POLLRDHUP;
	pfd.revents = 0;
	if (poll(&pfd, 1, 0) <= 0)
		return 1;
	if (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL))
		return 0;
	/* Readable while idle: a notice, a notification or a FATAL. */
	return PQconsumeInput(c) && PQstatus(c) == CONNECTION_OK;
}

/* Close a connection; its prepared statements go with it. */
static void
conn_close(struct conn *c)
{

	PQfinish(c->pg);
	free(c);
}

static enum rl_err
connect_db(struct conn **out, struct rl_error *e)
{
	char		 opts[128];
	const char	*keys[4], *vals[4];
	struct conn	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return rl_error_set(e, RL_ENOMEM, NULL);
	/*
	 * relais.keeps_held: this session's money statements (credits.c)
	 * keep users.held themselves, so the trigger that does it for
	 * other sessions stays out of their way (sql/0019).
	 */
	(void)snprintf(opts, sizeof(opts), "-c statement_timeout=%d "
	    "-c relais.keeps_held=on", RL_DB_STATEMENT_TIMEOUT_MS);
	keys[0] = "dbname";
	vals[0] = rl_conf->database_url;
	keys[1] = "connect_timeout";
	vals[1] = STR(RL_DB_CONNECT_TIMEOUT_SEC);
	keys[2] = "options";
	vals[2] = opts;
	keys[3] = NULL;
	vals[3] = NULL;
	/* expand_dbname=1: dbname may be a full URL or key=value string. */
	if ((c->pg = PQconnectdbParams(keys, vals, 1)) == NULL) {
		free(c);
		return rl_error_set(e, RL_ENOMEM, NULL);
	}
	if (PQstatus(c->pg) != CONNECTION_OK) {
		pqerr(e, RL_EDBDOWN, "database unavailable", NULL,
		    PQerrorMessage(c->pg));
		conn_close(c);
		return RL_EDBDOWN;
	}
	*out = c;
	return RL_OK;
}

/*
 * Borrow a connection: this thread's pinned one, an idle one that is still
 * alive, or a new one while the pool has room.  Connecting happens outside
 * the lock, so a slow PostgreSQL never blocks threads that have work for
 * an idle connection.
 */
static enum rl_err
acquire(struct conn **out, struct rl_error *e)
{
	struct timespec	 until;
	struct conn	*c = NULL;
	enum rl_err	 err;
	int		 rc = 0;

	/* An own connection idle since its last use: still there? */
	if (own && pinned != NULL && PQtransactionStatus(pinned->pg) ==
	    PQTRANS_IDLE && !alive(pinned->pg)) {
		conn_close(pinned);
		pinned = NULL;
	}
	if (pinned != NULL) {
		*out = pinned;
		return RL_OK;
	}
	if (own) {
		if ((err = connect_db(&c, e)) != RL_OK)
			return err;
		*out = pinned = c;
		return RL_OK;
	}
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += RL_DB_ACQUIRE_TIMEOUT_MS / 1000;
	until.tv_nsec += (RL_DB_ACQUIRE_TIMEOUT_MS % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&pool.mu);
	if (pool.size == 0)
		pool.size = rl_conf->db_pool;
	while (pool.nidle == 0 && pool.total >= pool.size && rc == 0)
		rc = pthread_cond_timedwait(&pool.cv, &pool.mu, &until);
	while (pool.nidle > 0) {
		c = pool.idle[--pool.nidle];
		if (alive(c->pg))
			break;
		conn_close(c);	/* died while idle: replace it */
		c = NULL;
		pool.total--;
	}
	if (c == NULL && pool.total < pool.size) {
		pool.total++;
		pthread_mutex_unlock(&pool.mu);
		if ((err = connect_db(&c, e)) != RL_OK) {
			pthread_mutex_lock(&pool.mu);
			pool.total--;
			pthread_cond_signal(&pool.cv);
			pthread_mutex_unlock(&pool.mu);
			return err;
		}
		*out = c;
		return RL_OK;
	}
	pthread_mutex_unlock(&pool.mu);
	if (c == NULL)
		return rl_error_set(e, RL_EUNAVAIL, "all %d database "
		    "connections busy for %d ms", pool.size,
		    RL_DB_ACQUIRE_TIMEOUT_MS);
	*out = c;
	return RL_OK;
}

/* Give a borrowed connection back; a broken one is closed instead. */
static void
release(struct conn *c)
{
	int	 ok;

	if (c == NULL || c == pinned)
		return;
	ok = PQstatus(c->pg) == CONNECTION_OK &&
	    PQtransactionStatus(c->pg) == PQTRANS_IDLE;
	pthread_mutex_lock(&pool.mu);
	if (ok && pool.nidle < RL_DB_POOL_MAX)
		pool.idle[pool.nidle++] = c;
	else {
		conn_close(c);
		pool.total--;
	}
	pthread_cond_signal(&pool.cv);
	pthread_mutex_unlock(&pool.mu);
}

/*
 * The end of a transaction (or of a LISTEN).  A thread's own connection
 * stays with it while it is sound; a broken one is closed, and the next
 * statement opens another.
 */
/* Close a connection this thread holds, known or suspected dead. */
static void
drop(struct conn *c)
{

	conn_close(c);
	if (own)
		return;	/* never counted in the pool */
	pthread_mutex_lock(&pool.mu);
	pool.total--;
	pthread_cond_signal(&pool.cv);
	pthread_mutex_unlock(&pool.mu);
}

static void
unpin(void)
{
	struct conn	*c = pinned;

	if (own && c != NULL && PQstatus(c->pg) == CONNECTION_OK &&
	    PQtransactionStatus(c->pg) == PQTRANS_IDLE)
		return;
	pinned = NULL;
	if (own) {
		if (c != NULL)
			conn_close(c);
		return;
	}
	release(c);
}

/*
 * A background writer (credits.c's queue) must not queue behind the
 * requests for a pooled connection: the settlements it writes are what
 * frees their holds.  From now on this thread has one connection of its
 * own, opened on first use, outside the pool and its size.
 */
void
rl_db_own(void)
{

	own = 1;
}

/*
 * End of a request: a transaction the handler left open is rolled back and
 * its connection returns to the pool, so one forgotten commit cannot leak
 * a connection or leave locks behind.
 */
void
rl_db_request_end(void)
{

	if (pinned == NULL)
		return;
	if (PQtransactionStatus(pinned->pg) != PQTRANS_IDLE) {
		rl_log_warn("request ended inside a transaction: rolled back");
		PQclear(PQexec(pinned->pg, "ROLLBACK"));
	}
	unpin();
}

/* Close this thread's pinned connection and every idle one. */
void
rl_db_disconnect(void)
{

	listening = 0;
	if (pinned != NULL) {
		conn_close(pinned);
		pinned = NULL;
		pthread_mutex_lock(&pool.mu);
		if (!own)
			pool.total--;
		pthread_mutex_unlock(&pool.mu);
	}
	pthread_mutex_lock(&pool.mu);
	while (pool.nidle > 0) {
		conn_close(pool.idle[--pool.nidle]);
		pool.total--;
	}
	pthread_cond_broadcast(&pool.cv);
	pthread_mutex_unlock(&pool.mu);
}

/*
 * After a failed statement: a connection that died takes the whole
 * statement down as RL_EDBDOWN and is closed; anything else is the
 * statement's own error, mapped from its SQLSTATE.  An error without a
 * SQLSTATE is libpq's, not the server's: a socket that failed under a
 * write can leave the status CONNECTION_OK until the next read, and such
 * an error must read as the database away (retried), never as a refusal.
 */
static enum rl_err
failed(struct conn *c, PGresult *res, struct rl_error *e)
{
	const char	*state;
	enum rl_err	 err;

	state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	if (PQstatus(c->pg) != CONNECTION_OK || state == NULL) {
		err = pqerr(e, RL_EDBDOWN, "database unavailable", NULL,
		    PQerrorMessage(c->pg));
		PQclear(res);
		if (c == pinned) {
			listening = 0;
			pinned = NULL;
		}
		drop(c);
		return err;
	}
	/* Class 23 is integrity violations (unique, foreign key, check):
	 * a conflict with existing data, not a server fault. */
	if (state != NULL && strncmp(state, "23", 2) == 0)
		err = pqerr(e, RL_ECONFLICT, "conflict with existing data",
		    state, res != NULL ? PQresultErrorMessage(res) :
		    PQerrorMessage(c->pg));
	else
		err = pqerr(e, RL_EDB, "database error", state, res != NULL ?
		    PQresultErrorMessage(res) : PQerrorMessage(c->pg));
	PQclear(res);
	release(c);
	return err;
}

static int
ok_status(PGresult *res)
{
	ExecStatusType	 st;

	st = res != NULL ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
}

/*
 * Send a statement on c: prepared under its registry name, preparing it
 * first when c has not seen it; unnamed when the registry is full.  NULL
 * or a failed result is the caller's to report with failed().
 */
static PGresult *
run(struct conn *c, const char *sql, int nparams, const char *const *params)
{
	PGresult	*res;
	char		 name[16];
	long long	 t0 = mono_us();
	int		 id;

	nrt++;
	if ((id = prep_id(sql, nparams)) == 0) {
		res = PQexecParams(c->pg, sql, nparams, NULL, params, NULL,
		    NULL, 0);
		goto out;
	}
	(void)snprintf(name, sizeof(name), "rl_%d", id);
	if (!(c->prepared[(id - 1) / 64] & (1ULL << ((id - 1) % 64)))) {
		nrt++;
		res = PQprepare(c->pg, name, sql, nparams, NULL);
		if (!ok_status(res))
			goto out;
		PQclear(res);
		c->prepared[(id - 1) / 64] |= 1ULL << ((id - 1) % 64);
	}
	res = PQexecPrepared(c->pg, name, nparams, params, NULL, NULL, 0);
out:
	rt_us += mono_us() - t0;
	return res;
}

/*
 * Round trips this thread made to PostgreSQL since the last reset (a
 * statement's first use on a connection counts two: prepare, execute)
 * and the time they took: the runtime resets them at each request, and
 * Server-Timing and /metrics report them (metrics.c).
 */
void
rl_db_stats(int *n, long long *us)
{

	*n = nrt;
	*us = rt_us;
}

void
rl_db_stats_add(long long us)
{

	nrt++;
	rt_us += us;
}

int
rl_db_in_transaction(void)
{

	return pinned != NULL &&
	    PQtransactionStatus(pinned->pg) != PQTRANS_IDLE;
}

void
rl_db_stats_reset(void)
{

	nrt = 0;
	rt_us = 0;
}

enum batch_state { BATCH_WAIT, BATCH_LEAD, BATCH_DONE };

struct rl_db_batch_item {
	struct rl_db_batch_item	*next;
	void			*arg;
	enum batch_state	 state;
	pthread_cond_t		 cv;
};

/* b->mu held: the first waiter writes the next batch, or nobody waits. */
static void
batch_next(struct rl_db_batch *b)
{

	if (b->head == NULL) {
		b->busy = 0;
		return;
	}
	b->head->state = BATCH_LEAD;
	pthread_cond_signal(&b->head->cv);
}

void
rl_db_batch_do(struct rl_db_batch *b, void *arg)
{
	struct rl_db_batch_item	 me, *l, *it[RL_DB_BATCH_MAX];
	void			*a[RL_DB_BATCH_MAX];
	long long		 t0;
	int			 i, n = 0;

	pthread_mutex_lock(&b->mu);
	if (!b->busy) {
		/* Nothing in flight: at low load nothing waits. */
		b->busy = 1;
		pthread_mutex_unlock(&b->mu);
		b->one(arg);
		pthread_mutex_lock(&b->mu);
		batch_next(b);
		pthread_mutex_unlock(&b->mu);
		return;
	}
	t0 = mono_us();
	me.next = NULL;
	me.arg = arg;
	me.state = BATCH_WAIT;
	pthread_cond_init(&me.cv, NULL);
	if (b->tail != NULL)
		b->tail->next = &me;
	else
		b->head = &me;
	b->tail = &me;
	while (me.state == BATCH_WAIT)
		pthread_cond_wait(&me.cv, &b->mu);
	if (me.state == BATCH_LEAD) {
		/* This one is the head: it writes the queue as it stands. */
		for (l = b->head; l != NULL && n < b->max &&
		    n < RL_DB_BATCH_MAX; l = l->next) {
			it[n] = l;
			a[n++] = l->arg;
		}
		b->head = l;
		if (l == NULL)
			b->tail = NULL;
		pthread_mutex_unlock(&b->mu);
		b->many(a, n);
		pthread_mutex_lock(&b->mu);
		for (i = 1; i < n; i++) {
			it[i]->state = BATCH_DONE;
			pthread_cond_signal(&it[i]->cv);
		}
		batch_next(b);
	} else
		/* Another thread's round trip, waited for here. */
		rl_db_stats_add(mono_us() - t0);
	pthread_mutex_unlock(&b->mu);
	pthread_cond_destroy(&me.cv);
}

/*
 * Run one parameterised statement.  On success *out (when not NULL) holds
 * the result, to be freed with rl_dbres_free().
 */
enum rl_err
rl_db_exec(const char *sql, int nparams, const char *const *params,
    struct rl_dbres **out, struct rl_error *e)
{
	struct conn	*c;
	PGresult	*res;
	enum rl_err	 err;

	if (out != NULL)
		*out = NULL;
	if ((err = acquire(&c, e)) != RL_OK)
		return err;
	res = run(c, sql, nparams, params);
	if (!ok_status(res))
		return failed(c, res, e);
	release(c);
	if (out == NULL) {
		PQclear(res);
		return RL_OK;
	}
	if ((*out = malloc(sizeof(**out))) == NULL) {
		PQclear(res);
		return rl_error_set(e, RL_ENOMEM, NULL);
	}
	(*out)->res = res;
	atomic_init(&(*out)->refs, 1);
	return RL_OK;
}

/* One more reference to a result, freed by as many rl_dbres_free. */
struct rl_dbres *
rl_dbres_ref(struct rl_dbres *r)
{

	atomic_fetch_add(&r->refs, 1);
	return r;
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

	if (r == NULL || atomic_fetch_sub(&r->refs, 1) != 1)
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
	enum rl_err	 err;

	*out = NULL;
	if ((err = rl_db_exec(sql, nparams, params, &r, e)) != RL_OK)
		return err;
	return rl_dbres_json(r, out, e);
}

/*
 * The first column of the first row of r as JSON (null with no row or a
 * NULL), for the queries that build their answer in SQL; r is freed.
 * Shared by rl_db_json and the cache's reads (lib/cache.c).
 */
enum rl_err
rl_dbres_json(struct rl_dbres *r, json_t **out, struct rl_error *e)
{
	json_error_t	 je;
	enum rl_err	 err = RL_OK;

	*out = NULL;
	if (rl_dbres_rows(r) == 0 || rl_dbres_isnull(r, 0, 0))
		*out = json_null();
	else if ((*out = json_loads(rl_dbres_get(r, 0, 0), JSON_DECODE_ANY,
	    &je)) == NULL)
		err = rl_error_set(e, RL_EDB, "database returned bad JSON: %s",
		    je.text);
	rl_dbres_free(r);
	return err;
}

/* Start a transaction; this thread keeps the connection until it ends. */
enum rl_err
rl_db_begin(struct rl_error *e)
{
	struct conn	*c;
	enum rl_err	 err;

	if (pinned != NULL && PQtransactionStatus(pinned->pg) != PQTRANS_IDLE)
		return rl_error_set(e, RL_EINTERNAL, "transaction open");
	if ((err = acquire(&c, e)) != RL_OK)
		return err;
	pinned = c;
	if ((err = rl_db_exec("BEGIN", 0, NULL, NULL, e)) != RL_OK)
		rl_db_rollback();
	return err;
}

enum rl_err
rl_db_commit(struct rl_error *e)
{
	enum rl_err	 err;

	if (pinned == NULL)
		return rl_error_set(e, RL_EINTERNAL, "no transaction open");
	err = rl_db_exec("COMMIT", 0, NULL, NULL, e);
	if (pinned != NULL && !listening)
		unpin();
	return err;
}

/* Best effort: a rollback on a dead connection has nothing to undo. */
void
rl_db_rollback(void)
{

	if (pinned == NULL)
		return;
	if (PQstatus(pinned->pg) == CONNECTION_OK)
		PQclear(PQexec(pinned->pg, "ROLLBACK"));
	if (!listening)
		unpin();
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
	if (err == RL_EDB && strcmp(le.sqlstate, "42P01") == 0)
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
 * LISTEN on a channel.  The connection stays with this thread (a worker's
 * dedicated connection) until rl_db_disconnect().  LISTEN takes no
 * parameters, so the identifier is quoted by libpq.
 */
enum rl_err
rl_db_listen(const char *channel, struct rl_error *e)
{
	char		 sql[256];
	char		*q;
	struct conn	*c;
	enum rl_err	 err;

	if ((err = acquire(&c, e)) != RL_OK)
		return err;
	pinned = c;
	listening = 1;
	if ((q = PQescapeIdentifier(c->pg, channel, strlen(channel))) == NULL)
		return pqerr(e, RL_EDB, "database error", NULL,
		    PQerrorMessage(c->pg));
	(void)snprintf(sql, sizeof(sql), "LISTEN %s", q);
	PQfreemem(q);
	return rl_db_exec(sql, 0, NULL, NULL, e);
}

/*
 * Wait up to ms milliseconds for a notification on this thread's LISTEN
 * connection.  RL_OK with *channel NULL means the time ran out.  Returned
 * strings are malloc'd.
 */
enum rl_err
rl_db_wait_notify(int ms, char **channel, char **payload, struct rl_error *e)
{
	PGnotify	*n;
	struct pollfd	 pfd;

	*channel = *payload = NULL;
	if (pinned == NULL || !listening ||
	    PQstatus(pinned->pg) != CONNECTION_OK)
		return rl_error_set(e, RL_EDBDOWN, "not listening");
	if ((n = PQnotifies(pinned->pg)) == NULL) {
		pfd.fd = PQsocket(pinned->pg);
		pfd.events = POLLIN;
		if (pfd.fd < 0)
			return rl_error_set(e, RL_EDBDOWN, "no socket");
		if (poll(&pfd, 1, ms) < 0)
			return rl_error_set(e, RL_EIO, "poll failed");
		if (!PQconsumeInput(pinned->pg)) {
			pqerr(e, RL_EDBDOWN, "database unavailable", NULL,
			    PQerrorMessage(pinned->pg));
			listening = 0;
			unpin();
			return RL_EDBDOWN;
		}
		if ((n = PQnotifies(pinned->pg)) == NULL)
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
	struct conn	*c;
	PGresult	*res;
	enum rl_err	 err;

	if ((err = acquire(&c, e)) != RL_OK)
		return err;
	res = PQexec(c->pg, sql);
	if (res == NULL || (PQresultStatus(res) != PGRES_COMMAND_OK &&
	    PQresultStatus(res) != PGRES_TUPLES_OK))
		return failed(c, res, e);
	PQclear(res);
	release(c);
	return RL_OK;
}

void
rl_db_array_begin(struct rl_buf *b)
{

	(void)rl_buf_addstr(b, "{");
}

/*
 * Every element is double-quoted with backslash before " and \, so no
 * text can end the element, the array or be read as NULL.
 */
void
rl_db_array_add(struct rl_buf *b, const char *v)
{
	const char	*p;
	size_t		 n = rl_buf_len(b);

	if (n > 0 && rl_buf_str(b)[n - 1] != '{')
		(void)rl_buf_addstr(b, ",");
	if (v == NULL) {
		(void)rl_buf_addstr(b, "NULL");
		return;
	}
	(void)rl_buf_addstr(b, "\"");
	for (p = v; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			(void)rl_buf_addstr(b, "\\");
		(void)rl_buf_add(b, p, 1);
	}
	(void)rl_buf_addstr(b, "\"");
}

void
rl_db_array_end(struct rl_buf *b)
{

	(void)rl_buf_addstr(b, "}");
}

void
rl_db_arrays_init(struct rl_db_arrays *x, int ncol, size_t max)
{
	int	 k;

	x->ncol = ncol;
	for (k = 0; k < ncol; k++) {
		rl_buf_init(&x->a[k], max);
		rl_db_array_begin(&x->a[k]);
	}
}

void
rl_db_arrays_row(struct rl_db_arrays *x, const char *const *v)
{
	int	 k;

	for (k = 0; k < x->ncol; k++)
		rl_db_array_add(&x->a[k], v[k]);
}

enum rl_err
rl_db_arrays_exec(struct rl_db_arrays *x, const char *sql,
    struct rl_dbres **r, struct rl_error *e)
{
	const char	*p[RL_DB_ARRAYS_MAX];
	enum rl_err	 err = RL_OK;
	int		 k;

	if (r != NULL)
		*r = NULL;
	for (k = 0; k < x->ncol; k++) {
		rl_db_array_end(&x->a[k]);
		if (err == RL_OK && (err = rl_buf_err(&x->a[k])) != RL_OK)
			(void)rl_error_set(e, err, "a group's parameters "
			    "are too long");
		p[k] = rl_buf_str(&x->a[k]);
	}
	if (err == RL_OK)
		err = rl_db_exec(sql, x->ncol, p, r, e);
	for (k = 0; k < x->ncol; k++)
		rl_buf_free(&x->a[k]);
	return err;
}
