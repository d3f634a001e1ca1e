/*
 * realtime: relais-realtime, the WebSocket of seed 004 (/realtime/ws).
 * FastCGI cannot upgrade a connection, so this is a daemon of its own on
 * libwebsockets (the only file that includes it), listening on a unix
 * socket that nginx proxies with the Upgrade headers.  See
 * docs/internals/realtime.md and relais-realtime(8).
 *
 * One thread runs the event loop: it reads frames, answers ping and
 * checks credentials (a cached database read), and never waits for an
 * upstream.  A message or an offer runs on a thread of its own (at most
 * RL_REALTIME_JOBS_MAX at once, one per connection), which queues the
 * events it produces on its connection and wakes the loop with
 * lws_cancel_service; the loop writes them when the socket can take
 * them.  A connection is shared by the loop and its running job, so it
 * is counted and freed by the last one to let it go; a client that
 * leaves raises its stop, which ends the upstream transfer at once.
 */
#include "config.h"

#include <sys/stat.h>

#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <libwebsockets.h>

#include "arena.h"
#include "auth.h"
#include "bounds.h"
#include "cache.h"
#include "conf.h"
#include "credits.h"
#include "crypto.h"
#include "db.h"
#include "log.h"
#include "models.h"
#include "openai.h"
#include "ratelimit.h"
#include "req.h"
#include "router.h"
#include "start.h"

#define PROG			"relais-realtime"
/* The WebSocket subprotocol; a client that names none gets it too. */
#define PROTOCOL		"relais-realtime"
/*
 * The model of a message that names none: the seed's clients default to
 * it.  RELAIS_REALTIME_MODEL changes it, as RELAIS_REALTIME_CALL_MODEL
 * the model of the realtime (WebRTC) sessions offers create.
 */
#define DEFAULT_MODEL		"gpt-4o"
#define DEFAULT_CALL_MODEL	"gpt-realtime"
/* Amounts printed as /completion's stream frames print them. */
#define DUMP_FLAGS		(JSON_COMPACT | JSON_REAL_PRECISION(15))
/* Seconds the running messages get to end once SIGTERM came. */
#define SHUTDOWN_GRACE_SEC	10
/* Seconds queued ledger writes get before the process exits. */
#define DRAIN_MS		5000
/* RFC 6455's "try again later" (1013), which lws 4.1 does not name. */
#define CLOSE_TRY_AGAIN		1013
/* Authorization header copied from the upgrade request. */
#define AUTH_HDR_MAX		2048

/* An event waiting for the socket. */
struct out {
	struct out	*next;
	size_t		 len;
	unsigned char	 buf[];		/* LWS_PRE, then the text */
};

struct conn {
	struct conn	*next, *prev;	/* every open connection */
	struct lws	*wsi;		/* NULL once closed */
	int		 refs;		/* the loop's, a running job's */
	long long	 uid;		/* 0: not authenticated yet */
	enum rl_role	 role;		/* uid's, for its request limit */
	int		 busy;		/* a message or offer is running */
	int		 close_code;	/* close once the queue is sent */
	const char	*close_why;
	struct out	*head, *tail;
	size_t		 queued;	/* bytes in the queue */
	char		*rx;		/* the message being joined */
	size_t		 rxlen;
	time_t		 win;		/* the second being counted */
	int		 nwin;		/* messages in it */
	struct rl_oa_stop *stop;	/* raised when the client leaves */
};

enum job_kind {
	JOB_MESSAGE,
	JOB_OFFER
};

struct job {
	struct conn	*c;
	enum job_kind	 kind;
	json_t		*payload;
	long long	 uid;
	char		 id[33];	/* request id, for the ledger */
	int		 deltas;
	/*
	 * The last event, sent once the connection is free again: a client
	 * that sends its next message on it must not hear "busy".
	 */
	const char	*last_type;
	json_t		*last;
};

