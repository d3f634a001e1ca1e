/*
 * worker.c: the task runner.
 *
 * PostgreSQL is the queue.  N runner threads claim the oldest PENDING row
 * of a kind this program knows with FOR UPDATE SKIP LOCKED, so two runners
 * (or two worker processes) never take the same row, and run it.  Idle
 * runners sleep on a condition variable: one listener thread holds a
 * LISTEN relais_tasks connection and wakes one runner per notification
 * (the insert and requeue triggers send them at commit); a runner also
 * looks every POLL_SEC, so a notification lost while the listener
 * reconnects costs seconds, not a stuck task.
 *
 * A claimed task carries a lease (lease_until) and this process's id
 * (worker).  The keeper thread renews the leases of the tasks running here
 * every third of the lease, and runs the reaper: a STARTED or PROGRESS
 * task whose lease lapsed belongs to a worker that died; it goes back to
 * PENDING while it has attempts left, else it fails with worker_lost.
 * Every write a runner makes to its task (progress, outcome) is
 * conditioned on still holding it, so a task taken over after a lapsed
 * lease is never finished twice.
 *
 * A cancel must not wait for the model, which may think for a minute
 * before its first byte.  rl_task_cancel() sends pg_notify on
 * CANCEL_CHANNEL with the task's id in the statement that sets
 * cancel_requested; the listener raises the stop of the runner holding
 * that task, which ends its upstream transfer at once (openai.h).  Every
 * runner makes its task's calls under that stop (rl_oa_thread_stop), so
 * no task function has to pass it along.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bounds.h"
#include "cache.h"
#include "conf.h"
#include "credits.h"
#include "crypto.h"
#include "db.h"
#include "extern.h"
#include "log.h"
#include "openai.h"
#include "schema.h"
#include "start.h"
#include "worker.h"

/*
 * Seconds an idle runner sleeps before looking at the queue anyway: the
 * safety net under LISTEN/NOTIFY, which cannot deliver while the listener
 * is reconnecting.
 */
#define POLL_SEC		5
/* How long the listener waits for a notification between stop checks. */
#define LISTEN_WAIT_MS		1000
/* Pause before the listener tries LISTEN again after losing it. */
#define RELISTEN_MS		1000
/* rl_task_cancelled() reads the flag at most this often per task. */
#define CANCEL_CHECK_MS		250
/* Where rl_task_cancel() tells the workers; the payload is the id. */
#define CANCEL_CHANNEL		"relais_task_cancel"
/*
 * A silent transfer also reads the flag this often: the net under a
 * cancel notification lost while the listener reconnects.
 */
#define CANCEL_NET_MS		1000
/*
 * Seconds running tasks get to finish after SIGTERM.  A task that needs
 * longer is cut off; its lease is given up so another worker's reaper
 * deals with it at once.
 */
#define SHUTDOWN_GRACE_SEC	30
/* Longest lease RELAIS_TASK_LEASE_SEC accepts: a day. */
#define TASK_LEASE_MAX_SEC	86400
/*
 * Writing an outcome while the database is away is retried, keeping the
 * task (the keeper renews its lease once the database is back), from
 * FINISH_RETRY_MIN_MS doubling to FINISH_RETRY_MAX_MS, until it lands or
 * the process quits: an outcome is never given up while this worker can
 * still write it, or the rerun would find a job half done.
 */
#define FINISH_RETRY_MIN_MS	250
#define FINISH_RETRY_MAX_MS	4000
/*
 * A runner's stack.  Task functions run libcurl, libpq, jansson and the
 * schema validator, and a worker has few threads, so the stack is
 * generous (FastCGI threads are many and small).
 */
#define RUNNER_STACK		(2 * 1024 * 1024)
/* This process's id in tasks.worker: name@host:pid:random. */
#define WORKER_ID_MAX		256
#define HOSTNAME_MAX		64

/* What the reaper stores for a task whose last attempt died with it. */
#define WORKER_LOST_MSG		"Le traitement a été interrompu."
/* A cancelled task's result.message (EDxo's client prints it). */
#define CANCELLED_MSG		"Tâche annulée."
#define CANCELLED_BEFORE_MSG	"Tâche annulée avant démarrage."

static const struct rl_worker	*wk;
static char		 me[WORKER_ID_MAX];
static char		*kindlist;	/* text[] literal of kind names */
static char		 leasestr[16];	/* lease seconds, as text */
static int		 lease_sec = RL_TASK_LEASE_SEC;
static int		 nrunners;
static int		 once;		/* -1: stop when the queue is empty */

static atomic_int	 stopping;	/* runners claim no more */
static atomic_int	 quitting;	/* keeper and listener end */
static atomic_int	 running;	/* runners still in their loop */
static atomic_int	 dbdown;	/* last claim failed (for logs) */
static atomic_int	 failed;	/* a -1 run met an error */
static void		(*sweeper)(void);	/* rl_worker_set_sweep */
static void		(*poller)(void);	/* rl_worker_set_poll */
static long		 poll_ms;

/*
 * Wake-ups.  The listener adds one hint per notification (at most one per
 * runner) and signals; an idle runner takes a hint or times out.  A runner
 * that finishes a task claims again at once, so hints are only needed for
 * runners that found the queue empty.
 */
static pthread_mutex_t	 wake_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 wake_cv;	/* runners */
static pthread_cond_t	 tick_cv;	/* keeper */
static int		 hints;

/*
 * The tasks running here, one slot per runner: the keeper renews exactly
 * these leases, so a task whose outcome could not be written is not kept
 * alive forever.
 */
static pthread_mutex_t	 held_mu = PTHREAD_MUTEX_INITIALIZER;
static char		(*held)[37];
/* Each runner's stop, raised by the listener when its task is cancelled. */
static struct rl_oa_stop **stops;

