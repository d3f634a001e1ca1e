/*
 * fake-openai: /v1/batches.  The input file is answered at creation; the
 * status then moves validating -> in_progress -> finalizing -> completed
 * one step per batch_step_ms, computed whenever the batch is looked at.
 * The output and error files appear when "completed" is first seen.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake.h"

/* Batches remembered; the oldest is forgotten past this. */
#define MAX_BATCHES		10000
/* The default page size of GET /v1/batches, as OpenAI's. */
#define BATCHES_PAGE_DEFAULT	20
/* A batch expires 24 h after creation (completion_window "24h"). */
#define BATCH_WINDOW_S		86400

struct batch {
	char		 id[64];
	json_t		*obj;		/* the batch object as last computed */
	long long	 created_ms;
	long		 step_ms;
	char		*out;		/* output JSONL until the file exists */
	size_t		 outlen;
	char		*err;		/* error JSONL */
	size_t		 errlen;
	long		 total;
	long		 ok;
	long		 failed;
	long long	 cancel_ms;	/* 0 unless cancelled */
	int		 finished;	/* files made, status terminal */
	/*
	 * Directives read from the input file (a test puts them in a
	 * prompt): lines whose custom_id contains fail go to the error
	 * file, the first time the fake sees that custom_id (a resume then
	 * succeeds); those containing invalid get a schema-invalid answer;
	 * expire ends the batch "expired", no line answered.
	 */
	char		 fail[DIRECTIVE_VALUE_MAX];
	char		 invalid[DIRECTIVE_VALUE_MAX];
	int		 expire;
};

/* The custom_ids failed once by X-Fake-Batch-Fail. */
#define FAILED_ONCE_MAX		4096
static char		*failed_once[FAILED_ONCE_MAX];
static size_t		 nfailed_once;

static pthread_mutex_t	 batches_lock = PTHREAD_MUTEX_INITIALIZER;
static struct batch	*batches[MAX_BATCHES];
static size_t		 nbatches;

static void
batch_free(struct batch *b)
{
	json_decref(b->obj);
	free(b->out);
	free(b->err);
	free(b);
}

void
batches_store_free(void)
{
	size_t i;

	pthread_mutex_lock(&batches_lock);
	for (i = 0; i < nbatches; i++)
		batch_free(batches[i]);
	nbatches = 0;
	pthread_mutex_unlock(&batches_lock);
}

static void
append(char **buf, size_t *len, json_t *line)
{
	char *s, *nb;
	size_t l;

	s = dump_compact(line);
	json_decref(line);
	l = strlen(s);
	if ((nb = realloc(*buf, *len + l + 2)) == NULL)
		abort();
	memcpy(nb + *len, s, l);
	nb[*len + l] = '\n';
	nb[*len + l + 1] = '\0';
	*buf = nb;
	*len += l + 1;
	free(s);
}

static json_t *
error_line(json_t *custom_id, const char *code, const char *msg)
{
	char id[64];

	make_id(id, sizeof(id), "batch_req_");
	return json_pack("{s:s,s:O,s:n,s:{s:s,s:s}}", "id", id,
	    "custom_id", custom_id ? custom_id : json_null(), "response",
	    "error", "code", code, "message", msg);
}

/*
 * "X-Fake-Batch-<name>: value" inside a "[[...]]" of the input file;
 * "" when absent.  The value ends at ";" or "]]".
 */
static void
file_directive(const char *data, size_t len, const char *name, char *out,
    size_t outsz)
{
	char key[64];
	const char *p, *v, *end = data + len;
	size_t n;

	out[0] = '\0';
	snprintf(key, sizeof(key), "X-Fake-Batch-%s:", name);
	if ((p = memmem(data, len, key, strlen(key))) == NULL)
		return;
	for (v = p + strlen(key); v < end && *v == ' '; v++)
		continue;
	for (n = 0; v + n < end && v[n] != ';' && v[n] != ']' &&
	    v[n] != '"' && n + 1 < outsz; n++)
		continue;
	while (n > 0 && v[n - 1] == ' ')
		n--;
	memcpy(out, v, n);
	out[n] = '\0';
}

/* Fail this custom_id now, once only (X-Fake-Batch-Fail). */
static int
fail_once(const struct batch *b, const char *cid)
{
	size_t i;

	if (b->fail[0] == '\0' || strstr(cid, b->fail) == NULL)
		return 0;
	for (i = 0; i < nfailed_once; i++)
		if (strcmp(failed_once[i], cid) == 0)
			return 0;
	if (nfailed_once < FAILED_ONCE_MAX &&
	    (failed_once[nfailed_once] = strdup(cid)) != NULL)
		nfailed_once++;
	return 1;
}

