/*
 * echo: a test responder.  Its routes exercise what the runtime does before
 * and after a handler (route lookup, path parameters, body parsing and
 * limits, uploads, SSE, client-gone detection, error mapping, auth flags),
 * so the integration tests check the runtime through real nginx.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arena.h"
#include "db.h"
#include "fcgi.h"
#include "kv.h"
#include "req.h"
#include "resp.h"
#include "sse.h"

/* Small body limit so tests can cross it cheaply. */
#define ECHO_SMALL_MAX	1024

static json_t *
kvs(const struct rl_kv *kv, size_t n)
{
	json_t	*o = json_object();
	size_t	 i;

	for (i = 0; i < n; i++)
		json_object_set_new(o, kv[i].key, json_stringn(kv[i].val,
		    kv[i].len));
	return o;
}

/* Everything the runtime parsed, as JSON. */
static enum rl_err
echo(struct rl_req *req, struct rl_error *e)
{
	json_t	*ups = json_array(), *params = json_object();
	size_t	 i;

	for (i = 0; i < req->nupload; i++)
		json_array_append_new(ups, json_pack("{s:s, s:s, s:s, s:I}",
		    "field", req->uploads[i].field,
		    "filename", req->uploads[i].filename,
		    "ctype", req->uploads[i].ctype,
		    "size", (json_int_t)req->uploads[i].size));
	for (i = 0; i < req->nparams; i++)
		json_object_set_new(params, req->params[i].key,
		    json_string(req->params[i].val));
	return rl_resp_json_new(req, 200, json_pack(
	    "{s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:O?, s:o, s:s?}",
	    "method", req->method, "path", req->path, "id", req->id,
	    "params", params,
	    "query", kvs(req->queryv, req->nquery),
	    "form", kvs(req->formv, req->nform),
	    "cookies", kvs(req->cookiev, req->ncookie),
	    "json", req->json,
	    "uploads", ups,
	    "x_test", rl_req_header(req, "X-Test")));
}

static enum rl_err
item(struct rl_req *req, struct rl_error *e)
{
	long long	 id;
	enum rl_err	 err;

	if ((err = rl_req_param_int(req, "id", &id, e)) != RL_OK)
		return err;
	return rl_resp_json_new(req, 200, json_pack("{s:I}", "id",
	    (json_int_t)id));
}

/* Every error token through the one mapping: /_test/error/<token>. */
static enum rl_err
error(struct rl_req *req, struct rl_error *e)
{
	const char	*want = rl_req_param(req, "code");
	int		 i;

	for (i = 1; i < RL_ERR__MAX; i++)
		if (strcmp(rl_err_token((enum rl_err)i), want) == 0)
			return rl_error_set(e, (enum rl_err)i,
			    "asked for %s", want);
	return rl_error_set(e, RL_ENOTFOUND, "no error token %s", want);
}

/*
 * GET /_test/sse?n=N&ms=M: N frames M ms apart, then a final frame; stops
 * early when the client goes.  Writes a marker file when it sees the client
 * gone, so a test can tell detection happened.
 */
static enum rl_err
sse(struct rl_req *req, struct rl_error *e)
{
	struct rl_sse	*s;
	const char	*v, *mark;
	char		 id[32], data[128];
	int		 i, n = 3, ms = 10;
	FILE		*f;

	if ((v = rl_req_query(req, "n")) != NULL)
		n = atoi(v);
	if ((v = rl_req_query(req, "ms")) != NULL)
		ms = atoi(v);
	if ((s = rl_sse_open(req, e)) == NULL)
		return e->code;
	for (i = 0; i < n; i++) {
		(void)snprintf(id, sizeof(id), "%d", i + 1);
		(void)snprintf(data, sizeof(data),
		    "{\"type\":\"content\",\"content\":\"chunk %d\"}", i + 1);
		if (rl_sse_send(s, i == 0 ? "open" : NULL, id, data) != RL_OK)
			break;
		usleep((useconds_t)ms * 1000);
		if (rl_sse_gone(s))
			break;
	}
	if (i < n) {
		if ((mark = rl_req_query(req, "mark")) != NULL &&
		    strspn(mark, "abcdefghijklmnopqrstuvwxyz0123456789") ==
		    strlen(mark) && (f = fopen(rl_arena_printf(req->arena,
		    "%s/relais-echo-gone-%s", getenv("RELAIS_TMPDIR") ?
		    getenv("RELAIS_TMPDIR") : "/tmp", mark), "w")) != NULL) {
			fprintf(f, "%d\n", i);
			fclose(f);
		}
		return RL_EGONE;
	}
	return rl_sse_send(s, "done", NULL, "{\"type\":\"done\"}\nsecond line");
}

/*
 * GET /_test/db/forget: take a transaction-scoped advisory lock and return
 * without committing.  The runtime must roll the transaction back, or the
 * lock stays held and /_test/db/check sees it.
 */
