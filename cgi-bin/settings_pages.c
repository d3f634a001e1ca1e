/*
 * settings_pages.c: EDxo's AI settings pages, the model price table and the
 * usage report.  The singleton pages differ only in their table and
 * columns, so one table (pages[]) describes them and one GET and one POST
 * handler serve them all; the plan-de-cours prompts, the plan-cadre
 * sections, the per-feature AI settings (section_ai_settings) and the user
 * form reuse the same validation and audited write.  A template is checked
 * when it is saved (SC_FORMAT, check_section_text), and the prompt test
 * route renders one with the context it is given.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "crypto.h"
#include "db.h"
#include "fcgi.h"
#include "jinja.h"
#include "req.h"
#include "resp.h"
#include "settings.h"
#include "tmpl.h"

/*
 * Each page's columns, as its request schema declares them
 * (lib/schemas/requests/settings.*.json), which checks their types,
 * enumerations and null; what is left here is shown beside the field.
 */
/*
 * The names each prompt template's renderer supplies, which a template is
 * checked against when it is saved (SC_FORMAT).  They follow the
 * renderers: the verifier's context in rl_pdc_prompt (lib/edxo/pdc.c),
 * the grid's in cgi-bin/evaluation.c, the plan-cadre import's in
 * lib/edxo/imports.c, the plan-de-cours fields' in pdc.c's context()
 * (field_name only for a field's own row, not for calendrier or all); a
 * name a renderer adds is added here, or templates using it are refused.
 */
static const char *const analyse_vars[] = {
	"plan_cours_id", "plan_cours_json", "plan_cadre_id",
	"plan_cadre_json", "schema_json", NULL
};
static const char *const grille_vars[] = {
	"savoir_faire", "capacite", "seuil", "cible", "description_eval",
	"schema", NULL
};
static const char *const import_vars[] = { "doc_text", NULL };
#define PDC_VARS							\
	"current_value", "cours_id", "session", "cours_nom", "cours_code", \
	"place_intro", "objectif_terminal", "structure_intro",		\
	"structure_activites_theoriques",				\
	"structure_activites_pratiques", "structure_activites_prevues", \
	"eval_evaluation_sommative",					\
	"eval_nature_evaluations_sommatives",				\
	"eval_evaluation_de_la_langue",					\
	"eval_evaluation_sommatives_apprentissages", "capacites",	\
	"savoirs_etre", "objets_cibles", "cours_relies",		\
	"cours_prealables", "cours_corequis", "competences_certifiees", \
	"competences_developpees", "additional_info", "sections"
static const char *const pdc_vars[] = { PDC_VARS, NULL };
static const char *const pdc_field_vars[] = { PDC_VARS, "field_name", NULL };

/*
 * Each page's columns, as its request schema declares them
 * (lib/schemas/requests/settings.*.json), which checks their types,
 * enumerations and null; what is left here is shown beside the field.
 */
static const struct settings_field chat_fields[] = {
	{ "chat_model", SC_MODEL, NULL, NULL },
	{ "tool_model", SC_MODEL, NULL, NULL },
	{ "reasoning_effort", SC_NONE, NULL, NULL },
	{ "verbosity", SC_NONE, NULL, NULL },
};

static const struct settings_field analyse_fields[] = {
	{ "prompt_template", SC_FORMAT, NULL, analyse_vars },
	{ "ai_model", SC_MODEL, NULL, NULL },
};

static const struct settings_field grille_fields[] = {
	{ "prompt_template", SC_FORMAT, NULL, grille_vars },
	{ "level1_description", SC_TEXT, NULL, NULL },
	{ "level2_description", SC_TEXT, NULL, NULL },
	{ "level3_description", SC_TEXT, NULL, NULL },
	{ "level4_description", SC_TEXT, NULL, NULL },
	{ "level5_description", SC_TEXT, NULL, NULL },
	{ "level6_description", SC_TEXT, NULL, NULL },
};

/* EDxo's OCR form posts "" for its default: null, as EDxo stores it. */
static const struct settings_field ocr_fields[] = {
	{ "extraction_prompt", SC_BLANK_NULL, NULL, NULL },
	{ "model_extraction", SC_MODEL_OR_DEFAULT, NULL, NULL },
	{ "segmentation_prompt", SC_BLANK_NULL, NULL, NULL },
	{ "model_section", SC_MODEL_OR_DEFAULT, NULL, NULL },
};

/* The import formats the template with the document: without {doc_text}
 * the model would be sent nothing to read. */
static const struct settings_field import_fields[] = {
	{ "prompt_template", SC_FORMAT, "{doc_text}", import_vars },
	{ "ai_model", SC_MODEL, NULL, NULL },
};

/* A field's row, and the calendrier and all rows (no field_name). */
static const struct settings_field pdc_field_fields[] = {
	{ "prompt_template", SC_FORMAT, NULL, pdc_field_vars },
	{ "ai_model", SC_MODEL, NULL, NULL },
};
static const struct settings_field pdc_fields[] = {
	{ "prompt_template", SC_FORMAT, NULL, pdc_vars },
	{ "ai_model", SC_MODEL, NULL, NULL },
};

static const struct settings_field section_fields[] = {
	{ "use_ai", SC_NONE, NULL, NULL },
	{ "text_content", SC_NONE, NULL, NULL },
};

/* A section_ai_settings row: "" is the feature's default (null). */
static const struct settings_field ai_fields[] = {
	{ "system_prompt", SC_BLANK_NULL, NULL, NULL },
	{ "ai_model", SC_MODEL_OR_DEFAULT, NULL, NULL },
	{ "reasoning_effort", SC_BLANK_NULL, NULL, NULL },
	{ "verbosity", SC_BLANK_NULL, NULL, NULL },
};

#define NF(a)		(sizeof(a) / sizeof((a)[0]))
#define LOCK(tbl)	"SELECT to_jsonb(r) FROM " tbl " r WHERE id = $1 " \
			    "FOR UPDATE"
#define UPDATE(tbl, cols, vals)						\
	"UPDATE " tbl " r SET (" cols ") = (SELECT " vals " FROM "	\
	    "jsonb_populate_record(r, $1::jsonb) n) WHERE r.id = $2 "	\
	    "RETURNING to_jsonb(r)"

#define CHAT_GET							\
	"SELECT json_build_object('chat_model', chat_model, "		\
	    "'tool_model', tool_model, 'reasoning_effort', "		\
	    "reasoning_effort, 'verbosity', verbosity) "		\
	    "FROM chat_model_config WHERE id = $1"
#define CHAT_SEED							\
	"INSERT INTO chat_model_config (id) VALUES (1) "		\
	    "ON CONFLICT (id) DO NOTHING"
#define CHAT_UPDATE							\
	UPDATE("chat_model_config", "chat_model, tool_model, "		\
	    "reasoning_effort, verbosity, updated_at", "n.chat_model, "	\
	    "n.tool_model, n.reasoning_effort, n.verbosity, now()")

#define PDC_GET								\
	"SELECT json_build_object('id', id, 'field_name', field_name, "	\
	    "'prompt_template', prompt_template, 'ai_model', ai_model, " \
	    "'context_variables', context_variables) "			\
	    "FROM plan_de_cours_prompt_settings WHERE id = $1"
