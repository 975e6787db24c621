/* port_cuse — a virtual serial port with full fidelity: a character device
 * /dev/ttyMQ-NAME served through CUSE, linked at LINK_DIR/NAME.
 *
 * The tty itself (termios as set, modem lines, input queue, the ioctls) is
 * cuse_tty.c, pure; this file is the fuse layer on the gateway's loop. There
 * is no fuse thread: the /dev/cuse fd is non-blocking and watched by a
 * uv_poll; each readable event receives and processes requests.
 *
 * Requests that cannot be answered now are kept: blocking reads (VMIN/VTIME,
 * VTIME on a uv timer), writes while the owner has paused us or TCOOFF holds
 * the output, TIOCMIWAIT (cuse_pend.c). They are answered by settle(), which
 * runs after every batch of requests and every call from the owner; it also
 * answers EINTR to those a signal interrupted. */
#define FUSE_USE_VERSION 31
#include <cuse_lowlevel.h>
#include <fuse_lowlevel.h>

#include "port.h"
#include "port_link.h"
#include "cuse_tty.h"
#include "cuse_pend.h"
#include "termios2_map.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NODE_PREFIX "/dev/ttyMQ-"
#define REQ_BUDGET 64          /* requests per wake-up, so one port cannot starve others */
#define INIT_WAIT_MS 2000
/* Writes arrive in pieces of at most this, so the owner's bound is passed
 * by at most one piece (as with a pty read). */
#define WRITE_MAX (64 * 1024)

/* One open file description of the node. */
struct cuse_file {
	struct cuse_file *next;
	struct fuse_pollhandle *ph;    /* owned; NULL: nobody polls */
};

struct cuse_port {
	struct port base;
	struct cuse_tty tty;
	struct fuse_session *se;       /* owns the /dev/cuse fd */
	struct fuse_buf fbuf;          /* receive buffer, reused */
	uv_poll_t poll;
	uv_timer_t vtime;
	int handles;                   /* uv handles not yet closed */
	bool init_done, dead, paused, destroyed, in_settle, settle_again;
	struct cuse_pend_list reads, writes, waits;
	struct cuse_pend *timer_for;   /* the read the VTIME timer runs for */
	uint32_t timer_rx;             /* icount.rx when the inter-byte timer started */
	bool expired;                  /* the head read's VTIME ran out */
	struct cuse_file *files;
	bool poll_in, poll_out;        /* readiness last told to pollers */
	struct port_state emitted;     /* state last told to the owner */
	char node[64];
	char link[PATH_MAX];
};

static void settle(struct cuse_port *p);

/* ---- the owner's side ------------------------------------------------ */

static bool tx_open(const struct cuse_port *p)
{
	return !p->paused && !p->tty.tx_stopped;
}

/* Bytes the application wrote go to the owner. */
static void deliver(struct cuse_port *p, const uint8_t *d, size_t n)
{
	p->base.state.tx_bytes += n;
	p->tty.icount.tx += (uint32_t)n;
	p->base.ev->data(p->base.owner, d, n);
}

/* Carry out what the last cuse_tty call asked for. */
static void apply_fx(struct cuse_port *p)
{
	unsigned fx = p->tty.fx;

	p->tty.fx = 0;
	if (fx & CUSE_TTY_FX_FLUSH_TX)
		p->base.ev->flush_tx(p->base.owner);
	if (fx & CUSE_TTY_FX_TX_CHAR) {
		uint8_t c = p->tty.tx_char;
		deliver(p, &c, 1);
		p->base.ev->drained(p->base.owner);
	}
	if ((fx & CUSE_TTY_FX_BREAK) && p->base.ev->event) {
		json_t *e = json_pack("{s:I}", "break_ms", (json_int_t)p->tty.break_ms);
		if (e)
			p->base.ev->event(p->base.owner, e);
		json_decref(e);
	}
}

