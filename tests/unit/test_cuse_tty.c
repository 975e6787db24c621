/* Unit tests for ports/cuse_tty.c: the tty ioctls of a cuse port, run as a
 * pure function over plain state (no /dev/cuse needed).
 *
 * Like the module, this file takes its constants from the kernel headers
 * and never includes glibc's <termios.h> or <sys/ioctl.h>. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <asm/termbits.h>
#include <asm/ioctls.h>
#include <asm/termios.h>
#include <linux/serial.h>
#include <errno.h>
#include <string.h>

#include "cuse_tty.h"
#include "termios2_map.h"
#include "port_config.h"

#define LIMIT 64

static int setup(void **state)
{
	static struct cuse_tty t;

	cuse_tty_init(&t, LIMIT, NULL);
	*state = &t;
	return 0;
}

static int teardown(void **state)
{
	cuse_tty_free(*state);
	return 0;
}

/* ioctl with a pointer argument, sized as the table says */
static int io(struct cuse_tty *t, unsigned cmd, const void *in, void *out)
{
	size_t isz, osz, olen;
	int rc;

	assert_int_equal(cuse_tty_ioctl_size(cmd, &isz, &osz), 0);
	rc = cuse_tty_ioctl(t, cmd, 0, in, isz, out, &olen);
	if (rc == 0)
		assert_int_equal(olen, osz);
	return rc;
}

/* ioctl with a value argument */
static int io_val(struct cuse_tty *t, unsigned cmd, unsigned long arg)
{
	size_t olen;

	return cuse_tty_ioctl(t, cmd, arg, NULL, 0, NULL, &olen);
}

static int get_int(struct cuse_tty *t, unsigned cmd)
{
	int v = -1;

	assert_int_equal(io(t, cmd, NULL, &v), 0);
	return v;
}

static void set_int(struct cuse_tty *t, unsigned cmd, int v)
{
	assert_int_equal(io(t, cmd, &v, NULL), 0);
}

static struct line_settings decoded(const struct cuse_tty *t)
{
	struct line_settings l;

	termios2_map_decode(t->tio.c_cflag, t->tio.c_iflag, t->tio.c_ospeed, false, &l);
	return l;
}

/* ---- sizes and the table ------------------------------------------- */

static void sizes(void **state)
{
	size_t in, out;

	assert_int_equal(cuse_tty_ioctl_size(TCGETS, &in, &out), 0);
	assert_int_equal(in, 0);
	assert_int_equal(out, 36);
	assert_int_equal(cuse_tty_ioctl_size(TCSETSW, &in, &out), 0);
	assert_int_equal(in, 36);
	assert_int_equal(cuse_tty_ioctl_size(TCSETSF2, &in, &out), 0);
	assert_int_equal(in, sizeof(struct termios2));
	assert_int_equal(in, 44);
	assert_true((unsigned)TCGETS2 > 0x7fffffffu);   /* why cmd is unsigned */
	assert_int_equal(cuse_tty_ioctl_size(TCGETS2, &in, &out), 0);
	assert_int_equal(out, 44);
	assert_int_equal(cuse_tty_ioctl_size(TIOCMIWAIT, &in, &out), 0);
	assert_int_equal(in + out, 0);
	assert_int_equal(cuse_tty_ioctl_size(TCFLSH, &in, &out), 0);
	assert_int_equal(in + out, 0);
	assert_int_equal(cuse_tty_ioctl_size(TIOCGICOUNT, &in, &out), 0);
	assert_int_equal(out, sizeof(struct serial_icounter_struct));
	assert_int_equal(cuse_tty_ioctl_size(TIOCMBIS, &in, &out), 0);
	assert_int_equal(in, sizeof(int));
}

static void unknown_is_enotty(void **state)
{
	struct cuse_tty *t = *state;
	size_t in, out, olen;
	char buf[64];

	assert_int_equal(cuse_tty_ioctl_size(TIOCGSERIAL, &in, &out), -ENOTTY);
	assert_int_equal(cuse_tty_ioctl(t, TIOCGSERIAL, 0, NULL, 0, buf, &olen), -ENOTTY);
	assert_int_equal(cuse_tty_ioctl(t, TCGETA, 0, NULL, 0, buf, &olen), -ENOTTY);
	assert_int_equal(cuse_tty_ioctl(t, 0xdeadbeefu, 0, NULL, 0, buf, &olen), -ENOTTY);
	assert_int_equal(olen, 0);
	/* a pointer ioctl without its data is refused, not read past */
	assert_int_equal(cuse_tty_ioctl(t, TCSETS, 0, buf, 10, NULL, &olen), -EFAULT);
}

