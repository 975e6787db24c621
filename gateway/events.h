/* events — the gateway's observer bus. Whoever wants to watch ports (the
 * web server, metrics, Home Assistant discovery, the fleet view) registers
 * an observer; the gateway tells every observer what happened and never
 * names any of them. Loop thread only.
 *
 * Callbacks borrow what they are given for the call only. They may be
 * NULL. They must not add or remove ports, nor observers, while running. */
#ifndef MQTTTY_EVENTS_H
#define MQTTTY_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

struct gw_port;

#define GW_OBSERVERS_MAX 8

struct gw_observer {
	void *arg;
	/* op: "added", "changed" or "removed" (still findable while told) */
	void (*on_port)(void *arg, const char *op, const struct gw_port *gp);
	/* the port's state JSON (CONTRACT §3) whenever it is published */
	void (*on_state)(void *arg, const struct gw_port *gp, json_t *state);
	/* dir: "tx" (from the local side) or "rx" (toward it); src names who
	 * sent rx: "mqtt", "peer" or "api" */
	void (*on_traffic)(void *arg, const struct gw_port *gp, const char *dir,
			   const char *src, const uint8_t *p, size_t n);
	void (*on_broker)(void *arg, bool connected);
	/* why the port is not working as configured (device missing, link
	 * taken, subscription refused, ...), or NULL when that has passed */
	void (*on_problem)(void *arg, const struct gw_port *gp, const char *problem);
	/* cheap: does this observer want traffic now? (NULL = yes) */
	bool (*wants_traffic)(void *arg);
};

struct gw_events {
	const struct gw_observer *obs[GW_OBSERVERS_MAX];   /* borrowed */
	size_t n;
};

/* o is borrowed until gw_events_del. 0, or -ENOSPC when full. */
int gw_events_add(struct gw_events *e, const struct gw_observer *o);
void gw_events_del(struct gw_events *e, const struct gw_observer *o);

void gw_events_port(const struct gw_events *e, const char *op, const struct gw_port *gp);
void gw_events_state(const struct gw_events *e, const struct gw_port *gp, json_t *state);
bool gw_events_wants_traffic(const struct gw_events *e);
void gw_events_traffic(const struct gw_events *e, const struct gw_port *gp, const char *dir,
		       const char *src, const uint8_t *p, size_t n);
void gw_events_broker(const struct gw_events *e, bool connected);
void gw_events_problem(const struct gw_events *e, const struct gw_port *gp, const char *problem);

#endif
