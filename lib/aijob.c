/*
 * aijob.c: seed 001's chat jobs.  See aijob.h and docs/internals/aijob.md.
 *
 * A job's life: submit (validate, auto-configure, INSERT pending) -> run
 * (UPDATE pending -> running claims it, so a job runs once whoever asks)
 * -> completed or failed, with the answer or the error stored on the row.
 * The answer a synchronous caller gets is the row's result, so reading a
 * job back later gives the same bytes.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ai.h"
#include "aijob.h"
#include "bounds.h"
#include "credits.h"
#include "crypto.h"
#include "db.h"
#include "extern.h"
#include "log.h"
#include "models.h"
#include "worker.h"

/* What a job's request may hold; anything else is refused by name. */
static const char *const keys[] = {
	"messages", "model", "description", "async", "tools", "tool_choice",
	"reasoning_effort", "temperature", "max_tokens",
	"max_completion_tokens", "response_format", "top_p",
	"frequency_penalty", "presence_penalty", "stop", "seed"
};

/* Keys that describe the job rather than the upstream request. */
static const char *const local_keys[] = {
	"messages", "model", "description", "async"
};

static const char *const roles[] = {
	"system", "developer", "user", "assistant", "tool"
};

/* The seed's default model when the request names none. */
#define AIJOB_DEFAULT_MODEL	"gpt-4o"
/* A job whose run died with its worker: the worker's reaper's words. */
#define AIJOB_LOST_MSG		"Le traitement a été interrompu."

static int
in(const char *s, const char *const *set, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (strcmp(s, set[i]) == 0)
			return 1;
	return 0;
}

#define IN(s, set)	in((s), (set), sizeof(set) / sizeof((set)[0]))

/*
 * The request's shape, checked before anything is stored: known keys,
 * messages a non-empty array of {role, content} with a known role and a
 * string or array content (null only for an assistant's tool calls).
 */
static enum rl_err
check_request(json_t *body, struct rl_error *e)
{
	const char	*k, *role;
	json_t		*v, *msgs, *m, *c;
	char		 where[32];
	size_t		 i;

	if (!json_is_object(body))
		return rl_error_set(e, RL_EINVAL, "body must be a JSON object");
	json_object_foreach(body, k, v)
		if (!IN(k, keys))
			return rl_error_field(e, RL_EINVAL, k,
			    "unknown parameter: %s", k);
	msgs = json_object_get(body, "messages");
	if (!json_is_array(msgs) || json_array_size(msgs) == 0)
		return rl_error_field(e, RL_EINVAL, "messages",
		    "messages: a non-empty array is required");
	if (json_array_size(msgs) > RL_AIJOB_MAX_MESSAGES)
		return rl_error_field(e, RL_EINVAL, "messages",
		    "messages: at most %d messages", RL_AIJOB_MAX_MESSAGES);
	json_array_foreach(msgs, i, m) {
		role = json_string_value(json_object_get(m, "role"));
		c = json_object_get(m, "content");
		if (json_is_object(m) && role != NULL && IN(role, roles) &&
		    (json_is_string(c) || json_is_array(c) ||
		    (json_is_null(c) && strcmp(role, "assistant") == 0)))
			continue;
		(void)snprintf(where, sizeof(where), "messages[%zu]", i);
		return rl_error_field(e, RL_EINVAL, where, "%s: want {role: "
		    "system|developer|user|assistant|tool, content: string or "
		    "array}", where);
	}
	v = json_object_get(body, "model");
	if (v != NULL && !json_is_string(v))
		return rl_error_field(e, RL_EINVAL, "model",
		    "model: a string is required");
	v = json_object_get(body, "description");
	if (v != NULL && !json_is_null(v) && (!json_is_string(v) ||
	    json_string_length(v) > RL_AIJOB_DESCRIPTION_MAX))
		return rl_error_field(e, RL_EINVAL, "description",
		    "description: a string of at most %d bytes",
		    RL_AIJOB_DESCRIPTION_MAX);
	v = json_object_get(body, "async");
	if (v != NULL && !json_is_boolean(v) && !json_is_null(v))
		return rl_error_field(e, RL_EINVAL, "async",
		    "async: a boolean is required");
	return RL_OK;
}

/* The output cap the effective parameters send (max_* after configure). */
static long long
max_output(const json_t *eff)
{
	json_t	*v;

	if ((v = json_object_get(eff, "max_completion_tokens")) == NULL)
		v = json_object_get(eff, "max_tokens");
	return json_is_integer(v) ? json_integer_value(v) : 0;
}

/* The Chat Completions body: model, shaped messages, effective params. */
static json_t *
upstream_body(const struct rl_model *m, const json_t *messages,
    const json_t *eff)
{
	json_t		*b, *msgs;

	if ((msgs = rl_model_messages(m, messages)) == NULL)
		return NULL;
	if ((b = json_deep_copy(eff)) == NULL ||
	    json_object_set_new(b, "model", json_string(m->name)) == -1 ||
	    json_object_set_new(b, "messages", msgs) == -1) {
		json_decref(b);
		return NULL;
	}
	return b;
}

