/*
 * sse.c: Server-Sent Events frames and the heartbeat.  The handler thread
 * writes frames; the heartbeat thread writes comments on idle streams.  A
 * per-stream mutex keeps the two from interleaving bytes on one FastCGI
 * stream, and the first failed write marks the stream gone for both.
 *
 * While a stream is open, the upstream calls its handler thread makes
 * poll the client's hang-up between their waits (rl_oa_thread_stop), so
 * a client that leaves while the model is still silent stops the call
 * within RL_OA_STOP_POLL_MS instead of at the model's next event.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "arena.h"
#include "extern.h"
#include "bounds.h"
#include "log.h"
#include "openai.h"
#include "req.h"
#include "resp.h"
#include "sse.h"

struct rl_sse {
	struct rl_req	*req;
	pthread_mutex_t	 mu;
	time_t		 last;		/* last write, monotonic seconds */
	int		 gone;
	struct rl_sse	*prev, *next;	/* heartbeat list */
};

static pthread_mutex_t	 list_mu = PTHREAD_MUTEX_INITIALIZER;
static struct rl_sse	*list;
static int		 heartbeat_sec = RL_SSE_HEARTBEAT_SEC;
static int		 heartbeat_started;

static time_t
mono(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/* Write under the stream lock; mark the stream gone on failure. */
static enum rl_err
put(struct rl_sse *s, const char *a, size_t alen, const char *b, size_t blen,
    int flush)
{
	enum rl_err	 err = RL_OK;

	pthread_mutex_lock(&s->mu);
	if (s->gone)
		err = RL_EGONE;
	else if (rl_resp_write(s->req, a, alen) != RL_OK ||
	    (blen > 0 && rl_resp_write(s->req, b, blen) != RL_OK) ||
	    (flush && rl_resp_flush(s->req) != RL_OK)) {
		s->gone = 1;
		err = RL_EGONE;
	}
	s->last = mono();
	pthread_mutex_unlock(&s->mu);
	return err;
}

static void *
heartbeat(void *arg)
{
	struct rl_sse	*s;
	time_t		 now;

	(void)arg;
	for (;;) {
		sleep(1);
		now = mono();
		pthread_mutex_lock(&list_mu);
		for (s = list; s != NULL; s = s->next)
			if (!s->gone && now - s->last >= heartbeat_sec)
				(void)put(s, ": ping\n\n", 8, NULL, 0, 1);
		pthread_mutex_unlock(&list_mu);
	}
	return NULL;
}

/*
 * Start the heartbeat thread.  sec overrides RL_SSE_HEARTBEAT_SEC (tests use
 * a short interval; 0 keeps the default).
 */
enum rl_err
rl_sse_heartbeat_start(int sec, struct rl_error *e)
{
	pthread_t	 t;
	pthread_attr_t	 attr;
	int		 rc;

	if (heartbeat_started)
		return RL_OK;
	if (sec > 0)
		heartbeat_sec = sec;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, RL_THREAD_STACK);
	rc = pthread_create(&t, &attr, heartbeat, NULL);
	pthread_attr_destroy(&attr);
	if (rc != 0)
		return rl_error_set(e, RL_EINTERNAL, "heartbeat thread: %s",
		    strerror(rc));
	heartbeat_started = 1;
	return RL_OK;
}

/* The upstream calls' check: the client of this stream left. */
static int
client_gone(void *arg)
{

	return rl_sse_gone(arg);
}

/*
 * Answer 200 with an event stream.  The stream belongs to the request; the
 * runtime closes it when the handler returns.
 */
struct rl_sse *
rl_sse_open(struct rl_req *req, struct rl_error *e)
{
	struct rl_sse	*s;

	if (req->sse != NULL) {
		rl_error_set(e, RL_EINTERNAL, "stream already open");
		return NULL;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		rl_error_set(e, RL_ENOMEM, NULL);
		return NULL;
	}
	/*
	 * Not flushed: every caller sends a frame at once (an "open", the
	 * first token), and the head goes out in the same write, so that
	 * nginx reads and passes on both in one wake-up.  The heartbeat
	 * would flush it anyway within RL_SSE_HEARTBEAT_SEC.
	 */
	if (rl_resp_header(req, "Cache-Control", "no-cache") != RL_OK ||
	    rl_resp_header(req, "X-Accel-Buffering", "no") != RL_OK ||
	    rl_resp_begin(req, 200, "text/event-stream; charset=utf-8") !=
	    RL_OK) {
		free(s);
		rl_error_set(e, RL_EGONE, NULL);
		return NULL;
	}
	pthread_mutex_init(&s->mu, NULL);
	s->req = req;
	s->last = mono();
	req->sse = s;
	pthread_mutex_lock(&list_mu);
	s->next = list;
	if (list != NULL)
		list->prev = s;
	list = s;
	pthread_mutex_unlock(&list_mu);
	/* Released with the request, in this thread (rl_sse_release). */
	rl_oa_thread_stop(NULL, client_gone, s);
	return s;
}

