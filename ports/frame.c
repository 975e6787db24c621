/* frame — raw, delimiter and idle-gap framing, all bounded by cfg.max. */
#include "frame.h"

#include <stdlib.h>
#include <string.h>

int framer_init(struct framer *f, const struct frame_cfg *cfg, framer_emit_fn emit, void *arg)
{
	memset(f, 0, sizeof(*f));
	f->cfg = *cfg;
	f->emit = emit;
	f->arg = arg;
	f->baud = 9600;
	f->char_bits = 10;
	f->buf = malloc(cfg->max);
	return f->buf ? 0 : -1;
}

void framer_free(struct framer *f)
{
	free(f->buf);
	f->buf = NULL;
	f->len = 0;
}

void framer_set_line(struct framer *f, int64_t baud, uint32_t char_bits)
{
	if (baud > 0)
		f->baud = baud;
	if (char_bits)
		f->char_bits = char_bits;
}

uint32_t framer_idle_ms(const struct framer *f)
{
	uint64_t num;

	if (f->cfg.idle_ms)
		return f->cfg.idle_ms;
	/* 3.5 character times, rounded up to whole ms: 3.5*bits*1000/baud */
	num = (uint64_t)f->char_bits * 3500u;
	num = (num + (uint64_t)f->baud - 1) / (uint64_t)f->baud;
	return num ? (uint32_t)num : 1;
}

static void send_pending(struct framer *f)
{
	f->deadline_ms = 0;
	if (f->len == 0)
		return;
	size_t n = f->len;
	f->len = 0;           /* reset first: emit may re-enter the framer */
	f->emit(f->arg, f->buf, n);
}

/* Does the pending buffer end with the delimiter? */
static int ends_with_delim(const struct framer *f)
{
	size_t d = f->cfg.delim_len;
	return f->len >= d && memcmp(f->buf + f->len - d, f->cfg.delim, d) == 0;
}

void framer_input(struct framer *f, const uint8_t *p, size_t n, uint64_t now_ms)
{
	while (n) {
		if (f->cfg.mode == FRAME_DELIM) {
			/* byte at a time: a message ends right after the delimiter */
			f->buf[f->len++] = *p++;
			n--;
			if (ends_with_delim(f) || f->len == f->cfg.max)
				send_pending(f);
			continue;
		}
		size_t room = f->cfg.max - f->len, take = n < room ? n : room;
		memcpy(f->buf + f->len, p, take);
		f->len += take;
		p += take;
		n -= take;
		if (f->len == f->cfg.max)
			send_pending(f);
	}
	if (f->cfg.mode == FRAME_IDLE)
		f->deadline_ms = f->len ? now_ms + framer_idle_ms(f) : 0;
}

void framer_drained(struct framer *f)
{
	if (f->cfg.mode == FRAME_RAW)
		send_pending(f);
}

void framer_tick(struct framer *f, uint64_t now_ms)
{
	if (f->deadline_ms && now_ms >= f->deadline_ms)
		send_pending(f);
}

void framer_flush(struct framer *f)
{
	send_pending(f);
}
