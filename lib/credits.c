/*
 * credits.c: reserve -> settle | release, and the ledger.  See credits.h
 * and docs/internals/credits.md, docs/internals/money.md for what each
 * crash does to a balance.
 *
 * Three rules keep the money exact under any number of concurrent callers:
 *
 *  - users.held is the sum of the user's open holds, kept by the
 *    statements here (relais' sessions say so, db.c; a trigger keeps it
 *    for any other session, sql/0010 and 0019).  A reservation is one
 *    statement that raises held on the user row where credits - held
 *    covers the amount and inserts the hold: concurrent reservations
 *    queue on the row, and READ COMMITTED re-checks the condition on the
 *    row as the one before left it, so no two spend the same money.
 *  - Locks are taken in one order, the hold before its user: settle and
 *    release lock the hold, then the user row; reserve and adjust lock
 *    only the user row (a new hold is nobody else's yet).  No cycle, so
 *    no deadlock, also between the settlements of one group commit,
 *    which run in user order.
 *  - Amounts are integers in C and numeric in SQL; they cross as exact
 *    decimal text (rl_micro_fmt / rl_micro_parse), never as floating point.
 *
 * A write that fails because the database is away (a restart, a full
 * pool) is not lost: rl_credits_settle_sure and rl_credits_release_sure
 * queue it, and one background thread per process retries the queue, head
 * first, with backoff, until each write lands or is refused for good.
 * Retrying is safe because both writes are idempotent by hold id.  The
 * same thread writes the settlements a request deferred until after its
 * answer (rl_credits_settle_later), several in one statement, and, when
 * RELAIS_CREDITS_SPARES asks for them, takes standing holds ahead for the
 * users who are calling ("spares" below).
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bounds.h"
#include "buf.h"
#include "conf.h"
#include "credits.h"
#include "crypto.h"
#include "db.h"
#include "extern.h"
#include "log.h"
#include "models.h"
#include "sparefile.h"

#define MSG_NO_CREDITS	"Crédits insuffisants pour cette opération."
#define MSG_NO_USER	"Utilisateur introuvable"

/* Model recorded when neither the charge nor the hold names one. */
#define UNKNOWN_MODEL	"unknown"

/* The queue's group and backlog bounds (bounds.h says why). */
#define GROUP_MAX	RL_CREDITS_GROUP_MAX
#define LATER_MAX	RL_CREDITS_LATER_MAX

/* What rl_credits_stats reports. */
static atomic_llong	 n_rsv_alone, n_rsv_grouped, n_rsv_spare;
static atomic_llong	 n_settle_grouped, n_settle_queued, n_settle_inline;

/* Lock the user row; its balance in micro-USD. */
static enum rl_err
lock_user(const char *uid, long long *credits, struct rl_error *e)
{
	struct rl_dbres	*r = NULL;
	const char	*p[1];
	enum rl_err	 err;

	p[0] = uid;
	if ((err = rl_db_exec("SELECT credits::text FROM users WHERE id = "
	    "$1::bigint FOR UPDATE", 1, p, &r, e)) != RL_OK)
		goto out;
	if (rl_dbres_rows(r) == 0)
		err = rl_error_set(e, RL_ENOTFOUND, MSG_NO_USER);
	else if (rl_micro_parse(rl_dbres_get(r, 0, 0), credits) == -1)
		err = rl_error_set(e, RL_EDB, "users.credits: bad numeric");
out:
	rl_dbres_free(r);
	return err;
}

/*
 * The reservation: raise held on the user row where credits - held >= $2,
 * insert the hold from the row it returned; the second column tells a
 * missing user from one without the money, the third is the caller's
 * read (NULL without one).  This session keeps held itself (db.c), so the
 * trigger of sql/0010 does not run: one row version, no PL/pgSQL call.
 */
#define RESERVE_SQL(read)						\
	"WITH u AS (UPDATE users SET held = held + $2::numeric "	\
	"WHERE id = $1::bigint AND credits - held >= $2::numeric "	\
	"RETURNING id), h AS (INSERT INTO credit_reservations "		\
	"(user_id, amount, model, request_id, task_id) SELECT id, "	\
	"$2::numeric, $3, $4, $5::uuid FROM u RETURNING id) "		\
	"SELECT (SELECT id FROM h), EXISTS (SELECT 1 FROM users WHERE "	\
	"id = $1::bigint), " read

static enum rl_err
reserve(long long user_id, long long micro, const char *model,
    const char *request_id, const char *task_id, const char *read,
    long long *hold_id, char **value, struct rl_error *e)
{
	struct rl_dbres	*r = NULL;
	char		 uid[32], amount[32];
	char		*sql = NULL;
	const char	*p[5];
	size_t		 n;
	enum rl_err	 err;

	*hold_id = 0;
	if (value != NULL)
		*value = NULL;
	if (micro <= 0)
		return rl_error_set(e, RL_EINVAL, "a hold must be positive");
	(void)snprintf(uid, sizeof(uid), "%lld", user_id);
	rl_micro_fmt(micro, amount, sizeof(amount));
	p[0] = uid;
	p[1] = amount;
	p[2] = model;
	p[3] = request_id;
	p[4] = task_id;
	/*
	 * The caller's read is a constant expression: the same text on
	 * every call, so it is prepared once per connection like the rest.
	 */
	if (read != NULL) {
		n = sizeof(RESERVE_SQL("(") ")") + strlen(read);
		if ((sql = malloc(n)) == NULL)
			return rl_error_set(e, RL_ENOMEM, "out of memory");
		(void)snprintf(sql, n, "%s(%s)", RESERVE_SQL(""), read);
	}
	/*
	 * One statement, its own transaction, one round trip before the
	 * upstream call.
	 */
	if ((err = rl_db_exec(sql != NULL ? sql : RESERVE_SQL("NULL"), 5, p,
	    &r, e)) != RL_OK)
		goto out;
	if (!rl_dbres_isnull(r, 0, 0)) {
		*hold_id = strtoll(rl_dbres_get(r, 0, 0), NULL, 10);
		atomic_fetch_add(&n_rsv_alone, 1);
	} else if (rl_dbres_get(r, 0, 1)[0] != 't')
		err = rl_error_set(e, RL_ENOTFOUND, MSG_NO_USER);
	else
		err = rl_error_set(e, RL_ECREDITS, MSG_NO_CREDITS);
	if (err == RL_OK && value != NULL && !rl_dbres_isnull(r, 0, 2) &&
	    (*value = strdup(rl_dbres_get(r, 0, 2))) == NULL)
		err = rl_error_set(e, RL_ENOMEM, "out of memory");
	/* The hold is taken: what cannot be returned gives it back. */
	if (err != RL_OK && *hold_id != 0) {
		rl_credits_release_sure(*hold_id);
		*hold_id = 0;
	}
out:
	free(sql);
	rl_dbres_free(r);
	return err;
}

/*
 * Reservations in groups.  Every request thread's reservation was a
 * statement and a commit of its own: under load PostgreSQL spent most of
 * a billed call's time preparing, checking and committing reservations
 * one at a time.  Now, while one reservation statement of this process
 * is in flight, the next ones wait in a queue, and when it returns the
 * first of them writes them all in one statement (the group commit of
 * databases' own logs, rl_db_batch_do).  A reservation that finds
 * nothing in flight is written at once, alone, as before: at low load
 * nothing waits.
 *
 * Per user the group grants in queue order while the running sum of its
 * amounts fits credits - held on the locked row; a reservation refused
 * that way is tried again alone, so a refusal means what it meant
 * before: this reservation, on its own, does not fit.  Users are locked
 * in id order, the order of the settlement groups, each looked up by its
 * key as GROUP_SQL looks up its holds (whatever the statistics say of
 * the table's size), FOR NO KEY UPDATE as there.  A thread inside a
 * transaction reserves alone in it (a batch's holds commit with the
 * batch).
 */
#define RESERVE_GROUP_SQL						\
	"WITH g AS (SELECT * FROM unnest($1::bigint[], $2::numeric[], "	\
	"$3::text[], $4::text[], $5::uuid[], $6::numeric[]) WITH "	\
	"ORDINALITY AS g (uid, amount, model, rid, task, margin, n)), "	\
	"o AS MATERIALIZED (SELECT x.id, x.credits - x.held AS avail "	\
	"FROM (SELECT DISTINCT uid FROM g ORDER BY uid) q CROSS JOIN "	\
	"LATERAL (SELECT id, credits, held FROM users WHERE id = q.uid " \
	"FOR NO KEY UPDATE) x), "					\
	"a AS MATERIALIZED (SELECT g.*, sum(g.amount) OVER (PARTITION BY " \
	"g.uid ORDER BY g.n) + g.margin <= o.avail AS fits FROM g "	\
	"JOIN o ON o.id = g.uid), "					\
	"k AS MATERIALIZED (SELECT a.*, nextval(pg_get_serial_sequence(" \
	"'credit_reservations', 'id')) AS hold FROM a WHERE fits), "	\
	"u AS (UPDATE users SET held = users.held + t.amount FROM "	\
	"(SELECT uid, sum(amount) AS amount FROM k GROUP BY uid) t "	\
	"WHERE users.id = t.uid RETURNING users.id), "			\
	"h AS (INSERT INTO credit_reservations (id, user_id, amount, "	\
	"model, request_id, task_id) OVERRIDING SYSTEM VALUE SELECT "	\
	"hold, uid, amount, model, rid, task FROM k WHERE uid IN "	\
	"(SELECT id FROM u) RETURNING id) "				\
	"SELECT h.id, o.id IS NOT NULL FROM g LEFT JOIN k ON "		\
	"k.n = g.n LEFT JOIN h ON h.id = k.hold LEFT JOIN o ON "	\
	"o.id = g.uid "							\
	"ORDER BY g.n"

/*
 * One row of RESERVE_GROUP_SQL's arrays, its columns in the statement's
 * order ($1..$6): margin is what the user must keep free beyond the
 * hold (a spare's; 0 for a request's own).
 */