/* The client's parameters without the job's own keys, for configure. */
static json_t *
client_params(const json_t *body)
{
	json_t		*p;
	size_t		 i;

	if ((p = json_deep_copy(body)) == NULL)
		return NULL;
	for (i = 0; i < sizeof(local_keys) / sizeof(local_keys[0]); i++)
		(void)json_object_del(p, local_keys[i]);
	return p;
}

static enum rl_err
store(const char *id, long long user_id, const json_t *body,
    const struct rl_model *m, const json_t *eff, int async,
    struct rl_error *e)
{
	char		 uid[32];
	char		*msgs = NULL, *params = NULL;
	const char	*desc, *p[9];
	enum rl_err	 err;

	desc = json_string_value(json_object_get(body, "description"));
	msgs = json_dumps(json_object_get(body, "messages"), JSON_COMPACT);
	params = json_dumps(eff, JSON_COMPACT);
	if (msgs == NULL || params == NULL) {
		err = rl_error_set(e, RL_ENOMEM, "out of memory");
		goto out;
	}
	(void)snprintf(uid, sizeof(uid), "%lld", user_id);
	p[0] = id;
	p[1] = uid;
	p[2] = desc;
	p[3] = m->name;
	p[4] = m->generation_new ? "new" : "legacy";
	p[5] = msgs;
	p[6] = params;
	p[7] = m->structured ? "structured" : "legacy";
	p[8] = async ? "true" : "false";
	err = rl_db_exec("INSERT INTO openai_jobs (id, user_id, description, "
	    "model, generation, messages, params, temperature, max_tokens, "
	    "max_completion_tokens, reasoning_effort, messages_format, tools, "
	    "response_format, is_async) VALUES ($1, $2::bigint, $3, $4, $5, "
	    "$6::jsonb, $7::jsonb, ($7::jsonb->>'temperature')::numeric, "
	    "($7::jsonb->>'max_tokens')::integer, "
	    "($7::jsonb->>'max_completion_tokens')::integer, "
	    "$7::jsonb->>'reasoning_effort', $8, $7::jsonb->'tools', "
	    "$7::jsonb->'response_format', $9::boolean)", 9, p, NULL, e);
out:
	free(msgs);
	free(params);
	return err;
}

/*
 * Queue an async job: hold its highest cost now (so a user without
 * credits hears it at once, not from a failed task later), then store the
 * row and the task in one transaction, so there is never a job without
 * its task or the reverse.  The worker settles that same hold.
 */
static enum rl_err
queue(const char *id, long long user_id, const json_t *body,
    const struct rl_model *m, const json_t *eff, const json_t *ubody,
    const char *request_id, json_t **answer, struct rl_error *e)
{
	char		 tid[37], when[40];
	const char	*p[2];
	long long	 hold = 0;
	json_t		*payload = NULL;
	enum rl_err	 err;
	time_t		 t;
	struct tm	 tm;
	int		 txn = 0;

	if ((err = rl_ai_reserve(user_id, m, rl_ai_bound(m, ubody,
	    max_output(eff)), request_id, NULL, &hold, e)) != RL_OK)
		goto out;
	if ((payload = json_pack("{s:s, s:I}", "job_id", id, "hold_id",
	    (json_int_t)hold)) == NULL) {
		err = rl_error_set(e, RL_ENOMEM, "out of memory");
		goto out;
	}
	if ((err = rl_db_begin(e)) != RL_OK)
		goto out;
	txn = 1;
	if ((err = store(id, user_id, body, m, eff, 1, e)) != RL_OK ||
	    (err = rl_task_enqueue("openai.chat", user_id, payload, tid,
	    e)) != RL_OK)
		goto out;
	/* The hold belongs to the task: the sweep leaves it while queued. */
	p[0] = id;
	p[1] = tid;
	if ((err = rl_db_exec("UPDATE openai_jobs SET task_id = $2::uuid "
	    "WHERE id = $1", 2, p, NULL, e)) != RL_OK ||
	    (err = rl_credits_attach_task(hold, tid, e)) != RL_OK ||
	    (err = rl_db_commit(e)) != RL_OK)
		goto out;
	txn = 0;
	hold = 0;	/* the task owns it now */
	t = time(NULL) + (m->reasoning ? RL_AIJOB_ETA_REASONING_SEC :
	    RL_AIJOB_ETA_SEC);
	(void)gmtime_r(&t, &tm);
	(void)strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	*answer = json_pack("{s:s, s:s, s:s, s:s+, s:s}", "job_id", id,
	    "status", "async", "task_id", tid, "message",
	    "Job started asynchronously with ", m->name,
	    "estimated_completion", when);
	if (*answer == NULL)
		err = rl_error_set(e, RL_ENOMEM, "out of memory");
out:
	if (txn)
		rl_db_rollback();
	if (hold != 0)
		rl_credits_release_sure(hold);
	json_decref(payload);
	return err;
}

static enum rl_err	 run_now(const char *, long long, const json_t *,
			    const struct rl_model *, const json_t *, json_t *,
			    const char *, json_t **, struct rl_error *);

