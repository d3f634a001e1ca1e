/*
 * plandecours: EDxo's plan-de-cours AI features (docs/plandecours.md).
 *
 *	POST /generate_content			one section, sync
 *	POST /generate_calendar			the calendar, sync (written)
 *	POST /generate_all			the whole plan, sync (written)
 *	POST /generate_all_start		the whole plan, task
 *	GET  /generate_all_status		a task, EDxo's legacy shape
 *	POST /api/plan_de_cours/<id>/improve/<field>	tasks: previews
 *	POST /api/plan_de_cours/<id>/generate_calendar
 *	POST /api/plan_de_cours/<id>/generate_evaluations
 *	POST /api/plan_de_cours/<id>/generate
 *	GET  /plan_de_cours/review/<id>		the review page (a shell)
 *	GET  /plan_de_cours/review/<id>/current	the plan as it is now
 *	POST /plan_de_cours/review/<id>/apply	confirm or revert a preview
 *	POST /gestion_programme/update_verifier_plan_cours/<id>	verifier
 *	POST /gestion_programme/analyse_plan_de_cours/<id>/start
 *	GET  /gestion_programme/get_verifier_plan_cours/<id>
 *
 * The features live in lib/edxo/pdc.c, which the worker's tasks share.
 * The runtime has validated each route's fields against its request
 * schema (plandecours.*) before a handler runs; this file checks what a
 * schema cannot before anything is queued or paid (visibility, the
 * prompt renders) and shapes answers.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "fcgi.h"
#include "gen.h"
#include "pdc.h"
#include "req.h"
#include "resp.h"
#include "worker.h"

static int
is_admin(const struct rl_req *req)
{

	return req->user->role == RL_ROLE_ADMIN;
}

/*
 * A text field of the request as the route's schema validated it
 * (req->json: the body, or a GET's query string): NULL when absent or
 * null.  The schema has checked its type and its values already.
 */
static const char *
body_str(const struct rl_req *req, const char *name)
{

	return json_string_value(json_object_get(req->json, name));
}

/* The <int:id> path parameter. */
static enum rl_err
path_id(struct rl_req *req, long long *id, struct rl_error *e)
{

	return rl_req_param_int(req, "id", id, e);
}

/*
 * Render the prompt and queue the task; the answer is EDxo's 202
 * {task_id} (legacy: 200 {success, task_id}).  Every check that can fail
 * (visibility, field, template) runs before the task exists.
 */
static enum rl_err
start(struct rl_req *req, const struct rl_pdc *p,
    const struct rl_pdc_input *in, int legacy, struct rl_error *e)
{
	struct rl_pdc_prompt	 pp;
	json_t			*payload = NULL;
	char			 id[37];
	enum rl_err		 err;

	if ((err = rl_pdc_prompt(p, in, &pp, e)) != RL_OK)
		return err;
	payload = json_pack("{s:I, s:o}", "plan_id", (json_int_t)p->plan_id,
	    "prompt", rl_pdc_prompt_json(&pp));
	if (payload != NULL && in->field != NULL)
		(void)json_object_set_new(payload, "field_name",
		    json_string(in->field));
	rl_pdc_prompt_free(&pp);
	if (payload == NULL)
		return rl_error_set(e, RL_ENOMEM, "out of memory");
	err = rl_task_enqueue(rl_pdc_task_name(in->kind), req->user->id,
	    payload, id, e);
	json_decref(payload);
	if (err != RL_OK)
		return err;
	if (legacy)
		return rl_resp_json_new(req, 200, json_pack("{s:b, s:s}",
		    "success", 1, "task_id", id));
	return rl_resp_json_new(req, 202, json_pack("{s:s}", "task_id", id));
}

/* Load the plan of the path's id, visible to the user. */
static enum rl_err
load_path(struct rl_req *req, struct rl_pdc *p, struct rl_error *e)
{
	long long	 id;
	enum rl_err	 err;

	if ((err = path_id(req, &id, e)) != RL_OK)
		return err;
	return rl_pdc_load(req->user->id, is_admin(req), id, 0, NULL, p, e);
}

