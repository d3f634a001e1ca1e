/*
 * openai.c: the upstream client, and the only file that includes
 * <curl/curl.h>.  One function, rl_oa_call(), sends every kind of request
 * (Responses, Chat Completions, Files, Batches, audio), streamed or not,
 * and fills the caller's struct rl_oa_call with what came back.  See
 * openai.h and docs/internals/openai.md.
 *
 * Each thread keeps one curl easy handle in one multi handle, so
 * consecutive calls from a thread reuse the upstream connection (TLS and
 * TCP set-up cost more than a small call).  A transfer that did not end
 * cleanly (stopped, timed out, cut) drops the handles and their
 * connections: a half-read stream must never be reused for the next
 * request.
 *
 * The transfer runs through the multi handle rather than
 * curl_easy_perform() so that it can be stopped from outside within
 * RL_OA_STOP_POLL_MS whatever the upstream does: libcurl calls its
 * progress callback about once a second on a silent transfer, too seldom
 * for a cancel, while curl_multi_poll() returns at once when another
 * thread calls curl_multi_wakeup() and after RL_OA_STOP_POLL_MS anyway.
 */
#include "config.h"

#include <sys/stat.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>

#include "relais.h"
#include "bounds.h"
#include "buf.h"
#include "crypto.h"
#include "extern.h"
#include "log.h"
#include "openai.h"
#include "sseparse.h"

#define USER_AGENT	"relais/" RL_VERSION
/* Tokens of a cut stream's input: per message, plus the reply's priming. */
#define BOUND_PER_ITEM	8
#define BOUND_BASE	16

/* How an attempt reads its answer, decided at the first body byte. */
enum mode {
	MODE_NONE = 0,
	MODE_BUF,	/* kept whole: JSON or raw */
	MODE_SSE	/* parsed as it comes, events to the callback */
};

/* What the attempts of one call share: the request as sent. */
struct req {
	char			*url;
	const char		*proto;		/* "https" or "http" */
	const char		*method;
	char			*body;		/* JSON text or NULL */
	size_t			 bodylen;
	int			 multipart;
	struct curl_slist	*hdrs;
	long			 connect_ms;
	long			 idle_ms;
	long			 total_ms;
	int			 max_attempts;
};

/* One call in flight; the per-attempt part is reset by xfer_reset(). */
struct xfer {
	struct rl_oa_call	*call;
	CURL			*h;
	size_t			 max;		/* answer cap */
	long long		 t0;		/* call start, us */
	long long		 idle_us;
	long long		 deltas;	/* text/reasoning/args deltas */
	int			 ttft_set;
	/* Per attempt. */
	enum mode		 mode;
	struct rl_sseparse	*sse;
	struct rl_buf		 body;		/* MODE_BUF: the answer */
	size_t			 got;		/* body bytes received */
	long long		 last;		/* last byte either way, us */
	curl_off_t		 dl;
	curl_off_t		 ul;
	int			 toobig;
	int			 idle;		/* idle limit hit */
	int			 done;		/* final event received */
	int			 halted;	/* a stop or check ended it */
	long			 sent;		/* request bytes sent */
	const struct rl_sse_frame *frame;	/* the frame being read */
	enum rl_err		 serr;		/* error found in the body */
	char			 smsg[RL_ERRMSG_MAX];
	char			 errbuf[CURL_ERROR_SIZE];
};

/*
 * Each thread keeps its own easy handle, so its kept-alive connection is
 * reused without sharing anything between threads (libcurl does not
 * support sharing connections between concurrent threads).  A thread that
 * stops calling upstream would keep its socket for ever, half-closed
 * (CLOSE-WAIT) once the upstream drops it: the reaper closes any handle
 * left idle for RL_OA_IDLE_CONN_SEC.  The slot's mutex is held for the
 * whole of a transfer, so the reaper only ever takes an idle handle.
 */
struct slot {
	pthread_mutex_t	 mu;
	CURL		*h;
	CURLM		*m;		/* runs h; holds the connections */
	long long	 last;		/* end of its last transfer, us */
	struct slot	*next;
};

static pthread_once_t	 once = PTHREAD_ONCE_INIT;
static CURLcode		 global_rc = CURLE_FAILED_INIT;
static pthread_mutex_t	 slots_mu = PTHREAD_MUTEX_INITIALIZER;
static struct slot	*slots;
static _Atomic int	 idle_sec = RL_OA_IDLE_CONN_SEC;
static __thread struct slot *tl_slot;
static __thread uint64_t tl_rand;

/*
 * A stop flag.  The multi handle of the transfer using it is attached
 * under mu for the transfer's length, so a raiser never wakes a handle
 * that its thread is destroying.
 */
struct rl_oa_stop {
	pthread_mutex_t	 mu;
	atomic_int	 raised;
	CURLM		*m;
};

/* This thread's stop and check (rl_oa_thread_stop). */
static __thread struct rl_oa_stop *tl_stop;
static __thread rl_oa_check_cb tl_check;
static __thread void	*tl_check_arg;

struct rl_oa_stop *
rl_oa_stop_new(void)
{
	struct rl_oa_stop	*st;

	if ((st = calloc(1, sizeof(*st))) == NULL)
		return NULL;
	pthread_mutex_init(&st->mu, NULL);
	atomic_init(&st->raised, 0);
	return st;
}

void
rl_oa_stop_free(struct rl_oa_stop *st)
{

	if (st == NULL)
		return;
	pthread_mutex_destroy(&st->mu);
	free(st);
}

void
rl_oa_stop_raise(struct rl_oa_stop *st)
{

	if (st == NULL)
		return;
	pthread_mutex_lock(&st->mu);
	atomic_store(&st->raised, 1);
	if (st->m != NULL)
		(void)curl_multi_wakeup(st->m);
	pthread_mutex_unlock(&st->mu);
}

void
rl_oa_stop_reset(struct rl_oa_stop *st)
{

	if (st != NULL)
		atomic_store(&st->raised, 0);
}

int
rl_oa_stop_raised(struct rl_oa_stop *st)
{

	return st != NULL && atomic_load(&st->raised) != 0;
}

void
rl_oa_thread_stop(struct rl_oa_stop *st, rl_oa_check_cb check, void *arg)
{

	tl_stop = st;
	tl_check = check;
	tl_check_arg = arg;
}

/* Should the call stop now?  Its own stops, then the thread's. */
static int
halt(const struct rl_oa_call *c)
{

	return rl_oa_stop_raised(c->stop) || rl_oa_stop_raised(tl_stop) ||
	    (c->check != NULL && c->check(c->check_arg)) ||
	    (tl_check != NULL && tl_check(tl_check_arg));
}

/* Let a raiser wake m (m NULL: the transfer is over). */
static void
attach(struct rl_oa_stop *st, CURLM *m)
{

	if (st == NULL)
		return;
	pthread_mutex_lock(&st->mu);
	st->m = m;
	pthread_mutex_unlock(&st->mu);
}

/* Close a slot's handles, and so their connections. */
static void
drop(struct slot *s)
{

	if (s->m != NULL)
		curl_multi_cleanup(s->m);
	if (s->h != NULL)
		curl_easy_cleanup(s->h);
	s->m = NULL;
	s->h = NULL;
}