#define PDC_LOCK	LOCK("plan_de_cours_prompt_settings")
#define PDC_UPDATE							\
	UPDATE("plan_de_cours_prompt_settings", "prompt_template, "	\
	    "ai_model, updated_at", "n.prompt_template, n.ai_model, now()")

/*
 * The seeds below only matter when an operator deleted a singleton: the
 * migration seeds the full texts, these keep the page usable.
 */
static const struct settings_page pages[] = {
	{ "/settings/chat_models", "chat_model_config", CHAT_GET, CHAT_SEED,
	    LOCK("chat_model_config"), CHAT_UPDATE, chat_fields,
	    NF(chat_fields), 1, NULL },
	{ "/settings/generation", "chat_model_config", CHAT_GET, CHAT_SEED,
	    LOCK("chat_model_config"), CHAT_UPDATE, chat_fields,
	    NF(chat_fields), 1, NULL },
	{ "/settings/analyse_prompt", "analyse_plan_cours_prompt",
	    "SELECT json_build_object('prompt_template', prompt_template, "
	    "'ai_model', ai_model) FROM analyse_plan_cours_prompt "
	    "WHERE id = $1",
	    "INSERT INTO analyse_plan_cours_prompt (id, prompt_template) "
	    "VALUES (1, 'Compare le plan de cours {plan_cours_json} au "
	    "plan-cadre {plan_cadre_json}. Schéma : {schema_json}') "
	    "ON CONFLICT (id) DO NOTHING",
	    LOCK("analyse_plan_cours_prompt"),
	    UPDATE("analyse_plan_cours_prompt", "prompt_template, ai_model, "
	    "updated_at", "n.prompt_template, n.ai_model, now()"),
	    analyse_fields, NF(analyse_fields), 0, NULL },
	{ "/settings/prompt-settings", "grille_prompt_settings",
	    "SELECT json_build_object('prompt_template', prompt_template, "
	    "'level1_description', level1_description, "
	    "'level2_description', level2_description, "
	    "'level3_description', level3_description, "
	    "'level4_description', level4_description, "
	    "'level5_description', level5_description, "
	    "'level6_description', level6_description) "
	    "FROM grille_prompt_settings WHERE id = $1",
	    "INSERT INTO grille_prompt_settings (id, prompt_template, "
	    "level1_description, level2_description, level3_description, "
	    "level4_description, level5_description, level6_description) "
	    "VALUES (1, 'Grille à six niveaux pour {savoir_faire} "
	    "({capacite}). Seuil : {seuil}. Cible : {cible}.', 'Niveau 1', "
	    "'Niveau 2', 'Niveau 3', 'Niveau 4', 'Niveau 5', 'Niveau 6') "
	    "ON CONFLICT (id) DO NOTHING",
	    LOCK("grille_prompt_settings"),
	    UPDATE("grille_prompt_settings", "prompt_template, "
	    "level1_description, level2_description, level3_description, "
	    "level4_description, level5_description, level6_description, "
	    "updated_at", "n.prompt_template, n.level1_description, "
	    "n.level2_description, n.level3_description, "
	    "n.level4_description, n.level5_description, "
	    "n.level6_description, now()"),
	    grille_fields, NF(grille_fields), 0, NULL },
	{ "/settings/ocr_prompts", "ocr_prompt_settings",
	    "SELECT json_build_object('extraction_prompt', extraction_prompt, "
	    "'model_extraction', model_extraction, 'segmentation_prompt', "
	    "segmentation_prompt, 'model_section', model_section) "
	    "FROM ocr_prompt_settings WHERE id = $1",
	    "INSERT INTO ocr_prompt_settings (id) VALUES (1) "
	    "ON CONFLICT (id) DO NOTHING",
	    LOCK("ocr_prompt_settings"),
	    UPDATE("ocr_prompt_settings", "extraction_prompt, "
	    "model_extraction, segmentation_prompt, model_section, "
	    "updated_at", "n.extraction_prompt, n.model_extraction, "
	    "n.segmentation_prompt, n.model_section, now()"),
	    ocr_fields, NF(ocr_fields), 0, NULL },
	{ "/settings/plan-cadre/import_prompt",
	    "plan_cadre_import_prompt_settings",
	    "SELECT json_build_object('prompt_template', prompt_template, "
	    "'ai_model', ai_model) FROM plan_cadre_import_prompt_settings "
	    "WHERE id = $1",
	    "INSERT INTO plan_cadre_import_prompt_settings (id, "
	    "prompt_template) VALUES (1, 'Extrais le contenu de ce "
	    "plan-cadre sans le reformuler.\n\nDocument :\n{doc_text}') "
	    "ON CONFLICT (id) DO NOTHING",
	    LOCK("plan_cadre_import_prompt_settings"),
	    UPDATE("plan_cadre_import_prompt_settings", "prompt_template, "
	    "ai_model, updated_at", "n.prompt_template, n.ai_model, now()"),
	    import_fields, NF(import_fields), 0, NULL },
	{ "/settings/plan-de-cours/prompts/<int:id>",
	    "plan_de_cours_prompt_settings", PDC_GET, NULL, PDC_LOCK,
	    PDC_UPDATE, pdc_field_fields, NF(pdc_field_fields), 0, NULL },
	{ "/settings/plan-de-cours/prompt/<int:id>/edit",
	    "plan_de_cours_prompt_settings", PDC_GET, NULL, PDC_LOCK,
	    PDC_UPDATE, pdc_field_fields, NF(pdc_field_fields), 0, NULL },
};

static const struct settings_page section_page = {
	NULL, "global_generation_settings", NULL, NULL,
	LOCK("global_generation_settings"),
	UPDATE("global_generation_settings", "use_ai, text_content",
	"n.use_ai, n.text_content"),
	section_fields, NF(section_fields), 0, NULL
};

#define SECTIONS_GET							\
	"SELECT json_build_object('sections', coalesce(json_agg("	\
	    "json_build_object('section', section, 'use_ai', use_ai, "	\
	    "'text_content', text_content) ORDER BY position), '[]')) "	\
	    "FROM global_generation_settings"

#define MODEL_JSON							\
	"json_build_object('id', id, 'name', name, 'input_price', "	\
	    "trim_scale(input_price)::text, 'cached_input_price', "	\
	    "trim_scale(cached_input_price)::text, 'output_price', "	\
	    "trim_scale(output_price)::text)"

enum rl_err
settings_field_error(struct rl_error *e, enum rl_err code, const char *field,
    const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	(void)rl_error_setv(e, code, fmt, ap);
	va_end(ap);
	rl_error_where(e, field);
	return code;
}

const char *
settings_id_string(struct rl_req *req, long long id)
{

	return rl_arena_printf(req->arena, "%lld", id);
}

/*
 * One audit row, in the caller's transaction.  No value and a JSON null
 * are both stored as SQL NULL, so "was empty" has one spelling.
 */
enum rl_err
settings_audit(struct rl_req *req, const char *table, const char *rowid,
    const char *field, const json_t *oldv, const json_t *newv,
    struct rl_error *e)
{
	const char	*p[7];
	char		*o = NULL, *n = NULL;
	enum rl_err	 err;

