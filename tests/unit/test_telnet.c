/* Unit tests for ports/telnet.c: IAC escaping both ways and across buffer
 * boundaries, option negotiation (RFC 1143, no loops, unknown options
 * refused), COM-PORT-OPTION subnegotiations in both directions, hostile
 * input (truncated, oversized, wrong direction, commands inside SB), and
 * the mapping to line settings and answers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "telnet.h"
#include "port_config.h"

#define CAP 4096

struct rec {
	uint8_t data[CAP], sent[CAP];
	size_t ndata, nsent;
	struct telnet_cpo cpo[16];
	uint8_t cpo_bytes[16][TELNET_SB_MAX];
	size_t ncpo;
};

static void on_data(void *arg, const uint8_t *p, size_t n)
{
	struct rec *r = arg;

	assert_true(n > 0);
	assert_true(r->ndata + n <= CAP);
	memcpy(r->data + r->ndata, p, n);
	r->ndata += n;
}

static void on_send(void *arg, const uint8_t *p, size_t n)
{
	struct rec *r = arg;

	assert_true(r->nsent + n <= CAP);
	memcpy(r->sent + r->nsent, p, n);
	r->nsent += n;
}

static void on_cpo(void *arg, const struct telnet_cpo *m)
{
	struct rec *r = arg;

	assert_true(r->ncpo < 16);
	memcpy(r->cpo_bytes[r->ncpo], m->data, m->len);
	r->cpo[r->ncpo] = *m;
	r->cpo[r->ncpo].data = r->cpo_bytes[r->ncpo];
	r->ncpo++;
}

static const struct telnet_cb cb = { on_data, on_send, on_cpo };

/* Feed in pieces of `step` bytes (1 = byte by byte). */
static void feed(struct telnet *t, const uint8_t *p, size_t n, size_t step)
{
	for (size_t i = 0; i < n; i += step)
		telnet_input(t, p + i, n - i < step ? n - i : step);
}

static void mk(struct telnet *t, struct rec *r, bool server)
{
	memset(r, 0, sizeof(*r));
	telnet_init(t, server, &cb, r);
}

static void data_and_iac_any_split(void **state)
{
	static const uint8_t in[] = { 'a', 0xff, 0xff, 'b', 0xff, 0xff, 0xff, 0xff, 0, '\r', 0, 'c' };
	static const uint8_t want[] = { 'a', 0xff, 'b', 0xff, 0xff, 0, '\r', 0, 'c' };

	for (size_t step = 1; step <= sizeof(in); step++) {
		struct telnet t;
		struct rec r;
		mk(&t, &r, true);
		t.him[TELNET_OPT_BINARY] = 1;   /* binary: CR NUL is data */
		feed(&t, in, sizeof(in), step);
		assert_int_equal(r.ndata, sizeof(want));
		assert_memory_equal(r.data, want, sizeof(want));
		assert_int_equal(r.nsent, 0);
	}
}

static void non_binary_cr_nul(void **state)
{
	static const uint8_t in[] = { 'x', '\r', 0, 'y', '\r', '\n', 0 };
	static const uint8_t want[] = { 'x', '\r', 'y', '\r', '\n', 0 };
	struct telnet t;
	struct rec r;

	mk(&t, &r, false);
	feed(&t, in, sizeof(in), 1);
	assert_int_equal(r.ndata, sizeof(want));
	assert_memory_equal(r.data, want, sizeof(want));
}

static void escape_output(void **state)
{
	static const uint8_t in[] = { 1, 0xff, 2, '\r', 0xff };
	uint8_t out[16];
	size_t used, n;
	struct telnet t;
	struct rec r;

	mk(&t, &r, true);
	t.us[TELNET_OPT_BINARY] = 1;
	n = telnet_escape(&t, in, sizeof(in), out, sizeof(out), &used);
	assert_int_equal(used, sizeof(in));
	assert_int_equal(n, 7);
	assert_memory_equal(out, ((uint8_t[]){ 1, 0xff, 0xff, 2, '\r', 0xff, 0xff }), 7);
	/* never split an escape: 2 bytes of room take "1", not half of IAC IAC */
	n = telnet_escape(&t, in, sizeof(in), out, 2, &used);
	assert_int_equal(n, 1);
	assert_int_equal(used, 1);
	/* not binary: CR → CR NUL */
	t.us[TELNET_OPT_BINARY] = 0;
	n = telnet_escape(&t, in + 3, 1, out, sizeof(out), &used);
	assert_int_equal(n, 2);
	assert_memory_equal(out, ((uint8_t[]){ '\r', 0 }), 2);
}

