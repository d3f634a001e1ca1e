/*
 * test_auth.c: the pure parts of lib/auth.c: the account field limits
 * (rl_auth_check_account_fields, with the UTF-8 cases a JSON body can
 * never carry) and access tokens made and parsed under a fixed key.  The
 * limiter needs PostgreSQL: tests/integration/security-auth.test.mjs.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "relais.h"
#include "arena.h"
#include "auth.h"
#include "bounds.h"
#include "crypto.h"
#include "harness.h"

/* One field checked alone; where is the error's field ("" when none). */
static enum rl_err
check(const char *field, const char *v, enum rl_account_use use,
    struct rl_error *e)
{
	struct rl_account_fields	 f;

	memset(&f, 0, sizeof(f));
	if (strcmp(field, "username") == 0)
		f.username = v;
	else if (strcmp(field, "email") == 0)
		f.email = v;
	else if (strcmp(field, "nom") == 0)
		f.nom = v;
	else if (strcmp(field, "prenom") == 0)
		f.prenom = v;
	else
		f.password = v;
	rl_error_clear(e);
	return rl_auth_check_account_fields(&f, use, e);
}

/* A string of n copies of the UTF-8 sequence s. */
static char *
repeat(const char *s, size_t n)
{
	size_t	 len = strlen(s), i;
	char	*out;

	if ((out = malloc(len * n + 1)) == NULL)
		abort();
	for (i = 0; i < n; i++)
		memcpy(out + i * len, s, len);
	out[len * n] = '\0';
	return out;
}

static int
refused(const char *field, const char *v, enum rl_account_use use)
{
	struct rl_error	 e;

	return check(field, v, use, &e) == RL_EINVAL &&
	    strcmp(e.where, field) == 0 && strlen(e.msg) < 120;
}

static int
allowed(const char *field, const char *v, enum rl_account_use use)
{
	struct rl_error	 e;

	return check(field, v, use, &e) == RL_OK;
}

static void
test_utf8(void)
{
	static const struct {
		const char	*s;
		const char	*what;
	} bad[] = {
		{ "ab\xc0\xaf", "overlong 2-byte" },
		{ "ab\xe0\x80\xaf", "overlong 3-byte" },
		{ "ab\xf0\x80\x80\xaf", "overlong 4-byte" },
		{ "ab\xed\xa0\x80", "surrogate" },
		{ "ab\xf4\x90\x80\x80", "past U+10FFFF" },
		{ "ab\xf5\x80\x80\x80", "lead byte F5" },
		{ "ab\xc3", "truncated at the end" },
		{ "ab\xe2\x82x", "truncated in the middle" },
		{ "ab\x80", "lone continuation byte" },
		{ "ab\xff", "byte FF" },
	};
	size_t	 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ok(refused("nom", bad[i].s, RL_ACCOUNT_STORE),
		    "store refuses %s", bad[i].what);
		ok(allowed("username", bad[i].s, RL_ACCOUNT_LOGIN),
		    "login lets %s through to match nothing", bad[i].what);
	}
	ok(allowed("nom", "Zo\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 "
	    "\xf4\x8f\xbf\xbf", RL_ACCOUNT_STORE),
	    "2-, 3- and 4-byte sequences up to U+10FFFF are fine");
}

