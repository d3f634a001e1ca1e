/*
 * test_schema: the schema module -- keywords, Pydantic lax and strict
 * coercions, defaults, error items, $ref recursion, load-time refusals,
 * the OpenAI linter and converter, the registry, and validation from
 * eight threads at once.
 */
#include "config.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "relais.h"
#include "schema.h"
#include "harness.h"

static struct rl_schema *
sc(const char *text, unsigned flags)
{
	json_error_t		 je;
	json_t			*js;
	struct rl_schema	*s;
	struct rl_error		 e;

	if ((js = json_loads(text, 0, &je)) == NULL) {
		diag("bad test schema: %s", je.text);
		return NULL;
	}
	s = rl_schema_compile(js, flags, &e);
	if (s == NULL)
		diag("compile: %s at %s", e.msg, e.where);
	json_decref(js);
	return s;
}

/* Validates text; returns the code, *out the value or the errors. */
static enum rl_err
val(const struct rl_schema *s, const char *text, json_t **out)
{
	json_t		*in, *v = NULL, *errs = NULL;
	struct rl_error	 e;
	enum rl_err	 rc;

	in = json_loads(text, JSON_DECODE_ANY, NULL);
	rc = rl_schema_validate(s, in, &v, &errs, &e);
	json_decref(in);
	if (out != NULL)
		*out = rc == RL_OK ? v : errs;
	else {
		json_decref(v);
		json_decref(errs);
	}
	return rc;
}

static int
is_json(json_t *v, const char *want)
{
	json_t	*w = json_loads(want, JSON_DECODE_ANY, NULL);
	int	 eq = v != NULL && w != NULL && json_equal(v, w);
	char	*got;

	if (!eq) {
		got = v != NULL ? json_dumps(v, JSON_COMPACT |
		    JSON_ENCODE_ANY) : NULL;
		diag("got %s, want %s", got != NULL ? got : "NULL", want);
		free(got);
	}
	json_decref(w);
	return eq;
}

/* Validates and compares the validated value (or error list). */
static int
check(const struct rl_schema *s, const char *in, enum rl_err want_rc,
    const char *want)
{
	json_t		*out = NULL;
	enum rl_err	 rc = val(s, in, &out);
	int		 r;

	if (rc != want_rc)
		diag("rc %d, want %d", rc, want_rc);
	r = rc == want_rc && is_json(out, want);
	json_decref(out);
	return r;
}

