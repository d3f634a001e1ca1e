/*
 * batch_export.c: what the batch program hands out (issue 21, seed 002):
 * the history as a CSV or JSON download, the generated sections of a
 * collected batch as Markdown or Word (each file naming the batch and
 * the time of the export), and the clean-up that takes old finished
 * batches out of the history and deletes their files on OpenAI.
 *
 * Everything is read from gen_batches and gen_batch_items
 * (sql/0016_batches.sql) with the same visibility as cgi-bin/batch.c:
 * a user sees their own batches, an admin every batch; another user's
 * batch is a 404, as one that does not exist.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "batch_export.h"
#include "bounds.h"
#include "buf.h"
#include "db.h"
#include "docxw.h"
#include "log.h"
#include "models.h"
#include "openai.h"
#include "req.h"
#include "resp.h"

/* A timestamp as ISO 8601 UTC, and as a file name's stamp. */
#define SQL_ISO(x)							\
	"to_char((" x ") AT TIME ZONE 'UTC', "				\
	"'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
#define SQL_STAMP							\
	"to_char(now() AT TIME ZONE 'UTC', 'YYYYMMDD\"T\"HH24MISS\"Z\"')"

/*
 * One row of the history export.  Its columns are those of the CSV, in
 * this order (history_cols); progress_pct as cgi-bin/batch.c shows it.
 */
#define SQL_HISTORY							\
	"SELECT json_build_object('exported_at', " SQL_ISO("now()") ", " \
	"'stamp', " SQL_STAMP ", 'batches', coalesce((SELECT json_agg(" \
	"x.r ORDER BY x.id DESC) FROM (SELECT b.id, json_build_object("	\
	"'id', b.id, 'user_id', b.user_id, 'username', u.username, "	\
	"'kind', b.kind, 'model', b.model, 'status', b.status, "	\
	"'openai_batch_id', b.openai_batch_id, 'total', b.total, "	\
	"'completed', b.completed, 'failed', b.failed, 'progress_pct', " \
	"CASE WHEN b.status IN ('completed', 'collected') THEN 100 "	\
	"WHEN b.total = 0 THEN 0 ELSE round(100.0 * (b.completed + "	\
	"b.failed) / b.total, 1) END, 'parent_id', b.parent_id, "	\
	"'reserved_micro', b.reserved_micro, 'settled_micro', "	\
	"b.settled_micro, 'created_at', " SQL_ISO("b.created_at") ", "	\
	"'updated_at', " SQL_ISO("b.updated_at") ", 'completed_at', "	\
	SQL_ISO("b.completed_at") ", 'collected_at', "			\
	SQL_ISO("b.collected_at") ", 'sections', coalesce((SELECT "	\
	"json_agg(DISTINCT s.section) FROM gen_batch_items s WHERE "	\
	"s.batch_id = b.id), '[]')) AS r FROM gen_batches b JOIN users u " \
	"ON u.id = b.user_id WHERE b.deleted_at IS NULL AND ($2::boolean " \
	"OR b.user_id = $1::bigint) ORDER BY b.id DESC LIMIT "		\
	"$3::integer) x), '[]'))"

static const char *const history_cols[] = {
	"id", "user_id", "username", "kind", "model", "status",
	"openai_batch_id", "total", "completed", "failed", "progress_pct",
	"parent_id", "reserved_micro", "settled_micro", "created_at",
	"updated_at", "completed_at", "collected_at", "sections"
};

/*
 * A batch and its generated lines ($4: the kind's sections in their
 * order, as a text[] literal), each line with its plan's name.  null
 * when the user may not see the batch.
 */
#define SQL_RESULTS							\
	"SELECT json_build_object('id', b.id, 'kind', b.kind, 'model', " \
	"b.model, 'status', b.status, 'openai_batch_id', "		\
	"b.openai_batch_id, 'collected', b.collected_at IS NOT NULL, "	\
	"'total', b.total, 'created_at', " SQL_ISO("b.created_at") ", "	\
	"'collected_at', " SQL_ISO("b.collected_at") ", 'exported_at', " \
	SQL_ISO("now()") ", 'stamp', " SQL_STAMP ", 'items', "		\
	"coalesce((SELECT json_agg(json_build_object('plan_id', "	\
	"i.plan_id, 'section', i.section, 'plan', CASE WHEN b.kind = "	\
	"'plan_cadre' THEN (SELECT c.code || ' — ' || c.nom "		\
	"FROM plan_cadre x JOIN cours c ON c.id = x.cours_id "		\
	"WHERE x.id = i.plan_id) ELSE (SELECT c.code || ' — ' || "	\
	"c.nom || ' (' || x.session || ')' FROM plan_de_cours x "	\
	"JOIN cours c ON c.id = x.cours_id WHERE x.id = i.plan_id) "	\
	"END, 'result', i.result) ORDER BY i.plan_id, "			\
	"array_position($4::text[], i.section), i.section) FROM "	\
	"gen_batch_items i WHERE i.batch_id = b.id AND i.status = "	\
	"'ok'), '[]')) FROM gen_batches b WHERE b.id = $1::bigint AND "	\
	"b.deleted_at IS NULL AND ($3::boolean OR "			\
	"b.user_id = $2::bigint)"

