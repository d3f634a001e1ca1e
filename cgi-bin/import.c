/*
 * import: EDxo's document imports (issue 8), docs/import.md.
 *
 *	POST /import_docx				plan de cours, now
 *	POST /import_docx_start				plan de cours, as a task
 *	POST /plan_cadre/<id>/import_docx_start		plan-cadre preview task
 *	POST /grille/import				grille from a PDF (task)
 *	GET|POST /confirm_grille_import/<task_id>	read / write that grille
 *	POST /import_grille				the same, older form
 *	POST /programme/<id>/competences/import_pdf/start  devis PDF (task)
 *	POST /ocr/start					devis from the ministry
 *	POST /programme/confirm_import			write its compétences
 *
 * Uploads arrive as size-capped temporary files (the runtime's multipart
 * parser); the text fields beside them, like every other route's fields,
 * are declared by the route's request schema (lib/schemas/requests/
 * import.*.json) and come validated in req->json.  A .docx is read here,
 * so a hostile one is refused before anything is stored; a PDF is checked
 * here and kept in import_uploads for its task.  Imports only preview:
 * the confirm routes (and the plan de cours and plan-cadre programs'
 * apply routes) write, one transaction each, through lib/edxo/.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "arena.h"
#include "db.h"
#include "edxo.h"
#include "fcgi.h"
#include "imports.h"
#include "req.h"
#include "resp.h"
#include "worker.h"

/* The form's ai_model; a blank choice is the default model. */
static const char *
ai_model(const struct rl_req *req)
{
	const char	*m;

	m = json_string_value(json_object_get(req->json, "ai_model"));
	return m != NULL && *m != '\0' ? m : NULL;
}

static enum rl_err
upload(struct rl_req *req, const struct rl_upload **u, struct rl_error *e)
{

	/* An empty file is the reader's to refuse, with its reason. */
	if ((*u = rl_req_upload(req, "file")) == NULL)
		return rl_error_field(e, RL_EINVAL, "file", "Aucun fichier "
		    "fourni.");
	return RL_OK;
}

static int
is_admin(const struct rl_req *req)
{

	return req->user->role == RL_ROLE_ADMIN;
}

/*
 * One id from a visibility query ($1 user, $2 sees everything, then
 * params from $3), or RL_ENOTFOUND with msg.
 */
static enum rl_err
visible(struct rl_req *req, const char *sql, int all, const char *p3,
    const char *p4, long long *id, const char *msg, struct rl_error *e)
{
	const char	*p[4];
	struct rl_dbres	*r = NULL;
	enum rl_err	 err;

	p[0] = rl_arena_printf(req->arena, "%lld", req->user->id);
	p[1] = all ? "true" : "false";
	p[2] = p3;
	p[3] = p4;
	if ((err = rl_db_exec(sql, p4 != NULL ? 4 : 3, p, &r, e)) != RL_OK)
		goto out;
	if (rl_dbres_rows(r) < 1)
		err = rl_error_set(e, RL_ENOTFOUND, "%s", msg);
	else if (id != NULL)
		*id = strtoll(rl_dbres_get(r, 0, 0), NULL, 10);
out:
	rl_dbres_free(r);
	return err;
}

#define PDC_FIND							\
	"SELECT d.id FROM plan_de_cours d WHERE d.cours_id = $3::bigint " \
	"AND d.session = $4 AND " RL_SQL_SEE_COURS("d.cours_id")
#define PC_FIND								\
	"SELECT pc.id FROM plan_cadre pc WHERE pc.id = $3::bigint AND "	\
	RL_SQL_SEE_COURS("pc.cours_id")
#define PROG_FIND							\
	"SELECT p.id FROM programmes p WHERE p.id = $3::bigint AND "	\
	RL_SQL_SEE_PROGRAMME("p.id")

