/* port_mgr — one port's life in the gateway: the backend's events, the
 * framer, the tx queue toward the broker (kept until acknowledged, re-sent
 * in order after a reconnect) and the retained state. */
#include "gateway.h"
#include "mqtt_bridge.h"
#include "termios_map.h"
#include "port_rfc2217.h"
#include "log.h"
#include "web.h"

#include <stdlib.h>
#include <string.h>

#define ID_SLOT_SHIFT 40
#define ID_SEQ_MASK ((UINT64_C(1) << ID_SLOT_SHIFT) - 1)

uint64_t gw_now_ms(struct gateway *gw)
{
	uv_update_time(gw->loop);
	return uv_now(gw->loop);
}

/* ---- lookup ---------------------------------------------------------- */

static int cmp_name(const void *key, const void *elem)
{
	return strcmp(key, (*(struct gw_port *const *)elem)->cfg.name);
}

struct gw_port *gw_port_find(struct gateway *gw, const char *name)
{
	struct gw_port **p;

	if (!gw->nports)
		return NULL;
	p = bsearch(name, gw->ports, gw->nports, sizeof(*gw->ports), cmp_name);
	return p ? *p : NULL;
}

/* ---- tx queue --------------------------------------------------------- */

static void txq_pump(struct gw_port *gp);

static void txq_update_pause(struct gw_port *gp)
{
	/* stop reading at the bound, resume at half: the application's writes
	 * block meanwhile, as under hardware flow control */
	bool want = gp->txq_bytes >= TXQ_LIMIT ||
		    (gp->paused && gp->txq_bytes > TXQ_LIMIT / 2);

	if (want != gp->paused && gp->be) {
		gp->paused = want;
		port_pause(gp->be, want);
	}
}

static void txq_append(struct gw_port *gp, const uint8_t *p, size_t n)
{
	struct txmsg *m = malloc(sizeof(*m) + n);

	if (!m) {
		gp->be->state.dropped += n;
		return;
	}
	m->next = NULL;
	m->seq = ++gp->gw->seq & ID_SEQ_MASK;
	m->sent = m->acked = false;
	m->len = n;
	memcpy(m->data, p, n);
	*gp->txq_tail = m;
	gp->txq_tail = &m->next;
	gp->txq_bytes += n;
	txq_update_pause(gp);
}

static void txq_pop_acked(struct gw_port *gp)
{
	while (gp->txq_head && gp->txq_head->acked) {
		struct txmsg *m = gp->txq_head;
		gp->txq_head = m->next;
		if (!gp->txq_head)
			gp->txq_tail = &gp->txq_head;
		gp->txq_bytes -= m->len;
		free(m);
	}
	txq_update_pause(gp);
}

static void txq_pump(struct gw_port *gp)
{
	struct mqtt_bridge *b = gp->gw->mqtt;

	if (!mqtt_bridge_connected(b))
		return;
	for (struct txmsg *m = gp->txq_head; m && gp->inflight < TX_WINDOW; m = m->next) {
		if (m->sent || m->acked)
			continue;
		uint64_t id = ((uint64_t)gp->slot << ID_SLOT_SHIFT) | m->seq;
		int rc = mqtt_bridge_publish(b, gp->topic_tx, m->data, m->len, gp->cfg.qos, false, id);
		if (rc != BRIDGE_OK)
			break;      /* backpressure or down: the next ack or connect resumes */
		m->sent = true;
		gp->inflight++;
	}
}

/* Everything not acknowledged goes again, from the head, in order. */
static void txq_reset(struct gw_port *gp)
{
	for (struct txmsg *m = gp->txq_head; m; m = m->next)
		m->sent = false;
	gp->inflight = 0;
}

static void txq_free(struct gw_port *gp)
{
	while (gp->txq_head) {
		struct txmsg *m = gp->txq_head;
		gp->txq_head = m->next;
		free(m);
	}
	gp->txq_tail = &gp->txq_head;
	gp->txq_bytes = 0;
}

