/*
 * schema.c: compile a JSON Schema into a node tree (keywords parsed once,
 * $ref resolved to node pointers, patterns compiled, enum texts rendered)
 * and validate jansson values against it with Pydantic v2's coercions and
 * error items.  A compiled schema is never written after compile, so any
 * number of threads validate with it at once.  docs/internals/schema.md.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "schema.h"

/* JSON types as a bit set. */
#define T_NULL	0x01
#define T_BOOL	0x02
#define T_INT	0x04
#define T_NUM	0x08
#define T_STR	0x10
#define T_ARR	0x20
#define T_OBJ	0x40

/* A jansson type (json_typeof) as a bit, for leaf masks. */
#define JT(t)	(1u << (t))
#define JT_ALL	(JT(JSON_OBJECT) | JT(JSON_ARRAY) | JT(JSON_STRING) | \
		    JT(JSON_INTEGER) | JT(JSON_REAL) | JT(JSON_TRUE) | \
		    JT(JSON_FALSE) | JT(JSON_NULL))

/* How many $ref or nullable wrappers a leaf check looks through. */
#define LEAF_MAX_WRAP	4

enum addl { ADDL_ANY, ADDL_NONE, ADDL_SCHEMA };

struct sprop {
	char		*name;
	size_t		 len;
	struct snode	*node;
	int		 required;
};

struct snode {
	/* set by finish() for the fast path (f_node()); read first */
	unsigned	 leafmask;	/* JT() of values valid as they are */
	int		 leafd;		/* v_node() levels a leaf stands for */
	unsigned	 tmask;		/* JT() of values tl[0] takes as is */
	unsigned	 tl[7];		/* the types v_node() tries, in order */
	size_t		 ntl;
	int		 comb;		/* $ref or a combinator to apply */
	int		 boolean;	/* 1: true schema, -1: false schema */
	unsigned	 types;		/* T_* allowed; 0: no "type" */
	unsigned	 ptype;		/* types without T_NULL */
	int		 pure_ref;	/* only $ref and annotations */
	int		 nullable;	/* null accepted by type or anyOf */
	struct snode	*nullinner;	/* anyOf [X, {"type":"null"}] -> X */
	int		 nullonly;	/* other keywords are annotations */
	char		*ptr;		/* JSON pointer of this schema */
	char		*title;		/* model name for model_type */
	/* objects */
	struct sprop	*props;		/* schema order */
	size_t		 nprops;
	uint32_t	*ptab;		/* name hash -> props index + 1 */
	uint32_t	 pmask;		/* ptab slots - 1 */
	int		 fillers;	/* a property required or defaulted */
	char	       **req;		/* required but not in properties */
	size_t		 nreq;
	enum addl	 addl;
	struct snode	*addl_node;
	long long	 minprops, maxprops;
	/* arrays */
	struct snode	*items;
	struct snode   **prefix;
	size_t		 nprefix;
	long long	 minitems, maxitems;
	int		 unique;
	/* strings */
	long long	 minlen, maxlen;
	struct rl_schema_re *re;
	char		*pattern;
	int		 format;
	/* numbers: schema values kept for messages */
	json_t		*mult, *max, *xmax, *min, *xmin;
	/* enum / const */
	json_t		*enumv;		/* array of allowed values */
	char		*expected;	/* Python rendering of enumv */
	int		 named_enum;	/* an Enum class: type "enum" */
	/* combinators */
	struct snode   **anyof, **oneof, **allof;
	size_t		 nanyof, noneof, nallof;
	struct snode	*not;
	struct snode	*ref;
	char		*refstr;
	json_t		*def;		/* default */
	int		 has_def;
};

struct rl_schema {
	json_t		*doc;		/* our own deep copy */
	unsigned	 flags;
	struct snode	*root;
	struct snode   **nodes;		/* every node, for free */
	size_t		 nnodes;
};

/* Compile context: a json_t * to node cache makes $ref cycles safe. */
struct cache {
	const json_t	*js;
	struct snode	*node;
};

struct cctx {
	struct rl_schema *s;
	struct cache	*cache;
	size_t		 ncache;
	struct rl_error	*e;
	unsigned	 flags;
};

#define C_MAX_DEPTH	256

static struct snode	*compile(struct cctx *, const json_t *, const char *,
			    int);

static const char *const annotations[] = {
	"title", "description", "$comment", "examples", "$schema",
	"deprecated", "readOnly", "writeOnly", "discriminator",
	"x-message",		/* a request field's EDxo wording (fcgi.c) */
	NULL
};

static int
is_annotation(const char *k)
{
	size_t	 i;

	for (i = 0; annotations[i] != NULL; i++)
		if (strcmp(k, annotations[i]) == 0)
			return 1;
	return 0;
}

/* ptr + "/" + key with ~0 ~1 escapes, into a new string. */
static char *
ptr_join(const char *ptr, const char *key)
{
	size_t	 n = strlen(ptr), k = strlen(key), i, o;
	char	*s;

	if ((s = malloc(n + 2 * k + 2)) == NULL)
		return NULL;
	memcpy(s, ptr, n);
	o = n;
	s[o++] = '/';
	for (i = 0; i < k; i++) {
		if (key[i] == '~' || key[i] == '/') {
			s[o++] = '~';
			s[o++] = key[i] == '~' ? '0' : '1';
		} else
			s[o++] = key[i];
	}
	s[o] = '\0';
	return s;
}

static char *
ptr_index(const char *ptr, size_t i)
{
	char	 buf[32];

	(void)snprintf(buf, sizeof(buf), "%zu", i);
	return ptr_join(ptr, buf);
}

static struct snode *
cerr(struct cctx *c, const char *ptr, enum rl_err code, const char *fmt,
    const char *arg)
{

	char	 where[sizeof(c->e->where)];

	if (c->e != NULL && c->e->code == RL_OK) {
		rl_error_set(c->e, code, fmt, arg);
		(void)snprintf(where, sizeof(where), "#%s", ptr);
		rl_error_where(c->e, where);
	}
	return NULL;
}

/* A non-negative integer keyword value, or -2 with an error. */
static long long
nonneg(struct cctx *c, const json_t *v, const char *ptr, const char *kw)
{
	double	 d;

	if (json_is_integer(v) && json_integer_value(v) >= 0)
		return json_integer_value(v);
	if (json_is_real(v) && (d = json_real_value(v)) >= 0 &&
	    d == floor(d) && d < 9e18)
		return (long long)d;
	cerr(c, ptr, RL_EINVAL, "'%s' must be a non-negative integer", kw);
	return -2;
}

static int
num_value(const json_t *v, double *d)
{

	if (json_is_integer(v))
		*d = (double)json_integer_value(v);
	else if (json_is_real(v))
		*d = json_real_value(v);
	else
		return -1;
	return 0;
}

