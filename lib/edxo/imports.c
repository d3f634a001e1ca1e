/*
 * imports.c: EDxo's document imports (imports.h, docs/internals/
 * imports.md).  An import produces a preview (a task result) and writes
 * none of EDxo's tables; confirming one writes it, here for a grille
 * (through rl_grille_write, the one grille writer) and for compétences.
 */
#include "config.h"

#include <sys/stat.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "db.h"
#include "docx.h"
#include "edxo.h"
#include "extern.h"
#include "gen.h"
#include "imports.h"
#include "log.h"
#include "models.h"
#include "pdc.h"
#include "programme.h"
#include "schema.h"
#include "tmpl.h"
#include "worker.h"

/*
 * The plan-de-cours import prompt.  EDxo B hard-codes it (there is no
 * settings row for it); the system prompt, model, effort and verbosity
 * come from section_ai_settings 'plan_de_cours_import'.
 */
static const char pdc_prompt[] =
    "Tu reçois le texte d'un plan de cours collégial, converti depuis un "
    "fichier .docx (titres en #, listes en -, tableaux entre TABLE n: et "
    "ENDTABLE).  Extrais-en le contenu sans le reformuler : les sections "
    "de texte (présentation du cours, objectif terminal, organisation et "
    "méthodes, accommodements, évaluation formative des apprentissages, "
    "évaluation de l'expression en français, matériel), les coordonnées "
    "de l'enseignant (nom, téléphone, courriel, bureau), ses "
    "disponibilités, le calendrier semaine par semaine, la médiagraphie et "
    "les évaluations sommatives avec la semaine, les capacités évaluées et "
    "leur pondération.  Mets null ou une liste vide pour ce qui est "
    "absent du document.\n\nDocument :\n";

/* EDxo's three-pass grille extraction instructions (import_grille.py). */
static const char grille_prompt[] =
    "Extrais la grille de cours du programme d'études décrit dans le PDF "
    "joint, en trois passes.  1) Repère le tableau de la formation "
    "spécifique, session par session ; ignore la formation générale.  "
    "2) Pour chaque cours, relève le code, le titre et la pondération "
    "X-Y-Z : X heures de théorie, Y heures de laboratoire, Z heures de "
    "travail personnel.  3) Relève les préalables, avec la note minimale "
    "exigée (0 si aucune), et les corequis, puis vérifie que chaque cours "
    "n'apparaît qu'une fois.  Les numéros de session en chiffres romains "
    "deviennent des entiers ; ignore la mention « (ASP) ».  N'invente "
    "rien.";

static const char ocr_prompt[] =
    "Retourne uniquement le JSON strict « competences » décrit par le "
    "schéma, pour les compétences de la formation spécifique du devis "
    "joint.";

/*
 * Per-feature settings: the form's model, else the section's, else the
 * feature's older setting (EDxo B), else gpt-5; the section's system
 * prompt, effort and verbosity; the feature's prompt template.
 */
#define SETTINGS_SQL							\
	"SELECT coalesce(nullif($1, ''), "				\
	"CASE $2 WHEN 'ocr' THEN (SELECT o.model_extraction "		\
	"FROM ocr_prompt_settings o WHERE o.id = 1) END, s.ai_model, "	\
	"CASE $2 WHEN 'plan_de_cours_import' THEN (SELECT p.ai_model "	\
	"FROM plan_de_cours_prompt_settings p "				\
	"WHERE p.field_name = 'all') "					\
	"WHEN 'plan_cadre_import' THEN (SELECT i.ai_model "		\
	"FROM plan_cadre_import_prompt_settings i WHERE i.id = 1) END, " \
	"'gpt-5'), s.system_prompt, s.reasoning_effort, s.verbosity, "	\
	"CASE $2 WHEN 'plan_cadre_import' THEN (SELECT i.prompt_template " \
	"FROM plan_cadre_import_prompt_settings i WHERE i.id = 1) "	\
	"WHEN 'ocr' THEN (SELECT o.extraction_prompt "			\
	"FROM ocr_prompt_settings o WHERE o.id = 1) END "		\
	"FROM (VALUES (1)) AS one (x) "					\
	"LEFT JOIN section_ai_settings s ON s.section = $2"

struct settings {
	char	*model;
	char	*system;
	char	*effort;
	char	*verbosity;
	char	*tmpl;		/* plan-cadre template, OCR prompt */
};

/* A plan de cours, its old values and the plan-cadre's capacités. */
#define PDC_SQL								\
	"SELECT json_build_object('plan', " RL_SQL_PLAN_DE_COURS_DICT ", " \
	"'evaluations', " RL_SQL_LIST("json_build_object("		\
	"'titre_evaluation', v.titre_evaluation, "			\
	"'description', v.description, 'semaine', v.semaine, "		\
	"'capacites', " RL_SQL_LIST("json_build_object('capacite_id', " \
	"x.capacite_id, 'capacite_nom', k.capacite, "			\
	"'ponderation', x.ponderation) ORDER BY x.id",			\
	"FROM plan_de_cours_evaluations_capacites x "			\
	"LEFT JOIN plan_cadre_capacites k ON k.id = x.capacite_id "	\
	"WHERE x.evaluation_id = v.id") ") ORDER BY v.id",		\
	"FROM plan_de_cours_evaluations v "				\
	"WHERE v.plan_de_cours_id = d.id") ", "				\
	"'capacites', " RL_SQL_LIST("json_build_object('id', k.id, "	\
	"'capacite', k.capacite, "					\
	"'description_capacite', k.description_capacite) ORDER BY k.id", \
	"FROM plan_cadre_capacites k JOIN plan_cadre pc "		\
	"ON pc.id = k.plan_cadre_id WHERE pc.cours_id = d.cours_id") ") " \
	"FROM plan_de_cours d WHERE d.id = $3::bigint AND "		\
	RL_SQL_SEE_COURS("d.cours_id")

/* The plan-de-cours text fields an import fills (EDxo's 7 + 4). */
static const char *const pdc_fields[] = {
	"presentation_du_cours", "objectif_terminal_du_cours",
	"organisation_et_methodes", "accomodement",
	"evaluation_formative_apprentissages",
	"evaluation_expression_francais", "materiel", "nom_enseignant",
	"telephone_enseignant", "courriel_enseignant", "bureau_enseignant"
};

/* Lists copied as they are, new beside old. */
static const char *const pdc_lists[] = {
	"calendriers", "mediagraphies", "disponibilites"
};

/* The plan-cadre's ten text columns. */
static const char *const pc_fields[] = {
	"place_intro", "objectif_terminal", "structure_intro",
	"structure_activites_theoriques", "structure_activites_pratiques",
	"structure_activites_prevues", "eval_evaluation_sommative",
	"eval_nature_evaluations_sommatives", "eval_evaluation_de_la_langue",
	"eval_evaluation_sommatives_apprentissages"
};

