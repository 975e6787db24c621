/* web_int — what web.c (HTTP, the lws callback) and web_ws.c (websocket
 * clients and their queues) share. Not for other modules. */
#ifndef MQTTTY_WEB_INT_H
#define MQTTTY_WEB_INT_H

#include "web.h"
#include "events.h"

#include <libwebsockets.h>
#include <uv.h>

/* Websocket clients: at most WS_CLIENTS; each queue holds at most
 * WS_QUEUE_MAX_MSGS messages and WS_QUEUE_MAX_BYTES, and all queues
 * together WS_TOTAL_MAX_BYTES (counted as the memory a message really
 * holds); past the total the client with the longest queue is dropped. */
#define WS_CLIENTS 64
#define WS_QUEUE_MAX_MSGS 1024
#define WS_QUEUE_MAX_BYTES (1024 * 1024)
#define WS_TOTAL_MAX_BYTES (16 * 1024 * 1024)
/* after this much queue memory was freed, give it back to the system */
#define WS_TRIM_BYTES (256 * 1024)
#define WS_TRIM_DELAY_MS 200
/* the request line and headers lws holds per connection; a longer URL
 * than WEB_PATH_MAX (but within this) gets 414 */
#define WEB_HEADER_MAX 16384
#define WEB_PATH_MAX 512

struct ws_msg {
	struct ws_msg *next;
	size_t len;
	unsigned char buf[];          /* LWS_PRE + len */
};

struct pss {
	/* http */
	enum http_method method;
	char path[WEB_PATH_MAX];
	char ctype[128], auth[256], cookie[512];
	char peer[64];
	struct web_defer *defer;      /* an answer computed elsewhere, or NULL */
	uint8_t *body;
	size_t body_len;
	bool too_big;
	struct http_resp resp;
	const uint8_t *out;           /* response body being written */
	size_t out_len, out_off;
	bool headers_done, close_after;
	bool conn_close;              /* say Connection: close (see web_listen.h) */
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

/* What web_listen saw of a connection's raw request line, by fd. */
enum raw_state { RAW_NONE, RAW_OK, RAW_BAD, RAW_USED };

struct web {
	struct gateway *gw;
	struct lws_context *ctx;
	struct lws_vhost *vh;         /* borrowed from ctx */
	struct web_listen *listen;    /* owned; NULL with TLS (lws listens) */
	uint8_t *raw;                 /* enum raw_state by fd; owned */
	size_t nraw;
	struct auth *auth;            /* owned */
	struct pss *clients;
	size_t nclients;
	size_t ws_bytes;              /* queued for all websocket clients */
	size_t freed_bytes;           /* freed since the last trim */
	uv_timer_t trim_timer;
	bool trim_timer_on;           /* initialised: closed in web_stop */
	bool host_any;                /* bound to a wildcard address */
	bool stopping;
	struct gw_observer obs;       /* registered with the gateway's events */
	struct traffic *traffic;      /* recent traffic per port (web/traffic.c) */
	struct fleet *fleet;          /* the fleet view (web/fleet.c) */
	struct pss *parked;           /* requests whose route answers later */
	/* runs a request's route (web.c's run_api), for web_api_retry */
	void (*run)(struct web *w, struct lws *wsi, struct pss *s);
};

/* http_conn.c: queue s's answer for HTTP_WRITEABLE; park a request whose
 * route answers later (web_api_retry runs it again) or let it go (the
 * connection closed); drop a pending web_defer's hold on s. */
void web_respond(struct lws *wsi, struct pss *s);
void web_park(struct web *w, struct lws *wsi, struct pss *s);
void web_unpark(struct web *w, struct pss *s);
void web_defer_detach(struct pss *s);

/* web_ws.c: a websocket client arrived (after web.c's checks), can be
 * written, or left. */
void web_ws_open(struct web *w, struct lws *wsi, struct pss *s);
int web_ws_writeable(struct web *w, struct lws *wsi, struct pss *s);
void web_ws_close(struct web *w, struct pss *s);
/* Register with / leave the gateway's event bus (web_start / web_stop). */
void web_ws_observe(struct web *w);
void web_ws_unobserve(struct web *w);

#endif
