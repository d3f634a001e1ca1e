/*
 * plancadre.c: plan-cadre generation (the task) and the apply of a
 * preview (plancadre.h).
 *
 * The task reads the 21 sections of global_generation_settings, renders
 * each enabled one's Jinja text with EDxo's get_plan_cadre_data context,
 * builds the PlanCadreAIResponse schema restricted to those sections (and
 * to the targeted ones), and calls the model once through gen.c.  As in
 * EDxo B every generation is a preview: nothing of the plan is written
 * until the user applies the parts chosen, which happens here in one
 * transaction.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "edxo.h"
#include "gen.h"
#include "jinja.h"
#include "models.h"
#include "plancadre.h"
#include "programme.h"
#include "schema.h"
#include "worker.h"

enum kind {
	K_FIELD,	/* a text column of plan_cadre */
	K_LIST,		/* a (texte, description) table */
	K_SAVOIR_ETRE,
	K_CAPACITES,
	K_CAPSUB	/* guidance for the children of capacités */
};

/* The statements of one (texte, description) table, $1 the plan. */
struct listsql {
	const char	*del;	/* remove every row */
	const char	*ins;	/* insert $2's items */
	const char	*upd;	/* merge: set the description of same texte */
	const char	*add;	/* merge: insert items with a new texte */
};

#define LIST_SQL(t) {							\
	"DELETE FROM " t " WHERE plan_cadre_id = $1::bigint",		\
	"INSERT INTO " t " (plan_cadre_id, texte, description) "	\
	"SELECT $1::bigint, x->>'texte', x->>'description' "		\
	"FROM json_array_elements($2::json) x "				\
	"WHERE coalesce(btrim(x->>'texte'), '') <> ''",			\
	"UPDATE " t " y SET description = x.d FROM (SELECT DISTINCT ON " \
	"(x->>'texte') x->>'texte' AS t, x->>'description' AS d "	\
	"FROM json_array_elements($2::json) x) x "			\
	"WHERE y.plan_cadre_id = $1::bigint AND y.texte = x.t",		\
	"INSERT INTO " t " (plan_cadre_id, texte, description) "	\
	"SELECT $1::bigint, x->>'texte', x->>'description' "		\
	"FROM json_array_elements($2::json) x "				\
	"WHERE coalesce(btrim(x->>'texte'), '') <> '' AND NOT EXISTS "	\
	"(SELECT 1 FROM " t " y WHERE y.plan_cadre_id = $1::bigint "	\
	"AND y.texte = x->>'texte')" }

/* A section without a (texte, description) table. */
#define NO_SQL	{ NULL, NULL, NULL, NULL }

/*
 * The sections, keyed as global_generation_settings.target names them
 * (without the "plan_cadre." or "plan_cadre_" prefix) and as
 * PlanCadreAIResponse's properties do.  display is EDxo's key of the list
 * in proposed.fields_with_description.
 */
static const struct sec {
	const char	*key;
	enum kind	 kind;
	const char	*display;
	struct listsql	 sql;
} secs[] = {
	{ "place_intro", K_FIELD, NULL, NO_SQL },
	{ "objectif_terminal", K_FIELD, NULL, NO_SQL },
	{ "structure_intro", K_FIELD, NULL, NO_SQL },
	{ "structure_activites_theoriques", K_FIELD, NULL, NO_SQL },
	{ "structure_activites_pratiques", K_FIELD, NULL, NO_SQL },
	{ "structure_activites_prevues", K_FIELD, NULL, NO_SQL },
	{ "eval_evaluation_sommative", K_FIELD, NULL, NO_SQL },
	{ "eval_nature_evaluations_sommatives", K_FIELD, NULL, NO_SQL },
	{ "eval_evaluation_de_la_langue", K_FIELD, NULL, NO_SQL },
	{ "eval_evaluation_sommatives_apprentissages", K_FIELD, NULL, NO_SQL },
	{ "competences_developpees", K_LIST,
	    "Description des compétences développées",
	    LIST_SQL("plan_cadre_competences_developpees") },
	{ "competences_certifiees", K_LIST,
	    "Description des Compétences certifiées",
	    LIST_SQL("plan_cadre_competences_certifiees") },
	{ "cours_corequis", K_LIST, "Description des cours corequis",
	    LIST_SQL("plan_cadre_cours_corequis") },
	{ "objets_cibles", K_LIST, "Objets cibles",
	    LIST_SQL("plan_cadre_objets_cibles") },
	{ "cours_relies", K_LIST, "Description des cours reliés",
	    LIST_SQL("plan_cadre_cours_relies") },
	{ "cours_prealables", K_LIST, "Description des cours préalables",
	    LIST_SQL("plan_cadre_cours_prealables") },
	{ "savoir_etre", K_SAVOIR_ETRE, NULL, NO_SQL },
	{ "capacites", K_CAPACITES, NULL, NO_SQL },
	{ "capacite_savoirs_necessaires", K_CAPSUB, NULL, NO_SQL },
	{ "capacite_savoirs_faire", K_CAPSUB, NULL, NO_SQL },
	{ "capacite_moyens_evaluation", K_CAPSUB, NULL, NO_SQL },
};
#define NSECS	(sizeof(secs) / sizeof(secs[0]))

/* Action on a list when applying. */
enum action {
	A_KEEP,
	A_REPLACE,
	A_MERGE
};

/*
 * EDxo's get_plan_cadre_data(cours_id) for the cours "c": the context the
 * section templates are rendered with.  EDxo's keys, plus competence_code
 * where it only had ids.
 */
#define SQL_COMPETENCES_WITH(status)					\
	"coalesce((SELECT json_agg(json_build_object("			\
	"'competence_nom', k.nom, 'competence_id', k.id, "		\
	"'competence_code', k.code, "					\
	"'critere_performance', k.criteria_de_performance, "		\
	"'contexte_realisation', k.contexte_de_realisation) "		\
	"ORDER BY k.code, k.id) FROM competences k WHERE k.id IN "	\
	"(SELECT el.competence_id FROM element_competence_par_cours e " \
	"JOIN element_competence el ON el.id = e.element_competence_id " \
	"WHERE e.cours_id = c.id AND e.status = '" status "')), '[]')"

