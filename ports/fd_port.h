/* fd_port — what pty and device ports share, as libuv's stream code serves
 * TCP and pipes: one fd watched by a uv_poll, reads with a budget per
 * wake-up, the bytes on their way to the local side (outbuf), pause and
 * resume for backpressure, and the byte counters of base.state.
 *
 * A backend embeds struct fd_port first (so it is a struct port too),
 * opens and closes the fd itself, attaches the poll to it, and says with
 * fd_port_set_active whether the local side is there (pty: an application
 * holds the slave; device: the device is open). What differs stays in the
 * backend, behind fd_port_ops: the pty's packet-mode status bytes and its
 * open/close watch, the device's open/retry and modem lines.
 *
 * Everything runs on the loop thread. Hooks fire from inside the core's
 * poll callback and fd_port_read; the owner's port_events fire from there
 * too (data, drained). */
#ifndef MQTTTY_FD_PORT_H
#define MQTTTY_FD_PORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "port.h"
#include "outbuf.h"

/* Largest read_size (a pty master's 4096 data bytes + 1 status byte). */
#define FD_PORT_READ_MAX 4097

struct fd_port;

struct fd_port_ops {
	/* Optional: n (> 0) bytes were read into buf. Return the payload's
	 * length with *data pointing at it inside buf, or 0 when there is
	 * none (e.g. a packet-mode status byte). NULL: all of buf is payload. */
	size_t (*input)(struct fd_port *f, uint8_t *buf, size_t n, uint8_t **data);
	/* read() gave end of file (err 0) or failed (err: errno, never EAGAIN
	 * or EINTR). The burst read before it was already announced
	 * (drained). Reading stops for this wake-up. */
	void (*hangup)(struct fd_port *f, int err);
	/* The poll reported an error, or could not be started (a uv error). */
	void (*poll_error)(struct fd_port *f, int status);
	/* The poll handle finished closing after fd_port_detach; the backend
	 * may free the port from here. */
	void (*closed)(struct fd_port *f);
};

struct fd_port {
	struct port base;               /* first: an fd_port is a struct port */
	const struct fd_port_ops *fops; /* borrowed, static */
	int fd;                         /* borrowed: the backend opens and closes it; -1 none */
	size_t read_size;               /* bytes per read(), <= FD_PORT_READ_MAX */
	size_t small_read;              /* a payload shorter than this ends the wake-up's
					 * reads; 0: read on until EAGAIN or the budget */
	bool active;                    /* the local side is there: read and write */
	bool paused;                    /* backpressure: no reading */
	bool attached;                  /* poll initialised on fd and not closing */
	bool closing;                   /* poll close in progress */
	int events;                     /* what the poll is started with now */
	uv_poll_t poll;
	struct outbuf out;              /* toward the local side; owned */
};

/* Fill the core of a zeroed backend (after port_base_init). No handle yet. */
void fd_port_init(struct fd_port *f, const struct fd_port_ops *fops, size_t read_size,
		  size_t small_read);
/* Watch f->fd (set by the backend) with the poll. 0, or a uv error with a
 * sentence in err (nothing to undo then). Not while closing. */
int fd_port_attach(struct fd_port *f, char *err, size_t errlen);
/* Stop watching and close the poll (asynchronous: fops->closed follows).
 * Returns false if nothing was attached (no closed hook will come). The fd
 * may be closed at once after this. */
bool fd_port_detach(struct fd_port *f);
/* The local side came or went. Going, the buffered output is discarded
 * (counted as dropped). Updates the poll. */
void fd_port_set_active(struct fd_port *f, bool active);
/* Read what is there now, as a readable poll would (up to the budget). */
void fd_port_read(struct fd_port *f);
/* Free what the core owns (the output buffer); the struct is the backend's. */
void fd_port_free(struct fd_port *f);

/* port_ops for the backends' tables: deliver bytes to the local side
 * (dropped while it is not there or past env->rx_limit), and pause. */
void fd_port_write(struct port *p, const uint8_t *data, size_t n);
void fd_port_pause(struct port *p, bool paused);

#endif
