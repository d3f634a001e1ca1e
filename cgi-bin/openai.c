/*
 * openai: the model-aware chat endpoint of seed 001 under /ai/openai/.
 *
 *	POST /ai/openai/chat/		run a chat job (or queue it: async)
 *	GET  /ai/openai/chat/		the model catalogue
 *	POST /ai/openai/recommend	the seed's model recommendation
 *	GET  /ai/openai/jobs/<id>	a job read back
 *
 * Jobs, auto-configuration and money live in lib (aijob.c, models.c,
 * ai.c); this file shapes the catalogue and answers.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "aijob.h"
#include "db.h"
#include "fcgi.h"
#include "models.h"
#include "req.h"
#include "resp.h"

/*
 * The catalogue's display columns; capabilities and prices come from
 * rl_model_lookup so that the catalogue says what a call will do.
 */
#define CATALOGUE							\
	"SELECT coalesce(json_agg(json_build_object('id', m.name, "	\
	"'name', coalesce(m.display_name, m.name), "			\
	"'description', m.description, "				\
	"'context_window', m.context_window, "				\
	"'recommended_for', to_json(m.recommended_for)) "		\
	"ORDER BY m.name), '[]') FROM openai_models m"

/* Seed 001's recommendation rule, most capable first. */
static const struct {
	double		 complexity;	/* strictly above */
	double		 budget;	/* strictly above */
	const char	*model;
	const char	*reason;
} rules[] = {
	{ 0.9, 0.7, "o3", "Tâche complexe, budget confortable" },
	{ 0.7, 0.5, "o3-mini", "Bon compromis qualité/prix" },
	{ 0.5, -1.0, "gpt-4.1", "Créativité et contexte large" },
	{ -1.0, -1.0, "gpt-4o", "Tâche standard, économique" },
};

/* USD per token from micro-USD per 1M tokens: display only. */
static double
per_token(long long micro_per_1m)
{

	return (double)micro_per_1m / 1e12;
}

/* One catalogue entry: display columns + what the registry says. */
static enum rl_err
entry(json_t *row, struct rl_error *e)
{
	struct rl_model	 m;
	json_t		*defaults = NULL, *none = NULL, *errbody = NULL;
	json_t		*add;
	char		 in[32], cin[32], out[32];
	enum rl_err	 err;

	if ((err = rl_model_lookup(json_string_value(json_object_get(row,
	    "id")), &m, e)) != RL_OK)
		goto out;
	if ((none = json_object()) == NULL) {
		err = rl_error_set(e, RL_ENOMEM, "out of memory");
		goto out;
	}
	/* The defaults are what auto-configuration makes of no parameter. */
	if ((err = rl_model_configure(&m, none, &defaults, &errbody, e)) !=
	    RL_OK)
		goto out;
	add = json_pack("{s:s, s:b, s:b, s:f, s:f, "
	    "s:f, s:s, s:s, s:s, s:s, s:I, s:o}",
	    "generation", m.generation_new ? "new" : "legacy",
	    "supports_reasoning", m.reasoning,
	    "supports_temperature", m.temperature,
	    "input_cost_per_token", per_token(m.price_in),
	    "cached_input_cost_per_token", per_token(m.price_cached_in),
	    "output_cost_per_token", per_token(m.price_out),
	    "input_price_per_1m", rl_micro_fmt(m.price_in, in, sizeof(in)),
	    "cached_input_price_per_1m", rl_micro_fmt(m.price_cached_in, cin,
	    sizeof(cin)),
	    "output_price_per_1m", rl_micro_fmt(m.price_out, out,
	    sizeof(out)),
	    "provider", m.provider,
	    "batch_discount_pct", (json_int_t)m.batch_discount_pct,
	    "default_params", defaults);
	defaults = NULL;	/* stolen by json_pack, even on failure */
	if (add == NULL || json_object_update(row, add) == -1) {
		json_decref(add);
		err = rl_error_set(e, RL_ENOMEM, "out of memory");
		goto out;
	}
	json_decref(add);
	if (json_is_null(json_object_get(row, "context_window")) &&
	    m.context_window > 0)
		(void)json_object_set_new(row, "context_window",
		    json_integer(m.context_window));
out:
	json_decref(none);
	json_decref(defaults);
	json_decref(errbody);
	return err;
}

static enum rl_err
catalogue(json_t **models, struct rl_error *e)
{
	json_t		*row;
	size_t		 i;
	enum rl_err	 err;

	if ((err = rl_db_json(CATALOGUE, 0, NULL, models, e)) != RL_OK)
		return err;
	json_array_foreach(*models, i, row)
		if ((err = entry(row, e)) != RL_OK) {
			json_decref(*models);
			*models = NULL;
			return err;
		}
	return RL_OK;
}

