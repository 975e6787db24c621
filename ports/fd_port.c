/* fd_port — the poll, read and write path shared by pty and device ports. */
#include "fd_port.h"

#include <errno.h>
#include <stdio.h>
#include <unistd.h>

/* Payload bytes read per wake-up, so one busy port cannot starve others. */
#define READ_BUDGET (64 * 1024)

static void fd_port_update(struct fd_port *f);

void fd_port_init(struct fd_port *f, const struct fd_port_ops *fops, size_t read_size,
		  size_t small_read)
{
	f->fops = fops;
	f->fd = -1;
	f->read_size = read_size < FD_PORT_READ_MAX ? read_size : FD_PORT_READ_MAX;
	f->small_read = small_read;
}

void fd_port_read(struct fd_port *f)
{
	uint8_t buf[FD_PORT_READ_MAX];
	size_t budget = READ_BUDGET;
	bool got = false;

	while (budget && !f->paused && f->fd >= 0) {
		ssize_t n = read(f->fd, buf, f->read_size);
		uint8_t *data = buf;
		size_t len;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {
			int err = n == 0 ? 0 : errno;

			if (got)
				f->base.ev->drained(f->base.owner);
			f->fops->hangup(f, err);
			return;
		}
		len = f->fops->input ? f->fops->input(f, buf, (size_t)n, &data) : (size_t)n;
		if (!len)
			continue;
		f->base.state.tx_bytes += (uint64_t)len;
		f->base.ev->data(f->base.owner, data, len);
		budget = len >= budget ? 0 : budget - len;
		got = true;
		/* A small read (CAT-sized traffic) took all there was: asking
		 * again would only wait for the tty's flush work to say EAGAIN;
		 * the level-triggered poll reports the fd again if more came.
		 * Bulk transfers keep reading (a pty master rarely fills buf, so
		 * "shorter than buf" would cut every burst into single reads). */
		if (len < f->small_read)
			break;
	}
	if (got)
		f->base.ev->drained(f->base.owner);
}

static void fd_port_on_poll(uv_poll_t *h, int status, int events)
{
	struct fd_port *f = h->data;

	if (status < 0) {
		f->fops->poll_error(f, status);
		return;
	}
	if (events & UV_WRITABLE) {
		outbuf_flush(&f->out, f->fd, &f->base.state.rx_bytes);
		fd_port_update(f);
	}
	if (events & (UV_READABLE | UV_DISCONNECT))
		fd_port_read(f);
}

/* Watch for what is wanted now: input unless paused, output while some is
 * buffered, nothing while the local side is not there (a closed pty's HUP
 * is level-triggered and would spin the loop). */
static void fd_port_update(struct fd_port *f)
{
	int want = 0, rc;

	if (!f->attached)
		return;
	if (f->active && !f->paused)
		want |= UV_READABLE;
	if (f->active && f->out.len)
		want |= UV_WRITABLE;
	if (want == f->events)
		return;
	f->events = want;
	rc = want ? uv_poll_start(&f->poll, want, fd_port_on_poll) : uv_poll_stop(&f->poll);
	if (rc < 0) {
		f->events = 0;
		f->fops->poll_error(f, rc);
	}
}

int fd_port_attach(struct fd_port *f, char *err, size_t errlen)
{
	int rc = uv_poll_init(f->base.env->loop, &f->poll, f->fd);

	if (rc < 0) {
		snprintf(err, errlen, "cannot watch fd %d: %s", f->fd, uv_strerror(rc));
		return rc;
	}
	f->poll.data = f;
	f->attached = true;
	f->events = 0;
	fd_port_update(f);
	return 0;
}

static void fd_port_on_closed(uv_handle_t *h)
{
	struct fd_port *f = h->data;

	f->closing = false;
	f->fops->closed(f);
}

bool fd_port_detach(struct fd_port *f)
{
	if (!f->attached)
		return false;
	uv_poll_stop(&f->poll);
	f->attached = false;
	f->closing = true;
	f->events = 0;
	uv_close((uv_handle_t *)&f->poll, fd_port_on_closed);
	return true;
}

void fd_port_set_active(struct fd_port *f, bool active)
{
	f->active = active;
	if (!active)        /* nobody left to read it */
		outbuf_discard(&f->out, &f->base.state.dropped);
	fd_port_update(f);
}

void fd_port_free(struct fd_port *f)
{
	outbuf_free(&f->out);
}

void fd_port_write(struct port *p, const uint8_t *data, size_t n)
{
	struct fd_port *f = (struct fd_port *)p;

	if (!f->active || f->fd < 0) {
		p->state.dropped += n;
		return;
	}
	outbuf_write(&f->out, f->fd, data, n, p->env->rx_limit, &p->state.rx_bytes,
		     &p->state.dropped);
	fd_port_update(f);
}

void fd_port_pause(struct port *p, bool paused)
{
	struct fd_port *f = (struct fd_port *)p;

	f->paused = paused;
	fd_port_update(f);
}