/*
 * The batches a clean-up takes: finished (collected: every line stored,
 * every hold settled or released; or refused by OpenAI at launch, when
 * nothing was sent), created more than $3 days ago, still in the history
 * or out of it with files left on OpenAI (a DELETE from the history
 * keeps them; a file whose deletion failed is tried again).
 */
#define SQL_CLEANUP_SELECT						\
	"SELECT b.id, b.user_id, b.model, b.deleted_at IS NULL, "	\
	"b.input_file_id, b.output_file_id, b.error_file_id FROM "	\
	"gen_batches b WHERE ($2::boolean OR b.user_id = $1::bigint) AND " \
	"b.created_at < now() - make_interval(days => $3::integer) AND " \
	"(b.collected_at IS NOT NULL OR (b.openai_batch_id IS NULL AND " \
	"b.status = 'failed')) AND (b.deleted_at IS NULL OR "		\
	"b.input_file_id IS NOT NULL OR b.output_file_id IS NOT NULL OR " \
	"b.error_file_id IS NOT NULL) ORDER BY b.id LIMIT $4::integer"

/* Out of the history; the files said gone ($2..$4) forgotten. */
#define SQL_CLEANUP_UPDATE						\
	"UPDATE gen_batches SET deleted_at = coalesce(deleted_at, now()), " \
	"updated_at = now(), input_file_id = CASE WHEN $2::boolean THEN " \
	"NULL ELSE input_file_id END, output_file_id = CASE WHEN "	\
	"$3::boolean THEN NULL ELSE output_file_id END, error_file_id = " \
	"CASE WHEN $4::boolean THEN NULL ELSE error_file_id END WHERE id " \
	"= $1::bigint"

/*
 * The names the documents show for the sections and the fields of the
 * generated lists; any other key is shown as itself, '_' as a blank.
 */
static const struct {
	const char	*key;
	const char	*label;
} labels[] = {
	{ "presentation_du_cours", "Présentation du cours" },
	{ "objectif_terminal_du_cours", "Objectif terminal du cours" },
	{ "organisation_et_methodes", "Organisation et méthodes" },
	{ "accomodement", "Accommodement" },
	{ "evaluation_formative_apprentissages",
	    "Évaluation formative des apprentissages" },
	{ "evaluation_expression_francais",
	    "Évaluation de l'expression en français" },
	{ "materiel", "Matériel" },
	{ "seuil_reussite", "Seuil de réussite" },
	{ "calendriers", "Calendrier" },
	{ "evaluations", "Évaluations" },
	{ "place_intro", "Place et rôle du cours" },
	{ "objectif_terminal", "Objectif terminal" },
	{ "structure_intro", "Structure du cours" },
	{ "structure_activites_theoriques", "Activités théoriques" },
	{ "structure_activites_pratiques", "Activités pratiques" },
	{ "structure_activites_prevues", "Activités prévues" },
	{ "eval_evaluation_sommative", "Évaluation sommative" },
	{ "eval_nature_evaluations_sommatives",
	    "Nature des évaluations sommatives" },
	{ "eval_evaluation_de_la_langue", "Évaluation de la langue" },
	{ "eval_evaluation_sommatives_apprentissages",
	    "Évaluation sommative des apprentissages" },
	{ "competences_developpees", "Compétences développées" },
	{ "competences_certifiees", "Compétences certifiées" },
	{ "cours_corequis", "Cours corequis" },
	{ "objets_cibles", "Objets cibles" },
	{ "cours_relies", "Cours reliés" },
	{ "cours_prealables", "Cours préalables" },
	{ "savoir_etre", "Savoir-être" },
	{ "capacites", "Capacités" },
	{ "semaine", "Semaine" },
	{ "sujet", "Sujet" },
	{ "activites", "Activités" },
	{ "travaux_hors_classe", "Travaux hors classe" },
	{ "titre_evaluation", "Titre" },
	{ "description", "Description" },
	{ "ponderation", "Pondération" },
};

