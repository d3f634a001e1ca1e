/*
 * crypto.c: every cryptographic operation relais performs, over libsodium.
 * This is the only file that includes <sodium.h>, so the choice of
 * primitives (argon2id, XSalsa20-Poly1305, HMAC-SHA256) is made and
 * reviewed in one place.  docs/internals/crypto.md describes each function.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "relais.h"
#include "crypto.h"

/*
 * argon2id cost.  INTERACTIVE (2 passes, 64 MiB) is libsodium's setting for
 * an online login: about 0.1 s on a current core.  A login costs each
 * concurrent worker 64 MiB for that time, which the rate limiter in front
 * of the login route bounds; SENSITIVE (1 GiB) would let a few parallel
 * logins exhaust a small server.  The parameters are stored in the hash
 * string, so raising them later does not invalidate existing hashes.
 */
#define PWHASH_OPSLIMIT	crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE
#define PWHASH_MEMLIMIT	crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE

/* The public sizes in crypto.h must agree with libsodium's. */
_Static_assert(crypto_pwhash_argon2id_STRBYTES <= RL_PWHASH_MAX,
    "RL_PWHASH_MAX too small for an argon2id string");
_Static_assert(crypto_secretbox_KEYBYTES == RL_KEY_BYTES,
    "RL_KEY_BYTES differs from the secretbox key size");
_Static_assert(crypto_hash_sha256_BYTES == RL_SHA256_BYTES,
    "RL_SHA256_BYTES differs from SHA-256's output");
_Static_assert(crypto_auth_hmacsha256_BYTES == RL_SHA256_BYTES,
    "RL_SHA256_BYTES differs from HMAC-SHA256's output");

/*
 * The master key, in sodium_malloc'd memory: mlocked (never swapped),
 * surrounded by guard pages, and read-only once loaded so a stray write
 * faults instead of corrupting it.  Set once at start-up, before worker
 * threads exist, then only read.
 */
static unsigned char	*master_key;

/*
 * The key of rl_crypto_khash: random, drawn once per process at start-up
 * and never stored, so what it keys means nothing outside this process.
 */
static unsigned char	 process_key[crypto_generichash_KEYBYTES];

enum rl_err
rl_crypto_init(struct rl_error *e)
{

	/* 1 means "already initialised", which is fine. */
	if (sodium_init() < 0)
		return rl_error_set(e, RL_EINTERNAL,
		    "libsodium initialisation failed");
	randombytes_buf(process_key, sizeof(process_key));
	return RL_OK;
}

/*
 * A keyed hash (BLAKE2b under the process key) of a secret a process
 * keeps for a while, a verified Basic credential or access token: a
 * memory dump shows neither, and nothing else can recompute the hash.
 */
void
rl_crypto_khash(const void *msg, size_t len,
    unsigned char out[RL_SHA256_BYTES])
{

	(void)crypto_generichash(out, RL_SHA256_BYTES, msg, len, process_key,
	    sizeof(process_key));
}

/* Standard base64 (with padding), as HTTP Basic carries it. */
int
rl_base64_decode(const char *in, size_t inlen, unsigned char *out,
    size_t outsize, size_t *outlen)
{
	size_t	 n = 0;

	*outlen = 0;
	if (sodium_base642bin(out, outsize, in, inlen, NULL, &n, NULL,
	    sodium_base64_VARIANT_ORIGINAL) != 0)
		return -1;
	*outlen = n;
	return 0;
}

/*
 * Read exactly RL_KEY_BYTES from path.  The mode and size are checked on
 * the descriptor we read from (fstat), not on the name, so the file cannot
 * be swapped between the check and the read.
 */