/* Python repr of a float: shortest round-trip digits, repr's layout. */
static void
pyfloat(char *buf, size_t sz, double d)
{
	char	 tmp[40], dig[24];
	int	 p, exp, nd, i, o;
	char	*e;

	if (isnan(d)) {
		(void)snprintf(buf, sz, "nan");
		return;
	}
	if (isinf(d)) {
		(void)snprintf(buf, sz, d < 0 ? "-inf" : "inf");
		return;
	}
	for (p = 1; p <= 17; p++) {
		(void)snprintf(tmp, sizeof(tmp), "%.*e", p - 1, d);
		if (strtod(tmp, NULL) == d)
			break;
	}
	e = strchr(tmp, 'e');
	exp = (int)strtol(e + 1, NULL, 10);
	for (nd = 0, i = tmp[0] == '-'; tmp + i < e; i++)
		if (tmp[i] != '.')
			dig[nd++] = tmp[i];
	while (nd > 1 && dig[nd - 1] == '0')
		nd--;
	dig[nd] = '\0';
	o = 0;
	if (d < 0 && o + 1 < (int)sz)
		buf[o++] = '-';
	if (exp >= -4 && exp < 16) {
		if (exp < 0) {
			o += snprintf(buf + o, sz - (size_t)o, "0.");
			for (i = 0; i < -exp - 1; i++)
				o += snprintf(buf + o, sz - (size_t)o, "0");
			(void)snprintf(buf + o, sz - (size_t)o, "%s", dig);
			return;
		}
		for (i = 0; i <= exp; i++)
			o += snprintf(buf + o, sz - (size_t)o, "%c",
			    i < nd ? dig[i] : '0');
		if (nd > exp + 1)
			(void)snprintf(buf + o, sz - (size_t)o, ".%s",
			    dig + exp + 1);
		else
			(void)snprintf(buf + o, sz - (size_t)o, ".0");
		return;
	}
	o += snprintf(buf + o, sz - (size_t)o, "%c", dig[0]);
	if (nd > 1)
		o += snprintf(buf + o, sz - (size_t)o, ".%s", dig + 1);
	(void)snprintf(buf + o, sz - (size_t)o, "e%c%02d",
	    exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
}

/* A schema number as Python prints it in a message. */
static void
pynum(char *buf, size_t sz, const json_t *v)
{

	if (json_is_integer(v))
		(void)snprintf(buf, sz, "%lld",
		    (long long)json_integer_value(v));
	else
		pyfloat(buf, sz, json_real_value(v));
}

/*
 * The expected text of a literal or enum error: the enum's values as
 * Python prints them.  EDxo's largest is a few hundred bytes; the bound
 * only stops a runaway schema.
 */
#define EXPECTED_MAX	(1024 * 1024)

static void
sb_add(struct rl_buf *b, const char *s, size_t n)
{

	(void)rl_buf_add(b, s, n);
}

static void
sb_str(struct rl_buf *b, const char *s)
{

	(void)rl_buf_addstr(b, s);
}

/* Python repr() of a JSON scalar (Literal values are scalars). */
static void
pyrepr(struct rl_buf *b, const json_t *v)
{
	const char	*s, *p;
	char		 q, buf[48];

	switch (json_typeof(v)) {
	case JSON_STRING:
		s = json_string_value(v);
		q = strchr(s, '\'') != NULL && strchr(s, '"') == NULL ?
		    '"' : '\'';
		sb_add(b, &q, 1);
		for (p = s; *p != '\0'; p++) {
			if (*p == '\\' || *p == q) {
				sb_add(b, "\\", 1);
				sb_add(b, p, 1);
			} else if (*p == '\n')
				sb_str(b, "\\n");
			else if (*p == '\r')
				sb_str(b, "\\r");
			else if (*p == '\t')
				sb_str(b, "\\t");
			else if ((unsigned char)*p < 0x20 || *p == 0x7f) {
				(void)snprintf(buf, sizeof(buf), "\\x%02x",
				    (unsigned char)*p);
				sb_str(b, buf);
			} else
				sb_add(b, p, 1);
		}
		sb_add(b, &q, 1);
		break;
	case JSON_INTEGER:
	case JSON_REAL:
		pynum(buf, sizeof(buf), v);
		sb_str(b, buf);
		break;
	case JSON_TRUE:
		sb_str(b, "True");
		break;
	case JSON_FALSE:
		sb_str(b, "False");
		break;
	case JSON_NULL:
		sb_str(b, "None");
		break;
	default:
		s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		sb_str(b, s != NULL ? s : "?");
		free((void *)(uintptr_t)s);
		break;
	}
}

/* "'a', 'b' or 'c'" as pydantic's literal_error renders expected. */
static char *
render_expected(const json_t *arr)
{
	struct rl_buf	 b;
	size_t		 i, n = json_array_size(arr);

	rl_buf_init(&b, EXPECTED_MAX);
	for (i = 0; i < n; i++) {
		if (i > 0)
			sb_str(&b, i == n - 1 ? " or " : ", ");
		pyrepr(&b, json_array_get(arr, i));
	}
	return rl_buf_take(&b, NULL);
}

static struct snode *
newnode(struct cctx *c, const json_t *js, const char *ptr)
{
	struct snode	*n, **nodes;
	struct cache	*cache;

	if ((n = calloc(1, sizeof(*n))) == NULL ||
	    (n->ptr = strdup(ptr)) == NULL) {
		free(n);
		return cerr(c, ptr, RL_ENOMEM, "%s", "out of memory");
	}
	n->minprops = n->maxprops = n->minitems = n->maxitems = -1;
	n->minlen = n->maxlen = -1;
	if ((nodes = realloc(c->s->nodes, (c->s->nnodes + 1) *
	    sizeof(*nodes))) == NULL ||
	    (cache = realloc(c->cache, (c->ncache + 1) *
	    sizeof(*cache))) == NULL) {
		if (nodes != NULL)
			c->s->nodes = nodes;
		free(n->ptr);
		free(n);
		return cerr(c, ptr, RL_ENOMEM, "%s", "out of memory");
	}
	c->s->nodes = nodes;
	nodes[c->s->nnodes++] = n;
	c->cache = cache;
	cache[c->ncache].js = js;
	cache[c->ncache].node = n;
	c->ncache++;
	return n;
}

static unsigned
type_bit(const char *t)
{

	if (strcmp(t, "null") == 0)
		return T_NULL;
	if (strcmp(t, "boolean") == 0)
		return T_BOOL;
	if (strcmp(t, "integer") == 0)
		return T_INT;
	if (strcmp(t, "number") == 0)
		return T_NUM;
	if (strcmp(t, "string") == 0)
		return T_STR;
	if (strcmp(t, "array") == 0)
		return T_ARR;
	if (strcmp(t, "object") == 0)
		return T_OBJ;
	return 0;
}

static int
c_type(struct cctx *c, struct snode *n, const json_t *v, const char *ptr)
{
	size_t	 i;
	unsigned b;

	if (json_is_string(v)) {
		if ((n->types = type_bit(json_string_value(v))) == 0)
			goto bad;
		return 0;
	}
	if (!json_is_array(v) || json_array_size(v) == 0)
		goto bad;
	for (i = 0; i < json_array_size(v); i++) {
		if (!json_is_string(json_array_get(v, i)) ||
		    (b = type_bit(json_string_value(json_array_get(v,
		    i)))) == 0)
			goto bad;
		n->types |= b;
	}
	return 0;
bad:
	cerr(c, ptr, RL_EINVAL, "%s", "'type' must be a JSON type name or "
	    "a list of them");
	return -1;
}

static int
c_list(struct cctx *c, const json_t *v, const char *ptr, const char *kw,
    struct snode ***out, size_t *nout, int depth)
{
	size_t	 i;
	char	*p, *q;

	if (!json_is_array(v) || json_array_size(v) == 0) {
		cerr(c, ptr, RL_EINVAL, "'%s' must be a non-empty array", kw);
		return -1;
	}
	if ((*out = calloc(json_array_size(v), sizeof(**out))) == NULL) {
		cerr(c, ptr, RL_ENOMEM, "%s", "out of memory");
		return -1;
	}
	*nout = json_array_size(v);
	if ((p = ptr_join(ptr, kw)) == NULL) {
		cerr(c, ptr, RL_ENOMEM, "%s", "out of memory");
		return -1;
	}
	for (i = 0; i < *nout; i++) {
		if ((q = ptr_index(p, i)) == NULL) {
			free(p);
			cerr(c, ptr, RL_ENOMEM, "%s", "out of memory");
			return -1;
		}
		(*out)[i] = compile(c, json_array_get(v, i), q, depth + 1);
		free(q);
		if ((*out)[i] == NULL) {
			free(p);
			return -1;
		}
	}
	free(p);
	return 0;
}

static struct snode *
c_sub(struct cctx *c, const json_t *v, const char *ptr, const char *kw,
    int depth)
{
	struct snode	*n;
	char		*p;

	if ((p = ptr_join(ptr, kw)) == NULL)
		return cerr(c, ptr, RL_ENOMEM, "%s", "out of memory");
	n = compile(c, v, p, depth + 1);
	free(p);
	return n;
}

static int
c_props(struct cctx *c, struct snode *n, const json_t *v, const char *ptr,
    int depth)
{
	const char	*k;
	json_t		*sub;
	size_t		 i = 0, klen;
	char		*p, *q;

	if (!json_is_object(v)) {
		cerr(c, ptr, RL_EINVAL, "%s", "'properties' must be an "
		    "object");
		return -1;
	}
	n->nprops = json_object_size(v);
	if ((n->props = calloc(n->nprops + 1, sizeof(*n->props))) == NULL ||
	    (p = ptr_join(ptr, "properties")) == NULL) {
		cerr(c, ptr, RL_ENOMEM, "%s", "out of memory");
		return -1;
	}
	json_object_keylen_foreach((json_t *)(uintptr_t)v, k, klen, sub) {
		n->props[i].len = klen;
		if ((n->props[i].name = malloc(klen + 1)) == NULL ||
		    (q = ptr_join(p, k)) == NULL) {
			free(p);
			cerr(c, ptr, RL_ENOMEM, "%s", "out of memory");
			return -1;
		}
		memcpy(n->props[i].name, k, klen + 1);
		n->props[i].node = compile(c, sub, q, depth + 1);
		free(q);
		if (n->props[i].node == NULL) {
			free(p);
			return -1;
		}
		i++;
	}
	free(p);
	return 0;
}

static int
c_required(struct cctx *c, struct snode *n, const json_t *v,
    const char *ptr)
{
	size_t		 i, j;
	const char	*name;

	if (!json_is_array(v)) {
		cerr(c, ptr, RL_EINVAL, "%s", "'required' must be an array");
		return -1;
	}
	if ((n->req = calloc(json_array_size(v) + 1, sizeof(char *))) ==
	    NULL) {
		cerr(c, ptr, RL_ENOMEM, "%s", "out of memory");
		return -1;
	}
	for (i = 0; i < json_array_size(v); i++) {
		if (!json_is_string(json_array_get(v, i))) {
			cerr(c, ptr, RL_EINVAL, "%s", "'required' must list "
			    "strings");
			return -1;
		}
		name = json_string_value(json_array_get(v, i));
		for (j = 0; j < n->nprops; j++)
			if (strcmp(n->props[j].name, name) == 0)
				break;
		if (j < n->nprops) {
			n->props[j].required = 1;
			continue;
		}
		if ((n->req[n->nreq++] = strdup(name)) == NULL) {
			cerr(c, ptr, RL_ENOMEM, "%s", "out of memory");
			return -1;
		}
	}
	return 0;
}

/* {"type": "null"} with annotations only. */
static int
is_null_schema(const json_t *js)
{
	const char	*k;
	json_t		*v;

	if (!json_is_object(js))
		return 0;
	json_object_foreach((json_t *)(uintptr_t)js, k, v) {
		if (strcmp(k, "type") == 0) {
			if (!json_is_string(v) ||
			    strcmp(json_string_value(v), "null") != 0)
				return 0;
		} else if (!is_annotation(k) && strcmp(k, "default") != 0)
			return 0;
	}
	return json_object_get(js, "type") != NULL;
}

static int
c_number(struct cctx *c, const json_t *v, const char *ptr, const char *kw,
    json_t **out)
{
	double	 d;

	if (num_value(v, &d) == -1) {
		cerr(c, ptr, RL_EINVAL, "'%s' must be a number", kw);
		return -1;
	}
	if (strcmp(kw, "multipleOf") == 0 && d <= 0) {
		cerr(c, ptr, RL_EINVAL, "%s", "'multipleOf' must be greater "
		    "than 0");
		return -1;
	}
	*out = json_deep_copy(v);
	return 0;
}

static int
c_keyword(struct cctx *c, struct snode *n, const json_t *js, const char *k,
    json_t *v, const char *ptr, int depth)
{
	char	 err[128], *kp;

	if (strcmp(k, "type") == 0)
		return c_type(c, n, v, ptr);
	if (strcmp(k, "properties") == 0)
		return 0;	/* done first, see compile() */
	if (strcmp(k, "required") == 0)
		return 0;
	if (strcmp(k, "additionalProperties") == 0) {
		if (json_is_false(v))
			n->addl = ADDL_NONE;
		else if (json_is_true(v))
			n->addl = ADDL_ANY;
		else {
			n->addl = ADDL_SCHEMA;
			if ((n->addl_node = c_sub(c, v, ptr, k, depth)) ==
			    NULL)
				return -1;
		}
		return 0;
	}
	if (strcmp(k, "enum") == 0 || strcmp(k, "const") == 0) {
		if (n->enumv != NULL) {
			cerr(c, ptr, RL_EINVAL, "%s", "'enum' and 'const' "
			    "together are not supported");
			return -1;
		}
		if (strcmp(k, "enum") == 0 && !json_is_array(v)) {
			cerr(c, ptr, RL_EINVAL, "%s", "'enum' must be an "
			    "array");
			return -1;
		}
		if (strcmp(k, "enum") == 0)
			n->enumv = json_deep_copy(v);
		else if ((n->enumv = json_array()) != NULL)
			json_array_append_new(n->enumv, json_deep_copy(v));
		if (n->enumv == NULL ||
		    (n->expected = render_expected(n->enumv)) == NULL) {
			cerr(c, ptr, RL_ENOMEM, "%s", "out of memory");
			return -1;
		}
		/* An Enum class: Pydantic puts it in $defs with a title. */
		n->named_enum = strcmp(k, "enum") == 0 &&
		    json_object_get(js, "title") != NULL &&
		    strstr(ptr, "/$defs/") != NULL;
		return 0;
	}
	if (strcmp(k, "anyOf") == 0)
		return c_list(c, v, ptr, k, &n->anyof, &n->nanyof, depth);
	if (strcmp(k, "oneOf") == 0)
		return c_list(c, v, ptr, k, &n->oneof, &n->noneof, depth);
	if (strcmp(k, "allOf") == 0)
		return c_list(c, v, ptr, k, &n->allof, &n->nallof, depth);
	if (strcmp(k, "not") == 0)
		return (n->not = c_sub(c, v, ptr, k, depth)) == NULL ? -1 : 0;
	if (strcmp(k, "$ref") == 0) {
		if (!json_is_string(v) || json_string_value(v)[0] != '#') {
			cerr(c, ptr, RL_EINVAL, "%s", "only local '$ref' "
			    "(\"#...\") is supported");
			return -1;
		}
		if ((n->refstr = strdup(json_string_value(v))) == NULL) {
			cerr(c, ptr, RL_ENOMEM, "%s", "out of memory");
			return -1;
		}
		return 0;
	}
	if (strcmp(k, "$defs") == 0 || strcmp(k, "definitions") == 0) {
		const char	*dk;
		json_t		*dv;
		char		*p, *q;

		if (!json_is_object(v)) {
			cerr(c, ptr, RL_EINVAL, "'%s' must be an object", k);
			return -1;
		}
		if ((p = ptr_join(ptr, k)) == NULL) {
			cerr(c, ptr, RL_ENOMEM, "%s", "out of memory");
			return -1;
		}
		json_object_foreach(v, dk, dv) {
			if ((q = ptr_join(p, dk)) == NULL) {
				free(p);
				cerr(c, ptr, RL_ENOMEM, "%s", "out of memory");
				return -1;
			}
			if (compile(c, dv, q, depth + 1) == NULL) {
				free(q);
				free(p);
				return -1;
			}
			free(q);
		}
		free(p);
		return 0;
	}
	if (strcmp(k, "items") == 0)
		return (n->items = c_sub(c, v, ptr, k, depth)) == NULL ?
		    -1 : 0;
	if (strcmp(k, "prefixItems") == 0)
		return c_list(c, v, ptr, k, &n->prefix, &n->nprefix, depth);
	if (strcmp(k, "minItems") == 0)
		return (n->minitems = nonneg(c, v, ptr, k)) == -2 ? -1 : 0;
	if (strcmp(k, "maxItems") == 0)
		return (n->maxitems = nonneg(c, v, ptr, k)) == -2 ? -1 : 0;
	if (strcmp(k, "minLength") == 0)
		return (n->minlen = nonneg(c, v, ptr, k)) == -2 ? -1 : 0;
	if (strcmp(k, "maxLength") == 0)
		return (n->maxlen = nonneg(c, v, ptr, k)) == -2 ? -1 : 0;
	if (strcmp(k, "minProperties") == 0)
		return (n->minprops = nonneg(c, v, ptr, k)) == -2 ? -1 : 0;
	if (strcmp(k, "maxProperties") == 0)
		return (n->maxprops = nonneg(c, v, ptr, k)) == -2 ? -1 : 0;
	if (strcmp(k, "uniqueItems") == 0) {
		if (!json_is_boolean(v)) {
			cerr(c, ptr, RL_EINVAL, "%s", "'uniqueItems' must be "
			    "a boolean");
			return -1;
		}
		n->unique = json_is_true(v);
		return 0;
	}
	if (strcmp(k, "pattern") == 0) {
		if (!json_is_string(v)) {
			cerr(c, ptr, RL_EINVAL, "%s", "'pattern' must be a "
			    "string");
			return -1;
		}
		if ((n->pattern = strdup(json_string_value(v))) == NULL) {
			cerr(c, ptr, RL_ENOMEM, "%s", "out of memory");
			return -1;
		}
		if ((n->re = rl_schema_re_compile(n->pattern, err,
		    sizeof(err))) == NULL) {
			cerr(c, ptr, RL_EINVAL, "'pattern': %s", err);
			return -1;
		}
		return 0;
	}
	if (strcmp(k, "format") == 0) {
		if (!json_is_string(v)) {
			cerr(c, ptr, RL_EINVAL, "%s", "'format' must be a "
			    "string");
			return -1;
		}
		/* Unknown formats are annotations (draft 2020-12). */
		n->format = rl_schema_format_id(json_string_value(v));
		return 0;
	}
	if (strcmp(k, "multipleOf") == 0)
		return c_number(c, v, ptr, k, &n->mult);
	if (strcmp(k, "maximum") == 0)
		return c_number(c, v, ptr, k, &n->max);
	if (strcmp(k, "exclusiveMaximum") == 0)
		return c_number(c, v, ptr, k, &n->xmax);
	if (strcmp(k, "minimum") == 0)
		return c_number(c, v, ptr, k, &n->min);
	if (strcmp(k, "exclusiveMinimum") == 0)
		return c_number(c, v, ptr, k, &n->xmin);
	if (strcmp(k, "default") == 0) {
		n->has_def = 1;
		n->def = json_deep_copy(v);
		return 0;
	}
	if (strcmp(k, "title") == 0) {
		if (json_is_string(v) &&
		    (n->title = strdup(json_string_value(v))) == NULL) {
			cerr(c, ptr, RL_ENOMEM, "%s", "out of memory");
			return -1;
		}
		return 0;
	}
	if (strcmp(k, "$id") == 0 && depth == 0)
		return 0;	/* the base URI; only local refs anyway */
	if (strcmp(k, "$schema") == 0 && (!json_is_string(v) ||
	    strncmp(json_string_value(v),
	    "https://json-schema.org/draft/2020-12/schema", 44) != 0)) {
		cerr(c, ptr, RL_EINVAL, "%s", "'$schema' other than draft "
		    "2020-12 is not supported");
		return -1;
	}
	if (is_annotation(k))
		return 0;
	if ((kp = ptr_join(ptr, k)) == NULL)
		cerr(c, ptr, RL_ENOMEM, "%s", "out of memory");
	else
		cerr(c, kp, RL_EINVAL, "unsupported keyword '%s'", k);
	free(kp);
	return -1;
}

static struct snode *
compile(struct cctx *c, const json_t *js, const char *ptr, int depth)
{
	struct snode	*n;
	const char	*k;
	json_t		*v;
	size_t		 i;

	for (i = 0; i < c->ncache; i++)
		if (c->cache[i].js == js)
			return c->cache[i].node;
	if (depth > C_MAX_DEPTH)
		return cerr(c, ptr, RL_EINVAL, "%s", "schema nested too "
		    "deep");
	if (json_is_boolean(js)) {
		if ((n = newnode(c, js, ptr)) == NULL)
			return NULL;
		n->boolean = json_is_true(js) ? 1 : -1;
		return n;
	}
	if (!json_is_object(js))
		return cerr(c, ptr, RL_EINVAL, "%s", "a schema must be an "
		    "object or a boolean");
	if ((n = newnode(c, js, ptr)) == NULL)
		return NULL;
	/* properties before required, which marks them. */
	if ((v = json_object_get(js, "properties")) != NULL &&
	    c_props(c, n, v, ptr, depth) == -1)
		return NULL;
	if ((v = json_object_get(js, "required")) != NULL &&
	    c_required(c, n, v, ptr) == -1)
		return NULL;
	n->pure_ref = json_object_get(js, "$ref") != NULL;
	json_object_foreach((json_t *)(uintptr_t)js, k, v) {
		if (c_keyword(c, n, js, k, v, ptr, depth) == -1)
			return NULL;
		if (strcmp(k, "$ref") != 0 && strcmp(k, "default") != 0 &&
		    strcmp(k, "$defs") != 0 && strcmp(k, "definitions") != 0 &&
		    !is_annotation(k))
			n->pure_ref = 0;
	}
	n->ptype = n->types & ~(unsigned)T_NULL;
	n->nullable = (n->types & T_NULL) != 0;
	if (n->nanyof == 2 && json_object_size(js) > 0) {
		const json_t *a = json_object_get(js, "anyOf");

		for (i = 0; i < 2; i++)
			if (is_null_schema(json_array_get(a, i)) &&
			    !is_null_schema(json_array_get(a, 1 - i)))
				n->nullinner = n->anyof[1 - i];
		n->nullonly = 1;
		json_object_foreach((json_t *)(uintptr_t)js, k, v)
			if (strcmp(k, "anyOf") != 0 &&
			    strcmp(k, "default") != 0 && !is_annotation(k))
				n->nullonly = 0;
	}
	return n;
}

/* Resolves "#", "#/a/b" (percent and ~ escapes) in the document. */
static const json_t *
resolve(const json_t *doc, const char *ref, char **ptrout)
{
	const json_t	*cur = doc;
	char		 tok[512];
	const char	*p = ref + 1;
	size_t		 o;
	int		 h1, h2;
	char		*ptr, *np;

	if ((ptr = strdup("")) == NULL)
		return NULL;
	if (*p != '\0' && *p != '/') {
		free(ptr);
		return NULL;	/* "#anchor": not supported */
	}
	while (*p == '/') {
		p++;
		o = 0;
		while (*p != '\0' && *p != '/' && o < sizeof(tok) - 1) {
			if (*p == '~' && (p[1] == '0' || p[1] == '1')) {
				tok[o++] = p[1] == '0' ? '~' : '/';
				p += 2;
			} else if (*p == '%' && p[1] != '\0' &&
			    p[2] != '\0' &&
			    (h1 = (int)strtol((char[]){ p[1], 0 }, NULL,
			    16)) >= 0 &&
			    (h2 = (int)strtol((char[]){ p[2], 0 }, NULL,
			    16)) >= 0) {
				tok[o++] = (char)(h1 * 16 + h2);
				p += 3;
			} else
				tok[o++] = *p++;
		}
		tok[o] = '\0';
		if (json_is_object(cur))
			cur = json_object_get(cur, tok);
		else if (json_is_array(cur)) {
			char	*end;
			long	 i = strtol(tok, &end, 10);

			if (*end != '\0' || end == tok || i < 0)
				cur = NULL;
			else
				cur = json_array_get(cur, (size_t)i);
		} else
			cur = NULL;
		if (cur == NULL) {
			free(ptr);
			return NULL;
		}
		np = ptr_join(ptr, tok);
		free(ptr);
		if ((ptr = np) == NULL)
			return NULL;
	}
	*ptrout = ptr;
	return cur;
}

/*
 * A property name's hash: its length and its first and last four bytes,
 * which tell apart the names of real schemas (shared prefixes, numbered
 * suffixes) without reading them whole.  Collisions only cost probes.
 */
static uint32_t
key_hash(const char *k, size_t len)
{
	uint32_t	 a = 0, b = 0, h;
	size_t		 i;

	if (len >= 4) {
		memcpy(&a, k, 4);
		memcpy(&b, k + len - 4, 4);
	} else
		for (i = 0; i < len; i++)
			a = a << 8 | (unsigned char)k[i];
	h = a * 0x9e3779b1u ^ b * 0x85ebca6bu ^ (uint32_t)len * 0xc2b2ae35u;
	h ^= h >> 15;
	h *= 0x2c1b3c6du;
	return h ^ h >> 12;
}

/* Open addressing, at most half full, so a miss ends quickly. */
static int
build_ptab(struct snode *n)
{
	size_t		 sz = 8, i;
	uint32_t	 j;

	if (n->nprops == 0)
		return 0;
	while (sz < 2 * n->nprops)
		sz *= 2;
	if (sz > UINT32_MAX || (n->ptab = calloc(sz, sizeof(*n->ptab))) ==
	    NULL)
		return -1;
	n->pmask = (uint32_t)(sz - 1);
	for (i = 0; i < n->nprops; i++) {
		j = key_hash(n->props[i].name, n->props[i].len) & n->pmask;
		while (n->ptab[j] != 0)
			j = (j + 1) & n->pmask;
		n->ptab[j] = (uint32_t)i + 1;
	}
	return 0;
}

/*
 * Two keys of len bytes are equal: in words, the last one overlapping,
 * with one test for names of 4 to 16 bytes, as memcmp() is a call and
 * most names are 5 to 40 bytes.
 */
static inline int
key_eq(const char *a, const char *b, size_t len)
{
	uint64_t	 x, y, u, w;
	uint32_t	 p, q, r, t;
	size_t		 i;

	if (len >= 8) {
		for (i = 0; i + 16 < len; i += 8) {
			memcpy(&x, a + i, 8);
			memcpy(&y, b + i, 8);
			if (x != y)
				return 0;
		}
		memcpy(&x, a + i, 8);
		memcpy(&y, b + i, 8);
		memcpy(&u, a + len - 8, 8);
		memcpy(&w, b + len - 8, 8);
		return ((x ^ y) | (u ^ w)) == 0;
	}
	if (len >= 4) {
		memcpy(&p, a, 4);
		memcpy(&q, b, 4);
		memcpy(&r, a + len - 4, 4);
		memcpy(&t, b + len - 4, 4);
		return ((p ^ q) | (r ^ t)) == 0;
	}
	for (i = 0; i < len; i++)
		if (a[i] != b[i])
			return 0;
	return 1;
}

/*
 * The property named k (len bytes), or NULL.  *hint, when given, is the
 * index expected next: models usually arrive in schema order (OpenAI's
 * structured outputs always do), so one key_eq() finds most keys.
 */
static const struct sprop *
prop_find(const struct snode *n, const char *k, size_t len, size_t *hint)
{
	const struct sprop	*p;
	uint32_t		 j;

	if (n->nprops == 0)
		return NULL;
	if (hint != NULL && *hint < n->nprops) {
		p = &n->props[*hint];
		if (p->len == len && key_eq(p->name, k, len)) {
			(*hint)++;
			return p;
		}
	}
	for (j = key_hash(k, len) & n->pmask; n->ptab[j] != 0;
	    j = (j + 1) & n->pmask) {
		p = &n->props[n->ptab[j] - 1];
		if (p->len == len && key_eq(p->name, k, len)) {
			if (hint != NULL)
				*hint = n->ptab[j];
			return p;
		}
	}
	return NULL;
}

/* The jansson types v_type() takes as they are ("same") for type t. */
static unsigned
type_mask(unsigned t, unsigned flags)
{

	switch (t) {
	case T_NULL:
		return JT(JSON_NULL);
	case T_BOOL:
		return JT(JSON_TRUE) | JT(JSON_FALSE);
	case T_INT:	/* and an integral float in js: not a type test */
		return JT(JSON_INTEGER);
	case T_NUM:	/* an integer becomes a float, but in js */
		return JT(JSON_REAL) | (flags & RL_SCHEMA_JSONSCHEMA ?
		    JT(JSON_INTEGER) : 0);
	case T_STR:
		return JT(JSON_STRING);
	case T_ARR:
		return JT(JSON_ARRAY);
	case T_OBJ:
		return JT(JSON_OBJECT);
	}
	return 0;
}

/*
 * The jansson types a node accepts as they are with no check left to
 * run: one type (or none) and no keyword constraining that type.  0 for
 * nodes that need their full check.
 */
static unsigned
leaf_own(const struct snode *n, unsigned flags)
{
	int		 js = (flags & RL_SCHEMA_JSONSCHEMA) != 0;
	unsigned	 m = 0;

	if (n->boolean != 0)
		return n->boolean == 1 ? JT_ALL : 0;
	if (n->pure_ref || n->nullinner != NULL || n->enumv != NULL ||
	    n->comb || n->ntl > 1)
		return 0;
	if (n->types == 0)
		m = JT_ALL;
	else if (n->ntl == 1)
		m = n->tmask;
	if (n->nullable || n->types == 0)
		m |= JT(JSON_NULL);
	if (n->minlen >= 0 || n->maxlen >= 0 || n->re != NULL ||
	    (n->format != 0 && (!js || (flags & RL_SCHEMA_FORMATS))))
		m &= ~JT(JSON_STRING);
	if (n->mult != NULL || n->max != NULL || n->xmax != NULL ||
	    n->min != NULL || n->xmin != NULL)
		m &= ~(JT(JSON_INTEGER) | JT(JSON_REAL));
	if (n->items != NULL || n->nprefix > 0 || n->minitems >= 0 ||
	    n->maxitems >= 0 || n->unique)
		m &= ~JT(JSON_ARRAY);
	if (n->nprops > 0 || n->nreq > 0 || n->addl != ADDL_ANY ||
	    n->minprops >= 0 || n->maxprops >= 0)
		m &= ~JT(JSON_OBJECT);
	return m;
}

/* leaf_own() through $ref and nullable wrappers, as v_node() goes. */
static void
leaf_info(const struct snode *n, unsigned flags, int d, unsigned *mask,
    int *levels)
{

	*mask = 0;
	*levels = 1;
	if (n->boolean == 0 && n->pure_ref && n->ref != NULL) {
		if (d < LEAF_MAX_WRAP)
			leaf_info(n->ref, flags, d + 1, mask, levels);
		(*levels)++;
	} else if (n->boolean == 0 && n->nullinner != NULL && n->nullonly) {
		if (d < LEAF_MAX_WRAP)
			leaf_info(n->nullinner, flags, d + 1, mask, levels);
		*mask |= JT(JSON_NULL);
		(*levels)++;
	} else
		*mask = leaf_own(n, flags);
}

/* What the fast path reads, once every $ref is resolved. */
static int
finish(struct rl_schema *s)
{
	struct snode	*n;
	size_t		 i;
	unsigned	 t;

	for (i = 0; i < s->nnodes; i++) {
		n = s->nodes[i];
		/* JSON Schema: every integer is also a number. */
		for (n->ntl = 0, t = 1; t <= T_OBJ; t <<= 1)
			if ((n->ptype & t) && !(t == T_INT &&
			    (n->ptype & T_NUM) &&
			    (s->flags & RL_SCHEMA_JSONSCHEMA)))
				n->tl[n->ntl++] = t;
		n->tmask = n->ntl == 1 ? type_mask(n->tl[0], s->flags) : 0;
		n->comb = n->ref != NULL || n->nallof > 0 || n->nanyof > 0 ||
		    n->noneof > 0 || n->not != NULL;
		if (build_ptab(n) == -1)
			return -1;
	}
	for (i = 0; i < s->nnodes; i++) {
		n = s->nodes[i];
		n->fillers = n->nreq > 0;
		for (t = 0; t < n->nprops; t++)
			if (n->props[t].required ||
			    (n->props[t].node->has_def &&
			    !(s->flags & RL_SCHEMA_JSONSCHEMA)))
				n->fillers = 1;
		leaf_info(n, s->flags, 0, &n->leafmask, &n->leafd);
	}
	return 0;
}

struct rl_schema *
rl_schema_compile(const json_t *schema, unsigned flags, struct rl_error *e)
{
	struct rl_schema	*s;
	struct cctx		 c;
	const json_t		*t;
	char			*tptr;
	size_t			 i;

	if (e != NULL)
		rl_error_clear(e);
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		rl_error_set(e, RL_ENOMEM, "out of memory");
		return NULL;
	}
	s->flags = flags;
	memset(&c, 0, sizeof(c));
	c.s = s;
	c.e = e;
	c.flags = flags;
	if ((s->doc = json_deep_copy(schema)) == NULL) {
		rl_error_set(e, RL_ENOMEM, "out of memory");
		goto fail;
	}
	if ((s->root = compile(&c, s->doc, "", 0)) == NULL)
		goto fail;
	/* $ref targets; compiling one may add nodes with refs. */
	for (i = 0; i < s->nnodes; i++) {
		if (s->nodes[i]->refstr == NULL)
			continue;
		if ((t = resolve(s->doc, s->nodes[i]->refstr, &tptr)) ==
		    NULL) {
			cerr(&c, s->nodes[i]->ptr, RL_EINVAL,
			    "unresolvable '$ref' %s", s->nodes[i]->refstr);
			goto fail;
		}
		s->nodes[i]->ref = compile(&c, t, tptr, 1);
		free(tptr);
		if (s->nodes[i]->ref == NULL)
			goto fail;
	}
	if (finish(s) == -1) {
		rl_error_set(e, RL_ENOMEM, "out of memory");
		goto fail;
	}
	free(c.cache);
	return s;
fail:
	free(c.cache);
	rl_schema_free(s);
	return NULL;
}

