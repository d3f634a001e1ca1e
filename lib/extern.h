/*
 * extern.h: prototypes shared between lib modules but not part of what
 * programs use.  Nothing under cgi-bin/ includes this file
 * (tests/check-includes.sh enforces it).
 */
#ifndef RL_EXTERN_H
#define RL_EXTERN_H

#include <sys/types.h>

#include <stdint.h>
#include <time.h>

#include "relais.h"

struct rl_req;
struct rl_sse;

/*
 * How a request talks to its client: a FastCGI stream or CGI's stdio.
 * write and flush return 0 or -1 (client gone); read returns bytes read, 0
 * at end of body, -1 on error.
 */
struct rl_io {
	int		(*write)(void *, const void *, size_t);
	int		(*flush)(void *);
	ssize_t		(*read)(void *, void *, size_t);
	int		(*gone)(void *);
	void		*ctx;
};

/* One pending response header. */
struct rl_resp_hdr {
	struct rl_resp_hdr	*next;
	const char		*name;
	const char		*val;
};

/* sse.c: runtime closes a stream the handler left open. */
void	rl_sse_release(struct rl_req *);

/* auth.c: resolve the credentials of a request (issue #3 adds schemes). */
enum rl_err	rl_auth_resolve(struct rl_req *, struct rl_error *);

/*
 * FNV-1a, 64 bits, for the in-process hash tables: the statement
 * registry (db.c), the cache's keys (cache.c), the request limiter's
 * buckets (ratelimit.c, which mixes it further).  Byte by byte, so a key
 * in parts hashes as their concatenation: start from RL_FNV_OFFSET and
 * feed each part in turn.
 */
#define RL_FNV_OFFSET	0xcbf29ce484222325ULL

static inline uint64_t
rl_fnv1a(uint64_t h, const void *key, size_t len)
{
	const unsigned char	*p = key;
	size_t			 i;

	for (i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* Its 32-bit fold, for tables indexed by a 32-bit hash. */
static inline uint32_t
rl_fnv1a32(const void *key, size_t len)
{
	uint64_t	 h = rl_fnv1a(RL_FNV_OFFSET, key, len);

	return (uint32_t)(h ^ (h >> 32));
}

/*
 * Microseconds on the monotonic clock, for durations and deadlines.  Here,
 * inline, so that the upstream client, the task runner and the generation
 * code read a clock without depending on the FastCGI runtime.
 */
static inline long long
rl_now_us(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/*
 * The monotonic time us microseconds (ms milliseconds) from now, for
 * pthread_cond_timedwait on a condition made with CLOCK_MONOTONIC (the
 * worker's wake-ups, the credits retry queue and its groups' wait).
 */
static inline void
rl_deadline_us(long long us, struct timespec *ts)
{

	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += us / 1000000;
	ts->tv_nsec += (us % 1000000) * 1000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static inline void
rl_deadline(long ms, struct timespec *ts)
{

	rl_deadline_us((long long)ms * 1000, ts);
}

/*
 * The value of the hex digit c, or -1 (percent-decoding, regex escapes,
 * hex-encoded bytea).  Inline so that modules built alone, such as the
 * schema validator in its benchmark, need nothing else.
 */
static inline int
rl_hexval(int c)
{

	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * resp.c: with RELAIS_CHECK_RESPONSES=1, load the response schemas and
 * their index (schemas/responses/routes.json, "METHOD pattern" -> id) that
 * every JSON answer is checked against; rl_main calls it before any thread
 * exists.  Without the variable it does nothing.
 */
enum rl_err	rl_resp_index_load(struct rl_error *);

#endif
