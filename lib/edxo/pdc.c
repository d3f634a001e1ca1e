/*
 * pdc.c: EDxo's plan-de-cours generation features (pdc.h).
 *
 * The routes of the plandecours program and the tasks of relais-worker
 * share everything here, so that a synchronous call and its task version
 * build the same prompt, ask with the same schema and read the answer the
 * same way.  Tasks never write the plan: they return a preview (new values
 * next to the old ones) that the review's confirm writes with
 * rl_pdc_apply, in one transaction, as EDxo L/H does; the import task of
 * the import program produces the same keys and is applied the same way.
 */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "db.h"
#include "edxo.h"
#include "gen.h"
#include "pdc.h"
#include "schema.h"
#include "tmpl.h"
#include "worker.h"

const char *const rl_pdc_fields[] = {
	"presentation_du_cours", "objectif_terminal_du_cours",
	"organisation_et_methodes", "accomodement",
	"evaluation_formative_apprentissages",
	"evaluation_expression_francais", "materiel", "seuil_reussite",
};
const size_t rl_pdc_nfields = sizeof(rl_pdc_fields) /
    sizeof(rl_pdc_fields[0]);

/* The teacher columns an import preview carries besides the sections. */
static const char *const teacher_fields[] = {
	"nom_enseignant", "telephone_enseignant", "courriel_enseignant",
	"bureau_enseignant",
};
#define NTEACHER	(sizeof(teacher_fields) / sizeof(teacher_fields[0]))

/* The plan-cadre's text columns, with the labels of the {sections} text. */
static const struct {
	const char	*key;
	const char	*label;
} cadre_texts[] = {
	{ "place_intro", "Place et rôle du cours" },
	{ "objectif_terminal", "Objectif terminal" },
	{ "structure_intro", "Introduction à la structure du cours" },
	{ "structure_activites_theoriques", "Activités théoriques" },
	{ "structure_activites_pratiques", "Activités pratiques" },
	{ "structure_activites_prevues", "Activités prévues" },
	{ "eval_evaluation_sommative", "Évaluation sommative" },
	{ "eval_nature_evaluations_sommatives",
	    "Nature des évaluations sommatives" },
	{ "eval_evaluation_de_la_langue", "Évaluation de la langue" },
	{ "eval_evaluation_sommatives_apprentissages",
	    "Évaluation formative des apprentissages" },
};
#define NCADRE		(sizeof(cadre_texts) / sizeof(cadre_texts[0]))

/* The plan-cadre's lists passed to templates as joined texte. */
static const char *const cadre_lists[] = {
	"savoirs_etre", "objets_cibles", "cours_relies", "cours_prealables",
	"cours_corequis", "competences_certifiees", "competences_developpees",
};
#define NLISTS		(sizeof(cadre_lists) / sizeof(cadre_lists[0]))

static const char *const task_names[RL_PDC__MAX] = {
	RL_PDC_TASK_FIELD, RL_PDC_TASK_CALENDAR, RL_PDC_TASK_EVALUATIONS,
	RL_PDC_TASK_ALL, RL_PDC_TASK_ANALYSE,
};

/* Ledger features, in enum order. */
static const char *const features[RL_PDC__MAX] = {
	"plan_de_cours.field", "plan_de_cours.calendar",
	"plan_de_cours.evaluations", "plan_de_cours.all",
	"plan_de_cours.analyse",
};

/*
 * EDxo's build_all_prompt default, used when no 'all' row exists (EDxo
 * reads one when present but never seeds it).
 */
static const char default_all[] =
    "Tu rédiges le plan de cours du cours {cours_code} {cours_nom} pour la "
    "session {session}, en français, pour un cégep québécois. À partir du "
    "plan-cadre ci-dessous, rédige la présentation du cours, l'objectif "
    "terminal, l'organisation et les méthodes pédagogiques, les mesures "
    "d'accommodement, l'évaluation formative, l'évaluation de l'expression "
    "en français et le matériel requis, puis le calendrier des 15 semaines "
    "et les évaluations sommatives (titre, description, semaine, capacités "
    "évaluées avec leur pondération, en reprenant exactement les libellés "
    "des capacités).\n\nPlan-cadre :\n{sections}";

/*
 * A field without its own prompt row (materiel is not seeded in EDxo):
 * the improve task still has something sensible to send.
 */
static const char default_field[] =
    "Rédige la section « {field_name} » du plan de cours du cours "
    "{cours_code} {cours_nom} pour la session {session}, en français, en "
    "restant fidèle au plan-cadre. Améliore le texte actuel s'il existe :\n"
    "{current_value}";

#define DEFAULT_MODEL	"gpt-5"
/* The verifier's first pass when no model is configured (EDxo B). */
#define VERIFY_PASS1_MODEL	"o3-mini"

/*
 * Text built in code for a prompt.  The prompt itself is refused past
 * RL_TMPL_MAX, like a templated one.  The {sections} text goes into the
 * context of every template, also those that leave it out, so it is not
 * held to the prompt's cap; its bound only stops runaway growth.
 */
#define SECTIONS_MAX	(16 * (size_t)RL_TMPL_MAX)

/* Append s; NULL (a missing member) appends nothing. */
static void
sb_str(struct rl_buf *b, const char *s)
{

	if (s != NULL)
		(void)rl_buf_addstr(b, s);
}

static const char *
str(const json_t *o, const char *key)
{

	return json_string_value(json_object_get(o, key));
}

static char *
dupornull(const char *s)
{

	return s != NULL ? strdup(s) : NULL;
}

int
rl_pdc_field_ok(const char *name)
{
	size_t	 i;

	for (i = 0; name != NULL && i < rl_pdc_nfields; i++)
		if (strcmp(name, rl_pdc_fields[i]) == 0)
			return 1;
	return 0;
}

const char *
rl_pdc_task_name(enum rl_pdc_kind k)
{

	return k < RL_PDC__MAX ? task_names[k] : NULL;
}

/* ------------------------------------------------------------------ */
/* Capacity resolution (pure).                                          */
/* ------------------------------------------------------------------ */

/*
 * Latin-1 supplement letters (two UTF-8 bytes, C3 xx) to their base
 * letter, lower case; 0 for the ones that are not letters.
 */
static char
fold_c3(unsigned char c)
{
	static const char	 map[64] =
	    "aaaaaaaceeeeiiii"		/* 80-8F: À..Ï */
	    "dnooooo\0ouuuuy\0s"	/* 90-9F: Ð..ß */
	    "aaaaaaaceeeeiiii"		/* A0-AF: à..ï */
	    "dnooooo\0ouuuuy\0y";	/* B0-BF: ð..ÿ */

	return c >= 0x80 && c <= 0xbf ? map[c - 0x80] : 0;
}

void
rl_pdc_normalize(const char *in, char *out, size_t outsz)
{
	const unsigned char	*p = (const unsigned char *)in;
	size_t			 n = 0;
	int			 space = 1;	/* drop leading spaces */
	char			 c;

	if (outsz == 0)
		return;
	for (; p != NULL && *p != '\0' && n + 1 < outsz; p++) {
		c = 0;
		if (*p == 0xc3 && p[1] != '\0') {
			c = fold_c3(p[1]);
			p++;
		} else if (*p == 0xc5 && (p[1] == 0x93 || p[1] == 0x92)) {
			c = 'o';	/* œ, Œ: "oe" would not fit a byte */
			p++;
		} else if (*p < 0x80 && isalnum(*p))
			c = (char)tolower(*p);
		else if (*p >= 0x80)
			continue;	/* other non-ASCII: dropped */
		if (c != 0) {
			out[n++] = c;
			space = 0;
		} else if (!space) {
			out[n++] = ' ';
			space = 1;
		}
	}
	if (n > 0 && out[n - 1] == ' ')
		n--;
	out[n] = '\0';
}

/* The ordinal of "capacite N", "cap N", "c N" (0: not an alias). */
static long
alias_ordinal(const char *norm)
{
	static const char *const prefixes[] = { "capacite ", "cap ", "c " };
	const char	*p;
	char		*end;
	long		 v;
	size_t		 i;

	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		if (strncmp(norm, prefixes[i], strlen(prefixes[i])) != 0)
			continue;
		p = norm + strlen(prefixes[i]);
		if (!isdigit((unsigned char)*p))
			continue;
		v = strtol(p, &end, 10);
		if (*end == '\0' && v > 0 && v < 1000)
			return v;
	}
	return 0;
}

/* Does the word list s contain the number n as a word? */
static int
has_number(const char *s, const char *n)
{
	size_t	 len = strlen(n);
	const char *p = s;

	while ((p = strstr(p, n)) != NULL) {
		if ((p == s || p[-1] == ' ') &&
		    (p[len] == '\0' || p[len] == ' '))
			return 1;
		p += len;
	}
	return 0;
}

