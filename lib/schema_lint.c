/*
 * schema_lint.c: OpenAI strict mode ("strict": true structured outputs
 * and function tools).  rl_schema_lint() reports every way a schema falls
 * outside the subset and its limits, worded like the API's own errors
 * ("In context=('properties', 'u'), ..."); rl_schema_to_strict() rewrites
 * a relaxed schema the way openai-python's to_strict_json_schema() does.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema.h"

#define L_MAX_PATH	64

struct lint {
	json_t		*report;
	const json_t	*root;
	const char	*path[L_MAX_PATH];
	char		 idx[L_MAX_PATH][24];
	size_t		 npath;
	size_t		 nprops;	/* properties, whole schema */
	size_t		 nenum;		/* enum values, whole schema */
	size_t		 nchars;	/* names, enum and const strings */
	size_t		 maxnest;
	const json_t	*seen[256];	/* $ref targets being walked */
	size_t		 nseen;
	int		 oom;
};

/* Keywords the strict subset accepts (structured outputs guide). */
static const char *const allowed[] = {
	"type", "properties", "required", "additionalProperties", "enum",
	"const", "anyOf", "$ref", "$defs", "definitions", "items", "pattern",
	"format", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
	"multipleOf", "minItems", "maxItems", "minLength", "maxLength",
	"title", "description", "$comment", "examples", "$schema", "$id",
	"default", NULL
};

static int
in_list(const char *const *l, const char *k)
{

	for (; *l != NULL; l++)
		if (strcmp(*l, k) == 0)
			return 1;
	return 0;
}

/* ('properties', 'u', 'anyOf', '0') as the API prints a context. */
static void
context(struct lint *l, char *buf, size_t sz)
{
	size_t	 i, o = 0;

	o += (size_t)snprintf(buf, sz, "(");
	for (i = 0; i < l->npath && o < sz; i++)
		o += (size_t)snprintf(buf + o, sz - o, "%s'%s'",
		    i > 0 ? ", " : "", l->path[i]);
	if (o < sz)
		(void)snprintf(buf + o, sz - o, "%s)",
		    l->npath == 1 ? "," : "");
}

static void
pointer(struct lint *l, char *buf, size_t sz)
{
	size_t	 i, o = 0;

	o += (size_t)snprintf(buf, sz, "#");
	for (i = 0; i < l->npath && o < sz; i++)
		o += (size_t)snprintf(buf + o, sz - o, "/%s", l->path[i]);
}

static void __attribute__((format(printf, 2, 3)))
lreport(struct lint *l, const char *fmt, ...)
{
	char	 ctx[1024], ptr[1024], what[512], msg[1600];
	va_list	 ap;
	json_t	*it;

	context(l, ctx, sizeof(ctx));
	pointer(l, ptr, sizeof(ptr));
	va_start(ap, fmt);
	(void)vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	(void)snprintf(msg, sizeof(msg), "In context=%s, %s", ctx, what);
	if ((it = json_pack("{s:s, s:s}", "path", ptr, "message", msg)) ==
	    NULL || json_array_append_new(l->report, it) == -1)
		l->oom = 1;
}

static void	lint_node(struct lint *, const json_t *, size_t);

static void
push(struct lint *l, const char *seg)
{

	if (l->npath < L_MAX_PATH)
		l->path[l->npath] = seg;
	l->npath++;
}

static void
pop(struct lint *l)
{

	l->npath--;
}

static void
lint_sub(struct lint *l, const char *kw, const json_t *sub, size_t nest)
{

	push(l, kw);
	if (l->npath <= L_MAX_PATH)
		lint_node(l, sub, nest);
	pop(l);
}

static void
lint_list(struct lint *l, const char *kw, const json_t *arr, size_t nest)
{
	size_t	 i;

	if (!json_is_array(arr))
		return;
	push(l, kw);
	for (i = 0; i < json_array_size(arr) && l->npath < L_MAX_PATH;
	    i++) {
		(void)snprintf(l->idx[l->npath], sizeof(l->idx[0]), "%zu", i);
		push(l, l->idx[l->npath]);
		lint_node(l, json_array_get(arr, i), nest);
		pop(l);
	}
	pop(l);
}

static void
count_strings(struct lint *l, const json_t *v)
{

	if (json_is_string(v))
		l->nchars += json_string_length(v);
}

