/* ha_discovery — see ha_discovery.h. The entities are a table; a config is
 * built from a row, the port and the gateway. */
#include "ha_discovery.h"
#include "gateway.h"
#include "port_config.h"
#include "log.h"
#include "mqtt_bridge.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Discovery off: how long after the first connect the retained configs of
 * an earlier run are still looked for (and cleared). */
#define SWEEP_MS 5000

#define KIND(k) (1u << (k))

/* One Home Assistant entity of a port, reading the state key `key`. */
struct ha_ent {
	const char *key;           /* state key; also ends the object id */
	const char *component;     /* binary_sensor, sensor or switch */
	const char *name;          /* shown after the port name */
	unsigned kinds;            /* KIND(PORT_KIND_*) that have it; 0 = all */
	const char *device_class, *unit, *state_class, *category;
};

static const struct ha_ent ents[] = {
	{ "open", "binary_sensor", "open", 0, "connectivity", NULL, NULL, NULL },
	{ "baud", "sensor", "baud", 0, NULL, "Bd", NULL, "diagnostic" },
	{ "tx_bytes", "sensor", "tx bytes", 0, "data_size", "B", "total_increasing", NULL },
	{ "rx_bytes", "sensor", "rx bytes", 0, "data_size", "B", "total_increasing", NULL },
	{ "dropped", "sensor", "dropped", 0, "data_size", "B", "total_increasing", "diagnostic" },
	/* device ports: the gateway drives DTR and RTS (a relay on DTR) */
	{ "dtr", "switch", "DTR", KIND(PORT_KIND_DEVICE), NULL, NULL, NULL, NULL },
	{ "rts", "switch", "RTS", KIND(PORT_KIND_DEVICE), NULL, NULL, NULL, NULL },
	/* cuse ports: the application drives DTR and RTS (PTT keyed on RTS is
	 * seen); `set` gives it CTS, DSR, DCD and RI (CONTRACT §3) */
	{ "dtr", "binary_sensor", "DTR", KIND(PORT_KIND_CUSE), NULL, NULL, NULL, NULL },
	{ "rts", "binary_sensor", "RTS", KIND(PORT_KIND_CUSE), NULL, NULL, NULL, NULL },
	{ "cts", "switch", "CTS", KIND(PORT_KIND_CUSE), NULL, NULL, NULL, NULL },
	{ "dsr", "switch", "DSR", KIND(PORT_KIND_CUSE), NULL, NULL, NULL, NULL },
	{ "dcd", "switch", "DCD", KIND(PORT_KIND_CUSE), NULL, NULL, NULL, NULL },
	{ "ri", "switch", "RI", KIND(PORT_KIND_CUSE), NULL, NULL, NULL, NULL },
};
#define NENTS (sizeof(ents) / sizeof(ents[0]))

struct ha {
	struct gateway *gw;                   /* borrowed */
	bool on;                              /* --ha-discovery */
	struct gw_observer obs;
	struct gw_sub status_sub;             /* HAPREFIX/status (on only) */
	struct gw_sub sweep_sub;              /* HAPREFIX/+/NODE/+/config */
	bool sweeping;                        /* sweep_sub is subscribed */
	uv_timer_t sweep_timer;               /* off: ends the sweep */
	bool sweep_timer_started;
	char node[80];                        /* mqttty-ID */
	char status_filter[TOPIC_MAX], sweep_filter[TOPIC_MAX];
	char avail[TOPIC_MAX];                /* PREFIX/ID/status */
};

static void on_broker(void *arg, bool connected);

/* The module's state is the arg of its observer: found by its callback, so
 * nothing global is needed. NULL if the module is not started. */
static struct ha *ha_of(struct gateway *gw)
{
	for (size_t i = 0; i < gw->events.n; i++)
		if (gw->events.obs[i]->on_broker == on_broker)
			return gw->events.obs[i]->arg;
	return NULL;
}

/* ---- names ---------------------------------------------------------------- */

