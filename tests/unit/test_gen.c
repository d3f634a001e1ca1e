/*
 * test_gen.c: the pure parts of lib/gen.c: the Responses body each kind
 * of model gets (reasoning and verbosity only where the model takes
 * them, text.format for a schema, input_file, the output cap), the
 * usage object, and the Pydantic error text the second call carries.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "relais.h"
#include "gen.h"
#include "models.h"
#include "schema.h"
#include "harness.h"
#include "util.h"

static void
test_bodies(void)
{
	struct rl_gen	 g;
	struct rl_model	 m;
	json_t		*in, *b, *schema;

	memset(&g, 0, sizeof(g));
	g.prompt = "Rédige.";
	g.system = "Tu es un conseiller pédagogique.";
	g.effort = "low";
	g.verbosity = "high";
	in = rl_gen_input(&g);
	same(in, "[{\"role\": \"user\", \"content\": \"Rédige.\"}]",
	    "input: one user message");

	/* gpt-5: reasoning with a summary, verbosity, default cap. */
	rl_model_builtin("gpt-5", &m);
	b = rl_gen_body(&g, &m, in);
	same(b, "{\"model\": \"gpt-5\", \"input\": [{\"role\": \"user\", "
	    "\"content\": \"Rédige.\"}], \"max_output_tokens\": 16000, "
	    "\"stream\": true, \"store\": false, \"instructions\": \"Tu es "
	    "un conseiller pédagogique.\", \"text\": {\"verbosity\": "
	    "\"high\"}, \"reasoning\": {\"summary\": \"auto\", \"effort\": "
	    "\"low\"}}", "gpt-5: reasoning, verbosity, RL_GEN_MAX_OUTPUT");
	json_decref(b);

	/* Settings left empty ("") are "not set". */
	g.verbosity = "";
	g.effort = "";
	g.system = "";
	rl_model_builtin("gpt-5", &m);
	b = rl_gen_body(&g, &m, in);
	ok(json_object_get(b, "text") == NULL &&
	    json_object_get(b, "instructions") == NULL &&
	    json_object_get(json_object_get(b, "reasoning"), "effort") ==
	    NULL, "empty settings are not sent");
	json_decref(b);
	g.verbosity = "high";
	g.effort = "low";
	g.system = "Tu es un conseiller pédagogique.";

	/* gpt-4o: neither reasoning nor verbosity; its cap wins. */
	rl_model_builtin("gpt-4o", &m);
	b = rl_gen_body(&g, &m, in);
	ok(json_object_get(b, "reasoning") == NULL &&
	    json_object_get(b, "text") == NULL, "gpt-4o: no reasoning, no "
	    "verbosity");
	ok(json_integer_value(json_object_get(b, "max_output_tokens")) ==
	    (m.max_output < RL_GEN_MAX_OUTPUT ? m.max_output :
	    RL_GEN_MAX_OUTPUT), "gpt-4o: the model's hard cap clamps");
	json_decref(b);

	/* o3 with a schema: text.format named by its title, strict. */
	schema = J("{\"title\": \"SingleFieldResponse\", \"type\": "
	    "\"object\", \"properties\": {\"champ_description\": {\"type\": "
	    "\"string\"}}, \"required\": [\"champ_description\"], "
	    "\"additionalProperties\": false}");
	g.schema_json = schema;
	g.strict = 1;
	g.verbosity = NULL;
	g.effort = NULL;
	g.max_output = 500;
	rl_model_builtin("o3", &m);
	b = rl_gen_body(&g, &m, in);
	same(json_object_get(b, "text"), "{\"format\": {\"type\": "
	    "\"json_schema\", \"name\": \"SingleFieldResponse\", \"schema\": "
	    "{\"title\": \"SingleFieldResponse\", \"type\": \"object\", "
	    "\"properties\": {\"champ_description\": {\"type\": "
	    "\"string\"}}, \"required\": [\"champ_description\"], "
	    "\"additionalProperties\": false}, \"strict\": true}}",
	    "o3: text.format json_schema");
	same(json_object_get(b, "reasoning"), "{\"summary\": \"auto\"}",
	    "o3: reasoning summary, no effort when none is given");
	ok(json_integer_value(json_object_get(b, "max_output_tokens")) == 500,
	    "the caller's cap");
	json_decref(b);

	/* A schema and verbosity on gpt-5: verbosity beside format. */
	g.verbosity = "low";
	g.name = "Reponse";
	rl_model_builtin("gpt-5-mini", &m);
	b = rl_gen_body(&g, &m, in);
	ok(json_is_string(json_object_get(json_object_get(b, "text"),
	    "verbosity")) && json_object_get(json_object_get(json_object_get(
	    b, "text"), "format"), "verbosity") == NULL &&
	    strcmp(json_string_value(json_object_get(json_object_get(
	    json_object_get(b, "text"), "format"), "name")), "Reponse") == 0,
	    "gpt-5-mini: text.verbosity beside text.format, name given");
	json_decref(b);
	json_decref(schema);
	json_decref(in);

	/* A file: input_file before the prompt. */
	g.file_id = "file-abc";
	in = rl_gen_input(&g);
	same(in, "[{\"role\": \"user\", \"content\": [{\"type\": "
	    "\"input_file\", \"file_id\": \"file-abc\"}, {\"type\": "
	    "\"input_text\", \"text\": \"Rédige.\"}]}]", "input_file first");
	json_decref(in);
}

