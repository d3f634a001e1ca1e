/*
 * kv.h: the small value types a parsed request is made of.  Every string is
 * owned by the request's arena.
 */
#ifndef RL_KV_H
#define RL_KV_H

#include <stddef.h>

/* One name/value pair: a query parameter, a form field, a cookie. */
struct rl_kv {
	const char	*key;
	const char	*val;	/* NUL-terminated; len excludes the NUL */
	size_t		 len;
};

/* One uploaded file, streamed to a temporary file the runtime unlinks. */
struct rl_upload {
	const char	*field;		/* form field name */
	const char	*filename;	/* client's file name, never a path */
	const char	*ctype;		/* part Content-Type or "" */
	const char	*path;		/* temporary file */
	size_t		 size;
};

const char	*rl_kv_get(const struct rl_kv *, size_t, const char *);

#endif