/* A key shown as a label: the schemas' keys are short. */
#define LABEL_MAX	128

/* Nesting a document shows as headings; deeper is shown as JSON. */
#define DEPTH_MAX	5

/*
 * Where a document goes: Markdown text, or a Word document when w is
 * set.  Both keep their first error (rl_buf and rl_docxw are sticky), so
 * the writers below check once, at the end.
 */
struct sink {
	struct rl_buf	 md;
	struct rl_docxw	*w;
	enum rl_err	 err;	/* an allocation beside them failed */
};

/* The label of key, in buf when it is not in the table. */
static const char *
label_of(const char *key, char *buf, size_t size)
{
	size_t	 i;

	for (i = 0; i < sizeof(labels) / sizeof(labels[0]); i++)
		if (strcmp(labels[i].key, key) == 0)
			return labels[i].label;
	(void)snprintf(buf, size, "%s", key);
	for (i = 0; buf[i] != '\0'; i++)
		if (buf[i] == '_')
			buf[i] = ' ';
	return buf;
}

static int
is_admin(const struct rl_req *req)
{

	return req->user->role == RL_ROLE_ADMIN;
}

/*
 * The format a route was asked for, def when none.  Checked here, not
 * by the request schema's enum (a 422): a wrong format is the client's
 * plain mistake, a 400 naming the field and the choices.
 */
static enum rl_err
format_of(struct rl_req *req, const char *def, const char *a,
    const char *b, const char **fmt, struct rl_error *e)
{
	const char	*f;

	f = json_string_value(json_object_get(req->json, "format"));
	if (f == NULL)
		f = def;
	if (strcmp(f, a) != 0 && strcmp(f, b) != 0)
		return rl_error_field(e, RL_EINVAL, "format",
		    "format : %s ou %s.", a, b);
	*fmt = strcmp(f, a) == 0 ? a : b;
	return RL_OK;
}

/* Content-Disposition: attachment, a name of ASCII only. */
static enum rl_err
attachment(struct rl_req *req, const char *name, struct rl_error *e)
{
	char	 v[160];

	(void)snprintf(v, sizeof(v), "attachment; filename=\"%s\"", name);
	if (rl_resp_header(req, "Content-Disposition", v) != RL_OK)
		return rl_error_set(e, RL_EINTERNAL, "header refused");
	return RL_OK;
}

/* A buffer's sticky failure for an allocation made beside it. */
static void
oom(struct rl_buf *b)
{

	if (b->err == RL_OK)
		b->err = RL_ENOMEM;
}

/* A value as a cell or a line of text ("" for null). */
static char *
text_of(const json_t *v)
{

	if (v == NULL || json_is_null(v))
		return strdup("");
	if (json_is_string(v))
		return strdup(json_string_value(v));
	if (json_is_true(v))
		return strdup("oui");
	if (json_is_false(v))
		return strdup("non");
	return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
}

/*
 * One CSV field (RFC 4180): quoted when it holds a comma, a quote, a
 * line break or edge blanks, quotes doubled.  A text a spreadsheet would
 * run as a formula (=, +, -, @, tab, CR first) gets a leading
 * apostrophe: a model name or a user name is data, never a formula.
 */
static void
csv_field(struct rl_buf *b, const json_t *v)
{
	const char	*s, *p;
	char		*t;
	size_t		 n;
	int		 quote;

	if ((t = text_of(v)) == NULL) {
		oom(b);
		return;
	}
	s = t;
	n = strlen(s);
	quote = strpbrk(s, ",\"\r\n") != NULL || (n > 0 &&
	    (s[0] == ' ' || s[n - 1] == ' '));
	if (quote)
		(void)rl_buf_addstr(b, "\"");
	if (json_is_string(v) && n > 0 && strchr("=+-@\t\r", s[0]) != NULL)
		(void)rl_buf_addstr(b, "'");
	for (p = s; *p != '\0'; p++) {
		if (*p == '"')
			(void)rl_buf_addstr(b, "\"");
		(void)rl_buf_add(b, p, 1);
	}
	if (quote)
		(void)rl_buf_addstr(b, "\"");
	free(t);
}

