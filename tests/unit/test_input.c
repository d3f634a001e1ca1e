/* test_input.c: form and query fields to one JSON object (lib/input.c). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "harness.h"
#include "input.h"

#define N(a)	(sizeof(a) / sizeof((a)[0]))
#define KV(k, v)	{ k, v, sizeof(v) - 1 }

static int
same(json_t *got, const char *want)
{
	json_error_t	 je;
	json_t		*w = json_loads(want, 0, &je);
	int		 r = w != NULL && json_equal(got, w);

	if (!r) {
		char *s = json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS);
		diag("got %s, want %s", s != NULL ? s : "NULL", want);
		free(s);
	}
	json_decref(w);
	return r;
}

int
main(void)
{
	json_error_t	 je;
	json_t		*schema, *out;
	struct rl_error	 e;
	const struct rl_kv form[] = {
		KV("cours_id", "12"), KV("session", "A25"),
		KV("tags[]", "a"), KV("tags[]", "b"), KV("ids", "3"),
		KV("csrf_token", "x"), KV("cours_id", "13"),
		KV("note", ""), KV("titre", ""), KV("any", "v"),
	};

	schema = json_loads("{\"type\": \"object\", \"properties\": {"
	    "\"cours_id\": {\"type\": \"integer\"},"
	    "\"session\": {\"type\": \"string\"},"
	    "\"tags\": {\"type\": \"array\", \"items\": {\"type\": \"string\"}},"
	    "\"ids\": {\"$ref\": \"#/$defs/Ids\"},"
	    "\"note\": {\"anyOf\": [{\"type\": \"integer\"}, {\"type\": \"null\"}]},"
	    "\"titre\": {\"type\": [\"string\", \"null\"]},"
	    "\"any\": {}},"
	    "\"$defs\": {\"Ids\": {\"type\": \"array\", \"items\": {\"type\": \"integer\"}}}}",
	    0, &je);
	ok(schema != NULL, "test schema parses");
	rl_error_clear(&e);
	ok(rl_input_from_fields(schema, form, N(form), &out, &e) == RL_OK,
	    "fields convert");
	ok(same(out, "{\"cours_id\": \"12\", \"session\": \"A25\", "
	    "\"tags\": [\"a\", \"b\"], \"ids\": [\"3\"], \"titre\": \"\", "
	    "\"any\": \"v\"}"),
	    "first value wins, arrays collect (also through $ref and key[]), "
	    "unknown fields dropped, a blank non-string field is absent");
	json_decref(out);

	ok(rl_input_from_fields(NULL, form, N(form), &out, &e) == RL_OK &&
	    json_object_size(out) == 8 && json_is_string(json_object_get(out,
	    "tags")), "without a schema every field is kept, as a string");
	json_decref(out);
	ok(rl_input_from_fields(schema, NULL, 0, &out, &e) == RL_OK &&
	    json_object_size(out) == 0, "no fields: an empty object");
	json_decref(out);
	json_decref(schema);
	return done();
}