/* The plan de cours import's inputs: the plan and the document's text. */
static enum rl_err
pdc_inputs(struct rl_req *req, long long *plan_id, long long *cours_id,
    const char **session, char **text, struct rl_error *e)
{
	const struct rl_upload	*u;
	enum rl_err		 err;

	*text = NULL;
	*cours_id = json_integer_value(json_object_get(req->json, "cours_id"));
	*session = json_string_value(json_object_get(req->json, "session"));
	if ((err = upload(req, &u, e)) != RL_OK)
		return err;
	if ((err = rl_import_docx_text(u->path, RL_IMPORT_PDC_CHARS, text,
	    e)) != RL_OK)
		return err;
	err = visible(req, PDC_FIND, is_admin(req), rl_arena_printf(
	    req->arena, "%lld", *cours_id), *session, plan_id,
	    "Plan de cours non trouvé.", e);
	if (err != RL_OK) {
		free(*text);
		*text = NULL;
	}
	return err;
}

static enum rl_err
import_docx(struct rl_req *req, struct rl_error *e)
{
	struct rl_import	 im;
	json_t			*res = NULL, *payload = NULL, *stored = NULL;
	const char		*session;
	char			*text = NULL, id[37];
	long long		 cours_id;
	enum rl_err		 err;

	memset(&im, 0, sizeof(im));
	if ((err = pdc_inputs(req, &im.plan_id, &cours_id, &session, &text,
	    e)) != RL_OK)
		goto out;
	im.user_id = req->user->id;
	im.request_id = req->id;
	im.doc_text = text;
	im.model = ai_model(req);
	if ((err = rl_import_pdc_preview(&im, &res, e)) != RL_OK)
		goto out;
	/*
	 * Kept as a finished task so that the review page and its apply
	 * route confirm a synchronous import as they confirm a task's.
	 */
	payload = json_pack("{s:I, s:I, s:s, s:b}", "plan_id",
	    (json_int_t)im.plan_id, "cours_id", (json_int_t)cours_id,
	    "session", session, "sync", 1);
	if (payload == NULL) {
		err = rl_error_set(e, RL_ENOMEM, NULL);
		goto out;
	}
	if ((err = rl_import_record(RL_IMPORT_TASK_PDC, req->user->id, payload,
	    res, rl_arena_printf(req->arena, "/plan_de_cours/review/%lld"
	    "?task_id=", im.plan_id), id, &stored, e)) != RL_OK)
		goto out;
	(void)json_object_set_new(stored, "success", json_true());
	err = rl_resp_json(req, 200, stored);
out:
	json_decref(res);
	json_decref(payload);
	json_decref(stored);
	free(text);
	return err;
}

/* 303 to path, the answer EDxo's views give a form they accepted. */
static enum rl_err
see_other(struct rl_req *req, const char *path)
{
	enum rl_err	 err;

	if (path == NULL)
		return RL_ENOMEM;
	if ((err = rl_resp_header(req, "Location", path)) != RL_OK)
		return err;
	return rl_resp_send(req, 303, NULL, NULL, 0);
}

/*
 * A queued extraction: EDxo's form pages (/import_grille, /ocr/start)
 * redirect to the task's tracking page, scripts get 202 {task_id}.
 */
static enum rl_err
queued(struct rl_req *req, const char *id)
{

	if (rl_resp_form_navigation(req))
		return see_other(req, rl_arena_printf(req->arena,
		    "/tasks/track/%s", id));
	return rl_resp_json_new(req, 202, json_pack("{s:s}", "task_id", id));
}

/*
 * Queue a task of kind with payload (NULL: out of memory; the caller keeps
 * its reference) and answer EDxo's {success, task_id}.
 */
static enum rl_err
enqueue(struct rl_req *req, const char *kind, const json_t *payload,
    struct rl_error *e)
{
	char		 id[37];
	enum rl_err	 err;

	if (payload == NULL)
		return rl_error_set(e, RL_ENOMEM, NULL);
	if ((err = rl_task_enqueue(kind, req->user->id, payload, id, e)) !=
	    RL_OK)
		return err;
	return rl_resp_json_new(req, 200, json_pack("{s:b, s:s}", "success",
	    1, "task_id", id));
}

