/*
 * test_crypto.c: lib/crypto.c against known vectors (RFC 4231, RFC 4648,
 * a JWT header) and its refusal paths (no key, loose key file, tampering).
 */
#include "config.h"

#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "relais.h"
#include "crypto.h"
#include "harness.h"
#include "util.h"

static void
test_password(void)
{
	char	 hash[RL_PWHASH_MAX];
	char	 hash2[RL_PWHASH_MAX];

	ok(rl_password_hash("correct horse", hash, NULL) == RL_OK,
	    "password hash");
	ok(strncmp(hash, "$argon2id$", 10) == 0, "hash is argon2id (%.20s)",
	    hash);
	ok(rl_password_verify(hash, "correct horse") == 0,
	    "right password verifies");
	ok(rl_password_verify(hash, "correct horsf") == -1,
	    "wrong password fails");
	ok(rl_password_verify(hash, "") == -1, "empty password fails");
	ok(rl_password_hash("correct horse", hash2, NULL) == RL_OK &&
	    strcmp(hash, hash2) != 0, "two hashes of one password differ");
	/* The same string with the argon2i tag must not be accepted. */
	ok(rl_password_verify("$argon2i$v=19$m=32768,t=4,p=1$"
	    "c29tZXNhbHRzb21lc2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaA",
	    "x") == -1, "argon2i string refused");
	ok(rl_password_verify("plaintext", "plaintext") == -1,
	    "non-hash string refused");
	ok(rl_password_verify(NULL, "x") == -1, "NULL hash refused");
}

static void
test_secretbox(const char *dir)
{
	static const char	 msg[] = "a session: user 42";
	struct rl_error		 e;
	unsigned char		*box = NULL, key[RL_KEY_BYTES];
	char			*plain = NULL, path[512];
	size_t			 boxlen = 0, plen = 0;
	enum rl_err		 rc;

	memset(&e, 0, sizeof(e));
	ok(!rl_crypto_have_key(), "no key before load");
	ok(rl_secretbox_seal(msg, strlen(msg), &box, &boxlen, &e) ==
	    RL_EINTERNAL && box == NULL, "seal without a key fails: %s",
	    e.msg);
	ok(rl_secretbox_open((const unsigned char *)"x", 1, &plain, &plen,
	    &e) == RL_EINTERNAL && plain == NULL, "open without a key fails");

	rl_random_bytes(key, sizeof(key));
	(void)snprintf(path, sizeof(path), "%s/loose.key", dir);
	ok(writefile(path, key, sizeof(key), 0644) == 0, "write 0644 key");
	ok(rl_crypto_load_key(path, &e) == RL_EINVAL && !rl_crypto_have_key(),
	    "0644 key refused");
	ok(strstr(e.msg, path) != NULL && strstr(e.msg, "0644") != NULL,
	    "message names path and mode: %s", e.msg);
	(void)snprintf(path, sizeof(path), "%s/short.key", dir);
	ok(writefile(path, key, sizeof(key) - 1, 0600) == 0 &&
	    rl_crypto_load_key(path, &e) == RL_EINVAL &&
	    strstr(e.msg, path) != NULL, "31-byte key refused: %s", e.msg);
	(void)snprintf(path, sizeof(path), "%s/missing.key", dir);
	ok(rl_crypto_load_key(path, &e) == RL_EIO &&
	    strstr(e.msg, path) != NULL, "missing key file: %s", e.msg);
	(void)snprintf(path, sizeof(path), "%s/ro.key", dir);
	ok(writefile(path, key, sizeof(key), 0400) == 0 &&
	    rl_crypto_load_key(path, &e) == RL_OK, "0400 key accepted");
	(void)snprintf(path, sizeof(path), "%s/good.key", dir);
	ok(writefile(path, key, sizeof(key), 0600) == 0 &&
	    rl_crypto_load_key(path, &e) == RL_OK && rl_crypto_have_key(),
	    "0600 key accepted");

	rc = rl_secretbox_seal(msg, strlen(msg), &box, &boxlen, &e);
	ok(rc == RL_OK && boxlen == strlen(msg) + 24 + 16,
	    "seal: %zu bytes (nonce, MAC, text)", boxlen);
	if (box == NULL)
		return;
	ok(rl_secretbox_open(box, boxlen, &plain, &plen, &e) == RL_OK &&
	    plen == strlen(msg) && strcmp(plain, msg) == 0,
	    "open gives the plaintext back, NUL-terminated");
	free(plain);
	plain = NULL;
	box[boxlen - 1] ^= 0x01;
	ok(rl_secretbox_open(box, boxlen, &plain, &plen, &e) == RL_EINVAL &&
	    plain == NULL, "one flipped ciphertext bit: %s", e.msg);
	box[boxlen - 1] ^= 0x01;
	box[0] ^= 0x80;
	ok(rl_secretbox_open(box, boxlen, &plain, &plen, &e) == RL_EINVAL,
	    "one flipped nonce bit refused");
	box[0] ^= 0x80;
	ok(rl_secretbox_open(box, 39, &plain, &plen, &e) == RL_EINVAL,
	    "short box refused: %s", e.msg);
	free(box);
	box = NULL;
	ok(rl_secretbox_seal("", 0, &box, &boxlen, &e) == RL_OK &&
	    rl_secretbox_open(box, boxlen, &plain, &plen, &e) == RL_OK &&
	    plen == 0 && plain[0] == '\0', "empty plaintext roundtrip");
	free(box);
	free(plain);
}