/* Close the handles (and their connections) nobody used for a while. */
static void *
reaper(void *arg)
{
	struct slot	*s;
	long long	 now;

	for (;;) {
		sleep(idle_sec < RL_OA_REAP_SEC ? idle_sec : RL_OA_REAP_SEC);
		now = rl_now_us();
		pthread_mutex_lock(&slots_mu);
		for (s = slots; s != NULL; s = s->next) {
			if (pthread_mutex_trylock(&s->mu) != 0)
				continue;	/* in a transfer */
			if (s->h != NULL && now - s->last >=
			    idle_sec * 1000000LL)
				drop(s);
			pthread_mutex_unlock(&s->mu);
		}
		pthread_mutex_unlock(&slots_mu);
	}
	return NULL;
}

static void
global_init(void)
{
	pthread_attr_t	 a;
	pthread_t	 t;

	if ((global_rc = curl_global_init(CURL_GLOBAL_DEFAULT)) != CURLE_OK)
		return;
	/* Without a reaper idle sockets linger; calls still work. */
	if (pthread_attr_init(&a) == 0) {
		(void)pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
		(void)pthread_attr_setstacksize(&a, 64 * 1024);
		if (pthread_create(&t, &a, reaper, NULL) != 0)
			rl_log_warn("upstream: no reaper thread; idle "
			    "connections stay open");
		(void)pthread_attr_destroy(&a);
	}
}

/* Idempotent: runs curl_global_init once per process, whoever asks. */
enum rl_err
rl_oa_init(struct rl_error *e)
{

	if (pthread_once(&once, global_init) != 0 || global_rc != CURLE_OK)
		return rl_error_set(e, RL_EINTERNAL, "curl_global_init: %s",
		    curl_easy_strerror(global_rc));
	return RL_OK;
}

void
rl_oa_set_idle(int sec)
{

	if (sec > 0)
		idle_sec = sec;
}

