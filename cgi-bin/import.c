/*
 * import: EDxo's document imports (issue 8), docs/import.md.
 *
 *	POST /import_docx				plan de cours, now
 *	POST /import_docx_start				plan de cours, as a task
 *	POST /plan_cadre/<id>/import_docx_start		plan-cadre preview task
 *	POST /grille/import				grille from a PDF (task)
 *	GET|POST /confirm_grille_import/<task_id>	read / write that grille
 *	POST /programme/<id>/competences/import_pdf/start  devis PDF (task)
 *	POST /programme/confirm_import			write its compétences
 *
 * Uploads arrive as size-capped temporary files (the runtime's multipart
 * parser).  A .docx is read here, so a hostile one is refused before
 * anything is stored; a PDF is checked here and kept in import_uploads for
 * its task.  Imports only preview: the confirm routes (and the plan de
 * cours and plan-cadre programs' apply routes) write, one transaction each.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "bounds.h"
#include "buf.h"
#include "conf.h"
#include "db.h"
#include "edxo.h"
#include "fcgi.h"
#include "imports.h"
#include "req.h"
#include "resp.h"
#include "schema.h"
#include "worker.h"

/* Hours of one course per week in a grille: a sanity bound, not EDxo's. */
#define GRILLE_HOURS_MAX	100

/*
 * The HTML lists EDxo stores compétences in.  Their text comes from an
 * extraction no longer than an upstream answer; escaped ("&amp;" is five
 * bytes for one) and wrapped in tags it stays under five times that.
 */
#define HTML_MAX		(5 * (size_t)RL_OA_ANSWER_MAX)

/* A form field, or a JSON body member (a string or an integer). */
static const char *
arg(struct rl_req *req, const char *name)
{
	const char	*v;
	json_t		*j;

	if ((v = rl_req_form(req, name)) != NULL)
		return v;
	if ((j = json_object_get(req->json, name)) != NULL) {
		if (json_is_string(j))
			return json_string_value(j);
		if (json_is_integer(j))
			return rl_arena_printf(req->arena, "%lld",
			    (long long)json_integer_value(j));
	}
	return rl_req_query(req, name);
}

static enum rl_err
intarg(struct rl_req *req, const char *name, int required, long long *v,
    struct rl_error *e)
{
	const char	*s = arg(req, name);
	char		*end;

	*v = 0;
	if (s == NULL || *s == '\0') {
		if (!required)
			return RL_OK;
		return rl_error_field(e, RL_EINVAL, name, "Champ %s requis.",
		    name);
	}
	*v = strtoll(s, &end, 10);
	if (*end != '\0' || *v <= 0)
		return rl_error_field(e, RL_EINVAL, name, "%s : entier positif "
		    "attendu.", name);
	return RL_OK;
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
	if ((err = intarg(req, "cours_id", 1, cours_id, e)) != RL_OK)
		return err;
	if ((*session = arg(req, "session")) == NULL || **session == '\0')
		return rl_error_field(e, RL_EINVAL, "session", "Champ session "
		    "requis.");
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
	im.model = arg(req, "ai_model");
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
	const char	*session, *model = arg(req, "ai_model");
	char		*text = NULL;
	long long	 plan_id, cours_id;
	enum rl_err	 err;

	if ((err = pdc_inputs(req, &plan_id, &cours_id, &session, &text,
	    e)) != RL_OK)
		goto out;
	payload = json_pack("{s:I, s:I, s:s, s:s, s:s?}", "plan_id",
	    (json_int_t)plan_id, "cours_id", (json_int_t)cours_id, "session",
	    session, "doc_text", text, "ai_model", model != NULL && *model !=
	    '\0' ? model : NULL);
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
	const char		*model = arg(req, "ai_model");
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
	    (json_int_t)plan_id, "doc_text", text, "ai_model", model != NULL &&
	    *model != '\0' ? model : NULL);
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
	const char		*model = arg(req, "ai_model");
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
	    "filename", name, "pages", pages, "ai_model", model != NULL &&
	    *model != '\0' ? model : NULL);
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
	err = rl_resp_json_new(req, 202, json_pack("{s:s}", "task_id", id));
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

	if ((err = intarg(req, "programme_id", 0, &prog, e)) != RL_OK ||
	    (prog > 0 && (err = visible(req, PROG_FIND, is_admin(req),
	    rl_arena_printf(req->arena, "%lld", prog), NULL, NULL,
	    "Programme non trouvé.", e)) != RL_OK))
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
	    RL_OK || (err = intarg(req, "programme_id", 0, &prog, e)) != RL_OK)
		goto out;
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

