/*
 * flask.c: what EDxo signs and hashes, checked as its libraries check it:
 * itsdangerous signed values (Flask's session cookie, Flask-WTF's CSRF
 * token), Flask-Login's remember cookie and werkzeug's password hashes.
 * ../shared/edxo/README.md writes the algorithms out and its
 * session-vectors.json is the unit test's reference.
 *
 * libsodium has neither SHA-1 nor PBKDF2, so nettle supplies SHA-1,
 * HMAC-SHA1, HMAC-SHA512 and PBKDF2 here, and zlib inflates compressed
 * session cookies; this is the only file that includes either.  scrypt,
 * base64url and the constant-time comparison stay in crypto.c.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <nettle/hmac.h>
#include <nettle/pbkdf2.h>
#include <nettle/sha1.h>
#include <nettle/sha2.h>
#include <zlib.h>

#include "bounds.h"
#include "conf.h"
#include "crypto.h"
#include "flask.h"
#include "log.h"

/* itsdangerous salts: Flask's session interface and Flask-WTF's. */
#define SESSION_SALT	"cookie-session"
#define CSRF_SALT	"wtf-csrf-token"
/* werkzeug's scrypt output, and its defaults for a bare method name. */
#define SCRYPT_DKLEN	64
#define SCRYPT_N	32768
#define SCRYPT_R	8
#define SCRYPT_P	1
#define PBKDF2_ITER	1000000		/* werkzeug 3.1, which EDxo runs */

struct rl_flask_key {
	/* HMAC-SHA1(SECRET_KEY, "cookie-session"): key_derivation "hmac" */
	unsigned char	 session[SHA1_DIGEST_SIZE];
	/* SHA1("wtf-csrf-token" "signer" SECRET_KEY): "django-concat" */
	unsigned char	 csrf[SHA1_DIGEST_SIZE];
	/* SECRET_KEY itself: the remember cookie's HMAC-SHA512 key */
	unsigned char	*secret;
	size_t		 secretlen;
};

/* Set once at start-up (rl_flask_init), before any thread; then read. */
static struct rl_flask_key	*process_key;
static long long		 pinned_now;

enum rl_err
rl_flask_key_new(const void *secret, size_t len, struct rl_flask_key **out,
    struct rl_error *e)
{
	struct rl_flask_key	*k;
	struct hmac_sha1_ctx	 h;
	struct sha1_ctx		 s;

	*out = NULL;
	if (len == 0 || len > RL_EDXO_SECRET_MAX)
		return rl_error_set(e, RL_EINVAL, "EDxo's SECRET_KEY: want 1 "
		    "to %d bytes", RL_EDXO_SECRET_MAX);
	if ((k = calloc(1, sizeof(*k))) == NULL ||
	    (k->secret = malloc(len)) == NULL) {
		free(k);
		return rl_error_set(e, RL_ENOMEM, NULL);
	}
	memcpy(k->secret, secret, len);
	k->secretlen = len;
	hmac_sha1_set_key(&h, len, secret);
	hmac_sha1_update(&h, sizeof(SESSION_SALT) - 1,
	    (const uint8_t *)SESSION_SALT);
	hmac_sha1_digest(&h, SHA1_DIGEST_SIZE, k->session);
	sha1_init(&s);
	sha1_update(&s, sizeof(CSRF_SALT) - 1, (const uint8_t *)CSRF_SALT);
	sha1_update(&s, 6, (const uint8_t *)"signer");
	sha1_update(&s, len, secret);
	sha1_digest(&s, SHA1_DIGEST_SIZE, k->csrf);
	rl_wipe(&h, sizeof(h));
	rl_wipe(&s, sizeof(s));
	*out = k;
	return RL_OK;
}

void
rl_flask_key_free(struct rl_flask_key *k)
{

	if (k == NULL)
		return;
	rl_wipe(k->secret, k->secretlen);
	free(k->secret);
	rl_wipe(k, sizeof(*k));
	free(k);
}