static enum rl_err
db_forget(struct rl_req *req, struct rl_error *e)
{
	enum rl_err	 err;

	if ((err = rl_db_begin(e)) != RL_OK ||
	    (err = rl_db_exec("SELECT pg_advisory_xact_lock(7242)", 0, NULL,
	    NULL, e)) != RL_OK)
		return err;
	return rl_resp_json_new(req, 200, json_pack("{s:b}", "locked", 1));
}

static enum rl_err
db_check(struct rl_req *req, struct rl_error *e)
{
	struct rl_dbres	*r;
	enum rl_err	 err;
	int		 free_;

	if ((err = rl_db_exec("SELECT pg_try_advisory_lock(7242)", 0, NULL,
	    &r, e)) != RL_OK)
		return err;
	free_ = strcmp(rl_dbres_get(r, 0, 0), "t") == 0;
	rl_dbres_free(r);
	if (free_ && (err = rl_db_exec("SELECT pg_advisory_unlock(7242)", 0,
	    NULL, NULL, e)) != RL_OK)
		return err;
	return rl_resp_json_new(req, 200, json_pack("{s:b}", "free", free_));
}

/*
 * GET /_test/badshape: an answer that breaks its own response schema
 * (resp-echo-badshape wants {ok: true}), so a test sees the check say
 * "invalid" and log it.
 */
static enum rl_err
badshape(struct rl_req *req, struct rl_error *e)
{

	return rl_resp_json_new(req, 200, json_pack("{s:b}", "bad", 1));
}

/*
 * GET /_test/dberror: a statement PostgreSQL refuses (22P02, a uuid cast
 * of a bad value), so a test sees that the client gets "database error"
 * and the log gets PostgreSQL's text with the request id.
 */
static enum rl_err
dberror(struct rl_req *req, struct rl_error *e)
{
	const char	*p[1] = { "not-a-uuid" };

	return rl_db_exec("SELECT $1::uuid", 1, p, NULL, e);
}

static enum rl_err
noanswer(struct rl_req *req, struct rl_error *e)
{

	return RL_OK;	/* a bug the runtime must turn into a 500 */
}

static const struct rl_route routes[] = {
	{ "GET", "/_test/echo", echo, NULL, 0, 0 },
	{ "POST", "/_test/echo", echo, NULL,
	    RL_ROUTE_JSON | RL_ROUTE_FORM | RL_ROUTE_MULTIPART, 0 },
	{ "POST", "/_test/json", echo, NULL, RL_ROUTE_JSON, 0 },
	{ "POST", "/_test/validated", echo, "PlanDeCoursAIResponse",
	    RL_ROUTE_JSON, 0 },
	/* Declared inputs: the same fields however they are sent. */
	{ "POST", "/_test/fields", echo, "req-echo-fields",
	    RL_ROUTE_JSON | RL_ROUTE_FORM | RL_ROUTE_MULTIPART, 0 },
	{ "GET", "/_test/fields", echo, "req-echo-fields", 0, 0 },
	/* The same refusal in EDxo's two error shapes. */
	{ "POST", "/_test/fields_edxo", echo, "req-echo-fields",
	    RL_ROUTE_BODY | RL_ROUTE_EDXO, 0 },
	{ "POST", "/_test/fields_legacy", echo, "req-echo-fields",
	    RL_ROUTE_BODY | RL_ROUTE_LEGACY, 0 },
	{ "POST", "/_test/small", echo, NULL, RL_ROUTE_JSON,
	    ECHO_SMALL_MAX },
	{ "POST", "/_test/upload", echo, NULL, RL_ROUTE_MULTIPART,
	    64 * 1024 },
	{ "GET", "/_test/item/<int:id>", item, NULL, 0, 0 },
	{ "GET", "/_test/files/<path:rest>", echo, NULL, 0, 0 },
	{ "GET", "/_test/error/<code>", error, NULL, 0, 0 },
	{ "POST", "/_test/edxo", echo, "PlanDeCoursAIResponse",
	    RL_ROUTE_JSON | RL_ROUTE_EDXO, 0 },
	{ "GET", "/_test/edxo/error/<code>", error, NULL, RL_ROUTE_EDXO, 0 },
	{ "GET", "/_test/sse", sse, NULL, RL_ROUTE_STREAM, 0 },
	{ "GET", "/_test/noanswer", noanswer, NULL, 0, 0 },
	{ "GET", "/_test/dberror", dberror, NULL, 0, 0 },
	{ "GET", "/_test/badshape", badshape, NULL, 0, 0 },
	{ "GET", "/_test/db/forget", db_forget, NULL, 0, 0 },
	{ "GET", "/_test/db/check", db_check, NULL, 0, 0 },
	{ "GET", "/_test/private", echo, NULL, RL_ROUTE_AUTH, 0 },
	{ "GET", "/_test/admin", echo, NULL, RL_ROUTE_ADMIN, 0 },
};

static const struct rl_program program = {
	"echo", routes, RL_NROUTES(routes), 0, 1, NULL
};

int
main(int argc, char *argv[])
{

	return rl_main(argc, argv, &program);
}