/* A number of hours as the cours columns hold it. */
static enum rl_err
hours(const json_t *c, const char *k, long long *v, struct rl_error *e)
{
	double	 d = json_number_value(json_object_get(c, k));

	if (!json_is_number(json_object_get(c, k)) || d < 0 ||
	    d > GRILLE_HOURS_MAX)
		return rl_error_field(e, RL_EVALIDATION, k, "%s : heures hors "
		    "de 0 à %d.", k, GRILLE_HOURS_MAX);
	*v = llround(d);
	return RL_OK;
}

/* One statement, its first column of the first row as an id (or 0). */
static enum rl_err
exec_id(const char *sql, int n, const char *const *p, long long *id,
    struct rl_error *e)
{
	struct rl_dbres	*r = NULL;
	enum rl_err	 err;

	if (id != NULL)
		*id = 0;
	if ((err = rl_db_exec(sql, n, p, &r, e)) == RL_OK && id != NULL &&
	    rl_dbres_rows(r) > 0 && !rl_dbres_isnull(r, 0, 0))
		*id = strtoll(rl_dbres_get(r, 0, 0), NULL, 10);
	rl_dbres_free(r);
	return err;
}

static enum rl_err
grille_course(const char *prog, long long session,
    const json_t *c, json_t *ids, json_t *out, struct rl_error *e)
{
	const char	*code = json_string_value(json_object_get(c,
			    "code_cours"));
	const char	*nom = json_string_value(json_object_get(c,
			    "titre_cours"));
	const char	*p[7];
	char		 n[6][32];
	long long	 t, l, m, id = 0;
	int		 created = 0;
	enum rl_err	 err;

	if (code == NULL || code[strspn(code, " \t")] == '\0' || nom == NULL ||
	    nom[strspn(nom, " \t")] == '\0')
		return rl_error_field(e, RL_EVALIDATION, "code_cours", "Cours "
		    "sans code ou sans titre dans la grille.");
	if ((err = hours(c, "heures_theorie", &t, e)) != RL_OK ||
	    (err = hours(c, "heures_labo", &l, e)) != RL_OK ||
	    (err = hours(c, "heures_maison", &m, e)) != RL_OK)
		return err;
	(void)snprintf(n[0], sizeof(n[0]), "%lld", t);
	(void)snprintf(n[1], sizeof(n[1]), "%lld", l);
	(void)snprintf(n[2], sizeof(n[2]), "%lld", m);
	(void)snprintf(n[3], sizeof(n[3]), "%.2f", (double)(t + l + m) / 3.0);
	(void)snprintf(n[4], sizeof(n[4]), "%lld", session);
	p[0] = prog;
	p[1] = code;
	if ((id = json_integer_value(json_object_get(ids, code))) == 0 &&
	    (err = exec_id("SELECT c.id FROM cours c JOIN cours_programme cp "
	    "ON cp.cours_id = c.id WHERE cp.programme_id = $1::bigint AND "
	    "c.code = $2 ORDER BY c.id LIMIT 1", 2, p, &id, e)) != RL_OK)
		return err;
	p[1] = nom;
	p[2] = n[0];
	p[3] = n[1];
	p[4] = n[2];
	p[5] = n[3];
	if (id > 0) {
		(void)snprintf(n[5], sizeof(n[5]), "%lld", id);
		p[0] = n[5];
		err = exec_id("UPDATE cours SET nom = $2, heures_theorie = "
		    "$3::integer, heures_laboratoire = $4::integer, "
		    "heures_travail_maison = $5::integer, nombre_unites = "
		    "$6::numeric WHERE id = $1::bigint", 6, p, NULL, e);
	} else {
		p[0] = code;
		created = 1;
		err = exec_id("INSERT INTO cours (code, nom, heures_theorie, "
		    "heures_laboratoire, heures_travail_maison, nombre_unites) "
		    "VALUES ($1, $2, $3::integer, $4::integer, $5::integer, "
		    "$6::numeric) RETURNING id", 6, p, &id, e);
		(void)snprintf(n[5], sizeof(n[5]), "%lld", id);
	}
	if (err != RL_OK)
		return err;
	p[0] = n[5];
	p[1] = prog;
	p[2] = n[4];
	if ((err = exec_id("INSERT INTO cours_programme (cours_id, "
	    "programme_id, session) VALUES ($1::bigint, $2::bigint, "
	    "$3::integer) ON CONFLICT (cours_id, programme_id) DO UPDATE "
	    "SET session = EXCLUDED.session", 3, p, NULL, e)) != RL_OK)
		return err;
	if (json_object_set_new(ids, code, json_integer(id)) == -1 ||
	    json_array_append_new(out, json_pack("{s:I, s:s, s:s, s:I, s:b}",
	    "id", (json_int_t)id, "code", code, "nom", nom, "session",
	    (json_int_t)session, "created", created)) == -1)
		return rl_error_set(e, RL_ENOMEM, NULL);
	return RL_OK;
}

