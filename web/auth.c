/* auth — password hashing (PBKDF2-HMAC-SHA256), API tokens (stored as
 * SHA-256), session cookies. Secrets are compared in constant time. */
#include "web.h"
#include "gateway.h"
#include "store.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PBKDF2_ITER 100000
#define SALT_LEN 16
#define HASH_LEN 32
#define SESSION_COOKIE "mqttty_session"

static void hex(const unsigned char *p, size_t n, char *out)
{
	static const char d[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = d[p[i] >> 4];
		out[2 * i + 1] = d[p[i] & 15];
	}
	out[2 * n] = '\0';
}

static int unhex(const char *s, unsigned char *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (unsigned char)v;
	}
	return s[2 * n] == '\0' || s[2 * n] == '$' ? 0 : -1;
}

void auth_sha256_hex(const char *s, char out[65])
{
	unsigned char md[32];
	unsigned int len = 0;

	EVP_Digest(s, strlen(s), md, &len, EVP_sha256(), NULL);
	hex(md, 32, out);
}

int auth_hash_password(const char *password, char *out, size_t len)
{
	unsigned char salt[SALT_LEN], h[HASH_LEN];
	char salt_hex[2 * SALT_LEN + 1], h_hex[2 * HASH_LEN + 1];

	if (RAND_bytes(salt, sizeof(salt)) != 1 ||
	    PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt, sizeof(salt), PBKDF2_ITER,
			      EVP_sha256(), sizeof(h), h) != 1)
		return -1;
	hex(salt, sizeof(salt), salt_hex);
	hex(h, sizeof(h), h_hex);
	snprintf(out, len, "pbkdf2-sha256$%d$%s$%s", PBKDF2_ITER, salt_hex, h_hex);
	return 0;
}

bool auth_verify_password(const char *password, const char *stored)
{
	unsigned char salt[SALT_LEN], want[HASH_LEN], got[HASH_LEN];
	const char *p1, *p2;
	long iter;

	if (strncmp(stored, "pbkdf2-sha256$", 14) != 0)
		return false;
	iter = strtol(stored + 14, NULL, 10);
	if (iter < 1000 || iter > 10000000 || !(p1 = strchr(stored + 14, '$')) ||
	    !(p2 = strchr(p1 + 1, '$')) || unhex(p1 + 1, salt, SALT_LEN) < 0 ||
	    unhex(p2 + 1, want, HASH_LEN) < 0)
		return false;
	if (PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt, SALT_LEN, (int)iter,
			      EVP_sha256(), HASH_LEN, got) != 1)
		return false;
	return CRYPTO_memcmp(want, got, HASH_LEN) == 0;
}

int auth_new_token(char *token, size_t tlen, char *hash_hex, size_t hlen)
{
	unsigned char r[32];

	if (tlen < 65 || hlen < 65 || RAND_bytes(r, sizeof(r)) != 1)
		return -1;
	hex(r, sizeof(r), token);
	auth_sha256_hex(token, hash_hex);
	return 0;
}

bool auth_enabled(struct gateway *gw)
{
	char *v = NULL, err[256];
	bool on = store_setting_get(gw->store, "password_hash", &v, err, sizeof(err)) == 0;

	free(v);
	return on;
}

/* The value of cookie NAME in a Cookie header, into out. */
static bool cookie_get(const char *cookies, const char *name, char *out, size_t len)
{
	size_t nl = strlen(name);

	for (const char *p = cookies; p && *p;) {
		while (*p == ' ' || *p == ';')
			p++;
		if (strncmp(p, name, nl) == 0 && p[nl] == '=') {
			size_t vl = strcspn(p + nl + 1, ";");
			if (vl >= len)
				return false;
			memcpy(out, p + nl + 1, vl);
			out[vl] = '\0';
			return true;
		}
		p = strchr(p, ';');
	}
	return false;
}

bool auth_check(struct gateway *gw, struct web *w, const char *authorization, const char *cookie)
{
	char sid[80], hash[65];

	if (cookie_get(cookie, SESSION_COOKIE, sid, sizeof(sid)) && web_session_valid(w, sid))
		return true;
	if (strncmp(authorization, "Bearer ", 7) == 0 && authorization[7]) {
		auth_sha256_hex(authorization + 7, hash);
		return store_token_exists(gw->store, hash) == 1;
	}
	return false;
}

bool auth_login(struct gateway *gw, struct web *w, const char *password, char *cookie, size_t len)
{
	char *stored = NULL, err[256], sid[65];
	unsigned char r[32];
	bool ok;

	if (store_setting_get(gw->store, "password_hash", &stored, err, sizeof(err)) != 0)
		return false;
	ok = auth_verify_password(password, stored);
	free(stored);
	if (!ok || RAND_bytes(r, sizeof(r)) != 1)
		return false;
	hex(r, sizeof(r), sid);
	if (web_session_add(w, sid) < 0)
		return false;
	snprintf(cookie, len, SESSION_COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict", sid);
	return true;
}
