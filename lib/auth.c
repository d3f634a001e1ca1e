/*
 * auth.c: who makes a request, and how users prove it.
 *
 * Three credentials, tried in this order: "Authorization: Bearer <JWT>"
 * (HS256 under a key derived from the master key), "X-API-Token" (a
 * personal token; only its SHA-256 is stored) and the "session" cookie
 * (only its SHA-256 is stored; writes must echo the session's CSRF token
 * in X-CSRFToken, X-CSRF-Token or a csrf_token form field, as EDxo
 * requires; rl_auth_csrf checks it once the body is read).  With EDxo's
 * key configured, EDxo's own cookies are read too (edxo_verify,
 * lib/flask.c).  A credential that is present but wrong is a 401, never a
 * silent fall-back to anonymous.
 *
 * The runtime calls rl_auth_resolve() for routes flagged AUTH, ADMIN or
 * COORDO and checks the role itself, so role rules live in route tables.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "arena.h"
#include "auth.h"
#include "bounds.h"
#include "cache.h"
#include "crypto.h"
#include "db.h"
#include "extern.h"
#include "flask.h"
#include "log.h"
#include "req.h"
#include "resp.h"

/* Purpose string of the JWT signing key (see rl_crypto_mac). */
#define JWT_CONTEXT	"relais jwt hs256 v1"
/* Random bytes in a session cookie or API token: 256 bits. */
#define TOKEN_BYTES	32

static const char *const roles[RL_ROLE__MAX] = {
	"invite", "cp", "professeur", "coordo", "admin"
};

/* A password hash to verify against when the account does not exist, so
 * that a wrong user name costs as much time as a wrong password. */
static char	 dummy_hash[RL_PWHASH_MAX];

const char *
rl_role_name(enum rl_role r)
{

	return (int)r >= 0 && r < RL_ROLE__MAX ? roles[r] : "invite";
}

int
rl_role_parse(const char *s, enum rl_role *out)
{
	int	 i;

	for (i = 0; i < RL_ROLE__MAX; i++)
		if (strcmp(s, roles[i]) == 0) {
			*out = (enum rl_role)i;
			return 0;
		}
	return -1;
}

enum rl_err
rl_auth_init(struct rl_error *e)
{

	return rl_password_hash("relais: no such account", dummy_hash, e);
}

/* "\x<hex>" text form of a bytea parameter. */
static char *
bytea_hex(struct rl_arena *a, const unsigned char *p, size_t n)
{
	char	*s;
	size_t	 i;

	if ((s = rl_arena_alloc(a, 2 * n + 3)) == NULL)
		return NULL;
	s[0] = '\\';
	s[1] = 'x';
	for (i = 0; i < n; i++)
		(void)snprintf(s + 2 + 2 * i, 3, "%02x", p[i]);
	return s;
}

/* SHA-256 of a token, as a bytea parameter. */
static char *
token_key(struct rl_arena *a, const char *token)
{
	unsigned char	 h[RL_SHA256_BYTES];

	rl_sha256(token, strlen(token), h);
	return bytea_hex(a, h, sizeof(h));
}

/* A new random token, base64url, in the arena. */
static char *
new_token(struct rl_arena *a)
{
	unsigned char	 raw[TOKEN_BYTES];
	char		*s;

	rl_random_bytes(raw, sizeof(raw));
	if ((s = rl_arena_alloc(a, 2 * TOKEN_BYTES)) == NULL)
		return NULL;
	if (rl_base64url_encode(raw, sizeof(raw), s, 2 * TOKEN_BYTES) == 0)
		return NULL;
	return s;
}

/*
 * Fill a user from a result row: id, role, username, email.  The strings
 * are copied to the arena because the result is freed by the caller.
 */
static enum rl_err
user_from_row(struct rl_req *req, struct rl_dbres *r, int col,
    struct rl_user **out, struct rl_error *e)
{
	struct rl_user	*u;
	enum rl_role	 role;

	if ((u = rl_arena_calloc(req->arena, 1, sizeof(*u))) == NULL)
		return rl_error_set(e, RL_ENOMEM, NULL);
	u->id = strtoll(rl_dbres_get(r, 0, col), NULL, 10);
	if (rl_role_parse(rl_dbres_get(r, 0, col + 1), &role) == -1)
		role = RL_ROLE_INVITE;
	u->role = role;
	u->username = rl_arena_strdup(req->arena, rl_dbres_get(r, 0, col + 2));
	u->email = rl_arena_strdup(req->arena, rl_dbres_get(r, 0, col + 3));
	if (u->username == NULL || u->email == NULL)
		return rl_error_set(e, RL_ENOMEM, NULL);
	u->sub = *u->email != '\0' ? u->email : u->username;
	*out = u;
	return RL_OK;
}

/*
 * A credential's account row, through the cache, but from the database on
 * the routes a role opens (admin, coordo): a role taken away is refused
 * there from the very next request whatever the cache listener's delay
 * (cache.md, "The window"), on any instance.  Those are an
 * administrator's routes, rare beside the billed calls the cache is for.
 */
static enum rl_err
account_read(struct rl_req *req, const char *sql, const char *const *p,
    struct rl_dbres **r, struct rl_error *e)
{

	if (req->route != NULL &&
	    (req->route->flags & (RL_ROUTE_ADMIN | RL_ROUTE_COORDO)))
		return rl_db_exec(sql, 1, p, r, e);
	return rl_cache_exec(RL_CACHE_T(RL_CACHE_USERS), sql, 1, p, r, e);
}

static enum rl_err
user_by_id(struct rl_req *req, long long id, struct rl_user **out,
    struct rl_error *e)
{
	struct rl_dbres	*r;
	const char	*p[1];
	char		 ids[32];
	enum rl_err	 err;

	(void)snprintf(ids, sizeof(ids), "%lld", id);
	p[0] = ids;
	/* Cached: a change of role or a deleted account notifies (cache.c). */
	if ((err = account_read(req, "SELECT id, role, username, "
	    "coalesce(email, '') FROM users WHERE id = $1", p, &r, e)) !=
	    RL_OK)
		return err;
	if (rl_dbres_rows(r) != 1)
		err = rl_error_set(e, RL_EAUTH, "no such account");
	else
		err = user_from_row(req, r, 0, out, e);
	rl_dbres_free(r);
	return err;
}

/* JWT */

/* Decode one base64url segment into the arena, NUL-terminated. */
static unsigned char *
segment(struct rl_arena *a, const char *s, size_t len, size_t *outlen)
{
	unsigned char	*out;

	if ((out = rl_arena_alloc(a, len + 1)) == NULL ||
	    rl_base64url_decode(s, len, out, len, outlen) == -1)
		return NULL;
	out[*outlen] = '\0';
	return out;
}

