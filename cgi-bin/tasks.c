/*
 * tasks: EDxo's task-progress contract (§2) over the tasks table.
 *
 *	GET  /tasks/status/<id>		{task_id, state, message, meta, result}
 *	GET  /tasks/events/<id>		SSE: open, progress, ping, done, error
 *	POST /tasks/cancel/<id>		cooperative cancel, 202
 *
 * A user sees only their own tasks (admins all); anyone else's task, a
 * task that does not exist and an id that is not a uuid are the same 404.
 * docs/tasks.md says why the event stream polls and what its ids mean.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "credits.h"
#include "db.h"
#include "fcgi.h"
#include "log.h"
#include "req.h"
#include "resp.h"
#include "sse.h"
#include "worker.h"

/*
 * The event stream reads the row every POLL_MS, as EDxo's ASGI version
 * does: one indexed statement that returns meta and result only when seq
 * moved, on a pooled connection borrowed for that statement (LISTEN would
 * pin a connection per open stream).
 */
#define POLL_MS			100
/*
 * A ping frame when nothing changed for PING_MS.  EDxo pings after every
 * poll; once a second tells the client (and every proxy) the stream is
 * alive without ten empty frames a second.
 */
#define PING_MS			1000
/*
 * A stream ends after STREAM_MAX_SEC even if the task has not; the client
 * reconnects with Last-Event-ID and loses nothing, and a forgotten tab
 * does not hold a thread for ever.
 */
#define STREAM_MAX_SEC		3600

#define MSG_CANCEL		"Annulation demandée."
#define MSG_GONE		"Tâche introuvable."

/* Who may see a task: its owner, or an admin.  $1 id, $2 user, $3 admin. */
#define VISIBLE	"id = $1::uuid AND (user_id = $2::bigint OR $3::boolean)"

/*
 * What a client has: the row version and how much of the current call's
 * stream_buffer and reasoning_summary it received (bytes).  An event's id
 * is "seq.call.buf.reason", so Last-Event-ID says exactly what to resend.
 */
struct cursor {
	long long	 seq;
	long long	 call;		/* meta.stream_call it belongs to */
	size_t		 buf;
	size_t		 reason;
};

/* $1..$3 of VISIBLE for this request; uid is the caller's buffer. */
static const char *
task_id(struct rl_req *req, const char **p, char *uid, size_t uidsz,
    struct rl_error *e)
{
	const char	*id = rl_req_param(req, "id");

	if (!rl_uuid_valid(id)) {
		(void)rl_error_set(e, RL_ENOTFOUND, MSG_GONE);
		return NULL;
	}
	(void)snprintf(uid, uidsz, "%lld", req->user->id);
	p[0] = id;
	p[1] = uid;
	p[2] = req->user->role == RL_ROLE_ADMIN ? "true" : "false";
	return id;
}

/*
 * EDxo's state mapping (§2.1) of a row: *state and *message for the
 * client.  A SUCCESS whose result says {status: "error"} is a FAILURE
 * with its message; our worker's FAILURE result is {error, code}; a
 * PENDING task with the cancel flag is REVOKED.
 */
static void
map_state(const char *state, const json_t *meta, const json_t *result,
    int cancel, const char **mstate, const char **message)
{
	const char	*s;

	*mstate = state;
	*message = json_string_value(json_object_get(meta, "message"));
	if (strcmp(state, "SUCCESS") == 0 && json_is_object(result) &&
	    (s = json_string_value(json_object_get(result, "status"))) !=
	    NULL && strcmp(s, "error") == 0) {
		*mstate = "FAILURE";
		*message = json_string_value(json_object_get(result,
		    "message"));
	} else if (strcmp(state, "FAILURE") == 0 &&
	    (s = json_string_value(json_object_get(result, "error"))) != NULL)
		*message = s;
	else if (strcmp(state, "PENDING") == 0 && cancel)
		*mstate = "REVOKED";
	if (*message == NULL)
		*message = "";
}

/* The result shown with a state: SUCCESS's (meta when empty), else null. */
static json_t *
shown_result(const char *state, json_t *meta, json_t *result)
{

	if (strcmp(state, "SUCCESS") != 0)
		return json_null();
	if (result == NULL || json_is_null(result) ||
	    (json_is_object(result) && json_object_size(result) == 0))
		return json_incref(meta);
	return json_incref(result);
}

