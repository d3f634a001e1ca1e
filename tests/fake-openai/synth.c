/*
 * fake-openai: synthesise a deterministic JSON instance that validates
 * against a JSON Schema, as structured outputs and tool arguments need.
 *
 * The instance is built top-down.  In "minimal" mode (deep nesting, or
 * re-entering a $ref that is already being expanded) only what the
 * schema requires is produced: required properties, minItems items and
 * the null branch of a union, so recursive schemas terminate.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake.h"

/* Past this depth we give up and emit null: no schema needs more. */
#define SYNTH_MAX_DEPTH		48
/* Past this depth only minimal instances are produced, bounding size. */
#define SYNTH_SOFT_DEPTH	8
/* Nested $ref expansions tracked for recursion detection. */
#define SYNTH_MAX_REFS		64
/* minItems/minProperties beyond this are not honoured (output size). */
#define SYNTH_MAX_ITEMS		1000
/* Longest string produced to satisfy minLength. */
#define SYNTH_MAX_STRLEN	65536

struct synth {
	json_t		*root;
	const char	*refs[SYNTH_MAX_REFS];
	int		 nrefs;
};

static json_t	*gen(struct synth *, json_t *, int, int, long);

/* Resolve a local JSON pointer reference such as "#/$defs/Node". */
static json_t *
resolve_ref(json_t *root, const char *ref)
{
	char tok[256];
	const char *p, *e;
	json_t *cur;
	size_t i, j, tl;
	char *end;
	unsigned long idx;

	if (strcmp(ref, "#") == 0)
		return root;
	if (strncmp(ref, "#/", 2) != 0)
		return NULL;
	cur = root;
	for (p = ref + 2; cur != NULL; p = e + 1) {
		e = strchr(p, '/');
		if (e == NULL)
			e = p + strlen(p);
		tl = (size_t)(e - p);
		if (tl >= sizeof(tok))
			return NULL;
		/* Unescape ~1 -> '/', ~0 -> '~' (RFC 6901). */
		for (i = 0, j = 0; i < tl; i++) {
			if (p[i] == '~' && i + 1 < tl &&
			    (p[i + 1] == '0' || p[i + 1] == '1')) {
				tok[j++] = p[i + 1] == '1' ? '/' : '~';
				i++;
			} else
				tok[j++] = p[i];
		}
		tok[j] = '\0';
		if (json_is_object(cur))
			cur = json_object_get(cur, tok);
		else if (json_is_array(cur)) {
			idx = strtoul(tok, &end, 10);
			cur = *end == '\0' ? json_array_get(cur, idx) : NULL;
		} else
			cur = NULL;
		if (*e == '\0')
			break;
	}
	return cur;
}

static int
ref_active(struct synth *st, const char *ref)
{
	int i;

	for (i = 0; i < st->nrefs; i++)
		if (strcmp(st->refs[i], ref) == 0)
			return 1;
	return 0;
}

/* A union branch that would re-enter a $ref being expanded. */
static int
branch_recurses(struct synth *st, json_t *b)
{
	const char *ref;

	ref = json_str(b, "$ref");
	return ref != NULL && ref_active(st, ref);
}

static int
branch_is_null(json_t *b)
{
	const char *t;

	t = json_str(b, "type");
	if (t != NULL)
		return strcmp(t, "null") == 0;
	return json_is_null(json_object_get(b, "const"));
}

/*
 * Pick a union branch: in minimal mode the null branch if any, otherwise
 * the first branch that does not recurse, preferring non-null ones.
 */
static json_t *
pick_branch(struct synth *st, json_t *branches, int minimal)
{
	json_t *b, *nul = NULL, *first = NULL;
	size_t i;

	json_array_foreach(branches, i, b) {
		if (branch_is_null(b)) {
			if (nul == NULL)
				nul = b;
			continue;
		}
		if (first == NULL && !branch_recurses(st, b))
			first = b;
	}
	if (minimal && nul != NULL)
		return nul;
	if (first != NULL)
		return first;
	if (nul != NULL)
		return nul;
	return json_array_get(branches, 0);
}

