/*
 * api: EDxo's read API under /api (programmes, cours, compétences,
 * plans-cadres, plans de cours), for any authenticated user and limited to
 * the programmes that user belongs to.  PostgreSQL builds every answer
 * (json_build_object, json_agg), so a handler is one query.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "db.h"
#include "fcgi.h"
#include "req.h"
#include "resp.h"

/*
 * Who sees what, in one place.  Admins see everything; everyone else sees
 * the programmes they belong to (user_programme), the cours placed in one
 * of them (cours_programme), the compétences of one of them (their
 * programme_id or competence_programme), and the plans of a visible cours.
 * Every query takes $1 = the user's id and $2 = whether the user is an
 * admin, then its own parameters from $3: first, because PostgreSQL must
 * see every numbered parameter used to type it, and the list routes have
 * no id.  Something not visible answers 404, exactly as something that
 * does not exist, so ids do not leak.
 */
#define MINE	"(SELECT up.programme_id FROM user_programme up " \
		"WHERE up.user_id = $1::bigint)"
#define SEE_PROGRAMME(x)						\
	"($2::boolean OR " x " IN " MINE ")"
#define SEE_COURS(x)							\
	"($2::boolean OR " x " IN (SELECT vc.cours_id "			\
	"FROM cours_programme vc WHERE vc.programme_id IN " MINE "))"
#define SEE_COMPETENCE(x)						\
	"($2::boolean OR " x " IN (SELECT vk.id FROM competences vk "	\
	"WHERE vk.programme_id IN " MINE ") OR " x " IN "		\
	"(SELECT vp.competence_id FROM competence_programme vp "	\
	"WHERE vp.programme_id IN " MINE "))"

/* A json_agg that is [] rather than NULL over no rows. */
#define LIST(expr, from)						\
	"coalesce((SELECT json_agg(" expr ") " from "), '[]')"

/* The (id, texte, description) lists of a plan-cadre "pc". */
#define TEXTE_DESCRIPTION(table)					\
	LIST("json_build_object('id', x.id, 'texte', x.texte, "		\
	"'description', x.description) ORDER BY x.id",			\
	"FROM " table " x WHERE x.plan_cadre_id = pc.id")

/*
 * PlanCadre.to_dict() of the plan-cadre "pc", as EDxo's models.py writes
 * it: the columns, cours_info, then every child list.  cours_info's
 * programme_id is EDxo's legacy "first programme of the cours", here the
 * first one the user may see.
 */
#define PLAN_CADRE_DICT							\
	"json_build_object('id', pc.id, 'cours_id', pc.cours_id, "	\
	"'place_intro', pc.place_intro, "				\
	"'objectif_terminal', pc.objectif_terminal, "			\
	"'structure_intro', pc.structure_intro, "			\
	"'structure_activites_theoriques', "				\
	"pc.structure_activites_theoriques, "				\
	"'structure_activites_pratiques', "				\
	"pc.structure_activites_pratiques, "				\
	"'structure_activites_prevues', pc.structure_activites_prevues, " \
	"'eval_evaluation_sommative', pc.eval_evaluation_sommative, "	\
	"'eval_nature_evaluations_sommatives', "			\
	"pc.eval_nature_evaluations_sommatives, "			\
	"'eval_evaluation_de_la_langue', "				\
	"pc.eval_evaluation_de_la_langue, "				\
	"'eval_evaluation_sommatives_apprentissages', "			\
	"pc.eval_evaluation_sommatives_apprentissages, "		\
	"'additional_info', pc.additional_info, "			\
	"'ai_model', pc.ai_model, "					\
	"'cours_info', (SELECT json_build_object('id', c.id, "		\
	"'code', c.code, 'nom', c.nom, 'programme_id', "		\
	"(SELECT min(cp.programme_id) FROM cours_programme cp "		\
	"WHERE cp.cours_id = c.id AND "					\
	SEE_PROGRAMME("cp.programme_id") ")) "				\
	"FROM cours c WHERE c.id = pc.cours_id), "			\
	"'capacites', "							\
	LIST("json_build_object('id', k.id, 'capacite', k.capacite, "	\
	"'description_capacite', k.description_capacite, "		\
	"'ponderation_min', k.ponderation_min, "			\
	"'ponderation_max', k.ponderation_max, "			\
	"'savoirs_necessaires', "					\
	LIST("json_build_object('id', s.id, 'texte', s.texte) "		\
	"ORDER BY s.id",						\
	"FROM plan_cadre_capacite_savoirs_necessaires s "		\
	"WHERE s.capacite_id = k.id") ", "				\
	"'savoirs_faire', "						\
	LIST("json_build_object('id', f.id, 'texte', f.texte, "		\
	"'cible', f.cible, 'seuil_reussite', f.seuil_reussite) "	\
	"ORDER BY f.id",						\
	"FROM plan_cadre_capacite_savoirs_faire f "			\
	"WHERE f.capacite_id = k.id") ", "				\
	"'moyens_evaluation', "						\
	LIST("json_build_object('id', m.id, 'texte', m.texte) "		\
	"ORDER BY m.id",						\
	"FROM plan_cadre_capacite_moyens_evaluation m "			\
	"WHERE m.capacite_id = k.id") ") ORDER BY k.id",		\
	"FROM plan_cadre_capacites k WHERE k.plan_cadre_id = pc.id") ", " \
	"'savoirs_etre', "						\
	LIST("json_build_object('id', e.id, 'texte', e.texte) "		\
	"ORDER BY e.id",						\
	"FROM plan_cadre_savoir_etre e WHERE e.plan_cadre_id = pc.id") ", " \
	"'objets_cibles', "						\
	TEXTE_DESCRIPTION("plan_cadre_objets_cibles") ", "		\
	"'cours_relies', "						\
	TEXTE_DESCRIPTION("plan_cadre_cours_relies") ", "		\
	"'cours_prealables', "						\
	TEXTE_DESCRIPTION("plan_cadre_cours_prealables") ", "		\
	"'cours_corequis', "						\
	TEXTE_DESCRIPTION("plan_cadre_cours_corequis") ", "		\
	"'competences_certifiees', "					\
	TEXTE_DESCRIPTION("plan_cadre_competences_certifiees") ", "	\
	"'competences_developpees', "					\
	TEXTE_DESCRIPTION("plan_cadre_competences_developpees") ")"

