/*
 * imports.h: EDxo's document imports (issue 8), shared by the import
 * program (routes) and relais-worker (task kinds).  A .docx becomes text
 * here (lib/docx.c) and goes to the model as text; a PDF is checked here,
 * kept in PostgreSQL until its task runs, sent to the Files API, read by
 * the model as an input_file and deleted from the provider afterwards.
 * Every model call goes through rl_gen_run (reserve, call, settle).
 * docs/internals/imports.md.
 */
#ifndef RL_IMPORTS_H
#define RL_IMPORTS_H

#include <stddef.h>

#include <jansson.h>

#include "relais.h"
#include "bounds.h"

struct rl_task;

/*
 * Document text sent to the model, in code points: EDxo cuts the plan de
 * cours at 120,000 characters and the plan-cadre at 150,000 (about 30,000
 * and 37,500 tokens), which keeps a long document's call affordable and
 * inside every model's context.
 */
#define RL_IMPORT_PDC_CHARS	120000
#define RL_IMPORT_PC_CHARS	150000

/*
 * PDFs.  The file is the upload (RL_UPLOAD_MAX, under OpenAI's 32 MB of
 * file content per request).  OpenAI reads at most 100 pages per request
 * (PDF guide, "usage considerations") and bills an image of every page, so
 * a longer PDF is refused before anything is uploaded or paid.
 */
#define RL_IMPORT_PDF_MAX	RL_UPLOAD_MAX
#define RL_IMPORT_PDF_PAGES	100

/*
 * The devis POST /ocr/start accepts: https on a host under one of these
 * domains (the ministry's site and its file servers).  The provider
 * fetches the file itself (input_file.file_url): relais fetches nothing,
 * and the list keeps the paid call to the devis EDxo's page offers.
 */
#define RL_IMPORT_OCR_DOMAINS	{ "quebec.ca", "gouv.qc.ca" }

/* Task kinds (tasks.name) run by relais-worker. */
#define RL_IMPORT_TASK_PDC	"import.plan_de_cours"
#define RL_IMPORT_TASK_PC	"import.plan_cadre"
#define RL_IMPORT_TASK_GRILLE	"import.grille"
#define RL_IMPORT_TASK_OCR	"import.competences"

/*
 * A PDF's pages counted on its raw bytes (see imports.md for what this
 * method can and cannot see); -1 when the count is unknown (page objects
 * hidden in compressed object streams).
 */
int		 rl_import_pdf_pages(const void *, size_t);
/* Magic bytes, size and page count: RL_EVALIDATION when refused. */
enum rl_err	 rl_import_pdf_check(const char *path, size_t size,
		    int *pages, struct rl_error *);
/*
 * A .docx's text, cut at maxchars code points; a document the reader
 * refuses (hostile, not a .docx) is RL_EVALIDATION on field "file".
 */
enum rl_err	 rl_import_docx_text(const char *path, size_t maxchars,
		    char **text, struct rl_error *);
/*
 * Keep an uploaded file for the task that will read it (import_uploads),
 * inside the caller's transaction so the row and its task commit together.
 */
enum rl_err	 rl_import_spool(const char *task_id, const char *path,
		    const char *filename, struct rl_error *);

/* One import run, from a route (task NULL) or from the worker. */
struct rl_import {
	long long	 user_id;
	const char	*request_id;
	struct rl_task	*task;
	const char	*task_id;	/* for the result's URLs, or NULL */
	long long	 plan_id;	/* plan de cours or plan-cadre */
	const char	*doc_text;
	const char	*model;		/* the form's ai_model or NULL */
};

/*
 * The plan-de-cours import preview: the model's ImportPlanDeCoursResponse
 * beside the plan's current values (old_fields, old_calendriers, ...),
 * evaluations' capacités resolved against the plan-cadre.  Writes nothing.
 */
enum rl_err	 rl_import_pdc_preview(const struct rl_import *, json_t **,
		    struct rl_error *);
/*
 * Store a synchronous preview as a finished task, for the review route:
 * *stored is the result as kept, with task_id and, when url is given,
 * validation_url = url + the task's id.
 */
enum rl_err	 rl_import_record(const char *name, long long user_id,
		    const json_t *payload, const json_t *result,
		    const char *url, char id[37], json_t **stored,
		    struct rl_error *);

/*
 * Confirming an import, in one transaction.  A grille (the
 * programme_etudes result of an import.grille task) goes to
 * rl_grille_write: each course by its code among the programme's (else
 * created), hours rounded, nombre_unites (T+L+M)/3, préalables with
 * their minimum grade when it is 1 to 100, taken as the document gives
 * them; a course without code or title, or with hours outside 0 to 100,
 * is RL_EVALIDATION and nothing is written.  *written as rl_grille_write
 * gives it.
 */
enum rl_err	 rl_import_grille_apply(long long programme_id, int overwrite,
		    const json_t *grille, json_t **written, struct rl_error *);
/*
 * The compétences of an import.competences result (EDxo's
 * confirm_import): each upserted by (programme, code) with its critères
 * and contexte as HTML lists, linked to the programme; each élément found
 * by name (else created), its critères replaced.  *written: [{id, code,
 * nom, created}].
 */
enum rl_err	 rl_import_competences_apply(long long programme_id,
		    const json_t *competences, json_t **written,
		    struct rl_error *);

/* Task functions (bin/worker.c's kinds). */
enum rl_err	 rl_import_pdc_task(struct rl_task *, json_t **,
		    struct rl_error *);
enum rl_err	 rl_import_pc_task(struct rl_task *, json_t **,
		    struct rl_error *);
enum rl_err	 rl_import_grille_task(struct rl_task *, json_t **,
		    struct rl_error *);
enum rl_err	 rl_import_ocr_task(struct rl_task *, json_t **,
		    struct rl_error *);

#endif /* RL_IMPORTS_H */
