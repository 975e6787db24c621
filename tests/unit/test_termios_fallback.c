/* Unit tests for ports/termios_io_linux.c on a system without termios2
 * (qemu-user 7.2 answers TCGETS2 with ENOSYS): the classic termios,
 * standard speeds only.
 *
 * This kernel has termios2, so the module's test seam
 * MQTTTY_TEST_NO_TERMIOS2=1 (set in main, before the module's first call)
 * makes its TCGETS2/TCSETS2 answer ENOSYS. The test itself reads and sets
 * the real pseudo-terminal with the real ioctls, as the application would:
 * termios2 where the system has it, else (under qemu-user) the classic
 * TCGETS/TCSETS. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <asm/termbits.h>
#include <asm/ioctls.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "termios_map.h"
#include "pty_fixture.h"
#include "termios2_probe.h"
#include "port_config.h"


/* The slave's settings as the test reads and writes them: termios2, or the
 * classic termios (the speed numbers then stay 0) where there is none. */
static int slave_get(int fd, struct termios2 *t)
{
	struct termios k;

	if (sys_termios2)
		return ioctl(fd, TCGETS2, t);
	if (ioctl(fd, TCGETS, &k) < 0)
		return -1;
	memset(t, 0, sizeof(*t));
	t->c_iflag = k.c_iflag;
	t->c_oflag = k.c_oflag;
	t->c_cflag = k.c_cflag;
	t->c_lflag = k.c_lflag;
	t->c_line = k.c_line;
	memcpy(t->c_cc, k.c_cc, sizeof(k.c_cc));
	return 0;
}

static int slave_put(int fd, const struct termios2 *t)
{
	struct termios k;

	if (sys_termios2)
		return ioctl(fd, TCSETS2, t);
	memset(&k, 0, sizeof(k));
	k.c_iflag = t->c_iflag;
	k.c_oflag = t->c_oflag;
	k.c_cflag = t->c_cflag;
	k.c_lflag = t->c_lflag;
	k.c_line = t->c_line;
	memcpy(k.c_cc, t->c_cc, sizeof(k.c_cc));
	return ioctl(fd, TCSETS, &k);
}

/* What an application under qemu-user does: the classic tcsetattr. */
static void slave_set_classic(int fd, uint32_t code, uint32_t cflag_on)
{
	struct termios k;

	assert_int_equal(ioctl(fd, TCGETS, &k), 0);
	k.c_cflag &= ~(CBAUD | CIBAUD | CSTOPB | CRTSCTS);
	k.c_cflag |= code | cflag_on;
	assert_int_equal(ioctl(fd, TCSETS, &k), 0);
}

static void init_without_termios2(void **state)
{
	struct pty *p = *state;
	struct line_settings l;
	struct termios2 t;

	/* pty_setup's termios_map_pty_init worked through TCSETS */
	assert_false(termios_map_has_termios2());
	assert_int_equal(slave_get(p->slave, &t), 0);
	assert_int_equal(t.c_cflag & CBAUD, B9600);
	assert_true(t.c_lflag & EXTPROC);
	assert_false(t.c_lflag & (ICANON | ECHO | ISIG));
	assert_int_equal(termios_map_read(p->master, true, &l), 0);
	assert_line(&l, 9600, STATE_NULL, STATE_NULL, 1, FLOW_NONE);
}

static void reads_standard_speeds(void **state)
{
	struct pty *p = *state;
	struct line_settings l;
	struct termios2 t;

	slave_set_classic(p->slave, B38400, CSTOPB | CRTSCTS);
	assert_int_equal(termios_map_read(p->master, true, &l), 0);
	assert_line(&l, 38400, STATE_NULL, STATE_NULL, 2, FLOW_RTSCTS);
	slave_set_classic(p->slave, B115200, 0);
	assert_int_equal(termios_map_read(p->master, true, &l), 0);
	assert_line(&l, 115200, STATE_NULL, STATE_NULL, 1, FLOW_NONE);
	slave_set_classic(p->slave, B4000000, 0);
	assert_int_equal(slave_get(p->slave, &t), 0);
	if ((t.c_cflag & CBAUD) != B4000000)
		return;   /* qemu-user 7.2 drops the code (it reads back as B0) */
	assert_int_equal(termios_map_read(p->master, true, &l), 0);
	assert_int_equal(l.baud, 4000000);
}

