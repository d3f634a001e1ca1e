/*
 * ai.c: reserve -> call -> settle around one upstream call.  See ai.h and
 * docs/internals/ai.md.
 */
#include "config.h"

#include <string.h>

#include "ai.h"
#include "credits.h"
#include "crypto.h"
#include "log.h"
#include "metrics.h"
#include "openai.h"

/*
 * Input the request carries outside its messages: tool definitions and
 * output schemas are billed as input too.  Their serialised bytes bound
 * their tokens, as rl_oa_tokens_bound does for the text.
 */
static long long
schema_bytes(const json_t *body)
{
	static const char *const keys[] = {
		"tools", "functions", "response_format", "text"
	};
	long long	 n = 0;
	size_t		 i;
	json_t		*v;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if ((v = json_object_get(body, keys[i])) != NULL)
			n += (long long)json_dumpb(v, NULL, 0, JSON_COMPACT);
	return n;
}

/*
 * The most a call can cost: every input token the request can hold (an
 * upper bound, bytes of its text and schemas) plus the output cap, at
 * full price.  At least one micro-dollar, so that every call holds
 * something.
 */
long long
rl_ai_bound(const struct rl_model *m, const json_t *body, long long max_output)
{
	long long	 b;

	b = rl_cost_bound(m, rl_oa_tokens_bound(body) + schema_bytes(body),
	    max_output);
	return b < 1 ? 1 : b;
}

enum rl_err
rl_ai_reserve(long long user_id, const struct rl_model *m, long long bound,
    const char *request_id, const char *task_id, long long *hold_id,
    struct rl_error *e)
{

	return rl_credits_reserve(user_id, bound, m->name, request_id,
	    task_id, hold_id, e);
}

/* What the ledger says about a call that returned err. */
static const char *
outcome(const struct rl_oa_call *c, enum rl_err err)
{

	if (err == RL_OK)
		return "ok";
	/* A call stopped by a cancel or a client gone is billed as begun. */
	if (c->started || c->stopped || c->usage.output_tokens > 0)
		return "partial";
	return "failed";
}

/*
 * Did the call reach the upstream at all?  Nothing to bill (and no ledger
 * row) when it was refused before connecting: bad URL, no key.
 */
static int
reached(const struct rl_oa_call *c)
{

	return c->status != 0 || c->started || c->attempts > 0;
}

enum rl_err
rl_ai_call(struct rl_ai *ai, struct rl_error *e)
{
	struct rl_upstream_buf	 ub;
	struct rl_charge	 ch;
	struct rl_error		 se;
	enum rl_err		 err, serr;
	long long		 hold = ai->hold_id;

	memset(&ub, 0, sizeof(ub));
	if ((err = rl_model_upstream(ai->model, ai->user_id, &ub, e)) != RL_OK)
		goto out;
	if (hold == 0) {
		ai->bound_micro = rl_ai_bound(ai->model, ai->call.body,
		    ai->max_output);
		if ((err = rl_ai_reserve(ai->user_id, ai->model,
		    ai->bound_micro, ai->request_id, ai->task_id, &hold,
		    e)) != RL_OK)
			goto out;
	}

	rl_metrics_upstream_begin();	/* Server-Timing's upstream */
	err = rl_oa_call(&ub.up, &ai->call, e);
	rl_metrics_upstream_end();

	if (!reached(&ai->call))
		goto out;
	ai->cost_micro = rl_cost_micro(ai->model, &ai->call.usage, 0);
	/* The request's log line adds up what its calls took and cost. */
	rl_log_upstream(ai->model->name, ai->call.status, err != RL_OK,
	    ai->call.latency_ms * 1000, ai->call.usage.input_tokens,
	    ai->call.usage.output_tokens, ai->cost_micro);
	memset(&ch, 0, sizeof(ch));
	ch.model = ai->model->name;
	ch.provider = ub.name;
	ch.feature = ai->feature;
	ch.request_id = ai->request_id;
	ch.upstream_request_id = ai->call.request_id[0] != '\0' ?
	    ai->call.request_id : NULL;
	ch.upstream_response_id = ai->call.response_id[0] != '\0' ?
	    ai->call.response_id : NULL;
	ch.task_id = ai->task_id;
	ch.status = outcome(&ai->call, err);
	ch.usage = ai->call.usage;
	ch.cost_micro = ai->cost_micro;
	ch.latency_ms = ai->call.latency_ms;
	/*
	 * The upstream has been paid whatever happens next, so the ledger
	 * row must be written: a settlement that fails because the database
	 * is away is queued and retried until it lands (credits.md), and
	 * the caller gets its answer.  A caller that answers a client asks
	 * for it later: the queue writes it while the answer goes out, and
	 * the hold keeps the money out of reach until then.  Other failures
	 * (a hold gone, a bug) are logged loudly.
	 */
	if (ai->later)
		serr = rl_credits_settle_later(hold, ai->user_id, &ch,
		    &ai->charged_micro, &ai->queued, &se);
	else
		serr = rl_credits_settle_sure(hold, ai->user_id, &ch,
		    &ai->charged_micro, &ai->queued, &se);
	if (serr != RL_OK) {
		rl_log_error("settlement of hold %lld (user %lld, %lld "
		    "micro-USD) failed: %s", hold, ai->user_id,
		    ai->cost_micro, se.msg);
		if (err == RL_OK)
			err = rl_error_set(e, serr, "%s", se.msg);
	} else
		ai->settled = 1;
	hold = 0;
out:
	/* A hold still open here paid for nothing: give it back. */
	if (hold != 0)
		rl_credits_release_sure(hold);
	ai->hold_id = 0;
	rl_wipe(ub.api_key, sizeof(ub.api_key));
	return err;
}

void
rl_ai_free(struct rl_ai *ai)
{

	rl_oa_call_free(&ai->call);
}
