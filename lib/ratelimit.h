/*
 * ratelimit.h: per-user and per-API-token request limits, counted in a
 * table of shared memory that every program process on a host uses.  See
 * docs/internals/ratelimit.md.
 */
#ifndef RL_RATELIMIT_H
#define RL_RATELIMIT_H

#include <stdint.h>

#include "relais.h"
#include "req.h"

/* A role's limits: requests per period_sec, 0 meaning unlimited. */
struct rl_ratelimit_rule {
	long	 requests;	/* a user's own bucket */
	long	 token_requests; /* each API token's bucket, besides */
	long	 period_sec;	/* the window both fill again in */
};

/* What one bucket said, in the units of the X-RateLimit-* headers. */
struct rl_ratelimit_state {
	int	 allowed;	/* 1: the request counted, 0: refused */
	long	 limit;		/* requests per period */
	long	 remaining;	/* requests left now */
	long	 reset;		/* seconds until the bucket is full */
	long	 retry_after;	/* refused: seconds until one is allowed */
};

/*
 * Map (create if needed) the counter table at path; NULL means
 * RELAIS_RATELIMIT_FILE, else RELAIS_TMPDIR's ratelimit-v1.shm.  Reads
 * the default limits (RELAIS_RATELIMIT_USER, RELAIS_RATELIMIT_ADMIN).
 * Once per process, before threads; safe when another process creates
 * the same table at the same moment.
 */
enum rl_err	 rl_ratelimit_open(const char *path, struct rl_error *);
void		 rl_ratelimit_close(void);

/* A role's limits when the rate_limits table has no row for it. */
void		 rl_ratelimit_default(enum rl_role,
		    struct rl_ratelimit_rule *);

/*
 * Count one request of the bucket named by key (its first len bytes)
 * against requests per period_sec, at now_us (microseconds since the
 * epoch).  Lock-free.  0 requests: unlimited, always allowed.
 */
void		 rl_ratelimit_take(const void *key, size_t len,
		    long requests, long period_sec, long long now_us,
		    struct rl_ratelimit_state *);
/* Give back one request taken from the bucket (a sibling refused). */
void		 rl_ratelimit_give(const void *key, size_t len,
		    long requests, long period_sec, long long now_us);

/*
 * Count one request of user uid (role's limits) in the user's bucket and,
 * when token is not NULL, in that API token's: RL_OK, or RL_ERATELIMIT
 * with the reason.  *show is the bucket that binds (the refused one, else
 * the one with less left); *period_sec the role's window.  Shared by the
 * runtime and the realtime program, so one user has one limit per host.
 */
enum rl_err	 rl_ratelimit_count(long long uid, enum rl_role,
		    const char *token, struct rl_ratelimit_state *show,
		    long *period_sec, struct rl_error *);
/*
 * The runtime's check after auth, before the handler: counts the
 * request in its user's bucket and its API token's, adds the
 * X-RateLimit-* headers, and RL_ERATELIMIT (with Retry-After) when a
 * bucket is empty.  A request without a user is not counted here.
 */
enum rl_err	 rl_ratelimit_check(struct rl_req *, struct rl_error *);

#endif
