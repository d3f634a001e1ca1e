/*
 * generation: programme-level and plan-cadre generation (issue 9), EDxo's
 * /programme/<id>/logigramme|links|grille/..., /plan_cadre/<id>/... and
 * /api/plan_cadre/<id>/... routes.  Starting a generation queues a task
 * (lib/edxo/programme.c, lib/edxo/plancadre.c, run by relais-worker,
 * followed on /tasks/events); nothing generated is written until an
 * apply route.  docs/generation.md.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "edxo.h"
#include "fcgi.h"
#include "generation.h"
#include "gen.h"
#include "programme.h"
#include "req.h"
#include "resp.h"
#include "worker.h"

/* Run a visibility query: $1 user, $2 admin, $3 id; one row or 404. */
static enum rl_err
see(struct rl_req *req, const char *sql, long long id, char *out,
    size_t outsz, const char *what, struct rl_error *e)
{
	struct rl_dbres	*res = NULL;
	const char	*p[3];
	char		 uid[32], sid[32];
	enum rl_err	 err;

	(void)snprintf(uid, sizeof(uid), "%lld", req->user->id);
	(void)snprintf(sid, sizeof(sid), "%lld", id);
	p[0] = uid;
	p[1] = req->user->role == RL_ROLE_ADMIN ? "t" : "f";
	p[2] = sid;
	if ((err = rl_db_exec(sql, 3, p, &res, e)) != RL_OK)
		return err;
	if (rl_dbres_rows(res) != 1)
		err = rl_error_set(e, RL_ENOTFOUND, "%s introuvable.", what);
	else if (out != NULL)
		(void)snprintf(out, outsz, "%s", rl_dbres_get(res, 0, 0));
	rl_dbres_free(res);
	return err;
}

enum rl_err
gen_see_programme(struct rl_req *req, long long id, struct rl_error *e)
{

	return see(req, "SELECT p.id FROM programmes p WHERE p.id = "
	    "$3::bigint AND " RL_SQL_SEE_PROGRAMME("p.id"), id, NULL, 0,
	    "Programme", e);
}

enum rl_err
gen_see_plan(struct rl_req *req, long long id, long long *cours_id,
    struct rl_error *e)
{
	char		 buf[32];
	enum rl_err	 err;

	if ((err = see(req, "SELECT pc.cours_id FROM plan_cadre pc "
	    "WHERE pc.id = $3::bigint AND " RL_SQL_SEE_COURS("pc.cours_id"),
	    id, buf, sizeof(buf), "Plan-cadre", e)) != RL_OK)
		return err;
	if (cours_id != NULL)
		*cours_id = strtoll(buf, NULL, 10);
	return RL_OK;
}

/* A string option of the validated body; "" (a blank field) is none. */
static const char *
option(const struct rl_req *req, const char *name)
{
	const char	*v;

	v = json_string_value(json_object_get(req->json, name));
	return v != NULL && *v != '\0' ? v : NULL;
}

enum rl_err
gen_options(struct rl_req *req, const char *section, json_t *payload,
    struct rl_error *e)
{
	const char	*model, *effort, *verb, *add;
	json_t		*s = NULL;
	enum rl_err	 err;

	if ((model = option(req, "ai_model")) == NULL)
		model = option(req, "model");
	effort = option(req, "reasoning_effort");
	verb = option(req, "verbosity");
	add = json_string_value(json_object_get(req->json, "additional_info"));
	/* A byte limit: the request schema's maxLength counts characters. */
	if (add != NULL && strlen(add) > RL_ADDITIONAL_INFO_MAX)
		return rl_error_field(e, RL_EVALIDATION, "additional_info",
		    "additional_info : au plus %d octets.",
		    RL_ADDITIONAL_INFO_MAX);
	if (model != NULL)
		(void)json_object_set_new(payload, "model", json_string(model));
	if (effort != NULL)
		(void)json_object_set_new(payload, "reasoning_effort",
		    json_string(effort));
	if (verb != NULL)
		(void)json_object_set_new(payload, "verbosity",
		    json_string(verb));
	if (add != NULL && json_object_get(payload, "additional_info") == NULL)
		(void)json_object_set_new(payload, "additional_info",
		    json_string(add));
	/* The model the task will use, fixed now and checked once. */
	if ((err = rl_generation_settings(section, payload, &s, e)) != RL_OK)
		return err;
	(void)json_object_set(payload, "model", json_object_get(s, "model"));
	json_decref(s);
	return rl_generation_precheck(req->user->id, json_string_value(
	    json_object_get(payload, "model")), e);
}

