/* telnet — see telnet.h. The parser is a byte-at-a-time state machine
 * whose data runs are handed out as slices of the caller's buffer, so the
 * common case (no IAC) costs one callback per buffer. */
#include "telnet.h"
#include "port_config.h"

#include <string.h>

enum { S_DATA, S_IAC, S_OPT, S_SB_OPT, S_SB, S_SB_IAC };
/* RFC 1143 states */
enum { Q_NO, Q_YES, Q_WANTNO, Q_WANTYES };

void telnet_init(struct telnet *t, bool server, const struct telnet_cb *cb, void *arg)
{
	memset(t, 0, sizeof(*t));
	t->server = server;
	t->cb = cb;
	t->arg = arg;
}

static bool option_accepted(uint8_t opt)
{
	return opt == TELNET_OPT_BINARY || opt == TELNET_OPT_SGA || opt == TELNET_OPT_COM_PORT;
}

static void send_cmd(struct telnet *t, uint8_t verb, uint8_t opt)
{
	uint8_t b[3] = { TELNET_IAC, verb, opt };

	t->cb->send(t->arg, b, sizeof(b));
}

void telnet_request(struct telnet *t, uint8_t opt, bool local, bool on)
{
	uint8_t *q = local ? &t->us[opt] : &t->him[opt];

	if (on && *q == Q_NO) {
		*q = Q_WANTYES;
		send_cmd(t, local ? TELNET_WILL : TELNET_DO, opt);
	} else if (!on && *q == Q_YES) {
		*q = Q_WANTNO;
		send_cmd(t, local ? TELNET_WONT : TELNET_DONT, opt);
	}
}

void telnet_start(struct telnet *t)
{
	telnet_request(t, TELNET_OPT_BINARY, true, true);
	telnet_request(t, TELNET_OPT_BINARY, false, true);
	telnet_request(t, TELNET_OPT_SGA, true, true);
	telnet_request(t, TELNET_OPT_SGA, false, true);
	/* RFC 2217: the client offers (WILL), the access server agrees (DO) */
	telnet_request(t, TELNET_OPT_COM_PORT, !t->server, true);
}

bool telnet_local_on(const struct telnet *t, uint8_t opt)
{
	return t->us[opt] == Q_YES;
}

bool telnet_remote_on(const struct telnet *t, uint8_t opt)
{
	return t->him[opt] == Q_YES;
}

/* The peer said WILL/WONT (about itself: him) or DO/DONT (about us). */
static void negotiate(struct telnet *t, uint8_t verb, uint8_t opt)
{
	bool about_us = verb == TELNET_DO || verb == TELNET_DONT;
	bool yes = verb == TELNET_WILL || verb == TELNET_DO;
	uint8_t *q = about_us ? &t->us[opt] : &t->him[opt];
	uint8_t ok = about_us ? TELNET_WILL : TELNET_DO;
	uint8_t no = about_us ? TELNET_WONT : TELNET_DONT;

	switch (*q) {
	case Q_NO:
		if (!yes)
			break;
		if (option_accepted(opt)) {
			*q = Q_YES;
			send_cmd(t, ok, opt);
		} else {
			send_cmd(t, no, opt);
		}
		break;
	case Q_YES:
		if (!yes) {
			*q = Q_NO;
			send_cmd(t, no, opt);
		}
		break;
	case Q_WANTNO:
		*q = Q_NO;     /* a yes here is the peer's error: stay off */
		break;
	case Q_WANTYES:
		*q = yes ? Q_YES : Q_NO;
		break;
	}
}

/* ---- COM-PORT-OPTION subnegotiations ---------------------------------- */

/* Expected value length of a command, or -1 for any length (signature). */
static int cpo_value_len(uint8_t cmd)
{
	switch (cmd) {
	case CPO_SIGNATURE:
		return -1;
	case CPO_SET_BAUDRATE:
		return 4;
	case CPO_FLOW_SUSPEND:
	case CPO_FLOW_RESUME:
		return 0;
	default:
		return cmd <= CPO_PURGE_DATA ? 1 : -2;
	}
}

