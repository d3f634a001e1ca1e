/*
 * fake-openai: a local stand-in for the OpenAI HTTP API.
 *
 *	fake-openai --listen 127.0.0.1:PORT [--ttft-ms N] [--chunk-ms N]
 *	    [--chunks N] [--batch-step-ms N]
 *
 * Command line, daemon set-up, request intake, faults and routing.
 * See docs/internals/fake-openai.md for what each endpoint answers.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "fake.h"

/*
 * Concurrent connections: a benchmark may hold a few thousand slow
 * streams; each costs one socket and a little memory, no thread.
 */
#define MAX_CONNECTIONS		4000
/* Event-loop threads: one per core of the 2-core dev/CI machines. */
#define POOL_THREADS		2
/* Idle keep-alive connections are dropped after this many seconds. */
#define IDLE_TIMEOUT_S		120
/* Distinct X-Fake-Fault-Key counters kept before the table is reset. */
#define MAX_FAULT_KEYS		10000
/* Pending accepts: a benchmark opens hundreds of connections at once. */
#define LISTEN_BACKLOG		1024
/* Largest count accepted in X-Fake-Fault-Count / X-Fake-Cached-Tokens. */
#define HEADER_NUM_MAX		1000000000L

struct config fake_config = {
	0,	/* ttft_ms */
	0,	/* chunk_ms */
	8,	/* chunks */
	500,	/* batch_step_ms */
	NULL,	/* api_key */
	NULL	/* name */
};

/* Distinct X-Fake-Tag counters kept before the table is reset. */
#define MAX_STAT_TAGS		10000
/* Answer ids kept per tag (a soak's worth); past it only counts grow. */
#define MAX_STAT_IDS		500000

static atomic_int	stopping;
static pthread_mutex_t	fault_lock = PTHREAD_MUTEX_INITIALIZER;
static json_t		*fault_counts;	/* key -> requests already faulted */

/*
 * What the generation routes answered, for tests that check every answer
 * was billed once: totals, and per X-Fake-Tag the same counts plus the
 * ids of the answers delivered whole.  "answered" is a normal answer
 * (usage included) whose last byte was handed to the client; "cut" one
 * that started but was not delivered whole (reset-mid-stream, a client
 * that hung up); "requests" every POST, faults and retries included.
 */
static pthread_mutex_t	stats_lock = PTHREAD_MUTEX_INITIALIZER;
static json_t		*stats_tags;	/* tag -> {requests, answered, ...} */
static long		 stats_requests, stats_answered, stats_cut;
/*
 * The body of the last generation request (GET /_fake/last): what a
 * program in front of the fake sent, so a benchmark can send the same
 * request directly and compare.
 */
static char		*last_body;
static size_t		 last_len;

static const char *const model_ids[] = {
	"gpt-4o", "gpt-4o-mini", "gpt-4.1", "gpt-4.1-mini", "gpt-4.1-nano",
	"gpt-5", "gpt-5-mini", "o3", "o3-mini", "o4-mini", "whisper-1",
	"gpt-4o-transcribe", "gpt-4o-mini-transcribe", NULL
};

static void
usage(void)
{
	fprintf(stderr, "usage: fake-openai --listen 127.0.0.1:PORT "
	    "[--ttft-ms N] [--chunk-ms N] [--chunks N] "
	    "[--batch-step-ms N] [--api-key KEY] [--name NAME]\n");
	exit(2);
}

int
fake_stopping(void)
{
	return atomic_load(&stopping);
}

const char *
req_header(struct req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *
req_query(struct req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND,
	    name);
}

/*
 * The in-body knobs: "[[X-Fake-Name: value; X-Fake-Other: value]]"
 * anywhere in the request body (a prompt, a file name...), read once into
 * r->directives.  A program between the test and the fake (relais) sends
 * its own headers, not the test's, but it forwards the prompt: so a test
 * drives the fake through text it controls.  The bytes are read raw: the
 * directive must hold nothing JSON would escape (letters, digits, "-",
 * ":", ";", ".", spaces).
 */
