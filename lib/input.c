/*
 * input.c: form and query fields to one JSON object, shaped by the route's
 * request schema (see input.h).  Pure: no request, no I/O, so it is unit
 * tested on its own.
 */
#include "config.h"

#include <string.h>

#include <jansson.h>

#include "input.h"

/* "#/$defs/Name" within the same document; anything else as it is. */
static const json_t *
deref(const json_t *root, const json_t *s)
{
	const char	*ref;

	ref = json_string_value(json_object_get(s, "$ref"));
	if (ref == NULL || strncmp(ref, "#/$defs/", 8) != 0)
		return s;
	return json_object_get(json_object_get(root, "$defs"), ref + 8);
}

/* Does the (dereferenced) schema s allow type t, directly or in a branch? */
static int
allows(const json_t *root, const json_t *s, const char *t)
{
	const json_t	*ty, *v, *br;
	size_t		 i;

	if ((s = deref(root, s)) == NULL)
		return 0;
	ty = json_object_get(s, "type");
	if (json_is_string(ty) && strcmp(json_string_value(ty), t) == 0)
		return 1;
	json_array_foreach(ty, i, v)
		if (strcmp(json_string_value(v) != NULL ?
		    json_string_value(v) : "", t) == 0)
			return 1;
	json_array_foreach(json_object_get(s, "anyOf"), i, br)
		if (allows(root, br, t))
			return 1;
	json_array_foreach(json_object_get(s, "oneOf"), i, br)
		if (allows(root, br, t))
			return 1;
	return 0;
}

/* No "type" anywhere: anything goes, a string included. */
static int
untyped(const json_t *root, const json_t *s)
{

	s = deref(root, s);
	return s != NULL && json_object_get(s, "type") == NULL &&
	    json_object_get(s, "anyOf") == NULL &&
	    json_object_get(s, "oneOf") == NULL;
}

enum rl_err
rl_input_from_fields(const json_t *schema, const struct rl_kv *kv, size_t n,
    json_t **out, struct rl_error *e)
{
	const json_t	*props, *p = NULL;
	json_t		*obj, *v, *s;
	char		 key[256];
	size_t		 i, klen;
	int		 array;
	enum rl_err	 err = RL_OK;

	*out = NULL;
	props = json_object_get(schema, "properties");
	if ((obj = json_object()) == NULL)
		return rl_error_set(e, RL_ENOMEM, NULL);
	for (i = 0; i < n && err == RL_OK; i++) {
		/* "tags[]" is PHP's and jQuery's way of saying "tags". */
		klen = strlen(kv[i].key);
		if (klen >= 2 && strcmp(kv[i].key + klen - 2, "[]") == 0)
			klen -= 2;
		if (klen == 0 || klen >= sizeof(key))
			continue;
		memcpy(key, kv[i].key, klen);
		key[klen] = '\0';
		if (props != NULL && (p = json_object_get(props, key)) == NULL)
			continue;
		array = p != NULL && allows(schema, p, "array");
		if (*kv[i].val == '\0' && p != NULL && !array &&
		    !allows(schema, p, "string") && !untyped(schema, p))
			continue;
		if (!array && json_object_get(obj, key) != NULL)
			continue;	/* the first value, as Flask's get() */
		/* The parsers let only UTF-8 through; NULL is memory. */
		if ((s = json_stringn(kv[i].val, kv[i].len)) == NULL) {
			err = rl_error_set(e, RL_ENOMEM, NULL);
			break;
		}
		if (!array) {
			if (json_object_set_new(obj, key, s) == -1)
				err = rl_error_set(e, RL_ENOMEM, NULL);
			continue;
		}
		if ((v = json_object_get(obj, key)) == NULL &&
		    ((v = json_array()) == NULL ||
		    json_object_set_new(obj, key, v) == -1)) {
			json_decref(s);
			err = rl_error_set(e, RL_ENOMEM, NULL);
		} else if (json_array_append_new(v, s) == -1)
			err = rl_error_set(e, RL_ENOMEM, NULL);
	}
	if (err != RL_OK)
		json_decref(obj);
	else
		*out = obj;
	return err;
}
