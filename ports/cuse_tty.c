/* cuse_tty — the tty ioctls of a CUSE port, as a table over plain state.
 *
 * Kernel headers only (termios2, BOTHER, TIOCM_*, serial_icounter_struct):
 * never glibc's <termios.h> or <sys/ioctl.h> in this file. Commands are
 * matched as unsigned: TCGETS2 and friends are above INT_MAX. */
#include <asm/termbits.h>
#include <asm/ioctls.h>
#include <asm/termios.h>
#include <linux/serial.h>

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "cuse_tty.h"
#include "termios2_map.h"
#include "port_config.h"

#define TERMIOS_V1 36u                  /* struct termios as TCGETS carries it */
#define TERMIOS_V2 ((unsigned)sizeof(struct termios2))
#define LINES_IN (TIOCM_CTS | TIOCM_DSR | TIOCM_CD | TIOCM_RI)
#define LINES_OUT (TIOCM_DTR | TIOCM_RTS)
#define BREAK_DEFAULT_MS 250u
#define BREAK_MAX_MS 60000u

_Static_assert(sizeof(struct cuse_tty_termios) == sizeof(struct termios2),
	       "cuse_tty_termios must have termios2's layout");
_Static_assert(offsetof(struct cuse_tty_termios, c_cc) == offsetof(struct termios2, c_cc),
	       "c_cc offset");
_Static_assert(offsetof(struct cuse_tty_termios, c_ispeed) ==
	       offsetof(struct termios2, c_ispeed), "c_ispeed offset");
_Static_assert(CUSE_TTY_NCCS == NCCS, "NCCS");
_Static_assert(offsetof(struct termios2, c_ispeed) == TERMIOS_V1, "struct termios is 36 bytes");

/* ---- speeds --------------------------------------------------------- */

/* Bits/s of a CBAUD code other than BOTHER (0 if unknown, B0 = 0). */
static uint32_t code_baud(uint32_t code)
{
	return termios2_map_code_baud(code);
}

/* The standard code for a speed, or BOTHER. */
static uint32_t baud_code(uint32_t baud)
{
	int code = termios2_map_speed_code(baud);

	return code > 0 ? (uint32_t)code : BOTHER;
}

/* As the kernel does on every TCSETS*: a standard code sets the speed
 * fields, BOTHER keeps the number given, an input code B0 means "as the
 * output". */
static void fill_speeds(struct cuse_tty_termios *n)
{
	uint32_t oc = n->c_cflag & CBAUD, ic = (n->c_cflag >> IBSHIFT) & CBAUD;

	if (oc != BOTHER)
		n->c_ospeed = code_baud(oc);
	if (ic == B0)
		n->c_ispeed = n->c_ospeed;
	else if (ic != BOTHER)
		n->c_ispeed = code_baud(ic);
}

/* ---- state ---------------------------------------------------------- */

void cuse_tty_init(struct cuse_tty *t, size_t in_limit, const struct line_settings *l)
{
	static const uint8_t init_cc[CUSE_TTY_NCCS] = {
		[VINTR] = 003, [VQUIT] = 034, [VERASE] = 0177, [VKILL] = 025,
		[VEOF] = 004, [VTIME] = 0, [VMIN] = 1, [VSTART] = 021, [VSTOP] = 023,
		[VSUSP] = 032, [VREPRINT] = 022, [VDISCARD] = 017, [VWERASE] = 027,
		[VLNEXT] = 026,
	};
	struct line_settings def = { 9600, 8, 0, 1, 0 };   /* 8N1, no flow */
	struct cuse_tty_termios *o = &t->tio;
	uint32_t code;

	memset(t, 0, sizeof(*t));
	t->in_limit = in_limit;
	/* the kernel's defaults for a serial port */
	o->c_iflag = ICRNL | IXON;
	o->c_oflag = OPOST | ONLCR;
	o->c_cflag = CS8 | CREAD | HUPCL | CLOCAL;
	o->c_lflag = ISIG | ICANON | ECHO | ECHOE | ECHOK | ECHOCTL | ECHOKE | IEXTEN;
	memcpy(o->c_cc, init_cc, sizeof(init_cc));
	termios2_map_encode(l ? l : &def, &o->c_cflag, &o->c_iflag, &o->c_ispeed, &o->c_ospeed);
	/* a standard speed as its code, as glibc's cfgetospeed expects */
	code = baud_code(o->c_ospeed);
	o->c_cflag = (o->c_cflag & ~(CBAUD | CIBAUD)) | code;
	if (code == BOTHER)
		o->c_cflag |= BOTHER << IBSHIFT;
}

