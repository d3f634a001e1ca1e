/*
 * test_models.c: lib/models.c without a database: the built-in family
 * table, seed 001's auto-configuration (its examples and its two error
 * bodies, exactly), message shaping, exact cost arithmetic and the
 * micro-dollar text conversions.  Expected costs are computed by hand in
 * the comments.
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "relais.h"
#include "models.h"
#include "harness.h"
#include "util.h"

static void
test_families(void)
{
	static const struct {
		const char	*name;
		enum rl_family	 family;
		int		 gen_new, temp, reason, mct, dev, structured;
		long long	 default_max, price_in, price_out;
	} t[] = {
		/* name, family, new, temp, reasoning, max_completion_tokens,
		 * developer, structured, default cap, fallback prices */
		{ "o3", RL_FAMILY_REASONING, 1, 0, 1, 1, 1, 1, 1000, 0, 0 },
		{ "o3-mini", RL_FAMILY_REASONING, 1, 0, 1, 1, 1, 1, 1000,
		    150000, 600000 },
		{ "o1-preview", RL_FAMILY_REASONING, 1, 0, 1, 1, 1, 1, 1000,
		    0, 0 },
		{ "o4-mini", RL_FAMILY_REASONING, 1, 0, 1, 1, 1, 1, 1000,
		    150000, 600000 },
		{ "gpt-5-nano", RL_FAMILY_REASONING, 1, 0, 1, 1, 1, 1, 4096,
		    1250000, 10000000 },
		/* The contract's order: "-mini" before "gpt-5". */
		{ "gpt-5-mini", RL_FAMILY_REASONING, 1, 0, 1, 1, 1, 1, 4096,
		    150000, 600000 },
		{ "gpt-4.1", RL_FAMILY_GPT41, 1, 1, 0, 1, 0, 1, 10000, 0, 0 },
		{ "gpt-4.1-mini", RL_FAMILY_GPT41, 1, 1, 0, 1, 0, 1, 10000,
		    150000, 600000 },
		{ "gpt-4o", RL_FAMILY_LEGACY, 0, 1, 0, 0, 0, 0, 1000, 0, 0 },
		{ "gpt-4-turbo", RL_FAMILY_LEGACY, 0, 1, 0, 0, 0, 0, 1000,
		    0, 0 },
		{ "gpt-3.5-turbo", RL_FAMILY_LEGACY, 0, 1, 0, 0, 0, 0, 1000,
		    0, 0 },
		{ "llama-3-70b", RL_FAMILY_LEGACY, 0, 1, 0, 0, 0, 0, 1000,
		    0, 0 },
	};
	struct rl_model	 m;
	size_t		 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		rl_model_builtin(t[i].name, &m);
		ok(m.family == t[i].family && m.generation_new ==
		    t[i].gen_new && m.temperature == t[i].temp &&
		    m.reasoning == t[i].reason && m.completion_tokens ==
		    t[i].mct && m.developer_role == t[i].dev &&
		    m.structured == t[i].structured, "%s: family %d, "
		    "new %d, temperature %d, reasoning %d, "
		    "max_completion_tokens %d, developer %d, structured %d",
		    t[i].name, m.family, m.generation_new, m.temperature,
		    m.reasoning, m.completion_tokens, m.developer_role,
		    m.structured);
		ok(m.default_max == t[i].default_max && m.max_output >=
		    m.default_max, "%s: default cap %lld within max %lld",
		    t[i].name, m.default_max, m.max_output);
		ok(m.price_in == t[i].price_in && m.price_out ==
		    t[i].price_out && m.known == 0 &&
		    strcmp(m.provider, "openai") == 0 &&
		    strcmp(m.name, t[i].name) == 0 &&
		    m.batch_discount_pct == 50, "%s: fallback prices "
		    "%lld/%lld, not known, provider openai", t[i].name,
		    m.price_in, m.price_out);
	}
	rl_model_builtin("gpt-4o", &m);
	ok(m.max_output == 16384 && m.context_window == 128000,
	    "gpt-4o: output cap 16384, window 128000");
	rl_model_builtin("gpt-3.5-turbo", &m);
	ok(m.max_output == 4096, "gpt-3.5-turbo: output cap 4096");
}