/* Sleep ms unless the process is quitting first. */
static void
pause_ms(long ms)
{
	struct timespec	 until;

	rl_deadline(ms, &until);
	pthread_mutex_lock(&wake_mu);
	while (!atomic_load(&quitting) &&
	    pthread_cond_timedwait(&tick_cv, &wake_mu, &until) == 0)
		continue;
	pthread_mutex_unlock(&wake_mu);
}

/* Listener: n tasks may be waiting. */
static void
wake(int n)
{

	pthread_mutex_lock(&wake_mu);
	hints += n;
	if (hints > nrunners)
		hints = nrunners;
	if (n >= nrunners)
		pthread_cond_broadcast(&wake_cv);
	else
		while (n-- > 0)
			pthread_cond_signal(&wake_cv);
	pthread_mutex_unlock(&wake_mu);
}

/* Runner: wait for a hint, a stop or POLL_SEC. */
static void
idle(void)
{
	struct timespec	 until;
	int		 rc = 0;

	rl_deadline(POLL_SEC * 1000L, &until);
	pthread_mutex_lock(&wake_mu);
	while (hints == 0 && !atomic_load(&stopping) && rc == 0)
		rc = pthread_cond_timedwait(&wake_cv, &wake_mu, &until);
	if (hints > 0)
		hints--;
	pthread_mutex_unlock(&wake_mu);
}

static void
hold(int slot, const char *id)
{

	pthread_mutex_lock(&held_mu);
	(void)snprintf(held[slot], sizeof(held[slot]), "%s", id);
	pthread_mutex_unlock(&held_mu);
}

/* The held ids as a uuid[] literal, "{a,b}"; NULL when none or no memory. */
static char *
held_list(void)
{
	char	*s;
	size_t	 off = 0;
	int	 i, n = 0;

	if ((s = malloc((size_t)nrunners * 37 + 3)) == NULL)
		return NULL;
	s[off++] = '{';
	pthread_mutex_lock(&held_mu);
	for (i = 0; i < nrunners; i++) {
		if (held[i][0] == '\0')
			continue;
		if (n++ > 0)
			s[off++] = ',';
		memcpy(s + off, held[i], strlen(held[i]));
		off += strlen(held[i]);
	}
	pthread_mutex_unlock(&held_mu);
	s[off++] = '}';
	s[off] = '\0';
	if (n == 0) {
		free(s);
		return NULL;
	}
	return s;
}

static const struct rl_task_kind *
find_kind(const char *name)
{
	size_t	 i;

	for (i = 0; i < wk->nkinds; i++)
		if (strcmp(wk->kinds[i].name, name) == 0)
			return &wk->kinds[i];
	return NULL;
}

/*
 * Claim the oldest queued task of a known kind.  1: *t is filled (its
 * payload a new reference the caller drops); 0: nothing queued; -1: the
 * database failed (logged once per outage).
 */
static int
claim(int slot, struct rl_task *t)
{
	static const char	 sql[] =
	    "UPDATE tasks SET state = 'STARTED', attempts = attempts + 1, "
	    "lease_until = now() + $2::integer * interval '1 second', "
	    "worker = $3 "
	    "WHERE id = (SELECT id FROM tasks WHERE state = 'PENDING' "
	    "AND name = ANY($1::text[]) ORDER BY created_at "
	    "FOR UPDATE SKIP LOCKED LIMIT 1) "
	    "RETURNING id, name, user_id, payload, attempts, "
	    "cancel_requested";
	const char		*p[3];
	const struct rl_task_kind *k;
	struct rl_dbres		*r = NULL;
	struct rl_error		 e;
	json_error_t		 je;
	int			 rc = 0;

	memset(t, 0, sizeof(*t));
	rl_error_clear(&e);
	p[0] = kindlist;
	p[1] = leasestr;
	p[2] = me;
	if (rl_db_exec(sql, 3, p, &r, &e) != RL_OK) {
		if (atomic_exchange(&dbdown, 1) == 0)
			rl_log_warn("%s: cannot claim tasks: %s", wk->name,
			    e.msg);
		rc = -1;
		goto out;
	}
	if (atomic_exchange(&dbdown, 0) == 1)
		rl_log_info("%s: claiming tasks again", wk->name);
	if (rl_dbres_rows(r) == 0)
		goto out;
	(void)snprintf(t->id, sizeof(t->id), "%s", rl_dbres_get(r, 0, 0));
	/*
	 * Reset before the id is held: from then on the listener may
	 * raise it for this task, and that must stick.
	 */
	rl_oa_stop_reset(stops[slot]);
	t->stop = stops[slot];
	hold(slot, t->id);
	/* The claim only takes names of this table. */
	k = find_kind(rl_dbres_get(r, 0, 1));
	t->name = k != NULL ? k->name : wk->kinds[0].name;
	t->user_id = strtoll(rl_dbres_get(r, 0, 2), NULL, 10);
	t->payload = json_loads(rl_dbres_get(r, 0, 3), JSON_DECODE_ANY, &je);
	t->attempt = (int)strtol(rl_dbres_get(r, 0, 4), NULL, 10);
	t->cancelled = strcmp(rl_dbres_get(r, 0, 5), "t") == 0;
	t->cancel_checked_us = rl_now_us();
	rc = 1;
out:
	rl_dbres_free(r);
	return rc;
}

/*
 * Record the outcome, only while this worker holds the task.  A cancelled
 * task ends REVOKED whatever it returned.  Returns the state written, or
 * NULL when the task was no longer ours or could not be written.
 */
static const char *
finish(const struct rl_task *t, const char *state, const char *result,
    struct rl_error *e)
{
	static const char	 sql[] =
	    "UPDATE tasks SET state = CASE WHEN cancel_requested "
	    "THEN 'REVOKED' ELSE $3 END, result = CASE WHEN "
	    "cancel_requested THEN coalesce($4::jsonb, '{}') || "
	    "jsonb_build_object('status', 'cancelled', 'code', "
	    "'cancelled', 'message', $5::text) ELSE $4::jsonb END, "
	    "lease_until = NULL "
	    "WHERE id = $1::uuid AND worker = $2 "
	    "AND state IN ('STARTED', 'PROGRESS') RETURNING state";
	const char		*p[5];
	struct rl_dbres		*r = NULL;
	const char		*done = NULL;
	enum rl_err		 err;
	long			 wait = FINISH_RETRY_MIN_MS;
	int			 try;