/* Copy the tty into port->state; tell the owner if a line changed. */
static void sync_state(struct cuse_port *p, bool tell)
{
	struct port_state *st = &p->base.state;
	const struct cuse_tty_termios *o = &p->tty.tio;
	struct cuse_tty_lines l;

	st->open = p->tty.opens > 0 && !p->dead;
	termios2_map_decode(o->c_cflag, o->c_iflag, o->c_ospeed, false, &st->line);
	cuse_tty_lines_get(&p->tty, &l);
	st->dtr = l.dtr;
	st->rts = l.rts;
	st->cts = l.cts;
	st->dsr = l.dsr;
	st->dcd = l.dcd;
	st->ri = l.ri;
	st->dropped += p->tty.flushed;     /* input the application discarded */
	p->tty.flushed = 0;
	if (!port_state_lines_differ(&p->emitted, st))
		return;
	p->emitted = *st;
	if (tell)
		p->base.ev->state(p->base.owner);
}

/* ---- reads ------------------------------------------------------------ */

static void reply_read(struct cuse_port *p, fuse_req_t req, size_t size)
{
	const uint8_t *d;
	size_t n = cuse_tty_rx_peek(&p->tty, &d);

	if (n > size)
		n = size;
	fuse_reply_buf(req, n ? (const char *)d : "", n);
	cuse_tty_rx_consume(&p->tty, n);
	p->base.state.rx_bytes += n;
}

static void on_vtime(uv_timer_t *t)
{
	struct cuse_port *p = t->data;

	p->expired = true;
	settle(p);
}

static void head_done(struct cuse_port *p)
{
	if (p->timer_for)
		uv_timer_stop(&p->vtime);
	p->timer_for = NULL;
	p->expired = false;
}

static void arm_timer(struct cuse_port *p, struct cuse_pend *r, const struct cuse_tty_wait *w)
{
	bool start = false;

	if (w->timer == CUSE_TTY_TIMER_NONE) {
		head_done(p);
		return;
	}
	if (w->timer == CUSE_TTY_TIMER_TOTAL)
		start = p->timer_for != r;          /* once, from the start of the read */
	else
		start = p->timer_for != r || p->timer_rx != p->tty.icount.rx;   /* per byte */
	if (!start)
		return;
	p->timer_for = r;
	p->timer_rx = p->tty.icount.rx;
	uv_timer_start(&p->vtime, on_vtime, w->timer_ms, 0);
}

static void serve_reads(struct cuse_port *p)
{
	struct cuse_pend *r;
	struct cuse_tty_wait w;

	while ((r = p->reads.head)) {
		if (cuse_tty_read_plan(&p->tty, r->size, false, p->expired, &w) ==
		    CUSE_TTY_READ_WAIT) {
			arm_timer(p, r, &w);
			return;
		}
		cuse_pend_pop(&p->reads);
		head_done(p);
		reply_read(p, r->req, r->size);
		free(r);
	}
}

/* ---- settle: answer what can be answered now --------------------------- */

static void serve_writes(struct cuse_port *p)
{
	bool any = false;
	struct cuse_pend *w;

	while (p->writes.head && tx_open(p) && !p->destroyed) {
		w = cuse_pend_pop(&p->writes);
		deliver(p, w->data, w->size);   /* may pause us: the loop checks */
		fuse_reply_write(w->req, w->size);
		free(w);
		any = true;
	}
	if (any && !p->destroyed)
		p->base.ev->drained(p->base.owner);
}

static bool miwait_ready(const struct cuse_pend *w, void *arg)
{
	const struct cuse_port *p = arg;

	return cuse_tty_miwait_done(&p->tty, w->mask, &w->snap);
}

static void serve_waits(struct cuse_port *p)
{
	struct cuse_pend *w;

	while ((w = cuse_pend_take(&p->waits, miwait_ready, p))) {
		fuse_reply_ioctl(w->req, 0, NULL, 0);
		free(w);
	}
}

