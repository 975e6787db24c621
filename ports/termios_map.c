/* termios_map — with cuse_tty.c, the only files that see the kernel's
 * termios2.
 *
 * A speed with a standard code (B38400) is set with that code, as stty and
 * glibc's cfgetospeed expect; BOTHER and the exact number (termios2) only
 * for other speeds. Where the system has no termios2 (qemu-user 7.2 answers
 * TCGETS2 with ENOSYS; some sandboxes ENOTTY or EINVAL) the classic termios
 * is used instead: standard speeds only. */
#include <asm/termbits.h>
#include <asm/ioctls.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "termios_map.h"
#include "port_config.h"
#include "log.h"

static const struct { uint32_t code; uint32_t baud; } speeds[] = {
	{ B50, 50 }, { B75, 75 }, { B110, 110 }, { B134, 134 }, { B150, 150 },
	{ B200, 200 }, { B300, 300 }, { B600, 600 }, { B1200, 1200 },
	{ B1800, 1800 }, { B2400, 2400 }, { B4800, 4800 }, { B9600, 9600 },
	{ B19200, 19200 }, { B38400, 38400 }, { B57600, 57600 },
	{ B115200, 115200 }, { B230400, 230400 }, { B460800, 460800 },
	{ B500000, 500000 }, { B576000, 576000 }, { B921600, 921600 },
	{ B1000000, 1000000 }, { B1152000, 1152000 }, { B1500000, 1500000 },
	{ B2000000, 2000000 }, { B2500000, 2500000 }, { B3000000, 3000000 },
	{ B3500000, 3500000 }, { B4000000, 4000000 },
};

void termios_map_decode(uint32_t cflag, uint32_t iflag, uint32_t ospeed,
			bool is_pty, struct line_settings *out)
{
	uint32_t code = cflag & CBAUD;

	out->baud = STATE_NULL;
	if (code == BOTHER) {
		/* 0: the number is unknown (classic termios has no field for it) */
		out->baud = ospeed ? (int64_t)ospeed : STATE_NULL;
	} else {
		for (size_t i = 0; i < sizeof(speeds) / sizeof(speeds[0]); i++)
			if (speeds[i].code == code)
				out->baud = speeds[i].baud;
		if (code == B0)
			out->baud = 0;  /* hang-up speed */
	}
	out->stop_bits = (cflag & CSTOPB) ? 2 : 1;
	if (cflag & CRTSCTS)
		out->flow = FLOW_RTSCTS;
	else if (iflag & (IXON | IXOFF))
		out->flow = FLOW_XONXOFF;
	else
		out->flow = FLOW_NONE;
	if (is_pty) {
		out->data_bits = STATE_NULL;
		out->parity = STATE_NULL;
		return;
	}
	switch (cflag & CSIZE) {
	case CS5: out->data_bits = 5; break;
	case CS6: out->data_bits = 6; break;
	case CS7: out->data_bits = 7; break;
	default: out->data_bits = 8; break;
	}
	if (!(cflag & PARENB))
		out->parity = PARITY_NONE;
	else if (cflag & CMSPAR)
		out->parity = (cflag & PARODD) ? PARITY_MARK : PARITY_SPACE;
	else
		out->parity = (cflag & PARODD) ? PARITY_ODD : PARITY_EVEN;
}

int termios_map_speed_code(int64_t baud)
{
	for (size_t i = 0; i < sizeof(speeds) / sizeof(speeds[0]); i++)
		if (speeds[i].baud == baud)
			return (int)speeds[i].code;
	return -1;
}

/* Bits/s of a standard code; 0 for B0, BOTHER and unknown codes. */
static uint32_t code_speed(uint32_t code)
{
	for (size_t i = 0; i < sizeof(speeds) / sizeof(speeds[0]); i++)
		if (speeds[i].code == code)
			return speeds[i].baud;
	return 0;
}

