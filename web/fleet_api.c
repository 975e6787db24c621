/* fleet_api — the fleet's routes (see fleet.h): the view as text, the
 * watch of a remote port's traffic, send to its rx and set through its
 * set topic. Names from the body are checked before they become topics. */
#include "fleet_priv.h"
#include "mqtt_bridge.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void answer(struct http_resp *r, int status, json_t *j)
{
	free(r->body);
	r->body = json_dumps(j, JSON_COMPACT);
	r->len = r->body ? strlen(r->body) : 0;
	r->status = r->body ? status : 500;
	r->content_type = "application/json";
	json_decref(j);
}

/* One gateway of GET /fleet as text: each port object as published, with
 * its state spliced in. Built gateway by gateway so only one small tree is
 * ever parsed at a time (the whole answer may be megabytes). */
static void gateway_text(struct sbuf *b, const struct fgw *g)
{
	json_t *ports = g->ports ? json_loadb(g->ports, g->ports_len, 0, NULL) : NULL;
	bool first = true;

	sbuf_puts(b, "{\"id\":\"");
	sbuf_puts(b, g->id);   /* checked: [A-Za-z0-9_-] */
	sbuf_puts(b, g->online > 0 ? "\",\"online\":true" : g->online == 0 ? "\",\"online\":false"
	      : "\",\"online\":null");
	sbuf_puts(b, ",\"ports\":[");
	if (json_is_array(ports)) {
		for (size_t i = 0; i < json_array_size(ports); i++) {
			json_t *p = json_array_get(ports, i);
			const char *name = json_string_value(json_object_get(p, "name"));
			const struct fstate *s = name ? fleet__state_get((struct fgw *)g, name, false) : NULL;
			char *t;

			if (!name)
				continue;
			json_object_del(p, "state");
			if (!(t = json_dumps(p, JSON_COMPACT)))
				continue;
			sbuf_puts(b, first ? "" : ",");
			first = false;
			sbuf_put(b, t, strlen(t) - 1);          /* without its closing brace */
			sbuf_puts(b, ",\"state\":");
			if (s && s->raw)
				sbuf_put(b, s->raw, s->len);
			else
				sbuf_puts(b, "null");
			sbuf_puts(b, "}");
			free(t);
		}
	} else {
		/* no ports list (yet): the states alone, by name */
		for (size_t i = 0; i < g->nst; i++) {
			if (!g->st[i].raw)
				continue;
			sbuf_puts(b, first ? "{\"name\":\"" : ",{\"name\":\"");
			first = false;
			sbuf_puts(b, g->st[i].name);        /* checked: a port name */
			sbuf_puts(b, "\",\"state\":");
			sbuf_put(b, g->st[i].raw, g->st[i].len);
			sbuf_puts(b, "}");
		}
	}
	json_decref(ports);
	sbuf_puts(b, "]}");
}

void fleet_api_get(struct fleet *f, struct http_resp *r)
{
	struct sbuf b = { 0 };
	json_t *head;
	char *h;

	fleet__watch_start(f);
	if (!f->settled)
		return;                  /* web.c asks again once they are in */
	head = json_pack("{s:s, s:s, s:b}", "prefix", f->gw->opt->prefix, "self", f->gw->opt->id,
			 "broker_connected", gw_broker_connected(f->gw));
	h = head ? json_dumps(head, JSON_COMPACT) : NULL;
	json_decref(head);
	if (h) {
		sbuf_put(&b, h, strlen(h) - 1);
		sbuf_puts(&b, ",\"gateways\":[");
		for (size_t i = 0; i < f->ngws; i++) {
			if (i)
				sbuf_puts(&b, ",");
			gateway_text(&b, f->gws[i]);
		}
		sbuf_puts(&b, "]}");
	}
	free(h);
	if (!h || b.oom) {
		free(b.p);
		resp_error(r, 500, "out of memory");
		return;
	}
	free(r->body);
	r->body = b.p;
	r->len = b.len;
	r->status = 200;
	r->content_type = "application/json";
}

/* The body's "gateway" and "port", checked as names (so no wildcard or
 * extra level reaches a topic). false: r says why. */
static json_t *body_target(const struct http_req *req, struct http_resp *r, const char **gw,
			   const char **port, bool optional)
{
	json_error_t e;
	json_t *j = json_loadb((const char *)req->body, req->body_len, JSON_REJECT_DUPLICATES, &e);
	json_t *g, *p;

	if (!j && req->body_len == 0 && optional)
		j = json_object();
	if (!json_is_object(j)) {
		resp_error(r, 400, "the body must be a JSON object: %s",
			   j ? "it is another JSON value" : e.text);
		json_decref(j);
		return NULL;
	}
	g = json_object_get(j, "gateway");
	p = json_object_get(j, "port");
	*gw = json_string_value(g);
	*port = json_string_value(p);
	if (optional && !g && !p)
		return j;
	if (!*gw || !fleet__id_ok(*gw, json_string_length(g))) {
		resp_error(r, 400, "\"gateway\" must be a gateway id: 1-64 of A-Z a-z 0-9 _ -");
	} else if (!*port || !fleet__port_ok(*port, json_string_length(p))) {
		resp_error(r, 400, "\"port\" must be a port name: 1-32 of A-Z a-z 0-9 _ . -, "
			   "not starting with a dot");
	} else {
		return j;
	}
	json_decref(j);
	return NULL;
}

