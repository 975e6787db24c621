/* telnet — a pure Telnet (RFC 854/855) and COM-PORT-OPTION (RFC 2217)
 * codec: no I/O, no allocation, no loop.
 *
 * Input: telnet_input() takes bytes from the network in pieces of any size
 * (an IAC, a command or a subnegotiation may be split anywhere) and calls
 * back with the data bytes (IAC IAC unescaped), the answers the protocol
 * owes the peer (negotiation replies), and each COM-PORT-OPTION
 * subnegotiation that is well formed for our role. Everything else —
 * unknown commands, options we do not speak, malformed, oversized or
 * wrong-direction subnegotiations — is ignored (an unknown option asked
 * for is refused, as RFC 854 wants).
 *
 * Output: telnet_escape() doubles IAC in data; telnet_cpo_*() build
 * subnegotiations; telnet_start() / telnet_request() start negotiation.
 *
 * Option negotiation follows RFC 1143's Q method (without the queue bit),
 * so two sides that ask at the same time do not loop. We accept BINARY,
 * SUPPRESS-GO-AHEAD and COM-PORT-OPTION both ways and refuse all others.
 *
 * Callbacks fire synchronously from inside telnet_input()/telnet_start()/
 * telnet_request(); they must not free the struct telnet. */
#ifndef MQTTTY_TELNET_H
#define MQTTTY_TELNET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "line_set.h"

/* RFC 854 commands */
enum {
	TELNET_SE = 240, TELNET_NOP = 241, TELNET_DM = 242, TELNET_BRK = 243,
	TELNET_SB = 250, TELNET_WILL = 251, TELNET_WONT = 252, TELNET_DO = 253,
	TELNET_DONT = 254, TELNET_IAC = 255,
};

/* options */
enum { TELNET_OPT_BINARY = 0, TELNET_OPT_ECHO = 1, TELNET_OPT_SGA = 3,
       TELNET_OPT_COM_PORT = 44 };

/* RFC 2217 commands, client → server; the server's answers are +100. */
enum telnet_cpo_cmd {
	CPO_SIGNATURE = 0, CPO_SET_BAUDRATE = 1, CPO_SET_DATASIZE = 2,
	CPO_SET_PARITY = 3, CPO_SET_STOPSIZE = 4, CPO_SET_CONTROL = 5,
	CPO_NOTIFY_LINESTATE = 6, CPO_NOTIFY_MODEMSTATE = 7,
	CPO_FLOW_SUSPEND = 8, CPO_FLOW_RESUME = 9, CPO_SET_LINESTATE_MASK = 10,
	CPO_SET_MODEMSTATE_MASK = 11, CPO_PURGE_DATA = 12,
};
#define CPO_SERVER_OFFSET 100

/* SET-CONTROL values */
enum {
	CTL_REQ_FLOW = 0, CTL_FLOW_NONE = 1, CTL_FLOW_XONXOFF = 2, CTL_FLOW_HW = 3,
	CTL_REQ_BREAK = 4, CTL_BREAK_ON = 5, CTL_BREAK_OFF = 6,
	CTL_REQ_DTR = 7, CTL_DTR_ON = 8, CTL_DTR_OFF = 9,
	CTL_REQ_RTS = 10, CTL_RTS_ON = 11, CTL_RTS_OFF = 12,
	CTL_REQ_FLOW_IN = 13, CTL_FLOW_IN_NONE = 14, CTL_FLOW_IN_XONXOFF = 15,
	CTL_FLOW_IN_HW = 16, CTL_FLOW_DCD = 17, CTL_FLOW_DTR = 18, CTL_FLOW_DSR = 19,
};

/* NOTIFY-MODEMSTATE bits */
enum {
	MODEM_DELTA_CTS = 0x01, MODEM_DELTA_DSR = 0x02, MODEM_RI_TRAIL = 0x04,
	MODEM_DELTA_DCD = 0x08, MODEM_CTS = 0x10, MODEM_DSR = 0x20, MODEM_RI = 0x40,
	MODEM_DCD = 0x80,
};

/* PURGE-DATA values */
enum { PURGE_RX = 1, PURGE_TX = 2, PURGE_BOTH = 3 };

/* Longest signature text we keep; longer subnegotiations are ignored. */
#define TELNET_SB_MAX 128
/* Room for any subnegotiation this codec builds as an answer (the
 * longest is our signature; builders check room as 6 + 2 × value). */
#define TELNET_CPO_MAX 24

