/* Unit tests for gateway/topic.c: PREFIX/ID/PORT/LEAF names (CONTRACT.md §3). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "topic.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

struct parsed {
	int rc;
	char gw[64], port[64], leaf[64];
};

/* Parse with a scratch buffer of exactly the documented size, on the heap
 * so ASan sees any write past it. */
static struct parsed parse(const char *topic, const char *prefix)
{
	struct parsed r = { 0 };
	char *scratch = malloc(strlen(topic) + 1);
	const char *gw = NULL, *port = NULL, *leaf = NULL;

	assert_non_null(scratch);
	r.rc = topic_parse(topic, prefix, scratch, &gw, &port, &leaf);
	if (r.rc == 0) {
		/* the results point into scratch */
		assert_true(gw >= scratch && gw < scratch + strlen(topic) + 1);
		assert_true(leaf >= scratch && leaf < scratch + strlen(topic) + 1);
		strcpy(r.gw, gw);
		strcpy(r.port, port);
		strcpy(r.leaf, leaf);
	}
	free(scratch);
	return r;
}

static void build(void **state)
{
	char buf[TOPIC_MAX];

	assert_int_equal(topic_port(buf, sizeof(buf), "home/shack", "gw1", "radio", "tx"), 23);
	assert_string_equal(buf, "home/shack/gw1/radio/tx");
	assert_int_equal(topic_gateway(buf, sizeof(buf), "home/shack", "gw1", "status"), 21);
	assert_string_equal(buf, "home/shack/gw1/status");
	assert_int_equal(topic_gateway(buf, sizeof(buf), "mqttty", "gw1", "ports"), 16);
	assert_string_equal(buf, "mqttty/gw1/ports");
	assert_int_equal(topic_port(buf, sizeof(buf), "mqttty", "+", "+", "state"), 16);
	assert_string_equal(buf, "mqttty/+/+/state");
}

static void build_too_long(void **state)
{
	char buf[24];

	/* "home/shack/gw1/radio/tx" is 23 bytes + NUL */
	assert_int_equal(topic_port(buf, 24, "home/shack", "gw1", "radio", "tx"), 23);
	assert_int_equal(topic_port(buf, 23, "home/shack", "gw1", "radio", "tx"), -1);
	assert_int_equal(topic_port(buf, 1, "home/shack", "gw1", "radio", "tx"), -1);
	assert_int_equal(topic_gateway(buf, 22, "home/shack", "gw1", "status"), 21);
	assert_int_equal(topic_gateway(buf, 21, "home/shack", "gw1", "status"), -1);
}

static void parse_round_trip(void **state)
{
	char buf[TOPIC_MAX];
	struct parsed r;

	r = parse("home/shack/gw1/radio/rx", "home/shack");
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.gw, "gw1");
	assert_string_equal(r.port, "radio");
	assert_string_equal(r.leaf, "rx");

	r = parse("mqttty/g-w_2/a.b/state", "mqttty");
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.gw, "g-w_2");
	assert_string_equal(r.port, "a.b");
	assert_string_equal(r.leaf, "state");

	assert_true(topic_port(buf, sizeof(buf), "a/b/c", "x", "y", "set") > 0);
	r = parse(buf, "a/b/c");
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.gw, "x");
	assert_string_equal(r.port, "y");
	assert_string_equal(r.leaf, "set");
}

static void parse_rejects(void **state)
{
	static const struct { const char *topic, *prefix; } bad[] = {
		/* wrong prefix */
		{ "home/shed/gw1/radio/rx", "home/shack" },
		{ "home/shackX/gw1/radio/rx", "home/shack" },
		{ "home/gw1/radio/rx", "home/shack" },
		{ "mqttty/gw1/radio/rx", "home/shack" },
		{ "shack/gw1/radio/rx", "home/shack" },
		/* too few levels */
		{ "home/shack", "home/shack" },
		{ "home/shack/", "home/shack" },
		{ "home/shack/gw1", "home/shack" },
		{ "home/shack/gw1/status", "home/shack" },
		/* too many */
		{ "home/shack/gw1/radio/rx/x", "home/shack" },
		{ "home/shack/gw1/radio/rx/", "home/shack" },
		/* empty levels */
		{ "home/shack//radio/rx", "home/shack" },
		{ "home/shack/gw1//rx", "home/shack" },
		{ "home/shack/gw1/radio/", "home/shack" },
		{ "home/shack///", "home/shack" },
		{ "", "home/shack" },
	};

	for (size_t i = 0; i < NELEM(bad); i++) {
		struct parsed r = parse(bad[i].topic, bad[i].prefix);
		if (r.rc != -1)
			fail_msg("\"%s\" under prefix \"%s\" parsed as %s|%s|%s", bad[i].topic,
				 bad[i].prefix, r.gw, r.port, r.leaf);
	}
}

static void prefix_check(void **state)
{
	char p256[257], p257[258], err[256];
	const char *ok[] = { "mqttty", "home/shack", "a/b/c", "a b", "x-y_z.1", p256 };
	const char *bad[] = { "+", "#", "a/+/b", "a/#", "home+", "a//b", "/a", "a/",
			      "/", "", p257 };

	memset(p256, 'p', 256);
	p256[256] = '\0';
	memset(p257, 'p', 257);
	p257[257] = '\0';
	for (size_t i = 0; i < NELEM(ok); i++)
		if (topic_prefix_check(ok[i], err, sizeof(err)) != 0)
			fail_msg("prefix \"%s\" rejected: %s", ok[i], err);
	for (size_t i = 0; i < NELEM(bad); i++) {
		err[0] = '\0';
		if (topic_prefix_check(bad[i], err, sizeof(err)) != -1)
			fail_msg("prefix \"%.40s\" accepted", bad[i]);
		assert_non_null(strstr(err, "prefix"));
	}
}

static void match_filters(void **state)
{
	assert_true(topic_match("a/b", "a/b"));
	assert_false(topic_match("a/b", "a/bc"));
	assert_false(topic_match("a/bc", "a/b"));
	assert_true(topic_match("a/+/c", "a/x/c"));
	assert_true(topic_match("a/+/c", "a//c"));
	assert_false(topic_match("a/+/c", "a/x/y/c"));
	assert_true(topic_match("a/#", "a/x/y/c"));
	assert_true(topic_match("a/#", "a"));
	assert_true(topic_match("#", "a/b"));
	assert_true(topic_match("+/+", "a/b"));
	assert_false(topic_match("+/+", "a/b/c"));
	assert_false(topic_match("+", "a/b"));
	assert_true(topic_match("mqttty/+/status", "mqttty/gw1/status"));
	assert_false(topic_match("mqttty/+/status", "mqttty/gw1/p/status"));
	assert_true(topic_match("mqttty/+/+/state", "mqttty/gw1/p/state"));
	assert_false(topic_match("#", "$SYS/x"));
	assert_true(topic_match("$SYS/#", "$SYS/x"));
	assert_false(topic_match("a/b/c", "a/b"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(match_filters),
		cmocka_unit_test(build),
		cmocka_unit_test(build_too_long),
		cmocka_unit_test(parse_round_trip),
		cmocka_unit_test(parse_rejects),
		cmocka_unit_test(prefix_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
