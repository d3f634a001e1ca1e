/*
 * relais.h: the umbrella header every program and lib module includes first.
 * It holds the version, the error vocabulary and the caller-owned error
 * record; module headers declare their own functions.
 */
#ifndef RELAIS_H
#define RELAIS_H

#include <stdarg.h>
#include <stddef.h>

#define RL_VERSION	"0.1.0"

/*
 * The schema version (highest sql/NNNN_*.sql) this build needs.  Programs
 * refuse to start on an older database.
 */
#define RL_SCHEMA_VERSION	22

/*
 * Every failure a lib function or a handler can report.  The parallel table
 * in err.c gives each a stable token (the "code" of an error body) and its
 * HTTP status: that table is the only place where errors meet HTTP.
 */
enum rl_err {
	RL_OK = 0,
	RL_ENOMEM,	/* allocation failed */
	RL_EINVAL,	/* malformed request (400 bad_request) */
	RL_EJSON,	/* body is not acceptable JSON (400 invalid_json) */
	RL_EFORM,	/* malformed form or multipart body (400) */
	RL_EAUTH,	/* no or bad credentials (401) */
	RL_EFORBIDDEN,	/* authenticated but not allowed (403) */
	RL_ECSRF,	/* cookie-authenticated write without its CSRF token */
	RL_ENOTFOUND,	/* no such route or object (404) */
	RL_EMETHOD,	/* route exists, method does not (405) */
	RL_ECONFLICT,	/* state conflict (409) */
	RL_ETOOBIG,	/* body, upload or answer over its limit (413) */
	RL_EMEDIA,	/* unsupported Content-Type (415) */
	RL_EVALIDATION,	/* schema validation failed (422) */
	RL_ERATELIMIT,	/* too many attempts (429) */
	RL_ECREDITS,	/* not enough credits (402) */
	RL_ENOKEY,	/* no upstream API key for this user (400) */
	RL_EDBDOWN,	/* database unreachable (503 db_unavailable) */
	RL_EDB,		/* database answered with an error (500) */
	RL_EUPSTREAM,	/* upstream answered badly (502) */
	RL_ETIMEOUT,	/* upstream or client too slow (504) */
	RL_EUNAVAIL,	/* temporarily unavailable (503) */
	RL_EIO,		/* local I/O failure (500) */
	RL_EGONE,	/* the client went away; nothing more to send */
	RL_EINTERNAL,	/* a bug or an impossible state (500) */
	RL_ERR__MAX
};

/* Size of the human-readable part of an error. */
#define RL_ERRMSG_MAX	256
#define RL_ERRWHERE_MAX	128

/*
 * Caller-owned error record (jansson's json_error_t, curl's error buffer):
 * code for machines, msg for humans, where for the offending field or JSON
 * pointer when there is one, sqlstate for a database error (PostgreSQL's
 * five-character code, for callers that tell a unique from a check
 * violation; never sent to a client).
 */
struct rl_error {
	enum rl_err	 code;
	char		 msg[RL_ERRMSG_MAX];
	char		 where[RL_ERRWHERE_MAX];
	char		 sqlstate[6];
};

const char	*rl_strerror(enum rl_err);
const char	*rl_err_token(enum rl_err);
const char	*rl_err_text_fr(enum rl_err);
int		 rl_err_status(enum rl_err);
int		 rl_err_status_edxo(enum rl_err);
int		 rl_err_status_api(enum rl_err);
const char	*rl_err_type_openai(enum rl_err);
int		 rl_err_status_verifier(enum rl_err, const char **);
enum rl_err	 rl_err_from_status(int);
enum rl_err	 rl_error_set(struct rl_error *, enum rl_err, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
enum rl_err	 rl_error_setv(struct rl_error *, enum rl_err, const char *,
		    va_list) __attribute__((format(printf, 3, 0)));
enum rl_err	 rl_error_field(struct rl_error *, enum rl_err, const char *,
		    const char *, ...) __attribute__((format(printf, 4, 5)));
void		 rl_error_where(struct rl_error *, const char *);
void		 rl_error_clear(struct rl_error *);

#endif /* RELAIS_H */
