/*
 * evaluation: EDxo's six-level evaluation grids under /evaluation
 * (docs/evaluation.md).
 *
 *	POST /evaluation/generate_six_level_grid	the model writes a grid
 *	POST /evaluation/save_grid			evaluation_savoirfaire
 *	GET  /evaluation/get_courses			cours of the wizard
 *	POST /evaluation/get_plans			plans of a cours
 *	POST /evaluation/get_evaluations		evaluations of a plan
 *	POST /evaluation/get_grid			the grid, as HTML
 *	GET  /evaluation/get_description/<id>		an evaluation's text
 *	GET  /evaluation/evaluation-wizard		the wizard's page
 *
 * Everything is limited to the cours the user may see (lib/edxo.h); a
 * grid is generated through rl_gen_run like every other feature, read
 * and saved by lib/edxo/evaluation.c.  The runtime has validated each
 * route's fields against its request schema (evaluation.*) before a
 * handler runs.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bounds.h"
#include "buf.h"
#include "edxo.h"
#include "evaluation.h"
#include "fcgi.h"
#include "gen.h"
#include "req.h"
#include "resp.h"
#include "schema.h"
#include "tmpl.h"

#define NLEVELS		RL_EVAL_LEVELS
/*
 * What EDxo uses when the savoir-faire has no cible or seuil, or when the
 * request names no savoir-faire.
 */
#define DEFAULT_CIBLE	"Tâche complète réalisée de façon autonome"
#define DEFAULT_SEUIL	"Tâche minimale acceptable"
#define DEFAULT_MODEL	"gpt-5"

static const char *
str(const json_t *o, const char *k)
{

	return json_string_value(json_object_get(o, k));
}

/* An id of the validated request: positive, or 0 when absent or null. */
static long long
field_id(const struct rl_req *req, const char *k)
{

	return json_integer_value(json_object_get(req->json, k));
}

/* The grid settings, the savoir-faire's cible/seuil, the evaluation's text. */
static const char sql_context[] =
    "SELECT json_build_object("
    "'settings', (SELECT json_build_object('prompt_template', "
    "g.prompt_template, 'levels', json_build_array(g.level1_description, "
    "g.level2_description, g.level3_description, g.level4_description, "
    "g.level5_description, g.level6_description)) "
    "FROM grille_prompt_settings g WHERE g.id = 1), "
    "'section', (SELECT json_build_object('system_prompt', s.system_prompt, "
    "'ai_model', s.ai_model, 'reasoning_effort', s.reasoning_effort, "
    "'verbosity', s.verbosity) FROM section_ai_settings s "
    "WHERE s.section = 'evaluation'), "
    "'sf', (SELECT json_build_object('cible', f.cible, 'seuil_reussite', "
    "f.seuil_reussite) FROM plan_cadre_capacite_savoirs_faire f "
    "JOIN plan_cadre_capacites k ON k.id = f.capacite_id "
    "JOIN plan_cadre pc ON pc.id = k.plan_cadre_id "
    "WHERE f.id = $3::bigint AND " RL_SQL_SEE_COURS("pc.cours_id") "), "
    "'evaluation', (SELECT json_build_object('description', v.description) "
    "FROM plan_de_cours_evaluations v JOIN plan_de_cours d "
    "ON d.id = v.plan_de_cours_id WHERE v.id = $4::bigint AND "
    RL_SQL_SEE_COURS("d.cours_id") "))";

/*
 * The schema sent upstream: AISixLevelGridResponse with each level's
 * description replaced by the settings' text (EDxo B does the same).
 */
static json_t *
grid_schema(const json_t *levels)
{
	const json_t	*base;
	json_t		*s, *props, *pr;
	char		 key[32];
	int		 i;

	if ((base = rl_schema_json(rl_schema_get("AISixLevelGridResponse"))) ==
	    NULL || (s = json_deep_copy(base)) == NULL)
		return NULL;
	props = json_object_get(s, "properties");
	for (i = 0; i < NLEVELS; i++) {
		(void)snprintf(key, sizeof(key), "level%d_description", i + 1);
		pr = json_object_get(props, key);
		if (json_is_object(pr) && json_is_string(json_array_get(levels,
		    (size_t)i)))
			(void)json_object_set(pr, "description",
			    json_array_get(levels, (size_t)i));
	}
	return s;
}