static int gw_online(struct fleet *f, const char *id)
{
	const struct fgw *g = fleet__gw_get(f, id, false);

	if (strcmp(id, f->gw->opt->id) == 0)
		return gw_broker_connected(f->gw);
	return g ? g->online : -1;
}

static void on_watch_msg(struct fwatch *w, const char *dir, const uint8_t *p, size_t n)
{
	uint64_t ts = traffic_now_ms();
	size_t blen = (n + 2) / 3 * 4 + 1;
	char *b64;
	json_t *ev;
	char *txt;

	traffic_ring_push(&w->ring, ts, dir, "mqtt", p, n);
	if (!web_has_clients(w->f->gw) || !(b64 = malloc(blen)))
		return;
	EVP_EncodeBlock((unsigned char *)b64, p, (int)n);
	ev = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:s}", "type", "fleet", "op", "traffic",
		       "gateway", w->gw, "name", w->port, "dir", dir, "ts", (json_int_t)ts,
		       "data", b64);
	free(b64);
	if ((txt = json_dumps(ev, JSON_COMPACT)))
		fleet__send_text(w->f, txt, strlen(txt));
	free(txt);
	json_decref(ev);
}

static void on_watch_tx(void *arg, const char *topic, const uint8_t *p, size_t n, bool retained)
{
	if (!retained)
		on_watch_msg(arg, "tx", p, n);
}

static void on_watch_rx(void *arg, const char *topic, const uint8_t *p, size_t n, bool retained)
{
	if (!retained)
		on_watch_msg(arg, "rx", p, n);
}

static struct fwatch *watch_port(struct fleet *f, const char *id, const char *port,
				 struct http_resp *r)
{
	struct fwatch *free_slot = NULL;

	for (size_t i = 0; i < FLEET_WATCH_MAX; i++) {
		struct fwatch *w = &f->watch[i];
		if (w->used && strcmp(w->gw, id) == 0 && strcmp(w->port, port) == 0)
			return w;
		if (!w->used && !free_slot)
			free_slot = w;
	}
	if (!free_slot) {
		resp_error(r, 503, "this gateway already follows the traffic of %d remote ports; "
			   "try again when one is closed (after %d s unasked)", FLEET_WATCH_MAX,
			   FLEET_WATCH_MS / 1000);
		return NULL;
	}
	struct fwatch *w = free_slot;
	memset(w, 0, sizeof(*w));
	w->f = f;
	snprintf(w->gw, sizeof(w->gw), "%s", id);
	snprintf(w->port, sizeof(w->port), "%s", port);
	if (topic_port(w->ftx, sizeof(w->ftx), f->gw->opt->prefix, id, port, "tx") < 0 ||
	    topic_port(w->frx, sizeof(w->frx), f->gw->opt->prefix, id, port, "rx") < 0) {
		resp_error(r, 400, "the topic would be too long");
		return NULL;
	}
	w->stx = (struct gw_sub){ w->ftx, 0, on_watch_tx, w };
	w->srx = (struct gw_sub){ w->frx, 0, on_watch_rx, w };
	if (gw_subscribe(f->gw, &w->stx) < 0) {
		resp_error(r, 503, "no room for another subscription on this gateway");
		return NULL;
	}
	if (gw_subscribe(f->gw, &w->srx) < 0) {
		gw_unsubscribe(f->gw, &w->stx);
		resp_error(r, 503, "no room for another subscription on this gateway");
		return NULL;
	}
	w->used = true;
	return w;
}

void fleet_api_watch(struct fleet *f, const struct http_req *req, struct http_resp *r)
{
	const char *id, *port;
	json_t *j = body_target(req, r, &id, &port, true);
	struct fwatch *w;

	if (!j)
		return;
	fleet__watch_start(f);
	if (!id) {
		answer(r, 200, json_pack("{s:b}", "watching", true));
	} else if ((w = watch_port(f, id, port, r))) {
		w->until = fleet__now_ms(f) + FLEET_WATCH_MS;
		answer(r, 200, json_pack("{s:b, s:s, s:s, s:o}", "watching", true, "gateway", id,
					 "port", port, "messages", traffic_ring_json(&w->ring)));
	}
	json_decref(j);
}