/* Answer what a signal interrupted with EINTR. */
static void sweep(struct cuse_pend_list *l)
{
	struct cuse_pend *w;

	while ((w = cuse_pend_take(l, cuse_pend_interrupted, NULL))) {
		fuse_reply_err(w->req, EINTR);
		free(w);
	}
}

/* Wake pollers when readiness changed; each handle is used once (the
 * kernel polls again and hands a new one). */
static void notify_polls(struct cuse_port *p)
{
	bool in = cuse_tty_readable(&p->tty), out = tx_open(p) && !p->writes.head;

	if (in == p->poll_in && out == p->poll_out)
		return;
	p->poll_in = in;
	p->poll_out = out;
	for (struct cuse_file *f = p->files; f; f = f->next) {
		if (!f->ph)
			continue;
		fuse_lowlevel_notify_poll(f->ph);
		fuse_pollhandle_destroy(f->ph);
		f->ph = NULL;
	}
}

static void settle(struct cuse_port *p)
{
	struct cuse_pend *head;

	if (p->destroyed || !p->se)
		return;
	if (p->in_settle) {        /* an owner callback called us back */
		p->settle_again = true;
		return;
	}
	p->in_settle = true;
	do {
		p->settle_again = false;
		head = p->reads.head;
		sweep(&p->reads);
		if (p->reads.head != head)
			head_done(p);
		sweep(&p->writes);
		sweep(&p->waits);
		serve_writes(p);
		serve_reads(p);
		serve_waits(p);
		notify_polls(p);
		sync_state(p, true);
	} while (p->settle_again && !p->destroyed);
	p->in_settle = false;
}

/* ---- fuse operations ---------------------------------------------------- */

