/*
 * generation_plancadre.c: plan-cadre generation, review and apply (EDxo
 * §4.9).  Every generation is a preview (EDxo B forced improve_only);
 * /plan_cadre/<id>/apply_improvement writes the parts the user accepts,
 * from this task or from a DOCX import's, in one transaction.  The review
 * route serves pages/pc-review.html to a browser.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "arena.h"
#include "db.h"
#include "generation.h"
#include "plancadre.h"
#include "programme.h"
#include "req.h"
#include "resp.h"
#include "worker.h"

/* Append the names of "a, b" (a comma list, EDxo's hidden field) to t. */
static void
split(json_t *t, const char *s)
{
	const char	*c;
	size_t		 n;

	for (; *s != '\0'; s = c) {
		n = strcspn(s, ",");
		c = s + n + (s[n] == ',');
		while (n > 0 && s[0] == ' ') {
			s++;
			n--;
		}
		while (n > 0 && s[n - 1] == ' ')
			n--;
		if (n > 0)
			(void)json_array_append_new(t, json_stringn(s, n));
	}
}

/*
 * The sections asked: section, or target_columns (a list of names, each
 * of which may be a comma list, EDxo's hidden field); each must be one a
 * request may target.
 */
static enum rl_err
targets_of(struct rl_req *req, const char *section, json_t **out,
    struct rl_error *e)
{
	const json_t	*v;
	json_t		*t;
	size_t		 i;

	if ((t = *out = json_array()) == NULL)
		return rl_error_set(e, RL_ENOMEM, "out of memory");
	if (section != NULL)
		(void)json_array_append_new(t, json_string(section));
	else
		json_array_foreach(json_object_get(req->json,
		    "target_columns"), i, v)
			split(t, json_string_value(v));
	json_array_foreach(t, i, v)
		if (!rl_plancadre_target_valid(json_string_value(v)))
			return rl_error_field(e, RL_EVALIDATION,
			    "target_columns", "Section inconnue : %s",
			    json_string_value(v));
	return RL_OK;
}

/*
 * Start a generation of plan id in mode (generate | improve | wand) for
 * the targets; store additional_info and ai_model on the plan as EDxo
 * does (not for the wand, whose instruction is a one-off), in the
 * transaction that queues the task.
 */
static enum rl_err
start(struct rl_req *req, long long id, const char *mode, json_t *targets,
    const char *info, char tid[37], struct rl_error *e)
{
	json_t		*payload;
	enum rl_err	 err;
	int		 improve = strcmp(mode, "generate") != 0;

	if ((payload = json_pack("{s:I, s:s, s:O}", "plan_id", (json_int_t)id,
	    "mode", mode, "target_columns", targets)) == NULL)
		return rl_error_set(e, RL_ENOMEM, "out of memory");
	if (info != NULL)
		(void)json_object_set_new(payload, "additional_info",
		    json_string(info));
	if ((err = gen_options(req, improve ? "plan_cadre_improve" :
	    "plan_cadre", payload, e)) != RL_OK)
		goto out;
	if ((err = rl_db_begin(e)) != RL_OK)
		goto out;
	if (strcmp(mode, "wand") != 0 && (err = rl_plancadre_save_request(id,
	    json_string_value(json_object_get(payload, "additional_info")),
	    json_string_value(json_object_get(payload, "model")), e)) !=
	    RL_OK) {
		rl_db_rollback();
		goto out;
	}
	if ((err = gen_enqueue(req, RL_TASK_PLAN_CADRE, payload, tid, e)) !=
	    RL_OK) {
		rl_db_rollback();
		goto out;
	}
	err = rl_db_commit(e);
out:
	json_decref(payload);
	return err;
}

/* EDxo's answer to a form that does not validate: 200, success false. */
static enum rl_err
refused(struct rl_req *req, const char *msg)
{

	return rl_resp_json_new(req, 200, json_pack("{s:b, s:s}", "success",
	    0, "message", msg));
}

