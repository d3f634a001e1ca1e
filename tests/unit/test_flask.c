/*
 * test_flask.c: lib/flask.c against every vector of
 * ../shared/edxo/session-vectors.json (EDxo's cookies, CSRF tokens,
 * remember cookies and password hashes, each judged by Flask itself),
 * at the vectors' own clock, plus the refusals the vectors do not cover.
 */
#include "config.h"

#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "relais.h"
#include "bounds.h"
#include "crypto.h"
#include "flask.h"
#include "harness.h"
#include "util.h"

static const char *
str(const json_t *o, const char *k)
{
	const char	*s = json_string_value(json_object_get(o, k));

	return s != NULL ? s : "";
}

static long long
id_of(const json_t *o, const char *k)
{

	return strtoll(str(o, k), NULL, 10);
}

/* Flask's session cookies: who each names, or that it names nobody. */
static void
sessions(const struct rl_flask_key *k, const json_t *all, long long now,
    long long lifetime)
{
	struct rl_flask_session	 fs;
	struct rl_error		 e;
	const json_t		*v;
	size_t			 i;
	enum rl_err		 rc;
	int			 got, want, loose;

	json_array_foreach(json_object_get(all, "session_cookie_vectors"), i,
	    v) {
		rl_error_clear(&e);
		rc = rl_flask_session(k, str(v, "value"), now, lifetime, &fs,
		    &e);
		got = rc == RL_OK && fs.uid > 0;
		want = json_is_true(json_object_get(v, "valid"));
		/* Python's base64 ignores the unused bits; ours does not. */
		loose = json_is_true(json_object_get(v,
		    "strict_decoder_may_reject"));
		ok(got == want || (loose && !got), "session %s: %s (%s)",
		    str(v, "name"), got ? "accepted" : "refused",
		    rc == RL_OK ? "no user" : e.msg);
		if (got && want)
			ok(fs.uid == id_of(v, "expect_user_id"),
			    "session %s names user %lld", str(v, "name"),
			    fs.uid);
		if (!want && rc != RL_OK)
			ok(rc == RL_EAUTH, "session %s refused as 401",
			    str(v, "name"));
	}
}

/*
 * A CSRF vector as a write checks it: the token's signature and age, and
 * the raw token its session holds.  What went wrong must be what Flask-WTF
 * said: expired and invalid tokens fail the signature check (401 in
 * relais), a missing or mismatched one the comparison (403).
 */
static void
csrf(const struct rl_flask_key *k, const json_t *all, long long now)
{
	struct rl_flask_session	 fs;
	struct rl_error		 e;
	const json_t		*v;
	const char		*tok, *why;
	char			 raw[RL_FLASK_TOKEN_MAX + 1];
	size_t			 i;
	enum rl_err		 rc;
	int			 got, want;

	json_array_foreach(json_object_get(all, "csrf_vectors"), i, v) {
		rl_error_clear(&e);
		tok = str(v, "token");
		why = str(v, "flask_wtf_error");
		want = json_is_true(json_object_get(v, "valid"));
		ok(rl_flask_session(k, str(v, "session_cookie"), now,
		    RL_EDXO_SESSION_LIFETIME_SEC, &fs, &e) == RL_OK &&
		    fs.uid == id_of(v, "user_id") && fs.csrf[0] != '\0',
		    "csrf %s: its session names user %s", str(v, "name"),
		    str(v, "user_id"));
		if (*tok == '\0') {
			ok(!want && strstr(why, "missing") != NULL,
			    "csrf %s: no token is Flask-WTF's \"missing\"",
			    str(v, "name"));
			continue;
		}
		rc = rl_flask_csrf(k, tok, now, RL_EDXO_CSRF_MAX_AGE_SEC, raw,
		    &e);
		got = rc == RL_OK && strcmp(raw, fs.csrf) == 0;
		ok(got == want, "csrf %s: %s (%s)", str(v, "name"),
		    got ? "accepted" : "refused", rc == RL_OK ?
		    (got ? "match" : "no match") : e.msg);
		if (want)
			ok(strcmp(raw, str(v, "token_raw")) == 0,
			    "csrf %s: raw token %s", str(v, "name"), raw);
		else if (strstr(why, "do not match") != NULL)
			ok(rc == RL_OK, "csrf %s: signature fine, tokens "
			    "differ (403)", str(v, "name"));
		else
			ok(rc == RL_EAUTH, "csrf %s: \"%s\" is a bad token "
			    "(401)", str(v, "name"), why);
	}
}