/* configure() on a built-in model; returns err, fills out/errbody. */
static enum rl_err
conf(const char *model, const char *params, json_t **out, json_t **eb,
    struct rl_error *e)
{
	struct rl_model	 m;
	json_t		*p = J(params);
	enum rl_err	 err;

	rl_model_builtin(model, &m);
	rl_error_clear(e);
	err = rl_model_configure(&m, p, out, eb, e);
	json_decref(p);
	return err;
}

static void
check_conf(const char *model, const char *params, const char *want,
    const char *what)
{
	struct rl_error	 e;
	json_t		*out = NULL, *eb = NULL;
	enum rl_err	 err;

	err = conf(model, params, &out, &eb, &e);
	if (!ok(err == RL_OK && eb == NULL, "%s: accepted", what))
		diag("error %d: %s", err, e.msg);
	same(out, want, what);
	json_decref(out);
	json_decref(eb);
}

static void
check_refused(const char *model, const char *params, const char *body,
    const char *where, const char *what)
{
	struct rl_error	 e;
	json_t		*out = NULL, *eb = NULL;
	enum rl_err	 err;

	err = conf(model, params, &out, &eb, &e);
	ok(err == RL_EINVAL && out == NULL, "%s: RL_EINVAL, no parameters",
	    what);
	if (body != NULL) {
		same(eb, body, what);
		ok(eb != NULL && strcmp(e.msg, json_string_value(
		    json_object_get(eb, "error"))) == 0, "%s: message is the "
		    "body's error", what);
	} else
		ok(eb == NULL, "%s: an ordinary error, no seed body", what);
	ok(strcmp(e.where, where) == 0, "%s: names %s (got \"%s\")", what,
	    where, e.where);
	json_decref(out);
	json_decref(eb);
}

