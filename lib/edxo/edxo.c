/*
 * edxo.c: the one way to run a query written with edxo.h's visibility
 * fragments, whose convention is $1 = the user's id and $2 = whether the
 * user is an admin, then the query's own parameters.
 */
#include "config.h"

#include <stdio.h>

#include "db.h"
#include "edxo.h"
#include "req.h"

/*
 * Run sql as user u with arg3 and arg4 (when not NULL) after $1 and $2.
 * *v is the first column of the first row, JSON null when there is none.
 */
enum rl_err
rl_edxo_json(const struct rl_user *u, const char *sql, const char *arg3,
    const char *arg4, json_t **v, struct rl_error *e)
{
	const char	*p[4];
	char		 uid[32];
	int		 n = 2;

	(void)snprintf(uid, sizeof(uid), "%lld", u->id);
	p[0] = uid;
	p[1] = u->role == RL_ROLE_ADMIN ? "t" : "f";
	if (arg3 != NULL)
		p[n++] = arg3;
	if (arg4 != NULL)
		p[n++] = arg4;
	return rl_db_json(sql, n, p, v, e);
}
