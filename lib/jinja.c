/*
 * jinja.c: a small Jinja subset (jinja.h).  The template is parsed whole
 * into a tree first, so a syntax error is reported before anything is
 * rendered, then the tree is walked with the context.  Values are jansson
 * values; an undefined value is a NULL pointer.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jinja.h"

enum ntype {
	N_TEXT,
	N_OUT,
	N_IF,
	N_FOR
};

enum etype {
	E_LIT,		/* lit */
	E_NAME,		/* name */
	E_ATTR,		/* a.name */
	E_INDEX,	/* a[b] */
	E_FILTER,	/* a | name(args) */
	E_NOT,		/* not a */
	E_AND,
	E_OR,
	E_CMP		/* a op b */
};

#define MAX_ARGS	2

struct expr {
	enum etype	 type;
	json_t		*lit;
	char		 name[RL_JINJA_NAME_MAX];
	char		 op[4];
	struct expr	*a, *b;
	struct expr	*args[MAX_ARGS];
	int		 nargs;
};

struct node {
	enum ntype	 type;
	const char	*text;
	size_t		 len;
	struct expr	*expr;
	char		 var[RL_JINJA_NAME_MAX];
	struct node	*body;
	struct node	*alt;	/* else / elif chain */
	struct node	*next;
};

/* One allocation of the parse, freed together. */
struct obj {
	struct obj	*next;
	int		 isexpr;
};

struct parser {
	const char	*src;
	size_t		 pos;
	size_t		 srclen;
	struct obj	*objs;
	int		 depth;
	/* The tag just read, for the block parser. */
	int		 line;
	struct rl_error	*e;
	/* Whether the text that follows a "-%}" loses its leading space. */
	int		 trim_next;
};

/* A bound loop variable. */
struct scope {
	const char	*name;
	json_t		*val;
	struct scope	*up;
};

struct out {
	char		*buf;
	size_t		 len;
	size_t		 cap;
	long		 iters;
	struct rl_error	*e;
};

static void *
palloc(struct parser *p, size_t sz, int isexpr)
{
	struct obj	*o;

	if ((o = calloc(1, sizeof(*o) + sz)) == NULL)
		return NULL;
	o->isexpr = isexpr;
	o->next = p->objs;
	p->objs = o;
	return o + 1;
}

static void
pfree(struct parser *p)
{
	struct obj	*o, *n;
	struct expr	*x;

	for (o = p->objs; o != NULL; o = n) {
		n = o->next;
		if (o->isexpr) {
			x = (struct expr *)(void *)(o + 1);
			json_decref(x->lit);
		}
		free(o);
	}
	p->objs = NULL;
}

static int
lineof(const struct parser *p, size_t pos)
{
	size_t	 i;
	int	 n = 1;

	for (i = 0; i < pos && i < p->srclen; i++)
		if (p->src[i] == '\n')
			n++;
	return n;
}

static enum rl_err __attribute__((format(printf, 2, 3)))
perr(struct parser *p, const char *fmt, ...)
{
	va_list	 ap;
	char	 buf[RL_ERRMSG_MAX - 32];

	va_start(ap, fmt);
	(void)vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return rl_error_set(p->e, RL_EINVAL, "template: %s (ligne %d)", buf,
	    p->line);
}

/*
 * Expressions.  A small lexer over [s, end) of one tag.
 */
struct lex {
	const char	*s;
	const char	*end;
	struct parser	*p;
};

static void
skipws(struct lex *l)
{

	while (l->s < l->end && isspace((unsigned char)*l->s))
		l->s++;
}

static int
isname0(int c)
{

	return isalpha(c) || c == '_';
}

static int
isnamec(int c)
{

	return isalnum(c) || c == '_';
}

/* The next word if it is exactly w (not a prefix of a longer name). */
static int
word(struct lex *l, const char *w)
{
	size_t	 n = strlen(w);

	skipws(l);
	if ((size_t)(l->end - l->s) < n || strncmp(l->s, w, n) != 0)
		return 0;
	if (l->s + n < l->end && isnamec((unsigned char)l->s[n]))
		return 0;
	l->s += n;
	return 1;
}

static int
punct(struct lex *l, const char *w)
{
	size_t	 n = strlen(w);

	skipws(l);
	if ((size_t)(l->end - l->s) < n || strncmp(l->s, w, n) != 0)
		return 0;
	l->s += n;
	return 1;
}

static int
name(struct lex *l, char *buf, size_t bufsz)
{
	const char	*b;

	skipws(l);
	if (l->s >= l->end || !isname0((unsigned char)*l->s))
		return 0;
	b = l->s;
	while (l->s < l->end && isnamec((unsigned char)*l->s))
		l->s++;
	if ((size_t)(l->s - b) >= bufsz) {
		l->s = b;
		return 0;
	}
	memcpy(buf, b, l->s - b);
	buf[l->s - b] = '\0';
	return 1;
}