static void
scan_directives(struct req *r)
{
	const char *p, *end, *seg, *colon, *stop;
	char name[64], val[DIRECTIVE_VALUE_MAX];
	size_t nl, vl;

	r->directives_read = 1;
	if (r->body == NULL ||
	    (p = memmem(r->body, r->len, "[[X-Fake-", 9)) == NULL)
		return;
	p += 2;
	end = memmem(p, r->len - (size_t)(p - r->body), "]]", 2);
	if (end == NULL || (size_t)(end - p) > DIRECTIVE_MAX)
		return;
	r->directives = json_object();
	for (seg = p; seg < end; seg = stop + 1) {
		if ((stop = memchr(seg, ';', (size_t)(end - seg))) == NULL)
			stop = end;
		while (seg < stop && *seg == ' ')
			seg++;
		if ((colon = memchr(seg, ':', (size_t)(stop - seg))) == NULL)
			continue;
		nl = (size_t)(colon - seg);
		for (colon++; colon < stop && *colon == ' '; colon++)
			continue;
		vl = (size_t)(stop - colon);
		while (vl > 0 && colon[vl - 1] == ' ')
			vl--;
		if (nl == 0 || nl >= sizeof(name) || vl >= sizeof(val))
			continue;
		memcpy(name, seg, nl);
		name[nl] = '\0';
		memcpy(val, colon, vl);
		val[vl] = '\0';
		json_object_set_new(r->directives, name, json_string(val));
	}
}

/* An X-Fake-* knob: the request header, else the in-body directive. */
static const char *
knob(struct req *r, const char *name)
{
	const char *v, *k;
	json_t *jv;

	if ((v = req_header(r, name)) != NULL)
		return v;
	if (!r->directives_read)
		scan_directives(r);
	json_object_foreach(r->directives, k, jv)
		if (strcasecmp(k, name) == 0)
			return json_string_value(jv);
	return NULL;
}

static long
parse_long(const char *s, long def, long min, long max)
{
	char *end;
	long v;

	if (s == NULL || *s == '\0')
		return def;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return def;
	if (v < min)
		return min;
	if (v > max)
		return max;
	return v;
}

static void
add_common_headers(struct req *r, struct MHD_Response *resp)
{
	MHD_add_response_header(resp, "x-request-id", r->request_id);
	MHD_add_response_header(resp, "openai-processing-ms", "1");
	MHD_add_response_header(resp, "openai-version", "2020-10-01");
}

/*
 * Queue a reply, or, when the request asked for a delay, park it and
 * suspend the connection; on_request() queues it once resumed.
 */
