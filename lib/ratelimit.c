/*
 * ratelimit.c: request limits per user and per API token (issue 20).
 *
 * Every program process on a host maps one file of fixed size MAP_SHARED:
 * a header and RL_RATELIMIT_SLOTS 64-bit words.  A word is one bucket,
 * kept by GCRA (the generic cell rate algorithm: a token bucket stored as
 * the one time at which it will be full again, its "TAT"): the top 24
 * bits are a fingerprint of the bucket's key, the other 40 its TAT in
 * milliseconds, modulo 2^40 (34 years), compared with the clock the way
 * TCP compares sequence numbers.  One compare-and-swap takes a request,
 * so no lock is held between processes and a process killed at any
 * instant leaves the table consistent.  A word whose TAT has passed is a
 * full bucket, which is the same as no bucket: it is free for any key.  The
 * limits come from rate_limits through the cache (lib/cache.c), so a
 * request makes no database round trip here.  See
 * docs/internals/ratelimit.md.
 */
#include "config.h"

#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "arena.h"
#include "auth.h"
#include "bounds.h"
#include "cache.h"
#include "conf.h"
#include "db.h"
#include "extern.h"
#include "log.h"
#include "ratelimit.h"
#include "resp.h"

/* "RLRATE01": a table of this layout; another layout has another name. */
#define MAGIC		0x524c524154453031ULL
#define FILE_NAME	"ratelimit-v1.shm"
#define TICKS_PER_SEC	1000
#define TAT_BITS	40
#define TAT_MASK	((UINT64_C(1) << TAT_BITS) - 1)
/* A TAT at most this far ahead of the clock is ahead; further, behind. */
#define TAT_HALF	(UINT64_C(1) << (TAT_BITS - 1))
#define MASK		(RL_RATELIMIT_SLOTS - 1)

#if (RL_RATELIMIT_SLOTS & (RL_RATELIMIT_SLOTS - 1)) != 0
#error "RL_RATELIMIT_SLOTS must be a power of two"
#endif

/* The file's first bytes; the slots follow, a cache line further. */
struct header {
	uint64_t	 magic;
	uint64_t	 slots;
	uint64_t	 pad[6];
};

static void		*map;
static size_t		 maplen;
static uint64_t		*slots;
/* Defaults per role: RELAIS_RATELIMIT_USER, RELAIS_RATELIMIT_ADMIN. */
static int		 def_user = RL_RATELIMIT_USER_DEFAULT;
static int		 def_admin = RL_RATELIMIT_ADMIN_DEFAULT;

/*
 * FNV-1a (extern.h), then a 64-bit finaliser so index and fingerprint
 * both mix.
 */
static uint64_t
mixed(uint64_t h)
{

	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	/* Fingerprint 0 would let an empty word pass for a bucket. */
	if ((h >> TAT_BITS) == 0)
		h |= UINT64_C(1) << TAT_BITS;
	return h;
}

static uint64_t
hash(const void *key, size_t len)
{

	return mixed(rl_fnv1a(RL_FNV_OFFSET, key, len));
}

static uint64_t
ticks(long long now_us)
{

	return (uint64_t)(now_us / 1000) & TAT_MASK;
}

/* How far a word's TAT is ahead of now; 0 for a full (free) bucket. */
static uint64_t
ahead(uint64_t w, uint64_t now)
{
	uint64_t	 d = ((w & TAT_MASK) - now) & TAT_MASK;

	return d < TAT_HALF ? d : 0;
}

/* Whole seconds, rounded up: a client that waits that long succeeds. */
static long
secs_up(uint64_t t)
{

	return (long)((t + TICKS_PER_SEC - 1) / TICKS_PER_SEC);
}