/* Préalables and corequis, once every course of the grille has an id. */
static enum rl_err
grille_links(const json_t *c, const json_t *ids, long long *npre,
    long long *ncor, struct rl_error *e)
{
	const char	*p[3], *code;
	const json_t	*x;
	char		 a[32], b[32], note[32];
	long long	 self, other;
	double		 pct;
	size_t		 i;
	enum rl_err	 err;

	self = json_integer_value(json_object_get(ids, json_string_value(
	    json_object_get(c, "code_cours"))));
	(void)snprintf(a, sizeof(a), "%lld", self);
	p[0] = a;
	p[1] = b;
	json_array_foreach(json_object_get(c, "prerequis"), i, x) {
		code = json_string_value(json_object_get(x, "code_cours"));
		other = json_integer_value(json_object_get(ids, code != NULL ?
		    code : ""));
		if (other == 0 || other == self)
			continue;	/* outside the grille: reported below */
		pct = json_number_value(json_object_get(x,
		    "pourcentage_minimum"));
		(void)snprintf(b, sizeof(b), "%lld", other);
		(void)snprintf(note, sizeof(note), "%lld", llround(pct));
		p[2] = pct > 0 && pct <= 100 ? note : NULL;
		if ((err = exec_id("INSERT INTO cours_prealable (cours_id, "
		    "cours_prealable_id, note_necessaire) VALUES ($1::bigint, "
		    "$2::bigint, $3::integer) ON CONFLICT (cours_id, "
		    "cours_prealable_id) DO UPDATE SET note_necessaire = "
		    "EXCLUDED.note_necessaire", 3, p, NULL, e)) != RL_OK)
			return err;
		(*npre)++;
	}
	json_array_foreach(json_object_get(c, "corequis"), i, x) {
		code = json_string_value(x);
		other = json_integer_value(json_object_get(ids, code != NULL ?
		    code : ""));
		if (other == 0 || other == self)
			continue;
		(void)snprintf(b, sizeof(b), "%lld", other);
		if ((err = exec_id("INSERT INTO cours_corequis (cours_id, "
		    "cours_corequis_id) VALUES ($1::bigint, $2::bigint) "
		    "ON CONFLICT (cours_id, cours_corequis_id) DO NOTHING", 2,
		    p, NULL, e)) != RL_OK)
			return err;
		(*ncor)++;
	}
	return RL_OK;
}

