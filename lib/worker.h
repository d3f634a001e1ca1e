/*
 * worker.h: the task runner.  A worker program is a table of task kinds and
 * a three-line main, as a FastCGI program is a route table: the runtime
 * (worker.c) claims queued rows of the tasks table with FOR UPDATE SKIP
 * LOCKED, wakes on LISTEN relais_tasks, runs up to N tasks at once, holds a
 * lease on each while it runs and records the outcome.  Programs enqueue
 * with rl_task_enqueue(); PostgreSQL is the only queue.
 */
#ifndef RL_WORKER_H
#define RL_WORKER_H

#include <stddef.h>

#include <jansson.h>

#include "relais.h"

struct rl_oa_stop;

/* A claimed task, as a task function sees it. */
struct rl_task {
	char		 id[37];	/* uuid */
	const char	*name;
	long long	 user_id;
	json_t		*payload;	/* borrowed */
	int		 attempt;	/* 1 for the first run */
	/*
	 * The runtime's own: rl_task_cancelled()'s answer and when it last
	 * asked the database (monotonic microseconds), so a task polling the
	 * flag in a loop costs at most one query every 250 ms.  A task is one
	 * thread's: call rl_task_cancelled() from the thread that runs it.
	 */
	int		 cancelled;
	long long	 cancel_checked_us;
	/*
	 * Raised by the runtime's listener when the task is cancelled; the
	 * upstream calls of the thread running the task stop on it at once
	 * (openai.h, rl_oa_thread_stop).
	 */
	struct rl_oa_stop *stop;
};

/*
 * Run a task.  RL_OK with *result (a new reference, may be NULL) marks it
 * SUCCESS; an error marks it FAILURE with {error, code} as its result.
 */
typedef enum rl_err	(*rl_task_fn)(struct rl_task *, json_t **result,
			    struct rl_error *);

struct rl_task_kind {
	const char	*name;		/* tasks.name */
	rl_task_fn	 run;
};

struct rl_worker {
	const char			*name;	/* for logs and usage */
	const struct rl_task_kind	*kinds;
	size_t				 nkinds;
	/* Runner threads; RELAIS_WORKER_THREADS and -n win. */
	int				 threads;
};

#define RL_NKINDS(k)	(sizeof(k) / sizeof((k)[0]))

int		 rl_worker_main(int, char *[], const struct rl_worker *);
/*
 * A function run after each reaper pass (every third of a lease, and at
 * start-up), for what a program's kinds keep outside the tasks table:
 * relais-worker fails the chat jobs whose task died (rl_aijob_sweep).
 * Set before rl_worker_main.
 */
void		 rl_worker_set_sweep(void (*)(void));
/*
 * A function run every ms in its own thread while the worker runs (not
 * with -1): relais-worker's refresh of open batches (rl_batch_poll).
 * Set before rl_worker_main.
 */
void		 rl_worker_set_poll(void (*)(void), long ms);

/*
 * From a task function: publish meta (an object, merged into tasks.meta
 * key by key), state PROGRESS.  RL_ECONFLICT when this worker no longer
 * holds the task (its lease lapsed and the reaper took it back).
 */
enum rl_err	 rl_task_progress(struct rl_task *, const json_t *,
		    struct rl_error *);
/*
 * From a task function: has the task been cancelled (tasks.cancel_requested)
 * or taken away from this worker?  Either way it should stop; a cancelled
 * task that returns ends REVOKED, whatever it returns.
 */
int		 rl_task_cancelled(struct rl_task *);

/*
 * From a program: queue a task (payload an object or NULL for {}); id
 * receives its uuid.  Inside the caller's transaction when one is open
 * (rl_db_begin), so a row and its task commit together; the insert
 * trigger's NOTIFY wakes a worker at commit.  It may run RL_TASK_ATTEMPTS
 * times: once more if its worker dies.
 */
enum rl_err	 rl_task_enqueue(const char *name, long long user_id,
		    const json_t *payload, char id[37], struct rl_error *);
/*
 * From a program: keep work done on the spot as a finished task (SUCCESS,
 * never queued), so a client comes back to it by task id.  *stored is the
 * result as kept: result (an object) with task_id and, when url is
 * given, validation_url = url + the task's id.
 */
enum rl_err	 rl_task_record_done(const char *name, long long user_id,
		    const json_t *payload, const json_t *result,
		    const char *url, char id[37], json_t **stored,
		    struct rl_error *);
/*
 * From a program: cancel a task the user may see (their own; any when
 * admin is nonzero).  One still to finish gets cancel_requested; one
 * still queued is REVOKED at once.  A finished one is left as it is.
 * *was and *now its state before and after (static strings).
 * RL_ENOTFOUND when there is no such task for this user.
 */
/*
 * Work done outside the queue (the Batch API, lib/edxo/batch.c): a task
 * in PROGRESS with no lease, never claimed nor reaped, and its end:
 * SUCCESS with result, or (result NULL) FAILURE with the worker's error
 * result for why and msg.  Only a task still in PROGRESS is ended.
 */
enum rl_err	 rl_task_start_outside(const char *name, long long user_id,
		    const json_t *payload, const char *message, char id[37],
		    struct rl_error *);
enum rl_err	 rl_task_end_outside(const char *id, const json_t *result,
		    enum rl_err why, const char *msg, struct rl_error *);
enum rl_err	 rl_task_cancel(const char *id, long long user_id, int admin,
		    const char **was, const char **now, struct rl_error *);

#endif
