/* Unit tests for ports/frame.c: raw, delimiter and idle-gap framing
 * (CONTRACT.md §2 `frame`). The framer takes the time as an argument, so
 * the idle rule runs here on a fake clock: no sleeping, no timers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "frame.h"

/* ---- a capturing emit callback ---------------------------------------- */

#define CAP_MSGS 8192

/* Every emitted message, back to back in data, with where each starts. */
struct cap {
	uint8_t *data;          /* owned */
	size_t len, size;
	size_t count;
	size_t off[CAP_MSGS];
	size_t mlen[CAP_MSGS];
};

static void cap_emit(void *arg, const uint8_t *p, size_t n)
{
	struct cap *c = arg;

	assert_true(c->count < CAP_MSGS);
	if (c->len + n > c->size) {
		size_t want = (c->len + n) * 2 + 64;
		uint8_t *d = realloc(c->data, want);
		assert_non_null(d);
		c->data = d;
		c->size = want;
	}
	memcpy(c->data + c->len, p, n);
	c->off[c->count] = c->len;
	c->mlen[c->count] = n;
	c->count++;
	c->len += n;
}

static void cap_reset(struct cap *c)
{
	free(c->data);
	memset(c, 0, sizeof(*c));
}

/* Message i equals the string s (which may hold any byte; n given). */
static void assert_msg(const struct cap *c, size_t i, const void *s, size_t n)
{
	assert_true(i < c->count);
	assert_int_equal(c->mlen[i], n);
	assert_memory_equal(c->data + c->off[i], s, n);
}

#define ASSERT_MSG(c, i, lit) assert_msg((c), (i), (lit), sizeof(lit) - 1)

/* A fixture: a framer writing into a cap, both on the heap. */
struct fx {
	struct framer f;
	struct cap c;
};

static struct fx *fx_new(const struct frame_cfg *cfg)
{
	struct fx *x = calloc(1, sizeof(*x));

	assert_non_null(x);
	assert_int_equal(framer_init(&x->f, cfg, cap_emit, &x->c), 0);
	return x;
}

static void fx_free(struct fx *x)
{
	framer_free(&x->f);
	cap_reset(&x->c);
	free(x);
}

static void feed(struct fx *x, const char *s, uint64_t now)
{
	framer_input(&x->f, (const uint8_t *)s, strlen(s), now);
}

static struct frame_cfg cfg_raw(uint32_t max)
{
	return (struct frame_cfg){ .mode = FRAME_RAW, .max = max };
}

static struct frame_cfg cfg_delim(const void *d, size_t n, uint32_t max)
{
	struct frame_cfg c = { .mode = FRAME_DELIM, .max = max, .delim_len = (uint8_t)n };

	memcpy(c.delim, d, n);
	return c;
}

static struct frame_cfg cfg_idle(uint32_t idle_ms, uint32_t max)
{
	return (struct frame_cfg){ .mode = FRAME_IDLE, .max = max, .idle_ms = idle_ms };
}

/* ---- raw ------------------------------------------------------------- */

static void raw_coalesces_until_drained(void **state)
{
	struct frame_cfg cfg = cfg_raw(4096);
	struct fx *x = fx_new(&cfg);

	feed(x, "ab", 0);
	feed(x, "cd", 0);
	assert_int_equal(x->c.count, 0);
	assert_int_equal(framer_deadline(&x->f), 0);   /* raw never waits on a timer */
	framer_tick(&x->f, 1000000);
	assert_int_equal(x->c.count, 0);
	framer_drained(&x->f);
	assert_int_equal(x->c.count, 1);
	ASSERT_MSG(&x->c, 0, "abcd");
	framer_drained(&x->f);                   /* nothing pending: no empty message */
	assert_int_equal(x->c.count, 1);
	feed(x, "e", 5);
	framer_drained(&x->f);
	assert_int_equal(x->c.count, 2);
	ASSERT_MSG(&x->c, 1, "e");
	fx_free(x);
}