/*
 * The (texte, description) lists and the display names EDxo's preview
 * keys them by (generate_plan_cadre_content, the apply route's input).
 */
static const struct {
	const char	*key;
	const char	*display;
} pc_lists[] = {
	{ "competences_developpees",
	    "Description des compétences développées" },
	{ "competences_certifiees",
	    "Description des Compétences certifiées" },
	{ "cours_corequis", "Description des cours corequis" },
	{ "cours_prealables", "Description des cours préalables" },
	{ "cours_relies", "Description des cours reliés" },
	{ "objets_cibles", "Objets cibles" },
};

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

static const char *
jstr(const json_t *o, const char *k)
{

	return json_string_value(json_object_get(o, k));
}

static enum rl_err
oom(struct rl_error *e)
{

	return rl_error_set(e, RL_ENOMEM, "out of memory");
}

/* json_object_set_new that reports a failure once, at the end. */
static void
put(json_t *o, const char *k, json_t *v, int *bad)
{

	if (v == NULL || json_object_set_new(o, k, v) == -1)
		*bad = 1;
}

static json_t *
or_null(json_t *v)
{

	return v != NULL ? v : json_null();
}

/* Cut s at n code points, on a character boundary. */
static void
utf8_cut(char *s, size_t n)
{
	size_t	 i, cp = 0;

	for (i = 0; s[i] != '\0'; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80 && cp++ == n) {
			s[i] = '\0';
			return;
		}
}

/* a + b in a new string. */
static char *
concat(const char *a, const char *b)
{
	size_t	 la = strlen(a), lb = strlen(b);
	char	*s;

	if ((s = malloc(la + lb + 1)) == NULL)
		return NULL;
	memcpy(s, a, la);
	memcpy(s + la, b, lb + 1);
	return s;
}

/*
 * PDF pages.  A page object is a dictionary with "/Type /Page" (PDF 32000
 * §7.7.3.3), so the count is the number of /Type names followed by the
 * name /Page (not /Pages), whitespace and comments allowed between.
 * Object streams (PDF 1.5) compress dictionaries: when the file has
 * "/ObjStm" and no visible page, the count is unknown (-1).
 */
static int
pdf_ws(unsigned char c)
{

	return c == 0 || c == '\t' || c == '\n' || c == '\f' || c == '\r' ||
	    c == ' ';
}

static int
pdf_delim(unsigned char c)
{

	return pdf_ws(c) || strchr("()<>[]{}/%", c) != NULL;
}

int
rl_import_pdf_pages(const void *buf, size_t len)
{
	const unsigned char	*p = buf, *end = p + len, *q;
	int			 pages = 0, objstm = 0;

	for (q = p; q + 7 <= end; q++) {
		if (*q != '/')
			continue;
		if ((size_t)(end - q) >= 7 && memcmp(q, "/ObjStm", 7) == 0)
			objstm = 1;
		if (memcmp(q, "/Type", 5) != 0 || !pdf_delim(q[5]))
			continue;
		q += 5;
		while (q < end && (pdf_ws(*q) || *q == '%')) {
			if (*q == '%')
				while (q < end && *q != '\n' && *q != '\r')
					q++;
			else
				q++;
		}
		if ((size_t)(end - q) >= 5 && memcmp(q, "/Page", 5) == 0 &&
		    ((size_t)(end - q) == 5 || pdf_delim(q[5]))) {
			if (pages < RL_IMPORT_PDF_PAGES * 100)
				pages++;
		}
		q--;
	}
	return pages == 0 && objstm ? -1 : pages;
}

/*
 * A whole upload in memory, at most max bytes.  The buffer is the file's
 * size (one byte more shows a file that grew): a small PDF costs what it
 * weighs, not the cap.
 */
static enum rl_err
read_file(const char *path, size_t max, char **buf, size_t *len,
    struct rl_error *e)
{
	FILE		*fp;
	struct stat	 st;
	size_t		 n, cap;
	enum rl_err	 err = RL_OK;

	*buf = NULL;
	*len = 0;
	if ((fp = fopen(path, "rb")) == NULL)
		return rl_error_set(e, RL_EIO, "cannot open the upload");
	if (fstat(fileno(fp), &st) == -1 || st.st_size < 0) {
		err = rl_error_set(e, RL_EIO, "cannot stat the upload");
		goto out;
	}
	if ((size_t)st.st_size > max) {
		err = rl_error_set(e, RL_ETOOBIG, "file over %zu bytes", max);
		goto out;
	}
	cap = (size_t)st.st_size + 1;
	if ((*buf = malloc(cap)) == NULL) {
		err = oom(e);
		goto out;
	}
	n = fread(*buf, 1, cap, fp);
	if (ferror(fp))
		err = rl_error_set(e, RL_EIO, "cannot read the upload");
	else if (n == cap)
		err = rl_error_set(e, RL_EIO, "the upload changed while read");
	*len = n;
out:
	(void)fclose(fp);
	if (err != RL_OK) {
		free(*buf);
		*buf = NULL;
	}
	return err;
}

enum rl_err
rl_import_pdf_check(const char *path, size_t size, int *pages,
    struct rl_error *e)
{
	char		*buf = NULL;
	size_t		 len;
	enum rl_err	 err;

	*pages = 0;
	if (size > RL_IMPORT_PDF_MAX)
		return rl_error_field(e, RL_ETOOBIG, "file", "Le PDF dépasse "
		    "%d Mio.", RL_IMPORT_PDF_MAX / (1024 * 1024));
	if ((err = read_file(path, RL_IMPORT_PDF_MAX, &buf, &len, e)) !=
	    RL_OK)
		return err;
	if (len < 5 || memcmp(buf, "%PDF-", 5) != 0) {
		err = rl_error_field(e, RL_EVALIDATION, "file", "Le fichier "
		    "n'est pas un PDF (signature %%PDF- absente).");
		goto out;
	}
	*pages = rl_import_pdf_pages(buf, len);
	if (*pages == 0) {
		err = rl_error_field(e, RL_EVALIDATION, "file", "Le PDF ne "
		    "contient aucune page.");
		goto out;
	}
	if (*pages > RL_IMPORT_PDF_PAGES)
		err = rl_error_field(e, RL_EVALIDATION, "file", "Le PDF a %d "
		    "pages ; la limite est de %d.", *pages,
		    RL_IMPORT_PDF_PAGES);
out:
	free(buf);
	return err;
}

enum rl_err
rl_import_docx_text(const char *path, size_t maxchars, char **text,
    struct rl_error *e)
{
	size_t		 len;
	enum rl_err	 err;

	*text = NULL;
	err = rl_docx_text(path, text, &len, e);
	switch (err) {
	case RL_OK:
		break;
	case RL_EFORM:
	case RL_ETOOBIG:
	case RL_EINVAL:
	case RL_ENOTFOUND:
		/* The reader's reason, under one status and field. */
		free(*text);
		*text = NULL;
		return rl_error_field(e, RL_EVALIDATION, "file", "Document "
		    ".docx refusé : %.200s", e->msg);
	default:
		free(*text);
		*text = NULL;
		return err;
	}
	utf8_cut(*text, maxchars);
	return RL_OK;
}

