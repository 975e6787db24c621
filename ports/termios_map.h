/* termios_map — line settings ⇄ the kernel's termios2 (or, where the
 * system has none, the classic termios: standard speeds only).
 *
 * A speed with a standard code is set as that code (B38400), BOTHER only
 * for other speeds (CONTRACT.md §5 "Line speeds").
 *
 * Its .c includes <asm/termbits.h> for termios2/BOTHER, which clashes with
 * glibc's <termios.h> (pulled in by <uv.h>): keep the two apart, so this
 * header exposes only plain integers. */
#ifndef MQTTTY_TERMIOS_MAP_H
#define MQTTTY_TERMIOS_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "port_state.h"

/* Pure: decode the termios2 fields into settings. is_pty: a Linux pty
 * forces 8 bits and no parity, so those are reported STATE_NULL. BOTHER
 * with c_ospeed 0 (number unknown) is baud STATE_NULL. */
void termios_map_decode(uint32_t c_cflag, uint32_t c_iflag, uint32_t c_ospeed,
			bool is_pty, struct line_settings *out);
/* Pure: the standard speed code (Bnnn) of baud, or -1 if it has none. */
int termios_map_speed_code(int64_t baud);
/* Pure: encode settings into cflag/iflag (other bits kept) and speed: the
 * standard code where baud has one, else BOTHER; unknown baud is 9600. */
void termios_map_encode(const struct line_settings *in, uint32_t *c_cflag,
			uint32_t *c_iflag, uint32_t *c_ispeed, uint32_t *c_ospeed);
/* Bits per character on the wire (start + data + parity + stop). */
uint32_t termios_map_char_bits(const struct line_settings *l);

/* The I/O below uses termios2 where the system has it. Where TCGETS2
 * answers ENOSYS, ENOTTY or EINVAL on a tty that answers TCGETS (qemu-user,
 * some sandboxes) it uses the classic termios from then on, for the whole
 * process (logged once). False once that happened. */
bool termios_map_has_termios2(void);

/* Read the settings of fd (for a pty master: the application's side).
 * Returns 0 or -errno. */
int termios_map_read(int fd, bool is_pty, struct line_settings *out);
/* Apply settings to fd (device ports), raw mode. 0, or -errno with a
 * sentence in err (e.g. a non-standard speed without termios2: -EINVAL). */
int termios_map_apply(int fd, const struct line_settings *in, char *err, size_t errlen);

/* pty master: put the slave in raw 8N1 at 9600 with EXTPROC set, as a
 * freshly plugged serial adapter in raw mode. 0 or -errno. */
int termios_map_pty_init(int master);
/* pty master: set EXTPROC again if the application cleared it (every
 * tcsetattr is then reported to the master). 0 or -errno. */
int termios_map_pty_extproc(int master);

#endif
