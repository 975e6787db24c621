/* port_rfc2217 — see port_rfc2217.h. The RFC 2217 client: connect (with
 * backoff, forever), negotiate, ask for the port's line settings and
 * DTR/RTS with SET-*, then bridge data like a device port.
 *
 * State: `open` while connected. Line settings show what we asked at once
 * and what the server answers when it does; DTR/RTS only from answers and
 * CTS/DSR/DCD/RI only from NOTIFY-MODEMSTATE, so a server that cannot
 * tell (ser2net in front of a pty does not answer SET-CONTROL) leaves
 * them null. Nothing ever waits for an answer: one that does not come
 * within ANSWER_MS is logged once per connection and the port carries on. */
#include "port_rfc2217.h"
#include "telnet.h"
#include "tcp_out.h"
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RETRY_MIN_MS 250
#define RETRY_MAX_MS 5000
#define ANSWER_MS 3000
#define READ_BUF 16384

enum conn { C_IDLE, C_RESOLVING, C_CONNECTING, C_UP, C_CLOSING };

/* pending answers: one bit per SET-* command, SET-CONTROL split by group */
enum { P_BAUD = 1 << 1, P_DATA = 1 << 2, P_PARITY = 1 << 3, P_STOP = 1 << 4,
       P_FLOW = 1 << 5, P_DTR = 1 << 6, P_RTS = 1 << 7 };

struct rfc_port {
	struct port base;
	uv_tcp_t tcp;
	uv_connect_t conn;
	uv_getaddrinfo_t gai;
	uv_timer_t retry, answer, brk;
	int handles;                /* uv handles and requests not yet done */
	enum conn cs;
	bool paused, destroyed, configured, timeout_logged, tcp_closing;
	bool warned;                /* "cannot connect" logged for this outage */
	bool flapping;              /* the server keeps closing at once: quiet */
	unsigned retry_ms, pending;
	uint64_t up_since;          /* loop time of the last connect */
	char host[RFC2217_HOST_MAX + 1], service[6];
	struct telnet tn;
	struct tcp_out out;
	uint8_t rbuf[READ_BUF];
};

static void rfc_connect(struct rfc_port *r);

/* ---- the URL ------------------------------------------------------------ */

int port_rfc2217_parse_url(const char *url, char *host, char *service, char *err,
			   size_t errlen)
{
	static const char scheme[] = "rfc2217://";
	const char *h = url + sizeof(scheme) - 1, *colon, *hend;
	char *end;
	long port;
	bool bracket;

	if (strncmp(url, scheme, sizeof(scheme) - 1) != 0)
		goto bad;
	bracket = *h == '[';
	if (bracket) {
		hend = strchr(h, ']');
		if (!hend || hend[1] != ':')
			goto bad;
		colon = hend + 1;
		h++;
	} else {
		colon = strrchr(h, ':');
		hend = colon;
	}
	if (!colon || hend == h || (size_t)(hend - h) > RFC2217_HOST_MAX)
		goto bad;
	port = strtol(colon + 1, &end, 10);
	if (*end || end == colon + 1 || port < 1 || port > 65535)
		goto bad;
	memcpy(host, h, (size_t)(hend - h));
	host[hend - h] = '\0';
	/* an IPv6 address only in brackets, so HOST:PORT is never ambiguous */
	if (strpbrk(host, "/?#@[] ") || (!bracket && strchr(host, ':')) ||
	    (bracket && !strchr(host, ':')))
		goto bad;
	snprintf(service, 6, "%ld", port);
	return 0;
bad:
	snprintf(err, errlen, "an rfc2217 port's device must be \"rfc2217://HOST:PORT\", "
		 "not \"%.80s\"", url);
	return -1;
}

/* ---- handles ------------------------------------------------------------- */

static void rfc_maybe_free(struct rfc_port *r)
{
	if (r->destroyed && r->handles == 0) {
		tcp_out_free(&r->out);
		free(r);
	}
}

static void on_closed(uv_handle_t *h)
{
	struct rfc_port *r = h->data;

	if (h == (uv_handle_t *)&r->tcp)
		r->tcp_closing = false;
	r->handles--;
	rfc_maybe_free(r);
}

static void emit_state(struct rfc_port *r)
{
	if (!r->destroyed)
		r->base.ev->state(r->base.owner);
}

static void on_retry(uv_timer_t *t)
{
	rfc_connect(t->data);
}

