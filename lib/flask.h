/*
 * flask.h: what EDxo (a Flask application) signs and hashes, checked the
 * way Flask, Flask-Login, Flask-WTF and werkzeug check it: signed
 * session cookies and CSRF tokens (itsdangerous), remember-me cookies,
 * werkzeug password hashes.  flask.c is the only file that includes
 * nettle (HMAC-SHA1, HMAC-SHA512, PBKDF2) and zlib.
 * docs/internals/flask.md describes each function.
 */
#ifndef RL_FLASK_H
#define RL_FLASK_H

#include <stddef.h>

#include "relais.h"

/* Longest raw CSRF token kept (Flask-WTF's are 40 hex digits). */
#define RL_FLASK_TOKEN_MAX	64

/* EDxo's SECRET_KEY and the keys Flask derives from it. */
struct rl_flask_key;

/* What a verified Flask session cookie says. */
struct rl_flask_session {
	long long	 uid;	/* _user_id; 0 when the session names nobody */
	char		 csrf[RL_FLASK_TOKEN_MAX + 1]; /* csrf_token or "" */
};

enum rl_err	 rl_flask_key_new(const void *, size_t,
		    struct rl_flask_key **, struct rl_error *);
void		 rl_flask_key_free(struct rl_flask_key *);

enum rl_err	 rl_flask_init(struct rl_error *);
const struct rl_flask_key *rl_flask_key(void);
long long	 rl_flask_now(void);

enum rl_err	 rl_flask_session(const struct rl_flask_key *, const char *,
		    long long, long long, struct rl_flask_session *,
		    struct rl_error *);
enum rl_err	 rl_flask_csrf(const struct rl_flask_key *, const char *,
		    long long, long long, char [RL_FLASK_TOKEN_MAX + 1],
		    struct rl_error *);
enum rl_err	 rl_flask_remember(const struct rl_flask_key *, const char *,
		    long long *, struct rl_error *);

int		 rl_werkzeug_verify(const char *, const char *);

#endif