/* bytea travels as text, in PostgreSQL's hex format ("\x..."). */
enum rl_err
rl_import_spool(const char *task_id, const char *path, const char *filename,
    struct rl_error *e)
{
	static const char	 sql[] =
	    "INSERT INTO import_uploads (task_id, filename, data) "
	    "VALUES ($1::uuid, $2, $3::bytea)";
	static const char	 hex[] = "0123456789abcdef";
	const char		*p[3];
	char			*buf = NULL, *h = NULL;
	size_t			 len, i;
	struct rl_dbres		*r = NULL;
	enum rl_err		 err;

	if ((err = read_file(path, RL_UPLOAD_MAX, &buf, &len, e)) != RL_OK)
		goto out;
	if ((h = malloc(2 * len + 3)) == NULL) {
		err = oom(e);
		goto out;
	}
	h[0] = '\\';
	h[1] = 'x';
	for (i = 0; i < len; i++) {
		h[2 + 2 * i] = hex[(unsigned char)buf[i] >> 4];
		h[3 + 2 * i] = hex[(unsigned char)buf[i] & 0xf];
	}
	h[2 + 2 * len] = '\0';
	free(buf);
	buf = NULL;
	p[0] = task_id;
	p[1] = filename != NULL && *filename != '\0' ? filename :
	    "document.pdf";
	p[2] = h;
	err = rl_db_exec(sql, 3, p, &r, e);
out:
	rl_dbres_free(r);
	free(buf);
	free(h);
	return err;
}

/* The task's file, back into a temporary file of path (>= 4096 bytes). */
static enum rl_err
spool_load(const char *task_id, char *path, size_t pathsz, char *name,
    size_t namesz, struct rl_error *e)
{
	static const char	 sql[] =
	    "SELECT filename, data FROM import_uploads "
	    "WHERE task_id = $1::uuid";
	const char		*p[1] = { task_id }, *h;
	unsigned char		*bin = NULL;
	size_t			 n, i;
	struct rl_dbres		*r = NULL;
	int			 fd = -1, hi, lo;
	enum rl_err		 err;

	path[0] = '\0';
	if ((err = rl_db_exec(sql, 1, p, &r, e)) != RL_OK)
		goto out;
	if (rl_dbres_rows(r) != 1) {
		err = rl_error_set(e, RL_ENOTFOUND, "Fichier de la tâche "
		    "introuvable.");
		goto out;
	}
	(void)snprintf(name, namesz, "%s", rl_dbres_get(r, 0, 0));
	h = rl_dbres_get(r, 0, 1);
	if (strncmp(h, "\\x", 2) != 0 || strlen(h) % 2 != 0) {
		err = rl_error_set(e, RL_EINTERNAL, "bytea not in hex format");
		goto out;
	}
	h += 2;
	n = strlen(h) / 2;
	if ((bin = malloc(n + 1)) == NULL) {
		err = oom(e);
		goto out;
	}
	for (i = 0; i < n; i++) {
		if ((hi = rl_hexval(h[2 * i])) < 0 ||
		    (lo = rl_hexval(h[2 * i + 1])) < 0) {
			err = rl_error_set(e, RL_EINTERNAL, "bad bytea hex");
			goto out;
		}
		bin[i] = (unsigned char)(hi << 4 | lo);
	}
	if ((size_t)snprintf(path, pathsz, "%s/relais-import-XXXXXX",
	    rl_conf->tmpdir) >= pathsz) {
		path[0] = '\0';
		err = rl_error_set(e, RL_EIO, "temporary path too long");
		goto out;
	}
	if ((fd = mkstemp(path)) == -1) {
		path[0] = '\0';
		err = rl_error_set(e, RL_EIO, "cannot create a temporary "
		    "file");
		goto out;
	}
	if (write(fd, bin, n) != (ssize_t)n)
		err = rl_error_set(e, RL_EIO, "cannot write a temporary "
		    "file");
out:
	if (fd != -1)
		(void)close(fd);
	if (err != RL_OK && path[0] != '\0') {
		(void)unlink(path);
		path[0] = '\0';
	}
	free(bin);
	rl_dbres_free(r);
	return err;
}

static void
spool_drop(const char *task_id)
{
	static const char	 sql[] =
	    "DELETE FROM import_uploads WHERE task_id = $1::uuid";
	const char		*p[1] = { task_id };
	struct rl_dbres		*r = NULL;
	struct rl_error		 e;

	if (rl_db_exec(sql, 1, p, &r, &e) != RL_OK)
		rl_log_warn("import %s: upload row kept: %s", task_id, e.msg);
	rl_dbres_free(r);
}

static void
settings_free(struct settings *s)
{

	free(s->model);
	free(s->system);
	free(s->effort);
	free(s->verbosity);
	free(s->tmpl);
	memset(s, 0, sizeof(*s));
}

static char *
dup_col(const struct rl_dbres *r, int col)
{

	return rl_dbres_isnull(r, 0, col) ? NULL :
	    strdup(rl_dbres_get(r, 0, col));
}

static enum rl_err
settings_get(const char *section, const char *model, struct settings *s,
    struct rl_error *e)
{
	const char	*p[2];
	struct rl_dbres	*r = NULL;
	enum rl_err	 err;

	memset(s, 0, sizeof(*s));
	p[0] = model != NULL ? model : "";
	p[1] = section;
	if ((err = rl_db_exec(SETTINGS_SQL, 2, p, &r, e)) != RL_OK)
		goto out;
	if (rl_dbres_rows(r) != 1) {
		err = rl_error_set(e, RL_EINTERNAL, "no settings row");
		goto out;
	}
	s->model = dup_col(r, 0);
	s->system = dup_col(r, 1);
	s->effort = dup_col(r, 2);
	s->verbosity = dup_col(r, 3);
	s->tmpl = dup_col(r, 4);
	if (s->model == NULL)
		err = oom(e);
out:
	rl_dbres_free(r);
	if (err != RL_OK)
		settings_free(s);
	return err;
}

/*
 * Run g (its caller, prompt and file set) with the model settings s, the
 * system prompt system and the registry schema name, strict.
 */
static enum rl_err
run_schema(struct rl_gen *g, const struct settings *s, const char *system,
    const char *name, struct rl_error *e)
{

	g->model = s->model;
	g->effort = s->effort;
	g->verbosity = s->verbosity;
	g->system = system;
	g->name = name;
	g->strict = 1;
	if ((g->schema = rl_schema_get(name)) == NULL)
		return rl_error_set(e, RL_EINTERNAL, "schema %s not loaded",
		    name);
	return rl_gen_run(g, e);
}

static enum rl_err
progress(struct rl_task *t, const char *msg, const char *step, int pct,
    struct rl_error *e)
{
	json_t		*m;
	enum rl_err	 err;

