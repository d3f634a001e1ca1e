/*
 * cache.c: query results over tables that rarely change, kept in the
 * process and dropped the moment PostgreSQL says a table changed.
 *
 * sql/0011_cache_notify.sql puts a trigger on each table concerned that
 * runs pg_notify('relais_cache', '<table>[:<id>]') in the writing
 * transaction; PostgreSQL delivers it at commit to every session that
 * listens, whichever host it runs on.  One thread per process listens on
 * a connection of its own and raises the table's generation counter.  An
 * entry remembers the generations of its tables as they were before its
 * statement ran, and is served only while they are unchanged: a change
 * that commits while the statement runs makes the entry stale at once,
 * never a stale value cached as fresh.  While the listener is not
 * listening (starting, PostgreSQL away, CGI mode) the cache is off and
 * every read goes to the database; when it listens again every entry is
 * forgotten, since notifications sent meanwhile were lost.
 */
#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bounds.h"
#include "cache.h"
#include "db.h"
#include "extern.h"
#include "log.h"

#define CHANNEL		"relais_cache"
/* How long the listener waits for a notification before looking again. */
#define WAIT_MS		1000
#define SLOTS		(2 * RL_CACHE_ENTRIES)

/* The tables the trigger names, and the generation each one bumps. */
static const struct {
	const char		*name;
	enum rl_cache_table	 t;
} tables[] = {
	{ "openai_models", RL_CACHE_MODELS },
	{ "providers", RL_CACHE_PROVIDERS },
	{ "users", RL_CACHE_USERS },
	{ "router_agents", RL_CACHE_ROUTER },
	{ "router_settings", RL_CACHE_ROUTER },
	{ "router_energy", RL_CACHE_ROUTER },
	{ "chat_model_config", RL_CACHE_SETTINGS },
	{ "section_ai_settings", RL_CACHE_SETTINGS },
	{ "global_generation_settings", RL_CACHE_SETTINGS },
	{ "analyse_plan_cours_prompt", RL_CACHE_SETTINGS },
	{ "plan_de_cours_prompt_settings", RL_CACHE_SETTINGS },
	{ "grille_prompt_settings", RL_CACHE_SETTINGS },
	{ "ocr_prompt_settings", RL_CACHE_SETTINGS },
	{ "plan_cadre_import_prompt_settings", RL_CACHE_SETTINGS },
	{ "rate_limits", RL_CACHE_SETTINGS },	/* lib/ratelimit.c */
};

/* One cached result: its key is the statement's text and parameters. */
struct entry {
	struct entry		*next;		/* same bucket */
	char			*key;
	size_t			 keylen;
	uint32_t		 hash;
	unsigned int		 mask;
	unsigned long long	 epoch;
	unsigned long long	 gen[RL_CACHE__MAX];
	struct rl_dbres		*res;		/* the cache's reference */
};

static atomic_ullong	 gen[RL_CACHE__MAX];
/* Raised by every flush; entries of an older epoch are dead. */
static atomic_ullong	 epoch = 1;
static atomic_int	 on;		/* the listener is listening */
static atomic_ullong	 hits, misses, notes, flushes;

static pthread_mutex_t	 mu = PTHREAD_MUTEX_INITIALIZER;
static struct entry	*bucket[SLOTS];
static int		 nentries;
static int		 started;

/*
 * The key: the text, then each parameter as its length and bytes (a NULL
 * parameter as length -1), so that no two different calls share one.
 */
static char *
make_key(const char *sql, int n, const char *const *params, size_t *len,
    uint32_t *hash)
{
	size_t		 sl = strlen(sql) + 1, cap = sl, off, pl;
	char		*k;
	long long	 l;
	int		 i;

	for (i = 0; i < n; i++)
		cap += sizeof(l) + (params[i] != NULL ? strlen(params[i]) : 0);
	if ((k = malloc(cap)) == NULL)
		return NULL;
	memcpy(k, sql, sl);
	off = sl;
	for (i = 0; i < n; i++) {
		pl = params[i] != NULL ? strlen(params[i]) : 0;
		l = params[i] != NULL ? (long long)pl : -1;
		memcpy(k + off, &l, sizeof(l));
		off += sizeof(l);
		memcpy(k + off, params[i] != NULL ? params[i] : "", pl);
		off += pl;
	}
	*len = cap;
	*hash = rl_fnv1a32(k, cap);
	return k;
}

static void
entry_free(struct entry *en)
{

	rl_dbres_free(en->res);
	free(en->key);
	free(en);
}

/* With mu held. */
static void
clear_locked(void)
{
	struct entry	*en, *next;
	size_t		 i;

	for (i = 0; i < SLOTS; i++) {
		for (en = bucket[i]; en != NULL; en = next) {
			next = en->next;
			entry_free(en);
		}
		bucket[i] = NULL;
	}
	nentries = 0;
}

void
rl_cache_flush(void)
{

	atomic_fetch_add(&epoch, 1);
	atomic_fetch_add(&flushes, 1);
	pthread_mutex_lock(&mu);
	clear_locked();
	pthread_mutex_unlock(&mu);
}

static int
fresh(const struct entry *en)
{
	int	 t;

	if (en->epoch != atomic_load(&epoch))
		return 0;
	for (t = 0; t < RL_CACHE__MAX; t++)
		if ((en->mask & RL_CACHE_T(t)) &&
		    en->gen[t] != atomic_load(&gen[t]))
			return 0;
	return 1;
}

/* With mu held: the entry of key, or NULL. */
static struct entry **
find_locked(const char *key, size_t len, uint32_t hash)
{
	struct entry	**pp;

	for (pp = &bucket[hash % SLOTS]; *pp != NULL; pp = &(*pp)->next)
		if ((*pp)->hash == hash && (*pp)->keylen == len &&
		    memcmp((*pp)->key, key, len) == 0)
			return pp;
	return NULL;
}