	p[0] = t->id;
	p[1] = me;
	p[2] = state;
	p[3] = result;
	p[4] = CANCELLED_MSG;
	for (try = 1; ; try++) {
		rl_error_clear(e);
		err = rl_db_exec(sql, 5, p, &r, e);
		if (err == RL_OK || !rl_credits_retryable(err, e) ||
		    atomic_load(&quitting))
			break;
		if (try == 1 || try % 10 == 0)
			rl_log_warn("task %s: outcome not written (%s), "
			    "retrying (try %d)", t->id, e->msg, try);
		rl_db_request_end();
		pause_ms(wait);
		if ((wait *= 2) > FINISH_RETRY_MAX_MS)
			wait = FINISH_RETRY_MAX_MS;
	}
	if (err == RL_OK && try > 1)
		rl_log_info("task %s: outcome written at try %d", t->id, try);
	if (err != RL_OK)
		goto out;
	if (rl_dbres_rows(r) == 0) {
		rl_error_set(e, RL_ECONFLICT, "no longer held by this worker "
		    "(lease lapsed); outcome dropped");
		goto out;
	}
	/* One of our constant strings, not the result's memory. */
	if (strcmp(rl_dbres_get(r, 0, 0), "REVOKED") == 0)
		done = "REVOKED";
	else
		done = state;
out:
	rl_dbres_free(r);
	return done;
}

/*
 * A failed task's result as JSON text, malloc'd (NULL: no memory):
 * {status: "error", message, error, code}.  EDxo's task client shows
 * result.message, so it is French: the error's user text, with the
 * detail when the error is the user's or the model's (a refused field,
 * an upstream's answer), never for our own faults (a database message).
 */
