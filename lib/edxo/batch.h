/*
 * batch.h: generation through OpenAI's Batch API at the batch price
 * (issue 21).  docs/internals/batch.md.
 *
 *	rl_batch_launch		render every (plan, section) prompt exactly as
 *				the synchronous path does, hold the credits
 *				(one hold per line, at the batch price),
 *				upload the JSONL (purpose=batch) and create
 *				the batch (/v1/responses, 24h)
 *	rl_batch_refresh	ask OpenAI for the batch now; collect it when
 *				it has ended
 *	rl_batch_collect	download the output and error files, check
 *				each line as a synchronous answer is checked,
 *				store each valid one as a preview (a finished
 *				task of the synchronous kind), settle the
 *				billed lines and release the rest; once
 *	rl_batch_poll		the worker's periodic refresh of open batches
 *
 * Nothing is written onto a plan: the previews go through the review
 * and apply routes of the synchronous generations.
 */
#ifndef RL_BATCH_H
#define RL_BATCH_H

#include <jansson.h>

#include "relais.h"

#define RL_BATCH_KIND_PC	"plan_cadre"
#define RL_BATCH_KIND_PDC	"plan_de_cours"
/* The OpenAI endpoint every line goes to, and the batch window. */
#define RL_BATCH_ENDPOINT	"/v1/responses"
#define RL_BATCH_WINDOW		"24h"

/* Is kind one of the two, section one of its sections? */
int		 rl_batch_kind_ok(const char *);
int		 rl_batch_section_ok(const char *kind, const char *section);
/*
 * The i-th section a launch without a list asks for, NULL past the last:
 * every plan-de-cours field (rl_pdc_fields), the calendar and the
 * evaluations; every plan-cadre section (rl_plancadre_target; the ones
 * whose generation settings leave the AI off are skipped at launch).
 */
const char	*rl_batch_section(const char *kind, size_t);

/*
 * Launch a batch for user_id: items [{plan_id, section}] (checked by the
 * caller: known sections, plans the user may see), options {model?,
 * reasoning_effort?, verbosity?, additional_info?, mode?} as the
 * synchronous routes take them, parent_id 0 or the batch resumed.
 * explicit: the sections were named (a section whose generation is off
 * is then an error, not skipped).  *id the new batch.  RL_ECREDITS (402)
 * before anything is uploaded when the holds do not fit the balance;
 * RL_EINVAL when nothing is left to send; RL_EUPSTREAM and the like when
 * OpenAI refused (the batch then stays in the history as failed, its
 * holds released).
 */
enum rl_err	 rl_batch_launch(long long user_id, const char *kind,
		    const json_t *items, const json_t *options, int explicit,
		    long long parent_id, long long *id, struct rl_error *);
/* Ask OpenAI now, store what it says; collect an ended batch. */
enum rl_err	 rl_batch_refresh(long long id, struct rl_error *);
/* Collect an ended batch (a no-op when done or being done elsewhere). */
enum rl_err	 rl_batch_collect(long long id, struct rl_error *);
/* Ask OpenAI to cancel; RL_ECONFLICT when the batch has ended. */
enum rl_err	 rl_batch_cancel(long long id, struct rl_error *);
/*
 * Refresh every batch not yet collected (oldest news first, at most
 * RL_BATCH_POLL_MAX a pass); *n how many were asked.  Errors of one
 * batch are logged and do not stop the others.
 */
enum rl_err	 rl_batch_poll(int *n, struct rl_error *);
/*
 * The batch as the routes show it (B of the contract), or JSON null when
 * there is none the user may see (admin: any); deleted ones are not
 * seen.  with_items adds items [...] and raw.
 */
enum rl_err	 rl_batch_get(long long id, long long user_id, int admin,
		    int with_items, json_t **, struct rl_error *);
/*
 * The items a resume sends again: those of batch id that failed, expired
 * or were invalid, as [{plan_id, section}] (empty: nothing to resume).
 * RL_ECONFLICT while the batch is not collected.
 */
enum rl_err	 rl_batch_resumable(long long id, json_t **, json_t **options,
		    struct rl_error *);
/*
 * The history (B objects, newest first) of user_id (admin: everyone's),
 * status NULL for any, at most limit.
 */
enum rl_err	 rl_batch_list(long long user_id, int admin,
		    const char *status, int limit, json_t **,
		    struct rl_error *);
/* Out of the history: cancelled first when it still runs. */
enum rl_err	 rl_batch_delete(long long id, struct rl_error *);
/* The ids of user_id's batches not yet collected: [id...]. */
enum rl_err	 rl_batch_open(long long user_id, json_t **,
		    struct rl_error *);
/* The kind of a batch. */
enum rl_err	 rl_batch_kind(long long id, char *, size_t,
		    struct rl_error *);

#endif
