/*
 * log.h: one JSON object per line on stderr.  A line is built in a local
 * buffer and written with one write(2), so threads never interleave.
 */
#ifndef RL_LOG_H
#define RL_LOG_H

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
void	rl_log_request(const char *id, const char *method, const char *path,
	    const char *route, int status, long long us, const char *err);

#define rl_log_error(...)	rl_log(RL_LOG_ERROR, __VA_ARGS__)
#define rl_log_warn(...)	rl_log(RL_LOG_WARN, __VA_ARGS__)
#define rl_log_info(...)	rl_log(RL_LOG_INFO, __VA_ARGS__)
#define rl_log_debug(...)	rl_log(RL_LOG_DEBUG, __VA_ARGS__)

#endif
