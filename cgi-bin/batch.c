/*
 * batch: generation through OpenAI's Batch API at half price (issue 21,
 * seed 002).  See cgi-bin/batch.8 and docs/internals/batch.md.
 *
 *	POST   /batch			launch: plans and sections, or a
 *					    programme session
 *	GET    /batch			the history, newest first
 *	GET    /batch/<id>		one batch, its lines, OpenAI's object
 *	POST   /batch/<id>/refresh	ask OpenAI now (collects when ended)
 *	POST   /batch/<id>/resume	a new batch of the lines that failed
 *	POST   /batch/<id>/cancel
 *	DELETE /batch/<id>		out of the history (cancelled first)
 *	POST   /batch/process		refresh and collect all of the user's
 *	POST   /batch/cleanup		(batch_export.c)
 *	GET    /batch/export		(batch_export.c)
 *	GET    /batch/<id>/results	(batch_export.c)
 *	GET    /batches			the page (a redirect to the admin's)
 *
 * Every check of a launch (the plans exist and are the user's, the
 * sections are known, the selection is not empty) comes before anything
 * is held or uploaded; lib/edxo/batch.c does the rest.  Another user's batch
 * is a 404, as one that does not exist.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "batch.h"
#include "batch_export.h"
#include "bounds.h"
#include "db.h"
#include "edxo.h"
#include "fcgi.h"
#include "req.h"
#include "resp.h"
#include "route.h"

static int
is_admin(const struct rl_req *req)
{

	return req->user->role == RL_ROLE_ADMIN;
}

/* B of batch id, seen by the user; RL_ENOTFOUND when not. */
static enum rl_err
batch_of(struct rl_req *req, long long id, json_t **b, struct rl_error *e)
{
	enum rl_err	 err;

	if ((err = rl_batch_get(id, req->user->id, is_admin(req), 0, b,
	    e)) != RL_OK)
		return err;
	if (json_is_null(*b)) {
		json_decref(*b);
		*b = NULL;
		return rl_error_set(e, RL_ENOTFOUND, "Lot introuvable.");
	}
	return RL_OK;
}

/* The path's batch, seen by the user: its id. */
static enum rl_err
path_batch(struct rl_req *req, long long *id, struct rl_error *e)
{
	json_t		*b = NULL;
	enum rl_err	 err;

	if ((err = rl_req_param_int(req, "id", id, e)) != RL_OK)
		return err;
	err = batch_of(req, *id, &b, e);
	json_decref(b);
	return err;
}

/* Answer {batch: B} of id with status. */
static enum rl_err
answer_batch(struct rl_req *req, int status, long long id,
    struct rl_error *e)
{
	json_t		*b = NULL;
	enum rl_err	 err;

	if ((err = batch_of(req, id, &b, e)) != RL_OK)
		return err;
	return rl_resp_json_new(req, status, json_pack("{s:o}", "batch", b));
}

/*
 * The plans a launch names, each one the user may see: plan-cadre or
 * plan-de-cours ids.  An unknown plan and one outside the user's
 * programmes are the same 404, as on the synchronous routes.
 */
static enum rl_err
check_plans(struct rl_req *req, const char *kind, const json_t *ids,
    struct rl_error *e)
{
	json_t		*seen = NULL, *v;
	const char	*p[3];
	char		 uid[32];
	char		*list;
	size_t		 i, j;
	enum rl_err	 err;
	int		 found;

	if ((list = json_dumps(ids, JSON_COMPACT)) == NULL)
		return rl_error_set(e, RL_ENOMEM, "out of memory");
	(void)snprintf(uid, sizeof(uid), "%lld", req->user->id);
	p[0] = uid;
	p[1] = is_admin(req) ? "t" : "f";
	p[2] = list;
	err = rl_db_json(strcmp(kind, RL_BATCH_KIND_PC) == 0 ?
	    "SELECT coalesce(json_agg(x.id), '[]') FROM plan_cadre x "
	    "WHERE x.id IN (SELECT value::bigint FROM json_array_elements_text"
	    "($3::json)) AND " RL_SQL_SEE_COURS("x.cours_id") :
	    "SELECT coalesce(json_agg(x.id), '[]') FROM plan_de_cours x "
	    "WHERE x.id IN (SELECT value::bigint FROM json_array_elements_text"
	    "($3::json)) AND " RL_SQL_SEE_COURS("x.cours_id"), 3, p, &seen, e);
	free(list);
	if (err != RL_OK)
		return err;
	json_array_foreach(ids, i, v) {
		found = 0;
		for (j = 0; j < json_array_size(seen); j++)
			if (json_integer_value(json_array_get(seen, j)) ==
			    json_integer_value(v))
				found = 1;
		if (!found) {
			err = rl_error_field(e, RL_ENOTFOUND, "plan_ids",
			    "%s %lld introuvable.", strcmp(kind,
			    RL_BATCH_KIND_PC) == 0 ? "Plan-cadre" :
			    "Plan de cours", (long long)json_integer_value(v));
			break;
		}
	}
	json_decref(seen);
	return err;
}