	if (json_is_null(oldv))
		oldv = NULL;
	if (json_is_null(newv))
		newv = NULL;
	if (oldv != NULL && (o = json_dumps(oldv, JSON_ENCODE_ANY |
	    JSON_COMPACT)) == NULL)
		return rl_error_set(e, RL_ENOMEM, NULL);
	if (newv != NULL && (n = json_dumps(newv, JSON_ENCODE_ANY |
	    JSON_COMPACT)) == NULL) {
		free(o);
		return rl_error_set(e, RL_ENOMEM, NULL);
	}
	p[0] = settings_id_string(req, req->user->id);
	p[1] = table;
	p[2] = rowid;
	p[3] = field;
	p[4] = o;
	p[5] = n;
	p[6] = req->id;
	err = rl_db_exec("INSERT INTO audit_log (actor_id, table_name, "
	    "row_id, field, old_value, new_value, request_id) VALUES ($1, $2, "
	    "$3, $4, $5::jsonb, $6::jsonb, $7)", 7, p, NULL, e);
	free(o);
	free(n);
	return err;
}

/*
 * A non-negative decimal from a JSON string or number, rewritten into buf
 * as plain digits with at most maxint integer and maxfrac fraction digits,
 * so that SQL numeric gets it exactly.  A JSON number has already been
 * through a double: %.15g gives back the decimal a person typed.
 */
int
settings_decimal(const json_t *v, int maxint, int maxfrac, char *buf,
    size_t sz)
{
	const char	*s;
	size_t		 ni, nf = 0;
	int		 n;

	if (json_is_string(v))
		n = snprintf(buf, sz, "%s", json_string_value(v));
	else if (json_is_integer(v))
		n = snprintf(buf, sz, "%" JSON_INTEGER_FORMAT,
		    json_integer_value(v));
	else if (json_is_real(v))
		n = snprintf(buf, sz, "%.15g", json_real_value(v));
	else
		return -1;
	if (n < 0 || (size_t)n >= sz)
		return -1;
	s = buf;
	ni = strspn(s, "0123456789");
	if (ni == 0 || ni > (size_t)maxint)
		return -1;
	s += ni;
	if (*s == '.') {
		nf = strspn(s + 1, "0123456789");
		if (nf == 0)
			return -1;
		s += nf + 1;
	}
	if (*s != '\0' || nf > (size_t)maxfrac)
		return -1;
	return 0;
}

static enum rl_err
model_known(const char *name, int *known, struct rl_error *e)
{
	struct rl_dbres	*r;
	const char	*p[1];
	enum rl_err	 err;

	p[0] = name;
	if ((err = rl_db_exec("SELECT 1 FROM openai_models WHERE name = $1",
	    1, p, &r, e)) != RL_OK)
		return err;
	*known = rl_dbres_rows(r) > 0;
	rl_dbres_free(r);
	return RL_OK;
}

/* Only white space (or nothing): what EDxo's "data or None" nulls. */
static int
blank(const char *s)
{

	return s[strspn(s, " \t\r\n")] == '\0';
}

/*
 * A str.format() template that cannot render (a brace left open or
 * alone, a conversion, a name its renderer does not supply): 400 naming
 * the field and, in the message, the field and the line.
 */
static enum rl_err
check_format(const struct settings_field *f, const char *where,
    const char *s, struct rl_error *e)
{
	char		 why[RL_ERRMSG_MAX - 64];
	enum rl_err	 err;

	if ((err = rl_tmpl_check(s, f->vars, NULL, e)) == RL_OK ||
	    err != RL_EINVAL)
		return err;
	(void)snprintf(why, sizeof(why), "%.180s", e->msg);
	return settings_field_error(e, RL_EINVAL, where, "%.48s : %s", where,
	    why);
}

/*
 * The checks a request schema leaves to the program.  The schema has
 * refused a null where the column takes none, so a null here is allowed.
 */
static enum rl_err
check_field(const struct settings_field *f, const char *where,
    const json_t *v, struct rl_error *e)
{
	const char	*s;
	int		 known;
	enum rl_err	 err;

	if ((s = json_string_value(v)) == NULL)
		return RL_OK;
	switch (f->check) {
	case SC_TEXT:
	case SC_FORMAT:
		if (*s == '\0')
			return settings_field_error(e, RL_EINVAL, where,
			    "%s may not be empty", where);
		if (f->check == SC_FORMAT &&
		    (err = check_format(f, where, s, e)) != RL_OK)
			return err;
		break;
	case SC_MODEL:
	case SC_MODEL_OR_DEFAULT:
		if ((err = model_known(s, &known, e)) != RL_OK)
			return err;
		if (!known)
			return settings_field_error(e, RL_EINVAL, where,
			    "%s: unknown model \"%.64s\" (add it to the "
			    "model table first)", where, s);
		break;
	case SC_EMAIL:
		if (strchr(s, '@') == NULL || *s == '@')
			return settings_field_error(e, RL_EINVAL, where,
			    "%s: not an e-mail address", where);
		break;
	default:
		break;
	}
	if (f->contains != NULL && strstr(s, f->contains) == NULL)
		return settings_field_error(e, RL_EINVAL, where,
		    "%s must contain %s", where, f->contains);
	return RL_OK;
}

/*
 * The patch to save (a new reference) from body, the value the route's
 * request schema validated: its members' checks that the schema leaves
 * to us, then EDxo's tool model rule.  prefix names the object in error
 * fields ("sections[2]."), or is "".  A member the page does not list
 * means the schema and pages[] disagree: our fault, not the client's.
 */
enum rl_err
settings_validate(const struct settings_page *pg, const char *prefix,
    json_t *body, json_t **patch, struct rl_error *e)
{
	const char	*key;
	json_t		*v, *out;
	char		 where[128];
	size_t		 i;
	enum rl_err	 err;

	*patch = NULL;
	if ((out = json_object()) == NULL)
		return rl_error_set(e, RL_ENOMEM, NULL);
	json_object_foreach(body, key, v) {
		(void)snprintf(where, sizeof(where), "%s%s", prefix, key);
		for (i = 0; i < pg->nfields; i++)
			if (strcmp(key, pg->fields[i].name) == 0)
				break;
		if (i == pg->nfields) {
			err = rl_error_set(e, RL_EINTERNAL, "%s: %s is in the "
			    "request schema, not in the page", pg->table,
			    where);
			goto fail;
		}
		/* A blank where EDxo stores None: null, then checked. */
		if ((pg->fields[i].check == SC_BLANK_NULL ||
		    pg->fields[i].check == SC_MODEL_OR_DEFAULT) &&
		    json_is_string(v) && blank(json_string_value(v)))
			v = json_null();
		if ((err = check_field(&pg->fields[i], where, v, e)) != RL_OK)
			goto fail;
		if (json_object_set(out, key, v) == -1) {
			err = rl_error_set(e, RL_ENOMEM, NULL);
			goto fail;
		}
	}
	/* EDxo forces the tool model to the chat model. */
	if (pg->chat && (v = json_object_get(out, "chat_model")) != NULL &&
	    json_object_get(out, "tool_model") == NULL &&
	    json_object_set(out, "tool_model", v) == -1) {
		err = rl_error_set(e, RL_ENOMEM, NULL);
		goto fail;
	}
	*patch = out;
	return RL_OK;
fail:
	json_decref(out);
	return err;
}

static int
same(json_t *a, json_t *b)
{

	if (a == NULL || b == NULL)
		return a == b;
	return json_equal(a, b);
}

