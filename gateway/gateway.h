/* gateway — the one object the loop thread owns: every port, the store,
 * the MQTT bridge, timers and signals. Passed explicitly; never global. */
#ifndef MQTTTY_GATEWAY_H
#define MQTTTY_GATEWAY_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "options.h"
#include "events.h"
#include "port.h"
#include "frame.h"
#include "topic.h"

struct store;
struct mqtt_bridge;
struct osdep_watch;

#define TXQ_LIMIT (1024 * 1024)    /* bytes per port awaiting the broker */
#define TX_WINDOW 64               /* messages per port handed to Paho at once */
#define RX_LIMIT (256 * 1024)      /* bytes per port awaiting the application */

struct txmsg {
	struct txmsg *next;
	uint64_t seq;
	bool sent, acked;
	size_t len;
	uint8_t data[];
};

/* The gateway's side of one port: config, backend, tx queue, state. */
struct gw_port {
	struct gateway *gw;
	uint32_t slot;                 /* index in gw->slots, for publish ids */
	struct port_config cfg;
	struct port *be;               /* backend, NULL while disabled/failed */
	struct framer framer;
	uv_timer_t frame_timer;
	char topic_tx[TOPIC_MAX], topic_state[TOPIC_MAX];
	char topic_rx[TOPIC_MAX], topic_set[TOPIC_MAX];
	struct txmsg *txq_head, **txq_tail;
	size_t txq_bytes, inflight;
	bool paused;
	bool pump_due;                 /* in gw's pump list for this loop turn */
	struct gw_port *pump_next;
	struct port_state published;   /* last state sent */
	bool have_published;
	uint64_t counters_seen;        /* tx+rx+dropped at last publish */
	struct line_set follow_want;   /* follow: what the peer's state asks for */
	struct line_set follow_last;   /* follow: what the device got last */
	bool follow_want_set, follow_valid;
	bool be_open;                  /* backend open at its last state event */
	bool closing;
	bool state_retry;              /* a state publish failed: the timer retries */
	uint64_t tx_msgs, rx_msgs;     /* tx messages queued / rx messages delivered (metrics) */
	struct port_serve *serve;      /* owned: the RFC 2217 listener, or NULL */
	bool problem_sub;              /* the problem is a refused subscription */
	char problem[160];             /* why the port is not working ("" = none):
					* a refused subscription, ...; shown by the API */
};

/* A part started and stopped with the gateway (the web server, ...). main.c,
 * the composition root, hands them in; the gateway never names them. */
struct gw_module {
	const char *name;
	/* 0, or -1 + err (start-up then fails with exit 1) */
	int (*start)(struct gateway *gw, char *err, size_t errlen);
	void (*stop)(struct gateway *gw);   /* begin closing, at shutdown */
	void (*free)(struct gateway *gw);   /* after the loop ended */
};

/* A topic filter an observer (Home Assistant discovery, the fleet view)
 * wants besides the ports' own topics. Subscribed at once when the broker
 * is there and again on every (re)connect. */
typedef void (*gw_topic_cb)(void *arg, const char *topic, const uint8_t *p, size_t n,
			    bool retained);
struct gw_sub {
	const char *filter;            /* borrowed, lives as long as the gw_sub */
	int qos;
	gw_topic_cb cb;
	void *arg;
};
#define GW_SUBS_MAX 16

/* The delay of the loop's 1 s timer (the state timer, which runs while
 * anything moves: an idle gateway has no timer to wake it and nothing to
 * delay): a ring of the last minute's samples. */
#define LAG_SAMPLES 60
#define LAG_PERIOD_MS 1000
struct loop_lag {
	uint64_t due;                  /* when the timer should fire (ms) */
	uint32_t ms[LAG_SAMPLES];
	uint64_t at[LAG_SAMPLES];      /* when each sample was taken (loop ms) */
	size_t n, next;
};

struct gateway {
	uv_loop_t *loop;
	struct options *opt;           /* borrowed */
	struct store *store;
	struct mqtt_bridge *mqtt;
	struct osdep_watch *watch;
	struct port_env env;
	struct gw_port **ports;        /* sorted by name */
	size_t nports, cap;
	struct gw_port **slots;        /* by slot; NULL = free */
	size_t nslots;
	uint64_t seq;                  /* publish sequence, gateway-wide */
	uv_signal_t sigint, sigterm;
	uv_timer_t state_timer, stop_timer;
	bool state_timer_on;
	/* ports with messages for Paho, handed over together at the end of
	 * the loop turn (port_mgr.c); the handles run only while some wait */
	uv_idle_t pump_idle;
	uv_timer_t pump_timer;         /* or after a short hold while many send */
	struct gw_port *pump_head, **pump_tail;
	size_t pump_n;
	uint32_t sent_slot[2];         /* the two latest distinct ports that sent */
	uint64_t sent_ms[2];           /* and when (loop time; 0 = never) */
	int stop_phase;
	uint64_t stop_started;
	char topic_status[TOPIC_MAX], topic_ports[TOPIC_MAX];
	char (*cleared)[PORT_NAME_MAX + 1];  /* ports deleted while the broker was
					       * away: their retained state is
					       * cleared on the next connect */
	size_t ncleared;
	void *web;                     /* owned by the web module (opaque here) */
	struct gw_events events;       /* observers: web, ... */
	const struct gw_sub *subs[GW_SUBS_MAX];   /* borrowed */
	size_t nsubs;
	const struct gw_module *mods;  /* borrowed */
	size_t nmods;
	struct loop_lag lag;
	uint64_t rx_lost_msgs, rx_lost_bytes;   /* dropped before reaching a port */
	uint64_t sub_refused;          /* subscriptions the broker refused */
	int exit_code;
};

