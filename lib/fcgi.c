/*
 * fcgi.c: the program runtime, and the only file that includes <fcgiapp.h>.
 *
 * Start-up follows slowcgi's fixed order: options, configuration, route
 * table check, process start-up (lib/start.c: libraries, key, database
 * schema check), program hook, socket, threads.  Each worker thread
 * accepts one FastCGI request at a time and runs it through serve(), which
 * does everything a route row declares (lookup, auth, body limit, body
 * parsing) before the handler runs.  Without a FastCGI socket the same
 * binary answers one CGI request from its environment and stdio.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>	/* malloc_trim, mallopt */
#endif

#include <fcgiapp.h>

#include "arena.h"
#include "auth.h"
#include "cache.h"
#include "conf.h"
#include "credits.h"
#include "db.h"
#include "extern.h"
#include "fcgi.h"
#include "flask.h"
#include "input.h"
#include "bounds.h"
#include "log.h"
#include "metrics.h"
#include "openai.h"
#include "multipart.h"
#include "ratelimit.h"
#include "req.h"
#include "resp.h"
#include "schema.h"
#include "sse.h"
#include "start.h"

/* Seconds in-flight requests get to finish after SIGTERM. */
#define SHUTDOWN_GRACE_SEC	10

extern char	**environ;

static const struct rl_program	*prog;
static int			 listenfd = -1;
static atomic_int		 active;
static atomic_int		 stopping;

static enum rl_err	metrics_answer(struct rl_req *, struct rl_error *);

/*
 * Idle threads.  Linux hands a connection to the thread that has waited
 * longest in accept(2), so with every idle thread there, sixty-four took
 * their turns and each request ran on the coldest one: its stack, its
 * upstream connection and its caches untouched for sixty-three requests
 * (a third more time per call at one client).  So only RL_ACCEPTORS
 * threads wait in accept(2); the others wait here, on a stack, and the
 * one that went idle last is the next to take an acceptor's place.  At
 * one client three threads take turns (two in accept(2), one serving);
 * under load every thread is busy and none waits here.
 */
struct idler {
	pthread_cond_t	 cv;
	struct idler	*next;
	int		 called;
};

static pthread_mutex_t	 idle_mu = PTHREAD_MUTEX_INITIALIZER;
static struct idler	*idle_top;	/* the last thread to go idle */
static int		 accepting;	/* threads in accept(2) */

/*
 * FastCGI side of struct rl_io.  The context is the thread's connection:
 * libfcgi's request and how much of its input the handler read.
 */
struct conn {
	FCGX_Request		r;
	unsigned long long	nread;
};

static int
fcgi_write(void *ctx, const void *buf, size_t len)
{
	FCGX_Request	*r = &((struct conn *)ctx)->r;

	if (len > INT32_MAX)
		return -1;
	return FCGX_PutStr(buf, (int)len, r->out) == (int)len ? 0 : -1;
}

static int
fcgi_flush(void *ctx)
{
	FCGX_Request	*r = &((struct conn *)ctx)->r;

	return FCGX_FFlush(r->out) == 0 ? 0 : -1;
}

static ssize_t
fcgi_read(void *ctx, void *buf, size_t len)
{
	struct conn	*c = ctx;
	int		 n;

	if (len > INT32_MAX)
		len = INT32_MAX;
	n = FCGX_GetStr(buf, (int)len, c->r.in);
	if (n == 0 && FCGX_GetError(c->r.in) != 0)
		return -1;
	c->nread += (unsigned long long)n;
	return n;
}

/*
 * nginx closes the FastCGI connection when its client goes away (we run with
 * fastcgi_keep_conn off), so a hang-up on the socket means the client left.
 */
static int
fcgi_gone(void *ctx)
{
	FCGX_Request	*r = &((struct conn *)ctx)->r;
	struct pollfd	 pfd;

	pfd.fd = r->ipcFd;
	pfd.events = POLLRDHUP;
	pfd.revents = 0;
	if (poll(&pfd, 1, 0) == 1 &&
	    (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR)))
		return 1;
	return 0;
}

/* CGI side of struct rl_io. */

static int
cgi_write(void *ctx, const void *buf, size_t len)
{

	return fwrite(buf, 1, len, stdout) == len ? 0 : -1;
}

static int
cgi_flush(void *ctx)
{

	return fflush(stdout) == 0 ? 0 : -1;
}

static ssize_t
cgi_read(void *ctx, void *buf, size_t len)
{
	size_t	 n;

	n = fread(buf, 1, len, stdin);
	if (n == 0 && ferror(stdin))
		return -1;
	return (ssize_t)n;
}

static int
cgi_gone(void *ctx)
{

	return 0;
}

/* Body reading. */