/*
 * Merge a validated patch into one row and audit each field that changed.
 * Run inside the caller's transaction: the row is locked from the read of
 * the old values to the write.
 */
enum rl_err
settings_apply(struct rl_req *req, const struct settings_page *pg,
    const char *rowid, json_t *patch, struct rl_error *e)
{
	const char	*p[2], *key;
	json_t		*old = NULL, *new = NULL, *v;
	char		*s = NULL;
	enum rl_err	 err;

	p[0] = rowid;
	if ((err = rl_db_json(pg->lock_sql, 1, p, &old, e)) != RL_OK)
		goto out;
	if (!json_is_object(old)) {
		err = rl_error_set(e, RL_ENOTFOUND, "%s %s: no such row",
		    pg->table, rowid);
		goto out;
	}
	if (json_object_size(patch) == 0)
		goto out;
	if ((s = json_dumps(patch, JSON_COMPACT)) == NULL) {
		err = rl_error_set(e, RL_ENOMEM, NULL);
		goto out;
	}
	p[0] = s;
	p[1] = rowid;
	if ((err = rl_db_json(pg->update_sql, 2, p, &new, e)) != RL_OK) {
		if (err == RL_ECONFLICT && pg->conflict_field != NULL)
			(void)settings_field_error(e, RL_ECONFLICT,
			    pg->conflict_field, "%s is already in use",
			    pg->conflict_field);
		goto out;
	}
	json_object_foreach(patch, key, v) {
		if (same(json_object_get(old, key), json_object_get(new, key)))
			continue;
		if ((err = settings_audit(req, pg->table, rowid, key,
		    json_object_get(old, key), json_object_get(new, key),
		    e)) != RL_OK)
			goto out;
	}
out:
	free(s);
	json_decref(old);
	json_decref(new);
	return err;
}

/*
 * The row for the request's route in a table whose rows begin with their
 * route pattern (pages[], ai_pages[], ai_groups[]), or -1.
 */
static int
row_for(const struct rl_req *req, const void *table, size_t n, size_t size)
{
	const char	*row = table;
	size_t		 i;

	for (i = 0; i < n; i++, row += size)
		if (strcmp(req->route->pattern,
		    *(const char *const *)(const void *)row) == 0)
			return (int)i;
	return -1;
}
#define ROW_FOR(req, t)	row_for((req), (t), NF(t), sizeof((t)[0]))

static const struct settings_page *
page_for(const struct rl_req *req)
{
	int	 i = ROW_FOR(req, pages);

	return i == -1 ? NULL : &pages[i];
}

/*
 * Write n validated patches (rows ids[i] of pg) in one transaction: all
 * of them, or none when one fails.
 */
static enum rl_err
save(struct rl_req *req, const struct settings_page *pg,
    const char *const *ids, json_t *const *patches, size_t n,
    struct rl_error *e)
{
	size_t		 i;
	enum rl_err	 err;

	if ((err = rl_db_begin(e)) != RL_OK)
		return err;
	for (i = 0; i < n && err == RL_OK; i++)
		err = settings_apply(req, pg, ids[i], patches[i], e);
	if (err != RL_OK || (err = rl_db_commit(e)) != RL_OK)
		rl_db_rollback();
	return err;
}

/* The row a page edits: its path's id, else the singleton's 1. */
static enum rl_err
page_row(struct rl_req *req, const char **rowid, struct rl_error *e)
{
	long long	 id;
	enum rl_err	 err;

	if (rl_req_param(req, "id") == NULL) {
		*rowid = "1";
		return RL_OK;
	}
	if ((err = rl_req_param_int(req, "id", &id, e)) != RL_OK)
		return err;
	*rowid = settings_id_string(req, id);
	return *rowid == NULL ? rl_error_set(e, RL_ENOMEM, NULL) : RL_OK;
}

static enum rl_err
page_answer(struct rl_req *req, const struct settings_page *pg,
    const char *rowid, struct rl_error *e)
{
	const char	*p[1];
	json_t		*v;
	enum rl_err	 err;

	p[0] = rowid;
	if ((err = rl_db_json(pg->get_sql, 1, p, &v, e)) != RL_OK)
		return err;
	if (json_is_null(v) && pg->seed_sql != NULL) {
		json_decref(v);
		if ((err = rl_db_exec(pg->seed_sql, 0, NULL, NULL, e)) !=
		    RL_OK ||
		    (err = rl_db_json(pg->get_sql, 1, p, &v, e)) != RL_OK)
			return err;
	}
	if (json_is_null(v)) {
		json_decref(v);
		return rl_error_set(e, RL_ENOTFOUND, "no such %s row",
		    pg->table);
	}
	return rl_resp_json_new(req, 200, v);
}

/* GET of every page in pages[]: the values, defaults when seeded anew. */
enum rl_err
settings_get_page(struct rl_req *req, struct rl_error *e)
{
	const struct settings_page	*pg;
	const char			*rowid;
	enum rl_err			 err;

	if ((pg = page_for(req)) == NULL)
		return rl_error_set(e, RL_EINTERNAL, "no page for %s",
		    req->route->pattern);
	if ((err = page_row(req, &rowid, e)) != RL_OK)
		return err;
	return page_answer(req, pg, rowid, e);
}

/* Validate body against pg, save it to rowid and audit, answer the row. */
static enum rl_err
post_page(struct rl_req *req, const struct settings_page *pg,
    const char *rowid, json_t *body, struct rl_error *e)
{
	json_t		*patch = NULL;
	enum rl_err	 err;

	if ((err = settings_validate(pg, "", body, &patch, e)) != RL_OK)
		return err;
	if (pg->seed_sql != NULL &&
	    (err = rl_db_exec(pg->seed_sql, 0, NULL, NULL, e)) != RL_OK)
		goto out;
	if ((err = save(req, pg, &rowid, &patch, 1, e)) != RL_OK)
		goto out;
	err = page_answer(req, pg, rowid, e);
out:
	json_decref(patch);
	return err;
}

/* POST of every page in pages[]: validate, save and audit, answer. */
enum rl_err
settings_post_page(struct rl_req *req, struct rl_error *e)
{
	const struct settings_page	*pg;
	const char			*rowid;
	enum rl_err			 err;

	if ((pg = page_for(req)) == NULL)
		return rl_error_set(e, RL_EINTERNAL, "no page for %s",
		    req->route->pattern);
	if ((err = page_row(req, &rowid, e)) != RL_OK)
		return err;
	return post_page(req, pg, rowid, req->json, e);
}

/* GET /settings/plan-de-cours/prompts */
enum rl_err
settings_get_pdc_prompts(struct rl_req *req, struct rl_error *e)
{
	json_t		*v;
	enum rl_err	 err;

	if ((err = rl_db_json("SELECT json_build_object('prompts', "
	    "coalesce(json_agg(json_build_object('id', id, 'field_name', "
	    "field_name, 'prompt_template', prompt_template, 'ai_model', "
	    "ai_model, 'context_variables', context_variables) ORDER BY id), "
	    "'[]')) FROM plan_de_cours_prompt_settings", 0, NULL, &v, e)) !=
	    RL_OK)
		return err;
	return rl_resp_json_new(req, 200, v);
}