enum rl_err
rl_cache_exec(unsigned int mask, const char *sql, int nparams,
    const char *const *params, struct rl_dbres **out, struct rl_error *e)
{
	struct entry	*en, **pp;
	char		*key;
	size_t		 len;
	uint32_t	 hash;
	unsigned long long snap[RL_CACHE__MAX], ep;
	enum rl_err	 err;
	int		 t;

	*out = NULL;
	if (!atomic_load(&on) ||
	    (key = make_key(sql, nparams, params, &len, &hash)) == NULL)
		return rl_db_exec(sql, nparams, params, out, e);
	pthread_mutex_lock(&mu);
	if ((pp = find_locked(key, len, hash)) != NULL && fresh(*pp)) {
		*out = rl_dbres_ref((*pp)->res);
		pthread_mutex_unlock(&mu);
		free(key);
		atomic_fetch_add(&hits, 1);
		return RL_OK;
	}
	pthread_mutex_unlock(&mu);
	atomic_fetch_add(&misses, 1);

	/* The generations before the statement: a change during it wins. */
	ep = atomic_load(&epoch);
	for (t = 0; t < RL_CACHE__MAX; t++)
		snap[t] = atomic_load(&gen[t]);
	if ((err = rl_db_exec(sql, nparams, params, out, e)) != RL_OK ||
	    (en = calloc(1, sizeof(*en))) == NULL) {
		free(key);
		return err;
	}
	en->key = key;
	en->keylen = len;
	en->hash = hash;
	en->mask = mask;
	en->epoch = ep;
	memcpy(en->gen, snap, sizeof(snap));
	en->res = rl_dbres_ref(*out);
	pthread_mutex_lock(&mu);
	if ((pp = find_locked(key, len, hash)) != NULL) {
		/* Replace the stale one (or a twin fetched meanwhile). */
		en->next = (*pp)->next;
		entry_free(*pp);
		*pp = en;
	} else {
		if (nentries >= RL_CACHE_ENTRIES)
			clear_locked();	/* full: start again */
		en->next = bucket[hash % SLOTS];
		bucket[hash % SLOTS] = en;
		nentries++;
	}
	pthread_mutex_unlock(&mu);
	return RL_OK;
}

enum rl_err
rl_cache_json(unsigned int mask, const char *sql, int nparams,
    const char *const *params, json_t **out, struct rl_error *e)
{
	struct rl_dbres	*r;
	enum rl_err	 err;

	*out = NULL;
	if ((err = rl_cache_exec(mask, sql, nparams, params, &r, e)) != RL_OK)
		return err;
	return rl_dbres_json(r, out, e);
}

/* A notification's payload, "<table>" or "<table>:<id>": bump it. */
static void
invalidate(const char *payload)
{
	size_t	 n = strcspn(payload, ":"), i;

	atomic_fetch_add(&notes, 1);
	for (i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
		if (strlen(tables[i].name) == n &&
		    strncmp(tables[i].name, payload, n) == 0) {
			atomic_fetch_add(&gen[tables[i].t], 1);
			return;
		}
	/* A table this build does not know: be safe, forget everything. */
	rl_log_warn("cache: notification for unknown table %.64s", payload);
	rl_cache_flush();
}

static void
pause_ms(int ms)
{
	struct timespec	 ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	(void)nanosleep(&ts, NULL);
}

static void *
listener(void *arg)
{
	struct rl_error	 e;
	char		*chan, *payload;
	int		 warned = 0;

	(void)arg;
	/* Outside the pool: requests never wait for this connection. */
	rl_db_own();
	for (;;) {
		rl_error_clear(&e);
		if (!atomic_load(&on)) {
			if (rl_db_listen(CHANNEL, &e) != RL_OK) {
				if (!warned++)
					rl_log_warn("cache: LISTEN %s: %s "
					    "(the cache is off until it works)",
					    CHANNEL, e.msg);
				rl_db_disconnect();
				pause_ms(RL_CACHE_RELISTEN_MS);
				continue;
			}
			/*
			 * Listening from here on; whatever changed before is
			 * unknown, so nothing kept from before is served.
			 */
			rl_cache_flush();
			atomic_store(&on, 1);
			if (warned)
				rl_log_info("cache: listening on %s again",
				    CHANNEL);
			warned = 0;
		}
		if (rl_db_wait_notify(WAIT_MS, &chan, &payload, &e) != RL_OK) {
			atomic_store(&on, 0);
			rl_log_warn("cache: lost LISTEN: %s", e.msg);
			rl_db_disconnect();
			continue;
		}
		if (chan != NULL)
			invalidate(payload);
		free(chan);
		free(payload);
	}
	return NULL;
}

enum rl_err
rl_cache_start(struct rl_error *e)
{
	pthread_attr_t	 attr;
	pthread_t	 t;
	int		 rc;

	pthread_mutex_lock(&mu);
	rc = started;
	started = 1;
	pthread_mutex_unlock(&mu);
	if (rc)
		return RL_OK;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, RL_THREAD_STACK);
	rc = pthread_create(&t, &attr, listener, NULL);
	pthread_attr_destroy(&attr);
	if (rc != 0)
		return rl_error_set(e, RL_EINTERNAL, "cache: cannot start the "
		    "listener thread");
	return RL_OK;
}

void
rl_cache_stats(struct rl_cache_stats *s)
{

	s->hits = atomic_load(&hits);
	s->misses = atomic_load(&misses);
	s->notifications = atomic_load(&notes);
	s->flushes = atomic_load(&flushes);
	pthread_mutex_lock(&mu);
	s->entries = nentries;
	pthread_mutex_unlock(&mu);
	s->listening = atomic_load(&on);
}
