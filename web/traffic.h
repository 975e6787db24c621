/* traffic — the last messages of every port, kept by the gateway, so a
 * reload or a second browser still sees recent traffic and a user can
 * download it. An observer of the gateway's events. Loop thread only. */
#ifndef MQTTTY_TRAFFIC_H
#define MQTTTY_TRAFFIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

struct gateway;

#define TRAFFIC_KEEP 500                 /* messages per port */
#define TRAFFIC_BYTES (256 * 1024)       /* bytes per port: the oldest go first */

struct traffic_msg {
	uint64_t ts;                     /* ms since the epoch */
	char dir[3];                     /* "tx" or "rx" */
	char src[6];                     /* "port", "mqtt", "peer", "api" */
	uint32_t len;
	uint8_t data[];
};

/* A bounded ring of messages. Zeroed = empty. */
struct traffic_ring {
	struct traffic_msg **m;          /* TRAFFIC_KEEP slots, allocated on first use */
	size_t head, n, bytes;
};

void traffic_ring_push(struct traffic_ring *r, uint64_t ts, const char *dir, const char *src,
		       const uint8_t *p, size_t n);
void traffic_ring_clear(struct traffic_ring *r);
/* New reference: [{"ts":MS,"dir":…,"src":…,"data":BASE64}, …], oldest first. */
json_t *traffic_ring_json(const struct traffic_ring *r);
/* A download: CSV (ts,time,dir,src,len,hex,text) or one line per message.
 * Caller frees; NULL on no memory. */
char *traffic_ring_export(const struct traffic_ring *r, bool csv, size_t *len);
/* ms since the epoch, for the messages' ts */
uint64_t traffic_now_ms(void);

/* The gateway's rings, one per port (registered as an observer). */
struct traffic;
struct traffic *traffic_start(struct gateway *gw);   /* NULL on no memory */
void traffic_stop(struct traffic *t);                /* stops observing */
void traffic_free(struct traffic *t);                /* after traffic_stop */
/* New reference: {"NAME": {"last_ts": MS, "messages": N}, …} for every port
 * with kept traffic (the dashboard's "last activity" after a reload). */
json_t *traffic_summary_json(const struct traffic *t);
/* The ring of port NAME, or NULL if that port has none (no traffic yet). */
const struct traffic_ring *traffic_find(const struct traffic *t, const char *name);

#endif
