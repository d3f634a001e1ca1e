/*
 * ai.h: a paid upstream call.  Every feature that calls a model goes
 * through rl_ai_call(), which is where money meets the upstream:
 *
 *	resolve the upstream and key of the model (user key, then institution)
 *	reserve the highest cost the call can have  (or use a hold taken
 *	    earlier, e.g. when an async job was queued)
 *	call                                        (lib/openai.c)
 *	settle the real cost, one ledger row         (lib/credits.c)
 *	    (or, with later set, queue that settlement so that the
 *	    caller's answer does not wait for it)
 *
 * The ledger row is written for failed and partial calls too; a call that
 * never reached the upstream releases its hold instead.  Either way the
 * hold is consumed: after rl_ai_call() no reservation of the call is open,
 * or its settlement (release) is queued to be retried until it lands
 * because the database was away (credits.h).
 */
#ifndef RL_AI_H
#define RL_AI_H

#include "relais.h"
#include "models.h"
#include "openai.h"

/*
 * How a call is priced: what it reserves before and what it costs after.
 * Text is tokens at the model's prices (rl_ai_bound, rl_cost_micro); a
 * transcription is minutes of audio, or audio and text tokens for the
 * gpt-4o transcribe family, reserved on the duration its container
 * declares and settled on what the answer reports.
 */
enum rl_ai_kind {
	RL_AI_TEXT = 0,
	RL_AI_AUDIO
};

/* RL_AI_AUDIO: the recording and its model's audio prices. */
struct rl_ai_audio {
	long long		 ms;		/* the declared duration */
	long long		 minute_price;	/* micro-USD per minute */
	long long		 token_price;	/* per 1M audio input tokens,
						   -1: priced per minute */
};

struct rl_ai {
	/* In. */
	long long		 user_id;
	const char		*feature;	/* ledger feature */
	const char		*request_id;	/* ours, or NULL */
	const char		*task_id;	/* uuid or NULL */
	const struct rl_model	*model;
	const char		*provider;	/* NULL: the model's; else
						   this one, even disabled
						   (an admin's test) */
	long long		 max_output;	/* output cap sent upstream */
	long long		 hold_id;	/* 0: reserve here */
	int			 later;		/* settle after the answer:
						   queued, off the request's
						   path (credits.h) */
	enum rl_ai_kind		 kind;
	struct rl_ai_audio	 audio;		/* RL_AI_AUDIO */
	struct rl_oa_call	 call;		/* what to send; answer */

	/* Out. */
	long long		 bound_micro;	/* what was reserved */
	long long		 cost_micro;	/* at our prices */
	long long		 charged_micro;	/* taken from the balance (0
						   when queued) */
	int			 settled;	/* a ledger row exists, or is
						   queued (queued is 1) */
	int			 queued;	/* settlement retried later */
};

long long	 rl_ai_bound(const struct rl_model *, const json_t *body,
		    long long max_output);
enum rl_err	 rl_ai_reserve(long long user_id, const struct rl_model *,
		    long long bound, const char *request_id,
		    const char *task_id, long long *hold_id,
		    struct rl_error *);
enum rl_err	 rl_ai_call(struct rl_ai *, struct rl_error *);
void		 rl_ai_free(struct rl_ai *);

#endif
