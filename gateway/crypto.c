/* crypto — see crypto.h. Secrets are compared in constant time; stored
 * hashes are parsed strictly (a malformed value never verifies). */
#include "crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SALT_LEN 16
#define HASH_LEN 32
#define PREFIX "pbkdf2-sha256$"

static void hex(const unsigned char *p, size_t n, char *out)
{
	static const char d[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = d[p[i] >> 4];
		out[2 * i + 1] = d[p[i] & 15];
	}
	out[2 * n] = '\0';
}

static int nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Exactly 2*n hex digits, then end or '$'. 0 or -1. */
static int unhex(const char *s, unsigned char *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int hi = nibble(s[2 * i]), lo = hi < 0 ? -1 : nibble(s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return s[2 * n] == '\0' || s[2 * n] == '$' ? 0 : -1;
}

/* A NUL byte is refused: HMAC pads its key with zeros, so "abc\0" would
 * hash exactly like "abc". */
static int pbkdf2(const char *pw, size_t len, const unsigned char *salt, int iter,
		  unsigned char out[HASH_LEN])
{
	if (len > INT_MAX || memchr(pw, '\0', len))
		return -1;
	return PKCS5_PBKDF2_HMAC(pw, (int)len, salt, SALT_LEN, iter, EVP_sha256(), HASH_LEN,
				 out) == 1 ? 0 : -1;
}

int crypto_password_hash(const char *pw, size_t len, char *out, size_t outlen)
{
	unsigned char salt[SALT_LEN], h[HASH_LEN];
	char salt_hex[2 * SALT_LEN + 1], h_hex[2 * HASH_LEN + 1];
	int n;

	if (RAND_bytes(salt, sizeof(salt)) != 1 ||
	    pbkdf2(pw, len, salt, CRYPTO_PBKDF2_ITER, h) < 0)
		return -1;
	hex(salt, sizeof(salt), salt_hex);
	hex(h, sizeof(h), h_hex);
	OPENSSL_cleanse(h, sizeof(h));
	n = snprintf(out, outlen, PREFIX "%d$%s$%s", CRYPTO_PBKDF2_ITER, salt_hex, h_hex);
	return n > 0 && (size_t)n < outlen ? 0 : -1;
}

int crypto_password_verify(const char *pw, size_t len, const char *stored)
{
	unsigned char salt[SALT_LEN], want[HASH_LEN], got[HASH_LEN];
	const char *p1, *p2;
	char *end;
	long iter;
	int ok;

	if (strncmp(stored, PREFIX, strlen(PREFIX)) != 0)
		return -1;
	iter = strtol(stored + strlen(PREFIX), &end, 10);
	if (iter < 1000 || iter > 10000000 || *end != '$')
		return -1;
	p1 = end;
	if (unhex(p1 + 1, salt, SALT_LEN) < 0 || !(p2 = strchr(p1 + 1, '$')) ||
	    unhex(p2 + 1, want, HASH_LEN) < 0 || p2[1 + 2 * HASH_LEN] != '\0')
		return -1;
	if (memchr(pw, '\0', len))
		return 0;                         /* never a stored password */
	if (pbkdf2(pw, len, salt, (int)iter, got) < 0)
		return -1;
	ok = CRYPTO_memcmp(want, got, HASH_LEN) == 0;
	OPENSSL_cleanse(got, sizeof(got));
	return ok;
}

int crypto_random_hex(char *out, size_t outlen, size_t nbytes)
{
	unsigned char r[64];

	if (nbytes > sizeof(r) || outlen < 2 * nbytes + 1 || RAND_bytes(r, (int)nbytes) != 1)
		return -1;
	hex(r, nbytes, out);
	OPENSSL_cleanse(r, sizeof(r));
	return 0;
}

int crypto_token_new(char token[CRYPTO_HEX64], char hash_hex[CRYPTO_HEX64])
{
	if (crypto_random_hex(token, CRYPTO_HEX64, 32) < 0)
		return -1;
	crypto_sha256_hex(token, strlen(token), hash_hex);
	return 0;
}

void crypto_sha256_hex(const void *p, size_t n, char out[CRYPTO_HEX64])
{
	unsigned char md[32];
	unsigned int len = 0;

	if (EVP_Digest(p, n, md, &len, EVP_sha256(), NULL) != 1 || len != sizeof(md)) {
		/* never matches a stored digest (those are hex) */
		snprintf(out, CRYPTO_HEX64, "-");
		return;
	}
	hex(md, sizeof(md), out);
}