/* generation_info: which catalogue models are of which generation. */
static json_t *
generation_info(const json_t *models)
{
	json_t		*info, *newm, *old, *row;
	size_t		 i;

	info = json_pack("{s:{s:[], s:[ss], s:[s]}, s:{s:[], s:[sss]}}",
	    "new", "models", "features", "structured_messages",
	    "max_completion_tokens", "limitations",
	    "no_temperature_for_reasoning_models",
	    "legacy", "models", "features", "temperature", "max_tokens",
	    "proven_stability");
	if (info == NULL)
		return NULL;
	newm = json_object_get(json_object_get(info, "new"), "models");
	old = json_object_get(json_object_get(info, "legacy"), "models");
	json_array_foreach(models, i, row)
		(void)json_array_append(strcmp(json_string_value(
		    json_object_get(row, "generation")), "new") == 0 ? newm :
		    old, json_object_get(row, "id"));
	return info;
}

static enum rl_err
chat_get(struct rl_req *req, struct rl_error *e)
{
	json_t		*models = NULL, *info;
	enum rl_err	 err;

	if ((err = catalogue(&models, e)) != RL_OK)
		return err;
	if ((info = generation_info(models)) == NULL) {
		json_decref(models);
		return rl_error_set(e, RL_ENOMEM, "out of memory");
	}
	return rl_resp_json_new(req, 200, json_pack("{s:o, s:o}", "models",
	    models, "generation_info", info));
}

/*
 * The body has its schema's types (openai.chat); the job's own rules and
 * the model's parameter checks are rl_aijob_submit's.
 */
static enum rl_err
chat_post(struct rl_req *req, struct rl_error *e)
{
	json_t		*answer = NULL, *errbody = NULL;
	enum rl_err	 err;

	err = rl_aijob_submit(req->user->id, req->json, req->id, &answer,
	    &errbody, e);
	if (errbody != NULL)
		return rl_resp_json_new(req, 400, errbody);
	if (err != RL_OK)
		return err;
	return rl_resp_json_new(req, strcmp(json_string_value(
	    json_object_get(answer, "status")), "async") == 0 ? 202 : 200,
	    answer);
}

/*
 * The seed's rule, with one improvement: a model the catalogue no longer
 * lists (an admin removed it) is skipped for the next one down, so the
 * answer always names a model that can be called.
 */
static enum rl_err
recommend(struct rl_req *req, struct rl_error *e)
{
	json_t		*models = NULL, *row, *pick = NULL;
	double		 cx, bu;
	size_t		 i, r;
	enum rl_err	 err;

	/* Both numbers from 0 to 1 (openai.recommend). */
	cx = json_number_value(json_object_get(req->json, "task_complexity"));
	bu = json_number_value(json_object_get(req->json,
	    "budget_constraint"));
	if ((err = catalogue(&models, e)) != RL_OK)
		return err;
	for (r = 0; r < sizeof(rules) / sizeof(rules[0]) && pick == NULL;
	    r++) {
		if (!(cx > rules[r].complexity && bu > rules[r].budget))
			continue;
		json_array_foreach(models, i, row)
			if (strcmp(json_string_value(json_object_get(row,
			    "id")), rules[r].model) == 0) {
				pick = row;
				break;
			}
		if (pick != NULL)
			break;
	}
	if (pick == NULL) {
		json_decref(models);
		return rl_error_set(e, RL_ENOTFOUND, "no recommendable model "
		    "in the catalogue");
	}
	err = rl_resp_json_new(req, 200, json_pack("{s:O, s:s, s:O, s:f, "
	    "s:f}", "recommended_model", json_object_get(pick, "id"),
	    "reason", rules[r].reason, "model", pick, "task_complexity", cx,
	    "budget_constraint", bu));
	json_decref(models);
	return err;
}

static enum rl_err
job_get(struct rl_req *req, struct rl_error *e)
{
	json_t		*answer = NULL;
	enum rl_err	 err;

	if ((err = rl_aijob_get(req->user->id, req->user->role ==
	    RL_ROLE_ADMIN, rl_req_param(req, "id"), &answer, e)) != RL_OK)
		return err;
	return rl_resp_json_new(req, 200, answer);
}

/* Seed 001's JSON API; each body's fields are its request schema. */
static const struct rl_route routes[] = {
	{ "POST", "/ai/openai/chat/", chat_post, "openai.chat",
	    RL_ROUTE_AUTH | RL_ROUTE_JSON, 0 },
	{ "GET", "/ai/openai/chat/", chat_get, NULL, RL_ROUTE_AUTH, 0 },
	{ "POST", "/ai/openai/recommend", recommend, "openai.recommend",
	    RL_ROUTE_AUTH | RL_ROUTE_JSON, 0 },
	{ "GET", "/ai/openai/jobs/<id>", job_get, NULL, RL_ROUTE_AUTH, 0 },
};

static const struct rl_program program = {
	"openai", routes, RL_NROUTES(routes), 0, 1, NULL
};

int
main(int argc, char *argv[])
{

	return rl_main(argc, argv, &program);
}
