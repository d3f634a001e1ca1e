/*
 * settings: accounts, authentication and the service's health.  Sign-in
 * (session cookie + CSRF), API tokens, HS256 access tokens, the credit
 * balance, and the route table that also serves the settings pages
 * (settings_pages.c) and user administration (settings_users.c).
 */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "arena.h"
#include "auth.h"
#include "bounds.h"
#include "conf.h"
#include "crypto.h"
#include "db.h"
#include "fcgi.h"
#include "req.h"
#include "resp.h"
#include "settings.h"

/*
 * GET /api/health: no auth, so load balancers and scripts/run can poll it.
 * 503 while the database is down; the next call after PostgreSQL is back
 * answers 200.
 */
static enum rl_err
health(struct rl_req *req, struct rl_error *e)
{
	struct rl_error	 dbe;
	int		 up;

	up = rl_db_ping(&dbe) == RL_OK;
	return rl_resp_json_new(req, up ? 200 : 503,
	    json_pack("{s:s, s:s, s:s, s:s}",
	    "status", up ? "ok" : "degraded",
	    "version", RL_VERSION,
	    "database", up ? "ok" : "down",
	    "upstream", rl_conf_upstream_name()));
}

/* GET /version, as EDxo's public route. */
static enum rl_err
version(struct rl_req *req, struct rl_error *e)
{

	return rl_resp_json_new(req, 200, json_pack("{s:s}", "version",
	    RL_VERSION));
}

static json_t *
user_json(const struct rl_user *u)
{

	return json_pack("{s:I, s:s, s:s, s:s}", "id", (json_int_t)u->id,
	    "username", u->username, "email", u->email,
	    "role", rl_role_name(u->role));
}

/*
 * Both credentials present and non-empty, else 400 naming the field: an
 * explicit check rather than the request schema's (settings.login), so
 * the sign-in page shows it beside the field.
 */
static enum rl_err
credentials(struct rl_req *req, const char **account, const char **password,
    struct rl_error *e)
{

	*account = json_string_value(json_object_get(req->json, "username"));
	if (*account == NULL || **account == '\0')
		*account = json_string_value(json_object_get(req->json,
		    "email"));
	*password = json_string_value(json_object_get(req->json, "password"));
	if (*account == NULL || **account == '\0') {
		rl_error_set(e, RL_EINVAL, "username is required");
		rl_error_where(e, "username");
		return RL_EINVAL;
	}
	if (*password == NULL || **password == '\0') {
		rl_error_set(e, RL_EINVAL, "password is required");
		rl_error_where(e, "password");
		return RL_EINVAL;
	}
	return RL_OK;
}

/* POST /login (form or JSON): session cookie + CSRF token. */
static enum rl_err
login(struct rl_req *req, struct rl_error *e)
{
	const char	*account, *password, *csrf;
	struct rl_user	*u;
	enum rl_err	 err;

	if ((err = credentials(req, &account, &password, e)) != RL_OK ||
	    (err = rl_auth_password(req, account, password, &u, e)) != RL_OK ||
	    (err = rl_auth_session_start(req, u, &csrf, e)) != RL_OK)
		return err;
	return rl_resp_json_new(req, 200, json_pack("{s:b, s:o, s:s}",
	    "success", 1, "user", user_json(u), "csrf_token", csrf));
}

/* POST /logout: the session row goes, the cookies are expired. */
static enum rl_err
logout(struct rl_req *req, struct rl_error *e)
{
	enum rl_err	 err;

	if ((err = rl_auth_session_end(req, e)) != RL_OK)
		return err;
	return rl_resp_json_new(req, 200, json_pack("{s:b}", "success", 1));
}

/* GET /me: who am I (the admin page starts here). */
static enum rl_err
me(struct rl_req *req, struct rl_error *e)
{
	const char	*csrf = rl_req_cookie(req, "csrf_token");

	return rl_resp_json_new(req, 200, json_pack("{s:o, s:s?}", "user",
	    user_json(req->user), "csrf_token",
	    req->user->via == RL_AUTH_SESSION ? csrf : NULL));
}

/*
 * HTTP Basic credentials, decoded into the arena.  Standard base64, not
 * base64url: translate, then decode.
 */
