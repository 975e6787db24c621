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
};

/* The answer; body is owned (malloc'd). */
struct http_resp {
	int status;
	const char *content_type;
	char *body;
	size_t len;
	char set_cookie[160];
};

/* Start serving on opt->http (skipped when off). 0, or -1 + err. */
int web_start(struct gateway *gw, char *err, size_t errlen);
/* Begin closing; lws finishes on the loop. */
void web_stop(struct gateway *gw);
/* After the loop ended: free what is left. */
void web_free(struct gateway *gw);

bool web_has_clients(const struct gateway *gw);
/* Send a ready JSON text to every websocket client (traffic, fleet). */
void web_broadcast_text(struct web *w, const char *text, size_t len);
/* A route that left resp->status 0 is asked again: run the parked ones. */
void web_api_retry(struct web *w);
struct traffic *web_traffic(struct web *w);   /* NULL when not serving */
struct fleet *web_fleet(struct web *w);
size_t web_client_count(const struct web *w);

/* api.c: route one request. The caller checked Host and body size. */
void api_handle(struct gateway *gw, struct web *w, const struct http_req *req,
		struct http_resp *resp);
json_t *api_status_json(struct gateway *gw);
void resp_error(struct http_resp *r, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* auth.c */
bool auth_enabled(struct gateway *gw);
/* true if the request carries a valid session cookie or bearer token */
bool auth_check(struct gateway *gw, struct web *w, const char *authorization, const char *cookie);
/* Verify a password; on success fill cookie with a Set-Cookie value. */
bool auth_login(struct gateway *gw, struct web *w, const char *password, char *cookie, size_t len);
/* Hash for storage: "pbkdf2-sha256$ITER$SALT$HASH" (hex). 0 or -1. */
int auth_hash_password(const char *password, char *out, size_t len);
bool auth_verify_password(const char *password, const char *stored);
/* Random token as hex (2*nbytes chars) and its SHA-256 in hex. */
int auth_new_token(char *token, size_t tlen, char *hash_hex, size_t hlen);
void auth_sha256_hex(const char *s, char out[65]);

/* web.c keeps the sessions; auth.c asks through these. */
int web_session_add(struct web *w, const char *id_hex);
bool web_session_valid(struct web *w, const char *id_hex);

#endif
