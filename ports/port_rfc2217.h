/* port_rfc2217 — kind "rfc2217": a serial port that a ser2net (or an
 * ESP serial bridge, or anything speaking RFC 2217) serves on the network,
 * attached like a device port: "device": "rfc2217://HOST:PORT". */
#ifndef MQTTTY_PORT_RFC2217_H
#define MQTTTY_PORT_RFC2217_H

#include "port.h"

#define RFC2217_HOST_MAX 253

/* The constructor, as port_device_new (allocates, start connects). */
struct port *port_rfc2217_new(const struct port_config *cfg, const struct port_env *env,
			      const struct port_events *ev, void *owner);

/* Split "rfc2217://HOST:PORT" (HOST a name, an IPv4 address or [IPv6]).
 * host gets RFC2217_HOST_MAX + 1 bytes, service 6. 0, or -1 + a sentence
 * in err: for the field check when such a port is created. */
int port_rfc2217_parse_url(const char *url, char *host, char *service, char *err,
			   size_t errlen);

#endif
