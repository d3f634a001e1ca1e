/*
 * edxo.h: EDxo's read model as SQL fragments, shared by every program that
 * answers with (or sends a model) a plan-cadre or a plan de cours, so that
 * PlanCadre.to_dict() and PlanDeCours.to_dict() have one definition.
 * Fragments, not functions: callers embed them in their own query (a
 * json_build_object per row is one round trip for any list).
 */
#ifndef RL_EDXO_H
#define RL_EDXO_H

#include <jansson.h>

#include "relais.h"

struct rl_user;

/* Run a query written with these fragments as user u (edxo.c). */
enum rl_err	 rl_edxo_json(const struct rl_user *u, const char *sql,
		    const char *arg3, const char *arg4, json_t **v,
		    struct rl_error *);

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
#define RL_SQL_MINE	"(SELECT up.programme_id FROM user_programme up " \
		"WHERE up.user_id = $1::bigint)"
#define RL_SQL_SEE_PROGRAMME(x)						\
	"($2::boolean OR " x " IN " RL_SQL_MINE ")"
#define RL_SQL_SEE_COURS(x) \
	"($2::boolean OR " x " IN (SELECT vc.cours_id "			\
	"FROM cours_programme vc WHERE vc.programme_id IN " RL_SQL_MINE "))"
#define RL_SQL_SEE_COMPETENCE(x) \
	"($2::boolean OR " x " IN (SELECT vk.id FROM competences vk "	\
	"WHERE vk.programme_id IN " RL_SQL_MINE ") OR " x " IN " \
	"(SELECT vp.competence_id FROM competence_programme vp "	\
	"WHERE vp.programme_id IN " RL_SQL_MINE "))"

/* A json_agg that is [] rather than NULL over no rows. */
#define RL_SQL_LIST(expr, from)						\
	"coalesce((SELECT json_agg(" expr ") " from "), '[]')"

/* The (id, texte, description) lists of a plan-cadre "pc". */
#define RL_SQL_TEXTE_DESCRIPTION(table)					\
	RL_SQL_LIST("json_build_object('id', x.id, 'texte', x.texte, " \
	"'description', x.description) ORDER BY x.id",			\
	"FROM " table " x WHERE x.plan_cadre_id = pc.id")

/*
 * The text columns of the plan-cadre "pc" as json_build_object pairs, in
 * EDxo's order.
 */
#define RL_SQL_PLAN_CADRE_TEXTS						\
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
	"pc.eval_evaluation_sommatives_apprentissages"

/*
 * PlanCadre.to_dict() of the plan-cadre "pc", as EDxo's models.py writes
 * it: the columns, cours_info, then every child list.  cours_info's
 * programme_id is EDxo's legacy "first programme of the cours", here the
 * first one the user may see.
 */