static void custom_speed_reads_as_unknown(void **state)
{
	struct pty *p = *state;
	struct line_settings l;
	struct termios2 t;

	/* set for real (as a native program could): the number is then not
	 * visible through the classic termios, so it is unknown, never 0 */
	if (!sys_termios2)
		skip();   /* no system here to set it with */
	assert_int_equal(ioctl(p->slave, TCGETS2, &t), 0);
	t.c_cflag = (t.c_cflag & ~CBAUD) | BOTHER;
	t.c_ospeed = t.c_ispeed = 250000;
	assert_int_equal(ioctl(p->slave, TCSETS2, &t), 0);
	assert_int_equal(termios_map_read(p->master, true, &l), 0);
	assert_int_equal(l.baud, STATE_NULL);
}

static void apply_standard_and_refuse_custom(void **state)
{
	struct pty *p = *state;
	struct line_settings in = { 57600, 8, PARITY_NONE, 2, FLOW_NONE }, l;
	struct termios2 t;
	char err[200];

	assert_int_equal(termios_map_apply(p->slave, &in, err, sizeof(err)), 0);
	assert_int_equal(slave_get(p->slave, &t), 0);
	assert_int_equal(t.c_cflag & CBAUD, B57600);
	assert_true(t.c_cflag & CSTOPB);
	assert_false(t.c_lflag & (ICANON | ECHO));
	assert_int_equal(termios_map_read(p->slave, false, &l), 0);
	assert_line(&l, 57600, 8, PARITY_NONE, 2, FLOW_NONE);

	in = (struct line_settings){ 250000, 8, PARITY_NONE, 1, FLOW_NONE };
	err[0] = 0;
	assert_int_equal(termios_map_apply(p->slave, &in, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "250000"));
	assert_non_null(strstr(err, "standard speeds only"));
	/* nothing changed */
	assert_int_equal(slave_get(p->slave, &t), 0);
	assert_int_equal(t.c_cflag & CBAUD, B57600);
	assert_true(t.c_cflag & CSTOPB);
}

static void extproc_restored(void **state)
{
	struct pty *p = *state;
	struct termios2 t;

	assert_int_equal(slave_get(p->slave, &t), 0);
	t.c_lflag &= ~EXTPROC;
	assert_int_equal(slave_put(p->slave, &t), 0);
	assert_int_equal(termios_map_pty_rearm(p->master), 0);
	assert_int_equal(slave_get(p->slave, &t), 0);
	assert_true(t.c_lflag & EXTPROC);
	assert_int_equal(t.c_cflag & CBAUD, B9600);     /* the rest kept */
}

static void not_a_tty(void **state)
{
	assert_not_a_tty_refused();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(init_without_termios2, pty_setup, pty_teardown),
		cmocka_unit_test_setup_teardown(reads_standard_speeds, pty_setup, pty_teardown),
		cmocka_unit_test_setup_teardown(custom_speed_reads_as_unknown, pty_setup,
						pty_teardown),
		cmocka_unit_test_setup_teardown(apply_standard_and_refuse_custom, pty_setup,
						pty_teardown),
		cmocka_unit_test_setup_teardown(extproc_restored, pty_setup, pty_teardown),
		cmocka_unit_test(not_a_tty),
	};

	probe_termios2();
	/* before the module's first call: it reads the seam once */
	setenv("MQTTTY_TEST_NO_TERMIOS2", "1", 1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