static int b64_decode(const char *s, size_t n, uint8_t **out, size_t *outlen)
{
	uint8_t *buf;
	int len;
	size_t pad = 0;

	if (n % 4)
		return -1;
	if (!(buf = malloc(n / 4 * 3 + 1)))
		return -1;
	len = n ? EVP_DecodeBlock(buf, (const unsigned char *)s, (int)n) : 0;
	if (len < 0) {
		free(buf);
		return -1;
	}
	if (n && s[n - 1] == '=')
		pad++;
	if (n > 1 && s[n - 2] == '=')
		pad++;
	*out = buf;
	*outlen = (size_t)len - pad;
	return 0;
}

static void publish_answer(struct fleet *f, struct http_resp *r, int rc, const char *topic,
			   size_t n, int online)
{
	if (rc == BRIDGE_DOWN)
		resp_error(r, 503, "not sent: this gateway is not connected to the broker");
	else if (rc == BRIDGE_AGAIN)
		resp_error(r, 503, "not sent: the broker connection is busy; try again");
	else if (rc < 0)
		resp_error(r, 500, "not sent: publishing to %s failed", topic);
	else
		answer(r, 200, json_pack("{s:s, s:I, s:o}", "topic", topic, "bytes", (json_int_t)n,
					 "gateway_online", online < 0 ? json_null()
					 : json_boolean(online > 0)));
}

void fleet_api_send(struct fleet *f, const struct http_req *req, struct http_resp *r)
{
	const char *id, *port;
	json_t *j = body_target(req, r, &id, &port, false), *d;
	char topic[TOPIC_MAX];
	uint8_t *bytes = NULL;
	size_t n = 0;

	if (!j)
		return;
	d = json_object_get(j, "data");
	if (!json_is_string(d) ||
	    b64_decode(json_string_value(d), json_string_length(d), &bytes, &n) < 0) {
		resp_error(r, 400, "\"data\" must be the bytes in base64");
	} else if (n == 0) {
		resp_error(r, 400, "\"data\" is empty: nothing to send");
	} else if (topic_port(topic, sizeof(topic), f->gw->opt->prefix, id, port, "rx") < 0) {
		resp_error(r, 400, "the topic would be too long");
	} else {
		int rc = gw_publish(f->gw, topic, bytes, n, 1, false);
		publish_answer(f, r, rc, topic, n, gw_online(f, id));
	}
	free(bytes);
	json_decref(j);
}

/* The keys BASE/set takes (CONTRACT §3) and their JSON types. */
static const struct { const char *key; int type; } set_keys[] = {
	{ "baud", JSON_INTEGER }, { "data_bits", JSON_INTEGER }, { "parity", JSON_STRING },
	{ "stop_bits", JSON_INTEGER }, { "flow", JSON_STRING }, { "dtr", JSON_TRUE },
	{ "rts", JSON_TRUE }, { "break_ms", JSON_INTEGER }, { "cts", JSON_TRUE },
	{ "dsr", JSON_TRUE }, { "dcd", JSON_TRUE }, { "ri", JSON_TRUE },
};

static const char *set_check(json_t *set)
{
	const char *k;
	json_t *v;

	if (!json_is_object(set) || json_object_size(set) == 0)
		return "\"set\" must be a non-empty object, e.g. {\"rts\": false}";
	json_object_foreach(set, k, v) {
		size_t i;
		for (i = 0; i < sizeof(set_keys) / sizeof(set_keys[0]); i++)
			if (strcmp(k, set_keys[i].key) == 0)
				break;
		if (i == sizeof(set_keys) / sizeof(set_keys[0]))
			return "\"set\" takes baud, data_bits, parity, stop_bits, flow, dtr, rts, "
			       "break_ms (device ports) or cts, dsr, dcd, ri (cuse ports)";
		if (set_keys[i].type == JSON_TRUE ? !json_is_boolean(v)
		    : (int)json_typeof(v) != set_keys[i].type)
			return "a value in \"set\" has the wrong type (lines are true/false, "
			       "numbers whole, parity and flow strings)";
	}
	return NULL;
}

void fleet_api_set(struct fleet *f, const struct http_req *req, struct http_resp *r)
{
	const char *id, *port, *why;
	json_t *j = body_target(req, r, &id, &port, false), *set;
	char topic[TOPIC_MAX], *txt;
	int online;

	if (!j)
		return;
	set = json_object_get(j, "set");
	online = gw_online(f, id);
	if ((why = set_check(set))) {
		resp_error(r, 400, "%s", why);
	} else if (online == 0) {
		/* set goes at QoS 0 and is never held: say so rather than pretend */
		resp_error(r, 409, "gateway %s is offline: a set is not kept for later", id);
	} else if (topic_port(topic, sizeof(topic), f->gw->opt->prefix, id, port, "set") < 0) {
		resp_error(r, 400, "the topic would be too long");
	} else if (!(txt = json_dumps(set, JSON_COMPACT))) {
		resp_error(r, 500, "out of memory");
	} else {
		int rc = gw_publish(f->gw, topic, txt, strlen(txt), 0, false);
		publish_answer(f, r, rc, topic, strlen(txt), online);
		free(txt);
	}
	json_decref(j);
}
