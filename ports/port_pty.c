/* port_pty — a virtual serial port: a pseudo-terminal whose slave is linked
 * at LINK_DIR/NAME.
 *
 * The master is in packet mode with EXTPROC set on the slave, so each
 * tcsetattr of the application arrives as a TIOCPKT_IOCTL status byte.
 * Opens are learned from the osdep watcher (the master shows no event before
 * the first open); closes from EIO on the master once its data is read.
 * While closed the master is not polled at all: its HUP is level-triggered
 * and would spin the loop. */
#include "port.h"
#include "osdep.h"
#include "termios_map.h"
#include "log.h"
#include "outbuf.h"
#include "port_link.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#define READ_CHUNK 4096
#define READ_BUDGET (64 * 1024)
#define SMALL_READ 1024               /* below this, one read per wake-up */   /* per wake-up, so one port cannot starve others */

struct pty_port {
	struct port base;
	uv_poll_t poll;
	bool poll_init;
	int master;
	int watch;                    /* osdep handle, -1 none */
	bool open;                    /* an application holds the slave */
	bool paused;
	bool destroyed;
	int poll_events;              /* what uv_poll is started with now */
	char slave[64];
	char link[PATH_MAX];
	struct outbuf out;            /* bytes toward the application */
};

static void pty_update_poll(struct pty_port *p);

static void pty_emit_state(struct pty_port *p)
{
	p->base.ev->state(p->base.owner);
}

static void pty_read_settings(struct pty_port *p)
{
	struct line_settings l;

	if (termios_map_read(p->master, true, &l) == 0)
		p->base.state.line = l;
}

static void pty_set_open(struct pty_port *p, bool open)
{
	if (p->open == open)
		return;
	p->open = open;
	p->base.state.open = open;
	if (!open)      /* nobody left to read it */
		outbuf_discard(&p->out, &p->base.state.dropped);
	if (open)
		pty_read_settings(p);
	pty_update_poll(p);
	pty_emit_state(p);
}

/* A status byte from packet mode. */
static void pty_status(struct pty_port *p, uint8_t st)
{
	if (st & TIOCPKT_FLUSHREAD) {
		/* the application discarded its input: so do we */
		outbuf_discard(&p->out, &p->base.state.dropped);
	}
	if (st & TIOCPKT_FLUSHWRITE)
		p->base.ev->flush_tx(p->base.owner);
	if (st & TIOCPKT_IOCTL) {
		struct line_settings old = p->base.state.line;
		/* raw-mode applications clear EXTPROC with c_lflag: set it again */
		termios_map_pty_extproc(p->master);
		pty_read_settings(p);
		if (memcmp(&old, &p->base.state.line, sizeof(old)) != 0)
			pty_emit_state(p);
	}
}

static void pty_on_readable(struct pty_port *p)
{
	uint8_t buf[READ_CHUNK + 1];
	size_t budget = READ_BUDGET;
	bool got = false;

	while (budget && !p->paused && !p->destroyed) {
		ssize_t n = read(p->master, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {
			/* EIO: the last application closed the slave and its data is read */
			if (got)
				p->base.ev->drained(p->base.owner);
			got = false;
			pty_set_open(p, false);
			return;
		}
		if (buf[0] != TIOCPKT_DATA) {
			pty_status(p, buf[0]);
			continue;
		}
		if (n == 1)
			continue;
		if (!p->open)
			pty_set_open(p, true);  /* data before the watcher told us */
		p->base.state.tx_bytes += (uint64_t)(n - 1);
		p->base.ev->data(p->base.owner, buf + 1, (size_t)(n - 1));
		budget = (size_t)(n - 1) >= budget ? 0 : budget - (size_t)(n - 1);
		got = true;
		/* A small read (CAT-sized traffic) took all there was: asking
		 * again would only wait for the pty's flush work to say EAGAIN;
		 * the level-triggered poll reports the master again if more came.
		 * Bulk transfers keep reading (a pty master rarely fills buf, so
		 * "shorter than buf" would cut every burst into single reads). */
		if (n - 1 < SMALL_READ)
			break;
	}
	if (got)
		p->base.ev->drained(p->base.owner);
}

static void pty_on_poll(uv_poll_t *h, int status, int events)
{
	struct pty_port *p = h->data;

	if (status < 0) {
		log_warn("port %s: poll: %s", p->base.cfg.name, uv_strerror(status));
		return;
	}
	if (events & UV_WRITABLE) {
		outbuf_flush(&p->out, p->master, &p->base.state.rx_bytes);
		pty_update_poll(p);
	}
	if (events & (UV_READABLE | UV_DISCONNECT))
		pty_on_readable(p);
}

static void pty_update_poll(struct pty_port *p)
{
	int want = 0;

	if (p->destroyed || !p->poll_init)
		return;
	if (p->open && !p->paused)
		want |= UV_READABLE;
	if (p->open && p->out.len)
		want |= UV_WRITABLE;
	if (want == p->poll_events)
		return;
	p->poll_events = want;
	if (want)
		uv_poll_start(&p->poll, want, pty_on_poll);
	else
		uv_poll_stop(&p->poll);
}

/* The watcher says the slave was opened. The open may already be over
 * (opened, written, closed): then only read what it left. */
static void pty_on_open(void *arg)
{
	struct pty_port *p = arg;
	struct pollfd pfd = { .fd = p->master, .events = POLLIN };

	if (p->open || p->destroyed)
		return;
	if (poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLHUP)) {
		pty_on_readable(p);     /* drains, then sees EIO */
		return;
	}
	pty_set_open(p, true);
}