/* POST /evaluation/generate_six_level_grid → {level1..6_description} */
static enum rl_err
generate_grid(struct rl_req *req, struct rl_error *e)
{
	struct rl_gen	 g;
	char		*schematext = NULL, *prompt = NULL;
	/*
	 * Both non-empty: the schema's x-message is EDxo's 400 "Savoir-faire
	 * et capacité requis" otherwise.
	 */
	const char	*sf = str(req->json, "savoir_faire");
	const char	*cap = str(req->json, "capacite");
	const char	*cible, *seuil, *model;
	long long	 sfid = field_id(req, "savoir_faire_id");
	long long	 evid = field_id(req, "evaluation_id");
	json_t		*c = NULL, *ctx = NULL, *schema = NULL, *answer, *sec;
	char		 key[32], sfs[32], evs[32];
	int		 i;
	enum rl_err	 err;

	memset(&g, 0, sizeof(g));
	(void)snprintf(sfs, sizeof(sfs), "%lld", sfid);
	(void)snprintf(evs, sizeof(evs), "%lld", evid);
	if ((err = rl_edxo_json(req->user, sql_context, sfs, evs, &c, e)) !=
	    RL_OK)
		goto fail;
	if (!json_is_object(json_object_get(c, "settings"))) {
		err = rl_error_set(e, RL_EINTERNAL, "Les paramètres de la "
		    "grille ne sont pas configurés.");
		goto fail;
	}
	if ((sfid > 0 && json_is_null(json_object_get(c, "sf"))) ||
	    (evid > 0 && json_is_null(json_object_get(c, "evaluation")))) {
		err = rl_error_set(e, RL_ENOTFOUND, sfid > 0 &&
		    json_is_null(json_object_get(c, "sf")) ?
		    "Savoir-faire introuvable." : "Évaluation introuvable.");
		goto fail;
	}
	cible = str(json_object_get(c, "sf"), "cible");
	seuil = str(json_object_get(c, "sf"), "seuil_reussite");
	if ((schema = grid_schema(json_object_get(json_object_get(c,
	    "settings"), "levels"))) == NULL ||
	    (schematext = json_dumps(schema, JSON_INDENT(2))) == NULL) {
		err = rl_error_set(e, RL_ENOMEM, "out of memory");
		goto fail;
	}
	ctx = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "savoir_faire", sf,
	    "capacite", cap, "seuil", seuil != NULL && *seuil != '\0' ? seuil :
	    DEFAULT_SEUIL, "cible", cible != NULL && *cible != '\0' ? cible :
	    DEFAULT_CIBLE, "description_eval",
	    str(json_object_get(c, "evaluation"), "description") != NULL ?
	    str(json_object_get(c, "evaluation"), "description") : "",
	    "schema", schematext);
	if (ctx == NULL) {
		err = rl_error_set(e, RL_ENOMEM, "out of memory");
		goto fail;
	}
	if ((err = rl_tmpl_format(str(json_object_get(c, "settings"),
	    "prompt_template"), ctx, &prompt, e)) != RL_OK)
		goto fail;
	sec = json_object_get(c, "section");
	model = str(sec, "ai_model");
	g.user_id = req->user->id;
	g.feature = "evaluation.grid";
	g.request_id = req->id;
	g.model = model != NULL && *model != '\0' ? model : DEFAULT_MODEL;
	g.system = str(sec, "system_prompt");
	g.effort = str(sec, "reasoning_effort");
	g.verbosity = str(sec, "verbosity");
	g.prompt = prompt;
	g.schema = rl_schema_get("AISixLevelGridResponse");
	g.schema_json = schema;
	g.name = "AISixLevelGridResponse";
	g.strict = 1;
	if (g.schema == NULL) {
		err = rl_error_set(e, RL_EINTERNAL, "schema not loaded");
		goto fail;
	}
	if ((err = rl_gen_run(&g, e)) != RL_OK)
		goto fail;
	if ((answer = json_object()) == NULL) {
		err = rl_error_set(e, RL_ENOMEM, "out of memory");
		goto fail;
	}
	for (i = 1; i <= NLEVELS; i++) {
		(void)snprintf(key, sizeof(key), "level%d_description", i);
		(void)json_object_set_new(answer, key, json_is_string(
		    json_object_get(g.result, key)) ? json_incref(
		    json_object_get(g.result, key)) : json_null());
	}
	err = rl_resp_json_new(req, 200, answer);
	goto out;
