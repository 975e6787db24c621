/* fleet — the view of every gateway under our prefix (see fleet.h).
 *
 * Payloads are kept as the raw JSON text they arrived as (checked once to
 * be JSON of the right shape), not as parsed trees: 50 gateways × 100 ports
 * then cost a few MB, and websocket events embed the text as it is. The
 * tree is built only for GET /api/v1/fleet. */
#include "fleet.h"
#include "traffic.h"
#include "web.h"
#include "gateway.h"
#include "mqtt_bridge.h"
#include "log.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GW_ID_MAX 64

struct fstate {
	char name[PORT_NAME_MAX + 1];
	char *raw;                  /* a JSON object; owned */
	size_t len;
	bool dirty;                 /* not yet told to the websocket */
};

struct fgw {
	char id[GW_ID_MAX + 1];
	int online;                 /* 1, 0, or -1 while no status was seen */
	char *ports;                /* the retained ports array as text; owned, may be NULL */
	size_t ports_len;
	struct fstate *st;          /* sorted by name */
	size_t nst, capst;
	bool dirty, dirty_states;
};

struct fwatch {
	bool used;
	char gw[GW_ID_MAX + 1], port[PORT_NAME_MAX + 1];
	char ftx[TOPIC_MAX], frx[TOPIC_MAX];
	struct gw_sub stx, srx;
	uint64_t until;
	struct traffic_ring ring;
	struct fleet *f;
};

struct fleet {
	struct gateway *gw;
	struct web *w;
	char f_status[TOPIC_MAX], f_ports[TOPIC_MAX], f_state[TOPIC_MAX];
	struct gw_sub s_status, s_ports, s_state;
	bool watching, settled, stopping;
	bool seen_self;             /* our own status came back since watch_start */
	uint64_t started, last_msg, last_asked;
	uv_timer_t settle, tick, flush;
	struct fgw **gws;           /* sorted by id */
	size_t ngws, capgws;
	size_t bytes;               /* payload bytes held */
	struct fwatch watch[FLEET_WATCH_MAX];
};

static uint64_t now_ms(struct fleet *f)
{
	return uv_now(f->gw->loop);
}

/* ---- names --------------------------------------------------------------- */

