/* termios_io_linux — the tty I/O of termios_map.h on Linux: the kernel's
 * termios2 (any speed), or the classic termios where it has none (qemu-user
 * 7.2 answers TCGETS2 with ENOSYS; some sandboxes ENOTTY or EINVAL):
 * standard speeds only. With termios2_map.c and cuse_tty.c, the only files
 * that see termios2. The portable build uses termios_io_posix.c instead. */
#include <asm/termbits.h>
#include <asm/ioctls.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "termios_map.h"
#include "termios2_map.h"
#include "log.h"

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
	t->c_ospeed = termios2_map_code_baud(k.c_cflag & CBAUD);
	t->c_ispeed = (k.c_cflag & CIBAUD) ? termios2_map_code_baud((k.c_cflag & CIBAUD) >> IBSHIFT)
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
	termios2_map_decode(t.c_cflag, t.c_iflag, t.c_ospeed, is_pty, out);
	return 0;
}

int termios_map_apply(int fd, const struct line_settings *in, char *err, size_t errlen)
{
	struct termios2 t;
	int rc = tio_get(fd, &t);

	if (rc < 0)
		goto fail;
	termios2_map_encode(in, &t.c_cflag, &t.c_iflag, &t.c_ispeed, &t.c_ospeed);
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

int termios_map_pty_rearm(int master)
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

/* EXTPROC, set by termios_map_pty_init: every tcsetattr of the application
 * is reported to a master in packet mode. */
int termios_map_pty_report(int master)
{
	int rc = termios_map_pty_rearm(master);

	return rc < 0 ? rc : 1;
}