fail:
	err = rl_resp_edxo_error(req, e, 0);
out:
	rl_gen_free(&g);
	json_decref(c);
	json_decref(ctx);
	json_decref(schema);
	free(schematext);
	free(prompt);
	return err;
}

/*
 * A grid level's text, level<l>_<sfId>: the key holds the savoir-faire's
 * id, so no request schema can name it.  A JSON body keeps it (the schema
 * leaves extra members alone); a form's schema-shaped value drops every
 * field it does not list, so a form's is read from the fields themselves.
 */
static const char *
level_text(const struct rl_req *req, const char *key)
{

	if (req->nform > 0)
		return rl_req_form(req, key);
	return str(req->json, key);
}

/*
 * POST /evaluation/save_grid: the evaluation's description, and its grid
 * rows replaced by the ones sent (rl_evaluation_grid_save, one
 * transaction).  A savoir-faire that is not one of the evaluation's
 * plan-cadre is refused rather than stored against the wrong course.
 */
static enum rl_err
save_grid(struct rl_req *req, struct rl_error *e)
{
	char		 key[48];
	const char	*desc, *lv;
	json_t		*rows = NULL, *row;
	const json_t	*sfs, *x;
	long long	 evid, sfid;
	size_t		 i, j;
	int		 l;
	enum rl_err	 err;

	/* Either name: the wizard's select is "evaluation". */
	if ((evid = field_id(req, "evaluation_id")) == 0)
		evid = field_id(req, "evaluation");
	if (evid == 0)
		return rl_error_field(e, RL_EINVAL, "evaluation_id",
		    "evaluation_id est requis");
	if ((desc = str(req->json, "description")) == NULL)
		desc = str(req->json, "evaluation_description");
	/* Positive ids, at most the schema's maxItems; [] when none. */
	sfs = json_object_get(req->json, "savoirs_faire");
	if ((rows = json_array()) == NULL)
		return rl_error_set(e, RL_ENOMEM, "out of memory");
	json_array_foreach(sfs, i, x) {
		sfid = json_integer_value(x);
		/* A savoir-faire named twice is one row (the first). */
		for (j = 0; j < json_array_size(rows); j++)
			if (json_integer_value(json_object_get(json_array_get(
			    rows, j), "savoir_faire_id")) == sfid)
				break;
		if (j < json_array_size(rows))
			continue;
		row = json_pack("{s:I}", "savoir_faire_id", (json_int_t)sfid);
		if (row == NULL || json_array_append_new(rows, row) == -1) {
			err = rl_error_set(e, RL_ENOMEM, "out of memory");
			goto out;
		}
		for (l = 1; l <= NLEVELS; l++) {
			(void)snprintf(key, sizeof(key), "level%d_%lld", l,
			    sfid);
			lv = level_text(req, key);
			(void)snprintf(key, sizeof(key), "level%d", l);
			if (json_object_set_new(row, key, lv != NULL ?
			    json_string(lv) : json_null()) == -1) {
				err = rl_error_set(e, RL_ENOMEM, "out of "
				    "memory");
				goto out;
			}
		}
	}
	/* A failure is answered by the runtime: the route is legacy. */
	if ((err = rl_evaluation_grid_save(req->user, evid, desc, rows, e)) ==
	    RL_OK)
		err = rl_resp_json_new(req, 200, json_pack("{s:b}",
		    "success", 1));
out:
	json_decref(rows);
	return err;
}

