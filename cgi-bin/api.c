/*
 * api: EDxo's read API under /api (programmes, cours, compétences,
 * plans-cadres, plans de cours), for any authenticated user and limited to
 * the programmes that user belongs to.  PostgreSQL builds every answer
 * (json_build_object, json_agg), so a handler is one query.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "db.h"
#include "edxo.h"
#include "fcgi.h"
#include "log.h"
#include "req.h"
#include "resp.h"

/* The [{id, code, nom}] of cours "c" and compétences "k". */
#define COURS_ITEM	"json_build_object('id', c.id, 'code', c.code, " \
			"'nom', c.nom)"
#define COMPETENCE_ITEM	"json_build_object('id', k.id, 'code', k.code, " \
			"'nom', k.nom)"

/*
 * The sections /api/plan_cadre/<id>/section/<section> answers: the text
 * columns and the child lists, by their PlanCadre.to_dict() names.  EDxo
 * answered any attribute (hasattr); a fixed list keeps ids and foreign
 * keys out and lets a typo get a useful 400.
 */
static const char *const sections[] = {
	"place_intro", "objectif_terminal", "structure_intro",
	"structure_activites_theoriques", "structure_activites_pratiques",
	"structure_activites_prevues", "eval_evaluation_sommative",
	"eval_nature_evaluations_sommatives", "eval_evaluation_de_la_langue",
	"eval_evaluation_sommatives_apprentissages", "additional_info",
	"ai_model", "capacites", "savoirs_etre", "objets_cibles",
	"cours_relies", "cours_prealables", "cours_corequis",
	"competences_certifiees", "competences_developpees",
};

#define NSECTIONS	(sizeof(sections) / sizeof(sections[0]))

/*
 * The <int:id> path parameter, back as canonical decimal text for $3
 * (strtoll has checked it, so PostgreSQL never sees an odd spelling).
 */
static enum rl_err
id_param(struct rl_req *req, char *buf, size_t bufsz, struct rl_error *e)
{
	long long	 id;
	enum rl_err	 err;

	if ((err = rl_req_param_int(req, "id", &id, e)) != RL_OK)
		return err;
	(void)snprintf(buf, bufsz, "%lld", id);
	return RL_OK;
}

/*
 * An object query keyed by the path's id: 200 with the row's JSON, or 404
 * when there is no row (absent or not visible: the same answer).
 */
static enum rl_err
by_id(struct rl_req *req, const char *sql, const char *what,
    struct rl_error *e)
{
	char		 id[32];
	json_t		*v;
	enum rl_err	 err;

	if ((err = id_param(req, id, sizeof(id), e)) != RL_OK ||
	    (err = rl_edxo_json(req->user, sql, id, NULL, &v, e)) != RL_OK)
		return err;
	if (json_is_null(v)) {
		json_decref(v);
		return rl_error_set(e, RL_ENOTFOUND, "no such %s", what);
	}
	return rl_resp_json_new(req, 200, v);
}

/* GET /api/programmes → [{id, nom}] */
static enum rl_err
programmes(struct rl_req *req, struct rl_error *e)
{
	json_t		*v;
	enum rl_err	 err;

	if ((err = rl_edxo_json(req->user, "SELECT "
	    RL_SQL_LIST("json_build_object('id', p.id, "
	    "'nom', p.nom) ORDER BY p.id", "FROM programmes p WHERE "
	    RL_SQL_SEE_PROGRAMME("p.id")), NULL, NULL, &v, e)) != RL_OK)
		return err;
	return rl_resp_json_new(req, 200, v);
}

/* GET /api/programmes/<int:id>/cours → [{id, code, nom}] */
static enum rl_err
programme_cours(struct rl_req *req, struct rl_error *e)
{

	return by_id(req, "SELECT " RL_SQL_LIST(COURS_ITEM " ORDER BY c.id",
	    "FROM cours c JOIN cours_programme cp ON cp.cours_id = c.id "
	    "WHERE cp.programme_id = p.id") " FROM programmes p "
	    "WHERE p.id = $3::bigint AND " RL_SQL_SEE_PROGRAMME("p.id"),
	    "programme", e);
}

/*
 * GET /api/programmes/<int:id>/competences → [{id, code, nom}], by code
 * as EDxo lists them (Competence.programme_id).
 */
static enum rl_err
programme_competences(struct rl_req *req, struct rl_error *e)
{

	return by_id(req, "SELECT " RL_SQL_LIST(COMPETENCE_ITEM
	    " ORDER BY k.code, k.id", "FROM competences k "
	    "WHERE k.programme_id = p.id") " FROM programmes p "
	    "WHERE p.id = $3::bigint AND " RL_SQL_SEE_PROGRAMME("p.id"),
	    "programme", e);
}