enum rl_err
rl_aijob_submit(long long user_id, json_t *body, const char *request_id,
    json_t **answer, json_t **errbody, struct rl_error *e)
{
	struct rl_model	 m;
	char		 id[RL_AIJOB_ID_LEN], hex[17];
	const char	*model;
	json_t		*params = NULL, *eff = NULL, *ubody = NULL;
	enum rl_err	 err;

	*answer = NULL;
	*errbody = NULL;
	if ((err = check_request(body, e)) != RL_OK)
		goto out;
	model = json_string_value(json_object_get(body, "model"));
	if (model == NULL)
		model = AIJOB_DEFAULT_MODEL;
	if ((err = rl_model_lookup(model, &m, e)) != RL_OK) {
		if (err == RL_EINVAL)
			rl_error_where(e, "model");
		goto out;
	}
	if ((params = client_params(body)) == NULL) {
		err = rl_error_set(e, RL_ENOMEM, "out of memory");
		goto out;
	}
	if ((err = rl_model_configure(&m, params, &eff, errbody, e)) != RL_OK)
		goto out;
	if ((ubody = upstream_body(&m, json_object_get(body, "messages"),
	    eff)) == NULL) {
		err = rl_error_set(e, RL_ENOMEM, "out of memory");
		goto out;
	}
	rl_random_hex(hex, 8);
	(void)snprintf(id, sizeof(id), "ai_job_%s", hex);
	if (json_is_true(json_object_get(body, "async")))
		err = queue(id, user_id, body, &m, eff, ubody, request_id,
		    answer, e);
	else
		err = run_now(id, user_id, body, &m, eff, ubody, request_id,
		    answer, e);
out:
	json_decref(params);
	json_decref(eff);
	json_decref(ubody);
	return err;
}

/*
 * The answer of a completed job, as seed 001 shows it: the first choice's
 * text (and tool calls when the model asked for some), usage with the cost
 * as a 6-decimal string, generation, reasoning effort for the models that
 * take one, and the time the upstream call took.
 */
static json_t *
answer_of(const char *id, const struct rl_model *m, const json_t *eff,
    const struct rl_ai *ai, long long ms)
{
	const struct rl_usage *u = &ai->call.usage;
	json_t		*a, *result, *choice, *msg, *v;
	char		 cost[32];

	choice = json_array_get(json_object_get(ai->call.answer, "choices"), 0);
	msg = json_object_get(choice, "message");
	v = json_object_get(msg, "content");
	result = json_pack("{s:O, s:s}", "completion",
	    json_is_string(v) ? v : json_null(), "finish_reason",
	    ai->call.finish[0] != '\0' ? ai->call.finish : "stop");
	if (result == NULL)
		return NULL;
	if ((v = json_object_get(msg, "tool_calls")) != NULL &&
	    json_array_size(v) > 0)
		(void)json_object_set(result, "tool_calls", v);
	a = json_pack("{s:s, s:s, s:o, s:{s:I, s:I, s:I, s:s}, s:s, s:s, "
	    "s:I}", "job_id", id, "status", "completed", "result", result,
	    "usage", "prompt_tokens", (json_int_t)u->input_tokens,
	    "completion_tokens", (json_int_t)u->output_tokens,
	    "total_tokens", (json_int_t)(u->input_tokens + u->output_tokens),
	    "cost_usd", rl_micro_fmt(ai->cost_micro, cost, sizeof(cost)),
	    "model", m->name, "generation", m->generation_new ? "new" :
	    "legacy", "execution_time_ms", (json_int_t)ms);
	if (a != NULL && (v = json_object_get(eff, "reasoning_effort")) !=
	    NULL)
		(void)json_object_set(a, "reasoning_effort", v);
	return a;
}

/*
 * A job's outcome, as the parameters of its UPDATE, owned: it may wait in
 * the retry queue (credits.h) when the database is away as the run ends.
 */
#define OUTCOME_NP	12
/* A synchronous job's row, written whole after its call (run_now). */
#define RECORD_NP	18

struct outcome {
	char	*p[RECORD_NP];
};

static void
outcome_free(void *arg)
{
	struct outcome	*o = arg;
	int		 i;

	for (i = 0; i < RECORD_NP; i++)
		free(o->p[i]);
	free(o);
}

/*
 * Write it, only on the run that claimed the job (still running, same
 * started_at): a job the rerun of a dead task or the sweep already ended
 * keeps that ending.
 */
static enum rl_err
outcome_write(void *arg, struct rl_error *e)
{
	struct outcome	*o = arg;
	struct rl_dbres	*r = NULL;
	enum rl_err	 err;

	err = rl_db_exec("UPDATE openai_jobs SET status = $2, result = "
	    "$3::jsonb, openai_id = $4, prompt_tokens = $5::bigint, "
	    "completion_tokens = $6::bigint, total_tokens = $5::bigint + "
	    "$6::bigint, reasoning_tokens = $7::bigint, cost = $8::numeric, "
	    "execution_time_ms = $9::integer, error = $10, error_code = $11, "
	    "finished_at = now() WHERE id = $1 AND status = 'running' AND "
	    "started_at = $12::timestamptz", OUTCOME_NP,
	    (const char *const *)o->p, &r, e);
	if (err == RL_OK && rl_dbres_affected(r) == 0)
		rl_log_warn("job %s: no longer this run's (ended by a rerun "
		    "or the sweep); outcome %s dropped", o->p[0], o->p[1]);
	rl_dbres_free(r);
	return err;
}