int ha_object_id(char *buf, size_t len, const char *port, const char *key)
{
	size_t n = 0;

	for (const char *s = port; *s; s++) {
		const char *rep = *s == '_' ? "__" : *s == '.' ? "_2E" : NULL;
		size_t k = rep ? strlen(rep) : 1;
		if (n + k >= len)
			return -1;
		if (rep)
			memcpy(buf + n, rep, k);
		else
			buf[n] = *s;
		n += k;
	}
	/* the keys start with a lower-case letter, never '_' or '2', so the
	 * first lone '_' before one ends the name */
	int r = snprintf(buf + n, len - n, "_%s", key);
	return r < 0 || (size_t)r >= len - n ? -1 : (int)(n + (size_t)r);
}

static bool ent_applies(const struct ha_ent *e, enum port_kind kind)
{
	return !e->kinds || (e->kinds & KIND(kind));
}

/* HAPREFIX/COMPONENT/NODE/OBJECT/config. 0 or -1 (too long). */
static int config_topic(const struct ha *h, const struct ha_ent *e, const char *port,
			char *buf, size_t len)
{
	char obj[128];
	int r;

	if (ha_object_id(obj, sizeof(obj), port, e->key) < 0)
		return -1;
	r = snprintf(buf, len, "%s/%s/%s/%s/config", h->gw->opt->ha_prefix, e->component,
		     h->node, obj);
	return r < 0 || (size_t)r >= len ? -1 : 0;
}

/* ---- configs -------------------------------------------------------------- */

static json_t *device_json(const struct ha *h)
{
	const struct options *o = h->gw->opt;
	char ident[TOPIC_MAX + 16], name[96];

	/* the prefix too: ids are unique per broker and prefix */
	snprintf(ident, sizeof(ident), "mqttty:%s/%s", o->prefix, o->id);
	snprintf(name, sizeof(name), "mqttty %s", o->id);
	return json_pack("{s:[s], s:s, s:s, s:s, s:s}", "identifiers", ident, "name", name,
			 "manufacturer", "mqttty", "model", "serial-to-MQTT gateway",
			 "sw_version", MQTTTY_VERSION);
}

/* What HA's template gives for a boolean state key: ON, OFF, or None
 * (unknown) where the port cannot know (a pty's modem lines). */
static void bool_template(char *buf, size_t len, const char *key)
{
	snprintf(buf, len, "{{ 'None' if value_json.%s is none else "
		 "('ON' if value_json.%s else 'OFF') }}", key, key);
}

static void set_opt(json_t *o, const char *k, const char *v)
{
	if (v)
		json_object_set_new(o, k, json_string(v));
}

/* The switch's commands: {"KEY":true} / {"KEY":false} on BASE/set. */
static void switch_fields(json_t *c, const struct gw_port *gp, const struct ha_ent *e)
{
	char on[32], off[32];

	snprintf(on, sizeof(on), "{\"%s\":true}", e->key);
	snprintf(off, sizeof(off), "{\"%s\":false}", e->key);
	json_object_set_new(c, "command_topic", json_string(gp->topic_set));
	json_object_set_new(c, "payload_on", json_string(on));
	json_object_set_new(c, "payload_off", json_string(off));
	json_object_set_new(c, "state_on", json_string("ON"));
	json_object_set_new(c, "state_off", json_string("OFF"));
	json_object_set_new(c, "retain", json_false());   /* a stale command is never replayed */
}