static struct expr *
newexpr(struct lex *l, enum etype t)
{
	struct expr	*x;

	if ((x = palloc(l->p, sizeof(*x), 1)) == NULL) {
		(void)rl_error_set(l->p->e, RL_ENOMEM, "out of memory");
		return NULL;
	}
	x->type = t;
	return x;
}

static struct expr	*parse_or(struct lex *, int);

/* A quoted string with \\, \', \", \n and \t escapes. */
static struct expr *
parse_string(struct lex *l)
{
	struct expr	*x;
	char		 q = *l->s++;
	char		*buf;
	size_t		 n = 0;

	if ((buf = malloc(l->end - l->s + 1)) == NULL) {
		(void)rl_error_set(l->p->e, RL_ENOMEM, "out of memory");
		return NULL;
	}
	while (l->s < l->end && *l->s != q) {
		if (*l->s == '\\' && l->s + 1 < l->end) {
			l->s++;
			buf[n++] = *l->s == 'n' ? '\n' :
			    *l->s == 't' ? '\t' : *l->s;
			l->s++;
			continue;
		}
		buf[n++] = *l->s++;
	}
	if (l->s >= l->end) {
		free(buf);
		(void)perr(l->p, "chaîne non terminée");
		return NULL;
	}
	l->s++;
	buf[n] = '\0';
	if ((x = newexpr(l, E_LIT)) != NULL &&
	    (x->lit = json_stringn(buf, n)) == NULL) {
		(void)perr(l->p, "chaîne invalide (UTF-8)");
		x = NULL;
	}
	free(buf);
	return x;
}

static struct expr *
parse_number(struct lex *l)
{
	struct expr	*x;
	char		 buf[64];
	size_t		 n = 0;
	int		 isreal = 0;
	char		*endp;

	while (l->s < l->end && n + 1 < sizeof(buf) &&
	    (isdigit((unsigned char)*l->s) || *l->s == '.' ||
	    (n == 0 && *l->s == '-'))) {
		if (*l->s == '.')
			isreal = 1;
		buf[n++] = *l->s++;
	}
	buf[n] = '\0';
	if ((x = newexpr(l, E_LIT)) == NULL)
		return NULL;
	errno = 0;
	if (isreal)
		x->lit = json_real(strtod(buf, &endp));
	else
		x->lit = json_integer(strtoll(buf, &endp, 10));
	if (*endp != '\0' || errno != 0 || x->lit == NULL) {
		(void)perr(l->p, "nombre invalide: %s", buf);
		return NULL;
	}
	return x;
}

static struct expr *
parse_primary(struct lex *l, int depth)
{
	struct expr	*x, *y;
	char		 nm[RL_JINJA_NAME_MAX];

	if (depth > RL_JINJA_MAX_DEPTH) {
		(void)perr(l->p, "expression trop imbriquée");
		return NULL;
	}
	skipws(l);
	if (l->s >= l->end) {
		(void)perr(l->p, "expression attendue");
		return NULL;
	}
	if (*l->s == '(') {
		l->s++;
		if ((x = parse_or(l, depth + 1)) == NULL)
			return NULL;
		if (!punct(l, ")")) {
			(void)perr(l->p, "« ) » attendu");
			return NULL;
		}
	} else if (*l->s == '\'' || *l->s == '"')
		x = parse_string(l);
	else if (isdigit((unsigned char)*l->s) || (*l->s == '-' &&
	    l->s + 1 < l->end && isdigit((unsigned char)l->s[1])))
		x = parse_number(l);
	else if (name(l, nm, sizeof(nm))) {
		if ((x = newexpr(l, E_LIT)) == NULL)
			return NULL;
		if (strcmp(nm, "true") == 0 || strcmp(nm, "True") == 0)
			x->lit = json_true();
		else if (strcmp(nm, "false") == 0 || strcmp(nm, "False") == 0)
			x->lit = json_false();
		else if (strcmp(nm, "none") == 0 || strcmp(nm, "None") == 0)
			x->lit = json_null();
		else {
			x->type = E_NAME;
			memcpy(x->name, nm, sizeof(nm));
		}
	} else {
		(void)perr(l->p, "expression invalide près de « %.20s »",
		    l->s);
		return NULL;
	}
	if (x == NULL)
		return NULL;
	/* Attribute and index access. */
	for (;;) {
		skipws(l);
		if (l->s < l->end && *l->s == '.') {
			l->s++;
			if ((y = newexpr(l, E_ATTR)) == NULL)
				return NULL;
			if (!name(l, y->name, sizeof(y->name))) {
				/* a.0: an index written as an attribute. */
				skipws(l);
				if (l->s < l->end &&
				    isdigit((unsigned char)*l->s)) {
					y->type = E_INDEX;
					if ((y->b = parse_number(l)) == NULL)
						return NULL;
				} else {
					(void)perr(l->p, "nom attendu après "
					    "« . »");
					return NULL;
				}
			}
			y->a = x;
			x = y;
		} else if (l->s < l->end && *l->s == '[') {
			l->s++;
			if ((y = newexpr(l, E_INDEX)) == NULL ||
			    (y->b = parse_or(l, depth + 1)) == NULL)
				return NULL;
			if (!punct(l, "]")) {
				(void)perr(l->p, "« ] » attendu");
				return NULL;
			}
			y->a = x;
			x = y;
		} else
			break;
	}
	return x;
}