static enum MHD_Result
queue(struct req *r, unsigned int status, struct MHD_Response *resp)
{
	enum MHD_Result ret;
	long long due;

	add_common_headers(r, resp);
	if (r->delay_ms > 0 && !fake_stopping()) {
		r->pending = resp;
		r->pending_status = status;
		due = mono_ms() + r->delay_ms;
		r->delay_ms = 0;
		MHD_suspend_connection(r->conn);
		waker_add(r->conn, due, -1);
		return MHD_YES;
	}
	ret = MHD_queue_response(r->conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* Queue a raw body; takes ownership of data (malloc'd). */
enum MHD_Result
reply_raw(struct req *r, unsigned int status, const char *ctype, char *data,
    size_t len)
{
	struct MHD_Response *resp;

	resp = MHD_create_response_from_buffer(len, data,
	    MHD_RESPMEM_MUST_FREE);
	if (resp == NULL) {
		free(data);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	return queue(r, status, resp);
}

/* Queue a JSON body; takes ownership of obj. */
enum MHD_Result
reply_json(struct req *r, unsigned int status, json_t *obj)
{
	char *s;

	s = dump_compact(obj);
	json_decref(obj);
	return reply_raw(r, status, "application/json", s, strlen(s));
}

/* OpenAI's error shape: {"error":{"message","type","param","code"}}. */
enum MHD_Result
reply_error(struct req *r, unsigned int status, const char *type,
    const char *msg, const char *param, const char *code)
{
	json_t *e;

	e = json_pack("{s:{s:s,s:s,s:o,s:o}}", "error",
	    "message", msg, "type", type,
	    "param", param ? json_string(param) : json_null(),
	    "code", code ? json_string(code) : json_null());
	return reply_json(r, status, e);
}

/* Queue a stream; takes ownership of s. */
enum MHD_Result
reply_stream(struct req *r, struct stream *s)
{
	struct MHD_Response *resp;

	stream_attach(s, r->conn);
	/* A small block keeps every delta in its own chunk on the wire. */
	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024,
	    stream_read, s, stream_free);
	if (resp == NULL) {
		stream_free(s);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	    stream_ctype(s));
	if (strncmp(stream_ctype(s), "text/event-stream", 17) == 0)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
		    "no-cache");
	return queue(r, MHD_HTTP_OK, resp);
}

/* The "garbage" fault: a 200 whose body is neither JSON nor SSE. */
enum MHD_Result
reply_garbage(struct req *r, int streaming)
{
	static const char garbage[] =
	    "<html><body>502 Bad Gateway \x01\x02 {\"not\": json";
	struct stream *s;

	if (streaming) {
		s = stream_new("text/event-stream; charset=utf-8");
		stream_add_str(s, 0, 1, "data: {\"id\":\"chatcmpl-garb\","
		    "\"object\":\n\n");
		stream_add_str(s, 0, 1, "data: \x01\x02 <html>garbage</html>"
		    "\n\n");
		stream_add_str(s, 0, 0, "event: ???\ndata: {{{{\n\n");
		return reply_stream(r, s);
	}
	return reply_raw(r, MHD_HTTP_OK, "application/json", xstrdup(garbage),
	    sizeof(garbage) - 1);
}

static enum fault
parse_fault(const char *s)
{
	if (s == NULL)
		return FAULT_NONE;
	if (strcmp(s, "429") == 0)
		return FAULT_429;
	if (strcmp(s, "500") == 0)
		return FAULT_500;
	if (strcmp(s, "503") == 0)
		return FAULT_503;
	if (strcmp(s, "timeout") == 0)
		return FAULT_TIMEOUT;
	if (strcmp(s, "reset-mid-stream") == 0)
		return FAULT_RESET;
	if (strcmp(s, "garbage") == 0)
		return FAULT_GARBAGE;
	if (strcmp(s, "invalid-json") == 0)
		return FAULT_INVALID_JSON;
	if (strcmp(s, "schema-invalid") == 0)
		return FAULT_SCHEMA_INVALID;
	if (strcmp(s, "refusal") == 0)
		return FAULT_REFUSAL;
	if (strcmp(s, "incomplete") == 0)
		return FAULT_INCOMPLETE;
	return FAULT_NONE;
}

/*
 * X-Fake-Fault-Count: N limits the fault to the first N requests that
 * carry the same X-Fake-Fault-Key, so a client's retry can succeed.
 */
static int
fault_applies(struct req *r)
{
	const char *cs, *key;
	json_t *v;
	long limit, seen;

	if ((cs = knob(r, "X-Fake-Fault-Count")) == NULL)
		return 1;
	limit = parse_long(cs, 1, 0, HEADER_NUM_MAX);
	if ((key = knob(r, "X-Fake-Fault-Key")) == NULL)
		key = "";
	pthread_mutex_lock(&fault_lock);
	if (json_object_size(fault_counts) >= MAX_FAULT_KEYS)
		json_object_clear(fault_counts);
	v = json_object_get(fault_counts, key);
	seen = v ? (long)json_integer_value(v) : 0;
	json_object_set_new(fault_counts, key, json_integer(seen + 1));
	pthread_mutex_unlock(&fault_lock);
	return seen < limit;
}

static void
read_knobs(struct req *r)
{
	struct knobs *k = &r->k;
	const char *v;

	k->ttft_ms = parse_long(knob(r, "X-Fake-TTFT-Ms"),
	    fake_config.ttft_ms, 0, MAX_DELAY_MS);
	k->chunk_ms = parse_long(knob(r, "X-Fake-Chunk-Ms"),
	    fake_config.chunk_ms, 0, MAX_DELAY_MS);
	k->chunks = parse_long(knob(r, "X-Fake-Chunks"),
	    fake_config.chunks, 1, MAX_CHUNKS);
	k->batch_step_ms = parse_long(knob(r, "X-Fake-Batch-Step-Ms"),
	    fake_config.batch_step_ms, 0, MAX_DELAY_MS);
	k->cached_tokens = parse_long(knob(r, "X-Fake-Cached-Tokens"),
	    0, 0, HEADER_NUM_MAX);
	k->tools_off = (v = knob(r, "X-Fake-Tools")) != NULL &&
	    strcmp(v, "off") == 0;
	k->fault = parse_fault(knob(r, "X-Fake-Fault"));
	if (k->fault != FAULT_NONE && !fault_applies(r))
		k->fault = FAULT_NONE;
}

/*
 * The "timeout" fault: accept the request and never answer.  The
 * connection stays suspended until the client hangs up, the cap expires
 * or we shut down; then on_request() closes it.
 */
static enum MHD_Result
hold(struct req *r)
{
	const union MHD_ConnectionInfo *ci;

	if (fake_stopping())
		return MHD_NO;
	ci = MHD_get_connection_info(r->conn,
	    MHD_CONNECTION_INFO_CONNECTION_FD);
	r->held = 1;
	MHD_suspend_connection(r->conn);
	waker_add(r->conn, mono_ms() + TIMEOUT_FAULT_CAP_MS,
	    ci != NULL ? ci->connect_fd : -1);
	return MHD_YES;
}

static enum MHD_Result
fault_reply(struct req *r)
{
	struct MHD_Response *resp;
	const char *ra;
	char *body;

	switch (r->k.fault) {
	case FAULT_429:
		body = xstrdup("{\"error\":{\"message\":\"Rate limit reached "
		    "for requests (fake-openai X-Fake-Fault: 429).\","
		    "\"type\":\"requests\",\"param\":null,"
		    "\"code\":\"rate_limit_exceeded\"}}");
		resp = MHD_create_response_from_buffer(strlen(body), body,
		    MHD_RESPMEM_MUST_FREE);
		if (resp == NULL) {
			free(body);
			return MHD_NO;
		}
		if ((ra = knob(r, "X-Fake-Retry-After")) == NULL)
			ra = "1";
		MHD_add_response_header(resp, "Retry-After", ra);
		MHD_add_response_header(resp, "x-ratelimit-limit-requests",
		    "60");
		MHD_add_response_header(resp,
		    "x-ratelimit-remaining-requests", "0");
		MHD_add_response_header(resp, "x-ratelimit-reset-requests",
		    "1s");
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
		    "application/json");
		return queue(r, 429, resp);
	case FAULT_500:
		return reply_error(r, 500, "server_error", "The server had an "
		    "error while processing your request. Sorry about that! "
		    "(fake-openai X-Fake-Fault: 500)", NULL, NULL);
	case FAULT_503:
		return reply_error(r, 503, "server_error", "The engine is "
		    "currently overloaded, please try again later. "
		    "(fake-openai X-Fake-Fault: 503)", NULL,
		    "engine_overloaded");
	case FAULT_TIMEOUT:
		return hold(r);
	default:
		return MHD_NO;
	}
}

/*
 * "reset-mid-stream" on an answer that does not stream: the first half
 * of the body, then the connection is cut.  Takes ownership of full.
 */
enum MHD_Result
reply_truncated(struct req *r, char *full)
{
	struct stream *s;
	size_t len;

	len = strlen(full);
	s = stream_new("application/json");
	stream_add(s, 0, 1, full, len / 2 > 0 ? len / 2 : len);
	stream_cut_after_deltas(s, 1);
	return reply_stream(r, s);
}

static json_t *
model_object(const char *id)
{
	return json_pack("{s:s,s:s,s:i,s:s}", "id", id, "object", "model",
	    "created", 1700000000, "owned_by", "system");
}

static enum MHD_Result
handle_models(struct req *r, const char *id)
{
	json_t *data;
	int i;

	if (id == NULL) {
		data = json_array();
		for (i = 0; model_ids[i] != NULL; i++)
			json_array_append_new(data,
			    model_object(model_ids[i]));
		return reply_json(r, MHD_HTTP_OK, json_pack("{s:s,s:o}",
		    "object", "list", "data", data));
	}
	for (i = 0; model_ids[i] != NULL; i++)
		if (strcmp(model_ids[i], id) == 0)
			return reply_json(r, MHD_HTTP_OK, model_object(id));
	return reply_error(r, MHD_HTTP_NOT_FOUND, "invalid_request_error",
	    "The model does not exist or you do not have access to it.",
	    NULL, "model_not_found");
}

/*
 * If path is prefix + one segment (+ optional suffix), copy the segment.
 * "/v1/files/" + "file-1" + "/content" for instance.
 */
static int
match_id(const char *path, const char *prefix, const char *suffix,
    char *id, size_t idsz)
{
	size_t pl, il;
	const char *p, *slash;

	pl = strlen(prefix);
	if (strncmp(path, prefix, pl) != 0)
		return 0;
	p = path + pl;
	slash = strchr(p, '/');
	if (suffix == NULL) {
		if (slash != NULL)
			return 0;
		il = strlen(p);
	} else {
		if (slash == NULL || strcmp(slash, suffix) != 0)
			return 0;
		il = (size_t)(slash - p);
	}
	if (il == 0 || il >= idsz)
		return 0;
	memcpy(id, p, il);
	id[il] = '\0';
	return 1;
}

static enum MHD_Result
not_found(struct req *r, const char *method, const char *url)
{
	char msg[512];

	snprintf(msg, sizeof(msg), "Invalid URL (%s %.400s)", method, url);
	return reply_error(r, MHD_HTTP_NOT_FOUND, "invalid_request_error",
	    msg, NULL, NULL);
}

static enum MHD_Result
bad_json(struct req *r)
{
	return reply_error(r, MHD_HTTP_BAD_REQUEST, "invalid_request_error",
	    "We could not parse the JSON body of your request. (HINT: This "
	    "likely means you aren't using your HTTP library correctly. The "
	    "OpenAI API expects a JSON payload, but what was sent was not "
	    "valid JSON.)", NULL, NULL);
}

/* Endpoints whose body is JSON and that generate model output. */
static enum MHD_Result
dispatch_json(struct req *r, const char *url)
{
	enum MHD_Result ret;
	json_t *body;

	body = json_loadb(r->body ? r->body : "", r->len, 0, NULL);
	if (!json_is_object(body)) {
		json_decref(body);
		return bad_json(r);
	}
	if (r->k.fault == FAULT_GARBAGE) {
		ret = reply_garbage(r,
		    json_is_true(json_object_get(body, "stream")));
		json_decref(body);
		return ret;
	}
	if (strcmp(url, "/v1/chat/completions") == 0)
		ret = handle_chat(r, body);
	else if (strcmp(url, "/v1/responses") == 0)
		ret = handle_responses_create(r, body);
	else if (r->k.fault == FAULT_RESET)
		ret = reply_truncated(r, xstrdup("{\"id\":\"batch_0\","
		    "\"object\":\"batch\"}"));
	else
		ret = handle_batches_create(r, body);
	json_decref(body);
	return ret;
}

static void
stat_add(json_t *o, const char *k)
{
	json_object_set_new(o, k, json_integer(json_integer_value(
	    json_object_get(o, k)) + 1));
}

/* A finished request of a generation route, into the counters. */
static void
stats_count(struct req *r, enum MHD_RequestTerminationCode toe)
{
	json_t *t = NULL, *ids;
	int answered, cut;

	answered = r->answer_id[0] != '\0' && !r->peer_gone &&
	    toe == MHD_REQUEST_TERMINATED_COMPLETED_OK;
	cut = r->answer_id[0] != '\0' && !answered;
	pthread_mutex_lock(&stats_lock);
	stats_requests++;
	stats_answered += answered;
	stats_cut += cut;
	if (r->tag[0] != '\0') {
		if (json_object_size(stats_tags) >= MAX_STAT_TAGS)
			json_object_clear(stats_tags);
		if ((t = json_object_get(stats_tags, r->tag)) == NULL) {
			t = json_pack("{s:i,s:i,s:i,s:[]}", "requests", 0,
			    "answered", 0, "cut", 0, "ids");
			json_object_set_new(stats_tags, r->tag, t);
		}
		stat_add(t, "requests");
		if (answered) {
			stat_add(t, "answered");
			ids = json_object_get(t, "ids");
			if (json_array_size(ids) < MAX_STAT_IDS)
				json_array_append_new(ids,
				    json_string(r->answer_id));
		}
		if (cut)
			stat_add(t, "cut");
	}
	pthread_mutex_unlock(&stats_lock);
}

/* GET /_fake/stats[?tag=T]: the counters, as JSON. */
static enum MHD_Result
handle_stats(struct req *r)
{
	const char *tag;
	json_t *o, *t;

	tag = req_query(r, "tag");
	pthread_mutex_lock(&stats_lock);
	if (tag != NULL) {
		t = json_object_get(stats_tags, tag);
		o = t != NULL ? json_deep_copy(t) : json_pack("{s:i,s:i,s:i,"
		    "s:[]}", "requests", 0, "answered", 0, "cut", 0, "ids");
		json_object_set_new(o, "tag", json_string(tag));
	} else
		o = json_pack("{s:I,s:I,s:I}", "requests",
		    (json_int_t)stats_requests, "answered",
		    (json_int_t)stats_answered, "cut", (json_int_t)stats_cut);
	pthread_mutex_unlock(&stats_lock);
	return reply_json(r, MHD_HTTP_OK, o);
}

static void
keep_last(const struct req *r)
{
	char *copy;

	if ((copy = malloc(r->len + 1)) == NULL)
		return;
	if (r->len > 0)
		memcpy(copy, r->body, r->len);
	copy[r->len] = '\0';
	pthread_mutex_lock(&stats_lock);
	free(last_body);
	last_body = copy;
	last_len = r->len;
	pthread_mutex_unlock(&stats_lock);
}

static enum MHD_Result
handle_last(struct req *r)
{
	char *copy;
	size_t len;

	pthread_mutex_lock(&stats_lock);
	if (last_body == NULL) {
		copy = xstrdup("null");
		len = 4;
	} else if ((copy = malloc(last_len + 1)) != NULL) {
		/* The bytes as they came, a NUL inside included. */
		memcpy(copy, last_body, last_len + 1);
		len = last_len;
	}
	pthread_mutex_unlock(&stats_lock);
	if (copy == NULL)
		return reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "server_error", "out of memory", NULL, NULL);
	return reply_raw(r, MHD_HTTP_OK, "application/json", copy, len);
}

