/* http_client — one HTTP/1.1 request through libwebsockets' client API on
 * its own default poll loop. Each request gets a fresh lws context: a CLI
 * makes one or two requests, and a private context keeps every bit of lws
 * state (and its TLS setup) inside this call. */
#include "http_client.h"

#include <libwebsockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RESP_MAX (16u * 1024 * 1024)   /* a list of ports is a few KiB */
#define CHUNK 4096

/* The state of the one transfer; the context's user pointer. */
struct xfer {
	const struct http_client_req *req;    /* borrowed */
	struct http_client_resp *resp;        /* borrowed; body owned by resp */
	lws_sorted_usec_list_t deadline;      /* whole-request timeout */
	size_t sent;                          /* body bytes written so far */
	bool connected;                       /* the request headers were composed:
						 TCP (and TLS) are up */
	bool done;                            /* first outcome wins; the loop ends */
	int rc;
	char err[200];
};

static void xfer_fail(struct xfer *x, int rc, const char *why)
{
	if (x->done)
		return;   /* closing after the outcome calls back again: ignore */
	x->done = true;
	x->rc = rc;
	snprintf(x->err, sizeof(x->err), "%s", why);
}

static void xfer_timeout(lws_sorted_usec_list_t *sul)
{
	struct xfer *x = lws_container_of(sul, struct xfer, deadline);

	xfer_fail(x, HTTP_CLIENT_TIMEOUT, "timed out");
}

static int add_header(struct lws *wsi, const char *name, const char *val,
		      unsigned char **p, unsigned char *end)
{
	return lws_add_http_header_by_name(wsi, (const unsigned char *)name,
					   (const unsigned char *)val, (int)strlen(val), p, end);
}

/* CLIENT_APPEND_HANDSHAKE_HEADER: lws composed the request line, Host and
 * its own headers; ours go after them. */
static int xfer_headers(struct lws *wsi, struct xfer *x, unsigned char **p, size_t len)
{
	const struct http_client_req *rq = x->req;
	unsigned char *end = *p + len - 1;
	char v[512];

	x->connected = true;
	if (add_header(wsi, "accept:", "application/json", p, end))
		return -1;
	if (rq->token) {
		if ((size_t)snprintf(v, sizeof(v), "Bearer %s", rq->token) >= sizeof(v))
			return -1;
		if (add_header(wsi, "authorization:", v, p, end))
			return -1;
	}
	if (!rq->body_len)
		return 0;
	snprintf(v, sizeof(v), "%zu", rq->body_len);
	if (add_header(wsi, "content-type:", "application/json", p, end) ||
	    add_header(wsi, "content-length:", v, p, end))
		return -1;
	/* lws sends the headers, then asks for the body in CLIENT_HTTP_WRITEABLE */
	lws_client_http_body_pending(wsi, 1);
	lws_callback_on_writable(wsi);
	return 0;
}

/* CLIENT_HTTP_WRITEABLE: one chunk of the body per call. */
static int xfer_write_body(struct lws *wsi, struct xfer *x)
{
	unsigned char buf[LWS_PRE + CHUNK];
	size_t left = x->req->body_len - x->sent, n = left < CHUNK ? left : CHUNK;
	bool last = n == left;

	if (!left)
		return 0;
	memcpy(buf + LWS_PRE, x->req->body + x->sent, n);
	if (lws_write(wsi, buf + LWS_PRE, n, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP)
	    != (int)n)
		return -1;
	x->sent += n;
	if (last)
		lws_client_http_body_pending(wsi, 0);
	else
		lws_callback_on_writable(wsi);
	return 0;
}

static int xfer_append(struct xfer *x, const void *in, size_t len)
{
	struct http_client_resp *r = x->resp;
	char *nb;

	if (r->len + len > RESP_MAX || !(nb = realloc(r->body, r->len + len + 1))) {
		xfer_fail(x, HTTP_CLIENT_INTERNAL, "the answer is too large");
		return -1;
	}
	memcpy(nb + r->len, in, len);
	r->body = nb;
	r->len += len;
	nb[r->len] = '\0';
	return 0;
}

/* Before the headers went out, a failure is about reaching the server:
 * a refused or unroutable connect, or the TLS handshake. lws's reason
 * strings name TLS failures (ssl/tls/certificate). */
static int connect_error_kind(const struct xfer *x, const char *why)
{
	if (x->connected)
		return HTTP_CLIENT_HUNGUP;
	if (x->req->tls &&
	    (strcasestr(why, "ssl") || strcasestr(why, "tls") || strcasestr(why, "cert")))
		return HTTP_CLIENT_TLS;
	return HTTP_CLIENT_NOCONN;
}