static const char *const filters[] = {
	"length", "count", "join", "default", "d", "upper", "lower", "trim",
	"first", "last", "capitalize", "string",
};

static struct expr *
parse_filtered(struct lex *l, int depth)
{
	struct expr	*x, *f;
	size_t		 i;

	if ((x = parse_primary(l, depth)) == NULL)
		return NULL;
	while (punct(l, "|")) {
		if ((f = newexpr(l, E_FILTER)) == NULL)
			return NULL;
		if (!name(l, f->name, sizeof(f->name))) {
			(void)perr(l->p, "nom de filtre attendu");
			return NULL;
		}
		for (i = 0; i < sizeof(filters) / sizeof(filters[0]); i++)
			if (strcmp(f->name, filters[i]) == 0)
				break;
		if (i == sizeof(filters) / sizeof(filters[0])) {
			(void)perr(l->p, "filtre non pris en charge: %s",
			    f->name);
			return NULL;
		}
		if (punct(l, "(") && !punct(l, ")")) {
			do {
				if (f->nargs == MAX_ARGS) {
					(void)perr(l->p, "trop d'arguments "
					    "pour %s", f->name);
					return NULL;
				}
				if ((f->args[f->nargs++] =
				    parse_or(l, depth + 1)) == NULL)
					return NULL;
			} while (punct(l, ","));
			if (!punct(l, ")")) {
				(void)perr(l->p, "« ) » attendu");
				return NULL;
			}
		}
		f->a = x;
		x = f;
	}
	return x;
}

static struct expr *
parse_cmp(struct lex *l, int depth)
{
	static const char *const ops[] = {
		"==", "!=", "<=", ">=", "<", ">"
	};
	struct expr	*x, *c;
	const char	*save;
	size_t		 i;

	if ((x = parse_filtered(l, depth)) == NULL)
		return NULL;
	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (punct(l, ops[i]))
			break;
	if ((c = newexpr(l, E_CMP)) == NULL)
		return NULL;
	if (i < sizeof(ops) / sizeof(ops[0]))
		(void)snprintf(c->op, sizeof(c->op), "%s", ops[i]);
	else if (word(l, "in"))
		(void)snprintf(c->op, sizeof(c->op), "in");
	else {
		save = l->s;
		if (!(word(l, "not") && word(l, "in"))) {
			l->s = save;
			return x;
		}
		(void)snprintf(c->op, sizeof(c->op), "!in");
	}
	c->a = x;
	if ((c->b = parse_filtered(l, depth)) == NULL)
		return NULL;
	return c;
}

static struct expr *
parse_not(struct lex *l, int depth)
{
	struct expr	*x;

	if (depth > RL_JINJA_MAX_DEPTH) {
		(void)perr(l->p, "expression trop imbriquée");
		return NULL;
	}
	if (word(l, "not")) {
		if ((x = newexpr(l, E_NOT)) == NULL ||
		    (x->a = parse_not(l, depth + 1)) == NULL)
			return NULL;
		return x;
	}
	return parse_cmp(l, depth);
}

static struct expr *
parse_and(struct lex *l, int depth)
{
	struct expr	*x, *y;

	if ((x = parse_not(l, depth)) == NULL)
		return NULL;
	while (word(l, "and")) {
		if ((y = newexpr(l, E_AND)) == NULL)
			return NULL;
		y->a = x;
		if ((y->b = parse_not(l, depth)) == NULL)
			return NULL;
		x = y;
	}
	return x;
}

static struct expr *
parse_or(struct lex *l, int depth)
{
	struct expr	*x, *y;

	if ((x = parse_and(l, depth)) == NULL)
		return NULL;
	while (word(l, "or")) {
		if ((y = newexpr(l, E_OR)) == NULL)
			return NULL;
		y->a = x;
		if ((y->b = parse_and(l, depth)) == NULL)
			return NULL;
		x = y;
	}
	return x;
}