/*
 * The distinct words of a normalised string (single spaces, no leading or
 * trailing one), cut in place; returns how many.
 */
static size_t
words(char *s, const char **w, size_t max)
{
	size_t	 n = 0, i;
	char	*p = s, *sp;

	while (*p != '\0' && n < max) {
		if ((sp = strchr(p, ' ')) != NULL)
			*sp = '\0';
		for (i = 0; i < n && strcmp(w[i], p) != 0; i++)
			continue;
		if (i == n)
			w[n++] = p;
		if (sp == NULL)
			break;
		p = sp + 1;
	}
	return n;
}

/* Token Jaccard similarity of two normalised strings. */
static double
jaccard(const char *a, const char *b)
{
	char		 ta[RL_PDC_LABEL_MAX], tb[RL_PDC_LABEL_MAX];
	const char	*wa[128], *wb[128];
	size_t		 na, nb, i, j, inter = 0, uni;

	(void)snprintf(ta, sizeof(ta), "%s", a);
	(void)snprintf(tb, sizeof(tb), "%s", b);
	na = words(ta, wa, 128);
	nb = words(tb, wb, 128);
	for (i = 0; i < na; i++)
		for (j = 0; j < nb; j++)
			if (strcmp(wa[i], wb[j]) == 0) {
				inter++;
				break;
			}
	uni = na + nb - inter;
	return uni == 0 ? 0.0 : (double)inter / (double)uni;
}

long long
rl_pdc_capacity_resolve(const char *label, const json_t *caps)
{
	char		 want[RL_PDC_LABEL_MAX], t[RL_PDC_LABEL_MAX];
	char		 d[RL_PDC_LABEL_MAX], td[2 * RL_PDC_LABEL_MAX];
	const json_t	*k;
	size_t		 i, n;
	long		 ord;
	double		 best = 0.0, s;
	long long	 bestid = 0;
	int		 pass;

	if (label == NULL || !json_is_array(caps) ||
	    strlen(label) >= RL_PDC_LABEL_MAX)
		return 0;
	rl_pdc_normalize(label, want, sizeof(want));
	if (want[0] == '\0')
		return 0;
	n = json_array_size(caps);
	/* Exact: title, description, "title description". */
	for (pass = 0; pass < 3; pass++)
		json_array_foreach(caps, i, k) {
			rl_pdc_normalize(str(k, "capacite"), t, sizeof(t));
			rl_pdc_normalize(str(k, "description_capacite"), d,
			    sizeof(d));
			(void)snprintf(td, sizeof(td), "%s %s", t, d);
			if ((pass == 0 && strcmp(want, t) == 0) ||
			    (pass == 1 && d[0] != '\0' &&
			    strcmp(want, d) == 0) ||
			    (pass == 2 && strcmp(want, td) == 0))
				return json_integer_value(json_object_get(k,
				    "id"));
		}
	/* Ordinal aliases: "capacité 2" is the second capacité. */
	if ((ord = alias_ordinal(want)) > 0)
		return (size_t)ord <= n ? json_integer_value(json_object_get(
		    json_array_get(caps, (size_t)ord - 1), "id")) : 0;
	/* A bare number found as a word of one title. */
	if (strspn(want, "0123456789") == strlen(want))
		json_array_foreach(caps, i, k) {
			rl_pdc_normalize(str(k, "capacite"), t, sizeof(t));
			if (has_number(t, want))
				return json_integer_value(json_object_get(k,
				    "id"));
		}
	/* Substring either way, for labels long enough to mean it. */
	if (strlen(want) >= RL_PDC_SUBSTRING_MIN)
		json_array_foreach(caps, i, k) {
			rl_pdc_normalize(str(k, "capacite"), t, sizeof(t));
			if (strlen(t) >= RL_PDC_SUBSTRING_MIN &&
			    (strstr(t, want) != NULL ||
			    strstr(want, t) != NULL))
				return json_integer_value(json_object_get(k,
				    "id"));
		}
	/* The most similar title, if similar enough. */
	json_array_foreach(caps, i, k) {
		rl_pdc_normalize(str(k, "capacite"), t, sizeof(t));
		if ((s = jaccard(want, t)) >= 0.5 && s > best) {
			best = s;
			bestid = json_integer_value(json_object_get(k, "id"));
		}
	}
	return bestid;
}

/* ------------------------------------------------------------------ */
/* Loading.                                                             */
/* ------------------------------------------------------------------ */

/* The evaluations of plan "d" with their capacités (old_evaluations). */
#define SQL_EVALUATIONS							\
	RL_SQL_LIST("json_build_object('id', v.id, "			\
	"'titre_evaluation', v.titre_evaluation, "			\
	"'titre', v.titre_evaluation, 'description', v.description, "	\
	"'semaine', v.semaine, 'capacites', "				\
	RL_SQL_LIST("json_build_object('capacite_id', ec.capacite_id, " \
	"'capacite', kk.capacite, 'ponderation', ec.ponderation) "	\
	"ORDER BY ec.id", "FROM plan_de_cours_evaluations_capacites ec " \
	"LEFT JOIN plan_cadre_capacites kk ON kk.id = ec.capacite_id "	\
	"WHERE ec.evaluation_id = v.id") ") ORDER BY v.id",		\
	"FROM plan_de_cours_evaluations v WHERE v.plan_de_cours_id = d.id")

static const char sql_load[] =
    "SELECT json_build_object("
    "'cours', json_build_object('id', c.id, 'code', c.code, 'nom', c.nom), "
    "'cadre', (SELECT " RL_SQL_PLAN_CADRE_DICT " FROM plan_cadre pc "
    "WHERE pc.cours_id = c.id), "
    "'plan', (SELECT json_build_object('id', d.id, 'session', d.session, "
    "'dict', " RL_SQL_PLAN_DE_COURS_DICT ", "
    "'evaluations', " SQL_EVALUATIONS ") FROM plan_de_cours d "
    "WHERE d.cours_id = c.id AND CASE WHEN $5::bigint IS NULL "
    "THEN d.session = $4::text ELSE d.id = $5::bigint END)) "
    "FROM cours c WHERE c.id = coalesce($3::bigint, "
    "(SELECT x.cours_id FROM plan_de_cours x WHERE x.id = $5::bigint)) "
    "AND " RL_SQL_SEE_COURS("c.id");

enum rl_err
rl_pdc_load(long long user_id, int admin, long long plan_id,
    long long cours_id, const char *session, struct rl_pdc *p,
    struct rl_error *e)
{
	const char	*prm[5];
	char		 uid[32], cid[32], pid[32];
	json_t		*v = NULL, *plan;
	enum rl_err	 err;

	memset(p, 0, sizeof(*p));
	(void)snprintf(uid, sizeof(uid), "%lld", user_id);
	(void)snprintf(cid, sizeof(cid), "%lld", cours_id);
	(void)snprintf(pid, sizeof(pid), "%lld", plan_id);
	prm[0] = uid;
	prm[1] = admin ? "t" : "f";
	prm[2] = plan_id > 0 ? NULL : cid;
	prm[3] = plan_id > 0 ? NULL : session;
	prm[4] = plan_id > 0 ? pid : NULL;
	if ((err = rl_db_json(sql_load, 5, prm, &v, e)) != RL_OK)
		return err;
	if (json_is_null(v)) {
		json_decref(v);
		return rl_error_set(e, RL_ENOTFOUND, plan_id > 0 ?
		    "Plan de cours introuvable." : "Cours non trouvé.");
	}
	plan = json_object_get(v, "plan");
	p->cours = json_incref(json_object_get(v, "cours"));
	p->cadre = json_incref(json_object_get(v, "cadre"));
	p->cours_id = json_integer_value(json_object_get(p->cours, "id"));
	if (json_is_object(plan)) {
		p->plan = json_incref(json_object_get(plan, "dict"));
		p->evaluations = json_incref(json_object_get(plan,
		    "evaluations"));
		p->plan_id = json_integer_value(json_object_get(plan, "id"));
		(void)snprintf(p->session, sizeof(p->session), "%s",
		    str(plan, "session"));
	} else {
		p->plan = json_null();
		p->evaluations = json_array();
		if (session != NULL)
			(void)snprintf(p->session, sizeof(p->session), "%s",
			    session);
	}
	json_decref(v);
	if (p->cours == NULL || p->cadre == NULL || p->plan == NULL ||
	    p->evaluations == NULL) {
		rl_pdc_free(p);
		return rl_error_set(e, RL_ENOMEM, "out of memory");
	}
	return RL_OK;
}