struct rl_schema *
rl_schema_load(const char *path, unsigned flags, struct rl_error *e)
{
	json_t			*js;
	json_error_t		 je;
	struct rl_schema	*s;

	if ((js = json_load_file(path, JSON_REJECT_DUPLICATES, &je)) ==
	    NULL) {
		rl_error_set(e, errno == ENOENT && je.line == -1 ? RL_EIO :
		    RL_EJSON, "%s:%d: %s", path, je.line, je.text);
		return NULL;
	}
	s = rl_schema_compile(js, flags, e);
	json_decref(js);
	return s;
}

static void
node_free(struct snode *n)
{
	size_t	 i;

	for (i = 0; i < n->nprops; i++)
		free(n->props[i].name);
	free(n->props);
	free(n->ptab);
	for (i = 0; i < n->nreq; i++)
		free(n->req[i]);
	free(n->req);
	free(n->prefix);
	rl_schema_re_free(n->re);
	free(n->pattern);
	json_decref(n->mult);
	json_decref(n->max);
	json_decref(n->xmax);
	json_decref(n->min);
	json_decref(n->xmin);
	json_decref(n->enumv);
	free(n->expected);
	free(n->anyof);
	free(n->oneof);
	free(n->allof);
	free(n->refstr);
	json_decref(n->def);
	free(n->title);
	free(n->ptr);
	free(n);
}

