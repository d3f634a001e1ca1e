/*
 * evaluation: EDxo's six-level evaluation grids under /evaluation
 * (docs/evaluation.md).
 *
 *	POST /evaluation/generate_six_level_grid	the model writes a grid
 *	POST /evaluation/save_grid			evaluation_savoirfaire
 *	POST /evaluation/get_plans			plans of a cours
 *	POST /evaluation/get_evaluations		evaluations of a plan
 *	GET  /evaluation/get_description/<id>		an evaluation's text
 *
 * Everything is limited to the cours the user may see (lib/edxo.h); a
 * grid is generated through rl_gen_run like every other feature.  The
 * runtime has validated each route's fields against its request schema
 * (evaluation.*) before a handler runs.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "edxo.h"
#include "fcgi.h"
#include "gen.h"
#include "pdc.h"
#include "req.h"
#include "resp.h"
#include "schema.h"
#include "tmpl.h"

#define NLEVELS		6
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
 * rows replaced by the ones sent, in one transaction.  A savoir-faire
 * that is not one of the evaluation's plan-cadre is refused rather than
 * stored against the wrong course.
 */
static enum rl_err
save_grid(struct rl_req *req, struct rl_error *e)
{
	char		 key[48], evs[32], *text = NULL;
	const char	*desc, *p[4], *lv;
	json_t		*rows = NULL, *row, *ok = NULL;
	const json_t	*sfs, *x;
	struct rl_dbres	*r = NULL;
	long long	 evid, sfid;
	size_t		 i, j;
	int		 l, intx = 0;
	enum rl_err	 err;

	/* Either name: the wizard's select is "evaluation". */
	if ((evid = field_id(req, "evaluation_id")) == 0)
		evid = field_id(req, "evaluation");
	if (evid == 0)
		return rl_error_field(e, RL_EINVAL, "evaluation_id",
		    "evaluation_id est requis");
	(void)snprintf(evs, sizeof(evs), "%lld", evid);
	if ((desc = str(req->json, "description")) == NULL)
		desc = str(req->json, "evaluation_description");
	/* Positive ids, at most the schema's maxItems; [] when none. */
	sfs = json_object_get(req->json, "savoirs_faire");
	if ((rows = json_array()) == NULL) {
		err = rl_error_set(e, RL_ENOMEM, "out of memory");
		goto out;
	}
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
		for (l = 1; l <= NLEVELS; l++) {
			(void)snprintf(key, sizeof(key), "level%d_%lld", l,
			    sfid);
			lv = level_text(req, key);
			(void)snprintf(key, sizeof(key), "level%d", l);
			(void)json_object_set_new(row, key, lv != NULL ?
			    json_string(lv) : json_null());
		}
		(void)json_array_append_new(rows, row);
	}
	if ((text = json_dumps(rows, JSON_COMPACT)) == NULL) {
		err = rl_error_set(e, RL_ENOMEM, "out of memory");
		goto out;
	}
	/* The evaluation, visible to the user, and its cours. */
	if ((err = rl_edxo_json(req->user, "SELECT json_build_object("
	    "'cours_id', d.cours_id) FROM plan_de_cours_evaluations v "
	    "JOIN plan_de_cours d "
	    "ON d.id = v.plan_de_cours_id WHERE v.id = $3::bigint AND "
	    RL_SQL_SEE_COURS("d.cours_id"), evs, NULL, &ok, e)) != RL_OK)
		goto out;
	if (json_is_null(ok)) {
		err = rl_error_set(e, RL_ENOTFOUND, "Évaluation introuvable.");
		goto out;
	}
	if ((err = rl_db_begin(e)) != RL_OK)
		goto out;
	intx = 1;
	p[0] = evs;
	p[1] = desc;
	if (desc != NULL && (err = rl_db_exec("UPDATE "
	    "plan_de_cours_evaluations SET description = $2::text "
	    "WHERE id = $1::bigint", 2, p, NULL, e)) != RL_OK)
		goto out;
	if ((err = rl_db_exec("DELETE FROM evaluation_savoirfaire "
	    "WHERE evaluation_id = $1::bigint", 1, p, NULL, e)) != RL_OK)
		goto out;
	p[1] = text;
	if ((err = rl_db_exec("INSERT INTO evaluation_savoirfaire "
	    "(evaluation_id, savoir_faire_id, capacite_id, selected, "
	    "level1_description, level2_description, level3_description, "
	    "level4_description, level5_description, level6_description) "
	    "SELECT $1::bigint, f.id, f.capacite_id, true, "
	    "x ->> 'level1', x ->> 'level2', x ->> 'level3', x ->> 'level4', "
	    "x ->> 'level5', x ->> 'level6' "
	    "FROM jsonb_array_elements($2::jsonb) AS t(x) "
	    "JOIN plan_cadre_capacite_savoirs_faire f "
	    "ON f.id = (x ->> 'savoir_faire_id')::bigint "
	    "JOIN plan_cadre_capacites k ON k.id = f.capacite_id "
	    "JOIN plan_cadre pc ON pc.id = k.plan_cadre_id "
	    "JOIN plan_de_cours_evaluations v ON v.id = $1::bigint "
	    "JOIN plan_de_cours d ON d.id = v.plan_de_cours_id "
	    "AND d.cours_id = pc.cours_id", 2, p, &r, e)) != RL_OK)
		goto out;
	if ((size_t)rl_dbres_affected(r) != json_array_size(rows)) {
		err = rl_error_field(e, RL_EINVAL, "savoirs_faire", "Un "
		    "savoir-faire n'appartient pas au plan-cadre de cette "
		    "évaluation.");
		goto out;
	}
	intx = 0;
	if ((err = rl_db_commit(e)) != RL_OK)
		goto out;
	err = rl_resp_json_new(req, 200, json_pack("{s:b}", "success", 1));
