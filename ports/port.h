/* port — the small interface every port backend (pty, device, cuse)
 * implements. The gateway never asks which kind it holds.
 *
 * Threading: everything runs on the loop thread. Callbacks in port_events
 * may fire from inside any ops call except create; the owner must not
 * destroy the port from inside a callback (mark it and do it after). */
#ifndef MQTTTY_PORT_H
#define MQTTTY_PORT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <uv.h>

#include "port_config.h"
#include "port_state.h"
#include "line_set.h"

struct osdep_watch;

/* What a backend tells its owner. */
struct port_events {
	/* bytes the local side sent (borrowed for the call) */
	void (*data)(void *owner, const uint8_t *p, size_t n);
	/* a burst of reads ended: nothing more is readable right now */
	void (*drained)(void *owner);
	/* open/close or line settings changed: read port->state */
	void (*state)(void *owner);
	/* the local side discarded its output (tcflush TCOFLUSH) */
	void (*flush_tx)(void *owner);
	/* something that is not state happened, for BASE/event (not
	 * retained), e.g. {"break_ms": 250}; ev borrowed for the call */
	void (*event)(void *owner, json_t *ev);
	/* why the port is not working as configured, for the user to see
	 * ("cannot open /dev/ttyUSB0 (No such file or directory); retrying"),
	 * or NULL once it works again; may be NULL */
	void (*problem)(void *owner, const char *why);
};

/* Shared context a backend needs from the gateway (all borrowed). */
struct port_env {
	uv_loop_t *loop;
	struct osdep_watch *watch;
	const char *link_dir;
	gid_t gid;                  /* group for pty slaves */
	size_t rx_limit;            /* bytes buffered toward the local side */
};

struct port;

struct port_ops {
	/* Bring the port up (pty: make it and its link). 0, or a negative
	 * code + err: -ENODEV, -EACCES or -ENOTSUP when this system cannot
	 * host the kind (no /dev/cuse, not permitted, not Linux); -EEXIST when
	 * its name is taken outside the gateway; -1 for anything else. */
	int (*start)(struct port *p, char *err, size_t errlen);
	/* Deliver bytes to the local side. Bytes that cannot be taken (no
	 * application, bound full) are counted in state.dropped. */
	void (*write)(struct port *p, const uint8_t *data, size_t n);
	/* Stop / resume reading from the local side (backpressure). */
	void (*pause)(struct port *p, bool paused);
	/* Take the link away and free everything; asynchronous (uv close),
	 * the struct is freed when done. No callbacks fire after this. */
	void (*destroy)(struct port *p);
	/* Link path or NULL. */
	const char *(*path)(const struct port *p);
	/* Apply a checked `set`; NULL where a kind has none. Device ports
	 * take line settings, dtr, rts, break; cuse ports the input lines
	 * cts, dsr, dcd, ri. 0, or -1 + err (nothing applied) if the port
	 * refused it. */
	int (*set)(struct port *p, const struct line_set *s, char *err, size_t errlen);
	/* An application that reaches the port other than through its link
	 * (the RFC 2217 client) came (true) or went (false): it counts as
	 * one more open of the port (the first raises DTR and RTS, the last
	 * close drops them). NULL where a kind keeps no such lines. */
	void (*app_open)(struct port *p, bool open);
	/* What that application sets: line settings, dtr, rts (break_ms and
	 * the input lines are not looked at), applied as its tcsetattr and
	 * TIOCMBIS/TIOCMBIC would be, so an application on the link sees
	 * them too. NULL where a kind cannot hold them (a pty has no modem
	 * lines and forces its own framing). */
	void (*app_set)(struct port *p, const struct line_set *s);
};

struct port {
	const struct port_ops *ops;
	struct port_config cfg;         /* as created */
	struct port_state state;        /* counters owned by the backend */
	const struct port_events *ev;
	void *owner;
	const struct port_env *env;
};

/* Backend constructors: allocate, no side effects yet (start does them). */
struct port *port_pty_new(const struct port_config *cfg, const struct port_env *env,
			  const struct port_events *ev, void *owner);

struct port *port_device_new(const struct port_config *cfg, const struct port_env *env,
			     const struct port_events *ev, void *owner);

/* Linux with libfuse3: port_cuse.c; elsewhere a stub whose start fails
 * with -ENOTSUP. */
struct port *port_cuse_new(const struct port_config *cfg, const struct port_env *env,
			   const struct port_events *ev, void *owner);

/* Fill the common part of a freshly allocated backend. */
static inline void port_base_init(struct port *p, const struct port_ops *ops,
				  const struct port_config *cfg, const struct port_env *env,
				  const struct port_events *ev, void *owner)
{
	p->ops = ops;
	p->cfg = *cfg;
	p->ev = ev;
	p->owner = owner;
	p->env = env;
	port_state_init(&p->state);
}

/* Tell the owner the port's problem (why NULL: it has passed). */
static inline void port_problem(struct port *p, const char *why)
{
	if (p->ev->problem)
		p->ev->problem(p->owner, why);
}

/* Generic helpers over the ops table. */
static inline int port_start(struct port *p, char *err, size_t n) { return p->ops->start(p, err, n); }
static inline void port_write(struct port *p, const uint8_t *d, size_t n) { p->ops->write(p, d, n); }
static inline void port_pause(struct port *p, bool paused) { p->ops->pause(p, paused); }
static inline void port_destroy(struct port *p) { p->ops->destroy(p); }
static inline const char *port_path(const struct port *p) { return p->ops->path(p); }

#endif
