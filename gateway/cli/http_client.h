/* http_client — one blocking HTTP/1.1 request over libwebsockets' client
 * API, for command-line tools (`mqttty port`). Not for the gateway's loop:
 * it creates, runs and destroys its own lws context per request. */
#ifndef MQTTTY_HTTP_CLIENT_H
#define MQTTTY_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

/* Why a request got no HTTP answer (http_client_request's return). */
enum http_client_err {
	HTTP_CLIENT_OK = 0,
	HTTP_CLIENT_NOCONN = -1,     /* nothing accepted the connection */
	HTTP_CLIENT_TLS = -2,        /* connected, but the TLS handshake failed */
	HTTP_CLIENT_HUNGUP = -3,     /* connected, then no (complete) HTTP answer */
	HTTP_CLIENT_TIMEOUT = -4,    /* no complete answer within timeout_ms */
	HTTP_CLIENT_INTERNAL = -5,   /* out of memory, lws refused to start */
};

struct http_client_req {
	const char *addr;        /* borrowed: IP literal or name to connect to */
	int port;
	bool tls;                /* https */
	bool insecure;           /* https: accept self-signed, skip the name check */
	const char *method;      /* borrowed: "GET", "POST", "PATCH", "DELETE" */
	const char *path;        /* borrowed: already percent-encoded */
	const char *host_hdr;    /* borrowed: the Host header's value */
	const char *token;       /* borrowed or NULL: sent as Authorization: Bearer */
	const char *body;        /* borrowed or NULL: sent as application/json */
	size_t body_len;
	int timeout_ms;          /* for the whole request, connect included */
};

struct http_client_resp {
	int status;              /* e.g. 200; 0 when there was no answer */
	char *body;              /* owned, NUL-terminated (may be NULL if empty) */
	size_t len;
};

/* Run one request to the end. HTTP_CLIENT_OK means an answer with a status
 * arrived (of any code); otherwise a negative http_client_err and a short
 * reason in err. Either way the caller frees resp with http_client_resp_free. */
int http_client_request(const struct http_client_req *req, struct http_client_resp *resp,
			char *err, size_t errlen);

void http_client_resp_free(struct http_client_resp *resp);

#endif
