/*
 * fuzz_req.c: libFuzzer harness for the request parsers of lib/req.c and
 * the route matcher of lib/route.c.  Byte 0 picks the target; the rest is
 * the input.  Properties checked beyond "no crash": every urlencoded value
 * and key is valid UTF-8 without NUL, a JSON body accepted by rl_json_parse
 * nests within RL_JSON_MAX_DEPTH, and a matched <int:> parameter is digits.
 *
 * Build (DIR holds an empty config.h for a hand build):
 *   clang -fsanitize=fuzzer,address,undefined -IDIR -Ilib \
 *     $(pkg-config --cflags --libs jansson) lib/req.c lib/route.c \
 *     lib/arena.c lib/err.c tests/fuzz/fuzz_req.c
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "bounds.h"
#include "req.h"
#include "route.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static enum rl_err
h(struct rl_req *r, struct rl_error *e)
{

	return RL_OK;
}

static const struct rl_route routes[] = {
	{ "GET", "/tasks/status/<id>", h, NULL, 0, 0 },
	{ "GET", "/programme/<int:id>/grille/review/<task_id>", h, NULL, 0, 0 },
	{ "GET", "/static/<path:rest>", h, NULL, 0, 0 },
	{ "POST", "/api/plan_de_cours/<int:id>/improve/<field>", h, NULL, 0,
	    0 },
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rl_arena		*a;
	struct rl_kv		*kv;
	struct rl_error		 e;
	const struct rl_route	*r;
	struct rl_param		 p[RL_ROUTE_MAX_PARAMS];
	json_t			*j;
	char			*s;
	size_t			 n, i, len;

	if (size < 1)
		return 0;
	len = size - 1;
	if ((a = rl_arena_new()) == NULL ||
	    (s = rl_arena_strndup(a, (const char *)data + 1, len)) == NULL)
		abort();
	switch (data[0] % 4) {
	case 0:
		if (rl_urlencoded_parse(a, s, len, '&', &kv, &n, &e) == RL_OK)
			for (i = 0; i < n; i++)
				if (!rl_utf8_valid(kv[i].val, kv[i].len) ||
				    strlen(kv[i].val) != kv[i].len)
					abort();
		break;
	case 1:
		(void)rl_cookies_parse(a, s, &kv, &n, &e);
		break;
	case 2:
		if (rl_json_parse((const char *)data + 1, len, &j, &e) ==
		    RL_OK) {
			if (!rl_json_depth_ok((const char *)data + 1, len,
			    RL_JSON_MAX_DEPTH))
				abort();
			json_decref(j);
		}
		break;
	default:
		if (rl_route_match(routes, sizeof(routes) / sizeof(routes[0]),
		    "GET", s, &r, p, &n) == RL_OK && r == &routes[1] &&
		    strspn(p[0].val, "0123456789") < p[0].len)
			abort();
		break;
	}
	rl_arena_free(a);
	return 0;
}
