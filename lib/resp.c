/*
 * resp.c: status line, headers and bodies.  rl_resp_error() is the one place
 * where an error becomes an HTTP answer.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "arena.h"
#include "bounds.h"
#include "conf.h"
#include "extern.h"
#include "log.h"
#include "metrics.h"
#include "req.h"
#include "resp.h"
#include "schema.h"

static const char *
reason(int status)
{

	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 302: return "Found";
	case 303: return "See Other";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 402: return "Payment Required";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 410: return "Gone";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Entity";
	case 429: return "Too Many Requests";
	case 499: return "Client Closed Request";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "Unknown";
	}
}

static int
out(struct rl_req *req, const void *buf, size_t len)
{

	if (req->io->write(req->io->ctx, buf, len) == -1)
		return -1;
	req->bytes_out += (long long)len;
	return 0;
}

/* Queue a header for the response; refused once the head is sent. */
enum rl_err
rl_resp_header(struct rl_req *req, const char *name, const char *val)
{
	struct rl_resp_hdr	*h;

	if (req->status != 0)
		return RL_EINTERNAL;
	/* A CR or LF in a value would let it forge headers. */
	if (strpbrk(name, "\r\n:") != NULL || strpbrk(val, "\r\n") != NULL)
		return RL_EINVAL;
	if ((h = rl_arena_alloc(req->arena, sizeof(*h))) == NULL ||
	    (h->name = rl_arena_strdup(req->arena, name)) == NULL ||
	    (h->val = rl_arena_strdup(req->arena, val)) == NULL)
		return RL_ENOMEM;
	h->next = req->hdrs;
	req->hdrs = h;
	return RL_OK;
}

/*
 * Send status and headers.  A body of known length says so (len >= 0): nginx
 * then passes the answer on as it stands, where without a length it would
 * re-frame it in chunks and send their terminator in a write of its own.
 */
static enum rl_err
head(struct rl_req *req, int status, const char *ctype, long long len)
{
	struct rl_resp_hdr	*h;
	char			 line[256], timing[160];
	int			 n;

	if (req->status != 0)
		return RL_EINTERNAL;
	req->status = status;
	n = snprintf(line, sizeof(line), "Status: %d %s\r\n", status,
	    reason(status));
	if (out(req, line, (size_t)n) == -1)
		return RL_EGONE;
	/* Pieces, not snprintf into line: a type may be longer than it. */
	if (ctype != NULL && strpbrk(ctype, "\r\n") != NULL)
		return RL_EINVAL;
	if (ctype != NULL && (out(req, "Content-Type: ", 14) == -1 ||
	    out(req, ctype, strlen(ctype)) == -1 || out(req, "\r\n", 2) == -1))
		return RL_EGONE;
	/* Where the time went so far: relais, upstream, database. */
	rl_metrics_server_timing(req->start_us, timing, sizeof(timing));
	if (out(req, "Server-Timing: ", 15) == -1 ||
	    out(req, timing, strlen(timing)) == -1 || out(req, "\r\n", 2) == -1)
		return RL_EGONE;
	if (len >= 0) {
		n = snprintf(line, sizeof(line), "Content-Length: %lld\r\n",
		    len);
		if (out(req, line, (size_t)n) == -1)
			return RL_EGONE;
	}
	for (h = req->hdrs; h != NULL; h = h->next)
		if (out(req, h->name, strlen(h->name)) == -1 ||
		    out(req, ": ", 2) == -1 ||
		    out(req, h->val, strlen(h->val)) == -1 ||
		    out(req, "\r\n", 2) == -1)
			return RL_EGONE;
	return out(req, "\r\n", 2) == -1 ? RL_EGONE : RL_OK;
}

/* Send status and headers; the body follows through rl_resp_write(). */
enum rl_err
rl_resp_begin(struct rl_req *req, int status, const char *ctype)
{

	return head(req, status, ctype, -1);
}

enum rl_err
rl_resp_write(struct rl_req *req, const void *buf, size_t len)
{

	if (req->status == 0)
		return RL_EINTERNAL;
	return out(req, buf, len) == -1 ? RL_EGONE : RL_OK;
}