static void
lint_object(struct lint *l, const json_t *js, size_t nest)
{
	const json_t	*props = json_object_get(js, "properties");
	const json_t	*req = json_object_get(js, "required");
	const json_t	*ap = json_object_get(js, "additionalProperties");
	const char	*k;
	json_t		*v;
	size_t		 i;
	int		 found;

	if (ap == NULL || !json_is_false(ap))
		lreport(l, "'additionalProperties' is required to be supplied "
		    "and to be false.");
	if (!json_is_object(props))
		return;
	json_object_foreach((json_t *)(uintptr_t)props, k, v) {
		l->nprops++;
		l->nchars += strlen(k);
		found = 0;
		for (i = 0; json_is_array(req) && i < json_array_size(req);
		    i++)
			if (json_is_string(json_array_get(req, i)) &&
			    strcmp(json_string_value(json_array_get(req, i)),
			    k) == 0)
				found = 1;
		if (!found)
			lreport(l, "'required' is required to be supplied and "
			    "to be an array including every key in "
			    "properties. Missing '%s'.", k);
	}
	push(l, "properties");
	json_object_foreach((json_t *)(uintptr_t)props, k, v) {
		push(l, k);
		if (l->npath <= L_MAX_PATH)
			lint_node(l, v, nest);
		pop(l);
	}
	pop(l);
}

static void
lint_enum(struct lint *l, const json_t *e)
{
	size_t	 i, chars = 0;
	json_t	*v;

	if (!json_is_array(e))
		return;
	l->nenum += json_array_size(e);
	json_array_foreach(e, i, v) {
		count_strings(l, v);
		if (json_is_string(v))
			chars += json_string_length(v);
	}
	if (json_array_size(e) > RL_OPENAI_BIG_ENUM &&
	    chars > RL_OPENAI_BIG_ENUM_CHARS)
		lreport(l, "an enum with more than %d values may total at most "
		    "%d characters; this one has %zu.", RL_OPENAI_BIG_ENUM,
		    RL_OPENAI_BIG_ENUM_CHARS, chars);
}

static void
lint_node(struct lint *l, const json_t *js, size_t nest)
{
	const char	*k, *t;
	json_t		*v;
	const json_t	*target = NULL;
	size_t		 i;
	int		 isobj = 0;

	if (!json_is_object(js)) {
		lreport(l, "a schema must be an object; boolean schemas are "
		    "not permitted.");
		return;
	}
	json_object_foreach((json_t *)(uintptr_t)js, k, v) {
		if (!in_list(allowed, k))
			lreport(l, "'%s' is not permitted.", k);
		else if (strcmp(k, "$id") == 0 && l->npath > 0)
			lreport(l, "'$id' is not permitted.");
		else if (strcmp(k, "default") == 0)
			lreport(l, "'default' is not permitted.");
	}
	v = json_object_get(js, "type");
	if (json_is_string(v) && strcmp(json_string_value(v), "object") == 0)
		isobj = 1;
	if (json_is_array(v))
		for (i = 0; i < json_array_size(v); i++) {
			t = json_string_value(json_array_get(v, i));
			if (t != NULL && strcmp(t, "object") == 0)
				isobj = 1;
		}
	if (isobj || json_object_get(js, "properties") != NULL) {
		nest++;
		if (nest > l->maxnest)
			l->maxnest = nest;
		if (nest == RL_OPENAI_MAX_NESTING + 1)
			lreport(l, "objects are nested more than %d levels.",
			    RL_OPENAI_MAX_NESTING);
		lint_object(l, js, nest);
	}
	if ((v = json_object_get(js, "format")) != NULL &&
	    (!json_is_string(v) ||
	    rl_schema_format_id(json_string_value(v)) == 0))
		lreport(l, "format '%s' is not supported.", json_is_string(v) ?
		    json_string_value(v) : "?");
	if ((v = json_object_get(js, "enum")) != NULL)
		lint_enum(l, v);
	if ((v = json_object_get(js, "const")) != NULL)
		count_strings(l, v);
	if ((v = json_object_get(js, "items")) != NULL)
		lint_sub(l, "items", v, nest);
	if ((v = json_object_get(js, "anyOf")) != NULL)
		lint_list(l, "anyOf", v, nest);
	if ((v = json_object_get(js, "$ref")) != NULL) {
		if (!json_is_string(v) || json_string_value(v)[0] != '#')
			lreport(l, "only local '$ref' is permitted.");
		else if (strcmp(json_string_value(v), "#") == 0)
			target = l->root;
		else
			target = NULL;
		/* Nesting through a reference: walk it once per path. */
		if (json_is_string(v) && strncmp(json_string_value(v), "#/",
		    2) == 0) {
			const char *p = json_string_value(v) + 2;
			char	 seg[256];
			size_t	 o;

			target = l->root;
			while (target != NULL && *p != '\0') {
				for (o = 0; *p != '\0' && *p != '/' &&
				    o < sizeof(seg) - 1; p++)
					seg[o++] = *p;
				seg[o] = '\0';
				if (*p == '/')
					p++;
				target = json_object_get(target, seg);
			}
			if (target == NULL)
				lreport(l, "'$ref' %s does not resolve.",
				    json_string_value(v));
		}
		if (json_is_string(v) && target != NULL &&
		    json_string_value(v)[0] == '#') {
			for (i = 0; i < l->nseen; i++)
				if (l->seen[i] == target)
					break;
			if (i == l->nseen && l->nseen < 256) {
				size_t	 save = l->npath, np = l->nprops,
					 ne = l->nenum, nc = l->nchars;
				json_t	*rep = l->report;

				/* Only nesting counts here; no reports. */
				l->seen[l->nseen++] = target;
				if ((l->report = json_array()) != NULL) {
					lint_node(l, target, nest);
					json_decref(l->report);
				}
				l->report = rep;
				l->npath = save;
				l->nprops = np;
				l->nenum = ne;
				l->nchars = nc;
				l->nseen--;
			}
		}
	}
	(void)nest;
}