void cuse_tty_free(struct cuse_tty *t)
{
	free(t->in);
	t->in = NULL;
	t->in_head = t->in_len = t->in_cap = 0;
}

bool cuse_tty_hupcl(const struct cuse_tty *t)
{
	return (t->tio.c_cflag & HUPCL) != 0;
}

void cuse_tty_open(struct cuse_tty *t)
{
	if (t->opens++ == 0 && (t->tio.c_cflag & CBAUD) != B0)
		t->mctrl |= LINES_OUT;
}

void cuse_tty_close(struct cuse_tty *t)
{
	if (t->opens == 0 || --t->opens > 0)
		return;
	if (cuse_tty_hupcl(t))
		t->mctrl &= ~(unsigned)LINES_OUT;
	t->excl = false;
	t->tx_stopped = false;
	t->brk_on = false;
	cuse_tty_rx_flush(t);
}

bool cuse_tty_open_refused(const struct cuse_tty *t, uint32_t uid)
{
	return t->excl && t->opens > 0 && uid != 0;
}

static bool set_line(struct cuse_tty *t, unsigned bit, int v, uint32_t *counter)
{
	bool on = (t->mctrl & bit) != 0;

	if (v == STATE_NULL || (v != 0) == on)
		return false;
	t->mctrl ^= bit;
	(*counter)++;
	return true;
}

bool cuse_tty_set_lines(struct cuse_tty *t, int cts, int dsr, int dcd, int ri)
{
	bool changed = false;

	changed |= set_line(t, TIOCM_CTS, cts, &t->icount.cts);
	changed |= set_line(t, TIOCM_DSR, dsr, &t->icount.dsr);
	changed |= set_line(t, TIOCM_CD, dcd, &t->icount.dcd);
	changed |= set_line(t, TIOCM_RI, ri, &t->icount.rng);
	return changed;
}

void cuse_tty_lines_get(const struct cuse_tty *t, struct cuse_tty_lines *out)
{
	out->dtr = (t->mctrl & TIOCM_DTR) != 0;
	out->rts = (t->mctrl & TIOCM_RTS) != 0;
	out->cts = (t->mctrl & TIOCM_CTS) != 0;
	out->dsr = (t->mctrl & TIOCM_DSR) != 0;
	out->dcd = (t->mctrl & TIOCM_CD) != 0;
	out->ri = (t->mctrl & TIOCM_RI) != 0;
}

bool cuse_tty_miwait_done(const struct cuse_tty *t, unsigned long mask,
			  const struct cuse_tty_icount *snap)
{
	return ((mask & TIOCM_CTS) && t->icount.cts != snap->cts) ||
	       ((mask & TIOCM_DSR) && t->icount.dsr != snap->dsr) ||
	       ((mask & TIOCM_CD) && t->icount.dcd != snap->dcd) ||
	       ((mask & TIOCM_RI) && t->icount.rng != snap->rng);
}

/* ---- input queue ---------------------------------------------------- */

size_t cuse_tty_rx_put(struct cuse_tty *t, const uint8_t *p, size_t n)
{
	size_t room = t->in_limit > t->in_len ? t->in_limit - t->in_len : 0;

	if (n > room)
		n = room;
	if (!n)
		return 0;
	if (t->in_head + t->in_len + n > t->in_cap) {
		/* move to the front first; grow only if that is not enough */
		if (t->in_head)
			memmove(t->in, t->in + t->in_head, t->in_len);
		t->in_head = 0;
		if (t->in_len + n > t->in_cap) {
			size_t cap = t->in_cap ? t->in_cap : 4096;
			uint8_t *b;
			while (cap < t->in_len + n)
				cap *= 2;
			if (cap > t->in_limit)
				cap = t->in_limit;
			if (!(b = realloc(t->in, cap)))
				return 0;
			t->in = b;
			t->in_cap = cap;
		}
	}
	memcpy(t->in + t->in_head + t->in_len, p, n);
	t->in_len += n;
	t->icount.rx += (uint32_t)n;
	return n;
}