/* Copy s into o->p[i]; -1 when out of memory.  NULL stays NULL. */
static int
dup_param(struct outcome *o, int i, const char *s)
{

	if (s == NULL)
		return 0;
	return (o->p[i] = strdup(s)) == NULL ? -1 : 0;
}

/*
 * Record the outcome of a run on the job's row; the row is the truth.  A
 * write the database could not take now is queued and retried until it
 * lands, so a job never stays running because PostgreSQL restarted as it
 * finished.
 */
static enum rl_err
finish(const char *id, const char *claimed, const struct rl_ai *ai,
    const json_t *answer, enum rl_err err, const struct rl_error *ce,
    long long ms, struct rl_error *e)
{
	const struct rl_usage *u = &ai->call.usage;
	struct outcome	*o;
	char		 in[24], outt[24], rs[24], cost[32], t[24];
	char		 what[64];
	char		*res = NULL;
	enum rl_err	 rc;

	if ((o = calloc(1, sizeof(*o))) == NULL)
		return rl_error_set(e, RL_ENOMEM, "out of memory");
	if (answer != NULL && (res = json_dumps(answer, JSON_COMPACT)) ==
	    NULL) {
		outcome_free(o);
		return rl_error_set(e, RL_ENOMEM, "out of memory");
	}
	o->p[2] = res;
	(void)snprintf(in, sizeof(in), "%lld", u->input_tokens);
	(void)snprintf(outt, sizeof(outt), "%lld", u->output_tokens);
	(void)snprintf(rs, sizeof(rs), "%lld", u->reasoning_tokens);
	(void)snprintf(t, sizeof(t), "%lld", ms);
	if (dup_param(o, 0, id) == -1 ||
	    dup_param(o, 1, err == RL_OK ? "completed" : "failed") == -1 ||
	    dup_param(o, 3, ai->call.response_id[0] != '\0' ?
	    ai->call.response_id : NULL) == -1 ||
	    dup_param(o, 4, ai->settled ? in : NULL) == -1 ||
	    dup_param(o, 5, ai->settled ? outt : NULL) == -1 ||
	    dup_param(o, 6, ai->settled ? rs : NULL) == -1 ||
	    dup_param(o, 7, ai->settled ? rl_micro_fmt(ai->cost_micro, cost,
	    sizeof(cost)) : NULL) == -1 ||
	    dup_param(o, 8, t) == -1 ||
	    dup_param(o, 9, err == RL_OK ? NULL : ce->msg) == -1 ||
	    dup_param(o, 10, err == RL_OK ? NULL : rl_err_token(err)) == -1 ||
	    dup_param(o, 11, claimed) == -1) {
		outcome_free(o);
		return rl_error_set(e, RL_ENOMEM, "out of memory");
	}
	rc = outcome_write(o, e);
	if (!rl_credits_retryable(rc, e)) {
		outcome_free(o);
		return rc;
	}
	(void)snprintf(what, sizeof(what), "outcome of job %s", id);
	rl_log_warn("%s not recorded (%s); queued for retry", what, e->msg);
	return rl_credits_later(what, outcome_write, o, outcome_free, e);
}

/*
 * A synchronous job's row, whole: the request as store() writes it and
 * the outcome as finish() does, in one INSERT.  A retry whose first commit
 * landed (only its answer was lost) finds the row and writes nothing.
 *
 * Its commit does not wait for the disk (ASYNC_COMMIT): the row is on the
 * path of the answer, which carries its id, so it must be visible before
 * the answer leaves (a commit is, at once, flushed or not), but nothing
 * of money is in it: the hold and the ledger row are written by their
 * own synchronous statements, and the call's ledger row, committed after
 * it, flushes the log up to it.  A PostgreSQL crash can lose the row of
 * a call answered in the last fraction of a second, never its billing;
 * reading it back then says 404.  With fsync on that is one disk flush
 * (0.13 ms on the bench machine) less before every answer.
 */
#define ASYNC_COMMIT							\
	"(SELECT set_config('synchronous_commit', 'off', true)) AS sc"

static enum rl_err
record_write(void *arg, struct rl_error *e)
{
	struct outcome	*o = arg;

	return rl_db_exec("INSERT INTO openai_jobs (id, user_id, description, "
	    "model, generation, messages, params, temperature, max_tokens, "
	    "max_completion_tokens, reasoning_effort, messages_format, tools, "
	    "response_format, is_async, status, result, openai_id, "
	    "prompt_tokens, completion_tokens, total_tokens, "
	    "reasoning_tokens, cost, execution_time_ms, error, error_code, "
	    "created_at, started_at, finished_at) SELECT $1, $2::bigint, "
	    "$3, $4, $5, $6::jsonb, $7::jsonb, "
	    "($7::jsonb->>'temperature')::numeric, "
	    "($7::jsonb->>'max_tokens')::integer, "
	    "($7::jsonb->>'max_completion_tokens')::integer, "
	    "$7::jsonb->>'reasoning_effort', $8, $7::jsonb->'tools', "
	    "$7::jsonb->'response_format', false, $9, $10::jsonb, $11, "
	    "$12::bigint, $13::bigint, $12::bigint + $13::bigint, "
	    "$14::bigint, $15::numeric, $16::integer, $17, $18, "
	    "now() - $16::integer * interval '1 millisecond', "
	    "now() - $16::integer * interval '1 millisecond', now() "
	    "FROM " ASYNC_COMMIT " ON CONFLICT (id) DO NOTHING", RECORD_NP,
	    (const char *const *)o->p, NULL, e);
}

