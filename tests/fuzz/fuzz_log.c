/*
 * fuzz_log.c: libFuzzer harness for the log line builders of lib/log.c.
 * The input is split on NUL bytes into the fields of a request line (id,
 * method, path, route, error), a task line (id, kind, state, error) and
 * a message line.  Properties beyond "no crash": each line fits
 * RL_LOG_LINE_MAX, ends in "\n", parses as one JSON object, and a path
 * that is valid UTF-8 without controls comes back unchanged or as a
 * prefix of itself followed by the "…" mark.
 *
 * Build (DIR holds an empty config.h for a hand build):
 *   clang -fsanitize=fuzzer,address,undefined -IDIR -Ilib \
 *     $(pkg-config --cflags --libs jansson) lib/log.c tests/fuzz/fuzz_log.c
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "log.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static json_t *
parse(const char *buf, size_t n)
{
	json_error_t	 je;

	if (n == 0 || n > RL_LOG_LINE_MAX || buf[n - 1] != '\n')
		abort();
	return json_loadb(buf, n - 1, 0, &je);
}

/* Valid UTF-8 without controls: a path the log must keep as it is. */
static int
plain(const char *s)
{
	json_t		*t;
	const char	*p;

	for (p = s; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return 0;
	if ((t = json_string(s)) == NULL)
		return 0;
	json_decref(t);
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rl_log_ctx ctx;
	char		*copy, *f[5], line[RL_LOG_LINE_MAX];
	const char	*got;
	size_t		 i, n, k = 0, glen;
	json_t		*o, *v;

	if ((copy = malloc(size + 1)) == NULL)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	f[k++] = copy;
	for (i = 0; i < size && k < 5; i++)
		if (copy[i] == '\0')
			f[k++] = copy + i + 1;
	while (k < 5)
		f[k++] = "";

	/* The upstream figures too, the model name from the input. */
	memset(&ctx, 0, sizeof(ctx));
	ctx.user_id = (long long)size;
	ctx.calls = (int)(size % 3);
	ctx.cost_micro = -(long long)size;
	(void)snprintf(ctx.model, sizeof(ctx.model), "%s", f[1]);
	n = rl_log_format_request(line, f[0], f[1], f[2], f[3],
	    (int)size % 600, (long long)size, f[4], &ctx);
	if ((o = parse(line, n)) == NULL || !json_is_object(o))
		abort();
	v = json_object_get(o, "path");
	if ((got = json_string_value(v)) == NULL)
		abort();
	glen = json_string_length(v);
	if (json_integer_value(json_object_get(o, "status")) !=
	    (int)size % 600)
		abort();
	/* A valid path is kept, or cut at a boundary and marked. */
	if (plain(f[2])) {
		if (strcmp(got, f[2]) != 0 && (glen < 3 ||
		    strcmp(got + glen - 3, "\xe2\x80\xa6") != 0 ||
		    strncmp(got, f[2], glen - 3) != 0))
			abort();
	}
	json_decref(o);

	n = rl_log_format_task(line, f[0], f[1], (int)size, size % 2 ? f[2] :
	    NULL, (long long)size, f[4], &ctx);
	if ((o = parse(line, n)) == NULL ||
	    json_string_value(json_object_get(o, "task")) == NULL)
		abort();
	json_decref(o);

	n = rl_log_format(line, RL_LOG_INFO, f[0], f[2]);
	if ((o = parse(line, n)) == NULL ||
	    json_string_value(json_object_get(o, "msg")) == NULL)
		abort();
	json_decref(o);
	free(copy);
	return 0;
}