static void server_start_and_negotiate(void **state)
{
	static const uint8_t start[] = { 255, 251, 0, 255, 253, 0, 255, 251, 3, 255, 253, 3,
					 255, 253, 44 };
	/* what pyserial sends first */
	static const uint8_t client[] = { 255, 251, 44, 255, 253, 1, 255, 251, 3, 255, 253, 3,
					  255, 253, 44, 255, 253, 0, 255, 251, 0 };
	struct telnet t;
	struct rec r;

	mk(&t, &r, true);
	telnet_start(&t);
	assert_int_equal(r.nsent, sizeof(start));
	assert_memory_equal(r.sent, start, sizeof(start));
	r.nsent = 0;
	feed(&t, client, sizeof(client), 1);
	/* WILL COM (answers our DO: no reply), DO ECHO (refused: WONT ECHO),
	 * WILL/DO SGA (answers ours), DO COM (agreed: WILL COM), DO/WILL BINARY
	 * (answers ours) */
	assert_int_equal(r.nsent, 6);
	assert_memory_equal(r.sent, ((uint8_t[]){ 255, 252, 1, 255, 251, 44 }), 6);
	assert_true(telnet_remote_on(&t, TELNET_OPT_COM_PORT));
	assert_true(telnet_local_on(&t, TELNET_OPT_BINARY));
	assert_true(telnet_remote_on(&t, TELNET_OPT_BINARY));
	assert_false(telnet_local_on(&t, TELNET_OPT_ECHO));
	/* asked again while on: no answer (no loop) */
	r.nsent = 0;
	feed(&t, client, sizeof(client), 3);
	assert_int_equal(r.nsent, 3);        /* DO ECHO is refused again */
	/* turned off by the peer: acknowledged once, then silence */
	r.nsent = 0;
	feed(&t, (uint8_t[]){ 255, 252, 0, 255, 252, 0 }, 6, 6);
	assert_int_equal(r.nsent, 3);
	assert_memory_equal(r.sent, ((uint8_t[]){ 255, 254, 0 }), 3);
	assert_false(telnet_remote_on(&t, TELNET_OPT_BINARY));
}

static void unknown_options_refused(void **state)
{
	struct telnet t;
	struct rec r;

	mk(&t, &r, false);
	feed(&t, (uint8_t[]){ 255, 251, 24, 255, 253, 31, 255, 252, 99, 255, 254, 98 }, 12, 1);
	assert_int_equal(r.nsent, 6);   /* WONT/DONT answer nothing */
	assert_memory_equal(r.sent, ((uint8_t[]){ 255, 254, 24, 255, 252, 31 }), 6);
	assert_int_equal(r.ndata, 0);
}

static void client_parses_server_answers(void **state)
{
	uint8_t buf[64];
	size_t n = 0;
	struct telnet t;
	struct rec r;

	/* 65535 carries two IACs inside the value */
	n += telnet_cpo_baud(buf + n, sizeof(buf) - n, true, 65535);
	n += telnet_cpo_byte(buf + n, sizeof(buf) - n, true, CPO_NOTIFY_MODEMSTATE, 0xb0);
	n += telnet_cpo_byte(buf + n, sizeof(buf) - n, true, CPO_SET_PARITY, 0xff);
	assert_int_equal(buf[3], 101);
	for (size_t step = 1; step <= n; step++) {
		mk(&t, &r, false);
		feed(&t, buf, n, step);
		assert_int_equal(r.ncpo, 3);
		assert_int_equal(r.cpo[0].cmd, CPO_SET_BAUDRATE);
		assert_int_equal(r.cpo[0].value, 65535);
		assert_int_equal(r.cpo[0].len, 4);
		assert_int_equal(r.cpo[1].cmd, CPO_NOTIFY_MODEMSTATE);
		assert_int_equal(r.cpo[1].value, 0xb0);
		assert_int_equal(r.cpo[2].value, 0xff);
		assert_int_equal(r.ndata, 0);
	}
}

