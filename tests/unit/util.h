/*
 * util.h: what several unit tests need beyond harness.h: a JSON value
 * from test text, a check that a value equals the expected JSON, a long
 * input built by repetition, a file of given bytes and mode.  Header-only
 * and static inline, like harness.h, so a test includes it without a
 * link step and an unused helper costs nothing.  Include it after
 * harness.h.
 */
#ifndef RL_TEST_UTIL_H
#define RL_TEST_UTIL_H

#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

/* The JSON value of test text (scalars too); NULL, said, when it is bad. */
static inline json_t *
J(const char *text)
{
	json_error_t	 je;
	json_t		*j;

	if ((j = json_loads(text, JSON_DECODE_ANY, &je)) == NULL)
		diag("bad test JSON: %s: %s", je.text, text);
	return j;
}

/* ok() that the JSON value equals the expected text; shows both if not. */
static inline void
same(const json_t *got, const char *want, const char *what)
{
	json_t	*w = J(want);
	char	*g;

	if (!ok(got != NULL && w != NULL && json_equal(got, w), "%s", what)) {
		g = got != NULL ? json_dumps(got, JSON_SORT_KEYS) : NULL;
		diag("got  %s", g != NULL ? g : "NULL");
		diag("want %s", want);
		free(g);
	}
	json_decref(w);
}

/* head, then unit n times, then tail; malloc'd (exits on failure). */
static inline char *
repeat(const char *head, const char *unit, size_t n, const char *tail)
{
	size_t	 hl = strlen(head), ul = strlen(unit), tl = strlen(tail), i;
	char	*s, *p;

	if ((s = malloc(hl + ul * n + tl + 1)) == NULL)
		exit(1);
	memcpy(s, head, hl);
	p = s + hl;
	for (i = 0; i < n; i++, p += ul)
		memcpy(p, unit, ul);
	memcpy(p, tail, tl + 1);
	return s;
}

/* A file of the n bytes at buf with the given mode; 0 or -1. */
static inline int
writefile(const char *path, const void *buf, size_t n, mode_t mode)
{
	FILE	*f;
	int	 rc = 0;

	if ((f = fopen(path, "w")) == NULL)
		return -1;
	if (fwrite(buf, 1, n, f) != n)
		rc = -1;
	if (fclose(f) != 0 || chmod(path, mode) == -1)
		rc = -1;
	return rc;
}

#endif /* RL_TEST_UTIL_H */