static char *
error_result(enum rl_err err, const char *msg)
{
	json_t	*o;
	char	 fr[RL_ERRMSG_MAX * 2];
	char	*s;
	int	 fault;

	fault = err == RL_ENOMEM || err == RL_EDB || err == RL_EDBDOWN ||
	    err == RL_EIO || err == RL_EINTERNAL;
	if (fault || *msg == '\0')
		(void)snprintf(fr, sizeof(fr), "La tâche a échoué : %s",
		    rl_err_text_fr(err));
	else
		(void)snprintf(fr, sizeof(fr), "La tâche a échoué : %s (%s)",
		    rl_err_text_fr(err), msg);
	o = json_pack("{s:s, s:s, s:s, s:s}", "status", "error", "message",
	    fr, "error", *msg != '\0' ? msg : rl_strerror(err), "code",
	    rl_err_token(err));
	if (o == NULL)
		return NULL;
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

/*
 * Polled by the upstream transfers of a running task (openai.c), between
 * waits: the listener's stop is tested there directly, this is the net
 * under it.  The database is not asked while it is known to be away.
 */
static int
transfer_check(void *arg)
{
	struct rl_task	*t = arg;

	if (t->cancelled)
		return 1;
	if (atomic_load(&dbdown) ||
	    rl_now_us() - t->cancel_checked_us < CANCEL_NET_MS * 1000LL)
		return 0;
	return rl_task_cancelled(t);
}

/* Run a claimed task and record what came of it. */
static void
run(int slot, struct rl_task *t)
{
	const struct rl_task_kind	*k;
	json_t				*result = NULL;
	struct rl_error			 e, we;
	const char			*state, *done = NULL;
	char				*text = NULL;
	char				 why[2 * RL_ERRMSG_MAX];
	long long			 start = rl_now_us();
	enum rl_err			 err;

	rl_error_clear(&e);
	rl_error_clear(&we);
	/* Lines the task logs carry its id; its calls add up for its line. */
	rl_log_set_request(t->id);
	rl_log_set_user(t->user_id);
	if (t->cancelled)
		/* Cancelled while queued: it never runs. */
		err = RL_OK;
	else if ((k = find_kind(t->name)) == NULL || t->payload == NULL ||
	    !json_is_object(t->payload))
		err = rl_error_set(&e, RL_EINTERNAL, "no such kind or payload "
		    "is not an object");
	else {
		rl_oa_thread_stop(t->stop, transfer_check, t);
		err = k->run(t, &result, &e);
		rl_oa_thread_stop(NULL, NULL, NULL);
	}
	/* A transaction the task left open must not swallow its outcome. */
	rl_db_request_end();

	if (err != RL_OK) {
		if (e.code == RL_OK)
			(void)rl_error_set(&e, err, NULL);
		state = "FAILURE";
		text = error_result(err, e.msg);
	} else if (t->cancelled && result == NULL)
		state = "REVOKED";	/* result stays SQL NULL */
	else {
		state = "SUCCESS";
		text = result != NULL ? json_dumps(result, JSON_COMPACT |
		    JSON_ENCODE_ANY) : strdup("{}");
	}
	json_decref(result);
	if (text == NULL && strcmp(state, "REVOKED") != 0)
		(void)rl_error_set(&we, RL_ENOMEM, "out of memory for the "
		    "outcome; the reaper will settle it");
	else if ((done = finish(t, state, text, &we)) == NULL &&
	    we.code == RL_EDB) {
		/* The result itself was refused (jsonb has no \u0000). */
		free(text);
		state = "FAILURE";
		if ((text = error_result(RL_EDB, we.msg)) != NULL)
			done = finish(t, state, text, &we);
	}
	free(text);
	hold(slot, "");

	/* One line a task, like a request's: who, what it cost, the end. */
	if (done == NULL)
		(void)snprintf(why, sizeof(why), "outcome not written: %s",
		    we.msg);
	else if (err != RL_OK)
		(void)snprintf(why, sizeof(why), "%s: %s", rl_err_token(err),
		    e.msg);
	rl_log_task(t->id, t->name, t->attempt, done, rl_now_us() - start,
	    done == NULL || err != RL_OK ? why : NULL);
	rl_log_set_request(NULL);
	rl_db_request_end();
}

static void *
runner(void *arg)
{
	struct rl_task	 t;
	int		 slot = (int)(intptr_t)arg, rc;

	while (!atomic_load(&stopping)) {
		rc = claim(slot, &t);
		rl_db_request_end();
		if (rc == 1) {
			run(slot, &t);
			json_decref(t.payload);
			continue;
		}
		if (once) {
			if (rc == -1)
				atomic_store(&failed, 1);
			break;
		}
		idle();
	}
	atomic_fetch_sub(&running, 1);
	rl_oa_thread_end();
	return NULL;
}

/*
 * Set the leases of the tasks running here to now + sec: the lease length
 * to renew them, 0 to give them up at exit (so that the reaper of any
 * worker settles them now rather than a lease from now).
 */
static void
lease(const char *sec)
{
	static const char	 sql[] =
	    "UPDATE tasks SET lease_until = now() + "
	    "$3::integer * interval '1 second' "
	    "WHERE id = ANY($1::uuid[]) AND worker = $2 "
	    "AND state IN ('STARTED', 'PROGRESS')";
	const char		*p[3];
	struct rl_error		 e;
	char			*ids;

	if ((ids = held_list()) == NULL)
		return;
	p[0] = ids;
	p[1] = me;
	p[2] = sec;
	rl_error_clear(&e);
	if (rl_db_exec(sql, 3, p, NULL, &e) != RL_OK)
		rl_log_warn("%s: setting leases to %s s: %s", wk->name, sec,
		    e.msg);
	free(ids);
}

/*
 * The reaper: running tasks whose lease lapsed lost their worker.  One
 * statement; when two workers reap at once, the row lock makes the second
 * see the first one's PENDING and skip it.
 */
static void
reap(void)
{
	static const char	 sql[] =
	    "UPDATE tasks SET "
	    "state = CASE WHEN attempts < max_attempts "
	    "THEN 'PENDING' ELSE 'FAILURE' END, "
	    "result = CASE WHEN attempts < max_attempts THEN NULL "
	    "ELSE jsonb_build_object('status', 'error', 'message', $1::text, "
	    "'error', $1::text, 'code', 'worker_lost') END, "
	    "lease_until = NULL "
	    "WHERE state IN ('STARTED', 'PROGRESS') AND lease_until < now() "
	    "RETURNING id, name, state, attempts, max_attempts, worker";
	const char		*p[1];
	struct rl_dbres		*r = NULL;
	struct rl_error		 e;
	long long		 n;
	int			 i;

	p[0] = WORKER_LOST_MSG;
	rl_error_clear(&e);
	if (rl_db_exec(sql, 1, p, &r, &e) != RL_OK) {
		rl_log_debug("%s: reaper: %s", wk->name, e.msg);
		return;
	}
	for (i = 0; i < rl_dbres_rows(r); i++)
		rl_log_warn("task %s %s: worker %s lost it at attempt %s of "
		    "%s: %s", rl_dbres_get(r, i, 0), rl_dbres_get(r, i, 1),
		    rl_dbres_get(r, i, 5), rl_dbres_get(r, i, 3),
		    rl_dbres_get(r, i, 4), strcmp(rl_dbres_get(r, i, 2),
		    "PENDING") == 0 ? "queued again" : "failed");
	rl_dbres_free(r);
	/* Holds of processes that died mid-call go back to their users. */
	if (rl_credits_sweep(RL_CREDITS_HOLD_MAX_SEC, &n, &e) != RL_OK)
		rl_log_debug("%s: credits sweep: %s", wk->name, e.msg);
	else if (n > 0)
		rl_log_warn("%s: closed %lld stale credit holds (settled "
		    "as lost, or released if never run)", wk->name, n);
	if (sweeper != NULL)
		sweeper();
}

/* Lease renewal and reaper, every third of a lease. */
static void *
keeper(void *arg)
{

	(void)arg;
	for (;;) {
		pause_ms(lease_sec * 1000L / 3);
		if (atomic_load(&quitting))
			break;
		lease(leasestr);
		reap();
		rl_db_request_end();
	}
	return NULL;
}

/* The program's periodic poll (rl_worker_set_poll), until quitting. */
static void *
polling(void *arg)
{

	(void)arg;
	for (;;) {
		pause_ms(poll_ms);
		if (atomic_load(&quitting))
			break;
		poller();
		rl_db_request_end();
		rl_oa_thread_end();
	}
	return NULL;
}

/* A task running here was cancelled: stop its upstream call now. */
static void
cancel_running(const char *id)
{
	int	 i;

	pthread_mutex_lock(&held_mu);
	for (i = 0; i < nrunners; i++)
		if (strcmp(held[i], id) == 0)
			rl_oa_stop_raise(stops[i]);
	pthread_mutex_unlock(&held_mu);
}

/*
 * LISTEN relais_tasks and turn notifications into wake-ups; LISTEN
 * CANCEL_CHANNEL and stop the cancelled tasks running here.
 */
static void *
listener(void *arg)
{
	struct rl_error	 e;
	char		*chan, *payload;
	int		 listening = 0, n, warned = 0;

	(void)arg;
	while (!atomic_load(&quitting)) {
		rl_error_clear(&e);
		if (!listening) {
			if (rl_db_listen("relais_tasks", &e) != RL_OK ||
			    rl_db_listen(CANCEL_CHANNEL, &e) != RL_OK) {
				if (!warned++)
					rl_log_warn("%s: LISTEN relais_tasks: "
					    "%s", wk->name, e.msg);
				rl_db_disconnect();
				pause_ms(RELISTEN_MS);
				continue;
			}
			listening = 1;
			warned = 0;
			rl_log_info("%s: listening on relais_tasks", wk->name);
			/* Whatever was queued while we were deaf. */
			wake(nrunners);
		}
		if (rl_db_wait_notify(LISTEN_WAIT_MS, &chan, &payload, &e) !=
		    RL_OK) {
			rl_log_warn("%s: lost LISTEN: %s", wk->name, e.msg);
			rl_db_disconnect();
			listening = 0;
			continue;
		}
		/* Drain what arrived together: one wake-up per task. */
		for (n = 0; chan != NULL; ) {
			if (strcmp(chan, CANCEL_CHANNEL) == 0)
				cancel_running(payload);
			else
				n++;
			free(chan);
			free(payload);
			if (rl_db_wait_notify(0, &chan, &payload, &e) != RL_OK)
				break;
		}
		if (n > 0)
			wake(n);
	}
	rl_db_disconnect();
	return NULL;
}


/* The kind names as a text[] literal: {"a","b"}, quotes escaped. */
static int
build_kindlist(void)
{
	size_t	 i, len = 3, off = 0;
	char	*s;
	const char *c;

	for (i = 0; i < wk->nkinds; i++)
		len += 2 * strlen(wk->kinds[i].name) + 3;
	if ((kindlist = malloc(len)) == NULL)
		return -1;
	s = kindlist;
	s[off++] = '{';
	for (i = 0; i < wk->nkinds; i++) {
		if (i > 0)
			s[off++] = ',';
		s[off++] = '"';
		for (c = wk->kinds[i].name; *c != '\0'; c++) {
			if (*c == '"' || *c == '\\')
				s[off++] = '\\';
			s[off++] = *c;
		}
		s[off++] = '"';
	}
	s[off++] = '}';
	s[off] = '\0';
	return 0;
}

/* Reject a broken kinds table at start-up, not at the first task. */
static int
check_kinds(void)
{
	size_t	 i, j;

	if (wk->nkinds == 0) {
		rl_log_error("%s: no task kinds", wk->name);
		return -1;
	}
	for (i = 0; i < wk->nkinds; i++) {
		if (wk->kinds[i].name == NULL || *wk->kinds[i].name == '\0' ||
		    wk->kinds[i].run == NULL) {
			rl_log_error("%s: kind %zu has no name or function",
			    wk->name, i);
			return -1;
		}
		for (j = 0; j < i; j++)
			if (strcmp(wk->kinds[i].name, wk->kinds[j].name) == 0) {
				rl_log_error("%s: kind %s twice", wk->name,
				    wk->kinds[i].name);
				return -1;
			}
	}
	return 0;
}

/* An integer in [min, max]: 0, -1 when malformed or out of range. */
static int
parse_int(const char *s, long min, long max, int *out)
{
	char	*end;
	long	 n;

	errno = 0;
	n = strtol(s, &end, 10);
	if (s[0] == '\0' || errno != 0 || *end != '\0' || n < min || n > max)
		return -1;
	*out = (int)n;
	return 0;
}

static void
usage(void)
{

	fprintf(stderr, "usage: %s [-1h] [-n threads]\n", wk->name);
}

/* Everything before the threads; 0 or an exit status. */
static int
setup(void)
{
	struct rl_error	 e;
	char		 host[HOSTNAME_MAX], rnd[9];
	int		 i;

	rl_error_clear(&e);
	/* The listener and the keeper hold connections too. */
	if (rl_conf_load(nrunners + 2, &e) != RL_OK) {
		rl_log_error("%s", e.msg);
		return 1;
	}
	if (rl_conf->db_pool < 2) {
		rl_log_error("%s: RELAIS_DB_POOL must be at least 2 (the "
		    "listener keeps one connection)", wk->name);
		return 1;
	}
	if (rl_conf_int("RELAIS_TASK_LEASE_SEC", 1, TASK_LEASE_MAX_SEC,
	    &lease_sec, &e) != RL_OK) {
		rl_log_error("%s", e.msg);
		return 1;
	}
	/*
	 * Task functions validate model answers against the registry
	 * (rl_schema_get); it is compiled once, before any thread, as
	 * rl_main does for routes.
	 */
	if (rl_schema_registry_load(rl_conf->schema_dir, &e) != RL_OK) {
		rl_log_error("%s: %s", wk->name, e.msg);
		return 1;
	}
	(void)snprintf(leasestr, sizeof(leasestr), "%d", lease_sec);
	if (check_kinds() == -1)
		return 1;
	if (rl_start(wk->name, 1) == -1)
		return 1;
	if (gethostname(host, sizeof(host)) == -1)
		(void)snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	/* The random part: a restarted worker may get its old pid back. */
	rl_random_hex(rnd, 4);
	(void)snprintf(me, sizeof(me), "%s@%s:%d:%s", wk->name, host,
	    (int)getpid(), rnd);
	if (build_kindlist() == -1 ||
	    (held = calloc((size_t)nrunners, sizeof(*held))) == NULL ||
	    (stops = calloc((size_t)nrunners, sizeof(*stops))) == NULL) {
		rl_log_error("%s: out of memory", wk->name);
		return 1;
	}
	for (i = 0; i < nrunners; i++)
		if ((stops[i] = rl_oa_stop_new()) == NULL) {
			rl_log_error("%s: out of memory", wk->name);
			return 1;
		}
	return 0;
}

static void
free_stops(void)
{
	int	 i;

	for (i = 0; stops != NULL && i < nrunners; i++)
		rl_oa_stop_free(stops[i]);
	free(stops);
	stops = NULL;
}

/* Start n runners; the number started. */
static int
start_runners(pthread_t *tids, int n)
{
	pthread_attr_t	 attr;
	int		 i;

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, RUNNER_STACK);
	for (i = 0; i < n; i++) {
		atomic_fetch_add(&running, 1);
		if (pthread_create(&tids[i], &attr, runner,
		    (void *)(intptr_t)i) != 0) {
			atomic_fetch_sub(&running, 1);
			rl_log_error("%s: could only start %d threads",
			    wk->name, i);
			break;
		}
	}
	pthread_attr_destroy(&attr);
	return i;
}