static enum rl_err
import_docx_start(struct rl_req *req, struct rl_error *e)
{
	json_t		*payload = NULL;
	const char	*session, *model = ai_model(req);
	char		*text = NULL;
	long long	 plan_id, cours_id;
	enum rl_err	 err;

	if ((err = pdc_inputs(req, &plan_id, &cours_id, &session, &text,
	    e)) != RL_OK)
		goto out;
	payload = json_pack("{s:I, s:I, s:s, s:s, s:s?}", "plan_id",
	    (json_int_t)plan_id, "cours_id", (json_int_t)cours_id, "session",
	    session, "doc_text", text, "ai_model", model);
	err = enqueue(req, RL_IMPORT_TASK_PDC, payload, e);
out:
	json_decref(payload);
	free(text);
	return err;
}

static enum rl_err
pc_import_start(struct rl_req *req, struct rl_error *e)
{
	const struct rl_upload	*u;
	json_t			*payload = NULL;
	const char		*model = ai_model(req);
	char			*text = NULL;
	long long		 plan_id;
	enum rl_err		 err;

	if ((err = rl_req_param_int(req, "id", &plan_id, e)) != RL_OK ||
	    (err = upload(req, &u, e)) != RL_OK ||
	    (err = rl_import_docx_text(u->path, RL_IMPORT_PC_CHARS, &text,
	    e)) != RL_OK)
		goto out;
	if ((err = visible(req, PC_FIND, is_admin(req), rl_req_param(req,
	    "id"), NULL, NULL, "Plan-cadre non trouvé.", e)) != RL_OK)
		goto out;
	payload = json_pack("{s:I, s:s, s:s?}", "plan_id",
	    (json_int_t)plan_id, "doc_text", text, "ai_model", model);
	err = enqueue(req, RL_IMPORT_TASK_PC, payload, e);
out:
	json_decref(payload);
	free(text);
	return err;
}

/*
 * A PDF task: the file checked, then the task and the file's bytes in one
 * transaction, so neither exists without the other.
 */
static enum rl_err
pdf_start(struct rl_req *req, const char *kind, long long programme_id,
    struct rl_error *e)
{
	const struct rl_upload	*u;
	json_t			*payload = NULL;
	const char		*model = ai_model(req);
	const char		*name;
	char			 id[37];
	int			 pages, tx = 0;
	enum rl_err		 err;

	if ((err = upload(req, &u, e)) != RL_OK ||
	    (err = rl_import_pdf_check(u->path, u->size, &pages, e)) != RL_OK)
		goto out;
	name = u->filename != NULL && *u->filename != '\0' ? u->filename :
	    "document.pdf";
	payload = json_pack("{s:o, s:s, s:i, s:s?}", "programme_id",
	    programme_id > 0 ? json_integer(programme_id) : json_null(),
	    "filename", name, "pages", pages, "ai_model", model);
	if (payload == NULL) {
		err = rl_error_set(e, RL_ENOMEM, NULL);
		goto out;
	}
	if ((err = rl_db_begin(e)) != RL_OK)
		goto out;
	tx = 1;
	if ((err = rl_task_enqueue(kind, req->user->id, payload, id, e)) !=
	    RL_OK || (err = rl_import_spool(id, u->path, name, e)) != RL_OK ||
	    (err = rl_db_commit(e)) != RL_OK)
		goto out;
	tx = 0;
	err = queued(req, id);
out:
	if (tx)
		rl_db_rollback();
	json_decref(payload);
	return err;
}

static enum rl_err
grille_import(struct rl_req *req, struct rl_error *e)
{
	long long	 prog;
	enum rl_err	 err;

	prog = json_integer_value(json_object_get(req->json, "programme_id"));
	if (prog > 0 && (err = visible(req, PROG_FIND, is_admin(req),
	    rl_arena_printf(req->arena, "%lld", prog), NULL, NULL,
	    "Programme non trouvé.", e)) != RL_OK)
		return err;
	return pdf_start(req, RL_IMPORT_TASK_GRILLE, prog, e);
}