/* New reference: the config of entity e of port gp. */
static json_t *config_json(const struct ha *h, const struct gw_port *gp, const struct ha_ent *e)
{
	const struct options *o = h->gw->opt;
	char name[PORT_NAME_MAX + 32], uid[TOPIC_MAX + 48], tpl[160];
	json_t *c;

	snprintf(name, sizeof(name), "%s %s", gp->cfg.name, e->name);
	/* stable across restarts: the port's topic base and the entity */
	snprintf(uid, sizeof(uid), "mqttty:%s/%s/%s:%s:%s", o->prefix, o->id, gp->cfg.name,
		 e->component, e->key);
	if (strcmp(e->component, "sensor") == 0)
		snprintf(tpl, sizeof(tpl), "{{ value_json.%s }}", e->key);
	else
		bool_template(tpl, sizeof(tpl), e->key);
	c = json_pack("{s:s, s:s, s:s, s:s, s:o, s:{s:s, s:s}, s:[{s:s, s:s, s:s}]}",
		      "name", name, "unique_id", uid, "state_topic", gp->topic_state,
		      "value_template", tpl, "device", device_json(h),
		      "origin", "name", "mqttty", "sw_version", MQTTTY_VERSION,
		      "availability", "topic", h->avail, "payload_available", "online",
		      "payload_not_available", "offline");
	if (!c)
		return NULL;
	set_opt(c, "device_class", e->device_class);
	set_opt(c, "unit_of_measurement", e->unit);
	set_opt(c, "state_class", e->state_class);
	set_opt(c, "entity_category", e->category);
	if (strcmp(e->component, "switch") == 0)
		switch_fields(c, gp, e);
	return c;
}

/* Publish (clear: an empty retained payload) every config of a port. */
static void publish_port(struct ha *h, const struct gw_port *gp, bool clear)
{
	char topic[TOPIC_MAX];
	int rc = 0;

	for (size_t i = 0; i < NENTS && rc == 0; i++) {
		const struct ha_ent *e = &ents[i];
		json_t *c = NULL;
		char *s = NULL;

		if (!ent_applies(e, gp->cfg.kind))
			continue;
		if (config_topic(h, e, gp->cfg.name, topic, sizeof(topic)) < 0) {
			log_warn("port %s: its Home Assistant topic is too long; not announced",
				 gp->cfg.name);
			return;
		}
		if (!clear && (!(c = config_json(h, gp, e)) || !(s = json_dumps(c, JSON_COMPACT))))
			rc = BRIDGE_ERR;
		else
			rc = gw_publish(h->gw, topic, s, s ? strlen(s) : 0, 1, true);
		free(s);
		json_decref(c);
	}
	/* not kept while away: every connect publishes all again, and the
	 * sweep clears what a deleted port left */
	if (rc != BRIDGE_OK && rc != BRIDGE_DOWN)
		log_warn("port %s: Home Assistant discovery not %s (%d); sent again on the "
			 "next connect", gp->cfg.name, clear ? "cleared" : "published", rc);
}

static void publish_all(struct ha *h)
{
	for (size_t i = 0; i < h->gw->nports; i++)
		publish_port(h, h->gw->ports[i], false);
}

/* Is topic the config topic of an entity some port has now? */
static bool wanted(const struct ha *h, const char *topic)
{
	char t[TOPIC_MAX];

	if (!h->on)
		return false;
	for (size_t i = 0; i < h->gw->nports; i++) {
		const struct gw_port *gp = h->gw->ports[i];
		for (size_t k = 0; k < NENTS; k++)
			if (ent_applies(&ents[k], gp->cfg.kind) &&
			    config_topic(h, &ents[k], gp->cfg.name, t, sizeof(t)) == 0 &&
			    strcmp(t, topic) == 0)
				return true;
	}
	return false;
}

/* ---- MQTT and observer callbacks ------------------------------------------- */

/* A config of this gateway's node (retained from an earlier run, or our
 * own coming back): cleared if no port wants it. */
static void on_sweep_msg(void *arg, const char *topic, const uint8_t *p, size_t n,
			 bool retained)
{
	struct ha *h = arg;

	if (n == 0 || wanted(h, topic))
		return;
	log_info("Home Assistant: clearing %s (no such entity now)", topic);
	gw_publish(h->gw, topic, "", 0, 1, true);
}

/* Home Assistant's birth message: it (re)subscribed, send everything. */
static void on_status_msg(void *arg, const char *topic, const uint8_t *p, size_t n,
			  bool retained)
{
	struct ha *h = arg;

	if (n == 6 && memcmp(p, "online", 6) == 0) {
		log_debug("Home Assistant is online: discovery sent again");
		publish_all(h);
	}
}