static int
basic(struct rl_req *req, const char **account, const char **password)
{
	const char	*h = rl_req_header(req, "Authorization");
	char		*b64, *colon;
	unsigned char	*raw;
	size_t		 i, len, n;

	if (h == NULL || strncasecmp(h, "Basic ", 6) != 0)
		return -1;
	h += 6;
	len = strlen(h);
	while (len > 0 && h[len - 1] == '=')
		len--;
	if ((b64 = rl_arena_strndup(req->arena, h, len)) == NULL ||
	    (raw = rl_arena_alloc(req->arena, len + 1)) == NULL)
		return -1;
	for (i = 0; i < len; i++)
		if (b64[i] == '+')
			b64[i] = '-';
		else if (b64[i] == '/')
			b64[i] = '_';
	if (rl_base64url_decode(b64, len, raw, len, &n) == -1)
		return -1;
	raw[n] = '\0';
	if (strlen((char *)raw) != n ||
	    (colon = strchr((char *)raw, ':')) == NULL)
		return -1;
	*colon = '\0';
	*account = (char *)raw;
	*password = colon + 1;
	return 0;
}

/* POST /auth/token: JSON {username, password} or HTTP Basic. */
static enum rl_err
auth_token(struct rl_req *req, struct rl_error *e)
{
	const char	*account, *password, *token;
	struct rl_user	*u;
	long long	 expires_in;
	enum rl_err	 err;

	if (basic(req, &account, &password) == -1 &&
	    (err = credentials(req, &account, &password, e)) != RL_OK)
		return err;
	if ((err = rl_auth_password(req, account, password, &u, e)) != RL_OK ||
	    (err = rl_auth_jwt_issue(req, u, &token, &expires_in, e)) !=
	    RL_OK)
		return err;
	return rl_resp_json_new(req, 200, json_pack("{s:s, s:s, s:I}",
	    "access_token", token, "token_type", "bearer",
	    "expires_in", (json_int_t)expires_in));
}

/* GET /auth/verify: the runtime checked the Bearer token already. */
static enum rl_err
auth_verify(struct rl_req *req, struct rl_error *e)
{

	if (req->user->via != RL_AUTH_JWT)
		return rl_error_set(e, RL_EAUTH, "send the access token as "
		    "Authorization: Bearer");
	return rl_resp_json_new(req, 200, json_pack("{s:b, s:{s:s, s:s, s:I}}",
	    "valid", 1, "user", "sub", req->user->sub, "type", "access",
	    "exp", (json_int_t)req->user->exp));
}

/* Answer 200 with the JSON a query builds from the user's own row ($1). */
static enum rl_err
own_row(struct rl_req *req, const char *sql, struct rl_error *e)
{
	const char	*p[1];
	char		 ids[32];
	json_t		*v;
	enum rl_err	 err;

	(void)snprintf(ids, sizeof(ids), "%lld", req->user->id);
	p[0] = ids;
	if ((err = rl_db_json(sql, 1, p, &v, e)) != RL_OK)
		return err;
	return rl_resp_json_new(req, 200, v);
}

/* GET /api/token: the current token's expiry (the token is never kept). */
static enum rl_err
api_token_get(struct rl_req *req, struct rl_error *e)
{

	return own_row(req, "SELECT json_build_object('token', NULL, "
	    "'expires_at', to_char(api_token_expires_at AT TIME ZONE 'UTC', "
	    "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), 'active', "
	    "api_token IS NOT NULL AND api_token_expires_at > now()) "
	    "FROM users WHERE id = $1", e);
}

/*
 * POST /api/token?ttl=SECONDS: a new token, shown once (201).  The
 * request schema settings.api_token reads ttl from the query string and
 * holds it to 60 s .. RL_API_TOKEN_TTL_MAX_SEC.
 */
static enum rl_err
api_token_post(struct rl_req *req, struct rl_error *e)
{
	const char	*token, *expires;
	json_t		*v;
	long long	 ttl = RL_API_TOKEN_TTL_SEC;
	enum rl_err	 err;

	if ((v = json_object_get(req->json, "ttl")) != NULL)
		ttl = json_integer_value(v);
	if ((err = rl_auth_api_token_new(req, ttl, &token, &expires, e)) !=
	    RL_OK)
		return err;
	return rl_resp_json_new(req, 201, json_pack("{s:s, s:s}", "token",
	    token, "expires_at", expires));
}

/* GET /get_credit_balance: EDxo's shape, a string with two decimals. */
static enum rl_err
credit_balance(struct rl_req *req, struct rl_error *e)
{

	return own_row(req, "SELECT json_build_object('success', true, "
	    "'credit', to_char(credits, 'FM999999999990.00')) FROM users "
	    "WHERE id = $1", e);
}