enum rl_err
rl_resp_flush(struct rl_req *req)
{

	return req->io->flush(req->io->ctx) == -1 ? RL_EGONE : RL_OK;
}

int
rl_resp_sent(const struct rl_req *req)
{

	return req->status != 0;
}

enum rl_err
rl_resp_send(struct rl_req *req, int status, const char *ctype,
    const void *body, size_t len)
{
	enum rl_err	 err;

	if (len > (size_t)LLONG_MAX)
		return RL_EINVAL;
	if ((err = head(req, status, ctype, (long long)len)) != RL_OK)
		return err;
	if (len > 0 && strcmp(req->method, "HEAD") != 0)
		return rl_resp_write(req, body, len);
	return RL_OK;
}

/* Does the comma list of media types h name type (case aside)? */
static int
names_type(const char *h, const char *type)
{
	size_t	 n = strlen(type);

	while (h != NULL && *h != '\0') {
		h += strspn(h, ", \t");
		if (strncasecmp(h, type, n) == 0 && (h[n] == '\0' ||
		    strchr(",; \t", h[n]) != NULL))
			return 1;
		h += strcspn(h, ",");
	}
	return 0;
}

/*
 * Browsers ask for text/html when they navigate; fetch() sends * / *
 * unless told otherwise.  The answer then depends on Accept, and says
 * so, lest a cache hand the JSON to a browser going back to the page.
 */
int
rl_resp_wants_html(struct rl_req *req)
{

	(void)rl_resp_header(req, "Vary", "Accept");
	return names_type(rl_req_header(req, "Accept"), "text/html");
}

/* A page's form: it follows a redirect where a script reads JSON. */
int
rl_resp_form_navigation(struct rl_req *req)
{
	size_t	 n = strcspn(req->ctype, "; \t");

	return rl_resp_wants_html(req) && ((n == 33 &&
	    strncasecmp(req->ctype, "application/x-www-form-urlencoded",
	    n) == 0) || (n == 19 && strncasecmp(req->ctype,
	    "multipart/form-data", n) == 0));
}

/*
 * One of relais' own HTML pages (RELAIS_PAGE_DIR/name: a review page,
 * the task tracker), sent as it is.  They are shells whose script reads
 * the JSON routes, so nothing of the request goes into them and they
 * need no templating; the headers keep them from running anything but
 * their own scripts.  Errors are returned unanswered, for the one error
 * path.
 */
enum rl_err
rl_resp_page(struct rl_req *req, const char *name, struct rl_error *e)
{
	char		 path[4096];
	char		*buf = NULL;
	struct stat	 st;
	ssize_t		 n;
	size_t		 got = 0;
	int		 fd = -1;
	enum rl_err	 err;

	if (strchr(name, '/') != NULL || (size_t)snprintf(path, sizeof(path),
	    "%s/%s", rl_conf->page_dir, name) >= sizeof(path)) {
		err = rl_error_set(e, RL_EINTERNAL, "bad page name %s", name);
		goto out;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &st) == -1) {
		err = rl_error_set(e, RL_EIO, "page %s: %s", path,
		    strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > RL_PAGE_MAX) {
		err = rl_error_set(e, RL_EINTERNAL, "page %s is not a file of "
		    "at most %d bytes", path, RL_PAGE_MAX);
		goto out;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		err = rl_error_set(e, RL_ENOMEM, NULL);
		goto out;
	}
	while (got < (size_t)st.st_size && (n = read(fd, buf + got,
	    (size_t)st.st_size - got)) > 0)
		got += (size_t)n;
	if (got != (size_t)st.st_size) {
		err = rl_error_set(e, RL_EIO, "page %s: short read", path);
		goto out;
	}
	(void)rl_resp_header(req, "Cache-Control", "no-store");
	(void)rl_resp_header(req, "X-Content-Type-Options", "nosniff");
	(void)rl_resp_header(req, "Content-Security-Policy",
	    "default-src 'self'; img-src 'self' data:; "
	    "frame-ancestors 'self'");
	err = rl_resp_send(req, 200, "text/html; charset=utf-8", buf, got);
out:
	if (fd != -1)
		(void)close(fd);
	free(buf);
	return err;
}

