/* frame — cutting the local side's byte stream into `tx` messages
 * (CONTRACT.md §2 `frame`). Pure: the caller supplies the clock, so the idle
 * rule is unit-tested with a fake one. */
#ifndef MQTTTY_FRAME_H
#define MQTTTY_FRAME_H

#include <stddef.h>
#include <stdint.h>
#include "port_config.h"

/* Called once per finished message; p is borrowed for the call only. */
typedef void (*framer_emit_fn)(void *arg, const uint8_t *p, size_t n);

struct framer {
	struct frame_cfg cfg;
	uint32_t char_bits;     /* start + data + parity + stop bits, for idle */
	int64_t baud;
	uint8_t *buf;           /* owned, cfg.max bytes */
	size_t len;
	uint64_t deadline_ms;   /* idle: when the pending frame goes out; 0 = none */
	framer_emit_fn emit;
	void *arg;
};

int framer_init(struct framer *f, const struct frame_cfg *cfg, framer_emit_fn emit, void *arg);
void framer_free(struct framer *f);
/* The line speed changed (idle default follows it). bits: per character. */
void framer_set_line(struct framer *f, int64_t baud, uint32_t char_bits);
/* Idle gap in ms in force now (configured or 3.5 character times). */
uint32_t framer_idle_ms(const struct framer *f);

/* Feed bytes read at time now_ms. Emits every message that is complete. */
void framer_input(struct framer *f, const uint8_t *p, size_t n, uint64_t now_ms);
/* The read drained (no more bytes right now): raw mode sends what it has. */
void framer_drained(struct framer *f);
/* Timer fired at now_ms: idle mode sends the pending frame if due. */
void framer_tick(struct framer *f, uint64_t now_ms);
/* Send whatever is pending (application closed, shutdown). */
void framer_flush(struct framer *f);
/* Absolute ms at which framer_tick must run, or 0 if nothing waits. */
static inline uint64_t framer_deadline(const struct framer *f) { return f->deadline_ms; }

#endif