/* Until a signal, or in -1 mode until every runner found nothing. */
static void
wait_for_end(const sigset_t *set)
{
	struct timespec	 ts = { 0, 250 * 1000000L };
	int		 sig;

	for (;;) {
		sig = sigtimedwait(set, NULL, &ts);
		if (sig > 0) {
			rl_log_info("%s: signal %d, stopping", wk->name, sig);
			return;
		}
		if (once && atomic_load(&running) == 0)
			return;
	}
}

int
rl_worker_main(int argc, char *argv[], const struct rl_worker *w)
{
	pthread_condattr_t	 ca;
	pthread_t		*tids = NULL, ltid, ktid;
	sigset_t		 set;
	struct rl_error		 e;
	int			 c, i, n = 0, nopt = 0, rc = 1, waited;
	int			 have_listener = 0, have_keeper = 0;
	int			 have_poller = 0;
	pthread_t		 ptid;

	wk = w;
	rl_error_clear(&e);
	while ((c = getopt(argc, argv, "1hn:")) != -1)
		switch (c) {
		case '1':
			once = 1;
			break;
		case 'n':
			if (parse_int(optarg, 1, RL_WORKER_THREADS_MAX,
			    &nopt) == -1) {
				fprintf(stderr, "%s: -n: want 1 to %d\n",
				    wk->name, RL_WORKER_THREADS_MAX);
				return 2;
			}
			break;
		case 'h':
			usage();
			return 0;
		default:
			usage();
			return 2;
		}
	if (optind != argc) {
		usage();
		return 2;
	}
	/* -n, then RELAIS_WORKER_THREADS, then the program's default. */
	nrunners = wk->threads > 0 ? wk->threads : RL_WORKER_THREADS_DEFAULT;
	if (nrunners > RL_WORKER_THREADS_MAX)
		nrunners = RL_WORKER_THREADS_MAX;
	if (rl_conf_int("RELAIS_WORKER_THREADS", 1, RL_WORKER_THREADS_MAX,
	    &nrunners, &e) != RL_OK) {
		rl_log_error("%s", e.msg);
		return 1;
	}
	if (nopt > 0)
		nrunners = nopt;

	(void)signal(SIGPIPE, SIG_IGN);
	if ((rc = setup()) != 0) {
		free_stops();
		free(held);
		free(kindlist);
		return rc;
	}
	rc = 1;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&wake_cv, &ca);
	pthread_cond_init(&tick_cv, &ca);
	pthread_condattr_destroy(&ca);

	/* Signals go to this thread only, through sigtimedwait. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	/* Tasks a dead worker left behind are settled before we claim. */
	reap();
	rl_db_request_end();

	if ((tids = calloc((size_t)nrunners, sizeof(*tids))) == NULL)
		goto out;
	if (pthread_create(&ktid, NULL, keeper, NULL) != 0) {
		rl_log_error("%s: cannot start the lease thread", wk->name);
		goto out;
	}
	have_keeper = 1;
	/* -1 never waits for a notification. */
	if (!once) {
		if (pthread_create(&ltid, NULL, listener, NULL) != 0) {
			rl_log_error("%s: cannot start the listener",
			    wk->name);
			goto out;
		}
		have_listener = 1;
		/* Models and settings the tasks read, kept (cache.c). */
		if (rl_cache_start(&e) != RL_OK)
			rl_log_warn("%s: %s", wk->name, e.msg);
	}
	if (!once && poller != NULL) {
		if (pthread_create(&ptid, NULL, polling, NULL) != 0)
			rl_log_error("%s: cannot start the poll thread",
			    wk->name);
		else
			have_poller = 1;
	}
	if ((n = start_runners(tids, nrunners)) == 0)
		goto out;
	rl_log_info("%s: %d threads, lease %d s, worker %s%s", wk->name, n,
	    lease_sec, me, once ? ", until the queue is empty" : "");

	wait_for_end(&set);
	rc = atomic_load(&failed) ? 1 : 0;

