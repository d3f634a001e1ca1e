/*
 * test_jinja: the Jinja subset of plan-cadre section templates (jinja.h):
 * output, attributes, loops, conditions, filters, white-space control,
 * undefined values, syntax errors and the limits, nesting above all: every
 * kind of deep template is refused by the parser with a clear error, one
 * level less renders, and the deepest accepted templates render on a
 * thread with the FastCGI threads' small stack.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "bounds.h"
#include "harness.h"
#include "util.h"
#include "jinja.h"

static json_t	*ctx;

/* Render t and compare with want; want NULL expects an error of code. */
static void
check(const char *t, const char *want, enum rl_err code, const char *what)
{
	struct rl_error	 e;
	char		*out = NULL;
	enum rl_err	 err;

	memset(&e, 0, sizeof(e));
	err = rl_jinja_render(t, ctx, &out, &e);
	if (want != NULL) {
		if (!ok(err == RL_OK && out != NULL && strcmp(out, want) == 0,
		    "%s", what))
			diag("got %.80s (%s), want \"%.80s\"",
			    out ? out : "NULL", e.msg, want);
	} else {
		if (!ok(err == code && out == NULL && e.msg[0] != '\0',
		    "%s", what))
			diag("err %d (%s), out %.80s", err, e.msg,
			    out ? out : "NULL");
	}
	free(out);
}

/*
 * t (freed here) must be refused by the parser, as rl_jinja_check() and
 * as rl_jinja_render(), with RL_EINVAL and a message that says what is
 * too deep and the limit.
 */
static void
toodeep(char *t, const char *kind, int limit, const char *what)
{
	struct rl_error	 e, ec;
	char		*out = NULL, want[64];
	enum rl_err	 err, errc;

	(void)snprintf(want, sizeof(want), "au plus %d", limit);
	memset(&e, 0, sizeof(e));
	memset(&ec, 0, sizeof(ec));
	err = rl_jinja_render(t, ctx, &out, &e);
	errc = rl_jinja_check(t, &ec);
	if (!ok(err == RL_EINVAL && errc == RL_EINVAL && out == NULL &&
	    strstr(e.msg, kind) != NULL && strstr(e.msg, want) != NULL &&
	    strcmp(e.msg, ec.msg) == 0, "%s (%zu bytes) is refused", what,
	    strlen(t)))
		diag("err %d/%d: %s | %s", err, errc, e.msg, ec.msg);
	free(out);
	free(t);
}

/* Like check() for a template to free, that rl_jinja_check() accepts. */
static void
renders(char *t, const char *want, const char *what)
{
	struct rl_error	 e;

	memset(&e, 0, sizeof(e));
	if (!ok(rl_jinja_check(t, &e) == RL_OK, "%s: parses", what))
		diag("%s", e.msg);
	check(t, want, RL_OK, what);
	free(t);
}

/*
 * One expression shape n levels deep: head, unit n times, mid, closer n
 * times.  The shapes are every way an expression nests.
 */
static const char *const shapes[][4] = {
	{ "n", ".a", "", "" },			/* attributes */
	{ "l", "[0]", "", "" },			/* indexes */
	{ "", "(", "vrai", ")" },		/* parentheses */
	{ "", "not ", "vrai", "" },		/* not */
	{ "mots", "|first", "", "" },		/* filters */
	{ "", "mots|default(", "')'", ")" },	/* filter arguments */
	{ "", "x[", "0", "]" },			/* subscripts */
	{ "vrai", " and vrai", "", "" },	/* and */
	{ "rien", " or rien", "", "" },		/* or */
};
#define NSHAPES	(sizeof(shapes) / sizeof(shapes[0]))

static char *
shape(size_t i, size_t n, const char *pre, const char *post)
{
	char	*a, *b, *c;

	a = repeat(pre, shapes[i][0], 1, "");
	b = repeat(a, shapes[i][1], n, shapes[i][2]);
	c = repeat(b, shapes[i][3], n, post);
	free(a);
	free(b);
	return c;
}

/*
 * The deepest expressions the parser accepts, each inside the deepest
 * blocks, on a thread with RL_THREAD_STACK: what a FastCGI thread has
 * when the settings page checks a template (a worker's runner has more).
 * *arg counts those that rendered.
 */