/*
 * EDxo's save_grille_to_database: courses found by code among the
 * programme's (else created), placed in their session; "overwrite" also
 * detaches the programme's other courses; then préalables (with the
 * minimum grade) and corequis between courses of the grille.
 */
static enum rl_err
grille_write(long long prog, int overwrite,
    const json_t *grille, json_t **answer, struct rl_error *e)
{
	const json_t	*s, *c;
	json_t		*ids = NULL, *out = NULL;
	const char	*p[2], *k;
	json_t		*v;
	char		 pid[32];
	long long	 npre = 0, ncor = 0, session;
	size_t		 i, j, len;
	char		*list = NULL;
	int		 tx = 0;
	enum rl_err	 err;

	*answer = NULL;
	(void)snprintf(pid, sizeof(pid), "%lld", prog);
	if ((ids = json_object()) == NULL || (out = json_array()) == NULL) {
		err = rl_error_set(e, RL_ENOMEM, NULL);
		goto out;
	}
	if ((err = rl_db_begin(e)) != RL_OK)
		goto out;
	tx = 1;
	json_array_foreach(json_object_get(grille, "sessions"), i, s) {
		session = json_integer_value(json_object_get(s,
		    "numero_session"));
		json_array_foreach(json_object_get(s, "cours"), j, c)
			if ((err = grille_course(pid, session, c, ids, out,
			    e)) != RL_OK)
				goto out;
	}
	if (overwrite) {
		len = 2 + 21 * json_object_size(ids);
		if ((list = malloc(len + 1)) == NULL) {
			err = rl_error_set(e, RL_ENOMEM, NULL);
			goto out;
		}
		i = (size_t)snprintf(list, len, "{");
		json_object_foreach(ids, k, v)
			i += (size_t)snprintf(list + i, len - i, "%s%lld",
			    i > 1 ? "," : "", (long long)json_integer_value(v));
		(void)snprintf(list + i, len - i, "}");
		p[0] = pid;
		p[1] = list;
		if ((err = exec_id("DELETE FROM cours_programme WHERE "
		    "programme_id = $1::bigint AND NOT (cours_id = "
		    "ANY ($2::bigint[]))", 2, p, NULL, e)) != RL_OK)
			goto out;
	}
	json_array_foreach(json_object_get(grille, "sessions"), i, s)
		json_array_foreach(json_object_get(s, "cours"), j, c)
			if ((err = grille_links(c, ids, &npre, &ncor, e)) !=
			    RL_OK)
				goto out;
	if ((err = rl_db_commit(e)) != RL_OK)
		goto out;
	tx = 0;
	*answer = json_pack("{s:b, s:I, s:s, s:O, s:I, s:I}", "success", 1,
	    "programme_id", (json_int_t)prog, "import_mode", overwrite ?
	    "overwrite" : "append", "cours", out, "prealables",
	    (json_int_t)npre, "corequis", (json_int_t)ncor);
	if (*answer == NULL)
		err = rl_error_set(e, RL_ENOMEM, NULL);
out:
	if (tx)
		rl_db_rollback();
	json_decref(ids);
	json_decref(out);
	free(list);
	return err;
}

