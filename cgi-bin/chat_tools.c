/*
 * chat_tools.c: the chat's five function tools, served from PostgreSQL
 * (contract section 4.1).  Each tool is one query that builds EDxo's dict
 * with json_build_object, so a tool call is one round trip whatever the
 * size of the plan.  The user sees what the rest of relais lets them see
 * (lib/edxo.h, RL_SQL_SEE_COURS): EDxo's handlers read every plan of the
 * database, which would let the model quote a plan its user may not open.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "chat.h"
#include "db.h"
#include "edxo.h"
#include "log.h"
#include "req.h"

/*
 * ILIKE '%x%' on the model's text, with the LIKE metacharacters of x
 * escaped: EDxo splices the text into the pattern, so "%" matched every
 * course.
 */
#define LIKE(x)								\
	"('%' || replace(replace(replace(" x ", '\\', '\\\\'), '%', "	\
	"'\\%'), '_', '\\_') || '%')"

/* The (id, texte, description) lists of the nested plan-cadre dict. */
#define TEXTE_DESCRIPTION(table)	RL_SQL_TEXTE_DESCRIPTION(table)

/*
 * The chat tool's plan-cadre dict (contract 4.1): nested, unlike the flat
 * PlanCadre.to_dict() of lib/edxo.h, because it is what EDxo's chat sends
 * the model.  "pc" is the plan-cadre.
 */
#define PLAN_CADRE_NESTED						\
	"json_build_object('id', pc.id, "				\
	"'cours', (SELECT json_build_object('id', c.id, 'nom', c.nom, "	\
	"'code', c.code) FROM cours c WHERE c.id = pc.cours_id), "	\
	"'contenu', json_build_object("					\
	"'place_intro', pc.place_intro, "				\
	"'objectif_terminal', pc.objectif_terminal, "			\
	"'structure', json_build_object("				\
	"'introduction', pc.structure_intro, "				\
	"'activites_theoriques', pc.structure_activites_theoriques, "	\
	"'activites_pratiques', pc.structure_activites_pratiques, "	\
	"'activites_prevues', pc.structure_activites_prevues), "	\
	"'evaluation', json_build_object("				\
	"'sommative', pc.eval_evaluation_sommative, "			\
	"'nature_evaluations', pc.eval_nature_evaluations_sommatives, " \
	"'evaluation_langue', pc.eval_evaluation_de_la_langue, "	\
	"'evaluation_apprentissages', "					\
	"pc.eval_evaluation_sommatives_apprentissages)), "		\
	"'relations', json_build_object("				\
	"'capacites', "							\
	RL_SQL_LIST("json_build_object('id', k.id, 'capacite', k.capacite, " \
	"'description', k.description_capacite, "			\
	"'ponderation', json_build_object('min', k.ponderation_min, "	\
	"'max', k.ponderation_max), "					\
	"'savoirs_necessaires', "					\
	RL_SQL_LIST("s.texte ORDER BY s.id",				\
	"FROM plan_cadre_capacite_savoirs_necessaires s "		\
	"WHERE s.capacite_id = k.id") ", "				\
	"'savoirs_faire', "						\
	RL_SQL_LIST("json_build_object('texte', f.texte, "		\
	"'cible', f.cible, 'seuil_reussite', f.seuil_reussite) "	\
	"ORDER BY f.id",						\
	"FROM plan_cadre_capacite_savoirs_faire f "			\
	"WHERE f.capacite_id = k.id") ", "				\
	"'moyens_evaluation', "						\
	RL_SQL_LIST("m.texte ORDER BY m.id",				\
	"FROM plan_cadre_capacite_moyens_evaluation m "			\
	"WHERE m.capacite_id = k.id") ") ORDER BY k.id",		\
	"FROM plan_cadre_capacites k WHERE k.plan_cadre_id = pc.id") ", " \
	"'savoirs_etre', "						\
	RL_SQL_LIST("json_build_object('id', e.id, 'texte', e.texte) "	\
	"ORDER BY e.id",						\
	"FROM plan_cadre_savoir_etre e WHERE e.plan_cadre_id = pc.id") ", " \
	"'objets_cibles', "						\
	TEXTE_DESCRIPTION("plan_cadre_objets_cibles") ", "		\
	"'cours_relies', "						\
	TEXTE_DESCRIPTION("plan_cadre_cours_relies") ", "		\
	"'cours_prealables', "						\
	TEXTE_DESCRIPTION("plan_cadre_cours_prealables") ", "		\
	"'competences_certifiees', "					\
	TEXTE_DESCRIPTION("plan_cadre_competences_certifiees") ", "	\
	"'competences_developpees', "					\
	TEXTE_DESCRIPTION("plan_cadre_competences_developpees") "), "	\
	"'additional_info', pc.additional_info, "			\
	"'ai_model', pc.ai_model)"