/*
 * Load by the body's cours_id and session, which the route's request
 * schema requires (a positive id, a session such as A25).
 */
static enum rl_err
load_body(struct rl_req *req, struct rl_pdc *p, int need_plan,
    struct rl_error *e)
{
	enum rl_err	 err;

	if ((err = rl_pdc_load(req->user->id, is_admin(req), 0,
	    json_integer_value(json_object_get(req->json, "cours_id")),
	    body_str(req, "session"), p, e)) != RL_OK)
		return err;
	if (need_plan && p->plan_id == 0) {
		rl_pdc_free(p);
		return rl_error_set(e, RL_ENOTFOUND, "Plan de cours non "
		    "trouvé pour ce cours et cette session.");
	}
	return RL_OK;
}

/* An async route over the path's plan: kind, optional field. */
static enum rl_err
async_route(struct rl_req *req, enum rl_pdc_kind kind, struct rl_error *e)
{
	struct rl_pdc		 p;
	struct rl_pdc_input	 in;
	enum rl_err		 err;

	memset(&in, 0, sizeof(in));
	in.kind = kind;
	in.additional_info = body_str(req, "additional_info");
	in.ai_model = body_str(req, "ai_model");
	in.effort = body_str(req, "reasoning_effort");
	in.verbosity = body_str(req, "verbosity");
	if (kind == RL_PDC_FIELD)
		in.field = rl_req_param(req, "field");
	/* The page's current list: an array, when given (the schema). */
	if (kind == RL_PDC_CALENDAR || kind == RL_PDC_EVALUATIONS)
		in.existing = json_object_get(req->json, kind ==
		    RL_PDC_CALENDAR ? "existing_calendriers" :
		    "existing_evaluations");
	if ((err = load_path(req, &p, e)) != RL_OK)
		return err;
	err = start(req, &p, &in, 0, e);
	rl_pdc_free(&p);
	if (err != RL_OK && err != RL_EGONE && !rl_resp_sent(req))
		return rl_resp_edxo_error(req, e, 0);
	return err;
}

/* POST /api/plan_de_cours/<int:id>/improve/<field> → 202 {task_id} */
static enum rl_err
improve(struct rl_req *req, struct rl_error *e)
{

	return async_route(req, RL_PDC_FIELD, e);
}

/* POST /api/plan_de_cours/<int:id>/generate_calendar → 202 {task_id} */
static enum rl_err
calendar_start(struct rl_req *req, struct rl_error *e)
{

	return async_route(req, RL_PDC_CALENDAR, e);
}

/* POST /api/plan_de_cours/<int:id>/generate_evaluations → 202 */
static enum rl_err
evaluations_start(struct rl_req *req, struct rl_error *e)
{

	return async_route(req, RL_PDC_EVALUATIONS, e);
}

/* POST /api/plan_de_cours/<int:id>/generate → 202 {task_id} */
static enum rl_err
generate_start(struct rl_req *req, struct rl_error *e)
{

	return async_route(req, RL_PDC_ALL, e);
}

/*
 * POST /generate_all_start → {success, task_id}.  The route is
 * RL_ROUTE_LEGACY: the runtime answers every failure as EDxo's {success:
 * false, message}.
 */
static enum rl_err
all_start(struct rl_req *req, struct rl_error *e)
{
	struct rl_pdc		 p;
	struct rl_pdc_input	 in;
	enum rl_err		 err;

	memset(&in, 0, sizeof(in));
	in.kind = RL_PDC_ALL;
	in.additional_info = body_str(req, "additional_info");
	in.ai_model = body_str(req, "ai_model");
	if ((err = load_body(req, &p, 1, e)) != RL_OK)
		return err;
	err = start(req, &p, &in, 1, e);
	rl_pdc_free(&p);
	return err;
}

/*
 * One synchronous generation: prompt, call, validated answer in g.  pp is
 * the caller's (g points into it): rl_pdc_prompt_free it after g.
 */