void gw_port_pub_done(struct gateway *gw, uint64_t id, int rc)
{
	uint64_t slot = id >> ID_SLOT_SHIFT, seq = id & ID_SEQ_MASK;
	struct gw_port *gp = slot < gw->nslots ? gw->slots[slot] : NULL;

	if (!gp)
		return;                 /* the port is gone */
	for (struct txmsg *m = gp->txq_head; m; m = m->next) {
		if (m->seq != seq)
			continue;
		if (rc != 0) {
			/* failed while we think we are connected: send again from
			 * the first unacknowledged message */
			if (m->sent)
				txq_reset(gp);
			break;
		}
		if (m->sent && gp->inflight)
			gp->inflight--;
		m->acked = true;
		break;
	}
	txq_pop_acked(gp);
	txq_pump(gp);
}

static void subscribe_port(struct gw_port *gp);

void gw_port_on_connected(struct gw_port *gp)
{
	if (gp->be)
		subscribe_port(gp);
	txq_reset(gp);
	gp->have_published = false;
	gw_port_publish_state(gp);
	txq_pump(gp);
}

void gw_port_on_lost(struct gw_port *gp)
{
	txq_reset(gp);
	if (gp->cfg.follow)
		gw_port_follow_drop(gp);
}

/* ---- state -------------------------------------------------------------- */

void gw_port_publish_state(struct gw_port *gp)
{
	bool up = mqtt_bridge_connected(gp->gw->mqtt);
	struct port_state st;
	json_t *j;
	char *s = NULL;

	if (gp->be) {
		st = gp->be->state;
	} else {
		port_state_init(&st);   /* disabled or failed: closed, nothing known */
	}
	j = port_state_to_json(&st);
	web_event_state(gp->gw, gp, j);
	if (up)
		s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (s && mqtt_bridge_publish(gp->gw->mqtt, gp->topic_state, s, strlen(s), 1, true, 0)
	    == BRIDGE_OK) {
		gp->published = st;
		gp->have_published = true;
	}
	/* counters are "seen" even while the broker is away: the next
	 * (re)connect publishes every state anyway */
	gp->counters_seen = st.tx_bytes + st.rx_bytes + st.dropped;
	free(s);
}

static bool counters_moved(const struct gw_port *gp)
{
	const struct port_state *s = &gp->be->state;
	return s->tx_bytes + s->rx_bytes + s->dropped != gp->counters_seen;
}

/* ---- backend events ---------------------------------------------------- */

static void on_frame_timer(uv_timer_t *t);
static void follow_apply(struct gw_port *gp);

static void arm_frame_timer(struct gw_port *gp)
{
	uint64_t dl = framer_deadline(&gp->framer), now;

	if (!dl) {
		uv_timer_stop(&gp->frame_timer);
		return;
	}
	now = uv_now(gp->gw->loop);
	uv_timer_start(&gp->frame_timer, on_frame_timer, dl > now ? dl - now : 0, 0);
}

static void on_frame_timer(uv_timer_t *t)
{
	struct gw_port *gp = t->data;

	framer_tick(&gp->framer, gw_now_ms(gp->gw));
	arm_frame_timer(gp);
	txq_pump(gp);
}

static void on_frame(void *arg, const uint8_t *p, size_t n)
{
	struct gw_port *gp = arg;

	web_event_traffic(gp->gw, gp, "tx", p, n);
	txq_append(gp, p, n);
}

static void ev_data(void *owner, const uint8_t *p, size_t n)
{
	struct gw_port *gp = owner;

	framer_input(&gp->framer, p, n, uv_now(gp->gw->loop));
	gw_state_timer_kick(gp->gw);
}

static void ev_drained(void *owner)
{
	struct gw_port *gp = owner;

	framer_drained(&gp->framer);
	if (gp->cfg.frame.mode == FRAME_IDLE)
		arm_frame_timer(gp);
	txq_pump(gp);
}

static void ev_state(void *owner)
{
	struct gw_port *gp = owner;
	const struct port_state *s = &gp->be->state;

	framer_set_line(&gp->framer, s->line.baud, termios_map_char_bits(&s->line));
	if (s->open != gp->be_open) {
		gp->be_open = s->open;
		gp->follow_valid = false;   /* a reopened device starts from its config */
		if (s->open)
			follow_apply(gp);
	}
	if (!s->open) {
		/* a pending frame goes out when the application closes */
		framer_flush(&gp->framer);
		arm_frame_timer(gp);
		txq_pump(gp);
	}
	if (!gp->have_published || port_state_lines_differ(s, &gp->published))
		gw_port_publish_state(gp);
}