static enum rl_err
init(struct rl_error *e)
{

	return rl_auth_init(e);
}

/*
 * Bodies come as JSON (the admin page under /admin/) or as a urlencoded
 * form (EDxo's WTForms pages); each route's request schema
 * (lib/schemas/requests/settings.*.json) declares its fields, and a
 * refusal is FastAPI's 422.  Multipart is not taken: no page sends it,
 * and a sign-in route has no use for uploads.
 */
#define FORMS	(RL_ROUTE_JSON | RL_ROUTE_FORM)

/*
 * A settings page: its GET, its POST (the request schema names the
 * fields) and who may use them.  EDxo serves its HTML page on the same
 * path, so a browser's navigation there is the application's
 * (RL_ROUTE_APP_PAGE) and fetch() callers keep relais' JSON.
 */
#define PAGE(path, role, get, post, schema)				\
	{ "GET", path, get, NULL, (role) | RL_ROUTE_APP_PAGE, 0 },	\
	{ "POST", path, post, schema, (role) | FORMS, 0 }
#define ADMIN_PAGE(path, schema)					\
	PAGE(path, RL_ROUTE_ADMIN, settings_get_page, settings_post_page, \
	    schema)
/* A feature's AI settings page. */
#define AI_PAGE(path)							\
	PAGE(path, RL_ROUTE_ADMIN, settings_get_ai, settings_post_ai,	\
	    "settings.section_ai")

