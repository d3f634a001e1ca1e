/*
 * test_schema: the schema module -- keywords, Pydantic lax and strict
 * coercions, defaults, error items, $ref recursion, load-time refusals,
 * the OpenAI linter and converter, the registry, validation from eight
 * threads at once, and the fast path against the full validator.
 */
#include "config.h"

#include <dirent.h>
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

/*
 * The fast path and the full validator (RL_SCHEMA_NOFAST) agree on in:
 * rl_schema_valid, and rl_schema_validate's code, value and errors.
 */
static int
agree_1(const struct rl_schema *fast, const struct rl_schema *full,
    json_t *in)
{
	struct rl_error		 e;
	json_t			*o1 = NULL, *o2 = NULL, *e1 = NULL, *e2 = NULL;
	enum rl_err		 r1, r2;
	int			 same;

	r1 = rl_schema_validate(fast, in, &o1, &e1, &e);
	r2 = rl_schema_validate(full, in, &o2, &e2, &e);
	same = r1 == r2 && (o1 == NULL ? o2 == NULL : json_equal(o1, o2)) &&
	    (e1 == NULL ? e2 == NULL : json_equal(e1, e2)) &&
	    rl_schema_valid(fast, in) == rl_schema_valid(full, in);
	if (!same)
		diag("fast %d, full %d", r1, r2);
	json_decref(o1);
	json_decref(o2);
	json_decref(e1);
	json_decref(e2);
	return same;
}

static int
agree(const char *schema, unsigned flags, json_t *in)
{
	struct rl_schema	*fast, *full;
	int			 same = 0;

	fast = sc(schema, flags);
	full = sc(schema, flags | RL_SCHEMA_NOFAST);
	if (fast != NULL && full != NULL && in != NULL)
		same = agree_1(fast, full, in);
	rl_schema_free(fast);
	rl_schema_free(full);
	return same;
}

static int
agree_text(const char *schema, unsigned flags, const char *text)
{
	json_t	*in = json_loads(text, JSON_DECODE_ANY, NULL);
	int	 r = agree(schema, flags, in);

	json_decref(in);
	return r;
}

/* Every instance of the pydantic corpus, lax and strict. */
static void
test_fast_corpus(void)
{
	const char	*src = getenv("top_srcdir");
	char		 dir[4096], path[8400], *schema;
	DIR		*d;
	struct dirent	*de;
	json_t		*js, *in;
	int		 n = 0, bad = 0, i;
	static const char *const ids[] = { "PlanDeCoursAIResponse",
	    "AISixLevelGridResponse", "ImportPlanDeCoursResponse",
	    "CalendarOnlyResponse", "EvaluationsResponse",
	    "SingleFieldResponse", "AIPlandeCoursResponse",
	    "BulkPlanDeCoursResponse", "PlanCadreAIResponse",
	    "ImportPlanCadreResponse", "logigramme_links", "grille_cours",
	    "programme_etudes", "extraire_competences_en_json", NULL };

	for (i = 0; ids[i] != NULL; i++) {
		(void)snprintf(path, sizeof(path), "%s/lib/schemas/%s.json",
		    src != NULL ? src : "..", ids[i]);
		js = json_load_file(path, 0, NULL);
		schema = js != NULL ? json_dumps(js, 0) : NULL;
		json_decref(js);
		(void)snprintf(dir, sizeof(dir),
		    "%s/tests/conformance/pydantic/%s",
		    src != NULL ? src : "..", ids[i]);
		if (schema == NULL || (d = opendir(dir)) == NULL) {
			diag("%s: no schema or no corpus", ids[i]);
			bad++;
			free(schema);
			continue;
		}
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			(void)snprintf(path, sizeof(path), "%s/%s", dir,
			    de->d_name);
			/* The "bad-json" instances are not JSON. */
			if ((in = json_load_file(path, JSON_DECODE_ANY,
			    NULL)) == NULL)
				continue;
			n += 2;
			if (!agree(schema, RL_SCHEMA_LAX, in) ||
			    !agree(schema, RL_SCHEMA_STRICT, in)) {
				diag("%s/%s", ids[i], de->d_name);
				bad++;
			}
			json_decref(in);
		}
		closedir(d);
		free(schema);
	}
	ok(n > 600 && bad == 0, "fast path = full validator on %d pydantic "
	    "corpus instance and mode pairs (%d differ)", n, bad);
}

/* What a mutation puts in place of a value: each JSON type, coercibles. */
static const char *const repl[] = { "null", "1", "1.5", "\"1\"", "\"x\"",
    "true", "[]", "{}", "2.0", "\"yes\"", NULL };
#define MUT_DEL		10	/* delete the key or item */
#define MUT_EXTRA	11	/* add a key beside it */
#define MUT_KINDS	12