size_t cuse_tty_rx_peek(const struct cuse_tty *t, const uint8_t **p)
{
	*p = t->in ? t->in + t->in_head : NULL;
	return t->in_len;
}

void cuse_tty_rx_consume(struct cuse_tty *t, size_t n)
{
	if (n > t->in_len)
		n = t->in_len;
	t->in_head += n;
	t->in_len -= n;
	if (!t->in_len)
		t->in_head = 0;
}

size_t cuse_tty_rx_flush(struct cuse_tty *t)
{
	size_t n = t->in_len;

	t->flushed += n;
	t->in_head = t->in_len = 0;
	return n;
}

/* ---- reads: VMIN/VTIME ------------------------------------------------ */

enum cuse_tty_read cuse_tty_read_plan(const struct cuse_tty *t, size_t size, bool nonblock,
				      bool expired, struct cuse_tty_wait *w)
{
	unsigned vmin = t->tio.c_cc[VMIN], vtime = t->tio.c_cc[VTIME];
	size_t avail = t->in_len, need;

	w->timer = CUSE_TTY_TIMER_NONE;
	w->timer_ms = 0;
	if (size == 0 || expired)
		return CUSE_TTY_READ_NOW;
	if (nonblock)
		return avail ? CUSE_TTY_READ_NOW : CUSE_TTY_READ_AGAIN;
	if (vmin == 0) {
		/* VTIME alone: any byte, or nothing once VTIME has passed */
		if (avail || vtime == 0)
			return CUSE_TTY_READ_NOW;
		w->timer = CUSE_TTY_TIMER_TOTAL;
		w->timer_ms = vtime * 100u;
		return CUSE_TTY_READ_WAIT;
	}
	need = vmin < size ? vmin : size;
	if (avail >= need)
		return CUSE_TTY_READ_NOW;
	if (vtime && avail) {
		/* inter-byte timer: runs once the first byte is there */
		w->timer = CUSE_TTY_TIMER_INTERBYTE;
		w->timer_ms = vtime * 100u;
	}
	return CUSE_TTY_READ_WAIT;
}

bool cuse_tty_readable(const struct cuse_tty *t)
{
	unsigned vmin = t->tio.c_cc[VMIN], vtime = t->tio.c_cc[VTIME];
	size_t need = (vtime == 0 && vmin > 0) ? vmin : 1;

	return t->in_len >= need;
}

/* ---- setting termios -------------------------------------------------- */

/* A new termios, as the kernel takes it on every TCSETS*: the speed fields
 * filled in; as a serial driver, B0 hangs up (drops DTR and RTS), leaving
 * B0 raises DTR, and RTS unless hardware flow control has it. */
static void set_termios(struct cuse_tty *t, struct cuse_tty_termios *n)
{
	uint32_t was = t->tio.c_cflag & CBAUD, now;

	fill_speeds(n);
	now = n->c_cflag & CBAUD;
	if (was != B0 && now == B0)
		t->mctrl &= ~(unsigned)LINES_OUT;
	else if (was == B0 && now != B0)
		t->mctrl |= TIOCM_DTR | ((n->c_cflag & CRTSCTS) ? 0 : TIOCM_RTS);
	t->tio = *n;    /* kept exactly as set: stty reads it back */
}

static void set_bit(uint32_t *flags, uint32_t bit, bool on)
{
	*flags = on ? *flags | bit : *flags & ~bit;
}

