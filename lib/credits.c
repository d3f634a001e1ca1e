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
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "credits.h"
#include "db.h"
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
	 * or a settlement racing the sweep finds it closed and writes
	 * nothing.
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
	if (strcmp(rl_dbres_get(r, 0, 1), "reserved") != 0) {
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
	 * The hold is locked and open, so h has its row; should it not, the
	 * insert returns nothing and everything is rolled back, because the
	 * debit alone would be money without a ledger row.  A task purged
	 * since the call started is recorded as no task rather than failing
	 * the settlement of money already spent.
	 */
	err = rl_db_exec("WITH u AS (UPDATE users SET credits = credits + "
	    "$12::numeric WHERE id = $1::bigint RETURNING credits), "
	    "h AS (UPDATE credit_reservations SET state = 'settled', "
	    "settled_at = now() WHERE id = $2::bigint AND state = 'reserved' "
	    "RETURNING id) "
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
	char		 age[32];
	const char	*p[1];
	enum rl_err	 err;

	*released = 0;
	if (max_age_sec < 0)
		return rl_error_set(e, RL_EINVAL, "sweep: negative age");
	(void)snprintf(age, sizeof(age), "%d", max_age_sec);
	p[0] = age;
	/*
	 * A settlement holding one of these rows makes this wait, then skip
	 * it (its state is no longer 'reserved'): never both.  A hold that
	 * belongs to a task still queued or running is not stale, however
	 * old: an async job holds its credits from the moment it is queued.
	 */
	if ((err = rl_db_exec("UPDATE credit_reservations cr SET state = "
	    "'released', settled_at = now() WHERE cr.state = 'reserved' AND "
	    "cr.created_at < now() - make_interval(secs => $1::integer) AND "
	    "NOT EXISTS (SELECT 1 FROM tasks t WHERE t.id = cr.task_id AND "
	    "t.state IN ('PENDING', 'STARTED', 'PROGRESS'))", 1, p,
	    &r, e)) != RL_OK)
		return err;
	*released = rl_dbres_affected(r);
	rl_dbres_free(r);
	return RL_OK;
}