/* A whole expression filling [s, end). */
static struct expr *
parse_expr(struct parser *p, const char *s, const char *end)
{
	struct lex	 l = { s, end, p };
	struct expr	*x;

	if ((x = parse_or(&l, 0)) == NULL)
		return NULL;
	skipws(&l);
	if (l.s != l.end) {
		(void)perr(p, "texte inattendu: « %.*s »",
		    (int)(l.end - l.s > 20 ? 20 : l.end - l.s), l.s);
		return NULL;
	}
	return x;
}

/*
 * Template scanning.  next_piece() returns the next text run or tag;
 * a tag's inside is [*ts, *te) with the "-" markers removed.
 */
enum piece {
	P_END,
	P_TEXT,
	P_VAR,
	P_TAG,
	P_ERR
};

static enum piece
next_piece(struct parser *p, const char **ts, const char **te)
{
	const char	*s = p->src + p->pos, *end = p->src + p->srclen;
	const char	*o, *c;
	const char	*closer;
	int		 kind;

	if (s >= end)
		return P_END;
	if (s[0] == '{' && s + 1 < end &&
	    (s[1] == '{' || s[1] == '%' || s[1] == '#')) {
		kind = s[1];
		closer = kind == '{' ? "}}" : kind == '%' ? "%}" : "#}";
		p->line = lineof(p, p->pos);
		if ((c = strstr(s + 2, closer)) == NULL) {
			(void)perr(p, "balise non fermée");
			return P_ERR;
		}
		o = s + 2;
		p->pos = c + 2 - p->src;
		if (kind == '#') {
			*ts = *te = o;
			return P_TEXT;
		}
		if (o < c && *o == '-')
			o++;
		p->trim_next = 0;
		if (c > o && c[-1] == '-') {
			c--;
			p->trim_next = 1;
		}
		*ts = o;
		*te = c;
		return kind == '{' ? P_VAR : P_TAG;
	}
	/* Text up to the next tag opener. */
	o = s;
	for (c = s; c < end; c++)
		if (c[0] == '{' && c + 1 < end &&
		    (c[1] == '{' || c[1] == '%' || c[1] == '#'))
			break;
	p->pos = c - p->src;
	if (p->trim_next) {
		while (o < c && isspace((unsigned char)*o))
			o++;
		p->trim_next = 0;
	}
	/* A following "{%-" or "{{-" trims the end of this text. */
	if (c + 2 < end && c[2] == '-' && c[1] != '#')
		while (c > o && isspace((unsigned char)c[-1]))
			c--;
	*ts = o;
	*te = c;
	return P_TEXT;
}

/* The tag keyword of [*s, end): moves *s past it. */
static int
tagword(const char **s, const char *end, char *buf, size_t bufsz)
{
	struct lex	 l = { *s, end, NULL };

	if (!name(&l, buf, bufsz))
		return 0;
	*s = l.s;
	return 1;
}

/*
 * Parse nodes until one of the closing tags in stop (space-separated, e.g.
 * "endif else elif") or the end; *closer receives which one closed it,
 * cs and ce the rest of that tag.
 */
