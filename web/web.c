/* web — libwebsockets glue: one protocol serves HTTP (static dashboard and
 * API) and the /ws websocket, on the gateway's uv loop. Responses are
 * written in HTTP_WRITEABLE only; each websocket client has its own bounded
 * queue and is dropped when it lags, never slowing the gateway. */
#include "web.h"
#include "web_assets.h"
#include "gateway.h"
#include "port_svc.h"
#include "traffic.h"
#include "fleet.h"
#include "log.h"

#include <libwebsockets.h>
#include <arpa/inet.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>

#define WS_QUEUE_MAX_MSGS 1024
#define WS_QUEUE_MAX_BYTES (4 * 1024 * 1024)
#define SESSIONS 64
#define SESSION_TTL_MS (7ull * 24 * 3600 * 1000)

struct ws_msg {
	struct ws_msg *next;
	size_t len;
	unsigned char buf[];          /* LWS_PRE + len */
};

struct pss {
	/* http */
	enum http_method method;
	char path[256];
	char ctype[128], auth[256], cookie[512];
	uint8_t *body;
	size_t body_len;
	bool too_big;
	struct http_resp resp;
	const uint8_t *out;           /* response body being written */
	size_t out_len, out_off;
	bool headers_done, close_after;
	bool decided;                 /* a response is queued: ignore any body */
	struct lws *http_wsi;         /* while parked (a route answers later) */
	struct pss *next_parked;
	/* websocket */
	bool is_ws, kill;
	struct lws *wsi;
	struct pss *next_client;
	struct ws_msg *q_head, **q_tail;
	size_t q_msgs, q_bytes;
};

struct session {
	char id[65];
	uint64_t expires;
};

struct web {
	struct gateway *gw;
	struct lws_context *ctx;
	struct pss *clients;
	size_t nclients;
	struct session sessions[SESSIONS];
	bool host_any;                /* bound to a wildcard address */
	bool stopping;
	struct gw_observer obs;       /* registered with the gateway's events */
	struct traffic *traffic;      /* recent traffic per port (web/traffic.c) */
	struct fleet *fleet;          /* the fleet view (web/fleet.c) */
	struct pss *parked;           /* requests whose route answers later */
};

/* ---- sessions ------------------------------------------------------------ */

int web_session_add(struct web *w, const char *id)
{
	uint64_t now = uv_now(w->gw->loop);
	struct session *s = &w->sessions[0];

	for (int i = 0; i < SESSIONS; i++)      /* a free or the oldest slot */
		if (w->sessions[i].expires < s->expires)
			s = &w->sessions[i];
	snprintf(s->id, sizeof(s->id), "%s", id);
	s->expires = now + SESSION_TTL_MS;
	return 0;
}

bool web_session_valid(struct web *w, const char *id)
{
	uint64_t now = uv_now(w->gw->loop);

	if (strlen(id) != 64)
		return false;
	for (int i = 0; i < SESSIONS; i++)
		if (w->sessions[i].expires > now &&
		    CRYPTO_memcmp(w->sessions[i].id, id, 64) == 0)
			return true;
	return false;
}

/* ---- checks ---------------------------------------------------------------- */

static void hdr(struct lws *wsi, enum lws_token_indexes t, char *out, int len)
{
	if (lws_hdr_copy(wsi, out, len, t) < 0)
		out[0] = '\0';
}

/* Host of a Host or Origin value, without scheme, port or brackets. */
static void host_part(const char *v, char *out, size_t len)
{
	const char *s = strstr(v, "://");
	size_t n;

	s = s ? s + 3 : v;
	if (*s == '[') {
		n = strcspn(s + 1, "]");
		s++;
	} else {
		n = strcspn(s, ":/");
	}
	if (n >= len)
		n = len - 1;
	memcpy(out, s, n);
	out[n] = '\0';
}

/* DNS rebinding: the Host must name the bound address or localhost. */
static bool host_ok(struct web *w, const char *host_hdr)
{
	const char *bound = w->gw->opt->http_host;
	char h[256];

	host_part(host_hdr, h, sizeof(h));
	if (!h[0])
		return false;
	if (strcasecmp(h, "localhost") == 0 || strcmp(h, bound) == 0)
		return true;
	if (w->host_any) {
		/* any address literal of this machine; names could be rebound */
		unsigned char buf[16];
		return inet_pton(AF_INET, h, buf) == 1 || inet_pton(AF_INET6, h, buf) == 1;
	}
	return false;
}