/*
 * With RELAIS_CHECK_RESPONSES=1: the schemas of schemas/responses join
 * the registry (ids "resp-*", unused by request and upstream schemas) and
 * routes.json says which one each route's 2xx JSON answer must satisfy
 * ("METHOD pattern" -> id, or null for a route that answers no JSON).  A
 * table, not a route-row field, so that programs stay (method, path,
 * handler, schema, flags, body limit) and the tests own what they check.
 * Loaded by rl_main before any thread exists, read-only afterwards.
 */
static json_t	*resp_index;

enum rl_err
rl_resp_index_load(struct rl_error *e)
{
	json_error_t	 je;
	json_t		*v;
	const char	*key;
	char		 dir[4096], path[4200];
	enum rl_err	 err;

	if (!rl_conf->check_responses)
		return RL_OK;
	if ((size_t)snprintf(dir, sizeof(dir), "%s/responses",
	    rl_conf->schema_dir) >= sizeof(dir))
		return rl_error_set(e, RL_EINVAL, "RELAIS_SCHEMA_DIR too long");
	if ((err = rl_schema_registry_load(dir, e)) != RL_OK)
		return err;
	(void)snprintf(path, sizeof(path), "%s/routes.json", dir);
	if ((resp_index = json_load_file(path, JSON_REJECT_DUPLICATES,
	    &je)) == NULL || !json_is_object(resp_index))
		return rl_error_set(e, RL_EINVAL, "%s: %s", path, je.text);
	json_object_foreach(resp_index, key, v)
		if (!json_is_null(v) && (!json_is_string(v) ||
		    rl_schema_get(json_string_value(v)) == NULL))
			return rl_error_set(e, RL_EINVAL, "%s: \"%s\": no "
			    "schema of that id", path, key);
	return RL_OK;
}

/* The response schema id of a route, or NULL when it names none. */
static const char *
response_schema(const struct rl_route *r)
{
	char	 key[512];

	if (resp_index == NULL || (size_t)snprintf(key, sizeof(key),
	    "%s %s", r->method, r->pattern) >= sizeof(key))
		return NULL;
	return json_string_value(json_object_get(resp_index, key));
}

/*
 * RELAIS_CHECK_RESPONSES=1 (the test suite): validate a JSON answer with
 * the request validator against its route's response schema
 * (schemas/responses/routes.json maps each route to one; an error
 * answer against resp-error, the shapes every error body may take) and
 * say what came out in X-Relais-Response-Check: "valid", "invalid: <first
 * error>" (also logged) or "none" when the route declares no schema.  The
 * tests fail on anything but "valid", so no route's answer goes unchecked.
 */
static void
check_response(struct rl_req *req, int status, const json_t *v)
{
	const struct rl_schema	*s;
	const char		*id;
	json_t			*copy, *out = NULL, *errors = NULL, *first;
	struct rl_error		 e;
	char			 hdr[RL_ERRMSG_MAX + 16], *loc;

	id = status >= 400 ? "resp-error" : req->route != NULL ?
	    response_schema(req->route) : NULL;
	if (id == NULL || (s = rl_schema_get(id)) == NULL) {
		(void)rl_resp_header(req, "X-Relais-Response-Check", "none");
		return;
	}
	/* Validation may coerce: work on a copy, never on the answer. */
	if ((copy = json_deep_copy(v)) == NULL)
		return;
	rl_error_clear(&e);
	if (rl_schema_validate(s, copy, &out, &errors, &e) == RL_OK)
		(void)rl_resp_header(req, "X-Relais-Response-Check", "valid");
	else {
		first = json_array_get(errors, 0);
		loc = json_dumps(json_object_get(first, "loc"), JSON_COMPACT |
		    JSON_ENCODE_ANY);
		(void)snprintf(hdr, sizeof(hdr),
		    "invalid: %.120s at %.80s (%.40s)",
		    first != NULL ? json_string_value(json_object_get(first,
		    "msg")) : e.msg, loc != NULL ? loc : "?", id);
		free(loc);
		rl_log_error("response schema violation: %s %s -> %d: %s",
		    req->method, req->path, status, hdr);
		(void)rl_resp_header(req, "X-Relais-Response-Check", hdr);
	}
	json_decref(out);
	json_decref(errors);
	json_decref(copy);
}