static void raw_splits_at_max(void **state)
{
	struct frame_cfg cfg = cfg_raw(4);
	struct fx *x = fx_new(&cfg);

	feed(x, "abcdefghij", 0);
	/* full pieces go out at once, the rest waits for the drain */
	assert_int_equal(x->c.count, 2);
	ASSERT_MSG(&x->c, 0, "abcd");
	ASSERT_MSG(&x->c, 1, "efgh");
	feed(x, "k", 0);
	assert_int_equal(x->c.count, 2);
	feed(x, "lm", 0);                        /* "ijk" + "l" fills a piece */
	assert_int_equal(x->c.count, 3);
	ASSERT_MSG(&x->c, 2, "ijkl");
	framer_drained(&x->f);
	assert_int_equal(x->c.count, 4);
	ASSERT_MSG(&x->c, 3, "m");
	fx_free(x);
}

static void raw_max_one(void **state)
{
	struct frame_cfg cfg = cfg_raw(1);
	struct fx *x = fx_new(&cfg);

	feed(x, "xyz", 0);
	assert_int_equal(x->c.count, 3);
	ASSERT_MSG(&x->c, 0, "x");
	ASSERT_MSG(&x->c, 1, "y");
	ASSERT_MSG(&x->c, 2, "z");
	framer_drained(&x->f);
	assert_int_equal(x->c.count, 3);
	fx_free(x);
}

/* ---- delim ----------------------------------------------------------- */

static void delim_single_byte(void **state)
{
	struct frame_cfg cfg = cfg_delim(";", 1, 4096);
	struct fx *x = fx_new(&cfg);

	feed(x, "a;bc;d", 0);
	assert_int_equal(x->c.count, 2);
	ASSERT_MSG(&x->c, 0, "a;");
	ASSERT_MSG(&x->c, 1, "bc;");
	framer_drained(&x->f);                   /* a drain does not end a delim frame */
	assert_int_equal(x->c.count, 2);
	feed(x, "e;", 1);
	assert_int_equal(x->c.count, 3);
	ASSERT_MSG(&x->c, 2, "de;");
	feed(x, ";", 2);                         /* a bare delimiter is a message */
	assert_int_equal(x->c.count, 4);
	ASSERT_MSG(&x->c, 3, ";");
	fx_free(x);
}

static void delim_multi_byte(void **state)
{
	struct frame_cfg cfg = cfg_delim("\r\n", 2, 4096);
	struct fx *x = fx_new(&cfg);

	feed(x, "a\rb\nc\r\nOK\r\n\r", 0);
	/* a lone \r or \n is data, only the pair ends a message */
	assert_int_equal(x->c.count, 2);
	ASSERT_MSG(&x->c, 0, "a\rb\nc\r\n");
	ASSERT_MSG(&x->c, 1, "OK\r\n");
	feed(x, "\r\n", 0);                      /* "\r" pending + "\r\n" */
	assert_int_equal(x->c.count, 3);
	ASSERT_MSG(&x->c, 2, "\r\r\n");
	fx_free(x);
}

static void delim_split_across_inputs(void **state)
{
	struct frame_cfg cfg = cfg_delim("\r\n", 2, 4096);
	struct fx *x = fx_new(&cfg);

	feed(x, "ATI\r", 0);
	assert_int_equal(x->c.count, 0);
	feed(x, "\nAT", 3);
	assert_int_equal(x->c.count, 1);
	ASSERT_MSG(&x->c, 0, "ATI\r\n");
	/* one byte per input */
	feed(x, "Z", 4);
	feed(x, "\r", 5);
	assert_int_equal(x->c.count, 1);
	feed(x, "\n", 6);
	assert_int_equal(x->c.count, 2);
	ASSERT_MSG(&x->c, 1, "ATZ\r\n");
	fx_free(x);
}

static void delim_civ_fd(void **state)
{
	const uint8_t fd = 0xFD;
	/* two CI-V frames (with a 0x00 data byte) and the start of a third */
	const uint8_t in[] = { 0xFE, 0xFE, 0x94, 0xE0, 0x03, 0xFD,
			       0xFE, 0xFE, 0xE0, 0x94, 0x00, 0x00, 0x50, 0xFD,
			       0xFE, 0xFE };
	const uint8_t m1[] = { 0xFE, 0xFE, 0x94, 0xE0, 0x03, 0xFD };
	const uint8_t m2[] = { 0xFE, 0xFE, 0xE0, 0x94, 0x00, 0x00, 0x50, 0xFD };
	struct frame_cfg cfg = cfg_delim(&fd, 1, 4096);
	struct fx *x = fx_new(&cfg);

	framer_input(&x->f, in, sizeof(in), 0);
	assert_int_equal(x->c.count, 2);
	assert_msg(&x->c, 0, m1, sizeof(m1));
	assert_msg(&x->c, 1, m2, sizeof(m2));
	framer_flush(&x->f);
	assert_int_equal(x->c.count, 3);
	assert_msg(&x->c, 2, in + 14, 2);
	fx_free(x);
}