static void
test_lax(void)
{
	struct rl_schema *s;

	s = sc("{\"type\":\"object\",\"properties\":{"
	    "\"i\":{\"type\":\"integer\"},\"f\":{\"type\":\"number\"},"
	    "\"b\":{\"type\":\"boolean\"},\"s\":{\"type\":\"string\"}},"
	    "\"additionalProperties\":false}", RL_SCHEMA_LAX);
	ok(s != NULL, "lax schema compiles");
	ok(check(s, "{\"i\":\"12\"}", RL_OK, "{\"i\":12}"), "\"12\" -> 12");
	ok(check(s, "{\"i\":2.0}", RL_OK, "{\"i\":2}"), "2.0 -> 2");
	ok(check(s, "{\"i\":\" 1_000 \"}", RL_OK, "{\"i\":1000}"),
	    "\" 1_000 \" -> 1000");
	ok(check(s, "{\"i\":\"+5.00\"}", RL_OK, "{\"i\":5}"), "\"+5.00\" -> 5");
	ok(check(s, "{\"i\":true}", RL_OK, "{\"i\":1}"), "true -> 1");
	ok(check(s, "{\"i\":\"0x10\"}", RL_EVALIDATION,
	    "[{\"type\":\"int_parsing\",\"loc\":[\"i\"],\"msg\":\"Input "
	    "should be a valid integer, unable to parse string as an "
	    "integer\",\"input\":\"0x10\"}]"), "\"0x10\" -> int_parsing");
	ok(check(s, "{\"i\":2.5}", RL_EVALIDATION,
	    "[{\"type\":\"int_from_float\",\"loc\":[\"i\"],\"msg\":\"Input "
	    "should be a valid integer, got a number with a fractional "
	    "part\",\"input\":2.5}]"), "2.5 -> int_from_float");
	ok(check(s, "{\"f\":\"3.5\"}", RL_OK, "{\"f\":3.5}"), "\"3.5\" -> 3.5");
	ok(check(s, "{\"f\":2}", RL_OK, "{\"f\":2.0}"), "2 -> 2.0");
	ok(check(s, "{\"b\":\"yes\"}", RL_OK, "{\"b\":true}"), "yes -> true");
	ok(check(s, "{\"b\":\"Off\"}", RL_OK, "{\"b\":false}"), "Off -> false");
	ok(check(s, "{\"b\":1}", RL_OK, "{\"b\":true}"), "1 -> true");
	ok(check(s, "{\"b\":\"on\"}", RL_OK, "{\"b\":true}"), "on -> true");
	ok(check(s, "{\"b\":2}", RL_EVALIDATION,
	    "[{\"type\":\"bool_parsing\",\"loc\":[\"b\"],\"msg\":\"Input "
	    "should be a valid boolean, unable to interpret input\","
	    "\"input\":2}]"), "2 -> bool_parsing");
	ok(check(s, "{\"s\":12}", RL_EVALIDATION,
	    "[{\"type\":\"string_type\",\"loc\":[\"s\"],\"msg\":\"Input "
	    "should be a valid string\",\"input\":12}]"),
	    "no number -> string coercion");
	rl_schema_free(s);

	s = sc("{\"type\":\"object\",\"properties\":{"
	    "\"i\":{\"type\":\"integer\"},\"b\":{\"type\":\"boolean\"},"
	    "\"f\":{\"type\":\"number\"}}}", RL_SCHEMA_STRICT);
	ok(check(s, "{\"i\":\"12\"}", RL_EVALIDATION,
	    "[{\"type\":\"int_type\",\"loc\":[\"i\"],\"msg\":\"Input should "
	    "be a valid integer\",\"input\":\"12\"}]"), "strict: no \"12\"");
	ok(val(s, "{\"i\":1.0}", NULL) == RL_EVALIDATION, "strict: no 1.0");
	ok(val(s, "{\"b\":\"true\"}", NULL) == RL_EVALIDATION,
	    "strict: no \"true\"");
	ok(check(s, "{\"f\":\"1\"}", RL_EVALIDATION,
	    "[{\"type\":\"float_type\",\"loc\":[\"f\"],\"msg\":\"Input should "
	    "be a valid number\",\"input\":\"1\"}]"), "strict: float_type");
	ok(check(s, "{\"i\":3,\"f\":1}", RL_OK, "{\"i\":3,\"f\":1.0}"),
	    "strict: int for a number");
	rl_schema_free(s);
}