	if (t == NULL)
		return RL_OK;
	if ((m = json_pack("{s:s, s:s, s:i}", "message", msg, "step", step,
	    "progress", pct)) == NULL)
		return oom(e);
	err = rl_task_progress(t, m, e);
	json_decref(m);
	return err;
}

/* POST /files, purpose user_data (free: no reservation). */
static enum rl_err
file_upload(const struct rl_upstream *up, const char *path,
    const char *name, char *id, size_t idsz, struct rl_error *e)
{
	struct rl_oa_call	 c;
	json_t			*form;
	const char		*fid;
	enum rl_err		 err;

	id[0] = '\0';
	memset(&c, 0, sizeof(c));
	if ((form = json_pack("{s:s}", "purpose", "user_data")) == NULL)
		return oom(e);
	c.path = "/files";
	c.upload_path = path;
	c.upload_name = name;
	c.form = form;
	if ((err = rl_oa_call(up, &c, e)) != RL_OK)
		goto out;
	if ((fid = jstr(c.answer, "id")) == NULL || *fid == '\0' ||
	    strlen(fid) >= idsz || strchr(fid, '/') != NULL) {
		err = rl_error_set(e, RL_EUPSTREAM, "Téléversement du PDF : "
		    "réponse sans identifiant de fichier.");
		goto out;
	}
	memcpy(id, fid, strlen(fid) + 1);
out:
	rl_oa_call_free(&c);
	json_decref(form);
	return err;
}

/* DELETE /files/<id>; a failure is logged, the task's outcome stands. */
static void
file_delete(const struct rl_upstream *up, const char *id)
{
	struct rl_oa_call	 c;
	struct rl_error		 e;
	char			 path[160];

	memset(&c, 0, sizeof(c));
	(void)snprintf(path, sizeof(path), "/files/%s", id);
	c.method = "DELETE";
	c.path = path;
	if (rl_oa_call(up, &c, &e) != RL_OK)
		rl_log_warn("file %s not deleted upstream: %s", id, e.msg);
	rl_oa_call_free(&c);
}

static enum rl_err
user_admin(long long user_id, int *admin, struct rl_error *e)
{
	static const char	 sql[] =
	    "SELECT role = 'admin' FROM users WHERE id = $1::bigint";
	const char		*p[1];
	char			 uid[24];
	struct rl_dbres		*r = NULL;
	enum rl_err		 err;

	(void)snprintf(uid, sizeof(uid), "%lld", user_id);
	p[0] = uid;
	if ((err = rl_db_exec(sql, 1, p, &r, e)) != RL_OK)
		goto out;
	if (rl_dbres_rows(r) != 1)
		err = rl_error_set(e, RL_ENOTFOUND, "Utilisateur introuvable.");
	else
		*admin = strcmp(rl_dbres_get(r, 0, 0), "t") == 0;
out:
	rl_dbres_free(r);
	return err;
}

/* The capacité of the plan-cadre an id names, or NULL. */
static const json_t *
capacite(const json_t *caps, long long id)
{
	const json_t	*k;
	size_t		 i;

	json_array_foreach(caps, i, k)
		if (json_integer_value(json_object_get(k, "id")) == id)
			return k;
	return NULL;
}

/*
 * An evaluation as the preview shows it, its capacités resolved the one
 * way the plan-de-cours features resolve them (rl_pdc_capacity_resolve).
 */
static json_t *
pdc_evaluation(const json_t *ev, const json_t *caps)
{
	json_t		*out, *list, *c;
	const json_t	*k;
	const char	*label;
	size_t		 i;

	if ((list = json_array()) == NULL)
		return NULL;
	json_array_foreach(json_object_get(ev, "capacites"), i, c) {
		label = json_string_value(json_object_get(c, "capacite"));
		k = label != NULL ? capacite(caps,
		    rl_pdc_capacity_resolve(label, caps)) : NULL;
		if (json_array_append_new(list, json_pack("{s:O, s:O, s:O}",
		    "capacite_id", or_null(json_object_get(k, "id")),
		    "capacite_nom", or_null(k != NULL ?
		    json_object_get(k, "capacite") :
		    json_object_get(c, "capacite")), "ponderation",
		    or_null(json_object_get(c, "ponderation")))) == -1) {
			json_decref(list);
			return NULL;
		}
	}
	out = json_pack("{s:O, s:O, s:O, s:o}", "titre_evaluation",
	    or_null(json_object_get(ev, "titre_evaluation")), "description",
	    or_null(json_object_get(ev, "description")), "semaine",
	    or_null(json_object_get(ev, "semaine")), "capacites", list);
	return out;
}

static enum rl_err
pdc_build(const struct rl_import *im, const json_t *old,
    const struct rl_gen *g, json_t **out, struct rl_error *e)
{
	const json_t	*plan = json_object_get(old, "plan");
	const json_t	*caps = json_object_get(old, "capacites");
	json_t		*res, *fields, *ofields, *evs, *ev;
	const char	*session = jstr(plan, "session");
	long long	 cours_id = json_integer_value(json_object_get(plan,
			    "cours_id"));
	size_t		 i;
	int		 bad = 0;
	char		 buf[256];

	if ((res = json_object()) == NULL || (fields = json_object()) ==
	    NULL || (ofields = json_object()) == NULL ||
	    (evs = json_array()) == NULL) {
		json_decref(res);
		return oom(e);
	}
	put(res, "fields", fields, &bad);
	put(res, "old_fields", ofields, &bad);
	for (i = 0; i < NELEM(pdc_fields); i++) {
		put(fields, pdc_fields[i], json_incref(or_null(json_object_get(
		    g->result, pdc_fields[i]))), &bad);
		put(ofields, pdc_fields[i], json_incref(or_null(
		    json_object_get(plan, pdc_fields[i]))), &bad);
	}
	for (i = 0; i < NELEM(pdc_lists); i++) {
		put(res, pdc_lists[i], json_incref(or_null(json_object_get(
		    g->result, pdc_lists[i]))), &bad);
		(void)snprintf(buf, sizeof(buf), "old_%s", pdc_lists[i]);
		put(res, buf, json_incref(or_null(json_object_get(plan,
		    pdc_lists[i]))), &bad);
	}
	put(res, "evaluations", evs, &bad);
	json_array_foreach(json_object_get(g->result, "evaluations"), i, ev)
		if (json_array_append_new(evs, pdc_evaluation(ev, caps)) == -1)
			bad = 1;
	put(res, "old_evaluations", json_incref(or_null(json_object_get(old,
	    "evaluations"))), &bad);
	put(res, "status", json_string("success"), &bad);
	put(res, "preview", json_true(), &bad);
	put(res, "plan_id", json_integer(im->plan_id), &bad);
	put(res, "cours_id", json_integer(cours_id), &bad);
	put(res, "session", json_string(session != NULL ? session : ""),
	    &bad);
	put(res, "usage", rl_gen_usage_json(g), &bad);
	if (g->reasoning != NULL)
		put(res, "reasoning_summary", json_string(g->reasoning), &bad);
	if (session != NULL) {
		(void)snprintf(buf, sizeof(buf), "/cours/%lld/plan_de_cours/"
		    "%s/", cours_id, session);
		put(res, "plan_de_cours_url", json_string(buf), &bad);
	}
	if (im->task_id != NULL) {
		(void)snprintf(buf, sizeof(buf), "/plan_de_cours/review/%lld?"
		    "task_id=%s", im->plan_id, im->task_id);
		put(res, "validation_url", json_string(buf), &bad);
	}
	if (bad) {
		json_decref(res);
		return oom(e);
	}
	*out = res;
	return RL_OK;
}

