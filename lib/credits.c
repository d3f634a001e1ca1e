/*
 * credits.c: reserve -> settle | release, and the ledger.  See credits.h
 * and docs/internals/credits.md.
 *
 * Two rules keep the money exact under any number of concurrent callers:
 *
 *  - Every transaction that reads or changes a balance locks the user row
 *    first (SELECT ... FOR UPDATE), and only then looks at holds.  One
 *    lock order means no deadlock between reserve and settle, and in READ
 *    COMMITTED each later statement takes a fresh snapshot, so the sum of
 *    open holds read after the lock includes every hold committed before
 *    it.  (A single statement that locked and summed would sum with the
 *    snapshot taken before it waited for the lock, and over-reserve.)
 *  - Amounts are integers in C and numeric in SQL; they cross as exact
 *    decimal text (rl_micro_fmt / rl_micro_parse), never as floating point.
 *
 * A transaction pins a pool connection (db.c), so every path below ends in
 * commit or rollback.
 *
 * A write that fails because the database is away (a restart, a full
 * pool) is not lost: rl_credits_settle_sure and rl_credits_release_sure
 * queue it, and one background thread per process retries the queue, head
 * first, with backoff, until each write lands or is refused for good.
 * Retrying is safe because both writes are idempotent by hold id.
 */
#include "config.h"

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bounds.h"
#include "credits.h"
#include "db.h"
#include "extern.h"
#include "log.h"
#include "models.h"

#define MSG_NO_CREDITS	"Crédits insuffisants pour cette opération."
#define MSG_NO_USER	"Utilisateur introuvable"

/* Model recorded when neither the charge nor the hold names one. */
#define UNKNOWN_MODEL	"unknown"

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

enum rl_err
rl_credits_reserve(long long user_id, long long micro, const char *model,
    const char *request_id, const char *task_id, long long *hold_id,
    struct rl_error *e)
{
	struct rl_dbres	*r = NULL;
	char		 uid[32], amount[32];
	const char	*p[5];
	long long	 credits;
	enum rl_err	 err;
	int		 txn = 0;

	*hold_id = 0;
	if (micro <= 0)
		return rl_error_set(e, RL_EINVAL, "a hold must be positive");
	(void)snprintf(uid, sizeof(uid), "%lld", user_id);
	rl_micro_fmt(micro, amount, sizeof(amount));
	if ((err = rl_db_begin(e)) != RL_OK)
		goto out;
	txn = 1;
	if ((err = lock_user(uid, &credits, e)) != RL_OK)
		goto out;
	/* Cheap refusal before the sum: holds only lower what is left. */
	if (credits < micro) {
		err = rl_error_set(e, RL_ECREDITS, MSG_NO_CREDITS);
		goto out;
	}
	p[0] = uid;
	p[1] = amount;
	p[2] = model;
	p[3] = request_id;
	p[4] = task_id;
	if ((err = rl_db_exec("INSERT INTO credit_reservations (user_id, "
	    "amount, model, request_id, task_id) SELECT u.id, $2::numeric, "
	    "$3, $4, $5::uuid FROM users u WHERE u.id = $1::bigint AND "
	    "u.credits - (SELECT coalesce(sum(c.amount), 0) FROM "
	    "credit_reservations c WHERE c.user_id = u.id AND c.state = "
	    "'reserved') >= $2::numeric RETURNING id", 5, p, &r, e)) != RL_OK)
		goto out;
	if (rl_dbres_rows(r) == 0) {
		err = rl_error_set(e, RL_ECREDITS, MSG_NO_CREDITS);
		goto out;
	}
	*hold_id = strtoll(rl_dbres_get(r, 0, 0), NULL, 10);
	err = rl_db_commit(e);
	txn = 0;
	if (err != RL_OK)
		*hold_id = 0;
out:
	if (txn)
		rl_db_rollback();
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

enum rl_err
rl_credits_settle(long long hold_id, long long user_id,
    const struct rl_charge *ch, long long *charged_micro,
    struct rl_error *e)
{
	struct rl_dbres	*r = NULL, *w = NULL;
	char		 uid[32], hid[32], cost[32], delta[32], latency[32];
	char		 tin[32], tcached[32], tout[32], treason[32];
	const char	*p[17];
	long long	 credits, debit, in, cached, out, reason;
	enum rl_err	 err;
	int		 txn = 0;