void
rl_oa_thread_end(void)
{
	struct slot	**pp, *s = tl_slot;

	if (s == NULL)
		return;
	pthread_mutex_lock(&slots_mu);
	for (pp = &slots; *pp != NULL; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	pthread_mutex_unlock(&slots_mu);
	drop(s);
	pthread_mutex_destroy(&s->mu);
	free(s);
	tl_slot = NULL;
}

/*
 * The thread's handle, options reset, connections kept, locked against
 * the reaper until handle_done().
 */
static CURL *
handle(void)
{
	struct slot	*s = tl_slot;

	if (s == NULL) {
		if ((s = calloc(1, sizeof(*s))) == NULL)
			return NULL;
		pthread_mutex_init(&s->mu, NULL);
		pthread_mutex_lock(&slots_mu);
		s->next = slots;
		slots = s;
		pthread_mutex_unlock(&slots_mu);
		tl_slot = s;
	}
	pthread_mutex_lock(&s->mu);
	if (s->h == NULL)
		s->h = curl_easy_init();
	else
		curl_easy_reset(s->h);
	if (s->m == NULL)
		s->m = curl_multi_init();
	if (s->h == NULL || s->m == NULL) {
		drop(s);
		pthread_mutex_unlock(&s->mu);
		return NULL;
	}
	return s->h;
}

/* The transfer is over; close its connection when it did not end well. */
static void
handle_done(int close)
{
	struct slot	*s = tl_slot;

	if (close)
		drop(s);
	s->last = rl_now_us();
	pthread_mutex_unlock(&s->mu);
}

/*
 * Full jitter needs no cryptographic randomness, only threads that do not
 * move in step: a per-thread xorshift seeded from the clock and the stack.
 */
static long
jitter(long max)
{
	uint64_t	 x;

	if (max <= 0)
		return 0;
	if (tl_rand == 0)
		tl_rand = (uint64_t)rl_now_us() ^ (uint64_t)(uintptr_t)&x ^
		    0x9e3779b97f4a7c15ULL;
	x = tl_rand;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	tl_rand = x;
	return (long)(x % ((uint64_t)max + 1));
}

static long
backoff_ms(int attempt)
{
	long	 cap = RL_OA_BACKOFF_MS;

	while (--attempt > 0 && cap < RL_OA_BACKOFF_MAX_MS)
		cap *= 2;
	if (cap > RL_OA_BACKOFF_MAX_MS)
		cap = RL_OA_BACKOFF_MAX_MS;
	return jitter(cap);
}

/* Sleep ms, in slices short enough to notice a stop; 1 if stopped. */
static int
sleep_ms(const struct rl_oa_call *c, long ms)
{
	struct timespec	 ts;
	long		 step;

	while (ms > 0) {
		if (halt(c))
			return 1;
		step = ms < RL_OA_STOP_POLL_MS ? ms : RL_OA_STOP_POLL_MS;
		ms -= step;
		ts.tv_sec = step / 1000;
		ts.tv_nsec = (step % 1000) * 1000000L;
		while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
			continue;
	}
	return halt(c);
}

/*
 * Token counting.  The keys whose string values carry conversation text,
 * as the fake upstream counts them (docs/internals/fake-openai.md).
 */
static int
counted_key(const char *k)
{
	static const char *const keys[] = {
		"content", "text", "output", "arguments", "input",
		"instructions", NULL
	};
	int	 i;

	for (i = 0; keys[i] != NULL; i++)
		if (strcmp(k, keys[i]) == 0)
			return 1;
	return 0;
}

/* Code points (bytes when bytes is set) of the counted strings under v. */
static long long
walk_text(const json_t *v, int counted, int bytes, int depth)
{
	const char	*k, *s;
	json_t		*c;
	size_t		 i, n;
	long long	 sum = 0;

	if (depth > RL_JSON_MAX_DEPTH)
		return 0;
	if (json_is_string(v)) {
		if (!counted)
			return 0;
		s = json_string_value(v);
		n = json_string_length(v);
		if (bytes)
			return (long long)n;
		for (i = 0; i < n; i++)
			if (((unsigned char)s[i] & 0xc0) != 0x80)
				sum++;
		return sum;
	}
	if (json_is_array(v)) {
		json_array_foreach(v, i, c)
			sum += walk_text(c, counted, bytes, depth + 1);
		return sum;
	}
	if (json_is_object(v))
		json_object_foreach((json_t *)(uintptr_t)v, k, c)
			sum += walk_text(c, counted_key(k), bytes, depth + 1);
	return sum;
}

long long
rl_oa_tokens_estimate(const json_t *body)
{

	return (walk_text(body, 0, 0, 0) + 3) / 4;
}

/*
 * Byte-level BPE never makes more tokens than bytes; each message or input
 * item costs a few framing tokens, and the reply is primed with a few more.
 */
long long
rl_oa_tokens_bound(const json_t *body)
{
	const json_t	*v;
	long long	 items = 0;

	if ((v = json_object_get(body, "messages")) != NULL &&
	    json_is_array(v))
		items += (long long)json_array_size(v);
	if ((v = json_object_get(body, "input")) != NULL)
		items += json_is_array(v) ? (long long)json_array_size(v) :
		    1;
	return walk_text(body, 0, 1, 0) + BOUND_PER_ITEM * items +
	    BOUND_BASE;
}

/* A non-negative integer member, or 0. */
static long long
count_of(const json_t *o, const char *k)
{
	const json_t	*v = json_object_get(o, k);

	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return 0;
	return (long long)json_integer_value(v);
}

/*
 * Takes an answer (its "usage" member is read) or a usage object itself.
 * Returns 0 and reported = 1 when usage was found, else -1 and zeros.
 */
int
rl_oa_usage_parse(const json_t *v, struct rl_usage *u)
{
	const json_t	*usage;

	memset(u, 0, sizeof(*u));
	usage = json_object_get(v, "usage");
	if (!json_is_object(usage))
		usage = v;
	if (!json_is_object(usage))
		return -1;
	if (json_is_integer(json_object_get(usage, "input_tokens"))) {
		u->input_tokens = count_of(usage, "input_tokens");
		u->output_tokens = count_of(usage, "output_tokens");
		u->cached_tokens = count_of(json_object_get(usage,
		    "input_tokens_details"), "cached_tokens");
		u->reasoning_tokens = count_of(json_object_get(usage,
		    "output_tokens_details"), "reasoning_tokens");
	} else if (json_is_integer(json_object_get(usage, "prompt_tokens"))) {
		u->input_tokens = count_of(usage, "prompt_tokens");
		u->output_tokens = count_of(usage, "completion_tokens");
		u->cached_tokens = count_of(json_object_get(usage,
		    "prompt_tokens_details"), "cached_tokens");
		u->reasoning_tokens = count_of(json_object_get(usage,
		    "completion_tokens_details"), "reasoning_tokens");
	} else
		return -1;
	u->reported = 1;
	return 0;
}

void
rl_oa_call_free(struct rl_oa_call *c)
{

	json_decref(c->answer);
	c->answer = NULL;
	free(c->raw);
	c->raw = NULL;
	c->rawlen = 0;
}

static void
copy_str(char *dst, size_t sz, const char *s)
{

	if (s != NULL)
		(void)snprintf(dst, sz, "%s", s);
}

/* Ids and finish of an answer or a streamed response object. */
static void
note_answer(struct rl_oa_call *c, const json_t *a)
{
	const json_t	*ch;

	copy_str(c->response_id, sizeof(c->response_id),
	    json_string_value(json_object_get(a, "id")));
	ch = json_array_get(json_object_get(a, "choices"), 0);
	if (ch != NULL)
		copy_str(c->finish, sizeof(c->finish),
		    json_string_value(json_object_get(ch, "finish_reason")));
	else if (json_is_string(json_object_get(a, "object")) &&
	    strcmp(json_string_value(json_object_get(a, "object")),
	    "response") == 0)
		copy_str(c->finish, sizeof(c->finish),
		    json_string_value(json_object_get(a, "status")));
}

/* The first error found in a body wins; later ones add nothing. */
static void
body_error(struct xfer *x, enum rl_err code, const char *fmt, const char *s)
{

	if (x->serr != RL_OK)
		return;
	x->serr = code;
	(void)snprintf(x->smsg, sizeof(x->smsg), fmt, s != NULL ? s : "");
}

/* An error object's message: {"error":{"message"}} or {"message"}. */
static const char *
error_message(const json_t *j)
{
	const json_t	*err;
	const char	*m;

	err = json_object_get(j, "error");
	if ((m = json_string_value(json_object_get(err, "message"))) != NULL)
		return m;
	if ((m = json_string_value(err)) != NULL)
		return m;
	return json_string_value(json_object_get(j, "message"));
}

static int
is_delta(enum rl_oa_ev k)
{

	return k == RL_OA_EV_TEXT || k == RL_OA_EV_REASONING ||
	    k == RL_OA_EV_TOOL_ARGS;
}

/* An event of the frame being read, nothing known of it yet. */
static void
event_init(struct rl_oa_event *ev, const struct xfer *x)
{

	memset(ev, 0, sizeof(*ev));
	ev->raw = x->frame->data;
	ev->rawlen = x->frame->datalen;
}

json_t *
rl_oa_event_json(const struct rl_oa_event *ev)
{

	if (ev->data != NULL)
		return json_incref(ev->data);
	return ev->raw == NULL ? NULL : json_loadb(ev->raw, ev->rawlen, 0,
	    NULL);
}

/* Hand one event to the caller; 1 when it asked to stop. */
static int
deliver(struct xfer *x, const struct rl_oa_event *ev)
{
	struct rl_oa_call	*c = x->call;

	if (is_delta(ev->kind)) {
		if (ev->deltalen > 0)
			x->deltas++;
		if (!x->ttft_set) {
			c->ttft_ms = (rl_now_us() - x->t0) / 1000;
			x->ttft_set = 1;
		}
	}
	c->started = 1;
	if (c->on_event == NULL || c->on_event(c->arg, ev) == 0)
		return 0;
	c->stopped = 1;
	return 1;
}

static void
set_delta(struct rl_oa_event *ev, const json_t *d)
{

	ev->delta = json_is_string(d) ? json_string_value(d) : "";
	ev->deltalen = json_is_string(d) ? json_string_length(d) : 0;
}

/* A Responses event, by its "type". */
static int
responses_event(struct xfer *x, json_t *j, const char *type)
{
	struct rl_oa_call	*c = x->call;
	struct rl_oa_event	 ev;
	json_t			*r;

	event_init(&ev, x);
	ev.type = type;
	ev.data = j;
	ev.index = (int)json_integer_value(json_object_get(j,
	    "output_index"));
	if (strcmp(type, "response.output_text.delta") == 0)
		ev.kind = RL_OA_EV_TEXT;
	else if (strcmp(type, "response.reasoning_summary_text.delta") == 0 ||
	    strcmp(type, "response.reasoning_text.delta") == 0)
		ev.kind = RL_OA_EV_REASONING;
	else if (strcmp(type, "response.function_call_arguments.delta") == 0)
		ev.kind = RL_OA_EV_TOOL_ARGS;
	else if (strcmp(type, "response.output_item.done") == 0)
		ev.kind = RL_OA_EV_ITEM_DONE;
	else if (strcmp(type, "response.completed") == 0 ||
	    strcmp(type, "response.incomplete") == 0 ||
	    strcmp(type, "response.failed") == 0)
		ev.kind = RL_OA_EV_DONE;
	else if (strcmp(type, "error") == 0)
		ev.kind = RL_OA_EV_ERROR;
	if (is_delta(ev.kind))
		set_delta(&ev, json_object_get(j, "delta"));

	r = json_object_get(j, "response");
	if (json_is_object(r))
		copy_str(c->response_id, sizeof(c->response_id),
		    json_string_value(json_object_get(r, "id")));
	if (ev.kind == RL_OA_EV_DONE && json_is_object(r)) {
		json_decref(c->answer);
		c->answer = json_incref(r);
		note_answer(c, r);
		x->done = 1;
		if (strcmp(type, "response.failed") == 0)
			body_error(x, RL_EUPSTREAM, "upstream response failed:"
			    " %s", error_message(r));
	} else if (ev.kind == RL_OA_EV_ERROR)
		body_error(x, RL_EUPSTREAM, "upstream error in stream: %s",
		    error_message(j));
	return deliver(x, &ev);
}

/* A chat.completion.chunk: one event per delta, DONE with usage. */
static int
chat_chunk(struct xfer *x, json_t *j)
{
	struct rl_oa_call	*c = x->call;
	struct rl_oa_event	 ev;
	json_t			*ch, *d, *tc, *v;
	size_t			 i, k;
	int			 n = 0, idx;

	copy_str(c->response_id, sizeof(c->response_id),
	    json_string_value(json_object_get(j, "id")));
	/* The answer of a chat stream is its last chunk. */
	json_decref(c->answer);
	c->answer = json_incref(j);
	event_init(&ev, x);
	ev.type = "chunk";
	ev.data = j;
	json_array_foreach(json_object_get(j, "choices"), i, ch) {
		v = json_object_get(ch, "index");
		idx = json_is_integer(v) ? (int)json_integer_value(v) : (int)i;
		ev.index = idx;
		if (idx == 0 && json_is_string(v = json_object_get(ch,
		    "finish_reason")))
			copy_str(c->finish, sizeof(c->finish),
			    json_string_value(v));
		d = json_object_get(ch, "delta");
		v = json_object_get(d, "content");
		if (json_is_string(v) && json_string_length(v) > 0) {
			ev.kind = RL_OA_EV_TEXT;
			set_delta(&ev, v);
			n++;
			if (deliver(x, &ev))
				return 1;
		}
		/* OpenAI-compatible servers stream reasoning this way. */
		v = json_object_get(d, "reasoning_content");
		if (json_is_string(v) && json_string_length(v) > 0) {
			ev.kind = RL_OA_EV_REASONING;
			set_delta(&ev, v);
			n++;
			if (deliver(x, &ev))
				return 1;
		}
		json_array_foreach(json_object_get(d, "tool_calls"), k, tc) {
			v = json_object_get(json_object_get(tc, "function"),
			    "arguments");
			if (!json_is_string(v) || json_string_length(v) == 0)
				continue;
			ev.kind = RL_OA_EV_TOOL_ARGS;
			set_delta(&ev, v);
			n++;
			if (deliver(x, &ev))
				return 1;
		}
	}
	ev.delta = NULL;
	ev.deltalen = 0;
	ev.index = 0;
	if (json_is_object(json_object_get(j, "usage"))) {
		x->done = 1;
		ev.kind = RL_OA_EV_DONE;
		return deliver(x, &ev);
	}
	if (n > 0)
		return 0;
	ev.kind = RL_OA_EV_OTHER;
	return deliver(x, &ev);
}

/*
 * A walk over the bytes of a frame not parsed (openai.h), to find one
 * member: each function returns where what it skips ends, or NULL when
 * it does not.  Nothing is checked; a frame that is not JSON may give a
 * wrong place, never a read past end.
 */

/* Past the string at p (at its opening quote). */
static const char *
skip_string(const char *p, const char *end)
{

	for (p++; p < end; p++)
		if (*p == '\\')
			p++;
		else if (*p == '"')
			return p + 1;
	return NULL;
}

static int
is_ws(char c)
{

	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static const char *
skip_ws(const char *p, const char *end)
{

	while (p < end && is_ws(*p))
		p++;
	return p;
}

/* Past the value at p: a string, an object or array, or a scalar. */
static const char *
skip_value(const char *p, const char *end)
{
	int	 depth = 0;

	while (p < end) {
		if (*p == '"') {
			if ((p = skip_string(p, end)) == NULL || depth == 0)
				return p;
			continue;
		}
		if (*p == '{' || *p == '[')
			depth++;
		else if (*p == '}' || *p == ']') {
			if (depth == 0)
				return p;
			if (--depth == 0)
				return p + 1;
		} else if (depth == 0 && (*p == ',' || is_ws(*p)))
			return p;
		p++;
	}
	return depth == 0 ? p : NULL;
}

/*
 * The value of member key (no escapes in it) of the object at p, or
 * NULL: the other members are skipped, not built.
 */
static const char *
member(const char *p, const char *end, const char *key)
{
	const char	*k;
	size_t		 klen = strlen(key);
	int		 match;

	p = skip_ws(p, end);
	if (p == end || *p++ != '{')
		return NULL;
	for (;;) {
		p = skip_ws(p, end);
		if (p == end || *p != '"')
			return NULL;
		k = p + 1;
		if ((p = skip_string(p, end)) == NULL)
			return NULL;
		match = (size_t)(p - 1 - k) == klen &&
		    memcmp(k, key, klen) == 0;
		p = skip_ws(p, end);
		if (p == end || *p != ':')
			return NULL;
		p = skip_ws(p + 1, end);
		if (match)
			return p;
		if ((p = skip_value(p, end)) == NULL)
			return NULL;
		p = skip_ws(p, end);
		if (p == end || *p != ',')
			return NULL;
		p++;
	}
}

/*
 * The response id of a copy (response.created...), read off its bytes
 * into the call's; -1 when it is not where it should be, or escaped: the
 * frame is parsed then, as any other.
 */
static int
copy_id(struct rl_oa_call *c, const struct rl_sse_frame *f)
{
	const char	*end = f->data + f->datalen, *v, *q;
	size_t		 n;

	if ((strcmp(f->event, "response.created") != 0 &&
	    strcmp(f->event, "response.in_progress") != 0 &&
	    strcmp(f->event, "response.queued") != 0) ||
	    (v = member(f->data, end, "response")) == NULL ||
	    (v = member(v, end, "id")) == NULL || v == end || *v != '"' ||
	    (q = skip_string(v, end)) == NULL)
		return -1;
	n = (size_t)(q - v) - 2;
	if (n >= sizeof(c->response_id) || memchr(v + 1, '\\', n) != NULL)
		return -1;
	memcpy(c->response_id, v + 1, n);
	c->response_id[n] = '\0';
	return 0;
}

static int
on_frame(void *arg, const struct rl_sse_frame *f)
{
	struct xfer		*x = arg;
	struct rl_oa_event	 ev;
	json_error_t		 je;
	json_t			*j;
	const char		*type;
	int			 rc;

	x->frame = f;
	event_init(&ev, x);
	if (copy_id(x->call, f) == 0) {
		ev.type = f->event;
		return deliver(x, &ev);
	}
	if (strcmp(f->data, "[DONE]") == 0) {
		if (x->done)
			return 0;
		x->done = 1;
		ev.kind = RL_OA_EV_DONE;
		ev.type = "[DONE]";
		ev.data = x->call->answer;
		return deliver(x, &ev);
	}
	j = json_loadb(f->data, f->datalen, 0, &je);
	if (!json_is_object(j)) {
		json_decref(j);
		body_error(x, RL_EUPSTREAM, "upstream sent an SSE frame that "
		    "is not a JSON object: %s", je.text);
		return 1;
	}
	type = json_string_value(json_object_get(j, "type"));
	if (json_is_array(json_object_get(j, "choices")))
		rc = chat_chunk(x, j);
	else if (type != NULL)
		rc = responses_event(x, j, type);
	else {
		ev.type = f->event;
		ev.data = j;
		if (json_object_get(j, "error") != NULL) {
			ev.kind = RL_OA_EV_ERROR;
			body_error(x, RL_EUPSTREAM, "upstream error in stream:"
			    " %s", error_message(j));
		}
		rc = deliver(x, &ev);
	}
	json_decref(j);
	return rc;
}

/* Is the answer an event stream?  Only a 2xx with that media type. */
static int
is_sse(CURL *h)
{
	long	 status = 0;
	char	*ct = NULL;

	(void)curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	(void)curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ct);
	return status >= 200 && status < 300 && ct != NULL &&
	    strncasecmp(ct, "text/event-stream", 17) == 0;
}

static size_t
on_write(char *p, size_t sz, size_t nm, void *arg)
{
	struct xfer	*x = arg;
	struct rl_error	 e;
	size_t		 n = sz * nm;
	enum rl_err	 rc;

	x->last = rl_now_us();
	if (x->mode == MODE_NONE) {
		x->mode = is_sse(x->h) ? MODE_SSE : MODE_BUF;
		if (x->mode == MODE_SSE &&
		    (x->sse = rl_sseparse_new(RL_OA_FRAME_MAX)) == NULL) {
			body_error(x, RL_ENOMEM, "out of memory%s", NULL);
			return 0;
		}
	}
	if (n > x->max - x->got) {
		x->toobig = 1;
		return 0;
	}
	x->got += n;
	if (x->mode == MODE_BUF) {
		if (rl_buf_add(&x->body, p, n) != RL_OK) {
			body_error(x, RL_ENOMEM, "out of memory%s", NULL);
			return 0;
		}
		return n;
	}
	rc = rl_sseparse_feed(x->sse, p, n, on_frame, x, &e);
	if (rc == RL_OK)
		return n;
	/* A stop from the callback or a bad frame set their own state. */
	if (rc != RL_EGONE)
		body_error(x, rc, "%s", e.msg);
	return 0;
}

/* The idle limit: no byte either way for idle_us aborts the transfer. */
static int
on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow,
    curl_off_t ultotal, curl_off_t ulnow)
{
	struct xfer	*x = arg;
	long long	 now = rl_now_us();

	if (dlnow != x->dl || ulnow != x->ul) {
		x->dl = dlnow;
		x->ul = ulnow;
		x->last = now;
		return 0;
	}
	if (now - x->last > x->idle_us) {
		x->idle = 1;
		return 1;
	}
	return 0;
}

