/*
 * cache.h: an in-process cache of query results over tables that rarely
 * change (models and prices, providers and keys, the router's agents and
 * settings, prompt settings, users' roles), invalidated by LISTEN/NOTIFY.
 * See docs/internals/cache.md.
 */
#ifndef RL_CACHE_H
#define RL_CACHE_H

#include <jansson.h>

#include "relais.h"

struct rl_dbres;

/*
 * The tables a cached statement reads.  Each has a generation counter,
 * raised when sql/0011_cache_notify.sql's trigger on it notifies
 * relais_cache; a result is served only while every table it read keeps
 * the generation it had when the result was fetched.
 */
enum rl_cache_table {
	RL_CACHE_MODELS = 0,	/* openai_models */
	RL_CACHE_PROVIDERS,	/* providers */
	RL_CACHE_USERS,		/* users: role, names, tokens, own key */
	RL_CACHE_ROUTER,	/* router_agents, _settings, _energy */
	RL_CACHE_SETTINGS,	/* chat_model_config, the prompt and AI
				   settings tables */
	RL_CACHE__MAX
};

#define RL_CACHE_T(t)	(1u << (t))

/*
 * rl_db_exec for a read-only statement over the tables in mask (a set of
 * RL_CACHE_T bits): a result fetched earlier with the same text and
 * parameters when none of those tables changed since, else the database's.
 * The result is shared: read it, free it with rl_dbres_free, never keep
 * borrowed strings past that.  Without a listener (CGI mode, the listener
 * reconnecting) every call goes to the database.
 */
enum rl_err	 rl_cache_exec(unsigned int mask, const char *sql, int nparams,
		    const char *const *params, struct rl_dbres **,
		    struct rl_error *);
/* rl_db_json through the cache; *out is a new reference. */
enum rl_err	 rl_cache_json(unsigned int mask, const char *sql,
		    int nparams, const char *const *params, json_t **out,
		    struct rl_error *);

/* Start the listener thread (once per process, after any fork). */
enum rl_err	 rl_cache_start(struct rl_error *);
/* Forget every entry: the listener reconnected, or a test asks. */
void		 rl_cache_flush(void);

/* Counters for /metrics. */
struct rl_cache_stats {
	unsigned long long	 hits;
	unsigned long long	 misses;
	unsigned long long	 notifications;
	unsigned long long	 flushes;
	int			 entries;
	int			 listening;
};
void		 rl_cache_stats(struct rl_cache_stats *);

#endif