void
rl_schema_free(struct rl_schema *s)
{
	size_t	 i;

	if (s == NULL)
		return;
	for (i = 0; i < s->nnodes; i++)
		node_free(s->nodes[i]);
	free(s->nodes);
	json_decref(s->doc);
	free(s);
}

const json_t *
rl_schema_json(const struct rl_schema *s)
{

	return s->doc;
}

/* ---- validation ---------------------------------------------------- */

#define V_MAX_SEGS	(3 * RL_SCHEMA_MAX_DEPTH + 8)

struct seg {
	const char	*key;	/* NULL: index */
	size_t		 idx;
};

struct vctx {
	unsigned	 mode;	/* RL_SCHEMA_LAX, _STRICT or _JSONSCHEMA */
	unsigned	 formats;
	json_t		*errors;	/* NULL: stop at the first error */
	struct seg	 segs[V_MAX_SEGS];
	size_t		 nseg;
	int		 depth;
	enum rl_err	 fail;
};

static int	v_node(struct vctx *, const struct snode *, json_t *,
		    json_t **);

static int
push_key(struct vctx *v, const char *k)
{

	if (v->nseg >= V_MAX_SEGS) {
		v->fail = RL_EINVAL;
		return -1;
	}
	v->segs[v->nseg].key = k;
	v->segs[v->nseg++].idx = 0;
	return 0;
}

static int
push_idx(struct vctx *v, size_t i)
{

	if (v->nseg >= V_MAX_SEGS) {
		v->fail = RL_EINVAL;
		return -1;
	}
	v->segs[v->nseg].key = NULL;
	v->segs[v->nseg++].idx = i;
	return 0;
}

/*
 * Records one error (steals ctx) and returns 0, "invalid"; -1 when the
 * error list cannot grow.  Without a list it only says "invalid".
 */
static int
verr(struct vctx *v, const char *type, const char *msg, json_t *input,
    json_t *ctx)
{
	json_t	*it, *loc;
	size_t	 i;

	if (v->errors == NULL) {
		json_decref(ctx);
		return 0;
	}
	if ((loc = json_array()) == NULL)
		goto oom;
	for (i = 0; i < v->nseg; i++)
		if (json_array_append_new(loc, v->segs[i].key != NULL ?
		    json_string(v->segs[i].key) :
		    json_integer((json_int_t)v->segs[i].idx)) == -1) {
			json_decref(loc);
			goto oom;
		}
	it = json_pack("{s:s, s:o, s:s, s:O}", "type", type, "loc", loc,
	    "msg", msg, "input", input != NULL ? input : json_null());
	if (it == NULL)
		goto oom;
	if (ctx != NULL && json_object_set_new(it, "ctx", ctx) == -1) {
		json_decref(it);
		v->fail = RL_ENOMEM;
		return -1;
	}
	if (json_array_append_new(v->errors, it) == -1) {
		v->fail = RL_ENOMEM;
		return -1;
	}
	return 0;
oom:
	json_decref(ctx);
	v->fail = RL_ENOMEM;
	return -1;
}

/* JSON Schema equality: 1 == 1.0, deep for arrays and objects. */
static int
jeq(const json_t *a, const json_t *b)
{
	const char	*k;
	json_t		*va;
	size_t		 i;

	if (json_is_number(a) && json_is_number(b)) {
		if (json_is_integer(a) && json_is_integer(b))
			return json_integer_value(a) == json_integer_value(b);
		return json_number_value(a) == json_number_value(b);
	}
	if (json_typeof(a) != json_typeof(b))
		return 0;
	switch (json_typeof(a)) {
	case JSON_STRING:
		return json_string_length(a) == json_string_length(b) &&
		    memcmp(json_string_value(a), json_string_value(b),
		    json_string_length(a)) == 0;
	case JSON_ARRAY:
		if (json_array_size(a) != json_array_size(b))
			return 0;
		for (i = 0; i < json_array_size(a); i++)
			if (!jeq(json_array_get(a, i), json_array_get(b, i)))
				return 0;
		return 1;
	case JSON_OBJECT:
		if (json_object_size(a) != json_object_size(b))
			return 0;
		json_object_foreach((json_t *)(uintptr_t)a, k, va) {
			json_t *vb = json_object_get(b, k);

			if (vb == NULL || !jeq(va, vb))
				return 0;
		}
		return 1;
	default:
		return 1;	/* true, false, null */
	}
}

/* Pydantic's str_as_int: trimmed, sign, digits with _ , ".0*" tail. */
static int
str_as_int(const char *s, long long *out)
{
	const char	*p = s, *end;
	long long	 v = 0;
	int		 neg = 0, nd = 0, prevdig = 0;

	while (*p == ' ' || (*p >= '\t' && *p <= '\r'))
		p++;
	end = p + strlen(p);
	while (end > p && (end[-1] == ' ' || (end[-1] >= '\t' &&
	    end[-1] <= '\r')))
		end--;
	if (p < end && (*p == '+' || *p == '-'))
		neg = *p++ == '-';
	for (; p < end && *p != '.'; p++) {
		if (*p == '_' && prevdig && p + 1 < end && p[1] >= '0' &&
		    p[1] <= '9') {
			prevdig = 0;
			continue;
		}
		if (*p < '0' || *p > '9')
			return -1;
		if (v > (INT64_MAX - 9) / 10)
			return -2;
		v = v * 10 + (*p - '0');
		nd++;
		prevdig = 1;
	}
	if (nd == 0)
		return -1;
	if (p < end) {
		for (p++; p < end; p++)
			if (*p != '0')
				return -1;
	}
	*out = neg ? -v : v;
	return 0;
}

static int
str_as_float(const char *s, double *out)
{
	const char	*p;
	char		*end;

	for (p = s; *p != '\0'; p++)
		if (strchr("0123456789+-.eE \t\n\r\f\v", *p) == NULL)
			return -1;
	errno = 0;
	*out = strtod(s, &end);
	if (end == s)
		return -1;
	while (*end == ' ' || (*end >= '\t' && *end <= '\r'))
		end++;
	if (*end != '\0' || !isfinite(*out))
		return -1;
	return 0;
}