static int
loopback(const char *host)
{
	struct in_addr	 a4;
	struct in6_addr	 a6;
	char		 tmp[INET6_ADDRSTRLEN + 1];
	size_t		 n = strlen(host);

	if (strcasecmp(host, "localhost") == 0)
		return 1;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (n > 2 && n - 2 < sizeof(tmp) && host[0] == '[' &&
	    host[n - 1] == ']') {
		memcpy(tmp, host + 1, n - 2);
		tmp[n - 2] = '\0';
		if (inet_pton(AF_INET6, tmp, &a6) == 1)
			return IN6_IS_ADDR_LOOPBACK(&a6);
	}
	return 0;
}

/*
 * https only; plain http is for a local stand-in (tests, a proxy on the
 * same host), where there is no wire to protect.
 */
static enum rl_err
check_url(struct req *rq, struct rl_error *e)
{
	CURLU		*u;
	char		*scheme = NULL, *host = NULL;
	enum rl_err	 err = RL_OK;

	if ((u = curl_url()) == NULL)
		return rl_error_set(e, RL_ENOMEM, "out of memory");
	if (curl_url_set(u, CURLUPART_URL, rq->url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		err = rl_error_set(e, RL_EINVAL, "malformed upstream URL");
		goto out;
	}
	if (strcasecmp(scheme, "https") == 0)
		rq->proto = "https";
	else if (strcasecmp(scheme, "http") == 0 && loopback(host))
		rq->proto = "http";
	else
		err = rl_error_set(e, RL_EINVAL, "refusing %s://%s: the "
		    "upstream must use https (http only to a loopback "
		    "address)", scheme, host);
out:
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return err;
}

/* A header value must not smuggle another header in. */
static int
header_ok(const char *s)
{

	return strpbrk(s, "\r\n") == NULL;
}

static enum rl_err
add_header(struct req *rq, const char *h, struct rl_error *e)
{
	struct curl_slist	*l;

	if ((l = curl_slist_append(rq->hdrs, h)) == NULL)
		return rl_error_set(e, RL_ENOMEM, "out of memory");
	rq->hdrs = l;
	return RL_OK;
}

static int
method_ok(const char *m)
{
	size_t	 i;

	for (i = 0; m[i] != '\0'; i++)
		if (m[i] < 'A' || m[i] > 'Z')
			return 0;
	return i > 0 && i <= 16;
}

/* Form fields are sent as text: strings as they are, scalars as JSON. */
static enum rl_err
check_form(const json_t *form, struct rl_error *e)
{
	const char	*k;
	json_t		*v;

	if (form == NULL)
		return RL_OK;
	if (!json_is_object(form))
		return rl_error_set(e, RL_EINVAL, "form must be an object");
	json_object_foreach((json_t *)(uintptr_t)form, k, v)
		if (json_is_object(v) || json_is_array(v) || json_is_null(v))
			return rl_error_set(e, RL_EINVAL, "form field %s is "
			    "not a string or a scalar", k);
	return RL_OK;
}

/* The body as sent: a stream asks for "stream" and, in chat, usage. */
static enum rl_err
build_body(const struct rl_oa_call *c, int chat, struct req *rq,
    struct rl_error *e)
{
	json_t		*copy = NULL, *so;
	enum rl_err	 err = RL_OK;

	if (!json_is_object(c->body) && !json_is_array(c->body))
		return rl_error_set(e, RL_EINVAL, "the body must be a JSON "
		    "object or array");
	if (c->on_event == NULL) {
		rq->body = json_dumps(c->body, JSON_COMPACT);
		goto out;
	}
	if (!json_is_object(c->body))
		return rl_error_set(e, RL_EINVAL, "a streamed call needs a "
		    "JSON object body");
	/*
	 * The caller's body stays untouched: a copy of its top level (and
	 * of stream_options, written too), the rest shared, not copied
	 * through (a chat turn's five tools were most of its body).
	 */
	if ((copy = json_copy((json_t *)(uintptr_t)c->body)) == NULL)
		goto out;
	if (json_object_set_new(copy, "stream", json_true()) == -1)
		goto out;
	if (chat) {
		so = json_object_get(copy, "stream_options");
		so = json_is_object(so) ? json_copy(so) : json_object();
		if (so == NULL)
			goto out;
		if (json_object_set_new(so, "include_usage", json_true()) ==
		    -1) {
			json_decref(so);
			goto out;
		}
		/* Taken even when it fails. */
		if (json_object_set_new(copy, "stream_options", so) == -1)
			goto out;
	}
	rq->body = json_dumps(copy, JSON_COMPACT);
out:
	json_decref(copy);
	if (err == RL_OK && rq->body == NULL)
		err = rl_error_set(e, RL_ENOMEM, "out of memory");
	if (rq->body != NULL)
		rq->bodylen = strlen(rq->body);
	return err;
}

/* Everything that does not change between attempts, checked up front. */
static enum rl_err
prepare(const struct rl_upstream *up, const struct rl_oa_call *c,
    struct req *rq, int *chat, struct rl_error *e)
{
	const char *const	*hp;
	struct stat		 st;
	const char		*base, *key;
	char			*auth = NULL;
	size_t			 bl, n;
	enum rl_err		 err;
	int			 payload;

	if (up == NULL || up->base_url == NULL || c->path == NULL ||
	    c->path[0] != '/')
		return rl_error_set(e, RL_EINVAL, "no upstream URL or path");
	base = up->base_url;
	bl = strlen(base);
	if (bl > 0 && base[bl - 1] == '/')
		bl--;
	n = bl + strlen(c->path) + 1;
	if (n > RL_URI_MAX)
		return rl_error_set(e, RL_EINVAL, "upstream URL too long");
	if ((rq->url = malloc(n)) == NULL)
		return rl_error_set(e, RL_ENOMEM, "out of memory");
	memcpy(rq->url, base, bl);
	memcpy(rq->url + bl, c->path, n - bl);	/* with its NUL */
	if ((err = check_url(rq, e)) != RL_OK)
		return err;
	*chat = strncmp(c->path, "/chat/completions", 17) == 0;

	key = up->api_key != NULL ? up->api_key : "";
	if (!header_ok(key))
		return rl_error_set(e, RL_EINVAL, "API key has a line break");
	for (hp = c->headers; hp != NULL && *hp != NULL; hp++)
		if (!header_ok(*hp) || strchr(*hp, ':') == NULL)
			return rl_error_set(e, RL_EINVAL, "malformed extra "
			    "header");
	if (c->body != NULL && (c->upload_path != NULL || c->form != NULL))
		return rl_error_set(e, RL_EINVAL, "a call has a JSON body or"
		    " a form, not both");
	if ((err = check_form(c->form, e)) != RL_OK)
		return err;
	if (c->upload_path != NULL && (stat(c->upload_path, &st) == -1 ||
	    !S_ISREG(st.st_mode)))
		return rl_error_set(e, RL_EIO, "cannot read %s",
		    c->upload_path);
	payload = c->body != NULL || c->upload_path != NULL ||
	    c->form != NULL;
	rq->method = c->method != NULL ? c->method :
	    payload ? "POST" : "GET";
	if (!method_ok(rq->method))
		return rl_error_set(e, RL_EINVAL, "bad method");
	if (payload && strcmp(rq->method, "GET") == 0)
		return rl_error_set(e, RL_EINVAL, "a GET has no body");
	rq->multipart = c->upload_path != NULL || c->form != NULL;
	if (c->body != NULL && (err = build_body(c, *chat, rq, e)) != RL_OK)
		return err;

	if (key[0] != '\0') {
		n = strlen(key) + 32;
		if ((auth = malloc(n)) == NULL)
			return rl_error_set(e, RL_ENOMEM, "out of memory");
		(void)snprintf(auth, n, "Authorization: Bearer %s", key);
		err = add_header(rq, auth, e);
		rl_wipe(auth, n);
		free(auth);
		if (err != RL_OK)
			return err;
	}
	if (rq->body != NULL &&
	    (err = add_header(rq, "Content-Type: application/json", e)) !=
	    RL_OK)
		return err;
	/* No 100-continue round trip before a body. */
	if ((err = add_header(rq, "Expect:", e)) != RL_OK)
		return err;
	for (hp = c->headers; hp != NULL && *hp != NULL; hp++)
		if ((err = add_header(rq, *hp, e)) != RL_OK)
			return err;

	rq->connect_ms = c->connect_timeout_ms > 0 ? c->connect_timeout_ms :
	    RL_OA_CONNECT_TIMEOUT_SEC * 1000L;
	rq->idle_ms = c->idle_timeout_ms > 0 ? c->idle_timeout_ms :
	    RL_OA_IDLE_TIMEOUT_SEC * 1000L;
	rq->total_ms = c->total_timeout_ms > 0 ? c->total_timeout_ms :
	    RL_OA_TOTAL_TIMEOUT_SEC * 1000L;
	rq->max_attempts = c->max_attempts > 0 &&
	    c->max_attempts < RL_OA_MAX_ATTEMPTS ? c->max_attempts :
	    RL_OA_MAX_ATTEMPTS;
	return RL_OK;
}

static void
req_free(struct req *rq)
{
	struct curl_slist	*l;

	/* The key was copied into the list: wipe it before freeing. */
	for (l = rq->hdrs; l != NULL; l = l->next)
		if (strncasecmp(l->data, "Authorization:", 14) == 0)
			rl_wipe(l->data, strlen(l->data));
	curl_slist_free_all(rq->hdrs);
	free(rq->url);
	free(rq->body);
}

static void
xfer_reset(struct xfer *x)
{

	rl_sseparse_free(x->sse);
	x->sse = NULL;
	rl_buf_free(&x->body);
	x->got = 0;
	x->mode = MODE_NONE;
	x->dl = x->ul = 0;
	x->toobig = x->idle = x->done = x->halted = 0;
	x->sent = 0;
	x->serr = RL_OK;
	x->smsg[0] = '\0';
	x->errbuf[0] = '\0';
}

static curl_mime *
build_mime(CURL *h, const struct rl_oa_call *c)
{
	curl_mime	*m;
	curl_mimepart	*p;
	const char	*k;
	json_t		*v;
	char		*s;
	int		 bad = 0;

	if ((m = curl_mime_init(h)) == NULL)
		return NULL;
	if (c->form != NULL)
		json_object_foreach((json_t *)(uintptr_t)c->form, k, v) {
			if ((p = curl_mime_addpart(m)) == NULL ||
			    curl_mime_name(p, k) != CURLE_OK) {
				bad = 1;
				break;
			}
			if (json_is_string(v))
				bad = curl_mime_data(p, json_string_value(v),
				    json_string_length(v)) != CURLE_OK;
			else if ((s = json_dumps(v, JSON_ENCODE_ANY)) ==
			    NULL)
				bad = 1;
			else {
				bad = curl_mime_data(p, s,
				    CURL_ZERO_TERMINATED) != CURLE_OK;
				free(s);
			}
			if (bad)
				break;
		}
	if (!bad && c->upload_path != NULL &&
	    ((p = curl_mime_addpart(m)) == NULL ||
	    curl_mime_name(p, "file") != CURLE_OK ||
	    curl_mime_filedata(p, c->upload_path) != CURLE_OK ||
	    (c->upload_name != NULL &&
	    curl_mime_filename(p, c->upload_name) != CURLE_OK)))
		bad = 1;
	if (bad) {
		curl_mime_free(m);
		return NULL;
	}
	return m;
}

#define SETOPT(h, o, v) do {						\
	if (cc == CURLE_OK)						\
		cc = curl_easy_setopt((h), (o), (v));			\
} while (0)

