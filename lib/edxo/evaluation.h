/*
 * evaluation.h: EDxo's six-level evaluation grids (contract 4.3), the
 * evaluation_savoirfaire rows of one evaluation of a plan de cours.  The
 * evaluation program reads a grid here to render it and saves it here;
 * it parses the wizard's form and shapes the answers itself.
 * docs/internals/evaluation.md.
 */
#ifndef RL_EVALUATION_H
#define RL_EVALUATION_H

#include <jansson.h>

#include "relais.h"

struct rl_user;

/* Levels of a grid, 1 (aucun travail) to 6 (cible atteinte). */
#define RL_EVAL_LEVELS		6

/*
 * The grid of an evaluation as the wizard shows it, EDxo's get_grid: the
 * capacités the evaluation measures (plan_de_cours_evaluations_capacites)
 * that belong to the plan-cadre of its cours, each with every one of its
 * savoirs-faire, marked selected when the evaluation has a row for it,
 * with that row's six texts ("" when none).
 *	{id, titre_evaluation, capacites: [{id, capacite, savoirs_faire:
 *	    [{id, texte, cible, seuil_reussite, selected,
 *	      levels: [6 strings]}]}]}
 * Capacités and savoirs-faire in id order.  An evaluation the user does
 * not see is RL_ENOTFOUND, as one that does not exist.
 */
enum rl_err	 rl_evaluation_grid(const struct rl_user *, long long id,
		    json_t **grid, struct rl_error *);

/*
 * Save a grid, in one transaction: the evaluation's description when
 * description is not NULL, and its rows replaced by rows, an array of
 * {savoir_faire_id, level1 .. level6} (string or null; ids distinct).
 * Each row's capacité is its savoir-faire's.  A savoir-faire that is not
 * of the plan-cadre of the evaluation's cours is RL_EINVAL on field
 * savoirs_faire and nothing changes; an evaluation the user does not see
 * is RL_ENOTFOUND.
 */
enum rl_err	 rl_evaluation_grid_save(const struct rl_user *, long long id,
		    const char *description, const json_t *rows,
		    struct rl_error *);

#endif /* RL_EVALUATION_H */
