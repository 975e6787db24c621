/* Unit tests for Linux's termios2: the pure termios2 fields ⇄ line settings
 * mapping (ports/termios2_map.c), and the termios2 I/O
 * (ports/termios_io_linux.c) against a real pseudo-terminal. Not in the
 * portable build (test_termios_posix.c there).
 *
 * The flag constants come from the kernel's <asm/termbits.h>, like the
 * modules; glibc's <termios.h> must not be included (they clash), so the
 * slave is configured here with raw TCGETS2/TCSETS2 ioctls. */
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
#include "termios2_map.h"
#include "port_config.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static struct line_settings decode(uint32_t cflag, uint32_t iflag, uint32_t ospeed,
				   bool is_pty)
{
	struct line_settings l;

	memset(&l, 0x5A, sizeof(l));     /* every field must be written */
	termios2_map_decode(cflag, iflag, ospeed, is_pty, &l);
	return l;
}

/* ---- decode ---------------------------------------------------------- */

static void decode_standard_speeds(void **state)
{
	static const struct { uint32_t code; int64_t baud; } t[] = {
		{ B50, 50 }, { B300, 300 }, { B1200, 1200 }, { B9600, 9600 },
		{ B19200, 19200 }, { B38400, 38400 }, { B57600, 57600 },
		{ B115200, 115200 }, { B230400, 230400 }, { B921600, 921600 },
		{ B4000000, 4000000 }, { B0, 0 },
	};

	for (size_t i = 0; i < NELEM(t); i++) {
		/* a stale c_ospeed is ignored unless the code is BOTHER */
		struct line_settings l = decode(t[i].code | CS8 | CREAD, 0, 12345, false);
		assert_line(&l, t[i].baud, 8, PARITY_NONE, 1, FLOW_NONE);
	}
}

static void decode_bother(void **state)
{
	struct line_settings l = decode(BOTHER | CS8, 0, 250000, false);

	assert_int_equal(l.baud, 250000);
	l = decode(BOTHER | CS8, 0, 31250, false);
	assert_int_equal(l.baud, 31250);
	l = decode(BOTHER | CS8, 0, 38400, false);   /* a standard rate as BOTHER */
	assert_int_equal(l.baud, 38400);
}

static void decode_stop_and_flow(void **state)
{
	struct line_settings l;

	l = decode(B9600 | CS8 | CSTOPB, 0, 0, false);
	assert_line(&l, 9600, 8, PARITY_NONE, 2, FLOW_NONE);
	l = decode(B9600 | CS8 | CRTSCTS, 0, 0, false);
	assert_line(&l, 9600, 8, PARITY_NONE, 1, FLOW_RTSCTS);
	l = decode(B9600 | CS8, IXON | IXOFF, 0, false);
	assert_line(&l, 9600, 8, PARITY_NONE, 1, FLOW_XONXOFF);
	/* iflag bits that are not flow control are not flow control */
	l = decode(B9600 | CS8, ICRNL | IGNBRK | INPCK, 0, false);
	assert_int_equal(l.flow, FLOW_NONE);
}

static void decode_data_bits_and_parity(void **state)
{
	struct line_settings l;

	l = decode(B9600 | CS7 | PARENB, 0, 0, false);
	assert_line(&l, 9600, 7, PARITY_EVEN, 1, FLOW_NONE);
	l = decode(B9600 | CS7 | PARENB | PARODD, 0, 0, false);
	assert_line(&l, 9600, 7, PARITY_ODD, 1, FLOW_NONE);
	l = decode(B9600 | CS8 | PARENB | PARODD | CMSPAR, 0, 0, false);
	assert_line(&l, 9600, 8, PARITY_MARK, 1, FLOW_NONE);
	l = decode(B9600 | CS8 | PARENB | CMSPAR, 0, 0, false);
	assert_line(&l, 9600, 8, PARITY_SPACE, 1, FLOW_NONE);
	/* PARODD or CMSPAR alone mean nothing without PARENB */
	l = decode(B9600 | CS8 | PARODD | CMSPAR, 0, 0, false);
	assert_int_equal(l.parity, PARITY_NONE);
	l = decode(B9600 | CS5, 0, 0, false);
	assert_int_equal(l.data_bits, 5);
	l = decode(B9600 | CS6, 0, 0, false);
	assert_int_equal(l.data_bits, 6);
}