static void ev_flush_tx(void *owner)
{
	struct gw_port *gp = owner;

	/* the application discarded output it had not "transmitted" yet */
	gp->be->state.dropped += gp->framer.len;
	gp->framer.len = 0;
	gp->framer.deadline_ms = 0;
	arm_frame_timer(gp);
}

/* BASE/event: not retained, not kept while the broker is away (events are
 * not state). A frame pending before the event goes out first. */
static void ev_event(void *owner, json_t *e)
{
	struct gw_port *gp = owner;
	const struct options *o = gp->gw->opt;
	char t[TOPIC_MAX], *s;

	framer_flush(&gp->framer);
	arm_frame_timer(gp);
	txq_pump(gp);
	if (!mqtt_bridge_connected(gp->gw->mqtt) ||
	    topic_port(t, sizeof(t), o->prefix, o->id, gp->cfg.name, "event") < 0)
		return;
	if ((s = json_dumps(e, JSON_COMPACT)))
		mqtt_bridge_publish(gp->gw->mqtt, t, s, strlen(s), 1, false, 0);
	free(s);
}

static const struct port_events gw_port_events = {
	.data = ev_data,
	.drained = ev_drained,
	.state = ev_state,
	.flush_tx = ev_flush_tx,
	.event = ev_event,
};

void gw_port_rx(struct gw_port *gp, const uint8_t *p, size_t n)
{
	if (!gp->be)
		return;
	web_event_traffic(gp->gw, gp, "rx", p, n);
	port_write(gp->be, p, n);
	gw_state_timer_kick(gp->gw);
}

void gw_port_flush(struct gw_port *gp)
{
	if (!gp->be)
		return;
	framer_flush(&gp->framer);
	arm_frame_timer(gp);
	txq_pump(gp);
}

/* The gateway's 1 Hz state timer: runs only while counters move. */
static void on_state_timer(uv_timer_t *t)
{
	struct gateway *gw = t->data;
	bool any = false;

	for (size_t i = 0; i < gw->nports; i++) {
		struct gw_port *gp = gw->ports[i];
		if (gp->be && counters_moved(gp)) {
			gw_port_publish_state(gp);
			any = true;
		}
	}
	if (!any) {
		uv_timer_stop(t);
		gw->state_timer_on = false;
	}
}

void gw_state_timer_kick(struct gateway *gw)
{
	if (gw->state_timer_on)
		return;
	gw->state_timer_on = true;
	uv_timer_start(&gw->state_timer, on_state_timer, 1000, 1000);
}

/* ---- create / remove ---------------------------------------------------- */

static int slot_take(struct gateway *gw, struct gw_port *gp)
{
	size_t i;

	for (i = 0; i < gw->nslots && gw->slots[i]; i++)
		;
	if (i == gw->nslots) {
		size_t n = gw->nslots ? gw->nslots * 2 : 64;
		struct gw_port **s = realloc(gw->slots, n * sizeof(*s));
		if (!s)
			return -1;
		memset(s + gw->nslots, 0, (n - gw->nslots) * sizeof(*s));
		gw->slots = s;
		gw->nslots = n;
	}
	gw->slots[i] = gp;
	gp->slot = (uint32_t)i;
	return 0;
}

static int list_insert(struct gateway *gw, struct gw_port *gp)
{
	size_t i = 0;

	if (gw->nports == gw->cap) {
		size_t n = gw->cap ? gw->cap * 2 : 16;
		struct gw_port **a = realloc(gw->ports, n * sizeof(*a));
		if (!a)
			return -1;
		gw->ports = a;
		gw->cap = n;
	}
	while (i < gw->nports && strcmp(gw->ports[i]->cfg.name, gp->cfg.name) < 0)
		i++;
	memmove(gw->ports + i + 1, gw->ports + i, (gw->nports - i) * sizeof(*gw->ports));
	gw->ports[i] = gp;
	gw->nports++;
	return 0;
}