void
rl_pdc_free(struct rl_pdc *p)
{

	json_decref(p->cours);
	json_decref(p->cadre);
	json_decref(p->plan);
	json_decref(p->evaluations);
	p->cours = p->cadre = p->plan = p->evaluations = NULL;
}

/* ------------------------------------------------------------------ */
/* Prompts.                                                             */
/* ------------------------------------------------------------------ */

/* [texte, ...] of a plan-cadre list (key "texte" or "capacite"). */
static json_t *
texts(const json_t *list, const char *key)
{
	json_t		*a = json_array();
	const json_t	*x;
	size_t		 i;

	json_array_foreach(list, i, x)
		if (str(x, key) != NULL)
			(void)json_array_append_new(a, json_string(str(x,
			    key)));
	return a;
}

/* "a; b; c" of a list of {texte}. */
static void
sb_join(struct rl_buf *b, const json_t *list, const char *key)
{
	const json_t	*x;
	size_t		 i, n = 0;

	json_array_foreach(list, i, x) {
		if (str(x, key) == NULL)
			continue;
		if (n++ > 0)
			sb_str(b, "; ");
		sb_str(b, str(x, key));
	}
}

/*
 * The {sections} text of EDxo's calendar_generator and build_all_prompt:
 * the cours, the plan-cadre's ten texts, the additional information, then
 * each capacité with its pondération, savoirs and moyens.
 */
static char *
sections_text(const struct rl_pdc *p, const char *info)
{
	struct rl_buf	 b;
	const json_t	*k;
	size_t		 i;

	rl_buf_init(&b, SECTIONS_MAX);
	sb_str(&b, "Cours : ");
	sb_str(&b, str(p->cours, "code"));
	sb_str(&b, " - ");
	sb_str(&b, str(p->cours, "nom"));
	sb_str(&b, "\n");
	for (i = 0; i < NCADRE; i++) {
		if (str(p->cadre, cadre_texts[i].key) == NULL)
			continue;
		sb_str(&b, cadre_texts[i].label);
		sb_str(&b, " : ");
		sb_str(&b, str(p->cadre, cadre_texts[i].key));
		sb_str(&b, "\n");
	}
	if (str(p->cadre, "additional_info") != NULL) {
		sb_str(&b, "Informations complémentaires (plan-cadre) : ");
		sb_str(&b, str(p->cadre, "additional_info"));
		sb_str(&b, "\n");
	}
	if (info != NULL && info[0] != '\0') {
		sb_str(&b, "Informations complémentaires : ");
		sb_str(&b, info);
		sb_str(&b, "\n");
	}
	json_array_foreach(json_object_get(p->cadre, "capacites"), i, k) {
		sb_str(&b, "\nCapacité : ");
		sb_str(&b, str(k, "capacite"));
		sb_str(&b, "\nDescription : ");
		sb_str(&b, str(k, "description_capacite"));
		(void)rl_buf_addf(&b, "\nPondération : %lld %% à %lld %%",
		    (long long)json_integer_value(json_object_get(k,
		    "ponderation_min")),
		    (long long)json_integer_value(json_object_get(k,
		    "ponderation_max")));
		sb_str(&b, "\nSavoirs nécessaires : ");
		sb_join(&b, json_object_get(k, "savoirs_necessaires"),
		    "texte");
		sb_str(&b, "\nSavoirs-faire : ");
		sb_join(&b, json_object_get(k, "savoirs_faire"), "texte");
		sb_str(&b, "\nMoyens d'évaluation : ");
		sb_join(&b, json_object_get(k, "moyens_evaluation"), "texte");
		sb_str(&b, "\n");
	}
	return rl_buf_take(&b, NULL);
}

/*
 * EDxo's template context (§4.5): the cours, the plan-cadre's texts and
 * lists, current_value, additional_info, plus sections for the calendar
 * and whole-plan templates.
 */
static json_t *
context(const struct rl_pdc *p, const struct rl_pdc_input *in,
    const char *current)
{
	json_t		*c;
	char		*sections;
	size_t		 i;

	if ((c = json_object()) == NULL)
		return NULL;
	(void)json_object_set_new(c, "current_value", json_string(
	    current != NULL ? current : ""));
	(void)json_object_set_new(c, "cours_id", json_integer(p->cours_id));
	(void)json_object_set_new(c, "session", json_string(p->session));
	(void)json_object_set_new(c, "cours_nom", json_string(
	    str(p->cours, "nom") != NULL ? str(p->cours, "nom") : ""));
	(void)json_object_set_new(c, "cours_code", json_string(
	    str(p->cours, "code") != NULL ? str(p->cours, "code") : ""));
	for (i = 0; i < NCADRE; i++)
		(void)json_object_set_new(c, cadre_texts[i].key, json_string(
		    str(p->cadre, cadre_texts[i].key) != NULL ?
		    str(p->cadre, cadre_texts[i].key) : ""));
	(void)json_object_set_new(c, "capacites", texts(json_object_get(
	    p->cadre, "capacites"), "capacite"));
	for (i = 0; i < NLISTS; i++)
		(void)json_object_set_new(c, cadre_lists[i], texts(
		    json_object_get(p->cadre, cadre_lists[i]), "texte"));
	(void)json_object_set_new(c, "additional_info", json_string(
	    in->additional_info != NULL ? in->additional_info : ""));
	if (in->field != NULL)
		(void)json_object_set_new(c, "field_name",
		    json_string(in->field));
	if ((sections = sections_text(p, in->additional_info)) == NULL) {
		json_decref(c);
		return NULL;
	}
	(void)json_object_set_new(c, "sections", json_string(sections));
	free(sections);
	return c;
}

/* A row of plan_de_cours_prompt_settings: template and model. */
static enum rl_err
prompt_row(const char *field, char **tmpl, char **model, struct rl_error *e)
{
	struct rl_dbres	*r = NULL;
	const char	*prm[1] = { field };
	enum rl_err	 err;

	*tmpl = *model = NULL;
	if ((err = rl_db_exec("SELECT prompt_template, ai_model FROM "
	    "plan_de_cours_prompt_settings WHERE field_name = $1", 1, prm, &r,
	    e)) != RL_OK)
		return err;
	if (rl_dbres_rows(r) == 1) {
		*tmpl = strdup(rl_dbres_get(r, 0, 0));
		*model = strdup(rl_dbres_get(r, 0, 1));
		if (*tmpl == NULL || *model == NULL) {
			free(*tmpl);
			free(*model);
			*tmpl = *model = NULL;
			err = rl_error_set(e, RL_ENOMEM, "out of memory");
		}
	}
	rl_dbres_free(r);
	return err;
}

/* System prompt, effort and verbosity of a section_ai_settings row. */
static enum rl_err
section(const char *name, struct rl_pdc_prompt *pp, struct rl_error *e)
{
	struct rl_dbres	*r = NULL;
	const char	*prm[1] = { name };
	enum rl_err	 err;

	if ((err = rl_db_exec("SELECT system_prompt, reasoning_effort, "
	    "verbosity, ai_model FROM section_ai_settings WHERE section = $1",
	    1, prm, &r, e)) != RL_OK)
		return err;
	if (rl_dbres_rows(r) == 1) {
		if (!rl_dbres_isnull(r, 0, 3) && *rl_dbres_get(r, 0, 3) != '\0')
			pp->model1 = strdup(rl_dbres_get(r, 0, 3));
		if (!rl_dbres_isnull(r, 0, 0) && *rl_dbres_get(r, 0, 0) != '\0')
			pp->system = strdup(rl_dbres_get(r, 0, 0));
		if (!rl_dbres_isnull(r, 0, 1))
			pp->effort = strdup(rl_dbres_get(r, 0, 1));
		if (!rl_dbres_isnull(r, 0, 2))
			pp->verbosity = strdup(rl_dbres_get(r, 0, 2));
	}
	rl_dbres_free(r);
	return RL_OK;
}

/* The verifier's template and stored model. */
static enum rl_err
analyse_row(char **tmpl, char **model, struct rl_error *e)
{
	struct rl_dbres	*r = NULL;
	enum rl_err	 err;

	*tmpl = *model = NULL;
	if ((err = rl_db_exec("SELECT prompt_template, ai_model FROM "
	    "analyse_plan_cours_prompt WHERE id = 1", 0, NULL, &r, e)) !=
	    RL_OK)
		return err;
	if (rl_dbres_rows(r) == 1) {
		*tmpl = strdup(rl_dbres_get(r, 0, 0));
		*model = strdup(rl_dbres_get(r, 0, 1));
	}
	rl_dbres_free(r);
	return RL_OK;
}