/*
 * EDxo's SECRET_KEY from path: a regular file nobody else may read (mode
 * 0600 or 0400), its bytes as EDxo reads its setting, one trailing
 * newline left out (echo "$SECRET_KEY" > file adds it).
 */
static enum rl_err
load_secret(const char *path, struct rl_flask_key **out, struct rl_error *e)
{
	struct stat	 st;
	char		 buf[RL_EDXO_SECRET_MAX + 2];
	size_t		 got = 0;
	ssize_t		 n;
	mode_t		 mode;
	int		 fd;
	enum rl_err	 err;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return rl_error_set(e, RL_EIO, "RELAIS_EDXO_SECRET_FILE %s: "
		    "cannot open: %s", path, strerror(errno));
	if (fstat(fd, &st) == -1) {
		err = rl_error_set(e, RL_EIO, "RELAIS_EDXO_SECRET_FILE %s: "
		    "cannot stat: %s", path, strerror(errno));
		goto out;
	}
	mode = st.st_mode & 07777;
	if (!S_ISREG(st.st_mode) || (mode != 0600 && mode != 0400)) {
		err = rl_error_set(e, RL_EINVAL, "RELAIS_EDXO_SECRET_FILE %s: "
		    "mode %04o, want a regular file of mode 0600 (EDxo's "
		    "SECRET_KEY signs its users' sessions: no access for "
		    "group or others)", path, (unsigned int)mode);
		goto out;
	}
	while (got < sizeof(buf)) {
		n = read(fd, buf + got, sizeof(buf) - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			err = rl_error_set(e, RL_EIO, "RELAIS_EDXO_SECRET_FILE "
			    "%s: cannot read: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (got > 0 && buf[got - 1] == '\n')
		got--;
	if (got > 0 && buf[got - 1] == '\r')
		got--;
	if (got == 0 || got > RL_EDXO_SECRET_MAX) {
		err = rl_error_set(e, RL_EINVAL, "RELAIS_EDXO_SECRET_FILE %s: "
		    "want EDxo's SECRET_KEY, 1 to %d bytes", path,
		    RL_EDXO_SECRET_MAX);
		goto out;
	}
	err = rl_flask_key_new(buf, got, out, e);
out:
	rl_wipe(buf, sizeof(buf));
	(void)close(fd);
	return err;
}

/*
 * The bridge is off unless RELAIS_EDXO_SECRET_FILE names a key file; a
 * file that is named but unusable stops the program (the caller exits).
 * RELAIS_EDXO_NOW pins the clock EDxo's signatures are checked at: the
 * test suite replays the fixed vectors through nginx with it.
 */
enum rl_err
rl_flask_init(struct rl_error *e)
{
	const char		*path = getenv("RELAIS_EDXO_SECRET_FILE");
	struct rl_flask_key	*k;
	int			 now = 0;
	enum rl_err		 err;

	if (path == NULL || *path == '\0')
		return RL_OK;
	if ((err = rl_conf_int("RELAIS_EDXO_NOW", 1, INT_MAX, &now, e)) !=
	    RL_OK || (err = load_secret(path, &k, e)) != RL_OK)
		return err;
	rl_flask_key_free(process_key);
	process_key = k;
	if (now != 0) {
		pinned_now = now;
		rl_log_warn("RELAIS_EDXO_NOW: EDxo's cookies are checked at "
		    "time %d, not the clock (for tests only)", now);
	}
	rl_log_info("EDxo's browser session is recognised (key %s)", path);
	return RL_OK;
}

/* The process's EDxo key, or NULL: the bridge is off. */
const struct rl_flask_key *
rl_flask_key(void)
{

	return process_key;
}

long long
rl_flask_now(void)
{

	return pinned_now != 0 ? pinned_now : (long long)time(NULL);
}

/* The last '.' among the first n bytes of s, or NULL. */
static const char *
lastdot(const char *s, size_t n)
{

	while (n > 0)
		if (s[--n] == '.')
			return s + n;
	return NULL;
}

/* A positive account id written in decimal digits only, as EDxo's are. */
static int
parse_id(const char *s, size_t n, long long *out)
{
	long long	 v = 0;
	size_t		 i;

	if (n == 0 || n > 18)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (v <= 0)
		return -1;
	*out = v;
	return 0;
}

/* zlib.decompress of n bytes into a malloc'd, capped, NUL-ended buffer. */
static enum rl_err
inflate_payload(const unsigned char *in, size_t n, const char *what,
    char **out, size_t *outlen, struct rl_error *e)
{
	z_stream	 zs;
	char		*buf;
	int		 rc;

	if ((buf = malloc(RL_EDXO_SESSION_JSON_MAX + 1)) == NULL)
		return rl_error_set(e, RL_ENOMEM, NULL);
	memset(&zs, 0, sizeof(zs));
	if (inflateInit(&zs) != Z_OK) {
		free(buf);
		return rl_error_set(e, RL_ENOMEM, NULL);
	}
	zs.next_in = (unsigned char *)(uintptr_t)in;
	zs.avail_in = (uInt)n;
	zs.next_out = (unsigned char *)buf;
	zs.avail_out = RL_EDXO_SESSION_JSON_MAX;
	rc = inflate(&zs, Z_FINISH);
	(void)inflateEnd(&zs);
	if (rc != Z_STREAM_END) {
		free(buf);
		return rl_error_set(e, RL_EAUTH, "%s: %s", what,
		    rc == Z_BUF_ERROR && zs.avail_out == 0 ?
		    "inflates past the size limit" : "not zlib data");
	}
	buf[zs.total_out] = '\0';
	*out = buf;
	*outlen = zs.total_out;
	return RL_OK;
}

/*
 * itsdangerous' TimestampSigner.unsign, then the serializer's load.  v
 * is PAYLOAD "." TS "." SIG with SIG = b64(HMAC-SHA1(key, PAYLOAD "."
 * TS)): the signature is checked before anything is decoded, then the
 * age (0 <= now - TS <= max_age; max_age itself is valid).  *out is the
 * payload decoded (inflated when it began with '.'), malloc'd and
 * NUL-terminated.  Every refusal is RL_EAUTH, its reason in e.
 */
static enum rl_err
unsign(const unsigned char key[SHA1_DIGEST_SIZE], const char *what,
    const char *v, long long now, long long max_age, char **out,
    size_t *outlen, struct rl_error *e)
{
	struct hmac_sha1_ctx	 h;
	const char		*sigdot, *tsdot, *p;
	unsigned char		 mac[SHA1_DIGEST_SIZE], tsb[16], *raw;
	unsigned char		 sig[SHA1_DIGEST_SIZE + 3];
	unsigned long long	 ts = 0;
	size_t			 len, n, i, plen;
	enum rl_err		 err;

	*out = NULL;
	*outlen = 0;
	if ((len = strnlen(v, RL_EDXO_COOKIE_MAX + 1)) > RL_EDXO_COOKIE_MAX)
		return rl_error_set(e, RL_EAUTH, "%s: longer than a cookie",
		    what);
	if ((sigdot = lastdot(v, len)) == NULL)
		return rl_error_set(e, RL_EAUTH, "%s: not a signed value",
		    what);
	if (rl_base64url_decode(sigdot + 1, len - (size_t)(sigdot - v) - 1,
	    sig, sizeof(sig), &n) == -1 || n != SHA1_DIGEST_SIZE)
		return rl_error_set(e, RL_EAUTH, "%s: bad signature", what);
	hmac_sha1_set_key(&h, SHA1_DIGEST_SIZE, key);
	hmac_sha1_update(&h, (size_t)(sigdot - v), (const uint8_t *)v);
	hmac_sha1_digest(&h, SHA1_DIGEST_SIZE, mac);
	if (!rl_memeq(mac, sig, sizeof(mac)))
		return rl_error_set(e, RL_EAUTH, "%s: bad signature", what);
	if ((tsdot = lastdot(v, (size_t)(sigdot - v))) == NULL ||
	    rl_base64url_decode(tsdot + 1, (size_t)(sigdot - tsdot - 1), tsb,
	    sizeof(tsb), &n) == -1 || n == 0 || n > 8)
		return rl_error_set(e, RL_EAUTH, "%s: no valid timestamp",
		    what);
	for (i = 0; i < n; i++)
		ts = ts << 8 | tsb[i];
	if (ts > (unsigned long long)now)
		return rl_error_set(e, RL_EAUTH, "%s: signed in the future",
		    what);
	if (now - (long long)ts > max_age)
		return rl_error_set(e, RL_EAUTH, "%s: expired %lld s ago", what,
		    now - (long long)ts - max_age);

	p = v;
	plen = (size_t)(tsdot - v);
	if (plen > 0 && *p == '.') {
		p++;
		plen--;
	}
	if ((raw = malloc(plen + 1)) == NULL)
		return rl_error_set(e, RL_ENOMEM, NULL);
	if (rl_base64url_decode(p, plen, raw, plen + 1, &n) == -1) {
		free(raw);
		return rl_error_set(e, RL_EAUTH, "%s: payload is not base64",
		    what);
	}
	if (p != v) {
		err = inflate_payload(raw, n, what, out, outlen, e);
		free(raw);
		return err;
	}
	raw[n] = '\0';
	*out = (char *)raw;
	*outlen = n;
	return RL_OK;
}

/*
 * Flask's signed session cookie at time now, valid max_age seconds
 * (EDxo's PERMANENT_SESSION_LIFETIME): who it names (_user_id, a string
 * of digits) and its CSRF token.  A session that names nobody is valid
 * with s->uid 0: Flask-Login then reads the remember cookie.
 */
enum rl_err
rl_flask_session(const struct rl_flask_key *k, const char *cookie,
    long long now, long long max_age, struct rl_flask_session *s,
    struct rl_error *e)
{
	json_t		*root, *v;
	char		*json;
	size_t		 len;
	enum rl_err	 err;

	memset(s, 0, sizeof(*s));
	if ((err = unsign(k->session, "EDxo session", cookie, now, max_age,
	    &json, &len, e)) != RL_OK)
		return err;
	root = json_loadb(json, len, 0, NULL);
	free(json);
	err = RL_OK;
	if (!json_is_object(root))
		err = rl_error_set(e, RL_EAUTH, "EDxo session: not an object");
	else if ((v = json_object_get(root, "_user_id")) != NULL &&
	    (!json_is_string(v) || parse_id(json_string_value(v),
	    json_string_length(v), &s->uid) == -1))
		err = rl_error_set(e, RL_EAUTH, "EDxo session: _user_id is "
		    "not an account id");
	else if ((v = json_object_get(root, "csrf_token")) != NULL &&
	    json_is_string(v) && json_string_length(v) <= RL_FLASK_TOKEN_MAX)
		memcpy(s->csrf, json_string_value(v),
		    json_string_length(v) + 1);
	json_decref(root);
	if (err != RL_OK)
		s->uid = 0;
	return err;
}

/*
 * A Flask-WTF token (signed JSON string of the raw token) at time now,
 * valid max_age seconds (WTF_CSRF_TIME_LIMIT): the raw token in raw.
 */
enum rl_err
rl_flask_csrf(const struct rl_flask_key *k, const char *token,
    long long now, long long max_age, char raw[RL_FLASK_TOKEN_MAX + 1],
    struct rl_error *e)
{
	json_t		*v;
	char		*json;
	size_t		 len;
	enum rl_err	 err;

	raw[0] = '\0';
	if ((err = unsign(k->csrf, "EDxo CSRF token", token, now, max_age,
	    &json, &len, e)) != RL_OK)
		return err;
	v = json_loadb(json, len, JSON_DECODE_ANY, NULL);
	free(json);
	if (!json_is_string(v) || json_string_length(v) == 0 ||
	    json_string_length(v) > RL_FLASK_TOKEN_MAX)
		err = rl_error_set(e, RL_EAUTH, "EDxo CSRF token: no token "
		    "inside");
	else
		memcpy(raw, json_string_value(v), json_string_length(v) + 1);
	json_decref(v);
	return err;
}

/*
 * Flask-Login's remember cookie: USER_ID "|" hex(HMAC-SHA512(SECRET_KEY,
 * USER_ID)), lower-case, compared in constant time.  It carries no time:
 * only the browser's expiry limits it, as in EDxo.
 */
enum rl_err
rl_flask_remember(const struct rl_flask_key *k, const char *value,
    long long *uid, struct rl_error *e)
{
	struct hmac_sha512_ctx	 h;
	unsigned char		 mac[SHA512_DIGEST_SIZE];
	char			 hex[2 * SHA512_DIGEST_SIZE + 1];
	const char		*bar;
	size_t			 len, idlen;
	int			 same;

	*uid = 0;
	if ((len = strnlen(value, RL_EDXO_COOKIE_MAX + 1)) >
	    RL_EDXO_COOKIE_MAX || (bar = strrchr(value, '|')) == NULL)
		return rl_error_set(e, RL_EAUTH, "EDxo remember cookie: "
		    "malformed");
	idlen = (size_t)(bar - value);
	hmac_sha512_set_key(&h, k->secretlen, k->secret);
	hmac_sha512_update(&h, idlen, (const uint8_t *)value);
	hmac_sha512_digest(&h, SHA512_DIGEST_SIZE, mac);
	rl_wipe(&h, sizeof(h));
	rl_hex_encode(mac, sizeof(mac), hex);
	same = len - idlen - 1 == 2 * SHA512_DIGEST_SIZE &&
	    rl_memeq(hex, bar + 1, 2 * SHA512_DIGEST_SIZE);
	if (!same)
		return rl_error_set(e, RL_EAUTH, "EDxo remember cookie: bad "
		    "signature");
	if (parse_id(value, idlen, uid) == -1)
		return rl_error_set(e, RL_EAUTH, "EDxo remember cookie: not an "
		    "account id");
	return RL_OK;
}

/* An unsigned decimal after a ':' at *s, in [1, max]; -1 otherwise. */
static int
param(const char **s, unsigned long long max, unsigned long long *out)
{
	unsigned long long	 v = 0;
	const char		*p = *s;

	if (*p++ != ':' || *p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (unsigned long long)(*p - '0');
		if (v > max)
			return -1;
	}
	if (v == 0)
		return -1;
	*s = p;
	*out = v;
	return 0;
}

/* "scrypt[:N:r:p]": werkzeug's hashlib.scrypt, dkLen 64. */
static int
scrypt_derive(const char *args, const char *pw, const char *salt,
    size_t saltlen, unsigned char *dk, size_t *dklen)
{
	unsigned long long	 n = SCRYPT_N, r = SCRYPT_R, p = SCRYPT_P;

	if (*args != '\0' && (param(&args, RL_SCRYPT_MEM_MAX, &n) == -1 ||
	    param(&args, RL_SCRYPT_MEM_MAX, &r) == -1 ||
	    param(&args, RL_SCRYPT_P_MAX, &p) == -1 || *args != '\0'))
		return -1;
	/* N a power of two above 1; the work area 128 * N * r bytes. */
	if (n < 2 || (n & (n - 1)) != 0 || n * r > RL_SCRYPT_MEM_MAX / 128)
		return -1;
	*dklen = SCRYPT_DKLEN;
	return rl_scrypt(pw, strlen(pw), salt, saltlen, n, (unsigned int)r,
	    (unsigned int)p, dk, SCRYPT_DKLEN);
}

/* "pbkdf2[:HASH[:ITER]]": PBKDF2-HMAC-HASH, dkLen the digest's size. */
static int
pbkdf2_derive(const char *args, const char *pw, const char *salt,
    size_t saltlen, unsigned char *dk, size_t *dklen)
{
	unsigned long long	 iter = PBKDF2_ITER;
	const char		*hash = "sha256";
	size_t			 hlen = 6, pwlen = strlen(pw);

	if (*args == ':') {
		hash = args + 1;
		hlen = strcspn(hash, ":");
		args = hash + hlen;
		if (*args != '\0' && (param(&args, RL_PBKDF2_ITER_MAX,
		    &iter) == -1 || *args != '\0'))
			return -1;
	} else if (*args != '\0')
		return -1;
	if (hlen == 4 && strncmp(hash, "sha1", 4) == 0) {
		*dklen = SHA1_DIGEST_SIZE;
		pbkdf2_hmac_sha1(pwlen, (const uint8_t *)pw, (unsigned)iter,
		    saltlen, (const uint8_t *)salt, *dklen, dk);
	} else if (hlen == 6 && strncmp(hash, "sha256", 6) == 0) {
		*dklen = SHA256_DIGEST_SIZE;
		pbkdf2_hmac_sha256(pwlen, (const uint8_t *)pw, (unsigned)iter,
		    saltlen, (const uint8_t *)salt, *dklen, dk);
	} else if (hlen == 6 && strncmp(hash, "sha512", 6) == 0) {
		*dklen = SHA512_DIGEST_SIZE;
		pbkdf2_hmac_sha512(pwlen, (const uint8_t *)pw, (unsigned)iter,
		    saltlen, (const uint8_t *)salt, *dklen, dk);
	} else
		return -1;
	return 0;
}

/*
 * A werkzeug hash METHOD "$" SALT "$" HEX against pw (its UTF-8 bytes,
 * not normalised; the salt used as its bytes).  1 when it matches, 0
 * when it does not or is no werkzeug hash at all ("", bcrypt, an unknown
 * method), -1 when it is one relais will not read: the formats werkzeug
 * 3 refuses (before 2.3, "sha256$SALT$HMAC", "md5$$...", "plain$$...":
 * EDxo itself answers 500 for them) and costs above the bounds.h limits.
 * Such a user must have the password reset.  The hex is compared in
 * constant time, as werkzeug's hmac.compare_digest does.
 */
int
rl_werkzeug_verify(const char *hash, const char *pw)
{
	static const char *const legacy[] = { "plain", "md5", "sha1",
	    "sha224", "sha256", "sha384", "sha512" };
	const char	*d1, *d2, *hex;
	char		 method[64], got[2 * SHA512_DIGEST_SIZE + 1];
	unsigned char	 dk[SHA512_DIGEST_SIZE];
	size_t		 mlen, dklen = 0, i;
	int		 rc;

	if (hash == NULL || pw == NULL || (d1 = strchr(hash, '$')) == NULL ||
	    (d2 = strchr(d1 + 1, '$')) == NULL)
		return 0;
	if ((mlen = (size_t)(d1 - hash)) >= sizeof(method))
		return 0;
	memcpy(method, hash, mlen);
	method[mlen] = '\0';
	hex = d2 + 1;
	if (strncmp(method, "scrypt", 6) == 0 &&
	    (method[6] == '\0' || method[6] == ':'))
		rc = scrypt_derive(method + 6, pw, d1 + 1,
		    (size_t)(d2 - d1 - 1), dk, &dklen);
	else if (strncmp(method, "pbkdf2", 6) == 0 &&
	    (method[6] == '\0' || method[6] == ':'))
		rc = pbkdf2_derive(method + 6, pw, d1 + 1,
		    (size_t)(d2 - d1 - 1), dk, &dklen);
	else {
		for (i = 0; i < sizeof(legacy) / sizeof(legacy[0]); i++)
			if (strcmp(method, legacy[i]) == 0)
				return -1;
		return 0;
	}
	if (rc == -1)
		return -1;
	rl_hex_encode(dk, dklen, got);
	rc = strlen(hex) == 2 * dklen && rl_memeq(got, hex, 2 * dklen);
	rl_wipe(dk, sizeof(dk));
	rl_wipe(got, sizeof(got));
	return rc;
}