/* Everything below is the loop's or under mu. */
static pthread_mutex_t	 mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 jobs_cv = PTHREAD_COND_INITIALIZER;
static struct conn	*conns;
static int		 nconns, njobs;
static struct lws_context *ctx;
static pthread_t	 loop_tid;
static volatile sig_atomic_t stopping;
static int		 idle_sec = RL_REALTIME_IDLE_SEC;
static int		 auth_sec = RL_REALTIME_AUTH_SEC;
static const char	*default_model = DEFAULT_MODEL;
static const char	*call_model = DEFAULT_CALL_MODEL;

static void
usage(void)
{

	fprintf(stderr, "usage: %s -s socket | -p port\n", PROG);
}

/* Called with mu held. */
static void
conn_unref(struct conn *c)
{
	struct out	*o;

	if (--c->refs > 0)
		return;
	while ((o = c->head) != NULL) {
		c->head = o->next;
		free(o);
	}
	rl_oa_stop_free(c->stop);
	free(c->rx);
	free(c);
}

/*
 * Queue an event ({type, payload}; payload is taken) for the client and
 * have the loop send it.  -1 when the client is gone or too far behind:
 * the caller stops what it was doing.
 */
static int
send_event(struct conn *c, const char *type, json_t *payload)
{
	json_t		*v;
	char		*s;
	size_t		 len;
	struct out	*o;
	int		 rc = -1;

	if (payload == NULL)
		payload = json_object();
	v = json_pack("{s:s, s:o}", "type", type, "payload", payload);
	if (v == NULL || (s = json_dumps(v, DUMP_FLAGS)) == NULL) {
		json_decref(v);
		return -1;
	}
	json_decref(v);
	len = strlen(s);
	if ((o = malloc(sizeof(*o) + LWS_PRE + len)) == NULL) {
		free(s);
		return -1;
	}
	o->next = NULL;
	o->len = len;
	memcpy(o->buf + LWS_PRE, s, len);
	free(s);
	pthread_mutex_lock(&mu);
	if (c->wsi == NULL || c->queued + len > RL_REALTIME_QUEUE_MAX) {
		free(o);
		goto out;
	}
	if (c->tail != NULL)
		c->tail->next = o;
	else
		c->head = o;
	c->tail = o;
	c->queued += len;
	/* The loop asks for the socket itself; a job wakes it for that. */
	if (pthread_equal(pthread_self(), loop_tid))
		lws_callback_on_writable(c->wsi);
	else
		lws_cancel_service(ctx);
	rc = 0;
out:
	pthread_mutex_unlock(&mu);
	return rc;
}

/* An error event: the stable code, the message, the HTTP status. */
static int
send_error(struct conn *c, enum rl_err err, const char *msg)
{

	return send_event(c, "error", json_pack("{s:s, s:s, s:i}", "code",
	    rl_err_token(err), "message", msg != NULL && *msg != '\0' ? msg :
	    rl_strerror(err), "status", rl_err_status(err)));
}

/* The job's last event (payload taken), sent by job_main. */
static void
last_event(struct job *j, const char *type, json_t *payload)
{

	json_decref(j->last);
	j->last_type = type;
	j->last = payload != NULL ? payload : json_object();
}

static void
last_error(struct job *j, enum rl_err err, const char *msg)
{

	last_event(j, "error", json_pack("{s:s, s:s, s:i}", "code",
	    rl_err_token(err), "message", msg != NULL && *msg != '\0' ? msg :
	    rl_strerror(err), "status", rl_err_status(err)));
}

/* Stream events: each text delta of the first choice. */
static int
on_event(void *arg, const struct rl_oa_event *ev)
{
	struct job	*j = arg;

	if (ev->kind != RL_OA_EV_TEXT || ev->index != 0 || ev->deltalen == 0)
		return 0;
	j->deltas++;
	return send_event(j->c, "delta", json_pack("{s:s%}", "content",
	    ev->delta, ev->deltalen)) == -1;
}

/*
 * A message: /completion's rules and billing (lib/router.c), streamed as
 * delta events and a done event carrying what /completion's last frame
 * carries.  A failure before the first delta is an error event; one after
 * it ends the done event with an error, as /completion's stream does.
 */
