/*
 * relais-migrate: apply sql/NNNN_name.sql files in order, each once, each
 * in its own transaction, and record them in schema_migrations.  Migrations
 * are forward-only: a file already applied is never run again, and an
 * applied file that changed is reported (its checksum is kept).
 */
#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "crypto.h"
#include "db.h"
#include "log.h"

#ifndef RL_SQLDIR
#define RL_SQLDIR	"/usr/local/share/relais/sql"
#endif

/* A migration file larger than this is a mistake, not a schema. */
#define MIGRATION_MAX	(8 * 1024 * 1024)
/* Number of migration files we expect to ever have. */
#define MIGRATIONS_MAX	1000
/* Advisory lock key so two migrators never interleave ("relaismg"). */
#define MIGRATE_LOCK	"7237893470582157159"

struct migration {
	int	 version;
	char	 name[256];
};

static int
cmp(const void *a, const void *b)
{
	const struct migration	*x = a, *y = b;

	return (x->version > y->version) - (x->version < y->version);
}

/* NNNN_name.sql, four digits then an underscore. */
static int
parse_name(const char *f, struct migration *m)
{
	size_t	 len = strlen(f);

	if (len < 10 || len >= sizeof(m->name) ||
	    strspn(f, "0123456789") != 4 || f[4] != '_' ||
	    strcmp(f + len - 4, ".sql") != 0)
		return -1;
	m->version = (f[0] - '0') * 1000 + (f[1] - '0') * 100 +
	    (f[2] - '0') * 10 + (f[3] - '0');
	memcpy(m->name, f, len + 1);
	return m->version > 0 ? 0 : -1;
}

