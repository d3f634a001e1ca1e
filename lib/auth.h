/*
 * auth.h: credentials.  The runtime resolves them for protected routes
 * (rl_auth_resolve in extern.h); the settings program uses these calls to
 * log users in and out and to issue tokens.
 */
#ifndef RL_AUTH_H
#define RL_AUTH_H

#include "relais.h"
#include "req.h"

struct rl_arena;

/* What rl_auth_check_account_fields checks the fields for. */
enum rl_account_use {
	RL_ACCOUNT_STORE,	/* an account is created or changed */
	RL_ACCOUNT_LOGIN	/* someone logs in: lengths only */
};

/*
 * The fields of an account as a caller received them; NULL means "not
 * given" and is not checked.  At login, username holds what was typed:
 * a user name or an e-mail address.
 */
struct rl_account_fields {
	const char	*username;
	const char	*email;
	const char	*nom;
	const char	*prenom;
	const char	*password;
};

/* The claims of a verified access token. */
struct rl_jwt_claims {
	long long	 uid;	/* users.id */
	long long	 exp;	/* seconds since the epoch */
	const char	*sub;	/* e-mail or username, in the arena */
};

const char	*rl_role_name(enum rl_role);
int		 rl_role_parse(const char *, enum rl_role *);

enum rl_err	 rl_auth_check_account_fields(const struct rl_account_fields *,
		    enum rl_account_use, struct rl_error *);
enum rl_err	 rl_auth_password(struct rl_req *, const char *, const char *,
		    struct rl_user **, struct rl_error *);
enum rl_err	 rl_auth_session_start(struct rl_req *, const struct rl_user *,
		    const char **, struct rl_error *);
enum rl_err	 rl_auth_session_end(struct rl_req *, struct rl_error *);
enum rl_err	 rl_auth_jwt_issue(struct rl_req *, const struct rl_user *,
		    const char **, long long *, struct rl_error *);
enum rl_err	 rl_auth_jwt_make(struct rl_arena *, long long, const char *,
		    enum rl_role, long long, const char **, struct rl_error *);
enum rl_err	 rl_auth_jwt_parse(struct rl_arena *, const char *, long long,
		    struct rl_jwt_claims *, struct rl_error *);
/*
 * rl_auth_jwt_parse through a cache of tokens already verified (by their
 * whole text; exp still checked against now): what Bearer auth calls.
 */
enum rl_err	 rl_auth_jwt_check(struct rl_arena *, const char *, long long,
		    struct rl_jwt_claims *, struct rl_error *);
enum rl_err	 rl_auth_api_token_new(struct rl_req *, long long,
		    const char **, const char **, struct rl_error *);
enum rl_err	 rl_auth_init(struct rl_error *);
/* A Bearer token given outside a header: req->user, or RL_EAUTH. */
enum rl_err	 rl_auth_bearer(struct rl_req *, const char *,
		    struct rl_error *);
/* The runtime's CSRF check of a write, once its body is read. */
enum rl_err	 rl_auth_csrf(struct rl_req *, struct rl_error *);

#endif