static void schedule_retry(struct rfc_port *r)
{
	uv_timer_start(&r->retry, on_retry, r->retry_ms, 0);
	r->retry_ms = r->retry_ms * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : r->retry_ms * 2;
}

static void close_tcp(struct rfc_port *r)
{
	if (r->cs != C_CONNECTING && r->cs != C_UP)
		return;
	tcp_out_detach(&r->out);
	uv_read_stop((uv_stream_t *)&r->tcp);
	uv_close((uv_handle_t *)&r->tcp, on_closed);
	r->tcp_closing = true;
	r->cs = C_CLOSING;
	uv_timer_stop(&r->answer);
	uv_timer_stop(&r->brk);
}

/* Connecting failed, or the connection went: retry with backoff. */
static void rfc_failed(struct rfc_port *r, const char *what, const char *why)
{
	struct port_state *st = &r->base.state;
	bool was_up = r->cs == C_UP;
	uint64_t tx = st->tx_bytes, rx = st->rx_bytes, dropped = st->dropped;

	close_tcp(r);
	r->cs = C_IDLE;
	if (was_up) {
		/* a server that closes at once (busy, refusing) is retried with
		 * growing backoff and logged once, not 4 times a second */
		bool brief = uv_now(r->base.env->loop) - r->up_since < RETRY_MAX_MS;

		if (!brief || !r->flapping)
			log_warn("port %s: %s closed: %s; reconnecting", r->base.cfg.name,
				 r->base.cfg.device, why);
		if (!brief)
			r->retry_ms = RETRY_MIN_MS;
		r->flapping = brief;
		port_state_init(st);          /* counters survive the outage */
		st->tx_bytes = tx;
		st->rx_bytes = rx;
		st->dropped = dropped;
		emit_state(r);
	} else if (!r->warned) {
		log_warn("port %s: cannot %s %s (%s); retrying", r->base.cfg.name, what,
			 r->base.cfg.device, why);
		r->warned = true;
	}
	schedule_retry(r);
}

/* ---- asking the server ---------------------------------------------------- */

static void put(struct rfc_port *r, const uint8_t *p, size_t n)
{
	if (r->cs == C_UP && n && tcp_out_put(&r->out, p, n, r->base.env->rx_limit) < 0)
		rfc_failed(r, "write to", "the server does not read");
}

static void ask_byte(struct rfc_port *r, uint8_t cmd, uint8_t v, unsigned bit)
{
	uint8_t b[TELNET_CPO_MAX];

	put(r, b, telnet_cpo_byte(b, sizeof(b), false, cmd, v));
	r->pending |= bit;
}

static void on_break_end(uv_timer_t *t)
{
	struct rfc_port *r = t->data;

	ask_byte(r, CPO_SET_CONTROL, CTL_BREAK_OFF, 0);
}

static void configure(struct rfc_port *r);

static const char *pending_names(unsigned p, char *buf, size_t n)
{
	static const struct { unsigned bit; const char *name; } names[] = {
		{ P_BAUD, "SET-BAUDRATE" }, { P_DATA, "SET-DATASIZE" }, { P_PARITY, "SET-PARITY" },
		{ P_STOP, "SET-STOPSIZE" }, { P_FLOW, "SET-CONTROL (flow)" },
		{ P_DTR, "SET-CONTROL (DTR)" }, { P_RTS, "SET-CONTROL (RTS)" },
	};
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if ((p & names[i].bit) && o < n)
			o += (size_t)snprintf(buf + o, n - o, "%s%s", o ? ", " : "", names[i].name);
	return buf;
}

/* Either the server never agreed to COM-PORT-OPTION (ask anyway), or some
 * answers did not come (say so once, carry on with what we asked). */
static void on_answer_timer(uv_timer_t *t)
{
	struct rfc_port *r = t->data;
	char names[160];

	if (r->cs != C_UP)
		return;
	if (!r->configured) {
		log_warn("port %s: %s did not agree to COM-PORT-OPTION; sending the settings "
			 "anyway", r->base.cfg.name, r->base.cfg.device);
		configure(r);
		return;
	}
	if (r->pending && !r->timeout_logged) {
		log_warn("port %s: %s did not answer %s within %d ms; carrying on (a server "
			 "without modem lines may never answer SET-CONTROL)", r->base.cfg.name,
			 r->base.cfg.device, pending_names(r->pending, names, sizeof(names)),
			 ANSWER_MS);
		r->timeout_logged = true;
	}
	r->pending = 0;
}