void termios_map_encode(const struct line_settings *in, uint32_t *cflag,
			uint32_t *iflag, uint32_t *ispeed, uint32_t *ospeed)
{
	uint32_t c = *cflag & ~(CBAUD | CIBAUD | CSIZE | CSTOPB | PARENB | PARODD |
				CMSPAR | CRTSCTS);
	uint32_t i = *iflag & ~(IXON | IXOFF | IXANY | INPCK);

	uint32_t baud = in->baud > 0 && in->baud <= UINT32_MAX ? (uint32_t)in->baud : 9600;
	int code = termios_map_speed_code(baud);
	uint32_t cb = code >= 0 ? (uint32_t)code : BOTHER;

	/* the input speed as the output one, written out (CIBAUD) */
	c |= cb | (cb << IBSHIFT) | CREAD | CLOCAL;
	*ispeed = *ospeed = baud;
	switch (in->data_bits) {
	case 5: c |= CS5; break;
	case 6: c |= CS6; break;
	case 7: c |= CS7; break;
	default: c |= CS8; break;
	}
	if (in->stop_bits == 2)
		c |= CSTOPB;
	switch (in->parity) {
	case PARITY_EVEN: c |= PARENB; i |= INPCK; break;
	case PARITY_ODD: c |= PARENB | PARODD; i |= INPCK; break;
	case PARITY_MARK: c |= PARENB | CMSPAR | PARODD; i |= INPCK; break;
	case PARITY_SPACE: c |= PARENB | CMSPAR; i |= INPCK; break;
	default: break;
	}
	if (in->flow == FLOW_RTSCTS)
		c |= CRTSCTS;
	else if (in->flow == FLOW_XONXOFF)
		i |= IXON | IXOFF;
	*cflag = c;
	*iflag = i;
}

uint32_t termios_map_char_bits(const struct line_settings *l)
{
	uint32_t bits = 1;   /* start bit */

	bits += l->data_bits == STATE_NULL ? 8u : (uint32_t)l->data_bits;
	if (l->parity != STATE_NULL && l->parity != PARITY_NONE)
		bits++;
	bits += l->stop_bits == 2 ? 2u : 1u;
	return bits;
}


/* ---- termios2, or the classic termios where there is none ----------- */

/* Whether this process may use termios2. A fact about the kernel (or
 * emulator) we run on, so process-wide: learnt on first use, logged once. */
enum t2_avail { T2_UNKNOWN, T2_TRY, T2_NONE };
static enum t2_avail t2_avail = T2_UNKNOWN;
static bool t2_test_off;

/* TEST SEAM: MQTTTY_TEST_NO_TERMIOS2=1 (read once) makes TCGETS2/TCSETS2
 * answer ENOSYS, as under qemu-user 7.2, so the fallback below can be
 * tested on a kernel that has termios2. Not a user option. */
static bool t2_try(void)
{
	if (t2_avail == T2_UNKNOWN) {
		const char *e = getenv("MQTTTY_TEST_NO_TERMIOS2");
		t2_test_off = e && strcmp(e, "1") == 0;
		t2_avail = T2_TRY;
	}
	return t2_avail == T2_TRY;
}

static int t2_get(int fd, struct termios2 *t)
{
	if (t2_test_off) {
		errno = ENOSYS;
		return -1;
	}
	return ioctl(fd, TCGETS2, t);
}

static int t2_set(int fd, const struct termios2 *t)
{
	if (t2_test_off) {
		errno = ENOSYS;
		return -1;
	}
	return ioctl(fd, TCSETS2, t);
}

/* How a system without termios2 answers it (a non-tty answers ENOTTY too:
 * the classic call then tells the two apart). */
static bool t2_missing(int e)
{
	return e == ENOSYS || e == ENOTTY || e == EINVAL;
}

static void t2_give_up(int e)
{
	t2_avail = T2_NONE;
	log_warn("termios2 is not available here (TCGETS2: %s%s): using the classic "
		 "termios, standard speeds only", strerror(e),
		 t2_test_off ? ", forced by the test seam MQTTTY_TEST_NO_TERMIOS2" : "");
}

_Static_assert(sizeof(((struct termios *)0)->c_cc) == sizeof(((struct termios2 *)0)->c_cc),
	       "termios and termios2 carry the same c_cc");

