/*
 * log.h: one JSON object per line on stderr.  A line is built in a local
 * buffer and written with one write(2), so threads never interleave.
 */
#ifndef RL_LOG_H
#define RL_LOG_H

#include <stddef.h>

#include "bounds.h"

enum rl_loglevel {
	RL_LOG_ERROR = 0,
	RL_LOG_WARN,
	RL_LOG_INFO,
	RL_LOG_DEBUG,
	RL_LOG__MAX
};

void	rl_log_setlevel(enum rl_loglevel);
int	rl_log_parselevel(const char *, enum rl_loglevel *);
void	rl_log(enum rl_loglevel, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
/*
 * What a request's (or a task's) line says beyond its own facts: who
 * asked, and what its upstream calls took and cost.  Thread-local like
 * the request id: rl_log_set_request() clears it, the runtime (the
 * worker, for a task) names the user, and lib/ai.c adds every call it
 * makes on the thread (rl_log_upstream).
 */
struct rl_log_ctx {
	long long	 user_id;	/* 0: nobody signed in */
	int		 calls;		/* upstream calls that reached it */
	int		 failed;	/* of which failed */
	int		 upstream_status; /* HTTP status of the last call */
	long long	 upstream_us;	/* time spent in them, retries too */
	long long	 tokens_in;
	long long	 tokens_out;
	long long	 cost_micro;	/* at our prices, micro-USD */
	char		 model[RL_LOG_ID_MAX]; /* of the last call */
};

void	rl_log_request(const char *id, const char *method, const char *path,
	    const char *route, int status, long long us, const char *err);
/*
 * relais-worker's line for a task: its id as "req", its kind, attempt,
 * the state written (NULL: none could be), and the same user and upstream
 * figures as a request line.
 */
void	rl_log_task(const char *id, const char *name, int attempt,
	    const char *state, long long us, const char *err);
/*
 * The request this thread serves (the runtime sets it, NULL when done):
 * every rl_log() line from the thread then carries its "req" id, so a
 * database error logged deep in a module meets its request line.
 */
void	rl_log_set_request(const char *id);
void	rl_log_set_user(long long);
void	rl_log_upstream(const char *model, int status, int failed,
	    long long us, long long tokens_in, long long tokens_out,
	    long long cost_micro);

/*
 * The line builders behind rl_log(), rl_log_request() and rl_log_task(),
 * for tests and the fuzzer: fill out with one complete JSON line ending
 * in "\n" and return its length, never more than RL_LOG_LINE_MAX.
 */
size_t	rl_log_format(char out[RL_LOG_LINE_MAX], enum rl_loglevel,
	    const char *req, const char *msg);
size_t	rl_log_format_request(char out[RL_LOG_LINE_MAX], const char *id,
	    const char *method, const char *path, const char *route,
	    int status, long long us, const char *err,
	    const struct rl_log_ctx *);
size_t	rl_log_format_task(char out[RL_LOG_LINE_MAX], const char *id,
	    const char *name, int attempt, const char *state, long long us,
	    const char *err, const struct rl_log_ctx *);

#define rl_log_error(...)	rl_log(RL_LOG_ERROR, __VA_ARGS__)
#define rl_log_warn(...)	rl_log(RL_LOG_WARN, __VA_ARGS__)
#define rl_log_info(...)	rl_log(RL_LOG_INFO, __VA_ARGS__)
#define rl_log_debug(...)	rl_log(RL_LOG_DEBUG, __VA_ARGS__)

#endif
