/* port_serve — see port_serve.h. The client stands where an application
 * (or a device) stands for a backend: what it does reaches the port's
 * owner through the same events table a backend uses. */
#include "port_serve.h"
#include "port.h"
#include "rfc2217_srv.h"
#include "log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct port_serve {
	struct rfc2217_srv *srv;       /* owned */
	struct port *be;               /* borrowed: the port served */
	const struct port_events *ev;  /* borrowed: its owner's events */
	void *owner;
	char name[PORT_NAME_MAX + 1];
	bool real_line;
	bool open;                     /* a client is connected */
	/* what the client set, where the port cannot hold it itself (a pty
	 * has no modem lines): STATE_NULL = not set */
	struct line_settings line;
	int dtr, rts;
};

static void overlay_clear(struct port_serve *ps)
{
	ps->line = (struct line_settings){ STATE_NULL, STATE_NULL, STATE_NULL, STATE_NULL,
					   STATE_NULL };
	ps->dtr = ps->rts = STATE_NULL;
}

void port_serve_overlay(const struct port_serve *ps, struct port_state *st)
{
	if (!ps || !ps->open)
		return;
	st->open = true;
	if (ps->line.baud != STATE_NULL) st->line.baud = ps->line.baud;
	if (ps->line.data_bits != STATE_NULL) st->line.data_bits = ps->line.data_bits;
	if (ps->line.parity != STATE_NULL) st->line.parity = ps->line.parity;
	if (ps->line.stop_bits != STATE_NULL) st->line.stop_bits = ps->line.stop_bits;
	if (ps->line.flow != STATE_NULL) st->line.flow = ps->line.flow;
	if (ps->dtr != STATE_NULL) st->dtr = ps->dtr;
	if (ps->rts != STATE_NULL) st->rts = ps->rts;
}

/* ---- the client's events -------------------------------------------------- */

static void on_data(void *arg, const uint8_t *p, size_t n)
{
	struct port_serve *ps = arg;

	ps->be->state.tx_bytes += n;
	ps->ev->data(ps->owner, p, n);
}

static void on_drained(void *arg)
{
	struct port_serve *ps = arg;

	ps->ev->drained(ps->owner);
}

/* The port holds what an application sets (a cuse port's termios and
 * modem lines): the client is one more application of it. */
static bool app_port(const struct port_serve *ps)
{
	return !ps->real_line && ps->be->ops->app_set && ps->be->ops->app_open;
}

static void on_open(void *arg, bool open)
{
	struct port_serve *ps = arg;

	ps->open = open;
	overlay_clear(ps);
	if (app_port(ps))
		ps->be->ops->app_open(ps->be, open);
	log_info("port %s: RFC 2217 client %s", ps->name, open ? "connected" : "gone");
	ps->ev->state(ps->owner);
}

static void on_set(void *arg, const struct line_set *s, struct port_state *now)
{
	struct port_serve *ps = arg;
	char err[256];

	if (s->break_ms > 0 && ps->ev->event) {
		json_t *e = json_pack("{s:i}", "break_ms", s->break_ms);
		if (e)
			ps->ev->event(ps->owner, e);
		json_decref(e);
	}
	if (ps->real_line && ps->be->ops->set) {
		/* a device's real line follows, so a `follow` peer sees it */
		struct line_set ls = *s;
		ls.break_ms = 0;
		if (ps->be->ops->set(ps->be, &ls, err, sizeof(err)) < 0)
			log_warn("port %s: RFC 2217 client's setting refused: %s", ps->name, err);
	} else if (app_port(ps)) {
		/* as the client's tcsetattr/TIOCM*: an application on the
		 * port's link sees the same termios and lines */
		if (line_set_has_outputs(s))
			ps->be->ops->app_set(ps->be, s);
	} else {
		if (s->line.baud != STATE_NULL) ps->line.baud = s->line.baud;
		if (s->line.data_bits != STATE_NULL) ps->line.data_bits = s->line.data_bits;
		if (s->line.parity != STATE_NULL) ps->line.parity = s->line.parity;
		if (s->line.stop_bits != STATE_NULL) ps->line.stop_bits = s->line.stop_bits;
		if (s->line.flow != STATE_NULL) ps->line.flow = s->line.flow;
		if (s->dtr != STATE_NULL) ps->dtr = s->dtr;
		if (s->rts != STATE_NULL) ps->rts = s->rts;
		ps->ev->state(ps->owner);
	}
	*now = ps->be->state;
	port_serve_overlay(ps, now);
}

static void on_purge_tx(void *arg)
{
	struct port_serve *ps = arg;

	if (ps->ev->flush_tx)
		ps->ev->flush_tx(ps->owner);
}

static const struct rfc2217_srv_events serve_events = {
	.data = on_data,
	.drained = on_drained,
	.open = on_open,
	.set = on_set,
	.purge_tx = on_purge_tx,
};

/* ---- the owner's calls ----------------------------------------------------- */

int port_serve_start(uv_loop_t *loop, const char *addr, const char *name, size_t rx_limit,
		     struct port *be, const struct port_events *ev, void *owner, bool real_line,
		     struct port_serve **out, char *err, size_t errlen)
{
	struct port_serve *ps = calloc(1, sizeof(*ps));
	struct port_state st;
	int rc;

	*out = NULL;
	if (!ps) {
		snprintf(err, errlen, "port %s: out of memory", name);
		return -ENOMEM;
	}
	*ps = (struct port_serve){ .be = be, .ev = ev, .owner = owner, .real_line = real_line };
	snprintf(ps->name, sizeof(ps->name), "%s", name);
	overlay_clear(ps);
	rc = rfc2217_srv_start(loop, addr, name, rx_limit, &serve_events, ps, &ps->srv, err, errlen);
	if (rc < 0) {
		free(ps);
		return rc;
	}
	st = be->state;
	rfc2217_srv_state(ps->srv, &st);
	log_info("port %s: served as RFC 2217 on %s", name, addr);
	*out = ps;
	return 0;
}

void port_serve_stop(struct port_serve *ps)
{
	if (!ps)
		return;
	if (ps->open && app_port(ps)) {
		/* the client is gone for the port too (its last close drops
		 * DTR and RTS); the state is told before the listener closes */
		ps->open = false;
		ps->be->ops->app_open(ps->be, false);
	}
	rfc2217_srv_close(ps->srv);
	free(ps);
}

bool port_serve_has_client(const struct port_serve *ps)
{
	return ps && ps->open;
}

size_t port_serve_write(struct port_serve *ps, const uint8_t *p, size_t n)
{
	return ps ? rfc2217_srv_write(ps->srv, p, n) : 0;
}

void port_serve_state(struct port_serve *ps, const struct port_state *st)
{
	if (ps)
		rfc2217_srv_state(ps->srv, st);
}

void port_serve_pause(struct port_serve *ps, bool paused)
{
	if (ps)
		rfc2217_srv_pause(ps->srv, paused);
}