/* A string field of the validated form, "" when absent or null. */
static const char *
field(const struct rl_req *req, const char *name)
{
	const char	*v;

	v = json_string_value(json_object_get(req->json, name));
	return v != NULL ? v : "";
}

/* v is empty (the form's default) or one of list. */
static int
one_of(const char *v, const char *const *list, size_t n)
{
	size_t	 i;

	if (*v == '\0')
		return 1;
	for (i = 0; i < n; i++)
		if (strcmp(v, list[i]) == 0)
			return 1;
	return 0;
}

/*
 * GenerateContentForm's own checks, which the request schema leaves to
 * the handler: EDxo answers a refused form 200 {success: false,
 * message}, a status the runtime's refusal cannot have.  NULL when the
 * form is valid, else the message.
 */
static const char *
form_refusal(struct rl_req *req, const char *mode)
{
	static const char *const efforts[] = { "minimal", "low", "medium",
	    "high" };
	static const char *const verbosities[] = { "low", "medium", "high" };

	if (strcmp(mode, "generate") != 0 && strcmp(mode, "improve") != 0 &&
	    strcmp(mode, "wand") != 0)
		return "mode : generate, improve ou wand.";
	if (!one_of(field(req, "reasoning_effort"), efforts,
	    sizeof(efforts) / sizeof(efforts[0])))
		return "reasoning_effort : minimal, low, medium ou high.";
	if (!one_of(field(req, "verbosity"), verbosities,
	    sizeof(verbosities) / sizeof(verbosities[0])))
		return "verbosity : low, medium ou high.";
	if (strcmp(mode, "wand") == 0 && *field(req, "wand_instruction") ==
	    '\0')
		return "L'instruction (wand_instruction) est requise.";
	if (strcmp(mode, "wand") != 0 && *field(req, "additional_info") ==
	    '\0')
		return "Le champ « Informations complémentaires » "
		    "(additional_info) est requis.";
	return NULL;
}

enum rl_err
gen_pc_content(struct rl_req *req, struct rl_error *e)
{
	json_t		*targets = NULL;
	const char	*mode, *why;
	char		 tid[37];
	long long	 id;
	enum rl_err	 err;

	if ((err = rl_req_param_int(req, "id", &id, e)) != RL_OK ||
	    (err = gen_see_plan(req, id, NULL, e)) != RL_OK)
		return err;
	if (*(mode = field(req, "mode")) == '\0')
		mode = "generate";
	if ((why = form_refusal(req, mode)) != NULL)
		return refused(req, why);
	if ((err = targets_of(req, NULL, &targets, e)) == RL_OK)
		err = start(req, id, mode, targets, field(req,
		    strcmp(mode, "wand") == 0 ? "wand_instruction" :
		    "additional_info"), tid, e);
	json_decref(targets);
	if (err == RL_EINVAL || err == RL_EVALIDATION || err == RL_ECREDITS ||
	    err == RL_ENOKEY)
		return refused(req, e->msg);
	if (err != RL_OK)
		return err;
	return rl_resp_json_new(req, 200, json_pack("{s:b, s:s, s:s}",
	    "success", 1, "message", "Génération du plan-cadre lancée.",
	    "task_id", tid));
}

/* The /api/plan_cadre/<id>/... starts: 202 {task_id}. */
static enum rl_err
api_start(struct rl_req *req, const char *mode, const char *section,
    struct rl_error *e)
{
	json_t		*targets = NULL;
	const char	*info;
	char		 tid[37];
	long long	 id;
	enum rl_err	 err;

	if ((err = rl_req_param_int(req, "id", &id, e)) != RL_OK ||
	    (err = gen_see_plan(req, id, NULL, e)) != RL_OK)
		return err;
	if (section != NULL && !rl_plancadre_target_valid(section))
		return rl_error_field(e, RL_EINVAL, "section", "Section "
		    "inconnue : %s", section);
	info = json_string_value(json_object_get(req->json,
	    "additional_info"));
	if ((err = targets_of(req, section, &targets, e)) == RL_OK)
		err = start(req, id, mode, targets, info != NULL &&
		    *info != '\0' ? info : NULL, tid, e);
	json_decref(targets);
	if (err != RL_OK)
		return err;
	return rl_resp_json_new(req, 202, json_pack("{s:s}", "task_id", tid));
}

