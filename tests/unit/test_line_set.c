/* Unit tests for ports/line_set.c: the `set` payload (device keys and the
 * cuse input lines), the null-modem mapping of a peer's state, and which
 * group a payload names. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "line_set.h"
#include "port_config.h"

static int parse(const char *text, struct line_set *s, char *err, size_t errlen)
{
	json_t *j = json_loads(text, 0, NULL);
	int rc;

	assert_non_null(j);
	rc = line_set_parse(j, s, err, errlen);
	json_decref(j);
	return rc;
}

static void device_keys(void **state)
{
	struct line_set s;
	char err[256];

	assert_int_equal(parse("{\"baud\":4800,\"data_bits\":7,\"parity\":\"even\","
			       "\"rts\":true,\"dtr\":false,\"break_ms\":250}", &s, err,
			       sizeof(err)), 0);
	assert_int_equal(s.line.baud, 4800);
	assert_int_equal(s.line.data_bits, 7);
	assert_int_equal(s.line.parity, PARITY_EVEN);
	assert_int_equal(s.rts, 1);
	assert_int_equal(s.dtr, 0);
	assert_int_equal(s.break_ms, 250);
	assert_int_equal(s.cts, STATE_NULL);
	assert_int_equal(s.ri, STATE_NULL);
	assert_true(line_set_has_outputs(&s));
	assert_false(line_set_has_inputs(&s));
}

static void cuse_keys(void **state)
{
	struct line_set s;
	char err[256];

	assert_int_equal(parse("{\"cts\":true,\"dcd\":true}", &s, err, sizeof(err)), 0);
	assert_int_equal(s.cts, 1);
	assert_int_equal(s.dcd, 1);
	assert_int_equal(s.dsr, STATE_NULL);
	assert_int_equal(s.ri, STATE_NULL);
	assert_int_equal(s.rts, STATE_NULL);
	assert_true(line_set_has_inputs(&s));
	assert_false(line_set_has_outputs(&s));
	assert_int_equal(parse("{\"dsr\":false,\"ri\":true}", &s, err, sizeof(err)), 0);
	assert_int_equal(s.dsr, 0);
	assert_int_equal(s.ri, 1);
	/* both groups parse; the backend refuses the group it does not take */
	assert_int_equal(parse("{\"cts\":true,\"rts\":true}", &s, err, sizeof(err)), 0);
	assert_true(line_set_has_inputs(&s) && line_set_has_outputs(&s));
}

static void rejects(void **state)
{
	static const char *const bad[] = {
		"{\"cts\":1}", "{\"dcd\":\"true\"}", "{\"ri\":null}", "{\"cts\":true,\"x\":1}",
		"{}", "[]", "{\"dsr\":[true]}",
	};
	struct line_set s;
	char err[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(parse(bad[i], &s, err, sizeof(err)), -1);
		assert_true(err[0] != '\0');
	}
}

static void null_modem(void **state)
{
	struct line_set s;
	json_t *j;

	j = json_loads("{\"open\":true,\"rts\":true,\"dtr\":false,\"cts\":false}", 0, NULL);
	line_set_null_modem(j, &s);
	json_decref(j);
	assert_int_equal(s.cts, 1);        /* their rts */
	assert_int_equal(s.dsr, 0);        /* their dtr */
	assert_int_equal(s.dcd, 0);
	assert_int_equal(s.ri, STATE_NULL);
	assert_false(line_set_has_outputs(&s));

	/* a pty peer knows no lines: ours are left */
	j = json_loads("{\"open\":true,\"rts\":null,\"dtr\":null}", 0, NULL);
	line_set_null_modem(j, &s);
	json_decref(j);
	assert_int_equal(s.cts, STATE_NULL);
	assert_int_equal(s.dsr, STATE_NULL);
	assert_false(line_set_has_inputs(&s));

	/* the peer is gone (empty retained state): the cable is dead */
	line_set_null_modem(NULL, &s);
	assert_int_equal(s.cts, 0);
	assert_int_equal(s.dsr, 0);
	assert_int_equal(s.dcd, 0);
	assert_int_equal(s.ri, STATE_NULL);
}

static void follow_has_no_inputs(void **state)
{
	struct line_set s;
	json_t *j = json_loads("{\"open\":true,\"baud\":9600,\"rts\":true,\"cts\":true}", 0, NULL);

	line_set_from_peer_state(j, &s);
	json_decref(j);
	assert_int_equal(s.rts, 1);
	assert_false(line_set_has_inputs(&s));   /* device semantics unchanged */
}

/* A set takes dtr/rts whole or not at all; follow takes them where the
 * device has modem lines (lines_if_any). */
static void lines_if_any_only_for_follow(void **state)
{
	struct line_set s;
	char err[160];
	json_t *j = json_loads("{\"baud\":19200,\"dtr\":true}", 0, NULL);

	assert_int_equal(line_set_parse(j, &s, err, sizeof(err)), 0);
	json_decref(j);
	assert_int_equal(s.lines_if_any, 0);
	assert_true(line_set_has_settings(&s));

	j = json_loads("{\"open\":true,\"baud\":9600,\"rts\":true}", 0, NULL);
	line_set_from_peer_state(j, &s);
	json_decref(j);
	assert_int_equal(s.lines_if_any, 1);
	assert_true(line_set_has_settings(&s));
	line_set_from_peer_state(NULL, &s);      /* unkey */
	assert_int_equal(s.lines_if_any, 1);
	assert_int_equal(s.dtr, 0);
	assert_int_equal(s.rts, 0);
	assert_false(line_set_has_settings(&s));
}

static void has_settings(void **state)
{
	static const char *const with[] = {
		"{\"baud\":9600}", "{\"data_bits\":7}", "{\"parity\":\"odd\"}",
		"{\"stop_bits\":2}", "{\"flow\":\"none\"}",
	};
	static const char *const without[] = {
		"{\"dtr\":true}", "{\"rts\":false}", "{\"break_ms\":100}", "{\"cts\":true}",
	};
	struct line_set s;
	char err[160];

	for (size_t i = 0; i < sizeof(with) / sizeof(with[0]); i++) {
		json_t *j = json_loads(with[i], 0, NULL);
		assert_int_equal(line_set_parse(j, &s, err, sizeof(err)), 0);
		assert_true(line_set_has_settings(&s));
		json_decref(j);
	}
	for (size_t i = 0; i < sizeof(without) / sizeof(without[0]); i++) {
		json_t *j = json_loads(without[i], 0, NULL);
		assert_int_equal(line_set_parse(j, &s, err, sizeof(err)), 0);
		assert_false(line_set_has_settings(&s));
		json_decref(j);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(device_keys),
		cmocka_unit_test(cuse_keys),
		cmocka_unit_test(rejects),
		cmocka_unit_test(null_modem),
		cmocka_unit_test(follow_has_no_inputs),
		cmocka_unit_test(lines_if_any_only_for_follow),
		cmocka_unit_test(has_settings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
