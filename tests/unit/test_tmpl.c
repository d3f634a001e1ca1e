/*
 * test_tmpl.c: EDxo's prompt templates (lib/tmpl.c) and the capacity
 * resolution of plan-de-cours evaluations (lib/pdc.c), both pure.  The
 * deep shapes that overflowed the Jinja renderer (issue 14) are here too:
 * a str.format() field cannot nest, so each is a clear refusal or plain
 * text, in one pass.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "bounds.h"
#include "harness.h"
#include "util.h"
#include "pdc.h"
#include "tmpl.h"

/* Format tmpl with ctx (JSON text); 1 when it gives want. */
static int
renders(const char *tmpl, const char *ctxtext, const char *want)
{
	struct rl_error	 e;
	json_t		*ctx = json_loads(ctxtext, 0, NULL);
	char		*out = NULL;
	int		 good;

	rl_error_clear(&e);
	good = ctx != NULL && rl_tmpl_format(tmpl, ctx, &out, &e) == RL_OK &&
	    strcmp(out, want) == 0;
	if (!good)
		diag("got \"%s\" (%s)", out != NULL ? out : "(null)", e.msg);
	free(out);
	json_decref(ctx);
	return good;
}

/* Format tmpl; 1 when it fails with code, and where (if not NULL). */
static int
refuses(const char *tmpl, const char *ctxtext, enum rl_err code,
    const char *where, const char *msgpart)
{
	struct rl_error	 e;
	json_t		*ctx = json_loads(ctxtext, 0, NULL);
	char		 dummy[] = "x";
	char		*out = dummy;
	int		 good;

	rl_error_clear(&e);
	good = ctx != NULL && rl_tmpl_format(tmpl, ctx, &out, &e) == code &&
	    out == NULL && e.code == code &&
	    (where == NULL || strcmp(e.where, where) == 0) &&
	    (msgpart == NULL || strstr(e.msg, msgpart) != NULL);
	if (!good)
		diag("code %d where \"%s\" msg \"%s\"", e.code, e.where,
		    e.msg);
	json_decref(ctx);
	return good;
}

static void
test_tmpl(void)
{
	char		*big, *out = NULL;
	json_t		*ctx;
	struct rl_error	 e;

	ok(renders("", "{}", ""), "empty template");
	ok(renders("sans variable", "{}", "sans variable"), "plain text");
	ok(renders("Session {session}.", "{\"session\":\"A25\"}",
	    "Session A25."), "a string");
	ok(renders("{a}{b}{a}", "{\"a\":\"x\",\"b\":\"é\"}", "xéx"),
	    "adjacent fields, repeated, UTF-8");
	ok(renders("{{littéral}} {{{v}}}", "{\"v\":1}", "{littéral} {1}"),
	    "doubled braces are literal");
	ok(renders("{n} {r} {h}", "{\"n\":42,\"r\":2.0,\"h\":0.1}",
	    "42 2.0 0.1"), "numbers as Python prints them");
	ok(renders("{t}/{f}/{z}", "{\"t\":true,\"f\":false,\"z\":null}",
	    "True/False/None"), "booleans and null as Python prints them");
	ok(renders("[{l}]", "{\"l\":[\"a\",\"b\",\"c\"]}", "[a, b, c]"),
	    "a list of strings is joined with \", \"");
	ok(renders("[{l}]", "{\"l\":[]}", "[]"), "an empty list is empty");
	ok(renders("{o} {m}", "{\"o\":{\"k\":1},\"m\":[1,\"a\"]}",
	    "{\"k\":1} [1,\"a\"]"), "other values as compact JSON");
	ok(renders("{ctx}", "{\"ctx\":\"{pas} {{remplacé}}\"}",
	    "{pas} {{remplacé}}"), "values are not templates themselves");

	ok(refuses("Bonjour {nom} !", "{}", RL_EINVAL, "nom",
	    "Variable manquante dans le template: nom"),
	    "a missing variable is RL_EINVAL naming it");
	ok(refuses("{\"cle\": 1}", "{}", RL_EINVAL, "\"cle\"", NULL),
	    "JSON in a template is a missing variable, as in Python");
	ok(refuses("ouvert {nom", "{\"nom\":1}", RL_EINVAL, NULL,
	    "non fermée"), "an unclosed brace");
	ok(refuses("a } b", "{}", RL_EINVAL, NULL, "seule"),
	    "a single closing brace");
	ok(refuses("{}", "{}", RL_EINVAL, NULL, "sans nom"),
	    "a positional field");
	ok(refuses("{x!r}", "{\"x\":1}", RL_EINVAL, "x", "non pris"),
	    "a conversion is refused");
	ok(refuses("{x:>10}", "{\"x\":1}", RL_EINVAL, NULL, NULL),
	    "a format spec is refused");
	ok(refuses("{x.y}", "{\"x\":1}", RL_EINVAL, NULL, NULL),
	    "attribute access is refused");
	ok(refuses("{x[0]}", "{\"x\":[1]}", RL_EINVAL, NULL, NULL),
	    "index access is refused");
	ok(refuses("{y:>3}", "{\"x\":1}", RL_EINVAL, "y", "manquante"),
	    "a missing name with a format spec is a missing variable");
	ok(refuses("{a{b}", "{\"a\":1}", RL_EINVAL, NULL, NULL),
	    "a brace inside a field");

	/* The output cap. */
	big = malloc(RL_TMPL_MAX / 2 + 1);
	ctx = json_object();
	if (big != NULL && ctx != NULL) {
		memset(big, 'x', RL_TMPL_MAX / 2);
		big[RL_TMPL_MAX / 2] = '\0';
		(void)json_object_set_new(ctx, "v", json_string(big));
		rl_error_clear(&e);
		ok(rl_tmpl_format("{v}{v}{v}", ctx, &out, &e) == RL_ETOOBIG &&
		    out == NULL, "a prompt over RL_TMPL_MAX is refused");
		ok(rl_tmpl_format("{v}", ctx, &out, &e) == RL_OK &&
		    strlen(out) == RL_TMPL_MAX / 2, "half the cap renders");
		free(out);
	}
	free(big);
	json_decref(ctx);
}