static enum MHD_Result
dispatch(struct req *r, const char *url, const char *method)
{
	const char *auth;
	char id[256];
	int get, post, del;

	make_id(r->request_id, sizeof(r->request_id), "req_");
	if (r->too_large)
		return reply_error(r, MHD_HTTP_CONTENT_TOO_LARGE,
		    "invalid_request_error", "Request body too large for "
		    "fake-openai.", NULL, NULL);
	auth = req_header(r, MHD_HTTP_HEADER_AUTHORIZATION);
	if (auth != NULL && strcmp(auth, "Bearer reject-me") == 0)
		return reply_error(r, MHD_HTTP_UNAUTHORIZED,
		    "invalid_request_error", "Incorrect API key provided: "
		    "reject-me. You can find your API key at "
		    "https://platform.openai.com/account/api-keys.", NULL,
		    "invalid_api_key");
	/* Two fakes as two providers: each takes its own key only. */
	if (fake_config.api_key != NULL && strncmp(url, "/v1/", 4) == 0 &&
	    (auth == NULL || strncmp(auth, "Bearer ", 7) != 0 ||
	    strcmp(auth + 7, fake_config.api_key) != 0))
		return reply_error(r, MHD_HTTP_UNAUTHORIZED,
		    "invalid_request_error", "Incorrect API key provided. "
		    "You can find your API key at "
		    "https://platform.openai.com/account/api-keys.", NULL,
		    "invalid_api_key");
	if (strcmp(url, "/health") == 0)
		return reply_raw(r, MHD_HTTP_OK, "text/plain", xstrdup("ok\n"),
		    3);
	if (strcmp(url, "/_fake/stats") == 0 && strcmp(method, "GET") == 0)
		return handle_stats(r);
	if (strcmp(url, "/_fake/audio") == 0 && strcmp(method, "GET") == 0)
		return handle_audio_stats(r);
	if (strcmp(url, "/_fake/last") == 0 && strcmp(method, "GET") == 0)
		return handle_last(r);
	read_knobs(r);
	if (strcmp(method, "POST") == 0 &&
	    (strcmp(url, "/v1/chat/completions") == 0 ||
	    strcmp(url, "/v1/responses") == 0)) {
		r->billable = 1;
		keep_last(r);
		snprintf(r->tag, sizeof(r->tag), "%s",
		    knob(r, "X-Fake-Tag") != NULL ? knob(r, "X-Fake-Tag") :
		    "");
	}
	switch (r->k.fault) {
	case FAULT_429:
	case FAULT_500:
	case FAULT_503:
	case FAULT_TIMEOUT:
		return fault_reply(r);
	default:
		break;
	}

	get = strcmp(method, "GET") == 0;
	post = strcmp(method, "POST") == 0;
	del = strcmp(method, "DELETE") == 0;
	if (post && (strcmp(url, "/v1/chat/completions") == 0 ||
	    strcmp(url, "/v1/responses") == 0 ||
	    strcmp(url, "/v1/batches") == 0))
		return dispatch_json(r, url);

	/* The remaining endpoints do not stream or generate text. */
	if (r->k.fault == FAULT_GARBAGE)
		return reply_garbage(r, 0);
	if (r->k.fault == FAULT_RESET)
		return reply_truncated(r, xstrdup("{\"object\":\"list\","
		    "\"data\":[{\"id\":\"file-0\"}]}"));

	if (get && strcmp(url, "/v1/models") == 0)
		return handle_models(r, NULL);
	if (get && match_id(url, "/v1/models/", NULL, id, sizeof(id)))
		return handle_models(r, id);
	if (get && match_id(url, "/v1/responses/", NULL, id, sizeof(id)))
		return handle_responses_get(r, id);
	if (del && match_id(url, "/v1/responses/", NULL, id, sizeof(id)))
		return handle_responses_delete(r, id);
	if (post && strcmp(url, "/v1/files") == 0)
		return handle_files_upload(r);
	if (get && strcmp(url, "/v1/files") == 0)
		return handle_files_list(r);
	if (get && match_id(url, "/v1/files/", NULL, id, sizeof(id)))
		return handle_files_get(r, id);
	if (get && match_id(url, "/v1/files/", "/content", id, sizeof(id)))
		return handle_files_content(r, id);
	if (del && match_id(url, "/v1/files/", NULL, id, sizeof(id)))
		return handle_files_delete(r, id);
	if (get && strcmp(url, "/v1/batches") == 0)
		return handle_batches_list(r);
	if (get && match_id(url, "/v1/batches/", NULL, id, sizeof(id)))
		return handle_batches_get(r, id);
	if (post && match_id(url, "/v1/batches/", "/cancel", id, sizeof(id)))
		return handle_batches_cancel(r, id);
	if (post && strcmp(url, "/v1/audio/transcriptions") == 0)
		return handle_transcription(r);
	if (post && strcmp(url, "/v1/realtime/calls") == 0)
		return handle_realtime_call(r);
	return not_found(r, method, url);
}