/*
 * Synchronous jobs' records in batches: under load each was a statement
 * and a commit of its own before its answer, and PostgreSQL spent more
 * on them (the table's sixteen checks compiled, its triggers and indexes
 * readied, a commit) than on the call's money.  One INSERT takes the
 * rows of those waiting (rl_db_batch_do), RECORD_NP columns as arrays;
 * each row stays the same as record_write's alone.  The rows go in by
 * user: while user_id referenced users (until sql/0022) each row's key
 * check locked its user's row (FOR KEY SHARE), and taken in another
 * order than the money statements' (credits.c, users by id) a batch and
 * a group of reservations deadlocked.  Nothing locks a user's row here
 * now; the order stays, harmless, should a reference come back.
 */
#define RECORD_BATCH_SQL						\
	"INSERT INTO openai_jobs (id, user_id, description, model, "	\
	"generation, messages, params, temperature, max_tokens, "	\
	"max_completion_tokens, reasoning_effort, messages_format, "	\
	"tools, response_format, is_async, status, result, openai_id, "	\
	"prompt_tokens, completion_tokens, total_tokens, "		\
	"reasoning_tokens, cost, execution_time_ms, error, "		\
	"error_code, created_at, started_at, finished_at) SELECT id, "	\
	"uid, descr, "							\
	"model, gen, msgs, params, (params->>'temperature')::numeric, "	\
	"(params->>'max_tokens')::integer, "				\
	"(params->>'max_completion_tokens')::integer, "		\
	"params->>'reasoning_effort', fmt, params->'tools', "		\
	"params->'response_format', false, status, result, oid, tin, "	\
	"tout, tin + tout, treason, cost, ms, err, code, "		\
	"now() - ms * interval '1 millisecond', "			\
	"now() - ms * interval '1 millisecond', now() FROM unnest("	\
	"$1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], " \
	"$6::jsonb[], $7::jsonb[], $8::text[], $9::text[], $10::jsonb[], " \
	"$11::text[], $12::bigint[], $13::bigint[], $14::bigint[], "	\
	"$15::numeric[], $16::integer[], $17::text[], $18::text[]) AS "	\
	"r (id, uid, descr, model, gen, msgs, params, fmt, status, "	\
	"result, oid, tin, tout, treason, cost, ms, err, code) "	\
	"CROSS JOIN " ASYNC_COMMIT " "					\
	"ORDER BY uid ON CONFLICT (id) DO NOTHING"

_Static_assert(RECORD_NP <= RL_DB_ARRAYS_MAX, "a record's columns as arrays");

/* A record waiting for its batch, and its answer. */
struct record_item {
	struct outcome	*o;
	enum rl_err	 err;
	struct rl_error	 e;
};

static void
record_one(void *arg)
{
	struct record_item	*it = arg;

	it->err = record_write(it->o, &it->e);
}

/*
 * n records in one statement.  When it fails each is written alone (one
 * bad row costs only its own, a deadlock is tried again at once), unless
 * the database is away: then each gets that answer and is queued.
 */
static void
record_many(void **a, int n)
{
	struct rl_db_arrays	 x;
	struct record_item	*it;
	struct rl_error		 e;
	enum rl_err		 err;
	int			 i;

	if (n == 1) {
		record_one(a[0]);
		return;
	}
	rl_db_arrays_init(&x, RECORD_NP, RL_AIJOB_RECORD_BATCH_BYTES);
	for (i = 0; i < n; i++) {
		it = a[i];
		rl_db_arrays_row(&x, (const char *const *)it->o->p);
	}
	rl_error_clear(&e);
	err = rl_db_arrays_exec(&x, RECORD_BATCH_SQL, NULL, &e);
	for (i = 0; i < n; i++) {
		it = a[i];
		if (err == RL_OK)
			it->err = RL_OK;
		else if (err == RL_EDBDOWN || err == RL_EUNAVAIL) {
			it->err = err;
			it->e = e;
		} else
			record_one(it);
	}
}

static struct rl_db_batch records = RL_DB_BATCH_INIT(
    RL_AIJOB_RECORD_GROUP_MAX, record_one, record_many);

/*
 * Record a synchronous job after its call; queued and retried like an
 * outcome when the database is away (the client gets its answer).
 */