/*
 * Parse and verify an HS256 access token at time now, without the
 * database: the pure half of jwt_verify, which tests/fuzz/fuzz_jwt.c
 * calls directly.  Only {"alg":"HS256"} is accepted (never "none", never
 * a key chosen by the token), the signature is compared in constant time
 * before any JSON is read, exp must be after now and type "access".
 * c->sub lives in a.
 */
enum rl_err
rl_auth_jwt_parse(struct rl_arena *a, const char *tok, long long now,
    struct rl_jwt_claims *c, struct rl_error *e)
{
	const char	*dot1, *dot2;
	unsigned char	*hdr, *pay, *sig, mac[RL_SHA256_BYTES];
	size_t		 hlen, plen, slen;
	json_t		*h = NULL, *p = NULL;
	json_int_t	 exp, uid;
	const char	*alg, *type, *sub;
	enum rl_err	 err;

	if (strlen(tok) > RL_JWT_MAX || (dot1 = strchr(tok, '.')) == NULL ||
	    (dot2 = strchr(dot1 + 1, '.')) == NULL ||
	    strchr(dot2 + 1, '.') != NULL)
		return rl_error_set(e, RL_EAUTH, "malformed token");
	if ((hdr = segment(a, tok, (size_t)(dot1 - tok), &hlen)) == NULL ||
	    (pay = segment(a, dot1 + 1, (size_t)(dot2 - dot1 - 1), &plen)) ==
	    NULL || (sig = segment(a, dot2 + 1, strlen(dot2 + 1), &slen)) ==
	    NULL)
		return rl_error_set(e, RL_EAUTH, "malformed token");
	if (slen != RL_SHA256_BYTES ||
	    rl_crypto_mac(JWT_CONTEXT, tok, (size_t)(dot2 - tok), mac) == -1 ||
	    !rl_memeq(mac, sig, sizeof(mac)))
		return rl_error_set(e, RL_EAUTH, "bad token signature");
	/* The signature is good: the header and payload are ours, but check
	 * them anyway rather than trust a key compromise less. */
	h = json_loadb((const char *)hdr, hlen, JSON_REJECT_DUPLICATES, NULL);
	p = json_loadb((const char *)pay, plen, JSON_REJECT_DUPLICATES, NULL);
	err = rl_error_set(e, RL_EAUTH, "bad token");
	if (h == NULL || p == NULL ||
	    json_unpack(h, "{s:s}", "alg", &alg) == -1 ||
	    strcmp(alg, "HS256") != 0 ||
	    json_unpack(p, "{s:I, s:I, s:s, s:s}", "exp", &exp, "uid", &uid,
	    "type", &type, "sub", &sub) == -1 || strcmp(type, "access") != 0)
		goto out;
	if (exp <= (json_int_t)now) {
		err = rl_error_set(e, RL_EAUTH, "token expired");
		goto out;
	}
	c->uid = (long long)uid;
	c->exp = (long long)exp;
	if ((c->sub = rl_arena_strdup(a, sub)) == NULL) {
		err = rl_error_set(e, RL_ENOMEM, NULL);
		goto out;
	}
	err = RL_OK;
out:
	json_decref(h);
	json_decref(p);
	return err;
}

/*
 * Credentials already verified, two kinds: access tokens (their claims)
 * and Basic headers (below).  An entry is known by the keyed hash of the
 * credential's text (rl_crypto_khash, a per-process key), which also
 * picks its slot: a client can evict another's entry (one verification
 * more), never borrow it.  It keeps the user id, until when it holds (in
 * the kind's own clock) and a few bytes of the kind's; a miss costs one
 * verification, never a refusal.
 */
#define SEEN_VAL	RL_JWT_CACHE_SUB_MAX

struct seen_slot {
	pthread_mutex_t	 mu;
	unsigned char	 key[RL_SHA256_BYTES];
	long long	 uid;			/* 0: free */
	long long	 until;
	unsigned char	 val[SEEN_VAL];
};

struct seen {
	struct seen_slot *slots;
	size_t		  n;
};

static struct seen_slot	 jwt_slots[RL_JWT_CACHE_SLOTS];
static struct seen_slot	 basic_slots[RL_BASIC_CACHE_SLOTS];
static struct seen	 jwt_seen = { jwt_slots, RL_JWT_CACHE_SLOTS };
static struct seen	 basic_seen = { basic_slots, RL_BASIC_CACHE_SLOTS };
static pthread_once_t	 seen_once = PTHREAD_ONCE_INIT;

/* The mutexes of both kinds' slots. */
static void
seen_init(void)
{
	size_t	 i;

	for (i = 0; i < RL_JWT_CACHE_SLOTS; i++)
		pthread_mutex_init(&jwt_slots[i].mu, NULL);
	for (i = 0; i < RL_BASIC_CACHE_SLOTS; i++)
		pthread_mutex_init(&basic_slots[i].mu, NULL);
}

static struct seen_slot *
seen_slot(struct seen *c, const unsigned char *key)
{

	(void)pthread_once(&seen_once, seen_init);
	return &c->slots[((size_t)key[0] << 8 | key[1]) % c->n];
}

/* The user id of key while now < its until, and its bytes; 0: none. */
static long long
seen_get(struct seen *c, const unsigned char *key, long long now,
    long long *until, unsigned char *val)
{
	struct seen_slot	*s = seen_slot(c, key);
	long long		 uid = 0;

	pthread_mutex_lock(&s->mu);
	if (s->uid != 0 && s->until > now &&
	    rl_memeq(s->key, key, RL_SHA256_BYTES)) {
		uid = s->uid;
		*until = s->until;
		memcpy(val, s->val, SEEN_VAL);
	}
	pthread_mutex_unlock(&s->mu);
	return uid;
}

/* Keep key for uid until then with val (SEEN_VAL bytes); uid 0 forgets. */
static void
seen_put(struct seen *c, const unsigned char *key, long long uid,
    long long until, const unsigned char *val)
{
	struct seen_slot	*s = seen_slot(c, key);

	pthread_mutex_lock(&s->mu);
	if (uid == 0) {
		if (rl_memeq(s->key, key, RL_SHA256_BYTES))
			s->uid = 0;
	} else {
		memcpy(s->key, key, RL_SHA256_BYTES);
		s->uid = uid;
		s->until = until;
		memcpy(s->val, val, SEEN_VAL);
	}
	pthread_mutex_unlock(&s->mu);
}

/*
 * Access tokens already verified.  A client sends the same token on every
 * call for its hour, and verifying it again (two HMACs, two base64
 * decodes, two JSON parses) was 6 % of a billed call's CPU in the chat
 * program.  An entry keeps only what the token itself says (uid, exp,
 * sub), which its text and the key fix for good; who the user is now
 * (role, disabled) is read afterwards as before (user_by_id), and exp is
 * checked against the clock at every use.
 */
enum rl_err
rl_auth_jwt_check(struct rl_arena *a, const char *tok, long long now,
    struct rl_jwt_claims *c, struct rl_error *e)
{
	unsigned char	 key[RL_SHA256_BYTES], sub[SEEN_VAL];
	size_t		 len = strnlen(tok, RL_JWT_MAX + 1);
	enum rl_err	 err;