/*
 * GET /evaluation/get_courses → [{id, code, nom}], the wizard's course
 * select: the cours the user may see (EDxo: of the user's programmes),
 * by code.  EDxo gives the id as a string; so does this.
 */
static enum rl_err
get_courses(struct rl_req *req, struct rl_error *e)
{
	json_t		*v;
	enum rl_err	 err;

	if ((err = rl_edxo_json(req->user, "SELECT "
	    RL_SQL_LIST("json_build_object('id', c.id::text, 'code', c.code, "
	    "'nom', c.nom) ORDER BY c.code, c.id", "FROM cours c WHERE "
	    RL_SQL_SEE_COURS("c.id")), NULL, NULL, &v, e)) != RL_OK)
		return err;
	return rl_resp_json_new(req, 200, v);
}

/*
 * POST /evaluation/get_plans (course_id) → {plans:[{id, name}]}.  No
 * course_id (the wizard's empty choice posts "") is an empty list, as in
 * EDxo.
 */
static enum rl_err
get_plans(struct rl_req *req, struct rl_error *e)
{
	char		 id[32];
	long long	 n = field_id(req, "course_id");
	json_t		*v;
	enum rl_err	 err;

	if (n == 0)
		return rl_resp_json_new(req, 200, json_pack("{s:[]}",
		    "plans"));
	(void)snprintf(id, sizeof(id), "%lld", n);
	if ((err = rl_edxo_json(req->user, "SELECT "
	    RL_SQL_LIST("json_build_object('id', d.id, 'name', d.session) "
	    "ORDER BY d.id", "FROM plan_de_cours d "
	    "WHERE d.cours_id = $3::bigint AND "
	    RL_SQL_SEE_COURS("d.cours_id")), id, NULL, &v, e)) != RL_OK)
		return err;
	return rl_resp_json_new(req, 200, json_pack("{s:o}", "plans", v));
}

/*
 * POST /evaluation/get_evaluations (plan_id) → {evaluations:[{id,
 * title}]}; no plan_id is an empty list, as in EDxo.
 */
static enum rl_err
get_evaluations(struct rl_req *req, struct rl_error *e)
{
	char		 id[32];
	long long	 n = field_id(req, "plan_id");
	json_t		*v;
	enum rl_err	 err;

	if (n == 0)
		return rl_resp_json_new(req, 200, json_pack("{s:[]}",
		    "evaluations"));
	(void)snprintf(id, sizeof(id), "%lld", n);
	if ((err = rl_edxo_json(req->user, "SELECT "
	    RL_SQL_LIST("json_build_object('id', v.id, 'title', "
	    "v.titre_evaluation) ORDER BY v.id",
	    "FROM plan_de_cours_evaluations v JOIN plan_de_cours d "
	    "ON d.id = v.plan_de_cours_id WHERE d.id = $3::bigint AND "
	    RL_SQL_SEE_COURS("d.cours_id")), id, NULL, &v, e)) != RL_OK)
		return err;
	return rl_resp_json_new(req, 200, json_pack("{s:o}", "evaluations",
	    v));
}

/* The six levels' captions, EDxo's _grid_content.html word for word. */
static const char *const level_caption[NLEVELS] = {
	"Aucun travail réalisé: 0%", "20%", "40%",
	"Seuil de réussite: 60%", "80%", "Cible: 100%"
};

/*
 * Text as HTML, for element content and for a double-quoted attribute
 * value alike: the five characters that can end either, or start markup,
 * become references.  PostgreSQL's text holds no NUL.
 */
