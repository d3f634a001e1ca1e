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
 * RL_ECREDITS, RL_ENOKEY (no key: "Clé OpenAI non configurée."),
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
/* The model when the caller names none (EDxo's default). */
#define RL_GEN_DEFAULT_MODEL	"gpt-5"
/*
 * Output cap when the caller gives none (max_output 0), clamped to the
 * model's hard cap.  The largest EDxo answer (a whole plan de cours,
 * BulkPlanDeCoursResponse) plus a reasoning model's thinking fits well
 * under it, and it bounds what one call holds: 16k tokens at gpt-5's
 * output price is about 0.16 USD.
 */
#define RL_GEN_MAX_OUTPUT	16000
/*
 * The errors attached to the second call: at most RL_GEN_ERRORS_MAX of
 * them (Pydantic lists every one; a model needs the first few), each
 * input shown in at most RL_GEN_INPUT_SHOWN bytes, each line at most
 * RL_GEN_ERRLINE_MAX bytes.  A text that is not JSON is kept in the error
 * (g->errors) up to RL_GEN_INPUT_KEPT bytes.
 */
#define RL_GEN_ERRORS_MAX	20
#define RL_GEN_INPUT_SHOWN	120
#define RL_GEN_ERRLINE_MAX	512
#define RL_GEN_INPUT_KEPT	4096
/* What the second call says before the errors. */
#define RL_GEN_RETRY_PROMPT	"Ta réponse précédente ne respecte pas le " \
	"schéma JSON demandé. Corrige-la et renvoie uniquement un JSON " \
	"conforme au schéma. Erreurs de validation (Pydantic) :"

struct rl_gen {
	/* In. */
	long long		 user_id;
	const char		*feature;	/* ledger feature */
	const char		*request_id;	/* ours, or NULL */
	struct rl_task		*task;		/* NULL: synchronous call */
	const char		*message;	/* meta.message while it runs;
						   NULL: "Appel au modèle IA
						   en cours..." */
	/*
	 * model, effort, verbosity, system and name: NULL or "" (a setting
	 * left empty) both mean "not set".
	 */
	const char		*model;		/* NULL: RL_GEN_DEFAULT_MODEL */
	const char		*effort;	/* reasoning effort or NULL */
	const char		*verbosity;	/* low|medium|high or NULL */
	const char		*system;	/* instructions or NULL */
	const char		*prompt;	/* the user message */
	const char		*file_id;	/* uploaded file (input_file) */
	const char		*file_url;	/* or a file the provider
						   fetches (input_file) */
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
	long long		 max_output;	/* 0: RL_GEN_MAX_OUTPUT */

	/* Out; rl_gen_free releases them. */
	json_t			*result;	/* validated value (schema) */
	char			*text;		/* the answer's output text */
	char			*reasoning;	/* reasoning summary or NULL */
	json_t			*errors;	/* Pydantic errors of the last
						   invalid answer when the run
						   failed on it, or NULL */
	struct rl_usage		 usage;		/* summed over the calls */
	long long		 cost_micro;	/* summed, micro-USD */
	int			 calls;		/* upstream calls made */
	char			 response_id[96];	/* last one */
	char			 model_name[64];	/* the model used */
};

/*
 * Every call streams (one code path; a task sees its text grow).  On
 * success, g->result (schema) or g->text holds the answer.  Whatever the
 * outcome, usage, cost_micro, calls, response_id, text and reasoning say
 * what happened; call rl_gen_free() after either.  errors is set only when
 * the run fails on an answer that is not JSON or does not validate.
 */
enum rl_err	 rl_gen_run(struct rl_gen *, struct rl_error *);
void		 rl_gen_free(struct rl_gen *);

/*
 * The pure parts, exposed for the unit test: the first input (the user
 * message, after an input_file when file_id is set), the Responses body
 * for an input, and Pydantic's ValidationError text of an error list
 * ("N validation errors for NAME", then loc and "  msg [type=...,
 * input_value=...]" per error), malloc'd.
 */
struct rl_model;
json_t		*rl_gen_input(const struct rl_gen *);
json_t		*rl_gen_body(const struct rl_gen *, const struct rl_model *,
		    const json_t *input);
char		*rl_gen_errors_text(const json_t *, const char *name);

/*
 * The relais.generate task kind (bin/worker.c): one generation from the
 * payload {model?, prompt, system?, effort?, verbosity?, max_output?,
 * schema? (registry name or inline JSON Schema), name?, strict?,
 * feature?}; result {status: "success", result | text,
 * reasoning_summary, usage, calls}.  An operator's smoke test, and what
 * tests/integration/tasks.test.mjs drives.
 */
enum rl_err	 rl_gen_task(struct rl_task *, json_t **, struct rl_error *);

/*
 * The Batch API's side of a generation (lib/edxo/batch.c): the body of one
 * JSONL line, exactly the synchronous request without "stream" (a new
 * reference, NULL when out of memory); and the checks of an answer
 * (refusal, cut answer, not JSON, schema) applied to a Responses object
 * read from a batch's output file: RL_OK with g->result (schema) or
 * g->text; RL_EVALIDATION with g->errors; RL_EUPSTREAM.
 */
json_t		*rl_gen_batch_body(const struct rl_gen *,
		    const struct rl_model *);
enum rl_err	 rl_gen_answer(struct rl_gen *, const json_t *response,
		    struct rl_error *);

/*
 * usage as EDxo's results carry it: {input_tokens, output_tokens, cost
 * (USD, 6 decimals, as a number), model}.  A new reference.
 */
json_t		*rl_gen_usage_json(const struct rl_gen *);

/*
 * Point g's model, effort, verbosity and system at those of a settings
 * object as rl_generation_settings builds it; the strings are borrowed
 * from it.
 */
void		 rl_gen_settings(struct rl_gen *, const json_t *);

/*
 * Compile the JSON Schema sj (lax) and run g strictly against it under
 * name; *schema is the compiled schema (or NULL), the caller frees it.
 */
enum rl_err	 rl_gen_run_schema(struct rl_gen *, const json_t *sj,
		    const char *name, struct rl_schema **,
		    struct rl_error *);

/*
 * Generation settings and checks shared by every generating feature
 * (EDxo's in lib/edxo/ and any other): moved here from programme.c, as
 * they read only the gateway's own tables (section_ai_settings,
 * chat_model_config, models, users' credits).
 */
/*
 * The model settings of a generation feature: section is a
 * section_ai_settings key ("logigramme", "grille", "plan_cadre",
 * "plan_cadre_improve"); overrides (an object, may be NULL) may hold
 * model, reasoning_effort and verbosity chosen by the user.  *out is a new
 * object {model, effort, verbosity, system} (strings or null): the user's
 * choice, else the section's row, else chat_model_config, else gpt-5.
 */
enum rl_err	 rl_generation_settings(const char *section,
		    const json_t *overrides, json_t **out, struct rl_error *);
/*
 * The checks EDxo makes before queueing a generation, so that a request
 * that cannot run fails at once instead of as a task: the model is known
 * (RL_EINVAL naming it, field "ai_model"), the user has a key (RL_ENOKEY
 * "Clé OpenAI non configurée.") and a positive balance (RL_ECREDITS).
 */
enum rl_err	 rl_generation_precheck(long long user_id, const char *model,
		    struct rl_error *);

#endif
