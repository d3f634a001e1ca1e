/*
 * test_openai.c: lib/openai.c without the network.  The pure parts (usage
 * of both APIs, the token estimate and bound) are checked on fixed bodies;
 * the URL rules are checked on calls that must be refused before any
 * connection; and a small HTTP/1.1 server on a loopback port, scripted per
 * request, checks what needs a peer: connection reuse, a stream split
 * across writes, the body a stream sends, retries, error bodies, and that
 * a stream stopped by the callback closes its connection.
 */
#include "config.h"

#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "relais.h"
#include "openai.h"
#include "harness.h"

static json_t *
J(const char *s)
{
	json_error_t	 je;
	json_t		*j;

	if ((j = json_loads(s, 0, &je)) == NULL) {
		diag("bad test JSON: %s", je.text);
		abort();
	}
	return j;
}

static void
test_usage(void)
{
	struct rl_usage	 u;
	json_t		*j;

	j = J("{\"id\":\"resp_1\",\"object\":\"response\",\"usage\":"
	    "{\"input_tokens\":36,\"input_tokens_details\":"
	    "{\"cached_tokens\":5},"
	    "\"output_tokens\":16,\"output_tokens_details\":"
	    "{\"reasoning_tokens\":8},\"total_tokens\":52}}");
	ok(rl_oa_usage_parse(j, &u) == 0 && u.input_tokens == 36 &&
	    u.cached_tokens == 5 && u.output_tokens == 16 &&
	    u.reasoning_tokens == 8 && u.reported == 1, "Responses usage");
	ok(rl_oa_usage_parse(json_object_get(j, "usage"), &u) == 0 &&
	    u.input_tokens == 36 && u.reasoning_tokens == 8,
	    "a usage object itself");
	json_decref(j);

	j = J("{\"object\":\"chat.completion\",\"usage\":{\"prompt_tokens\":10,"
	    "\"completion_tokens\":20,\"total_tokens\":30,"
	    "\"prompt_tokens_details\":{\"cached_tokens\":3},"
	    "\"completion_tokens_details\":{\"reasoning_tokens\":4}}}");
	ok(rl_oa_usage_parse(j, &u) == 0 && u.input_tokens == 10 &&
	    u.cached_tokens == 3 && u.output_tokens == 20 &&
	    u.reasoning_tokens == 4 && u.reported == 1, "Chat usage");
	json_decref(j);

	j = J("{\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":2}}");
	ok(rl_oa_usage_parse(j, &u) == 0 && u.input_tokens == 7 &&
	    u.output_tokens == 2 && u.cached_tokens == 0 &&
	    u.reasoning_tokens == 0, "Chat usage without details");
	json_decref(j);

	j = J("{\"object\":\"chat.completion.chunk\",\"usage\":null}");
	u.input_tokens = 99;
	ok(rl_oa_usage_parse(j, &u) == -1 && u.input_tokens == 0 &&
	    u.reported == 0, "usage null: -1 and zeros");
	json_decref(j);

	j = J("{\"usage\":{\"input_tokens\":-4,\"output_tokens\":3}}");
	ok(rl_oa_usage_parse(j, &u) == 0 && u.input_tokens == 0 &&
	    u.output_tokens == 3, "negative counts read as 0");
	json_decref(j);
	ok(rl_oa_usage_parse(NULL, &u) == -1 && u.reported == 0,
	    "no answer: -1");
}

