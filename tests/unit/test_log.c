/*
 * test_log.c: the log line builders (lib/log.c).  Every line is one
 * complete JSON object however long or hostile its fields: the 4,100-byte
 * path that used to overflow the request line is the first case.
 */
#include "config.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "harness.h"
#include "log.h"

/* Parse a line: one object, newline-terminated, within the buffer. */
static json_t *
parse(const char *buf, size_t n)
{
	json_error_t	 je;

	if (n == 0 || n > RL_LOG_LINE_MAX || buf[n - 1] != '\n')
		return NULL;
	return json_loadb(buf, n - 1, 0, &je);
}

static const char *
field(json_t *o, const char *k)
{

	return json_string_value(json_object_get(o, k));
}

int
main(void)
{
	char		 line[RL_LOG_LINE_MAX], *big, *esc;
	struct rl_log_ctx ctx;
	json_t		*o;
	size_t		 n, i;
	const char	*p;

	/* The crash of issue 14: a path of 4,100 then 8,000 bytes. */
	big = malloc(RL_URI_MAX + 1);
	esc = malloc(RL_URI_MAX + 1);
	memset(big, 'a', RL_URI_MAX);
	big[RL_URI_MAX] = '\0';
	big[0] = '/';
	n = rl_log_format_request(line, "abc", "GET", big, NULL, 404, 12,
	    "no route for /aaaa", NULL);
	o = parse(line, n);
	ok(o != NULL, "an %d-byte path gives one JSON line (%zu bytes)",
	    RL_URI_MAX, n);
	ok(json_integer_value(json_object_get(o, "status")) == 404 &&
	    field(o, "error") != NULL, "status and error survive a long path");
	p = field(o, "path");
	ok(p != NULL && strlen(p) <= RL_LOG_PATH_MAX &&
	    strncmp(p, "/aaa", 4) == 0 &&
	    strcmp(p + strlen(p) - 3, "\xe2\x80\xa6") == 0,
	    "the path is cut to RL_LOG_PATH_MAX and marked");
	json_decref(o);

	/* Every field long, and every byte one that needs escaping. */
	memset(esc, '"', RL_URI_MAX);
	esc[RL_URI_MAX] = '\0';
	memset(&ctx, 0, sizeof(ctx));
	ctx.user_id = 7;
	ctx.calls = 2;
	ctx.cost_micro = LLONG_MAX;
	ctx.upstream_us = LLONG_MIN;
	ctx.tokens_in = ctx.tokens_out = LLONG_MAX;
	memset(ctx.model, '"', sizeof(ctx.model) - 1);
	n = rl_log_format_request(line, esc, esc, esc, esc, 500,
	    -1, esc, &ctx);
	ok((o = parse(line, n)) != NULL, "quotes everywhere: still one "
	    "JSON line (%zu bytes)", n);
	ok(json_integer_value(json_object_get(o, "us")) == -1,
	    "the duration is kept");
	ok(json_integer_value(json_object_get(o, "cost_micro")) == LLONG_MAX &&
	    json_integer_value(json_object_get(o, "tokens_out")) ==
	    LLONG_MAX && json_integer_value(json_object_get(o,
	    "upstream_us")) == LLONG_MIN && field(o, "model") != NULL,
	    "the upstream figures survive the longest fields");
	json_decref(o);
	for (i = 0; i < RL_URI_MAX; i++)
		esc[i] = (char)(1 + i % 31);
	n = rl_log_format(line, RL_LOG_ERROR, esc, esc);
	ok((o = parse(line, n)) != NULL, "control bytes everywhere: one "
	    "JSON line");
	json_decref(o);

	/* Bytes that are not UTF-8 become U+FFFD; a cut never splits one. */
	n = rl_log_format_request(line, "1", "GET", "/api/cours/\xff\xc3",
	    NULL, 400, 1, NULL, NULL);
	o = parse(line, n);
	ok(o != NULL && strcmp(field(o, "path"),
	    "/api/cours/\xef\xbf\xbd\xef\xbf\xbd") == 0,
	    "invalid UTF-8 is logged as U+FFFD");
	json_decref(o);
	for (i = 0; i + 2 < RL_URI_MAX; i += 2)
		memcpy(esc + i, "\xc3\xa9", 2);
	esc[i] = '\0';
	n = rl_log_format_request(line, "1", "GET", esc, NULL, 200, 1, esc,
	    NULL);
	ok((o = parse(line, n)) != NULL, "a long run of 2-byte characters "
	    "is cut at a character boundary");
	json_decref(o);

	/* Who asked, and what the upstream took: only when it was called. */
	memset(&ctx, 0, sizeof(ctx));
	n = rl_log_format_request(line, "1", "POST", "/x", "/x", 402, 5,
	    "insufficient credits", &ctx);
	o = parse(line, n);
	ok(o != NULL && json_is_null(json_object_get(o, "user")) &&
	    json_object_get(o, "cost_micro") == NULL &&
	    json_object_get(o, "upstream_calls") == NULL,
	    "a refused anonymous call: user null, no upstream figures");
	json_decref(o);
	ctx.user_id = 42;
	ctx.calls = 1;
	ctx.upstream_status = 200;
	ctx.upstream_us = 1500;
	ctx.tokens_in = 10;
	ctx.tokens_out = 20;
	ctx.cost_micro = 33;
	memcpy(ctx.model, "gpt-5-mini", 11);
	n = rl_log_format_request(line, "1", "POST", "/x", "/x", 200, 5,
	    NULL, &ctx);
	o = parse(line, n);
	ok(o != NULL && json_integer_value(json_object_get(o, "user")) == 42 &&
	    json_integer_value(json_object_get(o, "upstream_calls")) == 1 &&
	    json_integer_value(json_object_get(o, "upstream_failed")) == 0 &&
	    json_integer_value(json_object_get(o, "upstream_us")) == 1500 &&
	    json_integer_value(json_object_get(o, "tokens_in")) == 10 &&
	    json_integer_value(json_object_get(o, "tokens_out")) == 20 &&
	    json_integer_value(json_object_get(o, "cost_micro")) == 33 &&
	    strcmp(field(o, "model"), "gpt-5-mini") == 0,
	    "a billed call: user, upstream time, tokens, cost and model");
	json_decref(o);

	/* A task's line: the same tail as a request's. */
	n = rl_log_format_task(line, "0b5f7c1e-0000-4000-8000-000000000001",
	    "openai.chat", 2, "SUCCESS", 7, NULL, &ctx);
	o = parse(line, n);
	ok(o != NULL && strcmp(field(o, "level"), "info") == 0 &&
	    strcmp(field(o, "task"), "openai.chat") == 0 &&
	    json_integer_value(json_object_get(o, "attempt")) == 2 &&
	    strcmp(field(o, "state"), "SUCCESS") == 0 &&
	    json_integer_value(json_object_get(o, "us")) == 7 &&
	    json_integer_value(json_object_get(o, "user")) == 42 &&
	    json_integer_value(json_object_get(o, "cost_micro")) == 33 &&
	    strcmp(field(o, "model"), "gpt-5-mini") == 0 &&
	    json_object_get(o, "error") == NULL &&
	    json_object_get(o, "method") == NULL,
	    "a task line: id, kind, attempt, state, user and upstream "
	    "figures");
	json_decref(o);
	n = rl_log_format_task(line, "t", "x", 1, NULL, 1, "outcome not "
	    "written", NULL);
	o = parse(line, n);
	ok(o != NULL && strcmp(field(o, "level"), "warn") == 0 &&
	    json_is_null(json_object_get(o, "state")) &&
	    json_is_null(json_object_get(o, "user")) &&
	    strcmp(field(o, "error"), "outcome not written") == 0,
	    "a task whose outcome was not written: warn, state null");
	json_decref(o);
	memset(&ctx, 0, sizeof(ctx));
	ctx.calls = 1;
	memset(ctx.model, '"', sizeof(ctx.model) - 1);
	n = rl_log_format_task(line, esc, esc, INT_MIN, esc, LLONG_MIN, esc,
	    &ctx);
	ok((o = parse(line, n)) != NULL && json_integer_value(
	    json_object_get(o, "us")) == LLONG_MIN, "a task line of long "
	    "fields: still one JSON line (%zu bytes)", n);
	json_decref(o);

	/* The request id rides along on rl_log() lines. */
	n = rl_log_format(line, RL_LOG_WARN, "deadbeef", "hello \"x\"\n");
	o = parse(line, n);
	ok(o != NULL && strcmp(field(o, "req"), "deadbeef") == 0 &&
	    strcmp(field(o, "msg"), "hello \"x\"\n") == 0 &&
	    strcmp(field(o, "level"), "warn") == 0,
	    "message, level and request id round-trip");
	json_decref(o);
	n = rl_log_format(line, RL_LOG_INFO, NULL, "");
	o = parse(line, n);
	ok(o != NULL && json_object_get(o, "req") == NULL,
	    "no request: no req key");
	json_decref(o);

	free(big);
	free(esc);
	return done();
}