/* ---- termios -------------------------------------------------------- */

static void defaults(void **state)
{
	struct cuse_tty *t = *state;
	struct line_settings l = decoded(t);

	/* a freshly plugged adapter: 9600 8N1, a standard speed code */
	assert_int_equal(t->tio.c_cflag & CBAUD, B9600);
	assert_int_equal(t->tio.c_ospeed, 9600);
	assert_true(t->tio.c_cflag & HUPCL);
	assert_int_equal(t->tio.c_cc[VMIN], 1);
	assert_int_equal(t->tio.c_cc[VTIME], 0);
	assert_int_equal(l.baud, 9600);
	assert_int_equal(l.data_bits, 8);
	assert_int_equal(l.parity, PARITY_NONE);
	assert_int_equal(l.flow, FLOW_NONE);
}

static void tcgets_tcsets_round_trip(void **state)
{
	struct cuse_tty *t = *state;
	uint8_t a[36], b[36];
	struct termios k;   /* the kernel's 36-byte struct */

	assert_int_equal(sizeof(k), 36);
	assert_int_equal(io(t, TCGETS, NULL, a), 0);
	memcpy(&k, a, sizeof(k));
	k.c_cflag = (k.c_cflag & ~(CBAUD | CSIZE)) | B57600 | CS6 | CSTOPB | CRTSCTS;
	k.c_iflag = IGNBRK | IXANY;       /* odd bits are kept as they are */
	k.c_oflag = 0;
	k.c_lflag = 0;
	k.c_line = 3;
	k.c_cc[VMIN] = 7;
	k.c_cc[VTIME] = 9;
	k.c_cc[VEOL2] = 0x42;
	memcpy(a, &k, sizeof(k));
	assert_int_equal(io(t, TCSETS, a, NULL), 0);
	assert_int_equal(io(t, TCGETS, NULL, b), 0);
	assert_memory_equal(a, b, sizeof(a));
	/* the speed fields follow the code, as the kernel fills them */
	assert_int_equal(t->tio.c_ospeed, 57600);
	assert_int_equal(t->tio.c_ispeed, 57600);
	assert_int_equal(decoded(t).stop_bits, 2);
	assert_int_equal(decoded(t).data_bits, 6);
	assert_int_equal(decoded(t).flow, FLOW_RTSCTS);
}

static void tcgets2_bother_250000(void **state)
{
	struct cuse_tty *t = *state;
	struct termios2 k, r;

	assert_int_equal(io(t, TCGETS2, NULL, &k), 0);
	assert_int_equal(k.c_ospeed, 9600);
	/* as pyserial sets a custom speed */
	k.c_cflag = (k.c_cflag & ~CBAUD) | BOTHER;
	k.c_ispeed = k.c_ospeed = 250000;
	assert_int_equal(io(t, TCSETS2, &k, NULL), 0);
	assert_int_equal(io(t, TCGETS2, NULL, &r), 0);
	assert_memory_equal(&k, &r, sizeof(k));
	assert_int_equal(decoded(t).baud, 250000);
	/* TCSETS (v1) with the BOTHER code keeps the number given before */
	{
		uint8_t v1[36];
		assert_int_equal(io(t, TCGETS, NULL, v1), 0);
		assert_int_equal(io(t, TCSETSW, v1, NULL), 0);
		assert_int_equal(decoded(t).baud, 250000);
	}
	/* back to a standard code: the speed follows it */
	r.c_cflag = (r.c_cflag & ~CBAUD) | B115200;
	r.c_ospeed = 1;
	assert_int_equal(io(t, TCSETS2, &r, NULL), 0);
	assert_int_equal(t->tio.c_ospeed, 115200);
	assert_int_equal(decoded(t).baud, 115200);
}