static void sb_done(struct telnet *t)
{
	struct telnet_cpo m;
	uint8_t cmd;
	int want;

	if (t->sb_overflow || t->sb_opt != TELNET_OPT_COM_PORT || t->sb_len < 1 || !t->cb->cpo)
		return;
	cmd = t->sb[0];
	if (t->server ? cmd >= CPO_SERVER_OFFSET : cmd < CPO_SERVER_OFFSET)
		return;         /* the wrong direction for our role */
	if (!t->server)
		cmd -= CPO_SERVER_OFFSET;
	want = cpo_value_len(cmd);
	/* a client may ask for the current line or modem state (empty) */
	if (t->server && t->sb_len == 1 &&
	    (cmd == CPO_NOTIFY_LINESTATE || cmd == CPO_NOTIFY_MODEMSTATE))
		want = 0;
	if (want == -2 || (want >= 0 && t->sb_len - 1 != want))
		return;
	m.cmd = cmd;
	m.data = t->sb + 1;
	m.len = t->sb_len - 1u;
	m.value = 0;
	for (size_t i = 0; i < m.len && i < 4; i++)
		m.value = m.value << 8 | m.data[i];
	t->cb->cpo(t->arg, &m);
}

static void sb_byte(struct telnet *t, uint8_t c)
{
	if (t->sb_len < TELNET_SB_MAX)
		t->sb[t->sb_len++] = c;
	else
		t->sb_overflow = true;
}

/* ---- the parser --------------------------------------------------------- */

/* One byte in state S_IAC: a command. */
static void on_command(struct telnet *t, uint8_t c)
{
	switch (c) {
	case TELNET_WILL:
	case TELNET_WONT:
	case TELNET_DO:
	case TELNET_DONT:
		t->verb = c;
		t->state = S_OPT;
		return;
	case TELNET_SB:
		t->state = S_SB_OPT;
		return;
	default:            /* NOP, DM, BRK, IP, AO, AYT, EC, EL, GA, stray SE */
		t->state = S_DATA;
		return;
	}
}

/* A byte inside a subnegotiation. */
static void on_sb(struct telnet *t, uint8_t c)
{
	switch (t->state) {
	case S_SB_OPT:
		t->sb_opt = c;
		t->sb_len = 0;
		t->sb_overflow = false;
		t->state = S_SB;
		break;
	case S_SB:
		if (c == TELNET_IAC)
			t->state = S_SB_IAC;
		else
			sb_byte(t, c);
		break;
	case S_SB_IAC:
		if (c == TELNET_IAC) {
			sb_byte(t, c);
			t->state = S_SB;
		} else if (c == TELNET_SE) {
			sb_done(t);
			t->state = S_DATA;
		} else {
			/* a command inside SB: the subnegotiation is broken;
			 * drop it and read the command as such */
			on_command(t, c);
		}
		break;
	}
}

void telnet_input(struct telnet *t, const uint8_t *p, size_t n)
{
	size_t run = 0;    /* start of the pending data slice */
	bool binary = telnet_remote_on(t, TELNET_OPT_BINARY);

	for (size_t i = 0; i < n; i++) {
		uint8_t c = p[i];

		if (t->state == S_DATA) {
			if (c == TELNET_IAC) {
				if (i > run)
					t->cb->data(t->arg, p + run, i - run);
				t->state = S_IAC;
				t->last_cr = false;
				run = i + 1;
			} else if (!binary && t->last_cr && c == 0) {
				if (i > run)
					t->cb->data(t->arg, p + run, i - run);
				t->last_cr = false;
				run = i + 1;        /* CR NUL: the NUL goes */
			} else {
				t->last_cr = c == '\r';
			}
			continue;
		}
		run = i + 1;
		switch (t->state) {
		case S_IAC:
			if (c == TELNET_IAC) {
				t->cb->data(t->arg, p + i, 1);
				t->state = S_DATA;
			} else {
				on_command(t, c);
			}
			break;
		case S_OPT:
			t->state = S_DATA;
			negotiate(t, t->verb, c);
			binary = telnet_remote_on(t, TELNET_OPT_BINARY);
			break;
		default:
			on_sb(t, c);
			break;
		}
	}
	if (t->state == S_DATA && n > run)
		t->cb->data(t->arg, p + run, n - run);
}

/* ---- output ------------------------------------------------------------- */

size_t telnet_escape(const struct telnet *t, const uint8_t *in, size_t n, uint8_t *out,
		     size_t cap, size_t *used)
{
	bool binary = telnet_local_on(t, TELNET_OPT_BINARY);
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		bool two = in[i] == TELNET_IAC || (!binary && in[i] == '\r');
		if (o + 1 + two > cap)
			break;
		out[o++] = in[i];
		if (two)
			out[o++] = in[i] == TELNET_IAC ? TELNET_IAC : 0;
	}
	*used = i;
	return o;
}