/* Admins and coordos, or a member of the programme (EDxo's rule). */
static enum rl_err
ocr_start(struct rl_req *req, struct rl_error *e)
{
	long long	 prog;
	enum rl_err	 err;

	if ((err = rl_req_param_int(req, "id", &prog, e)) != RL_OK ||
	    (err = visible(req, PROG_FIND, is_admin(req) ||
	    req->user->role == RL_ROLE_COORDO, rl_req_param(req, "id"), NULL,
	    NULL, "Programme non trouvé.", e)) != RL_OK)
		return err;
	return pdf_start(req, RL_IMPORT_TASK_OCR, prog, e);
}

/*
 * A devis' address on the ministry's site: https, no credentials, a host
 * under RL_IMPORT_OCR_DOMAINS.  *name is its last path segment (the
 * task's base_filename), in the arena.
 */
static int
ministry_pdf(struct rl_req *req, const char *url, const char **name)
{
	static const char *const domains[] = RL_IMPORT_OCR_DOMAINS;
	const char	*host = url + 8, *d, *path;
	size_t		 hl, dl, i, n;

	if (strncasecmp(url, "https://", 8) != 0)
		return 0;
	hl = strcspn(host, "/?#");
	if (hl == 0 || memchr(host, '@', hl) != NULL ||
	    memchr(host, ':', hl) != NULL)
		return 0;
	for (i = 0; i < sizeof(domains) / sizeof(domains[0]); i++) {
		d = domains[i];
		dl = strlen(d);
		if ((hl == dl || (hl > dl && host[hl - dl - 1] == '.')) &&
		    strncasecmp(host + hl - dl, d, dl) == 0)
			break;
	}
	if (i == sizeof(domains) / sizeof(domains[0]))
		return 0;
	path = host + hl;
	n = strcspn(path, "?#");
	for (i = n; i > 0 && path[i - 1] != '/'; i--)
		continue;
	*name = i < n ? rl_arena_strndup(req->arena, path + i, n - i) :
	    "devis.pdf";
	return *name != NULL;
}

/*
 * POST /ocr/start: EDxo's devis page posts the PDF's address on the
 * ministry's site (programme_url; secteur_url, the list it came from, is
 * not needed).  The task reads it through the provider, for no programme
 * yet: confirm_import names the programme and the extraction.
 */
static enum rl_err
ocr_url_start(struct rl_req *req, struct rl_error *e)
{
	json_t		*payload = NULL;
	const char	*url, *title, *name;
	char		 id[37];
	enum rl_err	 err;

	url = json_string_value(json_object_get(req->json, "programme_url"));
	title = json_string_value(json_object_get(req->json, "pdf_title"));
	if (!ministry_pdf(req, url, &name))
		return rl_error_field(e, RL_EVALIDATION, "programme_url",
		    "Adresse du devis refusée : un PDF du site du "
		    "ministère (https://….quebec.ca/…) est attendu.");
	payload = json_pack("{s:n, s:s, s:s, s:s, s:s?}", "programme_id",
	    "pdf_url", url, "filename", name, "pdf_title", title != NULL &&
	    *title != '\0' ? title : name, "ai_model", ai_model(req));
	if (payload == NULL)
		return rl_error_set(e, RL_ENOMEM, NULL);
	if ((err = rl_task_enqueue(RL_IMPORT_TASK_OCR, req->user->id,
	    payload, id, e)) == RL_OK)
		err = queued(req, id);
	json_decref(payload);
	return err;
}