static enum http_method method_of(struct lws *wsi)
{
	if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI)) return HM_GET;
	if (lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI)) return HM_POST;
	if (lws_hdr_total_length(wsi, WSI_TOKEN_PATCH_URI)) return HM_PATCH;
	if (lws_hdr_total_length(wsi, WSI_TOKEN_DELETE_URI)) return HM_DELETE;
	if (lws_hdr_total_length(wsi, WSI_TOKEN_PUT_URI)) return HM_PUT;
	return HM_OTHER;
}

/* ---- responses ---------------------------------------------------------- */

static void respond(struct lws *wsi, struct pss *s)
{
	s->decided = true;
	s->out = (const uint8_t *)s->resp.body;
	s->out_len = s->resp.len;
	s->out_off = 0;
	s->headers_done = false;
	lws_callback_on_writable(wsi);
}

static void respond_static(struct lws *wsi, struct pss *s, const struct web_asset *a)
{
	s->decided = true;
	s->resp.status = 200;
	s->resp.content_type = a->mime;
	s->out = a->data;
	s->out_len = a->len;
	s->out_off = 0;
	s->headers_done = false;
	lws_callback_on_writable(wsi);
}

static void pss_reset_http(struct pss *s)
{
	free(s->body);
	free(s->resp.body);
	s->body = NULL;
	s->body_len = 0;
	s->too_big = false;
	memset(&s->resp, 0, sizeof(s->resp));
	s->out = NULL;
	s->out_len = s->out_off = 0;
	s->headers_done = s->close_after = s->decided = false;
}

static int write_http(struct lws *wsi, struct pss *s)
{
	unsigned char buf[LWS_PRE + 4096], *start = buf + LWS_PRE, *p = start;
	unsigned char *end = buf + sizeof(buf) - 1;
	size_t chunk;

	if (!s->headers_done) {
		const char *ct = s->resp.content_type ? s->resp.content_type : "text/plain";
		if (lws_add_http_common_headers(wsi, (unsigned)s->resp.status, ct, s->out_len,
						&p, end))
			return -1;
		if (s->resp.set_cookie[0] &&
		    lws_add_http_header_by_name(wsi, (const unsigned char *)"set-cookie:",
						(const unsigned char *)s->resp.set_cookie,
						(int)strlen(s->resp.set_cookie), &p, end))
			return -1;
		if (lws_add_http_header_by_name(wsi, (const unsigned char *)"cache-control:",
						(const unsigned char *)"no-store", 8, &p, end) ||
		    lws_finalize_write_http_header(wsi, start, &p, end))
			return -1;
		s->headers_done = true;
		if (s->out_len) {
			lws_callback_on_writable(wsi);
			return 0;
		}
	} else {
		chunk = s->out_len - s->out_off;
		if (chunk > sizeof(buf) - LWS_PRE)
			chunk = sizeof(buf) - LWS_PRE;
		memcpy(start, s->out + s->out_off, chunk);
		s->out_off += chunk;
		if (lws_write(wsi, start, chunk, s->out_off == s->out_len ? LWS_WRITE_HTTP_FINAL
			      : LWS_WRITE_HTTP) != (int)chunk)
			return -1;
		if (s->out_off < s->out_len) {
			lws_callback_on_writable(wsi);
			return 0;
		}
	}
	if (s->close_after)
		return -1;
	pss_reset_http(s);
	return lws_http_transaction_completed(wsi) ? -1 : 0;
}

static void run_api(struct web *w, struct lws *wsi, struct pss *s)
{
	struct http_req req = {
		.method = s->method, .path = s->path, .body = s->body,
		.body_len = s->body_len, .content_type = s->ctype,
		.authorization = s->auth, .cookie = s->cookie,
	};

	api_handle(w->gw, w, &req, &s->resp);
	if (s->resp.status == 0) {
		/* the route answers later (web_api_retry runs it again) */
		s->http_wsi = wsi;
		s->next_parked = w->parked;
		w->parked = s;
		return;
	}
	respond(wsi, s);
}

static void unpark(struct web *w, struct pss *s)
{
	for (struct pss **pp = &w->parked; *pp; pp = &(*pp)->next_parked)
		if (*pp == s) {
			*pp = s->next_parked;
			s->next_parked = NULL;
			return;
		}
}