static void
html(struct rl_buf *b, const char *s)
{
	size_t	 n;

	while (s != NULL && *s != '\0') {
		n = strcspn(s, "&<>\"'");
		(void)rl_buf_add(b, s, n);
		s += n;
		switch (*s) {
		case '&':
			(void)rl_buf_addstr(b, "&amp;");
			break;
		case '<':
			(void)rl_buf_addstr(b, "&lt;");
			break;
		case '>':
			(void)rl_buf_addstr(b, "&gt;");
			break;
		case '"':
			(void)rl_buf_addstr(b, "&quot;");
			break;
		case '\'':
			(void)rl_buf_addstr(b, "&#39;");
			break;
		default:
			return;
		}
		s++;
	}
}

/*
 * One savoir-faire's block: its checkbox (name savoirs_faire), its
 * capacité (capacite_<id>), the generation button and the six textareas
 * (level<l>_<id>), with EDxo's ids and classes, which its wizard's script
 * reads.  EDxo's markup shows and hides with inline styles and calls the
 * page's functions from onclick attributes; strict markup, for a page
 * whose CSP forbids both (relais' own), uses the hidden attribute and a
 * data-action the page's script listens for.
 */
static void
sf_html(struct rl_buf *b, const json_t *k, const json_t *f, int strict)
{
	long long	 kid = json_integer_value(json_object_get(k, "id"));
	long long	 id = json_integer_value(json_object_get(f, "id"));
	const char	*texte = str(f, "texte");
	int		 sel = json_is_true(json_object_get(f, "selected"));
	int		 l;

	(void)rl_buf_addf(b, "<div class=\"savoir-faire-block mb-4 "
	    "border-bottom pb-4\">\n<div class=\"form-check mb-3\">\n"
	    "<input type=\"checkbox\" name=\"savoirs_faire\" value=\"%lld\" "
	    "class=\"form-check-input toggle-descriptions change-detector\" "
	    "id=\"sf_%lld\" data-target=\"desc_%lld\"", id, id, id);
	if (!strict)
		(void)rl_buf_addf(b, " onclick=\"toggleAIButton('%lld')\"", id);
	(void)rl_buf_addf(b, "%s>\n<label class=\"form-check-label\" "
	    "for=\"sf_%lld\" id=\"sf_label_%lld\">", sel ? " checked" : "",
	    id, id);
	html(b, texte);
	(void)rl_buf_addf(b, "</label>\n<input type=\"hidden\" "
	    "name=\"capacite_%lld\" value=\"%lld\">\n</div>\n"
	    "<button type=\"button\" class=\"btn btn-sm btn-outline-primary "
	    "mb-3\" id=\"ai_button_%lld\"", id, kid, id);
	if (strict)
		(void)rl_buf_addf(b, "%s data-action=\"generate\"",
		    sel ? "" : " hidden");
	else
		(void)rl_buf_addf(b, " style=\"display: %s;\" "
		    "onclick=\"generateGridFromData(this)\"",
		    sel ? "block" : "none");
	(void)rl_buf_addstr(b, " data-savoir-faire=\"");
	html(b, texte);
	(void)rl_buf_addstr(b, "\" data-capacite=\"");
	html(b, str(k, "capacite"));
	(void)rl_buf_addf(b, "\" data-sf-id=\"%lld\" "
	    "aria-describedby=\"sf_label_%lld\">Remplissage automatique"
	    "</button>\n<div id=\"desc_%lld\" class=\"descriptions ml-4\"%s>\n"
	    "<div class=\"levels-container\">\n", id, id, id, sel ? "" :
	    strict ? " hidden" : " style=\"display: none;\"");
	for (l = 1; l <= NLEVELS; l++) {
		/*
		 * The newline after <textarea> is the one the HTML parser
		 * drops, so a text that starts with one keeps it.
		 */
		(void)rl_buf_addf(b, "<div class=\"form-group level-item\">\n"
		    "<label for=\"level%d_%lld\">Niveau %d (%s)</label>\n"
		    "<textarea name=\"level%d_%lld\" class=\"form-control "
		    "change-detector\" rows=\"2\" id=\"level%d_%lld\">\n", l,
		    id, l, level_caption[l - 1], l, id, l, id);
		html(b, json_string_value(json_array_get(json_object_get(f,
		    "levels"), (size_t)l - 1)));
		(void)rl_buf_addstr(b, "</textarea>\n</div>\n");
	}
	(void)rl_buf_addstr(b, "</div>\n</div>\n</div>\n");
}