static void wrong_direction_and_bad_lengths_ignored(void **state)
{
	uint8_t buf[64];
	size_t n = 0;
	struct telnet t;
	struct rec r;

	mk(&t, &r, true);
	n += telnet_cpo_baud(buf + n, sizeof(buf) - n, true, 9600);        /* server code */
	n += telnet_cpo_build(buf + n, sizeof(buf) - n, false, CPO_SET_BAUDRATE,
			      (uint8_t[]){ 0, 0, 37 }, 3);                   /* 3 bytes */
	n += telnet_cpo_build(buf + n, sizeof(buf) - n, false, CPO_SET_PARITY, NULL, 0);
	n += telnet_cpo_build(buf + n, sizeof(buf) - n, false, 13, (uint8_t[]){ 1 }, 1);
	n += telnet_cpo_build(buf + n, sizeof(buf) - n, false, CPO_FLOW_SUSPEND,
			      (uint8_t[]){ 1 }, 1);
	memcpy(buf + n, (uint8_t[]){ 255, 250, 24, 1, 255, 240 }, 6);          /* other option */
	n += 6;
	memcpy(buf + n, (uint8_t[]){ 255, 250, 44, 255, 240 }, 5);              /* empty */
	n += 5;
	buf[n++] = 'k';
	feed(&t, buf, n, 1);
	assert_int_equal(r.ncpo, 0);
	assert_int_equal(r.ndata, 1);
	assert_int_equal(r.data[0], 'k');
	/* the same well formed is taken */
	n = telnet_cpo_baud(buf, sizeof(buf), false, 9600);
	feed(&t, buf, n, 2);
	assert_int_equal(r.ncpo, 1);
	assert_int_equal(r.cpo[0].value, 9600);
	/* a client may ask for the modem state with an empty value */
	n = telnet_cpo_build(buf, sizeof(buf), false, CPO_NOTIFY_MODEMSTATE, NULL, 0);
	feed(&t, buf, n, 1);
	assert_int_equal(r.ncpo, 2);
	assert_int_equal(r.cpo[1].cmd, CPO_NOTIFY_MODEMSTATE);
	assert_int_equal(r.cpo[1].len, 0);
}

static void oversized_sb_then_recovers(void **state)
{
	uint8_t buf[TELNET_SB_MAX + 64];
	size_t n = 0;
	struct telnet t;
	struct rec r;

	mk(&t, &r, true);
	buf[n++] = 255; buf[n++] = 250; buf[n++] = 44; buf[n++] = 0;
	while (n < TELNET_SB_MAX + 40)
		buf[n++] = 'S';
	buf[n++] = 255; buf[n++] = 240;
	n += telnet_cpo_byte(buf + n, sizeof(buf) - n, false, CPO_SET_DATASIZE, 7);
	feed(&t, buf, n, 7);
	assert_int_equal(r.ncpo, 1);
	assert_int_equal(r.cpo[0].cmd, CPO_SET_DATASIZE);
	assert_int_equal(r.cpo[0].value, 7);
	/* a signature that fits is passed whole */
	n = telnet_cpo_build(buf, sizeof(buf), false, CPO_SIGNATURE, (const uint8_t *)"pyserial", 8);
	feed(&t, buf, n, 1);
	assert_int_equal(r.ncpo, 2);
	assert_int_equal(r.cpo[1].len, 8);
	assert_memory_equal(r.cpo[1].data, "pyserial", 8);
}

static void command_inside_sb_aborts_it(void **state)
{
	/* SB COM SET-DATASIZE then IAC WILL BINARY instead of IAC SE, then data */
	static const uint8_t in[] = { 255, 250, 44, 2, 7, 255, 251, 0, 'z', 255, 240, 'w' };
	struct telnet t;
	struct rec r;

	mk(&t, &r, true);
	feed(&t, in, sizeof(in), 1);
	assert_int_equal(r.ncpo, 0);
	assert_true(telnet_remote_on(&t, TELNET_OPT_BINARY));
	assert_int_equal(r.ndata, 2);        /* a stray IAC SE is a no-op */
	assert_memory_equal(r.data, "zw", 2);
}