/* All options of one attempt on a freshly reset handle. */
static CURLcode
setup(CURL *h, const struct req *rq, struct xfer *x, curl_mime *mime,
    long left_ms)
{
	CURLcode	 cc = CURLE_OK;

	SETOPT(h, CURLOPT_URL, rq->url);
	SETOPT(h, CURLOPT_PROTOCOLS_STR, rq->proto);
	SETOPT(h, CURLOPT_NOSIGNAL, 1L);
	SETOPT(h, CURLOPT_ERRORBUFFER, x->errbuf);
	SETOPT(h, CURLOPT_USERAGENT, USER_AGENT);
	SETOPT(h, CURLOPT_HTTPHEADER, rq->hdrs);
	SETOPT(h, CURLOPT_CONNECTTIMEOUT_MS, rq->connect_ms);
	SETOPT(h, CURLOPT_TIMEOUT_MS, left_ms);
	SETOPT(h, CURLOPT_TCP_KEEPALIVE, 1L);
	SETOPT(h, CURLOPT_MAXAGE_CONN, (long)idle_sec);
	SETOPT(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)x->max);
	SETOPT(h, CURLOPT_WRITEFUNCTION, on_write);
	SETOPT(h, CURLOPT_WRITEDATA, x);
	SETOPT(h, CURLOPT_XFERINFOFUNCTION, on_progress);
	SETOPT(h, CURLOPT_XFERINFODATA, x);
	SETOPT(h, CURLOPT_NOPROGRESS, 0L);
	if (strcmp(rq->method, "GET") == 0)
		SETOPT(h, CURLOPT_HTTPGET, 1L);
	else {
		if (strcmp(rq->method, "POST") != 0)
			SETOPT(h, CURLOPT_CUSTOMREQUEST, rq->method);
		if (mime != NULL)
			SETOPT(h, CURLOPT_MIMEPOST, mime);
		else if (rq->body != NULL) {
			SETOPT(h, CURLOPT_POSTFIELDSIZE_LARGE,
			    (curl_off_t)rq->bodylen);
			SETOPT(h, CURLOPT_POSTFIELDS, rq->body);
		} else if (strcmp(rq->method, "POST") == 0) {
			SETOPT(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
			SETOPT(h, CURLOPT_POSTFIELDS, "");
		}
	}
	return cc;
}

