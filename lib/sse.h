/*
 * sse.h: Server-Sent Events.  rl_sse_open() answers 200 text/event-stream;
 * each rl_sse_send() writes one frame and flushes it.  A heartbeat thread
 * writes a comment on streams idle for RL_SSE_HEARTBEAT_SEC, which keeps
 * proxies from timing out and finds clients that went away while the
 * handler was waiting on something else.
 */
#ifndef RL_SSE_H
#define RL_SSE_H

#include <jansson.h>

#include "relais.h"

struct rl_req;
struct rl_sse;

struct rl_sse	*rl_sse_open(struct rl_req *, struct rl_error *);
enum rl_err	 rl_sse_send(struct rl_sse *, const char *event,
		    const char *id, const char *data);
enum rl_err	 rl_sse_send_json(struct rl_sse *, const char *event,
		    const char *id, const json_t *);
enum rl_err	 rl_sse_comment(struct rl_sse *, const char *);
int		 rl_sse_gone(struct rl_sse *);
void		 rl_sse_close(struct rl_sse *);

/* Runtime side: start the heartbeat thread once per process. */
enum rl_err	 rl_sse_heartbeat_start(int, struct rl_error *);

#endif