struct bodyreader {
	struct rl_io	*io;
	size_t		 left;	/* bytes the client announced and we await */
};

static ssize_t
body_read(void *arg, void *buf, size_t len)
{
	struct bodyreader	*br = arg;
	ssize_t			 n;

	if (br->left == 0)
		return 0;
	if (len > br->left)
		len = br->left;
	if ((n = br->io->read(br->io->ctx, buf, len)) > 0)
		br->left -= (size_t)n;
	return n;
}

/* Read a whole body of clen bytes into the arena (clen already capped). */
static enum rl_err
read_all(struct rl_req *req, size_t clen, char **out, struct rl_error *e)
{
	struct bodyreader	 br = { req->io, clen };
	char			*buf;
	size_t			 off = 0;
	ssize_t			 n;

	if ((buf = rl_arena_alloc(req->arena, clen + 1)) == NULL)
		return rl_error_set(e, RL_ENOMEM, NULL);
	while (off < clen) {
		if ((n = body_read(&br, buf + off, clen - off)) <= 0)
			return rl_error_set(e, RL_EINVAL,
			    "request body truncated at %zu of %zu bytes",
			    off, clen);
		off += (size_t)n;
	}
	buf[clen] = '\0';
	*out = buf;
	return RL_OK;
}

/* Does the Content-Type's media type (before ';') equal want? */
static int
is_type(const char *ctype, const char *want)
{
	size_t	 n = strcspn(ctype, "; \t");

	return n == strlen(want) && strncasecmp(ctype, want, n) == 0;
}

static enum rl_err
read_body(struct rl_req *req, struct rl_error *e)
{
	const struct rl_route	*rt = req->route;
	const char		*cl;
	char			*end, *buf;
	unsigned long long	 clen = 0;
	size_t			 max;
	struct bodyreader	 br;
	enum rl_err		 err;

	if ((cl = rl_req_env(req, "CONTENT_LENGTH")) != NULL && *cl != '\0') {
		errno = 0;
		clen = strtoull(cl, &end, 10);
		if (errno != 0 || *end != '\0' || *cl == '-')
			return rl_error_set(e, RL_EINVAL,
			    "bad Content-Length");
	}
	if (clen == 0 || (rt->flags & RL_ROUTE_BODY) == 0)
		return RL_OK;	/* a body the route does not take is ignored */

	/*
	 * The default cap follows what came, not what the route could take:
	 * a route open to FormData uploads still caps its JSON at
	 * RL_BODY_MAX.
	 */
	max = rt->body_max != 0 ? rt->body_max :
	    ((rt->flags & RL_ROUTE_MULTIPART) &&
	    is_type(req->ctype, "multipart/form-data")) ? RL_UPLOAD_MAX :
	    RL_BODY_MAX;
	if (clen > max)
		return rl_error_set(e, RL_ETOOBIG, "request body of %llu "
		    "bytes exceeds the %zu byte limit", clen, max);

	/* A body without a Content-Type is not guessed at: 415 below. */
	if ((rt->flags & RL_ROUTE_JSON) &&
	    is_type(req->ctype, "application/json")) {
		if ((err = read_all(req, clen, &buf, e)) != RL_OK)
			return err;
		return rl_json_parse(buf, clen, &req->json, e);
	}
	if ((rt->flags & RL_ROUTE_FORM) &&
	    is_type(req->ctype, "application/x-www-form-urlencoded")) {
		if ((err = read_all(req, clen, &buf, e)) != RL_OK)
			return err;
		return rl_urlencoded_parse(req->arena, buf, clen, '&',
		    &req->formv, &req->nform, e);
	}
	if ((rt->flags & RL_ROUTE_MULTIPART) &&
	    is_type(req->ctype, "multipart/form-data")) {
		br.io = req->io;
		br.left = clen;
		return rl_multipart_collect(req->arena, req->ctype, body_read,
		    &br, max, rl_conf->tmpdir, &req->formv, &req->nform,
		    &req->uploads, &req->nupload, e);
	}
	return rl_error_set(e, RL_EMEDIA, "Content-Type \"%.64s\" is not "
	    "accepted here (want %s%s%s)", *req->ctype != '\0' ? req->ctype :
	    "(none)",
	    (rt->flags & RL_ROUTE_JSON) ? "application/json " : "",
	    (rt->flags & RL_ROUTE_FORM) ?
	    "application/x-www-form-urlencoded " : "",
	    (rt->flags & RL_ROUTE_MULTIPART) ? "multipart/form-data" : "");
}

