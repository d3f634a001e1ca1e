/*
 * ai.c: reserve -> call -> settle around one upstream call.  See ai.h and
 * docs/internals/ai.md.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "ai.h"
#include "bounds.h"
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

/* ceil(a * b / d) for the non-negative amounts of the audio prices. */
static long long
muldiv_ceil(long long a, long long b, long long d)
{
	__extension__ unsigned __int128	 n;

	if (a <= 0 || b <= 0)
		return 0;
	n = (unsigned __int128)a * (unsigned __int128)b;
	return (long long)((n + (unsigned __int128)d - 1) / d);
}

/*
 * A transcription's hold: the declared duration at the minute price for
 * a model billed by duration; for a token-billed one, the most tokens
 * that much audio can make (RL_AUDIO_TOKENS_PER_SEC in,
 * RL_AUDIO_TEXT_TOKENS_PER_SEC out plus RL_AUDIO_TEXT_TOKENS_MIN), at
 * its prices.  At least one micro-dollar.
 */
static long long
audio_bound(const struct rl_ai *ai)
{
	const struct rl_ai_audio	*a = &ai->audio;
	long long			 b, sec;

	/* Whole seconds: whisper-1 reports (and bills) them rounded up. */
	sec = (a->ms + 999) / 1000;
	if (a->token_price < 0)
		b = muldiv_ceil(sec, a->minute_price, 60);
	else
		b = muldiv_ceil(sec * RL_AUDIO_TOKENS_PER_SEC, a->token_price,
		    1000000) + muldiv_ceil(sec * RL_AUDIO_TEXT_TOKENS_PER_SEC +
		    RL_AUDIO_TEXT_TOKENS_MIN, ai->model->price_out, 1000000);
	return b < 1 ? 1 : b;
}

/*
 * A transcription's cost, from what the answer reports: {type:
 * "duration", seconds} at the minute price; {type: "tokens",
 * input_tokens, output_tokens, input_token_details: {audio_tokens,
 * text_tokens}} at the token prices (without details every input token
 * counts as audio).  A good answer without usage: the declared duration
 * at the minute price (what OpenAI lists as the model's estimate).  The
 * call's usage becomes what was billed, for the ledger.
 */
static long long
audio_cost(struct rl_ai *ai, int ok)
{
	const struct rl_ai_audio	*a = &ai->audio;
	struct rl_usage			*u = &ai->call.usage;
	const json_t			*us, *det;
	const char			*type;
	long long			 audio, text, ms;
	double				 sec;

	memset(u, 0, sizeof(*u));
	us = json_object_get(ai->call.answer, "usage");
	type = json_string_value(json_object_get(us, "type"));
	if (type != NULL && strcmp(type, "duration") == 0 &&
	    json_is_number(json_object_get(us, "seconds"))) {
		sec = json_number_value(json_object_get(us, "seconds"));
		ms = sec > 0 && sec < RL_AUDIO_SECONDS_MAX ?
		    (long long)ceil(sec * 1000) : 0;
		u->reported = 1;
		return muldiv_ceil(ms, a->minute_price, 60000);
	}
	if (type != NULL && strcmp(type, "tokens") == 0) {
		u->input_tokens = json_integer_value(json_object_get(us,
		    "input_tokens"));
		u->output_tokens = json_integer_value(json_object_get(us,
		    "output_tokens"));
		det = json_object_get(us, "input_token_details");
		audio = json_integer_value(json_object_get(det,
		    "audio_tokens"));
		text = json_integer_value(json_object_get(det, "text_tokens"));
		if (det == NULL)
			audio = u->input_tokens, text = 0;
		u->reported = 1;
		return muldiv_ceil(audio, a->token_price >= 0 ?
		    a->token_price : ai->model->price_in, 1000000) +
		    muldiv_ceil(text, ai->model->price_in, 1000000) +
		    muldiv_ceil(u->output_tokens, ai->model->price_out,
		    1000000);
	}
	return ok ? muldiv_ceil(a->ms, a->minute_price, 60000) : 0;
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
	if ((err = ai->provider != NULL ? rl_provider_upstream(ai->provider,
	    &ub, e) : rl_model_upstream(ai->model, ai->user_id, &ub, e)) !=
	    RL_OK)
		goto out;
	if (hold == 0) {
		ai->bound_micro = ai->kind == RL_AI_AUDIO ? audio_bound(ai) :
		    rl_ai_bound(ai->model, ai->call.body, ai->max_output);
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
	ai->cost_micro = ai->kind == RL_AI_AUDIO ? audio_cost(ai, err ==
	    RL_OK) : rl_cost_micro(ai->model, &ai->call.usage, 0);
	/* The request's log line adds up what its calls took and cost. */
	rl_log_upstream(ai->model->name, ai->call.status, err != RL_OK,
	    ai->call.latency_us, ai->call.usage.input_tokens,
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
