/*
 * schema_re.c: the ECMA-262 regular expressions that JSON Schema "pattern"
 * uses, without flags (no "u" or "m"): literals, ".", classes with ranges,
 * \d \w \s and their negations, \b \B, ^ $, groups, alternation, * + ?
 * {n,m} and their lazy forms.  Lookaround, backreferences and \p{..} are
 * refused when the schema loads.  The pattern compiles to a small program
 * run by a Pike VM (Thompson's construction): time linear in the input,
 * no recursion while matching, and a step cap on top.  libc regex is not
 * used: POSIX semantics differ (\d, $, leftmost-longest).
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"
#include "schema.h"

enum {
	OP_CHAR, OP_ANY, OP_CLASS, OP_SPLIT, OP_JMP, OP_BOL, OP_EOL,
	OP_WORDB, OP_NWORDB, OP_MATCH
};

struct insn {
	int		 op;
	uint32_t	 c;	/* OP_CHAR; OP_CLASS: class index */
	int		 x, y;	/* OP_SPLIT / OP_JMP targets */
};

struct range {
	uint32_t	 lo, hi;
};

struct cclass {
	struct range	*r;
	size_t		 n;
	int		 neg;
};

/* Parse tree, kept only while compiling. */
enum { N_LIT, N_ANY, N_CLASS, N_CAT, N_ALT, N_REP, N_BOL, N_EOL, N_WB,
	N_NWB, N_EMPTY };

struct node {
	int		 type;
	uint32_t	 c;
	int		 min, max;	/* N_REP; max -1: unbounded */
	int		 a, b;		/* children (N_CAT, N_ALT: a, b) */
};

#define RE_MAX_NODES	4096
#define RE_MAX_NEST	64
#define RE_MAX_REPEAT	1000

struct rl_schema_re {
	struct insn	*prog;
	size_t		 nprog;
	struct cclass	*cls;
	size_t		 ncls;
};

struct parser {
	const char	*p;
	struct node	*nodes;
	size_t		 nnodes;
	struct rl_schema_re *re;
	char		*err;
	size_t		 errsz;
	int		 nest;
	int		 failed;
};

static int	parse_alt(struct parser *);

static int
fail(struct parser *ps, const char *msg)
{

	if (!ps->failed)
		(void)snprintf(ps->err, ps->errsz, "%s", msg);
	ps->failed = 1;
	return -1;
}

static int
newnode(struct parser *ps, int type)
{
	struct node	*n;

	if (ps->nnodes >= RE_MAX_NODES)
		return fail(ps, "pattern too long");
	n = &ps->nodes[ps->nnodes];
	memset(n, 0, sizeof(*n));
	n->type = type;
	n->a = n->b = -1;
	return (int)ps->nnodes++;
}

/* Decode one UTF-8 code point; jansson guarantees valid UTF-8. */
static uint32_t
utf8_next(const char **sp, const char *end)
{
	const unsigned char	*s = (const unsigned char *)*sp;
	uint32_t		 c;
	int			 n, i;

	if (s[0] < 0x80) {
		*sp += 1;
		return s[0];
	}
	if ((s[0] & 0xe0) == 0xc0) {
		c = s[0] & 0x1f;
		n = 1;
	} else if ((s[0] & 0xf0) == 0xe0) {
		c = s[0] & 0x0f;
		n = 2;
	} else {
		c = s[0] & 0x07;
		n = 3;
	}
	for (i = 1; i <= n && (const char *)s + i < end; i++)
		c = (c << 6) | (s[i] & 0x3f);
	*sp += i;
	return c;
}

