/* test_route.c: path patterns and lookup (lib/route.c). */
#include "config.h"

#include <string.h>

#include "harness.h"
#include "req.h"
#include "route.h"

static enum rl_err
h(struct rl_req *r, struct rl_error *e)
{

	return RL_OK;
}

static const struct rl_route routes[] = {
	{ "GET", "/api/health", h, NULL, 0, 0 },
	{ "GET", "/tasks/status/<id>", h, NULL, 0, 0 },
	{ "POST", "/tasks/cancel/<id>", h, NULL, 0, 0 },
	{ "GET", "/programme/<int:id>/grille/review/<task_id>", h, NULL, 0, 0 },
	{ "POST", "/api/plan_de_cours/<int:id>/improve/<field>", h, NULL, 0, 0 },
	{ "GET", "/static/<path:rest>", h, NULL, 0, 0 },
	{ "GET", "/jobs/<uuid:id>/x", h, NULL, 0, 0 },
};
#define N	(sizeof(routes) / sizeof(routes[0]))

static int
param_is(const struct rl_param *p, const char *name, const char *val)
{

	return p->namelen == strlen(name) &&
	    memcmp(p->name, name, p->namelen) == 0 &&
	    p->len == strlen(val) && memcmp(p->val, val, p->len) == 0;
}

int
main(void)
{
	const struct rl_route	*r;
	struct rl_param		 p[RL_ROUTE_MAX_PARAMS];
	size_t			 np;

	ok(rl_route_match(routes, N, "GET", "/api/health", &r, p, &np) ==
	    RL_OK && r == &routes[0] && np == 0, "literal route");
	ok(rl_route_match(routes, N, "HEAD", "/api/health", &r, p, &np) ==
	    RL_OK && r == &routes[0], "HEAD served by GET");
	ok(rl_route_match(routes, N, "POST", "/api/health", &r, p, &np) ==
	    RL_EMETHOD && r == NULL, "wrong method is 405");
	ok(rl_route_match(routes, N, "GET", "/api/healthz", &r, p, &np) ==
	    RL_ENOTFOUND, "longer path is 404");
	ok(rl_route_match(routes, N, "GET", "/api/healt", &r, p, &np) ==
	    RL_ENOTFOUND, "shorter path is 404");
	ok(rl_route_match(routes, N, "GET", "/tasks/status/abc-123", &r, p,
	    &np) == RL_OK && np == 1 && param_is(&p[0], "id", "abc-123"),
	    "string parameter");
	ok(rl_route_match(routes, N, "GET", "/tasks/status/", &r, p, &np) ==
	    RL_ENOTFOUND, "empty parameter does not match");
	ok(rl_route_match(routes, N, "GET", "/tasks/status/a/b", &r, p,
	    &np) == RL_ENOTFOUND, "string parameter is one segment");
	ok(rl_route_match(routes, N, "GET",
	    "/programme/42/grille/review/t-9", &r, p, &np) == RL_OK &&
	    np == 2 && param_is(&p[0], "id", "42") &&
	    param_is(&p[1], "task_id", "t-9"), "int and string parameters");
	ok(rl_route_match(routes, N, "GET", "/programme/4x/grille/review/t",
	    &r, p, &np) == RL_ENOTFOUND, "int parameter refuses letters");
	ok(rl_route_match(routes, N, "GET", "/programme/-1/grille/review/t",
	    &r, p, &np) == RL_ENOTFOUND, "int parameter refuses a sign");
	ok(rl_route_match(routes, N, "GET",
	    "/programme/1234567890123456789/grille/review/t", &r, p, &np) ==
	    RL_ENOTFOUND, "int parameter refuses 19 digits");
	ok(rl_route_match(routes, N, "POST",
	    "/api/plan_de_cours/7/improve/presentation_du_cours", &r, p,
	    &np) == RL_OK && param_is(&p[1], "field",
	    "presentation_du_cours"), "EDxo improve route");
	ok(rl_route_match(routes, N, "GET", "/static/css/a.css", &r, p, &np)
	    == RL_OK && param_is(&p[0], "rest", "css/a.css"),
	    "path parameter takes the rest");
	ok(rl_route_match(routes, N, "GET",
	    "/jobs/0f8fad5b-d9cb-469f-a165-70867728950E/x", &r, p, &np) ==
	    RL_OK && param_is(&p[0], "id",
	    "0f8fad5b-d9cb-469f-a165-70867728950E"), "uuid parameter");
	ok(rl_route_match(routes, N, "GET",
	    "/jobs/------------------------------------/x", &r, p, &np) ==
	    RL_ENOTFOUND, "36 dashes are not a uuid");
	ok(rl_route_match(routes, N, "GET",
	    "/jobs/0f8fad5b-d9cb-469f-a165-70867728950/x", &r, p, &np) ==
	    RL_ENOTFOUND, "35 characters are not a uuid");
	ok(rl_route_match(routes, N, "GET",
	    "/jobs/0f8fad5bd9cb-469f-a165-70867728950e0/x", &r, p, &np) ==
	    RL_ENOTFOUND, "a misplaced dash is not a uuid");
	ok(rl_route_match(routes, N, "GET",
	    "/jobs/0f8fad5b-d9cb-469f-a165-70867728950g/x", &r, p, &np) ==
	    RL_ENOTFOUND, "a non-hex digit is not a uuid");
	ok(rl_uuid_valid("0F8FAD5B-D9CB-469F-A165-70867728950E") &&
	    !rl_uuid_valid(NULL) && !rl_uuid_valid(""),
	    "rl_uuid_valid: case, NULL, empty");
	ok(rl_route_pattern_valid("/a/<int:id>/b"), "valid pattern");
	ok(rl_route_pattern_valid("/a/<uuid:id>/b"), "valid uuid pattern");
	ok(!rl_route_pattern_valid("a/b"), "pattern must start with /");
	ok(!rl_route_pattern_valid("/a/<id"), "unclosed placeholder");
	ok(!rl_route_pattern_valid("/a/<>"), "empty placeholder");
	ok(!rl_route_pattern_valid("/a/<path:p>/b"), "path must be last");
	ok(!rl_route_pattern_valid("/a/id>"), "stray >");
	return done();
}