static void
test_errors(void)
{
	struct rl_schema *s;

	s = sc("{\"title\":\"M\",\"type\":\"object\",\"properties\":{"
	    "\"a\":{\"type\":\"integer\",\"minimum\":3,\"multipleOf\":2},"
	    "\"f\":{\"type\":\"number\",\"maximum\":10},"
	    "\"s\":{\"type\":\"string\",\"minLength\":2,\"maxLength\":3,"
	    "\"pattern\":\"^a\"},"
	    "\"l\":{\"type\":\"array\",\"items\":{\"type\":\"integer\"},"
	    "\"minItems\":1},"
	    "\"e\":{\"enum\":[\"x\",\"y\",\"it's\"]},"
	    "\"n\":{\"anyOf\":[{\"type\":\"integer\"},{\"type\":\"null\"}]}"
	    "},\"required\":[\"a\",\"s\"],\"additionalProperties\":false}",
	    RL_SCHEMA_LAX);
	ok(check(s, "{\"z\":1,\"a\":1}", RL_EVALIDATION,
	    "[{\"type\":\"extra_forbidden\",\"loc\":[\"z\"],\"msg\":\"Extra "
	    "inputs are not permitted\",\"input\":1},"
	    "{\"type\":\"multiple_of\",\"loc\":[\"a\"],\"msg\":\"Input should "
	    "be a multiple of 2\",\"input\":1,\"ctx\":{\"multiple_of\":2}},"
	    "{\"type\":\"missing\",\"loc\":[\"s\"],\"msg\":\"Field "
	    "required\",\"input\":{\"z\":1,\"a\":1}}]"),
	    "extra first, first failing constraint, missing has the parent");
	ok(check(s, "{\"a\":2,\"s\":\"abcd\",\"f\":11}", RL_EVALIDATION,
	    "[{\"type\":\"greater_than_equal\",\"loc\":[\"a\"],\"msg\":"
	    "\"Input should be greater than or equal to 3\",\"input\":2,"
	    "\"ctx\":{\"ge\":3}},"
	    "{\"type\":\"less_than_equal\",\"loc\":[\"f\"],\"msg\":\"Input "
	    "should be less than or equal to 10\",\"input\":11,\"ctx\":"
	    "{\"le\":10.0}},"
	    "{\"type\":\"string_too_long\",\"loc\":[\"s\"],\"msg\":\"String "
	    "should have at most 3 characters\",\"input\":\"abcd\",\"ctx\":"
	    "{\"max_length\":3}}]"), "bounds; float ctx keeps floats");
	ok(check(s, "{\"a\":4,\"s\":\"bc\",\"l\":[],\"e\":\"q\"}",
	    RL_EVALIDATION,
	    "[{\"type\":\"string_pattern_mismatch\",\"loc\":[\"s\"],\"msg\":"
	    "\"String should match pattern '^a'\",\"input\":\"bc\",\"ctx\":"
	    "{\"pattern\":\"^a\"}},"
	    "{\"type\":\"too_short\",\"loc\":[\"l\"],\"msg\":\"List should "
	    "have at least 1 item after validation, not 0\",\"input\":[],"
	    "\"ctx\":{\"field_type\":\"List\",\"min_length\":1,"
	    "\"actual_length\":0}},"
	    "{\"type\":\"literal_error\",\"loc\":[\"e\"],\"msg\":\"Input "
	    "should be 'x', 'y' or \\\"it's\\\"\",\"input\":\"q\",\"ctx\":"
	    "{\"expected\":\"'x', 'y' or \\\"it's\\\"\"}}]"),
	    "pattern, too_short, literal_error with Python reprs");
	ok(check(s, "{\"a\":4,\"s\":\"ab\",\"l\":[1,\"x\"],\"n\":\"q\"}",
	    RL_EVALIDATION,
	    "[{\"type\":\"int_parsing\",\"loc\":[\"l\",1],\"msg\":\"Input "
	    "should be a valid integer, unable to parse string as an "
	    "integer\",\"input\":\"x\"},"
	    "{\"type\":\"int_parsing\",\"loc\":[\"n\"],\"msg\":\"Input "
	    "should be a valid integer, unable to parse string as an "
	    "integer\",\"input\":\"q\"}]"),
	    "list index in loc; Optional[int] reports the int error");
	ok(check(s, "[1]", RL_EVALIDATION,
	    "[{\"type\":\"model_type\",\"loc\":[],\"msg\":\"Input should be "
	    "an object\",\"input\":[1],\"ctx\":{\"class_name\":\"M\"}}]"),
	    "model_type at the root");
	rl_schema_free(s);

	s = sc("{\"type\":\"object\",\"properties\":{\"u\":{\"anyOf\":["
	    "{\"type\":\"integer\"},{\"type\":\"string\"}]}}}", RL_SCHEMA_LAX);
	ok(check(s, "{\"u\":[1]}", RL_EVALIDATION,
	    "[{\"type\":\"int_type\",\"loc\":[\"u\",\"int\"],\"msg\":\"Input "
	    "should be a valid integer\",\"input\":[1]},"
	    "{\"type\":\"string_type\",\"loc\":[\"u\",\"str\"],\"msg\":"
	    "\"Input should be a valid string\",\"input\":[1]}]"),
	    "union: each member under its name");
	ok(check(s, "{\"u\":\"5\"}", RL_OK, "{\"u\":\"5\"}"),
	    "smart union: exact str beats lax int");
	rl_schema_free(s);
}

