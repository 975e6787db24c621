/* crypto — password hashing (PBKDF2-HMAC-SHA256), random tokens and
 * SHA-256, shared by `mqttty passwd` and the web login. Pure functions with
 * no loop: crypto_password_verify is slow on purpose (~0.1 s) and is meant
 * to run off the loop thread (uv_queue_work); it touches no shared state. */
#ifndef MQTTTY_CRYPTO_H
#define MQTTTY_CRYPTO_H

#include <stddef.h>

#define CRYPTO_PBKDF2_ITER 100000
/* "pbkdf2-sha256$ITER$SALT$HASH" (hex) with room to spare */
#define CRYPTO_HASH_MAX 160
/* a token or a digest as hex, NUL included */
#define CRYPTO_HEX64 65

/* Hash pw (len bytes, no NUL among them) for storage into out (outlen >=
 * CRYPTO_HASH_MAX). 0, or -1 (a NUL byte, no random bytes, out too small). */
int crypto_password_hash(const char *pw, size_t len, char *out, size_t outlen);

/* 1 if pw (len bytes) matches a stored crypto_password_hash value, 0 if it
 * does not (always for a pw holding NUL: HMAC would pad "abc" to "abc\0"),
 * -1 if stored is malformed. Constant-time compare. Thread-safe. */
int crypto_password_verify(const char *pw, size_t len, const char *stored);

/* nbytes random bytes as hex into out (outlen >= 2*nbytes+1). 0 or -1. */
int crypto_random_hex(char *out, size_t outlen, size_t nbytes);

/* A new API token (32 random bytes, hex) and its SHA-256 (hex) for storage. */
int crypto_token_new(char token[CRYPTO_HEX64], char hash_hex[CRYPTO_HEX64]);

/* SHA-256 of p (n bytes) as hex. */
void crypto_sha256_hex(const void *p, size_t n, char out[CRYPTO_HEX64]);

#endif