/* Has the client closed its side (FIN, reset)?  Never blocks. */
int
peer_hung_up(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci;
	struct pollfd pfd;

	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (ci == NULL)
		return 0;
	pfd.fd = ci->connect_fd;
	pfd.events = POLLRDHUP;
	pfd.revents = 0;
	return poll(&pfd, 1, 0) == 1 &&
	    (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **ctx)
{
	struct req *r = *ctx;
	enum MHD_Result ret;
	size_t need, ncap;
	char *nb;

	(void)cls;
	(void)version;
	if (r != NULL && r->held)
		return MHD_NO;	/* closes the connection without a reply */
	if (r != NULL && r->pending != NULL) {
		/*
		 * Resumed after a delay: the reply is ready.  A client that
		 * died meanwhile (its FIN is here) would still see the write
		 * succeed, the kernel taking the bytes: that answer is cut,
		 * not delivered, for the counters.
		 */
		if (r->billable && peer_hung_up(conn))
			r->peer_gone = 1;
		ret = MHD_queue_response(conn, r->pending_status, r->pending);
		MHD_destroy_response(r->pending);
		r->pending = NULL;
		return ret;
	}
	if (r == NULL) {
		if ((r = calloc(1, sizeof(*r))) == NULL)
			return MHD_NO;
		r->conn = conn;
		*ctx = r;
		return MHD_YES;
	}
	if (*upload_size > 0) {
		need = r->len + *upload_size;
		if (r->too_large || need > (size_t)MAX_BODY_BYTES) {
			/* Keep reading so we can answer 413 cleanly. */
			r->too_large = 1;
			*upload_size = 0;
			return MHD_YES;
		}
		if (need + 1 > r->cap) {
			ncap = r->cap ? r->cap : 4096;
			while (ncap < need + 1)
				ncap *= 2;
			if ((nb = realloc(r->body, ncap)) == NULL)
				return MHD_NO;
			r->body = nb;
			r->cap = ncap;
		}
		memcpy(r->body + r->len, upload, *upload_size);
		r->len = need;
		r->body[r->len] = '\0';
		*upload_size = 0;
		return MHD_YES;
	}
	return dispatch(r, url, method);
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **ctx,
    enum MHD_RequestTerminationCode toe)
{
	struct req *r = *ctx;

	(void)cls;
	(void)conn;
	if (r == NULL)
		return;
	if (r->billable)
		stats_count(r, toe);
	if (r->pending != NULL)
		MHD_destroy_response(r->pending);
	free(r->body);
	json_decref(r->directives);
	free(r);
	*ctx = NULL;
}

/*
 * MHD's error log, minus the lines it prints when a connection ends on
 * purpose: "reset-mid-stream" ends a stream with an error, "timeout"
 * rejects the request, and clients hang up mid-stream (cancellation
 * tests, the end of a benchmark).  Those are not failures of the fake.
 */
static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	char buf[1024];

	(void)cls;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	if (strstr(buf, "application error generating response") != NULL ||
	    strstr(buf, "Application reported internal error") != NULL ||
	    strstr(buf, "forcibly closed by remote peer") != NULL ||
	    strstr(buf, "no longer available for sending") != NULL)
		return;
	fputs(buf, stderr);
}

