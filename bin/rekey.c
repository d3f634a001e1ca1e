/*
 * relais-rekey: re-seal every stored secret (users' and providers' API
 * keys) under a new master key, in one transaction, then put the new key
 * file in place of the old one.  Either every box is re-sealed or none
 * is: a box the current key cannot open stops the run before anything is
 * written.  docs/operations.md says when and how to run it.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "crypto.h"
#include "db.h"
#include "log.h"

/*
 * Every sealed column: a bytea named *_enc holding nonce || MAC ||
 * ciphertext (lib/crypto.c).  check_columns() refuses to run when the
 * database has one this table does not list, so a sealed column added
 * by a later migration cannot be left under the old key.
 */
static const struct sealed {
	const char	*name;		/* table.column */
	const char	*select;	/* key text, box as hex; rows locked */
	const char	*update;	/* $1 key text, $2 new box as hex */
} sealed[] = {
	{ "users.openai_key_enc",
	    "SELECT id::text, encode(openai_key_enc, 'hex') FROM users "
	    "WHERE openai_key_enc IS NOT NULL ORDER BY id FOR UPDATE",
	    "UPDATE users SET openai_key_enc = decode($2, 'hex') "
	    "WHERE id = $1::bigint" },
	{ "providers.api_key_enc",
	    "SELECT name, encode(api_key_enc, 'hex') FROM providers "
	    "WHERE api_key_enc IS NOT NULL ORDER BY name FOR UPDATE",
	    "UPDATE providers SET api_key_enc = decode($2, 'hex') "
	    "WHERE name = $1" },
};

#define NSEALED		(sizeof(sealed) / sizeof(sealed[0]))

/* One opened secret, held until it is sealed again, then wiped. */
struct secret {
	const struct sealed	*col;
	char			*key;	/* the row's key text */
	char			*plain;
	size_t			 len;
};

static int
usage(void)
{

	fprintf(stderr, "usage: relais-rekey [-n] [-k newkey]\n");
	return 2;
}

/* Refuse a database with a sealed column this program does not know. */
static enum rl_err
check_columns(struct rl_error *e)
{
	struct rl_dbres	*r = NULL;
	const char	*name;
	size_t		 k;
	int		 i;
	enum rl_err	 err;

	if ((err = rl_db_exec("SELECT table_name || '.' || column_name FROM "
	    "information_schema.columns WHERE table_schema = "
	    "current_schema() AND data_type = 'bytea' AND column_name LIKE "
	    "'%\\_enc' ORDER BY 1", 0, NULL, &r, e)) != RL_OK)
		goto out;
	for (i = 0; i < rl_dbres_rows(r); i++) {
		name = rl_dbres_get(r, i, 0);
		for (k = 0; k < NSEALED; k++)
			if (strcmp(name, sealed[k].name) == 0)
				break;
		if (k == NSEALED) {
			err = rl_error_set(e, RL_EINVAL, "sealed column %s is "
			    "unknown to this relais-rekey: nothing changed",
			    name);
			goto out;
		}
	}
out:
	rl_dbres_free(r);
	return err;
}

/* Open every box of every sealed column under the key loaded now. */
static enum rl_err
open_all(struct secret **out, size_t *n, struct rl_error *e)
{
	struct rl_dbres	*r = NULL;
	struct secret	*s = NULL, *t;
	struct rl_error	 oe;
	size_t		 k, cap = 0;
	int		 i;
	enum rl_err	 err = RL_OK;

	*n = 0;
	for (k = 0; k < NSEALED; k++) {
		if ((err = rl_db_exec(sealed[k].select, 0, NULL, &r, e)) !=
		    RL_OK)
			goto out;
		for (i = 0; i < rl_dbres_rows(r); i++) {
			if (*n == cap) {
				cap = cap ? cap * 2 : 16;
				if ((t = reallocarray(s, cap, sizeof(*s))) ==
				    NULL) {
					err = rl_error_set(e, RL_ENOMEM, NULL);
					goto out;
				}
				s = t;
			}
			t = &s[*n];
			memset(t, 0, sizeof(*t));
			t->col = &sealed[k];
			if ((t->key = strdup(rl_dbres_get(r, i, 0))) == NULL) {
				err = rl_error_set(e, RL_ENOMEM, NULL);
				goto out;
			}
			(*n)++;
			if (rl_secretbox_open_hex(rl_dbres_get(r, i, 1),
			    &t->plain, &t->len, &oe) != RL_OK) {
				err = rl_error_set(e, RL_EINVAL, "%s of %s "
				    "does not open under the current key "
				    "(%s): is it the key this database was "
				    "sealed with? Nothing changed",
				    sealed[k].name, t->key, oe.msg);
				goto out;
			}
		}
		rl_dbres_free(r);
		r = NULL;
	}
out:
	rl_dbres_free(r);
	*out = s;
	return err;
}

static char *
hex(const unsigned char *p, size_t len)
{
	static const char	 digits[] = "0123456789abcdef";
	char			*h;
	size_t			 i;

	if ((h = malloc(2 * len + 1)) == NULL)
		return NULL;
	for (i = 0; i < len; i++) {
		h[2 * i] = digits[p[i] >> 4];
		h[2 * i + 1] = digits[p[i] & 0x0f];
	}
	h[2 * len] = '\0';
	return h;
}

/*
 * Seal each secret under the key loaded now, check that the new box
 * opens to the same bytes, and write it back.
 */
