/*
 * generation_programme.c: the logigramme and grille routes of a programme
 * (EDxo §4.11, §4.12).  Starting checks the programme is the user's, the
 * options, the key and credits, then queues the task; the apply routes
 * hand the body to lib/edxo/programme.c, which writes in one
 * transaction.  The review routes serve their pages
 * (pages/grille-review.html, pages/logigramme-review.html) to a browser.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "arena.h"
#include "generation.h"
#include "programme.h"
#include "req.h"
#include "resp.h"

/* 202 {task_id}, EDxo's answer to a started generation. */
static enum rl_err
started(struct rl_req *req, const char *id)
{

	return rl_resp_json_new(req, 202, json_pack("{s:s}", "task_id", id));
}

enum rl_err
gen_logigramme(struct rl_req *req, struct rl_error *e)
{
	json_t		*payload = NULL;
	char		 id[37];
	long long	 pid;
	enum rl_err	 err;

	if ((err = rl_req_param_int(req, "id", &pid, e)) != RL_OK ||
	    (err = gen_see_programme(req, pid, e)) != RL_OK)
		return err;
	if ((payload = json_pack("{s:I}", "programme_id", (json_int_t)pid)) ==
	    NULL)
		return rl_error_set(e, RL_ENOMEM, "out of memory");
	if ((err = gen_options(req, "logigramme", payload, e)) == RL_OK &&
	    (err = gen_enqueue(req, RL_TASK_LOGIGRAMME, payload, id, e)) ==
	    RL_OK)
		err = started(req, id);
	json_decref(payload);
	return err;
}

enum rl_err
gen_links(struct rl_req *req, struct rl_error *e)
{
	const json_t	*links;
	json_t		*answer;
	long long	 pid;
	enum rl_err	 err;

	if ((err = rl_req_param_int(req, "id", &pid, e)) != RL_OK ||
	    (err = gen_see_programme(req, pid, e)) != RL_OK)
		return err;
	/* EDxo posts the list itself; {links: [...]} is taken too. */
	links = json_is_object(req->json) ? json_object_get(req->json,
	    "links") : req->json;
	if ((err = rl_links_apply(pid, links, &answer, e)) != RL_OK)
		return err;
	return rl_resp_json_new(req, 200, answer);
}

/*
 * The logigramme task's validation_url: a page that shows the links the
 * task proposes (its result, read from /tasks/status) and posts the ones
 * kept to /links.  Only a page: EDxo had no such route, so no script
 * expects JSON here, and the data it shows has its own routes.
 */
enum rl_err
gen_logigramme_review(struct rl_req *req, struct rl_error *e)
{

	return rl_resp_page(req, "logigramme-review.html", e);
}

enum rl_err
gen_grille(struct rl_req *req, struct rl_error *e)
{
	json_t		*payload = NULL;
	const json_t	*units;
	char		 id[37];
	long long	 pid, hours, nsess;
	enum rl_err	 err;

	if ((err = rl_req_param_int(req, "id", &pid, e)) != RL_OK ||
	    (err = gen_see_programme(req, pid, e)) != RL_OK)
		return err;
	/* The schema asks for positive integers; the bounds are named here. */
	hours = json_integer_value(json_object_get(req->json, "total_hours"));
	nsess = json_integer_value(json_object_get(req->json, "nb_sessions"));
	units = json_object_get(req->json, "total_units");
	if (hours > RL_GRILLE_MAX_HOURS)
		return rl_error_field(e, RL_EVALIDATION, "total_hours",
		    "total_hours : un entier de 1 à %d est requis.",
		    RL_GRILLE_MAX_HOURS);
	if (nsess > RL_GRILLE_MAX_SESSIONS)
		return rl_error_field(e, RL_EVALIDATION, "nb_sessions",
		    "nb_sessions : un entier de 1 à %d est requis.",
		    RL_GRILLE_MAX_SESSIONS);
	if (json_is_number(units) && json_number_value(units) >
	    RL_GRILLE_MAX_HOURS)
		return rl_error_field(e, RL_EVALIDATION, "total_units",
		    "total_units : un nombre positif est attendu.");
	if ((payload = json_pack("{s:I, s:I, s:I}", "programme_id",
	    (json_int_t)pid, "total_hours", (json_int_t)hours, "nb_sessions",
	    (json_int_t)nsess)) == NULL)
		return rl_error_set(e, RL_ENOMEM, "out of memory");
	if (json_is_number(units))
		(void)json_object_set_new(payload, "total_units",
		    json_real(json_number_value(units)));
	if ((err = gen_options(req, "grille", payload, e)) == RL_OK &&
	    (err = gen_enqueue(req, RL_TASK_GRILLE, payload, id, e)) == RL_OK)
		err = started(req, id);
	json_decref(payload);
	return err;
}

