/*
 * pdc.h: EDxo's plan-de-cours generation features, shared by the
 * plandecours program (routes, synchronous calls) and relais-worker (the
 * tasks the routes queue).  docs/internals/pdc.md.
 *
 * The shape of every feature is the same:
 *
 *	rl_pdc_load		the cours, its plan-cadre and the plan de
 *				cours as EDxo's to_dict() gives them, plus
 *				the evaluations with their capacités
 *	rl_pdc_prompt		the prompt (a stored template rendered with
 *				EDxo's context variables, or built) and the
 *				model; a missing variable is RL_EINVAL naming
 *				it, before anything is queued or paid
 *	rl_pdc_generate		one rl_gen_run with the feature's schema
 *	rl_pdc_preview		EDxo's task result: the new values next to
 *				the old ones (old_fields/fields, ...)
 *	rl_pdc_apply		writes a preview (or the import's, which has
 *				the same keys) in one transaction
 */
#ifndef RL_PDC_H
#define RL_PDC_H

#include <stddef.h>

#include <jansson.h>

#include "relais.h"

struct rl_task;
struct rl_gen;

/* What is generated. */
enum rl_pdc_kind {
	RL_PDC_FIELD = 0,	/* one text section */
	RL_PDC_CALENDAR,	/* the calendar */
	RL_PDC_EVALUATIONS,	/* the evaluations and their weights */
	RL_PDC_ALL,		/* sections, calendar and evaluations */
	RL_PDC_ANALYSE,		/* plan de cours vs plan-cadre */
	RL_PDC__MAX
};

/* Task names (tasks.name) of the kinds, in enum order. */
#define RL_PDC_TASK_FIELD	"plandecours.field"
#define RL_PDC_TASK_CALENDAR	"plandecours.calendar"
#define RL_PDC_TASK_EVALUATIONS	"plandecours.evaluations"
#define RL_PDC_TASK_ALL		"plandecours.all"
#define RL_PDC_TASK_ANALYSE	"plandecours.analyse"

/*
 * Free text a caller adds to a prompt (additional_info) is capped: it
 * travels in the task payload and in every prompt of the plan, and a
 * paragraph of instructions is what the UI's field is for.
 */
#define RL_PDC_INFO_MAX		(16 * 1024)
/*
 * Capacity labels longer than this are not resolved (a label is a title,
 * and normalising has to fit a stack buffer).
 */
#define RL_PDC_LABEL_MAX	1024
/*
 * Substring matching of a capacity label needs at least this many
 * normalised characters: "c" or "de" would be a substring of every title.
 */
#define RL_PDC_SUBSTRING_MIN	4

/* A plan as loaded by rl_pdc_load; rl_pdc_free releases it. */
struct rl_pdc {
	long long	 cours_id;
	long long	 plan_id;	/* 0: no plan de cours (yet) */
	char		 session[8];
	json_t		*cours;		/* {id, code, nom} */
	json_t		*cadre;		/* PlanCadre.to_dict() or JSON null */
	json_t		*plan;		/* PlanDeCours.to_dict() or JSON null */
	json_t		*evaluations;	/* [{id, titre_evaluation, titre,
					   description, semaine, capacites
					   [{capacite_id, capacite,
					   ponderation}]}] */
};

/* What a prompt is made from (the route's body). */
struct rl_pdc_input {
	enum rl_pdc_kind	 kind;
	const char		*field;		/* RL_PDC_FIELD */
	const char		*current_value;	/* RL_PDC_FIELD, sync */
	const char		*additional_info;
	const char		*ai_model;	/* the body's choice, or NULL */
	const json_t		*existing;	/* existing_calendriers or
						   existing_evaluations */
	const char		*effort;	/* reasoning_effort or NULL */
	const char		*verbosity;	/* or NULL */
	int			 sync;		/* the legacy sync route */
};

/* A prompt, its model and settings; rl_pdc_prompt_free. */
struct rl_pdc_prompt {
	char		*prompt;
	char		*model;
	char		*system;	/* section system prompt or NULL */
	char		*effort;
	char		*verbosity;
	/*
	 * The verifier's first pass (sync): the analyse section's model,
	 * else EDxo B's o3-mini.  The second pass and the task use model.
	 */
	char		*model1;
};

/* The writable text columns: EDxo's 7 sections, seuil_reussite. */
extern const char *const rl_pdc_fields[];
extern const size_t	 rl_pdc_nfields;

int		 rl_pdc_field_ok(const char *);
const char	*rl_pdc_task_name(enum rl_pdc_kind);

