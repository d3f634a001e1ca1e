/*
 * relais-adduser: create an account from the command line, the password
 * read from standard input.  A fresh installation has no user, and every
 * route that creates one wants an administrator: this is how the first
 * one is made (docs/deploy.md).  relais-adduser(8).
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relais.h"
#include "bounds.h"
#include "auth.h"
#include "conf.h"
#include "crypto.h"
#include "db.h"
#include "start.h"

static void
usage(void)
{

	fprintf(stderr, "usage: relais-adduser [-r role] [-e email] "
	    "username <password\n");
}

/* One line of standard input, without its newline; NULL past the limit. */
static char *
read_password(char *buf, size_t size)
{
	size_t	 len;

	if (fgets(buf, (int)size, stdin) == NULL)
		return NULL;
	len = strcspn(buf, "\n");
	if (buf[len] != '\n' && !feof(stdin))
		return NULL;	/* longer than the buffer: refused */
	buf[len] = '\0';
	if (len > 0 && buf[len - 1] == '\r')
		buf[len - 1] = '\0';
	return buf;
}

static enum rl_err
add(const struct rl_account_fields *f, const char *role, long long *id,
    struct rl_error *e)
{
	struct rl_dbres	*r = NULL;
	const char	*p[4];
	char		 hash[RL_PWHASH_MAX];
	enum rl_err	 err;

	if ((err = rl_auth_check_account_fields(f, RL_ACCOUNT_STORE, e)) !=
	    RL_OK)
		goto out;
	if ((err = rl_password_hash(f->password, hash, e)) != RL_OK)
		goto out;
	p[0] = f->username;
	p[1] = f->email;
	p[2] = hash;
	p[3] = role;
	if ((err = rl_db_exec("INSERT INTO users (username, email, "
	    "password_hash, role) VALUES ($1, $2, $3, $4) ON CONFLICT DO "
	    "NOTHING RETURNING id", 4, p, &r, e)) != RL_OK)
		goto out;
	if (rl_dbres_rows(r) == 0) {
		err = rl_error_set(e, RL_ECONFLICT, "username or e-mail "
		    "address already in use");
		goto out;
	}
	*id = strtoll(rl_dbres_get(r, 0, 0), NULL, 10);
out:
	rl_wipe(hash, sizeof(hash));
	rl_dbres_free(r);
	return err;
}

int
main(int argc, char *argv[])
{
	struct rl_account_fields	 f;
	struct rl_error			 e;
	enum rl_role			 parsed;
	char				 pw[RL_ACCOUNT_PASSWORD_MAX_BYTES + 2];
	const char			*role = "admin";
	long long			 id = 0;
	int				 c, rc = 1;

	memset(&f, 0, sizeof(f));
	while ((c = getopt(argc, argv, "e:r:")) != -1)
		switch (c) {
		case 'e':
			f.email = optarg;
			break;
		case 'r':
			role = optarg;
			break;
		default:
			usage();
			return 2;
		}
	if (argc - optind != 1) {
		usage();
		return 2;
	}
	f.username = argv[optind];
	if (rl_role_parse(role, &parsed) == -1) {
		fprintf(stderr, "relais-adduser: unknown role \"%s\"\n", role);
		return 2;
	}
	if ((f.password = read_password(pw, sizeof(pw))) == NULL) {
		fprintf(stderr, "relais-adduser: no password on standard "
		    "input (one line, at most %d bytes)\n",
		    RL_ACCOUNT_PASSWORD_MAX_BYTES);
		return 2;
	}
	rl_error_clear(&e);
	if (rl_conf_load(1, &e) != RL_OK || rl_start("relais-adduser", 1) ==
	    -1) {
		if (e.msg[0] != '\0')
			fprintf(stderr, "relais-adduser: %s\n", e.msg);
		goto out;
	}
	if (add(&f, role, &id, &e) != RL_OK) {
		fprintf(stderr, "relais-adduser: %s%s%s\n", e.msg,
		    e.where[0] != '\0' ? ": " : "", e.where);
		goto out;
	}
	printf("%lld\n", id);
	rc = 0;
out:
	rl_wipe(pw, sizeof(pw));
	rl_db_disconnect();
	return rc;
}