enum rl_err
rl_import_pdc_preview(const struct rl_import *im, json_t **out,
    struct rl_error *e)
{
	struct settings	 s;
	struct rl_gen	 g;
	json_t		*old = NULL;
	const char	*p[3];
	char		 uid[24], pid[24], *prompt = NULL;
	int		 admin = 0;
	enum rl_err	 err;

	*out = NULL;
	memset(&g, 0, sizeof(g));
	memset(&s, 0, sizeof(s));
	if ((err = user_admin(im->user_id, &admin, e)) != RL_OK)
		goto out;
	(void)snprintf(uid, sizeof(uid), "%lld", im->user_id);
	(void)snprintf(pid, sizeof(pid), "%lld", im->plan_id);
	p[0] = uid;
	p[1] = admin ? "true" : "false";
	p[2] = pid;
	if ((err = rl_db_json(PDC_SQL, 3, p, &old, e)) != RL_OK)
		goto out;
	if (old == NULL || json_is_null(old)) {
		err = rl_error_set(e, RL_ENOTFOUND, "Plan de cours non "
		    "trouvé.");
		goto out;
	}
	if ((err = settings_get("plan_de_cours_import", im->model, &s, e)) !=
	    RL_OK)
		goto out;
	if ((prompt = concat(pdc_prompt, im->doc_text)) == NULL) {
		err = oom(e);
		goto out;
	}
	if ((err = progress(im->task, "Analyse du .docx en cours...",
	    "ai_call", 20, e)) != RL_OK)
		goto out;
	g.user_id = im->user_id;
	g.feature = "import_plan_de_cours";
	g.request_id = im->request_id;
	g.task = im->task;
	g.message = "Analyse du .docx en cours...";
	g.prompt = prompt;
	if ((err = run_schema(&g, &s, s.system, "ImportPlanDeCoursResponse",
	    e)) != RL_OK)
		goto out;
	err = pdc_build(im, old, &g, out, e);
out:
	rl_gen_free(&g);
	settings_free(&s);
	json_decref(old);
	free(prompt);
	return err;
}

/* The task row is the queue's: worker.c writes it. */
enum rl_err
rl_import_record(const char *name, long long user_id, const json_t *payload,
    const json_t *result, const char *url, char id[37], json_t **stored,
    struct rl_error *e)
{

	return rl_task_record_done(name, user_id, payload, result, url, id,
	    stored, e);
}

/* The payload's integer, or 0. */
static long long
jint(const json_t *o, const char *k)
{

	return json_integer_value(json_object_get(o, k));
}

enum rl_err
rl_import_pdc_task(struct rl_task *t, json_t **result, struct rl_error *e)
{
	struct rl_import	 im;

	memset(&im, 0, sizeof(im));
	im.user_id = t->user_id;
	im.task = t;
	im.task_id = t->id;
	im.plan_id = jint(t->payload, "plan_id");
	im.doc_text = jstr(t->payload, "doc_text");
	im.model = jstr(t->payload, "ai_model");
	if (im.doc_text == NULL || im.plan_id <= 0)
		return rl_error_set(e, RL_EINVAL, "payload without plan_id "
		    "or doc_text");
	return rl_import_pdc_preview(&im, result, e);
}

/* Literal "\n" in a model's strings are newlines (EDxo's sanitiser). */
static void
unescape_nl(json_t *v)
{
	const char	*s;
	char		*c, *r, *w;
	json_t		*x;
	const char	*k;
	size_t		 i;

	if (json_is_string(v)) {
		s = json_string_value(v);
		if (strstr(s, "\\n") == NULL || (c = strdup(s)) == NULL)
			return;
		for (r = w = c; *r != '\0'; r++, w++) {
			if (r[0] == '\\' && r[1] == 'n') {
				*w = '\n';
				r++;
			} else
				*w = *r;
		}
		*w = '\0';
		(void)json_string_set(v, c);
		free(c);
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, x)
			unescape_nl(x);
	} else if (json_is_object(v)) {
		json_object_foreach(v, k, x)
			unescape_nl(x);
	}
}

/* A text worth proposing: a string with something else than spaces. */
static int
has_text(const json_t *v)
{
	const char	*s = json_string_value(v);

	return s != NULL && s[strspn(s, " \t\r\n")] != '\0';
}

/*
 * proposed{fields, fields_with_description, savoir_etre, capacites}, the
 * shape generate_plan_cadre_content's preview has, so that
 * /plan_cadre/<id>/apply_improvement applies an import as it applies an
 * improvement.  Empty sections are left out: nothing to apply there.
 */
static json_t *
pc_proposed(json_t *r)
{
	json_t		*p, *f, *fd, *l;
	size_t		 i;
	int		 bad = 0;

	unescape_nl(r);
	if ((p = json_object()) == NULL)
		return NULL;
	f = json_object();
	fd = json_object();
	put(p, "fields", f, &bad);
	put(p, "fields_with_description", fd, &bad);
	if (bad)
		goto out;
	for (i = 0; i < NELEM(pc_fields); i++)
		if (has_text(json_object_get(r, pc_fields[i])))
			put(f, pc_fields[i], json_incref(json_object_get(r,
			    pc_fields[i])), &bad);
	for (i = 0; i < NELEM(pc_lists); i++) {
		l = json_object_get(r, pc_lists[i].key);
		if (json_array_size(l) > 0)
			put(fd, pc_lists[i].display, json_incref(l), &bad);
	}
	put(p, "savoir_etre", json_incref(or_null(json_object_get(r,
	    "savoir_etre"))), &bad);
	put(p, "capacites", json_incref(or_null(json_object_get(r,
	    "capacites"))), &bad);
out:
	if (bad) {
		json_decref(p);
		return NULL;
	}
	return p;
}

#define PC_SQL								\
	"SELECT pc.cours_id FROM plan_cadre pc WHERE pc.id = $3::bigint " \
	"AND " RL_SQL_SEE_COURS("pc.cours_id")