/*
 * The grille task of this programme: its row, 404 when it is not a
 * grille of this programme, 409 while it runs or when it failed.
 */
static enum rl_err
grille_row(struct rl_req *req, long long pid, const char *tid, json_t **row,
    struct rl_error *e)
{
	const char	*name, *state;
	enum rl_err	 err;

	if ((err = gen_task(req, tid, row, e)) != RL_OK)
		return err;
	name = json_string_value(json_object_get(*row, "name"));
	state = json_string_value(json_object_get(*row, "state"));
	if (name == NULL || strcmp(name, RL_TASK_GRILLE) != 0 ||
	    json_integer_value(json_object_get(json_object_get(*row,
	    "payload"), "programme_id")) != pid)
		err = rl_error_set(e, RL_ENOTFOUND, "Tâche introuvable.");
	else if (state == NULL || strcmp(state, "SUCCESS") != 0)
		err = rl_error_set(e, RL_ECONFLICT, "La génération n'est pas "
		    "terminée avec succès (état %s).", state ? state : "?");
	if (err != RL_OK) {
		json_decref(*row);
		*row = NULL;
	}
	return err;
}

enum rl_err
gen_grille_review(struct rl_req *req, struct rl_error *e)
{
	json_t		*row, *res;
	long long	 pid;
	enum rl_err	 err;

	/* A browser's navigation: the page, which reads this JSON. */
	if (rl_resp_wants_html(req))
		return rl_resp_page(req, "grille-review.html", e);
	if ((err = rl_req_param_int(req, "id", &pid, e)) != RL_OK ||
	    (err = gen_see_programme(req, pid, e)) != RL_OK ||
	    (err = grille_row(req, pid, rl_req_param(req, "task_id"), &row,
	    e)) != RL_OK)
		return err;
	res = json_object_get(row, "result");
	err = rl_resp_json_new(req, 200, json_pack("{s:s, s:I, s:s, s:O, "
	    "s:O, s:O, s:s}", "task_id", rl_req_param(req, "task_id"),
	    "programme_id", (json_int_t)pid, "state", "SUCCESS",
	    "grid", json_object_get(res, "result"),
	    "checks", json_object_get(json_object_get(res, "result"),
	    "checks") ? json_object_get(json_object_get(res, "result"),
	    "checks") : json_null(),
	    "usage", json_object_get(res, "usage") ? json_object_get(res,
	    "usage") : json_null(),
	    "apply_url", rl_arena_printf(req->arena,
	    "/programme/%lld/grille/apply", pid)));
	json_decref(row);
	return err;
}

enum rl_err
gen_grille_apply(struct rl_req *req, struct rl_error *e)
{
	json_t		*answer, *row = NULL;
	const json_t	*grid;
	const char	*tid;
	long long	 pid;
	enum rl_err	 err;

	if ((err = rl_req_param_int(req, "id", &pid, e)) != RL_OK ||
	    (err = gen_see_programme(req, pid, e)) != RL_OK)
		return err;
	/* The grid posted, or the one of a finished task. */
	grid = json_object_get(req->json, "grid");
	tid = json_string_value(json_object_get(req->json, "task_id"));
	if ((grid == NULL || json_is_null(grid)) && tid != NULL) {
		if ((err = grille_row(req, pid, tid, &row, e)) != RL_OK)
			return err;
		grid = json_object_get(json_object_get(row, "result"),
		    "result");
	}
	err = rl_grille_apply(pid, json_string_value(json_object_get(
	    req->json, "mode")), grid, &answer, e);
	json_decref(row);
	if (err != RL_OK)
		return err;
	return rl_resp_json_new(req, 200, answer);
}