/* Pure: lower case, no accents or punctuation, single spaces. */
void		 rl_pdc_normalize(const char *, char *, size_t);
/*
 * Pure: the capacité a label names, as EDxo's _resolve_capacity_id does
 * it (title, description, both, "capacité N"/"cap N"/"c N", a number in
 * the title, substring, then token Jaccard >= 0.5); capacites is the
 * plan-cadre's list [{id, capacite, description_capacite}].  0: none.
 */
long long	 rl_pdc_capacity_resolve(const char *, const json_t *);

/*
 * Load by plan id (plan_id > 0) or by cours and session.  user_id and
 * admin limit it to what the user may see (404 otherwise); a task passes
 * admin 1 because its route checked already.
 */
enum rl_err	 rl_pdc_load(long long user_id, int admin, long long plan_id,
		    long long cours_id, const char *session, struct rl_pdc *,
		    struct rl_error *);
void		 rl_pdc_free(struct rl_pdc *);

enum rl_err	 rl_pdc_prompt(const struct rl_pdc *,
		    const struct rl_pdc_input *, struct rl_pdc_prompt *,
		    struct rl_error *);
void		 rl_pdc_prompt_free(struct rl_pdc_prompt *);
/* The same prompt as JSON (for a task payload) and back. */
json_t		*rl_pdc_prompt_json(const struct rl_pdc_prompt *);
enum rl_err	 rl_pdc_prompt_from(const json_t *, struct rl_pdc_prompt *,
		    struct rl_error *);

/*
 * One generation (task NULL: synchronous).  *out is the validated answer
 * (a new reference); g is the caller's, rl_gen_free it.
 */
enum rl_err	 rl_pdc_generate(enum rl_pdc_kind, int sync,
		    const struct rl_pdc_prompt *, long long user_id,
		    const char *request_id, struct rl_task *, struct rl_gen *,
		    struct rl_error *);

/*
 * The two halves of rl_pdc_generate, for the Batch API (lib/edxo/batch.c),
 * which sends the same request later and checks the answer it reads
 * from a file: fill g exactly as a generation of kind k would (g is
 * zeroed first; strings are borrowed from pp), and refuse an answer with
 * nothing to write (RL_EUPSTREAM "Aucune donnée reçue du modèle.").
 */
enum rl_err	 rl_pdc_gen_for(enum rl_pdc_kind, int sync,
		    const struct rl_pdc_prompt *, long long user_id,
		    const char *request_id, struct rl_task *, struct rl_gen *,
		    struct rl_error *);
enum rl_err	 rl_pdc_answer_check(enum rl_pdc_kind, const json_t *,
		    struct rl_error *);

/*
 * The task result of an answer: status, ids, the new values under EDxo's
 * keys and the old ones under old_*, validation_url, reasoning_summary,
 * usage.  A new reference.
 */
json_t		*rl_pdc_preview(const struct rl_pdc *, enum rl_pdc_kind,
		    const char *field, const json_t *answer,
		    const struct rl_gen *, const char *task_id);

/*
 * Write what a preview (or an import preview) carries: fields (text and
 * teacher columns), calendriers, evaluations, mediagraphies,
 * disponibilites; each list present replaces the plan's rows.  preview
 * NULL writes nothing.  With task_id, the task's meta gets review =
 * action ("confirm" or "revert") in the same transaction: confirm needs a
 * task not yet reviewed; revert of a task not yet reviewed writes
 * nothing (the preview is dropped), revert of a confirmed one puts back
 * what the confirm replaced (the preview's old_fields and old_<list>
 * values); anything else is RL_ECONFLICT, so a preview is applied at most
 * once and undone at most once.  One transaction, modified_at/by set.
 */
enum rl_err	 rl_pdc_apply(long long user_id, long long plan_id,
		    const json_t *preview, const char *task_id,
		    const char *action, struct rl_error *);

/*
 * What a plan holds now under a preview's keys: plan_id, cours_id,
 * session, cours, fields (sections and teacher columns), calendriers,
 * evaluations (with their capacités), mediagraphies, disponibilites,
 * modified_at, modified_by.  A new reference, NULL when out of memory.
 */
json_t		*rl_pdc_content(const struct rl_pdc *);

/* The verifier's write: compatibility and the two recommendations. */
enum rl_err	 rl_pdc_store_analysis(long long user_id, long long plan_id,
		    const json_t *answer, struct rl_error *);

/* The task functions (relais-worker's kinds table). */
enum rl_err	 rl_pdc_task(struct rl_task *, json_t **, struct rl_error *);

#endif
