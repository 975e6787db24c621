/* Unit tests for the RFC 2217 addresses: a port's "rfc2217://HOST:PORT"
 * (ports/port_rfc2217.c) and the listener's "ADDR:PORT" with its loopback
 * flag, which decides whether the password rule applies
 * (gateway/rfc2217_srv.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "port_rfc2217.h"
#include "rfc2217_srv.h"

static void urls(void **state)
{
	char host[RFC2217_HOST_MAX + 1], svc[6], err[256];
	static const char *const bad[] = {
		"", "rfc2217://", "rfc2217://host", "rfc2217://host:", "rfc2217://:4001",
		"rfc2217://host:0", "rfc2217://host:65536", "rfc2217://host:40x1",
		"tcp://host:4001", "rfc2217://::1:4001", "rfc2217://[host]:4001",
		"rfc2217://[::1]4001", "rfc2217://a/b:4001", "rfc2217://user@host:4001",
		"rfc2217://:[]:11", "/dev/ttyUSB0",
	};

	assert_int_equal(port_rfc2217_parse_url("rfc2217://127.0.0.1:4001", host, svc, err,
						sizeof(err)), 0);
	assert_string_equal(host, "127.0.0.1");
	assert_string_equal(svc, "4001");
	assert_int_equal(port_rfc2217_parse_url("rfc2217://[fe80::1]:2217", host, svc, err,
						sizeof(err)), 0);
	assert_string_equal(host, "fe80::1");
	assert_string_equal(svc, "2217");
	assert_int_equal(port_rfc2217_parse_url("rfc2217://esp-bridge.lan:23", host, svc, err,
						sizeof(err)), 0);
	assert_string_equal(host, "esp-bridge.lan");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (port_rfc2217_parse_url(bad[i], host, svc, err, sizeof(err)) == 0)
			fail_msg("accepted %s", bad[i]);
		assert_non_null(strstr(err, "rfc2217://HOST:PORT"));
	}
}

static void listener(void **state)
{
	struct sockaddr_storage ss;
	bool lo;
	char err[256];

	assert_int_equal(rfc2217_srv_addr_parse("127.0.0.1:4001", &ss, &lo, err, sizeof(err)), 0);
	assert_true(lo);
	assert_int_equal(ss.ss_family, AF_INET);
	assert_int_equal(rfc2217_srv_addr_parse("127.3.2.1:1", &ss, &lo, err, sizeof(err)), 0);
	assert_true(lo);
	assert_int_equal(rfc2217_srv_addr_parse("localhost:4001", &ss, &lo, err, sizeof(err)), 0);
	assert_true(lo);
	assert_int_equal(rfc2217_srv_addr_parse("[::1]:4001", &ss, &lo, err, sizeof(err)), 0);
	assert_true(lo);
	assert_int_equal(ss.ss_family, AF_INET6);
	/* these need the gateway's password */
	assert_int_equal(rfc2217_srv_addr_parse("0.0.0.0:4001", &ss, &lo, err, sizeof(err)), 0);
	assert_false(lo);
	assert_int_equal(rfc2217_srv_addr_parse("[::]:4001", &ss, &lo, err, sizeof(err)), 0);
	assert_false(lo);
	assert_int_equal(rfc2217_srv_addr_parse("192.168.1.10:4001", &ss, &lo, err, sizeof(err)), 0);
	assert_false(lo);
	assert_int_equal(rfc2217_srv_addr_parse("4001", &ss, &lo, err, sizeof(err)), -1);
	assert_int_equal(rfc2217_srv_addr_parse("host.lan:4001", &ss, &lo, err, sizeof(err)), -1);
	assert_int_equal(rfc2217_srv_addr_parse("127.0.0.1:0", &ss, &lo, err, sizeof(err)), -1);
	assert_int_equal(rfc2217_srv_addr_parse("::1:4001", &ss, &lo, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "ADDR:PORT"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(urls),
		cmocka_unit_test(listener),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