/* GET /api/competences/<int:id>: the compétence, its elements, criteria. */
static enum rl_err
competence(struct rl_req *req, struct rl_error *e)
{

	return by_id(req, "SELECT json_build_object('id', k.id, "
	    "'programme_id', k.programme_id, 'code', k.code, 'nom', k.nom, "
	    "'criteria_de_performance', k.criteria_de_performance, "
	    "'contexte_de_realisation', k.contexte_de_realisation, "
	    "'elements', " RL_SQL_LIST("json_build_object('id', el.id, "
	    "'nom', el.nom, 'criteres', "
	    RL_SQL_LIST("cr.criteria ORDER BY cr.id",
	    "FROM element_competence_criteria cr "
	    "WHERE cr.element_competence_id = el.id") ") ORDER BY el.id",
	    "FROM element_competence el WHERE el.competence_id = k.id") ") "
	    "FROM competences k WHERE k.id = $3::bigint AND "
	    RL_SQL_SEE_COMPETENCE("k.id"), "competence", e);
}

/* GET /api/cours → [{id, code, nom}] */
static enum rl_err
cours_list(struct rl_req *req, struct rl_error *e)
{
	json_t		*v;
	enum rl_err	 err;

	if ((err = rl_edxo_json(req->user, "SELECT "
	    RL_SQL_LIST(COURS_ITEM " ORDER BY c.id", "FROM cours c WHERE "
	    RL_SQL_SEE_COURS("c.id")), NULL, NULL, &v, e)) !=
	    RL_OK)
		return err;
	return rl_resp_json_new(req, 200, v);
}

/* GET /api/cours/<int:id> → {id, code, nom} */
static enum rl_err
cours(struct rl_req *req, struct rl_error *e)
{

	return by_id(req, "SELECT " COURS_ITEM " FROM cours c "
	    "WHERE c.id = $3::bigint AND "
	    RL_SQL_SEE_COURS("c.id"), "cours", e);
}

/*
 * GET /api/cours/<int:id>/plan_cadre: PlanCadre.to_dict(), or EDxo's 404
 * with an empty object when the cours has none (or is not visible).
 */
static enum rl_err
cours_plan_cadre(struct rl_req *req, struct rl_error *e)
{
	char		 id[32];
	json_t		*v;
	enum rl_err	 err;

	if ((err = id_param(req, id, sizeof(id), e)) != RL_OK ||
	    (err = rl_edxo_json(req->user, "SELECT "
	    RL_SQL_PLAN_CADRE_DICT " FROM plan_cadre pc "
	    "WHERE pc.cours_id = $3::bigint AND "
	    RL_SQL_SEE_COURS("pc.cours_id"),
	    id, NULL, &v, e)) != RL_OK)
		return err;
	if (json_is_null(v)) {
		json_decref(v);
		return rl_resp_json_new(req, 404, json_object());
	}
	return rl_resp_json_new(req, 200, v);
}

/* GET /api/cours/<int:id>/plans_de_cours → [PlanDeCours.to_dict()] */
static enum rl_err
cours_plans_de_cours(struct rl_req *req, struct rl_error *e)
{

	return by_id(req, "SELECT "
	    RL_SQL_LIST(RL_SQL_PLAN_DE_COURS_DICT " ORDER BY d.id",
	    "FROM plan_de_cours d WHERE d.cours_id = c.id") " FROM cours c "
	    "WHERE c.id = $3::bigint AND "
	    RL_SQL_SEE_COURS("c.id"), "cours", e);
}

/* GET /api/cours/<int:id>/plans → [{id, session}] (plan_de_cours.py) */
static enum rl_err
cours_plans(struct rl_req *req, struct rl_error *e)
{

	return by_id(req, "SELECT " RL_SQL_LIST("json_build_object('id', d.id, "
	    "'session', d.session) ORDER BY d.id",
	    "FROM plan_de_cours d WHERE d.cours_id = c.id") " FROM cours c "
	    "WHERE c.id = $3::bigint AND "
	    RL_SQL_SEE_COURS("c.id"), "cours", e);
}

/*
 * 400 for an unknown section, in the runtime's error shape plus the list
 * of allowed names (too long for an error message).
 */
static enum rl_err
bad_section(struct rl_req *req, struct rl_error *e)
{
	json_t		*allowed;
	size_t		 i;

	if ((allowed = json_array()) == NULL)
		return rl_error_set(e, RL_ENOMEM, "out of memory");
	for (i = 0; i < NSECTIONS; i++)
		(void)json_array_append_new(allowed, json_string(sections[i]));
	return rl_resp_json_new(req, 400, json_pack("{s:{s:s, s:s, s:s, s:o}}",
	    "error", "code", rl_err_token(RL_EINVAL), "message",
	    "unknown section: see allowed", "field", "section",
	    "allowed", allowed));
}