/* The sections of a row: one field, space-separated. */
static void
csv_list(struct rl_buf *b, const json_t *v)
{
	struct rl_buf	 t;
	const json_t	*s;
	json_t		*joined;
	size_t		 k;

	rl_buf_init(&t, RL_BATCH_EXPORT_MAX);
	json_array_foreach(v, k, s)
		(void)rl_buf_addf(&t, "%s%s", k > 0 ? " " : "",
		    json_string_value(s));
	if (rl_buf_err(&t) != RL_OK ||
	    (joined = json_string(rl_buf_str(&t))) == NULL)
		oom(b);
	else {
		csv_field(b, joined);
		json_decref(joined);
	}
	rl_buf_free(&t);
}

static enum rl_err
history_csv(struct rl_req *req, const json_t *h, struct rl_error *e)
{
	struct rl_buf	 b;
	const json_t	*row, *v;
	char		 name[96];
	size_t		 i, j;
	enum rl_err	 err;

	rl_buf_init(&b, RL_BATCH_EXPORT_MAX);
	for (j = 0; j < sizeof(history_cols) / sizeof(history_cols[0]); j++)
		(void)rl_buf_addf(&b, "%s%s", j > 0 ? "," : "",
		    history_cols[j]);
	(void)rl_buf_addstr(&b, "\r\n");
	json_array_foreach(json_object_get(h, "batches"), i, row) {
		for (j = 0; j < sizeof(history_cols) /
		    sizeof(history_cols[0]); j++) {
			if (j > 0)
				(void)rl_buf_addstr(&b, ",");
			v = json_object_get(row, history_cols[j]);
			if (json_is_array(v))
				csv_list(&b, v);
			else
				csv_field(&b, v);
		}
		(void)rl_buf_addstr(&b, "\r\n");
	}
	if ((err = rl_buf_err(&b)) != RL_OK) {
		err = rl_error_set(e, err, "Historique trop volumineux pour "
		    "un export.");
		goto out;
	}
	(void)snprintf(name, sizeof(name), "lots-historique-%s.csv",
	    json_string_value(json_object_get(h, "stamp")));
	if ((err = attachment(req, name, e)) == RL_OK)
		err = rl_resp_send(req, 200, "text/csv; charset=utf-8",
		    rl_buf_str(&b), rl_buf_len(&b));
out:
	rl_buf_free(&b);
	return err;
}

/* GET /batch/export?format=csv|json */
enum rl_err
rl_batch_export_history(struct rl_req *req, struct rl_error *e)
{
	json_t		*h = NULL;
	const char	*fmt, *p[3];
	char		 uid[32], lim[16], name[96];
	enum rl_err	 err;

	if ((err = format_of(req, "csv", "csv", "json", &fmt, e)) != RL_OK)
		return err;
	(void)snprintf(uid, sizeof(uid), "%lld", req->user->id);
	(void)snprintf(lim, sizeof(lim), "%d", RL_BATCH_EXPORT_ROWS);
	p[0] = uid;
	p[1] = is_admin(req) ? "t" : "f";
	p[2] = lim;
	if ((err = rl_db_json(SQL_HISTORY, 3, p, &h, e)) != RL_OK)
		goto out;
	if (strcmp(fmt, "csv") == 0) {
		err = history_csv(req, h, e);
		goto out;
	}
	(void)snprintf(name, sizeof(name), "lots-historique-%s.json",
	    json_string_value(json_object_get(h, "stamp")));
	(void)json_object_del(h, "stamp");
	if ((err = attachment(req, name, e)) == RL_OK)
		err = rl_resp_json(req, 200, h);
out:
	json_decref(h);
	return err;
}

/* ------------------------------------------------------------------ */
/* Results: one walker, two sinks. */

static void
s_heading(struct sink *s, int level, const char *text)
{

	if (s->w != NULL) {
		(void)rl_docxw_heading(s->w, level > 6 ? 6 : level, text);
		return;
	}
	(void)rl_buf_addf(&s->md, "%.*s %s\n\n", level > 5 ? 6 : level + 1,
	    "######", text);
}

static void
s_para(struct sink *s, const char *text)
{

	if (*text == '\0')
		return;
	if (s->w != NULL)
		(void)rl_docxw_para(s->w, text);
	else
		(void)rl_buf_addf(&s->md, "%s\n\n", text);
}