static void decode_pty_nulls(void **state)
{
	struct line_settings l = decode(B38400 | CS7 | PARENB | CSTOPB | CRTSCTS, 0, 0, true);

	/* a Linux pty forces 8 data bits and no parity: unknown, not guessed */
	assert_line(&l, 38400, STATE_NULL, STATE_NULL, 2, FLOW_RTSCTS);
	l = decode(BOTHER | CS8, IXON | IXOFF, 250000, true);
	assert_line(&l, 250000, STATE_NULL, STATE_NULL, 1, FLOW_XONXOFF);
}

/* ---- encode ---------------------------------------------------------- */

static void encode_bits(void **state)
{
	struct line_settings in = { 38400, 7, PARITY_EVEN, 2, FLOW_RTSCTS };
	uint32_t cflag = HUPCL | CS5 | PARODD | CMSPAR | B300 | (B300 << IBSHIFT);
	uint32_t iflag = ICRNL | IXON | IXOFF | IXANY;
	uint32_t ispeed = 1, ospeed = 1;

	termios2_map_encode(&in, &cflag, &iflag, &ispeed, &ospeed);
	/* a standard speed travels as its code, in both directions */
	assert_int_equal(cflag & CBAUD, B38400);
	assert_int_equal((cflag >> IBSHIFT) & CBAUD, B38400);
	assert_int_equal(ospeed, 38400);
	assert_int_equal(ispeed, 38400);
	assert_int_equal(cflag & CSIZE, CS7);
	assert_true(cflag & PARENB);
	assert_false(cflag & PARODD);
	assert_false(cflag & CMSPAR);
	assert_true(cflag & CSTOPB);
	assert_true(cflag & CRTSCTS);
	assert_true(cflag & CREAD);
	assert_true(cflag & CLOCAL);
	assert_true(cflag & HUPCL);                 /* unrelated bits are kept */
	assert_true(iflag & ICRNL);
	assert_false(iflag & (IXON | IXOFF | IXANY));
	assert_true(iflag & INPCK);

	/* and back to 8N1 without flow control clears them again */
	in = (struct line_settings){ 31250, 8, PARITY_NONE, 1, FLOW_NONE };
	termios2_map_encode(&in, &cflag, &iflag, &ispeed, &ospeed);
	/* one without a code as BOTHER and the exact number */
	assert_int_equal(cflag & CBAUD, BOTHER);
	assert_int_equal((cflag >> IBSHIFT) & CBAUD, BOTHER);
	assert_int_equal(ospeed, 31250);
	assert_int_equal(ispeed, 31250);
	assert_int_equal(cflag & CSIZE, CS8);
	assert_false(cflag & (PARENB | PARODD | CMSPAR | CSTOPB | CRTSCTS));
	assert_false(iflag & (INPCK | IXON | IXOFF));
	assert_true(cflag & HUPCL);
	assert_true(iflag & ICRNL);

	in.flow = FLOW_XONXOFF;
	termios2_map_encode(&in, &cflag, &iflag, &ispeed, &ospeed);
	assert_int_equal(iflag & (IXON | IXOFF), IXON | IXOFF);
	assert_false(cflag & CRTSCTS);
}

static void encode_speed_codes(void **state)
{
	static const struct { int64_t baud; int code; } t[] = {
		{ 50, B50 }, { 110, B110 }, { 134, B134 }, { 300, B300 }, { 1200, B1200 },
		{ 9600, B9600 }, { 19200, B19200 }, { 38400, B38400 }, { 57600, B57600 },
		{ 115200, B115200 }, { 230400, B230400 }, { 460800, B460800 },
		{ 500000, B500000 }, { 921600, B921600 }, { 1000000, B1000000 },
		{ 4000000, B4000000 },
		/* no code: BOTHER */
		{ 250000, -1 }, { 31250, -1 }, { 38401, -1 }, { 100000, -1 }, { 14400, -1 },
		{ 0, -1 }, { -1, -1 }, { 5000000, -1 },
	};

	for (size_t i = 0; i < NELEM(t); i++) {
		struct line_settings in = { t[i].baud, 8, PARITY_NONE, 1, FLOW_NONE };
		uint32_t cflag = B300 | (B300 << IBSHIFT), iflag = 0, isp = 0, osp = 0;
		uint32_t want = t[i].code >= 0 ? (uint32_t)t[i].code : BOTHER;

		assert_int_equal(termios2_map_speed_code(t[i].baud), t[i].code);
		if (t[i].baud <= 0)
			continue;       /* encoded as 9600 below */
		termios2_map_encode(&in, &cflag, &iflag, &isp, &osp);
		assert_int_equal(cflag & CBAUD, want);
		assert_int_equal((cflag >> IBSHIFT) & CBAUD, want);
		assert_int_equal(osp, (uint32_t)t[i].baud);
		assert_int_equal(isp, (uint32_t)t[i].baud);
	}
}

