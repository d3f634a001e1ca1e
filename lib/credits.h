/*
 * credits.h: money around an upstream call.  Reserve the highest possible
 * cost before calling, settle the real cost afterwards (one usage_ledger row
 * per call, also for failed and partial calls), release a reservation when
 * nothing was called.  Amounts are micro-USD.  A user's balance never goes
 * negative and the ledger's costs sum to what the balances lost.
 */
#ifndef RL_CREDITS_H
#define RL_CREDITS_H

#include "relais.h"
#include "openai.h"

/* What a settled call was; strings may be NULL. */
struct rl_charge {
	const char	*model;
	const char	*provider;
	const char	*feature;	/* "ai_openai.chat", "chat", ... */
	const char	*request_id;	/* ours */
	const char	*upstream_request_id;
	const char	*upstream_response_id;
	const char	*task_id;	/* uuid text or NULL */
	const char	*status;	/* "ok", "failed", "partial" */
	struct rl_usage	 usage;
	long long	 cost_micro;	/* at our prices */
	long long	 latency_ms;
};

/*
 * RL_ECREDITS when available (credits - held, the open holds) < amount.
 * One statement: one round trip before the call; none when a standing
 * hold of the user's covers it (RELAIS_CREDITS_SPARES, credits.md).
 */
enum rl_err	 rl_credits_reserve(long long user_id, long long micro,
		    const char *model, const char *request_id,
		    const char *task_id, long long *hold_id,
		    struct rl_error *);
/*
 * rl_credits_reserve, and a read of the caller's in the same statement
 * (the same round trip): read is a constant SQL query over $1, the user's
 * id, returning one value (chat's thread: its previous response id, the
 * history to replay).  *value is that value as a new string (free(3)), or
 * NULL for SQL NULL; both *hold_id and *value are unset unless RL_OK.  The
 * read sees the database as the statement began.  When a standing hold
 * covers the call, the read runs alone (it writes nothing).
 */
enum rl_err	 rl_credits_reserve_read(long long user_id, long long micro,
		    const char *model, const char *request_id,
		    const char *read, long long *hold_id, char **value,
		    struct rl_error *);
/* Debit min(cost, balance), write the ledger row, close the hold. */
enum rl_err	 rl_credits_settle(long long hold_id, long long user_id,
		    const struct rl_charge *, long long *charged_micro,
		    struct rl_error *);
enum rl_err	 rl_credits_release(long long hold_id, struct rl_error *);
/*
 * Close the holds nobody will close: older than max_age_sec and owned by
 * no live task (a dead process's), or of a task finished
 * RL_CREDITS_TASK_GRACE_SEC ago.  Each is settled at its reserved amount
 * (ledger status "lost"): the call may have been made, its outcome died
 * with the process.  Only the hold of a task that never ran is released.
 * *closed how many.
 */
enum rl_err	 rl_credits_sweep(int max_age_sec, long long *closed,
		    struct rl_error *);
/*
 * An admin's change of a balance: delta > 0 credits, < 0 debits, with one
 * usage_ledger row (admin_credit or admin_debit, actor, request id).  In
 * the caller's transaction (rl_db_begin), which commits or rolls back, so
 * that an audit row naming the change commits with it.  *before and *after
 * the balance around it.  RL_ENOTFOUND for no such user, RL_ECREDITS when
 * the balance would go negative (nothing written).
 */
enum rl_err	 rl_credits_adjust(long long user_id, long long delta_micro,
		    long long actor_id, const char *request_id,
		    long long *before, long long *after, struct rl_error *);
/*
 * The hold becomes the task's (task_id a uuid): the sweep leaves it while
 * the task is queued or running.  In the caller's transaction when one
 * is open, so a hold and the task it pays for commit together.
 */
enum rl_err	 rl_credits_attach_task(long long hold_id, const char *task_id,
		    struct rl_error *);