/* "Label : value", the label bold in Markdown. */
static void
s_field(struct sink *s, const char *label, const char *text)
{
	struct rl_buf	 t;

	if (s->w == NULL) {
		(void)rl_buf_addf(&s->md, "**%s** : %s\n\n", label, text);
		return;
	}
	rl_buf_init(&t, RL_BATCH_RESULTS_MAX);
	(void)rl_buf_addf(&t, "%s : %s", label, text);
	if (rl_buf_err(&t) == RL_OK)
		(void)rl_docxw_para(s->w, rl_buf_str(&t));
	else
		s->err = rl_buf_err(&t);
	rl_buf_free(&t);
}

static void
s_item(struct sink *s, const char *text)
{

	if (s->w != NULL)
		(void)rl_docxw_list_item(s->w, 0, 0, text);
	else
		(void)rl_buf_addf(&s->md, "- %s\n", text);
}

/* A Markdown table cell: a pipe escaped, a line break a <br>. */
static void
md_cell(struct rl_buf *b, const char *text)
{
	const char	*p;

	(void)rl_buf_addstr(b, " ");
	for (p = text; *p != '\0'; p++) {
		if (*p == '|')
			(void)rl_buf_addstr(b, "\\|");
		else if (*p == '\n')
			(void)rl_buf_addstr(b, "<br>");
		else if (*p != '\r')
			(void)rl_buf_add(b, p, 1);
	}
	(void)rl_buf_addstr(b, " |");
}

/* rows x cols cells, the first row the header. */
static void
s_table(struct sink *s, size_t rows, size_t cols, char **cells)
{
	size_t	 r, c;

	if (s->w != NULL) {
		(void)rl_docxw_table(s->w, rows, cols,
		    (const char *const *)cells);
		return;
	}
	for (r = 0; r < rows; r++) {
		(void)rl_buf_addstr(&s->md, "|");
		for (c = 0; c < cols; c++)
			md_cell(&s->md, cells[r * cols + c]);
		(void)rl_buf_addstr(&s->md, "\n");
		if (r == 0) {
			(void)rl_buf_addstr(&s->md, "|");
			for (c = 0; c < cols; c++)
				(void)rl_buf_addstr(&s->md, " --- |");
			(void)rl_buf_addstr(&s->md, "\n");
		}
	}
	(void)rl_buf_addstr(&s->md, "\n");
}

static int
scalar(const json_t *v)
{

	return !json_is_object(v) && !json_is_array(v);
}

/* An object of scalars only (a calendar week, an evaluation). */
static int
flat_object(json_t *v)
{
	const char	*k;
	json_t		*x;

	if (!json_is_object(v) || json_object_size(v) == 0)
		return 0;
	json_object_foreach(v, k, x)
		if (!scalar(x))
			return 0;
	return 1;
}

/*
 * An array of flat objects as a table, its columns the keys in the
 * order they first appear.  0 when it is not one (or too wide).
 */
static int
as_table(struct sink *s, json_t *a)
{
	json_t		*keys, *o, *x;
	const char	*k;
	char		**cells = NULL, lb[LABEL_MAX];
	size_t		 i, j, rows, cols;
	int		 table = 0;

	if (json_array_size(a) == 0 || (keys = json_array()) == NULL)
		return 0;
	json_array_foreach(a, i, o) {
		if (!flat_object(o))
			goto out;
		json_object_foreach(o, k, x) {
			for (j = 0; j < json_array_size(keys); j++)
				if (strcmp(json_string_value(
				    json_array_get(keys, j)), k) == 0)
					break;
			if (j == json_array_size(keys) &&
			    json_array_append_new(keys, json_string(k)) != 0)
				s->err = RL_ENOMEM;
		}
	}
	cols = json_array_size(keys);
	rows = json_array_size(a) + 1;
	if (cols == 0 || cols > RL_BATCH_TABLE_COLS_MAX)
		goto out;
	table = 1;
	if ((cells = calloc(rows * cols, sizeof(*cells))) == NULL) {
		s->err = RL_ENOMEM;
		goto out;
	}
	for (j = 0; j < cols; j++)
		cells[j] = strdup(label_of(json_string_value(
		    json_array_get(keys, j)), lb, sizeof(lb)));
	json_array_foreach(a, i, o)
		for (j = 0; j < cols; j++)
			cells[(i + 1) * cols + j] = text_of(json_object_get(o,
			    json_string_value(json_array_get(keys, j))));
	for (i = 0; i < rows * cols; i++)
		if (cells[i] == NULL)
			s->err = RL_ENOMEM;
	if (s->err == RL_OK)
		s_table(s, rows, cols, cells);
	for (i = 0; i < rows * cols; i++)
		free(cells[i]);
out:
	free(cells);
	json_decref(keys);
	return table;
}