/* Merge allOf members (and the schema itself) into one schema. */
static json_t *
merge_all_of(struct synth *st, json_t *schema)
{
	json_t *m, *sub, *v, *props, *req, *p;
	const char *k, *ref;
	size_t i;

	m = json_object();
	props = json_object();
	req = json_array();
	json_object_foreach(schema, k, v) {
		if (strcmp(k, "allOf") != 0)
			json_object_set(m, k, v);
	}
	json_array_foreach(json_object_get(schema, "allOf"), i, sub) {
		if ((ref = json_str(sub, "$ref")) != NULL &&
		    (p = resolve_ref(st->root, ref)) != NULL)
			sub = p;
		json_object_foreach(sub, k, v) {
			if (strcmp(k, "properties") == 0)
				json_object_update_missing(props, v);
			else if (strcmp(k, "required") == 0 &&
			    json_is_array(v))
				json_array_extend(req, v);
			else if (json_object_get(m, k) == NULL)
				json_object_set(m, k, v);
		}
	}
	if ((v = json_object_get(m, "properties")) != NULL)
		json_object_update_missing(props, v);
	if ((v = json_object_get(m, "required")) != NULL && json_is_array(v))
		json_array_extend(req, v);
	json_object_set_new(m, "properties", props);
	json_object_set_new(m, "required", req);
	if (json_object_get(m, "type") == NULL)
		json_object_set_new(m, "type", json_string("object"));
	return m;
}

static const char *
pick_type(json_t *schema, int minimal)
{
	json_t *t, *v;
	const char *s, *first = NULL;
	size_t i;
	int has_null = 0;

	t = json_object_get(schema, "type");
	if (json_is_string(t))
		return json_string_value(t);
	if (json_is_array(t)) {
		json_array_foreach(t, i, v) {
			if ((s = json_string_value(v)) == NULL)
				continue;
			if (strcmp(s, "null") == 0)
				has_null = 1;
			else if (first == NULL)
				first = s;
		}
		if ((minimal && has_null) || first == NULL)
			return has_null ? "null" : "string";
		return first;
	}
	/* No type: infer it from the keywords present. */
	if (json_object_get(schema, "properties") ||
	    json_object_get(schema, "required") ||
	    json_object_get(schema, "additionalProperties"))
		return "object";
	if (json_object_get(schema, "items") ||
	    json_object_get(schema, "prefixItems"))
		return "array";
	if (json_object_get(schema, "minimum") ||
	    json_object_get(schema, "maximum") ||
	    json_object_get(schema, "exclusiveMinimum") ||
	    json_object_get(schema, "exclusiveMaximum"))
		return "number";
	return "string";
}

static json_t *
gen_format(const char *fmt, long seed)
{
	char buf[64];

	if (strcmp(fmt, "date-time") == 0)
		snprintf(buf, sizeof(buf), "2024-01-%02ldT12:00:00Z",
		    1 + seed % 28);
	else if (strcmp(fmt, "date") == 0)
		snprintf(buf, sizeof(buf), "2024-01-%02ld", 1 + seed % 28);
	else if (strcmp(fmt, "time") == 0)
		snprintf(buf, sizeof(buf), "12:%02ld:00Z", seed % 60);
	else if (strcmp(fmt, "email") == 0 || strcmp(fmt, "idn-email") == 0)
		snprintf(buf, sizeof(buf), "user%ld@example.com", seed);
	else if (strcmp(fmt, "uuid") == 0)
		snprintf(buf, sizeof(buf),
		    "00000000-0000-4000-8000-%012lx", seed + 1);
	else if (strcmp(fmt, "ipv4") == 0)
		snprintf(buf, sizeof(buf), "192.0.2.%ld", 1 + seed % 254);
	else if (strcmp(fmt, "ipv6") == 0)
		snprintf(buf, sizeof(buf), "2001:db8::%lx", seed + 1);
	else if (strcmp(fmt, "hostname") == 0 ||
	    strcmp(fmt, "idn-hostname") == 0)
		snprintf(buf, sizeof(buf), "host%ld.example.com", seed);
	else if (strcmp(fmt, "duration") == 0)
		snprintf(buf, sizeof(buf), "P%ldD", seed + 1);
	else if (strcmp(fmt, "uri") == 0 || strcmp(fmt, "url") == 0 ||
	    strcmp(fmt, "iri") == 0 || strcmp(fmt, "uri-reference") == 0)
		snprintf(buf, sizeof(buf), "https://example.com/%ld", seed);
	else
		return NULL;
	return json_string(buf);
}