static void decode_4800_7e1(void **state)
{
	struct cuse_tty *t = *state;
	struct termios k;
	struct line_settings l;

	assert_int_equal(io(t, TCGETS, NULL, &k), 0);
	k.c_cflag = (k.c_cflag & ~(CBAUD | CSIZE | PARODD | CSTOPB)) | B4800 | CS7 | PARENB;
	assert_int_equal(io(t, TCSETS, &k, NULL), 0);
	l = decoded(t);
	assert_int_equal(l.baud, 4800);
	assert_int_equal(l.data_bits, 7);
	assert_int_equal(l.parity, PARITY_EVEN);
	assert_int_equal(l.stop_bits, 1);
	/* odd, then mark */
	k.c_cflag |= PARODD;
	assert_int_equal(io(t, TCSETS, &k, NULL), 0);
	assert_int_equal(decoded(t).parity, PARITY_ODD);
	k.c_cflag |= CMSPAR;
	assert_int_equal(io(t, TCSETS, &k, NULL), 0);
	assert_int_equal(decoded(t).parity, PARITY_MARK);
}

static void tcsetsf_flushes_input(void **state)
{
	struct cuse_tty *t = *state;
	struct termios k;

	assert_int_equal(cuse_tty_rx_put(t, (const uint8_t *)"abc", 3), 3);
	assert_int_equal(io(t, TCGETS, NULL, &k), 0);
	assert_int_equal(io(t, TCSETSW, &k, NULL), 0);
	assert_int_equal(get_int(t, FIONREAD), 3);
	assert_int_equal(io(t, TCSETSF, &k, NULL), 0);
	assert_int_equal(get_int(t, FIONREAD), 0);
	assert_int_equal(t->flushed, 3);
}

/* ---- modem lines ---------------------------------------------------- */

static void tiocm_bis_bic_set_get(void **state)
{
	struct cuse_tty *t = *state;
	struct cuse_tty_lines l;

	assert_int_equal(get_int(t, TIOCMGET), 0);
	set_int(t, TIOCMBIS, TIOCM_RTS);
	assert_int_equal(get_int(t, TIOCMGET), TIOCM_RTS);
	set_int(t, TIOCMBIS, TIOCM_DTR);
	assert_int_equal(get_int(t, TIOCMGET), TIOCM_RTS | TIOCM_DTR);
	set_int(t, TIOCMBIC, TIOCM_RTS);
	assert_int_equal(get_int(t, TIOCMGET), TIOCM_DTR);
	/* the application drives DTR and RTS only: CTS stays what set says */
	set_int(t, TIOCMSET, TIOCM_RTS | TIOCM_CTS);
	assert_int_equal(get_int(t, TIOCMGET), TIOCM_RTS);
	assert_true(cuse_tty_set_lines(t, 1, STATE_NULL, 1, STATE_NULL));
	assert_int_equal(get_int(t, TIOCMGET), TIOCM_RTS | TIOCM_CTS | TIOCM_CD);
	set_int(t, TIOCMSET, 0);
	assert_int_equal(get_int(t, TIOCMGET), TIOCM_CTS | TIOCM_CD);
	cuse_tty_lines_get(t, &l);
	assert_false(l.dtr || l.rts || l.dsr || l.ri);
	assert_true(l.cts && l.dcd);
	/* nothing changes: false, and no count */
	assert_false(cuse_tty_set_lines(t, 1, STATE_NULL, STATE_NULL, STATE_NULL));
	assert_int_equal(t->icount.cts, 1);
}

static void icount(void **state)
{
	struct cuse_tty *t = *state;
	struct serial_icounter_struct c;

	cuse_tty_set_lines(t, 1, 1, STATE_NULL, 1);
	cuse_tty_set_lines(t, 0, STATE_NULL, STATE_NULL, STATE_NULL);
	cuse_tty_rx_put(t, (const uint8_t *)"xy", 2);
	assert_int_equal(io(t, TIOCGICOUNT, NULL, &c), 0);
	assert_int_equal(c.cts, 2);
	assert_int_equal(c.dsr, 1);
	assert_int_equal(c.rng, 1);
	assert_int_equal(c.dcd, 0);
	assert_int_equal(c.rx, 2);
}

