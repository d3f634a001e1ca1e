/*
 * buf.h: one bounded growable buffer (curl's dynbuf, libpq's PQExpBuffer).
 * The caller owns the struct; rl_buf_init gives it a hard maximum length.
 * Growing past the maximum (RL_ETOOBIG) or out of memory (RL_ENOMEM)
 * makes the buffer failed: the error is sticky, every later add returns
 * it and changes nothing, so a builder may check once at the end.  What
 * was added before the failure stays readable; rl_buf_take refuses it.
 */
#ifndef RL_BUF_H
#define RL_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "relais.h"

struct rl_buf {
	char		*s;	/* NUL-terminated once allocated */
	size_t		 len;	/* bytes in s, without the NUL */
	size_t		 cap;	/* bytes allocated */
	size_t		 max;	/* len never goes past it */
	enum rl_err	 err;	/* RL_OK, or the sticky failure */
};

/* Empty, no memory yet, at most max bytes (the NUL not counted). */
void		 rl_buf_init(struct rl_buf *, size_t max);
/* Append n bytes (may hold NULs); RL_OK, RL_ETOOBIG or RL_ENOMEM. */
enum rl_err	 rl_buf_add(struct rl_buf *, const void *, size_t);
enum rl_err	 rl_buf_addstr(struct rl_buf *, const char *);
enum rl_err	 rl_buf_addf(struct rl_buf *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
enum rl_err	 rl_buf_vaddf(struct rl_buf *, const char *, va_list)
		    __attribute__((format(printf, 2, 0)));
/* The text so far (borrowed, "" when empty); valid until the next add. */
const char	*rl_buf_str(const struct rl_buf *);
size_t		 rl_buf_len(const struct rl_buf *);
enum rl_err	 rl_buf_err(const struct rl_buf *);
/*
 * Steal the text (free(3) it; "" allocated when empty) and its length in
 * *len when len is not NULL; NULL when the buffer failed or the empty
 * string cannot be allocated.  Either way the buffer is empty again,
 * error cleared, same maximum.
 */
char		*rl_buf_take(struct rl_buf *, size_t *len);
/* Empty again, memory kept, error cleared. */
void		 rl_buf_reset(struct rl_buf *);
/* Free the memory; the buffer is as after rl_buf_init. */
void		 rl_buf_free(struct rl_buf *);

#endif /* RL_BUF_H */