/* PlanDeCours.to_dict() of the plan de cours "d", as EDxo writes it. */
#define PLAN_DE_COURS_DICT						\
	"json_build_object('id', d.id, 'cours_id', d.cours_id, "	\
	"'session', d.session, 'campus', d.campus, "			\
	"'nom_enseignant', d.nom_enseignant, "				\
	"'telephone_enseignant', d.telephone_enseignant, "		\
	"'courriel_enseignant', d.courriel_enseignant, "		\
	"'bureau_enseignant', d.bureau_enseignant, "			\
	"'presentation_du_cours', d.presentation_du_cours, "		\
	"'objectif_terminal_du_cours', d.objectif_terminal_du_cours, "	\
	"'organisation_et_methodes', d.organisation_et_methodes, "	\
	"'accomodement', d.accomodement, "				\
	"'evaluation_formative_apprentissages', "			\
	"d.evaluation_formative_apprentissages, "			\
	"'evaluation_expression_francais', "				\
	"d.evaluation_expression_francais, "				\
	"'seuil_reussite', d.seuil_reussite, "				\
	"'place_et_role_du_cours', d.place_et_role_du_cours, "		\
	"'materiel', d.materiel, "					\
	"'compatibility_percentage', d.compatibility_percentage, "	\
	"'recommendation_ameliore', d.recommendation_ameliore, "	\
	"'recommendation_plan_cadre', d.recommendation_plan_cadre, "	\
	"'modified_by', (SELECT json_build_object('id', u.id, "		\
	"'username', u.username) FROM users u "				\
	"WHERE u.id = d.modified_by_id), "				\
	"'modified_at', to_char(d.modified_at AT TIME ZONE 'UTC', "	\
	"'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "				\
	"'cours_info', (SELECT json_build_object('code', c.code, "	\
	"'nom', c.nom, 'programme_id', "				\
	"(SELECT min(cp.programme_id) FROM cours_programme cp "		\
	"WHERE cp.cours_id = c.id AND "					\
	SEE_PROGRAMME("cp.programme_id") ")) "				\
	"FROM cours c WHERE c.id = d.cours_id), "			\
	"'calendriers', "						\
	LIST("json_build_object('semaine', k.semaine, "			\
	"'sujet', k.sujet, 'activites', k.activites, "			\
	"'travaux_hors_classe', k.travaux_hors_classe, "		\
	"'evaluations', k.evaluations) ORDER BY k.semaine, k.id",	\
	"FROM plan_de_cours_calendrier k "				\
	"WHERE k.plan_de_cours_id = d.id") ", "				\
	"'mediagraphies', "						\
	LIST("json_build_object('reference_bibliographique', "		\
	"m.reference_bibliographique) ORDER BY m.id",			\
	"FROM plan_de_cours_mediagraphie m "				\
	"WHERE m.plan_de_cours_id = d.id") ", "				\
	"'disponibilites', "						\
	LIST("json_build_object('jour_semaine', a.jour_semaine, "	\
	"'plage_horaire', a.plage_horaire, 'lieu', a.lieu) "		\
	"ORDER BY a.id",						\
	"FROM plan_de_cours_disponibilite_enseignant a "		\
	"WHERE a.plan_de_cours_id = d.id") ", "				\
	"'evaluations', "						\
	LIST("json_build_object('titre_evaluation', v.titre_evaluation, " \
	"'description', v.description, 'semaine', v.semaine) "		\
	"ORDER BY v.id",						\
	"FROM plan_de_cours_evaluations v "				\
	"WHERE v.plan_de_cours_id = d.id") ")"