static void
remember(const struct rl_flask_key *k, const json_t *all)
{
	struct rl_error	 e;
	const json_t	*v;
	long long	 uid;
	size_t		 i;
	enum rl_err	 rc;
	int		 want;

	json_array_foreach(json_object_get(all, "remember_cookie_vectors"), i,
	    v) {
		rl_error_clear(&e);
		rc = rl_flask_remember(k, str(v, "value"), &uid, &e);
		want = json_is_true(json_object_get(v, "valid"));
		ok((rc == RL_OK) == want && (!want ||
		    uid == id_of(v, "expect_user_id")),
		    "remember %s: %s (%s)", str(v, "name"),
		    rc == RL_OK ? "accepted" : "refused",
		    rc == RL_OK ? "ok" : e.msg);
	}
}

/*
 * werkzeug 3.1.8's answer (EDxo's) is the reference: true must match,
 * false must not; the legacy salted HMAC it cannot read is refused as
 * unreadable (-1), whatever the password.
 */
static void
passwords(const json_t *all)
{
	const json_t	*v, *c, *w3;
	size_t		 i, j;
	int		 rc, legacy;

	json_array_foreach(json_object_get(all, "password_hash_vectors"), i,
	    v) {
		legacy = strncmp(str(v, "hash"), "sha256$", 7) == 0;
		json_array_foreach(json_object_get(v, "checks"), j, c) {
			w3 = json_object_get(c, "werkzeug_3_1_8");
			rc = rl_werkzeug_verify(str(v, "hash"),
			    str(c, "password"));
			if (legacy)
				ok(rc == -1, "hash %s / \"%s\": unreadable",
				    str(v, "label"), str(c, "password"));
			else
				ok(rc == (json_is_true(w3) ? 1 : 0),
				    "hash %s / \"%s\": %d", str(v, "label"),
				    str(c, "password"), rc);
		}
	}
}

/* What the vectors leave out: costs, shapes, the key file. */
static void
refusals(const struct rl_flask_key *k, long long now)
{
	struct rl_flask_session	 fs;
	struct rl_flask_key	*k2;
	struct rl_error		 e;
	char			 raw[RL_FLASK_TOKEN_MAX + 1], *big;
	long long		 uid;

	ok(rl_werkzeug_verify("scrypt:1048576:8:1$salt$00", "x") == -1,
	    "scrypt above RL_SCRYPT_MEM_MAX is unreadable");
	ok(rl_werkzeug_verify("scrypt:32768:8:1000$salt$00", "x") == -1,
	    "scrypt p above RL_SCRYPT_P_MAX is unreadable");
	ok(rl_werkzeug_verify("scrypt:30000:8:1$salt$00", "x") == -1,
	    "scrypt N not a power of two is unreadable");
	ok(rl_werkzeug_verify("pbkdf2:sha256:9000000$salt$00", "x") == -1,
	    "PBKDF2 above RL_PBKDF2_ITER_MAX is unreadable");
	ok(rl_werkzeug_verify("pbkdf2:md5:1000$salt$00", "x") == -1,
	    "PBKDF2 over an unknown digest is unreadable");
	ok(rl_werkzeug_verify("plain$$secret", "secret") == -1,
	    "plain$$ is unreadable");
	ok(rl_werkzeug_verify("$2b$12$abcdefghijklmnopqrstuv", "x") == 0,
	    "bcrypt is no match");
	ok(rl_werkzeug_verify(NULL, "x") == 0, "NULL hash is no match");
	ok(rl_flask_session(k, "", now, 10, &fs, &e) == RL_EAUTH,
	    "empty session cookie refused");
	ok(rl_flask_session(k, "a.b.c.d", now, 10, &fs, &e) == RL_EAUTH,
	    "junk session cookie refused");
	if ((big = malloc(RL_EDXO_COOKIE_MAX + 2)) != NULL) {
		memset(big, 'a', RL_EDXO_COOKIE_MAX + 1);
		big[RL_EDXO_COOKIE_MAX + 1] = '\0';
		ok(rl_flask_session(k, big, now, 10, &fs, &e) == RL_EAUTH &&
		    rl_flask_remember(k, big, &uid, &e) == RL_EAUTH &&
		    rl_flask_csrf(k, big, now, 10, raw, &e) == RL_EAUTH,
		    "values longer than a cookie refused");
		free(big);
	}
	ok(rl_flask_remember(k, "|", &uid, &e) == RL_EAUTH,
	    "remember cookie \"|\" refused");
	ok(rl_flask_key_new("", 0, &k2, &e) == RL_EINVAL && k2 == NULL,
	    "empty SECRET_KEY refused");
}