enum { RESERVE_GROUP_COLS = 6 };

static void
reserve_row(struct rl_db_arrays *x, long long user_id, long long micro,
    const char *model, const char *request_id, const char *task_id,
    long long margin_micro)
{
	const char	*v[RESERVE_GROUP_COLS];
	char		 uid[32], amount[32], margin[32];

	(void)snprintf(uid, sizeof(uid), "%lld", user_id);
	rl_micro_fmt(micro, amount, sizeof(amount));
	rl_micro_fmt(margin_micro, margin, sizeof(margin));
	v[0] = uid;
	v[1] = amount;
	v[2] = model;
	v[3] = request_id;
	v[4] = task_id;
	v[5] = margin;
	rl_db_arrays_row(x, v);
}

/* A reservation of a group, and its answer. */
struct rsv {
	long long	 user_id;
	long long	 micro;
	const char	*model;
	const char	*request_id;
	const char	*task_id;
	long long	 hold_id;
	enum rl_err	 err;
	struct rl_error	 e;
	int		 grouped;	/* the size of its group */
};

static void	 rsv_one(void *);
static void	 rsv_group(void **, int);

static struct rl_db_batch rsv_batch = RL_DB_BATCH_INIT(
    RL_CREDITS_RESERVE_GROUP_MAX, rsv_one, rsv_group);

void
rl_credits_stats(struct rl_credits_stats *st)
{

	st->reserved_alone = atomic_load(&n_rsv_alone);
	st->reserved_grouped = atomic_load(&n_rsv_grouped);
	st->reserved_spare = atomic_load(&n_rsv_spare);
	st->settled_grouped = atomic_load(&n_settle_grouped);
	st->settled_queued = atomic_load(&n_settle_queued);
	st->settled_inline = atomic_load(&n_settle_inline);
}

/* Write the n reservations of b in one statement; each gets its answer. */
static void
rsv_group(void **a, int n)
{
	struct rsv		*b[RL_DB_BATCH_MAX];
	struct rl_db_arrays	 x;
	struct rl_dbres		*r = NULL;
	struct rl_error		 e;
	enum rl_err		 err;
	int			 i;

	rl_error_clear(&e);
	rl_db_arrays_init(&x, RESERVE_GROUP_COLS, RL_CREDITS_GROUP_SQL_MAX);
	for (i = 0; i < n; i++) {
		b[i] = a[i];
		reserve_row(&x, b[i]->user_id, b[i]->micro, b[i]->model,
		    b[i]->request_id, b[i]->task_id, 0);
	}
	if ((err = rl_db_arrays_exec(&x, RESERVE_GROUP_SQL, &r, &e)) == RL_OK &&
	    rl_dbres_rows(r) != n)
		err = rl_error_set(&e, RL_EINTERNAL, "a group of %d "
		    "reservations answered %d rows", n, rl_dbres_rows(r));
	for (i = 0; i < n; i++) {
		b[i]->grouped = n;
		rl_error_clear(&b[i]->e);
		if (err != RL_OK) {
			b[i]->err = err;
			b[i]->e = e;
		} else if (!rl_dbres_isnull(r, i, 0)) {
			b[i]->hold_id = strtoll(rl_dbres_get(r, i, 0), NULL,
			    10);
			b[i]->err = RL_OK;
		} else if (rl_dbres_get(r, i, 1)[0] != 't')
			b[i]->err = rl_error_set(&b[i]->e, RL_ENOTFOUND,
			    MSG_NO_USER);
		else
			b[i]->err = rl_error_set(&b[i]->e, RL_ECREDITS,
			    MSG_NO_CREDITS);
	}
	if (err == RL_OK)
		atomic_fetch_add(n > 1 ? &n_rsv_grouped : &n_rsv_alone, n);
	rl_dbres_free(r);
}

static long long	 spare_take(long long, long long, const char *);

/* A reservation written alone: nothing else was in flight. */
static void
rsv_one(void *arg)
{
	struct rsv	*me = arg;

	me->grouped = 1;
	me->err = reserve(me->user_id, me->micro, me->model,
	    me->request_id, me->task_id, NULL, &me->hold_id, NULL, &me->e);
}

enum rl_err
rl_credits_reserve(long long user_id, long long micro, const char *model,
    const char *request_id, const char *task_id, long long *hold_id,
    struct rl_error *e)
{
	struct rsv	 me;

	if (micro <= 0 || rl_db_in_transaction())
		return reserve(user_id, micro, model, request_id, task_id,
		    NULL, hold_id, NULL, e);
	/* A task's holds name it (the sweep, a rerun): never a spare. */
	if (task_id == NULL &&
	    (*hold_id = spare_take(user_id, micro, model)) != 0)
		return RL_OK;
	memset(&me, 0, sizeof(me));
	me.user_id = user_id;
	me.micro = micro;
	me.model = model;
	me.request_id = request_id;
	me.task_id = task_id;
	rl_error_clear(&me.e);
	rl_db_batch_do(&rsv_batch, &me);
	/* Refused beside others: on its own it might fit. */
	if (me.err == RL_ECREDITS && me.grouped > 1)
		return reserve(user_id, micro, model, request_id, task_id,
		    NULL, hold_id, NULL, e);
	*hold_id = me.err == RL_OK ? me.hold_id : 0;
	if (me.err != RL_OK)
		*e = me.e;
	return me.err;
}

/*
 * With a spare covering it, the read goes alone: a SELECT that writes and
 * commits nothing, where the reservation's statement raised held,
 * inserted the hold and committed (chat's turn: 0.6 ms of its first
 * token's time against 0.15).
 */
enum rl_err
rl_credits_reserve_read(long long user_id, long long micro,
    const char *model, const char *request_id, const char *read,
    long long *hold_id, char **value, struct rl_error *e)
{
	struct rl_dbres	*r = NULL;
	const char	*p[1];
	char		 uid[32];
	enum rl_err	 err;

	if (micro <= 0 || rl_db_in_transaction() ||
	    (*hold_id = spare_take(user_id, micro, model)) == 0)
		return reserve(user_id, micro, model, request_id, NULL, read,
		    hold_id, value, e);
	*value = NULL;
	(void)snprintf(uid, sizeof(uid), "%lld", user_id);
	p[0] = uid;
	if ((err = rl_db_exec(read, 1, p, &r, e)) == RL_OK &&
	    rl_dbres_rows(r) == 1 && !rl_dbres_isnull(r, 0, 0) &&
	    (*value = strdup(rl_dbres_get(r, 0, 0))) == NULL)
		err = rl_error_set(e, RL_ENOMEM, "out of memory");
	/* The spare is drawn: what cannot be returned gives it back. */
	if (err != RL_OK) {
		rl_credits_release_sure(*hold_id);
		*hold_id = 0;
	}
	rl_dbres_free(r);
	return err;
}

static long long
nonneg(long long v)
{

	return v < 0 ? 0 : v;
}

static int
valid_status(const char *s)
{

	return s == NULL || strcmp(s, "ok") == 0 ||
	    strcmp(s, "failed") == 0 || strcmp(s, "partial") == 0;
}

/* Which holds a settlement takes, and at what cost. */
enum settle_how {
	SETTLE_CALL,	/* reserved or released, at the charge's cost */
	SETTLE_DEAD	/* reserved only, at the hold's amount: the sweep */
};

/*
 * The settlement statement: debit min(cost, balance), close the hold, one
 * ledger row, in one statement (so in autocommit it is one round trip and
 * its own transaction).  c locks the hold, o then the user row (only when
 * the hold is the user's and in a state this settlement takes); u, h and
 * l each feed on the one before, so either all three write or none does,
 * and the unique reservation_id refuses a second ledger row in any case.
 * Under READ COMMITTED, c and o return the rows as they are once locked,
 * so the cap and the closing of the hold see every settlement committed
 * before.  A released hold with no ledger row is settled all the same:
 * the call's outcome is known and someone gave the hold back without it
 * (the rerun of a task whose lease lapsed while this settlement waited
 * for the database).  u takes a reserved hold's amount out of held in
 * the same row version as the debit (this session keeps held itself,
 * db.c; before sql/0019 a trigger did it with a second update of the
 * user row).  A task purged since the call
 * started is recorded as no task.
 */
#define SETTLE_SQL							\
	"WITH c AS MATERIALIZED (SELECT id, user_id, state, amount, model, "\
	"task_id FROM credit_reservations WHERE id = $2::bigint FOR UPDATE), "\
	"o AS MATERIALIZED (SELECT u.id, least(coalesce($11::numeric, "	\
	"c.amount), u.credits) AS debit FROM users u JOIN c ON "	\
	"u.id = c.user_id WHERE u.id = $1::bigint AND "			\
	"c.state = ANY ($17::text[]) FOR NO KEY UPDATE OF u), "	\
	"u AS (UPDATE users SET credits = users.credits - o.debit, "	\
	"held = users.held - CASE c.state WHEN 'reserved' THEN c.amount " \
	"ELSE 0 END FROM o, c WHERE users.id = o.id "			\
	"RETURNING users.credits), "					\
	"h AS (UPDATE credit_reservations SET state = 'settled', "	\
	"settled_at = now() FROM u WHERE credit_reservations.id = "	\
	"$2::bigint RETURNING credit_reservations.id), "		\
	"l AS (INSERT INTO usage_ledger (user_id, reservation_id, kind, "\
	"model, provider, feature, status, input_tokens, "		\
	"cached_input_tokens, output_tokens, reasoning_tokens, cost, "	\
	"delta, balance_after, latency_ms, request_id, "		\
	"upstream_request_id, upstream_response_id, task_id) "		\
	"SELECT $1::bigint, h.id, 'openai_call', coalesce($3, c.model, "\
	"'" UNKNOWN_MODEL "'), $4, $5, $6, $7::bigint, $8::bigint, "	\
	"$9::bigint, $10::bigint, coalesce($11::numeric, c.amount), "	\
	"-o.debit, u.credits, $12::integer, $13, $14, $15, (SELECT t.id "\
	"FROM tasks t WHERE t.id = coalesce($16::uuid, c.task_id)) "	\
	"FROM u, h, o, c RETURNING delta) "				\
	"SELECT (SELECT (-delta)::text FROM l), (SELECT state FROM c), "\
	"(SELECT user_id FROM c)"