	if (len > RL_JWT_MAX)
		return rl_auth_jwt_parse(a, tok, now, c, e);
	rl_crypto_khash(tok, len, key);
	if ((c->uid = seen_get(&jwt_seen, key, now, &c->exp, sub)) != 0) {
		if ((c->sub = rl_arena_strdup(a, (char *)sub)) == NULL)
			return rl_error_set(e, RL_ENOMEM, NULL);
		return RL_OK;
	}
	if ((err = rl_auth_jwt_parse(a, tok, now, c, e)) != RL_OK ||
	    c->uid == 0 || strlen(c->sub) >= sizeof(sub))
		return err;
	memset(sub, 0, sizeof(sub));
	memcpy(sub, c->sub, strlen(c->sub));
	seen_put(&jwt_seen, key, c->uid, c->exp, sub);
	return RL_OK;
}

/* Verify an access token and load its user (role re-read). */
static enum rl_err
jwt_verify(struct rl_req *req, const char *tok, struct rl_user **out,
    struct rl_error *e)
{
	struct rl_jwt_claims	 c;
	enum rl_err		 err;

	if ((err = rl_auth_jwt_check(req->arena, tok, (long long)time(NULL),
	    &c, e)) != RL_OK ||
	    (err = user_by_id(req, c.uid, out, e)) != RL_OK)
		return err;
	(*out)->via = RL_AUTH_JWT;
	(*out)->exp = c.exp;
	(*out)->sub = c.sub;
	return RL_OK;
}

/*
 * An access token for account uid, subject sub and role, issued at now
 * and valid RL_JWT_TTL_SEC; the string lives in a.  Pure, like
 * rl_auth_jwt_parse, so that the two can be checked against each other.
 */
enum rl_err
rl_auth_jwt_make(struct rl_arena *a, long long uid, const char *sub,
    enum rl_role role, long long now, const char **token, struct rl_error *e)
{
	static const char	 hdr[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
	unsigned char		 mac[RL_SHA256_BYTES];
	char			*pay, *buf;
	size_t			 cap, off, n;
	json_t			*p;

	/* json_pack refuses a subject that is not UTF-8: never ours. */
	p = json_pack("{s:s, s:s, s:I, s:I, s:I, s:s}", "sub", sub,
	    "type", "access", "uid", (json_int_t)uid,
	    "iat", (json_int_t)now, "exp", (json_int_t)(now + RL_JWT_TTL_SEC),
	    "role", rl_role_name(role));
	if (p == NULL)
		return rl_error_set(e, RL_EINTERNAL, "cannot encode the "
		    "token's claims");
	pay = json_dumps(p, JSON_COMPACT);
	json_decref(p);
	if (pay == NULL)
		return rl_error_set(e, RL_ENOMEM, NULL);
	cap = 2 * (sizeof(hdr) + strlen(pay) + RL_SHA256_BYTES) + 8;
	if ((buf = rl_arena_alloc(a, cap)) == NULL) {
		free(pay);
		return rl_error_set(e, RL_ENOMEM, NULL);
	}
	off = rl_base64url_encode(hdr, sizeof(hdr) - 1, buf, cap);
	buf[off++] = '.';
	n = rl_base64url_encode(pay, strlen(pay), buf + off, cap - off);
	free(pay);
	off += n;
	if (rl_crypto_mac(JWT_CONTEXT, buf, off, mac) == -1)
		return rl_error_set(e, RL_EINTERNAL, "no signing key loaded");
	buf[off++] = '.';
	n = rl_base64url_encode(mac, sizeof(mac), buf + off, cap - off);
	buf[off + n] = '\0';
	*token = buf;
	return RL_OK;
}

/* Issue an access token for u; the string lives in the request arena. */
enum rl_err
rl_auth_jwt_issue(struct rl_req *req, const struct rl_user *u,
    const char **token, long long *expires_in, struct rl_error *e)
{
	enum rl_err	 err;

	if ((err = rl_auth_jwt_make(req->arena, u->id, u->sub, u->role,
	    (long long)time(NULL), token, e)) != RL_OK)
		return err;
	*expires_in = RL_JWT_TTL_SEC;
	return RL_OK;
}

/* API token and session */

static enum rl_err
api_token_verify(struct rl_req *req, const char *tok, struct rl_user **out,
    struct rl_error *e)
{
	struct rl_dbres	*r;
	const char	*p[1];
	enum rl_err	 err;

	if ((p[0] = token_key(req->arena, tok)) == NULL)
		return rl_error_set(e, RL_ENOMEM, NULL);
	/*
	 * Cached (a new or revoked token notifies), so the expiry is
	 * compared here against the clock rather than by now() in SQL.
	 */
	if ((err = account_read(req, "SELECT id, role, username, "
	    "coalesce(email, ''), "
	    "floor(extract(epoch FROM api_token_expires_at))::bigint "
	    "FROM users WHERE api_token = $1", p, &r, e)) != RL_OK)
		return err;
	if (rl_dbres_rows(r) != 1 || rl_dbres_isnull(r, 0, 4) ||
	    strtoll(rl_dbres_get(r, 0, 4), NULL, 10) <= (long long)time(NULL))
		err = rl_error_set(e, RL_EAUTH, "unknown or expired API token");
	else if ((err = user_from_row(req, r, 0, out, e)) == RL_OK)
		(*out)->via = RL_AUTH_API_TOKEN;
	rl_dbres_free(r);
	return err;
}

static int
is_write(const char *method)
{

	return strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0 &&
	    strcmp(method, "OPTIONS") != 0;
}

static enum rl_err
session_verify(struct rl_req *req, const char *tok, struct rl_user **out,
    struct rl_error *e)
{
	struct rl_dbres	*r;
	const char	*p[3], *csrf;
	char		 idle[32], touch[32];
	enum rl_err	 err;
	int		 stale;