size_t telnet_cpo_build(uint8_t *out, size_t cap, bool server, uint8_t cmd,
			const uint8_t *val, size_t vlen)
{
	size_t o = 0;

	if (cap < 6 + 2 * vlen)
		return 0;
	out[o++] = TELNET_IAC;
	out[o++] = TELNET_SB;
	out[o++] = TELNET_OPT_COM_PORT;
	out[o++] = (uint8_t)(cmd + (server ? CPO_SERVER_OFFSET : 0));
	for (size_t i = 0; i < vlen; i++) {
		out[o++] = val[i];
		if (val[i] == TELNET_IAC)
			out[o++] = TELNET_IAC;
	}
	out[o++] = TELNET_IAC;
	out[o++] = TELNET_SE;
	return o;
}

size_t telnet_cpo_baud(uint8_t *out, size_t cap, bool server, uint32_t baud)
{
	uint8_t v[4] = { (uint8_t)(baud >> 24), (uint8_t)(baud >> 16), (uint8_t)(baud >> 8),
			 (uint8_t)baud };

	return telnet_cpo_build(out, cap, server, CPO_SET_BAUDRATE, v, 4);
}

size_t telnet_cpo_byte(uint8_t *out, size_t cap, bool server, uint8_t cmd, uint8_t v)
{
	return telnet_cpo_build(out, cap, server, cmd, &v, 1);
}

/* ---- mapping to line settings ---------------------------------------- */

int telnet_parity_from_cpo(uint8_t v)
{
	static const int map[] = { -1, PARITY_NONE, PARITY_ODD, PARITY_EVEN, PARITY_MARK,
				   PARITY_SPACE };

	return v < sizeof(map) / sizeof(map[0]) ? map[v] : -1;
}

uint8_t telnet_parity_to_cpo(int parity)
{
	switch (parity) {
	case PARITY_ODD: return 2;
	case PARITY_EVEN: return 3;
	case PARITY_MARK: return 4;
	case PARITY_SPACE: return 5;
	default: return 1;
	}
}

int telnet_stop_from_cpo(uint8_t v)
{
	return v == 1 || v == 2 ? v : -1;     /* 3 = 1.5 stop bits: no tty has it */
}

static uint8_t flow_code(int flow, uint8_t base)
{
	/* base: CTL_FLOW_NONE (outbound) or CTL_FLOW_IN_NONE (inbound) */
	return (uint8_t)(base + (flow == FLOW_XONXOFF ? 1 : flow == FLOW_RTSCTS ? 2 : 0));
}

static int control_to_line_set(uint8_t v, struct line_set *s)
{
	switch (v) {
	case CTL_FLOW_NONE: s->line.flow = FLOW_NONE; return 1;
	case CTL_FLOW_XONXOFF: s->line.flow = FLOW_XONXOFF; return 1;
	case CTL_FLOW_HW: s->line.flow = FLOW_RTSCTS; return 1;
	case CTL_DTR_ON: case CTL_DTR_OFF: s->dtr = v == CTL_DTR_ON; return 1;
	case CTL_RTS_ON: case CTL_RTS_OFF: s->rts = v == CTL_RTS_ON; return 1;
	case CTL_REQ_FLOW: case CTL_REQ_BREAK: case CTL_REQ_DTR: case CTL_REQ_RTS:
	case CTL_REQ_FLOW_IN:
		return 0;
	case CTL_BREAK_ON: case CTL_BREAK_OFF:
		return 0;       /* a break has a duration: the server times it */
	case CTL_FLOW_IN_NONE: case CTL_FLOW_IN_XONXOFF: case CTL_FLOW_IN_HW:
		return 0;       /* a tty has one flow setting, set outbound */
	default:
		return -1;      /* DCD/DTR/DSR flow and unknown codes */
	}
}

int telnet_cpo_to_line_set(const struct telnet_cpo *m, struct line_set *s)
{
	int v;

	*s = (struct line_set){ { STATE_NULL, STATE_NULL, STATE_NULL, STATE_NULL, STATE_NULL },
				STATE_NULL, STATE_NULL, 0, STATE_NULL, STATE_NULL, STATE_NULL,
				STATE_NULL, 0 };
	switch (m->cmd) {
	case CPO_SET_BAUDRATE:
		if (m->value == 0)
			return 0;
		if (m->value > 20000000)
			return -1;
		s->line.baud = m->value;
		return 1;
	case CPO_SET_DATASIZE:
		if (m->value == 0)
			return 0;
		if (m->value < 5 || m->value > 8)
			return -1;
		s->line.data_bits = (int)m->value;
		return 1;
	case CPO_SET_PARITY:
		if (m->value == 0)
			return 0;
		if ((v = telnet_parity_from_cpo((uint8_t)m->value)) < 0)
			return -1;
		s->line.parity = v;
		return 1;
	case CPO_SET_STOPSIZE:
		if (m->value == 0)
			return 0;
		if ((v = telnet_stop_from_cpo((uint8_t)m->value)) < 0)
			return -1;
		s->line.stop_bits = v;
		return 1;
	case CPO_SET_CONTROL:
		return control_to_line_set((uint8_t)m->value, s);
	default:
		return 0;
	}
}

