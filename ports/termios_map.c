/* termios_map — the pure part: standard speeds and flag bits, against the
 * system's <termios.h>, on every system. The I/O is termios_io_linux.c or
 * termios_io_posix.c; Linux's termios2 layout is termios2_map.c. */
#include <termios.h>
#include <stddef.h>

#include "termios_map.h"
#include "port_config.h"

static const struct { speed_t code; uint32_t baud; } speeds[] = {
#define TERMIOS_SPEED(n) { B##n, n },
#include "termios_speeds.h"
#undef TERMIOS_SPEED
};

int64_t termios_map_code_baud(uint32_t code)
{
	if (code == B0)
		return 0;   /* hang-up speed */
	for (size_t i = 0; i < sizeof(speeds) / sizeof(speeds[0]); i++)
		if (speeds[i].code == code)
			return speeds[i].baud;
#if B9600 == 9600 && B38400 == 38400
	/* a speed_t is the number of bits/s itself: any speed the driver took */
	return code;
#else
	return STATE_NULL;
#endif
}

int termios_map_speed_code(int64_t baud)
{
	for (size_t i = 0; i < sizeof(speeds) / sizeof(speeds[0]); i++)
		if (speeds[i].baud == baud)
			return (int)speeds[i].code;
	return -1;
}

void termios_map_decode_flags(uint32_t cflag, uint32_t iflag, bool is_pty,
			      struct line_settings *out)
{
	out->stop_bits = (cflag & CSTOPB) ? 2 : 1;
#ifdef CRTSCTS
	if (cflag & CRTSCTS)
		out->flow = FLOW_RTSCTS;
	else
#endif
	if (iflag & (IXON | IXOFF))
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
#ifdef CMSPAR
	else if (cflag & CMSPAR)
		out->parity = (cflag & PARODD) ? PARITY_MARK : PARITY_SPACE;
#endif
	else
		out->parity = (cflag & PARODD) ? PARITY_ODD : PARITY_EVEN;
}

void termios_map_encode_flags(const struct line_settings *in, uint32_t *cflag,
			      uint32_t *iflag)
{
	uint32_t c = *cflag & ~(uint32_t)(CSIZE | CSTOPB | PARENB | PARODD);
	uint32_t i = *iflag & ~(uint32_t)(IXON | IXOFF | IXANY | INPCK);

#ifdef CMSPAR
	c &= ~(uint32_t)CMSPAR;
#endif
#ifdef CRTSCTS
	c &= ~(uint32_t)CRTSCTS;
#endif
	c |= CREAD | CLOCAL;
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
#ifdef CMSPAR
	case PARITY_MARK: c |= PARENB | CMSPAR | PARODD; i |= INPCK; break;
	case PARITY_SPACE: c |= PARENB | CMSPAR; i |= INPCK; break;
#endif
	default: break;
	}
#ifdef CRTSCTS
	if (in->flow == FLOW_RTSCTS)
		c |= CRTSCTS;
	else
#endif
	if (in->flow == FLOW_XONXOFF)
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
