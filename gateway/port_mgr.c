/* port_mgr — one port's life in the gateway: the backend's events, the
 * framer, the tx queue toward the broker (kept until acknowledged, re-sent
 * in order after a reconnect) and the retained state. */
#include "gateway.h"
#include "mqtt_bridge.h"
#include "termios_map.h"
#include "port_rfc2217.h"
#include "port_serve.h"
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ID_SLOT_SHIFT 40
#define ID_SEQ_MASK ((UINT64_C(1) << ID_SLOT_SHIFT) - 1)

uint64_t gw_now_ms(struct gateway *gw)
{
	uv_update_time(gw->loop);
	return uv_now(gw->loop);
}

void gw_port_set_problem(struct gw_port *gp, const char *fmt, ...)
{
	char now[sizeof(gp->problem)] = "";
	va_list ap;

	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(now, sizeof(now), fmt, ap);
		va_end(ap);
	}
	gp->problem_sub = false;
	if (strcmp(now, gp->problem) == 0)
		return;
	memcpy(gp->problem, now, sizeof(now));
	gw_events_problem(&gp->gw->events, gp, now[0] ? now : NULL);
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
		port_serve_pause(gp->serve, want);
	}
}

/* What a queued message really holds: its header, its bytes and the
 * allocator's own bookkeeping (16 bytes a block on glibc, rounded up), so
 * a flood of 1-byte messages is bounded as tightly as one big one. */
static size_t txmsg_cost(size_t n)
{
	return (sizeof(struct txmsg) + n + 16 + 15) & ~(size_t)15;
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
	gp->txq_bytes += txmsg_cost(n);
	gp->tx_msgs++;
	txq_update_pause(gp);
}

static void txq_pop_acked(struct gw_port *gp)
{
	while (gp->txq_head && gp->txq_head->acked) {
		struct txmsg *m = gp->txq_head;
		gp->txq_head = m->next;
		if (!gp->txq_head)
			gp->txq_tail = &gp->txq_head;
		gp->txq_bytes -= txmsg_cost(m->len);
		free(m);
	}
	txq_update_pause(gp);
}

/* The two latest distinct ports that handed Paho something, and when. */
static void note_sent(struct gw_port *gp)
{
	struct gateway *gw = gp->gw;

	if (gw->sent_slot[0] != gp->slot) {
		gw->sent_slot[1] = gw->sent_slot[0];
		gw->sent_ms[1] = gw->sent_ms[0];
		gw->sent_slot[0] = gp->slot;
	}
	gw->sent_ms[0] = uv_now(gw->loop);
}

static void txq_pump(struct gw_port *gp)
{
	struct mqtt_bridge *b = gp->gw->mqtt;
	bool sent = false;

	if (!mqtt_bridge_connected(b))
		return;
	for (struct txmsg *m = gp->txq_head; m && gp->inflight < TX_WINDOW; m = m->next) {
		if (m->sent || m->acked)
			continue;
		uint64_t id = ((uint64_t)gp->slot << ID_SLOT_SHIFT) | m->seq;
		/* far from a full window nothing waits for this acknowledgement:
		 * Paho's thread need not wake the loop for it (mqtt_bridge.h) */
		bool lazy = gp->inflight + 1 < TX_WINDOW / 2;
		int rc = mqtt_bridge_publish_ex(b, gp->topic_tx, m->data, m->len, gp->cfg.qos,
						false, id, lazy);
		if (rc != BRIDGE_OK)
			break;      /* backpressure or down: the next ack or connect resumes */
		m->sent = true;
		gp->inflight++;
		sent = true;
	}
	if (sent)
		note_sent(gp);
}

/* Handing messages to Paho in bursts. Every MQTTAsync_send signals Paho's
 * send thread and, at QoS 1, takes Paho's global mutex to pick a message
 * id; its two threads hold that mutex while they write and while they
 * handle each acknowledgement. Sends spread one by one over time therefore
 * wake its threads once per message and meet them on the mutex; the same
 * sends made together cost what a bare client's burst costs.
 *
 * So a port's new messages (and the next ones after an acknowledgement) go
 * once the loop turn's I/O is handled (an idle handle: before the loop
 * waits again), with every other port's of that turn; and
 * while other ports have been sending within the last TX_HOLD_MS, they wait
 * up to TX_HOLD_MS for the ports still to come (at most TX_HOLD_PORTS). A
 * port alone (one application talking) never waits beyond its loop turn.
 * Whatever must go before something else of the same port (a frame before
 * its event, data before a state change, everything before a close) still
 * calls txq_pump at once. */
#define TX_HOLD_MS 1
#define TX_HOLD_PORTS 64

