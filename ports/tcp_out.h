/* tcp_out — the bytes on their way into one TCP stream speaking Telnet:
 * protocol bytes and escaped data in one ordered queue, one uv_write in
 * flight at a time, data bounded (what does not fit is the caller's to
 * count as dropped), and a hold on data for RFC 2217's
 * FLOWCONTROL-SUSPEND.
 * Used by the RFC 2217 server and client. Loop thread only. */
#ifndef MQTTTY_TCP_OUT_H
#define MQTTTY_TCP_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "telnet.h"

/* Protocol bytes may exceed the data bound by this much before the peer
 * counts as not reading (tcp_out_put fails). */
#define TCP_OUT_SLACK (64 * 1024)

struct tcp_out {
	uv_stream_t *stream;       /* borrowed; NULL = not connected */
	uv_write_t req;
	uint8_t *q, *fly, *hold;   /* owned: queued / handed to uv_write / held data */
	size_t len, cap, fly_len, fly_cap, hold_len, hold_cap;
	bool busy, held;
};

void tcp_out_init(struct tcp_out *o);
/* Start writing into s (a connected stream); drops anything queued. */
void tcp_out_attach(struct tcp_out *o, uv_stream_t *s);
/* The stream is going: nothing more is written; a write in flight
 * finishes (or is cancelled) by the stream's close. */
void tcp_out_detach(struct tcp_out *o);
/* Protocol bytes, never dropped: 0, or -1 when the peer has left more
 * than limit + TCP_OUT_SLACK unread (or no memory): drop the peer. */
int tcp_out_put(struct tcp_out *o, const uint8_t *p, size_t n, size_t limit);
/* Data, escaped by t, while under limit. Returns the bytes taken. */
size_t tcp_out_data(struct tcp_out *o, const struct telnet *t, const uint8_t *p, size_t n,
		    size_t limit);
/* Hold / release data (the peer asked to suspend / resume): data given
 * while held waits (within the same bound); protocol bytes still go. */
void tcp_out_hold(struct tcp_out *o, bool held);
/* Bytes queued and in flight. */
size_t tcp_out_pending(const struct tcp_out *o);
/* Free the buffers: only once no write is in flight (the stream closed). */
void tcp_out_free(struct tcp_out *o);

#endif