enum rl_err
rl_crypto_load_key(const char *path, struct rl_error *e)
{
	struct stat	 st;
	unsigned char	*key = NULL;
	unsigned char	 extra;
	size_t		 got;
	ssize_t		 n;
	mode_t		 mode;
	int		 fd = -1;
	enum rl_err	 rc = RL_OK;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		rc = rl_error_set(e, RL_EIO, "%s: cannot open key file: %s",
		    path, strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) == -1) {
		rc = rl_error_set(e, RL_EIO, "%s: cannot stat key file: %s",
		    path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = rl_error_set(e, RL_EINVAL,
		    "%s: key file is not a regular file", path);
		goto out;
	}
	mode = st.st_mode & 07777;
	if (mode != 0600 && mode != 0400) {
		rc = rl_error_set(e, RL_EINVAL, "%s: key file has mode %04o, "
		    "want 0600 or 0400 (no access for group or others)",
		    path, (unsigned int)mode);
		goto out;
	}
	if (st.st_size != RL_KEY_BYTES) {
		rc = rl_error_set(e, RL_EINVAL, "%s: key file is %lld bytes, "
		    "want exactly %d", path, (long long)st.st_size,
		    RL_KEY_BYTES);
		goto out;
	}
	if ((key = sodium_malloc(RL_KEY_BYTES)) == NULL) {
		rc = rl_error_set(e, RL_ENOMEM,
		    "%s: cannot allocate locked memory for the key", path);
		goto out;
	}
	for (got = 0; got < RL_KEY_BYTES; got += (size_t)n) {
		n = read(fd, key + got, RL_KEY_BYTES - got);
		if (n == -1 && errno == EINTR) {
			n = 0;
			continue;
		}
		if (n == -1) {
			rc = rl_error_set(e, RL_EIO, "%s: cannot read key "
			    "file: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0) {
			rc = rl_error_set(e, RL_EINVAL, "%s: key file is "
			    "shorter than %d bytes", path, RL_KEY_BYTES);
			goto out;
		}
	}
	/* The file may have grown since fstat. */
	while ((n = read(fd, &extra, 1)) == -1 && errno == EINTR)
		continue;
	if (n != 0) {
		rc = rl_error_set(e, RL_EINVAL, "%s: key file is longer "
		    "than %d bytes", path, RL_KEY_BYTES);
		goto out;
	}
	(void)sodium_mprotect_readonly(key);

	/* Only a complete new key replaces the old one. */
	if (master_key != NULL)
		sodium_free(master_key);
	master_key = key;
	key = NULL;
out:
	if (key != NULL)
		sodium_free(key);	/* zeroes before unmapping */
	if (fd != -1)
		(void)close(fd);
	return rc;
}

int
rl_crypto_have_key(void)
{

	return master_key != NULL;
}

void
rl_random_bytes(void *buf, size_t n)
{

	randombytes_buf(buf, n);
}

/*
 * The n bytes at p as 2 * n lowercase hex digits and a NUL; out must hold
 * 2 * n + 1 bytes.  libsodium's encoder runs in constant time, which
 * matters for the MACs lib/flask.c prints before comparing them.
 */
void
rl_hex_encode(const void *p, size_t n, char *out)
{

	(void)sodium_bin2hex(out, 2 * n + 1, p, n);
}

/*
 * out must hold 2 * n + 1 bytes.  Random bytes go through a small local
 * buffer that is wiped, so a token never lingers on the stack.
 */
void
rl_random_hex(char *out, size_t n)
{
	unsigned char	 buf[64];
	size_t		 chunk;

	*out = '\0';
	while (n > 0) {
		chunk = n < sizeof(buf) ? n : sizeof(buf);
		randombytes_buf(buf, chunk);
		rl_hex_encode(buf, chunk, out);
		out += 2 * chunk;
		n -= chunk;
	}
	sodium_memzero(buf, sizeof(buf));
}

enum rl_err
rl_password_hash(const char *pw, char out[RL_PWHASH_MAX], struct rl_error *e)
{

	/* Fails only when the 64 MiB work area cannot be allocated. */
	if (crypto_pwhash_str_alg(out, pw, strlen(pw), PWHASH_OPSLIMIT,
	    PWHASH_MEMLIMIT, crypto_pwhash_ALG_ARGON2ID13) != 0)
		return rl_error_set(e, RL_ENOMEM,
		    "password hashing: out of memory");
	return RL_OK;
}

/*
 * 0 when pw matches hash, -1 otherwise.  Only argon2id strings are accepted:
 * a stored hash of another kind means the row was not written by us.
 */
int
rl_password_verify(const char *hash, const char *pw)
{
	static const char	 prefix[] = crypto_pwhash_argon2id_STRPREFIX;

	if (hash == NULL || pw == NULL)
		return -1;
	if (strnlen(hash, RL_PWHASH_MAX) >= RL_PWHASH_MAX)
		return -1;
	if (strncmp(hash, prefix, sizeof(prefix) - 1) != 0)
		return -1;
	if (crypto_pwhash_argon2id_str_verify(hash, pw, strlen(pw)) != 0)
		return -1;
	return 0;
}

/*
 * scrypt(pw, salt, N, r, p) into out, for werkzeug's "scrypt:N:r:p"
 * hashes (lib/flask.c checks them; the caller bounds N, r and p).
 * libsodium's low-level call is the plain RFC 7914 function.  0, or -1
 * for parameters it refuses or a work area it cannot allocate.
 */
int
rl_scrypt(const void *pw, size_t pwlen, const void *salt, size_t saltlen,
    unsigned long long n, unsigned int r, unsigned int p, unsigned char *out,
    size_t outlen)
{

	if (crypto_pwhash_scryptsalsa208sha256_ll(pw, pwlen, salt, saltlen,
	    n, r, p, out, outlen) != 0)
		return -1;
	return 0;
}

/*
 * Returns malloc'd nonce || ciphertext (with its MAC).  A fresh random
 * 24-byte nonce per message is safe for XSalsa20: collisions are not a
 * concern at any volume we will see.
 */
enum rl_err
rl_secretbox_seal(const void *plain, size_t len, unsigned char **out,
    size_t *outlen, struct rl_error *e)
{
	unsigned char	*box;
	size_t		 boxlen;

	*out = NULL;
	if (outlen != NULL)
		*outlen = 0;
	if (master_key == NULL)
		return rl_error_set(e, RL_EINTERNAL,
		    "secretbox: no master key loaded");
	if (len > SIZE_MAX - crypto_secretbox_NONCEBYTES -
	    crypto_secretbox_MACBYTES)
		return rl_error_set(e, RL_ETOOBIG, "secretbox: input too big");
	boxlen = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + len;
	if ((box = malloc(boxlen)) == NULL)
		return rl_error_set(e, RL_ENOMEM, "secretbox: out of memory");
	randombytes_buf(box, crypto_secretbox_NONCEBYTES);
	if (crypto_secretbox_easy(box + crypto_secretbox_NONCEBYTES, plain,
	    len, box, master_key) != 0) {
		free(box);
		return rl_error_set(e, RL_EINTERNAL, "secretbox: seal failed");
	}
	*out = box;
	if (outlen != NULL)
		*outlen = boxlen;
	return RL_OK;
}

/*
 * Returns malloc'd plaintext with a NUL appended (not counted in *outlen),
 * so a sealed string comes back as a C string.  A short or altered box is
 * the client's doing (a forged cookie), hence RL_EINVAL.
 */
enum rl_err
rl_secretbox_open(const unsigned char *box, size_t boxlen, char **out,
    size_t *outlen, struct rl_error *e)
{
	unsigned char	*plain;
	size_t		 len;

	*out = NULL;
	if (outlen != NULL)
		*outlen = 0;
	if (master_key == NULL)
		return rl_error_set(e, RL_EINTERNAL,
		    "secretbox: no master key loaded");
	if (boxlen < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES)
		return rl_error_set(e, RL_EINVAL, "secretbox: input too short");
	len = boxlen - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES;
	if ((plain = malloc(len + 1)) == NULL)
		return rl_error_set(e, RL_ENOMEM, "secretbox: out of memory");
	if (crypto_secretbox_open_easy(plain, box + crypto_secretbox_NONCEBYTES,
	    boxlen - crypto_secretbox_NONCEBYTES, box, master_key) != 0) {
		free(plain);
		return rl_error_set(e, RL_EINVAL,
		    "secretbox: authentication failed");
	}
	plain[len] = '\0';
	*out = (char *)plain;
	if (outlen != NULL)
		*outlen = len;
	return RL_OK;
}

/*
 * A box as PostgreSQL prints a bytea: hex digits (the "\\x" prefix already
 * stripped by encode(..., 'hex')).  Callers of stored keys hold this form.
 */
enum rl_err
rl_secretbox_open_hex(const char *hex, char **out, size_t *outlen,
    struct rl_error *e)
{
	unsigned char	*box;
	size_t		 n = strlen(hex) / 2, got = 0;
	enum rl_err	 err;

	*out = NULL;
	if (outlen != NULL)
		*outlen = 0;
	if ((box = malloc(n + 1)) == NULL)
		return rl_error_set(e, RL_ENOMEM, "secretbox: out of memory");
	if (strlen(hex) % 2 != 0 || sodium_hex2bin(box, n, hex, strlen(hex),
	    NULL, &got, NULL) != 0 || got != n)
		err = rl_error_set(e, RL_EINVAL, "secretbox: bad hex");
	else
		err = rl_secretbox_open(box, n, out, outlen, e);
	free(box);
	return err;
}

void
rl_sha256(const void *msg, size_t len, unsigned char out[RL_SHA256_BYTES])
{

	(void)crypto_hash_sha256(out, msg, len);
}

/*
 * The streaming API accepts a key of any length (a longer one is hashed
 * first, as RFC 2104 says); crypto_auth_hmacsha256() itself insists on 32
 * bytes.
 */
void
rl_hmac_sha256(const void *key, size_t keylen, const void *msg, size_t len,
    unsigned char out[RL_SHA256_BYTES])
{
	crypto_auth_hmacsha256_state	 st;

	(void)crypto_auth_hmacsha256_init(&st, key, keylen);
	(void)crypto_auth_hmacsha256_update(&st, msg, len);
	(void)crypto_auth_hmacsha256_final(&st, out);
	sodium_memzero(&st, sizeof(st));
}

/* 1 when equal, 0 otherwise, in time that depends only on n. */
int
rl_memeq(const void *a, const void *b, size_t n)
{

	return sodium_memcmp(a, b, n) == 0;
}

void
rl_wipe(void *p, size_t n)
{

	sodium_memzero(p, n);
}

/*
 * Unpadded base64url (RFC 4648 §5), as JWTs use.  Returns the length
 * written, NUL excluded, or 0 when out cannot hold it and its NUL.
 */
size_t
rl_base64url_encode(const void *in, size_t len, char *out, size_t outsize)
{
	const int	 variant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;

	/* sodium_base64_ENCODED_LEN would overflow past this. */
	if (len > SIZE_MAX / 4 * 3 - 3)
		return 0;
	if (outsize < sodium_base64_ENCODED_LEN(len, variant))
		return 0;
	(void)sodium_bin2base64(out, outsize, in, len, variant);
	return strlen(out);
}

/*
 * Strict decoder: unpadded base64url only, every character consumed, no
 * stray bits in the last character.  Strictness keeps one token from
 * having several spellings.  0 on success, -1 otherwise.
 */
int
rl_base64url_decode(const char *in, size_t inlen, unsigned char *out,
    size_t outsize, size_t *outlen)
{
	size_t	 n = 0;

	if (outlen != NULL)
		*outlen = 0;
	if (sodium_base642bin(out, outsize, in, inlen, NULL, &n, NULL,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
		return -1;
	if (outlen != NULL)
		*outlen = n;
	return 0;
}

/*
 * MAC under a key derived from the master key for one purpose (context),
 * so that a token signed for one use (a JWT) can never pass for another,
 * and the master key itself never signs anything.  -1 without a key.
 */
int
rl_crypto_mac(const char *context, const void *msg, size_t len,
    unsigned char out[RL_SHA256_BYTES])
{
	unsigned char	 sub[RL_SHA256_BYTES];

	if (master_key == NULL)
		return -1;
	rl_hmac_sha256(master_key, RL_KEY_BYTES, context, strlen(context),
	    sub);
	rl_hmac_sha256(sub, sizeof(sub), msg, len, out);
	sodium_memzero(sub, sizeof(sub));
	return 0;
}
