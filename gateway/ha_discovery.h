/* ha_discovery — Home Assistant MQTT discovery (CONTRACT.md §5), as an
 * observer of the gateway: one HA device per gateway, entities per port
 * that read BASE/state and command BASE/set. A gw_module; main.c lists it.
 *
 * With --ha-discovery: each port's configs are published retained on
 * every connect, when a port is added, and when Home Assistant says
 * `HAPREFIX/status` online; a deleted port's configs are cleared (empty
 * retained). Configs of this gateway's node that no port wants any more
 * (ports deleted while the gateway was away, or discovery turned off) are
 * cleared as the broker hands their retained copies back. Loop thread only. */
#ifndef MQTTTY_HA_DISCOVERY_H
#define MQTTTY_HA_DISCOVERY_H

#include <stddef.h>

struct gateway;
struct gw_port;

/* 0, or -1 + err. Stopping closes everything; the memory goes when its
 * timer has closed (no free step needed). */
int ha_discovery_start(struct gateway *gw, char *err, size_t errlen);
void ha_discovery_stop(struct gateway *gw);

/* The discovery topic's object id of one entity of a port: the port name
 * with '_' as "__" and '.' as "_2E" (HA allows [A-Za-z0-9_-] only), then
 * '_' and the entity key. Injective over (name, key). Returns the length,
 * or -1 if it does not fit. */
int ha_object_id(char *buf, size_t len, const char *port, const char *key);

#endif