static void
test_lengths(void)
{
	char	*s;

	s = repeat("a", RL_ACCOUNT_USERNAME_MAX_CHARS);
	ok(allowed("username", s, RL_ACCOUNT_STORE), "username at the limit");
	free(s);
	s = repeat("a", RL_ACCOUNT_USERNAME_MAX_CHARS + 1);
	ok(refused("username", s, RL_ACCOUNT_STORE), "username past it");
	free(s);
	s = repeat("\xc3\xa9", RL_ACCOUNT_USERNAME_MAX_CHARS);
	ok(allowed("username", s, RL_ACCOUNT_STORE),
	    "the username limit is in characters (%zu bytes)", strlen(s));
	free(s);
	s = repeat("e", RL_ACCOUNT_EMAIL_MAX_BYTES);
	s[1] = '@';
	ok(allowed("email", s, RL_ACCOUNT_STORE), "e-mail at the limit");
	free(s);
	s = repeat("\xc3\xa9", RL_ACCOUNT_EMAIL_MAX_BYTES / 2 + 1);
	ok(refused("email", s, RL_ACCOUNT_STORE),
	    "e-mail: %zu bytes in %d characters is too long", strlen(s),
	    RL_ACCOUNT_EMAIL_MAX_BYTES / 2 + 1);
	free(s);
	s = repeat("n", RL_ACCOUNT_NAME_MAX_CHARS + 1);
	ok(refused("prenom", s, RL_ACCOUNT_STORE), "prenom past the limit");
	free(s);

	s = repeat("\xf0\x9f\x98\x80", RL_ACCOUNT_PASSWORD_MAX_CHARS);
	ok(allowed("password", s, RL_ACCOUNT_STORE),
	    "password at both limits (%zu bytes)", strlen(s));
	free(s);
	s = repeat("p", RL_ACCOUNT_PASSWORD_MAX_CHARS + 1);
	ok(refused("password", s, RL_ACCOUNT_STORE), "password past it");
	ok(refused("password", s, RL_ACCOUNT_LOGIN),
	    "and refused at login too");
	free(s);
	s = repeat("p", 1000 * 1000);
	ok(refused("password", s, RL_ACCOUNT_LOGIN), "a 1 MB password at "
	    "login");
	free(s);
	/* Continuation bytes count as no character: bytes must bound it. */
	s = repeat("\x80", 1000 * 1000);
	ok(refused("password", s, RL_ACCOUNT_LOGIN),
	    "1 MB of continuation bytes at login (zero characters)");
	free(s);

	s = repeat("a", RL_ACCOUNT_EMAIL_MAX_CHARS);
	ok(allowed("username", s, RL_ACCOUNT_LOGIN),
	    "login: an address at the e-mail limit");
	free(s);
	/* The larger of the two limits: e-mail's. */
	s = repeat("a", RL_ACCOUNT_EMAIL_MAX_CHARS + 1);
	ok(refused("username", s, RL_ACCOUNT_LOGIN),
	    "login: past both name limits");
	free(s);
	s = repeat("u", 10 * 1024);
	ok(refused("username", s, RL_ACCOUNT_LOGIN), "login: a 10 KB name");
	ok(refused("username", s, RL_ACCOUNT_STORE), "store: a 10 KB name");
	free(s);
}