static void
test_defaults_refs(void)
{
	struct rl_schema	*s;
	json_t			*in, *out = NULL;
	struct rl_error		 e;

	s = sc("{\"type\":\"object\",\"properties\":{"
	    "\"a\":{\"type\":\"integer\",\"default\":7},"
	    "\"o\":{\"anyOf\":[{\"type\":\"string\"},{\"type\":\"null\"}],"
	    "\"default\":null},"
	    "\"l\":{\"type\":\"array\",\"items\":{\"type\":\"integer\"},"
	    "\"default\":[]}}}", RL_SCHEMA_LAX);
	ok(check(s, "{}", RL_OK, "{\"a\":7,\"o\":null,\"l\":[]}"),
	    "defaults fill missing fields");
	in = json_loads("{\"a\":\"3\"}", 0, NULL);
	ok(rl_schema_validate(s, in, &out, NULL, &e) == RL_OK &&
	    json_integer_value(json_object_get(in, "a")) == 0 &&
	    json_is_string(json_object_get(in, "a")), "input not modified");
	json_decref(out);
	json_decref(in);
	rl_schema_free(s);

	s = sc("{\"$defs\":{\"node\":{\"type\":\"object\",\"properties\":{"
	    "\"v\":{\"type\":\"integer\"},\"next\":{\"anyOf\":[{\"$ref\":"
	    "\"#/$defs/node\"},{\"type\":\"null\"}]}},\"required\":[\"v\","
	    "\"next\"],\"additionalProperties\":false}},"
	    "\"$ref\":\"#/$defs/node\"}", RL_SCHEMA_LAX);
	ok(s != NULL, "recursive $defs compile");
	ok(check(s, "{\"v\":1,\"next\":{\"v\":\"2\",\"next\":null}}", RL_OK,
	    "{\"v\":1,\"next\":{\"v\":2,\"next\":null}}"),
	    "recursion: coerced deep inside");
	ok(check(s, "{\"v\":1,\"next\":{\"v\":2,\"next\":{\"v\":\"x\","
	    "\"next\":null}}}", RL_EVALIDATION,
	    "[{\"type\":\"int_parsing\",\"loc\":[\"next\",\"next\",\"v\"],"
	    "\"msg\":\"Input should be a valid integer, unable to parse "
	    "string as an integer\",\"input\":\"x\"}]"), "recursion: loc");
	rl_schema_free(s);

	s = sc("{\"type\":\"object\",\"properties\":{\"c\":{\"$ref\":\"#\"}}}",
	    RL_SCHEMA_LAX);
	ok(check(s, "{\"c\":{\"c\":{\"c\":{}}}}", RL_OK,
	    "{\"c\":{\"c\":{\"c\":{}}}}"), "\"$ref\": \"#\"");
	ok(val(s, "{\"c\":{\"c\":1}}", NULL) == RL_EVALIDATION,
	    "\"$ref\": \"#\" invalid deep");
	rl_schema_free(s);

	s = sc("{\"$defs\":{\"a\":{\"$ref\":\"#/$defs/b\"},\"b\":{\"$ref\":"
	    "\"#/$defs/a\"}},\"$ref\":\"#/$defs/a\"}", RL_SCHEMA_LAX);
	ok(s != NULL && val(s, "1", NULL) == RL_EINVAL,
	    "a $ref cycle without progress stops at the depth limit");
	rl_schema_free(s);
}