out:
	pthread_mutex_lock(&wake_mu);
	atomic_store(&stopping, 1);
	pthread_cond_broadcast(&wake_cv);
	pthread_mutex_unlock(&wake_mu);
	for (waited = 0; atomic_load(&running) > 0 &&
	    waited < SHUTDOWN_GRACE_SEC * 10; waited++)
		usleep(100000);
	/* The keeper renews leases until the runners are done. */
	pthread_mutex_lock(&wake_mu);
	atomic_store(&quitting, 1);
	pthread_cond_broadcast(&tick_cv);
	pthread_mutex_unlock(&wake_mu);
	if (have_keeper)
		pthread_join(ktid, NULL);
	if (have_poller)
		pthread_join(ptid, NULL);
	if (have_listener)
		pthread_join(ltid, NULL);
	if (atomic_load(&running) > 0) {
		rl_log_warn("%s: %d tasks still running at exit", wk->name,
		    atomic_load(&running));
		lease("0");
		/* Runners mid-task are not joined: exiting ends them. */
		return rc;
	}
	for (i = 0; i < n; i++)
		pthread_join(tids[i], NULL);
	free(tids);
	free_stops();
	free(held);
	free(kindlist);
	rl_db_disconnect();
	return rc;
}

/* Public: what task functions and programs call. */

void
rl_worker_set_sweep(void (*fn)(void))
{

	sweeper = fn;
}

void
rl_worker_set_poll(void (*fn)(void), long ms)
{

	poller = fn;
	poll_ms = ms;
}