static void miwait_wakes_matching_mask(void **state)
{
	struct cuse_tty *t = *state;
	struct cuse_tty_icount snap;

	assert_int_equal(io_val(t, TIOCMIWAIT, TIOCM_CTS | TIOCM_DSR), CUSE_TTY_PENDING);
	snap = t->icount;
	assert_false(cuse_tty_miwait_done(t, TIOCM_CTS | TIOCM_DSR, &snap));
	assert_false(cuse_tty_miwait_done(t, TIOCM_RI, &snap));
	/* set {"cts": true} */
	assert_true(cuse_tty_set_lines(t, 1, STATE_NULL, STATE_NULL, STATE_NULL));
	assert_true(cuse_tty_miwait_done(t, TIOCM_CTS | TIOCM_DSR, &snap));
	assert_true(cuse_tty_miwait_done(t, TIOCM_CTS, &snap));
	assert_false(cuse_tty_miwait_done(t, TIOCM_RI, &snap));
	assert_false(cuse_tty_miwait_done(t, TIOCM_CD | TIOCM_DSR, &snap));
	/* a change and back again still counts (the waiter saw an edge) */
	snap = t->icount;
	cuse_tty_set_lines(t, STATE_NULL, STATE_NULL, STATE_NULL, 1);
	cuse_tty_set_lines(t, STATE_NULL, STATE_NULL, STATE_NULL, 0);
	assert_true(cuse_tty_miwait_done(t, TIOCM_RI, &snap));
	assert_false(cuse_tty_miwait_done(t, TIOCM_CTS, &snap));
}

static void open_close_dtr_rts(void **state)
{
	struct cuse_tty *t = *state;
	struct termios k;

	cuse_tty_open(t);      /* as a serial driver: DTR and RTS up */
	assert_int_equal(get_int(t, TIOCMGET), TIOCM_DTR | TIOCM_RTS);
	set_int(t, TIOCMBIC, TIOCM_RTS);
	cuse_tty_open(t);      /* a second open leaves the lines */
	assert_int_equal(get_int(t, TIOCMGET), TIOCM_DTR);
	cuse_tty_close(t);
	assert_int_equal(get_int(t, TIOCMGET), TIOCM_DTR);
	cuse_tty_close(t);     /* last close with HUPCL: down */
	assert_int_equal(get_int(t, TIOCMGET), 0);
	/* without HUPCL they stay */
	cuse_tty_open(t);
	assert_int_equal(io(t, TCGETS, NULL, &k), 0);
	k.c_cflag &= ~HUPCL;
	assert_int_equal(io(t, TCSETS, &k, NULL), 0);
	cuse_tty_close(t);
	assert_int_equal(get_int(t, TIOCMGET), TIOCM_DTR | TIOCM_RTS);
	/* B0 hangs up; leaving it raises DTR (and RTS without CRTSCTS) */
	k.c_cflag = (k.c_cflag & ~CBAUD) | B0;
	assert_int_equal(io(t, TCSETS, &k, NULL), 0);
	assert_int_equal(get_int(t, TIOCMGET), 0);
	k.c_cflag = (k.c_cflag & ~CBAUD) | B9600 | CRTSCTS;
	assert_int_equal(io(t, TCSETS, &k, NULL), 0);
	assert_int_equal(get_int(t, TIOCMGET), TIOCM_DTR);
}

/* ---- an application off the node (the RFC 2217 client) -------------- */

/* cuse_tty_app_set with the settings spelt out (STATE_NULL: not named) */
static void app(struct cuse_tty *t, int64_t baud, int data_bits, int parity, int stop_bits,
		int flow, int dtr, int rts)
{
	struct line_settings l = { baud, data_bits, parity, stop_bits, flow };

	cuse_tty_app_set(t, &l, dtr, rts);
}

#define N STATE_NULL

