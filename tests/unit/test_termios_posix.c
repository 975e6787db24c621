/* Unit tests for ports/termios_io_posix.c, the portable build's tty I/O
 * (POSIX termios, standard speeds only), against real pseudo-terminals.
 * Built only in the portable build (-DMQTTTY_PORTABLE=ON, and every build
 * off Linux); test_termios2.c covers the Linux one. On Linux it is built
 * twice: also as test_termios_posix_strict, where the termios files and
 * this one see only what X/Open 7 promises (glibc then hides CRTSCTS,
 * CMSPAR and CBAUD; macOS has no CMSPAR), so the branches for systems
 * without them are built and run too.
 *
 * The application's side is set as an application would: cfsetospeed and
 * tcsetattr on the slave. On Linux there is no TIOCEXT and this build does
 * not set EXTPROC, so the master is not told of those changes (checked
 * below): the pty port reads them itself. The TIOCEXT branches are for the
 * BSDs and macOS and have not been run. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "termios_map.h"
#include "pty_fixture.h"
#include "port_config.h"

/* What an application does: tcsetattr on the slave, a standard speed. */
static void app_set(int fd, speed_t speed, tcflag_t cflag_on, tcflag_t iflag_on)
{
	struct termios t;

	assert_int_equal(tcgetattr(fd, &t), 0);
	t.c_cflag &= ~(tcflag_t)(CSTOPB | CSIZE | PARENB | PARODD);
#ifdef CRTSCTS
	t.c_cflag &= ~(tcflag_t)CRTSCTS;
#endif
	t.c_cflag |= CS8 | cflag_on;
	t.c_iflag &= ~(tcflag_t)(IXON | IXOFF);
	t.c_iflag |= iflag_on;
	assert_int_equal(cfsetispeed(&t, speed), 0);
	assert_int_equal(cfsetospeed(&t, speed), 0);
	assert_int_equal(tcsetattr(fd, TCSANOW, &t), 0);
}

static void init_state(void **state)
{
	struct pty *p = *state;
	struct line_settings l;
	struct termios t;

	/* a fresh adapter: raw 9600 8N1 */
	assert_int_equal(termios_map_read(p->master, true, &l), 0);
	assert_line(&l, 9600, STATE_NULL, STATE_NULL, 1, FLOW_NONE);
	assert_int_equal(tcgetattr(p->slave, &t), 0);
	assert_int_equal(cfgetospeed(&t), B9600);
	assert_int_equal(cfgetispeed(&t), B9600);
	assert_false(t.c_lflag & (ICANON | ECHO | ISIG | IEXTEN));
	assert_false(t.c_oflag & OPOST);
	assert_false(t.c_iflag & (ICRNL | IXON));
	assert_int_equal(t.c_cflag & CSIZE, CS8);
	assert_int_equal(t.c_cc[VMIN], 1);
#if defined(EXTPROC) && !defined(TIOCEXT)
	/* Linux's EXTPROC is not this build's business */
	assert_false(t.c_lflag & EXTPROC);
#endif
	assert_false(termios_map_has_termios2());
}

/* Whether the master has a packet to read within ms. */
static bool master_readable(int master, int ms)
{
	struct pollfd pfd = { .fd = master, .events = POLLIN };

	return poll(&pfd, 1, ms) == 1 && (pfd.revents & POLLIN);
}

static void report_or_read(void **state)
{
	struct pty *p = *state;
	struct line_settings l;
	int one = 1, rc;
#ifdef TIOCEXT
	unsigned char buf[512];
#endif

	assert_int_equal(ioctl(p->master, TIOCPKT, &one), 0);
	rc = termios_map_pty_report(p->master);
#ifdef TIOCEXT
	/* the BSDs, macOS (not run here): one TIOCPKT_IOCTL at once */
	assert_int_equal(rc, 1);
	assert_true(master_readable(p->master, 1000));
	assert_true(read(p->master, buf, sizeof(buf)) > 0);
	assert_true(buf[0] & TIOCPKT_IOCTL);
#else
	assert_int_equal(rc, 0);
#endif

	app_set(p->slave, B38400, CSTOPB, 0);
#ifdef TIOCEXT
	assert_true(master_readable(p->master, 1000));
	assert_true(read(p->master, buf, sizeof(buf)) > 0);
	assert_true(buf[0] & TIOCPKT_IOCTL);
	assert_int_equal(termios_map_pty_rearm(p->master), 0);
#else
	/* Linux without EXTPROC: the master hears nothing of it ... */
	assert_false(master_readable(p->master, 100));
	assert_int_equal(termios_map_pty_rearm(p->master), 0);   /* harmless */
	assert_false(master_readable(p->master, 0));
#endif
	/* ... and reading the settings sees it */
	assert_int_equal(termios_map_read(p->master, true, &l), 0);
	assert_line(&l, 38400, STATE_NULL, STATE_NULL, 2, FLOW_NONE);
}

static void reads_application_settings(void **state)
{
	struct pty *p = *state;
	struct line_settings l;

#ifdef CRTSCTS
	app_set(p->slave, B38400, CSTOPB | CRTSCTS, 0);
	assert_int_equal(termios_map_read(p->master, true, &l), 0);
	assert_line(&l, 38400, STATE_NULL, STATE_NULL, 2, FLOW_RTSCTS);
#endif
#ifdef B115200
	app_set(p->slave, B115200, 0, IXON | IXOFF);
	assert_int_equal(termios_map_read(p->master, true, &l), 0);
	assert_line(&l, 115200, STATE_NULL, STATE_NULL, 1, FLOW_XONXOFF);
#endif
	app_set(p->slave, B1200, CSTOPB, 0);
	assert_int_equal(termios_map_read(p->master, true, &l), 0);
	assert_line(&l, 1200, STATE_NULL, STATE_NULL, 2, FLOW_NONE);
	/* the slave reads the same */
	assert_int_equal(termios_map_read(p->slave, true, &l), 0);
	assert_line(&l, 1200, STATE_NULL, STATE_NULL, 2, FLOW_NONE);
}

