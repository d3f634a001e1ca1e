/*
 * aijob.h: the model-aware chat job of seed 001 (POST /ai/openai/chat/).
 * A job is a row of openai_jobs.  rl_aijob_submit() validates the request,
 * auto-configures it for its model (models.h) and stores it; a synchronous
 * job then runs at once, an asynchronous one holds its credits and is
 * queued for the worker (task kind "openai.chat").  rl_aijob_run() is the
 * one place a job is executed, for both.
 */
#ifndef RL_AIJOB_H
#define RL_AIJOB_H

#include <jansson.h>

#include "relais.h"

struct rl_task;

/* Length of a job id, "ai_job_" + 16 hex digits, NUL included. */
#define RL_AIJOB_ID_LEN		24

/*
 * Submit a job for a user.  On RL_OK *answer is the seed's answer (the
 * completed job, or {job_id, status: "async", ...}).  On a parameter the
 * model refuses, RL_EINVAL and *errbody is the seed's 400 body.
 */
enum rl_err	 rl_aijob_submit(long long user_id, json_t *body,
		    const char *request_id, json_t **answer, json_t **errbody,
		    struct rl_error *);
/* Execute a stored job; *answer as the synchronous answer. */
enum rl_err	 rl_aijob_run(const char *job_id, long long hold_id,
		    const char *request_id, const char *task_id,
		    json_t **answer, struct rl_error *);
/* A job as its owner (or an admin) reads it back. */
enum rl_err	 rl_aijob_get(long long user_id, int admin, const char *job_id,
		    json_t **answer, struct rl_error *);
/*
 * The worker's task function for "openai.chat".  A rerun (attempt > 1)
 * never calls the upstream for a job the dead run claimed: it answers the
 * recorded outcome, or fails the cut job (worker_lost).
 */
enum rl_err	 rl_aijob_task(struct rl_task *, json_t **, struct rl_error *);
/*
 * Fail the jobs whose run is gone (task ended without the job's outcome,
 * a synchronous run older than an hour); *ended how many.  The worker's
 * keeper calls it after each reaper pass.
 */
enum rl_err	 rl_aijob_sweep(long long *ended, struct rl_error *);

#endif
