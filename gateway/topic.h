/* topic — building and parsing the contract's topic names (§3). */
#ifndef MQTTTY_TOPIC_H
#define MQTTTY_TOPIC_H

#include <stdbool.h>
#include <stddef.h>

#define TOPIC_MAX 512

/* PREFIX/ID/status, PREFIX/ID/ports. Returns length or -1 if too long. */
int topic_gateway(char *buf, size_t len, const char *prefix, const char *id, const char *leaf);
/* PREFIX/GW/PORT/LEAF. Returns length or -1 if too long. */
int topic_port(char *buf, size_t len, const char *prefix, const char *gw,
	       const char *port, const char *leaf);

/* Split PREFIX/GW/PORT/LEAF. On success 0 and gw/port/leaf point into
 * `scratch` (a caller buffer of at least strlen(topic)+1 bytes); -1 if the
 * topic does not have that shape. */
int topic_parse(const char *topic, const char *prefix, char *scratch,
		const char **gw, const char **port, const char **leaf);

/* 0 if P is a usable prefix: non-empty levels, no wildcards, no leading or
 * trailing '/', at most 256 bytes. */
int topic_prefix_check(const char *prefix, char *err, size_t errlen);
/* Does topic match the MQTT filter (with + and # wildcards)? A topic
 * starting with '$' matches no filter that starts with a wildcard. */
bool topic_match(const char *filter, const char *topic);

#endif
