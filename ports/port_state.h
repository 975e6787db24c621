/* port_state — the line state of the contract's `state` topic (§3). */
#ifndef MQTTTY_PORT_STATE_H
#define MQTTTY_PORT_STATE_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#define STATE_NULL (-1)

/* Line settings as the local side set them. Each int is STATE_NULL where
 * the port cannot know (e.g. data bits on a Linux pty). */
struct line_settings {
	int64_t baud;        /* STATE_NULL or bits/s */
	int data_bits;       /* 5..8 */
	int parity;          /* enum port_parity */
	int stop_bits;       /* 1, 2 */
	int flow;            /* enum port_flow */
};

struct port_state {
	bool open;
	struct line_settings line;
	int dtr, rts, cts, dsr, dcd, ri;    /* STATE_NULL, 0 or 1 */
	uint64_t tx_bytes, rx_bytes, dropped;
};

/* Everything null/closed, counters zero. */
void port_state_init(struct port_state *s);
/* New reference with every key of the contract, in the contract's order. */
json_t *port_state_to_json(const struct port_state *s);
/* True if anything but the counters differs. */
bool port_state_lines_differ(const struct port_state *a, const struct port_state *b);

#endif