static enum rl_err
grille_post(struct rl_req *req, struct rl_error *e)
{
	json_t		*t = NULL, *answer = NULL;
	const char	*id = rl_req_param(req, "task_id");
	const char	*mode = arg(req, "import_mode");
	long long	 prog;
	int		 overwrite = 0;
	enum rl_err	 err;

	if ((err = task_result(req, id, RL_IMPORT_TASK_GRILLE, &t, e)) !=
	    RL_OK)
		goto out;
	if (arg(req, "annuler") != NULL) {
		err = rl_resp_json_new(req, 200, json_pack("{s:b, s:b, s:s}",
		    "success", 1, "cancelled", 1, "message", "Importation "
		    "annulée."));
		goto out;
	}
	if ((err = intarg(req, "programme_id", 0, &prog, e)) != RL_OK)
		goto out;
	if (prog == 0)
		prog = json_integer_value(json_object_get(json_object_get(t,
		    "payload"), "programme_id"));
	if (prog <= 0) {
		err = rl_error_field(e, RL_EINVAL, "programme_id", "Champ "
		    "programme_id requis.");
		goto out;
	}
	if (mode != NULL && *mode != '\0' && strcmp(mode, "append") != 0 &&
	    !(overwrite = strcmp(mode, "overwrite") == 0)) {
		err = rl_error_field(e, RL_EINVAL, "import_mode", "import_mode "
		    ": append ou overwrite.");
		goto out;
	}
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
	if ((err = grille_write(prog, overwrite, json_object_get(
	    json_object_get(t, "result"), "result"), &answer, e)) != RL_OK)
		goto out;
	err = rl_resp_json(req, 200, answer);
out:
	json_decref(t);
	json_decref(answer);
	return err;
}

/* Text as HTML: &, < and > escaped. */
static void
buf_html(struct rl_buf *b, const char *s)
{
	size_t	 n;

	while (s != NULL && *s != '\0') {
		n = strcspn(s, "&<>");
		(void)rl_buf_add(b, s, n);
		s += n;
		if (*s == '&')
			(void)rl_buf_addstr(b, "&amp;");
		else if (*s == '<')
			(void)rl_buf_addstr(b, "&lt;");
		else if (*s == '>')
			(void)rl_buf_addstr(b, "&gt;");
		else
			break;
		s++;
	}
}

/* EDxo stores the contexte as nested <ul> lists (texte, sous_points). */
static void
ctx_html(struct rl_buf *b, const json_t *items)
{
	const json_t	*x;
	size_t		 i;

	if (json_array_size(items) == 0)
		return;
	(void)rl_buf_addstr(b, "<ul>");
	json_array_foreach(items, i, x) {
		(void)rl_buf_addstr(b, "<li>");
		buf_html(b, json_string_value(json_object_get(x, "texte")));
		ctx_html(b, json_object_get(x, "sous_points"));
		(void)rl_buf_addstr(b, "</li>");
	}
	(void)rl_buf_addstr(b, "</ul>");
}

static void
list_html(struct rl_buf *b, const json_t *items)
{
	const json_t	*x;
	size_t		 i;

	if (json_array_size(items) == 0)
		return;
	(void)rl_buf_addstr(b, "<ul>");
	json_array_foreach(items, i, x) {
		(void)rl_buf_addstr(b, "<li>");
		buf_html(b, json_string_value(x));
		(void)rl_buf_addstr(b, "</li>");
	}
	(void)rl_buf_addstr(b, "</ul>");
}

static enum rl_err
element_write(long long comp, const json_t *el, struct rl_error *e)
{
	const char	*p[2], *nom = json_string_value(json_object_get(el,
			    "element"));
	const json_t	*c;
	char		 cid[32], eid[32];
	long long	 id;
	size_t		 i;
	enum rl_err	 err;

	if (nom == NULL || nom[strspn(nom, " \t")] == '\0')
		return RL_OK;
	(void)snprintf(cid, sizeof(cid), "%lld", comp);
	p[0] = cid;
	p[1] = nom;
	if ((err = exec_id("SELECT id FROM element_competence WHERE "
	    "competence_id = $1::bigint AND nom = $2 ORDER BY id LIMIT 1", 2,
	    p, &id, e)) != RL_OK)
		return err;
	if (id == 0 && (err = exec_id("INSERT INTO element_competence "
	    "(competence_id, nom) VALUES ($1::bigint, $2) RETURNING id", 2, p,
	    &id, e)) != RL_OK)
		return err;
	(void)snprintf(eid, sizeof(eid), "%lld", id);
	p[0] = eid;
	if ((err = exec_id("DELETE FROM element_competence_criteria WHERE "
	    "element_competence_id = $1::bigint", 1, p, NULL, e)) != RL_OK)
		return err;
	json_array_foreach(json_object_get(el, "criteres"), i, c) {
		if ((p[1] = json_string_value(c)) == NULL || *p[1] == '\0')
			continue;
		if ((err = exec_id("INSERT INTO element_competence_criteria "
		    "(element_competence_id, criteria) VALUES ($1::bigint, $2)",
		    2, p, NULL, e)) != RL_OK)
			return err;
	}
	return RL_OK;
}

