/* pty_fixture.h — a real pseudo-terminal for the termios unit tests, set up
 * as the pty port sets its master up (termios_map_pty_init), with the slave
 * opened as an application opens it; and a check of decoded line settings.
 * Include after <cmocka.h>. */
#ifndef MQTTTY_TEST_PTY_FIXTURE_H
#define MQTTTY_TEST_PTY_FIXTURE_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>

#include "port_config.h"
#include "port_state.h"
#include "termios_map.h"

struct pty {
	int master, slave;
};

static inline int pty_setup(void **state)
{
	struct pty *p = calloc(1, sizeof(*p));
	const char *name;

	if (!p)
		return -1;
	p->slave = -1;
	p->master = posix_openpt(O_RDWR | O_NOCTTY);
	if (p->master < 0 || grantpt(p->master) < 0 || unlockpt(p->master) < 0)
		goto fail;
	if (termios_map_pty_init(p->master) < 0)
		goto fail;
	name = ptsname(p->master);
	if (!name || (p->slave = open(name, O_RDWR | O_NOCTTY)) < 0)
		goto fail;
	*state = p;
	return 0;
fail:
	if (p->master >= 0)
		close(p->master);
	free(p);
	return -1;
}

static inline int pty_teardown(void **state)
{
	struct pty *p = *state;

	close(p->slave);
	close(p->master);
	free(p);
	return 0;
}

static inline void assert_line(const struct line_settings *l, int64_t baud, int data_bits,
			       int parity, int stop_bits, int flow)
{
	assert_int_equal(l->baud, baud);
	assert_int_equal(l->data_bits, data_bits);
	assert_int_equal(l->parity, parity);
	assert_int_equal(l->stop_bits, stop_bits);
	assert_int_equal(l->flow, flow);
}

/* What is no tty is refused as such: a pipe with ENOTTY (and that text),
 * a closed descriptor with EBADF. */
static inline void assert_not_a_tty_refused(void)
{
	int fds[2];
	struct line_settings l = { 9600, 8, PARITY_NONE, 1, FLOW_NONE };
	char err[160];

	assert_int_equal(pipe(fds), 0);
	assert_int_equal(termios_map_read(fds[0], false, &l), -ENOTTY);
	assert_int_equal(termios_map_apply(fds[0], &l, err, sizeof(err)), -ENOTTY);
	assert_string_equal(err, strerror(ENOTTY));
	assert_int_equal(termios_map_pty_init(fds[0]), -ENOTTY);
	close(fds[0]);
	close(fds[1]);
	assert_int_equal(termios_map_read(fds[0], false, &l), -EBADF);
}

#endif
