/* termios2_map — Linux only: the termios2 fields (CBAUD codes, BOTHER). The
 * flag bits are termios_map.c's: the kernel's and glibc's values are the
 * same (tcsetattr passes c_cflag/c_iflag through unchanged); only the
 * speed codes are taken from the kernel's header here. */
#include <asm/termbits.h>
#include <stddef.h>

#include "termios2_map.h"
#include "termios_map.h"

static const struct { uint32_t code; uint32_t baud; } speeds[] = {
#define TERMIOS_SPEED(n) { B##n, n },
#include "termios_speeds.h"
#undef TERMIOS_SPEED
};

uint32_t termios2_map_code_baud(uint32_t code)
{
	for (size_t i = 0; i < sizeof(speeds) / sizeof(speeds[0]); i++)
		if (speeds[i].code == code)
			return speeds[i].baud;
	return 0;
}

int termios2_map_speed_code(int64_t baud)
{
	for (size_t i = 0; i < sizeof(speeds) / sizeof(speeds[0]); i++)
		if (speeds[i].baud == baud)
			return (int)speeds[i].code;
	return -1;
}

void termios2_map_decode(uint32_t cflag, uint32_t iflag, uint32_t ospeed,
			 bool is_pty, struct line_settings *out)
{
	uint32_t code = cflag & CBAUD;
	/* BOTHER: 0 when the number is unknown (the classic termios has none) */
	uint32_t baud = code == BOTHER ? ospeed : termios2_map_code_baud(code);

	if (code == B0)
		out->baud = 0;   /* hang-up speed */
	else
		out->baud = baud ? (int64_t)baud : STATE_NULL;
	termios_map_decode_flags(cflag, iflag, is_pty, out);
}

void termios2_map_encode(const struct line_settings *in, uint32_t *cflag,
			 uint32_t *iflag, uint32_t *ispeed, uint32_t *ospeed)
{
	uint32_t baud = in->baud > 0 && in->baud <= UINT32_MAX ? (uint32_t)in->baud : 9600;
	int code = termios2_map_speed_code(baud);
	uint32_t cb = code >= 0 ? (uint32_t)code : BOTHER;

	termios_map_encode_flags(in, cflag, iflag);
	/* the input speed as the output one, written out (CIBAUD) */
	*cflag = (*cflag & ~(uint32_t)(CBAUD | CIBAUD)) | cb | (cb << IBSHIFT);
	*ispeed = *ospeed = baud;
}
