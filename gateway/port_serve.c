/* port_serve — see port_serve.h. */
#include "port_serve.h"
#include "gateway.h"
#include "rfc2217_srv.h"
#include "log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct port_serve {
	struct gw_port *gp;            /* borrowed: the owner */
	struct rfc2217_srv *srv;       /* owned */
	bool open;                     /* a client is connected */
	/* what the client set, where the port itself cannot hold it (a pty
	 * or cuse port has no real line): STATE_NULL = not set */
	struct line_settings line;
	int dtr, rts;
};

static bool real_line(const struct gw_port *gp)
{
	return gp->be && gp->be->ops->set &&
	       (gp->cfg.kind == PORT_KIND_DEVICE || gp->cfg.kind == PORT_KIND_RFC2217);
}

static void overlay_clear(struct port_serve *ps)
{
	ps->line = (struct line_settings){ STATE_NULL, STATE_NULL, STATE_NULL, STATE_NULL,
					   STATE_NULL };
	ps->dtr = ps->rts = STATE_NULL;
}

void port_serve_overlay(const struct gw_port *gp, struct port_state *st)
{
	const struct port_serve *ps = gp->serve;

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

static void on_data(void *owner, const uint8_t *p, size_t n)
{
	struct port_serve *ps = owner;

	if (ps->gp->be)
		ps->gp->be->state.tx_bytes += n;
	gw_port_local_data(ps->gp, p, n);
}

static void on_drained(void *owner)
{
	struct port_serve *ps = owner;

	gw_port_local_drained(ps->gp);
}

static void on_open(void *owner, bool open)
{
	struct port_serve *ps = owner;

	ps->open = open;
	overlay_clear(ps);
	log_info("port %s: RFC 2217 client %s", ps->gp->cfg.name,
		 open ? "connected" : "gone");
	if (!open)
		gw_port_flush(ps->gp);      /* a pending frame goes out at close */
	gw_port_publish_state(ps->gp);
}

static void on_set(void *owner, const struct line_set *s, struct port_state *now)
{
	struct port_serve *ps = owner;
	struct gw_port *gp = ps->gp;
	char err[256];

	if (s->break_ms > 0) {
		json_t *e = json_pack("{s:i}", "break_ms", s->break_ms);
		if (e)
			gw_port_local_event(gp, e);
		json_decref(e);
	}
	if (real_line(gp)) {
		/* a device's real line follows, so a `follow` peer sees it */
		struct line_set ls = *s;
		ls.break_ms = 0;
		if (gp->be->ops->set(gp->be, &ls, err, sizeof(err)) < 0)
			log_warn("port %s: RFC 2217 client's setting refused: %s", gp->cfg.name, err);
	} else {
		if (s->line.baud != STATE_NULL) ps->line.baud = s->line.baud;
		if (s->line.data_bits != STATE_NULL) ps->line.data_bits = s->line.data_bits;
		if (s->line.parity != STATE_NULL) ps->line.parity = s->line.parity;
		if (s->line.stop_bits != STATE_NULL) ps->line.stop_bits = s->line.stop_bits;
		if (s->line.flow != STATE_NULL) ps->line.flow = s->line.flow;
		if (s->dtr != STATE_NULL) ps->dtr = s->dtr;
		if (s->rts != STATE_NULL) ps->rts = s->rts;
		gw_port_publish_state(gp);
	}
	gw_port_state(gp, now);
}

static void on_purge_tx(void *owner)
{
	struct port_serve *ps = owner;

	gw_port_local_flush_tx(ps->gp);
}

static const struct rfc2217_srv_events serve_events = {
	.data = on_data,
	.drained = on_drained,
	.open = on_open,
	.set = on_set,
	.purge_tx = on_purge_tx,
};

/* ---- the owner's calls ----------------------------------------------------- */

int port_serve_start(struct gw_port *gp, char *err, size_t errlen)
{
	struct port_serve *ps;
	struct port_state st;
	int rc;

	if (!gp->cfg.rfc2217[0])
		return 0;
	if (!(ps = calloc(1, sizeof(*ps)))) {
		snprintf(err, errlen, "port %s: out of memory", gp->cfg.name);
		return -ENOMEM;
	}
	ps->gp = gp;
	overlay_clear(ps);
	rc = rfc2217_srv_start(gp->gw->loop, gp->cfg.rfc2217, gp->cfg.name, gp->gw->env.rx_limit,
			       &serve_events, ps, &ps->srv, err, errlen);
	if (rc < 0) {
		free(ps);
		return rc;
	}
	gp->serve = ps;
	gw_port_state(gp, &st);
	rfc2217_srv_state(ps->srv, &st);
	log_info("port %s: served as RFC 2217 on %s", gp->cfg.name, gp->cfg.rfc2217);
	return 0;
}

void port_serve_stop(struct gw_port *gp)
{
	struct port_serve *ps = gp->serve;

	if (!ps)
		return;
	rfc2217_srv_close(ps->srv);
	gp->serve = NULL;
	free(ps);
}

bool port_serve_has_client(const struct gw_port *gp)
{
	return gp->serve && gp->serve->open;
}

size_t port_serve_write(struct gw_port *gp, const uint8_t *p, size_t n)
{
	return gp->serve ? rfc2217_srv_write(gp->serve->srv, p, n) : 0;
}

void port_serve_state(struct gw_port *gp, const struct port_state *st)
{
	if (gp->serve)
		rfc2217_srv_state(gp->serve->srv, st);
}

void port_serve_pause(struct gw_port *gp, bool paused)
{
	if (gp->serve)
		rfc2217_srv_pause(gp->serve->srv, paused);
}