size_t
rl_schema_utf8_len(const char *s, size_t len)
{
	size_t	 i, n = 0;

	for (i = 0; i < len; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			n++;
	return n;
}

static int
add_range(struct cclass *cc, uint32_t lo, uint32_t hi)
{
	struct range	*r;

	if ((r = realloc(cc->r, (cc->n + 1) * sizeof(*r))) == NULL)
		return -1;
	cc->r = r;
	r[cc->n].lo = lo;
	r[cc->n].hi = hi;
	cc->n++;
	return 0;
}

/* \s of ECMA-262: WhiteSpace and LineTerminator. */
static const struct range space_r[] = {
	{ 0x09, 0x0d }, { 0x20, 0x20 }, { 0xa0, 0xa0 }, { 0x1680, 0x1680 },
	{ 0x2000, 0x200a }, { 0x2028, 0x2029 }, { 0x202f, 0x202f },
	{ 0x205f, 0x205f }, { 0x3000, 0x3000 }, { 0xfeff, 0xfeff }
};
static const struct range digit_r[] = { { '0', '9' } };
static const struct range word_r[] = {
	{ '0', '9' }, { 'A', 'Z' }, { '_', '_' }, { 'a', 'z' }
};

static int
add_set(struct cclass *cc, const struct range *r, size_t n, int neg)
{
	uint32_t	 lo = 0;
	size_t		 i;

	if (!neg) {
		for (i = 0; i < n; i++)
			if (add_range(cc, r[i].lo, r[i].hi) == -1)
				return -1;
		return 0;
	}
	/* The complement of a sorted, disjoint table. */
	for (i = 0; i < n; i++) {
		if (r[i].lo > lo && add_range(cc, lo, r[i].lo - 1) == -1)
			return -1;
		lo = r[i].hi + 1;
	}
	return add_range(cc, lo, 0x10ffff);
}

/* The class for \d \D \w \W \s \S, or 0 when c is none of them. */
static int
class_escape(struct cclass *cc, char c)
{
	switch (c) {
	case 'd':
	case 'D':
		return add_set(cc, digit_r, 1, c == 'D') == -1 ? -1 : 1;
	case 'w':
	case 'W':
		return add_set(cc, word_r, 4, c == 'W') == -1 ? -1 : 1;
	case 's':
	case 'S':
		return add_set(cc, space_r, sizeof(space_r) /
		    sizeof(space_r[0]), c == 'S') == -1 ? -1 : 1;
	}
	return 0;
}

/*
 * A character escape after the backslash (not a class escape): sets *c.
 * inclass: \b is a backspace there, and \- is allowed.
 */
static int
char_escape(struct parser *ps, uint32_t *c, int inclass)
{
	int	 i, h;
	char	 e = *ps->p;

	if (e == '\0')
		return fail(ps, "pattern ends with a backslash");
	ps->p++;
	switch (e) {
	case 't': *c = '\t'; return 0;
	case 'n': *c = '\n'; return 0;
	case 'r': *c = '\r'; return 0;
	case 'f': *c = '\f'; return 0;
	case 'v': *c = '\v'; return 0;
	case '0':
		if (*ps->p >= '0' && *ps->p <= '9')
			return fail(ps, "octal escapes are not supported");
		*c = 0;
		return 0;
	case 'c':
		if ((*ps->p >= 'a' && *ps->p <= 'z') ||
		    (*ps->p >= 'A' && *ps->p <= 'Z')) {
			*c = (uint32_t)(*ps->p++ % 32);
			return 0;
		}
		return fail(ps, "bad \\c escape");
	case 'x':
	case 'u':
		*c = 0;
		for (i = 0; i < (e == 'x' ? 2 : 4); i++) {
			if ((h = rl_hexval(ps->p[i])) == -1)
				return fail(ps, "bad hexadecimal escape");
			*c = *c * 16 + (uint32_t)h;
		}
		ps->p += i;
		return 0;
	case 'b':
		if (inclass) {
			*c = 8;
			return 0;
		}
		break;
	case 'p':
	case 'P':
		return fail(ps, "unicode property escapes are not supported");
	case 'k':
		return fail(ps, "backreferences are not supported");
	default:
		if (e >= '1' && e <= '9')
			return fail(ps, "backreferences are not supported");
		if (strchr("^$\\.*+?()[]{}|/", e) != NULL ||
		    (inclass && e == '-')) {
			*c = (uint32_t)(unsigned char)e;
			return 0;
		}
		break;
	}
	return fail(ps, "unsupported escape in pattern");
}

static int
parse_class(struct parser *ps)
{
	struct cclass	*cc, *ncls;
	uint32_t	 lo, hi;
	int		 id, r, isset;

	if ((ncls = realloc(ps->re->cls, (ps->re->ncls + 1) *
	    sizeof(*ncls))) == NULL)
		return fail(ps, "out of memory");
	ps->re->cls = ncls;
	cc = &ncls[ps->re->ncls];
	memset(cc, 0, sizeof(*cc));
	ps->re->ncls++;
	if (*ps->p == '^') {
		cc->neg = 1;
		ps->p++;
	}
	while (*ps->p != ']') {
		if (*ps->p == '\0')
			return fail(ps, "unterminated character class");
		isset = 0;
		if (*ps->p == '\\') {
			ps->p++;
			if ((r = class_escape(cc, *ps->p)) == -1)
				return fail(ps, "out of memory");
			if (r == 1) {
				ps->p++;
				isset = 1;
			} else if (char_escape(ps, &lo, 1) == -1)
				return -1;
		} else
			lo = utf8_next(&ps->p, ps->p + strlen(ps->p));
		if (isset)
			continue;
		hi = lo;
		if (ps->p[0] == '-' && ps->p[1] != ']' && ps->p[1] != '\0') {
			ps->p++;
			if (*ps->p == '\\') {
				ps->p++;
				if (strchr("dDwWsS", *ps->p) != NULL)
					return fail(ps, "class escape in a "
					    "range");
				if (char_escape(ps, &hi, 1) == -1)
					return -1;
			} else
				hi = utf8_next(&ps->p, ps->p +
				    strlen(ps->p));
			if (hi < lo)
				return fail(ps, "range out of order in "
				    "character class");
		}
		if (add_range(cc, lo, hi) == -1)
			return fail(ps, "out of memory");
	}
	ps->p++;
	if ((id = newnode(ps, N_CLASS)) == -1)
		return -1;
	ps->nodes[id].c = (uint32_t)(ps->re->ncls - 1);
	return id;
}

static int
parse_atom(struct parser *ps)
{
	struct cclass	*ncls;
	uint32_t	 c;
	int		 id, r;

	switch (*ps->p) {
	case '(':
		ps->p++;
		if (ps->p[0] == '?') {
			if (ps->p[1] == ':')
				ps->p += 2;
			else if (ps->p[1] == '<' && ps->p[2] != '=' &&
			    ps->p[2] != '!') {
				/* Named group: the name does not matter. */
				while (*ps->p != '>' && *ps->p != '\0')
					ps->p++;
				if (*ps->p == '\0')
					return fail(ps, "bad group name");
				ps->p++;
			} else
				return fail(ps, "lookaround assertions are "
				    "not supported");
		}
		if (++ps->nest > RE_MAX_NEST)
			return fail(ps, "groups nested too deep");
		if ((id = parse_alt(ps)) == -1)
			return -1;
		ps->nest--;
		if (*ps->p != ')')
			return fail(ps, "missing )");
		ps->p++;
		return id;
	case '[':
		ps->p++;
		return parse_class(ps);
	case '.':
		ps->p++;
		return newnode(ps, N_ANY);
	case '^':
		ps->p++;
		return newnode(ps, N_BOL);
	case '$':
		ps->p++;
		return newnode(ps, N_EOL);
	case '\\':
		ps->p++;
		if (*ps->p == 'b' || *ps->p == 'B')
			return newnode(ps, *ps->p++ == 'b' ? N_WB : N_NWB);
		if (strchr("dDwWsS", *ps->p) != NULL && *ps->p != '\0') {
			if ((ncls = realloc(ps->re->cls, (ps->re->ncls + 1) *
			    sizeof(*ncls))) == NULL)
				return fail(ps, "out of memory");
			ps->re->cls = ncls;
			memset(&ncls[ps->re->ncls], 0, sizeof(*ncls));
			r = class_escape(&ncls[ps->re->ncls], *ps->p++);
			ps->re->ncls++;
			if (r == -1)
				return fail(ps, "out of memory");
			if ((id = newnode(ps, N_CLASS)) == -1)
				return -1;
			ps->nodes[id].c = (uint32_t)(ps->re->ncls - 1);
			return id;
		}
		if (char_escape(ps, &c, 0) == -1)
			return -1;
		break;
	case '*':
	case '+':
	case '?':
		return fail(ps, "nothing to repeat");
	case '{':
	case '}':
	case ']':
		/* Annex B allows these as literals; so do we. */
		c = (uint32_t)(unsigned char)*ps->p++;
		break;
	default:
		c = utf8_next(&ps->p, ps->p + strlen(ps->p));
		break;
	}
	if ((id = newnode(ps, N_LIT)) == -1)
		return -1;
	ps->nodes[id].c = c;
	return id;
}

static int
parse_int(const char **pp, int *v)
{
	const char	*p = *pp;
	long		 n = 0;

	if (*p < '0' || *p > '9')
		return -1;
	while (*p >= '0' && *p <= '9') {
		n = n * 10 + (*p++ - '0');
		if (n > RE_MAX_REPEAT)
			n = RE_MAX_REPEAT + 1;
	}
	*v = (int)n;
	*pp = p;
	return 0;
}

/* {n}, {n,}, {n,m}; returns 0 and moves on, or 1 if not a quantifier. */
static int
parse_brace(struct parser *ps, int *min, int *max)
{
	const char	*p = ps->p + 1;

	if (parse_int(&p, min) == -1)
		return 1;
	*max = *min;
	if (*p == ',') {
		p++;
		if (*p == '}')
			*max = -1;
		else if (parse_int(&p, max) == -1)
			return 1;
	}
	if (*p != '}')
		return 1;
	ps->p = p + 1;
	return 0;
}

static int
parse_repeat(struct parser *ps)
{
	int	 atom, id, min, max, t;

	if ((atom = parse_atom(ps)) == -1)
		return -1;
	for (;;) {
		switch (*ps->p) {
		case '*':
			min = 0, max = -1;
			ps->p++;
			break;
		case '+':
			min = 1, max = -1;
			ps->p++;
			break;
		case '?':
			min = 0, max = 1;
			ps->p++;
			break;
		case '{':
			if (parse_brace(ps, &min, &max) == 1)
				return atom;
			break;
		default:
			return atom;
		}
		if (min > RE_MAX_REPEAT || max > RE_MAX_REPEAT)
			return fail(ps, "repetition count too large");
		if (max != -1 && max < min)
			return fail(ps, "numbers out of order in {} "
			    "quantifier");
		t = ps->nodes[atom].type;
		if (t == N_BOL || t == N_EOL || t == N_WB || t == N_NWB)
			return fail(ps, "nothing to repeat");
		if (*ps->p == '?')	/* lazy: same language */
			ps->p++;
		if ((id = newnode(ps, N_REP)) == -1)
			return -1;
		ps->nodes[id].a = atom;
		ps->nodes[id].min = min;
		ps->nodes[id].max = max;
		atom = id;
	}
}

static int
parse_cat(struct parser *ps)
{
	int	 left = -1, right, id;

	while (*ps->p != '\0' && *ps->p != '|' && *ps->p != ')') {
		if ((right = parse_repeat(ps)) == -1)
			return -1;
		if (left == -1) {
			left = right;
			continue;
		}
		if ((id = newnode(ps, N_CAT)) == -1)
			return -1;
		ps->nodes[id].a = left;
		ps->nodes[id].b = right;
		left = id;
	}
	return left == -1 ? newnode(ps, N_EMPTY) : left;
}

static int
parse_alt(struct parser *ps)
{
	int	 left, right, id;

	if ((left = parse_cat(ps)) == -1)
		return -1;
	while (*ps->p == '|') {
		ps->p++;
		if ((right = parse_cat(ps)) == -1)
			return -1;
		if ((id = newnode(ps, N_ALT)) == -1)
			return -1;
		ps->nodes[id].a = left;
		ps->nodes[id].b = right;
		left = id;
	}
	return left;
}

static int
emit(struct parser *ps, int op)
{
	struct rl_schema_re	*re = ps->re;

	if (re->nprog >= RL_SCHEMA_RE_MAX_INSNS)
		return fail(ps, "pattern compiles to too many instructions");
	memset(&re->prog[re->nprog], 0, sizeof(re->prog[0]));
	re->prog[re->nprog].op = op;
	return (int)re->nprog++;
}

/* Depth is bounded by RE_MAX_NEST and the node count. */
static int
gen(struct parser *ps, int n, int depth)
{
	struct node	*nd = &ps->nodes[n];
	struct insn	*prog;
	int		 i, s, j, k, L;

	if (depth > RE_MAX_NODES)
		return fail(ps, "pattern too complex");
	switch (nd->type) {
	case N_LIT:
		if ((i = emit(ps, OP_CHAR)) == -1)
			return -1;
		ps->re->prog[i].c = nd->c;
		return 0;
	case N_ANY:
		return emit(ps, OP_ANY) == -1 ? -1 : 0;
	case N_CLASS:
		if ((i = emit(ps, OP_CLASS)) == -1)
			return -1;
		ps->re->prog[i].c = nd->c;
		return 0;
	case N_BOL:
		return emit(ps, OP_BOL) == -1 ? -1 : 0;
	case N_EOL:
		return emit(ps, OP_EOL) == -1 ? -1 : 0;
	case N_WB:
		return emit(ps, OP_WORDB) == -1 ? -1 : 0;
	case N_NWB:
		return emit(ps, OP_NWORDB) == -1 ? -1 : 0;
	case N_EMPTY:
		return 0;
	case N_CAT:
		if (gen(ps, nd->a, depth + 1) == -1)
			return -1;
		return gen(ps, nd->b, depth + 1);
	case N_ALT:
		if ((s = emit(ps, OP_SPLIT)) == -1)
			return -1;
		ps->re->prog[s].x = s + 1;
		if (gen(ps, nd->a, depth + 1) == -1)
			return -1;
		if ((j = emit(ps, OP_JMP)) == -1)
			return -1;
		ps->re->prog[s].y = (int)ps->re->nprog;
		if (gen(ps, nd->b, depth + 1) == -1)
			return -1;
		ps->re->prog[j].x = (int)ps->re->nprog;
		return 0;
	case N_REP:
		for (k = 0; k < nd->min; k++)
			if (gen(ps, nd->a, depth + 1) == -1)
				return -1;
		if (nd->max == -1) {
			if ((L = emit(ps, OP_SPLIT)) == -1)
				return -1;
			if (gen(ps, nd->a, depth + 1) == -1)
				return -1;
			if ((j = emit(ps, OP_JMP)) == -1)
				return -1;
			prog = ps->re->prog;
			prog[j].x = L;
			prog[L].x = L + 1;
			prog[L].y = (int)ps->re->nprog;
			return 0;
		}
		for (k = nd->min; k < nd->max; k++) {
			if ((s = emit(ps, OP_SPLIT)) == -1)
				return -1;
			if (gen(ps, nd->a, depth + 1) == -1)
				return -1;
			ps->re->prog[s].x = s + 1;
			ps->re->prog[s].y = (int)ps->re->nprog;
		}
		return 0;
	}
	return fail(ps, "internal error");
}

struct rl_schema_re *
rl_schema_re_compile(const char *pat, char *err, size_t errsz)
{
	struct parser		 ps;
	struct rl_schema_re	*re;
	int			 root;

	memset(&ps, 0, sizeof(ps));
	ps.err = err;
	ps.errsz = errsz;
	ps.p = pat;
	if ((re = calloc(1, sizeof(*re))) == NULL ||
	    (ps.nodes = calloc(RE_MAX_NODES, sizeof(*ps.nodes))) == NULL ||
	    (re->prog = calloc(RL_SCHEMA_RE_MAX_INSNS,
	    sizeof(*re->prog))) == NULL) {
		(void)snprintf(err, errsz, "out of memory");
		goto fail;
	}
	ps.re = re;
	if ((root = parse_alt(&ps)) == -1)
		goto fail;
	if (*ps.p != '\0') {
		fail(&ps, "unmatched )");
		goto fail;
	}
	if (gen(&ps, root, 0) == -1 || emit(&ps, OP_MATCH) == -1)
		goto fail;
	free(ps.nodes);
	return re;
fail:
	free(ps.nodes);
	rl_schema_re_free(re);
	return NULL;
}

void
rl_schema_re_free(struct rl_schema_re *re)
{
	size_t	 i;

	if (re == NULL)
		return;
	for (i = 0; i < re->ncls; i++)
		free(re->cls[i].r);
	free(re->cls);
	free(re->prog);
	free(re);
}

static int
isword(uint32_t c)
{

	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z') || c == '_';
}

static int
class_has(const struct cclass *cc, uint32_t c)
{
	size_t	 i;
	int	 in = 0;

	for (i = 0; i < cc->n && !in; i++)
		if (c >= cc->r[i].lo && c <= cc->r[i].hi)
			in = 1;
	return in != cc->neg;
}

struct tlist {
	int	*pc;
	size_t	 n;
};

/*
 * Adds pc and everything reachable through jumps, splits and assertions
 * that hold at this position.  An explicit stack, no recursion; mark[]
 * holds the generation so each pc enters a list once per step.
 */
static void
addthread(const struct rl_schema_re *re, struct tlist *l, int pc0,
    unsigned *mark, unsigned gen, int *stack, uint32_t prev, uint32_t cur,
    int atstart, int atend, size_t *steps)
{
	const struct insn	*in;
	size_t			 sp = 0;
	int			 pc, wb;

	stack[sp++] = pc0;
	while (sp > 0) {
		pc = stack[--sp];
		if (mark[pc] == gen)
			continue;
		mark[pc] = gen;
		(*steps)++;
		in = &re->prog[pc];
		switch (in->op) {
		case OP_JMP:
			stack[sp++] = in->x;
			break;
		case OP_SPLIT:
			stack[sp++] = in->y;
			stack[sp++] = in->x;
			break;
		case OP_BOL:
			if (atstart)
				stack[sp++] = pc + 1;
			break;
		case OP_EOL:
			if (atend)
				stack[sp++] = pc + 1;
			break;
		case OP_WORDB:
		case OP_NWORDB:
			wb = (!atstart && isword(prev)) !=
			    (!atend && isword(cur));
			if (wb == (in->op == OP_WORDB))
				stack[sp++] = pc + 1;
			break;
		default:
			l->pc[l->n++] = pc;
			break;
		}
	}
}

/*
 * 1 when the pattern matches somewhere in s (ECMA "test" semantics), 0
 * when not, -1 on allocation failure or when the step cap is reached.
 */
int
rl_schema_re_search(const struct rl_schema_re *re, const char *s,
    size_t len)
{
	struct tlist	 a, b, *cl = &a, *nl = &b, *t;
	unsigned	*mark = NULL;
	int		*stack = NULL, rc = -1;
	const char	*p = s, *end = s + len, *q;
	const struct insn *in;
	uint32_t	 prev = 0, cur, nxt;
	unsigned	 gen = 1;
	size_t		 i, steps = 0, n = re->nprog;

	a.pc = calloc(n, sizeof(int));
	b.pc = calloc(n, sizeof(int));
	mark = calloc(n, sizeof(unsigned));
	stack = calloc(2 * n + 2, sizeof(int));
	if (a.pc == NULL || b.pc == NULL || mark == NULL || stack == NULL)
		goto out;
	cl->n = 0;
	for (;;) {
		q = p;
		cur = p < end ? utf8_next(&q, end) : 0;
		/* Unanchored: a new thread starts at every position. */
		addthread(re, cl, 0, mark, gen, stack, prev, cur, p == s,
		    p == end, &steps);
		for (i = 0; i < cl->n; i++)
			if (re->prog[cl->pc[i]].op == OP_MATCH) {
				rc = 1;
				goto out;
			}
		if (p == end) {
			rc = 0;
			goto out;
		}
		gen++;
		nl->n = 0;
		nxt = 0;
		if (q < end) {
			const char *r = q;
			nxt = utf8_next(&r, end);
		}
		for (i = 0; i < cl->n; i++) {
			in = &re->prog[cl->pc[i]];
			if ((in->op == OP_CHAR && in->c == cur) ||
			    (in->op == OP_ANY && cur != '\n' && cur != '\r' &&
			    cur != 0x2028 && cur != 0x2029) ||
			    (in->op == OP_CLASS &&
			    class_has(&re->cls[in->c], cur)))
				addthread(re, nl, cl->pc[i] + 1, mark, gen,
				    stack, cur, nxt, 0, q == end, &steps);
		}
		if (steps > RL_SCHEMA_RE_MAX_STEPS)
			goto out;
		t = cl, cl = nl, nl = t;
		prev = cur;
		p = q;
	}
out:
	free(a.pc);
	free(b.pc);
	free(mark);
	free(stack);
	return rc;
}