static void truncated_input_holds_nothing_back(void **state)
{
	/* a subnegotiation cut short by the end of the stream delivers nothing;
	 * the data that follows in the next buffer (after IAC SE) does */
	struct telnet t;
	struct rec r;

	mk(&t, &r, true);
	feed(&t, (uint8_t[]){ 'a', 255, 250, 44, 1, 0, 0 }, 7, 7);
	assert_int_equal(r.ndata, 1);
	assert_int_equal(r.ncpo, 0);
	feed(&t, (uint8_t[]){ 37, 128, 255, 240, 'b' }, 5, 5);
	assert_int_equal(r.ncpo, 1);
	assert_int_equal(r.cpo[0].value, 9600);
	assert_int_equal(r.ndata, 2);
	/* a lone trailing IAC waits for its second byte */
	feed(&t, (uint8_t[]){ 255 }, 1, 1);
	assert_int_equal(r.ndata, 2);
	feed(&t, (uint8_t[]){ 255 }, 1, 1);
	assert_int_equal(r.ndata, 3);
	assert_int_equal(r.data[2], 0xff);
}

static void iac_flood(void **state)
{
	uint8_t in[2000];
	struct telnet t;
	struct rec r;

	memset(in, 0xff, sizeof(in));
	mk(&t, &r, true);
	feed(&t, in, sizeof(in), 333);
	assert_int_equal(r.ndata, 1000);
	assert_int_equal(r.nsent, 0);
}

static struct telnet_cpo cpo(uint8_t cmd, uint32_t v)
{
	return (struct telnet_cpo){ .cmd = cmd, .value = v, .len = cmd == CPO_SET_BAUDRATE ? 4 : 1 };
}

static void map_requests(void **state)
{
	struct line_set s;
	struct telnet_cpo m;

	m = cpo(CPO_SET_BAUDRATE, 38400);
	assert_int_equal(telnet_cpo_to_line_set(&m, &s), 1);
	assert_int_equal(s.line.baud, 38400);
	assert_int_equal(s.line.parity, STATE_NULL);
	m = cpo(CPO_SET_BAUDRATE, 0);
	assert_int_equal(telnet_cpo_to_line_set(&m, &s), 0);
	m = cpo(CPO_SET_PARITY, 3);
	assert_int_equal(telnet_cpo_to_line_set(&m, &s), 1);
	assert_int_equal(s.line.parity, PARITY_EVEN);
	m = cpo(CPO_SET_PARITY, 2);
	telnet_cpo_to_line_set(&m, &s);
	assert_int_equal(s.line.parity, PARITY_ODD);
	m = cpo(CPO_SET_PARITY, 9);
	assert_int_equal(telnet_cpo_to_line_set(&m, &s), -1);
	m = cpo(CPO_SET_STOPSIZE, 3);
	assert_int_equal(telnet_cpo_to_line_set(&m, &s), -1);
	m = cpo(CPO_SET_DATASIZE, 4);
	assert_int_equal(telnet_cpo_to_line_set(&m, &s), -1);
	m = cpo(CPO_SET_CONTROL, CTL_RTS_ON);
	assert_int_equal(telnet_cpo_to_line_set(&m, &s), 1);
	assert_int_equal(s.rts, 1);
	assert_int_equal(s.dtr, STATE_NULL);
	m = cpo(CPO_SET_CONTROL, CTL_DTR_OFF);
	telnet_cpo_to_line_set(&m, &s);
	assert_int_equal(s.dtr, 0);
	m = cpo(CPO_SET_CONTROL, CTL_FLOW_HW);
	telnet_cpo_to_line_set(&m, &s);
	assert_int_equal(s.line.flow, FLOW_RTSCTS);
	m = cpo(CPO_SET_CONTROL, CTL_FLOW_DSR);
	assert_int_equal(telnet_cpo_to_line_set(&m, &s), -1);
}

static uint8_t answer_byte(uint8_t cmd, uint32_t v, const struct port_state *st)
{
	uint8_t out[TELNET_CPO_MAX];
	struct telnet_cpo m = cpo(cmd, v);
	size_t n = telnet_cpo_answer(&m, st, out, sizeof(out));

	assert_int_equal(n, 7);
	assert_int_equal(out[3], cmd + 100);
	return out[4];
}