/* A charge's numbers as the ledger takes them, in text. */
struct charge_text {
	char	tin[32], tcached[32], tout[32], treason[32];
	char	latency[32], cost[32];
};

static void
charge_text(const struct rl_charge *ch, struct charge_text *t)
{
	long long	 in, cached, out, reason;

	in = nonneg(ch->usage.input_tokens);
	cached = nonneg(ch->usage.cached_tokens);
	out = nonneg(ch->usage.output_tokens);
	reason = nonneg(ch->usage.reasoning_tokens);
	/* The ledger's checks: cached within input, reasoning within out. */
	if (cached > in)
		cached = in;
	if (reason > out)
		reason = out;
	(void)snprintf(t->tin, sizeof(t->tin), "%lld", in);
	(void)snprintf(t->tcached, sizeof(t->tcached), "%lld", cached);
	(void)snprintf(t->tout, sizeof(t->tout), "%lld", out);
	(void)snprintf(t->treason, sizeof(t->treason), "%lld", reason);
	(void)snprintf(t->latency, sizeof(t->latency), "%lld",
	    ch->latency_ms < 0 ? 0 : ch->latency_ms > INT_MAX ? INT_MAX :
	    ch->latency_ms);
	rl_micro_fmt(ch->cost_micro, t->cost, sizeof(t->cost));
}

/*
 * Settle one hold: the statement, then what its answer means.  *closed is
 * 1 when the hold was closed before (settled; released too for
 * SETTLE_DEAD), which callers tell apart from other conflicts.  Runs in
 * the caller's transaction when one is open.
 */
static enum rl_err
settle(long long hold_id, long long user_id, const struct rl_charge *ch,
    enum settle_how how, long long *charged_micro, int *closed,
    struct rl_error *e)
{
	struct rl_dbres		*r = NULL;
	struct charge_text	 t;
	char			 uid[32], hid[32];
	const char		*p[17];
	enum rl_err		 err;

	*charged_micro = 0;
	*closed = 0;
	if ((how == SETTLE_CALL && ch->cost_micro < 0) ||
	    !valid_status(ch->status))
		return rl_error_set(e, RL_EINVAL, "settlement of hold %lld: "
		    "bad cost or status", hold_id);
	(void)snprintf(uid, sizeof(uid), "%lld", user_id);
	(void)snprintf(hid, sizeof(hid), "%lld", hold_id);
	charge_text(ch, &t);

	p[0] = uid;
	p[1] = hid;
	p[2] = ch->model;
	p[3] = ch->provider;
	p[4] = ch->feature;
	p[5] = how == SETTLE_DEAD ? "lost" : ch->status;
	p[6] = t.tin;
	p[7] = t.tcached;
	p[8] = t.tout;
	p[9] = t.treason;
	p[10] = how == SETTLE_DEAD ? NULL : t.cost;
	p[11] = t.latency;
	p[12] = ch->request_id;
	p[13] = ch->upstream_request_id;
	p[14] = ch->upstream_response_id;
	p[15] = ch->task_id;
	p[16] = how == SETTLE_DEAD ? "{reserved}" : "{reserved,released}";
	if ((err = rl_db_exec(SETTLE_SQL, 17, p, &r, e)) != RL_OK)
		goto out;
	if (!rl_dbres_isnull(r, 0, 0)) {
		if (rl_micro_parse(rl_dbres_get(r, 0, 0), charged_micro) == -1)
			err = rl_error_set(e, RL_EDB, "usage_ledger.delta: "
			    "bad numeric");
		goto out;
	}
	if (rl_dbres_isnull(r, 0, 2) || strcmp(rl_dbres_get(r, 0, 2),
	    uid) != 0) {
		err = rl_error_set(e, RL_ENOTFOUND, "no hold %lld for user "
		    "%lld", hold_id, user_id);
		goto out;
	}
	if (strcmp(rl_dbres_get(r, 0, 1), "settled") == 0 ||
	    how == SETTLE_DEAD) {
		/* A retried settlement cannot charge twice. */
		*closed = 1;
		err = rl_error_set(e, RL_ECONFLICT, "hold %lld is already %s",
		    hold_id, rl_dbres_get(r, 0, 1));
		goto out;
	}
	/* The hold was the user's and open: the statement must have written. */
	err = rl_error_set(e, RL_EINTERNAL, "hold %lld: ledger row not written",
	    hold_id);
out:
	rl_dbres_free(r);
	return err;
}

enum rl_err
rl_credits_settle(long long hold_id, long long user_id,
    const struct rl_charge *ch, long long *charged_micro,
    struct rl_error *e)
{
	int	 closed;

	return settle(hold_id, user_id, ch, SETTLE_CALL, charged_micro,
	    &closed, e);
}

enum rl_err
rl_credits_release(long long hold_id, struct rl_error *e)
{
	struct rl_dbres	*r = NULL;
	char		 hid[32];
	const char	*p[1];
	enum rl_err	 err;

	(void)snprintf(hid, sizeof(hid), "%lld", hold_id);
	p[0] = hid;
	/*
	 * One statement: the hold, then its amount leaves the user's held
	 * (this session keeps held itself, db.c); the balance does not
	 * change.  The hold's row is locked first, as everywhere.
	 */
	if ((err = rl_db_exec("WITH h AS (UPDATE credit_reservations SET "
	    "state = 'released', settled_at = now() WHERE id = $1::bigint "
	    "AND state = 'reserved' RETURNING user_id, amount) "
	    "UPDATE users SET held = users.held - h.amount FROM h "
	    "WHERE users.id = h.user_id", 1, p, &r, e)) != RL_OK)
		goto out;
	if (rl_dbres_affected(r) == 1)
		goto out;
	rl_dbres_free(r);
	r = NULL;
	/* Nothing released: say why. */
	if ((err = rl_db_exec("SELECT state FROM credit_reservations WHERE "
	    "id = $1::bigint", 1, p, &r, e)) != RL_OK)
		goto out;
	if (rl_dbres_rows(r) == 0)
		err = rl_error_set(e, RL_ENOTFOUND, "no hold %lld", hold_id);
	else
		err = rl_error_set(e, RL_ECONFLICT, "hold %lld is already %s",
		    hold_id, rl_dbres_get(r, 0, 0));
out:
	rl_dbres_free(r);
	return err;
}

enum rl_err
rl_credits_sweep(int max_age_sec, long long *closed, struct rl_error *e)
{
	struct rl_dbres		*r = NULL;
	struct rl_charge	 ch;
	struct rl_error		 he;
	char			 age[32], grace[32];
	const char		*p[2];
	long long		 hold, user, charged;
	enum rl_err		 err, herr;
	int			 i, was;

	*closed = 0;
	if (max_age_sec < 0)
		return rl_error_set(e, RL_EINVAL, "sweep: negative age");
	(void)snprintf(age, sizeof(age), "%d", max_age_sec);
	p[0] = age;
	(void)snprintf(grace, sizeof(grace), "%d", RL_CREDITS_TASK_GRACE_SEC);
	p[1] = grace;
	/*
	 * Holds nobody will close: older than any call with its retries
	 * and owned by no task still queued or running (an async job holds
	 * its credits from the moment it is queued), or of a task that
	 * ended a grace ago (a queued settlement of a live process lands
	 * well within it).  The third column: the hold's task never ran, so
	 * no call was made for it.
	 */
	if ((err = rl_db_exec("SELECT cr.id, cr.user_id, EXISTS (SELECT 1 "
	    "FROM tasks t WHERE t.id = cr.task_id AND t.attempts = 0) "
	    "FROM credit_reservations cr WHERE cr.state = 'reserved' AND "
	    "((cr.created_at < now() - make_interval(secs => $1::integer) AND "
	    "NOT EXISTS (SELECT 1 FROM tasks t WHERE t.id = cr.task_id AND "
	    "t.state IN ('PENDING', 'STARTED', 'PROGRESS'))) OR "
	    "EXISTS (SELECT 1 FROM tasks t WHERE t.id = cr.task_id AND "
	    "t.state IN ('SUCCESS', 'FAILURE', 'REVOKED') AND "
	    "t.finished_at < now() - make_interval(secs => $2::integer))) "
	    "ORDER BY cr.user_id, cr.id", 2, p, &r, e)) != RL_OK)
		return err;
	/*
	 * Such a hold belongs to a process that died after reserving: maybe
	 * before its call, maybe after the answer with its settlement still
	 * queued in memory.  Which, nobody knows, and the upstream bills
	 * what it produced, so the hold is settled at its reserved amount
	 * (capped at the balance, status 'lost') rather than given back for
	 * free.  Only a task's hold whose task never ran goes back.  One
	 * hold at a time: each settlement is the ordinary one, so a late
	 * settlement racing this one finds the hold closed, never twice.
	 */
	memset(&ch, 0, sizeof(ch));
	ch.feature = "sweep";
	for (i = 0; i < rl_dbres_rows(r); i++) {
		hold = strtoll(rl_dbres_get(r, i, 0), NULL, 10);
		user = strtoll(rl_dbres_get(r, i, 1), NULL, 10);
		rl_error_clear(&he);
		if (rl_dbres_get(r, i, 2)[0] == 't')
			herr = rl_credits_release(hold, &he);
		else
			herr = settle(hold, user, &ch, SETTLE_DEAD, &charged,
			    &was, &he);
		if (herr == RL_OK) {
			(*closed)++;
			rl_log_warn("sweep: hold %lld of user %lld %s", hold,
			    user, rl_dbres_get(r, i, 2)[0] == 't' ?
			    "given back (its task never ran)" :
			    "settled at its reserved amount (its process "
			    "died)");
		} else if (herr != RL_ECONFLICT) {
			/* The next sweep tries again. */
			rl_log_error("sweep: hold %lld: %s", hold, he.msg);
			if (err == RL_OK) {
				err = herr;
				if (e != NULL)
					*e = he;
			}
		}
	}
	rl_dbres_free(r);
	return err;
}