/* nginx's $request_id, else a client's X-Request-Id, else our own. */
static void
request_id(struct rl_req *req)
{
	static atomic_ullong	 counter;
	const char		*id;

	if (((id = rl_req_env(req, "REQUEST_ID")) != NULL ||
	    (id = rl_req_header(req, "X-Request-Id")) != NULL) &&
	    *id != '\0' && strlen(id) < sizeof(req->id) &&
	    strspn(id, "0123456789abcdefABCDEF-") == strlen(id)) {
		memcpy(req->id, id, strlen(id) + 1);
		return;
	}
	(void)snprintf(req->id, sizeof(req->id), "%08x%016llx",
	    (unsigned)getpid(), (unsigned long long)atomic_fetch_add(&counter,
	    1));
}

static const char *
request_path(struct rl_req *req)
{
	const char	*p, *uri;

	if ((p = rl_req_env(req, "DOCUMENT_URI")) != NULL && *p != '\0')
		return p;
	if ((p = rl_req_env(req, "PATH_INFO")) != NULL && *p != '\0')
		return p;
	if ((uri = rl_req_env(req, "REQUEST_URI")) != NULL && *uri != '\0')
		return rl_arena_strndup(req->arena, uri, strcspn(uri, "?"));
	return "/";
}

static int
role_ok(unsigned int flags, const struct rl_user *u)
{

	if (flags & RL_ROUTE_ADMIN)
		return u->role == RL_ROLE_ADMIN;
	if (flags & RL_ROUTE_COORDO)
		return u->role == RL_ROLE_ADMIN || u->role == RL_ROLE_COORDO;
	return 1;
}

/*
 * An EDxo route says a refused field the Flask way: one message naming
 * the field (its path as "a.0.b"), through the one error path.  Where
 * EDxo's own view has a set wording for a field ("Savoir-faire et
 * capacité requis"), the request schema carries it as that property's
 * "x-message", and it is said instead.
 */
static enum rl_err
reject_edxo(struct rl_req *req, const json_t *first, struct rl_error *e)
{
	const json_t	*loc = json_object_get(first, "loc"), *v, *prop;
	const char	*msg = json_string_value(json_object_get(first, "msg"));
	char		 field[RL_ERRWHERE_MAX];
	size_t		 i, off = 0;
	int		 n;

	field[0] = '\0';
	json_array_foreach(loc, i, v) {
		n = json_is_integer(v) ? snprintf(field + off,
		    sizeof(field) - off, "%s%" JSON_INTEGER_FORMAT,
		    i ? "." : "", json_integer_value(v)) : snprintf(field +
		    off, sizeof(field) - off, "%s%s", i ? "." : "",
		    json_string_value(v) != NULL ? json_string_value(v) : "");
		if (n < 0 || (size_t)n >= sizeof(field) - off)
			break;
		off += (size_t)n;
	}
	prop = json_object_get(json_object_get(rl_schema_json(
	    rl_schema_get(req->route->schema)), "properties"),
	    json_string_value(json_array_get(loc, 0)) != NULL ?
	    json_string_value(json_array_get(loc, 0)) : "");
	if ((v = json_object_get(prop, "x-message")) != NULL &&
	    json_is_string(v))
		return rl_error_field(e, RL_EVALIDATION, field, "%s",
		    json_string_value(v));
	if (off == 0)
		return rl_error_set(e, RL_EVALIDATION, "Données invalides : "
		    "%s", msg != NULL ? msg : "corps de requête refusé");
	return rl_error_field(e, RL_EVALIDATION, field, "%s : %s", field,
	    msg != NULL ? msg : "valeur refusée");
}

/*
 * FastAPI's answer for a body that fails its route's schema: 422 with
 * {"detail": [...]} and every loc prefixed by "body".  Sent here rather than
 * through rl_resp_error because its body is a list, not one error; the
 * status still comes from the error table.
 */
static enum rl_err
reject_422(struct rl_req *req, json_t *errors, struct rl_error *e)
{
	json_t	*body = NULL;

	/* API clients (RL_ROUTE_KEYS) hear one 400 naming the field too. */
	if (req->route->flags & (RL_ROUTE_EDXO | RL_ROUTE_SUCCESS |
	    RL_ROUTE_OPENAI))
		return reject_edxo(req, json_array_get(errors, 0), e);
	/* FastAPI names where a field came from: the body or the query. */
	if (rl_schema_fastapi_422(errors, (req->route->flags &
	    RL_ROUTE_BODY) ? "body" : "query", &body) == RL_OK)
		(void)rl_resp_json(req, rl_err_status(RL_EVALIDATION), body);
	json_decref(body);
	return rl_error_set(e, RL_EVALIDATION, "request failed %s",
	    req->route->schema);
}

/*
 * Validate the request against the route's schema; the handler then sees
 * the validated value in req->json (coerced, defaults filled), never the
 * raw one, however it came: a JSON body as it is; a form (urlencoded or
 * multipart) or, on a route without a body, the query string turned into
 * one object by rl_input_from_fields.  Malformed JSON on such a route is
 * FastAPI's json_invalid with the byte offset.
 */
