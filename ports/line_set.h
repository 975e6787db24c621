/* line_set — the `BASE/set` payload for device ports (CONTRACT.md §3):
 * any of baud, data_bits, parity, stop_bits, flow, dtr, rts, break_ms,
 * checked whole before anything is applied. Pure, unit-tested. */
#ifndef MQTTTY_LINE_SET_H
#define MQTTTY_LINE_SET_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "port_state.h"

struct line_set {
	struct line_settings line;   /* fields left STATE_NULL are not changed */
	int dtr, rts;                /* STATE_NULL = leave */
	int break_ms;                /* 0 = none */
};

/* Parse a set payload. Unknown keys, wrong types and out-of-range values →
 * -1 with a sentence in err (nothing is to be applied then). */
int line_set_parse(json_t *obj, struct line_set *out, char *err, size_t errlen);

/* From a peer's state JSON (follow): only non-null line values and
 * dtr/rts; never break. An empty or closed state drops DTR and RTS. */
void line_set_from_peer_state(json_t *state, struct line_set *out);

/* Merge: fields of s that are set replace those of l. */
void line_set_merge(const struct line_set *s, struct line_settings *l);

#endif