static void *
deepest(void *arg)
{
	struct rl_error	 e;
	char		*pre, *post, *t, *out;
	size_t		 i;
	int		*good = arg;

	pre = repeat("", "{% if vrai %}", RL_TMPL_BLOCK_DEPTH, "{{ ");
	post = repeat(" }}", "{% endif %}", RL_TMPL_BLOCK_DEPTH, "");
	for (i = 0; i < NSHAPES; i++) {
		t = shape(i, RL_TMPL_EXPR_DEPTH - 1, pre, post);
		memset(&e, 0, sizeof(e));
		out = NULL;
		if (rl_jinja_check(t, &e) == RL_OK &&
		    rl_jinja_render(t, ctx, &out, &e) == RL_OK)
			(*good)++;
		else
			diag("shape %zu: %s", i, e.msg);
		free(out);
		free(t);
	}
	free(pre);
	free(post);
	return NULL;
}

int
main(void)
{
	char		*big, *out;
	struct rl_error	 e;
	size_t		 i;
	json_t		*v;
	pthread_attr_t	 attr;
	pthread_t	 tid;
	int		 good = 0;

	ctx = json_pack("{s:{s:s, s:s, s:i, s:i, s:i}, s:s, s:s, "
	    "s:[{s:s, s:s}, {s:s, s:s}], s:[], s:[s, s, s], s:f, s:b, s:n}",
	    "cours", "nom", "Réseaux I", "code", "243-1A1-LI",
	    "heures_theorie", 2, "heures_laboratoire", 3, "heures_maison", 2,
	    "programme", "Technologie", "fil_conducteur", "Non défini",
	    "competences_developpees",
	    "competence_nom", "Installer un réseau", "competence_id", "1",
	    "competence_nom", "Diagnostiquer", "competence_id", "2",
	    "cours_prealables", "mots", "a", "b", "c", "ratio", 2.0,
	    "vrai", 1, "rien");

	check("Cours {{ cours.code }} {{ cours.nom }}",
	    "Cours 243-1A1-LI Réseaux I", RL_OK, "attributes");
	check("{{cours['nom']}}|{{ mots[1] }}|{{ mots.0 }}|{{ mots[-1] }}",
	    "Réseaux I|b|a|c", RL_OK, "index access");
	check("{{ competences_developpees.1.competence_id }}"
	    "{{ mots.2.0 }}{{ mots[1][0] }}", "2cb", RL_OK,
	    "x.1.y and x.2.0 read as Jinja does");
	check("{{ cours.heures_theorie }}h {{ ratio }} {{ vrai }} {{ rien }}",
	    "2h 2.0 True None", RL_OK, "numbers, booleans, none as Python");
	check("[{{ inconnu }}][{{ inconnu.x.y }}][{{ cours.absent }}]",
	    "[][][]", RL_OK, "undefined renders empty");
	check("{% for c in competences_developpees %}- {{ c.competence_nom }}"
	    "\n{% endfor %}", "- Installer un réseau\n- Diagnostiquer\n",
	    RL_OK, "for loop");
	check("{% for m in mots %}{{ loop.index }}{{ m }}{% if not loop.last "
	    "%},{% endif %}{% endfor %}", "1a,2b,3c", RL_OK, "loop variables");
	check("{% for x in cours_prealables %}x{% else %}aucun{% endfor %}",
	    "aucun", RL_OK, "for else on an empty list");
	check("{% for x in inconnu %}x{% endfor %}.", ".", RL_OK,
	    "for over undefined");
	check("{% for a in mots %}{% for b in mots %}{{ a }}{{ b }} "
	    "{% endfor %}{% endfor %}", "aa ab ac ba bb bc ca cb cc ",
	    RL_OK, "nested loops");
	check("{% if cours_prealables %}oui{% else %}non{% endif %}", "non",
	    RL_OK, "empty list is false");
	check("{% if cours.heures_theorie > 1 and cours.code == "
	    "'243-1A1-LI' %}ok{% endif %}", "ok", RL_OK, "comparison, and");
	check("{% if x %}1{% elif cours.heures_laboratoire >= 3 %}2"
	    "{% else %}3{% endif %}", "2", RL_OK, "elif");
	check("{% if 'b' in mots and 'z' not in mots %}in{% endif %}", "in",
	    RL_OK, "in, not in");
	check("{% if not (inconnu or rien) %}vide{% endif %}", "vide", RL_OK,
	    "not, or, parentheses");
	check("{{ mots | join(', ') }}|{{ mots|length }}|"
	    "{{ cours.nom|length }}",
	    "a, b, c|3|9", RL_OK, "join, length (code points)");
	check("{{ inconnu | default('n/d') }}|{{ cours.code|d('x') }}",
	    "n/d|243-1A1-LI", RL_OK, "default");
	check("{{ 'abc'|upper }}{{ 'ABC'|lower }}{{ '  t  '|trim }}"
	    "{{ mots|first }}{{ mots|last }}{{ 'mot'|capitalize }}",
	    "ABCabctacMot", RL_OK, "case and trim filters");
	check("{{ competences_developpees|length }} compétences", "2 "
	    "compétences", RL_OK, "length of a list of objects");
	check("a\n  {%- if true -%}\n  b\n  {%- endif %}\nc", "ab\nc", RL_OK,
	    "white-space control");
	check("x{# un commentaire #}y", "xy", RL_OK, "comments");
	check("fin\n", "fin", RL_OK, "one trailing newline dropped");
	check("{{ mots }}", "[\"a\",\"b\",\"c\"]", RL_OK,
	    "a list prints as JSON");
	check("{{ \"l'été\" }}", "l'été", RL_OK, "double-quoted string");
	check("", "", RL_OK, "empty template");
	check("pas de balise", "pas de balise", RL_OK, "plain text");

	check("{{ cours.nom ", NULL, RL_EINVAL, "unclosed output");
	check("{% if x %}oui", NULL, RL_EINVAL, "unclosed if");
	check("{% for x in %}{% endfor %}", NULL, RL_EINVAL,
	    "for without list");
	check("{% set x = 1 %}", NULL, RL_EINVAL, "unsupported tag");
	check("{{ x|frobnicate }}", NULL, RL_EINVAL, "unknown filter");
	check("{{ x y }}", NULL, RL_EINVAL, "trailing garbage");
	check("{% endif %}", NULL, RL_EINVAL, "stray endif");
	check("{{ 'abc }}", NULL, RL_EINVAL, "unterminated string");

	memset(&e, 0, sizeof(e));
	out = NULL;
	ok(rl_jinja_render("a\n{% if %}", ctx, &out, &e) == RL_EINVAL &&
	    strstr(e.msg, "ligne 2") != NULL, "the error names the line");
	memset(&e, 0, sizeof(e));
	ok(rl_jinja_check("a\n{% for c in l %}\n{{ c }}\n{{ d }}\n", &e) ==
	    RL_EINVAL && strstr(e.msg, "non fermé") != NULL &&
	    strstr(e.msg, "ligne 2") != NULL,
	    "an unclosed block names the line that opened it");
	memset(&e, 0, sizeof(e));
	ok(rl_jinja_check("{% if a %}\n{% if b %}x{% endif %}\n", &e) ==
	    RL_EINVAL && strstr(e.msg, "ligne 1") != NULL,
	    "the outer unclosed block, not the inner closed one");
	memset(&e, 0, sizeof(e));
	ok(rl_jinja_check("a\n\n{{ x | rot13 }}", &e) == RL_EINVAL &&
	    strstr(e.msg, "ligne 3") != NULL,
	    "check only: an unknown filter and its line");

	/*
	 * Nesting (issue 14): the shapes that overflowed the stack, at the
	 * size of the reports and just past the limit; one level less
	 * renders.  n.a.a... and l[0][0]... are as deep as the deepest
	 * accepted chain reads.
	 */
	v = json_string("fond");
	for (i = 0; i < RL_TMPL_EXPR_DEPTH - 1; i++)
		v = json_pack("{s:o}", "a", v);
	json_object_set_new(ctx, "n", v);
	v = json_string("fond");
	for (i = 0; i < RL_TMPL_EXPR_DEPTH - 1; i++)
		v = json_pack("[o]", v);
	json_object_set_new(ctx, "l", v);
	json_object_set_new(ctx, "un", json_pack("[s]", "u"));

	toodeep(repeat("{{ cours", ".a", 17000, " }}"), "expression trop "
	    "imbriquée", RL_TMPL_EXPR_DEPTH, "17,000 attribute hops");
	toodeep(repeat("{{ x", "[0]", 20000, " }}"), "expression trop "
	    "imbriquée", RL_TMPL_EXPR_DEPTH, "20,000 index operations");
	toodeep(repeat("{{ x", ".0", 20000, " }}"), "expression trop "
	    "imbriquée", RL_TMPL_EXPR_DEPTH, "20,000 x.0 hops");
	big = repeat("{{ ", "(", 20000, "x");
	toodeep(repeat(big, ")", 20000, " }}"), "expression trop imbriquée",
	    RL_TMPL_EXPR_DEPTH, "20,000 parentheses");
	free(big);
	toodeep(repeat("{{ ", "(", 20000, "x }}"), "expression trop "
	    "imbriquée", RL_TMPL_EXPR_DEPTH, "20,000 unclosed parentheses");
	toodeep(repeat("{% if ", "not ", 15000, "x %}{% endif %}"),
	    "expression trop imbriquée", RL_TMPL_EXPR_DEPTH,
	    "15,000 not");
	toodeep(repeat("{{ x", "|upper", 10000, " }}"), "expression trop "
	    "imbriquée", RL_TMPL_EXPR_DEPTH, "10,000 filters");
	toodeep(repeat("{{ ", "x|default(", 6000, "x }}"), "expression trop "
	    "imbriquée", RL_TMPL_EXPR_DEPTH, "6,000 nested filter arguments");
	toodeep(repeat("{{ ", "x[", 20000, "0 }}"), "expression trop "
	    "imbriquée", RL_TMPL_EXPR_DEPTH, "20,000 nested subscripts");
	toodeep(repeat("{{ x", " and x", 10000, " }}"), "expression trop "
	    "imbriquée", RL_TMPL_EXPR_DEPTH, "10,000 and");
	toodeep(repeat("{{ x", " or x", 10000, " }}"), "expression trop "
	    "imbriquée", RL_TMPL_EXPR_DEPTH, "10,000 or");
	toodeep(repeat("{% for y in x", "|d(x)", 10000, " %}{% endfor %}"),
	    "expression trop imbriquée", RL_TMPL_EXPR_DEPTH,
	    "10,000 filters in a for");
	toodeep(repeat("", "{%if 1%}", 8000, ""), "blocs", RL_TMPL_BLOCK_DEPTH,
	    "8,000 nested if");
	toodeep(repeat("", "{% for a in l %}", 4000, ""), "blocs",
	    RL_TMPL_BLOCK_DEPTH, "4,000 nested for");
	big = repeat("", "{% if 1 %}{% else %}", RL_TMPL_BLOCK_DEPTH + 1, "");
	toodeep(big, "blocs", RL_TMPL_BLOCK_DEPTH,
	    "else blocks one past the limit");

	/* Each shape just past the limit, then one level less. */
	for (i = 0; i < NSHAPES; i++)
		toodeep(shape(i, RL_TMPL_EXPR_DEPTH, "{{ ", " }}"),
		    "expression trop imbriquée", RL_TMPL_EXPR_DEPTH,
		    shapes[i][1]);
	for (i = 0; i < NSHAPES; i++) {
		big = shape(i, RL_TMPL_EXPR_DEPTH - 1, "{{ ", " }}");
		memset(&e, 0, sizeof(e));
		ok(rl_jinja_check(big, &e) == RL_OK, "%s: %d levels parse",
		    shapes[i][1], RL_TMPL_EXPR_DEPTH);
		free(big);
	}
	renders(shape(0, RL_TMPL_EXPR_DEPTH - 1, "{{ ", " }}"), "fond",
	    "the deepest attribute chain renders");
	renders(shape(1, RL_TMPL_EXPR_DEPTH - 1, "{{ ", " }}"), "fond",
	    "the deepest index chain renders");
	renders(repeat("{{ l", ".0", RL_TMPL_EXPR_DEPTH - 1, " }}"), "fond",
	    "the deepest x.0 chain renders");
	renders(shape(2, RL_TMPL_EXPR_DEPTH - 1, "{{ ", " }}"), "True",
	    "the deepest parentheses render");
	/* An odd count of not: the opposite. */
	renders(shape(3, RL_TMPL_EXPR_DEPTH - 1, "{{ ", " }}"), "False",
	    "the deepest not renders");
	renders(shape(5, RL_TMPL_EXPR_DEPTH - 1, "{{ ", " }}"),
	    "[\"a\",\"b\",\"c\"]", "the deepest filter arguments render");
	renders(shape(7, RL_TMPL_EXPR_DEPTH - 1, "{{ ", " }}"), "True",
	    "the deepest and renders");
	renders(shape(8, RL_TMPL_EXPR_DEPTH - 1, "{{ ", " }}"), "None",
	    "the deepest or renders");
	big = repeat("", "{% if vrai %}", RL_TMPL_BLOCK_DEPTH + 1, "x");
	toodeep(repeat(big, "{% endif %}", RL_TMPL_BLOCK_DEPTH + 1, ""),
	    "blocs", RL_TMPL_BLOCK_DEPTH, "RL_TMPL_BLOCK_DEPTH + 1 blocks");
	free(big);
	big = repeat("", "{% if vrai %}", RL_TMPL_BLOCK_DEPTH, "x");
	renders(repeat(big, "{% endif %}", RL_TMPL_BLOCK_DEPTH, ""), "x",
	    "RL_TMPL_BLOCK_DEPTH blocks render");
	free(big);
	big = repeat("", "{% for a in un %}", RL_TMPL_BLOCK_DEPTH, "{{ a }}");
	renders(repeat(big, "{% endfor %}", RL_TMPL_BLOCK_DEPTH, ""), "u",
	    "RL_TMPL_BLOCK_DEPTH for loops render");
	free(big);

	/* The deepest templates on a FastCGI thread's stack. */
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, RL_THREAD_STACK);
	if (pthread_create(&tid, &attr, deepest, &good) == 0)
		(void)pthread_join(tid, NULL);
	pthread_attr_destroy(&attr);
	ok(good == (int)NSHAPES, "the deepest expressions in the deepest "
	    "blocks render with a %d KiB stack (%d of %zu)",
	    RL_THREAD_STACK / 1024, good, NSHAPES);

	/* Limits. */
	json_object_set_new(ctx, "l", json_pack("[iiiiiiiiii]", 0, 1, 2, 3, 4,
	    5, 6, 7, 8, 9));
	check("{% for a in l %}{% for b in l %}{% for c in l %}{% for d in l "
	    "%}{% for f in l %}{% endfor %}{% endfor %}{% endfor %}{% endfor "
	    "%}{% endfor %}", NULL, RL_ETOOBIG,
	    "loop iterations over RL_JINJA_MAX_ITER");
	memset(&e, 0, sizeof(e));
	ok(rl_jinja_render("{% for a in l %}{% for b in l %}{% for c in l %}"
	    "{% for d in l %}x{% endfor %}{% endfor %}{% endfor %}{% endfor %}",
	    ctx, &out, &e) == RL_OK && strlen(out) == 10000,
	    "10,000 iterations are fine");
	free(out);
	/* 10,000 iterations of 1,001 expressions: over RL_JINJA_MAX_STEPS. */
	big = repeat("{% for a in l %}{% for b in l %}{% for c in l %}"
	    "{% for d in l %}", "{{ x }}", RL_JINJA_MAX_STEPS / 10000 + 1,
	    "{% endfor %}{% endfor %}{% endfor %}{% endfor %}");
	check(big, NULL, RL_ETOOBIG, "expressions evaluated over "
	    "RL_JINJA_MAX_STEPS");
	free(big);
	if ((big = malloc(RL_JINJA_OUT_MAX / 2 + 1)) == NULL)
		return 1;
	memset(big, 'x', RL_JINJA_OUT_MAX / 2);
	big[RL_JINJA_OUT_MAX / 2] = '\0';
	json_object_set_new(ctx, "gros", json_string(big));
	free(big);
	check("{{ gros }}{{ gros }}{{ gros }}", NULL, RL_ETOOBIG,
	    "output over RL_JINJA_OUT_MAX");
	if ((big = malloc(RL_JINJA_SRC_MAX + 2)) == NULL)
		return 1;
	memset(big, 'y', RL_JINJA_SRC_MAX + 1);
	big[RL_JINJA_SRC_MAX + 1] = '\0';
	check(big, NULL, RL_ETOOBIG, "template over RL_JINJA_SRC_MAX");
	free(big);

	json_decref(ctx);
	return done();
}
