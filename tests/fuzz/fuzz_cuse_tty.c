/* fuzz_cuse_tty — the cuse ioctl dispatch (cuse_tty_ioctl) and the state
 * around it (opens, the input queue, input lines, VMIN/VTIME planning),
 * as an application and MQTT would drive a cuse port in any order.
 *
 * Input: byte 0 sets the input bound; then operations, one byte each plus
 * arguments. Out buffers are allocated at exactly the size the table
 * announces, so a write past it is caught by ASan.
 * Invariants: results are 0, -errno or PENDING (TIOCMIWAIT only); at most
 * the announced out size is written; the input queue stays within its
 * bound and FIONREAD reports its length; rx_put takes at most what it got;
 * TIOCMGET after TIOCMSET, and after an RFC 2217 client's settings
 * (cuse_tty_app_set, with any values, in range or not), shows DTR/RTS as set. */
#include <errno.h>
#include <string.h>

#include <asm/termios.h>

#include "cuse_tty.h"
#include "fuzz.h"

static const unsigned cmds[] = {
	TCGETS, TCSETS, TCSETSW, TCSETSF, TCGETS2, TCSETS2, TCSETSW2, TCSETSF2,
	TIOCMGET, TIOCMSET, TIOCMBIS, TIOCMBIC, TIOCMIWAIT, TIOCGICOUNT, FIONREAD,
	TIOCOUTQ, TCFLSH, TCXONC, TCSBRK, TCSBRKP, TIOCSBRK, TIOCCBRK, TIOCEXCL,
	TIOCNXCL, TIOCGWINSZ, TIOCSWINSZ,
};
#define NCMDS (sizeof(cmds) / sizeof(cmds[0]))

struct rd {
	const uint8_t *p, *end;
};

static uint8_t byte(struct rd *r)
{
	return r->p < r->end ? *r->p++ : 0;
}

static uint32_t u32(struct rd *r)
{
	uint32_t v = 0;
	for (int i = 0; i < 4; i++)
		v = v << 8 | byte(r);
	return v;
}