static void pump_all(struct gateway *gw)
{
	struct gw_port *gp;

	while ((gp = gw->pump_head)) {
		gw->pump_head = gp->pump_next;
		gp->pump_due = false;
		txq_pump(gp);
	}
	gw->pump_tail = &gw->pump_head;
	gw->pump_n = 0;
	uv_idle_stop(&gw->pump_idle);
	uv_timer_stop(&gw->pump_timer);
}

static void on_pump_idle(uv_idle_t *h)
{
	pump_all(h->data);
}

static void on_pump_timer(uv_timer_t *t)
{
	pump_all(t->data);
}

/* Another port than gp handed Paho something within TX_HOLD_MS? */
static bool others_sending(const struct gw_port *gp)
{
	const struct gateway *gw = gp->gw;
	uint64_t t = gw->sent_slot[0] != gp->slot ? gw->sent_ms[0] : gw->sent_ms[1];

	return t && uv_now(gw->loop) - t <= TX_HOLD_MS;
}

/* Has gp a message Paho has not been handed yet? */
static bool txq_unsent(const struct gw_port *gp)
{
	for (const struct txmsg *m = gp->txq_head; m; m = m->next)
		if (!m->sent && !m->acked)
			return true;
	return false;
}

static void txq_pump_soon(struct gw_port *gp)
{
	struct gateway *gw = gp->gw;

	if (!txq_unsent(gp))
		return;
	if (!gp->pump_due) {
		gp->pump_due = true;
		gp->pump_next = NULL;
		*gw->pump_tail = gp;
		gw->pump_tail = &gp->pump_next;
		gw->pump_n++;
	}
	if (uv_is_active((uv_handle_t *)&gw->pump_idle))
		return;                 /* goes at the end of this turn anyway */
	if (gw->pump_n < TX_HOLD_PORTS && others_sending(gp)) {
		if (!uv_is_active((uv_handle_t *)&gw->pump_timer))
			uv_timer_start(&gw->pump_timer, on_pump_timer, TX_HOLD_MS, 0);
		return;
	}
	uv_timer_stop(&gw->pump_timer);
	uv_idle_start(&gw->pump_idle, on_pump_idle);
}

static void pump_cancel(struct gw_port *gp)
{
	struct gateway *gw = gp->gw;
	struct gw_port **pp = &gw->pump_head;

	if (!gp->pump_due)
		return;
	while (*pp != gp)
		pp = &(*pp)->pump_next;
	*pp = gp->pump_next;
	if (gw->pump_tail == &gp->pump_next)
		gw->pump_tail = pp;
	gp->pump_due = false;
	gw->pump_n--;
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
	txq_pump_soon(gp);
}


void gw_port_on_connected(struct gw_port *gp, bool resumed)
{
	if (gp->problem_sub)
		if (gp->problem_sub)
			gw_port_set_problem(gp, NULL);  /* a refusal is told again if it recurs */
	if (gp->be)
		gw_port_subscribe(gp);
	if (!resumed)
		txq_reset(gp);
	gp->have_published = false;
	gw_port_publish_state(gp);
	txq_pump(gp);
}

void gw_port_on_lost(struct gw_port *gp)
{
	/* nothing is handed to Paho while away (txq_pump checks); what was in
	 * flight is sent again on the next connect, by us from the head or,
	 * when the session resumes, by Paho itself */
	if (gp->cfg.follow)
		gw_port_follow_drop(gp);
}

/* ---- state -------------------------------------------------------------- */

void gw_port_state(const struct gw_port *gp, struct port_state *out)
{
	if (gp->be)
		*out = gp->be->state;
	else
		port_state_init(out);   /* disabled or failed: closed, nothing known */
	port_serve_overlay(gp->serve, out);
}

