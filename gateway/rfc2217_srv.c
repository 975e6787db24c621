/* rfc2217_srv — see rfc2217_srv.h. One listener, at most one client; the
 * Telnet codec does the protocol, tcp_out the ordered bounded writes. */
#include "rfc2217_srv.h"
#include "telnet.h"
#include "tcp_out.h"
#include "log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_BREAK_MS 10000
#define READ_BUF 16384
#define IN_USE_MSG "mqttty: this port is in use by another RFC 2217 client; try again later\r\n"

enum cl_state { CL_NONE, CL_OPEN, CL_CLOSING };

struct rfc2217_srv {
	uv_loop_t *loop;                /* borrowed */
	uv_tcp_t listener, client;
	enum cl_state cl;
	int handles;                    /* uv handles not yet closed */
	bool closing, paused, break_on;
	uint64_t break_since;
	char name[64];
	char peer[64];                  /* the client's address, for logs */
	size_t rx_limit;
	const struct rfc2217_srv_events *ev;   /* borrowed */
	void *owner;
	struct telnet tn;
	struct tcp_out out;
	struct port_state st;           /* last state from the owner */
	uint8_t modem_mask, modem_sent;
	uint8_t rbuf[READ_BUF];
};

/* ---- addresses ---------------------------------------------------------- */

int rfc2217_srv_addr_parse(const char *s, struct sockaddr_storage *ss, bool *loopback,
			   char *err, size_t errlen)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	size_t hl = colon ? (size_t)(colon - s) : 0;
	char *end;
	long port;

	memset(ss, 0, sizeof(*ss));
	if (!colon || hl == 0 || hl >= sizeof(host))
		goto bad;
	port = strtol(colon + 1, &end, 10);
	if (*end || end == colon + 1 || port < 1 || port > 65535)
		goto bad;
	if (s[0] == '[' && hl > 2 && s[hl - 1] == ']') {
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
		memcpy(host, s + 1, hl - 2);
		host[hl - 2] = '\0';
		if (uv_ip6_addr(host, (int)port, a6) < 0)
			goto bad;
		*loopback = memcmp(&a6->sin6_addr, &in6addr_loopback, sizeof(in6addr_loopback)) == 0;
		return 0;
	}
	memcpy(host, s, hl);
	host[hl] = '\0';
	if (strcmp(host, "localhost") == 0)
		strcpy(host, "127.0.0.1");
	if (uv_ip4_addr(host, (int)port, (struct sockaddr_in *)ss) < 0)
		goto bad;
	*loopback = (ntohl(((struct sockaddr_in *)ss)->sin_addr.s_addr) >> 24) == 127;
	return 0;
bad:
	snprintf(err, errlen, "rfc2217 must be \"ADDR:PORT\" (an IPv4 address or [IPv6], "
		 "port 1-65535), not \"%.64s\"", s);
	return -1;
}

/* ---- client life ------------------------------------------------------- */

static void on_closed(uv_handle_t *h)
{
	struct rfc2217_srv *s = h->data;

	if (h == (uv_handle_t *)&s->client)
		s->cl = CL_NONE;
	if (--s->handles == 0 && s->closing) {
		tcp_out_free(&s->out);
		free(s);
	}
}

static void drop_client(struct rfc2217_srv *s, const char *why)
{
	if (s->cl != CL_OPEN)
		return;
	s->cl = CL_CLOSING;
	tcp_out_detach(&s->out);
	uv_read_stop((uv_stream_t *)&s->client);
	uv_close((uv_handle_t *)&s->client, on_closed);
	log_info("port %s: RFC 2217 client %s left (%s)", s->name, s->peer, why);
	if (!s->closing)
		s->ev->open(s->owner, false);
}

static void send_proto(struct rfc2217_srv *s, const uint8_t *p, size_t n)
{
	if (s->cl == CL_OPEN && tcp_out_put(&s->out, p, n, s->rx_limit) < 0)
		drop_client(s, "it does not read what it is sent");
}

static void notify_modem(struct rfc2217_srv *s, bool initial)
{
	uint8_t prev = s->modem_sent, b = telnet_modemstate(&s->st, prev), m[TELNET_CPO_MAX];
	const struct port_state *st = &s->st;
	bool known = st->cts != STATE_NULL || st->dsr != STATE_NULL || st->dcd != STATE_NULL ||
		     st->ri != STATE_NULL;

	if (initial)
		b &= 0xf0;              /* a first report: no deltas */
	s->modem_sent = b & 0xf0;
	/* a masked line moved (RI's rise has no delta bit of its own) */
	if (!known || (!initial && !((((b ^ prev) & 0xf0) | (b & 0x0f)) & s->modem_mask)))
		return;
	send_proto(s, m, telnet_cpo_byte(m, sizeof(m), true, CPO_NOTIFY_MODEMSTATE,
					 b & s->modem_mask));
}

/* ---- COM-PORT-OPTION requests ------------------------------------------ */