#define SQL_PLAN_CADRE_DATA						\
	"json_build_object("						\
	"'cours', json_build_object('nom', c.nom, 'code', c.code, "	\
	"'session', (SELECT min(cp.session) FROM cours_programme cp "	\
	"WHERE cp.cours_id = c.id), "					\
	"'heures_theorie', c.heures_theorie, "				\
	"'heures_laboratoire', c.heures_laboratoire, "			\
	"'heures_maison', c.heures_travail_maison), "			\
	"'programme', coalesce((SELECT p.nom FROM cours_programme cp "	\
	"JOIN programmes p ON p.id = cp.programme_id "			\
	"WHERE cp.cours_id = c.id ORDER BY cp.programme_id LIMIT 1), "	\
	"'Non défini'), "						\
	"'fil_conducteur', coalesce((SELECT f.description "		\
	"FROM fil_conducteur f WHERE f.id = c.fil_conducteur_id), "	\
	"'Non défini'), "						\
	"'elements_competences_developpees', coalesce((SELECT json_agg(" \
	"json_build_object('element_nom', el.nom, "			\
	"'element_competence_id', el.id, 'status', e.status, "		\
	"'competence_id', el.competence_id, "				\
	"'critere_performance', cr.criteria) ORDER BY el.id, cr.id) "	\
	"FROM element_competence_par_cours e "				\
	"JOIN element_competence el ON el.id = e.element_competence_id " \
	"LEFT JOIN element_competence_criteria cr "			\
	"ON cr.element_competence_id = el.id "				\
	"WHERE e.cours_id = c.id), '[]'), "				\
	"'competences_developpees', "					\
	SQL_COMPETENCES_WITH("Développé significativement") ", "	\
	"'competences_atteintes', " SQL_COMPETENCES_WITH("Atteint") ", " \
	"'cours_prealables', coalesce((SELECT json_agg(json_build_object(" \
	"'cours_prealable_code', o.code, 'cours_prealable_nom', o.nom, " \
	"'cours_prealable_id', o.id) ORDER BY o.code) "			\
	"FROM cours_prealable r JOIN cours o ON o.id = "		\
	"r.cours_prealable_id WHERE r.cours_id = c.id), '[]'), "	\
	"'prealables_of', coalesce((SELECT json_agg(json_build_object(" \
	"'cours_prealable_a_code', o.code, "				\
	"'cours_prealable_a_nom', o.nom, 'cours_prealable_a_id', o.id) " \
	"ORDER BY o.code) FROM cours_prealable r JOIN cours o "		\
	"ON o.id = r.cours_id WHERE r.cours_prealable_id = c.id), "	\
	"'[]'), "							\
	"'cours_corequis', coalesce((SELECT json_agg(json_build_object(" \
	"'cours_corequis_id', o.id, 'cours_corequis_nom', o.nom, "	\
	"'cours_corequis_code', o.code) ORDER BY o.code) "		\
	"FROM cours_corequis r JOIN cours o ON o.id = "			\
	"r.cours_corequis_id WHERE r.cours_id = c.id), '[]'), "		\
	"'cours_developpant_une_meme_competence', coalesce((SELECT "	\
	"json_agg(json_build_object('cours_nom', o.nom, 'cours_id', o.id, " \
	"'code', o.code, 'session', (SELECT min(cp.session) "		\
	"FROM cours_programme cp WHERE cp.cours_id = o.id)) "		\
	"ORDER BY o.code) FROM cours o WHERE o.id <> c.id AND o.id IN "	\
	"(SELECT e2.cours_id FROM element_competence_par_cours e2 "	\
	"WHERE e2.element_competence_id IN (SELECT e3.element_competence_id " \
	"FROM element_competence_par_cours e3 WHERE e3.cours_id = c.id))), " \
	"'[]'))"

/*
 * In improve mode EDxo also showed the model the plans-cadres of the
 * course's préalables and corequis: their objective and capacités.
 */
#define SQL_RELATED_PLANS						\
	"coalesce((SELECT json_agg(json_build_object('relation', r.rel, " \
	"'code', o.code, 'nom', o.nom, "				\
	"'objectif_terminal', p2.objectif_terminal, "			\
	"'capacites', coalesce((SELECT json_agg(k.capacite ORDER BY k.id) " \
	"FROM plan_cadre_capacites k WHERE k.plan_cadre_id = p2.id), "	\
	"'[]')) ORDER BY r.rel, o.code) FROM (SELECT "			\
	"x.cours_prealable_id AS id, 'prealable' AS rel "		\
	"FROM cours_prealable x WHERE x.cours_id = c.id UNION "		\
	"SELECT y.cours_corequis_id, 'corequis' FROM cours_corequis y "	\
	"WHERE y.cours_id = c.id) r JOIN cours o ON o.id = r.id "	\
	"JOIN plan_cadre p2 ON p2.cours_id = o.id), '[]')"

#define SQL_TEXTE_DESCRIPTION(t)					\
	"coalesce((SELECT json_agg(json_build_object('texte', x.texte, " \
	"'description', x.description) ORDER BY x.id) FROM " t " x "	\
	"WHERE x.plan_cadre_id = pc.id), '[]')"

/* The plan "pc" in the proposed shape. */
#define SQL_CURRENT							\
	"json_build_object('fields', json_build_object("		\
	RL_SQL_PLAN_CADRE_TEXTS "), "					\
	"'fields_with_description', json_build_object("		\
	"'Description des compétences développées', "		\
	SQL_TEXTE_DESCRIPTION("plan_cadre_competences_developpees") ", " \
	"'Description des Compétences certifiées', "			\
	SQL_TEXTE_DESCRIPTION("plan_cadre_competences_certifiees") ", " \
	"'Description des cours corequis', "				\
	SQL_TEXTE_DESCRIPTION("plan_cadre_cours_corequis") ", "		\
	"'Objets cibles', "						\
	SQL_TEXTE_DESCRIPTION("plan_cadre_objets_cibles") ", "		\
	"'Description des cours reliés', "				\
	SQL_TEXTE_DESCRIPTION("plan_cadre_cours_relies") ", "		\
	"'Description des cours préalables', "				\
	SQL_TEXTE_DESCRIPTION("plan_cadre_cours_prealables") "), "	\
	"'savoir_etre', coalesce((SELECT json_agg(x.texte ORDER BY x.id) " \
	"FROM plan_cadre_savoir_etre x WHERE x.plan_cadre_id = pc.id), " \
	"'[]'), "							\
	"'capacites', coalesce((SELECT json_agg(json_build_object("	\
	"'capacite', k.capacite, "					\
	"'description_capacite', k.description_capacite, "		\
	"'ponderation_min', k.ponderation_min, "			\
	"'ponderation_max', k.ponderation_max, "			\
	"'savoirs_necessaires', coalesce((SELECT json_agg(s.texte "	\
	"ORDER BY s.id) FROM plan_cadre_capacite_savoirs_necessaires s " \
	"WHERE s.capacite_id = k.id), '[]'), "				\
	"'savoirs_faire', coalesce((SELECT json_agg(json_build_object(" \
	"'texte', f.texte, 'cible', f.cible, "				\
	"'seuil_reussite', f.seuil_reussite) ORDER BY f.id) "		\
	"FROM plan_cadre_capacite_savoirs_faire f "			\
	"WHERE f.capacite_id = k.id), '[]'), "				\
	"'moyens_evaluation', coalesce((SELECT json_agg(m.texte "	\
	"ORDER BY m.id) FROM plan_cadre_capacite_moyens_evaluation m "	\
	"WHERE m.capacite_id = k.id), '[]')) ORDER BY k.id) "		\
	"FROM plan_cadre_capacites k WHERE k.plan_cadre_id = pc.id), '[]'))"

