/*
 * gen.h: one model generation for an EDxo feature, through the Responses
 * API.  Every plan-de-cours, evaluation, import and plan-cadre feature
 * calls rl_gen_run() and nothing else upstream, so that each of them gets
 * the same behaviour for free:
 *
 *	resolve the model (rl_model_lookup) and build the request: system
 *	    instructions, the user prompt, an optional uploaded file
 *	    (input_file), text.format json_schema (strict) when a schema is
 *	    given, reasoning {effort, summary:"auto"} and text.verbosity for
 *	    the models that take them
 *	pay for it: rl_ai_call (reserve, call, settle one ledger row)
 *	stream: when a task is given, publish meta.stream_buffer (the text so
 *	    far) and meta.reasoning_summary (cumulative) at most every
 *	    RL_GEN_PUBLISH_MS, and stop the transfer at once when the task is
 *	    cancelled (the usage so far is still billed)
 *	refuse what must not be written: a refusal, a cut answer (status
 *	    incomplete / max_output_tokens), text that is not JSON, JSON that
 *	    does not validate against the schema
 *	when the answer does not validate, ask once more with the
 *	    Pydantic-style errors attached (RL_GEN_MAX_CALLS calls at most),
 *	    then fail cleanly
 *
 * Errors (e->msg in French, for the task's message or the sync answer):
 * RL_ECREDITS, RL_EFORBIDDEN (no key: "Clé OpenAI non configurée."),
 * RL_EUPSTREAM (upstream error, refusal, cut answer, invalid answer),
 * RL_ETIMEOUT, RL_EGONE (cancelled), RL_EDB.
 */
#ifndef RL_GEN_H
#define RL_GEN_H

#include <jansson.h>

#include "relais.h"
#include "openai.h"

struct rl_schema;
struct rl_task;

/* Throttle for meta updates while streaming. */
#define RL_GEN_PUBLISH_MS	150
/* One call, plus one more when the answer does not validate. */
#define RL_GEN_MAX_CALLS	2

struct rl_gen {
	/* In. */
	long long		 user_id;
	const char		*feature;	/* ledger feature */
	const char		*request_id;	/* ours, or NULL */
	struct rl_task		*task;		/* NULL: synchronous call */
	const char		*message;	/* meta.message while it runs;
						   NULL: "Appel au modèle IA
						   en cours..." */
	const char		*model;		/* NULL: "gpt-5" */
	const char		*effort;	/* reasoning effort or NULL */
	const char		*verbosity;	/* low|medium|high or NULL */
	const char		*system;	/* instructions or NULL */
	const char		*prompt;	/* the user message */
	const char		*file_id;	/* uploaded file (input_file) */
	/*
	 * Structured output.  schema validates the answer (lax, coercions
	 * and defaults applied to result); schema_json is what is sent as
	 * text.format.schema (NULL: rl_schema_json(schema)); name is
	 * text.format.name.  schema NULL: a free-text answer.
	 */
	const struct rl_schema	*schema;
	const json_t		*schema_json;
	const char		*name;
	int			 strict;	/* text.format.strict */
	long long		 max_output;	/* 0: the model's default cap */

	/* Out; rl_gen_free releases them. */
	json_t			*result;	/* validated value (schema) */
	char			*text;		/* the answer's output text */
	char			*reasoning;	/* reasoning summary or NULL */
	json_t			*errors;	/* Pydantic errors of the last
						   invalid answer, or NULL */
	struct rl_usage		 usage;		/* summed over the calls */
	long long		 cost_micro;	/* summed, micro-USD */
	int			 calls;		/* upstream calls made */
	char			 response_id[96];	/* last one */
};

enum rl_err	 rl_gen_run(struct rl_gen *, struct rl_error *);
void		 rl_gen_free(struct rl_gen *);

/*
 * usage as EDxo's results carry it: {input_tokens, output_tokens, cost
 * (USD, 6 decimals, as a number), model}.  A new reference.
 */
json_t		*rl_gen_usage_json(const struct rl_gen *);

#endif
