/* port_device — a real serial device (or anything that is a tty), opened
 * exclusively and bridged like a pty port. A device that vanishes (USB
 * unplugged) or does not exist yet is retried with backoff; the gateway
 * and the other ports carry on. Input modem lines are read with TIOCMGET at
 * 5 Hz, only on devices that have them (a tty without modem lines answers
 * ENOTTY once and is not asked again: its lines are null). Polling,
 * reading, buffering toward the device and backpressure are the fd_port
 * core's; this file opens, retries, sets lines and applies `set`. */
#include "port.h"
#include "fd_port.h"
#include "termios_map.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define RETRY_MIN_MS 250
#define RETRY_MAX_MS 5000
#define MODEM_POLL_MS 200
#define READ_SIZE 4096

struct dev_port {
	struct fd_port f;          /* first; f.fd is the device, -1 while closed */
	uv_timer_t retry, modem, brk;
	int handles;               /* uv handles not yet closed (the poll's too) */
	bool destroyed, has_modem;
	unsigned retry_ms;
	bool warned;               /* "cannot open" logged for this outage */
};

static void dev_try_open(struct dev_port *d);

static void on_retry(uv_timer_t *t)
{
	dev_try_open(t->data);
}

static void dev_free(struct dev_port *d)
{
	fd_port_free(&d->f);
	free(d);
}

static void dev_handle_closed(struct dev_port *d)
{
	if (--d->handles == 0 && d->destroyed)
		dev_free(d);
}

static void dev_on_closed(uv_handle_t *h)
{
	dev_handle_closed(h->data);
}

/* fd_port: the poll of a closed device finished closing. */
static void dev_poll_closed(struct fd_port *f)
{
	dev_handle_closed((struct dev_port *)f);
}

static void dev_emit_state(struct dev_port *d)
{
	d->f.base.ev->state(d->f.base.owner);
}

/* Read back what the device has (termios, modem lines). */
static void dev_refresh(struct dev_port *d)
{
	struct port_state *st = &d->f.base.state;
	int bits;

	termios_map_read(d->f.fd, false, &st->line);
	if (d->has_modem && ioctl(d->f.fd, TIOCMGET, &bits) == 0) {
		st->dtr = !!(bits & TIOCM_DTR);
		st->rts = !!(bits & TIOCM_RTS);
		st->cts = !!(bits & TIOCM_CTS);
		st->dsr = !!(bits & TIOCM_DSR);
		st->dcd = !!(bits & TIOCM_CD);
		st->ri = !!(bits & TIOCM_RI);
	}
}

/* Set DTR and/or RTS (STATE_NULL: leave) on a device that has modem lines:
 * both or neither. 0 (*was, if given: the TIOCM bits before), or -1 + err
 * with the lines as they were. */
static int dev_set_lines(struct dev_port *d, int dtr, int rts, int *was, char *err,
			 size_t errlen)
{
	static const struct { int bit; const char *name; } line[2] = {
		{ TIOCM_DTR, "dtr" }, { TIOCM_RTS, "rts" },
	};
	const int want[2] = { dtr, rts };
	int old, e;

	if (ioctl(d->f.fd, TIOCMGET, &old) < 0) {
		snprintf(err, errlen, "%s cannot report its modem lines: %s", d->f.base.cfg.device,
			 strerror(errno));
		return -1;
	}
	for (int i = 0; i < 2; i++) {
		int bit = line[i].bit;

		if (want[i] == STATE_NULL || ioctl(d->f.fd, want[i] ? TIOCMBIS : TIOCMBIC, &bit) == 0)
			continue;
		e = errno;
		for (int j = 0; j < i; j++) {      /* put back what was changed */
			bit = line[j].bit;
			if (want[j] != STATE_NULL && ioctl(d->f.fd, (old & bit) ? TIOCMBIS : TIOCMBIC,
							  &bit) < 0)
				log_warn("port %s: cannot restore %s: %s", d->f.base.cfg.name,
					 line[j].name, strerror(errno));
		}
		snprintf(err, errlen, "%s cannot set %s: %s", d->f.base.cfg.device, line[i].name,
			 strerror(e));
		return -1;
	}
	if (was)
		*was = old;
	return 0;
}

static void on_modem_timer(uv_timer_t *t)
{
	struct dev_port *d = t->data;
	struct port_state before = d->f.base.state;

	dev_refresh(d);
	if (port_state_lines_differ(&before, &d->f.base.state))
		dev_emit_state(d);
}

/* Close a device opened with TIOCEXCL, exclusive mode off first: on a pty
 * slave (a device made by socat, another gateway's port) the flag outlives
 * our close while its master is open, and every later open by anyone but
 * root, our own restart included, fails with EBUSY. A real tty forgets the
 * flag at its last close. */