/*
 * get_plan_de_cours: the latest session's plan of the first course whose
 * code contains $3 (EDxo orders by session, text, descending).
 */
#define SQL_PLAN_DE_COURS						\
	"SELECT " RL_SQL_PLAN_DE_COURS_DICT " FROM plan_de_cours d "	\
	"JOIN cours dc ON dc.id = d.cours_id "				\
	"WHERE dc.code ILIKE " LIKE("$3::text") " AND "			\
	RL_SQL_SEE_COURS("d.cours_id") " "				\
	"ORDER BY d.session DESC, d.id DESC LIMIT 1"

/*
 * get_plan_cadre: EDxo's get_by_cours_info, name OR code; an empty
 * argument matches nothing (EDxo skips it), and a code match wins.
 */
#define SQL_PLAN_CADRE							\
	"SELECT " PLAN_CADRE_NESTED " FROM plan_cadre pc "		\
	"JOIN cours pcc ON pcc.id = pc.cours_id WHERE "			\
	"(($3::text <> '' AND pcc.nom ILIKE " LIKE("$3::text") ") OR "	\
	"($4::text <> '' AND pcc.code ILIKE " LIKE("$4::text") ")) AND " \
	RL_SQL_SEE_COURS("pc.cours_id") " "				\
	"ORDER BY ($4::text <> '' AND pcc.code ILIKE " LIKE("$4::text")	\
	") DESC, pc.id LIMIT 1"

/* get_multiple_plan_cadre: one dict per code, in order, or an error. */
#define SQL_PLAN_CADRES							\
	"SELECT coalesce(json_agg(coalesce((SELECT " PLAN_CADRE_NESTED	\
	" FROM plan_cadre pc JOIN cours pcc ON pcc.id = pc.cours_id "	\
	"WHERE x.code <> '' AND pcc.code ILIKE " LIKE("x.code") " AND "	\
	RL_SQL_SEE_COURS("pc.cours_id") " ORDER BY pc.id LIMIT 1), "	\
	"json_build_object('code', x.code, 'error', "			\
	"'Plan-cadre introuvable pour ce code')) ORDER BY x.n), '[]') "	\
	"FROM json_array_elements_text($3::json) WITH ORDINALITY "	\
	"x(code, n)"

#define SQL_LIST_PLAN_CADRE						\
	"SELECT " RL_SQL_LIST("json_build_object('id', pc.id, "		\
	"'cours_id', pc.cours_id, 'cours_code', c.code, "		\
	"'cours_nom', c.nom) ORDER BY c.code, pc.id",			\
	"FROM plan_cadre pc JOIN cours c ON c.id = pc.cours_id WHERE "	\
	RL_SQL_SEE_COURS("pc.cours_id"))

#define SQL_LIST_PLAN_DE_COURS						\
	"SELECT " RL_SQL_LIST("json_build_object('id', d.id, "		\
	"'session', d.session, 'cours', c.code) "			\
	"ORDER BY c.code, d.session, d.id",				\
	"FROM plan_de_cours d JOIN cours c ON c.id = d.cours_id WHERE "	\
	RL_SQL_SEE_COURS("d.cours_id"))

/* A string argument of a strict tool: present, a string, bounded. */
static enum rl_err
str_arg(const json_t *args, const char *name, const char **v,
    struct rl_error *e)
{
	json_t	*j = json_object_get(args, name);