static enum rl_err
record(const char *id, long long user_id, const json_t *body,
    const struct rl_model *m, const json_t *eff, const struct rl_ai *ai,
    const json_t *answer, enum rl_err err, const struct rl_error *ce,
    long long ms, struct rl_error *e)
{
	const struct rl_usage *u = &ai->call.usage;
	struct outcome	*o;
	char		 uid[24], in[24], outt[24], rs[24], cost[32], t[24];
	struct record_item	 it;
	char		 what[64];
	enum rl_err	 rc;

	if ((o = calloc(1, sizeof(*o))) == NULL)
		return rl_error_set(e, RL_ENOMEM, "out of memory");
	(void)snprintf(uid, sizeof(uid), "%lld", user_id);
	(void)snprintf(in, sizeof(in), "%lld", u->input_tokens);
	(void)snprintf(outt, sizeof(outt), "%lld", u->output_tokens);
	(void)snprintf(rs, sizeof(rs), "%lld", u->reasoning_tokens);
	(void)snprintf(t, sizeof(t), "%lld", ms);
	o->p[5] = json_dumps(json_object_get(body, "messages"), JSON_COMPACT);
	o->p[6] = json_dumps(eff, JSON_COMPACT);
	if (answer != NULL)
		o->p[9] = json_dumps(answer, JSON_COMPACT);
	if (o->p[5] == NULL || o->p[6] == NULL ||
	    (answer != NULL && o->p[9] == NULL) ||
	    dup_param(o, 0, id) == -1 || dup_param(o, 1, uid) == -1 ||
	    dup_param(o, 2, json_string_value(json_object_get(body,
	    "description"))) == -1 ||
	    dup_param(o, 3, m->name) == -1 ||
	    dup_param(o, 4, m->generation_new ? "new" : "legacy") == -1 ||
	    dup_param(o, 7, m->structured ? "structured" : "legacy") == -1 ||
	    dup_param(o, 8, err == RL_OK ? "completed" : "failed") == -1 ||
	    dup_param(o, 10, ai->call.response_id[0] != '\0' ?
	    ai->call.response_id : NULL) == -1 ||
	    dup_param(o, 11, ai->settled ? in : NULL) == -1 ||
	    dup_param(o, 12, ai->settled ? outt : NULL) == -1 ||
	    dup_param(o, 13, ai->settled ? rs : NULL) == -1 ||
	    dup_param(o, 14, ai->settled ? rl_micro_fmt(ai->cost_micro, cost,
	    sizeof(cost)) : NULL) == -1 ||
	    dup_param(o, 15, t) == -1 ||
	    dup_param(o, 16, err == RL_OK ? NULL : ce->msg) == -1 ||
	    dup_param(o, 17, err == RL_OK ? NULL : rl_err_token(err)) == -1) {
		outcome_free(o);
		return rl_error_set(e, RL_ENOMEM, "out of memory");
	}
	memset(&it, 0, sizeof(it));
	it.o = o;
	rl_error_clear(&it.e);
	rl_db_batch_do(&records, &it);
	rc = it.err;
	*e = it.e;
	if (!rl_credits_retryable(rc, e)) {
		outcome_free(o);
		return rc;
	}
	(void)snprintf(what, sizeof(what), "job %s", id);
	rl_log_warn("%s not recorded (%s); queued for retry", what, e->msg);
	return rl_credits_later(what, record_write, o, outcome_free, e);
}

/*
 * A synchronous job.  Nobody can ask for it before its answer (its id is
 * in that answer), so its row is written once, with its outcome, after
 * the call, and the call's reservation is the one round trip before the
 * upstream request (issue 17; the row used to be inserted pending and
 * claimed first: two more).  The row is written before the answer goes
 * out, so reading the job back right after finds it.  A process killed
 * during the call leaves no row, only its hold (money.md).
 */
static enum rl_err
run_now(const char *id, long long user_id, const json_t *body,
    const struct rl_model *m, const json_t *eff, json_t *ubody,
    const char *request_id, json_t **answer, struct rl_error *e)
{
	struct rl_ai	 ai;
	struct rl_error	 fe;
	long long	 t0, ms;
	enum rl_err	 err;

	memset(&ai, 0, sizeof(ai));
	ai.user_id = user_id;
	ai.feature = "ai_openai.chat";
	ai.request_id = request_id;
	ai.model = m;
	ai.max_output = max_output(eff);
	/* The client waits: settle after its answer. */
	ai.later = 1;
	ai.call.path = "/chat/completions";
	ai.call.body = ubody;
	t0 = rl_now_us();
	err = rl_ai_call(&ai, e);
	ms = (rl_now_us() - t0) / 1000;
	if (err == RL_OK && (*answer = answer_of(id, m, eff, &ai, ms)) ==
	    NULL)
		err = rl_error_set(e, RL_ENOMEM, "out of memory");
	if (record(id, user_id, body, m, eff, &ai, *answer, err, e, ms,
	    &fe) != RL_OK)
		rl_log_error("job %s: not recorded: %s", id, fe.msg);
	if (err != RL_OK) {
		json_decref(*answer);
		*answer = NULL;
	}
	rl_ai_free(&ai);
	return err;
}