static void
test_random(void)
{
	char	 hex[2 * 40 + 2];
	size_t	 i, bad = 0;

	memset(hex, 'Z', sizeof(hex));
	rl_random_hex(hex, 40);
	for (i = 0; i < 80; i++)
		if (strchr("0123456789abcdef", hex[i]) == NULL || hex[i] == 0)
			bad++;
	ok(bad == 0 && hex[80] == '\0' && hex[81] == 'Z',
	    "random_hex: 80 lowercase hex digits, NUL, nothing more");
	rl_random_hex(hex, 0);
	ok(hex[0] == '\0', "random_hex of 0 bytes is empty");
	memset(hex, 'Z', sizeof(hex));
	rl_random_hex(hex, 33);
	ok(strlen(hex) == 66, "random_hex over a chunk edge");
}

static void
test_hex(void)
{
	static const unsigned char	 b[] = { 0x00, 0x0f, 0xa5, 0xff };
	char				 hex[2 * 100 + 2];
	size_t				 i, bad = 0;

	memset(hex, 'Z', sizeof(hex));
	rl_hex_encode(b, sizeof(b), hex);
	ok(strcmp(hex, "000fa5ff") == 0 && hex[9] == 'Z',
	    "hex_encode: lowercase, two digits a byte, NUL, nothing more");
	rl_hex_encode(b, 0, hex);
	ok(hex[0] == '\0', "hex_encode of 0 bytes is empty");
	/* Past rl_random_hex's 64-byte chunk: the pieces join up. */
	memset(hex, 'Z', sizeof(hex));
	rl_random_hex(hex, 100);
	for (i = 0; i < 200; i++)
		if (strchr("0123456789abcdef", hex[i]) == NULL || hex[i] == 0)
			bad++;
	ok(bad == 0 && hex[200] == '\0' && hex[201] == 'Z',
	    "random_hex of 100 bytes: 200 hex digits across two chunks");
}

static void
test_hash(void)
{
	unsigned char	 out[RL_SHA256_BYTES], key[131];
	char		 hex[2 * RL_SHA256_BYTES + 1];
	static const char	 tc6[] =
	    "Test Using Larger Than Block-Size Key - Hash Key First";

	rl_sha256("abc", 3, out);
	rl_hex_encode(out, sizeof(out), hex);
	ok(strcmp(hex, "ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad") == 0, "SHA-256(\"abc\")");

	memset(key, 0x0b, 20);
	rl_hmac_sha256(key, 20, "Hi There", 8, out);
	rl_hex_encode(out, sizeof(out), hex);
	ok(strcmp(hex, "b0344c61d8db38535ca8afceaf0bf12b"
	    "881dc200c9833da726e9376c2e32cff7") == 0,
	    "HMAC-SHA256 RFC 4231 test case 1");
	rl_hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, out);
	rl_hex_encode(out, sizeof(out), hex);
	ok(strcmp(hex, "5bdcc146bf60754e6a042426089575c7"
	    "5a003f089d2739839dec58b964ec3843") == 0,
	    "HMAC-SHA256 RFC 4231 test case 2 (4-byte key)");
	memset(key, 0xaa, sizeof(key));
	rl_hmac_sha256(key, sizeof(key), tc6, strlen(tc6), out);
	rl_hex_encode(out, sizeof(out), hex);
	ok(strcmp(hex, "60e431591ee0b67f0d8a26aacbf5b77f"
	    "8e0bc6213728c5140546040f0ee37f54") == 0,
	    "HMAC-SHA256 RFC 4231 test case 6 (131-byte key)");
}

