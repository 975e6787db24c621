/* Unit tests for ports/termios_map.c: the pure part every build has (the
 * standard speeds and the flag bits), against the system's <termios.h>.
 * Built in the Linux and the portable build; Linux's termios2 fields are
 * test_termios2.c's. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include <termios.h>

#include "termios_map.h"
#include "port_config.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static struct line_settings decode(uint32_t cflag, uint32_t iflag, bool is_pty)
{
	struct line_settings l;

	memset(&l, 0x5A, sizeof(l));     /* every field but baud must be written */
	termios_map_decode_flags(cflag, iflag, is_pty, &l);
	return l;
}

static void assert_flags(const struct line_settings *l, int data_bits, int parity,
			 int stop_bits, int flow)
{
	assert_int_equal(l->data_bits, data_bits);
	assert_int_equal(l->parity, parity);
	assert_int_equal(l->stop_bits, stop_bits);
	assert_int_equal(l->flow, flow);
}

/* ---- speeds ---------------------------------------------------------- */

static void standard_speeds(void **state)
{
	static const struct { speed_t code; int64_t baud; } t[] = {
		{ B50, 50 }, { B75, 75 }, { B110, 110 }, { B134, 134 }, { B300, 300 },
		{ B1200, 1200 }, { B2400, 2400 }, { B9600, 9600 }, { B19200, 19200 },
		{ B38400, 38400 },
#ifdef B57600
		{ B57600, 57600 },
#endif
#ifdef B115200
		{ B115200, 115200 },
#endif
#ifdef B230400
		{ B230400, 230400 },
#endif
#ifdef B921600
		{ B921600, 921600 },
#endif
#ifdef B4000000
		{ B4000000, 4000000 },
#endif
#ifdef B14400
		{ B14400, 14400 },
#endif
	};

	for (size_t i = 0; i < NELEM(t); i++) {
		assert_int_equal(termios_map_code_baud((uint32_t)t[i].code), t[i].baud);
		assert_int_equal(termios_map_speed_code(t[i].baud), (int)t[i].code);
	}
	assert_int_equal(termios_map_code_baud(B0), 0);     /* hang-up */
}

static void speeds_without_a_code(void **state)
{
	static const int64_t none[] = { 250000, 31250, 38401, 100000, 0, -1, 5000000 };

	for (size_t i = 0; i < NELEM(none); i++)
		assert_int_equal(termios_map_speed_code(none[i]), -1);
#ifndef B14400
	assert_int_equal(termios_map_speed_code(14400), -1);
#endif
#if B9600 == 9600
	/* the BSDs, macOS: a speed_t is the number; any the driver took */
	assert_int_equal(termios_map_code_baud(250000), 250000);
#else
	/* Linux: a code it does not know is an unknown speed, never 0 */
	assert_int_equal(termios_map_code_baud(0xFFFF), STATE_NULL);
#ifdef CBAUDEX
	/* BOTHER, as a program that set a speed through termios2 leaves it */
	assert_int_equal(termios_map_code_baud(CBAUDEX), STATE_NULL);
#endif
#endif
}

/* ---- flags ----------------------------------------------------------- */

static void decode_stop_and_flow(void **state)
{
	struct line_settings l;

	l = decode(CS8 | CSTOPB, 0, false);
	assert_flags(&l, 8, PARITY_NONE, 2, FLOW_NONE);
	/* the speed is not the flags' business */
	assert_int_equal(l.baud, (int64_t)0x5A5A5A5A5A5A5A5A);
#ifdef CRTSCTS
	l = decode(CS8 | CRTSCTS, 0, false);
	assert_flags(&l, 8, PARITY_NONE, 1, FLOW_RTSCTS);
#endif
	l = decode(CS8, IXON | IXOFF, false);
	assert_flags(&l, 8, PARITY_NONE, 1, FLOW_XONXOFF);
	/* iflag bits that are not flow control are not flow control */
	l = decode(CS8, ICRNL | IGNBRK | INPCK, false);
	assert_int_equal(l.flow, FLOW_NONE);
}

static void decode_data_bits_and_parity(void **state)
{
	struct line_settings l;

	l = decode(CS7 | PARENB, 0, false);
	assert_flags(&l, 7, PARITY_EVEN, 1, FLOW_NONE);
	l = decode(CS7 | PARENB | PARODD, 0, false);
	assert_flags(&l, 7, PARITY_ODD, 1, FLOW_NONE);
#ifdef CMSPAR
	l = decode(CS8 | PARENB | PARODD | CMSPAR, 0, false);
	assert_flags(&l, 8, PARITY_MARK, 1, FLOW_NONE);
	l = decode(CS8 | PARENB | CMSPAR, 0, false);
	assert_flags(&l, 8, PARITY_SPACE, 1, FLOW_NONE);
	/* PARODD or CMSPAR alone mean nothing without PARENB */
	l = decode(CS8 | PARODD | CMSPAR, 0, false);
	assert_int_equal(l.parity, PARITY_NONE);
#endif
	l = decode(CS5, 0, false);
	assert_int_equal(l.data_bits, 5);
	l = decode(CS6, 0, false);
	assert_int_equal(l.data_bits, 6);
}

