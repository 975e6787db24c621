/* web_ws — the /ws clients: each has its own bounded queue of event
 * messages, all queues together have a bound too, and a client that lags
 * is dropped (never waited for). Messages are written one per
 * SERVER_WRITEABLE, as lws wants. */
#include "web_int.h"
#include "gateway.h"
#include "port_svc.h"
#include "log.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

/* ---- websocket ------------------------------------------------------------ */

/* What a queued message really holds: its header, LWS_PRE, the text and
 * the allocator's own overhead (two words on glibc, rounded). */
static size_t ws_msg_cost(size_t len)
{
	return (sizeof(struct ws_msg) + LWS_PRE + len + 2 * sizeof(size_t) + 15) & ~(size_t)15;
}

static void ws_trim_cb(uv_timer_t *t)
{
	struct web *w = t->data;

	w->freed_bytes = 0;
#ifdef __GLIBC__
	/* freed queues leave free pages in the heap that glibc keeps for later;
	 * after a lagging client's megabytes, hand them back */
	malloc_trim(0);
#endif
}

/* Note freed queue memory; past WS_TRIM_BYTES, trim once, a little later
 * (one trim for a whole crowd of clients dropped together). */
static void ws_freed(struct web *w, size_t bytes)
{
	w->freed_bytes += bytes;
	if (w->freed_bytes >= WS_TRIM_BYTES && w->trim_timer_on && !w->stopping &&
	    !uv_is_active((uv_handle_t *)&w->trim_timer))
		uv_timer_start(&w->trim_timer, ws_trim_cb, WS_TRIM_DELAY_MS, 0);
}

static void ws_free_queue(struct web *w, struct pss *s)
{
	size_t bytes = s->q_bytes;

	while (s->q_head) {
		struct ws_msg *m = s->q_head;
		s->q_head = m->next;
		free(m);
	}
	s->q_tail = &s->q_head;
	s->q_msgs = s->q_bytes = 0;
	w->ws_bytes -= bytes;
	ws_freed(w, bytes);
}

/* Drop a client: free its queue now and have lws close it at its next
 * timeout check (a client that never reads never becomes writeable). */
