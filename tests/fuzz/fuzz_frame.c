/* fuzz_frame — the frame config (frame_cfg_from_json) and the framer
 * (framer_input, framer_drained, framer_tick, framer_flush,
 * framer_set_line) driven with a fake clock.
 *
 * Input: a JSON frame object, a NUL byte, then operations (one byte each,
 * some with arguments) until the input ends.
 * Invariants (CONTRACT §2 `frame`): no byte is lost, duplicated or
 * reordered (the messages joined after the final flush equal the input
 * joined); every message is 1..max bytes; in delim mode a message shorter
 * than max that was not cut by a flush or a drain ends with the delimiter
 *; the idle deadline is in the future when set
 * and a tick at it sends the pending frame. */
#include <string.h>

#include <jansson.h>

#include "frame.h"
#include "fuzz.h"

struct sink {
	uint8_t *in, *out;
	size_t in_len, out_len, cap;
	const struct frame_cfg *cfg;
	int cut;               /* 1 while flush/drain/tick runs: any size may come out */
};

static void emit(void *arg, const uint8_t *p, size_t n)
{
	struct sink *s = arg;
	fuzz_check(n >= 1 && n <= s->cfg->max, "message of %zu bytes (max %u)", n, s->cfg->max);
	fuzz_check(s->out_len + n <= s->in_len, "more bytes out than in");
	if (s->cfg->mode == FRAME_DELIM && !s->cut && n < s->cfg->max) {
		size_t d = s->cfg->delim_len;
		fuzz_check(n >= d && memcmp(p + n - d, s->cfg->delim, d) == 0,
			   "delim message of %zu bytes without the delimiter at its end", n);
	}
	memcpy(s->out + s->out_len, p, n);
	s->out_len += n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *z = memchr(data, 0, size);
	struct frame_cfg cfg;
	struct framer f;
	char err[256];

	if (!z)
		return 0;
	json_t *j = json_loadb((const char *)data, (size_t)(z - data), 0, NULL);
	err[0] = '\0';
	if (!j || frame_cfg_from_json(&cfg, j, err, sizeof(err)) != 0) {
		if (j)
			fuzz_check(err[0] != '\0', "refused without a sentence");
		json_decref(j);
		/* go on with a small delim framer, so the ops still run */
		memset(&cfg, 0, sizeof(cfg));
		cfg.mode = FRAME_DELIM;
		cfg.max = 8;
		cfg.delim[0] = '\n';
		cfg.delim_len = 1;
	} else {
		json_t *back = frame_cfg_to_json(&cfg);
		struct frame_cfg again;
		fuzz_check(back && frame_cfg_from_json(&again, back, err, sizeof(err)) == 0,
			   "the frame as shown is refused: %s", err);
		fuzz_check(again.mode == cfg.mode && again.max == cfg.max &&
			   again.delim_len == cfg.delim_len && again.idle_ms == cfg.idle_ms &&
			   memcmp(again.delim, cfg.delim, cfg.delim_len) == 0,
			   "the frame as shown reads back different");
		json_decref(back);
		json_decref(j);
	}
	fuzz_check(cfg.max >= 1 && cfg.max <= FRAME_MAX_LIMIT, "max %u", cfg.max);
	if (cfg.mode == FRAME_DELIM)
		fuzz_check(cfg.delim_len >= 1 && cfg.delim_len <= FRAME_DELIM_MAX, "delim_len %u",
			   cfg.delim_len);

	const uint8_t *op = z + 1, *end = data + size;
	struct sink s = { .cfg = &cfg, .cap = size };
	s.in = malloc(size + 1);
	s.out = malloc(size + 1);
	if (!s.in || !s.out || framer_init(&f, &cfg, emit, &s) != 0)
		abort();
	uint64_t now = 1000;
	while (op < end) {
		uint8_t c = *op++;
		switch (c % 6) {
		case 0: case 1: case 2: {   /* input of up to 63 bytes at now */
			size_t n = (size_t)(c >> 2) & 63;
			if (n > (size_t)(end - op))
				n = (size_t)(end - op);
			memcpy(s.in + s.in_len, op, n);
			s.in_len += n;
			framer_input(&f, op, n, now);
			op += n;
			uint64_t d = framer_deadline(&f);
			if (cfg.mode == FRAME_IDLE && f.len)
				fuzz_check(d > now, "idle deadline %llu not after %llu",
					   (unsigned long long)d, (unsigned long long)now);
			break;
		}
		case 3:                      /* time passes, then the timer */
			now += (uint64_t)(c >> 3) * (uint64_t)(c >> 3);
			s.cut = 1;
			framer_tick(&f, now);
			if (framer_deadline(&f) && now >= framer_deadline(&f))
				fuzz_fail("tick at %llu left a due frame", (unsigned long long)now);
			s.cut = 0;
			break;
		case 4:
			s.cut = 1;
			framer_drained(&f);
			s.cut = 0;
			break;
		case 5:                      /* a new line speed */
			if (op + 2 <= end) {
				int64_t baud = (int64_t)op[0] * 1200 + 50;
				framer_set_line(&f, baud, 7u + (op[1] & 7u));
				uint32_t idle = framer_idle_ms(&f);
				fuzz_check(idle >= 1, "idle gap %u ms", idle);
				op += 2;
			}
			break;
		}
	}
	s.cut = 1;
	framer_flush(&f);
	fuzz_check(f.len == 0 && framer_deadline(&f) == 0, "flush left %zu bytes", f.len);
	fuzz_check(s.out_len == s.in_len && memcmp(s.in, s.out, s.in_len) == 0,
		   "%zu bytes in, %zu out, or not in order", s.in_len, s.out_len);
	framer_free(&f);
	free(s.in);
	free(s.out);
	return 0;
}