/* A JSON media type: application/json or anything +json. */
static int
json_ctype(CURL *h)
{
	char	*ct = NULL;
	size_t	 n;

	if (curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ct) != CURLE_OK ||
	    ct == NULL)
		return 1;
	n = strcspn(ct, "; \t");
	return (n == 16 && strncasecmp(ct, "application/json", 16) == 0) ||
	    (n >= 5 && strncasecmp(ct + n - 5, "+json", 5) == 0);
}

/* A whole answer: JSON into answer, anything else into raw. */
static enum rl_err
take_body(struct xfer *x, int must_json, struct rl_error *e)
{
	struct rl_oa_call	*c = x->call;
	json_error_t		 je;

	if (rl_buf_len(&x->body) == 0)
		return RL_OK;
	if (json_ctype(x->h) && (c->answer = json_loadb(rl_buf_str(&x->body),
	    rl_buf_len(&x->body), 0, &je)) != NULL)
		return RL_OK;
	if (json_ctype(x->h) && must_json)
		return rl_error_set(e, RL_EUPSTREAM, "upstream answer is not "
		    "JSON: %s", je.text);
	if ((c->raw = rl_buf_take(&x->body, &c->rawlen)) == NULL)
		return rl_error_set(e, RL_ENOMEM, "out of memory");
	return RL_OK;
}