void gw_port_publish_state(struct gw_port *gp)
{
	bool up = mqtt_bridge_connected(gp->gw->mqtt);
	struct port_state st;
	json_t *j;
	char *s = NULL;

	gw_port_state(gp, &st);
	j = port_state_to_json(&st);
	if (j)
		gw_events_state(&gp->gw->events, gp, j);
	if (up && j)
		s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (s && mqtt_bridge_publish(gp->gw->mqtt, gp->topic_state, s, strlen(s), 1, true, 0)
	    == BRIDGE_OK) {
		gp->published = st;
		gp->have_published = true;
		gp->state_retry = false;
	} else if (up) {
		/* Paho's buffer full or out of memory: the state timer tries
		 * again, so a line change is never left unpublished */
		if (!gp->state_retry)
			log_warn("port %s: state not published, will retry", gp->cfg.name);
		gp->state_retry = true;
		gw_state_timer_kick(gp->gw);
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

	if (gw_events_wants_traffic(&gp->gw->events))
		gw_events_traffic(&gp->gw->events, gp, "tx", "port", p, n);
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
	txq_pump_soon(gp);
}

static void ev_state(void *owner)
{
	struct gw_port *gp = owner;
	const struct port_state *s = &gp->be->state;
	struct port_state eff;

	framer_set_line(&gp->framer, s->line.baud, termios_map_char_bits(&s->line));
	if (s->open != gp->be_open) {
		gp->be_open = s->open;
		gp->follow_valid = false;   /* a reopened device starts from its config */
		if (s->open)
			gw_port_follow_apply(gp);
	}
	if (!s->open) {
		/* a pending frame goes out when the application closes */
		framer_flush(&gp->framer);
		arm_frame_timer(gp);
		txq_pump(gp);
	}
	gw_port_state(gp, &eff);
	port_serve_state(gp->serve, &eff);
	if (!gp->have_published || port_state_lines_differ(&eff, &gp->published)) {
		txq_pump(gp);   /* the data read before the change goes first */
		gw_port_publish_state(gp);
	}
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

static void ev_problem(void *owner, const char *why)
{
	if (why)
		gw_port_set_problem(owner, "%s", why);
	else
		gw_port_set_problem(owner, NULL);
}

static const struct port_events gw_port_events = {
	.problem = ev_problem,
	.data = ev_data,
	.drained = ev_drained,
	.state = ev_state,
	.flush_tx = ev_flush_tx,
	.event = ev_event,
};

void gw_port_rx(struct gw_port *gp, const uint8_t *p, size_t n, const char *src)
{
	if (!gp->be)
		return;
	if (gw_events_wants_traffic(&gp->gw->events))
		gw_events_traffic(&gp->gw->events, gp, "rx", src, p, n);
	gp->rx_msgs++;
	if (port_serve_has_client(gp->serve)) {
		/* the RFC 2217 client is the application: rx is its */
		size_t took = port_serve_write(gp->serve, p, n);
		gp->be->state.rx_bytes += took;
		gp->be->state.dropped += n - took;
	} else {
		port_write(gp->be, p, n);
	}
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

	gw_lag_sample(gw);
	for (size_t i = 0; i < gw->nports; i++) {
		struct gw_port *gp = gw->ports[i];
		if (gp->state_retry || (gp->be && counters_moved(gp))) {
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
	gw->lag.due = uv_now(gw->loop) + LAG_PERIOD_MS;
	uv_timer_start(&gw->state_timer, on_state_timer, LAG_PERIOD_MS, LAG_PERIOD_MS);
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

/* The RFC 2217 listener of the port, if its config asks for one. */
static int serve_start(struct gw_port *gp, char *err, size_t errlen)
{
	const struct port_config *c = &gp->cfg;

	if (!c->rfc2217[0])
		return 0;
	return port_serve_start(gp->gw->loop, c->rfc2217, c->name, gp->gw->env.rx_limit, gp->be,
				&gw_port_events, gp,
				c->kind == PORT_KIND_DEVICE || c->kind == PORT_KIND_RFC2217,
				&gp->serve, err, errlen);
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
	gw_port_set_problem(gp, NULL);     /* the backend tells of its own */
	if ((rc = port_start(gp->be, err, errlen)) < 0 || (rc = serve_start(gp, err, errlen)) < 0)
		goto fail;
	if (mqtt_bridge_connected(gw->mqtt))
		gw_port_subscribe(gp);
	return 0;
fail:
	if (gp->be)
		port_destroy(gp->be);
	gp->be = NULL;
	framer_free(&gp->framer);
	gw_port_set_problem(gp, "%s", err);
	return rc;   /* port_start's code: the API tells 400 from 409 by it */
}

/* Close the RFC 2217 listener. It is taken off the port first: a cuse
 * port tells its state when the client goes (its lines drop). */
static void serve_stop(struct gw_port *gp)
{
	struct port_serve *ps = gp->serve;

	gp->serve = NULL;
	port_serve_stop(ps);
}

static void backend_stop(struct gw_port *gp)
{
	if (!gp->be)
		return;
	serve_stop(gp);
	framer_flush(&gp->framer);
	framer_free(&gp->framer);
	uv_timer_stop(&gp->frame_timer);
	gw_port_unsubscribe(gp);
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

static void reframe(struct gw_port *gp, const struct frame_cfg *f)
{
	struct framer nf;

	if (framer_init(&nf, f, on_frame, gp) < 0) {
		log_error("port %s: out of memory for the new framing; the old one stays",
			  gp->cfg.name);
		return;
	}
	framer_flush(&gp->framer);      /* pending bytes go out as they were */
	nf.baud = gp->framer.baud;
	nf.char_bits = gp->framer.char_bits;
	framer_free(&gp->framer);
	gp->framer = nf;
	arm_frame_timer(gp);
	txq_pump(gp);
}

int gw_port_update(struct gateway *gw, struct gw_port *gp, const struct port_config *cfg,
		   unsigned diff, char *err, size_t errlen)
{
	struct port_config old = gp->cfg;
	int rc = 0;

	if (diff & PFX_PEER) {
		/* a new peer (or follow turned on or off) starts from nothing:
		 * the new peer's retained state arrives with the subscription */
		gp->follow_want_set = false;
		gp->follow_valid = false;
	}
	if ((diff & PFX_REOPEN) || !gp->be) {
		backend_stop(gp);       /* unsubscribes the old config's topics */
		gp->cfg = *cfg;
		rc = backend_start(gp, err, errlen);
		gw_port_publish_state(gp);
		return rc;
	}
	/* live: the application keeps its open port */
	gp->cfg = *cfg;
	gp->be->cfg = *cfg;
	if (diff & PFX_FRAME)
		reframe(gp, &cfg->frame);
	if (diff & PFX_SERVE) {
		serve_stop(gp);
		if ((rc = serve_start(gp, err, errlen)) < 0)
			gw_port_set_problem(gp, "%s", err);
		else
			gw_port_set_problem(gp, NULL);
		gw_port_publish_state(gp);
	}
	if ((diff & (PFX_PEER | PFX_QOS)) && mqtt_bridge_connected(gw->mqtt)) {
		gw_port_set_problem(gp, NULL);
		/* a SUBSCRIBE of a topic already held replaces its QoS: only a
		 * peer left behind is unsubscribed, so no message falls between */
		if (strcmp(old.peer, cfg->peer) != 0)
			gw_port_unsubscribe_peer(gp, &old);
		else if (old.follow && !cfg->follow && mqtt_bridge_connected(gw->mqtt))
			gw_port_unsubscribe_status(gp, &old);
		gw_port_subscribe(gp);     /* rx at the new QoS, the new peer's topics */
	}
	return rc;
}

static void on_port_timer_closed(uv_handle_t *h)
{
	free(h->data);
}

#define CLEARED_MAX 4096

/* The names are distinct (a name made again leaves the list), so the list
 * is bounded by the ports that can exist; past CLEARED_MAX the oldest is
 * given up, with a log line. */
static void remember_cleared(struct gateway *gw, const char *name)
{
	char (*n)[PORT_NAME_MAX + 1];

	if (gw->stop_phase)
		return;     /* shutting down: the states stay as the last word */
	for (size_t i = 0; i < gw->ncleared; i++)
		if (strcmp(gw->cleared[i], name) == 0)
			return;
	if (gw->ncleared == CLEARED_MAX) {
		log_warn("port %s: its retained state will not be cleared (over %d ports "
			 "deleted while the broker was away)", gw->cleared[0], CLEARED_MAX);
		memmove(gw->cleared, gw->cleared + 1, (gw->ncleared - 1) * sizeof(*gw->cleared));
		gw->ncleared--;
	}
	n = realloc(gw->cleared, (gw->ncleared + 1) * sizeof(*n));
	if (!n) {
		log_error("port %s: out of memory: its retained state will not be cleared", name);
		return;
	}
	gw->cleared = n;
	snprintf(gw->cleared[gw->ncleared++], PORT_NAME_MAX + 1, "%s", name);
}

void gw_flush_cleared(struct gateway *gw)
{
	char topic[TOPIC_MAX];
	size_t kept = 0;

	for (size_t i = 0; i < gw->ncleared; i++) {
		if (gw_port_find(gw, gw->cleared[i]))
			continue;       /* made again since: its state is published */
		topic_port(topic, TOPIC_MAX, gw->opt->prefix, gw->opt->id, gw->cleared[i], "state");
		if (mqtt_bridge_publish(gw->mqtt, topic, "", 0, 1, true, 0) == BRIDGE_OK)
			continue;
		/* not handed to Paho: kept for the next connect */
		memmove(gw->cleared[kept++], gw->cleared[i], sizeof(gw->cleared[i]));
	}
	gw->ncleared = kept;
	if (kept)
		log_warn("%zu retained state(s) of deleted ports not cleared yet; retried on "
			 "the next connect", kept);
	if (!kept) {
		free(gw->cleared);
		gw->cleared = NULL;
	}
}

void gw_port_remove(struct gateway *gw, struct gw_port *gp)
{
	size_t i;

	backend_stop(gp);
	pump_cancel(gp);
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

	if (gp->cfg.kind == PORT_KIND_DEVICE || gp->cfg.kind == PORT_KIND_RFC2217)
		path = NULL;
	json_object_set_new(o, "path", path ? json_string(path) : json_null());
	if (with_state) {
		struct port_state st;
		gw_port_state(gp, &st);
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