/*
 * Check tmpl against names; 1 when it passes (line 0) or, with code
 * RL_EINVAL, fails at line with where (if not NULL) and msgpart in the
 * message, which says the line.
 */
static int
checks(const char *tmpl, const char *const *names, enum rl_err code,
    int wantline, const char *where, const char *msgpart)
{
	struct rl_error	 e;
	char		 ligne[32];
	int		 line = -1, good;
	enum rl_err	 err;

	rl_error_clear(&e);
	err = rl_tmpl_check(tmpl, names, &line, &e);
	(void)snprintf(ligne, sizeof(ligne), "(ligne %d)", wantline);
	good = err == code && line == wantline && (code == RL_OK ||
	    (strstr(e.msg, ligne) != NULL &&
	    (where == NULL || strcmp(e.where, where) == 0) &&
	    (msgpart == NULL || strstr(e.msg, msgpart) != NULL)));
	if (!good)
		diag("code %d line %d where \"%s\" msg \"%s\"", err, line,
		    e.where, e.msg);
	return good;
}

static void
test_check(void)
{
	static const char *const	 vars[] = { "session", "cours_id",
	    NULL };

	ok(checks("", vars, RL_OK, 0, NULL, NULL), "check: empty");
	ok(checks("Session {session}, cours {cours_id} {{x}}", vars, RL_OK,
	    0, NULL, NULL), "check: known names and literal braces");
	ok(checks("{n'importe}", NULL, RL_OK, 0, NULL, NULL),
	    "check: no list takes any name");
	ok(checks("un\ndeux {cours}\n", vars, RL_EINVAL, 2, "cours",
	    "Variable inconnue : cours"), "check: an unknown name, its line");
	ok(checks("a\nb\nc }", vars, RL_EINVAL, 3, NULL, "seule"),
	    "check: a single closing brace, its line");
	ok(checks("{session}\n\n{session", vars, RL_EINVAL, 3, NULL,
	    "non fermée"), "check: an unclosed brace, its line");
	ok(checks("x\n{session!r}", vars, RL_EINVAL, 2, "session",
	    "non pris"), "check: a conversion, its line");
	ok(checks("{% if x %}", vars, RL_EINVAL, 1, "% if x %", NULL),
	    "check: Jinja in a str.format template");
	ok(checks(NULL, vars, RL_OK, 0, NULL, NULL), "check: no template");
}