/*
 * An admin's top-up or withdrawal.  Unlike reserve and settle this runs
 * in the caller's transaction: the settings program writes an audit row
 * naming the change, and both commit or neither.  Only the user row is
 * locked.  Open holds are not counted: a withdrawal may leave less than
 * they reserved (credits below held), and their settlements are capped at
 * the balance (rl_credits_settle).
 */
enum rl_err
rl_credits_adjust(long long user_id, long long delta_micro,
    long long actor_id, const char *request_id, long long *before,
    long long *after, struct rl_error *e)
{
	struct rl_dbres	*r = NULL;
	char		 uid[32], delta[32], actor[32];
	const char	*p[5];
	enum rl_err	 err;

	*before = *after = 0;
	if (delta_micro == 0)
		return rl_error_set(e, RL_EINVAL, "an adjustment must not be "
		    "zero");
	(void)snprintf(uid, sizeof(uid), "%lld", user_id);
	(void)snprintf(actor, sizeof(actor), "%lld", actor_id);
	rl_micro_fmt(delta_micro, delta, sizeof(delta));
	if ((err = lock_user(uid, before, e)) != RL_OK) {
		if (err == RL_ENOTFOUND)
			(void)rl_error_set(e, err, "no user %lld", user_id);
		goto out;
	}
	p[0] = uid;
	p[1] = delta;
	p[2] = delta_micro > 0 ? "admin_credit" : "admin_debit";
	p[3] = actor;
	p[4] = request_id;
	/* The balance and its ledger row in one statement, as settle. */
	if ((err = rl_db_exec("WITH u AS (UPDATE users SET credits = "
	    "credits + $2::numeric WHERE id = $1 AND credits + $2::numeric "
	    ">= 0 RETURNING id, credits) INSERT INTO usage_ledger (user_id, "
	    "kind, delta, balance_after, actor_id, request_id) SELECT id, $3, "
	    "$2::numeric, credits, $4, $5 FROM u RETURNING balance_after::text",
	    5, p, &r, e)) != RL_OK)
		goto out;
	if (rl_dbres_rows(r) == 0)
		err = rl_error_set(e, RL_ECREDITS, "user %lld: the balance "
		    "cannot go negative", user_id);
	else if (rl_micro_parse(rl_dbres_get(r, 0, 0), after) == -1)
		err = rl_error_set(e, RL_EDB, "balance_after: bad numeric");
out:
	rl_dbres_free(r);
	return err;
}

enum rl_err
rl_credits_attach_task(long long hold_id, const char *task_id,
    struct rl_error *e)
{
	char		 hid[32];
	const char	*p[2];

	(void)snprintf(hid, sizeof(hid), "%lld", hold_id);
	p[0] = task_id;
	p[1] = hid;
	return rl_db_exec("UPDATE credit_reservations SET task_id = "
	    "$1::uuid WHERE id = $2::bigint", 2, p, NULL, e);
}

/*
 * The background queue.  One list per process, FIFO; one thread, started
 * with the first queued write, runs the head until it lands or is refused
 * for good, then the next.  While the database is away every write fails
 * the same way, so only the head is tried, with a backoff from
 * RL_CREDITS_RETRY_MIN_MS doubling to RL_CREDITS_RETRY_MAX_MS.  Writes
 * run in queue order, which keeps a user's ledger rows in call order.
 *
 * Settlements deferred until after an answer (rl_credits_settle_later)
 * wait here too; a run of settlements at the head is written as one group
 * commit.  Only a write whose first try failed was logged as queued for
 * retry, and only such a write is logged again when it lands.
 */
struct later {
	struct later		*next;
	char			 what[96];
	rl_credits_later_fn	 fn;
	void			*arg;
	void			(*freefn)(void *);
	long long		 since_us;
	long long		 user_id;	/* a settlement's, for order */
	int			 tries;
	int			 logged;	/* "queued for retry" said */
};

static pthread_mutex_t	 later_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 later_cv;	/* queued, or the queue emptied */
static pthread_cond_t	 later_nap;	/* the backoff's sleep */
static pthread_once_t	 later_once = PTHREAD_ONCE_INIT;
static struct later	*later_head, *later_tail;
static size_t		 later_n;
static int		 later_thread;	/* the drainer runs */

/*
 * Standing holds ("spares").  At low concurrency the reservation's round
 * trip is most of what relais adds to a call: PostgreSQL's backend sleeps
 * between calls and has to be woken for it.  So for a user who is
 * calling, the queue's thread takes a few holds ahead (the group
 * reservation statement, off the request's time), and the next call
 * draws one in memory: no round trip before its upstream request.  A
 * drawn spare is an ordinary hold from then on, settled or released by
 * its call; the sizes and counts are bounded (bounds.h), spares nobody
 * drew for RL_CREDITS_SPARE_IDLE_MS are given back, and all of them at a
 * clean exit.
 *
 * The table lives in a shared file mapping (sparefile.c), so a SIGKILL
 * does not take it along: the next program to start on the host gives
 * back the spares the dead process still listed, and only those.  A
 * spare leaves the table before its call is made (the store is in the
 * file before the draw returns), so a spare the file still lists was
 * never drawn; a drawn one whose process died is an ordinary hold of a
 * dead process, billed by the sweep at its amount (money.md).  Without
 * the file (CGI, or it cannot be made) no spare is taken.
 */
struct spare_user {
	long long	 user_id;	/* 0: a free slot */
	long long	 want;		/* the largest bound since the refill */
	long long	 size;		/* what a spare holds, set by refill */
	long long	 last_us;	/* the last draw or miss */
	long long	 refused_us;	/* the last refill refused */
	int		 asked;		/* draws and misses since the refill */
	int		 warm;		/* called again within the idle time */
	int		 n;
	long long	 id[RL_CREDITS_SPARES_MAX];
	long long	 amount[RL_CREDITS_SPARES_MAX];
	char		 model[64];
};

#define SPARE_IDLE_US	(RL_CREDITS_SPARE_IDLE_MS * 1000LL)

static pthread_mutex_t	 spare_mu = PTHREAD_MUTEX_INITIALIZER;
/* RL_CREDITS_SPARE_USERS slots in the file; NULL: no spares here. */
static struct spare_user *spares;
static int		 spare_kicked;	/* later_mu: refill wanted */
static atomic_int	 spare_users;	/* slots in use */
static long long	 spare_looked_us; /* the drainer's last refill */
static int		 spare_closing;	/* spare_mu: exiting, none taken */

static void	 later_init(void);
static int	 spare_give_back(long long);

/* spare_mu held: the user's slot, a free one when make, or NULL. */
static struct spare_user *
spare_slot(long long user_id, int make)
{
	struct spare_user	*free_slot = NULL;
	size_t			 i;

	for (i = 0; i < RL_CREDITS_SPARE_USERS; i++) {
		if (spares[i].user_id == user_id)
			return &spares[i];
		if (spares[i].user_id == 0 && free_slot == NULL)
			free_slot = &spares[i];
	}
	if (!make || free_slot == NULL)
		return NULL;
	memset(free_slot, 0, sizeof(*free_slot));
	free_slot->user_id = user_id;
	atomic_fetch_add(&spare_users, 1);
	return free_slot;
}

/* spare_mu held: take spare k out of u's (the last moves in); its id. */
static long long
spare_out(struct spare_user *u, int k)
{
	long long	 hold = u->id[k];

	u->id[k] = u->id[u->n - 1];
	u->amount[k] = u->amount[u->n - 1];
	u->n--;
	return hold;
}

/* Wake the queue's thread for a refill. */
static void
spare_kick(void)
{

	pthread_mutex_lock(&later_mu);
	if (!spare_kicked) {
		spare_kicked = 1;
		pthread_cond_broadcast(&later_cv);
	}
	pthread_mutex_unlock(&later_mu);
}

/*
 * A spare of the user's covering micro: its id, or 0.  Either way the
 * call is counted as demand, which the next refill answers.
 */
static long long
spare_take(long long user_id, long long micro, const char *model)
{
	struct spare_user	*u;
	long long		 hold = 0, now;
	int			 i, kick;

	/* No table: spares off, or a CGI run (rl_credits_spares_start). */
	if (spares == NULL)
		return 0;
	(void)pthread_once(&later_once, later_init);
	now = rl_now_us();
	pthread_mutex_lock(&spare_mu);
	if (spare_closing || (u = spare_slot(user_id, 1)) == NULL) {
		pthread_mutex_unlock(&spare_mu);
		return 0;
	}
	/*
	 * Spares only for a user calling again within the idle time: one
	 * who calls now and then (a teacher at a page) would have each
	 * spare given back unused, three statements for one call.
	 */
	u->warm = u->last_us != 0 && now - u->last_us < SPARE_IDLE_US;
	u->asked++;
	u->last_us = now;
	if (micro > u->want)
		u->want = micro;
	if (model != NULL)
		(void)snprintf(u->model, sizeof(u->model), "%s", model);
	/* Amount 0: being given back (spare_refill), not to be drawn. */
	for (i = u->n - 1; i >= 0; i--)
		if (u->amount[i] > 0 && u->amount[i] >= micro) {
			hold = spare_out(u, i);
			break;
		}
	/*
	 * Woken when three quarters are gone, not at every draw: each
	 * refill takes more at once (one call at a time, PostgreSQL's CPU
	 * per call a fifth lower than when woken at half; the two left
	 * last the refill's round trip).
	 */
	kick = u->warm && u->n <= rl_conf->credit_spares / 4;
	pthread_mutex_unlock(&spare_mu);
	if (kick)
		spare_kick();
	if (hold != 0)
		atomic_fetch_add(&n_rsv_spare, 1);
	return hold;
}

struct spare_ask {
	long long	 user_id;
	long long	 amount;
	char		 model[64];
};

