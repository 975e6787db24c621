/* fleet — the view of every gateway under our prefix (see fleet.h).
 *
 * Payloads are kept as the raw JSON text they arrived as (checked once to
 * be JSON of the right shape), not as parsed trees: 50 gateways × 100 ports
 * then cost a few MB, and websocket events embed the text as it is.
 * This file keeps the view and tells the websocket; fleet_api.c answers
 * the routes. */
#include "fleet_priv.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint64_t fleet__now_ms(struct fleet *f)
{
	return uv_now(f->gw->loop);
}

/* ---- names --------------------------------------------------------------- */

bool fleet__id_ok(const char *s, size_t n)
{
	if (n < 1 || n > GW_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-'))
			return false;
	return true;
}

bool fleet__port_ok(const char *s, size_t n)
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
	if (!fleet__id_ok(topic, n) || !topic[n] || strchr(topic + n + 1, '/'))
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

struct fgw *fleet__gw_get(struct fleet *f, const char *id, bool make)
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

void fleet__send_text(struct fleet *f, const char *s, size_t n)
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
	fleet__send_text(f, ev, (size_t)n);
	gw_free_one(f, g);
}

struct fstate *fleet__state_get(struct fgw *g, const char *name, bool make)
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

#define STR_(x) #x
#define STR(x) STR_(x)

/* Something beyond the bounds (fleet.h): left out, said once per watch. */
static void left_out(struct fleet *f, const char *topic, const char *why)
{
	if (f->told_bounds)
		return;
	f->told_bounds = true;
	log_warn("fleet: %s left out of the view: %s (further ones are not logged)", topic, why);
}

/* May the view take one more gateway id / one more state of g? */
static bool room_for(struct fleet *f, const char *id, const char *port, const char *topic)
{
	struct fgw *g = fleet__gw_get(f, id, false);

	if (!g && f->ngws >= FLEET_GATEWAYS_MAX) {
		left_out(f, topic, "more than " STR(FLEET_GATEWAYS_MAX) " gateways");
		return false;
	}
	if (port && g && g->nst >= FLEET_PORTS_MAX && !fleet__state_get(g, port, false)) {
		left_out(f, topic, "more than " STR(FLEET_PORTS_MAX) " ports on one gateway");
		return false;
	}
	return true;
}

static void seen(struct fleet *f)
{
	f->last_msg = fleet__now_ms(f);
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
	if (online >= 0 && !room_for(f, id, NULL, topic))
		return;
	if (!(g = fleet__gw_get(f, id, online >= 0)) || g->online == online)
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
	if (n > FLEET_PORTS_BYTES) {
		left_out(f, topic, "a ports list over " STR(FLEET_PORTS_BYTES) " bytes");
		return;
	}
	if (n && !room_for(f, id, NULL, topic))
		return;
	if (n && (!json_shape(p, n, JSON_ARRAY) || !(raw = dup_bytes(p, n)))) {
		log_debug("fleet: %s is not a JSON array: ignored", topic);
		return;
	}
	if (!(g = fleet__gw_get(f, id, n > 0))) {
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
	    strcmp(leaf, "state") != 0 || !fleet__id_ok(id, strlen(id)) || !fleet__port_ok(port, strlen(port)))
		return;
	seen(f);
	if (n > FLEET_STATE_BYTES) {
		left_out(f, topic, "a state over " STR(FLEET_STATE_BYTES) " bytes");
		return;
	}
	if (n && !room_for(f, id, port, topic))
		return;
	if (n && (!json_shape(p, n, JSON_OBJECT) || !(raw = dup_bytes(p, n))))
		return;
	if (!(g = fleet__gw_get(f, id, n > 0)) || !(s = fleet__state_get(g, port, n > 0))) {
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


static void flush_gateway(struct fleet *f, struct fgw *g, struct sbuf *b)
{
	b->len = 0;
	sbuf_puts(b, "{\"type\":\"fleet\",\"op\":\"gateway\",\"id\":\"");
	sbuf_puts(b, g->id);
	sbuf_puts(b, g->online > 0 ? "\",\"online\":true" : g->online == 0 ? "\",\"online\":false"
	      : "\",\"online\":null");
	sbuf_puts(b, ",\"ports\":");
	if (g->ports)
		sbuf_put(b, g->ports, g->ports_len);
	else
		sbuf_puts(b, "null");
	sbuf_puts(b, "}");
	if (!b->oom)
		fleet__send_text(f, b->p, b->len);
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
	sbuf_puts(&b, "{\"type\":\"fleet\",\"op\":\"states\",\"states\":[");
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
			sbuf_puts(&b, any ? ",{\"gateway\":\"" : "{\"gateway\":\"");
			sbuf_puts(&b, g->id);
			sbuf_puts(&b, "\",\"name\":\"");
			sbuf_puts(&b, s->name);
			sbuf_puts(&b, "\",\"state\":");
			if (s->raw)
				sbuf_put(&b, s->raw, s->len);
			else
				sbuf_puts(&b, "null");
			sbuf_puts(&b, "}");
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
	sbuf_puts(&b, "]}");
	if (any && !b.oom)
		fleet__send_text(f, b.p, b.len);
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
	uint64_t now = fleet__now_ms(f);

	if (now - f->started >= 5000 || (f->seen_self && now - f->last_msg >= 300) ||
	    (!gw_broker_connected(f->gw) && now - f->started >= 2000))
		settle_done(f);
}

void fleet__watch_start(struct fleet *f)
{
	f->last_asked = fleet__now_ms(f);
	if (f->watching)
		return;
	f->watching = true;
	f->settled = f->seen_self = f->told_bounds = false;
	f->started = f->last_msg = fleet__now_ms(f);
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
		fleet__send_text(f, ev, sizeof(ev) - 1);
		log_info("fleet: nobody asked for %d min: stopped watching", FLEET_IDLE_MS / 60000);
	}
}

/* Every few seconds: stop what nobody asked for. */
static void on_tick(uv_timer_t *t)
{
	struct fleet *f = t->data;
	uint64_t now = fleet__now_ms(f);

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