static void
test_tokens(void)
{
	json_t	*j;

	/* 11 code points (13 bytes) of content; role and model not. */
	j = J("{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\","
	    "\"content\":\"h\\u00e9llo w\\u00f6rld\"}]}");
	ok(rl_oa_tokens_estimate(j) == 3, "chat estimate ceil(11 / 4) = 3 "
	    "(got %lld)", rl_oa_tokens_estimate(j));
	ok(rl_oa_tokens_bound(j) == 13 + 8 + 16, "chat bound 13 bytes + 8 + "
	    "16 (got %lld)", rl_oa_tokens_bound(j));
	json_decref(j);

	/* instructions (4) + input parts (5 + 3): 12 code points. */
	j = J("{\"model\":\"o3\",\"instructions\":\"abcd\",\"input\":"
	    "[{\"role\":\"user\",\"content\":[{\"type\":\"input_text\","
	    "\"text\":\"12345\"},{\"type\":\"input_text\","
	    "\"text\":\"\\u20ac\\u20ac\\u20ac\"}]}],"
	    "\"text\":{\"format\":{\"type\":\"json_schema\",\"name\":\"x\","
	    "\"schema\":{\"type\":\"object\",\"properties\":{\"input\":"
	    "{\"type\":\"string\"}}}}},\"metadata\":{\"k\":\"vvvvvvvv\"}}");
	ok(rl_oa_tokens_estimate(j) == 3, "responses estimate ceil(12 / 4)"
	    " = 3 (got %lld)", rl_oa_tokens_estimate(j));
	/* Bytes: 4 + 5 + 9 (three 3-byte euros); one input item. */
	ok(rl_oa_tokens_bound(j) == 18 + 8 + 16, "responses bound (got %lld)",
	    rl_oa_tokens_bound(j));
	json_decref(j);

	/* A string input counts as one item; arrays of strings count. */
	j = J("{\"input\":\"hello\"}");
	ok(rl_oa_tokens_estimate(j) == 2 && rl_oa_tokens_bound(j) == 29,
	    "string input: estimate 2, bound 5 + 8 + 16");
	json_decref(j);
	j = J("{\"input\":[\"abcd\",\"efgh\",\"i\"]}");
	ok(rl_oa_tokens_estimate(j) == 3 && rl_oa_tokens_bound(j) ==
	    9 + 3 * 8 + 16, "array of strings under input");
	json_decref(j);
	/* Tool results and arguments are conversation text too. */
	j = J("{\"messages\":[{\"role\":\"assistant\",\"tool_calls\":[{\"id\":"
	    "\"call_1\",\"function\":{\"name\":\"f\",\"arguments\":\"{}\"}}]},"
	    "{\"role\":\"tool\",\"tool_call_id\":\"call_1\",\"content\":"
	    "\"ok\"}]}");
	ok(rl_oa_tokens_estimate(j) == 1 && rl_oa_tokens_bound(j) ==
	    4 + 2 * 8 + 16, "tool calls: arguments and content count");
	json_decref(j);
	j = J("{}");
	ok(rl_oa_tokens_estimate(j) == 0 && rl_oa_tokens_bound(j) == 16,
	    "empty body: estimate 0, bound 16");
	json_decref(j);
}

/* A call that must be refused before any connection. */
static void
refused(const char *base, const char *key, struct rl_oa_call *c,
    enum rl_err want, const char *what)
{
	struct rl_upstream	 up = { "test", base, key };
	struct rl_error		 e;
	enum rl_err		 rc;

	rc = rl_oa_call(&up, c, &e);
	ok(rc == want && c->attempts == 0 && c->status == 0 &&
	    c->latency_ms < 1000, "%s: %s, not attempted (%s)", what,
	    rl_err_token(want), rc != RL_OK ? e.msg : "ok");
	rl_oa_call_free(c);
}

static void
test_refusals(void)
{
	static const char *const bad[] = {
		"http://example.com/v1", "http://10.0.0.1/v1",
		"http://127.0.0.1.nip.io/v1", "http://localhost.example/v1",
		"http://[::2]/v1", "ftp://127.0.0.1/v1", "file:///etc/v1",
		"gopher://127.0.0.1/", "not a url", "",
	};
	static const char *const inject[] = { "X-A: b\r\nX-B: c", NULL };
	struct rl_oa_call	 c;
	json_t			*body;
	size_t			 i;
	char			 what[128];

	body = J("{\"model\":\"gpt-4o\",\"input\":\"hi\"}");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&c, 0, sizeof(c));
		c.path = "/responses";
		c.body = body;
		(void)snprintf(what, sizeof(what), "base \"%s\"", bad[i]);
		refused(bad[i], "", &c, RL_EINVAL, what);
	}
	memset(&c, 0, sizeof(c));
	c.path = "/responses";
	refused("https://api.openai.com/v1", "sk-x\r\nX-Evil: 1", &c,
	    RL_EINVAL, "key with a line break");
	memset(&c, 0, sizeof(c));
	c.path = "/responses";
	c.headers = inject;
	refused("https://api.openai.com/v1", "", &c, RL_EINVAL,
	    "extra header with a line break");
	memset(&c, 0, sizeof(c));
	c.path = "responses";
	refused("https://api.openai.com/v1", "", &c, RL_EINVAL,
	    "path without a slash");
	memset(&c, 0, sizeof(c));
	c.path = "/files";
	c.upload_path = "/nonexistent/relais-test-upload";
	refused("https://api.openai.com/v1", "", &c, RL_EIO,
	    "missing upload file");
	memset(&c, 0, sizeof(c));
	c.path = "/responses";
	c.method = "GET";
	c.body = body;
	refused("https://api.openai.com/v1", "", &c, RL_EINVAL,
	    "GET with a body");
	memset(&c, 0, sizeof(c));
	c.path = "/responses";
	c.method = "PO ST";
	refused("https://api.openai.com/v1", "", &c, RL_EINVAL, "bad method");
	json_decref(body);
}