void web_api_retry(struct web *w)
{
	struct pss *list = w ? w->parked : NULL;

	if (w)
		w->parked = NULL;
	while (list) {
		struct pss *s = list;
		list = s->next_parked;
		s->next_parked = NULL;
		run_api(w, s->http_wsi, s);
	}
}

static int on_http(struct web *w, struct lws *wsi, struct pss *s, const char *uri)
{
	char host[256], len_hdr[32], te[64];
	const struct web_asset *a;

	pss_reset_http(s);
	s->method = method_of(wsi);
	snprintf(s->path, sizeof(s->path), "%s", uri);
	hdr(wsi, WSI_TOKEN_HOST, host, sizeof(host));
	hdr(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE, s->ctype, sizeof(s->ctype));
	hdr(wsi, WSI_TOKEN_HTTP_AUTHORIZATION, s->auth, sizeof(s->auth));
	hdr(wsi, WSI_TOKEN_HTTP_COOKIE, s->cookie, sizeof(s->cookie));
	hdr(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH, len_hdr, sizeof(len_hdr));
	hdr(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING, te, sizeof(te));
	if (!host_ok(w, host)) {
		resp_error(&s->resp, 403, "Host \"%.100s\" is not this gateway's address", host);
		s->close_after = true;
		respond(wsi, s);
		return 0;
	}
	if (te[0]) {
		/* bodies must say their length up front (so 413 can be decided
		 * before reading them) */
		resp_error(&s->resp, 411, "send the body with a Content-Length, not chunked");
		s->close_after = true;
		respond(wsi, s);
		return 0;
	}
	if (len_hdr[0] && strtoull(len_hdr, NULL, 10) > WEB_BODY_MAX) {
		resp_error(&s->resp, 413, "the body is larger than %d bytes", WEB_BODY_MAX);
		s->close_after = true;   /* its body is never read */
		respond(wsi, s);
		return 0;
	}
	if (strncmp(uri, "/api/", 5) != 0) {
		if (s->method != HM_GET) {
			resp_error(&s->resp, 405, "only GET is served outside /api");
			respond(wsi, s);
		} else if ((a = web_asset_find(strcmp(uri, "/") == 0 ? "/index.html" : uri))) {
			respond_static(wsi, s, a);
		} else {
			resp_error(&s->resp, 404, "no such page: %.100s", uri);
			respond(wsi, s);
		}
		return 0;
	}
	/* a body follows: wait for HTTP_BODY_COMPLETION */
	if ((s->method == HM_POST || s->method == HM_PATCH || s->method == HM_PUT) &&
	    len_hdr[0] && strtoull(len_hdr, NULL, 10) > 0)
		return 0;
	run_api(w, wsi, s);
	return 0;
}

static void on_body(struct pss *s, const void *in, size_t len)
{
	if (s->too_big || !len || !in)
		return;
	if (s->body_len + len > WEB_BODY_MAX) {
		s->too_big = true;
		return;
	}
	uint8_t *nb = realloc(s->body, s->body_len + len + 1);
	if (!nb) {
		s->too_big = true;
		return;
	}
	memcpy(nb + s->body_len, in, len);
	s->body = nb;
	s->body_len += len;
}

/* ---- websocket ------------------------------------------------------------ */

static void ws_free_queue(struct pss *s)
{
	while (s->q_head) {
		struct ws_msg *m = s->q_head;
		s->q_head = m->next;
		free(m);
	}
	s->q_tail = &s->q_head;
	s->q_msgs = s->q_bytes = 0;
}

static void ws_enqueue(struct pss *s, const char *text, size_t len)
{
	struct ws_msg *m;

	if (s->kill)
		return;
	if (s->q_msgs >= WS_QUEUE_MAX_MSGS || s->q_bytes + len > WS_QUEUE_MAX_BYTES ||
	    !(m = malloc(sizeof(*m) + LWS_PRE + len))) {
		/* a client that lags is dropped; the gateway never waits for it */
		log_warn("web: dropping a websocket client that fell behind");
		s->kill = true;
		ws_free_queue(s);
		lws_callback_on_writable(s->wsi);
		return;
	}
	m->next = NULL;
	m->len = len;
	memcpy(m->buf + LWS_PRE, text, len);
	*s->q_tail = m;
	s->q_tail = &m->next;
	s->q_msgs++;
	s->q_bytes += len;
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
		ws_enqueue(c, s, strlen(s));
	free(s);
}

void web_broadcast_text(struct web *w, const char *text, size_t len)
{
	for (struct pss *c = w ? w->clients : NULL; c; c = c->next_client)
		ws_enqueue(c, text, len);
}