static void decode_bother_unknown_number(void **state)
{
	/* the classic termios has no number for BOTHER: unknown, not 0 */
	struct line_settings l = decode(BOTHER | CS8, 0, 0, false);

	assert_int_equal(l.baud, STATE_NULL);
}

static void encode_unknown_baud_is_9600(void **state)
{
	struct line_settings in = { STATE_NULL, 8, PARITY_NONE, 1, FLOW_NONE };
	uint32_t cflag = 0, iflag = 0, ispeed = 0, ospeed = 0;

	termios2_map_encode(&in, &cflag, &iflag, &ispeed, &ospeed);
	assert_int_equal(ospeed, 9600);
	assert_int_equal(ispeed, 9600);
	assert_int_equal(cflag & CBAUD, B9600);
}

static void round_trip_all(void **state)
{
	static const int64_t bauds[] = { 50, 300, 1200, 9600, 31250, 38400, 115200,
					 250000, 1000000, 4000000 };
	static const int parities[] = { PARITY_NONE, PARITY_EVEN, PARITY_ODD,
					PARITY_MARK, PARITY_SPACE };
	static const int flows[] = { FLOW_NONE, FLOW_RTSCTS, FLOW_XONXOFF };
	size_t n = 0;

	for (size_t b = 0; b < NELEM(bauds); b++)
		for (int d = 5; d <= 8; d++)
			for (size_t p = 0; p < NELEM(parities); p++)
				for (int s = 1; s <= 2; s++)
					for (size_t f = 0; f < NELEM(flows); f++) {
						struct line_settings in = { bauds[b], d, parities[p], s, flows[f] };
						struct line_settings out;
						uint32_t cflag = 0, iflag = 0, isp = 0, osp = 0;

						termios2_map_encode(&in, &cflag, &iflag, &isp, &osp);
						out = decode(cflag, iflag, osp, false);
						assert_line(&out, in.baud, in.data_bits, in.parity,
							    in.stop_bits, in.flow);
						n++;
					}
	assert_int_equal(n, 10 * 4 * 5 * 2 * 3);
}

/* ---- a real pseudo-terminal ------------------------------------------ */

/* The tests below set the slave with termios2; without it (qemu-user 7.2
 * answers ENOSYS; sys_termios2, termios2_probe.h) they are skipped, and
 * test_termios_fallback covers that case. */

/* What an application does: change the slave's settings. */
static void slave_set(int fd, uint32_t code, uint32_t speed, uint32_t cflag_on,
		      uint32_t iflag_on)
{
	struct termios2 t;

	assert_int_equal(ioctl(fd, TCGETS2, &t), 0);
	t.c_cflag &= ~(CBAUD | CIBAUD | CSTOPB | CRTSCTS | CSIZE | PARENB | PARODD);
	t.c_cflag |= code | CS8 | cflag_on;
	t.c_iflag &= ~(IXON | IXOFF);
	t.c_iflag |= iflag_on;
	t.c_ispeed = t.c_ospeed = speed;
	assert_int_equal(ioctl(fd, TCSETS2, &t), 0);
}

static void pty_init_state(void **state)
{
	struct pty *p = *state;
	struct line_settings l;
	struct termios2 t;

	if (!sys_termios2)
		skip();

	/* a fresh adapter: raw 9600 8N1, EXTPROC so tcsetattr reaches us */
	assert_int_equal(termios_map_read(p->master, true, &l), 0);
	assert_line(&l, 9600, STATE_NULL, STATE_NULL, 1, FLOW_NONE);
	assert_int_equal(ioctl(p->slave, TCGETS2, &t), 0);
	assert_true(t.c_lflag & EXTPROC);
	assert_false(t.c_lflag & (ICANON | ECHO | ISIG));
	assert_false(t.c_oflag & OPOST);
	assert_int_equal(t.c_cflag & CSIZE, CS8);
}

