/* outbuf — bytes on their way to a local side (pty master or device),
 * written straight through when the fd takes them, buffered up to a bound
 * when it does not, counted in rx_bytes / dropped either way. */
#ifndef MQTTTY_OUTBUF_H
#define MQTTTY_OUTBUF_H

#include <stddef.h>
#include <stdint.h>

struct outbuf {
	uint8_t *buf;      /* owned */
	size_t len, cap;
};

/* Write what fd takes now, buffer the rest up to limit; beyond the bound
 * (or on ENOMEM) bytes are counted in *dropped. */
void outbuf_write(struct outbuf *b, int fd, const uint8_t *p, size_t n, size_t limit,
		  uint64_t *written, uint64_t *dropped);
/* fd became writable: write out what is buffered. */
void outbuf_flush(struct outbuf *b, int fd, uint64_t *written);
/* Discard everything (counted in *dropped). */
void outbuf_discard(struct outbuf *b, uint64_t *dropped);
void outbuf_free(struct outbuf *b);

#endif