	(void)snprintf(idle, sizeof(idle), "%d", RL_SESSION_IDLE_SEC);
	(void)snprintf(touch, sizeof(touch), "%d", RL_SESSION_TOUCH_SEC);
	if ((p[0] = token_key(req->arena, tok)) == NULL)
		return rl_error_set(e, RL_ENOMEM, NULL);
	p[1] = idle;
	p[2] = touch;
	if ((err = rl_db_exec("SELECT u.id, u.role, u.username, "
	    "coalesce(u.email, ''), s.csrf_token, "
	    "s.last_seen_at < now() - make_interval(secs => $3) "
	    "FROM sessions s JOIN users u ON u.id = s.user_id "
	    "WHERE s.id = $1 AND s.expires_at > now() "
	    "AND s.last_seen_at > now() - make_interval(secs => $2)",
	    3, p, &r, e)) != RL_OK)
		return err;
	if (rl_dbres_rows(r) != 1) {
		rl_dbres_free(r);
		return rl_error_set(e, RL_EAUTH, "session expired");
	}
	csrf = rl_arena_strdup(req->arena, rl_dbres_get(r, 0, 4));
	stale = strcmp(rl_dbres_get(r, 0, 5), "t") == 0;
	err = user_from_row(req, r, 0, out, e);
	rl_dbres_free(r);
	if (err != RL_OK || csrf == NULL)
		return err != RL_OK ? err : rl_error_set(e, RL_ENOMEM, NULL);
	(*out)->via = RL_AUTH_SESSION;
	/* Checked by rl_auth_csrf once the body is read. */
	(*out)->csrf = csrf;
	if (stale && rl_db_exec("UPDATE sessions SET last_seen_at = now() "
	    "WHERE id = $1", 1, p, NULL, NULL) != RL_OK)
		rl_log_warn("could not refresh a session");
	return RL_OK;
}

/*
 * A browser's cookies with EDxo's key configured, read as Flask-Login
 * reads them: Flask's signed session cookie (a '.' in it; relais' own
 * tokens have none) names the user; when it names nobody, or cannot be
 * read (Flask then starts an empty session), the remember_token cookie
 * does.  A session cookie without a '.' is relais' own, or
 * Flask-Session's opaque id, which names nobody.  The user must exist
 * in relais (an imported EDxo account).
 */
static enum rl_err
edxo_verify(struct rl_req *req, const char *s, struct rl_user **out,
    struct rl_error *e)
{
	const struct rl_flask_key	*k = rl_flask_key();
	struct rl_flask_session		 fs;
	const char			*rem, *csrf = NULL;
	long long			 uid = 0;
	enum rl_err			 err = RL_OK;

	*out = NULL;
	if (s != NULL && strchr(s, '.') != NULL) {
		if ((err = rl_flask_session(k, s, rl_flask_now(),
		    RL_EDXO_SESSION_LIFETIME_SEC, &fs, e)) == RL_OK) {
			uid = fs.uid;
			if (fs.csrf[0] != '\0' && (csrf = rl_arena_strdup(
			    req->arena, fs.csrf)) == NULL)
				return rl_error_set(e, RL_ENOMEM, NULL);
		}
	} else if (s != NULL &&
	    (err = session_verify(req, s, out, e)) != RL_EAUTH)
		return err;
	if (uid == 0 && (rem = rl_req_cookie(req, "remember_token")) != NULL)
		err = rl_flask_remember(k, rem, &uid, e);
	if (err != RL_OK || uid == 0)
		return err;
	if ((err = user_by_id(req, uid, out, e)) != RL_OK)
		return err == RL_EAUTH ? rl_error_set(e, RL_EAUTH, "EDxo "
		    "account %lld is unknown to relais", uid) : err;
	(*out)->via = RL_AUTH_EDXO;
	(*out)->csrf = csrf;
	return RL_OK;
}

static enum rl_err	basic_verify(struct rl_req *, const char *,
			    struct rl_user **, struct rl_error *);

/*
 * A Bearer token met outside the request's headers (the realtime
 * WebSocket's auth message, bin/realtime.c): an access token (a JWT) or
 * an API token, checked as rl_auth_resolve checks them; req needs only
 * its arena.
 */
enum rl_err
rl_auth_bearer(struct rl_req *req, const char *tok, struct rl_error *e)
{
	struct rl_user	*u = NULL;
	enum rl_err	 err;

	req->user = NULL;
	if (strchr(tok, '.') != NULL)
		err = jwt_verify(req, tok, &u, e);
	else
		err = api_token_verify(req, tok, &u, e);
	if (err == RL_OK)
		req->user = u;
	return err;
}

enum rl_err
rl_auth_resolve(struct rl_req *req, struct rl_error *e)
{
	const char	*v;
	struct rl_user	*u = NULL;
	enum rl_err	 err;
	int		 keys;

	req->user = NULL;
	/* Clients of OpenAI's API send Basic, or their key as a Bearer. */
	keys = req->route != NULL && (req->route->flags & RL_ROUTE_KEYS);
	if ((v = rl_req_header(req, "Authorization")) != NULL) {
		if (keys && strncasecmp(v, "Basic ", 6) == 0)
			err = basic_verify(req, v + 6, &u, e);
		else if (strncasecmp(v, "Bearer ", 7) != 0)
			return rl_error_set(e, RL_EAUTH, keys ? "only Basic or "
			    "Bearer credentials are accepted here" :
			    "only Bearer tokens are accepted here");
		else if (keys && strchr(v + 7, '.') == NULL)
			err = api_token_verify(req, v + 7, &u, e);
		else
			err = jwt_verify(req, v + 7, &u, e);
	} else if ((v = rl_req_header(req, "X-API-Token")) != NULL)
		err = api_token_verify(req, v, &u, e);
	else if (rl_flask_key() != NULL)
		err = edxo_verify(req, rl_req_cookie(req, "session"), &u, e);
	else if ((v = rl_req_cookie(req, "session")) != NULL)
		err = session_verify(req, v, &u, e);
	else
		return RL_OK;
	if (err == RL_OK)
		req->user = u;
	return err;
}

/* The CSRF token a write carries: as Flask-WTF looks for it. */
static const char *
csrf_sent(struct rl_req *req)
{
	const char	*v;

	if ((v = rl_req_form(req, "csrf_token")) == NULL &&
	    (v = rl_req_header(req, "X-CSRFToken")) == NULL)
		v = rl_req_header(req, "X-CSRF-Token");
	return v;
}

/*
 * EDxo's double submit: the signed token sent must be valid (3600 s)
 * and carry the raw token of the browser's session: the one its signed
 * session cookie holds, else the one of the signed csrf_token cookie
 * EDxo sets on every answer (Flask-Session keeps EDxo's copy on EDxo's
 * disk).  A token or cookie that fails its signature or its age is
 * refused as a credential (401); one missing or not matching is 403.
 */
static enum rl_err
edxo_csrf(struct rl_req *req, const char *sent, struct rl_error *e)
{
	const struct rl_flask_key	*k = rl_flask_key();
	char				 raw[RL_FLASK_TOKEN_MAX + 1];
	char				 ref[RL_FLASK_TOKEN_MAX + 1];
	const char			*c;
	long long			 now = rl_flask_now();
	enum rl_err			 err;

	if (sent == NULL || *sent == '\0')
		return rl_error_set(e, RL_ECSRF, "The CSRF token is missing.");
	if ((err = rl_flask_csrf(k, sent, now, RL_EDXO_CSRF_MAX_AGE_SEC, raw,
	    e)) != RL_OK)
		return err;
	if (req->user->csrf != NULL)
		(void)snprintf(ref, sizeof(ref), "%s", req->user->csrf);
	else if ((c = rl_req_cookie(req, "csrf_token")) == NULL)
		return rl_error_set(e, RL_ECSRF, "The CSRF session token is "
		    "missing.");
	else if ((err = rl_flask_csrf(k, c, now, RL_EDXO_CSRF_MAX_AGE_SEC,
	    ref, e)) != RL_OK)
		return err;
	if (strlen(raw) != strlen(ref) || !rl_memeq(raw, ref, strlen(ref)))
		return rl_error_set(e, RL_ECSRF, "The CSRF tokens do not "
		    "match.");
	return RL_OK;
}

/*
 * A write made with a browser's cookies must carry its CSRF token, in
 * X-CSRFToken, X-CSRF-Token or a csrf_token form field: the runtime
 * calls this once the body is read, so EDxo's pages may post it in
 * FormData.  Other credentials (tokens in headers) cannot be forged
 * across sites and need none.
 */
enum rl_err
rl_auth_csrf(struct rl_req *req, struct rl_error *e)
{
	const struct rl_user	*u = req->user;
	const char		*sent;

	if (u == NULL || !is_write(req->method) ||
	    (u->via != RL_AUTH_SESSION && u->via != RL_AUTH_EDXO))
		return RL_OK;
	sent = csrf_sent(req);
	if (u->via == RL_AUTH_EDXO)
		return edxo_csrf(req, sent, e);
	if (sent == NULL || u->csrf == NULL ||
	    strlen(sent) != strlen(u->csrf) ||
	    !rl_memeq(sent, u->csrf, strlen(u->csrf)))
		return rl_error_set(e, RL_ECSRF, "this write needs the "
		    "session's CSRF token in X-CSRFToken or csrf_token");
	return RL_OK;
}

/* Account fields */

/*
 * Characters (code points) in the len bytes at s: every byte that does not
 * continue a sequence counts, so the count is defined for any bytes.
 * Returns 0 when s is well-formed UTF-8 (RFC 3629: no overlong forms, no
 * surrogates, nothing past U+10FFFF), -1 otherwise.
 */
static int
utf8_chars(const char *s, size_t len, size_t *chars)
{
	const unsigned char	*u = (const unsigned char *)s;
	size_t			 i, j, k, n = 0;
	unsigned int		 c, min;
	int			 valid = 0;

	for (i = 0; i < len; i++)
		if ((u[i] & 0xc0) != 0x80)
			n++;
	*chars = n;
	for (i = 0; i < len; i += k + 1) {
		c = u[i];
		if (c < 0x80) {
			k = 0;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			k = 1;
			c &= 0x1f;
			min = 0x80;
		} else if (c >= 0xe0 && c <= 0xef) {
			k = 2;
			c &= 0x0f;
			min = 0x800;
		} else if (c >= 0xf0 && c <= 0xf4) {
			k = 3;
			c &= 0x07;
			min = 0x10000;
		} else
			goto out;
		if (len - i <= k)
			goto out;
		for (j = 1; j <= k; j++) {
			if ((u[i + j] & 0xc0) != 0x80)
				goto out;
			c = c << 6 | (u[i + j] & 0x3f);
		}
		if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
			goto out;
	}
	valid = 1;
out:
	return valid ? 0 : -1;
}

/* One field's limits: what rl_auth_check_account_fields applies. */
struct field_rule {
	const char	*name;		/* the error's "field" */
	size_t		 max_chars;
	size_t		 max_bytes;
	size_t		 min_chars;	/* RL_ACCOUNT_STORE only */
	int		 text;		/* a name people read: no controls */
};

/* 400 naming the field, with what it may hold. */
static enum rl_err
field_check(const char *s, const struct field_rule *f,
    enum rl_account_use use, struct rl_error *e)
{
	size_t	 len, chars, i;
	int	 valid;