/*
 * POST /settings/plan-de-cours/prompts/<int:id> (EDxo's page, fetch()
 * JSON) and POST /settings/plan-de-cours/prompt/<int:id>/edit (its
 * form): the template is checked against the names its row's renderer
 * supplies, field_name only for a field's own row.  EDxo's older page
 * sends context_variables beside the template; EDxo B ignores it, and
 * so do we: it documents the row's placeholders and is not the page's
 * to clear.
 */
enum rl_err
settings_post_pdc_prompt(struct rl_req *req, struct rl_error *e)
{
	struct settings_page		 pg;
	const struct settings_page	*base;
	struct rl_dbres			*r = NULL;
	const char			*rowid, *p[1], *field;
	int				 whole;
	enum rl_err			 err;

	if ((base = page_for(req)) == NULL)
		return rl_error_set(e, RL_EINTERNAL, "no page for %s",
		    req->route->pattern);
	if ((err = page_row(req, &rowid, e)) != RL_OK)
		return err;
	p[0] = rowid;
	if ((err = rl_db_exec("SELECT field_name FROM "
	    "plan_de_cours_prompt_settings WHERE id = $1", 1, p, &r, e)) !=
	    RL_OK)
		return err;
	if (rl_dbres_rows(r) != 1) {
		rl_dbres_free(r);
		return rl_error_set(e, RL_ENOTFOUND, "Prompt %s introuvable.",
		    rowid);
	}
	field = rl_dbres_get(r, 0, 0);
	whole = strcmp(field, "calendrier") == 0 || strcmp(field, "all") == 0;
	rl_dbres_free(r);
	pg = *base;
	pg.fields = whole ? pdc_fields : pdc_field_fields;
	pg.nfields = whole ? NF(pdc_fields) : NF(pdc_field_fields);
	(void)json_object_del(req->json, "context_variables");
	return post_page(req, &pg, rowid, req->json, e);
}

/*
 * POST /settings/plan-de-cours/prompts/test {template, context}: EDxo's
 * "Tester" button, str.format(**context) → {result}.  A fault is EDxo's
 * 400 {error}: "Variable manquante: 'name'" for a name the context lacks,
 * with the line, as the check at save time words the others.  The
 * context comes as an object (JSON) or as its JSON text (a form field).
 */
enum rl_err
settings_test_prompt(struct rl_req *req, struct rl_error *e)
{
	const char	*tmpl, *key, **names;
	json_t		*ctx, *own = NULL, *v;
	json_error_t	 je;
	char		*out = NULL, what[RL_ERRWHERE_MAX];
	size_t		 n = 0;
	int		 line;
	enum rl_err	 err;

	tmpl = json_string_value(json_object_get(req->json, "template"));
	ctx = json_object_get(req->json, "context");
	if (json_is_string(ctx) && (ctx = own = json_loads(json_string_value(
	    ctx), JSON_REJECT_DUPLICATES, &je)) == NULL)
		return settings_field_error(e, RL_EINVAL, "context",
		    "context : JSON invalide (%.100s)", je.text);
	if (ctx == NULL)
		ctx = own = json_object();
	if (!json_is_object(ctx)) {
		err = settings_field_error(e, RL_EINVAL, "context",
		    "context : un objet JSON est attendu");
		goto out;
	}
	if ((names = rl_arena_calloc(req->arena, json_object_size(ctx) + 1,
	    sizeof(*names))) == NULL) {
		err = rl_error_set(e, RL_ENOMEM, NULL);
		goto out;
	}
	json_object_foreach(ctx, key, v)
		names[n++] = key;
	/*
	 * First as any names would do, then with the context's: what fails
	 * only the second time is a name the context lacks.
	 */
	if ((err = rl_tmpl_check(tmpl, NULL, NULL, e)) != RL_OK) {
		if (err == RL_EINVAL)
			rl_error_where(e, "template");
		goto out;
	}
	if ((err = rl_tmpl_check(tmpl, names, &line, e)) != RL_OK) {
		if (err == RL_EINVAL) {
			(void)snprintf(what, sizeof(what), "%s", e->where);
			err = settings_field_error(e, RL_EINVAL, "template",
			    "Variable manquante: '%s' (ligne %d)", what, line);
		}
		goto out;
	}
	if ((err = rl_tmpl_format(tmpl, ctx, &out, e)) != RL_OK)
		goto out;
	err = rl_resp_json_new(req, 200, json_pack("{s:s}", "result", out));
out:
	free(out);
	json_decref(own);
	return err;
}

/*
 * A section's text_content is the Jinja template the plan-cadre task
 * renders (lib/plancadre.c).  Parse it now with the renderer's own parser
 * so that one that could never render (an unknown tag or filter, an
 * unclosed block, nesting past RL_TMPL_EXPR_DEPTH or RL_TMPL_BLOCK_DEPTH)
 * is a 400 naming the field, the section and the line, before anything
 * is written, instead of a failed generation later.
 */
static enum rl_err
check_section_text(const char *section, const char *prefix,
    const json_t *patch, struct rl_error *e)
{
	const json_t	*v;
	char		 where[96], why[RL_ERRMSG_MAX - 96];
	enum rl_err	 err;

	if (!json_is_string(v = json_object_get(patch, "text_content")))
		return RL_OK;
	if ((err = rl_jinja_check(json_string_value(v), e)) == RL_OK ||
	    err == RL_ENOMEM)
		return err;
	(void)snprintf(why, sizeof(why), "%.150s", e->msg);
	(void)snprintf(where, sizeof(where), "%stext_content", prefix);
	return settings_field_error(e, RL_EINVAL, where,
	    "Section « %.40s » : %s — champ %s", section, why, where);
}

/*
 * EDxo's page posts the 21 sections as one WTForms form: sections-N-use_ai
 * ("y" when ticked, absent when not) and sections-N-text_content, N in
 * EDxo's SECTIONS order, which is position - 1 here; its openai_key field
 * is shown, not saved.  Rewrite those into the JSON's {sections: [...]}:
 * a section with any of its two fields in the body is saved, use_ai false
 * when not given as a ticked box does, text_content stripped as WTForms
 * strips it.  *list is a new reference, or NULL when the body has none.
 */
static enum rl_err
form_sections(struct rl_req *req, json_t **list, struct rl_error *e)
{
	json_t		*names = NULL, *item, *v, *use, *text;
	char		 ukey[48], tkey[48];
	const char	*s;
	size_t		 i, len;
	enum rl_err	 err;

	*list = NULL;
	if ((err = rl_db_json("SELECT json_agg(section ORDER BY position) "
	    "FROM global_generation_settings", 0, NULL, &names, e)) != RL_OK)
		return err;
	if ((*list = json_array()) == NULL) {
		err = rl_error_set(e, RL_ENOMEM, NULL);
		goto out;
	}
	json_array_foreach(names, i, v) {
		(void)snprintf(ukey, sizeof(ukey), "sections-%zu-use_ai", i);
		(void)snprintf(tkey, sizeof(tkey), "sections-%zu-text_content",
		    i);
		use = json_object_get(req->json, ukey);
		text = json_object_get(req->json, tkey);
		if (use == NULL && text == NULL)
			continue;
		if ((item = json_pack("{s:O, s:b}", "section", v, "use_ai",
		    json_is_true(use))) == NULL ||
		    json_array_append_new(*list, item) == -1) {
			err = rl_error_set(e, RL_ENOMEM, NULL);
			goto out;
		}
		if ((s = json_string_value(text)) != NULL) {
			s += strspn(s, " \t\r\n");
			for (len = strlen(s); len > 0 &&
			    strchr(" \t\r\n", s[len - 1]) != NULL; len--)
				continue;
			text = json_stringn(s, len);
		} else if (text != NULL)
			text = json_null();
		if (text != NULL &&
		    json_object_set_new(item, "text_content", text) == -1) {
			err = rl_error_set(e, RL_ENOMEM, NULL);
			goto out;
		}
	}
	if (json_array_size(*list) == 0) {
		json_decref(*list);
		*list = NULL;
	}
out:
	if (err != RL_OK) {
		json_decref(*list);
		*list = NULL;
	}
	json_decref(names);
	return err;
}