static void pty_reads_application_settings(void **state)
{
	struct pty *p = *state;
	struct line_settings l;

	if (!sys_termios2)
		skip();

	slave_set(p->slave, B38400, 38400, CSTOPB | CRTSCTS, 0);
	assert_int_equal(termios_map_read(p->master, true, &l), 0);
	assert_line(&l, 38400, STATE_NULL, STATE_NULL, 2, FLOW_RTSCTS);

	slave_set(p->slave, BOTHER, 250000, 0, IXON | IXOFF);
	assert_int_equal(termios_map_read(p->master, true, &l), 0);
	assert_line(&l, 250000, STATE_NULL, STATE_NULL, 1, FLOW_XONXOFF);

	slave_set(p->slave, BOTHER, 31250, CSTOPB, 0);
	assert_int_equal(termios_map_read(p->master, true, &l), 0);
	assert_line(&l, 31250, STATE_NULL, STATE_NULL, 2, FLOW_NONE);
}

static void pty_apply_then_read(void **state)
{
	struct pty *p = *state;
	struct line_settings in = { 115200, 8, PARITY_NONE, 2, FLOW_RTSCTS }, l;
	struct termios2 t;
	char err[160];

	if (!sys_termios2)
		skip();

	assert_int_equal(termios_map_apply(p->slave, &in, err, sizeof(err)), 0);
	assert_int_equal(termios_map_read(p->master, true, &l), 0);
	assert_line(&l, 115200, STATE_NULL, STATE_NULL, 2, FLOW_RTSCTS);
	/* read as a device (is_pty false): the forced 8N shows through */
	assert_int_equal(termios_map_read(p->slave, false, &l), 0);
	assert_line(&l, 115200, 8, PARITY_NONE, 2, FLOW_RTSCTS);
	/* as its code, as stty shows it */
	assert_int_equal(ioctl(p->slave, TCGETS2, &t), 0);
	assert_int_equal(t.c_cflag & CBAUD, B115200);

	/* a speed without a code: BOTHER and the number */
	in.baud = 250000;
	assert_int_equal(termios_map_apply(p->slave, &in, err, sizeof(err)), 0);
	assert_int_equal(ioctl(p->slave, TCGETS2, &t), 0);
	assert_int_equal(t.c_cflag & CBAUD, BOTHER);
	assert_int_equal(t.c_ospeed, 250000);
	assert_int_equal(termios_map_read(p->master, true, &l), 0);
	assert_int_equal(l.baud, 250000);
	assert_true(termios_map_has_termios2());
}

static void pty_extproc_restored(void **state)
{
	struct pty *p = *state;
	struct termios2 t;

	if (!sys_termios2)
		skip();

	assert_int_equal(ioctl(p->slave, TCGETS2, &t), 0);
	t.c_lflag &= ~EXTPROC;
	assert_int_equal(ioctl(p->slave, TCSETS2, &t), 0);
	assert_int_equal(ioctl(p->master, TCGETS2, &t), 0);
	assert_false(t.c_lflag & EXTPROC);
	assert_int_equal(termios_map_pty_rearm(p->master), 0);
	assert_int_equal(ioctl(p->slave, TCGETS2, &t), 0);
	assert_true(t.c_lflag & EXTPROC);
	assert_int_equal(termios_map_pty_rearm(p->master), 0);   /* already set */
	assert_int_equal(termios_map_pty_report(p->master), 1);
}

static void not_a_tty(void **state)
{
	assert_not_a_tty_refused();
	/* a file that is no tty says nothing about the system's termios2 */
	assert_int_equal(termios_map_has_termios2(), sys_termios2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(decode_standard_speeds),
		cmocka_unit_test(decode_bother),
		cmocka_unit_test(decode_stop_and_flow),
		cmocka_unit_test(decode_data_bits_and_parity),
		cmocka_unit_test(decode_pty_nulls),
		cmocka_unit_test(encode_bits),
		cmocka_unit_test(encode_speed_codes),
		cmocka_unit_test(decode_bother_unknown_number),
		cmocka_unit_test(encode_unknown_baud_is_9600),
		cmocka_unit_test(round_trip_all),
		cmocka_unit_test_setup_teardown(pty_init_state, pty_setup, pty_teardown),
		cmocka_unit_test_setup_teardown(pty_reads_application_settings,
						pty_setup, pty_teardown),
		cmocka_unit_test_setup_teardown(pty_apply_then_read, pty_setup, pty_teardown),
		cmocka_unit_test_setup_teardown(pty_extproc_restored, pty_setup, pty_teardown),
		cmocka_unit_test(not_a_tty),
	};

	probe_termios2();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