static enum rl_err
parse_block(struct parser *p, struct node **first, const char *stop,
    char *closer, size_t closersz, const char **cs, const char **ce)
{
	struct node	**tail = first, *n;
	const char	*ts, *te;
	char		 kw[RL_JINJA_NAME_MAX];
	char		 sub[RL_JINJA_NAME_MAX];
	const char	*rs, *re;
	enum piece	 pc;
	struct lex	 l;
	char		 pat[RL_JINJA_NAME_MAX + 2];

	*first = NULL;
	if (++p->depth > RL_JINJA_MAX_DEPTH)
		return perr(p, "blocs trop imbriqués (au plus %d)",
		    RL_JINJA_MAX_DEPTH);
	for (;;) {
		if ((pc = next_piece(p, &ts, &te)) == P_ERR)
			return p->e->code;
		if (pc == P_END) {
			if (stop != NULL)
				return perr(p, "bloc non fermé (attendu: %s)",
				    stop);
			break;
		}
		if (pc == P_TEXT) {
			if (ts == te)
				continue;
			if ((n = palloc(p, sizeof(*n), 0)) == NULL)
				return rl_error_set(p->e, RL_ENOMEM, NULL);
			n->type = N_TEXT;
			n->text = ts;
			n->len = te - ts;
			*tail = n;
			tail = &n->next;
			continue;
		}
		if (pc == P_VAR) {
			if ((n = palloc(p, sizeof(*n), 0)) == NULL)
				return rl_error_set(p->e, RL_ENOMEM, NULL);
			n->type = N_OUT;
			if ((n->expr = parse_expr(p, ts, te)) == NULL)
				return p->e->code;
			*tail = n;
			tail = &n->next;
			continue;
		}
		if (!tagword(&ts, te, kw, sizeof(kw)))
			return perr(p, "balise vide ou invalide");
		(void)snprintf(pat, sizeof(pat), " %s ", kw);
		if (stop != NULL) {
			char	 stops[64];

			(void)snprintf(stops, sizeof(stops), " %s ", stop);
			if (strstr(stops, pat) != NULL) {
				(void)snprintf(closer, closersz, "%s", kw);
				*cs = ts;
				*ce = te;
				p->depth--;
				return RL_OK;
			}
		}
		if ((n = palloc(p, sizeof(*n), 0)) == NULL)
			return rl_error_set(p->e, RL_ENOMEM, NULL);
		if (strcmp(kw, "if") == 0) {
			struct node	*cur = n;
			enum rl_err	 err;

			n->type = N_IF;
			if ((n->expr = parse_expr(p, ts, te)) == NULL)
				return p->e->code;
			for (;;) {
				if ((err = parse_block(p, &cur->body,
				    "elif else endif", sub, sizeof(sub),
				    &rs, &re)) != RL_OK)
					return err;
				if (strcmp(sub, "endif") == 0)
					break;
				if ((cur->alt = palloc(p, sizeof(*n), 0)) ==
				    NULL)
					return rl_error_set(p->e, RL_ENOMEM,
					    NULL);
				cur = cur->alt;
				cur->type = N_IF;
				if (strcmp(sub, "elif") == 0) {
					if ((cur->expr = parse_expr(p, rs,
					    re)) == NULL)
						return p->e->code;
					continue;
				}
				/* else: an if that always holds. */
				if ((err = parse_block(p, &cur->body,
				    "endif", sub, sizeof(sub), &rs, &re)) !=
				    RL_OK)
					return err;
				break;
			}
		} else if (strcmp(kw, "for") == 0) {
			enum rl_err	 err;

			n->type = N_FOR;
			l.s = ts;
			l.end = te;
			l.p = p;
			if (!name(&l, n->var, sizeof(n->var)) ||
			    !word(&l, "in"))
				return perr(p, "for: « for nom in "
				    "expression » attendu");
			if ((n->expr = parse_expr(p, l.s, te)) == NULL)
				return p->e->code;
			if ((err = parse_block(p, &n->body, "else endfor",
			    sub, sizeof(sub), &rs, &re)) != RL_OK)
				return err;
			if (strcmp(sub, "else") == 0 &&
			    (err = parse_block(p, &n->alt, "endfor", sub,
			    sizeof(sub), &rs, &re)) != RL_OK)
				return err;
		} else
			return perr(p, "balise non prise en charge: %s", kw);
		*tail = n;
		tail = &n->next;
	}
	p->depth--;
	return RL_OK;
}

/*
 * Evaluation.
 */
static int
truthy(const json_t *v)
{

	if (v == NULL)
		return 0;
	switch (json_typeof(v)) {
	case JSON_STRING:
		return json_string_length(v) > 0;
	case JSON_INTEGER:
		return json_integer_value(v) != 0;
	case JSON_REAL:
		return json_real_value(v) != 0.0;
	case JSON_TRUE:
		return 1;
	case JSON_ARRAY:
		return json_array_size(v) > 0;
	case JSON_OBJECT:
		return json_object_size(v) > 0;
	default:
		return 0;
	}
}

static enum rl_err
grow(struct out *o, size_t need)
{
	size_t	 cap;
	char	*b;

	if (o->len + need > RL_JINJA_OUT_MAX)
		return rl_error_set(o->e, RL_ETOOBIG,
		    "template: texte rendu trop long (plus de %d octets)",
		    RL_JINJA_OUT_MAX);
	if (o->len + need + 1 <= o->cap)
		return RL_OK;
	cap = o->cap ? o->cap : 256;
	while (cap < o->len + need + 1)
		cap *= 2;
	if ((b = realloc(o->buf, cap)) == NULL)
		return rl_error_set(o->e, RL_ENOMEM, "out of memory");
	o->buf = b;
	o->cap = cap;
	return RL_OK;
}

static enum rl_err
emit(struct out *o, const char *s, size_t n)
{
	enum rl_err	 err;

	if ((err = grow(o, n)) != RL_OK)
		return err;
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	o->buf[o->len] = '\0';
	return RL_OK;
}

/* A value as Jinja prints it; *s malloc'd (NULL: nothing to print). */
static char *
tostr(const json_t *v)
{
	char	 buf[64];
	size_t	 n;

	if (v == NULL)
		return strdup("");
	switch (json_typeof(v)) {
	case JSON_STRING:
		return strdup(json_string_value(v));
	case JSON_INTEGER:
		(void)snprintf(buf, sizeof(buf), "%lld",
		    (long long)json_integer_value(v));
		return strdup(buf);
	case JSON_REAL:
		/* Python's repr: the shortest text that reads back. */
		(void)snprintf(buf, sizeof(buf), "%.15g", json_real_value(v));
		if (strtod(buf, NULL) != json_real_value(v))
			(void)snprintf(buf, sizeof(buf), "%.17g",
			    json_real_value(v));
		/* Python prints 2.0, not 2. */
		if (strspn(buf, "-0123456789") == strlen(buf)) {
			n = strlen(buf);
			(void)snprintf(buf + n, sizeof(buf) - n, ".0");
		}
		return strdup(buf);
	case JSON_TRUE:
		return strdup("True");
	case JSON_FALSE:
		return strdup("False");
	case JSON_NULL:
		return strdup("None");
	default:
		return json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
	}
}

