/*
 * fuzz_multipart.c: libFuzzer harness for the multipart parser.
 *
 * Input layout: byte 0 picks the Content-Type (odd: the first line of the
 * rest, so boundary parsing is fuzzed too; even: a fixed boundary), bytes
 * 1-2 pick a split point, the rest is the body.  The body is parsed three
 * ways (whole, in two pieces at the split point, one byte at a time) and
 * the callback logs and results must agree: that is the parser's promise
 * that piece sizes do not matter.  With the fixed boundary, no part's data
 * may contain the delimiter.  Any disagreement aborts.
 *
 * Build (DIR holds an empty config.h for a hand build):
 *   clang -fsanitize=fuzzer,address,undefined -IDIR -Ilib \
 *     lib/multipart.c lib/buf.c lib/err.c lib/arena.c \
 *     tests/fuzz/fuzz_multipart.c
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "relais.h"
#include "multipart.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define FIXED_CT	"multipart/form-data; boundary=XyZ"
#define FIXED_DELIM	"\r\n--XyZ"

/* A growable byte buffer; allocation failure aborts the run. */
struct buf {
	unsigned char	*p;
	size_t		 len;
	size_t		 cap;
};

struct log {
	struct buf	 ev;	/* every event, data escaped */
	struct buf	 part;	/* the current part's data */
	int		 check;	/* look for the delimiter in data */
};

static void
add(struct buf *b, const void *p, size_t n)
{
	size_t	 cap;

	if (n > b->cap - b->len) {
		for (cap = b->cap ? b->cap : 256; cap - b->len < n; cap *= 2)
			continue;
		if ((b->p = realloc(b->p, cap)) == NULL)
			abort();
		b->cap = cap;
	}
	if (n > 0)
		memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void
addstr(struct buf *b, const char *s)
{

	add(b, s, strlen(s) + 1);
}

static enum rl_err
begin(void *arg, const char *name, const char *filename, const char *ctype,
    struct rl_error *e)
{
	struct log	*l = arg;

	add(&l->ev, "\xff" "B", 2);
	addstr(&l->ev, name);
	addstr(&l->ev, filename != NULL ? filename : "\x01");
	addstr(&l->ev, ctype);
	l->part.len = 0;
	return RL_OK;
}

static enum rl_err
data(void *arg, const void *p, size_t n, struct rl_error *e)
{
	struct log		*l = arg;
	const unsigned char	*c = p;
	size_t			 i;

	if (n == 0)
		abort();	/* the parser promises never to do this */
	for (i = 0; i < n; i++) {
		add(&l->ev, &c[i], 1);
		if (c[i] == 0xff)
			add(&l->ev, &c[i], 1);
	}
	add(&l->part, p, n);
	return RL_OK;
}

static enum rl_err
end(void *arg, struct rl_error *e)
{
	struct log	*l = arg;

	if (l->check && l->part.len > 0 && memmem(l->part.p, l->part.len,
	    FIXED_DELIM, strlen(FIXED_DELIM)) != NULL)
		abort();
	add(&l->ev, "\xff" "E", 2);
	return RL_OK;
}

static const struct rl_mp_cb	 cb = { begin, data, end };

/* Feeds body in pieces of step bytes after an optional first piece. */
static enum rl_err
run(const char *ct, const uint8_t *body, size_t len, size_t first,
    size_t step, int check, struct log *l)
{
	struct rl_mp	*mp;
	struct rl_error	 e;
	size_t		 off = 0, n;
	enum rl_err	 rc = RL_OK;

	memset(l, 0, sizeof(*l));
	l->check = check;
	if ((mp = rl_mp_new(ct, &cb, l, &e)) == NULL)
		return e.code;
	if (first > 0) {
		rc = rl_mp_feed(mp, body, first, &e);
		off = first;
	}
	for (; off < len && rc == RL_OK; off += n) {
		n = step == 0 || step > len - off ? len - off : step;
		rc = rl_mp_feed(mp, body + off, n, &e);
	}
	if (rc == RL_OK)
		rc = rl_mp_finish(mp, &e);
	/* A failed parser must keep failing the same way. */
	if (rc != RL_OK && rl_mp_feed(mp, "x", 1, NULL) != rc)
		abort();
	rl_mp_free(mp);
	return rc;
}

static int
same(const struct log *a, const struct log *b)
{

	return a->ev.len == b->ev.len &&
	    (a->ev.len == 0 || memcmp(a->ev.p, b->ev.p, a->ev.len) == 0);
}

static void
release(struct log *l)
{

	free(l->ev.p);
	free(l->part.p);
}

int
LLVMFuzzerTestOneInput(const uint8_t *in, size_t size)
{
	struct log	 whole, split, bytes;
	char		 ct[257];
	const uint8_t	*body, *nl;
	size_t		 len, first, ctlen;
	enum rl_err	 rc1, rc2, rc3;
	int		 check = 1;

	if (size < 3)
		return 0;
	body = in + 3;
	len = size - 3;
	memcpy(ct, FIXED_CT, sizeof(FIXED_CT));
	if (in[0] & 1) {
		/* The Content-Type is the first line of the body. */
		if ((nl = memchr(body, '\n', len)) == NULL)
			return 0;
		ctlen = (size_t)(nl - body);
		if (ctlen >= sizeof(ct) || memchr(body, '\0', ctlen) != NULL)
			return 0;
		memcpy(ct, body, ctlen);
		ct[ctlen] = '\0';
		len -= ctlen + 1;
		body = nl + 1;
		check = 0;
	}
	first = len == 0 ? 0 : ((size_t)in[1] << 8 | in[2]) % (len + 1);

	rc1 = run(ct, body, len, 0, 0, check, &whole);
	rc2 = run(ct, body, len, first, 0, check, &split);
	if (rc1 != rc2 || !same(&whole, &split))
		abort();
	/* One callback per byte is slow on big inputs: keep runs fast. */
	if (len <= 4096) {
		rc3 = run(ct, body, len, 0, 1, check, &bytes);
		if (rc1 != rc3 || !same(&whole, &bytes))
			abort();
		release(&bytes);
	}
	release(&whole);
	release(&split);
	return 0;
}