/* "Précisions" and the current list, appended to the async prompts. */
static void
sb_current(struct rl_buf *b, const char *info, const char *what,
    const json_t *list)
{
	char	*s;

	if (info != NULL && info[0] != '\0') {
		sb_str(b, "\n\nPrécisions : ");
		sb_str(b, info);
	}
	if (json_array_size(list) > 0 && (s = json_dumps(list,
	    JSON_INDENT(2))) != NULL) {
		sb_str(b, "\n\n");
		sb_str(b, what);
		sb_str(b, " actuel (JSON) :\n");
		sb_str(b, s);
		free(s);
	}
}

/* EDxo B's evaluations prompt, built in code, appended to b. */
static void
evaluations_prompt(struct rl_buf *b, const struct rl_pdc *p,
    const struct rl_pdc_input *in)
{
	const json_t	*k;
	size_t		 i;

	sb_str(b, "Propose les évaluations sommatives du plan de cours du "
	    "cours ");
	sb_str(b, str(p->cours, "code"));
	sb_str(b, " ");
	sb_str(b, str(p->cours, "nom"));
	sb_str(b, " pour la session ");
	sb_str(b, p->session);
	sb_str(b, ". Réponds en JSON {\"evaluations\": [{\"titre\", "
	    "\"semaine\", \"description\", \"capacites\": [{\"capacite\", "
	    "\"ponderation\"}]}]} où « capacite » reprend exactement le "
	    "libellé d'une capacité du plan-cadre et où les pondérations "
	    "totalisent 100 %.\n\nObjectif terminal : ");
	sb_str(b, str(p->cadre, "objectif_terminal"));
	sb_str(b, "\nCapacités : ");
	json_array_foreach(json_object_get(p->cadre, "capacites"), i, k) {
		if (i > 0)
			sb_str(b, ", ");
		sb_str(b, str(k, "capacite"));
	}
	sb_current(b, in->additional_info, "Évaluations",
	    in->existing != NULL ? in->existing : p->evaluations);
}

/* Render tmpl with the context, and append what the task adds. */
static enum rl_err
render(const struct rl_pdc *p, const struct rl_pdc_input *in,
    const char *tmpl, const char *current, char **out, struct rl_error *e)
{
	json_t		*ctx;
	enum rl_err	 err;

	if ((ctx = context(p, in, current)) == NULL)
		return rl_error_set(e, RL_ENOMEM, "out of memory");
	err = rl_tmpl_format(tmpl, ctx, out, e);
	json_decref(ctx);
	return err;
}

enum rl_err
rl_pdc_prompt(const struct rl_pdc *p, const struct rl_pdc_input *in,
    struct rl_pdc_prompt *pp, struct rl_error *e)
{
	struct rl_buf	 b;
	char		*tmpl = NULL, *model = NULL, *all = NULL;
	char		*allmodel = NULL, *text = NULL, *pj = NULL, *cj = NULL;
	const char	*current = NULL, *m;
	json_t		*ctx = NULL;
	enum rl_err	 err;

	memset(pp, 0, sizeof(*pp));
	rl_buf_init(&b, RL_TMPL_MAX);
	if (in->additional_info != NULL &&
	    strlen(in->additional_info) > RL_PDC_INFO_MAX) {
		err = rl_error_field(e, RL_EINVAL, "additional_info",
		    "additional_info dépasse %d octets", RL_PDC_INFO_MAX);
		goto out;
	}
	if (in->kind != RL_PDC_ANALYSE && !json_is_object(p->cadre)) {
		err = rl_error_set(e, RL_ENOTFOUND, "Plan-cadre non trouvé "
		    "pour ce cours.");
		goto out;
	}
	if ((err = section(in->kind == RL_PDC_ANALYSE ? "analyse_plan_cours" :
	    in->kind == RL_PDC_FIELD && !in->sync ? "plan_de_cours_improve" :
	    "plan_de_cours", pp, e)) != RL_OK)
		goto out;
	/*
	 * The body's effort and verbosity win (the Générer form); the
	 * routes' request schemas allow only the API's values, or "" for
	 * the section's.
	 */
	if (in->effort != NULL && in->effort[0] != '\0') {
		free(pp->effort);
		if ((pp->effort = strdup(in->effort)) == NULL) {
			err = rl_error_set(e, RL_ENOMEM, "out of memory");
			goto out;
		}
	}
	if (in->verbosity != NULL && in->verbosity[0] != '\0') {
		free(pp->verbosity);
		if ((pp->verbosity = strdup(in->verbosity)) == NULL) {
			err = rl_error_set(e, RL_ENOMEM, "out of memory");
			goto out;
		}
	}
	/* The 'all' row's model is the default of the async features. */
	if (in->kind != RL_PDC_ANALYSE &&
	    (err = prompt_row("all", &all, &allmodel, e)) != RL_OK)
		goto out;

	switch (in->kind) {
	case RL_PDC_FIELD:
		if (!in->sync && !rl_pdc_field_ok(in->field)) {
			err = rl_error_field(e, RL_EINVAL, "field_name",
			    "Champ non supporté: %s", in->field != NULL ?
			    in->field : "");
			goto out;
		}
		if ((err = prompt_row(in->field, &tmpl, &model, e)) != RL_OK)
			goto out;
		if (tmpl == NULL && in->sync) {
			err = rl_error_field(e, RL_EINVAL, "field_name",
			    "Aucun prompt configuré pour le champ %s",
			    in->field);
			goto out;
		}
		current = in->sync ? in->current_value :
		    str(p->plan, in->field);
		if ((err = render(p, in, tmpl != NULL ? tmpl : default_field,
		    current, &text, e)) != RL_OK)
			goto out;
		sb_str(&b, text);
		if (!in->sync && in->additional_info != NULL &&
		    in->additional_info[0] != '\0' && (tmpl == NULL ||
		    strstr(tmpl, "{additional_info}") == NULL)) {
			sb_str(&b, "\n\nInformations complémentaires : ");
			sb_str(&b, in->additional_info);
		}
		break;
	case RL_PDC_CALENDAR:
		if ((err = prompt_row("calendrier", &tmpl, &model, e)) !=
		    RL_OK)
			goto out;
		if (tmpl == NULL) {
			err = rl_error_set(e, RL_EINTERNAL, "Aucun prompt "
			    "configuré pour le calendrier.");
			goto out;
		}
		if ((err = render(p, in, tmpl, NULL, &text, e)) != RL_OK)
			goto out;
		sb_str(&b, text);
		if (!in->sync) {
			sb_current(&b, in->additional_info, "Calendrier",
			    in->existing != NULL ? in->existing :
			    json_object_get(p->plan, "calendriers"));
			free(model);
			model = NULL;
		}
		break;
	case RL_PDC_EVALUATIONS:
		evaluations_prompt(&b, p, in);
		break;
	case RL_PDC_ALL:
		if ((err = render(p, in, all != NULL ? all : default_all, NULL,
		    &text, e)) != RL_OK)
			goto out;
		sb_str(&b, text);
		if (in->ai_model != NULL && in->ai_model[0] != '\0')
			model = strdup(in->ai_model);
		break;
	case RL_PDC_ANALYSE:
		if ((err = analyse_row(&tmpl, &model, e)) != RL_OK)
			goto out;
		if (tmpl == NULL) {
			err = rl_error_set(e, RL_EINTERNAL, "Le template de "
			    "prompt n'est pas configuré.");
			goto out;
		}
		pj = json_dumps(p->plan, JSON_INDENT(2));
		cj = json_dumps(p->cadre, JSON_INDENT(2) | JSON_ENCODE_ANY);
		text = json_dumps(rl_schema_json(rl_schema_get(
		    "PlanDeCoursAIResponse")), JSON_INDENT(2));
		ctx = json_pack("{s:I, s:s, s:o, s:s, s:s}", "plan_cours_id",
		    (json_int_t)p->plan_id, "plan_cours_json",
		    pj != NULL ? pj : "{}", "plan_cadre_id",
		    json_is_object(p->cadre) ? json_integer(json_integer_value(
		    json_object_get(p->cadre, "id"))) : json_null(),
		    "plan_cadre_json", cj != NULL ? cj : "null", "schema_json",
		    text != NULL ? text : "{}");
		free(text);
		text = NULL;
		if (ctx == NULL) {
			err = rl_error_set(e, RL_ENOMEM, "out of memory");
			goto out;
		}
		if ((err = rl_tmpl_format(tmpl, ctx, &text, e)) != RL_OK)
			goto out;
		sb_str(&b, text);
		break;
	default:
		err = rl_error_set(e, RL_EINTERNAL, "bad kind");
		goto out;
	}
	/*
	 * The row's model, else the 'all' row's, else EDxo's default.  The
	 * verifier: the analyse section's model for the task (EDxo L/H) and
	 * the first pass; the prompt row's for the second pass.
	 */
	m = model != NULL && model[0] != '\0' ? model :
	    allmodel != NULL && allmodel[0] != '\0' ? allmodel : DEFAULT_MODEL;
	if (in->kind == RL_PDC_ANALYSE && !in->sync && pp->model1 != NULL)
		m = pp->model1;
	if (rl_buf_err(&b) == RL_ETOOBIG) {
		err = rl_error_set(e, RL_ETOOBIG, "le prompt dépasse %d "
		    "octets", RL_TMPL_MAX);
		goto out;
	}
	if ((pp->prompt = rl_buf_take(&b, NULL)) == NULL ||
	    (pp->model = strdup(m)) == NULL || (pp->model1 == NULL &&
	    (pp->model1 = strdup(VERIFY_PASS1_MODEL)) == NULL)) {
		err = rl_error_set(e, RL_ENOMEM, "out of memory");
		goto out;
	}
out:
	if (err != RL_OK)
		rl_pdc_prompt_free(pp);
	rl_buf_free(&b);
	json_decref(ctx);
	free(tmpl);
	free(model);
	free(all);
	free(allmodel);
	free(text);
	free(pj);
	free(cj);
	return err;
}

