/* port_serve — a port served to the network as RFC 2217 (its `rfc2217`
 * setting): the glue between one gw_port and its rfc2217_srv listener. The
 * client counts as the port's application: its bytes are the port's tx,
 * rx goes to it while it is connected, its line settings and DTR/RTS show
 * in the state (a device port's real line follows them; a cuse port takes
 * them as an application's tcsetattr/TIOCM*, the client counting as one
 * more open of it), and `open` is true while it is there. Loop thread
 * only. */
#ifndef MQTTTY_PORT_SERVE_H
#define MQTTTY_PORT_SERVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "port_state.h"

struct port;
struct port_events;
struct port_serve;

/* Listen on addr for the port be (borrowed; its owner's events table ev
 * and owner are used for what the client does, as a backend would).
 * real_line: the client's settings go to be->ops->set (a device's real
 * line); otherwise to be->ops->app_open/app_set where the port has them (a
 * cuse port), else they are kept here and laid over the state. *out is
 * owned by the caller until port_serve_stop. 0, or a negative code + err:
 * -EADDRINUSE, -EINVAL, -ENOMEM, ... */
int port_serve_start(uv_loop_t *loop, const char *addr, const char *name, size_t rx_limit,
		     struct port *be, const struct port_events *ev, void *owner, bool real_line,
		     struct port_serve **out, char *err, size_t errlen);
/* Close the listener and any client; NULL is fine. No event of the
 * client's after this; a port with app_open is told the client went (it
 * may tell its owner its state from inside this call). */
void port_serve_stop(struct port_serve *ps);
/* A client is connected: it is the port's application. */
bool port_serve_has_client(const struct port_serve *ps);
/* rx toward the client: the bytes taken (the rest is the caller's to
 * count as dropped). */
size_t port_serve_write(struct port_serve *ps, const uint8_t *p, size_t n);
/* Tell the client the port's state (settings in effect, modem lines). */
void port_serve_state(struct port_serve *ps, const struct port_state *st);
/* Stop / resume reading from the client (the port's tx bound). */
void port_serve_pause(struct port_serve *ps, bool paused);
/* Lay what the client set (open, line settings, DTR/RTS) over st. */
void port_serve_overlay(const struct port_serve *ps, struct port_state *st);

#endif