enum rl_err
rl_task_progress(struct rl_task *t, const json_t *meta, struct rl_error *e)
{
	static const char	 sql[] =
	    "UPDATE tasks SET state = 'PROGRESS', meta = meta || $3::jsonb "
	    "WHERE id = $1::uuid AND worker = $2 "
	    "AND state IN ('STARTED', 'PROGRESS')";
	const char		*p[3];
	struct rl_dbres		*r = NULL;
	char			*s = NULL;
	enum rl_err		 err;

	if (!json_is_object(meta)) {
		err = rl_error_set(e, RL_EINVAL, "task meta must be an "
		    "object");
		goto out;
	}
	if ((s = json_dumps(meta, JSON_COMPACT)) == NULL) {
		err = rl_error_set(e, RL_ENOMEM, NULL);
		goto out;
	}
	p[0] = t->id;
	p[1] = me;
	p[2] = s;
	if ((err = rl_db_exec(sql, 3, p, &r, e)) != RL_OK)
		goto out;
	if (rl_dbres_affected(r) == 0)
		err = rl_error_set(e, RL_ECONFLICT, "task %s is no longer "
		    "held by this worker", t->id);
out:
	rl_dbres_free(r);
	free(s);
	return err;
}

/* The uuid an INSERT INTO tasks ... RETURNING id gave back, into id. */
static enum rl_err
inserted_id(const struct rl_dbres *r, char id[37], struct rl_error *e)
{

	if (rl_dbres_rows(r) != 1 || strlen(rl_dbres_get(r, 0, 0)) != 36)
		return rl_error_set(e, RL_EINTERNAL, "task insert returned "
		    "no id");
	memcpy(id, rl_dbres_get(r, 0, 0), 37);
	return RL_OK;
}

/*
 * Cancelled, or no longer ours (reaped, finished, deleted): either way the
 * task should stop.  The answer is sticky once yes; a database error
 * answers the last known value rather than stopping a task over a glitch.
 */
int
rl_task_cancelled(struct rl_task *t)
{
	static const char	 sql[] =
	    "SELECT cancel_requested OR worker IS DISTINCT FROM $2 "
	    "OR state NOT IN ('STARTED', 'PROGRESS') "
	    "FROM tasks WHERE id = $1::uuid";
	const char		*p[2];
	struct rl_dbres		*r = NULL;
	struct rl_error		 e;
	long long		 now = rl_now_us();

	/* The listener's word needs no query. */
	if (rl_oa_stop_raised(t->stop))
		t->cancelled = 1;
	if (t->cancelled)
		return 1;
	if (t->cancel_checked_us != 0 &&
	    now - t->cancel_checked_us < CANCEL_CHECK_MS * 1000LL)
		return 0;
	t->cancel_checked_us = now;
	p[0] = t->id;
	p[1] = me;
	rl_error_clear(&e);
	if (rl_db_exec(sql, 2, p, &r, &e) != RL_OK) {
		rl_log_debug("task %s: cancel check: %s", t->id, e.msg);
		return 0;
	}
	t->cancelled = rl_dbres_rows(r) == 0 ||
	    strcmp(rl_dbres_get(r, 0, 0), "t") == 0;
	rl_dbres_free(r);
	return t->cancelled;
}

enum rl_err
rl_task_enqueue(const char *name, long long user_id, const json_t *payload,
    char id[37], struct rl_error *e)
{
	static const char	 sql[] =
	    "INSERT INTO tasks (name, user_id, payload, max_attempts) "
	    "VALUES ($1, $2::bigint, $3::jsonb, $4::integer) RETURNING id";
	const char		*p[4];
	struct rl_dbres		*r = NULL;
	char			 uid[24], att[16], *s = NULL;
	enum rl_err		 err;

	id[0] = '\0';
	if (name == NULL || *name == '\0') {
		err = rl_error_set(e, RL_EINVAL, "task without a name");
		goto out;
	}
	if (payload != NULL && !json_is_object(payload)) {
		err = rl_error_set(e, RL_EINVAL, "task payload must be an "
		    "object");
		goto out;
	}
	s = payload != NULL ? json_dumps(payload, JSON_COMPACT) : strdup("{}");
	if (s == NULL) {
		err = rl_error_set(e, RL_ENOMEM, NULL);
		goto out;
	}
	(void)snprintf(uid, sizeof(uid), "%lld", user_id);
	p[0] = name;
	p[1] = uid;
	p[2] = s;
	(void)snprintf(att, sizeof(att), "%d", RL_TASK_ATTEMPTS);
	p[3] = att;
	if ((err = rl_db_exec(sql, 4, p, &r, e)) != RL_OK)
		goto out;
	if ((err = inserted_id(r, id, e)) != RL_OK)
		goto out;
out:
	rl_dbres_free(r);
	free(s);
	return err;
}

/*
 * A synchronous import kept as a finished task: it never goes through the
 * queue, but its row is the queue's, so this file writes it.  The id is
 * made first so the result can name it (task_id, validation_url).
 */
enum rl_err
rl_task_record_done(const char *name, long long user_id,
    const json_t *payload, const json_t *result, const char *url,
    char id[37], json_t **stored, struct rl_error *e)
{
	static const char	 sql[] =
	    "WITH n AS (SELECT gen_random_uuid() AS id) "
	    "INSERT INTO tasks (id, name, user_id, payload, state, result, "
	    "started_at, finished_at) SELECT n.id, $1, $2::bigint, $3::jsonb, "
	    "'SUCCESS', $4::jsonb || jsonb_build_object('task_id', n.id) || "
	    "CASE WHEN $5::text IS NULL THEN '{}'::jsonb ELSE "
	    "jsonb_build_object('validation_url', $5::text || n.id) END, "
	    "now(), now() FROM n RETURNING id, result";
	const char		*p[5];
	char			 uid[24], *pl = NULL, *rs = NULL;
	struct rl_dbres		*r = NULL;
	json_error_t		 je;
	enum rl_err		 err;

	id[0] = '\0';
	*stored = NULL;
	(void)snprintf(uid, sizeof(uid), "%lld", user_id);
	pl = json_dumps(payload, JSON_COMPACT);
	rs = json_dumps(result, JSON_COMPACT);
	if (pl == NULL || rs == NULL) {
		err = rl_error_set(e, RL_ENOMEM, "out of memory");
		goto out;
	}
	p[0] = name;
	p[1] = uid;
	p[2] = pl;
	p[3] = rs;
	p[4] = url;
	if ((err = rl_db_exec(sql, 5, p, &r, e)) != RL_OK)
		goto out;
	if ((err = inserted_id(r, id, e)) != RL_OK)
		goto out;
	if ((*stored = json_loads(rl_dbres_get(r, 0, 1), 0, &je)) == NULL)
		err = rl_error_set(e, RL_EDB, "stored result: %s", je.text);
out:
	rl_dbres_free(r);
	free(pl);
	free(rs);
	return err;
}