/* The [{id, code, nom}] of cours "c" and compétences "k". */
#define COURS_ITEM	"json_build_object('id', c.id, 'code', c.code, " \
			"'nom', c.nom)"
#define COMPETENCE_ITEM	"json_build_object('id', k.id, 'code', k.code, " \
			"'nom', k.nom)"

/*
 * The sections /api/plan_cadre/<id>/section/<section> answers: the text
 * columns and the child lists, by their PlanCadre.to_dict() names.  EDxo
 * answered any attribute (hasattr); a fixed list keeps ids and foreign
 * keys out and lets a typo get a useful 400.
 */
static const char *const sections[] = {
	"place_intro", "objectif_terminal", "structure_intro",
	"structure_activites_theoriques", "structure_activites_pratiques",
	"structure_activites_prevues", "eval_evaluation_sommative",
	"eval_nature_evaluations_sommatives", "eval_evaluation_de_la_langue",
	"eval_evaluation_sommatives_apprentissages", "additional_info",
	"ai_model", "capacites", "savoirs_etre", "objets_cibles",
	"cours_relies", "cours_prealables", "cours_corequis",
	"competences_certifiees", "competences_developpees",
};

#define NSECTIONS	(sizeof(sections) / sizeof(sections[0]))

/*
 * Run sql with the user's id and admin flag as $1 and $2, then arg3 and
 * arg4 when not NULL.  *v is the first column of the first row, JSON null
 * when there is no row.
 */
static enum rl_err
query(struct rl_req *req, const char *sql, const char *arg3,
    const char *arg4, json_t **v, struct rl_error *e)
{
	const char	*p[4];
	char		 uid[32];
	int		 n = 2;

	(void)snprintf(uid, sizeof(uid), "%lld", req->user->id);
	p[0] = uid;
	p[1] = req->user->role == RL_ROLE_ADMIN ? "t" : "f";
	if (arg3 != NULL)
		p[n++] = arg3;
	if (arg4 != NULL)
		p[n++] = arg4;
	return rl_db_json(sql, n, p, v, e);
}

/*
 * The <int:id> path parameter, back as canonical decimal text for $3
 * (strtoll has checked it, so PostgreSQL never sees an odd spelling).
 */
static enum rl_err
id_param(struct rl_req *req, char *buf, size_t bufsz, struct rl_error *e)
{
	long long	 id;
	enum rl_err	 err;

	if ((err = rl_req_param_int(req, "id", &id, e)) != RL_OK)
		return err;
	(void)snprintf(buf, bufsz, "%lld", id);
	return RL_OK;
}

/*
 * An object query keyed by the path's id: 200 with the row's JSON, or 404
 * when there is no row (absent or not visible: the same answer).
 */
static enum rl_err
by_id(struct rl_req *req, const char *sql, const char *what,
    struct rl_error *e)
{
	char		 id[32];
	json_t		*v;
	enum rl_err	 err;

	if ((err = id_param(req, id, sizeof(id), e)) != RL_OK ||
	    (err = query(req, sql, id, NULL, &v, e)) != RL_OK)
		return err;
	if (json_is_null(v)) {
		json_decref(v);
		return rl_error_set(e, RL_ENOTFOUND, "no such %s", what);
	}
	return rl_resp_json_new(req, 200, v);
}