static enum rl_err
sync_generate(struct rl_req *req, const struct rl_pdc *p,
    const struct rl_pdc_input *in, struct rl_pdc_prompt *pp,
    struct rl_gen *g, struct rl_error *e)
{
	enum rl_err		 err;

	memset(g, 0, sizeof(*g));
	if ((err = rl_pdc_prompt(p, in, pp, e)) != RL_OK)
		return err;
	return rl_pdc_generate(in->kind, 1, pp, req->user->id, req->id, NULL,
	    g, e);
}

/* POST /generate_content → {champ_description}; nothing is written. */
static enum rl_err
generate_content(struct rl_req *req, struct rl_error *e)
{
	struct rl_pdc		 p;
	struct rl_pdc_input	 in;
	struct rl_pdc_prompt	 pp;
	struct rl_gen		 g;
	enum rl_err		 err;

	memset(&in, 0, sizeof(in));
	memset(&pp, 0, sizeof(pp));
	memset(&g, 0, sizeof(g));
	in.kind = RL_PDC_FIELD;
	in.sync = 1;
	in.field = body_str(req, "field_name");
	in.current_value = body_str(req, "current_value");
	if ((err = load_body(req, &p, 0, e)) != RL_OK)
		return rl_resp_edxo_error(req, e, 0);
	err = sync_generate(req, &p, &in, &pp, &g, e);
	rl_pdc_free(&p);
	if (err == RL_OK)
		err = rl_resp_json_new(req, 200, json_pack("{s:O}",
		    "champ_description", json_object_get(g.result,
		    "champ_description")));
	else
		err = rl_resp_edxo_error(req, e, 0);
	rl_gen_free(&g);
	rl_pdc_prompt_free(&pp);
	return err;
}

/* POST /generate_calendar → {entries}; the plan's calendar is replaced. */
static enum rl_err
generate_calendar(struct rl_req *req, struct rl_error *e)
{
	struct rl_pdc		 p;
	struct rl_pdc_input	 in;
	struct rl_pdc_prompt	 pp;
	struct rl_gen		 g;
	json_t			*pv = NULL;
	enum rl_err		 err;

	memset(&in, 0, sizeof(in));
	memset(&pp, 0, sizeof(pp));
	memset(&g, 0, sizeof(g));
	in.kind = RL_PDC_CALENDAR;
	in.sync = 1;
	if ((err = load_body(req, &p, 1, e)) != RL_OK)
		return rl_resp_edxo_error(req, e, 0);
	if ((err = sync_generate(req, &p, &in, &pp, &g, e)) == RL_OK &&
	    (pv = json_pack("{s:O}", "calendriers", json_object_get(g.result,
	    "calendriers"))) == NULL)
		err = rl_error_set(e, RL_ENOMEM, "out of memory");
	if (err == RL_OK)
		err = rl_pdc_apply(req->user->id, p.plan_id, pv, NULL, NULL,
		    e);
	if (err == RL_OK)
		err = rl_resp_json_new(req, 200, json_pack("{s:O}", "entries",
		    json_object_get(g.result, "calendriers")));
	else
		err = rl_resp_edxo_error(req, e, 0);
	json_decref(pv);
	rl_pdc_free(&p);
	rl_gen_free(&g);
	rl_pdc_prompt_free(&pp);
	return err;
}

/*
 * The evaluations as /generate_all answers them:
 * [{titre_evaluation, description, semaine, capacites[{capacite_id,
 * capacite_nom, ponderation}]}].
 */
static json_t *
sync_evaluations(const json_t *list)
{
	json_t		*out = json_array(), *caps;
	const json_t	*x, *c;
	size_t		 i, j;

	json_array_foreach(list, i, x) {
		caps = json_array();
		json_array_foreach(json_object_get(x, "capacites"), j, c)
			(void)json_array_append_new(caps, json_pack("{s:O, "
			    "s:O, s:O}", "capacite_id", json_object_get(c,
			    "capacite_id"), "capacite_nom", json_object_get(c,
			    "capacite"), "ponderation", json_object_get(c,
			    "ponderation")));
		(void)json_array_append_new(out, json_pack("{s:O, s:O, s:O, "
		    "s:o}", "titre_evaluation", json_object_get(x,
		    "titre_evaluation"), "description", json_object_get(x,
		    "description"), "semaine", json_object_get(x, "semaine"),
		    "capacites", caps));
	}
	return out;
}

