/*
 * test_jinja: the Jinja subset of plan-cadre section templates (jinja.h):
 * output, attributes, loops, conditions, filters, white-space control,
 * undefined values, syntax errors and the limits.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "harness.h"
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

int
main(void)
{
	char		*big, *out;
	struct rl_error	 e;
	size_t		 i;

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

	/* Limits. */
	if ((big = malloc(RL_JINJA_MAX_DEPTH * 12 + 64)) == NULL)
		return 1;
	for (i = 0; i <= RL_JINJA_MAX_DEPTH; i++)
		memcpy(big + i * 10, "{% if 1 %}", 10);
	big[i * 10] = '\0';
	check(big, NULL, RL_EINVAL, "nesting over RL_JINJA_MAX_DEPTH");
	free(big);
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
