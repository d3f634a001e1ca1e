/*
 * models.h: the model registry.  A model's row in openai_models (prices,
 * provider, catalogue text) wins; capabilities that the row leaves NULL and
 * models without a row come from the built-in family table, chosen by name
 * prefix (seed 001: reasoning o1/o3/o4/gpt-5, gpt-4.1, legacy).  The same
 * table drives auto-configuration: default parameters, parameters refused
 * per model, max_tokens vs max_completion_tokens, system -> developer.
 *
 * Money is integer micro-dollars (1e-6 USD, the scale of every numeric
 * column) everywhere in C; prices are micro-dollars per 1M tokens.
 */
#ifndef RL_MODELS_H
#define RL_MODELS_H

#include <jansson.h>

#include "relais.h"
#include "openai.h"

/* How a model's request is shaped. */
enum rl_family {
	RL_FAMILY_REASONING = 0,	/* o1, o3, o4, gpt-5 */
	RL_FAMILY_GPT41,		/* gpt-4.1 */
	RL_FAMILY_LEGACY		/* gpt-4o, gpt-4-turbo, gpt-3.5... */
};

struct rl_model {
	char		 name[64];
	char		 provider[32];	/* providers.name, "openai" */
	enum rl_family	 family;
	int		 generation_new; /* seed's "generation": new/legacy */
	int		 temperature;	/* accepts temperature */
	int		 reasoning;	/* accepts reasoning_effort */
	int		 completion_tokens; /* max_completion_tokens, not
					   max_tokens */
	int		 developer_role; /* system -> developer */
	int		 structured;	/* content as [{type:text,text}] */
	long long	 default_max;	/* default output cap */
	long long	 max_output;	/* hard output cap */
	long long	 context_window;
	/* micro-USD per 1M tokens; cached_in = in when no discount. */
	long long	 price_in;
	long long	 price_cached_in;
	long long	 price_out;
	int		 batch_discount_pct;	/* 50: batch costs half */
	int		 known;		/* 1: from the database, 0: fallback */
};

enum rl_err	 rl_model_lookup(const char *, struct rl_model *,
		    struct rl_error *);
/* The built-in family of a name, without the database. */
void		 rl_model_builtin(const char *, struct rl_model *);

/* Exact cost of a usage in micro-USD, rounded up; batch halves it. */
long long	 rl_cost_micro(const struct rl_model *, const struct rl_usage *,
		    int batch);
/* Highest cost of a call: input bound + max_output at the model's prices. */
long long	 rl_cost_bound(const struct rl_model *, long long input_tokens,
		    long long max_output);
/* "12.345678" from micro-USD; buf of at least 32 bytes. */
const char	*rl_micro_fmt(long long, char *, size_t);
int		 rl_micro_parse(const char *, long long *);

/*
 * Auto-configuration of a chat request (seed 001).  params is the client's
 * object (model, temperature, reasoning_effort, max_tokens,
 * max_completion_tokens, ...); on success *out is a new object of the
 * effective parameters with defaults filled and max_tokens converted.  On a
 * parameter the model refuses, RL_EINVAL and *errbody is the seed's 400
 * body {error, error_code: "INVALID_PARAMETER_FOR_MODEL", model,
 * invalid_params, suggested_params}.
 */
enum rl_err	 rl_model_configure(const struct rl_model *, const json_t *,
		    json_t **out, json_t **errbody, struct rl_error *);
/* Messages as the model wants them (roles mapped, content parts). */
json_t		*rl_model_messages(const struct rl_model *, const json_t *);

/*
 * Where a model's calls go and with which key: the provider's base URL
 * (providers.base_url; for "openai" RELAIS_OPENAI_BASE_URL when NULL) and
 * the user's own key (users.openai_key_enc, providers of kind "openai"
 * only), else the institution's (providers.api_key_enc; for "openai"
 * RELAIS_OPENAI_API_KEY).  No key at all: RL_ENOKEY "Clé OpenAI non
 * configurée.", its own code so that callers tell it from a bad request
 * without reading the message.  A disabled provider: RL_EINVAL on the
 * field "model".  The strings live in the buffer.
 */
struct rl_upstream_buf {
	struct rl_upstream	 up;
	char			 name[32];
	char			 base_url[512];
	char			 api_key[512];
	int			 user_key;	/* 1: the user's own key */
};

enum rl_err	 rl_model_upstream(const struct rl_model *, long long user_id,
		    struct rl_upstream_buf *, struct rl_error *);
/*
 * The same for a provider by name, enabled or not, with the institution's
 * key only: an admin's test of a provider before it is switched on.
 */
enum rl_err	 rl_provider_upstream(const char *, struct rl_upstream_buf *,
		    struct rl_error *);

#endif
