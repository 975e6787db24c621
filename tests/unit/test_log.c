/* Unit tests for base/log.c: the per-call-site rate limiter of repeated
 * warnings (issue 10 item 6). stderr is redirected into a file and read
 * back. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

static char path[] = "/tmp/mqttty-test-log-XXXXXX";
static int saved = -1;

static int capture(void **state)
{
	int fd = mkstemp(path);

	fflush(stderr);
	saved = dup(STDERR_FILENO);
	dup2(fd, STDERR_FILENO);
	close(fd);
	log_set_level(LOG_DEBUG);
	return 0;
}

static int release(void **state)
{
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	unlink(path);
	return 0;
}

/* Everything written so far (caller frees). */
static char *captured(void)
{
	FILE *f;
	char *buf;
	long n;

	fflush(stderr);
	f = fopen(path, "r");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = calloc(1, (size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return buf;
}

static int count(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

static void one_site(int i)
{
	log_warn("port p1: set ignored: not JSON: %s", i >= 0 ? "'[' or '{' expected" : "");
}

static void test_repeated_warning_suppressed(void **state)
{
	char *out;

	for (int i = 0; i < 400; i++)
		one_site(i);
	for (int i = 0; i < 20; i++)
		log_info("an info line %d", i);             /* never suppressed */
	log_warn("another site");                      /* its own budget */
	log_flush();
	out = captured();
	assert_int_equal(count(out, "warn  port p1: set ignored"), LOG_BURST);
	assert_int_equal(count(out, "an info line"), 20);
	assert_int_equal(count(out, "another site"), 1);
	assert_non_null(strstr(out, "395 similar messages suppressed"));
	/* the summary quotes the line it stands for */
	assert_non_null(strstr(out, "(\"port p1: set ignored: not JSON: "));
	free(out);
	/* flushed: nothing more to say */
	log_flush();
	out = captured();
	assert_int_equal(count(out, "similar messages suppressed"), 1);
	free(out);
}

static void varied_site(int i)
{
	log_error("port p2: set ignored: baud %d is out of range", i);
}

/* Lines that differ (each its own text) are limited per call site too. */
static void test_varied_lines_limited_per_site(void **state)
{
	char *out;

	for (int i = 0; i < 30; i++)
		varied_site(i);
	log_flush();
	out = captured();
	assert_int_equal(count(out, "error port p2: set ignored: baud"), LOG_SITE_BURST);
	assert_non_null(strstr(out, "10 similar messages suppressed"));
	free(out);
}

/* A line break quoted from the network cannot start a line of its own
 * (in the journal: one with a priority of its choosing). */
static void test_line_breaks_in_the_text_stay_on_the_line(void **state)
{
	char *out;

	log_info("fleet: topic %s left out", "a/b\n<3>forged\r\nc");
	log_plain(LOG_ERROR, "mqttty: %s", "x\ny");
	out = captured();
	assert_non_null(strstr(out, "info  fleet: topic a/b <3>forged  c left out\n"));
	assert_non_null(strstr(out, "\nmqttty: x y\n"));
	assert_null(strstr(out, "\n<3>"));
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_repeated_warning_suppressed),
		cmocka_unit_test(test_varied_lines_limited_per_site),
		cmocka_unit_test(test_line_breaks_in_the_text_stay_on_the_line),
	};
	return cmocka_run_group_tests(tests, capture, release);
}