out:
	/* A failure is answered by the runtime: the route is legacy. */
	if (intx)
		rl_db_rollback();
	rl_dbres_free(r);
	json_decref(rows);
	json_decref(ok);
	free(text);
	return err;
}

/* POST /evaluation/get_plans (course_id) → {plans:[{id, name}]} */
static enum rl_err
get_plans(struct rl_req *req, struct rl_error *e)
{
	char		 id[32];
	json_t		*v;
	enum rl_err	 err;

	(void)snprintf(id, sizeof(id), "%lld", field_id(req, "course_id"));
	if ((err = rl_edxo_json(req->user, "SELECT "
	    RL_SQL_LIST("json_build_object('id', d.id, 'name', d.session) "
	    "ORDER BY d.id", "FROM plan_de_cours d "
	    "WHERE d.cours_id = $3::bigint AND "
	    RL_SQL_SEE_COURS("d.cours_id")), id, NULL, &v, e)) != RL_OK)
		return err;
	return rl_resp_json_new(req, 200, json_pack("{s:o}", "plans", v));
}

/* POST /evaluation/get_evaluations (plan_id) → {evaluations:[{id, title}]} */
static enum rl_err
get_evaluations(struct rl_req *req, struct rl_error *e)
{
	char		 id[32];
	json_t		*v;
	enum rl_err	 err;

	(void)snprintf(id, sizeof(id), "%lld", field_id(req, "plan_id"));
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
 * EDxo's wizard calls every route: its flat error bodies, and bodies as
 * JSON, a urlencoded form or FormData (which the wizard posts to
 * save_grid, get_plans and get_evaluations); save_grid's and
 * get_description's pages read {success: false, message}.
 */
static const struct rl_route routes[] = {
	{ "POST", "/evaluation/generate_six_level_grid", generate_grid,
	    "evaluation.generate_six_level_grid", RL_ROUTE_EDXO_BODY, 0 },
	{ "POST", "/evaluation/save_grid", save_grid, "evaluation.save_grid",
	    RL_ROUTE_EDXO_BODY | RL_ROUTE_LEGACY, 0 },
	{ "POST", "/evaluation/get_plans", get_plans, "evaluation.get_plans",
	    RL_ROUTE_EDXO_BODY, 0 },
	{ "POST", "/evaluation/get_evaluations", get_evaluations,
	    "evaluation.get_evaluations", RL_ROUTE_EDXO_BODY, 0 },
	{ "GET", "/evaluation/get_description/<int:id>", get_description,
	    NULL, RL_ROUTE_EDXO_AUTH | RL_ROUTE_LEGACY, 0 },
};

static const struct rl_program program = {
	"evaluation", routes, RL_NROUTES(routes), 0, 1, NULL
};

int
main(int argc, char *argv[])
{

	return rl_main(argc, argv, &program);
}