static enum rl_err
validate_body(struct rl_req *req, enum rl_err parsed, struct rl_error *e)
{
	const struct rl_schema	*s = rl_schema_get(req->route->schema);
	json_t			*out = NULL, *errors = NULL;
	enum rl_err		 err;
	int			 query;

	if (parsed == RL_EJSON) {
		errors = json_pack("[{s:s, s:[], s:s, s:{}, s:{s:s}}]",
		    "type", "json_invalid", "loc", "msg", "JSON decode error",
		    "input", "ctx", "error", e->msg);
		if (errors != NULL && e->where[0] != '\0')
			json_array_append_new(json_object_get(json_array_get(
			    errors, 0), "loc"), json_integer(strtoll(e->where,
			    NULL, 10)));
		err = errors != NULL ? reject_422(req, errors, e) :
		    rl_error_set(e, RL_ENOMEM, NULL);
		json_decref(errors);
		return err;
	}
	if (parsed != RL_OK)
		return parsed;
	query = (req->route->flags & RL_ROUTE_BODY) == 0;
	if (req->json == NULL && (err = rl_input_from_fields(rl_schema_json(s),
	    query ? req->queryv : req->formv, query ? req->nquery :
	    req->nform, &req->json, e)) != RL_OK)
		return err;
	err = rl_schema_validate(s, req->json, &out, &errors, e);
	if (err == RL_EVALIDATION)
		err = reject_422(req, errors, e);
	else if (err == RL_OK) {
		json_decref(req->json);
		req->json = out;
		out = NULL;
	}
	json_decref(out);
	json_decref(errors);
	return err;
}

/*
 * The request schemas (schemas/requests/<id>.json, named by the routes'
 * schema column) join the registry beside EDxo's structured outputs.
 */
static enum rl_err
load_requests(struct rl_error *e)
{
	char	 dir[4096];

	if ((size_t)snprintf(dir, sizeof(dir), "%s/requests",
	    rl_conf->schema_dir) >= sizeof(dir))
		return rl_error_set(e, RL_EINVAL, "RELAIS_SCHEMA_DIR too long");
	return rl_schema_registry_load(dir, e);
}

/* Everything the route row declares, before the handler runs. */
static enum rl_err
prepare(struct rl_req *req, struct rl_error *e)
{
	struct rl_param	 params[RL_ROUTE_MAX_PARAMS];
	const char	*cookie;
	size_t		 i, np;
	enum rl_err	 err, cerr;

	if ((req->method = rl_req_env(req, "REQUEST_METHOD")) == NULL)
		req->method = "GET";
	req->path = request_path(req);
	if ((req->query = rl_req_env(req, "QUERY_STRING")) == NULL)
		req->query = "";
	if ((req->ctype = rl_req_env(req, "CONTENT_TYPE")) == NULL)
		req->ctype = "";
	if (req->path == NULL)
		return rl_error_set(e, RL_ENOMEM, NULL);
	if (strlen(req->path) > RL_URI_MAX || strlen(req->query) > RL_URI_MAX)
		return rl_error_set(e, RL_EINVAL, "request URI too long");
	/*
	 * nginx hands the path percent-decoded: "/api/cours/%ff" arrives as
	 * a 0xff byte, which no handler, message or query may see.
	 */
	if (!rl_utf8_valid(req->path, strlen(req->path)))
		return rl_error_set(e, RL_EINVAL, "request path is not valid "
		    "UTF-8");

	err = rl_route_match(prog->routes, prog->nroutes, req->method,
	    req->path, &req->route, params, &np);
	if (err == RL_EMETHOD)
		return rl_error_set(e, err, "%.16s is not allowed on %.128s",
		    req->method, req->path);
	if (err != RL_OK)
		return rl_error_set(e, err, "no route for %.128s", req->path);
	if ((req->route->flags & RL_ROUTE_APP_PAGE) &&
	    rl_resp_wants_html(req) && strcmp(req->method, "GET") == 0 &&
	    rl_req_env(req, "RELAIS_BESIDE_APPLICATION") != NULL)
		return rl_error_set(e, RL_EMETHOD, "the application serves "
		    "the page on %.128s", req->path);
	for (i = 0; i < np; i++) {
		req->params[i].key = rl_arena_strndup(req->arena,
		    params[i].name, params[i].namelen);
		req->params[i].val = rl_arena_strndup(req->arena,
		    params[i].val, params[i].len);
		req->params[i].len = params[i].len;
		if (req->params[i].key == NULL || req->params[i].val == NULL)
			return rl_error_set(e, RL_ENOMEM, NULL);
	}
	req->nparams = np;

	if ((err = rl_urlencoded_parse(req->arena, req->query,
	    strlen(req->query), '&', &req->queryv, &req->nquery, e)) != RL_OK)
		return err;
	if ((cookie = rl_req_env(req, "HTTP_COOKIE")) != NULL &&
	    (err = rl_cookies_parse(req->arena, cookie, &req->cookiev,
	    &req->ncookie, e)) != RL_OK)
		return err;

	if ((req->route->flags & (RL_ROUTE_AUTH | RL_ROUTE_ADMIN |
	    RL_ROUTE_COORDO)) && (req->route->handler != metrics_answer ||
	    rl_req_env(req, "REMOTE_ADDR") != NULL)) {
		if ((err = rl_auth_resolve(req, e)) != RL_OK)
			return err;
		if (req->user == NULL)
			return rl_error_set(e, RL_EAUTH,
			    "authentication required");
		if (!role_ok(req->route->flags, req->user))
			return rl_error_set(e, RL_EFORBIDDEN,
			    "your role may not use %s", req->route->pattern);
		/* Counted once the user is known, before any body is read. */
		if ((err = rl_ratelimit_check(req, e)) != RL_OK)
			return err;
	}
	err = read_body(req, e);
	/*
	 * A write's CSRF token may be a form field (EDxo's pages post it in
	 * FormData): decided once the body is read.  A refused credential
	 * was answered above, before any body was read.
	 */
	if ((err == RL_OK || err == RL_EJSON) && req->user != NULL &&
	    (cerr = rl_auth_csrf(req, e)) != RL_OK)
		return cerr;
	if (req->route->schema != NULL)
		return validate_body(req, err, e);
	return err;
}

