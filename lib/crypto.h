/*
 * crypto.h: everything cryptographic, over libsodium (the only file that
 * includes <sodium.h> is crypto.c).
 */
#ifndef RL_CRYPTO_H
#define RL_CRYPTO_H

#include <stddef.h>

#include "relais.h"

/* Length of an argon2id hash string, NUL included (crypto_pwhash_STRBYTES). */
#define RL_PWHASH_MAX		128
/* Master key and HMAC key size. */
#define RL_KEY_BYTES		32
#define RL_SHA256_BYTES		32

enum rl_err	 rl_crypto_init(struct rl_error *);
enum rl_err	 rl_crypto_load_key(const char *, struct rl_error *);
int		 rl_crypto_have_key(void);

void		 rl_random_bytes(void *, size_t);
void		 rl_random_hex(char *, size_t);
void		 rl_hex_encode(const void *, size_t, char *);

enum rl_err	 rl_password_hash(const char *, char [RL_PWHASH_MAX],
		    struct rl_error *);
int		 rl_password_verify(const char *, const char *);
int		 rl_scrypt(const void *, size_t, const void *, size_t,
		    unsigned long long, unsigned int, unsigned int,
		    unsigned char *, size_t);

enum rl_err	 rl_secretbox_seal(const void *, size_t, unsigned char **,
		    size_t *, struct rl_error *);
enum rl_err	 rl_secretbox_open(const unsigned char *, size_t, char **,
		    size_t *, struct rl_error *);

enum rl_err	 rl_secretbox_open_hex(const char *, char **, size_t *,
		    struct rl_error *);

void		 rl_sha256(const void *, size_t,
		    unsigned char [RL_SHA256_BYTES]);
void		 rl_hmac_sha256(const void *, size_t, const void *, size_t,
		    unsigned char [RL_SHA256_BYTES]);
int		 rl_crypto_mac(const char *, const void *, size_t,
		    unsigned char [RL_SHA256_BYTES]);
int		 rl_memeq(const void *, const void *, size_t);
void		 rl_wipe(void *, size_t);

size_t		 rl_base64url_encode(const void *, size_t, char *, size_t);
int		 rl_base64url_decode(const char *, size_t, unsigned char *,
		    size_t, size_t *);
int		 rl_base64_decode(const char *, size_t, unsigned char *,
		    size_t, size_t *);
void		 rl_crypto_khash(const void *, size_t,
		    unsigned char [RL_SHA256_BYTES]);

#endif