/* Answer one JSONL line of the input file into out or err. */
static void
run_line(struct batch *b, const char *endpoint, const char *line,
    size_t len, long lineno)
{
	struct knobs k;
	json_t *req, *cid, *body, *ans, *e = NULL;
	const char *url, *method;
	char id[64], rid[64], msg[512];

	req = json_loadb(line, len, 0, NULL);
	cid = json_object_get(req, "custom_id");
	url = json_str(req, "url");
	method = json_str(req, "method");
	body = json_object_get(req, "body");
	b->total++;
	if (!json_is_object(req) || !json_is_string(cid) || url == NULL ||
	    !json_is_object(body) || method == NULL ||
	    strcmp(method, "POST") != 0) {
		snprintf(msg, sizeof(msg), "Line %ld is not a valid batch "
		    "request (needs custom_id, method POST, url, body).",
		    lineno);
		append(&b->err, &b->errlen, error_line(json_is_string(cid) ?
		    cid : NULL, "invalid_request", msg));
		b->failed++;
		json_decref(req);
		return;
	}
	if (strcmp(url, endpoint) != 0) {
		snprintf(msg, sizeof(msg), "Line %ld: url %.100s does not "
		    "match the batch endpoint %.100s.", lineno, url, endpoint);
		append(&b->err, &b->errlen, error_line(cid, "invalid_url",
		    msg));
		b->failed++;
		json_decref(req);
		return;
	}
	if (fail_once(b, json_string_value(cid))) {
		append(&b->err, &b->errlen, error_line(cid, "server_error",
		    "The server had an error processing this request "
		    "(X-Fake-Batch-Fail)."));
		b->failed++;
		json_decref(req);
		return;
	}
	memset(&k, 0, sizeof(k));
	k.chunks = fake_config.chunks;
	if (b->invalid[0] != '\0' && strstr(json_string_value(cid),
	    b->invalid) != NULL)
		k.fault = FAULT_SCHEMA_INVALID;
	if (strcmp(endpoint, "/v1/responses") == 0)
		ans = responses_answer(body, &k, &e);
	else
		ans = chat_answer(body, &k, &e);
	make_id(id, sizeof(id), "batch_req_");
	make_id(rid, sizeof(rid), "req_");
	if (ans != NULL) {
		append(&b->out, &b->outlen, json_pack("{s:s,s:O,s:{s:i,s:s,"
		    "s:o},s:n}", "id", id, "custom_id", cid, "response",
		    "status_code", 200, "request_id", rid, "body", ans,
		    "error"));
		b->ok++;
	} else {
		append(&b->err, &b->errlen, json_pack("{s:s,s:O,s:{s:i,s:s,"
		    "s:o},s:n}", "id", id, "custom_id", cid, "response",
		    "status_code", 400, "request_id", rid, "body", e,
		    "error"));
		b->failed++;
	}
	json_decref(req);
}

static void
run_input(struct batch *b, const char *endpoint, const char *data,
    size_t len)
{
	const char *p, *nl, *end = data + len;
	long lineno = 0;

	for (p = data; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		lineno++;
		/* Blank lines (and the final newline) are not requests. */
		if (nl - p > 0 && !(nl - p == 1 && *p == '\r'))
			run_line(b, endpoint, p, (size_t)(nl - p), lineno);
	}
}

static void
set_time(json_t *o, const char *key, long long ms)
{
	json_object_set_new(o, key, json_integer((json_int_t)(ms / 1000)));
}

