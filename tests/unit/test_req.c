/* test_req.c: request parsers (lib/req.c): forms, cookies, JSON bodies. */
#include "config.h"

#include <string.h>

#include "arena.h"
#include "harness.h"
#include "bounds.h"
#include "req.h"

static const char *
get(const struct rl_kv *kv, size_t n, const char *k)
{

	return rl_kv_get(kv, n, k);
}

int
main(void)
{
	struct rl_arena	*a = rl_arena_new();
	struct rl_kv	*kv;
	struct rl_error	 e;
	json_t		*j;
	size_t		 n, i;
	char		 deep[RL_JSON_MAX_DEPTH * 2 + 8], *many;
	const char	*s;
	char		 e1[] = "CONTENT_TYPE=application/json";
	char		 e2[] = "HTTP_X_API_TOKEN=abc";
	char		 e3[] = "HTTP_COOKIE=a=b";
	char		*envv[] = { e1, e2, e3, NULL };
	struct rl_req	 req;

	s = "a=1&b=deux+mots&c=%C3%A9t%C3%A9&d";
	if (!ok(rl_urlencoded_parse(a, s, strlen(s), '&', &kv, &n, &e) ==
	    RL_OK && n == 4, "four fields"))
		return done();
	ok(strcmp(get(kv, n, "a"), "1") == 0, "plain value");
	ok(strcmp(get(kv, n, "b"), "deux mots") == 0, "+ is a space");
	ok(strcmp(get(kv, n, "c"), "\xc3\xa9t\xc3\xa9") == 0,
	    "percent-decoded UTF-8");
	ok(strcmp(get(kv, n, "d"), "") == 0, "key without value");
	ok(rl_urlencoded_parse(a, "x=%zz&y=%4", 10, '&', &kv, &n, &e) ==
	    RL_OK && strcmp(get(kv, n, "x"), "%zz") == 0 &&
	    strcmp(get(kv, n, "y"), "%4") == 0, "bad escapes kept literally");
	ok(rl_urlencoded_parse(a, "x=a%00b", 7, '&', &kv, &n, &e) ==
	    RL_EFORM, "NUL byte refused");
	ok(rl_urlencoded_parse(a, "x=%FF", 5, '&', &kv, &n, &e) == RL_EFORM,
	    "invalid UTF-8 refused");
	ok(rl_utf8_valid("\xc3\xa9t\xc3\xa9 \xf0\x9f\x98\x80", 10) &&
	    !rl_utf8_valid("\xc0\xaf", 2) && !rl_utf8_valid("\xed\xa0\x80", 3) &&
	    !rl_utf8_valid("\xf4\x90\x80\x80", 4) && !rl_utf8_valid("\xc3", 1),
	    "UTF-8: valid text, overlong, surrogate, > U+10FFFF, truncated");
	ok(rl_urlencoded_parse(a, "&&a=1&&", 7, '&', &kv, &n, &e) == RL_OK &&
	    n == 1, "empty pairs skipped");
	ok(rl_urlencoded_parse(a, "", 0, '&', &kv, &n, &e) == RL_OK && n == 0,
	    "empty query");
	many = rl_arena_alloc(a, (RL_FORM_MAX_FIELDS + 1) * 4 + 1);
	for (i = 0; i <= RL_FORM_MAX_FIELDS; i++)
		memcpy(many + i * 4, "a=1&", 4);
	many[(RL_FORM_MAX_FIELDS + 1) * 4] = '\0';
	ok(rl_urlencoded_parse(a, many, strlen(many), '&', &kv, &n, &e) ==
	    RL_ETOOBIG, "field count capped");

	ok(rl_cookies_parse(a, "session=abc; csrf_token=\"q w\";x=1", &kv,
	    &n, &e) == RL_OK && n == 3, "three cookies");
	ok(strcmp(get(kv, n, "session"), "abc") == 0 &&
	    strcmp(get(kv, n, "csrf_token"), "q w") == 0 &&
	    strcmp(get(kv, n, "x"), "1") == 0, "cookie values, quotes removed");

	s = "{\"message\": \"Bonjour\", \"n\": [1, {\"a\": null}]}";
	ok(rl_json_parse(s, strlen(s), &j, &e) == RL_OK && j != NULL &&
	    strcmp(json_string_value(json_object_get(j, "message")),
	    "Bonjour") == 0, "JSON body parsed");
	json_decref(j);
	s = "{\"role\": \"invite\", \"role\": \"admin\"}";
	ok(rl_json_parse(s, strlen(s), &j, &e) == RL_EJSON && j == NULL,
	    "duplicate keys rejected");
	s = "{\"a\": ";
	ok(rl_json_parse(s, strlen(s), &j, &e) == RL_EJSON &&
	    strstr(e.msg, "line 1") != NULL, "truncated JSON, position given");
	memset(deep, '[', RL_JSON_MAX_DEPTH + 1);
	memset(deep + RL_JSON_MAX_DEPTH + 1, ']', RL_JSON_MAX_DEPTH + 1);
	ok(rl_json_parse(deep, (RL_JSON_MAX_DEPTH + 1) * 2, &j, &e) ==
	    RL_EJSON && strstr(e.msg, "deeper") != NULL, "depth capped");
	ok(rl_json_parse(deep + 1, RL_JSON_MAX_DEPTH * 2, &j, &e) == RL_OK,
	    "depth at the limit accepted");
	json_decref(j);
	s = "{\"s\": \"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
	    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\\\"[[[\"}";
	ok(rl_json_depth_ok(s, strlen(s), 2), "brackets in strings ignored");
	ok(rl_json_parse("\"a\\u0000b\"", 10, &j, &e) == RL_EJSON,
	    "NUL escape refused");

	memset(&req, 0, sizeof(req));
	req.env = envv;
	ok(strcmp(rl_req_header(&req, "Content-Type"), "application/json") ==
	    0, "Content-Type from CONTENT_TYPE");
	ok(strcmp(rl_req_header(&req, "x-api-token"), "abc") == 0,
	    "header name case and dashes");
	ok(rl_req_header(&req, "X-Missing") == NULL, "missing header");
	rl_arena_free(a);
	return done();
}
