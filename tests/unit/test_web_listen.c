/* Unit tests for web/web_listen.c: which raw request targets lws would
 * rewrite into another path (issue 10 item 6). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "web_listen.h"

static bool ok(const char *line)
{
	return web_target_raw_ok(line, strlen(line));
}

static void test_plain_paths_pass(void **state)
{
	assert_true(ok("GET / HTTP/1.1\r\n"));
	assert_true(ok("GET /api/v1/ports/radio.2m HTTP/1.1\r\nHost: x\r\n\r\n"));
	assert_true(ok("DELETE /api/v1/ports/keep HTTP/1.1\r\n"));
	assert_true(ok("GET /api/v1/ports/keep/ HTTP/1.1\r\n"));      /* the router says 404 */
	assert_true(ok("GET /.well-known/x HTTP/1.1\r\n"));
	assert_true(ok("GET /a..b/c. HTTP/1.1\r\n"));
	assert_true(ok("GET /api/v1/status?x=//../ HTTP/1.1\r\n"));   /* query: not the path */
	assert_true(ok("GET /a%41b HTTP/1.1\r\n"));
	assert_true(ok("GET /api/v1/ports/ke"));                      /* cut short */
	assert_true(ok("\r\nGET /x HTTP/1.1\r\n"));
}

static void test_rewritable_paths_fail(void **state)
{
	assert_false(ok("DELETE /api/v1/ports//keep HTTP/1.1\r\n"));
	assert_false(ok("GET //api/v1/status HTTP/1.1\r\n"));
	assert_false(ok("GET /api/v1/ports/x/../keep HTTP/1.1\r\n"));
	assert_false(ok("GET /api/v1/ports/.. HTTP/1.1\r\n"));
	assert_false(ok("GET /api/v1/./ports HTTP/1.1\r\n"));
	assert_false(ok("GET /api/v1/ports/. HTTP/1.1\r\n"));
	assert_false(ok("GET /api/v1/ports/%2e%2E/keep HTTP/1.1\r\n"));
	assert_false(ok("GET /api/v1/ports/%2E/keep HTTP/1.1\r\n"));
	assert_false(ok("GET /api/v1/ports/a%2Fb HTTP/1.1\r\n"));
	assert_false(ok("GET /api/v1/ports/a%5cb HTTP/1.1\r\n"));
	assert_false(ok("GET /api/v1/ports\\keep HTTP/1.1\r\n"));
	assert_false(ok("GET http://h:1/api//x HTTP/1.1\r\n"));
	assert_false(ok("GET /api/v1/ports//ke"));                    /* cut short */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_paths_pass),
		cmocka_unit_test(test_rewritable_paths_fail),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