static int
str_as_bool(const char *s, int *b)
{
	static const char *const t[] = { "1", "on", "t", "true", "y", "yes",
	    NULL };
	static const char *const f[] = { "0", "off", "f", "false", "n", "no",
	    NULL };
	size_t	 i;

	for (i = 0; t[i] != NULL; i++)
		if (strcasecmp(s, t[i]) == 0) {
			*b = 1;
			return 0;
		}
	for (i = 0; f[i] != NULL; i++)
		if (strcasecmp(s, f[i]) == 0) {
			*b = 0;
			return 0;
		}
	return -1;
}

static const char *
class_name(const struct snode *n)
{
	const char	*p;

	if (n->title != NULL)
		return n->title;
	if ((p = strrchr(n->ptr, '/')) != NULL && p[1] != '\0')
		return p + 1;
	return "Model";
}

/*
 * Checks or coerces in to the single type t.  1 valid (*cur set to a new
 * reference), 0 invalid (error recorded), -1 internal failure.
 */
static int
v_type(struct vctx *v, const struct snode *n, unsigned t, json_t *in,
    json_t **cur)
{
	int		 lax = v->mode == RL_SCHEMA_LAX;
	int		 js = v->mode == RL_SCHEMA_JSONSCHEMA;
	long long	 i;
	double		 d;
	int		 b, r;
	json_t		*ctx;

	*cur = NULL;
	switch (t) {
	case T_STR:
		if (json_is_string(in))
			goto same;
		return verr(v, "string_type", "Input should be a valid string",
		    in, NULL);
	case T_NULL:
		if (json_is_null(in))
			goto same;
		return verr(v, "none_required", "Input should be null", in,
		    NULL);
	case T_ARR:
		if (json_is_array(in))
			goto same;
		return verr(v, "list_type", "Input should be a valid array",
		    in, NULL);
	case T_OBJ:
		if (json_is_object(in))
			goto same;
		if (n->nprops > 0) {
			ctx = json_pack("{s:s}", "class_name", class_name(n));
			return verr(v, "model_type", "Input should be an "
			    "object", in, ctx);
		}
		return verr(v, "dict_type", "Input should be an object", in,
		    NULL);
	case T_BOOL:
		if (json_is_boolean(in))
			goto same;
		if (!lax)
			break;
		if (json_is_integer(in) && (json_integer_value(in) == 0 ||
		    json_integer_value(in) == 1))
			b = json_integer_value(in) == 1;
		else if (json_is_real(in) && (json_real_value(in) == 0 ||
		    json_real_value(in) == 1))
			b = json_real_value(in) == 1;
		else if (json_is_string(in) &&
		    str_as_bool(json_string_value(in), &b) == 0)
			;
		else if (json_is_number(in) || json_is_string(in))
			return verr(v, "bool_parsing", "Input should be a "
			    "valid boolean, unable to interpret input", in,
			    NULL);
		else
			break;
		*cur = json_boolean(b);
		return 1;
	case T_INT:
		if (json_is_integer(in))
			goto same;
		if (json_is_real(in)) {
			d = json_real_value(in);
			if (js && d == floor(d))
				goto same;
			if (!lax)
				return verr(v, "int_type", "Input should be a "
				    "valid integer", in, NULL);
			if (d != floor(d))
				return verr(v, "int_from_float", "Input should "
				    "be a valid integer, got a number with a "
				    "fractional part", in, NULL);
			if (fabs(d) >= 9.2e18)
				return verr(v, "int_parsing_size", "Unable to "
				    "parse input string as an integer, "
				    "exceeded maximum size", in, NULL);
			*cur = json_integer((json_int_t)d);
			return *cur == NULL ? (v->fail = RL_ENOMEM, -1) : 1;
		}
		if (lax && json_is_boolean(in)) {
			*cur = json_integer(json_is_true(in));
			return *cur == NULL ? (v->fail = RL_ENOMEM, -1) : 1;
		}
		if (lax && json_is_string(in)) {
			r = str_as_int(json_string_value(in), &i);
			if (r == -2)
				return verr(v, "int_parsing_size", "Unable to "
				    "parse input string as an integer, "
				    "exceeded maximum size", in, NULL);
			if (r == -1)
				return verr(v, "int_parsing", "Input should be "
				    "a valid integer, unable to parse string "
				    "as an integer", in, NULL);
			*cur = json_integer(i);
			return *cur == NULL ? (v->fail = RL_ENOMEM, -1) : 1;
		}
		return verr(v, "int_type", "Input should be a valid integer",
		    in, NULL);
	case T_NUM:
		if (json_is_real(in) || (js && json_is_integer(in)))
			goto same;
		if (json_is_integer(in)) {
			*cur = json_real((double)json_integer_value(in));
			return *cur == NULL ? (v->fail = RL_ENOMEM, -1) : 1;
		}
		if (lax && json_is_boolean(in)) {
			*cur = json_real(json_is_true(in) ? 1.0 : 0.0);
			return *cur == NULL ? (v->fail = RL_ENOMEM, -1) : 1;
		}
		if (lax && json_is_string(in)) {
			if (str_as_float(json_string_value(in), &d) == -1)
				return verr(v, "float_parsing", "Input should "
				    "be a valid number, unable to parse string "
				    "as a number", in, NULL);
			*cur = json_real(d);
			return *cur == NULL ? (v->fail = RL_ENOMEM, -1) : 1;
		}
		return verr(v, "float_type", "Input should be a valid number",
		    in, NULL);
	}
	return verr(v, "bool_type", "Input should be a valid boolean", in,
	    NULL);
same:
	*cur = NULL;	/* the input itself, no new reference */
	return 1;
}

static const char *
type_pyname(unsigned t)
{

	switch (t) {
	case T_NULL: return "none";
	case T_BOOL: return "bool";
	case T_INT: return "int";
	case T_NUM: return "float";
	case T_STR: return "str";
	case T_ARR: return "list";
	case T_OBJ: return "dict";
	}
	return "any";
}

/* A union member's loc segment, as Pydantic names union choices. */
static void
member_name(const struct snode *n, char *buf, size_t sz, int depth)
{
	char	 sub[128];

	while (n->pure_ref && n->ref != NULL && depth < 16) {
		n = n->ref;
		depth++;
	}
	if (n->nullinner != NULL && depth < 8) {
		member_name(n->nullinner, sub, sizeof(sub), depth + 1);
		(void)snprintf(buf, sz, "nullable[%s]", sub);
		return;
	}
	if (n->enumv != NULL) {
		if (n->named_enum) {
			(void)snprintf(buf, sz, "%s", class_name(n));
			return;
		}
		(void)snprintf(buf, sz, "literal[%s]", n->expected);
		return;
	}
	if ((n->ptype & T_OBJ) && n->nprops > 0) {
		(void)snprintf(buf, sz, "%s", class_name(n));
		return;
	}
	if (n->ptype == T_ARR && n->items != NULL && depth < 8) {
		member_name(n->items, sub, sizeof(sub), depth + 1);
		(void)snprintf(buf, sz, "list[%s]", sub);
		return;
	}
	if (n->ptype == T_OBJ && n->addl_node != NULL && depth < 8) {
		member_name(n->addl_node, sub, sizeof(sub), depth + 1);
		(void)snprintf(buf, sz, "dict[str,%s]", sub);
		return;
	}
	(void)snprintf(buf, sz, "%s", type_pyname(n->ptype));
}

/*
 * A union (anyOf, or a "type" list): smart mode, an exact (strict) match
 * first, then a lax one; when none matches, each member's errors under
 * its name.  Returns the chosen member's value in *cur.
 */
static int
v_union(struct vctx *v, const struct snode *n, struct snode *const *mem,
    const unsigned *types, size_t nmem, json_t *in, json_t **cur)
{
	json_t		*saved = v->errors, *tmp;
	unsigned	 mode = v->mode, pass;
	char		 name[256];
	size_t		 i;
	int		 r;

	v->errors = NULL;
	for (pass = 0; pass < 2; pass++) {
		if (pass == 0 && mode == RL_SCHEMA_LAX)
			v->mode = RL_SCHEMA_STRICT;
		else if (pass == 1 && mode != RL_SCHEMA_LAX)
			break;
		else
			v->mode = mode;
		for (i = 0; i < nmem; i++) {
			tmp = NULL;
			r = mem != NULL ? v_node(v, mem[i], in, &tmp) :
			    v_type(v, n, types[i], in, &tmp);
			json_decref(tmp);
			if (r == -1)
				goto fail;
			if (r == 1) {
				v->errors = saved;
				v->mode = mode;
				tmp = NULL;
				r = mem != NULL ? v_node(v, mem[i], in, &tmp) :
				    v_type(v, n, types[i], in, &tmp);
				*cur = tmp != NULL ? tmp : json_incref(in);
				return r;
			}
		}
	}
	v->errors = saved;
	v->mode = mode;
	if (v->errors == NULL)
		return 0;
	for (i = 0; i < nmem; i++) {
		if (mem != NULL)
			member_name(mem[i], name, sizeof(name), 0);
		else
			(void)snprintf(name, sizeof(name), "%s",
			    type_pyname(types[i]));
		if (push_key(v, name) == -1)
			return -1;
		tmp = NULL;
		r = mem != NULL ? v_node(v, mem[i], in, &tmp) :
		    v_type(v, n, types[i], in, &tmp);
		json_decref(tmp);
		v->nseg--;
		if (r == -1)
			return -1;
	}
	return 0;
fail:
	v->errors = saved;
	v->mode = mode;
	return -1;
}

static int
num_cmp(const json_t *a, const json_t *b)
{
	double	 x, y;

	if (json_is_integer(a) && json_is_integer(b))
		return json_integer_value(a) < json_integer_value(b) ? -1 :
		    json_integer_value(a) > json_integer_value(b);
	x = json_number_value(a);
	y = json_number_value(b);
	return x < y ? -1 : x > y;
}

static int
is_multiple(const json_t *x, const json_t *m)
{
	double	 q;

	if (json_is_integer(x) && json_is_integer(m))
		return json_integer_value(x) % json_integer_value(m) == 0;
	q = json_number_value(x) / json_number_value(m);
	if (!isfinite(q))	/* 1e308 / 0.5: fmod is exact */
		return fmod(json_number_value(x), json_number_value(m)) == 0;
	return fabs(q - nearbyint(q)) <= 1e-9 * fmax(1.0, fabs(q) * 1e-7);
}

/* ctx number: a float field keeps floats (le 10 -> 10.0). */
static json_t *
ctx_num(const struct snode *n, const json_t *bound)
{

	if (n->ptype == T_NUM && json_is_integer(bound))
		return json_real((double)json_integer_value(bound));
	return json_deep_copy(bound);
}

static int
bound_err(struct vctx *v, const struct snode *n, const char *type,
    const char *what, const char *key, const json_t *bound, json_t *in)
{
	char	 num[48], msg[160];

	pynum(num, sizeof(num), bound);
	(void)snprintf(msg, sizeof(msg), "Input should be %s %s", what, num);
	return verr(v, type, msg, in, json_pack("{s:o}", key,
	    ctx_num(n, bound)));
}

/* The first number check x fails, in pydantic-core's order, or 0. */
enum { N_OK, N_MULT, N_LE, N_LT, N_GE, N_GT };

static int
num_fail(const struct snode *n, const json_t *x)
{

	if (n->mult != NULL && !is_multiple(x, n->mult))
		return N_MULT;
	if (n->max != NULL && num_cmp(x, n->max) > 0)
		return N_LE;
	if (n->xmax != NULL && num_cmp(x, n->xmax) >= 0)
		return N_LT;
	if (n->min != NULL && num_cmp(x, n->min) < 0)
		return N_GE;
	if (n->xmin != NULL && num_cmp(x, n->xmin) <= 0)
		return N_GT;
	return N_OK;
}

static int
v_number(struct vctx *v, const struct snode *n, json_t *x, json_t *in)
{

	switch (num_fail(n, x)) {
	case N_MULT:
		return bound_err(v, n, "multiple_of", "a multiple of",
		    "multiple_of", n->mult, in);
	case N_LE:
		return bound_err(v, n, "less_than_equal", "less than or equal "
		    "to", "le", n->max, in);
	case N_LT:
		return bound_err(v, n, "less_than", "less than", "lt",
		    n->xmax, in);
	case N_GE:
		return bound_err(v, n, "greater_than_equal", "greater than "
		    "or equal to", "ge", n->min, in);
	case N_GT:
		return bound_err(v, n, "greater_than", "greater than", "gt",
		    n->xmin, in);
	}
	return 1;
}