static int line(uint8_t b)
{
	return b % 3 == 2 ? STATE_NULL : b % 3;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rd r = { data, data + size };
	struct cuse_tty t;
	size_t limit = 1 + byte(&r);

	cuse_tty_init(&t, limit, NULL);
	while (r.p < r.end) {
		uint8_t op = byte(&r);
		t.now_ms += op >> 4;
		switch (op % 8) {
		case 0: {
			uint8_t k = byte(&r);
			unsigned cmd = k < NCMDS ? cmds[k] : 0x5400u | byte(&r);
			unsigned long arg = u32(&r);
			size_t in_sz = 0, out_sz = 0;
			if (cuse_tty_ioctl_size(cmd, &in_sz, &out_sz) != 0) {
				size_t ol = 1;
				uint8_t o;
				fuzz_check(cuse_tty_ioctl(&t, cmd, arg, NULL, 0, &o, &ol) == -ENOTTY,
					   "unknown ioctl %#x not ENOTTY", cmd);
				fuzz_check(ol == 0, "unknown ioctl wrote %zu bytes", ol);
				break;
			}
			uint8_t *in = in_sz ? malloc(in_sz) : NULL;
			uint8_t *out = out_sz ? malloc(out_sz) : NULL;
			for (size_t i = 0; i < in_sz; i++)
				in[i] = byte(&r);
			size_t out_len = 12345;
			int rc = cuse_tty_ioctl(&t, cmd, arg, in, in_sz, out, &out_len);
			fuzz_check(rc == 0 || (rc < 0 && rc > -4096) ||
				   (rc == CUSE_TTY_PENDING && cmd == TIOCMIWAIT),
				   "ioctl %#x returned %d", cmd, rc);
			fuzz_check(out_len <= out_sz, "ioctl %#x wrote %zu of %zu", cmd, out_len,
				   out_sz);
			if (rc == 0 && cmd == FIONREAD) {
				int q;
				memcpy(&q, out, sizeof(q));
				fuzz_check((size_t)q == t.in_len, "FIONREAD %d, queue %zu", q, t.in_len);
			}
			if (rc == 0 && cmd == TIOCMSET) {
				int set, got;
				size_t gl;
				memcpy(&set, in, sizeof(set));
				fuzz_check(cuse_tty_ioctl(&t, TIOCMGET, 0, NULL, 0, &got, &gl) == 0,
					   "TIOCMGET failed");
				fuzz_check((got & (TIOCM_DTR | TIOCM_RTS)) ==
					   (set & (TIOCM_DTR | TIOCM_RTS)),
					   "TIOCMSET %#x, TIOCMGET %#x", set, got);
			}
			free(in);
			free(out);
			t.fx = 0;
			break;
		}
		case 1:
			cuse_tty_open(&t);
			(void)cuse_tty_open_refused(&t, byte(&r));
			break;
		case 2:
			if (t.opens > 0)
				cuse_tty_close(&t);
			break;
		case 3: {
			size_t n = byte(&r);
			if (n > (size_t)(r.end - r.p))
				n = (size_t)(r.end - r.p);
			size_t took = cuse_tty_rx_put(&t, r.p, n);
			fuzz_check(took <= n, "rx_put took %zu of %zu", took, n);
			r.p += n;
			break;
		}
		case 4: {
			const uint8_t *p;
			size_t n = cuse_tty_rx_peek(&t, &p), k = byte(&r);
			fuzz_check(n == t.in_len, "peek %zu, queue %zu", n, t.in_len);
			if (n) {
				volatile uint8_t first = p[0], last = p[n - 1];
				(void)first;
				(void)last;
			}
			cuse_tty_rx_consume(&t, k < n ? k : n);
			break;
		}
		case 5: {
			uint8_t a = byte(&r), b = byte(&r);
			(void)cuse_tty_set_lines(&t, line(a), line(a / 3), line(b), line(b / 3));
			struct cuse_tty_lines l;
			cuse_tty_lines_get(&t, &l);
			if (b & 0x80) {     /* an RFC 2217 client's SET-* as the application */
				uint32_t baud = u32(&r);
				uint8_t c = byte(&r);
				struct line_settings ls = {
					.baud = c & 1 ? STATE_NULL : (int64_t)baud,
					.data_bits = c & 2 ? STATE_NULL : 4 + (c >> 2) % 6,
					.parity = c & 2 ? STATE_NULL : (c >> 4) % 6,
					.stop_bits = c & 2 ? STATE_NULL : 1 + (c >> 5) % 3,
					.flow = c & 2 ? STATE_NULL : (c >> 6) % 4,
				};
				int dtr = line(byte(&r)), rts = line(byte(&r)), got;
				size_t gl;
				cuse_tty_app_set(&t, &ls, dtr, rts);
				fuzz_check(cuse_tty_ioctl(&t, TIOCMGET, 0, NULL, 0, &got, &gl) == 0,
					   "TIOCMGET failed");
				fuzz_check(dtr == STATE_NULL || !!(got & TIOCM_DTR) == dtr,
					   "app_set dtr %d, TIOCMGET %#x", dtr, got);
				fuzz_check(rts == STATE_NULL || !!(got & TIOCM_RTS) == rts,
					   "app_set rts %d, TIOCMGET %#x", rts, got);
			}
			break;
		}
		case 6: {
			struct cuse_tty_wait w;
			uint8_t a = byte(&r);
			enum cuse_tty_read plan = cuse_tty_read_plan(&t, (size_t)byte(&r), a & 1,
								    a & 2, &w);
			fuzz_check(plan != CUSE_TTY_READ_AGAIN || t.in_len == 0,
				   "EAGAIN with %zu bytes queued", t.in_len);
			(void)cuse_tty_readable(&t);
			(void)cuse_tty_hupcl(&t);
			break;
		}
		case 7:
			(void)cuse_tty_rx_flush(&t);
			fuzz_check(t.in_len == 0, "flush left %zu", t.in_len);
			break;
		}
		fuzz_check(t.in_len <= t.in_limit, "queue %zu over its bound %zu", t.in_len,
			   t.in_limit);
	}
	cuse_tty_free(&t);
	return 0;
}