/*
 * A generated value as headings, paragraphs, lists and tables: text as
 * paragraphs, a list of texts as a bulleted list, a list of flat objects
 * (the calendar, the evaluations) as a table, an object's fields under
 * their names.  A result of one field is that field (the section's
 * heading names it already).
 */
static void
render(struct sink *s, json_t *v, int level)
{
	const char	*k;
	json_t		*x;
	char		*t, n[32], lb[LABEL_MAX];
	size_t		 i;

	if (json_is_object(v) && json_object_size(v) == 1) {
		json_object_foreach(v, k, x)
			render(s, x, level);
		return;
	}
	if (scalar(v) || level > DEPTH_MAX) {
		if ((t = text_of(v)) == NULL) {
			s->err = RL_ENOMEM;
			return;
		}
		s_para(s, t);
		free(t);
		return;
	}
	if (json_is_array(v)) {
		for (i = 0; i < json_array_size(v); i++)
			if (!scalar(json_array_get(v, i)))
				break;
		if (i == json_array_size(v)) {
			json_array_foreach(v, i, x) {
				if ((t = text_of(x)) == NULL) {
					s->err = RL_ENOMEM;
					continue;
				}
				s_item(s, t);
				free(t);
			}
			if (s->w == NULL)
				(void)rl_buf_addstr(&s->md, "\n");
			return;
		}
		if (as_table(s, v))
			return;
		json_array_foreach(v, i, x) {
			(void)snprintf(n, sizeof(n), "%zu.", i + 1);
			s_heading(s, level, n);
			render(s, x, level + 1);
		}
		return;
	}
	json_object_foreach(v, k, x) {
		if (scalar(x)) {
			if (json_is_null(x))
				continue;
			if ((t = text_of(x)) == NULL) {
				s->err = RL_ENOMEM;
				continue;
			}
			s_field(s, label_of(k, lb, sizeof(lb)), t);
			free(t);
		} else {
			s_heading(s, level, label_of(k, lb, sizeof(lb)));
			render(s, x, level + 1);
		}
	}
}

/* The header of a results file: which batch, when. */
static void
results_head(struct sink *s, const json_t *b)
{
	char	 t[128];
	int	 n;

	(void)snprintf(t, sizeof(t), "Résultats du lot %lld",
	    (long long)json_integer_value(json_object_get(b, "id")));
	s_heading(s, 0, t);
	s_field(s, "Lot", t + strlen("Résultats du lot "));
	if (json_is_string(json_object_get(b, "openai_batch_id")))
		s_field(s, "Lot OpenAI", json_string_value(
		    json_object_get(b, "openai_batch_id")));
	s_field(s, "Type", strcmp(json_string_value(json_object_get(b,
	    "kind")), RL_BATCH_KIND_PC) == 0 ? "Plan-cadre" :
	    "Plan de cours");
	s_field(s, "Modèle", json_string_value(json_object_get(b, "model")));
	s_field(s, "Créé le", json_string_value(json_object_get(b,
	    "created_at")));
	if (json_is_string(json_object_get(b, "collected_at")))
		s_field(s, "Traité le", json_string_value(json_object_get(b,
		    "collected_at")));
	s_field(s, "Exporté le", json_string_value(json_object_get(b,
	    "exported_at")));
	n = (int)json_array_size(json_object_get(b, "items"));
	(void)snprintf(t, sizeof(t), "%d sur %lld", n, (long long)
	    json_integer_value(json_object_get(b, "total")));
	s_field(s, "Sections générées", t);
}

static void
results_body(struct sink *s, json_t *b)
{
	json_t		*it;
	const char	*plan;
	char		 t[512], lb[LABEL_MAX];
	long long	 last = -1, id;
	size_t		 i;
	int		 pc;

	pc = strcmp(json_string_value(json_object_get(b, "kind")),
	    RL_BATCH_KIND_PC) == 0;
	if (json_array_size(json_object_get(b, "items")) == 0)
		s_para(s, "Aucune section générée dans ce lot.");
	json_array_foreach(json_object_get(b, "items"), i, it) {
		id = json_integer_value(json_object_get(it, "plan_id"));
		if (id != last) {
			plan = json_string_value(json_object_get(it, "plan"));
			(void)snprintf(t, sizeof(t), "%s %lld%s%s", pc ?
			    "Plan-cadre" : "Plan de cours", id,
			    plan != NULL ? " — " : "",
			    plan != NULL ? plan : "");
			s_heading(s, 1, t);
			last = id;
		}
		s_heading(s, 2, label_of(json_string_value(json_object_get(it,
		    "section")), lb, sizeof(lb)));
		render(s, json_object_get(it, "result"), 3);
	}
}