void
rl_pdc_prompt_free(struct rl_pdc_prompt *pp)
{

	free(pp->prompt);
	free(pp->model);
	free(pp->system);
	free(pp->effort);
	free(pp->verbosity);
	free(pp->model1);
	memset(pp, 0, sizeof(*pp));
}

json_t *
rl_pdc_prompt_json(const struct rl_pdc_prompt *pp)
{

	return json_pack("{s:s, s:s, s:s?, s:s?, s:s?}", "prompt", pp->prompt,
	    "model", pp->model, "system", pp->system, "effort", pp->effort,
	    "verbosity", pp->verbosity);
}

enum rl_err
rl_pdc_prompt_from(const json_t *j, struct rl_pdc_prompt *pp,
    struct rl_error *e)
{

	memset(pp, 0, sizeof(*pp));
	if (str(j, "prompt") == NULL || str(j, "model") == NULL)
		return rl_error_set(e, RL_EINVAL, "payload: prompt and model "
		    "are required");
	pp->prompt = strdup(str(j, "prompt"));
	pp->model = strdup(str(j, "model"));
	pp->system = dupornull(str(j, "system"));
	pp->effort = dupornull(str(j, "effort"));
	pp->verbosity = dupornull(str(j, "verbosity"));
	if (pp->prompt == NULL || pp->model == NULL) {
		rl_pdc_prompt_free(pp);
		return rl_error_set(e, RL_ENOMEM, "out of memory");
	}
	return RL_OK;
}

/* ------------------------------------------------------------------ */
/* Generation.                                                          */
/* ------------------------------------------------------------------ */

enum rl_err
rl_pdc_gen_for(enum rl_pdc_kind k, int sync, const struct rl_pdc_prompt *pp,
    long long user_id, const char *request_id, struct rl_task *t,
    struct rl_gen *g, struct rl_error *e)
{
	const char	*schema, *name;

	switch (k) {
	case RL_PDC_FIELD:
		schema = name = sync ? "AIPlandeCoursResponse" :
		    "SingleFieldResponse";
		break;
	case RL_PDC_CALENDAR:
		schema = "CalendarOnlyResponse";
		name = sync ? "CalendarResponse" : schema;
		break;
	case RL_PDC_EVALUATIONS:
		schema = name = "EvaluationsResponse";
		break;
	case RL_PDC_ALL:
		schema = name = "BulkPlanDeCoursResponse";
		break;
	default:
		schema = name = "PlanDeCoursAIResponse";
		break;
	}
	memset(g, 0, sizeof(*g));
	g->user_id = user_id;
	g->feature = k < RL_PDC__MAX ? features[k] : "plan_de_cours";
	g->request_id = request_id;
	g->task = t;
	g->model = pp->model;
	g->system = pp->system;
	g->effort = pp->effort;
	g->verbosity = pp->verbosity;
	g->prompt = pp->prompt;
	g->name = name;
	g->strict = 1;
	if ((g->schema = rl_schema_get(schema)) == NULL)
		return rl_error_set(e, RL_EINTERNAL, "schema %s not loaded",
		    schema);
	return RL_OK;
}

enum rl_err
rl_pdc_answer_check(enum rl_pdc_kind k, const json_t *v, struct rl_error *e)
{

	/* An answer with nothing to write is EDxo's "Aucune donnée". */
	if ((k == RL_PDC_FIELD && (str(v, "champ_description") == NULL ||
	    *str(v, "champ_description") == '\0')) ||
	    (k == RL_PDC_CALENDAR &&
	    json_array_size(json_object_get(v, "calendriers")) == 0) ||
	    (k == RL_PDC_EVALUATIONS &&
	    json_array_size(json_object_get(v, "evaluations")) == 0))
		return rl_error_set(e, RL_EUPSTREAM, "Aucune donnée reçue du "
		    "modèle.");
	return RL_OK;
}

enum rl_err
rl_pdc_generate(enum rl_pdc_kind k, int sync, const struct rl_pdc_prompt *pp,
    long long user_id, const char *request_id, struct rl_task *t,
    struct rl_gen *g, struct rl_error *e)
{
	enum rl_err	 err;

	if ((err = rl_pdc_gen_for(k, sync, pp, user_id, request_id, t, g,
	    e)) != RL_OK)
		return err;
	if ((err = rl_gen_run(g, e)) != RL_OK)
		return err;
	return rl_pdc_answer_check(k, g->result, e);
}

/* ------------------------------------------------------------------ */
/* Previews.                                                            */
/* ------------------------------------------------------------------ */

/* A string value, or null. */
static json_t *
strornull(json_t *v)
{

	return json_is_string(v) ? json_incref(v) : json_null();
}

/*
 * Evaluations of an answer as a preview lists them: both titles EDxo
 * uses, and each capacité label resolved against the plan-cadre.
 */
static json_t *
evaluations_of(const struct rl_pdc *p, const json_t *list)
{
	const json_t	*caps = json_object_get(p->cadre, "capacites");
	const json_t	*x, *c;
	json_t		*t;
	json_t		*out = json_array(), *ev, *cl;
	size_t		 i, j;
	long long	 id;

	json_array_foreach(list, i, x) {
		t = json_object_get(x, "titre_evaluation");
		if (!json_is_string(t))
			t = json_object_get(x, "titre");
		if ((cl = json_array()) == NULL)
			break;
		json_array_foreach(json_object_get(x, "capacites"), j, c) {
			id = json_is_integer(json_object_get(c,
			    "capacite_id")) ? json_integer_value(
			    json_object_get(c, "capacite_id")) :
			    rl_pdc_capacity_resolve(str(c, "capacite"), caps);
			(void)json_array_append_new(cl, json_pack("{s:o, s:o, "
			    "s:o}", "capacite_id", id > 0 ? json_integer(id) :
			    json_null(), "capacite", strornull(json_object_get(
			    c, "capacite")), "ponderation", strornull(
			    json_object_get(c, "ponderation"))));
		}
		ev = json_pack("{s:o, s:o, s:o, s:O, s:o}", "titre_evaluation",
		    strornull(t), "titre", strornull(t), "description",
		    strornull(json_object_get(x, "description")), "semaine",
		    json_is_integer(json_object_get(x, "semaine")) ?
		    json_object_get(x, "semaine") : json_null(),
		    "capacites", cl);
		(void)json_array_append_new(out, ev);
	}
	return out;
}

/* {field: value} of the plan's current sections. */
static json_t *
old_fields(const struct rl_pdc *p)
{
	json_t	*o = json_object();
	size_t	 i;

	for (i = 0; i < rl_pdc_nfields; i++)
		(void)json_object_set_new(o, rl_pdc_fields[i], strornull(
		    json_object_get(p->plan, rl_pdc_fields[i])));
	return o;
}

static json_t *
list_or_empty(const json_t *o, const char *key)
{
	json_t	*v = json_object_get(o, key);

	return json_is_array(v) ? json_incref(v) : json_array();
}