static void
test_configure(void)
{
	struct rl_model	 m;
	struct rl_error	 e;
	json_t		*p, *out = NULL, *eb = NULL;

	/* Seed 001's two error examples, byte for byte. */
	check_refused("o3", "{\"temperature\": 0.5}",
	    "{\"error\": \"O3 models don't support temperature parameter\","
	    " \"error_code\": \"INVALID_PARAMETER_FOR_MODEL\", \"model\": "
	    "\"o3\", \"invalid_params\": [\"temperature\"], "
	    "\"suggested_params\": [\"reasoning_effort\", "
	    "\"max_completion_tokens\"]}", "temperature",
	    "seed: temperature on o3");
	check_refused("gpt-4o", "{\"reasoning_effort\": \"high\"}",
	    "{\"error\": \"Model gpt-4o doesn't support reasoning_effort "
	    "parameter\", \"error_code\": \"INVALID_PARAMETER_FOR_MODEL\", "
	    "\"model\": \"gpt-4o\", \"invalid_params\": "
	    "[\"reasoning_effort\"], \"suggested_params\": [\"temperature\", "
	    "\"max_tokens\"]}", "reasoning_effort",
	    "seed: reasoning_effort on gpt-4o");
	check_refused("gpt-4.1", "{\"reasoning_effort\": \"low\"}",
	    "{\"error\": \"Model gpt-4.1 doesn't support reasoning_effort "
	    "parameter\", \"error_code\": \"INVALID_PARAMETER_FOR_MODEL\", "
	    "\"model\": \"gpt-4.1\", \"invalid_params\": "
	    "[\"reasoning_effort\"], \"suggested_params\": [\"temperature\", "
	    "\"max_completion_tokens\"]}", "reasoning_effort",
	    "reasoning_effort on gpt-4.1");
	check_refused("o1", "{\"temperature\": 1}",
	    "{\"error\": \"Model o1 doesn't support temperature parameter\","
	    " \"error_code\": \"INVALID_PARAMETER_FOR_MODEL\", \"model\": "
	    "\"o1\", \"invalid_params\": [\"temperature\"], "
	    "\"suggested_params\": [\"reasoning_effort\", "
	    "\"max_completion_tokens\"]}", "temperature",
	    "temperature on o1 (not an o3: the model is named)");
	check_refused("o3-mini", "{\"temperature\": 0.2, "
	    "\"reasoning_effort\": \"extreme\"}",
	    "{\"error\": \"O3 models don't support temperature parameter; "
	    "reasoning_effort must be one of minimal, low, medium or high\","
	    " \"error_code\": \"INVALID_PARAMETER_FOR_MODEL\", \"model\": "
	    "\"o3-mini\", \"invalid_params\": [\"temperature\", "
	    "\"reasoning_effort\"], \"suggested_params\": "
	    "[\"reasoning_effort\", \"max_completion_tokens\"]}",
	    "temperature", "two invalid parameters are both listed");
	check_refused("gpt-5", "{\"reasoning_effort\": 3}",
	    "{\"error\": \"reasoning_effort must be one of minimal, low, "
	    "medium or high\", \"error_code\": "
	    "\"INVALID_PARAMETER_FOR_MODEL\", \"model\": \"gpt-5\", "
	    "\"invalid_params\": [\"reasoning_effort\"], "
	    "\"suggested_params\": [\"reasoning_effort\", "
	    "\"max_completion_tokens\"]}", "reasoning_effort",
	    "reasoning_effort not a known level");

	/* Defaults (the catalogue's default_params). */
	check_conf("o3", "{}", "{\"reasoning_effort\": \"medium\", "
	    "\"max_completion_tokens\": 1000}", "o3 defaults");
	check_conf("gpt-4.1", "{}", "{\"temperature\": 1.0, "
	    "\"max_completion_tokens\": 10000}", "gpt-4.1 defaults");
	check_conf("gpt-4o", "{}", "{\"temperature\": 0.7, "
	    "\"max_tokens\": 1000}", "gpt-4o defaults");
	check_conf("gpt-3.5-turbo", "{}", "{\"temperature\": 0.7, "
	    "\"max_tokens\": 1000}", "gpt-3.5-turbo defaults");

	/* The seed's per-model examples pass as they are. */
	check_conf("o3", "{\"reasoning_effort\": \"high\", "
	    "\"max_completion_tokens\": 2000, \"response_format\": "
	    "{\"type\": \"text\"}}", "{\"reasoning_effort\": \"high\", "
	    "\"max_completion_tokens\": 2000, \"response_format\": "
	    "{\"type\": \"text\"}}", "seed example for o3");
	check_conf("gpt-4.1", "{\"temperature\": 1.0, "
	    "\"max_completion_tokens\": 10000, \"top_p\": 1, "
	    "\"frequency_penalty\": 0, \"presence_penalty\": 0}",
	    "{\"temperature\": 1.0, \"max_completion_tokens\": 10000, "
	    "\"top_p\": 1, \"frequency_penalty\": 0, \"presence_penalty\": 0}",
	    "seed example for gpt-4.1");
	check_conf("gpt-4o", "{\"temperature\": 0.7, \"max_tokens\": 1000, "
	    "\"tools\": [{\"type\": \"function\", \"function\": {\"name\": "
	    "\"f\"}}]}", "{\"temperature\": 0.7, \"max_tokens\": 1000, "
	    "\"tools\": [{\"type\": \"function\", \"function\": {\"name\": "
	    "\"f\"}}]}", "seed example for gpt-4o, tools passed through");

	/* max_tokens <-> max_completion_tokens. */
	check_conf("o3", "{\"max_tokens\": 500}", "{\"reasoning_effort\": "
	    "\"medium\", \"max_completion_tokens\": 500}",
	    "o3: max_tokens becomes max_completion_tokens");
	check_conf("o3", "{\"max_tokens\": 500, \"max_completion_tokens\": "
	    "700}", "{\"reasoning_effort\": \"medium\", "
	    "\"max_completion_tokens\": 700}",
	    "o3: both given, max_completion_tokens wins");
	check_conf("gpt-4.1", "{\"max_tokens\": 3000}", "{\"temperature\": "
	    "1.0, \"max_completion_tokens\": 3000}",
	    "gpt-4.1: max_tokens becomes max_completion_tokens");
	check_conf("gpt-4o", "{\"max_completion_tokens\": 200}",
	    "{\"temperature\": 0.7, \"max_tokens\": 200}",
	    "gpt-4o: max_completion_tokens becomes max_tokens");
	check_conf("gpt-4o", "{\"max_completion_tokens\": 200, "
	    "\"max_tokens\": 300}", "{\"temperature\": 0.7, "
	    "\"max_tokens\": 300}", "gpt-4o: both given, max_tokens wins");

	/* An explicit 0 is kept (the seed's "temperature or 1.0" is not). */
	check_conf("gpt-4.1", "{\"temperature\": 0}", "{\"temperature\": 0, "
	    "\"max_completion_tokens\": 10000}", "gpt-4.1: temperature 0 kept");
	check_conf("gpt-4o", "{\"temperature\": 0.0}", "{\"temperature\": "
	    "0.0, \"max_tokens\": 1000}", "gpt-4o: temperature 0.0 kept");

	/* Caps clamp to the model's maximum output. */
	check_conf("gpt-4o", "{\"max_tokens\": 100000}", "{\"temperature\": "
	    "0.7, \"max_tokens\": 16384}", "gpt-4o: cap clamped to 16384");
	check_conf("o3", "{\"max_completion_tokens\": 1000000000}",
	    "{\"reasoning_effort\": \"medium\", \"max_completion_tokens\": "
	    "100000}", "o3: cap clamped to 100000");

	/* null is "not given"; other keys pass through untouched. */
	check_conf("o3", "{\"temperature\": null, \"reasoning_effort\": "
	    "null, \"tools\": null, \"seed\": 7, \"stop\": [\"fin\"]}",
	    "{\"reasoning_effort\": \"medium\", \"max_completion_tokens\": "
	    "1000, \"seed\": 7, \"stop\": [\"fin\"]}",
	    "nulls dropped, other keys kept");
	check_conf("o4-mini", "{\"reasoning_effort\": \"minimal\", "
	    "\"model\": \"o4-mini\", \"messages\": []}",
	    "{\"reasoning_effort\": \"minimal\", \"max_completion_tokens\": "
	    "1000}", "model and messages are not parameters");

	/* Ranges: ordinary 400s naming the field. */
	check_refused("gpt-4o", "{\"temperature\": 2.5}", NULL,
	    "temperature", "temperature above 2");
	check_refused("gpt-4o", "{\"temperature\": -0.1}", NULL,
	    "temperature", "temperature below 0");
	check_refused("gpt-4o", "{\"temperature\": \"hot\"}", NULL,
	    "temperature", "temperature not a number");
	check_refused("gpt-4.1", "{\"top_p\": 1.5}", NULL, "top_p",
	    "top_p above 1");
	check_refused("gpt-4o", "{\"frequency_penalty\": -3}", NULL,
	    "frequency_penalty", "frequency_penalty below -2");
	check_refused("gpt-4o", "{\"presence_penalty\": 2.01}", NULL,
	    "presence_penalty", "presence_penalty above 2");
	check_refused("gpt-4o", "{\"max_tokens\": 0}", NULL, "max_tokens",
	    "max_tokens 0");
	check_refused("o3", "{\"max_completion_tokens\": \"12\"}", NULL,
	    "max_completion_tokens", "max_completion_tokens as a string");
	check_refused("o3", "{\"max_tokens\": 12.5}", NULL, "max_tokens",
	    "max_tokens not whole");
	check_conf("gpt-4o", "{\"temperature\": 2, \"top_p\": 0, "
	    "\"frequency_penalty\": -2, \"presence_penalty\": 2}",
	    "{\"temperature\": 2, \"top_p\": 0, \"frequency_penalty\": -2, "
	    "\"presence_penalty\": 2, \"max_tokens\": 1000}",
	    "range bounds are accepted");

	/* A row's capabilities win over the family's. */
	rl_model_builtin("gpt-4o", &m);
	m.temperature = 0;
	p = J("{\"temperature\": 1}");
	ok(rl_model_configure(&m, p, &out, &eb, &e) == RL_EINVAL,
	    "a model whose row says no temperature refuses it");
	same(eb, "{\"error\": \"Model gpt-4o doesn't support temperature "
	    "parameter\", \"error_code\": \"INVALID_PARAMETER_FOR_MODEL\", "
	    "\"model\": \"gpt-4o\", \"invalid_params\": [\"temperature\"], "
	    "\"suggested_params\": [\"max_tokens\"]}",
	    "its body suggests what it takes");
	json_decref(eb);
	json_decref(p);
	rl_model_builtin("gpt-4o", &m);
	m.max_output = 50;
	p = J("{}");
	ok(rl_model_configure(&m, p, &out, &eb, &e) == RL_OK &&
	    json_integer_value(json_object_get(out, "max_tokens")) == 50,
	    "the default cap is clamped to the row's max_output_tokens");
	json_decref(out);
	json_decref(p);
	p = J("[]");
	ok(rl_model_configure(&m, p, &out, &eb, &e) == RL_EINVAL &&
	    out == NULL && eb == NULL, "parameters that are not an object");
	json_decref(p);
}