/* The plans of a programme session (a visible programme), as ids. */
static enum rl_err
session_plans(struct rl_req *req, const char *kind, json_t **ids,
    struct rl_error *e)
{
	json_t		*v = NULL;
	const char	*p[4];
	char		 uid[32], pid[32], ses[32];
	enum rl_err	 err;

	(void)snprintf(uid, sizeof(uid), "%lld", req->user->id);
	(void)snprintf(pid, sizeof(pid), "%lld", (long long)
	    json_integer_value(json_object_get(req->json, "programme_id")));
	(void)snprintf(ses, sizeof(ses), "%lld", (long long)
	    json_integer_value(json_object_get(req->json, "session")));
	p[0] = uid;
	p[1] = is_admin(req) ? "t" : "f";
	p[2] = pid;
	p[3] = ses;
	if ((err = rl_db_json("SELECT json_build_object('seen', EXISTS "
	    "(SELECT 1 FROM programmes g WHERE g.id = $3::bigint AND "
	    RL_SQL_SEE_PROGRAMME("g.id") "), 'pc', coalesce((SELECT "
	    "json_agg(x.id ORDER BY x.id) FROM plan_cadre x JOIN "
	    "cours_programme cp ON cp.cours_id = x.cours_id WHERE "
	    "cp.programme_id = $3::bigint AND cp.session = $4::integer), "
	    "'[]'), 'pdc', coalesce((SELECT json_agg(x.id ORDER BY x.id) "
	    "FROM plan_de_cours x JOIN cours_programme cp ON cp.cours_id = "
	    "x.cours_id WHERE cp.programme_id = $3::bigint AND cp.session = "
	    "$4::integer), '[]'))", 4, p, &v, e)) != RL_OK)
		return err;
	if (!json_is_true(json_object_get(v, "seen")))
		err = rl_error_field(e, RL_ENOTFOUND, "programme_id",
		    "Programme %s introuvable.", pid);
	else
		*ids = json_incref(json_object_get(v, strcmp(kind,
		    RL_BATCH_KIND_PC) == 0 ? "pc" : "pdc"));
	json_decref(v);
	return err;
}

/* The launch options the synchronous routes take, as given. */
static json_t *
options_of(struct rl_req *req)
{
	static const char *const keys[] = { "model", "reasoning_effort",
	    "verbosity", "additional_info", "mode" };
	const char	*v;
	json_t		*o;
	size_t		 i;

	if ((o = json_object()) == NULL)
		return NULL;
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if ((v = json_string_value(json_object_get(req->json,
		    keys[i]))) != NULL && *v != '\0')
			(void)json_object_set_new(o, keys[i], json_string(v));
	/* EDxo's forms name the model ai_model. */
	if (json_object_get(o, "model") == NULL && (v = json_string_value(
	    json_object_get(req->json, "ai_model"))) != NULL && *v != '\0')
		(void)json_object_set_new(o, "model", json_string(v));
	return o;
}