/*
 * Lints schema for OpenAI strict mode.  *report: a new array of
 * {path, message}; empty when the schema is fine.
 */
enum rl_err
rl_schema_lint(const json_t *schema, json_t **report)
{
	struct lint	*l;
	const char	*k;
	json_t		*v, *t;
	enum rl_err	 rc = RL_OK;

	*report = NULL;
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return RL_ENOMEM;
	if ((l->report = json_array()) == NULL) {
		free(l);
		return RL_ENOMEM;
	}
	l->root = schema;
	t = json_object_get(schema, "type");
	if (!json_is_object(schema) || !json_is_string(t) ||
	    strcmp(json_string_value(t), "object") != 0)
		lreport(l, "the root schema must be of type 'object'.");
	if (json_object_get(schema, "anyOf") != NULL)
		lreport(l, "'anyOf' is not permitted at the root; the root "
		    "must be an object.");
	lint_node(l, schema, 0);
	/* Definitions are walked once, at their own place. */
	if ((v = json_object_get(schema, "$defs")) != NULL ||
	    (v = json_object_get(schema, "definitions")) != NULL) {
		const char *kw = json_object_get(schema, "$defs") != NULL ?
		    "$defs" : "definitions";
		json_t	*d;

		push(l, kw);
		json_object_foreach(v, k, d) {
			l->nchars += strlen(k);
			push(l, k);
			lint_node(l, d, 0);
			pop(l);
		}
		pop(l);
	}
	l->npath = 0;
	if (l->nprops > RL_OPENAI_MAX_PROPERTIES)
		lreport(l, "the schema has %zu object properties; at most %d "
		    "are permitted.", l->nprops, RL_OPENAI_MAX_PROPERTIES);
	if (l->nenum > RL_OPENAI_MAX_ENUM_VALUES)
		lreport(l, "the schema has %zu enum values; at most %d are "
		    "permitted.", l->nenum, RL_OPENAI_MAX_ENUM_VALUES);
	if (l->nchars > RL_OPENAI_MAX_NAME_CHARS)
		lreport(l, "property names, definition names, enum and const "
		    "values total %zu characters; at most %d are permitted.",
		    l->nchars, RL_OPENAI_MAX_NAME_CHARS);
	if (l->oom) {
		json_decref(l->report);
		rc = RL_ENOMEM;
	} else
		*report = l->report;
	free(l);
	return rc;
}

/* ---- to_strict ----------------------------------------------------- */