enum rl_err
gen_pc_api_generate(struct rl_req *req, struct rl_error *e)
{

	return api_start(req, "generate", NULL, e);
}

enum rl_err
gen_pc_api_improve(struct rl_req *req, struct rl_error *e)
{

	return api_start(req, "improve", NULL, e);
}

enum rl_err
gen_pc_api_section(struct rl_req *req, struct rl_error *e)
{

	return api_start(req, "improve", rl_req_param(req, "section"), e);
}

/*
 * The preview task of plan id: any task whose result is a preview of this
 * plan (the generation's, the DOCX import's).  404 when it is not, 409
 * while it runs or when it failed.
 */
static enum rl_err
preview_row(struct rl_req *req, long long id, const char *tid, json_t **row,
    struct rl_error *e)
{
	const json_t	*res, *pid;
	const char	*state;
	enum rl_err	 err;

	if ((err = gen_task(req, tid, row, e)) != RL_OK)
		return err;
	state = json_string_value(json_object_get(*row, "state"));
	res = json_object_get(*row, "result");
	if ((pid = json_object_get(res, "plan_id")) == NULL)
		pid = json_object_get(json_object_get(*row, "payload"),
		    "plan_id");
	if (state != NULL && strcmp(state, "SUCCESS") != 0)
		err = rl_error_set(e, RL_ECONFLICT, "La tâche n'est pas "
		    "terminée avec succès (état %s).", state);
	else if (json_integer_value(pid) != id ||
	    !json_is_true(json_object_get(res, "preview")) ||
	    !json_is_object(json_object_get(res, "proposed")))
		err = rl_error_set(e, RL_ENOTFOUND, "Aucun aperçu de ce "
		    "plan-cadre pour cette tâche.");
	if (err != RL_OK) {
		json_decref(*row);
		*row = NULL;
	}
	return err;
}

enum rl_err
gen_pc_review(struct rl_req *req, struct rl_error *e)
{
	json_t		*row = NULL, *cur = NULL, *res;
	const char	*tid;
	long long	 id, cours;
	enum rl_err	 err;

	/*
	 * A browser's navigation gets the page, whose script asks this route
	 * again for the JSON, which checks access and the task.
	 */
	if (rl_resp_wants_html(req))
		return rl_resp_page(req, "pc-review.html", e);
	/* Required by the request schema. */
	tid = json_string_value(json_object_get(req->json, "task_id"));
	if ((err = rl_req_param_int(req, "id", &id, e)) != RL_OK ||
	    (err = gen_see_plan(req, id, &cours, e)) != RL_OK ||
	    (err = preview_row(req, id, tid, &row, e)) != RL_OK ||
	    (err = rl_plancadre_current(id, &cur, e)) != RL_OK)
		goto out;
	res = json_object_get(row, "result");
	err = rl_resp_json_new(req, 200, json_pack("{s:s, s:I, s:I, s:s, "
	    "s:O, s:O, s:O, s:s?, s:s}", "task_id", tid, "plan_id",
	    (json_int_t)id, "cours_id", (json_int_t)cours, "state", "SUCCESS",
	    "proposed", json_object_get(res, "proposed"), "current", cur,
	    "usage", json_object_get(res, "usage") ? json_object_get(res,
	    "usage") : json_null(), "reasoning_summary",
	    json_string_value(json_object_get(res, "reasoning_summary")),
	    "apply_url", rl_arena_printf(req->arena,
	    "/plan_cadre/%lld/apply_improvement", id)));
out:
	json_decref(row);
	json_decref(cur);
	return err;
}