enum rl_err
rl_aijob_run(const char *id, long long hold_id, const char *request_id,
    const char *task_id, json_t **answer, struct rl_error *e)
{
	struct rl_ai	 ai;
	struct rl_model	 m;
	struct rl_error	 fe;
	const char	*p[1], *claimed = NULL;
	json_t		*job = NULL, *ubody = NULL;
	long long	 t0, ms = 0;
	enum rl_err	 err;

	*answer = NULL;
	memset(&ai, 0, sizeof(ai));
	p[0] = id;
	/*
	 * Claim: only a pending job runs, and only once.  Its started_at
	 * is this run's mark: the outcome is written only while the row
	 * still carries it.  A job not pending is left to the caller, hold
	 * included (rl_aijob_task knows what a rerun does with it).
	 */
	if ((err = rl_db_json("UPDATE openai_jobs SET status = 'running', "
	    "started_at = now() WHERE id = $1 AND status = 'pending' "
	    "RETURNING json_build_object('user_id', user_id, 'model', model, "
	    "'messages', messages, 'params', params, 'claimed', "
	    "started_at::text)", 1, p, &job, e)) != RL_OK)
		return err;
	if (!json_is_object(job)) {
		json_decref(job);
		return rl_error_set(e, RL_ECONFLICT, "job %s is not pending",
		    id);
	}
	claimed = json_string_value(json_object_get(job, "claimed"));
	if ((err = rl_model_lookup(json_string_value(json_object_get(job,
	    "model")), &m, e)) != RL_OK)
		goto out;
	if ((ubody = upstream_body(&m, json_object_get(job, "messages"),
	    json_object_get(job, "params"))) == NULL) {
		err = rl_error_set(e, RL_ENOMEM, "out of memory");
		goto out;
	}
	ai.user_id = json_integer_value(json_object_get(job, "user_id"));
	ai.feature = "ai_openai.chat";
	ai.request_id = request_id;
	ai.task_id = task_id;
	ai.model = &m;
	ai.max_output = max_output(json_object_get(job, "params"));
	ai.hold_id = hold_id;
	hold_id = 0;	/* rl_ai_call consumes it */
	/* A client waits for a synchronous job: settle after its answer. */
	ai.later = task_id == NULL;
	ai.call.path = "/chat/completions";
	ai.call.body = ubody;
	t0 = rl_now_us();
	err = rl_ai_call(&ai, e);
	ms = (rl_now_us() - t0) / 1000;
	if (err == RL_OK && (*answer = answer_of(id, &m,
	    json_object_get(job, "params"), &ai, ms)) == NULL)
		err = rl_error_set(e, RL_ENOMEM, "out of memory");
out:
	if (hold_id != 0)
		rl_credits_release_sure(hold_id);
	if (finish(id, claimed, &ai, *answer, err, e, ms, &fe) != RL_OK)
		rl_log_error("job %s: outcome not recorded: %s", id, fe.msg);
	if (err != RL_OK) {
		json_decref(*answer);
		*answer = NULL;
	}
	rl_ai_free(&ai);
	json_decref(job);
	json_decref(ubody);
	return err;
}

enum rl_err
rl_aijob_get(long long user_id, int admin, const char *id, json_t **answer,
    struct rl_error *e)
{
	char		 uid[32];
	const char	*p[3];
	enum rl_err	 err;

	(void)snprintf(uid, sizeof(uid), "%lld", user_id);
	p[0] = id;
	p[1] = uid;
	p[2] = admin ? "true" : "false";
	/* Someone else's job is "not found", exactly as a missing one. */
	err = rl_db_json("SELECT CASE WHEN j.status = 'completed' THEN "
	    "j.result::json ELSE json_strip_nulls(json_build_object("
	    "'job_id', j.id, 'status', j.status, 'model', j.model, "
	    "'generation', j.generation, 'task_id', j.task_id, "
	    "'description', j.description, 'created_at', j.created_at, "
	    "'error', j.error, 'error_code', j.error_code, "
	    "'execution_time_ms', j.execution_time_ms)) END "
	    "FROM openai_jobs j WHERE j.id = $1 AND "
	    "(j.user_id = $2::bigint OR $3::boolean)", 3, p, answer, e);
	if (err == RL_OK && json_is_null(*answer)) {
		json_decref(*answer);
		*answer = NULL;
		err = rl_error_set(e, RL_ENOTFOUND, "no job %s", id);
	}
	return err;
}

/*
 * The rerun of a task whose worker died (or lost its lease): the job is
 * where the dead run left it.  Pending: it never ran; run it (*run = 1).
 * Completed or failed: its outcome was written; answer it again, nothing
 * is called or billed twice.  Running: the dead run was cut mid-call; the
 * job fails, with the tokens and cost of its ledger row: the call's own
 * when its settlement landed, else the hold settled now at its reserved
 * amount ('lost', money.md: the upstream may have billed what it
 * produced before the cut).  The upstream is never asked twice for one
 * job.
 */