/*
 * The queue's thread: give back what went idle or is too small for what
 * the users ask now, then take what the calling users will need, in one
 * group reservation statement.  A refusal (the user's margin is gone) is
 * an answer, not a fault: that user's calls reserve one by one.
 */
static void
spare_refill(void)
{
	struct spare_ask	 ask[RL_CREDITS_RESERVE_GROUP_MAX];
	long long		 drop[RL_CREDITS_SPARE_USERS];
	struct rl_db_arrays	 x;
	struct rl_dbres		*r = NULL;
	struct rl_error		 e;
	struct spare_user	*u;
	long long		 now = rl_now_us(), hold;
	int			 i, k, na = 0, nd = 0, need, target;

	if (spares == NULL)
		return;
	/*
	 * What goes back stays in the table, marked undrawable (amount 0),
	 * until its release landed (spare_give_back): killed meanwhile, the
	 * next start gives it back.  One the database did not take stays
	 * marked and is tried again at the next refill.
	 */
	pthread_mutex_lock(&spare_mu);
	for (i = 0; i < RL_CREDITS_SPARE_USERS; i++) {
		u = &spares[i];
		if (u->user_id == 0)
			continue;
		for (k = u->n - 1; k >= 0 && nd < RL_CREDITS_SPARE_USERS;
		    k--) {
			if (now - u->last_us < SPARE_IDLE_US &&
			    u->amount[k] >= u->size && u->amount[k] > 0)
				continue;
			u->amount[k] = 0;
			drop[nd++] = u->id[k];
		}
		if (now - u->last_us >= SPARE_IDLE_US) {
			if (u->n == 0) {
				u->user_id = 0;
				atomic_fetch_sub(&spare_users, 1);
			}
			continue;
		}
		/* Sized for the largest call since the last refill. */
		if (u->asked > 0) {
			u->size = u->want / 100 * RL_CREDITS_SPARE_PCT;
			if (u->size < u->want)
				u->size = u->want;
			u->want = 0;
		}
		/*
		 * Enough for twice the calls since the last refill; none
		 * for a while after a refusal (the margin is gone).
		 */
		target = u->warm && now - u->refused_us >= SPARE_IDLE_US ?
		    2 * u->asked : 0;
		if (target > 0 && target < 2)
			target = 2;
		if (target > rl_conf->credit_spares)
			target = rl_conf->credit_spares;
		u->asked = 0;
		for (need = target - u->n; need > 0 &&
		    na < RL_CREDITS_RESERVE_GROUP_MAX; need--) {
			ask[na].user_id = u->user_id;
			ask[na].amount = u->size;
			(void)snprintf(ask[na].model, sizeof(ask[na].model),
			    "%s", u->model);
			na++;
		}
	}
	pthread_mutex_unlock(&spare_mu);

	for (i = 0; i < nd; i++)
		spare_give_back(drop[i]);
	nd = 0;
	if (na == 0)
		return;
	rl_error_clear(&e);
	rl_db_arrays_init(&x, RESERVE_GROUP_COLS, RL_CREDITS_GROUP_SQL_MAX);
	for (i = 0; i < na; i++)
		reserve_row(&x, ask[i].user_id, ask[i].amount,
		    ask[i].model[0] != '\0' ? ask[i].model : NULL, "spare",
		    NULL, ask[i].amount * RL_CREDITS_SPARE_MARGIN);
	if (rl_db_arrays_exec(&x, RESERVE_GROUP_SQL, &r, &e) != RL_OK ||
	    rl_dbres_rows(r) != na) {
		rl_log_warn("spare holds not taken: %s", e.msg);
		goto out;
	}
	pthread_mutex_lock(&spare_mu);
	for (i = 0; i < na; i++) {
		u = spare_slot(ask[i].user_id, 0);
		if (rl_dbres_isnull(r, i, 0)) {
			if (u != NULL)
				u->refused_us = now;
			continue;
		}
		hold = strtoll(rl_dbres_get(r, i, 0), NULL, 10);
		if (u != NULL && !spare_closing &&
		    u->n < RL_CREDITS_SPARES_MAX) {
			u->id[u->n] = hold;
			u->amount[u->n] = ask[i].amount;
			u->n++;
			hold = 0;
		}
		if (hold != 0)
			drop[nd++] = hold;	/* nd <= na: room */
	}
	pthread_mutex_unlock(&spare_mu);
	/* Taken for a slot gone meanwhile, or at exit: back at once. */
	for (i = 0; i < nd; i++)
		rl_credits_release_sure(drop[i]);
out:
	rl_dbres_free(r);
}

/*
 * Give back a spare still in the table (marked, or at exit: none is
 * drawn then), and take it out once the database has it: released now,
 * or closed already.  0 when it stays (the database is away).
 */
static int
spare_give_back(long long hold)
{
	struct rl_error	 e;
	enum rl_err	 err;
	int		 i, k;

	rl_error_clear(&e);
	err = rl_credits_release(hold, &e);
	if (err != RL_OK && err != RL_ECONFLICT && err != RL_ENOTFOUND) {
		rl_log_warn("spare hold %lld not given back yet: %s", hold,
		    e.msg);
		return 0;
	}
	pthread_mutex_lock(&spare_mu);
	for (i = 0; i < RL_CREDITS_SPARE_USERS; i++)
		for (k = 0; k < spares[i].n; k++)
			if (spares[i].id[k] == hold) {
				(void)spare_out(&spares[i], k);
				break;
			}
	pthread_mutex_unlock(&spare_mu);
	return 1;
}

/* The k-th spare of slot i, or 0. */
static long long
spare_nth(int i, int k)
{
	long long	 hold;

	pthread_mutex_lock(&spare_mu);
	hold = k < spares[i].n ? spares[i].id[k] : 0;
	pthread_mutex_unlock(&spare_mu);
	return hold;
}

/*
 * At exit: every spare back, and none taken after.  The file goes with
 * them; one the database did not take keeps it, for the next start.
 */
static void
spare_release_all(void)
{
	long long	 hold;
	int		 i, k, left = 0;

	if (spares == NULL)
		return;
	pthread_mutex_lock(&spare_mu);
	spare_closing = 1;
	pthread_mutex_unlock(&spare_mu);
	for (i = 0; i < RL_CREDITS_SPARE_USERS; i++)
		for (k = 0; (hold = spare_nth(i, k)) != 0;)
			if (!spare_give_back(hold)) {
				k++;
				left++;
			}
	rl_sparefile_exit(left == 0);
}

/*
 * Give back, in one statement, the spares a dead process's table still
 * lists: each only while it is still open, a spare ("spare" request id)
 * and the user's the table says (a table of another database would name
 * holds that are not its own; the file's key already says it is ours).
 * Holds are locked before their users, as everywhere.
 */
#define RECOVER_SQL							\
	"WITH d AS (SELECT * FROM unnest($1::bigint[], $2::bigint[]) "	\
	"AS d (hold, uid)), h AS (UPDATE credit_reservations c SET "	\
	"state = 'released', settled_at = now() FROM d WHERE "		\
	"c.id = d.hold AND c.user_id = d.uid AND c.request_id = 'spare' " \
	"AND c.state = 'reserved' RETURNING c.user_id, c.amount), "	\
	"u AS (UPDATE users SET held = users.held - s.amount FROM "	\
	"(SELECT user_id, sum(amount) AS amount FROM h GROUP BY "	\
	"user_id) s WHERE users.id = s.user_id RETURNING users.id) "	\
	"SELECT count(*) FROM h"

static enum rl_err
spare_recover(const void *map, size_t size, void *arg, struct rl_error *e)
{
	const struct spare_user	*t = map;
	struct rl_db_arrays	 x;
	struct rl_dbres		*r = NULL;
	const char		*v[2];
	char			 hid[32], uid[32];
	long long		*given = arg;
	int			 i, k;
	enum rl_err		 err;

	(void)size;	/* the file's size was checked against ours */
	rl_db_arrays_init(&x, 2, RL_CREDITS_GROUP_SQL_MAX);
	v[0] = hid;
	v[1] = uid;
	for (i = 0; i < RL_CREDITS_SPARE_USERS; i++)
		for (k = 0; t[i].user_id > 0 && k < t[i].n &&
		    k < RL_CREDITS_SPARES_MAX; k++) {
			(void)snprintf(hid, sizeof(hid), "%lld", t[i].id[k]);
			(void)snprintf(uid, sizeof(uid), "%lld",
			    t[i].user_id);
			rl_db_arrays_row(&x, v);
		}
	if ((err = rl_db_arrays_exec(&x, RECOVER_SQL, &r, e)) == RL_OK)
		*given += strtoll(rl_dbres_get(r, 0, 0), NULL, 10);
	rl_dbres_free(r);
	return err;
}

/*
 * What a table file is about: its layout (a build whose table differs
 * must not read it) and the database its hold ids are of; the first
 * bytes of their SHA-256.
 */
static uint64_t
spare_key(void)
{
	unsigned char	 d[RL_SHA256_BYTES];
	char		 buf[512];
	uint64_t	 key;

	(void)snprintf(buf, sizeof(buf), "%zu %d %d %s",
	    sizeof(struct spare_user), RL_CREDITS_SPARE_USERS,
	    RL_CREDITS_SPARES_MAX, rl_conf->database_url != NULL ?
	    rl_conf->database_url : "");
	rl_sha256(buf, strlen(buf), d);
	memcpy(&key, d, sizeof(key));
	return key;
}

