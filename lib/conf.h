/*
 * conf.h: settings read once from the environment at start-up, then
 * read-only for the life of the process.  docs/configuration.md documents
 * every variable.
 */
#ifndef RL_CONF_H
#define RL_CONF_H

#include "relais.h"

struct rl_conf {
	const char	*database_url;	/* RELAIS_DATABASE_URL */
	const char	*openai_base_url; /* RELAIS_OPENAI_BASE_URL */
	const char	*openai_api_key; /* RELAIS_OPENAI_API_KEY, may be "" */
	const char	*secret_key_file; /* RELAIS_SECRET_KEY_FILE */
	const char	*tmpdir;	/* RELAIS_TMPDIR */
	const char	*schema_dir;	/* RELAIS_SCHEMA_DIR */
	const char	*page_dir;	/* RELAIS_PAGE_DIR: pages/ */
	const char	*openapi_file;	/* RELAIS_OPENAPI_FILE */
	int		 threads;	/* RELAIS_THREADS */
	int		 db_pool;	/* RELAIS_DB_POOL */
	int		 log_level;	/* RELAIS_LOG_LEVEL, enum rl_loglevel */
	/*
	 * RELAIS_CHECK_RESPONSES=1: validate every JSON answer against its
	 * route's response schema and say so in a header (the test suite).
	 */
	int		 check_responses;
	int		 upstream_idle_sec; /* RELAIS_UPSTREAM_IDLE_SEC */
	int		 sse_heartbeat_sec; /* RELAIS_SSE_HEARTBEAT_SEC */
	int		 credit_spares;	/* RELAIS_CREDITS_SPARES, 0: none */
};

/* The process-wide configuration, valid after rl_conf_load(). */
extern const struct rl_conf	*rl_conf;

enum rl_err	 rl_conf_load(int default_threads, struct rl_error *);
const char	*rl_conf_upstream_name(void);
enum rl_err	 rl_conf_int(const char *, long, long, int *,
		    struct rl_error *);

#endif