static enum rl_err
rerun(struct rl_task *t, const char *id, long long hold, json_t **result,
    int *run, struct rl_error *e)
{
	char		 hid[32];
	const char	*p[3], *st;
	json_t		*job = NULL;
	long long	 charged;
	enum rl_err	 err;
	int		 cut = 0;

	*run = 0;
	p[0] = id;
	if ((err = rl_db_json("SELECT json_build_object('status', status, "
	    "'result', result, 'error', error) FROM openai_jobs WHERE "
	    "id = $1", 1, p, &job, e)) != RL_OK)
		goto out;
	if ((st = json_string_value(json_object_get(job, "status"))) ==
	    NULL) {
		err = rl_error_set(e, RL_ENOTFOUND, "job %s is gone", id);
		goto out;
	}
	if (strcmp(st, "pending") == 0) {
		*run = 1;
		goto out;
	}
	if (strcmp(st, "completed") == 0) {
		*result = json_incref(json_object_get(job, "result"));
		goto out;
	}
	if (strcmp(st, "failed") == 0) {
		err = rl_error_set(e, RL_EUPSTREAM, "%s",
		    json_string_value(json_object_get(job, "error")) != NULL ?
		    json_string_value(json_object_get(job, "error")) :
		    AIJOB_LOST_MSG);
		goto out;
	}
	/*
	 * Left open when the database is away: the sweep settles it the same
	 * way once the task has ended, and the job keeps no cost.
	 */
	cut = 1;
	if (hold != 0 && (err = rl_credits_settle_dead(hold, t->id, &charged,
	    e)) != RL_OK)
		rl_log_warn("task %s: hold %lld of the cut job: %s", t->id,
		    hold, e->msg);
	(void)snprintf(hid, sizeof(hid), "%lld", hold);
	p[1] = AIJOB_LOST_MSG;
	p[2] = hid;
	if ((err = rl_db_exec("UPDATE openai_jobs j SET status = 'failed', "
	    "error = $2, error_code = 'worker_lost', finished_at = now(), "
	    "prompt_tokens = l.input_tokens, completion_tokens = "
	    "l.output_tokens, total_tokens = l.input_tokens + "
	    "l.output_tokens, reasoning_tokens = l.reasoning_tokens, "
	    "cost = l.cost, openai_id = l.upstream_response_id "
	    "FROM (SELECT NULL) x LEFT JOIN usage_ledger l ON "
	    "l.reservation_id = $3::bigint "
	    "WHERE j.id = $1 AND j.status = 'running'", 3, p, NULL,
	    e)) != RL_OK)
		goto out;
	rl_log_warn("task %s attempt %d: job %s was cut with its worker; "
	    "failed", t->id, t->attempt, id);
	err = rl_error_set(e, RL_EUNAVAIL, "%s", AIJOB_LOST_MSG);
out:
	/*
	 * Not run again: the hold is the dead run's, closed by now (settled
	 * above, or by its outcome); one still open paid for no call (the
	 * job had ended before any) and goes back.
	 */
	if (!*run && !cut && hold != 0)
		rl_credits_release_sure(hold);
	json_decref(job);
	return err;
}

enum rl_err
rl_aijob_task(struct rl_task *t, json_t **result, struct rl_error *e)
{
	const char	*id;
	json_int_t	 hold;
	enum rl_err	 err;
	int		 run = 1;

	id = json_string_value(json_object_get(t->payload, "job_id"));
	hold = json_integer_value(json_object_get(t->payload, "hold_id"));
	if (id == NULL)
		return rl_error_set(e, RL_EINVAL, "task %s: no job_id", t->id);
	if (t->attempt > 1 && ((err = rerun(t, id, (long long)hold, result,
	    &run, e)) != RL_OK || !run))
		return err;
	err = rl_aijob_run(id, (long long)hold, NULL, t->id, result, e);
	/* Not claimed (ended by the sweep meanwhile): the hold is ours. */
	if (err == RL_ECONFLICT && *result == NULL && hold != 0)
		rl_credits_release_sure((long long)hold);
	return err;
}

enum rl_err
rl_aijob_sweep(long long *ended, struct rl_error *e)
{
	struct rl_dbres	*r = NULL;
	char		 grace[24], age[24];
	const char	*p[3];
	enum rl_err	 err;

	*ended = 0;
	(void)snprintf(grace, sizeof(grace), "%d", RL_CREDITS_TASK_GRACE_SEC);
	(void)snprintf(age, sizeof(age), "%d", RL_CREDITS_HOLD_MAX_SEC);
	p[0] = AIJOB_LOST_MSG;
	p[1] = grace;
	p[2] = age;
	/*
	 * Jobs left pending or running by a run that is gone: an async job
	 * whose task ended (or was purged) a grace ago without writing the
	 * job's outcome (a queued outcome of a live process lands within
	 * it), a synchronous one older than any call can last.
	 */
	err = rl_db_exec("UPDATE openai_jobs j SET status = 'failed', "
	    "error = $1, error_code = 'worker_lost', finished_at = now() "
	    "WHERE j.status IN ('pending', 'running') AND "
	    "((j.is_async AND (j.task_id IS NULL OR EXISTS (SELECT 1 FROM "
	    "tasks t WHERE t.id = j.task_id AND t.state IN ('SUCCESS', "
	    "'FAILURE', 'REVOKED') AND t.finished_at < now() - "
	    "make_interval(secs => $2::integer)))) OR "
	    "(NOT j.is_async AND j.created_at < now() - "
	    "make_interval(secs => $3::integer)))", 3, p, &r, e);
	if (err == RL_OK)
		*ended = rl_dbres_affected(r);
	rl_dbres_free(r);
	return err;
}