static void
run_message(struct job *j)
{
	struct rl_router r;
	struct rl_error	 e, ce;
	struct rl_arena	*a;
	json_t		*p = j->payload, *meta;
	const char	*text;
	enum rl_err	 err;

	memset(&r, 0, sizeof(r));
	rl_error_clear(&e);
	rl_error_clear(&ce);
	r.start_us = rl_router_now_us();
	r.in.message = json_string_value(json_object_get(p, "text"));
	r.in.model = json_string_value(json_object_get(p, "model"));
	r.in.agent = json_string_value(json_object_get(p, "agent"));
	r.in.stream = 1;
	if (r.in.model == NULL)
		r.in.model = default_model;
	if ((a = rl_arena_new()) == NULL) {
		last_error(j, RL_ENOMEM, NULL);
		return;
	}
	if ((err = rl_router_prepare(&r, a, j->uid, j->id, &e)) != RL_OK ||
	    (err = rl_router_reserve(&r, &e)) != RL_OK) {
		last_error(j, err, e.msg);
		goto out;
	}
	err = rl_router_call(&r, on_event, j, &ce);
	if (j->deltas == 0 && err != RL_OK) {
		last_error(j, err, ce.msg);
		goto out;
	}
	/* A whole answer to the streamed request: its text is one delta. */
	if (j->deltas == 0 && (text = rl_router_text(&r)) != NULL &&
	    *text != '\0' && send_event(j->c, "delta", json_pack("{s:s}",
	    "content", text)) == -1)
		goto out;
	if ((meta = rl_router_done(&r)) == NULL)
		goto out;
	if (err != RL_OK)
		(void)json_object_set_new(meta, "error", json_pack("{s:s, s:s}",
		    "code", rl_err_token(err), "message", ce.msg[0] != '\0' ?
		    ce.msg : rl_strerror(err)));
	last_event(j, "done", meta);
out:
	rl_router_free(&r);
	rl_arena_free(a);
}

/*
 * An offer: relais creates the realtime session with the provider
 * (OpenAI's WebRTC SDP exchange, POST /realtime/calls with the offer and
 * the session) and hands back the provider's answer; the media then flow
 * between the client and the provider.  The key never leaves relais.
 */
static void
run_offer(struct job *j)
{
	struct rl_upstream_buf	 ub;
	struct rl_oa_call	 call;
	struct rl_model		 m;
	struct rl_error		 e;
	json_t			*form = NULL, *session;
	char			*sj = NULL;
	enum rl_err		 err;

	memset(&call, 0, sizeof(call));
	memset(&ub, 0, sizeof(ub));
	rl_error_clear(&e);
	rl_model_builtin(call_model, &m);
	if ((err = rl_model_upstream(&m, j->uid, &ub, &e)) != RL_OK) {
		last_error(j, err, e.msg);
		goto out;
	}
	session = json_pack("{s:s, s:s}", "type", "realtime", "model",
	    call_model);
	sj = session != NULL ? json_dumps(session, JSON_COMPACT) : NULL;
	json_decref(session);
	if (sj == NULL || (form = json_pack("{s:O, s:s}", "sdp",
	    json_object_get(j->payload, "sdp"), "session", sj)) == NULL) {
		last_error(j, RL_ENOMEM, NULL);
		goto out;
	}
	call.path = "/realtime/calls";
	call.form = form;
	call.max_attempts = 1;
	if ((err = rl_oa_call(&ub.up, &call, &e)) != RL_OK) {
		last_error(j, err, e.msg);
		goto out;
	}
	if (call.raw == NULL || call.rawlen == 0) {
		last_error(j, RL_EUPSTREAM, "the provider answered "
		    "the offer without an SDP answer");
		goto out;
	}
	last_event(j, "answer", json_pack("{s:s%, s:s}", "sdp",
	    call.raw, call.rawlen, "type", "answer"));
out:
	rl_oa_call_free(&call);
	rl_wipe(ub.api_key, sizeof(ub.api_key));
	json_decref(form);
	free(sj);
}