#define PLAN_CADRE_INSTRUCTIONS \
	"Rédige les sections demandées du plan-cadre du cours " \
	"décrit ci-dessous, pour un cégep québécois.  Suis la " \
	"consigne de chaque section (« prompt »).  Utilise un " \
	"langage neutre (« personne étudiante ») et les " \
	"guillemets français « ».  Chaque capacité a au moins " \
	"5 savoirs nécessaires, 5 savoirs-faire (chacun avec " \
	"son seuil de performance et son critère de réussite) " \
	"et 3 moyens d'évaluation.  Ne remplis que les sections " \
	"demandées.\n"

static const struct sec *
sec_find(const char *key)
{
	size_t	 i;

	if (key == NULL)
		return NULL;
	if (strcmp(key, "savoirs_etre") == 0)
		key = "savoir_etre";
	for (i = 0; i < NSECS; i++)
		if (strcmp(secs[i].key, key) == 0)
			return &secs[i];
	return NULL;
}

int
rl_plancadre_target_valid(const char *name)
{
	const struct sec	*s = sec_find(name);

	return s != NULL && s->kind != K_CAPSUB;
}

const char *
rl_plancadre_target(size_t i)
{
	size_t	 j;

	for (j = 0; j < NSECS; j++)
		if (secs[j].kind != K_CAPSUB && i-- == 0)
			return secs[j].key;
	return NULL;
}

/* The section key of a global_generation_settings target. */
static const struct sec *
sec_of_target(const char *target)
{

	if (target == NULL)
		return NULL;
	if (strncmp(target, "plan_cadre.", 11) == 0)
		return sec_find(target + 11);
	if (strncmp(target, "plan_cadre_", 11) == 0)
		return sec_find(target + 11);
	return NULL;
}

/* Is s asked for by targets (NULL or empty: every section)? */
static int
targeted(const struct sec *s, const json_t *targets)
{
	const json_t	*v;
	const struct sec *t;
	size_t		 i;

	if (json_array_size(targets) == 0)
		return 1;
	json_array_foreach(targets, i, v) {
		if ((t = sec_find(json_string_value(v))) == NULL)
			continue;
		if (t == s || (t->kind == K_CAPACITES && s->kind == K_CAPSUB))
			return 1;
	}
	return 0;
}

/* The current value of section s in the current-shape object cur. */
static const json_t *
current_of(const struct sec *s, const json_t *cur)
{

	switch (s->kind) {
	case K_FIELD:
		return json_object_get(json_object_get(cur, "fields"),
		    s->key);
	case K_LIST:
		return json_object_get(json_object_get(cur,
		    "fields_with_description"), s->display);
	case K_SAVOIR_ETRE:
		return json_object_get(cur, "savoir_etre");
	default:
		return json_object_get(cur, "capacites");
	}
}

/*
 * The schema sent: PlanCadreAIResponse restricted to the properties
 * asked for (strict mode wants every property required, so required is
 * rebuilt from what stays).
 */
static json_t *
restricted_schema(const json_t *keep)
{
	const struct rl_schema	*base;
	json_t			*s, *props, *req, *v;
	const char		*k;
	void			*it;

	if ((base = rl_schema_get("PlanCadreAIResponse")) == NULL ||
	    (s = json_deep_copy(rl_schema_json(base))) == NULL)
		return NULL;
	props = json_object_get(s, "properties");
	for (it = json_object_iter(props); it != NULL; ) {
		k = json_object_iter_key(it);
		it = json_object_iter_next(props, it);
		if (json_object_get(keep, k) == NULL)
			(void)json_object_del(props, k);
	}
	if ((req = json_array()) == NULL) {
		json_decref(s);
		return NULL;
	}
	json_object_foreach(props, k, v)
		(void)json_array_append_new(req, json_string(k));
	(void)json_object_set_new(s, "required", req);
	return s;
}

/* A model savoir-faire in the database's words (EDxo's aliases). */
static json_t *
savoir_faire(const json_t *f)
{
	const json_t	*cible, *seuil;

	if ((cible = json_object_get(f, "cible")) == NULL)
		cible = json_object_get(f, "seuil_performance");
	if ((seuil = json_object_get(f, "seuil_reussite")) == NULL)
		seuil = json_object_get(f, "critere_reussite");
	return json_pack("{s:O, s:O, s:O}", "texte", json_object_get(f,
	    "texte") ? json_object_get(f, "texte") : json_null(),
	    "cible", cible ? cible : json_null(),
	    "seuil_reussite", seuil ? seuil : json_null());
}

/* The model's answer as proposed {fields, fields_with_description...}. */
static json_t *
proposed_of(const json_t *answer, const json_t *keep)
{
	json_t			*p, *fields, *fwd, *caps, *c, *nc, *sf, *v;
	const struct sec	*s;
	const char		*k;
	size_t			 i, j;

	p = json_pack("{s:{}, s:{}, s:[], s:[]}", "fields",
	    "fields_with_description", "savoir_etre", "capacites");
	if (p == NULL)
		return NULL;
	fields = json_object_get(p, "fields");
	fwd = json_object_get(p, "fields_with_description");
	json_object_foreach((json_t *)(uintptr_t)keep, k, v) {
		if ((s = sec_find(k)) == NULL ||
		    (v = json_object_get(answer, k)) == NULL)
			continue;
		switch (s->kind) {
		case K_FIELD:
			(void)json_object_set(fields, k, v);
			break;
		case K_LIST:
			(void)json_object_set(fwd, s->display, v);
			break;
		case K_SAVOIR_ETRE:
			(void)json_object_set(p, "savoir_etre", v);
			break;
		case K_CAPACITES:
			caps = json_object_get(p, "capacites");
			json_array_foreach(v, i, c) {
				if ((nc = json_deep_copy(c)) == NULL)
					break;
				if ((sf = json_array()) == NULL) {
					json_decref(nc);
					break;
				}
				json_array_foreach(json_object_get(c,
				    "savoirs_faire"), j, v)
					(void)json_array_append_new(sf,
					    savoir_faire(v));
				(void)json_object_set_new(nc, "savoirs_faire",
				    sf);
				(void)json_array_append_new(caps, nc);
			}
			break;
		default:
			break;
		}
	}
	return p;
}