static void
test_base64(void)
{
	static const char	 hdr[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
	static const char	 jwt[] =
	    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";
	unsigned char		 bin[256], back[256];
	char			 enc[400];
	size_t			 n, len, i, fails = 0;

	n = rl_base64url_encode(hdr, strlen(hdr), enc, sizeof(enc));
	ok(n == strlen(jwt) && strcmp(enc, jwt) == 0,
	    "JWT header encodes to %s", enc);
	ok(rl_base64url_decode(jwt, strlen(jwt), bin, sizeof(bin), &len) == 0 &&
	    len == strlen(hdr) && memcmp(bin, hdr, len) == 0,
	    "JWT header decodes");
	/* RFC 4648 §10 vectors, unpadded. */
	n = rl_base64url_encode("fooba", 5, enc, sizeof(enc));
	ok(n == 7 && strcmp(enc, "Zm9vYmE") == 0, "\"fooba\" -> Zm9vYmE");
	n = rl_base64url_encode("f", 1, enc, sizeof(enc));
	ok(n == 2 && strcmp(enc, "Zg") == 0, "\"f\" -> Zg");
	bin[0] = 0xfb;
	bin[1] = 0xff;
	n = rl_base64url_encode(bin, 2, enc, sizeof(enc));
	ok(n == 3 && strcmp(enc, "-_8") == 0, "url alphabet: -_8");
	ok(rl_base64url_encode("fooba", 5, enc, 7) == 0,
	    "encode refuses a buffer without room for the NUL");
	ok(rl_base64url_encode("fooba", 5, enc, 8) == 7, "exact room is fine");

	for (len = 0; len < sizeof(bin); len++) {
		rl_random_bytes(bin, len);
		n = rl_base64url_encode(bin, len, enc, sizeof(enc));
		if (rl_base64url_decode(enc, n, back, sizeof(back), &i) != 0 ||
		    i != len || memcmp(bin, back, len) != 0)
			fails++;
	}
	ok(fails == 0, "roundtrip of 0..255 random bytes");

	ok(rl_base64url_decode("Zm9vYmE=", 8, bin, sizeof(bin), &n) == -1,
	    "padding refused");
	ok(rl_base64url_decode("Zm9v+mE", 7, bin, sizeof(bin), &n) == -1,
	    "standard alphabet refused");
	ok(rl_base64url_decode("Zh", 2, bin, sizeof(bin), &n) == -1,
	    "stray low bits refused");
	ok(rl_base64url_decode("Z", 1, bin, sizeof(bin), &n) == -1,
	    "impossible length refused");
	ok(rl_base64url_decode("Zm9vYmE", 7, bin, 4, &n) == -1,
	    "decode refuses a short output buffer");
	ok(rl_base64url_decode("", 0, bin, sizeof(bin), &n) == 0 && n == 0,
	    "empty decodes to nothing");
}

static void
test_memeq(void)
{
	unsigned char	 a[32], b[32];

	memset(a, 7, sizeof(a));
	memcpy(b, a, sizeof(b));
	ok(rl_memeq(a, b, sizeof(a)) == 1, "memeq: equal");
	b[31] = 8;
	ok(rl_memeq(a, b, sizeof(a)) == 0, "memeq: last byte differs");
	ok(rl_memeq(a, b, 31) == 1, "memeq: only n bytes compared");
	rl_wipe(a, sizeof(a));
	memset(b, 0, sizeof(b));
	ok(memcmp(a, b, sizeof(a)) == 0, "wipe zeroes");
}

/* The files test_secretbox() may leave behind. */
static void
cleanup(const char *dir)
{
	static const char *const	 names[] = {
		"loose.key", "short.key", "ro.key", "good.key"
	};
	char				 path[512];
	size_t				 i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		(void)snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		(void)unlink(path);
	}
	if (rmdir(dir) == -1)
		diag("could not remove %s", dir);
}

int
main(void)
{
	char	 dir[] = "/tmp/test_crypto.XXXXXX";

	ok(rl_crypto_init(NULL) == RL_OK, "init");
	ok(rl_crypto_init(NULL) == RL_OK, "init twice");
	if (mkdtemp(dir) == NULL) {
		ok(0, "mkdtemp");
		return done();
	}
	test_secretbox(dir);
	test_password();
	test_random();
	test_hex();
	test_hash();
	test_base64();
	test_memeq();
	cleanup(dir);
	return done();
}