enum rl_err
rl_import_pc_task(struct rl_task *t, json_t **result, struct rl_error *e)
{
	struct settings	 s;
	struct rl_gen	 g;
	json_t		*ctx = NULL, *res = NULL;
	const char	*p[3], *doc = jstr(t->payload, "doc_text");
	char		 uid[24], pid[24], cost[32], msg[128], url[128];
	char		*prompt = NULL, *text = NULL;
	struct rl_dbres	*r = NULL;
	long long	 plan_id = jint(t->payload, "plan_id"), cours_id;
	int		 admin = 0, bad = 0;
	enum rl_err	 err;

	*result = NULL;
	memset(&g, 0, sizeof(g));
	memset(&s, 0, sizeof(s));
	if (doc == NULL || plan_id <= 0) {
		err = rl_error_set(e, RL_EINVAL, "payload without plan_id or "
		    "doc_text");
		goto out;
	}
	if ((err = progress(t, "Préparation de l'import...", "prepare", 5,
	    e)) != RL_OK || (err = user_admin(t->user_id, &admin, e)) !=
	    RL_OK)
		goto out;
	(void)snprintf(uid, sizeof(uid), "%lld", t->user_id);
	(void)snprintf(pid, sizeof(pid), "%lld", plan_id);
	p[0] = uid;
	p[1] = admin ? "true" : "false";
	p[2] = pid;
	if ((err = rl_db_exec(PC_SQL, 3, p, &r, e)) != RL_OK)
		goto out;
	if (rl_dbres_rows(r) != 1) {
		err = rl_error_set(e, RL_ENOTFOUND, "Plan-cadre non trouvé.");
		goto out;
	}
	cours_id = strtoll(rl_dbres_get(r, 0, 0), NULL, 10);
	if ((err = settings_get("plan_cadre_import", jstr(t->payload,
	    "ai_model"), &s, e)) != RL_OK)
		goto out;
	if ((text = strdup(doc)) == NULL) {
		err = oom(e);
		goto out;
	}
	utf8_cut(text, RL_IMPORT_PC_CHARS);
	if ((ctx = json_pack("{s:s}", "doc_text", text)) == NULL) {
		err = oom(e);
		goto out;
	}
	if ((err = rl_tmpl_format(s.tmpl != NULL ? s.tmpl : "{doc_text}", ctx,
	    &prompt, e)) != RL_OK)
		goto out;
	if ((err = progress(t, "Analyse du document par l'IA...", "ai_call",
	    20, e)) != RL_OK)
		goto out;
	g.user_id = t->user_id;
	g.feature = "import_plan_cadre";
	g.task = t;
	g.message = "Analyse du document par l'IA...";
	g.prompt = prompt;
	if ((err = run_schema(&g, &s, s.system, "ImportPlanCadreResponse",
	    e)) != RL_OK)
		goto out;
	if ((err = progress(t, "Construction de l'aperçu...",
	    "build_preview", 75, e)) != RL_OK)
		goto out;
	if ((res = json_object()) == NULL) {
		err = oom(e);
		goto out;
	}
	(void)snprintf(msg, sizeof(msg), "Aperçu de l'import prêt. Coût: %s "
	    "crédits.", rl_micro_fmt(g.cost_micro, cost, sizeof(cost)));
	(void)snprintf(url, sizeof(url), "/plan_cadre/%lld/review?task_id=%s",
	    plan_id, t->id);
	put(res, "status", json_string("success"), &bad);
	put(res, "message", json_string(msg), &bad);
	put(res, "plan_id", json_integer(plan_id), &bad);
	put(res, "cours_id", json_integer(cours_id), &bad);
	put(res, "preview", json_true(), &bad);
	put(res, "proposed", pc_proposed(g.result), &bad);
	put(res, "validation_url", json_string(url), &bad);
	put(res, "stream_buffer", json_string(g.text != NULL ? g.text : ""),
	    &bad);
	put(res, "usage", rl_gen_usage_json(&g), &bad);
	if (g.reasoning != NULL)
		put(res, "reasoning_summary", json_string(g.reasoning), &bad);
	if (bad) {
		err = oom(e);
		goto out;
	}
	*result = res;
	res = NULL;
out:
	rl_gen_free(&g);
	settings_free(&s);
	rl_dbres_free(r);
	json_decref(ctx);
	json_decref(res);
	free(prompt);
	free(text);
	return err;
}

/*
 * A PDF task: the spooled file to the Files API, one generation reading
 * it, and the file deleted upstream and here whatever happened.
 */
struct pdfjob {
	const char	*section;	/* settings section */
	const char	*feature;	/* ledger feature */
	const char	*schema;	/* registry id and text.format name */
	const char	*prompt;	/* user text beside the file */
	const char	*message;	/* meta.message while the model reads */
	int		 tmpl_system;	/* the settings' template is the
					   system prompt (OCR) */
	char		 filename[256];
};

static enum rl_err
pdf_run(struct rl_task *t, struct pdfjob *j, struct rl_gen *g,
    struct rl_error *e)
{
	struct settings		 s;
	struct rl_model		 m;
	struct rl_upstream_buf	 ub;
	json_t			*meta;
	const char		*url = jstr(t->payload, "pdf_url");
	char			 path[4096], fid[128];
	enum rl_err		 err;

	memset(&s, 0, sizeof(s));
	path[0] = fid[0] = '\0';
	if ((err = progress(t, "Préparation du PDF...", "prepare", 5, e)) !=
	    RL_OK)
		goto out;
	if ((err = settings_get(j->section, jstr(t->payload, "ai_model"), &s,
	    e)) != RL_OK)
		goto out;
	if ((err = rl_model_lookup(s.model, &m, e)) != RL_OK ||
	    (err = rl_model_upstream(&m, t->user_id, &ub, e)) != RL_OK)
		goto out;
	/*
	 * A devis on the ministry's site (POST /ocr/start) is read by the
	 * provider from its address, as EDxo's file_url: nothing to upload.
	 */
	if (url != NULL)
		(void)snprintf(j->filename, sizeof(j->filename), "%s",
		    jstr(t->payload, "filename"));
	else if ((err = spool_load(t->id, path, sizeof(path), j->filename,
	    sizeof(j->filename), e)) != RL_OK)
		goto out;
	if (rl_task_cancelled(t)) {
		err = rl_error_set(e, RL_EGONE, "Tâche annulée.");
		goto out;
	}
	if (url == NULL) {
		if ((err = progress(t, "Téléversement du PDF...", "upload",
		    15, e)) != RL_OK || (err = file_upload(&ub.up, path,
		    j->filename, fid, sizeof(fid), e)) != RL_OK)
			goto out;
		(void)unlink(path);
		path[0] = '\0';
	}
	/* The id is public: it says which upstream file to look for. */
	if ((meta = json_pack("{s:s, s:s, s:i, s:s}", "message", j->message,
	    "step", "ai_call", "progress", 25, url != NULL ? "pdf_source" :
	    "file_id", url != NULL ? url : fid)) == NULL) {
		err = oom(e);
		goto out;
	}
	err = rl_task_progress(t, meta, e);
	json_decref(meta);
	if (err != RL_OK)
		goto out;
	g->user_id = t->user_id;
	g->feature = j->feature;
	g->task = t;
	g->message = j->message;
	g->prompt = j->prompt;
	g->file_id = url == NULL ? fid : NULL;
	g->file_url = url;
	err = run_schema(g, &s, j->tmpl_system && s.tmpl != NULL ? s.tmpl :
	    s.system, j->schema, e);
	/* The strings g points to die with s: the caller reads only out. */
	g->model = g->effort = g->verbosity = g->system = g->file_id = NULL;
	g->file_url = NULL;
out:
	if (fid[0] != '\0')
		file_delete(&ub.up, fid);
	if (path[0] != '\0')
		(void)unlink(path);
	spool_drop(t->id);
	settings_free(&s);
	return err;
}

