/* port_pty — a virtual serial port: a pseudo-terminal whose slave is linked
 * at LINK_DIR/NAME.
 *
 * The master is in packet mode, and where the system can tell it of the
 * application's tcsetattr (Linux: EXTPROC set on the slave; BSD/macOS:
 * TIOCEXT, unverified) each one arrives as a TIOCPKT_IOCTL status byte.
 * Where it cannot (the portable build, on Linux too), the settings are read
 * with tcgetattr at each tick of the portable watcher (4 Hz) while the port
 * is open, and before the application's bytes are passed on, so a change
 * shows in the state within 250 ms, and before any byte sent after it.
 * Opens are learned from the osdep watcher (the master shows no event before
 * the first open); closes from EIO on the master once its data is read.
 * While closed the master is not polled at all: its HUP is level-triggered
 * and would spin the loop. Polling, reading, buffering toward the
 * application and backpressure are the fd_port core's. */
#include "port.h"
#include "osdep.h"
#include "termios_map.h"
#include "log.h"
#include "fd_port.h"
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

#define READ_SIZE (4096 + 1)          /* packet mode: a status byte, then data */
#define SMALL_READ 1024               /* below this, one read per wake-up */

struct pty_port {
	struct fd_port f;             /* first; f.fd is the master */
	int watch;                    /* osdep handle, -1 none */
	bool destroyed;
	bool reports;                 /* tcsetattr arrives as TIOCPKT_IOCTL */
	char slave[64];
	char link[PATH_MAX];
};

static void pty_emit_state(struct pty_port *p)
{
	p->f.base.ev->state(p->f.base.owner);
}

static void pty_read_settings(struct pty_port *p)
{
	struct line_settings l;

	if (termios_map_read(p->f.fd, true, &l) == 0)
		p->f.base.state.line = l;
}

static void pty_set_open(struct pty_port *p, bool open)
{
	if (p->f.active == open)
		return;
	p->f.base.state.open = open;
	if (open)
		pty_read_settings(p);
	fd_port_set_active(&p->f, open);    /* closed: its output is dropped */
	pty_emit_state(p);
}

/* The application may have changed its settings: tell if it did. */
static void pty_check_settings(struct pty_port *p)
{
	struct line_settings old = p->f.base.state.line;

	pty_read_settings(p);
	if (memcmp(&old, &p->f.base.state.line, sizeof(old)) != 0)
		pty_emit_state(p);
}

/* A status byte from packet mode. */
static void pty_status(struct pty_port *p, uint8_t st)
{
	if (st & TIOCPKT_FLUSHREAD) {
		/* the application discarded its input: so do we */
		outbuf_discard(&p->f.out, &p->f.base.state.dropped);
	}
	if (st & TIOCPKT_FLUSHWRITE)
		p->f.base.ev->flush_tx(p->f.base.owner);
#ifdef TIOCPKT_IOCTL
	if (st & TIOCPKT_IOCTL) {
		/* raw-mode applications clear EXTPROC with c_lflag: set it again */
		termios_map_pty_rearm(p->f.fd);
		pty_check_settings(p);
		return;
	}
#endif
	/* not told of tcsetattr, but of one that changed IXON (TIOCPKT_DOSTOP,
	 * NOSTOP) or flushed: a hint not to wait for the next tick */
	if (!p->reports && p->f.active)
		pty_check_settings(p);
}

/* fd_port: what the master gave, in packet mode (a status byte first). */
static size_t pty_input(struct fd_port *f, uint8_t *buf, size_t n, uint8_t **data)
{
	struct pty_port *p = (struct pty_port *)f;

	if (buf[0] != TIOCPKT_DATA) {
		pty_status(p, buf[0]);
		return 0;
	}
	if (n == 1)
		return 0;
	if (!f->active)
		pty_set_open(p, true);  /* data before the watcher told us */
	else if (!p->reports)
		pty_check_settings(p);  /* a new speed before the bytes sent at it */
	*data = buf + 1;
	return n - 1;
}

/* fd_port: EIO, the last application closed the slave and its data is read. */
static void pty_hangup(struct fd_port *f, int err)
{
	pty_set_open((struct pty_port *)f, false);
}

static void pty_poll_error(struct fd_port *f, int status)
{
	log_warn("port %s: poll: %s", f->base.cfg.name, uv_strerror(status));
}

/* The watcher says the slave was opened. The open may already be over
 * (opened, written, closed): then only read what it left. The portable
 * watcher calls this at each tick whatever happened (osdep.h): an open port
 * that is not told of tcsetattr reads its settings then. */