/*
 * POST /generate_all → {fields, calendriers, evaluations}: written at once
 * (EDxo's legacy route), sections that came back empty left alone.
 */
static enum rl_err
generate_all(struct rl_req *req, struct rl_error *e)
{
	struct rl_pdc		 p;
	struct rl_pdc_input	 in;
	struct rl_pdc_prompt	 pp;
	struct rl_gen		 g;
	json_t			*pv = NULL, *fields;
	size_t			 i;
	enum rl_err		 err;

	memset(&in, 0, sizeof(in));
	memset(&pp, 0, sizeof(pp));
	memset(&g, 0, sizeof(g));
	in.kind = RL_PDC_ALL;
	in.sync = 1;
	in.additional_info = body_str(req, "additional_info");
	in.ai_model = body_str(req, "ai_model");
	if ((err = load_body(req, &p, 1, e)) != RL_OK)
		return rl_resp_edxo_error(req, e, 0);
	if ((err = sync_generate(req, &p, &in, &pp, &g, e)) == RL_OK &&
	    (pv = rl_pdc_preview(&p, RL_PDC_ALL, NULL, g.result, &g, NULL)) ==
	    NULL)
		err = rl_error_set(e, RL_ENOMEM, "out of memory");
	if (err == RL_OK)
		err = rl_pdc_apply(req->user->id, p.plan_id, pv, NULL, NULL,
		    e);
	if (err != RL_OK) {
		err = rl_resp_edxo_error(req, e, 0);
		goto out;
	}
	/* The answer lists the 7 sections as the model gave them. */
	fields = json_object();
	for (i = 0; i < rl_pdc_nfields; i++)
		if (json_object_get(g.result, rl_pdc_fields[i]) != NULL)
			(void)json_object_set(fields, rl_pdc_fields[i],
			    json_object_get(g.result, rl_pdc_fields[i]));
	err = rl_resp_json_new(req, 200, json_pack("{s:o, s:O, s:o}",
	    "fields", fields, "calendriers", json_object_get(g.result,
	    "calendriers"), "evaluations", sync_evaluations(json_object_get(
	    pv, "evaluations"))));
out:
	json_decref(pv);
	rl_pdc_free(&p);
	rl_gen_free(&g);
	rl_pdc_prompt_free(&pp);
	return err;
}

/*
 * The task row the user may see: state, result, meta (a new object).  id
 * is a UUID: the routes' request schemas say so.
 */
static enum rl_err
task_row(struct rl_req *req, const char *id, json_t **row, struct rl_error *e)
{
	const char	*prm[3];
	char		 uid[32];
	enum rl_err	 err;

	(void)snprintf(uid, sizeof(uid), "%lld", req->user->id);
	prm[0] = id;
	prm[1] = uid;
	prm[2] = is_admin(req) ? "t" : "f";
	if ((err = rl_db_json("SELECT json_build_object('state', state, "
	    "'result', result, 'meta', meta, 'name', name) FROM tasks "
	    "WHERE id = $1::uuid AND (user_id = $2::bigint OR $3::boolean)",
	    3, prm, row, e)) != RL_OK)
		return err;
	if (json_is_null(*row)) {
		json_decref(*row);
		*row = NULL;
		return rl_error_set(e, RL_ENOTFOUND, "Tâche introuvable.");
	}
	return RL_OK;
}

