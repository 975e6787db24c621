/* rfc2217_srv — a port served to the network as RFC 2217 (Telnet COM Port
 * Control): a TCP listener on the loop, one client at a time, speaking
 * Telnet with BINARY, SGA and COM-PORT-OPTION.
 *
 * The client counts as the port's application. The owner (the port's
 * manager) wires it:
 *   client → port:  events.data (bytes the application wrote: the port's
 *                   tx, counted in tx_bytes), events.set (line settings,
 *                   DTR/RTS, break the client asked for), events.open
 *                   (a client connected / left: state.open),
 *                   events.purge_tx (the client discarded its output);
 *   port → client:  rfc2217_srv_write (rx toward the application),
 *                   rfc2217_srv_state (the port's state changed: settings
 *                   in effect and modem lines, for answers and
 *                   NOTIFY-MODEMSTATE), rfc2217_srv_pause (backpressure).
 *
 * Every SET-* is answered, always, with the value in effect after the
 * owner applied it (events.set fills it in); what the port cannot know
 * (null) is answered with what was asked, so a client that waits for its
 * answer (pyserial does, for SET-CONTROL too) never hangs.
 *
 * A second client while one is connected is refused: it gets one line of
 * text saying the port is in use and the connection is closed (not
 * queued: a waiting client could not tell a queue from a dead server).
 *
 * RFC 2217 has no authentication: the owner must refuse a non-loopback
 * address unless the gateway has a password (rfc2217_srv_addr_parse says
 * which it is).
 *
 * Threading: loop thread only. Events fire from inside loop callbacks,
 * never from inside the calls below; none fires after rfc2217_srv_close.
 * The owner must not call rfc2217_srv_close from inside an event (mark
 * it and close after, as with port_destroy). */
#ifndef MQTTTY_RFC2217_SRV_H
#define MQTTTY_RFC2217_SRV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#include "line_set.h"
#include "port_state.h"

struct rfc2217_srv_events {
	/* bytes the client wrote (borrowed for the call) */
	void (*data)(void *owner, const uint8_t *p, size_t n);
	/* the end of a burst of data (as port_events.drained); may be NULL */
	void (*drained)(void *owner);
	/* a client connected (true) or left (false) */
	void (*open)(void *owner, bool open);
	/* The client asks for s (STATE_NULL fields: leave; break_ms: a break
	 * of that length, already over on the client's side). Apply what the
	 * port can and fill *now with the state in effect afterwards: the
	 * answer is built from now->line, now->dtr, now->rts. now comes in
	 * holding the last state given to rfc2217_srv_state. */
	void (*set)(void *owner, const struct line_set *s, struct port_state *now);
	/* the client discarded its pending output (PURGE-DATA transmit);
	 * may be NULL */
	void (*purge_tx)(void *owner);
};

struct rfc2217_srv;

/* Parse "ADDR:PORT" (IPv4, or [IPv6]:PORT). 0, or -1 + err. *loopback
 * tells whether the password rule applies (it does when false). */
int rfc2217_srv_addr_parse(const char *s, struct sockaddr_storage *ss, bool *loopback,
			   char *err, size_t errlen);

/* Listen on addr. name is for log lines (copied). rx_limit bounds the bytes
 * queued toward the client. *out is owned by the caller until
 * rfc2217_srv_close. 0, or a negative code + err (nothing left open):
 * -EINVAL bad address, -EADDRINUSE, other uv errors. */
int rfc2217_srv_start(uv_loop_t *loop, const char *addr, const char *name, size_t rx_limit,
		      const struct rfc2217_srv_events *ev, void *owner,
		      struct rfc2217_srv **out, char *err, size_t errlen);

/* Port rx toward the client. Returns the bytes taken; the rest (no
 * client, bound full) is the owner's to count as dropped. */
size_t rfc2217_srv_write(struct rfc2217_srv *s, const uint8_t *p, size_t n);

/* The port's state changed (call on every state event; cheap when the
 * modem lines did not move). Copied. */
void rfc2217_srv_state(struct rfc2217_srv *s, const struct port_state *st);

/* Stop / resume reading from the client (the port's tx bound). */
void rfc2217_srv_pause(struct rfc2217_srv *s, bool paused);

/* A client is connected. */
bool rfc2217_srv_connected(const struct rfc2217_srv *s);

/* Close the listener and any client; asynchronous, freed when done. No
 * event fires after this returns (not even open(false)). */
void rfc2217_srv_close(struct rfc2217_srv *s);

#endif