/* GET /api/programmes → [{id, nom}] */
static enum rl_err
programmes(struct rl_req *req, struct rl_error *e)
{
	json_t		*v;
	enum rl_err	 err;

	if ((err = query(req, "SELECT " LIST("json_build_object('id', p.id, "
	    "'nom', p.nom) ORDER BY p.id", "FROM programmes p WHERE "
	    SEE_PROGRAMME("p.id")), NULL, NULL, &v, e)) != RL_OK)
		return err;
	return rl_resp_json_new(req, 200, v);
}

/* GET /api/programmes/<int:id>/cours → [{id, code, nom}] */
static enum rl_err
programme_cours(struct rl_req *req, struct rl_error *e)
{

	return by_id(req, "SELECT " LIST(COURS_ITEM " ORDER BY c.id",
	    "FROM cours c JOIN cours_programme cp ON cp.cours_id = c.id "
	    "WHERE cp.programme_id = p.id") " FROM programmes p "
	    "WHERE p.id = $3::bigint AND " SEE_PROGRAMME("p.id"),
	    "programme", e);
}

/*
 * GET /api/programmes/<int:id>/competences → [{id, code, nom}], by code
 * as EDxo lists them (Competence.programme_id).
 */
static enum rl_err
programme_competences(struct rl_req *req, struct rl_error *e)
{

	return by_id(req, "SELECT " LIST(COMPETENCE_ITEM
	    " ORDER BY k.code, k.id", "FROM competences k "
	    "WHERE k.programme_id = p.id") " FROM programmes p "
	    "WHERE p.id = $3::bigint AND " SEE_PROGRAMME("p.id"),
	    "programme", e);
}

/* GET /api/competences/<int:id>: the compétence, its elements, criteria. */
static enum rl_err
competence(struct rl_req *req, struct rl_error *e)
{

	return by_id(req, "SELECT json_build_object('id', k.id, "
	    "'programme_id', k.programme_id, 'code', k.code, 'nom', k.nom, "
	    "'criteria_de_performance', k.criteria_de_performance, "
	    "'contexte_de_realisation', k.contexte_de_realisation, "
	    "'elements', " LIST("json_build_object('id', el.id, "
	    "'nom', el.nom, 'criteres', " LIST("cr.criteria ORDER BY cr.id",
	    "FROM element_competence_criteria cr "
	    "WHERE cr.element_competence_id = el.id") ") ORDER BY el.id",
	    "FROM element_competence el WHERE el.competence_id = k.id") ") "
	    "FROM competences k WHERE k.id = $3::bigint AND "
	    SEE_COMPETENCE("k.id"), "competence", e);
}

/* GET /api/cours → [{id, code, nom}] */
static enum rl_err
cours_list(struct rl_req *req, struct rl_error *e)
{
	json_t		*v;
	enum rl_err	 err;

	if ((err = query(req, "SELECT " LIST(COURS_ITEM " ORDER BY c.id",
	    "FROM cours c WHERE " SEE_COURS("c.id")), NULL, NULL, &v, e)) !=
	    RL_OK)
		return err;
	return rl_resp_json_new(req, 200, v);
}

/* GET /api/cours/<int:id> → {id, code, nom} */
static enum rl_err
cours(struct rl_req *req, struct rl_error *e)
{

	return by_id(req, "SELECT " COURS_ITEM " FROM cours c "
	    "WHERE c.id = $3::bigint AND " SEE_COURS("c.id"), "cours", e);
}

/*
 * GET /api/cours/<int:id>/plan_cadre: PlanCadre.to_dict(), or EDxo's 404
 * with an empty object when the cours has none (or is not visible).
 */
static enum rl_err
cours_plan_cadre(struct rl_req *req, struct rl_error *e)
{
	char		 id[32];
	json_t		*v;
	enum rl_err	 err;

	if ((err = id_param(req, id, sizeof(id), e)) != RL_OK ||
	    (err = query(req, "SELECT " PLAN_CADRE_DICT " FROM plan_cadre pc "
	    "WHERE pc.cours_id = $3::bigint AND " SEE_COURS("pc.cours_id"),
	    id, NULL, &v, e)) != RL_OK)
		return err;
	if (json_is_null(v)) {
		json_decref(v);
		return rl_resp_json_new(req, 404, json_object());
	}
	return rl_resp_json_new(req, 200, v);
}

