/* Unit tests for gateway/crypto.c: password hashes with explicit lengths
 * (a NUL inside is a different password), strict parsing of stored hashes,
 * tokens and digests. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "crypto.h"

static void test_hash_and_verify(void **state)
{
	char h[CRYPTO_HASH_MAX], h2[CRYPTO_HASH_MAX];

	assert_int_equal(crypto_password_hash("abc", 3, h, sizeof(h)), 0);
	assert_int_equal(strncmp(h, "pbkdf2-sha256$100000$", 21), 0);
	assert_int_equal(crypto_password_verify("abc", 3, h), 1);
	assert_int_equal(crypto_password_verify("abd", 3, h), 0);
	assert_int_equal(crypto_password_verify("ab", 2, h), 0);
	/* "abc\0zzz" is not "abc": lengths are explicit */
	assert_int_equal(crypto_password_verify("abc\0zzz", 7, h), 0);
	assert_int_equal(crypto_password_verify("abc\0", 4, h), 0);
	/* salted: the same password hashes differently */
	assert_int_equal(crypto_password_hash("abc", 3, h2, sizeof(h2)), 0);
	assert_string_not_equal(h, h2);
	/* HMAC pads its key with zeros: without the explicit refusal "abc\0"
	 * would verify as "abc" */
	assert_int_equal(crypto_password_hash("abc\0", 4, h2, sizeof(h2)), -1);
	/* too small an output buffer */
	assert_int_equal(crypto_password_hash("abc", 3, h2, 40), -1);
}

static void test_malformed_stored_hash(void **state)
{
	char h[CRYPTO_HASH_MAX], bad[CRYPTO_HASH_MAX + 8];

	assert_int_equal(crypto_password_hash("pw", 2, h, sizeof(h)), 0);
	assert_int_equal(crypto_password_verify("pw", 2, ""), -1);
	assert_int_equal(crypto_password_verify("pw", 2, "md5$x"), -1);
	assert_int_equal(crypto_password_verify("pw", 2, "pbkdf2-sha256$10$00$00"), -1);
	snprintf(bad, sizeof(bad), "%sff", h);                /* trailing junk */
	assert_int_equal(crypto_password_verify("pw", 2, bad), -1);
	snprintf(bad, sizeof(bad), "%s", h);
	bad[strlen(bad) - 1] = 'g';                            /* not hex */
	assert_int_equal(crypto_password_verify("pw", 2, bad), -1);
	bad[strlen(bad) - 1] = '\0';                           /* one digit short */
	assert_int_equal(crypto_password_verify("pw", 2, bad), -1);
}

static void test_tokens_and_digests(void **state)
{
	char t1[CRYPTO_HEX64], t2[CRYPTO_HEX64], d1[CRYPTO_HEX64], d2[CRYPTO_HEX64];

	assert_int_equal(crypto_token_new(t1, d1), 0);
	assert_int_equal(crypto_token_new(t2, d2), 0);
	assert_int_equal(strlen(t1), 64);
	assert_string_not_equal(t1, t2);
	crypto_sha256_hex(t1, strlen(t1), d2);
	assert_string_equal(d1, d2);
	crypto_sha256_hex("abc", 3, d1);
	assert_string_equal(d1, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_int_equal(crypto_random_hex(t1, 9, 4), 0);
	assert_int_equal(strlen(t1), 8);
	assert_int_equal(crypto_random_hex(t1, 8, 4), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash_and_verify),
		cmocka_unit_test(test_malformed_stored_hash),
		cmocka_unit_test(test_tokens_and_digests),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
