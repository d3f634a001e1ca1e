/*
 * router.h: the router's completion (seed 004), whatever carries it.
 * POST /completion (cgi-bin/completion.c) answers it over HTTP, whole or
 * as server-sent events; the realtime program (bin/realtime.c) streams it
 * over a WebSocket.  Both resolve, build and bill a completion here, so
 * the model and agent rules, the context, the price and the ledger row
 * are the same whichever way the question came.  See
 * docs/internals/router.md.
 *
 *	rl_router_parse		the question, from a request body
 *	rl_router_prepare	model, agent, settings, context, upstream body
 *	rl_router_reserve	hold the money first (streams)
 *	rl_router_call		the billed call (lib/ai.c)
 *	rl_router_impact	price, emissions and equivalences
 *	rl_router_done		the metadata of a stream's last event
 *	rl_router_free
 */
#ifndef RL_ROUTER_H
#define RL_ROUTER_H

#include <jansson.h>

#include "relais.h"
#include "ai.h"
#include "models.h"
#include "openai.h"

struct rl_arena;

/* A question: strings and values borrowed from the caller's JSON. */
struct rl_router_req {
	const char	*message;
	const char	*model;
	const char	*agent;		/* NULL: the default agent */
	int		 stream;
	json_t		*temperature;	/* NULL: the model's default */
	json_t		*history;	/* array or NULL */
	const char	*project;	/* NULL: no documents */
	json_t		*sources;	/* non-empty array or NULL */
};

/* The router's settings row and the model's energy. */
struct rl_router_factors {
	char		 currency[4];
	long long	 rate_micro;	/* currency micro-units per USD */
	double		 grid_kg_kwh;
	double		 water_l_kwh;
	double		 car_kg_km;
	double		 tgv_kg_km;
	double		 phone_kwh;
	double		 kwh_per_1k;
};

/* One completion, from rl_router_prepare to rl_router_free. */
struct rl_router {
	struct rl_router_req	 in;
	long long		 start_us;	/* latency is counted from */
	struct rl_model		 model;
	const char		*agent;		/* type, in the arena */
	const char		*prompt;	/* its system prompt */
	struct rl_router_factors f;
	json_t			*msgs;
	json_t			*body;		/* the upstream request */
	long long		 max;		/* its output cap */
	struct rl_ai		 ai;
};

/* The clock start_us and the latency are read on. */
long long	 rl_router_now_us(void);
enum rl_err	 rl_router_parse(const json_t *, struct rl_router_req *,
		    struct rl_error *);
enum rl_err	 rl_router_prepare(struct rl_router *, struct rl_arena *,
		    long long user_id, const char *request_id,
		    struct rl_error *);
enum rl_err	 rl_router_reserve(struct rl_router *, struct rl_error *);
enum rl_err	 rl_router_call(struct rl_router *, rl_oa_event_cb, void *,
		    struct rl_error *);
const char	*rl_router_text(const struct rl_router *);
json_t		*rl_router_usage(const struct rl_usage *);
json_t		*rl_router_impact(const struct rl_router *);
json_t		*rl_router_done(const struct rl_router *);
void		 rl_router_free(struct rl_router *);

#endif