static void app_set_termios(void **state)
{
	struct cuse_tty *t = *state;
	struct cuse_tty_termios before = t->tio;
	struct line_settings l;

	/* nothing named: nothing changes */
	app(t, N, N, N, N, N, N, N);
	assert_memory_equal(&before, &t->tio, sizeof(before));
	/* a standard speed as its code, the input speed as the output one */
	app(t, 38400, N, N, N, N, N, N);
	assert_int_equal(t->tio.c_cflag & CBAUD, B38400);
	assert_int_equal(t->tio.c_cflag & CIBAUD, 0);
	assert_int_equal(t->tio.c_ospeed, 38400);
	assert_int_equal(t->tio.c_ispeed, 38400);
	/* other speeds: BOTHER both ways with the number */
	app(t, 250000, N, N, N, N, N, N);
	assert_int_equal(t->tio.c_cflag & CBAUD, BOTHER);
	assert_int_equal(t->tio.c_cflag & CIBAUD, BOTHER << IBSHIFT);
	assert_int_equal(t->tio.c_ospeed, 250000);
	assert_int_equal(t->tio.c_ispeed, 250000);
	assert_int_equal(decoded(t).baud, 250000);
	/* framing one field at a time; the speed stays */
	app(t, N, 7, PARITY_EVEN, N, N, N, N);
	l = decoded(t);
	assert_int_equal(l.baud, 250000);
	assert_int_equal(l.data_bits, 7);
	assert_int_equal(l.parity, PARITY_EVEN);
	assert_int_equal(l.stop_bits, 1);
	assert_true(t->tio.c_iflag & INPCK);
	app(t, 9600, N, PARITY_MARK, 2, FLOW_RTSCTS, N, N);
	l = decoded(t);
	assert_int_equal(t->tio.c_cflag & (CBAUD | CIBAUD), B9600);
	assert_int_equal(l.parity, PARITY_MARK);
	assert_int_equal(l.stop_bits, 2);
	assert_int_equal(l.flow, FLOW_RTSCTS);
	app(t, N, 8, PARITY_NONE, 1, FLOW_XONXOFF, N, N);
	l = decoded(t);
	assert_int_equal(l.data_bits, 8);
	assert_int_equal(l.parity, PARITY_NONE);
	assert_false(t->tio.c_iflag & INPCK);
	assert_false(t->tio.c_cflag & CRTSCTS);
	assert_int_equal(l.flow, FLOW_XONXOFF);
	app(t, N, N, N, N, FLOW_NONE, N, N);
	assert_int_equal(decoded(t).flow, FLOW_NONE);
	/* what it does not name is as it was: local modes, c_cc, HUPCL */
	assert_int_equal(t->tio.c_lflag, before.c_lflag);
	assert_memory_equal(t->tio.c_cc, before.c_cc, sizeof(before.c_cc));
	assert_true(t->tio.c_cflag & HUPCL);
}

static void app_set_lines(void **state)
{
	struct cuse_tty *t = *state;
	struct cuse_tty_icount before;
	struct termios k;

	cuse_tty_open(t);      /* the client: one open, DTR and RTS up */
	cuse_tty_set_lines(t, 1, N, N, N);
	before = t->icount;
	app(t, N, N, N, N, N, 0, N);
	assert_int_equal(get_int(t, TIOCMGET), TIOCM_RTS | TIOCM_CTS);
	app(t, N, N, N, N, N, N, 0);
	assert_int_equal(get_int(t, TIOCMGET), TIOCM_CTS);
	app(t, N, N, N, N, N, 1, 0);
	assert_int_equal(get_int(t, TIOCMGET), TIOCM_DTR | TIOCM_CTS);
	/* output lines are not input changes: no TIOCMIWAIT wakes on them */
	assert_memory_equal(&before, &t->icount, sizeof(before));
	/* an application on the node opens too: the lines stay as they are */
	cuse_tty_open(t);
	assert_int_equal(get_int(t, TIOCMGET), TIOCM_DTR | TIOCM_CTS);
	cuse_tty_close(t);
	assert_int_equal(get_int(t, TIOCMGET), TIOCM_DTR | TIOCM_CTS);
	/* the application sets B0: hung up; the client's speed raises them */
	assert_int_equal(io(t, TCGETS, NULL, &k), 0);
	k.c_cflag = (k.c_cflag & ~CBAUD) | B0;
	assert_int_equal(io(t, TCSETS, &k, NULL), 0);
	assert_int_equal(get_int(t, TIOCMGET), TIOCM_CTS);
	app(t, 19200, N, N, N, N, N, N);
	assert_int_equal(get_int(t, TIOCMGET), TIOCM_DTR | TIOCM_RTS | TIOCM_CTS);
	/* the client's close is the last one: HUPCL drops DTR and RTS */
	cuse_tty_close(t);
	assert_int_equal(get_int(t, TIOCMGET), TIOCM_CTS);
}
#undef N