/* GET /generate_all_status?task_id= → EDxo's legacy status shape. */
static enum rl_err
all_status(struct rl_req *req, struct rl_error *e)
{
	json_t		*row, *body;
	const char	*state, *msg;
	enum rl_err	 err;

	if ((err = task_row(req, body_str(req, "task_id"), &row, e)) !=
	    RL_OK)
		return err;
	state = json_string_value(json_object_get(row, "state"));
	if (strcmp(state, "SUCCESS") == 0)
		body = json_pack("{s:b, s:s, s:O}", "success", 1, "state",
		    state, "result", json_object_get(row, "result"));
	else if (strcmp(state, "FAILURE") == 0 ||
	    strcmp(state, "REVOKED") == 0) {
		msg = json_string_value(json_object_get(json_object_get(row,
		    "result"), "error"));
		body = json_pack("{s:b, s:s, s:s}", "success", 0, "state",
		    state, "message", msg != NULL ? msg :
		    "La tâche a été annulée.");
	} else if (strcmp(state, "PENDING") == 0)
		body = json_pack("{s:b, s:s}", "success", 1, "state", state);
	else
		body = json_pack("{s:b, s:s, s:O}", "success", 1, "state",
		    "PROGRESS", "meta", json_object_get(row, "meta"));
	json_decref(row);
	return rl_resp_json_new(req, 200, body);
}

/*
 * POST /plan_de_cours/review/<int:id>/apply {action, task_id}: confirm
 * writes the task's preview; revert drops a preview not yet confirmed
 * and undoes a confirmed one (the preview's old values are written
 * back); either way in one transaction that also marks the task
 * reviewed (rl_pdc_apply).
 */
static enum rl_err
apply(struct rl_req *req, struct rl_error *e)
{
	struct rl_pdc	 p;
	const char	*action = body_str(req, "action");
	const char	*task_id = body_str(req, "task_id");
	const json_t	*res;
	json_t		*row = NULL;
	char		 url[128];
	enum rl_err	 err;

	memset(&p, 0, sizeof(p));
	/* The schema allows confirm and revert only. */
	if ((err = load_path(req, &p, e)) != RL_OK)
		return err;
	if ((err = task_row(req, task_id, &row, e)) != RL_OK)
		goto out;
	res = json_object_get(row, "result");
	if (strcmp(json_string_value(json_object_get(row, "state")),
	    "SUCCESS") != 0) {
		err = rl_error_set(e, RL_ECONFLICT, "La tâche n'est pas "
		    "terminée avec succès.");
		goto out;
	}
	if (json_integer_value(json_object_get(res, "plan_id")) !=
	    p.plan_id) {
		err = rl_error_field(e, RL_EINVAL, "task_id", "Cette tâche ne "
		    "concerne pas ce plan de cours.");
		goto out;
	}
	if ((err = rl_pdc_apply(req->user->id, p.plan_id, res, task_id,
	    action, e)) != RL_OK)
		goto out;
	(void)snprintf(url, sizeof(url), "/cours/%lld/plan_de_cours/%s/",
	    p.cours_id, p.session);
	err = rl_resp_json_new(req, 200, json_pack("{s:b, s:s}", "success", 1,
	    "redirect_url", url));
out:
	json_decref(row);
	rl_pdc_free(&p);
	return err;
}

/*
 * GET /plan_de_cours/review/<int:id>?task_id=: the review page every
 * plan-de-cours task's validation_url names (pages/pdc-review.html).  A
 * shell: its script reads the task (/tasks/status), the plan (current,
 * below) and posts apply with the browser's session, so the page itself
 * reads nothing and needs none (the script says when there is none).
 */
static enum rl_err
review_page(struct rl_req *req, struct rl_error *e)
{

	return rl_resp_page(req, "pdc-review.html", e);
}

/*
 * GET /plan_de_cours/review/<int:id>/current: what the plan holds now,
 * under a preview's keys, for the review page to set beside the task's
 * proposal; 404 for a plan the user does not see.
 */
static enum rl_err
current(struct rl_req *req, struct rl_error *e)
{
	struct rl_pdc	 p;
	json_t		*v;
	enum rl_err	 err;

	if ((err = load_path(req, &p, e)) != RL_OK)
		return err;
	v = rl_pdc_content(&p);
	rl_pdc_free(&p);
	if (v == NULL)
		return rl_error_set(e, RL_ENOMEM, "out of memory");
	return rl_resp_json_new(req, 200, v);
}

/*
 * POST /gestion_programme/update_verifier_plan_cours/<int:id>: EDxo B's
 * two passes, a reasoning model's free text then its structured form,
 * billed as two ledger rows; the three columns are written.
 */