/* Mutates the k-th value in pre-order (root excluded); 1 when done. */
static int
mutate(json_t *v, int *k, int how)
{
	const char	*key;
	json_t		*c;
	void		*tmp;
	size_t		 i;

	if (json_is_object(v)) {
		json_object_foreach_safe(v, tmp, key, c) {
			if ((*k)-- > 0) {
				if (mutate(c, k, how))
					return 1;
				continue;
			}
			if (how == MUT_DEL)
				json_object_del(v, key);
			else if (how == MUT_EXTRA)
				json_object_set_new(v, "zz_extra", json_null());
			else
				json_object_set_new(v, key,
				    json_loads(repl[how], JSON_DECODE_ANY,
				    NULL));
			return 1;
		}
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, c) {
			if ((*k)-- > 0) {
				if (mutate(c, k, how))
					return 1;
				continue;
			}
			if (how >= MUT_DEL)
				json_array_remove(v, i);
			else
				json_array_set_new(v, i, json_loads(repl[how],
				    JSON_DECODE_ANY, NULL));
			return 1;
		}
	}
	return 0;
}

/*
 * Each valid instance of the pydantic corpus with one value replaced by
 * each kind of JSON value, deleted, or given an extra sibling: the fast
 * path must still agree with the full validator, lax and strict.
 */
static void
test_fast_mutations(void)
{
	const char		*src = getenv("top_srcdir");
	char			 path[4200];
	struct rl_schema	*fast[2], *full[2];
	struct rl_error		 e;
	json_t			*doc, *m;
	unsigned		 mode;
	int			 i, j, k, left, how, n = 0, bad = 0, nodes;
	static const char *const ids[] = { "BulkPlanDeCoursResponse",
	    "PlanCadreAIResponse", "ImportPlanDeCoursResponse",
	    "AISixLevelGridResponse", "grille_cours", "programme_etudes",
	    "extraire_competences_en_json", "logigramme_links", NULL };

	for (i = 0; ids[i] != NULL; i++) {
		(void)snprintf(path, sizeof(path), "%s/lib/schemas/%s.json",
		    src != NULL ? src : "..", ids[i]);
		for (j = 0; j < 2; j++) {
			mode = j ? RL_SCHEMA_STRICT : RL_SCHEMA_LAX;
			fast[j] = rl_schema_load(path, mode, &e);
			full[j] = rl_schema_load(path, mode | RL_SCHEMA_NOFAST,
			    &e);
		}
		(void)snprintf(path, sizeof(path),
		    "%s/tests/conformance/pydantic/%s/00-valid.json",
		    src != NULL ? src : "..", ids[i]);
		doc = json_load_file(path, 0, NULL);
		if (doc == NULL || fast[0] == NULL || fast[1] == NULL ||
		    full[0] == NULL || full[1] == NULL) {
			diag("%s: no schema or no 00-valid.json", ids[i]);
			bad++;
		}
		/* How many values: mutate past the end counts them. */
		nodes = 0;
		if (doc != NULL) {
			m = json_deep_copy(doc);
			left = 1 << 30;
			(void)mutate(m, &left, 0);
			nodes = (1 << 30) - left;
			json_decref(m);
		}
		for (k = 0; k < nodes && bad == 0; k++)
			for (how = 0; how < MUT_KINDS; how++) {
				m = json_deep_copy(doc);
				left = k;
				(void)mutate(m, &left, how);
				for (j = 0; j < 2; j++) {
					n++;
					if (agree_1(fast[j], full[j], m))
						continue;
					diag("%s: value %d, mutation %d",
					    ids[i], k, how);
					bad++;
				}
				json_decref(m);
			}
		json_decref(doc);
		for (j = 0; j < 2; j++) {
			rl_schema_free(fast[j]);
			rl_schema_free(full[j]);
		}
	}
	ok(n > 1000 && bad == 0, "fast path = full validator on %d mutated "
	    "instances (%d differ)", n, bad);
}

/* Deeper than RL_SCHEMA_MAX_DEPTH levels of {"c": ...}. */
static json_t *
deep(int levels, json_t *leaf)
{
	json_t	*v = leaf, *o;
	int	 i;

	for (i = 0; i < levels; i++) {
		o = json_object();
		json_object_set_new(o, "c", v);
		v = o;
	}
	return v;
}