void
rl_credits_spares_start(const char *prog)
{
	struct rl_error	 e;
	char		 dir[PATH_MAX];
	long long	 given = 0;
	uint64_t	 key = spare_key();
	int		 files;
	size_t		 size = sizeof(struct spare_user) *
			    RL_CREDITS_SPARE_USERS;

	rl_error_clear(&e);
	(void)snprintf(dir, sizeof(dir), "%s/spares", rl_conf->tmpdir);
	/* Whatever this process's own setting: the dead one's may differ. */
	if (rl_sparefile_recover(dir, size, key, spare_recover,
	    &given, &files, &e) != RL_OK)
		rl_log_warn("spare holds of dead processes not given back "
		    "(the next start tries again): %s", e.msg);
	if (files > 0)
		rl_log_info("spare holds: %lld given back, listed by %d "
		    "dead processes", given, files);
	rl_db_request_end();
	if (rl_conf->credit_spares == 0)
		return;
	if ((spares = rl_sparefile_open(dir, prog, size, key, &e)) ==
	    NULL) {
		rl_log_warn("spare holds off: %s", e.msg);
		return;
	}
	(void)atexit(spare_release_all);
}

/* A settlement waiting in the queue: the charge and its strings, owned. */
struct settle_job {
	long long		 hold_id;
	long long		 user_id;
	struct rl_charge	 ch;
	char			*s[8];
};

static enum rl_err	 settle_job_run(void *, struct rl_error *);

int
rl_credits_retryable(enum rl_err err, const struct rl_error *e)
{
	const char	*st = e != NULL ? e->sqlstate : "";

	if (err == RL_EDBDOWN || err == RL_EUNAVAIL)
		return 1;
	if (err != RL_EDB)
		return 0;
	/*
	 * SQLSTATE classes of a server going or busy: 08 connection, 40
	 * serialization or deadlock, 53 resources, 57 operator intervention
	 * (shutdown, statement timeout), 58 system error.  Anything else is
	 * the statement's own fault and would fail again.
	 */
	return strncmp(st, "08", 2) == 0 || strncmp(st, "40", 2) == 0 ||
	    strncmp(st, "53", 2) == 0 || strncmp(st, "57", 2) == 0 ||
	    strncmp(st, "58", 2) == 0;
}

/* The end of a write: landed (err RL_OK) or refused for good. */
static void
done(const struct later *l, enum rl_err err, const struct rl_error *e)
{

	if (err != RL_OK)
		rl_log_error("%s: refused for good after %d retries: %s",
		    l->what, l->tries + 1, e->msg);
	else if (l->logged)
		rl_log_info("%s: landed at retry %d, %lld ms late", l->what,
		    l->tries + 1, (rl_now_us() - l->since_us) / 1000);
}

/*
 * A group of settlements in one statement: what SETTLE_SQL does for one
 * hold, for the arrays of a group (unnest, one element per settlement, in
 * user order, a user's own in queue order).  One statement instead of a
 * transaction of one per settlement: one round trip, one commit, and
 * PostgreSQL prepares its executor, its CHECK constraints and its
 * indexes once for the group rather than once per call, the better part
 * of its time on a settlement.
 *
 * c locks the holds (id order), o then their users (id order): the one
 * lock order of this file.  Users are locked FOR NO KEY UPDATE, the lock
 * an UPDATE of their balance takes anyway: money statements on one user
 * still go one after the other, but a row that only names the user (a
 * job's record, whose key check takes FOR KEY SHARE) no longer waits for
 * them; under FOR UPDATE it did, and /ai/openai/chat/ at c=64 gave 2,200
 * calls/s against 2,500.  c looks each hold up by its key, one at a
 * time, in id order (a lateral select with a FOR UPDATE of its own is
 * never merged into a join).  Written "id IN (SELECT hold FROM g)", it
 * got a hash join over a sequential scan of every hold ever taken
 * whenever the statistics said the table was small, as they do on a new
 * database until its first autoanalyze, and each connection kept that
 * plan while the table grew: 2,870 scans reading 67 million rows in a
 * bench stack's first minute, twice PostgreSQL's CPU time per call.
 * A settlement whose hold is missing, someone else's or settled already
 * writes nothing, as SETTLE_SQL.  Each debit is its cost capped at what
 * the user's settlements before it in the group left of the balance,
 * min(cost, credits - sum of the costs before), never below 0: the sum of
 * SETTLE_SQL's caps one after the other, since the balance only falls.
 * balance_after is the running balance.  The last select answers per
 * settlement (its ordinality): written, and the hold's state and user as
 * locked.
 */
#define GROUP_SQL							\
	"WITH g AS (SELECT * FROM unnest($1::bigint[], $2::bigint[], "	\
	"$3::text[], $4::text[], $5::text[], $6::text[], "		\
	"$7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[], "	\
	"$11::numeric[], "						\
	"$12::integer[], $13::text[], $14::text[], $15::text[], "	\
	"$16::uuid[]) WITH ORDINALITY AS g (hold, uid, model, provider, " \
	"feature, status, tin, tcached, tout, treason, cost, latency, "	\
	"rid, urid, uresp, task, n)), "					\
	"c AS MATERIALIZED (SELECT r.* FROM (SELECT DISTINCT hold FROM " \
	"g ORDER BY hold) q CROSS JOIN LATERAL (SELECT id, user_id, "	\
	"state, amount, model, task_id FROM credit_reservations WHERE "	\
	"id = q.hold FOR UPDATE) r), "					\
	"v AS MATERIALIZED (SELECT g.*, c.state AS cstate, c.amount, "	\
	"c.model AS cmodel, c.task_id AS ctask FROM g JOIN c ON "	\
	"c.id = g.hold AND c.user_id = g.uid WHERE c.state IN "		\
	"('reserved', 'released')), "					\
	"o AS MATERIALIZED (SELECT id, credits FROM users WHERE id IN "	\
	"(SELECT uid FROM v) ORDER BY id FOR NO KEY UPDATE), "		\
	"d AS MATERIALIZED (SELECT v.*, o.credits AS bal, "		\
	"greatest(0, least(v.cost, o.credits - coalesce(sum(v.cost) "	\
	"OVER (PARTITION BY v.uid ORDER BY v.n ROWS BETWEEN UNBOUNDED "	\
	"PRECEDING AND 1 PRECEDING), 0))) AS debit FROM v JOIN o ON "	\
	"o.id = v.uid), "						\
	"u AS (UPDATE users SET credits = users.credits - t.debit, "	\
	"held = users.held - t.freed FROM (SELECT uid, sum(debit) AS "	\
	"debit, sum(CASE cstate WHEN 'reserved' THEN amount ELSE 0 END) " \
	"AS freed FROM d GROUP BY uid) t WHERE users.id = t.uid "	\
	"RETURNING users.id), "						\
	"h AS (UPDATE credit_reservations SET state = 'settled', "	\
	"settled_at = now() FROM d WHERE credit_reservations.id = "	\
	"d.hold AND d.uid IN (SELECT id FROM u) RETURNING "		\
	"credit_reservations.id), "					\
	"l AS (INSERT INTO usage_ledger (user_id, reservation_id, kind, "\
	"model, provider, feature, status, input_tokens, "		\
	"cached_input_tokens, output_tokens, reasoning_tokens, cost, "	\
	"delta, balance_after, latency_ms, request_id, "		\
	"upstream_request_id, upstream_response_id, task_id) "		\
	"SELECT uid, hold, 'openai_call', coalesce(model, cmodel, "	\
	"'" UNKNOWN_MODEL "'), provider, feature, status, tin, tcached, " \
	"tout, treason, cost, -debit, bal - sum(debit) OVER "	\
	"(PARTITION BY uid ORDER BY n), latency, rid, urid, uresp, "	\
	"(SELECT t.id FROM tasks t WHERE t.id = coalesce(d.task, "	\
	"d.ctask)) "							\
	"FROM d WHERE hold IN (SELECT id FROM h) ORDER BY uid, n "	\
	"RETURNING reservation_id) "					\
	"SELECT l.reservation_id IS NOT NULL, c.state, c.user_id FROM g " \
	"LEFT JOIN l ON l.reservation_id = g.hold LEFT JOIN c ON "	\
	"c.id = g.hold ORDER BY g.n"

/* The columns of GROUP_SQL's arrays. */
enum { GROUP_COLS = 16 };
_Static_assert(GROUP_COLS <= RL_DB_ARRAYS_MAX, "GROUP_SQL's arrays");

/*
 * A group commit: the n settlements of g (queue order) in one statement,
 * ordered by user so that every group takes its users' rows in the same
 * order, a user's own keeping queue order.  0 when the statement
 * committed and each settlement landed or was refused for good (a closed
 * hold, a missing one: answers, not faults); -1 when it did not (nothing
 * written), or a settlement is not valid, and the head is then tried
 * alone as always.
 */
static int
group(struct later **g, int n)
{
	struct later		*s[GROUP_MAX];
	struct settle_job	*j;
	struct rl_db_arrays	 x;
	struct rl_dbres		*r = NULL;
	struct rl_error		 e, es[GROUP_MAX];
	struct charge_text	 t;
	enum rl_err		 err[GROUP_MAX];
	const char		*v[GROUP_COLS];
	char			 uid[32], hid[32];
	int			 i, k, rc = -1;

	for (i = 0; i < n; i++) {
		j = g[i]->arg;
		if (j->ch.cost_micro < 0 || !valid_status(j->ch.status))
			return -1;
		for (k = i; k > 0 && s[k - 1]->user_id > g[i]->user_id; k--)
			s[k] = s[k - 1];
		s[k] = g[i];
	}
	rl_db_arrays_init(&x, GROUP_COLS, RL_CREDITS_GROUP_SQL_MAX);
	for (i = 0; i < n; i++) {
		j = s[i]->arg;
		charge_text(&j->ch, &t);
		(void)snprintf(hid, sizeof(hid), "%lld", j->hold_id);
		(void)snprintf(uid, sizeof(uid), "%lld", j->user_id);
		v[0] = hid;
		v[1] = uid;
		v[2] = j->ch.model;
		v[3] = j->ch.provider;
		v[4] = j->ch.feature;
		v[5] = j->ch.status;
		v[6] = t.tin;
		v[7] = t.tcached;
		v[8] = t.tout;
		v[9] = t.treason;
		v[10] = t.cost;
		v[11] = t.latency;
		v[12] = j->ch.request_id;
		v[13] = j->ch.upstream_request_id;
		v[14] = j->ch.upstream_response_id;
		v[15] = j->ch.task_id;
		rl_db_arrays_row(&x, v);
	}
	rl_error_clear(&e);
	if (rl_db_arrays_exec(&x, GROUP_SQL, &r, &e) != RL_OK ||
	    rl_dbres_rows(r) != n)
		goto out;
	for (i = 0; i < n; i++) {
		j = s[i]->arg;
		rl_error_clear(&es[i]);
		(void)snprintf(uid, sizeof(uid), "%lld", j->user_id);
		if (rl_dbres_get(r, i, 0)[0] == 't')
			err[i] = RL_OK;
		else if (rl_dbres_isnull(r, i, 1) ||
		    strcmp(rl_dbres_get(r, i, 2), uid) != 0)
			err[i] = rl_error_set(&es[i], RL_ENOTFOUND, "no hold "
			    "%lld for user %lld", j->hold_id, j->user_id);
		else if (strcmp(rl_dbres_get(r, i, 1), "settled") == 0)
			err[i] = RL_OK;	/* landed before, answer lost */
		else
			err[i] = rl_error_set(&es[i], RL_EINTERNAL, "hold "
			    "%lld: ledger row not written", j->hold_id);
	}
	for (i = 0; i < n; i++)
		done(s[i], err[i], &es[i]);
	atomic_fetch_add(&n_settle_grouped, n);
	rc = 0;
out:
	rl_dbres_free(r);
	return rc;
}