/* Loopback over http is allowed: it gets as far as connecting. */
static void
test_loopback(void)
{
	static const char *const good[] = {
		"http://127.0.0.1:1/v1", "http://127.8.9.10:1/v1",
		"http://localhost:1/v1", "http://LOCALHOST:1/v1/",
		"http://[::1]:1/v1",
	};
	struct rl_upstream	 up = { "test", NULL, NULL };
	struct rl_oa_call	 c;
	struct rl_error		 e;
	enum rl_err		 rc;
	size_t			 i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		memset(&c, 0, sizeof(c));
		c.path = "/models";
		c.max_attempts = 1;
		up.base_url = good[i];
		rc = rl_oa_call(&up, &c, &e);
		ok(rc == RL_EUPSTREAM && c.attempts == 1,
		    "%s: allowed, connection refused (%s)", good[i],
		    rc != RL_OK ? e.msg : "ok");
		rl_oa_call_free(&c);
	}
}

/*
 * The scripted server.  One thread, one connection at a time, requests
 * served in order; each request gets the next step of the script.
 */
enum step {
	S_JSON,		/* 200 JSON, keep-alive */
	S_503,		/* 503 with Retry-After: 0 */
	S_400,		/* 400 with an OpenAI error body */
	S_STREAM,	/* a Responses stream, split over many writes */
	S_CHAT,		/* a chat stream with usage, then [DONE] */
	S_HOLD,		/* two events, then wait for the client to leave */
	S_GARBAGE,	/* 200 application/json that is not JSON */
	S_COPIES,	/* a Responses stream whose copies test the reading */
	S_SILENT	/* nothing at all: wait for the client to leave */
};

struct srv {
	int		 lfd;
	int		 port;
	pthread_t	 th;
	const enum step	*script;
	int		 nscript;
	int		 accepts;
	int		 requests;
	int		 closed;	/* S_HOLD saw the client close */
	long long	 closed_ms;	/* how long S_HOLD waited */
	char		 body[8192];	/* body of the last request */
};

