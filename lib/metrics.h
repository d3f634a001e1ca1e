/*
 * metrics.h: where a request's time went — relais' own, the upstream's,
 * the database's — said on every response (Server-Timing) and kept per
 * route as Prometheus histograms for GET /metrics/<program>.  See
 * docs/internals/metrics.md.
 */
#ifndef RL_METRICS_H
#define RL_METRICS_H

#include <stddef.h>

#include "relais.h"

struct rl_route;

/* The runtime, once: the program's name and route table. */
void		 rl_metrics_init(const char *, const struct rl_route *, size_t);

/* The runtime, per request, on the request's thread. */
void		 rl_metrics_request_begin(void);
void		 rl_metrics_request_end(const struct rl_route *,
		    long long total_us);

/*
 * Around an upstream call (ai.c), on the request's thread.  The first
 * begin of a request also notes how many database round trips came
 * before it: the hot path's figure (issue 17: at most one).
 */
void		 rl_metrics_upstream_begin(void);
void		 rl_metrics_upstream_end(void);

/*
 * The Server-Timing value for a response whose request started at
 * start_us: "relais;dur=…, upstream;dur=…, db;dur=…, db-calls;desc=…,
 * db-before-upstream;desc=…".  Durations in milliseconds; relais' own
 * is the whole time so far less the upstream's.
 */
void		 rl_metrics_server_timing(long long start_us, char *, size_t);

/* The exposition text (a malloc'd string), NULL when out of memory. */
char		*rl_metrics_text(void);

#endif
