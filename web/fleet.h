/* fleet — every gateway seen on the broker under our prefix, from their
 * retained PREFIX/ID/status, PREFIX/ID/ports and PREFIX/ID/PORT/state
 * (CONTRACT §5). Watched only while someone asks: GET /api/v1/fleet starts
 * the watch and is answered once the retained messages are in; the watch
 * stops when nobody asked for FLEET_IDLE_MS. While watching, changes go to
 * the websocket as {"type":"fleet", …} events, coalesced every
 * FLEET_FLUSH_MS. Loop thread only. */
#ifndef MQTTTY_FLEET_H
#define MQTTTY_FLEET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gateway;
struct web;
struct http_req;
struct http_resp;

#define FLEET_IDLE_MS (5 * 60 * 1000)   /* stop watching after this long unasked */
#define FLEET_FLUSH_MS 250              /* websocket events at most this often */
#define FLEET_WATCH_MAX 3               /* remote ports whose traffic is followed */
#define FLEET_WATCH_MS (2 * 60 * 1000)  /* a remote port's traffic, unasked */
/* Bounds, so whatever is on the broker cannot take the gateway's memory:
 * more gateways, more ports per gateway or larger payloads are left out of
 * the view (and logged once per watch). */
#define FLEET_GATEWAYS_MAX 1000
#define FLEET_PORTS_MAX 1000            /* states kept per gateway */
#define FLEET_STATE_BYTES 4096          /* a state is ~250 bytes */
#define FLEET_PORTS_BYTES 1048576       /* a gateway's ports array (1 MiB) */

struct fleet;

/* w (borrowed) gets the events. NULL on no memory. */
struct fleet *fleet_new(struct gateway *gw, struct web *w);
/* Begin closing (unsubscribe, close timers); free after the loop ended. */
void fleet_stop(struct fleet *f);
void fleet_free(struct fleet *f);

/* The routes (api.c's table names them). GET /fleet leaves r->status 0
 * while the retained messages are still coming: web.c then keeps the
 * request and asks again (web_api_retry) once they are in. */
void fleet_api_get(struct fleet *f, struct http_resp *r);
/* POST /fleet/watch {"gateway","port"} (both optional): keep watching, and
 * follow that remote port's traffic; answers its recent messages. */
void fleet_api_watch(struct fleet *f, const struct http_req *req, struct http_resp *r);
/* POST /fleet/send {"gateway","port","data":BASE64}: publish to its rx. */
void fleet_api_send(struct fleet *f, const struct http_req *req, struct http_resp *r);
/* POST /fleet/set {"gateway","port","set":{…}}: publish to its BASE/set. */
void fleet_api_set(struct fleet *f, const struct http_req *req, struct http_resp *r);

/* Memory held by the view (bytes of payload kept), for the bench. */
size_t fleet_bytes(const struct fleet *f);

#endif