enum rl_err
rl_plancadre_gen_for(long long user_id, long long plan_id,
    const json_t *payload, struct rl_plancadre_gen *pg, struct rl_error *e)
{
	struct rl_gen		*g = &pg->g;
	json_t			*asked = NULL, *req = NULL, *row, *entry;
	const json_t		*targets, *cur, *data;
	const struct sec	*s;
	const char		*p[3], *mode, *add, *section;
	char			 uid[32], id[32];
	char			*rendered = NULL, *reqtext = NULL;
	size_t			 i;
	enum rl_err		 err;

	memset(pg, 0, sizeof(*pg));
	pg->plan_id = plan_id;
	mode = json_string_value(json_object_get(payload, "mode"));
	pg->improve = mode != NULL && (strcmp(mode, "improve") == 0 ||
	    strcmp(mode, "wand") == 0);
	targets = json_object_get(payload, "target_columns");
	add = json_string_value(json_object_get(payload, "additional_info"));
	(void)snprintf(uid, sizeof(uid), "%lld", user_id);
	(void)snprintf(id, sizeof(id), "%lld", plan_id);
	p[0] = uid;
	p[1] = "t";
	p[2] = id;
	if ((err = rl_db_json("SELECT json_build_object('plan_id', pc.id, "
	    "'cours_id', pc.cours_id, 'current', " SQL_CURRENT ", "
	    "'data', " SQL_PLAN_CADRE_DATA ", "
	    "'related', " SQL_RELATED_PLANS ", "
	    "'sections', coalesce((SELECT json_agg(json_build_object("
	    "'section', g.section, 'target', g.target, 'use_ai', g.use_ai, "
	    "'text_content', g.text_content) ORDER BY g.position) "
	    "FROM global_generation_settings g), '[]')) "
	    "FROM plan_cadre pc JOIN cours c ON c.id = pc.cours_id "
	    "WHERE pc.id = $3::bigint AND $1::bigint IS NOT NULL "
	    "AND $2::boolean", 3, p, &pg->ctx, e)) != RL_OK)
		goto out;
	if (json_is_null(pg->ctx)) {
		err = rl_error_set(e, RL_ENOTFOUND, "Plan-cadre introuvable.");
		goto out;
	}
	cur = json_object_get(pg->ctx, "current");
	data = json_object_get(pg->ctx, "data");

	/* The sections asked for, each with its rendered instruction. */
	asked = json_array();
	pg->keep = json_object();
	if (asked == NULL || pg->keep == NULL) {
		err = rl_error_set(e, RL_ENOMEM, "out of memory");
		goto out;
	}
	json_array_foreach(json_object_get(pg->ctx, "sections"), i, row) {
		section = json_string_value(json_object_get(row, "section"));
		if (!json_is_true(json_object_get(row, "use_ai")) ||
		    (s = sec_of_target(json_string_value(json_object_get(row,
		    "target")))) == NULL || !targeted(s, targets))
			continue;
		if ((err = rl_jinja_render(json_string_value(
		    json_object_get(row, "text_content")), data, &rendered,
		    e)) != RL_OK) {
			char	 why[RL_ERRMSG_MAX];

			/* e->msg is both the source and the target. */
			(void)snprintf(why, sizeof(why), "%s", e->msg);
			(void)rl_error_set(e, err, "Section « %s » : %s",
			    section, why);
			goto out;
		}
		entry = json_pack("{s:s, s:s, s:s}", "section", section,
		    "field_name", s->key, "prompt", rendered);
		free(rendered);
		rendered = NULL;
		if (entry == NULL) {
			err = rl_error_set(e, RL_ENOMEM, "out of memory");
			goto out;
		}
		if (pg->improve && s->kind != K_CAPSUB)
			(void)json_object_set_new(entry, "current_content",
			    current_of(s, cur) != NULL ? json_deep_copy(
			    current_of(s, cur)) : json_null());
		(void)json_array_append_new(asked, entry);
		(void)json_object_set_new(pg->keep, s->kind == K_CAPSUB ?
		    "capacites" : s->key, json_true());
	}
	if (json_array_size(asked) == 0) {
		err = rl_error_set(e, RL_EINVAL, "Aucune section à "
		    "générer : activez l'IA pour au moins une section "
		    "demandée.");
		goto out;
	}
	if ((err = rl_generation_settings(pg->improve ? "plan_cadre_improve" :
	    "plan_cadre", payload, &pg->settings, e)) != RL_OK)
		goto out;
	if ((pg->sj = restricted_schema(pg->keep)) == NULL ||
	    (req = json_pack("{s:s, s:O, s:O}", "mode", pg->improve ?
	    "improve" : "generate", "sections", asked, "cours", data)) ==
	    NULL || (pg->improve && json_object_set(req,
	    "plans_cadres_relies", json_object_get(pg->ctx, "related")) ==
	    -1)) {
		err = rl_error_set(e, RL_ENOMEM, "out of memory");
		goto out;
	}
	if ((reqtext = json_dumps(req, JSON_INDENT(1) |
	    JSON_PRESERVE_ORDER)) == NULL ||
	    asprintf(&pg->prompt, "%s\nDemande (JSON) :\n%s%s%s",
	    PLAN_CADRE_INSTRUCTIONS, reqtext,
	    add != NULL && *add != '\0' ? "\n\nInformations "
	    "complémentaires : " : "", add != NULL ? add : "") == -1) {
		pg->prompt = NULL;
		err = rl_error_set(e, RL_ENOMEM, "out of memory");
		goto out;
	}
	if ((pg->schema = rl_schema_compile(pg->sj, RL_SCHEMA_LAX, e)) ==
	    NULL) {
		err = e->code;
		goto out;
	}
	g->user_id = user_id;
	g->feature = "generate_plan_cadre_content";
	g->message = "Génération du plan-cadre en cours...";
	rl_gen_settings(g, pg->settings);
	g->prompt = pg->prompt;
	g->schema = pg->schema;
	g->schema_json = pg->sj;
	g->name = "PlanCadreAIResponse";
	g->strict = 1;
out:
	free(rendered);
	free(reqtext);
	json_decref(asked);
	json_decref(req);
	return err;
}