static void
test_rules(void)
{
	struct rl_account_fields	 f;
	struct rl_error			 e;

	ok(refused("password", "1234567", RL_ACCOUNT_STORE),
	    "store: a password under %d characters",
	    RL_ACCOUNT_PASSWORD_MIN_CHARS);
	ok(allowed("password", "1234567", RL_ACCOUNT_LOGIN),
	    "login: the minimum is not a login rule");
	ok(allowed("password", "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	    "\xc3\xa9\xc3\xa9\xc3\xa9", RL_ACCOUNT_STORE),
	    "8 characters in 16 bytes is long enough");
	ok(refused("password", "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9",
	    RL_ACCOUNT_STORE), "4 characters in 8 bytes is not");
	ok(allowed("password", "tab\there and\nnewline", RL_ACCOUNT_STORE),
	    "a password may hold any character");
	ok(refused("username", " \t ", RL_ACCOUNT_STORE), "blank username");
	ok(refused("username", "", RL_ACCOUNT_STORE), "empty username");
	ok(refused("username", "a\nb", RL_ACCOUNT_STORE),
	    "newline in a username");
	ok(refused("email", "a@b\r", RL_ACCOUNT_STORE), "CR in an address");
	ok(refused("nom", "Tab\tNom", RL_ACCOUNT_STORE), "tab in a name");
	ok(refused("prenom", "del\x7f", RL_ACCOUNT_STORE), "DEL in a name");
	ok(allowed("username", "a\nb", RL_ACCOUNT_LOGIN),
	    "login checks lengths only");

	memset(&f, 0, sizeof(f));
	ok(rl_auth_check_account_fields(&f, RL_ACCOUNT_STORE, &e) == RL_OK,
	    "no field given, nothing to refuse");
	f.username = "ok-name";
	f.email = "a@example.org";
	f.nom = "n\n";
	f.password = "short";
	ok(rl_auth_check_account_fields(&f, RL_ACCOUNT_STORE, &e) ==
	    RL_EINVAL && strcmp(e.where, "nom") == 0,
	    "the first bad field is the one named (%s)", e.where);
}

/* The verifier under test: the pure parse, or the cached check. */
typedef enum rl_err (*jwt_fn)(struct rl_arena *, const char *, long long,
    struct rl_jwt_claims *, struct rl_error *);

/* What either verifier must answer, the second time as the first. */
static void
test_jwt_with(struct rl_arena *a, jwt_fn fn, const char *name)
{
	struct rl_jwt_claims	 c;
	struct rl_error		 e;
	const char		*tok;
	char			*t;
	int			 round;

	ok(rl_auth_jwt_make(a, 42, "prof@demo.relais", RL_ROLE_PROFESSEUR,
	    1000, &tok, &e) == RL_OK, "make a token");
	for (round = 0; round < 2; round++) {
		ok(fn(a, tok, 1000, &c, &e) == RL_OK && c.uid == 42 &&
		    c.exp == 1000 + RL_JWT_TTL_SEC &&
		    strcmp(c.sub, "prof@demo.relais") == 0,
		    "%s: it parses back", name);
		ok(fn(a, tok, 1000 + RL_JWT_TTL_SEC, &c, &e) == RL_EAUTH &&
		    strcmp(e.msg, "token expired") == 0,
		    "%s: expired at exp exactly", name);
		t = rl_arena_strdup(a, tok);
		t[strlen(t) - 2] = t[strlen(t) - 2] == 'A' ? 'B' : 'A';
		ok(fn(a, t, 1000, &c, &e) == RL_EAUTH,
		    "%s: a changed signature is refused (%s)", name, e.msg);
		t[strlen(t) - 1] = '\0';
		ok(fn(a, t, 1000, &c, &e) == RL_EAUTH,
		    "%s: and so is a prefix", name);
	}
}

static void
test_jwt(void)
{
	struct rl_arena		*a;
	struct rl_jwt_claims	 c;
	struct rl_error		 e;
	char			 path[] = "/tmp/test_auth.XXXXXX";
	const char		*tok, *t2;
	int			 fd, i, good = 1;

	if ((fd = mkstemp(path)) == -1 ||
	    write(fd, "0123456789abcdef0123456789abcdef", 32) != 32 ||
	    close(fd) == -1 || rl_crypto_load_key(path, &e) != RL_OK) {
		ok(0, "load a test key: %s", e.msg);
		(void)unlink(path);
		return;
	}
	(void)unlink(path);
	if ((a = rl_arena_new()) == NULL)
		abort();
	test_jwt_with(a, rl_auth_jwt_parse, "parse");
	test_jwt_with(a, rl_auth_jwt_check, "cached check");
	ok(rl_auth_jwt_make(a, 1, "\xc3", RL_ROLE_ADMIN, 1000, &tok, &e) !=
	    RL_OK, "a subject that is not UTF-8 is refused");

	/* Two tokens in turn, each a miss then a hit: each its claims. */
	ok(rl_auth_jwt_make(a, 7, "un@demo.relais", RL_ROLE_PROFESSEUR, 2000,
	    &tok, &e) == RL_OK && rl_auth_jwt_make(a, 8, "deux@demo.relais",
	    RL_ROLE_ADMIN, 2000, &t2, &e) == RL_OK, "make two tokens");
	for (i = 0; i < 4; i++)
		if (rl_auth_jwt_check(a, i % 2 ? t2 : tok, 2000, &c, &e) !=
		    RL_OK || c.uid != (i % 2 ? 8 : 7) || strcmp(c.sub, i % 2 ?
		    "deux@demo.relais" : "un@demo.relais") != 0)
			good = 0;
	ok(good, "each token gets its own claims, cached or not");
	rl_arena_free(a);
}

int
main(void)
{
	struct rl_error	 e;

	if (rl_crypto_init(&e) != RL_OK) {
		ok(0, "libsodium: %s", e.msg);
		return done();
	}
	test_utf8();
	test_lengths();
	test_rules();
	test_jwt();
	return done();
}