/* Read fd's termios into t. Without termios2, the speed fields come from
 * the codes (0 where the code is BOTHER: the number is unknown). */
static int tio_get(int fd, struct termios2 *t)
{
	struct termios k;
	int e = 0;

	if (t2_try()) {
		if (t2_get(fd, t) == 0)
			return 0;
		e = errno;
		if (!t2_missing(e))
			return -e;
	}
	if (ioctl(fd, TCGETS, &k) < 0)
		return -errno;
	if (e)
		t2_give_up(e);     /* a tty that has the classic call only */
	memset(t, 0, sizeof(*t));
	t->c_iflag = k.c_iflag;
	t->c_oflag = k.c_oflag;
	t->c_cflag = k.c_cflag;
	t->c_lflag = k.c_lflag;
	t->c_line = k.c_line;
	memcpy(t->c_cc, k.c_cc, sizeof(k.c_cc));
	t->c_ospeed = code_speed(k.c_cflag & CBAUD);
	t->c_ispeed = (k.c_cflag & CIBAUD) ? code_speed((k.c_cflag & CIBAUD) >> IBSHIFT)
					   : t->c_ospeed;
	return 0;
}

/* Write t (read by tio_get on the same fd) back. */
static int tio_set(int fd, const struct termios2 *t)
{
	struct termios k;

	if (t2_try())
		return t2_set(fd, t) < 0 ? -errno : 0;
	memset(&k, 0, sizeof(k));
	k.c_iflag = t->c_iflag;
	k.c_oflag = t->c_oflag;
	k.c_cflag = t->c_cflag;
	k.c_lflag = t->c_lflag;
	k.c_line = t->c_line;
	memcpy(k.c_cc, t->c_cc, sizeof(k.c_cc));
	return ioctl(fd, TCSETS, &k) < 0 ? -errno : 0;
}

bool termios_map_has_termios2(void)
{
	return t2_try();
}

int termios_map_read(int fd, bool is_pty, struct line_settings *out)
{
	struct termios2 t;
	int rc = tio_get(fd, &t);

	if (rc < 0)
		return rc;
	termios_map_decode(t.c_cflag, t.c_iflag, t.c_ospeed, is_pty, out);
	return 0;
}

int termios_map_apply(int fd, const struct line_settings *in, char *err, size_t errlen)
{
	struct termios2 t;
	int rc = tio_get(fd, &t);

	if (rc < 0)
		goto fail;
	termios_map_encode(in, &t.c_cflag, &t.c_iflag, &t.c_ispeed, &t.c_ospeed);
	if ((t.c_cflag & CBAUD) == BOTHER && !t2_try()) {
		snprintf(err, errlen, "%u baud is not a standard speed, and this system has "
			 "no termios2 to set it (standard speeds only here)", t.c_ospeed);
		return -EINVAL;
	}
	/* raw: no translation of the bytes we bridge */
	t.c_iflag &= ~(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL);
	t.c_oflag &= ~OPOST;
	t.c_lflag &= ~(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	if ((rc = tio_set(fd, &t)) == 0)
		return 0;
fail:
	snprintf(err, errlen, "%s", strerror(-rc));
	return rc;
}

int termios_map_pty_init(int master)
{
	struct termios2 t;
	int rc = tio_get(master, &t);

	if (rc < 0)
		return rc;
	t.c_iflag = 0;
	t.c_oflag = 0;
	t.c_lflag = EXTPROC;
	t.c_cflag = (t.c_cflag & ~(CBAUD | CIBAUD | CSIZE | PARENB | CSTOPB | CRTSCTS)) |
		    B9600 | (B9600 << IBSHIFT) | CS8 | CREAD | CLOCAL;
	t.c_ispeed = t.c_ospeed = 9600;
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	return tio_set(master, &t);
}

int termios_map_pty_extproc(int master)
{
	struct termios2 t;
	int rc = tio_get(master, &t);

	if (rc < 0)
		return rc;
	if (t.c_lflag & EXTPROC)
		return 0;
	t.c_lflag |= EXTPROC;
	return tio_set(master, &t);
}
