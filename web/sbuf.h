/* sbuf — a growing, always NUL-terminated text buffer for building answers
 * (the fleet's JSON, traffic downloads). An allocation failure sets oom and
 * makes every later put a no-op, so a caller checks once at the end. The
 * caller frees b->p. */
#ifndef MQTTTY_SBUF_H
#define MQTTTY_SBUF_H

#include <stdbool.h>
#include <stddef.h>

struct sbuf {
	char *p;                      /* owned by the caller once built */
	size_t len, cap;
	bool oom;
};

void sbuf_put(struct sbuf *b, const char *s, size_t n);
void sbuf_puts(struct sbuf *b, const char *s);
void sbuf_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