static enum rl_err
verify(struct rl_req *req, struct rl_error *e)
{
	struct rl_pdc		 p;
	struct rl_pdc_input	 in;
	struct rl_pdc_prompt	 pp;
	struct rl_gen		 g1, g2;
	json_t			*instr = NULL;
	char			*first = NULL, *second = NULL;
	char			 why[RL_ERRMSG_MAX];
	size_t			 n;
	enum rl_err		 err;

	memset(&in, 0, sizeof(in));
	memset(&pp, 0, sizeof(pp));
	memset(&g1, 0, sizeof(g1));
	memset(&g2, 0, sizeof(g2));
	in.kind = RL_PDC_ANALYSE;
	in.sync = 1;
	if ((err = load_path(req, &p, e)) != RL_OK)
		return err;
	if ((err = rl_pdc_prompt(&p, &in, &pp, e)) != RL_OK)
		goto fail;
	/* Pass 1: the instruction as EDxo sends it, {"instruction": ...}. */
	if ((instr = json_pack("{s:s}", "instruction", pp.prompt)) == NULL ||
	    (first = json_dumps(instr, JSON_COMPACT)) == NULL) {
		err = rl_error_set(e, RL_ENOMEM, "out of memory");
		goto fail;
	}
	g1.user_id = req->user->id;
	g1.feature = "plan_de_cours.verify";
	g1.request_id = req->id;
	g1.model = pp.model1;
	g1.system = pp.system;
	g1.prompt = first;
	if ((err = rl_gen_run(&g1, e)) != RL_OK) {
		if (e->code == RL_EUPSTREAM) {
			(void)snprintf(why, sizeof(why), "%s", e->msg);
			(void)rl_error_set(e, e->code, "Erreur API OpenAI "
			    "premier appel: %s", why);
		}
		goto fail;
	}
	n = strlen(g1.text != NULL ? g1.text : "") + 128;
	if ((second = malloc(n)) == NULL) {
		err = rl_error_set(e, RL_ENOMEM, "out of memory");
		goto fail;
	}
	(void)snprintf(second, n, "Formate la réponse suivante selon le "
	    "schéma PlanDeCoursAIResponse :\n%s", g1.text != NULL ? g1.text :
	    "");
	free(pp.prompt);
	pp.prompt = second;
	second = NULL;
	if ((err = rl_pdc_generate(RL_PDC_ANALYSE, 1, &pp, req->user->id,
	    req->id, NULL, &g2, e)) != RL_OK) {
		if (e->code == RL_EUPSTREAM) {
			(void)snprintf(why, sizeof(why), "%s", e->msg);
			(void)rl_error_set(e, e->code, "Erreur API OpenAI "
			    "second appel: %s", why);
		}
		goto fail;
	}
	if ((err = rl_pdc_store_analysis(req->user->id, p.plan_id, g2.result,
	    e)) != RL_OK)
		goto fail;
	err = rl_resp_json_new(req, 200, json_pack("{s:O, s:O, s:O}",
	    "compatibility_percentage", json_object_get(g2.result,
	    "compatibility_percentage"), "recommendation_ameliore",
	    json_object_get(g2.result, "recommendation_ameliore"),
	    "recommendation_plan_cadre", json_object_get(g2.result,
	    "recommendation_plan_cadre")));
	goto out;
fail:
	err = rl_resp_edxo_error(req, e, 1);
out:
	json_decref(instr);
	free(first);
	free(second);
	rl_pdc_prompt_free(&pp);
	rl_gen_free(&g1);
	rl_gen_free(&g2);
	rl_pdc_free(&p);
	return err;
}

/* POST /gestion_programme/analyse_plan_de_cours/<int:id>/start → 202 */
static enum rl_err
analyse_start(struct rl_req *req, struct rl_error *e)
{

	return async_route(req, RL_PDC_ANALYSE, e);
}