static void on_sweep_timer(uv_timer_t *t)
{
	struct ha *h = t->data;

	if (h->sweeping) {
		gw_unsubscribe(h->gw, &h->sweep_sub);
		h->sweeping = false;
	}
}

static void on_port(void *arg, const char *op, const struct gw_port *gp)
{
	struct ha *h = arg;

	if (!h->on || !gw_broker_connected(h->gw))
		return;
	if (strcmp(op, "added") == 0)
		publish_port(h, gp, false);
	else if (strcmp(op, "removed") == 0)
		publish_port(h, gp, true);
}

static void on_broker(void *arg, bool connected)
{
	struct ha *h = arg;

	if (!connected)
		return;
	if (h->on) {
		publish_all(h);
	} else if (!h->sweep_timer_started) {
		h->sweep_timer_started = true;
		uv_timer_start(&h->sweep_timer, on_sweep_timer, SWEEP_MS, 0);
	}
}

/* ---- the module ------------------------------------------------------------- */

static int ha_init(struct ha *h, struct gateway *gw, char *err, size_t errlen)
{
	const struct options *o = gw->opt;
	int a, b;

	h->gw = gw;
	h->on = o->ha;
	snprintf(h->node, sizeof(h->node), "mqttty-%s", o->id);
	a = snprintf(h->sweep_filter, sizeof(h->sweep_filter), "%s/+/%s/+/config", o->ha_prefix,
		     h->node);
	b = snprintf(h->status_filter, sizeof(h->status_filter), "%s/status", o->ha_prefix);
	if (a < 0 || (size_t)a >= sizeof(h->sweep_filter) || b < 0 ||
	    (size_t)b >= sizeof(h->status_filter) ||
	    topic_gateway(h->avail, sizeof(h->avail), o->prefix, o->id, "status") < 0) {
		snprintf(err, errlen, "--ha-prefix \"%.64s\" is too long", o->ha_prefix);
		return -1;
	}
	h->obs = (struct gw_observer){ .arg = h, .on_port = on_port, .on_broker = on_broker };
	h->sweep_sub = (struct gw_sub){ h->sweep_filter, 1, on_sweep_msg, h };
	h->status_sub = (struct gw_sub){ h->status_filter, 1, on_status_msg, h };
	return 0;
}

static void on_timer_closed(uv_handle_t *t)
{
	free(t->data);
}

/* Undo what start did; h is freed once its timer has closed. */
static void ha_close(struct ha *h)
{
	gw_unsubscribe(h->gw, &h->sweep_sub);
	gw_unsubscribe(h->gw, &h->status_sub);
	gw_events_del(&h->gw->events, &h->obs);
	uv_close((uv_handle_t *)&h->sweep_timer, on_timer_closed);
}

int ha_discovery_start(struct gateway *gw, char *err, size_t errlen)
{
	struct ha *h = calloc(1, sizeof(*h));

	if (!h) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (ha_init(h, gw, err, errlen) < 0) {
		free(h);
		return -1;
	}
	if (uv_timer_init(gw->loop, &h->sweep_timer) < 0) {
		snprintf(err, errlen, "cannot set up a timer for Home Assistant discovery");
		free(h);
		return -1;
	}
	h->sweep_timer.data = h;
	/* from here on h is found through its observer, and freed by ha_close */
	if (gw_events_add(&gw->events, &h->obs) < 0 || gw_subscribe(gw, &h->sweep_sub) < 0 ||
	    (h->on && gw_subscribe(gw, &h->status_sub) < 0)) {
		snprintf(err, errlen, "Home Assistant discovery: too many observers or "
			 "subscriptions");
		ha_close(h);
		return -1;
	}
	h->sweeping = true;
	if (h->on)
		log_info("Home Assistant discovery under %s/ as device %s", gw->opt->ha_prefix,
			 h->node);
	return 0;
}

void ha_discovery_stop(struct gateway *gw)
{
	struct ha *h = ha_of(gw);

	if (h)
		ha_close(h);
}
