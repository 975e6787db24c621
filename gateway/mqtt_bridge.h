/* mqtt_bridge — Paho MQTTAsync driven from the loop thread.
 *
 * Paho's callbacks run on Paho's threads; they only copy what they got into
 * the hand-off queue and wake the loop (uv_async). The loop then calls the
 * owner's callbacks below, on the loop thread. Reconnecting is ours, with
 * exponential backoff on a uv timer that runs only while disconnected. */
#ifndef MQTTTY_MQTT_BRIDGE_H
#define MQTTTY_MQTT_BRIDGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "uri.h"

enum { BRIDGE_OK = 0, BRIDGE_AGAIN = -1, BRIDGE_ERR = -2, BRIDGE_DOWN = -3 };

struct mqtt_bridge_cfg {
	struct broker_uri uri;          /* copied */
	const char *ca_file, *cert, *key;   /* borrowed for mqtt_bridge_new only */
	const char *client_id;
	const char *will_topic;         /* retained "offline" */
	int keepalive;                  /* seconds */
	/* Persistent session (CONTRACT §5): resumed after an absence of at
	 * most rx_hold_ms, so QoS 1 messages the broker held meanwhile are
	 * delivered; at start and after a longer absence the old session is
	 * wiped first (a clean connect, then a persistent one). 0: always a
	 * clean session. */
	uint32_t rx_hold_ms;
};

struct mqtt_bridge_cbs {
	/* resumed: the connection continues the previous session (clean
	 * session off, within rx_hold): Paho still holds the publishes that
	 * were in flight and sends them again itself */
	void (*connected)(void *arg, bool resumed);
	void (*lost)(void *arg);
	/* p/topic borrowed for the call */
	void (*message)(void *arg, const char *topic, const uint8_t *p, size_t n, bool retained);
	/* a publish made with a non-zero id finished; rc 0 = delivered */
	void (*pub_done)(void *arg, uint64_t id, uint32_t epoch, int rc);
	/* n messages (bytes in all) on topic were dropped before reaching the
	 * loop: the hand-off queue was full. topic NULL: past the bound of
	 * what can be told per topic, counted only. */
	void (*rx_dropped)(void *arg, const char *topic, uint64_t n, uint64_t bytes);
	/* the broker refused a subscription (an ACL, say); code is the
	 * granted-QoS 0x80 or Paho's error */
	void (*sub_refused)(void *arg, const char *topic, int code);
};

struct mqtt_bridge;

int mqtt_bridge_new(uv_loop_t *loop, const struct mqtt_bridge_cfg *cfg,
		    const struct mqtt_bridge_cbs *cbs, void *arg,
		    struct mqtt_bridge **out, char *err, size_t errlen);
/* Start connecting (and keep reconnecting). */
void mqtt_bridge_start(struct mqtt_bridge *b);
bool mqtt_bridge_connected(const struct mqtt_bridge *b);
uint32_t mqtt_bridge_epoch(const struct mqtt_bridge *b);

/* Publish; id != 0 asks for a pub_done callback. BRIDGE_AGAIN: Paho's buffer
 * is full (backpressure, try again later); BRIDGE_DOWN: not connected. */
int mqtt_bridge_publish(struct mqtt_bridge *b, const char *topic, const void *p,
			size_t n, int qos, bool retained, uint64_t id);
/* The same; lazy: nothing waits for this pub_done, so Paho's thread does
 * not wake the loop for it: it is delivered when the loop wakes for
 * anything else, at the end of a loop turn, or within BRIDGE_LAZY_MS.
 * Order is kept: an earlier lazy completion is delivered before any later
 * event. */
#define BRIDGE_LAZY_MS 10
int mqtt_bridge_publish_ex(struct mqtt_bridge *b, const char *topic, const void *p,
			   size_t n, int qos, bool retained, uint64_t id, bool lazy);
int mqtt_bridge_subscribe(struct mqtt_bridge *b, const char *topic, int qos);
int mqtt_bridge_unsubscribe(struct mqtt_bridge *b, const char *topic);

/* Clean disconnect (no last will; publish "offline" first), then call done
 * on the loop thread. Bounded by timeout_ms. */
void mqtt_bridge_disconnect(struct mqtt_bridge *b, int timeout_ms,
			    void (*done)(void *arg), void *arg);
/* Free everything (after disconnect, or at any time at exit). Async: the
 * uv handles close on the next loop turn. */
void mqtt_bridge_free(struct mqtt_bridge *b);

#endif
