/* cuse_tty — the tty a CUSE port pretends to be, as plain state: termios
 * exactly as the application set it, modem lines, an input queue, counters.
 * The ioctl dispatch over it is pure (no fuse, no fds), so it is unit-tested
 * on any Linux host; port_cuse.c is the thin fuse layer on top.
 *
 * Its .c includes the kernel's <asm/termbits.h>/<asm/termios.h> (termios2,
 * BOTHER, TIOCM_*), which clash with glibc's <termios.h> (pulled in by
 * <uv.h>): this header exposes only plain integers. */
#ifndef MQTTTY_CUSE_TTY_H
#define MQTTTY_CUSE_TTY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "port_state.h"

#define CUSE_TTY_NCCS 19

/* The layout of the kernel's struct termios2 (44 bytes); TCGETS/TCSETS
 * carry its first 36 bytes (struct termios). Checked in the .c. */
struct cuse_tty_termios {
	uint32_t c_iflag, c_oflag, c_cflag, c_lflag;
	uint8_t c_line;
	uint8_t c_cc[CUSE_TTY_NCCS];
	uint32_t c_ispeed, c_ospeed;
};

/* Counters of TIOCGICOUNT: each change of an input line counts once. */
struct cuse_tty_icount {
	uint32_t cts, dsr, rng, dcd, rx, tx, brk;
};

/* The six modem lines as booleans. */
struct cuse_tty_lines {
	bool dtr, rts, cts, dsr, dcd, ri;
};

/* Effects of a call that the fuse layer carries out (bits of tty.fx; it
 * clears them). */
enum {
	CUSE_TTY_FX_BREAK = 1 << 0,     /* a break was sent: publish break_ms */
	CUSE_TTY_FX_FLUSH_TX = 1 << 1,  /* the application discarded its output */
	CUSE_TTY_FX_TX_CHAR = 1 << 2,   /* transmit tx_char (TCIOFF/TCION) */
};

/* cuse_tty_ioctl: answered later (TIOCMIWAIT), see cuse_tty_miwait_done. */
#define CUSE_TTY_PENDING 1

/* What a read of the application does now (cuse_tty_read_plan). */
enum cuse_tty_read { CUSE_TTY_READ_NOW, CUSE_TTY_READ_WAIT, CUSE_TTY_READ_AGAIN };

/* How a waiting read is timed out: VTIME with VMIN = 0 runs once from the
 * start of the read; with VMIN > 0 it restarts on every byte that arrives
 * and starts only once one byte is there. */
enum cuse_tty_timer { CUSE_TTY_TIMER_NONE, CUSE_TTY_TIMER_TOTAL, CUSE_TTY_TIMER_INTERBYTE };

struct cuse_tty_wait {
	enum cuse_tty_timer timer;
	uint32_t timer_ms;
};

struct cuse_tty {
	struct cuse_tty_termios tio;    /* exactly as set */
	unsigned mctrl;                 /* TIOCM_* bits */
	struct cuse_tty_icount icount;
	uint16_t ws_row, ws_col, ws_xpixel, ws_ypixel;
	int opens;
	bool excl;                      /* TIOCEXCL */
	bool tx_stopped;                /* TCOOFF: the application's output is held */
	bool brk_on;                    /* TIOCSBRK ... TIOCCBRK */
	uint64_t brk_since;             /* ms */
	/* input queue toward the application: in[in_head .. in_head+in_len) */
	uint8_t *in;                    /* owned */
	size_t in_head, in_len, in_cap, in_limit;
	/* set by the fuse layer before a call */
	uint64_t now_ms;
	size_t outq;                    /* bytes of writes held back (TIOCOUTQ) */
	/* results for the fuse layer */
	unsigned fx;
	uint32_t break_ms;
	uint8_t tx_char;
	uint64_t flushed;               /* input bytes discarded (for `dropped`) */
};

/* Initialise as a freshly plugged serial adapter: the kernel's default
 * termios at the line settings l (NULL: 9600 8N1, no flow), every line low.
 * in_limit bounds the input queue. */