json_t *
rl_plancadre_preview(const struct rl_plancadre_gen *pg, const char *task_id)
{
	const struct rl_gen	*g = &pg->g;
	json_t			*proposed, *sections, *v, *r;
	const char		*section;
	char			 url[128], cost[32], msg[160];

	if ((proposed = proposed_of(g->result, pg->keep)) == NULL ||
	    (sections = json_array()) == NULL) {
		json_decref(proposed);
		return NULL;
	}
	(void)snprintf(url, sizeof(url), "/plan_cadre/%lld/review?task_id=%s",
	    pg->plan_id, task_id);
	(void)rl_micro_fmt(g->cost_micro, cost, sizeof(cost));
	json_object_foreach(pg->keep, section, v)
		(void)json_array_append_new(sections, json_string(section));
	(void)snprintf(msg, sizeof(msg), "Aperçu prêt : rien n'est "
	    "enregistré avant la validation. Coût: %s crédits.", cost);
	r = json_pack("{s:s, s:s, s:I, s:O, s:b, s:o, s:s, s:s?, s:o, s:s, "
	    "s:o}", "status", "success", "message", msg, "plan_id",
	    (json_int_t)pg->plan_id, "cours_id", json_object_get(pg->ctx,
	    "cours_id"), "preview", 1, "proposed", proposed,
	    "validation_url", url, "reasoning_summary", g->reasoning,
	    "usage", rl_gen_usage_json(g), "mode", pg->improve ? "improve" :
	    "generate", "sections", sections);
	return r;
}

void
rl_plancadre_gen_free(struct rl_plancadre_gen *pg)
{

	rl_gen_free(&pg->g);
	rl_schema_free(pg->schema);
	free(pg->prompt);
	json_decref(pg->ctx);
	json_decref(pg->settings);
	json_decref(pg->sj);
	json_decref(pg->keep);
	memset(pg, 0, sizeof(*pg));
}

enum rl_err
rl_plancadre_task(struct rl_task *t, json_t **result, struct rl_error *e)
{
	struct rl_plancadre_gen	 pg;
	enum rl_err		 err;

	memset(&pg, 0, sizeof(pg));
	*result = NULL;
	if (!json_is_integer(json_object_get(t->payload, "plan_id")))
		return rl_error_set(e, RL_EINVAL, "payload: plan_id manquant");
	if ((err = rl_plancadre_gen_for(t->user_id, json_integer_value(
	    json_object_get(t->payload, "plan_id")), t->payload, &pg, e)) !=
	    RL_OK)
		goto out;
	pg.g.task = t;
	if ((err = rl_gen_run(&pg.g, e)) != RL_OK)
		goto out;
	if ((*result = rl_plancadre_preview(&pg, t->id)) == NULL)
		err = rl_error_set(e, RL_ENOMEM, "out of memory");
out:
	rl_plancadre_gen_free(&pg);
	return err;
}

enum rl_err
rl_plancadre_save_request(long long plan_id, const char *additional_info,
    const char *model, struct rl_error *e)
{
	const char	*p[3];
	char		 id[32];

	(void)snprintf(id, sizeof(id), "%lld", plan_id);
	p[0] = id;
	p[1] = additional_info;
	p[2] = model;
	return rl_db_exec("UPDATE plan_cadre SET additional_info = "
	    "coalesce($2, additional_info), ai_model = $3 "
	    "WHERE id = $1::bigint", 3, p, NULL, e);
}

enum rl_err
rl_plancadre_current(long long plan_id, json_t **out, struct rl_error *e)
{
	const char	*p[1];
	char		 id[32];

	(void)snprintf(id, sizeof(id), "%lld", plan_id);
	p[0] = id;
	return rl_db_json("SELECT " SQL_CURRENT " FROM plan_cadre pc "
	    "WHERE pc.id = $1::bigint", 1, p, out, e);
}

/* A list of indices (integers or digit strings), or NULL for "all". */
static enum rl_err
pick(const json_t *items, const json_t *indices, const char *what,
    json_t **out, struct rl_error *e)
{
	const json_t	*v;
	long long	 n;
	size_t		 i;
	char		*end;

	*out = NULL;
	if (!json_is_array(items))
		items = NULL;
	if (json_array_size(items) > RL_PLANCADRE_MAX_ITEMS)
		return rl_error_field(e, RL_EINVAL, what, "Au plus %d "
		    "éléments.", RL_PLANCADRE_MAX_ITEMS);
	if (indices == NULL || json_is_null(indices)) {
		*out = items != NULL ? json_incref((json_t *)(uintptr_t)items) :
		    json_array();
		return *out != NULL ? RL_OK :
		    rl_error_set(e, RL_ENOMEM, "out of memory");
	}
	if (!json_is_array(indices))
		return rl_error_field(e, RL_EINVAL, what, "Une liste "
		    "d'indices est attendue.");
	if ((*out = json_array()) == NULL)
		return rl_error_set(e, RL_ENOMEM, "out of memory");
	json_array_foreach(indices, i, v) {
		if (json_is_integer(v))
			n = json_integer_value(v);
		else if (json_is_string(v) && *json_string_value(v) != '\0') {
			n = strtoll(json_string_value(v), &end, 10);
			if (*end != '\0')
				n = -1;
		} else
			n = -1;
		if (n < 0 || (size_t)n >= json_array_size(items)) {
			json_decref(*out);
			*out = NULL;
			return rl_error_field(e, RL_EINVAL, what, "Indice "
			    "hors de la proposition.");
		}
		(void)json_array_append(*out, json_array_get(items, n));
	}
	return RL_OK;
}

static enum rl_err
action_of(const json_t *choices, const char *key, const char *alias,
    int all, enum action *a, struct rl_error *e)
{
	const json_t	*act = json_object_get(choices, "action");
	const char	*v;

	v = json_string_value(json_object_get(act, key));
	if (v == NULL && alias != NULL)
		v = json_string_value(json_object_get(act, alias));
	if (v == NULL)
		*a = all ? A_REPLACE : A_KEEP;
	else if (strcmp(v, "keep") == 0)
		*a = A_KEEP;
	else if (strcmp(v, "replace") == 0)
		*a = A_REPLACE;
	else if (strcmp(v, "merge") == 0)
		*a = A_MERGE;
	else
		return rl_error_field(e, RL_EINVAL, key, "action : keep, "
		    "replace ou merge.");
	return RL_OK;
}