static void *
job_main(void *arg)
{
	struct job	*j = arg;
	struct conn	*c = j->c;

	/* Every upstream call of this thread ends when the client leaves. */
	rl_oa_thread_stop(c->stop, NULL, NULL);
	if (j->kind == JOB_MESSAGE)
		run_message(j);
	else
		run_offer(j);
	rl_oa_thread_stop(NULL, NULL, NULL);
	rl_db_request_end();
	rl_oa_thread_end();
	pthread_mutex_lock(&mu);
	c->busy = 0;
	njobs--;
	pthread_cond_broadcast(&jobs_cv);
	pthread_mutex_unlock(&mu);
	if (j->last != NULL)
		(void)send_event(c, j->last_type, j->last);
	json_decref(j->payload);
	free(j);
	pthread_mutex_lock(&mu);
	conn_unref(c);
	pthread_mutex_unlock(&mu);
	return NULL;
}

/* A message or an offer, on a thread of its own. */
static void
job_start(struct conn *c, enum job_kind kind, json_t *payload)
{
	pthread_attr_t	 at;
	pthread_t	 tid;
	struct job	*j;
	int		 ok;

	pthread_mutex_lock(&mu);
	ok = !c->busy && njobs < RL_REALTIME_JOBS_MAX;
	pthread_mutex_unlock(&mu);
	if (!ok) {
		(void)send_error(c, RL_EUNAVAIL, c->busy ? "busy: one message "
		    "at a time per connection" : "busy: too many messages "
		    "running, try again");
		return;
	}
	if ((j = calloc(1, sizeof(*j))) == NULL) {
		(void)send_error(c, RL_ENOMEM, NULL);
		return;
	}
	j->c = c;
	j->kind = kind;
	j->payload = json_incref(payload);
	j->uid = c->uid;
	rl_random_hex(j->id, (sizeof(j->id) - 1) / 2);
	pthread_mutex_lock(&mu);
	c->busy = 1;
	c->refs++;
	njobs++;
	pthread_mutex_unlock(&mu);
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&tid, &at, job_main, j) != 0) {
		pthread_mutex_lock(&mu);
		c->busy = 0;
		c->refs--;
		njobs--;
		pthread_mutex_unlock(&mu);
		json_decref(j->payload);
		free(j);
		(void)send_error(c, RL_EUNAVAIL, "busy: cannot start the "
		    "message");
	}
	pthread_attr_destroy(&at);
}

/* Check a Bearer token (loop thread: a cached read, no upstream). */
static enum rl_err
authenticate(struct conn *c, const char *tok, struct rl_error *e)
{
	struct rl_req	 req;
	char		*env[1] = { NULL };
	enum rl_err	 err;

	memset(&req, 0, sizeof(req));
	req.env = env;
	if ((req.arena = rl_arena_new()) == NULL)
		return rl_error_set(e, RL_ENOMEM, NULL);
	if ((err = rl_auth_bearer(&req, tok, e)) == RL_OK) {
		c->uid = req.user->id;
		c->role = req.user->role;
	}
	rl_arena_free(req.arena);
	rl_db_request_end();
	return err;
}

static int
close_now(struct lws *wsi, enum lws_close_status code, const char *why)
{

	lws_close_reason(wsi, code, (unsigned char *)(uintptr_t)why,
	    strlen(why));
	return -1;
}

/*
 * A message or offer reaches the provider: count it in its user's bucket,
 * the one every program of the host shares (lib/ratelimit.c), so that
 * the WebSocket is no way around the HTTP routes' limit.  0: refused,
 * the client told.
 */
static int
counted(struct conn *c)
{
	struct rl_ratelimit_state	 st;
	struct rl_error			 e;
	long				 period;
	enum rl_err			 err;

	rl_error_clear(&e);
	if ((err = rl_ratelimit_count(c->uid, c->role, NULL, &st, &period,
	    &e)) == RL_OK)
		return 1;
	(void)send_error(c, err, e.msg);
	return 0;
}