/* EDxo's _grid_content.html for the grid g (rl_evaluation_grid). */
static void
grid_html(struct rl_buf *b, const json_t *g, int strict)
{
	long long	 id = json_integer_value(json_object_get(g, "id"));
	const json_t	*caps = json_object_get(g, "capacites"), *k, *f;
	size_t		 i, j;

	(void)rl_buf_addstr(b, "<div class=\"card mb-4\" id=\"grid-section\">\n"
	    "<div class=\"card-header d-flex justify-content-between "
	    "align-items-center\">\n<div>\n"
	    "<h3>Configuration de la grille</h3>\n<h4 class=\"text-muted\">");
	html(b, str(g, "titre_evaluation"));
	(void)rl_buf_addstr(b, "</h4>\n</div>\n");
	/* Served by EDxo, not relais: only EDxo's page links to it. */
	if (!strict)
		(void)rl_buf_addf(b, "<a href=\"/evaluation/export_docx/%lld\" "
		    "class=\"btn btn-outline-secondary\">\n<i class=\"fas "
		    "fa-file-word me-2\"></i>\nExporter en Word\n</a>\n", id);
	(void)rl_buf_addf(b, "</div>\n<div class=\"card-body\">\n"
	    "<input type=\"hidden\" name=\"evaluation_id\" value=\"%lld\">\n",
	    id);
	if (json_array_size(caps) == 0)
		(void)rl_buf_addstr(b, "<p class=\"text-muted\">Aucune "
		    "capacité du plan-cadre n'est associée à cette "
		    "évaluation.</p>\n");
	json_array_foreach(caps, i, k) {
		(void)rl_buf_addf(b, "<div class=\"capacite-group mb-4\" "
		    "data-capacite-id=\"%lld\">\n<h4>",
		    json_integer_value(json_object_get(k, "id")));
		html(b, str(k, "capacite"));
		(void)rl_buf_addstr(b, "</h4>\n");
		json_array_foreach(json_object_get(k, "savoirs_faire"), j, f)
			sf_html(b, k, f, strict);
		(void)rl_buf_addstr(b, "</div>\n");
	}
	(void)rl_buf_addstr(b, "</div>\n</div>\n");
	if (strict)
		(void)rl_buf_addstr(b, "<div id=\"floating-save-button\" "
		    "class=\"floating-save\">\n");
	else
		(void)rl_buf_addstr(b, "<div id=\"floating-save-button\" "
		    "class=\"position-fixed\" style=\"display: none; "
		    "bottom: 2rem; right: 2rem; z-index: 1050;\">\n");
	(void)rl_buf_addstr(b, "<button type=\"button\" class=\"btn "
	    "btn-primary btn-lg shadow-lg rounded-pill px-4 py-3\">\n"
	    "<i class=\"fas fa-save me-2\"></i>\n"
	    "Enregistrer les modifications\n</button>\n</div>\n");
}

static enum rl_err
send_html(struct rl_req *req, const char *s, size_t n)
{

	(void)rl_resp_header(req, "Cache-Control", "no-store");
	(void)rl_resp_header(req, "X-Content-Type-Options", "nosniff");
	return rl_resp_send(req, 200, "text/html; charset=utf-8", s, n);
}

/*
 * POST /evaluation/get_grid (evaluation_id[, strict_csp]) → the HTML the
 * wizard puts in #grid-content: EDxo's _grid_content.html, every text
 * escaped.  No evaluation_id (the wizard's empty choice) is an empty
 * answer, as in EDxo, which empties the grid.
 */
