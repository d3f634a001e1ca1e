/*
 * fuzz_jwt.c: libFuzzer harness for the access tokens of lib/auth.c
 * (rl_auth_jwt_parse, rl_auth_jwt_make) over the base64url and HMAC of
 * lib/crypto.c, under a fixed key.  Byte 0 picks the target ('0', '1',
 * '2' in the seeds); the rest is the input:
 *   0  a token, as a client sends it;
 *   1  header JSON, a NUL, payload JSON (no NUL: the payload only, under
 *      our header), encoded and signed here, so that the claim checks
 *      behind the signature are reached;
 *   2  8 bytes of uid, a role byte, then a subject: made, then parsed.
 * Properties checked beyond "no crash": a token is accepted exactly when
 * its header says HS256 and its payload holds an integer uid, an integer
 * exp after now, a string sub and type "access" (target 1), and then the
 * claims returned are the payload's; an accepted token is refused once
 * any one character of its signature changes (one spelling per token); a
 * made token parses back to its uid and subject, expires at now +
 * RL_JWT_TTL_SEC exactly, and is only refused for being too long; the
 * parser never reaches the database, the request or the response (their
 * stubs below abort).
 *
 * Build (DIR holds an empty config.h for a hand build):
 *   clang -fsanitize=fuzzer,address,undefined -IDIR -Ilib \
 *     $(pkg-config --cflags --libs jansson libsodium) lib/auth.c \
 *     lib/crypto.c lib/arena.c lib/err.c tests/fuzz/fuzz_jwt.c
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "arena.h"
#include "auth.h"
#include "bounds.h"
#include "crypto.h"
#include "db.h"
#include "log.h"
#include "req.h"
#include "resp.h"

/* The seeds in corpus/jwt are signed with this key, at this time. */
#define KEY		"relais-fuzz-jwt-fixed-key-000032"
#define NOW		1767225600LL	/* 2026-01-01T00:00:00Z */
/* auth.c's JWT_CONTEXT: target 1 signs as rl_auth_jwt_make does. */
#define CONTEXT		"relais jwt hs256 v1"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* auth.c's stateful half: never reached from the token functions. */
enum rl_err
rl_db_exec(const char *sql, int n, const char *const *p, struct rl_dbres **r,
    struct rl_error *e)
{

	abort();
}

int
rl_dbres_rows(const struct rl_dbres *r)
{

	abort();
}

const char *
rl_dbres_get(const struct rl_dbres *r, int row, int col)
{

	abort();
}

void
rl_dbres_free(struct rl_dbres *r)
{

	abort();
}

enum rl_err
rl_db_begin(struct rl_error *e)
{

	abort();
}

enum rl_err
rl_db_commit(struct rl_error *e)
{

	abort();
}

void
rl_db_rollback(void)
{

	abort();
}

const char *
rl_req_env(const struct rl_req *req, const char *name)
{

	abort();
}

const char *
rl_req_header(const struct rl_req *req, const char *name)
{

	abort();
}

const char *
rl_req_cookie(const struct rl_req *req, const char *name)
{

	abort();
}

enum rl_err
rl_resp_header(struct rl_req *req, const char *name, const char *val)
{

	abort();
}

void
rl_log(enum rl_loglevel l, const char *fmt, ...)
{

	abort();
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct rl_error	 e;
	struct rl_arena	*a;
	char		 path[] = "/tmp/fuzz_jwt.XXXXXX";
	const char	*tok;
	int		 fd;

	/* mkstemp makes the file 0600, as rl_crypto_load_key insists. */
	if (rl_crypto_init(&e) != RL_OK || (fd = mkstemp(path)) == -1 ||
	    write(fd, KEY, 32) != 32 || close(fd) == -1 ||
	    rl_crypto_load_key(path, &e) != RL_OK || unlink(path) == -1)
		abort();
	/* CONTEXT must still be auth.c's, or target 1 tests nothing. */
	if ((a = rl_arena_new()) == NULL ||
	    rl_auth_jwt_make(a, 1, "x", RL_ROLE_ADMIN, NOW, &tok, &e) !=
	    RL_OK)
		abort();
	rl_arena_free(a);
	return 0;
}

/* base64url of n bytes at p into the arena. */
static char *
b64(struct rl_arena *a, const void *p, size_t n)
{
	char	*s;
	size_t	 cap = n / 3 * 4 + 5;

	if ((s = rl_arena_alloc(a, cap)) == NULL ||
	    (n > 0 && rl_base64url_encode(p, n, s, cap) == 0))
		abort();
	if (n == 0)
		*s = '\0';
	return s;
}

/*
 * What the parser should decide, found with jansson alone: 1 when the
 * header is an object whose alg is the string "HS256" and the payload an
 * object with an integer exp after NOW, an integer uid, type "access" and
 * a string sub.
 */
static int
acceptable(const char *hdr, size_t hlen, const char *pay, size_t plen)
{
	json_t	*h, *p, *v;
	int	 ok;

	h = json_loadb(hdr, hlen, JSON_REJECT_DUPLICATES, NULL);
	p = json_loadb(pay, plen, JSON_REJECT_DUPLICATES, NULL);
	ok = json_is_object(h) && json_is_object(p) &&
	    json_is_string(v = json_object_get(h, "alg")) &&
	    strcmp(json_string_value(v), "HS256") == 0 &&
	    json_is_integer(v = json_object_get(p, "exp")) &&
	    json_integer_value(v) > NOW &&
	    json_is_integer(json_object_get(p, "uid")) &&
	    json_is_string(v = json_object_get(p, "type")) &&
	    strcmp(json_string_value(v), "access") == 0 &&
	    json_is_string(json_object_get(p, "sub"));
	json_decref(h);
	json_decref(p);
	return ok;
}