static const struct rl_route routes[] = {
	{ "GET", "/api/health", health, NULL, 0, 0 },
	{ "GET", "/version", version, NULL, 0, 0 },
	{ "POST", "/login", login, "settings.login", FORMS, 0 },
	{ "POST", "/logout", logout, NULL, RL_ROUTE_AUTH, 0 },
	{ "GET", "/me", me, NULL, RL_ROUTE_AUTH, 0 },
	{ "POST", "/auth/token", auth_token, "settings.login", FORMS, 0 },
	{ "GET", "/auth/verify", auth_verify, NULL, RL_ROUTE_AUTH, 0 },
	{ "GET", "/api/token", api_token_get, NULL, RL_ROUTE_AUTH, 0 },
	/* EDxo's ?ttl= is in the query string: the route takes no body. */
	{ "POST", "/api/token", api_token_post, "settings.api_token",
	    RL_ROUTE_AUTH, 0 },
	{ "GET", "/get_credit_balance", credit_balance, NULL, RL_ROUTE_AUTH,
	    0 },

	/* Settings pages: EDxo's access rules (coordo for two pages). */
	ADMIN_PAGE("/settings/chat_models", "settings.chat_models"),
	ADMIN_PAGE("/settings/generation", "settings.chat_models"),
	ADMIN_PAGE("/settings/analyse_prompt", "settings.prompt_page"),
	PAGE("/settings/prompt-settings", RL_ROUTE_COORDO, settings_get_page,
	    settings_post_page, "settings.prompt_settings"),
	{ "GET", "/settings/plan-de-cours/prompts", settings_get_pdc_prompts,
	    NULL, RL_ROUTE_ADMIN | RL_ROUTE_APP_PAGE, 0 },
	/*
	 * EDxo's page posts these two with fetch() and shows data.error:
	 * its flat error body (RL_ROUTE_EDXO).  A form is taken too.
	 */
	{ "POST", "/settings/plan-de-cours/prompts/<int:id>",
	    settings_post_pdc_prompt, "settings.pdc_prompt",
	    RL_ROUTE_ADMIN | RL_ROUTE_EDXO | FORMS, 0 },
	{ "POST", "/settings/plan-de-cours/prompts/test",
	    settings_test_prompt, "settings.prompt_test",
	    RL_ROUTE_ADMIN | RL_ROUTE_EDXO | FORMS, 0 },
	PAGE("/settings/plan-de-cours/prompt/<int:id>/edit", RL_ROUTE_ADMIN,
	    settings_get_page, settings_post_pdc_prompt, "settings.pdc_prompt"),
	ADMIN_PAGE("/settings/ocr_prompts", "settings.ocr_prompts"),
	ADMIN_PAGE("/settings/plan-cadre/import_prompt",
	    "settings.prompt_page"),
	/* JSON's list of objects, or EDxo's sections-N-* form. */
	PAGE("/settings/plan_cadre", RL_ROUTE_COORDO, settings_get_sections,
	    settings_post_sections, "settings.plan_cadre"),
	PAGE("/settings/openai_models", RL_ROUTE_ADMIN, settings_get_models,
	    settings_post_model, "settings.openai_models"),
	/* The id is all it reads: a body (a form's csrf_token) is ignored. */
	{ "POST", "/settings/openai_models/delete/<int:id>",
	    settings_delete_model, NULL, RL_ROUTE_ADMIN, 0 },
	/* relais' own: no page of EDxo's here. */
	{ "GET", "/settings/usage", settings_get_usage, "settings.usage",
	    RL_ROUTE_ADMIN, 0 },
	/* Upstream providers (settings_providers.c), relais' own too. */
	{ "GET", "/settings/providers", settings_get_providers, NULL,
	    RL_ROUTE_ADMIN, 0 },
	{ "POST", "/settings/providers", settings_post_provider,
	    "settings.provider_new", RL_ROUTE_ADMIN | RL_ROUTE_JSON, 0 },
	{ "POST", "/settings/providers/<int:id>", settings_edit_provider,
	    "settings.provider_edit", RL_ROUTE_ADMIN | RL_ROUTE_JSON, 0 },
	{ "POST", "/settings/providers/<int:id>/models",
	    settings_provider_model, "settings.provider_model",
	    RL_ROUTE_ADMIN | RL_ROUTE_JSON, 0 },
	{ "POST", "/settings/providers/<int:id>/test", settings_test_provider,
	    "settings.provider_test", RL_ROUTE_ADMIN | RL_ROUTE_JSON, 0 },

	/*
	 * Per-feature AI settings (section_ai_settings, EDxo L/H's pages):
	 * system prompt, model, effort and verbosity of each feature.
	 */
	AI_PAGE("/settings/plan-de-cours/ai"),
	AI_PAGE("/settings/plan-de-cours/ai-improve"),
	AI_PAGE("/settings/plan-de-cours/ai-import"),
	AI_PAGE("/settings/plan-cadre/ai"),
	AI_PAGE("/settings/plan-cadre/ai-improve"),
	AI_PAGE("/settings/plan-cadre/ai-import"),
	AI_PAGE("/settings/logigramme/ai"),
	AI_PAGE("/settings/grille/ai"),
	AI_PAGE("/settings/grille/ai-import"),
	AI_PAGE("/settings/ocr/ai"),
	AI_PAGE("/settings/chat/ai"),
	AI_PAGE("/settings/evaluation/ai"),
	/* relais' own: EDxo edits this section from analyse_prompt. */
	{ "GET", "/settings/analyse/ai", settings_get_ai, NULL,
	    RL_ROUTE_ADMIN, 0 },
	{ "POST", "/settings/analyse/ai", settings_post_ai,
	    "settings.section_ai", RL_ROUTE_ADMIN | FORMS, 0 },
	{ "GET", "/settings/plan-cadre/prompts", settings_get_ai_group, NULL,
	    RL_ROUTE_ADMIN | RL_ROUTE_APP_PAGE, 0 },
	PAGE("/settings/grille", RL_ROUTE_ADMIN, settings_get_ai_group,
	    settings_post_ai_group, "settings.grille"),

	/* Users, keys and credits: admins only. */
	PAGE("/manage_users", RL_ROUTE_ADMIN, settings_get_users,
	    settings_post_user, "settings.manage_users"),
	PAGE("/edit_user/<int:id>", RL_ROUTE_ADMIN, settings_get_user,
	    settings_edit_user, "settings.edit_user"),
	{ "POST", "/edit_user/<int:id>/credits", settings_post_credits,
	    "settings.credits", RL_ROUTE_ADMIN | FORMS, 0 },
	/* Request limits per role (settings_ratelimit.c). */
	{ "GET", "/settings/rate_limits", settings_get_rate_limits, NULL,
	    RL_ROUTE_ADMIN, 0 },
	{ "POST", "/settings/rate_limits", settings_post_rate_limits,
	    "settings.rate_limits", RL_ROUTE_ADMIN | RL_ROUTE_JSON, 0 },
};

static const struct rl_program program = {
	"settings", routes, RL_NROUTES(routes), 0, 1, init
};

int
main(int argc, char *argv[])
{

	return rl_main(argc, argv, &program);
}