/* PREFIX/PEERGW/PEERPORT/LEAF, or PREFIX/PEERGW/status (leaf NULL). */
static void peer_topic(const struct gw_port *gp, const char *leaf, char *buf)
{
	const char *prefix = gp->gw->opt->prefix;
	int n = (int)strcspn(gp->cfg.peer, "/");

	if (leaf)
		snprintf(buf, TOPIC_MAX, "%s/%s/%s", prefix, gp->cfg.peer, leaf);
	else
		snprintf(buf, TOPIC_MAX, "%s/%.*s/status", prefix, n, gp->cfg.peer);
}

static void subscribe_port(struct gw_port *gp)
{
	struct mqtt_bridge *b = gp->gw->mqtt;
	char t[TOPIC_MAX];

	mqtt_bridge_subscribe(b, gp->topic_rx, gp->cfg.qos);
	mqtt_bridge_subscribe(b, gp->topic_set, 1);
	if (!gp->cfg.peer[0])
		return;
	peer_topic(gp, "tx", t);
	mqtt_bridge_subscribe(b, t, gp->cfg.qos);
	peer_topic(gp, "state", t);
	mqtt_bridge_subscribe(b, t, 1);
	if (gp->cfg.follow) {
		peer_topic(gp, NULL, t);
		mqtt_bridge_subscribe(b, t, 1);
	}
}

/* Another running port still needs the same peer topics? */
static bool peer_shared(const struct gw_port *gp)
{
	for (size_t i = 0; i < gp->gw->nports; i++) {
		const struct gw_port *o = gp->gw->ports[i];
		if (o != gp && o->be && strcmp(o->cfg.peer, gp->cfg.peer) == 0)
			return true;
	}
	return false;
}

static void unsubscribe_port(struct gw_port *gp)
{
	struct mqtt_bridge *b = gp->gw->mqtt;
	char t[TOPIC_MAX];

	if (!mqtt_bridge_connected(b))
		return;
	mqtt_bridge_unsubscribe(b, gp->topic_rx);
	mqtt_bridge_unsubscribe(b, gp->topic_set);
	if (!gp->cfg.peer[0] || peer_shared(gp))
		return;
	peer_topic(gp, "tx", t);
	mqtt_bridge_unsubscribe(b, t);
	peer_topic(gp, "state", t);
	mqtt_bridge_unsubscribe(b, t);
	if (gp->cfg.follow) {
		peer_topic(gp, NULL, t);
		mqtt_bridge_unsubscribe(b, t);
	}
}

/* Start the backend of an enabled port. Failures leave gp->be NULL. */
static int backend_start(struct gw_port *gp, char *err, size_t errlen)
{
	struct gateway *gw = gp->gw;
	int rc = -1;

	if (!gp->cfg.enabled)
		return 0;
	switch (gp->cfg.kind) {
	case PORT_KIND_PTY:
		gp->be = port_pty_new(&gp->cfg, &gw->env, &gw_port_events, gp);
		break;
	case PORT_KIND_DEVICE:
		gp->be = port_device_new(&gp->cfg, &gw->env, &gw_port_events, gp);
		break;
	case PORT_KIND_CUSE:
		gp->be = port_cuse_new(&gp->cfg, &gw->env, &gw_port_events, gp);
		break;
	case PORT_KIND_RFC2217:
		gp->be = port_rfc2217_new(&gp->cfg, &gw->env, &gw_port_events, gp);
		break;
	default:
		snprintf(err, errlen, "port %s: kind \"%s\" is not supported by this build",
			 gp->cfg.name, port_kind_name(gp->cfg.kind));
		return -1;
	}
	if (!gp->be || framer_init(&gp->framer, &gp->cfg.frame, on_frame, gp) < 0) {
		snprintf(err, errlen, "port %s: out of memory", gp->cfg.name);
		goto fail;
	}
	gp->follow_valid = false;
	gp->be_open = false;
	if ((rc = port_start(gp->be, err, errlen)) < 0)
		goto fail;
	if (mqtt_bridge_connected(gw->mqtt))
		subscribe_port(gp);
	return 0;
fail:
	if (gp->be)
		port_destroy(gp->be);
	gp->be = NULL;
	framer_free(&gp->framer);
	return rc;   /* port_start's code: the API tells 400 from 409 by it */
}