static void pty_on_open(void *arg)
{
	struct pty_port *p = arg;
	struct pollfd pfd = { .fd = p->f.fd, .events = POLLIN };

	if (p->destroyed)
		return;
	if (p->f.active) {
		if (!p->reports)
			pty_check_settings(p);
		return;
	}
	if (poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLHUP)) {
		fd_port_read(&p->f);     /* drains, then sees EIO */
		return;
	}
	pty_set_open(p, true);
}

/* A pty master, non-blocking and close-on-exec. POSIX leaves
 * posix_openpt's other flags unspecified (FreeBSD refuses them): set after.
 * Nothing in the gateway forks, so there is no exec to race with. */
static int pty_open_master(void)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY), fl;

	if (m < 0)
		return -1;
	if (fcntl(m, F_SETFD, FD_CLOEXEC) < 0 || (fl = fcntl(m, F_GETFL)) < 0 ||
	    fcntl(m, F_SETFL, fl | O_NONBLOCK) < 0) {
		int e = errno;
		close(m);
		errno = e;
		return -1;
	}
	return m;
}

static int pty_start(struct port *base, char *err, size_t errlen)
{
	struct pty_port *p = (struct pty_port *)base;
	static bool said_no_reports;
	int one = 1, rc, m;

	m = p->f.fd = pty_open_master();
	if (m < 0 || grantpt(m) < 0 || unlockpt(m) < 0 ||
	    ptsname_r(m, p->slave, sizeof(p->slave)) != 0) {
		snprintf(err, errlen, "cannot create a pseudo-terminal: %s", strerror(errno));
		return -1;
	}
	if (chown(p->slave, (uid_t)-1, base->env->gid) < 0 || chmod(p->slave, 0660) < 0)
		log_warn("port %s: cannot set group/mode of %s: %s", base->cfg.name, p->slave,
			 strerror(errno));
	if ((rc = termios_map_pty_init(m)) < 0 || ioctl(m, TIOCPKT, &one) < 0 ||
	    (rc = termios_map_pty_report(m)) < 0) {
		snprintf(err, errlen, "cannot set up %s: %s", p->slave,
			 strerror(rc < 0 ? -rc : errno));
		return -1;
	}
	p->reports = rc == 1;
	if (!p->reports && !said_no_reports) {
		said_no_reports = true;
		if (osdep_watch_ticks())
			log_info("ptys here are not told of the application's tcsetattr: a "
				 "pty port reads its settings 4 times a second while open, "
				 "and before it passes on what the application wrote");
		else
			log_warn("ptys here are not told of the application's tcsetattr: a "
				 "pty port reads its settings only before it passes on what "
				 "the application wrote");
	}
	p->watch = osdep_watch_add(base->env->watch, p->slave, pty_on_open, p);
	if (p->watch < 0) {
		snprintf(err, errlen, "cannot watch %s: %s", p->slave, strerror(-p->watch));
		return -1;
	}
	if (port_link_make(base->env->link_dir, base->cfg.name, p->slave, p->link,
			   sizeof(p->link), err, errlen) < 0)
		return -1;
	if (fd_port_attach(&p->f, err, errlen) < 0)
		return -1;
	pty_read_settings(p);
	log_info("port %s: %s -> %s", base->cfg.name, p->link, p->slave);
	return 0;
}

static void pty_free(struct pty_port *p)
{
	if (p->f.fd >= 0)
		close(p->f.fd);
	fd_port_free(&p->f);
	free(p);
}

/* fd_port: the poll closed (only ever after destroy). */
static void pty_closed(struct fd_port *f)
{
	pty_free((struct pty_port *)f);
}

static void pty_destroy(struct port *base)
{
	struct pty_port *p = (struct pty_port *)base;

	p->destroyed = true;
	if (p->watch >= 0)
		osdep_watch_rm(base->env->watch, p->watch);
	port_link_remove(p->link, p->slave);   /* only if it is still ours */
	if (!fd_port_detach(&p->f))     /* else freed once the poll closed */
		pty_free(p);
}

static const char *pty_path(const struct port *base)
{
	const struct pty_port *p = (const struct pty_port *)base;
	return p->link[0] ? p->link : NULL;
}

static const struct port_ops pty_ops = {
	.start = pty_start,
	.write = fd_port_write,
	.pause = fd_port_pause,
	.destroy = pty_destroy,
	.path = pty_path,
};

static const struct fd_port_ops pty_fd_ops = {
	.input = pty_input,
	.hangup = pty_hangup,
	.poll_error = pty_poll_error,
	.closed = pty_closed,
};

struct port *port_pty_new(const struct port_config *cfg, const struct port_env *env,
			  const struct port_events *ev, void *owner)
{
	struct pty_port *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	port_base_init(&p->f.base, &pty_ops, cfg, env, ev, owner);
	fd_port_init(&p->f, &pty_fd_ops, READ_SIZE, SMALL_READ);
	p->watch = -1;
	return &p->f.base;
}