static enum rl_err
seal_all(struct secret *s, size_t n, struct rl_error *e)
{
	unsigned char	*box = NULL;
	char		*h = NULL, *back = NULL;
	const char	*p[2];
	size_t		 i, boxlen, backlen;
	enum rl_err	 err = RL_OK;

	for (i = 0; i < n; i++) {
		if ((err = rl_secretbox_seal(s[i].plain, s[i].len, &box,
		    &boxlen, e)) != RL_OK)
			goto out;
		if ((h = hex(box, boxlen)) == NULL) {
			err = rl_error_set(e, RL_ENOMEM, NULL);
			goto out;
		}
		if ((err = rl_secretbox_open_hex(h, &back, &backlen, e)) !=
		    RL_OK)
			goto out;
		if (backlen != s[i].len || !rl_memeq(back, s[i].plain,
		    backlen)) {
			err = rl_error_set(e, RL_EINTERNAL, "%s of %s: the new "
			    "box does not give the secret back", s[i].col->name,
			    s[i].key);
			goto out;
		}
		p[0] = s[i].key;
		p[1] = h;
		if ((err = rl_db_exec(s[i].col->update, 2, p, NULL, e)) !=
		    RL_OK)
			goto out;
		rl_wipe(back, backlen);
		free(back);
		free(h);
		free(box);
		back = h = NULL;
		box = NULL;
	}
out:
	if (back != NULL) {
		rl_wipe(back, backlen);
		free(back);
	}
	free(h);
	free(box);
	return err;
}

/*
 * The new key file: created with 32 random bytes (0600, never
 * overwritten), or, when it exists, one an operator made or an
 * interrupted run left, checked like any key by rl_crypto_load_key.  A
 * new file gets the old one's owner, so that root can rotate the key of
 * services running as relais.
 */
static enum rl_err
new_key(const char *path, const char *old, struct rl_error *e)
{
	unsigned char	 k[RL_KEY_BYTES];
	struct stat	 st;
	int		 fd;
	enum rl_err	 err = RL_OK;

	if (stat(old, &st) == -1)
		return rl_error_set(e, RL_EIO, "%s: %s", old, strerror(errno));
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600)) == -1) {
		if (errno == EEXIST)
			return RL_OK;
		return rl_error_set(e, RL_EIO, "%s: %s", path,
		    strerror(errno));
	}
	rl_random_bytes(k, sizeof(k));
	if ((geteuid() == 0 && fchown(fd, st.st_uid, st.st_gid) == -1) ||
	    write(fd, k, sizeof(k)) != (ssize_t)sizeof(k) || fsync(fd) == -1)
		err = rl_error_set(e, RL_EIO, "%s: %s", path,
		    strerror(errno));
	rl_wipe(k, sizeof(k));
	if (close(fd) == -1 && err == RL_OK)
		err = rl_error_set(e, RL_EIO, "%s: %s", path,
		    strerror(errno));
	if (err != RL_OK)
		(void)unlink(path);
	return err;
}

int
main(int argc, char *argv[])
{
	struct rl_error	 e;
	struct secret	*s = NULL;
	const char	*oldpath, *newpath = NULL;
	char		 gen[4096];
	size_t		 n = 0, i;
	int		 c, dry = 0, rc = 1, inplace = 0, began = 0;

	while ((c = getopt(argc, argv, "k:n")) != -1)
		switch (c) {
		case 'k':
			newpath = optarg;
			break;
		case 'n':
			dry = 1;
			break;
		default:
			return usage();
		}
	if (optind != argc)
		return usage();
	rl_error_clear(&e);
	if (rl_conf_load(1, &e) != RL_OK || rl_crypto_init(&e) != RL_OK)
		goto out;
	oldpath = rl_conf->secret_key_file;
	if (newpath == NULL) {
		/* Beside the old one, so that rename(2) replaces it. */
		if ((size_t)snprintf(gen, sizeof(gen), "%s.new", oldpath) >=
		    sizeof(gen)) {
			rl_error_set(&e, RL_EINVAL, "key file path too long");
			goto out;
		}
		newpath = gen;
		inplace = 1;
	}
	if (rl_crypto_load_key(oldpath, &e) != RL_OK ||
	    rl_db_check_schema(RL_SCHEMA_VERSION, &e) != RL_OK ||
	    check_columns(&e) != RL_OK || rl_db_begin(&e) != RL_OK)
		goto out;
	began = 1;
	if (open_all(&s, &n, &e) != RL_OK)
		goto out;
	if (dry) {
		printf("%zu stored keys open under %s; nothing changed\n", n,
		    oldpath);
		rc = 0;
		goto out;
	}
	if (new_key(newpath, oldpath, &e) != RL_OK ||
	    rl_crypto_load_key(newpath, &e) != RL_OK ||
	    seal_all(s, n, &e) != RL_OK || rl_db_commit(&e) != RL_OK)
		goto out;
	began = 0;
	printf("re-sealed %zu stored keys under %s\n", n, newpath);
	if (inplace) {
		/*
		 * The database now needs the new key: put it in place at
		 * once.  Should this fail, the new key is newpath and the
		 * message says so.
		 */
		if (rename(newpath, oldpath) == -1) {
			rl_error_set(&e, RL_EIO, "the database is sealed under "
			    "%s, but it could not replace %s (%s): move it "
			    "there by hand", newpath, oldpath,
			    strerror(errno));
			goto out;
		}
		printf("%s replaced; restart every relais program and the "
		    "worker\n", oldpath);
	} else
		printf("point RELAIS_SECRET_KEY_FILE at %s and restart every "
		    "relais program and the worker\n", newpath);
	rc = 0;
out:
	if (began)
		rl_db_rollback();
	if (rc != 0)
		fprintf(stderr, "relais-rekey: %s\n", e.msg[0] != '\0' ?
		    e.msg : "failed");
	for (i = 0; i < n; i++) {
		if (s[i].plain != NULL) {
			rl_wipe(s[i].plain, s[i].len);
			free(s[i].plain);
		}
		free(s[i].key);
	}
	free(s);
	rl_db_disconnect();
	return rc;
}