static const json_t *
sdk_resolve(const json_t *root, const char *ref)
{
	const json_t	*cur = root;
	const char	*p;
	char		 seg[512];
	size_t		 o;

	if (strncmp(ref, "#/", 2) != 0)
		return NULL;
	p = ref + 2;
	while (cur != NULL && *p != '\0') {
		for (o = 0; *p != '\0' && *p != '/' && o < sizeof(seg) - 1;
		    p++)
			seg[o++] = *p;
		seg[o] = '\0';
		if (*p == '/')
			p++;
		cur = json_object_get(cur, seg);
	}
	return cur;
}

static int
ensure(json_t *js, json_t *root, struct rl_error *e, int depth)
{
	json_t		*defs, *props, *req, *items, *any, *all, *def, *ref;
	json_t		*merged, *one;
	const json_t	*target;
	const char	*k;
	json_t		*v;
	size_t		 i;
	static const char *const dk[] = { "$defs", "definitions", NULL };

	if (depth > RL_SCHEMA_MAX_DEPTH) {
		rl_error_set(e, RL_EINVAL, "schema nested too deep");
		return -1;
	}
	if (!json_is_object(js))
		return 0;
	for (i = 0; dk[i] != NULL; i++)
		if ((defs = json_object_get(js, dk[i])) != NULL &&
		    json_is_object(defs))
			json_object_foreach(defs, k, v)
				if (ensure(v, root, e, depth + 1) == -1)
					return -1;
	v = json_object_get(js, "type");
	if (json_is_string(v) && strcmp(json_string_value(v), "object") == 0 &&
	    json_object_get(js, "additionalProperties") == NULL)
		json_object_set_new(js, "additionalProperties", json_false());
	if ((props = json_object_get(js, "properties")) != NULL &&
	    json_is_object(props)) {
		if ((req = json_array()) == NULL)
			goto oom;
		json_object_foreach(props, k, v)
			json_array_append_new(req, json_string(k));
		json_object_set_new(js, "required", req);
		json_object_foreach(props, k, v)
			if (ensure(v, root, e, depth + 1) == -1)
				return -1;
	}
	if ((items = json_object_get(js, "items")) != NULL &&
	    json_is_object(items) && ensure(items, root, e, depth + 1) == -1)
		return -1;
	if ((any = json_object_get(js, "anyOf")) != NULL &&
	    json_is_array(any))
		json_array_foreach(any, i, v)
			if (ensure(v, root, e, depth + 1) == -1)
				return -1;
	if ((all = json_object_get(js, "allOf")) != NULL &&
	    json_is_array(all)) {
		if (json_array_size(all) == 1) {
			one = json_incref(json_array_get(all, 0));
			if (ensure(one, root, e, depth + 1) == -1) {
				json_decref(one);
				return -1;
			}
			json_object_del(js, "allOf");
			if (json_is_object(one))
				json_object_update(js, one);
			json_decref(one);
		} else
			json_array_foreach(all, i, v)
				if (ensure(v, root, e, depth + 1) == -1)
					return -1;
	}
	if ((def = json_object_get(js, "default")) != NULL &&
	    json_is_null(def))
		json_object_del(js, "default");
	ref = json_object_get(js, "$ref");
	if (ref != NULL && json_object_size(js) > 1) {
		if (!json_is_string(ref) || (target = sdk_resolve(root,
		    json_string_value(ref))) == NULL ||
		    !json_is_object(target)) {
			rl_error_set(e, RL_EINVAL, "unexpected $ref format "
			    "%s; does not start with #/ or does not resolve",
			    json_is_string(ref) ? json_string_value(ref) :
			    "?");
			return -1;
		}
		/* {**resolved, **json_schema}: the node's own keys win. */
		if ((merged = json_deep_copy(target)) == NULL)
			goto oom;
		json_object_update(merged, js);
		json_object_clear(js);
		json_object_update(js, merged);
		json_decref(merged);
		json_object_del(js, "$ref");
		return ensure(js, root, e, depth + 1);
	}
	return 0;
oom:
	rl_error_set(e, RL_ENOMEM, "out of memory");
	return -1;
}

enum rl_err
rl_schema_to_strict(const json_t *schema, json_t **out, struct rl_error *e)
{
	json_t	*js;

	*out = NULL;
	if ((js = json_deep_copy(schema)) == NULL)
		return rl_error_set(e, RL_ENOMEM, "out of memory");
	if (ensure(js, js, e, 0) == -1) {
		json_decref(js);
		return e != NULL ? e->code : RL_EINVAL;
	}
	*out = js;
	return RL_OK;
}