/* GET /gestion_programme/get_verifier_plan_cours/<int:id> */
static enum rl_err
verifier_get(struct rl_req *req, struct rl_error *e)
{
	struct rl_pdc	 p;
	json_t		*pct, *a, *b;
	enum rl_err	 err;

	if ((err = load_path(req, &p, e)) != RL_OK)
		return err;
	pct = json_object_get(p.plan, "compatibility_percentage");
	a = json_object_get(p.plan, "recommendation_ameliore");
	b = json_object_get(p.plan, "recommendation_plan_cadre");
	err = rl_resp_json_new(req, 200, json_pack("{s:o, s:o, s:o}",
	    "compatibility_percentage", json_is_number(pct) ?
	    json_incref(pct) : json_string("N/A"),
	    "recommendation_ameliore", json_is_string(a) ?
	    json_incref(a) : json_string("N/A"),
	    "recommendation_plan_cadre", json_is_string(b) ?
	    json_incref(b) : json_string("N/A")));
	rl_pdc_free(&p);
	return err;
}

/*
 * EDxo's front-end calls every route: its flat error bodies, and bodies
 * as JSON, a urlencoded form or FormData, whichever the page sends.  Each
 * route's fields are its request schema (lib/schemas/requests/).
 */
static const struct rl_route routes[] = {
	{ "POST", "/generate_content", generate_content,
	    "plandecours.generate_content", RL_ROUTE_EDXO_BODY, 0 },
	{ "POST", "/generate_calendar", generate_calendar,
	    "plandecours.generate_calendar", RL_ROUTE_EDXO_BODY, 0 },
	{ "POST", "/generate_all", generate_all, "plandecours.generate_all",
	    RL_ROUTE_EDXO_BODY, 0 },
	{ "POST", "/generate_all_start", all_start, "plandecours.generate_all",
	    RL_ROUTE_EDXO_BODY | RL_ROUTE_LEGACY, 0 },
	{ "GET", "/generate_all_status", all_status,
	    "plandecours.generate_all_status", RL_ROUTE_EDXO_AUTH, 0 },
	{ "POST", "/api/plan_de_cours/<int:id>/improve/<field>", improve,
	    "plandecours.api_generate", RL_ROUTE_EDXO_BODY, 0 },
	{ "POST", "/api/plan_de_cours/<int:id>/generate_calendar",
	    calendar_start, "plandecours.api_generate_calendar",
	    RL_ROUTE_EDXO_BODY, 0 },
	{ "POST", "/api/plan_de_cours/<int:id>/generate_evaluations",
	    evaluations_start, "plandecours.api_generate_evaluations",
	    RL_ROUTE_EDXO_BODY, 0 },
	{ "POST", "/api/plan_de_cours/<int:id>/generate", generate_start,
	    "plandecours.api_generate", RL_ROUTE_EDXO_BODY, 0 },
	{ "GET", "/plan_de_cours/review/<int:id>", review_page, NULL, 0, 0 },
	{ "GET", "/plan_de_cours/review/<int:id>/current", current, NULL,
	    RL_ROUTE_EDXO_AUTH, 0 },
	{ "POST", "/plan_de_cours/review/<int:id>/apply", apply,
	    "plandecours.apply", RL_ROUTE_EDXO_BODY, 0 },
	{ "POST", "/gestion_programme/update_verifier_plan_cours/<int:id>",
	    verify, "plandecours.verify",
	    RL_ROUTE_COORDO | RL_ROUTE_EDXO | RL_ROUTE_BODY, 0 },
	{ "POST", "/gestion_programme/analyse_plan_de_cours/<int:id>/start",
	    analyse_start, "plandecours.api_generate",
	    RL_ROUTE_COORDO | RL_ROUTE_EDXO | RL_ROUTE_BODY, 0 },
	{ "GET", "/gestion_programme/get_verifier_plan_cours/<int:id>",
	    verifier_get, NULL, RL_ROUTE_COORDO | RL_ROUTE_EDXO, 0 },
};

static const struct rl_program program = {
	"plandecours", routes, RL_NROUTES(routes), 0, 1, NULL
};

int
main(int argc, char *argv[])
{

	return rl_main(argc, argv, &program);
}