/*
 * Wait, later_mu held, until there is something to write.  A group commit
 * pays one transaction and one flush for many calls, but only when the
 * calls are there together: at low concurrency each settlement would be
 * written alone the moment it was queued, a wake-up and a commit per
 * call.  So a young settlement at the head waits for company, until
 * RL_CREDITS_GROUP_LINGER_US after it was queued or until a whole group
 * is queued (enqueue wakes this thread only then, or when the queue was
 * empty).  Its hold stays in held meanwhile: the money cannot be spent
 * twice, it is only out of reach a little longer.
 */
static void
linger(void)
{
	struct timespec	 until;
	long long	 left;

	for (;;) {
		while (later_head == NULL && !spare_kicked) {
			if (atomic_load(&spare_users) == 0) {
				pthread_cond_wait(&later_cv, &later_mu);
				continue;
			}
			/*
			 * Spares out: back to the drainer once idle, which
			 * looks at them when a refill is that old.
			 */
			rl_deadline(RL_CREDITS_SPARE_IDLE_MS, &until);
			if (pthread_cond_timedwait(&later_cv, &later_mu,
			    &until) == ETIMEDOUT)
				return;
		}
		if (spare_kicked || later_head->fn != settle_job_run ||
		    later_n >= GROUP_MAX)
			return;
		left = later_head->since_us + RL_CREDITS_GROUP_LINGER_US -
		    rl_now_us();
		if (left <= 0)
			return;
		rl_deadline_us(left, &until);
		(void)pthread_cond_timedwait(&later_cv, &later_mu, &until);
	}
}

static void *
drainer(void *arg)
{
	struct timespec	 until;
	struct rl_error	 e;
	struct later	*l, *g[GROUP_MAX];
	enum rl_err	 err;
	long		 wait;
	int		 i, n, kicked;

	(void)arg;
	/* Settlements free holds: never wait behind requests for the pool. */
	rl_db_own();
	for (;;) {
		pthread_mutex_lock(&later_mu);
		linger();
		/* Kicked, or the last refill as old as the idle time (also
		 * when busy with settlements): idle spares go back. */
		kicked = spare_kicked || (atomic_load(&spare_users) > 0 &&
		    rl_now_us() - spare_looked_us >= SPARE_IDLE_US);
		spare_kicked = 0;
		n = 0;
		for (l = later_head; l != NULL && n < GROUP_MAX &&
		    l->fn == settle_job_run; l = l->next)
			g[n++] = l;
		l = later_head;
		pthread_mutex_unlock(&later_mu);

		if (kicked) {
			spare_looked_us = rl_now_us();
			spare_refill();
			rl_db_request_end();
		}
		if (l == NULL)
			continue;
		if (n > 1 && group(g, n) == 0) {
			rl_db_request_end();
			pthread_mutex_lock(&later_mu);
			later_head = g[n - 1]->next;
			if (later_head == NULL)
				later_tail = NULL;
			later_n -= (size_t)n;
			pthread_cond_broadcast(&later_cv);
			pthread_mutex_unlock(&later_mu);
			for (i = 0; i < n; i++) {
				g[i]->freefn(g[i]->arg);
				free(g[i]);
			}
			continue;
		}

		rl_error_clear(&e);
		err = l->fn(l->arg, &e);
		/* Give back the connection a failed transaction pinned. */
		rl_db_request_end();
		if (rl_credits_retryable(err, &e)) {
			if (!l->logged) {
				rl_log_warn("%s failed: %s; queued for retry",
				    l->what, e.msg);
				l->logged = 1;
			} else if (l->tries % 20 == 0)
				rl_log_warn("%s: not yet (%s), try %d, "
				    "retrying", l->what, e.msg, l->tries + 1);
			l->tries++;
			wait = (long)RL_CREDITS_RETRY_MIN_MS <<
			    (l->tries < 16 ? l->tries - 1 : 15);
			if (wait > RL_CREDITS_RETRY_MAX_MS)
				wait = RL_CREDITS_RETRY_MAX_MS;
			/* later_nap is never signalled: a plain sleep. */
			rl_deadline(wait, &until);
			pthread_mutex_lock(&later_mu);
			while (pthread_cond_timedwait(&later_nap, &later_mu,
			    &until) == 0)
				continue;
			pthread_mutex_unlock(&later_mu);
			continue;
		}
		done(l, err, &e);
		pthread_mutex_lock(&later_mu);
		later_head = l->next;
		if (later_head == NULL)
			later_tail = NULL;
		later_n--;
		pthread_cond_broadcast(&later_cv);
		pthread_mutex_unlock(&later_mu);
		if (l->freefn != NULL)
			l->freefn(l->arg);
		free(l);
	}
	return NULL;
}

/* At exit, queued writes get a last chance (programs and the worker). */
static void
drain_at_exit(void)
{
	size_t	 n;

	if (rl_credits_drain(RL_CREDITS_DRAIN_SEC * 1000L) == 0)
		return;
	n = rl_credits_pending();
	rl_log_error("exiting with %zu queued money writes not landed "
	    "(the sweep settles their holds at the amount reserved)", n);
}

static void
later_init(void)
{
	pthread_condattr_t	 ca;
	pthread_attr_t		 attr;
	pthread_t		 tid;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&later_cv, &ca);
	pthread_cond_init(&later_nap, &ca);
	pthread_condattr_destroy(&ca);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&tid, &attr, drainer, NULL) == 0) {
		pthread_mutex_lock(&later_mu);
		later_thread = 1;
		pthread_mutex_unlock(&later_mu);
		(void)atexit(drain_at_exit);
	} else
		rl_log_error("credits: cannot start the retry thread");
	pthread_attr_destroy(&attr);
}

/* Append a write; logged says its first failure was already told. */
static enum rl_err
enqueue(const char *what, rl_credits_later_fn fn, void *arg,
    void (*freefn)(void *), long long user_id, int logged,
    struct rl_error *e)
{
	struct later	*l;

	(void)pthread_once(&later_once, later_init);
	if ((l = calloc(1, sizeof(*l))) == NULL) {
		if (freefn != NULL)
			freefn(arg);
		return rl_error_set(e, RL_EUNAVAIL, "%s: cannot be queued",
		    what);
	}
	(void)snprintf(l->what, sizeof(l->what), "%s", what);
	l->fn = fn;
	l->arg = arg;
	l->freefn = freefn;
	l->since_us = rl_now_us();
	l->user_id = user_id;
	l->logged = logged;
	pthread_mutex_lock(&later_mu);
	if (!later_thread || later_n >= RL_CREDITS_RETRY_QUEUE_MAX) {
		pthread_mutex_unlock(&later_mu);
		free(l);
		if (freefn != NULL)
			freefn(arg);
		return rl_error_set(e, RL_EUNAVAIL, "%s: no retry queue (no "
		    "thread, or %d writes waiting)", what,
		    RL_CREDITS_RETRY_QUEUE_MAX);
	}
	if (later_tail != NULL)
		later_tail->next = l;
	else
		later_head = l;
	later_tail = l;
	later_n++;
	/*
	 * The drainer waits for a first write, or lingers until a group is
	 * whole (linger): a wake-up per call would cost the context switch
	 * the grouping saves.
	 */
	if (later_n == 1 || later_n == GROUP_MAX || fn != settle_job_run)
		pthread_cond_broadcast(&later_cv);
	pthread_mutex_unlock(&later_mu);
	return RL_OK;
}

enum rl_err
rl_credits_later(const char *what, rl_credits_later_fn fn, void *arg,
    void (*freefn)(void *), struct rl_error *e)
{

	return enqueue(what, fn, arg, freefn, 0, 1, e);
}

size_t
rl_credits_pending(void)
{
	size_t	 n;

	pthread_mutex_lock(&later_mu);
	n = later_n;
	pthread_mutex_unlock(&later_mu);
	return n;
}

int
rl_credits_drain(long ms)
{
	struct timespec	 until;
	int		 rc = 0;

	rl_deadline(ms, &until);
	pthread_mutex_lock(&later_mu);
	/* No thread (nothing ever queued): the condvar is not set up. */
	while (later_thread && later_n > 0 && rc == 0)
		rc = pthread_cond_timedwait(&later_cv, &later_mu, &until);
	rc = later_n > 0 ? -1 : 0;
	pthread_mutex_unlock(&later_mu);
	return rc;
}

static void
settle_job_free(void *arg)
{
	struct settle_job	*j = arg;
	size_t			 i;

	for (i = 0; i < sizeof(j->s) / sizeof(j->s[0]); i++)
		free(j->s[i]);
	free(j);
}