static void exclusive(void **state)
{
	struct cuse_tty *t = *state;

	cuse_tty_open(t);
	assert_false(cuse_tty_open_refused(t, 1000));
	assert_int_equal(io_val(t, TIOCEXCL, 0), 0);
	assert_true(cuse_tty_open_refused(t, 1000));
	assert_false(cuse_tty_open_refused(t, 0));      /* root may */
	assert_int_equal(io_val(t, TIOCNXCL, 0), 0);
	assert_false(cuse_tty_open_refused(t, 1000));
	io_val(t, TIOCEXCL, 0);
	cuse_tty_close(t);     /* cleared with the last close */
	assert_false(t->excl);
}

/* ---- input queue, flush ----------------------------------------------- */

static void fionread_after_rx(void **state)
{
	struct cuse_tty *t = *state;
	const uint8_t *p;
	uint8_t big[LIMIT];

	assert_int_equal(get_int(t, FIONREAD), 0);
	assert_int_equal(cuse_tty_rx_put(t, (const uint8_t *)"hello", 5), 5);
	assert_int_equal(get_int(t, FIONREAD), 5);
	assert_int_equal(cuse_tty_rx_peek(t, &p), 5);
	assert_memory_equal(p, "hello", 5);
	cuse_tty_rx_consume(t, 2);
	assert_int_equal(get_int(t, FIONREAD), 3);
	assert_int_equal(cuse_tty_rx_peek(t, &p), 3);
	assert_memory_equal(p, "llo", 3);
	/* bounded: the rest is refused (the caller counts it dropped) */
	memset(big, 0xAA, sizeof(big));
	assert_int_equal(cuse_tty_rx_put(t, big, sizeof(big)), LIMIT - 3);
	assert_int_equal(get_int(t, FIONREAD), LIMIT);
	assert_int_equal(cuse_tty_rx_put(t, big, 1), 0);
	cuse_tty_rx_consume(t, LIMIT - 1);
	assert_int_equal(cuse_tty_rx_put(t, (const uint8_t *)"z", 1), 1);
	assert_int_equal(cuse_tty_rx_peek(t, &p), 2);
	assert_int_equal(p[0], 0xAA);
	assert_int_equal(p[1], 'z');
	assert_int_equal(get_int(t, TIOCOUTQ), 0);
	t->outq = 17;
	assert_int_equal(get_int(t, TIOCOUTQ), 17);
}

static void tcflsh(void **state)
{
	struct cuse_tty *t = *state;

	cuse_tty_rx_put(t, (const uint8_t *)"12345", 5);
	assert_int_equal(io_val(t, TCFLSH, TCOFLUSH), 0);
	assert_int_equal(t->fx, CUSE_TTY_FX_FLUSH_TX);
	assert_int_equal(get_int(t, FIONREAD), 5);
	t->fx = 0;
	assert_int_equal(io_val(t, TCFLSH, TCIFLUSH), 0);
	assert_int_equal(get_int(t, FIONREAD), 0);
	assert_int_equal(t->flushed, 5);
	assert_int_equal(t->fx, 0);
	cuse_tty_rx_put(t, (const uint8_t *)"12", 2);
	assert_int_equal(io_val(t, TCFLSH, TCIOFLUSH), 0);
	assert_int_equal(get_int(t, FIONREAD), 0);
	assert_int_equal(t->fx, CUSE_TTY_FX_FLUSH_TX);
	assert_int_equal(io_val(t, TCFLSH, 7), -EINVAL);
}

static void tcxonc(void **state)
{
	struct cuse_tty *t = *state;

	assert_int_equal(io_val(t, TCXONC, TCOOFF), 0);
	assert_true(t->tx_stopped);
	assert_int_equal(io_val(t, TCXONC, TCOON), 0);
	assert_false(t->tx_stopped);
	assert_int_equal(io_val(t, TCXONC, TCIOFF), 0);
	assert_int_equal(t->fx, CUSE_TTY_FX_TX_CHAR);
	assert_int_equal(t->tx_char, 023);      /* ^S */
	t->fx = 0;
	assert_int_equal(io_val(t, TCXONC, TCION), 0);
	assert_int_equal(t->tx_char, 021);      /* ^Q */
	assert_int_equal(io_val(t, TCXONC, 9), -EINVAL);
}

