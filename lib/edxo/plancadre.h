/*
 * plancadre.h: plan-cadre generation and improvement (EDxo's
 * generate_plan_cadre_content) and the one way a preview is applied.
 * docs/internals/plancadre.md; the preview shape is in docs/generation.md.
 *
 * A preview is a task result {status: "success", preview: true, plan_id,
 * cours_id, proposed} where proposed is
 *	{fields: {column: text},
 *	 fields_with_description: {display name or list key:
 *	     [{texte, description}]},
 *	 savoir_etre: [text],
 *	 capacites: [{capacite, description_capacite, ponderation_min,
 *	     ponderation_max, savoirs_necessaires: [text],
 *	     savoirs_faire: [{texte, cible, seuil_reussite}],
 *	     moyens_evaluation: [text]}]}
 * The generation task and the DOCX import both produce it; nothing is
 * written until rl_plancadre_apply().
 */
#ifndef RL_PLANCADRE_H
#define RL_PLANCADRE_H

#include <jansson.h>

#include "gen.h"
#include "relais.h"

struct rl_task;

#define RL_TASK_PLAN_CADRE	"plan_cadre.generate"

/*
 * Limits of an apply: items of one list and capacités with their
 * children.  A plan-cadre has a handful of each (EDxo asks for at least
 * 5 savoirs and 3 moyens per capacité, 2 to 4 capacités); the caps bound
 * one transaction.
 */
#define RL_PLANCADRE_MAX_ITEMS		200
#define RL_PLANCADRE_MAX_CAPACITES	50

/*
 * Is name a section a request may target (target_columns, the <section>
 * of /api/plan_cadre/<id>/improve/<section>)?  The ten text columns, the
 * six (texte, description) lists, savoir_etre (or savoirs_etre) and
 * capacites.
 */
int		 rl_plancadre_target_valid(const char *);
/* The i-th section a target may name, in table order; NULL past the last. */
const char	*rl_plancadre_target(size_t);

/*
 * The task.  Payload {plan_id, mode: "generate" | "improve" | "wand",
 * additional_info?, target_columns?: [name], model?, reasoning_effort?,
 * verbosity?}.  Result: the preview above plus message, validation_url,
 * reasoning_summary, usage.
 */
enum rl_err	 rl_plancadre_task(struct rl_task *, json_t **,
		    struct rl_error *);

/*
 * The task's two halves, shared with the Batch API (lib/edxo/batch.c), which
 * sends the same request later: rl_plancadre_gen_for loads plan plan_id
 * (no access check: the caller made it) and fills pg->g from a payload of
 * the task's shape exactly as the task does (prompt, settings, the
 * restricted schema, compiled); rl_plancadre_preview builds the task's
 * result from pg->g.result (and usage, cost, reasoning) for task_id.
 * rl_plancadre_gen_free releases pg, g included.
 */
struct rl_plancadre_gen {
	struct rl_gen		 g;
	long long		 plan_id;
	int			 improve;
	json_t			*ctx;		/* plan, data, sections */
	json_t			*settings;	/* model, effort... */
	json_t			*sj;		/* the schema sent */
	json_t			*keep;		/* {section: true} asked */
	struct rl_schema	*schema;	/* sj compiled */
	char			*prompt;
};
enum rl_err	 rl_plancadre_gen_for(long long user_id, long long plan_id,
		    const json_t *payload, struct rl_plancadre_gen *,
		    struct rl_error *);
json_t		*rl_plancadre_preview(const struct rl_plancadre_gen *,
		    const char *task_id);
void		 rl_plancadre_gen_free(struct rl_plancadre_gen *);

/*
 * What EDxo keeps of a start (not the wand's, a one-off instruction): the
 * plan's additional_info (unless NULL) and ai_model, inside the caller's
 * transaction, so that they are stored only with the task queued.
 */
enum rl_err	 rl_plancadre_save_request(long long plan_id,
		    const char *additional_info, const char *model,
		    struct rl_error *);

/*
 * Apply the chosen parts of proposed to plan plan_id in one transaction.
 * choices (EDxo's apply_improvement form, as an object):
 *	accept_fields_keys: [column]	text columns to take
 *	action: {list key | savoirs_etre | capacites:
 *	    "keep" | "replace" | "merge"}	(absent: keep)
 *	accept_items: {key: [index]}	items to take (absent: all);
 *	    "capacites.<i>.<child>": [index] sub-selections
 *	accept_all: true		every text column and "replace"
 *					for every list present
 * *answer {success, applied: {fields, lists...}, plan_id, cours_id,
 * redirect_url}.
 */
enum rl_err	 rl_plancadre_apply(long long plan_id, long long user_id,
		    const json_t *proposed, const json_t *choices,
		    json_t **answer, struct rl_error *);

/* The current plan in the proposed shape, for a review's "before". */
enum rl_err	 rl_plancadre_current(long long plan_id, json_t **,
		    struct rl_error *);

#endif
