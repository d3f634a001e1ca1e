/*
 * input.h: a request's fields as one JSON value.  EDxo's pages post the
 * same fields as JSON, as a urlencoded form or as multipart FormData, and
 * read them back from the query string on GET; the runtime turns whichever
 * came into one JSON object, which the route's request schema then
 * validates in lax (Pydantic-coercing) mode: "12" becomes 12 and "on"
 * becomes true there, not in each program.
 */
#ifndef RL_INPUT_H
#define RL_INPUT_H

#include <stddef.h>

#include <jansson.h>

#include "relais.h"
#include "kv.h"

/*
 * Fields (form or query) to an object shaped by schema (the route's
 * request schema as JSON, NULL for none):
 * - a property whose type is an array collects every value of its key
 *   (also sent as "key[]"), in order; any other takes the first value;
 * - an empty value of a property that cannot be a string is left out, as
 *   an empty form field means "not given" (an int field left blank);
 * - a schema listing properties keeps only those (FastAPI ignores the
 *   rest of a form: a page's csrf_token, its submit button); without
 *   properties every field is kept, as a string.
 */
enum rl_err	rl_input_from_fields(const json_t *schema,
		    const struct rl_kv *, size_t, json_t **,
		    struct rl_error *);

#endif