static const json_t *
indices_of(const json_t *choices, const char *key, const char *alias)
{
	const json_t	*ai = json_object_get(choices, "accept_items");
	const json_t	*v;

	if ((v = json_object_get(ai, key)) == NULL && alias != NULL)
		v = json_object_get(ai, alias);
	return v;
}

static const char *const action_names[] = { "keep", "replace", "merge" };

/* Children of capacité cid: $2 the items; merge skips texts present. */
static enum rl_err
cap_children(const char *cid, const json_t *c, const json_t *choices,
    size_t ci, int merge, struct rl_error *e)
{
	static const struct {
		const char	*key;
		const char	*ins;
	} kids[] = {
		{ "savoirs_necessaires",
		    "INSERT INTO plan_cadre_capacite_savoirs_necessaires "
		    "(capacite_id, texte) SELECT $1::bigint, t FROM "
		    "(SELECT CASE WHEN json_typeof(x) = 'string' THEN "
		    "x #>> '{}' ELSE x->>'texte' END AS t "
		    "FROM json_array_elements($2::json) x) y "
		    "WHERE coalesce(btrim(t), '') <> '' AND ($3::boolean IS "
		    "FALSE OR NOT EXISTS (SELECT 1 FROM "
		    "plan_cadre_capacite_savoirs_necessaires z "
		    "WHERE z.capacite_id = $1::bigint AND z.texte = t))" },
		{ "savoirs_faire",
		    "INSERT INTO plan_cadre_capacite_savoirs_faire "
		    "(capacite_id, texte, cible, seuil_reussite) "
		    "SELECT $1::bigint, x->>'texte', coalesce(x->>'cible', "
		    "x->>'seuil_performance'), coalesce(x->>'seuil_reussite', "
		    "x->>'critere_reussite') FROM "
		    "json_array_elements($2::json) x WHERE "
		    "coalesce(btrim(x->>'texte'), '') <> '' AND "
		    "($3::boolean IS FALSE OR NOT EXISTS (SELECT 1 FROM "
		    "plan_cadre_capacite_savoirs_faire z "
		    "WHERE z.capacite_id = $1::bigint AND "
		    "z.texte = x->>'texte'))" },
		{ "moyens_evaluation",
		    "INSERT INTO plan_cadre_capacite_moyens_evaluation "
		    "(capacite_id, texte) SELECT $1::bigint, t FROM "
		    "(SELECT CASE WHEN json_typeof(x) = 'string' THEN "
		    "x #>> '{}' ELSE x->>'texte' END AS t "
		    "FROM json_array_elements($2::json) x) y "
		    "WHERE coalesce(btrim(t), '') <> '' AND ($3::boolean IS "
		    "FALSE OR NOT EXISTS (SELECT 1 FROM "
		    "plan_cadre_capacite_moyens_evaluation z "
		    "WHERE z.capacite_id = $1::bigint AND z.texte = t))" },
	};
	const char	*p[3];
	char		 key[96], *items;
	json_t		*sel;
	size_t		 k;
	enum rl_err	 err;

	for (k = 0; k < sizeof(kids) / sizeof(kids[0]); k++) {
		(void)snprintf(key, sizeof(key), "capacites.%zu.%s", ci,
		    kids[k].key);
		if ((err = pick(json_object_get(c, kids[k].key),
		    indices_of(choices, key, NULL), key, &sel, e)) != RL_OK)
			return err;
		items = json_dumps(sel, JSON_COMPACT);
		json_decref(sel);
		if (items == NULL)
			return rl_error_set(e, RL_ENOMEM, "out of memory");
		p[0] = cid;
		p[1] = items;
		p[2] = merge ? "t" : "f";
		err = rl_db_exec(kids[k].ins, 3, p, NULL, e);
		free(items);
		if (err != RL_OK)
			return err;
	}
	return RL_OK;
}

/* A percentage the table accepts (0..100), from what the model gave. */
static void
pct(const json_t *v, char *buf, size_t bufsz)
{
	long long	 n;

	n = json_is_number(v) ? (long long)json_number_value(v) : 0;

	(void)snprintf(buf, bufsz, "%lld", n < 0 ? 0 : n > 100 ? 100 : n);
}

static enum rl_err
apply_capacites(const char *pid, const json_t *proposed,
    const json_t *choices, enum action a, struct rl_error *e)
{
	const json_t	*all = json_object_get(proposed, "capacites");
	const json_t	*idx = indices_of(choices, "capacites", NULL);
	const json_t	*c, *v;
	struct rl_dbres	*res = NULL;
	const char	*p[5], *name;
	char		 cid[32], pmin[8], pmax[8];
	size_t		 i, n, ci;
	long long	 k;
	enum rl_err	 err;

	if (json_array_size(all) > RL_PLANCADRE_MAX_CAPACITES)
		return rl_error_field(e, RL_EINVAL, "capacites", "Au plus %d "
		    "capacités.", RL_PLANCADRE_MAX_CAPACITES);
	p[0] = pid;
	if (a == A_REPLACE && (err = rl_db_exec("DELETE FROM "
	    "plan_cadre_capacites WHERE plan_cadre_id = $1::bigint", 1, p,
	    NULL, e)) != RL_OK)
		return err;
	n = json_is_array(idx) ? json_array_size(idx) : json_array_size(all);
	for (i = 0; i < n; i++) {
		/* ci: the capacité's index in the proposal. */
		ci = i;
		if (json_is_array(idx)) {
			v = json_array_get(idx, i);
			k = json_is_integer(v) ? json_integer_value(v) :
			    json_is_string(v) ? strtoll(json_string_value(v),
			    NULL, 10) : -1;
			if (k < 0 || (size_t)k >= json_array_size(all))
				return rl_error_field(e, RL_EINVAL,
				    "capacites", "Indice hors de la "
				    "proposition.");
			ci = (size_t)k;
		}
		c = json_array_get(all, ci);
		name = json_string_value(json_object_get(c, "capacite"));
		if (name == NULL || *name == '\0')
			continue;
		cid[0] = '\0';
		if (a == A_MERGE) {
			p[1] = name;
			if ((err = rl_db_exec("SELECT id FROM "
			    "plan_cadre_capacites WHERE plan_cadre_id = "
			    "$1::bigint AND capacite = $2 ORDER BY id LIMIT 1",
			    2, p, &res, e)) != RL_OK)
				return err;
			if (rl_dbres_rows(res) == 1)
				(void)snprintf(cid, sizeof(cid), "%s",
				    rl_dbres_get(res, 0, 0));
			rl_dbres_free(res);
			res = NULL;
		}
		if (cid[0] == '\0') {
			pct(json_object_get(c, "ponderation_min"), pmin,
			    sizeof(pmin));
			pct(json_object_get(c, "ponderation_max"), pmax,
			    sizeof(pmax));
			p[1] = name;
			p[2] = json_string_value(json_object_get(c,
			    "description_capacite"));
			p[3] = pmin;
			p[4] = pmax;
			if ((err = rl_db_exec("INSERT INTO "
			    "plan_cadre_capacites (plan_cadre_id, capacite, "
			    "description_capacite, "
			    "ponderation_min, ponderation_max) VALUES "
			    "($1::bigint, $2, $3, $4::integer, $5::integer) "
			    "RETURNING id", 5, p, &res, e)) != RL_OK)
				return err;
			(void)snprintf(cid, sizeof(cid), "%s",
			    rl_dbres_get(res, 0, 0));
			rl_dbres_free(res);
			res = NULL;
		}
		if ((err = cap_children(cid, c, choices, ci, a == A_MERGE,
		    e)) != RL_OK)
			return err;
	}
	return RL_OK;
}