static long long
ms_now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
send_all(int fd, const char *s, size_t n)
{
	ssize_t	 w;

	while (n > 0) {
		if ((w = send(fd, s, n, MSG_NOSIGNAL)) <= 0)
			return -1;
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
send_str(int fd, const char *s)
{

	return send_all(fd, s, strlen(s));
}

static int
send_chunk(int fd, const char *s, size_t n)
{
	char	 h[32];

	(void)snprintf(h, sizeof(h), "%zx\r\n", n);
	if (send_str(fd, h) == -1 || send_all(fd, s, n) == -1)
		return -1;
	return send_str(fd, "\r\n");
}

/* Read one request: headers, then Content-Length bytes.  -1: closed. */
static int
read_request(struct srv *s, int fd)
{
	char	 buf[16384], *end, *cl;
	size_t	 len = 0, want;
	ssize_t	 r;

	for (;;) {
		if (len == sizeof(buf) - 1)
			return -1;
		if ((r = recv(fd, buf + len, sizeof(buf) - 1 - len, 0)) <= 0)
			return -1;
		len += (size_t)r;
		buf[len] = '\0';
		if ((end = strstr(buf, "\r\n\r\n")) != NULL)
			break;
	}
	want = 0;
	if ((cl = strcasestr(buf, "\r\nContent-Length:")) != NULL && cl < end)
		want = strtoul(cl + 17, NULL, 10);
	end += 4;
	while ((size_t)(buf + len - end) < want) {
		if (len == sizeof(buf) - 1)
			return -1;
		if ((r = recv(fd, buf + len, sizeof(buf) - 1 - len, 0)) <= 0)
			return -1;
		len += (size_t)r;
		buf[len] = '\0';
	}
	(void)snprintf(s->body, sizeof(s->body), "%.*s", (int)want, end);
	return 0;
}

static void
pause_ms(long ms)
{
	struct timespec	 ts = { 0, ms * 1000000L };

	(void)nanosleep(&ts, NULL);
}

#define SSE_HEAD "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n" \
	"Transfer-Encoding: chunked\r\nx-request-id: req_sse\r\n\r\n"

static const char stream_body[] =
    "event: response.created\n"
    "data: {\"type\":\"response.created\",\"response\":{\"id\":\"resp_s\","
    "\"status\":\"in_progress\"}}\n\n"
    ": comment\n\n"
    "event: response.output_text.delta\n"
    "data: {\"type\":\"response.output_text.delta\",\"output_index\":0,"
    "\"delta\":\"Bon\"}\n\n"
    "event: response.output_text.delta\r\n"
    "data: {\"type\":\"response.output_text.delta\",\"output_index\":0,"
    "\"delta\":\"jour\"}\r\n\r\n"
    "event: response.output_item.done\n"
    "data: {\"type\":\"response.output_item.done\",\"output_index\":0,"
    "\"item\":{}}\n\n"
    "event: response.completed\n"
    "data: {\"type\":\"response.completed\",\"response\":{\"id\":\"resp_s\","
    "\"object\":\"response\",\"status\":\"completed\",\"usage\":"
    "{\"input_tokens\":5,\"output_tokens\":2}}}\n\n";

/*
 * The response's copies, read off their bytes (openai.c, copy_id): the
 * created one hides "response" and "id" in strings and nested values
 * before its own; the in_progress one escapes its id, so it is parsed.
 */
static const char copies_body[] =
    "event: response.created\n"
    "data: {\"type\":\"response.created\",\"sequence_number\":0,"
    "\"tools\":[{\"d\":\"a \\\"}\\\" ],\\\\\",\"response\":{\"id\":\"no\"}}],"
    "\"n\":-1.5e3,\"t\":true, \"response\" : {\"object\":\"response\","
    "\"x\":{\"id\":\"no\"},\"id\":\"resp_w\",\"status\":\"in_progress\"}}\n\n"
    "event: response.in_progress\n"
    "data: {\"type\":\"response.in_progress\",\"response\":"
    "{\"id\":\"resp_\\u0065\"}}\n\n"
    "event: response.completed\n"
    "data: {\"type\":\"response.completed\",\"response\":{\"id\":\"resp_e\","
    "\"object\":\"response\",\"status\":\"completed\",\"usage\":"
    "{\"input_tokens\":5,\"output_tokens\":0}}}\n\n";

static const char chat_body[] =
    "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\","
    "\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\","
    "\"content\":\"\"},\"finish_reason\":null}],\"usage\":null}\n\n"
    "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\","
    "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Salut\"},"
    "\"finish_reason\":null}],\"usage\":null}\n\n"
    "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\","
    "\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,"
    "\"function\":{\"arguments\":\"{}\"}}]},\"finish_reason\":null}],"
    "\"usage\":null}\n\n"
    "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\","
    "\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],"
    "\"usage\":null}\n\n"
    "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\","
    "\"choices\":[],\"usage\":{\"prompt_tokens\":4,"
    "\"completion_tokens\":2}}\n\n"
    "data: [DONE]\n\n";

/* Serve one step; returns 1 when the connection must be closed. */
static int
serve_step(struct srv *s, int fd, enum step st)
{
	static const char json[] = "{\"id\":\"file-1\",\"object\":\"file\"}";
	static const char err[] = "{\"error\":{\"message\":\"Bad thing.\","
	    "\"type\":\"invalid_request_error\",\"param\":null,"
	    "\"code\":null}}";
	static const char garbage[] = "<html>not json";
	char		 h[512];
	size_t		 i, n;
	long long	 t0;
	struct pollfd	 pfd;
	char		 b;

	switch (st) {
	case S_JSON:
	case S_400:
	case S_503:
	case S_GARBAGE:
		(void)snprintf(h, sizeof(h), "HTTP/1.1 %s\r\nContent-Type: "
		    "application/json\r\nContent-Length: %zu\r\n"
		    "x-request-id: req_%d\r\n%s\r\n",
		    st == S_400 ? "400 Bad Request" : st == S_503 ?
		    "503 Service Unavailable" : "200 OK",
		    st == S_JSON ? sizeof(json) - 1 : st == S_GARBAGE ?
		    sizeof(garbage) - 1 : sizeof(err) - 1, s->requests,
		    st == S_503 ? "Retry-After: 0\r\n" : "");
		if (send_str(fd, h) == -1)
			return 1;
		return send_str(fd, st == S_JSON ? json : st == S_GARBAGE ?
		    garbage : err) == -1;
	case S_STREAM:
		if (send_str(fd, SSE_HEAD) == -1)
			return 1;
		/* Uneven pieces with pauses: curl delivers them apart. */
		n = sizeof(stream_body) - 1;
		for (i = 0; i < n; i += 37) {
			if (send_chunk(fd, stream_body + i, n - i < 37 ?
			    n - i : 37) == -1)
				return 1;
			pause_ms(2);
		}
		return send_str(fd, "0\r\n\r\n") == -1;
	case S_CHAT:
	case S_COPIES:
		if (send_str(fd, SSE_HEAD) == -1 ||
		    send_chunk(fd, st == S_CHAT ? chat_body : copies_body,
		    st == S_CHAT ? sizeof(chat_body) - 1 :
		    sizeof(copies_body) - 1) == -1)
			return 1;
		return send_str(fd, "0\r\n\r\n") == -1;
	case S_SILENT:
	case S_HOLD:
		if (st == S_HOLD && (send_str(fd, SSE_HEAD) == -1 ||
		    send_chunk(fd, stream_body, 400) == -1))
			return 1;
		/* Wait up to 10 s for the client to hang up. */
		t0 = ms_now();
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 10000) == 1 && recv(fd, &b, 1, 0) <= 0)
			s->closed = 1;
		s->closed_ms = ms_now() - t0;
		return 1;
	}
	return 1;
}

