/*
 * settings_providers.c: the upstream providers (issue 20, "Providers").
 * An admin lists, adds and edits them (base URL, kind, sealed key,
 * enabled), tests one with a one-token call, and assigns models to them
 * with their prices.  A provider's key is sealed here as users' OpenAI
 * keys are (settings_users.c) and never leaves: answers say whether one
 * is set and its last four characters.  Calls read providers through the
 * cache (lib/models.c), so a change here holds from the next request on.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ai.h"
#include "arena.h"
#include "crypto.h"
#include "db.h"
#include "models.h"
#include "req.h"
#include "resp.h"
#include "settings.h"

/* Characters of a key an answer may show. */
#define KEY_SHOWN	4

/*
 * The test call: one attempt (a retry would hide the error the admin
 * asked about) within TEST_TIMEOUT_MS, whose output is one token.
 */
#define TEST_TIMEOUT_MS	15000
#define TEST_FEATURE	"provider_test"

/* Prices as the model table shows them (settings_pages.c MODEL_JSON). */
#define PMODEL_JSON							\
	"json_build_object('id', m.id, 'name', m.name, 'input_price', "	\
	    "trim_scale(m.input_price)::text, 'cached_input_price', "	\
	    "trim_scale(m.cached_input_price)::text, 'output_price', "	\
	    "trim_scale(m.output_price)::text, 'router_enabled', "	\
	    "m.router_enabled)"

/* A provider, its key as "set" and last four, and its models. */
#define PROVIDER_JSON							\
	"json_build_object('id', p.id, 'name', p.name, 'kind', p.kind, " \
	    "'base_url', p.base_url, 'enabled', p.enabled, 'api_key', "	\
	    "json_build_object('set', p.api_key_enc IS NOT NULL, "	\
	    "'last4', p.api_key_last4), 'models', (SELECT "		\
	    "coalesce(json_agg(" PMODEL_JSON " ORDER BY m.name), '[]') " \
	    "FROM openai_models m WHERE m.provider = p.name), "		\
	    "'created_at', p.created_at, 'updated_at', p.updated_at)"

/* The sealed key as hex (*hex, to free) and its last characters. */
static enum rl_err
seal_key(const char *key, char **hex, char last[KEY_SHOWN + 1],
    struct rl_error *e)
{
	enum rl_err	 err;

	if ((err = settings_seal_key("api_key", key, hex, e)) == RL_OK)
		(void)snprintf(last, KEY_SHOWN + 1, "%s",
		    key + strlen(key) - KEY_SHOWN);
	return err;
}