static int
terminal(const char *state)
{

	return strcmp(state, "SUCCESS") == 0 ||
	    strcmp(state, "FAILURE") == 0 || strcmp(state, "REVOKED") == 0;
}

static enum rl_err
status(struct rl_req *req, struct rl_error *e)
{
	const char	*p[3], *id, *mstate, *message;
	char		 uid[24];
	json_t		*row = NULL, *meta, *result, *ans;
	enum rl_err	 err;

	if ((id = task_id(req, p, uid, sizeof(uid), e)) == NULL)
		return RL_ENOTFOUND;
	if ((err = rl_db_json("SELECT json_build_object('state', state, "
	    "'meta', meta, 'result', result, 'cancel', cancel_requested) "
	    "FROM tasks WHERE " VISIBLE, 3, p, &row, e)) != RL_OK)
		goto out;
	if (!json_is_object(row)) {
		err = rl_error_set(e, RL_ENOTFOUND, MSG_GONE);
		goto out;
	}
	meta = json_object_get(row, "meta");
	result = json_object_get(row, "result");
	map_state(json_string_value(json_object_get(row, "state")), meta,
	    result, json_is_true(json_object_get(row, "cancel")), &mstate,
	    &message);
	ans = json_pack("{s:s, s:s, s:s, s:O, s:o}", "task_id", id, "state",
	    mstate, "message", message, "meta", meta, "result",
	    shown_result(json_string_value(json_object_get(row, "state")),
	    meta, result));
	if (ans == NULL) {
		err = rl_error_set(e, RL_ENOMEM, "out of memory");
		goto out;
	}
	err = rl_resp_json_new(req, 200, ans);
out:
	json_decref(row);
	return err;
}

static enum rl_err
cancel(struct rl_req *req, struct rl_error *e)
{
	const char	*id, *was, *now;
	json_t		*ans;
	struct rl_error	 he;
	enum rl_err	 err;
	int		 n;

	id = rl_req_param(req, "id");
	if (!rl_uuid_valid(id))
		return rl_error_set(e, RL_ENOTFOUND, MSG_GONE);
	/* The queue's state machine is worker.c's; money is credits.c's. */
	if ((err = rl_task_cancel(id, req->user->id, req->user->role ==
	    RL_ROLE_ADMIN, &was, &now, e)) != RL_OK) {
		if (err == RL_ENOTFOUND)
			(void)rl_error_set(e, err, MSG_GONE);
		return err;
	}
	/*
	 * A task revoked before it ran gives back the credits held for it
	 * (an async chat job reserves when it is queued; its worker would
	 * have settled the hold).  Left alone, the hold would block that
	 * money until the sweep.  Failures are logged: the sweep still
	 * catches them.
	 */
	rl_error_clear(&he);
	if (strcmp(was, "PENDING") == 0 &&
	    rl_credits_release_task(id, &n, &he) != RL_OK)
		rl_log_warn("task %s: its holds: %s", id, he.msg);
	ans = json_pack("{s:b, s:s, s:s, s:s}", "ok", 1, "task_id", id,
	    "state", now, "message", MSG_CANCEL);
	if (ans == NULL)
		return rl_error_set(e, RL_ENOMEM, "out of memory");
	return rl_resp_json_new(req, 202, ans);
}

/* Last-Event-ID "seq.call.buf.reason"; anything else starts afresh. */
static void
parse_cursor(const char *s, struct cursor *c)
{
	long long	 v[4];
	char		*end;
	int		 i;

	c->seq = -1;
	c->call = 0;
	c->buf = c->reason = 0;
	if (s == NULL)
		return;
	for (i = 0; i < 4; i++) {
		if (!isdigit((unsigned char)*s))
			return;
		v[i] = strtoll(s, &end, 10);
		if (v[i] < 0 || (i < 3 && *end != '.') || (i == 3 &&
		    *end != '\0'))
			return;
		s = end + 1;
	}
	c->seq = v[0];
	c->call = v[1];
	c->buf = (size_t)v[2];
	c->reason = (size_t)v[3];
}