/* POST /batch */
static enum rl_err
launch(struct rl_req *req, struct rl_error *e)
{
	const json_t		*secs, *v, *s;
	json_t			*ids = NULL, *items = NULL, *opt = NULL;
	const char		*kind, *def;
	long long		 id;
	size_t			 i, j;
	enum rl_err		 err;

	/* The request schema requires kind among the two. */
	kind = json_string_value(json_object_get(req->json, "kind"));
	if (!rl_batch_kind_ok(kind))
		return rl_error_field(e, RL_EINVAL, "kind", "kind : "
		    "plan_cadre ou plan_de_cours.");
	secs = json_object_get(req->json, "sections");
	json_array_foreach(secs, i, s)
		if (!rl_batch_section_ok(kind, json_string_value(s)))
			return rl_error_field(e, RL_EINVAL, "sections",
			    "Section inconnue : %s", json_string_value(s));
	if (json_object_get(req->json, "programme_id") != NULL) {
		if (json_object_get(req->json, "session") == NULL)
			return rl_error_field(e, RL_EINVAL, "session",
			    "session requise avec programme_id.");
		if ((err = session_plans(req, kind, &ids, e)) != RL_OK)
			return err;
	} else if ((ids = json_incref(json_object_get(req->json,
	    "plan_ids"))) == NULL)
		return rl_error_field(e, RL_EINVAL, "plan_ids", "plan_ids ou "
		    "programme_id requis.");
	if (json_array_size(ids) == 0 || (secs != NULL &&
	    json_array_size(secs) == 0)) {
		err = rl_error_field(e, RL_EINVAL, json_array_size(ids) == 0 ?
		    "plan_ids" : "sections", "Sélection vide : aucune section "
		    "à générer.");
		goto out;
	}
	if (json_array_size(ids) > RL_BATCH_PLANS_MAX) {
		err = rl_error_field(e, RL_EINVAL, "plan_ids", "Trop de plans "
		    "(%d au plus).", RL_BATCH_PLANS_MAX);
		goto out;
	}
	if ((err = check_plans(req, kind, ids, e)) != RL_OK)
		goto out;
	if ((items = json_array()) == NULL || (opt = options_of(req)) ==
	    NULL) {
		err = rl_error_set(e, RL_ENOMEM, "out of memory");
		goto out;
	}
	json_array_foreach(ids, i, v) {
		if (secs != NULL)
			json_array_foreach(secs, j, s)
				(void)json_array_append_new(items, json_pack(
				    "{s:O, s:O}", "plan_id", v, "section", s));
		else
			for (j = 0; (def = rl_batch_section(kind, j)) !=
			    NULL; j++)
				(void)json_array_append_new(items, json_pack(
				    "{s:O, s:s}", "plan_id", v, "section",
				    def));
	}
	if ((err = rl_batch_launch(req->user->id, kind, items, opt,
	    secs != NULL, 0, &id, e)) != RL_OK)
		goto out;
	err = answer_batch(req, 202, id, e);
out:
	json_decref(ids);
	json_decref(items);
	json_decref(opt);
	return err;
}

/* GET /batch */
static enum rl_err
list(struct rl_req *req, struct rl_error *e)
{
	json_t		*l = NULL;
	const json_t	*lim;
	enum rl_err	 err;

	lim = json_object_get(req->json, "limit");
	if ((err = rl_batch_list(req->user->id, is_admin(req),
	    json_string_value(json_object_get(req->json, "status")),
	    lim != NULL ? (int)json_integer_value(lim) :
	    RL_BATCH_LIST_DEFAULT, &l, e)) != RL_OK)
		return err;
	return rl_resp_json_new(req, 200, json_pack("{s:o}", "batches", l));
}

/* GET /batch/<id> */
static enum rl_err
show(struct rl_req *req, struct rl_error *e)
{
	json_t		*v = NULL;
	long long	 id;
	enum rl_err	 err;

	if ((err = rl_req_param_int(req, "id", &id, e)) != RL_OK ||
	    (err = rl_batch_get(id, req->user->id, is_admin(req), 1, &v,
	    e)) != RL_OK)
		return err;
	if (json_is_null(v)) {
		json_decref(v);
		return rl_error_set(e, RL_ENOTFOUND, "Lot introuvable.");
	}
	return rl_resp_json_new(req, 200, v);
}

/* POST /batch/<id>/refresh */
static enum rl_err
refresh(struct rl_req *req, struct rl_error *e)
{
	long long	 id;
	enum rl_err	 err;

	if ((err = path_batch(req, &id, e)) != RL_OK ||
	    (err = rl_batch_refresh(id, e)) != RL_OK)
		return err;
	return answer_batch(req, 200, id, e);
}

/* POST /batch/<id>/resume */
static enum rl_err
resume(struct rl_req *req, struct rl_error *e)
{
	json_t		*items = NULL, *opt = NULL;
	char		 kind[32];
	long long	 id, nid;
	enum rl_err	 err;

	if ((err = path_batch(req, &id, e)) != RL_OK ||
	    (err = rl_batch_kind(id, kind, sizeof(kind), e)) != RL_OK ||
	    (err = rl_batch_resumable(id, &items, &opt, e)) != RL_OK)
		return err;
	if (json_array_size(items) == 0)
		err = rl_resp_json_new(req, 409, json_pack("{s:{s:s, s:s}}",
		    "error", "code", "nothing_to_resume", "message",
		    "Aucune section à reprendre."));
	else if ((err = rl_batch_launch(req->user->id, kind, items, opt, 1,
	    id, &nid, e)) == RL_OK)
		err = answer_batch(req, 202, nid, e);
	json_decref(items);
	json_decref(opt);
	return err;
}