/* Send what s asks for; line settings show in state at once (answers
 * correct them), modem outputs only once answered. */
static void ask(struct rfc_port *r, const struct line_set *s)
{
	const struct line_settings *l = &s->line;
	uint8_t b[TELNET_CPO_MAX];

	if (l->baud != STATE_NULL) {
		put(r, b, telnet_cpo_baud(b, sizeof(b), false, (uint32_t)l->baud));
		r->pending |= P_BAUD;
	}
	if (l->data_bits != STATE_NULL)
		ask_byte(r, CPO_SET_DATASIZE, (uint8_t)l->data_bits, P_DATA);
	if (l->parity != STATE_NULL)
		ask_byte(r, CPO_SET_PARITY, telnet_parity_to_cpo(l->parity), P_PARITY);
	if (l->stop_bits != STATE_NULL)
		ask_byte(r, CPO_SET_STOPSIZE, (uint8_t)l->stop_bits, P_STOP);
	if (l->flow != STATE_NULL)
		ask_byte(r, CPO_SET_CONTROL, l->flow == FLOW_RTSCTS ? CTL_FLOW_HW
					     : l->flow == FLOW_XONXOFF ? CTL_FLOW_XONXOFF
					     : CTL_FLOW_NONE, P_FLOW);
	if (s->dtr != STATE_NULL)
		ask_byte(r, CPO_SET_CONTROL, s->dtr ? CTL_DTR_ON : CTL_DTR_OFF, P_DTR);
	if (s->rts != STATE_NULL)
		ask_byte(r, CPO_SET_CONTROL, s->rts ? CTL_RTS_ON : CTL_RTS_OFF, P_RTS);
	if (s->break_ms) {
		ask_byte(r, CPO_SET_CONTROL, CTL_BREAK_ON, 0);
		uv_timer_start(&r->brk, on_break_end, (uint64_t)s->break_ms, 0);
	}
	line_set_merge(s, &r->base.state.line);
	if (r->pending)
		uv_timer_start(&r->answer, on_answer_timer, ANSWER_MS, 0);
}

/* The port's configured settings, right after the server agreed. */
static void configure(struct rfc_port *r)
{
	const struct port_config *c = &r->base.cfg;
	struct line_set s = {
		.line = { c->baud, c->data_bits, c->parity, c->stop_bits, c->flow },
		.dtr = c->dtr, .rts = c->rts,
		.cts = STATE_NULL, .dsr = STATE_NULL, .dcd = STATE_NULL, .ri = STATE_NULL,
	};

	r->configured = true;
	ask(r, &s);
	emit_state(r);
}

/* ---- what the server says -------------------------------------------------- */

static void on_modemstate(struct rfc_port *r, uint8_t v)
{
	struct port_state *st = &r->base.state;

	st->cts = !!(v & MODEM_CTS);
	st->dsr = !!(v & MODEM_DSR);
	st->dcd = !!(v & MODEM_DCD);
	st->ri = !!(v & MODEM_RI);
}

static void on_control(struct rfc_port *r, uint8_t v)
{
	struct port_state *st = &r->base.state;

	if (v >= CTL_FLOW_NONE && v <= CTL_FLOW_HW) {
		st->line.flow = v == CTL_FLOW_HW ? FLOW_RTSCTS : v == CTL_FLOW_XONXOFF ? FLOW_XONXOFF
											: FLOW_NONE;
		r->pending &= ~(unsigned)P_FLOW;
	} else if (v == CTL_DTR_ON || v == CTL_DTR_OFF) {
		st->dtr = v == CTL_DTR_ON;
		r->pending &= ~(unsigned)P_DTR;
	} else if (v == CTL_RTS_ON || v == CTL_RTS_OFF) {
		st->rts = v == CTL_RTS_ON;
		r->pending &= ~(unsigned)P_RTS;
	}
}