static void
cursor_id(const struct cursor *c, char *buf, size_t sz)
{

	(void)snprintf(buf, sz, "%lld.%lld.%zu.%zu", c->seq < 0 ? 0 : c->seq,
	    c->call, c->buf, c->reason);
}

/*
 * One growing text of meta (stream_buffer or reasoning_summary) turned
 * into what the client lacks: chunk key with the new bytes when it only
 * grew in the same call, else the whole text under its own key (the
 * client replaces).  *have is updated.  The text grows by whole deltas,
 * so a length the client acknowledged is a UTF-8 boundary; the check
 * below keeps a wrong Last-Event-ID from splitting a character anyway.
 */
static void
delta(json_t *meta, const char *key, const char *chunkkey, size_t *have,
    int reset)
{
	const char	*s;
	size_t		 len;

	if ((s = json_string_value(json_object_get(meta, key))) == NULL)
		return;
	len = json_string_length(json_object_get(meta, key));
	if (!reset && *have <= len && (*have == len ||
	    ((unsigned char)s[*have] & 0xc0) != 0x80)) {
		if (len > *have)
			(void)json_object_set_new(meta, chunkkey,
			    json_stringn(s + *have, len - *have));
		(void)json_object_del(meta, key);
	}
	*have = len;
}

/* A frame's data {state, meta} from a row; the cursor moves. */
static json_t *
progress_frame(json_t *row, struct cursor *c, const char **mstate,
    const char **message)
{
	json_t		*meta;
	long long	 call;
	int		 reset;

	meta = json_deep_copy(json_object_get(row, "meta"));
	if (!json_is_object(meta)) {
		json_decref(meta);
		meta = json_object();
	}
	map_state(json_string_value(json_object_get(row, "state")), meta,
	    json_object_get(row, "result"), json_is_true(json_object_get(row,
	    "cancel")), mstate, message);
	call = json_integer_value(json_object_get(meta, "stream_call"));
	/* A new call replaces what the client has, if it has anything. */
	reset = call != c->call && (c->buf > 0 || c->reason > 0);
	c->call = call;
	delta(meta, "stream_buffer", "stream_chunk", &c->buf, reset);
	delta(meta, "reasoning_summary", "reasoning_chunk", &c->reason,
	    reset);
	c->seq = json_integer_value(json_object_get(row, "seq"));
	return json_pack("{s:s, s:o}", "state", *mstate, "meta", meta);
}

/* done: {state (mapped), meta (whole), result (the task's or null)}. */
static json_t *
done_frame(json_t *row)
{
	const char	*mstate, *message;
	json_t		*meta, *result;

	meta = json_object_get(row, "meta");
	result = json_object_get(row, "result");
	map_state(json_string_value(json_object_get(row, "state")), meta,
	    result, json_is_true(json_object_get(row, "cancel")), &mstate,
	    &message);
	return json_pack("{s:s, s:O?, s:O}", "state", mstate, "meta", meta,
	    "result", result != NULL ? result : json_null());
}

static enum rl_err
frame(struct rl_sse *s, const char *event, const struct cursor *c,
    json_t *data)
{
	char		 id[96];
	enum rl_err	 err;

	if (data == NULL)
		return RL_ENOMEM;
	cursor_id(c, id, sizeof(id));
	err = rl_sse_send_json(s, event, id, data);
	json_decref(data);
	return err;
}

static void
sleep_ms(long ms)
{
	struct timespec	 ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	(void)nanosleep(&ts, NULL);
}

/*
 * One poll: the row, with meta and result only when seq moved past the
 * client's or the task is finished (done carries them).  *row is NULL
 * when the task is gone.
 */
static enum rl_err
poll_row(const char **p, const struct cursor *c, json_t **row,
    struct rl_error *e)
{
	const char	*q[4];
	char		 seq[24];
	enum rl_err	 err;