/*
 * RELAIS_EDXO_SECRET_FILE: off when unset, refused when others may read
 * it or it is empty, the trailing newline of `echo` left out, and the
 * clock pinned by RELAIS_EDXO_NOW.
 */
static void
keyfile(const json_t *all, const char *secret)
{
	struct rl_error	 e;
	const json_t	*v;
	char		 dir[] = "/tmp/test_flask.XXXXXX", path[64], *line;
	long long	 uid = 0;
	size_t		 n;

	if (!ok(mkdtemp(dir) != NULL, "temporary directory"))
		return;
	(void)snprintf(path, sizeof(path), "%s/edxo.key", dir);
	n = strlen(secret) + 1;
	if ((line = malloc(n + 1)) == NULL)
		return;
	(void)snprintf(line, n + 1, "%s\n", secret);
	(void)unsetenv("RELAIS_EDXO_SECRET_FILE");
	ok(rl_flask_init(&e) == RL_OK && rl_flask_key() == NULL,
	    "no key file: the bridge is off");
	(void)setenv("RELAIS_EDXO_SECRET_FILE", path, 1);
	ok(rl_flask_init(&e) == RL_EIO, "a missing key file stops the start");
	ok(writefile(path, line, n, 0644) == 0 &&
	    rl_flask_init(&e) == RL_EINVAL && strstr(e.msg, "mode 0644") !=
	    NULL && rl_flask_key() == NULL, "mode 0644 refused: %s", e.msg);
	ok(writefile(path, "\n", 1, 0600) == 0 &&
	    rl_flask_init(&e) == RL_EINVAL, "an empty key refused: %s", e.msg);
	(void)setenv("RELAIS_EDXO_NOW", "12345", 1);
	ok(writefile(path, line, n, 0600) == 0 &&
	    rl_flask_init(&e) == RL_OK && rl_flask_key() != NULL,
	    "a 0600 key file with a trailing newline is read");
	ok(rl_flask_now() == 12345, "RELAIS_EDXO_NOW pins the clock");
	v = json_array_get(json_object_get(all, "remember_cookie_vectors"), 0);
	ok(rl_flask_remember(rl_flask_key(), str(v, "value"), &uid, &e) ==
	    RL_OK && uid == id_of(v, "expect_user_id"),
	    "the file's key is the vectors' (newline left out)");
	(void)unlink(path);
	(void)rmdir(dir);
	(void)unsetenv("RELAIS_EDXO_SECRET_FILE");
	(void)unsetenv("RELAIS_EDXO_NOW");
	free(line);
}

int
main(void)
{
	struct rl_flask_key	*k = NULL;
	struct rl_error		 e;
	json_error_t		 je;
	json_t			*all;
	const char		*top = getenv("top_srcdir"), *secret;
	char			 path[4096];
	long long		 now;

	rl_error_clear(&e);
	(void)snprintf(path, sizeof(path),
	    "%s/../shared/edxo/session-vectors.json", top != NULL ? top : "..");
	if (!ok(rl_crypto_init(&e) == RL_OK, "libsodium") ||
	    !ok((all = json_load_file(path, 0, &je)) != NULL,
	    "read %s (%s)", path, je.text))
		return done();
	now = json_integer_value(json_object_get(all, "now"));
	secret = str(all, "secret_key");
	ok(now > 0 && *secret != '\0', "vectors have a clock and a key");
	ok(json_integer_value(json_object_get(all,
	    "permanent_session_lifetime_s")) == RL_EDXO_SESSION_LIFETIME_SEC &&
	    json_integer_value(json_object_get(all, "csrf_time_limit_s")) ==
	    RL_EDXO_CSRF_MAX_AGE_SEC, "bounds.h has EDxo's lifetimes");
	if (ok(rl_flask_key_new(secret, strlen(secret), &k, &e) == RL_OK,
	    "key from the vectors' SECRET_KEY")) {
		sessions(k, all, now, RL_EDXO_SESSION_LIFETIME_SEC);
		csrf(k, all, now);
		remember(k, all);
		refusals(k, now);
		keyfile(all, secret);
	}
	passwords(all);
	rl_flask_key_free(k);
	json_decref(all);
	return done();
}