/* ---- break, winsize ----------------------------------------------------- */

static void breaks(void **state)
{
	struct cuse_tty *t = *state;

	assert_int_equal(io_val(t, TCSBRK, 1), 0);      /* tcdrain: nothing */
	assert_int_equal(t->fx, 0);
	assert_int_equal(io_val(t, TCSBRK, 0), 0);      /* tcsendbreak(fd, 0) */
	assert_int_equal(t->fx, CUSE_TTY_FX_BREAK);
	assert_int_equal(t->break_ms, 250);
	t->fx = 0;
	assert_int_equal(io_val(t, TCSBRKP, 5), 0);     /* tenths of a second */
	assert_int_equal(t->break_ms, 500);
	assert_int_equal(io_val(t, TCSBRKP, 0), 0);
	assert_int_equal(t->break_ms, 250);
	assert_int_equal(io_val(t, TCSBRKP, 100000), 0);
	assert_int_equal(t->break_ms, 60000);          /* bounded */
	t->fx = 0;
	/* TIOCSBRK ... TIOCCBRK: the measured duration */
	t->now_ms = 1000;
	assert_int_equal(io_val(t, TIOCSBRK, 0), 0);
	assert_int_equal(t->fx, 0);
	t->now_ms = 1100;
	assert_int_equal(io_val(t, TIOCSBRK, 0), 0);    /* already on: start kept */
	t->now_ms = 1300;
	assert_int_equal(io_val(t, TIOCCBRK, 0), 0);
	assert_int_equal(t->fx, CUSE_TTY_FX_BREAK);
	assert_int_equal(t->break_ms, 300);
	t->fx = 0;
	assert_int_equal(io_val(t, TIOCCBRK, 0), 0);    /* not on: no event */
	assert_int_equal(t->fx, 0);
}

static void winsize(void **state)
{
	struct cuse_tty *t = *state;
	struct winsize w = { 1, 1, 1, 1 }, s = { 24, 80, 0, 0 };

	assert_int_equal(io(t, TIOCGWINSZ, NULL, &w), 0);
	assert_int_equal(w.ws_row, 0);
	assert_int_equal(w.ws_col, 0);
	assert_int_equal(io(t, TIOCSWINSZ, &s, NULL), 0);
	assert_int_equal(io(t, TIOCGWINSZ, NULL, &w), 0);
	assert_int_equal(w.ws_row, 24);
	assert_int_equal(w.ws_col, 80);
}

/* ---- VMIN / VTIME --------------------------------------------------- */

static void set_vmin_vtime(struct cuse_tty *t, uint8_t vmin, uint8_t vtime)
{
	struct termios k;

	assert_int_equal(io(t, TCGETS, NULL, &k), 0);
	k.c_cc[VMIN] = vmin;
	k.c_cc[VTIME] = vtime;
	assert_int_equal(io(t, TCSETS, &k, NULL), 0);
}

static enum cuse_tty_read plan(struct cuse_tty *t, size_t size, bool nb, bool expired,
			       enum cuse_tty_timer timer, uint32_t ms)
{
	struct cuse_tty_wait w;
	enum cuse_tty_read r = cuse_tty_read_plan(t, size, nb, expired, &w);

	assert_int_equal(w.timer, timer);
	assert_int_equal(w.timer_ms, ms);
	return r;
}

