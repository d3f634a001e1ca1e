/*
 * router.c: the router's completion (seed 004), shared by POST
 * /completion and the realtime WebSocket.  See router.h and
 * docs/internals/router.md.
 *
 * A completion is one Chat Completions call (so that any OpenAI-compatible
 * provider, Mistral included, can serve it) paid through rl_ai_call: the
 * agent's system prompt, the passages of the project's documents that
 * PostgreSQL full-text search ranks first, the conversation history and
 * the message.  The answer carries usage, the price in the router's
 * currency (exact: integer micro-units throughout) and emission estimates
 * (docs/emissions.md).
 */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ai.h"
#include "arena.h"
#include "cache.h"
#include "db.h"
#include "models.h"
#include "router.h"

/* Ledger feature of every call made here. */
#define ROUTER_FEATURE		"completion"

/*
 * Energy per 1,000 output tokens when router_energy has no row for a
 * name, not even the empty prefix (an admin deleted it): the "medium"
 * class of docs/emissions.md rather than zero, which would be dishonest.
 */
#define ENERGY_FALLBACK_KWH	0.001

/*
 * Context: at most this many passages (paragraphs of at most 1500
 * characters, sql/0005_router.sql) and this many bytes of passage text,
 * about 6,000 tokens: room for the answer in the smallest context window
 * offered (gpt-3.5-turbo, 16k) once some history is added.  The body's
 * own limits (200 history turns, 100 sources, a project id of 128
 * characters) are its request schema's, with their reasons:
 * lib/schemas/requests/chat.completion.json.
 */
#define ROUTER_PASSAGES		8
#define ROUTER_CONTEXT_MAX	(24 * 1024)

__extension__ typedef unsigned __int128	u128;