static enum rl_err
get_grid(struct rl_req *req, struct rl_error *e)
{
	struct rl_buf	 b;
	json_t		*g = NULL;
	long long	 id = field_id(req, "evaluation_id");
	enum rl_err	 err;

	if (id == 0)
		return send_html(req, "", 0);
	rl_buf_init(&b, RL_GRID_HTML_MAX);
	if ((err = rl_evaluation_grid(req->user, id, &g, e)) != RL_OK)
		goto out;
	grid_html(&b, g, json_is_true(json_object_get(req->json,
	    "strict_csp")));
	if ((err = rl_buf_err(&b)) != RL_OK) {
		err = rl_error_set(e, err, "La grille est trop volumineuse "
		    "pour être affichée.");
		goto out;
	}
	err = send_html(req, rl_buf_str(&b), rl_buf_len(&b));
out:
	rl_buf_free(&b);
	json_decref(g);
	return err;
}

/* GET /evaluation/get_description/<int:id> → {success, description} */
static enum rl_err
get_description(struct rl_req *req, struct rl_error *e)
{
	char		 id[32];
	long long	 n;
	json_t		*v;
	enum rl_err	 err;

	if ((err = rl_req_param_int(req, "id", &n, e)) != RL_OK)
		return err;
	(void)snprintf(id, sizeof(id), "%lld", n);
	if ((err = rl_edxo_json(req->user, "SELECT json_build_object("
	    "'success', true, 'description', coalesce(v.description, '')) "
	    "FROM plan_de_cours_evaluations v JOIN plan_de_cours d "
	    "ON d.id = v.plan_de_cours_id WHERE v.id = $3::bigint AND "
	    RL_SQL_SEE_COURS("d.cours_id"), id, NULL, &v, e)) != RL_OK)
		return err;
	if (json_is_null(v)) {
		json_decref(v);
		return rl_error_set(e, RL_ENOTFOUND, "Évaluation "
		    "introuvable.");
	}
	return rl_resp_json_new(req, 200, v);
}

/*
 * GET /evaluation/evaluation-wizard: the wizard (pages/evaluation-wizard
 * .html).  A shell: its script reads the routes above with the session,
 * so the page itself needs none (without one, the script says so).
 */
static enum rl_err
wizard(struct rl_req *req, struct rl_error *e)
{

	return rl_resp_page(req, "evaluation-wizard.html", e);
}

/*
 * EDxo's wizard calls every route: its flat error bodies, and bodies as
 * JSON, a urlencoded form or FormData (which the wizard posts to
 * save_grid, get_plans, get_evaluations and get_grid); save_grid's and
 * get_description's pages read {success: false, message}.
 */
static const struct rl_route routes[] = {
	{ "POST", "/evaluation/generate_six_level_grid", generate_grid,
	    "evaluation.generate_six_level_grid", RL_ROUTE_EDXO_BODY, 0 },
	{ "POST", "/evaluation/save_grid", save_grid, "evaluation.save_grid",
	    RL_ROUTE_EDXO_BODY | RL_ROUTE_LEGACY, 0 },
	{ "GET", "/evaluation/get_courses", get_courses,
	    "evaluation.get_courses", RL_ROUTE_EDXO_AUTH, 0 },
	{ "POST", "/evaluation/get_plans", get_plans, "evaluation.get_plans",
	    RL_ROUTE_EDXO_BODY, 0 },
	{ "POST", "/evaluation/get_evaluations", get_evaluations,
	    "evaluation.get_evaluations", RL_ROUTE_EDXO_BODY, 0 },
	{ "POST", "/evaluation/get_grid", get_grid, "evaluation.get_grid",
	    RL_ROUTE_EDXO_BODY, 0 },
	{ "GET", "/evaluation/get_description/<int:id>", get_description,
	    NULL, RL_ROUTE_EDXO_AUTH | RL_ROUTE_LEGACY, 0 },
	{ "GET", "/evaluation/evaluation-wizard", wizard, NULL, 0, 0 },
};

static const struct rl_program program = {
	"evaluation", routes, RL_NROUTES(routes), 0, 1, NULL
};

int
main(int argc, char *argv[])
{

	return rl_main(argc, argv, &program);
}
