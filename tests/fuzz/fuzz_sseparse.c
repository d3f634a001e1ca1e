/*
 * fuzz_sseparse.c: libFuzzer harness for the SSE parser (lib/sseparse.c).
 *
 * Input layout: byte 0 picks the frame cap (0: RL_OA_FRAME_MAX, else that
 * many bytes, so the RL_ETOOBIG paths are reached), bytes 1-2 pick a split
 * point, byte 3 a second one, the rest is the stream.  The stream is parsed
 * four ways (whole, in two pieces, in three pieces, one byte at a time):
 * the frame logs, the results and the partial flags must agree, because
 * the parser promises that piece sizes do not matter.  Every frame must
 * also keep the rules: data within the cap and NUL-terminated, no CR in
 * data, no line end in event or id.  A stopped parser (the callback asks
 * to stop at a frame picked by byte 3) must dispatch nothing more.  Any
 * disagreement aborts.
 *
 * Build (DIR holds an empty config.h for a hand build):
 *   clang -fsanitize=fuzzer,address,undefined -IDIR -Ilib \
 *     lib/sseparse.c lib/buf.c lib/err.c tests/fuzz/fuzz_sseparse.c
 * Run on a copy of the seeds:
 *   cp -r tests/fuzz/corpus/sseparse /tmp/corpus
 *   ./a.out -max_total_time=60 /tmp/corpus
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "relais.h"
#include "bounds.h"
#include "sseparse.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Every frame as event NUL id NUL datalen data; allocation failure aborts. */
struct log {
	unsigned char	*p;
	size_t		 len;
	size_t		 cap;
	size_t		 max;
	int		 frames;
	int		 stop_at;	/* 0: never */
};

static void
add(struct log *l, const void *p, size_t n)
{
	size_t	 cap;

	if (n > l->cap - l->len) {
		for (cap = l->cap ? l->cap : 256; cap - l->len < n; cap *= 2)
			continue;
		if ((l->p = realloc(l->p, cap)) == NULL)
			abort();
		l->cap = cap;
	}
	if (n > 0)
		memcpy(l->p + l->len, p, n);
	l->len += n;
}

static int
frame(void *arg, const struct rl_sse_frame *f)
{
	struct log	*l = arg;

	if (l->stop_at > 0 && l->frames >= l->stop_at)
		abort();	/* a frame after the stop */
	if (f->datalen > l->max || f->data[f->datalen] != '\0' ||
	    memchr(f->data, '\r', f->datalen) != NULL ||
	    strpbrk(f->event, "\r\n") != NULL || strpbrk(f->id, "\r\n") !=
	    NULL)
		abort();
	add(l, f->event, strlen(f->event) + 1);
	add(l, f->id, strlen(f->id) + 1);
	add(l, &f->datalen, sizeof(f->datalen));
	add(l, f->data, f->datalen);
	l->frames++;
	return l->stop_at > 0 && l->frames >= l->stop_at;
}

/* Parse in pieces cut at c1 <= c2 (or byte by byte when bytes is set). */
static enum rl_err
run(const uint8_t *s, size_t n, size_t c1, size_t c2, int bytes, size_t max,
    int stop_at, struct log *l, int *partial)
{
	struct rl_sseparse	*p;
	struct rl_error		 e;
	size_t			 i, cut[3] = { c1, c2, n }, from = 0;
	enum rl_err		 rc = RL_OK;

	memset(l, 0, sizeof(*l));
	l->max = max;
	l->stop_at = stop_at;
	if ((p = rl_sseparse_new(max)) == NULL)
		abort();
	if (bytes)
		for (i = 0; i < n && rc == RL_OK; i++)
			rc = rl_sseparse_feed(p, (const char *)s + i, 1, frame,
			    l, &e);
	else
		for (i = 0; i < 3 && rc == RL_OK; i++) {
			rc = rl_sseparse_feed(p, (const char *)s + from,
			    cut[i] - from, frame, l, &e);
			from = cut[i];
		}
	/* Errors are sticky and say so again. */
	if (rc != RL_OK && (rl_sseparse_feed(p, "\n\n", 2, frame, l, &e) !=
	    rc || e.code != rc))
		abort();
	*partial = rl_sseparse_partial(p);
	rl_sseparse_free(p);
	return rc;
}

static int
same(const struct log *a, const struct log *b)
{

	return a->len == b->len && (a->len == 0 ||
	    memcmp(a->p, b->p, a->len) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct log	 l[4];
	enum rl_err	 rc[4];
	int		 partial[4], i, stop_at;
	size_t		 max, n, c1, c2, t;
	const uint8_t	*s;

	if (size < 4)
		return 0;
	max = data[0] == 0 ? RL_OA_FRAME_MAX : data[0];
	s = data + 4;
	n = size - 4;
	c1 = ((size_t)data[1] << 8 | data[2]) % (n + 1);
	c2 = (size_t)data[3] * n / 255;
	if (c2 < c1) {
		t = c1;
		c1 = c2;
		c2 = t;
	}
	rc[0] = run(s, n, n, n, 0, max, 0, &l[0], &partial[0]);
	rc[1] = run(s, n, c1, n, 0, max, 0, &l[1], &partial[1]);
	rc[2] = run(s, n, c1, c2, 0, max, 0, &l[2], &partial[2]);
	rc[3] = run(s, n, 0, 0, 1, max, 0, &l[3], &partial[3]);
	for (i = 1; i < 4; i++)
		if (rc[i] != rc[0] || !same(&l[i], &l[0]) ||
		    (rc[0] == RL_OK && partial[i] != partial[0]))
			abort();
	if (rc[0] != RL_OK && rc[0] != RL_ETOOBIG)
		abort();
	/* Stop at one of the frames: the log is a prefix of the whole one. */
	stop_at = l[0].frames > 0 ? 1 + data[3] % l[0].frames : 0;
	for (i = 0; i < 4; i++)
		free(l[i].p);
	if (stop_at > 0) {
		rc[1] = run(s, n, c1, c2, 0, max, stop_at, &l[1], &partial[1]);
		rc[0] = run(s, n, n, n, 0, max, 0, &l[0], &partial[0]);
		if (rc[1] != RL_EGONE || l[1].frames != stop_at ||
		    l[1].len > l[0].len ||
		    memcmp(l[1].p, l[0].p, l[1].len) != 0)
			abort();
		free(l[0].p);
		free(l[1].p);
	}
	return 0;
}