/* POST /batch/<id>/cancel */
static enum rl_err
cancel(struct rl_req *req, struct rl_error *e)
{
	long long	 id;
	enum rl_err	 err;

	if ((err = path_batch(req, &id, e)) != RL_OK ||
	    (err = rl_batch_cancel(id, e)) != RL_OK)
		return err;
	return answer_batch(req, 200, id, e);
}

/* DELETE /batch/<id> */
static enum rl_err
delete(struct rl_req *req, struct rl_error *e)
{
	long long	 id;
	enum rl_err	 err;

	if ((err = path_batch(req, &id, e)) != RL_OK ||
	    (err = rl_batch_delete(id, e)) != RL_OK)
		return err;
	return rl_resp_json_new(req, 200, json_pack("{s:I}", "deleted",
	    (json_int_t)id));
}

/* POST /batch/process: every batch of the user not yet collected. */
static enum rl_err
process(struct rl_req *req, struct rl_error *e)
{
	struct rl_error	 be;
	json_t		*ids = NULL, *out, *b, *v;
	size_t		 i;
	int		 n = 0;
	enum rl_err	 err;

	if ((err = rl_batch_open(req->user->id, &ids, e)) != RL_OK)
		return err;
	if ((out = json_array()) == NULL) {
		json_decref(ids);
		return rl_error_set(e, RL_ENOMEM, "out of memory");
	}
	json_array_foreach(ids, i, v) {
		rl_error_clear(&be);
		/* One batch OpenAI does not answer for leaves the others. */
		if (rl_batch_refresh(json_integer_value(v), &be) != RL_OK)
			continue;
		n++;
		b = NULL;
		if (batch_of(req, json_integer_value(v), &b, &be) == RL_OK)
			(void)json_array_append_new(out, b);
	}
	json_decref(ids);
	return rl_resp_json_new(req, 200, json_pack("{s:i, s:o}",
	    "processed", n, "batches", out));
}

/*
 * GET /batches: the history page, a static file beside the admin page
 * (admin/batches.html, served by nginx under /admin/).
 */
static enum rl_err
page(struct rl_req *req, struct rl_error *e)
{
	enum rl_err	 err;

	(void)e;
	if ((err = rl_resp_header(req, "Location", "/admin/batches.html")) !=
	    RL_OK)
		return err;
	return rl_resp_send(req, 302, NULL, NULL, 0);
}

#define JSON_AUTH	(RL_ROUTE_AUTH | RL_ROUTE_JSON)

static const struct rl_route routes[] = {
	{ "POST", "/batch", launch, "batch.create", JSON_AUTH, 0 },
	{ "GET", "/batch", list, "batch.list", RL_ROUTE_AUTH, 0 },
	{ "POST", "/batch/process", process, NULL, JSON_AUTH, 0 },
	{ "POST", "/batch/cleanup", rl_batch_cleanup, "batch.cleanup",
	    JSON_AUTH, 0 },
	{ "GET", "/batch/export", rl_batch_export_history, "batch.export",
	    RL_ROUTE_AUTH, 0 },
	{ "GET", "/batch/<int:id>", show, NULL, RL_ROUTE_AUTH, 0 },
	{ "DELETE", "/batch/<int:id>", delete, NULL, RL_ROUTE_AUTH, 0 },
	{ "POST", "/batch/<int:id>/refresh", refresh, NULL, JSON_AUTH, 0 },
	{ "POST", "/batch/<int:id>/resume", resume, NULL, JSON_AUTH, 0 },
	{ "POST", "/batch/<int:id>/cancel", cancel, NULL, JSON_AUTH, 0 },
	{ "GET", "/batch/<int:id>/results", rl_batch_results,
	    "batch.results", RL_ROUTE_AUTH, 0 },
	{ "GET", "/batches", page, NULL, RL_ROUTE_AUTH, 0 },
};

static const struct rl_program program = {
	"batch", routes, RL_NROUTES(routes), 0, 1, NULL
};

int
main(int argc, char *argv[])
{

	return rl_main(argc, argv, &program);
}