/* A COM-PORT-OPTION subnegotiation, already checked for our role. */
struct telnet_cpo {
	uint8_t cmd;              /* enum telnet_cpo_cmd (server codes less 100) */
	uint32_t value;           /* SET-BAUDRATE: bits/s; one-byte commands: the byte */
	const uint8_t *data;      /* the value bytes, unescaped (borrowed for the call) */
	size_t len;
};

struct telnet_cb {
	/* data bytes for the application (borrowed for the call) */
	void (*data)(void *arg, const uint8_t *p, size_t n);
	/* protocol bytes to send to the peer, in order with our data */
	void (*send)(void *arg, const uint8_t *p, size_t n);
	/* a COM-PORT-OPTION subnegotiation (may be NULL) */
	void (*cpo)(void *arg, const struct telnet_cpo *m);
};

struct telnet {
	bool server;              /* we are the access server (accept codes < 100) */
	uint8_t state;            /* parser state, private */
	uint8_t verb;             /* WILL/WONT/DO/DONT waiting for its option */
	uint8_t sb_opt;
	bool sb_overflow;
	bool last_cr;             /* non-binary mode: CR NUL → CR */
	uint16_t sb_len;
	uint8_t sb[TELNET_SB_MAX];
	uint8_t us[256], him[256];   /* Q-method states per option */
	const struct telnet_cb *cb;  /* borrowed */
	void *arg;
};

void telnet_init(struct telnet *t, bool server, const struct telnet_cb *cb, void *arg);

/* Ask for what our role wants: BINARY and SGA both ways; a client also
 * offers COM-PORT-OPTION, a server asks the client for it. */
void telnet_start(struct telnet *t);

/* Ask to enable/disable an option on our side (local: WILL/WONT) or the
 * peer's (DO/DONT). Does nothing if that is already the state or asked. */
void telnet_request(struct telnet *t, uint8_t opt, bool local, bool on);

/* Is the option on, on our side / the peer's side? */
bool telnet_local_on(const struct telnet *t, uint8_t opt);
bool telnet_remote_on(const struct telnet *t, uint8_t opt);

/* Feed bytes from the network. */
void telnet_input(struct telnet *t, const uint8_t *p, size_t n);

/* Escape data for sending: IAC → IAC IAC; while our BINARY is off, CR →
 * CR NUL (so CR LF stays CR LF). Writes at most cap bytes to out, never
 * splitting an escape; *used says how much of in was consumed. Returns the
 * bytes written. cap ≥ 2 always makes progress. */
size_t telnet_escape(const struct telnet *t, const uint8_t *in, size_t n, uint8_t *out,
		     size_t cap, size_t *used);

/* Build IAC SB COM-PORT-OPTION cmd(+100 if server) value IAC SE into out
 * (cap ≥ TELNET_CPO_MAX). Return the length, 0 if cap is too small. */
size_t telnet_cpo_build(uint8_t *out, size_t cap, bool server, uint8_t cmd,
			const uint8_t *val, size_t vlen);
size_t telnet_cpo_baud(uint8_t *out, size_t cap, bool server, uint32_t baud);
size_t telnet_cpo_byte(uint8_t *out, size_t cap, bool server, uint8_t cmd, uint8_t v);

/* ---- mapping to the port's line settings (pure helpers) ---- */

/* RFC 2217 parity code (1 none, 2 odd, 3 even, 4 mark, 5 space) ↔
 * enum port_parity; -1 for an unknown code / value. */
int telnet_parity_from_cpo(uint8_t v);
uint8_t telnet_parity_to_cpo(int parity);
/* stop size (1, 2; 3 = 1.5 is refused) ↔ stop bits */
int telnet_stop_from_cpo(uint8_t v);

/* A SET-* request from a client as a line_set (fields not asked for stay
 * STATE_NULL). Requests for the current value (0, REQ_*) ask nothing.
 * Returns 1 if it asks for a change, 0 if it only asks, -1 if the value is
 * one the port cannot take (answered with the value in effect). */
int telnet_cpo_to_line_set(const struct telnet_cpo *m, struct line_set *s);

/* The server's answer to m, from the values in effect (st). Values the
 * port cannot know (STATE_NULL) answer with what was asked, so a client
 * that waits for its answer always gets one. Returns the length written
 * (0: nothing to answer). */
size_t telnet_cpo_answer(const struct telnet_cpo *m, const struct port_state *st,
			 uint8_t *out, size_t cap);

/* NOTIFY-MODEMSTATE byte from the port's input lines (null lines are 0),
 * with the delta bits against the previous byte. */
uint8_t telnet_modemstate(const struct port_state *st, uint8_t prev);

#endif