static void *
serve(void *arg)
{
	struct srv	*s = arg;
	struct pollfd	 pfd;
	int		 fd = -1;

	while (s->requests < s->nscript) {
		if (fd == -1) {
			pfd.fd = s->lfd;
			pfd.events = POLLIN;
			if (poll(&pfd, 1, 10000) != 1 ||
			    (fd = accept(s->lfd, NULL, NULL)) == -1)
				break;
			s->accepts++;
		}
		if (read_request(s, fd) == -1) {
			close(fd);
			fd = -1;
			continue;
		}
		if (serve_step(s, fd, s->script[s->requests++])) {
			close(fd);
			fd = -1;
		}
	}
	if (fd != -1)
		close(fd);
	return NULL;
}

static int
srv_start(struct srv *s, const enum step *script, int n)
{
	struct sockaddr_in	 sin;
	socklen_t		 sl = sizeof(sin);

	memset(s, 0, sizeof(*s));
	s->script = script;
	s->nscript = n;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((s->lfd = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    bind(s->lfd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(s->lfd, 8) == -1 ||
	    getsockname(s->lfd, (struct sockaddr *)&sin, &sl) == -1)
		return -1;
	s->port = ntohs(sin.sin_port);
	return pthread_create(&s->th, NULL, serve, s) == 0 ? 0 : -1;
}

static void
srv_stop(struct srv *s)
{

	pthread_join(s->th, NULL);
	close(s->lfd);
}

struct seen {
	int	 n[RL_OA_EV_ERROR + 1];
	int	 total;
	int	 stop_after;
	char	 text[256];
	char	 args[256];
	const struct rl_oa_call *c;
	char	 ids[256];	/* the call's response id after each event */
	char	 parsed[64];	/* 1 when the event came parsed, else 0 */
	char	 copy[256];	/* response.id of rl_oa_event_json */
};

static int
on_event(void *arg, const struct rl_oa_event *ev)
{
	struct seen	*s = arg;
	size_t		 l;

	json_t		*j;

	s->n[ev->kind]++;
	s->total++;
	if (s->c != NULL) {
		l = strlen(s->ids);
		(void)snprintf(s->ids + l, sizeof(s->ids) - l, "%s;",
		    s->c->response_id);
		l = strlen(s->parsed);
		(void)snprintf(s->parsed + l, sizeof(s->parsed) - l, "%d",
		    ev->data != NULL);
		j = rl_oa_event_json(ev);
		l = strlen(s->copy);
		(void)snprintf(s->copy + l, sizeof(s->copy) - l, "%s;",
		    json_string_value(json_object_get(json_object_get(j,
		    "response"), "id")));
		json_decref(j);
	}
	if (ev->kind == RL_OA_EV_TEXT || ev->kind == RL_OA_EV_TOOL_ARGS) {
		l = strlen(ev->kind == RL_OA_EV_TEXT ? s->text : s->args);
		(void)snprintf((ev->kind == RL_OA_EV_TEXT ? s->text :
		    s->args) + l, sizeof(s->text) - l, "%.*s",
		    (int)ev->deltalen, ev->delta);
	}
	return s->stop_after > 0 && s->total >= s->stop_after;
}

/* A streamed Responses call of body, its events counted in seen. */
static enum rl_err
responses_stream(const struct rl_upstream *up, struct rl_oa_call *c,
    json_t *body, struct seen *seen, struct rl_error *e)
{

	memset(seen, 0, sizeof(*seen));
	seen->c = c;
	c->path = "/responses";
	c->body = body;
	c->on_event = on_event;
	c->arg = seen;
	return rl_oa_call(up, c, e);
}

static void
test_server(void)
{
	static const enum step script[] = {
		S_JSON, S_JSON, S_STREAM, S_CHAT, S_HOLD, S_JSON,
		S_503, S_JSON, S_400, S_GARBAGE, S_COPIES,
	};
	struct srv		 s;
	struct rl_upstream	 up = { "test", NULL, "sk-test" };
	struct rl_oa_call	 c;
	struct rl_error		 e;
	struct seen		 seen;
	json_t			*body, *sent;
	char			 base[64];
	enum rl_err		 rc;

	if (!ok(srv_start(&s, script, sizeof(script) / sizeof(script[0])) ==
	    0, "scripted server on a loopback port"))
		return;
	(void)snprintf(base, sizeof(base), "http://127.0.0.1:%d/v1", s.port);
	up.base_url = base;

	/* Two plain calls share one connection. */
	memset(&c, 0, sizeof(c));
	c.path = "/files/file-1";
	rc = rl_oa_call(&up, &c, &e);
	ok(rc == RL_OK && c.status == 200 && c.attempts == 1 &&
	    strcmp(c.response_id, "file-1") == 0 &&
	    strcmp(c.request_id, "req_1") == 0 && c.usage.reported == 0,
	    "GET: answer, ids, no usage");
	rc = rl_oa_call(&up, &c, &e);
	ok(rc == RL_OK && strcmp(c.request_id, "req_2") == 0 &&
	    s.accepts == 1, "second call reuses the connection (accepts %d)",
	    s.accepts);

	/* A Responses stream split over many small writes. */
	body = J("{\"model\":\"gpt-4o\",\"input\":\"hello\"}");
	rc = responses_stream(&up, &c, body, &seen, &e);
	ok(rc == RL_OK && seen.n[RL_OA_EV_TEXT] == 2 &&
	    strcmp(seen.text, "Bonjour") == 0 &&
	    seen.n[RL_OA_EV_ITEM_DONE] == 1 && seen.n[RL_OA_EV_DONE] == 1 &&
	    seen.n[RL_OA_EV_OTHER] == 1, "stream: events (%s)",
	    rc != RL_OK ? e.msg : "ok");
	ok(c.started == 1 && c.stopped == 0 &&
	    strcmp(c.response_id, "resp_s") == 0 &&
	    strcmp(c.finish, "completed") == 0 &&
	    json_is_object(c.answer) && c.usage.reported == 1 &&
	    c.usage.input_tokens == 5 && c.usage.output_tokens == 2,
	    "stream: answer is the final response, usage reported");
	sent = json_loads(s.body, 0, NULL);
	ok(json_is_true(json_object_get(sent, "stream")) &&
	    json_object_get(sent, "stream_options") == NULL &&
	    json_object_get(body, "stream") == NULL,
	    "stream: sent with stream true, caller's body untouched");
	json_decref(sent);
	json_decref(body);

	/* A chat stream: usage asked for, tool arguments, DONE once. */
	memset(&seen, 0, sizeof(seen));
	body = J("{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\","
	    "\"content\":\"hi\"}],\"stream_options\":{\"x\":1}}");
	c.path = "/chat/completions";
	c.body = body;
	rc = rl_oa_call(&up, &c, &e);
	ok(rc == RL_OK && strcmp(seen.text, "Salut") == 0 &&
	    strcmp(seen.args, "{}") == 0 && seen.n[RL_OA_EV_DONE] == 1 &&
	    seen.n[RL_OA_EV_OTHER] == 2, "chat stream: events (%s)",
	    rc != RL_OK ? e.msg : "ok");
	ok(strcmp(c.finish, "stop") == 0 &&
	    strcmp(c.response_id, "chatcmpl-1") == 0 &&
	    c.usage.reported == 1 && c.usage.input_tokens == 4 &&
	    c.usage.output_tokens == 2, "chat stream: finish, id, usage");
	sent = json_loads(s.body, 0, NULL);
	ok(json_is_true(json_object_get(sent, "stream")) &&
	    json_is_true(json_object_get(json_object_get(sent,
	    "stream_options"), "include_usage")) &&
	    json_integer_value(json_object_get(json_object_get(sent,
	    "stream_options"), "x")) == 1,
	    "chat stream: include_usage added to stream_options");
	ok(json_object_get(body, "stream") == NULL &&
	    json_object_size(json_object_get(body, "stream_options")) == 1,
	    "chat stream: the caller's body and its stream_options untouched");
	json_decref(sent);

	/* Stopped by the callback: the connection is closed at once. */
	memset(&seen, 0, sizeof(seen));
	seen.stop_after = 2;
	c.path = "/responses";
	rc = rl_oa_call(&up, &c, &e);
	ok(rc == RL_EGONE && c.stopped == 1 && c.started == 1 &&
	    seen.total == 2, "stop after 2 events: RL_EGONE, stopped");
	ok(strcmp(c.response_id, "resp_s") == 0, "stopped: the response id "
	    "of response.created, which was not parsed (%s)", c.response_id);
	ok(c.usage.reported == 0 && c.usage.output_tokens == 1 &&
	    c.usage.input_tokens == 1,
	    "stopped: usage counted (1 delta, ceil(2 / 4) in)");
	seen.stop_after = 0;
	c.on_event = NULL;
	c.body = NULL;
	c.path = "/files/file-1";
	rc = rl_oa_call(&up, &c, &e);
	ok(rc == RL_OK && s.closed == 1 && s.closed_ms < 5000,
	    "the stopped stream's connection was closed (after %lld ms)",
	    s.closed_ms);
	ok(s.accepts == 2, "the next call opened a new connection");
	json_decref(body);

	/* 503 with Retry-After: 0, then 200. */
	rc = rl_oa_call(&up, &c, &e);
	ok(rc == RL_OK && c.attempts == 2 && c.status == 200,
	    "503 retried, second attempt succeeds");
	/* 400: not retried, the message and the body kept. */
	rc = rl_oa_call(&up, &c, &e);
	ok(rc == RL_EUPSTREAM && c.attempts == 1 && c.status == 400 &&
	    strcmp(e.msg, "Bad thing.") == 0 &&
	    json_is_object(json_object_get(c.answer, "error")),
	    "400: RL_EUPSTREAM, not retried, upstream message");
	rc = rl_oa_call(&up, &c, &e);
	ok(rc == RL_EUPSTREAM && c.status == 200 && c.answer == NULL,
	    "200 with garbage JSON: RL_EUPSTREAM (%s)", e.msg);

	/* The response's copies: read off their bytes, or parsed. */
	body = J("{\"model\":\"gpt-4o\",\"input\":\"hello\"}");
	rc = responses_stream(&up, &c, body, &seen, &e);
	ok(rc == RL_OK && strcmp(seen.ids, "resp_w;resp_e;resp_e;") == 0,
	    "copies: the response id after each event (%s)", seen.ids);
	ok(strcmp(seen.parsed, "011") == 0 && strcmp(seen.copy,
	    "resp_w;resp_e;resp_e;") == 0, "copies: created not parsed, "
	    "in_progress parsed (escaped id), rl_oa_event_json gives both "
	    "(%s, %s)", seen.parsed, seen.copy);
	c.on_event = NULL;
	c.body = NULL;
	json_decref(body);
	rl_oa_call_free(&c);
	srv_stop(&s);
	ok(s.requests == (int)(sizeof(script) / sizeof(script[0])),
	    "the server saw every scripted request");
}

/* A raiser thread: raise the stop after its delay; when, in ms. */
struct raiser {
	struct rl_oa_stop	*stop;
	atomic_int		*flag;	/* or set this, without a wake-up */
	long			 after_ms;
	long long		 at;
	pthread_t		 th;
};

static void *
raise_later(void *arg)
{
	struct raiser	*r = arg;

	pause_ms(r->after_ms);
	r->at = ms_now();
	if (r->stop != NULL)
		rl_oa_stop_raise(r->stop);
	else
		atomic_store(r->flag, 1);
	return NULL;
}

static int
check_flag(void *arg)
{

	return atomic_load((atomic_int *)arg);
}

/*
 * A silent upstream (a model thinking before its first byte): a raised
 * stop ends the call at once, a check within RL_OA_STOP_POLL_MS, and the
 * connection is closed either way.
 */
static void
test_stop(void)
{
	static const enum step script[] = { S_SILENT, S_SILENT };
	struct srv		 s;
	struct rl_upstream	 up = { "test", NULL, "sk-test" };
	struct rl_oa_call	 c;
	struct rl_error		 e;
	struct raiser		 r;
	struct rl_oa_stop	*st;
	struct seen		 seen;
	atomic_int		 flag;
	json_t			*body;
	char			 base[64];
	long long		 lag;
	enum rl_err		 rc;

	if (!ok(srv_start(&s, script, 2) == 0, "silent server"))
		return;
	(void)snprintf(base, sizeof(base), "http://127.0.0.1:%d/v1", s.port);
	up.base_url = base;
	body = J("{\"model\":\"gpt-4o\",\"input\":\"hello there\"}");
	memset(&c, 0, sizeof(c));
	memset(&seen, 0, sizeof(seen));
	c.path = "/responses";
	c.body = body;
	c.on_event = on_event;
	c.arg = &seen;

	/* A stop raised from another thread, through the thread's stop. */
	memset(&r, 0, sizeof(r));
	r.stop = st = rl_oa_stop_new();
	r.after_ms = 300;
	rl_oa_thread_stop(st, NULL, NULL);
	(void)pthread_create(&r.th, NULL, raise_later, &r);
	rc = rl_oa_call(&up, &c, &e);
	lag = ms_now() - r.at;
	pthread_join(r.th, NULL);
	rl_oa_thread_stop(NULL, NULL, NULL);
	ok(rc == RL_EGONE && c.stopped == 1 && c.started == 0 &&
	    c.attempts == 1, "raised stop: RL_EGONE, stopped (%s)", e.msg);
	ok(lag >= 0 && lag < 250, "raised stop ended the call in %lld ms",
	    lag);
	ok(c.usage.reported == 0 && c.usage.input_tokens == 3 &&
	    c.usage.output_tokens == 0,
	    "stopped after sending: the input is counted for billing");

	/* Raised before the call (the call's own stop): nothing sent. */
	c.stop = st;
	rc = rl_oa_call(&up, &c, &e);
	ok(rc == RL_EGONE && c.attempts == 0 && c.usage.input_tokens == 0,
	    "stop raised before the call: nothing sent, nothing counted");
	c.stop = NULL;
	rl_oa_stop_free(st);

	/* A check polled between waits, with no wake-up. */
	atomic_init(&flag, 0);
	memset(&r, 0, sizeof(r));
	r.flag = &flag;
	r.after_ms = 300;
	c.check = check_flag;
	c.check_arg = &flag;
	(void)pthread_create(&r.th, NULL, raise_later, &r);
	rc = rl_oa_call(&up, &c, &e);
	lag = ms_now() - r.at;
	pthread_join(r.th, NULL);
	ok(rc == RL_EGONE && c.stopped == 1, "check: RL_EGONE (%s)", e.msg);
	ok(lag >= 0 && lag < RL_OA_STOP_POLL_MS + 150,
	    "check ended the call in %lld ms", lag);
	rl_oa_call_free(&c);
	srv_stop(&s);
	ok(s.requests == 2 && s.closed == 1 && s.closed_ms < 2000,
	    "the silent server saw both calls hang up (last after %lld ms)",
	    s.closed_ms);
	json_decref(body);
}

int
main(void)
{
	struct rl_error	 e;

	ok(rl_oa_init(&e) == RL_OK && rl_oa_init(&e) == RL_OK,
	    "rl_oa_init twice");
	test_usage();
	test_tokens();
	test_refusals();
	test_loopback();
	test_server();
	test_stop();
	rl_oa_thread_end();
	rl_oa_thread_end();
	return done();
}