static json_t	*eval(struct expr *, const json_t *, struct scope *,
		    struct out *, int *);

static json_t *
lookup(const char *nm, const json_t *ctx, struct scope *sc)
{
	json_t	*v;

	for (; sc != NULL; sc = sc->up)
		if (strcmp(sc->name, nm) == 0)
			return json_incref(sc->val);
	if (ctx != NULL && json_is_object(ctx) &&
	    (v = json_object_get(ctx, nm)) != NULL)
		return json_incref(v);
	return NULL;
}

static json_t *
index_of(const json_t *a, const json_t *k)
{
	json_int_t	 i;

	if (a == NULL || k == NULL)
		return NULL;
	if (json_is_object(a) && json_is_string(k))
		return json_incref(json_object_get(a, json_string_value(k)));
	if (json_is_array(a) && json_is_integer(k)) {
		i = json_integer_value(k);
		if (i < 0)
			i += (json_int_t)json_array_size(a);
		if (i < 0)
			return NULL;
		return json_incref(json_array_get(a, (size_t)i));
	}
	if (json_is_string(a) && json_is_integer(k)) {
		i = json_integer_value(k);
		if (i < 0 || (size_t)i >= json_string_length(a))
			return NULL;
		return json_stringn(json_string_value(a) + i, 1);
	}
	return NULL;
}

static int
numeric(const json_t *v, double *d)
{

	if (json_is_number(v)) {
		*d = json_number_value(v);
		return 1;
	}
	return 0;
}

static int
equal(const json_t *a, const json_t *b)
{
	double	 x, y;

	if (a == NULL || b == NULL)
		return a == b;
	if (numeric(a, &x) && numeric(b, &y))
		return x == y;
	return json_equal(a, b);
}

static int
contains(const json_t *hay, const json_t *needle)
{
	size_t	 i;

	if (hay == NULL || needle == NULL)
		return 0;
	if (json_is_string(hay) && json_is_string(needle))
		return strstr(json_string_value(hay),
		    json_string_value(needle)) != NULL;
	if (json_is_array(hay)) {
		for (i = 0; i < json_array_size(hay); i++)
			if (equal(json_array_get(hay, i), needle))
				return 1;
		return 0;
	}
	if (json_is_object(hay) && json_is_string(needle))
		return json_object_get(hay, json_string_value(needle)) != NULL;
	return 0;
}

static json_t *
cmp(const char *op, const json_t *a, const json_t *b)
{
	double	 x, y;
	int	 c;

	if (strcmp(op, "==") == 0)
		return json_boolean(equal(a, b));
	if (strcmp(op, "!=") == 0)
		return json_boolean(!equal(a, b));
	if (strcmp(op, "in") == 0)
		return json_boolean(contains(b, a));
	if (strcmp(op, "!in") == 0)
		return json_boolean(!contains(b, a));
	if (numeric(a, &x) && numeric(b, &y))
		c = x < y ? -1 : x > y;
	else if (json_is_string(a) && json_is_string(b))
		c = strcmp(json_string_value(a), json_string_value(b));
	else
		return json_false();
	if (strcmp(op, "<") == 0)
		return json_boolean(c < 0);
	if (strcmp(op, ">") == 0)
		return json_boolean(c > 0);
	if (strcmp(op, "<=") == 0)
		return json_boolean(c <= 0);
	return json_boolean(c >= 0);
}

static json_t *
casefold(const json_t *v, int mode)
{
	char	*s, *p;
	json_t	*r;
	size_t	 n;

	if ((s = tostr(v)) == NULL)
		return NULL;
	/* ASCII only: accented letters are left as they are. */
	for (p = s; *p != '\0'; p++) {
		if (mode == 'u')
			*p = toupper((unsigned char)*p);
		else if (mode == 'l' || (mode == 'c' && p != s))
			*p = tolower((unsigned char)*p);
		else if (mode == 'c')
			*p = toupper((unsigned char)*p);
	}
	if (mode == 't') {
		p = s;
		while (isspace((unsigned char)*p))
			p++;
		n = strlen(p);
		while (n > 0 && isspace((unsigned char)p[n - 1]))
			n--;
		r = json_stringn(p, n);
	} else
		r = json_string(s);
	free(s);
	return r;
}