static int
retry_status(long s)
{

	return s == 429 || s == 500 || s == 502 || s == 503;
}

/*
 * What a finished transfer means.  *retry says whether another attempt
 * may help, *wait_ms how long the upstream asked us to wait (-1: our own
 * backoff).
 */
static enum rl_err
outcome(struct xfer *x, CURLcode cc, long long deadline, int *retry,
    long *wait_ms, struct rl_error *e)
{
	struct rl_oa_call	*c = x->call;
	const char		*m, *why;
	curl_off_t		 ra = 0;
	long			 sent = 0;
	enum rl_err		 err;

	why = x->errbuf[0] != '\0' ? x->errbuf : curl_easy_strerror(cc);
	if (x->halted)
		return rl_error_set(e, RL_EGONE, "the call was stopped (task "
		    "cancelled or client gone)");
	if (c->stopped)
		return rl_error_set(e, RL_EGONE, "the caller stopped the "
		    "stream");
	if (x->serr != RL_OK)
		return rl_error_set(e, x->serr, "%s", x->smsg);
	if (x->toobig || cc == CURLE_FILESIZE_EXCEEDED)
		return rl_error_set(e, RL_ETOOBIG, "upstream answer exceeds "
		    "%zu bytes", x->max);
	if (cc == CURLE_OPERATION_TIMEDOUT ||
	    (cc == CURLE_ABORTED_BY_CALLBACK && x->idle)) {
		(void)curl_easy_getinfo(x->h, CURLINFO_REQUEST_SIZE, &sent);
		/* Not connected yet and time left: a connect error. */
		if (sent == 0 && rl_now_us() < deadline) {
			*retry = 1;
			return rl_error_set(e, RL_EUPSTREAM, "cannot reach "
			    "the upstream: %s", why);
		}
		if (x->idle)
			return rl_error_set(e, RL_ETIMEOUT, "upstream silent "
			    "for %lld ms", x->idle_us / 1000);
		return rl_error_set(e, RL_ETIMEOUT, "upstream call timed "
		    "out: %s", why);
	}
	if (cc == CURLE_COULDNT_RESOLVE_HOST || cc == CURLE_COULDNT_CONNECT ||
	    cc == CURLE_SSL_CONNECT_ERROR) {
		*retry = 1;
		return rl_error_set(e, RL_EUPSTREAM, "cannot reach the "
		    "upstream: %s", why);
	}
	/* A connection dropped after the final event lost nothing. */
	if (cc != CURLE_OK && !(x->mode == MODE_SSE && x->done)) {
		if (c->started)
			return rl_error_set(e, RL_EUPSTREAM, "upstream stream "
			    "cut short: %s", why);
		return rl_error_set(e, RL_EUPSTREAM, "upstream transfer "
		    "failed: %s", why);
	}
	if (c->status < 200 || c->status >= 300) {
		if (retry_status(c->status)) {
			*retry = 1;
			(void)curl_easy_getinfo(x->h, CURLINFO_RETRY_AFTER,
			    &ra);
			if (ra > RL_OA_RETRY_AFTER_MAX_SEC)
				*retry = 0;
			else if (ra > 0)
				*wait_ms = (long)ra * 1000;
		}
		(void)take_body(x, 0, e);
		err = c->status == 429 ? RL_EUNAVAIL : RL_EUPSTREAM;
		if ((m = error_message(c->answer)) != NULL)
			return rl_error_set(e, err, "%s", m);
		return rl_error_set(e, err, "upstream answered HTTP %d",
		    c->status);
	}
	if (x->mode == MODE_SSE) {
		if (!x->done)
			return rl_error_set(e, RL_EUPSTREAM, "upstream stream "
			    "ended before its final event");
		return RL_OK;
	}
	if ((err = take_body(x, 1, e)) != RL_OK)
		return err;
	if (c->answer != NULL)
		note_answer(c, c->answer);
	return RL_OK;
}