static void delim_max_cuts_pieces(void **state)
{
	struct frame_cfg cfg = cfg_delim(";", 1, 4);
	struct fx *x = fx_new(&cfg);

	feed(x, "abcdefghij;k", 0);
	/* nothing is discarded: a long frame goes out in max-sized pieces */
	assert_int_equal(x->c.count, 3);
	ASSERT_MSG(&x->c, 0, "abcd");
	ASSERT_MSG(&x->c, 1, "efgh");
	ASSERT_MSG(&x->c, 2, "ij;");
	feed(x, "lm;", 0);
	assert_int_equal(x->c.count, 4);
	ASSERT_MSG(&x->c, 3, "klm;");            /* exactly max, ending in ';' */
	fx_free(x);
}

static void delim_multi_byte_max(void **state)
{
	struct frame_cfg cfg = cfg_delim("\r\n", 2, 3);
	struct fx *x = fx_new(&cfg);

	feed(x, "abcdefg\r\nhi", 0);
	assert_int_equal(x->c.count, 3);
	ASSERT_MSG(&x->c, 0, "abc");
	ASSERT_MSG(&x->c, 1, "def");
	ASSERT_MSG(&x->c, 2, "g\r\n");
	framer_flush(&x->f);
	assert_int_equal(x->c.count, 4);
	ASSERT_MSG(&x->c, 3, "hi");
	fx_free(x);
}

static void delim_eight_bytes(void **state)
{
	struct frame_cfg cfg = cfg_delim("12345678", 8, 4096);
	struct fx *x = fx_new(&cfg);

	feed(x, "x1234567", 0);
	feed(x, "9", 0);
	assert_int_equal(x->c.count, 0);
	feed(x, "12345678y", 0);
	assert_int_equal(x->c.count, 1);
	ASSERT_MSG(&x->c, 0, "x1234567912345678");
	fx_free(x);
}

/* ---- idle ------------------------------------------------------------ */

static void idle_waits_for_silence(void **state)
{
	struct frame_cfg cfg = cfg_idle(20, 4096);
	struct fx *x = fx_new(&cfg);

	assert_int_equal(framer_idle_ms(&x->f), 20);
	assert_int_equal(framer_deadline(&x->f), 0);
	feed(x, "ab", 1000);
	assert_int_equal(x->c.count, 0);
	assert_int_equal(framer_deadline(&x->f), 1020);
	framer_drained(&x->f);                   /* a drain does not end an idle frame */
	framer_tick(&x->f, 1019);                /* 1 ms early */
	assert_int_equal(x->c.count, 0);
	feed(x, "cd", 1010);                     /* new input pushes the deadline */
	assert_int_equal(framer_deadline(&x->f), 1030);
	framer_tick(&x->f, 1020);                /* the old deadline */
	framer_tick(&x->f, 1029);
	assert_int_equal(x->c.count, 0);
	framer_tick(&x->f, 1030);
	assert_int_equal(x->c.count, 1);
	ASSERT_MSG(&x->c, 0, "abcd");
	assert_int_equal(framer_deadline(&x->f), 0);
	framer_tick(&x->f, 5000);                /* nothing pending: no empty message */
	assert_int_equal(x->c.count, 1);
	feed(x, "e", 6000);
	framer_tick(&x->f, 9000);                /* a late tick still sends */
	assert_int_equal(x->c.count, 2);
	ASSERT_MSG(&x->c, 1, "e");
	fx_free(x);
}

static void idle_default_from_baud(void **state)
{
	struct frame_cfg cfg = cfg_idle(0, 4096);
	struct fx *x = fx_new(&cfg);

	/* 3.5 character times rounded up: ceil(3.5 * bits * 1000 / baud) */
	assert_int_equal(framer_idle_ms(&x->f), 4);     /* initial 9600, 10 bits: 3.65 */
	framer_set_line(&x->f, 9600, 10);
	assert_int_equal(framer_idle_ms(&x->f), 4);
	framer_set_line(&x->f, 115200, 10);             /* 0.30 */
	assert_int_equal(framer_idle_ms(&x->f), 1);
	framer_set_line(&x->f, 300, 11);                /* 128.33 */
	assert_int_equal(framer_idle_ms(&x->f), 129);
	framer_set_line(&x->f, 1200, 12);               /* exactly 35 */
	assert_int_equal(framer_idle_ms(&x->f), 35);
	framer_set_line(&x->f, 4000000, 10);            /* far below 1 ms: still 1 */
	assert_int_equal(framer_idle_ms(&x->f), 1);
	/* unknown values keep the last known ones */
	framer_set_line(&x->f, 300, 11);
	framer_set_line(&x->f, -1, 0);
	assert_int_equal(framer_idle_ms(&x->f), 129);
	fx_free(x);
}