/*
 * Pydantic's error for each format: its type, message and ctx.error (NULL:
 * no ctx).  Email and hostname are value_error with Pydantic's wording.
 */
static const struct {
	const char	*format;
	const char	*type;
	const char	*msg;
	const char	*ctx;
} format_errs[] = {
	{ "date", "date_parsing", "Input should be a valid date in the "
	    "format YYYY-MM-DD, invalid format", "invalid format" },
	{ "date-time", "datetime_parsing", "Input should be a valid "
	    "datetime, invalid format", "invalid format" },
	{ "time", "time_parsing", "Input should be in a valid time format, "
	    "invalid format", "invalid format" },
	{ "duration", "time_delta_parsing", "Input should be a valid "
	    "timedelta, invalid format", "invalid format" },
	{ "uuid", "uuid_parsing", "Input should be a valid UUID, invalid "
	    "format", "invalid format" },
	{ "ipv4", "ip_v4_address", "Input is not a valid IPv4 address",
	    NULL },
	{ "ipv6", "ip_v6_address", "Input is not a valid IPv6 address",
	    NULL },
	{ "email", "value_error", "Value error, value is not a valid email "
	    "address", "value is not a valid email address" },
	{ "hostname", "value_error", "Value error, value is not a valid "
	    "hostname", "value is not a valid hostname" },
};

static int
format_err(struct vctx *v, int f, json_t *in)
{
	const char	*name = rl_schema_format_name(f);
	size_t		 i;

	for (i = 0; i < sizeof(format_errs) / sizeof(format_errs[0]) - 1; i++)
		if (strcmp(name, format_errs[i].format) == 0)
			break;
	/* Only the nine formats reach here; hostname is the last row. */
	return verr(v, format_errs[i].type, format_errs[i].msg, in,
	    format_errs[i].ctx == NULL ? NULL :
	    json_pack("{s:s}", "error", format_errs[i].ctx));
}

/* The first string check x fails, in pydantic-core's order, or 0. */
enum { S_OK, S_SHORT, S_LONG, S_PATTERN, S_FORMAT };

static int
str_fail(const struct snode *n, const json_t *x, unsigned mode,
    unsigned formats)
{
	const char	*s;
	size_t		 b, lo, hi;

	if (n->minlen < 0 && n->maxlen < 0 && n->re == NULL && n->format == 0)
		return S_OK;
	s = json_string_value(x);
	b = json_string_length(x);
	if (n->minlen >= 0 || n->maxlen >= 0) {
		/*
		 * b bytes of UTF-8 hold between b/4 (rounded up) and b code
		 * points: count them only when the bounds do not settle it.
		 */
		lo = (b + 3) / 4;
		hi = b;
		if ((n->minlen >= 0 && lo < (size_t)n->minlen) ||
		    (n->maxlen >= 0 && hi > (size_t)n->maxlen))
			lo = hi = rl_schema_utf8_len(s, b);
		if (n->minlen >= 0 && lo < (size_t)n->minlen)
			return S_SHORT;
		if (n->maxlen >= 0 && hi > (size_t)n->maxlen)
			return S_LONG;
	}
	if (n->re != NULL && rl_schema_re_search(n->re, s, b) != 1)
		return S_PATTERN;
	if (n->format != 0 && (mode != RL_SCHEMA_JSONSCHEMA || formats) &&
	    (strlen(s) != b || !rl_schema_format_check(n->format, s)))
		return S_FORMAT;
	return S_OK;
}

static int
v_string(struct vctx *v, const struct snode *n, json_t *x, json_t *in)
{
	char		 msg[256];

	switch (str_fail(n, x, v->mode, v->formats)) {
	case S_SHORT:
		(void)snprintf(msg, sizeof(msg), "String should have "
		    "at least %lld character%s", n->minlen,
		    n->minlen == 1 ? "" : "s");
		return verr(v, "string_too_short", msg, in,
		    json_pack("{s:I}", "min_length", (json_int_t)n->minlen));
	case S_LONG:
		(void)snprintf(msg, sizeof(msg), "String should have "
		    "at most %lld character%s", n->maxlen,
		    n->maxlen == 1 ? "" : "s");
		return verr(v, "string_too_long", msg, in,
		    json_pack("{s:I}", "max_length", (json_int_t)n->maxlen));
	case S_PATTERN:
		(void)snprintf(msg, sizeof(msg), "String should match "
		    "pattern '%s'", n->pattern);
		return verr(v, "string_pattern_mismatch", msg, in,
		    json_pack("{s:s}", "pattern", n->pattern));
	case S_FORMAT:
		return format_err(v, n->format, in);
	}
	return 1;
}

static int
len_err(struct vctx *v, const char *type, const char *ftype,
    const char *least, const char *key, long long bound, size_t actual,
    json_t *in)
{
	char	 msg[200];

	(void)snprintf(msg, sizeof(msg), "%s should have %s %lld item%s "
	    "after validation, not %zu", ftype, least, bound,
	    bound == 1 ? "" : "s", actual);
	return verr(v, type, msg, in, json_pack("{s:s, s:I, s:I}",
	    "field_type", ftype, key, (json_int_t)bound, "actual_length",
	    (json_int_t)actual));
}

static int
v_array(struct vctx *v, const struct snode *n, json_t *x, json_t *in,
    json_t **cur)
{
	const struct snode *sub;
	json_t		*item, *o, *res = NULL;
	size_t		 i, len = json_array_size(x), j;
	int		 ok = 1, r;

	for (i = 0; i < len; i++) {
		sub = i < n->nprefix ? n->prefix[i] : n->items;
		if (sub == NULL)
			break;
		item = json_array_get(x, i);
		if (push_idx(v, i) == -1)
			goto fail;
		o = NULL;
		r = v_node(v, sub, item, cur != NULL ? &o : NULL);
		v->nseg--;
		if (r == -1) {
			json_decref(o);
			goto fail;
		}
		if (r == 0) {
			ok = 0;
			json_decref(o);
			if (v->errors == NULL)
				break;
			continue;
		}
		if (o != NULL && o != item && res == NULL &&
		    (res = json_copy(x)) == NULL) {
			json_decref(o);
			v->fail = RL_ENOMEM;
			goto fail;
		}
		if (res != NULL && o != NULL)
			json_array_set(res, i, o);
		json_decref(o);
	}
	if (!ok)
		goto invalid;
	if (n->minitems >= 0 && len < (size_t)n->minitems) {
		ok = len_err(v, "too_short", "List", "at least", "min_length",
		    n->minitems, len, in);
		goto invalid;
	}
	if (n->maxitems >= 0 && len > (size_t)n->maxitems) {
		ok = len_err(v, "too_long", "List", "at most", "max_length",
		    n->maxitems, len, in);
		goto invalid;
	}
	if (n->unique)
		for (i = 0; i < len; i++)
			for (j = i + 1; j < len; j++)
				if (jeq(json_array_get(x, i),
				    json_array_get(x, j))) {
					ok = verr(v, "unique_items", "List "
					    "items should be unique", in,
					    NULL);
					goto invalid;
				}
	if (res != NULL) {
		json_decref(*cur);
		*cur = res;
	}
	return 1;
invalid:
	json_decref(res);
	return ok == -1 ? -1 : 0;
fail:
	json_decref(res);
	return -1;
}

static int
chg_set(struct vctx *v, json_t **chg, const char *k, json_t *val)
{

	if (*chg == NULL && (*chg = json_object()) == NULL) {
		json_decref(val);
		v->fail = RL_ENOMEM;
		return -1;
	}
	if (json_object_set_new(*chg, k, val) == -1) {
		v->fail = RL_ENOMEM;
		return -1;
	}
	return 0;
}

static int
v_object(struct vctx *v, const struct snode *n, json_t *x, json_t *in,
    json_t **cur)
{
	const struct sprop *p;
	const char	*k;
	json_t		*val, *o, *chg = NULL, *res, *vals[64];
	size_t		 i, present = 0, size = json_object_size(x), klen;
	int		 ok = 1, r;

	for (i = 0; i < n->nprops; i++) {
		val = json_object_getn(x, n->props[i].name,
		    n->props[i].len);
		if (i < 64)
			vals[i] = val;
		if (val != NULL)
			present++;
	}
	/* Extras first, in input order, as pydantic-core reports them. */
	if (present < size && n->addl != ADDL_ANY) {
		json_object_keylen_foreach(x, k, klen, val) {
			if (prop_find(n, k, klen, NULL) != NULL)
				continue;
			if (push_key(v, k) == -1)
				goto fail;
			o = NULL;
			if (n->addl == ADDL_NONE)
				r = verr(v, "extra_forbidden", "Extra inputs "
				    "are not permitted", val, NULL);
			else
				r = v_node(v, n->addl_node, val,
				    cur != NULL ? &o : NULL);
			v->nseg--;
			if (r == -1) {
				json_decref(o);
				goto fail;
			}
			if (r == 0) {
				ok = 0;
				json_decref(o);
				if (v->errors == NULL)
					goto invalid;
				continue;
			}
			if (o != NULL && o != val) {
				if (chg_set(v, &chg, k, o) == -1)
					goto fail;
			} else
				json_decref(o);
		}
	}
	for (i = 0; i < n->nprops; i++) {
		p = &n->props[i];
		val = i < 64 ? vals[i] : json_object_getn(x, p->name, p->len);
		if (val == NULL) {
			if (p->required) {
				if (push_key(v, p->name) == -1)
					goto fail;
				r = verr(v, "missing", "Field required", in,
				    NULL);
				v->nseg--;
				if (r == -1)
					goto fail;
				ok = 0;
				if (v->errors == NULL)
					goto invalid;
			} else if (cur != NULL && p->node->has_def &&
			    v->mode != RL_SCHEMA_JSONSCHEMA) {
				if ((o = json_deep_copy(p->node->def)) ==
				    NULL) {
					v->fail = RL_ENOMEM;
					goto fail;
				}
				if (chg_set(v, &chg, p->name, o) == -1)
					goto fail;
			}
			continue;
		}
		if (push_key(v, p->name) == -1)
			goto fail;
		o = NULL;
		r = v_node(v, p->node, val, cur != NULL ? &o : NULL);
		v->nseg--;
		if (r == -1) {
			json_decref(o);
			goto fail;
		}
		if (r == 0) {
			json_decref(o);
			ok = 0;
			if (v->errors == NULL)
				goto invalid;
			continue;
		}
		if (o != NULL && o != val) {
			if (chg_set(v, &chg, p->name, o) == -1)
				goto fail;
		} else
			json_decref(o);
	}
	for (i = 0; i < n->nreq; i++) {
		if (json_object_get(x, n->req[i]) != NULL)
			continue;
		if (push_key(v, n->req[i]) == -1)
			goto fail;
		r = verr(v, "missing", "Field required", in, NULL);
		v->nseg--;
		if (r == -1)
			goto fail;
		ok = 0;
		if (v->errors == NULL)
			goto invalid;
	}
	if (!ok)
		goto invalid;
	if (n->minprops >= 0 && size < (size_t)n->minprops) {
		ok = len_err(v, "too_short", "Dictionary", "at least",
		    "min_length", n->minprops, size, in);
		goto invalid;
	}
	if (n->maxprops >= 0 && size > (size_t)n->maxprops) {
		ok = len_err(v, "too_long", "Dictionary", "at most",
		    "max_length", n->maxprops, size, in);
		goto invalid;
	}
	if (chg != NULL && cur != NULL) {
		if ((res = json_copy(x)) == NULL ||
		    json_object_update(res, chg) == -1) {
			json_decref(res);
			v->fail = RL_ENOMEM;
			goto fail;
		}
		json_decref(*cur);
		*cur = res;
	}
	json_decref(chg);
	return 1;
invalid:
	json_decref(chg);
	return ok == -1 ? -1 : 0;
fail:
	json_decref(chg);
	return -1;
}

static int
in_enum(const struct snode *n, const json_t *x)
{
	size_t	 i;

	for (i = 0; i < json_array_size(n->enumv); i++)
		if (jeq(json_array_get(n->enumv, i), x))
			return 1;
	return 0;
}