void cuse_tty_init(struct cuse_tty *t, size_t in_limit, const struct line_settings *l);
void cuse_tty_free(struct cuse_tty *t);

/* The sizes of cmd's pointer argument: what the application passes in
 * (*in) and gets back (*out); both 0 for value or no arguments. 0, or
 * -ENOTTY for a command the port does not know. */
int cuse_tty_ioctl_size(unsigned cmd, size_t *in, size_t *out);

/* Run ioctl cmd. arg is the value argument (TCFLSH, TCSBRK, TIOCMIWAIT, …);
 * in holds in_len >= the size above; out has room for the out size, and
 * *out_len is set to the bytes written there. Returns 0, -errno, or
 * CUSE_TTY_PENDING (TIOCMIWAIT: the caller keeps the request with
 * cuse_tty_icount_get and arg as the mask). Sets t->fx bits. */
int cuse_tty_ioctl(struct cuse_tty *t, unsigned cmd, unsigned long arg, const void *in,
		   size_t in_len, void *out, size_t *out_len);

/* A TIOCMIWAIT waiter with line mask `mask` (TIOCM_RNG|DSR|CD|CTS) and the
 * counters at its start: true once one of its lines changed. */
bool cuse_tty_miwait_done(const struct cuse_tty *t, unsigned long mask,
			  const struct cuse_tty_icount *snap);

/* Open/close by an application. The first open raises DTR and RTS (unless
 * the speed is B0); the last close drops them if HUPCL is set, clears
 * TIOCEXCL and TCOOFF and discards the input (counted in t->flushed). */
void cuse_tty_open(struct cuse_tty *t);
void cuse_tty_close(struct cuse_tty *t);
/* TIOCEXCL is set, an application holds the port, and uid is not root. */
bool cuse_tty_open_refused(const struct cuse_tty *t, uint32_t uid);

/* An application that reaches the port other than through the node (the
 * RFC 2217 client) sets line settings and DTR/RTS: applied as its
 * tcsetattr (the other termios fields kept; a standard speed as its code)
 * and TIOCMBIS/TIOCMBIC would be. Fields and lines that are STATE_NULL are
 * left. It counts as an open of its own: cuse_tty_open/cuse_tty_close. */
void cuse_tty_app_set(struct cuse_tty *t, const struct line_settings *l, int dtr, int rts);

/* Input lines from MQTT or a null-modem peer: each is 0, 1 or STATE_NULL
 * (leave). Changes count in icount. Returns true if anything changed. */
bool cuse_tty_set_lines(struct cuse_tty *t, int cts, int dsr, int dcd, int ri);
void cuse_tty_lines_get(const struct cuse_tty *t, struct cuse_tty_lines *out);

/* Input queue. put: returns the bytes taken (the rest is beyond the bound).
 * peek: the queued bytes, contiguous. consume: n <= peek's length. flush:
 * discard all, counted in t->flushed; returns how many. */
size_t cuse_tty_rx_put(struct cuse_tty *t, const uint8_t *p, size_t n);
size_t cuse_tty_rx_peek(const struct cuse_tty *t, const uint8_t **p);
void cuse_tty_rx_consume(struct cuse_tty *t, size_t n);
size_t cuse_tty_rx_flush(struct cuse_tty *t);

/* VMIN/VTIME: what a read of `size` bytes does with the input queued now.
 * expired: its VTIME timer ran out. NOW: answer with what is queued (maybe
 * nothing); WAIT: keep it, timed as *w says; AGAIN: EAGAIN (non-blocking,
 * nothing queued). Canonical mode is not emulated (no line discipline). */
enum cuse_tty_read cuse_tty_read_plan(const struct cuse_tty *t, size_t size, bool nonblock,
				      bool expired, struct cuse_tty_wait *w);
/* poll: would a read return data now (POLLIN)? */
bool cuse_tty_readable(const struct cuse_tty *t);

/* HUPCL is set (DTR/RTS drop on the last close). */
bool cuse_tty_hupcl(const struct cuse_tty *t);

#endif