/*
 * GET /api/plan_cadre/<int:id>/section/<section> → {section: value}, the
 * value as PlanCadre.to_dict() has it.  The name is checked against the
 * list first, then travels as $4 like any other value.
 */
static enum rl_err
plan_cadre_section(struct rl_req *req, struct rl_error *e)
{
	const char	*name = rl_req_param(req, "section");
	char		 id[32];
	size_t		 i;
	json_t		*v;
	enum rl_err	 err;

	for (i = 0; name != NULL && i < NSECTIONS; i++)
		if (strcmp(name, sections[i]) == 0)
			break;
	if (name == NULL || i == NSECTIONS)
		return bad_section(req, e);
	if ((err = id_param(req, id, sizeof(id), e)) != RL_OK ||
	    (err = rl_edxo_json(req->user, "SELECT json_build_object($4::text, "
	    "(" RL_SQL_PLAN_CADRE_DICT ") -> $4::text) FROM plan_cadre pc "
	    "WHERE pc.id = $3::bigint AND " RL_SQL_SEE_COURS("pc.cours_id"),
	    id, name, &v, e)) != RL_OK)
		return err;
	if (json_is_null(v)) {
		json_decref(v);
		return rl_error_set(e, RL_ENOTFOUND, "no such plan-cadre");
	}
	return rl_resp_json_new(req, 200, v);
}

/*
 * The OpenAPI document of every program's routes, which make generates
 * (scripts/mkopenapi, docs/openapi.md) and installs: read once at
 * start-up, before any thread, then only read.
 */
static char	*openapi;

static enum rl_err
load_openapi(struct rl_error *e)
{
	const char	*path;
	json_t		*doc;
	json_error_t	 je;

	path = rl_conf->openapi_file;
	if ((doc = json_load_file(path, JSON_REJECT_DUPLICATES, &je)) ==
	    NULL || (openapi = json_dumps(doc, JSON_COMPACT)) == NULL)
		rl_log_warn("api: %s: %s: GET /openapi.json answers 503",
		    path, doc == NULL ? je.text : "out of memory");
	json_decref(doc);
	(void)e;
	return RL_OK;
}

/* GET /openapi.json: the document, checked like any answer. */
static enum rl_err
openapi_json(struct rl_req *req, struct rl_error *e)
{
	json_t		*doc;
	json_error_t	 je;

	if (openapi == NULL)
		return rl_error_set(e, RL_EUNAVAIL, "the OpenAPI document is "
		    "not installed");
	if ((doc = json_loads(openapi, 0, &je)) == NULL)
		return rl_error_set(e, RL_ENOMEM, NULL);
	return rl_resp_json_new(req, 200, doc);
}

/*
 * Every input is a path parameter (EDxo's read API takes no query
 * fields), so no route names a request schema: a query string is ignored.
 */
static const struct rl_route routes[] = {
	{ "GET", "/api/programmes", programmes, NULL, RL_ROUTE_AUTH, 0 },
	{ "GET", "/api/programmes/<int:id>/cours", programme_cours, NULL,
	    RL_ROUTE_AUTH, 0 },
	{ "GET", "/api/programmes/<int:id>/competences",
	    programme_competences, NULL, RL_ROUTE_AUTH, 0 },
	{ "GET", "/api/competences/<int:id>", competence, NULL,
	    RL_ROUTE_AUTH, 0 },
	{ "GET", "/api/cours", cours_list, NULL, RL_ROUTE_AUTH, 0 },
	{ "GET", "/api/cours/<int:id>", cours, NULL, RL_ROUTE_AUTH, 0 },
	{ "GET", "/api/cours/<int:id>/plan_cadre", cours_plan_cadre, NULL,
	    RL_ROUTE_AUTH, 0 },
	{ "GET", "/api/cours/<int:id>/plans_de_cours", cours_plans_de_cours,
	    NULL, RL_ROUTE_AUTH, 0 },
	{ "GET", "/api/cours/<int:id>/plans", cours_plans, NULL,
	    RL_ROUTE_AUTH, 0 },
	{ "GET", "/api/plan_cadre/<int:id>/section/<section>",
	    plan_cadre_section, NULL, RL_ROUTE_AUTH, 0 },
	{ "GET", "/openapi.json", openapi_json, NULL, 0, 0 },
};

static const struct rl_program program = {
	"api", routes, RL_NROUTES(routes), 0, 1, load_openapi
};

int
main(int argc, char *argv[])
{

	return rl_main(argc, argv, &program);
}
