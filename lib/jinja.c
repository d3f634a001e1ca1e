/*
 * jinja.c: a small Jinja subset (jinja.h).  The template is parsed whole
 * into a tree first, so a syntax error is reported before anything is
 * rendered, then the tree is walked with the context.  Values are jansson
 * values; an undefined value is a NULL pointer.
 *
 * Every walk here recurses: the expression parser once per parenthesis,
 * subscript or filter argument; eval() once per level of the tree ("a.b.c"
 * is a chain of three nodes); the block parser and render() once per
 * nested {% if %} or {% for %}.  The parser counts all of it against
 * RL_TMPL_EXPR_DEPTH and RL_TMPL_BLOCK_DEPTH (bounds.h), so a template
 * that parses is known to render within those depths and a hostile one
 * ("{{ a.a.a... }}" 17,000 times) is a syntax error, not a stack overflow.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bounds.h"
#include "buf.h"
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
	int		 depth;	/* levels of this tree: 1 for a leaf */
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
	int		 depth;	/* blocks open, the template itself is 1 */
	/* The line of the tag just read, for errors. */
	int		 line;
	/* Where lineof() last counted to, so that counting stays linear. */
	size_t		 linepos;
	int		 lineno;
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
	struct rl_buf	 b;	/* at most RL_JINJA_OUT_MAX */
	long		 iters;
	long		 steps;	/* eval() calls, against RL_JINJA_MAX_STEPS */
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

/*
 * The line of pos.  Tags are read in order, so counting goes on from the
 * previous call: a template of many tags costs one pass, not one per tag.
 */