/* GET /api/cours/<int:id>/plans_de_cours → [PlanDeCours.to_dict()] */
static enum rl_err
cours_plans_de_cours(struct rl_req *req, struct rl_error *e)
{

	return by_id(req, "SELECT " LIST(PLAN_DE_COURS_DICT " ORDER BY d.id",
	    "FROM plan_de_cours d WHERE d.cours_id = c.id") " FROM cours c "
	    "WHERE c.id = $3::bigint AND " SEE_COURS("c.id"), "cours", e);
}

/* GET /api/cours/<int:id>/plans → [{id, session}] (plan_de_cours.py) */
static enum rl_err
cours_plans(struct rl_req *req, struct rl_error *e)
{

	return by_id(req, "SELECT " LIST("json_build_object('id', d.id, "
	    "'session', d.session) ORDER BY d.id",
	    "FROM plan_de_cours d WHERE d.cours_id = c.id") " FROM cours c "
	    "WHERE c.id = $3::bigint AND " SEE_COURS("c.id"), "cours", e);
}

/*
 * 400 for an unknown section, in the runtime's error shape plus the list
 * of allowed names (too long for an error message).
 */
static enum rl_err
bad_section(struct rl_req *req, struct rl_error *e)
{
	json_t		*allowed;
	size_t		 i;

	if ((allowed = json_array()) == NULL)
		return rl_error_set(e, RL_ENOMEM, "out of memory");
	for (i = 0; i < NSECTIONS; i++)
		(void)json_array_append_new(allowed, json_string(sections[i]));
	return rl_resp_json_new(req, 400, json_pack("{s:{s:s, s:s, s:s, s:o}}",
	    "error", "code", rl_err_token(RL_EINVAL), "message",
	    "unknown section: see allowed", "field", "section",
	    "allowed", allowed));
}

/*
 * GET /api/plan_cadre/<int:id>/section/<section> → {section: value}, the
 * value as PlanCadre.to_dict() has it.  The name is checked against the
 * list first, then travels as $4 like any other value.
 */
static enum rl_err
plan_cadre_section(struct rl_req *req, struct rl_error *e)
{
	const char	*name = rl_req_param(req, "section");
	char		 id[32];
	size_t		 i;
	json_t		*v;
	enum rl_err	 err;

	for (i = 0; name != NULL && i < NSECTIONS; i++)
		if (strcmp(name, sections[i]) == 0)
			break;
	if (name == NULL || i == NSECTIONS)
		return bad_section(req, e);
	if ((err = id_param(req, id, sizeof(id), e)) != RL_OK ||
	    (err = query(req, "SELECT json_build_object($4::text, "
	    "(" PLAN_CADRE_DICT ") -> $4::text) FROM plan_cadre pc "
	    "WHERE pc.id = $3::bigint AND " SEE_COURS("pc.cours_id"),
	    id, name, &v, e)) != RL_OK)
		return err;
	if (json_is_null(v)) {
		json_decref(v);
		return rl_error_set(e, RL_ENOTFOUND, "no such plan-cadre");
	}
	return rl_resp_json_new(req, 200, v);
}

static const struct rl_route routes[] = {
	{ "GET", "/api/programmes", programmes, NULL, RL_ROUTE_AUTH, 0 },
	{ "GET", "/api/programmes/<int:id>/cours", programme_cours, NULL,
	    RL_ROUTE_AUTH, 0 },
	{ "GET", "/api/programmes/<int:id>/competences",
	    programme_competences, NULL, RL_ROUTE_AUTH, 0 },
	{ "GET", "/api/competences/<int:id>", competence, NULL,
	    RL_ROUTE_AUTH, 0 },
	{ "GET", "/api/cours", cours_list, NULL, RL_ROUTE_AUTH, 0 },
	{ "GET", "/api/cours/<int:id>", cours, NULL, RL_ROUTE_AUTH, 0 },
	{ "GET", "/api/cours/<int:id>/plan_cadre", cours_plan_cadre, NULL,
	    RL_ROUTE_AUTH, 0 },
	{ "GET", "/api/cours/<int:id>/plans_de_cours", cours_plans_de_cours,
	    NULL, RL_ROUTE_AUTH, 0 },
	{ "GET", "/api/cours/<int:id>/plans", cours_plans, NULL,
	    RL_ROUTE_AUTH, 0 },
	{ "GET", "/api/plan_cadre/<int:id>/section/<section>",
	    plan_cadre_section, NULL, RL_ROUTE_AUTH, 0 },
};

static const struct rl_program program = {
	"api", routes, RL_NROUTES(routes), 0, 1, NULL
};

int
main(int argc, char *argv[])
{

	return rl_main(argc, argv, &program);
}