/* One request, start to finish. */
static void
serve(char **env, struct rl_io *io)
{
	static const char	 oom[] = "Status: 500 Internal Server Error\r\n"
	    "Content-Type: application/json\r\n\r\n{\"error\":{\"code\":"
	    "\"out_of_memory\",\"message\":\"out of memory\"}}";
	struct rl_req		 req;
	struct rl_error		 e;
	enum rl_err		 err;

	memset(&req, 0, sizeof(req));
	rl_error_clear(&e);
	rl_metrics_request_begin();
	req.start_us = rl_now_us();
	req.env = env;
	req.io = io;
	if ((req.arena = rl_arena_new()) == NULL) {
		(void)io->write(io->ctx, oom, sizeof(oom) - 1);
		return;
	}

	request_id(&req);
	rl_log_set_request(req.id);
	/* The id a user can quote: it finds the log lines of the request. */
	(void)rl_resp_header(&req, "X-Request-Id", req.id);
	if ((err = prepare(&req, &e)) == RL_OK)
		err = req.route->handler(&req, &e);
	if (err != RL_OK && e.code == RL_OK)
		(void)rl_error_set(&e, err, NULL);
	if (err == RL_OK && !rl_resp_sent(&req))
		err = rl_error_set(&e, RL_EINTERNAL,
		    "the handler sent no answer");
	if (err != RL_OK && !rl_resp_sent(&req))
		(void)rl_resp_error(&req, &e);

	rl_sse_release(&req);
	rl_db_request_end();
	/*
	 * No flush here: the answer still in the stream's buffer goes out
	 * with the records that end the request (finish(), one write for
	 * both), so nginx reads a short answer whole in one wake-up where a
	 * flush first made it two writes and two reads.
	 */
	rl_metrics_request_end(req.route, rl_now_us() - req.start_us);
	/* Who asked: auth.c set req.user when a credential was checked. */
	rl_log_set_user(req.user != NULL ? req.user->id : 0);
	rl_log_request(req.id, req.method != NULL ? req.method : "-",
	    req.path != NULL ? req.path : "-",
	    req.route != NULL ? req.route->pattern : NULL,
	    err == RL_EGONE ? 499 : req.status, rl_now_us() - req.start_us,
	    err != RL_OK ? e.msg : NULL);
	rl_log_set_request(NULL);
	json_decref(req.json);
	rl_multipart_unlink(req.uploads, req.nupload);
	rl_arena_free(req.arena);
#ifdef __GLIBC__
	/*
	 * An upload (a DOCX or PDF read into text) makes libzip, expat and
	 * the reader allocate tens of megabytes in this thread's malloc
	 * arena; glibc keeps freed arena memory for reuse, so an import
	 * program grew to ~300 MB RSS and stayed there.  Give it back.
	 */
	if (req.nupload > 0) {
		(void)io->flush(io->ctx);	/* the answer before the trim */
		(void)malloc_trim(0);
	}
#endif
}