/* choices[obj], made an object when it is not one (absent, or null). */
static json_t *
member(json_t *choices, const char *obj)
{
	json_t	*o;

	if (!json_is_object(o = json_object_get(choices, obj))) {
		o = json_object();
		(void)json_object_set_new(choices, obj, o);
	}
	return o;
}

/* Append v to the array choices[obj][key], creating both. */
static void
add_item(json_t *choices, const char *obj, const char *key, const char *v)
{
	json_t	*o, *a;

	o = member(choices, obj);
	if ((a = json_object_get(o, key)) == NULL) {
		a = json_array();
		(void)json_object_set_new(o, key, a);
	}
	(void)json_array_append_new(a, json_string(v));
}

/*
 * The choices object of plancadre.h: the validated fields (task_id,
 * accept_fields_keys, accept_all, and JSON's action and accept_items)
 * and, from a form, the bracketed fields whose names vary with the
 * proposal, so that no request schema lists them: action[attr],
 * accept_items[attr] (repeated indices) and
 * accept_items[capacites][i][child] as "capacites.i.child".
 */
static json_t *
choices_of(struct rl_req *req)
{
	json_t		*c;
	const char	*k, *v, *b;
	char		 path[128];
	size_t		 i, n, len;

	if ((c = json_deep_copy(req->json)) == NULL)
		return NULL;
	for (i = 0; i < req->nform; i++) {
		k = req->formv[i].key;
		v = req->formv[i].val;
		if (strncmp(k, "action[", 7) == 0 &&
		    (n = strcspn(k + 7, "]")) > 0 && k[7 + n] == ']') {
			(void)snprintf(path, sizeof(path), "%.*s", (int)n,
			    k + 7);
			(void)json_object_set_new(member(c, "action"), path,
			    json_string(v));
		} else if (strncmp(k, "accept_items[", 13) == 0) {
			/* accept_items[a][0][b] -> "a.0.b" */
			len = 0;
			for (b = k + 12; *b == '[' && len < sizeof(path) - 1;) {
				n = strcspn(b + 1, "]");
				if (b[1 + n] != ']' || n == 0 ||
				    len + n + 2 > sizeof(path))
					break;
				if (len > 0)
					path[len++] = '.';
				memcpy(path + len, b + 1, n);
				len += n;
				b += n + 2;
			}
			path[len] = '\0';
			if (len > 0 && (*b == '\0' || strcmp(b, "[]") == 0))
				add_item(c, "accept_items", path, v);
		}
	}
	return c;
}

enum rl_err
gen_pc_apply(struct rl_req *req, struct rl_error *e)
{
	json_t		*row = NULL, *choices = NULL, *answer;
	const char	*tid;
	long long	 id;
	enum rl_err	 err;

	/* Required by the request schema. */
	tid = json_string_value(json_object_get(req->json, "task_id"));
	if ((err = rl_req_param_int(req, "id", &id, e)) != RL_OK ||
	    (err = gen_see_plan(req, id, NULL, e)) != RL_OK ||
	    (err = preview_row(req, id, tid, &row, e)) != RL_OK)
		goto out;
	if ((choices = choices_of(req)) == NULL) {
		err = rl_error_set(e, RL_ENOMEM, "out of memory");
		goto out;
	}
	if ((err = rl_plancadre_apply(id, req->user->id, json_object_get(
	    json_object_get(row, "result"), "proposed"), choices, &answer,
	    e)) != RL_OK)
		goto out;
	/*
	 * EDxo's review page posts this form and follows the redirect to the
	 * plan-cadre; scripts keep the JSON, which names the same page.
	 */
	if (rl_resp_form_navigation(req)) {
		if ((err = rl_resp_header(req, "Location", json_string_value(
		    json_object_get(answer, "redirect_url")))) == RL_OK)
			err = rl_resp_send(req, 303, NULL, NULL, 0);
		json_decref(answer);
	} else
		err = rl_resp_json_new(req, 200, answer);
out:
	json_decref(row);
	json_decref(choices);
	return err;
}