long long
rl_router_now_us(void)
{
	struct timespec	 ts;

	/* The FastCGI runtime's clock: req->start_us is on the same one. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Absent and null are the same thing in a Pydantic body. */
static json_t *
opt(const json_t *body, const char *key)
{
	json_t	*v = json_object_get(body, key);

	return json_is_null(v) ? NULL : v;
}

/*
 * The body as its request schema (chat.completion) let it through: typed,
 * the stream default filled.  What is left to check is the one rule across
 * two fields, which a schema does not say.
 */
enum rl_err
rl_router_parse(const json_t *b, struct rl_router_req *c,
    struct rl_error *e)
{

	memset(c, 0, sizeof(*c));
	c->message = json_string_value(json_object_get(b, "message"));
	c->model = json_string_value(json_object_get(b, "model"));
	c->agent = json_string_value(opt(b, "agent"));
	c->stream = json_is_true(opt(b, "stream"));
	c->temperature = opt(b, "temperature");
	c->history = opt(b, "conversation_history");
	c->project = json_string_value(opt(b, "project_id"));
	if ((c->sources = opt(b, "sources")) != NULL &&
	    json_array_size(c->sources) == 0)
		c->sources = NULL;
	if (c->sources != NULL && c->project == NULL)
		return rl_error_field(e, RL_EVALIDATION, "sources",
		    "sources: project_id is required with sources");
	return RL_OK;
}

/* The model, which must be in the catalogue and offered by the router. */
static enum rl_err
model_get(const char *name, struct rl_model *m, struct rl_error *e)
{
	struct rl_dbres	*r = NULL;
	const char	*p[1];
	enum rl_err	 err;

	p[0] = name;
	if ((err = rl_cache_exec(RL_CACHE_T(RL_CACHE_MODELS),
	    "SELECT router_enabled FROM openai_models WHERE name = $1", 1, p,
	    &r, e)) != RL_OK)
		goto out;
	if (rl_dbres_rows(r) == 0 || rl_dbres_get(r, 0, 0)[0] != 't') {
		err = rl_error_field(e, RL_EINVAL, "model", "model %.64s is "
		    "not offered (GET /models lists the models)", name);
		goto out;
	}
	if ((err = rl_model_lookup(name, m, e)) != RL_OK)
		rl_error_where(e, "model");
out:
	rl_dbres_free(r);
	return err;
}

/* The agent's type (the default one when none is named) and prompt. */
static enum rl_err
agent_get(struct rl_arena *a, const char *name, const char **type,
    const char **prompt, struct rl_error *e)
{
	struct rl_dbres	*r = NULL;
	const char	*p[1];
	enum rl_err	 err;

	p[0] = name;
	if ((err = rl_cache_exec(RL_CACHE_T(RL_CACHE_ROUTER),
	    "SELECT type, system_prompt, available "
	    "FROM router_agents WHERE CASE WHEN $1::text IS NULL THEN "
	    "is_default ELSE type = $1 END", 1, p, &r, e)) != RL_OK)
		goto out;
	if (rl_dbres_rows(r) == 0) {
		err = name == NULL ? rl_error_set(e, RL_EUNAVAIL, "no default "
		    "agent is configured") : rl_error_field(e, RL_EINVAL,
		    "agent", "unknown agent %.32s (GET /agents lists them)",
		    name);
		goto out;
	}
	if (rl_dbres_get(r, 0, 2)[0] != 't') {
		err = rl_error_field(e, RL_EINVAL, "agent", "agent %.32s is "
		    "not available", rl_dbres_get(r, 0, 0));
		goto out;
	}
	*type = rl_arena_strdup(a, rl_dbres_get(r, 0, 0));
	*prompt = rl_arena_strdup(a, rl_dbres_get(r, 0, 1));
	if (*type == NULL || *prompt == NULL)
		err = rl_error_set(e, RL_ENOMEM, "out of memory");
out:
	rl_dbres_free(r);
	return err;
}

static double
col_f(const struct rl_dbres *r, int c)
{

	return strtod(rl_dbres_get(r, 0, c), NULL);
}

/* The settings row and the energy of the longest matching name prefix. */
static enum rl_err
factors_get(const char *model, struct rl_router_factors *f, struct rl_error *e)
{
	struct rl_dbres	*r = NULL;
	const char	*p[1];
	enum rl_err	 err;

	p[0] = model;
	if ((err = rl_cache_exec(RL_CACHE_T(RL_CACHE_ROUTER),
	    "SELECT s.currency, s.usd_rate::text, "
	    "s.grid_kgco2_per_kwh, s.water_l_per_kwh, s.car_kgco2_per_km, "
	    "s.tgv_kgco2_per_km, s.smartphone_kwh_per_charge, "
	    "(SELECT g.kwh_per_1k_output FROM router_energy g "
	    "WHERE left($1, length(g.prefix)) = g.prefix "
	    "ORDER BY length(g.prefix) DESC LIMIT 1) "
	    "FROM router_settings s WHERE s.id = 1", 1, p, &r, e)) != RL_OK)
		goto out;
	if (rl_dbres_rows(r) != 1 ||
	    rl_micro_parse(rl_dbres_get(r, 0, 1), &f->rate_micro) == -1) {
		err = rl_error_set(e, RL_EDB, "router_settings: no usable row");
		goto out;
	}
	(void)snprintf(f->currency, sizeof(f->currency), "%s",
	    rl_dbres_get(r, 0, 0));
	f->grid_kg_kwh = col_f(r, 2);
	f->water_l_kwh = col_f(r, 3);
	f->car_kg_km = col_f(r, 4);
	f->tgv_kg_km = col_f(r, 5);
	f->phone_kwh = col_f(r, 6);
	f->kwh_per_1k = rl_dbres_isnull(r, 0, 7) ? ENERGY_FALLBACK_KWH :
	    col_f(r, 7);
out:
	rl_dbres_free(r);
	return err;
}


/*
 * The named documents must exist in the project and be visible to the
 * user; a wrong id is the client's mistake, said by name, not an empty
 * context that looks like an answer.
 */
static enum rl_err
sources_check(long long uid, const struct rl_router_req *c, const char *ids,
    struct rl_error *e)
{
	struct rl_dbres	*r = NULL;
	char		 u[32];
	const char	*p[3];
	enum rl_err	 err;

	(void)snprintf(u, sizeof(u), "%lld", uid);
	p[0] = c->project;
	p[1] = u;
	p[2] = ids;
	if ((err = rl_db_exec("SELECT s.id FROM jsonb_array_elements_text("
	    "$3::jsonb) WITH ORDINALITY AS s (id, k) WHERE NOT EXISTS ("
	    "SELECT 1 FROM router_documents d WHERE d.id = s.id::uuid AND "
	    "d.project_id = $1 AND (d.owner_id IS NULL OR "
	    "d.owner_id = $2::bigint)) ORDER BY s.k LIMIT 1", 3, p, &r,
	    e)) != RL_OK)
		goto out;
	if (rl_dbres_rows(r) > 0)
		err = rl_error_field(e, RL_EINVAL, "sources", "document %s "
		    "is not in project %s", rl_dbres_get(r, 0, 0), c->project);
out:
	rl_dbres_free(r);
	return err;
}

/*
 * The passages of a project (of the named documents, else of every
 * document the user sees) that match any word of the message, best first,
 * then the others in passage order; hit says which matched.  The OR query
 * is built from the message's own lexemes (French stemming, stop words
 * dropped), each quoted as tsquery input wants, rather than with
 * plainto_tsquery, which ANDs them; a message of stop words only gives no
 * query (NULL: nothing matches) instead of PostgreSQL's NOTICE about an
 * empty one, which would land in the log.
 */
#define PASSAGES_SQL							\
	"WITH q AS (SELECT (SELECT string_agg("				\
	"'''' || replace(replace(l, '\\', '\\\\'), '''', '''''') || '''', " \
	"' | ') "							\
	"FROM unnest(tsvector_to_array(to_tsvector('french', $4))) "	\
	"AS l)::tsquery AS t) "						\
	"SELECT d.id, d.title, p.ord, p.content, "			\
	"coalesce(p.tsv @@ q.t, false)::int AS hit "			\
	"FROM router_passages p "					\
	"JOIN router_documents d ON d.id = p.document_id, q "		\
	"WHERE d.project_id = $1 AND (d.owner_id IS NULL OR "		\
	"d.owner_id = $2::bigint) AND "					\
	"(jsonb_array_length($3::jsonb) = 0 OR d.id IN "		\
	"(SELECT jsonb_array_elements_text($3::jsonb)::uuid)) "	\
	"ORDER BY coalesce(p.tsv @@ q.t, false) DESC, "			\
	"coalesce(ts_rank_cd(p.tsv, q.t), 0) DESC, "			\
	"p.ord, d.created_at, d.id LIMIT $5::integer"

/*
 * The context message: the passages full-text search ranks first for the
 * message (any of its words, French stemming), from the named documents
 * or, without sources, from every document of the project the user sees.
 * When no passage matches (a question such as "summarise the project"
 * names no term of the text), the documents' first passages are sent
 * instead.  *ctx is NULL when the project has no passage at all.
 */
static enum rl_err
context_get(struct rl_arena *a, long long uid,
    const struct rl_router_req *c, char **ctx, struct rl_error *e)
{
	struct rl_dbres	*r = NULL;
	json_t		*none = NULL;
	char		 u[32], lim[16], *ids = NULL, *buf = NULL, *nb;
	const char	*p[5], *body, *title;
	size_t		 len = 0, cap = 0, n, used = 0;
	int		 i, k = 0, matched;
	enum rl_err	 err;

	*ctx = NULL;
	if ((none = json_array()) == NULL || (ids = json_dumps(c->sources !=
	    NULL ? c->sources : none, JSON_COMPACT)) == NULL) {
		err = rl_error_set(e, RL_ENOMEM, "out of memory");
		goto out;
	}
	if (c->sources != NULL &&
	    (err = sources_check(uid, c, ids, e)) != RL_OK)
		goto out;
	(void)snprintf(u, sizeof(u), "%lld", uid);
	(void)snprintf(lim, sizeof(lim), "%d", ROUTER_PASSAGES);
	p[0] = c->project;
	p[1] = u;
	p[2] = ids;
	p[3] = c->message;
	p[4] = lim;
	if ((err = rl_db_exec(PASSAGES_SQL, 5, p, &r, e)) != RL_OK)
		goto out;
	matched = rl_dbres_rows(r) > 0 && rl_dbres_get(r, 0, 4)[0] == '1';
	for (i = 0; i < rl_dbres_rows(r); i++) {
		if (matched && rl_dbres_get(r, i, 4)[0] != '1')
			break;
		body = rl_dbres_get(r, i, 3);
		title = rl_dbres_get(r, i, 1);
		if (used + strlen(body) > ROUTER_CONTEXT_MAX && k > 0)
			break;
		n = strlen(title) + strlen(body) + 128;
		if (len + n + 1 > cap) {
			cap = (len + n + 1) * 2;
			if ((nb = realloc(buf, cap)) == NULL) {
				err = rl_error_set(e, RL_ENOMEM,
				    "out of memory");
				goto out;
			}
			buf = nb;
		}
		len += (size_t)snprintf(buf + len, cap - len, "\n\n[%d] %s "
		    "(document %s, passage %s)\n%s", ++k, title,
		    rl_dbres_get(r, i, 0), rl_dbres_get(r, i, 2), body);
		used += strlen(body);
	}
	if (k > 0) {
		n = strlen(c->project) + len + 128;
		if ((*ctx = rl_arena_alloc(a, n)) == NULL) {
			err = rl_error_set(e, RL_ENOMEM, "out of memory");
			goto out;
		}
		(void)snprintf(*ctx, n, "Extraits des documents du projet %s "
		    ":%s", c->project, buf);
	}
out:
	rl_dbres_free(r);
	json_decref(none);
	free(ids);
	free(buf);
	return err;
}


/* system (agent), system (documents), the history, then the message. */
static json_t *
messages(const char *prompt, const char *ctx, const struct rl_router_req *c)
{
	json_t		*a, *m;
	size_t		 i;

	if ((a = json_array()) == NULL)
		return NULL;
	if (json_array_append_new(a, json_pack("{s:s, s:s}", "role",
	    "system", "content", prompt)) == -1 ||
	    (ctx != NULL && json_array_append_new(a, json_pack("{s:s, s:s}",
	    "role", "system", "content", ctx)) == -1))
		goto fail;
	json_array_foreach(c->history, i, m)
		if (json_array_append_new(a, json_pack("{s:O, s:O}", "role",
		    json_object_get(m, "role"), "content",
		    json_object_get(m, "content"))) == -1)
			goto fail;
	if (json_array_append_new(a, json_pack("{s:s, s:s}", "role", "user",
	    "content", c->message)) == -1)
		goto fail;
	return a;
fail:
	json_decref(a);
	return NULL;
}

/*
 * The Chat Completions body: the model's defaults with the client's
 * temperature (auto-configuration refuses it, naming the field, for a
 * model that takes none), the shaped messages.  *max is the output cap.
 */
static enum rl_err
upstream_body(const struct rl_model *m, const struct rl_router_req *c,
    const json_t *msgs, json_t **body, long long *max, struct rl_error *e)
{
	json_t		*params = NULL, *eff = NULL, *errbody = NULL, *shaped;
	json_t		*v;
	enum rl_err	 err;

	*body = NULL;
	if ((params = json_object()) == NULL || (c->temperature != NULL &&
	    json_object_set(params, "temperature", c->temperature) == -1)) {
		err = rl_error_set(e, RL_ENOMEM, "out of memory");
		goto out;
	}
	if ((err = rl_model_configure(m, params, &eff, &errbody, e)) !=
	    RL_OK)
		goto out;
	if ((v = json_object_get(eff, "max_completion_tokens")) == NULL)
		v = json_object_get(eff, "max_tokens");
	*max = json_integer_value(v);
	if ((shaped = rl_model_messages(m, msgs)) == NULL ||
	    json_object_set_new(eff, "messages", shaped) == -1 ||
	    json_object_set_new(eff, "model", json_string(m->name)) == -1) {
		err = rl_error_set(e, RL_ENOMEM, "out of memory");
		goto out;
	}
	*body = eff;
	eff = NULL;
out:
	json_decref(params);
	json_decref(eff);
	json_decref(errbody);
	return err;
}

/* Micro-USD to micro-units of the currency, half up. */
static long long
convert(long long usd_micro, long long rate_micro)
{

	return (long long)(((u128)usd_micro * (u128)rate_micro + 500000) /
	    1000000);
}

static double
amount(long long micro)
{

	return (double)micro / 1e6;
}

/*
 * Price, emissions and equivalences of a call; the same object feeds the
 * plain answer's metadata and the last stream frame.  The total is the
 * call's cost at our prices (the ledger's cost), converted; input is its
 * input part and output the rest, so that input + output = total exactly.
 */
static json_t *
impact(const struct rl_ai *ai, const struct rl_router_factors *f,
    const char *model, long long start_us)
{
	struct rl_usage	 in;
	long long	 total, input;
	double		 kwh, kg;

	in = ai->call.usage;
	in.output_tokens = 0;
	in.reasoning_tokens = 0;
	total = convert(ai->cost_micro, f->rate_micro);
	input = convert(rl_cost_micro(ai->model, &in, 0), f->rate_micro);
	if (input > total)
		input = total;
	kwh = (double)ai->call.usage.output_tokens / 1000.0 * f->kwh_per_1k;
	kg = kwh * f->grid_kg_kwh;
	return json_pack("{s:f, s:f, s:f, s:{s:s, s:f, s:{s:{s:f, s:f, s:f}}}, "
	    "s:{s:f, s:f, s:f, s:f}}",
	    "latency_s", (double)((rl_router_now_us() - start_us) / 1000) /
	    1000.0,
	    "emissions_kgCO2eq", kg,
	    "emissions_gCO2eq", kg * 1000.0,
	    "pricing", "currency", f->currency, "total_cost", amount(total),
	    "by_model", model, "input", amount(input), "output",
	    amount(total - input), "total", amount(total),
	    "equivalences", "water_liters", kwh * f->water_l_kwh,
	    "car_km", kg / f->car_kg_km, "tgv_km", kg / f->tgv_kg_km,
	    "smartphone_charges", kwh / f->phone_kwh);
}

json_t *
rl_router_usage(const struct rl_usage *u)
{

	return json_pack("{s:I, s:I, s:I}", "input_tokens",
	    (json_int_t)u->input_tokens, "output_tokens",
	    (json_int_t)u->output_tokens, "total_tokens",
	    (json_int_t)(u->input_tokens + u->output_tokens));
}


json_t *
rl_router_impact(const struct rl_router *r)
{

	return impact(&r->ai, &r->f, r->in.model, r->start_us);
}

/*
 * The metadata of a stream's last event: model, agent, usage (the one
 * model's, and by model as the seed writes it), then the impact.
 */
json_t *
rl_router_done(const struct rl_router *r)
{
	json_t		*meta;

	meta = json_pack("{s:s, s:s, s:o, s:{s:o}}", "model", r->in.model,
	    "agent", r->agent, "usage", rl_router_usage(&r->ai.call.usage),
	    "usage_by_model", r->in.model,
	    rl_router_usage(&r->ai.call.usage));
	if (meta == NULL || json_object_update_new(meta,
	    rl_router_impact(r)) == -1) {
		json_decref(meta);
		return NULL;
	}
	return meta;
}

/*
 * Everything before the call, in the order whose first failure the
 * client hears: the model, the agent, the settings, the documents, then
 * the upstream body.  r->in and r->start_us are the caller's; the rest
 * of *r is zeroed here, so rl_router_free is right whatever failed.
 */
enum rl_err
rl_router_prepare(struct rl_router *r, struct rl_arena *a, long long user_id,
    const char *request_id, struct rl_error *e)
{
	const struct rl_router_req *c = &r->in;
	char		*ctx = NULL;
	enum rl_err	 err;

	memset(&r->model, 0, sizeof(*r) - offsetof(struct rl_router, model));
	if ((err = model_get(c->model, &r->model, e)) != RL_OK ||
	    (err = agent_get(a, c->agent, &r->agent, &r->prompt, e)) !=
	    RL_OK ||
	    (err = factors_get(r->model.name, &r->f, e)) != RL_OK ||
	    (c->project != NULL && (err = context_get(a, user_id, c, &ctx,
	    e)) != RL_OK))
		return err;
	if ((r->msgs = messages(r->prompt, ctx, c)) == NULL)
		return rl_error_set(e, RL_ENOMEM, "out of memory");
	if ((err = upstream_body(&r->model, c, r->msgs, &r->body, &r->max,
	    e)) != RL_OK)
		return err;
	r->ai.user_id = user_id;
	r->ai.feature = ROUTER_FEATURE;
	r->ai.request_id = request_id;
	r->ai.model = &r->model;
	r->ai.max_output = r->max;
	r->ai.later = 1;	/* the ledger row is written after the answer */
	r->ai.call.path = "/chat/completions";
	r->ai.call.body = r->body;
	return RL_OK;
}

/*
 * A stream holds the money first, so that a user without credits hears
 * 402 rather than a stream that ends at once.  rl_router_call consumes
 * the hold, whatever happens.
 */
enum rl_err
rl_router_reserve(struct rl_router *r, struct rl_error *e)
{
	long long	 hold = 0;
	enum rl_err	 err;

	if ((err = rl_ai_reserve(r->ai.user_id, &r->model, rl_ai_bound(
	    &r->model, r->body, r->max), r->ai.request_id, NULL, &hold, e)) !=
	    RL_OK)
		return err;
	r->ai.hold_id = hold;
	return RL_OK;
}

/* The billed call; cb (NULL: none) gets a stream's events. */
enum rl_err
rl_router_call(struct rl_router *r, rl_oa_event_cb cb, void *arg,
    struct rl_error *e)
{

	r->ai.call.on_event = cb;
	r->ai.call.arg = arg;
	return rl_ai_call(&r->ai, e);
}

/* The whole answer's text (a plain answer), or NULL. */
const char *
rl_router_text(const struct rl_router *r)
{

	return json_string_value(json_object_get(json_object_get(
	    json_array_get(json_object_get(r->ai.call.answer, "choices"), 0),
	    "message"), "content"));
}

void
rl_router_free(struct rl_router *r)
{

	rl_ai_free(&r->ai);
	json_decref(r->msgs);
	json_decref(r->body);
	r->msgs = r->body = NULL;
}