static void apply_then_read(void **state)
{
	struct pty *p = *state;
	struct line_settings in = { 57600, 8, PARITY_NONE, 2, FLOW_XONXOFF }, l;
	struct termios t;
	char err[200];

	/* the slave as a device port's tty */
	assert_int_equal(termios_map_apply(p->slave, &in, err, sizeof(err)), 0);
	assert_int_equal(termios_map_read(p->master, true, &l), 0);
	assert_line(&l, 57600, STATE_NULL, STATE_NULL, 2, FLOW_XONXOFF);
	assert_int_equal(termios_map_read(p->slave, false, &l), 0);
	assert_line(&l, 57600, 8, PARITY_NONE, 2, FLOW_XONXOFF);
	assert_int_equal(tcgetattr(p->slave, &t), 0);
	assert_int_equal(cfgetospeed(&t), B57600);
	assert_int_equal(cfgetispeed(&t), B57600);
	/* raw: no translation of the bridged bytes */
	assert_false(t.c_lflag & (ICANON | ECHO | ISIG | IEXTEN));
	assert_false(t.c_iflag & (ICRNL | INLCR | IGNCR | ISTRIP));
	assert_false(t.c_oflag & OPOST);
	assert_true(t.c_cflag & (CREAD | CLOCAL));

	/* unknown speed (never set): 9600 */
	in = (struct line_settings){ STATE_NULL, 8, PARITY_NONE, 1, FLOW_NONE };
	assert_int_equal(termios_map_apply(p->slave, &in, err, sizeof(err)), 0);
	assert_int_equal(termios_map_read(p->slave, false, &l), 0);
	assert_line(&l, 9600, 8, PARITY_NONE, 1, FLOW_NONE);
}

static void refuses_other_speeds(void **state)
{
	struct pty *p = *state;
	struct line_settings in = { 19200, 8, PARITY_NONE, 2, FLOW_NONE };
	struct termios t;
	char err[200];

#ifdef IOSSIOSPEED
	skip();    /* macOS sets them through IOSSIOSPEED instead (not run here) */
#endif
	assert_int_equal(termios_map_apply(p->slave, &in, err, sizeof(err)), 0);
	in = (struct line_settings){ 250000, 8, PARITY_NONE, 1, FLOW_NONE };
	err[0] = 0;
	assert_int_equal(termios_map_apply(p->slave, &in, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "250000 baud is not a standard speed"));
	assert_non_null(strstr(err, "standard speeds only"));
	/* nothing changed */
	assert_int_equal(tcgetattr(p->slave, &t), 0);
	assert_int_equal(cfgetospeed(&t), B19200);
	assert_true(t.c_cflag & CSTOPB);

	in.baud = 31250;     /* MIDI: no code either */
	assert_int_equal(termios_map_apply(p->slave, &in, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "31250"));
}

/* Mark/space parity needs CMSPAR (macOS has none), rtscts CRTSCTS: where
 * the system lacks one they are refused, and nothing changes. */
static void settings_the_system_may_lack(void **state)
{
	struct pty *p = *state;
	struct line_settings in = { 9600, 8, PARITY_MARK, 1, FLOW_NONE };
	struct termios t;
	char err[200];

#ifdef CMSPAR
	/* set (a Linux pty then forces no parity: not read back here) */
	assert_int_equal(termios_map_apply(p->slave, &in, err, sizeof(err)), 0);
#else
	assert_int_equal(termios_map_apply(p->slave, &in, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "mark parity is not available"));
	in.parity = PARITY_SPACE;
	assert_int_equal(termios_map_apply(p->slave, &in, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "space parity is not available"));
#endif
	in = (struct line_settings){ 2400, 8, PARITY_NONE, 1, FLOW_RTSCTS };
#ifdef CRTSCTS
	assert_int_equal(termios_map_apply(p->slave, &in, err, sizeof(err)), 0);
	assert_int_equal(tcgetattr(p->slave, &t), 0);
	assert_true(t.c_cflag & CRTSCTS);
	assert_int_equal(cfgetospeed(&t), B2400);
#else
	assert_int_equal(termios_map_apply(p->slave, &in, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "rtscts flow control is not available"));
	assert_int_equal(tcgetattr(p->slave, &t), 0);
	assert_int_equal(cfgetospeed(&t), B9600);      /* as pty_init left it */
#endif
}

static void not_a_tty(void **state)
{
	assert_not_a_tty_refused();
	assert_false(termios_map_has_termios2());
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(init_state, pty_setup, pty_teardown),
		cmocka_unit_test_setup_teardown(report_or_read, pty_setup, pty_teardown),
		cmocka_unit_test_setup_teardown(reads_application_settings, pty_setup,
						pty_teardown),
		cmocka_unit_test_setup_teardown(apply_then_read, pty_setup, pty_teardown),
		cmocka_unit_test_setup_teardown(refuses_other_speeds, pty_setup, pty_teardown),
		cmocka_unit_test_setup_teardown(settings_the_system_may_lack, pty_setup,
						pty_teardown),
		cmocka_unit_test(not_a_tty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