/*
 * tok was accepted with claims c: they must be its payload's, and every
 * other character in any place of its signature must be refused.
 */
static void
accepted(struct rl_arena *a, const char *tok, const struct rl_jwt_claims *c)
{
	static const char	 alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789-_";
	struct rl_jwt_claims	 c2;
	struct rl_error		 e;
	const char		*dot1, *dot2;
	unsigned char		*pay;
	char			*t;
	size_t			 plen, i, len = strlen(tok);
	json_t			*p;

	if (c->exp <= NOW || (dot1 = strchr(tok, '.')) == NULL ||
	    (dot2 = strchr(dot1 + 1, '.')) == NULL ||
	    (pay = rl_arena_alloc(a, (size_t)(dot2 - dot1))) == NULL ||
	    rl_base64url_decode(dot1 + 1, (size_t)(dot2 - dot1 - 1), pay,
	    (size_t)(dot2 - dot1), &plen) == -1 ||
	    (p = json_loadb((const char *)pay, plen, JSON_REJECT_DUPLICATES,
	    NULL)) == NULL)
		abort();
	if (json_integer_value(json_object_get(p, "uid")) != c->uid ||
	    json_integer_value(json_object_get(p, "exp")) != c->exp ||
	    strcmp(json_string_value(json_object_get(p, "sub")), c->sub) != 0)
		abort();
	json_decref(p);
	if ((t = rl_arena_strdup(a, tok)) == NULL)
		abort();
	for (i = (size_t)(dot2 - tok) + 1; i < len; i++) {
		t[i] = tok[i] == alpha[0] ? alpha[1] : alpha[0];
		if (rl_auth_jwt_parse(a, t, NOW, &c2, &e) == RL_OK)
			abort();
		t[i] = tok[i];
	}
}

/* Target 1: sign header and payload with the fixed key. */
static void
signed_claims(struct rl_arena *a, const char *in, size_t len)
{
	static const char	 ours[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
	struct rl_jwt_claims	 c;
	struct rl_error		 e;
	unsigned char		 mac[RL_SHA256_BYTES];
	const char		*nul, *hdr = ours, *pay = in;
	size_t			 hlen = sizeof(ours) - 1, plen = len;
	char			*tok;
	int			 want;

	if ((nul = memchr(in, '\0', len)) != NULL) {
		hdr = in;
		hlen = (size_t)(nul - in);
		pay = nul + 1;
		plen = len - hlen - 1;
	}
	tok = rl_arena_printf(a, "%s.%s", b64(a, hdr, hlen), b64(a, pay, plen));
	if (tok == NULL || rl_crypto_mac(CONTEXT, tok, strlen(tok), mac) == -1 ||
	    (tok = rl_arena_printf(a, "%s.%s", tok, b64(a, mac, sizeof(mac)))) ==
	    NULL)
		abort();
	want = strlen(tok) <= RL_JWT_MAX && acceptable(hdr, hlen, pay, plen);
	if ((rl_auth_jwt_parse(a, tok, NOW, &c, &e) == RL_OK) != want)
		abort();
	if (want)
		accepted(a, tok, &c);
}

/* Target 2: what rl_auth_jwt_make issues, rl_auth_jwt_parse accepts. */
static void
round_trip(struct rl_arena *a, const uint8_t *in, size_t len)
{
	struct rl_jwt_claims	 c;
	struct rl_error		 e;
	const char		*tok;
	char			*sub;
	long long		 uid;
	json_t			*s;
	enum rl_err		 err;
	int			 utf8;

	if (len < 9)
		return;
	memcpy(&uid, in, sizeof(uid));
	if ((sub = rl_arena_strndup(a, (const char *)in + 9, len - 9)) == NULL)
		abort();
	/* jansson refuses a subject that is not UTF-8; nothing else. */
	utf8 = (s = json_string(sub)) != NULL;
	json_decref(s);
	err = rl_auth_jwt_make(a, uid, sub, (enum rl_role)(in[8] % RL_ROLE__MAX),
	    NOW, &tok, &e);
	if ((err == RL_OK) != utf8)
		abort();
	if (err != RL_OK)
		return;
	err = rl_auth_jwt_parse(a, tok, NOW, &c, &e);
	if ((err == RL_OK) != (strlen(tok) <= RL_JWT_MAX))
		abort();
	if (err != RL_OK)
		return;
	if (c.uid != uid || c.exp != NOW + RL_JWT_TTL_SEC ||
	    strcmp(c.sub, sub) != 0)
		abort();
	accepted(a, tok, &c);
	if (rl_auth_jwt_parse(a, tok, NOW + RL_JWT_TTL_SEC, &c, &e) == RL_OK ||
	    e.code != RL_EAUTH)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rl_arena		*a;
	struct rl_jwt_claims	 c;
	struct rl_error		 e;
	char			*s;

	if (size < 1)
		return 0;
	if ((a = rl_arena_new()) == NULL ||
	    (s = rl_arena_strndup(a, (const char *)data + 1, size - 1)) == NULL)
		abort();
	switch (data[0] % 3) {
	case 0:
		if (rl_auth_jwt_parse(a, s, NOW, &c, &e) == RL_OK)
			accepted(a, s, &c);
		break;
	case 1:
		signed_claims(a, (const char *)data + 1, size - 1);
		break;
	default:
		round_trip(a, data + 1, size - 1);
		break;
	}
	rl_arena_free(a);
	return 0;
}
