/*
 * worker: relais-worker, the program that runs queued tasks.  Like a
 * FastCGI program is a route table, a worker is a table of task kinds (the
 * tasks.name each function runs) and a three-line main; lib/worker.c does
 * the claiming, leases, wake-ups and outcomes.
 */
#include "config.h"

#include <jansson.h>

#include "aijob.h"
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
};

static const struct rl_worker worker = {
	"relais-worker", kinds, RL_NKINDS(kinds), 0
};

int
main(int argc, char *argv[])
{

	return rl_worker_main(argc, argv, &worker);
}