static void vmin_vtime(void **state)
{
	struct cuse_tty *t = *state;
	const enum cuse_tty_timer NONE = CUSE_TTY_TIMER_NONE;

	/* VMIN 1, VTIME 0 (the default): block for one byte */
	assert_int_equal(plan(t, 10, false, false, NONE, 0), CUSE_TTY_READ_WAIT);
	assert_int_equal(plan(t, 10, true, false, NONE, 0), CUSE_TTY_READ_AGAIN);
	assert_int_equal(plan(t, 0, false, false, NONE, 0), CUSE_TTY_READ_NOW);
	assert_false(cuse_tty_readable(t));
	cuse_tty_rx_put(t, (const uint8_t *)"a", 1);
	assert_int_equal(plan(t, 10, false, false, NONE, 0), CUSE_TTY_READ_NOW);
	assert_int_equal(plan(t, 10, true, false, NONE, 0), CUSE_TTY_READ_NOW);
	assert_true(cuse_tty_readable(t));

	/* VMIN 4, VTIME 0: wait for 4 (or for the whole read if smaller) */
	set_vmin_vtime(t, 4, 0);
	assert_int_equal(plan(t, 10, false, false, NONE, 0), CUSE_TTY_READ_WAIT);
	assert_int_equal(plan(t, 1, false, false, NONE, 0), CUSE_TTY_READ_NOW);
	assert_false(cuse_tty_readable(t));    /* poll agrees with read */
	assert_int_equal(plan(t, 10, true, false, NONE, 0), CUSE_TTY_READ_NOW);
	cuse_tty_rx_put(t, (const uint8_t *)"bcd", 3);
	assert_int_equal(plan(t, 10, false, false, NONE, 0), CUSE_TTY_READ_NOW);
	assert_true(cuse_tty_readable(t));
	cuse_tty_rx_flush(t);

	/* VMIN 0, VTIME 0: never wait */
	set_vmin_vtime(t, 0, 0);
	assert_int_equal(plan(t, 10, false, false, NONE, 0), CUSE_TTY_READ_NOW);

	/* VMIN 0, VTIME 5: one timer from the start of the read, 500 ms */
	set_vmin_vtime(t, 0, 5);
	assert_int_equal(plan(t, 10, false, false, CUSE_TTY_TIMER_TOTAL, 500),
			 CUSE_TTY_READ_WAIT);
	assert_int_equal(plan(t, 10, false, true, NONE, 0), CUSE_TTY_READ_NOW);  /* 0 bytes */
	cuse_tty_rx_put(t, (const uint8_t *)"x", 1);
	assert_int_equal(plan(t, 10, false, false, NONE, 0), CUSE_TTY_READ_NOW);
	cuse_tty_rx_flush(t);

	/* VMIN 3, VTIME 2: no timer before the first byte, then 200 ms
	 * between bytes; 3 bytes answer at once */
	set_vmin_vtime(t, 3, 2);
	assert_int_equal(plan(t, 10, false, false, NONE, 0), CUSE_TTY_READ_WAIT);
	cuse_tty_rx_put(t, (const uint8_t *)"1", 1);
	assert_true(cuse_tty_readable(t));     /* with VTIME, one byte wakes poll */
	assert_int_equal(plan(t, 10, false, false, CUSE_TTY_TIMER_INTERBYTE, 200),
			 CUSE_TTY_READ_WAIT);
	assert_int_equal(plan(t, 10, false, true, NONE, 0), CUSE_TTY_READ_NOW);
	cuse_tty_rx_put(t, (const uint8_t *)"23", 2);
	assert_int_equal(plan(t, 10, false, false, NONE, 0), CUSE_TTY_READ_NOW);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sizes),
		cmocka_unit_test_setup_teardown(unknown_is_enotty, setup, teardown),
		cmocka_unit_test_setup_teardown(defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(tcgets_tcsets_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(tcgets2_bother_250000, setup, teardown),
		cmocka_unit_test_setup_teardown(decode_4800_7e1, setup, teardown),
		cmocka_unit_test_setup_teardown(tcsetsf_flushes_input, setup, teardown),
		cmocka_unit_test_setup_teardown(tiocm_bis_bic_set_get, setup, teardown),
		cmocka_unit_test_setup_teardown(icount, setup, teardown),
		cmocka_unit_test_setup_teardown(miwait_wakes_matching_mask, setup, teardown),
		cmocka_unit_test_setup_teardown(open_close_dtr_rts, setup, teardown),
		cmocka_unit_test_setup_teardown(exclusive, setup, teardown),
		cmocka_unit_test_setup_teardown(app_set_termios, setup, teardown),
		cmocka_unit_test_setup_teardown(app_set_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(fionread_after_rx, setup, teardown),
		cmocka_unit_test_setup_teardown(tcflsh, setup, teardown),
		cmocka_unit_test_setup_teardown(tcxonc, setup, teardown),
		cmocka_unit_test_setup_teardown(breaks, setup, teardown),
		cmocka_unit_test_setup_teardown(winsize, setup, teardown),
		cmocka_unit_test_setup_teardown(vmin_vtime, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