static int xfer_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user,
		   void *in, size_t len)
{
	struct xfer *x = lws_context_user(lws_get_context(wsi));

	switch (reason) {
	case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
		return xfer_headers(wsi, x, in, len);
	case LWS_CALLBACK_CLIENT_HTTP_WRITEABLE:
		return xfer_write_body(wsi, x);
	case LWS_CALLBACK_ESTABLISHED_CLIENT_HTTP:
		/* only valid now: lws frees the headers after this */
		x->resp->status = (int)lws_http_client_http_response(wsi);
		return 0;
	case LWS_CALLBACK_RECEIVE_CLIENT_HTTP: {
		char buf[LWS_PRE + CHUNK], *p = buf + LWS_PRE;
		int n = CHUNK;
		/* drains the socket; the payload arrives in ..._HTTP_READ */
		return lws_http_client_read(wsi, &p, &n) < 0 ? -1 : 0;
	}
	case LWS_CALLBACK_RECEIVE_CLIENT_HTTP_READ:
		return x->done ? 0 : xfer_append(x, in, len);
	case LWS_CALLBACK_COMPLETED_CLIENT_HTTP:
		xfer_fail(x, HTTP_CLIENT_OK, "");
		lws_cancel_service(lws_get_context(wsi));
		return 0;
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR: {
		char why[160] = "connection failed";
		if (in && len)   /* lws's reason: len bytes, maybe no NUL */
			snprintf(why, sizeof(why), "%.*s", (int)strnlen(in, len), (const char *)in);
		xfer_fail(x, connect_error_kind(x, why), why);
		return 0;
	}
	case LWS_CALLBACK_CLOSED_CLIENT_HTTP:
		xfer_fail(x, HTTP_CLIENT_HUNGUP, "the connection closed before the answer "
			  "was complete");
		return 0;
	default:
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	}
}

static const struct lws_protocols xfer_protocols[] = {
	{ "mqttty-http-client", xfer_cb, 0, 0, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 },
};

static struct lws_context *xfer_context(struct xfer *x)
{
	struct lws_context_creation_info info;
	unsigned secs = (unsigned)(x->req->timeout_ms + 999) / 1000;

	memset(&info, 0, sizeof(info));
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = xfer_protocols;
	info.user = x;
	info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	info.timeout_secs = secs;           /* lws's own per-phase bounds */
	info.connect_timeout_secs = secs;
	info.fd_limit_per_thread = 4;       /* one connection; keeps lws small */
	return lws_create_context(&info);
}

static struct lws *xfer_connect(struct lws_context *ctx, struct xfer *x)
{
	const struct http_client_req *rq = x->req;
	struct lws_client_connect_info ci;
	struct lws *wsi = NULL;

	memset(&ci, 0, sizeof(ci));
	ci.context = ctx;
	ci.address = rq->addr;
	ci.port = rq->port;
	ci.path = rq->path;
	ci.host = rq->host_hdr;
	ci.method = rq->method;
	ci.protocol = xfer_protocols[0].name;
	ci.pwsi = &wsi;
	if (rq->tls) {
		ci.ssl_connection = LCCSCF_USE_SSL;
		if (rq->insecure)
			ci.ssl_connection |= LCCSCF_ALLOW_SELFSIGNED |
					     LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK;
		ci.alpn = "http/1.1";   /* the body path below is HTTP/1.1's */
	}
	return lws_client_connect_via_info(&ci);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int http_client_request(const struct http_client_req *req, struct http_client_resp *resp,
			char *err, size_t errlen)
{
	struct xfer x;
	struct lws_context *ctx;
	int64_t until = now_ms() + req->timeout_ms;

	memset(resp, 0, sizeof(*resp));
	memset(&x, 0, sizeof(x));
	x.req = req;
	x.resp = resp;
	lws_set_log_level(0, NULL);   /* our caller says what went wrong, once */
	if (!(ctx = xfer_context(&x))) {
		snprintf(err, errlen, "cannot start the HTTP client (libwebsockets)");
		return HTTP_CLIENT_INTERNAL;
	}
	/* the deadline also wakes lws_service, which may otherwise sleep long */
	lws_sul_schedule(ctx, 0, &x.deadline, xfer_timeout, (lws_usec_t)req->timeout_ms * 1000);
	if (!xfer_connect(ctx, &x))
		xfer_fail(&x, HTTP_CLIENT_NOCONN, "cannot start the connection");
	while (!x.done && lws_service(ctx, 0) >= 0)
		if (now_ms() > until)
			xfer_timeout(&x.deadline);
	lws_sul_cancel(&x.deadline);
	/* closes the connection if still open; its callbacks find x.done set */
	lws_context_destroy(ctx);
	if (!x.done)
		xfer_fail(&x, HTTP_CLIENT_INTERNAL, "the HTTP client loop failed");
	if (x.rc != HTTP_CLIENT_OK)
		snprintf(err, errlen, "%s", x.err);
	return x.rc;
}

void http_client_resp_free(struct http_client_resp *resp)
{
	free(resp->body);
	resp->body = NULL;
	resp->len = 0;
}