/* Payload checks of the two kinds that run on a job. */
static const char *
message_bad(const json_t *p)
{
	const char	*t = json_string_value(json_object_get(p, "text"));
	json_t		*v;

	if (t == NULL || *t == '\0')
		return "payload.text: a non-empty string is required";
	if ((v = json_object_get(p, "model")) != NULL && !json_is_string(v))
		return "payload.model: must be a string";
	if ((v = json_object_get(p, "agent")) != NULL && !json_is_string(v))
		return "payload.agent: must be a string";
	return NULL;
}

static const char *
offer_bad(const json_t *p)
{
	const char	*sdp = json_string_value(json_object_get(p, "sdp"));
	const char	*t = json_string_value(json_object_get(p, "type"));

	if (sdp == NULL || strncmp(sdp, "v=0", 3) != 0)
		return "payload.sdp: an SDP offer (v=0...) is required";
	if (strlen(sdp) > RL_REALTIME_SDP_MAX)
		return "payload.sdp: longer than the offer limit";
	if (t != NULL && strcmp(t, "offer") != 0)
		return "payload.type: must be \"offer\"";
	return NULL;
}

/*
 * One whole client message.  Returns -1 to close the connection (its
 * close reason set), else 0: a bad message gets an error event and the
 * connection stays.
 */
static int
handle(struct lws *wsi, struct conn *c, const char *s, size_t len)
{
	struct rl_error	 e;
	json_t		*v = NULL, *p;
	const char	*type, *tok, *bad;
	time_t		 now;
	int		 rc = 0;

	rl_error_clear(&e);
	now = time(NULL);
	if (now != c->win) {
		c->win = now;
		c->nwin = 0;
	}
	if (++c->nwin > RL_REALTIME_RATE && c->uid != 0) {
		(void)send_error(c, RL_ERATELIMIT, "too many messages per "
		    "second");
		return 0;
	}
	if (rl_json_parse(s, len, &v, &e) != RL_OK) {
		if (c->uid == 0)
			return close_now(wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION,
			    "authentication required");
		(void)send_error(c, RL_EJSON, e.msg);
		return 0;
	}
	type = json_string_value(json_object_get(v, "type"));
	p = json_object_get(v, "payload");
	if (p == NULL)
		p = json_object();
	else
		json_incref(p);
	if (c->uid == 0) {
		/* The first message must be the credentials. */
		tok = json_string_value(json_object_get(p, "token"));
		if (type == NULL || strcmp(type, "auth") != 0 || tok == NULL ||
		    authenticate(c, tok, &e) != RL_OK) {
			rc = close_now(wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION,
			    type != NULL && strcmp(type, "auth") == 0 ?
			    "invalid credentials" : "authentication required");
			goto out;
		}
		lws_set_timer_usecs(wsi, (lws_usec_t)idle_sec *
		    LWS_USEC_PER_SEC);
		(void)send_event(c, "ready", json_pack("{s:I}", "user_id",
		    (json_int_t)c->uid));
		goto out;
	}
	if (!json_is_object(v) || type == NULL || !json_is_object(p))
		(void)send_error(c, RL_EVALIDATION, "a message is "
		    "{\"type\": string, \"payload\": object}");
	else if (strcmp(type, "ping") == 0)
		(void)send_event(c, "pong", json_pack("{s:I}", "ts",
		    (json_int_t)now));
	else if (strcmp(type, "message") == 0) {
		if ((bad = message_bad(p)) != NULL)
			(void)send_error(c, RL_EVALIDATION, bad);
		else if (counted(c))
			job_start(c, JOB_MESSAGE, p);
	} else if (strcmp(type, "offer") == 0) {
		if ((bad = offer_bad(p)) != NULL)
			(void)send_error(c, RL_EVALIDATION, bad);
		else if (counted(c))
			job_start(c, JOB_OFFER, p);
	} else if (strcmp(type, "auth") == 0)
		(void)send_error(c, RL_EINVAL, "already authenticated");
	else
		(void)send_error(c, RL_EINVAL, "unknown message type (ping, "
		    "message, offer)");
out:
	json_decref(p);
	json_decref(v);
	return rc;
}