static struct cuse_port *req_port(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

static struct cuse_file *file_of(const struct fuse_file_info *fi)
{
	return (struct cuse_file *)(uintptr_t)fi->fh;
}

static void op_init(void *userdata, struct fuse_conn_info *conn)
{
	(void)userdata;
	if (conn->max_write > WRITE_MAX)
		conn->max_write = WRITE_MAX;
}

static void op_init_done(void *userdata)
{
	struct cuse_port *p = userdata;

	p->init_done = true;
}

static void op_open(fuse_req_t req, struct fuse_file_info *fi)
{
	struct cuse_port *p = req_port(req);
	struct cuse_file *f;

	if (cuse_tty_open_refused(&p->tty, fuse_req_ctx(req)->uid)) {
		fuse_reply_err(req, EBUSY);     /* TIOCEXCL */
		return;
	}
	if (!(f = calloc(1, sizeof(*f)))) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	fi->fh = (uint64_t)(uintptr_t)f;
	fi->nonseekable = 1;
	fi->direct_io = 1;
	if (fuse_reply_open(req, fi) != 0) {   /* the open was aborted */
		free(f);
		return;
	}
	f->next = p->files;
	p->files = f;
	cuse_tty_open(&p->tty);
}

static void op_release(fuse_req_t req, struct fuse_file_info *fi)
{
	struct cuse_port *p = req_port(req);
	struct cuse_file *f = file_of(fi), **pp;

	for (pp = &p->files; *pp && *pp != f; pp = &(*pp)->next)
		;
	if (*pp) {
		*pp = f->next;
		if (f->ph)
			fuse_pollhandle_destroy(f->ph);
		free(f);
		cuse_tty_close(&p->tty);
	}
	fuse_reply_err(req, 0);
}

static void op_read(fuse_req_t req, size_t size, off_t off, struct fuse_file_info *fi)
{
	struct cuse_port *p = req_port(req);
	bool nonblock = (fi->flags & O_NONBLOCK) != 0;
	struct cuse_tty_wait w;

	(void)off;
	if (p->reads.head) {           /* others wait first */
		if (nonblock)
			fuse_reply_err(req, EAGAIN);
		else
			cuse_pend_add(&p->reads, req, NULL, size);
		return;
	}
	switch (cuse_tty_read_plan(&p->tty, size, nonblock, false, &w)) {
	case CUSE_TTY_READ_NOW:
		reply_read(p, req, size);
		break;
	case CUSE_TTY_READ_AGAIN:
		fuse_reply_err(req, EAGAIN);
		break;
	case CUSE_TTY_READ_WAIT:
		cuse_pend_add(&p->reads, req, NULL, size);   /* settle() arms VTIME */
		break;
	}
}

static void op_write(fuse_req_t req, const char *buf, size_t size, off_t off,
		     struct fuse_file_info *fi)
{
	struct cuse_port *p = req_port(req);

	(void)off;
	if (!p->writes.head && tx_open(p)) {
		deliver(p, (const uint8_t *)buf, size);
		fuse_reply_write(req, size);
		p->base.ev->drained(p->base.owner);
		return;
	}
	/* held back: the owner's bound is full (as under hardware flow
	 * control) or TCOOFF */
	if (fi->flags & O_NONBLOCK)
		fuse_reply_err(req, EAGAIN);
	else
		cuse_pend_add(&p->writes, req, buf, size);
}

static void op_ioctl(fuse_req_t req, int cmd, void *arg, struct fuse_file_info *fi,
		     unsigned flags, const void *in_buf, size_t in_bufsz, size_t out_bufsz)
{
	struct cuse_port *p = req_port(req);
	unsigned c = (unsigned)cmd;        /* TCGETS2 is above INT_MAX */
	uint8_t out[128];
	size_t in_sz, out_sz, out_len;
	struct cuse_pend *w;
	int rc;

	(void)fi;
	(void)flags;
	if (cuse_tty_ioctl_size(c, &in_sz, &out_sz) < 0 || out_sz > sizeof(out)) {
		fuse_reply_err(req, ENOTTY);
		return;
	}
	if (in_bufsz < in_sz || out_bufsz < out_sz) {
		/* classic tty ioctls encode no size: ask the kernel to copy the
		 * caller's memory at arg in / out and call again */
		struct iovec iin = { arg, in_sz }, iout = { arg, out_sz };
		fuse_reply_ioctl_retry(req, in_sz ? &iin : NULL, in_sz ? 1 : 0,
				       out_sz ? &iout : NULL, out_sz ? 1 : 0);
		return;
	}
	p->tty.now_ms = uv_hrtime() / 1000000u;
	p->tty.outq = cuse_pend_bytes(&p->writes);
	rc = cuse_tty_ioctl(&p->tty, c, (unsigned long)(uintptr_t)arg, in_buf, in_bufsz, out,
			    &out_len);
	apply_fx(p);
	if (rc == CUSE_TTY_PENDING) {      /* TIOCMIWAIT: the mask is arg */
		if ((w = cuse_pend_add(&p->waits, req, NULL, 0))) {
			w->mask = (unsigned long)(uintptr_t)arg;
			w->snap = p->tty.icount;
		}
	} else if (rc < 0) {
		fuse_reply_err(req, -rc);
	} else {
		fuse_reply_ioctl(req, 0, out_len ? out : NULL, out_len);
	}
}

static void op_poll(fuse_req_t req, struct fuse_file_info *fi, struct fuse_pollhandle *ph)
{
	struct cuse_port *p = req_port(req);
	struct cuse_file *f = file_of(fi);
	unsigned revents = 0;

	if (ph && f) {
		if (f->ph)
			fuse_pollhandle_destroy(f->ph);
		f->ph = ph;
	} else if (ph) {
		fuse_pollhandle_destroy(ph);
	}
	if (cuse_tty_readable(&p->tty))
		revents |= POLLIN | POLLRDNORM;
	if (tx_open(p) && !p->writes.head)
		revents |= POLLOUT | POLLWRNORM;
	fuse_reply_poll(req, revents);
}

static const struct cuse_lowlevel_ops cuse_ops = {
	.init = op_init,
	.init_done = op_init_done,
	.open = op_open,
	.read = op_read,
	.write = op_write,
	.release = op_release,
	.ioctl = op_ioctl,
	.poll = op_poll,
};

/* ---- the session on the loop ------------------------------------------- */

/* The connection is gone (aborted through sysfs): the node has vanished
 * and applications see ENODEV. The port stays, closed, until destroyed. */
static void session_dead(struct cuse_port *p)
{
	if (p->dead)
		return;
	p->dead = true;
	log_warn("port %s: the CUSE connection of %s ended", p->base.cfg.name, p->node);
	uv_poll_stop(&p->poll);
	sync_state(p, true);
}

/* Receive and process what is there. 1 if something was, 0 if nothing,
 * -1 if the session ended. */
static int session_step(struct cuse_port *p)
{
	int rc;

	do
		rc = fuse_session_receive_buf(p->se, &p->fbuf);
	while (rc == -EINTR);
	if (rc == -EAGAIN)
		return 0;
	if (rc <= 0 || fuse_session_exited(p->se))
		return -1;
	fuse_session_process_buf(p->se, &p->fbuf);
	return 1;
}

static void on_session(uv_poll_t *h, int status, int events)
{
	struct cuse_port *p = h->data;
	int rc = 1;

	(void)events;
	if (status < 0) {
		log_warn("port %s: poll: %s", p->base.cfg.name, uv_strerror(status));
		return;
	}
	for (int i = 0; i < REQ_BUDGET && rc > 0 && !p->destroyed; i++) {
		rc = session_step(p);
		settle(p);
	}
	if (rc < 0)
		session_dead(p);
}

/* The CUSE_INIT handshake, at once: the kernel queues it when /dev/cuse is
 * opened, and makes the node when we answer. A name already in use makes
 * the kernel abort the connection instead. */
static int session_init(struct cuse_port *p, char *err, size_t errlen)
{
	struct pollfd pfd = { .fd = fuse_session_fd(p->se), .events = POLLIN };
	int rc;

	while (!p->init_done) {
		rc = session_step(p);
		if (rc < 0)
			break;
		if (rc == 0 && poll(&pfd, 1, INIT_WAIT_MS) <= 0) {
			snprintf(err, errlen, "cannot create %s: the kernel did not start the "
				 "CUSE handshake", p->node);
			return -1;
		}
	}
	if (p->init_done && session_step(p) >= 0)
		return 0;
	snprintf(err, errlen, "cannot create %s: the kernel refused the name (another "
		 "program serves a device of that name)", p->node);
	return -EEXIST;
}

/* The gateway's group, for the udev rules we suggest. */
static void group_name(const struct cuse_port *p, char *buf, size_t len)
{
	const struct group *g = getgrgid(p->base.env->gid);

	if (g)
		snprintf(buf, len, "%s", g->gr_name);
	else
		snprintf(buf, len, "%ld", (long)p->base.env->gid);
}

/* What to tell the user when /dev/cuse cannot be opened. */
static int open_error(struct cuse_port *p, int e, char *err, size_t errlen)
{
	char gname[64];

	if (e == ENOENT || e == ENODEV || e == ENXIO) {
		snprintf(err, errlen, "cannot create cuse port %s: /dev/cuse does not exist; "
			 "load the module with `modprobe cuse` (and list it in "
			 "/etc/modules-load.d/ to keep it after a reboot)", p->base.cfg.name);
		return -ENODEV;
	}
	if (e == EACCES || e == EPERM) {
		group_name(p, gname, sizeof(gname));
		snprintf(err, errlen, "cannot create cuse port %s: no permission to open "
			 "/dev/cuse; run the gateway as root, or add a udev rule "
			 "KERNEL==\"cuse\", GROUP=\"%s\", MODE=\"0660\" (and KERNEL==\"ttyMQ-*\", "
			 "GROUP=\"%s\", MODE=\"0660\" so applications can open the ports)",
			 p->base.cfg.name, gname, gname);
		return -EACCES;
	}
	snprintf(err, errlen, "cannot create cuse port %s: cannot open /dev/cuse: %s",
		 p->base.cfg.name, strerror(e));
	return -1;
}

static int session_open(struct cuse_port *p, char *err, size_t errlen)
{
	char devname[sizeof(p->node) + 16], mnt[32];
	const char *info[] = { devname };
	char *argv[] = { "mqttty", NULL };
	struct fuse_args args = FUSE_ARGS_INIT(1, argv);
	struct cuse_info ci = {
		.dev_info_argc = 1, .dev_info_argv = info, .flags = CUSE_UNRESTRICTED_IOCTL,
	};
	int fd;

	fd = open("/dev/cuse", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return open_error(p, errno, err, errlen);
	snprintf(devname, sizeof(devname), "DEVNAME=%s", p->node + strlen("/dev/"));
	snprintf(mnt, sizeof(mnt), "/dev/fd/%d", fd);
	p->se = cuse_lowlevel_new(&args, &ci, &cuse_ops, p);
	fuse_opt_free_args(&args);
	/* "/dev/fd/N": the session takes our fd (and closes it when destroyed) */
	if (!p->se || fuse_session_mount(p->se, mnt) != 0) {
		close(fd);
		snprintf(err, errlen, "cannot create %s: libfuse could not start a session",
			 p->node);
		return -1;
	}
	return 0;
}

/* Applications open the node: the gateway's group may, as for pty slaves.
 * Only root can change it; otherwise a udev rule has to. */
static void node_access(struct cuse_port *p)
{
	struct stat st;
	char gname[64];

	if (stat(p->node, &st) < 0) {
		log_warn("port %s: %s did not appear (is /dev a devtmpfs?)", p->base.cfg.name,
			 p->node);
		return;
	}
	if (chown(p->node, (uid_t)-1, p->base.env->gid) == 0 && chmod(p->node, 0660) == 0)
		return;
	group_name(p, gname, sizeof(gname));
	log_info("port %s: %s stays mode %03o; for applications of group %s add a udev rule "
		 "KERNEL==\"ttyMQ-*\", GROUP=\"%s\", MODE=\"0660\"", p->base.cfg.name, p->node,
		 (unsigned)(st.st_mode & 0777), gname, gname);
}

static int cuse_start(struct port *base, char *err, size_t errlen)
{
	struct cuse_port *p = (struct cuse_port *)base;
	struct stat st;
	int rc;

	snprintf(p->node, sizeof(p->node), NODE_PREFIX "%s", base->cfg.name);
	if (lstat(p->node, &st) == 0) {
		snprintf(err, errlen, "%s already exists (another gateway or program serves it)",
			 p->node);
		return -EEXIST;
	}
	if ((rc = session_open(p, err, errlen)) < 0 || (rc = session_init(p, err, errlen)) < 0)
		return rc;
	node_access(p);
	if (port_link_make(base->env->link_dir, base->cfg.name, p->node, p->link,
			   sizeof(p->link), err, errlen) < 0)
		return -1;
	uv_poll_init(base->env->loop, &p->poll, fuse_session_fd(p->se));
	uv_timer_init(base->env->loop, &p->vtime);
	p->poll.data = p->vtime.data = p;
	p->handles = 2;
	uv_poll_start(&p->poll, UV_READABLE, on_session);
	sync_state(p, false);      /* the owner publishes it after start */
	log_info("port %s: %s -> %s", base->cfg.name, p->link, p->node);
	return 0;
}

/* ---- ops ------------------------------------------------------------- */

static void cuse_write(struct port *base, const uint8_t *data, size_t n)
{
	struct cuse_port *p = (struct cuse_port *)base;
	size_t took = 0;

	if (p->se && !p->dead && p->tty.opens > 0)
		took = cuse_tty_rx_put(&p->tty, data, n);
	base->state.dropped += n - took;
	settle(p);
}

static void cuse_pause(struct port *base, bool paused)
{
	struct cuse_port *p = (struct cuse_port *)base;

	if (p->paused == paused)
		return;
	p->paused = paused;
	settle(p);
}

static int cuse_set(struct port *base, const struct line_set *s, char *err, size_t errlen)
{
	struct cuse_port *p = (struct cuse_port *)base;

	if (line_set_has_outputs(s)) {
		snprintf(err, errlen, "the application sets a cuse port's line settings, dtr "
			 "and rts; set can change cts, dsr, dcd and ri");
		return -1;
	}
	cuse_tty_set_lines(&p->tty, s->cts, s->dsr, s->dcd, s->ri);
	settle(p);     /* wakes TIOCMIWAIT, publishes the state */
	return 0;
}

static void cuse_app_open(struct port *base, bool open)
{
	struct cuse_port *p = (struct cuse_port *)base;

	if (open)
		cuse_tty_open(&p->tty);
	else
		cuse_tty_close(&p->tty);
	settle(p);     /* publishes the state */
}

static void cuse_app_set(struct port *base, const struct line_set *s)
{
	struct cuse_port *p = (struct cuse_port *)base;

	cuse_tty_app_set(&p->tty, &s->line, s->dtr, s->rts);
	settle(p);
}

static void cuse_free(struct cuse_port *p)
{
	cuse_tty_free(&p->tty);
	free(p->fbuf.mem);
	free(p);
}

static void on_closed(uv_handle_t *h)
{
	struct cuse_port *p = h->data;

	if (--p->handles == 0)
		cuse_free(p);
}

static void cuse_destroy(struct port *base)
{
	struct cuse_port *p = (struct cuse_port *)base;
	struct cuse_file *f;

	p->destroyed = true;
	port_link_remove(p->link, p->node);
	if (p->se) {
		/* answer what is kept while the connection still works */
		cuse_pend_fail_all(&p->reads, EIO);
		cuse_pend_fail_all(&p->writes, EIO);
		cuse_pend_fail_all(&p->waits, EIO);
	}
	while ((f = p->files)) {
		p->files = f->next;
		if (f->ph)
			fuse_pollhandle_destroy(f->ph);
		free(f);
	}
	if (p->handles) {
		/* uv_close stops watching the fd at once, so it may close now */
		uv_close((uv_handle_t *)&p->poll, on_closed);
		uv_close((uv_handle_t *)&p->vtime, on_closed);
	}
	if (p->se)
		fuse_session_destroy(p->se);   /* closes /dev/cuse: the node goes */
	p->se = NULL;
	if (!p->handles)
		cuse_free(p);
}

static const char *cuse_path(const struct port *base)
{
	const struct cuse_port *p = (const struct cuse_port *)base;

	return p->link[0] ? p->link : NULL;
}

static const struct port_ops cuse_port_ops = {
	.start = cuse_start,
	.write = cuse_write,
	.pause = cuse_pause,
	.destroy = cuse_destroy,
	.path = cuse_path,
	.set = cuse_set,
	.app_open = cuse_app_open,
	.app_set = cuse_app_set,
};

struct port *port_cuse_new(const struct port_config *cfg, const struct port_env *env,
			   const struct port_events *ev, void *owner)
{
	struct cuse_port *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	port_base_init(&p->base, &cuse_port_ops, cfg, env, ev, owner);
	cuse_tty_init(&p->tty, env->rx_limit, NULL);
	cuse_pend_init(&p->reads);
	cuse_pend_init(&p->writes);
	cuse_pend_init(&p->waits);
	port_state_init(&p->emitted);
	return &p->base;
}