/* The proposed list of section s (display name or key). */
static const json_t *
proposed_list(const json_t *proposed, const struct sec *s)
{
	const json_t	*fwd = json_object_get(proposed,
			    "fields_with_description");
	const json_t	*v;

	if ((v = json_object_get(fwd, s->display)) == NULL)
		v = json_object_get(fwd, s->key);
	return v;
}

enum rl_err
rl_plancadre_apply(long long plan_id, long long user_id,
    const json_t *proposed, const json_t *choices, json_t **answer,
    struct rl_error *e)
{
	const struct sec	*s;
	const json_t		*keys, *v, *pf, *kv;
	json_t			*fields = NULL, *applied = NULL, *sel = NULL;
	json_t			*lists;
	struct rl_dbres		*res = NULL;
	const char		*p[3];
	char			 pid[32], uid[32], cours[32], url[96];
	const char		*sp[3];
	char			*js = NULL;
	size_t			 i;
	enum action		 a;
	enum rl_err		 err;
	int			 all, began = 0;

	*answer = NULL;
	if (!json_is_object(proposed))
		return rl_error_set(e, RL_EINVAL, "Cette tâche n'a pas "
		    "d'aperçu à appliquer.");
	all = json_is_true(json_object_get(choices, "accept_all"));
	pf = json_object_get(proposed, "fields");
	if ((fields = json_object()) == NULL ||
	    (applied = json_pack("{s:[], s:{}}", "fields", "lists")) == NULL) {
		err = rl_error_set(e, RL_ENOMEM, "out of memory");
		goto out;
	}
	lists = json_object_get(applied, "lists");
	/* Text columns: the accepted keys the proposal has. */
	keys = json_object_get(choices, "accept_fields_keys");
	for (i = 0; i < NSECS; i++) {
		size_t		 j;
		int		 take = all;

		if (secs[i].kind != K_FIELD ||
		    (v = json_object_get(pf, secs[i].key)) == NULL ||
		    !json_is_string(v))
			continue;
		/* A list of columns, or one as a string. */
		if (json_is_string(keys) && strcmp(json_string_value(keys),
		    secs[i].key) == 0)
			take = 1;
		json_array_foreach(keys, j, kv)
			if (json_is_string(kv) && strcmp(json_string_value(kv),
			    secs[i].key) == 0)
				take = 1;
		if (!take)
			continue;
		(void)json_object_set_new(fields, secs[i].key,
		    json_deep_copy(v));
		(void)json_array_append_new(json_object_get(applied, "fields"),
		    json_string(secs[i].key));
	}
	(void)snprintf(pid, sizeof(pid), "%lld", plan_id);
	(void)snprintf(uid, sizeof(uid), "%lld", user_id);
	if ((err = rl_db_begin(e)) != RL_OK)
		goto out;
	began = 1;
	p[0] = pid;
	if ((err = rl_db_exec("SELECT cours_id FROM plan_cadre "
	    "WHERE id = $1::bigint FOR UPDATE", 1, p, &res, e)) != RL_OK)
		goto out;
	if (rl_dbres_rows(res) != 1) {
		err = rl_error_set(e, RL_ENOTFOUND, "Plan-cadre introuvable.");
		goto out;
	}
	(void)snprintf(cours, sizeof(cours), "%s", rl_dbres_get(res, 0, 0));
	rl_dbres_free(res);
	res = NULL;
	if ((js = json_dumps(fields, JSON_COMPACT)) == NULL) {
		err = rl_error_set(e, RL_ENOMEM, "out of memory");
		goto out;
	}
	p[1] = js;
	p[2] = uid;
	if (json_object_size(fields) > 0 && (err = rl_db_exec("UPDATE "
	    "plan_cadre SET "
	    "place_intro = CASE WHEN $2::jsonb ? 'place_intro' "
	    "THEN $2::jsonb->>'place_intro' ELSE place_intro END, "
	    "objectif_terminal = CASE WHEN $2::jsonb ? 'objectif_terminal' "
	    "THEN $2::jsonb->>'objectif_terminal' ELSE objectif_terminal END, "
	    "structure_intro = CASE WHEN $2::jsonb ? 'structure_intro' "
	    "THEN $2::jsonb->>'structure_intro' ELSE structure_intro END, "
	    "structure_activites_theoriques = CASE WHEN $2::jsonb ? "
	    "'structure_activites_theoriques' THEN "
	    "$2::jsonb->>'structure_activites_theoriques' "
	    "ELSE structure_activites_theoriques END, "
	    "structure_activites_pratiques = CASE WHEN $2::jsonb ? "
	    "'structure_activites_pratiques' THEN "
	    "$2::jsonb->>'structure_activites_pratiques' "
	    "ELSE structure_activites_pratiques END, "
	    "structure_activites_prevues = CASE WHEN $2::jsonb ? "
	    "'structure_activites_prevues' THEN "
	    "$2::jsonb->>'structure_activites_prevues' "
	    "ELSE structure_activites_prevues END, "
	    "eval_evaluation_sommative = CASE WHEN $2::jsonb ? "
	    "'eval_evaluation_sommative' THEN "
	    "$2::jsonb->>'eval_evaluation_sommative' "
	    "ELSE eval_evaluation_sommative END, "
	    "eval_nature_evaluations_sommatives = CASE WHEN $2::jsonb ? "
	    "'eval_nature_evaluations_sommatives' THEN "
	    "$2::jsonb->>'eval_nature_evaluations_sommatives' "
	    "ELSE eval_nature_evaluations_sommatives END, "
	    "eval_evaluation_de_la_langue = CASE WHEN $2::jsonb ? "
	    "'eval_evaluation_de_la_langue' THEN "
	    "$2::jsonb->>'eval_evaluation_de_la_langue' "
	    "ELSE eval_evaluation_de_la_langue END, "
	    "eval_evaluation_sommatives_apprentissages = CASE WHEN "
	    "$2::jsonb ? 'eval_evaluation_sommatives_apprentissages' THEN "
	    "$2::jsonb->>'eval_evaluation_sommatives_apprentissages' "
	    "ELSE eval_evaluation_sommatives_apprentissages END, "
	    "modified_by_id = $3::bigint, modified_at = now() "
	    "WHERE id = $1::bigint", 3, p, NULL, e)) != RL_OK)
		goto out;
	free(js);
	js = NULL;
	/* The six lists. */
	for (i = 0; i < NSECS; i++) {
		s = &secs[i];
		if (s->kind != K_LIST || (v = proposed_list(proposed, s)) ==
		    NULL)
			continue;
		if ((err = action_of(choices, s->key, s->display, all, &a,
		    e)) != RL_OK)
			goto out;
		if (a == A_KEEP)
			continue;
		if ((err = pick(v, indices_of(choices, s->key, s->display),
		    s->key, &sel, e)) != RL_OK)
			goto out;
		js = json_dumps(sel, JSON_COMPACT);
		json_decref(sel);
		sel = NULL;
		if (js == NULL) {
			err = rl_error_set(e, RL_ENOMEM, "out of memory");
			goto out;
		}
		p[1] = js;
		if (a == A_REPLACE)
			err = rl_db_exec(s->sql.del, 1, p, NULL, e);
		if (err == RL_OK)
			err = rl_db_exec(a == A_REPLACE ? s->sql.ins :
			    s->sql.upd, 2, p, NULL, e);
		if (err == RL_OK && a == A_MERGE)
			err = rl_db_exec(s->sql.add, 2, p, NULL, e);
		free(js);
		js = NULL;
		if (err != RL_OK)
			goto out;
		(void)json_object_set_new(lists, s->key,
		    json_string(action_names[a]));
	}
	/* Savoirs-être. */
	if ((v = json_object_get(proposed, "savoir_etre")) != NULL &&
	    json_array_size(v) > 0) {
		if ((err = action_of(choices, "savoirs_etre", "savoir_etre",
		    all, &a, e)) != RL_OK)
			goto out;
		if (a != A_KEEP) {
			if ((err = pick(v, indices_of(choices, "savoirs_etre",
			    "savoir_etre"), "savoirs_etre", &sel, e)) != RL_OK)
				goto out;
			js = json_dumps(sel, JSON_COMPACT);
			json_decref(sel);
			sel = NULL;
			if (js == NULL) {
				err = rl_error_set(e, RL_ENOMEM,
				    "out of memory");
				goto out;
			}
			sp[0] = pid;
			sp[1] = js;
			sp[2] = a == A_MERGE ? "t" : "f";
			if (a == A_REPLACE)
				err = rl_db_exec("DELETE FROM "
				    "plan_cadre_savoir_etre "
				    "WHERE plan_cadre_id = $1::bigint", 1, sp,
				    NULL, e);
			if (err == RL_OK)
				err = rl_db_exec("INSERT INTO "
				    "plan_cadre_savoir_etre "
				    "(plan_cadre_id, texte) SELECT $1::bigint, "
				    "t FROM (SELECT CASE WHEN json_typeof(x) = "
				    "'string' THEN x #>> '{}' ELSE x->>'texte' "
				    "END AS t FROM "
				    "json_array_elements($2::json) x) y WHERE "
				    "coalesce(btrim(t), '') <> '' "
				    "AND ($3::boolean IS FALSE OR NOT EXISTS "
				    "(SELECT 1 FROM plan_cadre_savoir_etre z "
				    "WHERE z.plan_cadre_id = $1::bigint AND "
				    "z.texte = t))", 3, sp, NULL, e);
			free(js);
			js = NULL;
			if (err != RL_OK)
				goto out;
			(void)json_object_set_new(lists, "savoirs_etre",
			    json_string(action_names[a]));
		}
	}
	/* Capacités and their children. */
	if ((v = json_object_get(proposed, "capacites")) != NULL &&
	    json_array_size(v) > 0) {
		if ((err = action_of(choices, "capacites", NULL, all, &a,
		    e)) != RL_OK)
			goto out;
		if (a != A_KEEP) {
			if ((err = apply_capacites(pid, proposed, choices, a,
			    e)) != RL_OK)
				goto out;
			(void)json_object_set_new(lists, "capacites",
			    json_string(action_names[a]));
		}
	}
	/* Who changed the lists, when only lists changed. */
	if (json_object_size(fields) == 0 && json_object_size(lists) > 0) {
		p[1] = uid;
		if ((err = rl_db_exec("UPDATE plan_cadre SET modified_by_id = "
		    "$2::bigint, modified_at = now() WHERE id = $1::bigint", 2,
		    p, NULL, e)) != RL_OK)
			goto out;
	}
	if ((err = rl_db_commit(e)) != RL_OK)
		goto out;
	began = 0;
	(void)snprintf(url, sizeof(url), "/cours/%s/plan_cadre/%lld", cours,
	    plan_id);
	if ((*answer = json_pack("{s:b, s:s, s:O, s:I, s:I, s:s}",
	    "success", 1, "message", "Modifications appliquées au "
	    "plan-cadre.", "applied", applied, "plan_id", (json_int_t)plan_id,
	    "cours_id", (json_int_t)strtoll(cours, NULL, 10), "redirect_url",
	    url)) == NULL)
		err = rl_error_set(e, RL_ENOMEM, "out of memory");
out:
	if (began)
		rl_db_rollback();
	rl_dbres_free(res);
	free(js);
	json_decref(sel);
	json_decref(fields);
	json_decref(applied);
	return err;
}
