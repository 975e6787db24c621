#include "outbuf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Write as much as fd takes; returns bytes written. */
static size_t write_some(int fd, const uint8_t *p, size_t n)
{
	size_t done = 0;

	while (done < n) {
		ssize_t w = write(fd, p + done, n - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;      /* EAGAIN: full; other errors: the reader notices */
		done += (size_t)w;
	}
	return done;
}

void outbuf_write(struct outbuf *b, int fd, const uint8_t *p, size_t n, size_t limit,
		  uint64_t *written, uint64_t *dropped)
{
	size_t room;

	if (b->len == 0) {          /* keep order: only bypass an empty buffer */
		size_t w = write_some(fd, p, n);
		*written += w;
		p += w;
		n -= w;
		if (!n)
			return;
	}
	room = limit > b->len ? limit - b->len : 0;
	if (n > room) {
		*dropped += n - room;
		n = room;
	}
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n)
			cap *= 2;
		uint8_t *nb = realloc(b->buf, cap);
		if (!nb) {
			*dropped += n;
			return;
		}
		b->buf = nb;
		b->cap = cap;
	}
	memcpy(b->buf + b->len, p, n);
	b->len += n;
}

void outbuf_flush(struct outbuf *b, int fd, uint64_t *written)
{
	size_t w = write_some(fd, b->buf, b->len);

	*written += w;
	memmove(b->buf, b->buf + w, b->len - w);
	b->len -= w;
}

void outbuf_discard(struct outbuf *b, uint64_t *dropped)
{
	*dropped += b->len;
	b->len = 0;
}

void outbuf_free(struct outbuf *b)
{
	free(b->buf);
	*b = (struct outbuf){ 0 };
}