#define RL_SQL_PLAN_CADRE_DICT \
	"json_build_object('id', pc.id, 'cours_id', pc.cours_id, "	\
	RL_SQL_PLAN_CADRE_TEXTS ", "					\
	"'additional_info', pc.additional_info, "			\
	"'ai_model', pc.ai_model, "					\
	"'cours_info', (SELECT json_build_object('id', c.id, "		\
	"'code', c.code, 'nom', c.nom, 'programme_id', "		\
	"(SELECT min(cp.programme_id) FROM cours_programme cp "		\
	"WHERE cp.cours_id = c.id AND "					\
	RL_SQL_SEE_PROGRAMME("cp.programme_id") ")) " \
	"FROM cours c WHERE c.id = pc.cours_id), "			\
	"'capacites', "							\
	RL_SQL_LIST("json_build_object('id', k.id, 'capacite', k.capacite, " \
	"'description_capacite', k.description_capacite, "		\
	"'ponderation_min', k.ponderation_min, "			\
	"'ponderation_max', k.ponderation_max, "			\
	"'savoirs_necessaires', "					\
	RL_SQL_LIST("json_build_object('id', s.id, 'texte', s.texte) " \
	"ORDER BY s.id",						\
	"FROM plan_cadre_capacite_savoirs_necessaires s "		\
	"WHERE s.capacite_id = k.id") ", "				\
	"'savoirs_faire', "						\
	RL_SQL_LIST("json_build_object('id', f.id, 'texte', f.texte, " \
	"'cible', f.cible, 'seuil_reussite', f.seuil_reussite) "	\
	"ORDER BY f.id",						\
	"FROM plan_cadre_capacite_savoirs_faire f "			\
	"WHERE f.capacite_id = k.id") ", "				\
	"'moyens_evaluation', "						\
	RL_SQL_LIST("json_build_object('id', m.id, 'texte', m.texte) " \
	"ORDER BY m.id",						\
	"FROM plan_cadre_capacite_moyens_evaluation m "			\
	"WHERE m.capacite_id = k.id") ") ORDER BY k.id",		\
	"FROM plan_cadre_capacites k WHERE k.plan_cadre_id = pc.id") ", " \
	"'savoirs_etre', "						\
	RL_SQL_LIST("json_build_object('id', e.id, 'texte', e.texte) " \
	"ORDER BY e.id",						\
	"FROM plan_cadre_savoir_etre e WHERE e.plan_cadre_id = pc.id") ", " \
	"'objets_cibles', "						\
	RL_SQL_TEXTE_DESCRIPTION("plan_cadre_objets_cibles") ", " \
	"'cours_relies', "						\
	RL_SQL_TEXTE_DESCRIPTION("plan_cadre_cours_relies") ", " \
	"'cours_prealables', "						\
	RL_SQL_TEXTE_DESCRIPTION("plan_cadre_cours_prealables") ", " \
	"'cours_corequis', "						\
	RL_SQL_TEXTE_DESCRIPTION("plan_cadre_cours_corequis") ", " \
	"'competences_certifiees', "					\
	RL_SQL_TEXTE_DESCRIPTION("plan_cadre_competences_certifiees") ", " \
	"'competences_developpees', "					\
	RL_SQL_TEXTE_DESCRIPTION("plan_cadre_competences_developpees") ")"

/* PlanDeCours.to_dict() of the plan de cours "d", as EDxo writes it. */
#define RL_SQL_PLAN_DE_COURS_DICT \
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
	RL_SQL_SEE_PROGRAMME("cp.programme_id") ")) " \
	"FROM cours c WHERE c.id = d.cours_id), "			\
	"'calendriers', "						\
	RL_SQL_LIST("json_build_object('semaine', k.semaine, " \
	"'sujet', k.sujet, 'activites', k.activites, "			\
	"'travaux_hors_classe', k.travaux_hors_classe, "		\
	"'evaluations', k.evaluations) ORDER BY k.semaine, k.id",	\
	"FROM plan_de_cours_calendrier k "				\
	"WHERE k.plan_de_cours_id = d.id") ", "				\
	"'mediagraphies', "						\
	RL_SQL_LIST("json_build_object('reference_bibliographique', " \
	"m.reference_bibliographique) ORDER BY m.id",			\
	"FROM plan_de_cours_mediagraphie m "				\
	"WHERE m.plan_de_cours_id = d.id") ", "				\
	"'disponibilites', "						\
	RL_SQL_LIST("json_build_object('jour_semaine', a.jour_semaine, " \
	"'plage_horaire', a.plage_horaire, 'lieu', a.lieu) "		\
	"ORDER BY a.id",						\
	"FROM plan_de_cours_disponibilite_enseignant a "		\
	"WHERE a.plan_de_cours_id = d.id") ", "				\
	"'evaluations', "						\
	RL_SQL_LIST("json_build_object('titre_evaluation', " \
	"v.titre_evaluation, " \
	"'description', v.description, 'semaine', v.semaine) "		\
	"ORDER BY v.id",						\
	"FROM plan_de_cours_evaluations v "				\
	"WHERE v.plan_de_cours_id = d.id") ")"

#endif