	if (!json_is_string(j))
		return rl_error_set(e, RL_EINVAL, "argument %s manquant ou "
		    "invalide", name);
	if (json_string_length(j) > CHAT_TOOL_ARG_MAX)
		return rl_error_set(e, RL_EINVAL, "argument %s trop long",
		    name);
	*v = json_string_value(j);
	return RL_OK;
}

static enum rl_err
codes_arg(const json_t *args, char **v, struct rl_error *e)
{
	json_t	*j = json_object_get(args, "codes"), *c;
	size_t	 i;

	if (!json_is_array(j))
		return rl_error_set(e, RL_EINVAL, "argument codes manquant ou "
		    "invalide");
	if (json_array_size(j) > CHAT_TOOL_CODES_MAX)
		return rl_error_set(e, RL_EINVAL, "au plus %d codes",
		    CHAT_TOOL_CODES_MAX);
	json_array_foreach(j, i, c)
		if (!json_is_string(c) || json_string_length(c) >
		    CHAT_TOOL_ARG_MAX)
			return rl_error_set(e, RL_EINVAL, "codes: une liste de "
			    "codes de cours est attendue");
	if ((*v = json_dumps(j, JSON_COMPACT)) == NULL)
		return rl_error_set(e, RL_ENOMEM, NULL);
	return RL_OK;
}

/* One query with $1 = user, $2 = admin, then up to two arguments. */
static enum rl_err
query(const struct rl_user *u, const char *sql, const char *a,
    const char *b, json_t **out, struct rl_error *e)
{
	char		 uid[32];
	const char	*p[4];
	int		 n = 2;

	(void)snprintf(uid, sizeof(uid), "%lld", u->id);
	p[0] = uid;
	p[1] = u->role == RL_ROLE_ADMIN ? "true" : "false";
	if (a != NULL)
		p[n++] = a;
	if (b != NULL)
		p[n++] = b;
	return rl_db_json(sql, n, p, out, e);
}

static enum rl_err
dispatch(const struct rl_user *u, const char *name, const json_t *args,
    json_t **out, struct rl_error *e)
{
	const char	*a, *b;
	char		*codes = NULL;
	enum rl_err	 err;

	if (strcmp(name, "get_plan_de_cours") == 0) {
		if ((err = str_arg(args, "code", &a, e)) != RL_OK)
			goto out;
		err = query(u, SQL_PLAN_DE_COURS, a, NULL, out, e);
	} else if (strcmp(name, "get_plan_cadre") == 0) {
		if ((err = str_arg(args, "nom", &a, e)) != RL_OK ||
		    (err = str_arg(args, "code", &b, e)) != RL_OK)
			goto out;
		err = query(u, SQL_PLAN_CADRE, a, b, out, e);
	} else if (strcmp(name, "get_multiple_plan_cadre") == 0) {
		if ((err = codes_arg(args, &codes, e)) != RL_OK)
			goto out;
		err = query(u, SQL_PLAN_CADRES, codes, NULL, out, e);
	} else if (strcmp(name, "list_all_plan_cadre") == 0)
		err = query(u, SQL_LIST_PLAN_CADRE, NULL, NULL, out, e);
	else if (strcmp(name, "list_all_plan_de_cours") == 0)
		err = query(u, SQL_LIST_PLAN_DE_COURS, NULL, NULL, out, e);
	else
		err = rl_error_set(e, RL_ENOTFOUND, "outil inconnu: %.64s",
		    name);
out:
	free(codes);
	return err;
}

/*
 * Run a tool on the model's arguments.  Always a JSON text for the
 * function_call_output: a failure is {"error": ...} for the model to read,
 * never an error of the stream (contract 4.1).  *failed says which.
 */