static bool id_ok(const char *s, size_t n)
{
	if (n < 1 || n > GW_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-'))
			return false;
	return true;
}

static bool port_ok(const char *s, size_t n)
{
	if (n < 1 || n > PORT_NAME_MAX || s[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-' || s[i] == '.'))
			return false;
	return true;
}

/* "PREFIX/ID/leaf" -> ID (into id); false if the topic has another shape */
static bool gw_topic(const struct fleet *f, const char *topic, char *id)
{
	const char *prefix = f->gw->opt->prefix;
	size_t pl = strlen(prefix), n;

	if (strncmp(topic, prefix, pl) != 0 || topic[pl] != '/')
		return false;
	topic += pl + 1;
	n = strcspn(topic, "/");
	if (!id_ok(topic, n) || !topic[n] || strchr(topic + n + 1, '/'))
		return false;
	memcpy(id, topic, n);
	id[n] = '\0';
	return true;
}

/* ---- the store ----------------------------------------------------------- */

static size_t gw_index(const struct fleet *f, const char *id, bool *found)
{
	size_t lo = 0, hi = f->ngws;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(f->gws[mid]->id, id);
		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

static struct fgw *gw_get(struct fleet *f, const char *id, bool make)
{
	bool found;
	size_t i = gw_index(f, id, &found);
	struct fgw *g;

	if (found)
		return f->gws[i];
	if (!make)
		return NULL;
	if (f->ngws == f->capgws) {
		size_t cap = f->capgws ? f->capgws * 2 : 16;
		struct fgw **n = realloc(f->gws, cap * sizeof(*n));
		if (!n)
			return NULL;
		f->gws = n;
		f->capgws = cap;
	}
	if (!(g = calloc(1, sizeof(*g))))
		return NULL;
	snprintf(g->id, sizeof(g->id), "%s", id);
	g->online = -1;
	memmove(f->gws + i + 1, f->gws + i, (f->ngws - i) * sizeof(*f->gws));
	f->gws[i] = g;
	f->ngws++;
	return g;
}

static void gw_free_one(struct fleet *f, struct fgw *g)
{
	for (size_t i = 0; i < g->nst; i++) {
		f->bytes -= g->st[i].len;
		free(g->st[i].raw);
	}
	f->bytes -= g->ports_len;
	free(g->st);
	free(g->ports);
	free(g);
}

static void send_text(struct fleet *f, const char *s, size_t n)
{
	if (web_has_clients(f->gw))
		web_broadcast_text(f->w, s, n);
}

/* A gateway with nothing left (status, ports and states all cleared). */
static void gw_maybe_drop(struct fleet *f, struct fgw *g)
{
	char ev[160];
	bool found;
	size_t i;
	int n;

	if (g->online >= 0 || g->ports || g->nst)
		return;
	i = gw_index(f, g->id, &found);
	memmove(f->gws + i, f->gws + i + 1, (f->ngws - i - 1) * sizeof(*f->gws));
	f->ngws--;
	n = snprintf(ev, sizeof(ev), "{\"type\":\"fleet\",\"op\":\"removed\",\"id\":\"%s\"}", g->id);
	send_text(f, ev, (size_t)n);
	gw_free_one(f, g);
}

static struct fstate *state_get(struct fgw *g, const char *name, bool make)
{
	size_t lo = 0, hi = g->nst;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(g->st[mid].name, name);
		if (c == 0)
			return &g->st[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!make)
		return NULL;
	if (g->nst == g->capst) {
		size_t cap = g->capst ? g->capst * 2 : 8;
		struct fstate *n = realloc(g->st, cap * sizeof(*n));
		if (!n)
			return NULL;
		g->st = n;
		g->capst = cap;
	}
	memmove(g->st + lo + 1, g->st + lo, (g->nst - lo) * sizeof(*g->st));
	memset(&g->st[lo], 0, sizeof(g->st[lo]));
	snprintf(g->st[lo].name, sizeof(g->st[lo].name), "%s", name);
	g->nst++;
	return &g->st[lo];
}

/* Is p[0..n) JSON of the given type? (parsed once, then thrown away) */
static bool json_shape(const uint8_t *p, size_t n, int type)
{
	json_t *j = json_loadb((const char *)p, n, 0, NULL);
	bool ok = j && (int)json_typeof(j) == type;

	json_decref(j);
	return ok;
}

static char *dup_bytes(const uint8_t *p, size_t n)
{
	char *s = malloc(n + 1);

	if (s) {
		memcpy(s, p, n);
		s[n] = '\0';
	}
	return s;
}

/* ---- messages ------------------------------------------------------------- */

static void seen(struct fleet *f)
{
	f->last_msg = now_ms(f);
}

static void on_status(void *arg, const char *topic, const uint8_t *p, size_t n, bool retained)
{
	struct fleet *f = arg;
	char id[GW_ID_MAX + 1];
	struct fgw *g;
	int online;

	if (!f->watching || !gw_topic(f, topic, id))
		return;
	seen(f);
	if (n == 0)
		online = -1;
	else if (n == 6 && memcmp(p, "online", 6) == 0)
		online = 1;
	else if (n == 7 && memcmp(p, "offline", 7) == 0)
		online = 0;
	else
		return;
	if (strcmp(id, f->gw->opt->id) == 0)
		f->seen_self = true;
	if (!(g = gw_get(f, id, online >= 0)) || g->online == online)
		return;
	g->online = online;
	g->dirty = true;
	gw_maybe_drop(f, g);
}

static void on_ports(void *arg, const char *topic, const uint8_t *p, size_t n, bool retained)
{
	struct fleet *f = arg;
	char id[GW_ID_MAX + 1];
	struct fgw *g;
	char *raw = NULL;

	if (!f->watching || !gw_topic(f, topic, id))
		return;
	seen(f);
	if (n && (!json_shape(p, n, JSON_ARRAY) || !(raw = dup_bytes(p, n)))) {
		log_debug("fleet: %s is not a JSON array: ignored", topic);
		return;
	}
	if (!(g = gw_get(f, id, n > 0))) {
		free(raw);
		return;
	}
	if (g->ports && g->ports_len == n && memcmp(g->ports, p, n) == 0) {
		free(raw);
		return;
	}
	f->bytes += n;
	f->bytes -= g->ports_len;
	free(g->ports);
	g->ports = raw;
	g->ports_len = n;
	g->dirty = true;
	gw_maybe_drop(f, g);
}

static void on_state(void *arg, const char *topic, const uint8_t *p, size_t n, bool retained)
{
	struct fleet *f = arg;
	char scratch[TOPIC_MAX];
	const char *id, *port, *leaf;
	struct fgw *g;
	struct fstate *s;
	char *raw = NULL;

	if (!f->watching || strlen(topic) >= sizeof(scratch) ||
	    topic_parse(topic, f->gw->opt->prefix, scratch, &id, &port, &leaf) < 0 ||
	    strcmp(leaf, "state") != 0 || !id_ok(id, strlen(id)) || !port_ok(port, strlen(port)))
		return;
	seen(f);
	if (n && (!json_shape(p, n, JSON_OBJECT) || !(raw = dup_bytes(p, n))))
		return;
	if (!(g = gw_get(f, id, n > 0)) || !(s = state_get(g, port, n > 0))) {
		free(raw);
		return;
	}
	if (s->raw && s->len == n && memcmp(s->raw, p, n) == 0) {
		free(raw);
		return;
	}
	f->bytes += n;
	f->bytes -= s->len;
	free(s->raw);
	s->raw = raw;
	s->len = n;
	s->dirty = true;
	g->dirty_states = true;   /* a cleared state is told too, then forgotten */
}

/* ---- websocket events ------------------------------------------------------ */

struct sbuf {
	char *p;
	size_t len, cap;
	bool oom;
};

static void sput(struct sbuf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 1024;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *np = realloc(b->p, cap);
		if (!np) {
			b->oom = true;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void sputs(struct sbuf *b, const char *s)
{
	sput(b, s, strlen(s));
}

static void flush_gateway(struct fleet *f, struct fgw *g, struct sbuf *b)
{
	b->len = 0;
	sputs(b, "{\"type\":\"fleet\",\"op\":\"gateway\",\"id\":\"");
	sputs(b, g->id);
	sputs(b, g->online > 0 ? "\",\"online\":true" : g->online == 0 ? "\",\"online\":false"
	      : "\",\"online\":null");
	sputs(b, ",\"ports\":");
	if (g->ports)
		sput(b, g->ports, g->ports_len);
	else
		sputs(b, "null");
	sputs(b, "}");
	if (!b->oom)
		send_text(f, b->p, b->len);
}

/* Every change since the last flush: gateways whole, states in one event. */
static void on_flush(uv_timer_t *t)
{
	struct fleet *f = t->data;
	bool clients = web_has_clients(f->gw), any = false;
	struct sbuf b = { 0 };

	for (size_t i = 0; i < f->ngws; i++) {
		struct fgw *g = f->gws[i];
		if (g->dirty && clients)
			flush_gateway(f, g, &b);
		g->dirty = false;
	}
	b.len = 0;
	sputs(&b, "{\"type\":\"fleet\",\"op\":\"states\",\"states\":[");
	for (size_t i = 0; i < f->ngws; i++) {
		struct fgw *g = f->gws[i];
		if (!g->dirty_states)
			continue;
		g->dirty_states = false;
		for (size_t k = 0; k < g->nst; k++) {
			struct fstate *s = &g->st[k];
			if (!s->dirty)
				continue;
			s->dirty = false;
			if (!clients)
				continue;
			sputs(&b, any ? ",{\"gateway\":\"" : "{\"gateway\":\"");
			sputs(&b, g->id);
			sputs(&b, "\",\"name\":\"");
			sputs(&b, s->name);
			sputs(&b, "\",\"state\":");
			if (s->raw)
				sput(&b, s->raw, s->len);
			else
				sputs(&b, "null");
			sputs(&b, "}");
			any = true;
		}
		/* states cleared and told: forget them */
		for (size_t k = 0; k < g->nst;) {
			if (!g->st[k].raw) {
				memmove(g->st + k, g->st + k + 1, (g->nst - k - 1) * sizeof(*g->st));
				g->nst--;
			} else {
				k++;
			}
		}
	}
	sputs(&b, "]}");
	if (any && !b.oom)
		send_text(f, b.p, b.len);
	free(b.p);
	for (size_t i = 0; i < f->ngws;) {
		size_t before = f->ngws;
		gw_maybe_drop(f, f->gws[i]);
		if (f->ngws == before)
			i++;
	}
}

/* ---- watching ---------------------------------------------------------------- */

static void settle_done(struct fleet *f)
{
	f->settled = true;
	uv_timer_stop(&f->settle);
	web_api_retry(f->w);
}

/* Retained messages come in a burst right after subscribing: the view is
 * complete once our own retained status is back (so the subscriptions are
 * in place) and nothing came for a moment. Without a broker (or while it
 * is still being reached at start) the answer waits 2 s, and never more
 * than 5 s in all. */
static void on_settle(uv_timer_t *t)
{
	struct fleet *f = t->data;
	uint64_t now = now_ms(f);

	if (now - f->started >= 5000 || (f->seen_self && now - f->last_msg >= 300) ||
	    (!gw_broker_connected(f->gw) && now - f->started >= 2000))
		settle_done(f);
}

static void watch_start(struct fleet *f)
{
	f->last_asked = now_ms(f);
	if (f->watching)
		return;
	f->watching = true;
	f->settled = f->seen_self = false;
	f->started = f->last_msg = now_ms(f);
	if (gw_subscribe(f->gw, &f->s_status) < 0 || gw_subscribe(f->gw, &f->s_ports) < 0 ||
	    gw_subscribe(f->gw, &f->s_state) < 0)
		log_error("fleet: no room for the fleet's subscriptions: the view stays partial");
	uv_timer_start(&f->settle, on_settle, 100, 100);
	uv_timer_start(&f->flush, on_flush, FLEET_FLUSH_MS, FLEET_FLUSH_MS);
	log_info("fleet: watching %s/+ (asked by the API)", f->gw->opt->prefix);
}

static void watch_drop(struct fleet *f, struct fwatch *w)
{
	if (!w->used)
		return;
	gw_unsubscribe(f->gw, &w->stx);
	gw_unsubscribe(f->gw, &w->srx);
	traffic_ring_clear(&w->ring);
	w->used = false;
}

static void watch_stop(struct fleet *f)
{
	if (!f->watching)
		return;
	gw_unsubscribe(f->gw, &f->s_status);
	gw_unsubscribe(f->gw, &f->s_ports);
	gw_unsubscribe(f->gw, &f->s_state);
	for (size_t i = 0; i < FLEET_WATCH_MAX; i++)
		watch_drop(f, &f->watch[i]);
	uv_timer_stop(&f->settle);
	uv_timer_stop(&f->flush);
	for (size_t i = 0; i < f->ngws; i++)
		gw_free_one(f, f->gws[i]);
	free(f->gws);
	f->gws = NULL;
	f->ngws = f->capgws = 0;
	f->watching = f->settled = false;
	if (!f->stopping) {
		static const char ev[] = "{\"type\":\"fleet\",\"op\":\"watch\",\"watching\":false}";
		send_text(f, ev, sizeof(ev) - 1);
		log_info("fleet: nobody asked for %d min: stopped watching", FLEET_IDLE_MS / 60000);
	}
}

/* Every few seconds: stop what nobody asked for. */
static void on_tick(uv_timer_t *t)
{
	struct fleet *f = t->data;
	uint64_t now = now_ms(f);

	for (size_t i = 0; i < FLEET_WATCH_MAX; i++)
		if (f->watch[i].used && now > f->watch[i].until)
			watch_drop(f, &f->watch[i]);
	if (f->watching && now - f->last_asked > FLEET_IDLE_MS)
		watch_stop(f);
}

/* ---- life ------------------------------------------------------------------- */

struct fleet *fleet_new(struct gateway *gw, struct web *w)
{
	struct fleet *f = calloc(1, sizeof(*f));
	const char *prefix = gw->opt->prefix;

	if (!f)
		return NULL;
	f->gw = gw;
	f->w = w;
	snprintf(f->f_status, sizeof(f->f_status), "%s/+/status", prefix);
	snprintf(f->f_ports, sizeof(f->f_ports), "%s/+/ports", prefix);
	snprintf(f->f_state, sizeof(f->f_state), "%s/+/+/state", prefix);
	f->s_status = (struct gw_sub){ f->f_status, 1, on_status, f };
	f->s_ports = (struct gw_sub){ f->f_ports, 1, on_ports, f };
	f->s_state = (struct gw_sub){ f->f_state, 1, on_state, f };
	uv_timer_init(gw->loop, &f->settle);
	uv_timer_init(gw->loop, &f->tick);
	uv_timer_init(gw->loop, &f->flush);
	f->settle.data = f->tick.data = f->flush.data = f;
	uv_timer_start(&f->tick, on_tick, 5000, 5000);
	uv_unref((uv_handle_t *)&f->tick);
	return f;
}

void fleet_stop(struct fleet *f)
{
	if (!f || f->stopping)
		return;
	f->stopping = true;
	watch_stop(f);
	uv_close((uv_handle_t *)&f->settle, NULL);
	uv_close((uv_handle_t *)&f->tick, NULL);
	uv_close((uv_handle_t *)&f->flush, NULL);
}

void fleet_free(struct fleet *f)
{
	free(f);
}

size_t fleet_bytes(const struct fleet *f)
{
	return f ? f->bytes : 0;
}

/* ---- the API ------------------------------------------------------------------ */

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

	sputs(b, "{\"id\":\"");
	sputs(b, g->id);   /* checked: [A-Za-z0-9_-] */
	sputs(b, g->online > 0 ? "\",\"online\":true" : g->online == 0 ? "\",\"online\":false"
	      : "\",\"online\":null");
	sputs(b, ",\"ports\":[");
	if (json_is_array(ports)) {
		for (size_t i = 0; i < json_array_size(ports); i++) {
			json_t *p = json_array_get(ports, i);
			const char *name = json_string_value(json_object_get(p, "name"));
			const struct fstate *s = name ? state_get((struct fgw *)g, name, false) : NULL;
			char *t;

			if (!name)
				continue;
			json_object_del(p, "state");
			if (!(t = json_dumps(p, JSON_COMPACT)))
				continue;
			sputs(b, first ? "" : ",");
			first = false;
			sput(b, t, strlen(t) - 1);          /* without its closing brace */
			sputs(b, ",\"state\":");
			if (s && s->raw)
				sput(b, s->raw, s->len);
			else
				sputs(b, "null");
			sputs(b, "}");
			free(t);
		}
	} else {
		/* no ports list (yet): the states alone, by name */
		for (size_t i = 0; i < g->nst; i++) {
			if (!g->st[i].raw)
				continue;
			sputs(b, first ? "{\"name\":\"" : ",{\"name\":\"");
			first = false;
			sputs(b, g->st[i].name);        /* checked: a port name */
			sputs(b, "\",\"state\":");
			sput(b, g->st[i].raw, g->st[i].len);
			sputs(b, "}");
		}
	}
	json_decref(ports);
	sputs(b, "]}");
}

void fleet_api_get(struct fleet *f, struct http_resp *r)
{
	struct sbuf b = { 0 };
	json_t *head;
	char *h;

	watch_start(f);
	if (!f->settled)
		return;                  /* web.c asks again once they are in */
	head = json_pack("{s:s, s:s, s:b}", "prefix", f->gw->opt->prefix, "self", f->gw->opt->id,
			 "broker_connected", gw_broker_connected(f->gw));
	h = head ? json_dumps(head, JSON_COMPACT) : NULL;
	json_decref(head);
	if (h) {
		sput(&b, h, strlen(h) - 1);
		sputs(&b, ",\"gateways\":[");
		for (size_t i = 0; i < f->ngws; i++) {
			if (i)
				sputs(&b, ",");
			gateway_text(&b, f->gws[i]);
		}
		sputs(&b, "]}");
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
	if (!*gw || !id_ok(*gw, json_string_length(g))) {
		resp_error(r, 400, "\"gateway\" must be a gateway id: 1-64 of A-Z a-z 0-9 _ -");
	} else if (!*port || !port_ok(*port, json_string_length(p))) {
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
	const struct fgw *g = gw_get(f, id, false);

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
		send_text(w->f, txt, strlen(txt));
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
	watch_start(f);
	if (!id) {
		answer(r, 200, json_pack("{s:b}", "watching", true));
	} else if ((w = watch_port(f, id, port, r))) {
		w->until = now_ms(f) + FLEET_WATCH_MS;
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