static json_t *
gen_string(json_t *schema, long seed)
{
	json_t *v, *f;
	const char *fmt;
	char *s;
	long minlen = 0, maxlen = -1, len, i;
	char base[32];

	fmt = json_str(schema, "format");
	if (fmt != NULL && (f = gen_format(fmt, seed)) != NULL)
		return f;
	if ((v = json_object_get(schema, "minLength")) != NULL)
		minlen = (long)json_number_value(v);
	if ((v = json_object_get(schema, "maxLength")) != NULL)
		maxlen = (long)json_number_value(v);
	if (minlen > SYNTH_MAX_STRLEN)
		minlen = SYNTH_MAX_STRLEN;
	if (seed > 0)
		snprintf(base, sizeof(base), "exemple-%ld", seed);
	else
		snprintf(base, sizeof(base), "exemple");
	len = (long)strlen(base);
	if (len < minlen)
		len = minlen;
	if (maxlen >= 0 && len > maxlen)
		len = maxlen;
	if ((s = malloc((size_t)len + 1)) == NULL)
		abort();
	for (i = 0; i < len; i++)
		s[i] = i < (long)strlen(base) ? base[i] : 'x';
	s[len] = '\0';
	v = json_string(s);
	free(s);
	return v;
}

/* Read a bound, honouring both draft-4 boolean and numeric exclusives. */
static void
bounds(json_t *schema, int *has_lo, double *lo, int *lo_ex, int *has_hi,
    double *hi, int *hi_ex)
{
	json_t *v;

	*has_lo = *has_hi = *lo_ex = *hi_ex = 0;
	*lo = *hi = 0;
	if (json_is_number(v = json_object_get(schema, "minimum"))) {
		*has_lo = 1;
		*lo = json_number_value(v);
	}
	if (json_is_number(v = json_object_get(schema, "maximum"))) {
		*has_hi = 1;
		*hi = json_number_value(v);
	}
	v = json_object_get(schema, "exclusiveMinimum");
	if (json_is_true(v))
		*lo_ex = *has_lo;
	else if (json_is_number(v) && (!*has_lo ||
	    json_number_value(v) >= *lo)) {
		*has_lo = *lo_ex = 1;
		*lo = json_number_value(v);
	}
	v = json_object_get(schema, "exclusiveMaximum");
	if (json_is_true(v))
		*hi_ex = *has_hi;
	else if (json_is_number(v) && (!*has_hi ||
	    json_number_value(v) <= *hi)) {
		*has_hi = *hi_ex = 1;
		*hi = json_number_value(v);
	}
}

static json_t *
gen_number(json_t *schema, int integer, long seed)
{
	double lo, hi, v, m;
	int has_lo, has_hi, lo_ex, hi_ex;
	json_t *mv;

	bounds(schema, &has_lo, &lo, &lo_ex, &has_hi, &hi, &hi_ex);
	if (integer) {
		/* Turn the bounds into inclusive integer bounds. */
		if (has_lo)
			lo = lo_ex ? floor(lo) + 1 : ceil(lo);
		if (has_hi)
			hi = hi_ex ? ceil(hi) - 1 : floor(hi);
		lo_ex = hi_ex = 0;
		v = 1 + (double)seed;
	} else
		v = 1.5 + (double)seed;
	if (has_lo && (v < lo || (lo_ex && v <= lo)))
		v = !lo_ex ? lo : has_hi ? (lo + hi) / 2 : lo + 1;
	if (has_hi && (v > hi || (hi_ex && v >= hi)))
		v = !hi_ex ? hi : has_lo ? (lo + hi) / 2 : hi - 1;
	mv = json_object_get(schema, "multipleOf");
	if (json_is_number(mv) && (m = json_number_value(mv)) > 0) {
		v = ceil(v / m) * m;
		if (has_hi && (v > hi || (hi_ex && v >= hi)))
			v = floor(hi / m) * m;
		if (hi_ex && has_hi && v >= hi)
			v -= m;
	}
	if (integer)
		return json_integer((json_int_t)llround(v));
	return json_real(v);
}

static json_t *
gen_array(struct synth *st, json_t *schema, int depth, int minimal)
{
	json_t *a, *items, *prefix, *v, *it;
	long n, minn = 0, maxn = -1, i, np;

	if (json_is_number(v = json_object_get(schema, "minItems")))
		minn = (long)json_number_value(v);
	if (json_is_number(v = json_object_get(schema, "maxItems")))
		maxn = (long)json_number_value(v);
	if (minn > SYNTH_MAX_ITEMS)
		minn = SYNTH_MAX_ITEMS;
	n = minimal ? minn : (minn > 1 ? minn : 1);
	if (maxn >= 0 && n > maxn)
		n = maxn;
	items = json_object_get(schema, "items");
	prefix = json_object_get(schema, "prefixItems");
	if (json_is_array(items)) {
		/* Draft 4-7 tuple form. */
		prefix = items;
		items = json_object_get(schema, "additionalItems");
	}
	np = json_is_array(prefix) ? (long)json_array_size(prefix) : 0;
	if (n < np && !minimal)
		n = maxn >= 0 && np > maxn ? maxn : np;
	a = json_array();
	for (i = 0; i < n; i++) {
		it = i < np ? json_array_get(prefix, (size_t)i) : items;
		if (it == NULL || json_is_true(it))
			v = json_string("exemple");
		else if (json_is_false(it))
			break;
		else
			v = gen(st, it, depth + 1, minimal, i);
		json_array_append_new(a, v);
	}
	return a;
}