/*
 * A PDF task's result, as EDxo's tasks return it: status, the extraction
 * (result), usage, the page that confirms it (url; NULL: none),
 * programme_id (0: null) and the reasoning summary, then the kind's own
 * members (extra, or NULL).  Takes result, usage and extra.
 */
static enum rl_err
pdf_result(const struct rl_gen *g, json_t *result, json_t *usage,
    const char *url, long long prog, json_t *extra, json_t **out,
    struct rl_error *e)
{
	json_t	*res;
	int	 bad = 0;

	*out = NULL;
	if ((res = json_object()) == NULL)
		bad = 1;
	else {
		put(res, "status", json_string("success"), &bad);
		put(res, "result", result, &bad);
		result = NULL;
		put(res, "usage", usage, &bad);
		usage = NULL;
		if (url != NULL)
			put(res, "validation_url", json_string(url), &bad);
		put(res, "programme_id", prog > 0 ? json_integer(prog) :
		    json_null(), &bad);
		if (g->reasoning != NULL)
			put(res, "reasoning_summary",
			    json_string(g->reasoning), &bad);
		if (extra != NULL && json_object_update(res, extra) == -1)
			bad = 1;
	}
	json_decref(result);
	json_decref(usage);
	json_decref(extra);
	if (bad) {
		json_decref(res);
		return oom(e);
	}
	*out = res;
	return RL_OK;
}

enum rl_err
rl_import_grille_task(struct rl_task *t, json_t **result,
    struct rl_error *e)
{
	struct pdfjob	 j = { "grille_import", "import_grille",
			    "programme_etudes", grille_prompt,
			    "Extraction de la grille par l'IA...", 0, "" };
	struct rl_gen	 g;
	long long	 prog = jint(t->payload, "programme_id");
	char		 url[128];
	enum rl_err	 err;

	*result = NULL;
	memset(&g, 0, sizeof(g));
	if ((err = pdf_run(t, &j, &g, e)) != RL_OK)
		goto out;
	if (prog > 0)
		(void)snprintf(url, sizeof(url), "/confirm_grille_import/%s?"
		    "programme_id=%lld", t->id, prog);
	else
		(void)snprintf(url, sizeof(url), "/confirm_grille_import/%s",
		    t->id);
	err = pdf_result(&g, json_incref(g.result), rl_gen_usage_json(&g),
	    url, prog, json_pack("{s:s}", "filename", j.filename), result, e);
out:
	rl_gen_free(&g);
	return err;
}

/*
 * EDxo's two OCR flows in one kind: a devis uploaded for a programme
 * (reviewed on the programme's page), or one read from the ministry's
 * site (POST /ocr/start: no programme yet, EDxo's process_ocr_task
 * fields beside; confirm_import names it by its base_filename).
 */
enum rl_err
rl_import_ocr_task(struct rl_task *t, json_t **result, struct rl_error *e)
{
	struct pdfjob	 j = { "ocr", "import_competences",
			    "extraire_competences_en_json", ocr_prompt,
			    "Extraction des compétences par l'IA...", 1, "" };
	struct rl_gen	 g;
	json_t		*usage = NULL, *list, *extra;
	const char	*src = jstr(t->payload, "pdf_url");
	long long	 prog = jint(t->payload, "programme_id");
	char		 url[160], base[256], msg[96], *dot;
	int		 bad = 0;
	enum rl_err	 err;

	*result = NULL;
	memset(&g, 0, sizeof(g));
	if ((err = pdf_run(t, &j, &g, e)) != RL_OK)
		goto out;
	(void)snprintf(base, sizeof(base), "%s", j.filename);
	if ((dot = strrchr(base, '.')) != NULL && dot != base)
		*dot = '\0';
	(void)snprintf(url, sizeof(url), "/programme/%lld/competences/import/"
	    "review?task_id=%s", prog, t->id);
	/* EDxo's OCR usage names; the generic ones are kept beside. */
	if ((usage = rl_gen_usage_json(&g)) != NULL) {
		put(usage, "prompt_tokens", json_integer(g.usage.input_tokens),
		    &bad);
		put(usage, "completion_tokens",
		    json_integer(g.usage.output_tokens), &bad);
	}
	list = or_null(json_object_get(g.result, "competences"));
	(void)snprintf(msg, sizeof(msg), "%zu compétence(s) extraite(s).",
	    json_array_size(list));
	extra = json_pack("{s:s, s:s, s:I, s:s}", "message", msg,
	    "base_filename", base, "competences_count",
	    (json_int_t)json_array_size(list), "final_status", "SUCCESS");
	if (extra != NULL && src != NULL && json_object_update_new(extra,
	    json_pack("{s:s, s:s?}", "pdf_source", src, "pdf_title",
	    jstr(t->payload, "pdf_title"))) == -1)
		bad = 1;
	if (bad) {
		json_decref(usage);
		json_decref(extra);
		err = oom(e);
		goto out;
	}
	err = pdf_result(&g, json_pack("{s:s, s:O}", "base_filename", base,
	    "competences", list), usage, prog > 0 ? url : NULL, prog, extra,
	    result, e);
out:
	rl_gen_free(&g);
	return err;
}

/*
 * Confirming an import: the task's preview written, in one transaction.
 */

/* Hours of one course per week in a grille: a sanity bound, not EDxo's. */
#define GRILLE_HOURS_MAX	100

/*
 * The HTML lists EDxo stores compétences in.  Their text comes from an
 * extraction no longer than an upstream answer; escaped ("&amp;" is five
 * bytes for one) and wrapped in tags it stays under five times that.
 */
#define HTML_MAX		(5 * (size_t)RL_OA_ANSWER_MAX)

/* A number of hours as the cours columns hold it. */
static enum rl_err
grille_hours(const json_t *c, const char *k, json_int_t *v,
    struct rl_error *e)
{
	double	 d = json_number_value(json_object_get(c, k));

	if (!json_is_number(json_object_get(c, k)) || d < 0 ||
	    d > GRILLE_HOURS_MAX)
		return rl_error_field(e, RL_EVALIDATION, k, "%s : heures hors "
		    "de 0 à %d.", k, GRILLE_HOURS_MAX);
	*v = llround(d);
	return RL_OK;
}