static void dev_release(int fd)
{
	(void)ioctl(fd, TIOCNXCL);
	close(fd);
}

static void dev_close_fd(struct dev_port *d, const char *why)
{
	struct port_state *st = &d->f.base.state;
	uint64_t tx, rx, dropped;

	if (d->f.fd < 0)
		return;
	fd_port_detach(&d->f);
	fd_port_set_active(&d->f, false);     /* its buffered output: dropped */
	uv_timer_stop(&d->modem);
	dev_release(d->f.fd);
	d->f.fd = -1;
	/* nothing is known of a closed device; the counters survive the outage */
	tx = st->tx_bytes;
	rx = st->rx_bytes;
	dropped = st->dropped;
	port_state_init(st);
	st->tx_bytes = tx;
	st->rx_bytes = rx;
	st->dropped = dropped;
	log_warn("port %s: %s closed: %s", d->f.base.cfg.name, d->f.base.cfg.device, why);
}

static void dev_lost(struct dev_port *d, const char *why)
{
	dev_close_fd(d, why);
	d->retry_ms = RETRY_MIN_MS;
	d->warned = false;
	uv_timer_start(&d->retry, on_retry, d->retry_ms, 0);
	dev_emit_state(d);
}

/* fd_port: read() gave end of file or an error. */
static void dev_hangup(struct fd_port *f, int err)
{
	dev_lost((struct dev_port *)f, err ? strerror(err) : "hang-up");
}

/* fd_port: a hung-up tty shows as POLLERR, which libuv reports as EBADF. */
static void dev_poll_error(struct fd_port *f, int status)
{
	dev_lost((struct dev_port *)f, "device gone (hang-up)");
}

static void dev_try_open(struct dev_port *d)
{
	const struct port_config *c = &d->f.base.cfg;
	struct line_settings l = { c->baud, c->data_bits, c->parity, c->stop_bits, c->flow };
	char why[256];
	int fd, bits;

	if (d->destroyed || d->f.fd >= 0)
		return;
	if (d->f.closing) {       /* the old poll is still closing */
		uv_timer_start(&d->retry, on_retry, 10, 0);
		return;
	}
	fd = open(c->device, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd >= 0 && !isatty(fd)) {
		close(fd);
		fd = -1;
		errno = ENOTTY;
	}
	if (fd >= 0 && ioctl(fd, TIOCEXCL) < 0)
		log_debug("port %s: TIOCEXCL: %s", c->name, strerror(errno));
	snprintf(why, sizeof(why), "%s", fd < 0 ? strerror(errno) : "");
	if (fd >= 0 && termios_map_apply(fd, &l, why, sizeof(why)) < 0) {
		dev_release(fd);
		fd = -1;
	}
	if (fd < 0) {
		char msg[PORT_DEVICE_MAX + 320];
		snprintf(msg, sizeof(msg), "cannot open %s (%s); retrying", c->device, why);
		port_problem(&d->f.base, msg);
		if (!d->warned)
			log_warn("port %s: %s", c->name, msg);
		d->warned = true;
		uv_timer_start(&d->retry, on_retry, d->retry_ms, 0);
		d->retry_ms = d->retry_ms * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : d->retry_ms * 2;
		return;
	}
	d->f.fd = fd;
	d->has_modem = ioctl(fd, TIOCMGET, &bits) == 0;
	/* set the lines right away, so opening does not reset an Arduino or
	 * key a transmitter */
	if (d->has_modem && dev_set_lines(d, c->dtr, c->rts, NULL, why, sizeof(why)) < 0)
		log_warn("port %s: %s", c->name, why);
	if (fd_port_attach(&d->f, why, sizeof(why)) < 0) {
		log_warn("port %s: %s; retrying", c->name, why);
		dev_release(fd);
		d->f.fd = -1;
		uv_timer_start(&d->retry, on_retry, d->retry_ms, 0);
		return;
	}
	d->handles++;
	d->f.base.state.open = true;
	dev_refresh(d);
	if (d->has_modem)
		uv_timer_start(&d->modem, on_modem_timer, MODEM_POLL_MS, MODEM_POLL_MS);
	fd_port_set_active(&d->f, true);
	log_info("port %s: %s open%s", c->name, c->device, d->has_modem ? "" : " (no modem lines)");
	port_problem(&d->f.base, NULL);
	dev_emit_state(d);
}

static int dev_start(struct port *base, char *err, size_t errlen)
{
	struct dev_port *d = (struct dev_port *)base;
	uv_loop_t *loop = base->env->loop;

	uv_timer_init(loop, &d->retry);
	uv_timer_init(loop, &d->modem);
	uv_timer_init(loop, &d->brk);
	d->retry.data = d->modem.data = d->brk.data = d;
	d->handles = 3;
	d->retry_ms = RETRY_MIN_MS;
	dev_try_open(d);     /* a missing device is retried, not an error */
	return 0;
}