char *
chat_tool_run(const struct rl_user *u, const char *name, const char *args,
    int *failed)
{
	struct rl_error	 e;
	json_t		*in = NULL, *out = NULL;
	json_error_t	 je;
	char		*s;

	memset(&e, 0, sizeof(e));
	*failed = 1;
	if ((in = json_loads(args != NULL ? args : "", 0, &je)) == NULL ||
	    !json_is_object(in))
		rl_error_set(&e, RL_EINVAL, "arguments JSON invalides");
	else if (dispatch(u, name, in, &out, &e) == RL_OK)
		*failed = 0;
	if (*failed) {
		rl_log_info("chat tool %.64s failed: %s", name, e.msg);
		json_decref(out);
		/* A database message is ours, not the model's business. */
		out = json_pack("{s:s}", "error", e.code == RL_EDB ||
		    e.code == RL_EDBDOWN ? "erreur interne de l'outil" :
		    e.msg);
	}
	json_decref(in);
	s = out != NULL ? json_dumps(out, JSON_COMPACT | JSON_ENCODE_ANY) :
	    NULL;
	json_decref(out);
	return s;
}

static pthread_once_t	 tools_once = PTHREAD_ONCE_INIT;
static json_t		*tools;

/* The five strict function tools, as the Responses API takes them. */
static json_t *
tools_new(void)
{

	return json_pack("["
	    "{s:s, s:s, s:s, s:b, s:{s:s, s:{s:{s:s, s:s}}, s:[s], s:b}},"
	    "{s:s, s:s, s:s, s:b, s:{s:s, s:{s:{s:s, s:s}, s:{s:s, s:s}}, "
	    "s:[s, s], s:b}},"
	    "{s:s, s:s, s:s, s:b, s:{s:s, s:{s:{s:s, s:s, s:{s:s}}}, s:[s], "
	    "s:b}},"
	    "{s:s, s:s, s:s, s:b, s:{s:s, s:{}, s:[], s:b}},"
	    "{s:s, s:s, s:s, s:b, s:{s:s, s:{}, s:[], s:b}}]",
	    "type", "function", "name", "get_plan_de_cours",
	    "description", "Récupère le plan de cours le plus récent d'un "
	    "cours à partir de son code (ex. 420-1A1-GA).",
	    "strict", 1, "parameters", "type", "object", "properties",
	    "code", "type", "string", "description", "Code du cours",
	    "required", "code", "additionalProperties", 0,

	    "type", "function", "name", "get_plan_cadre",
	    "description", "Récupère le plan-cadre d'un cours par son nom "
	    "ou son code.",
	    "strict", 1, "parameters", "type", "object", "properties",
	    "nom", "type", "string", "description", "Nom du cours",
	    "code", "type", "string", "description", "Code du cours",
	    "required", "nom", "code", "additionalProperties", 0,

	    "type", "function", "name", "get_multiple_plan_cadre",
	    "description", "Récupère les plans-cadres de plusieurs cours à "
	    "partir de leurs codes.",
	    "strict", 1, "parameters", "type", "object", "properties",
	    "codes", "type", "array", "description", "Codes des cours",
	    "items", "type", "string",
	    "required", "codes", "additionalProperties", 0,

	    "type", "function", "name", "list_all_plan_cadre",
	    "description", "Liste tous les plans-cadres (id, cours).",
	    "strict", 1, "parameters", "type", "object", "properties",
	    "required", "additionalProperties", 0,

	    "type", "function", "name", "list_all_plan_de_cours",
	    "description", "Liste tous les plans de cours (id, session, "
	    "code du cours).",
	    "strict", 1, "parameters", "type", "object", "properties",
	    "required", "additionalProperties", 0);
}

static void
tools_make(void)
{

	tools = tools_new();
}

/*
 * A reference to the one copy, made at the first call: each turn's body
 * holds it, and nothing writes into a body once built (jansson counts
 * references atomically, and since 2.13 dumps without marking the value:
 * configure.ac).  Built for every body, it was three times sixty-odd
 * nodes per turn before the first token.  Should that first build have
 * run out of memory, each call builds its own, as before.  NULL: out of
 * memory.
 */
json_t *
chat_tools(void)
{

	(void)pthread_once(&tools_once, tools_make);
	return tools != NULL ? json_incref(tools) : tools_new();
}