/* Recompute status from the clock; make the files on completion. */
static void
batch_refresh(struct batch *b)
{
	json_t *o = b->obj, *meta;
	long long now, step;
	long n;

	if (b->finished)
		return;
	now = now_ms();
	step = b->step_ms;
	if (b->cancel_ms != 0) {
		json_object_set_new(o, "status", json_string("cancelling"));
		if (now - b->cancel_ms >= step) {
			json_object_set_new(o, "status",
			    json_string("cancelled"));
			set_time(o, "cancelled_at", b->cancel_ms + step);
			b->finished = 1;
		}
		return;
	}
	n = step > 0 ? (long)((now - b->created_ms) / step) : 3;
	if (b->expire && n >= 2) {
		json_object_set_new(o, "status", json_string("expired"));
		set_time(o, "expired_at", b->created_ms + 2 * step);
		json_object_set_new(o, "request_counts", json_pack("{s:I,s:i,"
		    "s:I}", "total", (json_int_t)b->total, "completed", 0,
		    "failed", (json_int_t)b->total));
		b->finished = 1;
		return;
	}
	if (n == 1) {
		/*
		 * Lines finish through the step, as OpenAI reports running
		 * counts: a client can show progress and a time left.
		 */
		long long done = now - b->created_ms - step;

		json_object_set_new(o, "status", json_string("in_progress"));
		set_time(o, "in_progress_at", b->created_ms + step);
		json_object_set_new(o, "request_counts", json_pack("{s:I,s:I,"
		    "s:I}", "total", (json_int_t)b->total, "completed",
		    (json_int_t)(b->ok * done / step), "failed",
		    (json_int_t)(b->failed * done / step)));
	}
	if (n >= 2) {
		json_object_set_new(o, "status", json_string("finalizing"));
		set_time(o, "in_progress_at", b->created_ms + step);
		set_time(o, "finalizing_at", b->created_ms + 2 * step);
		json_object_set_new(o, "request_counts", json_pack("{s:I,s:I,"
		    "s:I}", "total", (json_int_t)b->total, "completed",
		    (json_int_t)b->ok, "failed", (json_int_t)b->failed));
	}
	if (n < 3)
		return;
	if (b->total == 0) {
		json_object_set_new(o, "status", json_string("failed"));
		set_time(o, "failed_at", b->created_ms + step);
		json_object_set_new(o, "errors", json_pack("{s:s,s:[{s:s,s:s,"
		    "s:n,s:n}]}", "object", "list", "data", "code",
		    "empty_file", "message", "The input file has no "
		    "requests.", "param", "line"));
		b->finished = 1;
		return;
	}
	if (b->ok > 0 && (meta = files_put("batch_output.jsonl",
	    "batch_output", b->out, b->outlen)) != NULL) {
		json_object_set(o, "output_file_id", json_object_get(meta,
		    "id"));
		json_decref(meta);
	}
	if (b->failed > 0 && (meta = files_put("batch_errors.jsonl",
	    "batch_output", b->err, b->errlen)) != NULL) {
		json_object_set(o, "error_file_id", json_object_get(meta,
		    "id"));
		json_decref(meta);
	}
	free(b->out);
	free(b->err);
	b->out = b->err = NULL;
	json_object_set_new(o, "status", json_string("completed"));
	set_time(o, "completed_at", b->created_ms + 3 * step);
	json_object_set_new(o, "request_counts", json_pack("{s:I,s:I,s:I}",
	    "total", (json_int_t)b->total, "completed", (json_int_t)b->ok,
	    "failed", (json_int_t)b->failed));
	b->finished = 1;
}

static struct batch *
find_batch(const char *id)
{
	size_t i;

	for (i = 0; i < nbatches; i++)
		if (strcmp(batches[i]->id, id) == 0)
			return batches[i];
	return NULL;
}

static enum MHD_Result
bad_param(struct req *r, const char *msg, const char *param,
    const char *code)
{
	return reply_error(r, MHD_HTTP_BAD_REQUEST, "invalid_request_error",
	    msg, param, code);
}