static void backend_stop(struct gw_port *gp)
{
	if (!gp->be)
		return;
	framer_flush(&gp->framer);
	framer_free(&gp->framer);
	uv_timer_stop(&gp->frame_timer);
	unsubscribe_port(gp);
	port_destroy(gp->be);
	gp->be = NULL;
	gp->paused = false;
}

static void set_topics(struct gw_port *gp)
{
	const struct options *o = gp->gw->opt;

	topic_port(gp->topic_tx, TOPIC_MAX, o->prefix, o->id, gp->cfg.name, "tx");
	topic_port(gp->topic_rx, TOPIC_MAX, o->prefix, o->id, gp->cfg.name, "rx");
	topic_port(gp->topic_set, TOPIC_MAX, o->prefix, o->id, gp->cfg.name, "set");
	topic_port(gp->topic_state, TOPIC_MAX, o->prefix, o->id, gp->cfg.name, "state");
}

int gw_port_add(struct gateway *gw, const struct port_config *cfg, char *err, size_t errlen)
{
	struct gw_port *gp = calloc(1, sizeof(*gp));
	int rc;

	if (gp)
		gp->cfg = *cfg;   /* the list is sorted by name: set it first */
	if (!gp || slot_take(gw, gp) < 0 || list_insert(gw, gp) < 0) {
		snprintf(err, errlen, "out of memory");
		if (gp && gw->slots && gw->slots[gp->slot] == gp)
			gw->slots[gp->slot] = NULL;
		free(gp);
		return -1;
	}
	gp->gw = gw;
	gp->cfg = *cfg;
	gp->txq_tail = &gp->txq_head;
	port_state_init(&gp->published);
	uv_timer_init(gw->loop, &gp->frame_timer);
	gp->frame_timer.data = gp;
	set_topics(gp);
	rc = backend_start(gp, err, errlen);
	gw_port_publish_state(gp);
	/* a port whose backend failed stays listed (its config is kept), so
	 * the caller decides whether that is fatal */
	return rc;
}

/* Does going from a to b need a new backend (new pty / reopened device)? */
static bool needs_restart(const struct port_config *a, const struct port_config *b)
{
	if (a->enabled != b->enabled || strcmp(a->device, b->device) != 0)
		return true;
	if (a->kind == PORT_KIND_DEVICE || a->kind == PORT_KIND_RFC2217) /* applied at open */
		return a->baud != b->baud || a->data_bits != b->data_bits ||
		       a->parity != b->parity || a->stop_bits != b->stop_bits ||
		       a->flow != b->flow || a->dtr != b->dtr || a->rts != b->rts;
	return false;
}

int gw_port_update(struct gateway *gw, struct gw_port *gp, const struct port_config *cfg,
		   char *err, size_t errlen)
{
	struct port_config old = gp->cfg;
	int rc = 0;

	if (needs_restart(&old, cfg) || !gp->be) {
		backend_stop(gp);
		gp->cfg = *cfg;
		rc = backend_start(gp, err, errlen);
		gw_port_publish_state(gp);
		return rc;
	}
	/* live: the application keeps its open port */
	gp->cfg = *cfg;
	gp->be->cfg = *cfg;
	if (memcmp(&old.frame, &cfg->frame, sizeof(old.frame)) != 0) {
		struct framer nf;
		if (framer_init(&nf, &cfg->frame, on_frame, gp) == 0) {
			framer_flush(&gp->framer);      /* pending bytes go out as they were */
			nf.baud = gp->framer.baud;
			nf.char_bits = gp->framer.char_bits;
			framer_free(&gp->framer);
			gp->framer = nf;
			arm_frame_timer(gp);
			txq_pump(gp);
		}
	}
	if (old.qos != cfg->qos && mqtt_bridge_connected(gw->mqtt))
		mqtt_bridge_subscribe(gw->mqtt, gp->topic_rx, cfg->qos);
	return rc;
}

static void on_port_timer_closed(uv_handle_t *h)
{
	free(h->data);
}

