/* termios_map — line settings ⇄ a tty's termios.
 *
 * Three parts, chosen by CMake:
 *   termios_map.c        pure, every system: the standard speeds and the
 *                        flag bits, against the system's <termios.h>;
 *   termios_io_linux.c   the I/O below on Linux: termios2 (any speed, as
 *                        its code where it has one, else BOTHER), or the
 *                        classic termios where the kernel has no termios2;
 *   termios_io_posix.c   the I/O below elsewhere (macOS, the BSDs) and in
 *                        the portable build (-DMQTTTY_PORTABLE=ON, so it is
 *                        tested on Linux): tcgetattr/tcsetattr and the
 *                        standard Bnnn speeds only.
 * Linux's termios2 field layout (CBAUD codes, BOTHER) is termios2_map.h.
 *
 * <asm/termbits.h> (termios2) clashes with the C library's <termios.h>
 * (pulled in by <uv.h>): this header exposes only plain integers. Flag
 * values are the system's own (on Linux the C library's and the kernel's
 * are the same: tcsetattr passes c_cflag/c_iflag through unchanged). */
#ifndef MQTTTY_TERMIOS_MAP_H
#define MQTTTY_TERMIOS_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "port_state.h"

/* Pure: bits/s of the system's speed value code (a speed_t, as from
 * cfgetospeed): 0 for B0, STATE_NULL where the number is unknown. Where a
 * speed_t is the number itself (B9600 == 9600: macOS, the BSDs) any other
 * value is taken as bits/s. */
int64_t termios_map_code_baud(uint32_t code);
/* Pure: the system's standard speed value (Bnnn) for baud, or -1. */
int termios_map_speed_code(int64_t baud);
/* Pure: data bits, parity, stop bits and flow control from c_cflag and
 * c_iflag (out->baud is left as it is). is_pty: a Linux pty forces 8 bits
 * and no parity, so those are reported STATE_NULL. */
void termios_map_decode_flags(uint32_t c_cflag, uint32_t c_iflag, bool is_pty,
			      struct line_settings *out);
/* Pure: encode data bits, parity, stop bits and flow control into
 * cflag/iflag, with CREAD and CLOCAL; other bits, the speed's among them,
 * are kept. Mark/space parity needs CMSPAR and rtscts CRTSCTS: where the
 * system has none they are left out (termios_map_apply refuses them). */
void termios_map_encode_flags(const struct line_settings *in, uint32_t *c_cflag,
			      uint32_t *c_iflag);
/* Bits per character on the wire (start + data + parity + stop). */
uint32_t termios_map_char_bits(const struct line_settings *l);

/* ---- I/O (termios_io_linux.c or termios_io_posix.c) ---------------- */

/* Linux: termios2 is used where the kernel has it. Where TCGETS2 answers
 * ENOSYS, ENOTTY or EINVAL on a tty that answers TCGETS (qemu-user, some
 * sandboxes) the classic termios is used from then on, for the whole
 * process (logged once). False once that happened, and always false in the
 * POSIX build. */
bool termios_map_has_termios2(void);

/* Read the settings of fd (for a pty master: the application's side).
 * Returns 0 or -errno. */
int termios_map_read(int fd, bool is_pty, struct line_settings *out);
/* Apply settings to fd (device ports), raw mode. 0, or -errno with a
 * sentence in err (e.g. a speed without a standard code where the system
 * cannot set other speeds: -EINVAL, and nothing changed). */
int termios_map_apply(int fd, const struct line_settings *in, char *err, size_t errlen);

/* pty master: put the slave in raw 8N1 at 9600, as a freshly plugged
 * serial adapter in raw mode (Linux: with EXTPROC set). 0 or -errno. */
int termios_map_pty_init(int master);
/* pty master, already in packet mode (TIOCPKT): ask to be told of each
 * tcsetattr of the application by a TIOCPKT_IOCTL status byte. 1: it will
 * be (Linux: EXTPROC; BSD/macOS: the TIOCEXT ioctl, unverified); 0: not
 * here (the POSIX build on Linux, or TIOCEXT refused), the caller reads the
 * settings itself from time to time; -errno. */
int termios_map_pty_report(int master);
/* After each TIOCPKT_IOCTL: keep the reports coming (a raw-mode application
 * that sets c_lflag = 0 clears EXTPROC on Linux; it is set again). Only
 * where termios_map_pty_report answered 1. 0 or -errno. */
int termios_map_pty_rearm(int master);

#endif