static void on_break_end(uv_timer_t *t)
{
	struct dev_port *d = t->data;

	if (d->f.fd >= 0)
		ioctl(d->f.fd, TIOCCBRK);
}

/* Can s be applied whole? -1 + err if not (nothing is touched). */
static int dev_set_check(struct dev_port *d, const struct line_set *s, char *err,
			 size_t errlen)
{
	if (line_set_has_inputs(s)) {
		snprintf(err, errlen, "cts, dsr, dcd and ri are what the device reports; "
			 "set cannot change them on a device port");
		return -1;
	}
	if (d->f.fd < 0) {
		snprintf(err, errlen, "%s is not open", d->f.base.cfg.device);
		return -1;
	}
	if (!d->has_modem && !s->lines_if_any && (s->dtr != STATE_NULL || s->rts != STATE_NULL)) {
		snprintf(err, errlen, "%s has no modem lines: dtr and rts cannot be set, "
			 "so nothing was changed", d->f.base.cfg.device);
		return -1;
	}
	return 0;
}

/* What a line changed by a set was before it (TIOCM bits), to put it back. */
static int line_was(int asked, int bits, int bit)
{
	return asked == STATE_NULL ? STATE_NULL : !!(bits & bit);
}

/* A `set` is applied whole or not at all: line settings, then the modem
 * lines, then the break; a step that fails undoes the ones before it. */
static int dev_set(struct port *base, const struct line_set *s, char *err, size_t errlen)
{
	struct dev_port *d = (struct dev_port *)base;
	struct line_settings old, l;
	bool lines = d->has_modem && (s->dtr != STATE_NULL || s->rts != STATE_NULL);
	bool settings = line_set_has_settings(s);
	char why[200];
	int bits = 0;

	if (dev_set_check(d, s, err, errlen) < 0)
		return -1;
	if (termios_map_read(d->f.fd, false, &old) < 0)
		old = base->state.line;
	l = old;
	line_set_merge(s, &l);
	if (settings && termios_map_apply(d->f.fd, &l, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "%s refused the settings: %s", base->cfg.device, why);
		return -1;
	}
	if (lines && dev_set_lines(d, s->dtr, s->rts, &bits, err, errlen) < 0)
		goto undo;
	if (s->break_ms && ioctl(d->f.fd, TIOCSBRK) < 0) {
		snprintf(err, errlen, "%s cannot send a break: %s", base->cfg.device,
			 strerror(errno));
		if (lines && dev_set_lines(d, line_was(s->dtr, bits, TIOCM_DTR),
					   line_was(s->rts, bits, TIOCM_RTS),
					   NULL, why, sizeof(why)) < 0)
			log_warn("port %s: %s", base->cfg.name, why);
		goto undo;
	}
	if (s->break_ms)
		uv_timer_start(&d->brk, on_break_end, (uint64_t)s->break_ms, 0);
	dev_refresh(d);
	dev_emit_state(d);
	return 0;
undo:
	if (settings && termios_map_apply(d->f.fd, &old, why, sizeof(why)) < 0)
		log_warn("port %s: cannot restore the line settings: %s", base->cfg.name, why);
	return -1;
}

static void dev_destroy(struct port *base)
{
	struct dev_port *d = (struct dev_port *)base;

	d->destroyed = true;
	fd_port_detach(&d->f);
	if (d->f.fd >= 0) {
		dev_release(d->f.fd);
		d->f.fd = -1;
	}
	if (d->handles == 0) {        /* never started */
		dev_free(d);
		return;
	}
	uv_close((uv_handle_t *)&d->retry, dev_on_closed);
	uv_close((uv_handle_t *)&d->modem, dev_on_closed);
	uv_close((uv_handle_t *)&d->brk, dev_on_closed);
}

static const char *dev_path(const struct port *base)
{
	(void)base;
	return NULL;    /* the device has its own path; no link is made */
}

static const struct port_ops dev_ops = {
	.start = dev_start,
	.write = fd_port_write,
	.pause = fd_port_pause,
	.destroy = dev_destroy,
	.path = dev_path,
	.set = dev_set,
};

static const struct fd_port_ops dev_fd_ops = {
	.hangup = dev_hangup,
	.poll_error = dev_poll_error,
	.closed = dev_poll_closed,
};

struct port *port_device_new(const struct port_config *cfg, const struct port_env *env,
			     const struct port_events *ev, void *owner)
{
	struct dev_port *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	port_base_init(&d->f.base, &dev_ops, cfg, env, ev, owner);
	fd_port_init(&d->f, &dev_fd_ops, READ_SIZE, 0);
	return &d->f.base;
}