/*
 * libfcgi closes a connection by shutting down its side and reading until
 * nginx closes its own, so that unread input cannot turn the close into a
 * reset that loses the answer: a wait for nginx on every request.  When
 * the handler read the whole body, the end of the input (the empty
 * FCGI_STDIN record nginx sends right after the body) is read here, and
 * with nothing left unread a plain close(2) does: a detached request.  A
 * body left unread (refused before it was read) keeps libfcgi's close.
 */
static void
finish(struct conn *c)
{
	const char		*cl;
	unsigned long long	 clen = 0;

	if ((cl = FCGX_GetParam("CONTENT_LENGTH", c->r.envp)) != NULL)
		clen = strtoull(cl, NULL, 10);
	if (c->nread == clen && !FCGX_HasSeenEOF(c->r.in))
		(void)FCGX_GetChar(c->r.in);
	c->r.detached = FCGX_HasSeenEOF(c->r.in) == EOF;
	FCGX_Finish_r(&c->r);
	c->nread = 0;
}

/* Wait, if enough threads are in accept(2) already, for a turn there. */
static void
idle_enter(struct idler *me)
{

	pthread_mutex_lock(&idle_mu);
	while (accepting >= RL_ACCEPTORS && !atomic_load(&stopping)) {
		me->called = 0;
		me->next = idle_top;
		idle_top = me;
		while (!me->called)
			pthread_cond_wait(&me->cv, &idle_mu);
	}
	accepting++;
	pthread_mutex_unlock(&idle_mu);
}

/* Out of accept(2), a connection in hand: the hottest idle one goes in. */
static void
idle_leave(void)
{
	struct idler	*w;

	pthread_mutex_lock(&idle_mu);
	accepting--;
	if ((w = idle_top) != NULL) {
		idle_top = w->next;
		w->called = 1;
		pthread_cond_signal(&w->cv);
	}
	pthread_mutex_unlock(&idle_mu);
}

static void *
worker(void *arg)
{
	struct conn	 c;
	struct idler	 me;
	struct rl_io	 io = { fcgi_write, fcgi_flush, fcgi_read, fcgi_gone,
			    NULL };
	int		 rc;

	(void)arg;
	memset(&c, 0, sizeof(c));
	memset(&me, 0, sizeof(me));
	pthread_cond_init(&me.cv, NULL);
	if (FCGX_InitRequest(&c.r, listenfd, 0) != 0) {
		rl_log_error("FCGX_InitRequest failed");
		return NULL;
	}
	io.ctx = &c;
	/*
	 * The acceptors block in accept(2) on the one socket, without the
	 * mutex of libfcgi's threaded example (a wake-up before every
	 * accept): Linux wakes one waiter per connection.  The wake-up of
	 * the idle thread that replaces one happens beside the request.
	 */
	for (;;) {
		idle_enter(&me);
		rc = atomic_load(&stopping) ? -1 : FCGX_Accept_r(&c.r);
		idle_leave();
		if (rc < 0)
			break;
		atomic_fetch_add(&active, 1);
		serve(c.r.envp, &io);
		finish(&c);
		atomic_fetch_sub(&active, 1);
	}
	FCGX_Free(&c.r, 1);
	rl_oa_thread_end();
	return NULL;
}