static void
test_errors_text(void)
{
	json_t	*errs, *js;
	char	*t;

	errs = J("[{\"type\": \"missing\", \"loc\": [\"champ_description\"], "
	    "\"msg\": \"Field required\", \"input\": {}}, {\"type\": "
	    "\"int_parsing\", \"loc\": [\"items\", 0, \"n\"], \"msg\": "
	    "\"Input should be a valid integer, unable to parse string as an "
	    "integer\", \"input\": \"abc\"}]");
	t = rl_gen_errors_text(errs, "SingleFieldResponse");
	ok(t != NULL && strcmp(t, "2 validation errors for "
	    "SingleFieldResponse\nchamp_description\n  Field required "
	    "[type=missing, input_value={}]\nitems.0.n\n  Input should be a "
	    "valid integer, unable to parse string as an integer "
	    "[type=int_parsing, input_value=\"abc\"]\n") == 0,
	    "Pydantic's text: count, loc, msg, type, input");
	if (t != NULL)
		diag("%s", t);
	free(t);
	json_decref(errs);

	/* A long French input is cut on a character boundary. */
	errs = J("[{\"type\": \"string_type\", \"loc\": [\"a\"], \"msg\": "
	    "\"Input should be a valid string\", \"input\": [\"xéééééééééééééé"
	    "éééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééé"
	    "éééééééééééééééééééééééééé\"]}]");
	t = rl_gen_errors_text(errs, "X");
	js = t != NULL ? json_string(t) : NULL;
	ok(js != NULL && strstr(t, "input_value=[\"x") != NULL,
	    "a cut input stays valid UTF-8");
	json_decref(js);
	free(t);
	json_decref(errs);

	errs = J("[{\"type\": \"json_invalid\", \"loc\": [], \"msg\": "
	    "\"Invalid JSON: x\", \"input\": \"{\"}]");
	t = rl_gen_errors_text(errs, NULL);
	ok(t != NULL && strcmp(t, "1 validation error for reponse\n  "
	    "Invalid JSON: x [type=json_invalid, input_value=\"{\"]\n") == 0,
	    "an error without loc");
	free(t);
	json_decref(errs);
}

static void
test_usage(void)
{
	struct rl_gen	 g;
	json_t		*u;
	char		*s;

	memset(&g, 0, sizeof(g));
	g.model = "gpt-5-mini";
	g.usage.input_tokens = 120;
	g.usage.output_tokens = 45;
	g.cost_micro = 123;
	u = rl_gen_usage_json(&g);
	s = u != NULL ? json_dumps(u, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	/*
	 * jansson prints doubles with 17 digits; the value is the double
	 * Python's round(cost, 6) gives, which is what a client parses.
	 */
	ok(s != NULL && json_real_value(json_object_get(u, "cost")) ==
	    0.000123 && json_object_size(u) == 4 &&
	    json_integer_value(json_object_get(u, "input_tokens")) == 120 &&
	    json_integer_value(json_object_get(u, "output_tokens")) == 45 &&
	    strcmp(json_string_value(json_object_get(u, "model")),
	    "gpt-5-mini") == 0, "usage: EDxo's keys, the cost in USD as a "
	    "number: %s", s != NULL ? s : "NULL");
	free(s);
	json_decref(u);
}

int
main(void)
{

	test_bodies();
	test_errors_text();
	test_usage();
	return done();
}