static int
lineof(struct parser *p, size_t pos)
{

	if (pos < p->linepos) {
		p->linepos = 0;
		p->lineno = 1;
	}
	for (; p->linepos < pos && p->linepos < p->srclen; p->linepos++)
		if (p->src[p->linepos] == '\n')
			p->lineno++;
	return p->lineno;
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

static enum rl_err
toodeep(struct parser *p)
{

	return perr(p, "expression trop imbriquée (au plus %d niveaux)",
	    RL_TMPL_EXPR_DEPTH);
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
	x->depth = 1;
	return x;
}

/*
 * Give x, whose operands are set, its depth: one more than its deepest
 * operand.  eval() recurses once per level, so this is what bounds it;
 * NULL past RL_TMPL_EXPR_DEPTH.
 */
static struct expr *
seal(struct lex *l, struct expr *x)
{
	int	 d = 0, i;

	if (x->a != NULL && x->a->depth > d)
		d = x->a->depth;
	if (x->b != NULL && x->b->depth > d)
		d = x->b->depth;
	for (i = 0; i < x->nargs; i++)
		if (x->args[i] != NULL && x->args[i]->depth > d)
			d = x->args[i]->depth;
	x->depth = d + 1;
	if (x->depth > RL_TMPL_EXPR_DEPTH) {
		(void)toodeep(l->p);
		return NULL;
	}
	return x;
}

/*
 * The expression parser: parse_or > parse_and > parse_not > parse_cmp >
 * parse_filtered > parse_primary.  depth counts the nesting the parser
 * itself recurses on (parentheses, subscripts, filter arguments) and the
 * "not" in front, starting at 1; the trees it builds are bounded by
 * seal().
 */
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

/*
 * A number literal; an integer only when intonly, for "a.0.1" (a[0][1],
 * as Jinja's lexer reads it, not a[0.1]).
 */
static struct expr *
parse_number(struct lex *l, int intonly)
{
	struct expr	*x;
	char		 buf[64];
	size_t		 n = 0;
	int		 isreal = 0;
	char		*endp;

	while (l->s < l->end && n + 1 < sizeof(buf) &&
	    (isdigit((unsigned char)*l->s) || (*l->s == '.' && !intonly) ||
	    (n == 0 && *l->s == '-' && !intonly))) {
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

	if (depth > RL_TMPL_EXPR_DEPTH) {
		(void)toodeep(l->p);
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
		x = parse_number(l, 0);
	else if (isname0((unsigned char)*l->s)) {
		/*
		 * Read into the node, not a local buffer: this frame is on
		 * the stack once per nested parenthesis.
		 */
		if ((x = newexpr(l, E_NAME)) == NULL)
			return NULL;
		if (!name(l, x->name, sizeof(x->name))) {
			(void)perr(l->p, "nom trop long près de « %.20s »",
			    l->s);
			return NULL;
		}
		if (strcmp(x->name, "true") == 0 ||
		    strcmp(x->name, "True") == 0)
			x->lit = json_true();
		else if (strcmp(x->name, "false") == 0 ||
		    strcmp(x->name, "False") == 0)
			x->lit = json_false();
		else if (strcmp(x->name, "none") == 0 ||
		    strcmp(x->name, "None") == 0)
			x->lit = json_null();
		if (x->lit != NULL)
			x->type = E_LIT;
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
					if ((y->b = parse_number(l, 1)) ==
					    NULL)
						return NULL;
				} else {
					(void)perr(l->p, "nom attendu après "
					    "« . »");
					return NULL;
				}
			}
			y->a = x;
			if ((x = seal(l, y)) == NULL)
				return NULL;
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
			if ((x = seal(l, y)) == NULL)
				return NULL;
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
		if ((x = seal(l, f)) == NULL)
			return NULL;
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
	return seal(l, c);
}

/*
 * "not not ... x": a loop, not a recursion, since nothing separates the
 * words.  Each "not" is a level for the parser and for the tree.
 */
static struct expr *
parse_not(struct lex *l, int depth)
{
	struct expr	*top = NULL, **hole = &top, *x;
	int		 n = 0, d;

	while (word(l, "not")) {
		if (depth + ++n > RL_TMPL_EXPR_DEPTH) {
			(void)toodeep(l->p);
			return NULL;
		}
		if ((x = newexpr(l, E_NOT)) == NULL)
			return NULL;
		*hole = x;
		hole = &x->a;
	}
	if ((*hole = parse_cmp(l, depth + n)) == NULL)
		return NULL;
	/* Depths from the inside out: the operand's, plus one per "not". */
	for (x = top, d = n; x != *hole; x = x->a, d--)
		if ((x->depth = (*hole)->depth + d) > RL_TMPL_EXPR_DEPTH) {
			(void)toodeep(l->p);
			return NULL;
		}
	return top;
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
		if ((y->b = parse_not(l, depth)) == NULL ||
		    (x = seal(l, y)) == NULL)
			return NULL;
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
		if ((y->b = parse_and(l, depth)) == NULL ||
		    (x = seal(l, y)) == NULL)
			return NULL;
	}
	return x;
}

/* A whole expression filling [s, end). */
static struct expr *
parse_expr(struct parser *p, const char *s, const char *end)
{
	struct lex	 l = { s, end, p };
	struct expr	*x;

	if ((x = parse_or(&l, 1)) == NULL)
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
	int		 open = p->line;	/* the tag that opened it */

	*first = NULL;
	/* render() recurses as this does: one level per open block. */
	if (++p->depth > RL_TMPL_BLOCK_DEPTH + 1)
		return perr(p, "blocs {%% if %%}/{%% for %%} trop imbriqués "
		    "(au plus %d l'un dans l'autre)", RL_TMPL_BLOCK_DEPTH);
	for (;;) {
		if ((pc = next_piece(p, &ts, &te)) == P_ERR)
			return p->e->code;
		if (pc == P_END) {
			/* The block's own line: the last tag's is not it. */
			if (stop != NULL) {
				p->line = open;
				return perr(p, "bloc non fermé (attendu: %s)",
				    stop);
			}
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

/* Append to the output, the failure worded for the coordo. */
static enum rl_err
emit(struct out *o, const char *s, size_t n)
{

	switch (rl_buf_add(&o->b, s, n)) {
	case RL_OK:
		return RL_OK;
	case RL_ETOOBIG:
		return rl_error_set(o->e, RL_ETOOBIG,
		    "template: texte rendu trop long (plus de %d octets)",
		    RL_JINJA_OUT_MAX);
	default:
		return rl_error_set(o->e, RL_ENOMEM, "out of memory");
	}
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
			struct out	 j = { .e = o->e };

			rl_buf_init(&j.b, RL_JINJA_OUT_MAX);
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
				r = json_string(rl_buf_str(&j.b));
			else
				*fail = 1;
			rl_buf_free(&j.b);
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

	/*
	 * Iterations are capped, but a loop body may hold thousands of
	 * expressions: count them too, so no template pins a worker.
	 */
	if (++o->steps > RL_JINJA_MAX_STEPS) {
		if (!*fail)
			(void)rl_error_set(o->e, RL_ETOOBIG, "template: trop "
			    "d'opérations (plus de %d)", RL_JINJA_MAX_STEPS);
		*fail = 1;
		return NULL;
	}
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

/*
 * Parse tmpl whole into *root; the nodes belong to p (pfree()).  Nothing
 * past this point can fail on the template's shape: only on its values
 * (output size, iterations, memory).
 */
static enum rl_err
parse(struct parser *p, const char *tmpl, struct node **root,
    struct rl_error *e)
{

	*root = NULL;
	memset(p, 0, sizeof(*p));
	p->e = e;
	p->src = tmpl != NULL ? tmpl : "";
	p->srclen = strlen(p->src);
	p->line = 1;
	p->lineno = 1;
	if (p->srclen > RL_JINJA_SRC_MAX)
		return rl_error_set(e, RL_ETOOBIG, "template: plus de %d "
		    "octets", RL_JINJA_SRC_MAX);
	/* Jinja drops one trailing newline (keep_trailing_newline=False). */
	if (p->srclen > 0 && p->src[p->srclen - 1] == '\n')
		p->srclen--;
	return parse_block(p, root, NULL, NULL, 0, NULL, NULL);
}

enum rl_err
rl_jinja_check(const char *tmpl, struct rl_error *e)
{
	struct parser	 p;
	struct node	*root;
	enum rl_err	 err;

	err = parse(&p, tmpl, &root, e);
	pfree(&p);
	return err;
}

enum rl_err
rl_jinja_render(const char *tmpl, const json_t *ctx, char **out,
    struct rl_error *e)
{
	struct parser	 p;
	struct out	 o;
	struct node	*root;
	enum rl_err	 err;

	*out = NULL;
	memset(&o, 0, sizeof(o));
	rl_buf_init(&o.b, RL_JINJA_OUT_MAX);
	o.e = e;
	if ((err = parse(&p, tmpl, &root, e)) != RL_OK)
		goto out;
	if ((err = emit(&o, "", 0)) != RL_OK ||
	    (err = render(root, ctx, NULL, &o)) != RL_OK)
		goto out;
	if ((*out = rl_buf_take(&o.b, NULL)) == NULL)
		err = rl_error_set(e, RL_ENOMEM, "out of memory");
out:
	rl_buf_free(&o.b);
	pfree(&p);
	return err;
}