static void
test_deep(void)
{
	static const char	 ctx[] = "{\"cours\":{\"nom\":\"Réseaux\"},"
	    "\"x\":[[1]]}";
	char			*t, *u, *want, name[RL_TMPL_FIELD_MAX + 1];
	char			 ctxname[RL_TMPL_FIELD_MAX + 32];

	t = repeat("{cours", ".a", 17000, "}");
	ok(refuses(t, ctx, RL_EINVAL, NULL, "trop long"),
	    "17,000 attribute hops: a name too long");
	free(t);
	t = repeat("{x", "[0]", 20000, "}");
	ok(refuses(t, ctx, RL_EINVAL, NULL, "trop long"),
	    "20,000 index operations: a name too long");
	free(t);
	u = repeat("{", "(", 20000, "x");
	t = repeat(u, ")", 20000, "}");
	ok(refuses(t, ctx, RL_EINVAL, NULL, "trop long"),
	    "20,000 parentheses: a name too long");
	free(t);
	free(u);
	t = repeat("{", "not ", 15000, "x}");
	ok(refuses(t, ctx, RL_EINVAL, NULL, "trop long"),
	    "15,000 not: a name too long");
	free(t);
	t = repeat("", "{% if x %}", 8000, "");
	ok(refuses(t, ctx, RL_EINVAL, "% if x %", "manquante"),
	    "8,000 Jinja blocks: a missing variable, the first one");
	free(t);
	/* Braces do not nest: 20,000 pairs are literal text. */
	u = repeat("", "{{", 20000, "x");
	t = repeat(u, "}}", 20000, "");
	free(u);
	u = repeat("", "{", 20000, "x");
	want = repeat(u, "}", 20000, "");
	ok(renders(t, ctx, want), "20,000 doubled braces are text");
	free(t);
	free(u);
	free(want);
	u = repeat("", "{", 20001, "x");
	t = repeat(u, "}", 1, "");
	free(u);
	u = repeat("", "{", 10000, "[[1]]");
	ok(renders(t, ctx, u), "20,001 braces: text, then the field");
	free(t);
	free(u);

	/* The longest name renders, one byte more is refused. */
	memset(name, 'n', sizeof(name));
	name[RL_TMPL_FIELD_MAX - 1] = '\0';
	(void)snprintf(ctxname, sizeof(ctxname), "{\"%s\":\"ok\"}", name);
	t = repeat("{", name, 1, "}");
	ok(renders(t, ctxname, "ok"), "a name of RL_TMPL_FIELD_MAX - 1 "
	    "bytes renders");
	free(t);
	name[RL_TMPL_FIELD_MAX - 1] = 'n';
	name[RL_TMPL_FIELD_MAX] = '\0';
	t = repeat("{", name, 1, "}");
	ok(refuses(t, ctxname, RL_EINVAL, NULL, "trop long"),
	    "a name of RL_TMPL_FIELD_MAX bytes is refused");
	free(t);
}

/* resolve(label) against the demo-like capacités below. */
static long long
resolve(const char *label)
{
	static const char	 caps[] = "["
	    "{\"id\":11,\"capacite\":\"Analyser des circuits à courant "
	    "continu\",\"description_capacite\":\"Mesurer et calculer les "
	    "grandeurs électriques\"},"
	    "{\"id\":12,\"capacite\":\"Capacité 2 : Concevoir un montage "
	    "simple\",\"description_capacite\":\"Choisir les composants\"},"
	    "{\"id\":13,\"capacite\":\"Rédiger un rapport de laboratoire\","
	    "\"description_capacite\":null}]";
	json_t			*c = json_loads(caps, 0, NULL);
	long long		 id;

	id = rl_pdc_capacity_resolve(label, c);
	json_decref(c);
	return id;
}

static void
test_capacity(void)
{
	char	 norm[128];

	rl_pdc_normalize("  Capacité 2 : Concevoir, un MONTAGE!  ", norm,
	    sizeof(norm));
	ok(strcmp(norm, "capacite 2 concevoir un montage") == 0,
	    "normalise: accents, punctuation, case, spaces (%s)", norm);
	ok(resolve("Analyser des circuits à courant continu") == 11,
	    "exact title");
	ok(resolve("analyser des circuits a courant continu.") == 11,
	    "title without accents, case or punctuation");
	ok(resolve("Mesurer et calculer les grandeurs électriques") == 11,
	    "description");
	ok(resolve("Capacité 3") == 13, "alias \"capacité N\" by position");
	ok(resolve("cap 1") == 11, "alias \"cap N\"");
	ok(resolve("C 2") == 12, "alias \"c N\"");
	ok(resolve("2") == 12, "the number in the title");
	ok(resolve("Rédiger un rapport") == 13, "substring of the title");
	ok(resolve("Concevoir un montage électronique simple") == 12,
	    "token Jaccard >= 0.5");
	ok(resolve("Programmer un microcontrôleur") == 0,
	    "no match resolves to nothing");
	ok(resolve("") == 0, "an empty label resolves to nothing");
	ok(resolve("Capacité 9") == 0, "an ordinal past the end");
	ok(rl_pdc_capacity_resolve("x", NULL) == 0, "no capacités");
}

int
main(void)
{

	test_tmpl();
	test_check();
	test_deep();
	test_capacity();
	return done();
}