/*
 * Run the transfer, testing the stops after every wait.  A stopped
 * transfer is taken off the multi handle at once, which closes its
 * connection; its result is CURLE_ABORTED_BY_CALLBACK, so the handles
 * are dropped too.
 */
static CURLcode
perform(struct xfer *x, CURLM *m)
{
	struct rl_oa_call	*c = x->call;
	CURLMsg			*msg;
	CURLcode		 cc = CURLE_OK;
	int			 running = 1, left;

	if (curl_multi_add_handle(m, x->h) != CURLM_OK)
		return CURLE_FAILED_INIT;
	attach(c->stop, m);
	attach(tl_stop, m);
	for (;;) {
		/* Raised before attach: its wake-up went nowhere. */
		if (halt(c)) {
			x->halted = c->stopped = 1;
			cc = CURLE_ABORTED_BY_CALLBACK;
			break;
		}
		if (curl_multi_perform(m, &running) != CURLM_OK) {
			cc = CURLE_FAILED_INIT;
			break;
		}
		if (running == 0) {
			cc = CURLE_FAILED_INIT;
			while ((msg = curl_multi_info_read(m, &left)) != NULL)
				if (msg->msg == CURLMSG_DONE &&
				    msg->easy_handle == x->h)
					cc = msg->data.result;
			break;
		}
		if (curl_multi_poll(m, NULL, 0, RL_OA_STOP_POLL_MS, NULL) !=
		    CURLM_OK) {
			cc = CURLE_FAILED_INIT;
			break;
		}
	}
	attach(tl_stop, NULL);
	attach(c->stop, NULL);
	(void)curl_easy_getinfo(x->h, CURLINFO_REQUEST_SIZE, &x->sent);
	(void)curl_multi_remove_handle(m, x->h);
	return cc;
}

/* One attempt: a transfer on the thread's handle, then its meaning. */
static enum rl_err
attempt(const struct req *rq, struct xfer *x, long long deadline,
    int *retry, long *wait_ms, struct rl_error *e)
{
	struct rl_oa_call	*c = x->call;
	struct curl_header	*hd;
	curl_mime		*mime = NULL;
	CURLcode		 cc;
	CURL			*h;
	long			 status = 0, left;
	enum rl_err		 err;

	*retry = 0;
	*wait_ms = -1;
	xfer_reset(x);
	rl_oa_call_free(c);
	c->status = 0;
	left = (long)((deadline - rl_now_us()) / 1000);
	if (left <= 0)
		return rl_error_set(e, RL_ETIMEOUT, "upstream call timed out");
	if ((x->h = h = handle()) == NULL)
		return rl_error_set(e, RL_ENOMEM, "curl_easy_init failed");
	if (rq->multipart && (mime = build_mime(h, c)) == NULL) {
		cc = CURLE_OUT_OF_MEMORY;
		err = rl_error_set(e, RL_ENOMEM, "cannot build the form");
		goto out;
	}
	if ((cc = setup(h, rq, x, mime, left)) != CURLE_OK) {
		err = rl_error_set(e, RL_EINTERNAL, "curl_easy_setopt: %s",
		    curl_easy_strerror(cc));
		goto out;
	}
	x->last = rl_now_us();
	cc = perform(x, tl_slot->m);
	(void)curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	c->status = (int)status;
	if (curl_easy_header(h, "x-request-id", 0, CURLH_HEADER, -1, &hd) ==
	    CURLHE_OK)
		copy_str(c->request_id, sizeof(c->request_id), hd->value);
	err = outcome(x, cc, deadline, retry, wait_ms, e);
out:
	curl_mime_free(mime);
	/* Never reuse a connection whose transfer did not end cleanly. */
	handle_done(cc != CURLE_OK);
	return err;
}

enum rl_err
rl_oa_call(const struct rl_upstream *up, struct rl_oa_call *c,
    struct rl_error *e)
{
	struct req	 rq;
	struct xfer	 x;
	enum rl_err	 err;
	long long	 deadline;
	long		 wait;
	int		 retry, chat = 0;

	memset(&rq, 0, sizeof(rq));
	memset(&x, 0, sizeof(x));
	x.t0 = rl_now_us();
	x.call = c;
	rl_oa_call_free(c);
	c->status = c->attempts = c->started = c->stopped = 0;
	memset(&c->usage, 0, sizeof(c->usage));
	c->request_id[0] = c->response_id[0] = c->finish[0] = '\0';
	c->latency_ms = c->latency_us = c->ttft_ms = 0;

	if ((err = rl_oa_init(e)) != RL_OK)
		goto out;
	if ((err = prepare(up, c, &rq, &chat, e)) != RL_OK)
		goto out;
	x.max = c->answer_max > 0 ? c->answer_max : RL_OA_ANSWER_MAX;
	/* on_write checks max first: the buffer's own cap never trips. */
	rl_buf_init(&x.body, x.max);
	x.idle_us = rq.idle_ms * 1000LL;
	deadline = x.t0 + rq.total_ms * 1000LL;
	/* Stopped already: nothing is sent, nothing to bill. */
	if (halt(c)) {
		c->stopped = 1;
		err = rl_error_set(e, RL_EGONE, "the call was stopped (task "
		    "cancelled or client gone)");
		goto out;
	}
	for (;;) {
		c->attempts++;
		err = attempt(&rq, &x, deadline, &retry, &wait, e);
		if (err == RL_OK || !retry || c->started ||
		    c->attempts >= rq.max_attempts)
			break;
		if (wait < 0)
			wait = backoff_ms(c->attempts);
		if (rl_now_us() + wait * 1000LL >= deadline)
			break;
		if (sleep_ms(c, wait)) {
			c->stopped = 1;
			err = rl_error_set(e, RL_EGONE, "the call was stopped "
			    "(task cancelled or client gone)");
			break;
		}
	}

	/*
	 * Usage: what the upstream reported, else (a stream cut short or
	 * without usage, a call stopped after its request left: the
	 * upstream works and bills from then on) our count: the request's
	 * estimate in, one token per delta out.
	 */
	if (c->status >= 200 && c->status < 300 && c->answer != NULL &&
	    rl_oa_usage_parse(c->answer, &c->usage) == 0)
		goto out;
	if (c->started || (x.halted && x.sent > 0)) {
		memset(&c->usage, 0, sizeof(c->usage));
		c->usage.input_tokens = rl_oa_tokens_estimate(c->body);
		c->usage.output_tokens = x.deltas;
	}
out:
	c->latency_us = rl_now_us() - x.t0;
	c->latency_ms = c->latency_us / 1000;
	xfer_reset(&x);
	req_free(&rq);
	return err;
}