static long
flag_value(const char *name, const char *v)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (errno != 0 || *end != '\0' || n < 0 || n > MAX_DELAY_MS) {
		fprintf(stderr, "fake-openai: bad value for %s: %s\n", name,
		    v);
		exit(2);
	}
	return n;
}

/* Only loopback: the fake must never be reachable from elsewhere. */
static int
parse_listen(const char *arg, struct sockaddr_in *sin)
{
	const char *colon;
	char host[64];
	char *end;
	long port;
	size_t hl;

	if ((colon = strrchr(arg, ':')) == NULL)
		return -1;
	hl = (size_t)(colon - arg);
	if (hl == 0 || hl >= sizeof(host))
		return -1;
	memcpy(host, arg, hl);
	host[hl] = '\0';
	if (strcmp(host, "127.0.0.1") != 0 && strcmp(host, "localhost") != 0)
		return -1;
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (errno != 0 || *end != '\0' || colon[1] == '\0' || port < 0 ||
	    port > 65535)
		return -1;
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)port);
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return 0;
}

static int
open_listener(struct sockaddr_in *sin)
{
	socklen_t sl;
	int fd, on = 1;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		perror("fake-openai: socket");
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (bind(fd, (struct sockaddr *)sin, sizeof(*sin)) == -1 ||
	    listen(fd, LISTEN_BACKLOG) == -1) {
		perror("fake-openai: bind/listen");
		close(fd);
		return -1;
	}
	sl = sizeof(*sin);
	if (getsockname(fd, (struct sockaddr *)sin, &sl) == -1) {
		perror("fake-openai: getsockname");
		close(fd);
		return -1;
	}
	return fd;
}