/*
 * Close with code once what is queued is sent; the connection stays
 * registered until CLOSED, whichever way it ends.
 */
static int
close_later(struct lws *wsi, struct conn *c, int code, const char *why)
{

	c->close_code = code;
	c->close_why = why;
	lws_callback_on_writable(wsi);
	return 0;
}

/* ESTABLISHED: count it, and take the upgrade's Bearer token if any. */
static int
opened(struct lws *wsi, struct conn **pc)
{
	struct rl_error	 e;
	struct conn	*c;
	char		 hdr[AUTH_HDR_MAX];
	int		 n, full;

	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->stop = rl_oa_stop_new()) == NULL) {
		free(c);
		return -1;
	}
	c->wsi = wsi;
	c->refs = 1;
	pthread_mutex_lock(&mu);
	full = nconns >= RL_REALTIME_CONN_MAX;
	if ((c->next = conns) != NULL)
		conns->prev = c;
	conns = c;
	nconns++;
	pthread_mutex_unlock(&mu);
	*pc = c;
	if (full)
		return close_later(wsi, c, CLOSE_TRY_AGAIN,
		    "too many connections");
	rl_error_clear(&e);
	n = lws_hdr_copy(wsi, hdr, sizeof(hdr), WSI_TOKEN_HTTP_AUTHORIZATION);
	if (n > 0) {
		if (strncasecmp(hdr, "Bearer ", 7) != 0 ||
		    authenticate(c, hdr + 7, &e) != RL_OK)
			return close_later(wsi, c,
			    LWS_CLOSE_STATUS_POLICY_VIOLATION,
			    "invalid credentials");
		(void)send_event(c, "ready", json_pack("{s:I}", "user_id",
		    (json_int_t)c->uid));
	}
	lws_set_timer_usecs(wsi, (lws_usec_t)(c->uid != 0 ? idle_sec :
	    auth_sec) * LWS_USEC_PER_SEC);
	return 0;
}

static void
closed(struct conn *c)
{

	rl_oa_stop_raise(c->stop);
	pthread_mutex_lock(&mu);
	c->wsi = NULL;
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	nconns--;
	conn_unref(c);
	pthread_mutex_unlock(&mu);
}

/* The next queued event, or the close that was waiting for the queue. */
static int
writable(struct lws *wsi, struct conn *c)
{
	struct out	*o;
	int		 more, n;

	pthread_mutex_lock(&mu);
	if ((o = c->head) != NULL) {
		if ((c->head = o->next) == NULL)
			c->tail = NULL;
		c->queued -= o->len;
	}
	more = c->head != NULL;
	pthread_mutex_unlock(&mu);
	if (o == NULL) {
		if (c->close_code != 0)
			return close_now(wsi,
			    (enum lws_close_status)c->close_code, c->close_why);
		return 0;
	}
	n = lws_write(wsi, o->buf + LWS_PRE, o->len, LWS_WRITE_TEXT);
	free(o);
	if (n < 0)
		return -1;
	if (more || c->close_code != 0)
		lws_callback_on_writable(wsi);
	return 0;
}

/* Fragments are joined up to RL_REALTIME_MSG_MAX, then handled. */
static int
received(struct lws *wsi, struct conn *c, const void *in, size_t len)
{
	char	*nb;
	int	 rc;

	/* Closing: what the client still sends is not read. */
	if (c->close_code != 0)
		return 0;
	if (c->rxlen + len > RL_REALTIME_MSG_MAX)
		return close_now(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE,
		    "message too large");
	if ((nb = realloc(c->rx, c->rxlen + len + 1)) == NULL)
		return -1;
	c->rx = nb;
	memcpy(c->rx + c->rxlen, in, len);
	c->rxlen += len;
	if (!lws_is_final_fragment(wsi) ||
	    lws_remaining_packet_payload(wsi) > 0)
		return 0;
	c->rx[c->rxlen] = '\0';
	if (c->uid != 0)
		lws_set_timer_usecs(wsi, (lws_usec_t)idle_sec *
		    LWS_USEC_PER_SEC);
	if (lws_frame_is_binary(wsi)) {
		c->rxlen = 0;
		if (c->uid == 0)
			return close_now(wsi,
			    LWS_CLOSE_STATUS_POLICY_VIOLATION,
			    "authentication required");
		(void)send_error(c, RL_EINVAL, "binary frames are not "
		    "accepted: send JSON text");
		return 0;
	}
	rc = handle(wsi, c, c->rx, c->rxlen);
	c->rxlen = 0;
	return rc;
}