static void
test_refusals(void)
{
	json_t		*js;
	struct rl_error	 e;
	struct rl_schema *s;

	js = json_loads("{\"type\":\"object\",\"properties\":{\"a\":{"
	    "\"type\":\"array\",\"items\":{\"contains\":{}}}}}", 0, NULL);
	s = rl_schema_compile(js, 0, &e);
	ok(s == NULL && e.code == RL_EINVAL &&
	    strstr(e.msg, "'contains'") != NULL &&
	    strcmp(e.where, "#/properties/a/items/contains") == 0,
	    "unsupported keyword refused with its pointer (%s at %s)",
	    e.msg, e.where);
	json_decref(js);
	js = json_loads("{\"$ref\":\"http://x/y.json\"}", 0, NULL);
	ok(rl_schema_compile(js, 0, &e) == NULL && strcmp(e.where, "#") == 0,
	    "remote $ref refused");
	json_decref(js);
	js = json_loads("{\"pattern\":\"(?=a)\"}", 0, NULL);
	ok(rl_schema_compile(js, 0, &e) == NULL &&
	    strstr(e.msg, "lookaround") != NULL, "lookahead refused: %s",
	    e.msg);
	json_decref(js);
	js = json_loads("{\"$ref\":\"#/$defs/nope\"}", 0, NULL);
	ok(rl_schema_compile(js, 0, &e) == NULL, "dangling $ref refused");
	json_decref(js);
}

static void
test_regex(void)
{
	static const struct {
		const char	*re, *s;
		int		 want;
	} t[] = {
		{ "^[a-z]+$", "abc", 1 }, { "^[a-z]+$", "abc\n", 0 },
		{ "\\d{3}-\\d{4}", "x555-1234y", 1 }, { "^\\d+$", "١٢", 0 },
		{ "^(ab|cd)*e?$", "abcdab", 1 }, { "^(ab|cd)*e?$", "abce", 0 },
		{ "^a{2,3}$", "aaaa", 0 }, { "^a{2,}$", "aaaa", 1 },
		{ "\\bfoo\\b", "a foo b", 1 }, { "\\bfoo\\b", "afoo", 0 },
		{ "^.$", "é", 1 }, { "^[^é]$", "é", 0 }, { "^\\w+$", "é", 0 },
		{ "^#[0-9A-Fa-f]{6}$", "#A0b1C2", 1 }, { "^(a*)*b$",
		    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaac", 0 },
		{ "^\\p{L}$", "a", -1 }, { "(a)\\1", "aa", -1 },
	};
	struct rl_schema_re	*re;
	char			 err[128];
	size_t			 i;
	int			 r;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		re = rl_schema_re_compile(t[i].re, err, sizeof(err));
		r = re == NULL ? -1 : rl_schema_re_search(re, t[i].s,
		    strlen(t[i].s));
		ok(r == t[i].want, "/%s/ on \"%s\": %d", t[i].re, t[i].s, r);
		rl_schema_re_free(re);
	}
}