static void idle_default_drives_deadline(void **state)
{
	struct frame_cfg cfg = cfg_idle(0, 4096);
	struct fx *x = fx_new(&cfg);

	framer_set_line(&x->f, 300, 11);
	feed(x, "hello", 0);
	assert_int_equal(framer_deadline(&x->f), 129);
	framer_tick(&x->f, 128);
	assert_int_equal(x->c.count, 0);
	framer_tick(&x->f, 129);
	assert_int_equal(x->c.count, 1);
	ASSERT_MSG(&x->c, 0, "hello");
	/* a baud change between frames takes effect on the next one */
	framer_set_line(&x->f, 115200, 10);
	feed(x, "x", 500);
	assert_int_equal(framer_deadline(&x->f), 501);
	fx_free(x);
}

static void idle_configured_wins(void **state)
{
	struct frame_cfg cfg = cfg_idle(50, 4096);
	struct fx *x = fx_new(&cfg);

	framer_set_line(&x->f, 300, 11);
	assert_int_equal(framer_idle_ms(&x->f), 50);
	framer_set_line(&x->f, 115200, 10);
	assert_int_equal(framer_idle_ms(&x->f), 50);
	feed(x, "z", 7);
	assert_int_equal(framer_deadline(&x->f), 57);
	fx_free(x);
}

static void idle_max_splits(void **state)
{
	struct frame_cfg cfg = cfg_idle(10, 4);
	struct fx *x = fx_new(&cfg);

	feed(x, "abcdefghij", 100);
	assert_int_equal(x->c.count, 2);
	ASSERT_MSG(&x->c, 0, "abcd");
	ASSERT_MSG(&x->c, 1, "efgh");
	assert_int_equal(framer_deadline(&x->f), 110);
	framer_tick(&x->f, 110);
	assert_int_equal(x->c.count, 3);
	ASSERT_MSG(&x->c, 2, "ij");
	/* input that exactly fills max leaves nothing waiting */
	feed(x, "wxyz", 200);
	assert_int_equal(x->c.count, 4);
	ASSERT_MSG(&x->c, 3, "wxyz");
	assert_int_equal(framer_deadline(&x->f), 0);
	fx_free(x);
}

/* ---- flush ----------------------------------------------------------- */

static void flush_sends_pending(void **state)
{
	const struct frame_cfg cfgs[] = { cfg_raw(100), cfg_delim(";", 1, 100),
					  cfg_idle(10, 100) };

	for (size_t i = 0; i < sizeof(cfgs) / sizeof(cfgs[0]); i++) {
		struct fx *x = fx_new(&cfgs[i]);

		framer_flush(&x->f);                     /* nothing pending */
		assert_int_equal(x->c.count, 0);
		feed(x, "pend", 10);
		assert_int_equal(x->c.count, 0);
		framer_flush(&x->f);
		assert_int_equal(x->c.count, 1);
		ASSERT_MSG(&x->c, 0, "pend");
		assert_int_equal(framer_deadline(&x->f), 0);
		framer_tick(&x->f, 1000);                /* already sent */
		framer_flush(&x->f);
		assert_int_equal(x->c.count, 1);
		fx_free(x);
	}
}

/* ---- property: every byte exactly once, in order, messages ≤ max ------- */

static uint64_t rng_state;

static uint32_t rnd(void)
{
	/* xorshift64*: deterministic, so a failure replays */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545F4914F6CDD1DULL) >> 32);
}

static uint32_t rnd_below(uint32_t n)
{
	return rnd() % n;
}

/* In delim mode no message holds a delimiter that ends before its last byte,
 * and each message but the flushed last one ends with it or is max long. */