static void on_cpo(void *arg, const struct telnet_cpo *m)
{
	struct rfc_port *r = arg;
	struct line_settings *l = &r->base.state.line;
	struct port_state before = r->base.state;
	int v;

	switch (m->cmd) {
	case CPO_SET_BAUDRATE:
		if (m->value)
			l->baud = m->value;
		break;
	case CPO_SET_DATASIZE:
		if (m->value >= 5 && m->value <= 8)
			l->data_bits = (int)m->value;
		break;
	case CPO_SET_PARITY:
		if ((v = telnet_parity_from_cpo((uint8_t)m->value)) >= 0)
			l->parity = v;
		break;
	case CPO_SET_STOPSIZE:
		if ((v = telnet_stop_from_cpo((uint8_t)m->value)) >= 0)
			l->stop_bits = v;
		break;
	case CPO_SET_CONTROL:
		on_control(r, (uint8_t)m->value);
		break;
	case CPO_NOTIFY_MODEMSTATE:
		on_modemstate(r, (uint8_t)m->value);
		break;
	case CPO_FLOW_SUSPEND:
	case CPO_FLOW_RESUME:
		tcp_out_hold(&r->out, m->cmd == CPO_FLOW_SUSPEND);
		break;
	default:                /* signature, line state, masks, purge */
		break;
	}
	if (m->cmd >= CPO_SET_BAUDRATE && m->cmd <= CPO_SET_STOPSIZE)
		r->pending &= ~(1u << m->cmd);
	if (port_state_lines_differ(&before, &r->base.state))
		emit_state(r);
}

static void on_tn_data(void *arg, const uint8_t *p, size_t n)
{
	struct rfc_port *r = arg;

	if (r->cs != C_UP)
		return;
	r->base.state.tx_bytes += n;
	r->base.ev->data(r->base.owner, p, n);
}

static void on_tn_send(void *arg, const uint8_t *p, size_t n)
{
	put(arg, p, n);
}

static const struct telnet_cb tn_cb = { on_tn_data, on_tn_send, on_cpo };

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct rfc_port *r = h->data;

	(void)suggested;
	*buf = uv_buf_init((char *)r->rbuf, sizeof(r->rbuf));
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct rfc_port *r = s->data;

	if (n < 0) {
		rfc_failed(r, "read", n == UV_EOF ? "closed by the server" : uv_strerror((int)n));
		return;
	}
	if (n == 0 || r->cs != C_UP)
		return;
	telnet_input(&r->tn, (const uint8_t *)buf->base, (size_t)n);
	if (r->cs != C_UP)
		return;
	if (!r->configured && telnet_local_on(&r->tn, TELNET_OPT_COM_PORT))
		configure(r);
	r->base.ev->drained(r->base.owner);
}

/* Backpressure is TCP's (we stop reading); the server is also told, with
 * FLOWCONTROL-SUSPEND/RESUME, so it can hold the device's data itself. */
static void tell_flow(struct rfc_port *r)
{
	uint8_t b[TELNET_CPO_MAX];

	put(r, b, telnet_cpo_build(b, sizeof(b), false, r->paused ? CPO_FLOW_SUSPEND
								    : CPO_FLOW_RESUME, NULL, 0));
}

static void update_reading(struct rfc_port *r)
{
	if (r->cs != C_UP)
		return;
	if (r->paused)
		uv_read_stop((uv_stream_t *)&r->tcp);
	else
		uv_read_start((uv_stream_t *)&r->tcp, on_alloc, on_read);
}

/* ---- connecting ----------------------------------------------------------- */

static void on_connect(uv_connect_t *req, int status)
{
	struct rfc_port *r = req->data;

	if (r->destroyed || r->cs != C_CONNECTING)
		return;         /* cancelled by destroy or a failure */
	if (status < 0) {
		rfc_failed(r, "connect to", uv_strerror(status));
		return;
	}
	r->cs = C_UP;
	r->warned = r->configured = r->timeout_logged = false;
	r->pending = 0;
	r->up_since = uv_now(r->base.env->loop);
	uv_tcp_nodelay(&r->tcp, 1);
	telnet_init(&r->tn, false, &tn_cb, r);
	tcp_out_attach(&r->out, (uv_stream_t *)&r->tcp);
	r->base.state.open = true;
	if (!r->flapping)
		log_info("port %s: %s connected", r->base.cfg.name, r->base.cfg.device);
	telnet_start(&r->tn);
	update_reading(r);
	if (r->paused)
		tell_flow(r);
	/* settings go once the server agrees to COM-PORT-OPTION, or anyway
	 * after ANSWER_MS */
	uv_timer_start(&r->answer, on_answer_timer, ANSWER_MS, 0);
	emit_state(r);
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *ai)
{
	struct rfc_port *r = req->data;
	int rc;

	r->handles--;
	if (r->destroyed) {
		uv_freeaddrinfo(ai);
		rfc_maybe_free(r);
		return;
	}
	r->cs = C_IDLE;
	if (status < 0) {
		rfc_failed(r, "resolve", uv_strerror(status));
		return;
	}
	uv_tcp_init(r->base.env->loop, &r->tcp);
	r->tcp.data = r;
	r->handles++;
	r->cs = C_CONNECTING;
	r->conn.data = r;
	rc = uv_tcp_connect(&r->conn, &r->tcp, ai->ai_addr, on_connect);
	uv_freeaddrinfo(ai);
	if (rc < 0)
		rfc_failed(r, "connect to", uv_strerror(rc));
}

