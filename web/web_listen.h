/* web_listen — accepts plain-HTTP connections itself so that the raw
 * request target can be checked before libwebsockets normalises it.
 *
 * lws 4.1 rewrites the request path while parsing ("//" → "/", "/x/../"
 * removed, %XX decoded) and has no API that returns the target as sent, so
 * "DELETE /api/v1/ports//keep" would reach the router as ".../ports/keep".
 * This listener peeks (MSG_PEEK, nothing consumed) at the request line of
 * each new connection, judges the raw target, and hands the socket to lws
 * (lws_adopt_socket_vhost). Since only a connection's first request can be
 * peeked, the web answers each request with "Connection: close". */
#ifndef MQTTTY_WEB_LISTEN_H
#define MQTTTY_WEB_LISTEN_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

struct web_listen;

/* A connection whose request line arrived: fd is the caller's from now on
 * (never closed here); raw_ok tells whether its raw target passed
 * web_target_raw_ok. */
typedef void (*web_listen_cb)(void *arg, int fd, bool raw_ok);

/* Listen on host:port (a wildcard address listens on IPv6 and IPv4). 0, or
 * -1 with a sentence in err. */
int web_listen_start(uv_loop_t *loop, const char *host, int port, web_listen_cb cb, void *arg,
		     struct web_listen **out, char *err, size_t errlen);
/* Stop: close the listening socket and every connection not yet handed
 * over. Memory is freed in close callbacks (run the loop). NULL is ignored. */
void web_listen_stop(struct web_listen *l);

/* The request line (the peeked bytes, len of them, possibly cut short):
 * false when its target's path has an empty segment ("//"), a dot segment
 * ("/./", "/../", also percent-encoded) or an encoded '/' or '\\' — a path
 * lws would rewrite into another one. */
bool web_target_raw_ok(const char *line, size_t len);

#endif