struct traffic *web_traffic(struct web *w)
{
	return w ? w->traffic : NULL;
}

struct fleet *web_fleet(struct web *w)
{
	return w ? w->fleet : NULL;
}

static void ws_open(struct web *w, struct lws *wsi, struct pss *s)
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
		ws_enqueue(s, txt, strlen(txt));
	free(txt);
}

static void ws_close(struct web *w, struct pss *s)
{
	for (struct pss **pp = &w->clients; *pp; pp = &(*pp)->next_client)
		if (*pp == s) {
			*pp = s->next_client;
			w->nclients--;
			break;
		}
	ws_free_queue(s);
	s->is_ws = false;
}

static int ws_writeable(struct lws *wsi, struct pss *s)
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
	s->q_bytes -= m->len;
	free(m);
	if (s->q_head)
		lws_callback_on_writable(wsi);
	return 0;
}

/* Origin must match Host; the path must be /ws; login if required. */
static int ws_confirm(struct web *w, struct lws *wsi)
{
	char host[256], origin[256], oh[256], hh[256], path[64], auth[256], cookie[512];
	const char *why = NULL;
	int code = 403;

	hdr(wsi, WSI_TOKEN_HOST, host, sizeof(host));
	hdr(wsi, WSI_TOKEN_ORIGIN, origin, sizeof(origin));
	hdr(wsi, WSI_TOKEN_GET_URI, path, sizeof(path));
	hdr(wsi, WSI_TOKEN_HTTP_AUTHORIZATION, auth, sizeof(auth));
	hdr(wsi, WSI_TOKEN_HTTP_COOKIE, cookie, sizeof(cookie));
	host_part(origin, oh, sizeof(oh));
	/* compare host:port of the Origin with the Host header */
	const char *o = strstr(origin, "://");
	snprintf(hh, sizeof(hh), "%s", o ? o + 3 : "");
	if (strcmp(path, "/ws") != 0) {
		why = "websocket is served on /ws only";
		code = 404;
	} else if (!host_ok(w, host)) {
		why = "Host is not this gateway's address";
	} else if (!origin[0] || strcasecmp(hh, host) != 0) {
		why = "websocket Origin does not match Host";
	} else if (auth_enabled(w->gw) && !auth_check(w->gw, w, auth, cookie)) {
		why = "log in first";
		code = 401;
	}
	if (!why)
		return 0;
	log_info("web: websocket refused: %s (Origin \"%.100s\")", why, origin);
	lws_return_http_status(wsi, (unsigned)code, why);
	return 1;
}

/* ---- the protocol callback ------------------------------------------------ */

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
		    void *in, size_t len)
{
	struct web *w = lws_context_user(lws_get_context(wsi));
	struct pss *s = user;

	/* some callbacks come before lws allocated per-session storage */
	if (!s && reason != LWS_CALLBACK_HTTP_CONFIRM_UPGRADE)
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	switch (reason) {
	case LWS_CALLBACK_HTTP:
		return on_http(w, wsi, s, in);
	case LWS_CALLBACK_HTTP_BODY:
		if (!s->decided)
			on_body(s, in, len);
		return 0;
	case LWS_CALLBACK_HTTP_BODY_COMPLETION:
		/* refused already (Host, size, type): the body must not run */
		if (s->decided)
			return 0;
		if (s->too_big) {
			resp_error(&s->resp, 413, "the body is larger than %d bytes", WEB_BODY_MAX);
			s->close_after = true;
			respond(wsi, s);
		} else {
			run_api(w, wsi, s);
		}
		return 0;
	case LWS_CALLBACK_HTTP_WRITEABLE:
		return s->out || s->resp.status ? write_http(wsi, s) : 0;
	case LWS_CALLBACK_CLOSED_HTTP:
		unpark(w, s);
		pss_reset_http(s);
		return 0;
	case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
		return ws_confirm(w, wsi);
	case LWS_CALLBACK_ESTABLISHED:
		ws_open(w, wsi, s);
		return 0;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		return ws_writeable(wsi, s);
	case LWS_CALLBACK_RECEIVE:
		/* /ws only carries events to the client. A client that sends data
		 * (lws 4.1 also passes on unmasked frames, which RFC 6455 forbids)
		 * is closed with a policy-violation status. */
		log_info("web: closing a websocket client that sent data");
		lws_close_reason(wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION,
				 (unsigned char *)"send nothing", 12);
		return -1;
	case LWS_CALLBACK_CLOSED:
		if (s->is_ws)
			ws_close(w, s);
		return 0;
	default:
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	}
}

