/* termios_map — with cuse_tty.c, the only files that see the kernel's termios2. */
#include <asm/termbits.h>
#include <asm/ioctls.h>
#include <errno.h>
#include <stddef.h>
#include <sys/ioctl.h>

#include "termios_map.h"
#include "port_config.h"

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
		out->baud = ospeed;
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

void termios_map_encode(const struct line_settings *in, uint32_t *cflag,
			uint32_t *iflag, uint32_t *ispeed, uint32_t *ospeed)
{
	uint32_t c = *cflag & ~(CBAUD | CIBAUD | CSIZE | CSTOPB | PARENB | PARODD |
				CMSPAR | CRTSCTS);
	uint32_t i = *iflag & ~(IXON | IXOFF | IXANY | INPCK);

	/* BOTHER always: the driver takes the exact number, standard or not. */
	c |= BOTHER | (BOTHER << IBSHIFT) | CREAD | CLOCAL;
	*ispeed = *ospeed = in->baud > 0 ? (uint32_t)in->baud : 9600;
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

int termios_map_read(int fd, bool is_pty, struct line_settings *out)
{
	struct termios2 t;

	if (ioctl(fd, TCGETS2, &t) < 0)
		return -errno;
	termios_map_decode(t.c_cflag, t.c_iflag, t.c_ospeed, is_pty, out);
	return 0;
}

int termios_map_apply(int fd, const struct line_settings *in)
{
	struct termios2 t;

	if (ioctl(fd, TCGETS2, &t) < 0)
		return -errno;
	termios_map_encode(in, &t.c_cflag, &t.c_iflag, &t.c_ispeed, &t.c_ospeed);
	/* raw: no translation of the bytes we bridge */
	t.c_iflag &= ~(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL);
	t.c_oflag &= ~OPOST;
	t.c_lflag &= ~(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	return ioctl(fd, TCSETS2, &t) < 0 ? -errno : 0;
}

int termios_map_pty_init(int master)
{
	struct termios2 t;

	if (ioctl(master, TCGETS2, &t) < 0)
		return -errno;
	t.c_iflag = 0;
	t.c_oflag = 0;
	t.c_lflag = EXTPROC;
	t.c_cflag = (t.c_cflag & ~(CBAUD | CIBAUD | CSIZE | PARENB | CSTOPB | CRTSCTS)) |
		    B9600 | (B9600 << IBSHIFT) | CS8 | CREAD | CLOCAL;
	t.c_ispeed = t.c_ospeed = 9600;
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	return ioctl(master, TCSETS2, &t) < 0 ? -errno : 0;
}

int termios_map_pty_extproc(int master)
{
	struct termios2 t;

	if (ioctl(master, TCGETS2, &t) < 0)
		return -errno;
	if (t.c_lflag & EXTPROC)
		return 0;
	t.c_lflag |= EXTPROC;
	return ioctl(master, TCSETS2, &t) < 0 ? -errno : 0;
}