/* A finished task of this kind, the user's own (any, for an admin). */
static enum rl_err
task_result(struct rl_req *req, const char *id, const char *kind,
    json_t **task, struct rl_error *e)
{
	static const char	 sql[] =
	    "SELECT json_build_object('state', t.state, 'payload', t.payload, "
	    "'result', t.result) FROM tasks t WHERE t.id = $1::uuid "
	    "AND t.name = $2 AND (t.user_id = $3::bigint OR $4::boolean)";
	const char		*p[4];
	enum rl_err		 err;

	*task = NULL;
	if (!rl_uuid_valid(id))
		return rl_error_field(e, RL_ENOTFOUND, "task_id", "Tâche "
		    "introuvable.");
	p[0] = id;
	p[1] = kind;
	p[2] = rl_arena_printf(req->arena, "%lld", req->user->id);
	p[3] = is_admin(req) ? "true" : "false";
	if ((err = rl_db_json(sql, 4, p, task, e)) != RL_OK)
		return err;
	if (json_is_null(*task)) {
		json_decref(*task);
		*task = NULL;
		return rl_error_field(e, RL_ENOTFOUND, "task_id", "Tâche "
		    "introuvable.");
	}
	if (strcmp(json_string_value(json_object_get(*task, "state")),
	    "SUCCESS") != 0) {
		err = rl_error_field(e, RL_ECONFLICT, "task_id", "La tâche "
		    "n'est pas terminée avec succès (état %s).",
		    json_string_value(json_object_get(*task, "state")));
		json_decref(*task);
		*task = NULL;
	}
	return err;
}

static enum rl_err
grille_get(struct rl_req *req, struct rl_error *e)
{
	json_t		*t = NULL, *r, *pid;
	const char	*id = rl_req_param(req, "task_id");
	long long	 prog;
	enum rl_err	 err;

	if ((err = task_result(req, id, RL_IMPORT_TASK_GRILLE, &t, e)) !=
	    RL_OK)
		goto out;
	prog = json_integer_value(json_object_get(req->json, "programme_id"));
	r = json_object_get(t, "result");
	pid = prog > 0 ? json_integer(prog) : json_incref(json_object_get(
	    json_object_get(t, "payload"), "programme_id"));
	err = rl_resp_json_new(req, 200, json_pack("{s:b, s:s, s:s, s:o*, "
	    "s:O*, s:[ss], s:O*}", "success", 1, "task_id", id, "state",
	    "SUCCESS", "programme_id", pid, "grille", json_object_get(r,
	    "result"), "import_modes", "append", "overwrite", "usage",
	    json_object_get(r, "usage")));
out:
	json_decref(t);
	return err;
}

static enum rl_err
grille_post(struct rl_req *req, struct rl_error *e)
{
	json_t		*t = NULL, *written = NULL, *no;
	const char	*id = rl_req_param(req, "task_id");
	const char	*mode;
	long long	 prog;
	enum rl_err	 err;

	if ((err = task_result(req, id, RL_IMPORT_TASK_GRILLE, &t, e)) !=
	    RL_OK)
		goto out;
	/*
	 * The form's "annuler" button: sent with any value (JSON's false
	 * and null aside), it cancels.
	 */
	no = json_object_get(req->json, "annuler");
	if (no != NULL && !json_is_false(no) && !json_is_null(no)) {
		err = rl_resp_json_new(req, 200, json_pack("{s:b, s:b, s:s}",
		    "success", 1, "cancelled", 1, "message", "Importation "
		    "annulée."));
		goto out;
	}
	prog = json_integer_value(json_object_get(req->json, "programme_id"));
	if (prog == 0)
		prog = json_integer_value(json_object_get(json_object_get(t,
		    "payload"), "programme_id"));
	if (prog <= 0) {
		err = rl_error_field(e, RL_EINVAL, "programme_id", "Champ "
		    "programme_id requis.");
		goto out;
	}
	/* "append" when not given, or left blank by the form. */
	mode = json_string_value(json_object_get(req->json, "import_mode"));
	if (mode == NULL || *mode == '\0')
		mode = "append";
	/* Writing courses is a coordinator's act (EDxo: admin|coordo). */
	if (!is_admin(req) && req->user->role != RL_ROLE_COORDO) {
		err = rl_error_set(e, RL_EFORBIDDEN, "Accès réservé aux "
		    "administrateurs et coordonnateurs.");
		goto out;
	}
	if ((err = visible(req, PROG_FIND, is_admin(req), rl_arena_printf(
	    req->arena, "%lld", prog), NULL, NULL, "Programme non trouvé.",
	    e)) != RL_OK)
		goto out;
	if ((err = rl_import_grille_apply(prog, strcmp(mode, "overwrite") ==
	    0, json_object_get(json_object_get(t, "result"), "result"),
	    &written, e)) != RL_OK)
		goto out;
	err = rl_resp_json_new(req, 200, json_pack("{s:b, s:I, s:s, s:O, "
	    "s:O, s:O}", "success", 1, "programme_id", (json_int_t)prog,
	    "import_mode", mode, "cours", json_object_get(written, "cours"),
	    "prealables", json_object_get(written, "prealables"), "corequis",
	    json_object_get(written, "corequis")));
out:
	json_decref(t);
	json_decref(written);
	return err;
}