void cuse_tty_app_set(struct cuse_tty *t, const struct line_settings *l, int dtr, int rts)
{
	static const uint32_t sizes[] = { CS5, CS6, CS7, CS8 };
	struct cuse_tty_termios n = t->tio;
	uint32_t *c = &n.c_cflag, *i = &n.c_iflag;
	bool changed = false;

	if (l->baud > 0 && l->baud <= UINT32_MAX) {
		/* a standard speed as its code (cfsetspeed), the input speed
		 * as the output one */
		uint32_t code = baud_code((uint32_t)l->baud);

		*c = (*c & ~(uint32_t)(CBAUD | CIBAUD)) | code;
		if (code == BOTHER) {
			*c |= BOTHER << IBSHIFT;
			n.c_ispeed = n.c_ospeed = (uint32_t)l->baud;
		}
		changed = true;
	}
	if (l->data_bits >= 5 && l->data_bits <= 8) {
		*c = (*c & ~(uint32_t)CSIZE) | sizes[l->data_bits - 5];
		changed = true;
	}
	if (l->stop_bits == 1 || l->stop_bits == 2) {
		set_bit(c, CSTOPB, l->stop_bits == 2);
		changed = true;
	}
	if (l->parity != STATE_NULL) {
		set_bit(c, PARENB, l->parity != PARITY_NONE);
		set_bit(c, PARODD, l->parity == PARITY_ODD || l->parity == PARITY_MARK);
		set_bit(c, CMSPAR, l->parity == PARITY_MARK || l->parity == PARITY_SPACE);
		set_bit(i, INPCK, l->parity != PARITY_NONE);
		changed = true;
	}
	if (l->flow != STATE_NULL) {
		set_bit(c, CRTSCTS, l->flow == FLOW_RTSCTS);
		set_bit(i, IXON | IXOFF, l->flow == FLOW_XONXOFF);
		*i &= ~(uint32_t)IXANY;
		changed = true;
	}
	if (changed)
		set_termios(t, &n);
	if (dtr != STATE_NULL)
		t->mctrl = dtr ? t->mctrl | TIOCM_DTR : t->mctrl & ~(unsigned)TIOCM_DTR;
	if (rts != STATE_NULL)
		t->mctrl = rts ? t->mctrl | TIOCM_RTS : t->mctrl & ~(unsigned)TIOCM_RTS;
}

/* ---- ioctl handlers ------------------------------------------------- */

typedef int (*ioctl_fn)(struct cuse_tty *t, unsigned cmd, unsigned long arg, const void *in,
			void *out);

static int io_get_termios(struct cuse_tty *t, unsigned cmd, unsigned long arg, const void *in,
			  void *out)
{
	memcpy(out, &t->tio, cmd == TCGETS ? TERMIOS_V1 : TERMIOS_V2);
	return 0;
}

static int io_set_termios(struct cuse_tty *t, unsigned cmd, unsigned long arg, const void *in,
			  void *out)
{
	bool v1 = cmd == TCSETS || cmd == TCSETSW || cmd == TCSETSF;
	struct cuse_tty_termios n = t->tio;   /* v1 keeps the speed fields */

	memcpy(&n, in, v1 ? TERMIOS_V1 : TERMIOS_V2);
	if (cmd == TCSETSF || cmd == TCSETSF2)
		cuse_tty_rx_flush(t);
	set_termios(t, &n);
	return 0;
}

static int io_tiocmget(struct cuse_tty *t, unsigned cmd, unsigned long arg, const void *in,
		       void *out)
{
	int v = (int)(t->mctrl & (LINES_IN | LINES_OUT));

	memcpy(out, &v, sizeof(v));
	return 0;
}

static int io_tiocmset(struct cuse_tty *t, unsigned cmd, unsigned long arg, const void *in,
		       void *out)
{
	unsigned bits;
	int v;

	memcpy(&v, in, sizeof(v));
	bits = (unsigned)v & LINES_OUT;   /* the application drives DTR and RTS only */
	if (cmd == TIOCMSET)
		t->mctrl = (t->mctrl & ~(unsigned)LINES_OUT) | bits;
	else if (cmd == TIOCMBIS)
		t->mctrl |= bits;
	else
		t->mctrl &= ~bits;
	return 0;
}