enum MHD_Result
handle_batches_create(struct req *r, json_t *body)
{
	struct batch *b;
	const char *fid, *endpoint, *window;
	char *data;
	size_t len;

	if ((fid = json_str(body, "input_file_id")) == NULL)
		return bad_param(r, "Missing required parameter: "
		    "'input_file_id'.", "input_file_id",
		    "missing_required_parameter");
	if ((endpoint = json_str(body, "endpoint")) == NULL)
		return bad_param(r, "Missing required parameter: 'endpoint'.",
		    "endpoint", "missing_required_parameter");
	if (strcmp(endpoint, "/v1/chat/completions") != 0 &&
	    strcmp(endpoint, "/v1/responses") != 0)
		return bad_param(r, "Invalid value for 'endpoint': "
		    "fake-openai supports /v1/chat/completions and "
		    "/v1/responses.", "endpoint", "invalid_value");
	if ((window = json_str(body, "completion_window")) == NULL)
		return bad_param(r, "Missing required parameter: "
		    "'completion_window'.", "completion_window",
		    "missing_required_parameter");
	if (strcmp(window, "24h") != 0)
		return bad_param(r, "Invalid value for 'completion_window': "
		    "only '24h' is supported.", "completion_window",
		    "invalid_value");
	if (files_get_copy(fid, &data, &len) != 0)
		return bad_param(r, "Invalid 'input_file_id': file not found.",
		    "input_file_id", "invalid_value");

	if ((b = calloc(1, sizeof(*b))) == NULL)
		abort();
	make_id(b->id, sizeof(b->id), "batch_");
	b->created_ms = now_ms();
	b->step_ms = r->k.batch_step_ms;
	{
		char v[DIRECTIVE_VALUE_MAX];

		file_directive(data, len, "Fail", b->fail, sizeof(b->fail));
		file_directive(data, len, "Invalid", b->invalid,
		    sizeof(b->invalid));
		file_directive(data, len, "Expire", v, sizeof(v));
		b->expire = v[0] != '\0';
		file_directive(data, len, "Step-Ms", v, sizeof(v));
		if (v[0] != '\0')
			b->step_ms = strtol(v, NULL, 10);
	}
	pthread_mutex_lock(&batches_lock);
	run_input(b, endpoint, data, len);
	pthread_mutex_unlock(&batches_lock);
	free(data);
	b->obj = json_pack("{s:s,s:s,s:s,s:n,s:s,s:s,s:s,s:n,s:n,s:I,s:n,"
	    "s:I,s:n,s:n,s:n,s:n,s:n,s:n,s:{s:i,s:i,s:i},s:O}",
	    "id", b->id, "object", "batch", "endpoint", endpoint, "errors",
	    "input_file_id", fid, "completion_window", window,
	    "status", "validating", "output_file_id", "error_file_id",
	    "created_at", (json_int_t)(b->created_ms / 1000),
	    "in_progress_at",
	    "expires_at", (json_int_t)(b->created_ms / 1000 + BATCH_WINDOW_S),
	    "finalizing_at", "completed_at", "failed_at", "expired_at",
	    "cancelling_at", "cancelled_at",
	    "request_counts", "total", 0, "completed", 0, "failed", 0,
	    "metadata", json_object_get(body, "metadata") ?
	    json_object_get(body, "metadata") : json_null());

	pthread_mutex_lock(&batches_lock);
	if (nbatches == MAX_BATCHES) {
		batch_free(batches[0]);
		memmove(batches, batches + 1, (nbatches - 1) *
		    sizeof(batches[0]));
		nbatches--;
	}
	batches[nbatches++] = b;
	batch_refresh(b);
	body = json_deep_copy(b->obj);
	pthread_mutex_unlock(&batches_lock);
	return reply_json(r, MHD_HTTP_OK, body);
}

static enum MHD_Result
no_such_batch(struct req *r, const char *id)
{
	char msg[256];

	snprintf(msg, sizeof(msg), "No batch found with id '%.100s'.", id);
	return reply_error(r, MHD_HTTP_NOT_FOUND, "invalid_request_error",
	    msg, "batch_id", NULL);
}

enum MHD_Result
handle_batches_get(struct req *r, const char *id)
{
	struct batch *b;
	json_t *o = NULL;

	pthread_mutex_lock(&batches_lock);
	if ((b = find_batch(id)) != NULL) {
		batch_refresh(b);
		o = json_deep_copy(b->obj);
	}
	pthread_mutex_unlock(&batches_lock);
	if (o == NULL)
		return no_such_batch(r, id);
	return reply_json(r, MHD_HTTP_OK, o);
}

enum MHD_Result
handle_batches_list(struct req *r)
{
	json_t *items;
	size_t i;

	items = json_array();
	pthread_mutex_lock(&batches_lock);
	for (i = 0; i < nbatches; i++) {
		batch_refresh(batches[i]);
		json_array_append_new(items, json_deep_copy(batches[i]->obj));
	}
	pthread_mutex_unlock(&batches_lock);
	return reply_json(r, MHD_HTTP_OK, paginate(items, r,
	    BATCHES_PAGE_DEFAULT, 1));
}

enum MHD_Result
handle_batches_cancel(struct req *r, const char *id)
{
	struct batch *b;
	json_t *o = NULL;
	char msg[128];
	const char *st = NULL;

	pthread_mutex_lock(&batches_lock);
	if ((b = find_batch(id)) != NULL) {
		batch_refresh(b);
		if (b->finished)
			st = json_str(b->obj, "status");
		else {
			if (b->cancel_ms == 0) {
				b->cancel_ms = now_ms();
				set_time(b->obj, "cancelling_at",
				    b->cancel_ms);
			}
			batch_refresh(b);
			o = json_deep_copy(b->obj);
		}
		if (st != NULL)
			snprintf(msg, sizeof(msg), "Cannot cancel a batch "
			    "with status '%s'.", st);
	}
	pthread_mutex_unlock(&batches_lock);
	if (b == NULL)
		return no_such_batch(r, id);
	if (o == NULL)
		return reply_error(r, MHD_HTTP_CONFLICT,
		    "invalid_request_error", msg, NULL, NULL);
	return reply_json(r, MHD_HTTP_OK, o);
}