/* GET /settings/plan_cadre: the 21 sections in EDxo's order. */
enum rl_err
settings_get_sections(struct rl_req *req, struct rl_error *e)
{
	json_t		*v;
	enum rl_err	 err;

	if ((err = rl_db_json(SECTIONS_GET, 0, NULL, &v, e)) != RL_OK)
		return err;
	return rl_resp_json_new(req, 200, v);
}

/*
 * POST /settings/plan_cadre {"sections": [{section, use_ai?,
 * text_content?}]} (request schema settings.plan_cadre): all or nothing,
 * in one transaction.  Every section is checked (its name against the
 * table, its text_content parsed as a template) before the transaction
 * opens, so a refusal writes nothing.
 */
enum rl_err
settings_post_sections(struct rl_req *req, struct rl_error *e)
{
	struct rl_dbres	*r = NULL;
	const char	*p[1], *name;
	const char	**ids = NULL;
	json_t		*list, *item, *rest = NULL, **patches = NULL;
	char		 where[64];
	size_t		 i, n = 0;
	enum rl_err	 err = RL_OK;

	if ((list = json_object_get(req->json, "sections")) != NULL)
		json_incref(list);
	else if ((err = form_sections(req, &list, e)) != RL_OK)
		return err;
	if (list == NULL)
		return settings_field_error(e, RL_EINVAL, "sections",
		    "sections : aucune section (sections ou "
		    "sections-N-text_content, sections-N-use_ai)");
	n = json_array_size(list);
	if ((patches = calloc(n + 1, sizeof(*patches))) == NULL ||
	    (ids = rl_arena_calloc(req->arena, n + 1, sizeof(*ids))) ==
	    NULL) {
		free(patches);
		json_decref(list);
		return rl_error_set(e, RL_ENOMEM, NULL);
	}
	json_array_foreach(list, i, item) {
		(void)snprintf(where, sizeof(where), "sections[%zu].", i);
		name = json_string_value(json_object_get(item, "section"));
		p[0] = name;
		if ((err = rl_db_exec("SELECT id FROM "
		    "global_generation_settings WHERE section = $1", 1, p, &r,
		    e)) != RL_OK)
			goto out;
		if (rl_dbres_rows(r) == 0) {
			rl_dbres_free(r);
			r = NULL;
			(void)snprintf(where, sizeof(where),
			    "sections[%zu].section", i);
			err = settings_field_error(e, RL_EINVAL, where,
			    "%s: unknown section \"%.64s\"", where, name);
			goto out;
		}
		ids[i] = rl_arena_strdup(req->arena, rl_dbres_get(r, 0, 0));
		rl_dbres_free(r);
		r = NULL;
		if (ids[i] == NULL || (rest = json_deep_copy(item)) == NULL) {
			err = rl_error_set(e, RL_ENOMEM, NULL);
			goto out;
		}
		(void)json_object_del(rest, "section");
		err = settings_validate(&section_page, where, rest,
		    &patches[i], e);
		json_decref(rest);
		if (err != RL_OK ||
		    (err = check_section_text(name, where, patches[i], e)) !=
		    RL_OK)
			goto out;
	}
	if ((err = save(req, &section_page, ids, patches, n, e)) != RL_OK)
		goto out;
	err = settings_get_sections(req, e);
out:
	for (i = 0; i < n; i++)
		json_decref(patches[i]);
	free(patches);
	json_decref(list);
	return err;
}

/*
 * Per-feature AI settings: EDxo L/H's SectionAISettings pages, one
 * section_ai_settings row each (sql/0001_init.sql), which the features
 * read at each call (lib/gen.c rl_generation_settings, chat.c,
 * evaluation.c, lib/edxo/pdc.c and imports.c): an admin's change is
 * what the next task sends.  The row's key is its section, so the audit
 * names it.  /settings/analyse/ai is ours: EDxo edits that section from
 * /settings/analyse_prompt, whose answer here is the prompt's alone.
 */
static const struct {
	const char	*path;
	const char	*section;
} ai_pages[] = {
	{ "/settings/plan-de-cours/ai", "plan_de_cours" },
	{ "/settings/plan-de-cours/ai-improve", "plan_de_cours_improve" },
	{ "/settings/plan-de-cours/ai-import", "plan_de_cours_import" },
	{ "/settings/plan-cadre/ai", "plan_cadre" },
	{ "/settings/plan-cadre/ai-improve", "plan_cadre_improve" },
	{ "/settings/plan-cadre/ai-import", "plan_cadre_import" },
	{ "/settings/logigramme/ai", "logigramme" },
	{ "/settings/grille/ai", "grille" },
	{ "/settings/grille/ai-import", "grille_import" },
	{ "/settings/ocr/ai", "ocr" },
	{ "/settings/chat/ai", "chat" },
	{ "/settings/evaluation/ai", "evaluation" },
	{ "/settings/analyse/ai", "analyse_plan_cours" },
};

/*
 * The pages that show several sections, each under its form's prefix
 * (EDxo's WTForms prefix="gen" posts gen-system_prompt, ...).
 */
#define AI_GROUP_MAX	3
static const struct {
	const char	*path;
	size_t		 n;
	const char	*prefix[AI_GROUP_MAX];
	const char	*section[AI_GROUP_MAX];
} ai_groups[] = {
	{ "/settings/plan-cadre/prompts", 3, { "gen", "impv", "impt" },
	    { "plan_cadre", "plan_cadre_improve", "plan_cadre_import" } },
	{ "/settings/grille", 2, { "gen", "imp" },
	    { "grille", "grille_import", NULL } },
};

static const struct settings_page ai_page = {
	NULL, "section_ai_settings",
	"SELECT json_build_object('section', section, 'system_prompt', "
	"system_prompt, 'ai_model', ai_model, 'reasoning_effort', "
	"reasoning_effort, 'verbosity', verbosity) FROM section_ai_settings "
	"WHERE section = $1",
	"INSERT INTO section_ai_settings (section) VALUES ($1) "
	"ON CONFLICT (section) DO NOTHING",
	"SELECT to_jsonb(r) FROM section_ai_settings r WHERE section = $1 "
	"FOR UPDATE",
	"UPDATE section_ai_settings r SET (system_prompt, ai_model, "
	"reasoning_effort, verbosity, updated_at) = (SELECT n.system_prompt, "
	"n.ai_model, n.reasoning_effort, n.verbosity, now() FROM "
	"jsonb_populate_record(r, $1::jsonb) n) WHERE r.section = $2 "
	"RETURNING to_jsonb(r)",
	ai_fields, NF(ai_fields), 0, NULL
};