int
main(int argc, char *argv[])
{
	struct MHD_Daemon *d;
	struct sockaddr_in sin;
	sigset_t set;
	const char *listen_arg = NULL, *opt, *val;
	int i, fd, sig;

	/* Every option takes a value. */
	for (i = 1; i + 1 < argc; i += 2) {
		opt = argv[i];
		val = argv[i + 1];
		if (strcmp(opt, "--listen") == 0)
			listen_arg = val;
		else if (strcmp(opt, "--ttft-ms") == 0)
			fake_config.ttft_ms = flag_value(opt, val);
		else if (strcmp(opt, "--chunk-ms") == 0)
			fake_config.chunk_ms = flag_value(opt, val);
		else if (strcmp(opt, "--chunks") == 0)
			fake_config.chunks = flag_value(opt, val);
		else if (strcmp(opt, "--batch-step-ms") == 0)
			fake_config.batch_step_ms = flag_value(opt, val);
		else if (strcmp(opt, "--api-key") == 0)
			fake_config.api_key = val;
		else if (strcmp(opt, "--name") == 0)
			fake_config.name = val;
		else
			usage();
	}
	if (i != argc)
		usage();
	if (fake_config.chunks < 1 || fake_config.chunks > MAX_CHUNKS) {
		fprintf(stderr, "fake-openai: --chunks must be 1..%ld\n",
		    MAX_CHUNKS);
		return 2;
	}
	if (listen_arg == NULL)
		usage();
	if (parse_listen(listen_arg, &sin) == -1) {
		fprintf(stderr, "fake-openai: --listen must be "
		    "127.0.0.1:PORT (loopback only), got %s\n", listen_arg);
		return 2;
	}

	/* Fix jansson's hash seed before any thread uses it. */
	json_object_seed(0);
	fault_counts = json_object();
	stats_tags = json_object();

	/* Every thread inherits this mask; main waits for the signals. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	if ((fd = open_listener(&sin)) == -1)
		return 1;
	if (waker_start() != 0)
		return 1;
	/*
	 * A small epoll thread pool: no context switch per request, which
	 * keeps small answers cheap.  Waits never block a thread: the
	 * connection is suspended and the waker resumes it (waker.c).
	 */
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD |
	    MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG,
	    0, NULL, NULL, on_request, NULL,
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
	    MHD_OPTION_LISTEN_SOCKET, fd,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned int)MAX_CONNECTIONS,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)IDLE_TIMEOUT_S,
	    MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)POOL_THREADS,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
	    MHD_OPTION_END);
	if (d == NULL) {
		fprintf(stderr, "fake-openai: cannot start HTTP daemon\n");
		close(fd);
		return 1;
	}
	fprintf(stderr, "fake-openai listening on 127.0.0.1:%u\n",
	    (unsigned int)ntohs(sin.sin_port));
	fflush(stderr);

	for (;;) {
		if (sigwait(&set, &sig) == 0 &&
		    (sig == SIGTERM || sig == SIGINT))
			break;
	}
	/* MHD must not be stopped with connections still suspended. */
	atomic_store(&stopping, 1);
	waker_stop();
	MHD_stop_daemon(d);	/* also closes the listening socket */
	responses_store_free();
	files_store_free();
	batches_store_free();
	json_decref(fault_counts);
	json_decref(stats_tags);
	return 0;
}