/*
 * One course of an extracted grille as rl_grille_write takes it: hours
 * rounded, nombre_unites = (T+L+M)/3, préalables by code with the minimum
 * grade when it is one (1 to 100).
 */
static enum rl_err
grille_course(const json_t *c, json_t **course, struct rl_error *e)
{
	const char	*code = jstr(c, "code_cours");
	const char	*nom = jstr(c, "titre_cours");
	const json_t	*x;
	json_t		*pre;
	json_int_t	 t, l, m;
	double		 pct;
	size_t		 i;
	enum rl_err	 err;

	*course = NULL;
	if (code == NULL || code[strspn(code, " \t")] == '\0' || nom == NULL ||
	    nom[strspn(nom, " \t")] == '\0')
		return rl_error_field(e, RL_EVALIDATION, "code_cours", "Cours "
		    "sans code ou sans titre dans la grille.");
	if ((err = grille_hours(c, "heures_theorie", &t, e)) != RL_OK ||
	    (err = grille_hours(c, "heures_labo", &l, e)) != RL_OK ||
	    (err = grille_hours(c, "heures_maison", &m, e)) != RL_OK)
		return err;
	if ((pre = json_array()) == NULL)
		return oom(e);
	json_array_foreach(json_object_get(c, "prerequis"), i, x) {
		pct = json_number_value(json_object_get(x,
		    "pourcentage_minimum"));
		if (json_array_append_new(pre, json_pack("{s:s?, s:o}",
		    "cours", jstr(x, "code_cours"), "note", pct > 0 &&
		    pct <= 100 ? json_integer(llround(pct)) : json_null())) ==
		    -1) {
			json_decref(pre);
			return oom(e);
		}
	}
	*course = json_pack("{s:s, s:s, s:I, s:I, s:I, s:f, s:o, s:O*}",
	    "code", code, "nom", nom, "heures_theorie", t,
	    "heures_laboratoire", l, "heures_travail_maison", m,
	    "nombre_unites", (double)(t + l + m) / 3.0, "prealables", pre,
	    "corequis", json_object_get(c, "corequis"));
	return *course == NULL ? oom(e) : RL_OK;
}

enum rl_err
rl_import_grille_apply(long long programme_id, int overwrite,
    const json_t *grille, json_t **written, struct rl_error *e)
{
	const json_t	*s, *c;
	json_t		*grid, *courses, *course;
	size_t		 i, j;
	enum rl_err	 err = RL_OK;

	*written = NULL;
	if ((grid = json_pack("{s:[]}", "sessions")) == NULL)
		return oom(e);
	json_array_foreach(json_object_get(grille, "sessions"), i, s) {
		if ((courses = json_array()) == NULL ||
		    json_array_append_new(json_object_get(grid, "sessions"),
		    json_pack("{s:I, s:o}", "session", json_integer_value(
		    json_object_get(s, "numero_session")), "courses",
		    courses)) == -1) {
			err = oom(e);
			goto out;
		}
		json_array_foreach(json_object_get(s, "cours"), j, c) {
			if ((err = grille_course(c, &course, e)) != RL_OK)
				goto out;
			if (json_array_append_new(courses, course) == -1) {
				err = oom(e);
				goto out;
			}
		}
	}
	err = rl_grille_write(programme_id, overwrite ? RL_GRILLE_OVERWRITE :
	    0, grid, written, e);
out:
	json_decref(grid);
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

/*
 * EDxo's HTML lists, each item escaped in its <li>: critères are strings,
 * the contexte's items {texte, sous_points}, the latter nested as lists
 * of their own (EDxo's json_to_html_list takes both).
 */
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
		buf_html(b, json_is_string(x) ? json_string_value(x) :
		    jstr(x, "texte"));
		list_html(b, json_object_get(x, "sous_points"));
		(void)rl_buf_addstr(b, "</li>");
	}
	(void)rl_buf_addstr(b, "</ul>");
}

/* The id a statement returns (0 when it returns no row). */
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

/* An élément found by name (else created), its critères replaced. */
static enum rl_err
element_write(long long comp, const json_t *el, struct rl_error *e)
{
	const char	*p[2], *nom = jstr(el, "element");
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
	if ((err = rl_db_exec("DELETE FROM element_competence_criteria WHERE "
	    "element_competence_id = $1::bigint", 1, p, NULL, e)) != RL_OK)
		return err;
	json_array_foreach(json_object_get(el, "criteres"), i, c) {
		if ((p[1] = json_string_value(c)) == NULL || *p[1] == '\0')
			continue;
		if ((err = rl_db_exec("INSERT INTO "
		    "element_competence_criteria (element_competence_id, "
		    "criteria) VALUES ($1::bigint, $2)", 2, p, NULL, e)) !=
		    RL_OK)
			return err;
	}
	return RL_OK;
}

/* One compétence upserted, linked to the programme, its éléments. */
static enum rl_err
competence_write(const char *prog, const json_t *c, json_t *out,
    struct rl_error *e)
{
	const char	*code = jstr(c, "Code");
	const char	*nom = jstr(c, "Nom de la compétence");
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
	list_html(&ctx, json_object_get(c, "Contexte de réalisation"));
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
	if ((err = rl_db_exec("INSERT INTO competence_programme "
	    "(competence_id, programme_id) VALUES ($1::bigint, $2::bigint) "
	    "ON CONFLICT DO NOTHING", 2, p, NULL, e)) != RL_OK)
		goto out;
	json_array_foreach(json_object_get(c, "Éléments"), i, el)
		if ((err = element_write(id, el, e)) != RL_OK)
			goto out;
	if (json_array_append_new(out, json_pack("{s:I, s:s, s:s, s:b}", "id",
	    (json_int_t)id, "code", code, "nom", nom, "created", created)) ==
	    -1)
		err = oom(e);
out:
	rl_dbres_free(r);
	rl_buf_free(&ctx);
	rl_buf_free(&crit);
	return err;
}

enum rl_err
rl_import_competences_apply(long long programme_id, const json_t *list,
    json_t **written, struct rl_error *e)
{
	const json_t	*c;
	json_t		*out;
	char		 pid[32];
	size_t		 i;
	int		 tx = 0;
	enum rl_err	 err;

	*written = NULL;
	if ((out = json_array()) == NULL)
		return oom(e);
	(void)snprintf(pid, sizeof(pid), "%lld", programme_id);
	if ((err = rl_db_begin(e)) != RL_OK)
		goto out;
	tx = 1;
	json_array_foreach(list, i, c)
		if ((err = competence_write(pid, c, out, e)) != RL_OK)
			goto out;
	if ((err = rl_db_commit(e)) != RL_OK)
		goto out;
	tx = 0;
	*written = out;
	out = NULL;
out:
	if (tx)
		rl_db_rollback();
	json_decref(out);
	return err;
}