static void set_port(struct rfc2217_srv *s, const struct line_set *ls)
{
	struct port_state now = s->st;

	s->ev->set(s->owner, ls, &now);
	s->st = now;
}

/* BREAK ON starts a timed break, BREAK OFF ends it: the port gets the
 * break with its length once it is over. */
static void on_break(struct rfc2217_srv *s, uint8_t v)
{
	struct line_set ls = {
		.line = { STATE_NULL, STATE_NULL, STATE_NULL, STATE_NULL, STATE_NULL },
		.dtr = STATE_NULL, .rts = STATE_NULL,
		.cts = STATE_NULL, .dsr = STATE_NULL, .dcd = STATE_NULL, .ri = STATE_NULL,
	};
	uint64_t now = (uv_update_time(s->loop), uv_now(s->loop)), ms;

	if (v == CTL_BREAK_ON && !s->break_on) {
		s->break_on = true;
		s->break_since = now;
	} else if (v == CTL_BREAK_OFF && s->break_on) {
		s->break_on = false;
		ms = now - s->break_since;
		ls.break_ms = ms < 1 ? 1 : ms > MAX_BREAK_MS ? MAX_BREAK_MS : (int)ms;
		set_port(s, &ls);
	}
}

static void on_cpo(void *arg, const struct telnet_cpo *m)
{
	struct rfc2217_srv *s = arg;
	uint8_t out[TELNET_CPO_MAX];
	struct line_set ls;
	int rc;

	if (s->cl != CL_OPEN)
		return;
	switch (m->cmd) {
	case CPO_FLOW_SUSPEND:
	case CPO_FLOW_RESUME:
		tcp_out_hold(&s->out, m->cmd == CPO_FLOW_SUSPEND);
		return;
	case CPO_SET_MODEMSTATE_MASK:
		s->modem_mask = (uint8_t)m->value;
		break;
	case CPO_PURGE_DATA:
		/* what is queued toward the client is in the TCP stream already
		 * (it cannot be taken back); the port's pending tx can go */
		if ((m->value & PURGE_TX) && s->ev->purge_tx)
			s->ev->purge_tx(s->owner);
		break;
	case CPO_SIGNATURE:
		if (m->len)
			log_info("port %s: RFC 2217 client says it is \"%.*s\"", s->name,
				 (int)m->len, (const char *)m->data);
		break;
	case CPO_SET_CONTROL:
		if (m->value == CTL_BREAK_ON || m->value == CTL_BREAK_OFF)
			on_break(s, (uint8_t)m->value);
		break;
	}
	rc = telnet_cpo_to_line_set(m, &ls);
	if (rc > 0)
		set_port(s, &ls);
	else if (rc < 0)
		log_debug("port %s: RFC 2217 command %u value %u cannot be applied; answered "
			  "with the value in effect", s->name, m->cmd, (unsigned)m->value);
	if (s->cl == CL_OPEN)
		send_proto(s, out, telnet_cpo_answer(m, &s->st, out, sizeof(out)));
}

static void on_tn_data(void *arg, const uint8_t *p, size_t n)
{
	struct rfc2217_srv *s = arg;

	if (s->cl == CL_OPEN)
		s->ev->data(s->owner, p, n);
}

static void on_tn_send(void *arg, const uint8_t *p, size_t n)
{
	send_proto(arg, p, n);
}

static const struct telnet_cb tn_cb = { on_tn_data, on_tn_send, on_cpo };

/* ---- reading ------------------------------------------------------------ */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct rfc2217_srv *s = h->data;

	(void)suggested;
	*buf = uv_buf_init((char *)s->rbuf, sizeof(s->rbuf));
}

static void on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
	struct rfc2217_srv *s = st->data;

	if (n < 0) {
		drop_client(s, n == UV_EOF ? "closed" : uv_strerror((int)n));
		return;
	}
	if (n == 0)
		return;
	telnet_input(&s->tn, (const uint8_t *)buf->base, (size_t)n);
	if (s->cl == CL_OPEN && s->ev->drained)
		s->ev->drained(s->owner);
}

static void update_reading(struct rfc2217_srv *s)
{
	if (s->cl != CL_OPEN)
		return;
	if (s->paused)
		uv_read_stop((uv_stream_t *)&s->client);
	else
		uv_read_start((uv_stream_t *)&s->client, on_alloc, on_read);
}

/* ---- accepting ---------------------------------------------------------- */

static void tell_flow(struct rfc2217_srv *s);

static void on_refused_closed(uv_handle_t *h)
{
	free(h);
}

/* One client at a time: a second one is told so and closed. */
static void refuse(struct rfc2217_srv *s)
{
	uv_tcp_t *t = malloc(sizeof(*t));
	uv_buf_t b = uv_buf_init((char *)IN_USE_MSG, sizeof(IN_USE_MSG) - 1);

	if (!t)
		return;
	uv_tcp_init(s->loop, t);
	if (uv_accept((uv_stream_t *)&s->listener, (uv_stream_t *)t) == 0)
		uv_try_write((uv_stream_t *)t, &b, 1);
	uv_close((uv_handle_t *)t, on_refused_closed);
	log_info("port %s: a second RFC 2217 client was refused (one at a time)", s->name);
}

