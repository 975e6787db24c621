/* termios2_map — Linux only: line settings ⇄ the fields of the kernel's
 * struct termios2 (the speed as a CBAUD code in c_cflag, BOTHER and the
 * number in c_ospeed for other speeds). Pure; used by the termios2 I/O
 * (termios_io_linux.c) and by cuse ports, which answer TCGETS2 themselves.
 *
 * A speed with a standard code (B38400) is encoded as that code, as stty
 * and glibc's cfgetospeed expect; BOTHER only for other speeds (CONTRACT.md
 * §5 "Line speeds"). Its .c includes <asm/termbits.h>: plain integers here. */
#ifndef MQTTTY_TERMIOS2_MAP_H
#define MQTTTY_TERMIOS2_MAP_H

#include <stdbool.h>
#include <stdint.h>
#include "port_state.h"

/* Bits/s of a CBAUD code: 0 for B0, BOTHER and codes it does not know. */
uint32_t termios2_map_code_baud(uint32_t code);
/* The CBAUD code of baud, or -1 if it has none (then BOTHER is used). */
int termios2_map_speed_code(int64_t baud);
/* Decode the termios2 fields. is_pty as termios_map_decode_flags. BOTHER
 * with c_ospeed 0 (number unknown) is baud STATE_NULL. */
void termios2_map_decode(uint32_t c_cflag, uint32_t c_iflag, uint32_t c_ospeed,
			 bool is_pty, struct line_settings *out);
/* Encode settings into cflag/iflag (other bits kept) and the speeds: the
 * standard code where baud has one, else BOTHER, in both directions
 * (CIBAUD); unknown baud is 9600. */
void termios2_map_encode(const struct line_settings *in, uint32_t *c_cflag,
			 uint32_t *c_iflag, uint32_t *c_ispeed, uint32_t *c_ospeed);

#endif
