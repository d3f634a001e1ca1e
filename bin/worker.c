/*
 * worker: relais-worker, the program that runs queued tasks.  Like a
 * FastCGI program is a route table, a worker is a table of task kinds (the
 * tasks.name each function runs) and a three-line main; lib/worker.c does
 * the claiming, leases, wake-ups and outcomes.
 */
#include "config.h"

#include <jansson.h>

#include "aijob.h"
#include "batch.h"
#include "bounds.h"
#include "conf.h"
#include "gen.h"
#include "imports.h"
#include "log.h"
#include "pdc.h"
#include "plancadre.h"
#include "programme.h"
#include "worker.h"

/*
 * relais.noop: does nothing and succeeds with {}.  It keeps the table
 * non-empty until the real kinds land, and lets an operator check that a
 * worker runs: insert a relais.noop task and watch it end SUCCESS.
 */
static enum rl_err
noop(struct rl_task *t, json_t **result, struct rl_error *e)
{

	(void)t;
	if ((*result = json_object()) == NULL)
		return rl_error_set(e, RL_ENOMEM, NULL);
	return RL_OK;
}

static const struct rl_task_kind kinds[] = {
	{ "openai.chat", rl_aijob_task },	/* seed 001 async chat jobs */
	{ "relais.noop", noop },
	{ RL_IMPORT_TASK_PDC, rl_import_pdc_task },	/* issue 8 imports */
	{ RL_IMPORT_TASK_PC, rl_import_pc_task },
	{ RL_IMPORT_TASK_GRILLE, rl_import_grille_task },
	{ RL_IMPORT_TASK_OCR, rl_import_ocr_task },
	{ "relais.generate", rl_gen_task },	/* smoke test (gen.h) */
	{ RL_PDC_TASK_FIELD, rl_pdc_task },	/* issue 7 plan de cours */
	{ RL_PDC_TASK_CALENDAR, rl_pdc_task },
	{ RL_PDC_TASK_EVALUATIONS, rl_pdc_task },
	{ RL_PDC_TASK_ALL, rl_pdc_task },
	{ RL_PDC_TASK_ANALYSE, rl_pdc_task },
	{ RL_TASK_LOGIGRAMME, rl_logigramme_task },	/* issue 9 */
	{ RL_TASK_GRILLE, rl_grille_task },
	{ RL_TASK_PLAN_CADRE, rl_plancadre_task },
};

static const struct rl_worker worker = {
	"relais-worker", kinds, RL_NKINDS(kinds), 0
};

/*
 * After each reaper pass: a chat job whose task died (its last attempt
 * lost, or revoked while queued) would otherwise stay pending or running
 * for ever; it fails, as its task did.
 */
static void
sweep(void)
{
	struct rl_error	 e;
	long long	 n;

	rl_error_clear(&e);
	if (rl_aijob_sweep(&n, &e) != RL_OK)
		rl_log_debug("relais-worker: job sweep: %s", e.msg);
	else if (n > 0)
		rl_log_warn("relais-worker: failed %lld chat jobs whose task "
		    "ended without them", n);
}

/*
 * Every RL_BATCH_POLL_MS (RELAIS_BATCH_POLL_MS): follow the open batches
 * on OpenAI and collect those that ended (issue 21).
 */
static void
poll_batches(void)
{
	struct rl_error	 e;
	int		 n;

	rl_error_clear(&e);
	if (rl_batch_poll(&n, &e) != RL_OK)
		rl_log_debug("relais-worker: batch poll: %s", e.msg);
}

int
main(int argc, char *argv[])
{
	struct rl_error	 e;
	int		 ms = RL_BATCH_POLL_MS;

	rl_error_clear(&e);
	if (rl_conf_int("RELAIS_BATCH_POLL_MS", 100, 24 * 3600 * 1000, &ms,
	    &e) != RL_OK)
		rl_log_warn("relais-worker: %s", e.msg);
	rl_worker_set_poll(poll_batches, ms);
	rl_worker_set_sweep(sweep);
	return rl_worker_main(argc, argv, &worker);
}
