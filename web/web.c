/* web — libwebsockets glue: one protocol serves HTTP (static dashboard and
 * API) and the /ws websocket, on the gateway's uv loop. Responses are
 * written in HTTP_WRITEABLE only, possibly later than the request (a
 * web_defer); web_ws.c keeps the websocket clients' queues. */
#include "web_int.h"
#include "web_assets.h"
#include "web_listen.h"
#include "gateway.h"
#include "traffic.h"
#include "fleet.h"
#include "log.h"

#include <libwebsockets.h>
#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- raw request targets (web_listen) ------------------------------------- */

static void raw_set(struct web *w, int fd, enum raw_state st)
{
	if (fd < 0)
		return;
	if ((size_t)fd >= w->nraw) {
		size_t n = w->nraw ? w->nraw : 64;
		uint8_t *nr;
		while (n <= (size_t)fd)
			n *= 2;
		if (!(nr = realloc(w->raw, n)))
			return;
		memset(nr + w->nraw, RAW_NONE, n - w->nraw);
		w->raw = nr;
		w->nraw = n;
	}
	w->raw[fd] = (uint8_t)st;
}

/* The state of the request now parsed on fd; marks the connection used. */
static enum raw_state raw_take(struct web *w, int fd)
{
	enum raw_state st;

	if (fd < 0 || (size_t)fd >= w->nraw || w->raw[fd] == RAW_NONE)
		return RAW_NONE;
	st = (enum raw_state)w->raw[fd];
	w->raw[fd] = RAW_USED;
	return st;
}

/* web_listen hands over a connection whose request line arrived. */
static void on_connection(void *arg, int fd, bool raw_ok)
{
	struct web *w = arg;

	if (w->stopping || !w->vh) {
		close(fd);
		return;
	}
	raw_set(w, fd, raw_ok ? RAW_OK : RAW_BAD);
	if (!lws_adopt_socket_vhost(w->vh, fd))      /* lws closed fd */
		raw_set(w, fd, RAW_NONE);
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
	web_defer_detach(s);
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
		if (s->resp.retry_after > 0) {
			char ra[16];
			int n = snprintf(ra, sizeof(ra), "%d", s->resp.retry_after);
			if (lws_add_http_header_by_name(wsi, (const unsigned char *)"retry-after:",
							(const unsigned char *)ra, n, &p, end))
				return -1;
		}
		if (s->resp.set_cookie[0] &&
		    lws_add_http_header_by_name(wsi, (const unsigned char *)"set-cookie:",
						(const unsigned char *)s->resp.set_cookie,
						(int)strlen(s->resp.set_cookie), &p, end))
			return -1;
		if (s->conn_close &&
		    lws_add_http_header_by_name(wsi, (const unsigned char *)"connection:",
						(const unsigned char *)"close", 5, &p, end))
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
		.authorization = s->auth, .cookie = s->cookie, .peer = s->peer, .conn = s,
	};

	api_handle(w->gw, w, &req, &s->resp);
	if (s->resp.deferred || s->defer)
		return;             /* answered by the work's completion */
	if (s->resp.status == 0) {
		/* the route answers later (web_api_retry runs it again) */
		web_park(w, wsi, s);
		return;
	}
	web_respond(wsi, s);
}


/* Content-Length: digits only. lws joins repeated headers with ',', so two
 * of them (request smuggling's favourite) fail here too. */
static bool content_length_ok(const char *v)
{
	if (!*v)
		return false;
	for (; *v; v++)
		if (!isdigit((unsigned char)*v))
			return false;
	return true;
}