	if (s == NULL)
		return RL_OK;
	/* Bytes first: strlen is the only pass over a huge value. */
	if ((len = strlen(s)) > f->max_bytes)
		return rl_error_field(e, RL_EINVAL, f->name, "%s: at most %zu "
		    "characters (%zu bytes)", f->name, f->max_chars,
		    f->max_bytes);
	valid = utf8_chars(s, len, &chars) == 0;
	if (chars > f->max_chars)
		return rl_error_field(e, RL_EINVAL, f->name, "%s: at most %zu "
		    "characters (%zu bytes)", f->name, f->max_chars,
		    f->max_bytes);
	/* At login a name that cannot exist simply matches no account. */
	if (use == RL_ACCOUNT_LOGIN)
		return RL_OK;
	if (!valid)
		return rl_error_field(e, RL_EINVAL, f->name,
		    "%s: not valid UTF-8", f->name);
	if (chars < f->min_chars)
		return rl_error_field(e, RL_EINVAL, f->name, "%s: at least %zu "
		    "characters", f->name, f->min_chars);
	if (f->text) {
		for (i = 0; i < len; i++)
			if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
				return rl_error_field(e, RL_EINVAL, f->name,
				    "%s: no control characters (tab, "
				    "newline...)", f->name);
	}
	return RL_OK;
}

#define MAXOF(a, b)	((a) > (b) ? (a) : (b))

static const struct field_rule username_rule = { "username",
	RL_ACCOUNT_USERNAME_MAX_CHARS, RL_ACCOUNT_USERNAME_MAX_BYTES, 0, 1 };
static const struct field_rule email_rule = { "email",
	RL_ACCOUNT_EMAIL_MAX_CHARS, RL_ACCOUNT_EMAIL_MAX_BYTES, 0, 1 };
static const struct field_rule nom_rule = { "nom",
	RL_ACCOUNT_NAME_MAX_CHARS, RL_ACCOUNT_NAME_MAX_BYTES, 0, 1 };
static const struct field_rule prenom_rule = { "prenom",
	RL_ACCOUNT_NAME_MAX_CHARS, RL_ACCOUNT_NAME_MAX_BYTES, 0, 1 };
static const struct field_rule password_rule = { "password",
	RL_ACCOUNT_PASSWORD_MAX_CHARS, RL_ACCOUNT_PASSWORD_MAX_BYTES,
	RL_ACCOUNT_PASSWORD_MIN_CHARS, 0 };
/* What is typed at login is a username or an address. */
static const struct field_rule login_rule = { "username",
	MAXOF(RL_ACCOUNT_USERNAME_MAX_CHARS, RL_ACCOUNT_EMAIL_MAX_CHARS),
	MAXOF(RL_ACCOUNT_USERNAME_MAX_BYTES, RL_ACCOUNT_EMAIL_MAX_BYTES),
	0, 0 };

/*
 * The one check of what an account may hold (the RL_ACCOUNT_* limits of
 * bounds.h), for every path that stores an account or logs into one: the
 * settings routes, login, and any importer of accounts.  Call it before
 * anything costly (argon2id, the database).  RL_ACCOUNT_STORE checks
 * each given field: length in characters and bytes, well-formed UTF-8, no
 * control characters in names and addresses, a username that is not
 * blank, a password of at least RL_ACCOUNT_PASSWORD_MIN_CHARS.
 * RL_ACCOUNT_LOGIN checks lengths only, and holds the account typed to
 * the larger of the username and e-mail limits: an account that could
 * not be stored cannot be logged into, and a refused login must not
 * depend on rules an old account predates.  The first failure is a 400
 * (bad_request) whose "field" names the field; NULL fields are skipped.
 */
enum rl_err
rl_auth_check_account_fields(const struct rl_account_fields *f,
    enum rl_account_use use, struct rl_error *e)
{
	enum rl_err	 err;

