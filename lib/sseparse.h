/*
 * sseparse.h: an incremental parser for text/event-stream as a client reads
 * it (the upstream's streamed answers).  It is a pure function over bytes:
 * feed it whatever a read returned, in pieces of any size, and it calls back
 * once per complete frame.  No I/O, no allocation beyond its own buffers, so
 * it is unit-tested at every split point and fuzzed.
 *
 * Rules (WHATWG "event stream interpretation", as OpenAI uses it): lines end
 * with LF, CRLF or CR; a blank line ends a frame; "data:" lines join with
 * LF; "event:" and "id:" set the frame's type and id; lines starting with
 * ':' are comments; one optional space after the colon is removed; unknown
 * fields are ignored; a frame with no data line is not dispatched; a frame
 * still open at end of input is discarded.
 */
#ifndef RL_SSEPARSE_H
#define RL_SSEPARSE_H

#include <stddef.h>

#include "relais.h"

/* One complete frame, valid only during the callback. */
struct rl_sse_frame {
	const char	*event;		/* "" when the frame had no event: */
	const char	*id;		/* "" when none */
	const char	*data;		/* NUL-terminated, data lines joined */
	size_t		 datalen;
};

/* Return 0 to go on, non-zero to stop: rl_sseparse_feed then RL_EGONE. */
typedef int	(*rl_sse_frame_cb)(void *, const struct rl_sse_frame *);

struct rl_sseparse;

/*
 * max: largest frame (data bytes) accepted; over it, RL_ETOOBIG (0:
 * RL_OA_FRAME_MAX).  NULL when out of memory.  Errors are sticky: after a
 * failed feed, every later feed returns the same error and dispatches
 * nothing.  event and id last for one frame.
 */
struct rl_sseparse *rl_sseparse_new(size_t max);
enum rl_err	 rl_sseparse_feed(struct rl_sseparse *, const char *, size_t,
		    rl_sse_frame_cb, void *, struct rl_error *);
/* End of input: 1 if bytes of an unfinished frame were pending. */
int		 rl_sseparse_partial(const struct rl_sseparse *);
void		 rl_sseparse_free(struct rl_sseparse *);

#endif