static const struct lws_protocols protocols[] = {
	{ "mqttty", callback, sizeof(struct pss), 4096, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 },
};

/* ---- start / stop / events ------------------------------------------------ */

static void lws_log(int level, const char *line)
{
	size_t n = strlen(line);

	while (n && (line[n - 1] == '\n' || line[n - 1] == ' '))
		n--;
	log_msg(level == LLL_ERR ? LOG_ERROR : level == LLL_WARN ? LOG_WARN : LOG_DEBUG,
		"lws: %.*s", (int)n, line);
}

static void observe(struct web *w);

static bool is_loopback(const char *h)
{
	return strcmp(h, "localhost") == 0 || strncmp(h, "127.", 4) == 0 || strcmp(h, "::1") == 0;
}

int web_start(struct gateway *gw, char *err, size_t errlen)
{
	struct lws_context_creation_info info;
	const struct options *o = gw->opt;
	void *loops[1] = { gw->loop };
	struct web *w;

	if (o->http_off)
		return 0;
	if (!is_loopback(o->http_host) && !auth_enabled(gw)) {
		snprintf(err, errlen, "--http %s is not a loopback address and no password is set: "
			 "run `mqttty passwd --db %s` first, or bind to 127.0.0.1", o->http, o->db);
		return -1;
	}
	if (!(w = calloc(1, sizeof(*w))))
		return -1;
	w->gw = gw;
	w->host_any = strcmp(o->http_host, "0.0.0.0") == 0 || strcmp(o->http_host, "::") == 0;
	lws_set_log_level(LLL_ERR | LLL_WARN, lws_log);
	memset(&info, 0, sizeof(info));
	info.port = o->http_port;
	info.iface = w->host_any ? NULL : o->http_host;
	info.protocols = protocols;
	info.foreign_loops = loops;
	info.user = w;
	info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_VALIDATE_UTF8 |
		       LWS_SERVER_OPTION_HTTP_HEADERS_SECURITY_BEST_PRACTICES_ENFORCE |
		       LWS_SERVER_OPTION_UV_NO_SIGSEGV_SIGFPE_SPIN;
	if (strchr(o->http_host, ':') == NULL && !w->host_any)
		info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
	if (o->tls_cert) {
		info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
		info.ssl_cert_filepath = o->tls_cert;
		info.ssl_private_key_filepath = o->tls_key;
	}
	info.pcontext = &w->ctx;
	w->ctx = lws_create_context(&info);
	if (!w->ctx) {
		snprintf(err, errlen, "cannot serve HTTP on %s (address in use, or a bad "
			 "certificate?)", o->http);
		free(w);
		return -1;
	}
	gw->web = w;
	w->traffic = traffic_start(gw);   /* before observe: a ring has a message first */
	w->fleet = fleet_new(gw, w);
	observe(w);
	log_info("web: dashboard on %s://%s/", o->tls_cert ? "https" : "http", o->http);
	return 0;
}

/* Begin closing; lws closes its uv handles on the loop. The struct stays
 * until web_free (after the loop ended): lws still calls back while closing
 * and writes NULL into w->ctx when it is done. */
void web_stop(struct gateway *gw)
{
	struct web *w = gw->web;

	if (!w || w->stopping)
		return;
	w->stopping = true;
	gw_events_del(&gw->events, &w->obs);
	traffic_stop(w->traffic);
	fleet_stop(w->fleet);
	lws_context_destroy(w->ctx);
}

void web_free(struct gateway *gw)
{
	struct web *w = gw->web;

	if (!w)
		return;
	if (w->ctx)
		lws_context_destroy(w->ctx);
	gw->web = NULL;
	traffic_free(w->traffic);
	fleet_free(w->fleet);
	free(w);
}

size_t web_client_count(const struct web *w)
{
	return w->nclients;
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

static void observe(struct web *w)
{
	w->obs = (struct gw_observer){
		.arg = w, .on_port = obs_port, .on_state = obs_state,
		.on_traffic = obs_traffic, .on_broker = obs_broker, .on_problem = obs_problem,
		.wants_traffic = obs_wants_traffic,
	};
	if (gw_events_add(&w->gw->events, &w->obs) < 0)
		log_error("web: too many observers: the dashboard gets no live events");
}