static void
test_fast_cases(void)
{
	static const char model[] = "{\"type\":\"object\",\"properties\":{"
	    "\"alpha\":{\"type\":\"integer\"},"
	    "\"beta_long_name_of_a_field\":{\"anyOf\":[{\"type\":\"string\"},"
	    "{\"type\":\"null\"}]},\"g\":{\"type\":\"number\"}},"
	    "\"required\":[\"alpha\",\"beta_long_name_of_a_field\",\"g\"],"
	    "\"additionalProperties\":false}";
	/* Nullable, not a union: a union tried at every level is 2^n. */
	static const char rec[] = "{\"type\":\"object\",\"properties\":{"
	    "\"c\":{\"anyOf\":[{\"$ref\":\"#\"},{\"type\":\"null\"}]}}}";
	struct rl_schema	*s = NULL;
	struct rl_error		 e;
	json_t			*in, *out;
	char			*big, k[16];
	size_t			 o, bigsz = 8192;
	int			 i, bad = 0;

	ok(agree_text(model, RL_SCHEMA_LAX, "{\"alpha\":1,"
	    "\"beta_long_name_of_a_field\":null,\"g\":1.5}") &&
	    agree_text(model, RL_SCHEMA_LAX, "{\"g\":1.5,\"alpha\":1,"
	    "\"beta_long_name_of_a_field\":\"x\"}"),
	    "fast path: keys in and out of schema order");
	ok(agree_text(model, RL_SCHEMA_LAX, "{\"alpha\":1,"
	    "\"beta_long_name_of_a_field\":null,\"g\":1}") &&
	    agree_text(model, RL_SCHEMA_STRICT, "{\"alpha\":\"1\","
	    "\"beta_long_name_of_a_field\":null,\"g\":1.5}") &&
	    agree_text(model, RL_SCHEMA_LAX, "{\"alpha\":1.0,"
	    "\"beta_long_name_of_a_field\":null,\"g\":true}"),
	    "fast path: coercions go to the full validator");
	ok(agree_text(model, RL_SCHEMA_LAX, "{\"alpha\":1,"
	    "\"beta_long_name_of_a_field\":null,\"g\":1.5,\"x\":0}") &&
	    agree_text(model, RL_SCHEMA_LAX, "{\"alpha\":1,\"g\":1.5}") &&
	    agree_text(model, RL_SCHEMA_LAX, "{\"alpha\":1,"
	    "\"beta_long_name_of_a_field_\":null,\"g\":1.5}"),
	    "fast path: extra, missing and near-miss keys");
	/* A key with a NUL byte is not the property it starts with. */
	in = json_object();
	json_object_set_new(in, "alpha", json_integer(1));
	json_object_setn_new(in, "beta_long_name_of_a_field\0x", 27,
	    json_null());
	json_object_set_new(in, "g", json_real(2.5));
	ok(agree(model, RL_SCHEMA_LAX, in), "fast path: key with a NUL");
	json_decref(in);
	ok(agree_text("{\"properties\":{\"a\":{\"default\":3},\"b\":{}}}",
	    RL_SCHEMA_LAX, "{\"b\":1}") &&
	    agree_text("{\"properties\":{\"a\":{\"default\":3},\"b\":{}}}",
	    RL_SCHEMA_JSONSCHEMA, "{\"b\":1}"),
	    "fast path: defaults fill only outside JSON Schema mode");
	ok(agree_text("{\"anyOf\":[{\"type\":\"number\"},{\"type\":"
	    "\"integer\"}]}", RL_SCHEMA_LAX, "3") &&
	    agree_text("{\"type\":[\"boolean\",\"integer\"]}", RL_SCHEMA_LAX,
	    "\"1\"") &&
	    agree_text("{\"oneOf\":[{\"type\":\"integer\"},{\"minimum\":2}]}",
	    RL_SCHEMA_LAX, "3") &&
	    agree_text("{\"not\":{\"type\":\"integer\"}}", RL_SCHEMA_LAX,
	    "\"5\""),
	    "fast path: unions pick the same member");
	/* Depth: the cap answers the same way on both paths. */
	for (i = 20; i <= 140; i++) {
		in = deep(i, i % 2 ? json_null() : json_string("x"));
		if (!agree(rec, RL_SCHEMA_LAX, in)) {
			diag("depth %d", i);
			bad++;
		}
		json_decref(in);
	}
	ok(bad == 0, "fast path: nesting 20 to 140 levels, depth cap %d",
	    RL_SCHEMA_MAX_DEPTH);
	/* More properties than the full validator's 64-value cache. */
	if ((big = malloc(bigsz)) == NULL)
		return;
	o = (size_t)snprintf(big, bigsz, "{\"type\":\"object\","
	    "\"properties\":{");
	for (i = 0; i < 100; i++)
		o += (size_t)snprintf(big + o, bigsz - o,
		    "%s\"p%03d\":{\"type\":\"integer\"}", i ? "," : "", i);
	(void)snprintf(big + o, bigsz - o, "},\"required\":[\"p000\","
	    "\"p099\"],\"additionalProperties\":false}");
	in = json_object();
	for (i = 99; i > 0; i -= 2) {	/* odd ones, backwards */
		(void)snprintf(k, sizeof(k), "p%03d", i);
		json_object_set_new(in, k, json_integer(i));
	}
	ok(agree(big, RL_SCHEMA_LAX, in) && (s = sc(big, RL_SCHEMA_LAX)) !=
	    NULL && !rl_schema_valid(s, in),
	    "fast path: 100 properties, p000 missing");
	rl_schema_free(s);
	json_object_set_new(in, "p000", json_integer(0));
	out = NULL;
	ok(agree(big, RL_SCHEMA_LAX, in) && (s = sc(big, RL_SCHEMA_LAX)) !=
	    NULL && rl_schema_valid(s, in) &&
	    rl_schema_validate(s, in, &out, NULL, &e) == RL_OK && out == in,
	    "fast path: valid as is, the input itself");
	json_decref(out);
	rl_schema_free(s);
	json_decref(in);
	free(big);
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
	test_fast_corpus();
	test_fast_mutations();
	test_fast_cases();
	rl_schema_registry_free();
	return done();
}