json_t *
rl_pdc_preview(const struct rl_pdc *p, enum rl_pdc_kind k, const char *field,
    const json_t *a, const struct rl_gen *g, const char *task_id)
{
	json_t		*r, *f;
	char		 url[256], vurl[256];
	size_t		 i;

	(void)snprintf(url, sizeof(url), "/cours/%lld/plan_de_cours/%s/",
	    p->cours_id, p->session);
	if (k == RL_PDC_ANALYSE)
		(void)snprintf(vurl, sizeof(vurl), "/gestion_programme/"
		    "?open=verify&plan_id=%lld", p->plan_id);
	else
		(void)snprintf(vurl, sizeof(vurl), "/plan_de_cours/review/"
		    "%lld?task_id=%s", p->plan_id, task_id != NULL ? task_id :
		    "");
	r = json_pack("{s:s, s:I, s:I, s:s, s:s, s:s, s:s, s:o}", "status",
	    "success", "plan_id", (json_int_t)p->plan_id, "cours_id",
	    (json_int_t)p->cours_id, "session", p->session,
	    "plan_de_cours_url", url, "validation_url", vurl,
	    "reasoning_summary", g != NULL && g->reasoning != NULL ?
	    g->reasoning : "", "usage", g != NULL ? rl_gen_usage_json(g) :
	    json_object());
	if (r == NULL)
		return NULL;
	if (k == RL_PDC_ANALYSE) {
		(void)json_object_set_new(r, "compatibility_percentage",
		    json_is_number(json_object_get(a,
		    "compatibility_percentage")) ? json_incref(json_object_get(
		    a, "compatibility_percentage")) : json_null());
		(void)json_object_set_new(r, "recommendation_ameliore",
		    strornull(json_object_get(a, "recommendation_ameliore")));
		(void)json_object_set_new(r, "recommendation_plan_cadre",
		    strornull(json_object_get(a, "recommendation_plan_cadre")));
		return r;
	}
	(void)json_object_set_new(r, "old_fields", old_fields(p));
	(void)json_object_set_new(r, "old_calendriers",
	    list_or_empty(p->plan, "calendriers"));
	(void)json_object_set_new(r, "old_evaluations",
	    json_incref(p->evaluations));
	(void)json_object_set_new(r, "old_mediagraphies",
	    list_or_empty(p->plan, "mediagraphies"));
	(void)json_object_set_new(r, "old_disponibilites",
	    list_or_empty(p->plan, "disponibilites"));
	switch (k) {
	case RL_PDC_FIELD:
		(void)json_object_set_new(r, "field_name", json_string(field));
		(void)json_object_set_new(r, "value", strornull(
		    json_object_get(a, "champ_description")));
		(void)json_object_set_new(r, "fields", json_pack("{s:O}",
		    field, json_object_get(a, "champ_description")));
		break;
	case RL_PDC_CALENDAR:
		(void)json_object_set_new(r, "calendriers",
		    list_or_empty(a, "calendriers"));
		break;
	case RL_PDC_EVALUATIONS:
		(void)json_object_set_new(r, "evaluations", evaluations_of(p,
		    json_object_get(a, "evaluations")));
		break;
	case RL_PDC_ALL:
		f = json_object();
		for (i = 0; i < rl_pdc_nfields; i++)
			if (str(a, rl_pdc_fields[i]) != NULL &&
			    *str(a, rl_pdc_fields[i]) != '\0')
				(void)json_object_set(f, rl_pdc_fields[i],
				    json_object_get(a, rl_pdc_fields[i]));
		(void)json_object_set_new(r, "fields", f);
		/* An empty calendar leaves the current one (EDxo). */
		if (json_array_size(json_object_get(a, "calendriers")) > 0)
			(void)json_object_set_new(r, "calendriers",
			    list_or_empty(a, "calendriers"));
		(void)json_object_set_new(r, "evaluations", evaluations_of(p,
		    json_object_get(a, "evaluations")));
		break;
	default:
		break;
	}
	return r;
}

/* ------------------------------------------------------------------ */
/* Writing.                                                             */
/* ------------------------------------------------------------------ */

/*
 * col = the preview's string when there is a non-empty one, else
 * unchanged: EDxo's import and generation only override with content.
 */
#define SET_COL(c)	c " = CASE WHEN coalesce($3::jsonb ->> '" c	\
	"', '') <> '' THEN $3::jsonb ->> '" c "' ELSE " c " END"

static const char sql_fields[] =
    "UPDATE plan_de_cours SET "
    SET_COL("presentation_du_cours") ", "
    SET_COL("objectif_terminal_du_cours") ", "
    SET_COL("organisation_et_methodes") ", "
    SET_COL("accomodement") ", "
    SET_COL("evaluation_formative_apprentissages") ", "
    SET_COL("evaluation_expression_francais") ", "
    SET_COL("materiel") ", "
    SET_COL("seuil_reussite") ", "
    SET_COL("nom_enseignant") ", "
    SET_COL("telephone_enseignant") ", "
    SET_COL("courriel_enseignant") ", "
    SET_COL("bureau_enseignant") ", "
    "modified_by_id = $2::bigint, modified_at = now() "
    "WHERE id = $1::bigint";

/*
 * A revert puts back exactly what was there, an empty or null value
 * included: col = the restore's value when it names the column (JSON
 * null gives SQL NULL), else unchanged.
 */
#define SET_EXACT(c)	c " = CASE WHEN $3::jsonb ? '" c "' THEN "	\
	"$3::jsonb ->> '" c "' ELSE " c " END"

static const char sql_fields_exact[] =
    "UPDATE plan_de_cours SET "
    SET_EXACT("presentation_du_cours") ", "
    SET_EXACT("objectif_terminal_du_cours") ", "
    SET_EXACT("organisation_et_methodes") ", "
    SET_EXACT("accomodement") ", "
    SET_EXACT("evaluation_formative_apprentissages") ", "
    SET_EXACT("evaluation_expression_francais") ", "
    SET_EXACT("materiel") ", "
    SET_EXACT("seuil_reussite") ", "
    SET_EXACT("nom_enseignant") ", "
    SET_EXACT("telephone_enseignant") ", "
    SET_EXACT("courriel_enseignant") ", "
    SET_EXACT("bureau_enseignant") ", "
    "modified_by_id = $2::bigint, modified_at = now() "
    "WHERE id = $1::bigint";

/* Rows of a list, in the preview's order. */
#define ROWS	"FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY " \
		"AS t(x, n) ORDER BY n"

static const struct {
	const char	*key;
	const char	*del;
	const char	*ins;
} lists[] = {
	{ "calendriers",
	    "DELETE FROM plan_de_cours_calendrier WHERE plan_de_cours_id = "
	    "$1::bigint",
	    "INSERT INTO plan_de_cours_calendrier (plan_de_cours_id, semaine, "
	    "sujet, activites, travaux_hors_classe, evaluations) "
	    "SELECT $1::bigint, (x ->> 'semaine')::integer, x ->> 'sujet', "
	    "x ->> 'activites', x ->> 'travaux_hors_classe', "
	    "x ->> 'evaluations' " ROWS },
	{ "mediagraphies",
	    "DELETE FROM plan_de_cours_mediagraphie WHERE plan_de_cours_id = "
	    "$1::bigint",
	    "INSERT INTO plan_de_cours_mediagraphie (plan_de_cours_id, "
	    "reference_bibliographique) SELECT $1::bigint, "
	    "x ->> 'reference_bibliographique' " ROWS },
	{ "disponibilites",
	    "DELETE FROM plan_de_cours_disponibilite_enseignant "
	    "WHERE plan_de_cours_id = $1::bigint",
	    "INSERT INTO plan_de_cours_disponibilite_enseignant "
	    "(plan_de_cours_id, jour_semaine, plage_horaire, lieu) "
	    "SELECT $1::bigint, x ->> 'jour_semaine', x ->> 'plage_horaire', "
	    "x ->> 'lieu' " ROWS },
};
#define NLISTKINDS	(sizeof(lists) / sizeof(lists[0]))

/* Keys of each list's rows: only strings (and semaine) are written. */
static const char *const list_keys[NLISTKINDS][6] = {
	{ "sujet", "activites", "travaux_hors_classe", "evaluations", NULL },
	{ "reference_bibliographique", NULL },
	{ "jour_semaine", "plage_horaire", "lieu", NULL },
};

/* semaine as the column takes it: a non-negative integer, else null. */
static json_t *
week(const json_t *v)
{
	char		*end;
	long long	 n;

	if (json_is_integer(v) && json_integer_value(v) >= 0 &&
	    json_integer_value(v) < 1000)
		return json_integer(json_integer_value(v));
	if (json_is_string(v)) {
		n = strtoll(json_string_value(v), &end, 10);
		if (end != json_string_value(v) && *end == '\0' && n >= 0 &&
		    n < 1000)
			return json_integer(n);
	}
	return json_null();
}

/* A list's rows with only what the columns take (no SQL cast can fail). */
static json_t *
clean_rows(const json_t *list, const char *const *keys, int has_week)
{
	json_t		*out = json_array(), *row;
	const json_t	*x;
	size_t		 i, j;

	json_array_foreach(list, i, x) {
		if (!json_is_object(x))
			continue;
		row = json_object();
		for (j = 0; keys[j] != NULL; j++)
			(void)json_object_set_new(row, keys[j], strornull(
			    json_object_get(x, keys[j])));
		if (has_week)
			(void)json_object_set_new(row, "semaine", week(
			    json_object_get(x, "semaine")));
		(void)json_array_append_new(out, row);
	}
	return out;
}