/*
 * One frame: optional "event:" and "id:" lines, then data split on newlines
 * into "data:" lines (the SSE grammar forbids raw newlines in a field),
 * then a blank line; flushed at once.
 */
enum rl_err
rl_sse_send(struct rl_sse *s, const char *event, const char *id,
    const char *data)
{
	size_t		 len, cap, off = 0, n;
	const char	*p;
	char		*buf;
	enum rl_err	 err;

	if (rl_sse_gone(s))
		return RL_EGONE;
	if ((event != NULL && strpbrk(event, "\r\n") != NULL) ||
	    (id != NULL && strpbrk(id, "\r\n") != NULL))
		return RL_EINVAL;
	len = strlen(data);
	/* Worst case every byte is a newline: "data: " per byte. */
	cap = len * 7 + 16 + (event != NULL ? strlen(event) + 8 : 0) +
	    (id != NULL ? strlen(id) + 5 : 0);
	/* The heap, not the arena: a long stream must not grow the arena. */
	if ((buf = malloc(cap)) == NULL)
		return RL_ENOMEM;
	if (event != NULL)
		off += (size_t)snprintf(buf + off, cap - off, "event: %s\n",
		    event);
	if (id != NULL)
		off += (size_t)snprintf(buf + off, cap - off, "id: %s\n", id);
	p = data;
	do {
		n = strcspn(p, "\r\n");
		memcpy(buf + off, "data: ", 6);
		off += 6;
		memcpy(buf + off, p, n);
		off += n;
		buf[off++] = '\n';
		p += n;
		if (*p == '\r' && p[1] == '\n')
			p++;
		if (*p != '\0')
			p++;
		else
			break;
	} while (1);
	buf[off++] = '\n';
	err = put(s, buf, off, NULL, 0, 1);
	free(buf);
	return err;
}

enum rl_err
rl_sse_send_json(struct rl_sse *s, const char *event, const char *id,
    const json_t *v)
{
	enum rl_err	 err;
	char		*str;

	if ((str = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY)) == NULL)
		return RL_ENOMEM;
	err = rl_sse_send(s, event, id, str);
	free(str);
	return err;
}

enum rl_err
rl_sse_comment(struct rl_sse *s, const char *text)
{

	if (strpbrk(text, "\r\n") != NULL)
		return RL_EINVAL;
	return put(s, ": ", 2, text, strlen(text), 0) != RL_OK ? RL_EGONE :
	    put(s, "\n\n", 2, NULL, 0, 1);
}

/* True once a write failed or the client hung up (checked without I/O). */
int
rl_sse_gone(struct rl_sse *s)
{
	int	 gone;

	pthread_mutex_lock(&s->mu);
	if (!s->gone && rl_req_client_gone(s->req))
		s->gone = 1;
	gone = s->gone;
	pthread_mutex_unlock(&s->mu);
	return gone;
}

/* Stop heartbeats; the request keeps the stream until rl_sse_release. */
void
rl_sse_close(struct rl_sse *s)
{

	if (s == NULL)
		return;
	pthread_mutex_lock(&list_mu);
	if (s->prev != NULL)
		s->prev->next = s->next;
	else if (list == s)
		list = s->next;
	if (s->next != NULL)
		s->next->prev = s->prev;
	s->prev = s->next = NULL;
	pthread_mutex_unlock(&list_mu);
}

void
rl_sse_release(struct rl_req *req)
{
	struct rl_sse	*s = req->sse;

	if (s == NULL)
		return;
	rl_oa_thread_stop(NULL, NULL, NULL);
	rl_sse_close(s);
	pthread_mutex_destroy(&s->mu);
	free(s);
	req->sse = NULL;
}