static int pty_start(struct port *base, char *err, size_t errlen)
{
	struct pty_port *p = (struct pty_port *)base;
	int one = 1, rc;

	p->master = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (p->master < 0 || grantpt(p->master) < 0 || unlockpt(p->master) < 0 ||
	    ptsname_r(p->master, p->slave, sizeof(p->slave)) != 0) {
		snprintf(err, errlen, "cannot create a pseudo-terminal: %s", strerror(errno));
		return -1;
	}
	if (chown(p->slave, (uid_t)-1, p->base.env->gid) < 0 || chmod(p->slave, 0660) < 0)
		log_warn("port %s: cannot set group/mode of %s: %s", base->cfg.name, p->slave,
			 strerror(errno));
	if ((rc = termios_map_pty_init(p->master)) < 0 || ioctl(p->master, TIOCPKT, &one) < 0) {
		snprintf(err, errlen, "cannot set up %s: %s", p->slave,
			 strerror(rc < 0 ? -rc : errno));
		return -1;
	}
	p->watch = osdep_watch_add(p->base.env->watch, p->slave, pty_on_open, p);
	if (p->watch < 0) {
		snprintf(err, errlen, "cannot watch %s: %s", p->slave, strerror(-p->watch));
		return -1;
	}
	if (port_link_make(p->base.env->link_dir, base->cfg.name, p->slave, p->link,
			   sizeof(p->link), err, errlen) < 0)
		return -1;
	uv_poll_init(p->base.env->loop, &p->poll, p->master);
	p->poll.data = p;
	p->poll_init = true;
	pty_read_settings(p);
	log_info("port %s: %s -> %s", base->cfg.name, p->link, p->slave);
	return 0;
}

static void pty_write(struct port *base, const uint8_t *data, size_t n)
{
	struct pty_port *p = (struct pty_port *)base;

	if (!p->open) {
		base->state.dropped += n;
		return;
	}
	outbuf_write(&p->out, p->master, data, n, base->env->rx_limit, &base->state.rx_bytes,
		     &base->state.dropped);
	pty_update_poll(p);
}

static void pty_pause(struct port *base, bool paused)
{
	struct pty_port *p = (struct pty_port *)base;

	if (p->paused == paused)
		return;
	p->paused = paused;
	pty_update_poll(p);
}

static void pty_free(struct pty_port *p)
{
	if (p->master >= 0)
		close(p->master);
	outbuf_free(&p->out);
	free(p);
}

static void pty_on_close(uv_handle_t *h)
{
	pty_free(h->data);
}

static void pty_destroy(struct port *base)
{
	struct pty_port *p = (struct pty_port *)base;

	p->destroyed = true;
	if (p->watch >= 0)
		osdep_watch_rm(base->env->watch, p->watch);
	port_link_remove(p->link, p->slave);   /* only if it is still ours */
	if (p->poll_init) {
		uv_poll_stop(&p->poll);
		uv_close((uv_handle_t *)&p->poll, pty_on_close);
	} else {
		pty_free(p);
	}
}

static const char *pty_path(const struct port *base)
{
	const struct pty_port *p = (const struct pty_port *)base;
	return p->link[0] ? p->link : NULL;
}

static const struct port_ops pty_ops = {
	.start = pty_start,
	.write = pty_write,
	.pause = pty_pause,
	.destroy = pty_destroy,
	.path = pty_path,
};

struct port *port_pty_new(const struct port_config *cfg, const struct port_env *env,
			  const struct port_events *ev, void *owner)
{
	struct pty_port *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	port_base_init(&p->base, &pty_ops, cfg, env, ev, owner);
	p->master = -1;
	p->watch = -1;
	return &p->base;
}