static enum rl_err
exec_json(const char *sql, const char *id, const json_t *v, const char *p3,
    struct rl_error *e)
{
	const char	*prm[3];
	char		*text;
	enum rl_err	 err;

	if ((text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY)) == NULL)
		return rl_error_set(e, RL_ENOMEM, "out of memory");
	prm[0] = id;
	prm[1] = text;
	prm[2] = p3;
	err = rl_db_exec(sql, p3 != NULL ? 3 : 2, prm, NULL, e);
	free(text);
	return err;
}

/* Replace the evaluations and their capacités. */
static enum rl_err
write_evaluations(const char *pid, long long cours_id, const json_t *list,
    const json_t *caps, struct rl_error *e)
{
	const json_t	*x, *c;
	json_t		*t;
	json_t		*ev = NULL, *cl = NULL;
	struct rl_dbres	*r = NULL;
	const char	*prm[4];
	char		 cid[32], *text = NULL, *ctext = NULL;
	size_t		 i, j;
	long long	 id;
	enum rl_err	 err;

	(void)snprintf(cid, sizeof(cid), "%lld", cours_id);
	prm[0] = pid;
	if ((err = rl_db_exec("DELETE FROM plan_de_cours_evaluations WHERE "
	    "plan_de_cours_id = $1::bigint", 1, prm, NULL, e)) != RL_OK)
		return err;
	json_array_foreach(list, i, x) {
		if (!json_is_object(x))
			continue;
		t = json_object_get(x, "titre_evaluation");
		if (!json_is_string(t))
			t = json_object_get(x, "titre");
		cl = json_array();
		json_array_foreach(json_object_get(x, "capacites"), j, c) {
			id = json_is_integer(json_object_get(c,
			    "capacite_id")) ? json_integer_value(
			    json_object_get(c, "capacite_id")) :
			    rl_pdc_capacity_resolve(str(c, "capacite") != NULL ?
			    str(c, "capacite") : str(c, "capacite_nom"), caps);
			(void)json_array_append_new(cl, json_pack("{s:o, s:o}",
			    "capacite_id", id > 0 ? json_integer(id) :
			    json_null(), "ponderation", strornull(
			    json_object_get(c, "ponderation"))));
		}
		ev = json_pack("{s:o, s:o, s:o}", "titre", strornull(t),
		    "description", strornull(json_object_get(x,
		    "description")), "semaine", week(json_object_get(x,
		    "semaine")));
		text = ev != NULL ? json_dumps(ev, JSON_COMPACT) : NULL;
		ctext = cl != NULL ? json_dumps(cl, JSON_COMPACT) : NULL;
		if (text == NULL || ctext == NULL) {
			err = rl_error_set(e, RL_ENOMEM, "out of memory");
			goto out;
		}
		prm[1] = text;
		if ((err = rl_db_exec("INSERT INTO plan_de_cours_evaluations "
		    "(plan_de_cours_id, titre_evaluation, description, "
		    "semaine) SELECT $1::bigint, $2::jsonb ->> 'titre', "
		    "$2::jsonb ->> 'description', "
		    "($2::jsonb ->> 'semaine')::integer RETURNING id", 2, prm,
		    &r, e)) != RL_OK)
			goto out;
		prm[1] = rl_dbres_get(r, 0, 0);
		prm[2] = ctext;
		prm[3] = cid;
		/* An id that is not one of this plan-cadre's becomes null. */
		if ((err = rl_db_exec("INSERT INTO "
		    "plan_de_cours_evaluations_capacites (evaluation_id, "
		    "capacite_id, ponderation) SELECT $1::bigint, "
		    "(SELECT k.id FROM plan_cadre_capacites k JOIN plan_cadre "
		    "pc ON pc.id = k.plan_cadre_id WHERE pc.cours_id = "
		    "$3::bigint AND k.id = (x ->> 'capacite_id')::bigint), "
		    "x ->> 'ponderation' FROM jsonb_array_elements($2::jsonb) "
		    "WITH ORDINALITY AS t(x, n) ORDER BY n", 3, prm + 1, NULL,
		    e)) != RL_OK)
			goto out;
		rl_dbres_free(r);
		r = NULL;
		json_decref(ev);
		json_decref(cl);
		free(text);
		free(ctext);
		ev = cl = NULL;
		text = ctext = NULL;
	}
out:
	rl_dbres_free(r);
	json_decref(ev);
	json_decref(cl);
	free(text);
	free(ctext);
	return err;
}

/* The writable columns: EDxo's sections, then the teacher columns. */
#define NCOLUMNS	(rl_pdc_nfields + NTEACHER)

static const char *
column(size_t i)
{

	return i < rl_pdc_nfields ? rl_pdc_fields[i] :
	    teacher_fields[i - rl_pdc_nfields];
}

/*
 * What a revert after a confirm writes: for each column the confirm
 * changed (a non-empty string in fields) its value in old_fields, for
 * each list the confirm replaced its old_<list>.  The old values are
 * those the task read when it ran, so the plan goes back to what it held
 * before the generation; a column or list the preview has no old value
 * for is left as it is.  A new reference, NULL when out of memory.
 */
static json_t *
restore_of(const json_t *pv)
{
	static const char *const keys[] = { "calendriers", "mediagraphies",
	    "disponibilites", "evaluations" };
	const json_t	*fields = json_object_get(pv, "fields");
	const json_t	*old = json_object_get(pv, "old_fields");
	json_t		*r, *f, *v;
	char		 okey[32];
	size_t		 i;

	if ((r = json_object()) == NULL)
		return NULL;
	if ((f = json_object()) == NULL ||
	    json_object_set_new(r, "fields", f) == -1) {
		json_decref(r);
		return NULL;
	}
	for (i = 0; i < NCOLUMNS; i++) {
		v = json_object_get(fields, column(i));
		if (!json_is_string(v) || *json_string_value(v) == '\0' ||
		    (v = json_object_get(old, column(i))) == NULL)
			continue;
		if (json_object_set_new(f, column(i), strornull(v)) == -1)
			goto fail;
	}
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		(void)snprintf(okey, sizeof(okey), "old_%s", keys[i]);
		v = json_object_get(pv, okey);
		if (json_is_array(json_object_get(pv, keys[i])) &&
		    json_is_array(v) && json_object_set(r, keys[i], v) == -1)
			goto fail;
	}
	return r;
fail:
	json_decref(r);
	return NULL;
}

/*
 * Mark the task reviewed with action, in the caller's transaction (its
 * row stays locked until the end).  A preview is confirmed at most once
 * and reverted at most once: confirm takes a task not yet reviewed;
 * revert takes one not yet reviewed (the preview is dropped, nothing is
 * written) or a confirmed one (*restore = 1: what the confirm wrote is
 * put back).  Anything else is RL_ECONFLICT.
 */
static enum rl_err
review(const char *task_id, const char *action, int *restore,
    struct rl_error *e)
{
	const char	*prm[2], *was;
	struct rl_dbres	*r = NULL;
	enum rl_err	 err;

	*restore = 0;
	prm[0] = task_id;
	prm[1] = action;
	if ((err = rl_db_exec("SELECT coalesce(meta ->> 'review', '') "
	    "FROM tasks WHERE id = $1::uuid FOR UPDATE", 1, prm, &r, e)) !=
	    RL_OK)
		return err;
	if (rl_dbres_rows(r) != 1) {
		err = rl_error_set(e, RL_ENOTFOUND, "Tâche introuvable.");
		goto out;
	}
	was = rl_dbres_get(r, 0, 0);
	if (strcmp(action, "revert") == 0 && strcmp(was, "confirm") == 0)
		*restore = 1;
	else if (*was != '\0') {
		err = rl_error_set(e, RL_ECONFLICT, strcmp(was, "confirm") ==
		    0 ? "Cette proposition a déjà été confirmée." :
		    "Cette proposition a déjà été rejetée ou annulée.");
		goto out;
	}
	err = rl_db_exec("UPDATE tasks SET meta = meta || "
	    "jsonb_build_object('review', $2::text) WHERE id = $1::uuid", 2,
	    prm, NULL, e);
out:
	rl_dbres_free(r);
	return err;
}