/*
 * Work done outside the queue (a Batch API line, lib/edxo/batch.c): a
 * task in PROGRESS with no lease and no worker, which no runner claims
 * and no reaper takes, until rl_task_end_outside() finishes it.  In the
 * caller's transaction when one is open.
 */
enum rl_err
rl_task_start_outside(const char *name, long long user_id,
    const json_t *payload, const char *message, char id[37],
    struct rl_error *e)
{
	static const char	 sql[] =
	    "INSERT INTO tasks (name, user_id, payload, state, started_at, "
	    "meta) VALUES ($1, $2::bigint, $3::jsonb, 'PROGRESS', now(), "
	    "jsonb_build_object('message', $4::text)) RETURNING id";
	const char		*p[4];
	char			 uid[24], *pl;
	struct rl_dbres		*r = NULL;
	enum rl_err		 err;

	id[0] = '\0';
	(void)snprintf(uid, sizeof(uid), "%lld", user_id);
	if ((pl = json_dumps(payload, JSON_COMPACT)) == NULL)
		return rl_error_set(e, RL_ENOMEM, "out of memory");
	p[0] = name;
	p[1] = uid;
	p[2] = pl;
	p[3] = message;
	if ((err = rl_db_exec(sql, 4, p, &r, e)) == RL_OK)
		err = inserted_id(r, id, e);
	rl_dbres_free(r);
	free(pl);
	return err;
}

enum rl_err
rl_task_end_outside(const char *id, const json_t *result, enum rl_err why,
    const char *msg, struct rl_error *e)
{
	static const char	 sql[] =
	    "UPDATE tasks SET state = CASE WHEN $2::jsonb IS NULL THEN "
	    "'FAILURE' ELSE 'SUCCESS' END, result = coalesce($2::jsonb, "
	    "$3::jsonb) WHERE id = $1::uuid AND state = 'PROGRESS' AND "
	    "worker IS NULL";
	const char		*p[3];
	char			*res = NULL, *fail = NULL;
	enum rl_err		 err;

	if (result != NULL)
		res = json_dumps(result, JSON_COMPACT);
	else
		fail = error_result(why, msg != NULL ? msg : "");
	if (res == NULL && fail == NULL)
		return rl_error_set(e, RL_ENOMEM, "out of memory");
	p[0] = id;
	p[1] = res;
	p[2] = fail;
	err = rl_db_exec(sql, 3, p, NULL, e);
	free(res);
	free(fail);
	return err;
}

/* The state names of the tasks table's CHECK, as static strings. */
static const char *
state_name(const char *s)
{
	static const char *const	 names[] = { "PENDING", "STARTED",
	    "PROGRESS", "SUCCESS", "FAILURE", "REVOKED" };
	size_t				 i;

	for (i = 0; s != NULL && i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i]) == 0)
			return names[i];
	return NULL;
}

enum rl_err
rl_task_cancel(const char *id, long long user_id, int admin,
    const char **was, const char **now, struct rl_error *e)
{
	const char	*p[4];
	char		 uid[24];
	json_t		*row = NULL;
	enum rl_err	 err;

	*was = *now = NULL;
	(void)snprintf(uid, sizeof(uid), "%lld", user_id);
	p[0] = id;
	p[1] = uid;
	p[2] = admin ? "true" : "false";
	p[3] = CANCELLED_BEFORE_MSG;
	/*
	 * One statement: the flag for a task still to finish (a queued one
	 * is REVOKED at once, it will never be claimed), and the state the
	 * client is told.  A finished task is left as it is.  A running one
	 * is named on CANCEL_CHANNEL (delivered at commit): the listener of
	 * the worker running it stops its upstream call at once, and the
	 * runner ends the task REVOKED.
	 */
	if ((err = rl_db_json("WITH t AS (SELECT id, state FROM tasks "
	    "WHERE id = $1::uuid AND (user_id = $2::bigint OR $3::boolean) "
	    "FOR UPDATE), u AS (UPDATE tasks SET "
	    "cancel_requested = true, state = CASE WHEN tasks.state = "
	    "'PENDING' THEN 'REVOKED' ELSE tasks.state END, "
	    "result = CASE WHEN tasks.state = 'PENDING' THEN "
	    "jsonb_build_object('status', 'cancelled', 'code', 'cancelled', "
	    "'message', $4::text) ELSE tasks.result END FROM t "
	    "WHERE tasks.id = t.id AND t.state IN ('PENDING', 'STARTED', "
	    "'PROGRESS') RETURNING tasks.state, CASE WHEN t.state <> "
	    "'PENDING' THEN pg_notify('" CANCEL_CHANNEL "', "
	    "tasks.id::text) END) "
	    "SELECT json_build_object('was', t.state, 'state', "
	    "coalesce((SELECT state FROM u), t.state)) FROM t", 4, p, &row,
	    e)) != RL_OK)
		goto out;
	if (!json_is_object(row)) {
		err = rl_error_set(e, RL_ENOTFOUND, "no task %s", id);
		goto out;
	}
	*was = state_name(json_string_value(json_object_get(row, "was")));
	*now = state_name(json_string_value(json_object_get(row, "state")));
	if (*was == NULL || *now == NULL) {
		*was = *now = NULL;
		err = rl_error_set(e, RL_EDB, "task %s: unknown state", id);
	}
out:
	json_decref(row);
	return err;
}