	(void)snprintf(seq, sizeof(seq), "%lld", c->seq);
	q[0] = p[0];
	q[1] = p[1];
	q[2] = p[2];
	q[3] = seq;
	err = rl_db_json("SELECT json_build_object('seq', seq, 'state', "
	    "state, 'cancel', cancel_requested, 'changed', seq > $4::bigint, "
	    "'meta', CASE WHEN seq > $4::bigint OR state IN ('SUCCESS', "
	    "'FAILURE', 'REVOKED') THEN meta END, "
	    "'result', CASE WHEN seq > $4::bigint OR state IN ('SUCCESS', "
	    "'FAILURE', 'REVOKED') THEN result END) "
	    "FROM tasks WHERE " VISIBLE, 4, q, row, e);
	if (err == RL_OK && !json_is_object(*row)) {
		json_decref(*row);
		*row = NULL;
	}
	return err;
}

static enum rl_err
events(struct rl_req *req, struct rl_error *e)
{
	struct rl_sse	*s;
	struct cursor	 c;
	const char	*p[3], *mstate, *message;
	char		 uid[24];
	json_t		*row = NULL;
	long long	 start = time(NULL), quiet = 0;
	enum rl_err	 err;

	if (task_id(req, p, uid, sizeof(uid), e) == NULL)
		return RL_ENOTFOUND;
	parse_cursor(rl_req_header(req, "Last-Event-ID"), &c);
	/* Unknown or not ours: a plain 404 before any stream. */
	if ((err = poll_row(p, &c, &row, e)) != RL_OK)
		return err;
	if (row == NULL)
		return rl_error_set(e, RL_ENOTFOUND, MSG_GONE);
	/* no-transform: no proxy may re-encode (and so buffer) frames. */
	if (rl_resp_header(req, "Cache-Control", "no-transform") != RL_OK ||
	    (s = rl_sse_open(req, e)) == NULL) {
		json_decref(row);
		return RL_OK;
	}
	err = frame(s, "open", &c, json_object());
	while (err == RL_OK) {
		if (row == NULL) {
			err = frame(s, "error", &c, json_pack("{s:s}", "error",
			    MSG_GONE));
			break;
		}
		if (json_is_true(json_object_get(row, "changed"))) {
			quiet = 0;
			err = frame(s, "progress", &c, progress_frame(row, &c,
			    &mstate, &message));
		}
		if (err == RL_OK && terminal(json_string_value(
		    json_object_get(row, "state")))) {
			err = frame(s, "done", &c, done_frame(row));
			break;
		}
		if (err == RL_OK && !json_is_true(json_object_get(row,
		    "changed")) && (quiet += POLL_MS) >= PING_MS) {
			quiet = 0;
			err = frame(s, "ping", &c, json_object());
		}
		if (err != RL_OK || rl_sse_gone(s) ||
		    time(NULL) - start >= STREAM_MAX_SEC)
			break;
		json_decref(row);
		row = NULL;
		sleep_ms(POLL_MS);
		if (poll_row(p, &c, &row, e) != RL_OK) {
			/* Database gone: say so; the client retries. */
			err = frame(s, "error", &c, json_pack("{s:s}", "error",
			    e->msg));
			break;
		}
	}
	json_decref(row);
	rl_sse_close(s);
	return RL_OK;
}

/*
 * The task id in the path is the whole input (EDxo's cancel posts no
 * body, and Last-Event-ID is a header), so no route names a request
 * schema.
 */
/*
 * GET /tasks/track/<id>: the page every task notification links to
 * (pages/task-track.html).  A shell: its script reads /tasks/status with
 * the browser's session, so the page itself needs none.
 */
static enum rl_err
track(struct rl_req *req, struct rl_error *e)
{

	return rl_resp_page(req, "task-track.html", e);
}

static const struct rl_route routes[] = {
	{ "GET", "/tasks/status/<uuid:id>", status, NULL, RL_ROUTE_AUTH, 0 },
	{ "GET", "/tasks/events/<uuid:id>", events, NULL,
	    RL_ROUTE_AUTH | RL_ROUTE_STREAM, 0 },
	{ "POST", "/tasks/cancel/<uuid:id>", cancel, NULL, RL_ROUTE_AUTH, 0 },
	{ "GET", "/tasks/track/<uuid:id>", track, NULL, 0, 0 },
};

static const struct rl_program program = {
	"tasks", routes, RL_NROUTES(routes), 0, 1, NULL
};

int
main(int argc, char *argv[])
{

	return rl_main(argc, argv, &program);
}