static enum rl_err
competence_write(const char *prog, const json_t *c, json_t *out,
    struct rl_error *e)
{
	const char	*code = json_string_value(json_object_get(c, "Code"));
	const char	*nom = json_string_value(json_object_get(c,
			    "Nom de la compétence"));
	const char	*p[5];
	struct rl_buf	 ctx, crit;
	struct rl_dbres	*r = NULL;
	const json_t	*el;
	long long	 id;
	size_t		 i;
	int		 created;
	enum rl_err	 err;

	rl_buf_init(&ctx, HTML_MAX);
	rl_buf_init(&crit, HTML_MAX);
	if (code == NULL || code[strspn(code, " \t")] == '\0' || nom == NULL) {
		err = rl_error_field(e, RL_EVALIDATION, "Code", "Compétence "
		    "sans code dans l'extraction.");
		goto out;
	}
	ctx_html(&ctx, json_object_get(c, "Contexte de réalisation"));
	list_html(&crit, json_object_get(c, "Critères de performance pour "
	    "l’ensemble de la compétence"));
	if ((err = rl_buf_err(&ctx)) != RL_OK ||
	    (err = rl_buf_err(&crit)) != RL_OK) {
		err = rl_error_set(e, err, NULL);
		goto out;
	}
	p[0] = prog;
	p[1] = code;
	p[2] = nom;
	/* An empty list is NULL, as EDxo leaves it. */
	p[3] = rl_buf_len(&crit) > 0 ? rl_buf_str(&crit) : NULL;
	p[4] = rl_buf_len(&ctx) > 0 ? rl_buf_str(&ctx) : NULL;
	if ((err = rl_db_exec("INSERT INTO competences (programme_id, code, "
	    "nom, criteria_de_performance, contexte_de_realisation) VALUES "
	    "($1::bigint, $2, $3, $4, $5) ON CONFLICT (programme_id, code) DO "
	    "UPDATE SET nom = EXCLUDED.nom, criteria_de_performance = "
	    "EXCLUDED.criteria_de_performance, contexte_de_realisation = "
	    "EXCLUDED.contexte_de_realisation RETURNING id, xmax = 0", 5, p,
	    &r, e)) != RL_OK)
		goto out;
	id = strtoll(rl_dbres_get(r, 0, 0), NULL, 10);
	created = strcmp(rl_dbres_get(r, 0, 1), "t") == 0;
	p[0] = rl_dbres_get(r, 0, 0);
	p[1] = prog;
	if ((err = exec_id("INSERT INTO competence_programme (competence_id, "
	    "programme_id) VALUES ($1::bigint, $2::bigint) ON CONFLICT DO "
	    "NOTHING", 2, p, NULL, e)) != RL_OK)
		goto out;
	json_array_foreach(json_object_get(c, "Éléments"), i, el)
		if ((err = element_write(id, el, e)) != RL_OK)
			goto out;
	if (json_array_append_new(out, json_pack("{s:I, s:s, s:s, s:b}", "id",
	    (json_int_t)id, "code", code, "nom", nom, "created", created)) ==
	    -1)
		err = rl_error_set(e, RL_ENOMEM, NULL);
out:
	rl_dbres_free(r);
	rl_buf_free(&ctx);
	rl_buf_free(&crit);
	return err;
}

/*
 * EDxo's confirm_import: compétences upserted by (programme, code), with
 * their contexte and critères as HTML lists, linked to the programme;
 * éléments found by name (else created) and their critères replaced.
 */