static const char *
ai_section_for(const struct rl_req *req)
{
	int	 i = ROW_FOR(req, ai_pages);

	return i == -1 ? NULL : ai_pages[i].section;
}

/*
 * A section's row as JSON (a new reference in *out), made if an
 * operator deleted it: the features then read nulls, their defaults.
 */
static enum rl_err
ai_row(const char *section, json_t **out, struct rl_error *e)
{
	const char	*p[1];
	enum rl_err	 err;

	p[0] = section;
	*out = NULL;
	if ((err = rl_db_exec(ai_page.seed_sql, 1, p, NULL, e)) != RL_OK ||
	    (err = rl_db_json(ai_page.get_sql, 1, p, out, e)) != RL_OK)
		return err;
	if (!json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		return rl_error_set(e, RL_EINTERNAL, "no section_ai_settings "
		    "row %s", section);
	}
	return RL_OK;
}

/* GET /settings/<feature>/ai: the section's four settings. */
enum rl_err
settings_get_ai(struct rl_req *req, struct rl_error *e)
{
	const char	*section;
	json_t		*v;
	enum rl_err	 err;

	if ((section = ai_section_for(req)) == NULL)
		return rl_error_set(e, RL_EINTERNAL, "no section for %s",
		    req->route->pattern);
	if ((err = ai_row(section, &v, e)) != RL_OK)
		return err;
	return rl_resp_json_new(req, 200, v);
}

/*
 * POST /settings/<feature>/ai (request schema settings.section_ai): any
 * subset of the four, as JSON or EDxo's form; "" (the form's "— par
 * défaut —") and null are the feature's default.
 */
enum rl_err
settings_post_ai(struct rl_req *req, struct rl_error *e)
{
	const char	*section;
	json_t		*patch = NULL, *v;
	enum rl_err	 err;

	if ((section = ai_section_for(req)) == NULL)
		return rl_error_set(e, RL_EINTERNAL, "no section for %s",
		    req->route->pattern);
	if ((err = settings_validate(&ai_page, "", req->json, &patch, e)) !=
	    RL_OK)
		return err;
	if ((err = ai_row(section, &v, e)) != RL_OK)
		goto out;
	json_decref(v);
	if ((err = save(req, &ai_page, &section, &patch, 1, e)) != RL_OK)
		goto out;
	err = settings_get_ai(req, e);
out:
	json_decref(patch);
	return err;
}

/* {prefix: row, ...} of a group page. */
static enum rl_err
ai_group_answer(struct rl_req *req, int g, struct rl_error *e)
{
	json_t		*out, *v;
	size_t		 i;
	enum rl_err	 err;

	if ((out = json_object()) == NULL)
		return rl_error_set(e, RL_ENOMEM, NULL);
	for (i = 0; i < ai_groups[g].n; i++) {
		if ((err = ai_row(ai_groups[g].section[i], &v, e)) != RL_OK) {
			json_decref(out);
			return err;
		}
		if (json_object_set_new(out, ai_groups[g].prefix[i], v) ==
		    -1) {
			json_decref(out);
			return rl_error_set(e, RL_ENOMEM, NULL);
		}
	}
	return rl_resp_json_new(req, 200, out);
}

/* GET /settings/plan-cadre/prompts and GET /settings/grille. */
enum rl_err
settings_get_ai_group(struct rl_req *req, struct rl_error *e)
{
	int	 g;

	if ((g = ROW_FOR(req, ai_groups)) == -1)
		return rl_error_set(e, RL_EINTERNAL, "no group for %s",
		    req->route->pattern);
	return ai_group_answer(req, g, e);
}

/*
 * POST /settings/grille (request schema settings.grille): EDxo's page
 * posts both sections in one form, gen-system_prompt, ..., imp-verbosity;
 * JSON may send the same keys, or {gen: {...}, imp: {...}}.  Both
 * sections are checked before either is written, and written together.
 */
enum rl_err
settings_post_ai_group(struct rl_req *req, struct rl_error *e)
{
	json_t		*body[AI_GROUP_MAX], *patch[AI_GROUP_MAX], *v;
	const char	*key, *pre;
	char		 where[32];
	size_t		 i, n, len;
	int		 g;
	enum rl_err	 err = RL_OK;

	if ((g = ROW_FOR(req, ai_groups)) == -1)
		return rl_error_set(e, RL_EINTERNAL, "no group for %s",
		    req->route->pattern);
	n = ai_groups[g].n;
	memset(body, 0, sizeof(body));
	memset(patch, 0, sizeof(patch));
	for (i = 0; i < n; i++) {
		pre = ai_groups[g].prefix[i];
		len = strlen(pre);
		v = json_object_get(req->json, pre);
		if ((body[i] = v != NULL ? json_deep_copy(v) :
		    json_object()) == NULL) {
			err = rl_error_set(e, RL_ENOMEM, NULL);
			goto out;
		}
		json_object_foreach(req->json, key, v)
			if (strncmp(key, pre, len) == 0 && key[len] == '-' &&
			    json_object_set(body[i], key + len + 1, v) == -1) {
				err = rl_error_set(e, RL_ENOMEM, NULL);
				goto out;
			}
		(void)snprintf(where, sizeof(where), "%s-", pre);
		if ((err = settings_validate(&ai_page, where, body[i],
		    &patch[i], e)) != RL_OK ||
		    (err = ai_row(ai_groups[g].section[i], &v, e)) != RL_OK)
			goto out;
		json_decref(v);
	}
	if ((err = save(req, &ai_page, ai_groups[g].section, patch, n, e)) !=
	    RL_OK)
		goto out;
	err = ai_group_answer(req, g, e);
out:
	for (i = 0; i < AI_GROUP_MAX; i++) {
		json_decref(body[i]);
		json_decref(patch[i]);
	}
	return err;
}

/* GET /settings/openai_models: prices as exact decimal strings. */
enum rl_err
settings_get_models(struct rl_req *req, struct rl_error *e)
{
	json_t		*v;
	enum rl_err	 err;

	if ((err = rl_db_json("SELECT json_build_object('models', "
	    "coalesce(json_agg(" MODEL_JSON " ORDER BY name), '[]')) "
	    "FROM openai_models", 0, NULL, &v, e)) != RL_OK)
		return err;
	return rl_resp_json_new(req, 200, v);
}

/*
 * A price: numeric(12,6), so six digits on each side of the point.  The
 * request schema leaves its type to us (see settings.openai_models): a
 * decimal string or a JSON number, or null where nullable.
 */
static enum rl_err
price(const json_t *body, const char *name, int nullable, char *buf,
    size_t sz, const char **out, struct rl_error *e)
{
	const json_t	*v = json_object_get(body, name);

	*out = NULL;
	if (v == NULL || (nullable && json_is_null(v)))
		return RL_OK;
	if (settings_decimal(v, 6, 6, buf, sz) == -1)
		return settings_field_error(e, RL_EINVAL, name, "%s: want a "
		    "price >= 0 in USD per 1M tokens, at most 6 decimals",
		    name);
	*out = buf;
	return RL_OK;
}

#define ALNUM	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" \
		    "0123456789"