enum rl_err
rl_ratelimit_open(const char *path, struct rl_error *e)
{
	struct header	*h;
	struct stat	 st;
	char		 buf[4096];
	const char	*v;
	uint64_t	 want;
	size_t		 len = sizeof(struct header) +
			    RL_RATELIMIT_SLOTS * sizeof(uint64_t);
	void		*m = MAP_FAILED;
	int		 fd = -1;
	enum rl_err	 err = RL_OK;

	if (map != NULL)
		return RL_OK;
	if (rl_conf_int("RELAIS_RATELIMIT_USER", 0, RL_RATELIMIT_REQUESTS_MAX,
	    &def_user, e) != RL_OK || rl_conf_int("RELAIS_RATELIMIT_ADMIN", 0,
	    RL_RATELIMIT_REQUESTS_MAX, &def_admin, e) != RL_OK)
		return RL_EINVAL;
	if (path == NULL && (v = getenv("RELAIS_RATELIMIT_FILE")) != NULL &&
	    *v != '\0')
		path = v;
	if (path == NULL) {
		if ((size_t)snprintf(buf, sizeof(buf), "%s/%s",
		    rl_conf->tmpdir, FILE_NAME) >= sizeof(buf))
			return rl_error_set(e, RL_EINVAL, "RELAIS_TMPDIR too "
			    "long for the rate limit table");
		path = buf;
	}

	/*
	 * Two processes may start at once: both open with O_CREAT, both
	 * grow the file to the same size (a no-op for the second), and a
	 * new file is zeros, which is an empty table.  Only the header is
	 * written, by compare-and-swap from zero, so neither can see a
	 * half-initialised table.
	 */
	if ((fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
	    0600)) == -1) {
		err = rl_error_set(e, RL_EIO, "rate limit table %s: %s", path,
		    strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		err = rl_error_set(e, RL_EIO, "rate limit table %s: not a "
		    "regular file", path);
		goto out;
	}
	if ((size_t)st.st_size < len && ftruncate(fd, (off_t)len) == -1) {
		err = rl_error_set(e, RL_EIO, "rate limit table %s: %s", path,
		    strerror(errno));
		goto out;
	}
	if ((m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
	    0)) == MAP_FAILED) {
		err = rl_error_set(e, RL_EIO, "rate limit table %s: mmap: %s",
		    path, strerror(errno));
		goto out;
	}
	h = m;
	want = 0;
	(void)__atomic_compare_exchange_n(&h->slots, &want,
	    (uint64_t)RL_RATELIMIT_SLOTS, 0, __ATOMIC_ACQ_REL,
	    __ATOMIC_ACQUIRE);
	want = 0;
	(void)__atomic_compare_exchange_n(&h->magic, &want, MAGIC, 0,
	    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
	if (__atomic_load_n(&h->magic, __ATOMIC_ACQUIRE) != MAGIC ||
	    __atomic_load_n(&h->slots, __ATOMIC_ACQUIRE) !=
	    RL_RATELIMIT_SLOTS) {
		err = rl_error_set(e, RL_EIO, "rate limit table %s was made "
		    "by another build (size or layout); stop every program "
		    "and remove it", path);
		goto out;
	}
	map = m;
	maplen = len;
	slots = (uint64_t *)(h + 1);
	m = MAP_FAILED;
out:
	if (m != MAP_FAILED)
		(void)munmap(m, len);
	if (fd != -1)
		(void)close(fd);
	return err;
}

void
rl_ratelimit_close(void)
{

	if (map != NULL)
		(void)munmap(map, maplen);
	map = NULL;
	slots = NULL;
}

void
rl_ratelimit_default(enum rl_role role, struct rl_ratelimit_rule *r)
{

	r->requests = role == RL_ROLE_ADMIN ? def_admin : def_user;
	r->token_requests = r->requests;
	r->period_sec = RL_RATELIMIT_PERIOD_SEC;
}

/*
 * The slot of key's live bucket, else the first free one of its probe
 * window (empty, or a bucket already full again), else NULL: the window
 * holds RL_RATELIMIT_PROBE live buckets of other keys.  *old is the word
 * seen, for the compare-and-swap.
 */
static uint64_t *
find(uint64_t h, uint64_t now, int *mine, uint64_t *old)
{
	uint64_t	*p, *free = NULL, w, fp = h >> TAT_BITS, fw = 0;
	size_t		 i;

	*mine = 0;
	for (i = 0; i < RL_RATELIMIT_PROBE; i++) {
		p = &slots[(h + i) & MASK];
		w = __atomic_load_n(p, __ATOMIC_ACQUIRE);
		if (w != 0 && (w >> TAT_BITS) == fp && ahead(w, now) > 0) {
			*mine = 1;
			*old = w;
			return p;
		}
		if (free == NULL && (w == 0 || ahead(w, now) == 0)) {
			free = p;
			fw = w;
		}
	}
	*old = fw;
	return free;
}