static void
test_messages(void)
{
	struct rl_model	 m;
	json_t		*in, *out;
	const char	*msgs = "[{\"role\": \"system\", \"content\": "
	    "\"Sois bref.\"}, {\"role\": \"user\", \"content\": \"Q?\", "
	    "\"name\": \"ana\"}, {\"role\": \"assistant\", \"content\": null, "
	    "\"tool_calls\": [{\"id\": \"call_1\"}]}, {\"role\": \"tool\", "
	    "\"tool_call_id\": \"call_1\", \"content\": [{\"type\": \"text\", "
	    "\"text\": \"42\"}]}]";

	in = J(msgs);
	rl_model_builtin("o3", &m);
	out = rl_model_messages(&m, in);
	same(out, "[{\"role\": \"developer\", \"content\": [{\"type\": "
	    "\"text\", \"text\": \"Sois bref.\"}]}, {\"role\": \"user\", "
	    "\"content\": [{\"type\": \"text\", \"text\": \"Q?\"}], \"name\": "
	    "\"ana\"}, {\"role\": \"assistant\", \"content\": null, "
	    "\"tool_calls\": [{\"id\": \"call_1\"}]}, {\"role\": \"tool\", "
	    "\"tool_call_id\": \"call_1\", \"content\": [{\"type\": \"text\", "
	    "\"text\": \"42\"}]}]", "o3: system -> developer, text parts, "
	    "other messages unchanged");
	same(in, msgs, "the input array is not modified");
	json_decref(out);

	rl_model_builtin("gpt-4.1", &m);
	out = rl_model_messages(&m, in);
	same(out, "[{\"role\": \"system\", \"content\": [{\"type\": "
	    "\"text\", \"text\": \"Sois bref.\"}]}, {\"role\": \"user\", "
	    "\"content\": [{\"type\": \"text\", \"text\": \"Q?\"}], \"name\": "
	    "\"ana\"}, {\"role\": \"assistant\", \"content\": null, "
	    "\"tool_calls\": [{\"id\": \"call_1\"}]}, {\"role\": \"tool\", "
	    "\"tool_call_id\": \"call_1\", \"content\": [{\"type\": \"text\", "
	    "\"text\": \"42\"}]}]", "gpt-4.1: text parts, roles unchanged");
	json_decref(out);

	rl_model_builtin("gpt-4o", &m);
	out = rl_model_messages(&m, in);
	same(out, msgs, "gpt-4o: messages unchanged");
	ok(out != in, "gpt-4o: a new array all the same");
	json_decref(out);
	json_decref(in);

	in = J("{\"role\": \"user\"}");
	ok(rl_model_messages(&m, in) == NULL, "not an array: NULL");
	json_decref(in);
}