	if (use == RL_ACCOUNT_LOGIN)
		err = field_check(f->username, &login_rule, use, e);
	else if ((err = field_check(f->username, &username_rule, use, e)) ==
	    RL_OK && f->username != NULL &&
	    strspn(f->username, " \t") == strlen(f->username))
		err = rl_error_field(e, RL_EINVAL, "username",
		    "username may not be blank");
	if (err != RL_OK ||
	    (err = field_check(f->email, &email_rule, use, e)) != RL_OK ||
	    (err = field_check(f->nom, &nom_rule, use, e)) != RL_OK ||
	    (err = field_check(f->prenom, &prenom_rule, use, e)) != RL_OK ||
	    (err = field_check(f->password, &password_rule, use, e)) != RL_OK)
		return err;
	return RL_OK;
}

/* Logging in */

static const char *
client_address(struct rl_req *req)
{
	const char	*a = rl_req_env(req, "REMOTE_ADDR");

	return a != NULL ? a : "";
}

/*
 * The limiter's statements.  An account is its id when the name typed
 * resolves to one (by username or by e-mail alike), else the name typed;
 * the address is REMOTE_ADDR.  Each takes a transaction-scoped advisory
 * lock, the account's first and the address's second (one order, so no
 * deadlock), and then one statement counts the window's failures and
 * inserts the attempt only when both counts are under their limits.
 * Concurrent attempts on one account or from one address therefore queue
 * on the locks and each sees the slots the earlier ones took.
 */
#define LOCK_USER	"SELECT pg_advisory_xact_lock(hashtext(" \
			    "'relais.login.user:' || $1::text))"
#define LOCK_NAME	"SELECT pg_advisory_xact_lock(hashtext(" \
			    "'relais.login.name:' || $1::text))"
#define LOCK_ADDRESS	"SELECT pg_advisory_xact_lock(hashtext(" \
			    "'relais.login.address:' || $1::text))"
/* $1 name typed, $2 id or NULL, $3 address, $4 window, $5 and $6 limits. */
#define RESERVE(acct)							\
	"WITH n AS (SELECT count(*) FILTER (WHERE " acct ") AS a, "	\
	"count(*) FILTER (WHERE address = $3) AS d FROM login_attempts "\
	"WHERE NOT success AND at > now() - make_interval(secs => $4) "	\
	"AND (" acct " OR address = $3)) "				\
	"INSERT INTO login_attempts (account, user_id, address) "	\
	"SELECT $1, $2::bigint, $3 FROM n WHERE n.a < $5 AND n.d < $6 "	\
	"RETURNING id"
#define RESERVE_USER	RESERVE("user_id = $2::bigint")
#define RESERVE_NAME	RESERVE("user_id IS NULL AND account = $1")

/*
 * Take the slot of one attempt, a failed attempt until the password
 * proves otherwise, or RL_ERATELIMIT.  uid is the account's id, NULL for
 * a name no account has.  *slot is the attempt's id, in the arena.
 */
static enum rl_err
reserve(struct rl_req *req, const char *acct, const char *uid,
    const char **slot, struct rl_error *e)
{
	struct rl_dbres	*r = NULL;
	const char	*p[6];
	char		 win[16], maxa[16], maxd[16];
	enum rl_err	 err;

	(void)snprintf(win, sizeof(win), "%d", RL_LOGIN_WINDOW_SEC);
	(void)snprintf(maxa, sizeof(maxa), "%d", RL_LOGIN_MAX_ACCOUNT);
	(void)snprintf(maxd, sizeof(maxd), "%d", RL_LOGIN_MAX_ADDRESS);
	if ((err = rl_db_begin(e)) != RL_OK)
		return err;
	p[0] = uid != NULL ? uid : acct;
	if ((err = rl_db_exec(uid != NULL ? LOCK_USER : LOCK_NAME, 1, p, NULL,
	    e)) != RL_OK)
		goto out;
	p[0] = client_address(req);
	if ((err = rl_db_exec(LOCK_ADDRESS, 1, p, NULL, e)) != RL_OK)
		goto out;
	p[0] = acct;
	p[1] = uid;
	p[2] = client_address(req);
	p[3] = win;
	p[4] = maxa;
	p[5] = maxd;
	if ((err = rl_db_exec(uid != NULL ? RESERVE_USER : RESERVE_NAME, 6, p,
	    &r, e)) != RL_OK)
		goto out;
	if (rl_dbres_rows(r) != 1)
		err = rl_error_set(e, RL_ERATELIMIT, "too many failed logins;"
		    " try again in %d minutes", RL_LOGIN_WINDOW_SEC / 60);
	else if ((*slot = rl_arena_strdup(req->arena,
	    rl_dbres_get(r, 0, 0))) == NULL)
		err = rl_error_set(e, RL_ENOMEM, NULL);
	else
		err = rl_db_commit(e);
out:
	if (err != RL_OK)
		rl_db_rollback();
	rl_dbres_free(r);
	return err;
}

/*
 * A stored hash against pw: 1 for relais' argon2id, 2 for an EDxo
 * (werkzeug) hash that matches and is to be replaced, 0 otherwise.  A
 * werkzeug hash relais will not read (rl_werkzeug_verify: the formats
 * werkzeug 3 refuses, costs above bounds.h) fails like a wrong password,
 * at an argon2id's cost, and the log says the account needs a new one.
 */
static int
check_password(const char *hash, const char *pw, const char *uid)
{
	int	 rc;

	if (strncmp(hash, "$argon2", 7) == 0)
		return rl_password_verify(hash, pw) == 0;
	if ((rc = rl_werkzeug_verify(hash, pw)) == 1)
		return 2;
	if (rc == -1) {
		rl_log_warn("account %s: its EDxo password hash is in a form "
		    "relais does not read; an administrator must set a new "
		    "password", uid);
		(void)rl_password_verify(dummy_hash, pw);
	}
	return 0;
}

/*
 * Replace a matched EDxo hash by argon2id, once: only while the row
 * still holds the hash that was checked.  A failure is logged and the
 * login stands; the next login tries again.
 */
static void
rehash(const char *uid, const char *old, const char *pw)
{
	struct rl_error	 e;
	char		 h[RL_PWHASH_MAX];
	const char	*p[3];

	rl_error_clear(&e);
	p[0] = h;
	p[1] = uid;
	p[2] = old;
	if (rl_password_hash(pw, h, &e) != RL_OK ||
	    rl_db_exec("UPDATE users SET password_hash = $1 WHERE id = $2 "
	    "AND password_hash = $3", 3, p, NULL, &e) != RL_OK)
		rl_log_warn("account %s: its EDxo password hash was not "
		    "replaced: %s", uid, e.msg);
	rl_wipe(h, sizeof(h));
}

/*
 * Check a password for an account (user name or e-mail, case-insensitive
 * e-mail), with rate limiting per account and per address.  The fields'
 * lengths are checked first, so an oversized password never reaches
 * argon2id; then an attempt slot is taken (reserve) before the password
 * is verified, so at most RL_LOGIN_MAX_ACCOUNT guesses per account are
 * ever checked in a window however many arrive at once.  The answer
 * never says which of the name or the password was wrong.
 */
enum rl_err
rl_auth_password(struct rl_req *req, const char *account,
    const char *password, struct rl_user **out, struct rl_error *e)
{
	struct rl_account_fields	 f;
	struct rl_dbres			*r = NULL;
	const char			*p[1], *uid = NULL, *slot = NULL;
	char				*acct;
	size_t				 i;
	enum rl_err			 err;
	int				 ok;

	*out = NULL;
	memset(&f, 0, sizeof(f));
	f.username = account;
	f.password = password;
	if ((err = rl_auth_check_account_fields(&f, RL_ACCOUNT_LOGIN, e)) !=
	    RL_OK)
		return err;
	if ((acct = rl_arena_strdup(req->arena, account)) == NULL)
		return rl_error_set(e, RL_ENOMEM, NULL);
	for (i = 0; acct[i] != '\0'; i++)
		if (acct[i] >= 'A' && acct[i] <= 'Z')
			acct[i] = (char)(acct[i] - 'A' + 'a');
	p[0] = acct;
	if ((err = rl_db_exec("SELECT id, role, username, coalesce(email, ''), "
	    "password_hash FROM users WHERE lower(username) = $1 "
	    "OR lower(email) = $1 ORDER BY lower(username) = $1 DESC LIMIT 1",
	    1, p, &r, e)) != RL_OK)
		return err;
	if (rl_dbres_rows(r) == 1 && (uid = rl_arena_strdup(req->arena,
	    rl_dbres_get(r, 0, 0))) == NULL) {
		err = rl_error_set(e, RL_ENOMEM, NULL);
		goto out;
	}
	if ((err = reserve(req, acct, uid, &slot, e)) != RL_OK)
		goto out;
	/* An unknown name costs one argon2id run too. */
	if (uid != NULL)
		ok = check_password(rl_dbres_get(r, 0, 4), password, uid);
	else {
		(void)rl_password_verify(dummy_hash, password);
		ok = 0;
	}
	if (!ok) {
		err = rl_error_set(e, RL_EAUTH, "wrong user name or password");
		goto out;
	}
	p[0] = slot;
	if ((err = rl_db_exec("UPDATE login_attempts SET success = true "
	    "WHERE id = $1", 1, p, NULL, e)) != RL_OK ||
	    (err = user_from_row(req, r, 0, out, e)) != RL_OK)
		*out = NULL;
	else if (ok == 2)
		rehash(uid, rl_dbres_get(r, 0, 4), password);
out:
	rl_dbres_free(r);
	return err;
}

/*
 * HTTP Basic (RL_ROUTE_KEYS routes): the e-mail (or user name) and the
 * password of every request, checked by rl_auth_password, so a failure
 * counts toward the login limits like any other.  argon2id is slow on
 * purpose, so a verified header is remembered for RL_BASIC_CACHE_SEC as
 * a verified credential (above), with a keyed hash of the account's
 * password hash as it was read before the check: a password changed
 * since no longer matches that stamp, and the next request is checked in
 * full.  RL_BASIC_CACHE_SLOTS entries.
 */
/* The user id a header was verified for, and its stamp; 0: none. */
static long long
basic_cached(const unsigned char *key, unsigned char *stamp)
{
	unsigned char	 val[SEEN_VAL];
	long long	 until, uid;

	if ((uid = seen_get(&basic_seen, key, rl_now_us(), &until, val)) != 0)
		memcpy(stamp, val, RL_SHA256_BYTES);
	return uid;
}

/* Remember a header for RL_BASIC_CACHE_SEC (uid != 0), or forget it. */
static void
basic_remember(const unsigned char *key, const unsigned char *stamp,
    long long uid)
{
	unsigned char	 val[SEEN_VAL];

	memset(val, 0, sizeof(val));
	if (stamp != NULL)
		memcpy(val, stamp, RL_SHA256_BYTES);
	seen_put(&basic_seen, key, uid, rl_now_us() +
	    (long long)RL_BASIC_CACHE_SEC * 1000000, val);
}

static void
pw_stamp(const char *hash, unsigned char *stamp)
{

	rl_crypto_khash(hash, strlen(hash), stamp);
}

/* The account's id and stamp as a login by this name finds it; 0: none. */
static enum rl_err
basic_account(struct rl_req *req, const char *name, long long *uid,
    unsigned char *stamp, struct rl_error *e)
{
	struct rl_dbres	*r = NULL;
	const char	*p[1];
	enum rl_err	 err;

	*uid = 0;
	p[0] = name;
	if ((err = rl_db_exec("SELECT id, password_hash FROM users WHERE "
	    "lower(username) = lower($1) OR lower(email) = lower($1) "
	    "ORDER BY lower(username) = lower($1) DESC LIMIT 1", 1, p, &r,
	    e)) != RL_OK)
		return err;
	if (rl_dbres_rows(r) == 1) {
		*uid = strtoll(rl_dbres_get(r, 0, 0), NULL, 10);
		pw_stamp(rl_dbres_get(r, 0, 1), stamp);
	}
	rl_dbres_free(r);
	return RL_OK;
}

static enum rl_err
basic_verify(struct rl_req *req, const char *b64, struct rl_user **out,
    struct rl_error *e)
{
	unsigned char	 key[RL_SHA256_BYTES], stamp[RL_SHA256_BYTES];
	unsigned char	 now[RL_SHA256_BYTES], raw[RL_BASIC_MAX + 1];
	struct rl_dbres	*r = NULL;
	const char	*p[1];
	char		 ids[32], *colon;
	size_t		 len, n = 0;
	long long	 uid, first;
	enum rl_err	 err;

