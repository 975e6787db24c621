/* web — the dashboard, the JSON API and the websocket, served by
 * libwebsockets as a guest on the gateway's own libuv loop (no thread). */
#ifndef MQTTTY_WEB_H
#define MQTTTY_WEB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

struct gateway;
struct gw_port;
struct web;

#define WEB_BODY_MAX (64 * 1024)

enum http_method { HM_GET, HM_POST, HM_PATCH, HM_DELETE, HM_PUT, HM_OTHER };

/* One request as the router sees it (all borrowed). */
struct http_req {
	enum http_method method;
	const char *path;
	const uint8_t *body;
	size_t body_len;
	const char *content_type;    /* "" if none */
	const char *authorization;   /* "" if none */
	const char *cookie;          /* "" if none */
	const char *peer;            /* client address ("" if unknown) */
	void *conn;                  /* web.c's connection, for web_defer_begin */
};

/* The answer; body is owned (malloc'd). */
struct http_resp {
	int status;
	const char *content_type;
	char *body;
	size_t len;
	char set_cookie[160];
	int retry_after;             /* seconds; > 0 adds Retry-After */
	bool deferred;               /* answered later through a web_defer */
};

/* Start serving on opt->http (skipped when off). 0, or -1 + err. */
int web_start(struct gateway *gw, char *err, size_t errlen);
/* Begin closing; lws finishes on the loop. */
void web_stop(struct gateway *gw);
/* After the loop ended: free what is left. */
void web_free(struct gateway *gw);

bool web_has_clients(const struct gateway *gw);
/* Websocket clients connected now (for status and metrics). */
size_t web_ws_clients(const struct gateway *gw);
/* Send a ready JSON text to every websocket client (traffic, fleet). */
void web_broadcast_text(struct web *w, const char *text, size_t len);
/* A route that left resp->status 0 is asked again: run the parked ones. */
void web_api_retry(struct web *w);
struct traffic *web_traffic(struct web *w);   /* NULL when not serving */
struct fleet *web_fleet(struct web *w);

/* api.c: route one request. The caller checked Host and body size. */
void api_handle(struct gateway *gw, struct web *w, const struct http_req *req,
		struct http_resp *resp);
/* web_ws.c: GET /api/v1/status (also the websocket hello's). New reference. */
json_t *api_status_json(struct gateway *gw);
/* http_conn.c: answers (r->body is replaced; j is taken). */
void resp_error(struct http_resp *r, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void resp_json(struct http_resp *r, int status, json_t *j);
void resp_empty(struct http_resp *r, int status);

/* auth.c: sessions, bearer tokens, login with a per-address limit. */
struct auth;
/* The auth state of one web server (sessions, login limiter). NULL on OOM. */
struct auth *auth_new(struct gateway *gw);
/* Free it. Login checks still running keep their own memory (see auth.c). */
void auth_free(struct auth *a);
bool auth_enabled(struct gateway *gw);
/* true if the request carries a valid session cookie or bearer token */
bool auth_check(struct gateway *gw, struct web *w, const char *authorization, const char *cookie);
/* POST /api/v1/login with the password (len bytes, from the JSON parser).
 * Either answers at once (400/401/429/503 in r) or defers: the password is
 * checked off the loop and r->deferred is set; the answer (204 + cookie, or
 * 401) goes out from the completion through a web_defer. */
void auth_login(struct gateway *gw, struct web *w, const struct http_req *req,
		const char *password, size_t len, struct http_resp *r);

/* web.c gives auth.c its state and keeps the connection of a deferred answer. */
struct auth *web_auth(struct web *w);
struct web_defer;
/* Take over answering req (req->conn) later; r->deferred is set. NULL if out
 * of memory (then answer now). */
struct web_defer *web_defer_begin(struct web *w, const struct http_req *req,
				  struct http_resp *r);
/* false once the client went away (the answer would be dropped) */
bool web_defer_alive(const struct web_defer *d);
/* Answer and free d. Takes resp->body. A client that went away meanwhile
 * gets nothing; its memory is freed here. Loop thread only. */
void web_defer_answer(struct web_defer *d, struct http_resp *resp);

#endif
