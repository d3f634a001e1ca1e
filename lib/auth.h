/*
 * auth.h: credentials.  The runtime resolves them for protected routes
 * (rl_auth_resolve in extern.h); the settings program uses these calls to
 * log users in and out and to issue tokens.
 */
#ifndef RL_AUTH_H
#define RL_AUTH_H

#include "relais.h"
#include "req.h"

const char	*rl_role_name(enum rl_role);
int		 rl_role_parse(const char *, enum rl_role *);

enum rl_err	 rl_auth_password(struct rl_req *, const char *, const char *,
		    struct rl_user **, struct rl_error *);
enum rl_err	 rl_auth_session_start(struct rl_req *, const struct rl_user *,
		    const char **, struct rl_error *);
enum rl_err	 rl_auth_session_end(struct rl_req *, struct rl_error *);
enum rl_err	 rl_auth_jwt_issue(struct rl_req *, const struct rl_user *,
		    const char **, long long *, struct rl_error *);
enum rl_err	 rl_auth_api_token_new(struct rl_req *, long long,
		    const char **, const char **, struct rl_error *);
enum rl_err	 rl_auth_init(struct rl_error *);

#endif