static void decode_pty_nulls(void **state)
{
	struct line_settings l = decode(CS7 | PARENB | CSTOPB, IXON, true);

	/* a Linux pty forces 8 data bits and no parity: unknown, not guessed */
	assert_flags(&l, STATE_NULL, STATE_NULL, 2, FLOW_XONXOFF);
}

static void encode_bits(void **state)
{
	struct line_settings in = { 38400, 7, PARITY_EVEN, 2, FLOW_XONXOFF };
	uint32_t cflag = HUPCL | CS5 | PARODD, iflag = ICRNL | IXANY;
	struct termios t;

#ifdef CBAUD
	cflag |= B300;                    /* the speed code lives in c_cflag */
#endif
	termios_map_encode_flags(&in, &cflag, &iflag);
	assert_int_equal(cflag & CSIZE, CS7);
	assert_true(cflag & PARENB);
	assert_false(cflag & PARODD);
	assert_true(cflag & CSTOPB);
	assert_true(cflag & CREAD);
	assert_true(cflag & CLOCAL);
	assert_true(cflag & HUPCL);                 /* unrelated bits are kept */
	assert_true(iflag & ICRNL);
	assert_false(iflag & IXANY);
	assert_int_equal(iflag & (IXON | IXOFF), IXON | IXOFF);
	assert_true(iflag & INPCK);
#ifdef CBAUD
	assert_int_equal(cflag & CBAUD, B300);      /* and so is the speed */
#endif

	/* back to 8N1 without flow control clears them again */
	in = (struct line_settings){ 9600, 8, PARITY_NONE, 1, FLOW_NONE };
	termios_map_encode_flags(&in, &cflag, &iflag);
	assert_int_equal(cflag & CSIZE, CS8);
	assert_false(cflag & (PARENB | PARODD | CSTOPB));
	assert_false(iflag & (INPCK | IXON | IXOFF));
	assert_true(cflag & HUPCL);

#ifdef CRTSCTS
	in.flow = FLOW_RTSCTS;
	termios_map_encode_flags(&in, &cflag, &iflag);
	assert_true(cflag & CRTSCTS);
	assert_false(iflag & (IXON | IXOFF));
	in.flow = FLOW_XONXOFF;
	termios_map_encode_flags(&in, &cflag, &iflag);
	assert_false(cflag & CRTSCTS);
#endif

	/* what a struct termios takes (tcflag_t may be wider than 32 bits) */
	memset(&t, 0, sizeof(t));
	t.c_cflag = cflag;
	assert_int_equal((uint32_t)t.c_cflag, cflag);
}

static void round_trip_all(void **state)
{
	static const int parities[] = { PARITY_NONE, PARITY_EVEN, PARITY_ODD,
#ifdef CMSPAR
					PARITY_MARK, PARITY_SPACE,
#endif
	};
	static const int flows[] = { FLOW_NONE, FLOW_XONXOFF,
#ifdef CRTSCTS
				     FLOW_RTSCTS,
#endif
	};
	size_t n = 0;

	for (int d = 5; d <= 8; d++)
		for (size_t p = 0; p < NELEM(parities); p++)
			for (int s = 1; s <= 2; s++)
				for (size_t f = 0; f < NELEM(flows); f++) {
					struct line_settings in = { 9600, d, parities[p], s, flows[f] };
					struct line_settings out;
					uint32_t cflag = 0, iflag = 0;

					termios_map_encode_flags(&in, &cflag, &iflag);
					out = decode(cflag, iflag, false);
					assert_flags(&out, in.data_bits, in.parity, in.stop_bits,
						     in.flow);
					n++;
				}
	assert_int_equal(n, 4 * NELEM(parities) * 2 * NELEM(flows));
}

static void char_bits(void **state)
{
	static const struct { struct line_settings l; uint32_t bits; } t[] = {
		{ { 9600, 8, PARITY_NONE, 1, FLOW_NONE }, 10 },
		{ { 9600, 7, PARITY_EVEN, 1, FLOW_NONE }, 10 },
		{ { 9600, 8, PARITY_NONE, 2, FLOW_NONE }, 11 },
		{ { 9600, 8, PARITY_ODD, 2, FLOW_NONE }, 12 },
		{ { 9600, 8, PARITY_MARK, 1, FLOW_NONE }, 11 },
		{ { 9600, 5, PARITY_NONE, 1, FLOW_NONE }, 7 },
		{ { 9600, 6, PARITY_SPACE, 2, FLOW_NONE }, 10 },
		/* a pty: unknown data bits and parity count as 8 and none */
		{ { 9600, STATE_NULL, STATE_NULL, 1, FLOW_NONE }, 10 },
		{ { 9600, STATE_NULL, STATE_NULL, 2, FLOW_NONE }, 11 },
	};

	for (size_t i = 0; i < NELEM(t); i++)
		assert_int_equal(termios_map_char_bits(&t[i].l), t[i].bits);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(standard_speeds),
		cmocka_unit_test(speeds_without_a_code),
		cmocka_unit_test(decode_stop_and_flow),
		cmocka_unit_test(decode_data_bits_and_parity),
		cmocka_unit_test(decode_pty_nulls),
		cmocka_unit_test(encode_bits),
		cmocka_unit_test(round_trip_all),
		cmocka_unit_test(char_bits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
