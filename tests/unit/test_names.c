/* Unit tests for the names two observers make from port names: a Home
 * Assistant object id (gateway/ha_discovery.c, [A-Za-z0-9_-] only, one per
 * port and entity) and a Prometheus label value (web/metrics.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "ha_discovery.h"
#include "metrics.h"

static void object_ids(void **unused)
{
	char b[128];

	assert_int_equal(ha_object_id(b, sizeof(b), "ttyUSB0", "open"), 12);
	assert_string_equal(b, "ttyUSB0_open");
	ha_object_id(b, sizeof(b), "gps-1", "tx_bytes");
	assert_string_equal(b, "gps-1_tx_bytes");
	ha_object_id(b, sizeof(b), "my_port", "dtr");
	assert_string_equal(b, "my__port_dtr");
	ha_object_id(b, sizeof(b), "gps.1_a", "dropped");
	assert_string_equal(b, "gps_2E1__a_dropped");
	for (const char *s = b; *s; s++)
		assert_true(strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-",
				   *s) != NULL);
}

/* Names that a naive '.' -> '_' mapping, or a bare name_key join, would
 * make equal must stay apart. */
static void object_ids_are_distinct(void **unused)
{
	static const char *const ports[] = { "a.b", "a_b", "a__b", "a_2Eb", "a", "a_d", "a.d",
					     "x_dropped", "x", "tx", "t" };
	static const char *const keys[] = { "open", "baud", "tx_bytes", "rx_bytes", "dropped",
					    "dtr", "rts", "cts", "dsr", "dcd", "ri" };
	enum { NP = sizeof(ports) / sizeof(ports[0]), NK = sizeof(keys) / sizeof(keys[0]) };
	static char ids[NP * NK][96];

	for (size_t p = 0; p < NP; p++)
		for (size_t k = 0; k < NK; k++)
			assert_true(ha_object_id(ids[p * NK + k], sizeof(ids[0]), ports[p], keys[k]) > 0);
	for (size_t i = 0; i < NP * NK; i++)
		for (size_t j = i + 1; j < NP * NK; j++)
			if (strcmp(ids[i], ids[j]) == 0)
				fail_msg("%s is made twice", ids[i]);
}

static void object_id_too_long(void **unused)
{
	char b[8];

	assert_int_equal(ha_object_id(b, sizeof(b), "abcdef", "open"), -1);
	assert_int_equal(ha_object_id(b, sizeof(b), "a____", "ri"), -1);
	assert_int_equal(ha_object_id(b, sizeof(b), "abcd", "ri"), 7);
	assert_string_equal(b, "abcd_ri");
}

static void label_escapes(void **unused)
{
	char b[64];

	assert_int_equal(metrics_escape_label(b, sizeof(b), "plain.name-1"), 12);
	assert_string_equal(b, "plain.name-1");
	assert_int_equal(metrics_escape_label(b, sizeof(b), "a\\b\"c\nd"), 10);
	assert_string_equal(b, "a\\\\b\\\"c\\nd");
	assert_int_equal(metrics_escape_label(b, 5, "ab\"c"), -1);
	assert_int_equal(metrics_escape_label(b, 6, "ab\"c"), 5);
	assert_int_equal(metrics_escape_label(b, 1, ""), 0);
	assert_string_equal(b, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(object_ids),
		cmocka_unit_test(object_ids_are_distinct),
		cmocka_unit_test(object_id_too_long),
		cmocka_unit_test(label_escapes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