enum rl_err
rl_pdc_apply(long long user_id, long long plan_id, const json_t *pv,
    const char *task_id, const char *action, struct rl_error *e)
{
	const char	*prm[3];
	char		 pid[32], uid[32], *text = NULL;
	struct rl_dbres	*r = NULL;
	json_t		*caps = NULL, *f = NULL, *rows, *rv = NULL, *v;
	const json_t	*fields;
	long long	 cours_id;
	size_t		 i;
	int		 revert, restore = 0;
	enum rl_err	 err;

	revert = action != NULL && strcmp(action, "revert") == 0;
	(void)snprintf(pid, sizeof(pid), "%lld", plan_id);
	(void)snprintf(uid, sizeof(uid), "%lld", user_id);
	if ((err = rl_db_begin(e)) != RL_OK)
		return err;
	prm[0] = pid;
	if ((err = rl_db_exec("SELECT cours_id FROM plan_de_cours "
	    "WHERE id = $1::bigint FOR UPDATE", 1, prm, &r, e)) != RL_OK)
		goto out;
	if (rl_dbres_rows(r) != 1) {
		err = rl_error_set(e, RL_ENOTFOUND, "Plan de cours "
		    "introuvable.");
		goto out;
	}
	cours_id = strtoll(rl_dbres_get(r, 0, 0), NULL, 10);
	rl_dbres_free(r);
	r = NULL;
	if (task_id != NULL && (err = review(task_id, action != NULL ?
	    action : "confirm", &restore, e)) != RL_OK)
		goto out;
	/* A revert of a preview nobody confirmed: nothing was written. */
	if (pv == NULL || (revert && !restore)) {
		err = rl_db_commit(e);
		goto out;
	}
	if (restore) {
		if ((rv = restore_of(pv)) == NULL) {
			err = rl_error_set(e, RL_ENOMEM, "out of memory");
			goto out;
		}
		pv = rv;
	}
	/* The plan-cadre's capacités, to resolve labels without ids. */
	if ((err = rl_db_json("SELECT " RL_SQL_LIST("json_build_object('id', "
	    "k.id, 'capacite', k.capacite, 'description_capacite', "
	    "k.description_capacite) ORDER BY k.id", "FROM "
	    "plan_cadre_capacites k JOIN plan_cadre pc ON pc.id = "
	    "k.plan_cadre_id WHERE pc.cours_id = d.cours_id") " FROM "
	    "plan_de_cours d WHERE d.id = $1::bigint", 1, prm, &caps, e)) !=
	    RL_OK)
		goto out;

	/*
	 * Sections and teacher columns: strings only, and for a restore the
	 * nulls it puts back.
	 */
	fields = json_object_get(pv, "fields");
	f = json_object();
	for (i = 0; i < NCOLUMNS; i++) {
		v = json_object_get(fields, column(i));
		if (json_is_string(v) || (restore && json_is_null(v)))
			(void)json_object_set(f, column(i), v);
	}
	if ((text = json_dumps(f, JSON_COMPACT)) == NULL) {
		err = rl_error_set(e, RL_ENOMEM, "out of memory");
		goto out;
	}
	prm[1] = uid;
	prm[2] = text;
	if ((err = rl_db_exec(restore ? sql_fields_exact : sql_fields, 3, prm,
	    NULL, e)) != RL_OK)
		goto out;

	for (i = 0; i < NLISTKINDS; i++) {
		if (!json_is_array(json_object_get(pv, lists[i].key)))
			continue;
		if ((err = rl_db_exec(lists[i].del, 1, prm, NULL, e)) != RL_OK)
			goto out;
		rows = clean_rows(json_object_get(pv, lists[i].key),
		    list_keys[i], i == 0);
		err = exec_json(lists[i].ins, pid, rows, NULL, e);
		json_decref(rows);
		if (err != RL_OK)
			goto out;
	}
	if (json_is_array(json_object_get(pv, "evaluations")) &&
	    (err = write_evaluations(pid, cours_id, json_object_get(pv,
	    "evaluations"), caps, e)) != RL_OK)
		goto out;
	err = rl_db_commit(e);
out:
	if (err != RL_OK)
		rl_db_rollback();
	rl_dbres_free(r);
	json_decref(caps);
	json_decref(f);
	json_decref(rv);
	free(text);
	return err;
}

json_t *
rl_pdc_content(const struct rl_pdc *p)
{
	json_t	*f;
	size_t	 i;

	if ((f = json_object()) == NULL)
		return NULL;
	for (i = 0; i < NCOLUMNS; i++)
		(void)json_object_set_new(f, column(i), strornull(
		    json_object_get(p->plan, column(i))));
	return json_pack("{s:I, s:I, s:s, s:O, s:o, s:o, s:O, s:o, s:o, "
	    "s:O?, s:O?}", "plan_id", (json_int_t)p->plan_id, "cours_id",
	    (json_int_t)p->cours_id, "session", p->session, "cours", p->cours,
	    "fields", f, "calendriers", list_or_empty(p->plan, "calendriers"),
	    "evaluations", p->evaluations, "mediagraphies",
	    list_or_empty(p->plan, "mediagraphies"), "disponibilites",
	    list_or_empty(p->plan, "disponibilites"), "modified_at",
	    json_object_get(p->plan, "modified_at"), "modified_by",
	    json_object_get(p->plan, "modified_by"));
}

enum rl_err
rl_pdc_store_analysis(long long user_id, long long plan_id, const json_t *a,
    struct rl_error *e)
{
	const char	*prm[4];
	char		 pid[32], pct[32];
	const json_t	*v = json_object_get(a, "compatibility_percentage");
	double		 d;

	(void)user_id;
	(void)snprintf(pid, sizeof(pid), "%lld", plan_id);
	prm[0] = pid;
	prm[1] = NULL;
	if (json_is_number(v)) {
		/* The column is numeric(5,2) within 0-100. */
		d = json_number_value(v);
		d = d < 0.0 ? 0.0 : d > 100.0 ? 100.0 : d;
		(void)snprintf(pct, sizeof(pct), "%.2f", d);
		prm[1] = pct;
	}
	prm[2] = str(a, "recommendation_ameliore");
	prm[3] = str(a, "recommendation_plan_cadre");
	return rl_db_exec("UPDATE plan_de_cours SET "
	    "compatibility_percentage = $2::numeric, "
	    "recommendation_ameliore = $3::text, "
	    "recommendation_plan_cadre = $4::text WHERE id = $1::bigint", 4,
	    prm, NULL, e);
}

/* ------------------------------------------------------------------ */
/* Tasks.                                                               */
/* ------------------------------------------------------------------ */

static int
kind_of(const char *name)
{
	int	 k;

	for (k = 0; k < RL_PDC__MAX; k++)
		if (name != NULL && strcmp(name, task_names[k]) == 0)
			return k;
	return -1;
}

/*
 * Every plan-de-cours kind: payload {plan_id, field_name?, prompt{...}}.
 * The route checked access and rendered the prompt; the task reads the
 * plan again (the old values are those of when it runs), asks, and
 * returns the preview.  Only the verifier writes: its three columns are
 * an analysis, not content to review.
 */
enum rl_err
rl_pdc_task(struct rl_task *t, json_t **result, struct rl_error *e)
{
	struct rl_pdc		 p;
	struct rl_pdc_prompt	 pp;
	struct rl_gen		 g;
	const json_t		*pl = t->payload;
	int			 k = kind_of(t->name);
	enum rl_err		 err;

	*result = NULL;
	memset(&p, 0, sizeof(p));
	memset(&pp, 0, sizeof(pp));
	memset(&g, 0, sizeof(g));
	if (k < 0)
		return rl_error_set(e, RL_EINTERNAL, "unknown kind %s",
		    t->name);
	if ((err = rl_pdc_prompt_from(json_object_get(pl, "prompt"), &pp,
	    e)) != RL_OK)
		goto out;
	if ((err = rl_pdc_load(t->user_id, 1, json_integer_value(
	    json_object_get(pl, "plan_id")), 0, NULL, &p, e)) != RL_OK)
		goto out;
	if (p.plan_id == 0) {
		err = rl_error_set(e, RL_ENOTFOUND, "Plan de cours "
		    "introuvable.");
		goto out;
	}
	if ((err = rl_pdc_generate((enum rl_pdc_kind)k, 0, &pp, t->user_id,
	    NULL, t, &g, e)) != RL_OK)
		goto out;
	if (k == RL_PDC_ANALYSE && (err = rl_pdc_store_analysis(t->user_id,
	    p.plan_id, g.result, e)) != RL_OK)
		goto out;
	if ((*result = rl_pdc_preview(&p, (enum rl_pdc_kind)k,
	    str(pl, "field_name"), g.result, &g, t->id)) == NULL)
		err = rl_error_set(e, RL_ENOMEM, "out of memory");
out:
	rl_gen_free(&g);
	rl_pdc_prompt_free(&pp);
	rl_pdc_free(&p);
	return err;
}