static int
list(const char *dir, struct migration *ms, size_t *n)
{
	DIR		*d;
	struct dirent	*de;
	size_t		 i;

	*n = 0;
	if ((d = opendir(dir)) == NULL) {
		fprintf(stderr, "relais-migrate: %s: %s\n", dir,
		    strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL && *n < MIGRATIONS_MAX)
		if (parse_name(de->d_name, &ms[*n]) == 0)
			(*n)++;
	closedir(d);
	qsort(ms, *n, sizeof(*ms), cmp);
	for (i = 1; i < *n; i++)
		if (ms[i].version == ms[i - 1].version) {
			fprintf(stderr, "relais-migrate: two migrations "
			    "numbered %04d\n", ms[i].version);
			return -1;
		}
	return 0;
}

static char *
slurp(const char *path, struct rl_error *e)
{
	FILE		*f;
	struct stat	 st;
	char		*buf = NULL;

	if ((f = fopen(path, "r")) == NULL) {
		rl_error_set(e, RL_EIO, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fileno(f), &st) == -1 || st.st_size > MIGRATION_MAX)
		rl_error_set(e, RL_ETOOBIG, "%s: unreadable or too large",
		    path);
	else if ((buf = malloc((size_t)st.st_size + 1)) == NULL)
		rl_error_set(e, RL_ENOMEM, NULL);
	else if (fread(buf, 1, (size_t)st.st_size, f) !=
	    (size_t)st.st_size) {
		rl_error_set(e, RL_EIO, "%s: short read", path);
		free(buf);
		buf = NULL;
	} else
		buf[st.st_size] = '\0';
	fclose(f);
	return buf;
}

static void
hexsum(const char *s, char out[2 * RL_SHA256_BYTES + 1])
{
	unsigned char	 h[RL_SHA256_BYTES];
	size_t		 i;

	rl_sha256(s, strlen(s), h);
	for (i = 0; i < sizeof(h); i++)
		(void)snprintf(out + 2 * i, 3, "%02x", h[i]);
}

/* Apply one file in a transaction, recording it in the same one. */
static enum rl_err
apply(const char *dir, const struct migration *m, struct rl_error *e)
{
	char		 path[1024], ver[16], sum[2 * RL_SHA256_BYTES + 1];
	const char	*params[3];
	char		*sql;
	enum rl_err	 err;

	(void)snprintf(path, sizeof(path), "%s/%s", dir, m->name);
	if ((sql = slurp(path, e)) == NULL)
		return e->code;
	hexsum(sql, sum);
	(void)snprintf(ver, sizeof(ver), "%d", m->version);
	params[0] = ver;
	params[1] = m->name;
	params[2] = sum;
	if ((err = rl_db_begin(e)) != RL_OK)
		goto out;
	if ((err = rl_db_exec_script(sql, e)) != RL_OK ||
	    (err = rl_db_exec("INSERT INTO schema_migrations (version, name, "
	    "checksum) VALUES ($1, $2, $3)", 3, params, NULL, e)) != RL_OK ||
	    (err = rl_db_commit(e)) != RL_OK) {
		rl_db_rollback();
		goto out;
	}
out:
	free(sql);
	return err;
}

static int
usage(void)
{

	fprintf(stderr, "usage: relais-migrate [-n] [-d sqldir]\n");
	return 2;
}

int
main(int argc, char *argv[])
{
	static struct migration	 ms[MIGRATIONS_MAX];
	struct rl_error		 e;
	struct rl_dbres		*r = NULL;
	const char		*dir = RL_SQLDIR, *params[2];
	char			 ver[16], path[1024];
	char			 sum[2 * RL_SHA256_BYTES + 1];
	char			*sql;
	size_t			 n, i;
	int			 c, dry = 0, applied = 0, rc = 1, row;

	while ((c = getopt(argc, argv, "d:n")) != -1)
		switch (c) {
		case 'd':
			dir = optarg;
			break;
		case 'n':
			dry = 1;
			break;
		default:
			return usage();
		}
	rl_error_clear(&e);
	if (rl_conf_load(1, &e) != RL_OK || rl_crypto_init(&e) != RL_OK) {
		fprintf(stderr, "relais-migrate: %s\n", e.msg);
		return 1;
	}
	if (list(dir, ms, &n) == -1)
		return 1;
	if (rl_db_exec("CREATE TABLE IF NOT EXISTS schema_migrations ("
	    "version integer PRIMARY KEY, name text NOT NULL, "
	    "checksum text NOT NULL, "
	    "applied_at timestamptz NOT NULL DEFAULT now())",
	    0, NULL, NULL, &e) != RL_OK ||
	    rl_db_exec("SELECT pg_advisory_lock(" MIGRATE_LOCK ")", 0, NULL,
	    NULL, &e) != RL_OK)
		goto out;
	for (i = 0; i < n; i++) {
		(void)snprintf(ver, sizeof(ver), "%d", ms[i].version);
		params[0] = ver;
		if (rl_db_exec("SELECT checksum FROM schema_migrations "
		    "WHERE version = $1", 1, params, &r, &e) != RL_OK)
			goto out;
		row = rl_dbres_rows(r);
		if (row == 1) {
			(void)snprintf(path, sizeof(path), "%s/%s", dir,
			    ms[i].name);
			if ((sql = slurp(path, &e)) == NULL)
				goto out;
			hexsum(sql, sum);
			free(sql);
			if (strcmp(sum, rl_dbres_get(r, 0, 0)) != 0)
				fprintf(stderr, "relais-migrate: warning: %s "
				    "changed after it was applied; migrations "
				    "are forward-only, add a new file\n",
				    ms[i].name);
		}
		rl_dbres_free(r);
		r = NULL;
		if (row == 1)
			continue;
		if (dry) {
			printf("pending %s\n", ms[i].name);
			continue;
		}
		if (apply(dir, &ms[i], &e) != RL_OK) {
			fprintf(stderr, "relais-migrate: %s: %s\n", ms[i].name,
			    e.msg);
			e.msg[0] = '\0';
			goto out;
		}
		printf("applied %s\n", ms[i].name);
		applied++;
	}
	printf("schema up to date (%d applied now)\n", applied);
	rc = 0;
out:
	if (rc != 0 && e.msg[0] != '\0')
		fprintf(stderr, "relais-migrate: %s\n", e.msg);
	rl_dbres_free(r);
	rl_db_disconnect();
	return rc;
}