static void
usage(struct rl_usage *u, long long in, long long cached, long long out,
    long long reasoning)
{

	memset(u, 0, sizeof(*u));
	u->input_tokens = in;
	u->cached_tokens = cached;
	u->output_tokens = out;
	u->reasoning_tokens = reasoning;
	u->reported = 1;
}

static void
test_cost(void)
{
	struct rl_model	 m;
	struct rl_usage	 u;
	long long	 c;

	/* gpt-4o at 2.5 / 1.25 cached / 10 USD per 1M tokens. */
	rl_model_builtin("gpt-4o", &m);
	m.price_in = 2500000;
	m.price_cached_in = 1250000;
	m.price_out = 10000000;

	/* 1000 * 2.5 + 500 * 10 = 7500 micro-USD. */
	usage(&u, 1000, 0, 500, 0);
	c = rl_cost_micro(&m, &u, 0);
	ok(c == 7500, "1000 in + 500 out = "
	    "7500 (got %lld)", c);
	/* Reasoning tokens are part of the output, not added to it. */
	usage(&u, 1000, 0, 500, 300);
	c = rl_cost_micro(&m, &u, 0);
	ok(c == 7500, "reasoning tokens "
	    "billed once (got %lld)", c);
	/* 600 * 2.5 + 400 * 1.25 + 500 * 10 = 1500 + 500 + 5000. */
	usage(&u, 1000, 400, 500, 0);
	c = rl_cost_micro(&m, &u, 0);
	ok(c == 7000, "400 of 1000 cached: "
	    "7000 (got %lld)", c);
	/* 1 * 2.5 = 2.5, rounded up. */
	usage(&u, 1, 0, 0, 0);
	c = rl_cost_micro(&m, &u, 0);
	ok(c == 3, "2.5 rounds up to 3 "
	    "(got %lld)", c);
	usage(&u, 0, 0, 0, 0);
	ok(rl_cost_micro(&m, &u, 0) == 0, "nothing used costs nothing");
	/* Batch 50 %: 7500 / 2; 2.5 / 2 = 1.25 -> 2 (rounded once, last). */
	usage(&u, 1000, 0, 500, 0);
	c = rl_cost_micro(&m, &u, 1);
	ok(c == 3750, "batch halves 7500 "
	    "(got %lld)", c);
	usage(&u, 1, 0, 0, 0);
	c = rl_cost_micro(&m, &u, 1);
	ok(c == 2, "batch 1.25 rounds up to 2 "
	    "(got %lld)", c);
	m.batch_discount_pct = 0;
	usage(&u, 1000, 0, 500, 0);
	ok(rl_cost_micro(&m, &u, 1) == 7500, "batch discount 0 %%");
	m.batch_discount_pct = 100;
	ok(rl_cost_micro(&m, &u, 1) == 0, "batch discount 100 %%");
	m.batch_discount_pct = 50;
	/* Cached above input is clamped: 10 * 1.25 = 12.5 -> 13. */
	usage(&u, 10, 50, 0, 0);
	c = rl_cost_micro(&m, &u, 0);
	ok(c == 13, "cached clamped to input "
	    "(got %lld)", c);
	usage(&u, -5, -1, -7, 0);
	ok(rl_cost_micro(&m, &u, 0) == 0, "negative counts count as 0");
	/*
	 * 1e15 in + 1e15 out: 1e15 * 2.5e6 + 1e15 * 1e7 = 1.25e22, past
	 * 64 bits, / 1e6 = 1.25e16 micro-USD.
	 */
	usage(&u, 1000000000000000LL, 0, 1000000000000000LL, 0);
	c = rl_cost_micro(&m, &u, 0);
	ok(c == 12500000000000000LL,
	    "1e15 tokens each way: exact through 128 bits (got %lld)", c);
	usage(&u, LLONG_MAX, 0, LLONG_MAX, 0);
	m.price_in = LLONG_MAX;
	m.price_out = LLONG_MAX;
	ok(rl_cost_micro(&m, &u, 0) == LLONG_MAX, "an absurd cost "
	    "saturates instead of wrapping");

	/* gpt-4o-mini at 0.15 / 0.6: one token in costs 0.15 -> 1. */
	rl_model_builtin("gpt-4o-mini", &m);
	usage(&u, 1, 0, 0, 0);
	ok(rl_cost_micro(&m, &u, 0) == 1, "a fraction of a micro-dollar "
	    "rounds up to one");

	/* Bounds: input bound + output cap at full price. */
	rl_model_builtin("gpt-4o", &m);
	m.price_in = 2500000;
	m.price_cached_in = 1250000;
	m.price_out = 10000000;
	c = rl_cost_bound(&m, 1000, 1000);
	ok(c == 12500, "bound 1000 + 1000"
	    " at gpt-4o = 12500 (got %lld)", c);
	c = rl_cost_bound(&m, 1, 0);
	ok(c == 3, "bound rounds up (got %lld)",
	    c);
	ok(rl_cost_bound(&m, 0, 0) == 0 && rl_cost_bound(&m, -1, -1) == 0,
	    "empty and negative bounds are 0");
	/* o3 at 2 / 8: 7 * 2 + 1000 * 8 = 8014. */
	m.price_in = 2000000;
	m.price_out = 8000000;
	c = rl_cost_bound(&m, 7, 1000);
	ok(c == 8014, "bound at o3 = 8014 "
	    "(got %lld)", c);
	usage(&u, 7, 0, 1000, 0);
	ok(rl_cost_micro(&m, &u, 0) <= rl_cost_bound(&m, 7, 1000),
	    "a cost never exceeds the bound of the same tokens");
	ok(rl_cost_bound(&m, LLONG_MAX, LLONG_MAX) == LLONG_MAX,
	    "an absurd bound saturates");
}