static int on_http(struct web *w, struct lws *wsi, struct pss *s, const char *uri)
{
	char host[256], len_hdr[32], te[64];
	const struct web_asset *a;
	enum raw_state raw = raw_take(w, lws_get_socket_fd(wsi));

	pss_reset_http(s);
	s->wsi = wsi;
	/* one request per connection that web_listen peeked at */
	s->conn_close = raw != RAW_NONE;
	s->method = method_of(wsi);
	snprintf(s->path, sizeof(s->path), "%s", uri);
	if (lws_get_peer_simple(wsi, s->peer, sizeof(s->peer)) == NULL)
		s->peer[0] = '\0';
	hdr(wsi, WSI_TOKEN_HOST, host, sizeof(host));
	hdr(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE, s->ctype, sizeof(s->ctype));
	hdr(wsi, WSI_TOKEN_HTTP_AUTHORIZATION, s->auth, sizeof(s->auth));
	hdr(wsi, WSI_TOKEN_HTTP_COOKIE, s->cookie, sizeof(s->cookie));
	hdr(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH, len_hdr, sizeof(len_hdr));
	hdr(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING, te, sizeof(te));
	if (raw == RAW_USED) {
		/* a client that ignored our Connection: close */
		resp_error(&s->resp, 400, "one request per connection: the previous answer "
			   "said Connection: close");
		s->close_after = true;
		web_respond(wsi, s);
		return 0;
	}
	if (!host_ok(w, host)) {
		resp_error(&s->resp, 403, "Host \"%.100s\" is not this gateway's address", host);
		s->close_after = true;
		web_respond(wsi, s);
		return 0;
	}
	if (strlen(uri) >= sizeof(s->path)) {
		resp_error(&s->resp, 414, "the URL is longer than %d bytes", WEB_PATH_MAX - 1);
		s->close_after = true;
		web_respond(wsi, s);
		return 0;
	}
	if (raw == RAW_BAD) {
		/* lws already turned it into another path: answer for the path sent */
		resp_error(&s->resp, 404, "no such route: the path has an empty or a dot segment, "
			   "or an encoded separator");
		s->close_after = true;
		web_respond(wsi, s);
		return 0;
	}
	if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH) &&
	    !content_length_ok(len_hdr)) {
		/* the body's end is ambiguous: answer and close, read nothing */
		resp_error(&s->resp, 400, "Content-Length must be one number, given once");
		s->close_after = true;
		web_respond(wsi, s);
		return 0;
	}
	if (te[0]) {
		/* bodies must say their length up front (so 413 can be decided
		 * before reading them) */
		resp_error(&s->resp, 411, "send the body with a Content-Length, not chunked");
		s->close_after = true;
		web_respond(wsi, s);
		return 0;
	}
	if (len_hdr[0] && strtoull(len_hdr, NULL, 10) > WEB_BODY_MAX) {
		resp_error(&s->resp, 413, "the body is larger than %d bytes", WEB_BODY_MAX);
		s->close_after = true;   /* its body is never read */
		web_respond(wsi, s);
		return 0;
	}
	if (strncmp(uri, "/api/", 5) != 0 && strcmp(uri, "/metrics") != 0) {
		if (s->method != HM_GET) {
			resp_error(&s->resp, 405, "only GET is served outside /api");
			web_respond(wsi, s);
		} else if ((a = web_asset_find(strcmp(uri, "/") == 0 ? "/index.html" : uri))) {
			respond_static(wsi, s, a);
		} else {
			resp_error(&s->resp, 404, "no such page: %.100s", uri);
			web_respond(wsi, s);
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

/* RFC 6455 4.2.1: the key is 16 bytes in base64, so 22 characters of the
 * alphabet and "==". */
static bool ws_key_ok(const char *k)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	if (strlen(k) != 24 || strcmp(k + 22, "==") != 0)
		return false;
	for (int i = 0; i < 22; i++)
		if (!strchr(b64, k[i]) || !k[i])
			return false;
	/* the last character carries 2 bits: its low 4 bits must be zero */
	return (strchr(b64, k[21]) - b64) % 16 == 0;
}

/* Origin must match Host; the path must be /ws; a well-formed key; login if
 * required; room for one more client. */
static int ws_confirm(struct web *w, struct lws *wsi)
{
	char host[256], origin[256], oh[256], hh[256], path[64], auth[256], cookie[512];
	char key[64];
	const char *why = NULL;
	int code = 403;
	enum raw_state raw = raw_take(w, lws_get_socket_fd(wsi));

	hdr(wsi, WSI_TOKEN_HOST, host, sizeof(host));
	hdr(wsi, WSI_TOKEN_ORIGIN, origin, sizeof(origin));
	hdr(wsi, WSI_TOKEN_GET_URI, path, sizeof(path));
	hdr(wsi, WSI_TOKEN_HTTP_AUTHORIZATION, auth, sizeof(auth));
	hdr(wsi, WSI_TOKEN_HTTP_COOKIE, cookie, sizeof(cookie));
	hdr(wsi, WSI_TOKEN_KEY, key, sizeof(key));
	host_part(origin, oh, sizeof(oh));
	/* compare host:port of the Origin with the Host header */
	const char *o = strstr(origin, "://");
	snprintf(hh, sizeof(hh), "%s", o ? o + 3 : "");
	if (strcmp(path, "/ws") != 0 || raw == RAW_BAD) {
		why = "websocket is served on /ws only";
		code = 404;
	} else if (raw == RAW_USED) {
		why = "one request per connection";
		code = 400;
	} else if (!host_ok(w, host)) {
		why = "Host is not this gateway's address";
	} else if (!origin[0] || strcasecmp(hh, host) != 0) {
		why = "websocket Origin does not match Host";
	} else if (!ws_key_ok(key)) {
		why = "Sec-WebSocket-Key must be 16 bytes in base64";
		code = 400;
	} else if (auth_enabled(w->gw) && !auth_check(w->gw, w, auth, cookie)) {
		why = "log in first";
		code = 401;
	} else if (w->nclients >= WS_CLIENTS) {
		why = "too many websocket clients";
		code = 503;
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
			web_respond(wsi, s);
		} else {
			run_api(w, wsi, s);
		}
		return 0;
	case LWS_CALLBACK_HTTP_WRITEABLE:
		return s->out || s->resp.status ? write_http(wsi, s) : 0;
	case LWS_CALLBACK_CLOSED_HTTP:
	case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
		/* the connection (or its per-session memory) is going away */
		web_unpark(w, s);
		pss_reset_http(s);
		return 0;
	case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
		return ws_confirm(w, wsi);
	case LWS_CALLBACK_ESTABLISHED:
		if (w->nclients >= WS_CLIENTS)
			return -1;
		web_ws_open(w, wsi, s);
		return 0;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		return web_ws_writeable(w, wsi, s);
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
			web_ws_close(w, s);
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
	if (!(w = calloc(1, sizeof(*w))) || !(w->auth = auth_new(gw))) {
		snprintf(err, errlen, "out of memory");
		free(w);
		return -1;
	}
	w->gw = gw;
	w->host_any = strcmp(o->http_host, "0.0.0.0") == 0 || strcmp(o->http_host, "::") == 0;
	lws_set_log_level(LLL_ERR | LLL_WARN, lws_log);
	memset(&info, 0, sizeof(info));
	info.port = o->http_port;
	info.iface = w->host_any ? NULL : o->http_host;
	if (!o->tls_cert) {
		/* plain HTTP: accept ourselves to see raw request lines */
		if (web_listen_start(gw->loop, o->http_host, o->http_port, on_connection, w,
				     &w->listen, err, errlen) < 0) {
			auth_free(w->auth);
			free(w);
			return -1;
		}
		info.port = CONTEXT_PORT_NO_LISTEN_SERVER;
		info.iface = NULL;
	}
	info.protocols = protocols;
	info.max_http_header_data = WEB_HEADER_MAX;
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
		web_listen_stop(w->listen);   /* frees itself on the loop */
		auth_free(w->auth);
		free(w);
		return -1;
	}
	w->vh = lws_get_vhost_by_name(w->ctx, "default");
	if (uv_timer_init(gw->loop, &w->trim_timer) == 0) {
		w->trim_timer.data = w;
		w->trim_timer_on = true;
	}
	gw->web = w;
	w->run = run_api;
	w->traffic = traffic_start(gw);   /* before observe: a ring has a message first */
	w->fleet = fleet_new(gw, w);
	web_ws_observe(w);
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
	web_ws_unobserve(w);
	traffic_stop(w->traffic);
	fleet_stop(w->fleet);
	web_listen_stop(w->listen);
	w->listen = NULL;
	if (w->trim_timer_on)
		uv_close((uv_handle_t *)&w->trim_timer, NULL);   /* w is freed after the loop */
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
	auth_free(w->auth);
	free(w->raw);
	free(w);
}