/* The bucket as a fresh one answers: the table could not count. */
static void
fresh(long requests, uint64_t t, struct rl_ratelimit_state *st)
{

	st->allowed = 1;
	st->remaining = requests - 1;
	st->reset = secs_up(t);
}

/* rl_ratelimit_take on the bucket of hash h. */
static void
take(uint64_t h, long requests, long period_sec, long long now_us,
    struct rl_ratelimit_state *st)
{
	uint64_t	*p, now, tat, newtat, old, tau, t, fp;
	int		 mine, tries;

	/* tat and newtat: how far ahead of now, in ticks. */

	memset(st, 0, sizeof(*st));
	st->allowed = 1;
	if (requests <= 0 || period_sec <= 0)
		return;		/* unlimited: limit 0 */
	st->limit = requests;
	tau = (uint64_t)period_sec * TICKS_PER_SEC;
	if ((t = tau / (uint64_t)requests) == 0)
		t = 1;
	if (slots == NULL) {
		fresh(requests, t, st);
		return;
	}
	fp = h >> TAT_BITS;
	now = ticks(now_us);
	for (tries = 0; tries < RL_RATELIMIT_CAS_TRIES; tries++) {
		if ((p = find(h, now, &mine, &old)) == NULL)
			break;
		tat = mine ? ahead(old, now) : 0;
		newtat = tat + t;
		if (newtat > tau) {
			st->allowed = 0;
			st->remaining = 0;
			st->reset = secs_up(tat);
			st->retry_after = secs_up(newtat - tau);
			return;
		}
		if (__atomic_compare_exchange_n(p, &old,
		    fp << TAT_BITS | ((now + newtat) & TAT_MASK), 0,
		    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
			st->remaining = (long)((tau - newtat) / t);
			st->reset = secs_up(newtat);
			return;
		}
	}
	/*
	 * A full probe window, or a bucket so contended that every try
	 * lost: let the request through rather than refuse a client for
	 * the table's sake (docs/internals/ratelimit.md).
	 */
	rl_log_warn("rate limit table: no slot for a bucket; not counted");
	fresh(requests, t, st);
}

void
rl_ratelimit_take(const void *key, size_t len, long requests,
    long period_sec, long long now_us, struct rl_ratelimit_state *st)
{

	take(hash(key, len), requests, period_sec, now_us, st);
}

/* rl_ratelimit_give on the bucket of hash h. */
static void
give(uint64_t h, long requests, long period_sec, long long now_us)
{
	uint64_t	*p, now, old, tau, t, tat;
	int		 mine, tries;

	if (requests <= 0 || period_sec <= 0 || slots == NULL)
		return;
	tau = (uint64_t)period_sec * TICKS_PER_SEC;
	if ((t = tau / (uint64_t)requests) == 0)
		t = 1;
	now = ticks(now_us);
	for (tries = 0; tries < RL_RATELIMIT_CAS_TRIES; tries++) {
		if ((p = find(h, now, &mine, &old)) == NULL || !mine)
			return;
		tat = ahead(old, now);
		if (__atomic_compare_exchange_n(p, &old, (old & ~TAT_MASK) |
		    ((now + (tat > t ? tat - t : 0)) & TAT_MASK), 0,
		    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
			return;
	}
}

void
rl_ratelimit_give(const void *key, size_t len, long requests,
    long period_sec, long long now_us)
{

	give(hash(key, len), requests, period_sec, now_us);
}

/*
 * The role's limits: its rate_limits row through the cache (the settings
 * program's writes notify), else the defaults.  A database that cannot
 * answer leaves the defaults: the route's own work will say the outage.
 */
static void
rule_for(enum rl_role role, struct rl_ratelimit_rule *r)
{
	struct rl_dbres	*res;
	struct rl_error	 e;
	const char	*p[1];

	rl_ratelimit_default(role, r);
	p[0] = rl_role_name(role);
	rl_error_clear(&e);
	if (rl_cache_exec(RL_CACHE_T(RL_CACHE_SETTINGS), "SELECT requests, "
	    "token_requests, period_sec FROM rate_limits WHERE role = $1", 1,
	    p, &res, &e) != RL_OK) {
		rl_log_debug("rate limits of %s: %s; defaults", p[0], e.msg);
		return;
	}
	if (rl_dbres_rows(res) == 1) {
		r->requests = strtol(rl_dbres_get(res, 0, 0), NULL, 10);
		r->token_requests = strtol(rl_dbres_get(res, 0, 1), NULL, 10);
		r->period_sec = strtol(rl_dbres_get(res, 0, 2), NULL, 10);
	}
	rl_dbres_free(res);
}

/*
 * The API token a request proved itself with (auth.c's order: a Bearer
 * that is not a JWT, else X-API-Token).
 */
static const char *
token_of(const struct rl_req *req)
{
	const char	*v;

	if (req->user->via != RL_AUTH_API_TOKEN)
		return NULL;
	if ((v = rl_req_header(req, "Authorization")) != NULL &&
	    strncasecmp(v, "Bearer ", 7) == 0)
		return v + 7;
	return rl_req_header(req, "X-API-Token");
}

static enum rl_err
header_long(struct rl_req *req, const char *name, long v)
{
	char	 buf[32];

	(void)snprintf(buf, sizeof(buf), "%ld", v);
	return rl_resp_header(req, name, buf);
}

enum rl_err
rl_ratelimit_count(long long uid, enum rl_role role, const char *token,
    struct rl_ratelimit_state *show, long *period_sec, struct rl_error *e)
{
	struct rl_ratelimit_rule	 r;
	struct rl_ratelimit_state	 su, st;
	char				 ukey[32];
	uint64_t			 uh;
	long long			 now;
	struct timespec			 ts;

	rule_for(role, &r);
	*period_sec = r.period_sec;
	/* Wall time: the one clock every process of the host shares. */
	clock_gettime(CLOCK_REALTIME, &ts);
	now = (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;

	(void)snprintf(ukey, sizeof(ukey), "u:%lld", uid);
	uh = hash(ukey, strlen(ukey));
	take(uh, r.requests, r.period_sec, now, &su);
	memset(&st, 0, sizeof(st));
	st.allowed = 1;
	if (su.allowed && token != NULL) {
		/* The bucket of "t:" and the token, hashed in two parts. */
		take(mixed(rl_fnv1a(rl_fnv1a(RL_FNV_OFFSET, "t:", 2), token,
		    strlen(token))), r.token_requests, r.period_sec, now, &st);
		/* Refused: the user's bucket did not serve either. */
		if (!st.allowed)
			give(uh, r.requests, r.period_sec, now);
	}

	/* The bucket that binds: refused, else the one with less left. */
	if (!su.allowed)
		*show = su;
	else if (!st.allowed)
		*show = st;
	else if (su.limit == 0 || (st.limit != 0 &&
	    st.remaining < su.remaining))
		*show = st;
	else
		*show = su;
	if (show->allowed)
		return RL_OK;
	return rl_error_set(e, RL_ERATELIMIT, "%s rate limit reached (%ld "
	    "requests per %ld s); retry in %ld s", !st.allowed ? "API token" :
	    "user", show->limit, r.period_sec, show->retry_after);
}

enum rl_err
rl_ratelimit_check(struct rl_req *req, struct rl_error *e)
{
	struct rl_ratelimit_state	 show;
	struct rl_error			 ce;
	long				 period;
	enum rl_err			 err;

	if (req->user == NULL)
		return RL_OK;
	rl_error_clear(&ce);
	err = rl_ratelimit_count(req->user->id, req->user->role,
	    token_of(req), &show, &period, &ce);
	if (err != RL_OK && err != RL_ERATELIMIT) {
		*e = ce;
		return err;
	}
	if (show.limit == 0)
		return RL_OK;	/* unlimited: nothing to count down */
	if (header_long(req, "X-RateLimit-Limit", show.limit) != RL_OK ||
	    header_long(req, "X-RateLimit-Remaining", show.remaining) !=
	    RL_OK || header_long(req, "X-RateLimit-Reset", show.reset) !=
	    RL_OK)
		return rl_error_set(e, RL_ENOMEM, NULL);
	if (err == RL_OK)
		return RL_OK;
	if (header_long(req, "Retry-After", show.retry_after) != RL_OK)
		return rl_error_set(e, RL_ENOMEM, NULL);
	*e = ce;
	return err;
}
