/* Unit tests for ports/port_state.c: the `state` JSON of CONTRACT.md §3. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "port_state.h"
#include "port_config.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* The contract's keys, in the contract's order. */
static const char *const keys[] = {
	"open", "baud", "data_bits", "parity", "stop_bits", "flow", "dtr", "rts",
	"cts", "dsr", "dcd", "ri", "tx_bytes", "rx_bytes", "dropped",
};

static void assert_dump(const struct port_state *s, const char *want)
{
	json_t *j = port_state_to_json(s);
	char *got;

	assert_non_null(j);
	got = json_dumps(j, JSON_COMPACT);
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
	json_decref(j);
}

static void exactly_the_contract_keys(void **state)
{
	struct port_state s;
	json_t *j;
	const char *key;
	json_t *v;
	size_t i = 0;

	port_state_init(&s);
	j = port_state_to_json(&s);
	assert_int_equal(json_object_size(j), 15);
	assert_int_equal(NELEM(keys), 15);
	json_object_foreach(j, key, v) {
		assert_true(i < NELEM(keys));
		assert_string_equal(key, keys[i]);
		i++;
	}
	assert_int_equal(i, 15);
	json_decref(j);
}

static void init_is_all_null(void **state)
{
	struct port_state s;

	memset(&s, 0x77, sizeof(s));
	port_state_init(&s);
	assert_false(s.open);
	assert_int_equal(s.line.baud, STATE_NULL);
	assert_int_equal(s.tx_bytes, 0);
	assert_dump(&s, "{\"open\":false,\"baud\":null,\"data_bits\":null,\"parity\":null,"
		    "\"stop_bits\":null,\"flow\":null,\"dtr\":null,\"rts\":null,\"cts\":null,"
		    "\"dsr\":null,\"dcd\":null,\"ri\":null,\"tx_bytes\":0,\"rx_bytes\":0,"
		    "\"dropped\":0}");
}

static void contract_example(void **state)
{
	struct port_state s;

	port_state_init(&s);
	s.open = true;
	s.line = (struct line_settings){ 38400, 8, PARITY_NONE, 1, FLOW_NONE };
	s.dtr = 1;
	s.rts = 0;
	s.tx_bytes = 1234;
	s.rx_bytes = 99;
	assert_dump(&s, "{\"open\":true,\"baud\":38400,\"data_bits\":8,\"parity\":\"none\","
		    "\"stop_bits\":1,\"flow\":\"none\",\"dtr\":true,\"rts\":false,\"cts\":null,"
		    "\"dsr\":null,\"dcd\":null,\"ri\":null,\"tx_bytes\":1234,\"rx_bytes\":99,"
		    "\"dropped\":0}");
}

static void pty_shape_and_every_line(void **state)
{
	struct port_state s;

	/* a pty: baud, stop bits and flow known; data bits, parity, lines not */
	port_state_init(&s);
	s.open = true;
	s.line = (struct line_settings){ 250000, STATE_NULL, STATE_NULL, 2, FLOW_RTSCTS };
	s.tx_bytes = 1ULL << 40;
	s.dropped = 7;
	assert_dump(&s, "{\"open\":true,\"baud\":250000,\"data_bits\":null,\"parity\":null,"
		    "\"stop_bits\":2,\"flow\":\"rtscts\",\"dtr\":null,\"rts\":null,\"cts\":null,"
		    "\"dsr\":null,\"dcd\":null,\"ri\":null,\"tx_bytes\":1099511627776,"
		    "\"rx_bytes\":0,\"dropped\":7}");

	/* a cuse port knows everything */
	s.line = (struct line_settings){ 1200, 7, PARITY_MARK, 1, FLOW_XONXOFF };
	s.dtr = 0;
	s.rts = 1;
	s.cts = 1;
	s.dsr = 0;
	s.dcd = 1;
	s.ri = 0;
	assert_dump(&s, "{\"open\":true,\"baud\":1200,\"data_bits\":7,\"parity\":\"mark\","
		    "\"stop_bits\":1,\"flow\":\"xonxoff\",\"dtr\":false,\"rts\":true,\"cts\":true,"
		    "\"dsr\":false,\"dcd\":true,\"ri\":false,\"tx_bytes\":1099511627776,"
		    "\"rx_bytes\":0,\"dropped\":7}");
}

static void parity_and_flow_names(void **state)
{
	static const char *const parity[] = { "none", "even", "odd", "mark", "space" };
	static const char *const flow[] = { "none", "rtscts", "xonxoff" };
	struct port_state s;

	port_state_init(&s);
	for (int p = 0; p < (int)NELEM(parity); p++) {
		json_t *j;
		s.line.parity = p;
		j = port_state_to_json(&s);
		assert_string_equal(json_string_value(json_object_get(j, "parity")), parity[p]);
		json_decref(j);
	}
	for (int f = 0; f < (int)NELEM(flow); f++) {
		json_t *j;
		s.line.flow = f;
		j = port_state_to_json(&s);
		assert_string_equal(json_string_value(json_object_get(j, "flow")), flow[f]);
		json_decref(j);
	}
}

static void lines_differ(void **state)
{
	struct port_state a, b;

	port_state_init(&a);
	a.open = true;
	a.line = (struct line_settings){ 9600, 8, PARITY_NONE, 1, FLOW_NONE };
	a.dtr = a.rts = 1;
	a.cts = a.dsr = a.dcd = a.ri = 0;

	b = a;
	assert_false(port_state_lines_differ(&a, &b));
	/* the counters move once a second, not as a change */
	b.tx_bytes = 100;
	b.rx_bytes = 5;
	b.dropped = 1;
	assert_false(port_state_lines_differ(&a, &b));
	assert_false(port_state_lines_differ(&b, &a));

#define DIFFERS(stmt) do { b = a; stmt; assert_true(port_state_lines_differ(&a, &b)); \
			   assert_true(port_state_lines_differ(&b, &a)); } while (0)
	DIFFERS(b.open = false);
	DIFFERS(b.line.baud = 19200);
	DIFFERS(b.line.baud = STATE_NULL);
	DIFFERS(b.line.data_bits = 7);
	DIFFERS(b.line.data_bits = STATE_NULL);
	DIFFERS(b.line.parity = PARITY_EVEN);
	DIFFERS(b.line.stop_bits = 2);
	DIFFERS(b.line.flow = FLOW_RTSCTS);
	DIFFERS(b.dtr = 0);
	DIFFERS(b.rts = STATE_NULL);
	DIFFERS(b.cts = 1);
	DIFFERS(b.dsr = STATE_NULL);    /* unknown is not the same as off */
	DIFFERS(b.dcd = 1);
	DIFFERS(b.ri = 1);
#undef DIFFERS
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(exactly_the_contract_keys),
		cmocka_unit_test(init_is_all_null),
		cmocka_unit_test(contract_example),
		cmocka_unit_test(pty_shape_and_every_line),
		cmocka_unit_test(parity_and_flow_names),
		cmocka_unit_test(lines_differ),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