static enum rl_err
ocr_confirm(struct rl_req *req, struct rl_error *e)
{
	json_t		*t = NULL, *out = NULL, *list;
	const json_t	*c;
	const char	*pid;
	long long	 prog;
	size_t		 i;
	int		 tx = 0;
	enum rl_err	 err;

	if ((err = intarg(req, "programme_id", 1, &prog, e)) != RL_OK)
		goto out;
	if (arg(req, "task_id") == NULL) {
		err = rl_error_field(e, RL_EINVAL, "task_id", "Champ task_id "
		    "requis (l'extraction à confirmer).");
		goto out;
	}
	if ((err = task_result(req, arg(req, "task_id"), RL_IMPORT_TASK_OCR,
	    &t, e)) != RL_OK)
		goto out;
	pid = rl_arena_printf(req->arena, "%lld", prog);
	if (json_integer_value(json_object_get(json_object_get(t, "payload"),
	    "programme_id")) != prog) {
		err = rl_error_field(e, RL_ECONFLICT, "programme_id", "Cette "
		    "extraction appartient à un autre programme.");
		goto out;
	}
	if ((err = visible(req, PROG_FIND, is_admin(req) ||
	    req->user->role == RL_ROLE_COORDO, pid, NULL, NULL,
	    "Programme non trouvé.", e)) != RL_OK)
		goto out;
	list = json_object_get(json_object_get(json_object_get(t, "result"),
	    "result"), "competences");
	if ((out = json_array()) == NULL) {
		err = rl_error_set(e, RL_ENOMEM, NULL);
		goto out;
	}
	if ((err = rl_db_begin(e)) != RL_OK)
		goto out;
	tx = 1;
	json_array_foreach(list, i, c)
		if ((err = competence_write(pid, c, out, e)) != RL_OK)
			goto out;
	if ((err = rl_db_commit(e)) != RL_OK)
		goto out;
	tx = 0;
	err = rl_resp_json_new(req, 200, json_pack("{s:b, s:I, s:O}",
	    "success", 1, "programme_id", (json_int_t)prog, "competences",
	    out));
out:
	if (tx)
		rl_db_rollback();
	json_decref(t);
	json_decref(out);
	return err;
}

/* EDxo's front-end calls every route: errors in its shape (route.h). */
#define AUTH	(RL_ROUTE_AUTH | RL_ROUTE_EDXO)
#define MP	(AUTH | RL_ROUTE_MULTIPART)
#define BODY	(AUTH | RL_ROUTE_FORM | RL_ROUTE_JSON)

static const struct rl_route routes[] = {
	{ "POST", "/import_docx", import_docx, NULL, MP, 0 },
	{ "POST", "/import_docx_start", import_docx_start, NULL, MP, 0 },
	{ "POST", "/plan_cadre/<int:id>/import_docx_start", pc_import_start,
	    NULL, MP | RL_ROUTE_COORDO, 0 },
	{ "POST", "/grille/import", grille_import, NULL, MP, 0 },
	{ "GET", "/confirm_grille_import/<uuid:task_id>", grille_get, NULL,
	    AUTH, 0 },
	{ "POST", "/confirm_grille_import/<uuid:task_id>", grille_post, NULL,
	    BODY, 0 },
	{ "POST", "/programme/<int:id>/competences/import_pdf/start",
	    ocr_start, NULL, MP, 0 },
	{ "POST", "/programme/confirm_import", ocr_confirm, NULL, BODY, 0 },
};

/* The registry holds the schemas rl_gen_run validates answers with. */
static enum rl_err
init(struct rl_error *e)
{

	if (rl_schema_get("ImportPlanDeCoursResponse") != NULL)
		return RL_OK;
	return rl_schema_registry_load(rl_conf->schema_dir, e);
}

static const struct rl_program program = {
	"import", routes, RL_NROUTES(routes), 0, 1, init
};

int
main(int argc, char *argv[])
{

	return rl_main(argc, argv, &program);
}