/* The answer to SET-CONTROL v. */
static uint8_t control_answer(uint8_t v, const struct port_state *st)
{
	int flow = st->line.flow;

	if (v <= CTL_FLOW_HW || (v >= CTL_FLOW_DCD && v <= CTL_FLOW_DSR))
		return flow != STATE_NULL ? flow_code(flow, CTL_FLOW_NONE)
					  : (v >= CTL_FLOW_NONE && v <= CTL_FLOW_HW ? v : CTL_FLOW_NONE);
	if (v <= CTL_BREAK_OFF)
		return v == CTL_BREAK_ON ? CTL_BREAK_ON : CTL_BREAK_OFF;
	if (v <= CTL_DTR_OFF)
		return st->dtr != STATE_NULL ? (st->dtr ? CTL_DTR_ON : CTL_DTR_OFF)
					     : (v == CTL_DTR_ON ? CTL_DTR_ON : CTL_DTR_OFF);
	if (v <= CTL_RTS_OFF)
		return st->rts != STATE_NULL ? (st->rts ? CTL_RTS_ON : CTL_RTS_OFF)
					     : (v == CTL_RTS_ON ? CTL_RTS_ON : CTL_RTS_OFF);
	if (v <= CTL_FLOW_IN_HW)
		return flow != STATE_NULL ? flow_code(flow, CTL_FLOW_IN_NONE)
					  : (v == CTL_REQ_FLOW_IN ? CTL_FLOW_IN_NONE : v);
	return v;
}

static uint32_t or_asked(int64_t in_effect, uint32_t asked)
{
	return in_effect == STATE_NULL ? asked : (uint32_t)in_effect;
}

size_t telnet_cpo_answer(const struct telnet_cpo *m, const struct port_state *st,
			 uint8_t *out, size_t cap)
{
	static const uint8_t sig[] = "mqttty";
	const struct line_settings *l = &st->line;
	uint8_t v;

	switch (m->cmd) {
	case CPO_SIGNATURE:
		return m->len ? 0 : telnet_cpo_build(out, cap, true, m->cmd, sig, sizeof(sig) - 1);
	case CPO_SET_BAUDRATE:
		return telnet_cpo_baud(out, cap, true, or_asked(l->baud, m->value));
	case CPO_SET_DATASIZE:
		v = (uint8_t)or_asked(l->data_bits, m->value);
		break;
	case CPO_SET_PARITY:
		v = l->parity != STATE_NULL ? telnet_parity_to_cpo(l->parity) : (uint8_t)m->value;
		break;
	case CPO_SET_STOPSIZE:
		v = (uint8_t)or_asked(l->stop_bits, m->value);
		break;
	case CPO_SET_CONTROL:
		v = control_answer((uint8_t)m->value, st);
		break;
	case CPO_NOTIFY_LINESTATE:
		v = 0;          /* no line errors are known */
		break;
	case CPO_NOTIFY_MODEMSTATE:
		v = telnet_modemstate(st, 0) & 0xf0;
		break;
	case CPO_SET_LINESTATE_MASK:
	case CPO_SET_MODEMSTATE_MASK:
	case CPO_PURGE_DATA:
		v = (uint8_t)m->value;
		break;
	default:
		return 0;       /* flow control suspend/resume: no answer */
	}
	return telnet_cpo_byte(out, cap, true, m->cmd, v);
}

uint8_t telnet_modemstate(const struct port_state *st, uint8_t prev)
{
	uint8_t b = 0;

	if (st->cts == 1) b |= MODEM_CTS;
	if (st->dsr == 1) b |= MODEM_DSR;
	if (st->ri == 1) b |= MODEM_RI;
	if (st->dcd == 1) b |= MODEM_DCD;
	if ((b ^ prev) & MODEM_CTS) b |= MODEM_DELTA_CTS;
	if ((b ^ prev) & MODEM_DSR) b |= MODEM_DELTA_DSR;
	if ((b ^ prev) & MODEM_DCD) b |= MODEM_DELTA_DCD;
	if ((prev & MODEM_RI) && !(b & MODEM_RI)) b |= MODEM_RI_TRAIL;
	return b;
}
