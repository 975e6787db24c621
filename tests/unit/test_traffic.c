/* Unit tests for web/traffic.c's ring: the count and byte bounds, order,
 * and the text/CSV downloads' escaping. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "traffic.h"

static void push_str(struct traffic_ring *r, uint64_t ts, const char *dir, const char *s)
{
	traffic_ring_push(r, ts, dir, "port", (const uint8_t *)s, strlen(s));
}

static void keeps_the_last_500_oldest_first(void **state)
{
	struct traffic_ring r = { 0 };
	char s[16];
	json_t *j;

	(void)state;
	for (int i = 0; i < 600; i++) {
		snprintf(s, sizeof(s), "m%03d", i);
		push_str(&r, 1000 + (uint64_t)i, "tx", s);
	}
	assert_int_equal(r.n, TRAFFIC_KEEP);
	j = traffic_ring_json(&r);
	assert_int_equal(json_array_size(j), TRAFFIC_KEEP);
	/* "m100" in base64 is "bTEwMA==", "m599" is "bTU5OQ==" */
	assert_string_equal(json_string_value(json_object_get(json_array_get(j, 0), "data")), "bTEwMA==");
	assert_string_equal(json_string_value(json_object_get(json_array_get(j, 499), "data")), "bTU5OQ==");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(j, 0), "ts")), 1100);
	json_decref(j);
	traffic_ring_clear(&r);
	assert_int_equal(r.n, 0);
	assert_null(r.m);
}

static void bounds_the_bytes(void **state)
{
	struct traffic_ring r = { 0 };
	uint8_t *big = calloc(1, 60 * 1024);

	(void)state;
	assert_non_null(big);
	for (int i = 0; i < 10; i++)
		traffic_ring_push(&r, (uint64_t)i, "rx", "mqtt", big, 60 * 1024);
	assert_true(r.bytes <= TRAFFIC_BYTES);
	assert_int_equal(r.n, TRAFFIC_BYTES / (60 * 1024));
	/* an empty message counts too */
	traffic_ring_push(&r, 11, "rx", "api", big, 0);
	assert_int_equal(r.n, TRAFFIC_BYTES / (60 * 1024) + 1);
	traffic_ring_clear(&r);
	free(big);
}

static void exports_escape_what_is_not_text(void **state)
{
	struct traffic_ring r = { 0 };
	const uint8_t bin[] = { 'F', 'A', ';', '\r', '\n', 0x00, 0xfd, '"', '\\' };
	size_t len = 0;
	char *csv, *txt;

	(void)state;
	traffic_ring_push(&r, 1796636176352ull, "tx", "port", bin, sizeof(bin));
	csv = traffic_ring_export(&r, true, &len);
	assert_non_null(csv);
	assert_int_equal(strlen(csv), len);
	assert_string_equal(csv, "ts_ms,time_utc,dir,src,bytes,hex,text\r\n"
			    "1796636176352,2026-12-07T09:36:16.352Z,tx,port,9,"
			    "46 41 3B 0D 0A 00 FD 22 5C,\"FA;\\r\\n\\x00\\xFD\"\"\\\\\"\r\n");
	txt = traffic_ring_export(&r, false, &len);
	assert_non_null(txt);
	assert_string_equal(txt, "2026-12-07T09:36:16.352Z  TX port     9 B  FA;\\r\\n\\x00\\xFD\"\\\\\n");
	free(csv);
	free(txt);
	/* an empty ring: the CSV header only, the text empty */
	traffic_ring_clear(&r);
	csv = traffic_ring_export(&r, true, &len);
	assert_string_equal(csv, "ts_ms,time_utc,dir,src,bytes,hex,text\r\n");
	free(csv);
	txt = traffic_ring_export(NULL, false, &len);
	assert_non_null(txt);
	assert_int_equal(len, 0);
	free(txt);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(keeps_the_last_500_oldest_first),
		cmocka_unit_test(bounds_the_bytes),
		cmocka_unit_test(exports_escape_what_is_not_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