static void answers(void **state)
{
	struct port_state st;
	uint8_t out[TELNET_CPO_MAX];
	struct telnet_cpo m;

	port_state_init(&st);      /* a pty: nothing known → the asked value */
	m = cpo(CPO_SET_BAUDRATE, 115200);
	assert_int_equal(telnet_cpo_answer(&m, &st, out, sizeof(out)), 10);
	assert_memory_equal(out, ((uint8_t[]){ 255, 250, 44, 101, 0, 1, 0xc2, 0, 255, 240 }), 10);
	assert_int_equal(answer_byte(CPO_SET_CONTROL, CTL_DTR_ON, &st), CTL_DTR_ON);
	assert_int_equal(answer_byte(CPO_SET_CONTROL, CTL_REQ_RTS, &st), CTL_RTS_OFF);
	assert_int_equal(answer_byte(CPO_SET_DATASIZE, 7, &st), 7);
	/* values in effect win */
	st.line.baud = 9600;
	st.line.parity = PARITY_NONE;
	st.line.flow = FLOW_RTSCTS;
	st.dtr = 0;
	st.rts = 1;
	m = cpo(CPO_SET_BAUDRATE, 115200);
	telnet_cpo_answer(&m, &st, out, sizeof(out));
	assert_memory_equal(out + 4, ((uint8_t[]){ 0, 0, 37, 128 }), 4);
	assert_int_equal(answer_byte(CPO_SET_PARITY, 3, &st), 1);
	assert_int_equal(answer_byte(CPO_SET_CONTROL, CTL_DTR_ON, &st), CTL_DTR_OFF);
	assert_int_equal(answer_byte(CPO_SET_CONTROL, CTL_REQ_RTS, &st), CTL_RTS_ON);
	assert_int_equal(answer_byte(CPO_SET_CONTROL, CTL_REQ_FLOW, &st), CTL_FLOW_HW);
	assert_int_equal(answer_byte(CPO_SET_CONTROL, CTL_REQ_FLOW_IN, &st), CTL_FLOW_IN_HW);
	assert_int_equal(answer_byte(CPO_SET_MODEMSTATE_MASK, 0x30, &st), 0x30);
	assert_int_equal(answer_byte(CPO_PURGE_DATA, PURGE_BOTH, &st), PURGE_BOTH);
	m = cpo(CPO_FLOW_SUSPEND, 0);
	assert_int_equal(telnet_cpo_answer(&m, &st, out, sizeof(out)), 0);
	/* a signature request is answered, a client's own signature not */
	m = (struct telnet_cpo){ .cmd = CPO_SIGNATURE, .len = 0 };
	assert_true(telnet_cpo_answer(&m, &st, out, sizeof(out)) > 6);
	m.len = 3;
	assert_int_equal(telnet_cpo_answer(&m, &st, out, sizeof(out)), 0);
	/* too little room: nothing */
	m = cpo(CPO_SET_BAUDRATE, 9600);
	assert_int_equal(telnet_cpo_answer(&m, &st, out, 8), 0);
}

static void modemstate_deltas(void **state)
{
	struct port_state st;
	uint8_t b;

	port_state_init(&st);
	assert_int_equal(telnet_modemstate(&st, 0), 0);
	st.cts = 1;
	st.dcd = 1;
	st.dsr = 0;
	b = telnet_modemstate(&st, 0);
	assert_int_equal(b, MODEM_CTS | MODEM_DCD | MODEM_DELTA_CTS | MODEM_DELTA_DCD);
	st.cts = 0;
	st.ri = 0;
	b = telnet_modemstate(&st, MODEM_CTS | MODEM_DCD | MODEM_RI);
	assert_int_equal(b, MODEM_DCD | MODEM_DELTA_CTS | MODEM_RI_TRAIL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(data_and_iac_any_split),
		cmocka_unit_test(non_binary_cr_nul),
		cmocka_unit_test(escape_output),
		cmocka_unit_test(server_start_and_negotiate),
		cmocka_unit_test(unknown_options_refused),
		cmocka_unit_test(client_parses_server_answers),
		cmocka_unit_test(wrong_direction_and_bad_lengths_ignored),
		cmocka_unit_test(oversized_sb_then_recovers),
		cmocka_unit_test(command_inside_sb_aborts_it),
		cmocka_unit_test(truncated_input_holds_nothing_back),
		cmocka_unit_test(iac_flood),
		cmocka_unit_test(map_requests),
		cmocka_unit_test(answers),
		cmocka_unit_test(modemstate_deltas),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
