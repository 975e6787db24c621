/* line_set — the `BASE/set` payload (CONTRACT.md §3): for device ports any
 * of baud, data_bits, parity, stop_bits, flow, dtr, rts, break_ms (what the
 * gateway drives); for cuse ports any of cts, dsr, dcd, ri (what the
 * application sees). Checked whole before anything is applied; which of
 * the two groups a port takes is its backend's call (line_set_has_*).
 * Pure, unit-tested. */
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
	int cts, dsr, dcd, ri;       /* input lines (cuse ports); STATE_NULL = leave */
	/* 0: a device that cannot take dtr/rts refuses the whole set (a
	 * `set` is applied whole or not at all). 1 (follow): a device without
	 * modem lines takes the rest; one that has them still takes all or
	 * nothing. An int, so the struct has no padding (it is memcmp'd). */
	int lines_if_any;
};

/* Parse a set payload. Unknown keys, wrong types and out-of-range values →
 * -1 with a sentence in err (nothing is to be applied then). */
int line_set_parse(json_t *obj, struct line_set *out, char *err, size_t errlen);

/* From a peer's state JSON (follow): only non-null line values and
 * dtr/rts; never break. An empty or closed state drops DTR and RTS.
 * lines_if_any is 1: a device without modem lines follows the rest. */
void line_set_from_peer_state(json_t *state, struct line_set *out);

/* Null modem (a virtual port whose peer is another virtual port): the
 * peer's rts shows as cts, its dtr as dsr and dcd. A line the peer cannot
 * know (null) is left; an empty or non-object state (peer deleted) drops
 * all three. Only cts/dsr/dcd are set in out. */
void line_set_null_modem(json_t *peer_state, struct line_set *out);

/* s names something the gateway drives (line settings, dtr, rts, break)? */
bool line_set_has_outputs(const struct line_set *s);
/* s names a line setting (baud, data_bits, parity, stop_bits, flow)? */
bool line_set_has_settings(const struct line_set *s);
/* s names an input line (cts, dsr, dcd, ri)? */
bool line_set_has_inputs(const struct line_set *s);

/* Merge: fields of s that are set replace those of l. */
void line_set_merge(const struct line_set *s, struct line_settings *l);

#endif