static void
test_lint_strict(void)
{
	json_t		*js, *rep = NULL, *out = NULL;
	struct rl_error	 e;
	const char	*m0;
	char		*dump;

	js = json_loads("{\"type\":\"object\",\"properties\":{\"u\":{"
	    "\"anyOf\":[{\"type\":\"object\",\"properties\":{\"x\":{\"type\":"
	    "\"string\"}}},{\"type\":\"null\"}]},\"o\":{\"oneOf\":[{\"type\":"
	    "\"string\"}]}},\"required\":[\"u\"]}", 0, NULL);
	ok(rl_schema_lint(js, &rep) == RL_OK && json_array_size(rep) == 5,
	    "lint: 5 violations (%zu)", json_array_size(rep));
	m0 = json_string_value(json_object_get(json_array_get(rep, 0),
	    "message"));
	ok(m0 != NULL && strcmp(m0, "In context=(), 'additionalProperties' "
	    "is required to be supplied and to be false.") == 0,
	    "lint: root additionalProperties (%s)", m0 ? m0 : "");
	dump = json_dumps(rep, 0);
	ok(dump != NULL && strstr(dump,
	    "In context=('properties', 'u', 'anyOf', '0'), "
	    "'additionalProperties' is required") != NULL,
	    "lint: OpenAI context tuple inside anyOf");
	free(dump);
	json_decref(rep);
	json_decref(js);

	js = json_loads("{\"anyOf\":[{\"type\":\"object\"}]}", 0, NULL);
	rl_schema_lint(js, &rep);
	ok(json_array_size(rep) >= 2, "lint: root anyOf refused");
	json_decref(rep);
	json_decref(js);

	js = json_loads("{\"type\":\"object\",\"properties\":{"
	    "\"a\":{\"anyOf\":[{\"type\":\"integer\"},{\"type\":\"null\"}],"
	    "\"default\":null},\"b\":{\"allOf\":[{\"$ref\":\"#/$defs/B\"}]},"
	    "\"c\":{\"$ref\":\"#/$defs/B\",\"description\":\"see B\"}},"
	    "\"$defs\":{\"B\":{\"type\":\"object\",\"properties\":{\"x\":{"
	    "\"type\":\"integer\",\"default\":1}}}}}", 0, NULL);
	ok(rl_schema_to_strict(js, &out, &e) == RL_OK, "to_strict");
	ok(is_json(out, "{\"type\":\"object\",\"properties\":{"
	    "\"a\":{\"anyOf\":[{\"type\":\"integer\"},{\"type\":\"null\"}]},"
	    "\"b\":{\"$ref\":\"#/$defs/B\"},"
	    "\"c\":{\"type\":\"object\",\"properties\":{\"x\":{\"type\":"
	    "\"integer\",\"default\":1}},\"required\":[\"x\"],"
	    "\"additionalProperties\":false,\"description\":\"see B\"}},"
	    "\"$defs\":{\"B\":{\"type\":\"object\",\"properties\":{\"x\":{"
	    "\"type\":\"integer\",\"default\":1}},\"required\":[\"x\"],"
	    "\"additionalProperties\":false}},\"additionalProperties\":false,"
	    "\"required\":[\"a\",\"b\",\"c\"]}"),
	    "to_strict: SDK rules (required, default null, allOf, $ref)");
	rep = NULL;
	rl_schema_lint(out, &rep);
	ok(rep != NULL && json_array_size(rep) == 2,
	    "to_strict output lints clean but for the non-null defaults");
	json_decref(rep);
	json_decref(out);
	json_decref(js);
}