/* Send a JSON value (borrowed). */
enum rl_err
rl_resp_json(struct rl_req *req, int status, const json_t *v)
{
	enum rl_err	 err;
	char		*s;

	if (rl_conf->check_responses)
		check_response(req, status, v);
	/*
	 * 15 significant digits: what a double holds exactly, so a cost of
	 * 0.000123 prints as such and not as 0.00012300000000000001.
	 */
	if ((s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY |
	    JSON_REAL_PRECISION(15))) == NULL)
		return RL_ENOMEM;
	err = rl_resp_send(req, status, "application/json", s, strlen(s));
	free(s);
	return err;
}

/* Send a JSON value and drop the reference (json_pack() result directly). */
enum rl_err
rl_resp_json_new(struct rl_req *req, int status, json_t *v)
{
	enum rl_err	 err;

	if (v == NULL)
		return RL_ENOMEM;
	err = rl_resp_json(req, status, v);
	json_decref(v);
	return err;
}


/*
 * What a client reads of an error.  Our own faults say only what kind
 * they are: their detail (a database message, a file path) is in the
 * request's log line, under the request id the client can quote, never in
 * a body; *fault says so, and the "field" is left out with it.  An EDxo
 * body (edxo) keeps an internal error's message: EDxo's handlers answer
 * their 500s with set French texts ("Aucun prompt configuré pour le
 * calendrier.") that its pages show, and ours set the same.
 */
static const char *
client_text(const struct rl_error *e, int edxo, int *fault)
{
	enum rl_err	 code = e->code == RL_OK ? RL_EINTERNAL : e->code;

	*fault = code == RL_ENOMEM || code == RL_EDB || code == RL_EDBDOWN ||
	    code == RL_EIO || (code == RL_EINTERNAL && !edxo);
	return *fault || e->msg[0] == '\0' ? rl_strerror(code) : e->msg;
}
/*
 * The one mapping from an error to an answer: status from the error table,
 * body {"error": {"code": <stable token>, "message": ..., "field"?}}, or
 * EDxo's flat {"error": message, ...} on an RL_ROUTE_EDXO route.
 */
static const char oom[] =
    "{\"error\":{\"code\":\"out_of_memory\",\"message\":\"out of memory\"}}";

/*
 * The error object: ours {code, message, field?}, or EDxo's flat one
 * {error: message, code, field?} whose pages read data.error.  A message
 * quoting bytes that are not UTF-8 cannot be encoded: the default text of
 * the error says its kind instead.  No field for our own faults.
 */
static json_t *
error_body(const struct rl_error *e, enum rl_err code, const char *msg,
    int edxo, int fault)
{
	json_t	*o;

	o = edxo ? json_pack("{s:s, s:s}", "error", msg, "code",
	    rl_err_token(code)) : json_pack("{s:s, s:s}", "code",
	    rl_err_token(code), "message", msg);
	if (o == NULL && msg != rl_strerror(code))
		return error_body(e, code, rl_strerror(code), edxo, fault);
	if (o != NULL && e->where[0] != '\0' && !fault)
		(void)json_object_set_new(o, "field", json_string(e->where));
	return o;
}

/*
 * EDxo's legacy failure {success: false, message}; error and code repeat
 * it so the body is also the flat error every EDxo route may send.
 */
static json_t *
legacy_body(enum rl_err code, const char *msg)
{

	return json_pack("{s:b, s:s, s:s, s:s}", "success", 0, "message",
	    msg, "error", msg, "code", rl_err_token(code));
}

/*
 * An error on a route for API clients: seed 003's {success: false,
 * error: message, code, field?} (RL_ROUTE_SUCCESS) or OpenAI's {error:
 * {message, type, param, code}} (RL_ROUTE_OPENAI), which its SDKs turn
 * into their typed errors by the status (rl_err_status_api).
 */
