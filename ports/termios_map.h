/* termios_map — line settings ⇄ the kernel's termios2.
 *
 * Its .c includes <asm/termbits.h> for termios2/BOTHER, which clashes with
 * glibc's <termios.h> (pulled in by <uv.h>): keep the two apart, so this
 * header exposes only plain integers. */
#ifndef MQTTTY_TERMIOS_MAP_H
#define MQTTTY_TERMIOS_MAP_H

#include <stdbool.h>
#include <stdint.h>
#include "port_state.h"

/* Pure: decode the termios2 fields into settings. is_pty: a Linux pty
 * forces 8 bits and no parity, so those are reported STATE_NULL. */
void termios_map_decode(uint32_t c_cflag, uint32_t c_iflag, uint32_t c_ospeed,
			bool is_pty, struct line_settings *out);
/* Pure: encode settings into cflag/iflag (other bits kept) and speed. */
void termios_map_encode(const struct line_settings *in, uint32_t *c_cflag,
			uint32_t *c_iflag, uint32_t *c_ispeed, uint32_t *c_ospeed);
/* Bits per character on the wire (start + data + parity + stop). */
uint32_t termios_map_char_bits(const struct line_settings *l);

/* Read the settings of fd (for a pty master: the application's side).
 * Returns 0 or -errno. */
int termios_map_read(int fd, bool is_pty, struct line_settings *out);
/* Apply settings to fd (device ports). 0 or -errno. */
int termios_map_apply(int fd, const struct line_settings *in);

/* pty master: put the slave in raw 8N1 at 9600 with EXTPROC set, as a
 * freshly plugged serial adapter in raw mode. 0 or -errno. */
int termios_map_pty_init(int master);
/* pty master: set EXTPROC again if the application cleared it (every
 * tcsetattr is then reported to the master). 0 or -errno. */
int termios_map_pty_extproc(int master);

#endif
