/*
 * multipart.h: a streaming multipart/form-data parser (RFC 7578).  The
 * parser is a pure function over bytes: the caller feeds whatever it read,
 * in pieces of any size, and receives callbacks.  rl_multipart_collect()
 * builds on it to store fields in an arena and files in size-capped
 * temporary files.
 */
#ifndef RL_MULTIPART_H
#define RL_MULTIPART_H

#include <sys/types.h>

#include "relais.h"
#include "kv.h"

struct rl_arena;
struct rl_mp;

/*
 * Callbacks.  Each returns RL_OK to go on or an error to stop the parse;
 * the error is returned from rl_mp_feed().  name and filename are borrowed
 * for the duration of the call; filename is NULL for a plain field.
 */
struct rl_mp_cb {
	enum rl_err	(*part_begin)(void *, const char *name,
			    const char *filename, const char *ctype,
			    struct rl_error *);
	enum rl_err	(*part_data)(void *, const void *, size_t,
			    struct rl_error *);
	enum rl_err	(*part_end)(void *, struct rl_error *);
};

struct rl_mp	*rl_mp_new(const char *content_type, const struct rl_mp_cb *,
		    void *, struct rl_error *);
enum rl_err	 rl_mp_feed(struct rl_mp *, const void *, size_t,
		    struct rl_error *);
enum rl_err	 rl_mp_finish(struct rl_mp *, struct rl_error *);
void		 rl_mp_free(struct rl_mp *);

/* Reads up to n bytes of body into buf; 0 at end, -1 on error. */
typedef ssize_t	(*rl_read_fn)(void *, void *, size_t);

enum rl_err	 rl_multipart_collect(struct rl_arena *, const char *ctype,
		    rl_read_fn, void *, size_t upload_max, const char *tmpdir,
		    struct rl_kv **, size_t *, struct rl_upload **, size_t *,
		    struct rl_error *);
void		 rl_multipart_unlink(struct rl_upload *, size_t);

#endif