static void remember_cleared(struct gateway *gw, const char *name)
{
	char (*n)[PORT_NAME_MAX + 1];

	if (gw->stop_phase)
		return;     /* shutting down: the states stay as the last word */
	n = realloc(gw->cleared, (gw->ncleared + 1) * sizeof(*n));
	if (!n)
		return;
	gw->cleared = n;
	snprintf(gw->cleared[gw->ncleared++], PORT_NAME_MAX + 1, "%s", name);
}

void gw_flush_cleared(struct gateway *gw)
{
	char topic[TOPIC_MAX];

	for (size_t i = 0; i < gw->ncleared; i++) {
		if (gw_port_find(gw, gw->cleared[i]))
			continue;       /* made again since: its state is published */
		topic_port(topic, TOPIC_MAX, gw->opt->prefix, gw->opt->id, gw->cleared[i], "state");
		mqtt_bridge_publish(gw->mqtt, topic, "", 0, 1, true, 0);
	}
	free(gw->cleared);
	gw->cleared = NULL;
	gw->ncleared = 0;
}

void gw_port_remove(struct gateway *gw, struct gw_port *gp)
{
	size_t i;

	backend_stop(gp);
	txq_free(gp);
	/* clear the retained state now, or on the next connect */
	if (!mqtt_bridge_connected(gw->mqtt) ||
	    mqtt_bridge_publish(gw->mqtt, gp->topic_state, "", 0, 1, true, 0) != BRIDGE_OK)
		remember_cleared(gw, gp->cfg.name);
	for (i = 0; i < gw->nports && gw->ports[i] != gp; i++)
		;
	if (i < gw->nports) {
		memmove(gw->ports + i, gw->ports + i + 1, (gw->nports - i - 1) * sizeof(*gw->ports));
		gw->nports--;
	}
	gw->slots[gp->slot] = NULL;
	uv_close((uv_handle_t *)&gp->frame_timer, on_port_timer_closed);
}

json_t *gw_port_to_json(const struct gw_port *gp, bool with_state)
{
	json_t *o = port_config_to_json(&gp->cfg);
	const char *path = gp->be ? port_path(gp->be) : NULL;

	if (gp->cfg.kind == PORT_KIND_DEVICE)
		path = NULL;
	json_object_set_new(o, "path", path ? json_string(path) : json_null());
	if (with_state) {
		struct port_state st;
		if (gp->be)
			st = gp->be->state;
		else
			port_state_init(&st);
		json_object_set_new(o, "state", port_state_to_json(&st));
	}
	return o;
}

void gw_publish_ports(struct gateway *gw)
{
	json_t *a = json_array();
	char *s;

	if (!mqtt_bridge_connected(gw->mqtt)) {
		json_decref(a);
		return;
	}
	for (size_t i = 0; i < gw->nports; i++)
		json_array_append_new(a, gw_port_to_json(gw->ports[i], false));
	s = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	if (s)
		mqtt_bridge_publish(gw->mqtt, gw->topic_ports, s, strlen(s), 1, true, 0);
	free(s);
}

/* ---- set, peer, follow ------------------------------------------------- */

void gw_port_set(struct gw_port *gp, const uint8_t *p, size_t n)
{
	json_error_t je;
	json_t *j = json_loadb((const char *)p, n, JSON_REJECT_DUPLICATES, &je);
	struct line_set ls;
	char err[256];

	if (!j) {
		log_warn("port %s: set ignored: not JSON: %s", gp->cfg.name, je.text);
		return;
	}
	if (!gp->be || !gp->be->ops->set) {
		log_warn("port %s: set ignored: a %s port has nothing set can change",
			 gp->cfg.name, port_kind_name(gp->cfg.kind));
	} else if (line_set_parse(j, &ls, err, sizeof(err)) < 0) {
		log_warn("port %s: set ignored: %s", gp->cfg.name, err);
	} else if (gp->be->ops->set(gp->be, &ls, err, sizeof(err)) < 0) {
		log_warn("port %s: set failed: %s", gp->cfg.name, err);
	}
	json_decref(j);
}

/* Bring the device to what the peer asks for. Kept even when it cannot be
 * applied now (device unplugged): a reopened device gets it again. */
static void follow_apply(struct gw_port *gp)
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
	follow_apply(gp);
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
