/*
 * test_resp.c: response writing, the error mapping and SSE framing
 * (lib/resp.c, lib/err.c, lib/sse.c) against an in-memory client.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "extern.h"
#include "harness.h"
#include "req.h"
#include "resp.h"
#include "sse.h"

struct mem {
	char	 buf[65536];
	size_t	 len;
	int	 fail;	/* refuse writes: a client that went away */
};

static int
mwrite(void *ctx, const void *p, size_t n)
{
	struct mem	*m = ctx;

	if (m->fail || m->len + n >= sizeof(m->buf))
		return -1;
	memcpy(m->buf + m->len, p, n);
	m->len += n;
	m->buf[m->len] = '\0';
	return 0;
}

static int
mflush(void *ctx)
{

	return ((struct mem *)ctx)->fail ? -1 : 0;
}

static int
mgone(void *ctx)
{

	return 0;
}

static void
reset(struct rl_req *req, struct mem *m, struct rl_io *io)
{

	rl_arena_free(req->arena);
	memset(req, 0, sizeof(*req));
	memset(m, 0, sizeof(*m));
	req->arena = rl_arena_new();
	req->method = "GET";
	io->write = mwrite;
	io->flush = mflush;
	io->read = NULL;
	io->gone = mgone;
	io->ctx = m;
	req->io = io;
}

static json_t *
body(const struct mem *m)
{
	const char	*p = strstr(m->buf, "\r\n\r\n");

	return p == NULL ? NULL : json_loads(p + 4, 0, NULL);
}

int
main(void)
{
	struct rl_req	 req;
	struct rl_io	 io;
	struct rl_error	 e;
	struct mem	 m;
	struct rl_sse	*s;
	json_t		*j;
	int		 i, k, uniq = 1, sane = 1;

	memset(&req, 0, sizeof(req));
	for (i = 1; i < RL_ERR__MAX; i++) {
		if (rl_err_status((enum rl_err)i) < 400 ||
		    rl_err_status((enum rl_err)i) > 599)
			sane = 0;
		for (k = 1; k < i; k++)
			if (strcmp(rl_err_token((enum rl_err)i),
			    rl_err_token((enum rl_err)k)) == 0)
				uniq = 0;
	}
	ok(uniq, "every error has its own token");
	ok(sane, "every error maps to a 4xx or 5xx status");
	ok(rl_err_status(RL_EDBDOWN) == 503 &&
	    strcmp(rl_err_token(RL_EDBDOWN), "db_unavailable") == 0,
	    "database down is 503 db_unavailable");

	reset(&req, &m, &io);
	rl_error_set(&e, RL_ENOTFOUND, "no plan %d", 7);
	ok(rl_resp_error(&req, &e) == RL_OK, "error sent");
	ok(strncmp(m.buf, "Status: 404 Not Found\r\n", 23) == 0, "status line");
	ok(strstr(m.buf, "Content-Type: application/json\r\n") != NULL,
	    "JSON content type");
	j = body(&m);
	ok(j != NULL && strcmp(json_string_value(json_object_get(
	    json_object_get(j, "error"), "code")), "not_found") == 0 &&
	    strcmp(json_string_value(json_object_get(json_object_get(j,
	    "error"), "message")), "no plan 7") == 0, "error body shape");
	json_decref(j);
	ok(rl_resp_error(&req, &e) == RL_EINTERNAL, "second answer refused");

	reset(&req, &m, &io);
	rl_error_set(&e, RL_EAUTH, NULL);
	(void)rl_resp_error(&req, &e);
	ok(strstr(m.buf, "Status: 401") != NULL &&
	    strstr(m.buf, "WWW-Authenticate: Bearer\r\n") != NULL,
	    "401 carries WWW-Authenticate");

	reset(&req, &m, &io);
	rl_error_set(&e, RL_EVALIDATION, "bad");
	rl_error_where(&e, "body.message");
	(void)rl_resp_error(&req, &e);
	j = body(&m);
	ok(j != NULL && strcmp(json_string_value(json_object_get(
	    json_object_get(j, "error"), "field")), "body.message") == 0,
	    "field named");
	json_decref(j);

	reset(&req, &m, &io);
	ok(rl_resp_header(&req, "X-A", "1\r\nSet-Cookie: x=y") == RL_EINVAL,
	    "header injection refused");
	ok(rl_resp_header(&req, "X-B", "2") == RL_OK, "header queued");
	ok(rl_resp_json_new(&req, 201, json_pack("{s:i}", "n", 1)) == RL_OK &&
	    strstr(m.buf, "Status: 201 Created\r\n") != NULL &&
	    strstr(m.buf, "X-B: 2\r\n") != NULL &&
	    strstr(m.buf, "\r\n\r\n{\"n\":1}") != NULL, "JSON answer");
	ok(rl_resp_header(&req, "X-C", "3") == RL_EINTERNAL,
	    "header after the head refused");

	reset(&req, &m, &io);
	s = rl_sse_open(&req, &e);
	ok(s != NULL && strstr(m.buf, "Content-Type: text/event-stream") !=
	    NULL && strstr(m.buf, "X-Accel-Buffering: no\r\n") != NULL &&
	    strstr(m.buf, "Cache-Control: no-cache\r\n") != NULL,
	    "SSE head");
	m.len = 0;
	ok(rl_sse_send(s, "progress", "12", "{\"a\":1}") == RL_OK &&
	    strcmp(m.buf, "event: progress\nid: 12\ndata: {\"a\":1}\n\n") == 0,
	    "frame with event and id");
	m.len = 0;
	ok(rl_sse_send(s, NULL, NULL, "a\nb\r\nc") == RL_OK &&
	    strcmp(m.buf, "data: a\ndata: b\ndata: c\n\n") == 0,
	    "newlines split into data lines");
	m.len = 0;
	ok(rl_sse_send(s, "x\ny", NULL, "z") == RL_EINVAL && m.len == 0,
	    "newline in event name refused");
	ok(rl_sse_comment(s, "ping") == RL_OK &&
	    strcmp(m.buf, ": ping\n\n") == 0, "comment");
	m.fail = 1;
	ok(rl_sse_send(s, NULL, NULL, "x") == RL_EGONE, "failed write");
	ok(rl_sse_gone(s), "stream marked gone");
	m.fail = 0;
	ok(rl_sse_send(s, NULL, NULL, "x") == RL_EGONE,
	    "gone stays gone");
	rl_sse_release(&req);
	rl_arena_free(req.arena);
	return done();
}
