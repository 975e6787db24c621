/* port_serve — a port served to the network as RFC 2217 (its `rfc2217`
 * setting): the glue between one gw_port and its rfc2217_srv listener. The
 * client counts as the port's application: its bytes are the port's tx,
 * rx goes to it while it is connected, its line settings and DTR/RTS show
 * in the state (a device port's real line follows them), and `open` is
 * true while it is there. Loop thread only. */
#ifndef MQTTTY_PORT_SERVE_H
#define MQTTTY_PORT_SERVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "port_state.h"

struct gw_port;
struct port_serve;

/* Listen on gp->cfg.rfc2217 (nothing when it is ""). 0, or a negative
 * code + err: -EADDRINUSE, -EINVAL, ... gp->serve owns what was made. */
int port_serve_start(struct gw_port *gp, char *err, size_t errlen);
/* Close the listener and any client (no event after this). */
void port_serve_stop(struct gw_port *gp);
/* A client is connected: it is the port's application. */
bool port_serve_has_client(const struct gw_port *gp);
/* rx toward the client: the bytes taken (the rest is the caller's to
 * count as dropped). */
size_t port_serve_write(struct gw_port *gp, const uint8_t *p, size_t n);
/* Tell the client the port's state (settings in effect, modem lines). */
void port_serve_state(struct gw_port *gp, const struct port_state *st);
/* Stop / resume reading from the client (the port's tx bound). */
void port_serve_pause(struct gw_port *gp, bool paused);
/* Lay what the client set (open, line settings, DTR/RTS) over st. */
void port_serve_overlay(const struct gw_port *gp, struct port_state *st);

#endif
