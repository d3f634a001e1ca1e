/*
 * start.c: process start-up shared by rl_main and the worker's main.
 * It needs the configuration, libsodium, libcurl and the database, so it
 * lives above all of them rather than in conf.c, which they all read.
 */
#include "config.h"

#include <stdlib.h>	/* any libc header: it defines __GLIBC__ */
#ifdef __GLIBC__
#include <malloc.h>	/* mallopt */
#endif

#include "bounds.h"
#include "conf.h"
#include "crypto.h"
#include "db.h"
#include "log.h"
#include "openai.h"
#include "start.h"

/*
 * The start-up every process shares once its configuration is loaded:
 * libsodium and libcurl, then, for a process with data, the master key
 * (tokens, stored API keys) and the schema version.  A database that is
 * down is only a warning: the pool reconnects when it comes back.  Errors
 * are logged here; -1 means "exit 1".
 */
int
rl_start(const char *name, int needs_db)
{
	struct rl_error	 e;
	enum rl_err	 err;

	rl_error_clear(&e);
#ifdef __GLIBC__
	/*
	 * Fixed thresholds instead of glibc's sliding ones: once a request
	 * freed a large block, glibc raised both up to 32/64 MiB, so every
	 * thread arena kept tens of megabytes of free top chunk resident
	 * (an import program sat at ~200 MB RSS with 2 MB in use, and
	 * malloc_trim does not touch an arena's top).
	 */
	(void)mallopt(M_MMAP_THRESHOLD, RL_MALLOC_MMAP_THRESHOLD);
	(void)mallopt(M_TRIM_THRESHOLD, RL_MALLOC_TRIM_THRESHOLD);
#endif
	rl_oa_set_idle(rl_conf->upstream_idle_sec);
	if (rl_crypto_init(&e) != RL_OK || rl_oa_init(&e) != RL_OK ||
	    (needs_db && rl_crypto_load_key(rl_conf->secret_key_file, &e) !=
	    RL_OK)) {
		rl_log_error("%s", e.msg);
		return -1;
	}
	if (!needs_db)
		return 0;
	err = rl_db_check_schema(RL_SCHEMA_VERSION, &e);
	if (err == RL_EDBDOWN)
		rl_log_warn("%s: starting without the database: %s", name,
		    e.msg);
	else if (err != RL_OK) {
		rl_log_error("%s", e.msg);
		return -1;
	}
	return 0;
}