/* Create the unix socket, readable and writable by nginx's user. */
static int
open_socket(const char *path)
{
	struct sockaddr_un	 sun;
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		rl_log_error("socket path too long: %s", path);
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		rl_log_error("socket: %s", strerror(errno));
		return -1;
	}
	(void)unlink(path);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    chmod(path, 0666) == -1 || listen(fd, RL_LISTEN_BACKLOG) == -1) {
		rl_log_error("%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static void
usage(void)
{

	fprintf(stderr, "usage: %s [-hr] [-s socket]\n", prog->name);
}

/*
 * -r: print the route table as JSON and exit, so tests can walk every
 * route of every program (auth and role rules) without a copy of the
 * tables going stale.
 */
static int
print_routes(void)
{
	static const struct {
		unsigned int	 flag;
		const char	*name;
	} names[] = {
		{ RL_ROUTE_AUTH, "AUTH" }, { RL_ROUTE_ADMIN, "ADMIN" },
		{ RL_ROUTE_COORDO, "COORDO" }, { RL_ROUTE_STREAM, "STREAM" },
		{ RL_ROUTE_JSON, "JSON" }, { RL_ROUTE_FORM, "FORM" },
		{ RL_ROUTE_MULTIPART, "MULTIPART" }, { RL_ROUTE_EDXO, "EDXO" },
		{ RL_ROUTE_LEGACY, "LEGACY" },
		{ RL_ROUTE_APP_PAGE, "APP_PAGE" },
		/* scripts/mkopenapi: auth schemes and error bodies. */
		{ RL_ROUTE_KEYS, "KEYS" }, { RL_ROUTE_SUCCESS, "SUCCESS" },
		{ RL_ROUTE_OPENAI, "OPENAI" },
	};
	json_t	*all, *flags;
	size_t	 i, k;
	char	*s;

	if ((all = json_array()) == NULL)
		return 1;
	for (i = 0; i < prog->nroutes; i++) {
		flags = json_array();
		/* All bits: LEGACY includes EDXO's. */
		for (k = 0; k < sizeof(names) / sizeof(names[0]); k++)
			if ((prog->routes[i].flags & names[k].flag) ==
			    names[k].flag)
				json_array_append_new(flags,
				    json_string(names[k].name));
		/*
		 * body_max: the route's own cap, 0 for the defaults
		 * (RL_BODY_MAX, RL_UPLOAD_MAX for multipart), which
		 * scripts/mkopenapi reads from lib/bounds.h.
		 */
		json_array_append_new(all, json_pack("{s:s, s:s, s:o, s:s?, "
		    "s:I}", "method", prog->routes[i].method,
		    "pattern", prog->routes[i].pattern, "flags", flags,
		    "schema", prog->routes[i].schema, "body_max",
		    (json_int_t)prog->routes[i].body_max));
	}
	s = json_dumps(all, JSON_INDENT(1));
	json_decref(all);
	if (s == NULL)
		return 1;
	printf("%s\n", s);
	free(s);
	return 0;
}

/* Reject a broken route table at start-up, not at the first request. */
static int
check_routes(void)
{
	size_t	 i;

	for (i = 0; i < prog->nroutes; i++) {
		if (!rl_route_pattern_valid(prog->routes[i].pattern)) {
			rl_log_error("route %s: bad pattern",
			    prog->routes[i].pattern);
			return -1;
		}
		if (prog->routes[i].schema != NULL &&
		    rl_schema_get(prog->routes[i].schema) == NULL) {
			rl_log_error("route %s: no schema %s in %s",
			    prog->routes[i].pattern, prog->routes[i].schema,
			    rl_conf->schema_dir);
			return -1;
		}
	}
	return 0;
}

static int
serve_fastcgi(const char *sockpath)
{
	pthread_attr_t	 attr;
	pthread_t	*tids;
	sigset_t	 set;
	struct rl_error	 e;
	int		 i, sig, n = 0, waited;

	if (sockpath != NULL && (listenfd = open_socket(sockpath)) == -1)
		return 1;
	if (sockpath == NULL)
		listenfd = 0;	/* inherited from a spawner, as FastCGI says */
	if (FCGX_Init() != 0) {
		rl_log_error("FCGX_Init failed");
		return 1;
	}
#ifdef __GLIBC__
	/*
	 * No fastbins: libfcgi allocates its 8 KiB stream buffers at every
	 * accept, and glibc answers a request that large by first merging
	 * every small chunk the previous request freed into its fastbins
	 * (malloc_consolidate): a twentieth of a billed call's CPU time.
	 * Small chunks still come from the per-thread cache first.  Built
	 * with jemalloc (configure), malloc is not glibc's and this and the
	 * malloc_trim below touch an unused heap: jemalloc has no fastbins
	 * and gives freed pages back itself, over time (its decay).
	 */
	(void)mallopt(M_MXFAST, 0);
#endif
	/* Signals go to the main thread only, through sigwait. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	/* Tests shorten the heartbeat (conf.c refuses a bad value). */
	if (rl_sse_heartbeat_start(rl_conf->sse_heartbeat_sec, &e) != RL_OK) {
		rl_log_error("%s", e.msg);
		return 1;
	}
	/* After any fork: the listener is this process's own thread. */
	if (prog->needs_db && rl_cache_start(&e) != RL_OK) {
		rl_log_error("%s", e.msg);
		return 1;
	}
	if (prog->needs_db)
		rl_credits_spares_start(prog->name);
	if ((tids = calloc((size_t)rl_conf->threads, sizeof(*tids))) == NULL)
		return 1;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, RL_THREAD_STACK);
	for (i = 0; i < rl_conf->threads; i++, n++)
		if (pthread_create(&tids[i], &attr, worker, NULL) != 0) {
			rl_log_error("could only start %d threads", i);
			break;
		}
	pthread_attr_destroy(&attr);
	if (n == 0)
		return 1;
	rl_log_info("%s: %d threads on %s", prog->name, n,
	    sockpath != NULL ? sockpath : "inherited socket");

	(void)sigwait(&set, &sig);
	rl_log_info("%s: signal %d, stopping", prog->name, sig);
	atomic_store(&stopping, 1);
	FCGX_ShutdownPending();
	/* Wakes the threads blocked in accept(2); the others see stopping. */
	(void)shutdown(listenfd, SHUT_RDWR);
	if (sockpath != NULL)
		(void)unlink(sockpath);
	for (waited = 0; atomic_load(&active) > 0 &&
	    waited < SHUTDOWN_GRACE_SEC * 10; waited++)
		usleep(100000);
	if (atomic_load(&active) > 0)
		rl_log_warn("%s: %d requests still running at exit",
		    prog->name, atomic_load(&active));
	/* Threads mid-stream are not joined: exiting the process ends
	 * them. */
	free(tids);
	return 0;
}

static int
serve_cgi(void)
{
	struct rl_io	 io = { cgi_write, cgi_flush, cgi_read, cgi_gone,
			    NULL };

	serve(environ, &io);
	return fflush(stdout) == 0 ? 0 : 1;
}

/*
 * GET /metrics/<program>: the program's histograms (metrics.c) in
 * Prometheus' text format.  Admin only through nginx; a request that
 * reaches the program's socket without nginx (no REMOTE_ADDR: a scraper
 * on the host itself) needs no account.
 */
static enum rl_err
metrics_answer(struct rl_req *req, struct rl_error *e)
{
	enum rl_err	 err;
	char		*s;

	if ((s = rl_metrics_text()) == NULL)
		return rl_error_set(e, RL_ENOMEM, NULL);
	err = rl_resp_send(req, 200, "text/plain; version=0.0.4; charset=utf-8",
	    s, strlen(s));
	free(s);
	return err;
}

/*
 * The program's route table with the runtime's own rows after it, so
 * that lookup, -r, nginx's locations and the tests see one table.
 */
static int
add_runtime_routes(const struct rl_program *p)
{
	static struct rl_program	 all;
	static char			 path[64];
	struct rl_route			*t;

	if ((size_t)snprintf(path, sizeof(path), "/metrics/%s", p->name) >=
	    sizeof(path) || (t = calloc(p->nroutes + 1, sizeof(*t))) == NULL)
		return -1;
	memcpy(t, p->routes, p->nroutes * sizeof(*t));
	t[p->nroutes].method = "GET";
	t[p->nroutes].pattern = path;
	t[p->nroutes].handler = metrics_answer;
	t[p->nroutes].flags = RL_ROUTE_ADMIN;
	all = *p;
	all.routes = t;
	all.nroutes = p->nroutes + 1;
	prog = &all;
	rl_metrics_init(prog->name, prog->routes, prog->nroutes);
	return 0;
}

int
rl_main(int argc, char *argv[], const struct rl_program *p)
{
	struct rl_error	 e;
	const char	*sockpath = NULL;
	size_t		 i;
	int		 c;

	prog = p;
	if (add_runtime_routes(p) == -1)
		return 1;
	while ((c = getopt(argc, argv, "hrs:")) != -1)
		switch (c) {
		case 'r':
			return print_routes();
		case 's':
			sockpath = optarg;
			break;
		case 'h':
			usage();
			return 0;
		default:
			usage();
			return 2;
		}
	(void)signal(SIGPIPE, SIG_IGN);
	rl_error_clear(&e);
	if (rl_conf_load(prog->threads, &e) != RL_OK) {
		rl_log_error("%s", e.msg);
		return 1;
	}
	for (i = 0; i < prog->nroutes; i++)
		if (prog->routes[i].schema != NULL)
			break;
	/*
	 * Schemas are compiled once, before any thread exists; the response
	 * schemas only when answers are checked (the test suite).
	 */
	if ((i < prog->nroutes || rl_conf->check_responses) &&
	    (rl_schema_registry_load(rl_conf->schema_dir, &e) != RL_OK ||
	    load_requests(&e) != RL_OK || rl_resp_index_load(&e) != RL_OK)) {
		rl_log_error("%s", e.msg);
		return 1;
	}
	if (check_routes() == -1)
		return 1;
	if (rl_start(prog->name, prog->needs_db) == -1)
		return 1;
	/* Every process of the host shares one table of request counters. */
	if (rl_ratelimit_open(NULL, &e) != RL_OK) {
		rl_log_error("%s", e.msg);
		return 1;
	}
	/* EDxo's key, when one is configured: a bad file stops us here. */
	if (prog->needs_db && rl_flask_init(&e) != RL_OK) {
		rl_log_error("%s", e.msg);
		return 1;
	}
	if (prog->init != NULL && prog->init(&e) != RL_OK) {
		rl_log_error("%s: %s", prog->name, e.msg);
		return 1;
	}
	if (sockpath == NULL && FCGX_IsCGI())
		return serve_cgi();
	return serve_fastcgi(sockpath);
}