static int io_miwait(struct cuse_tty *t, unsigned cmd, unsigned long arg, const void *in,
		     void *out)
{
	return CUSE_TTY_PENDING;
}

static int io_icount(struct cuse_tty *t, unsigned cmd, unsigned long arg, const void *in,
		     void *out)
{
	struct serial_icounter_struct c;

	memset(&c, 0, sizeof(c));
	c.cts = (int)t->icount.cts;
	c.dsr = (int)t->icount.dsr;
	c.rng = (int)t->icount.rng;
	c.dcd = (int)t->icount.dcd;
	c.rx = (int)t->icount.rx;
	c.tx = (int)t->icount.tx;
	c.brk = (int)t->icount.brk;
	memcpy(out, &c, sizeof(c));
	return 0;
}

static int put_int(void *out, size_t v)
{
	int i = v > INT_MAX ? INT_MAX : (int)v;

	memcpy(out, &i, sizeof(i));
	return 0;
}

static int io_inq(struct cuse_tty *t, unsigned cmd, unsigned long arg, const void *in,
		  void *out)
{
	return put_int(out, t->in_len);
}

static int io_outq(struct cuse_tty *t, unsigned cmd, unsigned long arg, const void *in,
		   void *out)
{
	return put_int(out, t->outq);
}

static int io_flush(struct cuse_tty *t, unsigned cmd, unsigned long arg, const void *in,
		    void *out)
{
	if (arg != TCIFLUSH && arg != TCOFLUSH && arg != TCIOFLUSH)
		return -EINVAL;
	if (arg != TCOFLUSH)
		cuse_tty_rx_flush(t);
	if (arg != TCIFLUSH)
		t->fx |= CUSE_TTY_FX_FLUSH_TX;
	return 0;
}

static int io_xonc(struct cuse_tty *t, unsigned cmd, unsigned long arg, const void *in,
		   void *out)
{
	switch (arg) {
	case TCOOFF: t->tx_stopped = true; return 0;
	case TCOON: t->tx_stopped = false; return 0;
	case TCIOFF:
	case TCION: {
		uint8_t c = t->tio.c_cc[arg == TCIOFF ? VSTOP : VSTART];
		if (c) {          /* 0 is _POSIX_VDISABLE: nothing to send */
			t->tx_char = c;
			t->fx |= CUSE_TTY_FX_TX_CHAR;
		}
		return 0;
	}
	default:
		return -EINVAL;
	}
}

/* TCSBRK 0 and TCSBRKP: a timed break (tcsendbreak); TCSBRK n is tcdrain,
 * a no-op here: writes are handed on as they arrive. */
static int io_sendbreak(struct cuse_tty *t, unsigned cmd, unsigned long arg, const void *in,
			void *out)
{
	unsigned long ms;

	if (cmd == TCSBRK && arg != 0)
		return 0;
	ms = arg == 0 ? BREAK_DEFAULT_MS : (arg > BREAK_MAX_MS / 100 ? BREAK_MAX_MS : arg * 100);
	t->break_ms = (uint32_t)ms;
	t->fx |= CUSE_TTY_FX_BREAK;
	return 0;
}

static int io_break_onoff(struct cuse_tty *t, unsigned cmd, unsigned long arg, const void *in,
			  void *out)
{
	if (cmd == TIOCSBRK) {
		if (!t->brk_on) {
			t->brk_on = true;
			t->brk_since = t->now_ms;
		}
	} else if (t->brk_on) {
		uint64_t d = t->now_ms > t->brk_since ? t->now_ms - t->brk_since : 0;
		t->brk_on = false;
		t->break_ms = d == 0 ? 1 : (d > UINT32_MAX ? UINT32_MAX : (uint32_t)d);
		t->fx |= CUSE_TTY_FX_BREAK;
	}
	return 0;
}

static int io_excl(struct cuse_tty *t, unsigned cmd, unsigned long arg, const void *in,
		   void *out)
{
	t->excl = cmd == TIOCEXCL;
	return 0;
}