/* Code points, as Python's len() counts a str. */
static size_t
utf8len(const char *s)
{
	size_t	 n = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

static json_t *
filter(struct expr *x, json_t *v, const json_t *ctx, struct scope *sc,
    struct out *o, int *fail)
{
	json_t		*arg = NULL, *r = NULL, *it;
	const char	*f = x->name;
	char		*s, *sep = NULL;
	size_t		 i, n;

	if (x->nargs > 0) {
		arg = eval(x->args[0], ctx, sc, o, fail);
		if (*fail)
			return NULL;
	}
	if (strcmp(f, "length") == 0 || strcmp(f, "count") == 0) {
		n = v == NULL ? 0 : json_is_array(v) ? json_array_size(v) :
		    json_is_object(v) ? json_object_size(v) :
		    json_is_string(v) ? utf8len(json_string_value(v)) :
		    0;
		r = json_integer((json_int_t)n);
	} else if (strcmp(f, "default") == 0 || strcmp(f, "d") == 0) {
		r = v != NULL ? json_incref(v) : arg != NULL ?
		    json_incref(arg) : json_string("");
	} else if (strcmp(f, "join") == 0) {
		sep = arg != NULL ? tostr(arg) : strdup("");
		if (sep == NULL)
			goto out;
		if (v == NULL || !json_is_array(v)) {
			r = v == NULL ? json_string("") : json_incref(v);
			goto out;
		}
		{
			struct out	 j = { NULL, 0, 0, 0, o->e };

			json_array_foreach(v, i, it) {
				if (i > 0 && emit(&j, sep, strlen(sep)) !=
				    RL_OK)
					break;
				if ((s = tostr(it)) == NULL ||
				    emit(&j, s, strlen(s)) != RL_OK) {
					free(s);
					break;
				}
				free(s);
			}
			if (i == json_array_size(v))
				r = json_string(j.buf != NULL ? j.buf : "");
			else
				*fail = 1;
			free(j.buf);
		}
	} else if (strcmp(f, "upper") == 0)
		r = casefold(v, 'u');
	else if (strcmp(f, "lower") == 0)
		r = casefold(v, 'l');
	else if (strcmp(f, "capitalize") == 0)
		r = casefold(v, 'c');
	else if (strcmp(f, "trim") == 0)
		r = casefold(v, 't');
	else if (strcmp(f, "string") == 0) {
		if ((s = tostr(v)) != NULL)
			r = json_string(s);
		free(s);
	} else if (strcmp(f, "first") == 0 || strcmp(f, "last") == 0) {
		if (v != NULL && json_is_array(v) && json_array_size(v) > 0)
			r = json_incref(json_array_get(v, f[0] == 'f' ? 0 :
			    json_array_size(v) - 1));
	}
out:
	free(sep);
	json_decref(arg);
	return r;
}

/*
 * Evaluate: a new reference, or NULL for undefined.  *fail is set (and
 * o->e filled) on a hard error only (memory, size).
 */
static json_t *
eval(struct expr *x, const json_t *ctx, struct scope *sc, struct out *o,
    int *fail)
{
	json_t	*a, *b, *r = NULL;

	switch (x->type) {
	case E_LIT:
		return json_incref(x->lit);
	case E_NAME:
		return lookup(x->name, ctx, sc);
	case E_ATTR:
		a = eval(x->a, ctx, sc, o, fail);
		if (a != NULL && json_is_object(a))
			r = json_incref(json_object_get(a, x->name));
		json_decref(a);
		return r;
	case E_INDEX:
		a = eval(x->a, ctx, sc, o, fail);
		b = eval(x->b, ctx, sc, o, fail);
		r = index_of(a, b);
		json_decref(a);
		json_decref(b);
		return r;
	case E_FILTER:
		a = eval(x->a, ctx, sc, o, fail);
		if (!*fail)
			r = filter(x, a, ctx, sc, o, fail);
		json_decref(a);
		return r;
	case E_NOT:
		a = eval(x->a, ctx, sc, o, fail);
		r = json_boolean(!truthy(a));
		json_decref(a);
		return r;
	case E_AND:
	case E_OR:
		/* Python semantics: the deciding operand itself. */
		a = eval(x->a, ctx, sc, o, fail);
		if ((x->type == E_AND) != truthy(a))
			return a;
		json_decref(a);
		return eval(x->b, ctx, sc, o, fail);
	case E_CMP:
		a = eval(x->a, ctx, sc, o, fail);
		b = eval(x->b, ctx, sc, o, fail);
		r = cmp(x->op, a, b);
		json_decref(a);
		json_decref(b);
		return r;
	}
	return NULL;
}

static enum rl_err	render(struct node *, const json_t *, struct scope *,
			    struct out *);

static enum rl_err
render_for(struct node *n, const json_t *ctx, struct scope *sc,
    struct out *o)
{
	json_t		*seq, *items = NULL, *loop = NULL, *v;
	struct scope	 item, lp;
	const char	*k;
	size_t		 i, len;
	int		 fail = 0;
	enum rl_err	 err = RL_OK;

	seq = eval(n->expr, ctx, sc, o, &fail);
	if (fail) {
		err = o->e->code;
		goto out;
	}
	/* Iterate a copy: objects by key, strings by character. */
	if (seq != NULL && json_is_array(seq))
		items = json_incref(seq);
	else if (seq != NULL && json_is_object(seq)) {
		items = json_array();
		json_object_foreach(seq, k, v)
			(void)json_array_append_new(items, json_string(k));
	} else
		items = json_array();
	if (items == NULL) {
		err = rl_error_set(o->e, RL_ENOMEM, "out of memory");
		goto out;
	}
	len = json_array_size(items);
	if (len == 0) {
		err = render(n->alt, ctx, sc, o);
		goto out;
	}
	for (i = 0; i < len; i++) {
		if (++o->iters > RL_JINJA_MAX_ITER) {
			err = rl_error_set(o->e, RL_ETOOBIG, "template: trop "
			    "d'itérations (plus de %d)", RL_JINJA_MAX_ITER);
			goto out;
		}
		json_decref(loop);
		if ((loop = json_pack("{s:I, s:I, s:b, s:b, s:I}",
		    "index", (json_int_t)i + 1, "index0", (json_int_t)i,
		    "first", i == 0, "last", i + 1 == len,
		    "length", (json_int_t)len)) == NULL) {
			err = rl_error_set(o->e, RL_ENOMEM, "out of memory");
			goto out;
		}
		lp.name = "loop";
		lp.val = loop;
		lp.up = sc;
		item.name = n->var;
		item.val = json_array_get(items, i);
		item.up = &lp;
		if ((err = render(n->body, ctx, &item, o)) != RL_OK)
			goto out;
	}
out:
	json_decref(loop);
	json_decref(items);
	json_decref(seq);
	return err;
}

static enum rl_err
render(struct node *n, const json_t *ctx, struct scope *sc, struct out *o)
{
	json_t		*v;
	char		*s;
	int		 fail, hold;
	enum rl_err	 err;

	for (; n != NULL; n = n->next) {
		fail = 0;
		switch (n->type) {
		case N_TEXT:
			if ((err = emit(o, n->text, n->len)) != RL_OK)
				return err;
			break;
		case N_OUT:
			v = eval(n->expr, ctx, sc, o, &fail);
			if (fail) {
				json_decref(v);
				return o->e->code;
			}
			s = tostr(v);
			json_decref(v);
			if (s == NULL)
				return rl_error_set(o->e, RL_ENOMEM,
				    "out of memory");
			err = emit(o, s, strlen(s));
			free(s);
			if (err != RL_OK)
				return err;
			break;
		case N_IF:
			{
				struct node	*c;

				for (c = n; c != NULL; c = c->alt) {
					if (c->expr == NULL)
						break;
					v = eval(c->expr, ctx, sc, o, &fail);
					hold = truthy(v);
					json_decref(v);
					if (fail)
						return o->e->code;
					if (hold)
						break;
				}
				if (c != NULL &&
				    (err = render(c->body, ctx, sc, o)) !=
				    RL_OK)
					return err;
			}
			break;
		case N_FOR:
			if ((err = render_for(n, ctx, sc, o)) != RL_OK)
				return err;
			break;
		}
	}
	return RL_OK;
}

enum rl_err
rl_jinja_render(const char *tmpl, const json_t *ctx, char **out,
    struct rl_error *e)
{
	struct parser	 p;
	struct out	 o;
	struct node	*root = NULL;
	enum rl_err	 err;

	*out = NULL;
	memset(&p, 0, sizeof(p));
	memset(&o, 0, sizeof(o));
	p.e = o.e = e;
	p.src = tmpl != NULL ? tmpl : "";
	p.srclen = strlen(p.src);
	p.line = 1;
	if (p.srclen > RL_JINJA_SRC_MAX) {
		err = rl_error_set(e, RL_ETOOBIG, "template: plus de %d octets",
		    RL_JINJA_SRC_MAX);
		goto out;
	}
	/* Jinja drops one trailing newline (keep_trailing_newline=False). */
	if (p.srclen > 0 && p.src[p.srclen - 1] == '\n')
		p.srclen--;
	if ((err = parse_block(&p, &root, NULL, NULL, 0, NULL, NULL)) !=
	    RL_OK)
		goto out;
	if ((err = emit(&o, "", 0)) != RL_OK ||
	    (err = render(root, ctx, NULL, &o)) != RL_OK)
		goto out;
	*out = o.buf;
	o.buf = NULL;
out:
	free(o.buf);
	pfree(&p);
	return err;
}