/*
 * The extraction EDxo's review form names by its base_filename: the
 * user's latest finished import.competences task whose result carries
 * it (any user's, for an admin), as its task_id.
 */
static enum rl_err
by_base_filename(struct rl_req *req, const char *base, const char **tid,
    struct rl_error *e)
{
	static const char	 sql[] =
	    "SELECT t.id FROM tasks t WHERE t.name = $1 AND "
	    "t.state = 'SUCCESS' AND t.result->'result'->>'base_filename' = "
	    "$2 AND (t.user_id = $3::bigint OR $4::boolean) "
	    "ORDER BY t.finished_at DESC NULLS LAST LIMIT 1";
	const char		*p[4];
	struct rl_dbres		*r = NULL;
	enum rl_err		 err;

	p[0] = RL_IMPORT_TASK_OCR;
	p[1] = base;
	p[2] = rl_arena_printf(req->arena, "%lld", req->user->id);
	p[3] = is_admin(req) ? "true" : "false";
	if ((err = rl_db_exec(sql, 4, p, &r, e)) != RL_OK)
		goto out;
	if (rl_dbres_rows(r) < 1)
		err = rl_error_field(e, RL_ENOTFOUND, "base_filename",
		    "Aucune extraction terminée pour le devis « %s ».",
		    base);
	else if ((*tid = rl_arena_strdup(req->arena, rl_dbres_get(r, 0,
	    0))) == NULL)
		err = rl_error_set(e, RL_ENOMEM, NULL);
out:
	rl_dbres_free(r);
	return err;
}

/*
 * EDxo's confirm_import: the extraction's compétences written to the
 * programme.  EDxo's review form names it by base_filename, relais'
 * callers by task_id; import_structured "false" confirms the text alone
 * and writes nothing, as EDxo's.  The form then goes to the programme's
 * page, as EDxo's redirect; scripts get the JSON.
 */