static enum rl_err
api_error(struct rl_req *req, const struct rl_error *e, enum rl_err code,
    const char *msg, int fault)
{
	const char	*param = e->where[0] != '\0' && !fault ? e->where :
			    NULL;
	json_t		*body;
	int		 status = rl_err_status_api(code);

	if (status == 401)
		(void)rl_resp_header(req, "WWW-Authenticate",
		    "Basic realm=\"relais\", Bearer");
	if (req->route->flags & RL_ROUTE_OPENAI)
		body = json_pack("{s:{s:s, s:s, s:s?, s:s}}", "error",
		    "message", msg, "type", rl_err_type_openai(code), "param",
		    param, "code", rl_err_token(code));
	else if ((body = json_pack("{s:b, s:s, s:s}", "success", 0, "error",
	    msg, "code", rl_err_token(code))) != NULL && param != NULL)
		(void)json_object_set_new(body, "field", json_string(param));
	if (body == NULL && msg != rl_strerror(code))
		return api_error(req, e, code, rl_strerror(code), fault);
	if (body == NULL)
		return rl_resp_send(req, 500, "application/json", oom,
		    sizeof(oom) - 1);
	return rl_resp_json_new(req, status == 499 ? 400 : status, body);
}

enum rl_err
rl_resp_error(struct rl_req *req, const struct rl_error *e)
{
	json_t		*body, *inner;
	enum rl_err	 code = e->code == RL_OK ? RL_EINTERNAL : e->code;
	int		 edxo, status, fault;
	const char	*msg;

	edxo = req->route != NULL && (req->route->flags & RL_ROUTE_EDXO);
	msg = client_text(e, edxo, &fault);
	status = edxo ? rl_err_status_edxo(code) : rl_err_status(code);
	if (req->status != 0)
		return RL_EINTERNAL;
	if (req->route != NULL && (req->route->flags & (RL_ROUTE_SUCCESS |
	    RL_ROUTE_OPENAI)))
		return api_error(req, e, code, msg, fault);
	if (status == 401)
		(void)rl_resp_header(req, "WWW-Authenticate", "Bearer");
	if (req->route != NULL && (req->route->flags & RL_ROUTE_LEGACY) ==
	    RL_ROUTE_LEGACY)
		body = legacy_body(code, msg);
	else {
		inner = error_body(e, code, msg, edxo, fault);
		/* "o" steals inner even when packing fails. */
		body = inner == NULL || edxo ? inner : json_pack("{s:o}",
		    "error", inner);
	}
	if (body == NULL)
		return rl_resp_send(req, 500, "application/json", oom,
		    sizeof(oom) - 1);
	return rl_resp_json_new(req, status == 499 ? 400 : status, body);
}

/*
 * A generation error as EDxo's plan-de-cours and evaluation views answer
 * it: {error: message, code: token, field?} with the EDxo status, or the
 * verifier's status and wording (err.c's verifier column).  The handler
 * answers itself, so the client-gone case sends nothing.
 */
enum rl_err
rl_resp_edxo_error(struct rl_req *req, const struct rl_error *e,
    int verifier)
{
	const char	*vtext = NULL;
	int		 status, fault;
	const char	*msg = client_text(e, 1, &fault);
	json_t		*body;

	if (e->code == RL_EGONE)
		return RL_EGONE;
	if (verifier)
		status = rl_err_status_verifier(e->code, &vtext);
	else
		status = rl_err_status_edxo(e->code);
	if (vtext != NULL)
		msg = vtext;
	body = error_body(e, e->code, msg, 1, fault);
	return rl_resp_json_new(req, status, body);
}

/*
 * EDxo's legacy failure {success: false, message} with the EDxo status;
 * error and code repeat it so the body is also the flat error every EDxo
 * route may send.  The pages of save_grid, get_description and
 * generate_all_start read success and message.
 */
enum rl_err
rl_resp_legacy_error(struct rl_req *req, const struct rl_error *e)
{
	int		 fault;
	const char	*msg = client_text(e, 1, &fault);

	return rl_resp_json_new(req, rl_err_status_edxo(e->code),
	    legacy_body(e->code, msg));
}
