/*
 * testworker: a worker program for the integration tests
 * (tests/integration/worker.test.mjs).  Its kinds exercise what the
 * runtime does around a task function: results, failures, progress,
 * cancellation, parallel runs and a process that dies mid-task.
 */
#include "config.h"

#include <stdlib.h>
#include <time.h>

#include <jansson.h>

#include "worker.h"

/* test.sleep sleeps in steps this long, publishing progress after each. */
#define STEP_MS		100

/* test.echo: the payload is the result. */
static enum rl_err
echo(struct rl_task *t, json_t **result, struct rl_error *e)
{

	(void)e;
	*result = json_deep_copy(t->payload);
	return *result != NULL ? RL_OK : rl_error_set(e, RL_ENOMEM, NULL);
}

static void
nap(int ms)
{
	struct timespec	 ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) == -1)
		continue;
}

/*
 * test.sleep {ms}: sleep ms in STEP_MS steps; after each step publish
 * {progress: percent, message} and stop early when cancelled.  The result
 * says how long it slept and whether it was cancelled.
 */
static enum rl_err
sleeper(struct rl_task *t, json_t **result, struct rl_error *e)
{
	json_t		*meta;
	json_int_t	 ms, slept = 0;
	int		 step, cancelled = 0;
	enum rl_err	 err;

	ms = json_integer_value(json_object_get(t->payload, "ms"));
	if (ms < 0 || ms > 600000)
		return rl_error_set(e, RL_EINVAL, "ms out of range");
	while (slept < ms) {
		if (rl_task_cancelled(t)) {
			cancelled = 1;
			break;
		}
		step = ms - slept < STEP_MS ? (int)(ms - slept) : STEP_MS;
		nap(step);
		slept += step;
		meta = json_pack("{s:I, s:s+}", "progress",
		    (json_int_t)(slept * 100 / ms), "message", "dormi ",
		    slept >= ms ? "jusqu'au bout" : "un peu");
		if (meta == NULL)
			return rl_error_set(e, RL_ENOMEM, NULL);
		err = rl_task_progress(t, meta, e);
		json_decref(meta);
		if (err != RL_OK)
			return err;
	}
	*result = json_pack("{s:I, s:b, s:i}", "slept", slept, "cancelled",
	    cancelled, "attempt", t->attempt);
	return *result != NULL ? RL_OK : rl_error_set(e, RL_ENOMEM, NULL);
}

/* test.fail {message}: fails as an upstream error would. */
static enum rl_err
fail(struct rl_task *t, json_t **result, struct rl_error *e)
{
	const char	*msg;

	(void)result;
	msg = json_string_value(json_object_get(t->payload, "message"));
	return rl_error_set(e, RL_EUPSTREAM, "%s", msg != NULL ? msg :
	    "échec demandé");
}

/*
 * test.crash {crash: true}: the whole process dies on the first attempt,
 * as a worker killed mid-task; later attempts succeed with {attempt}.
 */
static enum rl_err
crash(struct rl_task *t, json_t **result, struct rl_error *e)
{

	if (json_is_true(json_object_get(t->payload, "crash")) &&
	    t->attempt == 1)
		abort();
	*result = json_pack("{s:i}", "attempt", t->attempt);
	return *result != NULL ? RL_OK : rl_error_set(e, RL_ENOMEM, NULL);
}

static const struct rl_task_kind kinds[] = {
	{ "test.echo", echo },
	{ "test.sleep", sleeper },
	{ "test.fail", fail },
	{ "test.crash", crash },
};

static const struct rl_worker worker = {
	"testworker", kinds, RL_NKINDS(kinds), 2
};

int
main(int argc, char *argv[])
{

	return rl_worker_main(argc, argv, &worker);
}
