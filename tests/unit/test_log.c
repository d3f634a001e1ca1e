/*
 * test_log.c: the log line builders (lib/log.c).  Every line is one
 * complete JSON object however long or hostile its fields: the 4,100-byte
 * path that used to overflow the request line is the first case.
 */
#include "config.h"

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
	    "no route for /aaaa");
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
	n = rl_log_format_request(line, esc, esc, esc, esc, 500,
	    -1, esc);
	ok((o = parse(line, n)) != NULL, "quotes everywhere: still one "
	    "JSON line (%zu bytes)", n);
	ok(json_integer_value(json_object_get(o, "us")) == -1,
	    "the duration is kept");
	json_decref(o);
	for (i = 0; i < RL_URI_MAX; i++)
		esc[i] = (char)(1 + i % 31);
	n = rl_log_format(line, RL_LOG_ERROR, esc, esc);
	ok((o = parse(line, n)) != NULL, "control bytes everywhere: one "
	    "JSON line");
	json_decref(o);

	/* Bytes that are not UTF-8 become U+FFFD; a cut never splits one. */
	n = rl_log_format_request(line, "1", "GET", "/api/cours/\xff\xc3",
	    NULL, 400, 1, NULL);
	o = parse(line, n);
	ok(o != NULL && strcmp(field(o, "path"),
	    "/api/cours/\xef\xbf\xbd\xef\xbf\xbd") == 0,
	    "invalid UTF-8 is logged as U+FFFD");
	json_decref(o);
	for (i = 0; i + 2 < RL_URI_MAX; i += 2)
		memcpy(esc + i, "\xc3\xa9", 2);
	esc[i] = '\0';
	n = rl_log_format_request(line, "1", "GET", esc, NULL, 200, 1, esc);
	ok((o = parse(line, n)) != NULL, "a long run of 2-byte characters "
	    "is cut at a character boundary");
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
