/*
 * metrics.c: a request's time split three ways — relais' own, the
 * upstream's, PostgreSQL's — on every response as Server-Timing and per
 * route as Prometheus histograms (text exposition format 0.0.4).
 *
 * The request's thread keeps its figures in thread-local variables (db.c
 * counts the round trips and their time the same way), so measuring takes
 * no lock; the histograms are arrays of atomic counters, one row per
 * route of the program and one for everything else (no route, the
 * runtime's own /metrics).
 */
#include "config.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bounds.h"
#include "buf.h"
#include "cache.h"
#include "credits.h"
#include "db.h"
#include "extern.h"
#include "metrics.h"
#include "route.h"

/* Upper bounds of the buckets, in microseconds (the last is +Inf). */
static const long long	 bounds_us[] = {
	100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000,
	250000, 500000, 1000000, 2500000, 10000000
};
#define NB	(sizeof(bounds_us) / sizeof(bounds_us[0]))

enum kind { K_RELAIS, K_UPSTREAM, K_DB, K__MAX };

static const char *const kind_name[K__MAX] = {
	"relais_request_relais_seconds",
	"relais_request_upstream_seconds",
	"relais_request_db_seconds"
};
static const char *const kind_help[K__MAX] = {
	"Time relais spent on a request, its upstream calls excluded.",
	"Time a request waited on upstream calls.",
	"Time a request's thread waited on PostgreSQL."
};

struct histo {
	atomic_ullong	 bucket[NB + 1];	/* not cumulative */
	atomic_ullong	 sum_us;
};

/* One row per route, the last for requests of no route of the table. */
static struct {
	const char	*prog;
	const struct rl_route *routes;
	size_t		 n;
	struct histo	 h[RL_METRICS_ROUTES_MAX + 1][K__MAX];
	atomic_ullong	 calls;		/* requests that called upstream */
	atomic_ullong	 pre_rt;	/* round trips before their call */
} m;

/* This thread's request. */
static __thread long long	 up_us;	/* finished upstream time */
static __thread long long	 up_t0;	/* a call in progress since */
static __thread int		 pre_rt = -1;

void
rl_metrics_init(const char *prog, const struct rl_route *routes, size_t n)
{

	m.prog = prog;
	m.routes = routes;
	m.n = n < RL_METRICS_ROUTES_MAX ? n : RL_METRICS_ROUTES_MAX;
}

void
rl_metrics_request_begin(void)
{

	rl_db_stats_reset();
	up_us = up_t0 = 0;
	pre_rt = -1;
}

void
rl_metrics_upstream_begin(void)
{
	long long	 us;

	if (pre_rt < 0)
		rl_db_stats(&pre_rt, &us);
	up_t0 = rl_now_us();
}

void
rl_metrics_upstream_end(void)
{

	if (up_t0 != 0)
		up_us += rl_now_us() - up_t0;
	up_t0 = 0;
}

static long long
upstream_now(void)
{

	return up_us + (up_t0 != 0 ? rl_now_us() - up_t0 : 0);
}

static void
observe(struct histo *h, long long us)
{
	size_t	 i;

	if (us < 0)
		us = 0;
	for (i = 0; i < NB && us > bounds_us[i]; i++)
		continue;
	atomic_fetch_add(&h->bucket[i], 1);
	atomic_fetch_add(&h->sum_us, (unsigned long long)us);
}

void
rl_metrics_request_end(const struct rl_route *rt, long long total_us)
{
	long long	 up = upstream_now(), db_us;
	size_t		 row = m.n;
	int		 n;

	if (rt != NULL && m.routes != NULL && rt >= m.routes &&
	    rt < m.routes + m.n)
		row = (size_t)(rt - m.routes);
	rl_db_stats(&n, &db_us);
	observe(&m.h[row][K_RELAIS], total_us - up);
	observe(&m.h[row][K_UPSTREAM], up);
	observe(&m.h[row][K_DB], db_us);
	if (pre_rt >= 0) {
		atomic_fetch_add(&m.calls, 1);
		atomic_fetch_add(&m.pre_rt, (unsigned long long)pre_rt);
	}
}

void
rl_metrics_server_timing(long long start_us, char *buf, size_t size)
{
	long long	 up = upstream_now(), all, db_us;
	int		 n;

	all = rl_now_us() - start_us;
	rl_db_stats(&n, &db_us);
	(void)snprintf(buf, size, "relais;dur=%.3f, upstream;dur=%.3f, "
	    "db;dur=%.3f, db-calls;desc=\"%d\", "
	    "db-before-upstream;desc=\"%d\"",
	    (double)(all - up) / 1000, (double)up / 1000,
	    (double)db_us / 1000, n, pre_rt >= 0 ? pre_rt : n);
}

/* A label value: backslash, quote and newline escaped. */
static void
label(struct rl_buf *b, const char *s)
{

	for (; *s != '\0'; s++) {
		if (*s == '\\' || *s == '"')
			(void)rl_buf_add(b, "\\", 1);
		if (*s == '\n')
			(void)rl_buf_add(b, "\\n", 2);
		else
			(void)rl_buf_add(b, s, 1);
	}
}

static void
labels(struct rl_buf *b, size_t row)
{

	(void)rl_buf_addf(b, "program=\"");
	label(b, m.prog != NULL ? m.prog : "-");
	(void)rl_buf_addf(b, "\",method=\"");
	label(b, row < m.n ? m.routes[row].method : "-");
	(void)rl_buf_addf(b, "\",route=\"");
	label(b, row < m.n ? m.routes[row].pattern : "-");
	(void)rl_buf_add(b, "\"", 1);
}

