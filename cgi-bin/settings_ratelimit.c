/*
 * settings_ratelimit.c: GET and POST /settings/rate_limits, each role's
 * request limits (lib/ratelimit.c reads them through its cache; the
 * table's trigger tells every program, so a change applies from the next
 * request).  docs/internals/ratelimit.md.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "auth.h"
#include "bounds.h"
#include "cache.h"
#include "db.h"
#include "ratelimit.h"
#include "req.h"
#include "resp.h"
#include "settings.h"

/*
 * Every role with its limits in force: its rate_limits row ("custom"),
 * else the programs' defaults.  The defaults are this program's
 * environment, which the deployment shares with the others.
 */
static enum rl_err
answer(struct rl_req *req, struct rl_error *e)
{
	struct rl_ratelimit_rule	 r, a;
	json_t				*rows, *row, *list, *out;
	enum rl_err			 err;
	int				 i;

	if ((err = rl_db_json("SELECT coalesce(json_object_agg(role, "
	    "json_build_object('requests', requests, 'token_requests', "
	    "token_requests, 'period_sec', period_sec)), '{}') FROM "
	    "rate_limits", 0, NULL, &rows, e)) != RL_OK)
		return err;
	if ((list = json_array()) == NULL) {
		json_decref(rows);
		return rl_error_set(e, RL_ENOMEM, NULL);
	}
	for (i = 0; i < RL_ROLE__MAX; i++) {
		rl_ratelimit_default((enum rl_role)i, &r);
		row = json_object_get(rows, rl_role_name((enum rl_role)i));
		if (row != NULL) {
			r.requests = (long)json_integer_value(
			    json_object_get(row, "requests"));
			r.token_requests = (long)json_integer_value(
			    json_object_get(row, "token_requests"));
			r.period_sec = (long)json_integer_value(
			    json_object_get(row, "period_sec"));
		}
		json_array_append_new(list, json_pack("{s:s, s:I, s:I, s:I, "
		    "s:b}", "role", rl_role_name((enum rl_role)i),
		    "requests", (json_int_t)r.requests, "token_requests",
		    (json_int_t)r.token_requests, "period_sec",
		    (json_int_t)r.period_sec, "custom", row != NULL));
	}
	json_decref(rows);
	rl_ratelimit_default(RL_ROLE_ADMIN, &a);
	rl_ratelimit_default(RL_ROLE_INVITE, &r);
	out = json_pack("{s:o, s:{s:I, s:I, s:I}}", "roles", list,
	    "defaults", "requests", (json_int_t)r.requests, "admin_requests",
	    (json_int_t)a.requests, "period_sec", (json_int_t)r.period_sec);
	return rl_resp_json_new(req, 200, out);
}

/* GET /settings/rate_limits */
enum rl_err
settings_get_rate_limits(struct rl_req *req, struct rl_error *e)
{

	return answer(req, e);
}

/*
 * POST /settings/rate_limits: {role, requests, token_requests,
 * period_sec}; the request schema settings.rate_limits holds each to its
 * bounds.  token_requests defaults to requests, period_sec to the
 * default window; "requests": null gives the role its defaults back.
 */
enum rl_err
settings_post_rate_limits(struct rl_req *req, struct rl_error *e)
{
	const char	*p[4];
	char		 n[3][24];
	json_t		*v, *t, *s;
	enum rl_err	 err;

	p[0] = json_string_value(json_object_get(req->json, "role"));
	v = json_object_get(req->json, "requests");
	if (p[0] == NULL)
		return rl_error_field(e, RL_EVALIDATION, "role", "role is "
		    "required");
	if (v == NULL || json_is_null(v))
		err = rl_db_exec("DELETE FROM rate_limits WHERE role = $1", 1,
		    p, NULL, e);
	else {
		t = json_object_get(req->json, "token_requests");
		s = json_object_get(req->json, "period_sec");
		(void)snprintf(n[0], sizeof(n[0]), "%lld",
		    (long long)json_integer_value(v));
		(void)snprintf(n[1], sizeof(n[1]), "%lld",
		    (long long)json_integer_value(json_is_integer(t) ? t : v));
		(void)snprintf(n[2], sizeof(n[2]), "%lld", json_is_integer(s) ?
		    (long long)json_integer_value(s) :
		    (long long)RL_RATELIMIT_PERIOD_SEC);
		p[1] = n[0];
		p[2] = n[1];
		p[3] = n[2];
		err = rl_db_exec("INSERT INTO rate_limits (role, requests, "
		    "token_requests, period_sec) VALUES ($1, $2, $3, $4) "
		    "ON CONFLICT (role) DO UPDATE SET requests = "
		    "EXCLUDED.requests, token_requests = "
		    "EXCLUDED.token_requests, period_sec = "
		    "EXCLUDED.period_sec, updated_at = now()", 4, p, NULL, e);
	}
	if (err != RL_OK)
		return err;
	/*
	 * This process need not wait for its listener to hear the
	 * notification: the admin's next request may come back here.
	 */
	rl_cache_flush();
	return answer(req, e);
}