static void rfc_connect(struct rfc_port *r)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	int rc;

	if (r->destroyed || r->cs != C_IDLE)
		return;
	if (r->tcp_closing) {        /* the old handle is still closing */
		uv_timer_start(&r->retry, on_retry, 10, 0);
		return;
	}
	r->gai.data = r;
	r->cs = C_RESOLVING;
	if ((rc = uv_getaddrinfo(r->base.env->loop, &r->gai, on_resolved, r->host, r->service,
				 &hints)) < 0) {
		r->cs = C_IDLE;
		rfc_failed(r, "resolve", uv_strerror(rc));
		return;
	}
	r->handles++;
}

/* ---- ops ------------------------------------------------------------------- */

static int rfc_start(struct port *base, char *err, size_t errlen)
{
	struct rfc_port *r = (struct rfc_port *)base;
	uv_loop_t *loop = base->env->loop;

	if (port_rfc2217_parse_url(base->cfg.device, r->host, r->service, err, errlen) < 0)
		return -1;
	uv_timer_init(loop, &r->retry);
	uv_timer_init(loop, &r->answer);
	uv_timer_init(loop, &r->brk);
	r->retry.data = r->answer.data = r->brk.data = r;
	r->handles = 3;
	r->retry_ms = RETRY_MIN_MS;
	rfc_connect(r);     /* a server that is not up yet is retried, not an error */
	return 0;
}

static void rfc_write(struct port *base, const uint8_t *data, size_t n)
{
	struct rfc_port *r = (struct rfc_port *)base;
	size_t took = 0;

	if (r->cs == C_UP)
		took = tcp_out_data(&r->out, &r->tn, data, n, base->env->rx_limit);
	base->state.rx_bytes += took;
	base->state.dropped += n - took;
}

static void rfc_pause(struct port *base, bool paused)
{
	struct rfc_port *r = (struct rfc_port *)base;

	if (r->paused == paused)
		return;
	r->paused = paused;
	update_reading(r);
	tell_flow(r);
}

static int rfc_set(struct port *base, const struct line_set *s, char *err, size_t errlen)
{
	struct rfc_port *r = (struct rfc_port *)base;

	if (line_set_has_inputs(s)) {
		snprintf(err, errlen, "cts, dsr, dcd and ri are what the device reports; "
			 "set cannot change them on an rfc2217 port");
		return -1;
	}
	if (r->cs != C_UP) {
		snprintf(err, errlen, "%s is not connected", base->cfg.device);
		return -1;
	}
	ask(r, s);
	emit_state(r);
	return 0;
}

static void rfc_destroy(struct port *base)
{
	struct rfc_port *r = (struct rfc_port *)base;

	r->destroyed = true;
	if (r->handles == 0) {        /* never started */
		rfc_maybe_free(r);
		return;
	}
	if (r->cs == C_RESOLVING)
		uv_cancel((uv_req_t *)&r->gai);
	close_tcp(r);
	uv_close((uv_handle_t *)&r->retry, on_closed);
	uv_close((uv_handle_t *)&r->answer, on_closed);
	uv_close((uv_handle_t *)&r->brk, on_closed);
}

static const char *rfc_path(const struct port *base)
{
	(void)base;
	return NULL;
}

static const struct port_ops rfc_ops = {
	.start = rfc_start,
	.write = rfc_write,
	.pause = rfc_pause,
	.destroy = rfc_destroy,
	.path = rfc_path,
	.set = rfc_set,
};

struct port *port_rfc2217_new(const struct port_config *cfg, const struct port_env *env,
			      const struct port_events *ev, void *owner)
{
	struct rfc_port *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	port_base_init(&r->base, &rfc_ops, cfg, env, ev, owner);
	tcp_out_init(&r->out);
	return &r->base;
}