static void
histogram(struct rl_buf *b, enum kind k)
{
	unsigned long long	 cum, c;
	size_t			 row, i;

	(void)rl_buf_addf(b, "# HELP %s %s\n# TYPE %s histogram\n",
	    kind_name[k], kind_help[k], kind_name[k]);
	for (row = 0; row <= m.n; row++) {
		for (cum = 0, i = 0; i <= NB; i++)
			cum += atomic_load(&m.h[row][k].bucket[i]);
		if (cum == 0)
			continue;	/* a route never asked */
		for (cum = 0, i = 0; i <= NB; i++) {
			c = atomic_load(&m.h[row][k].bucket[i]);
			cum += c;
			(void)rl_buf_addf(b, "%s_bucket{", kind_name[k]);
			labels(b, row);
			if (i < NB)
				(void)rl_buf_addf(b, ",le=\"%g\"} %llu\n",
				    (double)bounds_us[i] / 1e6, cum);
			else
				(void)rl_buf_addf(b, ",le=\"+Inf\"} %llu\n",
				    cum);
		}
		(void)rl_buf_addf(b, "%s_sum{", kind_name[k]);
		labels(b, row);
		(void)rl_buf_addf(b, "} %.6f\n%s_count{", (double)atomic_load(
		    &m.h[row][k].sum_us) / 1e6, kind_name[k]);
		labels(b, row);
		(void)rl_buf_addf(b, "} %llu\n", cum);
	}
}

char *
rl_metrics_text(void)
{
	struct rl_cache_stats	 cs;
	struct rl_credits_stats	 st;
	struct rl_buf		 b;
	enum kind		 k;
	char			*s;

	rl_buf_init(&b, RL_METRICS_TEXT_MAX);
	for (k = 0; k < K__MAX; k++)
		histogram(&b, k);
	(void)rl_buf_addf(&b, "# HELP relais_upstream_requests_total "
	    "Requests that made an upstream call.\n"
	    "# TYPE relais_upstream_requests_total counter\n"
	    "relais_upstream_requests_total{program=\"%s\"} %llu\n",
	    m.prog, atomic_load(&m.calls));
	(void)rl_buf_addf(&b, "# HELP relais_db_round_trips_before_upstream"
	    "_total PostgreSQL round trips those requests made before their "
	    "first upstream call.\n"
	    "# TYPE relais_db_round_trips_before_upstream_total counter\n"
	    "relais_db_round_trips_before_upstream_total{program=\"%s\"} "
	    "%llu\n", m.prog, atomic_load(&m.pre_rt));
	rl_cache_stats(&cs);
	(void)rl_buf_addf(&b, "# HELP relais_cache_hits_total Reads served "
	    "by the in-process cache.\n# TYPE relais_cache_hits_total "
	    "counter\nrelais_cache_hits_total{program=\"%s\"} %llu\n"
	    "# HELP relais_cache_misses_total Cacheable reads that went to "
	    "PostgreSQL.\n# TYPE relais_cache_misses_total counter\n"
	    "relais_cache_misses_total{program=\"%s\"} %llu\n"
	    "# HELP relais_cache_notifications_total Invalidations received."
	    "\n# TYPE relais_cache_notifications_total counter\n"
	    "relais_cache_notifications_total{program=\"%s\"} %llu\n"
	    "# HELP relais_cache_entries Results the cache holds.\n"
	    "# TYPE relais_cache_entries gauge\n"
	    "relais_cache_entries{program=\"%s\"} %d\n"
	    "# HELP relais_cache_listening 1 while the cache's LISTEN "
	    "connection is up.\n# TYPE relais_cache_listening gauge\n"
	    "relais_cache_listening{program=\"%s\"} %d\n",
	    m.prog, cs.hits, m.prog, cs.misses, m.prog, cs.notifications,
	    m.prog, cs.entries, m.prog, cs.listening);
	(void)rl_buf_addf(&b, "# HELP relais_credits_queue Settlements "
	    "waiting for the background writer.\n# TYPE relais_credits_queue "
	    "gauge\nrelais_credits_queue{program=\"%s\"} %zu\n", m.prog,
	    rl_credits_pending());
	rl_credits_stats(&st);
	(void)rl_buf_addf(&b, "# HELP relais_credits_reservations_total "
	    "Holds taken: in a statement of their own, in a group's, or drawn "
	    "from the standing holds taken ahead (no round trip).\n"
	    "# TYPE relais_credits_reservations_total counter\n"
	    "relais_credits_reservations_total{program=\"%s\",how=\"alone\"} "
	    "%lld\nrelais_credits_reservations_total{program=\"%s\","
	    "how=\"group\"} %lld\nrelais_credits_reservations_total{"
	    "program=\"%s\",how=\"spare\"} %lld\n", m.prog,
	    st.reserved_alone, m.prog, st.reserved_grouped, m.prog,
	    st.reserved_spare);
	(void)rl_buf_addf(&b, "# HELP relais_credits_settlements_total "
	    "Settlements written: by the background writer in a group or "
	    "one at a time, or in line by the caller's thread.\n"
	    "# TYPE relais_credits_settlements_total counter\n"
	    "relais_credits_settlements_total{program=\"%s\",how=\"group\"} "
	    "%lld\nrelais_credits_settlements_total{program=\"%s\","
	    "how=\"queue\"} %lld\nrelais_credits_settlements_total{"
	    "program=\"%s\",how=\"inline\"} %lld\n", m.prog,
	    st.settled_grouped, m.prog, st.settled_queued, m.prog,
	    st.settled_inline);
	s = rl_buf_take(&b, NULL);
	rl_buf_free(&b);
	return s;
}