/* Run the gateway until SIGINT/SIGTERM, with the given modules started
 * after the ports. Returns the exit status. */
int gateway_run(struct options *opt, const struct gw_module *mods, size_t nmods);
/* New reference: GET /api/v1/status. */
json_t *gateway_status_json(struct gateway *gw);

/* Extra subscriptions for observers: s is borrowed until gw_unsubscribe.
 * 0, or -ENOSPC when GW_SUBS_MAX are taken. Messages matching the filter
 * go to s->cb (borrowed for the call), retained ones included. */
int gw_subscribe(struct gateway *gw, const struct gw_sub *s);
void gw_unsubscribe(struct gateway *gw, const struct gw_sub *s);
/* Publish for an observer (e.g. retained discovery configs): a BRIDGE_*
 * code; nothing is kept while the broker is away. */
int gw_publish(struct gateway *gw, const char *topic, const void *p, size_t n, int qos,
	       bool retained);
bool gw_broker_connected(const struct gateway *gw);

/* port_mgr.c */
struct gw_port *gw_port_find(struct gateway *gw, const char *name);
/* Create from a checked config (persisting is the caller's business). */
int gw_port_add(struct gateway *gw, const struct port_config *cfg, char *err, size_t errlen);
/* Replace the config of a port live; diff = port_config_diff(old, cfg)
 * says what that needs (reopen, resubscribe, reframe). */
int gw_port_update(struct gateway *gw, struct gw_port *gp, const struct port_config *cfg,
		   unsigned diff, char *err, size_t errlen);
void gw_port_remove(struct gateway *gw, struct gw_port *gp);
void gw_port_publish_state(struct gw_port *gp);
/* resumed: the broker session goes on and Paho re-sends what was in
 * flight; else everything unacknowledged is sent again from the head. */
void gw_port_on_connected(struct gw_port *gp, bool resumed);
void gw_port_on_lost(struct gw_port *gp);
void gw_port_pub_done(struct gateway *gw, uint64_t id, int rc);
/* The state as published: the backend's, with an RFC 2217 client's
 * settings laid over it. */
void gw_port_state(const struct gw_port *gp, struct port_state *out);
/* Deliver to the local side; src ("mqtt", "peer", "api") for observers. */
void gw_port_rx(struct gw_port *gp, const uint8_t *p, size_t n, const char *src);
void gw_port_flush(struct gw_port *gp);
void gw_port_peer_state(struct gw_port *gp, const uint8_t *p, size_t n);
/* port_peer.c: subscribe the port's topics (rx at its QoS, set at QoS 0,
 * its peer's); the peer topics of config c (an old one, during a change),
 * unless another port still needs them; the peer gateway's status. */
void gw_port_subscribe(struct gw_port *gp);
void gw_port_unsubscribe(struct gw_port *gp);
void gw_port_unsubscribe_peer(struct gw_port *gp, const struct port_config *c);
void gw_port_unsubscribe_status(struct gw_port *gp, const struct port_config *c);
/* Bring a following device to what the peer asks for (kept for a reopen). */
void gw_port_follow_apply(struct gw_port *gp);
void gw_port_follow_drop(struct gw_port *gp);
/* Does gp name GW/PORT as its peer (port NULL: any port of GW)? */
bool gw_port_peer_is(const struct gw_port *gp, const char *gw_id, const char *port);
json_t *gw_port_to_json(const struct gw_port *gp, bool with_state);
void gw_publish_ports(struct gateway *gw);
void gw_state_timer_kick(struct gateway *gw);
/* The 1 s timer fired now (gateway.c keeps the samples). */
void gw_lag_sample(struct gateway *gw);
/* Publish the empty retained states owed by ports deleted while offline. */
void gw_flush_cleared(struct gateway *gw);
uint64_t gw_now_ms(struct gateway *gw);
/* Set (fmt) or clear (fmt NULL) the port's problem; observers are told on
 * a change. */
void gw_port_set_problem(struct gw_port *gp, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