/* The kind's sections, in order, as a text[] literal for SQL_RESULTS. */
static enum rl_err
sections_array(const char *kind, struct rl_buf *b, struct rl_error *e)
{
	const char	*sec;
	size_t		 i;

	(void)rl_buf_addstr(b, "{");
	for (i = 0; (sec = rl_batch_section(kind, i)) != NULL; i++)
		(void)rl_buf_addf(b, "%s\"%s\"", i > 0 ? "," : "", sec);
	(void)rl_buf_addstr(b, "}");
	if (rl_buf_err(b) != RL_OK)
		return rl_error_set(e, rl_buf_err(b), "out of memory");
	return RL_OK;
}

/* GET /batch/<id>/results?format=md|docx */
enum rl_err
rl_batch_results(struct rl_req *req, struct rl_error *e)
{
	struct sink	 s;
	struct rl_buf	 secs;
	json_t		*b = NULL, *k = NULL;
	const char	*fmt, *p[4];
	char		 bid[32], uid[32], name[128];
	void		*doc = NULL;
	size_t		 len;
	long long	 id;
	enum rl_err	 err;

	memset(&s, 0, sizeof(s));
	rl_buf_init(&s.md, RL_BATCH_RESULTS_MAX);
	rl_buf_init(&secs, RL_BATCH_RESULTS_MAX);
	if ((err = format_of(req, "md", "md", "docx", &fmt, e)) != RL_OK ||
	    (err = rl_req_param_int(req, "id", &id, e)) != RL_OK)
		goto out;
	(void)snprintf(bid, sizeof(bid), "%lld", id);
	(void)snprintf(uid, sizeof(uid), "%lld", req->user->id);
	p[0] = bid;
	p[1] = uid;
	p[2] = is_admin(req) ? "t" : "f";
	/* The kind first: the sections' order depends on it. */
	if ((err = rl_db_json("SELECT to_json(b.kind) FROM gen_batches b "
	    "WHERE b.id = $1::bigint AND b.deleted_at IS NULL AND "
	    "($3::boolean OR b.user_id = $2::bigint)", 3, p, &k, e)) !=
	    RL_OK)
		goto out;
	if (!json_is_string(k)) {
		err = rl_error_set(e, RL_ENOTFOUND, "Lot introuvable.");
		goto out;
	}
	if ((err = sections_array(json_string_value(k), &secs, e)) != RL_OK)
		goto out;
	p[3] = rl_buf_str(&secs);
	if ((err = rl_db_json(SQL_RESULTS, 4, p, &b, e)) != RL_OK)
		goto out;
	if (!json_is_object(b)) {
		err = rl_error_set(e, RL_ENOTFOUND, "Lot introuvable.");
		goto out;
	}
	if (!json_is_true(json_object_get(b, "collected"))) {
		err = rl_error_set(e, RL_ECONFLICT, "Ce lot n'est pas encore "
		    "terminé et traité : ses résultats ne sont pas "
		    "disponibles.");
		goto out;
	}
	if (strcmp(fmt, "docx") == 0 && (s.w = rl_docxw_new()) == NULL) {
		err = rl_error_set(e, RL_ENOMEM, "out of memory");
		goto out;
	}
	results_head(&s, b);
	results_body(&s, b);
	(void)snprintf(name, sizeof(name), "lot-%lld-resultats-%s.%s", id,
	    json_string_value(json_object_get(b, "stamp")), fmt);
	if (s.err != RL_OK) {
		err = rl_error_set(e, s.err, "out of memory");
		goto out;
	}
	if (s.w != NULL) {
		if ((err = rl_docxw_mem(s.w, &doc, &len, e)) != RL_OK)
			goto out;
	} else if ((err = rl_buf_err(&s.md)) != RL_OK) {
		err = rl_error_set(e, err, "Résultats trop volumineux pour un "
		    "export.");
		goto out;
	}
	if ((err = attachment(req, name, e)) != RL_OK)
		goto out;
	if (s.w != NULL)
		err = rl_resp_send(req, 200, "application/vnd.openxmlformats-"
		    "officedocument.wordprocessingml.document", doc, len);
	else
		err = rl_resp_send(req, 200, "text/markdown; charset=utf-8",
		    rl_buf_str(&s.md), rl_buf_len(&s.md));
out:
	free(doc);
	rl_docxw_free(s.w);
	rl_buf_free(&s.md);
	rl_buf_free(&secs);
	json_decref(k);
	json_decref(b);
	return err;
}

