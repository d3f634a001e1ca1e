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

/* RL_ECREDITS when available (credits - open holds) < amount. */
enum rl_err	 rl_credits_reserve(long long user_id, long long micro,
		    const char *model, const char *request_id,
		    const char *task_id, long long *hold_id,
		    struct rl_error *);
/* Debit min(cost, balance), write the ledger row, close the hold. */
enum rl_err	 rl_credits_settle(long long hold_id, long long user_id,
		    const struct rl_charge *, long long *charged_micro,
		    struct rl_error *);
enum rl_err	 rl_credits_release(long long hold_id, struct rl_error *);
/* Release holds older than max_age_sec (a crashed process's). */
enum rl_err	 rl_credits_sweep(int max_age_sec, long long *released,
		    struct rl_error *);

#endif