enum rl_err
gen_enqueue(struct rl_req *req, const char *kind, const json_t *payload,
    char id[37], struct rl_error *e)
{

	return rl_task_enqueue(kind, req->user->id, payload, id, e);
}

enum rl_err
gen_task(struct rl_req *req, const char *task_id, json_t **row,
    struct rl_error *e)
{
	enum rl_err	 err;

	*row = NULL;
	/* Not a uuid: not one of ours, without asking PostgreSQL to fail. */
	if (!rl_uuid_valid(task_id))
		return rl_error_set(e, RL_ENOTFOUND, "Tâche introuvable.");
	if ((err = rl_edxo_json(req->user, "SELECT json_build_object("
	    "'name', t.name, 'state', t.state, 'payload', t.payload, "
	    "'result', t.result, 'meta', t.meta) FROM tasks t "
	    "WHERE t.id = $3::uuid AND ($2::boolean OR t.user_id = $1::bigint)",
	    task_id, NULL, row, e)) != RL_OK)
		return err;
	if (json_is_null(*row)) {
		json_decref(*row);
		*row = NULL;
		return rl_error_set(e, RL_ENOTFOUND, "Tâche introuvable.");
	}
	return RL_OK;
}

/*
 * Every route is one EDxo's pages call, and they read data.error: EDxo's
 * error shape and statuses (RL_ROUTE_EDXO).  The starts take JSON, a
 * urlencoded form or FormData, as those pages send them; links and the
 * grille's apply take the JSON list and object the contract names.  Each
 * route's fields are its request schema (lib/schemas/requests).  The
 * review routes answer a browser's navigation with their page
 * (pages/<name>-review.html), whose script reads their JSON.
 */
#define COORDO		(RL_ROUTE_EDXO_AUTH | RL_ROUTE_COORDO)
#define COORDO_BODY	(RL_ROUTE_EDXO_BODY | RL_ROUTE_COORDO)
#define COORDO_JSON	(COORDO | RL_ROUTE_JSON)

static const struct rl_route routes[] = {
	{ "POST", "/programme/<int:id>/logigramme/generate", gen_logigramme,
	    "generation.logigramme_generate", COORDO_BODY, 0 },
	{ "POST", "/programme/<int:id>/links", gen_links,
	    "generation.links", COORDO_JSON, 0 },
	{ "POST", "/programme/<int:id>/grille/generate", gen_grille,
	    "generation.grille_generate", COORDO_BODY, 0 },
	{ "GET", "/programme/<int:id>/logigramme/review/<uuid:task_id>",
	    gen_logigramme_review, NULL, COORDO, 0 },
	{ "GET", "/programme/<int:id>/grille/review/<uuid:task_id>",
	    gen_grille_review, NULL, COORDO, 0 },
	{ "POST", "/programme/<int:id>/grille/apply", gen_grille_apply,
	    "generation.grille_apply", COORDO_JSON, 0 },
	{ "POST", "/plan_cadre/<int:id>/generate_content", gen_pc_content,
	    "generation.generate_content", COORDO_BODY, 0 },
	{ "GET", "/plan_cadre/<int:id>/review", gen_pc_review,
	    "generation.review", COORDO, 0 },
	{ "POST", "/plan_cadre/<int:id>/apply_improvement", gen_pc_apply,
	    "generation.apply_improvement", COORDO_BODY, 0 },
	{ "POST", "/api/plan_cadre/<int:id>/generate", gen_pc_api_generate,
	    "generation.plan_cadre_api", RL_ROUTE_EDXO_BODY, 0 },
	{ "POST", "/api/plan_cadre/<int:id>/improve", gen_pc_api_improve,
	    "generation.plan_cadre_api", RL_ROUTE_EDXO_BODY, 0 },
	{ "POST", "/api/plan_cadre/<int:id>/improve/<section>",
	    gen_pc_api_section, "generation.plan_cadre_api",
	    RL_ROUTE_EDXO_BODY, 0 },
};

/*
 * No start-up hook: routes that name request schemas make rl_main load
 * the registry, grille_cours (the grille's apply) included.
 */
static const struct rl_program program = {
	"generation", routes, RL_NROUTES(routes), 0, 1, NULL
};

int
main(int argc, char *argv[])
{

	return rl_main(argc, argv, &program);
}