	*charged_micro = 0;
	if (ch->cost_micro < 0 || !valid_status(ch->status))
		return rl_error_set(e, RL_EINVAL, "settlement of hold %lld: "
		    "bad cost or status", hold_id);
	(void)snprintf(uid, sizeof(uid), "%lld", user_id);
	(void)snprintf(hid, sizeof(hid), "%lld", hold_id);
	if ((err = rl_db_begin(e)) != RL_OK)
		goto out;
	txn = 1;
	if ((err = lock_user(uid, &credits, e)) != RL_OK)
		goto out;
	/*
	 * Then the hold: a second settlement (a retry after a lost answer)
	 * finds it settled and writes nothing.  A released hold with no
	 * ledger row is settled all the same: the call's outcome is known,
	 * and someone gave the hold back without it (the sweep, the rerun
	 * of a task whose lease lapsed while this settlement waited for the
	 * database).  The debit is capped at the balance as always.
	 */
	p[0] = hid;
	if ((err = rl_db_exec("SELECT user_id, state, model, task_id "
	    "FROM credit_reservations WHERE id = $1::bigint FOR UPDATE", 1, p,
	    &r, e)) != RL_OK)
		goto out;
	if (rl_dbres_rows(r) == 0 || strcmp(rl_dbres_get(r, 0, 0), uid) != 0) {
		err = rl_error_set(e, RL_ENOTFOUND, "no hold %lld for user "
		    "%lld", hold_id, user_id);
		goto out;
	}
	if (strcmp(rl_dbres_get(r, 0, 1), "settled") == 0) {
		err = rl_error_set(e, RL_ECONFLICT, "hold %lld is already %s",
		    hold_id, rl_dbres_get(r, 0, 1));
		goto out;
	}

	/* The balance never goes negative: a cost above it is capped. */
	debit = ch->cost_micro < credits ? ch->cost_micro : credits;
	in = nonneg(ch->usage.input_tokens);
	cached = nonneg(ch->usage.cached_tokens);
	out = nonneg(ch->usage.output_tokens);
	reason = nonneg(ch->usage.reasoning_tokens);
	/* The ledger's checks: cached within input, reasoning within out. */
	if (cached > in)
		cached = in;
	if (reason > out)
		reason = out;
	(void)snprintf(tin, sizeof(tin), "%lld", in);
	(void)snprintf(tcached, sizeof(tcached), "%lld", cached);
	(void)snprintf(tout, sizeof(tout), "%lld", out);
	(void)snprintf(treason, sizeof(treason), "%lld", reason);
	(void)snprintf(latency, sizeof(latency), "%lld",
	    ch->latency_ms < 0 ? 0 : ch->latency_ms > INT_MAX ? INT_MAX :
	    ch->latency_ms);
	rl_micro_fmt(ch->cost_micro, cost, sizeof(cost));
	rl_micro_fmt(-debit, delta, sizeof(delta));

