/*
 * req.h: a request as handlers see it.  The runtime fills it before the
 * handler runs; handlers read the fields and use the accessors.  Every
 * string is owned by req->arena and lives until the request ends.
 */
#ifndef RL_REQ_H
#define RL_REQ_H

#include <stddef.h>

#include <jansson.h>

#include "relais.h"
#include "kv.h"
#include "route.h"

struct rl_arena;
struct rl_io;
struct rl_sse;

/* Roles, in EDxo's vocabulary. */
enum rl_role {
	RL_ROLE_INVITE = 0,
	RL_ROLE_CP,
	RL_ROLE_PROFESSEUR,
	RL_ROLE_COORDO,
	RL_ROLE_ADMIN,
	RL_ROLE__MAX
};

/* How a request proved who it is. */
enum rl_authvia {
	RL_AUTH_SESSION = 0,	/* session cookie (+ CSRF header on writes) */
	RL_AUTH_API_TOKEN,	/* X-API-Token */
	RL_AUTH_JWT,		/* Authorization: Bearer <HS256 JWT> */
	RL_AUTH_BASIC,		/* Authorization: Basic (RL_ROUTE_KEYS) */
	RL_AUTH_EDXO		/* EDxo's cookies (lib/flask.c), its CSRF */
};

/* The authenticated user, when the route asked for one. */
struct rl_user {
	long long	 id;
	enum rl_role	 role;
	const char	*username;
	const char	*email;
	enum rl_authvia	 via;
	const char	*sub;		/* JWT subject, else the email */
	long long	 exp;		/* JWT expiry (Unix time), else 0 */
	/*
	 * The CSRF token a write must carry (rl_auth_csrf): a relais
	 * session's; for EDxo's cookies the raw token its signed session
	 * holds, NULL when only the csrf_token cookie can say it.
	 */
	const char	*csrf;
};

struct rl_req {
	struct rl_arena		*arena;
	char			 id[33];	/* request id, for logs */
	const char		*method;
	const char		*path;
	const char		*query;		/* raw, without '?' */
	const char		*ctype;		/* Content-Type or "" */
	const struct rl_route	*route;

	struct rl_kv		 params[RL_ROUTE_MAX_PARAMS];
	size_t			 nparams;
	struct rl_kv		*queryv;
	size_t			 nquery;
	struct rl_kv		*formv;		/* urlencoded or multipart */
	size_t			 nform;
	struct rl_kv		*cookiev;
	size_t			 ncookie;
	struct rl_upload	*uploads;
	size_t			 nupload;
	json_t			*json;		/* parsed JSON body, or NULL */
	const struct rl_user	*user;		/* NULL unless authenticated */

	/* Runtime state; handlers use the rl_resp_* and rl_sse_* calls. */
	char			**env;
	struct rl_io		*io;
	int			 status;	/* sent status, 0 before */
	long long		 bytes_out;
	struct rl_resp_hdr	*hdrs;
	struct rl_sse		*sse;
	long long		 start_us;
};

const char	*rl_req_env(const struct rl_req *, const char *);
const char	*rl_req_header(const struct rl_req *, const char *);
const char	*rl_req_param(const struct rl_req *, const char *);
enum rl_err	 rl_req_param_int(const struct rl_req *, const char *,
		    long long *, struct rl_error *);
const char	*rl_req_query(const struct rl_req *, const char *);
const char	*rl_req_form(const struct rl_req *, const char *);
const char	*rl_req_cookie(const struct rl_req *, const char *);
const struct rl_upload *rl_req_upload(const struct rl_req *, const char *);
int		 rl_req_client_gone(const struct rl_req *);

/* Pure parsers, used by the runtime and exposed for tests and fuzzing. */
enum rl_err	 rl_urlencoded_parse(struct rl_arena *, const char *, size_t,
		    char, struct rl_kv **, size_t *, struct rl_error *);
enum rl_err	 rl_cookies_parse(struct rl_arena *, const char *,
		    struct rl_kv **, size_t *, struct rl_error *);
enum rl_err	 rl_json_parse(const char *, size_t, json_t **,
		    struct rl_error *);
int		 rl_json_depth_ok(const char *, size_t, int);
int		 rl_utf8_valid(const char *, size_t);
/* 8-4-4-4-12 hexadecimal digits: what PostgreSQL's uuid reads. */
int		 rl_uuid_valid(const char *);

#endif
