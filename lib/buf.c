/*
 * buf.c: the bounded growable buffer.  See buf.h and docs/internals/buf.md.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

/*
 * The first allocation: a short prompt or message fits without a
 * realloc, and a buffer that stays small costs little.
 */
#define BUF_FIRST	256

void
rl_buf_init(struct rl_buf *b, size_t max)
{

	memset(b, 0, sizeof(*b));
	b->max = max;
}

/* Room for need more bytes and the NUL; the failure is kept. */
static enum rl_err
grow(struct rl_buf *b, size_t need)
{
	size_t	 cap, want;
	char	*s;

	if (b->err != RL_OK)
		return b->err;
	if (need > b->max - b->len)
		return b->err = RL_ETOOBIG;
	want = b->len + need + 1;
	if (want <= b->cap)
		return RL_OK;
	cap = b->cap > 0 ? b->cap : BUF_FIRST;
	while (cap < want)
		cap = cap > ((size_t)-1) / 2 ? want : cap * 2;
	/* Never more than the maximum can use. */
	if (b->max < (size_t)-1 && cap > b->max + 1)
		cap = b->max + 1;
	if ((s = realloc(b->s, cap)) == NULL)
		return b->err = RL_ENOMEM;
	b->s = s;
	b->cap = cap;
	return RL_OK;
}

enum rl_err
rl_buf_add(struct rl_buf *b, const void *p, size_t n)
{
	enum rl_err	 err;

	if ((err = grow(b, n)) != RL_OK)
		return err;
	if (n > 0)
		memcpy(b->s + b->len, p, n);
	b->len += n;
	b->s[b->len] = '\0';
	return RL_OK;
}

enum rl_err
rl_buf_addstr(struct rl_buf *b, const char *s)
{

	return rl_buf_add(b, s, strlen(s));
}

enum rl_err
rl_buf_vaddf(struct rl_buf *b, const char *fmt, va_list ap)
{
	va_list		 aq;
	enum rl_err	 err;
	int		 n;

	if (b->err != RL_OK)
		return b->err;
	/* Measure first, then format into the room made for it. */
	va_copy(aq, ap);
	n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (n < 0)
		return b->err = RL_EINTERNAL;
	if ((err = grow(b, (size_t)n)) != RL_OK)
		return err;
	(void)vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return RL_OK;
}

enum rl_err
rl_buf_addf(struct rl_buf *b, const char *fmt, ...)
{
	va_list		 ap;
	enum rl_err	 err;

	va_start(ap, fmt);
	err = rl_buf_vaddf(b, fmt, ap);
	va_end(ap);
	return err;
}

const char *
rl_buf_str(const struct rl_buf *b)
{

	return b->s != NULL ? b->s : "";
}

size_t
rl_buf_len(const struct rl_buf *b)
{

	return b->len;
}

enum rl_err
rl_buf_err(const struct rl_buf *b)
{

	return b->err;
}

char *
rl_buf_take(struct rl_buf *b, size_t *len)
{
	char	*s;

	if (len != NULL)
		*len = 0;
	if (b->err != RL_OK) {
		rl_buf_free(b);
		return NULL;
	}
	s = b->s != NULL ? b->s : strdup("");
	if (s != NULL && len != NULL)
		*len = b->len;
	b->s = NULL;
	b->len = b->cap = 0;
	return s;
}

void
rl_buf_reset(struct rl_buf *b)
{

	b->len = 0;
	b->err = RL_OK;
	if (b->s != NULL)
		b->s[0] = '\0';
}

void
rl_buf_free(struct rl_buf *b)
{

	free(b->s);
	b->s = NULL;
	b->len = b->cap = 0;
	b->err = RL_OK;
}