static void check_delim_messages(const struct cap *c, const struct frame_cfg *cfg,
				 size_t flushed_from)
{
	size_t d = cfg->delim_len;

	for (size_t i = 0; i < c->count; i++) {
		const uint8_t *m = c->data + c->off[i];
		size_t n = c->mlen[i];
		for (size_t k = d; k < n; k++)
			assert_false(memcmp(m + k - d, cfg->delim, d) == 0);
		if (i < flushed_from)
			assert_true(n == cfg->max ||
				    (n >= d && memcmp(m + n - d, cfg->delim, d) == 0));
	}
}

static void property_round(uint32_t round)
{
	struct frame_cfg cfg;
	uint32_t max = rnd_below(4) == 0 ? 1 + rnd_below(3) : 1 + rnd_below(200);
	size_t total = rnd_below(6000);
	uint8_t *in = malloc(total + 1);
	struct fx *x;
	uint64_t now = 1000 + rnd_below(1000);
	size_t pos = 0, before_flush;

	assert_non_null(in);
	switch (round % 3) {
	case 0:
		cfg = cfg_raw(max);
		break;
	case 1: {
		uint8_t d[FRAME_DELIM_MAX];
		size_t dl = 1 + rnd_below(rnd_below(2) ? 2 : FRAME_DELIM_MAX);
		for (size_t i = 0; i < dl; i++)
			d[i] = (uint8_t)('a' + rnd_below(3));
		cfg = cfg_delim(d, dl, max);
		break;
	}
	default:
		cfg = cfg_idle(rnd_below(2) ? 0 : 1 + rnd_below(30), max);
		break;
	}
	/* a small alphabet so delimiters occur often; sometimes any byte */
	bool wide = rnd_below(4) == 0;
	for (size_t i = 0; i < total; i++)
		in[i] = wide ? (uint8_t)rnd() : (uint8_t)('a' + rnd_below(4));

	x = fx_new(&cfg);
	if (cfg.mode == FRAME_IDLE)
		framer_set_line(&x->f, 300 + rnd_below(200000), 10 + rnd_below(3));
	while (pos < total) {
		size_t n = rnd_below(3) == 0 ? rnd_below(3) : rnd_below(300);
		if (n > total - pos)
			n = total - pos;
		framer_input(&x->f, in + pos, n, now);
		pos += n;
		/* idle: whatever waits is due strictly later than the last byte */
		if (cfg.mode == FRAME_IDLE && x->f.len)
			assert_true(framer_deadline(&x->f) > now);
		switch (rnd_below(4)) {
		case 0: framer_drained(&x->f); break;
		case 1:
			now += rnd_below(200);
			framer_tick(&x->f, now);
			if (framer_deadline(&x->f))
				assert_true(framer_deadline(&x->f) > now);
			break;
		case 2: now += rnd_below(3); break;
		default: break;
		}
	}
	before_flush = x->c.count;
	framer_flush(&x->f);
	assert_true(x->c.count <= before_flush + 1);

	assert_int_equal(x->c.len, total);
	if (total)
		assert_memory_equal(x->c.data, in, total);
	for (size_t i = 0; i < x->c.count; i++) {
		assert_true(x->c.mlen[i] >= 1);
		assert_true(x->c.mlen[i] <= max);
	}
	if (cfg.mode == FRAME_DELIM)
		check_delim_messages(&x->c, &cfg, before_flush);
	fx_free(x);
	free(in);
}

static void property_every_byte_once(void **state)
{
	rng_state = 0x6d717474747921ULL;
	for (uint32_t r = 0; r < 3000; r++)
		property_round(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(raw_coalesces_until_drained),
		cmocka_unit_test(raw_splits_at_max),
		cmocka_unit_test(raw_max_one),
		cmocka_unit_test(delim_single_byte),
		cmocka_unit_test(delim_multi_byte),
		cmocka_unit_test(delim_split_across_inputs),
		cmocka_unit_test(delim_civ_fd),
		cmocka_unit_test(delim_max_cuts_pieces),
		cmocka_unit_test(delim_multi_byte_max),
		cmocka_unit_test(delim_eight_bytes),
		cmocka_unit_test(idle_waits_for_silence),
		cmocka_unit_test(idle_default_from_baud),
		cmocka_unit_test(idle_default_drives_deadline),
		cmocka_unit_test(idle_configured_wins),
		cmocka_unit_test(idle_max_splits),
		cmocka_unit_test(flush_sends_pending),
		cmocka_unit_test(property_every_byte_once),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