static int
callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
    void *in, size_t len)
{
	struct conn	**pc = user, *c = pc != NULL ? *pc : NULL;

	switch (reason) {
	case LWS_CALLBACK_ESTABLISHED:
		return opened(wsi, pc);
	case LWS_CALLBACK_RECEIVE:
		return c == NULL ? -1 : received(wsi, c, in, len);
	case LWS_CALLBACK_SERVER_WRITEABLE:
		return c == NULL ? -1 : writable(wsi, c);
	case LWS_CALLBACK_TIMER:
		if (c == NULL)
			return -1;
		if (c->uid == 0)
			return close_now(wsi,
			    LWS_CLOSE_STATUS_POLICY_VIOLATION,
			    "authentication timeout");
		pthread_mutex_lock(&mu);
		if (c->busy) {
			/* An answer still streaming is not idleness. */
			pthread_mutex_unlock(&mu);
			lws_set_timer_usecs(wsi, (lws_usec_t)idle_sec *
			    LWS_USEC_PER_SEC);
			return 0;
		}
		pthread_mutex_unlock(&mu);
		/* Sent after whatever is still queued. */
		return close_later(wsi, c, LWS_CLOSE_STATUS_NORMAL,
		    "idle timeout");
	case LWS_CALLBACK_CLOSED:
		if (c != NULL) {
			closed(c);
			*pc = NULL;
		}
		return 0;
	case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
		/* A job queued events: ask for the sockets they wait on. */
		pthread_mutex_lock(&mu);
		for (c = conns; c != NULL; c = c->next)
			if (c->wsi != NULL && c->head != NULL)
				lws_callback_on_writable(c->wsi);
		pthread_mutex_unlock(&mu);
		return 0;
	default:
		break;
	}
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols protocols[] = {
	{ PROTOCOL, callback, sizeof(struct conn *), 0, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

/* libwebsockets' own warnings and errors, in our log. */
static void
lws_log(int level, const char *line)
{
	size_t	 n = strlen(line);

	while (n > 0 && line[n - 1] == '\n')
		n--;
	if (level & LLL_ERR)
		rl_log_error("%s: lws: %.*s", PROG, (int)n, line);
	else
		rl_log_warn("%s: lws: %.*s", PROG, (int)n, line);
}

/* SIGTERM and SIGINT: end the loop (it waits in lws_service). */
static void *
sig_main(void *arg)
{
	sigset_t	*set = arg;
	int		 sig;

	(void)sigwait(set, &sig);
	stopping = 1;
	pthread_mutex_lock(&mu);
	lws_cancel_service(ctx);
	pthread_mutex_unlock(&mu);
	return NULL;
}

static int
setup(void)
{
	struct rl_error	 e;
	const char	*v;

	rl_error_clear(&e);
	/* One database connection per job, one for the loop. */
	if (rl_conf_load(RL_REALTIME_JOBS_MAX + 1, &e) != RL_OK ||
	    rl_conf_int("RELAIS_REALTIME_IDLE_SEC", 1, RL_REALTIME_IDLE_SEC,
	    &idle_sec, &e) != RL_OK ||
	    rl_conf_int("RELAIS_REALTIME_AUTH_SEC", 1, RL_REALTIME_AUTH_SEC,
	    &auth_sec, &e) != RL_OK) {
		rl_log_error("%s", e.msg);
		return -1;
	}
	if ((v = getenv("RELAIS_REALTIME_MODEL")) != NULL && *v != '\0')
		default_model = v;
	if ((v = getenv("RELAIS_REALTIME_CALL_MODEL")) != NULL && *v != '\0')
		call_model = v;
	if (rl_start(PROG, 1) == -1)
		return -1;
	if (rl_auth_init(&e) != RL_OK ||
	    rl_ratelimit_open(NULL, &e) != RL_OK) {
		rl_log_error("%s: %s", PROG, e.msg);
		return -1;
	}
	/* Models, agents and tokens read on every message, kept. */
	if (rl_cache_start(&e) != RL_OK)
		rl_log_warn("%s: %s", PROG, e.msg);
	return 0;
}

int
main(int argc, char *argv[])
{
	struct lws_context_creation_info info;
	struct conn	*c;
	const char	*sock = NULL;
	sigset_t	 set;
	pthread_t	 stid;
	struct timespec	 ts;
	int		 ch, port = 0, rc = 1;

	while ((ch = getopt(argc, argv, "hp:s:")) != -1)
		switch (ch) {
		case 's':
			sock = optarg;
			break;
		case 'p':
			port = (int)strtol(optarg, NULL, 10);
			if (port <= 0 || port > 65535) {
				usage();
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
	if (optind != argc || (sock == NULL) == (port == 0)) {
		usage();
		return 2;
	}
	(void)signal(SIGPIPE, SIG_IGN);
	/* Signals go to sig_main only; every thread inherits the mask. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (setup() == -1)
		return 1;

	lws_set_log_level(LLL_ERR | LLL_WARN, lws_log);
	memset(&info, 0, sizeof(info));
	info.protocols = protocols;
	info.gid = (gid_t)-1;
	info.uid = (uid_t)-1;
	info.options = LWS_SERVER_OPTION_VALIDATE_UTF8;
	if (sock != NULL) {
		(void)unlink(sock);
		info.options |= LWS_SERVER_OPTION_UNIX_SOCK;
		info.iface = sock;
	} else {
		info.iface = "127.0.0.1";
		info.port = port;
	}
	loop_tid = pthread_self();
	if ((ctx = lws_create_context(&info)) == NULL) {
		rl_log_error("%s: cannot listen on %s", PROG, sock != NULL ?
		    sock : "127.0.0.1");
		return 1;
	}
	/*
	 * As the FastCGI programs' sockets: nginx, another user, connects;
	 * the directory guards it, and every connection must authenticate.
	 */
	if (sock != NULL && chmod(sock, 0666) == -1)
		rl_log_warn("%s: chmod %s failed", PROG, sock);
	if (pthread_create(&stid, NULL, sig_main, &set) != 0) {
		rl_log_error("%s: cannot start the signal thread", PROG);
		goto out;
	}
	pthread_detach(stid);
	if (sock != NULL)
		rl_log_info("%s: listening on %s, idle %d s", PROG, sock,
		    idle_sec);
	else
		rl_log_info("%s: listening on 127.0.0.1:%d, idle %d s", PROG,
		    port, idle_sec);
	while (!stopping)
		if (lws_service(ctx, 0) < 0)
			break;
	rc = 0;
out:
	/* Running answers end now (billed as cut), then the sockets. */
	pthread_mutex_lock(&mu);
	for (c = conns; c != NULL; c = c->next)
		rl_oa_stop_raise(c->stop);
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += SHUTDOWN_GRACE_SEC;
	while (njobs > 0)
		if (pthread_cond_timedwait(&jobs_cv, &mu, &ts) != 0)
			break;
	pthread_mutex_unlock(&mu);
	lws_context_destroy(ctx);
	pthread_mutex_lock(&mu);
	ctx = NULL;
	pthread_mutex_unlock(&mu);
	if (rl_credits_drain(DRAIN_MS) == -1)
		rl_log_warn("%s: ledger writes still queued at exit", PROG);
	rl_log_info("%s: stopped", PROG);
	return rc;
}