/* The name rule of the providers CHECK, so that a 400 comes first. */
static int
name_ok(const char *s)
{
	size_t	 n = strlen(s);

	return n >= 1 && n <= 31 && strchr("abcdefghijklmnopqrstuvwxyz"
	    "0123456789", s[0]) != NULL && strspn(s,
	    "abcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

/*
 * What SQL refused among the checks validation leaves to it: the URL rule
 * (https, or http to this machine) and the URL required but for openai.
 */
static enum rl_err
sql_refusal(enum rl_err err, struct rl_error *e)
{

	if (err == RL_ECONFLICT && strcmp(e->sqlstate, "23514") == 0)
		return settings_field_error(e, RL_EINVAL, "base_url",
		    "base_url: want https://host[:port][/path], or http:// "
		    "to this machine only (127.0.0.1, localhost, [::1]); only "
		    "openai may leave it empty");
	return err;
}

/* GET /settings/providers */
enum rl_err
settings_get_providers(struct rl_req *req, struct rl_error *e)
{
	json_t		*v;
	enum rl_err	 err;

	if ((err = rl_db_json("SELECT json_build_object('providers', "
	    "coalesce(json_agg(" PROVIDER_JSON " ORDER BY p.id), '[]')) "
	    "FROM providers p", 0, NULL, &v, e)) != RL_OK)
		return err;
	return rl_resp_json_new(req, 200, v);
}

/*
 * The key the body asks for: absent (*set 0), null (cleared: *set 1, *hex
 * NULL) or a new one, sealed.
 */
static enum rl_err
body_key(const json_t *body, int *set, char **hex, char last[KEY_SHOWN + 1],
    struct rl_error *e)
{
	const json_t	*k = json_object_get(body, "api_key");

	*set = 0;
	*hex = NULL;
	last[0] = '\0';
	if (k == NULL)
		return RL_OK;
	*set = 1;
	if (json_is_null(k))
		return RL_OK;
	return seal_key(json_string_value(k), hex, last, e);
}

/*
 * POST /settings/providers (settings.provider_new): a provider, its key
 * sealed; 201.  The name is the one models and the ledger name, so it is
 * not editable afterwards.
 */
enum rl_err
settings_post_provider(struct rl_req *req, struct rl_error *e)
{
	const json_t	*b = req->json, *en;
	const char	*p[6], *name, *kind;
	char		*hex = NULL, last[KEY_SHOWN + 1];
	json_t		*row = NULL;
	int		 set;
	enum rl_err	 err;

	name = json_string_value(json_object_get(b, "name"));
	if (name == NULL || !name_ok(name))
		return settings_field_error(e, RL_EINVAL, "name", "name: want "
		    "lower-case letters, digits, _ and - (31 at most), "
		    "starting with a letter or digit");
	kind = json_string_value(json_object_get(b, "kind"));
	if ((err = body_key(b, &set, &hex, last, e)) != RL_OK)
		return err;
	en = json_object_get(b, "enabled");
	p[0] = name;
	p[1] = kind != NULL ? kind : "openai_compatible";
	p[2] = json_string_value(json_object_get(b, "base_url"));
	p[3] = hex;
	p[4] = hex != NULL ? last : NULL;
	p[5] = en == NULL || json_is_true(en) ? "true" : "false";
	if ((err = rl_db_begin(e)) != RL_OK)
		goto out;
	if ((err = rl_db_json("INSERT INTO providers AS p (name, kind, "
	    "base_url, api_key_enc, api_key_last4, enabled) VALUES ($1, $2, "
	    "$3, decode($4, 'hex'), $5, $6::boolean) ON CONFLICT (name) DO "
	    "NOTHING RETURNING " PROVIDER_JSON, 6, p, &row, e)) != RL_OK) {
		err = sql_refusal(err, e);
		goto fail;
	}
	if (json_is_null(row)) {
		err = settings_field_error(e, RL_ECONFLICT, "name",
		    "a provider named %s already exists", name);
		goto fail;
	}
	if ((err = settings_audit(req, "providers", name, NULL, NULL, row,
	    e)) != RL_OK || (err = rl_db_commit(e)) != RL_OK)
		goto fail;
	err = rl_resp_json_new(req, 201, row);
	row = NULL;
	goto out;
fail:
	rl_db_rollback();
out:
	json_decref(row);
	free(hex);
	return err;
}

/*
 * The provider row of the route's id as JSON, locked for the caller's
 * transaction when lock is set; 404 without it.
 */
static enum rl_err
provider_get(struct rl_req *req, int lock, const char **id, json_t **row,
    struct rl_error *e)
{
	long long	 n;
	enum rl_err	 err;

	*row = NULL;
	if ((err = rl_req_param_int(req, "id", &n, e)) != RL_OK)
		return err;
	*id = settings_id_string(req, n);
	if ((err = rl_db_json(lock ? "SELECT " PROVIDER_JSON " FROM "
	    "providers p WHERE p.id = $1 FOR UPDATE" : "SELECT "
	    PROVIDER_JSON " FROM providers p WHERE p.id = $1", 1, id, row,
	    e)) != RL_OK)
		return err;
	if (json_is_null(*row)) {
		json_decref(*row);
		*row = NULL;
		return rl_error_set(e, RL_ENOTFOUND, "no provider %lld", n);
	}
	return RL_OK;
}

/*
 * POST /settings/providers/<int:id> (settings.provider_edit): kind,
 * base_url, api_key (null removes it) and enabled, each only when given.
 * Disabling is how an admin stops a provider's calls at once: the next
 * request of any program refuses its models.
 */
enum rl_err
settings_edit_provider(struct rl_req *req, struct rl_error *e)
{
	const json_t	*b = req->json, *en;
	const char	*p[8], *id;
	char		*hex = NULL, last[KEY_SHOWN + 1];
	json_t		*old = NULL, *row = NULL;
	int		 set;
	enum rl_err	 err;

	if ((err = body_key(b, &set, &hex, last, e)) != RL_OK)
		return err;
	if ((err = rl_db_begin(e)) != RL_OK)
		goto out;
	if ((err = provider_get(req, 1, &id, &old, e)) != RL_OK)
		goto fail;
	en = json_object_get(b, "enabled");
	p[0] = id;
	p[1] = json_string_value(json_object_get(b, "kind"));
	p[2] = json_object_get(b, "base_url") != NULL ? "true" : "false";
	p[3] = json_string_value(json_object_get(b, "base_url"));
	p[4] = set ? "true" : "false";
	p[5] = hex;
	p[6] = hex != NULL ? last : NULL;
	p[7] = en == NULL ? NULL : json_is_true(en) ? "true" : "false";
	if ((err = rl_db_json("UPDATE providers p SET kind = coalesce($2, "
	    "kind), base_url = CASE WHEN $3::boolean THEN $4 ELSE base_url "
	    "END, api_key_enc = CASE WHEN $5::boolean THEN decode($6, 'hex') "
	    "ELSE api_key_enc END, api_key_last4 = CASE WHEN $5::boolean "
	    "THEN $7 ELSE api_key_last4 END, enabled = coalesce($8::boolean, "
	    "enabled), updated_at = now() WHERE p.id = $1 RETURNING "
	    PROVIDER_JSON, 8, p, &row, e)) != RL_OK) {
		err = sql_refusal(err, e);
		goto fail;
	}
	if ((err = settings_audit(req, "providers", json_string_value(
	    json_object_get(row, "name")), NULL, old, row, e)) != RL_OK ||
	    (err = rl_db_commit(e)) != RL_OK)
		goto fail;
	err = rl_resp_json_new(req, 200, row);
	row = NULL;
	goto out;
fail:
	rl_db_rollback();
out:
	json_decref(old);
	json_decref(row);
	free(hex);
	return err;
}

/* A price from the body (settings_decimal), or a 400 naming it. */
static enum rl_err
price(const json_t *body, const char *name, int nullable, char *buf,
    size_t sz, const char **out, struct rl_error *e)
{
	const json_t	*v = json_object_get(body, name);

	*out = NULL;
	if (v == NULL || (nullable && json_is_null(v)))
		return RL_OK;
	if (settings_decimal(v, 6, 6, buf, sz) == -1)
		return settings_field_error(e, RL_EINVAL, name, "%s: want a "
		    "price >= 0 in USD per 1M tokens, at most 6 decimals",
		    name);
	*out = buf;
	return RL_OK;
}

/*
 * POST /settings/providers/<int:id>/models (settings.provider_model): a
 * model served by this provider at these prices (USD per 1M tokens), new
 * or moved from another provider; router_enabled (default true) says
 * whether /models offers it.  Answers the provider.
 */
enum rl_err
settings_provider_model(struct rl_req *req, struct rl_error *e)
{
	const json_t	*b = req->json, *re;
	const char	*p[6], *id, *name;
	char		 in[32], outp[32], cached[32];
	json_t		*prov = NULL, *old = NULL, *row = NULL;
	enum rl_err	 err;

	name = json_string_value(json_object_get(b, "name"));
	if (name == NULL || *name == '\0' || strlen(name) > 64)
		return settings_field_error(e, RL_EINVAL, "name", "name: want "
		    "a model name (64 characters at most)");
	if ((err = price(b, "input_price", 0, in, sizeof(in), &p[2], e)) !=
	    RL_OK || (err = price(b, "output_price", 0, outp, sizeof(outp),
	    &p[3], e)) != RL_OK || (err = price(b, "cached_input_price", 1,
	    cached, sizeof(cached), &p[4], e)) != RL_OK)
		return err;
	re = json_object_get(b, "router_enabled");
	p[0] = name;
	p[5] = re == NULL || json_is_true(re) ? "true" : "false";
	if ((err = rl_db_begin(e)) != RL_OK)
		return err;
	if ((err = provider_get(req, 1, &id, &prov, e)) != RL_OK)
		goto fail;
	p[1] = json_string_value(json_object_get(prov, "name"));
	if ((err = rl_db_json("SELECT " PMODEL_JSON " FROM openai_models m "
	    "WHERE m.name = $1 FOR UPDATE", 1, p, &old, e)) != RL_OK)
		goto fail;
	if ((err = rl_db_json("INSERT INTO openai_models AS m (name, "
	    "provider, input_price, output_price, cached_input_price, "
	    "router_enabled) VALUES ($1, $2, $3, $4, $5, $6::boolean) "
	    "ON CONFLICT (name) DO UPDATE SET provider = EXCLUDED.provider, "
	    "input_price = EXCLUDED.input_price, output_price = "
	    "EXCLUDED.output_price, cached_input_price = "
	    "EXCLUDED.cached_input_price, router_enabled = "
	    "EXCLUDED.router_enabled, updated_at = now() RETURNING "
	    PMODEL_JSON, 6, p, &row, e)) != RL_OK) {
		/* The CHECKs left to SQL: the name rule, cached <= input. */
		if (err == RL_ECONFLICT && strcmp(e->sqlstate, "23514") == 0)
			err = settings_field_error(e, RL_EINVAL, "name",
			    "name: want letters, digits and . _ : - (64 at "
			    "most); cached_input_price at most input_price");
		goto fail;
	}
	if ((err = settings_audit(req, "openai_models", name, "provider",
	    old, row, e)) != RL_OK)
		goto fail;
	json_decref(prov);
	if ((err = rl_db_json("SELECT " PROVIDER_JSON " FROM providers p "
	    "WHERE p.id = $1", 1, &id, &prov, e)) != RL_OK ||
	    (err = rl_db_commit(e)) != RL_OK)
		goto fail;
	err = rl_resp_json_new(req, 200, prov);
	prov = NULL;
	goto out;
fail:
	rl_db_rollback();
out:
	json_decref(prov);
	json_decref(old);
	json_decref(row);
	return err;
}

/*
 * The model a test calls: the one named, else the provider's first model
 * the router offers, else its first.  *out is arena memory.
 */
static enum rl_err
test_model(struct rl_req *req, const char *provider, const char **out,
    struct rl_error *e)
{
	struct rl_dbres	*r = NULL;
	const char	*p[1];
	enum rl_err	 err;

	*out = json_string_value(json_object_get(req->json, "model"));
	if (*out != NULL)
		return RL_OK;
	p[0] = provider;
	if ((err = rl_db_exec("SELECT name FROM openai_models WHERE "
	    "provider = $1 ORDER BY NOT router_enabled, name LIMIT 1", 1, p,
	    &r, e)) != RL_OK)
		goto out;
	if (rl_dbres_rows(r) == 0)
		err = settings_field_error(e, RL_EINVAL, "model", "provider "
		    "%s has no model: name one to test with", provider);
	else if ((*out = rl_arena_strdup(req->arena, rl_dbres_get(r, 0,
	    0))) == NULL)
		err = rl_error_set(e, RL_ENOMEM, NULL);
out:
	rl_dbres_free(r);
	return err;
}

/* Errors that are the route's, not the provider's: said as errors. */
static int
ours(enum rl_err err)
{

	return err == RL_ECREDITS || err == RL_ENOMEM || err == RL_EDB ||
	    err == RL_EDBDOWN || err == RL_EINTERNAL || err == RL_EGONE;
}

/*
 * POST /settings/providers/<int:id>/test (settings.provider_test): one
 * Chat Completions call of one output token to the provider, enabled or
 * not (an admin tests before switching one on), with its own key.  It is
 * billed to the admin like any call, one ledger row (feature
 * provider_test).  The answer is a report: ok, the latency, and the
 * upstream's status and error when it refused (a bad key, an unknown
 * model, nothing listening).
 */
enum rl_err
settings_test_provider(struct rl_req *req, struct rl_error *e)
{
	struct rl_model	 m;
	struct rl_ai	 ai;
	struct rl_error	 ce;
	const char	*id, *name, *model;
	json_t		*prov = NULL, *body = NULL, *out;
	enum rl_err	 err, cerr;

	memset(&ai, 0, sizeof(ai));
	if ((err = provider_get(req, 0, &id, &prov, e)) != RL_OK)
		goto out;
	name = rl_arena_strdup(req->arena, json_string_value(
	    json_object_get(prov, "name")));
	if (name == NULL) {
		err = rl_error_set(e, RL_ENOMEM, NULL);
		goto out;
	}
	if ((err = test_model(req, name, &model, e)) != RL_OK)
		goto out;
	if ((err = rl_model_lookup(model, &m, e)) != RL_OK) {
		rl_error_where(e, "model");
		goto out;
	}
	if ((body = json_pack("{s:s, s:[{s:s, s:s}], s:i}", "model", model,
	    "messages", "role", "user", "content", "ping",
	    m.completion_tokens ? "max_completion_tokens" : "max_tokens",
	    1)) == NULL) {
		err = rl_error_set(e, RL_ENOMEM, NULL);
		goto out;
	}
	ai.user_id = req->user->id;
	ai.feature = TEST_FEATURE;
	ai.request_id = req->id;
	ai.model = &m;
	ai.provider = name;
	ai.max_output = 1;
	ai.call.path = "/chat/completions";
	ai.call.body = body;
	ai.call.max_attempts = 1;
	ai.call.total_timeout_ms = TEST_TIMEOUT_MS;
	rl_error_clear(&ce);
	cerr = rl_ai_call(&ai, &ce);
	if (ours(cerr)) {
		*e = ce;
		err = cerr;
		goto out;
	}
	out = json_pack("{s:s, s:s, s:b, s:I, s:i}", "provider", name,
	    "model", model, "ok", cerr == RL_OK, "latency_ms",
	    (json_int_t)ai.call.latency_ms, "status", ai.call.status);
	if (out != NULL)
		(void)json_object_set_new(out, "error", cerr == RL_OK ?
		    json_null() : json_pack("{s:s, s:s}", "code",
		    rl_err_token(cerr), "message", ce.msg[0] != '\0' ?
		    ce.msg : rl_strerror(cerr)));
	err = rl_resp_json_new(req, 200, out);
out:
	rl_ai_free(&ai);
	json_decref(body);
	json_decref(prov);
	return err;
}