	p[0] = uid;
	p[1] = hid;
	p[2] = ch->model != NULL ? ch->model : !rl_dbres_isnull(r, 0, 2) ?
	    rl_dbres_get(r, 0, 2) : UNKNOWN_MODEL;
	p[3] = ch->provider;
	p[4] = ch->feature;
	p[5] = ch->status;
	p[6] = tin;
	p[7] = tcached;
	p[8] = tout;
	p[9] = treason;
	p[10] = cost;
	p[11] = delta;
	p[12] = latency;
	p[13] = ch->request_id;
	p[14] = ch->upstream_request_id;
	p[15] = ch->upstream_response_id;
	p[16] = ch->task_id != NULL ? ch->task_id :
	    !rl_dbres_isnull(r, 0, 3) ? rl_dbres_get(r, 0, 3) : NULL;
	/*
	 * Debit, close the hold and write the ledger row in one statement.
	 * The hold is locked and not settled, so h has its row (and the
	 * unique reservation_id refuses a second ledger row); should it not,
	 * the
	 * insert returns nothing and everything is rolled back, because the
	 * debit alone would be money without a ledger row.  A task purged
	 * since the call started is recorded as no task rather than failing
	 * the settlement of money already spent.
	 */
	err = rl_db_exec("WITH u AS (UPDATE users SET credits = credits + "
	    "$12::numeric WHERE id = $1::bigint RETURNING credits), "
	    "h AS (UPDATE credit_reservations SET state = 'settled', "
	    "settled_at = now() WHERE id = $2::bigint AND state IN "
	    "('reserved', 'released') RETURNING id) "
	    "INSERT INTO usage_ledger (user_id, reservation_id, kind, model, "
	    "provider, feature, status, input_tokens, cached_input_tokens, "
	    "output_tokens, reasoning_tokens, cost, delta, balance_after, "
	    "latency_ms, request_id, upstream_request_id, "
	    "upstream_response_id, task_id) SELECT $1::bigint, h.id, "
	    "'openai_call', $3, $4, $5, $6, $7::bigint, $8::bigint, "
	    "$9::bigint, $10::bigint, $11::numeric, $12::numeric, u.credits, "
	    "$13::integer, $14, $15, $16, (SELECT t.id FROM tasks t WHERE "
	    "t.id = $17::uuid) FROM u, h RETURNING id",
	    17, p, &w, e);
	if (err != RL_OK)
		goto out;
	if (rl_dbres_rows(w) != 1) {
		err = rl_error_set(e, RL_EINTERNAL, "hold %lld: ledger row not "
		    "written", hold_id);
		goto out;
	}
	if ((err = rl_db_commit(e)) == RL_OK)
		*charged_micro = debit;
	txn = 0;
out:
	if (txn)
		rl_db_rollback();
	rl_dbres_free(r);
	rl_dbres_free(w);
	return err;
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
	/* One statement: no user lock needed, the balance does not change. */
	if ((err = rl_db_exec("UPDATE credit_reservations SET state = "
	    "'released', settled_at = now() WHERE id = $1::bigint AND "
	    "state = 'reserved'", 1, p, &r, e)) != RL_OK)
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
rl_credits_sweep(int max_age_sec, long long *released, struct rl_error *e)
{
	struct rl_dbres	*r = NULL;
	char		 age[32], grace[32];
	const char	*p[2];
	enum rl_err	 err;

	*released = 0;
	if (max_age_sec < 0)
		return rl_error_set(e, RL_EINVAL, "sweep: negative age");
	(void)snprintf(age, sizeof(age), "%d", max_age_sec);
	p[0] = age;
	(void)snprintf(grace, sizeof(grace), "%d", RL_CREDITS_TASK_GRACE_SEC);
	p[1] = grace;
	/*
	 * A settlement holding one of these rows makes this wait, then skip
	 * it (its state is no longer 'reserved'): never both.  A hold that
	 * belongs to a task still queued or running is not stale, however
	 * old: an async job holds its credits from the moment it is queued.
	 * A hold of a task that ended is: whoever ran the task is done with
	 * it or dead, so after a grace (a queued settlement of a live
	 * process lands well within it) it goes back; a settlement that
	 * still comes lands on the released hold (rl_credits_settle).
	 */
	if ((err = rl_db_exec("UPDATE credit_reservations cr SET state = "
	    "'released', settled_at = now() WHERE cr.state = 'reserved' AND "
	    "((cr.created_at < now() - make_interval(secs => $1::integer) AND "
	    "NOT EXISTS (SELECT 1 FROM tasks t WHERE t.id = cr.task_id AND "
	    "t.state IN ('PENDING', 'STARTED', 'PROGRESS'))) OR "
	    "EXISTS (SELECT 1 FROM tasks t WHERE t.id = cr.task_id AND "
	    "t.state IN ('SUCCESS', 'FAILURE', 'REVOKED') AND "
	    "t.finished_at < now() - make_interval(secs => $2::integer)))",
	    2, p, &r, e)) != RL_OK)
		return err;
	*released = rl_dbres_affected(r);
	rl_dbres_free(r);
	return RL_OK;
}

/*
 * An admin's top-up or withdrawal.  Unlike reserve and settle this runs
 * in the caller's transaction: the settings program writes an audit row
 * naming the change, and both commit or neither.  The user row is locked
 * first, as everywhere here.  Open holds are not counted: a withdrawal
 * may leave less than they reserved, and their settlements are capped at
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
 * The retry queue.  One list per process, FIFO; one thread, started with
 * the first queued write, runs the head until it lands or is refused for
 * good, then the next.  While the database is away every write fails the
 * same way, so only the head is tried, with a backoff from
 * RL_CREDITS_RETRY_MIN_MS doubling to RL_CREDITS_RETRY_MAX_MS.  Writes
 * run in queue order, which keeps a user's ledger rows in call order.
 */
struct later {
	struct later		*next;
	char			 what[96];
	rl_credits_later_fn	 fn;
	void			*arg;
	void			(*freefn)(void *);
	long long		 since_us;
	int			 tries;
};

static pthread_mutex_t	 later_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 later_cv;	/* queued, or the queue emptied */
static pthread_cond_t	 later_nap;	/* the backoff's sleep */
static pthread_once_t	 later_once = PTHREAD_ONCE_INIT;
static struct later	*later_head, *later_tail;
static size_t		 later_n;
static int		 later_thread;	/* the drainer runs */

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

static void *
drainer(void *arg)
{
	struct timespec	 until;
	struct rl_error	 e;
	struct later	*l;
	enum rl_err	 err;
	long		 wait;

	(void)arg;
	for (;;) {
		pthread_mutex_lock(&later_mu);
		while (later_head == NULL)
			pthread_cond_wait(&later_cv, &later_mu);
		l = later_head;
		pthread_mutex_unlock(&later_mu);

		rl_error_clear(&e);
		err = l->fn(l->arg, &e);
		/* Give back the connection a failed transaction pinned. */
		rl_db_request_end();
		if (rl_credits_retryable(err, &e)) {
			if (l->tries++ % 20 == 0)
				rl_log_warn("%s: not yet (%s), try %d, "
				    "retrying", l->what, e.msg, l->tries);
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
		if (err == RL_OK)
			rl_log_info("%s: landed at retry %d, %lld ms late",
			    l->what, l->tries + 1,
			    (rl_now_us() - l->since_us) / 1000);
		else
			rl_log_error("%s: refused for good after %d retries: "
			    "%s", l->what, l->tries + 1, e.msg);
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
	    "(the sweep releases their holds)", n);
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

enum rl_err
rl_credits_later(const char *what, rl_credits_later_fn fn, void *arg,
    void (*freefn)(void *), struct rl_error *e)
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
	pthread_cond_broadcast(&later_cv);
	pthread_mutex_unlock(&later_mu);
	return RL_OK;
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

/* A settlement waiting in the queue: the charge and its strings, owned. */
struct settle_job {
	long long		 hold_id;
	long long		 user_id;
	struct rl_charge	 ch;
	char			*s[8];
};

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

	err = rl_credits_settle(j->hold_id, j->user_id, &j->ch, &charged, e);
	/*
	 * Already settled: the first try's commit landed and only its answer
	 * was lost.  That is the write done, not a refusal.
	 */
	if (err == RL_ECONFLICT && strstr(e->msg, "already settled") != NULL)
		err = RL_OK;
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
	if (!rl_credits_retryable(err, e))
		return err;
	if ((j = calloc(1, sizeof(*j))) == NULL)
		return err;
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
		return err;
	}
	(void)snprintf(what, sizeof(what), "settlement of hold %lld (user "
	    "%lld, %lld micro-USD)", hold_id, user_id, ch->cost_micro);
	rl_log_warn("%s failed: %s; queued for retry", what, e->msg);
	if (rl_credits_later(what, settle_job_run, j, settle_job_free,
	    e) != RL_OK)
		return err;
	*queued = 1;
	rl_error_clear(e);
	return RL_OK;
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
 * The holds a task still has open are nobody's to settle: a task revoked
 * before it ran never called (an async chat job reserves when queued), a
 * dead attempt's call died with its worker.  Left alone they would block
 * the user's money until the sweep.  Each release is sure: a database
 * away now queues it rather than losing it.
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