static void
test_registry(void)
{
	const char	*src = getenv("top_srcdir");
	char		 dir[4096], path[4200];
	struct rl_error	 e;
	json_t		*errs, *body, *rep, *js;
	static const char *const ids[] = { "PlanDeCoursAIResponse",
	    "AISixLevelGridResponse", "ImportPlanDeCoursResponse",
	    "CalendarOnlyResponse", "EvaluationsResponse",
	    "SingleFieldResponse", "AIPlandeCoursResponse",
	    "BulkPlanDeCoursResponse", "PlanCadreAIResponse",
	    "ImportPlanCadreResponse", "logigramme_links", "grille_cours",
	    "programme_etudes", "extraire_competences_en_json", NULL };
	size_t		 i;
	int		 clean = 1;

	(void)snprintf(dir, sizeof(dir), "%s/lib/schemas",
	    src != NULL ? src : "..");
	ok(rl_schema_registry_load(dir, &e) == RL_OK, "registry loads %s",
	    dir);
	for (i = 0; ids[i] != NULL; i++) {
		ok(rl_schema_get(ids[i]) != NULL, "registry has %s", ids[i]);
		(void)snprintf(path, sizeof(path), "%s/%s.json", dir, ids[i]);
		js = json_load_file(path, 0, NULL);
		rep = NULL;
		if (js == NULL || rl_schema_lint(js, &rep) != RL_OK ||
		    json_array_size(rep) != 0)
			clean = 0;
		json_decref(rep);
		json_decref(js);
	}
	ok(clean, "every lib/schemas file passes the strict linter");
	ok(rl_schema_get("nope") == NULL, "unknown id");
	ok(val(rl_schema_get("logigramme_links"), "{\"links\":[{"
	    "\"cours_code\":\"420-1A\",\"competence_code\":\"00Q1\","
	    "\"type\":\"atteint\"}]}", NULL) == RL_OK, "logigramme valid");
	ok(val(rl_schema_get("logigramme_links"), "{\"links\":[{"
	    "\"cours_code\":\"420-1A\",\"competence_code\":\"00Q1\","
	    "\"type\":\"maitrise\"}]}", &errs) == RL_EVALIDATION,
	    "logigramme: bad type refused");
	ok(rl_schema_fastapi_422(errs, "body", &body) == RL_OK &&
	    is_json(body, "{\"detail\":[{\"type\":\"literal_error\","
	    "\"loc\":[\"body\",\"links\",0,\"type\"],\"msg\":\"Input should "
	    "be 'developpe', 'atteint' or 'reinvesti'\",\"input\":"
	    "\"maitrise\",\"ctx\":{\"expected\":\"'developpe', 'atteint' or "
	    "'reinvesti'\"}}]}"), "FastAPI 422 envelope");
	json_decref(body);
	json_decref(errs);
}

#define NTHREADS	8
#define NLOOPS		2000

static void *
worker(void *arg)
{
	const struct rl_schema	*s = arg;
	json_t			*good, *bad, *out, *errs;
	struct rl_error		 e;
	long			 fails = 0;
	int			 i;

	good = json_loads("{\"calendriers\":[{\"semaine\":\"1\",\"sujet\":"
	    "\"Intro\",\"activites\":null,\"travaux_hors_classe\":null,"
	    "\"evaluations\":null}]}", 0, NULL);
	bad = json_loads("{\"calendriers\":[{\"semaine\":\"x\"}]}", 0, NULL);
	for (i = 0; i < NLOOPS; i++) {
		out = errs = NULL;
		if (rl_schema_validate(s, good, &out, &errs, &e) != RL_OK ||
		    json_integer_value(json_object_get(json_array_get(
		    json_object_get(out, "calendriers"), 0), "semaine")) != 1)
			fails++;
		json_decref(out);
		out = NULL;
		if (rl_schema_validate(s, bad, &out, &errs, &e) !=
		    RL_EVALIDATION || json_array_size(errs) != 5)
			fails++;
		json_decref(errs);
	}
	json_decref(good);
	json_decref(bad);
	return (void *)fails;
}

static void
test_threads(void)
{
	pthread_t	 t[NTHREADS];
	void		*r;
	long		 fails = 0;
	int		 i;
	const struct rl_schema *s = rl_schema_get("CalendarOnlyResponse");

	for (i = 0; i < NTHREADS; i++)
		pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)s);
	for (i = 0; i < NTHREADS; i++) {
		pthread_join(t[i], &r);
		fails += (long)r;
	}
	ok(s != NULL && fails == 0, "%d threads x %d validations: %ld wrong",
	    NTHREADS, NLOOPS, fails);
}

int
main(void)
{

	test_lax();
	test_errors();
	test_defaults_refs();
	test_refusals();
	test_regex();
	test_lint_strict();
	test_registry();
	test_threads();
	rl_schema_registry_free();
	return done();
}