static int
enum_err(struct vctx *v, const struct snode *n, json_t *in)
{
	struct rl_buf	 b;
	int		 r;

	rl_buf_init(&b, sizeof("Input should be ") + EXPECTED_MAX);
	sb_str(&b, "Input should be ");
	sb_str(&b, n->expected);
	if (rl_buf_err(&b) != RL_OK) {
		rl_buf_free(&b);
		v->fail = RL_ENOMEM;
		return -1;
	}
	r = verr(v, n->named_enum ? "enum" : "literal_error", rl_buf_str(&b),
	    in, json_pack("{s:s}", "expected", n->expected));
	rl_buf_free(&b);
	return r;
}

/* Replaces *cur by the value a subschema produced (combinators). */
static void
take(json_t **cur, json_t *o)
{

	if (o == NULL)
		return;
	json_decref(*cur);
	*cur = o;
}

static int
v_combinators(struct vctx *v, const struct snode *n, json_t **cur,
    json_t *in)
{
	json_t		*o, *saved;
	size_t		 i, nok;
	int		 r, ok = 1;

	/* $ref (as i = 0), then each allOf: each coerces what the next sees. */
	for (i = n->ref != NULL ? 0 : 1; i <= n->nallof; i++) {
		o = NULL;
		r = v_node(v, i == 0 ? n->ref : n->allof[i - 1], *cur, &o);
		if (r == -1) {
			json_decref(o);
			return -1;
		}
		if (r == 0) {
			json_decref(o);
			ok = 0;
			if (v->errors == NULL)
				return 0;
		} else
			take(cur, o);
	}
	if (n->nanyof > 0 && ok) {
		o = NULL;
		r = v_union(v, n, n->anyof, NULL,
		    n->nanyof, *cur, &o);
		if (r != 1) {
			json_decref(o);
			if (r == -1)
				return -1;
			ok = 0;
			if (v->errors == NULL)
				return 0;
		} else
			take(cur, o);
	}
	if (n->noneof > 0 && ok) {
		saved = v->errors;
		v->errors = NULL;
		for (i = 0, nok = 0; i < n->noneof; i++) {
			if ((r = v_node(v, n->oneof[i], *cur, NULL)) == -1) {
				v->errors = saved;
				return -1;
			}
			nok += r;
		}
		v->errors = saved;
		if (nok > 1) {
			if (verr(v, "union_multiple", "Input should match "
			    "exactly one member of the union", in, NULL) == -1)
				return -1;
			ok = 0;
		} else {
			o = NULL;
			r = v_union(v, n, n->oneof,
			    NULL, n->noneof, *cur, &o);
			if (r != 1) {
				json_decref(o);
				if (r == -1)
					return -1;
				ok = 0;
			} else
				take(cur, o);
		}
		if (!ok && v->errors == NULL)
			return 0;
	}
	if (n->not != NULL && ok) {
		saved = v->errors;
		v->errors = NULL;
		r = v_node(v, n->not, *cur, NULL);
		v->errors = saved;
		if (r == -1)
			return -1;
		if (r == 1) {
			if (verr(v, "not_allowed", "Input should not match "
			    "the schema", in, NULL) == -1)
				return -1;
			ok = 0;
		}
	}
	return ok;
}

/*
 * Validates in against n.  1 valid (*out, when out is not NULL, a new
 * reference to the coerced value), 0 invalid (errors recorded), -1
 * internal failure (v->fail).
 */
static int
v_node(struct vctx *v, const struct snode *n, json_t *in, json_t **out)
{
	json_t		*cur = NULL, *x;
	unsigned	 types[8], t;
	size_t		 nt;
	int		 r;

	if (++v->depth > RL_SCHEMA_MAX_DEPTH) {
		v->depth--;
		v->fail = RL_EINVAL;
		return -1;
	}
	if (out != NULL)
		*out = NULL;
	if (n->boolean != 0) {
		v->depth--;
		if (n->boolean == 1) {
			if (out != NULL)
				*out = json_incref(in);
			return 1;
		}
		return verr(v, "not_allowed", "No value is allowed here", in,
		    NULL);
	}
	if (n->pure_ref && n->ref != NULL) {
		r = v_node(v, n->ref, in, out);
		v->depth--;
		return r;
	}
	if (n->nullinner != NULL && n->nullonly) {
		if (json_is_null(in)) {
			v->depth--;
			if (out != NULL)
				*out = json_incref(in);
			return 1;
		}
		r = v_node(v, n->nullinner, in, out);
		v->depth--;
		return r;
	}
	if (json_is_null(in) && n->nullable && (n->enumv == NULL ||
	    in_enum(n, in))) {
		v->depth--;
		if (out != NULL)
			*out = json_incref(in);
		return 1;
	}
	if (n->enumv != NULL && !in_enum(n, in)) {
		v->depth--;
		return enum_err(v, n, in);
	}
	r = 1;
	if (n->types == T_NULL)	/* null was accepted above */
		r = v_type(v, n, T_NULL, in, &cur);
	else if (n->ptype != 0) {
		/* JSON Schema: every integer is also a number. */
		for (nt = 0, t = 1; t <= T_OBJ; t <<= 1)
			if ((n->ptype & t) && !(t == T_INT &&
			    (n->ptype & T_NUM) &&
			    v->mode == RL_SCHEMA_JSONSCHEMA))
				types[nt++] = t;
		r = nt == 1 ? v_type(v, n, types[0], in, &cur) :
		    v_union(v, n, NULL, types, nt, in, &cur);
	}
	/* cur NULL: the value is in itself. */
	x = cur != NULL ? cur : in;
	if (r == 1) {
		if (json_is_string(x))
			r = v_string(v, n, x, in);
		else if (json_is_number(x))
			r = v_number(v, n, x, in);
		else if (json_is_array(x))
			r = v_array(v, n, x, in, out != NULL ? &cur : NULL);
		else if (json_is_object(x))
			r = v_object(v, n, x, in, out != NULL ? &cur : NULL);
	}
	if (r == 1 && (n->ref != NULL || n->nallof > 0 || n->nanyof > 0 ||
	    n->noneof > 0 || n->not != NULL)) {
		if (cur == NULL)
			cur = json_incref(in);
		r = v_combinators(v, n, &cur, in);
	}
	v->depth--;
	if (r == 1 && out != NULL)
		*out = cur != NULL ? cur : json_incref(in);
	else
		json_decref(cur);
	return r;
}

/* ---- the fast path ------------------------------------------------- */

/*
 * Most values arrive valid and need no coercion and no default: for them
 * the validated value is the input itself.  f_node() decides that case
 * without building anything: F_OK means v_node() would return 1 with the
 * input unchanged, F_BAD that it would return 0, F_UNSURE anything else
 * (a coercion, a default to fill, the depth cap), and then the caller
 * runs v_node().  Each f_ function mirrors its v_ counterpart.
 *
 * v_node() stops at the first error when it keeps no list, in its own
 * order, so inside a union member it may give up before a part of the
 * value that is nested too deep (-1, not 0).  f_node() therefore never
 * stops at F_BAD, only at F_UNSURE: what it explores covers what
 * v_node() explores, and the depth cap answers F_UNSURE.
 */
enum { F_BAD, F_OK, F_UNSURE };

struct fctx {
	unsigned	 mode;
	unsigned	 formats;
	int		 depth;
};

static int	f_node(struct fctx *, const struct snode *, json_t *);

/* f_node() is F_OK on the type alone, as in v_node() leafd levels. */
#define F_LEAF(f, n, x)	(((n)->leafmask & JT(json_typeof(x))) && \
			    (f)->depth + (n)->leafd <= RL_SCHEMA_MAX_DEPTH)

/* Sequence: any F_UNSURE wins, then any F_BAD. */
static int
f_and(int a, int b)
{

	if (a == F_UNSURE || b == F_UNSURE)
		return F_UNSURE;
	return a == F_BAD || b == F_BAD ? F_BAD : F_OK;
}

/* v_type(): F_OK for its "same" cases, F_UNSURE where it coerces. */
static int
f_type(const struct fctx *f, unsigned t, const json_t *in)
{
	int	 lax = f->mode == RL_SCHEMA_LAX;
	int	 js = f->mode == RL_SCHEMA_JSONSCHEMA;
	double	 d;

	switch (t) {
	case T_STR:
		return json_is_string(in) ? F_OK : F_BAD;
	case T_NULL:
		return json_is_null(in) ? F_OK : F_BAD;
	case T_ARR:
		return json_is_array(in) ? F_OK : F_BAD;
	case T_OBJ:
		return json_is_object(in) ? F_OK : F_BAD;
	case T_BOOL:
		if (json_is_boolean(in))
			return F_OK;
		return lax && (json_is_number(in) || json_is_string(in)) ?
		    F_UNSURE : F_BAD;
	case T_INT:
		if (json_is_integer(in))
			return F_OK;
		if (json_is_real(in)) {
			d = json_real_value(in);
			if (js && d == floor(d))
				return F_OK;
			return lax ? F_UNSURE : F_BAD;
		}
		return lax && (json_is_boolean(in) || json_is_string(in)) ?
		    F_UNSURE : F_BAD;
	case T_NUM:
		if (json_is_real(in) || (js && json_is_integer(in)))
			return F_OK;
		if (json_is_integer(in))
			return F_UNSURE;	/* becomes a float */
		return lax && (json_is_boolean(in) || json_is_string(in)) ?
		    F_UNSURE : F_BAD;
	}
	return F_BAD;
}

/*
 * v_union(): the first member valid in strict mode is the one v_union()
 * keeps, re-validated in the schema's mode; a lax-only match coerces.
 */
static int
f_union(struct fctx *f, struct snode *const *mem, const unsigned *types,
    size_t nmem, json_t *in)
{
	unsigned	 mode = f->mode;
	size_t		 i;
	int		 r = F_BAD;

	if (mode == RL_SCHEMA_LAX)
		f->mode = RL_SCHEMA_STRICT;
	for (i = 0; i < nmem; i++) {
		r = mem != NULL ? f_node(f, mem[i], in) :
		    f_type(f, types[i], in);
		if (r != F_BAD)
			break;
	}
	f->mode = mode;
	if (r == F_UNSURE)
		return F_UNSURE;
	if (r == F_OK) {
		if (mode != RL_SCHEMA_LAX)
			return F_OK;
		r = mem != NULL ? f_node(f, mem[i], in) :
		    f_type(f, types[i], in);
		return r == F_OK ? F_OK : F_UNSURE;
	}
	if (mode != RL_SCHEMA_LAX)
		return F_BAD;
	for (i = 0; i < nmem; i++) {
		r = mem != NULL ? f_node(f, mem[i], in) :
		    f_type(f, types[i], in);
		if (r != F_BAD)
			return F_UNSURE;
	}
	return F_BAD;
}

static int
f_array(struct fctx *f, const struct snode *n, json_t *x)
{
	const struct snode *sub;
	json_t		*item;
	size_t		 i, j, len = json_array_size(x);
	int		 acc = F_OK;

	for (i = 0; i < len; i++) {
		sub = i < n->nprefix ? n->prefix[i] : n->items;
		if (sub == NULL)
			break;
		item = json_array_get(x, i);
		if (F_LEAF(f, sub, item))
			continue;
		if ((acc = f_and(acc, f_node(f, sub, item))) == F_UNSURE)
			return F_UNSURE;
	}
	if (acc == F_BAD)
		return F_BAD;
	if ((n->minitems >= 0 && len < (size_t)n->minitems) ||
	    (n->maxitems >= 0 && len > (size_t)n->maxitems))
		return F_BAD;
	if (n->unique)
		for (i = 0; i < len; i++)
			for (j = i + 1; j < len; j++)
				if (jeq(json_array_get(x, i),
				    json_array_get(x, j)))
					return F_BAD;
	return F_OK;
}

/*
 * One pass over the instance's keys, each mapped to its property by
 * prop_find(); the properties not seen are looked up only when some were
 * missing and one of them is required or has a default.
 */
