/* port_peer — a port's MQTT subscriptions (its own rx and set, its peer's
 * tx, state and, for follow, the peer gateway's status) and what the peer's
 * state does to it: follow (a device takes the peer's line) and the null
 * modem (a cuse port sees the peer's rts/dtr as cts/dsr/dcd). */
#include "gateway.h"
#include "mqtt_bridge.h"
#include "line_set.h"
#include "log.h"

#include <stdio.h>
#include <string.h>

/* ---- subscriptions --------------------------------------------------------- */

/* PREFIX/PEERGW/PEERPORT/LEAF, or PREFIX/PEERGW/status (leaf NULL). */
static void peer_topic(const struct gw_port *gp, const char *peer, const char *leaf, char *buf)
{
	const char *prefix = gp->gw->opt->prefix;
	int n = (int)strcspn(peer, "/");

	if (leaf)
		snprintf(buf, TOPIC_MAX, "%s/%s/%s", prefix, peer, leaf);
	else
		snprintf(buf, TOPIC_MAX, "%s/%.*s/status", prefix, n, peer);
}

/* The topics of c's peer (c may be an old config of gp). `set` is at QoS 0
 * so that no broker ever holds one for later (CONTRACT §5). */
static void subscribe_peer(struct gw_port *gp, const struct port_config *c)
{
	struct mqtt_bridge *b = gp->gw->mqtt;
	char t[TOPIC_MAX];

	if (!c->peer[0])
		return;
	peer_topic(gp, c->peer, "tx", t);
	mqtt_bridge_subscribe(b, t, c->qos);
	peer_topic(gp, c->peer, "state", t);
	mqtt_bridge_subscribe(b, t, 1);
	if (c->follow) {
		peer_topic(gp, c->peer, NULL, t);
		mqtt_bridge_subscribe(b, t, 1);
	}
}

void gw_port_subscribe(struct gw_port *gp)
{
	struct mqtt_bridge *b = gp->gw->mqtt;

	mqtt_bridge_subscribe(b, gp->topic_rx, gp->cfg.qos);
	mqtt_bridge_subscribe(b, gp->topic_set, 0);
	subscribe_peer(gp, &gp->cfg);
}

/* Another running port still needs the peer topics of `peer`? */
static bool peer_shared(const struct gw_port *gp, const char *peer, bool follow)
{
	for (size_t i = 0; i < gp->gw->nports; i++) {
		const struct gw_port *o = gp->gw->ports[i];
		if (o != gp && o->be && strcmp(o->cfg.peer, peer) == 0 &&
		    (!follow || o->cfg.follow))
			return true;
	}
	return false;
}

/* The status topic is per peer gateway: kept while any other follower of a
 * port of that gateway remains. */
void gw_port_unsubscribe_status(struct gw_port *gp, const struct port_config *c)
{
	size_t n = strcspn(c->peer, "/");
	char t[TOPIC_MAX];

	for (size_t i = 0; i < gp->gw->nports; i++) {
		const struct gw_port *o = gp->gw->ports[i];
		if (o != gp && o->be && o->cfg.follow && strncmp(o->cfg.peer, c->peer, n + 1) == 0)
			return;
	}
	peer_topic(gp, c->peer, NULL, t);
	mqtt_bridge_unsubscribe(gp->gw->mqtt, t);
}

void gw_port_unsubscribe_peer(struct gw_port *gp, const struct port_config *c)
{
	struct mqtt_bridge *b = gp->gw->mqtt;
	char t[TOPIC_MAX];

	if (!c->peer[0] || !mqtt_bridge_connected(b))
		return;
	if (!peer_shared(gp, c->peer, false)) {
		peer_topic(gp, c->peer, "tx", t);
		mqtt_bridge_unsubscribe(b, t);
		peer_topic(gp, c->peer, "state", t);
		mqtt_bridge_unsubscribe(b, t);
	}
	if (c->follow)
		gw_port_unsubscribe_status(gp, c);
}

void gw_port_unsubscribe(struct gw_port *gp)
{
	struct mqtt_bridge *b = gp->gw->mqtt;

	if (!mqtt_bridge_connected(b))
		return;
	mqtt_bridge_unsubscribe(b, gp->topic_rx);
	mqtt_bridge_unsubscribe(b, gp->topic_set);
	gw_port_unsubscribe_peer(gp, &gp->cfg);
}

/* ---- follow and the null modem ----------------------------------------- */

/* Bring the device to what the peer asks for. Kept even when it cannot be
 * applied now (device unplugged): a reopened device gets it again. */
void gw_port_follow_apply(struct gw_port *gp)
{
	char err[256];

	if (!gp->cfg.follow || !gp->follow_want_set || !gp->be || !gp->be->ops->set ||
	    !gp->be->state.open)
		return;
	if (gp->follow_valid && memcmp(&gp->follow_last, &gp->follow_want,
				       sizeof(gp->follow_want)) == 0)
		return;         /* counters moved, the line did not */
	if (gp->be->ops->set(gp->be, &gp->follow_want, err, sizeof(err)) == 0) {
		gp->follow_last = gp->follow_want;
		gp->follow_valid = true;
	} else {
		log_warn("port %s: follow: %s", gp->cfg.name, err);
	}
}

static void follow_want(struct gw_port *gp, json_t *peer_state)
{
	line_set_from_peer_state(peer_state, &gp->follow_want);  /* NULL: unkey */
	gp->follow_want_set = true;
	gw_port_follow_apply(gp);
}

/* For safety: unkey (DTR and RTS low) when the peer or the broker goes. */
void gw_port_follow_drop(struct gw_port *gp)
{
	follow_want(gp, NULL);
}

/* A cuse port whose peer is another virtual port: a null-modem cable, the
 * peer's rts is our cts, its dtr our dsr and dcd. */
static void null_modem(struct gw_port *gp, json_t *peer_state)
{
	struct line_set ls;
	char err[256];

	if (!gp->be || !gp->be->ops->set)
		return;
	line_set_null_modem(peer_state, &ls);
	if (gp->be->ops->set(gp->be, &ls, err, sizeof(err)) < 0)
		log_debug("port %s: null modem: %s", gp->cfg.name, err);
}

void gw_port_peer_state(struct gw_port *gp, const uint8_t *p, size_t n)
{
	json_t *j = n ? json_loadb((const char *)p, n, 0, NULL) : NULL;

	if (gp->cfg.follow)
		follow_want(gp, j);
	else if (gp->cfg.kind == PORT_KIND_CUSE)
		null_modem(gp, j);
	json_decref(j);
}

bool gw_port_peer_is(const struct gw_port *gp, const char *gw_id, const char *port)
{
	size_t n = strlen(gw_id);

	return gp->cfg.peer[0] && strncmp(gp->cfg.peer, gw_id, n) == 0 &&
	       gp->cfg.peer[n] == '/' && (!port || strcmp(gp->cfg.peer + n + 1, port) == 0);
}
