/*
 * evaluation.c: the six-level grids of EDxo's evaluations, read and
 * written (evaluation.h, docs/internals/evaluation.md).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "db.h"
#include "edxo.h"
#include "evaluation.h"
#include "req.h"

/*
 * One query for the whole grid.  The capacités are those the evaluation
 * measures, kept only when they are of the plan-cadre of the evaluation's
 * cours (EDxo's get_grid joins PlanCadre on the plan's cours): an
 * evaluation linked to another course's capacité shows nothing of it.
 */
static const char sql_grid[] =
    "SELECT json_build_object('id', v.id, "
    "'titre_evaluation', v.titre_evaluation, 'capacites', "
    RL_SQL_LIST("json_build_object('id', k.id, 'capacite', k.capacite, "
    "'savoirs_faire', "
    RL_SQL_LIST("json_build_object('id', f.id, 'texte', f.texte, "
    "'cible', f.cible, 'seuil_reussite', f.seuil_reussite, "
    "'selected', g.savoir_faire_id IS NOT NULL, 'levels', "
    "json_build_array(coalesce(g.level1_description, ''), "
    "coalesce(g.level2_description, ''), "
    "coalesce(g.level3_description, ''), "
    "coalesce(g.level4_description, ''), "
    "coalesce(g.level5_description, ''), "
    "coalesce(g.level6_description, ''))) ORDER BY f.id",
    "FROM plan_cadre_capacite_savoirs_faire f "
    "LEFT JOIN evaluation_savoirfaire g ON g.savoir_faire_id = f.id "
    "AND g.evaluation_id = v.id WHERE f.capacite_id = k.id") ") "
    "ORDER BY k.id",
    "FROM plan_cadre_capacites k "
    "JOIN plan_cadre pc ON pc.id = k.plan_cadre_id "
    "WHERE pc.cours_id = d.cours_id AND k.id IN "
    "(SELECT ec.capacite_id FROM plan_de_cours_evaluations_capacites ec "
    "WHERE ec.evaluation_id = v.id)") ") "
    "FROM plan_de_cours_evaluations v "
    "JOIN plan_de_cours d ON d.id = v.plan_de_cours_id "
    "WHERE v.id = $3::bigint AND " RL_SQL_SEE_COURS("d.cours_id");

enum rl_err
rl_evaluation_grid(const struct rl_user *u, long long id, json_t **grid,
    struct rl_error *e)
{
	char		 ids[32];
	enum rl_err	 err;

	*grid = NULL;
	(void)snprintf(ids, sizeof(ids), "%lld", id);
	if ((err = rl_edxo_json(u, sql_grid, ids, NULL, grid, e)) != RL_OK)
		return err;
	if (json_is_null(*grid)) {
		json_decref(*grid);
		*grid = NULL;
		return rl_error_set(e, RL_ENOTFOUND, "Évaluation "
		    "introuvable.");
	}
	return RL_OK;
}

/*
 * The rows go to PostgreSQL as one JSON parameter and are joined to the
 * savoirs-faire of the evaluation's plan-cadre: a row whose savoir-faire
 * is not one of them inserts nothing, which the count of inserted rows
 * shows, and the transaction is rolled back.
 */
static const char sql_insert[] =
    "INSERT INTO evaluation_savoirfaire "
    "(evaluation_id, savoir_faire_id, capacite_id, selected, "
    "level1_description, level2_description, level3_description, "
    "level4_description, level5_description, level6_description) "
    "SELECT $1::bigint, f.id, f.capacite_id, true, "
    "x ->> 'level1', x ->> 'level2', x ->> 'level3', x ->> 'level4', "
    "x ->> 'level5', x ->> 'level6' "
    "FROM jsonb_array_elements($2::jsonb) AS t(x) "
    "JOIN plan_cadre_capacite_savoirs_faire f "
    "ON f.id = (x ->> 'savoir_faire_id')::bigint "
    "JOIN plan_cadre_capacites k ON k.id = f.capacite_id "
    "JOIN plan_cadre pc ON pc.id = k.plan_cadre_id "
    "JOIN plan_de_cours_evaluations v ON v.id = $1::bigint "
    "JOIN plan_de_cours d ON d.id = v.plan_de_cours_id "
    "AND d.cours_id = pc.cours_id";

enum rl_err
rl_evaluation_grid_save(const struct rl_user *u, long long id,
    const char *description, const json_t *rows, struct rl_error *e)
{
	char		 ids[32], *text = NULL;
	const char	*p[2];
	json_t		*seen = NULL;
	struct rl_dbres	*r = NULL;
	int		 intx = 0;
	enum rl_err	 err;

	(void)snprintf(ids, sizeof(ids), "%lld", id);
	if ((text = json_dumps(rows, JSON_COMPACT)) == NULL) {
		err = rl_error_set(e, RL_ENOMEM, "out of memory");
		goto out;
	}
	/* The evaluation, visible to the user. */
	if ((err = rl_edxo_json(u, "SELECT json_build_object('id', v.id) "
	    "FROM plan_de_cours_evaluations v JOIN plan_de_cours d "
	    "ON d.id = v.plan_de_cours_id WHERE v.id = $3::bigint AND "
	    RL_SQL_SEE_COURS("d.cours_id"), ids, NULL, &seen, e)) != RL_OK)
		goto out;
	if (json_is_null(seen)) {
		err = rl_error_set(e, RL_ENOTFOUND, "Évaluation introuvable.");
		goto out;
	}
	if ((err = rl_db_begin(e)) != RL_OK)
		goto out;
	intx = 1;
	p[0] = ids;
	p[1] = description;
	if (description != NULL && (err = rl_db_exec("UPDATE "
	    "plan_de_cours_evaluations SET description = $2::text "
	    "WHERE id = $1::bigint", 2, p, NULL, e)) != RL_OK)
		goto out;
	if ((err = rl_db_exec("DELETE FROM evaluation_savoirfaire "
	    "WHERE evaluation_id = $1::bigint", 1, p, NULL, e)) != RL_OK)
		goto out;
	p[1] = text;
	if ((err = rl_db_exec(sql_insert, 2, p, &r, e)) != RL_OK)
		goto out;
	if ((size_t)rl_dbres_affected(r) != json_array_size(rows)) {
		err = rl_error_field(e, RL_EINVAL, "savoirs_faire", "Un "
		    "savoir-faire n'appartient pas au plan-cadre de cette "
		    "évaluation.");
		goto out;
	}
	intx = 0;
	err = rl_db_commit(e);
out:
	if (intx)
		rl_db_rollback();
	rl_dbres_free(r);
	json_decref(seen);
	free(text);
	return err;
}