	while (*b64 == ' ')
		b64++;
	len = strlen(b64);
	if (len > RL_BASIC_MAX || rl_base64_decode(b64, len, raw,
	    sizeof(raw) - 1, &n) == -1 || memchr(raw, '\0', n) != NULL) {
		err = rl_error_set(e, RL_EAUTH, "malformed Basic credentials");
		goto out;
	}
	raw[n] = '\0';
	if ((colon = strchr((char *)raw, ':')) == NULL) {
		err = rl_error_set(e, RL_EAUTH, "Basic credentials are "
		    "e-mail:password");
		goto out;
	}
	rl_crypto_khash(b64, len, key);
	if ((uid = basic_cached(key, stamp)) != 0) {
		(void)snprintf(ids, sizeof(ids), "%lld", uid);
		p[0] = ids;
		if ((err = rl_db_exec("SELECT id, role, username, "
		    "coalesce(email, ''), password_hash FROM users "
		    "WHERE id = $1", 1, p, &r, e)) != RL_OK)
			goto out;
		if (rl_dbres_rows(r) == 1) {
			pw_stamp(rl_dbres_get(r, 0, 4), now);
			if (rl_memeq(now, stamp, sizeof(now))) {
				if ((err = user_from_row(req, r, 0, out, e)) ==
				    RL_OK)
					(*out)->via = RL_AUTH_BASIC;
				goto out;
			}
		}
		/* The password changed, or the account went. */
		basic_remember(key, NULL, 0);
		rl_dbres_free(r);
		r = NULL;
	}
	*colon = '\0';
	if ((err = basic_account(req, (char *)raw, &first, stamp, e)) !=
	    RL_OK)
		goto out;
	err = rl_auth_password(req, (char *)raw, colon + 1, out, e);
	if (err == RL_EINVAL)	/* a field too long: no such account */
		err = rl_error_set(e, RL_EAUTH, "wrong user name or password");
	if (err != RL_OK)
		goto out;
	(*out)->via = RL_AUTH_BASIC;
	if (first == (*out)->id)
		basic_remember(key, stamp, first);
out:
	rl_dbres_free(r);
	rl_wipe(raw, sizeof(raw));
	return err;
}

/* Behind https the cookies get Secure; nginx passes HTTPS=on then. */
static int
secure(struct rl_req *req)
{
	const char	*v;

	return ((v = rl_req_env(req, "HTTPS")) != NULL &&
	    strcasecmp(v, "on") == 0) ||
	    ((v = rl_req_header(req, "X-Forwarded-Proto")) != NULL &&
	    strcasecmp(v, "https") == 0);
}

static enum rl_err
set_cookie(struct rl_req *req, const char *name, const char *val,
    long long maxage, int httponly)
{
	char	*c;

	c = rl_arena_printf(req->arena, "%s=%s; Path=/; Max-Age=%lld; "
	    "SameSite=Lax%s%s", name, val, maxage, httponly ? "; HttpOnly" : "",
	    secure(req) ? "; Secure" : "");
	return c == NULL ? RL_ENOMEM : rl_resp_header(req, "Set-Cookie", c);
}

/*
 * Open a session for u: a row keyed by the SHA-256 of a new token, the
 * token in an HttpOnly cookie, the CSRF token in a cookie scripts can read
 * (they echo it in X-CSRFToken) and in *csrf.
 */
enum rl_err
rl_auth_session_start(struct rl_req *req, const struct rl_user *u,
    const char **csrf, struct rl_error *e)
{
	const char	*p[6];
	char		 ids[32], maxs[32], *tok, *ctok;
	const char	*ua;
	enum rl_err	 err;

	if ((tok = new_token(req->arena)) == NULL ||
	    (ctok = new_token(req->arena)) == NULL ||
	    (p[0] = token_key(req->arena, tok)) == NULL)
		return rl_error_set(e, RL_ENOMEM, NULL);
	(void)snprintf(ids, sizeof(ids), "%lld", u->id);
	(void)snprintf(maxs, sizeof(maxs), "%d", RL_SESSION_MAX_SEC);
	if ((ua = rl_req_header(req, "User-Agent")) == NULL)
		ua = "";
	p[1] = ids;
	p[2] = ctok;
	p[3] = maxs;
	p[4] = client_address(req);
	p[5] = ua;
	if ((err = rl_db_exec("INSERT INTO sessions (id, user_id, csrf_token, "
	    "expires_at, ip, user_agent) VALUES ($1, $2, $3, "
	    "now() + make_interval(secs => $4), $5, left($6, 512))", 6, p,
	    NULL, e)) != RL_OK)
		return err;
	(void)rl_db_exec("UPDATE users SET last_login = now() WHERE id = $1",
	    1, p + 1, NULL, NULL);
	if (set_cookie(req, "session", tok, RL_SESSION_MAX_SEC, 1) != RL_OK ||
	    set_cookie(req, "csrf_token", ctok, RL_SESSION_MAX_SEC, 0) !=
	    RL_OK)
		return rl_error_set(e, RL_ENOMEM, NULL);
	*csrf = ctok;
	return RL_OK;
}

enum rl_err
rl_auth_session_end(struct rl_req *req, struct rl_error *e)
{
	const char	*tok, *p[1];
	enum rl_err	 err;

	if ((tok = rl_req_cookie(req, "session")) != NULL) {
		if ((p[0] = token_key(req->arena, tok)) == NULL)
			return rl_error_set(e, RL_ENOMEM, NULL);
		if ((err = rl_db_exec("DELETE FROM sessions WHERE id = $1", 1,
		    p, NULL, e)) != RL_OK)
			return err;
	}
	if (set_cookie(req, "session", "", 0, 1) != RL_OK ||
	    set_cookie(req, "csrf_token", "", 0, 0) != RL_OK)
		return rl_error_set(e, RL_ENOMEM, NULL);
	return RL_OK;
}

/*
 * A new personal API token for the request's user, valid ttl seconds; the
 * previous one stops working.  The token is shown once: only its hash is
 * stored.
 */
enum rl_err
rl_auth_api_token_new(struct rl_req *req, long long ttl, const char **token,
    const char **expires_at, struct rl_error *e)
{
	struct rl_dbres	*r;
	const char	*p[3];
	char		 ids[32], ttls[32], *tok;
	enum rl_err	 err;

	if ((tok = new_token(req->arena)) == NULL ||
	    (p[0] = token_key(req->arena, tok)) == NULL)
		return rl_error_set(e, RL_ENOMEM, NULL);
	(void)snprintf(ids, sizeof(ids), "%lld", req->user->id);
	(void)snprintf(ttls, sizeof(ttls), "%lld", ttl);
	p[1] = ids;
	p[2] = ttls;
	if ((err = rl_db_exec("UPDATE users SET api_token = $1, "
	    "api_token_expires_at = now() + make_interval(secs => $3) "
	    "WHERE id = $2 RETURNING to_char(api_token_expires_at AT TIME ZONE "
	    "'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')", 3, p, &r, e)) != RL_OK)
		return err;
	if (rl_dbres_rows(r) != 1)
		err = rl_error_set(e, RL_EAUTH, "no such account");
	else if ((*expires_at = rl_arena_strdup(req->arena,
	    rl_dbres_get(r, 0, 0))) == NULL)
		err = rl_error_set(e, RL_ENOMEM, NULL);
	rl_dbres_free(r);
	*token = tok;
	return err;
}