/* ------------------------------------------------------------------ */
/* Clean-up. */

/*
 * DELETE /files/<fid> with the key the batch's files were uploaded with
 * (its owner's, for its model).  1 when the file is gone (deleted now,
 * or already unknown to OpenAI), 0 when it is still there.
 */
static int
file_gone(const struct rl_upstream *up, const char *fid)
{
	struct rl_oa_call	 c;
	struct rl_error		 e;
	char			 path[192];
	int			 gone;

	if ((size_t)snprintf(path, sizeof(path), "/files/%s", fid) >=
	    sizeof(path) || strchr(fid, '/') != NULL || strchr(fid, '?') !=
	    NULL)
		return 0;
	memset(&c, 0, sizeof(c));
	c.method = "DELETE";
	c.path = path;
	rl_error_clear(&e);
	gone = rl_oa_call(up, &c, &e) == RL_OK || c.status == 404;
	if (!gone)
		rl_log_warn("batch file %s not deleted upstream: %s", fid,
		    e.msg);
	rl_oa_call_free(&c);
	return gone;
}

/* POST /batch/cleanup {days} */
enum rl_err
rl_batch_cleanup(struct rl_req *req, struct rl_error *e)
{
	struct rl_upstream_buf	 ub;
	struct rl_model		 m;
	struct rl_error		 ue;
	struct rl_dbres		*r = NULL;
	const json_t		*d;
	const char		*p[4], *fid;
	char			 uid[32], days[16], lim[16], bid[32];
	int			 gone[3], up, i, j, n, removed = 0;
	int			 deleted = 0, kept = 0;
	enum rl_err		 err;

	d = json_object_get(req->json, "days");
	(void)snprintf(uid, sizeof(uid), "%lld", req->user->id);
	(void)snprintf(days, sizeof(days), "%lld", json_is_integer(d) ?
	    (long long)json_integer_value(d) :
	    (long long)RL_BATCH_CLEANUP_DAYS);
	(void)snprintf(lim, sizeof(lim), "%d", RL_BATCH_CLEANUP_MAX);
	p[0] = uid;
	p[1] = is_admin(req) ? "t" : "f";
	p[2] = days;
	p[3] = lim;
	if ((err = rl_db_exec(SQL_CLEANUP_SELECT, 4, p, &r, e)) != RL_OK)
		goto out;
	n = rl_dbres_rows(r);
	for (i = 0; i < n; i++) {
		/* The files were uploaded with the owner's key. */
		rl_error_clear(&ue);
		up = rl_model_lookup(rl_dbres_get(r, i, 2), &m, &ue) ==
		    RL_OK && rl_model_upstream(&m, strtoll(rl_dbres_get(r, i,
		    1), NULL, 10), &ub, &ue) == RL_OK;
		if (!up)
			rl_log_warn("batch %s: files kept: %s",
			    rl_dbres_get(r, i, 0), ue.msg);
		for (j = 0; j < 3; j++) {
			gone[j] = 1;
			if (rl_dbres_isnull(r, i, 4 + j))
				continue;
			fid = rl_dbres_get(r, i, 4 + j);
			gone[j] = up && file_gone(&ub.up, fid);
			if (gone[j])
				deleted++;
			else
				kept++;
		}
		(void)snprintf(bid, sizeof(bid), "%s", rl_dbres_get(r, i, 0));
		p[0] = bid;
		p[1] = gone[0] ? "t" : "f";
		p[2] = gone[1] ? "t" : "f";
		p[3] = gone[2] ? "t" : "f";
		if ((err = rl_db_exec(SQL_CLEANUP_UPDATE, 4, p, NULL, e)) !=
		    RL_OK)
			goto out;
		if (strcmp(rl_dbres_get(r, i, 3), "t") == 0)
			removed++;
	}
	err = rl_resp_json_new(req, 200, json_pack("{s:i, s:i, s:i}",
	    "removed", removed, "files_deleted", deleted, "files_kept",
	    kept));
out:
	rl_dbres_free(r);
	return err;
}