static enum rl_err
ocr_confirm(struct rl_req *req, struct rl_error *e)
{
	json_t		*t = NULL, *written = NULL, *owner;
	const char	*tid, *base, *structured;
	long long	 prog;
	enum rl_err	 err;

	prog = json_integer_value(json_object_get(req->json, "programme_id"));
	tid = json_string_value(json_object_get(req->json, "task_id"));
	base = json_string_value(json_object_get(req->json, "base_filename"));
	structured = json_string_value(json_object_get(req->json,
	    "import_structured"));
	if (tid == NULL && base == NULL) {
		err = rl_error_field(e, RL_EVALIDATION, "base_filename",
		    "Champ base_filename (ou task_id) requis : "
		    "l'extraction à confirmer.");
		goto out;
	}
	if (tid == NULL && (err = by_base_filename(req, base, &tid, e)) !=
	    RL_OK)
		goto out;
	if ((err = task_result(req, tid, RL_IMPORT_TASK_OCR, &t, e)) != RL_OK)
		goto out;
	/* A devis from the ministry's site belongs to no programme yet. */
	owner = json_object_get(json_object_get(t, "payload"),
	    "programme_id");
	if (json_is_integer(owner) && json_integer_value(owner) != prog) {
		err = rl_error_field(e, RL_ECONFLICT, "programme_id", "Cette "
		    "extraction appartient à un autre programme.");
		goto out;
	}
	if ((err = visible(req, PROG_FIND, is_admin(req) ||
	    req->user->role == RL_ROLE_COORDO, rl_arena_printf(req->arena,
	    "%lld", prog), NULL, NULL, "Programme non trouvé.", e)) != RL_OK)
		goto out;
	if (structured != NULL && strcmp(structured, "false") == 0)
		written = json_array();
	else if ((err = rl_import_competences_apply(prog, json_object_get(
	    json_object_get(json_object_get(t, "result"), "result"),
	    "competences"), &written, e)) != RL_OK)
		goto out;
	if (rl_resp_form_navigation(req))
		err = see_other(req, rl_arena_printf(req->arena,
		    "/programme/%lld", prog));
	else
		err = rl_resp_json_new(req, 200, json_pack("{s:b, s:I, s:O}",
		    "success", 1, "programme_id", (json_int_t)prog,
		    "competences", written));
out:
	json_decref(t);
	json_decref(written);
	return err;
}

/*
 * EDxo's front-end calls every route: errors in its shape (route.h).  An
 * upload is multipart only; the confirms take what a page may send.
 */
static const struct rl_route routes[] = {
	{ "POST", "/import_docx", import_docx, "import.import_docx",
	    RL_ROUTE_EDXO_AUTH | RL_ROUTE_MULTIPART, 0 },
	{ "POST", "/import_docx_start", import_docx_start,
	    "import.import_docx", RL_ROUTE_EDXO_AUTH | RL_ROUTE_MULTIPART,
	    0 },
	{ "POST", "/plan_cadre/<int:id>/import_docx_start", pc_import_start,
	    "import.upload", RL_ROUTE_EDXO_AUTH | RL_ROUTE_MULTIPART |
	    RL_ROUTE_COORDO, 0 },
	{ "POST", "/grille/import", grille_import, "import.grille_import",
	    RL_ROUTE_EDXO_AUTH | RL_ROUTE_MULTIPART, 0 },
	{ "POST", "/import_grille", grille_import, "import.grille_import",
	    RL_ROUTE_EDXO_AUTH | RL_ROUTE_MULTIPART, 0 },
	/* EDxo's confirmation page is the application's (route.h). */
	{ "GET", "/confirm_grille_import/<uuid:task_id>", grille_get,
	    "import.confirm_grille_get", RL_ROUTE_EDXO_AUTH |
	    RL_ROUTE_APP_PAGE, 0 },
	{ "POST", "/confirm_grille_import/<uuid:task_id>", grille_post,
	    "import.confirm_grille_post", RL_ROUTE_EDXO_BODY, 0 },
	{ "POST", "/programme/<int:id>/competences/import_pdf/start",
	    ocr_start, "import.upload", RL_ROUTE_EDXO_AUTH |
	    RL_ROUTE_MULTIPART, 0 },
	{ "POST", "/ocr/start", ocr_url_start, "import.ocr_start",
	    RL_ROUTE_EDXO_BODY, 0 },
	{ "POST", "/programme/confirm_import", ocr_confirm,
	    "import.confirm_import", RL_ROUTE_EDXO_BODY, 0 },
};

/*
 * No init: the routes name request schemas, so the runtime loads the
 * registry, which also holds the schemas rl_gen_run validates answers
 * with.
 */
static const struct rl_program program = {
	"import", routes, RL_NROUTES(routes), 0, 1, NULL
};

int
main(int argc, char *argv[])
{

	return rl_main(argc, argv, &program);
}