/* The model name rule of the openai_models CHECK, so a 400 comes first. */
static int
model_name_ok(const char *s)
{
	size_t	 n = strlen(s);

	return n >= 1 && n <= 64 && strchr(ALNUM, s[0]) != NULL &&
	    strspn(s, ALNUM "._:-") == n;
}

/*
 * POST /settings/openai_models: add one model (201).  Request schema
 * settings.openai_models: name and both prices given, nothing else.
 */
enum rl_err
settings_post_model(struct rl_req *req, struct rl_error *e)
{
	const char	*p[4], *name;
	char		 in[32], outp[32], cached[32];
	json_t		*row = NULL;
	enum rl_err	 err;

	name = json_string_value(json_object_get(req->json, "name"));
	if (name == NULL || !model_name_ok(name))
		return settings_field_error(e, RL_EINVAL, "name", "name: want "
		    "letters, digits and . _ : - (64 at most)");
	if ((err = price(req->json, "input_price", 0, in, sizeof(in), &p[1],
	    e)) != RL_OK ||
	    (err = price(req->json, "output_price", 0, outp, sizeof(outp),
	    &p[2], e)) != RL_OK ||
	    (err = price(req->json, "cached_input_price", 1, cached,
	    sizeof(cached), &p[3], e)) != RL_OK)
		return err;
	p[0] = name;
	if ((err = rl_db_begin(e)) != RL_OK)
		return err;
	if ((err = rl_db_json("INSERT INTO openai_models (name, input_price, "
	    "output_price, cached_input_price) VALUES ($1, $2, $3, $4) "
	    "ON CONFLICT (name) DO NOTHING RETURNING " MODEL_JSON, 4, p,
	    &row, e)) != RL_OK) {
		/* The one CHECK validation leaves to SQL: numeric compare. */
		if (err == RL_ECONFLICT && strcmp(e->sqlstate, "23514") == 0)
			err = settings_field_error(e, RL_EINVAL,
			    "cached_input_price", "cached_input_price may not "
			    "exceed input_price");
		goto fail;
	}
	if (json_is_null(row)) {
		err = settings_field_error(e, RL_ECONFLICT, "name",
		    "a model named %s already exists", name);
		goto fail;
	}
	if ((err = settings_audit(req, "openai_models",
	    json_string_value(json_object_get(row, "name")), NULL, NULL, row,
	    e)) != RL_OK || (err = rl_db_commit(e)) != RL_OK)
		goto fail;
	return rl_resp_json_new(req, 201, row);
fail:
	rl_db_rollback();
	json_decref(row);
	return err;
}

/* POST /settings/openai_models/delete/<int:id> */
enum rl_err
settings_delete_model(struct rl_req *req, struct rl_error *e)
{
	const char	*p[1];
	long long	 id;
	json_t		*row = NULL;
	enum rl_err	 err;

	if ((err = rl_req_param_int(req, "id", &id, e)) != RL_OK)
		return err;
	p[0] = settings_id_string(req, id);
	if ((err = rl_db_begin(e)) != RL_OK)
		return err;
	if ((err = rl_db_json("DELETE FROM openai_models WHERE id = $1 "
	    "RETURNING " MODEL_JSON, 1, p, &row, e)) != RL_OK)
		goto fail;
	if (json_is_null(row)) {
		err = rl_error_set(e, RL_ENOTFOUND, "no model %lld", id);
		goto fail;
	}
	if ((err = settings_audit(req, "openai_models",
	    json_string_value(json_object_get(row, "name")), NULL, row, NULL,
	    e)) != RL_OK || (err = rl_db_commit(e)) != RL_OK)
		goto fail;
	json_decref(row);
	return rl_resp_json_new(req, 200, json_pack("{s:b}", "success", 1));
fail:
	rl_db_rollback();
	json_decref(row);
	return err;
}

/*
 * GET /settings/usage?days=N: upstream calls of the last N days from the
 * ledger (request schema settings.usage: 1 to 36500, 30 when not given).
 * Costs stay numeric until to text, with six decimals.
 */
#define USAGE_WHERE							\
	"kind = 'openai_call' AND created_at > now() - "		\
	    "make_interval(days => $1::int)"
#define COST	"coalesce(sum(cost), 0)::numeric(20,6)::text"

enum rl_err
settings_get_usage(struct rl_req *req, struct rl_error *e)
{
	const char	*p[1];
	json_t		*out;
	enum rl_err	 err;

	p[0] = settings_id_string(req,
	    json_integer_value(json_object_get(req->json, "days")));
	if ((err = rl_db_json("SELECT json_build_object("
	    "'days', $1::int, "
	    "'by_user', (SELECT coalesce(json_agg(json_build_object("
	    "'user_id', l.user_id, 'username', u.username, 'calls', l.calls, "
	    "'cost', l.cost) ORDER BY l.user_id), '[]') FROM (SELECT user_id, "
	    "count(*) AS calls, " COST " AS cost FROM usage_ledger WHERE "
	    USAGE_WHERE " GROUP BY user_id) l JOIN users u ON "
	    "u.id = l.user_id), "
	    "'by_model', (SELECT coalesce(json_agg(x ORDER BY x.model), '[]') "
	    "FROM (SELECT model, count(*) AS calls, sum(input_tokens) AS "
	    "input_tokens, sum(output_tokens) AS output_tokens, " COST
	    " AS cost FROM usage_ledger WHERE " USAGE_WHERE
	    " GROUP BY model) x), "
	    "'by_feature', (SELECT coalesce(json_agg(x ORDER BY x.feature), "
	    "'[]') FROM (SELECT coalesce(feature, route, 'unknown') AS "
	    "feature, "
	    "count(*) AS calls, " COST " AS cost FROM usage_ledger WHERE "
	    USAGE_WHERE " GROUP BY 1) x), "
	    "'total', (SELECT json_build_object('calls', count(*), 'cost', "
	    COST ") FROM usage_ledger WHERE " USAGE_WHERE "))", 1, p, &out,
	    e)) != RL_OK)
		return err;
	return rl_resp_json_new(req, 200, out);
}

/*
 * Seal key, the value of the body's field, for a *_enc column: *hex (to
 * free) is the box in hex.  Keys are printable ASCII without spaces;
 * anything else is a paste gone wrong, refused on the field.
 */
enum rl_err
settings_seal_key(const char *field, const char *key, char **hex,
    struct rl_error *e)
{
	unsigned char	*box;
	size_t		 i, len = strlen(key), boxlen;
	enum rl_err	 err;

	*hex = NULL;
	if (len < SETTINGS_KEY_MIN || len > SETTINGS_KEY_MAX)
		return settings_field_error(e, RL_EINVAL, field, "%s: want %d "
		    "to %d characters", field, SETTINGS_KEY_MIN,
		    SETTINGS_KEY_MAX);
	for (i = 0; i < len; i++)
		if (key[i] <= ' ' || key[i] > '~')
			return settings_field_error(e, RL_EINVAL, field, "%s: "
			    "printable characters only, no spaces", field);
	if ((err = rl_secretbox_seal(key, len, &box, &boxlen, e)) != RL_OK)
		return err;
	if ((*hex = malloc(2 * boxlen + 1)) == NULL)
		err = rl_error_set(e, RL_ENOMEM, NULL);
	else
		rl_hex_encode(box, boxlen, *hex);
	free(box);
	return err;
}
