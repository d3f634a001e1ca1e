/*
 * conf.c: environment configuration with defaults.  Values are validated
 * here, so a typo in RELAIS_THREADS stops the program at start-up instead
 * of surfacing under load.  It calls only the log: the database, the
 * upstream client and the runtime read it, so it calls none of them
 * (start-up that does is lib/start.c; tests/check-includes.sh keeps it so).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "conf.h"
#include "bounds.h"
#include "log.h"

#ifndef RL_SCHEMADIR
#define RL_SCHEMADIR	"/usr/local/share/relais/schemas"
#endif
#ifndef RL_OPENAPI_FILE
#define RL_OPENAPI_FILE	"/usr/local/share/relais/openapi.json"
#endif

static struct rl_conf	 conf;
static char		 conf_upstream[256];

static void	upstream_name(void);
const struct rl_conf	*rl_conf = &conf;

static const char *
env(const char *name, const char *def)
{
	const char	*v = getenv(name);

	return v != NULL && *v != '\0' ? v : def;
}

/*
 * An integer variable in [min, max]; unset or empty keeps *out.  Shared
 * with the worker's own variables so that junk stops every program the
 * same way, with the same message, instead of being read as 0.
 */
enum rl_err
rl_conf_int(const char *name, long min, long max, int *out,
    struct rl_error *e)
{
	const char	*v = getenv(name);
	char		*end;
	long		 n;

	if (v == NULL || *v == '\0')
		return RL_OK;
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno != 0 || *end != '\0' || n < min || n > max)
		return rl_error_set(e, RL_EINVAL, "%s: want %ld to %ld, got "
		    "\"%s\"", name, min, max, v);
	*out = (int)n;
	return RL_OK;
}

enum rl_err
rl_conf_load(int default_threads, struct rl_error *e)
{
	const char		*v;
	long			 n;
	enum rl_loglevel	 l;

	conf.database_url = env("RELAIS_DATABASE_URL", "dbname=relais");
	conf.openai_base_url = env("RELAIS_OPENAI_BASE_URL",
	    "https://api.openai.com/v1");
	conf.openai_api_key = env("RELAIS_OPENAI_API_KEY", "");
	conf.secret_key_file = env("RELAIS_SECRET_KEY_FILE",
	    "/etc/relais/secret.key");
	conf.tmpdir = env("RELAIS_TMPDIR", env("TMPDIR", "/tmp"));
	conf.schema_dir = env("RELAIS_SCHEMA_DIR", RL_SCHEMADIR);
	conf.page_dir = env("RELAIS_PAGE_DIR", RL_PAGEDIR);
	/* scripts/run and scripts/test point at the build's copy. */
	conf.openapi_file = env("RELAIS_OPENAPI_FILE", RL_OPENAPI_FILE);

	conf.threads = default_threads > 0 ? default_threads :
	    RL_THREADS_DEFAULT;
	if (rl_conf_int("RELAIS_THREADS", 1, RL_THREADS_MAX, &conf.threads,
	    e) != RL_OK)
		return RL_EINVAL;
	n = sysconf(_SC_NPROCESSORS_ONLN) * RL_DB_POOL_PER_CPU;
	if (n < RL_DB_POOL_MIN)
		n = RL_DB_POOL_MIN;
	if (n > RL_DB_POOL_MAX)
		n = RL_DB_POOL_MAX;
	conf.db_pool = conf.threads < n ? conf.threads : (int)n;
	if (rl_conf_int("RELAIS_DB_POOL", 1, RL_DB_POOL_MAX, &conf.db_pool,
	    e) != RL_OK)
		return RL_EINVAL;

	conf.sse_heartbeat_sec = RL_SSE_HEARTBEAT_SEC;
	if (rl_conf_int("RELAIS_SSE_HEARTBEAT_SEC", 1, 3600,
	    &conf.sse_heartbeat_sec, e) != RL_OK)
		return RL_EINVAL;
	conf.upstream_idle_sec = RL_OA_IDLE_CONN_SEC;
	if (rl_conf_int("RELAIS_UPSTREAM_IDLE_SEC", 1, 3600,
	    &conf.upstream_idle_sec, e) != RL_OK)
		return RL_EINVAL;
	conf.credit_spares = RL_CREDITS_SPARES_DEFAULT;
	if (rl_conf_int("RELAIS_CREDITS_SPARES", 0, RL_CREDITS_SPARES_MAX,
	    &conf.credit_spares, e) != RL_OK)
		return RL_EINVAL;
	conf.check_responses = 0;
	if (rl_conf_int("RELAIS_CHECK_RESPONSES", 0, 1, &conf.check_responses,
	    e) != RL_OK)
		return RL_EINVAL;

	l = RL_LOG_INFO;
	if ((v = getenv("RELAIS_LOG_LEVEL")) != NULL && *v != '\0' &&
	    rl_log_parselevel(v, &l) == -1)
		return rl_error_set(e, RL_EINVAL, "RELAIS_LOG_LEVEL: want "
		    "error, warn, info or debug, got \"%s\"", v);
	conf.log_level = (int)l;
	rl_log_setlevel(l);
	upstream_name();
	return RL_OK;
}

/*
 * What /api/health reports as the upstream: "openai" for OpenAI itself,
 * "fake" for a loopback server (the test upstream), else the host name.
 * Computed once at load time, so readers on any thread see a fixed string.
 */
static void
upstream_name(void)
{
	const char	*p, *end;
	size_t		 len;

	(void)snprintf(conf_upstream, sizeof(conf_upstream), "unknown");
	if ((p = strstr(conf.openai_base_url, "://")) == NULL)
		return;
	p += 3;
	if (*p == '[')
		end = p + strcspn(p, "]") + 1;
	else
		end = p + strcspn(p, ":/");
	len = (size_t)(end - p);
	if (len == 0 || len >= sizeof(conf_upstream))
		return;
	if (len == strlen("api.openai.com") &&
	    strncasecmp(p, "api.openai.com", len) == 0)
		(void)snprintf(conf_upstream, sizeof(conf_upstream), "openai");
	else if (strncmp(p, "127.", 4) == 0 || (len == 9 &&
	    strncasecmp(p, "localhost", 9) == 0) || (len == 5 &&
	    strncmp(p, "[::1]", 5) == 0))
		(void)snprintf(conf_upstream, sizeof(conf_upstream), "fake");
	else
		(void)snprintf(conf_upstream, sizeof(conf_upstream), "%.*s",
		    (int)len, p);
}

const char *
rl_conf_upstream_name(void)
{

	return conf_upstream;
}