static void ws_kill(struct web *w, struct pss *s, const char *why)
{
	if (s->kill)
		return;
	log_warn("web: dropping a websocket client: %s", why);
	s->kill = true;
	ws_free_queue(w, s);
	lws_set_timeout(s->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

/* Make room for cost bytes in the total by dropping the clients with the
 * longest queues (the slowest readers). */
static void ws_make_room(struct web *w, size_t cost)
{
	while (w->ws_bytes + cost > WS_TOTAL_MAX_BYTES) {
		struct pss *worst = NULL;
		for (struct pss *c = w->clients; c; c = c->next_client)
			if (!c->kill && c->q_bytes && (!worst || c->q_bytes > worst->q_bytes))
				worst = c;
		if (!worst)
			return;
		ws_kill(w, worst, "all websocket queues together are full");
	}
}

static void ws_enqueue(struct web *w, struct pss *s, const char *text, size_t len)
{
	size_t cost = ws_msg_cost(len);
	struct ws_msg *m;

	if (s->kill)
		return;
	if (s->q_msgs >= WS_QUEUE_MAX_MSGS || s->q_bytes + cost > WS_QUEUE_MAX_BYTES) {
		/* a client that lags is dropped; the gateway never waits for it */
		ws_kill(w, s, "it fell behind");
		return;
	}
	ws_make_room(w, cost);
	if (s->kill)
		return;
	if (!(m = malloc(sizeof(*m) + LWS_PRE + len))) {
		ws_kill(w, s, "out of memory");
		return;
	}
	m->next = NULL;
	m->len = len;
	memcpy(m->buf + LWS_PRE, text, len);
	*s->q_tail = m;
	s->q_tail = &m->next;
	s->q_msgs++;
	s->q_bytes += cost;
	w->ws_bytes += cost;
	lws_callback_on_writable(s->wsi);
}

static void broadcast(struct web *w, json_t *ev)
{
	char *s;

	if (!w || !w->clients) {
		json_decref(ev);
		return;
	}
	s = json_dumps(ev, JSON_COMPACT);
	json_decref(ev);
	if (!s)
		return;
	for (struct pss *c = w->clients; c; c = c->next_client)
		ws_enqueue(w, c, s, strlen(s));
	free(s);
}

void web_ws_open(struct web *w, struct lws *wsi, struct pss *s)
{
	json_t *hello;
	char *txt;

	s->is_ws = true;
	s->wsi = wsi;
	s->q_tail = &s->q_head;
	s->next_client = w->clients;
	w->clients = s;
	w->nclients++;
	hello = json_pack("{s:s, s:o, s:o}", "type", "hello", "status",
			  api_status_json(w->gw), "ports",
			  port_svc_list_json(w->gw, true));
	txt = json_dumps(hello, JSON_COMPACT);
	json_decref(hello);
	if (txt)
		ws_enqueue(w, s, txt, strlen(txt));
	free(txt);
}

void web_ws_close(struct web *w, struct pss *s)
{
	for (struct pss **pp = &w->clients; *pp; pp = &(*pp)->next_client)
		if (*pp == s) {
			*pp = s->next_client;
			w->nclients--;
			break;
		}
	ws_free_queue(w, s);
	s->is_ws = false;
}

int web_ws_writeable(struct web *w, struct lws *wsi, struct pss *s)
{
	struct ws_msg *m = s->q_head;

	if (s->kill)
		return -1;
	if (!m)
		return 0;
	if (lws_write(wsi, m->buf + LWS_PRE, m->len, LWS_WRITE_TEXT) < (int)m->len)
		return -1;
	s->q_head = m->next;
	if (!s->q_head)
		s->q_tail = &s->q_head;
	s->q_msgs--;
	s->q_bytes -= ws_msg_cost(m->len);
	w->ws_bytes -= ws_msg_cost(m->len);
	free(m);
	if (s->q_head)
		lws_callback_on_writable(wsi);
	return 0;
}

void web_broadcast_text(struct web *w, const char *text, size_t len)
{
	for (struct pss *c = w ? w->clients : NULL; c; c = c->next_client)
		ws_enqueue(w, c, text, len);
}

json_t *api_status_json(struct gateway *gw)
{
	json_t *j = gateway_status_json(gw);

	if (j)
		json_object_set_new(j, "websocket_clients", json_integer((json_int_t)web_ws_clients(gw)));
	if (j)   /* the dashboard shows each port's topics */
		json_object_set_new(j, "prefix", json_string(gw->opt->prefix));
	return j;
}

size_t web_ws_clients(const struct gateway *gw)
{
	const struct web *w = gw->web;
	return w && !w->stopping ? w->nclients : 0;
}

bool web_has_clients(const struct gateway *gw)
{
	const struct web *w = gw->web;
	return w && !w->stopping && w->clients;
}

/* ---- the gateway's events, observed ------------------------------------- */

static bool has_clients(const struct web *w)
{
	return !w->stopping && w->clients;
}

static bool obs_wants_traffic(void *arg)
{
	return has_clients(arg);
}

static void obs_port(void *arg, const char *op, const struct gw_port *gp)
{
	if (!has_clients(arg))
		return;
	broadcast(arg, json_pack("{s:s, s:s, s:o}", "type", "port", "op", op, "port",
				 gp ? gw_port_to_json(gp, true) : json_null()));
}

static void obs_state(void *arg, const struct gw_port *gp, json_t *state)
{
	if (!has_clients(arg))
		return;
	broadcast(arg, json_pack("{s:s, s:s, s:O}", "type", "state", "name", gp->cfg.name,
				 "state", state));
}

static void obs_traffic(void *arg, const struct gw_port *gp, const char *dir, const char *src,
			const uint8_t *p, size_t n)
{
	char *b64;
	size_t blen = (n + 2) / 3 * 4 + 1;
	struct timespec ts;

	if (!has_clients(arg) || !(b64 = malloc(blen)))
		return;
	EVP_EncodeBlock((unsigned char *)b64, p, (int)n);   /* NUL-terminates */
	clock_gettime(CLOCK_REALTIME, &ts);
	broadcast(arg, json_pack("{s:s, s:s, s:s, s:s, s:I, s:s}", "type", "traffic", "name",
				 gp->cfg.name, "dir", dir, "src", src, "ts",
				 (json_int_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000,
				 "data", b64));
	free(b64);
}

static void obs_broker(void *arg, bool connected)
{
	if (!has_clients(arg))
		return;
	broadcast(arg, json_pack("{s:s, s:b}", "type", "broker", "connected", connected));
}

static void obs_problem(void *arg, const struct gw_port *gp, const char *problem)
{
	if (!has_clients(arg))
		return;
	broadcast(arg, json_pack("{s:s, s:s, s:s?}", "type", "problem", "name", gp->cfg.name,
				 "problem", problem));
}

void web_ws_observe(struct web *w)
{
	w->obs = (struct gw_observer){
		.arg = w, .on_port = obs_port, .on_state = obs_state,
		.on_traffic = obs_traffic, .on_broker = obs_broker, .on_problem = obs_problem,
		.wants_traffic = obs_wants_traffic,
	};
	if (gw_events_add(&w->gw->events, &w->obs) < 0)
		log_error("web: too many observers: the dashboard gets no live events");
}

void web_ws_unobserve(struct web *w)
{
	gw_events_del(&w->gw->events, &w->obs);
}