static enum rl_err
settle_job_run(void *arg, struct rl_error *e)
{
	struct settle_job	*j = arg;
	long long		 charged;
	enum rl_err		 err;
	int			 closed;

	err = settle(j->hold_id, j->user_id, &j->ch, SETTLE_CALL, &charged,
	    &closed, e);
	/*
	 * Already settled: the first try's commit landed and only its answer
	 * was lost.  That is the write done, not a refusal.
	 */
	if (err == RL_ECONFLICT && closed)
		err = RL_OK;
	if (err == RL_OK)
		atomic_fetch_add(&n_settle_queued, 1);
	return err;
}

/* Copy a string of the charge into the job; -1 when out of memory. */
static int
own(struct settle_job *j, int i, const char **dst, const char *src)
{

	*dst = NULL;
	if (src == NULL)
		return 0;
	if ((j->s[i] = strdup(src)) == NULL)
		return -1;
	*dst = j->s[i];
	return 0;
}

/* A queued settlement owning a copy of the charge; NULL without memory. */
static struct settle_job *
settle_job_new(long long hold_id, long long user_id,
    const struct rl_charge *ch)
{
	struct settle_job	*j;

	if ((j = calloc(1, sizeof(*j))) == NULL)
		return NULL;
	j->hold_id = hold_id;
	j->user_id = user_id;
	j->ch = *ch;
	if (own(j, 0, &j->ch.model, ch->model) == -1 ||
	    own(j, 1, &j->ch.provider, ch->provider) == -1 ||
	    own(j, 2, &j->ch.feature, ch->feature) == -1 ||
	    own(j, 3, &j->ch.request_id, ch->request_id) == -1 ||
	    own(j, 4, &j->ch.upstream_request_id,
	    ch->upstream_request_id) == -1 ||
	    own(j, 5, &j->ch.upstream_response_id,
	    ch->upstream_response_id) == -1 ||
	    own(j, 6, &j->ch.task_id, ch->task_id) == -1 ||
	    own(j, 7, &j->ch.status, ch->status) == -1) {
		settle_job_free(j);
		return NULL;
	}
	return j;
}

static void
settle_what(char *buf, size_t size, long long hold_id, long long user_id,
    const struct rl_charge *ch)
{

	(void)snprintf(buf, size, "settlement of hold %lld (user %lld, %lld "
	    "micro-USD)", hold_id, user_id, ch->cost_micro);
}

enum rl_err
rl_credits_settle_sure(long long hold_id, long long user_id,
    const struct rl_charge *ch, long long *charged_micro, int *queued,
    struct rl_error *e)
{
	struct settle_job	*j;
	char			 what[96];
	enum rl_err		 err;

	*queued = 0;
	err = rl_credits_settle(hold_id, user_id, ch, charged_micro, e);
	if (err == RL_OK)
		atomic_fetch_add(&n_settle_inline, 1);
	if (!rl_credits_retryable(err, e))
		return err;
	if ((j = settle_job_new(hold_id, user_id, ch)) == NULL)
		return err;
	settle_what(what, sizeof(what), hold_id, user_id, ch);
	rl_log_warn("%s failed: %s; queued for retry", what, e->msg);
	if (enqueue(what, settle_job_run, j, settle_job_free, user_id, 1,
	    e) != RL_OK)
		return err;
	*queued = 1;
	rl_error_clear(e);
	return RL_OK;
}

/*
 * After the answer: the caller has its result (the cost is computed, the
 * hold covers it), so the ledger row need not delay it.  The queue's
 * thread writes it, in a group commit with the others waiting, and
 * retries it like any queued write.  What the user still owes sits in
 * held until then, so it cannot be spent twice.
 */
enum rl_err
rl_credits_settle_later(long long hold_id, long long user_id,
    const struct rl_charge *ch, long long *charged_micro, int *queued,
    struct rl_error *e)
{
	struct settle_job	*j;
	char			 what[96];

	*charged_micro = 0;
	*queued = 0;
	if (ch->cost_micro < 0 || !valid_status(ch->status))
		return rl_error_set(e, RL_EINVAL, "settlement of hold %lld: "
		    "bad cost or status", hold_id);
	settle_what(what, sizeof(what), hold_id, user_id, ch);
	if (rl_credits_pending() < LATER_MAX &&
	    (j = settle_job_new(hold_id, user_id, ch)) != NULL &&
	    enqueue(what, settle_job_run, j, settle_job_free, user_id, 0,
	    e) == RL_OK) {
		*queued = 1;
		return RL_OK;
	}
	/* A backlog, no room, no memory: settle now, as before. */
	rl_error_clear(e);
	return rl_credits_settle_sure(hold_id, user_id, ch, charged_micro,
	    queued, e);
}

static void
release_job_free(void *arg)
{

	free(arg);
}

static enum rl_err
release_job_run(void *arg, struct rl_error *e)
{
	enum rl_err	 err;

	err = rl_credits_release(*(long long *)arg, e);
	/* Already closed (released before, or settled): nothing to do. */
	return err == RL_ECONFLICT ? RL_OK : err;
}

void
rl_credits_release_sure(long long hold_id)
{
	struct rl_error	 e;
	long long	*j;
	char		 what[64];
	enum rl_err	 err;

	rl_error_clear(&e);
	err = rl_credits_release(hold_id, &e);
	if (err == RL_OK || err == RL_ECONFLICT)
		return;
	if (!rl_credits_retryable(err, &e)) {
		rl_log_error("release of hold %lld: %s", hold_id, e.msg);
		return;
	}
	(void)snprintf(what, sizeof(what), "release of hold %lld", hold_id);
	rl_log_warn("%s failed: %s; queued for retry", what, e.msg);
	if ((j = malloc(sizeof(*j))) == NULL) {
		rl_log_error("%s: out of memory; the sweep releases it", what);
		return;
	}
	*j = hold_id;
	if (rl_credits_later(what, release_job_run, j, release_job_free,
	    &e) != RL_OK)
		rl_log_error("%s; the sweep releases it", e.msg);
}

/*
 * A hold whose call died with its process, settled now at its reserved
 * amount (status 'lost'), as the sweep would settle it later: the rerun
 * of a task whose worker died.  A hold closed meanwhile (its settlement
 * landed after all) is left as it is: RL_OK, *charged_micro 0.  When the
 * database is away the hold stays open and the sweep settles it the same
 * way once the task has ended.
 */
enum rl_err
rl_credits_settle_dead(long long hold_id, const char *task_id,
    long long *charged_micro, struct rl_error *e)
{
	struct rl_dbres		*r = NULL;
	struct rl_charge	 ch;
	char			 hid[32];
	const char		*p[1];
	enum rl_err		 err;
	int			 closed;

	*charged_micro = 0;
	(void)snprintf(hid, sizeof(hid), "%lld", hold_id);
	p[0] = hid;
	if ((err = rl_db_exec("SELECT user_id FROM credit_reservations "
	    "WHERE id = $1::bigint AND state = 'reserved'", 1, p, &r, e)) !=
	    RL_OK || rl_dbres_rows(r) == 0)
		goto out;
	memset(&ch, 0, sizeof(ch));
	ch.feature = "rerun";
	ch.task_id = task_id;
	err = settle(hold_id, strtoll(rl_dbres_get(r, 0, 0), NULL, 10), &ch,
	    SETTLE_DEAD, charged_micro, &closed, e);
	if (err == RL_ECONFLICT && closed)
		err = RL_OK;	/* closed meanwhile: nothing to do */
out:
	rl_dbres_free(r);
	return err;
}

/*
 * Every hold a dead attempt of a task left open, settled at its amount
 * (rl_credits_settle_dead): the call may have reached the upstream, which
 * bills what it produced, and its outcome died with the worker.
 */
enum rl_err
rl_credits_settle_task(const char *task_id, int *n, struct rl_error *e)
{
	struct rl_dbres	*r = NULL;
	struct rl_error	 he;
	const char	*p[1];
	long long	 charged;
	enum rl_err	 err;
	int		 i;

	*n = 0;
	p[0] = task_id;
	if ((err = rl_db_exec("SELECT id FROM credit_reservations WHERE "
	    "task_id = $1::uuid AND state = 'reserved' ORDER BY id", 1, p,
	    &r, e)) != RL_OK)
		goto out;
	for (i = 0; i < rl_dbres_rows(r); i++) {
		rl_error_clear(&he);
		if (rl_credits_settle_dead(strtoll(rl_dbres_get(r, i, 0),
		    NULL, 10), task_id, &charged, &he) != RL_OK) {
			rl_log_warn("task %s: hold %s: %s (the sweep settles "
			    "it)", task_id, rl_dbres_get(r, i, 0), he.msg);
			continue;
		}
		(*n)++;
		rl_log_warn("task %s: hold %s of a dead attempt settled at "
		    "its reserved amount", task_id, rl_dbres_get(r, i, 0));
	}
out:
	rl_dbres_free(r);
	return err;
}

/*
 * The holds of a task revoked before it ran are nobody's to settle: it
 * never called (an async chat job reserves when queued).  Left alone they
 * would block the user's money until the sweep.  Each release is sure: a
 * database away now queues it rather than losing it.
 */
enum rl_err
rl_credits_release_task(const char *task_id, int *n, struct rl_error *e)
{
	struct rl_dbres	*r = NULL;
	const char	*p[1];
	enum rl_err	 err;
	int		 i;

	*n = 0;
	p[0] = task_id;
	if ((err = rl_db_exec("SELECT id FROM credit_reservations WHERE "
	    "task_id = $1::uuid AND state = 'reserved'", 1, p, &r, e)) !=
	    RL_OK)
		goto out;
	for (i = 0; i < rl_dbres_rows(r); i++) {
		rl_credits_release_sure(strtoll(rl_dbres_get(r, i, 0), NULL,
		    10));
		rl_log_info("task %s: hold %s given back", task_id,
		    rl_dbres_get(r, i, 0));
	}
	*n = i;
out:
	rl_dbres_free(r);
	return err;
}