static int
f_object(struct fctx *f, const struct snode *n, json_t *x)
{
	const struct sprop *p;
	const struct snode *sub;
	const char	*k;
	void		*it;
	json_t		*val;
	size_t		 i, hint = 0, seen = 0, klen;
	int		 acc = F_OK;

	if (n->nprops > 0 || n->addl != ADDL_ANY) {
		for (it = json_object_iter(x); it != NULL;
		    it = json_object_iter_next(x, it)) {
			k = json_object_iter_key(it);
			klen = json_object_iter_key_len(it);
			val = json_object_iter_value(it);
			/* prop_find()'s first guess, inline. */
			if (hint < n->nprops && n->props[hint].len == klen &&
			    key_eq(n->props[hint].name, k, klen))
				p = &n->props[hint++];
			else
				p = prop_find(n, k, klen, &hint);
			if (p != NULL) {
				seen++;
				sub = p->node;
			} else if (n->addl == ADDL_SCHEMA)
				sub = n->addl_node;
			else {
				if (n->addl == ADDL_NONE)
					acc = f_and(acc, F_BAD);
				continue;
			}
			if (F_LEAF(f, sub, val))
				continue;
			if ((acc = f_and(acc, f_node(f, sub, val))) ==
			    F_UNSURE)
				return F_UNSURE;
		}
	}
	if (seen < n->nprops && n->fillers)
		for (i = 0; i < n->nprops; i++) {
			p = &n->props[i];
			if (!p->required && !(p->node->has_def &&
			    f->mode != RL_SCHEMA_JSONSCHEMA))
				continue;
			if (json_object_getn(x, p->name, p->len) != NULL)
				continue;
			if (!p->required)
				return F_UNSURE;	/* the default */
			acc = F_BAD;
		}
	for (i = 0; i < n->nreq; i++)
		if (json_object_get(x, n->req[i]) == NULL)
			acc = F_BAD;
	if (acc == F_BAD)
		return F_BAD;
	if ((n->minprops >= 0 && json_object_size(x) < (size_t)n->minprops) ||
	    (n->maxprops >= 0 && json_object_size(x) > (size_t)n->maxprops))
		return F_BAD;
	return F_OK;
}

static int
f_combinators(struct fctx *f, const struct snode *n, json_t *in)
{
	size_t		 i, nok;
	int		 acc = F_OK, r;

	if (n->ref != NULL &&
	    (acc = f_and(acc, f_node(f, n->ref, in))) == F_UNSURE)
		return F_UNSURE;
	for (i = 0; i < n->nallof; i++)
		if ((acc = f_and(acc, f_node(f, n->allof[i], in))) ==
		    F_UNSURE)
			return F_UNSURE;
	if (n->nanyof > 0 && (acc = f_and(acc, f_union(f, n->anyof, NULL,
	    n->nanyof, in))) == F_UNSURE)
		return F_UNSURE;
	if (n->noneof > 0) {
		for (i = 0, nok = 0; i < n->noneof; i++) {
			if ((r = f_node(f, n->oneof[i], in)) == F_UNSURE)
				return F_UNSURE;
			nok += r == F_OK;
		}
		r = nok > 1 ? F_BAD : f_union(f, n->oneof, NULL, n->noneof,
		    in);
		if ((acc = f_and(acc, r)) == F_UNSURE)
			return F_UNSURE;
	}
	if (n->not != NULL) {
		if ((r = f_node(f, n->not, in)) == F_UNSURE)
			return F_UNSURE;
		acc = f_and(acc, r == F_OK ? F_BAD : F_OK);
	}
	return acc;
}

/* v_node() without its depth count, which f_node() keeps. */
static int
f_body(struct fctx *f, const struct snode *n, json_t *in)
{
	int	 r;

	if (n->boolean != 0)
		return n->boolean == 1 ? F_OK : F_BAD;
	if (n->pure_ref && n->ref != NULL)
		return f_node(f, n->ref, in);
	if (n->nullinner != NULL && n->nullonly)
		return json_is_null(in) ? F_OK : f_node(f, n->nullinner, in);
	if (json_is_null(in) && n->nullable && (n->enumv == NULL ||
	    in_enum(n, in)))
		return F_OK;
	if (n->enumv != NULL && !in_enum(n, in))
		return F_BAD;
	if (n->types == T_NULL)
		r = f_type(f, T_NULL, in);
	else if (n->ntl == 1)
		r = n->tmask & JT(json_typeof(in)) ? F_OK :
		    f_type(f, n->tl[0], in);
	else if (n->ntl > 1)
		r = f_union(f, NULL, n->tl, n->ntl, in);
	else
		r = F_OK;
	if (r != F_OK)
		return r;
	switch (json_typeof(in)) {
	case JSON_STRING:
		r = str_fail(n, in, f->mode, f->formats) == S_OK ? F_OK :
		    F_BAD;
		break;
	case JSON_INTEGER:
	case JSON_REAL:
		r = num_fail(n, in) == N_OK ? F_OK : F_BAD;
		break;
	case JSON_ARRAY:
		r = f_array(f, n, in);
		break;
	case JSON_OBJECT:
		r = f_object(f, n, in);
		break;
	default:
		break;
	}
	if (r == F_OK && n->comb)
		r = f_combinators(f, n, in);
	return r;
}

static int
f_node(struct fctx *f, const struct snode *n, json_t *in)
{
	int	 r, depth = f->depth;

	if (F_LEAF(f, n, in))
		return F_OK;
	/* A $ref alone: one v_node() level each, no call. */
	while (n->boolean == 0 && n->pure_ref && n->ref != NULL) {
		if (f->depth >= RL_SCHEMA_MAX_DEPTH)
			goto deep;
		f->depth++;
		n = n->ref;
	}
	if (f->depth >= RL_SCHEMA_MAX_DEPTH)
		goto deep;
	f->depth++;
	r = f_body(f, n, in);
	f->depth = depth;
	return r;
deep:
	f->depth = depth;
	return F_UNSURE;
}

static void
f_init(struct fctx *f, const struct rl_schema *s)
{

	f->mode = s->flags & RL_SCHEMA_JSONSCHEMA ? RL_SCHEMA_JSONSCHEMA :
	    s->flags & RL_SCHEMA_STRICT ? RL_SCHEMA_STRICT : RL_SCHEMA_LAX;
	f->formats = (s->flags & RL_SCHEMA_FORMATS) != 0;
	f->depth = 0;
}

/*
 * The full validator's context.  Its loc stack is a few KiB: on the
 * heap, not a small thread stack, and not zeroed (only segs[0..nseg) is
 * read).
 */
static struct vctx *
v_new(const struct fctx *f)
{
	struct vctx	*v;

	if ((v = malloc(sizeof(*v))) == NULL)
		return NULL;
	v->mode = f->mode;
	v->formats = f->formats;
	v->errors = NULL;
	v->nseg = 0;
	v->depth = 0;
	v->fail = RL_OK;
	return v;
}

enum rl_err
rl_schema_validate(const struct rl_schema *s, json_t *instance,
    json_t **validated, json_t **errors, struct rl_error *e)
{
	struct fctx	 f;
	struct vctx	*v;
	json_t		*out = NULL;
	enum rl_err	 rc;
	int		 r;

	if (validated != NULL)
		*validated = NULL;
	if (errors != NULL)
		*errors = NULL;
	f_init(&f, s);
	if (!(s->flags & RL_SCHEMA_NOFAST) &&
	    f_node(&f, s->root, instance) == F_OK) {
		if (validated != NULL)
			*validated = json_incref(instance);
		return RL_OK;
	}
	if ((v = v_new(&f)) == NULL)
		return rl_error_set(e, RL_ENOMEM, "out of memory");
	if (errors != NULL && (v->errors = json_array()) == NULL) {
		free(v);
		return rl_error_set(e, RL_ENOMEM, "out of memory");
	}
	r = v_node(v, s->root, instance, validated != NULL ? &out : NULL);
	if (r == -1) {
		rc = rl_error_set(e, v->fail == RL_OK ? RL_EINTERNAL : v->fail,
		    "%s", v->fail == RL_EINVAL ? "value nested too deep to "
		    "validate" : "validation failed: out of memory");
		json_decref(out);
		json_decref(v->errors);
	} else if (r == 0) {
		rc = rl_error_set(e, RL_EVALIDATION, "%zu validation error%s",
		    json_array_size(v->errors),
		    json_array_size(v->errors) == 1 ? "" : "s");
		json_decref(out);
		if (errors != NULL)
			*errors = v->errors;
	} else {
		rc = RL_OK;
		if (validated != NULL)
			*validated = out;
		json_decref(v->errors);
	}
	free(v);
	return rc;
}

/*
 * No error list, no output value; 1 valid, 0 not.  f_node() decides
 * unless a value would be coerced or defaulted.
 */
int
rl_schema_valid(const struct rl_schema *s, json_t *instance)
{
	struct fctx	 f;
	struct vctx	*v;
	int		 r;

	f_init(&f, s);
	if (!(s->flags & RL_SCHEMA_NOFAST) &&
	    (r = f_node(&f, s->root, instance)) != F_UNSURE)
		return r == F_OK;
	if ((v = v_new(&f)) == NULL)
		return 0;
	r = v_node(v, s->root, instance, NULL);
	free(v);
	return r == 1;
}

/* ---- registry ------------------------------------------------------ */

struct regent {
	char			*id;
	struct rl_schema	*s;
};

static struct regent	*reg;
static size_t		 nreg;

static int
reg_cmp(const void *a, const void *b)
{
	const struct regent *x = a, *y = b;

	return strcmp(x->id, y->id);
}

void
rl_schema_registry_free(void)
{
	size_t	 i;

	for (i = 0; i < nreg; i++) {
		free(reg[i].id);
		rl_schema_free(reg[i].s);
	}
	free(reg);
	reg = NULL;
	nreg = 0;
}

/*
 * Loads every DIR/ID.json as schema ID (lax, Pydantic's default for
 * model_validate_json).  Called once at start-up, before threads; a
 * schema that does not compile fails the whole load.
 */
enum rl_err
rl_schema_registry_load(const char *dir, struct rl_error *e)
{
	DIR			*d;
	struct dirent		*de;
	struct regent		*nr;
	struct rl_schema	*s;
	char			 path[4096];
	size_t			 len;
	enum rl_err		 rc = RL_OK;

	if ((d = opendir(dir)) == NULL)
		return rl_error_set(e, RL_EIO, "%s: %s", dir, strerror(errno));
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (len <= 5 || de->d_name[0] == '.' ||
		    strcmp(de->d_name + len - 5, ".json") != 0)
			continue;
		/* The index beside the response schemas is not a schema. */
		if (strcmp(de->d_name, "routes.json") == 0)
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
		    de->d_name) >= sizeof(path)) {
			rc = rl_error_set(e, RL_EIO, "%s: path too long",
			    de->d_name);
			break;
		}
		if ((s = rl_schema_load(path, RL_SCHEMA_LAX, e)) == NULL) {
			rc = e != NULL ? e->code : RL_EINVAL;
			break;
		}
		if ((nr = realloc(reg, (nreg + 1) * sizeof(*nr))) == NULL ||
		    (nr[nreg].id = strndup(de->d_name, len - 5)) == NULL) {
			if (nr != NULL)
				reg = nr;
			rl_schema_free(s);
			rc = rl_error_set(e, RL_ENOMEM, "out of memory");
			break;
		}
		reg = nr;
		reg[nreg++].s = s;
	}
	closedir(d);
	qsort(reg, nreg, sizeof(*reg), reg_cmp);
	return rc;
}

const struct rl_schema *
rl_schema_get(const char *id)
{
	struct regent	 key, *r;

	if (nreg == 0)
		return NULL;
	key.id = (char *)(uintptr_t)id;
	r = bsearch(&key, reg, nreg, sizeof(*reg), reg_cmp);
	return r != NULL ? r->s : NULL;
}

/*
 * FastAPI's 422 body: {"detail": [...]} with each loc prefixed ("body")
 * and no "url".  errors is borrowed.
 */
enum rl_err
rl_schema_fastapi_422(json_t *errors, const char *prefix, json_t **body)
{
	json_t	*detail, *it, *nit, *loc;
	size_t	 i;

	*body = NULL;
	if ((detail = json_array()) == NULL)
		return RL_ENOMEM;
	json_array_foreach(errors, i, it) {
		if ((nit = json_copy(it)) == NULL ||
		    (loc = json_array()) == NULL) {
			json_decref(nit);
			json_decref(detail);
			return RL_ENOMEM;
		}
		if (prefix != NULL)
			json_array_append_new(loc, json_string(prefix));
		json_array_extend(loc, json_object_get(it, "loc"));
		json_object_set_new(nit, "loc", loc);
		json_object_del(nit, "url");
		if (json_array_append_new(detail, nit) == -1) {
			json_decref(detail);
			return RL_ENOMEM;
		}
	}
	if ((*body = json_pack("{s:o}", "detail", detail)) == NULL)
		return RL_ENOMEM;
	return RL_OK;
}
