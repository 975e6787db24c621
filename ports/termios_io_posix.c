/* termios_io_posix — the tty I/O of termios_map.h with the POSIX termios
 * only: tcgetattr/tcsetattr, cfsetispeed/cfsetospeed and the standard Bnnn
 * speeds. Built off Linux (macOS, the BSDs) and on Linux with
 * -DMQTTTY_PORTABLE=ON, where it is tested; nothing here has been built or
 * run on macOS or a BSD (no such machine where this was written).
 *
 * Other speeds: on macOS the IOSSIOSPEED ioctl of <IOKit/serial/ioss.h>
 * sets any speed the serial driver takes (after a tcsetattr at a standard
 * speed, as that ioctl asks); unverified. Elsewhere they are refused with a
 * sentence that says so.
 *
 * ptys: the application's tcsetattr is reported to a master in packet mode
 * with the TIOCEXT ioctl where the system has it (the BSDs, macOS; the
 * 4.4BSD pty driver sends TIOCPKT_IOCTL then); unverified. Linux has no
 * TIOCEXT and this build does not set its EXTPROC: the pty port then reads
 * the settings itself (port_pty.c). */
#include <termios.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#if defined(__APPLE__)
#include <IOKit/serial/ioss.h>    /* IOSSIOSPEED */
#endif

#include "termios_map.h"
#include "port_config.h"
#include "log.h"

/* Said once per process, at the first use: why other speeds fail here. */
static void note_once(void)
{
	static bool said;

	if (said)
		return;
	said = true;
#ifdef IOSSIOSPEED
	log_info("termios: this build uses the POSIX termios only (no termios2): "
		 "standard speeds, other speeds through IOSSIOSPEED");
#else
	log_info("termios: this build uses the POSIX termios only (no termios2): "
		 "standard speeds only");
#endif
}

bool termios_map_has_termios2(void)
{
	return false;
}

int termios_map_read(int fd, bool is_pty, struct line_settings *out)
{
	struct termios t;

	note_once();
	if (tcgetattr(fd, &t) < 0)
		return -errno;
	out->baud = termios_map_code_baud((uint32_t)cfgetospeed(&t));
	termios_map_decode_flags((uint32_t)t.c_cflag, (uint32_t)t.c_iflag, is_pty, out);
	return 0;
}

/* Whether the settings can be set here; else -EINVAL and a sentence. */
static int check(const struct line_settings *in, int64_t baud, int code, char *err,
		 size_t errlen)
{
#ifndef CMSPAR
	if (in->parity == PARITY_MARK || in->parity == PARITY_SPACE) {
		snprintf(err, errlen, "%s parity is not available on this system (no CMSPAR)",
			 in->parity == PARITY_MARK ? "mark" : "space");
		return -EINVAL;
	}
#endif
#ifndef CRTSCTS
	if (in->flow == FLOW_RTSCTS) {
		snprintf(err, errlen, "rtscts flow control is not available on this system "
			 "(no CRTSCTS)");
		return -EINVAL;
	}
#endif
#ifndef IOSSIOSPEED
	if (code < 0) {
		snprintf(err, errlen, "%lld baud is not a standard speed, and this build "
			 "sets standard speeds only (the POSIX termios, no termios2)",
			 (long long)baud);
		return -EINVAL;
	}
#endif
	return 0;
}

int termios_map_apply(int fd, const struct line_settings *in, char *err, size_t errlen)
{
	struct termios t;
	int64_t baud = in->baud > 0 && in->baud <= UINT32_MAX ? in->baud : 9600;
	int code = termios_map_speed_code(baud);
	uint32_t cflag, iflag;
	int rc;

	note_once();
	if (tcgetattr(fd, &t) < 0)
		goto fail;
	if ((rc = check(in, baud, code, err, errlen)) < 0)
		return rc;       /* before any change */
	cflag = (uint32_t)t.c_cflag;
	iflag = (uint32_t)t.c_iflag;
	termios_map_encode_flags(in, &cflag, &iflag);
	t.c_cflag = cflag;
	t.c_iflag = iflag;
#ifdef CIBAUD
	t.c_cflag &= ~(tcflag_t)CIBAUD;     /* Linux: the input speed as the output one */
#endif
	/* raw: no translation of the bytes we bridge */
	t.c_iflag &= ~(tcflag_t)(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL);
	t.c_oflag &= ~(tcflag_t)OPOST;
	t.c_lflag &= ~(tcflag_t)(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	/* no code (macOS): a standard speed first, IOSSIOSPEED below */
	if (cfsetispeed(&t, code >= 0 ? (speed_t)code : B9600) < 0 ||
	    cfsetospeed(&t, code >= 0 ? (speed_t)code : B9600) < 0 ||
	    tcsetattr(fd, TCSANOW, &t) < 0)
		goto fail;
#ifdef IOSSIOSPEED
	if (code < 0) {
		speed_t s = (speed_t)baud;

		if (ioctl(fd, IOSSIOSPEED, &s) < 0) {
			rc = -errno;
			snprintf(err, errlen, "%lld baud is not a standard speed, and "
				 "IOSSIOSPEED refused it: %s", (long long)baud, strerror(-rc));
			return rc;
		}
	}
#endif
	return 0;
fail:
	rc = -errno;
	snprintf(err, errlen, "%s", strerror(-rc));
	return rc;
}

int termios_map_pty_init(int master)
{
	struct termios t;

	note_once();
	if (tcgetattr(master, &t) < 0)
		return -errno;
	t.c_iflag = 0;
	t.c_oflag = 0;
	t.c_lflag = 0;
	t.c_cflag &= ~(tcflag_t)(CSIZE | PARENB | CSTOPB);
#ifdef CRTSCTS
	t.c_cflag &= ~(tcflag_t)CRTSCTS;
#endif
	t.c_cflag |= CS8 | CREAD | CLOCAL;
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	if (cfsetispeed(&t, B9600) < 0 || cfsetospeed(&t, B9600) < 0 ||
	    tcsetattr(master, TCSANOW, &t) < 0)
		return -errno;
	return 0;
}

int termios_map_pty_report(int master)
{
#ifdef TIOCEXT
	int one = 1;

	/* the BSD spelling of Linux's EXTPROC; in packet mode it sends one
	 * TIOCPKT_IOCTL at once, then one per tcsetattr */
	if (ioctl(master, TIOCEXT, &one) == 0)
		return 1;
	log_info("termios: TIOCEXT: %s", strerror(errno));
#endif
	return 0;
}

int termios_map_pty_rearm(int master)
{
#if defined(TIOCEXT) && defined(EXTPROC)
	struct termios t;
	int one = 1;

	/* the BSDs keep EXTPROC read-only to tcsetattr; should it be gone all
	 * the same, TIOCEXT again (one more TIOCPKT_IOCTL, no loop) */
	if (tcgetattr(master, &t) < 0)
		return -errno;
	if (!(t.c_lflag & EXTPROC) && ioctl(master, TIOCEXT, &one) < 0)
		return -errno;
#endif
	return 0;
}
