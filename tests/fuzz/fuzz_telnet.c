/* libFuzzer target for ports/telnet.c: any bytes, cut into pieces of any
 * size, fed to a server-side and a client-side codec. Checks, beyond "no
 * crash, no sanitizer report": the data handed out is never more than the
 * input, every COM-PORT message has a sane length and gets an answer that
 * fits, and data escaped by us comes back unchanged through a parser.
 *
 * Input layout: byte 0 picks the piece size (1..256), the rest is the
 * stream. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "telnet.h"

struct sink {
	size_t ndata, nsent;
	uint8_t *copy;            /* optional: keep the data */
	size_t cap;
};

static void on_data(void *arg, const uint8_t *p, size_t n)
{
	struct sink *s = arg;

	if (n == 0)
		abort();
	if (s->copy) {
		if (s->ndata + n > s->cap)
			abort();
		memcpy(s->copy + s->ndata, p, n);
	}
	s->ndata += n;
}

static void on_send(void *arg, const uint8_t *p, size_t n)
{
	struct sink *s = arg;

	if (n != 3 || p[0] != TELNET_IAC)
		abort();        /* negotiation answers only */
	s->nsent += n;
}

static void on_cpo(void *arg, const struct telnet_cpo *m)
{
	uint8_t out[TELNET_CPO_MAX];
	struct port_state st;
	struct line_set ls;

	(void)arg;
	if (m->len >= TELNET_SB_MAX || m->cmd > CPO_PURGE_DATA)
		abort();
	if (m->cmd == CPO_SET_BAUDRATE && m->len != 4)
		abort();
	/* a port that knows nothing (pty), then one that knows everything */
	memset(&st, 0, sizeof(st));
	st.line = (struct line_settings){ STATE_NULL, STATE_NULL, STATE_NULL, STATE_NULL,
					  STATE_NULL };
	st.dtr = st.rts = st.cts = st.dsr = st.dcd = st.ri = STATE_NULL;
	telnet_cpo_to_line_set(m, &ls);
	if (telnet_cpo_answer(m, &st, out, sizeof(out)) > sizeof(out))
		abort();
	st.line = (struct line_settings){ 9600, 8, 0, 1, 0 };
	st.dtr = st.rts = st.cts = 1;
	telnet_cpo_answer(m, &st, out, sizeof(out));
}

static const struct telnet_cb cb = { on_data, on_send, on_cpo };

static void run(bool server, const uint8_t *p, size_t n, size_t step)
{
	struct telnet t;
	struct sink s = { 0 };

	telnet_init(&t, server, &cb, &s);
	telnet_start(&t);
	s.nsent = 0;
	for (size_t i = 0; i < n; i += step)
		telnet_input(&t, p + i, n - i < step ? n - i : step);
	if (s.ndata > n || s.nsent > 3 * n)
		abort();
}

/* Escape the input as data, parse it back, compare. */
static void roundtrip(const uint8_t *p, size_t n, size_t step, bool binary)
{
	uint8_t *esc = malloc(2 * n + 1), *back = malloc(n + 1);
	struct sink s = { 0, 0, back, n };
	struct telnet tx, rx;
	size_t used = 0, len = 0;

	if (!esc || !back)
		abort();
	telnet_init(&tx, true, &cb, NULL);
	telnet_init(&rx, false, &cb, &s);
	tx.us[TELNET_OPT_BINARY] = binary;        /* Q_YES is 1 */
	rx.him[TELNET_OPT_BINARY] = binary;
	while (used < n) {
		size_t u;
		len += telnet_escape(&tx, p + used, n - used, esc + len, step + 1, &u);
		used += u;
	}
	for (size_t i = 0; i < len; i += step)
		telnet_input(&rx, esc + i, len - i < step ? len - i : step);
	if (s.ndata != n || memcmp(back, p, n) != 0)
		abort();
	free(esc);
	free(back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t step;

	if (size < 1)
		return 0;
	step = (size_t)data[0] + 1;
	run(true, data + 1, size - 1, step);
	run(false, data + 1, size - 1, step);
	roundtrip(data + 1, size - 1, step, data[0] & 1);
	return 0;
}