static void name_peer(struct rfc2217_srv *s)
{
	struct sockaddr_storage ss;
	int len = sizeof(ss);
	char ip[48] = "?";

	if (uv_tcp_getpeername(&s->client, (struct sockaddr *)&ss, &len) == 0)
		uv_ip_name((struct sockaddr *)&ss, ip, sizeof(ip));
	snprintf(s->peer, sizeof(s->peer), "%s", ip);
}

static void on_connection(uv_stream_t *l, int status)
{
	struct rfc2217_srv *s = l->data;

	if (status < 0 || s->closing) {
		log_warn("port %s: RFC 2217 accept: %s", s->name, uv_strerror(status));
		return;
	}
	if (s->cl != CL_NONE) {
		refuse(s);
		return;
	}
	uv_tcp_init(s->loop, &s->client);
	s->client.data = s;
	s->handles++;
	s->cl = CL_OPEN;
	if (uv_accept(l, (uv_stream_t *)&s->client) < 0) {
		s->cl = CL_CLOSING;
		uv_close((uv_handle_t *)&s->client, on_closed);
		return;
	}
	uv_tcp_nodelay(&s->client, 1);
	name_peer(s);
	telnet_init(&s->tn, true, &tn_cb, s);
	tcp_out_attach(&s->out, (uv_stream_t *)&s->client);
	s->modem_mask = 0xff;           /* RFC 2217's default */
	s->modem_sent = 0;
	s->break_on = false;
	log_info("port %s: RFC 2217 client %s connected", s->name, s->peer);
	telnet_start(&s->tn);
	update_reading(s);
	if (s->paused)
		tell_flow(s);
	s->ev->open(s->owner, true);
	if (s->cl == CL_OPEN)
		notify_modem(s, true);
}

/* ---- the owner's side ---------------------------------------------------- */

int rfc2217_srv_start(uv_loop_t *loop, const char *addr, const char *name, size_t rx_limit,
		      const struct rfc2217_srv_events *ev, void *owner,
		      struct rfc2217_srv **out, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	struct rfc2217_srv *s;
	bool loopback;
	int rc;

	if (rfc2217_srv_addr_parse(addr, &ss, &loopback, err, errlen) < 0)
		return -EINVAL;
	if (!(s = calloc(1, sizeof(*s)))) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	s->loop = loop;
	s->ev = ev;
	s->owner = owner;
	s->rx_limit = rx_limit;
	snprintf(s->name, sizeof(s->name), "%s", name);
	port_state_init(&s->st);
	tcp_out_init(&s->out);
	uv_tcp_init(loop, &s->listener);
	s->listener.data = s;
	s->handles = 1;
	if ((rc = uv_tcp_bind(&s->listener, (struct sockaddr *)&ss, 0)) < 0 ||
	    (rc = uv_listen((uv_stream_t *)&s->listener, 4, on_connection)) < 0) {
		snprintf(err, errlen, "cannot listen on %s for RFC 2217: %s", addr, uv_strerror(rc));
		s->closing = true;
		uv_close((uv_handle_t *)&s->listener, on_closed);
		return rc;
	}
	log_info("port %s: serving RFC 2217 on %s", s->name, addr);
	*out = s;
	return 0;
}

size_t rfc2217_srv_write(struct rfc2217_srv *s, const uint8_t *p, size_t n)
{
	if (s->cl != CL_OPEN)
		return 0;
	return tcp_out_data(&s->out, &s->tn, p, n, s->rx_limit);
}

void rfc2217_srv_state(struct rfc2217_srv *s, const struct port_state *st)
{
	s->st = *st;
	if (s->cl == CL_OPEN)
		notify_modem(s, false);
}

/* Backpressure is TCP's (we stop reading); the client is also told, with
 * FLOWCONTROL-SUSPEND/RESUME, as RFC 2217 has it. */
static void tell_flow(struct rfc2217_srv *s)
{
	uint8_t m[TELNET_CPO_MAX];

	send_proto(s, m, telnet_cpo_build(m, sizeof(m), true, s->paused ? CPO_FLOW_SUSPEND
									  : CPO_FLOW_RESUME, NULL, 0));
}

void rfc2217_srv_pause(struct rfc2217_srv *s, bool paused)
{
	if (s->paused == paused)
		return;
	s->paused = paused;
	update_reading(s);
	if (s->cl == CL_OPEN)
		tell_flow(s);
}

bool rfc2217_srv_connected(const struct rfc2217_srv *s)
{
	return s->cl == CL_OPEN;
}

void rfc2217_srv_close(struct rfc2217_srv *s)
{
	s->closing = true;
	drop_client(s, "the port is closing");
	uv_close((uv_handle_t *)&s->listener, on_closed);
}