static void
test_micro(void)
{
	static const long long	 vals[] = { 0, 1, -1, 999999, 1000000,
	    12345678, -12345678, 99999999999999LL, LLONG_MAX, LLONG_MIN };
	static const struct {
		const char	*s;
		long long	 v;
	} good[] = {
		{ "12.345678", 12345678 }, { "2.5", 2500000 },
		{ "10", 10000000 }, { "0", 0 }, { "-0.000001", -1 },
		{ "0.000001", 1 }, { "-0", 0 }, { "007.10", 7100000 },
		{ "9223372036854.775807", LLONG_MAX },
		{ "-9223372036854.775808", LLONG_MIN },
	};
	static const char *const bad[] = { "", "-", ".5", "1.", "1.2345678",
	    "abc", "1e5", " 1", "1 ", "+1", "9223372036854.775808",
	    "-9223372036854.775809", "99999999999999999999", "1.2.3", "--1",
	    "0x10", "1,5" };
	char		 buf[32];
	long long	 v;
	size_t		 i;

	ok(strcmp(rl_micro_fmt(0, buf, sizeof(buf)), "0.000000") == 0,
	    "fmt 0");
	ok(strcmp(rl_micro_fmt(1, buf, sizeof(buf)), "0.000001") == 0,
	    "fmt 1");
	ok(strcmp(rl_micro_fmt(12345678, buf, sizeof(buf)), "12.345678") ==
	    0, "fmt 12345678");
	ok(strcmp(rl_micro_fmt(-1, buf, sizeof(buf)), "-0.000001") == 0,
	    "fmt -1");
	ok(strcmp(rl_micro_fmt(-12345678, buf, sizeof(buf)), "-12.345678") ==
	    0, "fmt -12345678");
	ok(strcmp(rl_micro_fmt(LLONG_MIN, buf, sizeof(buf)),
	    "-9223372036854.775808") == 0, "fmt LLONG_MIN (%s)", buf);
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		v = 42;
		ok(rl_micro_parse(good[i].s, &v) == 0 && v == good[i].v,
		    "parse \"%s\" = %lld (got %lld)", good[i].s, good[i].v, v);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = 42;
		ok(rl_micro_parse(bad[i], &v) == -1 && v == 42,
		    "parse refuses \"%s\" and leaves the value", bad[i]);
	}
	ok(rl_micro_parse(NULL, &v) == -1, "parse refuses NULL");
	for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		rl_micro_fmt(vals[i], buf, sizeof(buf));
		ok(rl_micro_parse(buf, &v) == 0 && v == vals[i],
		    "round trip %lld via \"%s\"", vals[i], buf);
	}
}

int
main(void)
{

	test_families();
	test_configure();
	test_messages();
	test_cost();
	test_micro();
	return done();
}