/*
 * Writes that must land.  A settlement or release that failed because the
 * database was away is queued in this process and retried by one
 * background thread, with backoff, until it lands or is refused for good.
 * Settle and release are idempotent by hold id (a closed hold is
 * RL_ECONFLICT and nothing is written), so retrying a write whose commit
 * did land, answer lost, changes nothing.  See credits.md.
 */
typedef enum rl_err	(*rl_credits_later_fn)(void *, struct rl_error *);

/* Is err (with e's SQLSTATE) the database being away, worth a retry? */
int		 rl_credits_retryable(enum rl_err, const struct rl_error *);
/*
 * Queue fn(arg) to be run until it returns something not retryable; what
 * names it in logs; freefn(arg) after.  RL_EUNAVAIL (and freefn(arg) at
 * once) when RL_CREDITS_RETRY_QUEUE_MAX writes are already waiting.
 */
enum rl_err	 rl_credits_later(const char *what, rl_credits_later_fn,
		    void *arg, void (*freefn)(void *), struct rl_error *);
/*
 * Settle now or, when the database is away, queue the settlement (the
 * charge is copied): RL_OK with *queued 1.  Other errors as settle.
 */
enum rl_err	 rl_credits_settle_sure(long long hold_id, long long user_id,
		    const struct rl_charge *, long long *charged_micro,
		    int *queued, struct rl_error *);
/*
 * Settle after the answer: the charge is copied and queued, and the
 * queue's thread writes it (several in one transaction) while the caller
 * answers; RL_OK with *queued 1 and *charged_micro 0.  The hold keeps the
 * money out of reach until then.  When the queue is behind (more than a
 * few groups waiting) or cannot take it, as rl_credits_settle_sure.
 */
enum rl_err	 rl_credits_settle_later(long long hold_id, long long user_id,
		    const struct rl_charge *, long long *charged_micro,
		    int *queued, struct rl_error *);
/* Release now or queue it; a hold already closed is fine.  Logs. */
void		 rl_credits_release_sure(long long hold_id);
/*
 * FastCGI start-up (fcgi.c), before the threads: give back the standing
 * holds that dead processes on this host still listed as undrawn (files
 * under RELAIS_TMPDIR/spares), then, when RELAIS_CREDITS_SPARES asks for
 * them, make this process's own table.  Without it no spare is taken.
 */
void		 rl_credits_spares_start(const char *prog);
/*
 * Give back every open hold of a task revoked before it ran, each as
 * rl_credits_release_sure; *n how many.  An error only when the holds
 * could not be read: the sweep releases them later.
 */
enum rl_err	 rl_credits_release_task(const char *task_id, int *n,
		    struct rl_error *);
/*
 * A dead attempt's open hold (its process died mid-call), settled at its
 * reserved amount with a 'lost' ledger row, as the sweep does; a hold
 * closed meanwhile is left alone (RL_OK, *charged 0).  For a task, every
 * open hold of the task, *n how many; those that could not be written are
 * logged and left to the sweep.
 */
enum rl_err	 rl_credits_settle_dead(long long hold_id, const char *task_id,
		    long long *charged_micro, struct rl_error *);
enum rl_err	 rl_credits_settle_task(const char *task_id, int *n,
		    struct rl_error *);
/* Writes waiting in this process's queue (running one included). */
size_t		 rl_credits_pending(void);
/* Wait up to ms for the queue to empty; 0 when it did, else -1. */
int		 rl_credits_drain(long ms);

/*
 * Money writes since the process started, by how they were written: an
 * operator sees on /metrics whether the group statements carry the load,
 * and the tests that their concurrency reached them.
 */
struct rl_credits_stats {
	long long	 reserved_alone;	/* a statement of its own */
	long long	 reserved_grouped;	/* a group of two or more */
	long long	 reserved_spare;	/* a standing hold drawn */
	long long	 settled_grouped;	/* the queue, a group */
	long long	 settled_queued;	/* the queue, one at a time */
	long long	 settled_inline;	/* the caller's own thread */
};

void		 rl_credits_stats(struct rl_credits_stats *);

#endif