static int io_getwinsz(struct cuse_tty *t, unsigned cmd, unsigned long arg, const void *in,
		       void *out)
{
	/* 0x0 unless set: stty -a stops without an answer */
	struct winsize w = { t->ws_row, t->ws_col, t->ws_xpixel, t->ws_ypixel };

	memcpy(out, &w, sizeof(w));
	return 0;
}

static int io_setwinsz(struct cuse_tty *t, unsigned cmd, unsigned long arg, const void *in,
		       void *out)
{
	struct winsize w;

	memcpy(&w, in, sizeof(w));
	t->ws_row = w.ws_row;
	t->ws_col = w.ws_col;
	t->ws_xpixel = w.ws_xpixel;
	t->ws_ypixel = w.ws_ypixel;
	return 0;
}

/* ---- the table ------------------------------------------------------ */

struct ioctl_entry {
	unsigned cmd;
	unsigned in, out;       /* pointer argument sizes (0: value / none) */
	ioctl_fn fn;
};

#define INT_SZ ((unsigned)sizeof(int))

static const struct ioctl_entry ioctls[] = {
	{ TCGETS, 0, TERMIOS_V1, io_get_termios },
	{ TCSETS, TERMIOS_V1, 0, io_set_termios },
	{ TCSETSW, TERMIOS_V1, 0, io_set_termios },
	{ TCSETSF, TERMIOS_V1, 0, io_set_termios },
	{ TCGETS2, 0, TERMIOS_V2, io_get_termios },
	{ TCSETS2, TERMIOS_V2, 0, io_set_termios },
	{ TCSETSW2, TERMIOS_V2, 0, io_set_termios },
	{ TCSETSF2, TERMIOS_V2, 0, io_set_termios },
	{ TIOCMGET, 0, INT_SZ, io_tiocmget },
	{ TIOCMSET, INT_SZ, 0, io_tiocmset },
	{ TIOCMBIS, INT_SZ, 0, io_tiocmset },
	{ TIOCMBIC, INT_SZ, 0, io_tiocmset },
	{ TIOCMIWAIT, 0, 0, io_miwait },
	{ TIOCGICOUNT, 0, (unsigned)sizeof(struct serial_icounter_struct), io_icount },
	{ FIONREAD, 0, INT_SZ, io_inq },
	{ TIOCOUTQ, 0, INT_SZ, io_outq },
	{ TCFLSH, 0, 0, io_flush },
	{ TCXONC, 0, 0, io_xonc },
	{ TCSBRK, 0, 0, io_sendbreak },
	{ TCSBRKP, 0, 0, io_sendbreak },
	{ TIOCSBRK, 0, 0, io_break_onoff },
	{ TIOCCBRK, 0, 0, io_break_onoff },
	{ TIOCEXCL, 0, 0, io_excl },
	{ TIOCNXCL, 0, 0, io_excl },
	{ TIOCGWINSZ, 0, (unsigned)sizeof(struct winsize), io_getwinsz },
	{ TIOCSWINSZ, (unsigned)sizeof(struct winsize), 0, io_setwinsz },
};

static const struct ioctl_entry *ioctl_find(unsigned cmd)
{
	for (size_t i = 0; i < sizeof(ioctls) / sizeof(ioctls[0]); i++)
		if (ioctls[i].cmd == cmd)
			return &ioctls[i];
	return NULL;
}

int cuse_tty_ioctl_size(unsigned cmd, size_t *in, size_t *out)
{
	const struct ioctl_entry *e = ioctl_find(cmd);

	if (!e)
		return -ENOTTY;
	*in = e->in;
	*out = e->out;
	return 0;
}

int cuse_tty_ioctl(struct cuse_tty *t, unsigned cmd, unsigned long arg, const void *in,
		   size_t in_len, void *out, size_t *out_len)
{
	const struct ioctl_entry *e = ioctl_find(cmd);

	*out_len = 0;
	if (!e)
		return -ENOTTY;
	if (in_len < e->in || (e->in && !in) || (e->out && !out))
		return -EFAULT;
	*out_len = e->out;
	return e->fn(t, cmd, arg, in, out);
}