static json_t *
gen_object(struct synth *st, json_t *schema, int depth, int minimal,
    long seed)
{
	json_t *o, *props, *req, *addl, *v, *r;
	const char *k, *name;
	size_t i;
	long minp = 0, extra;
	char key[32];
	int required;

	o = json_object();
	props = json_object_get(schema, "properties");
	req = json_object_get(schema, "required");
	addl = json_object_get(schema, "additionalProperties");
	json_object_foreach(props, k, v) {
		required = 0;
		json_array_foreach(req, i, r)
			if (json_is_string(r) &&
			    strcmp(json_string_value(r), k) == 0)
				required = 1;
		if (required || !minimal)
			json_object_set_new(o, k,
			    gen(st, v, depth + 1, minimal, seed));
	}
	/* Required names without a property schema. */
	json_array_foreach(req, i, r) {
		if ((name = json_string_value(r)) == NULL ||
		    json_object_get(o, name) != NULL)
			continue;
		json_object_set_new(o, name, json_is_object(addl) ?
		    gen(st, addl, depth + 1, minimal, seed) :
		    json_string("exemple"));
	}
	if (json_is_number(v = json_object_get(schema, "minProperties")))
		minp = (long)json_number_value(v);
	if (minp > SYNTH_MAX_ITEMS)
		minp = SYNTH_MAX_ITEMS;
	for (extra = 1; (long)json_object_size(o) < minp &&
	    !json_is_false(addl); extra++) {
		snprintf(key, sizeof(key), "champ_%ld", extra);
		json_object_set_new(o, key, json_is_object(addl) ?
		    gen(st, addl, depth + 1, minimal, seed) :
		    json_string("exemple"));
	}
	return o;
}

static json_t *
gen(struct synth *st, json_t *schema, int depth, int minimal, long seed)
{
	json_t *v, *target, *merged;
	const char *ref, *type;
	size_t n;

	if (depth > SYNTH_MAX_DEPTH)
		return json_null();
	if (json_is_true(schema))
		return json_string("exemple");
	if (!json_is_object(schema))
		return json_null();
	if (depth > SYNTH_SOFT_DEPTH)
		minimal = 1;

	if ((ref = json_str(schema, "$ref")) != NULL) {
		if ((target = resolve_ref(st->root, ref)) == NULL ||
		    st->nrefs >= SYNTH_MAX_REFS)
			return json_null();
		if (ref_active(st, ref))
			minimal = 1;
		st->refs[st->nrefs++] = ref;
		v = gen(st, target, depth + 1, minimal, seed);
		st->nrefs--;
		return v;
	}
	if ((v = json_object_get(schema, "const")) != NULL)
		return json_deep_copy(v);
	if (json_is_array(v = json_object_get(schema, "enum")) &&
	    (n = json_array_size(v)) > 0)
		return json_deep_copy(json_array_get(v, (size_t)seed % n));
	if (json_is_array(json_object_get(schema, "allOf"))) {
		merged = merge_all_of(st, schema);
		v = gen(st, merged, depth + 1, minimal, seed);
		json_decref(merged);
		return v;
	}
	if (json_is_array(v = json_object_get(schema, "anyOf")) ||
	    json_is_array(v = json_object_get(schema, "oneOf"))) {
		if (json_array_size(v) > 0)
			return gen(st, pick_branch(st, v, minimal), depth + 1,
			    minimal, seed);
	}

	type = pick_type(schema, minimal);
	if (strcmp(type, "object") == 0)
		return gen_object(st, schema, depth, minimal, seed);
	if (strcmp(type, "array") == 0)
		return gen_array(st, schema, depth, minimal);
	if (strcmp(type, "integer") == 0)
		return gen_number(schema, 1, seed);
	if (strcmp(type, "number") == 0)
		return gen_number(schema, 0, seed);
	if (strcmp(type, "boolean") == 0)
		return json_boolean(seed % 2 == 0);
	if (strcmp(type, "null") == 0)
		return json_null();
	return gen_string(schema, seed);
}

/* A new reference to an instance of schema; never NULL. */
json_t *
synth_instance(json_t *schema)
{
	struct synth st;
	json_t *v;

	memset(&st, 0, sizeof(st));
	st.root = schema;
	v = gen(&st, schema, 0, 0, 0);
	return v != NULL ? v : json_null();
}
